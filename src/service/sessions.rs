//! Sign-in, sign-out, and turning a presented bearer token into a caller.

use super::{Credential, Guildhall, Principal, Result};
use crate::domain::DomainError;
use crate::domain::audit::{Action, Actor, AuditEvent};
use crate::domain::ids::SessionId;
use crate::domain::names::Email;
use crate::ids::NewId as _;
use crate::secret::{TokenHash, TokenKind, new_token};
use chrono::{DateTime, Utc};
use secrecy::SecretString;

/// A new session: the secret (shown once) and when it ends.
pub struct NewSession {
    /// The bearer token.
    pub token: SecretString,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Signs in. An unknown email, an account without a password and a wrong password are answered
/// alike, after the same argon2 work. After repeated failures (`throttle::signin_keys`) the next
/// attempts are refused with a wait (429) before any password is checked.
pub async fn sign_in(
    gh: &Guildhall,
    email: Email,
    password: SecretString,
    ip: Option<String>,
) -> Result<NewSession> {
    let now = gh.clock.now();
    let keys = super::throttle::signin_keys(&email, ip.as_deref());

    let mut read = gh.store.read().await?;
    super::throttle::check(&mut *read, &keys, now).await?;
    let found = read.user_by_email(&email.key()).await?;
    drop(read);

    let (user, stored) = match found {
        Some((user, hash)) if user.disabled_at.is_none() => (Some(user), hash),
        _ => (None, None),
    };
    // The hash runs whatever was found, so timing does not tell an unknown email apart.
    let ok = gh.hasher.verify(password, stored).await?;

    let mut tx = gh.store.begin().await?;
    let Some(user) = user.filter(|_| ok) else {
        super::throttle::count(&mut *tx, &keys, now).await?;
        tx.commit_bookkeeping().await?;
        tracing::info!(client.ip = ip.as_deref().unwrap_or("-"), "sign-in failed");
        return Err(DomainError::InvalidCredentials.into());
    };
    tx.clear_signin_failures(&keys[0].0).await?;
    let actor = Actor {
        user: Some(user.id),
        token: None,
        ip,
        now,
    };
    let (session, event) = new_session(gh, &mut *tx, &actor).await?;
    gh.commit(tx, vec![event]).await?;
    Ok(session)
}

/// Signs in the account just made by signing up, without checking the password it was made
/// with a second time (the console's sign-up; the API's answers the user and lets the client
/// sign in).
pub(crate) async fn open_for_new_account(
    gh: &Guildhall,
    user: &crate::domain::model::User,
    ip: Option<String>,
) -> Result<NewSession> {
    let mut tx = gh.store.begin().await?;
    let actor = Actor {
        user: Some(user.id),
        token: None,
        ip,
        now: gh.clock.now(),
    };
    let (session, event) = new_session(gh, &mut *tx, &actor).await?;
    gh.commit(tx, vec![event]).await?;
    Ok(session)
}

/// Stores a new session for `actor`'s user in `tx`, with the audit event to commit with it:
/// after a sign-in, and for the account made by accepting an invitation (in its transaction).
pub(crate) async fn new_session(
    gh: &Guildhall,
    tx: &mut dyn crate::store::Tx,
    actor: &Actor,
) -> Result<(NewSession, AuditEvent)> {
    let user = actor
        .user
        .ok_or_else(|| crate::service::Error::Internal("a session needs a user".into()))?;
    let token = new_token(TokenKind::Session);
    let id = SessionId::new();
    let expires_at = actor.now + gh.session_ttl;
    tx.insert_session(id, user, &token.hash.0, actor.now, expires_at)
        .await?;
    let event = AuditEvent::new(actor, Action::SessionCreated, "session", id);
    Ok((
        NewSession {
            token: token.secret,
            expires_at,
        },
        event,
    ))
}

/// Ends the caller's session. An API token is not a session: revoke it instead.
pub async fn sign_out(gh: &Guildhall, who: &Principal) -> Result<()> {
    let Credential::Session(id) = who.credential else {
        return Err(DomainError::SessionRequired.into());
    };
    let mut tx = gh.store.begin().await?;
    tx.delete_session(id).await?;
    let actor = who.actor(gh.clock.now());
    gh.commit(
        tx,
        vec![AuditEvent::new(
            &actor,
            Action::SessionDeleted,
            "session",
            id,
        )],
    )
    .await?;
    Ok(())
}

/// Finds the caller behind a bearer token: a live session or an unexpired API token of an
/// enabled account. An expired one says so; anything else is `Unauthenticated`.
pub async fn authenticate(gh: &Guildhall, bearer: &str, ip: Option<String>) -> Result<Principal> {
    let kind = TokenKind::of(bearer).ok_or(DomainError::Unauthenticated)?;
    let hash = TokenHash::of(bearer);
    let now = gh.clock.now();
    let mut tx = gh.store.read().await?;
    let (user, credential) = match kind {
        TokenKind::Session => {
            let s = tx
                .session_by_hash(&hash.0)
                .await?
                .ok_or(DomainError::Unauthenticated)?;
            if s.expires_at <= now {
                return Err(DomainError::SessionExpired.into());
            }
            (s.user, Credential::Session(s.id))
        }
        TokenKind::Api => {
            let (token, user) = tx
                .token_by_hash(&hash.0)
                .await?
                .ok_or(DomainError::Unauthenticated)?;
            if token.expires_at.is_some_and(|e| e <= now) {
                return Err(DomainError::TokenExpired.into());
            }
            (user, Credential::Token(token))
        }
        TokenKind::Invitation | TokenKind::PasswordLink => {
            return Err(DomainError::Unauthenticated.into());
        }
    };
    if user.disabled_at.is_some() {
        return Err(DomainError::Unauthenticated.into());
    }
    Ok(Principal {
        user,
        credential,
        ip,
    })
}
