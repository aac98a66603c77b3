//! `/orgs/{slug}/roles`: the organization's roles as a permission matrix (permissions as rows,
//! roles as columns, each permission's description), custom roles created, edited and deleted
//! there. A permission I do not hold is a disabled cell (R6); the owner's own two are disabled
//! for everyone. Before an edit is saved, "Preview" says how many holders gain or lose what: the
//! API's `PATCH …/roles/{role}?dry_run=true`, through `roles::preview_role_update`.

use super::layout::{Shell, Tab, csrf, form_error};
use super::orgs::{confirm, nav, open};
use super::session::{Ctx, Fields, Post};
use super::{Refusal, not_found, org_missing, refusal};
use crate::api::AppState;
use crate::authz::preview::RoleEditPreview;
use crate::domain::DomainError;
use crate::domain::names::RoleName;
use crate::domain::permission::{PermSet, Permission};
use crate::domain::role::{AssignedRole, CustomRole};
use crate::service::{OrgAccess, OrgRef, roles};
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

/// The two permissions no custom role may carry: they stay the owner's.
fn owners_only(p: Permission) -> bool {
    matches!(p, Permission::OrgDelete | Permission::OrgTransfer)
}

/// A refused form and what it held, to show it again with the refusal next to it.
struct Refused<'a> {
    /// `new`, or the custom role's id.
    form: String,
    name: &'a str,
    permissions: PermSet,
    refusal: Refusal,
}

/// The permissions a form (or query) names; an unknown one is refused with its name.
fn chosen(values: &[String]) -> Result<PermSet, DomainError> {
    let mut set = PermSet::default();
    for v in values {
        match Permission::parse(v) {
            Some(p) => set.insert(p),
            None => {
                return Err(DomainError::invalid(
                    "permissions",
                    format!("unknown permission `{v}`"),
                ));
            }
        }
    }
    Ok(set)
}

/// `GET /orgs/{slug}/roles`.
pub async fn page(State(s): State<AppState>, ctx: Ctx, Path(slug): Path<String>) -> Response {
    render(&s, ctx, &slug, None, StatusCode::OK).await
}

async fn render(
    s: &AppState,
    ctx: Ctx,
    slug: &str,
    refused: Option<Refused<'_>>,
    status: StatusCode,
) -> Response {
    let (ctx, access, mine) = match open(s, ctx, slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(who) = ctx.user.clone() else {
        return not_found(ctx).await;
    };
    let all = match roles::list_roles(&s.gh, &who, &OrgRef::Id(access.org.org.id)).await {
        Ok(r) => r,
        Err(e) if org_missing(&e) => return not_found(ctx).await,
        Err(e) => return crate::api::problem::ApiError::from(e).into_response(),
    };
    let body = matrix(&ctx, &access, &all, refused.as_ref());
    let title = format!("Roles · {}", access.org.org.name);
    let shell = Shell {
        title: &title,
        org: Some(nav(&access, mine, Tab::Roles)),
    };
    ctx.page(status, shell, body)
}

/// The matrix, the create form and each custom role's edit and delete forms.
fn matrix(
    ctx: &Ctx,
    access: &OrgAccess,
    all: &[AssignedRole],
    refused: Option<&Refused<'_>>,
) -> Markup {
    let o = &access.org.org;
    let held = access.actor.permissions;
    let manage = held.contains(Permission::RolesManage);
    let custom: Vec<&CustomRole> = all
        .iter()
        .filter_map(|r| match r {
            AssignedRole::Custom(c) => Some(c),
            AssignedRole::Builtin(_) => None,
        })
        .collect();
    let refused_for = |form: &str| refused.filter(|r| r.form == form);
    // What a custom role's column shows ticked: what a refused save held, else the role's own.
    let ticked =
        |c: &CustomRole| refused_for(&c.id.0.to_string()).map_or(c.permissions, |r| r.permissions);
    html! {
        h1 { "Roles" }
        p.hint {
            "What each role allows. Built-in roles are fixed; custom roles mix any permissions but "
            code { "org.delete" } " and " code { "org.transfer" } ", which stay the owner's."
            @if manage { " You can give a custom role only permissions you hold yourself." }
        }
        @if let Some(r) = refused.filter(|r| r.refusal.field.as_deref() != Some("name")) {
            @let whose = if r.form == "new" { "The new role".to_owned() } else { custom.iter().find(|c| c.id.0.to_string() == r.form).map_or("This role".to_owned(), |c| format!("Role {}", c.name)) };
            p.error role="alert" { (whose) ": " (r.refusal.message) }
        }
        div.matrix-scroll role="region" aria-label="Permission matrix" tabindex="0" {
            table.matrix {
                caption.visually-hidden { "Permissions (rows) of each role (columns)" }
                thead {
                    tr {
                        th scope="col" { "Permission" }
                        @for r in all {
                            th scope="col" {
                                (r.name())
                                @if matches!(r, AssignedRole::Builtin(_)) { br; span.tag { "built-in" } }
                            }
                        }
                    }
                }
                tbody {
                    @for p in Permission::ALL {
                        tr {
                            th scope="row" {
                                code { (p.as_str()) }
                                span.desc { (p.description()) }
                            }
                            @for r in all {
                                @match r {
                                    AssignedRole::Builtin(b) => {
                                        td.cell {
                                            @if b.permissions().contains(*p) {
                                                span aria-hidden="true" { "✓" }
                                                span.visually-hidden { (b.as_str()) " has " (p.as_str()) }
                                            } @else {
                                                span.visually-hidden { (b.as_str()) " does not have " (p.as_str()) }
                                            }
                                        }
                                    }
                                    AssignedRole::Custom(c) => {
                                        @let id = c.id.0.to_string();
                                        @let on = ticked(c).contains(*p);
                                        @let open = manage && held.contains(*p) && !owners_only(*p);
                                        td.cell {
                                            input type="checkbox" name="permissions" value=(p.as_str())
                                                form={ "role-" (id) }
                                                aria-label={ (p.as_str()) " for " (c.name) }
                                                checked[on] disabled[!open];
                                            // A disabled box is not sent: what the role holds beyond my
                                            // permissions is carried as it is (the service still refuses
                                            // a save that keeps it, in words).
                                            @if on && !open && manage {
                                                input type="hidden" name="permissions" value=(p.as_str()) form={ "role-" (id) };
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                @if manage && !custom.is_empty() {
                    tfoot {
                        tr {
                            th scope="row" { "Edit" }
                            @for r in all {
                                @match r {
                                    AssignedRole::Builtin(_) => { td {} }
                                    AssignedRole::Custom(c) => {
                                        @let id = c.id.0.to_string();
                                        @let mine_refused = refused_for(&id);
                                        @let name_value = mine_refused.map_or(c.name.as_str(), |r| r.name);
                                        td.edit-role {
                                            form.stack #{ "role-" (id) } method="post"
                                                action={ "/orgs/" (o.slug) "/roles/" (id) }
                                                data-preview={ "/orgs/" (o.slug) "/roles/" (id) "/preview" }
                                                data-slot={ "preview-" (id) } {
                                                (csrf(ctx))
                                                @let field_id = format!("name-{id}");
                                                div.field {
                                                    label for=(field_id) { "Name" }
                                                    input #(field_id) type="text" name="name" value=(name_value) required
                                                        aria-invalid=[mine_refused.and_then(|r| r.refusal.on("name")).map(|_| "true")];
                                                    (form_error(mine_refused.and_then(|r| r.refusal.on("name"))))
                                                }
                                                div.row {
                                                    button.secondary type="submit" formaction={ "/orgs/" (o.slug) "/roles/" (id) "/preview" } { "Preview" }
                                                    button type="submit" { "Save" }
                                                }
                                            }
                                            (confirm(ctx, &format!("/orgs/{}/roles/{id}/delete", o.slug), "Delete", &format!("Delete the role {}? Members must not hold it any more.", c.name)))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @for c in &custom {
            div.preview-slot #{ "preview-" (c.id.0) } aria-live="polite" {}
        }
        @if custom.is_empty() {
            p.empty { "No custom roles yet." }
        }
        @if manage {
            @let mine_refused = refused_for("new");
            @let name_value = mine_refused.map_or("", |r| r.name);
            @let boxes = mine_refused.map_or(PermSet::default(), |r| r.permissions);
            section.panel aria-labelledby="new-role" {
                h2 #new-role { "Create a custom role" }
                form.stack method="post" action={ "/orgs/" (o.slug) "/roles" } {
                    (csrf(ctx))
                    div.field {
                        label for="new-role-name" { "Name" }
                        input #new-role-name type="text" name="name" value=(name_value) required
                            aria-invalid=[mine_refused.and_then(|r| r.refusal.on("name")).map(|_| "true")];
                        (form_error(mine_refused.and_then(|r| r.refusal.on("name"))))
                    }
                    fieldset.roles {
                        legend { "Permissions" }
                        @for p in Permission::ALL {
                            @let grantable = held.contains(*p) && !owners_only(*p);
                            @let id = format!("new-{}", p.as_str().replace('.', "-"));
                            label for=(id) {
                                input #(id) type="checkbox" name="permissions" value=(p.as_str())
                                    checked[boxes.contains(*p)] disabled[!grantable];
                                " " code { (p.as_str()) }
                            }
                        }
                    }
                    div { button type="submit" { "Create role" } }
                }
            }
        }
    }
}

/// `POST /orgs/{slug}/roles`: create a custom role (R6).
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
    let asked = chosen(&f.all("permissions"));
    let perms = asked.as_ref().map_or(PermSet::default(), |p| *p);
    let result = match (RoleName::parse(&name), asked) {
        (Ok(n), Ok(p)) => roles::create_role(&s.gh, &who, &OrgRef::parse(&slug), n, p).await,
        (Err(e), _) => Err(DomainError::Invalid(vec![e]).into()),
        (_, Err(e)) => Err(e.into()),
    };
    match result {
        Ok(role) => ctx.redirect(
            &format!("/orgs/{slug}/roles"),
            Some(&format!("Role {} created.", role.name)),
        ),
        Err(e) => refused(&s, ctx, &slug, "new".to_owned(), &name, perms, e).await,
    }
}

/// What an edit form asks for.
fn change_of(f: &Fields) -> Result<roles::RoleChange, DomainError> {
    Ok(roles::RoleChange {
        name: Some(RoleName::parse(f.get("name")).map_err(|e| DomainError::Invalid(vec![e]))?),
        permissions: Some(chosen(&f.all("permissions"))?),
    })
}

/// `POST /orgs/{slug}/roles/{role}`: save a custom role's name and permissions (R6).
pub async fn save(
    State(s): State<AppState>,
    Path((slug, role)): Path<(String, String)>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let result = match change_of(&f) {
        Ok(change) => roles::update_role(&s.gh, &who, &OrgRef::parse(&slug), &role, change).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(r) => ctx.redirect(
            &format!("/orgs/{slug}/roles"),
            Some(&format!("Role {} saved.", r.name)),
        ),
        Err(e) => {
            let perms = chosen(&f.all("permissions")).unwrap_or_default();
            refused(&s, ctx, &slug, role, f.get("name"), perms, e).await
        }
    }
}

/// `POST /orgs/{slug}/roles/{role}/delete`: refused while members hold it, with how many.
pub async fn delete(
    State(s): State<AppState>,
    Path((slug, role)): Path<(String, String)>,
    Post(ctx, _): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    match roles::delete_role(&s.gh, &who, &OrgRef::parse(&slug), &role).await {
        Ok(()) => ctx.redirect(&format!("/orgs/{slug}/roles"), Some("Role deleted.")),
        Err(e) => refused(&s, ctx, &slug, role, "", PermSet::default(), e).await,
    }
}

/// The page again with a form's refusal next to it; a missing organization is the 404 page.
async fn refused(
    s: &AppState,
    ctx: Ctx,
    slug: &str,
    form: String,
    name: &str,
    permissions: PermSet,
    e: crate::service::Error,
) -> Response {
    if org_missing(&e) {
        return not_found(ctx).await;
    }
    match refusal(e) {
        Ok(refusal) => {
            let status = refusal.status;
            let refused = Refused {
                form,
                name,
                permissions,
                refusal,
            };
            render(s, ctx, slug, Some(refused), status).await
        }
        Err(page) => page,
    }
}

/// What an edit does to the role's holders, in words.
pub fn impact(role: &CustomRole, p: &RoleEditPreview) -> Markup {
    let members = |n: u64| {
        if n == 1 {
            "1 member".to_owned()
        } else {
            format!("{n} members")
        }
    };
    html! {
        section.preview aria-label="What this edit does" {
            h3 { "What this edit does to " (role.name) }
            p { (members(p.holders)) " hold" @if p.holders == 1 { "s" } " this role." }
            @if p.gained.is_empty() && p.lost.is_empty() {
                p { "No member gains or loses a permission." }
            } @else {
                table.list {
                    caption { "Permissions that change for its holders" }
                    thead { tr { th scope="col" { "Permission" } th scope="col" { "Change" } } }
                    tbody {
                        @for (perm, n) in &p.gained {
                            tr { td { code { (perm.as_str()) } } td { (members(*n)) @if *n == 1 { " gains it" } @else { " gain it" } } }
                        }
                        @for (perm, n) in &p.lost {
                            tr { td { code { (perm.as_str()) } } td { (members(*n)) @if *n == 1 { " loses it" } @else { " lose it" } } }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /orgs/{slug}/roles/{role}/preview?name=…&permissions=…`: the impact as a fragment for
/// the column's form (the small script asks for it as boxes change), or the refusal in words.
pub async fn fragment(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((slug, role)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(who) = ctx.user.clone() else {
        return not_found(ctx).await;
    };
    let f = Fields::from_query(query.as_deref().unwrap_or(""));
    let result = match change_of(&f) {
        Ok(change) => {
            roles::preview_role_update(&s.gh, &who, &OrgRef::parse(&slug), &role, change).await
        }
        Err(e) => Err(e.into()),
    };
    super::preview::fragment_of(ctx, result, |(after, p)| impact(after, p)).await
}

/// `POST /orgs/{slug}/roles/{role}/preview`: the impact as a page with Save under it (the
/// column's "Preview" button, for a browser without script).
pub async fn preview_page(
    State(s): State<AppState>,
    Path((slug, role)): Path<(String, String)>,
    Post(ctx, f): Post,
) -> Response {
    let (ctx, access, mine) = match open(&s, ctx, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(who) = ctx.user.clone() else {
        return not_found(ctx).await;
    };
    let o = &access.org.org;
    let back = format!("/orgs/{}/roles", o.slug);
    let result = match change_of(&f) {
        Ok(change) => {
            roles::preview_role_update(&s.gh, &who, &OrgRef::Id(o.id), &role, change).await
        }
        Err(e) => Err(e.into()),
    };
    let (status, content) = match result {
        Ok((after, p)) => (
            StatusCode::OK,
            html! {
                (impact(&after, &p))
                form.stack method="post" action={ "/orgs/" (o.slug) "/roles/" (role) } {
                    (csrf(&ctx))
                    input type="hidden" name="name" value=(after.name);
                    @for perm in after.permissions.iter() {
                        input type="hidden" name="permissions" value=(perm.as_str());
                    }
                    div.row {
                        button type="submit" { "Save" }
                        a.button.secondary href=(back) { "Cancel" }
                    }
                }
            },
        ),
        Err(e) if org_missing(&e) => return not_found(ctx).await,
        Err(e) => match refusal(e) {
            Ok(r) => (
                r.status,
                html! { p.error role="alert" { (r.message) } p { a href=(back) { "Back to the roles" } } },
            ),
            Err(page) => return page,
        },
    };
    let body = html! {
        h1 { "Edit role" }
        (content)
    };
    let title = format!("Edit role · {}", o.name);
    let shell = Shell {
        title: &title,
        org: Some(nav(&access, mine, Tab::Roles)),
    };
    ctx.page(status, shell, body)
}
