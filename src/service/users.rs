//! Sign-up (R2) and the accounts behind it.

use super::{Error, Guildhall, Result, orgs};
use super::{Named, lost_race};
use crate::domain::DomainError;
use crate::domain::audit::{Action, Actor, AuditEvent};
use crate::domain::ids::{OrgId, UserId};
use crate::domain::model::{Org, User};
use crate::domain::names::{DisplayName, Email, OrgName, Password, Slug};
use crate::domain::permission::BuiltinRole;
use crate::domain::role::AssignedRole;
use crate::ids::NewId as _;
use serde_json::json;

/// A sign-up request, parsed.
#[derive(Debug)]
pub struct SignUp {
    /// The account's email.
    pub email: Email,
    /// The chosen password (its length checked; its strength is checked here, against the email
    /// and name).
    pub password: Password,
    /// The display name.
    pub name: DisplayName,
}

/// R2: creates the account and its personal organization, owned by the new user, in one
/// transaction. A common or guessable password, or one made of the email or name, is refused
/// (ASVS 6.2.4) before anything else.
pub async fn sign_up(gh: &Guildhall, input: SignUp, ip: Option<String>) -> Result<User> {
    super::throttle::sign_up(gh, ip.as_deref()).await?;
    let password = gh
        .hasher
        .choose(input.password, input.email.as_str(), input.name.as_str())
        .await?;
    // Hash before taking the write lock: it is the slow part.
    let hash = gh.hasher.hash(password).await?;
    let now = gh.clock.now();
    let user = User {
        id: UserId::new(),
        email: input.email.as_str().to_owned(),
        name: input.name.as_str().to_owned(),
        created_at: now,
        disabled_at: None,
    };
    let actor = Actor {
        user: Some(user.id),
        token: None,
        ip,
        now,
    };
    let mut tx = gh.store.begin().await?;
    let (user, org, events) = create_account(
        &mut *tx,
        &input.email,
        &input.name,
        Some(&hash),
        &actor,
        user,
    )
    .await?;
    gh.commit(tx, events)
        .await
        .map_err(|e| lost_race(e, Named::Email(&user.email)))?;
    tracing::info!(user.id = %user.id, org.id = %org.id, "account created");
    Ok(user)
}

/// R2: inserts the account `user` (email `email`, password hash `hash`, or none: such an account
/// cannot sign in until a password is set) with its personal organization, owned by it, in `tx`.
/// Used by sign-up, register-and-add (R10) and accepting an invitation as a new user (R9).
/// Returns the account, its organization and the audit events to commit.
pub(crate) async fn create_account(
    tx: &mut dyn crate::store::Tx,
    email: &Email,
    name: &DisplayName,
    hash: Option<&str>,
    actor: &Actor,
    user: User,
) -> Result<(User, Org, Vec<AuditEvent>)> {
    let now = actor.now;
    if tx.user_by_email(&email.key()).await?.is_some() {
        return Err(DomainError::EmailTaken(user.email).into());
    }
    tx.insert_user(&user, &email.key(), hash)
        .await
        .map_err(|e| lost_race(e, Named::Email(&user.email)))?;

    // R1, R2: the name and slug come from the account (its display name and email, then its
    // id), so sign-up never fails for a taken one and costs at most three reads for each.
    let names = OrgName::personal(name, user.id);
    let local = user.email.split('@').next().unwrap_or("user");
    let slugs = Slug::derive(local).candidates(user.id.0);
    let (Some(own_name), Some(own_slug)) = (names.last(), slugs.last()) else {
        return Err(Error::Internal(
            "no personal organization name or slug".into(),
        ));
    };
    let free_name = orgs::free_name(tx, &names).await?;
    let free_name = free_name.as_ref().unwrap_or(own_name);
    let free_slug = orgs::free_slug(tx, &slugs).await?;
    let mut org = Org {
        id: OrgId::new(),
        name: free_name.as_str().to_owned(),
        slug: free_slug.as_ref().unwrap_or(own_slug).as_str().to_owned(),
        personal: true,
        created_at: now,
    };
    if !tx.insert_org_unless_taken(&org, &free_name.key()).await? {
        // PostgreSQL: a concurrent sign-up took the name or the slug after it was read. The
        // ones carrying this account's whole id are this account's alone.
        org.name = own_name.as_str().to_owned();
        org.slug = own_slug.as_str().to_owned();
        if !tx.insert_org_unless_taken(&org, &own_name.key()).await? {
            return Err(DomainError::OrgNameTaken(org.name).into());
        }
    }
    tx.insert_member(
        org.id,
        user.id,
        &[AssignedRole::Builtin(BuiltinRole::Owner)],
        now,
    )
    .await?;
    let events = vec![
        AuditEvent::new(actor, Action::UserCreated, "user", user.id)
            .with_data(json!({ "email": user.email, "name": user.name })),
        AuditEvent::new(actor, Action::OrgCreated, "org", org.id)
            .in_org(org.id)
            .named(&org.name)
            .with_data(json!({ "name": org.name, "slug": org.slug, "personal": true })),
    ];
    Ok((user, org, events))
}

#[cfg(test)]
mod tests {
    //! R1, R2 at the store: many accounts of one display name and one email local part each get
    //! a personal organization, on a real SQLite file and a real PostgreSQL database. Accounts
    //! are made as register-and-add makes them (no password), so the thousands are cheap: no
    //! argon2, no HTTP, but the real naming code and the real unique keys.

    use super::*;
    use crate::store::Store;
    use std::collections::HashSet;
    use std::sync::Arc;

    /// How many Sams sign up.
    const SAMS: usize = 10_000;
    /// Sign-ups running at once (PostgreSQL races them; SQLite takes them one at a time).
    const AT_ONCE: usize = 4;

    fn actor(user: UserId) -> Actor {
        Actor {
            user: Some(user),
            token: None,
            ip: None,
            now: chrono::Utc::now(),
        }
    }

    /// Signs up a Sam with the id `id` and the email `sam@{domain}`; the personal organization.
    async fn sign_up_sam(store: &dyn Store, id: uuid::Uuid, domain: &str) -> Result<Org> {
        let email = Email::parse(&format!("sam@{domain}")).map_err(|e| vec![e])?;
        let name = DisplayName::parse("Sam").map_err(|e| vec![e])?;
        let user = User {
            id: UserId(id),
            email: email.as_str().to_owned(),
            name: name.as_str().to_owned(),
            created_at: chrono::Utc::now(),
            disabled_at: None,
        };
        let mut tx = store.begin().await?;
        let (_, org, events) =
            create_account(&mut *tx, &email, &name, None, &actor(user.id), user).await?;
        tx.commit(events).await?;
        Ok(org)
    }

    async fn many_sams(store: Arc<dyn Store>) {
        // Three accounts whose ids end alike take the three names in turn.
        let tail = 0x3f9c_2a1b_u128;
        let ids = [
            uuid::Uuid::from_u128((0x0190_c0de_0000_7000_8000_0001 << 32) | 1),
            uuid::Uuid::from_u128((0x0190_c0de_0000_7000_8000_0002 << 32) | tail),
            uuid::Uuid::from_u128((0x0190_c0de_0000_7000_8000_0003 << 32) | tail),
        ];
        let mut firsts = Vec::new();
        for (i, id) in ids.into_iter().enumerate() {
            let org = sign_up_sam(&*store, id, &format!("first{i}.example.com"))
                .await
                .expect("sign-up");
            firsts.push((org.name, org.slug));
        }
        let third = ids[2];
        assert_eq!(
            firsts,
            [
                ("Sam (personal)".to_owned(), "sam".to_owned()),
                (
                    "Sam (personal, 3f9c2a1b)".to_owned(),
                    "sam-3f9c2a1b".to_owned()
                ),
                (
                    format!("Sam (personal, {})", third.hyphenated()),
                    format!("sam-{}", third.simple())
                ),
            ]
        );

        let started = std::time::Instant::now();
        let workers: Vec<_> = (0..AT_ONCE)
            .map(|w| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut orgs = Vec::new();
                    for i in (w..SAMS).step_by(AT_ONCE) {
                        let org = sign_up_sam(
                            &*store,
                            uuid::Uuid::now_v7(),
                            &format!("d{i}.example.com"),
                        )
                        .await
                        .unwrap_or_else(|e| panic!("Sam number {i} could not sign up: {e}"));
                        orgs.push(org);
                    }
                    orgs
                })
            })
            .collect();
        let mut names = HashSet::new();
        let mut slugs = HashSet::new();
        for w in workers {
            for org in w.await.expect("worker") {
                assert!(org.personal);
                assert!(org.name.starts_with("Sam (personal, "), "{}", org.name);
                assert!(org.slug.starts_with("sam-"), "{}", org.slug);
                assert!(names.insert(org.name.to_lowercase()), "{}", org.name);
                assert!(slugs.insert(org.slug.clone()), "{}", org.slug);
            }
        }
        assert_eq!((names.len(), slugs.len()), (SAMS, SAMS));
        eprintln!(
            "{SAMS} Sams signed up on {} in {:?}",
            store.backend(),
            started.elapsed()
        );
        // What was stored is what was answered: every name and slug is taken now.
        let mut tx = store.read().await.expect("read");
        for (name, slug) in &firsts {
            assert!(tx.org_name_taken(&name.to_lowercase()).await.expect("read"));
            assert!(tx.slug_taken(slug).await.expect("read"));
        }
        for name in names.iter().take(100) {
            assert!(tx.org_name_taken(name).await.expect("read"), "{name}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn r2_ten_thousand_sams_each_get_a_personal_org_on_sqlite() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("g.db").display());
        many_sams(crate::store::open(&url).await.expect("store")).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn r2_ten_thousand_sams_each_get_a_personal_org_on_postgres() {
        use sqlx::Connection as _;
        let admin = std::env::var("GUILDHALL_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL is needed for this test ({admin}): {e}"));
        let name = format!("gh_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("creating a test database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        let store = crate::store::open(&format!("{base}/{name}"))
            .await
            .expect("store");
        many_sams(store).await;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .expect("dropping the test database");
    }
}
