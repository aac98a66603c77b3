//! The web console: server-rendered pages (maud templates compiled into the binary) at `/`, for
//! people. Handlers are edges like the API's: they call the same service functions, hold no
//! rule, and turn a refusal into a message next to the field it concerns. The session is a
//! cookie; every form carries a CSRF token (`session`).

// A handler's "error" here is the page to answer with, sent once per request: boxing it would
// only add an allocation.
#![allow(clippy::result_large_err)]

mod accounts;
mod audit;
mod audit_sentences;
mod billing;
mod groups;
mod invitations;
mod layout;
mod members;
mod orgs;
mod preview;
mod projects;
mod roles;
mod session;
mod tokens;
mod transfer;

use crate::api::AppState;
use crate::domain::DomainError;
use crate::service;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use layout::Shell;
use maud::html;
use session::Ctx;

/// The console's routes; unknown paths outside the API get [`not_found`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(accounts::home))
        .route("/console/style.css", get(stylesheet))
        .route("/console/script.js", get(script))
        .route("/signin", get(accounts::signin_page).post(accounts::signin))
        .route("/signup", get(accounts::signup_page).post(accounts::signup))
        .route("/signout", post(accounts::signout))
        .route(
            "/password/forgot",
            get(accounts::forgot_page).post(accounts::forgot),
        )
        .route(
            "/password/set",
            get(accounts::set_password_page).post(accounts::set_password),
        )
        .route("/orgs", get(orgs::list).post(orgs::create))
        .route("/orgs/{slug}", get(orgs::home))
        .route(
            "/orgs/{slug}/projects",
            get(projects::list).post(projects::create),
        )
        .route("/orgs/{slug}/projects/{name}", get(projects::page))
        .route(
            "/orgs/{slug}/projects/{name}/rename",
            post(projects::rename),
        )
        .route(
            "/orgs/{slug}/projects/{name}/delete",
            post(projects::delete),
        )
        .route("/orgs/{slug}/projects/{name}/plan", post(projects::plan))
        .route(
            "/orgs/{slug}/projects/{name}/members",
            post(projects::add_member),
        )
        .route(
            "/orgs/{slug}/projects/{name}/members/{user}",
            post(projects::set_member),
        )
        .route(
            "/orgs/{slug}/projects/{name}/members/{user}/remove",
            post(projects::remove_member),
        )
        .route(
            "/orgs/{slug}/groups",
            get(groups::list).post(groups::create),
        )
        .route("/orgs/{slug}/groups/{name}", get(groups::page))
        .route("/orgs/{slug}/groups/{name}/rename", post(groups::rename))
        .route("/orgs/{slug}/groups/{name}/delete", post(groups::delete))
        .route(
            "/orgs/{slug}/groups/{name}/members",
            post(groups::add_member),
        )
        .route(
            "/orgs/{slug}/groups/{name}/members/{user}/remove",
            post(groups::remove_member),
        )
        .route(
            "/orgs/{slug}/groups/{name}/projects",
            post(groups::add_project),
        )
        .route(
            "/orgs/{slug}/groups/{name}/projects/{project}",
            post(groups::set_project),
        )
        .route(
            "/orgs/{slug}/groups/{name}/projects/{project}/remove",
            post(groups::remove_project),
        )
        .route("/orgs/{slug}/leave", post(orgs::leave))
        .route("/orgs/{slug}/delete", post(orgs::delete))
        .route(
            "/orgs/{slug}/settings",
            get(orgs::settings_page).post(orgs::settings),
        )
        .route(
            "/orgs/{slug}/members",
            get(members::page).post(members::add),
        )
        .route(
            "/orgs/{slug}/members/{user}/roles",
            post(members::set_roles),
        )
        .route("/orgs/{slug}/members/{user}", get(members::permissions))
        .route(
            "/orgs/{slug}/members/{user}/preview",
            get(preview::fragment).post(preview::page),
        )
        .route("/orgs/{slug}/members/{user}/remove", post(members::remove))
        .route("/orgs/{slug}/roles", get(roles::page).post(roles::create))
        .route("/orgs/{slug}/roles/{role}", post(roles::save))
        .route(
            "/orgs/{slug}/roles/{role}/preview",
            get(roles::fragment).post(roles::preview_page),
        )
        .route("/orgs/{slug}/roles/{role}/delete", post(roles::delete))
        .route(
            "/orgs/{slug}/invitations",
            get(members::invitations_page).post(members::invite),
        )
        .route(
            "/orgs/{slug}/invitations/{id}/resend",
            post(members::resend),
        )
        .route(
            "/orgs/{slug}/invitations/{id}/revoke",
            post(members::revoke),
        )
        .route(
            "/orgs/{slug}/transfer",
            get(transfer::page).post(transfer::offer),
        )
        .route("/orgs/{slug}/transfer/accept", post(transfer::accept))
        .route("/orgs/{slug}/transfer/decline", post(transfer::decline))
        .route("/orgs/{slug}/transfer/cancel", post(transfer::cancel))
        .route(
            "/orgs/{slug}/billing",
            get(billing::page).post(billing::save),
        )
        .route("/orgs/{slug}/billing/vouchers", post(billing::redeem))
        .route("/orgs/{slug}/billing/invoices/{id}/pdf", get(billing::pdf))
        .route("/orgs/{slug}/audit", get(audit::page))
        .route("/tokens", get(tokens::page).post(tokens::create))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .route("/invitations", get(invitations::mine))
        .route(
            "/invitations/accept",
            get(invitations::page).post(invitations::accept),
        )
        .route("/invitations/decline", post(invitations::decline))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/console.css"),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../assets/console.js"),
    )
        .into_response()
}

/// An unknown path: the API's problem document under the API's prefixes, else the console's
/// page.
pub async fn fallback(ctx: Ctx, uri: axum::http::Uri) -> Response {
    let path = uri.path();
    let api = ["/api/", "/access/", "/.well-known/", "/scim/"]
        .iter()
        .any(|p| path.starts_with(p))
        || matches!(path, "/healthz" | "/readyz" | "/metrics");
    if api {
        crate::api::middleware::not_found().await
    } else {
        not_found(ctx).await
    }
}

/// The one "not found" page: a missing organization and one I am not in look the same (R12).
pub async fn not_found(ctx: Ctx) -> Response {
    let body = html! {
        h1 { "Page not found" }
        p { "There is nothing here, or it is not open to you." }
        p { a href="/orgs" { "Back to your organizations" } }
    };
    ctx.page(StatusCode::NOT_FOUND, Shell::plain("Page not found"), body)
}

/// Whether `e` says the organization is missing or not mine (R12): answered with the 404 page,
/// not as a refusal on the form.
pub fn org_missing(e: &service::Error) -> bool {
    matches!(
        e,
        service::Error::Domain(DomainError::NotFound(crate::domain::error::Kind::Org))
    )
}

/// A refusal in words, and the field it concerns when it concerns one.
pub struct Refusal {
    /// The field, as the form names it.
    pub field: Option<String>,
    /// What to tell the person.
    pub message: String,
    /// The status the page answers with.
    pub status: StatusCode,
}

impl Refusal {
    /// The message for `field`, if the refusal concerns it.
    pub fn on(&self, field: &str) -> Option<&str> {
        (self.field.as_deref() == Some(field)).then_some(self.message.as_str())
    }

    /// The message when it concerns no field of the form.
    pub fn general(&self, fields: &[&str]) -> Option<&str> {
        match &self.field {
            Some(f) if fields.contains(&f.as_str()) => None,
            _ => Some(self.message.as_str()),
        }
    }
}

/// What a failed use case becomes on a page: the rule's own sentence (capitalised), next to the
/// field it names; a failure underneath becomes a plain apology (the cause is in the log).
pub fn refusal(e: service::Error) -> Result<Refusal, Response> {
    use DomainError as E;
    let e = match e {
        service::Error::Domain(e) => e,
        service::Error::Store(crate::store::StoreError::Conflict(_)) => {
            return Ok(Refusal {
                field: None,
                message: "Someone changed this at the same moment. Reload the page and try again."
                    .to_owned(),
                status: StatusCode::CONFLICT,
            });
        }
        other => return Err(crate::api::problem::ApiError::from(other).into_response()),
    };
    let status = crate::api::problem::status_of(&e);
    let (field, message) = match &e {
        E::Invalid(fields) if fields.len() == 1 => (
            Some(fields[0].field.clone()),
            sentence(&format!("{} {}", label(&fields[0].field), fields[0].reason)),
        ),
        E::OrgNameTaken(_) | E::ProjectNameTaken(_) | E::GroupNameTaken(_) | E::RoleNameTaken(_) => {
            (Some("name".to_owned()), sentence(&e.to_string()))
        }
        E::SlugTaken(_) => (Some("slug".to_owned()), sentence(&e.to_string())),
        E::EmailTaken(_) | E::NotRegistered(_) | E::AlreadyMember | E::InvitationPending => {
            (Some("email".to_owned()), sentence(&e.to_string()))
        }
        E::InvalidCredentials => (None, "Email or password is wrong.".to_owned()),
        E::WeakPassword(_) => (Some("password".to_owned()), sentence(&e.to_string())),
        E::CardNumberRefused(f) => (
            Some(f.clone()),
            "This looks like a full card number: give only the brand, the last four digits and the expiry."
                .to_owned(),
        ),
        E::VatInvalid(_) => (Some("vat_number".to_owned()), sentence(&e.to_string())),
        E::VoucherInvalid(_) | E::VoucherAlreadyRedeemed => {
            (Some("code".to_owned()), sentence(&e.to_string()))
        }
        _ => (None, sentence(&e.to_string())),
    };
    Ok(Refusal {
        field,
        message,
        status,
    })
}

/// A field's label in a sentence.
fn label(field: &str) -> String {
    let known = match field {
        "address.line1" => "Address line 1",
        "address.line2" => "Address line 2",
        "address.postal_code" => "Postal code",
        "address.city" => "City",
        "address.region" => "Region",
        "address.country" => "Country",
        "payment_method.brand" => "Brand",
        "payment_method.last4" => "Last four digits",
        "payment_method.exp_month" => "Expiry month",
        "payment_method.exp_year" => "Expiry year",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    let mut l = field.replace('_', " ");
    if let Some(first) = l.get(0..1) {
        l = first.to_uppercase() + &l[1..];
    }
    l
}

/// `s` with a capital and a full stop, without the API's backticks; API-flavoured hints
/// (`POST …`) are left to the API.
fn sentence(s: &str) -> String {
    let s = s.split(" (POST").next().unwrap_or(s);
    // The API quotes names in backticks; a page shows them plainly.
    let mut out = s.trim().replace('`', "");
    if let Some(first) = out.get(0..1) {
        out = first.to_uppercase() + &out[1..];
    }
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}
