//! API tokens, stored under the SHA-256 of their secret.

use super::users::{USER_COLS, user_from};
use super::{Backend, Row, SqlTx, query};
use crate::domain::ids::{OrgId, TokenId, UserId};
use crate::domain::model::{ApiToken, User};
use crate::store::{StoreResult, perms_from_json, perms_to_json};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

/// A token's columns from `api_tokens t`, as [`token_from`] reads them.
const TOKEN_COLS: &str =
    "t.id, t.user_id, t.name, t.org_id, t.permissions, t.created_at, t.expires_at, t.can_check";

fn token_from<DB: Backend>(row: &Row<DB>) -> StoreResult<ApiToken> {
    let perms: Option<Json<Vec<String>>> = row.get("permissions")?;
    Ok(ApiToken {
        id: TokenId(row.get("id")?),
        user: UserId(row.get("user_id")?),
        name: row.get("name")?,
        org: row.get::<Option<Uuid>>("org_id")?.map(OrgId),
        permissions: perms.map(|p| perms_from_json(&p.0)).transpose()?,
        created_at: row.get("created_at")?,
        expires_at: row.get("expires_at")?,
        can_check: row.get("can_check")?,
    })
}

pub(super) async fn insert<DB: Backend>(
    tx: &mut SqlTx<DB>,
    token: &ApiToken,
    hash: &[u8],
) -> StoreResult<()> {
    query(
        "INSERT INTO api_tokens (id, user_id, name, token_hash, org_id, permissions, created_at, \
         expires_at, can_check) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(token.id.0)
    .bind(token.user.0)
    .bind(&token.name)
    .bind(hash)
    .bind(token.org.map(|o| o.0))
    .bind(token.permissions.map(perms_to_json))
    .bind(token.created_at)
    .bind(token.expires_at)
    .bind(token.can_check)
    .execute(tx)
    .await?;
    Ok(())
}

pub(super) async fn by_hash<DB: Backend>(
    tx: &mut SqlTx<DB>,
    hash: &[u8],
) -> StoreResult<Option<(ApiToken, User)>> {
    let sql = format!(
        "SELECT {TOKEN_COLS}, {USER_COLS} \
         FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1"
    );
    query(&sql)
        .bind(hash)
        .map_optional(tx, |r| Ok((token_from(r)?, user_from(r)?)))
        .await
}

pub(super) async fn page<DB: Backend>(
    tx: &mut SqlTx<DB>,
    user: UserId,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u32,
) -> StoreResult<Vec<ApiToken>> {
    let sql = format!(
        "SELECT {TOKEN_COLS} FROM api_tokens t WHERE t.user_id = $1 \
         AND ($2 IS NULL OR (t.created_at, t.id) < ($2, $3)) \
         ORDER BY t.created_at DESC, t.id DESC LIMIT $4"
    );
    query(&sql)
        .bind(user.0)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(i64::from(limit))
        .map_all(tx, token_from)
        .await
}

pub(super) async fn by_id<DB: Backend>(
    tx: &mut SqlTx<DB>,
    user: UserId,
    id: TokenId,
) -> StoreResult<Option<ApiToken>> {
    let sql = format!("SELECT {TOKEN_COLS} FROM api_tokens t WHERE t.user_id = $1 AND t.id = $2");
    query(&sql)
        .bind(user.0)
        .bind(id.0)
        .map_optional(tx, token_from)
        .await
}

/// Times compare as stored: PostgreSQL's `timestamptz`, and on SQLite the RFC 3339 text sqlx
/// writes (UTC, a four-digit year, a fraction only as long as needed), which sorts as the
/// times do.
pub(super) async fn count_live<DB: Backend>(
    tx: &mut SqlTx<DB>,
    user: UserId,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let row = query(
        "SELECT COUNT(*) AS n FROM api_tokens \
         WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(user.0)
    .bind(now)
    .fetch_one(tx)
    .await?;
    super::read_count(&row)
}

pub(super) async fn delete_of_user<DB: Backend>(
    tx: &mut SqlTx<DB>,
    user: UserId,
) -> StoreResult<u64> {
    query("DELETE FROM api_tokens WHERE user_id = $1")
        .bind(user.0)
        .execute(tx)
        .await
}

pub(super) async fn delete<DB: Backend>(
    tx: &mut SqlTx<DB>,
    user: UserId,
    id: TokenId,
) -> StoreResult<bool> {
    let done = query("DELETE FROM api_tokens WHERE user_id = $1 AND id = $2")
        .bind(user.0)
        .bind(id.0)
        .execute(tx)
        .await?;
    Ok(done > 0)
}
