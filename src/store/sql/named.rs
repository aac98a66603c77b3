//! What projects and groups share: both are named things of one organization, stored alike
//! (`id, org_id, name, name_key, created_at`, a unique `(org_id, name_key)`), found by id or
//! name, listed by name, renamed and deleted the same way. Written once here over [`Named`];
//! what only one of them has (project members, group members and group projects) lives in
//! `projects.rs` and `groups.rs`.

use super::{Backend, Row, SqlTx, query};
use crate::domain::ids::{GroupId, OrgId, ProjectId};
use crate::domain::model::{Group, Project};
use crate::store::{After, StoreResult};
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A named thing of one organization, stored in its own table.
pub(super) trait Named: Sized + Send + Sync {
    /// Its table.
    const TABLE: &'static str;
    /// Whether creating one changes who may reach what, so the commit bumps the revision.
    /// A project does: every organization-wide project permission reaches it at once. A new
    /// group does not: it has neither members nor projects until one is added, which does.
    const INSERT_CHANGES_GRANTS: bool;

    /// Builds one from its row.
    fn from_row(id: Uuid, org: OrgId, name: String, created_at: DateTime<Utc>) -> Self;
    /// Its id.
    fn id(&self) -> Uuid;
    /// Its organization.
    fn org(&self) -> OrgId;
    /// Its name as shown.
    fn name(&self) -> &str;
    /// When it was created.
    fn created_at(&self) -> DateTime<Utc>;
}

impl Named for Project {
    const TABLE: &'static str = "projects";
    const INSERT_CHANGES_GRANTS: bool = true;

    fn from_row(id: Uuid, org: OrgId, name: String, created_at: DateTime<Utc>) -> Self {
        Project {
            id: ProjectId(id),
            org,
            name,
            created_at,
        }
    }
    fn id(&self) -> Uuid {
        self.id.0
    }
    fn org(&self) -> OrgId {
        self.org
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

impl Named for Group {
    const TABLE: &'static str = "groups";
    const INSERT_CHANGES_GRANTS: bool = false;

    fn from_row(id: Uuid, org: OrgId, name: String, created_at: DateTime<Utc>) -> Self {
        Group {
            id: GroupId(id),
            org,
            name,
            created_at,
        }
    }
    fn id(&self) -> Uuid {
        self.id.0
    }
    fn org(&self) -> OrgId {
        self.org
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// The columns of a named thing aliased `n`, as [`named_from`] reads them.
pub(super) const NAMED_COLS: &str = "n.id, n.org_id, n.name, n.created_at";

/// The named thing in a row selected with [`NAMED_COLS`].
pub(super) fn named_from<DB: Backend, T: Named>(row: &Row<DB>) -> StoreResult<T> {
    Ok(T::from_row(
        row.get("id")?,
        OrgId(row.get("org_id")?),
        row.get("name")?,
        row.get("created_at")?,
    ))
}

pub(super) async fn insert<DB: Backend, T: Named>(
    tx: &mut SqlTx<DB>,
    item: &T,
    name_key: &str,
) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO {} (id, org_id, name, name_key, created_at) VALUES ($1, $2, $3, $4, $5)",
        T::TABLE
    );
    query(&sql)
        .bind(item.id())
        .bind(item.org().0)
        .bind(item.name())
        .bind(name_key)
        .bind(item.created_at())
        .execute(tx)
        .await?;
    if T::INSERT_CHANGES_GRANTS {
        tx.touch(item.org());
    }
    Ok(())
}

/// One of `org`'s, by id or by name (compared on its key, `names::name_key`).
pub(super) async fn by_ref<DB: Backend, T: Named>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    key: &str,
) -> StoreResult<Option<T>> {
    let sql = format!(
        "SELECT {NAMED_COLS} FROM {} n WHERE n.org_id = $1 AND (n.id = $2 OR n.name_key = $3)",
        T::TABLE
    );
    query(&sql)
        .bind(org.0)
        .bind(Uuid::parse_str(key).ok())
        .bind(crate::domain::names::name_key(key))
        .map_optional(tx, named_from)
        .await
}

pub(super) async fn name_taken<DB: Backend, T: Named>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    name_key: &str,
) -> StoreResult<bool> {
    let sql = format!(
        "SELECT 1 AS one FROM {} WHERE org_id = $1 AND name_key = $2",
        T::TABLE
    );
    let row = query(&sql)
        .bind(org.0)
        .bind(name_key)
        .fetch_optional(tx)
        .await?;
    Ok(row.is_some())
}

/// A page of `org`'s, by name.
pub(super) async fn page<DB: Backend, T: Named>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    after: Option<&After>,
    limit: u32,
) -> StoreResult<Vec<T>> {
    let sql = format!(
        "SELECT {NAMED_COLS} FROM {} n \
         WHERE n.org_id = $1 AND ($2 IS NULL OR (n.name_key, n.id) > ($2, $3)) \
         ORDER BY n.name_key, n.id LIMIT $4",
        T::TABLE
    );
    query(&sql)
        .bind(org.0)
        .bind(after.map(|a| a.key.clone()))
        .bind(after.map(|a| a.id))
        .bind(i64::from(limit))
        .map_all(tx, named_from)
        .await
}

pub(super) async fn rename<DB: Backend, T: Named>(
    tx: &mut SqlTx<DB>,
    item: &T,
    name_key: &str,
) -> StoreResult<()> {
    let sql = format!(
        "UPDATE {} SET name = $3, name_key = $4 WHERE org_id = $1 AND id = $2",
        T::TABLE
    );
    query(&sql)
        .bind(item.org().0)
        .bind(item.id())
        .bind(item.name())
        .bind(name_key)
        .execute(tx)
        .await?;
    tx.touch(item.org());
    Ok(())
}

/// Deletes one with everything that hangs off it (the foreign keys cascade).
pub(super) async fn delete<DB: Backend, T: Named>(
    tx: &mut SqlTx<DB>,
    org: OrgId,
    id: Uuid,
) -> StoreResult<()> {
    let sql = format!("DELETE FROM {} WHERE org_id = $1 AND id = $2", T::TABLE);
    query(&sql).bind(org.0).bind(id).execute(tx).await?;
    tx.touch(org);
    Ok(())
}
