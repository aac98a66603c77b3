//! `guildhall token …`: my API tokens. A secret is printed once, by `token create`.

use super::Ctx;
use super::args::TokenCommand;
use super::error::{CliError, Result};
use super::output::{Output, list, print_json, s, when};
use serde_json::{Value, json};

/// Runs one `token` verb.
pub async fn run(ctx: &Ctx, command: TokenCommand, out: Output) -> Result<()> {
    let api = ctx.api()?;
    match command {
        TokenCommand::Create {
            name,
            permissions,
            expires,
            check,
        } => {
            let mut body = json!({ "name": name });
            // Only an explicit --org limits a token: a default chosen by `org switch` for
            // convenience must not silently narrow what a token can do.
            if let Some(org) = ctx.explicit_org() {
                body["org"] = json!(org);
            }
            if let Some(p) = permissions {
                body["permissions"] = json!(p);
            }
            if let Some(e) = expires {
                body["expires_at"] = json!(expiry(&e)?);
            }
            if check {
                body["capabilities"] = json!(["check"]);
            }
            let t = api.post(&["tokens"], &body).await?;
            if out.quiet {
                // The secret is what a script needs, and this is the only time it exists.
                println!("{}", s(&t, "/token"));
            } else if out.json() {
                print_json(&t);
            } else {
                println!("created API token {} ({})", s(&t, "/name"), s(&t, "/id"));
                println!("{}", s(&t, "/token"));
                eprintln!(
                    "copy it now: it is shown only this once; it expires {}",
                    when(&t, "/expires_at")
                );
            }
        }
        TokenCommand::List => {
            let tokens = api.list(&["tokens"], &[]).await?;
            out.list(
                &tokens,
                &[
                    ("NAME", &|t| s(t, "/name")),
                    ("ORGANIZATION", &|t| {
                        let o = s(t, "/org");
                        if o.is_empty() { "any".into() } else { o }
                    }),
                    ("PERMISSIONS", &|t| {
                        if t.get("permissions").is_some_and(|p| !p.is_null()) {
                            list(t, "/permissions")
                        } else {
                            "all of mine".into()
                        }
                    }),
                    ("CAPABILITIES", &|t| list(t, "/capabilities")),
                    ("EXPIRES", &|t| when(t, "/expires_at")),
                    ("ID", &|t| s(t, "/id")),
                ],
                &|t| s(t, "/id"),
            );
        }
        TokenCommand::Revoke { id } => {
            api.delete(&["tokens", &id]).await?;
            out.done(
                &json!({ "revoked": id }),
                &format!("revoked API token {id}"),
                &id,
            );
        }
    }
    Ok(())
}

/// `--expires`: RFC 3339 as given, or a day meaning its last second (UTC).
fn expiry(raw: &str) -> Result<Value> {
    if chrono::DateTime::parse_from_rfc3339(raw).is_ok() {
        return Ok(json!(raw));
    }
    match chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        Ok(day) => Ok(json!(format!("{day}T23:59:59Z"))),
        Err(_) => Err(CliError::Usage(format!(
            "--expires `{raw}` is not a time; use YYYY-MM-DD or RFC 3339, e.g. 2026-12-31"
        ))),
    }
}
