//! Custom roles: list (with the built-in ones), create, edit, delete; and resolving role names
//! in requests.

use super::{Guildhall, OrgRef, Principal, Result, org_access};
use super::{Named, lost_race};
use crate::authz::preview::{RoleEditPreview, role_edit};
use crate::domain::audit::{Action, AuditEvent};
use crate::domain::error::Kind;
use crate::domain::ids::{OrgId, RoleId};
use crate::domain::names::{RoleName, name_key};
use crate::domain::permission::{BuiltinRole, PermSet, Permission};
use crate::domain::role::{AssignedRole, CustomRole};
use crate::domain::rules::{r6_custom_role_permissions, r6_edit_custom_role};
use crate::domain::{DomainError, FieldError};
use crate::ids::NewId as _;
use crate::store::Tx;
use serde_json::json;

/// Most custom roles one organization may have, so the list is always one page.
pub const MAX_CUSTOM_ROLES: usize = 100;

/// Every role of the organization: the built-in ones, then the custom ones by name
/// (`org.read`).
pub async fn list_roles(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
) -> Result<Vec<AssignedRole>> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access.actor.require(Permission::OrgRead)?;
    let custom = tx.custom_roles(access.org.org.id).await?;
    Ok(BuiltinRole::ALL
        .iter()
        .map(|b| AssignedRole::Builtin(*b))
        .chain(custom.into_iter().map(AssignedRole::Custom))
        .collect())
}

/// R6: creates a custom role (`roles.manage`; only permissions the caller holds, never the
/// owner's own).
pub async fn create_role(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    name: RoleName,
    permissions: PermSet,
) -> Result<CustomRole> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let org_id = access.org.org.id;
    r6_custom_role_permissions(&access.actor, permissions)?;
    let existing = tx.custom_roles(org_id).await?;
    if existing.iter().any(|r| name_key(&r.name) == name.key()) {
        return Err(DomainError::RoleNameTaken(name.as_str().to_owned()).into());
    }
    if existing.len() >= MAX_CUSTOM_ROLES {
        return Err(DomainError::invalid(
            "name",
            format!("an organization has at most {MAX_CUSTOM_ROLES} custom roles"),
        )
        .into());
    }
    let role = CustomRole {
        id: RoleId::new(),
        name: name.as_str().to_owned(),
        permissions,
    };
    tx.insert_custom_role(org_id, &role, &name.key(), now)
        .await
        .map_err(|e| lost_race(e, Named::Role(&role.name)))?;
    let event = AuditEvent::new(&who.actor(now), Action::RoleCreated, "role", role.id)
        .in_org(org_id)
        .named(role.name.as_str())
        .with_data(json!({ "name": role.name, "permissions": permissions.names() }));
    gh.commit(tx, vec![event]).await?;
    Ok(role)
}

/// What may change about a custom role.
#[derive(Debug, Default)]
pub struct RoleChange {
    /// A new name.
    pub name: Option<RoleName>,
    /// A new permission set.
    pub permissions: Option<PermSet>,
}

/// The role before and after an edit, refused exactly as the edit would be: `roles.manage`, a
/// free name, and R6 (only permissions the caller holds; widening a held role needs
/// `members.manage` too).
async fn plan_update(
    tx: &mut dyn Tx,
    access: &super::OrgAccess,
    role: &str,
    change: &RoleChange,
) -> Result<(CustomRole, CustomRole)> {
    let org_id = access.org.org.id;
    access.actor.require(Permission::RolesManage)?;
    let existing = tx.custom_roles(org_id).await?;
    let before = find_custom(&existing, role)?.clone();
    let mut after = before.clone();
    if let Some(name) = &change.name {
        let clash = existing
            .iter()
            .any(|r| r.id != before.id && name_key(&r.name) == name.key());
        if clash {
            return Err(DomainError::RoleNameTaken(name.as_str().to_owned()).into());
        }
        after.name = name.as_str().to_owned();
    }
    if let Some(p) = change.permissions {
        after.permissions = p;
    }
    let holders = if after.permissions.minus(before.permissions).is_empty() {
        0
    } else {
        tx.role_holders(org_id, before.id).await?
    };
    r6_edit_custom_role(
        &access.actor,
        before.permissions,
        after.permissions,
        holders,
    )?;
    Ok((before, after))
}

/// R6: edits a custom role (`roles.manage`; the new permissions only ones the caller holds).
/// Every holder's permissions change with it.
pub async fn update_role(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    role: &str,
    change: RoleChange,
) -> Result<CustomRole> {
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let org_id = access.org.org.id;
    let (before, after) = plan_update(&mut *tx, &access, role, &change).await?;
    if after == before {
        return Ok(after);
    }
    tx.update_custom_role(org_id, &after, &name_key(&after.name))
        .await
        .map_err(|e| lost_race(e, Named::Role(&after.name)))?;
    let event = AuditEvent::new(
        &who.actor(gh.clock.now()),
        Action::RoleUpdated,
        "role",
        after.id,
    )
    .in_org(org_id)
    .named(after.name.as_str())
    .with_data(json!({
        "before": { "name": before.name, "permissions": before.permissions.names() },
        "after": { "name": after.name, "permissions": after.permissions.names() },
    }));
    gh.commit(tx, vec![event]).await?;
    Ok(after)
}

/// What an edit of a custom role would do to the members who hold it, refused exactly when
/// the edit would be; changes nothing and writes no audit event (`PATCH …/roles/{role}?dry_run=true`).
pub async fn preview_role_update(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    role: &str,
    change: RoleChange,
) -> Result<(CustomRole, RoleEditPreview)> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    let (before, after) = plan_update(&mut *tx, &access, role, &change).await?;
    let holders = tx.role_holders_roles(access.org.org.id, before.id).await?;
    let preview = role_edit(&before, after.permissions, &holders);
    Ok((after, preview))
}

/// Deletes a custom role (`roles.manage`). A role still held is refused with the number of
/// holders: taking access away silently is a decision for the people who manage members.
pub async fn delete_role(gh: &Guildhall, who: &Principal, org: &OrgRef, role: &str) -> Result<()> {
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let org_id = access.org.org.id;
    access.actor.require(Permission::RolesManage)?;
    let existing = tx.custom_roles(org_id).await?;
    let target = find_custom(&existing, role)?.clone();
    let holders = tx.role_holders(org_id, target.id).await?;
    if holders > 0 {
        return Err(DomainError::RoleInUse {
            role: target.name,
            members: holders,
        }
        .into());
    }
    tx.delete_custom_role(org_id, target.id).await?;
    let event = AuditEvent::new(
        &who.actor(gh.clock.now()),
        Action::RoleDeleted,
        "role",
        target.id,
    )
    .in_org(org_id)
    .named(target.name.as_str())
    .with_data(json!({ "name": target.name, "permissions": target.permissions.names() }));
    gh.commit(tx, vec![event]).await?;
    Ok(())
}

/// Resolves role names from a request (built-in or the organization's custom roles, matched
/// case-insensitively), naming every unknown one. Duplicates collapse.
pub async fn resolve(tx: &mut dyn Tx, org: OrgId, names: &[String]) -> Result<Vec<AssignedRole>> {
    let custom = tx.custom_roles(org).await?;
    let mut roles: Vec<AssignedRole> = Vec::new();
    let mut unknown = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let role = match BuiltinRole::parse(name) {
            Some(b) => Some(AssignedRole::Builtin(b)),
            None => custom
                .iter()
                .find(|c| name_key(&c.name) == name_key(name))
                .cloned()
                .map(AssignedRole::Custom),
        };
        match role {
            Some(r) if !roles.iter().any(|x| x.same_role(&r)) => roles.push(r),
            Some(_) => {}
            None => unknown.push(FieldError::new(
                format!("roles[{i}]"),
                format!("unknown role `{name}`"),
            )),
        }
    }
    if unknown.is_empty() {
        Ok(roles)
    } else {
        Err(DomainError::Invalid(unknown).into())
    }
}

/// A custom role by id or name; built-in roles cannot be edited.
fn find_custom<'a>(roles: &'a [CustomRole], key: &str) -> Result<&'a CustomRole> {
    if BuiltinRole::parse(key).is_some() {
        return Err(DomainError::BuiltinRoleFixed(key.to_lowercase()).into());
    }
    let id = uuid::Uuid::parse_str(key).ok();
    roles
        .iter()
        .find(|r| Some(r.id.0) == id || name_key(&r.name) == name_key(key))
        .ok_or(DomainError::NotFound(Kind::Role).into())
}
