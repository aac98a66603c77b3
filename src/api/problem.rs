//! Errors on the wire: `application/problem+json` (RFC 9457) with a stable `code`. Every status
//! and code is decided in `describe`, one match; codes are never renamed.

use crate::domain::error::Kind;
use crate::domain::{DomainError, FieldError};
use crate::store::{Constraint, StoreError};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

tokio::task_local! {
    /// The id of the request being handled (as its `x-request-id` answer header), for 500
    /// answers and their log line.
    pub static REQUEST_ID: HeaderValue;
}

/// A problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Always `about:blank`: `code` says what happened.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// A short summary of the status.
    pub title: &'static str,
    /// The HTTP status.
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    /// What went wrong, for a person.
    pub detail: String,
    /// Stable, snake_case; clients branch on this.
    pub code: &'static str,
    /// The offending fields, for `validation_failed`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(schema_with = super::openapi::field_errors_schema)]
    pub errors: Vec<FieldError>,
    /// For `org_has_projects`: how many projects remain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projects: Option<u64>,
    /// For `role_in_use`: how many members hold the role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<u64>,
    /// For a 500: the id to quote when reporting it; the cause is in the server's log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error on its way to becoming a problem document.
#[derive(Debug)]
pub enum ApiError {
    /// A rule refused.
    Domain(DomainError),
    /// The store failed, or a constraint caught a concurrent change.
    Store(StoreError),
    /// Something unexpected failed underneath.
    Internal(String),
    /// The edge refused before any use case ran (bad JSON, unknown route, body too large).
    Edge {
        /// The status.
        status: StatusCode,
        /// The stable code.
        code: &'static str,
        /// What went wrong.
        detail: String,
    },
}

impl ApiError {
    /// An error decided at the edge.
    pub fn edge(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::Edge {
            status,
            code,
            detail: detail.into(),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Domain(e)
    }
}

impl From<crate::service::Error> for ApiError {
    fn from(e: crate::service::Error) -> Self {
        use crate::service::Error as S;
        match e {
            S::Domain(e) => ApiError::Domain(e),
            S::Store(e) => ApiError::Store(e),
            S::Internal(why) => ApiError::Internal(why),
        }
    }
}

impl From<Vec<FieldError>> for ApiError {
    fn from(errors: Vec<FieldError>) -> Self {
        ApiError::Domain(DomainError::Invalid(errors))
    }
}

/// The HTTP status a refusal answers with (the console's pages answer with it too).
pub fn status_of(e: &DomainError) -> StatusCode {
    describe(e).0
}

/// The status and stable code of each refusal.
fn describe(e: &DomainError) -> (StatusCode, &'static str) {
    use DomainError as E;
    match e {
        E::NotFound(Kind::Org) => (StatusCode::NOT_FOUND, "org_not_found"),
        E::NotFound(Kind::User) => (StatusCode::NOT_FOUND, "user_not_found"),
        E::NotFound(Kind::Member) => (StatusCode::NOT_FOUND, "member_not_found"),
        E::NotFound(Kind::Role) => (StatusCode::NOT_FOUND, "role_not_found"),
        E::NotFound(Kind::Token) => (StatusCode::NOT_FOUND, "token_not_found"),
        E::NotFound(Kind::Project) => (StatusCode::NOT_FOUND, "project_not_found"),
        E::NotFound(Kind::Group) => (StatusCode::NOT_FOUND, "group_not_found"),
        // One code for every missing or dead credential; the detail says which and what to do.
        E::Unauthenticated | E::CheckCredentialRequired | E::SessionExpired | E::TokenExpired => {
            (StatusCode::UNAUTHORIZED, "unauthenticated")
        }
        E::NotRegistered(_) => (StatusCode::NOT_FOUND, "user_not_found"),
        E::InvalidCredentials => (StatusCode::UNAUTHORIZED, "invalid_credentials"),
        E::TooManyAttempts { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
        E::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        E::RoleNotGrantable { .. } => (StatusCode::FORBIDDEN, "role_not_grantable"),
        E::PermissionsNotHeld(_) => (StatusCode::FORBIDDEN, "permission_not_held"),
        E::OwnRoles => (StatusCode::FORBIDDEN, "cannot_change_own_roles"),
        E::SessionRequired => (StatusCode::FORBIDDEN, "session_required"),
        E::TokenLimited => (StatusCode::FORBIDDEN, "token_limited"),
        E::TooManyTokens(_) => (StatusCode::CONFLICT, "token_limit_reached"),
        E::Invalid(_) => (StatusCode::BAD_REQUEST, "validation_failed"),
        E::OrgNameTaken(_) => (StatusCode::CONFLICT, "name_taken"),
        E::SlugTaken(_) => (StatusCode::CONFLICT, "slug_taken"),
        E::EmailTaken(_) => (StatusCode::CONFLICT, "email_taken"),
        E::RoleNameTaken(_) => (StatusCode::CONFLICT, "role_name_taken"),
        E::ProjectNameTaken(_) => (StatusCode::CONFLICT, "project_name_taken"),
        E::GroupNameTaken(_) => (StatusCode::CONFLICT, "group_name_taken"),
        E::ProjectRoleNotGrantable(_) => (StatusCode::FORBIDDEN, "role_not_grantable"),
        E::TransferTargetNotAdmin => (StatusCode::CONFLICT, "transfer_target_not_admin"),
        E::TransferPending => (StatusCode::CONFLICT, "transfer_pending"),
        E::NoPendingTransfer => (StatusCode::NOT_FOUND, "transfer_not_found"),
        E::TransferExpired => (StatusCode::GONE, "transfer_expired"),
        E::RevisionAhead(_) => (StatusCode::BAD_REQUEST, "revision_ahead"),
        E::AlreadyMember => (StatusCode::CONFLICT, "already_member"),
        E::OwnerCannotLeave { .. } => (StatusCode::CONFLICT, "owner_cannot_leave"),
        E::OwnerIsFixed => (StatusCode::CONFLICT, "owner_is_fixed"),
        E::OwnerNeedsTransfer => (StatusCode::CONFLICT, "owner_requires_transfer"),
        E::OrgHasProjects(_) => (StatusCode::CONFLICT, "org_has_projects"),
        E::PersonalOrg => (StatusCode::CONFLICT, "personal_org"),
        E::RoleInUse { .. } => (StatusCode::CONFLICT, "role_in_use"),
        E::BuiltinRoleFixed(_) => (StatusCode::CONFLICT, "builtin_role"),
        E::NotImplemented(_) => (StatusCode::NOT_IMPLEMENTED, "not_implemented"),
        E::NotFound(Kind::Invoice) => (StatusCode::NOT_FOUND, "invoice_not_found"),
        E::PlanLimit { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "plan_limit_exceeded"),
        E::CardNumberRefused(_) => (StatusCode::UNPROCESSABLE_ENTITY, "card_number_refused"),
        E::VatInvalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "vat_invalid"),
        E::CurrencyUnsupported { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "currency_unsupported"),
        E::VoucherInvalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "voucher_invalid"),
        E::VoucherAlreadyRedeemed => (StatusCode::CONFLICT, "voucher_already_redeemed"),
        E::InvoiceVoid(_) => (StatusCode::CONFLICT, "invoice_void"),
        E::InvoicePaid(_) => (StatusCode::CONFLICT, "invoice_paid"),
        E::MonthNotClosed(_) => (StatusCode::UNPROCESSABLE_ENTITY, "month_not_closed"),
        E::InvitationPending => (StatusCode::CONFLICT, "invitation_pending"),
        E::InvitationNotFound => (StatusCode::NOT_FOUND, "invitation_not_found"),
        E::InvitationExpired => (StatusCode::GONE, "invitation_expired"),
        E::InvitationOtherEmail => (StatusCode::FORBIDDEN, "invitation_other_email"),
        E::InvitationClosed(_) => (StatusCode::CONFLICT, "invitation_closed"),
        E::PasswordLinkNotFound => (StatusCode::NOT_FOUND, "password_token_not_found"),
        E::PasswordLinkExpired => (StatusCode::GONE, "password_token_expired"),
        E::WeakPassword(_) => (StatusCode::BAD_REQUEST, "password_too_weak"),
    }
}

/// The status and stable code of a failure underneath; `None`: a 500.
fn describe_store(e: &StoreError) -> Option<(StatusCode, &'static str)> {
    match e {
        // A constraint caught what a concurrent request changed between check and write; the
        // ones a rule names were mapped to its refusal already (`service::lost_race`).
        StoreError::Conflict(Constraint::InvitationPending) => {
            Some((StatusCode::CONFLICT, "invitation_pending"))
        }
        StoreError::Conflict(Constraint::OneOwner) => {
            Some((StatusCode::CONFLICT, "owner_is_fixed"))
        }
        StoreError::Conflict(_) => Some((StatusCode::CONFLICT, "conflict")),
        StoreError::Busy => Some((StatusCode::SERVICE_UNAVAILABLE, "busy")),
        StoreError::ShuttingDown => Some((StatusCode::SERVICE_UNAVAILABLE, "shutting_down")),
        StoreError::Unavailable(_) => Some((StatusCode::SERVICE_UNAVAILABLE, "store_unavailable")),
        StoreError::StorageFull => Some((StatusCode::INSUFFICIENT_STORAGE, "storage_full")),
        _ => None,
    }
}

fn problem(status: StatusCode, code: &'static str, detail: String) -> Problem {
    Problem {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Error"),
        status: status.as_u16(),
        detail,
        code,
        errors: Vec::new(),
        projects: None,
        members: None,
        request_id: None,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (body, retry_after) = match self {
            ApiError::Edge {
                status,
                code,
                detail,
            } => (problem(status, code, detail), None),
            ApiError::Domain(e) => {
                let (status, code) = describe(&e);
                let mut body = problem(status, code, e.to_string());
                let mut retry_after = None;
                match &e {
                    DomainError::Invalid(errors) => body.errors = errors.clone(),
                    DomainError::OrgHasProjects(n) => body.projects = Some(*n),
                    DomainError::RoleInUse { members, .. } => body.members = Some(*members),
                    DomainError::TooManyAttempts { retry_after_secs } => {
                        retry_after = Some(*retry_after_secs);
                    }
                    DomainError::PlanLimit { field, max, .. } => {
                        body.errors = vec![FieldError::new(*field, format!("at most {max}"))];
                    }
                    DomainError::CardNumberRefused(field) => {
                        body.errors =
                            vec![FieldError::new(field.clone(), "looks like a card number")];
                    }
                    DomainError::VatInvalid(reason) => {
                        body.errors = vec![FieldError::new("vat_number", reason.clone())];
                    }
                    DomainError::WeakPassword(w) => {
                        body.errors = vec![FieldError::new("password", w.why())];
                    }
                    DomainError::CurrencyUnsupported { .. } => {
                        body.errors = vec![FieldError::new("currency", e.to_string())];
                    }
                    _ => {}
                }
                (body, retry_after)
            }
            ApiError::Store(e) => match describe_store(&e) {
                Some((status, code)) => {
                    let detail = match &e {
                        StoreError::Conflict(_) => {
                            "a concurrent change got there first; read again and retry".to_owned()
                        }
                        // The driver's words stay in the log: they may name hosts and ports.
                        StoreError::Unavailable(why) => {
                            tracing::warn!(error = %why, "the database is unavailable");
                            "the database is unavailable for a moment; retry after the \
                             Retry-After delay"
                                .to_owned()
                        }
                        StoreError::StorageFull => {
                            tracing::error!("the database's disk is full; free space on it");
                            "the server's storage is full: nothing can be saved until its \
                             operator frees space; reads still work"
                                .to_owned()
                        }
                        other => other.to_string(),
                    };
                    let retry_after = match e {
                        StoreError::Busy => Some(1),
                        StoreError::Unavailable(_) => Some(2),
                        StoreError::StorageFull => Some(30),
                        _ => None,
                    };
                    (problem(status, code, detail), retry_after)
                }
                None => (internal(&ErrorChain(&e)), None),
            },
            ApiError::Internal(why) => (internal(&why), None),
        };
        let status = StatusCode::from_u16(body.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// A 500: the cause is logged once, here, with the id the client is given; never shown.
fn internal(cause: &dyn std::fmt::Display) -> Problem {
    let id = REQUEST_ID
        .try_with(|v| v.to_str().ok().map(str::to_owned))
        .ok()
        .flatten()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    tracing::error!(request.id = %id, error = %cause, "request failed");
    let status = StatusCode::INTERNAL_SERVER_ERROR;
    let mut body = problem(
        status,
        "internal",
        format!("internal error; quote request id {id} when reporting it"),
    );
    body.request_id = Some(id);
    body
}

/// `e` and its sources, for the log.
pub(crate) struct ErrorChain<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&error_chain(self.0))
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::password::Weakness;
    use crate::domain::permission::Permission;
    use DomainError as E;

    /// One of each refusal. A variant added to `DomainError` fails to compile in `covered`
    /// below until it is listed there, and so here.
    fn every_refusal() -> Vec<DomainError> {
        let kinds = [
            Kind::Org,
            Kind::User,
            Kind::Member,
            Kind::Role,
            Kind::Token,
            Kind::Project,
            Kind::Group,
            Kind::Invoice,
        ];
        let mut all: Vec<DomainError> = kinds.into_iter().map(E::NotFound).collect();
        all.extend([
            E::NotRegistered("bob@example.com".into()),
            E::Unauthenticated,
            E::SessionExpired,
            E::TokenExpired,
            E::CheckCredentialRequired,
            E::InvalidCredentials,
            E::TooManyAttempts {
                retry_after_secs: 30,
            },
            E::Forbidden(Permission::BillingRead),
            E::RoleNotGrantable {
                role: "billing".into(),
                who: "only the owner may",
            },
            E::PermissionsNotHeld(vec!["billing.read"]),
            E::OwnRoles,
            E::invalid("name", "must not be empty"),
            E::OrgNameTaken("Acme".into()),
            E::SlugTaken("acme".into()),
            E::ProjectNameTaken("web".into()),
            E::GroupNameTaken("ops".into()),
            E::ProjectRoleNotGrantable("admin"),
            E::TransferTargetNotAdmin,
            E::TransferPending,
            E::NoPendingTransfer,
            E::TransferExpired,
            E::RevisionAhead(9),
            E::EmailTaken("ada@example.com".into()),
            E::RoleNameTaken("ops".into()),
            E::AlreadyMember,
            E::OwnerCannotLeave { personal: false },
            E::OwnerCannotLeave { personal: true },
            E::OwnerIsFixed,
            E::OwnerNeedsTransfer,
            E::OrgHasProjects(2),
            E::PersonalOrg,
            E::RoleInUse {
                role: "ops".into(),
                members: 3,
            },
            E::SessionRequired,
            E::TokenLimited,
            E::TooManyTokens(100),
            E::BuiltinRoleFixed("admin".into()),
            E::NotImplemented("webhooks"),
            E::PlanLimit {
                field: "storage_gb",
                tier: "starter".into(),
                max: 50,
            },
            E::CardNumberRefused("payment_method.last4".into()),
            E::VatInvalid("does not have the format of a `DE` VAT number".into()),
            E::CurrencyUnsupported {
                given: "USD".into(),
                supported: "EUR".into(),
            },
            E::VoucherInvalid("the voucher has been used up".into()),
            E::VoucherAlreadyRedeemed,
            E::InvoiceVoid("INV-000001".into()),
            E::InvoicePaid("INV-000001".into()),
            E::MonthNotClosed("2026-12".into()),
            E::InvitationPending,
            E::InvitationNotFound,
            E::InvitationExpired,
            E::InvitationOtherEmail,
            E::InvitationClosed("declined"),
            E::PasswordLinkNotFound,
            E::PasswordLinkExpired,
        ]);
        all.extend(
            [
                Weakness::Personal,
                Weakness::Common,
                Weakness::CommonVariant,
                Weakness::Keyboard,
                Weakness::Repeat,
                Weakness::Sequence,
                Weakness::Date,
                Weakness::Word,
                Weakness::Name,
                Weakness::Guessable,
            ]
            .map(E::WeakPassword),
        );
        all
    }

    #[allow(dead_code)]
    fn covered(e: DomainError) {
        match e {
            E::NotFound(_)
            | E::NotRegistered(_)
            | E::Unauthenticated
            | E::SessionExpired
            | E::TokenExpired
            | E::CheckCredentialRequired
            | E::InvalidCredentials
            | E::TooManyAttempts { .. }
            | E::Forbidden(_)
            | E::RoleNotGrantable { .. }
            | E::PermissionsNotHeld(_)
            | E::OwnRoles
            | E::Invalid(_)
            | E::OrgNameTaken(_)
            | E::SlugTaken(_)
            | E::ProjectNameTaken(_)
            | E::GroupNameTaken(_)
            | E::ProjectRoleNotGrantable(_)
            | E::TransferTargetNotAdmin
            | E::TransferPending
            | E::NoPendingTransfer
            | E::TransferExpired
            | E::RevisionAhead(_)
            | E::EmailTaken(_)
            | E::RoleNameTaken(_)
            | E::AlreadyMember
            | E::OwnerCannotLeave { .. }
            | E::OwnerIsFixed
            | E::OwnerNeedsTransfer
            | E::OrgHasProjects(_)
            | E::PersonalOrg
            | E::RoleInUse { .. }
            | E::SessionRequired
            | E::TokenLimited
            | E::TooManyTokens(_)
            | E::BuiltinRoleFixed(_)
            | E::NotImplemented(_)
            | E::PlanLimit { .. }
            | E::CardNumberRefused(_)
            | E::VatInvalid(_)
            | E::CurrencyUnsupported { .. }
            | E::VoucherInvalid(_)
            | E::VoucherAlreadyRedeemed
            | E::InvoiceVoid(_)
            | E::InvoicePaid(_)
            | E::MonthNotClosed(_)
            | E::InvitationPending
            | E::InvitationNotFound
            | E::InvitationExpired
            | E::InvitationOtherEmail
            | E::InvitationClosed(_)
            | E::PasswordLinkNotFound
            | E::PasswordLinkExpired
            | E::WeakPassword(_) => {}
        }
    }

    /// Every code of the table answers a detail a person can act on: what went wrong, then
    /// (after `;` or `:`) what to do or who may, in at least a few words, with no secret.
    #[test]
    fn every_problem_code_has_a_detail_that_says_what_to_do() {
        let mut codes = std::collections::BTreeSet::new();
        for e in every_refusal() {
            let (status, code) = describe(&e);
            codes.insert(code);
            let detail = e.to_string();
            assert!(
                status.is_client_error() || status == StatusCode::NOT_IMPLEMENTED,
                "{code}"
            );
            assert!(
                detail.split_whitespace().count() >= 6,
                "`{code}` says too little: {detail}"
            );
            assert!(
                detail.contains("; ") || detail.contains(": "),
                "`{code}` does not say what to do next: {detail}"
            );
            assert!(!detail.ends_with('.'), "`{code}`: {detail}");
        }
        // Every code the table names is reached by an example above.
        assert!(codes.len() >= 45, "{codes:?}");
        let store = [
            StoreError::Conflict(Constraint::OneOwner),
            StoreError::Conflict(Constraint::InvitationPending),
            StoreError::Busy,
            StoreError::ShuttingDown,
            StoreError::Unavailable("connection refused".to_owned()),
            StoreError::StorageFull,
        ];
        for e in store {
            let (status, code) = describe_store(&e).expect("a 4xx or 503");
            assert!(status.as_u16() >= 400, "{code}");
        }
    }
}
