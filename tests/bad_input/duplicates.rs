//! A key given twice in one JSON object (R14), at the top or nested, on every kind of route:
//! typed bodies, billing bodies (which are read as a JSON value first, where the last copy
//! would silently win) and the check API. Each is refused with 400 `validation_failed` naming
//! the key, and changes nothing.

use crate::both_stores;
use crate::common::SERVICE_TOKEN;
use crate::support::{Body, Case, run_cases, send, world};
use reqwest::Method;
use serde_json::json;

/// A raw body, as `application/json`: `json!` cannot say a key twice.
fn raw(method: Method, path: &str, text: &str) -> Case {
    Case::new(method, path, Body::json_bytes(text.to_owned()))
}

const PROFILE_HEAD: &str = r#""name":"Acme SAS","vat_number":"FR AB 123456789","currency":"EUR""#;

both_stores!(
    async fn r14_a_key_given_twice_is_refused_on_every_route_naming_the_key(app) {
        let w = world(&app).await;
        let acme = &w.acme.id;
        app.post(&format!("/api/v1/orgs/{acme}/projects"), &w.owner.token, json!({ "name": "web" }))
            .await
            .expect(201);
        let plan = format!("/api/v1/orgs/{acme}/projects/web/plan");
        let billing = format!("/api/v1/orgs/{acme}/billing");
        let address = r#"{"line1":"1 rue de la Paix","postal_code":"75002","city":"Paris","country":"FR"}"#;
        let card = r#"{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2031}"#;
        app.req(
            Method::PUT,
            &billing,
            Some(&w.owner.token),
            Some(serde_json::from_str(&format!(r#"{{{PROFILE_HEAD},"address":{address},"payment_method":{card}}}"#)).expect("profile")),
        )
        .await
        .expect(200);

        let mut watch = w.watch();
        watch.get("acme billing", &w.owner.token, &billing);
        watch.get("web plan", &w.owner.token, &plan);

        let check = |path: &str, body: &str| raw(Method::POST, path, body).with_token(SERVICE_TOKEN);
        let cases = vec![
            // Billing bodies: before, the last copy won and the plan became `pro`.
            raw(Method::PUT, &plan, r#"{"tier":"free","tier":"pro"}"#).invalid("tier"),
            raw(Method::PUT, &plan, r#"{"tier":"pro","storage_gb":60,"licenses":5,"storage_gb":50}"#).invalid("storage_gb"),
            raw(Method::PUT, &billing, &format!(r#"{{{PROFILE_HEAD},"address":{address},"currency":"EUR"}}"#)).invalid("currency"),
            raw(Method::PUT, &billing, &format!(r#"{{{PROFILE_HEAD},"address":{{"line1":"1 rue de la Paix","postal_code":"75002","city":"Paris","city":"Lyon","country":"FR"}}}}"#))
                .invalid("address.city")
                .labelled("nested"),
            raw(Method::PUT, &billing, &format!(r#"{{{PROFILE_HEAD},"address":{address},"payment_method":{{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2031,"last4":"1881"}}}}"#))
                .invalid("payment_method.last4")
                .labelled("nested"),
            raw(Method::POST, &format!("/api/v1/orgs/{acme}/billing/vouchers"), r#"{"code":"A","code":"B"}"#).invalid("code"),
            // Typed bodies.
            raw(Method::POST, "/api/v1/orgs", r#"{"name":"First Name","name":"Second Name"}"#).invalid("name"),
            raw(Method::PATCH, &format!("/api/v1/orgs/{acme}"), r#"{"slug":"one-slug","slug":"two-slug"}"#).invalid("slug"),
            raw(Method::POST, "/api/v1/tokens", r#"{"name":"ci","permissions":["org.read"],"permissions":["org.read","members.read"]}"#).invalid("permissions"),
            raw(Method::POST, &format!("/api/v1/orgs/{acme}/roles"), r#"{"name":"Viewer","permissions":[],"name":"Other"}"#).invalid("name"),
            raw(Method::PATCH, &format!("/api/v1/orgs/{acme}/members/{}", w.member.id), r#"{"roles":["member"],"roles":["manager"]}"#).invalid("roles"),
            // Keys that only differ in case are two keys: the second is unknown, not repeated.
            raw(Method::POST, "/api/v1/orgs", r#"{"name":"Case Name","NAME":"Other"}"#).expect(400, "validation_failed"),
            // The check API, nested in an array.
            check("/api/v1/check/batch", &format!(r#"{{"checks":[{{"user":"{}","permission":"org.read","org":"{acme}","user":"{}"}}]}}"#, w.owner.id, w.member.id))
                .invalid("checks[0].user")
                .labelled("nested in an array"),
            check("/api/v1/check", &format!(r#"{{"user":"{}","permission":"org.read","permission":"org.delete","org":"{acme}"}}"#, w.owner.id)).invalid("permission"),
        ];
        run_cases(&app, Some(&w.owner.token), &watch, &cases).await;

        // The detail names the key too, for a person reading it.
        let r = send(&app, &Method::PUT, &plan, Some(&w.owner.token), &Body::json_bytes(r#"{"tier":"free","tier":"pro"}"#)).await;
        let detail = r.body["detail"].as_str().unwrap_or("");
        assert!(detail.contains("`tier`") && detail.contains("twice"), "{detail}");
        // The same bodies with each key once are fine.
        app.req(Method::PUT, &plan, Some(&w.owner.token), Some(json!({ "tier": "pro" }))).await.expect(200);
    }
);
