//! Random organizations' worth of projects, groups, group places, group and direct project
//! roles, role changes, leaves and removals, by the owner or by random members (so that some
//! requests are refused), applied to a real server over HTTP and to the model. After every step
//! the server must have decided as the model did, and every way the server tells who reaches
//! what must agree with the model:
//!
//! - `POST /check/batch`: every (user, permission, target) over the case's users (and an id
//!   nobody has), the organization's permissions (SPEC §2) and `project.*` on every project,
//!   live or deleted (and a few of them one by one through `POST /check`);
//! - `GET /users/{user}/projects?permission=…`, every page;
//! - `GET /orgs/{org}/members/{user}/permissions`: permissions, organization-wide reach and
//!   granted projects with the effective role and every source;
//! - `GET /orgs/{org}/projects` as each user (R11, R12) and `GET …/projects/{id}` (404
//!   `project_not_found` for what they do not reach);
//! - the `revision` of answers never goes back, grows with every accepted change of grants, and
//!   stays put when a request is refused.
//!
//! One server and one set of signed-in users serve every case of a test; each case works in its
//! own new organization, deleted at the end of the case.

use crate::common::{Resp, SERVICE_TOKEN, Store};
use crate::model::checks::permissions_match;
use crate::model::org::{Org, Project};
use crate::model::runner::{self, Settings, Steps, Tally, play};
use crate::model::{Builtin, PERMS, PROJECT_PERMS, PRole, Perms, Refusal, Role, org_reach};
use crate::reach::{self, CUSTOM, Request};
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Users besides the owner.
const OTHERS: usize = 5;
/// Registered users, owner (index 0) included; index `USERS` is an id nobody has.
const USERS: usize = OTHERS + 1;
/// Cases per store, unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 24;
/// Random steps after the opening ones.
const MAX_STEPS: usize = 25;
/// Project names a case uses (in either letter case).
const PROJECTS: [&str; 5] = ["web", "api", "docs", "shop", "blog"];
/// Group names a case uses (in any letter case).
const GROUPS: [&str; 3] = ["Alpha", "Beta", "Gamma"];
/// Questions asked one by one through `POST /check` after each step (the rest go in batches).
const SINGLE_CHECKS: usize = 8;
/// Page size for every listing walked, small so that paging is exercised.
const PAGE: u32 = 2;

/// Who acts: the `i`-th member able to do what the operation needs (any member when none is),
/// the `i`-th of those among them without `projects.manage` (so that R6 bounds them by their
/// own project roles), the `i`-th member, the owner, or user `u` whatever they are.
#[derive(Clone, Copy, Debug)]
enum Who {
    Able(usize),
    Bounded(usize),
    Member(usize),
    Owner,
    Anyone(usize),
}

/// Whom an operation is about: the `i`-th member, or user `u` (`USERS`: an id nobody has).
#[derive(Clone, Copy, Debug)]
enum Target {
    Member(usize),
    Anyone(usize),
}

/// A project as a path names it: a pool name (upper-cased when `true`), the `i`-th live
/// project (by id when `true`, else by name), or the `i`-th deleted one's id.
#[derive(Clone, Copy, Debug)]
enum ProjRef {
    Pool(usize, bool),
    Live(usize, bool),
    Dead(usize),
}

/// A group as a path names it: a pool name or the `i`-th existing group, in letter case `c`.
#[derive(Clone, Copy, Debug)]
enum GroupRef {
    Pool(usize, u8),
    Existing(usize, u8),
}

/// A role in a role list: a built-in one (never `owner`) or the `i`-th custom role created.
#[derive(Clone, Copy, Debug)]
enum RoleRef {
    Builtin(usize),
    Custom(usize),
}

#[derive(Clone, Debug)]
enum Op {
    CreateProject {
        who: Who,
        name: usize,
        upper: bool,
    },
    DeleteProject {
        who: Who,
        project: ProjRef,
    },
    SetDirect {
        who: Who,
        project: ProjRef,
        target: Target,
        role: PRole,
    },
    RemoveDirect {
        who: Who,
        project: ProjRef,
        target: Target,
    },
    CreateGroup {
        who: Who,
        group: GroupRef,
    },
    DeleteGroup {
        who: Who,
        group: GroupRef,
    },
    PutGroupMember {
        who: Who,
        group: GroupRef,
        target: Target,
    },
    RemoveGroupMember {
        who: Who,
        group: GroupRef,
        target: Target,
    },
    PutGroupProject {
        who: Who,
        group: GroupRef,
        project: ProjRef,
        role: PRole,
    },
    RemoveGroupProject {
        who: Who,
        group: GroupRef,
        project: ProjRef,
    },
    SetRoles {
        target: Target,
        roles: Vec<RoleRef>,
    },
    Add {
        target: usize,
        roles: Vec<RoleRef>,
    },
    Remove {
        target: Target,
    },
    Leave {
        who: Who,
    },
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        4 => (0..USERS).prop_map(Who::Able),
        4 => (0..USERS).prop_map(Who::Bounded),
        3 => (0..USERS).prop_map(Who::Member),
        1 => Just(Who::Owner),
        1 => (0..USERS).prop_map(Who::Anyone),
    ]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        8 => (0..USERS).prop_map(Target::Member),
        1 => (0..=USERS).prop_map(Target::Anyone),
    ]
}

fn proj_ref() -> impl Strategy<Value = ProjRef> {
    prop_oneof![
        2 => (0..PROJECTS.len(), any::<bool>()).prop_map(|(i, u)| ProjRef::Pool(i, u)),
        8 => (0..PROJECTS.len(), any::<bool>()).prop_map(|(i, id)| ProjRef::Live(i, id)),
        1 => (0..4usize).prop_map(ProjRef::Dead),
    ]
}

fn group_ref() -> impl Strategy<Value = GroupRef> {
    prop_oneof![
        2 => (0..GROUPS.len(), 0..3u8).prop_map(|(i, c)| GroupRef::Pool(i, c)),
        8 => (0..GROUPS.len(), 0..3u8).prop_map(|(i, c)| GroupRef::Existing(i, c)),
    ]
}

fn prole() -> impl Strategy<Value = PRole> {
    prop::sample::select(PRole::ALL.to_vec())
}

fn roles() -> impl Strategy<Value = Vec<RoleRef>> {
    let one = prop_oneof![
        3 => (1..Builtin::ALL.len()).prop_map(RoleRef::Builtin),
        3 => (0..CUSTOM.len()).prop_map(RoleRef::Custom),
    ];
    prop::collection::vec(one, 1..=2)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (who(), 0..PROJECTS.len(), any::<bool>())
            .prop_map(|(who, name, upper)| Op::CreateProject { who, name, upper }),
        2 => (who(), proj_ref()).prop_map(|(who, project)| Op::DeleteProject { who, project }),
        5 => (who(), proj_ref(), target(), prole())
            .prop_map(|(who, project, target, role)| Op::SetDirect { who, project, target, role }),
        2 => (who(), proj_ref(), target())
            .prop_map(|(who, project, target)| Op::RemoveDirect { who, project, target }),
        2 => (who(), group_ref()).prop_map(|(who, group)| Op::CreateGroup { who, group }),
        1 => (who(), group_ref()).prop_map(|(who, group)| Op::DeleteGroup { who, group }),
        5 => (who(), group_ref(), target())
            .prop_map(|(who, group, target)| Op::PutGroupMember { who, group, target }),
        2 => (who(), group_ref(), target())
            .prop_map(|(who, group, target)| Op::RemoveGroupMember { who, group, target }),
        5 => (who(), group_ref(), proj_ref(), prole()).prop_map(|(who, group, project, role)| {
            Op::PutGroupProject { who, group, project, role }
        }),
        2 => (who(), group_ref(), proj_ref())
            .prop_map(|(who, group, project)| Op::RemoveGroupProject { who, group, project }),
        3 => (target(), roles()).prop_map(|(target, roles)| Op::SetRoles { target, roles }),
        2 => (0..USERS, roles()).prop_map(|(target, roles)| Op::Add { target, roles }),
        1 => target().prop_map(|target| Op::Remove { target }),
        1 => who().prop_map(|who| Op::Leave { who }),
    ]
}

/// A case: which custom roles exist (always one that manages groups and nothing of projects,
/// so that R6 bounds someone by their project roles); the owner adds some users, makes two
/// projects and a group with a project and members, gives a direct role; then random
/// operations follow.
fn case() -> impl Strategy<Value = (u8, Vec<Op>)> {
    let groupers = CUSTOM
        .iter()
        .position(|(name, _)| *name == "Groupers")
        .expect("a groupers role");
    let customs =
        prop::collection::vec(prop::bool::weighted(0.7), CUSTOM.len()).prop_map(move |made| {
            made.iter()
                .enumerate()
                .fold(1u8 << groupers, |acc, (i, m)| acc | (u8::from(*m) << i))
        });
    let adds = prop::collection::vec(prop::option::weighted(0.85, roles()), OTHERS);
    let opening = (prole(), prole(), (0..USERS, 0..USERS, 0..USERS)).prop_map(
        |(group_role, direct_role, (a, b, c))| {
            let owner = Who::Owner;
            let alpha = GroupRef::Pool(0, 0);
            vec![
                Op::CreateProject {
                    who: owner,
                    name: 0,
                    upper: false,
                },
                Op::CreateProject {
                    who: owner,
                    name: 1,
                    upper: true,
                },
                Op::CreateGroup {
                    who: owner,
                    group: alpha,
                },
                Op::PutGroupProject {
                    who: owner,
                    group: alpha,
                    project: ProjRef::Live(0, false),
                    role: group_role,
                },
                Op::PutGroupMember {
                    who: owner,
                    group: alpha,
                    target: Target::Member(a),
                },
                Op::PutGroupMember {
                    who: owner,
                    group: alpha,
                    target: Target::Member(b),
                },
                Op::SetDirect {
                    who: owner,
                    project: ProjRef::Live(1, true),
                    target: Target::Member(c),
                    role: direct_role,
                },
            ]
        },
    );
    (
        customs,
        adds,
        opening,
        prop::collection::vec(op(), 1..=MAX_STEPS),
    )
        .prop_map(|(customs, adds, opening, rest)| {
            let adds = adds.into_iter().enumerate().filter_map(|(i, roles)| {
                roles.map(|roles| Op::Add {
                    target: i + 1,
                    roles,
                })
            });
            (customs, adds.chain(opening).chain(rest).collect())
        })
}

/// The shared fixture (the server and its signed-in users, for every case of one test), and
/// what this suite adds to it.
struct Fixture {
    base: runner::Fixture,
    /// The server's database, opened a second time: for loading a fresh index from it.
    store: std::sync::Arc<dyn guildhall::store::Store>,
    http: Http,
}

impl Fixture {
    async fn new(store: Store) -> Self {
        let base = runner::Fixture::new(store, "Authz", USERS).await;
        let db = guildhall::store::open(&base.app.database_url)
            .await
            .expect("the server's database");
        Fixture {
            http: Http {
                client: base.app.client.clone(),
                base: base.app.url(""),
            },
            store: db,
            base,
        }
    }

    fn id(&self, user: usize) -> &str {
        self.base.id(user)
    }
}

fn letter_case(s: &str, c: u8) -> String {
    match c {
        0 => s.to_owned(),
        1 => s.to_lowercase(),
        _ => s.to_uppercase(),
    }
}

/// Interprets a random operation against the model's state when it runs.
fn concretize(op: &Op, m: &Org) -> Request {
    let members: Vec<usize> = m.members.keys().copied().collect();
    let live: Vec<(&String, &Project)> = m.projects.iter().collect();
    let project = |r: &ProjRef| -> String {
        match *r {
            ProjRef::Pool(i, upper) if upper => PROJECTS[i].to_uppercase(),
            ProjRef::Pool(i, _) => PROJECTS[i].to_owned(),
            ProjRef::Live(i, by_id) if !live.is_empty() => {
                let (id, p) = live[i % live.len()];
                if by_id { id.clone() } else { p.name.clone() }
            }
            ProjRef::Live(i, _) => PROJECTS[i].to_owned(),
            ProjRef::Dead(i) if !m.dead.is_empty() => m.dead[i % m.dead.len()].clone(),
            ProjRef::Dead(i) => PROJECTS[i % PROJECTS.len()].to_owned(),
        }
    };
    let existing: Vec<&String> = m.groups.values().map(|g| &g.name).collect();
    let group = |r: &GroupRef| -> String {
        match *r {
            GroupRef::Existing(i, c) if !existing.is_empty() => {
                letter_case(existing[i % existing.len()], c)
            }
            GroupRef::Existing(i, c) | GroupRef::Pool(i, c) => letter_case(GROUPS[i], c),
        }
    };
    // Who may do what the operation needs, on the project it names (if any).
    let can_manage = |u: usize, p: &str| {
        m.member_perms(u).has("projects.manage")
            || m.find_project(p)
                .is_some_and(|id| m.role_on(u, &id) == Some(PRole::Admin))
    };
    let actor = |w: &Who, able: &dyn Fn(usize) -> bool| -> usize {
        let first = |i: usize, ok: &dyn Fn(usize) -> bool| {
            let ok: Vec<usize> = members.iter().copied().filter(|u| ok(*u)).collect();
            (!ok.is_empty()).then(|| ok[i % ok.len()])
        };
        let any = |i: usize| members[i % members.len()];
        match *w {
            Who::Able(i) => first(i, able).unwrap_or_else(|| any(i)),
            Who::Bounded(i) => first(i, &|u| able(u) && !m.member_perms(u).has("projects.manage"))
                .or_else(|| first(i, able))
                .unwrap_or_else(|| any(i)),
            Who::Member(i) => members[i % members.len()],
            Who::Owner => m.owner,
            Who::Anyone(u) => u,
        }
    };
    let target = |t: &Target| match *t {
        Target::Member(i) => members[i % members.len()],
        Target::Anyone(u) => u,
    };
    let mut created: Vec<&String> = m.custom.values().map(|c| &c.name).collect();
    created.sort();
    let role_names = |roles: &[RoleRef]| -> Vec<String> {
        let set: BTreeSet<String> = roles
            .iter()
            .map(|r| match *r {
                RoleRef::Builtin(i) => Builtin::ALL[i].name().to_owned(),
                RoleRef::Custom(i) if !created.is_empty() => created[i % created.len()].clone(),
                RoleRef::Custom(_) => "member".to_owned(),
            })
            .collect();
        set.into_iter().collect()
    };
    let groups_manage = |u: usize| m.member_perms(u).has("groups.manage");
    match op {
        Op::CreateProject { who, name, upper } => Request::CreateProject {
            actor: actor(who, &|u| m.member_perms(u).has("projects.create")),
            name: if *upper {
                PROJECTS[*name].to_uppercase()
            } else {
                PROJECTS[*name].to_owned()
            },
        },
        Op::DeleteProject { who, project: p } => {
            let p = project(p);
            Request::DeleteProject {
                actor: actor(who, &|u| can_manage(u, &p)),
                project: p,
            }
        }
        Op::SetDirect {
            who,
            project: p,
            target: t,
            role,
        } => {
            let p = project(p);
            Request::SetDirect {
                actor: actor(who, &|u| can_manage(u, &p)),
                project: p,
                target: target(t),
                role: *role,
            }
        }
        Op::RemoveDirect {
            who,
            project: p,
            target: t,
        } => {
            let p = project(p);
            Request::RemoveDirect {
                actor: actor(who, &|u| can_manage(u, &p)),
                project: p,
                target: target(t),
            }
        }
        Op::CreateGroup { who, group: g } => Request::CreateGroup {
            actor: actor(who, &groups_manage),
            name: match *g {
                GroupRef::Pool(i, c) | GroupRef::Existing(i, c) => letter_case(GROUPS[i], c),
            },
        },
        Op::DeleteGroup { who, group: g } => Request::DeleteGroup {
            actor: actor(who, &groups_manage),
            group: group(g),
        },
        Op::PutGroupMember {
            who,
            group: g,
            target: t,
        } => Request::PutGroupMember {
            actor: actor(who, &groups_manage),
            group: group(g),
            target: target(t),
        },
        Op::RemoveGroupMember {
            who,
            group: g,
            target: t,
        } => Request::RemoveGroupMember {
            actor: actor(who, &groups_manage),
            group: group(g),
            target: target(t),
        },
        Op::PutGroupProject {
            who,
            group: g,
            project: p,
            role,
        } => Request::PutGroupProject {
            actor: actor(who, &groups_manage),
            group: group(g),
            project: project(p),
            role: *role,
        },
        Op::RemoveGroupProject {
            who,
            group: g,
            project: p,
        } => Request::RemoveGroupProject {
            actor: actor(who, &groups_manage),
            group: group(g),
            project: project(p),
        },
        Op::SetRoles { target: t, roles } => Request::SetRoles {
            target: target(t),
            roles: role_names(roles),
        },
        Op::Add { target, roles } => Request::Add {
            target: *target,
            roles: role_names(roles),
        },
        Op::Remove { target: t } => Request::Remove { target: target(t) },
        Op::Leave { who } => Request::Leave {
            actor: actor(who, &|u| u != m.owner),
        },
    }
}

/// Sends `req` to the server as its actor.
async fn send(fx: &Fixture, slug: &str, owner: usize, req: &Request) -> Resp {
    use Request as R;
    let bearer = fx.base.users[req.actor(owner)].token.clone();
    let org = format!("/api/v1/orgs/{slug}");
    let (method, path, body) = match req {
        R::CreateProject { name, .. } => (
            Method::POST,
            format!("{org}/projects"),
            Some(json!({ "name": name })),
        ),
        R::DeleteProject { project, .. } => {
            (Method::DELETE, format!("{org}/projects/{project}"), None)
        }
        R::SetDirect {
            project,
            target,
            role,
            ..
        } => (
            Method::PUT,
            format!("{org}/projects/{project}/members/{}", fx.id(*target)),
            Some(json!({ "role": role.name() })),
        ),
        R::RemoveDirect {
            project, target, ..
        } => (
            Method::DELETE,
            format!("{org}/projects/{project}/members/{}", fx.id(*target)),
            None,
        ),
        R::CreateGroup { name, .. } => (
            Method::POST,
            format!("{org}/groups"),
            Some(json!({ "name": name })),
        ),
        R::DeleteGroup { group, .. } => (Method::DELETE, format!("{org}/groups/{group}"), None),
        R::PutGroupMember { group, target, .. } => (
            Method::PUT,
            format!("{org}/groups/{group}/members/{}", fx.id(*target)),
            None,
        ),
        R::RemoveGroupMember { group, target, .. } => (
            Method::DELETE,
            format!("{org}/groups/{group}/members/{}", fx.id(*target)),
            None,
        ),
        R::PutGroupProject {
            group,
            project,
            role,
            ..
        } => (
            Method::PUT,
            format!("{org}/groups/{group}/projects/{project}"),
            Some(json!({ "role": role.name() })),
        ),
        R::RemoveGroupProject { group, project, .. } => (
            Method::DELETE,
            format!("{org}/groups/{group}/projects/{project}"),
            None,
        ),
        R::SetRoles { target, roles } => (
            Method::PATCH,
            format!("{org}/members/{}", fx.id(*target)),
            Some(json!({ "roles": roles })),
        ),
        R::Add { target, roles } => (
            Method::POST,
            format!("{org}/members"),
            Some(json!({ "email": fx.base.users[*target].email, "roles": roles })),
        ),
        R::Remove { target } => (
            Method::DELETE,
            format!("{org}/members/{}", fx.id(*target)),
            None,
        ),
        R::Leave { .. } => (Method::POST, format!("{org}/leave"), None),
    };
    fx.base.app.req(method, &path, Some(&bearer), body).await
}

/// What one case knows about its organization on the server.
struct Case<'a> {
    fx: &'a Fixture,
    org_id: String,
    slug: String,
    /// The newest revision any answer gave.
    revision: u64,
    /// How many times the check API was asked about this case.
    asked: usize,
}

impl Case<'_> {
    /// A revision from an answer: never older than one seen before.
    fn saw(&mut self, revision: Option<u64>, what: &str) -> Result<u64, String> {
        let r = revision.ok_or_else(|| format!("{what}: no revision in the answer"))?;
        if r < self.revision {
            return Err(format!(
                "{what}: revision {r} is older than {} seen before",
                self.revision
            ));
        }
        self.revision = r;
        Ok(r)
    }
}

/// One check of a batch, and what the model says of it.
struct Question {
    user: usize,
    permission: &'static str,
    target: (&'static str, String),
    expected: bool,
}

/// Every (user, permission, target) of the case, with the model's answers.
fn questions(m: &Org, org_id: &str) -> Vec<Question> {
    let nil = uuid::Uuid::nil().to_string();
    let mut out = Vec::new();
    let projects: Vec<&String> = m.projects.keys().chain(m.dead.iter()).collect();
    for user in 0..=USERS {
        for p in PERMS {
            out.push(Question {
                user,
                permission: p,
                target: ("org", org_id.to_owned()),
                expected: m.member_perms(user).has(p),
            });
        }
        out.push(Question {
            user,
            permission: "org.read",
            target: ("org", nil.clone()),
            expected: false,
        });
        for project in projects.iter().copied().chain([&nil]) {
            for p in PROJECT_PERMS {
                out.push(Question {
                    user,
                    permission: p,
                    target: ("project", project.clone()),
                    expected: m.role_on(user, project).is_some_and(|r| r.allows(p)),
                });
            }
        }
    }
    out
}

/// The check API agrees with the model on every question, in batches of at most 1000; returns
/// the revision of the answers.
async fn check_decisions(c: &mut Case<'_>, m: &Org) -> Result<u64, String> {
    let fx = c.fx;
    let qs = questions(m, &c.org_id);
    let mut revision = None;
    for chunk in qs.chunks(1000) {
        let checks: Vec<Value> = chunk
            .iter()
            .map(|q| json!({ "user": fx.id(q.user), "permission": q.permission, q.target.0: q.target.1 }))
            .collect();
        let r = fx
            .base
            .app
            .req(
                Method::POST,
                "/api/v1/check/batch",
                Some(SERVICE_TOKEN),
                Some(json!({ "checks": checks })),
            )
            .await;
        if r.status != 200 {
            return Err(format!("check/batch answered {}: {}", r.status, r.body));
        }
        let results = r.body["results"].as_array().ok_or("batch results")?;
        if results.len() != chunk.len() {
            return Err(format!(
                "check/batch answered {} results for {} checks",
                results.len(),
                chunk.len()
            ));
        }
        for (q, d) in chunk.iter().zip(results) {
            let got = d["allowed"].as_bool().ok_or("allowed")?;
            if got != q.expected {
                return Err(format!(
                    "check: may user {} do {} on {} {}? server {got}, model {} \
                     (roles {:?}, role on it {:?}, grants {:?})",
                    q.user,
                    q.permission,
                    q.target.0,
                    q.target.1,
                    q.expected,
                    m.members.get(&q.user),
                    m.role_on(q.user, &q.target.1),
                    m.sources(q.user, &q.target.1),
                ));
            }
            let r = c.saw(d["revision"].as_u64(), "check/batch")?;
            if revision.is_some_and(|x| x != r) {
                return Err("one batch answered at two revisions".to_owned());
            }
            revision = Some(r);
        }
    }
    let revision = revision.ok_or("no checks asked")?;
    // A few of the same questions through `POST /check`, a different few after every step.
    c.asked += 1;
    let picks: Vec<usize> = (0..SINGLE_CHECKS)
        .map(|k| (c.asked * 7919 + k * qs.len() / SINGLE_CHECKS) % qs.len())
        .collect();
    let jobs: Vec<_> = picks
        .iter()
        .map(|i| {
            let q = &qs[*i];
            let body = json!({ "user": fx.id(q.user), "permission": q.permission, q.target.0: q.target.1 });
            let http = fx.http.clone();
            async move { http.send(Method::POST, "/api/v1/check", SERVICE_TOKEN, Some(body)).await }
        })
        .collect();
    for (i, r) in picks.into_iter().zip(all(jobs).await) {
        let q = &qs[i];
        if r.status != 200 || r.body["allowed"] != q.expected {
            return Err(format!(
                "check: may user {} do {} on {} {}? server {} {}, model {}",
                q.user, q.permission, q.target.0, q.target.1, r.status, r.body, q.expected
            ));
        }
        c.saw(r.body["revision"].as_u64(), "check")?;
    }
    Ok(revision)
}

/// An answer read by a background task.
struct Got {
    status: u16,
    body: Value,
}

impl Got {
    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

/// A client that background tasks can own, so that the many reads after a step run at once.
#[derive(Clone)]
struct Http {
    client: reqwest::Client,
    base: String,
}

impl Http {
    async fn get(&self, path: &str, token: &str) -> Got {
        self.send(Method::GET, path, token, None).await
    }

    async fn send(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Got {
        let mut rb = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request sent");
        let status = r.status().as_u16();
        let bytes = r.bytes().await.expect("body");
        Got {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// Every page of a listing (`path` already has a query), following `next_cursor`; stops at
    /// the first answer that is not a 200, and after 100 pages (the caller sees there were).
    async fn walk(&self, path: &str, token: &str) -> Vec<Got> {
        let mut pages = Vec::new();
        let mut cursor: Option<String> = None;
        while pages.len() <= 100 {
            let p = match &cursor {
                Some(k) => format!("{path}&cursor={k}"),
                None => path.to_owned(),
            };
            let g = self.get(&p, token).await;
            cursor = if g.status == 200 {
                g.body["next_cursor"].as_str().map(str::to_owned)
            } else {
                None
            };
            pages.push(g);
            if cursor.is_none() {
                break;
            }
        }
        pages
    }
}

/// Runs `jobs` at once; their answers in order.
async fn all<T, F>(jobs: Vec<F>) -> Vec<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for (i, job) in jobs.into_iter().enumerate() {
        set.spawn(async move { (i, job.await) });
    }
    let mut out = set.join_all().await;
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, t)| t).collect()
}

/// The items of a walked listing, every page a 200 of at most `PAGE` items.
fn items<'a>(pages: &'a [Got], what: &str) -> Result<Vec<&'a Value>, String> {
    if pages.len() > 100 {
        return Err(format!("{what}: more than 100 pages of {PAGE}"));
    }
    let mut out = Vec::new();
    for g in pages {
        if g.status != 200 {
            return Err(format!("{what} answered {}: {}", g.status, g.body));
        }
        let page = g.body["items"].as_array().ok_or("items")?;
        if page.len() > PAGE as usize {
            return Err(format!("{what}: {} items on one page", page.len()));
        }
        out.extend(page);
    }
    Ok(out)
}

/// `GET /users/{user}/projects?permission=…`, every page, lists exactly what the model says
/// each user reaches in this organization, with their role, each project once.
async fn check_user_projects(c: &mut Case<'_>, m: &Org) -> Result<(), String> {
    let fx = c.fx;
    let mut asked = Vec::new();
    let mut jobs = Vec::new();
    for user in 0..=USERS {
        for perm in PROJECT_PERMS {
            let path = format!(
                "/api/v1/users/{}/projects?permission={perm}&limit={PAGE}",
                fx.id(user)
            );
            let http = fx.http.clone();
            asked.push((user, perm));
            jobs.push(async move { http.walk(&path, SERVICE_TOKEN).await });
        }
    }
    for ((user, perm), pages) in asked.into_iter().zip(all(jobs).await) {
        let what = format!("users/{{user}}/projects?permission={perm} for user {user}");
        for g in &pages {
            c.saw(g.body["revision"].as_u64(), &what)?;
        }
        let mut seen = BTreeSet::new();
        let mut listed = BTreeMap::new();
        for it in items(&pages, &what)? {
            let project = it["project"].as_str().ok_or("project")?.to_owned();
            if !seen.insert(project.clone()) {
                return Err(format!("{what}: project {project} listed twice"));
            }
            if it["org"] == c.org_id.as_str() {
                let name = it["name"].as_str().ok_or("name")?.to_owned();
                let role = it["role"].as_str().ok_or("role")?.to_owned();
                listed.insert(project, (name, role));
            }
        }
        let wanted: BTreeMap<String, (String, String)> = m
            .reach(user, perm)
            .into_iter()
            .map(|(p, r)| {
                let name = m.projects[&p].name.clone();
                (p, (name, r.name().to_owned()))
            })
            .collect();
        if listed != wanted {
            return Err(format!("{what}:\n  server {listed:?}\n  model  {wanted:?}"));
        }
    }
    Ok(())
}

/// A project source as the server shows it, in the model's terms.
fn source_of(v: &Value) -> Result<(String, Option<String>, String), String> {
    Ok((
        v["kind"].as_str().ok_or("source kind")?.to_owned(),
        v["name"].as_str().map(str::to_owned),
        v["role"].as_str().ok_or("source role")?.to_owned(),
    ))
}

/// `GET /orgs/{org}/members/{user}/permissions` agrees with the model: permissions and where
/// each comes from, organization-wide reach and its roles, granted projects with the effective
/// role and every grant. Non-members are not found.
async fn check_effective(c: &Case<'_>, m: &Org) -> Result<(), String> {
    let fx = c.fx;
    let owner = fx.base.users[m.owner].token.clone();
    let jobs: Vec<_> = (0..=USERS)
        .map(|user| {
            let path = format!(
                "/api/v1/orgs/{}/members/{}/permissions",
                c.slug,
                fx.id(user)
            );
            let (http, owner) = (fx.http.clone(), owner.clone());
            async move { http.get(&path, &owner).await }
        })
        .collect();
    for (user, r) in all(jobs).await.into_iter().enumerate() {
        effective_matches(m, user, &r).map_err(|e| format!("permissions of user {user}: {e}"))?;
    }
    Ok(())
}

type SourceRow = (String, Option<String>, String);

fn effective_matches(m: &Org, user: usize, r: &Got) -> Result<(), String> {
    let Some(roles) = m.members.get(&user) else {
        return if (r.status, r.code()) == (404, "member_not_found") {
            Ok(())
        } else {
            Err(format!("not a member, yet {} {}", r.status, r.body))
        };
    };
    if r.status != 200 {
        return Err(format!("{} {}", r.status, r.body));
    }
    let body = &r.body;
    // Permissions, each from every role of the user's that carries it.
    permissions_match(m, user, body)?;
    // Organization-wide reach and the roles it comes from.
    let all = &body["projects"]["all"];
    let server_all = if all.is_null() {
        None
    } else {
        let mut sources = Vec::new();
        for s in all["sources"].as_array().ok_or("all.sources")? {
            sources.push(source_of(s)?);
        }
        sources.sort();
        Some((all["role"].as_str().ok_or("all.role")?.to_owned(), sources))
    };
    let wanted_all = org_reach(m.member_perms(user)).map(|r| {
        let mut sources: Vec<SourceRow> = roles
            .iter()
            .filter_map(|role| {
                org_reach(m.perms_of(*role)).map(|x| {
                    let kind = match role {
                        Role::Builtin(_) => "role",
                        Role::Custom(_) => "custom_role",
                    };
                    (kind.to_owned(), Some(m.name_of(*role)), x.name().to_owned())
                })
            })
            .collect();
        sources.sort();
        (r.name().to_owned(), sources)
    });
    if server_all != wanted_all {
        return Err(format!(
            "organization-wide reach:\n  server {server_all:?}\n  model  {wanted_all:?}"
        ));
    }
    // Granted projects: the effective role (the strongest grant, reach included) and every
    // grant, direct or through a group.
    type Granted = BTreeMap<String, (String, String, Vec<SourceRow>)>;
    let mut server_granted: Granted = BTreeMap::new();
    for g in body["projects"]["granted"].as_array().ok_or("granted")? {
        let id = g["project"]["id"].as_str().ok_or("project id")?.to_owned();
        let name = g["project"]["name"]
            .as_str()
            .ok_or("project name")?
            .to_owned();
        let role = g["role"].as_str().ok_or("role")?.to_owned();
        let mut sources = Vec::new();
        for s in g["sources"].as_array().ok_or("granted sources")? {
            sources.push(source_of(s)?);
        }
        sources.sort();
        if server_granted
            .insert(id.clone(), (name, role, sources))
            .is_some()
        {
            return Err(format!("project {id} granted twice"));
        }
    }
    let mut wanted_granted: Granted = BTreeMap::new();
    for (id, p) in &m.projects {
        let sources = m.sources(user, id);
        if sources.is_empty() {
            continue;
        }
        let role = m.role_on(user, id).ok_or("granted, so reached")?;
        let mut sources: Vec<SourceRow> = sources
            .into_iter()
            .map(|(k, n, r)| (k.to_owned(), n, r.name().to_owned()))
            .collect();
        sources.sort();
        wanted_granted.insert(
            id.clone(),
            (p.name.clone(), role.name().to_owned(), sources),
        );
    }
    if server_granted != wanted_granted {
        return Err(format!(
            "granted projects:\n  server {server_granted:?}\n  model  {wanted_granted:?}"
        ));
    }
    Ok(())
}

/// R11, R12: each user lists exactly the projects they reach, with their role; each project
/// they do not reach (live or deleted) answers 404 `project_not_found`, each they do answers
/// with their role; to a non-member the organization, and so each project, does not exist.
async fn check_listings(c: &Case<'_>, m: &Org) -> Result<(), String> {
    let fx = c.fx;
    let base = format!("/api/v1/orgs/{}/projects", c.slug);
    let listings: Vec<_> = (0..USERS)
        .map(|user| {
            let (http, token) = (fx.http.clone(), fx.base.users[user].token.clone());
            let path = format!("{base}?limit={PAGE}");
            async move { http.walk(&path, &token).await }
        })
        .collect();
    let mut asked = Vec::new();
    let mut reads = Vec::new();
    for user in 0..USERS {
        for id in m.projects.keys().chain(m.dead.iter()) {
            let (http, token) = (fx.http.clone(), fx.base.users[user].token.clone());
            let path = format!("{base}/{id}");
            asked.push((user, id));
            reads.push(async move { http.get(&path, &token).await });
        }
    }
    let (listings, reads) = tokio::join!(all(listings), all(reads));
    for (user, pages) in listings.into_iter().enumerate() {
        if !m.is_member(user) {
            let r = &pages[0];
            if (r.status, r.code()) != (404, "org_not_found") {
                return Err(format!(
                    "R12: user {user}, not a member, listed projects: {} {}",
                    r.status, r.body
                ));
            }
            continue;
        }
        let what = format!("{base} as user {user}");
        let mut listed = BTreeMap::new();
        for it in items(&pages, &what)? {
            let id = it["id"].as_str().ok_or("id")?.to_owned();
            let entry = (
                it["name"].as_str().ok_or("name")?.to_owned(),
                it["my_role"].as_str().ok_or("my_role")?.to_owned(),
            );
            if listed.insert(id.clone(), entry).is_some() {
                return Err(format!("{what}: {id} listed twice"));
            }
        }
        let wanted: BTreeMap<String, (String, String)> = m
            .reach(user, "project.read")
            .into_iter()
            .map(|(p, r)| {
                let name = m.projects[&p].name.clone();
                (p, (name, r.name().to_owned()))
            })
            .collect();
        if listed != wanted {
            return Err(format!(
                "R11: {what}:\n  server {listed:?}\n  model  {wanted:?}"
            ));
        }
    }
    for ((user, id), r) in asked.into_iter().zip(reads) {
        let ok = match m.role_on(user, id) {
            Some(role) => r.status == 200 && r.body["my_role"] == role.name(),
            None if m.is_member(user) => (r.status, r.code()) == (404, "project_not_found"),
            None => (r.status, r.code()) == (404, "org_not_found"),
        };
        if !ok {
            return Err(format!(
                "R11: user {user} reads project {id}: server {} {}, model {:?}",
                r.status,
                r.body,
                m.role_on(user, id)
            ));
        }
    }
    Ok(())
}

/// Everything after a step; returns the revision the check API answered at.
async fn check_state(c: &mut Case<'_>, m: &Org) -> Result<u64, String> {
    let revision = check_decisions(c, m).await?;
    check_user_projects(c, m).await?;
    let (effective, listings) = tokio::join!(check_effective(&*c, m), check_listings(&*c, m));
    effective?;
    listings?;
    Ok(revision)
}

/// One case as [`play`] drives it: what it knows of its organization on the server, and the
/// model of it.
struct Run<'a> {
    c: Case<'a>,
    m: Org,
}

impl Steps for Run<'_> {
    type Op = Op;
    type Req = Request;
    type Accepted = reach::Accepted;

    fn concretize(&self, op: &Op) -> Option<Request> {
        Some(concretize(op, &self.m))
    }

    fn decide(&self, req: &Request) -> Result<reach::Accepted, Refusal> {
        reach::decide(&self.m, req)
    }

    fn status(accepted: &reach::Accepted) -> u16 {
        accepted.status
    }

    fn kind(req: &Request) -> &'static str {
        req.kind()
    }

    async fn send(&self, req: &Request) -> Resp {
        send(self.c.fx, &self.c.slug, self.m.owner, req).await
    }

    async fn settle(
        &mut self,
        _req: &Request,
        decision: Result<reach::Accepted, Refusal>,
        resp: &Resp,
    ) -> Result<(), String> {
        let before = (self.c.revision, self.m.grant_state());
        let accepted = decision.is_ok();
        if let Ok(a) = decision {
            let new_id = resp.body["id"].as_str().unwrap_or_default().to_owned();
            if matches!(a.change, reach::Change::CreateProject { .. }) && new_id.is_empty() {
                return Err(format!("a new project without an id: {}", resp.body));
            }
            reach::apply(&mut self.m, a.change, &new_id);
        }
        let revision = check_state(&mut self.c, &self.m).await?;
        if !accepted && revision != before.0 {
            return Err(format!(
                "a refused request moved the revision from {} to {revision}",
                before.0
            ));
        }
        if accepted && self.m.grant_state() != before.1 && revision <= before.0 {
            return Err(format!(
                "grants changed but the revision stayed at {revision} (was {})",
                before.0
            ));
        }
        Ok(())
    }
}

/// One case: a new organization owned by user 0, its custom roles, then every operation on
/// both sides; at the end the organization is emptied and deleted.
async fn run_case(fx: &Fixture, customs: u8, ops: &[Op], tally: &Tally) -> Result<(), String> {
    let app = &fx.base.app;
    let owner = &fx.base.users[0];
    let org = app.org(owner, "Authz").await;
    let slug = org["slug"].as_str().ok_or("org slug")?.to_owned();
    let org_id = org["id"].as_str().ok_or("org id")?.to_owned();
    let mut m = Org::new(0);
    for (i, (name, perms)) in CUSTOM.iter().enumerate() {
        if customs & (1 << i) != 0 {
            let made = app
                .post(
                    &format!("/api/v1/orgs/{slug}/roles"),
                    &owner.token,
                    json!({ "name": name, "permissions": perms }),
                )
                .await
                .expect(201);
            let id = made.body["id"].as_str().ok_or("role id")?;
            m.create_custom((*name).to_owned(), Perms::of(perms), id, Perms::ALL);
        }
    }
    let mut c = Case {
        fx,
        org_id,
        slug,
        revision: 0,
        asked: 0,
    };
    check_state(&mut c, &m)
        .await
        .map_err(|e| format!("before any step: {e}"))?;
    let mut run = Run { c, m };
    play(&mut run, ops, tally).await?;
    let Run { mut c, m } = run;
    check_fresh_load(&c, &m).await?;
    cleanup(&mut c, &m).await
}

/// An index loaded afresh from the database, as a `serve` starting now loads it (on SQLite,
/// through the start-up reader of its own), answers every question as the model does, at the
/// revision the server last answered at.
async fn check_fresh_load(c: &Case<'_>, m: &Org) -> Result<(), String> {
    use guildhall::api::check::{CheckRequest, parse_check};
    use guildhall::service::check::Ask;
    let fx = c.fx;
    let index = guildhall::service::index::LiveIndex::load(fx.store.clone())
        .await
        .map_err(|e| format!("loading a fresh index: {e}"))?;
    if index.revision() != c.revision {
        return Err(format!(
            "a fresh index loaded at revision {}, the server answers at {}",
            index.revision(),
            c.revision
        ));
    }
    for q in questions(m, &c.org_id) {
        let target = |kind: &str| (q.target.0 == kind).then(|| q.target.1.clone());
        let req = CheckRequest {
            user: fx.id(q.user).to_owned(),
            permission: q.permission.to_owned(),
            org: target("org"),
            project: target("project"),
            at_least_revision: None,
        };
        let asked = parse_check(&req, "").map_err(|e| format!("{e:?}"))?;
        let got = match asked.what {
            Ask::Org(p, org) => index.check_org(asked.user, p, org),
            Ask::Project(p, project) => index.check_project(asked.user, p, project),
            Ask::Nowhere => false,
        };
        if got != q.expected {
            return Err(format!(
                "a fresh index: may user {} do {} on {} {}? index {got}, model {}",
                q.user, q.permission, q.target.0, q.target.1, q.expected
            ));
        }
    }
    Ok(())
}

/// The owner deletes every project, then the organization (R5); afterwards nobody holds
/// anything in it or on its projects, and no user lists them.
async fn cleanup(c: &mut Case<'_>, m: &Org) -> Result<(), String> {
    let fx = c.fx;
    let owner = &fx.base.users[m.owner];
    for id in m.projects.keys() {
        fx.base
            .app
            .delete(
                &format!("/api/v1/orgs/{}/projects/{id}", c.slug),
                &owner.token,
            )
            .await
            .expect(204);
    }
    fx.base
        .app
        .delete(&format!("/api/v1/orgs/{}", c.slug), &owner.token)
        .await
        .expect(204);
    let mut gone = Org::new(m.owner);
    gone.members.clear();
    gone.dead = m.projects.keys().chain(m.dead.iter()).cloned().collect();
    let before = c.revision;
    let after = check_decisions(c, &gone)
        .await
        .map_err(|e| format!("after deleting the organization: {e}"))?;
    if after <= before {
        return Err(format!(
            "deleting the organization left the revision at {after}"
        ));
    }
    check_user_projects(c, &gone)
        .await
        .map_err(|e| format!("after deleting the organization: {e}"))
}

/// Runs the property on `store`: one server and one set of users for all cases.
pub fn run(store: Store) {
    let settings = Settings {
        cases: DEFAULT_CASES,
        max_shrink_iters: 100,
        // Each shrink step replays a whole case over HTTP: a minute of shrinking at most.
        max_shrink_time: 60_000,
    };
    runner::run(
        store,
        settings,
        Fixture::new(store),
        case(),
        |fx, (customs, ops), tally| {
            Box::pin(async move { run_case(fx, customs, &ops, tally).await })
        },
    );
}
