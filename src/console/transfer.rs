//! `/orgs/{slug}/transfer`: the pending ownership offer (R7). The owner offers it from an
//! admin's row of the members page and can cancel it; the receiver accepts or declines.

use super::layout::{Shell, Tab, csrf};
use super::orgs::{nav, open};
use super::session::{Ctx, Post};
use super::{not_found, refusal};
use crate::api::AppState;
use crate::domain::DomainError;
use crate::domain::ids::UserId;
use crate::domain::model::TransferState;
use crate::service::transfer::{self, Receiver};
use crate::service::{OrgRef, members};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

/// `?to=` of the offer's confirmation.
#[derive(Deserialize, Default)]
pub struct To {
    to: Option<String>,
}

/// `GET /orgs/{slug}/transfer`.
pub async fn page(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(q): Query<To>,
) -> Response {
    render(&s, ctx, &slug, q.to.as_deref(), None).await
}

async fn render(
    s: &AppState,
    ctx: Ctx,
    slug: &str,
    to: Option<&str>,
    error: Option<(&str, StatusCode)>,
) -> Response {
    let (ctx, access, mine) = match open(s, ctx, slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(who) = ctx.user.clone() else {
        return not_found(ctx).await;
    };
    let org = OrgRef::Id(access.org.org.id);
    let o = &access.org.org;
    let i_own = access.org.owner.id == who.user.id;
    let pending = match transfer::get_transfer(&s.gh, &who, &org).await {
        Ok(v) if v.state == TransferState::Pending => Some(v),
        Ok(_) | Err(crate::service::Error::Domain(DomainError::NoPendingTransfer)) => None,
        Err(crate::service::Error::Domain(DomainError::Forbidden(_))) => {
            return not_found(ctx).await;
        }
        Err(e) => return crate::api::problem::ApiError::from(e).into_response(),
    };
    // The owner confirming an offer to the member `?to=` names.
    let receiver = match (
        to.and_then(|t| t.parse::<uuid::Uuid>().ok()),
        i_own,
        &pending,
    ) {
        (Some(id), true, None) => members::list_members(&s.gh, &who, &org, None, 100)
            .await
            .ok()
            .and_then(|p| p.items.into_iter().find(|m| m.user.id == UserId(id))),
        _ => None,
    };
    let body = html! {
        h1 { "Ownership transfer" }
        @if let Some((e, _)) = error { p.error role="alert" { (e) } }
        @match (&pending, &receiver) {
            (Some(v), _) => {
                dl.facts {
                    dt { "Organization" } dd { (o.name) }
                    dt { "From" } dd { (v.from.name) " (" (v.from.email) ")" }
                    dt { "To" } dd { (v.to.name) " (" (v.to.email) ")" }
                    dt { "Expires" } dd { (crate::mail::when(v.transfer.expires_at)) }
                }
                @if v.to.id == who.user.id {
                    p { "If you accept, you become the owner of " (o.name) " and " (v.from.name) " stays as an admin." }
                    div.row {
                        form method="post" action={ "/orgs/" (o.slug) "/transfer/accept" } {
                            (csrf(&ctx))
                            button type="submit" { "Accept" }
                        }
                        form method="post" action={ "/orgs/" (o.slug) "/transfer/decline" } {
                            (csrf(&ctx))
                            button.secondary type="submit" { "Decline" }
                        }
                    }
                } @else if i_own {
                    p { "Waiting for " (v.to.name) " to answer." }
                    form method="post" action={ "/orgs/" (o.slug) "/transfer/cancel" } {
                        (csrf(&ctx))
                        button.danger type="submit" { "Cancel the offer" }
                    }
                } @else {
                    p { "Waiting for " (v.to.name) " to answer." }
                }
            }
            (None, Some(m)) => {
                p { "Offer ownership of " (o.name) " to " strong { (m.user.name) } " (" (m.user.email) ")? They become the owner when they accept; you stay as an admin. The offer lasts 7 days." }
                form method="post" action={ "/orgs/" (o.slug) "/transfer" } {
                    (csrf(&ctx))
                    input type="hidden" name="to" value=(m.user.id.0.to_string());
                    button type="submit" { "Transfer ownership" }
                }
            }
            (None, None) => {
                p.empty { "No ownership transfer is pending." }
                @if i_own { p { "Offer one from an admin's row on the " a href={ "/orgs/" (o.slug) "/members" } { "members page" } "." } }
            }
        }
    };
    let title = format!("Ownership transfer · {}", o.name);
    let shell = Shell {
        title: &title,
        org: Some(nav(&access, mine, Tab::Transfer)),
    };
    ctx.page(error.map_or(StatusCode::OK, |(_, s)| s), shell, body)
}

/// `POST /orgs/{slug}/transfer`: the owner offers (R7: to a current admin).
pub async fn offer(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let Ok(id) = f.get("to").parse::<uuid::Uuid>() else {
        return not_found(ctx).await;
    };
    let result = transfer::offer_transfer(
        &s.gh,
        &who,
        &OrgRef::parse(&slug),
        &Receiver::Id(UserId(id)),
    )
    .await;
    answered(
        &s,
        ctx,
        &slug,
        result.map(|v| format!("Ownership offered to {}; they were mailed.", v.to.name)),
    )
    .await
}

/// The receiver's and the owner's answers to a pending offer.
#[derive(Clone, Copy)]
enum Answer {
    Accept,
    Decline,
    Cancel,
}

async fn answer(s: &AppState, slug: &str, ctx: Ctx, answer: Answer) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let org = OrgRef::parse(slug);
    let (result, message) = match answer {
        Answer::Accept => (
            transfer::accept_transfer(&s.gh, &who, &org).await,
            "You are now the owner.",
        ),
        Answer::Decline => (
            transfer::decline_transfer(&s.gh, &who, &org).await,
            "You declined the ownership offer.",
        ),
        Answer::Cancel => (
            transfer::cancel_transfer(&s.gh, &who, &org).await,
            "The ownership offer is cancelled.",
        ),
    };
    answered(s, ctx, slug, result.map(|()| message.to_owned())).await
}

/// `POST /orgs/{slug}/transfer/accept`.
pub async fn accept(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Post(ctx, _): Post,
) -> Response {
    answer(&s, &slug, ctx, Answer::Accept).await
}

/// `POST /orgs/{slug}/transfer/decline`.
pub async fn decline(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Post(ctx, _): Post,
) -> Response {
    answer(&s, &slug, ctx, Answer::Decline).await
}

/// `POST /orgs/{slug}/transfer/cancel`.
pub async fn cancel(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Post(ctx, _): Post,
) -> Response {
    answer(&s, &slug, ctx, Answer::Cancel).await
}

async fn answered(
    s: &AppState,
    ctx: Ctx,
    slug: &str,
    result: crate::service::Result<String>,
) -> Response {
    match result {
        Ok(message) => ctx.redirect(&format!("/orgs/{slug}/transfer"), Some(&message)),
        Err(crate::service::Error::Domain(DomainError::NotFound(_))) => not_found(ctx).await,
        Err(e) => match refusal(e) {
            Ok(r) => render(s, ctx, slug, None, Some((&r.message, r.status))).await,
            Err(page) => page,
        },
    }
}
