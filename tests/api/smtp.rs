//! Mail over a real SMTP listener on loopback: a server built on the `mailin` SMTP protocol
//! library, started by the test. The invitation, set-password, reset and transfer mails arrive
//! with both parts, and the tokens in their links work end to end through the API. A listener
//! that is down at first gets the mail once it comes up (retries with back-off), and the
//! invitation shows `mail: pending` until then; one that never comes up leaves `mail: failed`.

use crate::common::{PASSWORD, Store, TestApp, link_token, spawn_app_with, unique};
use reqwest::Method;
use serde_json::json;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Every message the test SMTP server received, as raw text.
#[derive(Clone, Default)]
pub(crate) struct Inbox(Arc<Mutex<Vec<String>>>);

impl Inbox {
    pub(crate) fn all(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn to(&self, email: &str) -> Vec<String> {
        self.all()
            .into_iter()
            .filter(|m| {
                m.to_lowercase()
                    .contains(&format!("to: {}", email.to_lowercase()))
            })
            .collect()
    }

    /// Waits (up to 20 s) for `count` messages to `email`.
    pub(crate) async fn wait_for(&self, email: &str, count: usize) -> Vec<String> {
        for _ in 0..400 {
            let got = self.to(email);
            if got.len() >= count {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{email} did not get {count} mail(s) over SMTP; inbox: {:?}",
            self.all()
        );
    }
}

/// One SMTP session's handler: collects the DATA of each message into the inbox.
struct Collector {
    inbox: Inbox,
    data: Vec<u8>,
}

impl mailin::Handler for Collector {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> mailin::Response {
        self.data.clear();
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin::Response {
        let text = String::from_utf8_lossy(&self.data).into_owned();
        self.inbox
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(text);
        mailin::response::OK
    }
}

/// Serves SMTP on `listener` in background threads, one per connection, for the rest of the
/// test process.
pub(crate) fn serve_smtp(listener: TcpListener, inbox: Inbox) {
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let inbox = inbox.clone();
            std::thread::spawn(move || session(stream, inbox));
        }
    });
}

fn session(stream: TcpStream, inbox: Inbox) {
    let Ok(peer) = stream.peer_addr() else { return };
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    let mut smtp = mailin::SessionBuilder::new("smtp.test").build(
        peer.ip(),
        Collector {
            inbox,
            data: Vec::new(),
        },
    );
    if smtp.greeting().write_to(&mut writer).is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let res = smtp.process(&line);
        match res.action {
            mailin::Action::Reply => {
                if res
                    .write_to(&mut writer)
                    .and_then(|()| writer.flush())
                    .is_err()
                {
                    return;
                }
            }
            mailin::Action::Close => {
                let _ignored = res.write_to(&mut writer).and_then(|()| writer.flush());
                return;
            }
            mailin::Action::UpgradeTls => return,
            mailin::Action::NoReply => {}
        }
    }
}

const PUBLIC: &str = "https://guildhall.example";

async fn spawn_with_smtp(store: Store, port: u16, extra: &[&str]) -> TestApp {
    let url = format!("smtp://127.0.0.1:{port}");
    let mut args = vec!["--smtp-url", url.as_str(), "--public-url", PUBLIC];
    args.extend_from_slice(extra);
    spawn_app_with(store, &args).await
}

/// Asserts a mail has a plain-text and an HTML part.
fn assert_both_parts(mail: &str) {
    assert!(mail.contains("multipart/alternative"), "{mail}");
    assert!(
        mail.contains("text/plain") && mail.contains("text/html"),
        "{mail}"
    );
}

async fn mails_arrive_over_smtp_and_their_tokens_work(store: Store) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind smtp");
    let port = listener.local_addr().expect("addr").port();
    let inbox = Inbox::default();
    serve_smtp(listener, inbox.clone());
    let app = spawn_with_smtp(store, port, &[]).await;

    let ada = app.user("Ada").await;
    let bob = app.user("Bob").await;
    let org = app.org(&ada, "Acme").await;
    let slug = org["slug"].as_str().expect("slug");

    // Invitation: the link is under --public-url; the token accepts it.
    let inv = app
        .post(
            &format!("/api/v1/orgs/{slug}/invitations"),
            &ada.token,
            json!({ "email": bob.email, "roles": ["developer"] }),
        )
        .await
        .expect(201)
        .body;
    let mail = inbox.wait_for(&bob.email, 1).await.remove(0);
    assert_both_parts(&mail);
    assert!(
        mail.replace("=\r\n", "")
            .contains(&format!("{PUBLIC}/invitations/accept?token=")),
        "{mail}"
    );
    let token = link_token(&mail, "/invitations/accept").expect("token in the mail");
    // The mail's state settles to `sent`.
    assert_eq!(
        wait_for_mail_state(&app, slug, &ada.token, "sent").await,
        "sent"
    );
    assert_eq!(inv["mail"], "pending", "SMTP sends in the background");
    app.req(
        Method::POST,
        "/api/v1/invitations/accept",
        Some(&bob.token),
        Some(json!({ "token": token })),
    )
    .await
    .expect(200);
    assert!(
        app.members(&ada, slug)
            .await
            .contains(&(bob.id.clone(), vec!["developer".to_owned()]))
    );

    // Register-and-add: the set-password link sets the password; then sign-in works.
    let hired = format!("{}@example.com", unique("hired"));
    app.post(
        &format!("/api/v1/orgs/{slug}/members"),
        &ada.token,
        json!({ "email": hired, "name": "Hired", "roles": ["member"], "register": true }),
    )
    .await
    .expect(201);
    let mail = inbox.wait_for(&hired, 1).await.remove(0);
    assert_both_parts(&mail);
    let token = link_token(&mail, "/password/set").expect("set-password token");
    app.req(
        Method::POST,
        "/api/v1/password/set",
        None,
        Some(json!({ "token": token, "password": "hired hand password" })),
    )
    .await
    .expect(200);
    app.sign_in(&hired, "hired hand password").await.expect(201);

    // Forgot password: the reset link resets it.
    app.req(
        Method::POST,
        "/api/v1/password/forgot",
        None,
        Some(json!({ "email": bob.email })),
    )
    .await
    .expect(202);
    let mail = inbox.wait_for(&bob.email, 2).await.remove(1);
    assert_both_parts(&mail);
    let token = link_token(&mail, "/password/set").expect("reset token");
    app.req(
        Method::POST,
        "/api/v1/password/set",
        None,
        Some(json!({ "token": token, "password": "bob's new password" })),
    )
    .await
    .expect(200);
    app.sign_in(&bob.email, PASSWORD)
        .await
        .expect_problem(401, "invalid_credentials");
    let bob_token = app
        .sign_in(&bob.email, "bob's new password")
        .await
        .expect(201)
        .body["token"]
        .as_str()
        .expect("token")
        .to_owned();

    // Transfer: the receiver is mailed the offer.
    let cy = app.user("Cy").await;
    app.add(&ada, slug, &cy, &["admin"]).await.expect(201);
    app.post(
        &format!("/api/v1/orgs/{slug}/transfer"),
        &ada.token,
        json!({ "to": cy.id }),
    )
    .await
    .expect(201);
    let mail = inbox.wait_for(&cy.email, 1).await.remove(0);
    assert_both_parts(&mail);
    assert!(mail.contains("ownership"), "{mail}");
    assert!(
        mail.replace("=\r\n", "")
            .contains(&format!("{PUBLIC}/orgs/{slug}/transfer")),
        "{mail}"
    );
    app.get("/api/v1/me", &bob_token).await.expect(200);
    // Nothing was written to the mail directory: SMTP is the one transport.
    assert!(app.mails().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mails_arrive_over_smtp_and_their_tokens_work_on_sqlite() {
    mails_arrive_over_smtp_and_their_tokens_work(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mails_arrive_over_smtp_and_their_tokens_work_on_postgres() {
    mails_arrive_over_smtp_and_their_tokens_work(Store::Postgres).await;
}

/// A loopback port with nothing listening on it (yet).
pub(crate) fn free_port() -> u16 {
    let probe = TcpListener::bind("127.0.0.1:0").expect("bind");
    probe.local_addr().expect("addr").port()
}

/// Polls the first invitation's mail state for up to 10 s until it is `wanted`; the last state seen.
async fn wait_for_mail_state(app: &TestApp, slug: &str, token: &str, wanted: &str) -> String {
    let mut state = String::new();
    for _ in 0..200 {
        state = mail_state(app, slug, token).await;
        if state == wanted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    state
}

/// The state of the first invitation of `slug`'s list, read as `token`.
async fn mail_state(app: &TestApp, slug: &str, token: &str) -> String {
    let list = app
        .get(&format!("/api/v1/orgs/{slug}/invitations"), token)
        .await
        .expect(200)
        .body;
    list["items"][0]["mail"].as_str().unwrap_or("").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_smtp_send_is_retried_until_the_listener_comes_up() {
    let port = free_port();
    let app = spawn_with_smtp(
        Store::Sqlite,
        port,
        &["--mail-retry-first", "100ms", "--mail-attempts", "40"],
    )
    .await;
    let ada = app.user("Ada").await;
    let org = app.org(&ada, "Acme").await;
    let slug = org["slug"].as_str().expect("slug");
    let email = format!("{}@example.com", unique("patient"));
    let created = app
        .post(
            &format!("/api/v1/orgs/{slug}/invitations"),
            &ada.token,
            json!({ "email": email, "roles": ["member"] }),
        )
        .await
        .expect(201)
        .body;
    // The request did not wait for the mail, and did not fail with it.
    assert_eq!(created["mail"], "pending");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        mail_state(&app, slug, &ada.token).await,
        "pending",
        "still being retried"
    );

    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the smtp port");
    let inbox = Inbox::default();
    serve_smtp(listener, inbox.clone());
    let mail = inbox.wait_for(&email, 1).await.remove(0);
    let token = link_token(&mail, "/invitations/accept").expect("token");
    assert_eq!(
        wait_for_mail_state(&app, slug, &ada.token, "sent").await,
        "sent"
    );
    app.req(
        Method::POST,
        "/api/v1/invitations/accept",
        None,
        Some(json!({ "token": token, "name": "Patient", "password": PASSWORD })),
    )
    .await
    .expect(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_send_that_never_succeeds_shows_failed_and_can_be_resent() {
    let port = free_port();
    let app = spawn_with_smtp(
        Store::Sqlite,
        port,
        &["--mail-retry-first", "20ms", "--mail-attempts", "3"],
    )
    .await;
    let ada = app.user("Ada").await;
    let org = app.org(&ada, "Acme").await;
    let slug = org["slug"].as_str().expect("slug");
    let email = format!("{}@example.com", unique("unlucky"));
    let created = app
        .post(
            &format!("/api/v1/orgs/{slug}/invitations"),
            &ada.token,
            json!({ "email": email, "roles": ["member"] }),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(
        wait_for_mail_state(&app, slug, &ada.token, "failed").await,
        "failed"
    );
    // The invitation itself is intact and pending; re-sending tries the mail again.
    let id = created["id"].as_str().expect("id");
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the smtp port");
    let inbox = Inbox::default();
    serve_smtp(listener, inbox.clone());
    let resent = app
        .post(
            &format!("/api/v1/orgs/{slug}/invitations/{id}/resend"),
            &ada.token,
            json!({}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(resent["state"], "pending");
    assert_eq!(resent["mail"], "pending");
    inbox.wait_for(&email, 1).await;
    assert_eq!(
        wait_for_mail_state(&app, slug, &ada.token, "sent").await,
        "sent"
    );
}
