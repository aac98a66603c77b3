//! The audit log (R13): appended at commit, read newest first. Append-only: no update or delete
//! here, and the schema's triggers refuse them anyway.

use super::{Backend, Row, SqlTx, query};
use crate::domain::audit::{Action, ActorKind, AuditEvent, AuditRecord};
use crate::domain::ids::{OrgId, TokenId, UserId};
use crate::store::{AuditFilter, StoreResult};
use sqlx::types::Json;
use uuid::Uuid;

/// An event's columns as written; a record reads them after its `seq`.
const EVENT_COLS: &str = "id, at, org_id, actor_id, token_id, action, target_type, target_id, \
                          data, ip, actor_kind, actor_email, actor_name, target_name";

pub(super) async fn append<DB: Backend>(
    tx: &mut SqlTx<DB>,
    events: &[AuditEvent],
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO audit_events ({EVENT_COLS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    for e in events {
        query(&sql)
            .bind(e.id)
            .bind(e.at)
            .bind(e.org.map(|o| o.0))
            .bind(e.actor.map(|u| u.0))
            .bind(e.token.map(|t| t.0))
            .bind(e.action.as_str())
            .bind(e.target_type)
            .bind(&e.target_id)
            .bind(Json(&e.data))
            .bind(e.ip.as_deref())
            .bind(e.actor_kind.as_str())
            .bind(e.actor_email.as_deref())
            .bind(e.actor_name.as_deref())
            .bind(e.target_name.as_deref())
            .execute(tx)
            .await?;
    }
    Ok(())
}

fn record_from<DB: Backend>(r: &Row<DB>) -> StoreResult<AuditRecord> {
    let data: Json<serde_json::Value> = r.get("data")?;
    let actor: Option<UserId> = r.get::<Option<Uuid>>("actor_id")?.map(UserId);
    // Events written before kinds were recorded: a user if there was one, else Guildhall.
    let kind: Option<String> = r.get("actor_kind")?;
    let actor_kind = kind
        .as_deref()
        .and_then(ActorKind::parse)
        .unwrap_or(if actor.is_some() {
            ActorKind::User
        } else {
            ActorKind::System
        });
    Ok(AuditRecord {
        seq: r.get("seq")?,
        id: r.get("id")?,
        at: r.get("at")?,
        org: r.get::<Option<Uuid>>("org_id")?.map(OrgId),
        actor,
        actor_kind,
        actor_email: r.get("actor_email")?,
        actor_name: r.get("actor_name")?,
        token: r.get::<Option<Uuid>>("token_id")?.map(TokenId),
        action: r.get("action")?,
        target_type: r.get("target_type")?,
        target_id: r.get("target_id")?,
        target_name: r.get("target_name")?,
        data: data.0,
        ip: r.get("ip")?,
    })
}

pub(super) async fn page<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    filter: &AuditFilter,
    limit: u32,
) -> StoreResult<Vec<AuditRecord>> {
    let sql = format!(
        "SELECT seq, {EVENT_COLS} FROM audit_events \
         WHERE org_id = $1 AND ($2 IS NULL OR actor_id = $2) \
           AND ($3 IS NULL OR action = $3 OR action = $8) AND ($4 IS NULL OR at >= $4) \
           AND ($5 IS NULL OR at < $5) AND ($6 IS NULL OR seq < $6) \
           AND ($9 IS NULL OR action LIKE $9) \
         ORDER BY seq DESC LIMIT $7"
    );
    query(&sql)
        .bind(org.0)
        .bind(filter.actor.map(|u| u.0))
        .bind(filter.action.map(Action::as_str))
        .bind(filter.since)
        .bind(filter.until)
        .bind(filter.before_seq)
        .bind(i64::from(limit))
        .bind(filter.action.and_then(Action::former_name))
        .bind(filter.prefix.as_deref().map(|p| format!("{p}.%")))
        .map_all(tx, record_from)
        .await
}
