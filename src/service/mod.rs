//! Use cases, one function each: open a transaction, load the facts (locked), ask the rule,
//! write, append the audit event, commit. The API, the console and the CLI all come through here.

pub mod audit;
pub mod billing;
pub mod check;
pub mod groups;
pub mod index;
pub mod invitations;
pub mod members;
pub mod orgs;
pub mod outbox;
pub mod passwords;
pub mod projects;
pub mod revision;
pub mod roles;
pub mod sessions;
mod throttle;
pub use throttle::AddressLimits;
pub mod tokens;
pub mod transfer;
pub mod users;

use crate::clock::Clock;
use crate::domain::DomainError;
use crate::domain::audit::{Actor, AuditEvent};
use crate::domain::error::Kind;
use crate::domain::ids::{OrgId, SessionId, UserId};
use crate::domain::model::{ApiToken, OrgWithOwner, User};
use crate::domain::rules::{ActorFacts, MemberFacts};
use crate::secret::PasswordHasher;
use crate::store::{After, Committed, Constraint, Store, StoreError, Tx};
use std::sync::Arc;

/// Result of a use case.
pub type Result<T> = std::result::Result<T, Error>;

/// Why a use case did not succeed: a rule refused, or something underneath failed. The API maps
/// each to a problem in one place (`api::problem`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rule refused (R1–R14), or the request is invalid.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The store failed, or a constraint caught what a concurrent request changed between the
    /// check and the write.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else unexpected (password hashing, a task that panicked).
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<Vec<crate::domain::FieldError>> for Error {
    fn from(errors: Vec<crate::domain::FieldError>) -> Self {
        Error::Domain(DomainError::Invalid(errors))
    }
}

/// What a write named, so that a unique key it lost to a concurrent request is refused as the
/// checked case is.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Named<'a> {
    /// An organization's name and slug (R1).
    Org {
        /// The name.
        name: &'a str,
        /// The slug.
        slug: &'a str,
    },
    /// An account's email.
    Email(&'a str),
    /// A custom role's name.
    Role(&'a str),
    /// A project's name.
    Project(&'a str),
    /// A group's name.
    Group(&'a str),
    /// A voucher's code.
    Voucher(&'a str),
    /// Nothing by name: a membership or a pending invitation (R9).
    Nothing,
}

/// The one map from the store's named constraints to the rules' refusals: a race lost to another
/// request (another process, on PostgreSQL) answers what the check before the write would have.
/// Constraints no rule names stay store conflicts (409 `conflict`).
pub(crate) fn lost_race(e: impl Into<Error>, named: Named<'_>) -> Error {
    let e = e.into();
    let Error::Store(StoreError::Conflict(constraint)) = &e else {
        return e;
    };
    let refusal = match (*constraint, named) {
        (Constraint::OrgName, Named::Org { name, .. }) => DomainError::OrgNameTaken(name.into()),
        (Constraint::OrgSlug, Named::Org { slug, .. }) => DomainError::SlugTaken(slug.into()),
        (Constraint::UserEmail, Named::Email(email)) => DomainError::EmailTaken(email.into()),
        (Constraint::RoleName, Named::Role(name)) => DomainError::RoleNameTaken(name.into()),
        (Constraint::ProjectName, Named::Project(name)) => {
            DomainError::ProjectNameTaken(name.into())
        }
        (Constraint::GroupName, Named::Group(name)) => DomainError::GroupNameTaken(name.into()),
        (Constraint::VoucherCode, Named::Voucher(code)) => {
            DomainError::invalid("code", format!("voucher `{code}` already exists"))
        }
        (Constraint::VoucherRedeemed, _) => DomainError::VoucherAlreadyRedeemed,
        (Constraint::Membership, _) => DomainError::AlreadyMember,
        (Constraint::InvitationPending, _) => DomainError::InvitationPending,
        _ => return e,
    };
    Error::Domain(refusal)
}

/// Largest page a list answers.
pub const MAX_PAGE: u32 = 100;
/// Page size when none is asked for.
pub const DEFAULT_PAGE: u32 = 50;

/// Everything the use cases need, shared by all requests.
#[derive(Clone)]
pub struct Guildhall {
    /// The database.
    pub store: Arc<dyn Store>,
    /// The password hasher.
    pub hasher: PasswordHasher,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// How long a sign-in session lasts.
    pub session_ttl: chrono::Duration,
    /// How long API tokens live: by default, and at most.
    pub token_lifetime: crate::domain::rules::TokenLifetime,
    /// The in-memory grant index the check API answers from.
    pub authz: Arc<index::LiveIndex>,
    /// Where outgoing mail goes.
    pub mailer: Arc<crate::mail::Mailer>,
    /// The base of links in mails, without a trailing slash.
    pub public_url: String,
    /// The plan catalog (tiers, limits, prices).
    pub plans: Arc<crate::domain::billing::Catalog>,
    /// The seller and terms invoices are produced with.
    pub invoicing: Arc<crate::domain::invoicing::InvoiceTerms>,
    /// How often one address may sign up and ask for password resets.
    pub address_limits: AddressLimits,
}

impl Guildhall {
    /// Commits `tx` with its audit events; when grants changed, brings this process's index up to
    /// the new revision before the answer goes out, so the caller's next check sees the change.
    pub async fn commit(&self, mut tx: Box<dyn Tx>, events: Vec<AuditEvent>) -> Result<Committed> {
        let events = labelled(&mut *tx, events).await?;
        let committed = tx.commit(events).await?;
        if let Some(revision) = committed.revision {
            revision::note(revision);
        }
        if committed.revision.is_some()
            && let Err(e) = self.authz.catch_up().await
        {
            // The change is committed; the periodic poll brings the index up later.
            tracing::warn!(error = %e, "could not refresh the authorization index after a commit");
        }
        Ok(committed)
    }
}

/// Gives each event its id and names the people it mentions as they are now, read in the
/// transaction that commits it: the actor (email and name), a member or user target (email),
/// and the users of its data (`user`, `from`, `to` get a `…_email` beside them). A reader of the
/// log needs them once an account is gone, and every action gets them here, the same way.
pub(crate) async fn labelled(tx: &mut dyn Tx, events: Vec<AuditEvent>) -> Result<Vec<AuditEvent>> {
    let mut events = identified(events);
    let mut known: Vec<User> = Vec::new();
    for e in &mut events {
        if let Some(id) = e.actor.filter(|_| e.actor_email.is_none())
            && let Some(u) = person(&mut *tx, &mut known, id).await?
        {
            e.actor_email = Some(u.email);
            e.actor_name = Some(u.name);
        }
        if matches!(e.target_type, "member" | "user")
            && e.target_name.is_none()
            && let Ok(id) = e.target_id.parse()
            && let Some(u) = person(&mut *tx, &mut known, UserId(id)).await?
        {
            e.target_name = Some(u.email);
        }
        if let serde_json::Value::Object(data) = &mut e.data {
            for key in ["user", "from", "to"] {
                let Some(id) = data.get(key).and_then(|v| v.as_str()?.parse().ok()) else {
                    continue;
                };
                if let Some(u) = person(&mut *tx, &mut known, UserId(id)).await? {
                    data.insert(format!("{key}_email"), serde_json::Value::String(u.email));
                }
            }
        }
    }
    Ok(events)
}

/// A user by id, read once per commit.
async fn person(tx: &mut dyn Tx, known: &mut Vec<User>, id: UserId) -> Result<Option<User>> {
    if let Some(u) = known.iter().find(|u| u.id == id) {
        return Ok(Some(u.clone()));
    }
    let found = tx.user_by_id(id).await?;
    known.extend(found.clone());
    Ok(found)
}

/// Gives each event its id (UUIDv7, in the order given): the core makes none.
pub(crate) fn identified(mut events: Vec<AuditEvent>) -> Vec<AuditEvent> {
    for e in &mut events {
        if e.id.is_nil() {
            e.id = uuid::Uuid::now_v7();
        }
    }
    events
}

/// How the caller proved who they are.
#[derive(Clone, Debug)]
pub enum Credential {
    /// A sign-in session.
    Session(SessionId),
    /// A personal access token, with its limits.
    Token(ApiToken),
}

/// An authenticated caller, with where the request came from.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The user.
    pub user: User,
    /// The credential presented.
    pub credential: Credential,
    /// The client's address.
    pub ip: Option<String>,
}

impl Principal {
    /// The audit context of a change this caller makes now.
    pub fn actor(&self, now: chrono::DateTime<chrono::Utc>) -> Actor {
        Actor {
            user: Some(self.user.id),
            token: match &self.credential {
                Credential::Token(t) => Some(t.id),
                Credential::Session(_) => None,
            },
            ip: self.ip.clone(),
            now,
        }
    }

    /// The API token presented, if any.
    pub fn token(&self) -> Option<&ApiToken> {
        match &self.credential {
            Credential::Token(t) => Some(t),
            Credential::Session(_) => None,
        }
    }

    /// Whether this caller's credential reaches `org`: a token limited to another organization
    /// does not, and such an organization must look absent (R12).
    pub fn reaches(&self, org: OrgId) -> bool {
        crate::domain::rules::token_reaches(self.token().and_then(|t| t.org), org)
    }
}

/// How a path names an organization: by id or by slug.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgRef {
    /// By id.
    Id(OrgId),
    /// By slug.
    Slug(String),
    /// Neither an id nor anything a slug could be: no organization has it, and it never
    /// reaches a query.
    Invalid,
}

impl OrgRef {
    /// Reads a path segment: a UUID is an id, a well-formed slug (any case) a slug.
    pub fn parse(raw: &str) -> Self {
        if let Ok(id) = uuid::Uuid::parse_str(raw) {
            return OrgRef::Id(OrgId(id));
        }
        let lower = raw.to_lowercase();
        match crate::domain::names::Slug::parse(&lower) {
            Ok(_) => OrgRef::Slug(lower),
            Err(_) => OrgRef::Invalid,
        }
    }
}

/// A caller's standing in one organization.
pub struct OrgAccess {
    /// The organization and its owner.
    pub org: OrgWithOwner,
    /// What the caller holds and may use there.
    pub actor: ActorFacts,
}

/// A page of results and the position to continue from.
pub struct Page<T, C> {
    /// The items, at most the limit asked for.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<C>,
}

impl<T, C> Page<T, C> {
    /// Cuts `rows` (fetched with one extra row) to `limit`, deriving the continuation from the
    /// last row kept when there is more.
    pub fn from_rows(mut rows: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> C) -> Self {
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next = if more {
            rows.last().map(cursor_of)
        } else {
            None
        };
        Page { items: rows, next }
    }
}

/// A page size within bounds.
pub fn page_size(limit: Option<u32>) -> Result<u32> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => {
            Err(DomainError::invalid("limit", format!("must be between 1 and {MAX_PAGE}")).into())
        }
    }
}

/// Resolves `org` and the caller's membership in it, in `tx`. With `lock`, the organization's
/// row is locked first, so the facts read next cannot change before the commit.
///
/// R12: a missing organization, one the caller is not a member of, and one the caller's token
/// does not reach all answer the same `NotFound`.
pub async fn org_access(
    tx: &mut dyn Tx,
    who: &Principal,
    org: &OrgRef,
    lock: bool,
) -> Result<OrgAccess> {
    let not_found = || DomainError::NotFound(Kind::Org);
    let id = match org {
        OrgRef::Id(id) => *id,
        OrgRef::Slug(s) => tx.org_id_by_slug(s).await?.ok_or_else(not_found)?,
        OrgRef::Invalid => return Err(not_found().into()),
    };
    if !who.reaches(id) {
        return Err(not_found().into());
    }
    if lock && !tx.lock_org(id).await? {
        return Err(not_found().into());
    }
    let roles = tx
        .member_roles(id, who.user.id)
        .await?
        .ok_or_else(not_found)?;
    let org = tx.org_by_id(id).await?.ok_or_else(not_found)?;
    let member = MemberFacts {
        user: who.user.id,
        roles,
    };
    let limit = who.token().and_then(|t| t.permissions);
    Ok(OrgAccess {
        org,
        actor: ActorFacts::new(member, limit),
    })
}

/// The sort position of a row, for keyset pages.
pub fn after(key: impl Into<String>, id: uuid::Uuid) -> After {
    After {
        key: key.into(),
        id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conflict(c: Constraint) -> Error {
        Error::Store(StoreError::Conflict(c))
    }

    /// Each constraint a rule names becomes that rule's refusal, with the name the write gave;
    /// anything else passes through unchanged.
    #[test]
    fn lost_races_are_refused_as_the_checked_case_is() {
        let org = Named::Org {
            name: "Acme",
            slug: "acme",
        };
        let cases: [(Constraint, Named<'_>, &str); 9] = [
            (
                Constraint::OrgName,
                org,
                "organization name `Acme` is taken",
            ),
            (Constraint::OrgSlug, org, "slug `acme` is taken"),
            (
                Constraint::UserEmail,
                Named::Email("ada@example.com"),
                "an account with email `ada@example.com` already exists",
            ),
            (
                Constraint::RoleName,
                Named::Role("ops"),
                "role name `ops` is taken",
            ),
            (
                Constraint::ProjectName,
                Named::Project("web"),
                "project name `web` is taken in this organization",
            ),
            (
                Constraint::GroupName,
                Named::Group("qa"),
                "group name `qa` is taken in this organization",
            ),
            (
                Constraint::Membership,
                Named::Nothing,
                "this user is already a member",
            ),
            (
                Constraint::VoucherRedeemed,
                Named::Nothing,
                "this organization has already redeemed this voucher code",
            ),
            (
                Constraint::VoucherCode,
                Named::Voucher("WELCOME"),
                "the request is invalid: `code` voucher `WELCOME` already exists",
            ),
        ];
        for (c, named, want) in cases {
            match lost_race(conflict(c), named) {
                // What follows the refusal is advice on what to do next; the refusal is fixed.
                Error::Domain(e) => assert!(e.to_string().starts_with(want), "{c:?}: {e}"),
                other => panic!("{c:?}: {other:?}"),
            }
        }
        assert!(matches!(
            lost_race(conflict(Constraint::InvitationPending), Named::Nothing),
            Error::Domain(DomainError::InvitationPending)
        ));
        // A constraint no rule names, or a name that does not match it, stays a store conflict.
        for (c, named) in [
            (Constraint::Other, Named::Nothing),
            (Constraint::ForeignKey, Named::Role("ops")),
            (Constraint::OneOwner, Named::Nothing),
            (Constraint::OrgName, Named::Email("ada@example.com")),
        ] {
            assert!(
                matches!(lost_race(conflict(c), named), Error::Store(StoreError::Conflict(k)) if k == c),
                "{c:?}"
            );
        }
        assert!(matches!(
            lost_race(Error::Store(StoreError::Busy), org),
            Error::Store(StoreError::Busy)
        ));
    }

    #[test]
    fn committed_events_get_fresh_distinct_ids() {
        let actor = Actor {
            user: None,
            token: None,
            ip: None,
            now: chrono::Utc::now(),
        };
        let event = || AuditEvent::new(&actor, crate::domain::audit::Action::OrgCreated, "org", 1);
        let events = identified(vec![event(), event(), event()]);
        assert!(events.iter().all(|e| !e.id.is_nil()));
        assert_ne!(events[0].id, events[1].id);
        assert_ne!(events[1].id, events[2].id);
    }
}
