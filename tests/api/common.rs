//! The test harness: `spawn_app(Store::…)` starts the real server on `127.0.0.1:0` over a fresh
//! SQLite file or a fresh PostgreSQL database, and returns a client with helpers per endpoint.
//!
//! PostgreSQL comes from `GUILDHALL_TEST_DATABASE_URL` (an admin URL; default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each app gets its own new database. When
//! PostgreSQL cannot be reached the test fails saying so: it is never skipped.

#![allow(
    dead_code,
    reason = "each test module uses a different subset of the helpers"
)]

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};

/// Which store a test app runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    Sqlite,
    Postgres,
}

/// Runs an async test body once on SQLite and once on PostgreSQL, as two tests named
/// `<name>::sqlite` and `<name>::postgres`.
#[macro_export]
macro_rules! both_stores {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: $crate::common::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::common::spawn_app($crate::common::Store::Sqlite).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run($crate::common::spawn_app($crate::common::Store::Postgres).await).await;
            }
        }
    };
}

/// The admin URL of the test PostgreSQL server.
pub fn pg_admin_url() -> String {
    std::env::var("GUILDHALL_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Creates a fresh, empty PostgreSQL database and returns its URL.
pub async fn fresh_pg_database() -> String {
    use sqlx::Connection as _;
    let admin = pg_admin_url();
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is needed for this test and could not be reached at {admin}: {e}. \
             Run the tests with `scripts/test.sh`, which starts it, or set \
             GUILDHALL_TEST_DATABASE_URL to an admin URL"
            )
        });
    let name = format!("gh_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("creating a test database");
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(b, _)| b)
        .to_owned();
    format!("{base}/{name}")
}

/// Drops the test database behind `url` (a `fresh_pg_database`), whatever still holds it open:
/// each test leaves nothing behind. Runs on a thread of its own, so it works from `Drop` inside
/// a test's runtime.
pub fn drop_pg_database(url: &str) {
    let Some((_, name)) = url.rsplit_once('/') else {
        return;
    };
    if !name.starts_with("gh_test_") || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return;
    }
    let (admin, name) = (pg_admin_url(), name.to_owned());
    let dropped = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok()?;
        rt.block_on(async {
            use sqlx::Connection as _;
            let mut conn = sqlx::PgConnection::connect(&admin).await.ok()?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .ok()
        })
    })
    .join();
    if !matches!(dropped, Ok(Some(_))) {
        // Left for `scripts/test.sh`, which drops test databases older than an hour.
        eprintln!("note: could not drop test database {url}");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if self.store == Store::Postgres {
            drop_pg_database(&self.database_url);
        }
    }
}

/// A clock the test moves: the system time plus an offset.
#[derive(Default)]
pub struct TestClock {
    offset: std::sync::Mutex<chrono::Duration>,
}

impl TestClock {
    /// Moves the clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        let mut o = self
            .offset
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *o += by;
    }
}

impl guildhall::clock::Clock for TestClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
            + *self
                .offset
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running server and a client for it.
pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Store,
    pub database_url: String,
    pub client: reqwest::Client,
    pub clock: std::sync::Arc<TestClock>,
    dir: tempfile::TempDir,
}

/// An answer: status, headers and body (JSON, or `Null` when empty or not JSON).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    /// The problem document's `code`.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {:#}",
            self.body
        );
        self
    }

    /// Asserts a problem document with this status and code.
    #[track_caller]
    pub fn expect_problem(self, status: u16, code: &str) -> Self {
        assert_eq!(
            (self.status.as_u16(), self.code()),
            (status, code),
            "unexpected answer: {:#}",
            self.body
        );
        let ct = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        assert_eq!(ct, "application/problem+json");
        self
    }
}

/// A signed-up, signed-in user.
#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub name: String,
    pub token: String,
}

/// The token other services present to the check API in tests.
pub const SERVICE_TOKEN: &str = "test-service-token-0123456789abcdef";

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery staple";

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique suffix for names and emails within a test process.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Starts a server on `store`.
pub async fn spawn_app(store: Store) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match store {
        Store::Sqlite => format!("sqlite://{}", dir.path().join("guildhall.db").display()),
        Store::Postgres => fresh_pg_database().await,
    };
    let clock = std::sync::Arc::new(TestClock::default());
    let app = spawn_with_clock(&database_url, dir.path(), clock.clone()).await;
    TestApp {
        addr: app,
        store,
        database_url,
        client: reqwest::Client::new(),
        clock,
        dir,
    }
}

/// Starts another server on an existing database (several `serve` processes on one store).
pub async fn spawn_on(database_url: &str, data_dir: &std::path::Path) -> SocketAddr {
    spawn_with_clock(
        database_url,
        data_dir,
        std::sync::Arc::new(TestClock::default()),
    )
    .await
}

/// Starts a server whose domain reads `clock`.
pub async fn spawn_with_clock(
    database_url: &str,
    data_dir: &std::path::Path,
    clock: std::sync::Arc<TestClock>,
) -> SocketAddr {
    spawn_with_args(database_url, data_dir, clock, &[]).await
}

/// Starts a server on `store` with more `serve` flags (e.g. `--smtp-url`).
pub async fn spawn_app_with(store: Store, extra: &[&str]) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match store {
        Store::Sqlite => format!("sqlite://{}", dir.path().join("guildhall.db").display()),
        Store::Postgres => fresh_pg_database().await,
    };
    let clock = std::sync::Arc::new(TestClock::default());
    let app = spawn_with_args(&database_url, dir.path(), clock.clone(), extra).await;
    TestApp {
        addr: app,
        store,
        database_url,
        client: reqwest::Client::new(),
        clock,
        dir,
    }
}

/// Starts a server whose domain reads `clock`, with more `serve` flags.
pub async fn spawn_with_args(
    database_url: &str,
    data_dir: &std::path::Path,
    clock: std::sync::Arc<TestClock>,
    extra: &[&str],
) -> SocketAddr {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Args {
        #[command(flatten)]
        serve: guildhall::config::ServeConfig,
    }
    let dir = data_dir.display().to_string();
    let config = Args::try_parse_from(
        [
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            &dir,
            "--database-url",
            database_url,
            "--service-token",
            SERVICE_TOKEN,
        ]
        .into_iter()
        // Every test signs its people up from 127.0.0.1: no per-address limit unless the test
        // sets one (the throttles' own tests).
        .chain(
            ["--signups-per-address", "--password-resets-per-address"]
                .into_iter()
                .filter(|flag| !extra.contains(flag))
                .flat_map(|flag| [flag, "1000000"]),
        )
        .chain(extra.iter().copied()),
    )
    .expect("config")
    .serve;
    let state = guildhall::server::build_with_clock(&config, clock)
        .await
        .expect("app state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    // The listener of `serve` itself, with its connection limits; it runs until the test ends.
    tokio::spawn(guildhall::connections::serve(
        listener,
        guildhall::api::router(state),
        config.limits(),
        std::future::pending(),
    ));
    addr
}

impl TestApp {
    /// Every mail written so far (the server writes `.eml` files to `mail/` in its data
    /// directory when no transport is configured), oldest first, as text.
    pub fn mails(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path().join("mail"))
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("mail"))
            .collect()
    }

    /// The base URL.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Any request: `token` as bearer, `body` as JSON.
    pub async fn req(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut rb = self.client.request(method, self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.expect("request sent");
        into_resp(r).await
    }

    /// A request with a raw body and content type.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> Resp {
        let mut rb = self
            .client
            .request(method, self.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        into_resp(rb.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.req(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Resp {
        self.req(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Resp {
        self.req(Method::PATCH, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.req(Method::DELETE, path, Some(token), None).await
    }

    /// Signs up `name` (with a unique email) and signs in.
    pub async fn user(&self, name: &str) -> TestUser {
        let email = format!("{}@example.com", unique(&name.to_lowercase()));
        let created = self
            .req(
                Method::POST,
                "/api/v1/users",
                None,
                Some(json!({ "email": email, "password": PASSWORD, "name": name })),
            )
            .await
            .expect(201);
        let token = self.sign_in(&email, PASSWORD).await.expect(201).body["token"]
            .as_str()
            .expect("token")
            .to_owned();
        TestUser {
            id: created.body["id"].as_str().expect("id").to_owned(),
            email,
            name: name.to_owned(),
            token,
        }
    }

    /// Asks the check API, as a service.
    pub async fn check(&self, body: Value) -> Resp {
        self.req(
            Method::POST,
            "/api/v1/check",
            Some(SERVICE_TOKEN),
            Some(body),
        )
        .await
    }

    /// Whether `user` may do `permission` on `target` (`("org", id)` or `("project", id)`),
    /// waiting for nothing.
    pub async fn allowed(&self, user: &str, permission: &str, target: (&str, &str)) -> bool {
        let r = self
            .check(json!({ "user": user, "permission": permission, target.0: target.1 }))
            .await
            .expect(200);
        r.body["allowed"].as_bool().expect("allowed")
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Resp {
        self.req(
            Method::POST,
            "/api/v1/sessions",
            None,
            Some(json!({ "email": email, "password": password })),
        )
        .await
    }

    /// Creates an organization owned by `owner`, with a unique name starting `name`; returns it.
    pub async fn org(&self, owner: &TestUser, name: &str) -> Value {
        self.post(
            "/api/v1/orgs",
            &owner.token,
            json!({ "name": unique(name) }),
        )
        .await
        .expect(201)
        .body
    }

    /// Adds `user` to `org` (id or slug) with `roles`, as `by`.
    pub async fn add(&self, by: &TestUser, org: &str, user: &TestUser, roles: &[&str]) -> Resp {
        self.post(
            &format!("/api/v1/orgs/{org}/members"),
            &by.token,
            json!({ "email": user.email, "roles": roles }),
        )
        .await
    }

    /// Sets `user`'s roles in `org`, as `by`.
    pub async fn set_roles(&self, by: &TestUser, org: &str, user: &str, roles: &[&str]) -> Resp {
        self.patch(
            &format!("/api/v1/orgs/{org}/members/{user}"),
            &by.token,
            json!({ "roles": roles }),
        )
        .await
    }

    /// Every member of `org` as (user id, sorted roles), read as `by`, across all pages.
    pub async fn members(&self, by: &TestUser, org: &str) -> Vec<(String, Vec<String>)> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/orgs/{org}/members?limit=100&cursor={c}"),
                None => format!("/api/v1/orgs/{org}/members?limit=100"),
            };
            let page = self.get(&path, &by.token).await.expect(200).body;
            for m in page["items"].as_array().expect("items") {
                let mut roles: Vec<String> = m["roles"]
                    .as_array()
                    .expect("roles")
                    .iter()
                    .map(|r| r.as_str().expect("role").to_owned())
                    .collect();
                roles.sort();
                out.push((m["user"]["id"].as_str().expect("id").to_owned(), roles));
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        out.sort();
        out
    }

    /// The whole audit log of `org`, newest first, read as `by`.
    pub async fn audit(&self, by: &TestUser, org: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/orgs/{org}/audit?limit=100&cursor={c}"),
                None => format!("/api/v1/orgs/{org}/audit?limit=100"),
            };
            let page = self.get(&path, &by.token).await.expect(200).body;
            out.extend(page["items"].as_array().expect("items").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        out
    }
}

/// The token in a mail's link to `path` (e.g. `/invitations/accept`), read through the
/// quoted-printable encoding mail bodies use for long lines.
pub fn link_token(mail: &str, path: &str) -> Option<String> {
    let text = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let start = text.find(&format!("{path}?token="))? + path.len() + "?token=".len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    (!token.is_empty()).then_some(token)
}

impl TestApp {
    /// The mails written so far to `email`.
    pub fn mails_to(&self, email: &str) -> Vec<String> {
        self.mails()
            .into_iter()
            .filter(|m| {
                m.to_lowercase()
                    .contains(&format!("to: {}", email.to_lowercase()))
            })
            .collect()
    }

    /// Waits (up to 10 s) until `email` has received `count` mails; returns them.
    pub async fn wait_mails_to(&self, email: &str, count: usize) -> Vec<String> {
        for _ in 0..200 {
            let m = self.mails_to(email);
            if m.len() >= count {
                return m;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!(
            "{email} did not receive {count} mail(s): {:?}",
            self.mails_to(email)
        );
    }

    /// The token of the newest mail to `email` linking to `path`.
    pub fn newest_token(&self, email: &str, path: &str) -> String {
        self.mails_to(email)
            .iter()
            .rev()
            .find_map(|m| link_token(m, path))
            .unwrap_or_else(|| panic!("no mail to {email} links to {path}"))
    }
}

async fn into_resp(r: reqwest::Response) -> Resp {
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.expect("body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        body,
    }
}
