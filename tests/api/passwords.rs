//! Register-and-add (R10) with its set-password link, and "forgot password": links taken from
//! the mail, single use, 24 hours on the movable clock, sessions ended by a reset (tokens too:
//! `tokens.rs`).

use crate::both_stores;
use crate::common::{PASSWORD, TestApp, unique};
use reqwest::Method;
use serde_json::{Value, json};

const SET: &str = "/password/set";

async fn set_password(app: &TestApp, token: &str, password: &str) -> crate::common::Resp {
    app.req(
        Method::POST,
        "/api/v1/password/set",
        None,
        Some(json!({ "token": token, "password": password })),
    )
    .await
}

async fn forgot(app: &TestApp, email: &str) -> crate::common::Resp {
    app.req(
        Method::POST,
        "/api/v1/password/forgot",
        None,
        Some(json!({ "email": email })),
    )
    .await
}

both_stores!(
    async fn r10_register_and_add_creates_the_account_and_mails_a_one_time_set_password_link(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let email = format!("{}@example.com", unique("hired"));
        let members = format!("/api/v1/orgs/{slug}/members");
        let added = app
            .post(&members, &ada.token, json!({ "email": email, "name": "Hired Hand", "roles": ["developer"], "register": true }))
            .await
            .expect(201)
            .body;
        assert_eq!(added["user"]["email"], email.as_str());
        assert_eq!(added["roles"], json!(["developer"]));
        let id = added["user"]["id"].as_str().expect("id").to_owned();
        assert!(app.members(&ada, slug).await.contains(&(id.clone(), vec!["developer".to_owned()])));
        // The account has no usable password yet: sign-in fails like a wrong password.
        app.sign_in(&email, PASSWORD).await.expect_problem(401, "invalid_credentials");
        app.sign_in(&email, "").await.expect_problem(401, "invalid_credentials");
        // Registering the same address again is refused.
        app.post(&members, &ada.token, json!({ "email": email.to_uppercase(), "name": "Twin", "roles": ["member"], "register": true }))
            .await
            .expect_problem(409, "email_taken");

        let mail = app.mails_to(&email).pop().expect("a mail");
        assert!(mail.contains("text/plain") && mail.contains("text/html"));
        let token = app.newest_token(&email, SET);
        assert!(token.starts_with("gldh_pwd_"));
        set_password(&app, &token, "short").await.expect_problem(400, "validation_failed");
        set_password(&app, &token, "a new long password").await.expect(200);
        let session = app.sign_in(&email, "a new long password").await.expect(201).body;
        // Single use.
        set_password(&app, &token, "another long password").await.expect_problem(404, "password_token_not_found");
        // The new user owns a personal organization too (R2).
        let orgs = app.get("/api/v1/orgs", session["token"].as_str().expect("token")).await.expect(200).body;
        assert!(orgs["items"].as_array().expect("items").iter().any(|o| o["personal"] == true && o["owner"]["id"] == id.as_str()));
        let actions: Vec<String> = app.audit(&ada, slug).await.iter().map(|e| e["action"].as_str().unwrap_or("").to_owned()).collect();
        assert!(actions.contains(&"member.added".to_owned()), "{actions:?}");
    }
);

both_stores!(
    async fn r10_a_set_password_link_expires_after_24_hours(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let email = format!("{}@example.com", unique("late"));
        app.post(&format!("/api/v1/orgs/{slug}/members"), &ada.token, json!({ "email": email, "name": "Late", "roles": ["member"], "register": true }))
            .await
            .expect(201);
        let token = app.newest_token(&email, SET);
        app.clock.advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
        set_password(&app, &token, "a new long password").await.expect_problem(410, "password_token_expired");
        app.sign_in(&email, "a new long password").await.expect_problem(401, "invalid_credentials");
        // "Forgot password" issues a fresh link that replaces it.
        forgot(&app, &email).await.expect(202);
        app.wait_mails_to(&email, 2).await;
        let fresh = app.newest_token(&email, SET);
        assert_ne!(fresh, token);
        set_password(&app, &fresh, "a new long password").await.expect(200);
        app.sign_in(&email, "a new long password").await.expect(201);
    }
);

both_stores!(
    async fn forgot_password_answers_alike_and_a_reset_ends_every_session(app) {
        let bob = app.user("Bob").await;
        let nobody = format!("{}@example.com", unique("nobody"));
        let unknown = forgot(&app, &nobody).await.expect(202);
        let known = forgot(&app, &bob.email.to_uppercase()).await.expect(202);
        assert_eq!(unknown.body, known.body);
        assert_eq!(known.body, json!({}));
        let first = app.wait_mails_to(&bob.email, 1).await;
        assert!(first[0].contains("text/plain") && first[0].contains("text/html"));
        let token1 = app.newest_token(&bob.email, SET);
        // Asking again at once sends nothing more (at most one a minute).
        forgot(&app, &bob.email).await.expect(202);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(app.mails_to(&bob.email).len(), 1);
        // A minute later a new link replaces the old one.
        app.clock.advance(chrono::Duration::seconds(61));
        forgot(&app, &bob.email).await.expect(202);
        app.wait_mails_to(&bob.email, 2).await;
        let token2 = app.newest_token(&bob.email, SET);
        assert_ne!(token1, token2);
        set_password(&app, &token1, "a brand new password").await.expect_problem(404, "password_token_not_found");

        // Bob's session works until the reset, and not after.
        app.get("/api/v1/me", &bob.token).await.expect(200);
        set_password(&app, &token2, "a brand new password").await.expect(200);
        app.get("/api/v1/me", &bob.token).await.expect_problem(401, "unauthenticated");
        app.sign_in(&bob.email, PASSWORD).await.expect_problem(401, "invalid_credentials");
        app.sign_in(&bob.email, "a brand new password").await.expect(201);
        set_password(&app, &token2, "yet another password").await.expect_problem(404, "password_token_not_found");
        // Nothing was mailed to the unknown address.
        assert!(app.mails_to(&nobody).is_empty());
        // Two links, then the mail saying the reset ended Bob's sessions and tokens.
        let all: Value = json!(app.mails());
        assert_eq!(all.as_array().map(Vec::len), Some(3));
    }
);

both_stores!(
    async fn password_tokens_of_other_kinds_open_nothing(app) {
        let bob = app.user("Bob").await;
        // A session token is not a password link, and a password link is not a session.
        set_password(&app, &bob.token, "a brand new password").await.expect_problem(404, "password_token_not_found");
        forgot(&app, &bob.email).await.expect(202);
        app.wait_mails_to(&bob.email, 1).await;
        let token = app.newest_token(&bob.email, SET);
        app.get("/api/v1/me", &token).await.expect_problem(401, "unauthenticated");
        set_password(&app, "gldh_pwd_unknown", "a brand new password").await.expect_problem(404, "password_token_not_found");
        app.sign_in(&bob.email, PASSWORD).await.expect(201);
    }
);
