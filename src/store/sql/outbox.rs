//! The mail outbox: mails queued with the change they tell of, claimed by a sender under a
//! lease, deleted once sent.

use super::{Backend, Row, SqlTx, query};
use crate::domain::ids::InvitationId;
use crate::mail::{Mail, QueuedMail};
use crate::store::StoreResult;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A queued mail's columns, as [`queued_from`] reads them.
const COLS: &str = "id, recipient, subject, body_text, body_html, invitation_id, token_hash, \
                    attempts, created_at";

/// Which rows a sender may take at `$1`: due, and not leased to a sender still at work.
const FREE: &str = "(claimed_until IS NULL OR claimed_until < $1)";

fn queued_from<DB: Backend>(r: &Row<DB>) -> StoreResult<QueuedMail> {
    let attempts: i64 = r.get("attempts")?;
    Ok(QueuedMail {
        id: r.get("id")?,
        mail: Mail {
            to: r.get("recipient")?,
            subject: r.get("subject")?,
            text: r.get("body_text")?,
            html: r.get("body_html")?,
        },
        invitation: r.get::<Option<Uuid>>("invitation_id")?.map(InvitationId),
        token_hash: r.get("token_hash")?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        created_at: r.get("created_at")?,
    })
}

pub(super) async fn queue<DB: Backend>(
    tx: &mut SqlTx<DB>,
    mail: &Mail,
    invitation: Option<(InvitationId, &[u8])>,
    now: DateTime<Utc>,
) -> StoreResult<Uuid> {
    let id = Uuid::now_v7();
    query(
        "INSERT INTO mail_outbox (id, recipient, subject, body_text, body_html, invitation_id, \
         token_hash, attempts, created_at, due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8)",
    )
    .bind(id)
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(invitation.map(|(i, _)| i.0))
    .bind(invitation.map(|(_, h)| h.to_vec()))
    .bind(now)
    .execute(tx)
    .await?;
    Ok(id)
}

pub(super) async fn claim<DB: Backend>(
    tx: &mut SqlTx<DB>,
    only: Option<Uuid>,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<QueuedMail>> {
    // The freedom test stands in the UPDATE itself, not only in the subquery: on PostgreSQL a
    // second sender blocked on the same row re-reads it after the first commits, sees the
    // lease and skips it, so no row is ever claimed twice.
    let sql = match only {
        Some(_) => format!(
            "UPDATE mail_outbox SET claimed_until = $2, attempts = attempts + 1 \
             WHERE {FREE} AND id = $3 RETURNING {COLS}"
        ),
        None => format!(
            "UPDATE mail_outbox SET claimed_until = $2, attempts = attempts + 1 \
             WHERE {FREE} AND due_at <= $1 AND id IN (SELECT id FROM mail_outbox \
             WHERE {FREE} AND due_at <= $1 ORDER BY due_at LIMIT $3) RETURNING {COLS}"
        ),
    };
    let q = query(&sql).bind(now).bind(until);
    let q = match only {
        Some(id) => q.bind(id),
        None => q.bind(i64::from(limit)),
    };
    q.map_all(tx, queued_from).await
}

pub(super) async fn next_due<DB: Backend>(
    tx: &mut SqlTx<DB>,
) -> StoreResult<Option<DateTime<Utc>>> {
    // A leased row is due again when its lease runs out, if that is later.
    let row = query(
        "SELECT MIN(CASE WHEN claimed_until IS NOT NULL AND claimed_until > due_at \
         THEN claimed_until ELSE due_at END) AS due FROM mail_outbox",
    )
    .fetch_one(tx)
    .await?;
    row.get("due")
}

pub(super) async fn delete<DB: Backend>(tx: &mut SqlTx<DB>, id: Uuid) -> StoreResult<()> {
    query("DELETE FROM mail_outbox WHERE id = $1")
        .bind(id)
        .execute(tx)
        .await?;
    Ok(())
}

pub(super) async fn retry<DB: Backend>(
    tx: &mut SqlTx<DB>,
    id: Uuid,
    due: DateTime<Utc>,
) -> StoreResult<()> {
    query("UPDATE mail_outbox SET due_at = $2, claimed_until = NULL WHERE id = $1")
        .bind(id)
        .bind(due)
        .execute(tx)
        .await?;
    Ok(())
}
