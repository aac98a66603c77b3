//! The SQLite start-up reader of every organization's grants.

use super::grants::{self, GrantQueries, Snapshots};
use super::{OrgSnapshot, StoreError, StoreResult};
use crate::domain::ids::{GroupId, OrgId, ProjectId, UserId};
use std::path::Path;
use std::time::Duration;

/// Reads the revision and every organization's grants on this (blocking) thread, through a
/// read-only connection of its own, in one read transaction. Not through sqlx: sqlx-sqlite
/// steps each statement on a worker thread and hands every row, each value separately
/// allocated, to the reading task; with the two on different cores, a million memberships took
/// 13 s to read, against 5 s with the process pinned to one core.
pub(super) fn read(file: &Path) -> StoreResult<(u64, Vec<OrgSnapshot>)> {
    use rusqlite::OpenFlags;
    let mut conn = rusqlite::Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // Deferred: the snapshot is taken at the first read, the revision's.
    let tx = conn.transaction()?;
    let revision: i64 = tx.query_row(grants::REVISION, [], |r| r.get(0))?;
    let q = GrantQueries::new(false);
    let mut snaps = Snapshots::default();
    each(&tx, &q.members, |r| {
        let perms = r
            .get_ref(5)?
            .as_bytes_or_null()
            .map_err(corrupt)?
            .map(serde_json::from_slice::<Vec<String>>)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("custom role permissions: {e}")))?;
        let role = super::sql::role_from_parts(
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            perms.map(sqlx::types::Json),
        )?;
        snaps.member(OrgId(r.get(0)?), UserId(r.get(1)?), role);
        Ok(())
    })?;
    each(&tx, &q.projects, |r| {
        snaps.project(OrgId(r.get(0)?), ProjectId(r.get(1)?), r.get(2)?);
        Ok(())
    })?;
    each(&tx, &q.groups, |r| {
        snaps.group(OrgId(r.get(0)?), GroupId(r.get(1)?), r.get(2)?);
        Ok(())
    })?;
    each(&tx, &q.direct, |r| {
        let role = grants::project_role(r.get_ref(3)?.as_str().map_err(corrupt)?)?;
        snaps.direct(
            OrgId(r.get(0)?),
            ProjectId(r.get(1)?),
            UserId(r.get(2)?),
            role,
        );
        Ok(())
    })?;
    each(&tx, &q.group_members, |r| {
        snaps.group_member(OrgId(r.get(0)?), GroupId(r.get(1)?), UserId(r.get(2)?));
        Ok(())
    })?;
    each(&tx, &q.group_projects, |r| {
        let role = grants::project_role(r.get_ref(3)?.as_str().map_err(corrupt)?)?;
        snaps.group_project(
            OrgId(r.get(0)?),
            GroupId(r.get(1)?),
            ProjectId(r.get(2)?),
            role,
        );
        Ok(())
    })?;
    Ok((u64::try_from(revision).unwrap_or(0), snaps.finish()))
}

/// Runs `sql` (no parameters) and hands each row to `f`.
fn each(
    conn: &rusqlite::Connection,
    sql: &str,
    mut f: impl FnMut(&rusqlite::Row<'_>) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut statement = conn.prepare(sql)?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        f(row)?;
    }
    Ok(())
}

/// A column of an unexpected type.
fn corrupt(e: rusqlite::types::FromSqlError) -> StoreError {
    StoreError::Corrupt(e.to_string())
}
