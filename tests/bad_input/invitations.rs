//! Invitations (R9) and password links (R10): unknown, expired, used, revoked and re-sent-away
//! tokens; the wrong signed-in user; an invitation of another organization; malformed bodies,
//! unknown fields, bad emails and unknown roles. Each gets its 4xx and changes nothing,
//! invitations and their states included.

use crate::accounts::bad_emails;
use crate::both_stores;
use crate::common::{PASSWORD, TestApp, TestUser, unique};
use crate::orgs::{bad_limits, garbage_cursors};
use crate::support::{Body, Case, NIL, Watch, World, chars, run_cases, with, without, world};
use reqwest::Method;
use serde_json::{Value, json};

const ACCEPT: &str = "/invitations/accept";

async fn relog(app: &TestApp, u: &mut TestUser) {
    u.token = app.sign_in(&u.email, PASSWORD).await.expect(201).body["token"]
        .as_str()
        .expect("token")
        .to_owned();
}

/// Invites `email` into `org` as `by`; returns the invitation's id and the token mailed.
async fn invite(app: &TestApp, by: &TestUser, org: &str, email: &str) -> (String, String) {
    let inv = app
        .post(
            &format!("/api/v1/orgs/{org}/invitations"),
            &by.token,
            json!({ "email": email, "roles": ["member"] }),
        )
        .await
        .expect(201)
        .body;
    (
        inv["id"].as_str().expect("id").to_owned(),
        app.newest_token(email, ACCEPT),
    )
}

/// Invitations and password links in every state, on top of the shared world.
struct Tokens {
    /// Pending, to an address with no account.
    pending: String,
    pending_email: String,
    /// Pending, to Otto's address (he has an account).
    to_otto: String,
    expired: String,
    revoked: String,
    revoked_id: String,
    resent_away: String,
    used: String,
    used_id: String,
    rival_id: String,
    link_expired: String,
    link_used: String,
}

/// The world, two weeks on: an expired invitation and password link from before, and the rest
/// made since.
async fn setup(app: &TestApp) -> (World, Tokens) {
    let mut w = world(app).await;
    let acme = w.acme.id.clone();
    let (_, expired) = invite(
        app,
        &w.owner,
        &acme,
        &format!("{}@example.com", unique("lapsed")),
    )
    .await;
    let stale = format!("{}@example.com", unique("stale"));
    app.post(
        &format!("/api/v1/orgs/{acme}/members"),
        &w.owner.token,
        json!({ "email": stale, "name": "Stale", "roles": ["member"], "register": true }),
    )
    .await
    .expect(201);
    let link_expired = app.newest_token(&stale, "/password/set");
    app.clock.advance(chrono::Duration::days(8));
    relog(app, &mut w.owner).await;
    relog(app, &mut w.member).await;
    relog(app, &mut w.outsider).await;

    let pending_email = format!("{}@example.com", unique("Pending"));
    let (_, pending) = invite(app, &w.owner, &acme, &pending_email).await;
    let (_, to_otto) = invite(app, &w.owner, &acme, &w.outsider.email).await;
    let (revoked_id, revoked) = invite(
        app,
        &w.owner,
        &acme,
        &format!("{}@example.com", unique("revoked")),
    )
    .await;
    app.delete(
        &format!("/api/v1/orgs/{acme}/invitations/{revoked_id}"),
        &w.owner.token,
    )
    .await
    .expect(204);
    let away = format!("{}@example.com", unique("away"));
    let (away_id, resent_away) = invite(app, &w.owner, &acme, &away).await;
    app.post(
        &format!("/api/v1/orgs/{acme}/invitations/{away_id}/resend"),
        &w.owner.token,
        json!({}),
    )
    .await
    .expect(200);
    assert_ne!(app.newest_token(&away, ACCEPT), resent_away);
    let joiner = format!("{}@example.com", unique("joiner"));
    let (used_id, used) = invite(app, &w.owner, &acme, &joiner).await;
    app.req(
        Method::POST,
        "/api/v1/invitations/accept",
        None,
        Some(json!({ "token": used, "name": "Joiner", "password": PASSWORD })),
    )
    .await
    .expect(201);
    let (rival_id, _) = invite(
        app,
        &w.outsider,
        &w.rival.id,
        &format!("{}@example.com", unique("rivalry")),
    )
    .await;
    // A reset link, used.
    app.req(
        Method::POST,
        "/api/v1/password/forgot",
        None,
        Some(json!({ "email": joiner })),
    )
    .await
    .expect(202);
    app.wait_mails_to(&joiner, 2).await;
    let link_used = app.newest_token(&joiner, "/password/set");
    app.req(
        Method::POST,
        "/api/v1/password/set",
        None,
        Some(json!({ "token": link_used, "password": "joiner's password" })),
    )
    .await
    .expect(200);
    (
        w,
        Tokens {
            pending,
            pending_email,
            to_otto,
            expired,
            revoked,
            revoked_id,
            resent_away,
            used,
            used_id,
            rival_id,
            link_expired,
            link_used,
        },
    )
}

/// The world's watch, plus every invitation list a user can read.
fn watch(w: &World) -> Watch {
    let mut watch = w.watch();
    watch.get(
        "acme invitations",
        &w.owner.token,
        &format!("/api/v1/orgs/{}/invitations?limit=100", w.acme.id),
    );
    watch.get(
        "rival invitations",
        &w.outsider.token,
        &format!("/api/v1/orgs/{}/invitations?limit=100", w.rival.id),
    );
    for u in [&w.owner, &w.member, &w.outsider] {
        watch.get(
            format!("invitations of {}", u.name),
            &u.token,
            "/api/v1/invitations",
        );
    }
    watch
}

both_stores!(
    async fn r9_answering_with_bad_tokens_or_as_someone_else_changes_nothing(app) {
        let (w, t) = setup(&app).await;
        let mut cases = Vec::new();
        for route in ["/api/v1/invitations/accept", "/api/v1/invitations/decline"] {
            let post = |body: Value| Case::json(Method::POST, route, body);
            cases.extend([
                post(json!({ "token": "gldh_inv_nothing" })).expect(404, "invitation_not_found"),
                post(json!({ "token": w.member.token })).expect(404, "invitation_not_found").labelled(format!("{route}: a session token")),
                post(json!({ "token": t.link_used })).expect(404, "invitation_not_found"),
                post(json!({ "token": t.revoked })).expect(404, "invitation_not_found").labelled(format!("{route}: revoked")),
                post(json!({ "token": t.resent_away })).expect(404, "invitation_not_found").labelled(format!("{route}: re-sent away")),
                post(json!({ "token": t.used })).expect(404, "invitation_not_found").labelled(format!("{route}: used")),
                post(json!({ "token": t.expired })).expect(410, "invitation_expired").labelled(format!("{route}: expired")),
                post(json!({ "token": t.pending })).expect(403, "invitation_other_email").labelled(format!("{route}: someone else signed in")),
                post(json!({ "token": t.to_otto })).expect(403, "invitation_other_email"),
                post(json!({})).expect(400, "validation_failed"),
                post(json!({ "token": 42 })).expect(400, "validation_failed"),
                post(json!({ "token": null })).expect(400, "validation_failed"),
                post(json!({ "token": "" })).invalid("token"),
                post(json!({ "token": "   " })).invalid("token"),
                post(json!({ "token": chars('x', 5_000) })).invalid("token"),
                post(json!({ "token": t.pending, "org": w.acme.id })).expect(400, "validation_failed"),
                Case::new(Method::POST, route, Body::json_bytes(format!("{{\"token\": \"{}\"", t.pending))).expect(400, "malformed_json"),
            ]);
        }
        let accept = |body: Value| Case::json(Method::POST, "/api/v1/invitations/accept", body);
        // Signed in, `name` and `password` are not for you.
        cases.push(accept(json!({ "token": t.pending, "name": "Mia", "password": PASSWORD })).invalid("name"));
        cases.push(accept(json!({ "token": t.pending })).with_token("gldh_ses_forged").expect(401, "unauthenticated"));
        // Without sign-in: the account must be described in full, and must not exist yet.
        let signed_out = vec![
            accept(json!({ "token": t.pending })).expect(401, "unauthenticated"),
            accept(json!({ "token": t.pending, "name": "New" })).invalid("password"),
            accept(json!({ "token": t.pending, "password": PASSWORD })).invalid("name"),
            accept(json!({ "token": t.pending, "name": "New", "password": "short" })).invalid("password"),
            accept(json!({ "token": t.pending, "name": "", "password": PASSWORD })).invalid("name"),
            accept(json!({ "token": t.to_otto, "name": "Otto Two", "password": PASSWORD })).expect(409, "email_taken"),
            accept(json!({ "token": t.expired, "name": "Late", "password": PASSWORD })).expect(410, "invitation_expired"),
            accept(json!({ "token": t.revoked, "name": "Late", "password": PASSWORD })).expect(404, "invitation_not_found"),
            accept(json!({ "token": t.used, "name": "Late", "password": PASSWORD })).expect(404, "invitation_not_found"),
            accept(json!({ "token": t.resent_away, "name": "Late", "password": PASSWORD })).expect(404, "invitation_not_found"),
            accept(json!({ "token": "gldh_inv_nothing", "name": "Late", "password": PASSWORD })).expect(404, "invitation_not_found"),
            Case::json(Method::POST, "/api/v1/invitations/decline", json!({ "token": t.expired })).expect(410, "invitation_expired"),
            Case::json(Method::POST, "/api/v1/invitations/decline", json!({ "token": t.used })).expect(404, "invitation_not_found"),
        ];
        run_cases(&app, None, &watch(&w), &signed_out).await;
        run_cases(&app, Some(&w.member.token), &watch(&w), &cases).await;
        // The pending invitation still works for its addressee.
        app.req(Method::POST, "/api/v1/invitations/accept", None, Some(json!({ "token": t.pending, "name": "Pending", "password": PASSWORD })))
            .await
            .expect(201);
        assert!(app.sign_in(&t.pending_email, PASSWORD).await.status.is_success());
    }
);

both_stores!(
    async fn r9_managing_invitations_refuses_bad_input_and_changes_nothing(app) {
        let (w, t) = setup(&app).await;
        let base = json!({ "email": format!("{}@example.com", unique("fresh")), "roles": ["member"] });
        let mut cases = Vec::new();
        for org in [&w.acme.id, &w.acme.slug] {
            let path = format!("/api/v1/orgs/{org}/invitations");
            let post = |body: Value| Case::json(Method::POST, path.clone(), body);
            cases.extend([
                post(without(&base, "email")).expect(400, "validation_failed"),
                post(without(&base, "roles")).expect(400, "validation_failed"),
                post(json!({})).expect(400, "validation_failed"),
                post(with(&base, "name", json!("Fresh"))).expect(400, "validation_failed"),
                post(with(&base, "register", json!(true))).expect(400, "validation_failed"),
                post(with(&base, "token", json!("gldh_inv_x"))).expect(400, "validation_failed"),
                post(with(&base, "email", json!(42))).expect(400, "validation_failed"),
                post(json!({ "email": "nope", "roles": [] })).invalid("email").field("roles"),
                post(with(&base, "roles", json!(["nope"]))).invalid("roles[0]"),
                post(with(&base, "roles", json!(["member", "superuser"]))).invalid("roles[1]"),
                post(with(&base, "roles", json!(vec!["member"; 51]))).invalid("roles"),
                post(with(&base, "roles", json!(["owner"]))).expect(409, "owner_requires_transfer"),
                post(with(&base, "email", json!(w.member.email))).expect(409, "already_member"),
                post(with(&base, "email", json!(w.owner.email.to_uppercase()))).expect(409, "already_member"),
                post(with(&base, "email", json!(t.pending_email.to_lowercase()))).expect(409, "invitation_pending"),
                post(base.clone()).with_token(&w.member.token).expect(403, "forbidden"),
                post(base.clone()).with_token(&w.outsider.token).expect(404, "org_not_found"),
            ]);
            for e in bad_emails() {
                cases.push(post(with(&base, "email", json!(e))).invalid("email"));
            }
            let one = |id: &str| format!("/api/v1/orgs/{org}/invitations/{id}");
            for id in ["not-a-uuid", "12345", &NIL[..35]] {
                cases.push(Case::delete(one(id)).invalid("id"));
                cases.push(Case::json(Method::POST, format!("{}/resend", one(id)), json!({})).invalid("id"));
            }
            for (id, status, code) in [
                (NIL, 404, "invitation_not_found"),
                (t.rival_id.as_str(), 404, "invitation_not_found"),
                (t.revoked_id.as_str(), 409, "invitation_closed"),
                (t.used_id.as_str(), 409, "invitation_closed"),
            ] {
                cases.push(Case::delete(one(id)).expect(status, code));
                cases.push(Case::json(Method::POST, format!("{}/resend", one(id)), json!({})).expect(status, code));
            }
            cases.push(Case::delete(one(&t.revoked_id)).with_token(&w.member.token).expect(403, "forbidden"));
            cases.push(Case::delete(one(&t.revoked_id)).with_token(&w.outsider.token).expect(404, "org_not_found"));
            let list = |q: &str| Case::get(format!("{path}?{q}"));
            for (limit, named) in bad_limits() {
                let c = list(&format!("limit={limit}"));
                cases.push(if named { c.invalid("limit") } else { c.expect(400, "validation_failed") });
            }
            for cursor in garbage_cursors() {
                cases.push(list(&format!("cursor={cursor}")).invalid("cursor"));
            }
        }
        // The rival's invitation through the rival, by someone not in it.
        cases.push(Case::delete(format!("/api/v1/orgs/{}/invitations/{}", w.rival.id, t.rival_id)).expect(404, "org_not_found"));
        run_cases(&app, Some(&w.owner.token), &watch(&w), &cases).await;
        app.post(&format!("/api/v1/orgs/{}/invitations", w.acme.id), &w.owner.token, base).await.expect(201);
    }
);

both_stores!(
    async fn r10_password_routes_refuse_bad_tokens_and_bad_input_and_change_nothing(app) {
        let (w, t) = setup(&app).await;
        let set = |body: Value| Case::json(Method::POST, "/api/v1/password/set", body);
        let forgot = |body: Value| Case::json(Method::POST, "/api/v1/password/forgot", body);
        let mut cases = vec![
            set(json!({ "token": "gldh_pwd_nothing", "password": "a long new password" })).expect(404, "password_token_not_found"),
            set(json!({ "token": t.link_used, "password": "a long new password" })).expect(404, "password_token_not_found").labelled("used link"),
            set(json!({ "token": t.link_expired, "password": "a long new password" })).expect(410, "password_token_expired").labelled("expired link"),
            set(json!({ "token": t.pending, "password": "a long new password" })).expect(404, "password_token_not_found").labelled("an invitation token"),
            set(json!({ "token": w.owner.token, "password": "a long new password" })).expect(404, "password_token_not_found").labelled("a session token"),
            set(json!({ "token": t.link_used, "password": "short" })).invalid("password"),
            set(json!({ "token": "", "password": "a long new password" })).invalid("token"),
            set(json!({ "token": chars('t', 5_000), "password": "a long new password" })).invalid("token"),
            set(json!({ "token": t.link_used })).expect(400, "validation_failed"),
            set(json!({ "password": "a long new password" })).expect(400, "validation_failed"),
            set(json!({ "token": t.link_used, "password": "a long new password", "email": w.owner.email })).expect(400, "validation_failed"),
            set(json!({ "token": 1, "password": "a long new password" })).expect(400, "validation_failed"),
            Case::new(Method::POST, "/api/v1/password/set", Body::json_bytes("{\"token\":")).expect(400, "malformed_json"),
            forgot(json!({})).expect(400, "validation_failed"),
            forgot(json!({ "email": w.owner.email, "name": "Owen" })).expect(400, "validation_failed"),
            forgot(json!({ "email": [w.owner.email] })).expect(400, "validation_failed"),
            Case::new(Method::POST, "/api/v1/password/forgot", Body::Raw { content_type: Some("text/plain"), bytes: b"x".to_vec() }).expect(415, "unsupported_media_type"),
        ];
        for e in bad_emails() {
            cases.push(forgot(json!({ "email": e })).invalid("email"));
        }
        run_cases(&app, None, &watch(&w), &cases).await;
        // Every user still signs in with their password.
        for u in [&w.owner, &w.member, &w.outsider] {
            app.sign_in(&u.email, PASSWORD).await.expect(201);
        }
    }
);
