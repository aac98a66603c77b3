//! Organizations: `/orgs` (search, create, edit, delete, leave), `/orgs/{slug}` (to its projects,
//! `projects.rs`), and `/orgs/{slug}/settings`.

use super::layout::{OrgNav, Shell, Tab, csrf, field, form_error};
use super::session::{Ctx, Post};
use super::{Refusal, not_found, refusal};
use crate::api::AppState;
use crate::domain::DomainError;
use crate::domain::names::{OrgName, Slug};
use crate::domain::permission::Permission;
use crate::service::{OrgAccess, OrgRef, Principal, orgs};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

/// My organizations for the switcher: personal first, then by name.
pub async fn mine(s: &AppState, who: &Principal) -> Vec<(String, String)> {
    let mut all = match orgs::list_my_orgs(&s.gh, who, None, None, 100).await {
        Ok(page) => page.items,
        Err(_) => Vec::new(),
    };
    all.sort_by_key(|(o, _)| !o.org.personal);
    all.into_iter()
        .map(|(o, _)| (o.org.slug, o.org.name))
        .collect()
}

/// An organization page's frame: the organization as I see it and its navigation; a missing
/// organization and one I am not in both answer the one 404 page (R12).
pub async fn open(
    s: &AppState,
    ctx: Ctx,
    slug: &str,
) -> Result<(Ctx, OrgAccess, Vec<(String, String)>), Response> {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return Err(r),
    };
    match orgs::get_org(&s.gh, &who, &OrgRef::parse(slug)).await {
        Ok(access) => {
            let mine = mine(s, &who).await;
            Ok((ctx, access, mine))
        }
        Err(crate::service::Error::Domain(DomainError::NotFound(_))) => Err(not_found(ctx).await),
        Err(e) => Err(crate::api::problem::ApiError::from(e).into_response()),
    }
}

/// The navigation of `access`'s organization, `tab` open.
pub fn nav<'a>(access: &'a OrgAccess, mine: Vec<(String, String)>, tab: Tab) -> OrgNav<'a> {
    OrgNav {
        slug: &access.org.org.slug,
        name: &access.org.org.name,
        permissions: access.actor.permissions,
        mine,
        tab,
    }
}

/// `?q=` of `/orgs`.
#[derive(Deserialize, Default)]
pub struct Search {
    q: Option<String>,
    cursor: Option<String>,
}

/// Organizations shown per page of `/orgs`.
const PAGE: u32 = 100;

/// What the Organizations page shows beside the list: the create form's state, and a refusal
/// on one row.
#[derive(Default)]
struct ListState<'a> {
    cursor: Option<&'a str>,
    name: &'a str,
    create_error: Option<&'a Refusal>,
    row_error: Option<(&'a str, &'a str)>,
}

async fn list_page(
    s: &AppState,
    ctx: Ctx,
    q: &str,
    state: ListState<'_>,
    status: StatusCode,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let filter = Some(q).filter(|q| !q.is_empty());
    let from = state
        .cursor
        .and_then(|c| crate::api::cursor::decode_after(c).ok());
    let page = match orgs::list_my_orgs(&s.gh, &who, filter, from.as_ref(), PAGE).await {
        Ok(page) => page,
        Err(e) => return crate::api::problem::ApiError::from(e).into_response(),
    };
    let next = page.next.as_ref().map(crate::api::cursor::encode_after);
    let mut rows = page.items;
    // Personal first on the first page; later pages keep the order of names.
    if from.is_none() {
        rows.sort_by_key(|(o, _)| !o.org.personal);
    }
    let body = html! {
        h1 { "Organizations" }
        form.search role="search" method="get" action="/orgs" {
            label for="q" { "Search" }
            input #q type="search" name="q" value=(q);
            button type="submit" { "Search" }
        }
        @if rows.is_empty() {
            p.empty { @if filter.is_some() { "No organization of yours matches “" (q) "”." } @else { "You belong to no organization yet." } }
        } @else {
            table.list {
                caption.visually-hidden { "Your organizations" }
                thead { tr { th scope="col" { "Name" } th scope="col" { "My roles" } th scope="col" { "Owner" } th scope="col" { span.visually-hidden { "Actions" } } } }
                tbody {
                    @for (o, roles) in &rows {
                        @let slug = o.org.slug.as_str();
                        @let owner = o.owner.id == who.user.id;
                        tr {
                            td {
                                a href={ "/orgs/" (slug) } { (o.org.name) }
                                @if o.org.personal && !o.org.name.contains("personal") { " " span.tag { "personal" } }
                            }
                            td { @for r in roles { span.chip { (r.name()) } " " } }
                            td { (o.owner.name) }
                            td.actions {
                                @if owner {
                                    a.button href={ "/orgs/" (slug) "/settings" } { "Edit" }
                                    @if !o.org.personal {
                                        (confirm(&ctx, &format!("/orgs/{slug}/delete"), "Delete", &format!("Delete {}? This cannot be undone.", o.org.name)))
                                    }
                                } @else {
                                    (confirm(&ctx, &format!("/orgs/{slug}/leave"), "Leave", &format!("Leave {}? You lose every role, group and project there.", o.org.name)))
                                }
                                @if let Some((s, e)) = state.row_error {
                                    @if s == slug { p.error role="alert" { (e) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &next {
            p { a href={ "/orgs?cursor=" (next) @if !q.is_empty() { "&q=" (super::layout::urlencode(q)) } } { "Next page" } }
        }
        section.panel aria-labelledby="create-title" {
            h2 #create-title { "Create an organization" }
            (form_error(state.create_error.and_then(|r| r.general(&["name"]))))
            form.inline method="post" action="/orgs" {
                (csrf(&ctx))
                (field("Name", "name", "text", state.name, state.create_error.and_then(|r| r.on("name"))))
                button type="submit" { "Create organization" }
            }
        }
    };
    ctx.page(status, Shell::plain("Organizations"), body)
}

/// A button that asks first: the action's button opens a confirmation with the real one.
pub fn confirm(ctx: &Ctx, action: &str, verb: &str, question: &str) -> Markup {
    html! {
        details.confirm {
            summary.button.danger { (verb) }
            form method="post" action=(action) {
                (csrf(ctx))
                p { (question) }
                button.danger type="submit" { (verb) }
            }
        }
    }
}

/// `GET /orgs`.
pub async fn list(State(s): State<AppState>, ctx: Ctx, Query(q): Query<Search>) -> Response {
    let state = ListState {
        cursor: q.cursor.as_deref(),
        ..ListState::default()
    };
    let text = q.q.clone().unwrap_or_default();
    list_page(&s, ctx, text.trim(), state, StatusCode::OK).await
}

/// `POST /orgs`: create; I become the owner (R1: names and slugs are unique).
pub async fn create(State(s): State<AppState>, Post(ctx, f): Post) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let name = f.get("name").to_owned();
    let result = match OrgName::parse(&name) {
        Ok(n) => orgs::create_org(&s.gh, &who, n, None).await,
        Err(e) => Err(DomainError::Invalid(vec![e]).into()),
    };
    match result {
        Ok((o, _)) => ctx.redirect(
            &format!("/orgs/{}", o.org.slug),
            Some(&format!("Organization {} created.", o.org.name)),
        ),
        Err(e) => match refusal(e) {
            Ok(r) => {
                let state = ListState {
                    name: &name,
                    create_error: Some(&r),
                    ..ListState::default()
                };
                list_page(&s, ctx, "", state, r.status).await
            }
            Err(page) => page,
        },
    }
}

/// `GET /orgs/{slug}`: its projects.
pub async fn home(Path(slug): Path<String>) -> Response {
    Redirect::to(&format!(
        "/orgs/{}/projects",
        super::layout::urlencode(&slug)
    ))
    .into_response()
}

/// `POST /orgs/{slug}/leave` (R4).
pub async fn leave(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Post(ctx, _): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let org = OrgRef::parse(&slug);
    let name = orgs::get_org(&s.gh, &who, &org)
        .await
        .map(|a| a.org.org.name);
    match orgs::leave_org(&s.gh, &who, &org).await {
        Ok(()) => ctx.redirect(
            "/orgs",
            Some(&format!(
                "You left {}.",
                name.unwrap_or_else(|_| slug.clone())
            )),
        ),
        Err(e) => row_refused(&s, ctx, &slug, e).await,
    }
}

/// `POST /orgs/{slug}/delete` (R5).
pub async fn delete(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let org = OrgRef::parse(&slug);
    let name = orgs::get_org(&s.gh, &who, &org)
        .await
        .map(|a| a.org.org.name);
    match orgs::delete_org(&s.gh, &who, &org).await {
        Ok(()) => ctx.redirect(
            "/orgs",
            Some(&format!(
                "{} deleted.",
                name.unwrap_or_else(|_| slug.clone())
            )),
        ),
        Err(e) if f.get("from") == "settings" => match refusal(e) {
            Ok(r) => {
                settings_render(
                    &s,
                    ctx,
                    &slug,
                    SettingsState {
                        delete_error: Some(&r),
                        ..Default::default()
                    },
                )
                .await
            }
            Err(page) => page,
        },
        Err(e) => row_refused(&s, ctx, &slug, e).await,
    }
}

async fn row_refused(s: &AppState, ctx: Ctx, slug: &str, e: crate::service::Error) -> Response {
    if super::org_missing(&e) {
        return not_found(ctx).await;
    }
    match refusal(e) {
        Ok(r) => {
            let state = ListState {
                row_error: Some((slug, &r.message)),
                ..Default::default()
            };
            list_page(s, ctx, "", state, r.status).await
        }
        Err(page) => page,
    }
}

#[derive(Default)]
struct SettingsState<'a> {
    name: Option<&'a str>,
    slug: Option<&'a str>,
    error: Option<&'a Refusal>,
    delete_error: Option<&'a Refusal>,
}

async fn settings_render(s: &AppState, ctx: Ctx, slug: &str, state: SettingsState<'_>) -> Response {
    let (ctx, access, mine) = match open(s, ctx, slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let p = access.actor.permissions;
    if !(p.contains(Permission::OrgUpdate) || p.contains(Permission::OrgDelete)) {
        return not_found(ctx).await;
    }
    let o = &access.org.org;
    let status = state
        .error
        .or(state.delete_error)
        .map_or(StatusCode::OK, |r| r.status);
    let body = html! {
        h1 { "Settings" }
        @if p.contains(Permission::OrgUpdate) {
            section.panel aria-labelledby="rename-title" {
                h2 #rename-title { "Name and slug" }
                (form_error(state.error.and_then(|r| r.general(&["name", "slug"]))))
                form.stack method="post" action={ "/orgs/" (o.slug) "/settings" } {
                    (csrf(&ctx))
                    (field("Name", "name", "text", state.name.unwrap_or(&o.name), state.error.and_then(|r| r.on("name"))))
                    (field("Slug", "slug", "text", state.slug.unwrap_or(&o.slug), state.error.and_then(|r| r.on("slug"))))
                    p.hint { "The slug is in every link to the organization: changing it breaks the old links." }
                    button type="submit" { "Save" }
                }
            }
        }
        @if p.contains(Permission::OrgDelete) && !o.personal {
            section.panel.danger-zone aria-labelledby="delete-title" {
                h2 #delete-title { "Delete the organization" }
                p { "Delete its projects first. Deleting cannot be undone." }
                @if let Some(r) = state.delete_error { p.error role="alert" { (r.message) } }
                details.confirm {
                    summary.button.danger { "Delete" }
                    form method="post" action={ "/orgs/" (o.slug) "/delete" } {
                        (csrf(&ctx))
                        input type="hidden" name="from" value="settings";
                        p { "Delete " (o.name) "? This cannot be undone." }
                        button.danger type="submit" { "Delete" }
                    }
                }
            }
        }
    };
    let title = format!("Settings · {}", o.name);
    let shell = Shell {
        title: &title,
        org: Some(nav(&access, mine, Tab::Settings)),
    };
    ctx.page(status, shell, body)
}

/// `GET /orgs/{slug}/settings`.
pub async fn settings_page(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> Response {
    settings_render(&s, ctx, &slug, SettingsState::default()).await
}

/// `POST /orgs/{slug}/settings`: rename and change the slug (`org.update`, R1).
pub async fn settings(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let (name, new_slug) = (f.get("name").to_owned(), f.get("slug").to_owned());
    let current = orgs::get_org(&s.gh, &who, &OrgRef::parse(&slug)).await;
    let Ok(current) = current else {
        return not_found(ctx).await;
    };
    let mut errors = Vec::new();
    let change = orgs::OrgChange {
        name: (name != current.org.org.name)
            .then(|| OrgName::parse(&name).map_err(|e| errors.push(e)).ok())
            .flatten(),
        slug: (new_slug != current.org.org.slug)
            .then(|| Slug::parse(&new_slug).map_err(|e| errors.push(e)).ok())
            .flatten(),
    };
    let result = if !errors.is_empty() {
        Err(DomainError::Invalid(errors.drain(..1).collect()).into())
    } else if change.name.is_none() && change.slug.is_none() {
        return ctx.redirect(
            &format!("/orgs/{slug}/settings"),
            Some("Nothing to change."),
        );
    } else {
        orgs::update_org(&s.gh, &who, &OrgRef::Id(current.org.org.id), change).await
    };
    match result {
        Ok(a) => ctx.redirect(
            &format!("/orgs/{}/settings", a.org.org.slug),
            Some("Settings saved."),
        ),
        Err(e) => match refusal(e) {
            Ok(r) => {
                let state = SettingsState {
                    name: Some(&name),
                    slug: Some(&new_slug),
                    error: Some(&r),
                    delete_error: None,
                };
                settings_render(&s, ctx, &slug, state).await
            }
            Err(page) => page,
        },
    }
}
