//! The production store: PostgreSQL. Every organization mutation locks the organization's row
//! first (`SELECT … FOR UPDATE`), so concurrent changes to one organization, from this process or
//! another `serve` on the same database, run one after the other.

use super::sql::{Backend, Column, Param, RawQuery, SqlTx};
use super::{Store, StoreError, StoreResult};
use async_trait::async_trait;
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPoolOptions, PgRow};
use sqlx::{PgPool, Postgres, Row as _};
use std::str::FromStr;
use std::time::Duration;
use tokio::sync::mpsc;

/// The queries of `sql/` on PostgreSQL.
impl Backend for Postgres {
    const LOCK_ORG: &'static str = "SELECT id FROM orgs WHERE id = $1 FOR UPDATE";
    /// As `LOCK_ORG`, for a user's row.
    const LOCK_USER: &'static str = "SELECT id FROM users WHERE id = $1 FOR UPDATE";
    /// Tells the other `serve` processes, at commit, that the grant revision moved.
    const NOTIFY: Option<&'static str> = Some("SELECT pg_notify('guildhall_grants', $1)");
    /// Several `serve` processes may start at once: the first to lock re-keys, the others wait
    /// and find it done.
    const LOCK_NAME_KEYS: &'static str =
        "SELECT version FROM name_key_version WHERE id = 1 FOR UPDATE";

    fn db_err(e: sqlx::Error) -> StoreError {
        super::conflict::from_postgres(e)
    }

    fn bind<'q, T: Param<'q>>(q: RawQuery<'q, Self>, value: T) -> RawQuery<'q, Self> {
        q.bind(value)
    }

    fn execute<'c, 'q: 'c>(
        conn: &'c mut PgConnection,
        q: RawQuery<'q, Self>,
    ) -> BoxFuture<'c, sqlx::Result<u64>> {
        Box::pin(async move { Ok(q.execute(conn).await?.rows_affected()) })
    }

    fn fetch_optional<'c, 'q: 'c>(
        conn: &'c mut PgConnection,
        q: RawQuery<'q, Self>,
    ) -> BoxFuture<'c, sqlx::Result<Option<PgRow>>> {
        Box::pin(q.fetch_optional(conn))
    }

    fn fetch_all<'c, 'q: 'c>(
        conn: &'c mut PgConnection,
        q: RawQuery<'q, Self>,
    ) -> BoxFuture<'c, sqlx::Result<Vec<PgRow>>> {
        Box::pin(q.fetch_all(conn))
    }

    fn fetch<'c, 'q: 'c>(
        conn: &'c mut PgConnection,
        q: RawQuery<'q, Self>,
    ) -> BoxStream<'c, sqlx::Result<PgRow>> {
        q.fetch(conn)
    }

    fn get<'r, T: Column<'r>>(row: &'r PgRow, column: &str) -> sqlx::Result<T> {
        row.try_get(column)
    }

    fn commit(conn: sqlx::Transaction<'static, Self>) -> BoxFuture<'static, sqlx::Result<()>> {
        Box::pin(conn.commit())
    }
}

/// The PostgreSQL store.
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &super::OpenOptions::default()).await
    }

    /// `connect`, with the pool's acquire timeout from `opts`; a database that cannot be
    /// reached yet is tried again with back-off for up to `opts.wait`, saying why each time.
    pub async fn connect_with(url: &str, opts: &super::OpenOptions) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(StoreError::Db)?;
        wait_for_database(&options, opts.wait).await?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(opts.acquire_timeout)
            .connect_with(options)
            .await
            .map_err(Postgres::db_err)?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        // R1: stored name keys made by an older `names::name_key` are recomputed, once.
        let tx = pool.begin().await.map_err(Postgres::db_err)?;
        super::sql::rekey::run(SqlTx::<Postgres>::new(tx), chrono::Utc::now()).await?;
        Ok(Self { pool })
    }
}

/// Connects once, directly (a pool would answer only "timed out" and hide why), until it works
/// or `wait` has passed; each failure is logged with its cause and the next delay (0.5 s,
/// doubling, at most 5 s). An error that retrying cannot fix (bad password, unknown database)
/// is returned at once.
async fn wait_for_database(options: &PgConnectOptions, wait: Duration) -> Result<(), StoreError> {
    use sqlx::Connection as _;
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(500);
    loop {
        match PgConnection::connect_with(options).await {
            Ok(conn) => {
                let _ = conn.close().await;
                return Ok(());
            }
            Err(e) => {
                let e = Postgres::db_err(e);
                let retryable = matches!(e, StoreError::Unavailable(_));
                let waited = started.elapsed();
                if !retryable || waited >= wait {
                    return Err(e);
                }
                let delay_now = delay.min(wait - waited);
                tracing::warn!(
                    error = %e,
                    retry_in_ms = delay_now.as_millis() as u64,
                    waited_s = waited.as_secs(),
                    gives_up_after_s = wait.as_secs(),
                    "PostgreSQL cannot be reached yet; retrying"
                );
                tokio::time::sleep(delay_now).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        }
    }
}

#[async_trait]
impl Store for PgStore {
    async fn begin(&self) -> StoreResult<Box<dyn super::Tx>> {
        let tx = self.pool.begin().await.map_err(Postgres::db_err)?;
        Ok(Box::new(SqlTx::<Postgres>::new(tx)))
    }

    async fn read(&self) -> StoreResult<Box<dyn super::Tx>> {
        let tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(Postgres::db_err)?;
        Ok(Box::new(SqlTx::<Postgres>::new(tx)))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(Postgres::db_err)?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn grant_notifications(&self) -> StoreResult<Option<mpsc::Receiver<()>>> {
        let (tx, rx) = mpsc::channel(1);
        tokio::spawn(forward_notifications(self.pool.clone(), tx));
        Ok(Some(rx))
    }
}

/// Forwards the other processes' grant notifications to `tx` until its receiver is gone,
/// reconnecting after a lost connection; the periodic poll covers what is missed meanwhile.
async fn forward_notifications(pool: PgPool, tx: mpsc::Sender<()>) {
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen("guildhall_grants").await {
                    tracing::warn!(error = %e, "could not listen for grant changes");
                } else if !forward(&mut listener, &tx).await {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not connect to listen for grant changes")
            }
        }
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Forwards notifications until the connection fails (true: reconnect) or the receiver is gone
/// (false).
async fn forward(listener: &mut PgListener, tx: &mpsc::Sender<()>) -> bool {
    loop {
        match listener.recv().await {
            Ok(_) => {
                // A full channel already holds a wake-up: nothing lost.
                if let Err(mpsc::error::TrySendError::Closed(())) = tx.try_send(()) {
                    return false;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "grant notifications interrupted; reconnecting");
                return true;
            }
        }
    }
}
