//! The check API, `users/{user}/projects`, AuthZEN, and revisions across two processes.

use crate::both_stores;
use crate::common::{SERVICE_TOKEN, Store, TestClock, spawn_app, spawn_on, spawn_with_args};
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

both_stores!(
    async fn check_answers_from_the_index_at_a_revision(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let id = org["id"].as_str().expect("id");
        assert!(app.allowed(&ada.id, "org.delete", ("org", id)).await);
        assert!(!app.allowed(&bob.id, "org.read", ("org", id)).await);
        let before = app.check(json!({ "user": bob.id, "permission": "org.read", "org": id })).await.body["revision"].as_u64().expect("revision");
        app.add(&ada, id, &bob, &["billing"]).await.expect(201);
        let after = app.check(json!({ "user": bob.id, "permission": "billing.read", "org": id })).await.expect(200).body;
        assert_eq!(after["allowed"], true);
        assert!(after["revision"].as_u64().expect("revision") > before);
        // Unknown users, organizations and projects are simply not allowed.
        let nobody = "00000000-0000-0000-0000-000000000000";
        assert!(!app.allowed(nobody, "org.read", ("org", id)).await);
        assert!(!app.allowed(&ada.id, "org.read", ("org", nobody)).await);
        assert!(!app.allowed(&ada.id, "project.read", ("project", nobody)).await);
        // Bad questions are 400s.
        app.check(json!({ "user": ada.id, "permission": "org.fly", "org": id })).await.expect_problem(400, "validation_failed");
        app.check(json!({ "user": "ada", "permission": "org.read", "org": id })).await.expect_problem(400, "validation_failed");
        app.check(json!({ "user": ada.id, "permission": "project.read", "org": id })).await.expect_problem(400, "validation_failed");
        app.check(json!({ "user": ada.id, "permission": "org.read", "org": id, "at_least_revision": 1_000_000_000 })).await.expect_problem(400, "revision_ahead");
        // Only services ask.
        app.req(Method::POST, "/api/v1/check", Some(&ada.token), Some(json!({ "user": ada.id, "permission": "org.read", "org": id }))).await.expect_problem(401, "unauthenticated");
        app.req(Method::POST, "/api/v1/check", None, Some(json!({ "user": ada.id, "permission": "org.read", "org": id }))).await.expect(401);
    }
);

both_stores!(
    async fn batches_answer_in_order_and_refuse_more_than_1000(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let id = org["id"].as_str().expect("id");
        let checks: Vec<_> = ["org.read", "billing.read", "audit.read"]
            .iter()
            .map(|p| json!({ "user": ada.id, "permission": p, "org": id }))
            .chain([json!({ "user": "00000000-0000-0000-0000-000000000000", "permission": "org.read", "org": id })])
            .collect();
        let r = app.req(Method::POST, "/api/v1/check/batch", Some(SERVICE_TOKEN), Some(json!({ "checks": checks }))).await.expect(200).body;
        let allowed: Vec<bool> = r["results"].as_array().expect("results").iter().map(|d| d["allowed"].as_bool().expect("bool")).collect();
        assert_eq!(allowed, [true, true, true, false]);
        let many: Vec<_> = (0..1001).map(|_| json!({ "user": ada.id, "permission": "org.read", "org": id })).collect();
        app.req(Method::POST, "/api/v1/check/batch", Some(SERVICE_TOKEN), Some(json!({ "checks": many }))).await.expect_problem(400, "validation_failed");
        app.req(Method::POST, "/api/v1/check/batch", Some(SERVICE_TOKEN), Some(json!({ "checks": [{ "user": ada.id, "permission": "nope", "org": id }] }))).await.expect_problem(400, "validation_failed");
    }
);

both_stores!(
    async fn user_projects_lists_every_reachable_project_in_pages(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        for i in 0..7 {
            app.post(&format!("/api/v1/orgs/{slug}/projects"), &ada.token, json!({ "name": format!("p{i}") })).await.expect(201);
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/users/{}/projects?permission=project.delete&limit=3&cursor={c}", ada.id),
                None => format!("/api/v1/users/{}/projects?permission=project.delete&limit=3", ada.id),
            };
            let page = app.req(Method::GET, &path, Some(SERVICE_TOKEN), None).await.expect(200).body;
            seen.extend(page["items"].as_array().expect("items").iter().map(|p| p["name"].as_str().expect("name").to_owned()));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen, ["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);
        app.req(Method::GET, &format!("/api/v1/users/{}/projects?permission=org.read", ada.id), Some(SERVICE_TOKEN), None).await.expect_problem(400, "validation_failed");
    }
);

both_stores!(
    async fn authzen_evaluations_give_the_same_decisions(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let id = org["id"].as_str().expect("id");
        let subject = json!({ "type": "user", "id": ada.id });
        let one = app
            .req(Method::POST, "/access/v1/evaluation", Some(SERVICE_TOKEN), Some(json!({
                "subject": subject, "action": { "name": "org.transfer" }, "resource": { "type": "organization", "id": id }
            })))
            .await
            .expect(200)
            .body;
        assert_eq!(one["decision"], true);
        assert!(one["context"]["revision"].is_u64());
        let many = app
            .req(Method::POST, "/access/v1/evaluations", Some(SERVICE_TOKEN), Some(json!({
                "subject": subject,
                "resource": { "type": "organization", "id": id },
                "evaluations": [
                    { "action": { "name": "org.read" } },
                    { "action": { "name": "org.read" }, "subject": { "type": "user", "id": "00000000-0000-0000-0000-000000000000" } },
                    { "action": { "name": "audit.read" } }
                ]
            })))
            .await
            .expect(200)
            .body;
        let d: Vec<bool> = many["evaluations"].as_array().expect("evaluations").iter().map(|e| e["decision"].as_bool().expect("bool")).collect();
        assert_eq!(d, [true, false, true]);
        let discovery = app.req(Method::GET, "/.well-known/authzen-configuration", None, None).await.expect(200).body;
        assert!(discovery["access_evaluation_endpoint"].as_str().expect("url").ends_with("/access/v1/evaluation"));
    }
);

/// Two `serve` processes on one PostgreSQL: a change made through one is answered by the other
/// at once with `at_least_revision`, and within a bound without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_grant_through_one_instance_is_seen_by_another_on_postgres() {
    let app = spawn_app(Store::Postgres).await;
    let dir = tempfile::tempdir().expect("dir");
    let other = spawn_on(&app.database_url, dir.path()).await;
    let ask = |body: serde_json::Value| {
        app.client
            .post(format!("http://{other}/api/v1/check"))
            .bearer_auth(SERVICE_TOKEN)
            .json(&body)
            .send()
    };
    let ada = app.user("Ada").await;
    let bob = app.user("Bob").await;
    let org = app.org(&ada, "Acme").await;
    let id = org["id"].as_str().expect("id");
    // Grant through the first instance, then ask the second with the revision of a fresh answer
    // from the first: it must already know.
    app.add(&ada, id, &bob, &["manager"]).await.expect(201);
    let rev = app
        .check(json!({ "user": bob.id, "permission": "members.manage", "org": id }))
        .await
        .body["revision"]
        .as_u64()
        .expect("rev");
    let r: serde_json::Value = ask(json!({ "user": bob.id, "permission": "members.manage", "org": id, "at_least_revision": rev })).await.expect("sent").json().await.expect("json");
    assert_eq!(r["allowed"], true);
    assert!(r["revision"].as_u64().expect("rev") >= rev);

    // Revoke through the first; without a revision the second catches up by itself.
    let started = Instant::now();
    app.delete(&format!("/api/v1/orgs/{id}/members/{}", bob.id), &ada.token)
        .await
        .expect(204);
    loop {
        let r: serde_json::Value =
            ask(json!({ "user": bob.id, "permission": "members.manage", "org": id }))
                .await
                .expect("sent")
                .json()
                .await
                .expect("json");
        if r["allowed"] == false {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the other instance did not learn of the revocation"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// PostgreSQL's notifications carry a revocation to another instance by themselves: with the
/// safety-net poll set to an hour, the other instance still answers `false` within 2 s (the
/// bench measures the real delay: BENCHMARKS.md, "Freshness").
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revocation_reaches_another_instance_by_notification_alone() {
    let app = spawn_app(Store::Postgres).await;
    let dir = tempfile::tempdir().expect("dir");
    let clock = std::sync::Arc::new(TestClock::default());
    let other = spawn_with_args(
        &app.database_url,
        dir.path(),
        clock,
        &["--index-poll", "1h"],
    )
    .await;
    let ask = |body: serde_json::Value| {
        app.client
            .post(format!("http://{other}/api/v1/check"))
            .bearer_auth(SERVICE_TOKEN)
            .json(&body)
            .send()
    };
    let ada = app.user("Ada").await;
    let bob = app.user("Bob").await;
    let org = app.org(&ada, "Acme").await;
    let id = org["id"].as_str().expect("id");
    let allowed = |r: serde_json::Value| r["allowed"].as_bool().expect("allowed");
    for (step, wanted) in [("grant", true), ("revoke", false)] {
        match step {
            "grant" => app.add(&ada, id, &bob, &["manager"]).await.expect(201),
            _ => app
                .delete(&format!("/api/v1/orgs/{id}/members/{}", bob.id), &ada.token)
                .await
                .expect(204),
        };
        let started = Instant::now();
        loop {
            let r = ask(json!({ "user": bob.id, "permission": "members.manage", "org": id }))
                .await
                .expect("sent")
                .json()
                .await
                .expect("json");
            if allowed(r) == wanted {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(2),
                "the other instance missed the {step} notification"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

both_stores!(
    async fn api_tokens_with_the_check_capability_ask_only_where_their_owner_reads_members(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let acme = app.org(&ada, "Acme").await;
        let other = app.org(&bob, "Other").await;
        let (acme_id, other_id) = (acme["id"].as_str().expect("id"), other["id"].as_str().expect("id"));
        let token = |caps: serde_json::Value| {
            let app = &app;
            let ada = &ada;
            async move {
                app.post("/api/v1/tokens", &ada.token, json!({ "name": "svc", "capabilities": caps }))
                    .await
                    .expect(201)
                    .body["token"]
                    .as_str()
                    .expect("secret")
                    .to_owned()
            }
        };
        let checker = token(json!(["check"])).await;
        let plain = token(json!([])).await;
        let ask = |t: &str, org: &str| {
            let (t, body) = (t.to_owned(), json!({ "user": ada.id, "permission": "org.read", "org": org }));
            let app = &app;
            async move { app.req(Method::POST, "/api/v1/check", Some(&t), Some(body)).await }
        };
        assert_eq!(ask(&checker, acme_id).await.expect(200).body["allowed"], true);
        // Bob's organization is outside what Ada may see: it answers as if it did not exist.
        assert_eq!(ask(&checker, other_id).await.expect(200).body["allowed"], false);
        ask(&plain, acme_id).await.expect_problem(403, "check_capability_required");
        ask(&ada.token, acme_id).await.expect_problem(401, "unauthenticated");
        app.post("/api/v1/tokens", &ada.token, json!({ "name": "x", "capabilities": ["admin"] }))
            .await
            .expect_problem(400, "validation_failed");
        let listed = app.get("/api/v1/tokens", &ada.token).await.expect(200).body;
        assert!(listed["items"].as_array().expect("items").iter().any(|t| t["capabilities"] == json!(["check"])));
    }
);

both_stores!(
    async fn an_organization_is_named_by_id_or_slug_in_a_check(app) {
        let ada = app.user("Ada").await;
        let eve = app.user("Eve").await;
        let org = app.org(&ada, "Acme").await;
        let (id, slug) = (org["id"].as_str().expect("id"), org["slug"].as_str().expect("slug"));
        for target in [id.to_owned(), slug.to_owned(), slug.to_uppercase()] {
            let ask = |user: &str| json!({ "user": user, "permission": "members.manage", "org": target });
            assert_eq!(app.check(ask(&ada.id)).await.expect(200).body["allowed"], true, "{target}");
            assert_eq!(app.check(ask(&eve.id)).await.expect(200).body["allowed"], false, "{target}");
        }
        // A slug no organization has is answered as an unknown id is.
        let ghost = app.check(json!({ "user": ada.id, "permission": "org.read", "org": "no-such-org" })).await.expect(200).body;
        assert_eq!(ghost["allowed"], false);
        let bad = app
            .check(json!({ "user": ada.id, "permission": "org.read", "org": "not a slug!" }))
            .await
            .expect_problem(400, "validation_failed");
        assert_eq!(bad.body["errors"][0]["field"], "org");
        // In a batch too, slugs and ids mixed, answered in order.
        let checks = json!([
            { "user": ada.id, "permission": "org.delete", "org": slug },
            { "user": eve.id, "permission": "org.read", "org": slug },
            { "user": ada.id, "permission": "org.read", "org": id },
            { "user": ada.id, "permission": "org.read", "org": "no-such-org" }
        ]);
        let r = app.req(Method::POST, "/api/v1/check/batch", Some(SERVICE_TOKEN), Some(json!({ "checks": checks }))).await.expect(200).body;
        let allowed: Vec<bool> = r["results"].as_array().expect("results").iter().map(|d| d["allowed"].as_bool().expect("bool")).collect();
        assert_eq!(allowed, [true, false, true, false]);
    }
);
