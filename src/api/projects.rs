//! `/orgs/{org}/projects`: projects (R5, R11, R12) and direct project roles.

use super::AppState;
use super::cursor::{decode_after, encode_after};
use super::dto::{
    NameRequest, Page, PageQuery, ProjectDto, ProjectMemberDto, ProjectRoleRequest, UserDto,
};
use super::extract::{AppJson, AppPath, AppQuery, Auth, path_id};
use super::openapi::{Conflict, Forbidden, NotFound};
use super::problem::ApiError;
use crate::domain::ids::UserId;
use crate::service::{OrgRef, page_size, projects};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

/// The projects I reach in the organization (R11): all of them with `projects.read` (or
/// `.manage`/`.deploy`), otherwise those granted to me directly or through a group.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/projects", tag = "projects", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), PageQuery),
    responses((status = 200, body = Page<ProjectDto>), (status = 404, response = NotFound)))]
pub async fn list_projects(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<ProjectDto>>, ApiError> {
    let limit = page_size(q.limit)?;
    let from = q.cursor.as_deref().map(decode_after).transpose()?;
    let page =
        projects::list_projects(&s.gh, &who, &OrgRef::parse(&org), from.as_ref(), limit).await?;
    Ok(Json(Page {
        items: page
            .items
            .iter()
            .map(|(p, r)| ProjectDto::new(p, *r))
            .collect(),
        next_cursor: page.next.as_ref().map(encode_after),
    }))
}

/// Create a project (`projects.create`); names are unique within the organization. The creator
/// gets `admin` on it.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/projects", tag = "projects", security(("bearer" = [])), request_body = NameRequest,
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 201, body = ProjectDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn create_project(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    AppJson(req): AppJson<NameRequest>,
) -> Result<(StatusCode, Json<ProjectDto>), ApiError> {
    let name = req.parse()?;
    let (p, role) = projects::create_project(&s.gh, &who, &OrgRef::parse(&org), name).await?;
    Ok((StatusCode::CREATED, Json(ProjectDto::new(&p, role))))
}

/// Read a project I reach; any other answers 404 (R11).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/projects/{project}", tag = "projects", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("project" = String, Path, description = "id or name")),
    responses((status = 200, body = ProjectDto), (status = 404, response = NotFound)))]
pub async fn get_project(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, project)): AppPath<(String, String)>,
) -> Result<Json<ProjectDto>, ApiError> {
    let (p, role) = projects::get_project(&s.gh, &who, &OrgRef::parse(&org), &project).await?;
    Ok(Json(ProjectDto::new(&p, role)))
}

/// Rename a project (`project.manage` on it: `projects.manage`, or `admin` on the project).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/projects/{project}", tag = "projects", security(("bearer" = [])), request_body = NameRequest,
    params(("org" = String, Path, description = "id or slug"), ("project" = String, Path, description = "id or name")),
    responses((status = 200, body = ProjectDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn rename_project(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, project)): AppPath<(String, String)>,
    AppJson(req): AppJson<NameRequest>,
) -> Result<Json<ProjectDto>, ApiError> {
    let name = req.parse()?;
    let (p, role) =
        projects::rename_project(&s.gh, &who, &OrgRef::parse(&org), &project, name).await?;
    Ok(Json(ProjectDto::new(&p, role)))
}

/// Delete a project with every grant on it (`project.delete` on it).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/projects/{project}", tag = "projects", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("project" = String, Path, description = "id or name")),
    responses((status = 204), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn delete_project(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, project)): AppPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    projects::delete_project(&s.gh, &who, &OrgRef::parse(&org), &project).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give a member a direct role on a project (R6: at most your own role there; `projects.manage`
/// or `admin` on the project).
#[utoipa::path(put, path = "/api/v1/orgs/{org}/projects/{project}/members/{user}", tag = "projects", security(("bearer" = [])), request_body = ProjectRoleRequest,
    params(("org" = String, Path, description = "id or slug"), ("project" = String, Path, description = "id or name"), ("user" = uuid::Uuid, Path, description = "user id")),
    responses((status = 200, body = ProjectMemberDto), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn set_project_member(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, project, user)): AppPath<(String, String, String)>,
    AppJson(req): AppJson<ProjectRoleRequest>,
) -> Result<Json<ProjectMemberDto>, ApiError> {
    let user = UserId(path_id(&user, "user")?);
    let role = req.parse()?;
    let (p, mine, member, role) =
        projects::set_project_member(&s.gh, &who, &OrgRef::parse(&org), &project, user, role)
            .await?;
    Ok(Json(ProjectMemberDto {
        project: ProjectDto::new(&p, mine),
        user: UserDto::from(&member),
        role: role.as_str(),
    }))
}

/// Take a member's direct role on a project (R6: never one above your own there).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/projects/{project}/members/{user}", tag = "projects", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("project" = String, Path, description = "id or name"), ("user" = uuid::Uuid, Path, description = "user id")),
    responses((status = 204), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn remove_project_member(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, project, user)): AppPath<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = UserId(path_id(&user, "user")?);
    projects::remove_project_member(&s.gh, &who, &OrgRef::parse(&org), &project, user).await?;
    Ok(StatusCode::NO_CONTENT)
}
