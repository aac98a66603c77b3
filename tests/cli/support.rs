//! A real `guildhall serve` on loopback (SQLite, temp data dir) and the real binary run as a
//! client against it, each client with its own fresh config directory.

use serde_json::{Value, json};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A password the server's strength rules accept.
pub const PASSWORD: &str = "correct horse battery staple";

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_guildhall");

/// A `guildhall serve` process, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its data directory.
    pub dir: tempfile::TempDir,
    /// An HTTP client for arranging and checking state over the API.
    pub http: reqwest::Client,
}

impl Server {
    /// Starts the server on a free port and waits until it is ready.
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(BIN)
            .arg("serve")
            .args(["--public-url", "http://guildhall.test"])
            .env("GUILDHALL_LISTEN", format!("127.0.0.1:{port}"))
            .env("GUILDHALL_DATA_DIR", dir.path())
            .env("GUILDHALL_SIGNUPS_PER_ADDRESS", "1000000")
            .env_remove("GUILDHALL_DATABASE_URL")
            .env_remove("GUILDHALL_MAIL_DIR")
            .env_remove("GUILDHALL_SMTP_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("guildhall serve starts");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
            http: reqwest::Client::new(),
        };
        for _ in 0..300 {
            let ready = server
                .http
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

    /// One API call: (status, JSON body or null).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let res = r.send().await.expect("the server answers");
        let status = res.status().as_u16();
        let bytes = res.bytes().await.expect("a body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, body)
    }

    /// Signs up `email` and answers a session token.
    pub async fn sign_up(&self, email: &str) -> String {
        let name = email.split('@').next().unwrap_or("someone");
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                "/users",
                "",
                Some(json!({ "email": email, "password": PASSWORD, "name": name })),
            )
            .await;
        assert_eq!(status, 201, "sign-up of {email}: {body}");
        self.sign_in(email).await
    }

    /// Signs `email` in and answers the session token.
    pub async fn sign_in(&self, email: &str) -> String {
        let (status, body) = self
            .api(
                reqwest::Method::POST,
                "/sessions",
                "",
                Some(json!({ "email": email, "password": PASSWORD })),
            )
            .await;
        assert_eq!(status, 201, "sign-in of {email}: {body}");
        body["token"].as_str().expect("a token").to_owned()
    }

    /// The mails written so far (the server writes `.eml` files under `<data dir>/mail/`).
    pub fn mails(&self) -> Vec<String> {
        let mut out = Vec::new();
        for entry in walk(&self.dir.path().join("mail")) {
            if entry.extension().is_some_and(|e| e == "eml") {
                out.push(std::fs::read_to_string(&entry).unwrap_or_default());
            }
        }
        out
    }

    /// Waits for a mail to `email` linking to `path`, and answers the link's token.
    pub async fn wait_token(&self, email: &str, path: &str) -> String {
        for _ in 0..200 {
            let token = self
                .mails()
                .iter()
                .filter(|m| {
                    m.to_lowercase()
                        .contains(&format!("to: {}", email.to_lowercase()))
                })
                .find_map(|m| link_token(m, path));
            if let Some(t) = token {
                return t;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no mail to {email} linking to {path}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The token of a link to `path` in a mail (quoted-printable soft breaks and `=3D` undone).
pub fn link_token(mail: &str, path: &str) -> Option<String> {
    let text = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let start = text.find(&format!("{path}?token="))? + path.len() + "?token=".len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    (!token.is_empty()).then_some(token)
}

/// What one run of the client printed, and how it exited.
#[derive(Debug)]
pub struct Run {
    /// The exit status.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Standard output as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }

    /// Asserts success and answers itself.
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(self.code, 0, "expected success: {self:#?}");
        self
    }
}

/// A person at a terminal: the client binary with its own config directory.
pub struct Cli {
    /// `XDG_CONFIG_HOME` of this client.
    pub config: tempfile::TempDir,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

impl Cli {
    /// A client with a fresh, empty config directory.
    pub fn new() -> Cli {
        Cli {
            config: tempfile::tempdir().expect("temp dir"),
            env: Vec::new(),
        }
    }

    /// The credentials file.
    pub fn credentials(&self) -> PathBuf {
        self.config
            .path()
            .join("guildhall")
            .join("credentials.toml")
    }

    /// Runs `guildhall ARGS`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "")
    }

    /// Runs `guildhall ARGS` with `stdin` on standard input.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .env("XDG_CONFIG_HOME", self.config.path())
            .env_remove("GUILDHALL_SERVER")
            .env_remove("GUILDHALL_TOKEN")
            .env_remove("GUILDHALL_ORG")
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the client starts");
        if let Some(mut input) = child.stdin.take() {
            let _ = input.write_all(stdin.as_bytes());
        }
        let out = child.wait_with_output().expect("the client ends");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `guildhall login --server … --email … --password-stdin`.
    pub fn login(&self, server: &Server, email: &str) -> Run {
        self.run_with_stdin(
            &[
                "login",
                "--server",
                &server.base,
                "--email",
                email,
                "--password-stdin",
            ],
            &format!("{PASSWORD}\n"),
        )
        .ok()
    }

    /// The session token the credentials file holds.
    pub fn token(&self) -> String {
        let text = std::fs::read_to_string(self.credentials()).expect("credentials file");
        let v: toml::Table = toml::from_str(&text).expect("TOML");
        v["token"].as_str().expect("a token").to_owned()
    }
}
