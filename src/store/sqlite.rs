//! The embedded store: one SQLite file in WAL mode. Write transactions start with
//! `BEGIN IMMEDIATE`, so each takes the write lock before reading the facts its rule checks.

use super::{Constraint, Store, StoreError, StoreResult};
use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// SQLite holds the whole database's write lock from `BEGIN IMMEDIATE`; nothing more to lock.
const LOCK_ORG: &str = "SELECT id FROM orgs WHERE id = $1";

/// One process per SQLite file: nobody else to notify.
const NOTIFY: Option<&str> = None;

/// Maps SQLite's errors onto the store's. SQLite names the column, not the index, in its unique
/// errors (`UNIQUE constraint failed: orgs.name_key`).
fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        let msg = db.message();
        if msg.starts_with("UNIQUE constraint failed") {
            let which = if msg.contains("orgs.name_key") {
                Constraint::OrgName
            } else if msg.contains("orgs.slug") {
                Constraint::OrgSlug
            } else if msg.contains("users.email_key") {
                Constraint::UserEmail
            } else if msg.contains(": projects.") {
                Constraint::ProjectName
            } else if msg.contains(": groups.") {
                Constraint::GroupName
            } else if msg.contains("custom_roles.") {
                Constraint::RoleName
            } else if msg.contains("member_roles.org_id") && !msg.contains("member_roles.user_id") {
                Constraint::OneOwner
            } else if msg.contains("invitations.org_id") {
                Constraint::InvitationPending
            } else if msg.contains("memberships.") {
                Constraint::Membership
            } else {
                Constraint::Other
            };
            return StoreError::Conflict(which);
        }
        if msg.starts_with("FOREIGN KEY constraint failed") {
            return StoreError::Conflict(Constraint::ForeignKey);
        }
        if msg.contains("database is locked") || msg.contains("database is busy") {
            return StoreError::Busy;
        }
    }
    StoreError::Db(e)
}

super::sql::impl_tx!(SqliteTx, Sqlite);
super::billing::impl_billing_tx!(SqliteTx);

/// The SQLite store.
pub struct SqliteStore {
    pool: SqlitePool,
    /// The database file, for the start-up reader; `None` for an in-memory database.
    file: Option<PathBuf>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url).map_err(StoreError::Db)?;
        let file = options.get_filename().to_path_buf();
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(StoreError::Db)?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        let file = start_up_file(url, file);
        Ok(Self { pool, file })
    }
}

/// The file the start-up reader may open itself, with SQLite's defaults: none for an in-memory
/// database (sqlx names those `file:sqlx-in-memory-N`, no file on disk), nor when the URL picks
/// another VFS or declares the file immutable.
fn start_up_file(url: &str, file: PathBuf) -> Option<PathBuf> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let plain = !query
        .split('&')
        .any(|kv| kv == "mode=memory" || kv.starts_with("vfs=") || kv.starts_with("immutable="));
    (plain && file.is_file()).then_some(file)
}

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> StoreResult<Box<dyn super::Tx>> {
        let tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_err)?;
        Ok(Box::new(SqliteTx::new(tx)))
    }

    async fn read(&self) -> StoreResult<Box<dyn super::Tx>> {
        let tx = self.pool.begin().await.map_err(db_err)?;
        Ok(Box::new(SqliteTx::new(tx)))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn load_index(&self) -> StoreResult<(u64, Vec<super::OrgSnapshot>)> {
        match &self.file {
            Some(file) => super::sqlite_grants::read(file),
            None => super::load_index_in_tx(self),
        }
    }

    async fn grant_notifications(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<()>>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::index::LiveIndex as Index;
    use std::sync::Arc;

    /// An in-memory database has no file for the start-up reader: its index loads through sqlx.
    #[tokio::test]
    async fn an_in_memory_database_loads_its_index_through_sqlx() {
        for url in ["sqlite::memory:", "sqlite://:memory:"] {
            let store = SqliteStore::connect(url).await.expect(url);
            assert_eq!(store.file, None, "{url}");
            let index = Index::load(Arc::new(store)).await.expect(url);
            assert_eq!(index.revision(), 0, "{url}");
        }
    }

    /// A file is read by the start-up reader whatever the URL's query says about opening it,
    /// unless the URL picks another VFS or declares it immutable.
    #[tokio::test]
    async fn a_file_database_is_read_by_the_start_up_reader() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("g.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let store = SqliteStore::connect(&url).await.expect("file database");
        assert_eq!(store.file.as_deref(), Some(path.as_path()));
        let index = Index::load(Arc::new(store)).await.expect("loads");
        assert_eq!(index.revision(), 0);
        for query in ["vfs=unix-dotfile", "mode=ro&immutable=1", "mode=memory"] {
            let url = format!("sqlite://{}?{query}", path.display());
            assert_eq!(start_up_file(&url, path.clone()), None, "{url}");
        }
        let missing = dir.path().join("missing.db");
        let url = format!("sqlite://{}", missing.display());
        assert_eq!(start_up_file(&url, missing), None);
    }
}
