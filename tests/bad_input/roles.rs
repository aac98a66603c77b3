//! `/orgs/{org}/roles`: custom roles with bad names, unknown permissions, names of built-in
//! roles, taken names, and `{role}` paths that name nothing or a built-in role.

use crate::accounts::bad_names;
use crate::both_stores;
use crate::support::{Case, NIL, chars, run_cases, with, without, world};
use reqwest::Method;
use serde_json::{Value, json};

/// Role names the server must refuse (besides the general bad names): too long for a role,
/// characters outside letters, digits, spaces, `-`, `_` and `.`, and built-in roles' names.
fn bad_role_names() -> Vec<String> {
    let mut v: Vec<String> = bad_names().into_iter().map(|(_, n)| n).collect();
    v.extend(
        [
            "a/b",
            "<script>",
            "roles:manage",
            "x,y",
            "Admin",
            " owner ",
            "MEMBER",
            "billing",
            "Developer",
            "manager",
        ]
        .map(str::to_owned),
    );
    v.push(chars('r', 65));
    v
}

/// Permission lists the server must refuse, with the field it must name.
fn bad_permission_lists() -> Vec<(Value, &'static str)> {
    vec![
        (json!(["org.destroy"]), "permissions[0]"),
        (json!(["org.read", "projects.*"]), "permissions[1]"),
        (json!(["org.read", "ORG.READ"]), "permissions[1]"),
        (json!(["org.read "]), "permissions[0]"),
        (json!([""]), "permissions[0]"),
        (json!(["admin"]), "permissions[0]"),
        (json!(["project.read"]), "permissions[0]"),
        (json!([chars('p', 5_000)]), "permissions[0]"),
        (json!(vec!["org.read"; 51]), "permissions"),
    ]
}

fn mistyped_permission_lists() -> Vec<Value> {
    vec![
        json!("org.read"),
        json!([42]),
        json!([null]),
        json!({ "org.read": true }),
        json!([["org.read"]]),
    ]
}

both_stores!(
    async fn creating_a_role_refuses_bad_input_and_creates_nothing(app) {
        let w = world(&app).await;
        let base = json!({ "name": "Viewer", "permissions": ["org.read", "members.read"] });
        let mut cases = Vec::new();
        for org in [&w.acme.id, &w.acme.slug] {
            let path = format!("/api/v1/orgs/{org}/roles");
            let post = |body: Value| Case::json(Method::POST, path.clone(), body);
            cases.extend([
                post(without(&base, "name")).expect(400, "validation_failed"),
                post(without(&base, "permissions")).expect(400, "validation_failed"),
                post(json!({})).expect(400, "validation_failed"),
                post(with(&base, "name", Value::Null)).expect(400, "validation_failed"),
                post(with(&base, "name", json!(42))).expect(400, "validation_failed"),
                post(with(&base, "permissions", Value::Null)).expect(400, "validation_failed"),
                post(with(&base, "builtin", json!(false))).expect(400, "validation_failed"),
                post(with(&base, "id", json!(NIL))).expect(400, "validation_failed"),
                post(with(&base, "members", json!([w.member.id]))).expect(400, "validation_failed"),
                post(json!({ "name": "", "permissions": ["nope"] }))
                    .invalid("name")
                    .field("permissions[0]")
                    .labelled("every field wrong names every field"),
                // Unique per organization, case-insensitively and trimmed.
                post(with(&base, "name", json!("Auditor"))).expect(409, "role_name_taken"),
                post(with(&base, "name", json!("  release MANAGER "))).expect(409, "role_name_taken"),
            ]);
            for name in bad_role_names() {
                cases.push(post(with(&base, "name", json!(name))).invalid("name"));
            }
            for (perms, field) in bad_permission_lists() {
                cases.push(post(with(&base, "permissions", perms)).invalid(field));
            }
            for perms in mistyped_permission_lists() {
                cases.push(post(with(&base, "permissions", perms)).expect(400, "validation_failed"));
            }
        }
        run_cases(&app, Some(&w.owner.token), &w.watch(), &cases).await;
        app.post(&format!("/api/v1/orgs/{}/roles", w.acme.id), &w.owner.token, base).await.expect(201);
    }
);

both_stores!(
    async fn editing_a_role_refuses_bad_input_and_changes_nothing(app) {
        let w = world(&app).await;
        let mut cases = Vec::new();
        for org in [&w.acme.id, &w.acme.slug] {
            let path = format!("/api/v1/orgs/{org}/roles/Auditor");
            let patch = |body: Value| Case::json(Method::PATCH, path.clone(), body);
            cases.extend([
                patch(json!({})).invalid("name").labelled("nothing to change"),
                patch(json!({ "name": null, "permissions": null })).invalid("name"),
                patch(json!({ "name": 42 })).expect(400, "validation_failed"),
                patch(json!({ "builtin": true })).expect(400, "validation_failed"),
                patch(json!({ "name": "Inspector", "id": NIL })).expect(400, "validation_failed"),
                // Nothing is half-applied.
                patch(json!({ "name": "Inspector", "permissions": ["nope"] })).invalid("permissions[0]"),
                patch(json!({ "name": "Admin", "permissions": ["org.read"] })).invalid("name"),
                patch(json!({ "name": "Release Manager" })).expect(409, "role_name_taken"),
                patch(json!({ "name": "release manager", "permissions": ["org.read"] })).expect(409, "role_name_taken"),
            ]);
            for name in bad_role_names() {
                cases.push(patch(json!({ "name": name })).invalid("name"));
            }
            for (perms, field) in bad_permission_lists() {
                cases.push(patch(json!({ "permissions": perms })).invalid(field));
            }
            for perms in mistyped_permission_lists() {
                cases.push(patch(json!({ "permissions": perms })).expect(400, "validation_failed"));
            }
            // `{role}` that names nothing, or a built-in role.
            let body = json!({ "permissions": ["org.read"] });
            for role in ["no-such-role", NIL, "5b1c2c52-3d1e-4b8f-9a4e-6f2d7c9e0a11", "Auditor2", &chars('r', 5_000)] {
                let role_path = format!("/api/v1/orgs/{org}/roles/{role}");
                cases.push(Case::json(Method::PATCH, role_path.clone(), body.clone()).expect(404, "role_not_found"));
                cases.push(Case::delete(role_path).expect(404, "role_not_found"));
            }
            for role in ["admin", "OWNER", "member", "Billing"] {
                let role_path = format!("/api/v1/orgs/{org}/roles/{role}");
                cases.push(Case::json(Method::PATCH, role_path.clone(), body.clone()).expect(409, "builtin_role"));
                cases.push(Case::delete(role_path).expect(409, "builtin_role"));
            }
            // A role still held cannot be deleted.
            cases.push(Case::delete(format!("/api/v1/orgs/{org}/roles/Release%20Manager")).expect(409, "role_in_use"));
        }
        run_cases(&app, Some(&w.owner.token), &w.watch(), &cases).await;
        let path = format!("/api/v1/orgs/{}/roles/Auditor", w.acme.id);
        app.patch(&path, &w.owner.token, json!({ "name": "Inspector", "permissions": ["org.read"] })).await.expect(200);
    }
);
