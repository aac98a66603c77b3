//! `/orgs` and `/orgs/{org}`: my organizations, create, read, rename, delete, leave.

use super::AppState;
use super::cursor::{decode_after, encode_after};
use super::dto::{CreateOrgRequest, OrgDto, OrgListQuery, Page, UpdateOrgRequest};
use super::extract::{AppJson, AppPath, AppQuery, Auth};
use super::openapi::{Conflict, Forbidden, NotFound};
use super::problem::ApiError;
use crate::service::{OrgRef, orgs, page_size};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

/// Longest `q` filter.
const MAX_QUERY_CHARS: usize = 100;

/// The organizations I belong to, with my roles, by name; `q` filters by name.
#[utoipa::path(get, path = "/api/v1/orgs", tag = "orgs", security(("bearer" = [])), params(OrgListQuery),
    responses((status = 200, body = Page<OrgDto>)))]
pub async fn list_my_orgs(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppQuery(q): AppQuery<OrgListQuery>,
) -> Result<Json<Page<OrgDto>>, ApiError> {
    if let Some(text) = &q.q {
        let reason = if text.chars().count() > MAX_QUERY_CHARS {
            Some(format!("must be at most {MAX_QUERY_CHARS} characters"))
        } else if text.chars().any(char::is_control) {
            Some("must not contain control characters".to_owned())
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(vec![crate::domain::FieldError::new("q", reason)].into());
        }
    }
    let limit = page_size(q.limit)?;
    let from = q.cursor.as_deref().map(decode_after).transpose()?;
    let page = orgs::list_my_orgs(&s.gh, &who, q.q.as_deref(), from.as_ref(), limit).await?;
    Ok(Json(Page {
        items: page.items.iter().map(|(o, r)| OrgDto::mine(o, r)).collect(),
        next_cursor: page.next.as_ref().map(encode_after),
    }))
}

/// Create an organization; I become its owner. Names are unique across the server (R1).
#[utoipa::path(post, path = "/api/v1/orgs", tag = "orgs", security(("bearer" = [])), request_body = CreateOrgRequest,
    responses((status = 201, body = OrgDto), (status = 403, response = Forbidden), (status = 409, response = Conflict)))]
pub async fn create_org(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppJson(req): AppJson<CreateOrgRequest>,
) -> Result<(StatusCode, Json<OrgDto>), ApiError> {
    let (name, slug) = req.parse()?;
    let (org, roles) = orgs::create_org(&s.gh, &who, name, slug).await?;
    Ok((StatusCode::CREATED, Json(OrgDto::mine(&org, &roles))))
}

/// Read an organization (`org.read`). Non-members get 404 (R12).
#[utoipa::path(get, path = "/api/v1/orgs/{org}", tag = "orgs", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 200, body = OrgDto), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn get_org(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
) -> Result<Json<OrgDto>, ApiError> {
    let access = orgs::get_org(&s.gh, &who, &OrgRef::parse(&org)).await?;
    Ok(Json(OrgDto::mine(&access.org, &access.actor.member.roles)))
}

/// Rename an organization or change its slug (`org.update`, R1).
#[utoipa::path(patch, path = "/api/v1/orgs/{org}", tag = "orgs", security(("bearer" = [])), request_body = UpdateOrgRequest,
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 200, body = OrgDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn update_org(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    AppJson(req): AppJson<UpdateOrgRequest>,
) -> Result<Json<OrgDto>, ApiError> {
    let change = orgs::OrgChange::try_from(req)?;
    let access = orgs::update_org(&s.gh, &who, &OrgRef::parse(&org), change).await?;
    Ok(Json(OrgDto::mine(&access.org, &access.actor.member.roles)))
}

/// Delete an organization: the owner only, never a personal one, and only once no project is
/// left (R5).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}", tag = "orgs", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 204), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn delete_org(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    orgs::delete_org(&s.gh, &who, &OrgRef::parse(&org)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leave an organization; the owner cannot (R4).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/leave", tag = "orgs", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 204), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn leave_org(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    orgs::leave_org(&s.gh, &who, &OrgRef::parse(&org)).await?;
    Ok(StatusCode::NO_CONTENT)
}
