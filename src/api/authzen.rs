//! The same decisions through the OpenID AuthZEN Authorization API 1.0: access evaluation, the
//! evaluations batch, and the discovery document. Subject = user (`type: "user"`), action = a
//! permission name, resource = an organization (`type: "organization"`) or a project
//! (`type: "project"`), each by id.

use super::AppState;
use super::check::MAX_BATCH;
use super::extract::{AppJson, CheckCaller};
use super::openapi::Forbidden;
use super::problem::ApiError;
use crate::domain::FieldError;
use crate::domain::ids::{OrgId, ProjectId, UserId};
use crate::domain::permission::{Permission, ProjectPermission};
use crate::service::check::{self, Ask, Question};
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An AuthZEN entity: a subject or a resource.
#[derive(Deserialize, Serialize, ToSchema, Clone, Debug)]
pub struct Entity {
    /// `user` for subjects; `organization` or `project` for resources.
    #[serde(rename = "type")]
    pub kind: String,
    /// The id.
    pub id: String,
    /// Ignored.
    #[serde(default, skip_serializing)]
    #[schema(value_type = Object)]
    pub properties: Option<serde_json::Value>,
}

/// An AuthZEN action.
#[derive(Deserialize, Serialize, ToSchema, Clone, Debug)]
pub struct Action {
    /// A permission name: `members.read`, `project.deploy`…
    pub name: String,
    /// Ignored.
    #[serde(default, skip_serializing)]
    #[schema(value_type = Object)]
    pub properties: Option<serde_json::Value>,
}

/// An access evaluation request; in a batch, absent parts default to the batch's.
#[derive(Deserialize, ToSchema, Clone, Debug, Default)]
pub struct EvaluationRequest {
    /// Who.
    pub subject: Option<Entity>,
    /// Does what.
    pub action: Option<Action>,
    /// On what.
    pub resource: Option<Entity>,
    /// May carry `at_least_revision`.
    #[schema(value_type = Object)]
    pub context: Option<serde_json::Value>,
}

/// A decision, with the revision it was computed at in its context.
#[derive(Serialize, Deserialize, ToSchema, Debug, PartialEq)]
pub struct EvaluationResponse {
    /// Whether access is granted.
    pub decision: bool,
    /// `{"revision": n}`.
    #[schema(value_type = Object)]
    pub context: serde_json::Value,
}

/// `options` of a batch.
#[derive(Deserialize, ToSchema, Clone, Debug, Default)]
pub struct EvaluationsOptions {
    /// `execute_all` (default), `deny_on_first_deny` or `permit_on_first_permit`.
    pub evaluations_semantic: Option<String>,
}

/// An access evaluations (batch) request.
#[derive(Deserialize, ToSchema, Clone, Debug, Default)]
pub struct EvaluationsRequest {
    /// Default subject.
    pub subject: Option<Entity>,
    /// Default action.
    pub action: Option<Action>,
    /// Default resource.
    pub resource: Option<Entity>,
    /// Default context.
    #[schema(value_type = Object)]
    pub context: Option<serde_json::Value>,
    /// The evaluations, up to 1,000.
    #[serde(default)]
    pub evaluations: Vec<EvaluationRequest>,
    /// How to run them.
    pub options: Option<EvaluationsOptions>,
}

/// The batch's answers, in order.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct EvaluationsResponse {
    /// One decision per evaluation (fewer when a short-circuit semantic stopped early).
    pub evaluations: Vec<EvaluationResponse>,
}

fn question(
    r: &EvaluationRequest,
    prefix: &str,
) -> Result<(Question, Option<u64>), Vec<FieldError>> {
    let f = |s: &str| format!("{prefix}{s}");
    let mut errors = Vec::new();
    let subject = r.subject.as_ref().filter(|s| s.kind == "user");
    let user = match subject.map(|s| uuid::Uuid::parse_str(&s.id)) {
        Some(Ok(u)) => Some(UserId(u)),
        _ => {
            errors.push(FieldError::new(
                f("subject"),
                "must be `{\"type\": \"user\", \"id\": <user id>}`",
            ));
            None
        }
    };
    let resource = r.resource.as_ref();
    let rid = resource.and_then(|x| uuid::Uuid::parse_str(&x.id).ok());
    let action = r.action.as_ref().map(|a| a.name.as_str()).unwrap_or("");
    let what = match (resource.map(|x| x.kind.as_str()), rid) {
        (Some("organization"), Some(id)) => {
            Permission::parse(action).map(|p| Ask::Org(p, OrgId(id)))
        }
        (Some("project"), Some(id)) => {
            ProjectPermission::parse(action).map(|p| Ask::Project(p, ProjectId(id)))
        }
        _ => {
            errors.push(FieldError::new(
                f("resource"),
                "must be an `organization` or `project` with an id",
            ));
            None
        }
    };
    if what.is_none() && errors.iter().all(|e| e.field != f("resource")) {
        errors.push(FieldError::new(
            f("action"),
            format!("unknown permission `{action}` for this resource type"),
        ));
    }
    let at_least = r
        .context
        .as_ref()
        .and_then(|c| c.get("at_least_revision"))
        .and_then(serde_json::Value::as_u64);
    match (user, what) {
        (Some(user), Some(what)) if errors.is_empty() => Ok((Question { user, what }, at_least)),
        _ => Err(errors),
    }
}

fn answer(allowed: bool, revision: u64) -> EvaluationResponse {
    EvaluationResponse {
        decision: allowed,
        context: serde_json::json!({ "revision": revision }),
    }
}

/// AuthZEN access evaluation: one decision. Needs the service token.
#[utoipa::path(post, path = "/access/v1/evaluation", tag = "authzen", security(("bearer" = [])), request_body = EvaluationRequest,
    responses((status = 200, body = EvaluationResponse), (status = 403, response = Forbidden)))]
pub async fn evaluation(
    State(s): State<AppState>,
    CheckCaller(caller): CheckCaller,
    AppJson(req): AppJson<EvaluationRequest>,
) -> Result<Json<EvaluationResponse>, ApiError> {
    let (q, at_least) = question(&req, "")?;
    let revision = check::settle(&s.gh, at_least).await?;
    Ok(Json(answer(check::decide(&s.gh, caller, &q), revision)))
}

/// AuthZEN access evaluations: up to 1,000 decisions in order, all at one revision. Needs the
/// service token or an API token with the `check` capability.
#[utoipa::path(post, path = "/access/v1/evaluations", tag = "authzen", security(("bearer" = [])), request_body = EvaluationsRequest,
    responses((status = 200, body = EvaluationsResponse), (status = 403, response = Forbidden)))]
pub async fn evaluations(
    State(s): State<AppState>,
    CheckCaller(caller): CheckCaller,
    AppJson(req): AppJson<EvaluationsRequest>,
) -> Result<Json<EvaluationsResponse>, ApiError> {
    let batch: Vec<EvaluationRequest> = if req.evaluations.is_empty() {
        vec![EvaluationRequest::default()]
    } else {
        req.evaluations.clone()
    };
    if batch.len() > MAX_BATCH {
        return Err(vec![FieldError::new(
            "evaluations",
            format!("at most {MAX_BATCH}"),
        )]
        .into());
    }
    let semantic = req
        .options
        .as_ref()
        .and_then(|o| o.evaluations_semantic.clone())
        .unwrap_or_else(|| "execute_all".to_owned());
    let stop_on: Option<bool> = match semantic.as_str() {
        "execute_all" => None,
        "deny_on_first_deny" => Some(false),
        "permit_on_first_permit" => Some(true),
        other => {
            return Err(vec![FieldError::new(
                "options.evaluations_semantic",
                format!("unknown semantic `{other}`"),
            )]
            .into());
        }
    };
    let mut questions = Vec::with_capacity(batch.len());
    let mut errors = Vec::new();
    let mut at_least = None;
    for (i, e) in batch.iter().enumerate() {
        let merged = EvaluationRequest {
            subject: e.subject.clone().or_else(|| req.subject.clone()),
            action: e.action.clone().or_else(|| req.action.clone()),
            resource: e.resource.clone().or_else(|| req.resource.clone()),
            context: e.context.clone().or_else(|| req.context.clone()),
        };
        match question(&merged, &format!("evaluations[{i}].")) {
            Ok((q, a)) => {
                questions.push(q);
                at_least = at_least.max(a);
            }
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let revision = check::settle(&s.gh, at_least).await?;
    let mut out = Vec::with_capacity(questions.len());
    for q in &questions {
        let allowed = check::decide(&s.gh, caller, q);
        out.push(answer(allowed, revision));
        if stop_on == Some(allowed) {
            break;
        }
    }
    Ok(Json(EvaluationsResponse { evaluations: out }))
}

/// The AuthZEN discovery document.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct Configuration {
    /// This server.
    pub policy_decision_point: String,
    /// The evaluation endpoint.
    pub access_evaluation_endpoint: String,
    /// The evaluations endpoint.
    pub access_evaluations_endpoint: String,
}

/// AuthZEN discovery: where the evaluation endpoints are. Links use `--public-url`, or the
/// request's `Host`.
#[utoipa::path(get, path = "/.well-known/authzen-configuration", tag = "authzen",
    responses((status = 200, body = Configuration)))]
pub async fn configuration(State(s): State<AppState>, headers: HeaderMap) -> Json<Configuration> {
    let base = s.public_url.clone().unwrap_or_else(|| {
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
            })
            .unwrap_or("localhost");
        format!("http://{host}")
    });
    let base = base.trim_end_matches('/').to_owned();
    Json(Configuration {
        access_evaluation_endpoint: format!("{base}/access/v1/evaluation"),
        access_evaluations_endpoint: format!("{base}/access/v1/evaluations"),
        policy_decision_point: base,
    })
}
