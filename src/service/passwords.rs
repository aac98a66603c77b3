//! Passwords by one-time link: the set-password link of an account someone registered (R10) and
//! the "forgot password" reset link. Links are random, stored only hashed, single use, valid 24
//! hours, at most one live per account. Setting a password ends every session of the account
//! and revokes every API token, so a reset also locks out whoever had taken it over.

use super::{Guildhall, Result};
use crate::domain::DomainError;
use crate::domain::audit::{Action, Actor, AuditEvent};
use crate::domain::invitation::{
    PASSWORD_LINK_VALIDITY, PasswordLink, PasswordPurpose, RESET_MIN_INTERVAL, r10_link_usable,
};
use crate::domain::model::User;
use crate::domain::names::{Email, Password};
use crate::mail::{Mail, html_escape};
use crate::secret::{NewToken, TokenHash, TokenKind, new_token};
use crate::store::Tx;
use secrecy::ExposeSecret as _;
use serde_json::json;

/// "Forgot password": answered at once and alike whether or not an account has this email. The
/// work (and the mail, only when the account exists) happens in the background, so neither the
/// answer nor its timing tells whether the account exists. A new link replaces the old one; at
/// most one is mailed per account per minute, so the route cannot flood a mailbox; an address
/// asking too often is refused (429) whatever the email.
pub async fn forgot_password(gh: &Guildhall, email: Email, ip: Option<String>) -> Result<()> {
    super::throttle::reset_request(gh, ip.as_deref()).await?;
    let gh = gh.clone();
    tokio::spawn(async move {
        if let Err(e) = issue_reset(&gh, &email, ip).await {
            tracing::warn!(error = %e, "could not issue a password reset link");
        }
    });
    Ok(())
}

async fn issue_reset(gh: &Guildhall, email: &Email, ip: Option<String>) -> Result<()> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let Some((user, _)) = tx.user_by_email(&email.key()).await? else {
        return Ok(());
    };
    if user.disabled_at.is_some() {
        return Ok(());
    }
    if let Some(live) = tx.password_link_of(user.id).await?
        && live.expires_at > now
        && now - live.created_at < RESET_MIN_INTERVAL
    {
        return Ok(());
    }
    let token = new_token(TokenKind::PasswordLink);
    issue(&mut *tx, &user, PasswordPurpose::Reset, &token, now).await?;
    let actor = Actor {
        user: None,
        token: None,
        ip,
        now,
    };
    let event = AuditEvent::new(&actor, Action::PasswordResetRequested, "user", user.id);
    let mail = queue_link(
        &mut *tx,
        &gh.public_url,
        &user,
        PasswordPurpose::Reset,
        &token,
        None,
    )
    .await?;
    gh.commit(tx, vec![event]).await?;
    super::outbox::deliver(gh, mail).await;
    Ok(())
}

/// The link with this token hash, if it can still be used, and the (enabled) account it is for.
async fn usable_link(
    tx: &mut dyn crate::store::Tx,
    hash: &TokenHash,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(PasswordLink, User)> {
    let link = tx
        .password_link_by_hash(&hash.0)
        .await?
        .ok_or(DomainError::PasswordLinkNotFound)?;
    r10_link_usable(&link, now)?;
    let user = tx
        .user_by_id(link.user)
        .await?
        .filter(|u| u.disabled_at.is_none())
        .ok_or(DomainError::PasswordLinkNotFound)?;
    Ok((link, user))
}

/// Stores a new link for `user`, replacing any other.
pub(crate) async fn issue(
    tx: &mut dyn crate::store::Tx,
    user: &User,
    purpose: PasswordPurpose,
    token: &NewToken,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let link = PasswordLink {
        user: user.id,
        purpose,
        created_at: now,
        expires_at: now + PASSWORD_LINK_VALIDITY,
    };
    tx.insert_password_link(&link, &token.hash.0).await?;
    Ok(())
}

/// What every password link mail says setting the password does.
const ENDS: &str =
    "Setting the password ends every session of your account and revokes all its API tokens.";

/// Queues, in `tx`, the mail of a password link: `{public_url}/password/set?token=…`.
pub(crate) async fn queue_link(
    tx: &mut dyn Tx,
    public_url: &str,
    user: &User,
    purpose: PasswordPurpose,
    token: &NewToken,
    org: Option<&str>,
) -> Result<super::outbox::Queued> {
    let link = format!(
        "{}/password/set?token={}",
        public_url,
        token.secret.expose_secret()
    );
    let (subject, intro) = match (purpose, org) {
        (PasswordPurpose::Set, Some(org)) => (
            format!("Your Guildhall account for {org}"),
            format!("An account was made for you and added to the organization {org}. Choose your password"),
        ),
        (PasswordPurpose::Set, None) => (
            "Your Guildhall account".to_owned(),
            "An account was made for you. Choose your password".to_owned(),
        ),
        (PasswordPurpose::Reset, _) => (
            "Reset your Guildhall password".to_owned(),
            "Someone asked to reset the password of your account. If it was you, choose a new password".to_owned(),
        ),
    };
    let mail = Mail {
        to: user.email.clone(),
        subject,
        text: format!(
            "Hello {},\n\n{intro} within 24 hours, once, at:\n{link}\n\n{ENDS}\n\nIf you did not expect this mail, ignore it.\n",
            user.name
        ),
        html: format!(
            "<p>Hello {},</p><p>{} <a href=\"{}\">here</a> within 24 hours, once.</p><p>{}</p><p>If you did not expect this mail, ignore it.</p>",
            html_escape(&user.name),
            html_escape(&intro),
            html_escape(&link),
            html_escape(ENDS)
        ),
    };
    super::outbox::queue(tx, &mail, None).await
}

/// What setting a password ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordSet {
    /// Sign-in sessions ended (the console's and the API's).
    pub sessions_ended: u64,
    /// Personal API tokens revoked.
    pub tokens_revoked: u64,
}

/// R10: sets the password of the account a link was made for. The link then dies with every
/// other link of the account; every session of the account ends and every API token is
/// revoked (SPEC §5), in the same transaction, so whoever had taken the account over, with its
/// old password or a token minted with it, is out at once. The account is mailed what ended.
/// The password must pass the strength rule for that account (ASVS 6.2.4: not common, not its
/// email or name), so the link is read first, to learn whose it is.
///
/// This is the only way a password is set: there is no change-password route, so no session
/// of the caller's own is kept.
pub async fn set_password(
    gh: &Guildhall,
    token: &str,
    password: Password,
    ip: Option<String>,
) -> Result<PasswordSet> {
    let hash = TokenHash::of(token.trim());
    let (link, user) = {
        let mut read = gh.store.read().await?;
        usable_link(&mut *read, &hash, gh.clock.now()).await?
    };
    let password = gh.hasher.choose(password, &user.email, &user.name).await?;
    // Hash before taking the write lock: it is the slow part.
    let password_hash = gh.hasher.hash(password).await?;
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    // Read again under the lock: the link may have been used or replaced meanwhile. It must
    // still be the same account's (the one whose email and name the password was checked
    // against a moment ago).
    let (link, user) = match usable_link(&mut *tx, &hash, now).await? {
        (again, u) if again.user == link.user => (again, u),
        _ => return Err(DomainError::PasswordLinkNotFound.into()),
    };
    // A token being minted for this account waits for this commit, or this for it (then the
    // new token is revoked below).
    tx.lock_user(user.id).await?;
    tx.set_password_hash(user.id, &password_hash).await?;
    tx.delete_password_links(user.id).await?;
    let ended = PasswordSet {
        sessions_ended: tx.delete_sessions_of(user.id).await?,
        tokens_revoked: tx.delete_tokens_of(user.id).await?,
    };
    let actor = Actor {
        user: Some(user.id),
        token: None,
        ip,
        now,
    };
    let event = AuditEvent::new(&actor, Action::PasswordSet, "user", user.id).with_data(json!({
        "purpose": link.purpose.as_str(),
        "sessions_ended": ended.sessions_ended,
        "tokens_revoked": ended.tokens_revoked,
    }));
    let mail = queue_password_set(&mut *tx, &gh.public_url, &user, ended, now).await?;
    gh.commit(tx, vec![event]).await?;
    tracing::info!(
        user.id = %user.id,
        sessions_ended = ended.sessions_ended,
        tokens_revoked = ended.tokens_revoked,
        "password set by link"
    );
    super::outbox::deliver(gh, mail).await;
    Ok(ended)
}

/// Queues, in `tx`, the mail telling the account its password was set and what that ended, with
/// what to do if it was not them.
async fn queue_password_set(
    tx: &mut dyn Tx,
    public_url: &str,
    user: &User,
    ended: PasswordSet,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<super::outbox::Queued> {
    let what = format!(
        "Your sessions and API tokens were ended ({} session(s) signed out, {} API token(s) \
         revoked): sign in again with the new password, and create new API tokens where you \
         need them.",
        ended.sessions_ended, ended.tokens_revoked
    );
    let forgot = format!("{public_url}/password/forgot");
    let when = crate::mail::when(now);
    let mail = Mail {
        to: user.email.clone(),
        subject: "Your Guildhall password was set".to_owned(),
        text: format!(
            "Hello {},\n\nThe password of your Guildhall account was set on {when}.\n\n{what}\n\nIf it was not you, ask for a new password at once at:\n{forgot}\n",
            user.name
        ),
        html: format!(
            "<p>Hello {},</p><p>The password of your Guildhall account was set on {}.</p><p>{}</p><p>If it was not you, ask for a new password at once <a href=\"{}\">here</a>.</p>",
            html_escape(&user.name),
            html_escape(&when),
            html_escape(&what),
            html_escape(&forgot)
        ),
    };
    super::outbox::queue(tx, &mail, None).await
}
