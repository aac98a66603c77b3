//! The embedded store: one SQLite file in WAL mode. Write transactions start with
//! `BEGIN IMMEDIATE`, so each takes the write lock before reading the facts its rule checks.

use super::sql::{Backend, Column, Param, RawQuery, SqlTx};
use super::{Store, StoreError, StoreResult};
use async_trait::async_trait;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Connection as _, Row as _, Sqlite, SqlitePool};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The queries of `sql/` on SQLite.
impl Backend for Sqlite {
    /// SQLite holds the whole database's write lock from `BEGIN IMMEDIATE`; nothing more to lock.
    const LOCK_ORG: &'static str = "SELECT id FROM orgs WHERE id = $1";
    /// As `LOCK_ORG`, for a user's row.
    const LOCK_USER: &'static str = "SELECT id FROM users WHERE id = $1";
    /// One process per SQLite file: nobody else to notify.
    const NOTIFY: Option<&'static str> = None;
    /// `BEGIN IMMEDIATE` holds the write lock already.
    const LOCK_NAME_KEYS: &'static str = "SELECT version FROM name_key_version WHERE id = 1";

    fn db_err(e: sqlx::Error) -> StoreError {
        super::conflict::from_sqlite(e)
    }

    fn bind<'q, T: Param<'q>>(q: RawQuery<'q, Self>, value: T) -> RawQuery<'q, Self> {
        q.bind(value)
    }

    fn execute<'c, 'q: 'c>(
        conn: &'c mut SqliteConnection,
        q: RawQuery<'q, Self>,
    ) -> BoxFuture<'c, sqlx::Result<u64>> {
        Box::pin(async move { Ok(q.execute(conn).await?.rows_affected()) })
    }

    fn fetch_optional<'c, 'q: 'c>(
        conn: &'c mut SqliteConnection,
        q: RawQuery<'q, Self>,
    ) -> BoxFuture<'c, sqlx::Result<Option<SqliteRow>>> {
        Box::pin(q.fetch_optional(conn))
    }

    fn fetch_all<'c, 'q: 'c>(
        conn: &'c mut SqliteConnection,
        q: RawQuery<'q, Self>,
    ) -> BoxFuture<'c, sqlx::Result<Vec<SqliteRow>>> {
        Box::pin(q.fetch_all(conn))
    }

    fn fetch<'c, 'q: 'c>(
        conn: &'c mut SqliteConnection,
        q: RawQuery<'q, Self>,
    ) -> BoxStream<'c, sqlx::Result<SqliteRow>> {
        q.fetch(conn)
    }

    fn get<'r, T: Column<'r>>(row: &'r SqliteRow, column: &str) -> sqlx::Result<T> {
        row.try_get(column)
    }

    fn commit(conn: sqlx::Transaction<'static, Self>) -> BoxFuture<'static, sqlx::Result<()>> {
        Box::pin(conn.commit())
    }
}

/// The SQLite store.
pub struct SqliteStore {
    pool: SqlitePool,
    /// The database file, for the start-up reader; `None` for an in-memory database.
    file: Option<PathBuf>,
}

/// Whether a write of this process found the disk full since the last write that worked: until
/// one works again, readiness says so and writes a probe row to learn when it does. One flag for
/// the process (errors are mapped without knowing their store); a process serves one database.
static STORAGE_FULL: AtomicBool = AtomicBool::new(false);

/// Notes that a write found the disk full.
pub(super) fn storage_full_seen() {
    STORAGE_FULL.store(true, Ordering::Relaxed);
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &super::OpenOptions::default()).await
    }

    /// `connect`, with the pool's acquire timeout and the `synchronous` setting from `opts`.
    pub async fn connect_with(url: &str, opts: &super::OpenOptions) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url).map_err(StoreError::Db)?;
        let file = options.get_filename().to_path_buf();
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match opts.sqlite_synchronous {
                super::SqliteSynchronous::Normal => SqliteSynchronous::Normal,
                super::SqliteSynchronous::Full => SqliteSynchronous::Full,
            })
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(opts.acquire_timeout)
            // A connection whose COMMIT or ROLLBACK failed (a full disk makes SQLite roll the
            // transaction back itself, so the driver's own ROLLBACK fails too) still counts a
            // transaction: it would refuse every later BEGIN. It is closed, never handed out
            // again. The ping first lets the driver finish a rollback it queued on drop.
            .before_acquire(|conn, _| {
                Box::pin(async move {
                    if !conn.is_in_transaction() {
                        return Ok(true);
                    }
                    conn.ping().await?;
                    let clean = !conn.is_in_transaction();
                    if !clean {
                        tracing::warn!(
                            "closing a database connection left inside a failed transaction"
                        );
                    }
                    Ok(clean)
                })
            })
            .connect_with(options)
            .await
            .map_err(StoreError::Db)?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        // R1: stored name keys made by an older `names::name_key` are recomputed, once.
        let tx = pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(Sqlite::db_err)?;
        super::sql::rekey::run(SqlTx::<Sqlite>::new(tx), chrono::Utc::now()).await?;
        let file = start_up_file(url, file);
        Ok(Self { pool, file })
    }

    /// The pool, for tests that read the schema.
    #[cfg(test)]
    pub(super) fn pool(&self) -> &SqlitePool {
        &self.pool
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
            .map_err(Sqlite::db_err)?;
        Ok(Box::new(SqlTx::<Sqlite>::new(tx)))
    }

    async fn read(&self) -> StoreResult<Box<dyn super::Tx>> {
        let tx = self.pool.begin().await.map_err(Sqlite::db_err)?;
        Ok(Box::new(SqlTx::<Sqlite>::new(tx)))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(Sqlite::db_err)?;
        if STORAGE_FULL.load(Ordering::Relaxed) {
            // Only a write tells whether space came back.
            sqlx::query(
                "INSERT INTO store_probe (id, at) VALUES (1, datetime('now')) \
                 ON CONFLICT (id) DO UPDATE SET at = excluded.at",
            )
            .execute(&self.pool)
            .await
            .map_err(Sqlite::db_err)?;
            STORAGE_FULL.store(false, Ordering::Relaxed);
            tracing::info!("the database's disk has space again: writes work");
        }
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

    /// `--sqlite-synchronous` reaches every pooled connection: FULL (2) by default, NORMAL (1)
    /// when asked.
    #[tokio::test]
    async fn the_synchronous_setting_reaches_the_connections() {
        assert_eq!(
            super::super::OpenOptions::default().sqlite_synchronous,
            super::super::SqliteSynchronous::Full
        );
        let dir = tempfile::tempdir().expect("temp dir");
        for (setting, want) in [
            (super::super::SqliteSynchronous::Normal, 1_i64),
            (super::super::SqliteSynchronous::Full, 2),
        ] {
            let url = format!(
                "sqlite://{}",
                dir.path().join(format!("{want}.db")).display()
            );
            let opts = super::super::OpenOptions {
                sqlite_synchronous: setting,
                ..Default::default()
            };
            let store = SqliteStore::connect_with(&url, &opts).await.expect("opens");
            let got: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(store.pool())
                .await
                .expect("pragma");
            assert_eq!(got, want, "{setting:?}");
        }
    }
}
