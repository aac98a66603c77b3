//! The model, written from SPEC §1-§4 with no code of the server's: permissions and built-in
//! roles (§2, §3), and who reaches which project with which role (R4, R6, R11).
//!
//! State is plain maps. A member reaches a project through organization-wide `projects.read` /
//! `.deploy` / `.manage` (viewer / contributor / admin on every project), through a direct
//! project role, or through a group's role on it; the strongest grant wins. Leaving or being
//! removed takes every group place and direct project role with the membership (R4).

use std::collections::{BTreeMap, BTreeSet};

/// SPEC §2, in its order.
pub const PERMS: [&str; 17] = [
    "org.read",
    "org.update",
    "org.delete",
    "org.transfer",
    "members.read",
    "members.invite",
    "members.manage",
    "roles.manage",
    "groups.manage",
    "projects.create",
    "projects.read",
    "projects.manage",
    "projects.deploy",
    "plans.manage",
    "billing.read",
    "billing.manage",
    "audit.read",
];

/// The project-scope permissions of the check API (SPEC §5).
pub const PROJECT_PERMS: [&str; 4] = [
    "project.read",
    "project.deploy",
    "project.manage",
    "project.delete",
];

/// A set of SPEC §2 permissions, bit `i` being `PERMS[i]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Perms(pub u32);

impl Perms {
    pub const NONE: Perms = Perms(0);

    pub fn all() -> Perms {
        Perms((1 << PERMS.len()) - 1)
    }

    /// Only the low bits that name permissions.
    pub fn from_bits(bits: u32) -> Perms {
        Perms(bits & Perms::all().0)
    }

    /// The set of these names; panics on a name not in SPEC §2 (a bug in the test).
    pub fn of(names: &[&str]) -> Perms {
        let mut bits = 0;
        for n in names {
            let i = PERMS
                .iter()
                .position(|p| p == n)
                .unwrap_or_else(|| panic!("`{n}` is not a SPEC §2 permission"));
            bits |= 1 << i;
        }
        Perms(bits)
    }

    pub fn has(self, name: &str) -> bool {
        PERMS
            .iter()
            .position(|p| *p == name)
            .is_some_and(|i| self.0 & (1 << i) != 0)
    }

    pub fn union(self, other: Perms) -> Perms {
        Perms(self.0 | other.0)
    }

    pub fn minus(self, other: Perms) -> Perms {
        Perms(self.0 & !other.0)
    }

    pub fn names(self) -> Vec<&'static str> {
        PERMS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, p)| *p)
            .collect()
    }
}

/// SPEC §3's built-in roles, strongest first.
pub const BUILTINS: [&str; 6] = [
    "owner",
    "admin",
    "manager",
    "developer",
    "billing",
    "member",
];

/// What a built-in role carries (SPEC §3); `None` for any other name.
pub fn builtin_perms(role: &str) -> Option<Perms> {
    let all = Perms::all();
    Some(match role {
        "owner" => all,
        "admin" => all.minus(Perms::of(&[
            "org.delete",
            "org.transfer",
            "billing.read",
            "billing.manage",
        ])),
        "manager" => Perms::of(&[
            "org.read",
            "org.update",
            "members.read",
            "members.invite",
            "members.manage",
            "groups.manage",
            "projects.create",
            "projects.read",
            "projects.manage",
            "projects.deploy",
            "plans.manage",
            "audit.read",
        ]),
        "developer" => Perms::of(&[
            "org.read",
            "members.read",
            "projects.create",
            "projects.read",
            "projects.deploy",
        ]),
        "billing" => Perms::of(&["org.read", "billing.read", "billing.manage"]),
        "member" => Perms::of(&["org.read"]),
        _ => return None,
    })
}

/// The custom roles a case may create (SPEC §3: custom roles mix permissions freely): one that
/// only sees projects, one that only manages groups, one that deploys, one that creates.
pub const CUSTOM: [(&str, &[&str]); 4] = [
    ("Readers", &["projects.read"]),
    ("Groupers", &["org.read", "groups.manage"]),
    ("Deployers", &["projects.deploy"]),
    ("Creators", &["org.read", "projects.create"]),
];

/// A project role (SPEC §1), weakest first, so the strongest grant is `max()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PRole {
    Viewer,
    Contributor,
    Admin,
}

impl PRole {
    pub const ALL: [PRole; 3] = [PRole::Viewer, PRole::Contributor, PRole::Admin];

    pub fn name(self) -> &'static str {
        match self {
            PRole::Viewer => "viewer",
            PRole::Contributor => "contributor",
            PRole::Admin => "admin",
        }
    }

    /// SPEC §1: a viewer sees; a contributor also deploys; an admin does everything on it.
    pub fn allows(self, perm: &str) -> bool {
        match perm {
            "project.read" => true,
            "project.deploy" => self != PRole::Viewer,
            "project.manage" | "project.delete" => self == PRole::Admin,
            other => panic!("`{other}` is not a project permission"),
        }
    }
}

/// R11 and SPEC §2: what organization-wide permissions amount to on every project.
pub fn org_reach(perms: Perms) -> Option<PRole> {
    if perms.has("projects.manage") {
        Some(PRole::Admin)
    } else if perms.has("projects.deploy") {
        Some(PRole::Contributor)
    } else if perms.has("projects.read") {
        Some(PRole::Viewer)
    } else {
        None
    }
}

/// One grant on a project: `("direct", None, role)` or `("group", Some(name), role)`.
pub type Source = (&'static str, Option<String>, PRole);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// Its name as created.
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    /// Its name as created.
    pub name: String,
    pub members: BTreeSet<usize>,
    /// Project id → the role the group gives on it.
    pub projects: BTreeMap<String, PRole>,
}

/// One organization: users are indices, the owner is `owner`.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub owner: usize,
    /// Custom roles created, by name.
    pub custom: BTreeMap<String, Perms>,
    /// Member → role names.
    pub members: BTreeMap<usize, BTreeSet<String>>,
    /// Live projects by server id.
    pub projects: BTreeMap<String, Project>,
    /// Ids of deleted projects.
    pub dead: Vec<String>,
    /// Groups by lower-case name.
    pub groups: BTreeMap<String, Group>,
    /// (project id, user) → direct role.
    pub direct: BTreeMap<(String, usize), PRole>,
}

/// A refusal: status and problem code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
}

fn refuse(status: u16, code: &'static str) -> Refusal {
    Refusal { status, code }
}

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
        roles: BTreeSet<String>,
    },
    Add {
        target: usize,
        roles: BTreeSet<String>,
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

impl Model {
    pub fn new(owner: usize) -> Model {
        let mut m = Model {
            owner,
            ..Model::default()
        };
        m.members
            .insert(owner, ["owner".to_owned()].into_iter().collect());
        m
    }

    pub fn is_member(&self, user: usize) -> bool {
        self.members.contains_key(&user)
    }

    /// A role's permissions by name (built-in, or a custom role created in this case).
    pub fn role_perms(&self, role: &str) -> Perms {
        builtin_perms(role)
            .or_else(|| self.custom.get(role).copied())
            .unwrap_or_else(|| panic!("no role `{role}` in the model"))
    }

    /// What a user holds in the organization: the union of their roles (roles add up).
    pub fn perms(&self, user: usize) -> Perms {
        self.members
            .get(&user)
            .into_iter()
            .flatten()
            .fold(Perms::NONE, |acc, r| acc.union(self.role_perms(r)))
    }

    /// Every grant a member holds on a project, directly or through groups (nothing for
    /// non-members and unknown projects).
    pub fn sources(&self, user: usize, project: &str) -> Vec<Source> {
        if !self.is_member(user) || !self.projects.contains_key(project) {
            return Vec::new();
        }
        let mut out: Vec<Source> = Vec::new();
        if let Some(r) = self.direct.get(&(project.to_owned(), user)) {
            out.push(("direct", None, *r));
        }
        for g in self.groups.values() {
            if g.members.contains(&user) {
                if let Some(r) = g.projects.get(project) {
                    out.push(("group", Some(g.name.clone()), *r));
                }
            }
        }
        out
    }

    /// R11: the strongest role a user holds on a project, organization-wide reach included.
    pub fn role_on(&self, user: usize, project: &str) -> Option<PRole> {
        if !self.is_member(user) || !self.projects.contains_key(project) {
            return None;
        }
        let granted = self.sources(user, project).into_iter().map(|s| s.2).max();
        org_reach(self.perms(user)).max(granted)
    }

    /// Every live project `user` may do `perm` on, with their role.
    pub fn reach(&self, user: usize, perm: &str) -> BTreeMap<String, PRole> {
        self.projects
            .keys()
            .filter_map(|p| {
                self.role_on(user, p)
                    .filter(|r| r.allows(perm))
                    .map(|r| (p.clone(), r))
            })
            .collect()
    }

    /// A project path segment: a live project's id, or a live project's name in any case.
    pub fn find_project(&self, reference: &str) -> Option<String> {
        if self.projects.contains_key(reference) {
            return Some(reference.to_owned());
        }
        let key = reference.to_lowercase();
        self.projects
            .iter()
            .find(|(_, p)| p.name.to_lowercase() == key)
            .map(|(id, _)| id.clone())
    }

    pub fn find_group(&self, reference: &str) -> Option<String> {
        let key = reference.to_lowercase();
        self.groups.contains_key(&key).then_some(key)
    }

    /// The grant state: what decides who reaches what, without names of empty groups. Any
    /// change of it must move the revision.
    pub fn grant_state(&self) -> String {
        let groups: Vec<_> = self
            .groups
            .iter()
            .filter(|(_, g)| !g.members.is_empty() || !g.projects.is_empty())
            .map(|(k, g)| (k, &g.members, &g.projects))
            .collect();
        let projects: Vec<_> = self.projects.keys().collect();
        format!(
            "{:?}",
            (&self.members, &self.custom, projects, &self.direct, groups)
        )
    }

    /// The caller's role on a project they reach, or the 404 everyone else gets (R11, R12).
    fn reached(&self, actor: usize, reference: &str) -> Result<(String, PRole), Refusal> {
        let not_found = refuse(404, "project_not_found");
        let id = self.find_project(reference).ok_or(not_found)?;
        let mine = self.role_on(actor, &id).ok_or(not_found)?;
        Ok((id, mine))
    }

    /// R6 for a project role given or taken directly: `projects.manage` or `admin` on that
    /// project, and never a role above one's own there.
    fn may_grant_direct(&self, actor: usize, mine: PRole, roles: &[PRole]) -> Result<(), Refusal> {
        if !self.perms(actor).has("projects.manage") && mine != PRole::Admin {
            return Err(refuse(403, "forbidden"));
        }
        if roles.iter().any(|r| *r > mine) {
            return Err(refuse(403, "role_not_grantable"));
        }
        Ok(())
    }

    /// R6 for a group: whoever changes who is in it, or deletes it, could give each of its
    /// project roles themselves.
    fn may_carry(&self, actor: usize, key: &str) -> Result<(), Refusal> {
        for (project, role) in &self.groups[key].projects {
            if self.role_on(actor, project).is_none_or(|mine| *role > mine) {
                return Err(refuse(403, "role_not_grantable"));
            }
        }
        Ok(())
    }

    fn group_op(&self, actor: usize, group: &str) -> Result<String, Refusal> {
        if !self.perms(actor).has("groups.manage") {
            return Err(refuse(403, "forbidden"));
        }
        self.find_group(group).ok_or(refuse(404, "group_not_found"))
    }

    /// What the server must answer, in the order a careful server checks: the organization
    /// exists for members only (R12), then the permission, then the target, then R6.
    pub fn decide(&self, req: &Request) -> Result<Accepted, Refusal> {
        use Request as R;
        let actor = req.actor(self.owner);
        if !self.is_member(actor) {
            return Err(refuse(404, "org_not_found"));
        }
        let ok = |status, change| Ok(Accepted { status, change });
        match req {
            R::CreateProject { name, .. } => {
                if !self.perms(actor).has("projects.create") {
                    return Err(refuse(403, "forbidden"));
                }
                let key = name.to_lowercase();
                if self.projects.values().any(|p| p.name.to_lowercase() == key) {
                    return Err(refuse(409, "project_name_taken"));
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
                let (id, mine) = self.reached(actor, project)?;
                if !mine.allows("project.delete") {
                    return Err(refuse(403, "forbidden"));
                }
                ok(204, Change::DeleteProject { id })
            }
            R::SetDirect {
                project,
                target,
                role,
                ..
            } => {
                let (id, mine) = self.reached(actor, project)?;
                if !self.is_member(*target) {
                    return Err(refuse(404, "member_not_found"));
                }
                // R6: nobody gives themselves a project role.
                if *target == actor {
                    return Err(refuse(403, "cannot_change_own_roles"));
                }
                let before = self.direct.get(&(id.clone(), *target)).copied();
                let mut roles = vec![*role];
                roles.extend(before);
                self.may_grant_direct(actor, mine, &roles)?;
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
                let (id, mine) = self.reached(actor, project)?;
                let before = self
                    .direct
                    .get(&(id.clone(), *target))
                    .ok_or(refuse(404, "member_not_found"))?;
                self.may_grant_direct(actor, mine, &[*before])?;
                ok(
                    204,
                    Change::RemoveDirect {
                        project: id,
                        target: *target,
                    },
                )
            }
            R::CreateGroup { name, .. } => {
                if !self.perms(actor).has("groups.manage") {
                    return Err(refuse(403, "forbidden"));
                }
                if self.groups.contains_key(&name.to_lowercase()) {
                    return Err(refuse(409, "group_name_taken"));
                }
                ok(201, Change::CreateGroup { name: name.clone() })
            }
            R::DeleteGroup { group, .. } => {
                let key = self.group_op(actor, group)?;
                self.may_carry(actor, &key)?;
                ok(204, Change::DeleteGroup { key })
            }
            R::PutGroupMember { group, target, .. } => {
                let key = self.group_op(actor, group)?;
                if !self.is_member(*target) {
                    return Err(refuse(404, "member_not_found"));
                }
                // R6: nobody puts themselves in a group (it would give them its project roles).
                if *target == actor {
                    return Err(refuse(403, "cannot_change_own_roles"));
                }
                self.may_carry(actor, &key)?;
                ok(
                    200,
                    Change::PutGroupMember {
                        key,
                        target: *target,
                    },
                )
            }
            R::RemoveGroupMember { group, target, .. } => {
                let key = self.group_op(actor, group)?;
                if !self.is_member(*target) {
                    return Err(refuse(404, "member_not_found"));
                }
                self.may_carry(actor, &key)?;
                if !self.groups[&key].members.contains(target) {
                    return Err(refuse(404, "member_not_found"));
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
                let key = self.group_op(actor, group)?;
                let (id, mine) = self.reached(actor, project)?;
                let before = self.groups[&key].projects.get(&id).copied();
                if *role > mine || before.is_some_and(|b| b > mine) {
                    return Err(refuse(403, "role_not_grantable"));
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
                let key = self.group_op(actor, group)?;
                let (id, mine) = self.reached(actor, project)?;
                let before = self.groups[&key]
                    .projects
                    .get(&id)
                    .ok_or(refuse(404, "project_not_found"))?;
                if *before > mine {
                    return Err(refuse(403, "role_not_grantable"));
                }
                ok(204, Change::RemoveGroupProject { key, project: id })
            }
            R::SetRoles { target, roles } => {
                if *target == actor {
                    return Err(refuse(403, "cannot_change_own_roles"));
                }
                if !self.is_member(*target) {
                    return Err(refuse(404, "member_not_found"));
                }
                let roles = roles.iter().cloned().collect();
                ok(
                    200,
                    Change::SetRoles {
                        target: *target,
                        roles,
                    },
                )
            }
            R::Add { target, roles } => {
                if self.is_member(*target) {
                    return Err(refuse(409, "already_member"));
                }
                let roles = roles.iter().cloned().collect();
                ok(
                    201,
                    Change::Add {
                        target: *target,
                        roles,
                    },
                )
            }
            R::Remove { target } => {
                if !self.is_member(*target) {
                    return Err(refuse(404, "member_not_found"));
                }
                if *target == actor {
                    return Err(refuse(403, "cannot_change_own_roles"));
                }
                ok(204, Change::Drop { target: *target })
            }
            R::Leave { .. } => {
                if actor == self.owner {
                    return Err(refuse(409, "owner_cannot_leave"));
                }
                ok(204, Change::Drop { target: actor })
            }
        }
    }

    /// Applies an accepted change; `new_id` is the id the server gave a new project.
    pub fn apply(&mut self, change: Change, new_id: &str) {
        match change {
            Change::CreateProject { by, name } => {
                self.projects.insert(new_id.to_owned(), Project { name });
                // The creator gets `admin` on what they made, so they can always see it.
                self.direct.insert((new_id.to_owned(), by), PRole::Admin);
            }
            Change::DeleteProject { id } => {
                self.projects.remove(&id);
                self.direct.retain(|(p, _), _| *p != id);
                for g in self.groups.values_mut() {
                    g.projects.remove(&id);
                }
                self.dead.push(id);
            }
            Change::SetDirect {
                project,
                target,
                role,
            } => {
                self.direct.insert((project, target), role);
            }
            Change::RemoveDirect { project, target } => {
                self.direct.remove(&(project, target));
            }
            Change::CreateGroup { name } => {
                self.groups.insert(
                    name.to_lowercase(),
                    Group {
                        name,
                        ..Group::default()
                    },
                );
            }
            Change::DeleteGroup { key } => {
                self.groups.remove(&key);
            }
            Change::PutGroupMember { key, target } => {
                self.groups
                    .get_mut(&key)
                    .expect("group")
                    .members
                    .insert(target);
            }
            Change::RemoveGroupMember { key, target } => {
                self.groups
                    .get_mut(&key)
                    .expect("group")
                    .members
                    .remove(&target);
            }
            Change::PutGroupProject { key, project, role } => {
                self.groups
                    .get_mut(&key)
                    .expect("group")
                    .projects
                    .insert(project, role);
            }
            Change::RemoveGroupProject { key, project } => {
                self.groups
                    .get_mut(&key)
                    .expect("group")
                    .projects
                    .remove(&project);
            }
            Change::SetRoles { target, roles } | Change::Add { target, roles } => {
                self.members.insert(target, roles);
            }
            Change::Drop { target } => {
                // R4: every role, group place and project role at once.
                self.members.remove(&target);
                self.direct.retain(|(_, u), _| *u != target);
                for g in self.groups.values_mut() {
                    g.members.remove(&target);
                }
            }
        }
    }
}
