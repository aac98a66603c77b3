//! Database errors as the store's, mapped once for both backends: a violated key becomes
//! `Conflict` with the [`Constraint`] its name stands for, a foreign key `Conflict(ForeignKey)`,
//! lock contention `Busy`, an unreachable database or an exhausted pool `Unavailable`, a full
//! disk `StorageFull`, anything else `Db`.
//!
//! PostgreSQL names the violated constraint (`DatabaseError::constraint`; for a unique index,
//! the index's name). SQLite does not: its result code says which kind of constraint failed
//! (`SQLITE_CONSTRAINT_UNIQUE`, `_PRIMARYKEY`, `_FOREIGNKEY`), and the only thing naming the
//! key is the error's text, which lists the key's columns (`UNIQUE constraint failed:
//! orgs.name_key`; only an index on expressions is named, as `index 'name'`), and says nothing
//! at all about a foreign key. So for SQLite the code decides the kind, and for a unique key
//! the columns are read out of that one documented format and looked up in [`KEYS`], which
//! gives each named key its columns: no other wording of the text is matched. In this schema
//! every unique key of a table has its own column list (a unit test below checks it against
//! the migrated SQLite schema, and `tests/store_contract` checks every key on both backends).

use super::{Constraint, StoreError};

/// A unique key the service tells apart from others when it is violated.
struct Key {
    /// The constraint's or unique index's name (PostgreSQL reports it).
    name: &'static str,
    /// Its table.
    table: &'static str,
    /// Its columns, in order (SQLite reports them).
    columns: &'static [&'static str],
    /// What the service is told.
    constraint: Constraint,
}

/// The keys with a [`Constraint`] of their own; every other key is `Constraint::Other`.
const KEYS: &[Key] = &[
    Key {
        name: "orgs_name_key_uq",
        table: "orgs",
        columns: &["name_key"],
        constraint: Constraint::OrgName,
    },
    Key {
        name: "orgs_slug_uq",
        table: "orgs",
        columns: &["slug"],
        constraint: Constraint::OrgSlug,
    },
    Key {
        name: "users_email_key_uq",
        table: "users",
        columns: &["email_key"],
        constraint: Constraint::UserEmail,
    },
    Key {
        name: "custom_roles_name_uq",
        table: "custom_roles",
        columns: &["org_id", "name_key"],
        constraint: Constraint::RoleName,
    },
    Key {
        name: "member_roles_one_owner",
        table: "member_roles",
        columns: &["org_id"],
        constraint: Constraint::OneOwner,
    },
    Key {
        name: "projects_name_uq",
        table: "projects",
        columns: &["org_id", "name_key"],
        constraint: Constraint::ProjectName,
    },
    Key {
        name: "groups_name_uq",
        table: "groups",
        columns: &["org_id", "name_key"],
        constraint: Constraint::GroupName,
    },
    Key {
        // SQLite keeps no name for a primary key: it is `sqlite_autoindex_memberships_1` there.
        name: "memberships_pk",
        table: "memberships",
        columns: &["org_id", "user_id"],
        constraint: Constraint::Membership,
    },
    Key {
        name: "invitations_one_pending",
        table: "invitations",
        columns: &["org_id", "email_key"],
        constraint: Constraint::InvitationPending,
    },
    Key {
        name: "vouchers_pkey",
        table: "vouchers",
        columns: &["code"],
        constraint: Constraint::VoucherCode,
    },
    Key {
        name: "voucher_redemptions_pk",
        table: "voucher_redemptions",
        columns: &["code", "org_id"],
        constraint: Constraint::VoucherRedeemed,
    },
    Key {
        name: "invoices_org_month_uq",
        table: "invoices",
        columns: &["org_id", "month"],
        constraint: Constraint::InvoiceMonth,
    },
];

/// The [`Constraint`] a violated key's name stands for.
fn by_name(name: &str) -> Constraint {
    KEYS.iter()
        .find(|k| k.name == name)
        .map_or(Constraint::Other, |k| k.constraint)
}

/// PostgreSQL's SQLSTATEs the store tells apart.
mod sqlstate {
    pub const UNIQUE_VIOLATION: &str = "23505";
    pub const FOREIGN_KEY_VIOLATION: &str = "23503";
    pub const SERIALIZATION_FAILURE: &str = "40001";
    pub const DEADLOCK_DETECTED: &str = "40P01";
    /// `disk_full`.
    pub const DISK_FULL: &str = "53100";
    /// `admin_shutdown`, `crash_shutdown`, `cannot_connect_now`: the server is going down or
    /// still starting.
    pub const SHUTTING_DOWN: [&str; 3] = ["57P01", "57P02", "57P03"];
}

/// What both backends' drivers say when the database is out of reach: it refused or dropped
/// the connection, the pool found no connection within its acquire timeout, or the pool is
/// closed.
fn unreachable(e: &sqlx::Error) -> Option<StoreError> {
    use std::error::Error as _;
    match e {
        sqlx::Error::PoolTimedOut => Some(StoreError::Unavailable(
            "no database connection became free within the acquire timeout".to_owned(),
        )),
        sqlx::Error::PoolClosed => Some(StoreError::ShuttingDown),
        sqlx::Error::Io(io) => Some(StoreError::Unavailable(io.to_string())),
        sqlx::Error::Tls(t) => Some(StoreError::Unavailable(t.to_string())),
        sqlx::Error::Protocol(p) => Some(StoreError::Unavailable(p.clone())),
        sqlx::Error::WorkerCrashed => Some(StoreError::Unavailable(
            "the database connection's worker stopped".to_owned(),
        )),
        _ => e
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .map(|io| StoreError::Unavailable(io.to_string())),
    }
}

/// A PostgreSQL error as the store's.
pub(super) fn from_postgres(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        match db.code().as_deref() {
            Some(sqlstate::UNIQUE_VIOLATION) => {
                return StoreError::Conflict(db.constraint().map_or(Constraint::Other, by_name));
            }
            Some(sqlstate::FOREIGN_KEY_VIOLATION) => {
                return StoreError::Conflict(Constraint::ForeignKey);
            }
            // The caller may retry.
            Some(sqlstate::SERIALIZATION_FAILURE | sqlstate::DEADLOCK_DETECTED) => {
                return StoreError::Busy;
            }
            Some(sqlstate::DISK_FULL) => return StoreError::StorageFull,
            Some(code) if sqlstate::SHUTTING_DOWN.contains(&code) || code.starts_with("08") => {
                return StoreError::Unavailable(db.message().to_owned());
            }
            _ => {}
        }
    }
    unreachable(&e).unwrap_or(StoreError::Db(e))
}

/// SQLite's result codes the store tells apart (<https://www.sqlite.org/rescode.html>); sqlx
/// reports the extended code.
mod rescode {
    /// `SQLITE_BUSY`, the primary code: the low byte of an extended code.
    pub const BUSY: i32 = 5;
    /// `SQLITE_CONSTRAINT_FOREIGNKEY`.
    pub const CONSTRAINT_FOREIGNKEY: i32 = 787;
    /// `SQLITE_CONSTRAINT_PRIMARYKEY`.
    pub const CONSTRAINT_PRIMARYKEY: i32 = 1555;
    /// `SQLITE_CONSTRAINT_UNIQUE`.
    pub const CONSTRAINT_UNIQUE: i32 = 2067;
    /// `SQLITE_FULL`, the primary code.
    pub const FULL: i32 = 13;
}

/// A SQLite error as the store's.
pub(super) fn from_sqlite(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        let code = db.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or(0);
        match code {
            rescode::CONSTRAINT_UNIQUE | rescode::CONSTRAINT_PRIMARYKEY => {
                return StoreError::Conflict(sqlite_key(db.message()));
            }
            rescode::CONSTRAINT_FOREIGNKEY => return StoreError::Conflict(Constraint::ForeignKey),
            // Every kind of busy (plain, recovery, snapshot, timeout): the caller may retry.
            c if c & 0xff == rescode::BUSY => return StoreError::Busy,
            c if c & 0xff == rescode::FULL => {
                super::sqlite::storage_full_seen();
                return StoreError::StorageFull;
            }
            _ => {}
        }
    }
    unreachable(&e).unwrap_or(StoreError::Db(e))
}

/// The key a SQLite unique violation is about, from the key its message names.
fn sqlite_key(message: &str) -> Constraint {
    match FailedKey::parse(message) {
        Some(FailedKey::Index(name)) => by_name(name),
        Some(FailedKey::Columns { table, columns }) => KEYS
            .iter()
            .find(|k| k.table == table && k.columns == columns.as_slice())
            .map_or(Constraint::Other, |k| k.constraint),
        None => Constraint::Other,
    }
}

/// What SQLite's unique violation names (`sqlite3UniqueConstraint` in SQLite's `build.c`).
#[derive(Debug, PartialEq, Eq)]
enum FailedKey<'a> {
    /// `UNIQUE constraint failed: t.a, t.b`: a key on columns.
    Columns {
        table: &'a str,
        columns: Vec<&'a str>,
    },
    /// `UNIQUE constraint failed: index 'name'`: a key on expressions.
    Index(&'a str),
}

impl<'a> FailedKey<'a> {
    fn parse(message: &'a str) -> Option<Self> {
        let key = message.strip_prefix("UNIQUE constraint failed: ")?;
        if let Some(name) = key.strip_prefix("index '") {
            return name.strip_suffix('\'').map(FailedKey::Index);
        }
        let mut table = None;
        let mut columns = Vec::new();
        for qualified in key.split(", ") {
            let (t, column) = qualified.split_once('.')?;
            if *table.get_or_insert(t) != t {
                return None;
            }
            columns.push(column);
        }
        Some(FailedKey::Columns {
            table: table?,
            columns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_names_a_key_by_its_columns_or_its_index() {
        assert_eq!(
            FailedKey::parse(
                "UNIQUE constraint failed: custom_roles.org_id, custom_roles.name_key"
            ),
            Some(FailedKey::Columns {
                table: "custom_roles",
                columns: vec!["org_id", "name_key"]
            })
        );
        assert_eq!(
            FailedKey::parse("UNIQUE constraint failed: index 'orgs_lower_uq'"),
            Some(FailedKey::Index("orgs_lower_uq"))
        );
        assert_eq!(FailedKey::parse("FOREIGN KEY constraint failed"), None);
        assert_eq!(
            sqlite_key("UNIQUE constraint failed: orgs.slug"),
            Constraint::OrgSlug
        );
        assert_eq!(
            sqlite_key("UNIQUE constraint failed: member_roles.org_id"),
            Constraint::OneOwner
        );
        // Same leading column, other key: not the one-owner index.
        assert_eq!(
            sqlite_key(
                "UNIQUE constraint failed: member_roles.org_id, member_roles.user_id, \
                 member_roles.builtin"
            ),
            Constraint::Other
        );
    }

    #[test]
    fn the_result_codes_are_sqlites() {
        use rusqlite::ffi;
        assert_eq!(rescode::BUSY, ffi::SQLITE_BUSY);
        assert_eq!(
            rescode::CONSTRAINT_FOREIGNKEY,
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY
        );
        assert_eq!(
            rescode::CONSTRAINT_PRIMARYKEY,
            ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        );
        assert_eq!(rescode::CONSTRAINT_UNIQUE, ffi::SQLITE_CONSTRAINT_UNIQUE);
    }

    /// Each key's columns are those of exactly one unique index of its table in the migrated
    /// SQLite schema, and that index carries the key's name unless SQLite named it itself.
    #[tokio::test]
    async fn every_key_is_one_unique_index_of_the_sqlite_schema() {
        let store = crate::store::SqliteStore::connect("sqlite::memory:")
            .await
            .expect("in-memory database");
        for key in KEYS {
            let rows: Vec<(String, String)> = sqlx::query_as(
                "SELECT il.name, ii.name FROM pragma_index_list($1) il \
                 JOIN pragma_index_info(il.name) ii WHERE il.\"unique\" = 1 \
                 ORDER BY il.name, ii.seqno",
            )
            .bind(key.table)
            .fetch_all(store.pool())
            .await
            .expect("reading the schema");
            let mut indexes: Vec<(String, Vec<String>)> = Vec::new();
            for (index, column) in rows {
                match indexes.last_mut() {
                    Some((name, columns)) if *name == index => columns.push(column),
                    _ => indexes.push((index, vec![column])),
                }
            }
            let matching: Vec<&String> = indexes
                .iter()
                .filter(|(_, columns)| columns == key.columns)
                .map(|(name, _)| name)
                .collect();
            assert_eq!(matching.len(), 1, "{}: {indexes:?}", key.name);
            if !matching[0].starts_with("sqlite_autoindex_") {
                assert_eq!(matching[0], key.name);
            }
        }
    }
}
