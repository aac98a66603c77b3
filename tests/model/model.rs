//! A plain in-memory model of one organization, re-derived from SPEC §2–§4 (R3, R4, R6) and the
//! doc comments of `domain::rules` where SPEC is silent (which refusal comes first, which code it
//! gets). Written without the library's rule functions or permission tables, so the two can
//! disagree: permission sets are bit masks over the catalog below, roles are plain enums, members
//! a `BTreeMap`.

use std::collections::BTreeMap;

/// The permission catalog of SPEC §2, in catalog order; bit `i` of a [`Perms`] is `PERMS[i]`.
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

/// A set of permissions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Perms(pub u32);

impl Perms {
    /// No permission.
    pub const NONE: Perms = Perms(0);
    /// Every permission of the catalog.
    pub const ALL: Perms = Perms((1 << PERMS.len()) - 1);

    /// The set of these wire names; panics on a name not in the catalog (a typo in the model).
    pub fn of(names: &[&str]) -> Perms {
        Perms(names.iter().fold(0, |acc, n| {
            let i = PERMS
                .iter()
                .position(|p| p == n)
                .unwrap_or_else(|| panic!("`{n}` is not in the catalog"));
            acc | 1 << i
        }))
    }

    /// A set from arbitrary bits, cut to the catalog.
    pub fn from_bits(bits: u32) -> Perms {
        Perms(bits & Perms::ALL.0)
    }

    /// Whether `name` is in the set.
    pub fn has(self, name: &str) -> bool {
        self.contains(Perms::of(&[name]))
    }

    /// Whether every permission of `other` is in the set.
    pub fn contains(self, other: Perms) -> bool {
        self.0 & other.0 == other.0
    }

    /// Either set.
    pub fn union(self, other: Perms) -> Perms {
        Perms(self.0 | other.0)
    }

    /// Both sets.
    pub fn intersect(self, other: Perms) -> Perms {
        Perms(self.0 & other.0)
    }

    /// This set without `other`.
    pub fn minus(self, other: Perms) -> Perms {
        Perms(self.0 & !other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The wire names, in catalog order.
    pub fn names(self) -> Vec<&'static str> {
        PERMS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, p)| *p)
            .collect()
    }
}

/// SPEC §3: `org.delete` and `org.transfer` stay the owner's; no custom role carries them.
pub fn owner_only() -> Perms {
    Perms::of(&["org.delete", "org.transfer"])
}

/// The built-in roles of SPEC §3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Builtin {
    Owner,
    Admin,
    Manager,
    Developer,
    Billing,
    Member,
}

impl Builtin {
    /// Every built-in role.
    pub const ALL: [Builtin; 6] = [
        Builtin::Owner,
        Builtin::Admin,
        Builtin::Manager,
        Builtin::Developer,
        Builtin::Billing,
        Builtin::Member,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Owner => "owner",
            Builtin::Admin => "admin",
            Builtin::Manager => "manager",
            Builtin::Developer => "developer",
            Builtin::Billing => "billing",
            Builtin::Member => "member",
        }
    }

    /// The built-in role named `name` (case-insensitive, trimmed), if any.
    pub fn parse(name: &str) -> Option<Builtin> {
        let key = name.trim().to_lowercase();
        Builtin::ALL.into_iter().find(|b| b.name() == key)
    }

    /// The table of SPEC §3, transcribed.
    pub fn perms(self) -> Perms {
        match self {
            Builtin::Owner => Perms::ALL,
            Builtin::Admin => Perms::ALL.minus(Perms::of(&[
                "org.delete",
                "org.transfer",
                "billing.read",
                "billing.manage",
            ])),
            Builtin::Manager => Perms::of(&[
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
            Builtin::Developer => Perms::of(&[
                "org.read",
                "members.read",
                "projects.create",
                "projects.read",
                "projects.deploy",
            ]),
            Builtin::Billing => Perms::of(&["org.read", "billing.read", "billing.manage"]),
            Builtin::Member => Perms::of(&["org.read"]),
        }
    }
}

/// A role a member holds: built-in, or a custom role by the model's id for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Builtin(Builtin),
    Custom(u32),
}

/// Why a request is refused: the status and the stable `code` of the problem document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: &'static str,
}

const fn refusal(status: u16, code: &'static str) -> Refusal {
    Refusal { status, code }
}

pub const INVALID: Refusal = refusal(400, "validation_failed");
pub const UNAUTHENTICATED: Refusal = refusal(401, "unauthenticated");
pub const FORBIDDEN: Refusal = refusal(403, "forbidden");
pub const NOT_GRANTABLE: Refusal = refusal(403, "role_not_grantable");
pub const OWN_ROLES: Refusal = refusal(403, "cannot_change_own_roles");
pub const NOT_HELD: Refusal = refusal(403, "permission_not_held");
pub const SESSION_REQUIRED: Refusal = refusal(403, "session_required");
pub const ORG_NOT_FOUND: Refusal = refusal(404, "org_not_found");
pub const MEMBER_NOT_FOUND: Refusal = refusal(404, "member_not_found");
pub const USER_NOT_FOUND: Refusal = refusal(404, "user_not_found");
pub const ROLE_NOT_FOUND: Refusal = refusal(404, "role_not_found");
pub const OWNER_NEEDS_TRANSFER: Refusal = refusal(409, "owner_requires_transfer");
pub const OWNER_IS_FIXED: Refusal = refusal(409, "owner_is_fixed");
pub const OWNER_CANNOT_LEAVE: Refusal = refusal(409, "owner_cannot_leave");
pub const ALREADY_MEMBER: Refusal = refusal(409, "already_member");
pub const ROLE_NAME_TAKEN: Refusal = refusal(409, "role_name_taken");
pub const ROLE_IN_USE: Refusal = refusal(409, "role_in_use");
pub const BUILTIN_ROLE: Refusal = refusal(409, "builtin_role");

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

    fn require(&self, p: &str) -> Result<(), Refusal> {
        if self.perms.has(p) {
            Ok(())
        } else {
            Err(FORBIDDEN)
        }
    }
}

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

/// How a member came to hold a role: who gave it, and what they could use then.
#[derive(Clone, Debug)]
pub struct Grant {
    pub by: usize,
    pub by_roles: Vec<Role>,
    pub by_perms: Perms,
    pub role_perms: Perms,
}

/// An API token one of the users made in this organization's case.
#[derive(Clone, Debug)]
pub struct Token {
    pub user: usize,
    /// Limited to this organization (else to none).
    pub scoped: bool,
    /// The permissions it is limited to.
    pub limit: Option<Perms>,
    /// Its id and secret on the server.
    pub id: String,
    pub secret: String,
    /// Still usable: a scoped token dies when its user leaves or is removed.
    pub alive: bool,
}

/// How a request is made: with the user's sign-in session or one of their API tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cred {
    Session,
    Token(usize),
}

/// Who makes a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user: usize,
    pub cred: Cred,
}

/// A concrete request, with role and permission names as sent.
#[derive(Clone, Debug)]
pub enum Request {
    SetRoles {
        actor: Actor,
        target: usize,
        roles: Vec<String>,
    },
    Remove {
        actor: Actor,
        target: usize,
    },
    Leave {
        actor: Actor,
    },
    Add {
        actor: Actor,
        target: usize,
        roles: Vec<String>,
    },
    CreateRole {
        actor: Actor,
        name: String,
        perms: Perms,
    },
    EditRole {
        actor: Actor,
        key: String,
        name: Option<String>,
        perms: Option<Perms>,
    },
    DeleteRole {
        actor: Actor,
        key: String,
    },
    CreateToken {
        actor: Actor,
        scoped: bool,
        limit: Option<Perms>,
    },
}

impl Request {
    /// Who makes it.
    pub fn actor(&self) -> Actor {
        match self {
            Request::SetRoles { actor, .. }
            | Request::Remove { actor, .. }
            | Request::Leave { actor }
            | Request::Add { actor, .. }
            | Request::CreateRole { actor, .. }
            | Request::EditRole { actor, .. }
            | Request::DeleteRole { actor, .. }
            | Request::CreateToken { actor, .. } => *actor,
        }
    }
}

/// What an accepted request changes in the model.
#[derive(Clone, Debug)]
pub enum Change {
    /// Accepted, but nothing changes (and nothing is recorded).
    Nothing,
    SetRoles {
        user: usize,
        roles: Vec<Role>,
        added: Vec<Role>,
        grant: Grant,
    },
    Add {
        user: usize,
        roles: Vec<Role>,
        grant: Grant,
    },
    Drop {
        user: usize,
    },
    CreateRole {
        name: String,
        perms: Perms,
        author_perms: Perms,
    },
    EditRole {
        id: u32,
        name: String,
        perms: Perms,
        author_perms: Perms,
    },
    DeleteRole {
        id: u32,
    },
    CreateToken {
        user: usize,
        scoped: bool,
        limit: Option<Perms>,
    },
}

/// An accepted request: its status, the audit action it must record in the organization's log
/// (R13), and what it changes.
#[derive(Clone, Debug)]
pub struct Accepted {
    pub status: u16,
    pub audit: Option<&'static str>,
    pub change: Change,
}

/// One organization: its owner, members with roles, custom roles and the tokens made in it.
#[derive(Clone, Debug)]
pub struct Model {
    /// The user who created it; R3: nothing here ever changes who it is.
    pub owner: usize,
    /// The number of registered users; user index `users` is someone never registered.
    pub users: usize,
    pub members: BTreeMap<usize, Vec<Role>>,
    pub custom: BTreeMap<u32, Custom>,
    next_custom: u32,
    pub tokens: Vec<Token>,
    /// How each member came to hold each of their roles (but `owner`).
    pub grants: BTreeMap<(usize, Role), Grant>,
}

impl Model {
    /// A new organization created by `owner`, among `users` registered users.
    pub fn new(owner: usize, users: usize) -> Self {
        let mut members = BTreeMap::new();
        members.insert(owner, vec![Role::Builtin(Builtin::Owner)]);
        Model {
            owner,
            users,
            members,
            custom: BTreeMap::new(),
            next_custom: 0,
            tokens: Vec::new(),
            grants: BTreeMap::new(),
        }
    }

    /// What a role grants now.
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

    /// What a member's roles add up to (roles add up, SPEC §1).
    pub fn member_perms(&self, user: usize) -> Perms {
        self.members.get(&user).map_or(Perms::NONE, |roles| {
            roles
                .iter()
                .fold(Perms::NONE, |acc, r| acc.union(self.perms_of(*r)))
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

    /// The tokens `user` made, in order.
    pub fn tokens_of(&self, user: usize) -> Vec<usize> {
        (0..self.tokens.len())
            .filter(|i| self.tokens[*i].user == user)
            .collect()
    }

    /// Role names as a request names them: built-in or custom, case-insensitively; unknown
    /// names are refused (R14); duplicates collapse.
    fn resolve(&self, names: &[String]) -> Result<Vec<Role>, Refusal> {
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

    /// The actor as a member of this organization: 401 for a dead token, 404 for a non-member
    /// (R12).
    fn acting(&self, actor: Actor) -> Result<Acting, Refusal> {
        let limit = match actor.cred {
            Cred::Session => None,
            Cred::Token(t) => {
                let token = &self.tokens[t];
                if !token.alive {
                    return Err(UNAUTHENTICATED);
                }
                token.limit
            }
        };
        let roles = self.members.get(&actor.user).ok_or(ORG_NOT_FOUND)?.clone();
        let held = self.member_perms(actor.user);
        Ok(Acting {
            user: actor.user,
            roles,
            perms: limit.map_or(held, |l| held.intersect(l)),
        })
    }

    fn grant(&self, acting: &Acting, role_perms: Perms) -> Grant {
        Grant {
            by: acting.user,
            by_roles: acting.roles.clone(),
            by_perms: acting.perms,
            role_perms,
        }
    }

    /// The server's decision on `req`, as SPEC and the rules say it must be.
    pub fn decide(&self, req: &Request) -> Result<Accepted, Refusal> {
        if let Cred::Token(t) = req.actor().cred {
            if !self.tokens[t].alive {
                return Err(UNAUTHENTICATED);
            }
        }
        let perms_of = |r: Role| self.perms_of(r);
        match req {
            Request::SetRoles {
                actor,
                target,
                roles,
            } => {
                if roles.is_empty() {
                    return Err(INVALID);
                }
                let a = self.acting(*actor)?;
                a.require("members.manage")?;
                let target_roles = self.members.get(target).ok_or(MEMBER_NOT_FOUND)?;
                let requested = self.resolve(roles)?;
                let (added, removed) =
                    change_roles(&a, *target, target_roles, &requested, &perms_of)?;
                if added.is_empty() && removed.is_empty() {
                    return Ok(Accepted {
                        status: 200,
                        audit: None,
                        change: Change::Nothing,
                    });
                }
                let mut after: Vec<Role> = target_roles
                    .iter()
                    .filter(|r| !removed.contains(r))
                    .copied()
                    .collect();
                after.extend(&added);
                Ok(Accepted {
                    status: 200,
                    audit: Some("member.roles_changed"),
                    change: Change::SetRoles {
                        user: *target,
                        roles: after,
                        added,
                        grant: self.grant(&a, Perms::NONE),
                    },
                })
            }
            Request::Remove { actor, target } => {
                let a = self.acting(*actor)?;
                a.require("members.manage")?;
                let target_roles = self.members.get(target).ok_or(MEMBER_NOT_FOUND)?;
                remove_member(&a, *target, target_roles, &perms_of)?;
                Ok(Accepted {
                    status: 204,
                    audit: Some("member.removed"),
                    change: Change::Drop { user: *target },
                })
            }
            Request::Leave { actor } => {
                let a = self.acting(*actor)?;
                // R4: the owner cannot leave; anyone else can, whatever they hold.
                if a.holds(Builtin::Owner) {
                    return Err(OWNER_CANNOT_LEAVE);
                }
                Ok(Accepted {
                    status: 204,
                    audit: Some("member.left"),
                    change: Change::Drop { user: actor.user },
                })
            }
            Request::Add {
                actor,
                target,
                roles,
            } => {
                if roles.is_empty() {
                    return Err(INVALID);
                }
                let a = self.acting(*actor)?;
                a.require("members.invite")?;
                let resolved = self.resolve(roles)?;
                add_member(&a, &resolved, &perms_of)?;
                if *target >= self.users {
                    return Err(USER_NOT_FOUND);
                }
                if self.members.contains_key(target) {
                    return Err(ALREADY_MEMBER);
                }
                Ok(Accepted {
                    status: 201,
                    audit: Some("member.added"),
                    change: Change::Add {
                        user: *target,
                        roles: resolved,
                        grant: self.grant(&a, Perms::NONE),
                    },
                })
            }
            Request::CreateRole { actor, name, perms } => {
                if Builtin::parse(name).is_some() {
                    return Err(INVALID);
                }
                let a = self.acting(*actor)?;
                custom_role_perms(&a, *perms)?;
                if self.custom_by_name(name).is_some() {
                    return Err(ROLE_NAME_TAKEN);
                }
                Ok(Accepted {
                    status: 201,
                    audit: Some("role.created"),
                    change: Change::CreateRole {
                        name: name.trim().to_owned(),
                        perms: *perms,
                        author_perms: a.perms,
                    },
                })
            }
            Request::EditRole {
                actor,
                key,
                name,
                perms,
            } => {
                if name.is_none() && perms.is_none() {
                    return Err(INVALID);
                }
                if name.as_deref().is_some_and(|n| Builtin::parse(n).is_some()) {
                    return Err(INVALID);
                }
                let a = self.acting(*actor)?;
                a.require("roles.manage")?;
                if Builtin::parse(key).is_some() {
                    return Err(BUILTIN_ROLE);
                }
                let id = self.custom_by_name(key).ok_or(ROLE_NOT_FOUND)?;
                let before = &self.custom[&id];
                if let Some(n) = name {
                    if self.custom_by_name(n).is_some_and(|other| other != id) {
                        return Err(ROLE_NAME_TAKEN);
                    }
                }
                let new_name = name
                    .as_deref()
                    .map_or(before.name.clone(), |n| n.trim().to_owned());
                let new_perms = perms.unwrap_or(before.perms);
                // R6: the role as edited carries only what the editor holds, even the
                // permissions it already had.
                custom_role_perms(&a, new_perms)?;
                // R6: widening a role somebody holds hands them permissions: that is assigning,
                // which needs members.manage.
                let widened = new_perms.0 & !before.perms.0 != 0;
                let held = self
                    .members
                    .values()
                    .any(|roles| roles.contains(&Role::Custom(id)));
                if widened && held {
                    a.require("members.manage")?;
                }
                if new_name == before.name && new_perms == before.perms {
                    return Ok(Accepted {
                        status: 200,
                        audit: None,
                        change: Change::Nothing,
                    });
                }
                let author_perms = if new_perms == before.perms {
                    before.author_perms
                } else {
                    a.perms
                };
                Ok(Accepted {
                    status: 200,
                    audit: Some("role.updated"),
                    change: Change::EditRole {
                        id,
                        name: new_name,
                        perms: new_perms,
                        author_perms,
                    },
                })
            }
            Request::DeleteRole { actor, key } => {
                let a = self.acting(*actor)?;
                a.require("roles.manage")?;
                if Builtin::parse(key).is_some() {
                    return Err(BUILTIN_ROLE);
                }
                let id = self.custom_by_name(key).ok_or(ROLE_NOT_FOUND)?;
                if self
                    .members
                    .values()
                    .any(|roles| roles.contains(&Role::Custom(id)))
                {
                    return Err(ROLE_IN_USE);
                }
                Ok(Accepted {
                    status: 204,
                    audit: Some("role.deleted"),
                    change: Change::DeleteRole { id },
                })
            }
            Request::CreateToken {
                actor,
                scoped,
                limit,
            } => {
                // Only a sign-in session makes tokens.
                if actor.cred != Cred::Session {
                    return Err(SESSION_REQUIRED);
                }
                let held = if *scoped {
                    self.acting(*actor)?.perms
                } else {
                    // Unscoped: what the user holds anywhere, and every user owns their
                    // personal organization (R2), so everything.
                    Perms::ALL
                };
                if limit.is_some_and(|l| !held.contains(l)) {
                    return Err(NOT_HELD);
                }
                Ok(Accepted {
                    status: 201,
                    audit: scoped.then_some("token.created"),
                    change: Change::CreateToken {
                        user: actor.user,
                        scoped: *scoped,
                        limit: *limit,
                    },
                })
            }
        }
    }

    /// Applies an accepted change. `server_id` and `secret` come from the server's answer for
    /// the things it names (custom roles, tokens).
    pub fn apply(&mut self, change: Change, server_id: &str, secret: &str) {
        match change {
            Change::Nothing => {}
            Change::SetRoles {
                user,
                roles,
                added,
                grant,
            } => {
                self.grants
                    .retain(|(u, r), _| *u != user || roles.contains(r));
                for r in added {
                    let role_perms = self.perms_of(r);
                    self.grants.insert(
                        (user, r),
                        Grant {
                            role_perms,
                            ..grant.clone()
                        },
                    );
                }
                self.members.insert(user, roles);
            }
            Change::Add { user, roles, grant } => {
                for r in &roles {
                    let role_perms = self.perms_of(*r);
                    self.grants.insert(
                        (user, *r),
                        Grant {
                            role_perms,
                            ..grant.clone()
                        },
                    );
                }
                self.members.insert(user, roles);
            }
            Change::Drop { user } => {
                self.members.remove(&user);
                self.grants.retain(|(u, _), _| *u != user);
                for t in &mut self.tokens {
                    if t.user == user && t.scoped {
                        t.alive = false;
                    }
                }
            }
            Change::CreateRole {
                name,
                perms,
                author_perms,
            } => {
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
            }
            Change::EditRole {
                id,
                name,
                perms,
                author_perms,
            } => {
                let c = self.custom.get_mut(&id).expect("edited role exists");
                c.name = name;
                c.perms = perms;
                c.author_perms = author_perms;
            }
            Change::DeleteRole { id } => {
                self.custom.remove(&id);
            }
            Change::CreateToken {
                user,
                scoped,
                limit,
            } => self.tokens.push(Token {
                user,
                scoped,
                limit,
                id: server_id.to_owned(),
                secret: secret.to_owned(),
                alive: true,
            }),
        }
    }
}

/// R6, restated as a check on a grant already made: could the one who gave `role` give it?
pub fn grant_was_allowed(role: Role, g: &Grant) -> Result<(), String> {
    let by_owner = g.by_roles.contains(&Role::Builtin(Builtin::Owner));
    let by_admin = g.by_roles.contains(&Role::Builtin(Builtin::Admin));
    if role == Role::Builtin(Builtin::Owner) {
        return Err("`owner` was given by a role change or an add".into());
    }
    if !g.by_perms.contains(g.role_perms) {
        return Err(format!(
            "the role carried {:?}, which its giver (user {}) did not hold",
            g.role_perms.minus(g.by_perms).names(),
            g.by
        ));
    }
    if role == Role::Builtin(Builtin::Admin) && !(by_owner || by_admin) {
        return Err(format!(
            "`admin` was given by user {}, neither owner nor admin",
            g.by
        ));
    }
    if role == Role::Builtin(Builtin::Billing) && !by_owner {
        return Err(format!(
            "`billing` was given by user {}, not the owner",
            g.by
        ));
    }
    if !g.by_perms.has("members.manage") && role != Role::Builtin(Builtin::Member) {
        return Err(format!(
            "user {} gave a role without `members.manage`",
            g.by
        ));
    }
    Ok(())
}
