//! The credentials file: `$XDG_CONFIG_HOME/guildhall/credentials.toml` (falling back to
//! `~/.config/guildhall/`), readable by its owner only (0600). It holds the server, the session
//! token, the email signed in as and the organization `org switch` chose. A file others can read
//! is refused, with the command that fixes it. `GUILDHALL_SERVER` and `GUILDHALL_TOKEN` override
//! what it holds.

use super::error::{CliError, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The server used when nothing names one: where `guildhall serve` listens by default.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8080";

/// What the credentials file holds.
#[derive(Serialize, Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// The server's base URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The session token of the last `login`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The email signed in as.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The organization's id `org switch` chose, the default `--org`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// That organization's slug when it was chosen, for messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_slug: Option<String>,
}

/// The credentials file's path.
pub fn path() -> Result<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").map(PathBuf::from) {
        // The XDG base directory spec: a relative value is invalid and ignored.
        Some(dir) if dir.is_absolute() => dir,
        _ => dirs::home_dir()
            .ok_or_else(|| {
                CliError::Other(
                    "no home directory to keep credentials in; set XDG_CONFIG_HOME".to_owned(),
                )
            })?
            .join(".config"),
    };
    Ok(base.join("guildhall").join("credentials.toml"))
}

/// Reads the credentials file; an absent file is empty credentials.
pub fn load() -> Result<Credentials> {
    let path = path()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Credentials::default()),
        Err(e) => {
            return Err(CliError::Other(format!(
                "cannot read `{}`: {e}",
                path.display()
            )));
        }
    };
    refuse_if_shared(&path)?;
    toml::from_str(&text).map_err(|e| {
        CliError::Other(format!(
            "`{}` is not a Guildhall credentials file ({}); remove it and run `guildhall login`",
            path.display(),
            e.message()
        ))
    })
}

/// Refuses a credentials file that anyone but its owner may read or write.
#[cfg(unix)]
fn refuse_if_shared(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map_err(|e| CliError::Other(format!("cannot read `{}`: {e}", path.display())))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(CliError::Other(format!(
            "the credentials file `{p}` can be read by others (mode {mode:04o}); \
             run `chmod 600 {p}` and try again",
            p = path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_if_shared(_: &Path) -> Result<()> {
    Ok(())
}

/// Writes the credentials file, readable by its owner only, replacing it whole.
pub fn save(creds: &Credentials) -> Result<PathBuf> {
    let path = path()?;
    let fail =
        |e: std::io::Error| CliError::Other(format!("cannot write `{}`: {e}", path.display()));
    let dir = path
        .parent()
        .ok_or_else(|| CliError::Other(format!("`{}` has no directory", path.display())))?;
    create_private_dir(dir).map_err(fail)?;
    let text = toml::to_string(creds)
        .map_err(|e| CliError::Other(format!("cannot write the credentials: {e}")))?;
    let tmp = dir.join(".credentials.toml.tmp");
    let _ = std::fs::remove_file(&tmp);
    write_private(&tmp, text.as_bytes()).map_err(fail)?;
    std::fs::rename(&tmp, &path).map_err(fail)?;
    Ok(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// A value from the environment, when set and not empty.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
