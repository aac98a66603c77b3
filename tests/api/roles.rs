//! Custom roles: create, edit, delete; what members holding them may do.

use crate::both_stores;
use serde_json::json;

both_stores!(
    async fn custom_roles_grant_their_permissions_and_edits_apply_to_holders(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let role = app
            .post(&format!("/api/v1/orgs/{slug}/roles"), &ada.token, json!({ "name": "Auditors", "permissions": ["org.read"] }))
            .await
            .expect(201)
            .body;
        app.add(&ada, slug, &bob, &["Auditors"]).await.expect(201);
        app.get(&format!("/api/v1/orgs/{slug}/audit"), &bob.token).await.expect_problem(403, "forbidden");
        let id = role["id"].as_str().expect("id");
        app.patch(&format!("/api/v1/orgs/{slug}/roles/{id}"), &ada.token, json!({ "permissions": ["org.read", "audit.read"] }))
            .await
            .expect(200);
        app.get(&format!("/api/v1/orgs/{slug}/audit"), &bob.token).await.expect(200);
        let listed = app.get(&format!("/api/v1/orgs/{slug}/roles"), &bob.token).await.expect(200).body;
        let names: Vec<&str> = listed["items"].as_array().expect("items").iter().map(|r| r["name"].as_str().expect("name")).collect();
        assert_eq!(names, ["owner", "admin", "manager", "developer", "billing", "member", "Auditors"]);
    }
);

both_stores!(
    async fn custom_role_names_and_permissions_are_checked(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let path = format!("/api/v1/orgs/{slug}/roles");
        app.post(&path, &ada.token, json!({ "name": "Plans", "permissions": ["plans.manage"] })).await.expect(201);
        app.post(&path, &ada.token, json!({ "name": "PLANS", "permissions": [] })).await.expect_problem(409, "role_name_taken");
        app.post(&path, &ada.token, json!({ "name": "Admin", "permissions": [] })).await.expect_problem(400, "validation_failed");
        let r = app.post(&path, &ada.token, json!({ "name": "Deleters", "permissions": ["org.delete"] })).await.expect_problem(400, "validation_failed");
        assert_eq!(r.body["errors"][0]["field"], "permissions");
        app.patch(&format!("{path}/admin"), &ada.token, json!({ "name": "x" })).await.expect_problem(409, "builtin_role");
        app.patch(&format!("{path}/nope"), &ada.token, json!({ "name": "x" })).await.expect_problem(404, "role_not_found");
    }
);

both_stores!(
    async fn r6_an_admin_cannot_put_billing_into_a_custom_role(app) {
        let ada = app.user("Ada").await;
        let adm = app.user("Admin").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &adm, &["admin"]).await.expect(201);
        let r = app
            .post(&format!("/api/v1/orgs/{slug}/roles"), &adm.token, json!({ "name": "Money", "permissions": ["billing.read"] }))
            .await
            .expect_problem(403, "permission_not_held");
        assert!(r.body["detail"].as_str().expect("detail").contains("`billing.read`"));
    }
);

both_stores!(
    async fn a_role_still_held_is_not_deleted(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.post(&format!("/api/v1/orgs/{slug}/roles"), &ada.token, json!({ "name": "Ops", "permissions": ["projects.deploy"] }))
            .await
            .expect(201);
        app.add(&ada, slug, &bob, &["member", "ops"]).await.expect(201);
        let refused = app.delete(&format!("/api/v1/orgs/{slug}/roles/ops"), &ada.token).await.expect_problem(409, "role_in_use");
        assert_eq!(refused.body["members"], 1);
        app.set_roles(&ada, slug, &bob.id, &["member"]).await.expect(200);
        app.delete(&format!("/api/v1/orgs/{slug}/roles/Ops"), &ada.token).await.expect(204);
        let log = app.audit(&ada, slug).await;
        assert_eq!(log[0]["action"], "role.deleted");
    }
);

both_stores!(
    async fn every_membership_carries_org_read_whatever_its_roles(app) {
        let ada = app.user("Ada").await;
        let carl = app.user("Carl").await;
        let org = app.org(&ada, "Ledger").await;
        let slug = org["slug"].as_str().expect("slug");
        app.post(
            &format!("/api/v1/orgs/{slug}/roles"),
            &ada.token,
            json!({ "name": "accounting", "permissions": ["billing.read", "billing.manage"] }),
        )
        .await
        .expect(201);
        app.add(&ada, slug, &carl, &["accounting"]).await.expect(201);
        // Listed among Carl's organizations, and readable by him.
        let mine = app.get("/api/v1/orgs", &carl.token).await.expect(200).body;
        assert!(mine["items"].as_array().expect("items").iter().any(|o| o["slug"] == slug));
        let read = app.get(&format!("/api/v1/orgs/{slug}"), &carl.token).await.expect(200).body;
        assert_eq!(read["slug"], slug);
        // The effective permissions say where it comes from.
        let eff = app
            .get(&format!("/api/v1/orgs/{slug}/members/{}/permissions", carl.id), &carl.token)
            .await
            .expect(200)
            .body;
        let perms = eff["permissions"].as_array().expect("permissions");
        let org_read = perms.iter().find(|g| g["permission"] == "org.read").expect("org.read held");
        assert_eq!(org_read["sources"], json!([{ "kind": "membership", "role": "member" }]));
        // The check API agrees.
        let allowed = app
            .check(json!({ "user": carl.id, "permission": "org.read", "org": org["id"] }))
            .await
            .expect(200)
            .body;
        assert_eq!(allowed["allowed"], true);
        // Still nothing more: members stay hidden from him.
        app.get(&format!("/api/v1/orgs/{slug}/members"), &carl.token).await.expect_problem(403, "forbidden");
    }
);
