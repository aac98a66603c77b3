//! The check API other services call on every request: `check`, `check/batch`, and the projects
//! a user reaches. Answered from the in-memory index; every answer carries its revision.

use super::AppState;
use super::extract::{AppJson, AppPath, AppQuery, CheckCaller, path_id};
use super::openapi::Forbidden;
use super::problem::ApiError;
use crate::domain::FieldError;
use crate::domain::ids::{OrgId, ProjectId, UserId};
use crate::domain::permission::{Permission, ProjectPermission};
use crate::service::OrgRef;
use crate::service::check::{self, Ask, Question};
use axum::Json;
use axum::extract::State;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use utoipa::ToSchema;
use uuid::Uuid;

/// Most checks one batch may carry.
pub const MAX_BATCH: usize = 1000;

/// One question: `{user, permission, org}` or `{user, permission, project}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// The user's id.
    pub user: String,
    /// An organization permission (`members.read`…) or a project one (`project.deploy`…).
    pub permission: String,
    /// The organization's id or slug, for organization permissions (an id is answered from
    /// memory alone; a slug costs one database read).
    pub org: Option<String>,
    /// The project's id, for project permissions.
    pub project: Option<String>,
    /// Answer from state at least this new (a revision from an earlier answer).
    pub at_least_revision: Option<u64>,
}

/// A decision.
#[derive(Serialize, Deserialize, ToSchema, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the user may.
    pub allowed: bool,
    /// The grant revision the decision was computed at.
    pub revision: u64,
}

/// `POST /check/batch`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchRequest {
    /// Up to 1,000 checks, answered in order.
    pub checks: Vec<CheckRequest>,
    /// Answer from state at least this new.
    pub at_least_revision: Option<u64>,
}

/// `POST /check/batch` answer.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BatchResponse {
    /// One decision per check, in order.
    pub results: Vec<Decision>,
}

/// The slug a check's `org` names, when it is not an id (lowercased, as paths take it).
fn org_slug(c: &CheckRequest) -> Option<String> {
    match OrgRef::parse(c.org.as_deref()?) {
        OrgRef::Slug(slug) => Some(slug),
        OrgRef::Id(_) | OrgRef::Invalid => None,
    }
}

/// Resolves the slugs `checks` name in their `org`; `None`, with nothing read, when every
/// `org` is an id (the fast path).
async fn resolve_slugs<'a>(
    gh: &crate::service::Guildhall,
    checks: impl IntoIterator<Item = &'a CheckRequest>,
) -> Result<Option<HashMap<String, OrgId>>, ApiError> {
    let slugs: BTreeSet<String> = checks.into_iter().filter_map(org_slug).collect();
    if slugs.is_empty() {
        return Ok(None);
    }
    Ok(Some(check::org_slugs(gh, slugs).await?))
}

/// Parses one check, naming offending fields under `prefix`, with no slug resolved (a slug in
/// `org` is then an organization that does not exist).
pub fn parse_check(c: &CheckRequest, prefix: &str) -> Result<Question, Vec<FieldError>> {
    parse_with_slugs(c, prefix, None)
}

/// Parses one check, naming offending fields under `prefix`; `slugs` are the organizations the
/// checks name by slug.
pub fn parse_with_slugs(
    c: &CheckRequest,
    prefix: &str,
    slugs: Option<&HashMap<String, OrgId>>,
) -> Result<Question, Vec<FieldError>> {
    let field = |f: &str| format!("{prefix}{f}");
    let mut errors = Vec::new();
    let user = Uuid::parse_str(&c.user)
        .map_err(|_| {
            errors.push(FieldError::new(
                field("user"),
                format!("`{}` is not a user id", c.user),
            ))
        })
        .ok();
    let id = |raw: &Option<String>, name: &str, errors: &mut Vec<FieldError>| {
        raw.as_deref().and_then(|r| {
            Uuid::parse_str(r)
                .map_err(|_| {
                    errors.push(FieldError::new(field(name), format!("`{r}` is not an id")))
                })
                .ok()
        })
    };
    // An id, or a slug (`acme-cloud`) as paths take; a slug no organization has is never
    // allowed, like an unknown id.
    let org: Option<Option<OrgId>> = c.org.as_deref().and_then(|r| match OrgRef::parse(r) {
        OrgRef::Id(id) => Some(Some(id)),
        OrgRef::Slug(slug) => Some(slugs.and_then(|s| s.get(&slug)).copied()),
        OrgRef::Invalid => {
            errors.push(FieldError::new(
                field("org"),
                format!("`{r}` is neither an organization id nor a slug"),
            ));
            None
        }
    });
    let project = id(&c.project, "project", &mut errors);
    let what = match (
        Permission::parse(&c.permission),
        ProjectPermission::parse(&c.permission),
    ) {
        (Some(p), _) => match (c.org.is_some(), c.project.is_some()) {
            (true, false) => org.map(|o| o.map_or(Ask::Nowhere, |id| Ask::Org(p, id))),
            _ => {
                errors.push(FieldError::new(
                    field("org"),
                    "an organization permission needs `org` (and no `project`)",
                ));
                None
            }
        },
        (_, Some(p)) => match (c.org.is_some(), c.project.is_some()) {
            (false, true) => project.map(|pr| Ask::Project(p, ProjectId(pr))),
            _ => {
                errors.push(FieldError::new(
                    field("project"),
                    "a project permission needs `project` (and no `org`)",
                ));
                None
            }
        },
        _ => {
            errors.push(FieldError::new(
                field("permission"),
                format!("unknown permission `{}`", c.permission),
            ));
            None
        }
    };
    match (user, what) {
        (Some(u), Some(w)) if errors.is_empty() => Ok(Question {
            user: UserId(u),
            what: w,
        }),
        _ => Err(errors),
    }
}

/// May this user do this here? Answered from memory, at the revision given back. Unknown users,
/// organizations and projects are `allowed: false`; an unknown permission is a 400. Needs the
/// service token or an API token with the `check` capability.
#[utoipa::path(post, path = "/api/v1/check", tag = "check", security(("bearer" = [])), request_body = CheckRequest,
    responses((status = 200, body = Decision), (status = 403, response = Forbidden)))]
pub async fn check(
    State(s): State<AppState>,
    CheckCaller(caller): CheckCaller,
    AppJson(req): AppJson<CheckRequest>,
) -> Result<Json<Decision>, ApiError> {
    let slugs = resolve_slugs(&s.gh, [&req]).await?;
    let q = parse_with_slugs(&req, "", slugs.as_ref())?;
    let revision = check::settle(&s.gh, req.at_least_revision).await?;
    Ok(Json(Decision {
        allowed: check::decide(&s.gh, caller, &q),
        revision,
    }))
}

/// Up to 1,000 checks in one request, answered in order, all at one revision.
#[utoipa::path(post, path = "/api/v1/check/batch", tag = "check", security(("bearer" = [])), request_body = BatchRequest,
    responses((status = 200, body = BatchResponse), (status = 403, response = Forbidden)))]
pub async fn check_batch(
    State(s): State<AppState>,
    CheckCaller(caller): CheckCaller,
    AppJson(req): AppJson<BatchRequest>,
) -> Result<Json<BatchResponse>, ApiError> {
    if req.checks.is_empty() || req.checks.len() > MAX_BATCH {
        return Err(vec![FieldError::new(
            "checks",
            format!("must hold 1 to {MAX_BATCH} checks"),
        )]
        .into());
    }
    let slugs = resolve_slugs(&s.gh, &req.checks).await?;
    let mut questions = Vec::with_capacity(req.checks.len());
    let mut errors = Vec::new();
    let mut at_least = req.at_least_revision;
    for (i, c) in req.checks.iter().enumerate() {
        // The field prefix is formatted only for a check that fails: none of the good ones
        // pays for a string.
        match parse_with_slugs(c, "", slugs.as_ref()) {
            Ok(q) => questions.push(q),
            Err(_) => errors.extend(
                parse_with_slugs(c, &format!("checks[{i}]."), slugs.as_ref())
                    .err()
                    .unwrap_or_default(),
            ),
        }
        at_least = at_least.max(c.at_least_revision);
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let revision = check::settle(&s.gh, at_least).await?;
    Ok(Json(BatchResponse {
        results: questions
            .iter()
            .map(|q| Decision {
                allowed: check::decide(&s.gh, caller, q),
                revision,
            })
            .collect(),
    }))
}

/// `GET /users/{user}/projects` query.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserProjectsQuery {
    /// A project permission; `project.read` when absent.
    #[param(schema_with = super::openapi::project_permission_schema)]
    pub permission: Option<String>,
    /// From a previous answer's `next_cursor`.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
    /// 1 to 1,000; 100 when absent.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Answer from state at least this new.
    pub at_least_revision: Option<u64>,
}

/// One project a user reaches.
#[derive(Serialize, Deserialize, ToSchema, Debug, PartialEq, Eq)]
pub struct ReachDto {
    /// The organization.
    pub org: Uuid,
    /// The project.
    pub project: Uuid,
    /// Its name.
    pub name: String,
    /// The user's strongest role on it.
    pub role: String,
}

/// A page of projects a user reaches.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReachPage {
    /// The projects.
    pub items: Vec<ReachDto>,
    /// Pass as `cursor` for the next page; `null` on the last one: the list is never cut off.
    pub next_cursor: Option<String>,
    /// The grant revision of this answer.
    pub revision: u64,
}

/// Every project a user may do `permission` on, complete and paged, for consoles and other
/// services. Needs the service token.
#[utoipa::path(get, path = "/api/v1/users/{user}/projects", tag = "check", security(("bearer" = [])),
    params(("user" = uuid::Uuid, Path, description = "user id"), UserProjectsQuery),
    responses((status = 200, body = ReachPage), (status = 403, response = Forbidden)))]
pub async fn user_projects(
    State(s): State<AppState>,
    CheckCaller(caller): CheckCaller,
    AppPath(user): AppPath<String>,
    AppQuery(q): AppQuery<UserProjectsQuery>,
) -> Result<Json<ReachPage>, ApiError> {
    let user = UserId(path_id(&user, "user")?);
    let permission = match q.permission.as_deref() {
        None => ProjectPermission::Read,
        Some(p) => ProjectPermission::parse(p).ok_or_else(|| {
            ApiError::from(vec![FieldError::new(
                "permission",
                format!("unknown project permission `{p}`"),
            )])
        })?,
    };
    let limit = match q.limit {
        None => 100,
        Some(n @ 1..=1000) => n as usize,
        Some(_) => return Err(vec![FieldError::new("limit", "must be between 1 and 1000")].into()),
    };
    let after = q.cursor.as_deref().map(decode_position).transpose()?;
    let revision = check::settle(&s.gh, q.at_least_revision).await?;
    let all = check::user_projects(&s.gh, caller, user, permission);
    // Keyset position: stable while projects are added or removed.
    let start = after.map_or(0, |pos| all.partition_point(|r| position(r) <= pos));
    let page: Vec<_> = all.iter().skip(start).take(limit).collect();
    let next = (start + page.len() < all.len())
        .then(|| page.last().map(|r| encode_position(&position(r))))
        .flatten();
    Ok(Json(ReachPage {
        items: page
            .into_iter()
            .map(|r| ReachDto {
                org: r.org.0,
                project: r.project.0,
                name: r.name.clone(),
                role: r.role.as_str().to_owned(),
            })
            .collect(),
        next_cursor: next,
        revision,
    }))
}

type Position = (Uuid, String, Uuid);

/// Where a project sorts in `projects_of`'s order.
fn position(r: &crate::authz::index::Reach) -> Position {
    (
        r.org.0,
        crate::domain::names::name_key(&r.name),
        r.project.0,
    )
}

fn encode_position(p: &Position) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::json!([p.0, p.1, p.2]).to_string())
}

fn decode_position(cursor: &str) -> Result<Position, ApiError> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| serde_json::from_slice::<Position>(&b).ok())
        .ok_or_else(|| {
            ApiError::from(vec![FieldError::new(
                "cursor",
                "is not a cursor this server gave out",
            )])
        })
}
