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
use crate::domain::role::permissions_of;
use crate::store::{OrgSnapshot, Store, StoreResult};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Maps keyed by ids the server generated (UUIDv7): foldhash instead of SipHash, since the
/// keys are not chosen by whoever asks and a check does several lookups (3x cheaper per id).
type IdMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// What one member holds in one organization.
#[derive(Clone, Debug, Default)]
pub struct MemberGrants {
    /// What their roles add up to.
    pub permissions: PermSet,
    /// The strongest project role granted to them on each project, directly or through a group
    /// (R11), sorted by project. Kept beside the member, not the project, so a check finds it
    /// without another hash lookup; most members hold none or a few.
    pub projects: Box<[(ProjectId, ProjectRole)]>,
}

impl MemberGrants {
    /// R11: the strongest project role on `project`, organization-wide reach included; `None`
    /// when the project is out of reach. The caller knows `project` belongs to this organization.
    pub fn project_role(&self, project: ProjectId) -> Option<ProjectRole> {
        let reach = ProjectRole::from_org(self.permissions);
        if reach == Some(ProjectRole::Admin) {
            return reach;
        }
        eval::project_role(self.permissions, self.granted(project))
    }

    /// The strongest role granted on `project` directly or through a group, reach aside.
    pub fn granted(&self, project: ProjectId) -> Option<ProjectRole> {
        self.projects
            .binary_search_by_key(&project, |(p, _)| *p)
            .ok()
            .map(|i| self.projects[i].1)
    }
}

/// Everything that decides access in one organization.
#[derive(Clone, Debug, Default)]
pub struct OrgGrants {
    /// Members and their permissions.
    pub members: IdMap<UserId, MemberGrants>,
    /// Projects and their names.
    pub projects: IdMap<ProjectId, String>,
}

impl OrgGrants {
    /// Builds an organization's grants from what the store holds.
    pub fn from_snapshot(s: &OrgSnapshot) -> Self {
        let projects: IdMap<ProjectId, String> = s.projects.iter().cloned().collect();
        let mut granted: IdMap<UserId, IdMap<ProjectId, ProjectRole>> = IdMap::default();
        let mut grant = |project: ProjectId, user: UserId, role: ProjectRole| {
            if projects.contains_key(&project) {
                let held = granted
                    .entry(user)
                    .or_default()
                    .entry(project)
                    .or_insert(role);
                *held = (*held).max(role);
            }
        };
        for (project, user, role) in &s.direct {
            grant(*project, *user, *role);
        }
        let mut places: IdMap<_, Vec<UserId>> = IdMap::default();
        for (group, user) in &s.group_members {
            places.entry(*group).or_default().push(*user);
        }
        for (group, project, role) in &s.group_projects {
            for user in places.get(group).into_iter().flatten() {
                grant(*project, *user, *role);
            }
        }
        let members = s
            .members
            .iter()
            .map(|(u, roles)| {
                let mut projects: Vec<(ProjectId, ProjectRole)> = granted
                    .remove(u)
                    .map(|m| m.into_iter().collect())
                    .unwrap_or_default();
                projects.sort_unstable_by_key(|(p, _)| *p);
                let grants = MemberGrants {
                    permissions: permissions_of(roles),
                    projects: projects.into_boxed_slice(),
                };
                (*u, grants)
            })
            .collect();
        OrgGrants { members, projects }
    }

    /// R11: the strongest project role `user` holds on `project`, organization-wide reach
    /// included; `None` when the project is out of reach.
    pub fn project_role(&self, user: UserId, project: ProjectId) -> Option<ProjectRole> {
        if !self.projects.contains_key(&project) {
            return None;
        }
        self.members.get(&user)?.project_role(project)
    }
}

#[derive(Default)]
struct Inner {
    orgs: IdMap<OrgId, Arc<OrgGrants>>,
    /// Each project's organization and that organization's grants, so a project check is one
    /// lookup away from the member.
    projects: IdMap<ProjectId, (OrgId, Arc<OrgGrants>)>,
    user_orgs: IdMap<UserId, Vec<OrgId>>,
}

impl Inner {
    fn put(&mut self, org: OrgId, grants: Option<OrgGrants>) {
        if let Some(old) = self.orgs.remove(&org) {
            for p in old.projects.keys() {
                self.projects.remove(p);
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
            let g = Arc::new(g);
            for p in g.projects.keys() {
                self.projects.insert(*p, (org, g.clone()));
            }
            for u in g.members.keys() {
                self.user_orgs.entry(*u).or_default().push(org);
            }
            self.orgs.insert(org, g);
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
        // Owned: each snapshot is dropped as soon as its grants are built, to keep the peak down.
        Ok(Index::new(store, revision, snapshots))
    }

    /// An index over `snapshots` at `revision`, for tools and benchmarks that build grants in
    /// memory; `catch_up` and `follow` still read `store`.
    pub fn from_snapshots(
        store: Arc<dyn Store>,
        revision: u64,
        snapshots: &[OrgSnapshot],
    ) -> Arc<Index> {
        Index::new(store, revision, snapshots)
    }

    fn new<S: std::borrow::Borrow<OrgSnapshot>>(
        store: Arc<dyn Store>,
        revision: u64,
        snapshots: impl IntoIterator<Item = S>,
    ) -> Arc<Index> {
        let mut inner = Inner::default();
        for s in snapshots {
            let s = s.borrow();
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
        inner.projects.get(&project).map(|(org, _)| *org)
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
            .projects
            .get(&project)
            .and_then(|(_, g)| g.members.get(&user))
            .and_then(|m| m.project_role(project))
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
            let Some(member) = g.members.get(&user) else {
                continue;
            };
            for (id, name) in &g.projects {
                if let Some(role) = member.project_role(*id).filter(|r| r.allows(permission)) {
                    out.push(Reach {
                        org: *org,
                        project: *id,
                        name: name.clone(),
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
