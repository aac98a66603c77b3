//! The role-change preview (`PATCH …/members/{user}?dry_run=true`, issue 16): what a change would
//! do, equal to what it then does, with nothing written; refused exactly as the change is. And
//! R14 for query strings: a parameter a route does not take is refused on every route, so an
//! older server never makes a change that was only meant to be previewed.

use crate::both_stores;
use crate::common::{TestApp, TestUser};
use serde_json::{Value, json};

/// The member's organization permissions and effective project roles, as the API explains them.
async fn effective(app: &TestApp, by: &TestUser, slug: &str, user: &str) -> (Vec<String>, Value) {
    let e = app
        .get(
            &format!("/api/v1/orgs/{slug}/members/{user}/permissions"),
            &by.token,
        )
        .await
        .expect(200)
        .body;
    let perms = e["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .map(|p| p["permission"].as_str().expect("name").to_owned())
        .collect();
    (perms, e["projects"].clone())
}

/// The effective role on `project` from an explanation's `projects`.
fn role_on(projects: &Value, project: &str) -> Value {
    let granted = projects["granted"].as_array().expect("granted");
    match granted.iter().find(|g| g["project"]["id"] == project) {
        Some(g) => g["role"].clone(),
        None => projects["all"]["role"].clone(),
    }
}

both_stores!(
    async fn a_preview_shows_what_the_change_then_does_and_changes_nothing(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &bob, &["member"]).await.expect(201);
        let mut projects = Vec::new();
        for name in ["api", "web", "docs"] {
            let p = app.post(&format!("/api/v1/orgs/{slug}/projects"), &ada.token, json!({ "name": name })).await.expect(201).body;
            projects.push(p["id"].as_str().expect("id").to_owned());
        }
        // Bob reaches `web` as admin directly.
        app.req(reqwest::Method::PUT, &format!("/api/v1/orgs/{slug}/projects/web/members/{}", bob.id), Some(&ada.token), Some(json!({ "role": "admin" })))
            .await
            .expect(200);
        let audit_before = app.audit(&ada, slug).await.len();
        let (perms_before, reach_before) = effective(&app, &ada, slug, &bob.id).await;

        let path = format!("/api/v1/orgs/{slug}/members/{}", bob.id);
        let preview = app.patch(&format!("{path}?dry_run=true"), &ada.token, json!({ "roles": ["developer"] })).await.expect(200).body;
        assert_eq!(preview["roles_added"], json!(["developer"]));
        assert_eq!(preview["roles_removed"], json!(["member"]));
        // Nothing changed, nothing was audited, and no revision was committed.
        assert_eq!(app.members(&ada, slug).await.into_iter().find(|m| m.0 == bob.id).expect("bob").1, ["member"]);
        assert_eq!(app.audit(&ada, slug).await.len(), audit_before);

        app.patch(&path, &ada.token, json!({ "roles": ["developer"] })).await.expect(200);
        let (perms_after, reach_after) = effective(&app, &ada, slug, &bob.id).await;
        let gained: Vec<&String> = perms_after.iter().filter(|p| !perms_before.contains(p)).collect();
        let lost: Vec<&String> = perms_before.iter().filter(|p| !perms_after.contains(p)).collect();
        assert_eq!(preview["permissions_gained"], json!(gained));
        assert_eq!(preview["permissions_lost"], json!(lost));
        let mut moved = Vec::new();
        for id in &projects {
            let (before, after) = (role_on(&reach_before, id), role_on(&reach_after, id));
            if before != after {
                moved.push(json!({ "before": before, "after": after, "id": id }));
            }
        }
        let previewed: Vec<Value> = preview["projects"].as_array().expect("projects").iter()
            .map(|c| json!({ "before": c["before"], "after": c["after"], "id": c["project"]["id"] }))
            .collect();
        assert_eq!(previewed, moved);
        assert!(!moved.is_empty(), "developer reaches projects a member does not");
        // `web` stays admin through the direct grant: it is not listed.
        assert!(previewed.iter().all(|c| c["id"] != projects[1].as_str()));
    }
);

both_stores!(
    async fn a_preview_is_refused_exactly_as_the_change_is(app) {
        let ada = app.user("Ada").await;
        let mia = app.user("Mia").await;
        let bob = app.user("Bob").await;
        let eve = app.user("Eve").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &mia, &["manager"]).await.expect(201);
        app.add(&ada, slug, &bob, &["member"]).await.expect(201);
        let cases: [(&TestUser, String, Value); 5] = [
            // R6: a manager cannot grant admin.
            (&mia, bob.id.clone(), json!({ "roles": ["admin"] })),
            // R3: the owner's roles are fixed.
            (&mia, ada.id.clone(), json!({ "roles": ["member"] })),
            // R12: a non-member sees no organization.
            (&eve, bob.id.clone(), json!({ "roles": ["developer"] })),
            // An unknown role.
            (&ada, bob.id.clone(), json!({ "roles": ["wizard"] })),
            // Nobody by that id.
            (&ada, uuid::Uuid::new_v4().to_string(), json!({ "roles": ["developer"] })),
        ];
        for (who, user, body) in cases {
            let path = format!("/api/v1/orgs/{slug}/members/{user}");
            let dry = app.patch(&format!("{path}?dry_run=true"), &who.token, body.clone()).await;
            let real = app.patch(&path, &who.token, body.clone()).await;
            assert!(dry.status.as_u16() >= 400, "{body} as {}: the preview was not refused", who.name);
            assert_eq!((dry.status, dry.code().to_owned()), (real.status, real.code().to_owned()), "{body} as {}", who.name);
        }
    }
);

both_stores!(
    async fn a_query_parameter_a_route_does_not_take_is_refused_and_changes_nothing(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        app.add(&ada, slug, &bob, &["member"]).await.expect(201);
        // A misspelt dry run must not make the change.
        let path = format!("/api/v1/orgs/{slug}/members/{}", bob.id);
        let refused = app.patch(&format!("{path}?dryrun=true"), &ada.token, json!({ "roles": ["admin"] })).await.expect_problem(400, "validation_failed");
        assert_eq!(refused.body["errors"][0]["field"], "dryrun");
        assert!(refused.body["errors"][0]["reason"].as_str().expect("reason").contains("dry_run"));
        assert_eq!(app.members(&ada, slug).await.into_iter().find(|m| m.0 == bob.id).expect("bob").1, ["member"]);
        // On routes without any query parameter, and on lists, alike.
        app.get("/api/v1/me?verbose=1", &ada.token).await.expect_problem(400, "validation_failed");
        app.get("/api/v1/orgs?q=Acme&sort=name", &ada.token).await.expect_problem(400, "validation_failed");
        app.post(&format!("/api/v1/orgs/{slug}/projects?dry_run=true"), &ada.token, json!({ "name": "api" })).await.expect_problem(400, "validation_failed");
        let projects = app.get(&format!("/api/v1/orgs/{slug}/projects"), &ada.token).await.expect(200).body;
        assert_eq!(projects["items"], json!([]));
        // What a route takes still works.
        app.get("/api/v1/orgs?q=Acme", &ada.token).await.expect(200);
        app.get(&format!("/api/v1/orgs/{slug}/members?limit=1"), &ada.token).await.expect(200);
    }
);

both_stores!(
    async fn a_role_edit_preview_counts_who_gains_and_loses_and_changes_nothing(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        let cy = app.user("Cy").await;
        let dee = app.user("Dee").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let roles = format!("/api/v1/orgs/{slug}/roles");
        app.post(&roles, &ada.token, json!({ "name": "auditor", "permissions": ["audit.read", "projects.read"] })).await.expect(201);
        // Bob holds only the role; Cy holds it beside `developer`, which keeps projects.read;
        // Dee does not hold it and is not counted.
        app.add(&ada, slug, &bob, &["auditor"]).await.expect(201);
        app.add(&ada, slug, &cy, &["auditor", "developer"]).await.expect(201);
        app.add(&ada, slug, &dee, &["member"]).await.expect(201);
        let audit_before = app.audit(&ada, slug).await.len();
        let edit = json!({ "permissions": ["audit.read", "billing.read"] });
        let preview = app.patch(&format!("{roles}/auditor?dry_run=true"), &ada.token, edit.clone()).await.expect(200).body;
        assert_eq!(preview["holders"], 2);
        let mut would: Vec<&str> = preview["role"]["permissions"].as_array().expect("perms").iter().map(|p| p.as_str().expect("name")).collect();
        would.sort_unstable();
        assert_eq!(would, ["audit.read", "billing.read"]);
        assert_eq!(preview["permissions_gained"], json!([{ "permission": "billing.read", "members": 2 }]));
        assert_eq!(preview["permissions_lost"], json!([{ "permission": "projects.read", "members": 1 }]));
        // Nothing changed and nothing was audited.
        let listed = app.get(&roles, &ada.token).await.expect(200).body;
        let auditor = listed["items"].as_array().expect("items").iter().find(|r| r["name"] == "auditor").expect("auditor").clone();
        let mut held: Vec<&str> = auditor["permissions"].as_array().expect("perms").iter().map(|p| p.as_str().expect("name")).collect();
        held.sort_unstable();
        assert_eq!(held, ["audit.read", "projects.read"]);
        assert_eq!(app.audit(&ada, slug).await.len(), audit_before);
        // The real edit then does what the preview said: Bob loses projects.read, Cy keeps it.
        app.patch(&format!("{roles}/auditor"), &ada.token, edit).await.expect(200);
        let (bob_perms, _) = effective(&app, &ada, slug, &bob.id).await;
        let (cy_perms, _) = effective(&app, &ada, slug, &cy.id).await;
        assert!(bob_perms.contains(&"billing.read".to_owned()) && !bob_perms.contains(&"projects.read".to_owned()));
        assert!(cy_perms.contains(&"billing.read".to_owned()) && cy_perms.contains(&"projects.read".to_owned()));
    }
);

both_stores!(
    async fn a_role_edit_preview_is_refused_exactly_as_the_edit(app) {
        let ada = app.user("Ada").await;
        let mia = app.user("Mia").await;
        let bob = app.user("Bob").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let roles = format!("/api/v1/orgs/{slug}/roles");
        app.post(&roles, &ada.token, json!({ "name": "auditor", "permissions": ["audit.read"] })).await.expect(201);
        app.post(&roles, &ada.token, json!({ "name": "viewer", "permissions": ["projects.read"] })).await.expect(201);
        app.add(&ada, slug, &mia, &["admin"]).await.expect(201);
        app.add(&ada, slug, &bob, &["auditor"]).await.expect(201);
        let audit_before = app.audit(&ada, slug).await.len();
        let cases = [
            // R6: an admin holds no billing permission.
            (&mia, "auditor", json!({ "permissions": ["audit.read", "billing.read"] })),
            // Never the owner's own.
            (&ada, "auditor", json!({ "permissions": ["org.delete"] })),
            // A taken name.
            (&ada, "auditor", json!({ "name": "viewer" })),
            // Built-in roles are fixed; a missing one is 404.
            (&ada, "admin", json!({ "permissions": ["audit.read"] })),
            (&ada, "nobody", json!({ "permissions": ["audit.read"] })),
            // A member without roles.manage.
            (&bob, "auditor", json!({ "permissions": ["audit.read"] })),
        ];
        for (who, role, body) in cases {
            let dry = app.patch(&format!("{roles}/{role}?dry_run=true"), &who.token, body.clone()).await;
            assert!(dry.status.as_u16() >= 400, "{body} on {role} as {}: the preview was not refused", who.name);
            let real = app.patch(&format!("{roles}/{role}"), &who.token, body.clone()).await;
            assert_eq!((dry.status, dry.code().to_owned()), (real.status, real.code().to_owned()), "{body} on {role} as {}", who.name);
        }
        assert_eq!(app.audit(&ada, slug).await.len(), audit_before);
    }
);
