//! The R3/R6 model extended with invitations (R9) and ownership transfers (R7): random sequences
//! of invite, accept, decline, revoke and re-send (with current and re-sent-away tokens, as the
//! addressee or someone else), and transfer offer, accept, decline and cancel, by random actors,
//! on a real server and on a plain model. After every step the server decided as the model did,
//! recorded as many audit events, and its members, roles, invitation states and pending offer
//! match the model's; there is always exactly one owner, the one the model says.

use crate::common::{Resp, Store, TestApp, TestUser, spawn_app};
use crate::model::{self, Acting, Builtin, Perms, Refusal, Role};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeMap;

/// Registered users; user 0 creates each case's organization.
const USERS: usize = 6;
const DEFAULT_CASES: u32 = 24;
const MAX_STEPS: usize = 24;

const fn refusal(status: u16, code: &'static str) -> Refusal {
    Refusal { status, code }
}
const ORG_NOT_FOUND: Refusal = refusal(404, "org_not_found");
const FORBIDDEN: Refusal = refusal(403, "forbidden");
const ALREADY_MEMBER: Refusal = refusal(409, "already_member");
const INVITATION_PENDING: Refusal = refusal(409, "invitation_pending");
const INVITATION_NOT_FOUND: Refusal = refusal(404, "invitation_not_found");
const INVITATION_OTHER_EMAIL: Refusal = refusal(403, "invitation_other_email");
const INVITATION_CLOSED: Refusal = refusal(409, "invitation_closed");
const TARGET_NOT_ADMIN: Refusal = refusal(409, "transfer_target_not_admin");
const TRANSFER_PENDING: Refusal = refusal(409, "transfer_pending");
const TRANSFER_NOT_FOUND: Refusal = refusal(404, "transfer_not_found");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Pending,
    Accepted,
    Declined,
    Revoked,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Accepted => "accepted",
            State::Declined => "declined",
            State::Revoked => "revoked",
        }
    }
}

/// An invitation as the model knows it, with the token mailed last and those re-sent away.
#[derive(Clone, Debug)]
struct Inv {
    to: usize,
    roles: Vec<Builtin>,
    state: State,
    id: String,
    token: String,
    old: Vec<String>,
}

/// One organization: who owns it, members with built-in roles, invitations, the pending offer.
#[derive(Clone, Debug)]
struct World {
    owner: usize,
    members: BTreeMap<usize, Vec<Builtin>>,
    invs: Vec<Inv>,
    offer: Option<usize>,
}

impl World {
    fn new() -> Self {
        World {
            owner: 0,
            members: BTreeMap::from([(0, vec![Builtin::Owner])]),
            invs: Vec::new(),
            offer: None,
        }
    }

    fn perms(&self, user: usize) -> Perms {
        self.members.get(&user).map_or(Perms::NONE, |roles| {
            roles.iter().fold(Perms::NONE, |a, r| a.union(r.perms()))
        })
    }

    fn acting(&self, user: usize) -> Result<Acting, Refusal> {
        let roles = self.members.get(&user).ok_or(ORG_NOT_FOUND)?;
        Ok(Acting {
            user,
            roles: roles.iter().map(|b| Role::Builtin(*b)).collect(),
            perms: self.perms(user),
        })
    }

    fn holds(&self, user: usize, b: Builtin) -> bool {
        self.members.get(&user).is_some_and(|r| r.contains(&b))
    }
}

/// A user: the `i`-th member able to do what the operation needs (any member when none is),
/// the `i`-th current member, the `i`-th user who is not one, or user `i` whoever they are.
#[derive(Clone, Copy, Debug)]
enum Pick {
    Able(usize),
    Member(usize),
    Outsider(usize),
    Anyone(usize),
}

#[derive(Clone, Debug)]
enum Op {
    Invite {
        who: Pick,
        target: Pick,
        roles: Vec<Builtin>,
    },
    /// Accept the `inv`-th invitation, as its addressee or as `other`, with a stale token when
    /// there is one and `stale`.
    Accept {
        inv: usize,
        addressee: bool,
        other: usize,
        stale: bool,
    },
    /// Decline, signed out (`None`) or signed in as the addressee or `other`.
    Decline {
        inv: usize,
        signed_in: Option<(bool, usize)>,
        stale: bool,
    },
    Revoke {
        who: Pick,
        inv: usize,
    },
    Resend {
        who: Pick,
        inv: usize,
    },
    Offer {
        who: Pick,
        to: Pick,
    },
    /// The receiver (or, when not `receiver`, someone else) answers the pending offer.
    Answer {
        receiver: bool,
        who: Pick,
        accept: bool,
    },
    Cancel {
        who: Pick,
    },
}

/// An operation made concrete against the model's state.
#[derive(Clone, Debug)]
enum Req {
    Invite {
        actor: usize,
        target: usize,
        roles: Vec<Builtin>,
    },
    Accept {
        actor: usize,
        inv: usize,
        token: String,
    },
    Decline {
        actor: Option<usize>,
        inv: usize,
        token: String,
    },
    Revoke {
        actor: usize,
        inv: usize,
    },
    Resend {
        actor: usize,
        inv: usize,
    },
    Offer {
        actor: usize,
        to: usize,
    },
    Answer {
        actor: usize,
        accept: bool,
    },
    Cancel {
        actor: usize,
    },
    Skip,
}

fn pick() -> impl Strategy<Value = Pick> {
    prop_oneof![
        4 => (0..USERS).prop_map(Pick::Able),
        2 => (0..USERS).prop_map(Pick::Member),
        1 => (0..USERS).prop_map(Pick::Anyone),
    ]
}

/// Whom to invite: mostly someone not yet a member.
fn invitee() -> impl Strategy<Value = Pick> {
    prop_oneof![
        6 => (0..USERS).prop_map(Pick::Outsider),
        1 => (0..USERS).prop_map(Pick::Member),
        1 => (0..USERS).prop_map(Pick::Anyone),
    ]
}

fn grantable() -> impl Strategy<Value = Builtin> {
    use Builtin::*;
    prop_oneof![
        1 => Just(Owner),
        2 => Just(Admin),
        2 => Just(Manager),
        3 => Just(Developer),
        1 => Just(Billing),
        3 => Just(Member),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (pick(), invitee(), prop::collection::vec(grantable(), 1..=2))
            .prop_map(|(who, target, roles)| Op::Invite { who, target, roles }),
        5 => (any::<usize>(), prop::bool::weighted(0.8), 0..USERS, prop::bool::weighted(0.2))
            .prop_map(|(inv, addressee, other, stale)| Op::Accept { inv, addressee, other, stale }),
        2 => (any::<usize>(), prop::option::of((prop::bool::weighted(0.7), 0..USERS)), prop::bool::weighted(0.2))
            .prop_map(|(inv, signed_in, stale)| Op::Decline { inv, signed_in, stale }),
        2 => (pick(), any::<usize>()).prop_map(|(who, inv)| Op::Revoke { who, inv }),
        2 => (pick(), any::<usize>()).prop_map(|(who, inv)| Op::Resend { who, inv }),
        2 => (pick(), pick()).prop_map(|(who, to)| Op::Offer { who, to }),
        2 => (prop::bool::weighted(0.8), pick(), prop::bool::weighted(0.7))
            .prop_map(|(receiver, who, accept)| Op::Answer { receiver, who, accept }),
        1 => pick().prop_map(|who| Op::Cancel { who }),
    ]
}

/// A case: the owner adds some users (admins among them, so offers can succeed), then random
/// operations follow.
fn ops() -> impl Strategy<Value = (Vec<Option<Builtin>>, Vec<Op>)> {
    let initial = prop_oneof![
        4 => Just(None),
        2 => Just(Some(Builtin::Admin)),
        1 => Just(Some(Builtin::Manager)),
        1 => Just(Some(Builtin::Developer)),
        1 => Just(Some(Builtin::Member)),
    ];
    (
        prop::collection::vec(initial, USERS - 1),
        prop::collection::vec(op(), 1..=MAX_STEPS),
    )
}

fn concretize(op: &Op, w: &World) -> Req {
    let members: Vec<usize> = w.members.keys().copied().collect();
    // What the acting user needs: a permission, or (for the receiver of an offer) `admin`.
    let able = |u: usize, need: &str| match need {
        "admin" => w.holds(u, Builtin::Admin),
        p => w.perms(u).has(p),
    };
    let pick = |p: Pick, need: &str| match p {
        Pick::Able(i) => {
            let able: Vec<usize> = members.iter().copied().filter(|u| able(*u, need)).collect();
            if able.is_empty() {
                members[i % members.len()]
            } else {
                able[i % able.len()]
            }
        }
        Pick::Member(i) => members[i % members.len()],
        Pick::Outsider(i) => {
            let outside: Vec<usize> = (0..USERS).filter(|u| !w.members.contains_key(u)).collect();
            if outside.is_empty() {
                i % USERS
            } else {
                outside[i % outside.len()]
            }
        }
        Pick::Anyone(i) => i,
    };
    let token = |inv: &Inv, stale: bool| match inv.old.last() {
        Some(old) if stale => old.clone(),
        _ => inv.token.clone(),
    };
    let nth = |i: usize| (!w.invs.is_empty()).then(|| i % w.invs.len());
    match op {
        Op::Invite { who, target, roles } => Req::Invite {
            actor: pick(*who, "members.invite"),
            target: pick(*target, ""),
            roles: roles.clone(),
        },
        Op::Accept {
            inv,
            addressee,
            other,
            stale,
        } => match nth(*inv) {
            Some(i) => Req::Accept {
                actor: if *addressee { w.invs[i].to } else { *other },
                inv: i,
                token: token(&w.invs[i], *stale),
            },
            None => Req::Skip,
        },
        Op::Decline {
            inv,
            signed_in,
            stale,
        } => match nth(*inv) {
            Some(i) => Req::Decline {
                actor: signed_in
                    .map(|(addressee, other)| if addressee { w.invs[i].to } else { other }),
                inv: i,
                token: token(&w.invs[i], *stale),
            },
            None => Req::Skip,
        },
        Op::Revoke { who, inv } => match nth(*inv) {
            Some(i) => Req::Revoke {
                actor: pick(*who, "members.invite"),
                inv: i,
            },
            None => Req::Skip,
        },
        Op::Resend { who, inv } => match nth(*inv) {
            Some(i) => Req::Resend {
                actor: pick(*who, "members.invite"),
                inv: i,
            },
            None => Req::Skip,
        },
        Op::Offer { who, to } => Req::Offer {
            actor: pick(*who, "org.transfer"),
            to: pick(*to, "admin"),
        },
        Op::Answer {
            receiver,
            who,
            accept,
        } => Req::Answer {
            actor: match w.offer {
                Some(r) if *receiver => r,
                _ => pick(*who, "admin"),
            },
            accept: *accept,
        },
        Op::Cancel { who } => Req::Cancel {
            actor: pick(*who, "org.transfer"),
        },
    }
}

/// What the server must answer: the status and the audit actions recorded (newest last), or a
/// refusal.
fn decide(w: &World, req: &Req) -> Result<(u16, Vec<&'static str>), Refusal> {
    let perms_of = |r: Role| match r {
        Role::Builtin(b) => b.perms(),
        Role::Custom(_) => Perms::NONE,
    };
    let open = |inv: &Inv, token: &str| inv.state == State::Pending && inv.token == token;
    match req {
        Req::Skip => Ok((0, vec![])),
        Req::Invite {
            actor,
            target,
            roles,
        } => {
            let a = w.acting(*actor)?;
            let roles: Vec<Role> = dedup(roles).into_iter().map(Role::Builtin).collect();
            model::add_member(&a, &roles, &perms_of)?;
            if w.members.contains_key(target) {
                return Err(ALREADY_MEMBER);
            }
            if w.invs
                .iter()
                .any(|i| i.to == *target && i.state == State::Pending)
            {
                return Err(INVITATION_PENDING);
            }
            Ok((201, vec!["invitation.created"]))
        }
        Req::Accept { actor, inv, token } => {
            let i = &w.invs[*inv];
            if !open(i, token) {
                return Err(INVITATION_NOT_FOUND);
            }
            if i.to != *actor {
                return Err(INVITATION_OTHER_EMAIL);
            }
            if w.members.contains_key(actor) {
                return Err(ALREADY_MEMBER);
            }
            Ok((200, vec!["invitation.accepted", "member.added"]))
        }
        Req::Decline { actor, inv, token } => {
            let i = &w.invs[*inv];
            if !open(i, token) {
                return Err(INVITATION_NOT_FOUND);
            }
            if actor.is_some_and(|a| a != i.to) {
                return Err(INVITATION_OTHER_EMAIL);
            }
            Ok((204, vec!["invitation.declined"]))
        }
        Req::Revoke { actor, inv } | Req::Resend { actor, inv } => {
            let a = w.acting(*actor)?;
            if !a.perms.has("members.invite") {
                return Err(FORBIDDEN);
            }
            let i = &w.invs[*inv];
            if i.state != State::Pending {
                return Err(INVITATION_CLOSED);
            }
            if matches!(req, Req::Revoke { .. }) {
                return Ok((204, vec!["invitation.revoked"]));
            }
            if w.members.contains_key(&i.to) {
                return Err(ALREADY_MEMBER);
            }
            Ok((200, vec!["invitation.resent"]))
        }
        Req::Offer { actor, to } => {
            let a = w.acting(*actor)?;
            if !a.perms.has("org.transfer") {
                return Err(FORBIDDEN);
            }
            if to == actor || !w.holds(*to, Builtin::Admin) {
                return Err(TARGET_NOT_ADMIN);
            }
            if w.offer.is_some() {
                return Err(TRANSFER_PENDING);
            }
            Ok((201, vec!["transfer.offered"]))
        }
        Req::Answer { actor, accept } => {
            w.acting(*actor)?;
            if w.offer != Some(*actor) {
                return Err(TRANSFER_NOT_FOUND);
            }
            if *accept && !w.holds(*actor, Builtin::Admin) {
                return Err(TARGET_NOT_ADMIN);
            }
            Ok((
                204,
                vec![if *accept {
                    "transfer.accepted"
                } else {
                    "transfer.declined"
                }],
            ))
        }
        Req::Cancel { actor } => {
            let a = w.acting(*actor)?;
            if !a.perms.has("org.transfer") {
                return Err(FORBIDDEN);
            }
            if w.offer.is_none() {
                return Err(TRANSFER_NOT_FOUND);
            }
            Ok((204, vec!["transfer.cancelled"]))
        }
    }
}

fn dedup(roles: &[Builtin]) -> Vec<Builtin> {
    let mut out = Vec::new();
    for r in roles {
        if !out.contains(r) {
            out.push(*r);
        }
    }
    out
}

struct Fixture {
    app: TestApp,
    users: Vec<TestUser>,
}

async fn send(fx: &Fixture, slug: &str, w: &World, req: &Req) -> Resp {
    let app = &fx.app;
    let as_user = |u: usize| Some(fx.users[u].token.as_str());
    let invitations = format!("/api/v1/orgs/{slug}/invitations");
    let transfer = format!("/api/v1/orgs/{slug}/transfer");
    match req {
        Req::Skip => unreachable!("skipped requests are not sent"),
        Req::Invite {
            actor,
            target,
            roles,
        } => {
            let names: Vec<&str> = roles.iter().map(|r| r.name()).collect();
            app.req(
                Method::POST,
                &invitations,
                as_user(*actor),
                Some(json!({ "email": fx.users[*target].email, "roles": names })),
            )
            .await
        }
        Req::Accept { actor, token, .. } => {
            app.req(
                Method::POST,
                "/api/v1/invitations/accept",
                as_user(*actor),
                Some(json!({ "token": token })),
            )
            .await
        }
        Req::Decline { actor, token, .. } => {
            app.req(
                Method::POST,
                "/api/v1/invitations/decline",
                actor.and_then(as_user),
                Some(json!({ "token": token })),
            )
            .await
        }
        Req::Revoke { actor, inv } => {
            app.req(
                Method::DELETE,
                &format!("{invitations}/{}", w.invs[*inv].id),
                as_user(*actor),
                None,
            )
            .await
        }
        Req::Resend { actor, inv } => {
            app.req(
                Method::POST,
                &format!("{invitations}/{}/resend", w.invs[*inv].id),
                as_user(*actor),
                Some(json!({})),
            )
            .await
        }
        Req::Offer { actor, to } => {
            app.req(
                Method::POST,
                &transfer,
                as_user(*actor),
                Some(json!({ "to": fx.users[*to].id })),
            )
            .await
        }
        Req::Answer { actor, accept } => {
            let path = format!("{transfer}/{}", if *accept { "accept" } else { "decline" });
            app.req(Method::POST, &path, as_user(*actor), None).await
        }
        Req::Cancel { actor } => {
            app.req(Method::DELETE, &transfer, as_user(*actor), None)
                .await
        }
    }
}

/// Applies an accepted request to the model; new tokens come from the mail just sent.
fn apply(fx: &Fixture, w: &mut World, req: &Req, resp: &Resp) -> Result<(), String> {
    let token_of = |user: usize| {
        fx.app
            .newest_token(&fx.users[user].email, "/invitations/accept")
    };
    match req {
        Req::Skip => {}
        Req::Invite { target, roles, .. } => w.invs.push(Inv {
            to: *target,
            roles: dedup(roles),
            state: State::Pending,
            id: resp.body["id"].as_str().ok_or("invitation id")?.to_owned(),
            token: token_of(*target),
            old: Vec::new(),
        }),
        Req::Accept { actor, inv, .. } => {
            let i = &mut w.invs[*inv];
            i.state = State::Accepted;
            w.members.insert(*actor, i.roles.clone());
        }
        Req::Decline { inv, .. } => w.invs[*inv].state = State::Declined,
        Req::Revoke { inv, .. } => w.invs[*inv].state = State::Revoked,
        Req::Resend { inv, .. } => {
            let fresh = token_of(w.invs[*inv].to);
            let i = &mut w.invs[*inv];
            if fresh == i.token {
                return Err("re-sending mailed the same token".into());
            }
            let old = std::mem::replace(&mut i.token, fresh);
            i.old.push(old);
        }
        Req::Offer { to, .. } => w.offer = Some(*to),
        Req::Answer { actor, accept } => {
            w.offer = None;
            if *accept {
                w.members.insert(w.owner, vec![Builtin::Admin]);
                w.members.insert(*actor, vec![Builtin::Owner]);
                w.owner = *actor;
            }
        }
        Req::Cancel { .. } => w.offer = None,
    }
    Ok(())
}

/// After every step: members and roles, exactly one owner (the model's), invitation states and
/// the pending offer all match.
async fn check_state(fx: &Fixture, slug: &str, w: &World) -> Result<(), String> {
    let app = &fx.app;
    let owner = &fx.users[w.owner];
    let server = app.members(owner, slug).await;
    let model: Vec<(String, Vec<String>)> = w
        .members
        .iter()
        .map(|(u, roles)| {
            let mut names: Vec<String> = roles.iter().map(|r| r.name().to_owned()).collect();
            names.sort();
            (fx.users[*u].id.clone(), names)
        })
        .collect();
    super::server::members_and_owner_agree(app, slug, owner, &server, model).await?;
    let listed = app
        .get(
            &format!("/api/v1/orgs/{slug}/invitations?limit=100"),
            &owner.token,
        )
        .await
        .expect(200)
        .body;
    let server_invs: BTreeMap<String, String> = listed["items"]
        .as_array()
        .ok_or("invitation items")?
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap_or("").to_owned(),
                i["state"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let model_invs: BTreeMap<String, String> = w
        .invs
        .iter()
        .map(|i| (i.id.clone(), i.state.name().to_owned()))
        .collect();
    if server_invs != model_invs {
        return Err(format!(
            "invitations differ:\n  server {server_invs:?}\n  model  {model_invs:?}"
        ));
    }
    let offer = app
        .get(&format!("/api/v1/orgs/{slug}/transfer"), &owner.token)
        .await;
    match w.offer {
        Some(to) => {
            if offer.status != 200
                || offer.body["to"]["id"] != fx.users[to].id.as_str()
                || offer.body["state"] != "pending"
            {
                return Err(format!(
                    "the pending offer should go to user {to}: {} {}",
                    offer.status, offer.body
                ));
            }
        }
        None => {
            if offer.status != 404 {
                return Err(format!(
                    "no offer should be pending: {} {}",
                    offer.status, offer.body
                ));
            }
        }
    }
    Ok(())
}

async fn run_case(fx: &Fixture, initial: &[Option<Builtin>], ops: &[Op]) -> Result<(), String> {
    let app = &fx.app;
    let org = app.org(&fx.users[0], "Invites").await;
    let slug = org["slug"].as_str().ok_or("slug")?.to_owned();
    let mut w = World::new();
    for (i, role) in initial.iter().enumerate() {
        if let Some(r) = role {
            let user = &fx.users[i + 1];
            app.add(&fx.users[0], &slug, user, &[r.name()])
                .await
                .expect(201);
            w.members.insert(i + 1, vec![*r]);
        }
    }
    let mut audit_len = app.audit(&fx.users[w.owner], &slug).await.len();
    check_state(fx, &slug, &w)
        .await
        .map_err(|e| format!("before any step: {e}"))?;
    for (step, op) in ops.iter().enumerate() {
        let req = concretize(op, &w);
        if matches!(req, Req::Skip) {
            continue;
        }
        let at = |e: String| format!("step {step}: {req:?}\n  {e}");
        let decision = decide(&w, &req);
        let resp = send(fx, &slug, &w, &req).await;
        let wanted = match &decision {
            Ok((status, _)) => (*status, ""),
            Err(r) => (r.status, r.code),
        };
        let got = (
            resp.status.as_u16(),
            if decision.is_err() { resp.code() } else { "" },
        );
        if wanted != got {
            return Err(at(format!(
                "the model answers {} {}, the server answered {} {}",
                wanted.0, wanted.1, resp.status, resp.body
            )));
        }
        if let Ok((_, actions)) = &decision {
            apply(fx, &mut w, &req, &resp).map_err(at)?;
            // R13: one event per change, newest first, read by the (possibly new) owner.
            let audit = app.audit(&fx.users[w.owner], &slug).await;
            if audit.len() != audit_len + actions.len() {
                return Err(at(format!(
                    "R13: expected {} new audit event(s) {actions:?}, the log went from {audit_len} to {}",
                    actions.len(),
                    audit.len()
                )));
            }
            let newest: Vec<&str> = audit[..actions.len()]
                .iter()
                .rev()
                .map(|e| e["action"].as_str().unwrap_or(""))
                .collect();
            if newest != *actions {
                return Err(at(format!(
                    "R13: the newest events are {newest:?}, not {actions:?}"
                )));
            }
            audit_len = audit.len();
        }
        if decision.is_err() {
            // R13, R14: a refusal records nothing.
            let now = app.audit(&fx.users[w.owner], &slug).await.len();
            if now != audit_len {
                return Err(at(format!(
                    "a refused request changed the log from {audit_len} to {now} events"
                )));
            }
        }
        check_state(fx, &slug, &w).await.map_err(at)?;
    }
    Ok(())
}

/// Runs the property on `store`: one runtime, one server and one set of users for all cases.
pub fn run(store: Store) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let fx = rt.block_on(async {
        let app = spawn_app(store).await;
        let mut users = Vec::new();
        for i in 0..USERS {
            users.push(app.user(&format!("Invitee{i}")).await);
        }
        Fixture { app, users }
    });
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let config = Config {
        cases,
        max_shrink_iters: 100,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&ops(), |(initial, ops)| {
        rt.block_on(run_case(&fx, &initial, &ops))
            .map_err(TestCaseError::fail)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
