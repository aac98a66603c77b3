//! Projects, groups and project roles: R4, R5, R6, R11, R12.

use crate::both_stores;
use crate::common::{TestApp, TestUser};
use reqwest::Method;
use serde_json::{Value, json};

async fn project(app: &TestApp, by: &TestUser, org: &str, name: &str) -> Value {
    app.post(
        &format!("/api/v1/orgs/{org}/projects"),
        &by.token,
        json!({ "name": name }),
    )
    .await
    .expect(201)
    .body
}

fn names(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect()
}

both_stores!(
    async fn r11_members_reach_projects_only_through_reach_groups_or_direct_roles(app) {
        let ada = app.user("Ada").await;
        let dev = app.user("Dev").await;
        let mem = app.user("Mem").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &dev, &["developer"]).await.expect(201);
        app.add(&ada, slug, &mem, &["member"]).await.expect(201);
        let web = project(&app, &ada, slug, "web").await;
        project(&app, &ada, slug, "api").await;
        let projects_path = format!("/api/v1/orgs/{slug}/projects");
        let list = |u: &'static str| app.get(&projects_path, u);
        assert_eq!(names(&list(leak(&dev)).await.expect(200).body), ["api", "web"]);
        assert!(names(&list(leak(&mem)).await.expect(200).body).is_empty());
        app.get(&format!("/api/v1/orgs/{slug}/projects/web"), &mem.token).await.expect_problem(404, "project_not_found");

        // A group opens `web` to the member; a direct role makes it stronger: the strongest wins.
        app.post(&format!("/api/v1/orgs/{slug}/groups"), &ada.token, json!({ "name": "Web team" })).await.expect(201);
        app.req(Method::PUT, &format!("/api/v1/orgs/{slug}/groups/web team/members/{}", mem.id), Some(&ada.token), None).await.expect(200);
        app.req(Method::PUT, &format!("/api/v1/orgs/{slug}/groups/Web team/projects/web"), Some(&ada.token), Some(json!({ "role": "viewer" }))).await.expect(200);
        let seen = list(leak(&mem)).await.expect(200).body;
        assert_eq!(names(&seen), ["web"]);
        assert_eq!(seen["items"][0]["my_role"], "viewer");
        let web_id = web["id"].as_str().expect("id");
        assert!(app.allowed(&mem.id, "project.read", ("project", web_id)).await);
        assert!(!app.allowed(&mem.id, "project.deploy", ("project", web_id)).await);
        app.req(Method::PUT, &format!("/api/v1/orgs/{slug}/projects/web/members/{}", mem.id), Some(&ada.token), Some(json!({ "role": "contributor" }))).await.expect(200);
        assert_eq!(app.get(&format!("/api/v1/orgs/{slug}/projects/web"), &mem.token).await.expect(200).body["my_role"], "contributor");
        assert!(app.allowed(&mem.id, "project.deploy", ("project", web_id)).await);

        let eff = app.get(&format!("/api/v1/orgs/{slug}/members/{}/permissions", mem.id), &mem.token).await.expect(200).body;
        assert_eq!(eff["projects"]["all"], Value::Null);
        let granted = &eff["projects"]["granted"][0];
        assert_eq!(granted["role"], "contributor");
        assert_eq!(granted["sources"], json!([{ "kind": "direct", "role": "contributor" }, { "kind": "group", "name": "Web team", "role": "viewer" }]));
        let dev_eff = app.get(&format!("/api/v1/orgs/{slug}/members/{}/permissions", dev.id), &dev.token).await.expect(200).body;
        assert_eq!(dev_eff["projects"]["all"]["role"], "contributor");

        let group = app.get(&format!("/api/v1/orgs/{slug}/groups/web team"), &ada.token).await.expect(200).body;
        assert_eq!(group["members"][0]["id"], mem.id.as_str());
        assert_eq!(group["projects"][0]["role"], "viewer");
        let members = app.get(&format!("/api/v1/orgs/{slug}/members"), &ada.token).await.expect(200).body;
        let m = members["items"].as_array().expect("items").iter().find(|m| m["user"]["id"] == mem.id.as_str()).expect("member").clone();
        assert_eq!(m["groups"], json!(["Web team"]));
    }
);

both_stores!(
    async fn r4_leaving_drops_group_places_and_project_roles_at_once(app) {
        let ada = app.user("Ada").await;
        let mem = app.user("Mem").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &mem, &["member"]).await.expect(201);
        let web = project(&app, &ada, slug, "web").await;
        let web_id = web["id"].as_str().expect("id");
        app.post(&format!("/api/v1/orgs/{slug}/groups"), &ada.token, json!({ "name": "ops" })).await.expect(201);
        app.req(Method::PUT, &format!("/api/v1/orgs/{slug}/groups/ops/members/{}", mem.id), Some(&ada.token), None).await.expect(200);
        app.req(Method::PUT, &format!("/api/v1/orgs/{slug}/groups/ops/projects/web"), Some(&ada.token), Some(json!({ "role": "admin" }))).await.expect(200);
        app.req(Method::PUT, &format!("/api/v1/orgs/{slug}/projects/web/members/{}", mem.id), Some(&ada.token), Some(json!({ "role": "viewer" }))).await.expect(200);
        assert!(app.allowed(&mem.id, "project.delete", ("project", web_id)).await);
        app.req(Method::POST, &format!("/api/v1/orgs/{slug}/leave"), Some(&mem.token), None).await.expect(204);
        assert!(!app.allowed(&mem.id, "project.read", ("project", web_id)).await);
        let group = app.get(&format!("/api/v1/orgs/{slug}/groups/ops"), &ada.token).await.expect(200).body;
        assert_eq!(group["members"], json!([]));
        // Coming back starts from nothing.
        app.add(&ada, slug, &mem, &["member"]).await.expect(201);
        assert!(!app.allowed(&mem.id, "project.read", ("project", web_id)).await);
    }
);

both_stores!(
    async fn r5_an_org_with_projects_is_not_deleted_and_the_answer_says_how_many(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        project(&app, &ada, slug, "one").await;
        project(&app, &ada, slug, "two").await;
        let r = app.delete(&format!("/api/v1/orgs/{slug}"), &ada.token).await.expect_problem(409, "org_has_projects");
        assert_eq!(r.body["projects"], 2);
        assert!(r.body["detail"].as_str().expect("detail").contains('2'));
        app.delete(&format!("/api/v1/orgs/{slug}/projects/one"), &ada.token).await.expect(204);
        app.delete(&format!("/api/v1/orgs/{slug}/projects/TWO"), &ada.token).await.expect(204);
        app.delete(&format!("/api/v1/orgs/{slug}"), &ada.token).await.expect(204);
    }
);

both_stores!(
    async fn r6_nobody_gives_a_project_role_above_their_own_on_that_project(app) {
        let ada = app.user("Ada").await;
        let lead = app.user("Lead").await;
        let mem = app.user("Mem").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.post(&format!("/api/v1/orgs/{slug}/roles"), &ada.token, json!({ "name": "groupers", "permissions": ["org.read", "groups.manage"] })).await.expect(201);
        app.add(&ada, slug, &lead, &["groupers"]).await.expect(201);
        app.add(&ada, slug, &mem, &["member"]).await.expect(201);
        project(&app, &ada, slug, "web").await;
        app.req(Method::PUT, &format!("/api/v1/orgs/{slug}/projects/web/members/{}", lead.id), Some(&ada.token), Some(json!({ "role": "contributor" }))).await.expect(200);
        app.post(&format!("/api/v1/orgs/{slug}/groups"), &lead.token, json!({ "name": "g" })).await.expect(201);
        let grant_path = format!("/api/v1/orgs/{slug}/groups/g/projects/web");
        let put = |role: &str| app.req(Method::PUT, &grant_path, Some(&lead.token), Some(json!({ "role": role })));
        put("admin").await.expect_problem(403, "role_not_grantable");
        put("contributor").await.expect(200);
        // A direct role needs projects.manage or admin on the project.
        app.req(Method::PUT, &format!("/api/v1/orgs/{slug}/projects/web/members/{}", mem.id), Some(&lead.token), Some(json!({ "role": "viewer" })))
            .await
            .expect_problem(403, "forbidden");
        // Group places carry the group's roles: the lead could give contributor, so may add.
        app.req(Method::PUT, &format!("/api/v1/orgs/{slug}/groups/g/members/{}", mem.id), Some(&lead.token), None).await.expect(200);
        app.req(Method::PUT, &format!("/api/v1/orgs/{slug}/groups/g/projects/web"), Some(&ada.token), Some(json!({ "role": "admin" }))).await.expect(200);
        app.req(Method::DELETE, &format!("/api/v1/orgs/{slug}/groups/g/members/{}", mem.id), Some(&lead.token), None).await.expect_problem(403, "role_not_grantable");
        let log = app.audit(&ada, slug).await;
        assert_eq!(log[0]["action"], "group.project_set");
    }
);

both_stores!(
    async fn projects_and_groups_refuse_bad_input_and_changes_nothing(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        project(&app, &ada, slug, "web").await;
        let before = app.audit(&ada, slug).await.len();
        let p = format!("/api/v1/orgs/{slug}/projects");
        app.post(&p, &ada.token, json!({ "name": "WEB" })).await.expect_problem(409, "project_name_taken");
        app.post(&p, &ada.token, json!({ "name": "" })).await.expect_problem(400, "validation_failed");
        app.post(&p, &ada.token, json!({ "name": "x".repeat(5000) })).await.expect_problem(400, "validation_failed");
        app.post(&p, &ada.token, json!({ "name": "x", "plan": "big" })).await.expect_problem(400, "validation_failed");
        app.req(Method::PUT, &format!("{p}/web/members/not-a-uuid"), Some(&ada.token), Some(json!({ "role": "viewer" }))).await.expect_problem(400, "validation_failed");
        app.req(Method::PUT, &format!("{p}/web/members/{}", ada.id), Some(&ada.token), Some(json!({ "role": "owner" }))).await.expect_problem(400, "validation_failed");
        app.get(&format!("{p}/%00"), &ada.token).await.expect_problem(404, "project_not_found");
        app.get(&format!("/api/v1/orgs/{slug}/groups/%00"), &ada.token).await.expect_problem(404, "group_not_found");
        assert_eq!(app.audit(&ada, slug).await.len(), before);
    }
);

/// A test user's token for the rest of the test (tests are short-lived processes).
fn leak(u: &TestUser) -> &'static str {
    Box::leak(u.token.clone().into_boxed_str())
}
