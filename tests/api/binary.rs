//! The real `guildhall` binary, as a new user runs it: no configuration but a data directory,
//! embedded SQLite, ready to use; and its log never carries a password or a token.

use serde_json::{Value, json};
use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_runs_on_embedded_sqlite_and_never_logs_secrets() {
    let dir = tempfile::tempdir().expect("dir");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        l.local_addr().expect("addr").port()
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_guildhall"))
        .arg("serve")
        .env("GUILDHALL_LISTEN", format!("127.0.0.1:{port}"))
        .env("GUILDHALL_DATA_DIR", dir.path())
        .env("GUILDHALL_LOG", "debug")
        .env_remove("GUILDHALL_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("guildhall starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{base}/readyz")).send().await {
            ready = r.status() == 200;
            if ready {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the server did not become ready");
    assert!(
        dir.path().join("guildhall.db").exists(),
        "the SQLite file lives in the data directory"
    );

    let password = "a very secret passphrase";
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut rb = client.post(format!("{base}{path}")).json(&body);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        rb.send()
    };
    assert_eq!(
        post(
            "/api/v1/users",
            None,
            json!({ "email": "ada@example.com", "password": password, "name": "Ada" })
        )
        .await
        .expect("sign-up")
        .status(),
        201
    );
    post(
        "/api/v1/sessions",
        None,
        json!({ "email": "ada@example.com", "password": "wrong password!" }),
    )
    .await
    .expect("failed sign-in");
    let session: Value = post(
        "/api/v1/sessions",
        None,
        json!({ "email": "ada@example.com", "password": password }),
    )
    .await
    .expect("sign-in")
    .json()
    .await
    .expect("json");
    let session = session["token"].as_str().expect("token").to_owned();
    let api: Value = post("/api/v1/tokens", Some(&session), json!({ "name": "ci" }))
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let api = api["token"].as_str().expect("token").to_owned();
    let me = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&api)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), 200);

    child.kill().expect("stop");
    let mut log = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut log)
        .expect("read");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut log)
        .expect("read");
    child.wait().expect("reaped");
    assert!(log.contains("guildhall is serving"), "{log}");
    for secret in [password, "wrong password!", session.as_str(), api.as_str()] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
    // Not even the secret part without its prefix.
    assert!(!log.contains(&session["gldh_ses_".len()..]));
}

/// Starts `guildhall serve` on a free port with `envs`, waits until it is ready, stops it and
/// answers what it logged on standard output.
async fn serve_logs(envs: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        l.local_addr().expect("addr").port()
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_guildhall"));
    cmd.arg("serve")
        .env("GUILDHALL_LISTEN", format!("127.0.0.1:{port}"))
        .env("GUILDHALL_DATA_DIR", dir.path())
        .env("GUILDHALL_LOG", "debug")
        .env_remove("GUILDHALL_DATABASE_URL")
        .env_remove("GUILDHALL_LOG_FORMAT")
        .env_remove("NO_COLOR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("guildhall starts");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
        {
            ready = r.status() == 200;
            if ready {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("log");
    let _ = child.wait();
    assert!(ready, "the server did not become ready; it logged:\n{out}");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_plain_off_a_terminal_and_json_when_asked() {
    let text = serve_logs(&[]).await;
    assert!(text.contains("guildhall is serving"), "{text}");
    // No service token set: the log says how to open the check API to other services.
    assert!(text.contains("--service-token"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a log file:\n{text}"
    );

    let json = serve_logs(&[("GUILDHALL_LOG_FORMAT", "json")]).await;
    let lines: Vec<&str> = json.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
    }
    assert!(lines.iter().any(|l| l.contains("guildhall is serving")));
}

#[test]
fn an_unknown_log_format_is_refused_with_the_choices() {
    let out = Command::new(env!("CARGO_BIN_EXE_guildhall"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("GUILDHALL_LOG_FORMAT", "xml")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("`text`") && err.contains("`json`"), "{err}");
}

#[test]
fn an_unknown_sqlite_synchronous_setting_is_refused_with_the_choices() {
    for (flag, env) in [(Some("off"), None), (None, Some("extra"))] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_guildhall"));
        cmd.args(["serve", "--listen", "127.0.0.1:0"]);
        if let Some(v) = flag {
            cmd.args(["--sqlite-synchronous", v]);
        }
        match env {
            Some(v) => cmd.env("GUILDHALL_SQLITE_SYNCHRONOUS", v),
            None => cmd.env_remove("GUILDHALL_SQLITE_SYNCHRONOUS"),
        };
        let out = cmd.output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{flag:?} {env:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("sqlite-synchronous") && err.contains("normal") && err.contains("full"),
            "{err}"
        );
    }
}
