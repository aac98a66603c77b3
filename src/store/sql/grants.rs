//! The grant revision the authorization index follows, the log of which organizations changed
//! at which revision, and the load of organizations' grants (its queries and their assembly are
//! `store::grants`'s, shared with the SQLite start-up reader).

use super::members::role_from;
use super::{Backend, SqlTx, query};
use crate::domain::ids::{GroupId, OrgId, ProjectId, UserId};
use crate::store::grants::{self, GrantQueries, Snapshots, project_role};
use crate::store::{Committed, GrantChange, OrgSnapshot, StoreResult};

/// Bumps the revision and logs the organizations this transaction touched, if any; the last
/// writes before the commit.
pub(super) async fn bump_revision<DB: Backend>(tx: &mut SqlTx<DB>) -> StoreResult<Committed> {
    let mut committed = Committed::default();
    if tx.touched.is_empty() {
        return Ok(committed);
    }
    // Last write of the transaction: the counter's row lock is held only until the commit
    // that follows, and makes revisions commit in order.
    let row =
        query("UPDATE grant_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision")
            .fetch_one(tx)
            .await?;
    let revision: i64 = row.get("revision")?;
    for change in std::mem::take(&mut tx.touched) {
        query("INSERT INTO grant_changes (revision, org_id, user_id) VALUES ($1, $2, $3)")
            .bind(revision)
            .bind(change.org.0)
            .bind(change.member.map(|u| u.0))
            .execute(tx)
            .await?;
    }
    if let Some(notify) = DB::NOTIFY {
        query(notify).bind(revision.to_string()).execute(tx).await?;
    }
    committed.revision = u64::try_from(revision).ok();
    Ok(committed)
}

pub(super) async fn revision<DB: Backend>(tx: &mut SqlTx<DB>) -> StoreResult<u64> {
    let row = query(grants::REVISION).fetch_one(tx).await?;
    grants::revision_from(row.get("revision")?)
}

pub(super) async fn changes_since<DB: Backend>(
    tx: &mut SqlTx<DB>,
    revision: u64,
) -> StoreResult<(Vec<GrantChange>, u64)> {
    let since = i64::try_from(revision).unwrap_or(i64::MAX);
    let rows = query(
        "SELECT revision, org_id, user_id FROM grant_changes WHERE revision > $1 \
         ORDER BY revision",
    )
    .bind(since)
    .fetch_all(tx)
    .await?;
    let mut changes: Vec<GrantChange> = Vec::new();
    let mut newest = revision;
    for r in &rows {
        let rev: i64 = r.get("revision")?;
        newest = newest.max(u64::try_from(rev).unwrap_or(0));
        let change = GrantChange {
            org: OrgId(r.get("org_id")?),
            member: r.get::<Option<uuid::Uuid>>("user_id")?.map(UserId),
        };
        if !changes.contains(&change) {
            changes.push(change);
        }
    }
    Ok((changes, newest))
}

/// Everything that decides access in one organization, or in all of them; streamed, since a
/// full load may be millions of rows.
pub(super) async fn load<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: Option<OrgId>,
) -> StoreResult<Vec<OrgSnapshot>> {
    let only = org.map(|o| o.0);
    let q = GrantQueries::new(only.is_some());
    let mut snaps = Snapshots::default();
    query(&q.members)
        .bind_some(only)
        .for_each(tx, |r| {
            let role = role_from(r)?;
            snaps.member(OrgId(r.get("org_id")?), UserId(r.get("user_id")?), role);
            Ok(())
        })
        .await?;
    query(&q.projects)
        .bind_some(only)
        .for_each(tx, |r| {
            snaps.project(
                OrgId(r.get("org_id")?),
                ProjectId(r.get("id")?),
                r.get("name")?,
            );
            Ok(())
        })
        .await?;
    query(&q.groups)
        .bind_some(only)
        .for_each(tx, |r| {
            snaps.group(
                OrgId(r.get("org_id")?),
                GroupId(r.get("id")?),
                r.get("name")?,
            );
            Ok(())
        })
        .await?;
    query(&q.direct)
        .bind_some(only)
        .for_each(tx, |r| {
            let role = project_role(r.get("role")?)?;
            let (project, user) = (ProjectId(r.get("project_id")?), UserId(r.get("user_id")?));
            snaps.direct(OrgId(r.get("org_id")?), project, user, role);
            Ok(())
        })
        .await?;
    query(&q.group_members)
        .bind_some(only)
        .for_each(tx, |r| {
            let (group, user) = (GroupId(r.get("group_id")?), UserId(r.get("user_id")?));
            snaps.group_member(OrgId(r.get("org_id")?), group, user);
            Ok(())
        })
        .await?;
    query(&q.group_projects)
        .bind_some(only)
        .for_each(tx, |r| {
            let role = project_role(r.get("role")?)?;
            let (group, project) = (GroupId(r.get("group_id")?), ProjectId(r.get("project_id")?));
            snaps.group_project(OrgId(r.get("org_id")?), group, project, role);
            Ok(())
        })
        .await?;
    Ok(snaps.finish())
}
