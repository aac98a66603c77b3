//! What only groups have: their members and the project roles they give. Their own rows are
//! `named.rs`'s.

use super::named::{NAMED_COLS, named_from};
use super::users::{USER_COLS, user_from};
use super::{Backend, SqlTx, query};
use crate::domain::ids::{GroupId, OrgId, ProjectId, UserId};
use crate::domain::model::{Project, User};
use crate::domain::permission::ProjectRole;
use crate::store::StoreResult;
use crate::store::grants::project_role;

pub(super) async fn members<DB: Backend>(
    tx: &mut SqlTx<DB>,
    group: GroupId,
) -> StoreResult<Vec<User>> {
    let sql = format!(
        "SELECT {USER_COLS} FROM group_members gm JOIN users u ON u.id = gm.user_id \
         WHERE gm.group_id = $1 ORDER BY u.email_key, u.id"
    );
    query(&sql).bind(group.0).map_all(tx, user_from).await
}

pub(super) async fn projects<DB: Backend>(
    tx: &mut SqlTx<DB>,
    group: GroupId,
) -> StoreResult<Vec<(Project, ProjectRole)>> {
    let sql = format!(
        "SELECT {NAMED_COLS}, gp.role \
         FROM group_projects gp JOIN projects n ON n.id = gp.project_id \
         WHERE gp.group_id = $1 ORDER BY n.name_key, n.id"
    );
    query(&sql)
        .bind(group.0)
        .map_all(tx, |r| Ok((named_from(r)?, project_role(r.get("role")?)?)))
        .await
}

pub(super) async fn put_member<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    group: GroupId,
    user: UserId,
) -> StoreResult<()> {
    query(
        "INSERT INTO group_members (group_id, org_id, user_id) VALUES ($1, $2, $3) \
         ON CONFLICT (group_id, user_id) DO NOTHING",
    )
    .bind(group.0)
    .bind(org.0)
    .bind(user.0)
    .execute(tx)
    .await?;
    tx.touch_member(org, user);
    Ok(())
}

pub(super) async fn delete_member<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    group: GroupId,
    user: UserId,
) -> StoreResult<bool> {
    let done =
        query("DELETE FROM group_members WHERE org_id = $1 AND group_id = $2 AND user_id = $3")
            .bind(org.0)
            .bind(group.0)
            .bind(user.0)
            .execute(tx)
            .await?;
    tx.touch_member(org, user);
    Ok(done > 0)
}

pub(super) async fn put_project<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    group: GroupId,
    project: ProjectId,
    role: ProjectRole,
) -> StoreResult<()> {
    query(
        "INSERT INTO group_projects (group_id, project_id, role) VALUES ($1, $2, $3) \
         ON CONFLICT (group_id, project_id) DO UPDATE SET role = excluded.role",
    )
    .bind(group.0)
    .bind(project.0)
    .bind(role.as_str())
    .execute(tx)
    .await?;
    tx.touch(org);
    Ok(())
}

pub(super) async fn delete_project<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    group: GroupId,
    project: ProjectId,
) -> StoreResult<bool> {
    let done = query("DELETE FROM group_projects WHERE group_id = $1 AND project_id = $2")
        .bind(group.0)
        .bind(project.0)
        .execute(tx)
        .await?;
    tx.touch(org);
    Ok(done > 0)
}

/// The names of the groups each member of `org` is in.
pub(super) async fn of_members<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
) -> StoreResult<Vec<(UserId, String)>> {
    query(
        "SELECT gm.user_id, g.name FROM group_members gm \
         JOIN groups g ON g.id = gm.group_id WHERE gm.org_id = $1 ORDER BY g.name_key",
    )
    .bind(org.0)
    .map_all(tx, |r| Ok((UserId(r.get("user_id")?), r.get("name")?)))
    .await
}

/// Each group's number of members and of projects, in one read.
pub(super) async fn counts<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
) -> StoreResult<Vec<(GroupId, u64, u64)>> {
    query(
        "SELECT g.id, \
           (SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = g.id) AS members, \
           (SELECT COUNT(*) FROM group_projects gp WHERE gp.group_id = g.id) AS projects \
         FROM groups g WHERE g.org_id = $1",
    )
    .bind(org.0)
    .map_all(tx, |r| {
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        Ok((
            GroupId(r.get("id")?),
            n(r.get("members")?),
            n(r.get("projects")?),
        ))
    })
    .await
}
