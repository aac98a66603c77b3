//! `serve`'s configuration: flags, each also read from a `GUILDHALL_*` environment variable,
//! with the defaults of SPEC §6.

use clap::Args;
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;

/// How `guildhall serve` runs.
#[derive(Args, Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "GUILDHALL_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where Guildhall keeps its files (the SQLite database, mail). Default: the user's data
    /// directory, e.g. `~/.local/share/guildhall`.
    #[arg(long, env = "GUILDHALL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://…`. Default: an SQLite file in the data directory.
    #[arg(long, env = "GUILDHALL_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,
    /// Write every outgoing mail here as an `.eml` file.
    #[arg(long, env = "GUILDHALL_MAIL_DIR")]
    pub mail_dir: Option<PathBuf>,
    /// Send mail over SMTP, e.g. `smtp://user:pass@host:587`.
    #[arg(long, env = "GUILDHALL_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<SecretString>,
    /// What other services present to the check API.
    #[arg(long, env = "GUILDHALL_SERVICE_TOKEN", hide_env_values = true)]
    pub service_token: Option<SecretString>,
    /// The base of links in mails. Default: `http://` plus the listen address.
    #[arg(long, env = "GUILDHALL_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How long to wait before retrying a failed SMTP send; each later wait doubles (at most
    /// 5 minutes apart).
    #[arg(long, env = "GUILDHALL_MAIL_RETRY_FIRST", default_value = "1s", value_parser = humantime::parse_duration)]
    pub mail_retry_first: std::time::Duration,
    /// How many times an SMTP send is tried before the mail counts as failed.
    #[arg(long, env = "GUILDHALL_MAIL_ATTEMPTS", default_value_t = 8)]
    pub mail_attempts: u32,
    /// How long a sign-in session lasts, e.g. `7d`, `12h`.
    #[arg(long, env = "GUILDHALL_SESSION_TTL", default_value = "7d", value_parser = humantime::parse_duration)]
    pub session_ttl: std::time::Duration,
    /// How many days an API token made without `expires_at` lasts.
    #[arg(long, env = "GUILDHALL_TOKEN_DEFAULT_DAYS", default_value_t = 90)]
    pub token_default_days: u32,
    /// The most days ahead an API token's `expires_at` may be (at most 36500).
    #[arg(long, env = "GUILDHALL_TOKEN_MAX_DAYS", default_value_t = 365)]
    pub token_max_days: u32,
    /// A plan catalog file (TOML) replacing the built-in tiers and prices; see README "Plans and
    /// billing".
    #[arg(long, env = "GUILDHALL_PLANS")]
    pub plans: Option<PathBuf>,
    /// How often to ask the database for grant changes made by other `serve` processes: the
    /// safety net behind PostgreSQL's notifications, and the only path on SQLite.
    #[arg(long, env = "GUILDHALL_INDEX_POLL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub index_poll: std::time::Duration,
    /// How long a client has to send a request's head; also how long an idle kept-alive
    /// connection stays open. Slow or silent clients are cut off after it.
    #[arg(long, env = "GUILDHALL_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_read_timeout: std::time::Duration,
    /// The largest request head (request line and headers) accepted, in bytes; larger ones get
    /// 431. At least 8192.
    #[arg(long, env = "GUILDHALL_MAX_HEADER_BYTES", default_value_t = 32 * 1024, value_parser = clap::value_parser!(u32).range(8192..))]
    pub max_header_bytes: u32,
    /// How many connections one client address may hold open at once (behind a proxy, every
    /// client shares the proxy's address: raise it there).
    #[arg(long, env = "GUILDHALL_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_address: u32,
    /// On SIGTERM or Ctrl-C, how long requests in flight may take before the remaining
    /// connections are cut and `serve` exits.
    #[arg(long, env = "GUILDHALL_SHUTDOWN_DEADLINE", default_value = "30s", value_parser = humantime::parse_duration)]
    pub shutdown_deadline: std::time::Duration,
    /// How long a request waits for a free database connection before it is answered 503
    /// `store_unavailable` (also what it waits for an unreachable database).
    #[arg(long, env = "GUILDHALL_DATABASE_ACQUIRE_TIMEOUT", default_value = "2s", value_parser = humantime::parse_duration)]
    pub database_acquire_timeout: std::time::Duration,
    /// How long `serve` waits at start for a PostgreSQL that cannot be reached yet, retrying
    /// with back-off and logging why, before it gives up.
    #[arg(long, env = "GUILDHALL_DATABASE_WAIT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub database_wait: std::time::Duration,
    /// SQLite only: `full` (the default) syncs every commit to disk before answering, so an
    /// acknowledged write survives a power loss too; `normal` makes each commit survive a crash
    /// or `kill -9` of `serve` but not always a power loss or an operating-system crash, which
    /// may roll back the last commits (never corrupt the file), for faster sequential writes.
    /// See README "Configuration".
    #[arg(
        long,
        env = "GUILDHALL_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value_t = crate::store::SqliteSynchronous::Full
    )]
    pub sqlite_synchronous: crate::store::SqliteSynchronous,
    /// How many accounts one client address may sign up an hour (each costs a password hash and
    /// an organization); more get 429.
    #[arg(long, env = "GUILDHALL_SIGNUPS_PER_ADDRESS", default_value_t = 20)]
    pub signups_per_address: u32,
    /// How many "forgot password" requests one client address may make an hour; more get 429.
    #[arg(
        long,
        env = "GUILDHALL_PASSWORD_RESETS_PER_ADDRESS",
        default_value_t = 10
    )]
    pub password_resets_per_address: u32,
    #[command(flatten)]
    pub invoicing: InvoicingConfig,
}

/// Who issues the invoices and on what terms: read by `serve`'s monthly run and by
/// `guildhall invoices generate`, and kept with each invoice produced.
#[derive(Args, Debug, Clone, Default)]
pub struct InvoicingConfig {
    /// The seller's legal name, printed on every invoice.
    #[arg(long, env = "GUILDHALL_SELLER_NAME")]
    pub seller_name: Option<String>,
    /// The seller's postal address, lines separated by `;` or newlines, e.g.
    /// `1 rue de la Paix; 75002 Paris; France`.
    #[arg(long, env = "GUILDHALL_SELLER_ADDRESS")]
    pub seller_address: Option<String>,
    /// The seller's EU VAT number, e.g. `FR12345678901`.
    #[arg(long, env = "GUILDHALL_SELLER_VAT")]
    pub seller_vat: Option<String>,
    /// The VAT rate charged, in percent (e.g. `20` or `5.5`; default 0). An EU buyer with a VAT
    /// number of another member state than the seller's is invoiced under the reverse charge
    /// instead (VAT 0).
    #[arg(long, env = "GUILDHALL_VAT_RATE")]
    pub vat_rate: Option<String>,
    /// How many days after its date an invoice falls due (0 to 365).
    #[arg(long, env = "GUILDHALL_INVOICE_DUE_DAYS", default_value_t = 14)]
    pub invoice_due_days: u32,
}

impl InvoicingConfig {
    /// The invoice terms, checked; the error names the flag at fault.
    pub fn terms(&self) -> anyhow::Result<crate::domain::invoicing::InvoiceTerms> {
        crate::domain::invoicing::InvoiceTerms::new(
            self.seller_name.as_deref(),
            self.seller_address.as_deref(),
            self.seller_vat.as_deref(),
            self.vat_rate.as_deref(),
            self.invoice_due_days,
        )
        .map_err(|e| anyhow::anyhow!("invalid invoicing configuration: {e}"))
    }
}

impl ServeConfig {
    /// How the store is opened.
    pub fn open_options(&self) -> crate::store::OpenOptions {
        crate::store::OpenOptions {
            acquire_timeout: self.database_acquire_timeout,
            wait: self.database_wait,
            sqlite_synchronous: self.sqlite_synchronous,
        }
    }

    /// The listener's limits.
    pub fn limits(&self) -> crate::connections::Limits {
        crate::connections::Limits {
            header_read_timeout: self.header_read_timeout,
            max_header_bytes: self.max_header_bytes as usize,
            max_connections_per_address: self.max_connections_per_address as usize,
            shutdown_deadline: self.shutdown_deadline,
        }
    }

    /// The data directory, resolved.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| {
            dirs::data_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join("guildhall")
        })
    }

    /// The plan catalog: the `--plans` file, validated, or the built-in one. The error names the
    /// file and the bad entry.
    pub fn catalog(&self) -> anyhow::Result<crate::domain::billing::Catalog> {
        use anyhow::Context as _;
        match &self.plans {
            None => Ok(crate::domain::billing::Catalog::default()),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading the plan catalog {}", path.display()))?;
                crate::domain::billing::Catalog::from_toml(&text).map_err(|e| {
                    anyhow::anyhow!("the plan catalog {} is invalid: {e}", path.display())
                })
            }
        }
    }

    /// How long API tokens live, checked: the default at least a day and at most the maximum.
    pub fn token_lifetime(&self) -> anyhow::Result<crate::domain::rules::TokenLifetime> {
        crate::domain::rules::TokenLifetime::new(self.token_default_days, self.token_max_days)
            .map_err(|e| {
                anyhow::anyhow!(
                    "{e}; check --token-default-days ({}) and --token-max-days ({})",
                    self.token_default_days,
                    self.token_max_days
                )
            })
    }

    /// The database URL, resolved: the one given, or `guildhall.db` in the data directory.
    pub fn database_url(&self) -> SecretString {
        self.database_url.clone().unwrap_or_else(|| {
            let path = self.data_dir().join("guildhall.db");
            SecretString::from(format!("sqlite://{}", path.display()))
        })
    }
}

/// The database and plan catalog of an operator command (`guildhall invoices generate`,
/// `guildhall vouchers create`), which opens the database itself: the same flags and
/// environment variables as `serve`.
#[derive(Args, Debug, Clone)]
pub struct StoreConfig {
    /// Where Guildhall keeps its files. Default: the user's data directory.
    #[arg(long, env = "GUILDHALL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://…`. Default: an SQLite file in the data directory.
    #[arg(long, env = "GUILDHALL_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<SecretString>,
    /// The plan catalog file (TOML), as given to `serve`.
    #[arg(long, env = "GUILDHALL_PLANS")]
    pub plans: Option<PathBuf>,
    /// SQLite only: `normal` or `full`, as given to `serve`.
    #[arg(
        long,
        env = "GUILDHALL_SQLITE_SYNCHRONOUS",
        value_enum,
        default_value_t = crate::store::SqliteSynchronous::Full
    )]
    pub sqlite_synchronous: crate::store::SqliteSynchronous,
}

impl StoreConfig {
    /// The same settings as a `serve` configuration, to resolve them the same way.
    pub fn as_serve(&self) -> ServeConfig {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            mail_dir: None,
            smtp_url: None,
            service_token: None,
            public_url: None,
            session_ttl: std::time::Duration::from_secs(7 * 24 * 3600),
            token_default_days: 90,
            token_max_days: 365,
            plans: self.plans.clone(),
            index_poll: std::time::Duration::from_secs(1),
            mail_retry_first: std::time::Duration::from_secs(1),
            mail_attempts: 8,
            header_read_timeout: std::time::Duration::from_secs(10),
            max_header_bytes: 32 * 1024,
            max_connections_per_address: 256,
            shutdown_deadline: std::time::Duration::from_secs(30),
            database_acquire_timeout: std::time::Duration::from_secs(2),
            database_wait: std::time::Duration::ZERO,
            sqlite_synchronous: self.sqlite_synchronous,
            signups_per_address: 20,
            password_resets_per_address: 10,
            invoicing: InvoicingConfig::default(),
        }
    }
}
