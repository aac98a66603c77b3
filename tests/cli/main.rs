//! The command line (SPEC §8): every test runs the real `guildhall` binary as a client of a real
//! `guildhall serve` on loopback (SQLite), with a fresh config directory, and asserts what it
//! printed, how it exited and what the server holds afterwards.

mod support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{Cli, Server};

/// Signs up `email`, logs a fresh client in as them, and answers both.
async fn person(server: &Server, email: &str) -> (Cli, String) {
    let token = server.sign_up(email).await;
    let cli = Cli::new();
    cli.login(server, email);
    (cli, token)
}

/// The roles the API says `email` holds in `org`.
async fn roles_of(server: &Server, token: &str, org: &str, email: &str) -> Vec<String> {
    let (status, body) = server
        .api(
            Method::GET,
            &format!("/orgs/{org}/members?limit=100"),
            token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["user"]["email"] == email)
        .map(|m| {
            m["roles"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn login_with_password_stdin_stores_a_private_session_that_logout_ends_on_the_server() {
    let server = Server::start().await;
    server.sign_up("ada@example.com").await;
    let cli = Cli::new();
    let run = cli.login(&server, "ada@example.com");
    assert!(run.stdout.contains("signed in"), "{run:?}");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(cli.credentials())
            .expect("the credentials file exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let me = cli.run(&["whoami", "--output", "json"]).ok().json();
    assert_eq!(me["email"], "ada@example.com");
    let table = cli.run(&["whoami"]).ok().stdout;
    assert!(
        table.contains("ada@example.com") && table.contains(&server.base),
        "{table}"
    );

    let token = cli.token();
    let (status, _) = server.api(Method::GET, "/me", &token, None).await;
    assert_eq!(status, 200);
    cli.run(&["logout"]).ok();
    let (status, _) = server.api(Method::GET, "/me", &token, None).await;
    assert_eq!(status, 401, "logout ends the session server-side");
    let after = cli.run(&["whoami"]);
    assert_eq!(after.code, 3, "{after:?}");
}

#[tokio::test]
async fn a_wrong_password_is_exit_3_with_the_problem_on_stderr() {
    let server = Server::start().await;
    server.sign_up("ada@example.com").await;
    let cli = Cli::new();
    let run = cli.run_with_stdin(
        &[
            "login",
            "--server",
            &server.base,
            "--email",
            "ada@example.com",
            "--password-stdin",
        ],
        "not the password\n",
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("401"), "{run:?}");
    assert!(!cli.credentials().exists());
}

#[tokio::test]
async fn a_credentials_file_others_can_read_is_refused_with_the_command_that_fixes_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let server = Server::start().await;
    let (cli, _) = person(&server, "ada@example.com").await;
    let path = cli.credentials();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let run = cli.run(&["whoami"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains(&format!("chmod 600 {}", path.display())),
        "{}",
        run.stderr
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    cli.run(&["whoami"]).ok();
}

#[tokio::test]
async fn guildhall_server_and_guildhall_token_override_the_credentials_file() {
    let server = Server::start().await;
    let token = server.sign_up("ada@example.com").await;
    let mut cli = Cli::new();
    assert_eq!(cli.run(&["whoami"]).code, 3, "signed out");
    cli.env = vec![
        ("GUILDHALL_SERVER".into(), server.base.clone()),
        ("GUILDHALL_TOKEN".into(), token),
    ];
    let me = cli.run(&["whoami", "-o", "json"]).ok().json();
    assert_eq!(me["email"], "ada@example.com");
    assert!(!cli.credentials().exists(), "nothing written");
}

#[tokio::test]
async fn an_unreachable_server_is_exit_1_naming_the_url_within_seconds() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut cli = Cli::new();
    let url = format!("http://127.0.0.1:{port}");
    cli.env = vec![
        ("GUILDHALL_SERVER".into(), url.clone()),
        ("GUILDHALL_TOKEN".into(), "gldh_pat_nothing".into()),
    ];
    let started = std::time::Instant::now();
    let run = cli.run(&["org", "list"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains(&url), "{}", run.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[tokio::test]
async fn usage_errors_are_exit_2() {
    let cli = Cli::new();
    assert_eq!(cli.run(&["org", "list", "--no-such-flag"]).code, 2);
    assert_eq!(
        cli.run(&["member", "set-roles", "someone"]).code,
        2,
        "--role is required"
    );
    assert_eq!(cli.run(&["org", "frobnicate"]).code, 2);
    assert_eq!(
        cli.run(&["check", "u", "org.read", "--org", "a", "--project", "p"])
            .code,
        2
    );
    let server = Server::start().await;
    let (cli, _) = person(&server, "ada@example.com").await;
    let run = cli.run(&["member", "list"]);
    assert_eq!(run.code, 2, "no --org and no `org switch`: {run:?}");
    assert!(run.stderr.contains("org switch"), "{}", run.stderr);
}

#[tokio::test]
async fn every_command_has_help_with_an_example() {
    let cli = Cli::new();
    let commands: &[&[&str]] = &[
        &["login"],
        &["logout"],
        &["whoami"],
        &["org", "list"],
        &["org", "create"],
        &["org", "show"],
        &["org", "rename"],
        &["org", "delete"],
        &["org", "leave"],
        &["org", "switch"],
        &["member", "list"],
        &["member", "add"],
        &["member", "set-roles"],
        &["member", "remove"],
        &["member", "permissions"],
        &["invite", "create"],
        &["invite", "list"],
        &["invite", "revoke"],
        &["invite", "resend"],
        &["invitation", "list"],
        &["invitation", "accept"],
        &["invitation", "decline"],
        &["role", "list"],
        &["role", "create"],
        &["role", "edit"],
        &["role", "delete"],
        &["group", "list"],
        &["group", "create"],
        &["group", "show"],
        &["group", "delete"],
        &["group", "add-member"],
        &["group", "remove-member"],
        &["group", "grant"],
        &["group", "revoke"],
        &["project", "list"],
        &["project", "create"],
        &["project", "show"],
        &["project", "delete"],
        &["project", "plan"],
        &["project", "member", "set"],
        &["project", "member", "remove"],
        &["transfer", "offer"],
        &["transfer", "show"],
        &["transfer", "cancel"],
        &["transfer", "accept"],
        &["transfer", "decline"],
        &["billing", "show"],
        &["billing", "set"],
        &["invoice", "list"],
        &["invoice", "show"],
        &["invoice", "download"],
        &["voucher", "redeem"],
        &["audit"],
        &["token", "create"],
        &["token", "list"],
        &["token", "revoke"],
        &["check"],
        &["completions"],
    ];
    for c in commands {
        let mut args = c.to_vec();
        args.push("--help");
        let run = cli.run(&args);
        assert_eq!(run.code, 0, "{c:?}: {run:?}");
        assert!(
            run.stdout.contains("Example"),
            "{c:?} --help has no example:\n{}",
            run.stdout
        );
    }
}

#[tokio::test]
async fn completions_are_printed_for_bash_zsh_and_fish() {
    let cli = Cli::new();
    for shell in ["bash", "zsh", "fish"] {
        let run = cli.run(&["completions", shell]).ok();
        assert!(run.stdout.contains("guildhall"), "{shell}");
        assert!(run.stdout.contains("set-roles"), "{shell} completes verbs");
    }
    assert_eq!(cli.run(&["completions", "tcsh"]).code, 2);
}

#[tokio::test]
async fn ci_script_login_create_invite_accept_from_the_mail_and_list_150_members_whole() {
    let server = Server::start().await;
    let owner_token = server.sign_up("owner@example.com").await;
    let ci = Cli::new();
    ci.login(&server, "owner@example.com");
    let org = ci
        .run(&["org", "create", "Acme Corp", "--slug", "acme", "-o", "json"])
        .ok()
        .json();
    assert_eq!(org["slug"], "acme");
    ci.run(&["org", "switch", "acme"]).ok();

    // Invite, then accept as the invitee with the token from the mail file.
    let id = ci
        .run(&[
            "invite",
            "create",
            "bob@example.com",
            "--role",
            "developer",
            "-q",
        ])
        .ok()
        .stdout;
    assert!(uuid::Uuid::parse_str(id.trim()).is_ok(), "{id}");
    let token = server
        .wait_token("bob@example.com", "/invitations/accept")
        .await;
    let (bob, _) = person(&server, "bob@example.com").await;
    let listed = bob.run(&["invitation", "list", "-o", "json"]).ok().json();
    assert_eq!(listed[0]["org"]["slug"], "acme");
    let accepted = bob
        .run(&[
            "invitation",
            "accept",
            &format!("http://guildhall.test/invitations/accept?token={token}"),
        ])
        .ok();
    assert!(accepted.stdout.contains("joined"), "{accepted:?}");
    assert_eq!(
        roles_of(&server, &owner_token, "acme", "bob@example.com").await,
        ["developer"]
    );

    // 150 more, registered and added through the API.
    for i in 0..150 {
        let (status, body) = server
            .api(
                Method::POST,
                "/orgs/acme/members",
                &owner_token,
                Some(json!({
                    "email": format!("m{i:03}@example.com"),
                    "name": format!("Member {i}"),
                    "roles": ["member"],
                    "register": true,
                })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let members = ci.run(&["member", "list", "--output", "json"]).ok().json();
    let members = members.as_array().expect("one JSON array");
    assert_eq!(members.len(), 152, "owner, bob and 150: cursors followed");
    let mut emails: Vec<&str> = members
        .iter()
        .filter_map(|m| m["user"]["email"].as_str())
        .collect();
    emails.sort_unstable();
    emails.dedup();
    assert_eq!(emails.len(), 152, "no member twice");
    let ids = ci.run(&["member", "list", "--quiet"]).ok().stdout;
    assert_eq!(ids.lines().count(), 152);
    assert!(ids.lines().all(|l| uuid::Uuid::parse_str(l).is_ok()));
    let table = ci.run(&["member", "list"]).ok().stdout;
    assert_eq!(table.lines().count(), 153, "a header and a row each");
    assert!(
        table
            .lines()
            .next()
            .is_some_and(|h| h.contains("EMAIL") && h.contains("ROLES"))
    );
}

#[tokio::test]
async fn org_create_list_show_rename_leave_and_delete() {
    let server = Server::start().await;
    let (ada, ada_token) = person(&server, "ada@example.com").await;
    let created = ada
        .run(&["org", "create", "Acme Corp", "--slug", "acme"])
        .ok();
    assert!(created.stdout.contains("acme"), "{created:?}");
    let taken = ada.run(&["org", "create", "acme corp"]);
    assert_eq!(taken.code, 4, "{taken:?}");
    assert!(taken.stderr.contains("taken"), "{}", taken.stderr);

    let list = ada.run(&["org", "list", "-o", "json"]).ok().json();
    assert_eq!(list.as_array().map(Vec::len), Some(2), "personal and acme");
    let table = ada.run(&["org", "list"]).ok().stdout;
    assert!(
        table.contains("SLUG") && table.contains("Acme Corp") && table.contains("owner"),
        "{table}"
    );
    let shown = ada.run(&["org", "show", "acme", "-o", "json"]).ok().json();
    assert_eq!(shown["owner"]["email"], "ada@example.com");
    assert_eq!(ada.run(&["org", "show", "nope"]).code, 3);

    ada.run(&[
        "org", "rename", "Acme Inc", "--slug", "acme-inc", "--org", "acme",
    ])
    .ok();
    let (status, body) = server
        .api(Method::GET, "/orgs/acme-inc", &ada_token, None)
        .await;
    assert_eq!((status, body["name"].clone()), (200, json!("Acme Inc")));

    // A member leaves; the owner cannot.
    server.sign_up("bob@example.com").await;
    server
        .api(
            Method::POST,
            "/orgs/acme-inc/members",
            &ada_token,
            Some(json!({"email": "bob@example.com", "roles": ["developer"]})),
        )
        .await;
    let bob = Cli::new();
    bob.login(&server, "bob@example.com");
    bob.run(&["org", "leave", "acme-inc"]).ok();
    assert!(
        roles_of(&server, &ada_token, "acme-inc", "bob@example.com")
            .await
            .is_empty()
    );
    assert_eq!(
        ada.run(&["org", "leave", "acme-inc"]).code,
        4,
        "R4: the owner transfers first"
    );

    // R5: not while a project remains.
    ada.run(&["project", "create", "api", "--org", "acme-inc"])
        .ok();
    let refused = ada.run(&["org", "delete", "acme-inc"]);
    assert_eq!(refused.code, 4, "{refused:?}");
    ada.run(&["project", "delete", "api", "--org", "acme-inc"])
        .ok();
    ada.run(&["org", "delete", "acme-inc"]).ok();
    let (status, _) = server
        .api(Method::GET, "/orgs/acme-inc", &ada_token, None)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn member_add_set_roles_permissions_and_remove_change_the_server() {
    let server = Server::start().await;
    let (ada, ada_token) = person(&server, "ada@example.com").await;
    ada.run(&["org", "create", "Acme", "--slug", "acme"]).ok();
    ada.run(&["org", "switch", "acme"]).ok();
    server.sign_up("bob@example.com").await;

    let added = ada
        .run(&[
            "member",
            "add",
            "bob@example.com",
            "--role",
            "developer",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(added["roles"], json!(["developer"]));
    let registered = ada
        .run(&[
            "member",
            "add",
            "new@example.com",
            "--register",
            "--name",
            "New",
            "--role",
            "member",
        ])
        .ok();
    assert!(registered.stdout.contains("registered"), "{registered:?}");
    assert_eq!(
        roles_of(&server, &ada_token, "acme", "new@example.com").await,
        ["member"]
    );

    let preview = ada
        .run(&[
            "member",
            "set-roles",
            "bob@example.com",
            "--role",
            "manager",
            "--dry-run",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(preview["roles_added"], json!(["manager"]));
    assert_eq!(
        roles_of(&server, &ada_token, "acme", "bob@example.com").await,
        ["developer"],
        "dry run"
    );

    ada.run(&[
        "member",
        "set-roles",
        "bob@example.com",
        "--role",
        "manager,billing",
    ])
    .ok();
    let mut roles = roles_of(&server, &ada_token, "acme", "bob@example.com").await;
    roles.sort();
    assert_eq!(roles, ["billing", "manager"]);
    let listed = ada.run(&["member", "list", "-o", "json"]).ok().json();
    let bob = listed
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["user"]["email"] == "bob@example.com");
    assert!(bob.is_some_and(|b| b["roles"].as_array().is_some_and(|r| r.len() == 2)));

    let perms = ada
        .run(&["member", "permissions", "bob@example.com"])
        .ok()
        .stdout;
    assert!(
        perms.contains("billing.read") && perms.contains("role billing"),
        "{perms}"
    );
    let quiet = ada
        .run(&["member", "permissions", "bob@example.com", "-q"])
        .ok()
        .stdout;
    assert!(quiet.lines().any(|l| l == "members.manage"), "{quiet}");

    let unknown = ada.run(&[
        "member",
        "set-roles",
        "nobody@example.com",
        "--role",
        "member",
    ]);
    assert_eq!(unknown.code, 3, "{unknown:?}");
    ada.run(&["member", "remove", "bob@example.com"]).ok();
    assert!(
        roles_of(&server, &ada_token, "acme", "bob@example.com")
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_member_who_cannot_invite_gets_exit_3_and_the_problems_detail() {
    let server = Server::start().await;
    let (ada, ada_token) = person(&server, "ada@example.com").await;
    ada.run(&["org", "create", "Acme", "--slug", "acme"]).ok();
    let (dev, dev_token) = person(&server, "dev@example.com").await;
    ada.run(&[
        "member",
        "add",
        "dev@example.com",
        "--role",
        "developer",
        "--org",
        "acme",
    ])
    .ok();

    let run = dev.run(&[
        "invite",
        "create",
        "eve@example.com",
        "--role",
        "member",
        "--org",
        "acme",
    ]);
    assert_eq!(run.code, 3, "{run:?}");
    let (status, problem) = server
        .api(
            Method::POST,
            "/orgs/acme/invitations",
            &dev_token,
            Some(json!({"email": "eve@example.com", "roles": ["member"]})),
        )
        .await;
    assert_eq!(status, 403);
    let detail = problem["detail"].as_str().expect("a detail");
    assert!(
        run.stderr.contains(detail),
        "stderr {:?} lacks {detail:?}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(problem["title"].as_str().unwrap_or("?")),
        "{}",
        run.stderr
    );
    let (_, invitations) = server
        .api(Method::GET, "/orgs/acme/invitations", &ada_token, None)
        .await;
    assert_eq!(invitations["items"], json!([]), "nothing sent");

    // R12: an organization I am not in does not exist.
    let (outsider, _) = person(&server, "out@example.com").await;
    assert_eq!(outsider.run(&["member", "list", "--org", "acme"]).code, 3);
}

#[tokio::test]
async fn invite_list_resend_revoke_and_invitation_decline() {
    let server = Server::start().await;
    let (ada, ada_token) = person(&server, "ada@example.com").await;
    ada.run(&["org", "create", "Acme", "--slug", "acme"]).ok();
    ada.run(&["org", "switch", "acme"]).ok();
    let id = ada
        .run(&[
            "invite",
            "create",
            "bob@example.com",
            "--role",
            "developer",
            "-q",
        ])
        .ok()
        .stdout;
    let id = id.trim();
    let first = server
        .wait_token("bob@example.com", "/invitations/accept")
        .await;
    let table = ada.run(&["invite", "list"]).ok().stdout;
    assert!(
        table.contains("bob@example.com") && table.contains("pending"),
        "{table}"
    );
    ada.run(&["invite", "resend", id]).ok();
    let mut second = first.clone();
    for _ in 0..100 {
        let tokens: Vec<String> = server
            .mails()
            .iter()
            .filter_map(|m| support::link_token(m, "/invitations/accept"))
            .collect();
        if let Some(t) = tokens.into_iter().find(|t| *t != first) {
            second = t;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_ne!(second, first, "resend mails a new token");

    let (bob, _) = person(&server, "bob@example.com").await;
    assert_eq!(
        bob.run(&["invitation", "accept", &first]).code,
        3,
        "the old token is dead"
    );
    bob.run(&["invitation", "decline", &second]).ok();
    let (_, list) = server
        .api(Method::GET, "/orgs/acme/invitations", &ada_token, None)
        .await;
    assert_eq!(list["items"][0]["state"], "declined");

    let other = ada
        .run(&[
            "invite",
            "create",
            "carol@example.com",
            "--role",
            "member",
            "-q",
        ])
        .ok()
        .stdout;
    ada.run(&["invite", "revoke", other.trim()]).ok();
    let listed = ada.run(&["invite", "list", "-o", "json"]).ok().json();
    let carol = listed
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["email"] == "carol@example.com");
    assert_eq!(carol.map(|c| c["state"].clone()), Some(json!("revoked")));
}

#[tokio::test]
async fn role_list_create_edit_delete() {
    let server = Server::start().await;
    let (ada, ada_token) = person(&server, "ada@example.com").await;
    ada.run(&["org", "create", "Acme", "--slug", "acme"]).ok();
    ada.run(&["org", "switch", "acme"]).ok();
    let table = ada.run(&["role", "list"]).ok().stdout;
    assert!(
        table.contains("developer") && table.contains("built-in"),
        "{table}"
    );
    ada.run(&[
        "role",
        "create",
        "accounting",
        "--permission",
        "billing.read,billing.manage",
    ])
    .ok();
    assert_eq!(
        ada.run(&[
            "role",
            "create",
            "accounting",
            "--permission",
            "billing.read"
        ])
        .code,
        4
    );
    assert_eq!(
        ada.run(&["role", "create", "x", "--permission", "no.such"])
            .code,
        2,
        "bad input"
    );
    ada.run(&[
        "role",
        "edit",
        "accounting",
        "--name",
        "finance",
        "--permission",
        "billing.read",
    ])
    .ok();
    let (_, roles) = server
        .api(Method::GET, "/orgs/acme/roles", &ada_token, None)
        .await;
    let finance = roles["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["name"] == "finance");
    assert!(
        finance.is_some_and(|r| r["permissions"].as_array().is_some_and(|p| p
            .contains(&json!("billing.read"))
            && !p.contains(&json!("billing.manage"))))
    );
    ada.run(&["role", "delete", "finance"]).ok();
    let listed = ada.run(&["role", "list", "-o", "json"]).ok().json();
    assert!(
        !listed
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["name"] == "finance")
    );
}

#[tokio::test]
async fn group_and_project_verbs_change_the_servers_grants() {
    let server = Server::start().await;
    let (ada, ada_token) = person(&server, "ada@example.com").await;
    ada.run(&["org", "create", "Acme", "--slug", "acme"]).ok();
    ada.run(&["org", "switch", "acme"]).ok();
    let (bob, _) = person(&server, "bob@example.com").await;
    ada.run(&["member", "add", "bob@example.com", "--role", "member"])
        .ok();

    ada.run(&["project", "create", "api"]).ok();
    assert_eq!(ada.run(&["project", "create", "api"]).code, 4);
    let shown = ada
        .run(&["project", "show", "api", "-o", "json"])
        .ok()
        .json();
    assert_eq!(shown["my_role"], "admin");
    assert_eq!(
        bob.run(&["project", "list", "-q", "--org", "acme"])
            .ok()
            .stdout,
        "",
        "R11: reaches nothing yet"
    );

    ada.run(&["group", "create", "backend"]).ok();
    ada.run(&["group", "add-member", "backend", "bob@example.com"])
        .ok();
    ada.run(&["group", "grant", "backend", "api", "--role", "contributor"])
        .ok();
    let group = ada
        .run(&["group", "show", "backend", "-o", "json"])
        .ok()
        .json();
    assert_eq!(group["members"][0]["email"], "bob@example.com");
    assert_eq!(group["projects"][0]["role"], "contributor");
    let table = ada.run(&["group", "show", "backend"]).ok().stdout;
    assert!(
        table.contains("bob@example.com") && table.contains("contributor"),
        "{table}"
    );
    assert!(ada.run(&["group", "list"]).ok().stdout.contains("backend"));
    let reached = bob
        .run(&["project", "list", "--org", "acme", "-o", "json"])
        .ok()
        .json();
    assert_eq!(reached[0]["my_role"], "contributor");

    ada.run(&[
        "project",
        "member",
        "set",
        "api",
        "bob@example.com",
        "--role",
        "admin",
    ])
    .ok();
    let reached = bob
        .run(&["project", "show", "api", "--org", "acme", "-o", "json"])
        .ok()
        .json();
    assert_eq!(reached["my_role"], "admin", "the strongest grant wins");
    ada.run(&["project", "member", "remove", "api", "bob@example.com"])
        .ok();
    ada.run(&["group", "revoke", "backend", "api"]).ok();
    ada.run(&["group", "remove-member", "backend", "bob@example.com"])
        .ok();
    assert_eq!(
        bob.run(&["project", "show", "api", "--org", "acme"]).code,
        3
    );
    ada.run(&["group", "delete", "backend"]).ok();
    let (status, _) = server
        .api(Method::GET, "/orgs/acme/groups/backend", &ada_token, None)
        .await;
    assert_eq!(status, 404);

    let plan = ada
        .run(&["project", "plan", "api", "-o", "json"])
        .ok()
        .json();
    let tier = plan["tier"].as_str().expect("a tier").to_owned();
    let (_, tiers) = server.api(Method::GET, "/plans", &ada_token, None).await;
    let other = tiers["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str())
        .find(|t| *t != tier)
        .expect("two tiers")
        .to_owned();
    ada.run(&["project", "plan", "api", "--tier", &other]).ok();
    let (_, after) = server
        .api(
            Method::GET,
            "/orgs/acme/projects/api/plan",
            &ada_token,
            None,
        )
        .await;
    assert_eq!(after["tier"], json!(other));
    ada.run(&["project", "delete", "api"]).ok();
    assert_eq!(ada.run(&["project", "show", "api"]).code, 3);
}

#[tokio::test]
async fn transfer_offer_show_cancel_decline_and_accept() {
    let server = Server::start().await;
    let (ada, ada_token) = person(&server, "ada@example.com").await;
    ada.run(&["org", "create", "Acme", "--slug", "acme"]).ok();
    ada.run(&["org", "switch", "acme"]).ok();
    let (bob, _) = person(&server, "bob@example.com").await;
    ada.run(&["member", "add", "bob@example.com", "--role", "admin"])
        .ok();

    ada.run(&["transfer", "offer", "bob@example.com"]).ok();
    assert_eq!(
        ada.run(&["transfer", "offer", "bob@example.com"]).code,
        4,
        "one at a time"
    );
    let shown = ada.run(&["transfer", "show", "-o", "json"]).ok().json();
    assert_eq!(shown["to"]["email"], "bob@example.com");
    ada.run(&["transfer", "cancel"]).ok();
    assert_eq!(ada.run(&["transfer", "show"]).code, 3);

    ada.run(&["transfer", "offer", "bob@example.com"]).ok();
    bob.run(&["transfer", "decline", "--org", "acme"]).ok();
    ada.run(&["transfer", "offer", "bob@example.com"]).ok();
    bob.run(&["transfer", "accept", "--org", "acme"]).ok();
    let (_, org) = server
        .api(Method::GET, "/orgs/acme", &ada_token, None)
        .await;
    assert_eq!(org["owner"]["email"], "bob@example.com");
    assert_eq!(
        roles_of(&server, &ada_token, "acme", "ada@example.com").await,
        ["admin"]
    );
}

#[tokio::test]
async fn billing_set_and_show_invoices_and_vouchers() {
    let server = Server::start().await;
    let (ada, ada_token) = person(&server, "ada@example.com").await;
    ada.run(&["org", "create", "Acme", "--slug", "acme"]).ok();
    ada.run(&["org", "switch", "acme"]).ok();
    let refused = ada.run(&["billing", "set", "--name", "Acme SAS"]);
    assert_eq!(
        refused.code, 2,
        "no profile yet, the address is needed: {refused:?}"
    );
    ada.run(&[
        "billing",
        "set",
        "--name",
        "Acme SAS",
        "--line1",
        "1 rue de la Paix",
        "--postal-code",
        "75002",
        "--city",
        "Paris",
        "--country",
        "FR",
        "--card",
        "visa,4242,12/2030",
    ])
    .ok();
    ada.run(&["billing", "set", "--city", "Lyon"]).ok();
    let (_, billing) = server
        .api(Method::GET, "/orgs/acme/billing", &ada_token, None)
        .await;
    assert_eq!(billing["address"]["city"], "Lyon");
    assert_eq!(
        billing["name"], "Acme SAS",
        "flags left out keep their value"
    );
    assert_eq!(billing["payment_method"]["last4"], "4242");
    let shown = ada.run(&["billing", "show"]).ok().stdout;
    assert!(shown.contains("visa ending 4242"), "{shown}");

    // R8: a developer sees no billing.
    let (dev, _) = person(&server, "dev@example.com").await;
    ada.run(&["member", "add", "dev@example.com", "--role", "developer"])
        .ok();
    assert_eq!(dev.run(&["billing", "show", "--org", "acme"]).code, 3);

    // A voucher made by the operator command, redeemed over the API.
    let operator = std::process::Command::new(support::BIN)
        .args([
            "vouchers",
            "create",
            "--code",
            "WELCOME-1",
            "--amount",
            "500",
            "--expires",
            "2099-12-31",
        ])
        .env("GUILDHALL_DATA_DIR", server.dir.path())
        .env_remove("GUILDHALL_DATABASE_URL")
        .output()
        .expect("the operator command runs");
    assert!(operator.status.success(), "{operator:?}");
    ada.run(&["voucher", "redeem", "welcome-1"]).ok();
    assert_eq!(
        ada.run(&["voucher", "redeem", "welcome-1"]).code,
        4,
        "once per organization"
    );
    let billing = ada.run(&["billing", "show", "-o", "json"]).ok().json();
    assert_eq!(billing["vouchers"][0]["code"], "WELCOME-1");

    assert_eq!(
        ada.run(&["invoice", "list", "-o", "json"]).ok().json(),
        json!([])
    );
    let upcoming = ada
        .run(&["invoice", "show", "upcoming", "-o", "json"])
        .ok()
        .json();
    assert!(upcoming["month"].is_string());
    let missing = ada.run(&["invoice", "download", &uuid::Uuid::nil().to_string()]);
    assert_eq!(missing.code, 3, "{missing:?}");
}

#[tokio::test]
async fn audit_lists_with_filters_and_follow_prints_new_events() {
    let server = Server::start().await;
    let (ada, ada_token) = person(&server, "ada@example.com").await;
    ada.run(&["org", "create", "Acme", "--slug", "acme"]).ok();
    ada.run(&["org", "switch", "acme"]).ok();
    ada.run(&["project", "create", "api"]).ok();
    let all = ada.run(&["audit", "-o", "json"]).ok().json();
    assert!(all.as_array().is_some_and(|a| a.len() >= 2), "{all}");
    let projects = ada
        .run(&["audit", "--action", "project.*", "-o", "json"])
        .ok()
        .json();
    assert!(
        projects.as_array().is_some_and(|a| !a.is_empty()
            && a.iter().all(|e| e["action"]
                .as_str()
                .is_some_and(|x| x.starts_with("project.")))),
        "{projects}"
    );
    let table = ada.run(&["audit"]).ok().stdout;
    assert!(
        table.contains("ACTION") && table.contains("ada@example.com"),
        "{table}"
    );

    // --follow: start it, make a change, see it arrive, interrupt it.
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(support::BIN)
        .args(["audit", "--follow", "--org", "acme", "-o", "json"])
        .env("XDG_CONFIG_HOME", ada.config.path())
        .env_remove("GUILDHALL_TOKEN")
        .env_remove("GUILDHALL_SERVER")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("audit --follow starts");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (status, _) = server
        .api(
            Method::POST,
            "/orgs/acme/groups",
            &ada_token,
            Some(json!({"name": "followed"})),
        )
        .await;
    assert_eq!(status, 201);
    let mut saw = false;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(std::time::Duration::from_millis(200)) {
            let e: Value = serde_json::from_str(&line).expect("one JSON object a line");
            if e["action"]
                .as_str()
                .is_some_and(|a| a.starts_with("group."))
            {
                saw = true;
                break;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(saw, "the new event was printed");
}

#[tokio::test]
async fn token_create_prints_the_secret_once_and_check_answers_with_it() {
    let server = Server::start().await;
    let (ada, _) = person(&server, "ada@example.com").await;
    ada.run(&["org", "create", "Acme", "--slug", "acme"]).ok();
    ada.run(&["org", "switch", "acme"]).ok();
    let (_, bob_token) = person(&server, "bob@example.com").await;
    ada.run(&["member", "add", "bob@example.com", "--role", "developer"])
        .ok();

    let created = ada
        .run(&["token", "create", "ci", "--check", "-o", "json"])
        .ok()
        .json();
    let secret = created["token"].as_str().expect("the secret").to_owned();
    let listed = ada.run(&["token", "list"]).ok().stdout;
    assert!(
        listed.contains("ci") && !listed.contains(&secret),
        "{listed}"
    );
    let listed = ada.run(&["token", "list", "-o", "json"]).ok().stdout;
    assert!(!listed.contains(&secret));

    let (_, bob) = server.api(Method::GET, "/me", &bob_token, None).await;
    let bob_id = bob["id"].as_str().expect("an id").to_owned();
    let mut checker = Cli::new();
    checker.env = vec![
        ("GUILDHALL_SERVER".into(), server.base.clone()),
        ("GUILDHALL_TOKEN".into(), secret.clone()),
    ];
    let yes = checker
        .run(&[
            "check",
            &bob_id,
            "projects.deploy",
            "--org",
            "acme",
            "-o",
            "json",
        ])
        .ok()
        .json();
    assert_eq!(yes["allowed"], true);
    let no = checker
        .run(&["check", &bob_id, "members.invite", "--org", "acme"])
        .ok()
        .stdout;
    assert!(no.starts_with("denied"), "{no}");
    let project = ada.run(&["project", "create", "api", "-q"]).ok().stdout;
    let on_project = checker
        .run(&[
            "check",
            &bob_id,
            "project.deploy",
            "--project",
            project.trim(),
            "-q",
        ])
        .ok()
        .stdout;
    assert_eq!(on_project.trim(), "allowed");

    ada.run(&["token", "revoke", created["id"].as_str().expect("an id")])
        .ok();
    assert_eq!(
        checker
            .run(&["check", &bob_id, "org.read", "--org", "acme"])
            .code,
        3
    );
    let quiet = ada.run(&["token", "create", "script", "-q"]).ok().stdout;
    assert!(
        quiet.trim().starts_with("gldh_"),
        "--quiet prints the secret alone: {quiet}"
    );
}
