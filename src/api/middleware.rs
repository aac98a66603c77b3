//! Layers every response passes through: request ids, metrics by route template, security
//! headers, the body limit, and problem documents for unknown routes.

use super::problem::{ApiError, REQUEST_ID};
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::time::Instant;
use tower_http::set_header::SetResponseHeaderLayer;

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the routes in the layers every answer needs.
pub fn wrap(routes: Router) -> Router {
    let h = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(super::BODY_LIMIT))
        .layer(middleware::from_fn(record_metrics))
        .layer(h(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(h(header::X_FRAME_OPTIONS, "DENY"))
        .layer(h(header::REFERRER_POLICY, "no-referrer"))
        .layer(h(header::CACHE_CONTROL, "no-store"))
        .layer(h(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ))
        .layer(middleware::from_fn(request_scope))
}

/// Runs the request with its id in scope, so a 500 can quote it and log it once. A client's own
/// `x-request-id` is kept only when it is a short token of letters, digits, `-` and `_`: anything
/// else could forge log lines, so it is replaced by a fresh one.
async fn request_scope(mut req: Request, next: Next) -> Response {
    let given = req
        .headers()
        .get(&X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned);
    let id = given.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let value = HeaderValue::from_str(&id).ok();
    if let Some(v) = &value {
        req.headers_mut().insert(X_REQUEST_ID.clone(), v.clone());
    }
    let mut response = REQUEST_ID.scope(id, next.run(req)).await;
    if let Some(v) = value {
        response.headers_mut().insert(X_REQUEST_ID.clone(), v);
    }
    response
}

/// Counts requests and times them, labelled by route template (never an id or an email) and
/// status.
async fn record_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    tracing::debug!(
        http.method = %method,
        http.route = %route,
        http.status = %status,
        elapsed_ms = start.elapsed().as_secs_f64() * 1e3,
        "request handled"
    );
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    response
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
