//! Many cases, no IO: the library's R6 rule functions against the model's, on random actors,
//! targets and requests (built-in and custom roles, with and without an API token's limit).

use crate::model::grants;
use crate::model::refusal as code;
use crate::model::{self, Acting, Builtin, Perms, Refusal, Role};
use guildhall::domain::DomainError;
use guildhall::domain::ids::{RoleId, UserId};
use guildhall::domain::permission::{BuiltinRole, PermSet, Permission};
use guildhall::domain::role::{AssignedRole, CustomRole};
use guildhall::domain::rules::{
    ActorFacts, MemberFacts, r6_add_member, r6_change_roles, r6_custom_role_permissions,
    r6_remove_member,
};
use guildhall::ids::NewId as _;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// How many custom roles a pure case has.
const CUSTOM: usize = 3;

/// One random world: custom roles' permissions, who acts with what, and whom they act on.
#[derive(Clone, Debug)]
struct Case {
    custom: [u32; CUSTOM],
    actor: Vec<Role>,
    limit: Option<u32>,
    target: Vec<Role>,
    requested: Vec<Role>,
    same_user: bool,
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![
        (0..Builtin::ALL.len()).prop_map(|i| Role::Builtin(Builtin::ALL[i])),
        (0..CUSTOM as u32).prop_map(Role::Custom),
    ]
}

/// Custom role permissions: mostly without the owner's own (as the server keeps them), some raw.
fn custom_perms() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => any::<u32>().prop_map(|b| Perms::from_bits(b).minus(model::owner_only()).0),
        1 => any::<u32>().prop_map(|b| Perms::from_bits(b).0),
        // Small sets, so that they are often held.
        3 => prop::sample::subsequence(model::PERMS.to_vec(), 0..=3)
            .prop_map(|names| Perms::of(&names).0),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        [custom_perms(), custom_perms(), custom_perms()],
        prop::collection::vec(role(), 0..=3),
        prop::option::weighted(0.25, any::<u32>().prop_map(|b| Perms::from_bits(b).0)),
        prop::collection::vec(role(), 0..=3),
        prop::collection::vec(role(), 0..=4),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(custom, actor, limit, target, requested, same_user)| Case {
                custom,
                actor,
                limit,
                target,
                requested,
                same_user,
            },
        )
}

/// The library's view of the same world.
struct Lib {
    ids: [RoleId; CUSTOM],
    custom: [u32; CUSTOM],
}

impl Lib {
    fn new(custom: [u32; CUSTOM]) -> Self {
        Lib {
            ids: [RoleId::new(), RoleId::new(), RoleId::new()],
            custom,
        }
    }

    fn perm_set(bits: u32) -> PermSet {
        Perms(bits)
            .names()
            .into_iter()
            .map(|n| Permission::parse(n).expect("the model's catalog is the library's"))
            .collect()
    }

    fn role(&self, r: Role) -> AssignedRole {
        match r {
            Role::Builtin(b) => AssignedRole::Builtin(
                BuiltinRole::parse(b.name()).expect("the model's built-in roles are the library's"),
            ),
            Role::Custom(k) => AssignedRole::Custom(CustomRole {
                id: self.ids[k as usize],
                name: format!("custom{k}"),
                permissions: Self::perm_set(self.custom[k as usize]),
            }),
        }
    }

    fn roles(&self, rs: &[Role]) -> Vec<AssignedRole> {
        rs.iter().map(|r| self.role(*r)).collect()
    }

    fn back(&self, r: &AssignedRole) -> Role {
        match r {
            AssignedRole::Builtin(b) => Role::Builtin(Builtin::parse(b.as_str()).expect("known")),
            AssignedRole::Custom(c) => Role::Custom(
                self.ids
                    .iter()
                    .position(|id| *id == c.id)
                    .expect("one of ours") as u32,
            ),
        }
    }
}

/// The problem code the API gives each refusal the rules make.
fn refusal(e: &DomainError) -> Refusal {
    match e {
        DomainError::Forbidden(_) => code::FORBIDDEN,
        DomainError::RoleNotGrantable { .. } => code::NOT_GRANTABLE,
        DomainError::OwnRoles => code::OWN_ROLES,
        DomainError::OwnerIsFixed => code::OWNER_IS_FIXED,
        DomainError::OwnerNeedsTransfer => code::OWNER_NEEDS_TRANSFER,
        DomainError::PermissionsNotHeld(_) => code::NOT_HELD,
        DomainError::Invalid(_) => code::INVALID,
        other => panic!("a rule refused with an unexpected error: {other:?}"),
    }
}

/// The model's and the library's actor and target for one case.
struct World {
    lib: Lib,
    actor_facts: ActorFacts,
    target_facts: MemberFacts,
    acting: Acting,
    target_user: usize,
}

impl World {
    fn new(c: &Case) -> Self {
        let lib = Lib::new(c.custom);
        let actor_id = UserId::new();
        let target_id = if c.same_user { actor_id } else { UserId::new() };
        let actor_facts = ActorFacts::new(
            MemberFacts {
                user: actor_id,
                roles: lib.roles(&c.actor),
            },
            c.limit.map(Lib::perm_set),
        );
        let target_facts = MemberFacts {
            user: target_id,
            roles: lib.roles(&c.target),
        };
        // Every membership carries `org.read` (SPEC §3), then the roles add up.
        let held = c
            .actor
            .iter()
            .fold(Perms::of(&["org.read"]), |acc, r| acc.union(perms(c, *r)));
        let acting = Acting {
            user: 0,
            roles: c.actor.clone(),
            perms: c.limit.map_or(held, |l| held.intersect(Perms(l))),
        };
        World {
            lib,
            actor_facts,
            target_facts,
            acting,
            target_user: if c.same_user { 0 } else { 1 },
        }
    }
}

fn perms(c: &Case, r: Role) -> Perms {
    match r {
        Role::Builtin(b) => b.perms(),
        Role::Custom(k) => Perms(c.custom[k as usize]),
    }
}

fn union(c: &Case, roles: &[Role]) -> Perms {
    roles
        .iter()
        .fold(Perms::NONE, |acc, r| acc.union(perms(c, *r)))
}

proptest! {
    // Failing seeds are kept next to this file (and re-run first), not in a shared directory.
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "tests/model/pure.proptest-regressions",
        ))),
        ..ProptestConfig::default()
    })]

    #[test]
    fn r6_role_changes_agree_with_the_model_and_never_grant_unheld_permissions(c in case()) {
        let w = World::new(&c);
        let perms_of = |r: Role| perms(&c, r);
        let lib = r6_change_roles(&w.actor_facts, &w.target_facts, w.lib.roles(&c.requested));
        let ours = grants::change_roles(&w.acting, w.target_user, &c.target, &c.requested, &perms_of);
        match (&lib, &ours) {
            (Ok(change), Ok((added, removed))) => {
                let lib_added: Vec<Role> = change.added.iter().map(|r| w.lib.back(r)).collect();
                let lib_removed: Vec<Role> = change.removed.iter().map(|r| w.lib.back(r)).collect();
                prop_assert_eq!(&lib_added, added);
                prop_assert_eq!(&lib_removed, removed);
                // R3: a role change never gives or takes `owner`.
                let owner = Role::Builtin(Builtin::Owner);
                prop_assert!(!lib_added.contains(&owner) && !c.target.contains(&owner));
                // R6: what the target gains, the actor holds (and may use now).
                let before = union(&c, &c.target);
                let after: Vec<Role> = c
                    .target
                    .iter()
                    .filter(|r| !lib_removed.contains(r))
                    .chain(&lib_added)
                    .copied()
                    .collect();
                let gained = union(&c, &after).minus(before);
                prop_assert!(
                    w.acting.perms.contains(gained),
                    "the target gained {:?}, which the actor cannot use",
                    gained.minus(w.acting.perms).names()
                );
                // Taking a role away needs the same standing as giving it.
                for r in &lib_removed {
                    prop_assert!(w.acting.perms.contains(perms(&c, *r)));
                }
                // Nobody changes their own roles.
                prop_assert!(!c.same_user);
            }
            (Err(e), Err(r)) => prop_assert_eq!(refusal(e), *r, "library said {:?}", e),
            _ => prop_assert!(false, "library: {:?}, model: {:?}", lib, ours),
        }
    }

    #[test]
    fn r6_removals_additions_and_custom_roles_agree_with_the_model(c in case()) {
        let w = World::new(&c);
        let perms_of = |r: Role| perms(&c, r);

        let lib = r6_remove_member(&w.actor_facts, &w.target_facts).map_err(|e| refusal(&e));
        let ours = grants::remove_member(&w.acting, w.target_user, &c.target, &perms_of);
        prop_assert_eq!(lib, ours, "remove");
        if ours.is_ok() {
            // R6: nobody removes someone holding more than they may use.
            prop_assert!(w.acting.perms.contains(union(&c, &c.target)));
        }

        let mut roles = Vec::new();
        for r in &c.requested {
            if !roles.contains(r) {
                roles.push(*r);
            }
        }
        let lib = r6_add_member(&w.actor_facts, &w.lib.roles(&roles)).map_err(|e| refusal(&e));
        let ours = grants::add_member(&w.acting, &roles, &perms_of);
        prop_assert_eq!(lib, ours, "add");
        if ours.is_ok() {
            prop_assert!(w.acting.perms.contains(union(&c, &roles)));
            if !w.acting.perms.has("members.manage") {
                prop_assert!(roles.iter().all(|r| *r == Role::Builtin(Builtin::Member)));
            }
        }

        for k in 0..CUSTOM {
            let wanted = Perms(c.custom[k]);
            let lib = r6_custom_role_permissions(&w.actor_facts, Lib::perm_set(wanted.0))
                .map_err(|e| refusal(&e));
            let ours = grants::custom_role_perms(&w.acting, wanted);
            prop_assert_eq!(lib, ours, "custom role {:?}", wanted.names());
            if ours.is_ok() {
                prop_assert!(w.acting.perms.contains(wanted));
                prop_assert!(wanted.intersect(model::owner_only()).is_empty());
            }
        }
    }
}
