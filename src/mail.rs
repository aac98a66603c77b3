//! Outgoing mail. Each mail is built once (plain text and HTML parts) and sent by exactly one
//! transport: SMTP (`--smtp-url`), a mail directory (`--mail-dir`, one `.eml` per mail, written
//! atomically), or, with neither, `.eml` files in `mail/` under the data directory. A mail is
//! queued in the transaction of the change it tells of and sent after commit by the outbox
//! (`service::outbox`), which retries with exponential back-off; a failure never undoes the
//! change, and SMTP never blocks a request. Tokens in links never reach a log line; a queued
//! mail's row is deleted once it is sent.

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
    /// Wakes this process's outbox sender when a retry was scheduled.
    wake: tokio::sync::Notify,
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
    pub fn wait(&self, n: u32) -> Duration {
        let base = self
            .first
            .saturating_mul(2u32.saturating_pow(n.saturating_sub(1)))
            .min(self.max);
        let jitter: f64 = rand::Rng::gen_range(&mut rand::thread_rng(), 0.75..1.25);
        base.mul_f64(jitter).min(self.max)
    }
}

/// The sender of every mail.
const FROM: &str = "Guildhall <guildhall@localhost>";

/// A mail waiting in the outbox (`service::outbox`), as the store holds it.
#[derive(Clone, Debug)]
pub struct QueuedMail {
    /// The outbox row.
    pub id: uuid::Uuid,
    /// The mail.
    pub mail: Mail,
    /// The invitation whose mail state the outcome is recorded on.
    pub invitation: Option<crate::domain::ids::InvitationId>,
    /// The hash of the invitation token this mail carries.
    pub token_hash: Option<Vec<u8>>,
    /// Attempts so far, the one just claimed included.
    pub attempts: u32,
    /// When it was queued.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl Mailer {
    /// The transport for the configuration: SMTP when a URL is given, else the mail directory.
    pub fn new(smtp_url: Option<&str>, dir: PathBuf, retry: Retry) -> anyhow::Result<Self> {
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("--smtp-url is not usable: {e}"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(&dir).map_err(|e| {
                    anyhow::anyhow!("creating the mail directory {}: {e}", dir.display())
                })?;
                Transport::Dir(dir)
            }
        };
        Ok(Mailer {
            transport,
            retry,
            wake: tokio::sync::Notify::new(),
        })
    }

    /// How failed sends are retried.
    pub fn retry(&self) -> Retry {
        self.retry
    }

    /// Tells the outbox sender to look again when the next mail is due (a wake-up given while
    /// it is busy is kept for its next wait).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits for [`Mailer::wake`].
    pub async fn woken(&self) {
        self.wake.notified().await;
    }

    /// Whether a send settles at once (a file written), so a request may wait for it; an SMTP
    /// send is never waited for.
    pub fn settles_at_once(&self) -> bool {
        matches!(self.transport, Transport::Dir(_))
    }

    /// How long a sender holds a claimed mail before another may take it: longer than any one
    /// send can take, so a mail is sent twice only when its sender died after sending it.
    pub fn lease(&self) -> Duration {
        match self.transport {
            Transport::Dir(_) => Duration::from_secs(10),
            Transport::Smtp(_) => SMTP_TIMEOUT * 2,
        }
    }

    /// Builds `mail` and hands it to the transport, once: a file in the mail directory, or one
    /// SMTP transaction. Retrying is the outbox's. The error says why, for the log; the built
    /// mail (which may hold a token) never reaches it.
    pub async fn send_once(&self, mail: &Mail) -> Result<(), String> {
        let message =
            build(mail.clone()).map_err(|e| format!("the mail could not be built: {e}"))?;
        match &self.transport {
            Transport::Dir(dir) => write_eml(dir, &message)
                .await
                .map_err(|e| format!("the mail could not be written: {e}")),
            Transport::Smtp(transport) => transport
                .send(message)
                .await
                .map(drop)
                .map_err(|e| format!("the SMTP relay did not take the mail: {e}")),
        }
    }
}

/// The longest one SMTP send may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

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
