//! Layers every response passes through: request ids, metrics by route template, security
//! headers, the body limit, and problem documents for unknown routes.

use super::problem::{ApiError, REQUEST_ID};
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics::{Counter, Histogram};
use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower::{Layer, Service};

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
/// headers) is one hand-written layer: the check API sits behind it, and `from_fn` middleware
/// costs about 2 us a request on its own (it boxes a clone of the inner service and splits and
/// rebuilds the request to extract its arguments), as much as the check itself.
pub fn wrap(routes: Router) -> Router {
    layers(
        routes.fallback(not_found),
        super::strict_query::QueryNames::default(),
    )
}

/// [`wrap`] for routes that bring their own fallback (the console answers unknown pages), with
/// the query parameters each API route takes (others are refused, R14).
pub fn layers(routes: Router, queries: super::strict_query::QueryNames) -> Router {
    routes
        .method_not_allowed_fallback(method_not_allowed)
        // One `layer` call: each one boxes every route again, and a boxed route costs an
        // allocation for its clone and one for its future on every request.
        .layer(
            tower::ServiceBuilder::new()
                .layer(EdgeLayer(Arc::new(RouteMetrics::default())))
                .layer(super::strict_query::StrictQueryLayer(queries))
                .layer(RevisionLayer)
                .layer(DefaultBodyLimit::max(super::BODY_LIMIT)),
        )
}

/// The header naming the revision a write committed.
static GUILDHALL_REVISION: HeaderName = HeaderName::from_static("guildhall-revision");

/// Adds [`Revision`] around each route.
#[derive(Clone)]
struct RevisionLayer;

impl<S> Layer<S> for RevisionLayer {
    type Service = Revision<S>;

    fn layer(&self, inner: S) -> Revision<S> {
        Revision { inner }
    }
}

/// Runs the request with a place for the revision it commits (`service::revision`), and puts
/// it in the `Guildhall-Revision` header of the answer when grants changed.
#[derive(Clone)]
struct Revision<S> {
    inner: S,
}

impl<S> Service<Request> for Revision<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = RevisionFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        RevisionFuture {
            answer: crate::service::revision::COMMITTED
                .scope(std::cell::Cell::new(0), self.inner.call(req)),
        }
    }
}

pin_project_lite::pin_project! {
    /// The inner answer, given the revision it committed.
    struct RevisionFuture<F> {
        #[pin]
        answer: tokio::task::futures::TaskLocalFuture<std::cell::Cell<u64>, F>,
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for RevisionFuture<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Ok(mut response) = std::task::ready!(this.answer.as_mut().poll(cx));
        let revision = this
            .answer
            .take_value()
            .map_or(0, std::cell::Cell::into_inner);
        if revision > 0 {
            response
                .headers_mut()
                .insert(GUILDHALL_REVISION.clone(), HeaderValue::from(revision));
        }
        Poll::Ready(Ok(response))
    }
}

/// Adds [`Edge`] around each route.
#[derive(Clone)]
struct EdgeLayer(Arc<RouteMetrics>);

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            inner,
            metrics: self.0.clone(),
        }
    }
}

/// Runs the request with its id in scope (so a 500 can quote it and log it once), records its
/// metrics, and adds the security headers.
#[derive(Clone)]
struct Edge<S> {
    inner: S,
    metrics: Arc<RouteMetrics>,
}

impl<S> Service<Request> for Edge<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = EdgeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let id = given_request_id(&req).unwrap_or_else(fresh_request_id);
        let seen = Seen {
            route: req.extensions().get::<MatchedPath>().cloned(),
            method: req.method().clone(),
            metrics: self.metrics.clone(),
            start: Instant::now(),
        };
        EdgeFuture {
            answer: REQUEST_ID.scope(id, self.inner.call(req)),
            seen: Some(seen),
        }
    }
}

/// What [`Edge`] noted of a request, to finish its answer with.
struct Seen {
    route: Option<MatchedPath>,
    method: Method,
    metrics: Arc<RouteMetrics>,
    start: Instant,
}

pin_project_lite::pin_project! {
    /// The inner answer, finished by [`Edge`] when it is ready. A named future, not a boxed
    /// `async` block: no allocation per request, and nothing the size of the route's future
    /// moved around.
    struct EdgeFuture<F> {
        #[pin]
        answer: tokio::task::futures::TaskLocalFuture<HeaderValue, F>,
        seen: Option<Seen>,
    }
}

impl<F: Future<Output = Result<Response, Infallible>>> Future for EdgeFuture<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Ok(mut response) = std::task::ready!(this.answer.as_mut().poll(cx));
        // The id is moved back out of the task-local, not cloned: cloning a header value made
        // at run time allocates.
        if let Some(seen) = this.seen.take() {
            let id = this.answer.take_value().unwrap_or_else(fresh_request_id);
            seen.finish(&mut response, id);
        }
        Poll::Ready(Ok(response))
    }
}

impl Seen {
    /// Logs and counts the answer, and adds its id and the security headers.
    fn finish(self, response: &mut Response, id: HeaderValue) {
        let elapsed = self.start.elapsed();
        let route = self.route.as_ref().map_or("unmatched", MatchedPath::as_str);
        let status = response.status().as_u16();
        tracing::debug!(
            http.method = %self.method,
            http.route = %route,
            http.status = status,
            elapsed_ms = elapsed.as_secs_f64() * 1e3,
            "request handled"
        );
        self.metrics.record(route, &self.method, status, elapsed);
        let headers = response.headers_mut();
        headers.reserve(SECURITY_HEADERS.len() + 1);
        headers.insert(X_REQUEST_ID.clone(), id);
        for (name, value) in &SECURITY_HEADERS {
            headers.entry(name).or_insert_with(|| value.clone());
        }
    }
}

/// A client's own `x-request-id`, kept only when it is a short token of letters, digits, `-` and
/// `_`: anything else could forge log lines, so it is replaced by a fresh one.
fn given_request_id(req: &Request) -> Option<HeaderValue> {
    req.headers()
        .get(&X_REQUEST_ID)
        .filter(|v| {
            let v = v.as_bytes();
            !v.is_empty()
                && v.len() <= 64
                && v.iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        })
        .cloned()
}

/// A process-wide random prefix and a counter: unique across `serve` processes in practice, and
/// no system call per request (a fresh UUIDv4 asks the kernel for randomness every time).
fn fresh_request_id() -> HeaderValue {
    use std::io::Write as _;
    static PREFIX: LazyLock<u64> = LazyLock::new(rand::random);
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // 16 hex digits, a dash, at most 16 more: formatted on the stack, copied once.
    let mut buf = [0u8; 33];
    let mut w = &mut buf[..];
    let _ = write!(
        w,
        "{:016x}-{:x}",
        *PREFIX,
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let len = 33 - w.len();
    HeaderValue::from_bytes(&buf[..len]).unwrap_or(HeaderValue::from_static("unknown"))
}

/// Request counters and timers by route template (never an id or an email), method and status.
/// The handles are built once per label set: building one from labels allocates and hashes them.
#[derive(Default)]
struct RouteMetrics {
    /// Keyed by route template, which the router gives (never the client): foldhash, not SipHash.
    by_route: RwLock<HashMap<Box<str>, Vec<Series>, foldhash::fast::RandomState>>,
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

/// The API's answer to an unknown route.
pub async fn not_found() -> Response {
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
