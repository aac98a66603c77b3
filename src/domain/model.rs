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
