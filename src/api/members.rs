//! `/orgs/{org}/members`: list, add, change roles, remove, effective permissions.

use super::AppState;
use super::cursor::{decode_after, encode_after};
use super::dto::{
    AddMemberRequest, ChangeRolesAnswer, ChangeRolesQuery, ChangeRolesRequest,
    EffectivePermissionsDto, MemberDto, Page, PageQuery, check_roles,
};
use super::extract::{AppJson, AppPath, AppQuery, Auth, path_id};
use super::openapi::{Conflict, Forbidden, NotFound};
use super::problem::ApiError;
use crate::domain::FieldError;
use crate::domain::ids::UserId;
use crate::domain::names::DisplayName;
use crate::domain::names::Email;
use crate::service::{OrgRef, members, page_size};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

/// Members with their roles, by email (`members.read`).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/members", tag = "members", security(("bearer" = [])), params(("org" = String, Path, description = "id or slug"), PageQuery),
    responses((status = 200, body = Page<MemberDto>), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn list_members(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<MemberDto>>, ApiError> {
    let limit = page_size(q.limit)?;
    let from = q.cursor.as_deref().map(decode_after).transpose()?;
    let page =
        members::list_members(&s.gh, &who, &OrgRef::parse(&org), from.as_ref(), limit).await?;
    Ok(Json(Page {
        items: page.items.iter().map(MemberDto::from).collect(),
        next_cursor: page.next.as_ref().map(encode_after),
    }))
}

/// Add a registered user with roles (`members.invite`; R6: only roles you may grant).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/members", tag = "members", security(("bearer" = [])), request_body = AddMemberRequest,
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 201, body = MemberDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn add_member(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    AppJson(req): AppJson<AddMemberRequest>,
) -> Result<(StatusCode, Json<MemberDto>), ApiError> {
    let mut errors = Vec::new();
    let email = Email::parse(&req.email).map_err(|e| errors.push(e)).ok();
    if let Err(e) = check_roles(&req.roles) {
        errors.extend(e);
    }
    let register = match (req.register, req.name.as_deref()) {
        (true, Some(name)) => DisplayName::parse(name).map_err(|e| errors.push(e)).ok(),
        (true, None) => {
            errors.push(FieldError::new("name", "is needed with `register: true`"));
            None
        }
        (false, Some(_)) => {
            errors.push(FieldError::new("name", "goes only with `register: true`"));
            None
        }
        (false, None) => None,
    };
    let Some(email) = email.filter(|_| errors.is_empty()) else {
        return Err(errors.into());
    };
    let member = members::add_member(
        &s.gh,
        &who,
        &OrgRef::parse(&org),
        email,
        &req.roles,
        register,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(MemberDto::from(&member))))
}

/// Set a member's roles (`members.manage`; R3: never `owner`, never the owner's; R6: only roles
/// you may grant, never your own). With `dry_run=true`, answers what the change would do and
/// changes nothing (no write, no audit event), refused exactly when the change would be.
#[utoipa::path(patch, path = "/api/v1/orgs/{org}/members/{user}", tag = "members", security(("bearer" = [])), request_body = ChangeRolesRequest,
    params(("org" = String, Path, description = "id or slug"), ("user" = uuid::Uuid, Path, description = "user id"), ChangeRolesQuery),
    responses((status = 200, body = ChangeRolesAnswer, description = "the member; with `dry_run=true`, the preview"), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn change_member_roles(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, user)): AppPath<(String, String)>,
    AppQuery(q): AppQuery<ChangeRolesQuery>,
    AppJson(req): AppJson<ChangeRolesRequest>,
) -> Result<Json<ChangeRolesAnswer>, ApiError> {
    let user = UserId(path_id(&user, "user")?);
    check_roles(&req.roles)?;
    let org = OrgRef::parse(&org);
    if q.dry_run == Some(true) {
        let preview = members::preview_member_roles(&s.gh, &who, &org, user, &req.roles).await?;
        return Ok(Json(ChangeRolesAnswer::Preview(preview.into())));
    }
    let member = members::change_member_roles(&s.gh, &who, &org, user, &req.roles).await?;
    Ok(Json(ChangeRolesAnswer::Member(MemberDto::from(&member))))
}

/// Remove a member (`members.manage`; never the owner, never someone above you).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/members/{user}", tag = "members", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("user" = uuid::Uuid, Path, description = "user id")),
    responses((status = 204), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn remove_member(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, user)): AppPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = UserId(path_id(&user, "user")?);
    members::remove_member(&s.gh, &who, &OrgRef::parse(&org), user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A member's effective permissions with where each comes from (your own, or anyone's with
/// `members.read`).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/members/{user}/permissions", tag = "members", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("user" = uuid::Uuid, Path, description = "user id")),
    responses((status = 200, body = EffectivePermissionsDto), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn member_permissions(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, user)): AppPath<(String, String)>,
) -> Result<Json<EffectivePermissionsDto>, ApiError> {
    let user = UserId(path_id(&user, "user")?);
    let effective = members::member_permissions(&s.gh, &who, &OrgRef::parse(&org), user).await?;
    Ok(Json(EffectivePermissionsDto::from(effective)))
}
