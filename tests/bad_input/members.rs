//! `/orgs/{org}/members`: adding with bad emails and roles, changing roles to unknown ones,
//! removing and reading permissions of users that are not ids or not members, and listing with
//! bad limits and cursors.

use crate::accounts::bad_emails;
use crate::both_stores;
use crate::orgs::{bad_limits, garbage_cursors};
use crate::support::{Case, NIL, chars, run_cases, with, without, world};
use reqwest::Method;
use serde_json::{Value, json};

/// Role lists the server must refuse, with the field it must name.
fn bad_role_lists() -> Vec<(Value, &'static str)> {
    vec![
        (json!([]), "roles"),
        (json!(["superuser"]), "roles[0]"),
        (json!(["member", "nope"]), "roles[1]"),
        (json!([""]), "roles[0]"),
        (json!(["   "]), "roles[0]"),
        (json!([chars('r', 5_000)]), "roles[0]"),
        (json!(vec!["member"; 51]), "roles"),
        (json!(["members.read"]), "roles[0]"),
        (json!(["Auditor/x"]), "roles[0]"),
        (json!(["auditor\u{0}"]), "roles[0]"),
    ]
}

/// Role lists of the wrong type.
fn mistyped_role_lists() -> Vec<Value> {
    vec![
        Value::Null,
        json!("member"),
        json!([42]),
        json!([null]),
        json!([["member"]]),
        json!({ "member": true }),
    ]
}

/// Paths of `{user}` that are not ids, and ids that are not members, with what each must get.
fn bad_users(w: &crate::support::World) -> Vec<(String, u16, &'static str)> {
    vec![
        ("not-a-uuid".into(), 400, "validation_failed"),
        ("12345".into(), 400, "validation_failed"),
        (w.member.email.clone(), 400, "validation_failed"),
        (NIL[..35].to_owned(), 400, "validation_failed"),
        (chars('9', 5_000), 400, "validation_failed"),
        (NIL.into(), 404, "member_not_found"),
        (
            "5b1c2c52-3d1e-4b8f-9a4e-6f2d7c9e0a11".into(),
            404,
            "member_not_found",
        ),
        (w.outsider.id.clone(), 404, "member_not_found"),
    ]
}

both_stores!(
    async fn adding_a_member_refuses_bad_input_and_adds_nobody(app) {
        let w = world(&app).await;
        let base = json!({ "email": w.outsider.email, "roles": ["member"] });
        let mut cases = Vec::new();
        for org in [&w.acme.id, &w.acme.slug] {
            let path = format!("/api/v1/orgs/{org}/members");
            let post = |body: Value| Case::json(Method::POST, path.clone(), body);
            cases.extend([
                post(without(&base, "email")).expect(400, "validation_failed"),
                post(without(&base, "roles")).expect(400, "validation_failed"),
                post(json!({})).expect(400, "validation_failed"),
                post(with(&base, "email", Value::Null)).expect(400, "validation_failed"),
                post(with(&base, "email", json!(42))).expect(400, "validation_failed"),
                post(with(&base, "email", json!([w.outsider.email]))).expect(400, "validation_failed"),
                post(with(&base, "register", json!("yes"))).expect(400, "validation_failed"),
                post(with(&base, "register", json!(1))).expect(400, "validation_failed"),
                post(with(&base, "role", json!("member"))).expect(400, "validation_failed"),
                post(with(&base, "user", json!(w.outsider.id))).expect(400, "validation_failed"),
                post(with(&base, "groups", json!([]))).expect(400, "validation_failed"),
                post(json!({ "email": "nope", "roles": [] }))
                    .invalid("email")
                    .field("roles")
                    .labelled("every field wrong names every field"),
                // Someone who is not registered, or is already a member.
                post(with(&base, "email", json!("nobody@example.com"))).expect(404, "user_not_found"),
                post(with(&base, "email", json!(w.member.email))).expect(409, "already_member"),
                post(with(&base, "email", json!(w.member.email.to_uppercase()))).expect(409, "already_member"),
                post(with(&base, "email", json!(w.owner.email))).expect(409, "already_member"),
            ]);
            for e in bad_emails() {
                cases.push(post(with(&base, "email", json!(e))).invalid("email"));
            }
            for (roles, field) in bad_role_lists() {
                cases.push(post(with(&base, "roles", roles)).invalid(field));
            }
            for roles in mistyped_role_lists() {
                cases.push(post(with(&base, "roles", roles)).expect(400, "validation_failed"));
            }
        }
        run_cases(&app, Some(&w.owner.token), &w.watch(), &cases).await;
        // Otto could have been added all along.
        app.post(&format!("/api/v1/orgs/{}/members", w.acme.id), &w.owner.token, base).await.expect(201);
    }
);

both_stores!(
    async fn changing_roles_refuses_bad_input_and_changes_nothing(app) {
        let w = world(&app).await;
        let mut cases = Vec::new();
        for org in [&w.acme.id, &w.acme.slug] {
            let member = format!("/api/v1/orgs/{org}/members/{}", w.member.id);
            let patch = |body: Value| Case::json(Method::PATCH, member.clone(), body);
            cases.extend([
                patch(json!({})).expect(400, "validation_failed"),
                patch(json!({ "roles": ["manager"], "name": "Mia" })).expect(400, "validation_failed"),
                patch(json!({ "roles": ["manager"], "user": w.owner.id })).expect(400, "validation_failed"),
                patch(json!({ "add": ["manager"] })).expect(400, "validation_failed"),
                // Nothing is half-applied: a known role next to an unknown one changes nothing.
                patch(json!({ "roles": ["manager", "Auditor", "nope"] })).invalid("roles[2]"),
                // R3: `owner` comes only from a transfer.
                patch(json!({ "roles": ["owner"] })).expect(409, "owner_requires_transfer"),
            ]);
            for (roles, field) in bad_role_lists() {
                cases.push(patch(json!({ "roles": roles })).invalid(field));
            }
            for roles in mistyped_role_lists() {
                cases.push(patch(json!({ "roles": roles })).expect(400, "validation_failed"));
            }
            for (user, status, code) in bad_users(&w) {
                let path = format!("/api/v1/orgs/{org}/members/{user}");
                let c = Case::json(Method::PATCH, path, json!({ "roles": ["member"] }));
                cases.push(if status == 400 { c.invalid("user") } else { c.expect(status, code) });
            }
        }
        run_cases(&app, Some(&w.owner.token), &w.watch(), &cases).await;
        let member = format!("/api/v1/orgs/{}/members/{}", w.acme.id, w.member.id);
        app.patch(&member, &w.owner.token, json!({ "roles": ["manager", "Auditor"] })).await.expect(200);
    }
);

both_stores!(
    async fn removing_and_inspecting_members_refuse_bad_user_ids(app) {
        let w = world(&app).await;
        let mut cases = Vec::new();
        for org in [&w.acme.id, &w.acme.slug] {
            for (user, status, code) in bad_users(&w) {
                let remove = Case::delete(format!("/api/v1/orgs/{org}/members/{user}"));
                let perms = Case::get(format!("/api/v1/orgs/{org}/members/{user}/permissions"));
                for c in [remove, perms] {
                    cases.push(if status == 400 { c.invalid("user") } else { c.expect(status, code) });
                }
            }
        }
        run_cases(&app, Some(&w.owner.token), &w.watch(), &cases).await;
        app.get(&format!("/api/v1/orgs/{}/members/{}/permissions", w.acme.slug, w.member.id), &w.owner.token)
            .await
            .expect(200);
    }
);

both_stores!(
    async fn listing_members_refuses_bad_limits_and_cursors(app) {
        let w = world(&app).await;
        let mut cases = Vec::new();
        for org in [&w.acme.id, &w.acme.slug] {
            let list = |query: &str| Case::get(format!("/api/v1/orgs/{org}/members?{query}"));
            for (limit, named) in bad_limits() {
                let c = list(&format!("limit={limit}"));
                cases.push(if named { c.invalid("limit") } else { c.expect(400, "validation_failed") });
            }
            for cursor in garbage_cursors() {
                cases.push(list(&format!("cursor={cursor}")).invalid("cursor"));
            }
            cases.push(list("cursor=").invalid("cursor"));
            cases.push(list("limit=1&limit=2").expect(400, "validation_failed"));
        }
        run_cases(&app, Some(&w.owner.token), &w.watch(), &cases).await;
        let page = format!("/api/v1/orgs/{}/members?limit=1", w.acme.id);
        let first = app.get(&page, &w.owner.token).await.expect(200).body;
        let next = first["next_cursor"].as_str().expect("a second page");
        app.get(&format!("/api/v1/orgs/{}/members?limit=1&cursor={next}", w.acme.id), &w.owner.token).await.expect(200);
    }
);

both_stores!(
    async fn register_and_add_refuses_bad_input_with_a_4xx(app) {
        let w = world(&app).await;
        let path = format!("/api/v1/orgs/{}/members", w.acme.id);
        let base = json!({ "email": "fresh@example.com", "name": "Fresh", "roles": ["member"], "register": true });
        let post = |body: Value| Case::json(Method::POST, path.clone(), body);
        let mut cases = vec![
            post(with(&base, "roles", json!(["nope"]))).invalid("roles[0]"),
            post(with(&base, "name", Value::Null)).invalid("name"),
            post(without(&base, "name")).invalid("name"),
            post(with(&base, "email", json!("nope"))).invalid("email"),
            post(with(&base, "email", json!(w.outsider.email))).expect(409, "email_taken"),
            // A name goes only with `register: true`.
            post(without(&base, "register")).invalid("name"),
            post(with(&base, "register", json!(false))).invalid("name"),
        ];
        for (what, name) in crate::accounts::bad_names() {
            cases.push(post(with(&base, "name", json!(name))).invalid("name").labelled(what));
        }
        run_cases(&app, Some(&w.owner.token), &w.watch(), &cases).await;
    }
);
