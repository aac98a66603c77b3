//! The permission catalog (SPEC §2), the built-in roles (SPEC §3) and permission sets.

use serde::{Deserialize, Serialize};

macro_rules! permissions {
    ($($variant:ident = $wire:literal : $doc:literal,)*) => {
        /// An organization-scope permission; `Permission::MembersInvite` is `members.invite` on
        /// the wire.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Permission {
            $(#[doc = $doc] $variant,)*
        }

        impl Permission {
            /// Every permission, in catalog order.
            pub const ALL: &'static [Permission] = &[$(Permission::$variant,)*];

            /// The wire name, e.g. `members.invite`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Permission::$variant => $wire,)*
                }
            }

            /// What the permission allows, for the catalog.
            pub fn description(self) -> &'static str {
                match self {
                    $(Permission::$variant => $doc,)*
                }
            }

            /// Parses a wire name; `None` for anything not in the catalog.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some(Permission::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

permissions! {
    OrgRead = "org.read": "see the organization, its name and who its owner is",
    OrgUpdate = "org.update": "rename it, change its slug and settings",
    OrgDelete = "org.delete": "delete it",
    OrgTransfer = "org.transfer": "offer ownership to an administrator",
    MembersRead = "members.read": "list members, their roles and groups",
    MembersInvite = "members.invite": "invite people, add registered users, register new users into the organization",
    MembersManage = "members.manage": "change members' roles, remove members",
    RolesManage = "roles.manage": "create, edit and delete custom roles",
    GroupsManage = "groups.manage": "create groups, set their members and projects",
    ProjectsCreate = "projects.create": "create projects",
    ProjectsRead = "projects.read": "see every project of the organization",
    ProjectsManage = "projects.manage": "edit and delete any project, give project roles",
    ProjectsDeploy = "projects.deploy": "reach every project's repository and environments",
    PlansManage = "plans.manage": "change plans, storage, environments and licenses",
    BillingRead = "billing.read": "see the billing profile, invoices and vouchers, download invoices",
    BillingManage = "billing.manage": "edit the billing address, VAT number and payment method, redeem vouchers",
    AuditRead = "audit.read": "read the audit log",
}

impl std::fmt::Display for Permission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A set of permissions, as a bit mask: cheap to copy, intersect and compare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PermSet(u32);

impl PermSet {
    /// No permission at all.
    pub const EMPTY: PermSet = PermSet(0);

    /// Every permission of the catalog.
    pub fn all() -> Self {
        Permission::ALL.iter().copied().collect()
    }

    /// Whether `p` is in the set.
    pub fn contains(self, p: Permission) -> bool {
        self.0 & (1 << p as u8) != 0
    }

    /// Whether every permission of `other` is in this set.
    pub fn is_superset(self, other: PermSet) -> bool {
        self.0 & other.0 == other.0
    }

    /// The permissions in both sets.
    pub fn intersect(self, other: PermSet) -> PermSet {
        PermSet(self.0 & other.0)
    }

    /// The permissions in either set.
    pub fn union(self, other: PermSet) -> PermSet {
        PermSet(self.0 | other.0)
    }

    /// The permissions of `self` that are not in `other`.
    pub fn minus(self, other: PermSet) -> PermSet {
        PermSet(self.0 & !other.0)
    }

    /// Adds one permission.
    pub fn insert(&mut self, p: Permission) {
        self.0 |= 1 << p as u8;
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The permissions in catalog order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .iter()
            .copied()
            .filter(move |p| self.contains(*p))
    }

    /// The wire names in catalog order.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }
}

impl FromIterator<Permission> for PermSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = PermSet::EMPTY;
        for p in iter {
            set.insert(p);
        }
        set
    }
}

/// Permissions that stay the owner's: no custom role may carry them (SPEC §3).
pub fn owner_only() -> PermSet {
    [Permission::OrgDelete, Permission::OrgTransfer]
        .into_iter()
        .collect()
}

/// A built-in role, present in every organization (SPEC §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuiltinRole {
    /// Everything; exactly one per organization (R3).
    Owner,
    /// All but deletion, transfer and billing.
    Admin,
    /// Members, groups, projects and plans.
    Manager,
    /// Creates, reads and deploys projects.
    Developer,
    /// Billing only.
    Billing,
    /// Reads the organization; projects through groups and project roles.
    Member,
}

impl BuiltinRole {
    /// Every built-in role, strongest first.
    pub const ALL: &'static [BuiltinRole] = &[
        BuiltinRole::Owner,
        BuiltinRole::Admin,
        BuiltinRole::Manager,
        BuiltinRole::Developer,
        BuiltinRole::Billing,
        BuiltinRole::Member,
    ];

    /// The wire name, e.g. `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            BuiltinRole::Owner => "owner",
            BuiltinRole::Admin => "admin",
            BuiltinRole::Manager => "manager",
            BuiltinRole::Developer => "developer",
            BuiltinRole::Billing => "billing",
            BuiltinRole::Member => "member",
        }
    }

    /// Parses a wire name, case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        BuiltinRole::ALL
            .iter()
            .copied()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// One line for the catalog.
    pub fn description(self) -> &'static str {
        match self {
            BuiltinRole::Owner => "all permissions; exactly one per organization",
            BuiltinRole::Admin => "all but deleting, transferring and billing",
            BuiltinRole::Manager => "members, groups, projects and plans",
            BuiltinRole::Developer => "creates, reads and deploys projects",
            BuiltinRole::Billing => "the billing profile, invoices and vouchers",
            BuiltinRole::Member => "reads the organization; projects through groups",
        }
    }

    /// The role's permissions (SPEC §3).
    pub fn permissions(self) -> PermSet {
        use Permission::*;
        match self {
            BuiltinRole::Owner => PermSet::all(),
            BuiltinRole::Admin => PermSet::all().minus(
                [OrgDelete, OrgTransfer, BillingRead, BillingManage]
                    .into_iter()
                    .collect(),
            ),
            BuiltinRole::Manager => [
                OrgRead,
                OrgUpdate,
                MembersRead,
                MembersInvite,
                MembersManage,
                GroupsManage,
                ProjectsCreate,
                ProjectsRead,
                ProjectsManage,
                ProjectsDeploy,
                PlansManage,
                AuditRead,
            ]
            .into_iter()
            .collect(),
            BuiltinRole::Developer => [
                OrgRead,
                MembersRead,
                ProjectsCreate,
                ProjectsRead,
                ProjectsDeploy,
            ]
            .into_iter()
            .collect(),
            BuiltinRole::Billing => [OrgRead, BillingRead, BillingManage].into_iter().collect(),
            BuiltinRole::Member => [OrgRead].into_iter().collect(),
        }
    }
}

/// A role on one project (SPEC §1), ordered so that the strongest grant wins (R11) is `max()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectRole {
    /// Sees the project.
    Viewer,
    /// Deploys: pushes to the repository, manages environments.
    Contributor,
    /// Everything on that project.
    Admin,
}

impl ProjectRole {
    /// Every project role, weakest first.
    pub const ALL: &'static [ProjectRole] = &[
        ProjectRole::Viewer,
        ProjectRole::Contributor,
        ProjectRole::Admin,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectRole::Viewer => "viewer",
            ProjectRole::Contributor => "contributor",
            ProjectRole::Admin => "admin",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        ProjectRole::ALL.iter().copied().find(|r| r.as_str() == s)
    }

    /// Whether this role allows `p` on its project.
    pub fn allows(self, p: ProjectPermission) -> bool {
        match p {
            ProjectPermission::Read => true,
            ProjectPermission::Deploy => self >= ProjectRole::Contributor,
            ProjectPermission::Manage | ProjectPermission::Delete => self == ProjectRole::Admin,
        }
    }

    /// The project role an organization-wide permission set amounts to on every project of the
    /// organization (R11): `projects.manage` is everything, `projects.deploy` deploys,
    /// `projects.read` sees.
    pub fn from_org(perms: PermSet) -> Option<ProjectRole> {
        if perms.contains(Permission::ProjectsManage) {
            Some(ProjectRole::Admin)
        } else if perms.contains(Permission::ProjectsDeploy) {
            Some(ProjectRole::Contributor)
        } else if perms.contains(Permission::ProjectsRead) {
            Some(ProjectRole::Viewer)
        } else {
            None
        }
    }
}

/// A project-scope permission of the check API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProjectPermission {
    /// `project.read`
    Read,
    /// `project.deploy`
    Deploy,
    /// `project.manage`
    Manage,
    /// `project.delete`
    Delete,
}

impl ProjectPermission {
    /// Every project permission.
    pub const ALL: &'static [ProjectPermission] = &[
        ProjectPermission::Read,
        ProjectPermission::Deploy,
        ProjectPermission::Manage,
        ProjectPermission::Delete,
    ];

    /// The wire name, e.g. `project.deploy`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectPermission::Read => "project.read",
            ProjectPermission::Deploy => "project.deploy",
            ProjectPermission::Manage => "project.manage",
            ProjectPermission::Delete => "project.delete",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        ProjectPermission::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_round_trips_through_its_wire_name() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(*p));
        }
        assert_eq!(Permission::parse("org.fly"), None);
    }

    #[test]
    fn admin_lacks_billing_deletion_and_transfer() {
        let admin = BuiltinRole::Admin.permissions();
        assert!(!admin.contains(Permission::BillingRead));
        assert!(!admin.contains(Permission::OrgDelete));
        assert!(!admin.contains(Permission::OrgTransfer));
        assert!(admin.contains(Permission::MembersManage));
        assert!(admin.contains(Permission::AuditRead));
    }

    #[test]
    fn r11_the_strongest_project_grant_wins() {
        use ProjectRole::*;
        assert_eq!([Viewer, Admin, Contributor].into_iter().max(), Some(Admin));
        assert!(Contributor.allows(ProjectPermission::Deploy));
        assert!(!Contributor.allows(ProjectPermission::Delete));
        assert_eq!(
            ProjectRole::from_org(BuiltinRole::Developer.permissions()),
            Some(Contributor)
        );
        assert_eq!(
            ProjectRole::from_org(BuiltinRole::Manager.permissions()),
            Some(Admin)
        );
        assert_eq!(
            ProjectRole::from_org(BuiltinRole::Billing.permissions()),
            None
        );
    }

    #[test]
    fn only_the_owner_holds_owner_only_permissions() {
        for role in BuiltinRole::ALL {
            let holds = role.permissions().intersect(owner_only());
            assert_eq!(!holds.is_empty(), *role == BuiltinRole::Owner, "{role:?}");
        }
    }
}
