//! Many cases, no IO: random snapshots of an organization's grants fed to the index's
//! `OrgGrants::from_snapshot`, then every member's permissions and every (user, project) role
//! from `OrgGrants::project_role`, and `ProjectRole::allows` / `from_org`, against the model.

use crate::model::{self, Builtin, PERMS, PROJECT_PERMS, PRole, Perms};
use guildhall::authz::index::OrgGrants;
use guildhall::domain::ids::{GroupId, OrgId, ProjectId, RoleId, UserId};
use guildhall::domain::permission::{
    BuiltinRole, PermSet, Permission, ProjectPermission, ProjectRole,
};
use guildhall::domain::role::{AssignedRole, CustomRole};
use guildhall::ids::NewId as _;
use guildhall::store::OrgSnapshot;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::collections::BTreeMap;

/// Users; index `USERS` is one the snapshot never names as a member.
const USERS: usize = 5;
/// Projects a snapshot may hold (the first `projects` of them).
const PROJECTS: usize = 4;
/// Groups (index `GROUPS` is one the snapshot does not list).
const GROUPS: usize = 3;
/// Custom roles.
const CUSTOM: usize = 3;
/// Cases, unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 2000;

#[derive(Clone, Copy, Debug)]
enum RoleIx {
    Builtin(usize),
    Custom(usize),
}

#[derive(Clone, Debug)]
struct World {
    custom: [u32; CUSTOM],
    members: Vec<Option<Vec<RoleIx>>>,
    projects: usize,
    direct: Vec<(usize, usize, PRole)>,
    places: Vec<(usize, usize)>,
    group_projects: Vec<(usize, usize, PRole)>,
    /// Random permission sets for `from_org`.
    sets: Vec<u32>,
}

fn prole() -> impl Strategy<Value = PRole> {
    prop::sample::select(PRole::ALL.to_vec())
}

/// Custom role permissions: small sets around the project permissions, or anything.
fn custom_perms() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => prop::sample::subsequence(
            vec!["org.read", "projects.read", "projects.deploy", "projects.manage", "groups.manage"],
            0..=2,
        )
        .prop_map(|names| Perms::of(&names).0),
        1 => any::<u32>().prop_map(|b| Perms::from_bits(b).0),
    ]
}

fn world() -> impl Strategy<Value = World> {
    let role = prop_oneof![
        3 => (0..Builtin::ALL.len()).prop_map(RoleIx::Builtin),
        2 => (0..CUSTOM).prop_map(RoleIx::Custom),
    ];
    let members = prop::collection::vec(
        prop::option::weighted(0.8, prop::collection::vec(role, 0..=3)),
        USERS,
    );
    (
        [custom_perms(), custom_perms(), custom_perms()],
        members,
        0..=PROJECTS,
        prop::collection::vec((0..=PROJECTS, 0..=USERS, prole()), 0..8),
        prop::collection::vec((0..=GROUPS, 0..=USERS), 0..10),
        prop::collection::vec((0..=GROUPS, 0..=PROJECTS, prole()), 0..8),
        prop::collection::vec(any::<u32>(), 4),
    )
        .prop_map(
            |(custom, members, projects, direct, places, group_projects, sets)| World {
                custom,
                members,
                projects,
                direct,
                places,
                group_projects,
                sets,
            },
        )
}

fn lib_perms(p: Perms) -> PermSet {
    p.names()
        .into_iter()
        .map(|n| Permission::parse(n).expect("a SPEC §2 permission"))
        .collect()
}

fn model_perms(p: PermSet) -> Perms {
    Perms::of(&p.names())
}

fn lib_role(r: PRole) -> ProjectRole {
    match r {
        PRole::Viewer => ProjectRole::Viewer,
        PRole::Contributor => ProjectRole::Contributor,
        PRole::Admin => ProjectRole::Admin,
    }
}

/// The model's answer: the strongest role a member holds on a project of the snapshot.
fn model_role(w: &World, user: usize, project: usize) -> Option<PRole> {
    let roles = w.members.get(user)?.as_ref()?;
    let perms = roles.iter().fold(Perms::NONE, |acc, r| {
        acc.union(match *r {
            RoleIx::Builtin(i) => Builtin::ALL[i].perms(),
            RoleIx::Custom(i) => Perms::from_bits(w.custom[i]),
        })
    });
    let granted = model_granted(w, user, project);
    model::org_reach(perms).max(granted)
}

/// The strongest role granted directly or through groups (for anyone the snapshot names).
fn model_granted(w: &World, user: usize, project: usize) -> Option<PRole> {
    if project >= w.projects {
        return None;
    }
    let direct = w
        .direct
        .iter()
        .filter(|(p, u, _)| *p == project && *u == user)
        .map(|(_, _, r)| *r);
    let through_groups = w
        .places
        .iter()
        .filter(|(_, u)| *u == user)
        .flat_map(|(g, _)| {
            w.group_projects
                .iter()
                .filter(move |(gg, p, _)| gg == g && *p == project)
                .map(|(_, _, r)| *r)
        });
    direct.chain(through_groups).max()
}

fn check(w: &World) -> Result<(), String> {
    let users: Vec<UserId> = (0..=USERS).map(|_| UserId::new()).collect();
    let projects: Vec<ProjectId> = (0..=PROJECTS).map(|_| ProjectId::new()).collect();
    let groups: Vec<GroupId> = (0..=GROUPS).map(|_| GroupId::new()).collect();
    let custom: Vec<CustomRole> = (0..CUSTOM)
        .map(|i| CustomRole {
            id: RoleId::new(),
            name: format!("custom{i}"),
            permissions: lib_perms(Perms::from_bits(w.custom[i])),
        })
        .collect();
    let assigned = |r: &RoleIx| match *r {
        RoleIx::Builtin(i) => AssignedRole::Builtin(
            BuiltinRole::parse(Builtin::ALL[i].name()).expect("a SPEC §3 role"),
        ),
        RoleIx::Custom(i) => AssignedRole::Custom(custom[i].clone()),
    };
    let snapshot = OrgSnapshot {
        org: Some(OrgId::new()),
        members: w
            .members
            .iter()
            .enumerate()
            .filter_map(|(u, roles)| {
                roles
                    .as_ref()
                    .map(|rs| (users[u], rs.iter().map(assigned).collect()))
            })
            .collect(),
        projects: (0..w.projects)
            .map(|p| (projects[p], format!("p{p}")))
            .collect(),
        groups: (0..GROUPS).map(|g| (groups[g], format!("g{g}"))).collect(),
        direct: w
            .direct
            .iter()
            .map(|(p, u, r)| (projects[*p], users[*u], lib_role(*r)))
            .collect(),
        group_members: w
            .places
            .iter()
            .map(|(g, u)| (groups[*g], users[*u]))
            .collect(),
        group_projects: w
            .group_projects
            .iter()
            .map(|(g, p, r)| (groups[*g], projects[*p], lib_role(*r)))
            .collect(),
    };
    let grants = OrgGrants::from_snapshot(&snapshot);

    // Members and what their roles add up to.
    let members: BTreeMap<usize, Perms> = (0..USERS)
        .filter_map(|u| w.members[u].as_ref().map(|_| u))
        .map(|u| {
            let got = grants
                .members
                .get(&users[u])
                .map(|g| model_perms(g.permissions));
            (u, got.unwrap_or(Perms(u32::MAX)))
        })
        .collect();
    if grants.members.len() != members.len() {
        return Err(format!(
            "{} members indexed, the snapshot has {}",
            grants.members.len(),
            members.len()
        ));
    }
    for (u, got) in &members {
        let roles = w.members[*u].as_ref().expect("member");
        // Every membership carries `org.read` (SPEC §3), then the roles add up.
        let wanted = roles.iter().fold(Perms::of(&["org.read"]), |acc, r| {
            acc.union(match *r {
                RoleIx::Builtin(i) => Builtin::ALL[i].perms(),
                RoleIx::Custom(i) => Perms::from_bits(w.custom[i]),
            })
        });
        if *got != wanted {
            return Err(format!(
                "user {u} ({roles:?}) holds {:?}, the model says {:?}",
                got.names(),
                wanted.names()
            ));
        }
    }
    if grants.projects.len() != w.projects {
        return Err(format!(
            "{} projects indexed, the snapshot has {}",
            grants.projects.len(),
            w.projects
        ));
    }

    // R11: every (user, project) role, and what it allows.
    for (u, user) in users.iter().enumerate() {
        for (p, project) in projects.iter().enumerate().take(w.projects) {
            let got = grants.project_role(*user, *project);
            let wanted = model_role(w, u, p);
            if got != wanted.map(lib_role) {
                return Err(format!(
                    "user {u} on project {p}: index {got:?}, model {wanted:?}"
                ));
            }
            // What the index keeps per member: the strongest grant on each project.
            if w.members.get(u).is_some_and(Option::is_some) {
                let kept = grants.members[user].granted(*project);
                let granted = model_granted(w, u, p).map(lib_role);
                if kept != granted {
                    return Err(format!(
                        "user {u}'s grants on project {p}: index {kept:?}, model {granted:?}"
                    ));
                }
            }
        }
    }

    // Project roles allow what SPEC §1 says; organization permissions amount to R11's reach.
    for r in PRole::ALL {
        for perm in PROJECT_PERMS {
            let lib = lib_role(r).allows(ProjectPermission::parse(perm).expect("project perm"));
            if lib != r.allows(perm) {
                return Err(format!(
                    "{r:?} allows {perm}: library {lib}, model {}",
                    r.allows(perm)
                ));
            }
        }
    }
    for bits in &w.sets {
        let p = Perms::from_bits(*bits);
        let got = ProjectRole::from_org(lib_perms(p));
        if got != model::org_reach(p).map(lib_role) {
            return Err(format!(
                "{:?} amounts to {got:?} on every project, the model says {:?}",
                p.names(),
                model::org_reach(p)
            ));
        }
    }
    Ok(())
}

#[test]
fn the_catalog_is_spec_section_2_and_3() {
    let names: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
    assert_eq!(names, PERMS);
    for b in Builtin::ALL {
        let lib = BuiltinRole::parse(b.name())
            .expect("a SPEC §3 role")
            .permissions();
        assert_eq!(model_perms(lib), b.perms(), "{b:?}");
    }
}

#[test]
fn r11_the_index_matches_the_model_on_random_snapshots() {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&world(), |w| check(&w).map_err(TestCaseError::fail));
    if let Err(e) = result {
        panic!("{e}");
    }
}
