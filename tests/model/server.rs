//! Random operation sequences by random actors, applied to a real server over HTTP and to the
//! model; after every step the server must have decided as the model did, and its state must
//! match the model's and keep R3, R6 and R13.
//!
//! One server and one set of signed-in users serve every case of a test (signing users up is
//! the slow part); each case works in its own new organization, so cases share no state that
//! matters.

use crate::common::{Resp, Store};
use crate::model::checks::{members_and_owner, perm_set, permissions_match};
use crate::model::runner::{self, Fixture, Settings, Steps, Tally, play};
use crate::model::{Builtin, Perms, Refusal, Role, owner_only};
use crate::rules::{self, Actor, Change, Cred, Model, Request};
use proptest::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Users besides the owner.
const OTHERS: usize = 5;
/// Registered users, owner (index 0) included; index `USERS` is an email nobody registered.
const USERS: usize = OTHERS + 1;
/// Names custom roles are created under (in any letter case) and named by in requests.
const POOL: [&str; 4] = ["ops", "auditors", "deployers", "finance"];
/// Cases per store, unless `PROPTEST_CASES` says otherwise.
const DEFAULT_CASES: u32 = 24;
/// Random steps after the initial adds.
const MAX_STEPS: usize = 25;

/// A user, picked relative to the organization when the operation runs: the `i`-th member
/// holding the permission the operation needs (any member when none does), the `i`-th current
/// member, the `i`-th registered user who is not one, or user `u` whatever they are (`USERS`
/// being an email nobody registered).
#[derive(Clone, Copy, Debug)]
enum Pick {
    Able(usize),
    Member(usize),
    Outsider(usize),
    Anyone(usize),
}

/// Who acts: a user, with their session or (when they made any) one of their API tokens.
#[derive(Clone, Copy, Debug)]
struct Who {
    user: Pick,
    token: Option<usize>,
}

/// A role named in a request: built-in, the `i`-th existing custom role, or a name from the
/// pool (which may name no role).
#[derive(Clone, Copy, Debug)]
enum RoleRef {
    B(Builtin),
    Existing(usize),
    C(usize),
}

/// How random permission bits become a request's permissions: cut to what the actor may use
/// (so most requests can succeed), to that minus the owner's own, added (so cut) to what the
/// edited custom role already carries, or sent as they are.
#[derive(Clone, Copy, Debug)]
enum PermMode {
    Held,
    HeldButOwners,
    Grow,
    Any,
}

#[derive(Clone, Copy, Debug)]
struct PermPick {
    bits: u32,
    mode: PermMode,
}

/// A custom role's new name: from the pool in some letter case, or a built-in role's (refused).
#[derive(Clone, Copy, Debug)]
enum NamePick {
    Pool(usize, u8),
    Builtin(Builtin),
}

/// Which role a path names: the `i`-th existing custom role, one from the pool, or a built-in
/// one (refused).
#[derive(Clone, Copy, Debug)]
enum KeyPick {
    Existing(usize),
    Pool(usize),
    Builtin(Builtin),
}

/// One random operation, interpreted against the model's state when it runs.
#[derive(Clone, Debug)]
enum Op {
    SetRoles {
        who: Who,
        target: Pick,
        roles: Vec<RoleRef>,
    },
    Remove {
        who: Who,
        target: Pick,
    },
    Leave {
        who: Who,
    },
    Add {
        who: Who,
        target: Pick,
        roles: Vec<RoleRef>,
    },
    CreateRole {
        who: Who,
        name: NamePick,
        perms: PermPick,
    },
    EditRole {
        who: Who,
        key: KeyPick,
        name: Option<NamePick>,
        perms: Option<PermPick>,
    },
    DeleteRole {
        who: Who,
        key: KeyPick,
    },
    CreateToken {
        who: Who,
        scoped: bool,
        perms: Option<PermPick>,
    },
}

fn builtin() -> impl Strategy<Value = Builtin> {
    prop::sample::select(Builtin::ALL.to_vec())
}

fn who() -> impl Strategy<Value = Who> {
    let user = prop_oneof![
        4 => (0..USERS).prop_map(Pick::Able),
        4 => (0..USERS).prop_map(Pick::Member),
        1 => (0..USERS).prop_map(Pick::Anyone),
    ];
    (user, prop::option::weighted(0.3, 0..4usize)).prop_map(|(user, token)| Who { user, token })
}

/// Whose roles change or who is removed: mostly members.
fn member_target() -> impl Strategy<Value = Pick> {
    prop_oneof![
        8 => (0..USERS).prop_map(Pick::Member),
        1 => (0..USERS).prop_map(Pick::Outsider),
        1 => (0..=USERS).prop_map(Pick::Anyone),
    ]
}

/// Who is added: mostly someone not yet a member.
fn outsider_target() -> impl Strategy<Value = Pick> {
    prop_oneof![
        6 => (0..USERS).prop_map(Pick::Outsider),
        2 => (0..USERS).prop_map(Pick::Member),
        1 => (0..=USERS).prop_map(Pick::Anyone),
    ]
}

fn role_ref() -> impl Strategy<Value = RoleRef> {
    use Builtin::*;
    prop_oneof![
        1 => Just(RoleRef::B(Owner)),
        2 => Just(RoleRef::B(Admin)),
        3 => Just(RoleRef::B(Manager)),
        3 => Just(RoleRef::B(Developer)),
        2 => Just(RoleRef::B(Billing)),
        3 => Just(RoleRef::B(Member)),
        4 => (0..POOL.len()).prop_map(RoleRef::Existing),
        1 => (0..POOL.len()).prop_map(RoleRef::C),
    ]
}

fn roles() -> impl Strategy<Value = Vec<RoleRef>> {
    prop_oneof![1 => Just(Vec::new()), 20 => prop::collection::vec(role_ref(), 1..=3)]
}

fn perm_pick() -> impl Strategy<Value = PermPick> {
    let mode = prop_oneof![
        3 => Just(PermMode::Held),
        4 => Just(PermMode::HeldButOwners),
        3 => Just(PermMode::Grow),
        2 => Just(PermMode::Any),
    ];
    (any::<u32>(), mode).prop_map(|(bits, mode)| PermPick { bits, mode })
}

fn name_pick() -> impl Strategy<Value = NamePick> {
    prop_oneof![
        10 => (0..POOL.len(), 0..3u8).prop_map(|(i, case)| NamePick::Pool(i, case)),
        1 => builtin().prop_map(NamePick::Builtin),
    ]
}

fn key_pick() -> impl Strategy<Value = KeyPick> {
    prop_oneof![
        8 => (0..POOL.len()).prop_map(KeyPick::Existing),
        2 => (0..POOL.len()).prop_map(KeyPick::Pool),
        1 => builtin().prop_map(KeyPick::Builtin),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (who(), member_target(), roles())
            .prop_map(|(who, target, roles)| Op::SetRoles { who, target, roles }),
        3 => (who(), outsider_target(), roles())
            .prop_map(|(who, target, roles)| Op::Add { who, target, roles }),
        2 => (who(), member_target()).prop_map(|(who, target)| Op::Remove { who, target }),
        1 => who().prop_map(|who| Op::Leave { who }),
        3 => (who(), name_pick(), perm_pick())
            .prop_map(|(who, name, perms)| Op::CreateRole { who, name, perms }),
        3 => (
            who(),
            key_pick(),
            prop::option::weighted(0.4, name_pick()),
            prop::option::weighted(0.8, perm_pick()),
        )
            .prop_map(|(who, key, name, perms)| Op::EditRole { who, key, name, perms }),
        1 => (who(), key_pick()).prop_map(|(who, key)| Op::DeleteRole { who, key }),
        3 => (who(), prop::bool::weighted(0.8), prop::option::weighted(0.7, perm_pick()))
            .prop_map(|(who, scoped, perms)| Op::CreateToken { who, scoped, perms }),
    ]
}

/// A case: the owner first creates up to two custom roles and adds some of the other users,
/// then random operations follow.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    let owner = Who {
        user: Pick::Anyone(0),
        token: None,
    };
    let customs = prop::collection::vec(
        (0..POOL.len(), 0..3u8, any::<u32>()).prop_map(move |(i, case, bits)| Op::CreateRole {
            who: owner,
            name: NamePick::Pool(i, case),
            perms: PermPick {
                bits,
                mode: PermMode::HeldButOwners,
            },
        }),
        0..=2,
    );
    let initial_role = prop_oneof![
        5 => builtin()
            .prop_filter("owner is never added", |b| *b != Builtin::Owner)
            .prop_map(RoleRef::B),
        2 => (0..POOL.len()).prop_map(RoleRef::Existing),
    ];
    let adds = prop::collection::vec(
        prop::option::weighted(0.8, prop::collection::vec(initial_role, 1..=2)),
        OTHERS,
    );
    (customs, adds, prop::collection::vec(op(), 1..=MAX_STEPS)).prop_map(
        move |(customs, adds, rest)| {
            let adds = adds.into_iter().enumerate().filter_map(|(i, roles)| {
                roles.map(|roles| Op::Add {
                    who: owner,
                    target: Pick::Anyone(i + 1),
                    roles,
                })
            });
            customs.into_iter().chain(adds).chain(rest).collect()
        },
    )
}

/// What the actor may use in the organization now (nothing when not a member).
fn usable(m: &Model, actor: Actor) -> Perms {
    let held = m.org.member_perms(actor.user);
    match actor.cred {
        Cred::Session => held,
        Cred::Token(t) => m.tokens[t].limit.map_or(held, |l| held.intersect(l)),
    }
}

fn pool_name(i: usize, case: u8) -> String {
    let base = POOL[i];
    match case {
        0 => base.to_owned(),
        1 => base[..1].to_uppercase() + &base[1..],
        _ => base.to_uppercase(),
    }
}

/// Interprets a random operation against the model's state: picks the actor's credential and
/// turns role and permission choices into names.
fn concretize(op: &Op, m: &Model) -> Request {
    let needs = match op {
        Op::SetRoles { .. } | Op::Remove { .. } => Some("members.manage"),
        Op::Add { .. } => Some("members.invite"),
        Op::CreateRole { .. } | Op::EditRole { .. } | Op::DeleteRole { .. } => Some("roles.manage"),
        Op::Leave { .. } | Op::CreateToken { .. } => None,
    };
    let members: Vec<usize> = m.org.members.keys().copied().collect();
    let pick = |p: &Pick| match *p {
        Pick::Able(i) => {
            let able: Vec<usize> = members
                .iter()
                .copied()
                .filter(|u| needs.is_none_or(|p| m.org.member_perms(*u).has(p)))
                .collect();
            if able.is_empty() {
                members[i % members.len()]
            } else {
                able[i % able.len()]
            }
        }
        Pick::Member(i) => members[i % members.len()],
        Pick::Outsider(i) => {
            let outside: Vec<usize> = (0..USERS)
                .filter(|u| !m.org.members.contains_key(u))
                .collect();
            if outside.is_empty() {
                i % USERS
            } else {
                outside[i % outside.len()]
            }
        }
        Pick::Anyone(u) => u,
    };
    let actor = |w: &Who| {
        let user = pick(&w.user);
        let mine = m.tokens_of(user);
        let cred = match w.token {
            Some(k) if !mine.is_empty() => Cred::Token(mine[k % mine.len()]),
            _ => Cred::Session,
        };
        Actor { user, cred }
    };
    // Custom roles are named in lower case, whatever case they were created in.
    let existing: Vec<String> = m
        .org
        .custom
        .values()
        .map(|c| c.name.to_lowercase())
        .collect();
    let custom = |i: usize| {
        if existing.is_empty() {
            POOL[i].to_owned()
        } else {
            existing[i % existing.len()].clone()
        }
    };
    let names = |roles: &[RoleRef]| -> Vec<String> {
        roles
            .iter()
            .map(|r| match r {
                RoleRef::B(b) => b.name().to_owned(),
                RoleRef::Existing(i) => custom(*i),
                RoleRef::C(i) => POOL[*i].to_owned(),
            })
            .collect()
    };
    // `base`: what the custom role being edited carries now (nothing for a new one).
    let perms = |a: Actor, p: &PermPick, base: Perms| {
        let bits = Perms::from_bits(p.bits);
        let held = bits.intersect(usable(m, a));
        match p.mode {
            PermMode::Held => held,
            PermMode::HeldButOwners => held.minus(owner_only()),
            PermMode::Grow => base.union(held.minus(owner_only())),
            PermMode::Any => bits,
        }
    };
    let name = |n: &NamePick| match n {
        NamePick::Pool(i, case) => pool_name(*i, *case),
        NamePick::Builtin(b) => pool_name_of_builtin(*b),
    };
    let key = |k: &KeyPick| match k {
        KeyPick::Existing(i) => custom(*i),
        KeyPick::Pool(i) => POOL[*i].to_owned(),
        KeyPick::Builtin(b) => b.name().to_owned(),
    };
    match op {
        Op::SetRoles { who, target, roles } => Request::SetRoles {
            actor: actor(who),
            target: pick(target),
            roles: names(roles),
        },
        Op::Remove { who, target } => Request::Remove {
            actor: actor(who),
            target: pick(target),
        },
        Op::Leave { who } => Request::Leave { actor: actor(who) },
        Op::Add { who, target, roles } => Request::Add {
            actor: actor(who),
            target: pick(target),
            roles: names(roles),
        },
        Op::CreateRole {
            who,
            name: n,
            perms: p,
        } => {
            let a = actor(who);
            Request::CreateRole {
                actor: a,
                name: name(n),
                perms: perms(a, p, Perms::NONE),
            }
        }
        Op::EditRole {
            who,
            key: k,
            name: n,
            perms: p,
        } => {
            let a = actor(who);
            let key = key(k);
            let base = m
                .org
                .custom_by_name(&key)
                .map_or(Perms::NONE, |id| m.org.custom[&id].perms);
            Request::EditRole {
                actor: a,
                key,
                name: n.as_ref().map(name),
                perms: p.as_ref().map(|p| perms(a, p, base)),
            }
        }
        Op::DeleteRole { who, key: k } => Request::DeleteRole {
            actor: actor(who),
            key: key(k),
        },
        Op::CreateToken {
            who,
            scoped,
            perms: p,
        } => {
            let a = actor(who);
            Request::CreateToken {
                actor: a,
                scoped: *scoped,
                limit: p.as_ref().map(|p| perms(a, p, Perms::NONE)),
            }
        }
    }
}

/// A built-in role's name as someone might type it for a custom role (R14 refuses it).
fn pool_name_of_builtin(b: Builtin) -> String {
    let n = b.name();
    n[..1].to_uppercase() + &n[1..]
}

/// Sends `req` to the server as its actor.
async fn send(fx: &Fixture, m: &Model, slug: &str, req: &Request) -> Resp {
    let actor = req.actor();
    let bearer = match actor.cred {
        Cred::Session => fx.users[actor.user].token.clone(),
        Cred::Token(t) => m.tokens[t].secret.clone(),
    };
    let app = &fx.app;
    let call = |method: Method, path: String, body: Option<Value>| {
        let bearer = bearer.clone();
        async move { app.req(method, &path, Some(&bearer), body).await }
    };
    let members = format!("/api/v1/orgs/{slug}/members");
    let roles = format!("/api/v1/orgs/{slug}/roles");
    match req {
        Request::SetRoles { target, roles, .. } => {
            call(
                Method::PATCH,
                format!("{members}/{}", fx.id(*target)),
                Some(json!({ "roles": roles })),
            )
            .await
        }
        Request::Remove { target, .. } => {
            call(
                Method::DELETE,
                format!("{members}/{}", fx.id(*target)),
                None,
            )
            .await
        }
        Request::Leave { .. } => {
            call(Method::POST, format!("/api/v1/orgs/{slug}/leave"), None).await
        }
        Request::Add { target, roles, .. } => {
            call(
                Method::POST,
                members,
                Some(json!({ "email": fx.email(*target), "roles": roles })),
            )
            .await
        }
        Request::CreateRole { name, perms, .. } => {
            call(
                Method::POST,
                roles,
                Some(json!({ "name": name, "permissions": perms.names() })),
            )
            .await
        }
        Request::EditRole {
            key, name, perms, ..
        } => {
            let mut body = serde_json::Map::new();
            if let Some(n) = name {
                body.insert("name".into(), json!(n));
            }
            if let Some(p) = perms {
                body.insert("permissions".into(), json!(p.names()));
            }
            call(
                Method::PATCH,
                format!("{roles}/{key}"),
                Some(Value::Object(body)),
            )
            .await
        }
        Request::DeleteRole { key, .. } => {
            call(Method::DELETE, format!("{roles}/{key}"), None).await
        }
        Request::CreateToken { scoped, limit, .. } => {
            let mut body = json!({ "name": "model token" });
            if *scoped {
                body["org"] = json!(slug);
            }
            if let Some(l) = limit {
                body["permissions"] = json!(l.names());
            }
            call(Method::POST, "/api/v1/tokens".to_owned(), Some(body)).await
        }
    }
}

/// One case on the server: its organization, the model of it, and how long its log was after
/// the last step.
struct Case<'a> {
    fx: &'a Fixture,
    slug: String,
    org_id: String,
    m: Model,
    audit_len: usize,
}

impl Steps for Case<'_> {
    type Op = Op;
    type Req = Request;
    type Accepted = rules::Accepted;

    fn concretize(&self, op: &Op) -> Option<Request> {
        Some(concretize(op, &self.m))
    }

    fn decide(&self, req: &Request) -> Result<rules::Accepted, Refusal> {
        self.m.decide(req)
    }

    fn status(accepted: &rules::Accepted) -> u16 {
        accepted.status
    }

    fn kind(req: &Request) -> &'static str {
        match req {
            Request::SetRoles { .. } => "set_roles",
            Request::Remove { .. } => "remove",
            Request::Leave { .. } => "leave",
            Request::Add { .. } => "add",
            Request::CreateRole { .. } => "create_role",
            Request::EditRole { .. } => "edit_role",
            Request::DeleteRole { .. } => "delete_role",
            Request::CreateToken { .. } => "token",
        }
    }

    fn outcome(accepted: &rules::Accepted) -> String {
        format!(
            "{} {}",
            accepted.status,
            accepted.audit.unwrap_or("(no change)")
        )
    }

    async fn send(&self, req: &Request) -> Resp {
        send(self.fx, &self.m, &self.slug, req).await
    }

    async fn settle(
        &mut self,
        req: &Request,
        decision: Result<rules::Accepted, Refusal>,
        resp: &Resp,
    ) -> Result<(), String> {
        let fx = self.fx;
        let audit = fx.app.audit(&fx.users[0], &self.slug).await;
        let recorded = decision.as_ref().ok().and_then(|a| a.audit);
        let expected = self.audit_len + usize::from(recorded.is_some());
        if audit.len() != expected {
            return Err(format!(
                "R13: expected {} new audit event(s) ({recorded:?}), the log went from {} \
                 to {} events; newest: {}",
                expected - self.audit_len,
                self.audit_len,
                audit.len(),
                audit.first().unwrap_or(&Value::Null)
            ));
        }
        if let Ok(accepted) = decision {
            let m = &self.m;
            let server_id = resp.body["id"].as_str().unwrap_or_default().to_owned();
            let secret = resp.body["token"].as_str().unwrap_or_default().to_owned();
            let event_target = event_target(fx, m, req, &accepted.change, &server_id);
            if let Some(action) = accepted.audit {
                check_event(fx, m, req, &audit[0], action, &event_target)?;
            }
            if let Change::CreateToken {
                user,
                scoped,
                limit,
            } = &accepted.change
            {
                let held = if *scoped {
                    usable(m, req.actor())
                } else {
                    Perms::ALL
                };
                check_token(fx, &self.org_id, *user, &server_id, *scoped, *limit, held).await?;
            }
            self.m.apply(accepted.change, &server_id, &secret);
        }
        self.audit_len = audit.len();
        check_state(fx, &self.slug, &self.m).await
    }
}

/// One case: a new organization owned by user 0, then every operation on both sides; at the
/// end, the tokens limited to it are those the model has alive.
async fn run_case(fx: &Fixture, ops: &[Op], tally: &Tally) -> Result<(), String> {
    let app = &fx.app;
    let owner = &fx.users[0];
    let org = app.org(owner, "Model").await;
    let slug = org["slug"].as_str().ok_or("org slug")?.to_owned();
    let org_id = org["id"].as_str().ok_or("org id")?.to_owned();
    let audit_len = app.audit(owner, &slug).await.len();
    if audit_len != 1 {
        return Err(format!(
            "a new organization's log holds {audit_len} events, not 1"
        ));
    }
    let mut case = Case {
        fx,
        slug,
        org_id,
        m: Model::new(0, USERS),
        audit_len,
    };
    check_state(fx, &case.slug, &case.m)
        .await
        .map_err(|e| format!("before any step: {e}"))?;
    play(&mut case, ops, tally).await?;
    check_tokens(fx, &case.org_id, &case.m).await?;
    // The users serve every case, and an account holds at most 100 live tokens: revoke this
    // case's, so that any number of cases fits.
    for t in case.m.tokens.iter().filter(|t| t.alive) {
        app.delete(&format!("/api/v1/tokens/{}", t.id), &fx.users[t.user].token)
            .await
            .expect(204);
    }
    Ok(())
}

/// Every token in `user`'s listing, following its cursors.
async fn listed_tokens(fx: &Fixture, user: usize) -> Result<Vec<Value>, String> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tokens?limit=100&cursor={c}"),
            None => "/api/v1/tokens?limit=100".to_owned(),
        };
        let page = fx
            .app
            .get(&path, &fx.users[user].token)
            .await
            .expect(200)
            .body;
        out.extend(
            page["items"]
                .as_array()
                .ok_or("token items")?
                .iter()
                .cloned(),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return Ok(out),
        }
    }
}

/// The id the audit event of an accepted change must name as its target.
fn event_target(
    fx: &Fixture,
    m: &Model,
    req: &Request,
    change: &Change,
    server_id: &str,
) -> String {
    match (req, change) {
        (Request::SetRoles { target, .. } | Request::Remove { target, .. }, _) => {
            fx.id(*target).to_owned()
        }
        (Request::Add { target, .. }, _) => fx.id(*target).to_owned(),
        (Request::Leave { actor }, _) => fx.id(actor.user).to_owned(),
        (_, Change::EditRole { id, .. } | Change::DeleteRole { id }) => {
            m.org.custom[id].server_id.clone()
        }
        _ => server_id.to_owned(),
    }
}

/// R13: the newest event records this change: what, by whom, with which token, on what.
fn check_event(
    fx: &Fixture,
    m: &Model,
    req: &Request,
    event: &Value,
    action: &str,
    target: &str,
) -> Result<(), String> {
    let actor = req.actor();
    let token = match actor.cred {
        Cred::Session => Value::Null,
        Cred::Token(t) => json!(m.tokens[t].id),
    };
    let wanted = (
        json!(action),
        json!(fx.id(actor.user)),
        token,
        json!(target),
    );
    let got = (
        event["action"].clone(),
        event["actor"].clone(),
        event["token"].clone(),
        event["target"]["id"].clone(),
    );
    if wanted == got {
        Ok(())
    } else {
        Err(format!(
            "R13: the audit event should be (action, actor, token, target) = {wanted:?}, got {event:#}"
        ))
    }
}

/// R6: a token just made is limited as asked, to no more than its maker could use.
async fn check_token(
    fx: &Fixture,
    org_id: &str,
    user: usize,
    id: &str,
    scoped: bool,
    limit: Option<Perms>,
    held: Perms,
) -> Result<(), String> {
    let listed = listed_tokens(fx, user).await?;
    let token = listed
        .iter()
        .find(|t| t["id"] == id)
        .ok_or_else(|| format!("token {id} is not in its maker's list: {listed:?}"))?;
    let org = if scoped { json!(org_id) } else { Value::Null };
    if token["org"] != org {
        return Err(format!(
            "token {id} should be limited to {org}, is {token:#}"
        ));
    }
    let perms = match token["permissions"].as_array() {
        None => None,
        Some(names) => Some(perm_set(names)?),
    };
    if perms != limit {
        return Err(format!(
            "token {id} should carry {limit:?}, carries {token:#}"
        ));
    }
    if let Some(p) = perms
        && !held.contains(p)
    {
        return Err(format!(
            "R6: token {id} carries {:?}, which its maker did not hold",
            p.minus(held).names()
        ));
    }
    Ok(())
}

/// At the end of a case: each user's tokens limited to this organization are exactly those the
/// model still has alive (leaving or being removed takes them away).
async fn check_tokens(fx: &Fixture, org_id: &str, m: &Model) -> Result<(), String> {
    for user in 0..USERS {
        let server: BTreeSet<String> = listed_tokens(fx, user)
            .await?
            .iter()
            .filter(|t| t["org"] == org_id)
            .filter_map(|t| t["id"].as_str().map(str::to_owned))
            .collect();
        let model: BTreeSet<String> = m
            .tokens
            .iter()
            .filter(|t| t.user == user && t.scoped && t.alive)
            .map(|t| t.id.clone())
            .collect();
        if server != model {
            return Err(format!(
                "user {user}'s tokens for this organization: server {server:?}, model {model:?}"
            ));
        }
    }
    Ok(())
}

/// After every step: members, custom roles and effective permissions match the model, and R3
/// and R6 hold on what the server shows.
async fn check_state(fx: &Fixture, slug: &str, m: &Model) -> Result<(), String> {
    let app = &fx.app;
    let owner = &fx.users[0];
    let org = &m.org;

    // Members and their roles; R3: exactly one owner, still the one who created the
    // organization.
    members_and_owner(fx, slug, org).await?;

    // Custom roles: as the model has them, with nothing their author did not hold (R6) and
    // none of the owner's own (SPEC §3).
    let listed = app
        .get(&format!("/api/v1/orgs/{slug}/roles"), &owner.token)
        .await
        .expect(200)
        .body;
    let mut server_custom = BTreeMap::new();
    for r in listed["items"].as_array().ok_or("role items")? {
        if r["builtin"] == false {
            let perms = perm_set(r["permissions"].as_array().ok_or("role permissions")?)?;
            let id = r["id"].as_str().ok_or("role id")?.to_owned();
            server_custom.insert(
                id,
                (r["name"].as_str().ok_or("role name")?.to_owned(), perms),
            );
        }
    }
    let model_custom: BTreeMap<String, (String, Perms)> = org
        .custom
        .values()
        .map(|c| (c.server_id.clone(), (c.name.clone(), c.perms)))
        .collect();
    if server_custom != model_custom {
        return Err(format!(
            "custom roles differ:\n  server {server_custom:?}\n  model  {model_custom:?}"
        ));
    }
    for c in org.custom.values() {
        let (_, perms) = &server_custom[&c.server_id];
        if !perms.intersect(owner_only()).is_empty() {
            return Err(format!(
                "SPEC §3: custom role {} carries an owner's permission",
                c.name
            ));
        }
        if !c.author_perms.contains(*perms) {
            return Err(format!(
                "R6: custom role {} carries {:?}, which whoever set its permissions did not hold",
                c.name,
                perms.minus(c.author_perms).names()
            ));
        }
    }

    // Effective permissions: what each member's roles add up to, each from the roles that
    // carry it; only the owner holds the owner's own.
    for (user, roles) in &org.members {
        let id = fx.id(*user);
        let body = app
            .get(
                &format!("/api/v1/orgs/{slug}/members/{id}/permissions"),
                &owner.token,
            )
            .await
            .expect(200)
            .body;
        let held = permissions_match(org, *user, &body).map_err(|e| format!("user {user}: {e}"))?;
        if *user != org.owner && !held.intersect(owner_only()).is_empty() {
            return Err(format!(
                "R3: user {user}, not the owner, holds {:?}",
                held.names()
            ));
        }
        // R6: nothing held that nobody could have granted.
        for role in roles {
            if *role == Role::Builtin(Builtin::Owner) {
                continue;
            }
            let grant = m.grants.get(&(*user, *role)).ok_or_else(|| {
                format!(
                    "user {user} holds {} with no grant recorded",
                    org.name_of(*role)
                )
            })?;
            rules::grant_was_allowed(*role, grant)
                .map_err(|e| format!("R6: user {user} holds {}: {e}", org.name_of(*role)))?;
        }
    }
    Ok(())
}

/// Runs the property on `store`: one server and one set of users for all cases.
pub fn run(store: Store) {
    let settings = Settings {
        cases: DEFAULT_CASES,
        max_shrink_iters: 200,
        max_shrink_time: 0,
    };
    runner::run(
        store,
        settings,
        Fixture::new(store, "Model", USERS),
        ops(),
        |fx, ops, tally| Box::pin(async move { run_case(fx, &ops, tally).await }),
    );
}
