//! The role-change preview on the members page (issue 16): before a change of a member's roles
//! is saved, what it would do — roles added and removed, permissions gained and lost, every
//! project whose reach moves. The row's form shows it as the boxes change (a small script asks
//! `GET …/members/{user}/preview?roles=…` for the fragment); without script, its "Preview" button
//! opens the same preview as a page with the Save button under it. Both come from
//! `members::preview_member_roles`, the API's `?dry_run=true`.

use super::layout::{Shell, Tab, csrf};
use super::orgs::{nav, open};
use super::session::{Ctx, Fields, Post};
use super::{not_found, refusal};
use crate::api::AppState;
use crate::authz::preview::RoleChangePreview;
use crate::domain::ids::{ProjectId, UserId};
use crate::service::{OrgRef, members};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};

type Preview = RoleChangePreview<(ProjectId, String)>;

/// What a change does, in words.
pub fn markup(p: &Preview) -> Markup {
    let nothing = p.roles_added.is_empty()
        && p.roles_removed.is_empty()
        && p.permissions_gained.is_empty()
        && p.permissions_lost.is_empty()
        && p.projects.is_empty();
    let role =
        |r: Option<crate::domain::permission::ProjectRole>| r.map_or("no access", |r| r.as_str());
    html! {
        section.preview aria-label="What this change does" {
            h3 { "What this change does" }
            @if nothing {
                p { "Nothing changes." }
            } @else {
                dl.facts {
                    @if !p.roles_added.is_empty() {
                        dt { "Roles added" } dd { @for r in &p.roles_added { span.chip { (r) } " " } }
                    }
                    @if !p.roles_removed.is_empty() {
                        dt { "Roles removed" } dd { @for r in &p.roles_removed { span.chip { (r) } " " } }
                    }
                    @if !p.permissions_gained.is_empty() {
                        dt { "Permissions gained" } dd { @for x in &p.permissions_gained { code { (x.as_str()) } " " } }
                    }
                    @if !p.permissions_lost.is_empty() {
                        dt { "Permissions lost" } dd { @for x in &p.permissions_lost { code { (x.as_str()) } " " } }
                    }
                }
                @if !p.projects.is_empty() {
                    table.list {
                        caption { "Projects whose access changes" }
                        thead { tr { th scope="col" { "Project" } th scope="col" { "Before" } th scope="col" { "After" } } }
                        tbody {
                            @for c in &p.projects {
                                tr { td { (c.project.1) } td { (role(c.before)) } td { (role(c.after)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /orgs/{slug}/members/{user}/preview?roles=…`: the preview as a fragment for the row's
/// form, or the refusal in words (the same the Save button would get).
pub async fn fragment(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((slug, user)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let (Some(who), Ok(uid)) = (ctx.user.clone(), user.parse::<uuid::Uuid>()) else {
        return not_found(ctx).await;
    };
    let f = Fields::from_query(query.as_deref().unwrap_or(""));
    let result = match super::members::chosen_roles(&f) {
        Ok(roles) => {
            members::preview_member_roles(&s.gh, &who, &OrgRef::parse(&slug), UserId(uid), &roles)
                .await
        }
        Err(e) => Err(e.into()),
    };
    fragment_of(ctx, result, markup).await
}

/// A preview fragment for a form's slot: what `render` makes of the preview, or the refusal in
/// words (the same the form's Save would get); a missing organization is the 404 page (R12).
pub(super) async fn fragment_of<T>(
    ctx: Ctx,
    result: Result<T, crate::service::Error>,
    render: impl FnOnce(&T) -> Markup,
) -> Response {
    let body = match result {
        Ok(p) => render(&p),
        Err(e) if super::org_missing(&e) => return not_found(ctx).await,
        Err(e) => match refusal(e) {
            Ok(r) => html! { p.error role="alert" { (r.message) } },
            Err(page) => return page,
        },
    };
    let mut response = Html(body.into_string()).into_response();
    super::layout::page_headers(response.headers_mut());
    response
}

/// `POST /orgs/{slug}/members/{user}/preview`: the preview as a page, with Save under it (the
/// row's "Preview" button, for a browser without script).
pub async fn page(
    State(s): State<AppState>,
    Path((slug, user)): Path<(String, String)>,
    Post(ctx, f): Post,
) -> Response {
    let (ctx, access, mine) = match open(&s, ctx, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (Some(who), Ok(uid)) = (ctx.user.clone(), user.parse::<uuid::Uuid>()) else {
        return not_found(ctx).await;
    };
    let roles = f.all("roles");
    let org = OrgRef::Id(access.org.org.id);
    let o = &access.org.org;
    let back = format!("/orgs/{}/members", o.slug);
    let result = match super::members::chosen_roles(&f) {
        Ok(roles) => members::preview_member_roles(&s.gh, &who, &org, UserId(uid), &roles).await,
        Err(e) => Err(e.into()),
    };
    let (status, content) = match result {
        Ok(p) => (
            StatusCode::OK,
            html! {
                (markup(&p))
                form.stack method="post" action={ "/orgs/" (o.slug) "/members/" (uid) "/roles" } {
                    (csrf(&ctx))
                    @for r in &roles { input type="hidden" name="roles" value=(r); }
                    div.row {
                        button type="submit" { "Save" }
                        a.button.secondary href=(back) { "Cancel" }
                    }
                }
            },
        ),
        Err(e) if super::org_missing(&e) => return not_found(ctx).await,
        Err(e) => match refusal(e) {
            Ok(r) => (
                r.status,
                html! { p.error role="alert" { (r.message) } p { a href=(back) { "Back to the members" } } },
            ),
            Err(page) => return page,
        },
    };
    let body = html! {
        h1 { "Change roles" }
        p { "Roles from now on: " @for r in &roles { span.chip { (r) } " " } }
        (content)
    };
    let title = format!("Change roles · {}", o.name);
    let shell = Shell {
        title: &title,
        org: Some(nav(&access, mine, Tab::Members)),
    };
    ctx.page(status, shell, body)
}
