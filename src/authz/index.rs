//! The in-memory index of grants the check API answers from, so it never waits on the database.
//!
//! Loaded at start; after every commit that changes grants, and on every PostgreSQL notification
//! from another process (with a periodic poll as the safety net), it reloads exactly the
//! organizations changed since the revision it knows. Each organization's grants are an
//! immutable `Arc` swapped whole, so a reader sees one organization either before or after a
//! change, never half of it.

use super::eval;
use crate::domain::ids::{OrgId, ProjectId, UserId};
use crate::domain::permission::{PermSet, Permission, ProjectPermission, ProjectRole};
use crate::domain::role::{AssignedRole, permissions_of};
use crate::store::{OrgSnapshot, Store, StoreResult};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// What one member holds in one organization.
#[derive(Clone, Debug, Default)]
pub struct MemberGrants {
    /// The member's roles.
    pub roles: Vec<AssignedRole>,
    /// What they add up to.
    pub permissions: PermSet,
}

/// One project's grants: the strongest project role each member holds on it through a direct
/// grant or a group (R11). Organization-wide reach is added at check time.
#[derive(Clone, Debug, Default)]
pub struct ProjectGrants {
    /// The project's name.
    pub name: String,
    /// Member → strongest granted role.
    pub roles: HashMap<UserId, ProjectRole>,
}

/// Everything that decides access in one organization.
#[derive(Clone, Debug, Default)]
pub struct OrgGrants {
    /// Members and their permissions.
    pub members: HashMap<UserId, MemberGrants>,
    /// Projects and their grants.
    pub projects: HashMap<ProjectId, ProjectGrants>,
}

impl OrgGrants {
    /// Builds an organization's grants from what the store holds.
    pub fn from_snapshot(s: &OrgSnapshot) -> Self {
        let members: HashMap<UserId, MemberGrants> = s
            .members
            .iter()
            .map(|(u, roles)| {
                let grants = MemberGrants {
                    permissions: permissions_of(roles),
                    roles: roles.clone(),
                };
                (*u, grants)
            })
            .collect();
        let mut projects: HashMap<ProjectId, ProjectGrants> = s
            .projects
            .iter()
            .map(|(id, name)| {
                let grants = ProjectGrants {
                    name: name.clone(),
                    roles: HashMap::new(),
                };
                (*id, grants)
            })
            .collect();
        let mut grant = |project: ProjectId, user: UserId, role: ProjectRole| {
            if let Some(p) = projects.get_mut(&project) {
                let held = p.roles.entry(user).or_insert(role);
                *held = (*held).max(role);
            }
        };
        for (project, user, role) in &s.direct {
            grant(*project, *user, *role);
        }
        let mut places: HashMap<_, Vec<UserId>> = HashMap::new();
        for (group, user) in &s.group_members {
            places.entry(*group).or_default().push(*user);
        }
        for (group, project, role) in &s.group_projects {
            for user in places.get(group).into_iter().flatten() {
                grant(*project, *user, *role);
            }
        }
        OrgGrants { members, projects }
    }

    /// R11: the strongest project role `user` holds on `project`, organization-wide reach
    /// included; `None` when the project is out of reach.
    pub fn project_role(&self, user: UserId, project: ProjectId) -> Option<ProjectRole> {
        let member = self.members.get(&user)?;
        let granted = self
            .projects
            .get(&project)
            .and_then(|p| p.roles.get(&user).copied());
        eval::project_role(member.permissions, granted)
    }
}

#[derive(Default)]
struct Inner {
    orgs: HashMap<OrgId, Arc<OrgGrants>>,
    project_org: HashMap<ProjectId, OrgId>,
    user_orgs: HashMap<UserId, Vec<OrgId>>,
}

impl Inner {
    fn put(&mut self, org: OrgId, grants: Option<OrgGrants>) {
        if let Some(old) = self.orgs.remove(&org) {
            for p in old.projects.keys() {
                self.project_org.remove(p);
            }
            for u in old.members.keys() {
                if let Some(list) = self.user_orgs.get_mut(u) {
                    list.retain(|o| *o != org);
                    if list.is_empty() {
                        self.user_orgs.remove(u);
                    }
                }
            }
        }
        if let Some(g) = grants {
            for p in g.projects.keys() {
                self.project_org.insert(*p, org);
            }
            for u in g.members.keys() {
                self.user_orgs.entry(*u).or_default().push(org);
            }
            self.orgs.insert(org, Arc::new(g));
        }
    }
}

/// A project a user reaches, for listings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reach {
    /// The organization.
    pub org: OrgId,
    /// The project.
    pub project: ProjectId,
    /// Its name.
    pub name: String,
    /// The strongest role the user holds on it.
    pub role: ProjectRole,
}

/// The index, shared by every request of this process.
pub struct Index {
    inner: RwLock<Inner>,
    revision: AtomicU64,
    store: Arc<dyn Store>,
    catching_up: tokio::sync::Mutex<()>,
}

impl Index {
    /// Loads every organization's grants from `store`.
    pub async fn load(store: Arc<dyn Store>) -> StoreResult<Arc<Index>> {
        let mut tx = store.read().await?;
        let revision = tx.revision().await?;
        let snapshots = tx.load_grants(None).await?;
        drop(tx);
        Ok(Index::from_snapshots(store, revision, &snapshots))
    }

    /// An index over `snapshots` at `revision`, for tools and benchmarks that build grants in
    /// memory; `catch_up` and `follow` still read `store`.
    pub fn from_snapshots(
        store: Arc<dyn Store>,
        revision: u64,
        snapshots: &[OrgSnapshot],
    ) -> Arc<Index> {
        let mut inner = Inner::default();
        for s in snapshots {
            if let Some(org) = s.org {
                inner.put(org, Some(OrgGrants::from_snapshot(s)));
            }
        }
        Arc::new(Index {
            inner: RwLock::new(inner),
            revision: AtomicU64::new(revision),
            store,
            catching_up: tokio::sync::Mutex::new(()),
        })
    }

    /// The revision every answer is computed at (at least).
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }

    /// Reloads the organizations changed since the known revision. Concurrent callers wait for
    /// one reload instead of repeating it.
    pub async fn catch_up(&self) -> StoreResult<u64> {
        let _one = self.catching_up.lock().await;
        let known = self.revision();
        let mut tx = self.store.read().await?;
        let (orgs, newest) = tx.grant_changes_since(known).await?;
        if orgs.is_empty() {
            return Ok(known);
        }
        let mut fresh = Vec::with_capacity(orgs.len());
        for org in orgs {
            let snap = tx.load_grants(Some(org)).await?.into_iter().next();
            fresh.push((org, snap.map(|s| OrgGrants::from_snapshot(&s))));
        }
        drop(tx);
        {
            let mut inner = self
                .inner
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (org, grants) in fresh {
                inner.put(org, grants);
            }
        }
        self.revision.store(newest, Ordering::Release);
        Ok(newest)
    }

    /// Follows changes made by other processes: wakes on each notification, and polls every
    /// `poll` in case one was lost.
    pub fn follow(
        self: &Arc<Self>,
        mut notifications: Option<tokio::sync::mpsc::Receiver<()>>,
        poll: Duration,
    ) {
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                match notifications.as_mut() {
                    Some(rx) => {
                        tokio::select! {
                            got = rx.recv() => if got.is_none() { notifications = None },
                            () = tokio::time::sleep(poll) => {}
                        }
                    }
                    None => tokio::time::sleep(poll).await,
                }
                let Some(index) = me.upgrade() else { return };
                if let Err(e) = index.catch_up().await {
                    tracing::warn!(error = %e, "could not refresh the authorization index");
                }
            }
        });
    }

    /// The organization a project belongs to, if the index knows it.
    pub fn org_of(&self, project: ProjectId) -> Option<OrgId> {
        let inner = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner.project_org.get(&project).copied()
    }

    /// Whether `user` holds `permission` in `org`. Unknown users and organizations hold nothing.
    pub fn check_org(&self, user: UserId, permission: Permission, org: OrgId) -> bool {
        let inner = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner
            .orgs
            .get(&org)
            .and_then(|g| g.members.get(&user))
            .is_some_and(|m| m.permissions.contains(permission))
    }

    /// Whether `user` may do `permission` on `project` (R11). Unknown anything: no.
    pub fn check_project(
        &self,
        user: UserId,
        permission: ProjectPermission,
        project: ProjectId,
    ) -> bool {
        let inner = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        inner
            .project_org
            .get(&project)
            .and_then(|org| inner.orgs.get(org))
            .and_then(|g| g.project_role(user, project))
            .is_some_and(|role| role.allows(permission))
    }

    /// Every project `user` may do `permission` on, by organization then project name.
    pub fn projects_of(&self, user: UserId, permission: ProjectPermission) -> Vec<Reach> {
        let inner = self
            .inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut out = Vec::new();
        for org in inner.user_orgs.get(&user).into_iter().flatten() {
            let Some(g) = inner.orgs.get(org) else {
                continue;
            };
            for (id, p) in &g.projects {
                if let Some(role) = g.project_role(user, *id).filter(|r| r.allows(permission)) {
                    out.push(Reach {
                        org: *org,
                        project: *id,
                        name: p.name.clone(),
                        role,
                    });
                }
            }
        }
        out.sort_by(|a, b| {
            (a.org, a.name.to_lowercase(), a.project).cmp(&(
                b.org,
                b.name.to_lowercase(),
                b.project,
            ))
        });
        out
    }
}
