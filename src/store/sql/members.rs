//! Memberships and the roles members hold.

use super::users::{USER_COLS, user_from};
use super::{Backend, Row, SqlTx, query};
use crate::domain::ids::{OrgId, UserId};
use crate::domain::model::User;
use crate::domain::role::AssignedRole;
use crate::store::grants::{self, ROLE_COLS};
use crate::store::{After, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::types::Json;

/// Joins the custom role of `member_roles mr` as `cr`, for [`ROLE_COLS`].
pub(super) const ROLE_JOIN: &str = "LEFT JOIN custom_roles cr ON cr.id = mr.custom_role_id";

/// The role in a row selected with [`ROLE_COLS`]; `None` for the nulls of a member without one.
pub(super) fn role_from<DB: Backend>(row: &Row<DB>) -> StoreResult<Option<AssignedRole>> {
    grants::role_from_parts(
        row.get("builtin")?,
        row.get("cr_id")?,
        row.get("cr_name")?,
        row.get::<Option<Json<Vec<String>>>>("cr_perms")?
            .map(|p| p.0),
    )
}

async fn insert_roles<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    user: UserId,
    roles: &[AssignedRole],
) -> StoreResult<()> {
    for role in roles {
        let (builtin, custom) = match role {
            AssignedRole::Builtin(b) => (Some(b.as_str()), None),
            AssignedRole::Custom(c) => (None, Some(c.id.0)),
        };
        query(
            "INSERT INTO member_roles (org_id, user_id, builtin, custom_role_id) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(org.0)
        .bind(user.0)
        .bind(builtin)
        .bind(custom)
        .execute(tx)
        .await?;
    }
    Ok(())
}

pub(super) async fn insert<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    user: UserId,
    roles: &[AssignedRole],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    query("INSERT INTO memberships (org_id, user_id, created_at) VALUES ($1, $2, $3)")
        .bind(org.0)
        .bind(user.0)
        .bind(now)
        .execute(tx)
        .await?;
    tx.touch_member(org, user);
    insert_roles(tx, org, user, roles).await
}

pub(super) async fn roles<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    user: UserId,
) -> StoreResult<Option<Vec<AssignedRole>>> {
    let sql = format!(
        "SELECT {ROLE_COLS} FROM memberships m \
         LEFT JOIN member_roles mr ON mr.org_id = m.org_id AND mr.user_id = m.user_id {ROLE_JOIN} \
         WHERE m.org_id = $1 AND m.user_id = $2"
    );
    let rows = query(&sql).bind(org.0).bind(user.0).fetch_all(tx).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let mut roles = Vec::new();
    for r in &rows {
        roles.extend(role_from(r)?);
    }
    Ok(Some(roles))
}

pub(super) async fn all_roles_of<DB: Backend>(
    tx: &mut SqlTx<DB>,
    user: UserId,
) -> StoreResult<Vec<AssignedRole>> {
    let sql = format!("SELECT {ROLE_COLS} FROM member_roles mr {ROLE_JOIN} WHERE mr.user_id = $1");
    let rows = query(&sql).bind(user.0).fetch_all(tx).await?;
    let mut out = Vec::new();
    for r in &rows {
        out.extend(role_from(r)?);
    }
    Ok(out)
}

pub(super) async fn set_roles<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    user: UserId,
    roles: &[AssignedRole],
) -> StoreResult<()> {
    query("DELETE FROM member_roles WHERE org_id = $1 AND user_id = $2")
        .bind(org.0)
        .bind(user.0)
        .execute(tx)
        .await?;
    tx.touch_member(org, user);
    insert_roles(tx, org, user, roles).await
}

pub(super) async fn delete<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    user: UserId,
) -> StoreResult<()> {
    tx.touch_member(org, user);
    for sql in [
        "DELETE FROM member_roles WHERE org_id = $1 AND user_id = $2",
        "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2",
        "DELETE FROM api_tokens WHERE org_id = $1 AND user_id = $2",
    ] {
        query(sql).bind(org.0).bind(user.0).execute(tx).await?;
    }
    Ok(())
}

pub(super) async fn page<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    after: Option<&After>,
    limit: u32,
) -> StoreResult<Vec<(User, Vec<AssignedRole>)>> {
    // The page of members first, then their roles.
    let sql = format!(
        "WITH page AS ( \
           SELECT u.id, u.email, u.email_key, u.name, u.created_at, u.disabled_at \
           FROM memberships m JOIN users u ON u.id = m.user_id \
           WHERE m.org_id = $1 AND ($2 IS NULL OR (u.email_key, u.id) > ($2, $3)) \
           ORDER BY u.email_key, u.id LIMIT $4) \
         SELECT {USER_COLS}, {ROLE_COLS} \
         FROM page u \
         LEFT JOIN member_roles mr ON mr.org_id = $1 AND mr.user_id = u.id {ROLE_JOIN} \
         ORDER BY u.email_key, u.id"
    );
    let rows = query(&sql)
        .bind(org.0)
        .bind(after.map(|a| a.key.clone()))
        .bind(after.map(|a| a.id))
        .bind(i64::from(limit))
        .fetch_all(tx)
        .await?;
    let mut out: Vec<(User, Vec<AssignedRole>)> = Vec::new();
    for r in &rows {
        let id = UserId(r.get("u_id")?);
        if out.last().is_none_or(|(u, _)| u.id != id) {
            out.push((user_from(r)?, Vec::new()));
        }
        if let (Some(role), Some((_, roles))) = (role_from(r)?, out.last_mut()) {
            roles.push(role);
        }
    }
    Ok(out)
}
