//! `/users`, `/sessions`, `/me`.

use super::AppState;
use super::dto::{SessionDto, SignInRequest, SignUpRequest, UserDto};
use super::extract::{AppJson, Auth, ClientIp};
use super::openapi::{Conflict, Forbidden, TooManyRequests, Unauthorized};
use super::problem::ApiError;
use crate::domain::names::Email;
use crate::service::{sessions, users};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use secrecy::{ExposeSecret as _, SecretString};

/// Sign up: creates the account and its personal organization, owned by the new user (R2). An
/// address signing up more than 10 times an hour gets 429 `too_many_attempts` with
/// `Retry-After`.
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = SignUpRequest,
    responses((status = 201, body = UserDto), (status = 409, response = Conflict), (status = 429, response = TooManyRequests)))]
pub async fn sign_up(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<SignUpRequest>,
) -> Result<(StatusCode, Json<UserDto>), ApiError> {
    let input = users::SignUp::try_from(req)?;
    let user = users::sign_up(&s.gh, input, ip).await?;
    Ok((StatusCode::CREATED, Json(UserDto::from(&user))))
}

/// Sign in. A wrong password and an unknown email get the same answer; repeated failures get 429
/// with `Retry-After`.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "accounts", request_body = SignInRequest,
    responses((status = 201, body = SessionDto), (status = 401, response = Unauthorized), (status = 429, response = TooManyRequests)))]
pub async fn sign_in(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<SignInRequest>,
) -> Result<(StatusCode, Json<SessionDto>), ApiError> {
    let email = Email::parse(&req.email).map_err(|e| ApiError::from(vec![e]))?;
    let session = sessions::sign_in(&s.gh, email, SecretString::from(req.password), ip).await?;
    Ok((
        StatusCode::CREATED,
        Json(SessionDto {
            token: session.token.expose_secret().to_owned(),
            expires_at: session.expires_at,
        }),
    ))
}

/// Sign out: ends the session presented.
#[utoipa::path(delete, path = "/api/v1/sessions/current", tag = "accounts", security(("bearer" = [])),
    responses((status = 204), (status = 403, response = Forbidden)))]
pub async fn sign_out(State(s): State<AppState>, Auth(who): Auth) -> Result<StatusCode, ApiError> {
    sessions::sign_out(&s.gh, &who).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The current user.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = UserDto)))]
pub async fn me(Auth(who): Auth) -> Json<UserDto> {
    Json(UserDto::from(&who.user))
}
