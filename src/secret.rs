//! Secrets: session and API tokens (random, prefixed, stored only as SHA-256) and passwords
//! (argon2id, hashed off the async workers with bounded concurrency).

use crate::domain::names::Password;
use crate::domain::password::NewPassword;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// What a token is for; its prefix says so at a glance (and to secret scanners).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A sign-in session.
    Session,
    /// A personal access token.
    Api,
    /// R9: an invitation, mailed to the invitee; never a bearer credential.
    Invitation,
    /// R10: a one-time link to set or reset a password; never a bearer credential.
    PasswordLink,
}

impl TokenKind {
    /// The prefix, unique to Guildhall.
    pub fn prefix(self) -> &'static str {
        match self {
            TokenKind::Session => "gldh_ses_",
            TokenKind::Api => "gldh_pat_",
            TokenKind::Invitation => "gldh_inv_",
            TokenKind::PasswordLink => "gldh_pwd_",
        }
    }

    /// The bearer kind a presented token claims to be, by its prefix. Invitation and password
    /// tokens are never bearer credentials, so they are not recognised here.
    pub fn of(token: &str) -> Option<TokenKind> {
        [TokenKind::Session, TokenKind::Api]
            .into_iter()
            .find(|k| token.starts_with(k.prefix()))
    }
}

/// The SHA-256 of a token: what the store keeps. Looking a token up by its hash means the secret
/// is never compared byte by byte with anything stored.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// Hashes a presented token.
    pub fn of(token: &str) -> Self {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenHash(<redacted>)")
    }
}

/// A freshly made token: the secret to show once, and the hash to store.
pub struct NewToken {
    /// The secret, shown to its owner in one answer and never again.
    pub secret: SecretString,
    /// What the store keeps.
    pub hash: TokenHash,
}

/// Makes a token of `kind` with 256 random bits.
pub fn new_token(kind: TokenKind) -> NewToken {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(bytes));
    let hash = TokenHash::of(&secret);
    NewToken {
        secret: SecretString::from(secret),
        hash,
    }
}

/// Hashes and verifies passwords with argon2id on the blocking pool, at most `permits` at a time,
/// so a flood of sign-ins queues here instead of starving every other request.
#[derive(Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A real hash of a random password: unknown emails are verified against it, so they take
    /// as long as a wrong password does.
    decoy: Arc<str>,
}

impl PasswordHasher {
    /// A hasher running at most `permits` hashes at once.
    pub fn new(permits: usize) -> Result<Self, crate::service::Error> {
        let mut bytes = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let decoy = hash_now(&URL_SAFE_NO_PAD.encode(bytes))?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            decoy: decoy.into(),
        })
    }

    /// ASVS 6.2.4: `password` as the new password of the account with `email` and `name`, or
    /// why not ([`NewPassword::choose`]). Run here, on the blocking pool under the same bound as
    /// hashing, because the estimate is CPU work too: tens of milliseconds, and hundreds on
    /// inputs crafted from l33t characters, which must not stall the async workers.
    pub async fn choose(
        &self,
        password: Password,
        email: &str,
        name: &str,
    ) -> Result<NewPassword, crate::service::Error> {
        let (email, name) = (email.to_owned(), name.to_owned());
        Ok(self
            .run(move || NewPassword::choose(password, &email, &name))
            .await??)
    }

    /// The PHC string of `password`, with a fresh salt. Only a [`NewPassword`] is hashed: one
    /// that passed the strength rule for its account.
    pub async fn hash(&self, password: NewPassword) -> Result<String, crate::service::Error> {
        self.run(move || hash_now(password.expose())).await?
    }

    /// Whether `password` matches `stored`; with no stored hash (unknown email, or an account
    /// without a password) it runs the same work against the decoy and answers false.
    pub async fn verify(
        &self,
        password: SecretString,
        stored: Option<String>,
    ) -> Result<bool, crate::service::Error> {
        let decoy = self.decoy.clone();
        self.run(move || {
            let (phc, real) = match &stored {
                Some(s) => (s.as_str(), true),
                None => (&*decoy, false),
            };
            let parsed = PasswordHash::new(phc).map_err(|e| {
                crate::service::Error::Internal(format!("stored password hash unreadable: {e}"))
            })?;
            let ok = Argon2::default()
                .verify_password(password.expose_secret().as_bytes(), &parsed)
                .is_ok();
            Ok(ok && real)
        })
        .await?
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, crate::service::Error> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| crate::service::Error::Internal("password hasher closed".into()))?;
        tokio::task::spawn_blocking(work).await.map_err(|e| {
            crate::service::Error::Internal(format!("password hashing task failed: {e}"))
        })
    }
}

fn hash_now(password: &str) -> Result<String, crate::service::Error> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| crate::service::Error::Internal(format!("password hashing failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_prefixed_long_and_distinct() {
        let a = new_token(TokenKind::Api);
        let b = new_token(TokenKind::Api);
        assert!(a.secret.expose_secret().starts_with("gldh_pat_"));
        assert!(a.secret.expose_secret().len() >= "gldh_pat_".len() + 43);
        assert_ne!(a.secret.expose_secret(), b.secret.expose_secret());
        assert_eq!(TokenHash::of(a.secret.expose_secret()), a.hash);
        assert_eq!(
            TokenKind::of(a.secret.expose_secret()),
            Some(TokenKind::Api)
        );
        assert!(!format!("{:?}", a.hash).contains(|c: char| c.is_ascii_digit()));
    }

    #[tokio::test]
    async fn passwords_verify_only_against_their_own_hash() {
        let hasher = PasswordHasher::new(2).expect("hasher");
        let parsed = Password::parse("correct horse battery".into()).expect("long enough");
        let pw = hasher
            .choose(parsed, "ada@example.com", "Ada")
            .await
            .expect("strong enough");
        let stored = hasher.hash(pw).await.expect("hash");
        assert!(stored.starts_with("$argon2id$"));
        let check = |s: &str| SecretString::from(s.to_owned());
        assert!(
            hasher
                .verify(check("correct horse battery"), Some(stored.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify(check("wrong horse battery"), Some(stored))
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify(check("correct horse battery"), None)
                .await
                .expect("verify")
        );
    }
}
