//! Invitations addressed to me: `/invitations`, and the page an invitation mail links to,
//! `/invitations/accept?token=` (accept, decline; signed out: sign in or sign up with the email
//! filled in, then back here).

use super::layout::{Shell, csrf, form_error, urlencode};
use super::session::{Ctx, Post};
use super::{Refusal, refusal};
use crate::api::AppState;
use crate::domain::names::{DisplayName, Password};
use crate::service::invitations::{self, Accepted, Acceptor};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use secrecy::ExposeSecret as _;
use serde::Deserialize;

/// `?token=` of the invitation page.
#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// `GET /invitations`: the pending invitations addressed to me.
pub async fn mine(State(s): State<AppState>, ctx: Ctx) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let rows = invitations::my_invitations(&s.gh, &who, None, 100)
        .await
        .map(|p| p.items)
        .unwrap_or_default();
    let body = html! {
        h1 { "Invitations" }
        @if rows.is_empty() {
            p.empty { "No invitation is waiting for you." }
        } @else {
            p { "Open the link in the invitation mail to accept or decline." }
            table.list {
                caption.visually-hidden { "Invitations addressed to you" }
                thead { tr { th scope="col" { "Organization" } th scope="col" { "Roles" } th scope="col" { "Invited by" } th scope="col" { "Expires" } th scope="col" { "State" } } }
                tbody {
                    @for v in &rows {
                        tr {
                            td { (v.org.name) }
                            td { @for r in &v.roles { span.chip { (r) } " " } }
                            td { (v.invited_by.as_ref().map_or("someone", |u| u.name.as_str())) }
                            td { (crate::mail::when(v.invitation.expires_at)) }
                            td { (v.state.as_str()) }
                        }
                    }
                }
            }
        }
    };
    ctx.page(StatusCode::OK, Shell::plain("Invitations"), body)
}

fn render(
    ctx: Ctx,
    s_token: &str,
    view: Result<invitations::InvitationView, Refusal>,
    error: Option<&Refusal>,
) -> Response {
    let v = match view {
        Ok(v) => v,
        Err(r) => {
            let body = html! {
                h1 { "Invitation" }
                p.error role="alert" { (r.message) }
                p { a href="/orgs" { "Go to your organizations" } }
            };
            return ctx.page(r.status, Shell::plain("Invitation"), body);
        }
    };
    let back = format!("/invitations/accept?token={}", urlencode(s_token));
    let email = v.invitation.email.clone();
    let signed_in_as = ctx.user.as_ref().map(|u| u.user.email.to_lowercase());
    let body = html! {
        h1 { "Join " (v.org.name) }
        dl.facts {
            dt { "Organization" } dd { (v.org.name) }
            dt { "Invited by" } dd { (v.invited_by.as_ref().map_or("someone", |u| u.name.as_str())) }
            dt { "Roles" } dd { @for r in &v.roles { span.chip { (r) } " " } }
            dt { "Sent to" } dd { (email) }
            dt { "Expires" } dd { (crate::mail::when(v.invitation.expires_at)) }
        }
        (form_error(error.and_then(|r| r.general(&["name", "password"]))))
        @match &signed_in_as {
            Some(me) if *me == email.to_lowercase() => {
                div.row {
                    form method="post" action="/invitations/accept" {
                        (csrf(&ctx))
                        input type="hidden" name="token" value=(s_token);
                        button type="submit" { "Accept" }
                    }
                    form method="post" action="/invitations/decline" {
                        (csrf(&ctx))
                        input type="hidden" name="token" value=(s_token);
                        button.secondary type="submit" { "Decline" }
                    }
                }
            }
            Some(_) => {
                p.error role="alert" { "You are signed in with another email. Sign out, then open the link again to answer as " (email) "." }
            }
            None => {
                p { "To answer, sign in as " (email) ", or create the account." }
                div.row {
                    a.button href={ "/signin?email=" (urlencode(&email)) "&next=" (urlencode(&back)) } { "Sign in" }
                    a.button.secondary href={ "/signup?email=" (urlencode(&email)) "&next=" (urlencode(&back)) } { "Sign up" }
                }
                form method="post" action="/invitations/decline" {
                    (csrf(&ctx))
                    input type="hidden" name="token" value=(s_token);
                    button.link type="submit" { "Decline" }
                }
            }
        }
    };
    let title = format!("Join {}", v.org.name);
    let status = error.map_or(StatusCode::OK, |r| r.status);
    ctx.page(status, Shell::plain(&title), body)
}

/// `GET /invitations/accept?token=`.
pub async fn page(State(s): State<AppState>, ctx: Ctx, Query(q): Query<TokenQuery>) -> Response {
    let token = q.token.unwrap_or_default();
    let view = match invitations::invitation_by_token(&s.gh, &token).await {
        Ok(v) => Ok(v),
        Err(e) => match refusal(e) {
            Ok(r) => Err(r),
            Err(page) => return page,
        },
    };
    render(ctx, &token, view, None)
}

/// `POST /invitations/accept`: the signed-in addressee joins. (A person without an account
/// signs up first, from the page, and comes back.)
pub async fn accept(State(s): State<AppState>, Post(ctx, f): Post) -> Response {
    let token = f.get("token").to_owned();
    let result = match &ctx.user {
        Some(who) => invitations::accept_invitation(&s.gh, &token, Acceptor::SignedIn(who)).await,
        None => {
            // Kept for clients that post a name and password from another form.
            match (
                DisplayName::parse(f.get("name")),
                Password::parse(f.raw("new_password").to_owned()),
            ) {
                (Ok(name), Ok(password)) => {
                    let acceptor = Acceptor::NewAccount {
                        name,
                        password,
                        ip: ctx.ip.clone(),
                    };
                    invitations::accept_invitation(&s.gh, &token, acceptor).await
                }
                (Err(e), _) | (_, Err(e)) => {
                    Err(crate::domain::DomainError::Invalid(vec![e]).into())
                }
            }
        }
    };
    match result {
        Ok(Accepted::Joined(view, _)) => ctx.redirect(
            &format!("/orgs/{}", view.org.slug),
            Some(&format!("You joined {}.", view.org.name)),
        ),
        Ok(Accepted::Registered(_, session)) => ctx
            .sign_in(session.token.expose_secret().to_owned())
            .redirect("/orgs", Some("Welcome! You joined the organization.")),
        Err(e) => match refusal(e) {
            Ok(r) => {
                let view = invitations::invitation_by_token(&s.gh, &token).await;
                let view = match view {
                    Ok(v) => Ok(v),
                    Err(_) => Err(Refusal {
                        field: None,
                        message: r.message.clone(),
                        status: r.status,
                    }),
                };
                render(ctx, &token, view, Some(&r))
            }
            Err(page) => page,
        },
    }
}

/// `POST /invitations/decline`.
pub async fn decline(State(s): State<AppState>, Post(ctx, f): Post) -> Response {
    let token = f.get("token").to_owned();
    match invitations::decline_invitation(&s.gh, &token, ctx.user.as_ref(), ctx.ip.clone()).await {
        Ok(()) => {
            let to = if ctx.user.is_some() {
                "/orgs"
            } else {
                "/signin"
            };
            ctx.redirect(to, Some("Invitation declined."))
        }
        Err(e) => match refusal(e) {
            Ok(r) => {
                let view = invitations::invitation_by_token(&s.gh, &token).await;
                let view = view.map_err(|_| Refusal {
                    field: None,
                    message: r.message.clone(),
                    status: r.status,
                });
                render(ctx, &token, view, Some(&r))
            }
            Err(page) => page,
        },
    }
}
