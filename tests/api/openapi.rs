//! The contract: `/api/v1/openapi.json` compared with the committed snapshot `openapi.json` next
//! to this file, so every change of the document shows in review, and the rules every operation's
//! answers follow.

use crate::common::{Store, spawn_app};
use reqwest::Method;
use serde_json::Value;

/// The committed snapshot.
const SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/openapi.json");

/// Set to rewrite the snapshot from the served document.
const UPDATE: &str = "GUILDHALL_UPDATE_OPENAPI";

async fn served_document() -> Value {
    let app = spawn_app(Store::Sqlite).await;
    app.req(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .expect(200)
        .body
}

/// Where `a` and `b` differ, as JSON pointers (at most `max`).
fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>, max: usize) {
    if out.len() >= max || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => differences(p, q, &here, out, max),
                    (Some(_), None) => out.push(format!("{here}: only in the snapshot")),
                    (None, Some(_)) => out.push(format!("{here}: only in the served document")),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                differences(p, q, &format!("{at}/{i}"), out, max);
            }
        }
        _ => out.push(format!("{at}: snapshot has {a}, served document has {b}")),
    }
}

#[tokio::test]
async fn openapi_document_matches_the_committed_snapshot() {
    let served = served_document().await;
    let pretty = serde_json::to_string_pretty(&served).expect("serializable") + "\n";
    if std::env::var_os(UPDATE).is_some() {
        std::fs::write(SNAPSHOT, pretty).expect("snapshot written");
        return;
    }
    let committed = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    let snapshot: Value = serde_json::from_str(&committed).unwrap_or(Value::Null);
    if snapshot != served {
        let mut diff = Vec::new();
        differences(&snapshot, &served, "", &mut diff, 40);
        panic!(
            "the OpenAPI document differs from tests/api/openapi.json:\n  {}\n\
             If the change of the contract is meant, update the snapshot with\n  \
             {UPDATE}=1 cargo test --test api openapi\nand commit it with the change.",
            diff.join("\n  ")
        );
    }
}

/// Every answer that is not a success is a problem document: a reference to one of the shared
/// answers of `#/components/responses`, each `application/problem+json` with the `Problem`
/// schema; and the edge answers are on every operation that can give them.
#[tokio::test]
async fn every_error_answer_is_a_documented_problem() {
    let doc = served_document().await;
    let shared = doc["components"]["responses"]
        .as_object()
        .expect("shared answers");
    for (name, answer) in shared {
        let content = answer["content"].as_object().expect("content");
        assert_eq!(
            content.keys().collect::<Vec<_>>(),
            ["application/problem+json"],
            "{name}"
        );
        assert_eq!(
            content["application/problem+json"]["schema"]["$ref"], "#/components/schemas/Problem",
            "{name}"
        );
    }
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            let answers = op["responses"].as_object().expect("responses");
            for (status, answer) in answers {
                if status.starts_with('2') {
                    continue;
                }
                let name = answer["$ref"]
                    .as_str()
                    .and_then(|r| r.strip_prefix("#/components/responses/"))
                    .unwrap_or_else(|| panic!("{method} {path} {status} is not a shared answer"));
                assert!(shared.contains_key(name), "{method} {path} {status}");
            }
            let has = |s: &str| answers.contains_key(s);
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                assert!(has("401"), "{method} {path} takes a credential: 401");
            }
            if op.get("requestBody").is_some() {
                for s in ["400", "413", "415"] {
                    assert!(has(s), "{method} {path} reads a JSON body: {s}");
                }
            }
            for limit in op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["name"] == "limit")
            {
                assert!(
                    limit["schema"]["minimum"].as_u64() == Some(1)
                        && limit["schema"]["maximum"].as_u64().is_some(),
                    "{method} {path}: `limit` has its bounds"
                );
            }
        }
    }
}

/// Every documented `limit` is enforced as documented: its bounds are accepted, one past either
/// bound and a non-number are refused with 400 `validation_failed`, never quietly clamped.
#[tokio::test]
async fn every_list_refuses_a_limit_outside_its_documented_bounds() {
    let app = spawn_app(Store::Sqlite).await;
    let doc = app
        .req(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .expect(200)
        .body;
    let ada = app.user("Ada").await;
    let org = app.get("/api/v1/orgs", &ada.token).await.expect(200).body["items"][0]["slug"]
        .as_str()
        .expect("personal org")
        .to_owned();
    let mut lists = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let Some(op) = item.get("get") else { continue };
        let Some(limit) = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "limit")
        else {
            continue;
        };
        assert_eq!(limit["in"], "query", "{path}");
        let (min, max) = (
            limit["schema"]["minimum"].as_u64().expect("minimum"),
            limit["schema"]["maximum"].as_u64().expect("maximum"),
        );
        let concrete = path.replace("{org}", &org).replace("{user}", &ada.id);
        let token = if op["tags"][0] == "check" {
            crate::common::SERVICE_TOKEN
        } else {
            &ada.token
        };
        for ok in [min, max] {
            app.get(&format!("{concrete}?limit={ok}"), token)
                .await
                .expect(200);
        }
        for bad in [(min - 1).to_string(), (max + 1).to_string(), "ten".into()] {
            let r = app
                .get(&format!("{concrete}?limit={bad}"), token)
                .await
                .expect_problem(400, "validation_failed");
            assert!(
                r.body["detail"].to_string().contains("limit")
                    || r.body["errors"][0]["field"] == "limit",
                "{path} limit={bad}: {:#}",
                r.body
            );
        }
        lists += 1;
    }
    assert!(lists >= 9, "only {lists} lists take `limit`");
}
