//! `guildhall org …`: the organizations I belong to.

use super::Ctx;
use super::args::OrgCommand;
use super::credentials::{self, Credentials};
use super::error::{CliError, Result};
use super::output::{Output, list, s, when};
use serde_json::{Map, Value, json};

/// Runs one `org` verb.
pub async fn run(ctx: &Ctx, command: OrgCommand, out: Output) -> Result<()> {
    let api = ctx.api()?;
    match command {
        OrgCommand::List { search } => {
            let q: Vec<(&str, &str)> = search.as_deref().map(|q| ("q", q)).into_iter().collect();
            let orgs = api.list(&["orgs"], &q).await?;
            let current = ctx.creds.org.clone().unwrap_or_default();
            out.list(
                &orgs,
                &[
                    ("", &|o| {
                        if s(o, "/id") == current {
                            "*".into()
                        } else {
                            String::new()
                        }
                    }),
                    ("SLUG", &|o| s(o, "/slug")),
                    ("NAME", &|o| s(o, "/name")),
                    ("MY ROLES", &|o| list(o, "/my_roles")),
                    ("OWNER", &|o| s(o, "/owner/email")),
                    ("PERSONAL", &|o| yes(o, "/personal")),
                ],
                &|o| s(o, "/id"),
            );
        }
        OrgCommand::Create { name, slug } => {
            let mut body = json!({ "name": name });
            if let Some(slug) = slug {
                body["slug"] = json!(slug);
            }
            let org = api.post(&["orgs"], &body).await?;
            out.done(
                &org,
                &format!(
                    "created organization {} (slug `{}`); make it the default with `guildhall org switch {}`",
                    s(&org, "/name"),
                    s(&org, "/slug"),
                    s(&org, "/slug")
                ),
                &s(&org, "/id"),
            );
        }
        OrgCommand::Show { org } => {
            let org = match org {
                Some(o) => o,
                None => ctx.org()?,
            };
            let o = api.get(&["orgs", &org]).await?;
            show(&o, out);
        }
        OrgCommand::Rename { name, slug } => {
            let org = ctx.org()?;
            if name.is_none() && slug.is_none() {
                return Err(CliError::Usage(
                    "give a new name, --slug, or both".to_owned(),
                ));
            }
            let mut body = Map::new();
            if let Some(n) = name {
                body.insert("name".into(), json!(n));
            }
            if let Some(sl) = slug {
                body.insert("slug".into(), json!(sl));
            }
            let o = api.patch(&["orgs", &org], &Value::Object(body)).await?;
            if ctx.creds.org.as_deref() == Some(s(&o, "/id").as_str()) {
                credentials::save(&Credentials {
                    org_slug: Some(s(&o, "/slug")),
                    ..ctx.creds.clone()
                })?;
            }
            out.done(
                &o,
                &format!(
                    "organization is now {} (slug `{}`)",
                    s(&o, "/name"),
                    s(&o, "/slug")
                ),
                &s(&o, "/id"),
            );
        }
        OrgCommand::Delete { org } => {
            let o = api.get(&["orgs", &org]).await?;
            api.delete(&["orgs", &org]).await?;
            forget_if_current(ctx, &s(&o, "/id"))?;
            out.done(
                &o,
                &format!("deleted organization {}", s(&o, "/name")),
                &s(&o, "/id"),
            );
        }
        OrgCommand::Leave { org } => {
            let org = match org {
                Some(o) => o,
                None => ctx.org()?,
            };
            let o = api.get(&["orgs", &org]).await?;
            api.post_empty(&["orgs", &org, "leave"]).await?;
            forget_if_current(ctx, &s(&o, "/id"))?;
            out.done(
                &o,
                &format!("left organization {}", s(&o, "/name")),
                &s(&o, "/id"),
            );
        }
        OrgCommand::Switch { org } => {
            let o = api.get(&["orgs", &org]).await?;
            credentials::save(&Credentials {
                org: Some(s(&o, "/id")),
                org_slug: Some(s(&o, "/slug")),
                ..ctx.creds.clone()
            })?;
            out.done(
                &o,
                &format!(
                    "commands now act on {} (`{}`) unless given --org",
                    s(&o, "/name"),
                    s(&o, "/slug")
                ),
                &s(&o, "/id"),
            );
        }
    }
    Ok(())
}

/// Prints one organization.
fn show(o: &Value, out: Output) {
    out.one(
        o,
        &[
            ("name", s(o, "/name")),
            ("slug", s(o, "/slug")),
            ("id", s(o, "/id")),
            (
                "owner",
                format!("{} <{}>", s(o, "/owner/name"), s(o, "/owner/email")),
            ),
            ("personal", yes(o, "/personal")),
            ("my roles", list(o, "/my_roles")),
            ("created", when(o, "/created_at")),
        ],
        &s(o, "/id"),
    );
}

/// `yes` or `no` for a boolean field.
fn yes(v: &Value, pointer: &str) -> String {
    if v.pointer(pointer).and_then(Value::as_bool).unwrap_or(false) {
        "yes".into()
    } else {
        "no".into()
    }
}

/// Drops the `org switch` default when it names an organization that is gone for me.
fn forget_if_current(ctx: &Ctx, id: &str) -> Result<()> {
    if ctx.creds.org.as_deref() == Some(id) {
        credentials::save(&Credentials {
            org: None,
            org_slug: None,
            ..ctx.creds.clone()
        })?;
    }
    Ok(())
}
