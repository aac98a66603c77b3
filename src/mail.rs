//! Outgoing mail. Each mail is built once (plain text and HTML parts) and sent by exactly one
//! transport: SMTP (`--smtp-url`), a mail directory (`--mail-dir`, one `.eml` per mail, written
//! atomically), or, with neither, `.eml` files in `mail/` under the data directory. Mail is sent
//! after the change commits; a failure is logged and never undoes the change. Tokens in links
//! never reach a log line.

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
use std::path::PathBuf;

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

/// Where mail goes.
pub enum Mailer {
    /// One `.eml` file per mail in this directory.
    Dir(PathBuf),
    /// An SMTP relay.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// The sender of every mail.
const FROM: &str = "Guildhall <guildhall@localhost>";

impl Mailer {
    /// The transport for the configuration: SMTP when a URL is given, else the mail directory.
    pub fn new(smtp_url: Option<&str>, dir: PathBuf) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => Ok(Mailer::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("--smtp-url is not usable: {e}"))?
                    .build(),
            )),
            None => {
                std::fs::create_dir_all(&dir).map_err(|e| {
                    anyhow::anyhow!("creating the mail directory {}: {e}", dir.display())
                })?;
                Ok(Mailer::Dir(dir))
            }
        }
    }

    /// Builds and sends `mail`; errors are logged here, once, and swallowed: a mail never undoes
    /// the change it tells of.
    pub async fn send(&self, mail: Mail) {
        let subject = mail.subject.clone();
        if let Err(e) = self.try_send(mail).await {
            tracing::warn!(mail.subject = %subject, error = %e, "mail could not be sent");
        }
    }

    async fn try_send(&self, mail: Mail) -> anyhow::Result<()> {
        let to: Mailbox = mail.to.parse()?;
        let message = Message::builder()
            .from(FROM.parse()?)
            .to(to)
            .subject(mail.subject)
            .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))?;
        match self {
            Mailer::Smtp(transport) => {
                transport.send(message).await?;
            }
            Mailer::Dir(dir) => {
                let id = uuid::Uuid::now_v7();
                let tmp = dir.join(format!(".{id}.eml.tmp"));
                let path = dir.join(format!("{id}.eml"));
                tokio::fs::write(&tmp, message.formatted()).await?;
                tokio::fs::rename(&tmp, &path).await?;
                tracing::info!(path = %path.display(), "mail written");
            }
        }
        Ok(())
    }
}

/// Escapes text for HTML bodies.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
