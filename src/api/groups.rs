//! `/orgs/{org}/groups`: groups, their members and their projects.

use super::AppState;
use super::cursor::{decode_after, encode_after};
use super::dto::{GroupDetailDto, GroupDto, NameRequest, Page, PageQuery, ProjectRoleRequest};
use super::extract::{AppJson, AppPath, AppQuery, Auth, path_id};
use super::openapi::{Conflict, Forbidden, NotFound};
use super::problem::ApiError;
use crate::domain::ids::UserId;
use crate::service::{OrgRef, groups, page_size};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

/// The organization's groups, by name (`members.read`).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/groups", tag = "groups", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), PageQuery),
    responses((status = 200, body = Page<GroupDto>), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn list_groups(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<GroupDto>>, ApiError> {
    let limit = page_size(q.limit)?;
    let from = q.cursor.as_deref().map(decode_after).transpose()?;
    let page = groups::list_groups(&s.gh, &who, &OrgRef::parse(&org), from.as_ref(), limit).await?;
    Ok(Json(Page {
        items: page.items.iter().map(GroupDto::from).collect(),
        next_cursor: page.next.as_ref().map(encode_after),
    }))
}

/// Create a group (`groups.manage`).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/groups", tag = "groups", security(("bearer" = [])), request_body = NameRequest,
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 201, body = GroupDetailDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn create_group(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    AppJson(req): AppJson<NameRequest>,
) -> Result<(StatusCode, Json<GroupDetailDto>), ApiError> {
    let name = req.parse()?;
    let d = groups::create_group(&s.gh, &who, &OrgRef::parse(&org), name).await?;
    Ok((StatusCode::CREATED, Json(GroupDetailDto::from(&d))))
}

/// Read a group with its members and projects (`members.read`).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/groups/{group}", tag = "groups", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("group" = String, Path, description = "id or name")),
    responses((status = 200, body = GroupDetailDto), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn get_group(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, group)): AppPath<(String, String)>,
) -> Result<Json<GroupDetailDto>, ApiError> {
    let d = groups::get_group(&s.gh, &who, &OrgRef::parse(&org), &group).await?;
    Ok(Json(GroupDetailDto::from(&d)))
}

/// Rename a group (`groups.manage`).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/groups/{group}", tag = "groups", security(("bearer" = [])), request_body = NameRequest,
    params(("org" = String, Path, description = "id or slug"), ("group" = String, Path, description = "id or name")),
    responses((status = 200, body = GroupDetailDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn rename_group(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, group)): AppPath<(String, String)>,
    AppJson(req): AppJson<NameRequest>,
) -> Result<Json<GroupDetailDto>, ApiError> {
    let name = req.parse()?;
    let d = groups::rename_group(&s.gh, &who, &OrgRef::parse(&org), &group, name).await?;
    Ok(Json(GroupDetailDto::from(&d)))
}

/// Delete a group; its members lose the project roles it gave (`groups.manage`).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/groups/{group}", tag = "groups", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("group" = String, Path, description = "id or name")),
    responses((status = 204), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn delete_group(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, group)): AppPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    groups::delete_group(&s.gh, &who, &OrgRef::parse(&org), &group).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Put a member in a group (`groups.manage`; R6: you could give each of its project roles).
#[utoipa::path(put, path = "/api/v1/orgs/{org}/groups/{group}/members/{user}", tag = "groups", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("group" = String, Path, description = "id or name"), ("user" = uuid::Uuid, Path, description = "user id")),
    responses((status = 200, body = GroupDetailDto), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn put_group_member(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, group, user)): AppPath<(String, String, String)>,
) -> Result<Json<GroupDetailDto>, ApiError> {
    let user = UserId(path_id(&user, "user")?);
    let d = groups::put_group_member(&s.gh, &who, &OrgRef::parse(&org), &group, user).await?;
    Ok(Json(GroupDetailDto::from(&d)))
}

/// Take a member out of a group (`groups.manage`).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/groups/{group}/members/{user}", tag = "groups", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("group" = String, Path, description = "id or name"), ("user" = uuid::Uuid, Path, description = "user id")),
    responses((status = 204), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn remove_group_member(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, group, user)): AppPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = UserId(path_id(&user, "user")?);
    groups::remove_group_member(&s.gh, &who, &OrgRef::parse(&org), &group, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give a group a role on a project (`groups.manage`; R6: at most your own role there).
#[utoipa::path(put, path = "/api/v1/orgs/{org}/groups/{group}/projects/{project}", tag = "groups", security(("bearer" = [])), request_body = ProjectRoleRequest,
    params(("org" = String, Path, description = "id or slug"), ("group" = String, Path, description = "id or name"), ("project" = String, Path, description = "id or name")),
    responses((status = 200, body = GroupDetailDto), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn put_group_project(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, group, project)): AppPath<(String, String, String)>,
    AppJson(req): AppJson<ProjectRoleRequest>,
) -> Result<Json<GroupDetailDto>, ApiError> {
    let role = req.parse()?;
    let d = groups::put_group_project(&s.gh, &who, &OrgRef::parse(&org), &group, &project, role)
        .await?;
    Ok(Json(GroupDetailDto::from(&d)))
}

/// Take a project from a group (`groups.manage`; R6: never a role above your own there).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/groups/{group}/projects/{project}", tag = "groups", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("group" = String, Path, description = "id or name"), ("project" = String, Path, description = "id or name")),
    responses((status = 204), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn remove_group_project(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, group, project)): AppPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    groups::remove_group_project(&s.gh, &who, &OrgRef::parse(&org), &group, &project).await?;
    Ok(StatusCode::NO_CONTENT)
}
