//! Plans and billing with bad input: negative or over-limit amounts, unknown tiers, card numbers
//! in any field, malformed VAT numbers, unsupported currencies, and unknown, expired, used-up or
//! another organization's voucher codes. Each gets its 4xx and changes nothing.

use crate::both_stores;
use crate::support::{Case, run_cases, with, world};
use chrono::Duration;
use guildhall::clock::Clock as _;
use guildhall::domain::billing::VoucherValue;
use guildhall::service::OrgRef;
use reqwest::Method;
use serde_json::{Value, json};

fn profile() -> Value {
    json!({
        "name": "Acme SAS",
        "address": { "line1": "1 rue de la Paix", "postal_code": "75002", "city": "Paris", "country": "FR" },
        "vat_number": "FR AB 123456789",
        "currency": "EUR",
        "payment_method": { "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2031 }
    })
}

fn address_with(key: &str, v: Value) -> Value {
    let mut p = profile();
    p["address"][key] = v;
    p
}

both_stores!(
    async fn bad_plans_profiles_and_voucher_codes_get_4xx_and_change_nothing(app) {
        let w = world(&app).await;
        let acme = &w.acme.id;
        app.post(&format!("/api/v1/orgs/{acme}/projects"), &w.owner.token, json!({ "name": "web" })).await.expect(201);
        app.req(Method::PUT, &format!("/api/v1/orgs/{acme}/billing"), Some(&w.owner.token), Some(profile())).await.expect(200);

        let store = guildhall::store::open(&app.database_url).await.expect("store");
        let now = app.clock.now();
        let create = |code: &'static str, days: i64, uses: i64, org: Option<OrgRef>| {
            let store = store.clone();
            async move {
                guildhall::service::billing::create_voucher(&*store, code, VoucherValue::Amount(500), (now + Duration::days(days)).date_naive(), uses, org.as_ref(), &guildhall::service::billing::Operator { account: "test-operator", now: now.min(now + Duration::days(days)) }).await.expect("voucher");
            }
        };
        // Made while it was still valid: a voucher is never created already past.
        create("EXPIRED1", -1, 5, None).await;
        create("RIVALONLY", 30, 5, Some(OrgRef::parse(&w.rival.id))).await;
        create("ONCE", 30, 1, None).await;
        create("MINE", 30, 5, None).await;
        // `ONCE` is used up by the rival organization; `MINE` is already redeemed by acme.
        app.post(&format!("/api/v1/orgs/{}/billing/vouchers", w.rival.id), &w.outsider.token, json!({ "code": "ONCE" })).await.expect(201);
        app.post(&format!("/api/v1/orgs/{acme}/billing/vouchers"), &w.owner.token, json!({ "code": "MINE" })).await.expect(201);

        let mut watch = w.watch();
        watch.get("acme billing", &w.owner.token, &format!("/api/v1/orgs/{acme}/billing"));
        watch.get("rival billing", &w.outsider.token, &format!("/api/v1/orgs/{}/billing", w.rival.id));
        watch.get("web plan", &w.owner.token, &format!("/api/v1/orgs/{acme}/projects/web/plan"));
        watch.get("acme invoices", &w.owner.token, &format!("/api/v1/orgs/{acme}/billing/invoices"));

        let plan = format!("/api/v1/orgs/{acme}/projects/web/plan");
        let billing = format!("/api/v1/orgs/{acme}/billing");
        let vouchers = format!("/api/v1/orgs/{acme}/billing/vouchers");
        let card = "4111 1111 1111 1111";
        let mut cases = vec![
            Case::json(Method::PUT, &plan, json!({ "tier": "pro", "storage_gb": -1 })).invalid("storage_gb"),
            Case::json(Method::PUT, &plan, json!({ "tier": "pro", "licenses": -5, "environments": -1 })).invalid("licenses").field("environments"),
            Case::json(Method::PUT, &plan, json!({ "tier": "platinum" })).invalid("tier"),
            Case::json(Method::PUT, &plan, json!({ "tier": "" })).invalid("tier"),
            Case::json(Method::PUT, &plan, json!({ "tier": "starter", "storage_gb": 51 })).expect(422, "plan_limit_exceeded").field("storage_gb"),
            Case::json(Method::PUT, &plan, json!({ "tier": "free", "environments": 1 })).expect(422, "plan_limit_exceeded").field("environments"),
            Case::json(Method::PUT, &plan, json!({ "tier": "pro", "licenses": 26 })).expect(422, "plan_limit_exceeded").field("licenses"),
            Case::json(Method::PUT, &plan, json!({ "tier": "pro", "storage_gb": "10" })).expect(400, "validation_failed"),
            Case::json(Method::PUT, &plan, json!({ "tier": "pro", "price": 0 })).expect(400, "validation_failed"),
            Case::json(Method::PUT, &plan, json!({ "tier": card })).expect(422, "card_number_refused").field("tier"),
            Case::json(Method::PUT, &plan, json!({ "tier": "pro", "storage_gb": 4_111_111_111_111_111u64 })).expect(422, "card_number_refused").field("storage_gb"),
            Case::json(Method::PUT, format!("/api/v1/orgs/{acme}/projects/nope/plan"), json!({ "tier": "pro" })).expect(404, "project_not_found"),
            Case::json(Method::PUT, &billing, with(&profile(), "name", json!(format!("card {card}")))).expect(422, "card_number_refused").field("name"),
            Case::json(Method::PUT, &billing, address_with("line1", json!("4111-1111-1111-1111"))).expect(422, "card_number_refused").field("address.line1"),
            Case::json(Method::PUT, &billing, address_with("city", json!("378282246310005"))).expect(422, "card_number_refused").field("address.city"),
            Case::json(Method::PUT, &billing, with(&profile(), "vat_number", json!("5555555555554444"))).expect(422, "card_number_refused").field("vat_number"),
            Case::json(Method::PUT, &billing, with(&profile(), "payment_method", json!({ "brand": "visa", "last4": "4111111111111111", "exp_month": 1, "exp_year": 2030 }))).expect(422, "card_number_refused").field("payment_method.last4"),
            Case::json(Method::PUT, &billing, with(&profile(), "payment_method", json!({ "brand": "visa", "last4": "1111", "exp_month": 1, "exp_year": 2030, "number": card }))).expect(422, "card_number_refused").field("payment_method.number"),
            Case::json(Method::PUT, &billing, with(&profile(), "payment_method", json!({ "brand": "visa", "last4": "1111", "exp_month": 1, "exp_year": 4_111_111_111_111_111u64 }))).expect(422, "card_number_refused").field("payment_method.exp_year"),
            Case::json(Method::PUT, &billing, with(&profile(), "4111111111111111", json!("x"))).expect(422, "card_number_refused"),
            Case::json(Method::PUT, &billing, with(&profile(), "vat_number", json!("DE12345678"))).expect(422, "vat_invalid").field("vat_number"),
            Case::json(Method::PUT, &billing, with(&profile(), "vat_number", json!("US123456789"))).expect(422, "vat_invalid").field("vat_number"),
            Case::json(Method::PUT, &billing, with(&profile(), "vat_number", json!("GR123456789"))).expect(422, "vat_invalid").field("vat_number"),
            Case::json(Method::PUT, &billing, with(&profile(), "vat_number", json!("ATX1234567"))).expect(422, "vat_invalid").field("vat_number"),
            Case::json(Method::PUT, &billing, with(&profile(), "currency", json!("USD"))).expect(422, "currency_unsupported").field("currency"),
            Case::json(Method::PUT, &billing, address_with("country", json!("France"))).invalid("address.country"),
            Case::json(Method::PUT, &billing, with(&profile(), "name", json!("  "))).invalid("name"),
            Case::json(Method::PUT, &billing, with(&profile(), "payment_method", json!({ "brand": "visa", "last4": "42", "exp_month": 13, "exp_year": 2030 }))).invalid("payment_method.last4").field("payment_method.exp_month"),
            Case::json(Method::PUT, &billing, with(&profile(), "extra", json!(1))).expect(400, "validation_failed"),
            Case::json(Method::POST, &vouchers, json!({ "code": "NOSUCHCODE" })).expect(422, "voucher_invalid"),
            Case::json(Method::POST, &vouchers, json!({ "code": "expired1" })).expect(422, "voucher_invalid"),
            Case::json(Method::POST, &vouchers, json!({ "code": "RIVALONLY" })).expect(422, "voucher_invalid"),
            Case::json(Method::POST, &vouchers, json!({ "code": "ONCE" })).expect(422, "voucher_invalid"),
            Case::json(Method::POST, &vouchers, json!({ "code": "" })).expect(422, "voucher_invalid"),
            Case::json(Method::POST, &vouchers, json!({ "code": "MINE" })).expect(409, "voucher_already_redeemed"),
            Case::json(Method::POST, &vouchers, json!({ "code": card })).expect(422, "card_number_refused").field("code"),
            Case::json(Method::POST, &vouchers, json!({ "code": "MINE", "org": "x" })).expect(400, "validation_failed"),
            Case::get(format!("/api/v1/orgs/{acme}/billing/invoices/not-an-id")).invalid("id"),
            Case::get(format!("/api/v1/orgs/{acme}/billing/invoices/00000000-0000-0000-0000-000000000000")).expect(404, "invoice_not_found"),
            Case::get(format!("/api/v1/orgs/{acme}/billing/invoices/00000000-0000-0000-0000-000000000000/pdf")).expect(404, "invoice_not_found"),
        ];
        // R12: to a non-member, acme's billing does not exist.
        for (m, path, body) in [
            (Method::GET, billing.clone(), None),
            (Method::PUT, billing.clone(), Some(profile())),
            (Method::POST, vouchers.clone(), Some(json!({ "code": "MINE" }))),
            (Method::GET, format!("{billing}/invoices"), None),
            (Method::PUT, plan.clone(), Some(json!({ "tier": "pro" }))),
        ] {
            let c = match body {
                Some(b) => Case::json(m, &path, b),
                None => Case::new(m, &path, crate::support::Body::None),
            };
            cases.push(c.with_token(&w.outsider.token).expect(404, "org_not_found"));
        }
        // R8: a member without `billing.read` gets 403, and without `plans.manage` cannot change plans.
        cases.push(Case::get(&billing).with_token(&w.member.token).expect(403, "forbidden"));
        cases.push(Case::json(Method::PUT, &billing, profile()).with_token(&w.member.token).expect(403, "forbidden"));
        cases.push(Case::json(Method::PUT, &plan, json!({ "tier": "pro" })).with_token(&w.member.token).expect(403, "forbidden"));
        run_cases(&app, Some(&w.owner.token), &watch, &cases).await;
    }
);
