//! The mail outbox against `kill -9`, on the real binary: a mail is queued in the transaction of
//! the change it tells of, so a process killed after the commit and before (or while retrying)
//! the send still sends it after the restart. Before the outbox, mail lived only in memory
//! between commit and send: 53 committed register-and-adds cut by `kill -9` never got their
//! set-password mail.

use crate::smtp::{Inbox, free_port, serve_smtp};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const PASSWORD: &str = crate::common::PASSWORD;

/// A `guildhall serve` process on `dir` (SQLite), killed with SIGKILL when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(dir: &Path, port: u16, args: &[&str]) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_guildhall"))
            .arg("serve")
            .args(args)
            .args(["--public-url", "http://guildhall.test"])
            .env("GUILDHALL_LISTEN", format!("127.0.0.1:{port}"))
            .env("GUILDHALL_DATA_DIR", dir)
            .env("GUILDHALL_SIGNUPS_PER_ADDRESS", "1000000")
            .env_remove("GUILDHALL_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("guildhall starts");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..200 {
            let ready = client
                .get(format!("{}/readyz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if ready {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not become ready");
    }

    /// SIGKILL: no drain, no cleanup.
    fn kill_9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One API call; the status and the JSON body (`null` when there is none).
async fn call(
    client: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Result<(u16, Value)> {
    let mut req = client.request(method, format!("{base}{path}"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let body = resp.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// Signs up `name` and signs in: the bearer token.
async fn owner(client: &reqwest::Client, base: &str, email: &str) -> String {
    let post = reqwest::Method::POST;
    let body = json!({ "email": email, "password": PASSWORD, "name": "Ada" });
    let (status, _) = call(
        client,
        base,
        post.clone(),
        "/api/v1/users",
        None,
        Some(body),
    )
    .await
    .expect("sign up");
    assert_eq!(status, 201);
    let body = json!({ "email": email, "password": PASSWORD });
    let (status, session) = call(client, base, post, "/api/v1/sessions", None, Some(body))
        .await
        .expect("sign in");
    assert_eq!(status, 201);
    session["token"].as_str().expect("token").to_owned()
}

/// Creates the organization Acme: its slug.
async fn acme(client: &reqwest::Client, base: &str, token: &str) -> String {
    let (status, org) = call(
        client,
        base,
        reqwest::Method::POST,
        "/api/v1/orgs",
        Some(token),
        Some(json!({ "name": "Acme" })),
    )
    .await
    .expect("create org");
    assert_eq!(status, 201, "{org}");
    org["slug"].as_str().expect("slug").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_being_retried_when_the_process_is_killed_goes_out_after_the_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let smtp_port = free_port();
    let smtp = format!("smtp://127.0.0.1:{smtp_port}");
    let args = [
        "--smtp-url",
        smtp.as_str(),
        "--mail-retry-first",
        "200ms",
        "--mail-attempts",
        "60",
    ];
    let port = free_port();
    let client = reqwest::Client::new();
    let server = Server::start(dir.path(), port, &args).await;
    let token = owner(&client, &server.base, "ada@example.com").await;
    let slug = acme(&client, &server.base, &token).await;
    let (status, created) = call(
        &client,
        &server.base,
        reqwest::Method::POST,
        &format!("/api/v1/orgs/{slug}/invitations"),
        Some(&token),
        Some(json!({ "email": "bob@example.com", "roles": ["developer"] })),
    )
    .await
    .expect("invite");
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["mail"], "pending");
    // The relay is down: a few attempts fail and are rescheduled, then the process dies.
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.kill_9();

    let inbox = Inbox::default();
    serve_smtp(
        std::net::TcpListener::bind(("127.0.0.1", smtp_port)).expect("bind the smtp port"),
        inbox.clone(),
    );
    let server = Server::start(dir.path(), port, &args).await;
    let mail = inbox.wait_for("bob@example.com", 1).await.remove(0);
    let invite = crate::common::link_token(&mail, "/invitations/accept").expect("a link");
    // The invitation records that its mail went out, and the link in it works.
    let mut state = Value::Null;
    for _ in 0..100 {
        let (_, list) = call(
            &client,
            &server.base,
            reqwest::Method::GET,
            &format!("/api/v1/orgs/{slug}/invitations"),
            Some(&token),
            None,
        )
        .await
        .expect("list");
        state = list["items"][0]["mail"].clone();
        if state == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state, "sent");
    let (status, _) = call(
        &client,
        &server.base,
        reqwest::Method::POST,
        "/api/v1/invitations/accept",
        None,
        Some(json!({ "token": invite, "name": "Bob", "password": PASSWORD })),
    )
    .await
    .expect("accept");
    assert_eq!(status, 201);
    // Sent once: the restarted process did not send it again after it was settled.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(inbox.to("bob@example.com").len(), 1);
}

/// The set-password mails in `dir`, by recipient.
fn mailed(dir: &Path) -> BTreeSet<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|m| crate::common::link_token(m, "/password/set").is_some())
        .filter_map(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("To: "))
                .map(|to| to.trim().to_lowercase())
        })
        .collect()
}

/// Every member of `slug` but the owner, by email, following the cursors.
async fn registered(client: &reqwest::Client, base: &str, token: &str, slug: &str) -> Vec<String> {
    let mut emails = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/orgs/{slug}/members?limit=100&cursor={c}"),
            None => format!("/api/v1/orgs/{slug}/members?limit=100"),
        };
        let (status, page) = call(client, base, reqwest::Method::GET, &path, Some(token), None)
            .await
            .expect("members");
        assert_eq!(status, 200, "{page}");
        for m in page["items"].as_array().expect("items") {
            let email = m["user"]["email"].as_str().expect("email").to_lowercase();
            if email != "ada@example.com" {
                emails.push(email);
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return emails,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_and_add_cut_by_kill_9_still_mails_every_committed_account() {
    let dir = tempfile::tempdir().expect("dir");
    let mail_dir: PathBuf = dir.path().join("mail");
    let mail_arg = mail_dir.to_string_lossy().into_owned();
    let args = ["--mail-dir", mail_arg.as_str()];
    let port = free_port();
    let client = reqwest::Client::new();
    let server = Server::start(dir.path(), port, &args).await;
    let token = owner(&client, &server.base, "ada@example.com").await;
    let slug = acme(&client, &server.base, &token).await;

    // 200 register-and-adds at once; the process is killed once 40 answers are back, so
    // many are cut between their commit and their mail.
    let answered = Arc::new(AtomicUsize::new(0));
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..200 {
        let (client, base, token, slug) = (
            client.clone(),
            server.base.clone(),
            token.clone(),
            slug.clone(),
        );
        let (answered, acknowledged) = (answered.clone(), acknowledged.clone());
        tasks.push(tokio::spawn(async move {
            let email = format!("person{i}@example.com");
            let body = json!({ "email": email, "name": format!("Person {i}"), "roles": ["member"], "register": true });
            let path = format!("/api/v1/orgs/{slug}/members");
            if let Ok((201, _)) =
                call(&client, &base, reqwest::Method::POST, &path, Some(&token), Some(body)).await
            {
                acknowledged
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(email);
            }
            answered.fetch_add(1, Ordering::SeqCst);
        }));
    }
    while answered.load(Ordering::SeqCst) < 40 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.kill_9();
    for t in tasks {
        t.await.expect("task");
    }
    let before_restart = mailed(&mail_dir).len();

    let server = Server::start(dir.path(), port, &args).await;
    let members = registered(&client, &server.base, &token, &slug).await;
    let acknowledged = acknowledged
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    // No acknowledged write was lost.
    for email in &acknowledged {
        assert!(
            members.contains(email),
            "{email} was acknowledged but is no member"
        );
    }
    // Every committed account gets its mail, within the outbox's grace and lease.
    let want: BTreeSet<String> = members.iter().cloned().collect();
    let mut got = BTreeSet::new();
    for _ in 0..300 {
        got = mailed(&mail_dir);
        if want.is_subset(&got) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "{} committed, {} acknowledged, {before_restart} mailed before the restart, {} after",
        want.len(),
        acknowledged.len(),
        got.len()
    );
    assert!(
        before_restart < want.len(),
        "the kill cut no request between its commit and its mail: nothing was tested"
    );
    let missing: Vec<_> = want.difference(&got).collect();
    assert!(
        missing.is_empty(),
        "{} of {} committed accounts got no set-password mail: {missing:?}",
        missing.len(),
        want.len()
    );
    drop(server);
}
