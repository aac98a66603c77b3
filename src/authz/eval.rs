//! The evaluator: from the roles a member holds (and an API token's limits) to the permissions a
//! request may use, with where each one comes from. Pure: no IO.

use crate::domain::permission::{PermSet, Permission, ProjectRole};
use crate::domain::role::AssignedRole;

/// Where a permission comes from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Source {
    /// `role` for a built-in role, `custom_role` for one of the organization's own.
    pub kind: &'static str,
    /// The role's name.
    pub role: String,
}

/// One permission a member holds, with every grant that gives it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Grant {
    /// The permission's wire name.
    #[schema(value_type = String)]
    pub permission: Permission,
    /// The grants that give it.
    pub sources: Vec<Source>,
}

/// Every permission `roles` give, in catalog order, each with the roles it comes from.
pub fn explain(roles: &[AssignedRole]) -> Vec<Grant> {
    Permission::ALL
        .iter()
        .filter_map(|&permission| {
            let sources: Vec<Source> = roles
                .iter()
                .filter(|r| r.permissions().contains(permission))
                .map(|r| Source {
                    kind: match r {
                        AssignedRole::Builtin(_) => "role",
                        AssignedRole::Custom(_) => "custom_role",
                    },
                    role: r.name().to_owned(),
                })
                .collect();
            (!sources.is_empty()).then_some(Grant {
                permission,
                sources,
            })
        })
        .collect()
}

/// Where a project role comes from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ProjectSource {
    /// `role` or `custom_role` (organization-wide reach), `group` or `direct`.
    pub kind: &'static str,
    /// The role's or group's name; absent for a direct grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The project role this source gives.
    #[schema(value_type = String)]
    pub role: ProjectRole,
}

/// A member's reach over every project of the organization at once, from their roles.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct OrgWideReach {
    /// The strongest role it gives on every project.
    #[schema(value_type = String)]
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

/// R11: the strongest project role a member holds on a project: organization-wide reach from
/// their permissions, or a role granted on it (directly or through a group), whichever is stronger.
pub fn project_role(org_permissions: PermSet, granted: Option<ProjectRole>) -> Option<ProjectRole> {
    ProjectRole::from_org(org_permissions).max(granted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::RoleId;
    use crate::domain::permission::BuiltinRole;
    use crate::domain::role::CustomRole;

    #[test]
    fn explain_names_every_role_that_gives_a_permission() {
        let auditors = AssignedRole::Custom(CustomRole {
            id: RoleId::new(),
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
        assert_eq!(org_read.sources.len(), 2);
        assert!(
            grants
                .iter()
                .all(|g| g.permission != Permission::MembersRead)
        );
        assert_eq!(
            grants.len(),
            crate::domain::role::permissions_of(&roles).iter().count()
        );
    }
}
