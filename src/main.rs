//! The `guildhall` binary: `guildhall serve` runs the server; the CLI nouns (`guildhall org …`,
//! `guildhall member …`) will sit beside it, talking to a server over the API. The operator
//! commands `guildhall invoices …` and `guildhall vouchers …` open the database themselves.

use clap::{Parser, Subcommand};
use guildhall::config::{ServeConfig, StoreConfig};
use guildhall::domain::DomainError;
use guildhall::domain::billing::{Month, VoucherValue};
use guildhall::service::{Error, OrgRef};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "guildhall",
    version,
    about = "Organizations, members, roles and access for cloud platforms"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (embedded SQLite unless --database-url names PostgreSQL).
    Serve(ServeConfig),
    /// Invoices (an operator command: opens the database itself).
    Invoices {
        #[command(subcommand)]
        command: InvoicesCommand,
    },
    /// Vouchers (an operator command: opens the database itself).
    Vouchers {
        #[command(subcommand)]
        command: VouchersCommand,
    },
}

#[derive(Subcommand)]
enum InvoicesCommand {
    /// Produce the invoices of a closed month; running it twice changes nothing.
    Generate {
        /// The month, `YYYY-MM`; it must be over.
        #[arg(long)]
        month: String,
        #[command(flatten)]
        store: StoreConfig,
    },
}

#[derive(Subcommand)]
enum VouchersCommand {
    /// Create a voucher code for an amount or a percentage.
    Create {
        /// The code organizations redeem (3 to 40 letters, digits, `-`, `_`; case-insensitive).
        #[arg(long)]
        code: String,
        /// Amount off the next invoice, in minor units (cents).
        #[arg(long, conflicts_with = "percent", required_unless_present = "percent")]
        amount: Option<i64>,
        /// Percentage (1 to 100) off the next invoice's subtotal.
        #[arg(long)]
        percent: Option<i64>,
        /// The last day it can be redeemed, `YYYY-MM-DD` (UTC, inclusive).
        #[arg(long)]
        expires: chrono::NaiveDate,
        /// How many organizations may redeem it.
        #[arg(long, default_value_t = 1)]
        max_uses: i64,
        /// Reserve it to one organization (id or slug).
        #[arg(long)]
        org: Option<String>,
        #[command(flatten)]
        store: StoreConfig,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_logs();
    match Cli::parse().command {
        Command::Serve(config) => guildhall::server::serve(config).await,
        Command::Invoices {
            command: InvoicesCommand::Generate { month, store },
        } => {
            let Some(month) = Month::parse(&month) else {
                refuse(&format!("`{month}` is not a month; use YYYY-MM"));
            };
            let config = store.as_serve();
            let catalog = config.catalog()?;
            let store = guildhall::server::open_store(&config).await?;
            let now = chrono::Utc::now();
            let mut last_shown = 0;
            let result = guildhall::service::billing::generate_invoices(
                &*store,
                &catalog,
                month,
                now,
                |done, total| {
                    if done == total || done - last_shown >= 1000 {
                        last_shown = done;
                        eprintln!("{month}: {done}/{total} organizations invoiced");
                    }
                },
            )
            .await;
            match result {
                Ok(r) => {
                    eprintln!(
                        "{month}: {} invoice(s) produced, {} already there",
                        r.created, r.skipped
                    );
                    Ok(())
                }
                Err(Error::Domain(e @ DomainError::MonthNotClosed(_))) => refuse(&e.to_string()),
                Err(e) => Err(e.into()),
            }
        }
        Command::Vouchers {
            command:
                VouchersCommand::Create {
                    code,
                    amount,
                    percent,
                    expires,
                    max_uses,
                    org,
                    store,
                },
        } => {
            let value = match (amount, percent) {
                (Some(a), None) => VoucherValue::Amount(a),
                (None, Some(p)) => VoucherValue::Percent(p),
                _ => refuse("give exactly one of --amount and --percent"),
            };
            let config = store.as_serve();
            let store = guildhall::server::open_store(&config).await?;
            let org = org.as_deref().map(OrgRef::parse);
            match guildhall::service::billing::create_voucher(
                &*store,
                &code,
                value,
                expires,
                max_uses,
                org.as_ref(),
                chrono::Utc::now(),
            )
            .await
            {
                Ok(v) => {
                    println!("{}", v.code);
                    Ok(())
                }
                Err(Error::Domain(e @ (DomainError::Invalid(_) | DomainError::NotFound(_)))) => {
                    refuse(&e.to_string())
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// Logs on standard output: `GUILDHALL_LOG` filters, `GUILDHALL_LOG_FORMAT` is `text` (the
/// default; coloured only on a terminal, and never with `NO_COLOR` set) or `json` (one object a
/// line, for log collectors).
fn init_logs() {
    let filter =
        EnvFilter::try_from_env("GUILDHALL_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match std::env::var("GUILDHALL_LOG_FORMAT").as_deref() {
        Ok("json") => logs.json().init(),
        Ok("text") | Ok("") | Err(_) => {
            use std::io::IsTerminal as _;
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            logs.with_ansi(colour).init();
        }
        Ok(other) => refuse(&format!(
            "GUILDHALL_LOG_FORMAT is `{other}`; use `text` (the default) or `json`"
        )),
    }
}

/// Says why the command was refused and exits with status 2 (bad input, nothing changed).
fn refuse(why: &str) -> ! {
    eprintln!("error: {why}");
    std::process::exit(2)
}
