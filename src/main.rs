//! The `guildhall` binary: `guildhall serve` runs the server; the client commands (`guildhall
//! org …`, `guildhall member …`, see `guildhall::cli`) sit beside it, talking to a server over
//! the API. The operator commands `guildhall invoices …` and `guildhall vouchers …` open the
//! database themselves.

use clap::{CommandFactory as _, Parser, Subcommand};
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
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once at start; `serve`'s flags are the big one"
)]
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
    /// The client commands, over the API of any Guildhall server.
    #[command(flatten)]
    Client(guildhall::cli::Command),
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
        #[command(flatten)]
        invoicing: guildhall::config::InvoicingConfig,
    },
    /// Mark an invoice `paid` or `void` (both final), recorded in its organization's audit log.
    Mark {
        /// The invoice's number (`INV-000001`) or id.
        invoice: String,
        /// `paid` or `void`.
        #[arg(value_parser = ["paid", "void"])]
        status: String,
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
        /// The last day it can be redeemed, `YYYY-MM-DD` (UTC, inclusive; today or later).
        #[arg(long, value_parser = parse_day)]
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
    /// List every voucher: its value, last day, uses and the organization it is reserved to.
    List {
        #[command(flatten)]
        store: StoreConfig,
    },
}

/// The machine account an operator command runs as, for the audit log.
fn operator_account() -> String {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "operator".to_owned())
}

/// Reads `YYYY-MM-DD`, and says so, with an example, when given anything else.
fn parse_day(raw: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map_err(|_| format!("`{raw}` is not a date; use YYYY-MM-DD, e.g. 2027-06-30"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    init_logs();
    match Cli::parse().command {
        Command::Serve(config) => guildhall::server::serve(config).await,
        Command::Client(c) => std::process::exit(guildhall::cli::run(c, Cli::command()).await),
        Command::Invoices {
            command:
                InvoicesCommand::Generate {
                    month,
                    store,
                    invoicing,
                },
        } => {
            let Some(month) = Month::parse(&month) else {
                refuse(&format!("`{month}` is not a month; use YYYY-MM"));
            };
            let config = store.as_serve();
            let catalog = config.catalog()?;
            let terms = match invoicing.terms() {
                Ok(t) => t,
                Err(e) => refuse(&e.to_string()),
            };
            let store = guildhall::server::open_store(&config).await?;
            let now = chrono::Utc::now();
            let mut last_shown = 0;
            let result = guildhall::service::billing::generate_invoices(
                &*store,
                &catalog,
                &terms,
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
                        r.created, r.already
                    );
                    Ok(())
                }
                Err(Error::Domain(e @ DomainError::MonthNotClosed(_))) => refuse(&e.to_string()),
                Err(e) => Err(e.into()),
            }
        }
        Command::Invoices {
            command:
                InvoicesCommand::Mark {
                    invoice,
                    status,
                    store,
                },
        } => {
            use guildhall::domain::invoicing::InvoiceStatus;
            let Some(to) = InvoiceStatus::parse(&status) else {
                refuse(&format!("`{status}` is not a status; use `paid` or `void`"));
            };
            let config = store.as_serve();
            let store = guildhall::server::open_store(&config).await?;
            let account = operator_account();
            match guildhall::service::billing::set_invoice_status(
                &*store,
                &invoice,
                to,
                guildhall::service::billing::StatusBy::Operator(&account),
                chrono::Utc::now(),
            )
            .await
            {
                Ok(i) => {
                    println!("{} {}", i.number, i.status);
                    Ok(())
                }
                Err(Error::Domain(e @ DomainError::NotFound(_))) => {
                    refuse(&format!("{e}: no invoice has the number or id `{invoice}`"))
                }
                Err(Error::Domain(
                    e @ (DomainError::InvoiceVoid(_) | DomainError::InvoicePaid(_)),
                )) => {
                    eprintln!("error: {e}");
                    std::process::exit(4)
                }
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
                &guildhall::service::billing::Operator {
                    account: &operator_account(),
                    now: chrono::Utc::now(),
                },
            )
            .await
            {
                Ok(v) => {
                    println!("{}", v.code);
                    Ok(())
                }
                Err(Error::Domain(DomainError::Invalid(fields))) => refuse(
                    &fields
                        .iter()
                        .map(|f| format!("--{} {}", f.field.replace('_', "-"), f.reason))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                Err(Error::Domain(e @ DomainError::NotFound(_))) => refuse(&e.to_string()),
                Err(e) => Err(e.into()),
            }
        }
        Command::Vouchers {
            command: VouchersCommand::List { store },
        } => {
            let config = store.as_serve();
            let store = guildhall::server::open_store(&config).await?;
            let vouchers = guildhall::service::billing::list_vouchers(&*store).await?;
            print!(
                "{}",
                voucher_table(&vouchers, chrono::Utc::now().date_naive())
            );
            Ok(())
        }
    }
}

/// The vouchers as an aligned table; an empty list says so.
fn voucher_table(
    vouchers: &[guildhall::domain::billing::Voucher],
    today: chrono::NaiveDate,
) -> String {
    use guildhall::domain::billing::format_amount;
    if vouchers.is_empty() {
        return "no vouchers yet; create one with `guildhall vouchers create`\n".to_owned();
    }
    let mut rows = vec![[
        "CODE".to_owned(),
        "VALUE".to_owned(),
        "EXPIRES".to_owned(),
        "USES".to_owned(),
        "ORGANIZATION".to_owned(),
    ]];
    for v in vouchers {
        let value = match v.value {
            VoucherValue::Amount(a) => format!("{} off", format_amount(a)),
            VoucherValue::Percent(p) => format!("{p}% off"),
        };
        let expires = if v.expires_on < today {
            format!("{} (expired)", v.expires_on)
        } else {
            v.expires_on.to_string()
        };
        let org = v.org.map_or_else(|| "any".to_owned(), |o| o.to_string());
        rows.push([
            v.code.clone(),
            value,
            expires,
            format!("{}/{}", v.uses, v.max_uses),
            org,
        ]);
    }
    let mut widths = [0usize; 5];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
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
