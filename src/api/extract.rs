//! Extractors: the bearer credential, JSON bodies and queries whose rejections become problem
//! documents, and the client's address.

use super::AppState;
use super::problem::ApiError;
use crate::domain::FieldError;
use crate::service::{Principal, sessions};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

/// The authenticated caller: a bearer session or API token (R12 starts here: no token, no
/// organization).
pub struct Auth(pub Principal);

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = client_ip(parts);
        Ok(Auth(
            sessions::authenticate(&state.gh, bearer(parts)?, ip).await?,
        ))
    }
}

/// The bearer token of `Authorization`, or `Unauthenticated`.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| crate::domain::DomainError::Unauthenticated.into())
}

/// The client's address, when the server was started with connection info.
pub struct ClientIp(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

fn client_ip(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// A JSON body. Malformed JSON, wrong types, unknown fields (R14) and oversized bodies become
/// problem documents instead of axum's plain-text rejections.
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(AppJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match &r {
        JsonRejection::JsonDataError(e) => {
            type Typed = serde_path_to_error::Error<serde_json::Error>;
            let typed = std::iter::successors(std::error::Error::source(e), |s| s.source())
                .find_map(|s| s.downcast_ref::<Typed>());
            match typed {
                Some(t) => body_does_not_fit(&t.path().to_string(), &t.inner().to_string()),
                None => body_does_not_fit(".", &serde_cause(e)),
            }
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::edge(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the request body is not valid JSON: {}", serde_cause(e)),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::edge(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as `Content-Type: application/json`",
        ),
        _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::edge(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the request body is over the {} byte limit",
                super::BODY_LIMIT
            ),
        ),
        _ => ApiError::edge(r.status(), "bad_request", r.body_text()),
    }
}

/// A body that is JSON but not the request's shape, as `validation_failed` with the field it
/// concerns: `path` is where serde stopped (`.` for the top), `message` what it said.
pub fn body_does_not_fit(path: &str, message: &str) -> ApiError {
    // serde_json appends where in the text it was; the field says it better.
    let message = message.rsplit_once(" at line ").map_or(message, |(m, _)| m);
    let prefix = if path == "." || path.is_empty() {
        String::new()
    } else {
        format!("{path}.")
    };
    let named = |what: &str| {
        message
            .strip_prefix(what)
            .and_then(|rest| rest.strip_prefix('`'))
            .and_then(|rest| rest.split_once('`'))
    };
    let error = if let Some((field, _)) = named("missing field ") {
        FieldError::new(format!("{prefix}{field}"), "is required")
    } else if let Some((field, rest)) = named("unknown field ") {
        // Here serde's path already ends at the unknown field.
        let expected = rest.trim_start_matches([',', ' ']);
        let field = if prefix.is_empty() {
            field.to_owned()
        } else {
            path.to_owned()
        };
        FieldError::new(field, format!("is not a field of this request; {expected}"))
    } else {
        let field = if prefix.is_empty() {
            "body".to_owned()
        } else {
            path.to_owned()
        };
        FieldError::new(field, message.to_owned())
    };
    ApiError::from(vec![error])
}

/// serde's own message, without axum's wrapper text.
fn serde_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    cause
}

/// Query parameters whose rejection becomes a problem document.
pub struct AppQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(AppQuery(v)),
            Err(r) => Err(query_rejection(r)),
        }
    }
}

fn query_rejection(r: QueryRejection) -> ApiError {
    ApiError::edge(
        StatusCode::BAD_REQUEST,
        "validation_failed",
        format!("the query string does not fit: {}", serde_cause(&r)),
    )
}

/// A path segment that must be a UUID (a user or token id).
pub fn path_id(raw: &str, what: &'static str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| {
        ApiError::from(vec![crate::domain::FieldError::new(
            what,
            format!("`{raw}` is not an id"),
        )])
    })
}

/// Path parameters whose rejection (e.g. percent-escapes that are not UTF-8) becomes a problem
/// document.
pub struct AppPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for AppPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(AppPath(v)),
            Err(r) => Err(ApiError::edge(
                StatusCode::BAD_REQUEST,
                "validation_failed",
                format!("the path is not valid: {}", serde_cause(&r)),
            )),
        }
    }
}

/// A caller of the check API: a service presenting the configured service token (compared in
/// constant time, on SHA-256 digests so lengths do not leak either), or an API token holding the
/// `check` capability. Anyone else gets 401, or 403 for a token without the capability.
pub struct CheckCaller(pub crate::service::check::Caller);

impl FromRequestParts<AppState> for CheckCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        use crate::service::check::Caller;
        use subtle::ConstantTimeEq as _;
        let presented = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(crate::domain::DomainError::Unauthenticated)?;
        if let Some(expected) = &state.service_token {
            let digest = crate::secret::TokenHash::of(presented);
            if bool::from(digest.0.ct_eq(&expected.0)) {
                return Ok(CheckCaller(Caller::Service));
            }
        }
        if crate::secret::TokenKind::of(presented) == Some(crate::secret::TokenKind::Api) {
            let who = sessions::authenticate(&state.gh, presented, client_ip(parts)).await?;
            return match who.token() {
                Some(t) if t.can_check => Ok(CheckCaller(Caller::Token {
                    owner: who.user.id,
                    org: t.org,
                })),
                _ => Err(ApiError::edge(
                    StatusCode::FORBIDDEN,
                    "check_capability_required",
                    "this token lacks the `check` capability; create one with `\"check\": true` \
                     (POST /api/v1/tokens)",
                )),
            };
        }
        if crate::secret::TokenKind::of(presented) == Some(crate::secret::TokenKind::Session) {
            return Err(crate::domain::DomainError::CheckCredentialRequired.into());
        }
        Err(crate::domain::DomainError::Unauthenticated.into())
    }
}

/// The caller if an `Authorization` header is present (then it must be valid: 401 otherwise), or
/// nobody: for routes a token in the body can open, such as answering an invitation.
pub struct MaybeAuth(pub Option<Principal>);

impl FromRequestParts<AppState> for MaybeAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.get(header::AUTHORIZATION).is_none() {
            return Ok(MaybeAuth(None));
        }
        let Auth(who) = Auth::from_request_parts(parts, state).await?;
        Ok(MaybeAuth(Some(who)))
    }
}
