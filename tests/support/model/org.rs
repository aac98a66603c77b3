//! The model's state of one organization, in plain maps: its owner, members and their roles,
//! custom roles, projects, groups and direct project roles; and what follows from it (what a
//! member holds, who reaches which project with which role). Written from SPEC §1-§4 (R3, R4,
//! R7, R11), with no code of the server's.
//!
//! Users are indices chosen by the suites; projects are named by the server's id for them.

use super::catalog::{Builtin, PRole, Perms, org_reach};
use super::refusal::{FORBIDDEN, INVALID, ORG_NOT_FOUND, Refusal};
use std::collections::{BTreeMap, BTreeSet};

/// A role a member holds: built-in, or a custom role by the model's id for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Builtin(Builtin),
    Custom(u32),
}

/// A custom role of the organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Custom {
    /// Its name as last given.
    pub name: String,
    /// What it grants.
    pub perms: Perms,
    /// Its id on the server.
    pub server_id: String,
    /// What whoever last set its permissions could use then (R6: the role carries no more).
    pub author_perms: Perms,
}

/// A live project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// Its name as created.
    pub name: String,
}

/// A group: its members, and the project role it gives each of them on some projects.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Group {
    /// Its name as created.
    pub name: String,
    pub members: BTreeSet<usize>,
    /// Project id → the role the group gives on it.
    pub projects: BTreeMap<String, PRole>,
}

/// One grant on a project: `("direct", None, role)` or `("group", Some(name), role)`.
pub type Source = (&'static str, Option<String>, PRole);

/// Who acts and what the request may use: the member's roles, and their permissions narrowed by
/// the API token's limit when the request came with one.
#[derive(Clone, Debug)]
pub struct Acting {
    pub user: usize,
    pub roles: Vec<Role>,
    pub perms: Perms,
}

impl Acting {
    /// Whether the actor holds the built-in role `b` (by role, not by permission).
    pub fn holds(&self, b: Builtin) -> bool {
        self.roles.contains(&Role::Builtin(b))
    }

    /// 403 `forbidden` unless the actor may use `p`.
    pub fn require(&self, p: &str) -> Result<(), Refusal> {
        if self.perms.has(p) {
            Ok(())
        } else {
            Err(FORBIDDEN)
        }
    }
}

/// One organization.
#[derive(Clone, Debug)]
pub struct Org {
    /// Its one owner (R3); only an accepted transfer changes who it is (R7).
    pub owner: usize,
    /// Member → roles, in the order they were given.
    pub members: BTreeMap<usize, Vec<Role>>,
    /// Custom roles by the model's id for them.
    pub custom: BTreeMap<u32, Custom>,
    next_custom: u32,
    /// Live projects by server id.
    pub projects: BTreeMap<String, Project>,
    /// Ids of deleted projects, in the order they went.
    pub dead: Vec<String>,
    /// Groups by lower-case name.
    pub groups: BTreeMap<String, Group>,
    /// (project id, user) → direct project role.
    pub direct: BTreeMap<(String, usize), PRole>,
}

impl Org {
    /// A new organization created by `owner`, its only member (R2, R3).
    pub fn new(owner: usize) -> Org {
        Org {
            owner,
            members: BTreeMap::from([(owner, vec![Role::Builtin(Builtin::Owner)])]),
            custom: BTreeMap::new(),
            next_custom: 0,
            projects: BTreeMap::new(),
            dead: Vec::new(),
            groups: BTreeMap::new(),
            direct: BTreeMap::new(),
        }
    }

    pub fn is_member(&self, user: usize) -> bool {
        self.members.contains_key(&user)
    }

    /// Whether `user` is a member holding the built-in role `b`.
    pub fn holds(&self, user: usize, b: Builtin) -> bool {
        self.members
            .get(&user)
            .is_some_and(|roles| roles.contains(&Role::Builtin(b)))
    }

    /// What a role grants now (nothing for a custom role deleted since).
    pub fn perms_of(&self, role: Role) -> Perms {
        match role {
            Role::Builtin(b) => b.perms(),
            Role::Custom(id) => self.custom.get(&id).map_or(Perms::NONE, |c| c.perms),
        }
    }

    /// A role's name now.
    pub fn name_of(&self, role: Role) -> String {
        match role {
            Role::Builtin(b) => b.name().to_owned(),
            Role::Custom(id) => self
                .custom
                .get(&id)
                .map_or_else(String::new, |c| c.name.clone()),
        }
    }

    /// What a user holds in the organization: `org.read`, which every membership carries
    /// (SPEC §3), and the union of their roles (roles add up, SPEC §1); nothing for a
    /// non-member.
    pub fn member_perms(&self, user: usize) -> Perms {
        self.members.get(&user).map_or(Perms::NONE, |roles| {
            roles.iter().fold(Perms::of(&["org.read"]), |acc, r| {
                acc.union(self.perms_of(*r))
            })
        })
    }

    /// The custom role whose name is `name`, case-insensitively.
    pub fn custom_by_name(&self, name: &str) -> Option<u32> {
        let key = name.trim().to_lowercase();
        self.custom
            .iter()
            .find(|(_, c)| c.name.to_lowercase() == key)
            .map(|(id, _)| *id)
    }

    /// Role names as a request names them: built-in or custom, case-insensitively; unknown
    /// names are refused (R14); duplicates collapse, the first place kept.
    pub fn resolve(&self, names: &[String]) -> Result<Vec<Role>, Refusal> {
        let mut roles = Vec::new();
        for n in names {
            let role = match Builtin::parse(n) {
                Some(b) => Role::Builtin(b),
                None => Role::Custom(self.custom_by_name(n).ok_or(INVALID)?),
            };
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        Ok(roles)
    }

    /// The user as a member acting here, with what an API token's `limit` leaves them; 404 for
    /// a non-member (R12).
    pub fn acting(&self, user: usize, limit: Option<Perms>) -> Result<Acting, Refusal> {
        let roles = self.members.get(&user).ok_or(ORG_NOT_FOUND)?.clone();
        let held = self.member_perms(user);
        Ok(Acting {
            user,
            roles,
            perms: limit.map_or(held, |l| held.intersect(l)),
        })
    }

    /// A new custom role; returns the model's id for it.
    pub fn create_custom(
        &mut self,
        name: String,
        perms: Perms,
        server_id: &str,
        author_perms: Perms,
    ) -> u32 {
        let id = self.next_custom;
        self.next_custom += 1;
        self.custom.insert(
            id,
            Custom {
                name,
                perms,
                server_id: server_id.to_owned(),
                author_perms,
            },
        );
        id
    }

    /// R4: `user` leaves or is removed: every role, group place and direct project role at
    /// once.
    pub fn drop_member(&mut self, user: usize) {
        self.members.remove(&user);
        self.direct.retain(|(_, u), _| *u != user);
        for g in self.groups.values_mut() {
            g.members.remove(&user);
        }
    }

    /// R7: an accepted transfer: `to` becomes the owner, the former owner `admin`.
    pub fn transfer(&mut self, to: usize) {
        self.members
            .insert(self.owner, vec![Role::Builtin(Builtin::Admin)]);
        self.members.insert(to, vec![Role::Builtin(Builtin::Owner)]);
        self.owner = to;
    }

    /// A project just created by `by` under the server's id `id`; its creator gets `admin` on
    /// it, so that they can always see what they made.
    pub fn create_project(&mut self, id: &str, name: String, by: usize) {
        self.projects.insert(id.to_owned(), Project { name });
        self.direct.insert((id.to_owned(), by), PRole::Admin);
    }

    /// A project deleted: every grant on it goes with it.
    pub fn delete_project(&mut self, id: &str) {
        self.projects.remove(id);
        self.direct.retain(|(p, _), _| p != id);
        for g in self.groups.values_mut() {
            g.projects.remove(id);
        }
        self.dead.push(id.to_owned());
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
            if g.members.contains(&user)
                && let Some(r) = g.projects.get(project)
            {
                out.push(("group", Some(g.name.clone()), *r));
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
        org_reach(self.member_perms(user)).max(granted)
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

    /// A group path segment: a group's name in any case.
    pub fn find_group(&self, reference: &str) -> Option<String> {
        let key = reference.to_lowercase();
        self.groups.contains_key(&key).then_some(key)
    }

    /// The grant state: what decides who holds and reaches what, without names of empty
    /// groups. Any change of it must move the revision.
    pub fn grant_state(&self) -> String {
        // Roles add up: their order does not matter.
        let members: BTreeMap<_, BTreeSet<_>> = self
            .members
            .iter()
            .map(|(u, roles)| (u, roles.iter().collect()))
            .collect();
        let custom: Vec<_> = self.custom.iter().map(|(id, c)| (id, c.perms)).collect();
        let groups: Vec<_> = self
            .groups
            .iter()
            .filter(|(_, g)| !g.members.is_empty() || !g.projects.is_empty())
            .map(|(k, g)| (k, &g.members, &g.projects))
            .collect();
        let projects: Vec<_> = self.projects.keys().collect();
        format!("{:?}", (members, custom, projects, &self.direct, groups))
    }
}
