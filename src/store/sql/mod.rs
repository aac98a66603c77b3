//! The queries, written once for both backends.
//!
//! Both backends accept the same SQL text (`$n` placeholders, `RETURNING`, `ON CONFLICT`,
//! row-value comparisons, partial indexes), so every query is a plain generic function over
//! `DB: Backend`, in the file of its area (`orgs`, `members`, `roles`, `named` for what projects
//! and groups share, `projects`, `groups`, `users`, `tokens`, `transfers`, `invitations`,
//! `grants`, `audit`, `billing`, `outbox`). `SqlTx<DB>` implements `Tx` once, by handing each method to its
//! area; `sqlite.rs` and `postgres.rs` implement `Backend`.
//!
//! Why generic functions and not macros or `sqlx::Any`: generic code is type-checked once and
//! formatted by rustfmt like any other, and its errors point at the query that is wrong.
//! `sqlx::Any` would lose the types both backends have (uuid, timestamps, JSON). The price of
//! generics over `sqlx::Database` is usually a wall of `for<'c> &'c mut DB::Connection:
//! Executor<'c>` and `T: Encode<'q, DB>` bounds on every function. They are avoided here:
//! `Backend` itself binds, runs and decodes (each implementation on a concrete database type,
//! where sqlx's bounds hold), and the values it takes are those both databases encode
//! ([`Param`]) or decode ([`Column`]). A query then reads as it would with sqlx directly:
//! `query(SQL).bind(a).bind(b).fetch_all(tx).await?`.

mod audit;
mod billing;
mod grants;
mod groups;
mod invitations;
mod members;
mod named;
mod orgs;
mod outbox;
mod projects;
pub(super) mod rekey;
mod roles;
mod tokens;
mod transfers;
mod users;

use super::{After, AuditFilter, Committed, OrgSnapshot, ProjectGrant, SessionRecord, Tx};
use super::{StoreError, StoreResult};
use crate::domain::audit::{AuditEvent, AuditRecord};
use crate::domain::ids::{
    GroupId, InvitationId, OrgId, ProjectId, RoleId, SessionId, TokenId, TransferId, UserId,
};
use crate::domain::invitation::{Invitation, InvitationState, MailState, PasswordLink};
use crate::domain::model::{
    ApiToken, Group, Org, OrgWithOwner, Project, Transfer, TransferState, User,
};
use crate::domain::permission::ProjectRole;
use crate::domain::role::{AssignedRole, CustomRole};
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};

/// A query as sqlx builds it for `DB`.
pub(super) type RawQuery<'q, DB> =
    sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>;

/// A value both backends bind as a query parameter.
pub(super) trait Param<'q>:
    'q + Send + Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres>
{
}

impl<'q, T> Param<'q> for T where
    T: 'q + Send + Encode<'q, Sqlite> + Type<Sqlite> + Encode<'q, Postgres> + Type<Postgres>
{
}

/// A value both backends decode from a column.
pub(super) trait Column<'r>:
    Decode<'r, Sqlite> + Type<Sqlite> + Decode<'r, Postgres> + Type<Postgres>
{
}

impl<'r, T> Column<'r> for T where
    T: Decode<'r, Sqlite> + Type<Sqlite> + Decode<'r, Postgres> + Type<Postgres>
{
}

/// What differs between the backends under the shared queries: how a query is bound, run and
/// read (the same sqlx calls, on each concrete database type), the statement that locks an
/// organization, the commit-time notification, and the mapping of errors.
pub(super) trait Backend: sqlx::Database {
    /// Locks an organization's row until commit; selects its `id` (bound as `$1`).
    const LOCK_ORG: &'static str;
    /// Locks a user's row until commit; selects its `id` (bound as `$1`).
    const LOCK_USER: &'static str;
    /// Tells other processes, at commit, that the grant revision moved (bound as `$1`).
    const NOTIFY: Option<&'static str>;
    /// Reads `name_key_version`'s `version`, locking its row until commit (`rekey`).
    const LOCK_NAME_KEYS: &'static str;

    /// The store's error for a driver error.
    fn db_err(e: sqlx::Error) -> StoreError;
    /// Binds the next parameter.
    fn bind<'q, T: Param<'q>>(q: RawQuery<'q, Self>, value: T) -> RawQuery<'q, Self>;
    /// Runs a statement; the number of rows it changed.
    fn execute<'c, 'q: 'c>(
        conn: &'c mut Self::Connection,
        q: RawQuery<'q, Self>,
    ) -> BoxFuture<'c, sqlx::Result<u64>>;
    /// Runs a query for at most one row.
    fn fetch_optional<'c, 'q: 'c>(
        conn: &'c mut Self::Connection,
        q: RawQuery<'q, Self>,
    ) -> BoxFuture<'c, sqlx::Result<Option<Self::Row>>>;
    /// Runs a query for all its rows.
    fn fetch_all<'c, 'q: 'c>(
        conn: &'c mut Self::Connection,
        q: RawQuery<'q, Self>,
    ) -> BoxFuture<'c, sqlx::Result<Vec<Self::Row>>>;
    /// Runs a query and streams its rows.
    fn fetch<'c, 'q: 'c>(
        conn: &'c mut Self::Connection,
        q: RawQuery<'q, Self>,
    ) -> BoxStream<'c, sqlx::Result<Self::Row>>;
    /// Reads a column by name.
    fn get<'r, T: Column<'r>>(row: &'r Self::Row, column: &str) -> sqlx::Result<T>;
    /// Commits.
    fn commit(conn: sqlx::Transaction<'static, Self>) -> BoxFuture<'static, sqlx::Result<()>>;
}

/// A statement being bound: [`query`] starts one.
pub(super) struct Sql<'q, DB: Backend>(RawQuery<'q, DB>);

/// Starts a statement.
pub(super) fn query<DB: Backend>(sql: &str) -> Sql<'_, DB> {
    Sql(sqlx::query(sql))
}

impl<'q, DB: Backend> Sql<'q, DB> {
    /// Binds the next parameter (`$1`, `$2`, … in order).
    pub fn bind<T: Param<'q>>(self, value: T) -> Self {
        Sql(DB::bind(self.0, value))
    }

    /// Binds the next parameter if there is one (for a statement whose scope is optional).
    pub fn bind_some<T: Param<'q>>(self, value: Option<T>) -> Self {
        match value {
            Some(v) => self.bind(v),
            None => self,
        }
    }

    /// Runs the statement in `tx`; the number of rows it changed.
    pub async fn execute(self, tx: &mut SqlTx<DB>) -> StoreResult<u64> {
        DB::execute(&mut *tx.conn, self.0).await.map_err(DB::db_err)
    }

    /// At most one row.
    pub async fn fetch_optional(self, tx: &mut SqlTx<DB>) -> StoreResult<Option<Row<DB>>> {
        let row = DB::fetch_optional(&mut *tx.conn, self.0).await;
        Ok(row.map_err(DB::db_err)?.map(Row))
    }

    /// Exactly one row.
    pub async fn fetch_one(self, tx: &mut SqlTx<DB>) -> StoreResult<Row<DB>> {
        self.fetch_optional(tx)
            .await?
            .ok_or_else(|| DB::db_err(sqlx::Error::RowNotFound))
    }

    /// Every row.
    pub async fn fetch_all(self, tx: &mut SqlTx<DB>) -> StoreResult<Vec<Row<DB>>> {
        let rows = DB::fetch_all(&mut *tx.conn, self.0).await;
        Ok(rows.map_err(DB::db_err)?.into_iter().map(Row).collect())
    }

    /// Every row, each read into a value by `f`.
    pub async fn map_all<T>(
        self,
        tx: &mut SqlTx<DB>,
        f: impl Fn(&Row<DB>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        self.fetch_all(tx).await?.iter().map(f).collect()
    }

    /// The row, if any, read into a value by `f`.
    pub async fn map_optional<T>(
        self,
        tx: &mut SqlTx<DB>,
        f: impl FnOnce(&Row<DB>) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        self.fetch_optional(tx).await?.as_ref().map(f).transpose()
    }

    /// Streams the rows to `f`, one at a time (for loads too big to hold twice).
    pub async fn for_each(
        self,
        tx: &mut SqlTx<DB>,
        mut f: impl FnMut(&Row<DB>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        use futures_util::TryStreamExt as _;
        let mut rows = DB::fetch(&mut *tx.conn, self.0);
        while let Some(row) = rows.try_next().await.map_err(DB::db_err)? {
            f(&Row(row))?;
        }
        Ok(())
    }
}

/// A result row.
pub(super) struct Row<DB: Backend>(DB::Row);

impl<DB: Backend> Row<DB> {
    /// The value of a column, by name.
    pub fn get<'r, T: Column<'r>>(&'r self, column: &str) -> StoreResult<T> {
        DB::get(&self.0, column).map_err(DB::db_err)
    }
}

/// A `COUNT(*) AS n` as the store's count.
fn read_count<DB: Backend>(row: &Row<DB>) -> StoreResult<u64> {
    let n: i64 = row.get("n")?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// One open transaction on a backend.
pub(super) struct SqlTx<DB: Backend> {
    conn: sqlx::Transaction<'static, DB>,
    /// Grants this transaction changed: whole organizations, or single members of one.
    touched: Vec<crate::store::GrantChange>,
}

impl<DB: Backend> SqlTx<DB> {
    /// Wraps a transaction sqlx opened.
    pub(super) fn new(conn: sqlx::Transaction<'static, DB>) -> Self {
        Self {
            conn,
            touched: Vec::new(),
        }
    }

    /// Notes that `org`'s grants change in this transaction, so the commit bumps the revision
    /// and logs it. Done here, in the store, so no use case can forget it.
    fn touch(&mut self, org: OrgId) {
        let whole = crate::store::GrantChange { org, member: None };
        if !self.touched.contains(&whole) {
            // The organization as a whole covers each of its members.
            self.touched.retain(|c| c.org != org);
            self.touched.push(whole);
        }
    }

    /// Notes that only `user`'s grants in `org` change (roles, group places, direct project
    /// roles): the index updates that member, not the whole organization.
    fn touch_member(&mut self, org: OrgId, user: UserId) {
        let one = crate::store::GrantChange {
            org,
            member: Some(user),
        };
        let covered = self
            .touched
            .iter()
            .any(|c| c.org == org && c.member.is_none());
        if !covered && !self.touched.contains(&one) {
            self.touched.push(one);
        }
    }
}

/// Every `Tx` method, handed to the function of its area.
#[async_trait::async_trait]
impl<DB: Backend> Tx for SqlTx<DB> {
    async fn commit(mut self: Box<Self>, events: Vec<AuditEvent>) -> StoreResult<Committed> {
        if events.is_empty() {
            return Err(StoreError::Unaudited);
        }
        audit::append(&mut self, &events).await?;
        let committed = grants::bump_revision(&mut self).await?;
        DB::commit(self.conn).await.map_err(DB::db_err)?;
        Ok(committed)
    }

    async fn commit_bookkeeping(self: Box<Self>) -> StoreResult<()> {
        DB::commit(self.conn).await.map_err(DB::db_err)
    }

    async fn insert_user(
        &mut self,
        user: &User,
        email_key: &str,
        password_hash: Option<&str>,
    ) -> StoreResult<()> {
        users::insert(self, user, email_key, password_hash).await
    }

    async fn user_by_id(&mut self, id: UserId) -> StoreResult<Option<User>> {
        users::by_id(self, id).await
    }

    async fn user_by_email(
        &mut self,
        email_key: &str,
    ) -> StoreResult<Option<(User, Option<String>)>> {
        users::by_email(self, email_key).await
    }

    async fn insert_session(
        &mut self,
        id: SessionId,
        user: UserId,
        hash: &[u8],
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        users::insert_session(self, id, user, hash, now, expires_at).await
    }

    async fn session_by_hash(&mut self, hash: &[u8]) -> StoreResult<Option<SessionRecord>> {
        users::session_by_hash(self, hash).await
    }

    async fn delete_session(&mut self, id: SessionId) -> StoreResult<()> {
        users::delete_session(self, id).await
    }

    async fn session_exists(&mut self, id: SessionId) -> StoreResult<bool> {
        users::session_exists(self, id).await
    }

    async fn lock_user(&mut self, user: UserId) -> StoreResult<bool> {
        users::lock(self, user).await
    }

    async fn signin_failures(&mut self, key: &str) -> StoreResult<Option<(u32, DateTime<Utc>)>> {
        users::signin_failures(self, key).await
    }

    async fn set_signin_failures(
        &mut self,
        key: &str,
        failures: u32,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        users::set_signin_failures(self, key, failures, at).await
    }

    async fn clear_signin_failures(&mut self, key: &str) -> StoreResult<()> {
        users::clear_signin_failures(self, key).await
    }

    async fn insert_token(&mut self, token: &ApiToken, hash: &[u8]) -> StoreResult<()> {
        tokens::insert(self, token, hash).await
    }

    async fn token_by_hash(&mut self, hash: &[u8]) -> StoreResult<Option<(ApiToken, User)>> {
        tokens::by_hash(self, hash).await
    }

    async fn tokens_page(
        &mut self,
        user: UserId,
        after: Option<(DateTime<Utc>, uuid::Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<ApiToken>> {
        tokens::page(self, user, after, limit).await
    }

    async fn token_by_id(&mut self, user: UserId, id: TokenId) -> StoreResult<Option<ApiToken>> {
        tokens::by_id(self, user, id).await
    }

    async fn count_live_tokens(&mut self, user: UserId, now: DateTime<Utc>) -> StoreResult<u64> {
        tokens::count_live(self, user, now).await
    }

    async fn delete_tokens_of(&mut self, user: UserId) -> StoreResult<u64> {
        tokens::delete_of_user(self, user).await
    }

    async fn delete_token(&mut self, user: UserId, id: TokenId) -> StoreResult<bool> {
        tokens::delete(self, user, id).await
    }

    async fn insert_org(&mut self, org: &Org, name_key: &str) -> StoreResult<()> {
        orgs::insert(self, org, name_key).await
    }

    async fn insert_org_unless_taken(&mut self, org: &Org, name_key: &str) -> StoreResult<bool> {
        orgs::insert_unless_taken(self, org, name_key).await
    }

    async fn org_by_id(&mut self, id: OrgId) -> StoreResult<Option<OrgWithOwner>> {
        orgs::by_id(self, id).await
    }

    async fn org_name_taken(&mut self, name_key: &str) -> StoreResult<bool> {
        orgs::name_taken(self, name_key).await
    }

    async fn slug_taken(&mut self, slug: &str) -> StoreResult<bool> {
        Ok(orgs::id_by_slug(self, slug).await?.is_some())
    }

    async fn org_id_by_slug(&mut self, slug: &str) -> StoreResult<Option<OrgId>> {
        orgs::id_by_slug(self, slug).await
    }

    async fn lock_org(&mut self, id: OrgId) -> StoreResult<bool> {
        orgs::lock(self, id).await
    }

    async fn update_org(&mut self, org: &Org, name_key: &str) -> StoreResult<()> {
        orgs::update(self, org, name_key).await
    }

    async fn delete_org(&mut self, id: OrgId) -> StoreResult<()> {
        orgs::delete(self, id).await
    }

    async fn orgs_of(
        &mut self,
        user: UserId,
        key_contains: Option<&str>,
        after: Option<&After>,
        limit: u32,
    ) -> StoreResult<Vec<(OrgWithOwner, Vec<AssignedRole>)>> {
        orgs::of_user(self, user, key_contains, after, limit).await
    }

    async fn all_roles_of(&mut self, user: UserId) -> StoreResult<Vec<AssignedRole>> {
        members::all_roles_of(self, user).await
    }

    async fn insert_member(
        &mut self,
        org: OrgId,
        user: UserId,
        roles: &[AssignedRole],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        members::insert(self, org, user, roles, now).await
    }

    async fn member_roles(
        &mut self,
        org: OrgId,
        user: UserId,
    ) -> StoreResult<Option<Vec<AssignedRole>>> {
        members::roles(self, org, user).await
    }

    async fn set_member_roles(
        &mut self,
        org: OrgId,
        user: UserId,
        roles: &[AssignedRole],
    ) -> StoreResult<()> {
        members::set_roles(self, org, user, roles).await
    }

    async fn delete_member(&mut self, org: OrgId, user: UserId) -> StoreResult<()> {
        members::delete(self, org, user).await
    }

    async fn members(
        &mut self,
        org: OrgId,
        after: Option<&After>,
        limit: u32,
    ) -> StoreResult<Vec<(User, Vec<AssignedRole>)>> {
        members::page(self, org, after, limit).await
    }

    async fn custom_roles(&mut self, org: OrgId) -> StoreResult<Vec<CustomRole>> {
        roles::of_org(self, org).await
    }

    async fn insert_custom_role(
        &mut self,
        org: OrgId,
        role: &CustomRole,
        name_key: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        roles::insert(self, org, role, name_key, now).await
    }

    async fn update_custom_role(
        &mut self,
        org: OrgId,
        role: &CustomRole,
        name_key: &str,
    ) -> StoreResult<()> {
        roles::update(self, org, role, name_key).await
    }

    async fn delete_custom_role(&mut self, org: OrgId, id: RoleId) -> StoreResult<()> {
        roles::delete(self, org, id).await
    }

    async fn role_holders(&mut self, org: OrgId, id: RoleId) -> StoreResult<u64> {
        roles::holders(self, org, id).await
    }

    async fn role_holders_roles(
        &mut self,
        org: OrgId,
        id: RoleId,
    ) -> StoreResult<Vec<Vec<AssignedRole>>> {
        roles::holders_roles(self, org, id).await
    }

    async fn count_projects(&mut self, org: OrgId) -> StoreResult<u64> {
        projects::count(self, org).await
    }

    async fn insert_project(&mut self, project: &Project, name_key: &str) -> StoreResult<()> {
        named::insert(self, project, name_key).await
    }

    async fn project_by_ref(&mut self, org: OrgId, key: &str) -> StoreResult<Option<Project>> {
        named::by_ref(self, org, key).await
    }

    async fn project_name_taken(&mut self, org: OrgId, name_key: &str) -> StoreResult<bool> {
        named::name_taken::<DB, Project>(self, org, name_key).await
    }

    async fn projects(
        &mut self,
        org: OrgId,
        after: Option<&After>,
        limit: u32,
    ) -> StoreResult<Vec<Project>> {
        named::page(self, org, after, limit).await
    }

    async fn update_project(&mut self, project: &Project, name_key: &str) -> StoreResult<()> {
        named::rename(self, project, name_key).await
    }

    async fn delete_project(&mut self, org: OrgId, id: ProjectId) -> StoreResult<()> {
        named::delete::<DB, Project>(self, org, id.0).await
    }

    async fn put_project_member(
        &mut self,
        org: OrgId,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
    ) -> StoreResult<()> {
        projects::put_member(self, org, project, user, role).await
    }

    async fn delete_project_member(
        &mut self,
        org: OrgId,
        project: ProjectId,
        user: UserId,
    ) -> StoreResult<bool> {
        projects::delete_member(self, org, project, user).await
    }

    async fn project_grants(&mut self, org: OrgId, user: UserId) -> StoreResult<Vec<ProjectGrant>> {
        projects::grants_of(self, org, user).await
    }

    async fn project_members(
        &mut self,
        project: ProjectId,
    ) -> StoreResult<Vec<(User, ProjectRole)>> {
        projects::members(self, project).await
    }

    async fn insert_group(&mut self, group: &Group, name_key: &str) -> StoreResult<()> {
        named::insert(self, group, name_key).await
    }

    async fn group_by_ref(&mut self, org: OrgId, key: &str) -> StoreResult<Option<Group>> {
        named::by_ref(self, org, key).await
    }

    async fn group_name_taken(&mut self, org: OrgId, name_key: &str) -> StoreResult<bool> {
        named::name_taken::<DB, Group>(self, org, name_key).await
    }

    async fn groups(
        &mut self,
        org: OrgId,
        after: Option<&After>,
        limit: u32,
    ) -> StoreResult<Vec<Group>> {
        named::page(self, org, after, limit).await
    }

    async fn update_group(&mut self, group: &Group, name_key: &str) -> StoreResult<()> {
        named::rename(self, group, name_key).await
    }

    async fn delete_group(&mut self, org: OrgId, id: GroupId) -> StoreResult<()> {
        named::delete::<DB, Group>(self, org, id.0).await
    }

    async fn group_members(&mut self, group: GroupId) -> StoreResult<Vec<User>> {
        groups::members(self, group).await
    }

    async fn group_projects(&mut self, group: GroupId) -> StoreResult<Vec<(Project, ProjectRole)>> {
        groups::projects(self, group).await
    }

    async fn put_group_member(
        &mut self,
        org: OrgId,
        group: GroupId,
        user: UserId,
    ) -> StoreResult<()> {
        groups::put_member(self, org, group, user).await
    }

    async fn delete_group_member(
        &mut self,
        org: OrgId,
        group: GroupId,
        user: UserId,
    ) -> StoreResult<bool> {
        groups::delete_member(self, org, group, user).await
    }

    async fn put_group_project(
        &mut self,
        org: OrgId,
        group: GroupId,
        project: ProjectId,
        role: ProjectRole,
    ) -> StoreResult<()> {
        groups::put_project(self, org, group, project, role).await
    }

    async fn delete_group_project(
        &mut self,
        org: OrgId,
        group: GroupId,
        project: ProjectId,
    ) -> StoreResult<bool> {
        groups::delete_project(self, org, group, project).await
    }

    async fn member_groups(&mut self, org: OrgId) -> StoreResult<Vec<(UserId, String)>> {
        groups::of_members(self, org).await
    }

    async fn group_counts(&mut self, org: OrgId) -> StoreResult<Vec<(GroupId, u64, u64)>> {
        groups::counts(self, org).await
    }

    async fn insert_transfer(&mut self, t: &Transfer) -> StoreResult<()> {
        transfers::insert(self, t).await
    }

    async fn pending_transfer(&mut self, org: OrgId) -> StoreResult<Option<Transfer>> {
        transfers::pending(self, org).await
    }

    async fn set_transfer_state(
        &mut self,
        id: TransferId,
        state: TransferState,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        transfers::set_state(self, id, state, at).await
    }

    async fn revision(&mut self) -> StoreResult<u64> {
        grants::revision(self).await
    }

    async fn member_grants(
        &mut self,
        org: OrgId,
        user: UserId,
    ) -> StoreResult<Option<(Vec<AssignedRole>, Vec<(ProjectId, ProjectRole)>)>> {
        let Some(roles) = members::roles(self, org, user).await? else {
            return Ok(None);
        };
        let granted = projects::grants_of(self, org, user)
            .await?
            .into_iter()
            .map(|g| (g.project, g.role))
            .collect();
        Ok(Some((roles, granted)))
    }

    async fn grant_changes_since(
        &mut self,
        revision: u64,
    ) -> StoreResult<(Vec<crate::store::GrantChange>, u64)> {
        grants::changes_since(self, revision).await
    }

    async fn load_grants(&mut self, org: Option<OrgId>) -> StoreResult<Vec<OrgSnapshot>> {
        grants::load(self, org).await
    }

    async fn audit(
        &mut self,
        org: OrgId,
        filter: &AuditFilter,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        audit::page(self, org, filter, limit).await
    }

    async fn insert_invitation(&mut self, inv: &Invitation, hash: &[u8]) -> StoreResult<()> {
        invitations::insert(self, inv, hash).await
    }

    async fn invitation(
        &mut self,
        org: OrgId,
        id: InvitationId,
    ) -> StoreResult<Option<Invitation>> {
        invitations::by_id(self, org, id).await
    }

    async fn invitation_by_hash(&mut self, hash: &[u8]) -> StoreResult<Option<Invitation>> {
        invitations::by_hash(self, hash).await
    }

    async fn pending_invitation(
        &mut self,
        org: OrgId,
        email_key: &str,
    ) -> StoreResult<Option<Invitation>> {
        invitations::pending(self, org, email_key).await
    }

    async fn org_invitations(
        &mut self,
        org: OrgId,
        after: Option<&After>,
        limit: u32,
    ) -> StoreResult<Vec<Invitation>> {
        invitations::of_org(self, org, after, limit).await
    }

    async fn invitations_to(&mut self, email_key: &str) -> StoreResult<Vec<Invitation>> {
        invitations::to_email(self, email_key).await
    }

    async fn close_invitation(
        &mut self,
        id: InvitationId,
        state: InvitationState,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        invitations::close(self, id, state, at).await
    }

    async fn renew_invitation(
        &mut self,
        id: InvitationId,
        hash: &[u8],
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        invitations::renew(self, id, hash, expires_at).await
    }

    async fn set_invitation_mail(
        &mut self,
        id: InvitationId,
        hash: &[u8],
        mail: MailState,
    ) -> StoreResult<bool> {
        invitations::set_mail(self, id, hash, mail).await
    }

    async fn insert_password_link(&mut self, link: &PasswordLink, hash: &[u8]) -> StoreResult<()> {
        users::insert_password_link(self, link, hash).await
    }

    async fn password_link_of(&mut self, user: UserId) -> StoreResult<Option<PasswordLink>> {
        users::password_link_of(self, user).await
    }

    async fn password_link_by_hash(&mut self, hash: &[u8]) -> StoreResult<Option<PasswordLink>> {
        users::password_link_by_hash(self, hash).await
    }

    async fn delete_password_links(&mut self, user: UserId) -> StoreResult<()> {
        users::delete_password_links(self, user).await
    }

    async fn set_password_hash(&mut self, user: UserId, hash: &str) -> StoreResult<()> {
        users::set_password_hash(self, user, hash).await
    }

    async fn delete_sessions_of(&mut self, user: UserId) -> StoreResult<u64> {
        users::delete_sessions_of(self, user).await
    }

    async fn queue_mail(
        &mut self,
        mail: &crate::mail::Mail,
        invitation: Option<(InvitationId, &[u8])>,
        now: DateTime<Utc>,
    ) -> StoreResult<uuid::Uuid> {
        outbox::queue(self, mail, invitation, now).await
    }

    async fn claim_mail(
        &mut self,
        only: Option<uuid::Uuid>,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<crate::mail::QueuedMail>> {
        outbox::claim(self, only, now, until, limit).await
    }

    async fn next_mail_due(&mut self) -> StoreResult<Option<DateTime<Utc>>> {
        outbox::next_due(self).await
    }

    async fn delete_mail(&mut self, id: uuid::Uuid) -> StoreResult<()> {
        outbox::delete(self, id).await
    }

    async fn retry_mail(&mut self, id: uuid::Uuid, due: DateTime<Utc>) -> StoreResult<()> {
        outbox::retry(self, id, due).await
    }
}
