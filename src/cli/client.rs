//! The API client every noun goes through: one base URL, one bearer token, problem documents
//! turned into [`CliError`]s, and lists read whole by following `next_cursor`. It speaks only
//! HTTP to `/api/v1`; it never opens a database.
//!
//! Answers stay `serde_json::Value`: `--output json` prints the API's own JSON exactly as the
//! server sent it, whatever fields a newer server adds.

use super::error::{CliError, Result};
use reqwest::{Method, Url};
use serde_json::Value;
use std::time::Duration;

/// How long to wait for a TCP (and TLS) connection: an unreachable server fails within seconds.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one request may take in all.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// The page size lists are read with (the API's largest).
const PAGE: &str = "100";

/// A client of one Guildhall server.
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Option<String>,
}

impl Client {
    /// A client of `server` (a base URL such as `https://guildhall.example.com`).
    pub fn new(server: &str, token: Option<String>) -> Result<Self> {
        let mut base = Url::parse(server.trim()).map_err(|e| {
            CliError::Usage(format!(
                "`{server}` is not a server URL ({e}); use e.g. https://guildhall.example.com"
            ))
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(CliError::Usage(format!(
                "`{server}` is not an http(s) URL; use e.g. https://guildhall.example.com"
            )));
        }
        // Paths are appended as segments: keep a sub-path prefix, drop a trailing slash.
        if base.path().ends_with('/') {
            let trimmed = base.path().trim_end_matches('/').to_owned();
            base.set_path(&trimmed);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("guildhall-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CliError::Other(format!("cannot start the HTTP client: {e}")))?;
        Ok(Client { http, base, token })
    }

    /// The server's base URL, as given.
    pub fn server(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// Whether a token will be sent.
    pub fn signed_in(&self) -> bool {
        self.token.is_some()
    }

    /// `/api/v1/<segments…>`, each segment percent-encoded.
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(["api", "v1"]).extend(segments);
        }
        url
    }

    /// Sends one request and answers its body as JSON (`null` for an empty body).
    pub async fn call(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value> {
        let response = self.send(method, segments, query, body).await?;
        let url = response.url().to_string();
        let bytes = response.bytes().await.map_err(|e| unreachable(&url, &e))?;
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| CliError::Other(format!("the server's answer is not JSON: {e}")))
    }

    /// Sends one request; an error status becomes the problem it carries.
    pub async fn send(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<reqwest::Response> {
        let mut url = self.url(segments);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self.http.request(method, url.clone());
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| unreachable(url.as_str(), &e))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(problem(response).await)
        }
    }

    /// `GET`.
    pub async fn get(&self, segments: &[&str]) -> Result<Value> {
        self.call(Method::GET, segments, &[], None).await
    }

    /// `POST` with a JSON body.
    pub async fn post(&self, segments: &[&str], body: &Value) -> Result<Value> {
        self.call(Method::POST, segments, &[], Some(body)).await
    }

    /// `POST` without a body.
    pub async fn post_empty(&self, segments: &[&str]) -> Result<Value> {
        self.call(Method::POST, segments, &[], None).await
    }

    /// `PUT` without a body.
    pub async fn put_empty(&self, segments: &[&str]) -> Result<Value> {
        self.call(Method::PUT, segments, &[], None).await
    }

    /// `PUT` with a JSON body.
    pub async fn put(&self, segments: &[&str], body: &Value) -> Result<Value> {
        self.call(Method::PUT, segments, &[], Some(body)).await
    }

    /// `PATCH` with a JSON body.
    pub async fn patch(&self, segments: &[&str], body: &Value) -> Result<Value> {
        self.call(Method::PATCH, segments, &[], Some(body)).await
    }

    /// `DELETE`.
    pub async fn delete(&self, segments: &[&str]) -> Result<Value> {
        self.call(Method::DELETE, segments, &[], None).await
    }

    /// Every item of a list, following `next_cursor` to its end.
    pub async fn list(&self, segments: &[&str], query: &[(&str, &str)]) -> Result<Vec<Value>> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut q: Vec<(&str, &str)> = query.to_vec();
            q.push(("limit", PAGE));
            if let Some(c) = &cursor {
                q.push(("cursor", c));
            }
            let page = self.call(Method::GET, segments, &q, None).await?;
            match page.get("items") {
                Some(Value::Array(page_items)) => items.extend(page_items.iter().cloned()),
                _ => {
                    return Err(CliError::Other(
                        "the server's answer is not a list (`items` missing)".to_owned(),
                    ));
                }
            }
            match page.get("next_cursor").and_then(Value::as_str) {
                Some(next) if !next.is_empty() => cursor = Some(next.to_owned()),
                _ => return Ok(items),
            }
        }
    }
}

/// A transport failure: the URL tried and why.
fn unreachable(url: &str, e: &reqwest::Error) -> CliError {
    use std::error::Error as _;
    let mut reason = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = e.source();
    let mut last = String::new();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    if !last.is_empty() {
        reason = format!("{reason} ({last})");
    }
    CliError::Unreachable {
        url: url.to_owned(),
        reason,
    }
}

/// The problem document an error answer carries, or what can be said without one.
async fn problem(response: reqwest::Response) -> CliError {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let fields = body
        .get("errors")
        .and_then(Value::as_array)
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    format!(
                        "{}: {}",
                        e.get("field").and_then(Value::as_str).unwrap_or("?"),
                        e.get("reason").and_then(Value::as_str).unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    CliError::Api {
        status: status.as_u16(),
        title: text("title")
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned()),
        detail: text("detail").unwrap_or_default(),
        code: text("code"),
        fields,
    }
}
