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
    /// What to check when one is not found.
    pub fn hint(self) -> &'static str {
        match self {
            Kind::Org => "check its id or slug; you see only organizations you belong to",
            Kind::User => "check the user id",
            Kind::Member => "this user is not a member of the organization",
            Kind::Role => "use a built-in role or one of the organization's custom roles",
            Kind::Token => "list your tokens with GET /api/v1/tokens",
            Kind::Project => "check its id or name; you see only projects you reach",
            Kind::Group => "list the organization's groups with GET …/groups",
            Kind::Invoice => "list the organization's invoices with GET …/billing/invoices",
        }
    }

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
    #[error("{} not found; {}", .0.noun(), .0.hint())]
    NotFound(Kind),
    /// R10: adding by email someone who has no account.
    #[error(
        "no account has the email `{0}`; invite them (POST …/invitations) or register and add them \
         with `\"register\": true` and a `name`"
    )]
    NotRegistered(String),
    /// No valid credentials were presented.
    #[error(
        "authentication required; send `Authorization: Bearer <token>` with a session token \
         (POST /api/v1/sessions) or an API token"
    )]
    Unauthenticated,
    /// The session presented is over.
    #[error("your session expired; sign in again (POST /api/v1/sessions)")]
    SessionExpired,
    /// The API token presented has expired.
    #[error("this API token expired; create a new one (POST /api/v1/tokens)")]
    TokenExpired,
    /// The check API was given a credential it does not take.
    #[error(
        "the check API takes the service token (`--service-token`) or an API token created with \
         `\"check\": true`; a sign-in session is not accepted"
    )]
    CheckCredentialRequired,
    /// Sign-in failed; an unknown email and a wrong password are answered alike.
    #[error("email or password is wrong; check both, or set a new password at /password/forgot")]
    InvalidCredentials,
    /// Too many attempts: failed sign-ins for this account or from this address, or sign-ups or
    /// password-reset requests from this address.
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyAttempts {
        /// Seconds until the next attempt is considered.
        retry_after_secs: u64,
    },
    /// A member lacks the permission the action needs.
    #[error(
        "this needs the `{0}` permission; ask an owner or admin of the organization for a role that has it"
    )]
    Forbidden(Permission),
    /// R6: the actor may not grant this role; `who` says who may.
    #[error("you may not grant or take the role `{role}`: {who}")]
    RoleNotGrantable {
        /// The role's name.
        role: String,
        /// Who may grant it, as a sentence.
        who: &'static str,
    },
    /// R6: the actor does not hold these permissions, so cannot hand them out.
    #[error("you do not hold {}, so you cannot hand it out; ask someone who holds it", list(.0))]
    PermissionsNotHeld(Vec<&'static str>),
    /// R6: nobody changes their own roles.
    #[error("you cannot change your own roles; ask another admin of the organization")]
    OwnRoles,
    /// The request is malformed in the listed fields (R14).
    #[error("the request is invalid: {}", fields(.0))]
    Invalid(Vec<FieldError>),
    /// R1: organization name taken.
    #[error("organization name `{0}` is taken; choose another name")]
    OrgNameTaken(String),
    /// R1: slug taken.
    #[error("slug `{0}` is taken; choose another slug")]
    SlugTaken(String),
    /// A project with this name exists in the organization.
    #[error("project name `{0}` is taken in this organization; choose another name")]
    ProjectNameTaken(String),
    /// A group with this name exists in the organization.
    #[error("group name `{0}` is taken in this organization; choose another name")]
    GroupNameTaken(String),
    /// R6: the actor may not give (or take) this project role.
    #[error(
        "you may not give or take the project role `{0}` here: only someone whose own role on the \
         project is at least `{0}` may"
    )]
    ProjectRoleNotGrantable(&'static str),
    /// R7: ownership goes only to a current administrator.
    #[error(
        "ownership can be offered only to a current `admin` of the organization; make them an \
         admin first"
    )]
    TransferTargetNotAdmin,
    /// R7: one pending offer at a time.
    #[error("an ownership transfer is already pending; cancel it first")]
    TransferPending,
    /// R7: there is no pending offer (or it is not addressed to the caller).
    #[error(
        "there is no pending ownership transfer for you; the owner offers one with POST …/transfer"
    )]
    NoPendingTransfer,
    /// R7: the offer lapsed after 7 days.
    #[error("the ownership transfer offer has expired; ask the owner to offer it again")]
    TransferExpired,
    /// The check API was asked for a revision this server has not reached.
    #[error(
        "revision {0} does not exist yet; pass a revision a write answered in `Guildhall-Revision`"
    )]
    RevisionAhead(u64),
    /// An account with this email exists.
    #[error("an account with email `{0}` already exists; sign in, or reset its password")]
    EmailTaken(String),
    /// A role with this name exists in the organization (or is built in).
    #[error("role name `{0}` is taken; choose another name")]
    RoleNameTaken(String),
    /// The user is already a member.
    #[error("this user is already a member; change their roles instead (PATCH …/members/{{user}})")]
    AlreadyMember,
    /// R4: the owner cannot leave (a personal organization's owner, never).
    #[error("{}", if *personal {
        "a personal organization cannot be left: it belongs to your account"
    } else {
        "the owner cannot leave; transfer ownership to an admin first (POST …/transfer)"
    })]
    OwnerCannotLeave {
        /// Whether the organization is the owner's personal one.
        personal: bool,
    },
    /// R3: the owner cannot be removed or have their roles changed.
    #[error(
        "the owner's roles and membership are fixed: only an ownership transfer (POST …/transfer) \
         changes them"
    )]
    OwnerIsFixed,
    /// R3: `owner` is never given by a role change.
    #[error(
        "`owner` is given only by accepting an ownership transfer; the owner offers it with POST …/transfer"
    )]
    OwnerNeedsTransfer,
    /// R5: the organization still has projects.
    #[error("the organization still has {0} project(s); delete them first")]
    OrgHasProjects(u64),
    /// R5: a personal organization cannot be deleted.
    #[error(
        "a personal organization cannot be deleted or transferred; create an organization to share \
         instead"
    )]
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
    #[error("this needs a sign-in session, not an API token; sign in (POST /api/v1/sessions)")]
    SessionRequired,
    /// SPEC §5: an account holds at most this many live API tokens.
    #[error(
        "you already hold {0} live API tokens, the most an account may; revoke some first (list \
         them with GET /api/v1/tokens, revoke one with DELETE /api/v1/tokens/{{id}})"
    )]
    TooManyTokens(u64),
    /// An API token limited to one organization cannot do this.
    #[error(
        "this token is limited to one organization and cannot do this; use a session or an unlimited token"
    )]
    TokenLimited,
    /// Built-in roles are the same in every organization and cannot be edited.
    #[error(
        "`{0}` is a built-in role and cannot be edited or deleted; create a custom role instead"
    )]
    BuiltinRoleFixed(String),
    /// Part of the API that a later version brings.
    #[error("{0} is not available yet: a later version of Guildhall brings it")]
    NotImplemented(&'static str),
    /// A plan amount is over its tier's limit.
    #[error(
        "`{field}` is over the `{tier}` tier's limit of {max}; lower it or choose a larger tier (GET /api/v1/plans)"
    )]
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
    #[error("`vat_number` {0}; give it with its country prefix, e.g. `DE123456789`")]
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
    #[error("voucher code refused: {0}; check the code with whoever gave it to you")]
    VoucherInvalid(String),
    /// The organization already redeemed this code.
    #[error(
        "this organization has already redeemed this voucher code; each code counts once per organization"
    )]
    VoucherAlreadyRedeemed,
    /// A void invoice is never paid (its number given).
    #[error("invoice `{0}` is void; a void invoice cannot be marked paid")]
    InvoiceVoid(String),
    /// A paid invoice is never voided (its number given).
    #[error("invoice `{0}` is paid; a paid invoice cannot be voided")]
    InvoicePaid(String),
    /// Invoices are produced only for months that are over.
    #[error(
        "month {0} is not over yet; only closed months are invoiced (see the upcoming invoice for this month)"
    )]
    MonthNotClosed(String),
    /// R9: a second pending invitation to the same email in one organization is refused.
    #[error("an invitation to this email is already pending; re-send it instead")]
    InvitationPending,
    /// R9: an unknown, used, declined, revoked or re-sent-away invitation token (one answer for
    /// all, so a token tells nothing about what became of it).
    #[error(
        "invitation not found; it may have been answered, revoked or re-sent: use the newest mail"
    )]
    InvitationNotFound,
    /// R9: the invitation lapsed after 7 days.
    #[error("the invitation has expired; ask for it to be re-sent")]
    InvitationExpired,
    /// R9: the signed-in account is not the one the invitation was sent to.
    #[error(
        "this invitation was sent to another email address; sign in with the address it was sent to"
    )]
    InvitationOtherEmail,
    /// R9: the invitation was already answered or revoked.
    #[error("the invitation is {0}; ask for a new one")]
    InvitationClosed(&'static str),
    /// R10: an unknown or used password link.
    #[error(
        "this password link is not valid (it may have been used already); ask for a new one at /password/forgot"
    )]
    PasswordLinkNotFound,
    /// ASVS 6.2.4: the new password is common, guessable, or the account's own email or name
    /// (`password::NewPassword::choose`).
    #[error(
        "this password {}: it would be among an attacker's first guesses; choose a longer \
         passphrase, such as four or more uncommon words, without your email address or name",
        .0.why()
    )]
    WeakPassword(super::password::Weakness),
    /// R10: the password link lapsed after 24 hours.
    #[error("this password link has expired; ask for a new one at /password/forgot")]
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
