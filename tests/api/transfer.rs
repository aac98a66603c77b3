//! Ownership transfer (R7): offer, accept, decline, cancel, expiry, and races.

use crate::both_stores;
use crate::common::{Store, spawn_app, spawn_on};
use reqwest::Method;
use serde_json::json;

both_stores!(
    async fn r7_an_accepted_offer_makes_the_admin_owner_and_the_owner_admin(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &bob, &["admin", "billing"]).await.expect(201);
        let t = format!("/api/v1/orgs/{slug}/transfer");
        let offer = app.post(&t, &ada.token, json!({ "to": bob.id })).await.expect(201).body;
        assert_eq!(offer["state"], "pending");
        assert_eq!(offer["to"]["id"], bob.id.as_str());
        app.post(&t, &ada.token, json!({ "to": bob.id })).await.expect_problem(409, "transfer_pending");
        assert_eq!(app.get(&t, &bob.token).await.expect(200).body["id"], offer["id"]);
        let mails = app.mails();
        assert!(mails.iter().any(|m| m.contains(&bob.email) && m.contains("ownership")), "{mails:?}");

        // Nothing changes until the receiver accepts.
        assert_eq!(app.get(&format!("/api/v1/orgs/{slug}"), &ada.token).await.expect(200).body["owner"]["id"], ada.id.as_str());
        app.req(Method::POST, &format!("{t}/accept"), Some(&ada.token), None).await.expect_problem(404, "transfer_not_found");
        app.req(Method::POST, &format!("{t}/accept"), Some(&bob.token), None).await.expect(204);

        let read = app.get(&format!("/api/v1/orgs/{slug}"), &ada.token).await.expect(200).body;
        assert_eq!(read["owner"]["id"], bob.id.as_str());
        assert_eq!(read["my_roles"], json!(["admin"]));
        let owners: Vec<_> = app.members(&bob, slug).await.into_iter().filter(|(_, r)| r.contains(&"owner".to_owned())).collect();
        assert_eq!(owners, vec![(bob.id.clone(), vec!["owner".to_owned()])]);
        assert_eq!(app.audit(&bob, slug).await[0]["action"], "transfer.accepted");
        app.get(&t, &bob.token).await.expect_problem(404, "transfer_not_found");
        // The new owner can now delete; the former owner cannot.
        app.delete(&format!("/api/v1/orgs/{slug}"), &ada.token).await.expect_problem(403, "forbidden");
        let mails = app.mails();
        assert!(mails.iter().filter(|m| m.contains("accepted")).count() >= 2);
    }
);

both_stores!(
    async fn r7_offers_go_only_from_the_owner_to_a_current_admin(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let cy = app.user("Cy").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &bob, &["admin"]).await.expect(201);
        app.add(&ada, slug, &cy, &["manager"]).await.expect(201);
        let t = format!("/api/v1/orgs/{slug}/transfer");
        app.post(&t, &ada.token, json!({ "to": cy.id })).await.expect_problem(409, "transfer_target_not_admin");
        app.post(&t, &bob.token, json!({ "to": bob.id })).await.expect_problem(403, "forbidden");
        app.post(&t, &ada.token, json!({ "to": "nobody" })).await.expect_problem(400, "validation_failed");
        let personal = app.get("/api/v1/orgs", &ada.token).await.expect(200).body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|o| o["personal"] == true)
            .expect("personal")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        app.post(&format!("/api/v1/orgs/{personal}/transfer"), &ada.token, json!({ "to": bob.id }))
            .await
            .expect_problem(409, "personal_org");
        // A receiver demoted after the offer cannot accept it.
        app.post(&t, &ada.token, json!({ "to": bob.id })).await.expect(201);
        app.set_roles(&ada, slug, &bob.id, &["member"]).await.expect(200);
        app.req(Method::POST, &format!("{t}/accept"), Some(&bob.token), None).await.expect_problem(409, "transfer_target_not_admin");
        // The owner cancels; then there is nothing to answer.
        app.delete(&t, &ada.token).await.expect(204);
        app.req(Method::POST, &format!("{t}/decline"), Some(&bob.token), None).await.expect_problem(404, "transfer_not_found");
    }
);

both_stores!(
    async fn r7_an_offer_lapses_after_seven_days_without_any_job(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &bob, &["admin"]).await.expect(201);
        let t = format!("/api/v1/orgs/{slug}/transfer");
        app.post(&t, &ada.token, json!({ "to": bob.id })).await.expect(201);
        app.clock.advance(chrono::Duration::days(6));
        assert_eq!(app.get(&t, &ada.token).await.expect(200).body["state"], "pending");
        app.clock.advance(chrono::Duration::days(2));
        // Sessions last 7 days too: sign in again.
        let relog = |email: String| {
            let app = &app;
            async move { app.sign_in(&email, crate::common::PASSWORD).await.expect(201).body["token"].as_str().expect("token").to_owned() }
        };
        let ada = crate::common::TestUser { token: relog(ada.email.clone()).await, ..ada };
        let bob = crate::common::TestUser { token: relog(bob.email.clone()).await, ..bob };
        assert_eq!(app.get(&t, &ada.token).await.expect(200).body["state"], "expired");
        app.req(Method::POST, &format!("{t}/accept"), Some(&bob.token), None).await.expect_problem(410, "transfer_expired");
        assert_eq!(app.get(&format!("/api/v1/orgs/{slug}"), &ada.token).await.expect(200).body["owner"]["id"], ada.id.as_str());
        // A lapsed offer makes room for a new one; declining it changes nothing either.
        app.post(&t, &ada.token, json!({ "to": bob.id })).await.expect(201);
        app.req(Method::POST, &format!("{t}/decline"), Some(&bob.token), None).await.expect(204);
        assert_eq!(app.audit(&ada, slug).await[0]["action"], "transfer.declined");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r3_r7_accept_racing_cancel_and_demotion_leaves_exactly_one_owner_on_postgres() {
    for round in 0..4 {
        let app = spawn_app(Store::Postgres).await;
        let dir = tempfile::tempdir().expect("dir");
        let second = spawn_on(&app.database_url, dir.path()).await;
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Race").await;
        let slug = org["slug"].as_str().expect("slug").to_owned();
        app.add(&ada, &slug, &bob, &["admin"]).await.expect(201);
        app.post(
            &format!("/api/v1/orgs/{slug}/transfer"),
            &ada.token,
            json!({ "to": bob.id }),
        )
        .await
        .expect(201);
        let base2 = format!("http://{second}");
        let accept = app
            .client
            .post(format!("{base2}/api/v1/orgs/{slug}/transfer/accept"))
            .bearer_auth(&bob.token);
        let rival = if round % 2 == 0 {
            app.client
                .delete(app.url(&format!("/api/v1/orgs/{slug}/transfer")))
                .bearer_auth(&ada.token)
        } else {
            app.client
                .patch(app.url(&format!("/api/v1/orgs/{slug}/members/{}", bob.id)))
                .bearer_auth(&ada.token)
                .json(&json!({ "roles": ["member"] }))
        };
        let (a, r) = tokio::join!(accept.send(), rival.send());
        let (a, r) = (
            a.expect("sent").status().as_u16(),
            r.expect("sent").status().as_u16(),
        );
        let members = app.members(if a == 204 { &bob } else { &ada }, &slug).await;
        let owners: Vec<_> = members
            .iter()
            .filter(|(_, roles)| roles.contains(&"owner".to_owned()))
            .collect();
        assert_eq!(
            owners.len(),
            1,
            "round {round}: accept {a}, rival {r}: {members:?}"
        );
        let expected_owner = if a == 204 { &bob.id } else { &ada.id };
        assert_eq!(
            &owners[0].0, expected_owner,
            "round {round}: accept {a}, rival {r}"
        );
    }
}

both_stores!(
    async fn r7_an_offer_names_its_receiver_by_id_or_email(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let carl = app.user("Carl").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &bob, &["admin"]).await.expect(201);
        app.add(&ada, slug, &carl, &["developer"]).await.expect(201);
        let t = format!("/api/v1/orgs/{slug}/transfer");
        // Neither an id nor an email: 400, naming the field.
        let bad = app.post(&t, &ada.token, json!({ "to": "bob" })).await.expect_problem(400, "validation_failed");
        assert_eq!(bad.body["errors"][0]["field"], "to");
        // An unknown email and a non-admin's email are refused alike.
        let unknown = app
            .post(&t, &ada.token, json!({ "to": "nobody@example.com" }))
            .await
            .expect_problem(409, "transfer_target_not_admin");
        let not_admin = app.post(&t, &ada.token, json!({ "to": carl.email })).await.expect_problem(409, "transfer_target_not_admin");
        assert_eq!(unknown.body, not_admin.body);
        app.get(&t, &ada.token).await.expect_problem(404, "transfer_not_found");
        // An admin's email, in any case.
        let offer = app
            .post(&t, &ada.token, json!({ "to": bob.email.to_uppercase() }))
            .await
            .expect(201)
            .body;
        assert_eq!(offer["to"]["id"], bob.id.as_str());
    }
);
