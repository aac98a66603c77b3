//! The edges every client meets: OpenAPI, health, metrics, security headers, limits, 500s.

use crate::both_stores;
use crate::common::{Store, spawn_app};
use reqwest::Method;
use serde_json::{Value, json};

/// Every (method, path) the router serves, as SPEC §5 names them for this version.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/users"),
    ("post", "/api/v1/sessions"),
    ("delete", "/api/v1/sessions/current"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{id}"),
    ("get", "/api/v1/permissions"),
    ("get", "/api/v1/orgs"),
    ("post", "/api/v1/orgs"),
    ("get", "/api/v1/orgs/{org}"),
    ("patch", "/api/v1/orgs/{org}"),
    ("delete", "/api/v1/orgs/{org}"),
    ("post", "/api/v1/orgs/{org}/leave"),
    ("get", "/api/v1/orgs/{org}/members"),
    ("post", "/api/v1/orgs/{org}/members"),
    ("patch", "/api/v1/orgs/{org}/members/{user}"),
    ("delete", "/api/v1/orgs/{org}/members/{user}"),
    ("get", "/api/v1/orgs/{org}/members/{user}/permissions"),
    ("get", "/api/v1/orgs/{org}/roles"),
    ("post", "/api/v1/orgs/{org}/roles"),
    ("patch", "/api/v1/orgs/{org}/roles/{role}"),
    ("delete", "/api/v1/orgs/{org}/roles/{role}"),
    ("get", "/api/v1/orgs/{org}/audit"),
    ("post", "/api/v1/orgs/{org}/transfer"),
    ("get", "/api/v1/orgs/{org}/transfer"),
    ("delete", "/api/v1/orgs/{org}/transfer"),
    ("post", "/api/v1/orgs/{org}/transfer/accept"),
    ("post", "/api/v1/orgs/{org}/transfer/decline"),
    ("get", "/api/v1/orgs/{org}/projects"),
    ("post", "/api/v1/orgs/{org}/projects"),
    ("get", "/api/v1/orgs/{org}/projects/{project}"),
    ("patch", "/api/v1/orgs/{org}/projects/{project}"),
    ("delete", "/api/v1/orgs/{org}/projects/{project}"),
    (
        "put",
        "/api/v1/orgs/{org}/projects/{project}/members/{user}",
    ),
    (
        "delete",
        "/api/v1/orgs/{org}/projects/{project}/members/{user}",
    ),
    ("get", "/api/v1/orgs/{org}/groups"),
    ("post", "/api/v1/orgs/{org}/groups"),
    ("get", "/api/v1/orgs/{org}/groups/{group}"),
    ("patch", "/api/v1/orgs/{org}/groups/{group}"),
    ("delete", "/api/v1/orgs/{org}/groups/{group}"),
    ("put", "/api/v1/orgs/{org}/groups/{group}/members/{user}"),
    ("delete", "/api/v1/orgs/{org}/groups/{group}/members/{user}"),
    (
        "put",
        "/api/v1/orgs/{org}/groups/{group}/projects/{project}",
    ),
    (
        "delete",
        "/api/v1/orgs/{org}/groups/{group}/projects/{project}",
    ),
    ("get", "/api/v1/orgs/{org}/projects/{project}/plan"),
    ("put", "/api/v1/orgs/{org}/projects/{project}/plan"),
    ("get", "/api/v1/orgs/{org}/billing"),
    ("put", "/api/v1/orgs/{org}/billing"),
    ("get", "/api/v1/orgs/{org}/billing/invoices"),
    ("get", "/api/v1/orgs/{org}/billing/invoices/{id}"),
    ("get", "/api/v1/orgs/{org}/billing/invoices/{id}/pdf"),
    ("get", "/api/v1/orgs/{org}/billing/invoices/upcoming"),
    ("get", "/api/v1/plans"),
    ("post", "/api/v1/orgs/{org}/billing/vouchers"),
    ("post", "/api/v1/check"),
    ("post", "/api/v1/check/batch"),
    ("get", "/api/v1/users/{user}/projects"),
    ("post", "/access/v1/evaluation"),
    ("post", "/access/v1/evaluations"),
    ("get", "/.well-known/authzen-configuration"),
    ("get", "/api/v1/openapi.json"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("get", "/api/v1/orgs/{org}/invitations"),
    ("post", "/api/v1/orgs/{org}/invitations"),
    ("delete", "/api/v1/orgs/{org}/invitations/{id}"),
    ("post", "/api/v1/orgs/{org}/invitations/{id}/resend"),
    ("get", "/api/v1/invitations"),
    ("post", "/api/v1/invitations/accept"),
    ("post", "/api/v1/invitations/decline"),
    ("post", "/api/v1/invoices/{id}/status"),
    ("post", "/api/v1/password/forgot"),
    ("post", "/api/v1/password/set"),
];

#[tokio::test]
async fn openapi_document_is_3_1_and_describes_every_route() {
    let app = spawn_app(Store::Sqlite).await;
    let doc = app
        .req(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .expect(200)
        .body;
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .expect("operations")
                .keys()
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    documented.sort();
    let mut expected: Vec<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);
    // Every operation answers with documented statuses, and errors are problem documents.
    for (method, path) in ROUTES {
        let op = &doc["paths"][*path][*method];
        assert!(
            op["responses"].as_object().is_some_and(|r| !r.is_empty()),
            "{method} {path}"
        );
        assert!(op["operationId"].is_string(), "{method} {path}");
    }
}

#[tokio::test]
async fn every_route_in_the_document_is_served() {
    let app = spawn_app(Store::Sqlite).await;
    for (method, path) in ROUTES {
        let concrete = path
            .replace("{org}", "no-such-org")
            .replace("{user}", "00000000-0000-0000-0000-000000000000")
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{role}", "nope")
            .replace("{project}", "nope")
            .replace("{group}", "nope");
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let r = app.req(m, &concrete, None, None).await;
        assert_ne!(
            r.body["code"], "route_not_found",
            "{method} {path} is not routed"
        );
        assert_ne!(r.status, 405, "{method} {path} is not routed");
    }
}

both_stores!(
    async fn health_readiness_and_metrics_answer(app) {
        app.req(Method::GET, "/healthz", None, None).await.expect(200);
        let ready = app.req(Method::GET, "/readyz", None, None).await.expect(200).body;
        assert_eq!(ready["status"], "ok");
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Metered").await;
        app.get(&format!("/api/v1/orgs/{}", org["id"].as_str().expect("id")), &ada.token).await.expect(200);
        let text = app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("text");
        assert!(text.contains(r#"route="/api/v1/orgs/{org}""#), "{text}");
        assert!(text.contains("http_request_duration_seconds_bucket{"));
        // Labels carry route templates, never ids or emails.
        assert!(!text.contains(org["id"].as_str().expect("id")));
        assert!(!text.contains(&ada.email));
    }
);

#[tokio::test]
async fn answers_carry_security_headers_and_a_request_id() {
    let app = spawn_app(Store::Sqlite).await;
    let r = app
        .client
        .get(app.url("/api/v1/permissions"))
        .send()
        .await
        .expect("answer");
    let h = r.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");
    assert!(
        h["content-security-policy"]
            .to_str()
            .expect("ascii")
            .contains("default-src 'none'")
    );
    assert!(h.contains_key("x-request-id"));
    let catalog: Value = r.json().await.expect("json");
    assert_eq!(
        catalog["permissions"]
            .as_array()
            .expect("permissions")
            .len(),
        17
    );
    let admin = catalog["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .find(|r| r["name"] == "admin")
        .expect("admin")
        .clone();
    assert!(
        !admin["permissions"]
            .as_array()
            .expect("perms")
            .contains(&json!("billing.read"))
    );
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let app = spawn_app(Store::Sqlite).await;
    let big = format!(
        r#"{{"email":"a@example.com","password":"{}","name":"x"}}"#,
        "x".repeat(70 * 1024)
    );
    app.raw(
        Method::POST,
        "/api/v1/users",
        None,
        "application/json",
        big.into_bytes(),
    )
    .await
    .expect_problem(413, "payload_too_large");
}

#[tokio::test]
async fn a_500_shows_a_request_id_and_no_internals() {
    let app = spawn_app(Store::Sqlite).await;
    let ada = app.user("Ada").await;
    // Break the real database underneath the server: the audit table disappears.
    let pool = sqlx::SqlitePool::connect(&app.database_url)
        .await
        .expect("open db");
    sqlx::query("DROP TABLE audit_events")
        .execute(&pool)
        .await
        .expect("drop");
    let r = app
        .post("/api/v1/orgs", &ada.token, json!({ "name": "Doomed" }))
        .await
        .expect_problem(500, "internal");
    let id = r.body["request_id"].as_str().expect("request id");
    assert_eq!(r.headers["x-request-id"], id);
    let detail = r.body["detail"].as_str().expect("detail");
    assert!(detail.contains(id));
    assert!(
        !detail.to_lowercase().contains("audit_events") && !detail.to_lowercase().contains("sql"),
        "{detail}"
    );
    // The failed change left nothing behind.
    let orgs = app.get("/api/v1/orgs", &ada.token).await.expect(200).body;
    assert_eq!(orgs["items"].as_array().expect("items").len(), 1);
}

#[tokio::test]
async fn a_client_request_id_is_kept_only_when_it_is_safe_to_log() {
    let app = spawn_app(Store::Sqlite).await;
    let echo = |id: &'static str| {
        let rb = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", id);
        async move {
            rb.send().await.expect("answer").headers()["x-request-id"]
                .to_str()
                .expect("ascii")
                .to_owned()
        }
    };
    assert_eq!(echo("trace-42_a").await, "trace-42_a");
    let replaced = echo("evil\" injected=1").await;
    assert_ne!(replaced, "evil\" injected=1");
    // A fresh id: this process's prefix and a counter, never the same twice.
    let (prefix, counter) = replaced.split_once('-').expect("prefix-counter");
    assert_eq!(prefix.len(), 16);
    assert!(
        prefix
            .bytes()
            .chain(counter.bytes())
            .all(|b| b.is_ascii_hexdigit())
    );
    let again = echo("evil\" injected=1").await;
    assert_ne!(again, replaced);
    assert!(again.starts_with(prefix));
}

/// Each test drops its PostgreSQL database when it ends, so runs leave nothing behind and
/// `scripts/test.sh` never has to drop another run's databases.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_test_database_is_dropped_when_its_test_ends() {
    use sqlx::Connection as _;
    let app = crate::common::spawn_app(crate::common::Store::Postgres).await;
    let name = app
        .database_url
        .rsplit_once('/')
        .expect("a database name")
        .1
        .to_owned();
    let mut conn = sqlx::PgConnection::connect(&crate::common::pg_admin_url())
        .await
        .expect("admin");
    let count = "SELECT count(*) FROM pg_database WHERE datname = $1";
    let exists: i64 = sqlx::query_scalar(count)
        .bind(&name)
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(exists, 1);
    drop(app);
    let left: i64 = sqlx::query_scalar(count)
        .bind(&name)
        .fetch_one(&mut conn)
        .await
        .expect("count");
    assert_eq!(left, 0, "{name} was left behind");
}
