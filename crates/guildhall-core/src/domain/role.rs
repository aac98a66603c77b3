//! Roles as members hold them: a built-in role or one organization's custom role.

use super::ids::RoleId;
use super::permission::{BuiltinRole, PermSet, Permission};

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

/// What every membership carries, whatever its roles: a member can always see the organization
/// they belong to (SPEC §3: `member`'s `org.read` is the floor of every membership).
pub const MEMBERSHIP_FLOOR: Permission = Permission::OrgRead;

/// What a request may use in an organization: the membership's floor and everything the
/// member's roles give, narrowed by an API token's permissions when it came with one. Every
/// organization-scope question (a handler's `require`, the check API's index, a token's limits)
/// starts from this (`authz::eval::permissions`).
pub fn member_permissions(roles: &[AssignedRole], token_limit: Option<PermSet>) -> PermSet {
    let held = permissions_of(roles).union([MEMBERSHIP_FLOOR].into_iter().collect());
    token_limit.map_or(held, |limit| held.intersect(limit))
}
