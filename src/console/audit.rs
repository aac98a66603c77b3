//! `/orgs/{slug}/audit`: the organization's audit log (R13), newest first, a page at a time,
//! filtered by actor, action and days; each event as a sentence (`audit_sentences`). Without
//! `audit.read` no link leads here and the page is the one 404 page (R12's, as billing's).

use super::audit_sentences;
use super::layout::{Shell, Tab, form_error, optional_field, urlencode};
use super::orgs::{nav, open};
use super::session::Ctx;
use super::{not_found, org_missing};
use crate::api::AppState;
use crate::api::cursor::{decode_seq, encode_seq};
use crate::domain::DomainError;
use crate::domain::audit::{Action, ActionFilter, AuditRecord};
use crate::domain::ids::UserId;
use crate::domain::names::Email;
use crate::domain::permission::Permission;
use crate::service::audit::{self, ActorRef};
use crate::service::{OrgRef, Page};
use crate::store::AuditFilter;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, SecondsFormat, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;

/// Events shown per page.
const PAGE: u32 = 20;

/// The filters, as the form sends them (every field may be empty).
#[derive(Deserialize, Default)]
pub struct Filters {
    actor: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
}

impl Filters {
    fn value(v: &Option<String>) -> &str {
        v.as_deref().map_or("", str::trim)
    }

    /// The query string of these filters, starting a page at `cursor`.
    fn query(&self, cursor: Option<&str>) -> String {
        let mut parts = Vec::new();
        for (name, v) in [
            ("actor", &self.actor),
            ("action", &self.action),
            ("from", &self.from),
            ("to", &self.to),
        ] {
            let v = Self::value(v);
            if !v.is_empty() {
                parts.push(format!("{name}={}", urlencode(v)));
            }
        }
        if let Some(c) = cursor {
            parts.push(format!("cursor={}", urlencode(c)));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    fn any(&self) -> bool {
        [&self.actor, &self.action, &self.from, &self.to]
            .iter()
            .any(|v| !Self::value(v).is_empty())
    }
}

/// The filters read: what to ask the log, or the refusals of the fields that cannot be read.
struct Asked {
    actor: Option<ActorRef>,
    filter: AuditFilter,
    errors: HashMap<&'static str, String>,
}

/// A day of the form: its first instant (UTC).
fn day(raw: &str) -> Result<DateTime<Utc>, String> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
        .map_err(|_| "Give a day, such as 2026-12-01.".to_owned())
}

fn read(q: &Filters) -> Asked {
    let mut errors = HashMap::new();
    let actor = match Filters::value(&q.actor) {
        "" => None,
        raw => match raw.parse::<uuid::Uuid>() {
            Ok(id) => Some(ActorRef::Id(UserId(id))),
            Err(_) => match Email::parse(raw) {
                Ok(e) => Some(ActorRef::Email(e)),
                Err(_) => {
                    errors.insert(
                        "actor",
                        "Give the email of the person, such as ada@example.com.".to_owned(),
                    );
                    None
                }
            },
        },
    };
    let action = match Filters::value(&q.action) {
        "" => None,
        raw => match ActionFilter::parse(raw) {
            Ok(a) => Some(a),
            Err(_) => {
                errors.insert("action", "Choose an action from the list.".to_owned());
                None
            }
        },
    };
    let mut at = |name: &'static str, raw: &str, next_day: bool| match raw {
        "" => None,
        raw => match day(raw) {
            // "To" is a whole day, included: the log stops before the next one starts.
            Ok(t) if next_day => Some(t + Duration::days(1)),
            Ok(t) => Some(t),
            Err(e) => {
                errors.insert(name, e);
                None
            }
        },
    };
    let since = at("from", Filters::value(&q.from), false);
    let until = at("to", Filters::value(&q.to), true);
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
        // A cursor this server did not give out starts from the newest.
        before_seq: q.cursor.as_deref().and_then(|c| decode_seq(c).ok()),
    };
    Asked {
        actor,
        filter,
        errors,
    }
}

/// `GET /orgs/{slug}/audit`.
pub async fn page(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(q): Query<Filters>,
) -> Response {
    let (ctx, access, mine) = match open(&s, ctx, &slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if !access.actor.permissions.contains(Permission::AuditRead) {
        return not_found(ctx).await;
    }
    let Some(who) = ctx.user.clone() else {
        return not_found(ctx).await;
    };
    let org = OrgRef::Id(access.org.org.id);
    let asked = read(&q);
    let first = asked.filter.before_seq.is_none();
    let loaded = async {
        if !asked.errors.is_empty() {
            let empty: Page<AuditRecord, i64> = Page {
                items: Vec::new(),
                next: None,
            };
            return Ok((empty, HashMap::new()));
        }
        let page = audit::list_audit(
            &s.gh,
            &who,
            &org,
            asked.actor.clone(),
            asked.filter.clone(),
            PAGE,
        )
        .await?;
        let mut ids: Vec<UserId> = Vec::new();
        for r in &page.items {
            for id in audit_sentences::mentions(r) {
                if !ids.contains(&UserId(id)) {
                    ids.push(UserId(id));
                }
            }
        }
        let people = audit::people(&s.gh, &who, &org, &ids).await?;
        Ok::<_, crate::service::Error>((page, people))
    }
    .await;
    let (page, people) = match loaded {
        Ok(x) => x,
        Err(e)
            if org_missing(&e)
                || matches!(
                    &e,
                    crate::service::Error::Domain(DomainError::Forbidden(Permission::AuditRead))
                ) =>
        {
            return not_found(ctx).await;
        }
        Err(e) => return crate::api::problem::ApiError::from(e).into_response(),
    };
    let names = |id: &str| -> Option<String> {
        let id = id.parse::<uuid::Uuid>().ok()?;
        people.get(&UserId(id)).map(|u| u.name.clone())
    };
    let o = &access.org.org;
    let base = format!("/orgs/{}/audit", o.slug);
    let older = page.next.map(encode_seq);
    let body = html! {
        h1 { "Audit log" }
        p.hint { "Every change made in " (o.name) ", newest first. Times are in UTC." }
        (filters(&base, &q, &asked.errors))
        @if !asked.errors.is_empty() {
            (form_error(Some("Some filters could not be read: see the fields above.")))
        } @else if page.items.is_empty() {
            p.empty {
                @if q.any() { "No event matches these filters." }
                @else if first { "Nothing has been recorded yet." }
                @else { "No older events." }
            }
        } @else {
            table.list.audit {
                caption.visually-hidden { "Audit events, newest first" }
                thead { tr { th scope="col" { "When (UTC)" } th scope="col" { "What happened" } th scope="col" { "Action" } } }
                tbody {
                    @for r in &page.items {
                        tr {
                            td.when { time datetime=(r.at.to_rfc3339_opts(SecondsFormat::Secs, true)) { (r.at.format("%Y-%m-%d %H:%M:%S")) } }
                            td { (audit_sentences::sentence(r, &names)) }
                            td { code { (action_name(r)) } }
                        }
                    }
                }
            }
        }
        @if !first || older.is_some() {
            nav.pager aria-label="Audit log pages" {
                @if !first {
                    a href={ (base) (q.query(None)) } { "Newest events" }
                }
                @if let Some(c) = &older {
                    a href={ (base) (q.query(Some(c))) } rel="next" { "Older events" }
                }
            }
        }
    };
    let status = if asked.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let title = format!("Audit log · {}", o.name);
    let shell = Shell {
        title: &title,
        org: Some(nav(&access, mine, Tab::Audit)),
    };
    ctx.page(status, shell, body)
}

/// An event's action under its current name (events written before a rename keep the old one).
fn action_name(r: &AuditRecord) -> &str {
    match Action::parse(&r.action) {
        Some(a) => a.as_str(),
        None => &r.action,
    }
}

/// The filter form: a GET, so a filtered page is a link.
fn filters(base: &str, q: &Filters, errors: &HashMap<&'static str, String>) -> Markup {
    let err = |name: &str| errors.get(name).map(String::as_str);
    let action = Filters::value(&q.action);
    let action_error = err("action");
    html! {
        form.filters method="get" action=(base) aria-label="Filter the audit log" {
            (optional_field("Actor", "actor", "text", Filters::value(&q.actor), err("actor")))
            div.field {
                label for="f-action" { "Action" }
                select #f-action name="action"
                    aria-invalid=[action_error.map(|_| "true")]
                    aria-describedby=[action_error.map(|_| "f-action-error")] {
                    option value="" selected[action.is_empty()] { "Every action" }
                    @for family in ActionFilter::families() {
                        optgroup label=(family) {
                            @let all = format!("{family}.*");
                            option value=(all) selected[action == all] { "every " (family) " action" }
                            @for a in Action::ALL.iter().filter(|a| a.as_str().split('.').next() == Some(family)) {
                                option value=(a.as_str()) selected[action == a.as_str()] { (a.as_str()) }
                            }
                        }
                    }
                }
                @if let Some(e) = action_error { p.error #f-action-error { (e) } }
            }
            (optional_field("From", "from", "date", Filters::value(&q.from), err("from")))
            (optional_field("To", "to", "date", Filters::value(&q.to), err("to")))
            div.row {
                button type="submit" { "Filter" }
                @if q.any() { a href=(base) { "Clear filters" } }
            }
        }
        p.hint { "Actor: the email of the person who made the change. From and To are whole days, both included." }
    }
}
