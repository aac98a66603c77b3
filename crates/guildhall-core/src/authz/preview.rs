//! What a change of a member's roles would do, before it is made: the roles and permissions it
//! adds and takes away, and every project whose reach it changes. Pure: the service gathers the
//! facts (the member's roles before and after, the organization's projects, the member's direct
//! and group grants) and answers this for `PATCH …/members/{user}?dry_run=true`.

use super::eval;
use crate::domain::permission::{Permission, ProjectRole};
use crate::domain::role::AssignedRole;
use std::collections::BTreeMap;

/// The difference a role change makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleChangePreview<P> {
    /// Roles held after and not before, by name.
    pub roles_added: Vec<String>,
    /// Roles held before and not after, by name.
    pub roles_removed: Vec<String>,
    /// Organization permissions held after and not before, in catalog order.
    pub permissions_gained: Vec<Permission>,
    /// Organization permissions held before and not after, in catalog order.
    pub permissions_lost: Vec<Permission>,
    /// Every project whose effective role changes, in the order the projects were given.
    pub projects: Vec<ReachChange<P>>,
}

/// One project whose effective role a change moves (R11: the strongest grant wins).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReachChange<P> {
    /// The project.
    pub project: P,
    /// The effective role before; `None` when the project was out of reach.
    pub before: Option<ProjectRole>,
    /// The effective role after.
    pub after: Option<ProjectRole>,
}

/// What replacing `before` by `after` does to a member whose direct and group grants are
/// `granted` (the strongest per project), over the organization's `projects`.
pub fn role_change<P: Ord + Clone>(
    before: &[AssignedRole],
    after: &[AssignedRole],
    projects: impl IntoIterator<Item = P>,
    granted: &BTreeMap<P, ProjectRole>,
) -> RoleChangePreview<P> {
    let names = |from: &[AssignedRole], without: &[AssignedRole]| -> Vec<String> {
        from.iter()
            .filter(|r| !without.iter().any(|w| w.same_role(r)))
            .map(|r| r.name().to_owned())
            .collect()
    };
    let (was, will) = (
        eval::permissions(before, None),
        eval::permissions(after, None),
    );
    let projects = projects
        .into_iter()
        .filter_map(|project| {
            let grant = granted.get(&project).copied();
            let (b, a) = (
                eval::project_role(was, grant),
                eval::project_role(will, grant),
            );
            (b != a).then_some(ReachChange {
                project,
                before: b,
                after: a,
            })
        })
        .collect();
    RoleChangePreview {
        roles_added: names(after, before),
        roles_removed: names(before, after),
        permissions_gained: will.minus(was).iter().collect(),
        permissions_lost: was.minus(will).iter().collect(),
        projects,
    }
}

/// What editing a custom role would do to the members who hold it: how many hold it, and for
/// each permission, how many of them would gain or lose it (a member who keeps a permission
/// through another role loses nothing).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleEditPreview {
    /// Members holding the role.
    pub holders: u64,
    /// Permissions some holders gain, in catalog order, with how many gain each.
    pub gained: Vec<(Permission, u64)>,
    /// Permissions some holders lose, in catalog order, with how many lose each.
    pub lost: Vec<(Permission, u64)>,
}

/// The impact of giving `role` the permissions `after`, over its `holders` (each holder's full
/// set of roles in the organization, `role` among them).
pub fn role_edit(
    role: &crate::domain::role::CustomRole,
    after: crate::domain::permission::PermSet,
    holders: &[Vec<AssignedRole>],
) -> RoleEditPreview {
    let mut edited = role.clone();
    edited.permissions = after;
    let edited = AssignedRole::Custom(edited);
    let mut gained: BTreeMap<Permission, u64> = BTreeMap::new();
    let mut lost: BTreeMap<Permission, u64> = BTreeMap::new();
    let target = AssignedRole::Custom(role.clone());
    for roles in holders {
        let now: Vec<AssignedRole> = roles
            .iter()
            .map(|r| {
                if r.same_role(&target) {
                    edited.clone()
                } else {
                    r.clone()
                }
            })
            .collect();
        let (was, will) = (
            eval::permissions(roles, None),
            eval::permissions(&now, None),
        );
        for p in will.minus(was).iter() {
            *gained.entry(p).or_default() += 1;
        }
        for p in was.minus(will).iter() {
            *lost.entry(p).or_default() += 1;
        }
    }
    let in_catalog_order = |m: BTreeMap<Permission, u64>| -> Vec<(Permission, u64)> {
        Permission::ALL
            .iter()
            .filter_map(|p| m.get(p).map(|n| (*p, *n)))
            .collect()
    };
    RoleEditPreview {
        holders: holders.len() as u64,
        gained: in_catalog_order(gained),
        lost: in_catalog_order(lost),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::permission::BuiltinRole;

    fn builtin(r: BuiltinRole) -> AssignedRole {
        AssignedRole::Builtin(r)
    }

    /// member → developer: gains the developer's permissions and reach over every project but
    /// the one already held as admin through a grant.
    #[test]
    fn promoting_a_member_to_developer_shows_what_it_opens() {
        let granted = BTreeMap::from([(2, ProjectRole::Admin)]);
        let p = role_change(
            &[builtin(BuiltinRole::Member)],
            &[builtin(BuiltinRole::Developer)],
            [1, 2, 3],
            &granted,
        );
        assert_eq!(p.roles_added, ["developer"]);
        assert_eq!(p.roles_removed, ["member"]);
        assert!(!p.permissions_gained.is_empty());
        assert!(p.permissions_lost.is_empty());
        let moved: Vec<_> = p.projects.iter().map(|c| c.project).collect();
        assert_eq!(moved, [1, 3]);
        assert!(
            p.projects
                .iter()
                .all(|c| c.before.is_none() && c.after.is_some())
        );
    }

    /// The same roles again change nothing.
    #[test]
    fn the_same_roles_preview_as_nothing() {
        let roles = [builtin(BuiltinRole::Manager)];
        let p = role_change(&roles, &roles, [1, 2], &BTreeMap::new());
        assert!(p.roles_added.is_empty() && p.roles_removed.is_empty());
        assert!(p.permissions_gained.is_empty() && p.permissions_lost.is_empty());
        assert!(p.projects.is_empty());
    }

    fn custom(name: &str, perms: &[Permission]) -> crate::domain::role::CustomRole {
        crate::domain::role::CustomRole {
            id: crate::domain::ids::RoleId(uuid::Uuid::from_u128(name.len() as u128 + 7)),
            name: name.to_owned(),
            permissions: perms.iter().copied().collect(),
        }
    }

    /// Adding a permission counts every holder who lacked it; taking one away counts only the
    /// holders who do not keep it through another role.
    #[test]
    fn a_role_edit_counts_who_gains_and_who_loses() {
        let role = custom(
            "auditor",
            &[Permission::AuditRead, Permission::ProjectsRead],
        );
        let alone = vec![AssignedRole::Custom(role.clone())];
        let with_dev = vec![
            AssignedRole::Custom(role.clone()),
            builtin(BuiltinRole::Developer),
        ];
        let after: crate::domain::permission::PermSet =
            [Permission::AuditRead, Permission::BillingRead]
                .into_iter()
                .collect();
        let p = role_edit(&role, after, &[alone, with_dev]);
        assert_eq!(p.holders, 2);
        assert_eq!(p.gained, [(Permission::BillingRead, 2)]);
        assert_eq!(p.lost, [(Permission::ProjectsRead, 1)]);
    }

    /// The same permissions again change nothing for anyone.
    #[test]
    fn an_unchanged_role_edit_previews_as_nothing() {
        let role = custom("ops", &[Permission::ProjectsDeploy]);
        let holders = vec![vec![AssignedRole::Custom(role.clone())]];
        let p = role_edit(&role, role.permissions, &holders);
        assert_eq!((p.holders, p.gained.len(), p.lost.len()), (1, 0, 0));
    }
}
