//! `/orgs/{org}/transfer`: ownership transfer offers (R7).

use super::AppState;
use super::dto::UserDto;
use super::extract::{AppJson, AppPath, Auth};
use super::openapi::{Conflict, Forbidden, Gone, NotFound};
use super::problem::ApiError;
use crate::domain::FieldError;
use crate::domain::ids::UserId;
use crate::domain::names::Email;
use crate::service::OrgRef;
use crate::service::transfer::{self, Receiver, TransferView};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// `POST /orgs/{org}/transfer`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferRequest {
    /// A current `admin`: their user id or their account's email.
    pub to: String,
}

/// An ownership transfer offer.
#[derive(Serialize, ToSchema)]
pub struct TransferDto {
    /// Its id.
    pub id: Uuid,
    /// The owner who made it.
    pub from: UserDto,
    /// The administrator it is made to.
    pub to: UserDto,
    /// `pending`, `accepted`, `declined`, `cancelled` or `expired`.
    pub state: &'static str,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it lapses.
    pub expires_at: DateTime<Utc>,
}

impl From<&TransferView> for TransferDto {
    fn from(v: &TransferView) -> Self {
        TransferDto {
            id: v.transfer.id.0,
            from: UserDto::from(&v.from),
            to: UserDto::from(&v.to),
            state: v.state.as_str(),
            created_at: v.transfer.created_at,
            expires_at: v.transfer.expires_at,
        }
    }
}

/// Offer ownership to a current `admin` (the owner only; one pending offer at a time; it lapses
/// after 7 days). The receiver is mailed.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/transfer", tag = "transfer", security(("bearer" = [])), request_body = OfferRequest,
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 201, body = TransferDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict)))]
pub async fn offer_transfer(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    AppJson(req): AppJson<OfferRequest>,
) -> Result<(StatusCode, Json<TransferDto>), ApiError> {
    let to = match Uuid::parse_str(req.to.trim()) {
        Ok(id) => Receiver::Id(UserId(id)),
        Err(_) => Receiver::Email(Email::parse(&req.to).map_err(|_| {
            ApiError::from(vec![FieldError::new(
                "to",
                "must be the user id or the email of a current `admin`",
            )])
        })?),
    };
    let v = transfer::offer_transfer(&s.gh, &who, &OrgRef::parse(&org), &to).await?;
    Ok((StatusCode::CREATED, Json(TransferDto::from(&v))))
}

/// The pending offer (its receiver, or `members.read`); an expired one shows as `expired`.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/transfer", tag = "transfer", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 200, body = TransferDto), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn get_transfer(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
) -> Result<Json<TransferDto>, ApiError> {
    let v = transfer::get_transfer(&s.gh, &who, &OrgRef::parse(&org)).await?;
    Ok(Json(TransferDto::from(&v)))
}

/// Cancel the pending offer (the owner).
#[utoipa::path(delete, path = "/api/v1/orgs/{org}/transfer", tag = "transfer", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 204), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn cancel_transfer(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    transfer::cancel_transfer(&s.gh, &who, &OrgRef::parse(&org)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accept the offer made to you: you become owner, the former owner `admin` (410 once expired).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/transfer/accept", tag = "transfer", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 204), (status = 404, response = NotFound), (status = 409, response = Conflict), (status = 410, response = Gone)))]
pub async fn accept_transfer(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    transfer::accept_transfer(&s.gh, &who, &OrgRef::parse(&org)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Decline the offer made to you.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/transfer/decline", tag = "transfer", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 204), (status = 404, response = NotFound), (status = 410, response = Gone)))]
pub async fn decline_transfer(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
) -> Result<StatusCode, ApiError> {
    transfer::decline_transfer(&s.gh, &who, &OrgRef::parse(&org)).await?;
    Ok(StatusCode::NO_CONTENT)
}
