//! What a client command can fail with, and the one place exit codes come from (SPEC §8):
//! 0 success; 2 usage; 3 unauthenticated, forbidden or not found; 4 conflict; 1 anything else.

use std::fmt;

/// A failed client command.
#[derive(Debug)]
pub enum CliError {
    /// The server answered a problem document (or at least an error status).
    Api {
        /// The HTTP status.
        status: u16,
        /// The problem's title.
        title: String,
        /// The problem's detail.
        detail: String,
        /// The problem's stable code, when it had one.
        code: Option<String>,
        /// Per-field reasons, for `validation_failed`.
        fields: Vec<String>,
    },
    /// The server could not be reached (refused, timed out, bad TLS…).
    Unreachable {
        /// The URL tried.
        url: String,
        /// Why.
        reason: String,
    },
    /// Signed out: no stored session and no GUILDHALL_TOKEN.
    SignedOut,
    /// The command was used wrongly in a way clap cannot see (a missing `--org`…).
    Usage(String),
    /// Anything else (the credentials file, a local file, an unexpected answer).
    Other(String),
}

impl CliError {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Api { status, .. } => match status {
                401 | 403 | 404 => 3,
                409 => 4,
                // The server refused the input given on the command line: a usage error.
                400 | 422 => 2,
                _ => 1,
            },
            CliError::SignedOut => 3,
            CliError::Usage(_) => 2,
            CliError::Unreachable { .. } | CliError::Other(_) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Api {
                status,
                title,
                detail,
                code,
                fields,
            } => {
                write!(f, "error: {title}")?;
                if !detail.is_empty() {
                    write!(f, ": {detail}")?;
                }
                match code {
                    Some(code) => write!(f, " ({status} {code})")?,
                    None => write!(f, " ({status})")?,
                }
                for field in fields {
                    write!(f, "\n  {field}")?;
                }
                if *status == 401 {
                    write!(f, "\nsign in again with `guildhall login`")?;
                }
                Ok(())
            }
            CliError::Unreachable { url, reason } => {
                write!(f, "error: could not reach the server at {url}: {reason}")
            }
            CliError::SignedOut => write!(
                f,
                "error: not signed in; run `guildhall login` or set GUILDHALL_TOKEN"
            ),
            CliError::Usage(why) | CliError::Other(why) => write!(f, "error: {why}"),
        }
    }
}

/// What client commands answer.
pub type Result<T, E = CliError> = std::result::Result<T, E>;
