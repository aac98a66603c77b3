//! Organizations: R1 names and slugs, R4 leaving, R5 deletion, R12 invisibility, listings.

use crate::both_stores;
use serde_json::json;

both_stores!(
    async fn r1_names_are_unique_trimmed_and_case_insensitive(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Ärger").await;
        let name = org["name"].as_str().expect("name");
        let again = app
            .post("/api/v1/orgs", &bob.token, json!({ "name": format!("  {}  ", name.to_uppercase()) }))
            .await
            .expect_problem(409, "name_taken");
        assert!(again.body["detail"].as_str().expect("detail").contains("is taken"));
        app.post("/api/v1/orgs", &bob.token, json!({ "name": "Another", "slug": org["slug"] }))
            .await
            .expect_problem(409, "slug_taken");
        // Bob's refused attempts left him in his personal organization only.
        let mine = app.get("/api/v1/orgs", &bob.token).await.expect(200).body;
        assert_eq!(mine["items"].as_array().expect("items").len(), 1);
    }
);

both_stores!(
    async fn renaming_and_reslugging_are_checked_and_audited(app) {
        let ada = app.user("Ada").await;
        let a = app.org(&ada, "Alpha").await;
        let b = app.org(&ada, "Beta").await;
        let id = a["id"].as_str().expect("id");
        app.patch(&format!("/api/v1/orgs/{id}"), &ada.token, json!({ "name": b["name"] }))
            .await
            .expect_problem(409, "name_taken");
        // Changing only the case of one's own name is not a clash with oneself.
        let upper = a["name"].as_str().expect("name").to_uppercase();
        let renamed = app
            .patch(&format!("/api/v1/orgs/{id}"), &ada.token, json!({ "name": upper, "slug": "alpha-renamed" }))
            .await
            .expect(200)
            .body;
        assert_eq!(renamed["name"], upper.as_str());
        assert_eq!(renamed["slug"], "alpha-renamed");
        app.get("/api/v1/orgs/alpha-renamed", &ada.token).await.expect(200);
        let log = app.audit(&ada, id).await;
        let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().expect("action")).collect();
        assert_eq!(actions, ["org.slug_changed", "org.renamed", "org.created"]);
        assert_eq!(log[1]["data"]["after"], upper.as_str());
    }
);

both_stores!(
    async fn r12_non_members_get_404_never_403(app) {
        let ada = app.user("Ada").await;
        let eve = app.user("Eve").await;
        let org = app.org(&ada, "Secret").await;
        let missing = app.get("/api/v1/orgs/no-such-org", &eve.token).await.expect_problem(404, "org_not_found");
        for r in [org["id"].as_str().expect("id"), org["slug"].as_str().expect("slug")] {
            let got = app.get(&format!("/api/v1/orgs/{r}"), &eve.token).await.expect_problem(404, "org_not_found");
            assert_eq!(got.body, missing.body);
            app.get(&format!("/api/v1/orgs/{r}/members"), &eve.token).await.expect_problem(404, "org_not_found");
            app.delete(&format!("/api/v1/orgs/{r}"), &eve.token).await.expect_problem(404, "org_not_found");
        }
    }
);

both_stores!(
    async fn r4_the_owner_cannot_leave_and_others_leave_with_everything(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &bob, &["developer", "billing"]).await.expect(201);
        app.post(&format!("/api/v1/orgs/{slug}/leave"), &ada.token, json!({}))
            .await
            .expect_problem(409, "owner_cannot_leave");
        app.req(reqwest::Method::POST, &format!("/api/v1/orgs/{slug}/leave"), Some(&bob.token), None).await.expect(204);
        assert_eq!(app.members(&ada, slug).await, vec![(ada.id.clone(), vec!["owner".to_owned()])]);
        app.get(&format!("/api/v1/orgs/{slug}"), &bob.token).await.expect_problem(404, "org_not_found");
        let log = app.audit(&ada, slug).await;
        assert_eq!(log[0]["action"], "member.left");
        assert_eq!(log[0]["actor"], bob.id.as_str());
    }
);

both_stores!(
    async fn r5_only_the_owner_deletes_and_never_a_personal_org(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Doomed").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &bob, &["admin"]).await.expect(201);
        app.delete(&format!("/api/v1/orgs/{slug}"), &bob.token).await.expect_problem(403, "forbidden");
        let personal = app.get("/api/v1/orgs", &ada.token).await.expect(200).body["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|o| o["personal"] == true)
            .expect("personal org")
            .clone();
        app.delete(&format!("/api/v1/orgs/{}", personal["id"].as_str().expect("id")), &ada.token)
            .await
            .expect_problem(409, "personal_org");
        app.delete(&format!("/api/v1/orgs/{slug}"), &ada.token).await.expect(204);
        app.get(&format!("/api/v1/orgs/{slug}"), &ada.token).await.expect_problem(404, "org_not_found");
        app.get(&format!("/api/v1/orgs/{slug}"), &bob.token).await.expect_problem(404, "org_not_found");
        // The name is free again.
        app.post("/api/v1/orgs", &bob.token, json!({ "name": org["name"] })).await.expect(201);
    }
);

both_stores!(
    async fn my_org_listing_filters_by_name_and_pages_without_gaps(app) {
        let ada = app.user("Ada").await;
        for i in 0..7 {
            app.post("/api/v1/orgs", &ada.token, json!({ "name": format!("{} Cloud {i}", crate::common::unique("List")) }))
                .await
                .expect(201);
        }
        let filtered = app.get("/api/v1/orgs?q=cLoUd", &ada.token).await.expect(200).body;
        assert_eq!(filtered["items"].as_array().expect("items").len(), 7);
        // `%` and `_` are literal in `q`, not wildcards.
        let literal = app.get("/api/v1/orgs?q=%25", &ada.token).await.expect(200).body;
        assert_eq!(literal["items"].as_array().expect("items").len(), 0);

        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/orgs?limit=3&cursor={c}"),
                None => "/api/v1/orgs?limit=3".to_owned(),
            };
            let page = app.get(&path, &ada.token).await.expect(200).body;
            let items = page["items"].as_array().expect("items");
            assert!(items.len() <= 3);
            seen.extend(items.iter().map(|o| o["name"].as_str().expect("name").to_lowercase()));
            // A row added mid-way sorts after the cursor and must not disturb what is already seen.
            if cursor.is_none() {
                app.post("/api/v1/orgs", &ada.token, json!({ "name": "zzz added later" })).await.expect(201);
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(seen, sorted, "pages overlap or are out of order");
        assert_eq!(seen.len(), 9);
    }
);

both_stores!(
    async fn slugs_transliterate_names_in_any_script(app) {
        let ada = app.user("Ada").await;
        for (name, slug) in [
            ("Société Générale Cloud", "societe-generale-cloud"),
            ("Łódź Straße", "lodz-strasse"),
            ("Москва Облако", "moskva-oblako"),
        ] {
            let org = app.post("/api/v1/orgs", &ada.token, json!({ "name": name })).await.expect(201).body;
            assert_eq!(org["slug"], slug, "{name}");
            app.get(&format!("/api/v1/orgs/{slug}"), &ada.token).await.expect(200);
        }
        // Another script still gives letters, never a string of dashes.
        let tokyo = app.post("/api/v1/orgs", &ada.token, json!({ "name": "東京クラウド" })).await.expect(201).body;
        let slug = tokyo["slug"].as_str().expect("slug");
        assert!(slug.chars().filter(char::is_ascii_alphanumeric).count() >= 3, "{slug}");
        // A taken transliteration gets a suffix, as an ASCII name does.
        let again = app.post("/api/v1/orgs", &ada.token, json!({ "name": "Societe Generale Cloud" })).await.expect(201).body;
        assert_ne!(again["slug"], "societe-generale-cloud");
        assert!(again["slug"].as_str().expect("slug").starts_with("societe-generale-cloud-"));
    }
);
