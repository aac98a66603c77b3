//! What only projects have: their count (R5), members' direct roles on them, and every project
//! role a member holds. Their own rows are `named.rs`'s.

use super::users::{USER_COLS, user_from};
use super::{Backend, SqlTx, query, read_count};
use crate::domain::ids::{OrgId, ProjectId, UserId};
use crate::domain::model::User;
use crate::domain::permission::ProjectRole;
use crate::store::grants::project_role;
use crate::store::{ProjectGrant, StoreResult};

pub(super) async fn count<DB: Backend>(tx: &mut SqlTx<DB>, org: OrgId) -> StoreResult<u64> {
    let row = query("SELECT COUNT(*) AS n FROM projects WHERE org_id = $1")
        .bind(org.0)
        .fetch_one(tx)
        .await?;
    read_count(&row)
}

pub(super) async fn put_member<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    project: ProjectId,
    user: UserId,
    role: ProjectRole,
) -> StoreResult<()> {
    query(
        "INSERT INTO project_members (project_id, org_id, user_id, role) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(project.0)
    .bind(org.0)
    .bind(user.0)
    .bind(role.as_str())
    .execute(tx)
    .await?;
    tx.touch_member(org, user);
    Ok(())
}

pub(super) async fn delete_member<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    project: ProjectId,
    user: UserId,
) -> StoreResult<bool> {
    let done =
        query("DELETE FROM project_members WHERE org_id = $1 AND project_id = $2 AND user_id = $3")
            .bind(org.0)
            .bind(project.0)
            .bind(user.0)
            .execute(tx)
            .await?;
    tx.touch_member(org, user);
    Ok(done > 0)
}

/// Direct roles, then roles through groups.
pub(super) async fn grants_of<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    user: UserId,
) -> StoreResult<Vec<ProjectGrant>> {
    query(
        "SELECT p.id, p.name, pm.role, NULL AS group_name \
         FROM project_members pm JOIN projects p ON p.id = pm.project_id \
         WHERE pm.org_id = $1 AND pm.user_id = $2 \
         UNION ALL \
         SELECT p.id, p.name, gp.role, g.name AS group_name \
         FROM group_members gm \
         JOIN groups g ON g.id = gm.group_id \
         JOIN group_projects gp ON gp.group_id = gm.group_id \
         JOIN projects p ON p.id = gp.project_id \
         WHERE gm.org_id = $1 AND gm.user_id = $2",
    )
    .bind(org.0)
    .bind(user.0)
    .map_all(tx, |r| {
        Ok(ProjectGrant {
            project: ProjectId(r.get("id")?),
            project_name: r.get("name")?,
            role: project_role(r.get("role")?)?,
            group: r.get("group_name")?,
        })
    })
    .await
}

/// Direct roles on one project, by email.
pub(super) async fn members<DB: Backend>(
    tx: &mut SqlTx<DB>,
    project: ProjectId,
) -> StoreResult<Vec<(User, ProjectRole)>> {
    let sql = format!(
        "SELECT {USER_COLS}, pm.role FROM project_members pm JOIN users u ON u.id = pm.user_id \
         WHERE pm.project_id = $1 ORDER BY u.email_key, u.id"
    );
    query(&sql)
        .bind(project.0)
        .map_all(tx, |r| Ok((user_from(r)?, project_role(r.get("role")?)?)))
        .await
}
