//! The audit log (R13): one event per change, newest first, filters, stable cursors.

use crate::both_stores;
use serde_json::json;

both_stores!(
    async fn r13_every_change_is_recorded_newest_first_and_filters_apply(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &bob, &["manager"]).await.expect(201);
        let cy = app.user("Cy").await;
        app.add(&bob, slug, &cy, &["developer"]).await.expect(201);
        app.set_roles(&bob, slug, &cy.id, &["member"]).await.expect(200);
        app.patch(&format!("/api/v1/orgs/{slug}"), &ada.token, json!({ "name": crate::common::unique("Renamed") })).await.expect(200);

        let log = app.audit(&ada, slug).await;
        let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().expect("action")).collect();
        assert_eq!(actions, ["org.renamed", "member.roles_changed", "member.added", "member.added", "org.created"]);
        assert!(log.iter().all(|e| e["ip"] == "127.0.0.1"));

        let by_bob = app.get(&format!("/api/v1/orgs/{slug}/audit?actor={}", bob.id), &ada.token).await.expect(200).body;
        let items = by_bob["items"].as_array().expect("items");
        assert_eq!(items.len(), 2);
        assert!(items.iter().all(|e| e["actor"] == bob.id.as_str()));

        let added = app.get(&format!("/api/v1/orgs/{slug}/audit?action=member.added"), &ada.token).await.expect(200).body;
        assert_eq!(added["items"].as_array().expect("items").len(), 2);

        let newest = log[0]["at"].as_str().expect("at");
        let before_newest = app
            .get(&format!("/api/v1/orgs/{slug}/audit?until={}", urlencode(newest)), &ada.token)
            .await
            .expect(200)
            .body;
        assert_eq!(before_newest["items"].as_array().expect("items").len(), 4);
        let since_newest = app
            .get(&format!("/api/v1/orgs/{slug}/audit?since={}", urlencode(newest)), &ada.token)
            .await
            .expect(200)
            .body;
        assert_eq!(since_newest["items"].as_array().expect("items").len(), 1);

        // A member without audit.read does not read it.
        app.get(&format!("/api/v1/orgs/{slug}/audit"), &cy.token).await.expect_problem(403, "forbidden");
    }
);

both_stores!(
    async fn audit_cursors_stay_stable_while_events_are_added(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        for i in 0..5 {
            app.post(&format!("/api/v1/orgs/{slug}/roles"), &ada.token, json!({ "name": format!("r{i}"), "permissions": [] }))
                .await
                .expect(201);
        }
        let first = app.get(&format!("/api/v1/orgs/{slug}/audit?limit=2"), &ada.token).await.expect(200).body;
        let cursor = first["next_cursor"].as_str().expect("more pages").to_owned();
        app.post(&format!("/api/v1/orgs/{slug}/roles"), &ada.token, json!({ "name": "late", "permissions": [] }))
            .await
            .expect(201);
        let second = app.get(&format!("/api/v1/orgs/{slug}/audit?limit=2&cursor={cursor}"), &ada.token).await.expect(200).body;
        let names: Vec<&str> = first["items"]
            .as_array()
            .expect("items")
            .iter()
            .chain(second["items"].as_array().expect("items"))
            .map(|e| e["data"]["name"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(names, ["r4", "r3", "r2", "r1"]);
    }
);

fn urlencode(s: &str) -> String {
    s.replace(':', "%3A").replace('+', "%2B")
}

both_stores!(
    async fn audit_events_name_their_actor_and_target_even_once_they_are_gone(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &bob, &["admin"]).await.expect(201);
        let base = format!("/api/v1/orgs/{slug}");
        app.post(&format!("{base}/projects"), &bob.token, json!({ "name": "web" })).await.expect(201);
        app.post(&format!("{base}/groups"), &bob.token, json!({ "name": "ops" })).await.expect(201);
        app.req(reqwest::Method::PUT, &format!("{base}/groups/ops/projects/web"), Some(&bob.token), Some(json!({ "role": "viewer" }))).await.expect(200);
        app.req(reqwest::Method::PUT, &format!("{base}/projects/web/plan"), Some(&ada.token), Some(json!({ "tier": "pro" }))).await.expect(200);
        app.post(&format!("{base}/leave"), &bob.token, json!({})).await.expect(204);

        let log = app.audit(&ada, slug).await;
        let find = |action: &str| log.iter().find(|e| e["action"] == action).unwrap_or_else(|| panic!("{action} in {log:#?}"));
        for e in &log {
            assert_eq!(e["actor_kind"], "user", "{e}");
            let by_ada = e["actor"] == ada.id.as_str();
            let (email, name) = if by_ada { (&ada.email, &ada.name) } else { (&bob.email, &bob.name) };
            assert_eq!(e["actor_email"], email.as_str(), "{e}");
            assert_eq!(e["actor_name"], name.as_str(), "{e}");
        }
        // Bob has left: his events still say who he was, and what he touched by name.
        let left = find("member.left");
        assert_eq!(left["target"]["name"], bob.email.as_str());
        let added = find("member.added");
        assert_eq!(added["target"]["name"], bob.email.as_str());
        assert_eq!(find("project.created")["target"]["name"], "web");
        let set = find("group.project_set");
        assert_eq!(set["target"]["name"], "ops");
        assert_eq!(set["data"]["project_name"], "web");
        assert!(set["data"]["project"].as_str().is_some_and(|id| id.len() == 36), "{set}");
        let plan = find("plan.changed");
        assert_eq!(plan["target"]["name"], "web");
        assert_eq!(plan["data"]["project"], set["data"]["project"], "projects are named the same way everywhere");
        assert_eq!(find("org.created")["target"]["name"], org["name"]);

        // Filters: an email for the actor; an action's former name, or a family.
        let get = |q: String| {
            let app = &app;
            let t = ada.token.clone();
            let base = base.clone();
            async move { app.get(&format!("{base}/audit?{q}"), &t).await }
        };
        let by_bob = get(format!("actor={}", bob.email)).await.expect(200).body;
        let items = by_bob["items"].as_array().expect("items");
        assert_eq!(items.len(), 4, "{by_bob:#}");
        assert!(items.iter().all(|e| e["actor"] == bob.id.as_str()));
        assert_eq!(get("actor=nobody@example.com".into()).await.expect(200).body["items"], json!([]));
        let bad = get("actor=ada".into()).await.expect_problem(400, "validation_failed");
        assert_eq!(bad.body["errors"][0]["field"], "actor");
        let old = get("action=plan.change".into()).await.expect(200).body;
        assert_eq!(old["items"].as_array().expect("items").len(), 1);
        assert_eq!(old["items"][0]["action"], "plan.changed");
        let family = get("action=member.*".into()).await.expect(200).body;
        let actions: Vec<&str> = family["items"].as_array().expect("items").iter().map(|e| e["action"].as_str().expect("a")).collect();
        assert_eq!(actions, ["member.left", "member.added"]);
        let vague = get("action=plan".into()).await.expect_problem(400, "validation_failed");
        let reason = vague.body["errors"][0]["reason"].as_str().expect("reason");
        assert!(reason.contains("plan.changed") && reason.contains("plan.*"), "{reason}");

        // Times: a day is taken from its start; anything else names RFC 3339 with an example.
        let today = { use guildhall::clock::Clock as _; app.clock.now().date_naive() };
        let tomorrow = today + chrono::Duration::days(1);
        let from_today = get(format!("since={}", today - chrono::Duration::days(1))).await.expect(200).body;
        assert_eq!(from_today["items"].as_array().expect("items").len(), log.len());
        assert_eq!(get(format!("since={tomorrow}")).await.expect(200).body["items"], json!([]));
        for q in ["since=yesterday", "until=01/12/2026"] {
            let r = get(q.to_owned()).await.expect_problem(400, "validation_failed");
            let reason = r.body["errors"][0]["reason"].as_str().expect("reason");
            assert!(reason.contains("RFC 3339") && reason.contains("2026-12-01T09:30:00Z"), "{q}: {reason}");
        }
    }
);
