//! The HTTP edge: handlers extract, call one service function, and map the answer. No SQL and
//! no permission logic here.

pub mod audit;
pub mod authzen;
pub mod billing;
pub mod check;
pub mod cursor;
pub mod dto;
pub mod extract;
pub mod groups;
pub mod invitations;
pub mod members;
pub mod meta;
pub mod openapi;
pub mod orgs;
pub mod passwords;
pub mod problem;
pub mod projects;
pub mod roles;
pub mod schema;
pub mod strict_query;
pub mod tokens;
pub mod transfer;
pub mod users;

pub mod middleware;

use crate::service::Guildhall;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;

/// Largest request body accepted; larger ones get 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Largest batch of checks accepted (1,000 checks fit comfortably).
pub const BATCH_BODY_LIMIT: usize = 1024 * 1024;

/// What every handler can reach: one `Arc`, so the per-request `State` extraction is a reference
/// count, not a copy of every field.
#[derive(Clone)]
pub struct AppState(std::sync::Arc<Shared>);

impl AppState {
    /// Wraps what the handlers share.
    pub fn new(shared: Shared) -> Self {
        AppState(std::sync::Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct Shared {
    /// The use cases.
    pub gh: Guildhall,
    /// The metrics registry `/metrics` renders.
    pub metrics: PrometheusHandle,
    /// The digest of the token other services present to the check API.
    pub service_token: Option<std::sync::Arc<crate::secret::TokenHash>>,
    /// The public base URL, for links (`--public-url`).
    pub public_url: Option<String>,
}

/// The whole HTTP application: API, OpenAPI document, health and metrics, and the web console,
/// with the security headers, request ids, body limit and metrics layers.
pub fn router(state: AppState) -> Router {
    let (api, doc) = openapi::routes().split_for_parts();
    let queries = strict_query::QueryNames::from_openapi(&doc);
    let app = api
        .merge(crate::console::routes())
        .fallback(crate::console::fallback);
    middleware::layers(app.with_state(state), queries)
}
