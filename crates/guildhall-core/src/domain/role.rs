//! Roles as members hold them: a built-in role or one organization's custom role.

use super::ids::RoleId;
use super::permission::{BuiltinRole, PermSet};

/// A custom role of one organization (SPEC §1): a name and any permissions but the owner's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CustomRole {
    /// Its id.
    pub id: RoleId,
    /// Its name as given.
    pub name: String,
    /// What it grants.
    pub permissions: PermSet,
}

/// A role held by a member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AssignedRole {
    /// One of SPEC §3.
    Builtin(BuiltinRole),
    /// One of the organization's custom roles.
    Custom(CustomRole),
}

impl AssignedRole {
    /// The role's name on the wire.
    pub fn name(&self) -> &str {
        match self {
            AssignedRole::Builtin(b) => b.as_str(),
            AssignedRole::Custom(c) => &c.name,
        }
    }

    /// What the role grants.
    pub fn permissions(&self) -> PermSet {
        match self {
            AssignedRole::Builtin(b) => b.permissions(),
            AssignedRole::Custom(c) => c.permissions,
        }
    }

    /// Whether this is the built-in role `b`.
    pub fn is(&self, b: BuiltinRole) -> bool {
        matches!(self, AssignedRole::Builtin(x) if *x == b)
    }

    /// Whether two roles are the same role (custom roles compare by id, so a renamed role is
    /// still itself).
    pub fn same_role(&self, other: &AssignedRole) -> bool {
        match (self, other) {
            (AssignedRole::Builtin(a), AssignedRole::Builtin(b)) => a == b,
            (AssignedRole::Custom(a), AssignedRole::Custom(b)) => a.id == b.id,
            _ => false,
        }
    }
}

/// The permissions a set of roles adds up to (roles add up, SPEC §1).
pub fn permissions_of(roles: &[AssignedRole]) -> PermSet {
    roles
        .iter()
        .fold(PermSet::EMPTY, |acc, r| acc.union(r.permissions()))
}
