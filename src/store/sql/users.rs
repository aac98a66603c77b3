//! Accounts and what hangs off them: sessions, sign-in failure counters, password links.

use super::{Backend, Row, SqlTx, query};
use crate::domain::ids::{SessionId, UserId};
use crate::domain::invitation::{PasswordLink, PasswordPurpose};
use crate::domain::model::User;
use crate::store::{SessionRecord, StoreError, StoreResult};
use chrono::{DateTime, Utc};

/// A user's columns from `users u`, prefixed `u_` so they survive joins; read by [`user_from`].
pub(super) const USER_COLS: &str = "u.id AS u_id, u.email AS u_email, u.name AS u_name, \
                                    u.created_at AS u_created_at, u.disabled_at AS u_disabled_at";

/// The user in a row selected with [`USER_COLS`].
pub(super) fn user_from<DB: Backend>(row: &Row<DB>) -> StoreResult<User> {
    Ok(User {
        id: UserId(row.get("u_id")?),
        email: row.get("u_email")?,
        name: row.get("u_name")?,
        created_at: row.get("u_created_at")?,
        disabled_at: row.get("u_disabled_at")?,
    })
}

pub(super) async fn insert<DB: Backend>(
    tx: &mut SqlTx<DB>,
    user: &User,
    email_key: &str,
    password_hash: Option<&str>,
) -> StoreResult<()> {
    query(
        "INSERT INTO users (id, email, email_key, name, password_hash, created_at, disabled_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(user.id.0)
    .bind(&user.email)
    .bind(email_key)
    .bind(&user.name)
    .bind(password_hash)
    .bind(user.created_at)
    .bind(user.disabled_at)
    .execute(tx)
    .await?;
    Ok(())
}

pub(super) async fn by_id<DB: Backend>(
    tx: &mut SqlTx<DB>,
    id: UserId,
) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1");
    query(&sql).bind(id.0).map_optional(tx, user_from).await
}

pub(super) async fn by_email<DB: Backend>(
    tx: &mut SqlTx<DB>,
    email_key: &str,
) -> StoreResult<Option<(User, Option<String>)>> {
    let sql = format!("SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.email_key = $1");
    query(&sql)
        .bind(email_key)
        .map_optional(tx, |r| Ok((user_from(r)?, r.get("password_hash")?)))
        .await
}

pub(super) async fn set_password_hash<DB: Backend>(
    tx: &mut SqlTx<DB>,
    user: UserId,
    hash: &str,
) -> StoreResult<()> {
    query("UPDATE users SET password_hash = $2 WHERE id = $1")
        .bind(user.0)
        .bind(hash)
        .execute(tx)
        .await?;
    Ok(())
}

pub(super) async fn insert_session<DB: Backend>(
    tx: &mut SqlTx<DB>,
    id: SessionId,
    user: UserId,
    hash: &[u8],
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    query(
        "INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.0)
    .bind(user.0)
    .bind(hash)
    .bind(now)
    .bind(expires_at)
    .execute(tx)
    .await?;
    Ok(())
}

pub(super) async fn session_by_hash<DB: Backend>(
    tx: &mut SqlTx<DB>,
    hash: &[u8],
) -> StoreResult<Option<SessionRecord>> {
    let sql = format!(
        "SELECT s.id AS s_id, s.expires_at AS s_expires_at, {USER_COLS} \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
    );
    query(&sql)
        .bind(hash)
        .map_optional(tx, |r| {
            Ok(SessionRecord {
                id: SessionId(r.get("s_id")?),
                user: user_from(r)?,
                expires_at: r.get("s_expires_at")?,
            })
        })
        .await
}

pub(super) async fn delete_session<DB: Backend>(
    tx: &mut SqlTx<DB>,
    id: SessionId,
) -> StoreResult<()> {
    query("DELETE FROM sessions WHERE id = $1")
        .bind(id.0)
        .execute(tx)
        .await?;
    Ok(())
}

pub(super) async fn delete_sessions_of<DB: Backend>(
    tx: &mut SqlTx<DB>,
    user: UserId,
) -> StoreResult<u64> {
    query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user.0)
        .execute(tx)
        .await
}

pub(super) async fn session_exists<DB: Backend>(
    tx: &mut SqlTx<DB>,
    id: SessionId,
) -> StoreResult<bool> {
    let row = query("SELECT 1 AS one FROM sessions WHERE id = $1")
        .bind(id.0)
        .fetch_optional(tx)
        .await?;
    Ok(row.is_some())
}

pub(super) async fn lock<DB: Backend>(tx: &mut SqlTx<DB>, user: UserId) -> StoreResult<bool> {
    let row = query(DB::LOCK_USER).bind(user.0).fetch_optional(tx).await?;
    Ok(row.is_some())
}

pub(super) async fn signin_failures<DB: Backend>(
    tx: &mut SqlTx<DB>,
    key: &str,
) -> StoreResult<Option<(u32, DateTime<Utc>)>> {
    query("SELECT failures, last_failure_at FROM signin_failures WHERE key = $1")
        .bind(key)
        .map_optional(tx, |r| {
            let n: i32 = r.get("failures")?;
            Ok((u32::try_from(n).unwrap_or(0), r.get("last_failure_at")?))
        })
        .await
}

pub(super) async fn set_signin_failures<DB: Backend>(
    tx: &mut SqlTx<DB>,
    key: &str,
    failures: u32,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    query(
        "INSERT INTO signin_failures (key, failures, last_failure_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE \
         SET failures = excluded.failures, last_failure_at = excluded.last_failure_at",
    )
    .bind(key)
    .bind(i32::try_from(failures).unwrap_or(i32::MAX))
    .bind(at)
    .execute(tx)
    .await?;
    Ok(())
}

pub(super) async fn clear_signin_failures<DB: Backend>(
    tx: &mut SqlTx<DB>,
    key: &str,
) -> StoreResult<()> {
    query("DELETE FROM signin_failures WHERE key = $1")
        .bind(key)
        .execute(tx)
        .await?;
    Ok(())
}

/// A password link's columns, as [`password_link_from`] reads them.
const PASSWORD_LINK_COLS: &str = "user_id, purpose, created_at, expires_at";

fn password_link_from<DB: Backend>(r: &Row<DB>) -> StoreResult<PasswordLink> {
    let purpose: String = r.get("purpose")?;
    Ok(PasswordLink {
        user: UserId(r.get("user_id")?),
        purpose: PasswordPurpose::parse(&purpose).ok_or_else(|| {
            StoreError::Corrupt(format!("unknown password link purpose `{purpose}`"))
        })?,
        created_at: r.get("created_at")?,
        expires_at: r.get("expires_at")?,
    })
}

pub(super) async fn insert_password_link<DB: Backend>(
    tx: &mut SqlTx<DB>,
    link: &PasswordLink,
    hash: &[u8],
) -> StoreResult<()> {
    delete_password_links(tx, link.user).await?;
    let sql = format!(
        "INSERT INTO password_tokens (token_hash, {PASSWORD_LINK_COLS}) VALUES ($1, $2, $3, $4, $5)"
    );
    query(&sql)
        .bind(hash)
        .bind(link.user.0)
        .bind(link.purpose.as_str())
        .bind(link.created_at)
        .bind(link.expires_at)
        .execute(tx)
        .await?;
    Ok(())
}

pub(super) async fn password_link_of<DB: Backend>(
    tx: &mut SqlTx<DB>,
    user: UserId,
) -> StoreResult<Option<PasswordLink>> {
    let sql = format!("SELECT {PASSWORD_LINK_COLS} FROM password_tokens WHERE user_id = $1");
    query(&sql)
        .bind(user.0)
        .map_optional(tx, password_link_from)
        .await
}

pub(super) async fn password_link_by_hash<DB: Backend>(
    tx: &mut SqlTx<DB>,
    hash: &[u8],
) -> StoreResult<Option<PasswordLink>> {
    let sql = format!("SELECT {PASSWORD_LINK_COLS} FROM password_tokens WHERE token_hash = $1");
    query(&sql)
        .bind(hash)
        .map_optional(tx, password_link_from)
        .await
}

pub(super) async fn delete_password_links<DB: Backend>(
    tx: &mut SqlTx<DB>,
    user: UserId,
) -> StoreResult<()> {
    query("DELETE FROM password_tokens WHERE user_id = $1")
        .bind(user.0)
        .execute(tx)
        .await?;
    Ok(())
}
