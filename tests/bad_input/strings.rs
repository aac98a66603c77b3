//! Strings that are valid JSON or valid URLs but odd: LIKE wildcards in filters, NUL characters,
//! and percent-escapes that do not decode to UTF-8. None may reach the database unchecked or
//! get anything but a 4xx problem document (or, for a filter, an honest answer).

use crate::both_stores;
use crate::common::{Resp, TestApp};
use crate::r12::org_routes;
use crate::support::{Body, Case, NIL, assert_unchanged, b64, run_cases, send, world};
use reqwest::Method;
use serde_json::{Value, json};

/// The organizations `GET /orgs?q=…` finds for Owen.
async fn found(app: &TestApp, token: &str, q: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/orgs?q={q}"), token)
        .await
        .expect(200)
        .body["items"]
        .as_array()
        .expect("items")
        .clone()
}

both_stores!(
    async fn wildcards_and_odd_characters_are_taken_literally(app) {
        let w = world(&app).await;
        let t = &w.owner.token;
        // The filter works, and LIKE's wildcards and escape character are plain characters.
        assert_eq!(found(&app, t, "acme").await.len(), 1);
        for q in ["%25", "_", "%25%25", "a_me", "%5C", "%5C%25", "%FF", "acme%25"] {
            assert_eq!(found(&app, t, q).await, Vec::<Value>::new(), "q={q} matches no name literally");
        }
        let acme = &w.acme.id;
        let cases = vec![
            Case::json(Method::PATCH, format!("/api/v1/orgs/{acme}/roles/%00"), json!({ "name": "x" }))
                .expect(404, "role_not_found"),
            Case::delete(format!("/api/v1/orgs/{acme}/roles/Auditor%00")).expect(404, "role_not_found"),
            Case::json(Method::PATCH, format!("/api/v1/orgs/{acme}/members/%00"), json!({ "roles": ["member"] }))
                .invalid("user"),
            Case::delete(format!("/api/v1/orgs/{acme}/members/{}%00", w.member.id)).invalid("user"),
            Case::delete("/api/v1/tokens/%00").invalid("id"),
            Case::json(Method::POST, "/api/v1/sessions", json!({ "email": "owen\u{0}@example.com", "password": "x" }))
                .invalid("email"),
            Case::get(format!("/api/v1/orgs/{acme}/audit?action=org.created%00")).invalid("action"),
            Case::get(format!("/api/v1/orgs/{acme}/audit?actor={NIL}%00")).expect(400, "validation_failed"),
        ];
        run_cases(&app, Some(t), &w.watch(), &cases).await;
    }
);

/// An answer is acceptable if it has one of `allowed` (status, code), as a problem document,
/// or (when `ok_if_empty`) is a 200 list with no items.
fn acceptable(label: &str, r: &Resp, allowed: &[(u16, &str)], ok_if_empty: bool) {
    if ok_if_empty && r.status == 200 {
        assert_eq!(
            r.body["items"],
            json!([]),
            "{label}: nothing can match: {:#}",
            r.body
        );
        return;
    }
    let ct = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        allowed.contains(&(r.status.as_u16(), r.code())) && ct == "application/problem+json",
        "{label}: expected one of {allowed:?} as a problem document, got {} [{ct}] {:#}",
        r.status,
        r.body
    );
}

both_stores!(
    async fn nul_characters_never_reach_the_database(app) {
        let w = world(&app).await;
        let t = w.owner.token.as_str();
        let watch = w.watch();
        let before = watch.snapshot(&app).await;
        let not_found = [(404, "org_not_found")];
        // A slug with a NUL names no organization: every route answers as for a missing one.
        for org in ["%00", "acme%00", &format!("{}%00", w.acme.slug)] {
            for (m, p, b) in org_routes(&w, org) {
                let r = send(&app, &m, &p, Some(t), &b.map_or(Body::None, Body::Json)).await;
                acceptable(&format!("{m} {p}"), &r, &not_found, false);
            }
        }
        let r = app.post("/api/v1/tokens", t, json!({ "name": "x", "org": "\u{0}" })).await;
        acceptable("token for org \\u0000", &r, &not_found, false);
        // Filters and cursors: an honest empty answer, or a 400 naming the field.
        let nul_cursor = b64(&format!("[\"a\\u0000\",\"{}\"]", w.acme.id));
        for path in [
            "/api/v1/orgs?q=%00".to_owned(),
            "/api/v1/orgs?q=acme%00".to_owned(),
            format!("/api/v1/orgs?cursor={nul_cursor}"),
            format!("/api/v1/orgs/{}/members?cursor={nul_cursor}", w.acme.id),
        ] {
            let r = app.get(&path, t).await;
            acceptable(&path, &r, &[(400, "validation_failed")], true);
        }
        assert_unchanged("NUL characters", &before, &watch.snapshot(&app).await);
    }
);

/// The (status, code) pairs one request may get.
type Allowed = &'static [(u16, &'static str)];
/// No organization has this slug.
const ORG_MISSING: Allowed = &[(404, "org_not_found"), (400, "validation_failed")];
/// This is not an id.
const NOT_AN_ID: Allowed = &[(400, "validation_failed")];
/// No role has this name.
const ROLE_MISSING: Allowed = &[(404, "role_not_found"), (400, "validation_failed")];

both_stores!(
    async fn path_segments_that_are_not_utf8_get_problem_documents(app) {
        let w = world(&app).await;
        let t = w.owner.token.as_str();
        let acme = &w.acme.id;
        let mut asks: Vec<(Method, String, Option<Value>, Allowed)> = Vec::new();
        for (m, p, b) in org_routes(&w, "%FF") {
            asks.push((m, p, b, ORG_MISSING));
        }
        asks.extend([
            (Method::DELETE, "/api/v1/tokens/%FF".to_owned(), None, NOT_AN_ID),
            (Method::DELETE, "/api/v1/tokens/%C3%28".to_owned(), None, NOT_AN_ID),
            (Method::PATCH, format!("/api/v1/orgs/{acme}/members/%FF"), Some(json!({ "roles": ["member"] })), NOT_AN_ID),
            (Method::DELETE, format!("/api/v1/orgs/{acme}/members/%FF"), None, NOT_AN_ID),
            (Method::GET, format!("/api/v1/orgs/{acme}/members/%FF/permissions"), None, NOT_AN_ID),
            (Method::PATCH, format!("/api/v1/orgs/{acme}/roles/%FF"), Some(json!({ "name": "x" })), ROLE_MISSING),
            (Method::DELETE, format!("/api/v1/orgs/{acme}/roles/%FF"), None, ROLE_MISSING),
        ]);
        let watch = w.watch();
        let before = watch.snapshot(&app).await;
        for (m, p, b, allowed) in asks {
            let r = send(&app, &m, &p, Some(t), &b.map_or(Body::None, Body::Json)).await;
            acceptable(&format!("{m} {p}"), &r, allowed, false);
        }
        assert_unchanged("non-UTF-8 paths", &before, &watch.snapshot(&app).await);
    }
);

both_stores!(
    async fn audit_time_filters_beyond_year_9999(app) {
        let w = world(&app).await;
        let audit = format!("/api/v1/orgs/{}/audit", w.acme.id);
        let all = app.audit(&w.owner, &w.acme.id).await;
        assert!(!all.is_empty());
        // Nothing happened after the year 10000, and everything before it.
        let since = app.get(&format!("{audit}?since=%2B10000-01-01T00:00:00Z"), &w.owner.token).await;
        acceptable("since +10000", &since, &[(400, "validation_failed")], true);
        let until = app.get(&format!("{audit}?until=%2B10000-01-01T00:00:00Z&limit=100"), &w.owner.token).await;
        if until.status == 200 {
            assert_eq!(until.body["items"].as_array().expect("items"), &all, "until +10000 keeps every event");
        } else {
            acceptable("until +10000", &until, &[(400, "validation_failed")], false);
        }
    }
);
