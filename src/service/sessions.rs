//! Sign-in, sign-out, and turning a presented bearer token into a caller.

use super::{Credential, Guildhall, Principal, Result};
use crate::domain::DomainError;
use crate::domain::audit::{Action, Actor, AuditEvent};
use crate::domain::ids::SessionId;
use crate::domain::names::Email;
use crate::domain::rules::{
    FREE_FAILURES_PER_ADDRESS, FREE_FAILURES_PER_EMAIL, next_failure_count, signin_wait,
};
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
/// alike, after the same argon2 work. After repeated failures for one email or one address the
/// next attempts are refused with a wait (429) before any password is checked.
pub async fn sign_in(
    gh: &Guildhall,
    email: Email,
    password: SecretString,
    ip: Option<String>,
) -> Result<NewSession> {
    let now = gh.clock.now();
    let keys = throttle_keys(&email, ip.as_deref());

    let mut read = gh.store.read().await?;
    for (key, free) in &keys {
        if let Some((failures, last)) = read.signin_failures(key).await? {
            if let Some(wait) = signin_wait(failures, last, *free, now) {
                let secs = u64::try_from(wait.num_milliseconds().max(0) / 1000 + 1).unwrap_or(1);
                return Err(DomainError::TooManyAttempts {
                    retry_after_secs: secs,
                }
                .into());
            }
        }
    }
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
        for (key, _) in &keys {
            let last = tx.signin_failures(key).await?;
            let count = next_failure_count(last.map_or(0, |l| l.0), last.map(|l| l.1), now);
            tx.set_signin_failures(key, count, now).await?;
        }
        tx.commit_bookkeeping().await?;
        tracing::info!(client.ip = ip.as_deref().unwrap_or("-"), "sign-in failed");
        return Err(DomainError::InvalidCredentials.into());
    };
    tx.clear_signin_failures(&keys[0].0).await?;
    let token = new_token(TokenKind::Session);
    let id = SessionId::new();
    let expires_at = now + gh.session_ttl;
    tx.insert_session(id, user.id, &token.hash.0, now, expires_at)
        .await?;
    let actor = Actor {
        user: Some(user.id),
        token: None,
        ip,
        now,
    };
    gh.commit(
        tx,
        vec![AuditEvent::new(
            &actor,
            Action::SessionCreated,
            "session",
            id,
        )],
    )
    .await?;
    Ok(NewSession {
        token: token.secret,
        expires_at,
    })
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
/// enabled account. Anything else is `Unauthenticated`.
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
                .filter(|s| s.expires_at > now)
                .ok_or(DomainError::Unauthenticated)?;
            (s.user, Credential::Session(s.id))
        }
        TokenKind::Api => {
            let (token, user) = tx
                .token_by_hash(&hash.0)
                .await?
                .filter(|(t, _)| t.expires_at.is_none_or(|e| e > now))
                .ok_or(DomainError::Unauthenticated)?;
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

/// The throttle keys of an attempt, each with its free failures: the email first, then the
/// client's address.
fn throttle_keys(email: &Email, ip: Option<&str>) -> Vec<(String, u32)> {
    let mut keys = vec![(format!("email:{}", email.key()), FREE_FAILURES_PER_EMAIL)];
    if let Some(ip) = ip {
        keys.push((format!("ip:{ip}"), FREE_FAILURES_PER_ADDRESS));
    }
    keys
}
