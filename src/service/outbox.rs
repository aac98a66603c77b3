//! The mail outbox. A use case queues its mails in its own transaction (`queue`), so they commit
//! or vanish with the change; after the commit it hands them to the transport at once
//! (`deliver`). A sender in every process (`spawn_sender`) takes what is left: a retry that is
//! due, or a mail whose process died between commit and send. A mail is claimed under a lease
//! before it is sent, so two processes never send it both; it is sent twice only when a process
//! dies after sending and before deleting the row (at-least-once, as mail always is).
//!
//! Times here are the wall clock's, not the domain clock's: retries and leases are about the
//! transport, and a test that moves the domain clock must not stall them.

use super::{Guildhall, Result};
use crate::domain::ids::InvitationId;
use crate::domain::invitation::MailState;
use crate::mail::{Mail, QueuedMail};
use crate::secret::TokenHash;
use crate::store::Tx;
use chrono::{DateTime, Utc};
use std::time::Duration;
use uuid::Uuid;

/// How long a fresh mail is left to the request that queued it before any sender takes it:
/// long enough that a sender never races the request's own send, short enough that a mail
/// queued just before a crash goes out soon after the restart.
const FRESH: Duration = Duration::from_secs(5);
/// The longest the sender sleeps without looking (another process may have queued a retry).
const IDLE: Duration = Duration::from_secs(5);
/// Mails one look of the sender takes at most (sent concurrently).
const BATCH: u32 = 16;

/// A mail queued in a transaction, to hand to [`deliver`] once it committed.
#[derive(Clone, Copy, Debug)]
#[must_use = "a queued mail goes out after commit only when delivered (else a sender takes it later)"]
pub(crate) struct Queued(Uuid);

/// Queues `mail` in `tx`; with `invitation`, the invitation and the hash of the token the mail
/// carries, so its mail state follows the outcome.
pub(crate) async fn queue(
    tx: &mut dyn Tx,
    mail: &Mail,
    invitation: Option<(InvitationId, &TokenHash)>,
) -> Result<Queued> {
    let due = Utc::now() + FRESH;
    let id = tx
        .queue_mail(mail, invitation.map(|(i, h)| (i, h.0.as_slice())), due)
        .await?;
    Ok(Queued(id))
}

/// Sends mails queued by a change that committed. A mail directory is written before this
/// returns (the answer can say `sent`); SMTP is sent in the background (`pending`). A failed send
/// stays queued for a retry and answers `pending`, or `failed` once no attempt is left.
pub(crate) async fn deliver(gh: &Guildhall, queued: Queued) -> MailState {
    if !gh.mailer.settles_at_once() {
        let gh = gh.clone();
        tokio::spawn(async move { deliver_claimed(&gh, queued).await });
        return MailState::Pending;
    }
    deliver_claimed(gh, queued).await
}

/// [`deliver`] for every mail of a change.
pub(crate) async fn deliver_all(gh: &Guildhall, queued: Vec<Queued>) {
    for q in queued {
        deliver(gh, q).await;
    }
}

async fn deliver_claimed(gh: &Guildhall, Queued(id): Queued) -> MailState {
    let now = Utc::now();
    match claim(gh, Some(id), now).await {
        Ok(mut claimed) => match claimed.pop() {
            Some(mail) => attempt(gh, mail).await,
            // Another sender has it (or already sent it).
            None => MailState::Pending,
        },
        Err(e) => {
            tracing::warn!(error = %e, "could not claim a queued mail; the outbox sender retries it");
            MailState::Pending
        }
    }
}

async fn claim(gh: &Guildhall, only: Option<Uuid>, now: DateTime<Utc>) -> Result<Vec<QueuedMail>> {
    let until = now + gh.mailer.lease();
    let mut tx = gh.store.begin().await?;
    let claimed = tx.claim_mail(only, now, until, BATCH).await?;
    tx.commit_bookkeeping().await?;
    Ok(claimed)
}

/// One send of a claimed mail, and its bookkeeping: deleted once sent or given up on, else due
/// again after the back-off.
async fn attempt(gh: &Guildhall, queued: QueuedMail) -> MailState {
    let retry = gh.mailer.retry();
    let subject = queued.mail.subject.as_str();
    let outcome = gh.mailer.send_once(&queued.mail).await;
    let (state, due) = match &outcome {
        Ok(()) => {
            tracing::info!(mail.subject = %subject, attempt = queued.attempts, "mail sent");
            (MailState::Sent, None)
        }
        Err(why) if queued.attempts < retry.attempts.max(1) => {
            let wait = retry.wait(queued.attempts);
            tracing::warn!(mail.subject = %subject, attempt = queued.attempts, error = %why, retry_in_ms = wait.as_millis() as u64, "mail not sent; retrying");
            (MailState::Pending, Some(Utc::now() + wait))
        }
        Err(why) => {
            tracing::warn!(mail.subject = %subject, attempt = queued.attempts, error = %why, "mail not sent; giving up");
            (MailState::Failed, None)
        }
    };
    let settled = async {
        let mut tx = gh.store.begin().await?;
        match due {
            Some(due) => tx.retry_mail(queued.id, due).await?,
            None => tx.delete_mail(queued.id).await?,
        }
        if let (Some(invitation), Some(hash), false) = (
            queued.invitation,
            &queued.token_hash,
            state == MailState::Pending,
        ) {
            tx.set_invitation_mail(invitation, hash, state).await?;
        }
        tx.commit_bookkeeping().await
    }
    .await;
    match settled {
        // A retry is due sooner than the sender may be looking.
        Ok(()) if due.is_some() => gh.mailer.wake(),
        Ok(()) => {}
        // The lease runs out and the mail is tried again: sent twice rather than lost.
        Err(e) => {
            tracing::warn!(mail.subject = %subject, error = %e, "could not settle a mail in the outbox")
        }
    }
    state
}

/// Starts this process's outbox sender: whatever is due, then a sleep until the next mail is
/// due (at most [`IDLE`]) or a retry is scheduled here.
pub fn spawn_sender(gh: Guildhall) {
    tokio::spawn(async move {
        loop {
            let wait = match send_due(&gh).await {
                Ok(next) => next,
                Err(e) => {
                    tracing::warn!(error = %e, "the mail outbox could not be read; trying again");
                    IDLE
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = gh.mailer.woken() => {}
            }
        }
    });
}

/// Sends every due mail, a batch at a time; how long until the next one is due.
async fn send_due(gh: &Guildhall) -> Result<Duration> {
    loop {
        let batch = claim(gh, None, Utc::now()).await?;
        if batch.is_empty() {
            break;
        }
        futures_util::future::join_all(batch.into_iter().map(|m| attempt(gh, m))).await;
    }
    let mut tx = gh.store.read().await?;
    let next = tx.next_mail_due().await?;
    drop(tx);
    Ok(match next {
        Some(at) => (at - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO)
            .min(IDLE),
        None => IDLE,
    })
}
