//! ASVS 5.0 6.2.4 (issue 15): every place a password is chosen refuses common and guessable
//! ones, and the account's own email or name, with 400 `password_too_weak` saying why and what
//! to do, and changes nothing; a passphrase is accepted. Sign-up, the set-password link of
//! register-and-add (R10), the reset link, and accepting an invitation as a new account (R9).

use crate::both_stores;
use crate::common::{PASSWORD, Resp, TestApp, unique};
use reqwest::Method;
use serde_json::{Value, json};

/// Each class of refused password, with the words its answer must say.
const WEAK: &[(&str, &str)] = &[
    ("password", "is one of the most used passwords"),
    ("12345678", "is one of the most used passwords"),
    ("qwertyuiop", "is one of the most used passwords"),
    ("        ", "repeats a character or a short pattern"),
    ("abcdefghijk", "is a sequence"),
    ("P@ssw0rd2024", "is a much used password with small changes"),
];

/// A `password_too_weak` answer that says `why` and what to do next.
#[track_caller]
fn assert_weak(r: Resp, why: &str) -> Value {
    let body = r.expect_problem(400, "password_too_weak").body;
    let detail = body["detail"].as_str().expect("detail");
    assert!(detail.contains(why), "{detail}");
    assert!(detail.contains("choose a longer passphrase"), "{detail}");
    assert_eq!(body["errors"][0]["field"], "password", "{body:#}");
    assert!(
        body["errors"][0]["reason"]
            .as_str()
            .expect("reason")
            .contains(why),
        "{body:#}"
    );
    body
}

async fn sign_up(app: &TestApp, email: &str, password: &str, name: &str) -> Resp {
    app.req(
        Method::POST,
        "/api/v1/users",
        None,
        Some(json!({ "email": email, "password": password, "name": name })),
    )
    .await
}

async fn set_password(app: &TestApp, token: &str, password: &str) -> Resp {
    app.req(
        Method::POST,
        "/api/v1/password/set",
        None,
        Some(json!({ "token": token, "password": password })),
    )
    .await
}

both_stores!(
    async fn sign_up_refuses_common_and_guessable_passwords_saying_why(app) {
        let email = format!("{}@example.com", unique("wendy"));
        for (password, why) in WEAK {
            assert_weak(sign_up(&app, &email, password, "Wendy").await, why);
        }
        // Nothing was made: the email is free, and a passphrase is accepted.
        app.sign_in(&email, "password").await.expect_problem(401, "invalid_credentials");
        sign_up(&app, &email, PASSWORD, "Wendy").await.expect(201);
        app.sign_in(&email, PASSWORD).await.expect(201);
    }
);

both_stores!(
    async fn sign_up_refuses_the_accounts_own_email_or_name(app) {
        let email = format!("{}@example.com", unique("ada.lovelace"));
        let local = email.split('@').next().expect("local part").to_owned();
        for password in [
            email.clone(),
            email.to_uppercase(),
            local.clone(),
            "Ada Lovelace".to_owned(),
            "lovelace1815!".to_owned(),
        ] {
            let body = assert_weak(sign_up(&app, &email, &password, "Ada Lovelace").await, "your email address or name");
            assert!(!body.to_string().contains(&password), "the password is not echoed: {body:#}");
        }
        sign_up(&app, &email, "ada likes correct horse battery staple", "Ada Lovelace").await.expect(201);
    }
);

both_stores!(
    async fn the_set_password_link_refuses_weak_passwords_and_stays_usable(app) {
        // Register-and-add (R10): the new member's link.
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let email = format!("{}@example.com", unique("hired.hand"));
        app.post(&format!("/api/v1/orgs/{slug}/members"), &ada.token, json!({ "email": email, "name": "Hired Hand", "roles": ["developer"], "register": true }))
            .await
            .expect(201);
        let token = app.newest_token(&email, "/password/set");
        for (password, why) in WEAK {
            assert_weak(set_password(&app, &token, password).await, why);
        }
        for own in [email.as_str(), "Hired Hand", "hiredhand", "hired.hand2024"] {
            assert_weak(set_password(&app, &token, own).await, "your email address or name");
        }
        app.sign_in(&email, "password").await.expect_problem(401, "invalid_credentials");
        // Still the one link, single use: a passphrase sets the password.
        set_password(&app, &token, "a new long password").await.expect(200);
        app.sign_in(&email, "a new long password").await.expect(201);
        set_password(&app, &token, "another long password").await.expect_problem(404, "password_token_not_found");
        // An unknown link says so whatever the password (nothing to check it against).
        set_password(&app, "gldh_pwd_unknown", "password").await.expect_problem(404, "password_token_not_found");
    }
);

both_stores!(
    async fn the_reset_link_refuses_weak_passwords(app) {
        let bob = app.user("Bob").await;
        app.req(Method::POST, "/api/v1/password/forgot", None, Some(json!({ "email": bob.email }))).await.expect(202);
        app.wait_mails_to(&bob.email, 1).await;
        let token = app.newest_token(&bob.email, "/password/set");
        assert_weak(set_password(&app, &token, "qwertyuiop").await, "is one of the most used passwords");
        assert_weak(set_password(&app, &token, &bob.email).await, "your email address or name");
        // The old password still works: nothing changed.
        app.sign_in(&bob.email, PASSWORD).await.expect(201);
        set_password(&app, &token, "bob's new password").await.expect(200);
        app.sign_in(&bob.email, "bob's new password").await.expect(201);
    }
);

both_stores!(
    async fn accepting_an_invitation_as_a_new_account_refuses_weak_passwords(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let email = format!("{}@example.com", unique("newcomer"));
        app.post(&format!("/api/v1/orgs/{slug}/invitations"), &ada.token, json!({ "email": email, "roles": ["member"] }))
            .await
            .expect(201);
        let token = app.newest_token(&email, "/invitations/accept");
        let accept = |password: &str| {
            let body = json!({ "token": token, "name": "Newcomer", "password": password });
            async { app.req(Method::POST, "/api/v1/invitations/accept", None, Some(body)).await }
        };
        assert_weak(accept("12345678").await, "is one of the most used passwords");
        // The invitation's email is the account's: refused as its own.
        assert_weak(accept(&email).await, "your email address or name");
        assert_weak(accept("newcomer!").await, "your email address or name");
        // Still pending: a passphrase makes the account and joins.
        accept(PASSWORD).await.expect(201);
        app.sign_in(&email, PASSWORD).await.expect(201);
    }
);
