//! Throttles on who may try what how often (the limits are `domain::rules`): sign-in failures
//! counted per (account, address), per address and per account, so that an attacker elsewhere
//! cannot lock the real user out; sign-ups and "forgot password" requests per address (as many
//! an hour as [`AddressLimits`] says). Only
//! attempts that were let through count: a refused one costs the attacker a wait and the
//! account nothing.

use super::{Guildhall, Result};
use crate::domain::DomainError;
use crate::domain::names::Email;
use crate::domain::rules::{
    Limit, SIGNIN_PER_ACCOUNT, SIGNIN_PER_ACCOUNT_AND_ADDRESS, SIGNIN_PER_ADDRESS, next_count,
    throttle_wait,
};
use crate::store::Tx;
use chrono::{DateTime, Utc};

/// The keys a sign-in is counted under, with their limits; the first is the one a success
/// clears (the caller's own pair; the account's key stays, so a success of the real user does
/// not reset an attack spread over many addresses).
pub(super) fn signin_keys(email: &Email, ip: Option<&str>) -> Vec<(String, Limit)> {
    let ip = ip.unwrap_or("-");
    vec![
        (
            format!("pair:{}|{ip}", email.key()),
            SIGNIN_PER_ACCOUNT_AND_ADDRESS,
        ),
        (format!("ip:{ip}"), SIGNIN_PER_ADDRESS),
        (format!("email:{}", email.key()), SIGNIN_PER_ACCOUNT),
    ]
}

/// Refuses with 429 if any key must still wait.
pub(super) async fn check(
    tx: &mut dyn Tx,
    keys: &[(String, Limit)],
    now: DateTime<Utc>,
) -> Result<()> {
    for (key, limit) in keys {
        if let Some((count, last)) = tx.signin_failures(key).await?
            && let Some(wait) = throttle_wait(count, last, *limit, now)
        {
            let secs = u64::try_from(wait.num_milliseconds().max(0) / 1000 + 1).unwrap_or(1);
            return Err(DomainError::TooManyAttempts {
                retry_after_secs: secs,
            }
            .into());
        }
    }
    Ok(())
}

/// Counts one more event on every key.
pub(super) async fn count(
    tx: &mut dyn Tx,
    keys: &[(String, Limit)],
    now: DateTime<Utc>,
) -> Result<()> {
    for (key, limit) in keys {
        let last = tx.signin_failures(key).await?;
        let n = next_count(last.map_or(0, |l| l.0), last.map(|l| l.1), *limit, now);
        tx.set_signin_failures(key, n, now).await?;
    }
    Ok(())
}

/// Spends one of the address's attempts at `what` (sign-up, password reset): refused with 429
/// once the address used its share, else counted at once, before the work it stands for.
async fn spend(gh: &Guildhall, what: &str, limit: Limit, ip: Option<&str>) -> Result<()> {
    let Some(ip) = ip else {
        return Ok(());
    };
    let keys = [(format!("{what}:{ip}"), limit)];
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    check(&mut *tx, &keys, now).await?;
    count(&mut *tx, &keys, now).await?;
    tx.commit_bookkeeping().await?;
    Ok(())
}

/// One sign-up from `ip`.
pub(super) async fn sign_up(gh: &Guildhall, ip: Option<&str>) -> Result<()> {
    let limit = Limit::per_hour(gh.address_limits.signups_per_hour);
    spend(gh, "signup", limit, ip).await
}

/// One "forgot password" request from `ip`: by address only, so the answer says nothing about
/// the email asked for.
pub(super) async fn reset_request(gh: &Guildhall, ip: Option<&str>) -> Result<()> {
    let limit = Limit::per_hour(gh.address_limits.resets_per_hour);
    spend(gh, "reset", limit, ip).await
}

/// How many sign-ups and password-reset requests one address may make an hour.
#[derive(Clone, Copy, Debug)]
pub struct AddressLimits {
    /// Sign-ups an hour.
    pub signups_per_hour: u32,
    /// "Forgot password" requests an hour.
    pub resets_per_hour: u32,
}
