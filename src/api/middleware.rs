//! Layers every response passes through: request ids, metrics by route template, security
//! headers, the body limit, and problem documents for unknown routes.

use super::problem::{ApiError, REQUEST_ID};
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Histogram};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Headers every answer carries unless the handler set its own.
static SECURITY_HEADERS: [(HeaderName, HeaderValue); 5] = [
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
    ),
];

/// Wraps the routes in the layers every answer needs. The per-request work (id, metrics,
/// headers) is one layer: the check API sits behind it, and every layer costs on each call.
pub fn wrap(routes: Router) -> Router {
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(super::BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            Arc::new(RouteMetrics::default()),
            edge,
        ))
}

/// Runs the request with its id in scope (so a 500 can quote it and log it once), records its
/// metrics, and adds the security headers.
async fn edge(State(metrics): State<Arc<RouteMetrics>>, mut req: Request, next: Next) -> Response {
    let id = given_request_id(&req).unwrap_or_else(fresh_request_id);
    let value = HeaderValue::from_str(&id).ok();
    if let Some(v) = &value {
        req.headers_mut().insert(X_REQUEST_ID.clone(), v.clone());
    }
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let start = Instant::now();
    let mut response = REQUEST_ID.scope(id, next.run(req)).await;
    let elapsed = start.elapsed();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    let status = response.status().as_u16();
    tracing::debug!(
        http.method = %method,
        http.route = %route,
        http.status = status,
        elapsed_ms = elapsed.as_secs_f64() * 1e3,
        "request handled"
    );
    metrics.record(route, &method, status, elapsed);
    let headers = response.headers_mut();
    if let Some(v) = value {
        headers.insert(X_REQUEST_ID.clone(), v);
    }
    for (name, value) in &SECURITY_HEADERS {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), value.clone());
        }
    }
    response
}

/// A client's own `x-request-id`, kept only when it is a short token of letters, digits, `-` and
/// `_`: anything else could forge log lines, so it is replaced by a fresh one.
fn given_request_id(req: &Request) -> Option<String> {
    req.headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
}

/// A process-wide random prefix and a counter: unique across `serve` processes in practice, and
/// no system call per request (a fresh UUIDv4 asks the kernel for randomness every time).
fn fresh_request_id() -> String {
    static PREFIX: LazyLock<u64> = LazyLock::new(rand::random);
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{:016x}-{:x}",
        *PREFIX,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Request counters and timers by route template (never an id or an email), method and status.
/// The handles are built once per label set: building one from labels allocates and hashes them.
#[derive(Default)]
struct RouteMetrics {
    by_route: RwLock<HashMap<Box<str>, Vec<Series>>>,
}

struct Series {
    method: Method,
    status: u16,
    requests: Counter,
    duration: Histogram,
}

impl RouteMetrics {
    fn record(&self, route: &str, method: &Method, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        {
            let known = self.by_route.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(s) = known.get(route).and_then(|list| {
                list.iter()
                    .find(|s| s.status == status && s.method == method)
            }) {
                s.requests.increment(1);
                s.duration.record(seconds);
                return;
            }
        }
        let labels = [
            ("method", method.as_str().to_owned()),
            ("route", route.to_owned()),
            ("status", status.to_string()),
        ];
        let series = Series {
            method: method.clone(),
            status,
            requests: metrics::counter!("http_requests_total", &labels),
            duration: metrics::histogram!("http_request_duration_seconds", &labels),
        };
        series.requests.increment(1);
        series.duration.record(seconds);
        self.by_route
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(route.into())
            .or_default()
            .push(series);
    }
}

async fn not_found() -> Response {
    ApiError::edge(StatusCode::NOT_FOUND, "route_not_found", "no such route").into_response()
}

async fn method_not_allowed() -> Response {
    ApiError::edge(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
    .into_response()
}
