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
/// 13 s to read, against 5 s with the process pinned to one core (and 1-2.5 s here).
pub(super) fn read(file: &Path) -> StoreResult<(u64, Vec<OrgSnapshot>)> {
    use rusqlite::OpenFlags;
    let mut conn = rusqlite::Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    // Deferred: the snapshot is taken at the first read, the revision's.
    let tx = conn.transaction()?;
    let revision = grants::revision_from(tx.query_row(grants::REVISION, [], |r| r.get(0))?)?;
    let q = GrantQueries::new(false);
    let mut snaps = Snapshots::default();
    let cols = [
        "org_id", "user_id", "builtin", "cr_id", "cr_name", "cr_perms",
    ];
    each(
        &tx,
        &q.members,
        cols,
        |r, [org, user, builtin, id, name, perms]| {
            let perms = r
                .get_ref(perms)?
                .as_bytes_or_null()
                .map_err(corrupt)?
                .map(serde_json::from_slice::<Vec<String>>)
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("custom role permissions: {e}")))?;
            let role = grants::role_from_parts(r.get(builtin)?, r.get(id)?, r.get(name)?, perms)?;
            snaps.member(OrgId(r.get(org)?), UserId(r.get(user)?), role);
            Ok(())
        },
    )?;
    each(
        &tx,
        &q.projects,
        ["org_id", "id", "name"],
        |r, [o, p, n]| {
            snaps.project(OrgId(r.get(o)?), ProjectId(r.get(p)?), r.get(n)?);
            Ok(())
        },
    )?;
    each(&tx, &q.groups, ["org_id", "id", "name"], |r, [o, g, n]| {
        snaps.group(OrgId(r.get(o)?), GroupId(r.get(g)?), r.get(n)?);
        Ok(())
    })?;
    let cols = ["org_id", "project_id", "user_id", "role"];
    each(&tx, &q.direct, cols, |r, [o, p, u, role]| {
        let role = project_role(r, role)?;
        snaps.direct(
            OrgId(r.get(o)?),
            ProjectId(r.get(p)?),
            UserId(r.get(u)?),
            role,
        );
        Ok(())
    })?;
    let cols = ["org_id", "group_id", "user_id"];
    each(&tx, &q.group_members, cols, |r, [o, g, u]| {
        snaps.group_member(OrgId(r.get(o)?), GroupId(r.get(g)?), UserId(r.get(u)?));
        Ok(())
    })?;
    let cols = ["org_id", "group_id", "project_id", "role"];
    each(&tx, &q.group_projects, cols, |r, [o, g, p, role]| {
        let role = project_role(r, role)?;
        snaps.group_project(
            OrgId(r.get(o)?),
            GroupId(r.get(g)?),
            ProjectId(r.get(p)?),
            role,
        );
        Ok(())
    })?;
    Ok((revision, snaps.finish()))
}

/// Runs `sql` (no parameters) and hands each row to `f`, with the positions of the `columns`
/// it reads (looked up by name once per statement, not per row).
fn each<const N: usize>(
    conn: &rusqlite::Connection,
    sql: &str,
    columns: [&str; N],
    mut f: impl FnMut(&rusqlite::Row<'_>, [usize; N]) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut statement = conn.prepare(sql)?;
    let mut at = [0; N];
    for (slot, name) in at.iter_mut().zip(columns) {
        *slot = statement.column_index(name)?;
    }
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        f(row, at)?;
    }
    Ok(())
}

/// The project role in column `at`.
fn project_role(
    r: &rusqlite::Row<'_>,
    at: usize,
) -> StoreResult<crate::domain::permission::ProjectRole> {
    grants::project_role(r.get_ref(at)?.as_str().map_err(corrupt)?)
}

/// A column of an unexpected type.
fn corrupt(e: rusqlite::types::FromSqlError) -> StoreError {
    StoreError::Corrupt(e.to_string())
}
