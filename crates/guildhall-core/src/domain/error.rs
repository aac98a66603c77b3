//! What the rules refuse. The HTTP layer maps each variant to a status and a stable code in one
//! place (`api::problem`).

use super::permission::Permission;

/// One offending field of a request, with a reason a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The request field, e.g. `name` or `roles[1]`.
    pub field: String,
    /// What is wrong with it, lowercase, no trailing period.
    pub reason: String,
}

impl FieldError {
    /// A field error for `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// The kind of thing that was not found (or is invisible to the caller, R11/R12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An organization.
    Org,
    /// A user.
    User,
    /// A member of an organization.
    Member,
    /// A custom role.
    Role,
    /// An API token.
    Token,
    /// A project (or one the caller cannot reach, R11).
    Project,
    /// A group.
    Group,
    /// An invoice.
    Invoice,
}

impl Kind {
    /// The word used in messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Org => "organization",
            Kind::User => "user",
            Kind::Member => "member",
            Kind::Role => "role",
            Kind::Token => "token",
            Kind::Project => "project",
            Kind::Group => "group",
            Kind::Invoice => "invoice",
        }
    }
}

/// Everything the rules can refuse. What fails underneath (the store, hashing) is the service
/// layer's error, not a rule's.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Missing, or invisible to the caller (R11, R12).
    #[error("{} not found", .0.noun())]
    NotFound(Kind),
    /// No valid credentials were presented.
    #[error("authentication required")]
    Unauthenticated,
    /// Sign-in failed; an unknown email and a wrong password are answered alike.
    #[error("email or password is wrong")]
    InvalidCredentials,
    /// Too many failed sign-ins for this email or address.
    #[error("too many failed sign-ins; try again in {retry_after_secs} seconds")]
    TooManyAttempts {
        /// Seconds until the next attempt is considered.
        retry_after_secs: u64,
    },
    /// A member lacks the permission the action needs.
    #[error("this needs the `{0}` permission")]
    Forbidden(Permission),
    /// R6: the actor may not grant this role.
    #[error("you may not grant or take the role `{0}`")]
    RoleNotGrantable(String),
    /// R6: the actor does not hold these permissions, so cannot hand them out.
    #[error("you do not hold {}", list(.0))]
    PermissionsNotHeld(Vec<&'static str>),
    /// R6: nobody changes their own roles.
    #[error("you cannot change your own roles")]
    OwnRoles,
    /// The request is malformed in the listed fields (R14).
    #[error("the request is invalid: {}", fields(.0))]
    Invalid(Vec<FieldError>),
    /// R1: organization name taken.
    #[error("organization name `{0}` is taken")]
    OrgNameTaken(String),
    /// R1: slug taken.
    #[error("slug `{0}` is taken")]
    SlugTaken(String),
    /// A project with this name exists in the organization.
    #[error("project name `{0}` is taken in this organization")]
    ProjectNameTaken(String),
    /// A group with this name exists in the organization.
    #[error("group name `{0}` is taken in this organization")]
    GroupNameTaken(String),
    /// R6: the actor may not give (or take) this project role.
    #[error("you may not give or take the project role `{0}` here")]
    ProjectRoleNotGrantable(&'static str),
    /// R7: ownership goes only to a current administrator.
    #[error("ownership can be offered only to a current `admin` of the organization")]
    TransferTargetNotAdmin,
    /// R7: one pending offer at a time.
    #[error("an ownership transfer is already pending; cancel it first")]
    TransferPending,
    /// R7: there is no pending offer (or it is not addressed to the caller).
    #[error("there is no pending ownership transfer for you")]
    NoPendingTransfer,
    /// R7: the offer lapsed after 7 days.
    #[error("the ownership transfer offer has expired")]
    TransferExpired,
    /// The check API was asked for a revision this server has not reached.
    #[error("revision {0} does not exist yet")]
    RevisionAhead(u64),
    /// An account with this email exists.
    #[error("an account with email `{0}` already exists")]
    EmailTaken(String),
    /// A role with this name exists in the organization (or is built in).
    #[error("role name `{0}` is taken")]
    RoleNameTaken(String),
    /// The user is already a member.
    #[error("this user is already a member")]
    AlreadyMember,
    /// R4: the owner cannot leave.
    #[error("the owner cannot leave; transfer ownership first")]
    OwnerCannotLeave,
    /// R3: the owner cannot be removed or have their roles changed.
    #[error("the owner's membership changes only through an ownership transfer")]
    OwnerIsFixed,
    /// R3: `owner` is never given by a role change.
    #[error("`owner` is given only by accepting an ownership transfer")]
    OwnerNeedsTransfer,
    /// R5: the organization still has projects.
    #[error("the organization still has {0} project(s); delete them first")]
    OrgHasProjects(u64),
    /// R5: a personal organization cannot be deleted.
    #[error("a personal organization cannot be deleted or transferred")]
    PersonalOrg,
    /// A custom role still held by members cannot be deleted.
    #[error("role `{role}` is held by {members} member(s); change their roles first")]
    RoleInUse {
        /// The role's name.
        role: String,
        /// How many members hold it.
        members: u64,
    },
    /// The operation needs a sign-in session rather than an API token.
    #[error("this needs a sign-in session, not an API token")]
    SessionRequired,
    /// An API token limited to one organization cannot do this.
    #[error("this token is limited to one organization and cannot do this")]
    TokenLimited,
    /// Built-in roles are the same in every organization and cannot be edited.
    #[error("`{0}` is a built-in role and cannot be edited or deleted")]
    BuiltinRoleFixed(String),
    /// Part of the API that a later version brings.
    #[error("{0} is not available yet")]
    NotImplemented(&'static str),
    /// A plan amount is over its tier's limit.
    #[error("`{field}` is over the `{tier}` tier's limit of {max}")]
    PlanLimit {
        /// The request field (`storage_gb`, `environments`, `licenses`).
        field: &'static str,
        /// The tier.
        tier: String,
        /// The tier's limit.
        max: i64,
    },
    /// Something in the request looks like a full card number; it is neither stored nor logged.
    #[error(
        "`{0}` looks like a full card number; send only the brand, last four digits and expiry"
    )]
    CardNumberRefused(String),
    /// A VAT number without an EU prefix or with the wrong shape.
    #[error("`vat_number` {0}")]
    VatInvalid(String),
    /// The billing profile names a currency the plan catalog does not price in.
    #[error("currency `{given}` is not supported; the supported currency is `{supported}`")]
    CurrencyUnsupported {
        /// What was asked for.
        given: String,
        /// The catalog's currency.
        supported: String,
    },
    /// A voucher code that is unknown, expired, used up or for another organization.
    #[error("voucher code refused: {0}")]
    VoucherInvalid(String),
    /// The organization already redeemed this code.
    #[error("this organization has already redeemed this voucher code")]
    VoucherAlreadyRedeemed,
    /// Invoices are produced only for months that are over.
    #[error("month {0} is not over yet; only closed months are invoiced")]
    MonthNotClosed(String),
    /// R9: a second pending invitation to the same email in one organization is refused.
    #[error("an invitation to this email is already pending; re-send it instead")]
    InvitationPending,
    /// R9: an unknown, used, declined, revoked or re-sent-away invitation token (one answer for
    /// all, so a token tells nothing about what became of it).
    #[error("invitation not found")]
    InvitationNotFound,
    /// R9: the invitation lapsed after 7 days.
    #[error("the invitation has expired; ask for it to be re-sent")]
    InvitationExpired,
    /// R9: the signed-in account is not the one the invitation was sent to.
    #[error("this invitation was sent to another email address")]
    InvitationOtherEmail,
    /// R9: the invitation was already answered or revoked.
    #[error("the invitation is {0}")]
    InvitationClosed(&'static str),
    /// R10: an unknown or used password link.
    #[error("this password link is not valid (it may have been used already)")]
    PasswordLinkNotFound,
    /// R10: the password link lapsed after 24 hours.
    #[error("this password link has expired; ask for a new one")]
    PasswordLinkExpired,
}

impl DomainError {
    /// A single-field validation error.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        DomainError::Invalid(vec![FieldError::new(field, reason)])
    }
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn fields(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("`{}` {}", e.field, e.reason))
        .collect::<Vec<_>>()
        .join("; ")
}
