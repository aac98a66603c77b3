//! The audit vocabulary (R13): what happened, to what, by whom. Events are appended in the same
//! transaction as the change they record and never carry a secret.

use super::ids::{OrgId, TokenId, UserId};
use chrono::{DateTime, Utc};
use uuid::Uuid;

macro_rules! actions {
    ($($variant:ident = $wire:literal,)*) => {
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

            /// Parses a wire name.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some(Action::$variant),)*
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
    BillingUpdate = "billing.update",
    PlanChange = "plan.change",
    VoucherRedeem = "voucher.redeem",
    InvoiceGenerate = "invoice.generate",
    VoucherCreate = "voucher.create",
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
    /// The API token used, if any.
    pub token: Option<TokenId>,
    /// What happened.
    pub action: Action,
    /// The kind of thing changed: `org`, `member`, `role`, `token`, `user`, `session`.
    pub target_type: &'static str,
    /// The changed thing's id.
    pub target_id: String,
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
            token: actor.token,
            action,
            target_type,
            target_id: target_id.to_string(),
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
    /// The API token used, if any.
    pub token: Option<TokenId>,
    /// What happened (kept as text so events of older versions still read).
    pub action: String,
    /// The kind of thing changed.
    pub target_type: String,
    /// The changed thing's id.
    pub target_id: String,
    /// Before/after values.
    pub data: serde_json::Value,
    /// The client's address.
    pub ip: Option<String>,
}
