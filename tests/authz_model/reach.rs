//! The authorization suite's requests (projects, groups, group places, group and direct project
//! roles, and the owner's role changes, removals and leaves) and what the server must decide of
//! each, written from SPEC §1-§4 (R4, R6, R11, R12) with no code of the server's. The state they
//! act on, and who reaches what in it, is the shared [`Org`]; the member operations are decided
//! by the shared R6 rules on roles ([`grants`]), as in the rules suite.

use crate::model::grants;
use crate::model::org::{Group, Org};
use crate::model::refusal::{
    ALREADY_MEMBER, FORBIDDEN, GROUP_NAME_TAKEN, GROUP_NOT_FOUND, MEMBER_NOT_FOUND, NOT_GRANTABLE,
    ORG_NOT_FOUND, OWN_ROLES, PROJECT_NAME_TAKEN, PROJECT_NOT_FOUND,
};
use crate::model::{PRole, Refusal, Role};

/// The custom roles a case may create (SPEC §3: custom roles mix permissions freely): one that
/// only sees projects, one that only manages groups, one that deploys, one that creates.
pub const CUSTOM: [(&str, &[&str]); 4] = [
    ("Readers", &["projects.read"]),
    ("Groupers", &["org.read", "groups.manage"]),
    ("Deployers", &["projects.deploy"]),
    ("Creators", &["org.read", "projects.create"]),
];

/// A request, concretized: projects and groups as named in the path (name, any letter case, or
/// id); users as indices (index `USERS` of the server side is an id nobody has).
#[derive(Clone, Debug)]
pub enum Request {
    CreateProject {
        actor: usize,
        name: String,
    },
    DeleteProject {
        actor: usize,
        project: String,
    },
    SetDirect {
        actor: usize,
        project: String,
        target: usize,
        role: PRole,
    },
    RemoveDirect {
        actor: usize,
        project: String,
        target: usize,
    },
    CreateGroup {
        actor: usize,
        name: String,
    },
    DeleteGroup {
        actor: usize,
        group: String,
    },
    PutGroupMember {
        actor: usize,
        group: String,
        target: usize,
    },
    RemoveGroupMember {
        actor: usize,
        group: String,
        target: usize,
    },
    PutGroupProject {
        actor: usize,
        group: String,
        project: String,
        role: PRole,
    },
    RemoveGroupProject {
        actor: usize,
        group: String,
        project: String,
    },
    /// As the owner.
    SetRoles {
        target: usize,
        roles: Vec<String>,
    },
    /// As the owner.
    Add {
        target: usize,
        roles: Vec<String>,
    },
    /// As the owner.
    Remove {
        target: usize,
    },
    Leave {
        actor: usize,
    },
}

impl Request {
    pub fn actor(&self, owner: usize) -> usize {
        use Request::*;
        match self {
            CreateProject { actor, .. }
            | DeleteProject { actor, .. }
            | SetDirect { actor, .. }
            | RemoveDirect { actor, .. }
            | CreateGroup { actor, .. }
            | DeleteGroup { actor, .. }
            | PutGroupMember { actor, .. }
            | RemoveGroupMember { actor, .. }
            | PutGroupProject { actor, .. }
            | RemoveGroupProject { actor, .. }
            | Leave { actor } => *actor,
            SetRoles { .. } | Add { .. } | Remove { .. } => owner,
        }
    }

    pub fn kind(&self) -> &'static str {
        use Request::*;
        match self {
            CreateProject { .. } => "create_project",
            DeleteProject { .. } => "delete_project",
            SetDirect { .. } => "set_direct",
            RemoveDirect { .. } => "remove_direct",
            CreateGroup { .. } => "create_group",
            DeleteGroup { .. } => "delete_group",
            PutGroupMember { .. } => "put_group_member",
            RemoveGroupMember { .. } => "remove_group_member",
            PutGroupProject { .. } => "put_group_project",
            RemoveGroupProject { .. } => "remove_group_project",
            SetRoles { .. } => "set_roles",
            Add { .. } => "add",
            Remove { .. } => "remove",
            Leave { .. } => "leave",
        }
    }
}

/// What an accepted request changes.
#[derive(Clone, Debug)]
pub enum Change {
    /// The project's id comes from the server's answer.
    CreateProject {
        by: usize,
        name: String,
    },
    DeleteProject {
        id: String,
    },
    SetDirect {
        project: String,
        target: usize,
        role: PRole,
    },
    RemoveDirect {
        project: String,
        target: usize,
    },
    CreateGroup {
        name: String,
    },
    DeleteGroup {
        key: String,
    },
    PutGroupMember {
        key: String,
        target: usize,
    },
    RemoveGroupMember {
        key: String,
        target: usize,
    },
    PutGroupProject {
        key: String,
        project: String,
        role: PRole,
    },
    RemoveGroupProject {
        key: String,
        project: String,
    },
    SetRoles {
        target: usize,
        roles: Vec<Role>,
    },
    Add {
        target: usize,
        roles: Vec<Role>,
    },
    /// Removal or leave (R4).
    Drop {
        target: usize,
    },
}

/// An accepted request: its status and change.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub status: u16,
    pub change: Change,
}

/// The caller's role on a project they reach, or the 404 everyone else gets (R11, R12).
fn reached(m: &Org, actor: usize, reference: &str) -> Result<(String, PRole), Refusal> {
    let id = m.find_project(reference).ok_or(PROJECT_NOT_FOUND)?;
    let mine = m.role_on(actor, &id).ok_or(PROJECT_NOT_FOUND)?;
    Ok((id, mine))
}

/// R6 for a project role given or taken directly: `projects.manage` or `admin` on that
/// project, and never a role above one's own there.
fn may_grant_direct(m: &Org, actor: usize, mine: PRole, roles: &[PRole]) -> Result<(), Refusal> {
    if !m.member_perms(actor).has("projects.manage") && mine != PRole::Admin {
        return Err(FORBIDDEN);
    }
    if roles.iter().any(|r| *r > mine) {
        return Err(NOT_GRANTABLE);
    }
    Ok(())
}

/// R6 for a group: whoever changes who is in it, or deletes it, could give each of its
/// project roles themselves.
fn may_carry(m: &Org, actor: usize, key: &str) -> Result<(), Refusal> {
    for (project, role) in &m.groups[key].projects {
        if m.role_on(actor, project).is_none_or(|mine| *role > mine) {
            return Err(NOT_GRANTABLE);
        }
    }
    Ok(())
}

fn group_op(m: &Org, actor: usize, group: &str) -> Result<String, Refusal> {
    if !m.member_perms(actor).has("groups.manage") {
        return Err(FORBIDDEN);
    }
    m.find_group(group).ok_or(GROUP_NOT_FOUND)
}

/// What the server must answer, in the order a careful server checks: the organization
/// exists for members only (R12), then the permission, then the target, then R6.
pub fn decide(m: &Org, req: &Request) -> Result<Accepted, Refusal> {
    use Request as R;
    let actor = req.actor(m.owner);
    if !m.is_member(actor) {
        return Err(ORG_NOT_FOUND);
    }
    let ok = |status, change| Ok(Accepted { status, change });
    let perms_of = |r: Role| m.perms_of(r);
    match req {
        R::CreateProject { name, .. } => {
            if !m.member_perms(actor).has("projects.create") {
                return Err(FORBIDDEN);
            }
            let key = name.to_lowercase();
            if m.projects.values().any(|p| p.name.to_lowercase() == key) {
                return Err(PROJECT_NAME_TAKEN);
            }
            ok(
                201,
                Change::CreateProject {
                    by: actor,
                    name: name.clone(),
                },
            )
        }
        R::DeleteProject { project, .. } => {
            let (id, mine) = reached(m, actor, project)?;
            if !mine.allows("project.delete") {
                return Err(FORBIDDEN);
            }
            ok(204, Change::DeleteProject { id })
        }
        R::SetDirect {
            project,
            target,
            role,
            ..
        } => {
            let (id, mine) = reached(m, actor, project)?;
            if !m.is_member(*target) {
                return Err(MEMBER_NOT_FOUND);
            }
            // R6: nobody gives themselves a project role.
            if *target == actor {
                return Err(OWN_ROLES);
            }
            let before = m.direct.get(&(id.clone(), *target)).copied();
            let mut roles = vec![*role];
            roles.extend(before);
            may_grant_direct(m, actor, mine, &roles)?;
            ok(
                200,
                Change::SetDirect {
                    project: id,
                    target: *target,
                    role: *role,
                },
            )
        }
        R::RemoveDirect {
            project, target, ..
        } => {
            let (id, mine) = reached(m, actor, project)?;
            let before = m
                .direct
                .get(&(id.clone(), *target))
                .ok_or(MEMBER_NOT_FOUND)?;
            may_grant_direct(m, actor, mine, &[*before])?;
            ok(
                204,
                Change::RemoveDirect {
                    project: id,
                    target: *target,
                },
            )
        }
        R::CreateGroup { name, .. } => {
            if !m.member_perms(actor).has("groups.manage") {
                return Err(FORBIDDEN);
            }
            if m.groups.contains_key(&name.to_lowercase()) {
                return Err(GROUP_NAME_TAKEN);
            }
            ok(201, Change::CreateGroup { name: name.clone() })
        }
        R::DeleteGroup { group, .. } => {
            let key = group_op(m, actor, group)?;
            may_carry(m, actor, &key)?;
            ok(204, Change::DeleteGroup { key })
        }
        R::PutGroupMember { group, target, .. } => {
            let key = group_op(m, actor, group)?;
            if !m.is_member(*target) {
                return Err(MEMBER_NOT_FOUND);
            }
            // R6: nobody puts themselves in a group (it would give them its project roles).
            if *target == actor {
                return Err(OWN_ROLES);
            }
            may_carry(m, actor, &key)?;
            ok(
                200,
                Change::PutGroupMember {
                    key,
                    target: *target,
                },
            )
        }
        R::RemoveGroupMember { group, target, .. } => {
            let key = group_op(m, actor, group)?;
            if !m.is_member(*target) {
                return Err(MEMBER_NOT_FOUND);
            }
            may_carry(m, actor, &key)?;
            if !m.groups[&key].members.contains(target) {
                return Err(MEMBER_NOT_FOUND);
            }
            ok(
                204,
                Change::RemoveGroupMember {
                    key,
                    target: *target,
                },
            )
        }
        R::PutGroupProject {
            group,
            project,
            role,
            ..
        } => {
            let key = group_op(m, actor, group)?;
            let (id, mine) = reached(m, actor, project)?;
            let before = m.groups[&key].projects.get(&id).copied();
            if *role > mine || before.is_some_and(|b| b > mine) {
                return Err(NOT_GRANTABLE);
            }
            ok(
                200,
                Change::PutGroupProject {
                    key,
                    project: id,
                    role: *role,
                },
            )
        }
        R::RemoveGroupProject { group, project, .. } => {
            let key = group_op(m, actor, group)?;
            let (id, mine) = reached(m, actor, project)?;
            let before = m.groups[&key].projects.get(&id).ok_or(PROJECT_NOT_FOUND)?;
            if *before > mine {
                return Err(NOT_GRANTABLE);
            }
            ok(204, Change::RemoveGroupProject { key, project: id })
        }
        // The member operations, as the rules suite decides them (R3, R4, R6), by the owner.
        R::SetRoles { target, roles } => {
            let a = m.acting(actor, None)?;
            a.require("members.manage")?;
            let target_roles = m.members.get(target).ok_or(MEMBER_NOT_FOUND)?;
            let roles = m.resolve(roles)?;
            grants::change_roles(&a, *target, target_roles, &roles, &perms_of)?;
            ok(
                200,
                Change::SetRoles {
                    target: *target,
                    roles,
                },
            )
        }
        R::Add { target, roles } => {
            let a = m.acting(actor, None)?;
            a.require("members.invite")?;
            let roles = m.resolve(roles)?;
            grants::add_member(&a, &roles, &perms_of)?;
            if m.is_member(*target) {
                return Err(ALREADY_MEMBER);
            }
            ok(
                201,
                Change::Add {
                    target: *target,
                    roles,
                },
            )
        }
        R::Remove { target } => {
            let a = m.acting(actor, None)?;
            a.require("members.manage")?;
            let target_roles = m.members.get(target).ok_or(MEMBER_NOT_FOUND)?;
            grants::remove_member(&a, *target, target_roles, &perms_of)?;
            ok(204, Change::Drop { target: *target })
        }
        R::Leave { .. } => {
            grants::leave(&m.acting(actor, None)?)?;
            ok(204, Change::Drop { target: actor })
        }
    }
}

/// Applies an accepted change; `new_id` is the id the server gave a new project.
pub fn apply(m: &mut Org, change: Change, new_id: &str) {
    match change {
        Change::CreateProject { by, name } => m.create_project(new_id, name, by),
        Change::DeleteProject { id } => m.delete_project(&id),
        Change::SetDirect {
            project,
            target,
            role,
        } => {
            m.direct.insert((project, target), role);
        }
        Change::RemoveDirect { project, target } => {
            m.direct.remove(&(project, target));
        }
        Change::CreateGroup { name } => {
            m.groups.insert(
                name.to_lowercase(),
                Group {
                    name,
                    ..Group::default()
                },
            );
        }
        Change::DeleteGroup { key } => {
            m.groups.remove(&key);
        }
        Change::PutGroupMember { key, target } => {
            m.groups
                .get_mut(&key)
                .expect("group")
                .members
                .insert(target);
        }
        Change::RemoveGroupMember { key, target } => {
            m.groups
                .get_mut(&key)
                .expect("group")
                .members
                .remove(&target);
        }
        Change::PutGroupProject { key, project, role } => {
            m.groups
                .get_mut(&key)
                .expect("group")
                .projects
                .insert(project, role);
        }
        Change::RemoveGroupProject { key, project } => {
            m.groups
                .get_mut(&key)
                .expect("group")
                .projects
                .remove(&project);
        }
        Change::SetRoles { target, roles } | Change::Add { target, roles } => {
            m.members.insert(target, roles);
        }
        Change::Drop { target } => m.drop_member(target),
    }
}
