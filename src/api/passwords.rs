//! `/password`: "forgot password" and setting a password with a one-time link (R10).

use super::AppState;
use super::extract::{AppJson, ClientIp};
use super::openapi::{Gone, NotFound, TooManyRequests};
use super::problem::ApiError;
use crate::domain::names::{Email, Password};
use crate::service::passwords;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /password/forgot`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgotPasswordRequest {
    /// The account's email.
    pub email: String,
}

/// `POST /password/set`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordRequest {
    /// The token from the link.
    pub token: String,
    /// The new password: 8 characters to 1 KiB, not common or guessable, and not the
    /// account's email or name (400 `password_too_weak` says why).
    pub password: String,
}

/// The answer to "forgot password": always the same, empty.
#[derive(Serialize, ToSchema)]
pub struct AcceptedRequestDto {}

/// Ask for a password reset link. Always 202 with `{}`, whether or not an account has this
/// email; if one has, it is mailed a link valid 24 hours (at most one a minute; a new link
/// replaces the old one). An address asking more than 10 times an hour gets 429
/// `too_many_attempts` with `Retry-After`, whatever the email.
#[utoipa::path(post, path = "/api/v1/password/forgot", tag = "accounts", request_body = ForgotPasswordRequest,
    responses((status = 202, body = AcceptedRequestDto), (status = 429, response = TooManyRequests)))]
pub async fn forgot_password(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<ForgotPasswordRequest>,
) -> Result<(StatusCode, Json<AcceptedRequestDto>), ApiError> {
    let email = Email::parse(&req.email).map_err(|e| ApiError::from(vec![e]))?;
    passwords::forgot_password(&s.gh, email, ip).await?;
    Ok((StatusCode::ACCEPTED, Json(AcceptedRequestDto {})))
}

/// What setting a password ended: every session and every API token of the account.
#[derive(Serialize, ToSchema)]
pub struct PasswordSetDto {
    /// What happened, for a person.
    pub message: &'static str,
    /// Sign-in sessions ended.
    pub sessions_ended: u64,
    /// API tokens revoked.
    pub tokens_revoked: u64,
}

/// Set a password with the token of a set-password or reset link (single use, 24 hours). Every
/// session of the account ends and every API token is revoked, in the same transaction; the
/// answer says how many, and the account is mailed so. Unknown or used token: 404
/// `password_token_not_found`; expired: 410 `password_token_expired`.
#[utoipa::path(post, path = "/api/v1/password/set", tag = "accounts", request_body = SetPasswordRequest,
    responses((status = 200, body = PasswordSetDto), (status = 404, response = NotFound), (status = 410, response = Gone)))]
pub async fn set_password(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    AppJson(req): AppJson<SetPasswordRequest>,
) -> Result<Json<PasswordSetDto>, ApiError> {
    let mut errors = Vec::new();
    let token = req.token.trim();
    if token.is_empty() || token.len() > 200 {
        errors.push(crate::domain::FieldError::new(
            "token",
            "must be the token from the link (1 to 200 characters)",
        ));
    }
    let password = Password::parse(req.password)
        .map_err(|e| errors.push(e))
        .ok();
    let Some(password) = password.filter(|_| errors.is_empty()) else {
        return Err(errors.into());
    };
    let ended = passwords::set_password(&s.gh, token, password, ip).await?;
    Ok(Json(PasswordSetDto {
        message: "your password is set; your sessions and API tokens were ended: sign in again \
                  with the new password (POST /api/v1/sessions) and create new API tokens \
                  where you need them",
        sessions_ended: ended.sessions_ended,
        tokens_revoked: ended.tokens_revoked,
    }))
}
