//! The console's cookies: the sign-in session (the same sessions as the API's bearer tokens,
//! carried in an HttpOnly cookie), the CSRF token every state-changing form carries, and the
//! one-shot message shown after a change.
//!
//! CSRF: a random token lives in its own cookie (`SameSite=Strict`, HttpOnly) and in a hidden
//! field of every form; a POST is accepted only when the two match (constant-time) and the
//! browser does not say the request came from another site (`Sec-Fetch-Site`, else `Origin`
//! against `Host`). Another site can neither read the cookie nor set it, so it cannot forge the
//! field; the session cookie is `SameSite=Lax` on top.

use super::layout::{self, Shell};
use crate::api::AppState;
use crate::service::{Principal, sessions};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine as _;
use maud::Markup;
use std::net::SocketAddr;
use subtle::ConstantTimeEq as _;

/// The session cookie: a session token, as `POST /api/v1/sessions` answers it.
pub const SESSION: &str = "gh_session";
/// The CSRF cookie.
const CSRF: &str = "gh_csrf";
/// The message to show once, after a redirect.
const FLASH: &str = "gh_flash";

/// What every console page knows about its request: who is signed in, the CSRF token its forms
/// carry, the message left by the last change, and the cookies to send back.
pub struct Ctx {
    /// The signed-in user, if the session cookie holds a live session.
    pub user: Option<Principal>,
    /// The CSRF token for this page's forms.
    pub csrf: String,
    /// The message the previous request left (shown once).
    pub flash: Option<String>,
    /// The path and query asked for, to come back to after signing in.
    pub here: String,
    /// The client's address (sign-in throttling, audit).
    pub ip: Option<String>,
    jar: CookieJar,
    secure: bool,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let mut jar = CookieJar::from_headers(&parts.headers);
        let secure = state
            .public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"));
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        let mut user = None;
        if let Some(token) = jar.get(SESSION).map(|c| c.value().to_owned()) {
            match sessions::authenticate(&state.gh, &token, ip.clone()).await {
                Ok(p) => user = Some(p),
                // Expired or ended elsewhere: forget it, the page offers sign-in.
                Err(_) => jar = jar.remove(removal(SESSION)),
            }
        }
        let csrf = match jar.get(CSRF) {
            Some(c) if c.value().len() >= 32 => c.value().to_owned(),
            _ => {
                let token = random_token();
                jar = jar.add(cookie(CSRF, token.clone(), secure, SameSite::Strict));
                token
            }
        };
        let flash = jar.get(FLASH).map(|c| c.value().to_owned());
        if flash.is_some() {
            jar = jar.remove(removal(FLASH));
        }
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Ok(Ctx {
            user,
            csrf,
            flash,
            here,
            ip,
            jar,
            secure,
        })
    }
}

impl Ctx {
    /// The signed-in user, or a redirect to sign-in that comes back here.
    pub fn require_user(&self) -> Result<&Principal, Response> {
        self.user.as_ref().ok_or_else(|| {
            Redirect::to(&format!("/signin?next={}", layout::urlencode(&self.here))).into_response()
        })
    }

    /// A page: the shell around `body`, with the cookies this request changed.
    pub fn page(self, status: StatusCode, shell: Shell<'_>, body: Markup) -> Response {
        let html = layout::render(&self, shell, body);
        let mut response =
            (status, self.jar, axum::response::Html(html.into_string())).into_response();
        layout::page_headers(response.headers_mut());
        response
    }

    /// A 303 to `to`, showing `message` there once.
    pub fn redirect(self, to: &str, message: Option<&str>) -> Response {
        let secure = self.secure;
        let jar = match message {
            Some(m) => self
                .jar
                .add(cookie(FLASH, layout::urlencode(m), secure, SameSite::Lax)),
            None => self.jar,
        };
        (jar, Redirect::to(to)).into_response()
    }

    /// Signs in: the session cookie holds `token` (a browser-session cookie; the session itself
    /// ends server-side when it expires or on sign-out).
    pub fn sign_in(mut self, token: String) -> Self {
        self.jar = self
            .jar
            .add(cookie(SESSION, token, self.secure, SameSite::Lax));
        self
    }

    /// Signs out here: the session cookie goes.
    pub fn forget_session(mut self) -> Self {
        self.jar = self.jar.remove(removal(SESSION));
        self.user = None;
        self
    }

    /// The message to show once: the flash cookie's, decoded.
    pub fn flash_text(&self) -> Option<String> {
        self.flash.as_deref().map(layout::urldecode)
    }
}

fn cookie(name: &'static str, value: String, secure: bool, same_site: SameSite) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(same_site)
        .build()
}

fn removal(name: &'static str) -> Cookie<'static> {
    Cookie::build((name, "")).path("/").build()
}

fn random_token() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A submitted form's fields, in order (a checkbox list repeats its name).
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// The fields of a query string (`a=1&b=2`), as a GET form sends them.
    pub fn from_query(query: &str) -> Self {
        Fields(
            form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// The first value of `name` as given (passwords are not trimmed).
    pub fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v)
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// A POSTed console form whose CSRF token and origin were checked: the page context and its
/// fields. Anything else is refused with 403 before any handler runs, so it changes nothing.
pub struct Post(pub Ctx, pub Fields);

impl FromRequest<AppState> for Post {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let Ok(ctx) = Ctx::from_request_parts(&mut parts, state).await;
        let cross_site = from_another_site(&parts.headers);
        let req = Request::from_parts(parts, body);
        let fields = match axum::Form::<Vec<(String, String)>>::from_request(req, state).await {
            Ok(axum::Form(f)) => Fields(f),
            Err(_) => return Err(refused(ctx, "The form could not be read.")),
        };
        let sent = fields.get("csrf");
        let matches = !sent.is_empty() && bool::from(sent.as_bytes().ct_eq(ctx.csrf.as_bytes()));
        if cross_site || !matches {
            tracing::info!(cross_site, "console form refused: no valid CSRF token");
            return Err(refused(
                ctx,
                "This form came from another site or has expired. Reload the page and try again.",
            ));
        }
        Ok(Post(ctx, fields))
    }
}

/// Whether the browser says the request was sent by another site.
fn from_another_site(headers: &HeaderMap) -> bool {
    let text = |h: &header::HeaderName| headers.get(h).and_then(|v: &HeaderValue| v.to_str().ok());
    if let Some(site) = text(&header::HeaderName::from_static("sec-fetch-site")) {
        return !matches!(site, "same-origin" | "none");
    }
    match (text(&header::ORIGIN), text(&header::HOST)) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => {
            let bare = origin
                .strip_prefix("https://")
                .or_else(|| origin.strip_prefix("http://"))
                .unwrap_or(origin);
            bare != host
        }
        _ => false,
    }
}

fn refused(ctx: Ctx, why: &str) -> Response {
    let body = maud::html! {
        h1 { "Request refused" }
        p { (why) }
    };
    ctx.page(StatusCode::FORBIDDEN, Shell::plain("Request refused"), body)
}
