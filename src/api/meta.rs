//! The permission catalog, health, readiness and metrics.

use super::AppState;
use super::dto::{CatalogDto, PermissionDto, RoleDto};
use super::openapi::Unavailable;
use super::problem::ApiError;
use crate::domain::permission::{BuiltinRole, Permission};
use crate::domain::role::AssignedRole;
use crate::store::StoreError;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

/// The permission catalog and the built-in roles (SPEC §2, §3).
#[utoipa::path(get, path = "/api/v1/permissions", tag = "meta",
    responses((status = 200, body = CatalogDto)))]
pub async fn permission_catalog() -> Json<CatalogDto> {
    Json(CatalogDto {
        permissions: Permission::ALL
            .iter()
            .map(|p| PermissionDto {
                name: p.as_str(),
                description: p.description(),
            })
            .collect(),
        roles: BuiltinRole::ALL
            .iter()
            .map(|b| RoleDto::from(&AssignedRole::Builtin(*b)))
            .collect(),
    })
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "alive")))]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "meta",
    responses((status = 200, description = "ready"), (status = 503, response = Unavailable)))]
pub async fn readyz(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    // A load balancer asks often and waits little: the answer comes within a second, whatever
    // the database does.
    let ping = tokio::time::timeout(std::time::Duration::from_secs(1), s.gh.store.ping()).await;
    match ping {
        Ok(Ok(())) => Ok(Json(
            serde_json::json!({ "status": "ok", "database": s.gh.store.backend() }),
        )),
        Ok(Err(StoreError::StorageFull)) => Err(ApiError::edge(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_full",
            "the database's disk is full: writes fail until space is freed",
        )),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::edge(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "the database does not answer",
            ))
        }
        Err(_) => {
            tracing::warn!("readiness check: the database did not answer within 1 s");
            Err(ApiError::edge(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "the database did not answer within a second",
            ))
        }
    }
}

/// Prometheus metrics: requests by route template and status, and their latencies.
#[utoipa::path(get, path = "/metrics", tag = "meta",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(),
    )
}
