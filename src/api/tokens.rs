//! `/tokens`: personal access tokens.

use super::AppState;
use super::dto::{CreateTokenRequest, CreatedTokenDto, Page, TokenDto};
use super::extract::{AppJson, AppPath, Auth, path_id};
use super::openapi::{Forbidden, NotFound};
use super::problem::ApiError;
use crate::domain::ids::TokenId;
use crate::service::tokens;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use secrecy::ExposeSecret as _;

/// My API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])),
    responses((status = 200, body = Page<TokenDto>)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<Page<TokenDto>>, ApiError> {
    let items = tokens::list_tokens(&s.gh, &who).await?;
    Ok(Json(Page {
        items: items.iter().map(TokenDto::from).collect(),
        next_cursor: None,
    }))
}

/// Create an API token, optionally limited to one organization and to permissions you hold
/// (R6). The secret is in this answer only. Needs a sign-in session.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])), request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedTokenDto), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn create_token(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppJson(req): AppJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedTokenDto>), ApiError> {
    let input = tokens::NewTokenInput::try_from(req)?;
    let (token, secret) = tokens::create_token(&s.gh, &who, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenDto {
            token: secret.expose_secret().to_owned(),
            record: TokenDto::from(&token),
        }),
    ))
}

/// Revoke one of my API tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", security(("bearer" = [])),
    params(("id" = uuid::Uuid, Path, description = "the token's id")),
    responses((status = 204), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(id): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = TokenId(path_id(&id, "id")?);
    tokens::revoke_token(&s.gh, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
