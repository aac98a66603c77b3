//! Invitations (R9), stored under the SHA-256 of their current token.

use super::{Backend, Row, SqlTx, query};
use crate::domain::ids::{InvitationId, OrgId, UserId};
use crate::domain::invitation::{Invitation, InvitationState, MailState};
use crate::store::{After, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

/// An invitation's columns, as [`invitation_from`] reads them (not the token's hash).
const INVITATION_COLS: &str =
    "id, org_id, email, email_key, roles, invited_by, state, mail_state, created_at, expires_at";

fn invitation_from<DB: Backend>(r: &Row<DB>) -> StoreResult<Invitation> {
    let state: String = r.get("state")?;
    let mail: String = r.get("mail_state")?;
    let roles: Json<Vec<String>> = r.get("roles")?;
    Ok(Invitation {
        id: InvitationId(r.get("id")?),
        org: OrgId(r.get("org_id")?),
        email: r.get("email")?,
        email_key: r.get("email_key")?,
        roles: roles.0,
        invited_by: r.get::<Option<Uuid>>("invited_by")?.map(UserId),
        state: InvitationState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown invitation state `{state}`")))?,
        mail: MailState::parse(&mail)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown mail state `{mail}`")))?,
        created_at: r.get("created_at")?,
        expires_at: r.get("expires_at")?,
    })
}

pub(super) async fn insert<DB: Backend>(
    tx: &mut SqlTx<DB>,
    inv: &Invitation,
    hash: &[u8],
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO invitations ({INVITATION_COLS}, token_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    );
    query(&sql)
        .bind(inv.id.0)
        .bind(inv.org.0)
        .bind(&inv.email)
        .bind(&inv.email_key)
        .bind(Json(&inv.roles))
        .bind(inv.invited_by.map(|u| u.0))
        .bind(inv.state.as_str())
        .bind(inv.mail.as_str())
        .bind(inv.created_at)
        .bind(inv.expires_at)
        .bind(hash)
        .execute(tx)
        .await?;
    Ok(())
}

pub(super) async fn by_id<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    id: InvitationId,
) -> StoreResult<Option<Invitation>> {
    let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE org_id = $1 AND id = $2");
    query(&sql)
        .bind(org.0)
        .bind(id.0)
        .map_optional(tx, invitation_from)
        .await
}

pub(super) async fn by_hash<DB: Backend>(
    tx: &mut SqlTx<DB>,
    hash: &[u8],
) -> StoreResult<Option<Invitation>> {
    let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE token_hash = $1");
    query(&sql)
        .bind(hash)
        .map_optional(tx, invitation_from)
        .await
}

pub(super) async fn pending<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    email_key: &str,
) -> StoreResult<Option<Invitation>> {
    let sql = format!(
        "SELECT {INVITATION_COLS} FROM invitations \
         WHERE org_id = $1 AND email_key = $2 AND state = 'pending'"
    );
    query(&sql)
        .bind(org.0)
        .bind(email_key)
        .map_optional(tx, invitation_from)
        .await
}

pub(super) async fn of_org<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    after: Option<&After>,
    limit: u32,
) -> StoreResult<Vec<Invitation>> {
    let sql = format!(
        "SELECT {INVITATION_COLS} FROM invitations \
         WHERE org_id = $1 AND ($2 IS NULL OR (email_key, id) > ($2, $3)) \
         ORDER BY email_key, id LIMIT $4"
    );
    query(&sql)
        .bind(org.0)
        .bind(after.map(|a| a.key.clone()))
        .bind(after.map(|a| a.id))
        .bind(i64::from(limit))
        .map_all(tx, invitation_from)
        .await
}

pub(super) async fn to_email<DB: Backend>(
    tx: &mut SqlTx<DB>,
    email_key: &str,
) -> StoreResult<Vec<Invitation>> {
    let sql = format!(
        "SELECT {INVITATION_COLS} FROM invitations \
         WHERE email_key = $1 AND state = 'pending' ORDER BY id"
    );
    query(&sql)
        .bind(email_key)
        .map_all(tx, invitation_from)
        .await
}

pub(super) async fn close<DB: Backend>(
    tx: &mut SqlTx<DB>,
    id: InvitationId,
    state: InvitationState,
    at: DateTime<Utc>,
) -> StoreResult<bool> {
    let done = query(
        "UPDATE invitations SET state = $2, decided_at = $3 WHERE id = $1 AND state = 'pending'",
    )
    .bind(id.0)
    .bind(state.as_str())
    .bind(at)
    .execute(tx)
    .await?;
    Ok(done == 1)
}

pub(super) async fn renew<DB: Backend>(
    tx: &mut SqlTx<DB>,
    id: InvitationId,
    hash: &[u8],
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    query(
        "UPDATE invitations SET token_hash = $2, expires_at = $3, mail_state = 'pending' \
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(hash)
    .bind(expires_at)
    .execute(tx)
    .await?;
    Ok(())
}

pub(super) async fn set_mail<DB: Backend>(
    tx: &mut SqlTx<DB>,
    id: InvitationId,
    hash: &[u8],
    mail: MailState,
) -> StoreResult<bool> {
    let done = query("UPDATE invitations SET mail_state = $3 WHERE id = $1 AND token_hash = $2")
        .bind(id.0)
        .bind(hash)
        .bind(mail.as_str())
        .execute(tx)
        .await?;
    Ok(done == 1)
}
