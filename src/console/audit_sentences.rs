//! The audit log in words: each event as one sentence built from its data ("Ada changed Bob's
//! roles from developer to admin"). One arm per action of the domain; data that is missing or
//! not shaped as that action writes it falls back to a plain line naming the action, never a
//! panic (the log is append-only, so events written by older versions stay as they were).

use crate::domain::audit::{Action, ActorKind, AuditRecord};
use crate::domain::billing::format_amount;
use serde_json::Value;

/// Finds a person's name from a user id (as the event writes it).
pub type Names<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The user ids `r` names besides its actor's, so a page can look their names up in one go.
pub fn mentions(r: &AuditRecord) -> Vec<uuid::Uuid> {
    let mut ids = Vec::new();
    let mut push = |s: Option<&str>| {
        if let Some(id) = s.and_then(|s| s.parse::<uuid::Uuid>().ok())
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    };
    if matches!(r.target_type.as_str(), "member" | "user") {
        push(Some(&r.target_id));
    }
    for key in ["user", "from", "to"] {
        push(r.data.get(key).and_then(Value::as_str));
    }
    if let Some(actor) = r.actor {
        push(Some(&actor.0.to_string()));
    }
    ids
}

/// Who made the change, as a sentence names them.
pub fn actor(r: &AuditRecord, names: Names<'_>) -> String {
    match r.actor_kind {
        ActorKind::Operator => match &r.actor_name {
            Some(account) => format!("the operator ({account})"),
            None => "the operator".to_owned(),
        },
        ActorKind::System => match &r.actor_name {
            Some(name) => format!("the {name}"),
            None => "Guildhall".to_owned(),
        },
        ActorKind::User => r
            .actor_name
            .clone()
            .or_else(|| r.actor.and_then(|id| names(&id.0.to_string())))
            .or_else(|| r.actor_email.clone())
            .unwrap_or_else(|| "a former account".to_owned()),
    }
}

/// The event as one sentence, ending with a full stop.
pub fn sentence(r: &AuditRecord, names: Names<'_>) -> String {
    let who = actor(r, names);
    let text = Action::parse(&r.action)
        .and_then(|a| described(a, r, &who, names))
        .unwrap_or_else(|| fallback(r, &who));
    let mut out = capitalised(&text);
    if r.token.is_some() {
        out.push_str(" (with an API token)");
    }
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// A plain line for an event whose data does not read as its action writes it.
fn fallback(r: &AuditRecord, who: &str) -> String {
    let target = r.target_name.as_deref().unwrap_or(&r.target_id);
    format!("{who}: {} on {} {target}", r.action, r.target_type)
}

fn described(a: Action, r: &AuditRecord, who: &str, names: Names<'_>) -> Option<String> {
    use Action as A;
    let d = &r.data;
    let target = || r.target_name.clone();
    let person = |key: &str| -> Option<String> {
        let id = text(d, key)?;
        Some(names(id).unwrap_or_else(|| "a former account".to_owned()))
    };
    // The member an event is about: its target (a user id), by name, else by the email the
    // event wrote.
    let member = || -> String {
        names(&r.target_id)
            .or_else(|| text(d, "email").map(str::to_owned))
            .or_else(|| r.target_name.clone())
            .unwrap_or_else(|| "a former account".to_owned())
    };
    Some(match a {
        A::UserCreated => format!("{} ({}) signed up", text(d, "name")?, text(d, "email")?),
        A::SessionCreated => format!("{who} signed in"),
        A::SessionDeleted => format!("{who} signed out"),
        A::TokenCreated => {
            let name = text(d, "name").map(str::to_owned).or_else(target)?;
            let mut s = format!("{who} created API token {name}");
            if let Some(p) = strings(d, "permissions") {
                s.push_str(&format!(" limited to {}", and_list(&p, "no permission")));
            }
            if let Some(day) = text(d, "expires_at").and_then(day_of) {
                s.push_str(&format!(", expiring {day}"));
            }
            s
        }
        A::TokenRevoked => {
            let name = text(d, "name").map(str::to_owned).or_else(target)?;
            format!("{who} revoked API token {name}")
        }
        A::OrgCreated => {
            let name = text(d, "name")?;
            if d.get("personal").and_then(Value::as_bool) == Some(true) {
                format!("{who} created the personal organization {name}")
            } else {
                format!("{who} created the organization {name}")
            }
        }
        A::OrgRenamed => format!(
            "{who} renamed the organization from {} to {}",
            text(d, "before")?,
            text(d, "after")?
        ),
        A::OrgSlugChanged => format!(
            "{who} changed the organization's slug from {} to {}",
            text(d, "before")?,
            text(d, "after")?
        ),
        A::OrgDeleted => format!("{who} deleted the organization {}", text(d, "name")?),
        A::MemberAdded => {
            let roles = and_list(&strings(d, "roles")?, "no role");
            if d.get("invitation").is_some_and(|v| !v.is_null()) {
                format!("{} joined as {roles}, accepting an invitation", member())
            } else if d.get("registered").and_then(Value::as_bool) == Some(true) {
                format!(
                    "{who} registered {} and added them as {roles}",
                    text(d, "email")?
                )
            } else {
                format!("{who} added {} as {roles}", member())
            }
        }
        A::MemberRolesChanged => format!(
            "{who} changed {} roles from {} to {}",
            possessive(&member()),
            and_list(&strings(d, "before")?, "no role"),
            and_list(&strings(d, "after")?, "no role")
        ),
        A::MemberRemoved => match strings(d, "roles") {
            Some(roles) if !roles.is_empty() => {
                format!(
                    "{who} removed {}, who held {}",
                    member(),
                    and_list(&roles, "")
                )
            }
            _ => format!("{who} removed {}", member()),
        },
        A::MemberLeft => format!("{who} left the organization"),
        A::RoleCreated => format!(
            "{who} created custom role {} with {}",
            text(d, "name")?,
            and_list(&strings(d, "permissions")?, "no permission")
        ),
        A::RoleUpdated => role_updated(d, who)?,
        A::RoleDeleted => format!("{who} deleted custom role {}", text(d, "name")?),
        A::ProjectCreated => format!("{who} created project {}", text(d, "name")?),
        A::ProjectRenamed => format!(
            "{who} renamed project {} to {}",
            text(d, "before")?,
            text(d, "after")?
        ),
        A::ProjectDeleted => format!("{who} deleted project {}", text(d, "name")?),
        A::ProjectMemberSet => {
            let (user, project, after) = (person("user")?, target()?, text(d, "after")?);
            match text(d, "before") {
                Some(before) => format!(
                    "{who} changed {} role on project {project} from {before} to {after}",
                    possessive(&user)
                ),
                None => format!("{who} gave {user} the {after} role on project {project}"),
            }
        }
        A::ProjectMemberRemoved => format!(
            "{who} removed {} {} role on project {}",
            possessive(&person("user")?),
            text(d, "before")?,
            target()?
        ),
        A::GroupCreated => format!("{who} created group {}", text(d, "name")?),
        A::GroupRenamed => format!(
            "{who} renamed group {} to {}",
            text(d, "before")?,
            text(d, "after")?
        ),
        A::GroupDeleted => format!("{who} deleted group {}", text(d, "name")?),
        A::GroupMemberAdded => {
            format!("{who} added {} to group {}", person("user")?, target()?)
        }
        A::GroupMemberRemoved => {
            format!("{who} removed {} from group {}", person("user")?, target()?)
        }
        A::GroupProjectSet => {
            let (group, project, after) = (target()?, text(d, "project_name")?, text(d, "after")?);
            match text(d, "before") {
                Some(before) => format!(
                    "{who} changed group {group}'s role on project {project} from {before} to {after}"
                ),
                None => format!("{who} gave group {group} the {after} role on project {project}"),
            }
        }
        A::GroupProjectRemoved => {
            let (group, project) = (target()?, text(d, "project_name")?);
            match text(d, "before") {
                Some(before) => {
                    format!("{who} removed group {group}'s {before} role on project {project}")
                }
                None => format!("{who} removed project {project} from group {group}"),
            }
        }
        A::TransferOffered => {
            format!(
                "{who} offered ownership of the organization to {}",
                person("to")?
            )
        }
        A::TransferCancelled => {
            format!(
                "{who} cancelled the offer of ownership to {}",
                person("to")?
            )
        }
        A::TransferDeclined => {
            format!(
                "{who} declined the offer of ownership from {}",
                person("from")?
            )
        }
        A::TransferAccepted => format!(
            "{who} accepted the offer of ownership from {} and became the owner",
            person("from")?
        ),
        A::BillingUpdated => match strings(d, "changed") {
            Some(fields) if !fields.is_empty() => {
                let fields: Vec<String> = fields.iter().map(|f| field_words(f)).collect();
                format!(
                    "{who} updated the billing profile: {}",
                    and_list(&fields, "")
                )
            }
            _ => format!("{who} updated the billing profile"),
        },
        A::PlanChanged => plan_changed(d, who)?,
        A::VoucherRedeemed => format!("{who} redeemed voucher {}", text(d, "code")?),
        A::InvoiceGenerated => format!(
            "{who} issued invoice {} for {}, totalling {}",
            text(d, "number")?,
            text(d, "month")?,
            format_amount(d.get("total")?.as_i64()?)
        ),
        A::InvoiceStatusChanged => format!(
            "{who} marked invoice {} {} (it was {})",
            text(d, "number")?,
            text(d, "after")?,
            text(d, "before")?
        ),
        A::VoucherCreated => {
            let value = d.get("value")?.as_i64()?;
            let worth = match text(d, "kind")? {
                "amount" => format!("{} off", format_amount(value)),
                "percent" => format!("{value}% off"),
                _ => return None,
            };
            format!("{who} created voucher {} ({worth})", text(d, "code")?)
        }
        A::InvitationCreated => format!(
            "{who} invited {} as {}",
            text(d, "email")?,
            and_list(&strings(d, "roles")?, "no role")
        ),
        A::InvitationRevoked => format!("{who} revoked the invitation to {}", text(d, "email")?),
        A::InvitationResent => format!("{who} re-sent the invitation to {}", text(d, "email")?),
        A::InvitationAccepted => format!(
            "{who} accepted the invitation sent to {}",
            text(d, "email")?
        ),
        A::InvitationDeclined => format!(
            "{who} declined the invitation sent to {}",
            text(d, "email")?
        ),
        A::PasswordSet => {
            let mut s = format!("{} set a new password", member());
            let count = |k: &str| d.get(k).and_then(Value::as_u64).unwrap_or(0);
            let (sessions, tokens) = (count("sessions_ended"), count("tokens_revoked"));
            if sessions + tokens > 0 {
                s.push_str(&format!(
                    ", ending {} and revoking {}",
                    counted(sessions, "session", "sessions"),
                    counted(tokens, "API token", "API tokens")
                ));
            }
            s
        }
        A::PasswordResetRequested => {
            format!("someone asked for a password reset link for {}", member())
        }
    })
}

fn role_updated(d: &Value, who: &str) -> Option<String> {
    let (before, after) = (d.get("before")?, d.get("after")?);
    let (old, new) = (text(before, "name")?, text(after, "name")?);
    let (was, is) = (
        strings(before, "permissions")?,
        strings(after, "permissions")?,
    );
    let added: Vec<String> = is.iter().filter(|p| !was.contains(p)).cloned().collect();
    let removed: Vec<String> = was.iter().filter(|p| !is.contains(p)).cloned().collect();
    let mut changes = Vec::new();
    if !added.is_empty() {
        changes.push(format!("added {}", and_list(&added, "")));
    }
    if !removed.is_empty() {
        changes.push(format!("removed {}", and_list(&removed, "")));
    }
    let changes = changes.join(" and ");
    Some(match (old != new, changes.is_empty()) {
        (true, true) => format!("{who} renamed custom role {old} to {new}"),
        (true, false) => format!("{who} renamed custom role {old} to {new} and {changes}"),
        (false, false) => format!("{who} changed custom role {new}: {changes}"),
        (false, true) => format!("{who} saved custom role {new} unchanged"),
    })
}

fn plan_changed(d: &Value, who: &str) -> Option<String> {
    let project = text(d, "project_name")?;
    let (before, after) = (d.get("before")?, d.get("after")?);
    let mut changes = Vec::new();
    if let (Some(b), Some(a)) = (text(before, "tier"), text(after, "tier"))
        && a != b
    {
        changes.push(format!("tier from {b} to {a}"));
    }
    for (key, what, unit) in [
        ("storage_gb", "storage", " GB"),
        ("environments", "environments", ""),
        ("licenses", "licenses", ""),
    ] {
        let (b, a) = (before.get(key)?.as_i64()?, after.get(key)?.as_i64()?);
        if a != b {
            changes.push(format!("{what} from {b}{unit} to {a}{unit}"));
        }
    }
    Some(if changes.is_empty() {
        format!("{who} saved the plan of project {project} unchanged")
    } else {
        format!(
            "{who} changed the plan of project {project}: {}",
            changes.join(", ")
        )
    })
}

/// A string field of `d`.
fn text<'a>(d: &'a Value, key: &str) -> Option<&'a str> {
    d.get(key).and_then(Value::as_str)
}

/// A list of strings of `d`; `None` when absent or not a list of strings.
fn strings(d: &Value, key: &str) -> Option<Vec<String>> {
    d.get(key)?
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// `a`, `a and b`, `a, b and c`; `none` for an empty list.
fn and_list(items: &[String], none: &str) -> String {
    match items {
        [] => none.to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn possessive(name: &str) -> String {
    format!("{name}'s")
}

fn counted(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// A billing profile field in words: `address.postal_code` is "postal code".
fn field_words(f: &str) -> String {
    let last = f.strip_prefix("address.").unwrap_or(f);
    let last = last
        .strip_prefix("payment_method")
        .map_or(last, |_| "payment method");
    last.replace(['_', '.'], " ")
}

/// The day of an RFC 3339 time, as the page shows days (UTC).
fn day_of(t: &str) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%d").to_string())
}

/// `s` with a capital when it starts with words of ours ("the operator", "someone"): a
/// person's name or email stays as they wrote it.
fn capitalised(s: &str) -> String {
    if !["the ", "a former account", "someone "]
        .iter()
        .any(|ours| s.starts_with(ours))
    {
        return s.to_owned();
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{TokenId, UserId};
    use serde_json::json;

    const ADA: &str = "00000000-0000-0000-0000-00000000000a";
    const BOB: &str = "00000000-0000-0000-0000-00000000000b";

    fn names(id: &str) -> Option<String> {
        match id {
            ADA => Some("Ada".to_owned()),
            BOB => Some("Bob".to_owned()),
            _ => None,
        }
    }

    fn record(
        action: &str,
        target_type: &str,
        target: &str,
        name: Option<&str>,
        data: Value,
    ) -> AuditRecord {
        AuditRecord {
            seq: 1,
            id: uuid::Uuid::nil(),
            at: chrono::DateTime::UNIX_EPOCH,
            org: None,
            actor: Some(UserId(ADA.parse().expect("uuid"))),
            actor_kind: ActorKind::User,
            actor_email: Some("ada@example.com".to_owned()),
            actor_name: Some("Ada".to_owned()),
            token: None,
            action: action.to_owned(),
            target_type: target_type.to_owned(),
            target_id: target.to_owned(),
            target_name: name.map(str::to_owned),
            data,
            ip: None,
        }
    }

    /// Every action of the domain, as its service writes it, and the sentence it reads as. The
    /// match has no catch-all: a new action does not compile until it has its sentence here.
    fn example(a: Action) -> (AuditRecord, &'static str) {
        use Action as A;
        let r =
            |target_type, target, name, data| record(a.as_str(), target_type, target, name, data);
        let plan =
            |tier, gb| json!({ "tier": tier, "storage_gb": gb, "environments": 1, "licenses": 2 });
        match a {
            A::UserCreated => (
                r(
                    "user",
                    ADA,
                    None,
                    json!({ "email": "ada@example.com", "name": "Ada" }),
                ),
                "Ada (ada@example.com) signed up.",
            ),
            A::SessionCreated => (r("session", "s1", None, Value::Null), "Ada signed in."),
            A::SessionDeleted => (r("session", "s1", None, Value::Null), "Ada signed out."),
            A::TokenCreated => (
                r(
                    "token",
                    "t1",
                    Some("ci"),
                    json!({
                        "name": "ci", "permissions": ["projects.read", "projects.deploy"],
                        "expires_at": "2027-03-01T23:59:59Z", "can_check": false,
                    }),
                ),
                "Ada created API token ci limited to projects.read and projects.deploy, expiring 2027-03-01.",
            ),
            A::TokenRevoked => (
                r("token", "t1", Some("ci"), json!({ "name": "ci" })),
                "Ada revoked API token ci.",
            ),
            A::OrgCreated => (
                r(
                    "org",
                    "o1",
                    Some("Acme"),
                    json!({ "name": "Acme", "slug": "acme", "personal": false }),
                ),
                "Ada created the organization Acme.",
            ),
            A::OrgRenamed => (
                r(
                    "org",
                    "o1",
                    Some("Acme Inc"),
                    json!({ "before": "Acme", "after": "Acme Inc" }),
                ),
                "Ada renamed the organization from Acme to Acme Inc.",
            ),
            A::OrgSlugChanged => (
                r(
                    "org",
                    "o1",
                    Some("Acme"),
                    json!({ "before": "acme", "after": "acme-inc" }),
                ),
                "Ada changed the organization's slug from acme to acme-inc.",
            ),
            A::OrgDeleted => (
                r(
                    "org",
                    "o1",
                    Some("Acme"),
                    json!({ "name": "Acme", "slug": "acme" }),
                ),
                "Ada deleted the organization Acme.",
            ),
            A::MemberAdded => (
                r(
                    "member",
                    BOB,
                    None,
                    json!({ "email": "bob@example.com", "roles": ["developer"] }),
                ),
                "Ada added Bob as developer.",
            ),
            A::MemberRolesChanged => (
                r(
                    "member",
                    BOB,
                    None,
                    json!({ "before": ["developer"], "after": ["admin"] }),
                ),
                "Ada changed Bob's roles from developer to admin.",
            ),
            A::MemberRemoved => (
                r(
                    "member",
                    BOB,
                    None,
                    json!({ "roles": ["developer", "billing"] }),
                ),
                "Ada removed Bob, who held developer and billing.",
            ),
            A::MemberLeft => (
                r("member", ADA, None, json!({ "roles": ["developer"] })),
                "Ada left the organization.",
            ),
            A::RoleCreated => (
                r(
                    "role",
                    "r1",
                    Some("auditor"),
                    json!({ "name": "auditor", "permissions": ["audit.read"] }),
                ),
                "Ada created custom role auditor with audit.read.",
            ),
            A::RoleUpdated => (
                r(
                    "role",
                    "r1",
                    Some("auditors"),
                    json!({
                        "before": { "name": "auditor", "permissions": ["audit.read"] },
                        "after": { "name": "auditors", "permissions": ["audit.read", "members.read"] },
                    }),
                ),
                "Ada renamed custom role auditor to auditors and added members.read.",
            ),
            A::RoleDeleted => (
                r(
                    "role",
                    "r1",
                    Some("auditor"),
                    json!({ "name": "auditor", "permissions": [] }),
                ),
                "Ada deleted custom role auditor.",
            ),
            A::ProjectCreated => (
                r("project", "p1", Some("api"), json!({ "name": "api" })),
                "Ada created project api.",
            ),
            A::ProjectRenamed => (
                r(
                    "project",
                    "p1",
                    Some("api2"),
                    json!({ "before": "api", "after": "api2" }),
                ),
                "Ada renamed project api to api2.",
            ),
            A::ProjectDeleted => (
                r("project", "p1", Some("api"), json!({ "name": "api" })),
                "Ada deleted project api.",
            ),
            A::ProjectMemberSet => (
                r(
                    "project",
                    "p1",
                    Some("api"),
                    json!({ "user": BOB, "before": "viewer", "after": "admin" }),
                ),
                "Ada changed Bob's role on project api from viewer to admin.",
            ),
            A::ProjectMemberRemoved => (
                r(
                    "project",
                    "p1",
                    Some("api"),
                    json!({ "user": BOB, "before": "contributor" }),
                ),
                "Ada removed Bob's contributor role on project api.",
            ),
            A::GroupCreated => (
                r("group", "g1", Some("ops"), json!({ "name": "ops" })),
                "Ada created group ops.",
            ),
            A::GroupRenamed => (
                r(
                    "group",
                    "g1",
                    Some("sre"),
                    json!({ "before": "ops", "after": "sre" }),
                ),
                "Ada renamed group ops to sre.",
            ),
            A::GroupDeleted => (
                r("group", "g1", Some("ops"), json!({ "name": "ops" })),
                "Ada deleted group ops.",
            ),
            A::GroupMemberAdded => (
                r("group", "g1", Some("ops"), json!({ "user": BOB })),
                "Ada added Bob to group ops.",
            ),
            A::GroupMemberRemoved => (
                r("group", "g1", Some("ops"), json!({ "user": BOB })),
                "Ada removed Bob from group ops.",
            ),
            A::GroupProjectSet => (
                r(
                    "group",
                    "g1",
                    Some("ops"),
                    json!({ "project": "p1", "project_name": "api", "before": null, "after": "contributor" }),
                ),
                "Ada gave group ops the contributor role on project api.",
            ),
            A::GroupProjectRemoved => (
                r(
                    "group",
                    "g1",
                    Some("ops"),
                    json!({ "project": "p1", "project_name": "api", "before": "contributor", "after": null }),
                ),
                "Ada removed group ops's contributor role on project api.",
            ),
            A::TransferOffered => (
                r(
                    "transfer",
                    "x1",
                    Some("Acme"),
                    json!({ "from": ADA, "to": BOB, "expires_at": "2027-01-01T00:00:00Z" }),
                ),
                "Ada offered ownership of the organization to Bob.",
            ),
            A::TransferCancelled => (
                r(
                    "transfer",
                    "x1",
                    Some("Acme"),
                    json!({ "from": ADA, "to": BOB }),
                ),
                "Ada cancelled the offer of ownership to Bob.",
            ),
            A::TransferDeclined => (
                r(
                    "transfer",
                    "x1",
                    Some("Acme"),
                    json!({ "from": BOB, "to": ADA }),
                ),
                "Ada declined the offer of ownership from Bob.",
            ),
            A::TransferAccepted => (
                r(
                    "transfer",
                    "x1",
                    Some("Acme"),
                    json!({ "from": BOB, "to": ADA }),
                ),
                "Ada accepted the offer of ownership from Bob and became the owner.",
            ),
            A::BillingUpdated => (
                r(
                    "org",
                    "o1",
                    Some("Acme"),
                    json!({ "changed": ["name", "address.postal_code", "payment_method"] }),
                ),
                "Ada updated the billing profile: name, postal code and payment method.",
            ),
            A::PlanChanged => (
                r(
                    "project",
                    "p1",
                    Some("api"),
                    json!({ "project": "p1", "project_name": "api", "before": plan("starter", 5), "after": plan("pro", 20) }),
                ),
                "Ada changed the plan of project api: tier from starter to pro, storage from 5 GB to 20 GB.",
            ),
            A::VoucherRedeemed => (
                r(
                    "voucher",
                    "WELCOME",
                    Some("WELCOME"),
                    json!({ "code": "WELCOME" }),
                ),
                "Ada redeemed voucher WELCOME.",
            ),
            A::InvoiceGenerated => {
                let mut e = r(
                    "invoice",
                    "i1",
                    Some("GH-2026-0001"),
                    json!({ "number": "GH-2026-0001", "month": "2026-11", "total": 4250 }),
                );
                (e.actor, e.actor_kind, e.actor_name, e.actor_email) =
                    (None, ActorKind::System, None, None);
                (
                    e,
                    "Guildhall issued invoice GH-2026-0001 for 2026-11, totalling 42.50.",
                )
            }
            A::InvoiceStatusChanged => {
                let mut e = r(
                    "invoice",
                    "i1",
                    Some("GH-2026-0001"),
                    json!({ "number": "GH-2026-0001", "before": "open", "after": "paid", "by": "service_token" }),
                );
                (e.actor, e.actor_kind, e.actor_name, e.actor_email) = (
                    None,
                    ActorKind::System,
                    Some("service token".to_owned()),
                    None,
                );
                (
                    e,
                    "The service token marked invoice GH-2026-0001 paid (it was open).",
                )
            }
            A::VoucherCreated => {
                let mut e = r(
                    "voucher",
                    "WELCOME",
                    Some("WELCOME"),
                    json!({ "code": "WELCOME", "kind": "percent", "value": 10 }),
                );
                (e.actor, e.actor_kind, e.actor_name, e.actor_email) =
                    (None, ActorKind::Operator, Some("root".to_owned()), None);
                (e, "The operator (root) created voucher WELCOME (10% off).")
            }
            A::InvitationCreated => (
                r(
                    "invitation",
                    "v1",
                    Some("bob@example.com"),
                    json!({ "email": "bob@example.com", "roles": ["developer"], "expires_at": "2027-01-01T00:00:00Z" }),
                ),
                "Ada invited bob@example.com as developer.",
            ),
            A::InvitationRevoked => (
                r(
                    "invitation",
                    "v1",
                    Some("bob@example.com"),
                    json!({ "email": "bob@example.com" }),
                ),
                "Ada revoked the invitation to bob@example.com.",
            ),
            A::InvitationResent => (
                r(
                    "invitation",
                    "v1",
                    Some("bob@example.com"),
                    json!({ "email": "bob@example.com", "expires_at": "2027-01-01T00:00:00Z" }),
                ),
                "Ada re-sent the invitation to bob@example.com.",
            ),
            A::InvitationAccepted => {
                let mut e = r(
                    "invitation",
                    "v1",
                    Some("bob@example.com"),
                    json!({ "email": "bob@example.com", "user": BOB }),
                );
                e.actor_name = Some("Bob".to_owned());
                (e, "Bob accepted the invitation sent to bob@example.com.")
            }
            A::InvitationDeclined => {
                let mut e = r(
                    "invitation",
                    "v1",
                    Some("bob@example.com"),
                    json!({ "email": "bob@example.com" }),
                );
                e.actor_name = Some("Bob".to_owned());
                (e, "Bob declined the invitation sent to bob@example.com.")
            }
            A::PasswordSet => (
                r(
                    "user",
                    BOB,
                    None,
                    json!({ "purpose": "reset", "sessions_ended": 2, "tokens_revoked": 1 }),
                ),
                "Bob set a new password, ending 2 sessions and revoking 1 API token.",
            ),
            A::PasswordResetRequested => {
                let mut e = r("user", BOB, None, Value::Null);
                (e.actor, e.actor_kind, e.actor_name, e.actor_email) =
                    (None, ActorKind::System, None, None);
                (e, "Someone asked for a password reset link for Bob.")
            }
        }
    }

    #[test]
    fn every_action_of_the_domain_reads_as_its_sentence() {
        for a in Action::ALL {
            let (r, expected) = example(*a);
            assert_eq!(sentence(&r, &names), expected, "{}", a.as_str());
        }
    }

    #[test]
    fn an_action_under_its_former_name_reads_as_the_current_one() {
        let (mut r, expected) = example(Action::PlanChanged);
        r.action = "plan.change".to_owned();
        assert_eq!(sentence(&r, &names), expected);
    }

    #[test]
    fn variants_of_members_and_roles_read_in_words() {
        let (mut r, _) = example(Action::MemberAdded);
        r.data = json!({ "email": "eve@example.com", "roles": ["developer", "billing"], "registered": true });
        assert_eq!(
            sentence(&r, &names),
            "Ada registered eve@example.com and added them as developer and billing."
        );
        r.data = json!({ "email": "bob@example.com", "roles": ["developer"], "invitation": "v1" });
        r.actor_name = Some("Bob".to_owned());
        assert_eq!(
            sentence(&r, &names),
            "Bob joined as developer, accepting an invitation."
        );
        // A member nobody can name any more is named by the email the event wrote.
        let (mut r, _) = example(Action::MemberAdded);
        r.target_id = "00000000-0000-0000-0000-0000000000ff".to_owned();
        assert_eq!(
            sentence(&r, &names),
            "Ada added bob@example.com as developer."
        );

        let (mut r, _) = example(Action::MemberRolesChanged);
        r.data = json!({ "before": ["developer"], "after": ["developer", "billing", "admin"] });
        assert_eq!(
            sentence(&r, &names),
            "Ada changed Bob's roles from developer to developer, billing and admin."
        );

        let (mut r, _) = example(Action::RoleUpdated);
        r.data = json!({
            "before": { "name": "auditor", "permissions": ["audit.read", "members.read"] },
            "after": { "name": "auditor", "permissions": ["audit.read"] },
        });
        assert_eq!(
            sentence(&r, &names),
            "Ada changed custom role auditor: removed members.read."
        );

        let (mut r, _) = example(Action::ProjectMemberSet);
        r.data = json!({ "user": BOB, "before": null, "after": "viewer" });
        assert_eq!(
            sentence(&r, &names),
            "Ada gave Bob the viewer role on project api."
        );

        let (mut r, _) = example(Action::TokenCreated);
        r.data = json!({ "name": "ci", "permissions": null, "expires_at": null });
        r.token = Some(TokenId(uuid::Uuid::nil()));
        assert_eq!(
            sentence(&r, &names),
            "Ada created API token ci (with an API token)."
        );
    }

    #[test]
    fn an_actor_without_a_name_is_found_by_id_then_email() {
        let (mut r, _) = example(Action::ProjectCreated);
        r.actor_name = None;
        assert_eq!(sentence(&r, &names), "Ada created project api.");
        r.actor = Some(UserId(uuid::Uuid::nil()));
        assert_eq!(sentence(&r, &names), "ada@example.com created project api.");
        r.actor_email = None;
        assert_eq!(
            sentence(&r, &names),
            "A former account created project api."
        );
    }

    #[test]
    fn data_of_any_other_shape_falls_back_to_a_plain_line() {
        let odd = [
            Value::Null,
            json!([]),
            json!("text"),
            json!({ "roles": "developer", "before": 3, "after": { "name": 1 }, "user": 7 }),
        ];
        for a in Action::ALL {
            let (mut r, _) = example(*a);
            for data in &odd {
                r.data = data.clone();
                let s = sentence(&r, &names);
                assert!(!s.is_empty() && s.ends_with('.'), "{}: {s}", a.as_str());
            }
        }
        let mut r = record(
            "widget.frobbed",
            "widget",
            "w1",
            Some("blue"),
            json!({ "x": 1 }),
        );
        assert_eq!(sentence(&r, &names), "Ada: widget.frobbed on widget blue.");
        r.target_name = None;
        r.actor_kind = ActorKind::System;
        r.actor_name = None;
        assert_eq!(
            sentence(&r, &names),
            "Guildhall: widget.frobbed on widget w1."
        );
        let (mut r, _) = example(Action::ProjectCreated);
        r.data = json!({});
        assert_eq!(sentence(&r, &names), "Ada: project.created on project api.");
    }

    #[test]
    fn mentions_name_the_people_to_look_up() {
        let (r, _) = example(Action::TransferAccepted);
        let ids: Vec<String> = mentions(&r).iter().map(ToString::to_string).collect();
        assert_eq!(ids, [BOB, ADA]);
        let (r, _) = example(Action::MemberRolesChanged);
        let ids: Vec<String> = mentions(&r).iter().map(ToString::to_string).collect();
        assert_eq!(ids, [BOB, ADA]);
    }
}
