//! What a new user trips on, mended (issue 13): refusals that say what to do next, answers a
//! console can use as they are, and mails that read well.

use crate::both_stores;
use crate::common::PASSWORD;
use chrono::Duration;
use guildhall::clock::Clock as _;
use reqwest::Method;
use serde_json::json;

both_stores!(
    async fn refusals_say_what_to_do_next(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let base = format!("/api/v1/orgs/{slug}");
        app.add(&ada, slug, &bob, &["admin"]).await.expect(201);

        // A body missing a field names it in `errors`.
        let body = json!({ "name": "Acme SAS", "address": { "line1": "1 rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR" } });
        let r = app.req(Method::PUT, &format!("{base}/billing"), Some(&ada.token), Some(body)).await.expect_problem(400, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "currency", "{}", r.body);
        assert_eq!(r.body["errors"][0]["reason"], "is required");
        // So does any other body, and an unknown field says which are known.
        let r = app.post(&format!("{base}/projects"), &ada.token, json!({ "nmae": "web" })).await.expect_problem(400, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "nmae", "{}", r.body);

        // Adding someone without an account says how to bring them in.
        let r = app.post(&format!("{base}/members"), &ada.token, json!({ "email": "new@example.com", "roles": ["developer"] })).await.expect_problem(404, "user_not_found");
        let detail = r.body["detail"].as_str().expect("detail");
        assert!(detail.contains("invite") && detail.contains("\"register\": true"), "{detail}");

        // Only the owner grants `billing`, and the refusal says so.
        let cy = app.user("Cy").await;
        let r = app.post(&format!("{base}/members"), &bob.token, json!({ "email": cy.email, "roles": ["billing"] })).await.expect_problem(403, "role_not_grantable");
        assert!(r.body["detail"].as_str().expect("detail").contains("only the owner"), "{}", r.body);

        // A personal organization cannot be left, and no transfer is suggested.
        let mine = app.get("/api/v1/orgs", &ada.token).await.expect(200).body;
        let personal = mine["items"].as_array().expect("items").iter().find(|o| o["personal"] == true).expect("personal")["id"].as_str().expect("id").to_owned();
        let r = app.post(&format!("/api/v1/orgs/{personal}/leave"), &ada.token, json!({})).await.expect_problem(409, "owner_cannot_leave");
        let detail = r.body["detail"].as_str().expect("detail");
        assert!(detail.contains("personal") && !detail.contains("transfer"), "{detail}");
        let r = app.post(&format!("{base}/leave"), &ada.token, json!({})).await.expect_problem(409, "owner_cannot_leave");
        assert!(r.body["detail"].as_str().expect("detail").contains("transfer"), "{}", r.body);

        // The check API tells a session what it takes instead.
        let r = app.post("/api/v1/check", &ada.token, json!({ "user": ada.id, "permission": "org.read", "org": slug })).await.expect_problem(401, "unauthenticated");
        let detail = r.body["detail"].as_str().expect("detail");
        assert!(detail.contains("service token") && detail.contains("check"), "{detail}");

        // An expired session says it expired.
        app.clock.advance(Duration::days(8));
        let r = app.get("/api/v1/me", &ada.token).await.expect_problem(401, "unauthenticated");
        assert!(r.body["detail"].as_str().expect("detail").contains("expired"), "{}", r.body);
        let r = app.get("/api/v1/me", "gldh_ses_not-a-real-one").await.expect_problem(401, "unauthenticated");
        assert!(!r.body["detail"].as_str().expect("detail").contains("expired"), "{}", r.body);
    }
);

both_stores!(
    async fn answers_and_mails_a_console_can_use_as_they_are(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let base = format!("/api/v1/orgs/{slug}");
        app.add(&ada, slug, &bob, &["admin"]).await.expect(201);
        app.post(&format!("{base}/projects"), &ada.token, json!({ "name": "web" })).await.expect(201);

        // A direct project role answers with its project and user.
        let r = app.req(Method::PUT, &format!("{base}/projects/web/members/{}", bob.id), Some(&ada.token), Some(json!({ "role": "contributor" }))).await.expect(200);
        assert_eq!(r.body["role"], "contributor");
        assert_eq!(r.body["project"]["name"], "web");
        assert_eq!(r.body["user"]["id"], bob.id.as_str());
        assert_eq!(r.body["user"]["email"], bob.email.as_str());

        // Signing up by accepting an invitation signs the new user in.
        app.post(&format!("{base}/invitations"), &ada.token, json!({ "email": "dora@example.com", "roles": ["developer"] })).await.expect(201);
        let token = app.newest_token("dora@example.com", "/invitations/accept");
        let r = app.req(Method::POST, "/api/v1/invitations/accept", None, Some(json!({ "token": token, "name": "Dora", "password": PASSWORD }))).await.expect(201);
        assert_eq!(r.body["email"], "dora@example.com");
        let session = r.body["session"]["token"].as_str().expect("a session in the answer");
        assert!(r.body["session"]["expires_at"].as_str().is_some());
        let me = app.get("/api/v1/me", session).await.expect(200).body;
        assert_eq!(me["email"], "dora@example.com");
        let orgs = app.get("/api/v1/orgs", session).await.expect(200).body;
        assert!(orgs["items"].as_array().expect("items").iter().any(|o| o["slug"] == slug), "{orgs}");

        // Times in mails are to the minute.
        app.post(&format!("{base}/transfer"), &ada.token, json!({ "to": bob.email })).await.expect(201);
        let mails = app.wait_mails_to(&bob.email, 1).await;
        let offer = mails.iter().find(|m| m.contains("offers you ownership")).expect("the offer mail");
        let minute = regex_lite_minute(offer);
        assert!(minute, "a time like `2026-12-08 10:29 UTC` in {offer}");
        let expires = (app.clock.now() + Duration::days(7)).format("%Y-%m-%d %H:%M UTC").to_string();
        assert!(offer.contains(&expires), "{expires} in {offer}");
    }
);

/// Whether `text` holds a time printed to the minute (`YYYY-MM-DD HH:MM UTC`) and none with
/// seconds or fractions.
fn regex_lite_minute(text: &str) -> bool {
    let bytes = text.as_bytes();
    let at = |i: usize, pat: &str| {
        pat.bytes()
            .enumerate()
            .all(|(k, p)| match bytes.get(i + k) {
                Some(b) if p == b'9' => b.is_ascii_digit(),
                Some(b) => *b == p,
                None => false,
            })
    };
    let minute = (0..bytes.len()).any(|i| at(i, "9999-99-99 99:99 UTC"));
    let finer = (0..bytes.len()).any(|i| at(i, "9999-99-99 99:99:99"));
    minute && !finer
}
