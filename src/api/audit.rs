//! `/orgs/{org}/audit`: the audit log, newest first.

use super::AppState;
use super::cursor::{decode_seq, encode_seq};
use super::dto::{AuditEventDto, AuditQuery, Page};
use super::extract::{AppPath, AppQuery, Auth};
use super::openapi::{Forbidden, NotFound};
use super::problem::ApiError;
use crate::domain::FieldError;
use crate::domain::audit::Action;
use crate::domain::ids::UserId;
use crate::service::{OrgRef, audit, page_size};
use crate::store::AuditFilter;
use axum::Json;
use axum::extract::State;

/// The organization's audit log, newest first, filterable by actor, action and time
/// (`audit.read`).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/audit", tag = "audit", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), AuditQuery),
    responses((status = 200, body = Page<AuditEventDto>), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn list_audit(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    AppQuery(q): AppQuery<AuditQuery>,
) -> Result<Json<Page<AuditEventDto>>, ApiError> {
    let limit = page_size(q.limit)?;
    if let Some(a) = q.action.as_deref().filter(|a| Action::parse(a).is_none()) {
        return Err(vec![FieldError::new("action", format!("unknown action `{a}`"))].into());
    }
    for (field, t) in [("since", q.since), ("until", q.until)] {
        if t.is_some_and(|t| !super::dto::plausible_year(t)) {
            return Err(vec![FieldError::new(
                field,
                "must be a time between the years 0 and 9999",
            )]
            .into());
        }
    }
    let filter = AuditFilter {
        actor: q.actor.map(UserId),
        action: q.action,
        since: q.since,
        until: q.until,
        before_seq: q.cursor.as_deref().map(decode_seq).transpose()?,
    };
    let page = audit::list_audit(&s.gh, &who, &OrgRef::parse(&org), filter, limit).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(AuditEventDto::from).collect(),
        next_cursor: page.next.map(encode_seq),
    }))
}
