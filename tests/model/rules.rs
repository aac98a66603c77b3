//! The rules model's requests on one organization's members, custom roles and API tokens, and
//! what the server must decide of each: R3, R4 and R6 as SPEC §2-§4 state them, and the doc
//! comments of `domain::rules` where SPEC is silent (which refusal comes first, which code it
//! gets). Written without the library's rule functions or permission tables (the shared
//! [`crate::model`] holds the tables, the organization's state and the R6 rules on roles), so
//! the two can disagree.

use crate::model::grants::{add_member, change_roles, custom_role_perms, leave, remove_member};
use crate::model::org::Org;
use crate::model::refusal::*;
use crate::model::{Acting, Builtin, Perms, Refusal, Role};
use std::collections::BTreeMap;

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

/// One organization as the rules suite sees it: the shared state, plus the tokens made in it
/// and how each member came to hold each role.
#[derive(Clone, Debug)]
pub struct Model {
    /// Owner, members, custom roles. R3: nothing this suite does changes who the owner is.
    pub org: Org,
    /// The number of registered users; user index `users` is someone never registered.
    pub users: usize,
    pub tokens: Vec<Token>,
    /// How each member came to hold each of their roles (but `owner`).
    pub grants: BTreeMap<(usize, Role), Grant>,
}

impl Model {
    /// A new organization created by `owner`, among `users` registered users.
    pub fn new(owner: usize, users: usize) -> Self {
        Model {
            org: Org::new(owner),
            users,
            tokens: Vec::new(),
            grants: BTreeMap::new(),
        }
    }

    /// The tokens `user` made, in order.
    pub fn tokens_of(&self, user: usize) -> Vec<usize> {
        (0..self.tokens.len())
            .filter(|i| self.tokens[*i].user == user)
            .collect()
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
        self.org.acting(actor.user, limit)
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
        if let Cred::Token(t) = req.actor().cred
            && !self.tokens[t].alive
        {
            return Err(UNAUTHENTICATED);
        }
        let perms_of = |r: Role| self.org.perms_of(r);
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
                let target_roles = self.org.members.get(target).ok_or(MEMBER_NOT_FOUND)?;
                let requested = self.org.resolve(roles)?;
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
                let target_roles = self.org.members.get(target).ok_or(MEMBER_NOT_FOUND)?;
                remove_member(&a, *target, target_roles, &perms_of)?;
                Ok(Accepted {
                    status: 204,
                    audit: Some("member.removed"),
                    change: Change::Drop { user: *target },
                })
            }
            Request::Leave { actor } => {
                leave(&self.acting(*actor)?)?;
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
                let resolved = self.org.resolve(roles)?;
                add_member(&a, &resolved, &perms_of)?;
                if *target >= self.users {
                    return Err(USER_NOT_FOUND);
                }
                if self.org.members.contains_key(target) {
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
                if self.org.custom_by_name(name).is_some() {
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
                let id = self.org.custom_by_name(key).ok_or(ROLE_NOT_FOUND)?;
                let before = &self.org.custom[&id];
                if let Some(n) = name
                    && self.org.custom_by_name(n).is_some_and(|other| other != id)
                {
                    return Err(ROLE_NAME_TAKEN);
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
                    .org
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
                let id = self.org.custom_by_name(key).ok_or(ROLE_NOT_FOUND)?;
                if self
                    .org
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
                    let role_perms = self.org.perms_of(r);
                    self.grants.insert(
                        (user, r),
                        Grant {
                            role_perms,
                            ..grant.clone()
                        },
                    );
                }
                self.org.members.insert(user, roles);
            }
            Change::Add { user, roles, grant } => {
                for r in &roles {
                    let role_perms = self.org.perms_of(*r);
                    self.grants.insert(
                        (user, *r),
                        Grant {
                            role_perms,
                            ..grant.clone()
                        },
                    );
                }
                self.org.members.insert(user, roles);
            }
            Change::Drop { user } => {
                self.org.drop_member(user);
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
                self.org.create_custom(name, perms, server_id, author_perms);
            }
            Change::EditRole {
                id,
                name,
                perms,
                author_perms,
            } => {
                let c = self.org.custom.get_mut(&id).expect("edited role exists");
                c.name = name;
                c.perms = perms;
                c.author_perms = author_perms;
            }
            Change::DeleteRole { id } => {
                self.org.custom.remove(&id);
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
