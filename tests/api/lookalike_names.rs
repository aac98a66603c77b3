//! Issue 15, R1, R14: names that look alike are one name, and names that would read differently
//! from what they are (bidirectional controls, zero-width characters, the byte order mark) are
//! refused with a message naming the character. Organizations (unique across the server),
//! projects, groups and custom roles (unique in their organization), display names.

use crate::both_stores;
use crate::common::{PASSWORD, Resp, TestApp, TestUser};
use reqwest::Method;
use serde_json::{Value, json};

const FULLWIDTH_ACME: &str = "\u{FF21}\u{FF23}\u{FF2D}\u{FF25}";

async fn create_org(app: &TestApp, by: &TestUser, name: &str) -> Resp {
    app.post("/api/v1/orgs", &by.token, json!({ "name": name }))
        .await
}

/// A 400 naming `name` and saying which character it must not hold.
#[track_caller]
fn assert_refused_naming(r: Resp, character: &str) {
    let body = r.expect_problem(400, "validation_failed").body;
    assert_eq!(body["errors"][0]["field"], "name", "{body:#}");
    let detail = body["detail"].as_str().expect("detail");
    assert!(detail.contains(character), "{detail}");
    assert!(detail.contains("remove it"), "{detail}");
}

/// Invisible and reordering characters, and how the answer names each.
const INVISIBLE: &[(&str, &str)] = &[
    ("Acme\u{202E}gnp.exe", "U+202E (right-to-left override)"),
    ("Ac\u{200B}me", "U+200B (zero width space)"),
    ("\u{FEFF}Acme", "U+FEFF (byte order mark)"),
];

both_stores!(
    async fn r14_names_with_bidi_controls_zero_width_characters_or_a_bom_are_refused(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug").to_owned();
        for (name, character) in INVISIBLE {
            assert_refused_naming(create_org(&app, &ada, name).await, character);
            assert_refused_naming(app.patch(&format!("/api/v1/orgs/{slug}"), &ada.token, json!({ "name": name })).await, character);
            for kind in ["projects", "groups"] {
                assert_refused_naming(app.post(&format!("/api/v1/orgs/{slug}/{kind}"), &ada.token, json!({ "name": name })).await, character);
            }
            let email = format!("{}@example.com", crate::common::unique("eve"));
            assert_refused_naming(
                app.req(Method::POST, "/api/v1/users", None, Some(json!({ "email": email, "password": PASSWORD, "name": name }))).await,
                character,
            );
        }
        assert_refused_naming(
            app.post(&format!("/api/v1/orgs/{slug}/roles"), &ada.token, json!({ "name": "Ops\u{200B}", "permissions": ["org.read"] })).await,
            "U+200B",
        );
        // Nothing was made or renamed.
        let mine = app.get("/api/v1/orgs", &ada.token).await.expect(200).body;
        assert_eq!(mine["items"].as_array().expect("items").len(), 2);
        assert_eq!(app.get(&format!("/api/v1/orgs/{slug}"), &ada.token).await.expect(200).body["name"], org["name"]);
        for kind in ["projects", "groups", "roles"] {
            let listed = app.get(&format!("/api/v1/orgs/{slug}/{kind}"), &ada.token).await.expect(200).body;
            let items = listed["items"].as_array().or(listed.as_array()).cloned().unwrap_or_default();
            assert!(items.iter().all(|i| i["name"].as_str().is_none_or(|n| n.is_ascii())), "{kind}: {listed:#}");
        }
    }
);

both_stores!(
    async fn r1_organization_names_that_look_alike_are_taken(app) {
        let ada = app.user("Ada").await;
        let bob = app.user("Bob").await;
        create_org(&app, &ada, "ACME").await.expect(201);
        create_org(&app, &ada, "Caf\u{E9} Cr\u{E8}me").await.expect(201);
        for look_alike in [
            FULLWIDTH_ACME,
            "\u{FF41}\u{FF43}\u{FF4D}\u{FF45}",
            "acme",
            "Cafe\u{301} Cre\u{300}me",
            "CAF\u{C9} CR\u{C8}ME",
            "caf\u{E9}\u{A0}cr\u{E8}me",
            "Caf\u{E9}   Cr\u{E8}me",
        ] {
            let r = create_org(&app, &bob, look_alike).await.expect_problem(409, "name_taken");
            assert!(r.body["detail"].as_str().expect("detail").contains("is taken"), "{:#}", r.body);
        }
        // Renaming onto a look-alike is refused too.
        let other = create_org(&app, &bob, "Other").await.expect(201).body;
        let id = other["id"].as_str().expect("id");
        app.patch(&format!("/api/v1/orgs/{id}"), &bob.token, json!({ "name": FULLWIDTH_ACME })).await.expect_problem(409, "name_taken");
        // A name typed decomposed is kept composed (NFC), as typed otherwise.
        let nfd = create_org(&app, &bob, "Cre\u{300}me Bru\u{302}le\u{301}e").await.expect(201).body;
        assert_eq!(nfd["name"], "Cr\u{E8}me Br\u{FB}l\u{E9}e");
        let wide = create_org(&app, &bob, "\u{FF27}lobex").await.expect(201).body;
        assert_eq!(wide["name"], "\u{FF27}lobex");
        // Searching compares the same way.
        let found = app.get("/api/v1/orgs?q=%EF%BC%A7LOB", &bob.token).await.expect(200).body;
        let names: Vec<&str> = found["items"].as_array().expect("items").iter().filter_map(|o| o["name"].as_str()).collect();
        assert_eq!(names, ["\u{FF27}lobex"]);
    }
);

both_stores!(
    async fn project_group_and_role_names_that_look_alike_are_taken_in_their_organization(app) {
        let ada = app.user("Ada").await;
        let org = app.org(&ada, "Acme").await;
        let slug = org["slug"].as_str().expect("slug");
        let projects = format!("/api/v1/orgs/{slug}/projects");
        let web = app.post(&projects, &ada.token, json!({ "name": "Caf\u{E9}" })).await.expect(201).body;
        app.post(&projects, &ada.token, json!({ "name": "Cafe\u{301}" })).await.expect_problem(409, "project_name_taken");
        app.post(&projects, &ada.token, json!({ "name": "\u{FF23}\u{FF21}\u{FF26}\u{C9}" })).await.expect_problem(409, "project_name_taken");
        // Found by any look-alike of its name.
        let found: Value = app.get(&format!("{projects}/%EF%BC%A3AFE%CC%81"), &ada.token).await.expect(200).body;
        assert_eq!(found["id"], web["id"]);

        let groups = format!("/api/v1/orgs/{slug}/groups");
        app.post(&groups, &ada.token, json!({ "name": "Ops" })).await.expect(201);
        app.post(&groups, &ada.token, json!({ "name": "\u{FF2F}\u{FF30}\u{FF33}" })).await.expect_problem(409, "group_name_taken");

        let roles = format!("/api/v1/orgs/{slug}/roles");
        app.post(&roles, &ada.token, json!({ "name": "Deploy", "permissions": ["org.read"] })).await.expect(201);
        app.post(&roles, &ada.token, json!({ "name": "\u{FF24}eploy", "permissions": ["org.read"] })).await.expect_problem(409, "role_name_taken");
        // A fullwidth built-in role name is the built-in role's.
        let r = app.post(&roles, &ada.token, json!({ "name": "\u{FF41}\u{FF44}\u{FF4D}\u{FF49}\u{FF4E}", "permissions": ["org.read"] })).await;
        assert!(r.expect_problem(400, "validation_failed").body["detail"].as_str().expect("detail").contains("built-in"));

        // Another organization is another scope.
        let other = app.org(&ada, "Other").await;
        let other = other["slug"].as_str().expect("slug");
        app.post(&format!("/api/v1/orgs/{other}/projects"), &ada.token, json!({ "name": "Cafe\u{301}" })).await.expect(201);
    }
);
