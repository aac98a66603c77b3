//! `guildhall transfer …`: ownership transfer (R7).

use super::Ctx;
use super::args::TransferCommand;
use super::error::Result;
use super::output::{Output, s, when};
use serde_json::{Value, json};

/// Runs one `transfer` verb.
pub async fn run(ctx: &Ctx, command: TransferCommand, out: Output) -> Result<()> {
    let api = ctx.api()?;
    let org = ctx.org()?;
    let label = ctx.org_label(&org);
    let path = ["orgs", org.as_str(), "transfer"];
    match command {
        TransferCommand::Offer { to } => {
            let t = api.post(&path, &json!({ "to": to })).await?;
            out.done(
                &t,
                &format!(
                    "offered the ownership of `{label}` to {}; nothing changes until they accept (by {})",
                    s(&t, "/to/email"),
                    when(&t, "/expires_at")
                ),
                &s(&t, "/id"),
            );
        }
        TransferCommand::Show => {
            let t = api.get(&path).await?;
            show(&t, out);
        }
        TransferCommand::Cancel => {
            let t = api.delete(&path).await?;
            out.done(
                &t,
                &format!("cancelled the ownership offer of `{label}`"),
                &s(&t, "/id"),
            );
        }
        TransferCommand::Accept => {
            let t = api
                .post_empty(&["orgs", &org, "transfer", "accept"])
                .await?;
            out.done(&t, &format!("you now own `{label}`"), &s(&t, "/id"));
        }
        TransferCommand::Decline => {
            let t = api
                .post_empty(&["orgs", &org, "transfer", "decline"])
                .await?;
            out.done(
                &t,
                &format!("declined the ownership of `{label}`"),
                &s(&t, "/id"),
            );
        }
    }
    Ok(())
}

/// Prints an offer.
fn show(t: &Value, out: Output) {
    out.one(
        t,
        &[
            ("id", s(t, "/id")),
            ("state", s(t, "/state")),
            ("from", s(t, "/from/email")),
            ("to", s(t, "/to/email")),
            ("made", when(t, "/created_at")),
            ("expires", when(t, "/expires_at")),
        ],
        &s(t, "/id"),
    );
}
