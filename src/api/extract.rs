//! Extractors: the bearer credential, JSON bodies and queries whose rejections become problem
//! documents, and the client's address.

use super::AppState;
use super::problem::ApiError;
use crate::domain::FieldError;
use crate::service::{Principal, sessions};
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;
use std::borrow::Cow;
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

/// A JSON body. Malformed JSON, wrong types, unknown fields, a key given twice in any object
/// (R14) and oversized bodies become problem documents instead of axum's plain-text rejections.
pub struct AppJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !json_content_type(req.headers()) {
            return Err(unsupported_media_type());
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| body_rejection(r.status(), r.body_text()))?;
        if let Some(path) = repeated_key(&bytes) {
            return Err(key_given_twice(&path));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(AppJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// Whether the request says its body is JSON: `application/json` or `application/…+json`, with
/// any parameters (axum's own test, which its `Json` runs).
fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| {
            m.type_() == "application"
                && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
        })
}

fn unsupported_media_type() -> ApiError {
    ApiError::edge(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send the body as `Content-Type: application/json`",
    )
}

/// The body could not be read: over the limit (413), or cut off.
fn body_rejection(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::edge(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "the request body is over the {} byte limit",
                super::BODY_LIMIT
            ),
        )
    } else {
        ApiError::edge(status, "bad_request", text)
    }
}

/// R14: a key given twice in one object is refused, naming it, whichever route the body is for:
/// typed fields would keep the last copy silently where a request goes through a
/// `serde_json::Value` (as billing bodies do, to be searched for card numbers), and a map field
/// anywhere would too.
fn key_given_twice(path: &str) -> ApiError {
    ApiError::from(vec![FieldError::new(
        path,
        "is given twice; give each key once",
    )])
}

/// Where the first key given twice in one object of `bytes` is, as a path like serde's
/// (`name`, `address.city`, `checks[1].user`): nested objects count. `None` when no object
/// repeats a key, or when `bytes` is not JSON (the typed parse then says what is wrong with
/// it). One walk of the text that keeps no value and borrows the keys it compares (the check
/// API's bodies come through here too), building the path only for a repeat: this is the one
/// duplicate check, for every JSON body ([`AppJson`], and so `BillingJson`, which reads its
/// body through it).
pub fn repeated_key(bytes: &[u8]) -> Option<String> {
    use serde::de::DeserializeSeed as _;
    let (mut path, mut found) = (Vec::new(), None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    // An error is either the repeat (recorded in `found`) or text that is not JSON.
    let _walked = KeyWalk {
        path: &mut path,
        found: &mut found,
    }
    .deserialize(&mut de);
    found
}

/// One step from a JSON value into a part of it.
enum Step<'de> {
    /// A member of an object.
    Key(Cow<'de, str>),
    /// An element of an array.
    Index(usize),
}

/// `[a, 0, b]` as `a[0].b`.
fn rendered(path: &[Step<'_>]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Walks one JSON value, checking each object's keys; `path` leads to the value.
struct KeyWalk<'a, 'de> {
    path: &'a mut Vec<Step<'de>>,
    found: &'a mut Option<String>,
}

impl<'de> KeyWalk<'_, 'de> {
    fn inner(&mut self) -> KeyWalk<'_, 'de> {
        KeyWalk {
            path: &mut *self.path,
            found: &mut *self.found,
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for KeyWalk<'_, 'de> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeyWalk<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        for i in 0.. {
            self.path.push(Step::Index(i));
            let more = seq.next_element_seed(self.inner())?.is_some();
            self.path.pop();
            if !more {
                break;
            }
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key_seed(KeyText)? {
            let repeated = !seen.insert(key.clone());
            self.path.push(Step::Key(key));
            if repeated {
                *self.found = Some(rendered(self.path));
                return Err(serde::de::Error::custom("a key is given twice"));
            }
            map.next_value_seed(self.inner())?;
            self.path.pop();
        }
        Ok(())
    }
}

/// An object's key, borrowed from the body unless it holds escapes.
struct KeyText;

impl<'de> serde::de::DeserializeSeed<'de> for KeyText {
    type Value = Cow<'de, str>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeyText {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
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
        JsonRejection::MissingJsonContentType(_) => unsupported_media_type(),
        _ => body_rejection(r.status(), r.body_text()),
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

/// A service presenting the configured service token (compared as `CheckCaller` does), for the
/// routes only other services call (`POST /invoices/{id}/status`). No credential, or an unknown
/// one, gets 401; a valid session or API token gets 403 `service_token_required`.
pub struct ServiceCaller;

impl FromRequestParts<AppState> for ServiceCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
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
                return Ok(ServiceCaller);
            }
        }
        if crate::secret::TokenKind::of(presented).is_some() {
            // Authenticates first, so an unknown or expired token stays a 401.
            sessions::authenticate(&state.gh, presented, client_ip(parts)).await?;
            return Err(ApiError::edge(
                StatusCode::FORBIDDEN,
                "service_token_required",
                "only the service token (`--service-token`) may change an invoice's status",
            ));
        }
        Err(crate::domain::DomainError::Unauthenticated.into())
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

#[cfg(test)]
mod tests {
    use super::repeated_key;

    #[test]
    fn r14_a_key_given_twice_is_found_with_its_path_wherever_it_is() {
        let found = |text: &str| repeated_key(text.as_bytes());
        assert_eq!(found(r#"{"a":1,"b":2}"#), None);
        assert_eq!(found(r#"{"a":1,"a":2}"#).as_deref(), Some("a"));
        assert_eq!(
            found(r#"{"a":{"b":1,"c":{"d":1,"d":2}}}"#).as_deref(),
            Some("a.c.d")
        );
        assert_eq!(
            found(r#"{"l":[{"x":1},{"x":1,"y":2,"x":3}]}"#).as_deref(),
            Some("l[1].x")
        );
        assert_eq!(
            found(r#"[[],[{"k":0,"k":0}]]"#).as_deref(),
            Some("[1][0].k")
        );
        // The same key in sibling objects, or in different cases, is no repeat.
        assert_eq!(found(r#"[{"k":0},{"k":0,"K":1}]"#), None);
        // An escaped key is the same key as its plain spelling.
        assert_eq!(
            found(r#"{"name":1,"n\u0061me":2}"#).as_deref(),
            Some("name")
        );
        // Not JSON, or not one document: the typed parse says what is wrong.
        for bad in ["", "{", r#"{"a":1,"b"#, "[1,]", "nope", r#"{"a":"\ud800"}"#] {
            assert_eq!(found(bad), None, "{bad}");
        }
        // Nesting deeper than serde_json goes is not a repeat either.
        assert_eq!(
            found(&format!("{}{}", "[".repeat(5_000), "]".repeat(5_000))),
            None
        );
    }
}
