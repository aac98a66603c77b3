//! `guildhall check USER PERMISSION (--org ORG | --project PROJECT)`: the check API.

use super::Ctx;
use super::args::CheckArgs;
use super::error::Result;
use super::output::{Output, s};
use serde_json::{Value, json};

/// Runs `check`.
pub async fn run(ctx: &Ctx, a: CheckArgs, out: Output) -> Result<()> {
    let api = ctx.api()?;
    let mut body = json!({ "user": a.user, "permission": a.permission });
    let scope = match &a.project {
        Some(project) => {
            body["project"] = json!(project);
            format!("project {project}")
        }
        None => {
            let org = ctx.org()?;
            let label = ctx.org_label(&org);
            body["user"] = json!(ctx.member_id(&org, &a.user).await?);
            body["org"] = json!(org);
            format!("`{label}`")
        }
    };
    let d = api.post(&["check"], &body).await?;
    let allowed = d.get("allowed").and_then(Value::as_bool).unwrap_or(false);
    let word = if allowed { "allowed" } else { "denied" };
    if out.quiet {
        println!("{word}");
    } else {
        out.done(
            &d,
            &format!(
                "{word}: {} {} {} in {scope} (revision {})",
                a.user,
                if allowed { "holds" } else { "does not hold" },
                a.permission,
                s(&d, "/revision")
            ),
            "",
        );
    }
    Ok(())
}
