//! The real binary when what is under it fails: SQLite on a disk that fills up (a small tmpfs)
//! answers 507 and recovers without a restart once space returns; `serve` started before its
//! PostgreSQL retries and says the real cause.

use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().expect("dir");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .expect("running mount");
        assert!(
            status.success(),
            "this test fills a small disk: it mounts a tmpfs, which needs root (run the tests \
             as root, or in a container where `mount -t tmpfs` works)"
        );
        Tmpfs { dir }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
    l.local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_507_and_writes_work_again_once_space_returns() {
    let disk = Tmpfs::mount("8m");
    let data = disk.dir.path().join("data");
    let mail = tempfile::tempdir().expect("mail dir");
    let port = free_port();
    let _serve = Serve(
        Command::new(env!("CARGO_BIN_EXE_guildhall"))
            .arg("serve")
            .env("GUILDHALL_LISTEN", format!("127.0.0.1:{port}"))
            .env("GUILDHALL_DATA_DIR", &data)
            .env("GUILDHALL_MAIL_DIR", mail.path())
            .env_remove("GUILDHALL_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("guildhall starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            ready = r.status() == 200;
            if ready {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the server did not become ready");
    let signup = client
        .post(format!("{base}/api/v1/users"))
        .json(&json!({ "email": "fay@example.com", "password": "correct horse battery staple", "name": "Fay" }))
        .send()
        .await
        .expect("sign-up");
    assert_eq!(signup.status(), 201);
    let session: Value = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({ "email": "fay@example.com", "password": "correct horse battery staple" }))
        .send()
        .await
        .expect("sign-in")
        .json()
        .await
        .expect("json");
    let token = session["token"].as_str().expect("token").to_owned();
    let create = |n: usize| {
        client
            .post(format!("{base}/api/v1/orgs"))
            .bearer_auth(&token)
            .json(&json!({ "name": format!("Full disk {n} {}", "x".repeat(60)) }))
            .send()
    };

    // Fill the disk to the last byte.
    let filler = disk.dir.path().join("filler");
    {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&filler).expect("filler");
        let chunk = vec![0u8; 64 * 1024];
        while f.write_all(&chunk).is_ok() {}
        let small = [0u8; 512];
        while f.write_all(&small).is_ok() {}
        let _ = f.sync_all();
    }
    let mut acknowledged = Vec::new();
    let mut full = None;
    for n in 0..200 {
        let r = create(n).await.expect("answer");
        match r.status().as_u16() {
            201 => acknowledged.push(n),
            507 => {
                full = Some((
                    r.headers().get("retry-after").cloned(),
                    r.json::<Value>().await.expect("problem"),
                ));
                break;
            }
            other => panic!(
                "a write on a full disk answered {other}: {:?}",
                r.text().await
            ),
        }
    }
    let (retry_after, problem) = full.expect("a write found the disk full");
    assert_eq!(problem["code"], "storage_full", "{problem}");
    assert!(retry_after.is_some(), "a 507 says when to retry");
    let ready = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(
        ready.status(),
        503,
        "readiness tells the truth while the disk is full"
    );
    let body: Value = ready.json().await.expect("problem");
    assert_eq!(body["code"], "storage_full");

    // Space comes back: within a second writes work again, no restart.
    std::fs::remove_file(&filler).expect("free the space");
    let freed = Instant::now();
    let mut recovered = None;
    let mut n = 1000;
    while freed.elapsed() < Duration::from_secs(5) {
        n += 1;
        let r = create(n).await.expect("answer");
        if r.status() == 201 {
            acknowledged.push(n);
            recovered = Some(freed.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = recovered.expect("writes work again after space returned");
    assert!(
        took < Duration::from_secs(1),
        "writes recovered in {took:?}"
    );
    for _ in 0..20 {
        let r = client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .expect("readyz");
        if r.status() == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .expect("readyz")
            .status(),
        200
    );
    // Every acknowledged write is there.
    let orgs: Value = client
        .get(format!("{base}/api/v1/orgs?limit=100&q=Full%20disk"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let names: Vec<&str> = orgs["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    for n in &acknowledged {
        let want = format!("Full disk {n} {}", "x".repeat(60));
        assert!(names.contains(&want.as_str()), "lost: {want}");
    }
    assert_eq!(names.len(), acknowledged.len(), "{names:?}");
}

#[test]
fn serve_before_its_postgresql_retries_and_says_why() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_guildhall"))
        .arg("serve")
        .env("GUILDHALL_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("GUILDHALL_DATA_DIR", dir.path())
        .env(
            "GUILDHALL_DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        )
        .env("GUILDHALL_DATABASE_WAIT", "3s")
        .env("NO_COLOR", "1")
        .output()
        .expect("guildhall runs");
    let took = started.elapsed();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "no database, no service: {log}");
    let retries = log
        .matches("PostgreSQL cannot be reached yet; retrying")
        .count();
    assert!(
        retries >= 2,
        "it retries with back-off while it waits: {log}"
    );
    assert!(
        log.to_lowercase().contains("connection refused"),
        "the real cause is said, not only a timeout: {log}"
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(8),
        "it waits about --database-wait: {took:?}"
    );
}

/// A PostgreSQL cluster of this test's own on a free port (the machine's stays untouched), run
/// as the `postgres` user with `pg_ctl`; stopped when dropped.
struct PrivatePg {
    dir: tempfile::TempDir,
    port: u16,
}

fn pg_bin(tool: &str) -> std::path::PathBuf {
    let base = std::path::Path::new("/usr/lib/postgresql");
    let mut versions: Vec<_> = std::fs::read_dir(base)
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    versions.sort();
    let bin = versions
        .last()
        .map(|v| v.join("bin").join(tool))
        .filter(|p| p.exists());
    bin.unwrap_or_else(|| {
        panic!(
            "this test runs a PostgreSQL of its own and needs its server programs \
             (/usr/lib/postgresql/*/bin/{tool}; Debian: apt-get install postgresql)"
        )
    })
}

impl PrivatePg {
    fn as_postgres(tool: &str, args: &[&str]) -> std::process::Output {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(pg_bin(tool))
            .args(args)
            .output()
            .expect("runuser runs (the test needs root to act as the postgres user)")
    }

    fn init() -> PrivatePg {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("dir");
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
            .expect("chmod");
        let data = dir.path().join("pg");
        let out = Self::as_postgres(
            "initdb",
            &[
                "-D",
                &data.display().to_string(),
                "-A",
                "trust",
                "-U",
                "postgres",
            ],
        );
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pg = PrivatePg {
            dir,
            port: free_port(),
        };
        pg.start();
        pg
    }

    fn start(&self) {
        let data = self.dir.path().join("pg").display().to_string();
        let log = self.dir.path().join("pg.log").display().to_string();
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let out = Self::as_postgres(
            "pg_ctl",
            &["-D", &data, "-o", &opts, "-l", &log, "-w", "start"],
        );
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn stop_immediately(&self) {
        let data = self.dir.path().join("pg").display().to_string();
        let out = Self::as_postgres("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
        assert!(
            out.status.success(),
            "pg_ctl stop: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let data = self.dir.path().join("pg").display().to_string();
        let _ = Self::as_postgres("pg_ctl", &["-D", &data, "-m", "immediate", "stop"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_outage_answers_503_within_two_seconds_and_loses_nothing() {
    let pg = PrivatePg::init();
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let _serve = Serve(
        Command::new(env!("CARGO_BIN_EXE_guildhall"))
            .arg("serve")
            .env("GUILDHALL_LISTEN", format!("127.0.0.1:{port}"))
            .env("GUILDHALL_DATA_DIR", dir.path())
            .env(
                "GUILDHALL_DATABASE_URL",
                format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("guildhall starts"),
    );
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let mut ready = false;
    for _ in 0..300 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            ready = r.status() == 200;
            if ready {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "the server did not become ready");
    let password = "correct horse battery staple";
    let r = client
        .post(format!("{base}/api/v1/users"))
        .json(&json!({ "email": "gus@example.com", "password": password, "name": "Gus" }))
        .send()
        .await
        .expect("sign-up");
    assert_eq!(r.status(), 201);
    let session: Value = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&json!({ "email": "gus@example.com", "password": password }))
        .send()
        .await
        .expect("sign-in")
        .json()
        .await
        .expect("json");
    let token = session["token"].as_str().expect("token").to_owned();
    let mut acknowledged = Vec::new();
    for n in 0..5 {
        let name = format!("Outage {n}");
        let r = client
            .post(format!("{base}/api/v1/orgs"))
            .bearer_auth(&token)
            .json(&json!({ "name": name }))
            .send()
            .await
            .expect("create");
        assert_eq!(r.status(), 201);
        acknowledged.push(name);
    }

    pg.stop_immediately();
    for path in ["/api/v1/orgs", "/api/v1/me"] {
        let started = Instant::now();
        let r = client
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("an answer");
        let took = started.elapsed();
        assert_eq!(r.status(), 503, "{path} during the outage");
        assert!(
            r.headers().get("retry-after").is_some(),
            "503 says when to retry"
        );
        let body: Value = r.json().await.expect("problem");
        assert_eq!(body["code"], "store_unavailable", "{body}");
        assert!(
            took < Duration::from_millis(2500),
            "{path} answered in {took:?}"
        );
    }
    let started = Instant::now();
    let r = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(r.status(), 503, "readiness tells the truth");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "readiness took {:?}",
        started.elapsed()
    );

    pg.start();
    let back = Instant::now();
    let mut listed = None;
    while back.elapsed() < Duration::from_secs(15) {
        let r = client
            .get(format!("{base}/api/v1/orgs?q=Outage"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("an answer");
        if r.status() == 200 {
            listed = Some(r.json::<Value>().await.expect("json"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let listed = listed.expect("the service recovers once PostgreSQL is back");
    let names: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    for name in &acknowledged {
        assert!(names.contains(&name.as_str()), "lost {name}: {names:?}");
    }
}
