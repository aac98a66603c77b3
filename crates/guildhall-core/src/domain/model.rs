//! The records the service reads and writes: accounts, organizations, tokens.

use super::ids::{GroupId, OrgId, ProjectId, TokenId, UserId};
use super::permission::PermSet;
use chrono::{DateTime, Utc};

/// A user account (SPEC §1). The password hash never leaves the store layer in this type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// The email as given at sign-up.
    pub email: String,
    /// The display name.
    pub name: String,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
    /// When the account was disabled, if it was.
    pub disabled_at: Option<DateTime<Utc>>,
}

/// An organization (SPEC §1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Org {
    /// Its id.
    pub id: OrgId,
    /// Its name as given.
    pub name: String,
    /// Its URL slug.
    pub slug: String,
    /// Whether it is a user's personal organization (R2, R5).
    pub personal: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// An organization with its owner, as the API shows it.
#[derive(Clone, Debug)]
pub struct OrgWithOwner {
    /// The organization.
    pub org: Org,
    /// Its one owner (R3).
    pub owner: User,
}

/// A personal access token's record; the secret itself is only ever in the creation answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    /// Its id.
    pub id: TokenId,
    /// Whose token it is.
    pub user: UserId,
    /// A name to recognise it by.
    pub name: String,
    /// The one organization it is limited to, if any.
    pub org: Option<OrgId>,
    /// The permissions it is limited to, if any (R6).
    pub permissions: Option<PermSet>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether it may ask the check API (within organizations where its owner holds
    /// `members.read`).
    pub can_check: bool,
}

/// A project owned by one organization (SPEC §1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    /// Its id.
    pub id: ProjectId,
    /// The organization that owns it.
    pub org: OrgId,
    /// Its name, unique within the organization.
    pub name: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// A group of one organization's members (SPEC §1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    /// Its id.
    pub id: GroupId,
    /// The organization it belongs to.
    pub org: OrgId,
    /// Its name, unique within the organization.
    pub name: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// Where an ownership transfer offer stands (R7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferState {
    /// Waiting for the receiver.
    Pending,
    /// The receiver became owner.
    Accepted,
    /// The receiver said no.
    Declined,
    /// The owner took it back.
    Cancelled,
    /// Nobody answered within 7 days.
    Expired,
}

impl TransferState {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TransferState::Pending => "pending",
            TransferState::Accepted => "accepted",
            TransferState::Declined => "declined",
            TransferState::Cancelled => "cancelled",
            TransferState::Expired => "expired",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            TransferState::Pending,
            TransferState::Accepted,
            TransferState::Declined,
            TransferState::Cancelled,
            TransferState::Expired,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// An offer of ownership from the owner to one administrator (SPEC §1, R7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// Its id.
    pub id: super::ids::TransferId,
    /// The organization.
    pub org: OrgId,
    /// The owner who made it.
    pub from: UserId,
    /// The administrator it is offered to.
    pub to: UserId,
    /// Its state as stored.
    pub state: TransferState,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it lapses.
    pub expires_at: DateTime<Utc>,
}

impl Transfer {
    /// Its state at `now`: a pending offer past its expiry is expired, with no job needed.
    pub fn state_at(&self, now: DateTime<Utc>) -> TransferState {
        if self.state == TransferState::Pending && now >= self.expires_at {
            TransferState::Expired
        } else {
            self.state
        }
    }
}
