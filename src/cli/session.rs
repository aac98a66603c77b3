//! `login`, `logout`, `whoami`: the session the other commands run with.

use super::Ctx;
use super::args::LoginArgs;
use super::client::Client;
use super::credentials::{self, Credentials};
use super::error::{CliError, Result};
use super::output::{Output, s};
use serde_json::{Value, json};
use std::io::{BufRead as _, IsTerminal as _, Read as _, Write as _};

/// `guildhall login`: signs in with email and password and stores the session token.
pub async fn login(a: LoginArgs) -> Result<()> {
    let out = Output::from(&a.out);
    let mut creds = credentials::load()?;
    let server = a
        .server
        .or_else(|| credentials::env("GUILDHALL_SERVER"))
        .or_else(|| creds.server.clone())
        .unwrap_or_else(|| credentials::DEFAULT_SERVER.to_owned());
    let email = match a.email {
        Some(e) => e,
        None if a.password_stdin => {
            return Err(CliError::Usage(
                "--password-stdin needs --email (standard input carries the password)".to_owned(),
            ));
        }
        None => prompt_line("Email: ")?,
    };
    let password = if a.password_stdin {
        let mut raw = String::new();
        std::io::stdin()
            .read_to_string(&mut raw)
            .map_err(|e| CliError::Other(format!("cannot read the password: {e}")))?;
        let line = raw.strip_suffix('\n').unwrap_or(&raw);
        line.strip_suffix('\r').unwrap_or(line).to_owned()
    } else {
        if !std::io::stdin().is_terminal() {
            return Err(CliError::Usage(
                "no terminal to ask the password on; pass it with --password-stdin".to_owned(),
            ));
        }
        rpassword::prompt_password("Password: ")
            .map_err(|e| CliError::Other(format!("cannot read the password: {e}")))?
    };
    let client = Client::new(&server, None)?;
    let session = client
        .post(
            &["sessions"],
            &json!({"email": email, "password": password}),
        )
        .await?;
    let token = s(&session, "/token");
    if token.is_empty() {
        return Err(CliError::Other(
            "the server's answer carries no session token".to_owned(),
        ));
    }
    let me = Client::new(&server, Some(token.clone()))?
        .get(&["me"])
        .await?;
    if creds.server.as_deref() != Some(client.server()) {
        // Another server's organizations mean nothing here.
        creds.org = None;
        creds.org_slug = None;
    }
    creds = Credentials {
        server: Some(client.server().to_owned()),
        token: Some(token),
        email: Some(s(&me, "/email")),
        ..creds
    };
    let path = credentials::save(&creds)?;
    out.done(
        &me,
        &format!(
            "signed in to {} as {}; credentials saved in {}",
            client.server(),
            s(&me, "/email"),
            path.display()
        ),
        &s(&me, "/id"),
    );
    Ok(())
}

/// `guildhall logout`: ends the session on the server, then forgets it here.
pub async fn logout(ctx: &Ctx, out: Output) -> Result<()> {
    let api = ctx.api()?;
    let ended = api.delete(&["sessions", "current"]).await;
    let had_file_token = ctx.creds.token.is_some();
    if had_file_token {
        let creds = Credentials {
            token: None,
            ..ctx.creds.clone()
        };
        credentials::save(&creds)?;
    }
    match ended {
        // A session that already ended on the server is still forgotten here.
        Ok(_) | Err(CliError::Api { status: 401, .. }) => {
            out.done(&Value::Null, &format!("signed out of {}", api.server()), "");
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// `guildhall whoami`.
pub async fn whoami(ctx: &Ctx, out: Output) -> Result<()> {
    let me = ctx.api()?.get(&["me"]).await?;
    let org = match (&ctx.creds.org_slug, &ctx.creds.org) {
        (Some(slug), _) => slug.clone(),
        (None, Some(id)) => id.clone(),
        (None, None) => "(none; choose one with `guildhall org switch`)".to_owned(),
    };
    out.one(
        &me,
        &[
            ("email", s(&me, "/email")),
            ("name", s(&me, "/name")),
            ("id", s(&me, "/id")),
            ("server", ctx.client.server().to_owned()),
            ("organization", org),
        ],
        &s(&me, "/id"),
    );
    Ok(())
}

/// Asks for one line on the terminal.
fn prompt_line(prompt: &str) -> Result<String> {
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Other(format!("cannot read the answer: {e}")))?;
    let line = line.trim().to_owned();
    if line.is_empty() {
        return Err(CliError::Usage("no email given; pass --email".to_owned()));
    }
    Ok(line)
}
