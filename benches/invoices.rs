//! Benchmark of the monthly invoice run: 10,000 organizations with 100,000 projects, on SQLite
//! and on PostgreSQL. `cargo bench --bench invoices` (release build).
//!
//! For each store it creates a fresh database (an SQLite file in a temp dir; a new PostgreSQL
//! database), lets the server's migrations build the schema, then inserts the organizations and
//! the projects' plan periods straight with SQL in bulk (all projects on a plan since before the
//! month, 30% of them changing plan on some day of it). The run itself
//! (`service::billing::generate_invoices`, as the server and `guildhall invoices generate` call
//! it) happens in a child process, so its peak memory (`VmHWM` of `/proc/self/status`) is the
//! run's alone. It prints the time, invoices per second and peak RSS, then times a second run
//! (which finds every invoice there and produces nothing).
//!
//! Settings (environment):
//! - `GUILDHALL_BENCH_SCALE` (default 1): multiplies the 10,000 organizations and 100,000
//!   projects, e.g. `0.01` for a quick check;
//! - `GUILDHALL_BENCH_STORES` (default `sqlite,postgres`);
//! - `GUILDHALL_TEST_DATABASE_URL`: the PostgreSQL admin URL (default
//!   `postgres://postgres@127.0.0.1:5432/postgres`); the database is dropped afterwards.

use anyhow::{Context as _, bail};
use guildhall::domain::billing::{Catalog, Month};
use sqlx::Connection as _;
use std::time::Instant;

/// The month invoiced.
const MONTH: &str = "2025-01";
/// Rows per INSERT statement.
const CHUNK: usize = 1000;

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if let Ok(url) = std::env::var("GUILDHALL_BENCH_CHILD_URL") {
        return rt.block_on(child(&url));
    }
    let scale: f64 = std::env::var("GUILDHALL_BENCH_SCALE")
        .ok()
        .map(|s| s.parse())
        .transpose()
        .context("GUILDHALL_BENCH_SCALE must be a number")?
        .unwrap_or(1.0);
    let orgs = ((10_000.0 * scale).round() as usize).max(1);
    let projects = ((100_000.0 * scale).round() as usize).max(orgs);
    let stores =
        std::env::var("GUILDHALL_BENCH_STORES").unwrap_or_else(|_| "sqlite,postgres".into());
    println!("invoice run for {MONTH}: {orgs} organizations, {projects} projects");
    println!("| store | load (s) | run (s) | invoices/s | peak RSS (MiB) | second run (s) |");
    println!("|---|---|---|---|---|---|");
    for store in stores.split(',').map(str::trim) {
        let dir = tempfile::tempdir()?;
        let (url, admin) = match store {
            "sqlite" => (
                format!("sqlite://{}", dir.path().join("bench.db").display()),
                None,
            ),
            "postgres" => {
                let admin = std::env::var("GUILDHALL_TEST_DATABASE_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
                let name = format!("gh_bench_{}", uuid::Uuid::new_v4().simple());
                rt.block_on(async {
                    let mut c = sqlx::PgConnection::connect(&admin).await?;
                    sqlx::query(&format!("CREATE DATABASE {name}"))
                        .execute(&mut c)
                        .await?;
                    anyhow::Ok(())
                })?;
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                (format!("{base}/{name}"), Some((admin.clone(), name)))
            }
            other => bail!("unknown store `{other}`"),
        };
        let started = Instant::now();
        rt.block_on(load(&url, store == "postgres", orgs, projects))?;
        let load_s = started.elapsed().as_secs_f64();
        let first = run_child(&url)?;
        let second = run_child(&url)?;
        println!(
            "| {store} | {load_s:.1} | {:.2} | {:.0} | {:.1} | {:.2} |",
            first.secs,
            first.created as f64 / first.secs,
            first.peak_kib as f64 / 1024.0,
            second.secs
        );
        if first.created != orgs as u64 || second.created != 0 {
            bail!(
                "expected {orgs} invoices then none, got {} then {}",
                first.created,
                second.created
            );
        }
        if let Some((admin, name)) = admin {
            rt.block_on(async {
                let mut c = sqlx::PgConnection::connect(&admin).await?;
                sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
                    .execute(&mut c)
                    .await?;
                anyhow::Ok(())
            })?;
        }
    }
    Ok(())
}

/// What one run in the child reported.
struct RunResult {
    secs: f64,
    created: u64,
    peak_kib: u64,
}

fn run_child(url: &str) -> anyhow::Result<RunResult> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .env("GUILDHALL_BENCH_CHILD_URL", url)
        .output()?;
    if !out.status.success() {
        bail!("the run failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let mut next = || it.next().context("child output");
    Ok(RunResult {
        secs: next()?.parse()?,
        created: next()?.parse()?,
        peak_kib: next()?.parse()?,
    })
}

/// The child: opens the store, runs the month once, prints `secs created peak_kib`.
async fn child(url: &str) -> anyhow::Result<()> {
    let store = guildhall::store::open(url).await?;
    let month = Month::parse(MONTH).context("month")?;
    let started = Instant::now();
    let report = guildhall::service::billing::generate_invoices(
        &*store,
        &Catalog::default(),
        &guildhall::domain::invoicing::InvoiceTerms::default(),
        month,
        chrono::Utc::now(),
        |_, _| {},
    )
    .await?;
    let secs = started.elapsed().as_secs_f64();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    println!("{secs} {} {peak}", report.created);
    Ok(())
}

/// A UUID literal for this backend.
fn uuid_lit(pg: bool, id: uuid::Uuid) -> String {
    if pg {
        format!("'{id}'")
    } else {
        format!("X'{}'", id.simple())
    }
}

/// Creates the schema (through the server's migrations) and inserts the data in bulk.
async fn load(url: &str, pg: bool, orgs: usize, projects: usize) -> anyhow::Result<()> {
    drop(guildhall::store::open(url).await?);
    let month = Month::parse(MONTH).context("month")?;
    let before = (month.start() - chrono::Duration::days(20)).to_rfc3339();
    let org_ids: Vec<uuid::Uuid> = (0..orgs).map(|_| uuid::Uuid::new_v4()).collect();
    let mut statements = Vec::new();
    for (c, chunk) in org_ids.chunks(CHUNK).enumerate() {
        let rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let n = c * CHUNK + i;
                format!(
                    "({}, 'Bench org {n}', 'bench org {n}', 'bench-org-{n}', FALSE, '{before}')",
                    uuid_lit(pg, *id)
                )
            })
            .collect();
        statements.push(format!(
            "INSERT INTO orgs (id, name, name_key, slug, personal, created_at) VALUES {}",
            rows.join(", ")
        ));
    }
    let tiers = Catalog::default().tiers;
    let mut rows = Vec::new();
    for p in 0..projects {
        let org = org_ids[p % orgs];
        let project = uuid::Uuid::new_v4();
        let tier = &tiers[p % tiers.len()];
        let price = tier.monthly_price;
        let name = format!("project-{p}");
        if p % 10 < 3 {
            // Changes plan on some day of the month.
            let at = (month.start() + chrono::Duration::hours(((p * 7) % (27 * 24)) as i64 + 5))
                .to_rfc3339();
            rows.push(format!(
                "({}, {}, {}, '{name}', 'free', 1, 0, 1, 0, '{before}', '{at}', FALSE)",
                uuid_lit(pg, uuid::Uuid::new_v4()),
                uuid_lit(pg, org),
                uuid_lit(pg, project)
            ));
            rows.push(format!(
                "({}, {}, {}, '{name}', '{}', {}, {}, {}, {price}, '{at}', NULL, FALSE)",
                uuid_lit(pg, uuid::Uuid::new_v4()),
                uuid_lit(pg, org),
                uuid_lit(pg, project),
                tier.name,
                tier.included_storage_gb,
                tier.included_environments,
                tier.included_licenses
            ));
        } else {
            rows.push(format!(
                "({}, {}, {}, '{name}', '{}', {}, {}, {}, {price}, '{before}', NULL, FALSE)",
                uuid_lit(pg, uuid::Uuid::new_v4()),
                uuid_lit(pg, org),
                uuid_lit(pg, project),
                tier.name,
                tier.included_storage_gb,
                tier.included_environments,
                tier.included_licenses
            ));
        }
    }
    for chunk in rows.chunks(CHUNK) {
        statements.push(format!(
            "INSERT INTO plan_periods (id, org_id, project_id, project_name, tier, storage_gb, \
             environments, licenses, monthly_price, valid_from, valid_to, ended_by_delete) VALUES {}",
            chunk.join(", ")
        ));
    }
    if pg {
        let mut c = sqlx::PgConnection::connect(url).await?;
        let mut tx = c.begin().await?;
        for s in &statements {
            sqlx::raw_sql(s).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        sqlx::raw_sql("ANALYZE").execute(&mut c).await?;
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await?;
        let mut tx = c.begin().await?;
        for s in &statements {
            sqlx::raw_sql(s).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        sqlx::raw_sql("ANALYZE").execute(&mut c).await?;
    }
    Ok(())
}
