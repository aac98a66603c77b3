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
