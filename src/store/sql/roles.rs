//! An organization's custom roles.

use super::members::{ROLE_JOIN, role_from};
use super::{Backend, SqlTx, query, read_count};
use crate::domain::ids::{OrgId, RoleId};
use crate::domain::role::{AssignedRole, CustomRole};
use crate::store::grants::ROLE_COLS;
use crate::store::{StoreResult, perms_to_json};
use chrono::{DateTime, Utc};

pub(super) async fn of_org<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
) -> StoreResult<Vec<CustomRole>> {
    // Shaped like a `member_roles` row without a built-in role, so `role_from` reads it.
    let rows = query(
        "SELECT NULL AS builtin, cr.id AS cr_id, cr.name AS cr_name, cr.permissions AS cr_perms \
         FROM custom_roles cr WHERE cr.org_id = $1 ORDER BY cr.name_key",
    )
    .bind(org.0)
    .fetch_all(tx)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        if let Some(AssignedRole::Custom(c)) = role_from(r)? {
            out.push(c);
        }
    }
    Ok(out)
}

pub(super) async fn insert<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    role: &CustomRole,
    name_key: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    query(
        "INSERT INTO custom_roles (id, org_id, name, name_key, permissions, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(role.id.0)
    .bind(org.0)
    .bind(&role.name)
    .bind(name_key)
    .bind(perms_to_json(role.permissions))
    .bind(now)
    .execute(tx)
    .await?;
    Ok(())
}

pub(super) async fn update<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    role: &CustomRole,
    name_key: &str,
) -> StoreResult<()> {
    tx.touch(org);
    query(
        "UPDATE custom_roles SET name = $3, name_key = $4, permissions = $5 \
         WHERE org_id = $1 AND id = $2",
    )
    .bind(org.0)
    .bind(role.id.0)
    .bind(&role.name)
    .bind(name_key)
    .bind(perms_to_json(role.permissions))
    .execute(tx)
    .await?;
    Ok(())
}

pub(super) async fn delete<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    id: RoleId,
) -> StoreResult<()> {
    query("DELETE FROM custom_roles WHERE org_id = $1 AND id = $2")
        .bind(org.0)
        .bind(id.0)
        .execute(tx)
        .await?;
    Ok(())
}

pub(super) async fn holders<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    id: RoleId,
) -> StoreResult<u64> {
    let row =
        query("SELECT COUNT(*) AS n FROM member_roles WHERE org_id = $1 AND custom_role_id = $2")
            .bind(org.0)
            .bind(id.0)
            .fetch_one(tx)
            .await?;
    read_count(&row)
}

pub(super) async fn holders_roles<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    id: RoleId,
) -> StoreResult<Vec<Vec<AssignedRole>>> {
    let sql = format!(
        "SELECT mr.user_id AS holder, {ROLE_COLS} FROM member_roles mr {ROLE_JOIN} \
         WHERE mr.org_id = $1 AND mr.user_id IN \
           (SELECT h.user_id FROM member_roles h WHERE h.org_id = $1 AND h.custom_role_id = $2) \
         ORDER BY mr.user_id"
    );
    let rows = query(&sql).bind(org.0).bind(id.0).fetch_all(tx).await?;
    let mut out: Vec<(uuid::Uuid, Vec<AssignedRole>)> = Vec::new();
    for r in &rows {
        let holder: uuid::Uuid = r.get("holder")?;
        if out.last().is_none_or(|(h, _)| *h != holder) {
            out.push((holder, Vec::new()));
        }
        if let (Some(role), Some((_, roles))) = (role_from(r)?, out.last_mut()) {
            roles.push(role);
        }
    }
    Ok(out.into_iter().map(|(_, roles)| roles).collect())
}
