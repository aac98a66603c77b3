//! The in-memory index of grants the check API answers from, so it never waits on the database.
//!
//! Pure: it is built from [`OrgSnapshot`]s and changed by [`Index::apply`]; reading the store
//! and following other processes' changes is the service layer's (`service::index`). An
//! organization's grants are built aside ([`OrgGrants`]) and then written into the lookup tables
//! under one write lock, so a reader sees one organization either before or after a change,
//! never half of it.

use super::OrgSnapshot;
use super::eval;
use crate::domain::ids::{OrgId, ProjectId, UserId};
use crate::domain::permission::{PermSet, Permission, ProjectPermission, ProjectRole};
use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Maps keyed by ids the server generated (UUIDv7): foldhash instead of SipHash, since the
/// keys are not chosen by whoever asks and a check does several lookups (3x cheaper per id).
type IdMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// What one member holds in one organization.
#[derive(Clone, Debug, Default)]
pub struct MemberGrants {
    /// What their membership and roles add up to (`org.read` and the roles' permissions).
    pub permissions: PermSet,
    /// The strongest project role granted to them on each project, directly or through a group
    /// (R11), sorted by project. Kept beside the member, not the project, so a check finds it
    /// without another hash lookup; most members hold none or a few.
    pub projects: Box<[(ProjectId, ProjectRole)]>,
}

impl MemberGrants {
    /// A member's grants from their roles and every project role granted to them, directly or
    /// through a group (the strongest per project wins).
    pub fn build(
        roles: &[crate::domain::role::AssignedRole],
        granted: impl IntoIterator<Item = (ProjectId, ProjectRole)>,
    ) -> Self {
        MemberGrants {
            permissions: eval::permissions(roles, None),
            projects: eval::strongest_grants(granted).into_iter().collect(),
        }
    }

    /// R11: the strongest project role on `project`, organization-wide reach included; `None`
    /// when the project is out of reach. The caller knows `project` belongs to this organization.
    pub fn project_role(&self, project: ProjectId) -> Option<ProjectRole> {
        // The check's hot path: reach that is already the strongest role needs no lookup of the
        // granted one; the answer is `eval::project_role`'s either way.
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
        let mut grants: IdMap<UserId, Vec<(ProjectId, ProjectRole)>> = IdMap::default();
        for (project, user, role) in &s.direct {
            grants.entry(*user).or_default().push((*project, *role));
        }
        let mut places: IdMap<_, Vec<UserId>> = IdMap::default();
        for (group, user) in &s.group_members {
            places.entry(*group).or_default().push(*user);
        }
        for (group, project, role) in &s.group_projects {
            for user in places.get(group).into_iter().flatten() {
                grants.entry(*user).or_default().push((*project, *role));
            }
        }
        let members = s
            .members
            .iter()
            .map(|(u, roles)| {
                let held = grants.remove(u).unwrap_or_default();
                // Sorted by project, as `MemberGrants::granted` searches it.
                let projects: Box<[(ProjectId, ProjectRole)]> = eval::strongest_grants(
                    held.into_iter().filter(|(p, _)| projects.contains_key(p)),
                )
                .into_iter()
                .collect();
                let grants = MemberGrants {
                    permissions: eval::permissions(roles, None),
                    projects,
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

/// A process-local number for an organization, so the organizations a user belongs to fit in
/// a cache line or two. Given out when an organization enters the index, freed when it leaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Slot(u32);

/// One organization a user belongs to and what their roles add up to there: what a check reads.
#[derive(Clone, Copy, Debug)]
struct Membership {
    org: Slot,
    permissions: PermSet,
}

/// Each member of the organization in `slot` with what a check reads of them there.
fn memberships(slot: Slot, g: &OrgGrants) -> impl Iterator<Item = (UserId, Membership)> + '_ {
    g.members.iter().map(move |(user, member)| {
        (
            *user,
            Membership {
                org: slot,
                permissions: member.permissions,
            },
        )
    })
}

/// The tables a check reads are keyed by the question's own ids, so that the lookups a check
/// makes do not wait on each other: the project's (or organization's) slot and the user's
/// memberships are fetched side by side, and a granted project role is one more lookup keyed by
/// the (user, project) pair. Over a large index each lookup is a cache miss; independent misses
/// overlap, dependent ones add up.
#[derive(Default)]
struct Inner {
    /// Each organization's slot.
    slots: IdMap<OrgId, Slot>,
    /// By slot: the organization and its grants, for listings and for the next change.
    orgs: Vec<Option<(OrgId, OrgGrants)>>,
    /// Slots given back, for the next organization.
    free: Vec<Slot>,
    /// Each project's organization.
    projects: IdMap<ProjectId, Slot>,
    /// Each user's memberships, sorted by slot.
    users: IdMap<UserId, Box<[Membership]>>,
    /// The strongest project role granted to a member, directly or through a group (R11),
    /// organization-wide reach aside. Most members hold none.
    granted: IdMap<(UserId, ProjectId), ProjectRole>,
}

impl Inner {
    /// Replaces `org`'s grants (`None`: it is gone).
    fn put(&mut self, org: OrgId, grants: Option<OrgGrants>) {
        let slot = self.slots.get(&org).copied();
        if let Some(slot) = slot
            && let Some((_, old)) = self.orgs[slot.0 as usize].take()
        {
            self.forget(slot, &old);
        }
        match grants {
            Some(g) => {
                let slot = slot.unwrap_or_else(|| self.new_slot(org));
                for (user, m) in memberships(slot, &g) {
                    let list = self.users.entry(user).or_default();
                    let mut v = std::mem::take(list).into_vec();
                    let at = v.partition_point(|x| x.org < slot);
                    v.insert(at, m);
                    *list = v.into_boxed_slice();
                }
                self.learn(slot, org, g);
            }
            None => {
                if let Some(slot) = slot {
                    self.slots.remove(&org);
                    self.free.push(slot);
                }
            }
        }
    }

    /// Replaces one member's grants in `org` (`None`: no longer a member), leaving the rest of
    /// the organization as it is: what a change to one member's roles, group places or direct
    /// project roles needs. Granted roles on projects the organization does not hold are
    /// dropped, as a load drops them. `false` when `org` is not in the index (the caller loads
    /// the whole organization instead).
    fn put_member(&mut self, org: OrgId, user: UserId, grants: Option<MemberGrants>) -> bool {
        let Some(slot) = self.slots.get(&org).copied() else {
            return false;
        };
        let Some((_, og)) = self.orgs[slot.0 as usize].as_mut() else {
            return false;
        };
        if let Some(old) = og.members.remove(&user) {
            for (p, _) in &old.projects {
                self.granted.remove(&(user, *p));
            }
            if let Some(list) = self.users.get_mut(&user) {
                if list.len() == 1 && list[0].org == slot {
                    self.users.remove(&user);
                } else {
                    *list = list.iter().filter(|m| m.org != slot).copied().collect();
                }
            }
        }
        let Some(mut member) = grants else {
            return true;
        };
        if member
            .projects
            .iter()
            .any(|(p, _)| !og.projects.contains_key(p))
        {
            member.projects = member
                .projects
                .iter()
                .filter(|(p, _)| og.projects.contains_key(p))
                .copied()
                .collect();
        }
        for (p, role) in &member.projects {
            self.granted.insert((user, *p), *role);
        }
        let list = self.users.entry(user).or_default();
        let mut v = std::mem::take(list).into_vec();
        let at = v.partition_point(|x| x.org < slot);
        v.insert(
            at,
            Membership {
                org: slot,
                permissions: member.permissions,
            },
        );
        *list = v.into_boxed_slice();
        og.members.insert(user, member);
        true
    }

    fn new_slot(&mut self, org: OrgId) -> Slot {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.orgs.push(None);
            Slot(u32::try_from(self.orgs.len() - 1).expect("fewer than 2^32 organizations"))
        });
        self.slots.insert(org, slot);
        slot
    }

    /// Adds `g`'s projects and granted roles, and keeps `g` in `slot` (memberships are added by
    /// the caller: one at a time, or all sorted at once by a load).
    fn learn(&mut self, slot: Slot, org: OrgId, g: OrgGrants) {
        for p in g.projects.keys() {
            self.projects.insert(*p, slot);
        }
        for (user, member) in &g.members {
            for (p, role) in &member.projects {
                self.granted.insert((*user, *p), *role);
            }
        }
        self.orgs[slot.0 as usize] = Some((org, g));
    }

    /// Removes everything `old` put in the tables for `slot`.
    fn forget(&mut self, slot: Slot, old: &OrgGrants) {
        for p in old.projects.keys() {
            self.projects.remove(p);
        }
        for (user, member) in &old.members {
            for (p, _) in &member.projects {
                self.granted.remove(&(*user, *p));
            }
            if let Some(list) = self.users.get_mut(user) {
                if list.len() == 1 {
                    self.users.remove(user);
                } else {
                    *list = list.iter().filter(|m| m.org != slot).copied().collect();
                }
            }
        }
    }

    /// Builds the tables for many organizations at once (a load), sorting each user's
    /// memberships once instead of once per organization. A repeated organization: the later wins.
    fn bulk(grants: impl Iterator<Item = (OrgId, OrgGrants)>) -> Inner {
        let latest: IdMap<OrgId, OrgGrants> = grants.collect();
        let mut inner = Inner::default();
        let mut users: IdMap<UserId, Vec<Membership>> = IdMap::default();
        for (org, g) in latest {
            let slot = inner.new_slot(org);
            for (user, m) in memberships(slot, &g) {
                users.entry(user).or_default().push(m);
            }
            inner.learn(slot, org, g);
        }
        inner.users = users
            .into_iter()
            .map(|(u, mut v)| {
                v.sort_unstable_by_key(|m| m.org);
                (u, v.into_boxed_slice())
            })
            .collect();
        inner
    }

    /// The organization a project belongs to, if the index knows it.
    fn org_of(&self, project: ProjectId) -> Option<OrgId> {
        let slot = self.projects.get(&project)?;
        self.org_at(*slot).map(|(org, _)| *org)
    }

    /// Whether `user` holds `permission` in `org`. Unknown users and organizations hold nothing.
    fn check_org(&self, user: UserId, permission: Permission, org: OrgId) -> bool {
        let slot = self.slots.get(&org).copied();
        self.membership(&user, slot)
            .is_some_and(|m| m.permissions.contains(permission))
    }

    /// Whether `user` may do `permission` on `project` (R11). Unknown anything: no.
    fn check_project(
        &self,
        user: UserId,
        permission: ProjectPermission,
        project: ProjectId,
    ) -> bool {
        let slot = self.projects.get(&project).copied();
        let Some(member) = self.membership(&user, slot) else {
            return false;
        };
        let reach = ProjectRole::from_org(member.permissions);
        if reach.is_some_and(|r| r.allows(permission)) {
            return true;
        }
        let granted = self.granted.get(&(user, project)).copied();
        eval::project_role(member.permissions, granted).is_some_and(|r| r.allows(permission))
    }

    /// Every project `user` may do `permission` on, by organization then project name.
    fn projects_of(&self, user: UserId, permission: ProjectPermission) -> Vec<Reach> {
        let mut out = Vec::new();
        for m in self.users.get(&user).into_iter().flatten() {
            let Some((org, g)) = self.org_at(m.org) else {
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
        out.sort_by_cached_key(|r| (r.org, crate::domain::names::name_key(&r.name), r.project));
        out
    }

    fn org_at(&self, slot: Slot) -> Option<&(OrgId, OrgGrants)> {
        self.orgs.get(slot.0 as usize).and_then(Option::as_ref)
    }

    fn membership(&self, user: &UserId, slot: Option<Slot>) -> Option<Membership> {
        let (list, slot) = (self.users.get(user)?, slot?);
        list.binary_search_by_key(&slot, |m| m.org)
            .ok()
            .map(|i| list[i])
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
}

impl Index {
    /// An index over `snapshots` at `revision`. Owned snapshots are dropped one by one as their
    /// grants are built, which keeps a large load's peak down.
    pub fn new<S: std::borrow::Borrow<OrgSnapshot>>(
        revision: u64,
        snapshots: impl IntoIterator<Item = S>,
    ) -> Index {
        let inner = Inner::bulk(snapshots.into_iter().filter_map(|s| {
            let s = s.borrow();
            Some((s.org?, OrgGrants::from_snapshot(s)))
        }));
        Index {
            inner: RwLock::new(inner),
            revision: AtomicU64::new(revision),
        }
    }

    /// The revision every answer is computed at (at least).
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }

    /// Replaces the grants of each organization in `changes` (`None`: it is gone), then moves
    /// to `revision`. Under one write lock: a reader sees every changed organization before or
    /// after, never some of them.
    pub fn apply(&self, changes: Vec<(OrgId, Option<OrgGrants>)>, revision: u64) {
        self.apply_with_members(changes, Vec::new(), revision);
    }

    /// [`Index::apply`], and replaces single members' grants (`None`: no longer a member)
    /// without rebuilding their organization, so the write lock is held for those members
    /// only. Members of an organization the index does not hold are left out: the caller loads
    /// such an organization whole. All under one write lock, then `revision`.
    pub fn apply_with_members(
        &self,
        changes: Vec<(OrgId, Option<OrgGrants>)>,
        members: Vec<(OrgId, UserId, Option<MemberGrants>)>,
        revision: u64,
    ) {
        {
            let mut inner = self
                .inner
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (org, grants) in changes {
                inner.put(org, grants);
            }
            for (org, user, grants) in members {
                inner.put_member(org, user, grants);
            }
        }
        self.revision.store(revision, Ordering::Release);
    }

    /// Whether the index holds `org`.
    pub fn knows(&self, org: OrgId) -> bool {
        self.read().slots.contains_key(&org)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The organization a project belongs to, if the index knows it.
    pub fn org_of(&self, project: ProjectId) -> Option<OrgId> {
        self.read().org_of(project)
    }

    /// Whether `user` holds `permission` in `org`. Unknown users and organizations hold nothing.
    pub fn check_org(&self, user: UserId, permission: Permission, org: OrgId) -> bool {
        self.read().check_org(user, permission, org)
    }

    /// Whether `user` may do `permission` on `project` (R11). Unknown anything: no.
    pub fn check_project(
        &self,
        user: UserId,
        permission: ProjectPermission,
        project: ProjectId,
    ) -> bool {
        self.read().check_project(user, permission, project)
    }

    /// Every project `user` may do `permission` on, by organization then project name.
    pub fn projects_of(&self, user: UserId, permission: ProjectPermission) -> Vec<Reach> {
        self.read().projects_of(user, permission)
    }
}

#[cfg(test)]
mod tests {
    //! The lookup tables against the plain per-organization grants they are built from: after any
    //! sequence of changes (as `catch_up` applies them) and after a bulk load of the same state.
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const ORGS: usize = 4;
    const USERS: usize = 6;
    const PROJECTS: usize = 8;

    /// The organizations', users' and projects' ids.
    type Ids = (Vec<OrgId>, Vec<UserId>, Vec<ProjectId>);

    /// A member: user, permission bits, granted (project, role index).
    type Member = (usize, u32, Vec<(usize, usize)>);

    fn ids() -> Ids {
        (
            (0..ORGS).map(|_| OrgId(uuid::Uuid::now_v7())).collect(),
            (0..USERS).map(|_| UserId(uuid::Uuid::now_v7())).collect(),
            (0..PROJECTS)
                .map(|_| ProjectId(uuid::Uuid::now_v7()))
                .collect(),
        )
    }

    /// A change: an organization's new grants, or its removal. Project `p` belongs to
    /// organization `p % ORGS`, as a project never moves.
    #[derive(Clone, Debug)]
    enum Change {
        Put {
            org: usize,
            members: Vec<Member>,
            projects: Vec<bool>,
        },
        Remove(usize),
        /// One member's grants replaced (`None`: removed), the rest of the organization kept.
        Member {
            org: usize,
            member: Member,
            remove: bool,
        },
    }

    fn change() -> impl Strategy<Value = Change> {
        prop_oneof![
            4 => (
                0..ORGS,
                proptest::collection::vec(
                    (0..USERS, any::<u32>(), proptest::collection::vec((0..PROJECTS, 0..3usize), 0..3)),
                    0..USERS,
                ),
                proptest::collection::vec(any::<bool>(), PROJECTS),
            )
                .prop_map(|(org, members, projects)| Change::Put { org, members, projects }),
            1 => (0..ORGS).prop_map(Change::Remove),
            4 => (
                0..ORGS,
                (0..USERS, any::<u32>(), proptest::collection::vec((0..PROJECTS, 0..3usize), 0..4)),
                proptest::bool::weighted(0.25),
            )
                .prop_map(|(org, member, remove)| Change::Member { org, member, remove }),
        ]
    }

    fn grants(ids: &Ids, org: usize, members: &[Member], projects: &[bool]) -> OrgGrants {
        let own = |p: usize| p % ORGS == org && projects[p];
        let mut g = OrgGrants {
            projects: (0..PROJECTS)
                .filter(|p| own(*p))
                .map(|p| (ids.2[p], format!("p{p}")))
                .collect(),
            ..OrgGrants::default()
        };
        for (u, bits, held) in members {
            let mut projects: Vec<(ProjectId, ProjectRole)> = held
                .iter()
                .filter(|(p, _)| own(*p))
                .map(|(p, r)| (ids.2[*p], ProjectRole::ALL[*r]))
                .collect();
            projects.sort_unstable_by_key(|(p, _)| *p);
            projects.dedup_by_key(|(p, _)| *p);
            let permissions = Permission::ALL
                .iter()
                .enumerate()
                .filter(|(i, _)| bits >> (i % 32) & 1 == 1)
                .map(|(_, p)| *p)
                .collect();
            g.members.insert(
                ids.1[*u],
                MemberGrants {
                    permissions,
                    projects: projects.into_boxed_slice(),
                },
            );
        }
        g
    }

    /// Every answer of `inner` is the one `truth` (each organization's grants) gives.
    fn agrees(
        inner: &Inner,
        truth: &BTreeMap<usize, OrgGrants>,
        ids: &Ids,
    ) -> Result<(), TestCaseError> {
        for (u, user) in ids.1.iter().enumerate() {
            for (o, org) in ids.0.iter().enumerate() {
                for p in Permission::ALL {
                    let want = truth
                        .get(&o)
                        .and_then(|g| g.members.get(user))
                        .is_some_and(|m| m.permissions.contains(*p));
                    prop_assert_eq!(
                        inner.check_org(*user, *p, *org),
                        want,
                        "user {} org {} {:?}",
                        u,
                        o,
                        p
                    );
                }
            }
            for (j, project) in ids.2.iter().enumerate() {
                let role = truth
                    .get(&(j % ORGS))
                    .and_then(|g| g.project_role(*user, *project));
                for p in ProjectPermission::ALL {
                    let want = role.is_some_and(|r| r.allows(*p));
                    prop_assert_eq!(
                        inner.check_project(*user, *p, *project),
                        want,
                        "user {} project {} {:?}",
                        u,
                        j,
                        p
                    );
                }
            }
            let listed: Vec<(OrgId, ProjectId, ProjectRole)> = inner
                .projects_of(*user, ProjectPermission::Read)
                .into_iter()
                .map(|r| (r.org, r.project, r.role))
                .collect();
            let mut want: Vec<(OrgId, ProjectId, ProjectRole)> = truth
                .iter()
                .flat_map(|(o, g)| {
                    g.projects
                        .keys()
                        .filter_map(move |p| g.project_role(*user, *p).map(|r| (ids.0[*o], *p, r)))
                })
                .collect();
            let mut got = listed.clone();
            got.sort();
            want.sort();
            prop_assert_eq!(got, want, "projects of user {}", u);
        }
        for (j, project) in ids.2.iter().enumerate() {
            let want = truth
                .get(&(j % ORGS))
                .filter(|g| g.projects.contains_key(project))
                .map(|_| ids.0[j % ORGS]);
            prop_assert_eq!(inner.org_of(*project), want, "org of project {}", j);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn changes_and_loads_answer_as_the_grants_say(changes in proptest::collection::vec(change(), 1..25)) {
            let ids = ids();
            let mut inner = Inner::default();
            let mut truth: BTreeMap<usize, OrgGrants> = BTreeMap::new();
            for c in &changes {
                match c {
                    Change::Put { org, members, projects } => {
                        inner.put(ids.0[*org], Some(grants(&ids, *org, members, projects)));
                        truth.insert(*org, grants(&ids, *org, members, projects));
                    }
                    Change::Remove(org) => {
                        inner.put(ids.0[*org], None);
                        truth.remove(org);
                    }
                    Change::Member { org, member, remove } => {
                        let user = ids.1[member.0];
                        let Some(g) = truth.get_mut(org) else {
                            // Not in the index: refused, for the caller to load it whole.
                            prop_assert!(!inner.put_member(ids.0[*org], user, None));
                            continue;
                        };
                        if *remove {
                            g.members.remove(&user);
                            prop_assert!(inner.put_member(ids.0[*org], user, None));
                        } else {
                            // As the organization's own projects decide: the index is handed
                            // every grant the member holds, foreign projects among them.
                            let held: Vec<(ProjectId, ProjectRole)> =
                                member.2.iter().map(|(p, r)| (ids.2[*p], ProjectRole::ALL[*r])).collect();
                            let mut m = MemberGrants {
                                permissions: grants(&ids, *org, std::slice::from_ref(member), &[true; PROJECTS])
                                    .members[&user].permissions,
                                projects: eval::strongest_grants(held).into_iter().collect(),
                            };
                            prop_assert!(inner.put_member(ids.0[*org], user, Some(m.clone())));
                            m.projects = m.projects.iter().filter(|(p, _)| g.projects.contains_key(p)).copied().collect();
                            g.members.insert(user, m);
                        }
                    }
                }
                agrees(&inner, &truth, &ids)?;
            }
            let loaded = Inner::bulk(truth.iter().map(|(o, g)| (ids.0[*o], g.clone())));
            agrees(&loaded, &truth, &ids)?;
            // Nothing is left behind by removed or replaced organizations.
            prop_assert_eq!(inner.projects.len(), loaded.projects.len());
            prop_assert_eq!(inner.granted.len(), loaded.granted.len());
            prop_assert_eq!(inner.users.len(), loaded.users.len());
            prop_assert_eq!(inner.slots.len(), truth.len());
        }
    }
}
