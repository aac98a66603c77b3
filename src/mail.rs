//! Outgoing mail. Each mail is built once (plain text and HTML parts) and sent by exactly one
//! transport: SMTP (`--smtp-url`), a mail directory (`--mail-dir`, one `.eml` per mail, written
//! atomically), or, with neither, `.eml` files in `mail/` under the data directory. Mail is sent
//! after the change commits; a failure is logged and never undoes the change. SMTP sends run in
//! the background and are retried with exponential back-off, so mail never blocks a request.
//! Tokens in links never reach a log line, and a built mail is never stored.

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use std::path::PathBuf;
use std::time::Duration;

/// One mail, before it is sent.
#[derive(Clone, Debug)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body.
    pub html: String,
}

/// Where mail goes, and how SMTP failures are retried.
pub struct Mailer {
    transport: Transport,
    retry: Retry,
}

enum Transport {
    /// One `.eml` file per mail in this directory: the write is the send.
    Dir(PathBuf),
    /// An SMTP relay, sent to in the background with retries.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// How a failed SMTP send is retried: after `first`, then twice as long each time (with up to a
/// quarter of jitter either way), never waiting more than `max`, `attempts` tries in all.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// The wait before the second attempt.
    pub first: Duration,
    /// The longest wait between two attempts.
    pub max: Duration,
    /// Attempts in all, the first included.
    pub attempts: u32,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            first: Duration::from_secs(1),
            max: Duration::from_secs(300),
            attempts: 8,
        }
    }
}

impl Retry {
    /// The wait after failed attempt `n` (1-based), jittered.
    fn wait(&self, n: u32) -> Duration {
        let base = self
            .first
            .saturating_mul(2u32.saturating_pow(n.saturating_sub(1)))
            .min(self.max);
        let jitter: f64 = rand::Rng::gen_range(&mut rand::thread_rng(), 0.75..1.25);
        base.mul_f64(jitter).min(self.max)
    }
}

/// How a mail's delivery ends: known at once (a mail directory), or later (SMTP in the
/// background, retried).
pub enum Delivery {
    /// Settled: whether the mail went out.
    Done(bool),
    /// Settles when the background sender is done: whether the mail went out in the end.
    Later(tokio::sync::oneshot::Receiver<bool>),
}

impl Delivery {
    /// Waits for the outcome; a sender that went away counts as a failure.
    pub async fn outcome(self) -> bool {
        match self {
            Delivery::Done(ok) => ok,
            Delivery::Later(rx) => rx.await.unwrap_or(false),
        }
    }
}

/// The sender of every mail.
const FROM: &str = "Guildhall <guildhall@localhost>";

impl Mailer {
    /// The transport for the configuration: SMTP when a URL is given, else the mail directory.
    pub fn new(smtp_url: Option<&str>, dir: PathBuf, retry: Retry) -> anyhow::Result<Self> {
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("--smtp-url is not usable: {e}"))?
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(&dir).map_err(|e| {
                    anyhow::anyhow!("creating the mail directory {}: {e}", dir.display())
                })?;
                Transport::Dir(dir)
            }
        };
        Ok(Mailer { transport, retry })
    }

    /// Sends `mail` without waiting for SMTP: a mail never fails or undoes the change it tells
    /// of. Failures are logged where they happen.
    pub async fn send(&self, mail: Mail) {
        // The outcome is logged by `deliver`; nobody else needs it.
        drop(self.deliver(mail).await);
    }

    /// Builds `mail` once and hands it to the transport. A mail directory is written before this
    /// returns; SMTP sends in a background task, retrying with back-off, and the returned
    /// `Delivery` says in the end whether it went out. The built mail (which may hold a token)
    /// lives only in memory, in that task.
    pub async fn deliver(&self, mail: Mail) -> Delivery {
        let subject = mail.subject.clone();
        let message = match build(mail) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(mail.subject = %subject, error = %e, "mail could not be built");
                return Delivery::Done(false);
            }
        };
        match &self.transport {
            Transport::Dir(dir) => match write_eml(dir, &message).await {
                Ok(()) => Delivery::Done(true),
                Err(e) => {
                    tracing::warn!(mail.subject = %subject, error = %e, "mail could not be written");
                    Delivery::Done(false)
                }
            },
            Transport::Smtp(transport) => {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let transport = transport.clone();
                let retry = self.retry;
                tokio::spawn(async move {
                    let ok = send_with_retry(&transport, &message, retry, &subject).await;
                    // The receiver may be gone (nobody tracks this mail): fine.
                    let _unheard = tx.send(ok);
                });
                Delivery::Later(rx)
            }
        }
    }
}

fn build(mail: Mail) -> anyhow::Result<Message> {
    let to: Mailbox = mail.to.parse()?;
    Ok(Message::builder()
        .from(FROM.parse()?)
        .to(to)
        .subject(mail.subject)
        .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))?)
}

async fn write_eml(dir: &std::path::Path, message: &Message) -> anyhow::Result<()> {
    let id = uuid::Uuid::now_v7();
    let tmp = dir.join(format!(".{id}.eml.tmp"));
    let path = dir.join(format!("{id}.eml"));
    tokio::fs::write(&tmp, message.formatted()).await?;
    tokio::fs::rename(&tmp, &path).await?;
    tracing::info!(path = %path.display(), "mail written");
    Ok(())
}

async fn send_with_retry(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    message: &Message,
    retry: Retry,
    subject: &str,
) -> bool {
    let attempts = retry.attempts.max(1);
    for n in 1..=attempts {
        match transport.send(message.clone()).await {
            Ok(_) => {
                tracing::info!(mail.subject = %subject, attempt = n, "mail sent");
                return true;
            }
            Err(e) if n < attempts => {
                let wait = retry.wait(n);
                tracing::warn!(mail.subject = %subject, attempt = n, error = %e, retry_in_ms = wait.as_millis() as u64, "mail not sent; retrying");
                tokio::time::sleep(wait).await;
            }
            Err(e) => {
                tracing::warn!(mail.subject = %subject, attempt = n, error = %e, "mail not sent; giving up");
            }
        }
    }
    false
}

/// Escapes text for HTML bodies.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A time as mails print it, to the minute: `2026-12-08 10:29 UTC`.
pub fn when(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}
