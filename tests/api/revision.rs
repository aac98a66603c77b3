//! Every write that changes grants answers `Guildhall-Revision`: the revision it committed.
//! Passed to the check API of another `serve` process as `at_least_revision`, it is never
//! answered from an older state.

use crate::common::{SERVICE_TOKEN, Store, spawn_app, spawn_on};
use serde_json::json;

async fn never_stale_on_another_process(store: Store) {
    let app = spawn_app(store).await;
    let dir = tempfile::tempdir().expect("dir");
    let other = spawn_on(&app.database_url, dir.path()).await;
    let ada = app.user("Ada").await;
    let bob = app.user("Bob").await;
    let org = app.org(&ada, "Acme").await;
    let id = org["id"].as_str().expect("id");
    let ask = |rev: u64| {
        let body = json!({ "user": bob.id, "permission": "members.manage", "org": id, "at_least_revision": rev });
        let client = app.client.clone();
        async move {
            let r: serde_json::Value = client
                .post(format!("http://{other}/api/v1/check"))
                .bearer_auth(SERVICE_TOKEN)
                .json(&body)
                .send()
                .await
                .expect("sent")
                .json()
                .await
                .expect("json");
            r["allowed"].as_bool().expect("allowed")
        }
    };
    let revision = |r: &crate::common::Resp| -> u64 {
        r.headers
            .get("guildhall-revision")
            .expect("a grant change answers its revision")
            .to_str()
            .expect("ascii")
            .parse()
            .expect("a number")
    };
    let mut last = 0;
    for round in 0..20 {
        let added = app.add(&ada, id, &bob, &["manager"]).await.expect(201);
        let rev = revision(&added);
        assert!(rev > last, "revisions grow");
        assert!(
            ask(rev).await,
            "round {round}: the grant is seen at its revision"
        );
        let removed = app
            .delete(&format!("/api/v1/orgs/{id}/members/{}", bob.id), &ada.token)
            .await
            .expect(204);
        let rev2 = revision(&removed);
        assert!(rev2 > rev);
        assert!(
            !ask(rev2).await,
            "round {round}: the revocation is seen at its revision"
        );
        last = rev2;
    }
    // A read, and a write that changes no grant, carry none.
    let read = app
        .get(&format!("/api/v1/orgs/{id}"), &ada.token)
        .await
        .expect(200);
    assert!(read.headers.get("guildhall-revision").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_answers_its_revision_and_another_process_honours_it_sqlite() {
    never_stale_on_another_process(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_answers_its_revision_and_another_process_honours_it_postgres() {
    never_stale_on_another_process(Store::Postgres).await;
}
