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

/// Tells the other `serve` processes, at commit, that the grant revision moved.
const NOTIFY: Option<&str> = Some("SELECT pg_notify('guildhall_grants', $1)");

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
                    Some("projects_name_uq") => Constraint::ProjectName,
                    Some("groups_name_uq") => Constraint::GroupName,
                    Some("member_roles_one_owner") => Constraint::OneOwner,
                    Some("memberships_pk") => Constraint::Membership,
                    Some("invitations_one_pending") => Constraint::InvitationPending,
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
super::billing::impl_billing_tx!(PgTx);

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
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
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

    async fn grant_notifications(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<()>>> {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let pool = self.pool.clone();
        tokio::spawn(async move {
            // Reconnects after a lost connection; the periodic poll covers what is missed meanwhile.
            loop {
                match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if let Err(e) = listener.listen("guildhall_grants").await {
                            tracing::warn!(error = %e, "could not listen for grant changes");
                        } else {
                            loop {
                                match listener.recv().await {
                                    Ok(_) => {
                                        // A full channel already holds a wake-up: nothing lost.
                                        if let Err(
                                            tokio::sync::mpsc::error::TrySendError::Closed(()),
                                        ) = tx.try_send(())
                                        {
                                            return;
                                        }
                                    }
                                    Err(e) => {
                                        tracing::warn!(error = %e, "grant notifications interrupted; reconnecting");
                                        break;
                                    }
                                }
                            }
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
        });
        Ok(Some(rx))
    }
}
