//! Invoices a business can send (issue 16): the seller, buyer, dates and VAT (or the EU reverse
//! charge) kept with each invoice and printed in any script on its PDF, long lines wrapped, and
//! the invoice status (`paid`, `void`) set by the service token or the operator, audited.

use crate::billing::{close_month, generate_with, pdf, pdf_text, project, put, relog};
use crate::both_stores;
use crate::common::{SERVICE_TOKEN, TestApp, TestUser};
use chrono::Duration;
use guildhall::clock::Clock as _;
use guildhall::domain::billing::Month;
use guildhall::domain::invoicing::{InvoiceTerms, REVERSE_CHARGE_NOTE};
use reqwest::Method;
use serde_json::{Value, json};

/// A French seller charging 20 % VAT, invoices due in 14 days.
fn terms() -> InvoiceTerms {
    InvoiceTerms::new(
        Some("Guildhall Cloud SAS"),
        Some("12 avenue des Champs-Élysées; 75008 Paris; France"),
        Some("FR12345678901"),
        Some("20"),
        14,
    )
    .expect("terms")
}

/// An organization owned by a new user, with a billing profile made out to `name`.
async fn buyer(
    app: &TestApp,
    who: &str,
    name: &str,
    address: Value,
    vat: Option<&str>,
) -> (TestUser, String) {
    let u = app.user(who).await;
    let org = app.org(&u, &format!("{who} org")).await;
    let slug = org["slug"].as_str().expect("slug").to_owned();
    let profile = json!({
        "name": name,
        "address": address,
        "vat_number": vat,
        "currency": "EUR",
    });
    put(
        app,
        &format!("/api/v1/orgs/{slug}/billing"),
        &u.token,
        profile,
    )
    .await
    .expect(200);
    (u, slug)
}

/// The one invoice of `slug`.
async fn only_invoice(app: &TestApp, u: &TestUser, slug: &str) -> Value {
    let list = app
        .get(&format!("/api/v1/orgs/{slug}/billing/invoices"), &u.token)
        .await
        .expect(200)
        .body;
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{list:#}");
    items[0].clone()
}

/// The text of `slug`'s invoice `id` as pdftotext reads it, whitespace runs made one space.
async fn invoice_text(app: &TestApp, u: &TestUser, slug: &str, id: &str) -> (String, String) {
    let (status, ct, bytes) = pdf(
        app,
        &format!("/api/v1/orgs/{slug}/billing/invoices/{id}/pdf"),
        &u.token,
    )
    .await;
    assert_eq!((status, ct.as_str()), (200, "application/pdf"));
    // To look at the pages: GUILDHALL_TEST_PDF_DIR=/tmp/pdfs, then `pdftoppm -png`.
    if let Ok(dir) = std::env::var("GUILDHALL_TEST_PDF_DIR") {
        std::fs::create_dir_all(&dir).expect("pdf dir");
        std::fs::write(format!("{dir}/{slug}.pdf"), &bytes).expect("pdf kept");
    }
    let raw = pdf_text(&bytes);
    let flat = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    (raw, flat)
}

/// `POST /invoices/{id}/status` with `token`.
async fn status(app: &TestApp, id: &str, token: Option<&str>, to: &str) -> crate::common::Resp {
    app.req(
        Method::POST,
        &format!("/api/v1/invoices/{id}/status"),
        token,
        Some(json!({ "status": to })),
    )
    .await
}

both_stores!(
    async fn invoices_name_seller_buyer_due_date_and_vat_and_their_pdf_reads_back_in_every_script(app) {
        let (mut fr, fr_slug) = buyer(&app, "Sophie", "Société Générale",
            json!({ "line1": "29 boulevard Haussmann", "postal_code": "75009", "city": "Paris", "country": "FR" }),
            Some("FR98765432109")).await;
        let (mut el, el_slug) = buyer(&app, "Eleni", "Ελληνική Εταιρεία",
            json!({ "line1": "Οδός Ερμού 12", "postal_code": "105 63", "city": "Αθήνα", "country": "GR" }),
            Some("EL123456789")).await;
        let (mut ru, ru_slug) = buyer(&app, "Olga", "ООО Ромашка",
            json!({ "line1": "ул. Тверская, д. 7", "postal_code": "125009", "city": "Москва", "country": "RU" }),
            None).await;
        // A long project name makes a plan line longer than the description column.
        let long = "analytics-warehouse-ingestion-pipeline-for-the-europe-west-region";
        for (u, slug) in [(&fr, &fr_slug), (&el, &el_slug), (&ru, &ru_slug)] {
            project(&app, u, slug, long).await;
            // A paid tier from the month's first day, so there is VAT to charge.
            put(&app, &format!("/api/v1/orgs/{slug}/projects/{long}/plan"), &u.token, json!({ "tier": "pro" }))
                .await
                .expect(200);
        }
        let month = Month::of(app.clock.now());
        close_month(&app, month);
        let terms = terms();
        assert_eq!(generate_with(&app, month, &terms).await, 3);
        let today = app.clock.now().date_naive();
        let due = (today + Duration::days(14)).to_string();
        relog(&app, &mut fr).await;
        relog(&app, &mut el).await;
        relog(&app, &mut ru).await;

        // Same member state as the seller: VAT at the configured rate.
        let inv = only_invoice(&app, &fr, &fr_slug).await;
        assert_eq!(inv["seller"], json!({ "name": "Guildhall Cloud SAS",
            "address": ["12 avenue des Champs-Élysées", "75008 Paris", "France"], "vat_number": "FR12345678901" }));
        assert_eq!(inv["due_on"], due);
        assert_eq!(inv["status"], "open");
        assert_eq!(inv["status_changed_at"], Value::Null);
        let net = inv["tax"]["net"].as_i64().expect("net");
        let vat = (net * 2000 + 5000) / 10000;
        assert!(vat > 0, "{inv:#}");
        assert_eq!(inv["tax"], json!({ "rate_percent": "20", "amount": vat, "reverse_charge": false, "net": net }));
        assert_eq!(inv["total"], net + vat);
        let line = inv["lines"][0]["description"].as_str().expect("line").to_owned();
        assert!(line.starts_with(long) && line.ends_with("days)"), "{line}");
        let (raw, text) = invoice_text(&app, &fr, &fr_slug, inv["id"].as_str().expect("id")).await;
        for want in ["Société Générale", "29 boulevard Haussmann", "75009 Paris", "VAT number: FR98765432109",
            "Guildhall Cloud SAS", "12 avenue des Champs-Élysées", "VAT number: FR12345678901",
            &format!("Due date: {due}"), &format!("Invoice date: {today}"), "VAT 20%", "Total EUR"] {
            assert!(text.contains(want), "`{want}` in:\n{raw}");
        }
        // The long line is wrapped onto two lines, not cut: every word comes back, in order.
        assert!(!raw.contains("..."), "nothing is cut:\n{raw}");
        assert!(raw.lines().all(|l| l.trim() != line), "the line is wrapped:\n{raw}");
        assert!(text.contains(&line), "the whole line `{line}` in:\n{raw}");
        assert!(!text.contains(REVERSE_CHARGE_NOTE));

        // Another member state, both with VAT numbers: the reverse charge, VAT 0.
        let inv = only_invoice(&app, &el, &el_slug).await;
        assert_eq!(inv["tax"]["reverse_charge"], true);
        assert_eq!(inv["tax"]["amount"], 0);
        assert_eq!(inv["total"], inv["tax"]["net"]);
        let (raw, text) = invoice_text(&app, &el, &el_slug, inv["id"].as_str().expect("id")).await;
        for want in ["Ελληνική Εταιρεία", "Οδός Ερμού 12", "105 63 Αθήνα", "VAT number: EL123456789",
            "VAT 0% (reverse charge)", REVERSE_CHARGE_NOTE] {
            assert!(text.contains(want), "`{want}` in:\n{raw}");
        }

        // No VAT number: VAT at the configured rate, whatever the country.
        let inv = only_invoice(&app, &ru, &ru_slug).await;
        assert_eq!(inv["tax"]["reverse_charge"], false);
        assert_eq!(inv["tax"]["rate_percent"], "20");
        let (raw, text) = invoice_text(&app, &ru, &ru_slug, inv["id"].as_str().expect("id")).await;
        for want in ["ООО Ромашка", "ул. Тверская, д. 7", "125009 Москва", "RU", "VAT 20%"] {
            assert!(text.contains(want), "`{want}` in:\n{raw}");
        }
    }
);

both_stores!(
    async fn invoice_status_is_set_by_the_service_token_audited_and_paid_or_void_is_final(app) {
        let mut owners = Vec::new();
        for who in ["Paula", "Victor"] {
            let u = app.user(who).await;
            let org = app.org(&u, &format!("{who} org")).await;
            let slug = org["slug"].as_str().expect("slug").to_owned();
            project(&app, &u, &slug, "p").await;
            owners.push((u, slug));
        }
        let month = Month::of(app.clock.now());
        close_month(&app, month);
        assert_eq!(generate_with(&app, month, &terms()).await, 2);
        for (u, _) in &mut owners {
            relog(&app, u).await;
        }
        let (paula, p_slug) = &owners[0];
        let (victor, v_slug) = &owners[1];
        let paid = only_invoice(&app, paula, p_slug).await;
        let voided = only_invoice(&app, victor, v_slug).await;
        let paid_id = paid["id"].as_str().expect("id");

        // Only the service token: none is 401, a user's session or API token 403.
        status(&app, paid_id, None, "paid").await.expect_problem(401, "unauthenticated");
        status(&app, paid_id, Some(&paula.token), "paid").await.expect_problem(403, "service_token_required");
        status(&app, paid_id, Some(SERVICE_TOKEN), "open").await.expect_problem(400, "validation_failed");
        status(&app, paid_id, Some(SERVICE_TOKEN), "refunded").await.expect_problem(400, "validation_failed");
        status(&app, &uuid::Uuid::now_v7().to_string(), Some(SERVICE_TOKEN), "paid").await.expect_problem(404, "invoice_not_found");

        let r = status(&app, paid_id, Some(SERVICE_TOKEN), "paid").await.expect(200).body;
        assert_eq!(r["status"], "paid");
        assert!(r["status_changed_at"].is_string(), "{r:#}");
        // Again: nothing changes, nothing more is recorded.
        let again = status(&app, paid_id, Some(SERVICE_TOKEN), "paid").await.expect(200).body;
        assert_eq!(again["status_changed_at"], r["status_changed_at"]);
        status(&app, paid_id, Some(SERVICE_TOKEN), "void").await.expect_problem(409, "invoice_paid");

        // By number as well as by id; a void invoice is never paid.
        let number = voided["number"].as_str().expect("number");
        status(&app, number, Some(SERVICE_TOKEN), "void").await.expect(200);
        status(&app, number, Some(SERVICE_TOKEN), "paid").await.expect_problem(409, "invoice_void");

        let shown = only_invoice(&app, paula, p_slug).await;
        assert_eq!(shown["status"], "paid");
        assert_eq!(only_invoice(&app, victor, v_slug).await["status"], "void");
        let (_, text) = invoice_text(&app, paula, p_slug, paid_id).await;
        assert!(text.contains("Status: paid"), "{text}");

        let events: Vec<Value> = app.audit(paula, p_slug).await.into_iter()
            .filter(|e| e["action"] == "invoice.status_changed").collect();
        assert_eq!(events.len(), 1, "{events:#?}");
        assert_eq!(events[0]["actor_kind"], "system");
        assert_eq!(events[0]["actor_name"], "service token");
        assert_eq!(events[0]["target"]["id"], paid_id);
        assert_eq!(events[0]["data"]["before"], "open");
        assert_eq!(events[0]["data"]["after"], "paid");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_marks_invoices_paid_or_void_with_exit_code_4_on_a_final_status() {
    use std::process::Command;
    let app = crate::common::spawn_app(crate::common::Store::Sqlite).await;
    let u = app.user("Oscar").await;
    let org = app.org(&u, "Oscar org").await;
    let slug = org["slug"].as_str().expect("slug").to_owned();
    project(&app, &u, &slug, "p").await;
    let month = Month::of(app.clock.now());
    close_month(&app, month);
    assert_eq!(generate_with(&app, month, &terms()).await, 1);
    let mut u = u;
    relog(&app, &mut u).await;
    let inv = only_invoice(&app, &u, &slug).await;
    let number = inv["number"].as_str().expect("number").to_owned();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_guildhall"))
            .args(args)
            .env("GUILDHALL_DATABASE_URL", &app.database_url)
            .env("USER", "ops-alice")
            .output()
            .expect("guildhall runs")
    };
    let bad = run(&["invoices", "mark", &number, "open"]);
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    let missing = run(&["invoices", "mark", "INV-999999", "paid"]);
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    let voided = run(&["invoices", "mark", &number, "void"]);
    assert!(voided.status.success(), "{voided:?}");
    assert_eq!(
        String::from_utf8_lossy(&voided.stdout).trim(),
        format!("{number} void")
    );
    let paid = run(&["invoices", "mark", &number, "paid"]);
    assert_eq!(paid.status.code(), Some(4), "{paid:?}");
    assert!(
        String::from_utf8_lossy(&paid.stderr).contains("is void"),
        "{paid:?}"
    );

    assert_eq!(only_invoice(&app, &u, &slug).await["status"], "void");
    let events: Vec<Value> = app
        .audit(&u, &slug)
        .await
        .into_iter()
        .filter(|e| e["action"] == "invoice.status_changed")
        .collect();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["actor_kind"], "operator");
    assert_eq!(events[0]["actor_name"], "ops-alice");
}
