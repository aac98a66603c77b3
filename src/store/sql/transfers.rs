//! Ownership transfer offers (R7).

use super::{Backend, Row, SqlTx, query};
use crate::domain::ids::{OrgId, TransferId, UserId};
use crate::domain::model::{Transfer, TransferState};
use crate::store::{StoreError, StoreResult};
use chrono::{DateTime, Utc};

/// An offer's columns, as [`transfer_from`] reads them.
const TRANSFER_COLS: &str = "id, org_id, from_user, to_user, state, created_at, expires_at";

fn transfer_from<DB: Backend>(r: &Row<DB>) -> StoreResult<Transfer> {
    let state: String = r.get("state")?;
    Ok(Transfer {
        id: TransferId(r.get("id")?),
        org: OrgId(r.get("org_id")?),
        from: UserId(r.get("from_user")?),
        to: UserId(r.get("to_user")?),
        state: TransferState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown transfer state `{state}`")))?,
        created_at: r.get("created_at")?,
        expires_at: r.get("expires_at")?,
    })
}

pub(super) async fn insert<DB: Backend>(tx: &mut SqlTx<DB>, t: &Transfer) -> StoreResult<()> {
    let sql =
        format!("INSERT INTO transfers ({TRANSFER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    query(&sql)
        .bind(t.id.0)
        .bind(t.org.0)
        .bind(t.from.0)
        .bind(t.to.0)
        .bind(t.state.as_str())
        .bind(t.created_at)
        .bind(t.expires_at)
        .execute(tx)
        .await?;
    Ok(())
}

pub(super) async fn pending<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
) -> StoreResult<Option<Transfer>> {
    let sql =
        format!("SELECT {TRANSFER_COLS} FROM transfers WHERE org_id = $1 AND state = 'pending'");
    query(&sql)
        .bind(org.0)
        .map_optional(tx, transfer_from)
        .await
}

pub(super) async fn set_state<DB: Backend>(
    tx: &mut SqlTx<DB>,
    id: TransferId,
    state: TransferState,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    query("UPDATE transfers SET state = $2, decided_at = $3 WHERE id = $1")
        .bind(id.0)
        .bind(state.as_str())
        .bind(at)
        .execute(tx)
        .await?;
    Ok(())
}
