//! The R3/R6 model extended with invitations (R9) and ownership transfers (R7): random sequences
//! of invite, accept, decline, revoke and re-send (with current and re-sent-away tokens, as the
//! addressee or someone else), and transfer offer, accept, decline and cancel, by random actors,
//! on a real server and on a plain model. After every step the server decided as the model did,
//! recorded as many audit events, and its members, roles, invitation states and pending offer
//! match the model's; there is always exactly one owner, the one the model says.

use crate::common::{Resp, Store};
use crate::model::checks::members_and_owner;
use crate::model::grants;
use crate::model::refusal::{
    ALREADY_MEMBER, FORBIDDEN, INVITATION_CLOSED, INVITATION_NOT_FOUND, INVITATION_OTHER_EMAIL,
    INVITATION_PENDING, TARGET_NOT_ADMIN, TRANSFER_NOT_FOUND, TRANSFER_PENDING,
};
use crate::model::runner::{self, Fixture, Settings, Steps, Tally, play};
use crate::model::{Builtin, Org, Refusal, Role};
use proptest::prelude::*;
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeMap;

/// Registered users; user 0 creates each case's organization.
const USERS: usize = 6;
const DEFAULT_CASES: u32 = 24;
const MAX_STEPS: usize = 24;

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

/// One organization: the shared state (owner, members), its invitations, the pending offer.
#[derive(Clone, Debug)]
struct World {
    org: Org,
    invs: Vec<Inv>,
    offer: Option<usize>,
}

impl World {
    fn new() -> Self {
        World {
            org: Org::new(0),
            invs: Vec::new(),
            offer: None,
        }
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

fn concretize(op: &Op, w: &World) -> Option<Req> {
    let members: Vec<usize> = w.org.members.keys().copied().collect();
    // What the acting user needs: a permission, or (for the receiver of an offer) `admin`.
    let able = |u: usize, need: &str| match need {
        "admin" => w.org.holds(u, Builtin::Admin),
        p => w.org.member_perms(u).has(p),
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
            let outside: Vec<usize> = (0..USERS)
                .filter(|u| !w.org.members.contains_key(u))
                .collect();
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
    Some(match op {
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
            None => return None,
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
            None => return None,
        },
        Op::Revoke { who, inv } => match nth(*inv) {
            Some(i) => Req::Revoke {
                actor: pick(*who, "members.invite"),
                inv: i,
            },
            None => return None,
        },
        Op::Resend { who, inv } => match nth(*inv) {
            Some(i) => Req::Resend {
                actor: pick(*who, "members.invite"),
                inv: i,
            },
            None => return None,
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
    })
}

/// What the server must answer: the status and the audit actions recorded (newest last), or a
/// refusal.
fn decide(w: &World, req: &Req) -> Result<(u16, Vec<&'static str>), Refusal> {
    let perms_of = |r: Role| w.org.perms_of(r);
    let open = |inv: &Inv, token: &str| inv.state == State::Pending && inv.token == token;
    match req {
        Req::Invite {
            actor,
            target,
            roles,
        } => {
            let a = w.org.acting(*actor, None)?;
            let roles: Vec<Role> = dedup(roles).into_iter().map(Role::Builtin).collect();
            grants::add_member(&a, &roles, &perms_of)?;
            if w.org.members.contains_key(target) {
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
            if w.org.members.contains_key(actor) {
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
            let a = w.org.acting(*actor, None)?;
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
            if w.org.members.contains_key(&i.to) {
                return Err(ALREADY_MEMBER);
            }
            Ok((200, vec!["invitation.resent"]))
        }
        Req::Offer { actor, to } => {
            let a = w.org.acting(*actor, None)?;
            if !a.perms.has("org.transfer") {
                return Err(FORBIDDEN);
            }
            if to == actor || !w.org.holds(*to, Builtin::Admin) {
                return Err(TARGET_NOT_ADMIN);
            }
            if w.offer.is_some() {
                return Err(TRANSFER_PENDING);
            }
            Ok((201, vec!["transfer.offered"]))
        }
        Req::Answer { actor, accept } => {
            w.org.acting(*actor, None)?;
            if w.offer != Some(*actor) {
                return Err(TRANSFER_NOT_FOUND);
            }
            if *accept && !w.org.holds(*actor, Builtin::Admin) {
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
            let a = w.org.acting(*actor, None)?;
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

async fn send(fx: &Fixture, slug: &str, w: &World, req: &Req) -> Resp {
    let app = &fx.app;
    let as_user = |u: usize| Some(fx.users[u].token.as_str());
    let invitations = format!("/api/v1/orgs/{slug}/invitations");
    let transfer = format!("/api/v1/orgs/{slug}/transfer");
    match req {
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
            w.org
                .members
                .insert(*actor, i.roles.iter().map(|b| Role::Builtin(*b)).collect());
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
                w.org.transfer(*actor);
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
    let owner = &fx.users[w.org.owner];
    members_and_owner(fx, slug, &w.org).await?;
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

/// One case on the server: its organization, the model of it, and how long its log was after
/// the last change.
struct Case<'a> {
    fx: &'a Fixture,
    slug: String,
    w: World,
    audit_len: usize,
}

impl Steps for Case<'_> {
    type Op = Op;
    type Req = Req;
    /// The status, and the audit actions recorded (oldest first).
    type Accepted = (u16, Vec<&'static str>);

    fn concretize(&self, op: &Op) -> Option<Req> {
        concretize(op, &self.w)
    }

    fn decide(&self, req: &Req) -> Result<Self::Accepted, Refusal> {
        decide(&self.w, req)
    }

    fn status(accepted: &Self::Accepted) -> u16 {
        accepted.0
    }

    fn kind(req: &Req) -> &'static str {
        match req {
            Req::Invite { .. } => "invite",
            Req::Accept { .. } => "accept",
            Req::Decline { .. } => "decline",
            Req::Revoke { .. } => "revoke",
            Req::Resend { .. } => "resend",
            Req::Offer { .. } => "offer",
            Req::Answer { accept: true, .. } => "accept_offer",
            Req::Answer { accept: false, .. } => "decline_offer",
            Req::Cancel { .. } => "cancel_offer",
        }
    }

    async fn send(&self, req: &Req) -> Resp {
        send(self.fx, &self.slug, &self.w, req).await
    }

    async fn settle(
        &mut self,
        req: &Req,
        decision: Result<Self::Accepted, Refusal>,
        resp: &Resp,
    ) -> Result<(), String> {
        let fx = self.fx;
        let audit_len = self.audit_len;
        if let Ok((_, actions)) = &decision {
            apply(fx, &mut self.w, req, resp)?;
            // R13: one event per change, newest first, read by the (possibly new) owner.
            let audit = fx.app.audit(&fx.users[self.w.org.owner], &self.slug).await;
            if audit.len() != audit_len + actions.len() {
                return Err(format!(
                    "R13: expected {} new audit event(s) {actions:?}, the log went from {audit_len} to {}",
                    actions.len(),
                    audit.len()
                ));
            }
            let newest: Vec<&str> = audit[..actions.len()]
                .iter()
                .rev()
                .map(|e| e["action"].as_str().unwrap_or(""))
                .collect();
            if newest != *actions {
                return Err(format!(
                    "R13: the newest events are {newest:?}, not {actions:?}"
                ));
            }
            self.audit_len = audit.len();
        } else {
            // R13, R14: a refusal records nothing.
            let now = fx
                .app
                .audit(&fx.users[self.w.org.owner], &self.slug)
                .await
                .len();
            if now != audit_len {
                return Err(format!(
                    "a refused request changed the log from {audit_len} to {now} events"
                ));
            }
        }
        check_state(fx, &self.slug, &self.w).await
    }
}

async fn run_case(
    fx: &Fixture,
    initial: &[Option<Builtin>],
    ops: &[Op],
    tally: &Tally,
) -> Result<(), String> {
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
            w.org.members.insert(i + 1, vec![Role::Builtin(*r)]);
        }
    }
    let audit_len = app.audit(&fx.users[w.org.owner], &slug).await.len();
    check_state(fx, &slug, &w)
        .await
        .map_err(|e| format!("before any step: {e}"))?;
    let mut case = Case {
        fx,
        slug,
        w,
        audit_len,
    };
    play(&mut case, ops, tally).await
}

/// Runs the property on `store`: one server and one set of users for all cases.
pub fn run(store: Store) {
    let settings = Settings {
        cases: DEFAULT_CASES,
        max_shrink_iters: 100,
        max_shrink_time: 0,
    };
    runner::run(
        store,
        settings,
        Fixture::new(store, "Invitee", USERS),
        ops(),
        |fx, (initial, ops), tally| {
            Box::pin(async move { run_case(fx, &initial, &ops, tally).await })
        },
    );
}
