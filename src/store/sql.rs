//! The queries, written once. Both backends accept this SQL as it stands (`$n` placeholders,
//! `RETURNING`, `ON CONFLICT`, row-value comparisons, partial indexes), so `impl_tx!` instantiates
//! the same `Tx` implementation for each; a backend module supplies `LOCK_ORG` (its locking
//! statement) and `db_err` (its error mapping).

macro_rules! impl_tx {
    ($tx:ident, $db:ty) => {
        use crate::domain::audit::{AuditEvent, AuditRecord};
        use crate::domain::ids::{
            GroupId, OrgId, ProjectId, RoleId, SessionId, TokenId, TransferId, UserId,
        };
        use crate::domain::model::{
            ApiToken, Group, Org, OrgWithOwner, Project, Transfer, TransferState, User,
        };
        use crate::domain::permission::ProjectRole;
        use crate::domain::role::{AssignedRole, CustomRole};
        use crate::store::{
            After, AuditFilter, Committed, OrgSnapshot, ProjectGrant, SessionRecord, Tx,
            perms_from_json,
            perms_to_json,
        };
        use chrono::{DateTime, Utc};
        use sqlx::Row as _;
        use sqlx::types::Json;
        use uuid::Uuid;

        type DbRow = <$db as sqlx::Database>::Row;

        /// One open transaction on this backend.
        pub struct $tx {
            conn: sqlx::Transaction<'static, $db>,
            /// Organizations whose grants this transaction changed.
            touched: Vec<OrgId>,
        }

        impl $tx {
            pub(super) fn new(conn: sqlx::Transaction<'static, $db>) -> Self {
                Self {
                    conn,
                    touched: Vec::new(),
                }
            }

            /// Notes that `org`'s grants change in this transaction, so the commit bumps the
            /// revision and logs it. Done here, in the store, so no use case can forget it.
            fn touch(&mut self, org: OrgId) {
                if !self.touched.contains(&org) {
                    self.touched.push(org);
                }
            }

            async fn insert_roles(
                &mut self,
                org: OrgId,
                user: UserId,
                roles: &[AssignedRole],
            ) -> StoreResult<()> {
                for role in roles {
                    let (builtin, custom) = match role {
                        AssignedRole::Builtin(b) => (Some(b.as_str()), None),
                        AssignedRole::Custom(c) => (None, Some(c.id.0)),
                    };
                    sqlx::query(
                        "INSERT INTO member_roles (org_id, user_id, builtin, custom_role_id) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(org.0)
                    .bind(user.0)
                    .bind(builtin)
                    .bind(custom)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                }
                Ok(())
            }
        }

        fn get<'r, T>(row: &'r DbRow, col: &str) -> StoreResult<T>
        where
            T: sqlx::Decode<'r, $db> + sqlx::Type<$db>,
        {
            row.try_get(col).map_err(db_err)
        }

        fn user_from(row: &DbRow, prefix: &str) -> StoreResult<User> {
            Ok(User {
                id: UserId(get(row, &format!("{prefix}id"))?),
                email: get(row, &format!("{prefix}email"))?,
                name: get(row, &format!("{prefix}name"))?,
                created_at: get(row, &format!("{prefix}created_at"))?,
                disabled_at: get(row, &format!("{prefix}disabled_at"))?,
            })
        }

        fn org_from(row: &DbRow) -> StoreResult<Org> {
            Ok(Org {
                id: OrgId(get(row, "id")?),
                name: get(row, "name")?,
                slug: get(row, "slug")?,
                personal: get(row, "personal")?,
                created_at: get(row, "created_at")?,
            })
        }

        fn role_from(row: &DbRow) -> StoreResult<Option<AssignedRole>> {
            grants::role_from_parts(
                get(row, "builtin")?,
                get(row, "cr_id")?,
                get(row, "cr_name")?,
                get::<Option<Json<Vec<String>>>>(row, "cr_perms")?.map(|p| p.0),
            )
        }

        type DbQuery<'q> = sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>;

        /// Binds the organization a scoped query is limited to, if any.
        fn scoped(q: DbQuery<'_>, org: Option<Uuid>) -> DbQuery<'_> {
            match org {
                Some(o) => q.bind(o),
                None => q,
            }
        }

        fn project_from(row: &DbRow) -> StoreResult<Project> {
            Ok(Project {
                id: ProjectId(get(row, "id")?),
                org: OrgId(get(row, "org_id")?),
                name: get(row, "name")?,
                created_at: get(row, "created_at")?,
            })
        }

        fn group_from(row: &DbRow) -> StoreResult<Group> {
            Ok(Group {
                id: GroupId(get(row, "id")?),
                org: OrgId(get(row, "org_id")?),
                name: get(row, "name")?,
                created_at: get(row, "created_at")?,
            })
        }

        fn project_role(s: String) -> StoreResult<ProjectRole> {
            crate::store::grants::project_role(&s)
        }

        fn token_from(row: &DbRow) -> StoreResult<ApiToken> {
            let perms: Option<Json<Vec<String>>> = get(row, "permissions")?;
            Ok(ApiToken {
                id: TokenId(get(row, "id")?),
                user: UserId(get(row, "user_id")?),
                name: get(row, "name")?,
                org: get::<Option<Uuid>>(row, "org_id")?.map(OrgId),
                permissions: perms.map(|p| perms_from_json(&p.0)).transpose()?,
                created_at: get(row, "created_at")?,
                expires_at: get(row, "expires_at")?,
                can_check: get(row, "can_check")?,
            })
        }

        const USER_COLS: &str = "u.id AS u_id, u.email AS u_email, u.name AS u_name, \
                                 u.created_at AS u_created_at, u.disabled_at AS u_disabled_at";
        use crate::store::grants::{self, GrantQueries, ROLE_COLS, Snapshots};

        #[async_trait::async_trait]
        impl Tx for $tx {
            async fn commit(mut self: Box<Self>, events: Vec<AuditEvent>) -> StoreResult<Committed> {
                if events.is_empty() {
                    return Err(StoreError::Unaudited);
                }
                for e in &events {
                    sqlx::query(
                        "INSERT INTO audit_events (id, at, org_id, actor_id, token_id, action, \
                         target_type, target_id, data, ip) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                    )
                    .bind(e.id)
                    .bind(e.at)
                    .bind(e.org.map(|o| o.0))
                    .bind(e.actor.map(|u| u.0))
                    .bind(e.token.map(|t| t.0))
                    .bind(e.action.as_str())
                    .bind(e.target_type)
                    .bind(&e.target_id)
                    .bind(Json(&e.data))
                    .bind(e.ip.as_deref())
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                }
                let mut committed = Committed::default();
                if !self.touched.is_empty() {
                    // Last write of the transaction: the counter's row lock is held only until the
                    // commit just below, and makes revisions commit in order.
                    let row = sqlx::query(
                        "UPDATE grant_revision SET revision = revision + 1 WHERE id = 1 \
                         RETURNING revision",
                    )
                    .fetch_one(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    let revision: i64 = get(&row, "revision")?;
                    for org in std::mem::take(&mut self.touched) {
                        sqlx::query("INSERT INTO grant_changes (revision, org_id) VALUES ($1, $2)")
                            .bind(revision)
                            .bind(org.0)
                            .execute(&mut *self.conn)
                            .await
                            .map_err(db_err)?;
                    }
                    if let Some(notify) = NOTIFY {
                        sqlx::query(notify)
                            .bind(revision.to_string())
                            .execute(&mut *self.conn)
                            .await
                            .map_err(db_err)?;
                    }
                    committed.revision = u64::try_from(revision).ok();
                }
                self.conn.commit().await.map_err(db_err)?;
                Ok(committed)
            }

            async fn commit_bookkeeping(self: Box<Self>) -> StoreResult<()> {
                self.conn.commit().await.map_err(db_err)
            }

            async fn insert_user(
                &mut self,
                user: &User,
                email_key: &str,
                password_hash: Option<&str>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO users (id, email, email_key, name, password_hash, created_at, \
                     disabled_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(user.id.0)
                .bind(&user.email)
                .bind(email_key)
                .bind(&user.name)
                .bind(password_hash)
                .bind(user.created_at)
                .bind(user.disabled_at)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn user_by_id(&mut self, id: UserId) -> StoreResult<Option<User>> {
                let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1");
                sqlx::query(&sql)
                    .bind(id.0)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?
                    .map(|r| user_from(&r, "u_"))
                    .transpose()
            }

            async fn user_by_email(
                &mut self,
                email_key: &str,
            ) -> StoreResult<Option<(User, Option<String>)>> {
                let sql = format!(
                    "SELECT {USER_COLS}, u.password_hash FROM users u WHERE u.email_key = $1"
                );
                let row = sqlx::query(&sql)
                    .bind(email_key)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                row.map(|r| Ok((user_from(&r, "u_")?, get(&r, "password_hash")?)))
                    .transpose()
            }

            async fn insert_session(
                &mut self,
                id: SessionId,
                user: UserId,
                hash: &[u8],
                now: DateTime<Utc>,
                expires_at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id.0)
                .bind(user.0)
                .bind(hash)
                .bind(now)
                .bind(expires_at)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn session_by_hash(&mut self, hash: &[u8]) -> StoreResult<Option<SessionRecord>> {
                let sql = format!(
                    "SELECT s.id AS s_id, s.expires_at AS s_expires_at, {USER_COLS} \
                     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1"
                );
                let row = sqlx::query(&sql)
                    .bind(hash)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                row.map(|r| {
                    Ok(SessionRecord {
                        id: SessionId(get(&r, "s_id")?),
                        user: user_from(&r, "u_")?,
                        expires_at: get(&r, "s_expires_at")?,
                    })
                })
                .transpose()
            }

            async fn delete_session(&mut self, id: SessionId) -> StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE id = $1")
                    .bind(id.0)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn signin_failures(
                &mut self,
                key: &str,
            ) -> StoreResult<Option<(u32, DateTime<Utc>)>> {
                let row = sqlx::query(
                    "SELECT failures, last_failure_at FROM signin_failures WHERE key = $1",
                )
                .bind(key)
                .fetch_optional(&mut *self.conn)
                .await
                .map_err(db_err)?;
                row.map(|r| {
                    let n: i32 = get(&r, "failures")?;
                    Ok((u32::try_from(n).unwrap_or(0), get(&r, "last_failure_at")?))
                })
                .transpose()
            }

            async fn set_signin_failures(
                &mut self,
                key: &str,
                failures: u32,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO signin_failures (key, failures, last_failure_at) \
                     VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE \
                     SET failures = excluded.failures, last_failure_at = excluded.last_failure_at",
                )
                .bind(key)
                .bind(i32::try_from(failures).unwrap_or(i32::MAX))
                .bind(at)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn clear_signin_failures(&mut self, key: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM signin_failures WHERE key = $1")
                    .bind(key)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn insert_token(&mut self, token: &ApiToken, hash: &[u8]) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO api_tokens (id, user_id, name, token_hash, org_id, permissions, \
                     created_at, expires_at, can_check) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(token.id.0)
                .bind(token.user.0)
                .bind(&token.name)
                .bind(hash)
                .bind(token.org.map(|o| o.0))
                .bind(token.permissions.map(perms_to_json))
                .bind(token.created_at)
                .bind(token.expires_at)
                .bind(token.can_check)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn token_by_hash(&mut self, hash: &[u8]) -> StoreResult<Option<(ApiToken, User)>> {
                let sql = format!(
                    "SELECT t.id, t.user_id, t.name, t.org_id, t.permissions, t.created_at, \
                     t.expires_at, t.can_check, {USER_COLS} \
                     FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1"
                );
                let row = sqlx::query(&sql)
                    .bind(hash)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                row.map(|r| Ok((token_from(&r)?, user_from(&r, "u_")?)))
                    .transpose()
            }

            async fn tokens_of(&mut self, user: UserId) -> StoreResult<Vec<ApiToken>> {
                sqlx::query(
                    "SELECT id, user_id, name, org_id, permissions, created_at, expires_at, can_check \
                     FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC",
                )
                .bind(user.0)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(db_err)?
                .iter()
                .map(token_from)
                .collect()
            }

            async fn delete_token(&mut self, user: UserId, id: TokenId) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM api_tokens WHERE user_id = $1 AND id = $2")
                    .bind(user.0)
                    .bind(id.0)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn insert_org(&mut self, org: &Org, name_key: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO orgs (id, name, name_key, slug, personal, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(org.id.0)
                .bind(&org.name)
                .bind(name_key)
                .bind(&org.slug)
                .bind(org.personal)
                .bind(org.created_at)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn org_by_id(&mut self, id: OrgId) -> StoreResult<Option<OrgWithOwner>> {
                let sql = format!(
                    "SELECT o.id, o.name, o.slug, o.personal, o.created_at, {USER_COLS} \
                     FROM orgs o \
                     JOIN member_roles omr ON omr.org_id = o.id AND omr.builtin = 'owner' \
                     JOIN users u ON u.id = omr.user_id WHERE o.id = $1"
                );
                let row = sqlx::query(&sql)
                    .bind(id.0)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                row.map(|r| {
                    Ok(OrgWithOwner {
                        org: org_from(&r)?,
                        owner: user_from(&r, "u_")?,
                    })
                })
                .transpose()
            }

            async fn org_name_taken(&mut self, name_key: &str) -> StoreResult<bool> {
                let row = sqlx::query("SELECT 1 AS one FROM orgs WHERE name_key = $1")
                    .bind(name_key)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(row.is_some())
            }

            async fn slug_taken(&mut self, slug: &str) -> StoreResult<bool> {
                Ok(self.org_id_by_slug(slug).await?.is_some())
            }

            async fn org_id_by_slug(&mut self, slug: &str) -> StoreResult<Option<OrgId>> {
                let row = sqlx::query("SELECT id FROM orgs WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                row.map(|r| get(&r, "id").map(OrgId)).transpose()
            }

            async fn lock_org(&mut self, id: OrgId) -> StoreResult<bool> {
                let row = sqlx::query(LOCK_ORG)
                    .bind(id.0)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(row.is_some())
            }

            async fn update_org(&mut self, org: &Org, name_key: &str) -> StoreResult<()> {
                sqlx::query("UPDATE orgs SET name = $2, name_key = $3, slug = $4 WHERE id = $1")
                    .bind(org.id.0)
                    .bind(&org.name)
                    .bind(name_key)
                    .bind(&org.slug)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn delete_org(&mut self, id: OrgId) -> StoreResult<()> {
                self.touch(id);
                // Roles first: they reference both memberships and custom roles.
                for sql in [
                    "DELETE FROM member_roles WHERE org_id = $1",
                    "DELETE FROM orgs WHERE id = $1",
                ] {
                    sqlx::query(sql)
                        .bind(id.0)
                        .execute(&mut *self.conn)
                        .await
                        .map_err(db_err)?;
                }
                Ok(())
            }

            async fn orgs_of(
                &mut self,
                user: UserId,
                name_contains: Option<&str>,
                after: Option<&After>,
                limit: u32,
            ) -> StoreResult<Vec<(OrgWithOwner, Vec<AssignedRole>)>> {
                let pattern = name_contains.map(|q| {
                    let escaped = q
                        .to_lowercase()
                        .replace('\\', "\\\\")
                        .replace('%', "\\%")
                        .replace('_', "\\_");
                    format!("%{escaped}%")
                });
                let sql = format!(
                    "WITH page AS ( \
                       SELECT o.id, o.name, o.name_key, o.slug, o.personal, o.created_at \
                       FROM memberships m JOIN orgs o ON o.id = m.org_id \
                       WHERE m.user_id = $1 \
                         AND ($2 IS NULL OR o.name_key LIKE $2 ESCAPE '\\') \
                         AND ($3 IS NULL OR (o.name_key, o.id) > ($3, $4)) \
                       ORDER BY o.name_key, o.id LIMIT $5) \
                     SELECT page.*, {USER_COLS}, {ROLE_COLS} \
                     FROM page \
                     JOIN member_roles omr ON omr.org_id = page.id AND omr.builtin = 'owner' \
                     JOIN users u ON u.id = omr.user_id \
                     JOIN member_roles mr ON mr.org_id = page.id AND mr.user_id = $1 \
                     LEFT JOIN custom_roles cr ON cr.id = mr.custom_role_id \
                     ORDER BY page.name_key, page.id"
                );
                let rows = sqlx::query(&sql)
                    .bind(user.0)
                    .bind(pattern)
                    .bind(after.map(|a| a.key.clone()))
                    .bind(after.map(|a| a.id))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                let mut out: Vec<(OrgWithOwner, Vec<AssignedRole>)> = Vec::new();
                for r in &rows {
                    let id = OrgId(get(r, "id")?);
                    if out.last().is_none_or(|(o, _)| o.org.id != id) {
                        out.push((
                            OrgWithOwner {
                                org: org_from(r)?,
                                owner: user_from(r, "u_")?,
                            },
                            Vec::new(),
                        ));
                    }
                    if let (Some(role), Some((_, roles))) = (role_from(r)?, out.last_mut()) {
                        roles.push(role);
                    }
                }
                Ok(out)
            }

            async fn all_roles_of(&mut self, user: UserId) -> StoreResult<Vec<AssignedRole>> {
                let sql = format!(
                    "SELECT {ROLE_COLS} FROM member_roles mr \
                     LEFT JOIN custom_roles cr ON cr.id = mr.custom_role_id WHERE mr.user_id = $1"
                );
                let rows = sqlx::query(&sql)
                    .bind(user.0)
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                let mut out = Vec::new();
                for r in &rows {
                    out.extend(role_from(r)?);
                }
                Ok(out)
            }

            async fn insert_member(
                &mut self,
                org: OrgId,
                user: UserId,
                roles: &[AssignedRole],
                now: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO memberships (org_id, user_id, created_at) VALUES ($1, $2, $3)",
                )
                .bind(org.0)
                .bind(user.0)
                .bind(now)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                self.touch(org);
                self.insert_roles(org, user, roles).await
            }

            async fn member_roles(
                &mut self,
                org: OrgId,
                user: UserId,
            ) -> StoreResult<Option<Vec<AssignedRole>>> {
                let sql = format!(
                    "SELECT {ROLE_COLS} FROM memberships m \
                     LEFT JOIN member_roles mr ON mr.org_id = m.org_id AND mr.user_id = m.user_id \
                     LEFT JOIN custom_roles cr ON cr.id = mr.custom_role_id \
                     WHERE m.org_id = $1 AND m.user_id = $2"
                );
                let rows = sqlx::query(&sql)
                    .bind(org.0)
                    .bind(user.0)
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                if rows.is_empty() {
                    return Ok(None);
                }
                let mut roles = Vec::new();
                for r in &rows {
                    roles.extend(role_from(r)?);
                }
                Ok(Some(roles))
            }

            async fn set_member_roles(
                &mut self,
                org: OrgId,
                user: UserId,
                roles: &[AssignedRole],
            ) -> StoreResult<()> {
                sqlx::query("DELETE FROM member_roles WHERE org_id = $1 AND user_id = $2")
                    .bind(org.0)
                    .bind(user.0)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                self.touch(org);
                self.insert_roles(org, user, roles).await
            }

            async fn delete_member(&mut self, org: OrgId, user: UserId) -> StoreResult<()> {
                self.touch(org);
                for sql in [
                    "DELETE FROM member_roles WHERE org_id = $1 AND user_id = $2",
                    "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2",
                    "DELETE FROM api_tokens WHERE org_id = $1 AND user_id = $2",
                ] {
                    sqlx::query(sql)
                        .bind(org.0)
                        .bind(user.0)
                        .execute(&mut *self.conn)
                        .await
                        .map_err(db_err)?;
                }
                Ok(())
            }

            async fn members(
                &mut self,
                org: OrgId,
                after: Option<&After>,
                limit: u32,
            ) -> StoreResult<Vec<(User, Vec<AssignedRole>)>> {
                let sql = format!(
                    "WITH page AS ( \
                       SELECT u.id, u.email, u.email_key, u.name, u.created_at, u.disabled_at \
                       FROM memberships m JOIN users u ON u.id = m.user_id \
                       WHERE m.org_id = $1 AND ($2 IS NULL OR (u.email_key, u.id) > ($2, $3)) \
                       ORDER BY u.email_key, u.id LIMIT $4) \
                     SELECT page.id AS u_id, page.email AS u_email, page.name AS u_name, \
                       page.created_at AS u_created_at, page.disabled_at AS u_disabled_at, \
                       {ROLE_COLS} \
                     FROM page \
                     LEFT JOIN member_roles mr ON mr.org_id = $1 AND mr.user_id = page.id \
                     LEFT JOIN custom_roles cr ON cr.id = mr.custom_role_id \
                     ORDER BY page.email_key, page.id"
                );
                let rows = sqlx::query(&sql)
                    .bind(org.0)
                    .bind(after.map(|a| a.key.clone()))
                    .bind(after.map(|a| a.id))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                let mut out: Vec<(User, Vec<AssignedRole>)> = Vec::new();
                for r in &rows {
                    let id = UserId(get(r, "u_id")?);
                    if out.last().is_none_or(|(u, _)| u.id != id) {
                        out.push((user_from(r, "u_")?, Vec::new()));
                    }
                    if let (Some(role), Some((_, roles))) = (role_from(r)?, out.last_mut()) {
                        roles.push(role);
                    }
                }
                Ok(out)
            }

            async fn custom_roles(&mut self, org: OrgId) -> StoreResult<Vec<CustomRole>> {
                let rows = sqlx::query(
                    "SELECT NULL AS builtin, id AS cr_id, name AS cr_name, \
                     permissions AS cr_perms FROM custom_roles WHERE org_id = $1 \
                     ORDER BY name_key",
                )
                .bind(org.0)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(db_err)?;
                let mut out = Vec::new();
                for r in &rows {
                    if let Some(AssignedRole::Custom(c)) = role_from(r)? {
                        out.push(c);
                    }
                }
                Ok(out)
            }

            async fn insert_custom_role(
                &mut self,
                org: OrgId,
                role: &CustomRole,
                name_key: &str,
                now: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO custom_roles (id, org_id, name, name_key, permissions, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(role.id.0)
                .bind(org.0)
                .bind(&role.name)
                .bind(name_key)
                .bind(perms_to_json(role.permissions))
                .bind(now)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn update_custom_role(
                &mut self,
                org: OrgId,
                role: &CustomRole,
                name_key: &str,
            ) -> StoreResult<()> {
                self.touch(org);
                sqlx::query(
                    "UPDATE custom_roles SET name = $3, name_key = $4, permissions = $5 \
                     WHERE org_id = $1 AND id = $2",
                )
                .bind(org.0)
                .bind(role.id.0)
                .bind(&role.name)
                .bind(name_key)
                .bind(perms_to_json(role.permissions))
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn delete_custom_role(&mut self, org: OrgId, id: RoleId) -> StoreResult<()> {
                sqlx::query("DELETE FROM custom_roles WHERE org_id = $1 AND id = $2")
                    .bind(org.0)
                    .bind(id.0)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn role_holders(&mut self, org: OrgId, id: RoleId) -> StoreResult<u64> {
                let row = sqlx::query(
                    "SELECT COUNT(*) AS n FROM member_roles WHERE org_id = $1 AND custom_role_id = $2",
                )
                .bind(org.0)
                .bind(id.0)
                .fetch_one(&mut *self.conn)
                .await
                .map_err(db_err)?;
                let n: i64 = get(&row, "n")?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn count_projects(&mut self, org: OrgId) -> StoreResult<u64> {
                let row = sqlx::query("SELECT COUNT(*) AS n FROM projects WHERE org_id = $1")
                    .bind(org.0)
                    .fetch_one(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                let n: i64 = get(&row, "n")?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn insert_project(&mut self, project: &Project, name_key: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO projects (id, org_id, name, name_key, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(project.id.0)
                .bind(project.org.0)
                .bind(&project.name)
                .bind(name_key)
                .bind(project.created_at)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                self.touch(project.org);
                Ok(())
            }

            async fn project_by_ref(&mut self, org: OrgId, key: &str) -> StoreResult<Option<Project>> {
                let id = Uuid::parse_str(key).ok();
                let row = sqlx::query(
                    "SELECT id, org_id, name, created_at FROM projects \
                     WHERE org_id = $1 AND (id = $2 OR name_key = $3)",
                )
                .bind(org.0)
                .bind(id)
                .bind(key.trim().to_lowercase())
                .fetch_optional(&mut *self.conn)
                .await
                .map_err(db_err)?;
                row.map(|r| project_from(&r)).transpose()
            }

            async fn project_name_taken(&mut self, org: OrgId, name_key: &str) -> StoreResult<bool> {
                let row = sqlx::query("SELECT 1 AS one FROM projects WHERE org_id = $1 AND name_key = $2")
                    .bind(org.0)
                    .bind(name_key)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(row.is_some())
            }

            async fn projects(&mut self, org: OrgId, after: Option<&After>, limit: u32) -> StoreResult<Vec<Project>> {
                sqlx::query(
                    "SELECT id, org_id, name, created_at FROM projects \
                     WHERE org_id = $1 AND ($2 IS NULL OR (name_key, id) > ($2, $3)) \
                     ORDER BY name_key, id LIMIT $4",
                )
                .bind(org.0)
                .bind(after.map(|a| a.key.clone()))
                .bind(after.map(|a| a.id))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.conn)
                .await
                .map_err(db_err)?
                .iter()
                .map(project_from)
                .collect()
            }

            async fn update_project(&mut self, project: &Project, name_key: &str) -> StoreResult<()> {
                sqlx::query("UPDATE projects SET name = $3, name_key = $4 WHERE org_id = $1 AND id = $2")
                    .bind(project.org.0)
                    .bind(project.id.0)
                    .bind(&project.name)
                    .bind(name_key)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                self.touch(project.org);
                Ok(())
            }

            async fn delete_project(&mut self, org: OrgId, id: ProjectId) -> StoreResult<()> {
                sqlx::query("DELETE FROM projects WHERE org_id = $1 AND id = $2")
                    .bind(org.0)
                    .bind(id.0)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                self.touch(org);
                Ok(())
            }

            async fn put_project_member(
                &mut self,
                org: OrgId,
                project: ProjectId,
                user: UserId,
                role: ProjectRole,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO project_members (project_id, org_id, user_id, role) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
                )
                .bind(project.0)
                .bind(org.0)
                .bind(user.0)
                .bind(role.as_str())
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                self.touch(org);
                Ok(())
            }

            async fn delete_project_member(
                &mut self,
                org: OrgId,
                project: ProjectId,
                user: UserId,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "DELETE FROM project_members WHERE org_id = $1 AND project_id = $2 AND user_id = $3",
                )
                .bind(org.0)
                .bind(project.0)
                .bind(user.0)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                self.touch(org);
                Ok(done.rows_affected() > 0)
            }

            async fn project_grants(&mut self, org: OrgId, user: UserId) -> StoreResult<Vec<ProjectGrant>> {
                let rows = sqlx::query(
                    "SELECT p.id, p.name, pm.role, NULL AS group_name \
                     FROM project_members pm JOIN projects p ON p.id = pm.project_id \
                     WHERE pm.org_id = $1 AND pm.user_id = $2 \
                     UNION ALL \
                     SELECT p.id, p.name, gp.role, g.name AS group_name \
                     FROM group_members gm \
                     JOIN groups g ON g.id = gm.group_id \
                     JOIN group_projects gp ON gp.group_id = gm.group_id \
                     JOIN projects p ON p.id = gp.project_id \
                     WHERE gm.org_id = $1 AND gm.user_id = $2",
                )
                .bind(org.0)
                .bind(user.0)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        Ok(ProjectGrant {
                            project: ProjectId(get(r, "id")?),
                            project_name: get(r, "name")?,
                            role: project_role(get(r, "role")?)?,
                            group: get(r, "group_name")?,
                        })
                    })
                    .collect()
            }

            async fn insert_group(&mut self, group: &Group, name_key: &str) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO groups (id, org_id, name, name_key, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(group.id.0)
                .bind(group.org.0)
                .bind(&group.name)
                .bind(name_key)
                .bind(group.created_at)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn group_by_ref(&mut self, org: OrgId, key: &str) -> StoreResult<Option<Group>> {
                let id = Uuid::parse_str(key).ok();
                let row = sqlx::query(
                    "SELECT id, org_id, name, created_at FROM groups \
                     WHERE org_id = $1 AND (id = $2 OR name_key = $3)",
                )
                .bind(org.0)
                .bind(id)
                .bind(key.trim().to_lowercase())
                .fetch_optional(&mut *self.conn)
                .await
                .map_err(db_err)?;
                row.map(|r| group_from(&r)).transpose()
            }

            async fn group_name_taken(&mut self, org: OrgId, name_key: &str) -> StoreResult<bool> {
                let row = sqlx::query("SELECT 1 AS one FROM groups WHERE org_id = $1 AND name_key = $2")
                    .bind(org.0)
                    .bind(name_key)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(row.is_some())
            }

            async fn groups(&mut self, org: OrgId, after: Option<&After>, limit: u32) -> StoreResult<Vec<Group>> {
                sqlx::query(
                    "SELECT id, org_id, name, created_at FROM groups \
                     WHERE org_id = $1 AND ($2 IS NULL OR (name_key, id) > ($2, $3)) \
                     ORDER BY name_key, id LIMIT $4",
                )
                .bind(org.0)
                .bind(after.map(|a| a.key.clone()))
                .bind(after.map(|a| a.id))
                .bind(i64::from(limit))
                .fetch_all(&mut *self.conn)
                .await
                .map_err(db_err)?
                .iter()
                .map(group_from)
                .collect()
            }

            async fn update_group(&mut self, group: &Group, name_key: &str) -> StoreResult<()> {
                sqlx::query("UPDATE groups SET name = $3, name_key = $4 WHERE org_id = $1 AND id = $2")
                    .bind(group.org.0)
                    .bind(group.id.0)
                    .bind(&group.name)
                    .bind(name_key)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                self.touch(group.org);
                Ok(())
            }

            async fn delete_group(&mut self, org: OrgId, id: GroupId) -> StoreResult<()> {
                sqlx::query("DELETE FROM groups WHERE org_id = $1 AND id = $2")
                    .bind(org.0)
                    .bind(id.0)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                self.touch(org);
                Ok(())
            }

            async fn group_members(&mut self, group: GroupId) -> StoreResult<Vec<User>> {
                let sql = format!(
                    "SELECT {USER_COLS} FROM group_members gm JOIN users u ON u.id = gm.user_id \
                     WHERE gm.group_id = $1 ORDER BY u.email_key, u.id"
                );
                sqlx::query(&sql)
                    .bind(group.0)
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err(db_err)?
                    .iter()
                    .map(|r| user_from(r, "u_"))
                    .collect()
            }

            async fn group_projects(&mut self, group: GroupId) -> StoreResult<Vec<(Project, ProjectRole)>> {
                sqlx::query(
                    "SELECT p.id, p.org_id, p.name, p.created_at, gp.role \
                     FROM group_projects gp JOIN projects p ON p.id = gp.project_id \
                     WHERE gp.group_id = $1 ORDER BY p.name_key, p.id",
                )
                .bind(group.0)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(db_err)?
                .iter()
                .map(|r| Ok((project_from(r)?, project_role(get(r, "role")?)?)))
                .collect()
            }

            async fn put_group_member(&mut self, org: OrgId, group: GroupId, user: UserId) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO group_members (group_id, org_id, user_id) VALUES ($1, $2, $3) \
                     ON CONFLICT (group_id, user_id) DO NOTHING",
                )
                .bind(group.0)
                .bind(org.0)
                .bind(user.0)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                self.touch(org);
                Ok(())
            }

            async fn delete_group_member(&mut self, org: OrgId, group: GroupId, user: UserId) -> StoreResult<bool> {
                let done = sqlx::query(
                    "DELETE FROM group_members WHERE org_id = $1 AND group_id = $2 AND user_id = $3",
                )
                .bind(org.0)
                .bind(group.0)
                .bind(user.0)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                self.touch(org);
                Ok(done.rows_affected() > 0)
            }

            async fn put_group_project(
                &mut self,
                org: OrgId,
                group: GroupId,
                project: ProjectId,
                role: ProjectRole,
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO group_projects (group_id, project_id, role) VALUES ($1, $2, $3) \
                     ON CONFLICT (group_id, project_id) DO UPDATE SET role = excluded.role",
                )
                .bind(group.0)
                .bind(project.0)
                .bind(role.as_str())
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                self.touch(org);
                Ok(())
            }

            async fn delete_group_project(
                &mut self,
                org: OrgId,
                group: GroupId,
                project: ProjectId,
            ) -> StoreResult<bool> {
                let done = sqlx::query("DELETE FROM group_projects WHERE group_id = $1 AND project_id = $2")
                    .bind(group.0)
                    .bind(project.0)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                self.touch(org);
                Ok(done.rows_affected() > 0)
            }

            async fn member_groups(&mut self, org: OrgId) -> StoreResult<Vec<(UserId, String)>> {
                sqlx::query(
                    "SELECT gm.user_id, g.name FROM group_members gm \
                     JOIN groups g ON g.id = gm.group_id WHERE gm.org_id = $1 ORDER BY g.name_key",
                )
                .bind(org.0)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(db_err)?
                .iter()
                .map(|r| Ok((UserId(get(r, "user_id")?), get(r, "name")?)))
                .collect()
            }

            async fn insert_transfer(&mut self, t: &Transfer) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO transfers (id, org_id, from_user, to_user, state, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(t.id.0)
                .bind(t.org.0)
                .bind(t.from.0)
                .bind(t.to.0)
                .bind(t.state.as_str())
                .bind(t.created_at)
                .bind(t.expires_at)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn pending_transfer(&mut self, org: OrgId) -> StoreResult<Option<Transfer>> {
                let row = sqlx::query(
                    "SELECT id, org_id, from_user, to_user, state, created_at, expires_at \
                     FROM transfers WHERE org_id = $1 AND state = 'pending'",
                )
                .bind(org.0)
                .fetch_optional(&mut *self.conn)
                .await
                .map_err(db_err)?;
                row.map(|r| {
                    let state: String = get(&r, "state")?;
                    Ok(Transfer {
                        id: TransferId(get(&r, "id")?),
                        org: OrgId(get(&r, "org_id")?),
                        from: UserId(get(&r, "from_user")?),
                        to: UserId(get(&r, "to_user")?),
                        state: TransferState::parse(&state)
                            .ok_or_else(|| StoreError::Corrupt(format!("unknown transfer state `{state}`")))?,
                        created_at: get(&r, "created_at")?,
                        expires_at: get(&r, "expires_at")?,
                    })
                })
                .transpose()
            }

            async fn set_transfer_state(
                &mut self,
                id: TransferId,
                state: TransferState,
                at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query("UPDATE transfers SET state = $2, decided_at = $3 WHERE id = $1")
                    .bind(id.0)
                    .bind(state.as_str())
                    .bind(at)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn revision(&mut self) -> StoreResult<u64> {
                let row = sqlx::query(grants::REVISION)
                    .fetch_one(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                grants::revision_from(get(&row, "revision")?)
            }

            async fn grant_changes_since(&mut self, revision: u64) -> StoreResult<(Vec<OrgId>, u64)> {
                let since = i64::try_from(revision).unwrap_or(i64::MAX);
                let rows = sqlx::query(
                    "SELECT revision, org_id FROM grant_changes WHERE revision > $1 ORDER BY revision",
                )
                .bind(since)
                .fetch_all(&mut *self.conn)
                .await
                .map_err(db_err)?;
                let mut orgs = Vec::new();
                let mut newest = revision;
                for r in &rows {
                    let rev: i64 = get(r, "revision")?;
                    newest = newest.max(u64::try_from(rev).unwrap_or(0));
                    let org = OrgId(get(r, "org_id")?);
                    if !orgs.contains(&org) {
                        orgs.push(org);
                    }
                }
                Ok((orgs, newest))
            }

            async fn load_grants(&mut self, org: Option<OrgId>) -> StoreResult<Vec<OrgSnapshot>> {
                use futures_util::TryStreamExt as _;
                let only = org.map(|o| o.0);
                let q = GrantQueries::new(only.is_some());
                let mut snaps = Snapshots::default();
                let mut rows = scoped(sqlx::query(&q.members), only).fetch(&mut *self.conn);
                while let Some(r) = rows.try_next().await.map_err(db_err)? {
                    snaps.member(OrgId(get(&r, "org_id")?), UserId(get(&r, "user_id")?), role_from(&r)?);
                }
                drop(rows);
                let mut rows = scoped(sqlx::query(&q.projects), only).fetch(&mut *self.conn);
                while let Some(r) = rows.try_next().await.map_err(db_err)? {
                    snaps.project(OrgId(get(&r, "org_id")?), ProjectId(get(&r, "id")?), get(&r, "name")?);
                }
                drop(rows);
                let mut rows = scoped(sqlx::query(&q.groups), only).fetch(&mut *self.conn);
                while let Some(r) = rows.try_next().await.map_err(db_err)? {
                    snaps.group(OrgId(get(&r, "org_id")?), GroupId(get(&r, "id")?), get(&r, "name")?);
                }
                drop(rows);
                let mut rows = scoped(sqlx::query(&q.direct), only).fetch(&mut *self.conn);
                while let Some(r) = rows.try_next().await.map_err(db_err)? {
                    let role = project_role(get(&r, "role")?)?;
                    snaps.direct(OrgId(get(&r, "org_id")?), ProjectId(get(&r, "project_id")?), UserId(get(&r, "user_id")?), role);
                }
                drop(rows);
                let mut rows = scoped(sqlx::query(&q.group_members), only).fetch(&mut *self.conn);
                while let Some(r) = rows.try_next().await.map_err(db_err)? {
                    snaps.group_member(OrgId(get(&r, "org_id")?), GroupId(get(&r, "group_id")?), UserId(get(&r, "user_id")?));
                }
                drop(rows);
                let mut rows = scoped(sqlx::query(&q.group_projects), only).fetch(&mut *self.conn);
                while let Some(r) = rows.try_next().await.map_err(db_err)? {
                    let role = project_role(get(&r, "role")?)?;
                    snaps.group_project(OrgId(get(&r, "org_id")?), GroupId(get(&r, "group_id")?), ProjectId(get(&r, "project_id")?), role);
                }
                drop(rows);
                Ok(snaps.finish())
            }

            async fn audit(
                &mut self,
                org: OrgId,
                filter: &AuditFilter,
                limit: u32,
            ) -> StoreResult<Vec<AuditRecord>> {
                let rows = sqlx::query(
                    "SELECT seq, id, at, org_id, actor_id, token_id, action, target_type, \
                     target_id, data, ip FROM audit_events \
                     WHERE org_id = $1 AND ($2 IS NULL OR actor_id = $2) \
                       AND ($3 IS NULL OR action = $3) AND ($4 IS NULL OR at >= $4) \
                       AND ($5 IS NULL OR at < $5) AND ($6 IS NULL OR seq < $6) \
                     ORDER BY seq DESC LIMIT $7",
                )
                .bind(org.0)
                .bind(filter.actor.map(|u| u.0))
                .bind(filter.action.as_deref())
                .bind(filter.since)
                .bind(filter.until)
                .bind(filter.before_seq)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.conn)
                .await
                .map_err(db_err)?;
                rows.iter()
                    .map(|r| {
                        let data: Json<serde_json::Value> = get(r, "data")?;
                        Ok(AuditRecord {
                            seq: get(r, "seq")?,
                            id: get(r, "id")?,
                            at: get(r, "at")?,
                            org: get::<Option<Uuid>>(r, "org_id")?.map(OrgId),
                            actor: get::<Option<Uuid>>(r, "actor_id")?.map(UserId),
                            token: get::<Option<Uuid>>(r, "token_id")?.map(TokenId),
                            action: get(r, "action")?,
                            target_type: get(r, "target_type")?,
                            target_id: get(r, "target_id")?,
                            data: data.0,
                            ip: get(r, "ip")?,
                        })
                    })
                    .collect()
            }

            async fn insert_invitation(
                &mut self,
                inv: &crate::domain::invitation::Invitation,
                hash: &[u8],
            ) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO invitations (id, org_id, email, email_key, roles, invited_by, \
                     token_hash, state, mail_state, created_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(inv.id.0)
                .bind(inv.org.0)
                .bind(&inv.email)
                .bind(&inv.email_key)
                .bind(Json(&inv.roles))
                .bind(inv.invited_by.map(|u| u.0))
                .bind(hash)
                .bind(inv.state.as_str())
                .bind(inv.mail.as_str())
                .bind(inv.created_at)
                .bind(inv.expires_at)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn invitation(
                &mut self,
                org: OrgId,
                id: crate::domain::ids::InvitationId,
            ) -> StoreResult<Option<crate::domain::invitation::Invitation>> {
                let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE org_id = $1 AND id = $2");
                let row = sqlx::query(&sql)
                    .bind(org.0)
                    .bind(id.0)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(invitation_from).transpose()
            }

            async fn invitation_by_hash(
                &mut self,
                hash: &[u8],
            ) -> StoreResult<Option<crate::domain::invitation::Invitation>> {
                let sql = format!("SELECT {INVITATION_COLS} FROM invitations WHERE token_hash = $1");
                let row = sqlx::query(&sql)
                    .bind(hash)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(invitation_from).transpose()
            }

            async fn pending_invitation(
                &mut self,
                org: OrgId,
                email_key: &str,
            ) -> StoreResult<Option<crate::domain::invitation::Invitation>> {
                let sql = format!(
                    "SELECT {INVITATION_COLS} FROM invitations \
                     WHERE org_id = $1 AND email_key = $2 AND state = 'pending'"
                );
                let row = sqlx::query(&sql)
                    .bind(org.0)
                    .bind(email_key)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                row.as_ref().map(invitation_from).transpose()
            }

            async fn org_invitations(
                &mut self,
                org: OrgId,
                after: Option<&After>,
                limit: u32,
            ) -> StoreResult<Vec<crate::domain::invitation::Invitation>> {
                let sql = format!(
                    "SELECT {INVITATION_COLS} FROM invitations \
                     WHERE org_id = $1 AND ($2 IS NULL OR (email_key, id) > ($2, $3)) \
                     ORDER BY email_key, id LIMIT $4"
                );
                sqlx::query(&sql)
                    .bind(org.0)
                    .bind(after.map(|a| a.key.clone()))
                    .bind(after.map(|a| a.id))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err(db_err)?
                    .iter()
                    .map(invitation_from)
                    .collect()
            }

            async fn invitations_to(
                &mut self,
                email_key: &str,
            ) -> StoreResult<Vec<crate::domain::invitation::Invitation>> {
                let sql = format!(
                    "SELECT {INVITATION_COLS} FROM invitations \
                     WHERE email_key = $1 AND state = 'pending' ORDER BY id"
                );
                sqlx::query(&sql)
                    .bind(email_key)
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err(db_err)?
                    .iter()
                    .map(invitation_from)
                    .collect()
            }

            async fn close_invitation(
                &mut self,
                id: crate::domain::ids::InvitationId,
                state: crate::domain::invitation::InvitationState,
                at: DateTime<Utc>,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE invitations SET state = $2, decided_at = $3 \
                     WHERE id = $1 AND state = 'pending'",
                )
                .bind(id.0)
                .bind(state.as_str())
                .bind(at)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn renew_invitation(
                &mut self,
                id: crate::domain::ids::InvitationId,
                hash: &[u8],
                expires_at: DateTime<Utc>,
            ) -> StoreResult<()> {
                sqlx::query(
                    "UPDATE invitations SET token_hash = $2, expires_at = $3, \
                     mail_state = 'pending' WHERE id = $1",
                )
                .bind(id.0)
                .bind(hash)
                .bind(expires_at)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn set_invitation_mail(
                &mut self,
                id: crate::domain::ids::InvitationId,
                hash: &[u8],
                mail: crate::domain::invitation::MailState,
            ) -> StoreResult<bool> {
                let done = sqlx::query(
                    "UPDATE invitations SET mail_state = $3 WHERE id = $1 AND token_hash = $2",
                )
                .bind(id.0)
                .bind(hash)
                .bind(mail.as_str())
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn insert_password_link(
                &mut self,
                link: &crate::domain::invitation::PasswordLink,
                hash: &[u8],
            ) -> StoreResult<()> {
                sqlx::query("DELETE FROM password_tokens WHERE user_id = $1")
                    .bind(link.user.0)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                sqlx::query(
                    "INSERT INTO password_tokens (token_hash, user_id, purpose, created_at, \
                     expires_at) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(hash)
                .bind(link.user.0)
                .bind(link.purpose.as_str())
                .bind(link.created_at)
                .bind(link.expires_at)
                .execute(&mut *self.conn)
                .await
                .map_err(db_err)?;
                Ok(())
            }

            async fn password_link_of(
                &mut self,
                user: UserId,
            ) -> StoreResult<Option<crate::domain::invitation::PasswordLink>> {
                let row = sqlx::query(
                    "SELECT user_id, purpose, created_at, expires_at FROM password_tokens \
                     WHERE user_id = $1",
                )
                .bind(user.0)
                .fetch_optional(&mut *self.conn)
                .await
                .map_err(db_err)?;
                row.as_ref().map(password_link_from).transpose()
            }

            async fn password_link_by_hash(
                &mut self,
                hash: &[u8],
            ) -> StoreResult<Option<crate::domain::invitation::PasswordLink>> {
                let row = sqlx::query(
                    "SELECT user_id, purpose, created_at, expires_at FROM password_tokens \
                     WHERE token_hash = $1",
                )
                .bind(hash)
                .fetch_optional(&mut *self.conn)
                .await
                .map_err(db_err)?;
                row.as_ref().map(password_link_from).transpose()
            }

            async fn delete_password_links(&mut self, user: UserId) -> StoreResult<()> {
                sqlx::query("DELETE FROM password_tokens WHERE user_id = $1")
                    .bind(user.0)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn set_password_hash(&mut self, user: UserId, hash: &str) -> StoreResult<()> {
                sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(user.0)
                    .bind(hash)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }

            async fn delete_sessions_of(&mut self, user: UserId) -> StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user.0)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                Ok(())
            }
        }

        const INVITATION_COLS: &str = "id, org_id, email, email_key, roles, invited_by, state, \
                                       mail_state, created_at, expires_at";

        fn invitation_from(r: &DbRow) -> StoreResult<crate::domain::invitation::Invitation> {
            use crate::domain::invitation::{Invitation, InvitationState, MailState};
            let state: String = get(r, "state")?;
            let mail: String = get(r, "mail_state")?;
            let roles: Json<Vec<String>> = get(r, "roles")?;
            Ok(Invitation {
                id: crate::domain::ids::InvitationId(get(r, "id")?),
                org: OrgId(get(r, "org_id")?),
                email: get(r, "email")?,
                email_key: get(r, "email_key")?,
                roles: roles.0,
                invited_by: get::<Option<Uuid>>(r, "invited_by")?.map(UserId),
                state: InvitationState::parse(&state)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown invitation state `{state}`")))?,
                mail: MailState::parse(&mail)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown mail state `{mail}`")))?,
                created_at: get(r, "created_at")?,
                expires_at: get(r, "expires_at")?,
            })
        }

        fn password_link_from(r: &DbRow) -> StoreResult<crate::domain::invitation::PasswordLink> {
            use crate::domain::invitation::{PasswordLink, PasswordPurpose};
            let purpose: String = get(r, "purpose")?;
            Ok(PasswordLink {
                user: UserId(get(r, "user_id")?),
                purpose: PasswordPurpose::parse(&purpose)
                    .ok_or_else(|| StoreError::Corrupt(format!("unknown password link purpose `{purpose}`")))?,
                created_at: get(r, "created_at")?,
                expires_at: get(r, "expires_at")?,
            })
        }
    };
}

pub(super) use impl_tx;
