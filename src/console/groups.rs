//! Groups: `/orgs/{slug}/groups` (with member and project counts; create) and a group's page
//! `/orgs/{slug}/groups/{name}` (rename, delete, its members, its projects with the project role
//! it gives on each). Seeing groups needs `members.read`, changing them `groups.manage`; without
//! `members.read` no link leads here and the pages answer 404. R6 bounds every project role a
//! change gives or takes by my own role on that project; the service decides.

use super::layout::{Shell, Tab, csrf, field, form_error, rename_panel};
use super::orgs::{confirm, nav, open};
use super::projects::{
    Cursor, choice_field, chosen_role, grantable, page_missing, person, refusal_on, role_select,
    segment, select, user_of,
};
use super::session::{Ctx, Fields, Post};
use super::{Refusal, not_found, refusal};
use crate::api::AppState;
use crate::api::cursor::{decode_after, encode_after};
use crate::domain::DomainError;
use crate::domain::error::Kind;
use crate::domain::ids::ProjectId;
use crate::domain::model::User;
use crate::domain::names::LocalName;
use crate::domain::permission::{Permission, ProjectRole};
use crate::domain::rules::{GrantPath, r6_project_role};
use crate::service::{self, OrgRef, Principal, groups, projects};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use std::collections::HashMap;

/// Groups shown per page of the list.
const PAGE: u32 = 100;

/// Whether `e` hides the page from me: a missing organization or group, or groups not open to
/// me (`members.read`), all answered with the one 404 page (R12).
fn hidden(e: &service::Error) -> bool {
    page_missing(e, Kind::Group)
        || matches!(
            e,
            service::Error::Domain(DomainError::Forbidden(p)) if *p == Permission::MembersRead
        )
}

/// What the list page shows beside the list.
#[derive(Default)]
struct ListState<'a> {
    cursor: Option<&'a str>,
    name: &'a str,
    error: Option<&'a Refusal>,
}

async fn list_render(s: &AppState, ctx: Ctx, slug: &str, state: ListState<'_>) -> Response {
    let (ctx, access, mine) = match open(s, ctx, slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(who) = ctx.user.clone() else {
        return not_found(ctx).await;
    };
    let org = OrgRef::Id(access.org.org.id);
    let from = state.cursor.and_then(|c| decode_after(c).ok());
    let page = match groups::list_group_summaries(&s.gh, &who, &org, from.as_ref(), PAGE).await {
        Ok(p) => p,
        Err(e) if hidden(&e) => return not_found(ctx).await,
        Err(e) => return crate::api::problem::ApiError::from(e).into_response(),
    };
    let o = &access.org.org;
    let manage = access.actor.permissions.contains(Permission::GroupsManage);
    let body = html! {
        h1 { "Groups" }
        p.hint { "A group gives its members a project role on each of its projects." }
        @if page.items.is_empty() {
            p.empty { @if from.is_some() { "No more groups." } @else { "No group yet." } }
        } @else {
            table.list {
                caption.visually-hidden { "Groups of " (o.name) }
                thead { tr { th scope="col" { "Group" } th scope="col" .num { "Members" } th scope="col" .num { "Projects" } } }
                tbody {
                    @for g in &page.items {
                        tr {
                            td { a href={ "/orgs/" (o.slug) "/groups/" (segment(&g.group.name)) } { (g.group.name) } }
                            td.num { (count(g.members, "member")) }
                            td.num { (count(g.projects, "project")) }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &page.next {
            p { a href={ "/orgs/" (o.slug) "/groups?cursor=" (encode_after(next)) } { "Next page" } }
        }
        @if manage {
            section.panel aria-labelledby="create-title" {
                h2 #create-title { "Create a group" }
                (form_error(state.error.and_then(|r| r.general(&["name"]))))
                form.inline method="post" action={ "/orgs/" (o.slug) "/groups" } {
                    (csrf(&ctx))
                    (field("Name", "name", "text", state.name, state.error.and_then(|r| r.on("name"))))
                    button type="submit" { "Create group" }
                }
            }
        }
    };
    let status = state.error.map_or(StatusCode::OK, |r| r.status);
    let title = format!("Groups · {}", o.name);
    let shell = Shell {
        title: &title,
        org: Some(nav(&access, mine, Tab::Groups)),
    };
    ctx.page(status, shell, body)
}

/// `n` things, in words ("1 member", "2 members").
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `GET /orgs/{slug}/groups` (`members.read`).
pub async fn list(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(c): Query<Cursor>,
) -> Response {
    let state = ListState {
        cursor: c.cursor.as_deref(),
        ..ListState::default()
    };
    list_render(&s, ctx, &slug, state).await
}

/// `POST /orgs/{slug}/groups`: creates a group (`groups.manage`).
pub async fn create(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let name = f.get("name").to_owned();
    let result = match LocalName::parse(&name) {
        Ok(n) => groups::create_group(&s.gh, &who, &OrgRef::parse(&slug), n).await,
        Err(e) => Err(DomainError::Invalid(vec![e]).into()),
    };
    match result {
        Ok(d) => ctx.redirect(
            &format!("/orgs/{slug}/groups/{}", segment(&d.group.name)),
            Some(&format!("Group {} created.", d.group.name)),
        ),
        Err(e) if hidden(&e) => not_found(ctx).await,
        Err(e) => match refusal(e) {
            Ok(r) => {
                let state = ListState {
                    name: &name,
                    error: Some(&r),
                    ..ListState::default()
                };
                list_render(&s, ctx, &slug, state).await
            }
            Err(page) => page,
        },
    }
}

/// What a group's page shows beside the stored state: which form was sent, as typed, and its
/// refusal (for a row, whose).
#[derive(Default)]
struct PageState<'a> {
    form: &'a str,
    typed: Option<&'a Fields>,
    error: Option<&'a Refusal>,
    row: Option<&'a str>,
}

async fn render(s: &AppState, ctx: Ctx, slug: &str, name: &str, state: PageState<'_>) -> Response {
    let (ctx, access, mine) = match open(s, ctx, slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(who) = ctx.user.clone() else {
        return not_found(ctx).await;
    };
    let org = OrgRef::Id(access.org.org.id);
    let d = match groups::get_group(&s.gh, &who, &org, name).await {
        Ok(d) => d,
        Err(e) if hidden(&e) => return not_found(ctx).await,
        Err(e) => return crate::api::problem::ApiError::from(e).into_response(),
    };
    let actor = &access.actor;
    let manage = actor.permissions.contains(Permission::GroupsManage);
    // My role on each project I reach: R6 bounds what I give or take through the group.
    let reached = all_projects(s, &who, &org).await;
    let my_role: HashMap<ProjectId, ProjectRole> =
        reached.iter().map(|(p, r)| (p.id, *r)).collect();
    // R6: a place in the group carries its every project role, so adding or removing a member,
    // and deleting the group, needs each of them to be mine to give.
    let carries = manage
        && d.projects.iter().all(|(p, r)| {
            r6_project_role(actor, my_role.get(&p.id).copied(), *r, GrantPath::Group).is_ok()
        });
    let candidates: Vec<User> = if carries {
        super::projects::all_members(s, &who, &org)
            .await
            .into_iter()
            .filter(|u| u.id != who.user.id && !d.members.iter().any(|m| m.id == u.id))
            .collect()
    } else {
        Vec::new()
    };
    let addable: Vec<&(crate::domain::model::Project, ProjectRole)> = reached
        .iter()
        .filter(|_| manage)
        .filter(|(p, _)| !d.projects.iter().any(|(x, _)| x.id == p.id))
        .filter(|(_, r)| !grantable(actor, Some(*r), GrantPath::Group).is_empty())
        .collect();
    // The add form offers the roles I may give on at least one of the projects it offers.
    let add_roles: Vec<ProjectRole> = ProjectRole::ALL
        .iter()
        .copied()
        .filter(|role| {
            addable
                .iter()
                .any(|(_, mine)| grantable(actor, Some(*mine), GrantPath::Group).contains(role))
        })
        .collect();
    let o = &access.org.org;
    let g = &d.group;
    let base = format!("/orgs/{}/groups/{}", o.slug, segment(&g.name));
    let error_of = |form: &str| state.error.filter(|_| state.form == form);
    let typed = |form: &str, name: &str| -> Option<String> {
        state
            .typed
            .filter(|_| state.form == form)
            .map(|f| f.get(name).to_owned())
    };
    let row_error = |form: &str, id: &str| error_of(form).filter(|_| state.row == Some(id));
    let member_error = error_of("member");
    let project_error = error_of("project");
    let status = state.error.map_or(StatusCode::OK, |r| r.status);
    // A refusal of a form this page no longer offers me is said at the top, not lost.
    let offered_form = match state.form {
        "member" | "delete" => carries,
        "project" | "rename" => manage,
        _ => true,
    };
    let orphan = state.error.filter(|_| !offered_form);
    let body = html! {
        h1 { (g.name) }
        (form_error(orphan.map(|r| r.message.as_str())))
        p.muted { "Group of " (o.name) ": " (count(d.members.len() as u64, "member")) ", " (count(d.projects.len() as u64, "project")) "." }
        @if manage && !carries {
            p.hint { "This group gives a project role above yours on one of its projects: you may not change who is in it, nor delete it." }
        }

        section.panel aria-labelledby="members-title" {
            h2 #members-title { "Members" }
            @if d.members.is_empty() {
                p.empty { "Nobody is in this group yet." }
            } @else {
                table.list {
                    caption.visually-hidden { "Members of " (g.name) }
                    thead { tr { th scope="col" { "Member" } th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for u in &d.members {
                            @let uid = u.id.0.to_string();
                            @let err = row_error("member-row", &uid);
                            tr {
                                td { strong { (u.name) } br; span.muted { (u.email) } }
                                td.actions {
                                    @if carries {
                                        (confirm(&ctx, &format!("{base}/members/{uid}/remove"), "Remove", &format!("Take {} out of {}? They lose the project roles it gives.", u.name, g.name)))
                                    }
                                    @if let Some(r) = err { p.error role="alert" { (r.message) } }
                                }
                            }
                        }
                    }
                }
            }
            @if carries {
                h3.sub { "Add a member" }
                @if candidates.is_empty() && member_error.is_none() {
                    p.empty { "Every other member of the organization is in this group." }
                } @else {
                    (form_error(member_error.and_then(|r| r.general(&["user"]))))
                    form.inline method="post" action={ (base) "/members" } {
                        (csrf(&ctx))
                        (select("Member", "f-user", "user", &candidates.iter().map(person).collect::<Vec<_>>(), &typed("member", "user").unwrap_or_default(), member_error.and_then(|r| r.on("user"))))
                        button type="submit" { "Add member" }
                    }
                }
            }
        }

        section.panel aria-labelledby="projects-title" {
            h2 #projects-title { "Projects" }
            @if d.projects.is_empty() {
                p.empty { "This group gives no project role yet." }
            } @else {
                table.list {
                    caption.visually-hidden { "Projects of " (g.name) }
                    thead { tr { th scope="col" { "Project" } th scope="col" { "Role" } th scope="col" { span.visually-hidden { "Actions" } } } }
                    tbody {
                        @for (p, role) in &d.projects {
                            @let pid = p.id.0.to_string();
                            @let err = row_error("project-row", &pid);
                            @let mine_here = my_role.get(&p.id).copied();
                            @let offered = if manage { grantable(actor, mine_here, GrantPath::Group) } else { Vec::new() };
                            @let changeable = offered.contains(role);
                            tr {
                                td {
                                    @if mine_here.is_some() {
                                        a href={ "/orgs/" (o.slug) "/projects/" (segment(&p.name)) } { (p.name) }
                                    } @else { (p.name) }
                                }
                                td { span.chip { (role.as_str()) } }
                                td.actions {
                                    @if changeable {
                                        details.edit open[err.is_some()] {
                                            summary.button { "Change role" span.visually-hidden { " on " (p.name) } }
                                            form.stack method="post" action={ (base) "/projects/" (pid) } {
                                                (csrf(&ctx))
                                                (role_select(&format!("role-{pid}"), &offered, &typed("project-row", "role").filter(|_| err.is_some()).unwrap_or_else(|| role.as_str().to_owned()), err.and_then(|r| r.on("role"))))
                                                button type="submit" { "Save" }
                                            }
                                        }
                                        (confirm(&ctx, &format!("{base}/projects/{pid}/remove"), "Remove", &format!("Take {} from {}? Its members lose the role it gave them there.", p.name, g.name)))
                                    }
                                    @if let Some(r) = err.and_then(|r| if changeable { r.general(&["role"]) } else { Some(r.message.as_str()) }) { p.error role="alert" { (r) } }
                                }
                            }
                        }
                    }
                }
            }
            @if manage {
                h3.sub { "Add a project" }
                @if addable.is_empty() && project_error.is_none() {
                    p.empty { "Every project you could add is already in this group." }
                } @else {
                    (form_error(project_error.and_then(|r| r.general(&["project", "role"]))))
                    form.inline method="post" action={ (base) "/projects" } {
                        (csrf(&ctx))
                        (select("Project", "f-project", "project", &addable.iter().map(|(p, _)| (p.id.0.to_string(), p.name.clone())).collect::<Vec<_>>(), &typed("project", "project").unwrap_or_default(), project_error.and_then(|r| r.on("project"))))
                        (role_select("f-role", &add_roles, &typed("project", "role").unwrap_or_else(|| "viewer".to_owned()), project_error.and_then(|r| r.on("role"))))
                        button type="submit" { "Add project" }
                    }
                }
            }
        }

        @if manage {
            @let rename_error = error_of("rename");
            (rename_panel(&ctx, &format!("{base}/rename"), &typed("rename", "name").unwrap_or_else(|| g.name.clone()), rename_error))
            @if carries {
                section.panel.danger-zone aria-labelledby="delete-title" {
                    h2 #delete-title { "Delete the group" }
                    p { "Its members lose the project roles it gives; their other roles stay." }
                    (form_error(error_of("delete").map(|r| r.message.as_str())))
                    (confirm(&ctx, &format!("{base}/delete"), "Delete", &format!("Delete the group {}? This cannot be undone.", g.name)))
                }
            }
        }
        p { a href={ "/orgs/" (o.slug) "/groups" } { "Back to the groups" } }
    };
    let title = format!("{} · Groups · {}", g.name, o.name);
    let shell = Shell {
        title: &title,
        org: Some(nav(&access, mine, Tab::Groups)),
    };
    ctx.page(status, shell, body)
}

/// Every project of the organization I reach, with my role on each.
async fn all_projects(
    s: &AppState,
    who: &Principal,
    org: &OrgRef,
) -> Vec<(crate::domain::model::Project, ProjectRole)> {
    let mut out = Vec::new();
    let mut from = None;
    loop {
        let Ok(page) = projects::list_projects(&s.gh, who, org, from.as_ref(), 100).await else {
            return out;
        };
        out.extend(page.items);
        match page.next {
            Some(n) => from = Some(n),
            None => return out,
        }
    }
}

/// `GET /orgs/{slug}/groups/{name}` (`members.read`).
pub async fn page(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((slug, name)): Path<(String, String)>,
) -> Response {
    render(&s, ctx, &slug, &name, PageState::default()).await
}

/// A refused change on a group's page: the 404 page when the group or organization is not open
/// to me (R12), else the page again with the refusal next to the field.
async fn refused(
    s: &AppState,
    ctx: Ctx,
    (slug, name): (&str, &str),
    (form, row): (&str, Option<&str>),
    f: &Fields,
    e: service::Error,
) -> Response {
    if hidden(&e) {
        return not_found(ctx).await;
    }
    let on = match &e {
        // The project chosen is gone, or not one I reach.
        service::Error::Domain(DomainError::NotFound(Kind::Project)) => Some("project"),
        other => choice_field(other),
    };
    match refusal_on(e, on) {
        Ok(r) => {
            let state = PageState {
                form,
                typed: Some(f),
                error: Some(&r),
                row,
            };
            render(s, ctx, slug, name, state).await
        }
        Err(page) => page,
    }
}

/// The group's page again, with `message`.
fn back(ctx: Ctx, slug: &str, group: &str, message: &str) -> Response {
    ctx.redirect(
        &format!("/orgs/{slug}/groups/{}", segment(group)),
        Some(message),
    )
}

/// `POST /orgs/{slug}/groups/{name}/rename` (`groups.manage`).
pub async fn rename(
    State(s): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let new = f.get("name");
    if new == name {
        return back(ctx, &slug, &name, "Nothing to change.");
    }
    let result = match LocalName::parse(new) {
        Ok(n) => groups::rename_group(&s.gh, &who, &OrgRef::parse(&slug), &name, n).await,
        Err(e) => Err(DomainError::Invalid(vec![e]).into()),
    };
    match result {
        Ok(d) => {
            let message = format!("Group {name} renamed to {}.", d.group.name);
            back(ctx, &slug, &d.group.name, &message)
        }
        Err(e) => refused(&s, ctx, (&slug, &name), ("rename", None), &f, e).await,
    }
}

/// `POST /orgs/{slug}/groups/{name}/delete` (`groups.manage`, R6).
pub async fn delete(
    State(s): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let org = OrgRef::parse(&slug);
    let shown = groups::get_group(&s.gh, &who, &org, &name)
        .await
        .map_or_else(|_| name.clone(), |d| d.group.name);
    match groups::delete_group(&s.gh, &who, &org, &name).await {
        Ok(()) => ctx.redirect(
            &format!("/orgs/{slug}/groups"),
            Some(&format!("Group {shown} deleted.")),
        ),
        Err(e) => refused(&s, ctx, (&slug, &name), ("delete", None), &f, e).await,
    }
}

/// `POST /orgs/{slug}/groups/{name}/members`: puts a member in the group (R6).
pub async fn add_member(
    State(s): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let result = async {
        let uid = user_of(f.get("user"))?;
        let d = groups::put_group_member(&s.gh, &who, &OrgRef::parse(&slug), &name, uid).await?;
        let added = d
            .members
            .iter()
            .find(|u| u.id == uid)
            .map(|u| u.name.clone());
        Ok::<_, service::Error>((d.group.name, added.unwrap_or_default()))
    }
    .await;
    match result {
        Ok((group, added)) => back(ctx, &slug, &group, &format!("{added} added to {group}.")),
        Err(e) => refused(&s, ctx, (&slug, &name), ("member", None), &f, e).await,
    }
}

/// `POST /orgs/{slug}/groups/{name}/members/{user}/remove` (R6).
pub async fn remove_member(
    State(s): State<AppState>,
    Path((slug, name, user)): Path<(String, String, String)>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let org = OrgRef::parse(&slug);
    let result = async {
        let uid = user_of(&user)?;
        let gone = groups::get_group(&s.gh, &who, &org, &name)
            .await
            .ok()
            .and_then(|d| d.members.into_iter().find(|u| u.id == uid))
            .map_or_else(|| "The member".to_owned(), |u| u.name);
        let d = groups::remove_group_member(&s.gh, &who, &org, &name, uid).await?;
        Ok::<_, service::Error>((d.group.name, gone))
    }
    .await;
    match result {
        Ok((group, gone)) => back(ctx, &slug, &group, &format!("{gone} taken out of {group}.")),
        Err(e) => refused(&s, ctx, (&slug, &name), ("member-row", Some(&user)), &f, e).await,
    }
}

/// `POST /orgs/{slug}/groups/{name}/projects`: gives the group a role on a project (R6).
pub async fn add_project(
    State(s): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    Post(ctx, f): Post,
) -> Response {
    let project = f.get("project").to_owned();
    set_project_role(&s, ctx, &slug, &name, &project, f, "project").await
}

/// `POST /orgs/{slug}/groups/{name}/projects/{project}`: changes the role the group gives there.
pub async fn set_project(
    State(s): State<AppState>,
    Path((slug, name, project)): Path<(String, String, String)>,
    Post(ctx, f): Post,
) -> Response {
    set_project_role(&s, ctx, &slug, &name, &project, f, "project-row").await
}

async fn set_project_role(
    s: &AppState,
    ctx: Ctx,
    slug: &str,
    name: &str,
    project: &str,
    f: Fields,
    form: &str,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let result = async {
        if project.is_empty() {
            return Err(DomainError::invalid("project", "choose a project").into());
        }
        let role = chosen_role(&f)?;
        let d = groups::put_group_project(&s.gh, &who, &OrgRef::parse(slug), name, project, role)
            .await?;
        let shown = d
            .projects
            .iter()
            .find(|(p, _)| p.id.0.to_string() == project || p.name == project)
            .map_or_else(|| project.to_owned(), |(p, _)| p.name.clone());
        Ok::<_, service::Error>((d.group.name, shown, role))
    }
    .await;
    match result {
        Ok((group, shown, role)) => back(
            ctx,
            slug,
            &group,
            &format!("{group} now gives {} on {shown}.", role.as_str()),
        ),
        Err(e) => {
            let row = (form == "project-row").then_some(project);
            refused(s, ctx, (slug, name), (form, row), &f, e).await
        }
    }
}

/// `POST /orgs/{slug}/groups/{name}/projects/{project}/remove` (R6).
pub async fn remove_project(
    State(s): State<AppState>,
    Path((slug, name, project)): Path<(String, String, String)>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let org = OrgRef::parse(&slug);
    let shown = groups::get_group(&s.gh, &who, &org, &name)
        .await
        .ok()
        .and_then(|d| {
            d.projects
                .into_iter()
                .find(|(p, _)| p.id.0.to_string() == project)
        })
        .map_or_else(|| project.clone(), |(p, _)| p.name);
    match groups::remove_group_project(&s.gh, &who, &org, &name, &project).await {
        Ok(d) => back(
            ctx,
            &slug,
            &d.group.name,
            &format!("{shown} taken from {}.", d.group.name),
        ),
        Err(e) => {
            refused(
                &s,
                ctx,
                (&slug, &name),
                ("project-row", Some(&project)),
                &f,
                e,
            )
            .await
        }
    }
}
