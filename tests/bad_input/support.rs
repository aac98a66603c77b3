//! The machinery every bad-input test shares: the world a test starts from, a table of cases,
//! and snapshots of everything a user can see, compared after every case.

use crate::common::{Resp, TestApp, TestUser};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// An id that names nothing.
pub const NIL: &str = "00000000-0000-0000-0000-000000000000";
/// The body limit of the server (SPEC: 64 KiB; larger bodies get 413).
pub const BODY_LIMIT: usize = 64 * 1024;

/// A request body.
#[derive(Clone, Debug)]
pub enum Body {
    /// No body.
    None,
    /// A JSON value, sent as `application/json`.
    Json(Value),
    /// Bytes, with this content type or none at all.
    Raw {
        content_type: Option<&'static str>,
        bytes: Vec<u8>,
    },
    /// Bytes sent as `application/json` with `Transfer-Encoding: chunked`: no length is
    /// announced, so the server only learns the size by reading.
    Chunked(Vec<u8>),
}

impl Body {
    /// Bytes sent as `application/json`, whatever they are.
    pub fn json_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Body::Raw {
            content_type: Some("application/json"),
            bytes: bytes.into(),
        }
    }
}

/// One bad request and the problem it must get.
#[derive(Clone, Debug)]
pub struct Case {
    pub label: String,
    pub method: Method,
    pub path: String,
    /// The bearer token, when not the table's default.
    pub token: Option<String>,
    pub body: Body,
    pub status: u16,
    pub code: &'static str,
    /// Fields the problem's `errors` must name.
    pub fields: Vec<String>,
}

fn short(s: &str) -> String {
    if s.chars().count() > 100 {
        let head: String = s.chars().take(100).collect();
        format!("{head}… ({} chars)", s.chars().count())
    } else {
        s.to_owned()
    }
}

impl Case {
    /// A request with `body`; the label says method, path and body.
    pub fn new(method: Method, path: impl Into<String>, body: Body) -> Self {
        let path = path.into();
        let shown = match &body {
            Body::None => String::new(),
            Body::Json(v) => format!(" {}", short(&v.to_string())),
            Body::Raw {
                content_type,
                bytes,
            } => format!(
                " [{}] {}",
                content_type.unwrap_or("no content type"),
                short(&String::from_utf8_lossy(bytes))
            ),
            Body::Chunked(bytes) => {
                format!(" [chunked] {}", short(&String::from_utf8_lossy(bytes)))
            }
        };
        Case {
            label: format!("{method} {}{shown}", short(&path)),
            method,
            path,
            token: None,
            body,
            status: 0,
            code: "",
            fields: Vec::new(),
        }
    }

    pub fn json(method: Method, path: impl Into<String>, body: Value) -> Self {
        Case::new(method, path, Body::Json(body))
    }

    pub fn get(path: impl Into<String>) -> Self {
        Case::new(Method::GET, path, Body::None)
    }

    pub fn delete(path: impl Into<String>) -> Self {
        Case::new(Method::DELETE, path, Body::None)
    }

    /// The status and code the answer must carry.
    pub fn expect(mut self, status: u16, code: &'static str) -> Self {
        self.status = status;
        self.code = code;
        self
    }

    /// `400 validation_failed`, naming `field` in `errors`.
    pub fn invalid(self, field: &str) -> Self {
        self.expect(400, "validation_failed").field(field)
    }

    /// The problem's `errors` must name `field` too.
    pub fn field(mut self, field: &str) -> Self {
        self.fields.push(field.to_owned());
        self
    }

    /// A clearer label than the request itself.
    pub fn labelled(mut self, label: impl Into<String>) -> Self {
        self.label = format!("{} — {}", label.into(), self.label);
        self
    }

    /// Sent with this bearer token instead of the table's default.
    pub fn with_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }
}

/// `base` (an object) with `key` set to `value`.
pub fn with(base: &Value, key: &str, value: Value) -> Value {
    let mut v = base.clone();
    v.as_object_mut()
        .expect("an object")
        .insert(key.to_owned(), value);
    v
}

/// `base` (an object) without `key`.
pub fn without(base: &Value, key: &str) -> Value {
    let mut v = base.clone();
    v.as_object_mut().expect("an object").remove(key);
    v
}

/// Sends one request.
pub async fn send(
    app: &TestApp,
    method: &Method,
    path: &str,
    token: Option<&str>,
    body: &Body,
) -> Resp {
    match body {
        Body::None => app.req(method.clone(), path, token, None).await,
        Body::Json(v) => app.req(method.clone(), path, token, Some(v.clone())).await,
        Body::Raw {
            content_type,
            bytes,
        } => {
            let mut rb = app
                .client
                .request(method.clone(), app.url(path))
                .body(bytes.clone());
            if let Some(ct) = content_type {
                rb = rb.header("content-type", *ct);
            }
            if let Some(t) = token {
                rb = rb.bearer_auth(t);
            }
            let r = rb.send().await.expect("request sent");
            let status = r.status();
            let headers = r.headers().clone();
            let bytes = r.bytes().await.expect("body");
            Resp {
                status,
                headers,
                body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            }
        }
        Body::Chunked(bytes) => {
            let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
            let head = format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
                 Transfer-Encoding: chunked\r\nConnection: close\r\n{auth}\r\n",
                app.addr
            );
            let mut chunks: Vec<Vec<u8>> = bytes
                .chunks(8 * 1024)
                .map(|c| {
                    let mut framed = format!("{:x}\r\n", c.len()).into_bytes();
                    framed.extend_from_slice(c);
                    framed.extend_from_slice(b"\r\n");
                    framed
                })
                .collect();
            chunks.push(b"0\r\n\r\n".to_vec());
            send_raw_http(app, head, chunks).await
        }
    }
}

/// Sends a request written byte by byte over a fresh connection (for what an HTTP client will
/// not send: chunked bodies of unknown length, raw bytes in paths). The body chunks are written
/// from another task, so a server that answers early and stops reading cannot block the test.
pub async fn send_raw_http(app: &TestApp, head: String, chunks: Vec<Vec<u8>>) -> Resp {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let stream = tokio::net::TcpStream::connect(app.addr)
        .await
        .expect("connect");
    let (mut rd, mut wr) = stream.into_split();
    // The write half is handed back rather than dropped: dropping it half-closes the
    // connection, and the server would drop the request unanswered.
    let writer = tokio::spawn(async move {
        // The server may answer and close before the whole body is written: that is allowed.
        if wr.write_all(head.as_bytes()).await.is_err() {
            return wr;
        }
        for c in chunks {
            if wr.write_all(&c).await.is_err() {
                return wr;
            }
        }
        let _ = wr.flush().await;
        wr
    });
    let mut raw = Vec::new();
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let mut buf = [0u8; 8192];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
            if complete_response(&raw) {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within 30 s to a raw request");
    writer.abort();
    parse_response(&raw)
}

fn split_head(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    raw.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (&raw[..i], &raw[i + 4..]))
}

fn content_length(head: &[u8]) -> Option<usize> {
    String::from_utf8_lossy(head).lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse().ok())
            .flatten()
    })
}

fn complete_response(raw: &[u8]) -> bool {
    match split_head(raw) {
        Some((head, body)) => content_length(head).is_some_and(|n| body.len() >= n),
        None => false,
    }
}

fn parse_response(raw: &[u8]) -> Resp {
    let (head, body) = split_head(raw).unwrap_or_else(|| {
        panic!(
            "not an HTTP answer: {:?}",
            String::from_utf8_lossy(&raw[..raw.len().min(300)])
        )
    });
    let head = String::from_utf8_lossy(head).into_owned();
    let mut lines = head.lines();
    let status_line = lines.next().expect("status line");
    let code: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let mut headers = reqwest::header::HeaderMap::new();
    for l in lines {
        if let Some((k, v)) = l.split_once(':')
            && let (Ok(k), Ok(v)) = (
                reqwest::header::HeaderName::from_bytes(k.trim().as_bytes()),
                reqwest::header::HeaderValue::from_str(v.trim()),
            )
        {
            headers.append(k, v);
        }
    }
    let body = match content_length(head.as_bytes()) {
        Some(n) => &body[..n.min(body.len())],
        None => body,
    };
    Resp {
        status: reqwest::StatusCode::from_u16(code).expect("status"),
        headers,
        body: serde_json::from_slice(body).unwrap_or(Value::Null),
    }
}

/// Asserts `r` is a problem document with `status` and `code`, a non-empty `detail`, and (for
/// validation errors) `errors` naming each of `fields`.
pub fn check_problem(label: &str, r: Resp, status: u16, code: &str, fields: &[String]) {
    assert_eq!(
        (r.status.as_u16(), r.code()),
        (status, code),
        "{label}: unexpected answer {:#}",
        r.body
    );
    let ct = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert_eq!(ct, "application/problem+json", "{label}: content type");
    assert_eq!(
        r.body["status"], status,
        "{label}: `status` member of {:#}",
        r.body
    );
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty()),
        "{label}: a problem needs a `detail` a person can read: {:#}",
        r.body
    );
    for f in fields {
        let named = r.body["errors"].as_array().is_some_and(|es| {
            es.iter()
                .any(|e| e["field"] == f.as_str() && e["reason"].is_string())
        });
        assert!(named, "{label}: `errors` should name `{f}`: {:#}", r.body);
    }
    r.expect_problem(status, code);
}

/// An organization as tests refer to it.
#[derive(Clone, Debug)]
pub struct Org {
    pub id: String,
    pub slug: String,
    pub name: String,
}

impl Org {
    pub fn from_json(v: &Value) -> Self {
        Org {
            id: v["id"].as_str().expect("org id").to_owned(),
            slug: v["slug"].as_str().expect("org slug").to_owned(),
            name: v["name"].as_str().expect("org name").to_owned(),
        }
    }
}

/// The world every test starts from:
/// - Owen owns `acme`, with Mia as `developer` and custom roles `Auditor` (held by nobody)
///   and `Release Manager` (held by Mia);
/// - Otto owns `rival` and is in no organization with Owen;
/// - Owen and Otto each hold one API token.
pub struct World {
    pub owner: TestUser,
    pub member: TestUser,
    pub outsider: TestUser,
    pub acme: Org,
    pub rival: Org,
    pub owner_token_id: String,
    pub outsider_token_id: String,
    pub outsider_token_secret: String,
}

pub async fn world(app: &TestApp) -> World {
    let owner = app.user("Owen").await;
    let member = app.user("Mia").await;
    let outsider = app.user("Otto").await;
    let acme = Org::from_json(&app.org(&owner, "Acme ").await);
    let rival = Org::from_json(&app.org(&outsider, "Rival ").await);
    app.add(&owner, &acme.id, &member, &["developer"])
        .await
        .expect(201);
    let roles = format!("/api/v1/orgs/{}/roles", acme.id);
    app.post(
        &roles,
        &owner.token,
        json!({ "name": "Auditor", "permissions": ["org.read", "audit.read"] }),
    )
    .await
    .expect(201);
    app.post(
        &roles,
        &owner.token,
        json!({ "name": "Release Manager", "permissions": ["org.read", "projects.deploy"] }),
    )
    .await
    .expect(201);
    app.set_roles(
        &owner,
        &acme.id,
        &member.id,
        &["developer", "Release Manager"],
    )
    .await
    .expect(200);
    let owner_token = app
        .post("/api/v1/tokens", &owner.token, json!({ "name": "ci" }))
        .await
        .expect(201)
        .body;
    let outsider_token = app
        .post(
            "/api/v1/tokens",
            &outsider.token,
            json!({ "name": "deploy", "org": rival.id }),
        )
        .await
        .expect(201)
        .body;
    World {
        owner,
        member,
        outsider,
        acme,
        rival,
        owner_token_id: str_field(&owner_token, "id"),
        outsider_token_id: str_field(&outsider_token, "id"),
        outsider_token_secret: str_field(&outsider_token, "token"),
    }
}

fn str_field(v: &Value, key: &str) -> String {
    v[key].as_str().expect("token field").to_owned()
}

impl World {
    /// Everything the three users can see: their organizations (with roles), their tokens, and
    /// for both organizations the members, roles and audit log.
    pub fn watch(&self) -> Watch {
        let mut w = Watch::default();
        for u in [&self.owner, &self.member, &self.outsider] {
            w.get(
                format!("orgs of {}", u.name),
                &u.token,
                "/api/v1/orgs?limit=100",
            );
            w.get(format!("tokens of {}", u.name), &u.token, "/api/v1/tokens");
            w.get(format!("{} (me)", u.name), &u.token, "/api/v1/me");
        }
        for (reader, org) in [(&self.owner, &self.acme), (&self.outsider, &self.rival)] {
            w.get(
                format!("org {}", org.name),
                &reader.token,
                &format!("/api/v1/orgs/{}", org.id),
            );
            w.get(
                format!("roles of {}", org.name),
                &reader.token,
                &format!("/api/v1/orgs/{}/roles", org.id),
            );
            w.probes
                .push(Probe::Members(reader.clone(), org.id.clone()));
            w.probes.push(Probe::Audit(reader.clone(), org.id.clone()));
        }
        w
    }
}

/// One thing to read for a snapshot.
#[derive(Clone, Debug)]
pub enum Probe {
    /// A GET that must answer 200.
    Get {
        label: String,
        token: String,
        path: String,
    },
    /// Every member of an organization (id) with sorted roles, read as this user.
    Members(TestUser, String),
    /// The whole audit log of an organization (id), read as this user.
    Audit(TestUser, String),
}

/// What a snapshot reads.
#[derive(Clone, Debug, Default)]
pub struct Watch {
    pub probes: Vec<Probe>,
}

/// What a snapshot saw: one value per probe.
pub type Snapshot = BTreeMap<String, Value>;

impl Watch {
    pub fn get(&mut self, label: impl Into<String>, token: &str, path: &str) {
        self.probes.push(Probe::Get {
            label: label.into(),
            token: token.to_owned(),
            path: path.to_owned(),
        });
    }

    pub async fn snapshot(&self, app: &TestApp) -> Snapshot {
        let mut out = BTreeMap::new();
        for p in &self.probes {
            let (label, value) = match p {
                Probe::Get { label, token, path } => {
                    let r = app.get(path, token).await;
                    assert_eq!(r.status, 200, "snapshot read {path}: {:#}", r.body);
                    if let Some(c) = r.body.get("next_cursor") {
                        assert!(c.is_null(), "snapshot read {path} needs one page");
                    }
                    (label.clone(), r.body)
                }
                Probe::Members(reader, org) => {
                    let members: Vec<Value> = app
                        .members(reader, org)
                        .await
                        .into_iter()
                        .map(|(id, roles)| json!({ "user": id, "roles": roles }))
                        .collect();
                    (format!("members of {org}"), Value::Array(members))
                }
                Probe::Audit(reader, org) => (
                    format!("audit of {org}"),
                    Value::Array(app.audit(reader, org).await),
                ),
            };
            out.insert(label, value);
        }
        out
    }
}

/// Asserts nothing in `after` differs from `before`, naming the first thing that did.
pub fn assert_unchanged(label: &str, before: &Snapshot, after: &Snapshot) {
    for (key, was) in before {
        let now = after.get(key).unwrap_or(&Value::Null);
        assert_eq!(
            was, now,
            "{label}: changed `{key}`, but bad input must change nothing"
        );
    }
    assert_eq!(before.len(), after.len(), "{label}: snapshot shape");
}

/// Sends every case (with `token` unless the case says otherwise), checks each answer, and
/// checks after each one that nothing `watch` sees has changed.
pub async fn run_cases(app: &TestApp, token: Option<&str>, watch: &Watch, cases: &[Case]) {
    assert!(!cases.is_empty(), "an empty table tests nothing");
    let before = watch.snapshot(app).await;
    for case in cases {
        assert!(case.status >= 400, "{}: no expectation set", case.label);
        let r = send(
            app,
            &case.method,
            &case.path,
            case.token.as_deref().or(token),
            &case.body,
        )
        .await;
        check_problem(&case.label, r, case.status, case.code, &case.fields);
        let after = watch.snapshot(app).await;
        assert_unchanged(&case.label, &before, &after);
    }
}

/// `n` characters of `c`.
pub fn chars(c: char, n: usize) -> String {
    std::iter::repeat_n(c, n).collect()
}

/// URL-safe base64 without padding (the server's cursor alphabet), to forge cursors.
pub fn b64(raw: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = raw.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let take = chunk.len() + 1;
        for i in 0..take {
            let idx = (n >> (18 - 6 * i)) & 63;
            out.push(char::from(ALPHABET[idx as usize]));
        }
    }
    out
}

/// Percent-encodes everything but unreserved characters, for query values.
pub fn enc(raw: &str) -> String {
    let mut out = String::new();
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
