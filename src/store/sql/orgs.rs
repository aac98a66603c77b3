//! Organizations: their rows, their lock, and a user's list of them.

use super::members::{ROLE_JOIN, role_from};
use super::users::{USER_COLS, user_from};
use super::{Backend, Row, Sql, SqlTx, query};
use crate::domain::ids::{OrgId, UserId};
use crate::domain::model::{Org, OrgWithOwner};
use crate::domain::role::AssignedRole;
use crate::store::grants::ROLE_COLS;
use crate::store::{After, StoreResult};

/// An organization's columns from `orgs o`, as [`org_from`] reads them.
const ORG_COLS: &str = "o.id, o.name, o.slug, o.personal, o.created_at";

/// Joins an organization `o`'s owner as `u` (every organization has exactly one, R3).
const OWNER_JOIN: &str = "JOIN member_roles omr ON omr.org_id = o.id AND omr.builtin = 'owner' \
                          JOIN users u ON u.id = omr.user_id";

fn org_from<DB: Backend>(row: &Row<DB>) -> StoreResult<Org> {
    Ok(Org {
        id: OrgId(row.get("id")?),
        name: row.get("name")?,
        slug: row.get("slug")?,
        personal: row.get("personal")?,
        created_at: row.get("created_at")?,
    })
}

fn with_owner<DB: Backend>(row: &Row<DB>) -> StoreResult<OrgWithOwner> {
    Ok(OrgWithOwner {
        org: org_from(row)?,
        owner: user_from(row)?,
    })
}

/// The insert of an organization, as `insert` and `insert_unless_taken` bind it.
const INSERT_ORG: &str = "INSERT INTO orgs (id, name, name_key, slug, personal, created_at) \
                          VALUES ($1, $2, $3, $4, $5, $6)";

fn insert_org<'q, DB: Backend>(sql: &'q str, org: &'q Org, name_key: &'q str) -> Sql<'q, DB> {
    query(sql)
        .bind(org.id.0)
        .bind(org.name.as_str())
        .bind(name_key)
        .bind(org.slug.as_str())
        .bind(org.personal)
        .bind(org.created_at)
}

pub(super) async fn insert<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: &Org,
    name_key: &str,
) -> StoreResult<()> {
    insert_org(INSERT_ORG, org, name_key).execute(tx).await?;
    Ok(())
}

/// `ON CONFLICT DO NOTHING` (no target: any unique key, the name's and the slug's here) waits,
/// on PostgreSQL, for a concurrent transaction holding the same key and then does nothing if
/// it committed, so a lost race is a `false` and not an aborted transaction.
pub(super) async fn insert_unless_taken<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: &Org,
    name_key: &str,
) -> StoreResult<bool> {
    let sql = format!("{INSERT_ORG} ON CONFLICT DO NOTHING");
    let inserted = insert_org(&sql, org, name_key).execute(tx).await?;
    Ok(inserted > 0)
}

pub(super) async fn by_id<DB: Backend>(
    tx: &mut SqlTx<DB>,
    id: OrgId,
) -> StoreResult<Option<OrgWithOwner>> {
    let sql = format!("SELECT {ORG_COLS}, {USER_COLS} FROM orgs o {OWNER_JOIN} WHERE o.id = $1");
    query(&sql).bind(id.0).map_optional(tx, with_owner).await
}

pub(super) async fn name_taken<DB: Backend>(
    tx: &mut SqlTx<DB>,
    name_key: &str,
) -> StoreResult<bool> {
    let row = query("SELECT 1 AS one FROM orgs WHERE name_key = $1")
        .bind(name_key)
        .fetch_optional(tx)
        .await?;
    Ok(row.is_some())
}

pub(super) async fn id_by_slug<DB: Backend>(
    tx: &mut SqlTx<DB>,
    slug: &str,
) -> StoreResult<Option<OrgId>> {
    query("SELECT id FROM orgs WHERE slug = $1")
        .bind(slug)
        .map_optional(tx, |r| r.get("id").map(OrgId))
        .await
}

pub(super) async fn lock<DB: Backend>(tx: &mut SqlTx<DB>, id: OrgId) -> StoreResult<bool> {
    let row = query(DB::LOCK_ORG).bind(id.0).fetch_optional(tx).await?;
    Ok(row.is_some())
}

pub(super) async fn update<DB: Backend>(
    tx: &mut SqlTx<DB>,
    org: &Org,
    name_key: &str,
) -> StoreResult<()> {
    query("UPDATE orgs SET name = $2, name_key = $3, slug = $4 WHERE id = $1")
        .bind(org.id.0)
        .bind(&org.name)
        .bind(name_key)
        .bind(&org.slug)
        .execute(tx)
        .await?;
    Ok(())
}

pub(super) async fn delete<DB: Backend>(tx: &mut SqlTx<DB>, id: OrgId) -> StoreResult<()> {
    tx.touch(id);
    // Roles first: they reference both memberships and custom roles.
    for sql in [
        "DELETE FROM member_roles WHERE org_id = $1",
        "DELETE FROM orgs WHERE id = $1",
    ] {
        query(sql).bind(id.0).execute(tx).await?;
    }
    Ok(())
}

pub(super) async fn of_user<DB: Backend>(
    tx: &mut SqlTx<DB>,
    user: UserId,
    key_contains: Option<&str>,
    after: Option<&After>,
    limit: u32,
) -> StoreResult<Vec<(OrgWithOwner, Vec<AssignedRole>)>> {
    let pattern = key_contains.map(|q| {
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    // The page of organizations first, then their owners and the user's roles in each.
    let sql = format!(
        "WITH page AS ( \
           SELECT {ORG_COLS}, o.name_key \
           FROM memberships m JOIN orgs o ON o.id = m.org_id \
           WHERE m.user_id = $1 \
             AND ($2 IS NULL OR o.name_key LIKE $2 ESCAPE '\\') \
             AND ($3 IS NULL OR (o.name_key, o.id) > ($3, $4)) \
           ORDER BY o.name_key, o.id LIMIT $5) \
         SELECT {ORG_COLS}, {USER_COLS}, {ROLE_COLS} \
         FROM page o {OWNER_JOIN} \
         JOIN member_roles mr ON mr.org_id = o.id AND mr.user_id = $1 {ROLE_JOIN} \
         ORDER BY o.name_key, o.id"
    );
    let rows = query(&sql)
        .bind(user.0)
        .bind(pattern)
        .bind(after.map(|a| a.key.clone()))
        .bind(after.map(|a| a.id))
        .bind(i64::from(limit))
        .fetch_all(tx)
        .await?;
    let mut out: Vec<(OrgWithOwner, Vec<AssignedRole>)> = Vec::new();
    for r in &rows {
        let id = OrgId(r.get("id")?);
        if out.last().is_none_or(|(o, _)| o.org.id != id) {
            out.push((with_owner(r)?, Vec::new()));
        }
        if let (Some(role), Some((_, roles))) = (role_from(r)?, out.last_mut()) {
            roles.push(role);
        }
    }
    Ok(out)
}
