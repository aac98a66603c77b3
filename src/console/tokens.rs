//! `/tokens`: my API tokens. Create one (limited to an organization, to permissions I hold
//! there (R6), with an expiry within the server's maximum), see its secret once, revoke it.
//!
//! The secret is in the answer to the creating POST only: that page is the answer itself (no
//! redirect, so the secret never rides in a cookie), marked `no-store`, and its script turns the
//! history entry into a plain GET, so reloading shows the list without it.

use super::layout::{Shell, csrf, field, form_error};
use super::orgs::confirm;
use super::session::{Ctx, Fields, Post};
use super::{Refusal, refusal};
use crate::api::AppState;
use crate::api::cursor::{decode_after, encode_after};
use crate::domain::DomainError;
use crate::domain::error::Kind;
use crate::domain::ids::TokenId;
use crate::domain::model::ApiToken;
use crate::domain::names::DisplayName;
use crate::domain::permission::{PermSet, Permission};
use crate::service::tokens::{self, Grantable, NewTokenInput};
use crate::service::{OrgRef, Principal};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, NaiveDate, NaiveTime, Utc};
use maud::{Markup, html};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

/// Tokens listed per page.
const PAGE: u32 = 50;

/// `?cursor=` of the list: older tokens.
#[derive(Deserialize, Default)]
pub struct Older {
    cursor: Option<String>,
}

/// What the page shows beside the list: the form as typed and its refusal, or the token just
/// made with its secret.
#[derive(Default)]
struct State_<'a> {
    typed: Option<&'a Fields>,
    error: Option<&'a Refusal>,
    created: Option<(&'a ApiToken, &'a SecretString)>,
    cursor: Option<&'a str>,
}

/// The form's fields.
const FIELDS: [&str; 4] = ["name", "org", "permissions", "expires_at"];

async fn render(s: &AppState, ctx: Ctx, state: State_<'_>) -> Response {
    let who: Principal = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let from = state.cursor.and_then(|c| decode_after(c).ok());
    let loaded = async {
        let g = tokens::grantable(&s.gh, &who).await?;
        let list = tokens::list_tokens(&s.gh, &who, from.as_ref(), PAGE).await?;
        Ok::<_, crate::service::Error>((g, list))
    }
    .await;
    let (g, list) = match loaded {
        Ok(x) => x,
        Err(e) => return crate::api::problem::ApiError::from(e).into_response(),
    };
    let now = s.gh.clock.now();
    let next = list.next.as_ref().map(encode_after);
    let org_name = |t: &ApiToken| -> String {
        match t.org {
            None => "all".to_owned(),
            Some(id) => g.orgs.iter().find(|(o, _)| o.org.id == id).map_or_else(
                || "an organization you left".to_owned(),
                |(o, _)| o.org.name.clone(),
            ),
        }
    };
    let body = html! {
        h1 { "API tokens" }
        p.hint { "A token lets a script, a CI pipeline or the command line act as you through the API. It never carries more than you hold." }
        @if let Some((t, secret)) = state.created {
            p.flash role="status" { "API token " (t.name) " created." }
            section.panel.secret aria-labelledby="secret-title" data-shown-once {
                h2 #secret-title { "Your new token " (t.name) }
                p { strong { "Copy it now: it will not be shown again." } " Guildhall keeps only a fingerprint of it." }
                code #new-token { (secret.expose_secret()) }
                div.row {
                    button.secondary type="button" data-copy="new-token" hidden { "Copy" }
                }
            }
        }
        (form_error(state.error.and_then(|r| r.general(&FIELDS))))
        @if list.items.is_empty() {
            p.empty { @if from.is_some() { "No older tokens." } @else { "You have no API token yet." } }
        } @else {
            table.list {
                caption.visually-hidden { "Your API tokens, newest first" }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Organization" } th scope="col" { "Permissions" }
                    th scope="col" { "Created" } th scope="col" { "Expires" } th scope="col" { span.visually-hidden { "Actions" } }
                } }
                tbody {
                    @for t in &list.items {
                        tr {
                            td { strong { (t.name) } }
                            td data-label="Organization" { (org_name(t)) }
                            td {
                                @match t.permissions {
                                    None => span.muted { "all I hold" },
                                    Some(p) if p.is_empty() => span.muted { "none" },
                                    Some(p) => { @for name in p.names() { span.chip { (name) } " " } },
                                }
                            }
                            td data-label="Created" { (crate::mail::when(t.created_at)) }
                            td data-label="Expires" {
                                @match t.expires_at {
                                    None => "never",
                                    Some(e) if e <= now => { span.tag { "expired" } " " (crate::mail::when(e)) },
                                    Some(e) => (crate::mail::when(e)),
                                }
                            }
                            td.actions {
                                (confirm(&ctx, &format!("/tokens/{}/revoke", t.id.0), "Revoke", &format!("Revoke {}? Anything using it stops working at once.", t.name)))
                            }
                        }
                    }
                }
            }
        }
        @if let Some(n) = &next {
            p { a href={ "/tokens?cursor=" (n) } { "Older tokens" } }
        }
        section.panel aria-labelledby="create-title" {
            h2 #create-title { "Create a token" }
            (create_form(&ctx, &g, state.typed.filter(|_| state.created.is_none()), state.error, s.gh.token_lifetime, now))
        }
    };
    let status = state.error.map_or(StatusCode::OK, |r| r.status);
    let mut response = ctx.page(status, Shell::plain("API tokens"), body);
    if state.created.is_some() {
        // The secret is in this answer only: no cache keeps it.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

fn perm_names(p: PermSet) -> String {
    p.names().join(" ")
}

fn create_form(
    ctx: &Ctx,
    g: &Grantable,
    typed: Option<&Fields>,
    error: Option<&Refusal>,
    lifetime: crate::domain::rules::TokenLifetime,
    now: chrono::DateTime<Utc>,
) -> Markup {
    let on = |name: &str| error.and_then(|r| r.on(name));
    let typed_org = typed.map_or("", |f| f.get("org"));
    let chosen: Vec<String> = typed.map(|f| f.all("permissions")).unwrap_or_default();
    // What the chosen organization lets a token carry; the script narrows it as the choice
    // changes, and the service decides either way.
    let held = g
        .orgs
        .iter()
        .find(|(o, _)| !typed_org.is_empty() && o.org.slug == typed_org)
        .map_or(g.anywhere, |(_, p)| *p);
    let today = now.date_naive();
    // A day means its last second (UTC), as the command line reads `--expires`: the last day
    // whose end is within the maximum is the day before the maximum's.
    let last =
        (now + Duration::days(i64::from(lifetime.max_days)) - Duration::days(1)).date_naive();
    let perm_error = on("permissions");
    let expires_error = on("expires_at");
    html! {
        form.stack method="post" action="/tokens" {
            (csrf(ctx))
            (field("Name", "name", "text", typed.map_or("", |f| f.get("name")), on("name")))
            div.field {
                label for="f-org" { "Organization" }
                select #f-org name="org" data-token-org
                    aria-invalid=[on("org").map(|_| "true")]
                    aria-describedby=[on("org").map(|_| "f-org-error")] {
                    option value="" data-perms=(perm_names(g.anywhere)) selected[typed_org.is_empty()] { "Any organization (all)" }
                    @for (o, p) in &g.orgs {
                        option value=(o.org.slug) data-perms=(perm_names(*p)) selected[o.org.slug == typed_org] { (o.org.name) }
                    }
                }
                @if let Some(e) = on("org") { p.error #f-org-error { (e) } }
            }
            fieldset.roles.permissions aria-describedby={ "perm-hint" @if perm_error.is_some() { " perm-error" } } {
                legend { "Permissions" }
                p.hint #perm-hint { "Tick none for everything you hold. Only what you hold can be ticked; limited to an organization, only what you hold there." }
                @for p in Permission::ALL {
                    @let id = format!("perm-{}", p.as_str().replace('.', "-"));
                    label for=(id) {
                        input #(id) type="checkbox" name="permissions" value=(p.as_str())
                            checked[held.contains(*p) && chosen.iter().any(|c| c == p.as_str())]
                            disabled[!held.contains(*p)];
                        " " (p.as_str())
                    }
                }
                @if let Some(e) = perm_error { p.error #perm-error { (e) } }
            }
            div.field {
                label for="f-expires_at" { "Expires" }
                input #f-expires_at type="date" name="expires_at"
                    value=(typed.map_or("", |f| f.get("expires_at")))
                    min=(today.format("%Y-%m-%d").to_string()) max=(last.format("%Y-%m-%d").to_string())
                    aria-invalid=[expires_error.map(|_| "true")]
                    aria-describedby={ "expires-hint" @if expires_error.is_some() { " f-expires_at-error" } };
                p.hint #expires-hint {
                    "Leave it empty for " (lifetime.default_days) " days. At most " (lifetime.max_days)
                    " days ahead; the token stops working at the end of that day (UTC)."
                }
                @if let Some(e) = expires_error { p.error #f-expires_at-error { (e) } }
            }
            button type="submit" { "Create token" }
        }
    }
}

/// `GET /tokens`.
pub async fn page(State(s): State<AppState>, ctx: Ctx, Query(q): Query<Older>) -> Response {
    let state = State_ {
        cursor: q.cursor.as_deref(),
        ..State_::default()
    };
    render(&s, ctx, state).await
}

/// The form's request, or the refusal of the field that cannot be read.
fn input_of(f: &Fields) -> Result<NewTokenInput, DomainError> {
    let name = DisplayName::parse(f.get("name")).map_err(|e| DomainError::Invalid(vec![e]))?;
    let org = Some(f.get("org"))
        .filter(|o| !o.is_empty())
        .map(OrgRef::parse);
    let mut permissions = PermSet::EMPTY;
    for raw in f.all("permissions") {
        let p = Permission::parse(raw.trim()).ok_or_else(|| {
            DomainError::invalid("permissions", format!("`{raw}` is not a permission"))
        })?;
        permissions.insert(p);
    }
    let expires_at = match f.get("expires_at") {
        "" => None,
        raw => {
            let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
                DomainError::invalid("expires_at", "must be a day, such as 2027-03-31")
            })?;
            // The day's last second, UTC (as `guildhall token create --expires` reads a day).
            let end = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN);
            Some(day.and_time(end).and_utc())
        }
    };
    Ok(NewTokenInput {
        name: name.as_str().to_owned(),
        org,
        permissions: (!permissions.is_empty()).then_some(permissions),
        expires_at,
        can_check: false,
    })
}

/// `POST /tokens`: creates a token (R6) and answers the page with its secret, once.
pub async fn create(State(s): State<AppState>, Post(ctx, f): Post) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let result = match input_of(&f) {
        Ok(input) => tokens::create_token(&s.gh, &who, input).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok((token, secret)) => {
            let state = State_ {
                created: Some((&token, &secret)),
                ..State_::default()
            };
            render(&s, ctx, state).await
        }
        Err(e) => match token_refusal(e) {
            Ok(r) => {
                let state = State_ {
                    typed: Some(&f),
                    error: Some(&r),
                    ..State_::default()
                };
                render(&s, ctx, state).await
            }
            Err(page) => page,
        },
    }
}

/// A refused token in words, next to the field it concerns: permissions not held (R6) next to
/// the permissions, an organization not mine (R12: as one that does not exist) next to the
/// organization.
fn token_refusal(e: crate::service::Error) -> Result<Refusal, Response> {
    use crate::service::Error as SE;
    let field = match &e {
        SE::Domain(DomainError::PermissionsNotHeld(_)) => Some("permissions"),
        SE::Domain(DomainError::NotFound(Kind::Org)) => Some("org"),
        _ => None,
    };
    let too_many = match &e {
        SE::Domain(DomainError::TooManyTokens(n)) => Some(*n),
        _ => None,
    };
    let mut r = refusal(e)?;
    if let Some(field) = field {
        r.field = Some(field.to_owned());
    }
    if field == Some("org") {
        r.message = "You are not in this organization.".to_owned();
    }
    if let Some(n) = too_many {
        r.message = format!(
            "You already hold {n} live API tokens, the most an account may: revoke some first."
        );
    }
    Ok(r)
}

/// `POST /tokens/{id}/revoke`.
pub async fn revoke(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Post(ctx, _): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return super::not_found(ctx).await;
    };
    match tokens::revoke_token(&s.gh, &who, TokenId(id)).await {
        Ok(t) => ctx.redirect(
            "/tokens",
            Some(&format!(
                "API token {} revoked: it no longer works.",
                t.name
            )),
        ),
        Err(crate::service::Error::Domain(DomainError::NotFound(Kind::Token))) => {
            ctx.redirect("/tokens", Some("That token was already revoked."))
        }
        Err(e) => match refusal(e) {
            Ok(r) => ctx.redirect("/tokens", Some(&r.message)),
            Err(page) => page,
        },
    }
}
