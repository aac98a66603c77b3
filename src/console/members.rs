//! People of an organization: `/orgs/{slug}/members` (roles as chips, groups, add, register and
//! add, invite, change roles, remove) and `/orgs/{slug}/invitations` (resend, revoke).

use super::layout::{Shell, Tab, csrf, form_error};
use super::orgs::{confirm, nav, open};
use super::session::{Ctx, Fields, Post};
use super::{Refusal, not_found, refusal};
use crate::api::AppState;
use crate::api::cursor::{decode_after, encode_after};
use crate::domain::DomainError;
use crate::domain::ids::{InvitationId, UserId};
use crate::domain::names::{DisplayName, Email};
use crate::domain::permission::BuiltinRole;
use crate::domain::permission::Permission;
use crate::domain::role::AssignedRole;
use crate::domain::rules::r6_may_grant;
use crate::service::{OrgAccess, OrgRef, invitations, members, roles};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

/// `?cursor=` of a page.
#[derive(Deserialize, Default)]
pub struct Cursor {
    cursor: Option<String>,
}

/// Members shown per page.
const PAGE: u32 = 50;

/// The roles I may grant here, as R6 says, in the order the organization lists them.
async fn grantable(s: &AppState, ctx: &Ctx, access: &OrgAccess) -> Vec<AssignedRole> {
    let Some(who) = &ctx.user else {
        return Vec::new();
    };
    roles::list_roles(&s.gh, who, &OrgRef::Id(access.org.org.id))
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r6_may_grant(&access.actor, r).is_ok())
        .collect()
}

/// Checkboxes for `offered`, `checked` ticked.
fn role_boxes(prefix: &str, offered: &[AssignedRole], checked: &[String]) -> Markup {
    html! {
        fieldset.roles {
            legend { "Roles" }
            @for r in offered {
                @let id = format!("{prefix}-{}", r.name());
                label for=(id) {
                    input #(id) type="checkbox" name="roles" value=(r.name()) checked[checked.iter().any(|c| c == r.name())];
                    " " (r.name())
                }
            }
        }
    }
}

/// What the members page shows beside the list: one form's values and refusal.
#[derive(Default)]
struct FormState<'a> {
    form: &'a str,
    email: &'a str,
    name: &'a str,
    roles: Vec<String>,
    error: Option<&'a Refusal>,
    row: Option<(&'a str, &'a Refusal)>,
}

async fn render(
    s: &AppState,
    ctx: Ctx,
    slug: &str,
    cursor: Option<&str>,
    state: FormState<'_>,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let from = cursor.and_then(|c| decode_after(c).ok());
    // One read for the organization, the page and its roles; the switcher is a second.
    let found = members::members_page(&s.gh, &who, &OrgRef::parse(slug), from.as_ref(), PAGE).await;
    let (access, page, all_roles) = match found {
        Ok(x) => x,
        Err(crate::service::Error::Domain(
            DomainError::NotFound(_) | DomainError::Forbidden(_),
        )) => {
            return not_found(ctx).await;
        }
        Err(e) => return crate::api::problem::ApiError::from(e).into_response(),
    };
    let mine = super::orgs::mine(s, &who).await;
    let p = access.actor.permissions;
    let offered: Vec<AssignedRole> = all_roles
        .into_iter()
        .filter(|r| r6_may_grant(&access.actor, r).is_ok())
        .collect();
    let manage = p.contains(Permission::MembersManage);
    let invite = p.contains(Permission::MembersInvite);
    let i_own = access.org.owner.id == who.user.id;
    let o = &access.org.org;
    let error_of = |form: &str| state.error.filter(|_| state.form == form);
    let body = html! {
        h1 { "Members" }
        table.list {
            caption.visually-hidden { "Members of " (o.name) }
            thead { tr { th scope="col" { "Member" } th scope="col" { "Roles" } th scope="col" { "Groups" } th scope="col" { span.visually-hidden { "Actions" } } } }
            tbody {
                @for m in &page.items {
                    @let uid = m.user.id.0.to_string();
                    @let owner = m.roles.iter().any(|r| r.is(BuiltinRole::Owner));
                    @let me = m.user.id == who.user.id;
                    tr {
                        td {
                            a href={ "/orgs/" (o.slug) "/members/" (uid) } { strong { (m.user.name) } }
                            br; span.muted { (m.user.email) }
                        }
                        td { @for r in &m.roles { span.chip { (r.name()) } " " } }
                        td { @if m.groups.is_empty() { span.muted { "none" } } @for g in &m.groups { span.chip.group { (g) } " " } }
                        td.actions {
                            @if manage && !owner && !me {
                                details.edit {
                                    summary.button { "Change roles" }
                                    form.stack method="post" action={ "/orgs/" (o.slug) "/members/" (uid) "/roles" } data-preview={ "/orgs/" (o.slug) "/members/" (uid) "/preview" } {
                                        (csrf(&ctx))
                                        @let held: Vec<String> = m.roles.iter().map(|r| r.name().to_owned()).collect();
                                        (role_boxes(&format!("r-{uid}"), &offered, &held))
                                        div.preview-slot aria-live="polite" {}
                                        div.row {
                                            button.secondary type="submit" formaction={ "/orgs/" (o.slug) "/members/" (uid) "/preview" } { "Preview" }
                                            button type="submit" { "Save" }
                                        }
                                    }
                                }
                                (confirm(&ctx, &format!("/orgs/{}/members/{uid}/remove", o.slug), "Remove", &format!("Remove {} from {}? They lose every role, group and project here.", m.user.name, o.name)))
                            }
                            @if i_own && m.roles.iter().any(|r| r.is(BuiltinRole::Admin)) {
                                a.button href={ "/orgs/" (o.slug) "/transfer?to=" (uid) } { "Transfer ownership" }
                            }
                            @if let Some((row, r)) = state.row {
                                @if row == uid { p.error role="alert" { (r.message) } }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &page.next {
            p { a href={ "/orgs/" (o.slug) "/members?cursor=" (encode_after(next)) } { "Next page" } }
        }
        @if invite {
            section.panel aria-labelledby="add-title" {
                h2 #add-title { "Add people" }
                div.forms {
                    (person_form(&ctx, o.slug.as_str(), "add", "Add a registered user", &offered, &state, error_of("add")))
                    (person_form(&ctx, o.slug.as_str(), "register", "Register and add", &offered, &state, error_of("register")))
                    (person_form(&ctx, o.slug.as_str(), "invite", "Invite", &offered, &state, error_of("invite")))
                }
            }
        }
    };
    let status = state
        .error
        .or(state.row.map(|(_, r)| r))
        .map_or(StatusCode::OK, |r| r.status);
    let title = format!("Members · {}", o.name);
    let shell = Shell {
        title: &title,
        org: Some(nav(&access, mine, Tab::Members)),
    };
    ctx.page(status, shell, body)
}

/// One of the three ways in: add a registered user, register and add, invite.
fn person_form(
    ctx: &Ctx,
    slug: &str,
    kind: &str,
    title: &str,
    offered: &[AssignedRole],
    state: &FormState<'_>,
    error: Option<&Refusal>,
) -> Markup {
    let mine = state.form == kind;
    let (email, name, roles): (&str, &str, &[String]) = if mine {
        (state.email, state.name, &state.roles)
    } else {
        ("", "", &[])
    };
    let action = if kind == "invite" {
        format!("/orgs/{slug}/invitations")
    } else {
        format!("/orgs/{slug}/members")
    };
    let button = match kind {
        "add" => "Add member",
        "register" => "Register and add",
        _ => "Invite",
    };
    html! {
        form.stack.card method="post" action=(action) aria-label=(title) {
            h3 { (title) }
            (csrf(ctx))
            input type="hidden" name="form" value=(kind);
            (form_error(error.and_then(|r| r.general(&["email", "name", "roles"]))))
            (id_field("Email", &format!("{kind}-email"), "email", "email", email, error.and_then(|r| r.on("email"))))
            @if kind == "register" {
                (id_field("Name", &format!("{kind}-name"), "name", "text", name, error.and_then(|r| r.on("name"))))
            }
            (role_boxes(kind, offered, roles))
            @if let Some(e) = error.and_then(|r| r.on("roles")) { p.error { (e) } }
            button type="submit" { (button) }
        }
    }
}

/// A labelled input whose id is given (three forms on one page share field names).
fn id_field(
    label: &str,
    id: &str,
    name: &str,
    kind: &str,
    value: &str,
    error: Option<&str>,
) -> Markup {
    let err_id = format!("{id}-error");
    html! {
        div.field {
            label for=(id) { (label) }
            input #(id) type=(kind) name=(name) value=(value) required
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| err_id.as_str())];
            @if let Some(e) = error { p.error #(err_id) { (e) } }
        }
    }
}

/// `GET /orgs/{slug}/members`.
pub async fn page(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(c): Query<Cursor>,
) -> Response {
    render(&s, ctx, &slug, c.cursor.as_deref(), FormState::default()).await
}

/// The roles a form (or a preview's query) names; none is refused.
pub(super) fn chosen_roles(f: &Fields) -> Result<Vec<String>, DomainError> {
    let roles = f.all("roles");
    if roles.is_empty() {
        Err(DomainError::invalid("roles", "choose at least one role"))
    } else {
        Ok(roles)
    }
}

/// `POST /orgs/{slug}/members`: add a registered user, or register and add (R10).
pub async fn add(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let kind = if f.get("form") == "register" {
        "register"
    } else {
        "add"
    };
    let result = async {
        let email = Email::parse(f.get("email")).map_err(|e| DomainError::Invalid(vec![e]))?;
        let register = if kind == "register" {
            Some(DisplayName::parse(f.get("name")).map_err(|e| DomainError::Invalid(vec![e]))?)
        } else {
            None
        };
        let roles = chosen_roles(&f)?;
        members::add_member(&s.gh, &who, &OrgRef::parse(&slug), email, &roles, register).await
    }
    .await;
    match result {
        Ok(m) => {
            let message = if kind == "register" {
                format!(
                    "{} is registered and added; they were mailed a link to choose a password.",
                    m.user.email
                )
            } else {
                format!("{} added.", m.user.name)
            };
            ctx.redirect(&format!("/orgs/{slug}/members"), Some(&message))
        }
        Err(e) => form_refused(&s, ctx, &slug, kind, &f, e).await,
    }
}

async fn form_refused(
    s: &AppState,
    ctx: Ctx,
    slug: &str,
    kind: &str,
    f: &Fields,
    e: crate::service::Error,
) -> Response {
    if super::org_missing(&e) {
        return not_found(ctx).await;
    }
    match refusal(e) {
        Ok(r) => {
            let state = FormState {
                form: kind,
                email: f.get("email"),
                name: f.get("name"),
                roles: f.all("roles"),
                error: Some(&r),
                row: None,
            };
            if kind == "invite" {
                invitations_render(s, ctx, slug, Some(&state)).await
            } else {
                render(s, ctx, slug, None, state).await
            }
        }
        Err(page) => page,
    }
}

/// `POST /orgs/{slug}/members/{user}/roles` (R3, R6).
pub async fn set_roles(
    State(s): State<AppState>,
    Path((slug, user)): Path<(String, String)>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let Ok(uid) = user.parse::<uuid::Uuid>() else {
        return not_found(ctx).await;
    };
    let result = match chosen_roles(&f) {
        Ok(roles) => {
            members::change_member_roles(&s.gh, &who, &OrgRef::parse(&slug), UserId(uid), &roles)
                .await
        }
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(m) => ctx.redirect(
            &format!("/orgs/{slug}/members"),
            Some(&format!("Roles of {} saved.", m.user.name)),
        ),
        Err(e) => row_refused(&s, ctx, &slug, &user, e).await,
    }
}

/// `POST /orgs/{slug}/members/{user}/remove` (R3, R6).
pub async fn remove(
    State(s): State<AppState>,
    Path((slug, user)): Path<(String, String)>,
    Post(ctx, _): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let Ok(uid) = user.parse::<uuid::Uuid>() else {
        return not_found(ctx).await;
    };
    match members::remove_member(&s.gh, &who, &OrgRef::parse(&slug), UserId(uid)).await {
        Ok(()) => ctx.redirect(&format!("/orgs/{slug}/members"), Some("Member removed.")),
        Err(e) => row_refused(&s, ctx, &slug, &user, e).await,
    }
}

async fn row_refused(
    s: &AppState,
    ctx: Ctx,
    slug: &str,
    user: &str,
    e: crate::service::Error,
) -> Response {
    if super::org_missing(&e) {
        return not_found(ctx).await;
    }
    match refusal(e) {
        Ok(r) => {
            let state = FormState {
                row: Some((user, &r)),
                ..FormState::default()
            };
            render(s, ctx, slug, None, state).await
        }
        Err(page) => page,
    }
}

async fn invitations_render(
    s: &AppState,
    ctx: Ctx,
    slug: &str,
    state: Option<&FormState<'_>>,
) -> Response {
    let (ctx, access, mine) = match open(s, ctx, slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !access.actor.permissions.contains(Permission::MembersInvite) {
        return not_found(ctx).await;
    }
    let Some(who) = ctx.user.clone() else {
        return not_found(ctx).await;
    };
    let org = OrgRef::Id(access.org.org.id);
    let rows = match invitations::list_invitations(&s.gh, &who, &org, None, 100).await {
        Ok(p) => p.items,
        Err(e) => return crate::api::problem::ApiError::from(e).into_response(),
    };
    let offered = grantable(s, &ctx, &access).await;
    let o = &access.org.org;
    let empty = FormState::default();
    let state = state.unwrap_or(&empty);
    let error = state.error.filter(|_| state.form == "invite");
    let body = html! {
        h1 { "Invitations" }
        @if rows.is_empty() {
            p.empty { "No invitation is pending." }
        } @else {
            table.list {
                caption.visually-hidden { "Pending invitations" }
                thead { tr { th scope="col" { "Email" } th scope="col" { "Roles" } th scope="col" { "State" } th scope="col" { "Expires" } th scope="col" { span.visually-hidden { "Actions" } } } }
                tbody {
                    @for v in &rows {
                        @let id = v.invitation.id.0.to_string();
                        tr {
                            td { (v.invitation.email) }
                            td { @for r in &v.roles { span.chip { (r) } " " } }
                            td { (v.state.as_str()) }
                            td { (crate::mail::when(v.invitation.expires_at)) }
                            td.actions {
                                form method="post" action={ "/orgs/" (o.slug) "/invitations/" (id) "/resend" } {
                                    (csrf(&ctx))
                                    button type="submit" { "Resend" }
                                }
                                (confirm(&ctx, &format!("/orgs/{}/invitations/{id}/revoke", o.slug), "Revoke", &format!("Revoke the invitation to {}?", v.invitation.email)))
                            }
                        }
                    }
                }
            }
        }
        section.panel aria-labelledby="invite-title" {
            h2 #invite-title { "Invite someone" }
            (person_form(&ctx, o.slug.as_str(), "invite", "Invite", &offered, state, error))
        }
    };
    let status = error.map_or(StatusCode::OK, |r| r.status);
    let title = format!("Invitations · {}", o.name);
    let shell = Shell {
        title: &title,
        org: Some(nav(&access, mine, Tab::Invitations)),
    };
    ctx.page(status, shell, body)
}

/// `GET /orgs/{slug}/invitations`.
pub async fn invitations_page(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> Response {
    invitations_render(&s, ctx, &slug, None).await
}

/// `POST /orgs/{slug}/invitations`: invite (R9, R6).
pub async fn invite(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let result = async {
        let email = Email::parse(f.get("email")).map_err(|e| DomainError::Invalid(vec![e]))?;
        let roles = chosen_roles(&f)?;
        invitations::create_invitation(&s.gh, &who, &OrgRef::parse(&slug), email, &roles).await
    }
    .await;
    match result {
        Ok(v) => ctx.redirect(
            &format!("/orgs/{slug}/invitations"),
            Some(&format!("Invitation sent to {}.", v.invitation.email)),
        ),
        Err(e) => form_refused(&s, ctx, &slug, "invite", &f, e).await,
    }
}

/// `POST /orgs/{slug}/invitations/{id}/resend`.
pub async fn resend(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Post(ctx, _): Post,
) -> Response {
    invitation_action(&s, ctx, &slug, &id, true).await
}

/// `POST /orgs/{slug}/invitations/{id}/revoke`.
pub async fn revoke(
    State(s): State<AppState>,
    Path((slug, id)): Path<(String, String)>,
    Post(ctx, _): Post,
) -> Response {
    invitation_action(&s, ctx, &slug, &id, false).await
}

async fn invitation_action(s: &AppState, ctx: Ctx, slug: &str, id: &str, resend: bool) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return not_found(ctx).await;
    };
    let org = OrgRef::parse(slug);
    let result = if resend {
        invitations::resend_invitation(&s.gh, &who, &org, InvitationId(id))
            .await
            .map(|v| format!("Invitation re-sent to {}.", v.invitation.email))
    } else {
        invitations::revoke_invitation(&s.gh, &who, &org, InvitationId(id))
            .await
            .map(|()| "Invitation revoked.".to_owned())
    };
    match result {
        Ok(message) => ctx.redirect(&format!("/orgs/{slug}/invitations"), Some(&message)),
        Err(e) => match refusal(e) {
            Ok(r) if r.status == StatusCode::NOT_FOUND => not_found(ctx).await,
            Ok(r) => ctx.redirect(&format!("/orgs/{slug}/invitations"), Some(&r.message)),
            Err(page) => page,
        },
    }
}

/// `GET /orgs/{slug}/members/{user}`: a member's effective permissions, each with where it comes
/// from, and the projects they reach (mine, or anyone's with `members.read`).
pub async fn permissions(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((slug, user)): Path<(String, String)>,
) -> Response {
    let (ctx, access, mine) = match open(&s, ctx, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(who) = ctx.user.clone() else {
        return not_found(ctx).await;
    };
    let Ok(uid) = user.parse::<uuid::Uuid>() else {
        return not_found(ctx).await;
    };
    let org = OrgRef::Id(access.org.org.id);
    let e = match members::member_permissions(&s.gh, &who, &org, UserId(uid)).await {
        Ok(e) => e,
        Err(crate::service::Error::Domain(
            DomainError::NotFound(_) | DomainError::Forbidden(_),
        )) => {
            return not_found(ctx).await;
        }
        Err(e) => return crate::api::problem::ApiError::from(e).into_response(),
    };
    let source = |kind: &str, name: &str| match kind {
        "membership" => "membership".to_owned(),
        "custom_role" => format!("custom role {name}"),
        "group" => format!("group {name}"),
        "direct" => "direct".to_owned(),
        _ => format!("role {name}"),
    };
    let o = &access.org.org;
    let body = html! {
        h1 { (e.user.name) }
        p.muted { (e.user.email) }
        h2 { "Organization permissions" }
        table.list {
            caption.visually-hidden { "Permissions of " (e.user.name) }
            thead { tr { th scope="col" { "Permission" } th scope="col" { "Comes from" } } }
            tbody {
                @for g in &e.permissions {
                    tr {
                        td { code { (g.permission.as_str()) } }
                        td { @for src in &g.sources { span.chip { (source(src.kind, &src.role)) } " " } }
                    }
                }
            }
        }
        h2 { "Projects" }
        @if let Some(all) = &e.all_projects {
            p { "Every project as " strong { (all.role.as_str()) } ", from "
                @for src in &all.sources { span.chip { (source(src.kind, src.name.as_deref().unwrap_or(""))) } " " } }
        }
        @if e.granted.is_empty() {
            @if e.all_projects.is_none() { p.empty { "No project is open to them." } }
        } @else {
            table.list {
                caption.visually-hidden { "Projects " (e.user.name) " reaches" }
                thead { tr { th scope="col" { "Project" } th scope="col" { "Role" } th scope="col" { "Comes from" } } }
                tbody {
                    @for (_, name, role, sources) in &e.granted {
                        tr {
                            td { (name) }
                            td { (role.as_str()) }
                            td { @for src in sources { span.chip { (source(src.kind, src.name.as_deref().unwrap_or(""))) " (" (src.role.as_str()) ")" } " " } }
                        }
                    }
                }
            }
        }
        p { a href={ "/orgs/" (o.slug) "/members" } { "Back to the members" } }
    };
    let title = format!("{} · {}", e.user.name, o.name);
    let shell = Shell {
        title: &title,
        org: Some(nav(&access, mine, Tab::Members)),
    };
    ctx.page(StatusCode::OK, shell, body)
}
