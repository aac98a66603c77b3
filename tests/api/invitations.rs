//! Invitations (R9): create, list, revoke, re-send, mine, accept and decline by the token taken
//! from the mail; expiry on the movable clock; who may invite what (R6).

use crate::both_stores;
use crate::common::{PASSWORD, TestApp, TestUser, unique};
use reqwest::Method;
use serde_json::{Value, json};

const ACCEPT: &str = "/invitations/accept";

/// Invites `email` into `org` as `by` with `roles`.
async fn invite(
    app: &TestApp,
    by: &TestUser,
    org: &str,
    email: &str,
    roles: &[&str],
) -> crate::common::Resp {
    app.post(
        &format!("/api/v1/orgs/{org}/invitations"),
        &by.token,
        json!({ "email": email, "roles": roles }),
    )
    .await
}

/// The organization's invitations, read as `by`.
async fn listed(app: &TestApp, by: &TestUser, org: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/orgs/{org}/invitations"), &by.token)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .expect("items")
        .clone()
}

/// `user` signed in again (sessions last 7 days, as long as an invitation).
async fn relog(app: &TestApp, user: &mut TestUser) {
    user.token = app.sign_in(&user.email, PASSWORD).await.expect(201).body["token"]
        .as_str()
        .expect("token")
        .to_owned();
}

/// Accepts with `token`, signed in as `who` (or not).
async fn accept(app: &TestApp, who: Option<&TestUser>, body: Value) -> crate::common::Resp {
    app.req(
        Method::POST,
        "/api/v1/invitations/accept",
        who.map(|u| u.token.as_str()),
        Some(body),
    )
    .await
}

both_stores!(
    async fn r9_the_signed_in_addressee_accepts_with_the_token_from_the_mail(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let eve = app.user("Eve").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        // The address is matched case-insensitively.
        let created = invite(&app, &ada, slug, &bob.email.to_uppercase(), &["developer"]).await.expect(201).body;
        assert_eq!(created["state"], "pending");
        assert_eq!(created["mail"], "sent");
        assert_eq!(created["roles"], json!(["developer"]));
        assert_eq!(created["org"]["slug"], slug);
        assert_eq!(created["invited_by"]["id"], ada.id.as_str());
        assert!(!created.to_string().contains("gldh_inv_"), "the token is never in an answer: {created}");
        let listed_now = listed(&app, &ada, slug).await;
        assert_eq!(listed_now.len(), 1);
        assert!(!Value::Array(listed_now.clone()).to_string().contains("gldh_inv_"));
        let mine = app.get("/api/v1/invitations", &bob.token).await.expect(200).body;
        assert_eq!(mine["items"][0]["id"], created["id"]);
        assert_eq!(app.get("/api/v1/invitations", &eve.token).await.expect(200).body["items"], json!([]));

        let mail = app.mails_to(&bob.email).pop().expect("a mail to bob");
        assert!(mail.contains("text/plain") && mail.contains("text/html"), "both parts: {mail}");
        let token = app.newest_token(&bob.email, ACCEPT);
        assert!(token.starts_with("gldh_inv_") && token.len() >= "gldh_inv_".len() + 22);

        // Someone else signed in: refused, nothing changes.
        accept(&app, Some(&eve), json!({ "token": token })).await.expect_problem(403, "invitation_other_email");
        assert_eq!(app.members(&ada, slug).await.len(), 1);
        let joined = accept(&app, Some(&bob), json!({ "token": token })).await.expect(200).body;
        assert_eq!(joined["invitation"]["state"], "accepted");
        assert_eq!(joined["member"]["roles"], json!(["developer"]));
        assert!(app.members(&ada, slug).await.contains(&(bob.id.clone(), vec!["developer".to_owned()])));
        // Single use.
        accept(&app, Some(&bob), json!({ "token": token })).await.expect_problem(404, "invitation_not_found");
        app.req(Method::POST, "/api/v1/invitations/decline", None, Some(json!({ "token": token })))
            .await
            .expect_problem(404, "invitation_not_found");
        assert_eq!(listed(&app, &ada, slug).await[0]["state"], "accepted");
        assert_eq!(app.get("/api/v1/invitations", &bob.token).await.expect(200).body["items"], json!([]));
        let actions: Vec<String> = app.audit(&ada, slug).await.iter().map(|e| e["action"].as_str().unwrap_or("").to_owned()).collect();
        for a in ["invitation.created", "invitation.accepted", "member.added"] {
            assert!(actions.contains(&a.to_owned()), "{a} in {actions:?}");
        }
        let audit = serde_json::to_string(&app.audit(&ada, slug).await).expect("json");
        assert!(!audit.contains(&token), "no token in the audit log");
    }
);

both_stores!(
    async fn r9_a_person_without_an_account_creates_it_through_the_link(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let email = format!("{}@example.com", unique("newcomer"));
        invite(&app, &ada, slug, &email, &["member"]).await.expect(201);
        let token = app.newest_token(&email, ACCEPT);
        // Neither signed in nor creating an account.
        accept(&app, None, json!({ "token": token })).await.expect_problem(401, "unauthenticated");
        accept(&app, None, json!({ "token": token, "name": "Newcomer" })).await.expect_problem(400, "validation_failed");
        accept(&app, None, json!({ "token": token, "name": "Newcomer", "password": "short" })).await.expect_problem(400, "validation_failed");
        let user = accept(&app, None, json!({ "token": token, "name": "Newcomer", "password": PASSWORD })).await.expect(201).body;
        assert_eq!(user["email"], email.as_str());
        let session = app.sign_in(&email, PASSWORD).await.expect(201).body;
        let token2 = session["token"].as_str().expect("token");
        let orgs = app.get("/api/v1/orgs", token2).await.expect(200).body;
        let orgs = orgs["items"].as_array().expect("items");
        assert_eq!(orgs.len(), 2, "the invited org and the personal one: {orgs:?}");
        assert!(orgs.iter().any(|o| o["personal"] == true && o["owner"]["id"] == user["id"]));
        assert!(orgs.iter().any(|o| o["slug"] == slug && o["my_roles"] == json!(["member"])));
        accept(&app, None, json!({ "token": token, "name": "Again", "password": PASSWORD })).await.expect_problem(404, "invitation_not_found");
    }
);

both_stores!(
    async fn r9_a_second_pending_invitation_is_refused_and_resending_kills_the_old_token(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let email = format!("{}@example.com", unique("guest"));
        let first = invite(&app, &ada, slug, &email, &["member"]).await.expect(201).body;
        invite(&app, &ada, slug, &email.to_uppercase(), &["developer"]).await.expect_problem(409, "invitation_pending");
        let old = app.newest_token(&email, ACCEPT);
        let id = first["id"].as_str().expect("id");
        let resent = app.post(&format!("/api/v1/orgs/{slug}/invitations/{id}/resend"), &ada.token, json!({})).await.expect(200).body;
        assert_eq!(resent["id"], first["id"]);
        assert_eq!(resent["state"], "pending");
        let new = app.newest_token(&email, ACCEPT);
        assert_ne!(old, new);
        app.req(Method::POST, "/api/v1/invitations/decline", None, Some(json!({ "token": old })))
            .await
            .expect_problem(404, "invitation_not_found");
        app.req(Method::POST, "/api/v1/invitations/decline", None, Some(json!({ "token": new })))
            .await
            .expect(204);
        assert_eq!(listed(&app, &ada, slug).await[0]["state"], "declined");
        app.post(&format!("/api/v1/orgs/{slug}/invitations/{id}/resend"), &ada.token, json!({})).await.expect_problem(409, "invitation_closed");

        // Once answered, a new invitation may be made; revoked, its token opens nothing.
        let second = invite(&app, &ada, slug, &email, &["member"]).await.expect(201).body;
        let sid = second["id"].as_str().expect("id");
        let token = app.newest_token(&email, ACCEPT);
        app.delete(&format!("/api/v1/orgs/{slug}/invitations/{sid}"), &ada.token).await.expect(204);
        app.delete(&format!("/api/v1/orgs/{slug}/invitations/{sid}"), &ada.token).await.expect_problem(409, "invitation_closed");
        app.post(&format!("/api/v1/orgs/{slug}/invitations/{sid}/resend"), &ada.token, json!({})).await.expect_problem(409, "invitation_closed");
        accept(&app, None, json!({ "token": token, "name": "Guest", "password": PASSWORD })).await.expect_problem(404, "invitation_not_found");
        let states: Vec<Value> = listed(&app, &ada, slug).await.iter().map(|i| i["state"].clone()).collect();
        assert_eq!(states.len(), 2);
        assert!(states.contains(&json!("declined")) && states.contains(&json!("revoked")), "{states:?}");
        let actions: Vec<String> = app.audit(&ada, slug).await.iter().map(|e| e["action"].as_str().unwrap_or("").to_owned()).collect();
        for a in ["invitation.resent", "invitation.declined", "invitation.revoked"] {
            assert!(actions.contains(&a.to_owned()), "{a} in {actions:?}");
        }
        // An invitation of another organization is not found through this one.
        let other = app.org(&ada, "Other").await;
        let oslug = other["slug"].as_str().expect("slug");
        app.delete(&format!("/api/v1/orgs/{oslug}/invitations/{sid}"), &ada.token).await.expect_problem(404, "invitation_not_found");
    }
);

both_stores!(
    async fn r9_invitations_expire_after_seven_days_without_any_job(app) {
        let mut ada = app.user("Ada").await;
        let mut bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let lapsing = invite(&app, &ada, slug, &bob.email, &["member"]).await.expect(201).body;
        let token = app.newest_token(&bob.email, ACCEPT);
        app.clock.advance(chrono::Duration::days(7) - chrono::Duration::seconds(30));
        assert_eq!(listed(&app, &ada, slug).await[0]["state"], "pending");
        app.clock.advance(chrono::Duration::seconds(31));
        relog(&app, &mut ada).await;
        relog(&app, &mut bob).await;
        assert_eq!(listed(&app, &ada, slug).await[0]["state"], "expired");
        assert_eq!(app.get("/api/v1/invitations", &bob.token).await.expect(200).body["items"][0]["state"], "expired");
        accept(&app, Some(&bob), json!({ "token": token })).await.expect_problem(410, "invitation_expired");
        app.req(Method::POST, "/api/v1/invitations/decline", Some(&bob.token), Some(json!({ "token": token })))
            .await
            .expect_problem(410, "invitation_expired");
        assert_eq!(app.members(&ada, slug).await.len(), 1);

        // Re-sending renews it: a new token and 7 more days.
        let id = lapsing["id"].as_str().expect("id");
        let renewed = app.post(&format!("/api/v1/orgs/{slug}/invitations/{id}/resend"), &ada.token, json!({})).await.expect(200).body;
        assert_eq!(renewed["state"], "pending");
        let fresh = app.newest_token(&bob.email, ACCEPT);
        accept(&app, Some(&bob), json!({ "token": token })).await.expect_problem(404, "invitation_not_found");
        accept(&app, Some(&bob), json!({ "token": fresh })).await.expect(200);

        // A lapsed invitation does not block a new one to the same email.
        let email = format!("{}@example.com", unique("late"));
        invite(&app, &ada, slug, &email, &["member"]).await.expect(201);
        app.clock.advance(chrono::Duration::days(7) + chrono::Duration::seconds(1));
        relog(&app, &mut ada).await;
        invite(&app, &ada, slug, &email, &["developer"]).await.expect(201);
        let mut states: Vec<String> = listed(&app, &ada, slug)
            .await
            .iter()
            .filter(|i| i["email"] == email.as_str())
            .map(|i| i["state"].as_str().unwrap_or("").to_owned())
            .collect();
        states.sort();
        assert_eq!(states, vec!["expired".to_owned(), "pending".to_owned()]);
    }
);

both_stores!(
    async fn r9_r6_inviting_needs_members_invite_and_only_grantable_roles(app) {
        let ada = app.user("Ada").await;
        let mia = app.user("Mia").await;
        let dev = app.user("Dev").await;
        let man = app.user("Man").await;
        let outsider = app.user("Out").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &mia, &["member"]).await.expect(201);
        app.add(&ada, slug, &dev, &["developer"]).await.expect(201);
        app.add(&ada, slug, &man, &["manager"]).await.expect(201);
        let email = format!("{}@example.com", unique("x"));
        invite(&app, &mia, slug, &email, &["member"]).await.expect_problem(403, "forbidden");
        invite(&app, &dev, slug, &email, &["member"]).await.expect_problem(403, "forbidden");
        invite(&app, &man, slug, &email, &["admin"]).await.expect_problem(403, "role_not_grantable");
        invite(&app, &ada, slug, &email, &["owner"]).await.expect_problem(409, "owner_requires_transfer");
        invite(&app, &outsider, slug, &email, &["member"]).await.expect_problem(404, "org_not_found");
        invite(&app, &ada, slug, &dev.email, &["member"]).await.expect_problem(409, "already_member");
        invite(&app, &ada, slug, &email, &["nope"]).await.expect_problem(400, "validation_failed");
        assert_eq!(listed(&app, &ada, slug).await.len(), 0);
        // A manager invites with what it may grant; a developer (members.read) may list.
        invite(&app, &man, slug, &email, &["developer"]).await.expect(201);
        assert_eq!(listed(&app, &dev, slug).await.len(), 1);
        app.get(&format!("/api/v1/orgs/{slug}/invitations"), &mia.token).await.expect_problem(403, "forbidden");
        app.get(&format!("/api/v1/orgs/{slug}/invitations"), &outsider.token).await.expect_problem(404, "org_not_found");
    }
);

both_stores!(
    async fn r9_an_invitee_who_joined_meanwhile_gets_409_and_the_invitation_stays_pending(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let created = invite(&app, &ada, slug, &bob.email, &["developer"]).await.expect(201).body;
        let token = app.newest_token(&bob.email, ACCEPT);
        app.add(&ada, slug, &bob, &["member"]).await.expect(201);
        accept(&app, Some(&bob), json!({ "token": token })).await.expect_problem(409, "already_member");
        assert_eq!(listed(&app, &ada, slug).await[0]["state"], "pending");
        let id = created["id"].as_str().expect("id");
        app.post(&format!("/api/v1/orgs/{slug}/invitations/{id}/resend"), &ada.token, json!({})).await.expect_problem(409, "already_member");
        assert!(app.members(&ada, slug).await.contains(&(bob.id.clone(), vec!["member".to_owned()])));
    }
);

both_stores!(
    async fn r9_my_invitations_come_in_pages_across_organizations(app) {
        let bob = app.user("Bob").await;
        let mut ids = Vec::new();
        for name in ["Ada", "Cy", "Dee"] {
            let inviter = app.user(name).await;
            let org = app.org(&inviter, name).await;
            let slug = org["slug"].as_str().expect("slug");
            ids.push(invite(&app, &inviter, slug, &bob.email, &["member"]).await.expect(201).body["id"].clone());
        }
        let first = app.get("/api/v1/invitations?limit=2", &bob.token).await.expect(200).body;
        assert_eq!(first["items"].as_array().map(Vec::len), Some(2));
        let cursor = first["next_cursor"].as_str().expect("a next page");
        let second = app.get(&format!("/api/v1/invitations?limit=2&cursor={cursor}"), &bob.token).await.expect(200).body;
        assert_eq!(second["next_cursor"], Value::Null);
        let seen: Vec<Value> = first["items"].as_array().expect("items").iter().chain(second["items"].as_array().expect("items")).map(|i| i["id"].clone()).collect();
        assert_eq!(seen, ids, "oldest first, each once");
        app.get("/api/v1/invitations?limit=0", &bob.token).await.expect_problem(400, "validation_failed");
        app.get("/api/v1/invitations?cursor=garbage", &bob.token).await.expect_problem(400, "validation_failed");
    }
);
