//! Load benchmark of the API over real loopback HTTP, on SQLite and on PostgreSQL in one run.
//!
//! `cargo bench --bench api` (release build). For each store it starts the real server in this
//! process (`guildhall::server::build` + `guildhall::connections::serve` on `127.0.0.1:0`, on its own tokio
//! runtime), loads an organization of 1,000 members through the API, then drives each scenario
//! from a second runtime with a fixed number of keep-alive connections for a fixed time, after a
//! short warm-up, and prints one table: requests, requests per second, p50 / p99 latency, errors.
//!
//! Scenarios:
//! 1. sign in (`POST /api/v1/sessions`), rotating over the members' accounts with the right
//!    password: successful sign-ins never count towards the throttle;
//! 2. list my organizations (`GET /api/v1/orgs`) for a user in a handful of organizations;
//! 3. list the members of the 1,000-member organization, first page of 100;
//! 4. change a member's roles (`PATCH /api/v1/orgs/{org}/members/{user}`), walking over all the
//!    members, `member` -> `developer` on one pass and back on the next, so every request writes;
//! 5. the web console beside the API for the same rows (issue 14): the members page of the large
//!    organization (`GET /orgs/{org}/members`, its first 50 members, with a cookie session)
//!    against `GET /api/v1/orgs/{org}/members?limit=50`, and the Organizations page of a user in
//!    200 organizations (`GET /orgs`, the first 100) against `GET /api/v1/orgs?limit=100`.
//!
//! Every non-2xx answer counts as an error; the run fails if there is any.
//!
//! Settings (environment, or `--quick`):
//! - `GUILDHALL_BENCH_SECS` (default 10): measured seconds per scenario;
//! - `GUILDHALL_BENCH_WARMUP_SECS` (default 2): warm-up before each measurement;
//! - `GUILDHALL_BENCH_CONNECTIONS` (default 16): concurrent connections, one request at a time each;
//! - `GUILDHALL_BENCH_ORG_SIZE` (default 1000): members of the large organization, owner included;
//! - `GUILDHALL_BENCH_STORES` (default `sqlite,postgres`);
//! - `GUILDHALL_BENCH_SCENARIOS` (default all: `sign-in,my-orgs,members,change-roles,
//!   api-members-50,console-members,api-orgs-100,console-orgs`);
//! - `GUILDHALL_BENCH_KEEP=1`: keep each store's database afterwards (its URL is printed), to
//!   inspect query plans;
//! - `GUILDHALL_BENCH_WHATIF_INDEX=1`: after loading, add an index on `member_roles (org_id,
//!   user_id)` straight to the database (the schema has none), to measure what it would change;
//! - `GUILDHALL_BENCH_QUICK=1` or `-- --quick`: a sanity run (1 s per scenario, 0.25 s warm-up,
//!   a 200-member organization), unless the variables above say otherwise;
//! - `GUILDHALL_TEST_DATABASE_URL`: the PostgreSQL admin URL (default
//!   `postgres://postgres@127.0.0.1:5432/postgres`); a fresh database is created there and
//!   dropped afterwards.

use anyhow::{Context as _, bail, ensure};
use hdrhistogram::Histogram;
use reqwest::{Client, RequestBuilder};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Every account's password.
const PASSWORD: &str = "correct horse battery staple";
/// Organizations the "list my organizations" user is added to, besides its personal one.
const READER_ORGS: usize = 5;
/// Page size of the member listing.
const PAGE: usize = 100;
/// Organizations the busy user owns, for the Organizations page.
const BUSY_ORGS: usize = 200;
/// Rows of the console's pages: members shown per page, organizations on `/orgs`.
const CONSOLE_MEMBERS: usize = 50;
const CONSOLE_ORGS: usize = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StoreKind {
    Sqlite,
    Postgres,
}

impl StoreKind {
    fn name(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgres => "postgres",
        }
    }
}

struct Settings {
    measure: Duration,
    warmup: Duration,
    connections: usize,
    org_size: usize,
    stores: Vec<StoreKind>,
    scenarios: Vec<String>,
    keep: bool,
    whatif_index: bool,
    quick: bool,
    cores: usize,
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn env_secs(name: &str, default: f64) -> anyhow::Result<Duration> {
    let secs = match env_var(name) {
        Some(v) => v
            .trim()
            .parse::<f64>()
            .with_context(|| format!("{name}={v} is not a number of seconds"))?,
        None => default,
    };
    ensure!(
        secs.is_finite() && secs >= 0.0,
        "{name} must be a non-negative number of seconds"
    );
    Ok(Duration::from_secs_f64(secs))
}

fn env_count(name: &str, default: usize) -> anyhow::Result<usize> {
    match env_var(name) {
        Some(v) => v
            .trim()
            .parse::<usize>()
            .with_context(|| format!("{name}={v} is not a count")),
        None => Ok(default),
    }
}

fn settings() -> anyhow::Result<Settings> {
    // `cargo bench` passes `--bench`; everything but `--quick` is ignored.
    let quick = std::env::args().any(|a| a == "--quick")
        || env_var("GUILDHALL_BENCH_QUICK").is_some_and(|v| v != "0");
    let (secs, warmup, org_size) = if quick {
        (1.0, 0.25, 200)
    } else {
        (10.0, 2.0, 1000)
    };
    let stores = match env_var("GUILDHALL_BENCH_STORES") {
        None => vec![StoreKind::Sqlite, StoreKind::Postgres],
        Some(list) => list
            .split(',')
            .map(|s| match s.trim() {
                "sqlite" => Ok(StoreKind::Sqlite),
                "postgres" => Ok(StoreKind::Postgres),
                other => {
                    bail!("GUILDHALL_BENCH_STORES: unknown store {other:?} (sqlite, postgres)")
                }
            })
            .collect::<anyhow::Result<_>>()?,
    };
    let all = [
        "sign-in",
        "my-orgs",
        "members",
        "change-roles",
        "api-members-50",
        "console-members",
        "api-orgs-100",
        "console-orgs",
    ];
    let scenarios: Vec<String> = match env_var("GUILDHALL_BENCH_SCENARIOS") {
        None => all.iter().map(|s| (*s).to_owned()).collect(),
        Some(list) => list.split(',').map(|s| s.trim().to_owned()).collect(),
    };
    if let Some(bad) = scenarios.iter().find(|s| !all.contains(&s.as_str())) {
        bail!(
            "GUILDHALL_BENCH_SCENARIOS: unknown scenario {bad:?} ({})",
            all.join(", ")
        );
    }
    let s = Settings {
        measure: env_secs("GUILDHALL_BENCH_SECS", secs)?,
        warmup: env_secs("GUILDHALL_BENCH_WARMUP_SECS", warmup)?,
        connections: env_count("GUILDHALL_BENCH_CONNECTIONS", 16)?,
        org_size: env_count("GUILDHALL_BENCH_ORG_SIZE", org_size)?,
        stores,
        scenarios,
        keep: env_var("GUILDHALL_BENCH_KEEP").is_some_and(|v| v != "0"),
        whatif_index: env_var("GUILDHALL_BENCH_WHATIF_INDEX").is_some_and(|v| v != "0"),
        quick,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    ensure!(
        !s.measure.is_zero(),
        "GUILDHALL_BENCH_SECS must be more than 0"
    );
    ensure!(
        s.connections >= 1,
        "GUILDHALL_BENCH_CONNECTIONS must be at least 1"
    );
    ensure!(
        s.org_size >= 2,
        "GUILDHALL_BENCH_ORG_SIZE must be at least 2 (the owner and one member)"
    );
    Ok(s)
}

/// The 1, 5 and 15 minute load averages, where the system tells them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_owned())
}

/// This process's resident memory in MiB (server and load generator together), where the
/// system tells it.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|st| {
            st.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// One line of the result table.
struct Row {
    store: StoreKind,
    scenario: String,
    requests: u64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    /// Share of the machine's CPU time that processes other than this one and the bench
    /// database's PostgreSQL backends used while the scenario ran: what it competed with.
    others_cpu: Option<f64>,
}

/// CPU time counters, in clock ticks: the whole machine's, this process's and those of the
/// PostgreSQL backends serving the bench database.
#[derive(Clone, Copy)]
struct CpuTimes {
    total: u64,
    busy: u64,
    mine: u64,
    postgres: u64,
}

/// `utime + stime` from a `/proc/<pid>/stat` line.
fn proc_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Reads the CPU counters, where the system tells them (Linux). A backend is the bench's when its
/// process title names `pg_database`.
fn cpu_times(pg_database: Option<&str>) -> Option<CpuTimes> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    let total: u64 = ticks.iter().sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    let mine = proc_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?)?;
    let mut postgres = 0;
    if let Some(db) = pg_database {
        for entry in std::fs::read_dir("/proc").ok()?.flatten() {
            let path = entry.path();
            let ours = std::fs::read_to_string(path.join("comm"))
                .is_ok_and(|c| c.trim() == "postgres")
                && std::fs::read(path.join("cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(db));
            if ours {
                postgres += std::fs::read_to_string(path.join("stat"))
                    .ok()
                    .and_then(|st| proc_ticks(&st))
                    .unwrap_or(0);
            }
        }
    }
    Some(CpuTimes {
        total,
        busy: total - idle,
        mine,
        postgres,
    })
}

/// The share (%) of the machine's CPU used by everything but this process and the bench's
/// PostgreSQL backends between two readings.
fn others_share(before: Option<CpuTimes>, after: Option<CpuTimes>) -> Option<f64> {
    let (b, a) = (before?, after?);
    let total = a.total.checked_sub(b.total).filter(|t| *t > 0)?;
    let busy = a.busy.saturating_sub(b.busy);
    let ours = a.mine.saturating_sub(b.mine) + a.postgres.saturating_sub(b.postgres);
    Some(busy.saturating_sub(ours) as f64 * 100.0 / total as f64)
}

fn main() -> anyhow::Result<()> {
    let started = Instant::now();
    let s = settings()?;
    eprintln!(
        "guildhall api bench{}: {} connection(s), {:.2} s warm-up + {:.2} s measured per scenario, \
         {}-member organization, stores: {}",
        if s.quick { " (quick)" } else { "" },
        s.connections,
        s.warmup.as_secs_f64(),
        s.measure.as_secs_f64(),
        s.org_size,
        s.stores
            .iter()
            .map(|k| k.name())
            .collect::<Vec<_>>()
            .join(", "),
    );
    eprintln!(
        "note: the server and the load generator run in this one process and share the machine's \
         {} core(s); the figures are lower than a server with the machine to itself would give",
        s.cores
    );
    let load_before = load_average();
    eprintln!("load average before the run: {load_before}");
    let load = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(s.cores)
        .thread_name("bench-load")
        .enable_all()
        .build()
        .context("starting the load runtime")?;
    let mut rows = Vec::new();
    for &store in &s.stores {
        rows.extend(run_store(store, &s, &load)?);
    }
    drop(load);

    println!();
    println!(
        "Guildhall API, {} concurrent connections, {:.1} s per scenario after {:.1} s warm-up; \
         server and load generator share {} core(s).",
        s.connections,
        s.measure.as_secs_f64(),
        s.warmup.as_secs_f64(),
        s.cores
    );
    println!(
        "Load average (1/5/15 min) before the run: {load_before}; after: {}.",
        load_average()
    );
    println!();
    println!(
        "| store | scenario | requests | rps | p50 ms | p99 ms | errors | other processes' CPU |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {} | {:.1} | {:.2} | {:.2} | {} | {} |",
            r.store.name(),
            r.scenario,
            r.requests,
            r.rps,
            r.p50_ms,
            r.p99_ms,
            r.errors,
            r.others_cpu
                .map_or_else(|| "?".to_owned(), |c| format!("{c:.0} %"))
        );
    }
    println!();
    println!(
        "\"other processes' CPU\": share of the machine's CPU time used, during the scenario, by \
         processes other than this bench and the PostgreSQL backends serving its database \
         (anything else running competed with it)."
    );
    println!();
    // The console against the API for the same rows: a page's cost is the time it holds the
    // server, so the ratio of requests per second (API over console) is the cost ratio.
    let pairs = [
        ("console-members", "console members page", "API members"),
        ("console-orgs", "console Organizations page", "API my orgs"),
    ];
    let mut header = false;
    for store in &s.stores {
        for (_, console, api) in pairs {
            let find = |prefix: &str| {
                rows.iter()
                    .find(|r| r.store == *store && r.scenario.starts_with(prefix))
            };
            if let (Some(c), Some(a)) = (find(console), find(api)) {
                if !header {
                    println!(
                        "| store | page | cost vs the API (rps ratio) | p99 page ms | p99 API ms |"
                    );
                    println!("|---|---|---:|---:|---:|");
                    header = true;
                }
                println!(
                    "| {} | {} | {:.2}x | {:.2} | {:.2} |",
                    store.name(),
                    console,
                    a.rps / c.rps.max(f64::MIN_POSITIVE),
                    c.p99_ms,
                    a.p99_ms
                );
            }
        }
    }
    if header {
        println!();
    }
    eprintln!("bench finished in {:.1} s", started.elapsed().as_secs_f64());
    let errors: u64 = rows.iter().map(|r| r.errors).sum();
    ensure!(
        errors == 0,
        "{errors} request(s) got a non-2xx answer or failed; see the samples above"
    );
    Ok(())
}

/// Starts a server on a fresh `store`, loads it, runs every scenario, stops it.
fn run_store(store: StoreKind, s: &Settings, load: &Runtime) -> anyhow::Result<Vec<Row>> {
    let tag = store.name();
    let dir = tempfile::tempdir().context("creating a temp dir")?;
    let (database_url, pg_database) = match store {
        StoreKind::Sqlite => (
            format!("sqlite://{}", dir.path().join("guildhall.db").display()),
            None,
        ),
        StoreKind::Postgres => {
            let (url, name) = load.block_on(fresh_pg_database())?;
            (url, Some(name))
        }
    };
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(s.cores)
        .thread_name("bench-server")
        .enable_all()
        .build()
        .context("starting the server runtime")?;
    let result = server
        .block_on(start_server(&database_url, dir.path()))
        .and_then(|addr| {
            eprintln!("[{tag}] serving on {addr}; rss {:.0} MiB", rss_mib());
            load.block_on(async {
                let world = setup(tag, addr, s).await?;
                if s.whatif_index {
                    add_member_roles_index(store, &database_url).await?;
                    eprintln!("[{tag}] what-if: added an index on member_roles (org_id, user_id)");
                }
                scenarios(store, &world, pg_database.as_deref(), s).await
            })
        });
    server.shutdown_timeout(Duration::from_secs(5));
    if s.keep {
        eprintln!("[{tag}] kept the database: {database_url}");
        let _ = dir.keep();
    } else if let Some(name) = pg_database
        && let Err(e) = load.block_on(drop_pg_database(&name))
    {
        eprintln!("[{tag}] could not drop the bench database {name}: {e:#}");
    }
    result
}

/// Starts the real application on `127.0.0.1:0` on the current runtime.
async fn start_server(
    database_url: &str,
    data_dir: &std::path::Path,
) -> anyhow::Result<SocketAddr> {
    use clap::Parser as _;
    #[derive(clap::Parser)]
    struct Args {
        #[command(flatten)]
        serve: guildhall::config::ServeConfig,
    }
    let dir = data_dir.display().to_string();
    let config = Args::try_parse_from([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        &dir,
        "--database-url",
        database_url,
        // The bench signs a thousand people up from one address.
        "--signups-per-address",
        "1000000",
    ])
    .context("server configuration")?
    .serve;
    let state = guildhall::server::build(&config).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding 127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    tokio::spawn(guildhall::connections::serve(
        listener,
        guildhall::api::router(state),
        config.limits(),
        std::future::pending(),
    ));
    Ok(addr)
}

/// The what-if experiment: the index the schema lacks, added behind the server's back.
async fn add_member_roles_index(store: StoreKind, database_url: &str) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    const SQL: &str = "CREATE INDEX IF NOT EXISTS bench_member_roles_member_idx ON member_roles (org_id, user_id)";
    match store {
        StoreKind::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(database_url).await?;
            sqlx::query(SQL).execute(&mut c).await?;
            c.close().await?;
        }
        StoreKind::Postgres => {
            let mut c = sqlx::PgConnection::connect(database_url).await?;
            sqlx::query(SQL).execute(&mut c).await?;
            c.close().await?;
        }
    }
    Ok(())
}

fn pg_admin_url() -> String {
    env_var("GUILDHALL_TEST_DATABASE_URL")
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Creates an empty database next to the admin URL's; returns its URL and name.
async fn fresh_pg_database() -> anyhow::Result<(String, String)> {
    use sqlx::Connection as _;
    let admin = pg_admin_url();
    let mut conn = sqlx::PgConnection::connect(&admin).await.with_context(|| {
        "PostgreSQL is needed for the postgres half of the bench and could not be reached at the \
         URL in GUILDHALL_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres); \
         set GUILDHALL_BENCH_STORES=sqlite to skip it"
    })?;
    let name = format!("gh_bench_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .context("creating the bench database")?;
    conn.close().await.ok();
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Ok((format!("{base}/{name}"), name))
}

async fn drop_pg_database(name: &str) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&pg_admin_url()).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    conn.close().await.ok();
    Ok(())
}

/// What the scenarios work on.
struct World {
    base: String,
    owner_token: String,
    big_org: String,
    reader_token: String,
    /// A user owning `BUSY_ORGS` organizations.
    busy_token: String,
    /// The big organization's members but its owner: (user id, email).
    members: Vec<(String, String)>,
}

/// A request that must answer 2xx; its JSON body.
async fn call(rb: RequestBuilder, what: &str) -> anyhow::Result<Value> {
    let r = rb
        .send()
        .await
        .with_context(|| format!("{what}: sending"))?;
    let status = r.status();
    let text = r
        .text()
        .await
        .with_context(|| format!("{what}: reading the answer"))?;
    ensure!(status.is_success(), "{what}: {status}: {text}");
    serde_json::from_str(&text).with_context(|| format!("{what}: answer is not JSON: {text}"))
}

fn str_field(v: &Value, field: &str) -> anyhow::Result<String> {
    v[field]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no {field:?} in {v}"))
}

async fn sign_up(client: &Client, base: &str, email: &str, name: &str) -> anyhow::Result<String> {
    let body = json!({ "email": email, "password": PASSWORD, "name": name });
    let user = call(
        client.post(format!("{base}/api/v1/users")).json(&body),
        "sign-up",
    )
    .await?;
    str_field(&user, "id")
}

async fn sign_in(client: &Client, base: &str, email: &str) -> anyhow::Result<String> {
    let body = json!({ "email": email, "password": PASSWORD });
    let session = call(
        client.post(format!("{base}/api/v1/sessions")).json(&body),
        "sign-in",
    )
    .await?;
    str_field(&session, "token")
}

async fn create_org(
    client: &Client,
    base: &str,
    token: &str,
    name: &str,
) -> anyhow::Result<String> {
    let org = call(
        client
            .post(format!("{base}/api/v1/orgs"))
            .bearer_auth(token)
            .json(&json!({ "name": name })),
        "creating an organization",
    )
    .await?;
    str_field(&org, "id")
}

async fn add_member(
    client: &Client,
    base: &str,
    token: &str,
    org: &str,
    email: &str,
    roles: &[&str],
) -> anyhow::Result<()> {
    call(
        client
            .post(format!("{base}/api/v1/orgs/{org}/members"))
            .bearer_auth(token)
            .json(&json!({ "email": email, "roles": roles })),
        "adding a member",
    )
    .await
    .map(drop)
}

/// Runs `job(i)` for every `i < n`, `concurrency` at a time, reporting progress every 100.
async fn for_each_concurrently<F, Fut>(
    tag: &str,
    what: &str,
    n: usize,
    concurrency: usize,
    job: F,
) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<()>> + Send,
{
    let started = Instant::now();
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(n) {
        let (job, next, done) = (job.clone(), next.clone(), done.clone());
        let (tag, what) = (tag.to_owned(), what.to_owned());
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return anyhow::Ok(());
                }
                job(i).await?;
                let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                if d % 100 == 0 || d == n {
                    eprintln!(
                        "[{tag}] {what}: {d}/{n} ({:.1} s)",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.context("a loading task panicked")??;
    }
    Ok(())
}

/// Loads the store through the API: an owner with a large organization, its members, and a user
/// in a handful of organizations.
async fn setup(tag: &str, addr: SocketAddr, s: &Settings) -> anyhow::Result<World> {
    let started = Instant::now();
    let base = format!("http://{addr}");
    let client = Client::new();

    let owner_email = "owner@bench.example";
    sign_up(&client, &base, owner_email, "Bench Owner").await?;
    let owner_token = sign_in(&client, &base, owner_email).await?;
    let big_org = create_org(&client, &base, &owner_token, "Bench Large Org").await?;

    let reader_email = "reader@bench.example";
    sign_up(&client, &base, reader_email, "Bench Reader").await?;
    let reader_token = sign_in(&client, &base, reader_email).await?;
    let reader_roles: [&[&str]; READER_ORGS] = [
        &["developer"],
        &["member"],
        &["billing"],
        &["manager", "billing"],
        &["admin"],
    ];
    for (i, roles) in reader_roles.iter().enumerate() {
        let org = create_org(&client, &base, &owner_token, &format!("Bench Team {i}")).await?;
        add_member(&client, &base, &owner_token, &org, reader_email, roles).await?;
    }

    let busy_email = "busy@bench.example";
    sign_up(&client, &base, busy_email, "Bench Busy").await?;
    let busy_token = sign_in(&client, &base, busy_email).await?;
    {
        let (client, base, token) = (client.clone(), base.clone(), busy_token.clone());
        for_each_concurrently(
            tag,
            "creating the busy user's organizations",
            BUSY_ORGS,
            s.connections,
            move |i| {
                let (client, base, token) = (client.clone(), base.clone(), token.clone());
                async move {
                    create_org(&client, &base, &token, &format!("Bench Busy {i:03}"))
                        .await
                        .map(drop)
                }
            },
        )
        .await?;
    }

    let n = s.org_size - 1;
    let members: Arc<Vec<(Mutex<String>, String)>> = Arc::new(
        (0..n)
            .map(|i| (Mutex::new(String::new()), format!("m{i:05}@bench.example")))
            .collect(),
    );
    {
        let (client, base, members) = (client.clone(), base.clone(), members.clone());
        for_each_concurrently(tag, "signing up members", n, s.connections, move |i| {
            let (client, base, members) = (client.clone(), base.clone(), members.clone());
            async move {
                let (slot, email) = &members[i];
                let id = sign_up(&client, &base, email, &format!("Member {i:05}")).await?;
                *slot.lock().map_err(|_| anyhow::anyhow!("poisoned"))? = id;
                Ok(())
            }
        })
        .await?;
    }
    {
        let (client, base, members) = (client.clone(), base.clone(), members.clone());
        let (token, org) = (owner_token.clone(), big_org.clone());
        for_each_concurrently(tag, "adding members", n, s.connections, move |i| {
            let (client, base, members) = (client.clone(), base.clone(), members.clone());
            let (token, org) = (token.clone(), org.clone());
            async move {
                add_member(&client, &base, &token, &org, &members[i].1, &["member"]).await
            }
        })
        .await?;
    }
    let members = members
        .iter()
        .map(|(slot, email)| {
            let id = slot
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .clone();
            Ok((id, email.clone()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;

    // The large organization is as large as it should be.
    let mut listed = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut rb = client
            .get(format!("{base}/api/v1/orgs/{big_org}/members"))
            .bearer_auth(&owner_token)
            .query(&[("limit", PAGE.to_string())]);
        if let Some(c) = &cursor {
            rb = rb.query(&[("cursor", c)]);
        }
        let page = call(rb, "listing members").await?;
        listed += page["items"].as_array().map_or(0, Vec::len);
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    ensure!(
        listed == s.org_size,
        "the large organization lists {listed} members, not {}",
        s.org_size
    );
    let mine = call(
        client
            .get(format!("{base}/api/v1/orgs"))
            .bearer_auth(&reader_token),
        "listing my organizations",
    )
    .await?;
    let my_orgs = mine["items"].as_array().map_or(0, Vec::len);
    ensure!(
        my_orgs == READER_ORGS + 1,
        "the reader lists {my_orgs} organizations, not {}",
        READER_ORGS + 1
    );
    eprintln!(
        "[{tag}] loaded in {:.1} s: {} members in the large organization, the reader in {my_orgs} \
         organizations; rss {:.0} MiB",
        started.elapsed().as_secs_f64(),
        s.org_size,
        rss_mib()
    );
    Ok(World {
        base,
        owner_token,
        big_org,
        reader_token,
        busy_token,
        members,
    })
}

/// Builds the `i`-th request of a scenario.
type MakeRequest = Arc<dyn Fn(&Client, u64) -> RequestBuilder + Send + Sync>;

async fn scenarios(
    store: StoreKind,
    w: &World,
    pg_database: Option<&str>,
    s: &Settings,
) -> anyhow::Result<Vec<Row>> {
    let members = Arc::new(w.members.clone());
    let n = members.len() as u64;
    let nth = move |i: u64| usize::try_from(i % n).unwrap_or(0);
    let mut out = Vec::new();
    for scenario in &s.scenarios {
        let base = w.base.clone();
        let m = members.clone();
        let (label, make): (String, MakeRequest) = match scenario.as_str() {
            "sign-in" => (
                "sign in (POST /sessions)".into(),
                Arc::new(move |c, i| {
                    c.post(format!("{base}/api/v1/sessions"))
                        .json(&json!({ "email": m[nth(i)].1, "password": PASSWORD }))
                }),
            ),
            "my-orgs" => {
                let token = w.reader_token.clone();
                (
                    format!("list my orgs (GET /orgs, {} orgs)", READER_ORGS + 1),
                    Arc::new(move |c, _| c.get(format!("{base}/api/v1/orgs")).bearer_auth(&token)),
                )
            }
            "members" => {
                let (token, org) = (w.owner_token.clone(), w.big_org.clone());
                (
                    format!(
                        "list members (GET /orgs/{{org}}/members?limit={PAGE}, {} members)",
                        s.org_size
                    ),
                    Arc::new(move |c, _| {
                        c.get(format!("{base}/api/v1/orgs/{org}/members?limit={PAGE}"))
                            .bearer_auth(&token)
                    }),
                )
            }
            "change-roles" => {
                let (token, org) = (w.owner_token.clone(), w.big_org.clone());
                (
                    "change roles (PATCH /orgs/{org}/members/{user})".into(),
                    Arc::new(move |c, i| {
                        // One pass over the members turns `member` into `developer`, the next
                        // turns it back: every request writes.
                        let role = if (i / n).is_multiple_of(2) {
                            "developer"
                        } else {
                            "member"
                        };
                        c.patch(format!("{base}/api/v1/orgs/{org}/members/{}", m[nth(i)].0))
                            .bearer_auth(&token)
                            .json(&json!({ "roles": [role] }))
                    }),
                )
            }
            "api-members-50" => {
                let (token, org) = (w.owner_token.clone(), w.big_org.clone());
                (
                    format!(
                        "API members (GET /api/v1/orgs/{{org}}/members?limit={CONSOLE_MEMBERS})"
                    ),
                    Arc::new(move |c, _| {
                        c.get(format!(
                            "{base}/api/v1/orgs/{org}/members?limit={CONSOLE_MEMBERS}"
                        ))
                        .bearer_auth(&token)
                    }),
                )
            }
            "console-members" => {
                let (token, org) = (w.owner_token.clone(), w.big_org.clone());
                (
                    format!(
                        "console members page (GET /orgs/{{org}}/members, {CONSOLE_MEMBERS} rows)"
                    ),
                    Arc::new(move |c, _| {
                        c.get(format!("{base}/orgs/{org}/members"))
                            .header("cookie", format!("gh_session={token}"))
                    }),
                )
            }
            "api-orgs-100" => {
                let token = w.busy_token.clone();
                (
                    format!(
                        "API my orgs (GET /api/v1/orgs?limit={CONSOLE_ORGS}, {} orgs)",
                        BUSY_ORGS + 1
                    ),
                    Arc::new(move |c, _| {
                        c.get(format!("{base}/api/v1/orgs?limit={CONSOLE_ORGS}"))
                            .bearer_auth(&token)
                    }),
                )
            }
            "console-orgs" => {
                let token = w.busy_token.clone();
                (
                    format!("console Organizations page (GET /orgs, {CONSOLE_ORGS} rows)"),
                    Arc::new(move |c, _| {
                        c.get(format!("{base}/orgs"))
                            .header("cookie", format!("gh_session={token}"))
                    }),
                )
            }
            other => bail!("unknown scenario {other:?}"),
        };
        out.push(drive(store, label, make, pg_database, s).await);
    }
    Ok(out)
}

/// What one connection measured.
struct WorkerResult {
    hist: Histogram<u64>,
    errors: u64,
}

/// Runs one scenario: `s.connections` connections, each sending its next request as soon as the
/// previous one is answered, for the warm-up and then the measured time. Requests answered within
/// the measured window count; errors count whenever they happen.
async fn drive(
    store: StoreKind,
    scenario: String,
    make: MakeRequest,
    pg_database: Option<&str>,
    s: &Settings,
) -> Row {
    let cpu_before = cpu_times(pg_database);
    let seq = Arc::new(AtomicU64::new(0));
    let samples = Arc::new(Mutex::new(Vec::<String>::new()));
    let start = Instant::now();
    let measure_from = start + s.warmup;
    let end = measure_from + s.measure;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..s.connections {
        let (make, seq, samples) = (make.clone(), seq.clone(), samples.clone());
        tasks.spawn(async move {
            // One client per connection, with at most one kept-alive connection: exactly
            // `connections` sockets are open against the server.
            let client = Client::builder()
                .pool_max_idle_per_host(1)
                .tcp_nodelay(true)
                .build()
                .expect("an HTTP client");
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
                .expect("valid histogram bounds");
            let mut errors = 0;
            while Instant::now() < end {
                let i = seq.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                let outcome = match make(&client, i).send().await {
                    Ok(r) => {
                        let status = r.status();
                        match r.bytes().await {
                            Ok(_) if status.is_success() => Ok(()),
                            Ok(body) => {
                                Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
                            }
                            Err(e) => Err(format!("{status}, reading the body: {e}")),
                        }
                    }
                    Err(e) => Err(format!("sending: {e}")),
                };
                let answered = Instant::now();
                match outcome {
                    Ok(()) if answered >= measure_from && answered < end => {
                        let us = u64::try_from((answered - sent).as_micros()).unwrap_or(u64::MAX);
                        hist.saturating_record(us.max(1));
                    }
                    Ok(()) => {}
                    Err(e) => {
                        errors += 1;
                        if let Ok(mut v) = samples.lock()
                            && v.len() < 5
                        {
                            v.push(e);
                        }
                    }
                }
            }
            WorkerResult { hist, errors }
        });
    }
    let mut hist =
        Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds");
    let mut errors = 0;
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(w) => {
                hist.add(&w.hist).expect("histograms of the same bounds");
                errors += w.errors;
            }
            Err(e) => {
                errors += 1;
                eprintln!("a load task failed: {e}");
            }
        }
    }
    if let Ok(v) = samples.lock() {
        for e in v.iter() {
            eprintln!("[{}] {scenario}: error: {e}", store.name());
        }
    }
    let requests = hist.len();
    let ms = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    let row = Row {
        store,
        scenario,
        requests,
        rps: requests as f64 / s.measure.as_secs_f64(),
        p50_ms: ms(0.50),
        p99_ms: ms(0.99),
        errors,
        others_cpu: others_share(cpu_before, cpu_times(pg_database)),
    };
    eprintln!(
        "[{}] {}: {} requests, {:.1} rps, p50 {:.2} ms, p99 {:.2} ms, {} errors; rss {:.0} MiB; \
         other processes' CPU {:.0} %",
        store.name(),
        row.scenario,
        row.requests,
        row.rps,
        row.p50_ms,
        row.p99_ms,
        row.errors,
        rss_mib(),
        row.others_cpu.unwrap_or(f64::NAN)
    );
    row
}
