//! Plans and billing (issue #6, R8): plans and their limits, the billing profile, vouchers,
//! invoices produced by the invoice run (prorated by day, idempotent) and their PDF.

use crate::both_stores;
use crate::common::{TestApp, TestUser};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use guildhall::clock::Clock as _;
use guildhall::domain::billing::{Catalog, Month, VoucherValue, format_amount};
use reqwest::Method;
use serde_json::{Value, json};

/// The store the app runs on, opened a second time, as the operator commands do.
pub async fn store_of(app: &TestApp) -> std::sync::Arc<dyn guildhall::store::Store> {
    guildhall::store::open(&app.database_url)
        .await
        .expect("store")
}

/// Runs the invoice run for `month` at the app's current time; returns how many it produced.
pub async fn generate(app: &TestApp, month: Month) -> u64 {
    generate_with(
        app,
        month,
        &guildhall::domain::invoicing::InvoiceTerms::default(),
    )
    .await
}

/// Runs the invoice run for `month` at the app's current time with the seller and VAT `terms`.
pub async fn generate_with(
    app: &TestApp,
    month: Month,
    terms: &guildhall::domain::invoicing::InvoiceTerms,
) -> u64 {
    let store = store_of(app).await;
    guildhall::service::billing::generate_invoices(
        &*store,
        &Catalog::default(),
        terms,
        month,
        app.clock.now(),
        |_, _| {},
    )
    .await
    .expect("invoice run")
    .created
}

/// Creates a voucher as the operator does.
pub async fn voucher(
    app: &TestApp,
    code: &str,
    value: VoucherValue,
    expires: NaiveDate,
    uses: i64,
) {
    let store = store_of(app).await;
    guildhall::service::billing::create_voucher(
        &*store,
        code,
        value,
        expires,
        uses,
        None,
        &guildhall::service::billing::Operator {
            account: "test-operator",
            now: app.clock.now(),
        },
    )
    .await
    .expect("voucher created");
}

/// Moves the app's clock to just after the end of `month`.
pub fn close_month(app: &TestApp, month: Month) {
    let gap = month.end() - app.clock.now();
    if gap > Duration::zero() {
        app.clock.advance(gap + Duration::hours(1));
    }
}

/// Signs `u` in again: moving the clock by days outlives sign-in sessions.
pub async fn relog(app: &TestApp, u: &mut TestUser) {
    u.token = app
        .sign_in(&u.email, crate::common::PASSWORD)
        .await
        .expect(201)
        .body["token"]
        .as_str()
        .expect("token")
        .to_owned();
}

pub async fn project(app: &TestApp, by: &TestUser, org: &str, name: &str) -> Value {
    app.post(
        &format!("/api/v1/orgs/{org}/projects"),
        &by.token,
        json!({ "name": name }),
    )
    .await
    .expect(201)
    .body
}

pub async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> crate::common::Resp {
    app.req(Method::PUT, path, Some(token), Some(body)).await
}

/// A valid billing profile.
pub fn profile() -> Value {
    json!({
        "name": "Acme SAS",
        "address": { "line1": "1 rue de la Paix", "postal_code": "75002", "city": "Paris", "country": "FR" },
        "vat_number": "FR AB 123456789",
        "currency": "EUR",
        "payment_method": { "brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2031 }
    })
}

/// The text of every page of a PDF, as a PDF reader extracts it: poppler's `pdftotext`, which
/// reads the embedded font's ToUnicode map as any reader does. Without it the test fails (never
/// skips) saying what to install.
pub fn pdf_text(bytes: &[u8]) -> String {
    lopdf::Document::load_mem(bytes).expect("a PDF lopdf can parse too");
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("invoice.pdf");
    std::fs::write(&path, bytes).expect("pdf written");
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "pdftotext could not be run ({e}): install poppler-utils \
                 (`apt-get install poppler-utils`; scripts/test.sh does) to run the PDF tests"
            )
        });
    assert!(out.status.success(), "pdftotext failed: {out:?}");
    String::from_utf8(out.stdout).expect("pdftotext gives UTF-8")
}

pub async fn pdf(app: &TestApp, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    let r = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("sent");
    let status = r.status().as_u16();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, ct, r.bytes().await.expect("body").to_vec())
}

both_stores!(
    async fn plans_start_on_the_default_tier_and_change_within_the_tier_limits(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        project(&app, &ada, slug, "web").await;
        let path = format!("/api/v1/orgs/{slug}/projects/web/plan");
        let plan = app.get(&path, &ada.token).await.expect(200).body;
        assert_eq!(plan["tier"], "free");
        assert_eq!((plan["storage_gb"].as_i64(), plan["environments"].as_i64(), plan["licenses"].as_i64()), (Some(1), Some(0), Some(1)));
        assert_eq!(plan["monthly_price"], 0);
        assert_eq!(plan["currency"], "EUR");

        // pro: 4900 + (60 − 50) GB × 20 + (4 − 3) env × 400 + (5 − 5) × 250.
        let changed = put(&app, &path, &ada.token, json!({ "tier": "pro", "storage_gb": 60, "environments": 4 })).await.expect(200).body;
        assert_eq!(changed["tier"], "pro");
        assert_eq!(changed["licenses"], 5);
        assert_eq!(changed["monthly_price"], 4900 + 200 + 400);
        assert_eq!(app.get(&path, &ada.token).await.expect(200).body, changed);

        let over = put(&app, &path, &ada.token, json!({ "tier": "starter", "storage_gb": 51 })).await.expect_problem(422, "plan_limit_exceeded");
        assert_eq!(over.body["errors"][0]["field"], "storage_gb");
        assert!(over.body["detail"].as_str().expect("detail").contains("50"), "names the limit: {}", over.body);
        put(&app, &path, &ada.token, json!({ "tier": "free", "environments": 1 })).await.expect_problem(422, "plan_limit_exceeded");
        put(&app, &path, &ada.token, json!({ "tier": "platinum" })).await.expect_problem(400, "validation_failed");
        put(&app, &path, &ada.token, json!({ "tier": "pro", "storage_gb": -1 })).await.expect_problem(400, "validation_failed");
        assert_eq!(app.get(&path, &ada.token).await.expect(200).body, changed, "refused changes change nothing");

        let audit = app.audit(&ada, slug).await;
        let changes: Vec<&Value> = audit.iter().filter(|e| e["action"] == "plan.changed").collect();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0]["data"]["before"]["tier"], "free");
        assert_eq!(changes[0]["data"]["after"]["tier"], "pro");
    }
);

/// An org with a project, an invoice, and one member per role to ask with.
struct R8World {
    owner: TestUser,
    slug: String,
    invoice: String,
    askers: Vec<(&'static str, TestUser)>,
}

async fn r8_world(app: &TestApp) -> R8World {
    let owner = app.user("Owner").await;
    let org = app.org(&owner, "Acme").await;
    let slug = org["slug"].as_str().expect("slug").to_owned();
    project(app, &owner, &slug, "web").await;
    let roles = format!("/api/v1/orgs/{slug}/roles");
    app.post(
        &roles,
        &owner.token,
        json!({ "name": "Accounts", "permissions": ["org.read", "projects.read", "billing.read"] }),
    )
    .await
    .expect(201);
    app.post(
        &roles,
        &owner.token,
        json!({ "name": "Planner", "permissions": ["org.read", "projects.read", "plans.manage"] }),
    )
    .await
    .expect(201);
    let mut askers = vec![("owner", owner.clone())];
    for role in [
        "admin",
        "manager",
        "developer",
        "billing",
        "member",
        "Accounts",
        "Planner",
    ] {
        let u = app.user(role).await;
        app.add(&owner, &slug, &u, &[role]).await.expect(201);
        askers.push((role, u));
    }
    askers.push(("non-member", app.user("Stranger").await));
    let month = Month::of(app.clock.now());
    close_month(app, month);
    assert_eq!(generate(app, month).await, 1);
    for (_, u) in &mut askers {
        relog(app, u).await;
    }
    let owner = askers[0].1.clone();
    let list = app
        .get(
            &format!("/api/v1/orgs/{slug}/billing/invoices"),
            &owner.token,
        )
        .await
        .expect(200)
        .body;
    let invoice = list["items"][0]["id"]
        .as_str()
        .expect("invoice id")
        .to_owned();
    R8World {
        owner,
        slug,
        invoice,
        askers,
    }
}

both_stores!(
    async fn r8_billing_is_visible_only_with_billing_read_from_every_built_in_and_custom_role(app) {
        let w = r8_world(&app).await;
        let far = (app.clock.now() + Duration::days(365)).date_naive();
        let base = format!("/api/v1/orgs/{}", w.slug);
        // (role, GET billing, PUT billing, invoices, invoice, pdf, redeem, plan: status, with prices)
        let expected: &[Row] = &[
            ("owner", 200, 200, 200, 200, 200, 201, 200, true),
            ("admin", 403, 403, 403, 403, 403, 403, 200, false),
            ("manager", 403, 403, 403, 403, 403, 403, 200, false),
            ("developer", 403, 403, 403, 403, 403, 403, 200, false),
            // `billing` holds no project reach (R11): the plan itself is out of sight.
            ("billing", 200, 200, 200, 200, 200, 201, 404, false),
            ("member", 403, 403, 403, 403, 403, 403, 404, false),
            ("Accounts", 200, 403, 200, 200, 200, 403, 200, true),
            ("Planner", 403, 403, 403, 403, 403, 403, 200, false),
            ("non-member", 404, 404, 404, 404, 404, 404, 404, false),
        ];
        for (i, &(role, get_b, put_b, list, one, pdf_s, redeem, plan, prices)) in expected.iter().enumerate() {
            let u = &w.askers.iter().find(|(r, _)| *r == role).expect("asker").1;
            let t = u.token.as_str();
            let code = |s: u16| match s {
                403 => "forbidden",
                404 => "org_not_found",
                _ => "",
            };
            let check = |label: &str, r: crate::common::Resp, want: u16| {
                if want >= 400 {
                    let c = if label == "plan" && want == 404 && role != "non-member" { "project_not_found" } else { code(want) };
                    r.expect_problem(want, c);
                } else {
                    assert_eq!(r.status.as_u16(), want, "{role} {label}: {:#}", r.body);
                }
            };
            check("get billing", app.get(&format!("{base}/billing"), t).await, get_b);
            check("put billing", put(&app, &format!("{base}/billing"), t, profile()).await, put_b);
            check("invoices", app.get(&format!("{base}/billing/invoices"), t).await, list);
            check("invoice", app.get(&format!("{base}/billing/invoices/{}", w.invoice), t).await, one);
            let (s, ct, bytes) = pdf(&app, &format!("{base}/billing/invoices/{}/pdf", w.invoice), t).await;
            assert_eq!(s, pdf_s, "{role} pdf");
            if s == 200 {
                assert_eq!(ct, "application/pdf");
                assert!(bytes.starts_with(b"%PDF-"));
            } else {
                assert!(!bytes.starts_with(b"%PDF-"), "{role} got a PDF");
            }
            let code_name = format!("R8CODE{i}");
            voucher(&app, &code_name, VoucherValue::Amount(100), far, 5).await;
            check("redeem", app.post(&format!("{base}/billing/vouchers"), t, json!({ "code": code_name })).await, redeem);
            let r = app.get(&format!("{base}/projects/web/plan"), t).await;
            let plan_body = r.body.clone();
            check("plan", r, plan);
            if plan == 200 {
                assert_eq!(plan_body.get("monthly_price").is_some(), prices, "{role} plan prices: {plan_body}");
                assert_eq!(plan_body.get("currency").is_some(), prices, "{role} plan currency: {plan_body}");
            }
        }
        // Only the two redemptions allowed happened, and the audit carries no card data.
        let billing = app.get(&format!("{base}/billing"), &w.owner.token).await.expect(200).body;
        let codes: Vec<&str> = billing["vouchers"].as_array().expect("vouchers").iter().map(|v| v["code"].as_str().expect("code")).collect();
        assert_eq!(codes, ["R8CODE0", "R8CODE4"]);
        let audit = app.audit(&w.owner, &w.slug).await;
        // What the events say (ids aside: a random UUID may well hold "4242").
        let said: Vec<&Value> = audit.iter().map(|e| &e["data"]).collect();
        let text = serde_json::to_string(&said).expect("json");
        assert!(!text.contains("4242") && !text.contains("rue de la Paix"), "no card data or address in the audit: {text}");
        let updates: Vec<&Value> = audit.iter().filter(|e| e["action"] == "billing.updated").collect();
        assert_eq!(updates.len(), 1, "the second identical profile changes nothing");
        assert_eq!(updates[0]["data"]["changed"], json!(["name", "address", "vat_number", "currency", "payment_method"]));
        assert_eq!(audit.iter().filter(|e| e["action"] == "voucher.redeemed").count(), 2);
        assert_eq!(audit.iter().filter(|e| e["action"] == "invoice.generated").count(), 1);
    }
);

/// One role's expected answers: (role, GET billing, PUT billing, invoices, invoice, pdf, redeem,
/// plan status, whether the plan shows prices).
type Row = (&'static str, u16, u16, u16, u16, u16, u16, u16, bool);

/// A plan as the owner saw it when it took effect.
struct Seen {
    project: String,
    since: DateTime<Utc>,
    price: i64,
}

/// The model: for each day of the month, the plan in force at the end of the day (or, for a
/// project deleted that day, the plan it had), priced `price × days / days_in_month` rounded
/// half up per plan period.
fn model_total(month: Month, seen: &[Seen], deleted: &[(String, DateTime<Utc>)]) -> i64 {
    let dim = month.days();
    let mut days_per: std::collections::BTreeMap<usize, i64> = Default::default();
    let mut day = month.first_day();
    while day < month.next().first_day() {
        let end = day
            .succ_opt()
            .expect("day")
            .and_hms_opt(0, 0, 0)
            .expect("t")
            .and_utc();
        let start = day.and_hms_opt(0, 0, 0).expect("t").and_utc();
        let projects: std::collections::BTreeSet<&str> =
            seen.iter().map(|s| s.project.as_str()).collect();
        for p in projects {
            let gone = deleted.iter().find(|(d, _)| d == p).map(|(_, t)| *t);
            let idx = match gone {
                Some(t) if t < start => None,
                // Deleted during the day: billed under the plan it had then.
                Some(t) if t < end => seen.iter().rposition(|s| s.project == p && s.since <= t),
                _ => seen.iter().rposition(|s| s.project == p && s.since < end),
            };
            if let Some(i) = idx {
                *days_per.entry(i).or_default() += 1;
            }
        }
        day = day.succ_opt().expect("day");
    }
    days_per
        .iter()
        .map(|(i, d)| {
            (i128::from(seen[*i].price) * i128::from(*d) * 2 + i128::from(dim))
                / (2 * i128::from(dim))
        })
        .map(|x| i64::try_from(x).expect("fits"))
        .sum()
}

both_stores!(
    async fn invoices_prorate_plan_changes_by_day_match_their_pdf_and_are_produced_once(app) {
        use rand::{Rng as _, SeedableRng as _};
        let mut rng = rand::rngs::StdRng::seed_from_u64(6);
        let mut ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug").to_owned();
        let month = Month::of(app.clock.now());
        let catalog = Catalog::default();
        let mut seen = Vec::new();
        let mut deleted = Vec::new();
        for name in ["api", "web", "tmp"] {
            project(&app, &ada, &slug, name).await;
            let plan = app.get(&format!("/api/v1/orgs/{slug}/projects/{name}/plan"), &ada.token).await.expect(200).body;
            seen.push(Seen { project: name.to_owned(), since: plan["since"].as_str().expect("since").parse().expect("time"), price: plan["monthly_price"].as_i64().expect("price") });
        }
        for step in 0..8 {
            app.clock.advance(Duration::hours(rng.gen_range(1..60)));
            relog(&app, &mut ada).await;
            let name = ["api", "web"][step % 2];
            let tier = &catalog.tiers[rng.gen_range(0..catalog.tiers.len())];
            let body = json!({
                "tier": tier.name,
                "storage_gb": rng.gen_range(0..=tier.max_storage_gb),
                "environments": rng.gen_range(0..=tier.max_environments),
                "licenses": rng.gen_range(0..=tier.max_licenses),
            });
            let plan = put(&app, &format!("/api/v1/orgs/{slug}/projects/{name}/plan"), &ada.token, body).await.expect(200).body;
            seen.push(Seen { project: name.to_owned(), since: plan["since"].as_str().expect("since").parse().expect("time"), price: plan["monthly_price"].as_i64().expect("price") });
            if step == 3 {
                put(&app, &format!("/api/v1/orgs/{slug}/projects/tmp/plan"), &ada.token, json!({ "tier": "enterprise" })).await.expect(200);
                let plan = app.get(&format!("/api/v1/orgs/{slug}/projects/tmp/plan"), &ada.token).await.expect(200).body;
                seen.push(Seen { project: "tmp".to_owned(), since: plan["since"].as_str().expect("since").parse().expect("time"), price: plan["monthly_price"].as_i64().expect("price") });
                app.delete(&format!("/api/v1/orgs/{slug}/projects/tmp"), &ada.token).await.expect(204);
                deleted.push(("tmp".to_owned(), app.clock.now()));
            }
        }
        let expected_subtotal = model_total(month, &seen, &deleted);

        // A 10% voucher and a 5.00 voucher, redeemed before the run, apply to this invoice.
        let far = (app.clock.now() + Duration::days(400)).date_naive();
        voucher(&app, "TENOFF", VoucherValue::Percent(10), far, 10).await;
        voucher(&app, "FIVE", VoucherValue::Amount(500), far, 10).await;
        let vouchers = format!("/api/v1/orgs/{slug}/billing/vouchers");
        app.post(&vouchers, &ada.token, json!({ "code": "tenoff" })).await.expect(201);
        app.post(&vouchers, &ada.token, json!({ "code": "FIVE" })).await.expect(201);

        close_month(&app, month);
        assert_eq!(generate(&app, month).await, 1);
        relog(&app, &mut ada).await;
        let list = app.get(&format!("/api/v1/orgs/{slug}/billing/invoices"), &ada.token).await.expect(200).body;
        let items = list["items"].as_array().expect("items");
        assert_eq!(items.len(), 1);
        let inv = &items[0];
        assert_eq!(inv["month"], month.to_string());
        assert_eq!(inv["status"], "open");
        assert_eq!(inv["currency"], "EUR");
        assert_eq!(inv["subtotal"], expected_subtotal, "invoice {inv:#}");
        let percent_off = (expected_subtotal * 10 * 2 + 100) / 200;
        let expected_total = (expected_subtotal - percent_off - 500).max(0);
        assert_eq!(inv["total"], expected_total);
        let lines = inv["lines"].as_array().expect("lines");
        let sum: i64 = lines.iter().map(|l| l["amount"].as_i64().expect("amount")).sum();
        assert_eq!(sum, expected_total, "the lines add up to the total");
        assert!(lines.iter().any(|l| l["description"].as_str().expect("d").starts_with("tmp:")), "the deleted project is billed for its days");
        let number = inv["number"].as_str().expect("number").to_owned();
        assert!(number.starts_with("INV-") && number.len() == 10, "{number}");

        // The JSON invoice and its PDF agree.
        let id = inv["id"].as_str().expect("id");
        assert_eq!(&app.get(&format!("/api/v1/orgs/{slug}/billing/invoices/{id}"), &ada.token).await.expect(200).body, inv);
        let (status, ct, bytes) = pdf(&app, &format!("/api/v1/orgs/{slug}/billing/invoices/{id}/pdf"), &ada.token).await;
        assert_eq!((status, ct.as_str()), (200, "application/pdf"));
        let text = pdf_text(&bytes);
        assert!(text.contains(&format!("Number: {number}")), "{text}");
        let total_at = text.find("Total EUR").expect("a total line");
        assert!(text[total_at..].contains(&format_amount(expected_total)), "total in {text}");
        for l in lines {
            let d = l["description"].as_str().expect("d");
            assert!(text.contains(&d[..d.len().min(40)]), "line `{d}` in {text}");
            assert!(text.contains(&format_amount(l["amount"].as_i64().expect("a"))), "amount of `{d}` in {text}");
        }

        // Producing the month again changes nothing; the vouchers are used up for this org.
        assert_eq!(generate(&app, month).await, 0);
        let again = app.get(&format!("/api/v1/orgs/{slug}/billing/invoices"), &ada.token).await.expect(200).body;
        assert_eq!(again["items"].as_array().expect("items").len(), 1);
        assert_eq!(again["items"][0]["number"], number.as_str());
        let billing = app.get(&format!("/api/v1/orgs/{slug}/billing"), &ada.token).await.expect(200).body;
        assert_eq!(billing["vouchers"], json!([]), "applied vouchers are no longer pending");
        app.post(&vouchers, &ada.token, json!({ "code": "FIVE" })).await.expect_problem(409, "voucher_already_redeemed");
        assert_eq!(app.audit(&ada, &slug).await.iter().filter(|e| e["action"] == "invoice.generated").count(), 1);
    }
);

both_stores!(
    async fn the_invoice_run_refuses_an_open_month_and_numbers_invoices_without_gaps(app) {
        let now = app.clock.now();
        let store = store_of(&app).await;
        let err = guildhall::service::billing::generate_invoices(&*store, &Catalog::default(), &Default::default(), Month::of(now), now, |_, _| {}).await;
        assert!(matches!(err, Err(guildhall::service::Error::Domain(guildhall::domain::DomainError::MonthNotClosed(_)))), "{err:?}");
        let mut slugs = Vec::new();
        for i in 0..3 {
            let u = app.user(&format!("U{i}")).await;
            let org = app.org(&u, "Org").await;
            let slug = org["slug"].as_str().expect("slug").to_owned();
            project(&app, &u, &slug, "p").await;
            slugs.push((u, slug));
        }
        // A renamed project's lines carry its new name.
        let (u0, s0) = &slugs[0];
        app.patch(&format!("/api/v1/orgs/{s0}/projects/p"), &u0.token, json!({ "name": "renamed" })).await.expect(200);
        let month = Month::of(now);
        close_month(&app, month);
        // Every organization with a plan period in the month gets one, here at a zero total
        // (the personal organizations have no project, so none).
        assert_eq!(generate(&app, month).await, 3);
        let mut numbers = Vec::new();
        let slugs_first = slugs[0].1.clone();
        for (u, slug) in &mut slugs {
            relog(&app, u).await;
            let list = app.get(&format!("/api/v1/orgs/{slug}/billing/invoices"), &u.token).await.expect(200).body;
            assert_eq!(list["items"][0]["total"], 0);
            let line = list["items"][0]["lines"][0]["description"].as_str().expect("line").to_owned();
            let want = if *slug == slugs_first { "renamed: free plan" } else { "p: free plan" };
            assert!(line.starts_with(want), "{line}");
            numbers.push(list["items"][0]["number"].as_str().expect("number").to_owned());
        }
        numbers.sort();
        assert_eq!(numbers, ["INV-000001", "INV-000002", "INV-000003"]);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_create_vouchers_and_refuse_an_open_month_with_exit_code_2() {
    use std::process::Command;
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("g.db").display());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_guildhall"))
            .args(args)
            .env("GUILDHALL_DATABASE_URL", &url)
            .env_remove("GUILDHALL_PLANS")
            .output()
            .expect("guildhall runs")
    };
    let this_month = Month::of(Utc::now()).to_string();
    let open = run(&["invoices", "generate", "--month", &this_month]);
    assert_eq!(open.status.code(), Some(2), "{open:?}");
    assert!(String::from_utf8_lossy(&open.stderr).contains("not over yet"));
    let bad = run(&["invoices", "generate", "--month", "2025-13"]);
    assert_eq!(bad.status.code(), Some(2));
    let closed = run(&["invoices", "generate", "--month", "2020-01"]);
    assert!(closed.status.success(), "{closed:?}");
    assert!(String::from_utf8_lossy(&closed.stderr).contains("0 invoice(s) produced"));

    let made = run(&[
        "vouchers",
        "create",
        "--code",
        "spring-25",
        "--percent",
        "15",
        "--expires",
        "2099-12-31",
        "--max-uses",
        "3",
    ]);
    assert!(made.status.success(), "{made:?}");
    assert_eq!(String::from_utf8_lossy(&made.stdout).trim(), "SPRING-25");
    let again = run(&[
        "vouchers",
        "create",
        "--code",
        "SPRING-25",
        "--amount",
        "100",
        "--expires",
        "2099-12-31",
    ]);
    assert_eq!(
        again.status.code(),
        Some(2),
        "a code exists once: {again:?}"
    );
    let both = run(&[
        "vouchers",
        "create",
        "--code",
        "X1X",
        "--amount",
        "100",
        "--percent",
        "5",
        "--expires",
        "2099-12-31",
    ]);
    assert!(!both.status.success());
    let pct = run(&[
        "vouchers",
        "create",
        "--code",
        "BIG",
        "--percent",
        "150",
        "--expires",
        "2099-12-31",
    ]);
    assert_eq!(pct.status.code(), Some(2));
    let store = guildhall::store::open(&url).await.expect("store");
    let mut tx = store.read().await.expect("tx");
    let v = tx
        .voucher("SPRING-25")
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(
        (v.value, v.max_uses, v.uses),
        (VoucherValue::Percent(15), 3, 0)
    );
    drop(tx);

    // A voucher dead on arrival is refused, naming today; a date in another format names the
    // one expected.
    let past = run(&[
        "vouchers",
        "create",
        "--code",
        "LATE",
        "--amount",
        "100",
        "--expires",
        "2025-12-31",
    ]);
    assert_eq!(past.status.code(), Some(2), "{past:?}");
    let said = String::from_utf8_lossy(&past.stderr);
    let today = Utc::now().date_naive().to_string();
    assert!(
        said.contains("--expires") && said.contains("past") && said.contains(&today),
        "{said}"
    );
    let format = run(&[
        "vouchers",
        "create",
        "--code",
        "FMT",
        "--amount",
        "100",
        "--expires",
        "30/06/2027",
    ]);
    assert_eq!(format.status.code(), Some(2), "{format:?}");
    let said = String::from_utf8_lossy(&format.stderr);
    assert!(
        said.contains("YYYY-MM-DD") && said.contains("2027-06-30"),
        "{said}"
    );

    // `vouchers list` shows what exists, and only that.
    let listed = run(&["vouchers", "list"]);
    assert!(listed.status.success(), "{listed:?}");
    let table = String::from_utf8_lossy(&listed.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "a header and one voucher: {table}");
    assert!(
        lines[0].starts_with("CODE") && lines[0].contains("EXPIRES"),
        "{table}"
    );
    for cell in ["SPRING-25", "15% off", "2099-12-31", "0/3", "any"] {
        assert!(lines[1].contains(cell), "`{cell}` in {table}");
    }

    // A closed month with a plan in it: produced once, then counted as already there.
    let last = Month::of(Utc::now()).previous();
    let mut tx = store.begin().await.expect("tx");
    let period = guildhall::domain::billing::PlanPeriod {
        project: uuid::Uuid::new_v4(),
        project_name: "web".to_owned(),
        plan: guildhall::domain::billing::PlanSpec {
            tier: "starter".to_owned(),
            storage_gb: 10,
            environments: 1,
            licenses: 2,
        },
        monthly_price: 900,
        from: last.start(),
        to: None,
        ended_by_delete: false,
    };
    let org = guildhall::domain::ids::OrgId(uuid::Uuid::new_v4());
    tx.open_plan_period(org, &period).await.expect("period");
    tx.commit_bookkeeping().await.expect("commit");
    let month = last.to_string();
    let first = run(&["invoices", "generate", "--month", &month]);
    assert!(
        String::from_utf8_lossy(&first.stderr).contains("1 invoice(s) produced, 0 already there"),
        "{first:?}"
    );
    let second = run(&["invoices", "generate", "--month", &month]);
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("0 invoice(s) produced, 1 already there"),
        "{second:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_invoices_the_previous_month_by_itself_at_start() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("g.db").display());
    // A project on `pro` through last month, written as the service would have.
    let store = guildhall::store::open(&url).await.expect("store");
    let last = Month::of(Utc::now()).previous();
    let org = guildhall::domain::ids::OrgId(uuid::Uuid::new_v4());
    let mut tx = store.begin().await.expect("tx");
    let period = guildhall::domain::billing::PlanPeriod {
        project: uuid::Uuid::new_v4(),
        project_name: "web".to_owned(),
        plan: guildhall::domain::billing::PlanSpec {
            tier: "pro".to_owned(),
            storage_gb: 50,
            environments: 3,
            licenses: 5,
        },
        monthly_price: 4900,
        from: last.start() - Duration::days(3),
        to: None,
        ended_by_delete: false,
    };
    tx.open_plan_period(org, &period).await.expect("period");
    tx.commit_bookkeeping().await.expect("commit");
    drop(store);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_guildhall"))
        .arg("serve")
        .env("GUILDHALL_LISTEN", format!("127.0.0.1:{port}"))
        .env("GUILDHALL_DATA_DIR", dir.path())
        .env("GUILDHALL_DATABASE_URL", &url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let store = guildhall::store::open(&url).await.expect("store");
    let mut found = None;
    for _ in 0..100 {
        let mut tx = store.read().await.expect("tx");
        if tx
            .invoice_exists(org, &last.to_string())
            .await
            .expect("read")
        {
            found = tx
                .invoices(org, None, 10)
                .await
                .expect("read")
                .into_iter()
                .next();
            break;
        }
        drop(tx);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    let invoice = found.expect("the server produced last month's invoice by itself");
    assert_eq!(
        (invoice.subtotal, invoice.total, invoice.number.as_str()),
        (4900, 4900, "INV-000001")
    );
}

both_stores!(
    async fn the_upcoming_invoice_shows_the_month_so_far_and_projected_and_is_what_the_run_produces(app) {
        use guildhall::domain::billing::prorate;
        let mut ada = app.user("Ada").await;
        let mut dev = app.user("Dev").await;
        let mut stranger = app.user("Stranger").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug").to_owned();
        app.add(&ada, &slug, &dev, &["developer"]).await.expect(201);
        project(&app, &ada, &slug, "web").await;
        put(&app, &format!("/api/v1/orgs/{slug}/projects/web/plan"), &ada.token, json!({ "tier": "pro" })).await.expect(200);
        let far = (app.clock.now() + Duration::days(400)).date_naive();
        voucher(&app, "UPTEN", VoucherValue::Percent(10), far, 10).await;
        app.post(&format!("/api/v1/orgs/{slug}/billing/vouchers"), &ada.token, json!({ "code": "UPTEN" })).await.expect(201);

        let path = format!("/api/v1/orgs/{slug}/billing/invoices/upcoming");
        let now = app.clock.now();
        let month = Month::of(now);
        let dim = month.days();
        let today = now.date_naive();
        let left = (month.next().first_day() - today).num_days();
        let up = app.get(&path, &ada.token).await.expect(200).body;
        assert_eq!(up["month"], month.to_string());
        assert_eq!(up["currency"], "EUR");
        assert_eq!(up["through"], today.to_string());
        assert_eq!(up["days_in_month"], dim);
        // The project moved to pro today: today is billed at pro, and the rest of the month too.
        let so_far = prorate(4900, 1, dim);
        let projected = prorate(4900, left, dim);
        assert_eq!(up["so_far"]["subtotal"], so_far, "{up:#}");
        assert_eq!(up["so_far"]["total"], so_far - prorate(so_far, 10, 100));
        assert_eq!(up["projected"]["subtotal"], projected, "{up:#}");
        assert_eq!(up["projected"]["total"], projected - prorate(projected, 10, 100));
        assert_eq!(up["projected"]["lines"][1]["code"], "UPTEN");
        assert!(up.get("number").is_none() && up.get("id").is_none(), "not numbered: {up}");

        // Reading it stores nothing and uses no voucher.
        assert_eq!(app.get(&path, &ada.token).await.expect(200).body, up);
        let list = app.get(&format!("/api/v1/orgs/{slug}/billing/invoices"), &ada.token).await.expect(200).body;
        assert_eq!(list["items"], json!([]));
        let billing = app.get(&format!("/api/v1/orgs/{slug}/billing"), &ada.token).await.expect(200).body;
        assert_eq!(billing["vouchers"][0]["code"], "UPTEN");

        // R8: without billing.read, 403; outside the organization, the same 404 as no organization.
        app.get(&path, &dev.token).await.expect_problem(403, "forbidden");
        app.get(&path, &stranger.token).await.expect_problem(404, "org_not_found");

        // Once the month is over, the run produces what was projected.
        close_month(&app, month);
        assert_eq!(generate(&app, month).await, 1);
        relog(&app, &mut ada).await;
        let list = app.get(&format!("/api/v1/orgs/{slug}/billing/invoices"), &ada.token).await.expect(200).body;
        let inv = &list["items"][0];
        assert_eq!(inv["subtotal"], up["projected"]["subtotal"]);
        assert_eq!(inv["total"], up["projected"]["total"]);
        assert_eq!(inv["lines"], up["projected"]["lines"]);
        // The next month starts over, with the voucher used.
        let next = app.get(&path, &ada.token).await.expect(200).body;
        assert_eq!(next["month"], month.next().to_string());
        assert_eq!(next["projected"]["subtotal"], 4900);
        assert_eq!(next["projected"]["total"], 4900, "the voucher went to the closed month");
        relog(&app, &mut dev).await;
        relog(&app, &mut stranger).await;
    }
);

both_stores!(
    async fn the_plan_catalog_lists_every_tier_with_its_prices_and_limits(app) {
        let ada = app.user("Ada").await;
        let plans = app.get("/api/v1/plans", &ada.token).await.expect(200).body;
        let items = plans["items"].as_array().expect("items");
        let catalog = Catalog::default();
        let names: Vec<&str> = items.iter().map(|t| t["name"].as_str().expect("name")).collect();
        assert_eq!(names, catalog.tiers.iter().map(|t| t.name.as_str()).collect::<Vec<_>>());
        assert_eq!(plans["next_cursor"], Value::Null);
        let pro = items.iter().find(|t| t["name"] == "pro").expect("pro");
        assert_eq!(pro["currency"], "EUR");
        assert_eq!(pro["monthly_price"], 4900);
        assert_eq!(pro["included"], json!({ "storage_gb": 50, "environments": 3, "licenses": 5 }));
        assert_eq!(pro["limits"], json!({ "storage_gb": 500, "environments": 10, "licenses": 25 }));
        assert_eq!(pro["unit_prices"], json!({ "storage_gb": 20, "environments": 400, "licenses": 250 }));
        let defaults: Vec<&str> = items.iter().filter(|t| t["default"] == true).map(|t| t["name"].as_str().expect("n")).collect();
        assert_eq!(defaults, ["free"]);
        app.get("/api/v1/plans", "").await.expect_problem(401, "unauthenticated");
    }
);
