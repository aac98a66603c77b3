//! `guildhall invite …` (an organization's invitations) and `guildhall invitation …` (the ones
//! addressed to me).

use super::Ctx;
use super::args::{InvitationCommand, InviteCommand};
use super::error::{CliError, Result};
use super::output::{Output, list, s, when};
use serde_json::{Value, json};

/// Runs one `invite` verb.
pub async fn run_invite(ctx: &Ctx, command: InviteCommand, out: Output) -> Result<()> {
    let api = ctx.api()?;
    let org = ctx.org()?;
    match command {
        InviteCommand::Create { email, roles } => {
            let v = api
                .post(
                    &["orgs", &org, "invitations"],
                    &json!({ "email": email, "roles": roles }),
                )
                .await?;
            out.done(
                &v,
                &format!(
                    "invited {} to `{}` as {}; the invitation expires {}",
                    s(&v, "/email"),
                    s(&v, "/org/slug"),
                    list(&v, "/roles"),
                    when(&v, "/expires_at")
                ),
                &s(&v, "/id"),
            );
        }
        InviteCommand::List => {
            let items = api.list(&["orgs", &org, "invitations"], &[]).await?;
            out.list(
                &items,
                &[
                    ("ID", &|v| s(v, "/id")),
                    ("EMAIL", &|v| s(v, "/email")),
                    ("ROLES", &|v| list(v, "/roles")),
                    ("STATE", &|v| s(v, "/state")),
                    ("EXPIRES", &|v| when(v, "/expires_at")),
                    ("MAIL", &|v| s(v, "/mail")),
                ],
                &|v| s(v, "/id"),
            );
        }
        InviteCommand::Revoke { id } => {
            api.delete(&["orgs", &org, "invitations", &id]).await?;
            out.done(
                &json!({ "revoked": id }),
                &format!("revoked invitation {id}"),
                &id,
            );
        }
        InviteCommand::Resend { id } => {
            let v = api
                .post_empty(&["orgs", &org, "invitations", &id, "resend"])
                .await?;
            out.done(
                &v,
                &format!(
                    "sent the invitation to {} again, with a new link; it expires {}",
                    s(&v, "/email"),
                    when(&v, "/expires_at")
                ),
                &s(&v, "/id"),
            );
        }
    }
    Ok(())
}

/// Runs one `invitation` verb.
pub async fn run(ctx: &Ctx, command: InvitationCommand, out: Output) -> Result<()> {
    let api = ctx.api()?;
    match command {
        InvitationCommand::List => {
            let items = api.list(&["invitations"], &[]).await?;
            out.list(
                &items,
                &[
                    ("ORGANIZATION", &|v| s(v, "/org/name")),
                    ("SLUG", &|v| s(v, "/org/slug")),
                    ("ROLES", &|v| list(v, "/roles")),
                    ("INVITED BY", &|v| s(v, "/invited_by/email")),
                    ("STATE", &|v| s(v, "/state")),
                    ("EXPIRES", &|v| when(v, "/expires_at")),
                    ("ID", &|v| s(v, "/id")),
                ],
                &|v| s(v, "/id"),
            );
        }
        InvitationCommand::Accept { token } => {
            let token = token_of(&token)?;
            let a = api
                .post(&["invitations", "accept"], &json!({ "token": token }))
                .await?;
            out.done(
                &a,
                &format!(
                    "joined {} (`{}`) as {}",
                    s(&a, "/invitation/org/name"),
                    s(&a, "/invitation/org/slug"),
                    list(&a, "/member/roles")
                ),
                &s(&a, "/invitation/id"),
            );
        }
        InvitationCommand::Decline { token } => {
            let token = token_of(&token)?;
            let v = api
                .post(&["invitations", "decline"], &json!({ "token": token }))
                .await?;
            let org = match &v {
                Value::Null => "the organization".to_owned(),
                v => format!("`{}`", s(v, "/org/slug")),
            };
            out.done(
                &v,
                &format!("declined the invitation to {org}"),
                &s(&v, "/id"),
            );
        }
    }
    Ok(())
}

/// The token itself, given either bare or inside the mail's link (`…?token=…`).
fn token_of(raw: &str) -> Result<String> {
    let raw = raw.trim();
    if let Ok(url) = reqwest::Url::parse(raw) {
        return url
            .query_pairs()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| CliError::Usage(format!("the link `{raw}` carries no `token`")));
    }
    if raw.is_empty() {
        return Err(CliError::Usage("the token is empty".to_owned()));
    }
    Ok(raw.to_owned())
}
