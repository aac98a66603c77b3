//! The evaluator: from the roles a member holds (and an API token's limits) to the permissions a
//! request may use, with where each one comes from. Pure: no IO.

use crate::domain::permission::{PermSet, Permission, ProjectRole};
use crate::domain::role::AssignedRole;
use std::collections::BTreeMap;

/// Where a permission comes from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Source {
    /// `role` for a built-in role, `custom_role` for one of the organization's own,
    /// `membership` for what every membership carries (`org.read`, with `role` `member`).
    pub kind: &'static str,
    /// The role's name.
    pub role: String,
}

/// One permission a member holds, with every grant that gives it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Grant {
    /// The permission's wire name.
    pub permission: Permission,
    /// The grants that give it.
    pub sources: Vec<Source>,
}

/// Every permission a member with `roles` holds, in catalog order, each with where it comes
/// from: the membership itself for the floor, then the roles that carry it.
pub fn explain(roles: &[AssignedRole]) -> Vec<Grant> {
    Permission::ALL
        .iter()
        .filter_map(|&permission| {
            let floor = (permission == MEMBERSHIP_FLOOR).then(|| Source {
                kind: "membership",
                role: "member".to_owned(),
            });
            let sources: Vec<Source> = floor
                .into_iter()
                .chain(
                    roles
                        .iter()
                        .filter(|r| r.permissions().contains(permission))
                        .map(|r| Source {
                            kind: match r {
                                AssignedRole::Builtin(_) => "role",
                                AssignedRole::Custom(_) => "custom_role",
                            },
                            role: r.name().to_owned(),
                        }),
                )
                .collect();
            (!sources.is_empty()).then_some(Grant {
                permission,
                sources,
            })
        })
        .collect()
}

/// Where a project role comes from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ProjectSource {
    /// `role` or `custom_role` (organization-wide reach), `group` or `direct`.
    pub kind: &'static str,
    /// The role's or group's name; absent for a direct grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The project role this source gives.
    pub role: ProjectRole,
}

/// A member's reach over every project of the organization at once, from their roles.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OrgWideReach {
    /// The strongest role it gives on every project.
    pub role: ProjectRole,
    /// The roles it comes from.
    pub sources: Vec<ProjectSource>,
}

/// The organization-wide project reach `roles` give (R11), with its sources.
pub fn explain_org_reach(roles: &[AssignedRole]) -> Option<OrgWideReach> {
    let sources: Vec<ProjectSource> = roles
        .iter()
        .filter_map(|r| {
            ProjectRole::from_org(r.permissions()).map(|role| ProjectSource {
                kind: match r {
                    AssignedRole::Builtin(_) => "role",
                    AssignedRole::Custom(_) => "custom_role",
                },
                name: Some(r.name().to_owned()),
                role,
            })
        })
        .collect();
    let role = sources.iter().map(|s| s.role).max()?;
    Some(OrgWideReach { role, sources })
}

/// What a request may use in an organization (the membership floor, the roles, an API token's
/// narrowing): the one function every organization-scope question starts from, kept in
/// `domain::role` so that the rules use it too.
pub use crate::domain::role::{MEMBERSHIP_FLOOR, member_permissions as permissions};

/// R11: the strongest grant wins. Folds the project roles granted to one member, directly or
/// through groups and in any order, into the strongest on each project.
pub fn strongest_grants<P: Ord>(
    grants: impl IntoIterator<Item = (P, ProjectRole)>,
) -> BTreeMap<P, ProjectRole> {
    let mut out = BTreeMap::new();
    for (project, role) in grants {
        let held = out.entry(project).or_insert(role);
        *held = (*held).max(role);
    }
    out
}

/// R11: the strongest project role a member holds on a project: organization-wide reach from
/// their permissions, or a role granted on it (directly or through a group), whichever is stronger.
/// Every project-scope question (a project's page, listings, effective permissions, the check
/// API) is answered with this.
pub fn project_role(org_permissions: PermSet, granted: Option<ProjectRole>) -> Option<ProjectRole> {
    ProjectRole::from_org(org_permissions).max(granted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::RoleId;
    use crate::domain::permission::BuiltinRole;
    use crate::domain::role::CustomRole;
    use crate::domain::role::permissions_of;

    #[test]
    fn the_strongest_grant_wins_whatever_the_order() {
        use ProjectRole::{Admin, Contributor, Viewer};
        let grants = [
            (1, Viewer),
            (2, Contributor),
            (1, Admin),
            (2, Viewer),
            (3, Viewer),
        ];
        let want = BTreeMap::from([(1, Admin), (2, Contributor), (3, Viewer)]);
        assert_eq!(strongest_grants(grants), want);
        assert_eq!(strongest_grants(grants.into_iter().rev()), want);
    }

    #[test]
    fn every_membership_carries_org_read_whatever_its_roles() {
        let accounting = AssignedRole::Custom(CustomRole {
            id: RoleId(uuid::Uuid::now_v7()),
            name: "accounting".into(),
            permissions: [Permission::BillingRead, Permission::BillingManage]
                .into_iter()
                .collect(),
        });
        let roles = [accounting];
        assert!(!permissions_of(&roles).contains(Permission::OrgRead));
        assert!(permissions(&roles, None).contains(Permission::OrgRead));
        assert!(permissions(&[], None).contains(Permission::OrgRead));
        let grants = explain(&roles);
        assert_eq!(grants[0].permission, Permission::OrgRead);
        assert_eq!(
            grants[0].sources,
            [Source {
                kind: "membership",
                role: "member".into()
            }]
        );
        // A token limited to other permissions does not get it back.
        let limit = [Permission::BillingRead].into_iter().collect();
        assert!(!permissions(&roles, Some(limit)).contains(Permission::OrgRead));
    }

    #[test]
    fn a_token_narrows_what_the_roles_give() {
        let roles = [AssignedRole::Builtin(BuiltinRole::Admin)];
        let limit: PermSet = [Permission::OrgRead, Permission::BillingRead]
            .into_iter()
            .collect();
        let narrowed = permissions(&roles, Some(limit));
        assert!(narrowed.contains(Permission::OrgRead));
        assert!(!narrowed.contains(Permission::MembersManage));
        assert_eq!(
            narrowed.contains(Permission::BillingRead),
            permissions_of(&roles).contains(Permission::BillingRead)
        );
        assert_eq!(permissions(&roles, None), permissions_of(&roles));
    }

    #[test]
    fn explain_names_every_role_that_gives_a_permission() {
        let auditors = AssignedRole::Custom(CustomRole {
            id: RoleId(uuid::Uuid::now_v7()),
            name: "Auditors".into(),
            permissions: [Permission::AuditRead, Permission::OrgRead]
                .into_iter()
                .collect(),
        });
        let roles = vec![AssignedRole::Builtin(BuiltinRole::Billing), auditors];
        let grants = explain(&roles);
        let org_read = grants
            .iter()
            .find(|g| g.permission == Permission::OrgRead)
            .expect("org.read held");
        // The membership itself, then each role that carries it.
        assert_eq!(org_read.sources.len(), 3);
        assert_eq!(org_read.sources[0].kind, "membership");
        assert!(
            grants
                .iter()
                .all(|g| g.permission != Permission::MembersRead)
        );
        assert_eq!(grants.len(), permissions(&roles, None).iter().count());
    }
}
