//! `/orgs/{org}/audit`: the audit log, newest first.

use super::AppState;
use super::cursor::{decode_seq, encode_seq};
use super::dto::{AuditEventDto, AuditQuery, Page};
use super::extract::{AppPath, AppQuery, Auth};
use super::openapi::{Forbidden, NotFound};
use super::problem::ApiError;
use crate::domain::FieldError;
use crate::domain::audit::ActionFilter;
use crate::domain::ids::UserId;
use crate::domain::names::Email;
use crate::service::audit::ActorRef;
use crate::service::{OrgRef, audit, page_size};
use crate::store::AuditFilter;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

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
    let mut errors = Vec::new();
    let actor = q.actor.as_deref().and_then(|raw| match parse_actor(raw) {
        Ok(a) => Some(a),
        Err(e) => {
            errors.push(e);
            None
        }
    });
    let action = q
        .action
        .as_deref()
        .and_then(|raw| match ActionFilter::parse(raw) {
            Ok(a) => Some(a),
            Err(reason) => {
                errors.push(FieldError::new("action", reason));
                None
            }
        });
    let mut time = |field: &str, raw: Option<&str>| {
        raw.and_then(|raw| match parse_time(raw) {
            Ok(t) => Some(t),
            Err(reason) => {
                errors.push(FieldError::new(field, reason));
                None
            }
        })
    };
    let since = time("since", q.since.as_deref());
    let until = time("until", q.until.as_deref());
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let filter = AuditFilter {
        actor: None,
        action: match action {
            Some(ActionFilter::One(a)) => Some(a),
            _ => None,
        },
        prefix: match action {
            Some(ActionFilter::Family(f)) => Some(f.to_owned()),
            _ => None,
        },
        since,
        until,
        before_seq: q.cursor.as_deref().map(decode_seq).transpose()?,
    };
    let page = audit::list_audit(&s.gh, &who, &OrgRef::parse(&org), actor, filter, limit).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(AuditEventDto::from).collect(),
        next_cursor: page.next.map(encode_seq),
    }))
}

/// `actor`: a user id or an email.
fn parse_actor(raw: &str) -> Result<ActorRef, FieldError> {
    if let Ok(id) = raw.trim().parse::<uuid::Uuid>() {
        return Ok(ActorRef::Id(UserId(id)));
    }
    Email::parse(raw).map(ActorRef::Email).map_err(|_| {
        FieldError::new(
            "actor",
            format!("`{raw}` is neither a user id nor an email; give one, e.g. `ada@example.com`"),
        )
    })
}

/// `since` and `until`: RFC 3339, or a day taken from its start (UTC), within years 0 to 9999.
fn parse_time(raw: &str) -> Result<DateTime<Utc>, String> {
    let t = DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
                .map(|d| d.and_time(NaiveTime::MIN).and_utc())
        })
        .map_err(|_| {
            format!(
                "`{raw}` is not a time; use RFC 3339, e.g. `2026-12-01T09:30:00Z`, or a day, \
                 e.g. `2026-12-01`"
            )
        })?;
    if super::dto::plausible_year(t) {
        Ok(t)
    } else {
        Err("must be a time between the years 0 and 9999".to_owned())
    }
}
