//! The audit vocabulary (R13): what happened, to what, by whom. Events are appended in the same
//! transaction as the change they record and never carry a secret.

use super::ids::{OrgId, TokenId, UserId};
use chrono::{DateTime, Utc};
use uuid::Uuid;

macro_rules! actions {
    ($($variant:ident = $wire:literal $(| $old:literal)?,)*) => {
        /// What an audit event records; `Action::MemberRemoved` is `member.removed` on the wire.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Action {
            $(#[doc = $wire] $variant,)*
        }

        impl Action {
            /// Every action.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $wire,)*
                }
            }

            /// Parses a wire name, or the name an action had before it was renamed.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($wire $(| $old)? => Some(Action::$variant),)*
                    _ => None,
                }
            }

            /// The name this action was written under before it was renamed, if it was: events
            /// already in the log keep it (the log is append-only).
            pub fn former_name(self) -> Option<&'static str> {
                match self {
                    $($(Action::$variant => Some($old),)?)*
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        }
    };
}

actions! {
    UserCreated = "user.created",
    SessionCreated = "session.created",
    SessionDeleted = "session.deleted",
    TokenCreated = "token.created",
    TokenRevoked = "token.revoked",
    OrgCreated = "org.created",
    OrgRenamed = "org.renamed",
    OrgSlugChanged = "org.slug_changed",
    OrgDeleted = "org.deleted",
    MemberAdded = "member.added",
    MemberRolesChanged = "member.roles_changed",
    MemberRemoved = "member.removed",
    MemberLeft = "member.left",
    RoleCreated = "role.created",
    RoleUpdated = "role.updated",
    RoleDeleted = "role.deleted",
    ProjectCreated = "project.created",
    ProjectRenamed = "project.renamed",
    ProjectDeleted = "project.deleted",
    ProjectMemberSet = "project.member_set",
    ProjectMemberRemoved = "project.member_removed",
    GroupCreated = "group.created",
    GroupRenamed = "group.renamed",
    GroupDeleted = "group.deleted",
    GroupMemberAdded = "group.member_added",
    GroupMemberRemoved = "group.member_removed",
    GroupProjectSet = "group.project_set",
    GroupProjectRemoved = "group.project_removed",
    TransferOffered = "transfer.offered",
    TransferCancelled = "transfer.cancelled",
    TransferDeclined = "transfer.declined",
    TransferAccepted = "transfer.accepted",
    BillingUpdated = "billing.updated" | "billing.update",
    PlanChanged = "plan.changed" | "plan.change",
    VoucherRedeemed = "voucher.redeemed" | "voucher.redeem",
    InvoiceGenerated = "invoice.generated" | "invoice.generate",
    InvoiceStatusChanged = "invoice.status_changed",
    VoucherCreated = "voucher.created" | "voucher.create",
    InvitationCreated = "invitation.created",
    InvitationRevoked = "invitation.revoked",
    InvitationResent = "invitation.resent",
    InvitationAccepted = "invitation.accepted",
    InvitationDeclined = "invitation.declined",
    PasswordSet = "password.set",
    PasswordResetRequested = "password.reset_requested",
}

/// Who did it, from where, and when: the context every change is made in.
#[derive(Clone, Debug)]
pub struct Actor {
    /// The signed-in user, if any (sign-up has none yet).
    pub user: Option<UserId>,
    /// The API token used, if the request came with one.
    pub token: Option<TokenId>,
    /// The client's address.
    pub ip: Option<String>,
    /// When the request is being handled.
    pub now: DateTime<Utc>,
}

/// What an audit reader asks for: one action, or a family of them (`member.*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionFilter {
    /// One action, named by its current or its former name.
    One(Action),
    /// Every action of a family: `member` for `member.*`.
    Family(&'static str),
}

impl ActionFilter {
    /// Every family, in the order of `Action::ALL`.
    pub fn families() -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for a in Action::ALL {
            let family = a.as_str().split('.').next().unwrap_or_default();
            if !out.contains(&family) {
                out.push(family);
            }
        }
        out
    }

    /// Reads `member.removed`, a former name such as `plan.change`, or `member.*`; what is
    /// not one of them is refused with the list of what is.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if let Some(a) = Action::parse(raw) {
            return Ok(ActionFilter::One(a));
        }
        let families = Self::families();
        if let Some(f) = raw
            .strip_suffix(".*")
            .and_then(|f| families.iter().find(|x| **x == f))
        {
            return Ok(ActionFilter::Family(f));
        }
        let near: Vec<&str> = Action::ALL
            .iter()
            .map(|a| a.as_str())
            .filter(|a| a.split('.').next() == raw.split('.').next())
            .collect();
        let example = families
            .iter()
            .find(|f| Some(**f) == raw.split('.').next())
            .unwrap_or(&families[0]);
        let known = if near.is_empty() {
            Action::ALL.iter().map(|a| a.as_str()).collect::<Vec<_>>()
        } else {
            near
        };
        Err(format!(
            "`{raw}` is not an action; use one of {}, or a family such as `{}.*` (families: {})",
            known.join(", "),
            example,
            families.join(", ")
        ))
    }
}

/// What kind of actor made a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActorKind {
    /// A signed-in user (or one of their API tokens).
    User,
    /// An operator command run on the server's machine (`guildhall vouchers create`).
    Operator,
    /// Guildhall itself: sign-up, the monthly invoice run.
    System,
}

impl ActorKind {
    /// The wire name: `user`, `operator`, `system`.
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::Operator => "operator",
            ActorKind::System => "system",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(ActorKind::User),
            "operator" => Some(ActorKind::Operator),
            "system" => Some(ActorKind::System),
            _ => None,
        }
    }
}

/// One append-only record of a change.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEvent {
    /// Its id: nil until the service layer commits the event and gives it one (UUIDv7).
    pub id: Uuid,
    /// When the change was made.
    pub at: DateTime<Utc>,
    /// The organization it happened in, if any.
    pub org: Option<OrgId>,
    /// The user who made it.
    pub actor: Option<UserId>,
    /// What kind of actor it was.
    pub actor_kind: ActorKind,
    /// The actor's email then, for a reader once the account is gone (given at commit).
    pub actor_email: Option<String>,
    /// The actor's name then (for an operator, the account the command ran as).
    pub actor_name: Option<String>,
    /// The API token used, if any.
    pub token: Option<TokenId>,
    /// What happened.
    pub action: Action,
    /// The kind of thing changed: `org`, `member`, `role`, `token`, `user`, `session`.
    pub target_type: &'static str,
    /// The changed thing's id.
    pub target_id: String,
    /// The changed thing's name (or email) at that moment.
    pub target_name: Option<String>,
    /// Before/after values; never a secret.
    pub data: serde_json::Value,
    /// The client's address.
    pub ip: Option<String>,
}

impl AuditEvent {
    /// An event for `action` on `target_type`/`target_id`, made by `actor`.
    pub fn new(
        actor: &Actor,
        action: Action,
        target_type: &'static str,
        target_id: impl ToString,
    ) -> Self {
        AuditEvent {
            // Given when committed (`service::Guildhall::commit`): the core makes no ids.
            id: Uuid::nil(),
            at: actor.now,
            org: None,
            actor: actor.user,
            actor_kind: if actor.user.is_some() {
                ActorKind::User
            } else {
                ActorKind::System
            },
            actor_email: None,
            actor_name: None,
            token: actor.token,
            action,
            target_type,
            target_id: target_id.to_string(),
            target_name: None,
            data: serde_json::Value::Null,
            ip: actor.ip.clone(),
        }
    }

    /// In organization `org`.
    pub fn in_org(mut self, org: OrgId) -> Self {
        self.org = Some(org);
        self
    }

    /// With before/after data.
    pub fn with_data(mut self, data: serde_json::Value) -> Self {
        self.data = data;
        self
    }

    /// Naming its target as it is called at this moment.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.target_name = Some(name.into());
        self
    }

    /// Made by an operator command, run as `account` on the server's machine.
    pub fn by_operator(mut self, account: impl Into<String>) -> Self {
        self.actor_kind = ActorKind::Operator;
        self.actor_name = Some(account.into());
        self
    }
}

/// An event as read back from the log.
#[derive(Clone, Debug)]
pub struct AuditRecord {
    /// Monotonic position in the log; newer events have larger ones.
    pub seq: i64,
    /// Its id.
    pub id: Uuid,
    /// When the change was made.
    pub at: DateTime<Utc>,
    /// The organization it happened in, if any.
    pub org: Option<OrgId>,
    /// The user who made it.
    pub actor: Option<UserId>,
    /// What kind of actor it was.
    pub actor_kind: ActorKind,
    /// The actor's email then.
    pub actor_email: Option<String>,
    /// The actor's name then.
    pub actor_name: Option<String>,
    /// The API token used, if any.
    pub token: Option<TokenId>,
    /// What happened (kept as text so events of older versions still read).
    pub action: String,
    /// The kind of thing changed.
    pub target_type: String,
    /// The changed thing's id.
    pub target_id: String,
    /// The changed thing's name then, when the event recorded one.
    pub target_name: Option<String>,
    /// Before/after values.
    pub data: serde_json::Value,
    /// The client's address.
    pub ip: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_renamed_action_is_still_found_by_its_former_name() {
        assert_eq!(Action::parse("plan.change"), Some(Action::PlanChanged));
        assert_eq!(Action::parse("plan.changed"), Some(Action::PlanChanged));
        assert_eq!(Action::PlanChanged.former_name(), Some("plan.change"));
        assert_eq!(Action::MemberAdded.former_name(), None);
        // One tense: every current name is a past participle (`…ed`, or a known irregular).
        for a in Action::ALL {
            let verb = a.as_str().rsplit(['.', '_']).next().unwrap_or_default();
            assert!(
                verb.ends_with("ed") || ["set", "left", "resent"].contains(&verb),
                "{} is not in the past tense",
                a.as_str()
            );
        }
    }

    #[test]
    fn filters_take_an_action_a_family_or_say_what_there_is() {
        assert_eq!(
            ActionFilter::parse("member.*"),
            Ok(ActionFilter::Family("member"))
        );
        assert_eq!(
            ActionFilter::parse("voucher.redeem"),
            Ok(ActionFilter::One(Action::VoucherRedeemed))
        );
        let err = ActionFilter::parse("plan").expect_err("refused");
        assert!(
            err.contains("plan.changed") && err.contains("plan.*"),
            "{err}"
        );
        let err = ActionFilter::parse("nosuch.*").expect_err("refused");
        assert!(err.contains("member.removed"), "{err}");
    }
}
