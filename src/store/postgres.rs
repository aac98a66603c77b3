//! The production store: PostgreSQL. Every organization mutation locks the organization's row
//! first (`SELECT … FOR UPDATE`), so concurrent changes to one organization, from this process or
//! another `serve` on the same database, run one after the other.

use super::{Constraint, Store, StoreError, StoreResult};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};
use std::str::FromStr;
use std::time::Duration;

const LOCK_ORG: &str = "SELECT id FROM orgs WHERE id = $1 FOR UPDATE";

/// Maps PostgreSQL's errors onto the store's, by constraint name.
fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        match db.code().as_deref() {
            Some("23505") => {
                let which = match db.constraint() {
                    Some("orgs_name_key_uq") => Constraint::OrgName,
                    Some("orgs_slug_uq") => Constraint::OrgSlug,
                    Some("users_email_key_uq") => Constraint::UserEmail,
                    Some("custom_roles_name_uq") => Constraint::RoleName,
                    Some("member_roles_one_owner") => Constraint::OneOwner,
                    Some("memberships_pk") => Constraint::Membership,
                    _ => Constraint::Other,
                };
                return StoreError::Conflict(which);
            }
            Some("23503") => return StoreError::Conflict(Constraint::ForeignKey),
            // Serialization failure and deadlock: the caller may retry.
            Some("40001") | Some("40P01") => return StoreError::Busy,
            _ => {}
        }
    }
    StoreError::Db(e)
}

super::sql::impl_tx!(PgTx, Postgres);

/// The PostgreSQL store.
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` and applies the migrations.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(StoreError::Db)?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(StoreError::Db)?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Store for PgStore {
    async fn begin(&self) -> StoreResult<Box<dyn super::Tx>> {
        let tx = self.pool.begin().await.map_err(db_err)?;
        Ok(Box::new(PgTx::new(tx)))
    }

    async fn read(&self) -> StoreResult<Box<dyn super::Tx>> {
        let tx = self
            .pool
            .begin_with("BEGIN READ ONLY")
            .await
            .map_err(db_err)?;
        Ok(Box::new(PgTx::new(tx)))
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}
