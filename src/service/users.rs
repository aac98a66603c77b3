//! Sign-up (R2) and the accounts behind it.

use super::{Guildhall, Result, orgs};
use super::{Named, lost_race};
use crate::domain::DomainError;
use crate::domain::audit::{Action, Actor, AuditEvent};
use crate::domain::ids::{OrgId, UserId};
use crate::domain::model::{Org, User};
use crate::domain::names::{DisplayName, Email, Password, Slug};
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

    let org_name = orgs::free_name(tx, &format!("{} (personal)", name.as_str())).await?;
    let local = user.email.split('@').next().unwrap_or("user");
    let slug = orgs::free_slug(tx, Slug::derive(local)).await?;
    let org = Org {
        id: OrgId::new(),
        name: org_name.as_str().to_owned(),
        slug: slug.as_str().to_owned(),
        personal: true,
        created_at: now,
    };
    tx.insert_org(&org, &org_name.key()).await?;
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
