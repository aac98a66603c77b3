//! Sign-up, sign-in and API tokens: missing fields, wrong types, bad names, emails, passwords,
//! permissions, organizations and dates, and token ids that are not ids.

use crate::both_stores;
use crate::common::PASSWORD;
use crate::support::{Case, NIL, chars, run_cases, with, without, world};
use reqwest::Method;
use serde_json::{Value, json};

/// Email addresses the server must refuse.
pub fn bad_emails() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        "   ",
        "ada",
        "ada@",
        "@example.com",
        "ada@localhost",
        "a b@example.com",
        "ada@@example.com",
        "ada@example..com",
        "Ada <ada@example.com>",
        "ada@[127.0.0.1]",
        "ada@example.com, bob@example.com",
        "ada\u{0}@example.com",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    v.push(format!("{}@example.com", chars('a', 250)));
    v.push(chars('a', 5_000));
    v
}

/// Display and organization names the server must refuse (each: 1 to 100 characters after
/// trimming, no control characters).
pub fn bad_names() -> Vec<(&'static str, String)> {
    vec![
        ("empty", String::new()),
        ("blank", "   ".into()),
        ("only a tab and newline", "\t\n".into()),
        ("5,000 characters", chars('x', 5_000)),
        ("101 characters", chars('x', 101)),
        ("101 two-byte characters", chars('é', 101)),
        ("a bell character", "ring\u{7}bell".into()),
        ("a NUL character", "nul\u{0}name".into()),
        ("a line break", "two\nlines".into()),
        ("an escape sequence", "\u{1b}[31mred".into()),
        // Issue 15: what would make a name read differently from what it is.
        ("a right-to-left override", "Acme\u{202E}gnp.exe".into()),
        ("a left-to-right isolate", "Ac\u{2066}me\u{2069}".into()),
        ("a zero-width space", "Ac\u{200B}me".into()),
        ("a zero-width joiner", "Ac\u{200D}me".into()),
        ("a byte order mark", "\u{FEFF}Acme".into()),
        ("a soft hyphen", "Ac\u{AD}me".into()),
        ("a variation selector", "Acme\u{FE0F}".into()),
        ("a tag character", "Acme\u{E0041}".into()),
        ("a line separator", "two\u{2028}lines".into()),
    ]
}

both_stores!(
    async fn sign_up_refuses_bad_input_and_creates_no_account(app) {
        let w = world(&app).await;
        let email = "newcomer@example.com";
        let base = json!({ "email": email, "password": PASSWORD, "name": "Newcomer" });
        let post = |body: Value| Case::json(Method::POST, "/api/v1/users", body);
        let mut cases = vec![
            post(without(&base, "email")).expect(400, "validation_failed"),
            post(without(&base, "password")).expect(400, "validation_failed"),
            post(without(&base, "name")).expect(400, "validation_failed"),
            post(json!({})).expect(400, "validation_failed"),
            post(with(&base, "email", json!(42))).expect(400, "validation_failed"),
            post(with(&base, "email", Value::Null)).expect(400, "validation_failed"),
            post(with(&base, "email", json!([email]))).expect(400, "validation_failed"),
            post(with(&base, "password", json!(12_345_678))).expect(400, "validation_failed"),
            post(with(&base, "password", Value::Null)).expect(400, "validation_failed"),
            post(with(&base, "name", json!({ "first": "New" }))).expect(400, "validation_failed"),
            post(with(&base, "name", json!(true))).expect(400, "validation_failed"),
            post(with(&base, "role", json!("admin"))).expect(400, "validation_failed"),
            post(with(&base, "personal_org", json!(false))).expect(400, "validation_failed"),
            post(with(&base, "id", json!(NIL))).expect(400, "validation_failed"),
            post(with(&base, "password", json!("seven77"))).invalid("password"),
            post(with(&base, "password", json!(""))).invalid("password"),
            post(with(&base, "password", json!(chars('p', 1_025)))).invalid("password"),
            post(json!({ "email": "nope", "password": "short", "name": "" }))
                .invalid("email")
                .field("password")
                .field("name")
                .labelled("every field wrong names every field"),
            // Taken (compared case-insensitively): a conflict, and nothing changes either.
            post(with(&base, "email", json!(w.owner.email))).expect(409, "email_taken"),
            post(with(&base, "email", json!(w.owner.email.to_uppercase()))).expect(409, "email_taken"),
            post(with(&base, "email", json!(format!("  {}  ", w.member.email)))).expect(409, "email_taken"),
        ];
        for e in bad_emails() {
            cases.push(post(with(&base, "email", json!(e))).invalid("email"));
        }
        for (what, name) in bad_names() {
            cases.push(post(with(&base, "name", json!(name))).invalid("name").labelled(what));
        }
        run_cases(&app, None, &w.watch(), &cases).await;
        // No bad request left an account behind: the address is still free.
        app.req(Method::POST, "/api/v1/users", None, Some(base)).await.expect(201);
        let t = app.sign_in(email, PASSWORD).await.expect(201).body["token"].as_str().expect("token").to_owned();
        let orgs = app.get("/api/v1/orgs", &t).await.expect(200).body;
        assert_eq!(orgs["items"].as_array().expect("items").len(), 1, "exactly one personal org: {orgs:#}");
    }
);

both_stores!(
    async fn sign_in_refuses_bad_input_without_counting_it_as_failures(app) {
        let w = world(&app).await;
        let base = json!({ "email": w.owner.email, "password": PASSWORD });
        let post = |body: Value| Case::json(Method::POST, "/api/v1/sessions", body);
        let mut cases = vec![
            post(without(&base, "email")).expect(400, "validation_failed"),
            post(without(&base, "password")).expect(400, "validation_failed"),
            post(json!({})).expect(400, "validation_failed"),
            post(with(&base, "email", json!(42))).expect(400, "validation_failed"),
            post(with(&base, "email", Value::Null)).expect(400, "validation_failed"),
            post(with(&base, "password", Value::Null)).expect(400, "validation_failed"),
            post(with(&base, "password", json!(["x"]))).expect(400, "validation_failed"),
            post(with(&base, "password", json!(12_345_678))).expect(400, "validation_failed"),
            post(with(&base, "remember_me", json!(true))).expect(400, "validation_failed"),
            post(with(&base, "otp", json!("123456"))).expect(400, "validation_failed"),
            post(with(&base, "name", json!("Owen"))).expect(400, "validation_failed"),
        ];
        for e in bad_emails() {
            cases.push(post(with(&base, "email", json!(e))).invalid("email"));
        }
        // More bad requests than the free failures of one client address (20) and of one
        // email (5): had any counted as a failed sign-in, the next sign-in would get 429.
        assert!(cases.len() > 20, "{} cases", cases.len());
        run_cases(&app, None, &w.watch(), &cases).await;
        app.sign_in(&w.owner.email, PASSWORD).await.expect(201);
    }
);

both_stores!(
    async fn token_creation_refuses_bad_input_and_mints_nothing(app) {
        let w = world(&app).await;
        let base = json!({ "name": "deploy", "org": w.acme.slug, "permissions": ["org.read"] });
        let post = |body: Value| Case::json(Method::POST, "/api/v1/tokens", body);
        let mut cases = vec![
            post(without(&base, "name")).expect(400, "validation_failed"),
            post(with(&base, "name", Value::Null)).expect(400, "validation_failed"),
            post(with(&base, "name", json!(42))).expect(400, "validation_failed"),
            post(with(&base, "org", json!(42))).expect(400, "validation_failed"),
            post(with(&base, "org", json!([w.acme.slug]))).expect(400, "validation_failed"),
            post(with(&base, "permissions", json!("org.read"))).expect(400, "validation_failed"),
            post(with(&base, "permissions", json!([42]))).expect(400, "validation_failed"),
            post(with(&base, "permissions", json!({ "org.read": true }))).expect(400, "validation_failed"),
            post(with(&base, "permissions", json!(["org.destroy"]))).invalid("permissions[0]"),
            post(with(&base, "permissions", json!(["org.read", "ORG.READ"]))).invalid("permissions[1]"),
            post(with(&base, "permissions", json!(["org.read", "members.*"]))).invalid("permissions[1]"),
            post(with(&base, "permissions", json!([""]))).invalid("permissions[0]"),
            post(with(&base, "permissions", json!([" org.read"]))).invalid("permissions[0]"),
            post(with(&base, "permissions", json!([chars('p', 5_000)]))).invalid("permissions[0]"),
            post(with(&base, "permissions", json!(vec!["org.read"; 51]))).invalid("permissions"),
            post(with(&base, "permissions", json!(["project.deploy"])))
                .invalid("permissions[0]")
                .labelled("a project-scope permission is not an organization permission"),
            post(with(&base, "expires_at", json!("tomorrow"))).expect(400, "validation_failed"),
            post(with(&base, "expires_at", json!("2031-01-01"))).expect(400, "validation_failed"),
            post(with(&base, "expires_at", json!(""))).expect(400, "validation_failed"),
            post(with(&base, "expires_at", json!(1_900_000_000))).expect(400, "validation_failed"),
            post(with(&base, "expires_at", json!("2031-02-30T00:00:00Z"))).expect(400, "validation_failed"),
            post(with(&base, "expires_at", json!("2001-01-01T00:00:00Z"))).invalid("expires_at"),
            post(with(&base, "scopes", json!(["org.read"]))).expect(400, "validation_failed"),
            post(with(&base, "token", json!("gldh_pat_mine"))).expect(400, "validation_failed"),
            post(with(&base, "user", json!(w.outsider.id))).expect(400, "validation_failed"),
            post(json!({ "name": "", "permissions": ["nope"] }))
                .invalid("name")
                .field("permissions[0]")
                .labelled("every field wrong names every field"),
            // Organizations the caller is not in do not exist (R12).
            post(with(&base, "org", json!("no-such-org"))).expect(404, "org_not_found"),
            post(with(&base, "org", json!(NIL))).expect(404, "org_not_found"),
            post(with(&base, "org", json!(w.rival.slug))).expect(404, "org_not_found"),
            post(with(&base, "org", json!(w.rival.id))).expect(404, "org_not_found"),
        ];
        for (what, name) in bad_names() {
            cases.push(post(with(&base, "name", json!(name))).invalid("name").labelled(what));
        }
        run_cases(&app, Some(&w.owner.token), &w.watch(), &cases).await;
    }
);

both_stores!(
    async fn token_revocation_refuses_ids_that_are_not_ids_or_not_mine(app) {
        let w = world(&app).await;
        let del = |id: &str| Case::delete(format!("/api/v1/tokens/{id}"));
        let cases = vec![
            del("not-a-uuid").invalid("id"),
            del("123").invalid("id"),
            del(&NIL[..35]).invalid("id"),
            del("zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz").invalid("id"),
            del(&format!("{}0", w.owner_token_id)).invalid("id"),
            del("%20").invalid("id"),
            del(&chars('7', 5_000)).invalid("id"),
            del(NIL).expect(404, "token_not_found"),
            del("5b1c2c52-3d1e-4b8f-9a4e-6f2d7c9e0a11").expect(404, "token_not_found"),
            del(&w.outsider_token_id).expect(404, "token_not_found").labelled("someone else's token"),
        ];
        run_cases(&app, Some(&w.owner.token), &w.watch(), &cases).await;
        // Otto's token still works.
        app.get("/api/v1/me", &w.outsider_token_secret).await.expect(200);
    }
);
