//! Invitations (R9) and one-time password links (R10, "forgot password"): the records, their
//! states, how long they live, and the rules for answering them. Expiry is computed from `now`,
//! so no background job is needed for correctness.

use super::DomainError;
use super::ids::{InvitationId, OrgId, UserId};
use chrono::{DateTime, Duration, Utc};

/// R9: an invitation is valid 7 days from when it was made or last re-sent.
pub const INVITATION_VALIDITY: Duration = Duration::days(7);

/// R10: a set-password or reset link is valid 24 hours.
pub const PASSWORD_LINK_VALIDITY: Duration = Duration::hours(24);

/// A new reset link is mailed at most this often per account; asking again sooner is answered
/// the same way but sends nothing, so the route cannot be used to flood someone's mailbox.
pub const RESET_MIN_INTERVAL: Duration = Duration::minutes(1);

/// Where an invitation stands (SPEC §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationState {
    /// Waiting for an answer.
    Pending,
    /// Accepted: the invitee became a member.
    Accepted,
    /// The invitee said no.
    Declined,
    /// Taken back by the organization.
    Revoked,
    /// Not answered within 7 days.
    Expired,
}

impl InvitationState {
    /// The wire and stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationState::Pending => "pending",
            InvitationState::Accepted => "accepted",
            InvitationState::Declined => "declined",
            InvitationState::Revoked => "revoked",
            InvitationState::Expired => "expired",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            InvitationState::Pending,
            InvitationState::Accepted,
            InvitationState::Declined,
            InvitationState::Revoked,
            InvitationState::Expired,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// Whether the invitation's mail went out: `pending` while it is being sent or retried, `sent`,
/// or `failed` after the last attempt (the inviter can re-send).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailState {
    /// Being sent, or waiting for the next attempt.
    Pending,
    /// Handed to the mail transport.
    Sent,
    /// Every attempt failed.
    Failed,
}

impl MailState {
    /// The wire and stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            MailState::Pending => "pending",
            MailState::Sent => "sent",
            MailState::Failed => "failed",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [MailState::Pending, MailState::Sent, MailState::Failed]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// An invitation to join an organization (SPEC §1, R9). Its token is never here: only its hash is
/// stored, and the secret travels only in the mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invitation {
    /// Its id.
    pub id: InvitationId,
    /// The organization.
    pub org: OrgId,
    /// The address as the inviter typed it.
    pub email: String,
    /// The address's comparison key (lowercase).
    pub email_key: String,
    /// The roles it gives, as stored: built-in role names or custom role ids.
    pub roles: Vec<String>,
    /// Who invited (gone if that account was deleted).
    pub invited_by: Option<UserId>,
    /// Its state as stored.
    pub state: InvitationState,
    /// Whether its latest mail went out.
    pub mail: MailState,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it lapses.
    pub expires_at: DateTime<Utc>,
}

impl Invitation {
    /// Its state at `now`: a pending invitation past its expiry is expired, with no job needed.
    pub fn state_at(&self, now: DateTime<Utc>) -> InvitationState {
        if self.state == InvitationState::Pending && now >= self.expires_at {
            InvitationState::Expired
        } else {
            self.state
        }
    }
}

/// R9: an invitation found by its token can be answered only while pending and unexpired. A used,
/// declined or revoked one answers exactly like an unknown token, so a token tells nothing about
/// what became of it; an expired one says so (410).
pub fn r9_answerable(inv: &Invitation, now: DateTime<Utc>) -> Result<(), DomainError> {
    match inv.state_at(now) {
        InvitationState::Pending => Ok(()),
        InvitationState::Expired => Err(DomainError::InvitationExpired),
        _ => Err(DomainError::InvitationNotFound),
    }
}

/// R9: only the account whose email the invitation was sent to may accept or decline it while
/// signed in.
pub fn r9_addressee(inv: &Invitation, signed_in_email_key: &str) -> Result<(), DomainError> {
    if inv.email_key == signed_in_email_key {
        Ok(())
    } else {
        Err(DomainError::InvitationOtherEmail)
    }
}

/// R9: re-sending and revoking apply to invitations nobody answered yet; an expired one may be
/// re-sent (it is renewed) or revoked.
pub fn r9_still_open(inv: &Invitation) -> Result<(), DomainError> {
    if inv.state == InvitationState::Pending {
        Ok(())
    } else {
        Err(DomainError::InvitationClosed(inv.state.as_str()))
    }
}

/// What a one-time password link is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordPurpose {
    /// R10: the first password of an account someone else registered.
    Set,
    /// "Forgot password": a new password for an existing account.
    Reset,
}

impl PasswordPurpose {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PasswordPurpose::Set => "set",
            PasswordPurpose::Reset => "reset",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "set" => Some(PasswordPurpose::Set),
            "reset" => Some(PasswordPurpose::Reset),
            _ => None,
        }
    }
}

/// A one-time password link as stored (its secret only as a hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordLink {
    /// Whose password it sets.
    pub user: UserId,
    /// What it is for.
    pub purpose: PasswordPurpose,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it lapses.
    pub expires_at: DateTime<Utc>,
}

/// R10: a password link works once, within 24 hours.
pub fn r10_link_usable(link: &PasswordLink, now: DateTime<Utc>) -> Result<(), DomainError> {
    if now >= link.expires_at {
        Err(DomainError::PasswordLinkExpired)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(state: InvitationState, now: DateTime<Utc>) -> Invitation {
        Invitation {
            id: InvitationId(uuid::Uuid::now_v7()),
            org: OrgId(uuid::Uuid::now_v7()),
            email: "Ada@Example.com".into(),
            email_key: "ada@example.com".into(),
            roles: vec!["member".into()],
            invited_by: None,
            state,
            mail: MailState::Pending,
            created_at: now,
            expires_at: now + INVITATION_VALIDITY,
        }
    }

    #[test]
    fn r9_a_pending_invitation_expires_after_seven_days_without_a_job() {
        let now = Utc::now();
        let inv = invitation(InvitationState::Pending, now);
        assert!(r9_answerable(&inv, now + Duration::days(7) - Duration::seconds(1)).is_ok());
        assert!(matches!(
            r9_answerable(&inv, now + Duration::days(7)),
            Err(DomainError::InvitationExpired)
        ));
        assert_eq!(
            inv.state_at(now + Duration::days(8)),
            InvitationState::Expired
        );
    }

    #[test]
    fn r9_used_declined_and_revoked_invitations_answer_like_unknown_tokens() {
        let now = Utc::now();
        for s in [
            InvitationState::Accepted,
            InvitationState::Declined,
            InvitationState::Revoked,
        ] {
            assert!(matches!(
                r9_answerable(&invitation(s, now), now),
                Err(DomainError::InvitationNotFound)
            ));
            assert!(r9_still_open(&invitation(s, now)).is_err());
        }
        assert!(
            r9_still_open(&invitation(
                InvitationState::Pending,
                now - Duration::days(30)
            ))
            .is_ok()
        );
    }

    #[test]
    fn r9_only_the_addressee_answers() {
        let inv = invitation(InvitationState::Pending, Utc::now());
        assert!(r9_addressee(&inv, "ada@example.com").is_ok());
        assert!(matches!(
            r9_addressee(&inv, "eve@example.com"),
            Err(DomainError::InvitationOtherEmail)
        ));
    }

    #[test]
    fn r10_a_password_link_lapses_after_24_hours() {
        let now = Utc::now();
        let link = PasswordLink {
            user: UserId(uuid::Uuid::now_v7()),
            purpose: PasswordPurpose::Set,
            created_at: now,
            expires_at: now + PASSWORD_LINK_VALIDITY,
        };
        assert!(r10_link_usable(&link, now + Duration::hours(23)).is_ok());
        assert!(r10_link_usable(&link, now + Duration::hours(24)).is_err());
    }
}
