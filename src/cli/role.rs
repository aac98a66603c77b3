//! `guildhall role …`: built-in and custom roles.

use super::Ctx;
use super::args::RoleCommand;
use super::error::{CliError, Result};
use super::output::{Output, list, s};
use serde_json::{Map, Value, json};

/// Runs one `role` verb.
pub async fn run(ctx: &Ctx, command: RoleCommand, out: Output) -> Result<()> {
    let api = ctx.api()?;
    let org = ctx.org()?;
    match command {
        RoleCommand::List => {
            // The one list answered whole: it takes no `cursor` or `limit`.
            let answer = api.get(&["orgs", &org, "roles"]).await?;
            let roles = answer
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            out.list(
                &roles,
                &[
                    ("NAME", &|r| s(r, "/name")),
                    ("KIND", &|r| {
                        if r.get("builtin").and_then(Value::as_bool).unwrap_or(false) {
                            "built-in".into()
                        } else {
                            "custom".into()
                        }
                    }),
                    ("PERMISSIONS", &|r| list(r, "/permissions")),
                ],
                // Built-in roles have no id: their name is what names them.
                &|r| {
                    let id = s(r, "/id");
                    if id.is_empty() { s(r, "/name") } else { id }
                },
            );
        }
        RoleCommand::Create { name, permissions } => {
            let r = api
                .post(
                    &["orgs", &org, "roles"],
                    &json!({ "name": name, "permissions": permissions }),
                )
                .await?;
            out.done(
                &r,
                &format!(
                    "created role {} with {}",
                    s(&r, "/name"),
                    list(&r, "/permissions")
                ),
                &s(&r, "/id"),
            );
        }
        RoleCommand::Edit {
            role,
            name,
            permissions,
        } => {
            if name.is_none() && permissions.is_none() {
                return Err(CliError::Usage(
                    "give --name, --permission, or both".to_owned(),
                ));
            }
            let mut body = Map::new();
            if let Some(n) = name {
                body.insert("name".into(), json!(n));
            }
            if let Some(p) = permissions {
                body.insert("permissions".into(), json!(p));
            }
            let r = api
                .patch(&["orgs", &org, "roles", &role], &Value::Object(body))
                .await?;
            out.done(
                &r,
                &format!(
                    "role {} now grants {}",
                    s(&r, "/name"),
                    list(&r, "/permissions")
                ),
                &s(&r, "/id"),
            );
        }
        RoleCommand::Delete { role } => {
            api.delete(&["orgs", &org, "roles", &role]).await?;
            out.done(
                &json!({ "deleted": role }),
                &format!("deleted role {role}"),
                &role,
            );
        }
    }
    Ok(())
}
