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
}
