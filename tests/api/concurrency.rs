//! Races on PostgreSQL, across two `serve` instances on one database: R3 holds and every change
//! that succeeded has its audit event.

use crate::common::{Store, TestUser, spawn_app, spawn_on};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r3_parallel_attempts_to_move_ownership_leave_exactly_one_owner_on_postgres() {
    let app = spawn_app(Store::Postgres).await;
    let dir = tempfile::tempdir().expect("dir");
    let second = spawn_on(&app.database_url, dir.path()).await;

    let owner = app.user("Owner").await;
    let org = app.org(&owner, "Contested").await;
    let slug = org["slug"].as_str().expect("slug").to_owned();
    let mut admins: Vec<TestUser> = Vec::new();
    for i in 0..6 {
        let u = app.user(&format!("Admin{i}")).await;
        app.add(&owner, &slug, &u, &["admin"]).await.expect(201);
        admins.push(u);
    }
    let audit_before = app.audit(&owner, &slug).await.len();

    // Every admin, through either instance, at once: give themselves or others `owner`, strip the
    // owner, change each other's roles, leave.
    let mut calls = Vec::new();
    for (i, a) in admins.iter().enumerate() {
        let other = &admins[(i + 1) % admins.len()];
        let base = if i % 2 == 0 {
            app.url("")
        } else {
            format!("http://{second}")
        };
        let reqs: Vec<(Method, String, serde_json::Value)> = vec![
            (
                Method::PATCH,
                format!("/api/v1/orgs/{slug}/members/{}", other.id),
                json!({ "roles": ["owner"] }),
            ),
            (
                Method::PATCH,
                format!("/api/v1/orgs/{slug}/members/{}", owner.id),
                json!({ "roles": ["admin"] }),
            ),
            (
                Method::DELETE,
                format!("/api/v1/orgs/{slug}/members/{}", owner.id),
                json!(null),
            ),
            (
                Method::PATCH,
                format!("/api/v1/orgs/{slug}/members/{}", other.id),
                json!({ "roles": ["admin", "developer"] }),
            ),
            (
                Method::PATCH,
                format!("/api/v1/orgs/{slug}/members/{}", other.id),
                json!({ "roles": ["member"] }),
            ),
            (
                Method::POST,
                format!("/api/v1/orgs/{slug}/leave"),
                json!(null),
            ),
        ];
        for (m, path, body) in reqs {
            let mut rb = app
                .client
                .request(m, format!("{base}{path}"))
                .bearer_auth(&a.token);
            if !body.is_null() {
                rb = rb.json(&body);
            }
            calls.push(rb);
        }
    }
    let statuses = send_all(calls).await;
    let succeeded = statuses.iter().filter(|s| (200..300).contains(*s)).count();
    assert!(
        statuses
            .iter()
            .all(|s| matches!(s, 200 | 204 | 403 | 404 | 409)),
        "{statuses:?}"
    );

    let members = app.members(&owner, &slug).await;
    let owners: Vec<_> = members
        .iter()
        .filter(|(_, r)| r.contains(&"owner".to_owned()))
        .collect();
    assert_eq!(owners.len(), 1, "{members:?}");
    assert_eq!(owners[0].0, owner.id);
    let audit_after = app.audit(&owner, &slug).await.len();
    assert_eq!(
        audit_after - audit_before,
        succeeded,
        "one audit event per successful change"
    );

    // Both instances see the same state.
    let via_second = app
        .client
        .request(
            Method::GET,
            format!("http://{second}/api/v1/orgs/{slug}/members?limit=100"),
        )
        .bearer_auth(&owner.token)
        .send()
        .await
        .expect("sent")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    assert_eq!(
        via_second["items"].as_array().expect("items").len(),
        members.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r1_parallel_creates_of_one_name_admit_exactly_one_on_postgres() {
    let app = spawn_app(Store::Postgres).await;
    let dir = tempfile::tempdir().expect("dir");
    let second = spawn_on(&app.database_url, dir.path()).await;
    let mut users = Vec::new();
    for i in 0..6 {
        users.push(app.user(&format!("U{i}")).await);
    }
    let name = crate::common::unique("Race");
    let calls = users.iter().enumerate().map(|(i, u)| {
        let base = if i % 2 == 0 {
            app.url("")
        } else {
            format!("http://{second}")
        };
        // The same name, differently cased and padded, through either instance.
        let variant = if i % 2 == 0 {
            name.clone()
        } else {
            format!(" {} ", name.to_uppercase())
        };
        app.client
            .post(format!("{base}/api/v1/orgs"))
            .bearer_auth(&u.token)
            .json(&json!({ "name": variant }))
    });
    let mut statuses = send_all(calls.collect()).await;
    statuses.sort();
    assert_eq!(statuses, [201, 409, 409, 409, 409, 409]);
}

/// R9 on PostgreSQL, across two `serve` instances: one invitation accepted twice at once, by the
/// signed-in addressee and by the create-the-account path, gives one success, one 4xx and one
/// membership; two invitations of one email at once give one invitation.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r9_racing_answers_to_one_invitation_admit_exactly_one_on_postgres() {
    let app = spawn_app(Store::Postgres).await;
    let dir = tempfile::tempdir().expect("dir");
    let second = spawn_on(&app.database_url, dir.path()).await;
    let ada = app.user("Ada").await;
    let org = app.org(&ada, "Racy").await;
    let slug = org["slug"].as_str().expect("slug").to_owned();
    let bases = [app.url(""), format!("http://{second}")];
    let invitations = format!("/api/v1/orgs/{slug}/invitations");

    for round in 0..3 {
        // The signed-in addressee, through both instances at once.
        let bob = app.user(&format!("Bob{round}")).await;
        app.post(
            &invitations,
            &ada.token,
            json!({ "email": bob.email, "roles": ["developer"] }),
        )
        .await
        .expect(201);
        let token = app.newest_token(&bob.email, "/invitations/accept");
        let calls = bases
            .iter()
            .map(|b| {
                app.client
                    .post(format!("{b}/api/v1/invitations/accept"))
                    .bearer_auth(&bob.token)
                    .json(&json!({ "token": token }))
            })
            .collect();
        let mut statuses = send_all(calls).await;
        statuses.sort();
        assert!(
            statuses[0] == 200 && matches!(statuses[1], 404 | 409),
            "{statuses:?}"
        );
        let members = app.members(&ada, &slug).await;
        assert_eq!(
            members.iter().filter(|(id, _)| *id == bob.id).count(),
            1,
            "{members:?}"
        );

        // Someone without an account, creating it through the link twice at once.
        let email = format!("{}@example.com", crate::common::unique("racer"));
        app.post(
            &invitations,
            &ada.token,
            json!({ "email": email, "roles": ["member"] }),
        )
        .await
        .expect(201);
        let token = app.newest_token(&email, "/invitations/accept");
        let calls = bases
            .iter()
            .map(|b| {
                app.client
                    .post(format!("{b}/api/v1/invitations/accept"))
                    .json(&json!({ "token": token, "name": "Racer", "password": crate::common::PASSWORD }))
            })
            .collect();
        let mut statuses = send_all(calls).await;
        statuses.sort();
        assert!(
            statuses[0] == 201 && matches!(statuses[1], 404 | 409),
            "{statuses:?}"
        );
        let session = app
            .sign_in(&email, crate::common::PASSWORD)
            .await
            .expect(201)
            .body;
        let orgs = app
            .get("/api/v1/orgs", session["token"].as_str().expect("token"))
            .await
            .expect(200)
            .body;
        assert_eq!(
            orgs["items"].as_array().map(Vec::len),
            Some(2),
            "one account, one personal organization, one membership: {orgs}"
        );

        // Two invitations of one new email at once: one is made, one refused.
        let email = format!("{}@example.com", crate::common::unique("twice"));
        let calls = bases
            .iter()
            .map(|b| {
                app.client
                    .post(format!("{b}{invitations}"))
                    .bearer_auth(&ada.token)
                    .json(&json!({ "email": email, "roles": ["member"] }))
            })
            .collect();
        let mut statuses = send_all(calls).await;
        statuses.sort();
        assert_eq!(statuses, [201, 409]);
    }
    let audit = app.audit(&ada, &slug).await;
    let accepted = audit
        .iter()
        .filter(|e| e["action"] == "invitation.accepted")
        .count();
    assert_eq!(accepted, 6, "one audit event per accepted invitation");
}

/// Sends every request at once and returns the statuses in order.
async fn send_all(requests: Vec<reqwest::RequestBuilder>) -> Vec<u16> {
    let handles: Vec<_> = requests
        .into_iter()
        .map(|rb| tokio::spawn(async move { rb.send().await.expect("sent").status().as_u16() }))
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}
