//! The permission tables, transcribed once from SPEC and never from the library: the catalog of
//! §2, the built-in roles of §3, the project roles of §1 and the project permissions of §5, and
//! how organization-wide permissions reach every project (R11).
//!
//! Both model suites use these and nothing else for "what does this role carry": a typo here
//! fails both. The library's catalog is never read to build them; it is compared with them by
//! `tests/authz_model/pure.rs` (`the_catalog_is_spec_section_2_and_3`), so that a mistake in
//! either shows as a disagreement instead of being copied.
//!
//! What a member holds is these roles' union plus `org.read`, which every membership carries
//! whatever its roles (SPEC §3; `Org::member_perms`).

/// The permission catalog of SPEC §2, in its order; bit `i` of a [`Perms`] is `PERMS[i]`.
pub const PERMS: [&str; 17] = [
    "org.read",
    "org.update",
    "org.delete",
    "org.transfer",
    "members.read",
    "members.invite",
    "members.manage",
    "roles.manage",
    "groups.manage",
    "projects.create",
    "projects.read",
    "projects.manage",
    "projects.deploy",
    "plans.manage",
    "billing.read",
    "billing.manage",
    "audit.read",
];

/// The project-scope permissions of the check API (SPEC §5).
pub const PROJECT_PERMS: [&str; 4] = [
    "project.read",
    "project.deploy",
    "project.manage",
    "project.delete",
];

/// A set of SPEC §2 permissions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Perms(pub u32);

impl Perms {
    /// No permission.
    pub const NONE: Perms = Perms(0);
    /// Every permission of the catalog.
    pub const ALL: Perms = Perms((1 << PERMS.len()) - 1);

    /// The set of these wire names; panics on a name not in the catalog (a typo in the model).
    pub fn of(names: &[&str]) -> Perms {
        Perms(names.iter().fold(0, |acc, n| {
            let i = PERMS
                .iter()
                .position(|p| p == n)
                .unwrap_or_else(|| panic!("`{n}` is not a SPEC §2 permission"));
            acc | 1 << i
        }))
    }

    /// A set from arbitrary bits, cut to the catalog.
    pub fn from_bits(bits: u32) -> Perms {
        Perms(bits & Perms::ALL.0)
    }

    /// Whether `name` is in the set; panics on a name not in the catalog (a typo in the model).
    pub fn has(self, name: &str) -> bool {
        self.contains(Perms::of(&[name]))
    }

    /// Whether every permission of `other` is in the set.
    pub fn contains(self, other: Perms) -> bool {
        self.0 & other.0 == other.0
    }

    /// Either set.
    pub fn union(self, other: Perms) -> Perms {
        Perms(self.0 | other.0)
    }

    /// Both sets.
    pub fn intersect(self, other: Perms) -> Perms {
        Perms(self.0 & other.0)
    }

    /// This set without `other`.
    pub fn minus(self, other: Perms) -> Perms {
        Perms(self.0 & !other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The wire names, in catalog order.
    pub fn names(self) -> Vec<&'static str> {
        PERMS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, p)| *p)
            .collect()
    }
}

/// SPEC §3: `org.delete` and `org.transfer` stay the owner's; no custom role carries them.
pub fn owner_only() -> Perms {
    Perms::of(&["org.delete", "org.transfer"])
}

/// The built-in roles of SPEC §3, in its order (strongest first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Builtin {
    Owner,
    Admin,
    Manager,
    Developer,
    Billing,
    Member,
}

impl Builtin {
    /// Every built-in role, in SPEC §3's order.
    pub const ALL: [Builtin; 6] = [
        Builtin::Owner,
        Builtin::Admin,
        Builtin::Manager,
        Builtin::Developer,
        Builtin::Billing,
        Builtin::Member,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Owner => "owner",
            Builtin::Admin => "admin",
            Builtin::Manager => "manager",
            Builtin::Developer => "developer",
            Builtin::Billing => "billing",
            Builtin::Member => "member",
        }
    }

    /// The built-in role named `name` (case-insensitive, trimmed), if any.
    pub fn parse(name: &str) -> Option<Builtin> {
        let key = name.trim().to_lowercase();
        Builtin::ALL.into_iter().find(|b| b.name() == key)
    }

    /// The table of SPEC §3, transcribed.
    pub fn perms(self) -> Perms {
        match self {
            Builtin::Owner => Perms::ALL,
            Builtin::Admin => Perms::ALL.minus(Perms::of(&[
                "org.delete",
                "org.transfer",
                "billing.read",
                "billing.manage",
            ])),
            Builtin::Manager => Perms::of(&[
                "org.read",
                "org.update",
                "members.read",
                "members.invite",
                "members.manage",
                "groups.manage",
                "projects.create",
                "projects.read",
                "projects.manage",
                "projects.deploy",
                "plans.manage",
                "audit.read",
            ]),
            Builtin::Developer => Perms::of(&[
                "org.read",
                "members.read",
                "projects.create",
                "projects.read",
                "projects.deploy",
            ]),
            Builtin::Billing => Perms::of(&["org.read", "billing.read", "billing.manage"]),
            Builtin::Member => Perms::of(&["org.read"]),
        }
    }
}

/// A project role (SPEC §1), weakest first, so that the strongest grant is `max()` (R11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PRole {
    Viewer,
    Contributor,
    Admin,
}

impl PRole {
    /// Every project role, weakest first.
    pub const ALL: [PRole; 3] = [PRole::Viewer, PRole::Contributor, PRole::Admin];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            PRole::Viewer => "viewer",
            PRole::Contributor => "contributor",
            PRole::Admin => "admin",
        }
    }

    /// SPEC §1: a viewer sees; a contributor also deploys; an admin does everything on it.
    pub fn allows(self, perm: &str) -> bool {
        match perm {
            "project.read" => true,
            "project.deploy" => self != PRole::Viewer,
            "project.manage" | "project.delete" => self == PRole::Admin,
            other => panic!("`{other}` is not a project permission"),
        }
    }
}

/// R11 and SPEC §2: what organization-wide permissions amount to on every project.
pub fn org_reach(perms: Perms) -> Option<PRole> {
    if perms.has("projects.manage") {
        Some(PRole::Admin)
    } else if perms.has("projects.deploy") {
        Some(PRole::Contributor)
    } else if perms.has("projects.read") {
        Some(PRole::Viewer)
    } else {
        None
    }
}
