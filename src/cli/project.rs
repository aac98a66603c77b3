//! `guildhall project …`: projects, their plans and their direct members.

use super::Ctx;
use super::args::{ProjectCommand, ProjectMemberCommand};
use super::error::Result;
use super::output::{Output, money, s, when};
use serde_json::{Value, json};

/// Runs one `project` verb.
pub async fn run(ctx: &Ctx, command: ProjectCommand, out: Output) -> Result<()> {
    let api = ctx.api()?;
    let org = ctx.org()?;
    let label = ctx.org_label(&org);
    match command {
        ProjectCommand::List => {
            let projects = api.list(&["orgs", &org, "projects"], &[]).await?;
            out.list(
                &projects,
                &[
                    ("NAME", &|p| s(p, "/name")),
                    ("MY ROLE", &|p| s(p, "/my_role")),
                    ("CREATED", &|p| when(p, "/created_at")),
                    ("ID", &|p| s(p, "/id")),
                ],
                &|p| s(p, "/id"),
            );
        }
        ProjectCommand::Create { name } => {
            let p = api
                .post(&["orgs", &org, "projects"], &json!({ "name": name }))
                .await?;
            out.done(
                &p,
                &format!("created project {} in `{label}`", s(&p, "/name")),
                &s(&p, "/id"),
            );
        }
        ProjectCommand::Show { project } => {
            let p = api.get(&["orgs", &org, "projects", &project]).await?;
            out.one(
                &p,
                &[
                    ("name", s(&p, "/name")),
                    ("id", s(&p, "/id")),
                    ("my role", s(&p, "/my_role")),
                    ("created", when(&p, "/created_at")),
                ],
                &s(&p, "/id"),
            );
        }
        ProjectCommand::Delete { project } => {
            api.delete(&["orgs", &org, "projects", &project]).await?;
            out.done(
                &json!({ "deleted": project }),
                &format!("deleted project {project}"),
                &project,
            );
        }
        ProjectCommand::Plan {
            project,
            tier,
            storage,
            environments,
            licenses,
        } => {
            let path = ["orgs", org.as_str(), "projects", project.as_str(), "plan"];
            let changing =
                tier.is_some() || storage.is_some() || environments.is_some() || licenses.is_some();
            let plan = if changing {
                let tier = match tier {
                    Some(t) => t,
                    None => s(&api.get(&path).await?, "/tier"),
                };
                let mut body = json!({ "tier": tier });
                for (k, v) in [
                    ("storage_gb", storage),
                    ("environments", environments),
                    ("licenses", licenses),
                ] {
                    if let Some(v) = v {
                        body[k] = json!(v);
                    }
                }
                api.put(&path, &body).await?
            } else {
                api.get(&path).await?
            };
            let mut rows = vec![
                ("tier", s(&plan, "/tier")),
                ("storage", format!("{} GB", s(&plan, "/storage_gb"))),
                ("environments", s(&plan, "/environments")),
                ("licenses", s(&plan, "/licenses")),
                ("since", when(&plan, "/since")),
            ];
            if let Some(price) = plan.get("monthly_price").and_then(Value::as_i64) {
                rows.push(("monthly price", money(price, &s(&plan, "/currency"))));
            }
            if changing && !out.json() && !out.quiet {
                println!("project {project} is now on this plan:");
            }
            out.one(&plan, &rows, &project);
        }
        ProjectCommand::Member(ProjectMemberCommand::Set {
            project,
            user,
            role,
        }) => {
            let id = ctx.member_id(&org, &user).await?;
            let v = api
                .put(
                    &["orgs", &org, "projects", &project, "members", &id],
                    &json!({ "role": role }),
                )
                .await?;
            out.done(
                &v,
                &format!("{user} is now {role} on project {project}"),
                &id,
            );
        }
        ProjectCommand::Member(ProjectMemberCommand::Remove { project, user }) => {
            let id = ctx.member_id(&org, &user).await?;
            api.delete(&["orgs", &org, "projects", &project, "members", &id])
                .await?;
            out.done(
                &json!({ "removed": id }),
                &format!("{user} no longer has a direct role on project {project}"),
                &id,
            );
        }
    }
    Ok(())
}
