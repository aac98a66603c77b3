//! Throttles an attacker cannot turn against the user: sign-in failures count per (account,
//! address), per address and per account, so an attack from elsewhere never locks the real user
//! out and gets a bounded number of password evaluations an hour; sign-ups and password-reset
//! requests are limited per address. Clients come from distinct loopback addresses
//! (127.0.0.2, 127.0.0.3 …); the test clock moves time.

use crate::common::{PASSWORD, Store, TestApp, spawn_app_with};
use serde_json::json;
use std::net::IpAddr;

/// A client whose connections come from `127.0.0.{n}`.
fn from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, n]))
        .build()
        .expect("client")
}

async fn sign_in(app: &TestApp, client: &reqwest::Client, email: &str, password: &str) -> u16 {
    client
        .post(app.url("/api/v1/sessions"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await
        .expect("answer")
        .status()
        .as_u16()
}

async fn attack_from_elsewhere(store: Store) {
    let app = spawn_app_with(store, &[]).await;
    let victim = app.user("Vera").await;
    let attacker = from(2);
    let user = from(3);
    // Ten wrong passwords a second for 40 s (the clock moves 100 ms a try); the real user signs
    // in every 4 s from her own address.
    let mut evaluated = 0;
    for n in 0..400 {
        match sign_in(&app, &attacker, &victim.email, "not her password").await {
            401 => evaluated += 1,
            429 => {}
            other => panic!("the attacker got {other}"),
        }
        if n % 40 == 39 {
            assert_eq!(
                sign_in(&app, &user, &victim.email, PASSWORD).await,
                201,
                "the real user signs in at the first try during the attack (try {n})"
            );
        }
        app.clock.advance(chrono::Duration::milliseconds(100));
    }
    assert!(
        evaluated >= 5,
        "the attacker's first tries are evaluated: {evaluated}"
    );
    assert!(
        evaluated <= 15,
        "then waits: {evaluated} evaluations in 40 s"
    );
    // An hour of it, one try every 10 s: a bounded number of password evaluations.
    let mut hour = 0;
    for _ in 0..360 {
        if sign_in(&app, &attacker, &victim.email, "not her password").await == 401 {
            hour += 1;
        }
        app.clock.advance(chrono::Duration::seconds(10));
    }
    assert!(
        hour <= 100,
        "{hour} password evaluations an hour for the attacker"
    );
    assert_eq!(sign_in(&app, &user, &victim.email, PASSWORD).await, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attack_from_elsewhere_never_locks_the_real_user_out_sqlite() {
    attack_from_elsewhere(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attack_from_elsewhere_never_locks_the_real_user_out_postgres() {
    attack_from_elsewhere(Store::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ups_and_reset_requests_are_limited_per_address() {
    let app = spawn_app_with(
        Store::Sqlite,
        &[
            "--signups-per-address",
            "3",
            "--password-resets-per-address",
            "2",
        ],
    )
    .await;
    let here = from(4);
    let elsewhere = from(5);
    let sign_up = |client: reqwest::Client, n: u32| {
        let url = app.url("/api/v1/users");
        async move {
            let r = client
                .post(url)
                .json(&json!({ "email": format!("s{n}@example.com"), "password": PASSWORD, "name": "Sam" }))
                .send()
                .await
                .expect("answer");
            (r.status().as_u16(), r.headers().get("retry-after").cloned())
        }
    };
    for n in 0..3 {
        assert_eq!(sign_up(here.clone(), n).await.0, 201);
    }
    let (status, retry) = sign_up(here.clone(), 3).await;
    assert_eq!(
        status, 429,
        "the fourth sign-up from one address within the hour"
    );
    assert!(retry.is_some());
    assert_eq!(
        app.sign_in("s3@example.com", PASSWORD).await.status,
        401,
        "the refused sign-up made no account"
    );
    assert_eq!(
        sign_up(elsewhere.clone(), 10).await.0,
        201,
        "another address is not held back"
    );
    app.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(
        sign_up(here.clone(), 4).await.0,
        201,
        "an hour later it may again"
    );

    // "Forgot password": the limit is the address's, and answers alike for any email.
    let forgot = |client: reqwest::Client, email: &'static str| {
        let url = app.url("/api/v1/password/forgot");
        async move {
            client
                .post(url)
                .json(&json!({ "email": email }))
                .send()
                .await
                .expect("answer")
                .status()
                .as_u16()
        }
    };
    assert_eq!(forgot(here.clone(), "s0@example.com").await, 202);
    assert_eq!(forgot(here.clone(), "nobody@example.com").await, 202);
    assert_eq!(forgot(here.clone(), "s1@example.com").await, 429);
    assert_eq!(forgot(here.clone(), "nobody-else@example.com").await, 429);
    assert_eq!(forgot(elsewhere.clone(), "s1@example.com").await, 202);
}
