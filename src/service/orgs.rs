//! Organizations: list mine, create, read, rename and re-slug, delete (R5), leave (R4).

use super::{Guildhall, OrgAccess, OrgRef, Page, Principal, Result, after, org_access};
use super::{Named, lost_race};
use crate::domain::DomainError;
use crate::domain::audit::{Action, AuditEvent};
use crate::domain::ids::OrgId;
use crate::domain::model::{Org, OrgWithOwner};
use crate::domain::names::{OrgName, Slug, name_key};
use crate::domain::permission::{BuiltinRole, Permission};
use crate::domain::role::AssignedRole;
use crate::domain::rules::{MemberFacts, r4_leave, r5_delete_org, r6_create_org};
use crate::ids::NewId as _;
use crate::store::{After, Tx};
use serde_json::json;

/// An organization with the caller's roles in it.
pub type MyOrg = (OrgWithOwner, Vec<AssignedRole>);

/// The organizations the caller belongs to, by name; `q` keeps those whose name contains it
/// (compared on keys, as R1 compares names: `café`, `CAFÉ` and `ｃａｆé` find `Café`). A token limited to one organization sees only that one.
pub async fn list_my_orgs(
    gh: &Guildhall,
    who: &Principal,
    q: Option<&str>,
    from: Option<&After>,
    limit: u32,
) -> Result<Page<MyOrg, After>> {
    let mut tx = gh.store.read().await?;
    let q = q.map(str::trim).filter(|q| !q.is_empty());
    let rows = match who.token().and_then(|t| t.org) {
        Some(only) => {
            let access = org_access(&mut *tx, who, &OrgRef::Id(only), false).await?;
            let key = name_key(&access.org.org.name);
            let matches = q.is_none_or(|q| key.contains(&name_key(q)))
                && from.is_none_or(|a| (key.as_str(), only.0) > (a.key.as_str(), a.id));
            if matches {
                vec![(access.org, access.actor.member.roles)]
            } else {
                Vec::new()
            }
        }
        None => {
            let key = q.map(name_key);
            tx.orgs_of(who.user.id, key.as_deref(), from, limit + 1)
                .await?
        }
    };
    Ok(Page::from_rows(rows, limit, |(o, _)| {
        after(name_key(&o.org.name), o.org.id.0)
    }))
}

/// Creates an organization owned by the caller. The slug is derived from the name unless given.
pub async fn create_org(
    gh: &Guildhall,
    who: &Principal,
    name: OrgName,
    slug: Option<Slug>,
) -> Result<MyOrg> {
    r6_create_org(who.token().is_some_and(|t| t.org.is_some()))?;
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    if tx.org_name_taken(&name.key()).await? {
        return Err(DomainError::OrgNameTaken(name.as_str().to_owned()).into());
    }
    let id = OrgId::new();
    let slug = match slug {
        Some(s) if tx.slug_taken(s.as_str()).await? => {
            return Err(DomainError::SlugTaken(s.as_str().to_owned()).into());
        }
        Some(s) => s,
        None => {
            let derived = Slug::derive(name.as_str());
            free_slug(&mut *tx, &derived.candidates(id.0))
                .await?
                .ok_or_else(|| DomainError::SlugTaken(derived.as_str().to_owned()))?
        }
    };
    let org = Org {
        id,
        name: name.as_str().to_owned(),
        slug: slug.as_str().to_owned(),
        personal: false,
        created_at: now,
    };
    let roles = vec![AssignedRole::Builtin(BuiltinRole::Owner)];
    tx.insert_org(&org, &name.key()).await.map_err(|e| {
        lost_race(
            e,
            Named::Org {
                name: &org.name,
                slug: &org.slug,
            },
        )
    })?;
    tx.insert_member(org.id, who.user.id, &roles, now).await?;
    let event = AuditEvent::new(&who.actor(now), Action::OrgCreated, "org", org.id)
        .in_org(org.id)
        .named(&org.name)
        .with_data(json!({ "name": org.name, "slug": org.slug, "personal": false }));
    gh.commit(tx, vec![event]).await.map_err(|e| {
        lost_race(
            e,
            Named::Org {
                name: &org.name,
                slug: &org.slug,
            },
        )
    })?;
    let owner = who.user.clone();
    Ok((OrgWithOwner { org, owner }, roles))
}

/// Reads an organization (`org.read`).
pub async fn get_org(gh: &Guildhall, who: &Principal, org: &OrgRef) -> Result<OrgAccess> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access.actor.require(Permission::OrgRead)?;
    Ok(access)
}

/// What may change about an organization.
#[derive(Debug, Default)]
pub struct OrgChange {
    /// A new name (R1).
    pub name: Option<OrgName>,
    /// A new slug (R1).
    pub slug: Option<Slug>,
}

/// Renames and/or re-slugs an organization (`org.update`).
pub async fn update_org(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    change: OrgChange,
) -> Result<OrgAccess> {
    if change.name.is_none() && change.slug.is_none() {
        return Err(DomainError::invalid("name", "give a new `name` or `slug`").into());
    }
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let mut access = org_access(&mut *tx, who, org, true).await?;
    access.actor.require(Permission::OrgUpdate)?;
    let actor = who.actor(now);
    let before = access.org.org.clone();
    let mut events = Vec::new();
    if let Some(name) = change.name.filter(|n| n.as_str() != before.name) {
        if name.key() != name_key(&before.name) && tx.org_name_taken(&name.key()).await? {
            return Err(DomainError::OrgNameTaken(name.as_str().to_owned()).into());
        }
        access.org.org.name = name.as_str().to_owned();
        events.push(
            AuditEvent::new(&actor, Action::OrgRenamed, "org", before.id)
                .in_org(before.id)
                .named(name.as_str())
                .with_data(json!({ "before": before.name, "after": name.as_str() })),
        );
    }
    if let Some(slug) = change.slug.filter(|s| s.as_str() != before.slug) {
        if tx.slug_taken(slug.as_str()).await? {
            return Err(DomainError::SlugTaken(slug.as_str().to_owned()).into());
        }
        access.org.org.slug = slug.as_str().to_owned();
        events.push(
            AuditEvent::new(&actor, Action::OrgSlugChanged, "org", before.id)
                .in_org(before.id)
                .named(&before.name)
                .with_data(json!({ "before": before.slug, "after": slug.as_str() })),
        );
    }
    if events.is_empty() {
        // Nothing changes, so nothing is written or recorded.
        return Ok(access);
    }
    let key = name_key(&access.org.org.name);
    tx.update_org(&access.org.org, &key).await.map_err(|e| {
        lost_race(
            e,
            Named::Org {
                name: &access.org.org.name,
                slug: &access.org.org.slug,
            },
        )
    })?;
    gh.commit(tx, events).await.map_err(|e| {
        lost_race(
            e,
            Named::Org {
                name: &access.org.org.name,
                slug: &access.org.org.slug,
            },
        )
    })?;
    Ok(access)
}

/// R5: deletes an organization: the owner only, never a personal one, and only with no project
/// left.
pub async fn delete_org(gh: &Guildhall, who: &Principal, org: &OrgRef) -> Result<()> {
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let projects_left = tx.count_projects(access.org.org.id).await?;
    r5_delete_org(&access.actor, access.org.org.personal, projects_left)?;
    let o = &access.org.org;
    tx.delete_org(o.id).await?;
    let event = AuditEvent::new(&who.actor(gh.clock.now()), Action::OrgDeleted, "org", o.id)
        .in_org(o.id)
        .named(&o.name)
        .with_data(json!({ "name": o.name, "slug": o.slug }));
    gh.commit(tx, vec![event]).await?;
    Ok(())
}

/// R4: the caller leaves: every role, group place and project role goes at once. The owner
/// cannot leave.
pub async fn leave_org(gh: &Guildhall, who: &Principal, org: &OrgRef) -> Result<()> {
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let me = MemberFacts {
        user: who.user.id,
        roles: access.actor.member.roles.clone(),
    };
    r4_leave(&me, access.org.org.personal)?;
    let id = access.org.org.id;
    tx.delete_member(id, who.user.id).await?;
    let event = AuditEvent::new(
        &who.actor(gh.clock.now()),
        Action::MemberLeft,
        "member",
        who.user.id,
    )
    .in_org(id)
    .with_data(json!({ "roles": names(&me.roles) }));
    gh.commit(tx, vec![event]).await?;
    Ok(())
}

/// R1: the first of `candidates` no organization has as its slug, at one read each; `None`
/// when all are taken.
pub(super) async fn free_slug(tx: &mut dyn Tx, candidates: &[Slug]) -> Result<Option<Slug>> {
    for slug in candidates {
        if !tx.slug_taken(slug.as_str()).await? {
            return Ok(Some(slug.clone()));
        }
    }
    Ok(None)
}

/// R1: the first of `candidates` no organization is named (case-insensitively), at one read
/// each; `None` when all are taken.
pub(super) async fn free_name(tx: &mut dyn Tx, candidates: &[OrgName]) -> Result<Option<OrgName>> {
    for name in candidates {
        if !tx.org_name_taken(&name.key()).await? {
            return Ok(Some(name.clone()));
        }
    }
    Ok(None)
}

/// The wire names of roles, for answers and audit data.
pub fn names(roles: &[AssignedRole]) -> Vec<String> {
    roles.iter().map(|r| r.name().to_owned()).collect()
}
