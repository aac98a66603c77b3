//! `guildhall group …`: groups, their members and the project roles they give.

use super::Ctx;
use super::args::GroupCommand;
use super::error::Result;
use super::output::{Output, s, table, when};
use serde_json::{Value, json};

/// Runs one `group` verb.
pub async fn run(ctx: &Ctx, command: GroupCommand, out: Output) -> Result<()> {
    let api = ctx.api()?;
    let org = ctx.org()?;
    match command {
        GroupCommand::List => {
            let groups = api.list(&["orgs", &org, "groups"], &[]).await?;
            out.list(
                &groups,
                &[
                    ("NAME", &|g| s(g, "/name")),
                    ("CREATED", &|g| when(g, "/created_at")),
                    ("ID", &|g| s(g, "/id")),
                ],
                &|g| s(g, "/id"),
            );
        }
        GroupCommand::Create { name } => {
            let g = api
                .post(&["orgs", &org, "groups"], &json!({ "name": name }))
                .await?;
            out.done(
                &g,
                &format!("created group {}", s(&g, "/name")),
                &s(&g, "/id"),
            );
        }
        GroupCommand::Show { group } => {
            let g = api.get(&["orgs", &org, "groups", &group]).await?;
            if out.json() || out.quiet {
                out.one(&g, &[], &s(&g, "/id"));
                return Ok(());
            }
            print!(
                "{}",
                table(
                    Vec::new(),
                    vec![
                        vec!["name:".into(), s(&g, "/name")],
                        vec!["id:".into(), s(&g, "/id")],
                        vec!["created:".into(), when(&g, "/created_at")],
                    ]
                )
            );
            let rows = |key: &str, f: &dyn Fn(&Value) -> Vec<String>| -> Vec<Vec<String>> {
                g.get(key)
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(f).collect())
                    .unwrap_or_default()
            };
            let members = rows("members", &|u| {
                vec![s(u, "/email"), s(u, "/name"), s(u, "/id")]
            });
            println!();
            if members.is_empty() {
                println!("no members yet");
            } else {
                print!("{}", table(vec!["MEMBER", "NAME", "ID"], members));
            }
            let projects = rows("projects", &|p| vec![s(p, "/project/name"), s(p, "/role")]);
            println!();
            if projects.is_empty() {
                println!("no projects yet");
            } else {
                print!("{}", table(vec!["PROJECT", "ROLE"], projects));
            }
        }
        GroupCommand::Delete { group } => {
            api.delete(&["orgs", &org, "groups", &group]).await?;
            out.done(
                &json!({ "deleted": group }),
                &format!("deleted group {group}"),
                &group,
            );
        }
        GroupCommand::AddMember { group, user } => {
            let id = ctx.member_id(&org, &user).await?;
            let v = api
                .put_empty(&["orgs", &org, "groups", &group, "members", &id])
                .await?;
            out.done(&v, &format!("added {user} to group {group}"), &id);
        }
        GroupCommand::RemoveMember { group, user } => {
            let id = ctx.member_id(&org, &user).await?;
            api.delete(&["orgs", &org, "groups", &group, "members", &id])
                .await?;
            out.done(
                &json!({ "removed": id }),
                &format!("removed {user} from group {group}"),
                &id,
            );
        }
        GroupCommand::Grant {
            group,
            project,
            role,
        } => {
            let v = api
                .put(
                    &["orgs", &org, "groups", &group, "projects", &project],
                    &json!({ "role": role }),
                )
                .await?;
            out.done(
                &v,
                &format!("group {group} is now {role} on project {project}"),
                &project,
            );
        }
        GroupCommand::Revoke { group, project } => {
            api.delete(&["orgs", &org, "groups", &group, "projects", &project])
                .await?;
            out.done(
                &json!({ "revoked": project }),
                &format!("group {group} no longer reaches project {project}"),
                &project,
            );
        }
    }
    Ok(())
}
