//! Personal API tokens holding up under hostile clients (issue 15): a password set by link ends
//! every session and revokes every token; tokens expire (90 days by default, at most 365 days
//! ahead, both configurable); at most 100 live tokens per account; the listing pages.

use crate::both_stores;
use crate::common::{PASSWORD, Resp, Store, TestApp, TestUser, spawn_app_with};
use chrono::{DateTime, Duration, Utc};
use guildhall::clock::Clock as _;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::HashSet;

const SET: &str = "/password/set";

async fn new_token(app: &TestApp, user: &TestUser, body: Value) -> Resp {
    app.post("/api/v1/tokens", &user.token, body).await
}

/// A mail's text with quoted-printable soft breaks and escapes undone.
fn readable(mail: &str) -> String {
    mail.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=20", " ")
        .replace("=3D", "=")
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
        .expect("RFC 3339")
        .with_timezone(&Utc)
}

/// Every token of `user`'s listing, following cursors with pages of `limit`; also how many
/// pages it took.
async fn all_tokens(app: &TestApp, user: &TestUser, limit: u32) -> (Vec<Value>, usize) {
    let mut out = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tokens?limit={limit}&cursor={c}"),
            None => format!("/api/v1/tokens?limit={limit}"),
        };
        let page = app.get(&path, &user.token).await.expect(200).body;
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= limit as usize, "{page:#}");
        pages += 1;
        out.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        assert!(pages <= 1_000, "the cursors do not end");
    }
    (out, pages)
}

both_stores!(
    async fn a_password_reset_by_mailed_link_revokes_every_token_and_ends_every_session(app) {
        let bob = app.user("Bob").await;
        let plain = new_token(&app, &bob, json!({ "name": "ci" })).await.expect(201).body;
        let checker = new_token(&app, &bob, json!({ "name": "svc", "capabilities": ["check"] }))
            .await
            .expect(201)
            .body;
        let (plain, checker) = (plain["token"].as_str().expect("secret"), checker["token"].as_str().expect("secret"));
        let second = app.sign_in(&bob.email, PASSWORD).await.expect(201).body;
        let second = second["token"].as_str().expect("session");
        let ask = json!({ "user": bob.id, "permission": "org.read", "org": "nowhere" });
        // Everything works before.
        for credential in [plain, checker, bob.token.as_str(), second] {
            app.get("/api/v1/me", credential).await.expect(200);
        }
        app.req(Method::POST, "/api/v1/check", Some(checker), Some(ask.clone())).await.expect(200);

        app.req(Method::POST, "/api/v1/password/forgot", None, Some(json!({ "email": bob.email }))).await.expect(202);
        let link_mail = app.wait_mails_to(&bob.email, 1).await.remove(0);
        assert!(
            readable(&link_mail).contains("revokes all its API tokens"),
            "the link's mail says what setting the password does: {link_mail}"
        );
        let link = app.newest_token(&bob.email, SET);
        let set = app
            .req(Method::POST, "/api/v1/password/set", None, Some(json!({ "token": link, "password": "a brand new password" })))
            .await
            .expect(200)
            .body;
        assert_eq!((set["sessions_ended"].as_u64(), set["tokens_revoked"].as_u64()), (Some(2), Some(2)), "{set:#}");
        assert!(
            set["message"].as_str().is_some_and(|m| m.contains("your sessions and API tokens were ended")),
            "{set:#}"
        );

        // The tokens answer 401, on the API and on the check API; so do both sessions.
        for credential in [plain, checker, bob.token.as_str(), second] {
            app.get("/api/v1/me", credential).await.expect_problem(401, "unauthenticated");
        }
        app.req(Method::POST, "/api/v1/check", Some(checker), Some(ask)).await.expect_problem(401, "unauthenticated");
        // Signed in again, nothing is left to list.
        let fresh = app.sign_in(&bob.email, "a brand new password").await.expect(201).body;
        let listed = app.get("/api/v1/tokens", fresh["token"].as_str().expect("session")).await.expect(200).body;
        assert_eq!(listed["items"], json!([]));
        // The account is mailed that its sessions and tokens were ended.
        let told = app.wait_mails_to(&bob.email, 2).await.remove(1);
        let told = readable(&told);
        assert!(told.contains("Your sessions and API tokens were ended"), "{told}");
        assert!(told.contains("2 API token(s) revoked"), "{told}");
    }
);

both_stores!(
    async fn a_token_made_without_expires_at_expires_after_90_days(app) {
        let ada = app.user("Ada").await;
        let before = app.clock.now();
        let made = new_token(&app, &ada, json!({ "name": "ci" })).await.expect(201).body;
        let after = app.clock.now();
        let expires = time(&made["expires_at"]);
        assert_eq!(expires, time(&made["created_at"]) + Duration::days(90), "{made:#}");
        assert!(expires >= before + Duration::days(90) && expires <= after + Duration::days(90));
        let listed = app.get("/api/v1/tokens", &ada.token).await.expect(200).body;
        // As stored: PostgreSQL keeps microseconds.
        let stored = time(&listed["items"][0]["expires_at"]);
        assert_eq!(stored.timestamp_micros(), expires.timestamp_micros());
        let secret = made["token"].as_str().expect("secret");
        app.clock.advance(Duration::days(89));
        app.get("/api/v1/me", secret).await.expect(200);
        app.clock.advance(Duration::days(1) + Duration::seconds(1));
        app.get("/api/v1/me", secret).await.expect_problem(401, "unauthenticated");
    }
);

both_stores!(
    async fn an_expires_at_in_the_past_or_beyond_365_days_is_refused_naming_the_maximum(app) {
        let ada = app.user("Ada").await;
        let now = app.clock.now();
        for refused in [
            (now + Duration::days(366)).to_rfc3339(),
            "9999-12-31T23:59:59Z".to_owned(),
            (now - Duration::minutes(1)).to_rfc3339(),
        ] {
            let r = new_token(&app, &ada, json!({ "name": "far", "expires_at": refused }))
                .await
                .expect_problem(400, "validation_failed");
            assert_eq!(r.body["errors"][0]["field"], "expires_at", "{refused}: {:#}", r.body);
            let detail = r.body["detail"].as_str().unwrap_or("");
            assert!(detail.contains("365 days"), "{refused}: {detail}");
        }
        let last = now + Duration::days(365) - Duration::minutes(1);
        let made = new_token(&app, &ada, json!({ "name": "a year", "expires_at": last.to_rfc3339() }))
            .await
            .expect(201)
            .body;
        assert_eq!(time(&made["expires_at"]).timestamp(), last.timestamp());
        // Nothing refused was made.
        assert_eq!(all_tokens(&app, &ada, 100).await.0.len(), 1);
    }
);

async fn lifetimes_follow_the_serve_flags(store: Store) {
    let app = spawn_app_with(
        store,
        &["--token-default-days", "7", "--token-max-days", "30"],
    )
    .await;
    let ada = app.user("Ada").await;
    let made = new_token(&app, &ada, json!({ "name": "ci" }))
        .await
        .expect(201)
        .body;
    assert_eq!(
        time(&made["expires_at"]),
        time(&made["created_at"]) + Duration::days(7)
    );
    let far = (app.clock.now() + Duration::days(31)).to_rfc3339();
    let r = new_token(&app, &ada, json!({ "name": "far", "expires_at": far }))
        .await
        .expect_problem(400, "validation_failed");
    assert!(
        r.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("30 days")),
        "{:#}",
        r.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_lifetimes_follow_the_serve_flags_on_sqlite() {
    lifetimes_follow_the_serve_flags(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_lifetimes_follow_the_serve_flags_on_postgres() {
    lifetimes_follow_the_serve_flags(Store::Postgres).await;
}

#[tokio::test]
async fn a_default_lifetime_over_the_maximum_stops_serve_at_start() {
    use clap::Parser as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("g.db").display());
    let data = dir.path().display().to_string();
    #[derive(clap::Parser)]
    struct Args {
        #[command(flatten)]
        serve: guildhall::config::ServeConfig,
    }
    let config = Args::try_parse_from([
        "serve",
        "--data-dir",
        &data,
        "--database-url",
        &url,
        "--token-default-days",
        "400",
    ])
    .expect("flags")
    .serve;
    let refused = guildhall::server::build(&config)
        .await
        .err()
        .expect("refused");
    let message = format!("{refused:#}");
    assert!(
        message.contains("--token-default-days (400)")
            && message.contains("--token-max-days (365)"),
        "{message}"
    );
}

both_stores!(
    async fn the_101st_live_token_is_refused_until_one_is_revoked_or_expires(app) {
        let ada = app.user("Ada").await;
        let soon = (app.clock.now() + Duration::hours(1)).to_rfc3339();
        let mut ids = Vec::new();
        for i in 0..100 {
            let body = if i == 0 { json!({ "name": "soon", "expires_at": soon }) } else { json!({ "name": format!("t{i}") }) };
            ids.push(new_token(&app, &ada, body).await.expect(201).body["id"].as_str().expect("id").to_owned());
        }
        let r = new_token(&app, &ada, json!({ "name": "one too many" })).await.expect_problem(409, "token_limit_reached");
        let detail = r.body["detail"].as_str().unwrap_or("");
        assert!(detail.contains("100") && detail.contains("revoke") && detail.contains("GET /api/v1/tokens"), "{detail}");
        // Nothing was made by the refusal.
        let (listed, pages) = all_tokens(&app, &ada, 100).await;
        assert_eq!((listed.len(), pages), (100, 1));
        // Revoking one makes room for one.
        app.delete(&format!("/api/v1/tokens/{}", ids[50]), &ada.token).await.expect(204);
        new_token(&app, &ada, json!({ "name": "in its place" })).await.expect(201);
        new_token(&app, &ada, json!({ "name": "one too many" })).await.expect_problem(409, "token_limit_reached");
        // An expired token is not live: it stays listed, but leaves room.
        app.clock.advance(Duration::hours(2));
        new_token(&app, &ada, json!({ "name": "after one expired" })).await.expect(201);
        new_token(&app, &ada, json!({ "name": "one too many" })).await.expect_problem(409, "token_limit_reached");
        assert_eq!(all_tokens(&app, &ada, 100).await.0.len(), 101);
    }
);

both_stores!(
    async fn the_token_listing_pages_with_limit_and_cursor_like_every_list(app) {
        let ada = app.user("Ada").await;
        let other = app.user("Other").await;
        new_token(&app, &other, json!({ "name": "not ada's" })).await.expect(201);
        let mut made = Vec::new();
        for i in 0..7 {
            let t = new_token(&app, &ada, json!({ "name": format!("t{i}") })).await.expect(201).body;
            made.push(t["id"].as_str().expect("id").to_owned());
        }
        let first = app.get("/api/v1/tokens?limit=1", &ada.token).await.expect(200).body;
        assert_eq!(first["items"].as_array().map(Vec::len), Some(1));
        assert_eq!(first["items"][0]["id"], made[6].as_str(), "newest first");
        assert!(first["next_cursor"].is_string(), "{first:#}");
        for limit in [1, 3, 7, 50] {
            let (items, pages) = all_tokens(&app, &ada, limit).await;
            let ids: Vec<String> = items.iter().map(|t| t["id"].as_str().expect("id").to_owned()).collect();
            let distinct: HashSet<&String> = ids.iter().collect();
            assert_eq!(distinct.len(), ids.len(), "limit {limit}: no token twice: {ids:?}");
            let newest_first: Vec<String> = made.iter().rev().cloned().collect();
            assert_eq!(ids, newest_first, "limit {limit}: every token, newest first");
            assert_eq!(pages, 7_usize.div_ceil(limit as usize).max(1), "limit {limit}");
        }
        // A token made while paging is not missed by a cursor given out before it, nor repeated.
        let page = app.get("/api/v1/tokens?limit=3", &ada.token).await.expect(200).body;
        new_token(&app, &ada, json!({ "name": "late" })).await.expect(201);
        let cursor = page["next_cursor"].as_str().expect("cursor");
        let rest = app.get(&format!("/api/v1/tokens?limit=100&cursor={cursor}"), &ada.token).await.expect(200).body;
        let rest: Vec<&str> = rest["items"].as_array().expect("items").iter().map(|t| t["id"].as_str().expect("id")).collect();
        assert_eq!(rest, made[..4].iter().rev().map(String::as_str).collect::<Vec<_>>());
        // Bad limits and cursors are refused as on every list.
        for bad in ["limit=0", "limit=101", "cursor=not-a-cursor", "limit=x"] {
            app.get(&format!("/api/v1/tokens?{bad}"), &ada.token).await.expect_problem(400, "validation_failed");
        }
    }
);
