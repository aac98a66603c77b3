//! R3, R4 and R6 on organization roles, as the model decides them: who may give, take away or
//! hold which role (built-in or custom), as SPEC §3-§4 state it and the doc comments of
//! `domain::rules` order it (which refusal comes first, which code it gets). Pure functions of
//! an [`Acting`] member and the roles at stake; both suites decide their member operations
//! with them.

use super::catalog::{Builtin, Perms, owner_only};
use super::org::{Acting, Role};
use super::refusal::{
    INVALID, NOT_GRANTABLE, NOT_HELD, OWN_ROLES, OWNER_CANNOT_LEAVE, OWNER_IS_FIXED,
    OWNER_NEEDS_TRANSFER, Refusal,
};

/// R6 for one role given or taken: `owner` only by transfer; without `members.manage` only
/// `member`; `admin` only by the owner or an admin; `billing` only by the owner; anything only
/// if the actor holds every permission it carries.
pub fn may_grant(actor: &Acting, role: Role, role_perms: Perms) -> Result<(), Refusal> {
    if role == Role::Builtin(Builtin::Owner) {
        return Err(OWNER_NEEDS_TRANSFER);
    }
    if !actor.perms.has("members.manage") && role != Role::Builtin(Builtin::Member) {
        return Err(NOT_GRANTABLE);
    }
    if role == Role::Builtin(Builtin::Admin)
        && !(actor.holds(Builtin::Owner) || actor.holds(Builtin::Admin))
    {
        return Err(NOT_GRANTABLE);
    }
    if role == Role::Builtin(Builtin::Billing) && !actor.holds(Builtin::Owner) {
        return Err(NOT_GRANTABLE);
    }
    if !actor.perms.contains(role_perms) {
        return Err(NOT_GRANTABLE);
    }
    Ok(())
}

/// R3, R6: a role change of `target` (holding `target_roles`) to `requested`. Returns the roles
/// added (in request order) and removed (in held order).
pub fn change_roles(
    actor: &Acting,
    target: usize,
    target_roles: &[Role],
    requested: &[Role],
    perms_of: &dyn Fn(Role) -> Perms,
) -> Result<(Vec<Role>, Vec<Role>), Refusal> {
    actor.require("members.manage")?;
    if actor.user == target {
        return Err(OWN_ROLES);
    }
    if target_roles.contains(&Role::Builtin(Builtin::Owner)) {
        return Err(OWNER_IS_FIXED);
    }
    if requested.is_empty() {
        return Err(INVALID);
    }
    let mut added = Vec::new();
    for r in requested {
        if !target_roles.contains(r) && !added.contains(r) {
            added.push(*r);
        }
    }
    let mut removed = Vec::new();
    for r in target_roles {
        if !requested.contains(r) && !removed.contains(r) {
            removed.push(*r);
        }
    }
    for r in added.iter().chain(&removed) {
        may_grant(actor, *r, perms_of(*r))?;
    }
    Ok((added, removed))
}

/// R3, R6: removing `target`: only someone who could take away each of their roles; never
/// oneself (that is leaving), never the owner.
pub fn remove_member(
    actor: &Acting,
    target: usize,
    target_roles: &[Role],
    perms_of: &dyn Fn(Role) -> Perms,
) -> Result<(), Refusal> {
    actor.require("members.manage")?;
    if actor.user == target {
        return Err(OWN_ROLES);
    }
    if target_roles.contains(&Role::Builtin(Builtin::Owner)) {
        return Err(OWNER_IS_FIXED);
    }
    for r in target_roles {
        may_grant(actor, *r, perms_of(*r))?;
    }
    Ok(())
}

/// R6: adding a registered user with `roles`: `members.invite`, and each role grantable.
pub fn add_member(
    actor: &Acting,
    roles: &[Role],
    perms_of: &dyn Fn(Role) -> Perms,
) -> Result<(), Refusal> {
    actor.require("members.invite")?;
    if roles.is_empty() {
        return Err(INVALID);
    }
    for r in roles {
        may_grant(actor, *r, perms_of(*r))?;
    }
    Ok(())
}

/// R6 for custom roles: `roles.manage`; never the owner's own permissions (400); only
/// permissions the actor holds (403).
pub fn custom_role_perms(actor: &Acting, perms: Perms) -> Result<(), Refusal> {
    actor.require("roles.manage")?;
    if !perms.intersect(owner_only()).is_empty() {
        return Err(INVALID);
    }
    if !actor.perms.contains(perms) {
        return Err(NOT_HELD);
    }
    Ok(())
}

/// R4: the owner cannot leave (transfer first); anyone else can, whatever they hold.
pub fn leave(actor: &Acting) -> Result<(), Refusal> {
    if actor.holds(Builtin::Owner) {
        return Err(OWNER_CANNOT_LEAVE);
    }
    Ok(())
}
