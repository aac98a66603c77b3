//! Sign-up, sign-in, sessions, `me`, tokens.

use crate::both_stores;
use crate::common::PASSWORD;
use reqwest::Method;
use serde_json::json;

both_stores!(
    async fn r2_sign_up_creates_a_personal_org_owned_by_the_user(app) {
        let ada = app.user("Ada").await;
        let orgs = app.get("/api/v1/orgs", &ada.token).await.expect(200).body;
        let items = orgs["items"].as_array().expect("items");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["personal"], true);
        assert_eq!(items[0]["owner"]["id"], ada.id.as_str());
        assert_eq!(items[0]["my_roles"], json!(["owner"]));
        let me = app.get("/api/v1/me", &ada.token).await.expect(200).body;
        assert_eq!(me, json!({ "id": ada.id, "email": ada.email, "name": "Ada" }));
    }
);

both_stores!(
    async fn unknown_email_is_answered_exactly_as_a_wrong_password(app) {
        let ada = app.user("Ada").await;
        let wrong = app.sign_in(&ada.email, "not the password").await;
        let unknown = app.sign_in("nobody@example.com", "not the password").await;
        assert_eq!(wrong.status, 401);
        assert_eq!(wrong.status, unknown.status);
        assert_eq!(wrong.body, unknown.body);
        assert_eq!(wrong.code(), "invalid_credentials");
    }
);

both_stores!(
    async fn repeated_failed_sign_ins_get_429_with_retry_after(app) {
        let ada = app.user("Ada").await;
        for _ in 0..5 {
            app.sign_in(&ada.email, "wrong password").await.expect(401);
        }
        let limited = app.sign_in(&ada.email, PASSWORD).await.expect_problem(429, "too_many_attempts");
        let retry: u64 = limited.headers["retry-after"].to_str().expect("ascii").parse().expect("seconds");
        assert!(retry >= 1);
    }
);

both_stores!(
    async fn signing_out_ends_the_session(app) {
        let ada = app.user("Ada").await;
        app.delete("/api/v1/sessions/current", &ada.token).await.expect(204);
        app.get("/api/v1/me", &ada.token).await.expect_problem(401, "unauthenticated");
    }
);

both_stores!(
    async fn requests_without_a_valid_token_get_401(app) {
        let r = app.req(Method::GET, "/api/v1/orgs", None, None).await.expect_problem(401, "unauthenticated");
        assert_eq!(r.headers["www-authenticate"], "Bearer");
        app.req(Method::GET, "/api/v1/me", Some("gldh_ses_forged"), None).await.expect(401);
        app.req(Method::GET, "/api/v1/me", Some("gldh_pat_forged"), None).await.expect(401);
    }
);

both_stores!(
    async fn r6_tokens_carry_only_permissions_their_owner_holds(app) {
        let owner = app.user("Owner").await;
        let dev = app.user("Dev").await;
        let org = app.org(&owner, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&owner, slug, &dev, &["developer"]).await.expect(201);
        app.post("/api/v1/tokens", &dev.token, json!({ "name": "ci", "org": slug, "permissions": ["members.manage"] }))
            .await
            .expect_problem(403, "permission_not_held");
        let created = app
            .post("/api/v1/tokens", &dev.token, json!({ "name": "ci", "org": slug, "permissions": ["org.read", "members.read"] }))
            .await
            .expect(201)
            .body;
        let secret = created["token"].as_str().expect("secret");
        assert!(secret.starts_with("gldh_pat_"));
        // The secret is shown once: listings never carry it.
        let listed = app.get("/api/v1/tokens", &dev.token).await.expect(200).body;
        assert!(!listed.to_string().contains(secret));
        assert_eq!(listed["items"][0]["permissions"], json!(["org.read", "members.read"]));
        // The token reaches its organization only.
        app.get(&format!("/api/v1/orgs/{slug}/members"), secret).await.expect(200);
        let orgs = app.get("/api/v1/orgs", secret).await.expect(200).body;
        assert_eq!(orgs["items"].as_array().expect("items").len(), 1);
        // A token cannot mint tokens.
        app.post("/api/v1/tokens", secret, json!({ "name": "more" })).await.expect_problem(403, "session_required");
        // Revoked, it stops working at once.
        let id = created["id"].as_str().expect("id");
        app.delete(&format!("/api/v1/tokens/{id}"), &dev.token).await.expect(204);
        app.get("/api/v1/me", secret).await.expect(401);
    }
);

both_stores!(
    async fn r6_a_demotion_shrinks_every_token_at_once(app) {
        let owner = app.user("Owner").await;
        let mgr = app.user("Manager").await;
        let org = app.org(&owner, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&owner, slug, &mgr, &["manager"]).await.expect(201);
        let token = app.post("/api/v1/tokens", &mgr.token, json!({ "name": "t", "org": slug })).await.expect(201).body;
        let secret = token["token"].as_str().expect("secret");
        app.get(&format!("/api/v1/orgs/{slug}/audit"), secret).await.expect(200);
        app.set_roles(&owner, slug, &mgr.id, &["member"]).await.expect(200);
        app.get(&format!("/api/v1/orgs/{slug}/audit"), secret).await.expect_problem(403, "forbidden");
    }
);

both_stores!(
    async fn r2_three_hundred_sams_signing_up_at_once_each_get_a_personal_org(app) {
        // Issue 15: personal organizations were named by probing `Sam (personal)`, `… 2`, …
        // up to 1,000, and on PostgreSQL two Sams at once could both pick the same free name.
        // Every sign-up here uses the name `Sam` and an email whose local part is `sam`.
        const SAMS: usize = 300;
        let run = crate::common::unique("sams");
        let mut signing_up = tokio::task::JoinSet::new();
        let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
        for i in 0..SAMS {
            let (client, url, gate) = (app.client.clone(), app.url("/api/v1/users"), gate.clone());
            let email = format!("sam@{run}-{i}.example.com");
            signing_up.spawn(async move {
                let _turn = gate.acquire_owned().await.expect("gate");
                let r = client.post(url).json(&json!({ "email": email, "password": PASSWORD, "name": "Sam" })).send().await.expect("sent");
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().await.expect("json");
                assert_eq!(status, 201, "sign-up {i}: {body:#}");
                body["id"].as_str().expect("id").parse::<uuid::Uuid>().expect("uuid")
            });
        }
        let ids = signing_up.join_all().await;
        assert_eq!(ids.len(), SAMS);

        let store = guildhall::store::open(&app.database_url).await.expect("store");
        let mut tx = store.read().await.expect("read");
        let (mut names, mut slugs) = (std::collections::HashSet::new(), std::collections::HashSet::new());
        for id in ids {
            let orgs = tx.orgs_of(guildhall::domain::ids::UserId(id), None, None, 10).await.expect("orgs");
            assert_eq!(orgs.len(), 1, "{id}: one organization, the personal one");
            let org = &orgs[0].0.org;
            assert!(org.personal);
            assert!(org.name == "Sam (personal)" || org.name.starts_with("Sam (personal, "), "{}", org.name);
            assert!(org.slug == "sam" || org.slug.starts_with("sam-"), "{}", org.slug);
            assert!(names.insert(org.name.to_lowercase()), "{} twice", org.name);
            assert!(slugs.insert(org.slug.clone()), "{} twice", org.slug);
        }
        assert!(names.contains("sam (personal)") && slugs.contains("sam"));
    }
);
