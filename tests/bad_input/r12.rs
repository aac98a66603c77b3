//! R12: to anyone not in an organization, that organization and everything in it does not
//! exist. Every `/orgs/{org}/...` route answers a non-member 404 `org_not_found` (never 403),
//! byte for byte what it answers for an organization that does not exist, whether the
//! organization is named by id or by slug; and nothing changes.

use crate::both_stores;
use crate::common::{Resp, TestApp};
use crate::support::{Body, NIL, World, check_problem, send, world};
use reqwest::Method;
use serde_json::{Value, json};

/// Every route under `/orgs/{org}`, with a body that would be valid for a member.
pub fn org_routes(w: &World, org: &str) -> Vec<(Method, String, Option<Value>)> {
    let o = format!("/api/v1/orgs/{org}");
    let (owner, member) = (&w.owner.id, &w.member.id);
    vec![
        (Method::GET, o.clone(), None),
        (
            Method::PATCH,
            o.clone(),
            Some(json!({ "name": "Probe Name" })),
        ),
        (
            Method::PATCH,
            o.clone(),
            Some(json!({ "slug": "probe-slug" })),
        ),
        (Method::DELETE, o.clone(), None),
        (Method::POST, format!("{o}/leave"), None),
        (Method::GET, format!("{o}/members"), None),
        (Method::GET, format!("{o}/members?limit=1"), None),
        (
            Method::POST,
            format!("{o}/members"),
            Some(json!({ "email": w.outsider.email, "roles": ["admin"] })),
        ),
        (
            Method::PATCH,
            format!("{o}/members/{member}"),
            Some(json!({ "roles": ["member"] })),
        ),
        (
            Method::PATCH,
            format!("{o}/members/{owner}"),
            Some(json!({ "roles": ["admin"] })),
        ),
        (
            Method::PATCH,
            format!("{o}/members/{NIL}"),
            Some(json!({ "roles": ["member"] })),
        ),
        (Method::DELETE, format!("{o}/members/{member}"), None),
        (Method::DELETE, format!("{o}/members/{NIL}"), None),
        (
            Method::GET,
            format!("{o}/members/{owner}/permissions"),
            None,
        ),
        (
            Method::GET,
            format!("{o}/members/{member}/permissions"),
            None,
        ),
        (
            Method::GET,
            format!("{o}/members/{}/permissions", w.outsider.id),
            None,
        ),
        (Method::GET, format!("{o}/roles"), None),
        (
            Method::POST,
            format!("{o}/roles"),
            Some(json!({ "name": "Probe", "permissions": ["org.read"] })),
        ),
        (
            Method::PATCH,
            format!("{o}/roles/Auditor"),
            Some(json!({ "permissions": ["org.read"] })),
        ),
        (
            Method::PATCH,
            format!("{o}/roles/no-such-role"),
            Some(json!({ "permissions": ["org.read"] })),
        ),
        (
            Method::PATCH,
            format!("{o}/roles/admin"),
            Some(json!({ "permissions": ["org.read"] })),
        ),
        (Method::DELETE, format!("{o}/roles/Auditor"), None),
        (Method::DELETE, format!("{o}/roles/Release%20Manager"), None),
        (Method::DELETE, format!("{o}/roles/admin"), None),
        (Method::GET, format!("{o}/audit"), None),
        (
            Method::GET,
            format!("{o}/audit?action=org.created&limit=5"),
            None,
        ),
    ]
}

async fn ask(
    app: &TestApp,
    token: Option<&str>,
    method: &Method,
    path: &str,
    body: &Option<Value>,
) -> Resp {
    let body = body.clone().map_or(Body::None, Body::Json);
    send(app, method, path, token, &body).await
}

/// Every way to name an organization that the prober is not in, and one that does not exist.
async fn targets(app: &TestApp, w: &World) -> Vec<(String, String)> {
    let mine = app
        .get("/api/v1/orgs", &w.owner.token)
        .await
        .expect(200)
        .body;
    let personal = mine["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|o| o["personal"] == true)
        .expect("Owen's personal org")
        .clone();
    let (pid, pslug) = (
        personal["id"].as_str().expect("id").to_owned(),
        personal["slug"].as_str().expect("slug").to_owned(),
    );
    vec![
        ("acme by id".into(), w.acme.id.clone()),
        ("acme by slug".into(), w.acme.slug.clone()),
        ("acme by upper-case slug".into(), w.acme.slug.to_uppercase()),
        ("acme by upper-case id".into(), w.acme.id.to_uppercase()),
        ("Owen's personal org by id".into(), pid),
        ("Owen's personal org by slug".into(), pslug),
        (
            "another org that does not exist".into(),
            "5b1c2c52-3d1e-4b8f-9a4e-6f2d7c9e0a11".into(),
        ),
        ("a slug that does not exist".into(), "no-such-org".into()),
    ]
}

/// Asks every route about every target as `token`, and checks each answer is exactly the
/// answer for an organization that does not exist, with the expected status and code.
async fn probe(app: &TestApp, w: &World, who: &str, token: Option<&str>, status: u16, code: &str) {
    let targets = targets(app, w).await;
    let nonexistent = NIL;
    let reference = org_routes(w, nonexistent);
    for (i, (method, path, body)) in reference.iter().enumerate() {
        let expected = ask(app, token, method, path, body).await;
        let label = format!("{who}: {method} {path}");
        let expected_body = expected.body.clone();
        check_problem(&label, expected, status, code, &[]);
        for (what, org) in &targets {
            let (m, p, b) = &org_routes(w, org)[i];
            let label = format!("{who}: {m} {p} ({what})");
            let got = ask(app, token, m, p, b).await;
            assert_eq!(
                got.body, expected_body,
                "{label}: must answer exactly as for an org that does not exist"
            );
            check_problem(&label, got, status, code, &[]);
        }
    }
}

both_stores!(
    async fn r12_non_members_get_exactly_what_a_missing_org_gets(app) {
        let w = world(&app).await;
        // Leo was a member of acme and left.
        let leo = app.user("Leo").await;
        app.add(&w.owner, &w.acme.id, &leo, &["member"]).await.expect(201);
        app.req(Method::POST, &format!("/api/v1/orgs/{}/leave", w.acme.id), Some(&leo.token), None).await.expect(204);
        // Mia is a member of acme, but this token of hers reaches only her personal org.
        let mia_orgs = app.get("/api/v1/orgs", &w.member.token).await.expect(200).body;
        let mia_personal = mia_orgs["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|o| o["personal"] == true)
            .expect("personal")["id"]
            .clone();
        let limited = app
            .post("/api/v1/tokens", &w.member.token, json!({ "name": "elsewhere", "org": mia_personal }))
            .await
            .expect(201)
            .body["token"]
            .as_str()
            .expect("secret")
            .to_owned();
        let watch = w.watch();
        let before = watch.snapshot(&app).await;

        probe(&app, &w, "Otto (never a member)", Some(&w.outsider.token), 404, "org_not_found").await;
        probe(&app, &w, "Otto's API token", Some(&w.outsider_token_secret), 404, "org_not_found").await;
        probe(&app, &w, "Leo (left)", Some(&leo.token), 404, "org_not_found").await;
        probe(&app, &w, "Mia's token for another org", Some(&limited), 404, "org_not_found").await;
        // Without credentials nothing is told either.
        probe(&app, &w, "nobody", None, 401, "unauthenticated").await;
        probe(&app, &w, "a forged token", Some("gldh_ses_forged"), 401, "unauthenticated").await;

        // Tokens for an organization one is not in are refused the same way.
        let mut answers = Vec::new();
        for (what, org) in targets(&app, &w).await {
            let r = app.post("/api/v1/tokens", &w.outsider.token, json!({ "name": "probe", "org": org })).await;
            answers.push(r.body.clone());
            check_problem(&format!("POST /api/v1/tokens for {what}"), r, 404, "org_not_found", &[]);
        }
        assert!(answers.windows(2).all(|p| p[0] == p[1]), "{answers:#?}");

        let after = watch.snapshot(&app).await;
        crate::support::assert_unchanged("R12 probes", &before, &after);
        // The members themselves still see everything.
        app.get(&format!("/api/v1/orgs/{}", w.acme.slug), &w.member.token).await.expect(200);
    }
);

both_stores!(
    async fn r12_a_member_lacking_a_permission_gets_403_but_a_non_member_never_does(app) {
        // The control for the test above: the same routes do answer 403 to a member, so a
        // 404 for non-members is a decision, not an accident of the route.
        let w = world(&app).await;
        let acme = &w.acme.id;
        app.get(&format!("/api/v1/orgs/{acme}/audit"), &w.member.token).await.expect_problem(403, "forbidden");
        app.patch(&format!("/api/v1/orgs/{acme}"), &w.member.token, json!({ "name": "Probe Name" }))
            .await
            .expect_problem(403, "forbidden");
        for org in [acme, &w.acme.slug] {
            app.get(&format!("/api/v1/orgs/{org}/audit"), &w.outsider.token).await.expect_problem(404, "org_not_found");
            app.patch(&format!("/api/v1/orgs/{org}"), &w.outsider.token, json!({ "name": "Probe Name" }))
                .await
                .expect_problem(404, "org_not_found");
        }
    }
);
