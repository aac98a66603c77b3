//! Persistence: one `Store`/`Tx` interface in domain types, implemented for SQLite and
//! PostgreSQL. Both backends accept the same SQL text (`$n` placeholders, `RETURNING`, row-value
//! comparisons), so the queries are written once, as generic functions in `sql/` (one file per
//! area); what differs (connecting, locking, notification, migrations) lives in each backend's
//! file, and the mapping of both backends' errors in `conflict.rs`.

pub mod billing;
mod conflict;
mod grants;
mod postgres;
mod sql;
mod sqlite;
mod sqlite_grants;

use crate::domain::audit::{Action, AuditEvent, AuditRecord};
use crate::domain::ids::{
    GroupId, OrgId, ProjectId, RoleId, SessionId, TokenId, TransferId, UserId,
};
use crate::domain::model::{
    ApiToken, Group, Org, OrgWithOwner, Project, Transfer, TransferState, User,
};
use crate::domain::permission::{PermSet, ProjectRole};
use crate::domain::role::{AssignedRole, CustomRole};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

/// A uniqueness rule the database enforces, named so the service can say which one was hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constraint {
    /// R1: organization names.
    OrgName,
    /// R1: organization slugs.
    OrgSlug,
    /// Account emails.
    UserEmail,
    /// Custom role names within an organization.
    RoleName,
    /// R3: at most one owner per organization.
    OneOwner,
    /// Project names within an organization.
    ProjectName,
    /// Group names within an organization.
    GroupName,
    /// A membership that already exists.
    Membership,
    /// A row still referenced elsewhere.
    ForeignKey,
    /// R9: one pending invitation per organization and email.
    InvitationPending,
    /// Voucher codes.
    VoucherCode,
    /// An organization redeems a voucher code once.
    VoucherRedeemed,
    /// One invoice per organization and month.
    InvoiceMonth,
    /// Anything else.
    Other,
}

/// What can go wrong underneath a use case.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique or foreign-key constraint refused the write.
    #[error("constraint {0:?} violated")]
    Conflict(Constraint),
    /// Another writer holds the database; the caller may retry.
    #[error("the database is busy")]
    Busy,
    /// A row held a value this version cannot read.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// `commit` was called with no audit event for a change (R13).
    #[error("a change was committed without an audit event")]
    Unaudited,
    /// The driver failed.
    #[error(transparent)]
    Db(sqlx::Error),
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The SQLite start-up reader of the grants failed.
    #[error("reading the grants from the SQLite file: {0} (is another program holding it locked?)")]
    Sqlite(#[from] rusqlite::Error),
    /// The runtime dropped the work before it ran: the process is shutting down.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The database cannot be reached (refused, reset, timed out, restarting) or every pooled
    /// connection stayed busy for the whole acquire timeout; the caller may retry shortly.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The disk holding the database is full: nothing can be written until space is freed.
    #[error("the database's disk is full")]
    StorageFull,
}

/// Result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// A page position in a keyset: the sort key and id of the last row seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct After {
    /// The sort key (a name or email key).
    pub key: String,
    /// The row's id, to break ties.
    pub id: uuid::Uuid,
}

/// Filters for reading an organization's audit log, newest first.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only events by this user.
    pub actor: Option<UserId>,
    /// Only events with this action (under its current name or the one it had before).
    pub action: Option<Action>,
    /// Only events whose action starts with this and a dot (`member` for `member.*`); letters
    /// and `_` only, so it holds no pattern character.
    pub prefix: Option<String>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events before this time.
    pub until: Option<DateTime<Utc>>,
    /// Only events older than this position (the cursor).
    pub before_seq: Option<i64>,
}

/// A sign-in session as looked up by its secret's hash.
#[derive(Clone, Debug)]
pub struct SessionRecord {
    /// The session.
    pub id: SessionId,
    /// Whose it is.
    pub user: User,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// A project role a member holds, directly or through a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectGrant {
    /// The project.
    pub project: ProjectId,
    /// The project's name.
    pub project_name: String,
    /// The role.
    pub role: ProjectRole,
    /// The group it comes through; `None` for a direct role.
    pub group: Option<String>,
}

/// Everything that decides who may do what in one organization, as stored (the core's type:
/// the index is built from it).
pub use guildhall_core::authz::OrgSnapshot;

/// What a commit did to the grant revision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Committed {
    /// The new global revision, when the transaction changed who may do what.
    pub revision: Option<u64>,
}

/// The pool: opens transactions and answers health checks.
#[async_trait]
pub trait Store: Send + Sync {
    /// A write transaction. SQLite takes the write lock at once (`BEGIN IMMEDIATE`), so the
    /// facts a rule reads cannot change before the commit.
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;
    /// A read-only transaction: one consistent snapshot for a request's reads.
    async fn read(&self) -> StoreResult<Box<dyn Tx>>;
    /// Whether the database answers (`/readyz`).
    async fn ping(&self) -> StoreResult<()>;
    /// The grant revision and every organization's grants, read in one snapshot: what the
    /// authorization index starts from. Blocks the calling thread: call it on a blocking thread
    /// of the runtime (`spawn_blocking`), never from async code (it would panic), and on a
    /// current-thread runtime only while that runtime's thread is in `Runtime::block_on`, which
    /// drives the I/O. `Index::load` does so, and builds the index on that thread too, where
    /// glibc then reuses the memory of what was read (built elsewhere, the index took 450 MiB,
    /// not 340).
    fn load_index(&self) -> StoreResult<(u64, Vec<OrgSnapshot>)> {
        load_index_in_tx(self)
    }
    /// Which backend this is, for logs.
    fn backend(&self) -> &'static str;
    /// A stream of "the grant revision moved" signals from other processes (PostgreSQL
    /// LISTEN/NOTIFY); `None` where one process owns the store (SQLite).
    async fn grant_notifications(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<()>>>;
}

/// One transaction: locked reads, writes, and a commit that carries the audit events (R13).
#[async_trait]
pub trait Tx: Send + billing::BillingTx {
    /// Commits the change together with its audit events; refuses an empty list, so no change can
    /// forget its record.
    async fn commit(self: Box<Self>, events: Vec<AuditEvent>) -> StoreResult<Committed>;
    /// Commits bookkeeping that is not a change anyone made (sign-in failure counters).
    async fn commit_bookkeeping(self: Box<Self>) -> StoreResult<()>;

    // Users and sessions.
    /// Inserts an account.
    async fn insert_user(
        &mut self,
        user: &User,
        email_key: &str,
        password_hash: Option<&str>,
    ) -> StoreResult<()>;
    /// An account by id.
    async fn user_by_id(&mut self, id: UserId) -> StoreResult<Option<User>>;
    /// An account and its password hash by email key.
    async fn user_by_email(
        &mut self,
        email_key: &str,
    ) -> StoreResult<Option<(User, Option<String>)>>;
    /// Stores a session under the hash of its secret.
    async fn insert_session(
        &mut self,
        id: SessionId,
        user: UserId,
        hash: &[u8],
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// A session by the hash of its secret.
    async fn session_by_hash(&mut self, hash: &[u8]) -> StoreResult<Option<SessionRecord>>;
    /// Ends a session.
    async fn delete_session(&mut self, id: SessionId) -> StoreResult<()>;
    /// Whether a session still exists (it may have been ended since the request's read).
    async fn session_exists(&mut self, id: SessionId) -> StoreResult<bool>;
    /// Locks a user's row until commit (PostgreSQL `FOR UPDATE`; SQLite already holds the
    /// database's write lock), so changes to one account's credentials run one at a time; false
    /// when there is no such user.
    async fn lock_user(&mut self, user: UserId) -> StoreResult<bool>;

    // Sign-in throttling.
    /// Failures recorded for a key, and when the last one was.
    async fn signin_failures(&mut self, key: &str) -> StoreResult<Option<(u32, DateTime<Utc>)>>;
    /// Records the failure count for a key.
    async fn set_signin_failures(
        &mut self,
        key: &str,
        failures: u32,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Forgets a key's failures.
    async fn clear_signin_failures(&mut self, key: &str) -> StoreResult<()>;

    // API tokens.
    /// Stores a token under the hash of its secret.
    async fn insert_token(&mut self, token: &ApiToken, hash: &[u8]) -> StoreResult<()>;
    /// A token and its owner by the hash of its secret.
    async fn token_by_hash(&mut self, hash: &[u8]) -> StoreResult<Option<(ApiToken, User)>>;
    /// A page of a user's tokens, newest first: those made before `after` (a token's
    /// `created_at` and id), at most `limit`.
    async fn tokens_page(
        &mut self,
        user: UserId,
        after: Option<(DateTime<Utc>, uuid::Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<ApiToken>>;
    /// One of a user's tokens by id.
    async fn token_by_id(&mut self, user: UserId, id: TokenId) -> StoreResult<Option<ApiToken>>;
    /// How many of a user's tokens are live: not expired at `now` (revoked ones are gone).
    async fn count_live_tokens(&mut self, user: UserId, now: DateTime<Utc>) -> StoreResult<u64>;
    /// Revokes every token of a user; how many there were.
    async fn delete_tokens_of(&mut self, user: UserId) -> StoreResult<u64>;
    /// Deletes one of a user's tokens; false when there was none.
    async fn delete_token(&mut self, user: UserId, id: TokenId) -> StoreResult<bool>;

    // Organizations.
    /// Inserts an organization.
    async fn insert_org(&mut self, org: &Org, name_key: &str) -> StoreResult<()>;
    /// Inserts an organization unless its name or slug is taken (R1), even by a transaction
    /// that commits meanwhile; false, changing nothing, when it is. Any other failure is an
    /// error as for `insert_org`.
    async fn insert_org_unless_taken(&mut self, org: &Org, name_key: &str) -> StoreResult<bool>;
    /// An organization by id or slug, with its owner.
    async fn org_by_id(&mut self, id: OrgId) -> StoreResult<Option<OrgWithOwner>>;
    /// Whether an organization already has this name key (R1).
    async fn org_name_taken(&mut self, name_key: &str) -> StoreResult<bool>;
    /// Whether an organization already has this slug (R1).
    async fn slug_taken(&mut self, slug: &str) -> StoreResult<bool>;
    /// An organization's id by slug.
    async fn org_id_by_slug(&mut self, slug: &str) -> StoreResult<Option<OrgId>>;
    /// Locks an organization's row until commit (PostgreSQL `FOR UPDATE`; SQLite already holds
    /// the database's write lock), so concurrent changes to one organization run one at a time.
    async fn lock_org(&mut self, id: OrgId) -> StoreResult<bool>;
    /// Renames and re-slugs an organization.
    async fn update_org(&mut self, org: &Org, name_key: &str) -> StoreResult<()>;
    /// Deletes an organization with its memberships, roles and tokens limited to it.
    async fn delete_org(&mut self, id: OrgId) -> StoreResult<()>;
    /// The organizations a user belongs to, by name, with the user's roles; with
    /// `key_contains`, only those whose name key (`names::name_key`) contains it.
    async fn orgs_of(
        &mut self,
        user: UserId,
        key_contains: Option<&str>,
        after: Option<&After>,
        limit: u32,
    ) -> StoreResult<Vec<(OrgWithOwner, Vec<AssignedRole>)>>;
    /// Every role a user holds in any organization (what an unlimited API token may carry).
    async fn all_roles_of(&mut self, user: UserId) -> StoreResult<Vec<AssignedRole>>;

    // Members.
    /// Makes a user a member with roles.
    async fn insert_member(
        &mut self,
        org: OrgId,
        user: UserId,
        roles: &[AssignedRole],
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// A member's roles; `None` when the user is not a member.
    async fn member_roles(
        &mut self,
        org: OrgId,
        user: UserId,
    ) -> StoreResult<Option<Vec<AssignedRole>>>;
    /// Replaces a member's roles.
    async fn set_member_roles(
        &mut self,
        org: OrgId,
        user: UserId,
        roles: &[AssignedRole],
    ) -> StoreResult<()>;
    /// Ends a membership with everything it holds (R4).
    async fn delete_member(&mut self, org: OrgId, user: UserId) -> StoreResult<()>;
    /// A page of members, by email.
    async fn members(
        &mut self,
        org: OrgId,
        after: Option<&After>,
        limit: u32,
    ) -> StoreResult<Vec<(User, Vec<AssignedRole>)>>;

    // Custom roles.
    /// An organization's custom roles, by name.
    async fn custom_roles(&mut self, org: OrgId) -> StoreResult<Vec<CustomRole>>;
    /// Inserts a custom role.
    async fn insert_custom_role(
        &mut self,
        org: OrgId,
        role: &CustomRole,
        name_key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Updates a custom role's name and permissions.
    async fn update_custom_role(
        &mut self,
        org: OrgId,
        role: &CustomRole,
        name_key: &str,
    ) -> StoreResult<()>;
    /// Deletes a custom role.
    async fn delete_custom_role(&mut self, org: OrgId, id: RoleId) -> StoreResult<()>;
    /// How many members hold a custom role.
    async fn role_holders(&mut self, org: OrgId, id: RoleId) -> StoreResult<u64>;
    /// Every role of each member who holds a custom role (what editing it would change).
    async fn role_holders_roles(
        &mut self,
        org: OrgId,
        id: RoleId,
    ) -> StoreResult<Vec<Vec<AssignedRole>>>;

    // Projects.
    /// How many projects an organization has (R5).
    async fn count_projects(&mut self, org: OrgId) -> StoreResult<u64>;
    /// Inserts a project.
    async fn insert_project(&mut self, project: &Project, name_key: &str) -> StoreResult<()>;
    /// A project of `org` by id or name (case-insensitively).
    async fn project_by_ref(&mut self, org: OrgId, key: &str) -> StoreResult<Option<Project>>;
    /// Whether a project of `org` has this name key.
    async fn project_name_taken(&mut self, org: OrgId, name_key: &str) -> StoreResult<bool>;
    /// A page of an organization's projects, by name.
    async fn projects(
        &mut self,
        org: OrgId,
        after: Option<&After>,
        limit: u32,
    ) -> StoreResult<Vec<Project>>;
    /// Renames a project.
    async fn update_project(&mut self, project: &Project, name_key: &str) -> StoreResult<()>;
    /// Deletes a project with every grant on it.
    async fn delete_project(&mut self, org: OrgId, id: ProjectId) -> StoreResult<()>;
    /// Sets a member's direct role on a project.
    async fn put_project_member(
        &mut self,
        org: OrgId,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
    ) -> StoreResult<()>;
    /// Takes a member's direct role on a project; false when there was none.
    async fn delete_project_member(
        &mut self,
        org: OrgId,
        project: ProjectId,
        user: UserId,
    ) -> StoreResult<bool>;
    /// Every project role a member holds in `org`, direct or through groups.
    async fn project_grants(&mut self, org: OrgId, user: UserId) -> StoreResult<Vec<ProjectGrant>>;
    /// Who holds a role on a project directly (not through a group), by email.
    async fn project_members(
        &mut self,
        project: ProjectId,
    ) -> StoreResult<Vec<(User, ProjectRole)>>;

    // Groups.
    /// Inserts a group.
    async fn insert_group(&mut self, group: &Group, name_key: &str) -> StoreResult<()>;
    /// A group of `org` by id or name (case-insensitively).
    async fn group_by_ref(&mut self, org: OrgId, key: &str) -> StoreResult<Option<Group>>;
    /// Whether a group of `org` has this name key.
    async fn group_name_taken(&mut self, org: OrgId, name_key: &str) -> StoreResult<bool>;
    /// A page of an organization's groups, by name.
    async fn groups(
        &mut self,
        org: OrgId,
        after: Option<&After>,
        limit: u32,
    ) -> StoreResult<Vec<Group>>;
    /// Renames a group.
    async fn update_group(&mut self, group: &Group, name_key: &str) -> StoreResult<()>;
    /// Deletes a group with its places and project roles.
    async fn delete_group(&mut self, org: OrgId, id: GroupId) -> StoreResult<()>;
    /// A group's members, by email.
    async fn group_members(&mut self, group: GroupId) -> StoreResult<Vec<User>>;
    /// A group's projects and the role it gives on each, by name.
    async fn group_projects(&mut self, group: GroupId) -> StoreResult<Vec<(Project, ProjectRole)>>;
    /// Puts a member in a group (no-op when already there).
    async fn put_group_member(
        &mut self,
        org: OrgId,
        group: GroupId,
        user: UserId,
    ) -> StoreResult<()>;
    /// Takes a member out of a group; false when they were not in it.
    async fn delete_group_member(
        &mut self,
        org: OrgId,
        group: GroupId,
        user: UserId,
    ) -> StoreResult<bool>;
    /// Gives a group a role on a project (replacing the one it had).
    async fn put_group_project(
        &mut self,
        org: OrgId,
        group: GroupId,
        project: ProjectId,
        role: ProjectRole,
    ) -> StoreResult<()>;
    /// Takes a project from a group; false when it did not have it.
    async fn delete_group_project(
        &mut self,
        org: OrgId,
        group: GroupId,
        project: ProjectId,
    ) -> StoreResult<bool>;
    /// The names of the groups each member of `org` is in.
    async fn member_groups(&mut self, org: OrgId) -> StoreResult<Vec<(UserId, String)>>;
    /// How many members and projects each group of `org` has.
    async fn group_counts(&mut self, org: OrgId) -> StoreResult<Vec<(GroupId, u64, u64)>>;

    // Ownership transfers (R7).
    /// Stores a new offer.
    async fn insert_transfer(&mut self, t: &Transfer) -> StoreResult<()>;
    /// The organization's offer stored as pending, if any (it may have expired since).
    async fn pending_transfer(&mut self, org: OrgId) -> StoreResult<Option<Transfer>>;
    /// Records how an offer ended.
    async fn set_transfer_state(
        &mut self,
        id: TransferId,
        state: TransferState,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;

    // The grant revision (the authorization index follows it).
    /// The current global grant revision.
    async fn revision(&mut self) -> StoreResult<u64>;
    /// The grant changes committed after `revision`, in revision order and each once, with the
    /// newest revision seen.
    async fn grant_changes_since(&mut self, revision: u64) -> StoreResult<(Vec<GrantChange>, u64)>;
    /// One member's roles in `org` and every project role granted to them there, directly or
    /// through a group; `None` when they are not a member.
    async fn member_grants(
        &mut self,
        org: OrgId,
        user: UserId,
    ) -> StoreResult<Option<(Vec<AssignedRole>, Vec<(ProjectId, ProjectRole)>)>>;
    /// Everything that decides access in one organization, or in all of them.
    async fn load_grants(&mut self, org: Option<OrgId>) -> StoreResult<Vec<OrgSnapshot>>;

    // Audit.
    /// A page of an organization's audit log, newest first.
    async fn audit(
        &mut self,
        org: OrgId,
        filter: &AuditFilter,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>>;

    // Invitations (R9) and one-time password links (R10).
    /// Stores a new invitation under the hash of its token.
    async fn insert_invitation(
        &mut self,
        inv: &crate::domain::invitation::Invitation,
        hash: &[u8],
    ) -> StoreResult<()>;
    /// One of `org`'s invitations by id.
    async fn invitation(
        &mut self,
        org: OrgId,
        id: crate::domain::ids::InvitationId,
    ) -> StoreResult<Option<crate::domain::invitation::Invitation>>;
    /// The invitation whose current token hashes to `hash` (a re-sent one's old token finds
    /// nothing).
    async fn invitation_by_hash(
        &mut self,
        hash: &[u8],
    ) -> StoreResult<Option<crate::domain::invitation::Invitation>>;
    /// The invitation to `email_key` stored as pending in `org`, if any (it may have expired).
    async fn pending_invitation(
        &mut self,
        org: OrgId,
        email_key: &str,
    ) -> StoreResult<Option<crate::domain::invitation::Invitation>>;
    /// A page of `org`'s invitations, by email then id.
    async fn org_invitations(
        &mut self,
        org: OrgId,
        after: Option<&After>,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::invitation::Invitation>>;
    /// The invitations to `email_key` stored as pending, in every organization, oldest first.
    async fn invitations_to(
        &mut self,
        email_key: &str,
    ) -> StoreResult<Vec<crate::domain::invitation::Invitation>>;
    /// Moves a pending invitation to `state`; false when it was no longer pending (single use).
    async fn close_invitation(
        &mut self,
        id: crate::domain::ids::InvitationId,
        state: crate::domain::invitation::InvitationState,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Re-send: replaces the token's hash (the old token dies at once), renews the expiry and
    /// marks the mail pending.
    async fn renew_invitation(
        &mut self,
        id: crate::domain::ids::InvitationId,
        hash: &[u8],
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Records how the mail carrying the token hashed to `hash` went; false when the invitation
    /// was re-sent since (a newer mail's state is not overwritten by an older one's).
    async fn set_invitation_mail(
        &mut self,
        id: crate::domain::ids::InvitationId,
        hash: &[u8],
        mail: crate::domain::invitation::MailState,
    ) -> StoreResult<bool>;
    /// Stores a password link, replacing any other link of the same user.
    async fn insert_password_link(
        &mut self,
        link: &crate::domain::invitation::PasswordLink,
        hash: &[u8],
    ) -> StoreResult<()>;
    /// A user's live-or-lapsed password link, if any.
    async fn password_link_of(
        &mut self,
        user: UserId,
    ) -> StoreResult<Option<crate::domain::invitation::PasswordLink>>;
    /// The password link whose token hashes to `hash`.
    async fn password_link_by_hash(
        &mut self,
        hash: &[u8],
    ) -> StoreResult<Option<crate::domain::invitation::PasswordLink>>;
    /// Deletes every password link of a user.
    async fn delete_password_links(&mut self, user: UserId) -> StoreResult<()>;
    /// Sets a user's password hash.
    async fn set_password_hash(&mut self, user: UserId, hash: &str) -> StoreResult<()>;
    /// Ends every session of a user; how many there were.
    async fn delete_sessions_of(&mut self, user: UserId) -> StoreResult<u64>;

    // The mail outbox.
    /// Queues `mail`, due at once, to go out after this transaction commits; the row's id (the
    /// store draws it). `invitation` names the invitation, and the hash of the token the mail
    /// carries, whose mail state the outcome is recorded on.
    async fn queue_mail(
        &mut self,
        mail: &crate::mail::Mail,
        invitation: Option<(crate::domain::ids::InvitationId, &[u8])>,
        now: DateTime<Utc>,
    ) -> StoreResult<uuid::Uuid>;
    /// Leases queued mails to this sender until `until`, counting an attempt on each: the one
    /// with id `only` if it is free, else up to `limit` that are due at `now`. A mail leased
    /// to another sender whose lease has not run out is never returned.
    async fn claim_mail(
        &mut self,
        only: Option<uuid::Uuid>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<crate::mail::QueuedMail>>;
    /// When the next queued mail is due (a lease that runs out counts), if any is queued.
    async fn next_mail_due(&mut self) -> StoreResult<Option<DateTime<Utc>>>;
    /// Deletes a queued mail: sent, or given up on.
    async fn delete_mail(&mut self, id: uuid::Uuid) -> StoreResult<()>;
    /// Releases a queued mail whose send failed, due again at `due`.
    async fn retry_mail(&mut self, id: uuid::Uuid, due: DateTime<Utc>) -> StoreResult<()>;
}

/// Opens the store named by `url` (`sqlite://PATH` or `postgres://…`) and applies its migrations.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    open_with(url, &OpenOptions::default()).await
}

/// How a store is opened.
#[derive(Clone, Copy, Debug)]
pub struct OpenOptions {
    /// How long a request waits for a pooled connection before it is answered 503.
    pub acquire_timeout: std::time::Duration,
    /// How long opening waits for a database that cannot be reached yet (PostgreSQL).
    pub wait: std::time::Duration,
    /// SQLite's `synchronous` setting (ignored on PostgreSQL).
    pub sqlite_synchronous: SqliteSynchronous,
}

/// What a committed transaction changed about grants, as the authorization index follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GrantChange {
    /// The organization.
    pub org: OrgId,
    /// The one member whose grants changed; `None` for the organization as a whole.
    pub member: Option<UserId>,
}

/// When SQLite, in WAL mode, makes a commit durable: what `--sqlite-synchronous` picks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SqliteSynchronous {
    /// `synchronous=NORMAL`: a commit survives the process being killed, but a power loss or an
    /// operating-system crash may roll back the last commits (never corrupt the file); the WAL
    /// is synced at checkpoints only.
    Normal,
    /// `synchronous=FULL`: every commit is synced to the WAL before it is acknowledged, so it
    /// survives a power loss too, at the cost of one fsync per write transaction. The default:
    /// an acknowledged revocation must not come back after a power cut.
    #[default]
    Full,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            acquire_timeout: std::time::Duration::from_secs(2),
            wait: std::time::Duration::ZERO,
            sqlite_synchronous: SqliteSynchronous::default(),
        }
    }
}

/// [`open`], with `opts`.
pub async fn open_with(url: &str, opts: &OpenOptions) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect_with(url, opts).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect_with(url, opts).await?))
    } else {
        anyhow::bail!("unsupported database URL; use `sqlite://PATH` or `postgres://USER@HOST/DB`")
    }
}

/// [`Store::load_index`] through a read transaction, on the current runtime.
pub(super) fn load_index_in_tx<S: Store + ?Sized>(
    store: &S,
) -> StoreResult<(u64, Vec<OrgSnapshot>)> {
    tokio::runtime::Handle::current().block_on(async {
        let mut tx = store.read().await?;
        let revision = tx.revision().await?;
        Ok((revision, tx.load_grants(None).await?))
    })
}

/// Runs `f` on the blocking pool. Its panic is resumed here; a task the runtime cancelled
/// while shutting down is `ShuttingDown`.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> StoreResult<T> + Send + 'static,
) -> StoreResult<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(done) => done,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(_) => Err(StoreError::ShuttingDown),
        },
    }
}

/// A permission set as stored: a JSON array of wire names, robust to catalog reordering.
pub(crate) fn perms_to_json(set: PermSet) -> sqlx::types::Json<Vec<&'static str>> {
    sqlx::types::Json(set.names())
}

/// Reads a stored permission list back; an unknown name means a newer server wrote it.
pub(crate) fn perms_from_json(names: &[String]) -> StoreResult<PermSet> {
    names
        .iter()
        .map(|n| {
            crate::domain::permission::Permission::parse(n)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown permission `{n}`")))
        })
        .collect()
}
