//! R1: recomputing the stored name keys when [`names::name_key`] changes.
//!
//! SQL cannot compute a key (neither database does NFKC or full case folding), so a schema
//! migration cannot either: `name_key_version` (migration 0009) records which version of the
//! key function made the stored keys, and right after the SQL migrations the store calls [`run`],
//! which, when that version is older than [`NAME_KEY_VERSION`], recomputes the keys of every
//! organization, project, group and custom role in one transaction and records the new version.
//! The version row is locked first, so of several `serve` processes starting together on one
//! PostgreSQL exactly one does the work, and the others find it done.
//!
//! Names that were distinct under the old key may collide under the new one (`ACME` and
//! fullwidth `ＡＣＭＥ`, `Café` typed composed and decomposed). Then, in each uniqueness scope
//! (the server for organizations, the organization for the others), the oldest row (by
//! creation time, then id) keeps its name and gets the key, and each younger one is renamed to
//! the first free `name 2`, `name 3`… (cut to fit the length limit), so that every row's key
//! is still the key of its name, which listing, paging, lookups by name and renames rely on.
//! Each rename is logged as a warning and written to the audit log as Guildhall's own change
//! (`org.renamed`, `project.renamed`, `group.renamed`, `role.updated`), so the organization's
//! people can see why their name changed and choose another.
//!
//! Names holding characters that names may no longer contain (bidirectional controls,
//! zero-width characters) keep them: their keys drop them, and the log names each such row so an
//! operator can have it renamed. A rename through the API parses the new name, so it cannot
//! bring them back.

use super::{Backend, SqlTx, query};
use crate::domain::audit::{Action, Actor, AuditEvent};
use crate::domain::ids::OrgId;
use crate::domain::names::{
    MAX_NAME_CHARS, MAX_ROLE_CHARS, NAME_KEY_VERSION, name_key, unsafe_characters,
};
use crate::store::{StoreResult, Tx as _};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::HashSet;
use uuid::Uuid;

/// A table of named rows, unique by key within a scope.
struct Table {
    table: &'static str,
    /// Unique per organization (`org_id`), or across the server.
    per_org: bool,
    /// The longest name, in characters.
    max_chars: usize,
    /// How a rename is recorded.
    action: Action,
    target_type: &'static str,
    /// Whether renaming one changes the grants index (which holds project names).
    in_index: bool,
}

const TABLES: [Table; 4] = [
    Table {
        table: "orgs",
        per_org: false,
        max_chars: MAX_NAME_CHARS,
        action: Action::OrgRenamed,
        target_type: "org",
        in_index: false,
    },
    Table {
        table: "projects",
        per_org: true,
        max_chars: MAX_NAME_CHARS,
        action: Action::ProjectRenamed,
        target_type: "project",
        in_index: true,
    },
    Table {
        table: "groups",
        per_org: true,
        max_chars: MAX_NAME_CHARS,
        action: Action::GroupRenamed,
        target_type: "group",
        in_index: false,
    },
    Table {
        table: "custom_roles",
        per_org: true,
        max_chars: MAX_ROLE_CHARS,
        action: Action::RoleUpdated,
        target_type: "role",
        in_index: false,
    },
];

/// A stored row, as re-keying sees it.
#[derive(Clone, Debug)]
struct Stored {
    id: Uuid,
    /// The organization: the row's own for `orgs`, else the one it belongs to.
    org: Uuid,
    /// Where its key must be unique: its organization, or (nil) the server.
    scope: Uuid,
    name: String,
    key: String,
    created_at: DateTime<Utc>,
}

/// What re-keying decided for one row.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Decided {
    name: String,
    key: String,
}

/// What [`run`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rekeyed {
    /// Rows whose key changed (renamed ones included).
    pub rekeyed: usize,
    /// Rows renamed because their name collided with an older one's.
    pub renamed: usize,
}

/// Re-keys the stored names in `tx` if they were made by an older key function, and commits.
/// `tx` must be a write transaction (SQLite: `BEGIN IMMEDIATE`).
pub(in crate::store) async fn run<DB: Backend>(
    mut tx: SqlTx<DB>,
    now: DateTime<Utc>,
) -> StoreResult<Rekeyed> {
    let version: i64 = query(DB::LOCK_NAME_KEYS)
        .fetch_one(&mut tx)
        .await?
        .get("version")?;
    if version >= NAME_KEY_VERSION {
        // Done already (by this process before, or another one): the transaction rolls back.
        return Ok(Rekeyed::default());
    }
    let mut done = Rekeyed::default();
    let mut events = Vec::new();
    for table in &TABLES {
        let rows = read(&mut tx, table).await?;
        let decided = decide(&rows, table.max_chars);
        let changed: Vec<(&Stored, &Decided)> = rows
            .iter()
            .zip(&decided)
            .filter(|(r, d)| r.key != d.key || r.name != d.name)
            .collect();
        // Out of the way first: a row's new key may be another's old one, and both databases
        // check a unique index at each statement. The interim key holds a control character,
        // which no name's key can.
        let sql = format!("UPDATE {} SET name_key = $2 WHERE id = $1", table.table);
        for (r, _) in &changed {
            query(&sql)
                .bind(r.id)
                .bind(format!("\u{1}rekey {}", r.id))
                .execute(&mut tx)
                .await?;
        }
        let sql = format!(
            "UPDATE {} SET name = $2, name_key = $3 WHERE id = $1",
            table.table
        );
        for (r, d) in &changed {
            query(&sql)
                .bind(r.id)
                .bind(d.name.as_str())
                .bind(d.key.as_str())
                .execute(&mut tx)
                .await?;
            done.rekeyed += 1;
            if r.name != d.name {
                done.renamed += 1;
                events.push(renamed(table, r, d, &rows, now));
                if table.in_index {
                    tx.touch(OrgId(r.org));
                }
            }
        }
        for r in rows.iter().filter(|r| unsafe_characters(&r.name).is_some()) {
            tracing::warn!(
                table = table.table,
                id = %r.id,
                "a stored name holds invisible or reordering characters that names may no \
                 longer contain; have it renamed"
            );
        }
    }
    query("UPDATE name_key_version SET version = $1 WHERE id = 1")
        .bind(NAME_KEY_VERSION)
        .execute(&mut tx)
        .await?;
    if events.is_empty() {
        Box::new(tx).commit_bookkeeping().await?;
    } else {
        Box::new(tx).commit(events).await?;
    }
    tracing::info!(
        version = NAME_KEY_VERSION,
        rekeyed = done.rekeyed,
        renamed = done.renamed,
        "stored name keys recomputed"
    );
    Ok(done)
}

async fn read<DB: Backend>(tx: &mut SqlTx<DB>, table: &Table) -> StoreResult<Vec<Stored>> {
    let org = if table.per_org { "org_id" } else { "id" };
    let sql = format!(
        "SELECT id, {org} AS org, name, name_key, created_at FROM {}",
        table.table
    );
    let mut rows = query(&sql)
        .map_all(tx, |r| {
            let org: Uuid = r.get("org")?;
            Ok(Stored {
                id: r.get("id")?,
                org,
                scope: if table.per_org { org } else { Uuid::nil() },
                name: r.get("name")?,
                key: r.get("name_key")?,
                created_at: r.get("created_at")?,
            })
        })
        .await?;
    // Oldest first within each scope; the order is the same on both backends.
    rows.sort_by_key(|r| (r.scope, r.created_at, r.id));
    Ok(rows)
}

/// Each row's name and key under the current key function, in `rows`' order (oldest first
/// within each scope, scopes together): the oldest row of each key keeps its name; younger ones
/// get the first free `name n`.
fn decide(rows: &[Stored], max_chars: usize) -> Vec<Decided> {
    let mut out: Vec<Decided> = rows
        .iter()
        .map(|r| Decided {
            name: r.name.clone(),
            key: name_key(&r.name),
        })
        .collect();
    let mut start = 0;
    while start < rows.len() {
        let end = rows[start..]
            .iter()
            .position(|r| r.scope != rows[start].scope)
            .map_or(rows.len(), |n| start + n);
        decide_scope(&rows[start..end], &mut out[start..end], max_chars);
        start = end;
    }
    out
}

fn decide_scope(rows: &[Stored], out: &mut [Decided], max_chars: usize) {
    // Every key a row keeps, the oldest holder of each, before any rename picks one.
    let mut taken: HashSet<String> = HashSet::new();
    let mut losers = Vec::new();
    for (i, d) in out.iter().enumerate() {
        if !taken.insert(d.key.clone()) {
            losers.push(i);
        }
    }
    for i in losers {
        let name = &rows[i].name;
        for n in 2u32.. {
            let suffix = format!(" {n}");
            let room = max_chars.saturating_sub(suffix.chars().count());
            let base: String = name.chars().take(room).collect();
            let candidate = format!("{}{suffix}", base.trim_end());
            let key = name_key(&candidate);
            if taken.insert(key.clone()) {
                out[i] = Decided {
                    name: candidate,
                    key,
                };
                break;
            }
        }
    }
}

/// The audit event and warning of a rename of `r` to `d`, among `rows` (its table's).
fn renamed(
    table: &Table,
    r: &Stored,
    d: &Decided,
    rows: &[Stored],
    now: DateTime<Utc>,
) -> AuditEvent {
    // The oldest of the scope with the same key: the one that kept the name.
    let key = name_key(&r.name);
    let kept = rows
        .iter()
        .find(|o| o.scope == r.scope && name_key(&o.name) == key)
        .map(|o| o.id);
    tracing::warn!(
        table = table.table,
        id = %r.id,
        kept = ?kept,
        before = %r.name,
        after = %d.name,
        "a stored name collides with an older one under the new name comparison; renamed"
    );
    let actor = Actor {
        user: None,
        token: None,
        ip: None,
        now,
    };
    let mut event = AuditEvent::new(&actor, table.action, table.target_type, r.id)
        .in_org(OrgId(r.org))
        .named(d.name.as_str())
        .with_data(json!({
            "before": r.name,
            "after": d.name,
            "reason": "the name looks the same as an older one's (they compare equal after \
                       Unicode normalization and case folding); choose another name",
            "older": kept,
        }));
    event.id = Uuid::now_v7();
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(org: u128, id: u128, name: &str, secs: i64) -> Stored {
        Stored {
            id: Uuid::from_u128(id),
            org: Uuid::from_u128(org),
            scope: Uuid::from_u128(org),
            name: name.to_owned(),
            key: name.to_lowercase(),
            created_at: DateTime::from_timestamp(secs, 0).expect("time"),
        }
    }

    #[test]
    fn r1_the_oldest_keeps_its_name_and_younger_look_alikes_get_the_first_free_number() {
        let rows = [
            row(1, 10, "ACME", 1),
            row(1, 11, "\u{FF21}\u{FF23}\u{FF2D}\u{FF25}", 2),
            row(1, 12, "acme 2", 3),
            row(1, 13, "Acme", 4),
            row(2, 20, "acme", 5),
        ];
        let d = decide(&rows, MAX_NAME_CHARS);
        let names: Vec<&str> = d.iter().map(|d| d.name.as_str()).collect();
        // `acme 2` is an older row's own name: the look-alikes number past it. Another scope
        // (organization 2) is not compared.
        assert_eq!(
            names,
            [
                "ACME",
                "\u{FF21}\u{FF23}\u{FF2D}\u{FF25} 3",
                "acme 2",
                "Acme 4",
                "acme"
            ]
        );
        for (r, d) in rows.iter().zip(&d) {
            assert_eq!(d.key, name_key(&d.name), "{r:?}");
        }
    }

    #[test]
    fn numbered_names_are_cut_to_fit() {
        let long = "x".repeat(MAX_ROLE_CHARS);
        let rows = [row(1, 1, &long, 1), row(1, 2, &long.to_uppercase(), 2)];
        let d = decide(&rows, MAX_ROLE_CHARS);
        assert_eq!(d[1].name.chars().count(), MAX_ROLE_CHARS);
        assert!(d[1].name.ends_with(" 2"));
    }
}
