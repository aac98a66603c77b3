//! Reliability benchmark: the real `guildhall` binary over loopback, under the failures it must
//! survive, with figures. `cargo bench --bench reliability` (release build). Not a test: it takes
//! minutes and needs root (for the private PostgreSQL) and the machine's PostgreSQL.
//!
//! Scenarios (`GUILDHALL_BENCH_SCENARIOS`, default all, in this order):
//! - `kill`: kill -9 cycles on SQLite. One data directory; each cycle starts `serve`, creates an
//!   organization, lets concurrent clients create projects in it (recording every write answered
//!   2xx), kills `serve` with SIGKILL at a random moment, then opens the file as the kill left
//!   it: `PRAGMA integrity_check`, every acknowledged project present, and the `project.created`
//!   audit events equal to the projects there, between the acknowledged writes and those plus
//!   the ones in flight. `serve` is restarted on the same directory and the acknowledged writes
//!   are read back through the API. At the end every cycle's writes are counted once more.
//! - `stale`: three `serve` processes on one fresh PostgreSQL database. A member is moved
//!   between `developer` and `member` (gaining and losing `members.read`) on one process; the
//!   `Guildhall-Revision` of the answer is passed as `at_least_revision` to `POST /check` on
//!   another: a stale answer is an error. Then the same without `at_least_revision`: how often
//!   the other process still answers the old state, and how long until it answers the new one
//!   (the freshness window, polled back to back).
//! - `owner`: the same three processes; clients (a user each, in several organizations of
//!   admins) race ownership offers, acceptances, declines, cancellations and role changes
//!   (sometimes asking for `owner`, which must be refused) for a fixed time. The database is
//!   sampled throughout: every organization has exactly one owner. At the end the audit events
//!   of those organizations equal the 2xx answers (a role change that changed nothing answers
//!   2xx without a revision and writes no event: counted apart).
//! - `outage`: a PostgreSQL cluster of the bench's own (`initdb` and `pg_ctl` as the `postgres`
//!   user, on a free port under a temp dir), `serve` on it, clients writing and reading, then
//!   `pg_ctl stop -m immediate` and, after a while, start again: every answer to a request made
//!   during the outage (from the stop until `pg_ctl start -w` returns, crash recovery included)
//!   must be 503 `store_unavailable` within 2.5 s, none 500; readiness latency during the
//!   outage; time from PostgreSQL back to the first write that works; acknowledged writes lost.
//! - `synchronous`: the write cost of `--sqlite-synchronous full` against `normal`: for each, a
//!   fresh data directory, sequential `POST /orgs/{org}/projects` and then concurrent clients for
//!   a fixed time; p50 / p99 and writes per second, and the ratio.
//!
//! Settings (environment, or `--quick`):
//! - `GUILDHALL_BENCH_SCENARIOS` (default `kill,stale,owner,outage,synchronous`);
//! - `GUILDHALL_BENCH_CYCLES` (default 20): kill -9 cycles;
//! - `GUILDHALL_BENCH_KILL_CLIENTS` (default 8): concurrent writers in each cycle;
//! - `GUILDHALL_BENCH_KILL_WINDOW_SECS` (default 2): the kill comes at a uniformly random moment
//!   between a tenth of this and this, after the writers start;
//! - `GUILDHALL_BENCH_PAIRS` (default 2000): write-then-check pairs, with and without
//!   `at_least_revision` each;
//! - `GUILDHALL_BENCH_RACE_SECS` (default 20), `GUILDHALL_BENCH_RACE_CLIENTS` (default 64),
//!   `GUILDHALL_BENCH_RACE_ORGS` (default 8): the ownership race;
//! - `GUILDHALL_BENCH_OUTAGE_SECS` (default 6): how long PostgreSQL stays down (a request waits
//!   up to 2 s for a connection, so under 5 s few requests fall wholly inside it);
//!   `GUILDHALL_BENCH_OUTAGE_CLIENTS` (default 8);
//! - `GUILDHALL_BENCH_SYNC_WRITES` (default 500): sequential writes per setting;
//!   `GUILDHALL_BENCH_SYNC_SECS` (default 10) and `GUILDHALL_BENCH_SYNC_CLIENTS` (default 16):
//!   the concurrent phase;
//! - `GUILDHALL_BENCH_DIR`: where the SQLite data directories go (default the system's temp
//!   dir); put it on the disk you want to measure, not on a tmpfs;
//! - `GUILDHALL_BENCH_KEEP=1`: keep the data directories and `serve` logs (their path is printed);
//! - `GUILDHALL_BENCH_QUICK=1` or `-- --quick`: a sanity run (3 cycles, 200 pairs, 3 s race,
//!   100 writes and 2 s per setting), unless the variables above say otherwise;
//! - `GUILDHALL_TEST_DATABASE_URL`: the PostgreSQL admin URL (default
//!   `postgres://postgres@127.0.0.1:5432/postgres`); a fresh database is created there for
//!   `stale` and `owner` and dropped afterwards.
//!
//! The run prints each scenario's progress, then one summary table, and fails (exit 1) if a
//! figure that must be zero is not.

use anyhow::{Context as _, bail, ensure};
use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use reqwest::{Client, RequestBuilder};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Every account's password.
const PASSWORD: &str = "correct horse battery staple";
/// What the bench presents to the check API.
const SERVICE_TOKEN: &str = "reliability-bench-service-token-7f3a9c1e5b";
/// The longest an answer during a PostgreSQL outage may take.
const OUTAGE_ANSWER_LIMIT: Duration = Duration::from_millis(2500);

struct Settings {
    scenarios: Vec<String>,
    cycles: usize,
    kill_clients: usize,
    kill_window: Duration,
    pairs: usize,
    race: Duration,
    race_clients: usize,
    race_orgs: usize,
    outage: Duration,
    outage_clients: usize,
    sync_writes: usize,
    sync_secs: Duration,
    sync_clients: usize,
    dir: Option<PathBuf>,
    keep: bool,
    pg_admin: String,
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
        secs.is_finite() && secs > 0.0,
        "{name} must be a positive number of seconds"
    );
    Ok(Duration::from_secs_f64(secs))
}

fn env_count(name: &str, default: usize) -> anyhow::Result<usize> {
    let n = match env_var(name) {
        Some(v) => v
            .trim()
            .parse::<usize>()
            .with_context(|| format!("{name}={v} is not a count"))?,
        None => default,
    };
    ensure!(n > 0, "{name} must be at least 1");
    Ok(n)
}

fn settings() -> anyhow::Result<Settings> {
    let quick = std::env::args().any(|a| a == "--quick")
        || env_var("GUILDHALL_BENCH_QUICK").is_some_and(|v| v != "0");
    let q = |full: f64, quick_value: f64| if quick { quick_value } else { full };
    let all = ["kill", "stale", "owner", "outage", "synchronous"];
    let scenarios: Vec<String> = match env_var("GUILDHALL_BENCH_SCENARIOS") {
        Some(v) => v
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        None => all.iter().map(|s| (*s).to_owned()).collect(),
    };
    for s in &scenarios {
        ensure!(
            all.contains(&s.as_str()),
            "unknown scenario `{s}` in GUILDHALL_BENCH_SCENARIOS; choose among {}",
            all.join(", ")
        );
    }
    Ok(Settings {
        scenarios,
        cycles: env_count("GUILDHALL_BENCH_CYCLES", q(20.0, 3.0) as usize)?,
        kill_clients: env_count("GUILDHALL_BENCH_KILL_CLIENTS", 8)?,
        kill_window: env_secs("GUILDHALL_BENCH_KILL_WINDOW_SECS", 2.0)?,
        pairs: env_count("GUILDHALL_BENCH_PAIRS", q(2000.0, 200.0) as usize)?,
        race: env_secs("GUILDHALL_BENCH_RACE_SECS", q(20.0, 3.0))?,
        race_clients: env_count("GUILDHALL_BENCH_RACE_CLIENTS", 64)?,
        race_orgs: env_count("GUILDHALL_BENCH_RACE_ORGS", 8)?,
        outage: env_secs("GUILDHALL_BENCH_OUTAGE_SECS", 6.0)?,
        outage_clients: env_count("GUILDHALL_BENCH_OUTAGE_CLIENTS", 8)?,
        sync_writes: env_count("GUILDHALL_BENCH_SYNC_WRITES", q(500.0, 100.0) as usize)?,
        sync_secs: env_secs("GUILDHALL_BENCH_SYNC_SECS", q(10.0, 2.0))?,
        sync_clients: env_count("GUILDHALL_BENCH_SYNC_CLIENTS", 16)?,
        dir: env_var("GUILDHALL_BENCH_DIR").map(PathBuf::from),
        keep: env_var("GUILDHALL_BENCH_KEEP").is_some_and(|v| v != "0"),
        pg_admin: env_var("GUILDHALL_TEST_DATABASE_URL")
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
    })
}

/// The summary: one row per figure, and what must hold.
#[derive(Default)]
struct Report {
    rows: Vec<(String, String, String)>,
    failures: Vec<String>,
}

impl Report {
    fn row(&mut self, scenario: &str, measure: &str, value: impl std::fmt::Display) {
        self.rows
            .push((scenario.to_owned(), measure.to_owned(), value.to_string()));
    }

    /// Records `what` as a failure unless `ok`.
    fn must(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            let what = what.into();
            println!("  FAILED: {what}");
            self.failures.push(what);
        }
    }

    fn print(&self) {
        let w0 = self
            .rows
            .iter()
            .map(|r| r.0.len())
            .max()
            .unwrap_or(8)
            .max(8);
        let w1 = self
            .rows
            .iter()
            .map(|r| r.1.len())
            .max()
            .unwrap_or(7)
            .max(7);
        println!("\n{:<w0$}  {:<w1$}  value", "scenario", "measure");
        println!("{}", "-".repeat(w0 + w1 + 30));
        let mut last = "";
        for (s, m, v) in &self.rows {
            let shown = if s == last { "" } else { s.as_str() };
            println!("{shown:<w0$}  {m:<w1$}  {v}");
            last = s;
        }
    }
}

/// Latencies in microseconds.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid histogram bounds")
}

fn record(h: &mut Histogram<u64>, d: Duration) {
    h.saturating_record((d.as_micros() as u64).max(1));
}

fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

fn http_client(timeout: Duration) -> anyhow::Result<Client> {
    Ok(Client::builder()
        .timeout(timeout)
        .pool_max_idle_per_host(256)
        .build()?)
}

/// One `guildhall serve` process; killed (SIGKILL) when dropped.
struct Serve {
    child: Child,
    base: String,
}

impl Serve {
    /// Starts `serve` with `envs` (every other `GUILDHALL_*` variable removed), logging to
    /// `log`.
    fn spawn(log: &Path, envs: &[(&str, String)]) -> anyhow::Result<Serve> {
        let port = free_port()?;
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        let err = out.try_clone()?;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_guildhall"));
        cmd.arg("serve");
        for (k, _) in std::env::vars() {
            if k.starts_with("GUILDHALL_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("GUILDHALL_LISTEN", format!("127.0.0.1:{port}"))
            .env("GUILDHALL_SERVICE_TOKEN", SERVICE_TOKEN)
            .env("GUILDHALL_SIGNUPS_PER_ADDRESS", "1000000")
            .env("GUILDHALL_LOG", "warn")
            .env("NO_COLOR", "1");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .context("starting guildhall serve")?;
        Ok(Serve {
            child,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    /// Waits until `/readyz` answers 200; answers how long it took.
    async fn ready(&mut self, client: &Client, within: Duration) -> anyhow::Result<Duration> {
        let started = Instant::now();
        while started.elapsed() < within {
            if let Some(status) = self.child.try_wait()? {
                bail!("serve exited before it was ready: {status}");
            }
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await
                && r.status() == 200
            {
                return Ok(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bail!("serve at {} was not ready within {within:?}", self.base)
    }

    /// SIGKILL, and reap it.
    fn kill9(&mut self) -> anyhow::Result<()> {
        self.child.kill().context("kill -9")?;
        self.child.wait()?;
        Ok(())
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An answer: status, the revision header, the JSON body (`Null` when there is none).
struct Answer {
    status: u16,
    revision: Option<u64>,
    body: Value,
}

impl Answer {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }
}

async fn send(rb: RequestBuilder) -> reqwest::Result<Answer> {
    let r = rb.send().await?;
    let status = r.status().as_u16();
    let revision = r
        .headers()
        .get("guildhall-revision")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let bytes = r.bytes().await?;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(Answer {
        status,
        revision,
        body,
    })
}

/// `send`, expecting `status`; the body.
async fn expect(rb: RequestBuilder, status: u16, what: &str) -> anyhow::Result<Value> {
    let a = send(rb).await.with_context(|| what.to_owned())?;
    ensure!(
        a.status == status,
        "{what}: answered {} {}",
        a.status,
        a.body
    );
    Ok(a.body)
}

/// Signs up `email`; its user id.
async fn sign_up(c: &Client, base: &str, email: &str) -> anyhow::Result<String> {
    let name = email.split('@').next().unwrap_or("someone");
    let body = expect(
        c.post(format!("{base}/api/v1/users"))
            .json(&json!({ "email": email, "password": PASSWORD, "name": name })),
        201,
        "sign-up",
    )
    .await?;
    Ok(body["id"].as_str().context("user id")?.to_owned())
}

/// Signs `email` in; the session token.
async fn sign_in(c: &Client, base: &str, email: &str) -> anyhow::Result<String> {
    let body = expect(
        c.post(format!("{base}/api/v1/sessions"))
            .json(&json!({ "email": email, "password": PASSWORD })),
        201,
        "sign-in",
    )
    .await?;
    Ok(body["token"].as_str().context("token")?.to_owned())
}

async fn create_org(c: &Client, base: &str, token: &str, name: &str) -> anyhow::Result<String> {
    let body = expect(
        c.post(format!("{base}/api/v1/orgs"))
            .bearer_auth(token)
            .json(&json!({ "name": name })),
        201,
        "creating an organization",
    )
    .await?;
    Ok(body["id"].as_str().context("org id")?.to_owned())
}

async fn add_member(
    c: &Client,
    base: &str,
    token: &str,
    org: &str,
    email: &str,
    roles: &[&str],
) -> anyhow::Result<()> {
    expect(
        c.post(format!("{base}/api/v1/orgs/{org}/members"))
            .bearer_auth(token)
            .json(&json!({ "email": email, "roles": roles })),
        201,
        "adding a member",
    )
    .await?;
    Ok(())
}

/// Every project name of `org` the API lists, page after page.
async fn list_projects(
    c: &Client,
    base: &str,
    token: &str,
    org: &str,
) -> anyhow::Result<HashSet<String>> {
    let mut names = HashSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut rb = c
            .get(format!("{base}/api/v1/orgs/{org}/projects"))
            .bearer_auth(token)
            .query(&[("limit", "100")]);
        if let Some(cur) = &cursor {
            rb = rb.query(&[("cursor", cur.as_str())]);
        }
        let page = expect(rb, 200, "listing projects").await?;
        for p in page["items"].as_array().context("items")? {
            names.insert(p["name"].as_str().context("name")?.to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(names),
        }
    }
}

/// The bench's working directory: a temp dir under `GUILDHALL_BENCH_DIR` or the system's.
fn work_dir(s: &Settings, prefix: &str) -> anyhow::Result<tempfile::TempDir> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    Ok(match &s.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            b.tempdir_in(d)?
        }
        None => b.tempdir()?,
    })
}

/// Keeps `dir` when asked to, saying where it is.
fn finish_dir(s: &Settings, dir: tempfile::TempDir) {
    if s.keep {
        let path = dir.keep();
        println!("  kept {}", path.display());
    }
}

fn sqlite_env(data: &Path, mail: &Path, synchronous: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("GUILDHALL_DATA_DIR", data.display().to_string()),
        ("GUILDHALL_MAIL_DIR", mail.display().to_string()),
    ];
    if let Some(s) = synchronous {
        env.push(("GUILDHALL_SQLITE_SYNCHRONOUS", s.to_owned()));
    }
    env
}

// ---------------------------------------------------------------------------------------------
// kill -9 on SQLite

/// What the SQLite file holds for one organization, read with the server dead.
struct SqliteFacts {
    integrity: String,
    projects: HashSet<String>,
    audit_created: usize,
}

async fn sqlite_facts(db: &Path, org_names: &[String]) -> anyhow::Result<SqliteFacts> {
    use sqlx::Connection as _;
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .create_if_missing(false);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts)
        .await
        .with_context(|| format!("opening {}", db.display()))?;
    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await?;
    let mut projects = HashSet::new();
    let mut audit_created = 0;
    for org in org_names {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT p.name FROM projects p JOIN orgs o ON o.id = p.org_id WHERE o.name = ?",
        )
        .bind(org)
        .fetch_all(&mut conn)
        .await?;
        projects.extend(names.into_iter().map(|n| format!("{org}/{n}")));
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM audit_events a JOIN orgs o ON o.id = a.org_id \
             WHERE o.name = ? AND a.action = 'project.created'",
        )
        .bind(org)
        .fetch_one(&mut conn)
        .await?;
        audit_created += n as usize;
    }
    conn.close().await?;
    Ok(SqliteFacts {
        integrity: integrity.join("; "),
        projects,
        audit_created,
    })
}

async fn kill_cycles(s: &Settings, report: &mut Report) -> anyhow::Result<()> {
    const S: &str = "kill -9 (SQLite)";
    println!(
        "\n== kill -9 cycles on SQLite: {} cycles, {} concurrent writers, kill at a random moment \
         within {:?}",
        s.cycles, s.kill_clients, s.kill_window
    );
    let dir = work_dir(s, "gh-rel-kill-")?;
    let data = dir.path().join("data");
    let db = data.join("guildhall.db");
    let env = sqlite_env(&data, &dir.path().join("mail"), None);
    let log = dir.path().join("serve.log");
    let client = http_client(Duration::from_secs(10))?;
    let mut serve = Serve::spawn(&log, &env)?;
    serve.ready(&client, Duration::from_secs(30)).await?;
    sign_up(&client, &serve.base, "killer@example.com").await?;
    let token = sign_in(&client, &serve.base, "killer@example.com").await?;

    let mut rng = StdRng::from_entropy();
    let mut total_acked = 0usize;
    let mut total_inflight = 0usize;
    let mut total_lost = 0usize;
    let mut audit_bad = 0usize;
    let mut integrity_bad = 0usize;
    let mut refused: BTreeMap<u16, u64> = BTreeMap::new();
    let mut restarts = histogram();
    let mut all_acked: Vec<String> = Vec::new();
    let mut org_names = Vec::new();
    for cycle in 0..s.cycles {
        let org_name = format!("Kill cycle {cycle}");
        let org = create_org(&client, &serve.base, &token, &org_name).await?;
        org_names.push(org_name.clone());
        let acked = Arc::new(Mutex::new(Vec::<String>::new()));
        let inflight = Arc::new(AtomicU64::new(0));
        let statuses = Arc::new(Mutex::new(BTreeMap::<u16, u64>::new()));
        let mut tasks = Vec::new();
        for w in 0..s.kill_clients {
            let (client, token, acked, inflight, statuses) = (
                client.clone(),
                token.clone(),
                acked.clone(),
                inflight.clone(),
                statuses.clone(),
            );
            let url = format!("{}/api/v1/orgs/{org}/projects", serve.base);
            tasks.push(tokio::spawn(async move {
                for n in 0.. {
                    let name = format!("w{w}-{n}");
                    inflight.fetch_add(1, Ordering::SeqCst);
                    let rb = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({ "name": name }));
                    match send(rb).await {
                        Ok(a) => {
                            inflight.fetch_sub(1, Ordering::SeqCst);
                            if a.ok() {
                                if let Ok(mut v) = acked.lock() {
                                    v.push(name);
                                }
                            } else if let Ok(mut m) = statuses.lock() {
                                *m.entry(a.status).or_default() += 1;
                            }
                        }
                        // The server died under it: it stays counted in flight.
                        Err(_) => break,
                    }
                }
            }));
        }
        let lo = s.kill_window.as_secs_f64() / 10.0;
        let delay = Duration::from_secs_f64(rng.gen_range(lo..=s.kill_window.as_secs_f64()));
        tokio::time::sleep(delay).await;
        serve.kill9()?;
        for t in tasks {
            t.await?;
        }
        let acked: Vec<String> = acked
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .iter()
            .map(|n| format!("{org_name}/{n}"))
            .collect();
        let inflight = inflight.load(Ordering::SeqCst) as usize;
        for (k, v) in statuses
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .iter()
        {
            *refused.entry(*k).or_default() += v;
        }

        // The file as the kill left it.
        let facts = sqlite_facts(&db, std::slice::from_ref(&org_name)).await?;
        let lost_file = acked
            .iter()
            .filter(|n| !facts.projects.contains(*n))
            .count();
        let audit_ok = facts.audit_created == facts.projects.len()
            && facts.audit_created >= acked.len()
            && facts.audit_created <= acked.len() + inflight;
        // Restart on the same directory; read them back through the API.
        serve = Serve::spawn(&log, &env)?;
        let took = serve.ready(&client, Duration::from_secs(30)).await?;
        record(&mut restarts, took);
        let listed = list_projects(&client, &serve.base, &token, &org).await?;
        let lost_api = acked
            .iter()
            .filter(|n| {
                let bare = n.rsplit('/').next().unwrap_or(n);
                !listed.contains(bare)
            })
            .count();
        let lost = lost_file.max(lost_api);
        println!(
            "  cycle {:>2}: killed after {:>4} ms; {:>4} acknowledged, {:>2} in flight; \
             {:>4} in the file, audit {:>4} {}; integrity {}; restart {:>4} ms; lost {lost}",
            cycle + 1,
            delay.as_millis(),
            acked.len(),
            inflight,
            facts.projects.len(),
            facts.audit_created,
            if audit_ok { "ok" } else { "MISMATCH" },
            facts.integrity,
            took.as_millis(),
        );
        total_acked += acked.len();
        total_inflight += inflight;
        total_lost += lost;
        audit_bad += usize::from(!audit_ok);
        integrity_bad += usize::from(facts.integrity != "ok");
        all_acked.extend(acked);
    }
    drop(serve);
    // Every cycle's writes, once more, in the file of the last restart.
    let facts = sqlite_facts(&db, &org_names).await?;
    let lost_overall = all_acked
        .iter()
        .filter(|n| !facts.projects.contains(*n))
        .count();
    println!(
        "  after all cycles: {} acknowledged, {} in the file, {} lost; integrity {}",
        all_acked.len(),
        facts.projects.len(),
        lost_overall,
        facts.integrity
    );
    report.row(S, "cycles", s.cycles);
    report.row(S, "concurrent writers", s.kill_clients);
    report.row(S, "writes acknowledged (2xx)", total_acked);
    report.row(S, "in flight at the kill", total_inflight);
    report.row(
        S,
        "other answers",
        if refused.is_empty() {
            "none".to_owned()
        } else {
            format!("{refused:?}")
        },
    );
    report.row(S, "acknowledged writes lost", total_lost + lost_overall);
    report.row(
        S,
        "integrity_check",
        if integrity_bad == 0 && facts.integrity == "ok" {
            format!("ok ({} of {})", s.cycles + 1, s.cycles + 1)
        } else {
            format!("{integrity_bad} cycles not ok")
        },
    );
    report.row(
        S,
        "audit = acknowledged + ≤ in flight",
        format!("{} of {} cycles", s.cycles - audit_bad, s.cycles),
    );
    report.row(
        S,
        "restart to ready p50 / max",
        format!(
            "{} / {}",
            ms(restarts.value_at_quantile(0.5)),
            ms(restarts.max())
        ),
    );
    report.must(
        total_lost + lost_overall == 0,
        "kill -9: acknowledged writes lost",
    );
    report.must(
        integrity_bad == 0 && facts.integrity == "ok",
        "kill -9: integrity_check",
    );
    report.must(audit_bad == 0, "kill -9: audit events");
    finish_dir(s, dir);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Three processes on PostgreSQL

/// A fresh database on the machine's PostgreSQL, dropped by `drop_database`.
async fn create_database(admin: &str) -> anyhow::Result<(String, String)> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(admin).await.with_context(|| {
        format!(
            "connecting to {admin} (start it: pg_ctlcluster --skip-systemctl-redirect 15 main \
             start; or set GUILDHALL_TEST_DATABASE_URL)"
        )
    })?;
    let name = format!("gh_rel_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    conn.close().await.ok();
    let (head, _) = admin
        .rsplit_once('/')
        .context("the admin URL names a database")?;
    Ok((name.clone(), format!("{head}/{name}")))
}

async fn drop_database(admin: &str, name: &str) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(admin).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    conn.close().await.ok();
    Ok(())
}

async fn three_processes(s: &Settings, report: &mut Report) -> anyhow::Result<()> {
    let (name, url) = create_database(&s.pg_admin).await?;
    let result = three_processes_on(s, report, &url).await;
    if let Err(e) = drop_database(&s.pg_admin, &name).await {
        println!("  (could not drop the database {name}: {e})");
    }
    result
}

async fn three_processes_on(s: &Settings, report: &mut Report, url: &str) -> anyhow::Result<()> {
    let dir = work_dir(s, "gh-rel-pg3-")?;
    let client = http_client(Duration::from_secs(20))?;
    let mut procs = Vec::new();
    for p in ["a", "b", "c"] {
        let env = vec![
            ("GUILDHALL_DATABASE_URL", url.to_owned()),
            (
                "GUILDHALL_DATA_DIR",
                dir.path().join(p).display().to_string(),
            ),
            (
                "GUILDHALL_MAIL_DIR",
                dir.path().join("mail").display().to_string(),
            ),
        ];
        let mut serve = Serve::spawn(&dir.path().join(format!("serve-{p}.log")), &env)?;
        // One at a time: the first applies the migrations.
        serve.ready(&client, Duration::from_secs(60)).await?;
        procs.push(serve);
    }
    let bases: Vec<String> = procs.iter().map(|p| p.base.clone()).collect();
    if s.scenarios.iter().any(|x| x == "stale") {
        stale_reads(s, report, &client, &bases).await?;
    }
    if s.scenarios.iter().any(|x| x == "owner") {
        one_owner(s, report, &client, &bases, url).await?;
    }
    drop(procs);
    finish_dir(s, dir);
    Ok(())
}

async fn check(
    c: &Client,
    base: &str,
    user: &str,
    org: &str,
    at_least: Option<u64>,
) -> anyhow::Result<Answer> {
    let mut body = json!({ "user": user, "permission": "members.read", "org": org });
    if let Some(r) = at_least {
        body["at_least_revision"] = json!(r);
    }
    Ok(send(
        c.post(format!("{base}/api/v1/check"))
            .bearer_auth(SERVICE_TOKEN)
            .json(&body),
    )
    .await?)
}

async fn stale_reads(
    s: &Settings,
    report: &mut Report,
    c: &Client,
    bases: &[String],
) -> anyhow::Result<()> {
    const S: &str = "stale reads (3 × PostgreSQL)";
    println!(
        "\n== stale reads across three serve processes on PostgreSQL: {} write-then-check pairs \
         with at_least_revision, {} without",
        s.pairs, s.pairs
    );
    let owner = "stale-owner@example.com";
    let member = "stale-member@example.com";
    sign_up(c, &bases[0], owner).await?;
    let member_id = sign_up(c, &bases[0], member).await?;
    let token = sign_in(c, &bases[0], owner).await?;
    let org = create_org(c, &bases[0], &token, "Stale reads").await?;
    add_member(c, &bases[0], &token, &org, member, &["developer"]).await?;
    // Every process sees the member before it starts.
    for b in bases {
        let t = Instant::now();
        loop {
            let a = check(c, b, &member_id, &org, None).await?;
            if a.body["allowed"] == json!(true) {
                break;
            }
            ensure!(
                t.elapsed() < Duration::from_secs(10),
                "{b} never saw the member"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    // Pair i: on process i % 3, `member` (a revocation of members.read) for even i, `developer`
    // (a grant) for odd i; then the check on the next process.
    let change = |i: usize| {
        let (roles, allowed) = if i.is_multiple_of(2) {
            (["member"], false)
        } else {
            (["developer"], true)
        };
        let base = &bases[i % bases.len()];
        let rb = c
            .patch(format!("{base}/api/v1/orgs/{org}/members/{member_id}"))
            .bearer_auth(&token)
            .json(&json!({ "roles": roles }));
        (rb, allowed)
    };

    let mut stale = 0usize;
    let mut stale_revocations = 0usize;
    let mut errors: BTreeMap<String, u64> = BTreeMap::new();
    let mut below = 0usize;
    let mut check_lat = histogram();
    let mut write_lat = histogram();
    let started = Instant::now();
    for i in 0..s.pairs {
        let (rb, allowed) = change(i);
        let t = Instant::now();
        let w = send(rb).await?;
        record(&mut write_lat, t.elapsed());
        ensure!(
            w.status == 200,
            "role change answered {} {}",
            w.status,
            w.body
        );
        let rev = w
            .revision
            .context("a role change carries Guildhall-Revision")?;
        let reader = &bases[(i + 1) % bases.len()];
        let t = Instant::now();
        let a = check(c, reader, &member_id, &org, Some(rev)).await?;
        record(&mut check_lat, t.elapsed());
        if a.status != 200 {
            *errors
                .entry(format!("{} {}", a.status, a.code()))
                .or_default() += 1;
            continue;
        }
        if a.body["allowed"] != json!(allowed) {
            stale += 1;
            stale_revocations += usize::from(!allowed);
        }
        if a.body["revision"].as_u64().unwrap_or(0) < rev {
            below += 1;
        }
        if (i + 1) % 500 == 0 {
            println!("  with at_least_revision: {} pairs, {stale} stale", i + 1);
        }
    }
    let with_secs = started.elapsed().as_secs_f64();
    println!(
        "  with at_least_revision: {} pairs in {with_secs:.1} s; stale {stale} (revocations \
         {stale_revocations}); errors {errors:?}; answered below the revision {below}; check \
         p50 {} p99 {}",
        s.pairs,
        ms(check_lat.value_at_quantile(0.5)),
        ms(check_lat.value_at_quantile(0.99)),
    );

    // Without at_least_revision: is the first answer stale, and how long until it is fresh?
    let mut stale_first = 0usize;
    let mut stale_first_revocations = 0usize;
    let mut never = 0usize;
    let mut window = histogram();
    let mut stale_window = histogram();
    for i in 0..s.pairs {
        let (rb, allowed) = change(i);
        let w = send(rb).await?;
        ensure!(
            w.status == 200,
            "role change answered {} {}",
            w.status,
            w.body
        );
        let acked = Instant::now();
        let reader = &bases[(i + 1) % bases.len()];
        let mut first = true;
        loop {
            let a = check(c, reader, &member_id, &org, None).await?;
            ensure!(a.status == 200, "check answered {} {}", a.status, a.body);
            if a.body["allowed"] == json!(allowed) {
                record(&mut window, acked.elapsed());
                if !first {
                    record(&mut stale_window, acked.elapsed());
                }
                break;
            }
            if first {
                stale_first += 1;
                stale_first_revocations += usize::from(!allowed);
                first = false;
            }
            if acked.elapsed() > Duration::from_secs(5) {
                never += 1;
                record(&mut window, acked.elapsed());
                break;
            }
        }
        if (i + 1) % 500 == 0 {
            println!(
                "  without at_least_revision: {} pairs, {stale_first} stale first answers",
                i + 1
            );
        }
    }
    let frac = stale_first as f64 / s.pairs as f64;
    println!(
        "  without at_least_revision: {stale_first} of {} first answers stale ({:.1} %; \
         revocations {stale_first_revocations}); freshness window p50 {} p99 {} max {}; among \
         the stale ones p50 {} p99 {}; not fresh within 5 s: {never}",
        s.pairs,
        frac * 100.0,
        ms(window.value_at_quantile(0.5)),
        ms(window.value_at_quantile(0.99)),
        ms(window.max()),
        ms(stale_window.value_at_quantile(0.5)),
        ms(stale_window.value_at_quantile(0.99)),
    );
    report.row(S, "pairs (each way)", s.pairs);
    report.row(
        S,
        "role change on A p50 / p99",
        format!(
            "{} / {}",
            ms(write_lat.value_at_quantile(0.5)),
            ms(write_lat.value_at_quantile(0.99))
        ),
    );
    report.row(
        S,
        "with at_least_revision: stale",
        format!("{stale} (revocations {stale_revocations})"),
    );
    report.row(
        S,
        "with at_least_revision: errors",
        if errors.is_empty() {
            "none".to_owned()
        } else {
            format!("{errors:?}")
        },
    );
    report.row(
        S,
        "with at_least_revision: check p50 / p99",
        format!(
            "{} / {}",
            ms(check_lat.value_at_quantile(0.5)),
            ms(check_lat.value_at_quantile(0.99))
        ),
    );
    report.row(
        S,
        "without: stale first answers",
        format!("{stale_first} of {} ({:.1} %)", s.pairs, frac * 100.0),
    );
    report.row(
        S,
        "without: freshness window p50 / p99 / max",
        format!(
            "{} / {} / {}",
            ms(window.value_at_quantile(0.5)),
            ms(window.value_at_quantile(0.99)),
            ms(window.max())
        ),
    );
    report.must(stale == 0, "stale reads with at_least_revision");
    report.must(errors.is_empty(), "errors of checks with at_least_revision");
    report.must(below == 0, "answers below the asked revision");
    report.must(never == 0, "a process never caught up within 5 s");
    Ok(())
}

/// What one racing client saw: per action, per status, with or without a revision header.
type Tally = BTreeMap<(&'static str, u16, bool), u64>;

/// Role sets the race gives; `owner` must always be refused.
const ROLE_SETS: &[&[&str]] = &[
    &["admin"],
    &["admin", "developer"],
    &["manager"],
    &["developer"],
    &["owner"],
];

async fn owner_counts(pool: &sqlx::PgPool, orgs: &[uuid::Uuid]) -> anyhow::Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT count(mr.user_id) FILTER (WHERE mr.builtin = 'owner') \
         FROM orgs o LEFT JOIN member_roles mr ON mr.org_id = o.id \
         WHERE o.id = ANY($1) GROUP BY o.id",
    )
    .bind(orgs)
    .fetch_all(pool)
    .await?)
}

async fn audit_counts(
    pool: &sqlx::PgPool,
    orgs: &[uuid::Uuid],
) -> anyhow::Result<BTreeMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT action, count(*) FROM audit_events WHERE org_id = ANY($1) GROUP BY action",
    )
    .bind(orgs)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

async fn one_owner(
    s: &Settings,
    report: &mut Report,
    c: &Client,
    bases: &[String],
    url: &str,
) -> anyhow::Result<()> {
    const S: &str = "one owner (3 × PostgreSQL)";
    let per_org = s.race_clients.div_ceil(s.race_orgs).max(2);
    println!(
        "\n== one owner: {} clients across {} processes, {} organizations of {per_org}, for {:?}",
        s.race_clients,
        bases.len(),
        s.race_orgs,
        s.race
    );
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await?;
    // Organization k: user 0 its owner, the others admins.
    let setup = Instant::now();
    let mut orgs: Vec<String> = Vec::new();
    let mut members: Vec<Vec<(String, String)>> = Vec::new(); // (user id, token) per org
    for k in 0..s.race_orgs {
        let base = &bases[k % bases.len()];
        let mut users = Vec::new();
        for j in 0..per_org {
            let email = format!("race-{k}-{j}@example.com");
            let id = sign_up(c, base, &email).await?;
            let token = sign_in(c, base, &email).await?;
            users.push((email, id, token));
        }
        let org = create_org(c, base, &users[0].2, &format!("Owner race {k}")).await?;
        for (email, _, _) in &users[1..] {
            add_member(c, base, &users[0].2, &org, email, &["admin"]).await?;
        }
        orgs.push(org);
        members.push(users.into_iter().map(|(_, id, t)| (id, t)).collect());
    }
    println!(
        "  set up {} users in {:.1} s",
        s.race_orgs * per_org,
        setup.elapsed().as_secs_f64()
    );
    let org_ids: Vec<uuid::Uuid> = orgs
        .iter()
        .map(|o| uuid::Uuid::parse_str(o))
        .collect::<Result<_, _>>()?;
    let audit_before = audit_counts(&pool, &org_ids).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..s.race_clients {
        let k = i % s.race_orgs;
        let j = (i / s.race_orgs) % per_org;
        let base = bases[i % bases.len()].clone();
        let org = orgs[k].clone();
        let others: Vec<String> = members[k]
            .iter()
            .enumerate()
            .filter(|(n, _)| *n != j)
            .map(|(_, (id, _))| id.clone())
            .collect();
        let token = members[k][j].1.clone();
        let (c, stop) = (c.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(i as u64);
            let mut tally = Tally::new();
            let mut transport = 0u64;
            let o = format!("{base}/api/v1/orgs/{org}");
            while !stop.load(Ordering::Relaxed) {
                let roll = rng.gen_range(0..100);
                let other = &others[rng.gen_range(0..others.len())];
                let (action, rb) = match roll {
                    0..30 => {
                        let set = ROLE_SETS[rng.gen_range(0..ROLE_SETS.len())];
                        let action = if set == ["owner"] {
                            "patch-owner"
                        } else {
                            "patch"
                        };
                        (
                            action,
                            c.patch(format!("{o}/members/{other}"))
                                .json(&json!({ "roles": set })),
                        )
                    }
                    30..50 => (
                        "offer",
                        c.post(format!("{o}/transfer"))
                            .json(&json!({ "to": other })),
                    ),
                    50..85 => ("accept", c.post(format!("{o}/transfer/accept"))),
                    85..92 => ("decline", c.post(format!("{o}/transfer/decline"))),
                    _ => ("cancel", c.delete(format!("{o}/transfer"))),
                };
                match send(rb.bearer_auth(&token)).await {
                    Ok(a) => {
                        *tally
                            .entry((action, a.status, a.revision.is_some()))
                            .or_default() += 1
                    }
                    Err(_) => transport += 1,
                }
            }
            (tally, transport)
        }));
    }
    // Sample the database and the API while they race.
    let deadline = Instant::now() + s.race;
    let mut samples = 0usize;
    let mut bad_samples = 0usize;
    let mut api_samples = 0usize;
    let mut api_bad = 0usize;
    let mut n = 0usize;
    let mut last_print = Instant::now();
    while Instant::now() < deadline {
        let counts = owner_counts(&pool, &org_ids).await?;
        samples += 1;
        if counts.len() != org_ids.len() || counts.iter().any(|&c| c != 1) {
            bad_samples += 1;
            println!("  a sample found owners {counts:?}");
        }
        // Through the API too: the members of one organization, on one process.
        let k = n % orgs.len();
        let base = &bases[n % bases.len()];
        n += 1;
        let a = send(
            c.get(format!("{base}/api/v1/orgs/{}/members", orgs[k]))
                .bearer_auth(&members[k][0].1)
                .query(&[("limit", "100")]),
        )
        .await?;
        if a.status == 200 {
            api_samples += 1;
            let owners = a.body["items"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .filter(|m| {
                            m["roles"]
                                .as_array()
                                .is_some_and(|r| r.iter().any(|x| x == "owner"))
                        })
                        .count()
                })
                .unwrap_or(0);
            if owners != 1 {
                api_bad += 1;
                println!("  the API listed {owners} owners in {}", orgs[k]);
            }
        }
        if last_print.elapsed() >= Duration::from_secs(5) {
            println!("  {samples} database samples, {bad_samples} without exactly one owner");
            last_print = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut tally = Tally::new();
    let mut transport = 0u64;
    for t in tasks {
        let (t, e) = t.await?;
        for (k, v) in t {
            *tally.entry(k).or_default() += v;
        }
        transport += e;
    }
    let counts = owner_counts(&pool, &org_ids).await?;
    let final_ok = counts.len() == org_ids.len() && counts.iter().all(|&c| c == 1);
    let audit_after = audit_counts(&pool, &org_ids).await?;
    let delta = |action: &str| {
        audit_after.get(action).copied().unwrap_or(0)
            - audit_before.get(action).copied().unwrap_or(0)
    };
    let ok2xx = |action: &str, with_revision: Option<bool>| -> i64 {
        tally
            .iter()
            .filter(|((a, st, rev), _)| {
                *a == action && (200..300).contains(st) && with_revision.is_none_or(|w| w == *rev)
            })
            .map(|(_, v)| *v as i64)
            .sum()
    };
    let expected: Vec<(&str, i64, i64)> = vec![
        (
            "transfer.offered",
            ok2xx("offer", None),
            delta("transfer.offered"),
        ),
        (
            "transfer.accepted",
            ok2xx("accept", None),
            delta("transfer.accepted"),
        ),
        (
            "transfer.declined",
            ok2xx("decline", None),
            delta("transfer.declined"),
        ),
        (
            "transfer.cancelled",
            ok2xx("cancel", None),
            delta("transfer.cancelled"),
        ),
        (
            "member.roles_changed",
            ok2xx("patch", Some(true)) + ok2xx("patch-owner", Some(true)),
            delta("member.roles_changed"),
        ),
    ];
    let noop = ok2xx("patch", Some(false));
    let owner_granted = ok2xx("patch-owner", None);
    let total_requests: u64 = tally.values().sum();
    let server_errors: u64 = tally
        .iter()
        .filter(|((_, st, _), _)| *st >= 500)
        .map(|(_, v)| *v)
        .sum();
    let other_events: i64 = audit_after
        .iter()
        .filter(|(a, _)| !expected.iter().any(|(e, _, _)| e == a))
        .map(|(a, v)| v - audit_before.get(a).copied().unwrap_or(0))
        .sum();
    let mut by_action: BTreeMap<&str, BTreeMap<u16, u64>> = BTreeMap::new();
    for ((a, st, _), v) in &tally {
        *by_action.entry(a).or_default().entry(*st).or_default() += v;
    }
    for (a, m) in &by_action {
        println!("  {a:<12} {m:?}");
    }
    let mut audit_ok = other_events == 0;
    for (action, want, got) in &expected {
        println!("  audit {action:<21} {got:>6} events, {want:>6} 2xx answers");
        audit_ok &= want == got;
    }
    println!(
        "  {total_requests} requests ({:.0}/s), {transport} transport errors, {server_errors} 5xx; \
         {noop} role changes that changed nothing; {samples} database samples ({bad_samples} \
         bad), {api_samples} API samples ({api_bad} bad); final owners {counts:?}",
        total_requests as f64 / s.race.as_secs_f64()
    );
    report.row(
        S,
        "clients × seconds",
        format!("{} × {:?}", s.race_clients, s.race),
    );
    report.row(
        S,
        "requests (per second)",
        format!(
            "{total_requests} ({:.0}/s)",
            total_requests as f64 / s.race.as_secs_f64()
        ),
    );
    report.row(S, "ownership changes (accepted)", ok2xx("accept", None));
    report.row(
        S,
        "role changes 2xx (changed / no-op)",
        format!("{} / {noop}", ok2xx("patch", Some(true))),
    );
    report.row(S, "`owner` given by a role change", owner_granted);
    report.row(
        S,
        "samples without exactly one owner",
        format!(
            "{bad_samples} of {samples} (database), {api_bad} of {api_samples} (API), final {}",
            if final_ok { "ok" } else { "BAD" }
        ),
    );
    report.row(
        S,
        "audit events = 2xx answers",
        if audit_ok {
            format!(
                "yes ({} events)",
                expected.iter().map(|(_, _, g)| g).sum::<i64>()
            )
        } else {
            format!("NO: {expected:?}, other {other_events}")
        },
    );
    report.row(
        S,
        "5xx / transport errors",
        format!("{server_errors} / {transport}"),
    );
    report.must(bad_samples == 0 && api_bad == 0 && final_ok, "one owner");
    report.must(owner_granted == 0, "a role change gave `owner`");
    report.must(audit_ok, "audit events = 2xx answers");
    report.must(server_errors == 0, "5xx in the ownership race");
    report.must(transport == 0, "transport errors in the ownership race");
    pool.close().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL outage

fn pg_bin(tool: &str) -> anyhow::Result<PathBuf> {
    let base = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<_> = std::fs::read_dir(base)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    versions.sort();
    versions
        .last()
        .map(|v| v.join("bin").join(tool))
        .filter(|p| p.exists())
        .with_context(|| {
            format!(
                "the outage scenario runs a PostgreSQL of its own and needs its server programs \
                 (/usr/lib/postgresql/*/bin/{tool}; Debian: apt-get install postgresql)"
            )
        })
}

/// A PostgreSQL cluster of the bench's own on a free port, run as the `postgres` user with
/// `pg_ctl` (initdb refuses root); stopped when dropped.
struct PrivatePg {
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivatePg {
    fn as_postgres(tool: &str, args: &[&str]) -> anyhow::Result<()> {
        let out = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(pg_bin(tool)?)
            .args(args)
            .output()
            .context("runuser (the outage scenario needs root to act as the postgres user)")?;
        ensure!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }

    fn data(&self) -> String {
        self.dir.path().join("pg").display().to_string()
    }

    fn init() -> anyhow::Result<PrivatePg> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::Builder::new().prefix("gh-rel-pg-").tempdir()?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))?;
        let pg = PrivatePg {
            dir,
            port: free_port()?,
        };
        Self::as_postgres(
            "initdb",
            &["-D", &pg.data(), "-A", "trust", "-U", "postgres"],
        )?;
        pg.start()?;
        Ok(pg)
    }

    fn start(&self) -> anyhow::Result<()> {
        let log = self.dir.path().join("pg.log").display().to_string();
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        Self::as_postgres(
            "pg_ctl",
            &["-D", &self.data(), "-o", &opts, "-l", &log, "-w", "start"],
        )
    }

    fn stop_immediately(&self) -> anyhow::Result<()> {
        Self::as_postgres(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        )
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let _ = Self::as_postgres("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
    }
}

/// One answer seen during the outage run.
struct Seen {
    write: Option<String>,
    ready: bool,
    started: Instant,
    took: Duration,
    /// 0 when no HTTP answer came.
    status: u16,
    code: String,
}

async fn outage(s: &Settings, report: &mut Report) -> anyhow::Result<()> {
    const S: &str = "PostgreSQL outage";
    println!(
        "\n== PostgreSQL outage: a private cluster, {} clients writing and reading, pg_ctl stop \
         -m immediate for {:?}, then start",
        s.outage_clients, s.outage
    );
    let pg = PrivatePg::init()?;
    let dir = work_dir(s, "gh-rel-outage-")?;
    let env = vec![
        (
            "GUILDHALL_DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port),
        ),
        (
            "GUILDHALL_DATA_DIR",
            dir.path().join("data").display().to_string(),
        ),
        (
            "GUILDHALL_MAIL_DIR",
            dir.path().join("mail").display().to_string(),
        ),
    ];
    let client = http_client(Duration::from_secs(20))?;
    let mut serve = Serve::spawn(&dir.path().join("serve.log"), &env)?;
    serve.ready(&client, Duration::from_secs(60)).await?;
    let base = serve.base.clone();
    sign_up(&client, &base, "outage@example.com").await?;
    let token = sign_in(&client, &base, "outage@example.com").await?;
    let org = create_org(&client, &base, &token, "Outage").await?;

    let seen = Arc::new(Mutex::new(Vec::<Seen>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for w in 0..s.outage_clients {
        let (c, token, seen, stop, base, org) = (
            client.clone(),
            token.clone(),
            seen.clone(),
            stop.clone(),
            base.clone(),
            org.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let write = n.is_multiple_of(2);
                let name = format!("w{w}-{n}");
                let rb = if write {
                    c.post(format!("{base}/api/v1/orgs/{org}/projects"))
                        .json(&json!({ "name": name }))
                } else {
                    c.get(format!("{base}/api/v1/orgs/{org}/projects"))
                        .query(&[("limit", "5")])
                };
                let started = Instant::now();
                let a = send(rb.bearer_auth(&token)).await;
                let took = started.elapsed();
                let (status, code) = match &a {
                    Ok(a) => (a.status, a.code().to_owned()),
                    Err(_) => (0, String::new()),
                };
                if let Ok(mut v) = seen.lock() {
                    v.push(Seen {
                        write: write.then_some(name),
                        ready: false,
                        started,
                        took,
                        status,
                        code,
                    });
                }
                if status != 200 && status != 201 {
                    // Do not spin on a refusal.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }
    {
        let (c, seen, stop, base) = (client.clone(), seen.clone(), stop.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                let a = send(c.get(format!("{base}/readyz"))).await;
                let took = started.elapsed();
                let (status, code) = match &a {
                    Ok(a) => (a.status, a.code().to_owned()),
                    Err(_) => (0, String::new()),
                };
                if let Ok(mut v) = seen.lock() {
                    v.push(Seen {
                        write: None,
                        ready: true,
                        started,
                        took,
                        status,
                        code,
                    });
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stopping = Instant::now();
    pg.stop_immediately()?;
    let stopped = Instant::now();
    println!(
        "  PostgreSQL stopped (pg_ctl took {} ms)",
        (stopped - stopping).as_millis()
    );
    tokio::time::sleep(s.outage).await;
    let starting = Instant::now();
    pg.start()?;
    let started = Instant::now();
    println!(
        "  PostgreSQL started again (pg_ctl took {} ms)",
        (started - starting).as_millis()
    );
    // Until a write started after the restart works, then a little more.
    let recovered = loop {
        let first = seen.lock().ok().and_then(|v| {
            v.iter()
                .filter(|x| x.write.is_some() && x.started >= starting && x.status == 201)
                .map(|x| x.started + x.took)
                .min()
        });
        if let Some(at) = first {
            break Some(at);
        }
        if started.elapsed() > Duration::from_secs(30) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await?;
    }
    let seen = std::mem::take(&mut *seen.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);

    // Requests made during the outage: started once it was down, answered before `pg_ctl start`
    // was run. (While it starts, crash recovery, some answers are 503 and some already work.)
    let during: Vec<&Seen> = seen
        .iter()
        .filter(|x| !x.ready && x.started >= stopped && x.started + x.took <= starting)
        .collect();
    let mut during_by: BTreeMap<String, u64> = BTreeMap::new();
    let mut during_lat = histogram();
    let mut bad = 0usize;
    for x in &during {
        *during_by
            .entry(format!("{} {}", x.status, x.code))
            .or_default() += 1;
        record(&mut during_lat, x.took);
        bad += usize::from(
            x.status != 503 || x.code != "store_unavailable" || x.took > OUTAGE_ANSWER_LIMIT,
        );
    }
    // In flight when it went down, or answered while it was starting again.
    let mut straddling: BTreeMap<String, u64> = BTreeMap::new();
    for x in seen.iter().filter(|x| {
        !x.ready
            && ((x.started < stopped && x.started + x.took > stopping)
                || (x.started < started && x.started + x.took > starting))
    }) {
        *straddling
            .entry(format!("{} {}", x.status, x.code))
            .or_default() += 1;
    }
    // Any refusal, whenever it came, is a quick 503 `store_unavailable`.
    let slow_or_other = seen
        .iter()
        .filter(|x| !x.ready && x.status != 0 && !(200..300).contains(&x.status))
        .filter(|x| {
            x.status != 503 || x.code != "store_unavailable" || x.took > OUTAGE_ANSWER_LIMIT
        })
        .count();
    let server_errors = seen
        .iter()
        .filter(|x| x.status == 500 || x.status == 0)
        .count();
    let mut ready_lat = histogram();
    let mut ready_by: BTreeMap<String, u64> = BTreeMap::new();
    for x in seen
        .iter()
        .filter(|x| x.ready && x.started >= stopped && x.started + x.took <= starting)
    {
        record(&mut ready_lat, x.took);
        *ready_by
            .entry(format!("{} {}", x.status, x.code))
            .or_default() += 1;
    }
    let ready_back = seen
        .iter()
        .filter(|x| x.ready && x.started >= starting && x.status == 200)
        .map(|x| x.started + x.took)
        .min();
    let acked: Vec<&str> = seen
        .iter()
        .filter(|x| x.status == 201)
        .filter_map(|x| x.write.as_deref())
        .collect();
    let refused: Vec<&str> = seen
        .iter()
        .filter(|x| x.status != 201)
        .filter_map(|x| x.write.as_deref())
        .collect();
    let listed = list_projects(&client, &base, &token, &org).await?;
    let lost = acked.iter().filter(|n| !listed.contains(**n)).count();
    let ambiguous = refused.iter().filter(|n| listed.contains(**n)).count();
    let since = |at: Option<Instant>| match at {
        Some(at) => format!("{} ms", (at - starting).as_millis()),
        None => "never (30 s)".to_owned(),
    };
    println!(
        "  during the outage: {} answers {during_by:?}, p50 {} p99 {} max {}; {bad} not a 503 \
         store_unavailable within {OUTAGE_ANSWER_LIMIT:?}",
        during.len(),
        ms(during_lat.value_at_quantile(0.5)),
        ms(during_lat.value_at_quantile(0.99)),
        ms(during_lat.max()),
    );
    println!(
        "  in flight at the stop or answered while PostgreSQL started: {straddling:?}; \
         refusals (any time) not a 503 store_unavailable within {OUTAGE_ANSWER_LIMIT:?}: \
         {slow_or_other}"
    );
    println!(
        "  readyz during the outage: {ready_by:?}, p50 {} max {}",
        ms(ready_lat.value_at_quantile(0.5)),
        ms(ready_lat.max())
    );
    println!(
        "  recovery, from pg_ctl start: first write {}, readyz 200 {}",
        since(recovered),
        since(ready_back)
    );
    println!(
        "  writes: {} acknowledged, {lost} lost; {} refused, {ambiguous} of them committed \
         anyway; 500 or no answer: {server_errors}",
        acked.len(),
        refused.len()
    );
    report.row(
        S,
        "PostgreSQL stopped / pg_ctl start -w took",
        format!(
            "{:.1} s / {:.1} s",
            (starting - stopped).as_secs_f64(),
            (started - starting).as_secs_f64()
        ),
    );
    report.row(
        S,
        "answers during the outage",
        format!("{} {during_by:?}", during.len()),
    );
    report.row(
        S,
        "their latency p50 / p99 / max",
        format!(
            "{} / {} / {}",
            ms(during_lat.value_at_quantile(0.5)),
            ms(during_lat.value_at_quantile(0.99)),
            ms(during_lat.max())
        ),
    );
    report.row(
        S,
        "in flight at the stop / while it started",
        if straddling.is_empty() {
            "none".to_owned()
        } else {
            format!("{straddling:?}")
        },
    );
    report.row(
        S,
        "readyz during the outage p50 / max",
        format!(
            "{} / {} {ready_by:?}",
            ms(ready_lat.value_at_quantile(0.5)),
            ms(ready_lat.max())
        ),
    );
    report.row(
        S,
        "from pg_ctl start: first write / readyz 200",
        format!("{} / {}", since(recovered), since(ready_back)),
    );
    report.row(
        S,
        "writes acknowledged / lost",
        format!("{} / {lost}", acked.len()),
    );
    report.row(
        S,
        "refused writes committed anyway",
        format!("{ambiguous} of {}", refused.len()),
    );
    report.row(S, "500 or no answer", server_errors);
    report.row(S, "refusals not a quick 503 (any time)", slow_or_other);
    report.must(!during.is_empty(), "outage: no request was made during it");
    report.must(bad == 0, "outage: answers that were not a quick 503");
    report.must(
        slow_or_other == 0,
        "outage: refusals that were not a quick 503",
    );
    report.must(server_errors == 0, "outage: 500s or dropped connections");
    report.must(lost == 0, "outage: acknowledged writes lost");
    report.must(recovered.is_some(), "outage: writes never recovered");
    drop(serve);
    drop(pg);
    finish_dir(s, dir);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// SQLite synchronous: NORMAL against FULL

struct SyncFigures {
    seq: Histogram<u64>,
    seq_rate: f64,
    conc: Histogram<u64>,
    conc_rate: f64,
    errors: u64,
}

async fn sync_run(s: &Settings, setting: &str) -> anyhow::Result<SyncFigures> {
    let dir = work_dir(s, &format!("gh-rel-sync-{setting}-"))?;
    let data = dir.path().join("data");
    let env = sqlite_env(&data, &dir.path().join("mail"), Some(setting));
    let client = http_client(Duration::from_secs(30))?;
    let mut serve = Serve::spawn(&dir.path().join("serve.log"), &env)?;
    serve.ready(&client, Duration::from_secs(30)).await?;
    let base = serve.base.clone();
    sign_up(&client, &base, "sync@example.com").await?;
    let token = sign_in(&client, &base, "sync@example.com").await?;
    let org = create_org(&client, &base, &token, "Synchronous").await?;
    let url = format!("{base}/api/v1/orgs/{org}/projects");
    let mut errors = 0u64;
    for n in 0..50 {
        let a = send(
            client
                .post(&url)
                .bearer_auth(&token)
                .json(&json!({ "name": format!("warm-{n}") })),
        )
        .await?;
        errors += u64::from(!a.ok());
    }
    let mut seq = histogram();
    let t = Instant::now();
    for n in 0..s.sync_writes {
        let started = Instant::now();
        let a = send(
            client
                .post(&url)
                .bearer_auth(&token)
                .json(&json!({ "name": format!("seq-{n}") })),
        )
        .await?;
        record(&mut seq, started.elapsed());
        errors += u64::from(!a.ok());
    }
    let seq_rate = s.sync_writes as f64 / t.elapsed().as_secs_f64();
    let deadline = Instant::now() + s.sync_secs;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..s.sync_clients {
        let (client, token, url) = (client.clone(), token.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut h = histogram();
            let mut errors = 0u64;
            let mut n = 0usize;
            while Instant::now() < deadline {
                n += 1;
                let started = Instant::now();
                match send(
                    client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({ "name": format!("c{w}-{n}") })),
                )
                .await
                {
                    Ok(a) if a.ok() => record(&mut h, started.elapsed()),
                    _ => errors += 1,
                }
            }
            (h, errors)
        }));
    }
    let mut conc = histogram();
    for task in tasks {
        let (h, e) = task.await?;
        conc.add(&h)?;
        errors += e;
    }
    let conc_rate = conc.len() as f64 / t.elapsed().as_secs_f64();
    drop(serve);
    finish_dir(s, dir);
    Ok(SyncFigures {
        seq,
        seq_rate,
        conc,
        conc_rate,
        errors,
    })
}

async fn synchronous(s: &Settings, report: &mut Report) -> anyhow::Result<()> {
    const S: &str = "SQLite synchronous";
    println!(
        "\n== SQLite synchronous, normal against full: {} sequential writes, then {} clients for \
         {:?}, each on a fresh data directory{}",
        s.sync_writes,
        s.sync_clients,
        s.sync_secs,
        s.dir
            .as_ref()
            .map(|d| format!(" under {}", d.display()))
            .unwrap_or_default()
    );
    let mut figures = Vec::new();
    for setting in ["normal", "full"] {
        let f = sync_run(s, setting).await?;
        println!(
            "  {setting:<6} sequential p50 {} p99 {} ({:.0} writes/s); {} clients p50 {} p99 {} \
             ({:.0} writes/s); errors {}",
            ms(f.seq.value_at_quantile(0.5)),
            ms(f.seq.value_at_quantile(0.99)),
            f.seq_rate,
            s.sync_clients,
            ms(f.conc.value_at_quantile(0.5)),
            ms(f.conc.value_at_quantile(0.99)),
            f.conc_rate,
            f.errors
        );
        report.row(
            S,
            &format!("{setting}: sequential p50 / p99 / writes/s"),
            format!(
                "{} / {} / {:.0}",
                ms(f.seq.value_at_quantile(0.5)),
                ms(f.seq.value_at_quantile(0.99)),
                f.seq_rate
            ),
        );
        report.row(
            S,
            &format!("{setting}: {} clients p50 / p99 / writes/s", s.sync_clients),
            format!(
                "{} / {} / {:.0}",
                ms(f.conc.value_at_quantile(0.5)),
                ms(f.conc.value_at_quantile(0.99)),
                f.conc_rate
            ),
        );
        report.must(
            f.errors == 0,
            format!("synchronous={setting}: failed writes"),
        );
        figures.push(f);
    }
    let (n, f) = (&figures[0], &figures[1]);
    let ratio = |a: u64, b: u64| b as f64 / a.max(1) as f64;
    let line = format!(
        "sequential p50 ×{:.2}, writes/s ×{:.2}; {} clients p50 ×{:.2}, writes/s ×{:.2}",
        ratio(n.seq.value_at_quantile(0.5), f.seq.value_at_quantile(0.5)),
        f.seq_rate / n.seq_rate,
        s.sync_clients,
        ratio(n.conc.value_at_quantile(0.5), f.conc.value_at_quantile(0.5)),
        f.conc_rate / n.conc_rate,
    );
    println!("  full against normal: {line}");
    report.row(S, "full / normal", line);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let s = settings()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "guildhall reliability bench: {} ({} cores), scenarios {}",
        env!("CARGO_BIN_EXE_guildhall"),
        cores,
        s.scenarios.join(",")
    );
    let started = Instant::now();
    let mut report = Report::default();
    rt.block_on(async {
        let wants = |name: &str| s.scenarios.iter().any(|x| x == name);
        if wants("kill") {
            kill_cycles(&s, &mut report).await?;
        }
        if wants("stale") || wants("owner") {
            three_processes(&s, &mut report).await?;
        }
        if wants("outage") {
            outage(&s, &mut report).await?;
        }
        if wants("synchronous") {
            synchronous(&s, &mut report).await?;
        }
        anyhow::Ok(())
    })?;
    report.print();
    println!("\n{:.0} s in all", started.elapsed().as_secs_f64());
    if !report.failures.is_empty() {
        bail!("failed: {}", report.failures.join("; "));
    }
    Ok(())
}
