//! `/orgs/{org}/roles`: the built-in roles and the organization's custom roles.

use super::AppState;
use super::dto::{
    CreateRoleRequest, Page, RoleDto, RoleEditPreviewDto, UpdateRoleAnswer, UpdateRoleQuery,
    UpdateRoleRequest,
};
use super::extract::{AppJson, AppPath, AppQuery, Auth};
use super::openapi::{Conflict, Forbidden, NotFound};
use super::problem::ApiError;
use crate::service::{OrgRef, roles};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

/// Every role of the organization: built-in first, then custom by name (`org.read`).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/roles", tag = "roles", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 200, body = Page<RoleDto>), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn list_roles(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
) -> Result<Json<Page<RoleDto>>, ApiError> {
    let all = roles::list_roles(&s.gh, &who, &OrgRef::parse(&org)).await?;
    Ok(Json(Page {
        items: all.iter().map(RoleDto::from).collect(),
        next_cursor: None,
    }))
}

/// Create a custom role (`roles.manage`; R6: only permissions you hold, never `org.delete` or
/// `org.transfer`).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/roles", tag = "roles", security(("bearer" = [])), request_body = CreateRoleRequest,
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 201, body = RoleDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn create_role(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    AppJson(req): AppJson<CreateRoleRequest>,
) -> Result<(StatusCode, Json<RoleDto>), ApiError> {
    let (name, perms) = req.parse()?;
    let role = roles::create_role(&s.gh, &who, &OrgRef::parse(&org), name, perms).await?;
    Ok((StatusCode::CREATED, Json(RoleDto::from(&role))))
}

/// Rename a custom role or change its permissions (`roles.manage`, R6). With `dry_run=true`,
/// answers how many of its holders would gain or lose each permission and changes nothing (no
/// write, no audit event), refused exactly when the edit would be.
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/roles/{role}", tag = "roles", security(("bearer" = [])), request_body = UpdateRoleRequest,
    params(("org" = String, Path, description = "id or slug"), ("role" = String, Path, description = "role id or name"), UpdateRoleQuery),
    responses((status = 200, body = UpdateRoleAnswer, description = "the role; with `dry_run=true`, the preview"), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn update_role(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, role)): AppPath<(String, String)>,
    AppQuery(q): AppQuery<UpdateRoleQuery>,
    AppJson(req): AppJson<UpdateRoleRequest>,
) -> Result<Json<UpdateRoleAnswer>, ApiError> {
    let change = roles::RoleChange::try_from(req)?;
    let org = OrgRef::parse(&org);
    if q.dry_run == Some(true) {
        let (after, preview) = roles::preview_role_update(&s.gh, &who, &org, &role, change).await?;
        return Ok(Json(UpdateRoleAnswer::Preview(RoleEditPreviewDto::new(
            &after, preview,
        ))));
    }
    let updated = roles::update_role(&s.gh, &who, &org, &role, change).await?;
    Ok(Json(UpdateRoleAnswer::Role(RoleDto::from(&updated))))
}

/// Delete a custom role (`roles.manage`). A role members still hold is refused with 409
/// `role_in_use` and the number of holders.
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/roles/{role}", tag = "roles", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("role" = String, Path, description = "role id or name")),
    responses((status = 204), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn delete_role(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, role)): AppPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    roles::delete_role(&s.gh, &who, &OrgRef::parse(&org), &role).await?;
    Ok(StatusCode::NO_CONTENT)
}
