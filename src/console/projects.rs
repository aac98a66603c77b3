//! Projects: `/orgs/{slug}/projects` (the projects I reach, with my role on each and where it
//! comes from; create) and a project's page `/orgs/{slug}/projects/{name}` (rename, delete, the
//! plan editor, direct project roles). A project I do not reach answers the one 404 page, as a
//! missing one does (R11, R12). The controls shown are those my permissions open; the service
//! functions still decide every change.

use super::layout::{Shell, Tab, csrf, field, form_error, optional_field, rename_panel, urlencode};
use super::orgs::{confirm, nav, open};
use super::session::{Ctx, Fields, Post};
use super::{Refusal, not_found, refusal};
use crate::api::AppState;
use crate::api::cursor::{decode_after, encode_after};
use crate::authz::eval::ProjectSource;
use crate::domain::DomainError;
use crate::domain::billing::format_amount;
use crate::domain::error::{FieldError, Kind};
use crate::domain::ids::{ProjectId, UserId};
use crate::domain::model::User;
use crate::domain::names::LocalName;
use crate::domain::permission::{Permission, ProjectPermission, ProjectRole};
use crate::domain::rules::{ActorFacts, GrantPath, r6_project_role};
use crate::service::{self, OrgRef, Principal, billing, members, projects};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;

/// Projects shown per page of the list.
const PAGE: u32 = 100;

/// `?cursor=` of a list page.
#[derive(Deserialize, Default)]
pub struct Cursor {
    pub(super) cursor: Option<String>,
}

/// `name` as one path segment: everything but unreserved characters escaped, `/` included
/// (project and group names may hold one).
pub(super) fn segment(name: &str) -> String {
    urlencode(name).replace('/', "%2F")
}

/// Whether `e` says the page itself is not there for me (R11, R12): the organization, or the
/// `kind` the page is about.
pub(super) fn page_missing(e: &service::Error, kind: Kind) -> bool {
    matches!(
        e,
        service::Error::Domain(DomainError::NotFound(k)) if *k == Kind::Org || *k == kind
    )
}

/// The form field a refusal of a person or role choice concerns, when the rule's message does
/// not say it: the member chosen, or the role chosen.
pub(super) fn choice_field(e: &service::Error) -> Option<&'static str> {
    match e {
        service::Error::Domain(
            DomainError::NotFound(Kind::Member | Kind::User) | DomainError::OwnRoles,
        ) => Some("user"),
        service::Error::Domain(DomainError::ProjectRoleNotGrantable(_)) => Some("role"),
        _ => None,
    }
}

/// [`refusal`], with the field given when the rule's message does not name one.
pub(super) fn refusal_on(e: service::Error, field: Option<&str>) -> Result<Refusal, Response> {
    let mut r = refusal(e)?;
    if r.field.is_none() {
        r.field = field.map(str::to_owned);
    }
    Ok(r)
}

/// A labelled select with its error, if any, next to it.
pub(super) fn select(
    label: &str,
    id: &str,
    name: &str,
    options: &[(String, String)],
    selected: &str,
    error: Option<&str>,
) -> Markup {
    let err_id = format!("{id}-error");
    html! {
        div.field {
            label for=(id) { (label) }
            select #(id) name=(name) required
                aria-invalid=[error.map(|_| "true")]
                aria-describedby=[error.map(|_| err_id.as_str())] {
                @for (value, text) in options {
                    option value=(value) selected[value == selected] { (text) }
                }
            }
            @if let Some(e) = error { p.error #(err_id) { (e) } }
        }
    }
}

/// A "Role" select offering `offered`.
pub(super) fn role_select(
    id: &str,
    offered: &[ProjectRole],
    selected: &str,
    error: Option<&str>,
) -> Markup {
    let options: Vec<(String, String)> = offered
        .iter()
        .map(|r| (r.as_str().to_owned(), r.as_str().to_owned()))
        .collect();
    select("Role", id, "role", &options, selected, error)
}

/// The project roles R6 lets `actor`, holding `mine` on a project, give (or take) there by `path`.
pub(super) fn grantable(
    actor: &ActorFacts,
    mine: Option<ProjectRole>,
    path: GrantPath,
) -> Vec<ProjectRole> {
    ProjectRole::ALL
        .iter()
        .copied()
        .filter(|r| r6_project_role(actor, mine, *r, path).is_ok())
        .collect()
}

/// Every member of the organization, by email (`members.read`; empty without it).
pub(super) async fn all_members(s: &AppState, who: &Principal, org: &OrgRef) -> Vec<User> {
    let mut out = Vec::new();
    let mut from = None;
    loop {
        let Ok(page) = members::list_members(&s.gh, who, org, from.as_ref(), 100).await else {
            return out;
        };
        out.extend(page.items.into_iter().map(|m| m.user));
        match page.next {
            Some(n) => from = Some(n),
            None => return out,
        }
    }
}

/// A member as a select option: name and email.
pub(super) fn person(u: &User) -> (String, String) {
    (u.id.0.to_string(), format!("{} ({})", u.name, u.email))
}

/// Where a project role comes from, in words.
fn source(src: &ProjectSource) -> String {
    let name = src.name.as_deref().unwrap_or("");
    match src.kind {
        "direct" => "direct role".to_owned(),
        "group" => format!("group {name}"),
        "custom_role" => format!("custom role {name}"),
        _ => format!("role {name}"),
    }
}

/// Where my roles on the organization's projects come from: organization-wide reach, and per
/// project its direct and group grants. Empty when it cannot be read (it only explains).
async fn my_sources(
    s: &AppState,
    who: &Principal,
    org: &OrgRef,
) -> (Vec<ProjectSource>, HashMap<ProjectId, Vec<ProjectSource>>) {
    match members::member_permissions(&s.gh, who, org, who.user.id).await {
        Ok(e) => (
            e.all_projects.map(|a| a.sources).unwrap_or_default(),
            e.granted
                .into_iter()
                .map(|(id, _, _, sources)| (id, sources))
                .collect(),
        ),
        Err(_) => (Vec::new(), HashMap::new()),
    }
}

/// The sources of my role on one project, as chips.
fn sources_markup(all: &[ProjectSource], granted: Option<&Vec<ProjectSource>>) -> Markup {
    html! {
        @for src in all.iter().chain(granted.into_iter().flatten()) {
            span.chip.source { (source(src)) " (" (src.role.as_str()) ")" } " "
        }
    }
}

/// What the list page shows beside the list: the create form as typed and its refusal.
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
    let page = match projects::list_projects(&s.gh, &who, &org, from.as_ref(), PAGE).await {
        Ok(page) => page,
        Err(e) => return crate::api::problem::ApiError::from(e).into_response(),
    };
    let (org_wide, granted) = my_sources(s, &who, &org).await;
    let o = &access.org.org;
    let create = access
        .actor
        .permissions
        .contains(Permission::ProjectsCreate);
    let body = html! {
        h1 { "Projects" }
        @if page.items.is_empty() {
            p.empty {
                @if from.is_some() { "No more projects." }
                @else if create { "No project yet: create the first one below." }
                @else { "No project is open to you here yet." }
            }
        } @else {
            table.list {
                caption.visually-hidden { "Projects of " (o.name) " open to you" }
                thead { tr { th scope="col" { "Project" } th scope="col" { "My role" } th scope="col" { "Comes from" } } }
                tbody {
                    @for (p, role) in &page.items {
                        tr {
                            td { a href={ "/orgs/" (o.slug) "/projects/" (segment(&p.name)) } { (p.name) } }
                            td { span.chip { (role.as_str()) } }
                            td { (sources_markup(&org_wide, granted.get(&p.id))) }
                        }
                    }
                }
            }
        }
        @if let Some(next) = &page.next {
            p { a href={ "/orgs/" (o.slug) "/projects?cursor=" (encode_after(next)) } { "Next page" } }
        }
        @if create {
            section.panel aria-labelledby="create-title" {
                h2 #create-title { "Create a project" }
                (form_error(state.error.and_then(|r| r.general(&["name"]))))
                form.inline method="post" action={ "/orgs/" (o.slug) "/projects" } {
                    (csrf(&ctx))
                    (field("Name", "name", "text", state.name, state.error.and_then(|r| r.on("name"))))
                    button type="submit" { "Create project" }
                }
            }
        }
    };
    let status = state.error.map_or(StatusCode::OK, |r| r.status);
    let title = format!("Projects · {}", o.name);
    let shell = Shell {
        title: &title,
        org: Some(nav(&access, mine, Tab::Projects)),
    };
    ctx.page(status, shell, body)
}

/// `GET /orgs/{slug}/projects`: the projects I reach (R11), with my role on each.
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

/// `POST /orgs/{slug}/projects`: creates a project (`projects.create`); I get `admin` on it.
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
        Ok(n) => projects::create_project(&s.gh, &who, &OrgRef::parse(&slug), n).await,
        Err(e) => Err(DomainError::Invalid(vec![e]).into()),
    };
    match result {
        Ok((p, _)) => ctx.redirect(
            &format!("/orgs/{slug}/projects/{}", segment(&p.name)),
            Some(&format!("Project {} created.", p.name)),
        ),
        Err(e) if page_missing(&e, Kind::Org) => not_found(ctx).await,
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

/// The plan form's fields, with their labels.
const PLAN_FIELDS: [(&str, &str); 4] = [
    ("tier", "Tier"),
    ("storage_gb", "Storage (GB)"),
    ("environments", "Environments"),
    ("licenses", "Licenses"),
];

fn plan_label(field: &str) -> &str {
    PLAN_FIELDS
        .iter()
        .find(|(f, _)| *f == field)
        .map_or(field, |(_, l)| l)
}

/// What a project page shows beside the stored state: which form was sent, as typed, and its
/// refusal (for a row of the roles table, whose).
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
    let loaded = async {
        let (p, role) = projects::get_project(&s.gh, &who, &org, name).await?;
        let plan = billing::get_plan(&s.gh, &who, &org, &p.id.0.to_string()).await?;
        // R11: without `members.read` or `admin` here, who holds roles here is not mine to see.
        let holders = match projects::project_members(&s.gh, &who, &org, &p.id.0.to_string()).await
        {
            Ok(h) => Some(h),
            Err(service::Error::Domain(DomainError::Forbidden(_))) => None,
            Err(e) => return Err(e),
        };
        Ok::<_, service::Error>((p, role, plan, holders))
    }
    .await;
    let (p, role, plan, holders) = match loaded {
        Ok(x) => x,
        Err(e) if page_missing(&e, Kind::Project) => return not_found(ctx).await,
        Err(e) => return crate::api::problem::ApiError::from(e).into_response(),
    };
    let (org_wide, granted) = my_sources(s, &who, &org).await;
    let actor = &access.actor;
    let manage = role.allows(ProjectPermission::Manage);
    let delete = role.allows(ProjectPermission::Delete);
    let plans = actor.permissions.contains(Permission::PlansManage);
    let offered = grantable(actor, Some(role), GrantPath::Direct);
    let may_give = !offered.is_empty();
    // Choosing someone new means listing the members (`members.read`).
    let may_choose = actor.permissions.contains(Permission::MembersRead);
    let candidates: Vec<User> = if may_give && may_choose && holders.is_some() {
        let held: Vec<UserId> = holders
            .iter()
            .flatten()
            .map(|(u, _)| u.id)
            .chain([who.user.id])
            .collect();
        all_members(s, &who, &org)
            .await
            .into_iter()
            .filter(|u| !held.contains(&u.id))
            .collect()
    } else {
        Vec::new()
    };
    let o = &access.org.org;
    let base = format!("/orgs/{}/projects/{}", o.slug, segment(&p.name));
    let error_of = |form: &str| state.error.filter(|_| state.form == form);
    let typed = |form: &str, name: &str| -> Option<String> {
        state
            .typed
            .filter(|_| state.form == form)
            .map(|f| f.get(name).to_owned())
    };
    let cur = &s.gh.plans.currency;
    let spec = &plan.period.plan;
    let plan_error = error_of("plan");
    let plan_value = |name: &str, stored: String| typed("plan", name).unwrap_or(stored);
    let tiers: Vec<(String, String)> =
        s.gh.plans
            .tiers
            .iter()
            .map(|t| (t.name.clone(), t.name.clone()))
            .collect();
    let add_error = error_of("add");
    let status = state.error.map_or(StatusCode::OK, |r| r.status);
    // A refusal of a form this page no longer offers me (my permissions changed meanwhile) is
    // said at the top, not lost.
    let offered_form = match state.form {
        "plan" => plans,
        "rename" => manage,
        "delete" => delete,
        "add" => may_give && may_choose && holders.is_some(),
        "row" => holders.is_some(),
        _ => true,
    };
    let orphan = state.error.filter(|_| !offered_form);
    let body = html! {
        h1 { (p.name) }
        (form_error(orphan.map(|r| r.message.as_str())))
        p { "My role here: " span.chip { (role.as_str()) } " " (sources_markup(&org_wide, granted.get(&p.id))) }

        section.panel aria-labelledby="plan-title" {
            h2 #plan-title { "Plan" }
            dl.facts {
                dt { "Tier" } dd { (spec.tier) }
                dt { "Storage" } dd { (spec.storage_gb) " GB" }
                dt { "Environments" } dd { (spec.environments) }
                dt { "Licenses" } dd { (spec.licenses) }
                @if plan.show_prices {
                    dt { "Monthly price" } dd { (format_amount(plan.period.monthly_price)) " " (cur) }
                }
                dt { "Since" } dd { (crate::mail::when(plan.period.from)) }
            }
            @if plans {
                h3.sub { "Change the plan" }
                (form_error(plan_error.and_then(|r| r.general(&PLAN_FIELDS.map(|(f, _)| f)))))
                form.stack.plan method="post" action={ (base) "/plan" } {
                    (csrf(&ctx))
                    (select("Tier", "f-tier", "tier", &tiers, &plan_value("tier", spec.tier.clone()), plan_error.and_then(|r| r.on("tier"))))
                    (optional_field("Storage (GB)", "storage_gb", "number", &plan_value("storage_gb", spec.storage_gb.to_string()), plan_error.and_then(|r| r.on("storage_gb"))))
                    (optional_field("Environments", "environments", "number", &plan_value("environments", spec.environments.to_string()), plan_error.and_then(|r| r.on("environments"))))
                    (optional_field("Licenses", "licenses", "number", &plan_value("licenses", spec.licenses.to_string()), plan_error.and_then(|r| r.on("licenses"))))
                    p.hint { "An amount left empty takes what the tier includes." }
                    button type="submit" { "Save" }
                }
            } @else {
                p.hint { "Changing the plan needs the plans.manage permission." }
            }
            h3.sub #tiers-title { "Plan tiers" }
            table.list.tiers aria-labelledby="tiers-title" {
                thead { tr {
                    th scope="col" { "Tier" }
                    th scope="col" { "Storage (GB)" }
                    th scope="col" { "Environments" }
                    th scope="col" { "Licenses" }
                    @if plan.show_prices { th scope="col" .num { "Monthly price" } }
                } }
                tbody {
                    @for t in &s.gh.plans.tiers {
                        tr aria-current=[(t.name == spec.tier).then_some("true")] {
                            th scope="row" { (t.name) @if t.name == spec.tier { " " span.tag { "current" } } }
                            td { span.cell-label { "Storage (GB): " } (limit(t.included_storage_gb, t.max_storage_gb)) }
                            td { span.cell-label { "Environments: " } (limit(t.included_environments, t.max_environments)) }
                            td { span.cell-label { "Licenses: " } (limit(t.included_licenses, t.max_licenses)) }
                            @if plan.show_prices { td.num { span.cell-label { "Monthly price: " } (format_amount(t.monthly_price)) " " (cur) } }
                        }
                    }
                }
            }
        }

        @if let Some(holders) = &holders {
            section.panel aria-labelledby="roles-title" {
                h2 #roles-title { "Direct project roles" }
                p.hint { "Members who hold a role on this project themselves, not through a group." }
                @if holders.is_empty() {
                    p.empty { "Nobody holds a direct role on this project." }
                } @else {
                    table.list {
                        caption.visually-hidden { "Direct roles on " (p.name) }
                        thead { tr { th scope="col" { "Member" } th scope="col" { "Role" } th scope="col" { span.visually-hidden { "Actions" } } } }
                        tbody {
                            @for (u, held) in holders {
                                @let uid = u.id.0.to_string();
                                @let changeable = u.id != who.user.id && offered.contains(held);
                                @let row_error = error_of("row").filter(|_| state.row == Some(uid.as_str()));
                                tr {
                                    td { strong { (u.name) } br; span.muted { (u.email) } }
                                    td { span.chip { (held.as_str()) } }
                                    td.actions {
                                        @if changeable {
                                            details.edit open[row_error.is_some()] {
                                                summary.button { "Change role" span.visually-hidden { " of " (u.name) } }
                                                form.stack method="post" action={ (base) "/members/" (uid) } {
                                                    (csrf(&ctx))
                                                    (role_select(&format!("role-{uid}"), &offered, &typed("row", "role").filter(|_| row_error.is_some()).unwrap_or_else(|| held.as_str().to_owned()), row_error.and_then(|r| r.on("role"))))
                                                    button type="submit" { "Save" }
                                                }
                                            }
                                            (confirm(&ctx, &format!("{base}/members/{uid}/remove"), "Remove", &format!("Take {}'s direct role on {}?", u.name, p.name)))
                                        }
                                        @if let Some(r) = row_error.and_then(|r| if changeable { r.general(&["role"]) } else { Some(r.message.as_str()) }) { p.error role="alert" { (r) } }
                                    }
                                }
                            }
                        }
                    }
                }
                @if may_give {
                    h3.sub { "Give a member a role" }
                    @if !may_choose {
                        p.hint { "Choosing a member needs the members.read permission." }
                    } @else if candidates.is_empty() && add_error.is_none() {
                        p.empty { "Every member who could get one already holds a direct role here." }
                    } @else {
                        (form_error(add_error.and_then(|r| r.general(&["user", "role"]))))
                        form.inline method="post" action={ (base) "/members" } {
                            (csrf(&ctx))
                            (select("Member", "f-user", "user", &candidates.iter().map(person).collect::<Vec<_>>(), &typed("add", "user").unwrap_or_default(), add_error.and_then(|r| r.on("user"))))
                            (role_select("f-role", &offered, &typed("add", "role").unwrap_or_else(|| "viewer".to_owned()), add_error.and_then(|r| r.on("role"))))
                            button type="submit" { "Add" }
                        }
                    }
                }
            }
        }

        @if manage {
            @let rename_error = error_of("rename");
            (rename_panel(&ctx, &format!("{base}/rename"), &typed("rename", "name").unwrap_or_else(|| p.name.clone()), rename_error))
        }
        @if delete {
            section.panel.danger-zone aria-labelledby="delete-title" {
                h2 #delete-title { "Delete the project" }
                p { "Every role on it goes with it. Its plan is billed up to today. Deleting cannot be undone." }
                (form_error(error_of("delete").map(|r| r.message.as_str())))
                (confirm(&ctx, &format!("{base}/delete"), "Delete", &format!("Delete {}? This cannot be undone.", p.name)))
            }
        }
        p { a href={ "/orgs/" (o.slug) "/projects" } { "Back to the projects" } }
    };
    let title = format!("{} · {}", p.name, o.name);
    let shell = Shell {
        title: &title,
        org: Some(nav(&access, mine, Tab::Projects)),
    };
    ctx.page(status, shell, body)
}

/// A tier's limit in words: what it includes and the most it allows.
fn limit(included: i64, max: i64) -> String {
    if included == max {
        format!("{max}")
    } else {
        format!("{included} included, up to {max}")
    }
}

/// `GET /orgs/{slug}/projects/{name}`.
pub async fn page(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((slug, name)): Path<(String, String)>,
) -> Response {
    render(&s, ctx, &slug, &name, PageState::default()).await
}

/// A refused change on a project's page: the 404 page when the project or organization is not
/// mine (R11, R12), else the page again with the refusal next to the field.
async fn refused(
    s: &AppState,
    ctx: Ctx,
    (slug, name): (&str, &str),
    (form, row): (&str, Option<&str>),
    f: &Fields,
    e: service::Error,
) -> Response {
    if page_missing(&e, Kind::Project) {
        return not_found(ctx).await;
    }
    let r = if form == "plan" {
        plan_refusal(e)
    } else {
        let on = choice_field(&e);
        refusal_on(e, on)
    };
    match r {
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

/// A plan refusal in the plan form's words: a limit or a bad amount next to its field.
fn plan_refusal(e: service::Error) -> Result<Refusal, Response> {
    if let service::Error::Domain(d) = &e {
        let status = crate::api::problem::status_of(d);
        match d {
            DomainError::PlanLimit { field, tier, max } => {
                return Ok(Refusal {
                    field: Some((*field).to_owned()),
                    message: format!(
                        "{} is over the {tier} tier's limit of {max}: lower it or choose a larger tier.",
                        plan_label(field)
                    ),
                    status,
                });
            }
            DomainError::Invalid(fields)
                if fields
                    .first()
                    .is_some_and(|x| PLAN_FIELDS.iter().any(|(f, _)| *f == x.field)) =>
            {
                let x = &fields[0];
                return Ok(Refusal {
                    field: Some(x.field.clone()),
                    message: format!("{} {}.", plan_label(&x.field), x.reason.replace('`', "")),
                    status,
                });
            }
            _ => {}
        }
    }
    refusal(e)
}

/// The plan form as a requested plan; an amount that is not a whole number is refused.
fn plan_choice(f: &Fields) -> Result<billing::PlanChoice, DomainError> {
    let amount = |name: &str| -> Result<Option<i64>, DomainError> {
        let v = f.get(name);
        if v.is_empty() {
            return Ok(None);
        }
        v.parse::<i64>().map(Some).map_err(|_| {
            DomainError::Invalid(vec![FieldError::new(name, "must be a whole number")])
        })
    };
    Ok(billing::PlanChoice {
        tier: f.get("tier").to_owned(),
        storage_gb: amount("storage_gb")?,
        environments: amount("environments")?,
        licenses: amount("licenses")?,
    })
}

/// `POST /orgs/{slug}/projects/{name}/plan`: changes the plan (`plans.manage`; the catalog's
/// limits).
pub async fn plan(
    State(s): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let result = match plan_choice(&f) {
        Ok(choice) => billing::set_plan(&s.gh, &who, &OrgRef::parse(&slug), &name, &choice).await,
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(v) => {
            let p = &v.period.plan;
            ctx.redirect(
                &format!("/orgs/{slug}/projects/{}", segment(&name)),
                Some(&format!(
                    "Plan of {} saved: {}, {} GB of storage, {} environments, {} licenses.",
                    v.period.project_name, p.tier, p.storage_gb, p.environments, p.licenses
                )),
            )
        }
        Err(e) => refused(&s, ctx, (&slug, &name), ("plan", None), &f, e).await,
    }
}

/// `POST /orgs/{slug}/projects/{name}/rename` (`admin` on the project).
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
        return ctx.redirect(
            &format!("/orgs/{slug}/projects/{}", segment(&name)),
            Some("Nothing to change."),
        );
    }
    let result = match LocalName::parse(new) {
        Ok(n) => projects::rename_project(&s.gh, &who, &OrgRef::parse(&slug), &name, n).await,
        Err(e) => Err(DomainError::Invalid(vec![e]).into()),
    };
    match result {
        Ok((p, _)) => ctx.redirect(
            &format!("/orgs/{slug}/projects/{}", segment(&p.name)),
            Some(&format!("Project {name} renamed to {}.", p.name)),
        ),
        Err(e) => refused(&s, ctx, (&slug, &name), ("rename", None), &f, e).await,
    }
}

/// `POST /orgs/{slug}/projects/{name}/delete` (`admin` on the project).
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
    let shown = projects::get_project(&s.gh, &who, &org, &name)
        .await
        .map_or_else(|_| name.clone(), |(p, _)| p.name);
    match projects::delete_project(&s.gh, &who, &org, &name).await {
        Ok(()) => ctx.redirect(
            &format!("/orgs/{slug}/projects"),
            Some(&format!("Project {shown} deleted.")),
        ),
        Err(e) => refused(&s, ctx, (&slug, &name), ("delete", None), &f, e).await,
    }
}

/// The role a form names; an unknown one is refused next to the field (R14).
pub(super) fn chosen_role(f: &Fields) -> Result<ProjectRole, DomainError> {
    ProjectRole::parse(f.get("role"))
        .ok_or_else(|| DomainError::invalid("role", "must be one of viewer, contributor and admin"))
}

/// The member a form or path names.
pub(super) fn user_of(raw: &str) -> Result<UserId, DomainError> {
    raw.parse::<uuid::Uuid>()
        .map(UserId)
        .map_err(|_| DomainError::invalid("user", "choose a member"))
}

/// `POST /orgs/{slug}/projects/{name}/members`: gives a member a direct role (R6).
pub async fn add_member(
    State(s): State<AppState>,
    Path((slug, name)): Path<(String, String)>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let result = set_role(&s, &who, &slug, &name, f.get("user"), &f).await;
    match result {
        Ok(message) => ctx.redirect(
            &format!("/orgs/{slug}/projects/{}", segment(&name)),
            Some(&message),
        ),
        Err(e) => refused(&s, ctx, (&slug, &name), ("add", None), &f, e).await,
    }
}

/// `POST /orgs/{slug}/projects/{name}/members/{user}`: changes a member's direct role (R6).
pub async fn set_member(
    State(s): State<AppState>,
    Path((slug, name, user)): Path<(String, String, String)>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let result = set_role(&s, &who, &slug, &name, &user, &f).await;
    match result {
        Ok(message) => ctx.redirect(
            &format!("/orgs/{slug}/projects/{}", segment(&name)),
            Some(&message),
        ),
        Err(e) => refused(&s, ctx, (&slug, &name), ("row", Some(&user)), &f, e).await,
    }
}

async fn set_role(
    s: &AppState,
    who: &Principal,
    slug: &str,
    name: &str,
    user: &str,
    f: &Fields,
) -> Result<String, service::Error> {
    let user = user_of(user)?;
    let role = chosen_role(f)?;
    let (p, _, member, role) =
        projects::set_project_member(&s.gh, who, &OrgRef::parse(slug), name, user, role).await?;
    Ok(format!(
        "{} is now {} on {}.",
        member.name,
        role.as_str(),
        p.name
    ))
}

/// `POST /orgs/{slug}/projects/{name}/members/{user}/remove`: takes a direct role (R6).
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
        // For the message only: whose role it was.
        let holder = projects::project_members(&s.gh, &who, &org, &name)
            .await
            .ok()
            .and_then(|h| h.into_iter().find(|(u, _)| u.id == uid))
            .map_or_else(|| "The member".to_owned(), |(u, _)| u.name);
        projects::remove_project_member(&s.gh, &who, &org, &name, uid).await?;
        Ok::<_, service::Error>(holder)
    }
    .await;
    match result {
        Ok(holder) => ctx.redirect(
            &format!("/orgs/{slug}/projects/{}", segment(&name)),
            Some(&format!(
                "{holder} no longer holds a direct role on {name}."
            )),
        ),
        Err(e) => refused(&s, ctx, (&slug, &name), ("row", Some(&user)), &f, e).await,
    }
}
