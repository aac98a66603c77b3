//! Accounts: `/`, `/signin`, `/signup`, sign-out, `/password/forgot`, `/password/set`.

use super::layout::{Shell, csrf, field, form_error};
use super::session::{Ctx, Post};
use super::{Refusal, refusal};
use crate::api::AppState;
use crate::domain::FieldError;
use crate::domain::names::{DisplayName, Email, MIN_PASSWORD_CHARS, Password};
use crate::service::{passwords, sessions, users};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

/// `?next=` and `?email=` of the account pages.
#[derive(Deserialize, Default)]
pub struct Back {
    next: Option<String>,
    email: Option<String>,
}

/// Where to go after signing in: a path on this site only, never another host.
fn next_path(raw: &str) -> &str {
    if raw.starts_with('/') && !raw.starts_with("//") && !raw.contains('\\') {
        raw
    } else {
        "/orgs"
    }
}

/// `/`: to the organizations when signed in, else to sign-in.
pub async fn home(ctx: Ctx) -> Response {
    if ctx.user.is_some() {
        Redirect::to("/orgs").into_response()
    } else {
        Redirect::to("/signin").into_response()
    }
}

fn signin_form(ctx: &Ctx, email: &str, next: &str, error: Option<&Refusal>) -> Markup {
    let general = error.and_then(|r| r.general(&["email", "password"]));
    html! {
        h1 { "Sign in" }
        (form_error(general))
        form.stack method="post" action="/signin" {
            (csrf(ctx))
            input type="hidden" name="next" value=(next);
            (field("Email", "email", "email", email, error.and_then(|r| r.on("email"))))
            (field("Password", "password", "password", "", error.and_then(|r| r.on("password"))))
            button type="submit" { "Sign in" }
        }
        p {
            a href={ "/signup?next=" (super::layout::urlencode(next)) "&email=" (super::layout::urlencode(email)) } { "Create an account" }
            " · "
            a href="/password/forgot" { "Forgot your password?" }
        }
    }
}

/// `GET /signin`.
pub async fn signin_page(ctx: Ctx, Query(q): Query<Back>) -> Response {
    let next = next_path(q.next.as_deref().unwrap_or("/orgs")).to_owned();
    if ctx.user.is_some() {
        return Redirect::to(&next).into_response();
    }
    let body = signin_form(&ctx, q.email.as_deref().unwrap_or(""), &next, None);
    ctx.page(StatusCode::OK, Shell::plain("Sign in"), body)
}

/// `POST /signin`: the API's sign-in, throttled the same way.
pub async fn signin(State(s): State<AppState>, Post(ctx, f): Post) -> Response {
    let next = next_path(f.get("next")).to_owned();
    let email = f.get("email").to_owned();
    let result = match Email::parse(&email) {
        Ok(e) => {
            let password = SecretString::from(f.raw("password").to_owned());
            sessions::sign_in(&s.gh, e, password, ctx.ip.clone()).await
        }
        Err(e) => Err(crate::domain::DomainError::Invalid(vec![e]).into()),
    };
    match result {
        Ok(session) => ctx
            .sign_in(session.token.expose_secret().to_owned())
            .redirect(&next, None),
        Err(e) => match refusal(e) {
            Ok(r) => {
                let body = signin_form(&ctx, &email, &next, Some(&r));
                ctx.page(r.status, Shell::plain("Sign in"), body)
            }
            Err(page) => page,
        },
    }
}

fn signup_form(ctx: &Ctx, f: (&str, &str), next: &str, error: Option<&Refusal>) -> Markup {
    let (email, name) = f;
    let general = error.and_then(|r| r.general(&["email", "password", "name"]));
    html! {
        h1 { "Create your account" }
        (form_error(general))
        form.stack method="post" action="/signup" {
            (csrf(ctx))
            input type="hidden" name="next" value=(next);
            (field("Name", "name", "text", name, error.and_then(|r| r.on("name"))))
            (field("Email", "email", "email", email, error.and_then(|r| r.on("email"))))
            (field("Password", "new_password", "password", "", error.and_then(|r| r.on("password"))))
            p.hint { "At least " (MIN_PASSWORD_CHARS) " characters; a passphrase of four or more uncommon words is best, without your email or name." }
            button type="submit" { "Sign up" }
        }
        p { "Already have an account? " a href={ "/signin?next=" (super::layout::urlencode(next)) } { "Sign in" } }
    }
}

/// `GET /signup`.
pub async fn signup_page(ctx: Ctx, Query(q): Query<Back>) -> Response {
    let next = next_path(q.next.as_deref().unwrap_or("/orgs")).to_owned();
    let body = signup_form(&ctx, (q.email.as_deref().unwrap_or(""), ""), &next, None);
    ctx.page(StatusCode::OK, Shell::plain("Sign up"), body)
}

/// `POST /signup`: the account and its personal organization, then signed in.
pub async fn signup(State(s): State<AppState>, Post(ctx, f): Post) -> Response {
    let next = next_path(f.get("next")).to_owned();
    let (email, name) = (f.get("email").to_owned(), f.get("name").to_owned());
    let mut errors: Vec<FieldError> = Vec::new();
    let parsed_email = Email::parse(&email).map_err(|e| errors.push(e)).ok();
    let parsed_name = DisplayName::parse(&name).map_err(|e| errors.push(e)).ok();
    let password = Password::parse(f.raw("new_password").to_owned())
        .map_err(|e| errors.push(e))
        .ok();
    let result = match (parsed_email, parsed_name, password) {
        (Some(email), Some(name), Some(password)) => {
            let signup = users::SignUp {
                email,
                password,
                name,
            };
            match users::sign_up(&s.gh, signup, ctx.ip.clone()).await {
                Ok(user) => sessions::open_for_new_account(&s.gh, &user, ctx.ip.clone()).await,
                Err(e) => Err(e),
            }
        }
        _ => Err(crate::domain::DomainError::Invalid(errors.drain(..1).collect()).into()),
    };
    match result {
        Ok(session) => ctx
            .sign_in(session.token.expose_secret().to_owned())
            .redirect(
                &next,
                Some("Welcome! Your account and your personal organization are ready."),
            ),
        Err(e) => match refusal(e) {
            Ok(r) => {
                let body = signup_form(&ctx, (&email, &name), &next, Some(&r));
                ctx.page(r.status, Shell::plain("Sign up"), body)
            }
            Err(page) => page,
        },
    }
}

/// `POST /signout`: the session ends server-side, and its cookie goes.
pub async fn signout(State(s): State<AppState>, Post(ctx, _): Post) -> Response {
    if let Some(user) = &ctx.user
        && let Err(e) = sessions::sign_out(&s.gh, user).await
    {
        tracing::warn!(error = %e, "console sign-out could not end the session");
    }
    ctx.forget_session()
        .redirect("/signin", Some("You are signed out."))
}

fn forgot_form(ctx: &Ctx, email: &str, error: Option<&str>) -> Markup {
    html! {
        h1 { "Forgot your password?" }
        p { "We mail you a link to choose a new one." }
        form.stack method="post" action="/password/forgot" {
            (csrf(ctx))
            (field("Email", "email", "email", email, error))
            button type="submit" { "Send the link" }
        }
    }
}

/// `GET /password/forgot`.
pub async fn forgot_page(ctx: Ctx) -> Response {
    let body = forgot_form(&ctx, "", None);
    ctx.page(StatusCode::OK, Shell::plain("Forgot your password?"), body)
}

/// `POST /password/forgot`: the same answer whether the account exists or not.
pub async fn forgot(State(s): State<AppState>, Post(ctx, f): Post) -> Response {
    match Email::parse(f.get("email")) {
        Ok(email) => match passwords::forgot_password(&s.gh, email, ctx.ip.clone()).await {
            Ok(()) => ctx.redirect(
                "/signin",
                Some("If an account has this email, a link to set a new password is on its way."),
            ),
            Err(e) => match super::refusal(e) {
                Ok(r) => {
                    let body = forgot_form(&ctx, f.get("email"), Some(&r.message));
                    ctx.page(r.status, Shell::plain("Forgot your password?"), body)
                }
                Err(page) => page,
            },
        },
        Err(e) => {
            let message = format!("Email {}.", e.reason);
            let body = forgot_form(&ctx, f.get("email"), Some(&message));
            ctx.page(
                StatusCode::BAD_REQUEST,
                Shell::plain("Forgot your password?"),
                body,
            )
        }
    }
}

/// `?token=` of a password link.
#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

fn set_form(ctx: &Ctx, token: &str, error: Option<&Refusal>) -> Markup {
    html! {
        h1 { "Choose a password" }
        (form_error(error.and_then(|r| r.general(&["password"]))))
        form.stack method="post" action="/password/set" {
            (csrf(ctx))
            input type="hidden" name="token" value=(token);
            (field("Password", "new_password", "password", "", error.and_then(|r| r.on("password"))))
            p.hint { "At least " (MIN_PASSWORD_CHARS) " characters; a passphrase of four or more uncommon words is best, without your email or name. Setting it signs you out everywhere else." }
            button type="submit" { "Save" }
        }
    }
}

/// `GET /password/set?token=`.
pub async fn set_password_page(ctx: Ctx, Query(q): Query<TokenQuery>) -> Response {
    let body = set_form(&ctx, q.token.as_deref().unwrap_or(""), None);
    ctx.page(StatusCode::OK, Shell::plain("Choose a password"), body)
}

/// `POST /password/set`.
pub async fn set_password(State(s): State<AppState>, Post(ctx, f): Post) -> Response {
    let token = f.get("token").to_owned();
    let result = match Password::parse(f.raw("new_password").to_owned()) {
        Ok(p) => passwords::set_password(&s.gh, &token, p, ctx.ip.clone()).await,
        Err(e) => Err(crate::domain::DomainError::Invalid(vec![e]).into()),
    };
    match result {
        Ok(_) => ctx.forget_session().redirect(
            "/signin",
            Some("Your password is set. Your sessions and API tokens were ended: sign in with the new password."),
        ),
        Err(e) => match refusal(e) {
            Ok(r) => {
                let body = set_form(&ctx, &token, Some(&r));
                ctx.page(r.status, Shell::plain("Choose a password"), body)
            }
            Err(page) => page,
        },
    }
}
