//! `GET /orgs` with bad queries, `POST /orgs` and `PATCH /orgs/{org}` with bad bodies.

use crate::accounts::bad_names;
use crate::both_stores;
use crate::support::{Case, NIL, b64, chars, enc, run_cases, with, without, world};
use reqwest::Method;
use serde_json::{Value, json};

/// `limit` values outside 1..=100 or not numbers.
pub fn bad_limits() -> Vec<(&'static str, bool)> {
    // (value, whether the server's own range check names `limit`)
    vec![
        ("0", true),
        ("101", true),
        ("4294967295", true),
        ("-1", false),
        ("4294967296", false),
        ("99999999999999999999", false),
        ("abc", false),
        ("1.5", false),
        ("1e2", false),
        ("", false),
        ("%20", false),
        ("0x10", false),
    ]
}

/// Cursors no server gave out.
pub fn garbage_cursors() -> Vec<String> {
    vec![
        "garbage".into(),
        "not%20a%20cursor".into(),
        "%21%21%21".into(),
        enc("a+b/c=="),
        b64("hello"),
        b64("[]"),
        b64(r#"["acme"]"#),
        b64(r#"["acme","not-a-uuid"]"#),
        b64(r#"{"key":"acme","id":"00000000-0000-0000-0000-000000000000"}"#),
        b64("seq:5"),
        b64(&chars('x', 2_000)),
        chars('A', 3),
    ]
}

/// Slugs the server must refuse: lowercase ASCII letters, digits and inner hyphens, at most 63,
/// never an id.
pub fn bad_slugs() -> Vec<Value> {
    vec![
        json!(""),
        json!("Acme"),
        json!("-acme"),
        json!("acme-"),
        json!("ac me"),
        json!("ac_me"),
        json!("äcme"),
        json!("acme/../x"),
        json!(chars('a', 64)),
        json!(chars('a', 5_000)),
        json!("5b1c2c52-3d1e-4b8f-9a4e-6f2d7c9e0a11"),
        json!(NIL),
    ]
}

both_stores!(
    async fn listing_my_orgs_refuses_bad_queries(app) {
        let w = world(&app).await;
        let list = |query: &str| Case::get(format!("/api/v1/orgs?{query}"));
        let mut cases = vec![
            list(&format!("q={}", chars('q', 101))).invalid("q"),
            list(&format!("q={}", chars('q', 5_000))).invalid("q"),
            list(&format!("q={}", enc(&chars('é', 101)))).invalid("q"),
            list("limit=10&limit=20").expect(400, "validation_failed").labelled("limit twice"),
            list("cursor=").invalid("cursor").labelled("an empty cursor"),
        ];
        for (limit, named) in bad_limits() {
            let c = list(&format!("limit={limit}"));
            cases.push(if named { c.invalid("limit") } else { c.expect(400, "validation_failed") });
        }
        for cursor in garbage_cursors() {
            cases.push(list(&format!("cursor={cursor}")).invalid("cursor"));
        }
        run_cases(&app, Some(&w.owner.token), &w.watch(), &cases).await;
        // The edges of the range are accepted, and a real cursor works.
        app.get("/api/v1/orgs?limit=100", &w.owner.token).await.expect(200);
        let first = app.get("/api/v1/orgs?limit=1", &w.owner.token).await.expect(200).body;
        let next = first["next_cursor"].as_str().expect("a second page");
        app.get(&format!("/api/v1/orgs?limit=1&cursor={next}"), &w.owner.token).await.expect(200);
        app.get(&format!("/api/v1/orgs?q={}", chars('q', 100)), &w.owner.token).await.expect(200);
    }
);

both_stores!(
    async fn creating_an_org_refuses_bad_input_and_creates_nothing(app) {
        let w = world(&app).await;
        let base = json!({ "name": "Fresh Org", "slug": "fresh-org" });
        let post = |body: Value| Case::json(Method::POST, "/api/v1/orgs", body);
        let mut cases = vec![
            post(without(&base, "name")).expect(400, "validation_failed"),
            post(json!({})).expect(400, "validation_failed"),
            post(with(&base, "name", Value::Null)).expect(400, "validation_failed"),
            post(with(&base, "name", json!(42))).expect(400, "validation_failed"),
            post(with(&base, "name", json!(["Fresh"]))).expect(400, "validation_failed"),
            post(with(&base, "name", json!({ "en": "Fresh" }))).expect(400, "validation_failed"),
            post(with(&base, "slug", json!(42))).expect(400, "validation_failed"),
            post(with(&base, "slug", json!(true))).expect(400, "validation_failed"),
            post(with(&base, "personal", json!(true))).expect(400, "validation_failed"),
            post(with(&base, "owner", json!(w.outsider.id))).expect(400, "validation_failed"),
            post(with(&base, "id", json!(NIL))).expect(400, "validation_failed"),
            post(with(&base, "my_roles", json!(["owner"]))).expect(400, "validation_failed"),
            post(json!({ "name": "", "slug": "Bad Slug" }))
                .invalid("name")
                .field("slug")
                .labelled("every field wrong names every field"),
            // R1: names and slugs are unique across the server, names case-insensitively and
            // trimmed.
            post(json!({ "name": w.acme.name })).expect(409, "name_taken"),
            post(json!({ "name": w.acme.name.to_uppercase() })).expect(409, "name_taken"),
            post(json!({ "name": format!("  {}  ", w.acme.name.to_lowercase()) })).expect(409, "name_taken"),
            post(json!({ "name": w.rival.name })).expect(409, "name_taken").labelled("another user's org name"),
            post(json!({ "name": "Fresh Org", "slug": w.acme.slug })).expect(409, "slug_taken"),
            post(json!({ "name": "Fresh Org", "slug": w.rival.slug })).expect(409, "slug_taken"),
        ];
        for (what, name) in bad_names() {
            cases.push(post(with(&base, "name", json!(name))).invalid("name").labelled(what));
        }
        for slug in bad_slugs() {
            cases.push(post(with(&base, "slug", slug)).invalid("slug"));
        }
        run_cases(&app, Some(&w.owner.token), &w.watch(), &cases).await;
        // The name and slug were free all along.
        app.post("/api/v1/orgs", &w.owner.token, base).await.expect(201);
    }
);

both_stores!(
    async fn renaming_an_org_refuses_bad_input_and_changes_nothing(app) {
        let w = world(&app).await;
        let mut cases = Vec::new();
        for org in [&w.acme.id, &w.acme.slug] {
            let path = format!("/api/v1/orgs/{org}");
            let patch = |body: Value| Case::json(Method::PATCH, path.clone(), body);
            cases.extend([
                patch(json!({})).invalid("name").labelled("nothing to change"),
                patch(json!({ "name": null })).invalid("name"),
                patch(json!({ "name": null, "slug": null })).invalid("name"),
                patch(json!({ "name": 42 })).expect(400, "validation_failed"),
                patch(json!({ "slug": ["x"] })).expect(400, "validation_failed"),
                patch(json!({ "personal": true })).expect(400, "validation_failed"),
                patch(json!({ "owner": w.member.id })).expect(400, "validation_failed"),
                patch(json!({ "id": NIL })).expect(400, "validation_failed"),
                patch(json!({ "name": "Fine Name", "extra": 1 })).expect(400, "validation_failed"),
                // Nothing is half-applied: a good name with a bad slug renames nothing.
                patch(json!({ "name": "Fine Name", "slug": "Bad Slug" })).invalid("slug"),
                patch(json!({ "name": "", "slug": "fine-slug" })).invalid("name"),
                patch(json!({ "name": "Fine Name", "slug": w.rival.slug })).expect(409, "slug_taken"),
                patch(json!({ "name": w.rival.name, "slug": "fine-slug" })).expect(409, "name_taken"),
                patch(json!({ "name": w.rival.name.to_uppercase() })).expect(409, "name_taken"),
            ]);
            for (what, name) in bad_names() {
                cases.push(patch(json!({ "name": name })).invalid("name").labelled(what));
            }
            for slug in bad_slugs() {
                cases.push(patch(json!({ "slug": slug })).invalid("slug"));
            }
        }
        run_cases(&app, Some(&w.owner.token), &w.watch(), &cases).await;
        // The good halves were fine on their own.
        let path = format!("/api/v1/orgs/{}", w.acme.id);
        app.patch(&path, &w.owner.token, json!({ "name": "Fine Name", "slug": "fine-slug" })).await.expect(200);
    }
);
