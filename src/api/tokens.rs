//! `/tokens`: personal access tokens.

use super::AppState;
use super::cursor::{decode_after, encode_after};
use super::dto::{CreateTokenRequest, CreatedTokenDto, Page, PageQuery, TokenDto};
use super::extract::{AppJson, AppPath, AppQuery, Auth, path_id};
use super::openapi::{Conflict, Forbidden, NotFound};
use super::problem::ApiError;
use crate::domain::ids::TokenId;
use crate::service::{page_size, tokens};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use secrecy::ExposeSecret as _;

/// My API tokens (never their secrets), newest first, a page at a time; expired ones stay
/// listed until revoked.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, body = Page<TokenDto>)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<TokenDto>>, ApiError> {
    let limit = page_size(q.limit)?;
    let from = q.cursor.as_deref().map(decode_after).transpose()?;
    let page = tokens::list_tokens(&s.gh, &who, from.as_ref(), limit).await?;
    Ok(Json(Page {
        items: page.items.iter().map(TokenDto::from).collect(),
        next_cursor: page.next.as_ref().map(encode_after),
    }))
}

/// Create an API token, optionally limited to one organization and to permissions you hold
/// (R6). The secret is in this answer only. Needs a sign-in session. It expires at
/// `expires_at` (at most the server's maximum ahead, 365 days unless configured), or after the
/// server's default (90 days unless configured). At most 100 live tokens per account: 409
/// `token_limit_reached` beyond.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", security(("bearer" = [])), request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedTokenDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
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
