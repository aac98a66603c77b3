//! Members: adding, role changes (R3, R6), removal, effective permissions.

use crate::both_stores;
use serde_json::json;

both_stores!(
    async fn adding_a_registered_user_gives_exactly_the_roles_asked(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let added = app.add(&ada, slug, &bob, &["developer", "billing"]).await.expect(201).body;
        assert_eq!(added["user"]["id"], bob.id.as_str());
        assert_eq!(added["roles"], json!(["developer", "billing"]));
        app.add(&ada, slug, &bob, &["member"]).await.expect_problem(409, "already_member");
        app.post(&format!("/api/v1/orgs/{slug}/members"), &ada.token, json!({ "email": "ghost@example.com", "roles": ["member"] }))
            .await
            .expect_problem(404, "user_not_found");
        let mine = app.get("/api/v1/orgs", &bob.token).await.expect(200).body;
        let acme = mine["items"].as_array().expect("items").iter().find(|o| o["slug"] == slug).expect("acme listed").clone();
        assert_eq!(acme["my_roles"], json!(["developer", "billing"]));
        assert_eq!(acme["owner"]["id"], ada.id.as_str());
    }
);

both_stores!(
    async fn r3_owner_is_never_given_taken_or_removed_by_member_changes(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &bob, &["admin"]).await.expect(201);
        app.add(&ada, slug, &app.user("Cy").await, &["owner"]).await.expect_problem(409, "owner_requires_transfer");
        app.set_roles(&ada, slug, &bob.id, &["owner"]).await.expect_problem(409, "owner_requires_transfer");
        app.set_roles(&bob, slug, &ada.id, &["admin"]).await.expect_problem(409, "owner_is_fixed");
        app.delete(&format!("/api/v1/orgs/{slug}/members/{}", ada.id), &bob.token).await.expect_problem(409, "owner_is_fixed");
        let owners: Vec<_> = app.members(&ada, slug).await.into_iter().filter(|(_, r)| r.contains(&"owner".to_owned())).collect();
        assert_eq!(owners, vec![(ada.id.clone(), vec!["owner".to_owned()])]);
    }
);

both_stores!(
    async fn r6_grants_are_bounded_by_the_granter(app) {
        let ada = app.user("Ada").await;
        let adm = app.user("Admin").await;
        let mgr = app.user("Manager").await;
        let dev = app.user("Dev").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &adm, &["admin"]).await.expect(201);
        app.add(&adm, slug, &mgr, &["manager"]).await.expect(201);
        // billing only by the owner; admin only by owner or admin.
        app.add(&adm, slug, &dev, &["billing"]).await.expect_problem(403, "role_not_grantable");
        app.add(&mgr, slug, &dev, &["admin"]).await.expect_problem(403, "role_not_grantable");
        app.add(&mgr, slug, &dev, &["developer"]).await.expect(201);
        // Nobody changes their own roles; a manager cannot demote an admin.
        app.set_roles(&mgr, slug, &mgr.id, &["admin"]).await.expect_problem(403, "cannot_change_own_roles");
        app.set_roles(&mgr, slug, &adm.id, &["member"]).await.expect_problem(403, "role_not_grantable");
        // Members without members.manage assign nothing.
        app.set_roles(&dev, slug, &mgr.id, &["member"]).await.expect_problem(403, "forbidden");
        let changed = app.set_roles(&adm, slug, &dev.id, &["developer", "manager"]).await.expect(200).body;
        assert_eq!(changed["roles"], json!(["developer", "manager"]));
        let log = app.audit(&ada, slug).await;
        assert_eq!(log[0]["action"], "member.roles_changed");
        assert_eq!(log[0]["data"], json!({ "before": ["developer"], "after": ["developer", "manager"] }));
    }
);

both_stores!(
    async fn removal_takes_every_role_and_is_audited(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &bob, &["developer"]).await.expect(201);
        app.delete(&format!("/api/v1/orgs/{slug}/members/{}", bob.id), &ada.token).await.expect(204);
        app.get(&format!("/api/v1/orgs/{slug}"), &bob.token).await.expect_problem(404, "org_not_found");
        app.delete(&format!("/api/v1/orgs/{slug}/members/{}", bob.id), &ada.token).await.expect_problem(404, "member_not_found");
        let log = app.audit(&ada, slug).await;
        assert_eq!(log[0]["action"], "member.removed");
        assert_eq!(log[0]["target"], json!({ "type": "member", "id": bob.id, "name": bob.email }));
    }
);

both_stores!(
    async fn effective_permissions_say_where_each_comes_from(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.post(&format!("/api/v1/orgs/{slug}/roles"), &ada.token, json!({ "name": "Auditors", "permissions": ["audit.read", "org.read"] }))
            .await
            .expect(201);
        app.add(&ada, slug, &bob, &["billing", "auditors"]).await.expect(201);
        let eff = app.get(&format!("/api/v1/orgs/{slug}/members/{}/permissions", bob.id), &bob.token).await.expect(200).body;
        let perms = eff["permissions"].as_array().expect("permissions");
        let names: Vec<&str> = perms.iter().map(|p| p["permission"].as_str().expect("name")).collect();
        assert_eq!(names, ["org.read", "billing.read", "billing.manage", "audit.read"]);
        assert_eq!(
            perms[0]["sources"],
            // The membership itself carries it (SPEC §3), then each role that does.
            json!([
                { "kind": "membership", "role": "member" },
                { "kind": "role", "role": "billing" },
                { "kind": "custom_role", "role": "Auditors" }
            ])
        );
        // Someone else's need members.read, which billing lacks.
        app.get(&format!("/api/v1/orgs/{slug}/members/{}/permissions", ada.id), &bob.token)
            .await
            .expect_problem(403, "forbidden");
    }
);
