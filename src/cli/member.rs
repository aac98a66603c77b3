//! `guildhall member …`: an organization's members and their roles.

use super::Ctx;
use super::args::MemberCommand;
use super::error::Result;
use super::output::{Output, list, s, table};
use reqwest::Method;
use serde_json::{Value, json};

/// The columns of a member list.
pub fn print_members(members: &[Value], out: Output) {
    out.list(
        members,
        &[
            ("EMAIL", &|m| s(m, "/user/email")),
            ("NAME", &|m| s(m, "/user/name")),
            ("ROLES", &|m| list(m, "/roles")),
            ("GROUPS", &|m| list(m, "/groups")),
            ("ID", &|m| s(m, "/user/id")),
        ],
        &|m| s(m, "/user/id"),
    );
}

/// Runs one `member` verb.
pub async fn run(ctx: &Ctx, command: MemberCommand, out: Output) -> Result<()> {
    let api = ctx.api()?;
    let org = ctx.org()?;
    let label = ctx.org_label(&org);
    match command {
        MemberCommand::List => {
            let members = api.list(&["orgs", &org, "members"], &[]).await?;
            print_members(&members, out);
        }
        MemberCommand::Add {
            email,
            roles,
            register,
            name,
        } => {
            let mut body = json!({ "email": email, "roles": roles });
            if register {
                body["register"] = json!(true);
                body["name"] = json!(name);
            }
            let m = api.post(&["orgs", &org, "members"], &body).await?;
            let how = if register {
                "registered and added"
            } else {
                "added"
            };
            out.done(
                &m,
                &format!(
                    "{how} {} to `{label}` as {}",
                    s(&m, "/user/email"),
                    list(&m, "/roles")
                ),
                &s(&m, "/user/id"),
            );
        }
        MemberCommand::SetRoles {
            user,
            roles,
            dry_run,
        } => {
            let id = ctx.member_id(&org, &user).await?;
            let body = json!({ "roles": roles });
            let path = ["orgs", org.as_str(), "members", id.as_str()];
            if dry_run {
                let p = api
                    .call(Method::PATCH, &path, &[("dry_run", "true")], Some(&body))
                    .await?;
                print_preview(&p, &user, out);
            } else {
                let m = api.patch(&path, &body).await?;
                out.done(
                    &m,
                    &format!("{} now holds {}", s(&m, "/user/email"), list(&m, "/roles")),
                    &s(&m, "/user/id"),
                );
            }
        }
        MemberCommand::Remove { user } => {
            let id = ctx.member_id(&org, &user).await?;
            api.delete(&["orgs", &org, "members", &id]).await?;
            out.done(
                &json!({ "removed": id }),
                &format!("removed {user} from `{label}`"),
                &id,
            );
        }
        MemberCommand::Permissions { user } => {
            let id = ctx.member_id(&org, &user).await?;
            let e = api
                .get(&["orgs", &org, "members", &id, "permissions"])
                .await?;
            if out.quiet || out.json() {
                let perms: Vec<Value> = e
                    .get("permissions")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                if out.quiet {
                    out.list(&perms, &[], &|p| s(p, "/permission"));
                } else {
                    out.one(&e, &[], "");
                }
                return Ok(());
            }
            print_effective(&e);
        }
    }
    Ok(())
}

/// A member's effective permissions and project reach, for people.
fn print_effective(e: &Value) {
    let sources = |v: &Value| {
        v.get("sources")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|src| {
                        let name = s(src, "/name");
                        let role = s(src, "/role");
                        match s(src, "/kind").as_str() {
                            "group" => format!("group {name} ({role})"),
                            "direct" => format!("direct ({role})"),
                            "membership" => "membership".to_owned(),
                            kind => format!("{} {}", kind.replace('_', " "), role),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default()
    };
    println!("{} <{}>", s(e, "/user/name"), s(e, "/user/email"));
    let rows = e
        .get("permissions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|p| vec![s(p, "/permission"), sources(p)])
                .collect()
        })
        .unwrap_or_default();
    print!("{}", table(vec!["PERMISSION", "FROM"], rows));
    let mut projects: Vec<Vec<String>> = Vec::new();
    if let Some(all) = e.pointer("/projects/all").filter(|v| !v.is_null()) {
        projects.push(vec![
            "(every project)".to_owned(),
            s(all, "/role"),
            sources(all),
        ]);
    }
    for g in e
        .pointer("/projects/granted")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        projects.push(vec![s(g, "/project/name"), s(g, "/role"), sources(g)]);
    }
    if !projects.is_empty() {
        println!();
        print!("{}", table(vec!["PROJECT", "ROLE", "FROM"], projects));
    }
}

/// What a role change would do, for people.
fn print_preview(p: &Value, user: &str, out: Output) {
    if out.json() || out.quiet {
        out.one(p, &[], "");
        return;
    }
    println!("changing the roles of {user} would (nothing changed yet):");
    let mut rows = vec![
        vec!["add roles".to_owned(), list(p, "/roles_added")],
        vec!["remove roles".to_owned(), list(p, "/roles_removed")],
        vec![
            "gain permissions".to_owned(),
            list(p, "/permissions_gained"),
        ],
        vec!["lose permissions".to_owned(), list(p, "/permissions_lost")],
    ];
    for c in p
        .get("projects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let role = |k: &str| {
            let r = s(c, k);
            if r.is_empty() { "none".to_owned() } else { r }
        };
        rows.push(vec![
            format!("project {}", s(c, "/project/name")),
            format!("{} -> {}", role("/before"), role("/after")),
        ]);
    }
    print!("{}", table(Vec::new(), rows));
}
