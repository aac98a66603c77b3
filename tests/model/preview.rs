//! The role-change preview as a property: for random organizations (a custom role of random
//! permissions, a group and a direct project role) and random role changes by an owner, admin
//! or manager, `PATCH …?dry_run=true` answers exactly the difference between the member's
//! effective permissions and project roles before and after the real change, writes nothing,
//! and is refused exactly when the real change is (same status, same code).

use crate::common::{Store, TestUser, unique};
use crate::model::runner::{self, Fixture, Settings, Tally};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Permissions a custom role may be made of (`org.delete` and `org.transfer` stay the owner's).
const PERMISSIONS: [&str; 15] = [
    "org.read",
    "org.update",
    "members.read",
    "members.invite",
    "members.manage",
    "roles.manage",
    "groups.manage",
    "projects.create",
    "projects.read",
    "projects.manage",
    "projects.deploy",
    "plans.manage",
    "billing.read",
    "billing.manage",
    "audit.read",
];
/// Roles a member may be given; `Custom` is the case's custom role.
const ROLES: [&str; 6] = [
    "admin",
    "manager",
    "developer",
    "billing",
    "member",
    "Custom",
];
const ACTORS: [&str; 3] = ["owner", "admin", "manager"];
const PROJECT_ROLES: [&str; 3] = ["viewer", "contributor", "admin"];

#[derive(Clone, Debug)]
struct Case {
    custom: Vec<bool>,
    actor: usize,
    start: Vec<bool>,
    to: Vec<bool>,
    group_role: Option<usize>,
    direct_role: Option<usize>,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec(any::<bool>(), PERMISSIONS.len()),
        0..ACTORS.len(),
        proptest::collection::vec(proptest::bool::weighted(0.3), ROLES.len()),
        proptest::collection::vec(proptest::bool::weighted(0.3), ROLES.len()),
        proptest::option::of(0..PROJECT_ROLES.len()),
        proptest::option::of(0..PROJECT_ROLES.len()),
    )
        .prop_map(|(custom, actor, start, to, group_role, direct_role)| Case {
            custom,
            actor,
            start,
            to,
            group_role,
            direct_role,
        })
}

fn picked<'a>(mask: &[bool], from: &[&'a str]) -> Vec<&'a str> {
    from.iter()
        .zip(mask)
        .filter(|(_, on)| **on)
        .map(|(name, _)| *name)
        .collect()
}

pub fn run(store: Store) {
    let settings = Settings {
        cases: 64,
        max_shrink_iters: 100,
        max_shrink_time: 0,
    };
    runner::run(
        store,
        settings,
        Fixture::new(store, "Preview", 3),
        cases(),
        |fx, case, tally| Box::pin(async move { run_case(fx, &case, tally).await }),
    );
}

/// Organization permissions and each project's effective role, as the API explains them.
async fn effective(
    fx: &Fixture,
    by: &TestUser,
    slug: &str,
    user: &str,
    projects: &[String],
) -> Result<(BTreeSet<String>, Vec<Value>), String> {
    let r = fx
        .app
        .get(
            &format!("/api/v1/orgs/{slug}/members/{user}/permissions"),
            &by.token,
        )
        .await;
    if r.status != 200 {
        return Err(format!("permissions: {} {}", r.status, r.body));
    }
    let perms = r.body["permissions"]
        .as_array()
        .ok_or("no permissions")?
        .iter()
        .filter_map(|p| p["permission"].as_str().map(str::to_owned))
        .collect();
    let granted = r.body["projects"]["granted"]
        .as_array()
        .ok_or("no granted")?;
    let roles = projects
        .iter()
        .map(|id| {
            granted
                .iter()
                .find(|g| g["project"]["id"] == id.as_str())
                .map_or_else(
                    || r.body["projects"]["all"]["role"].clone(),
                    |g| g["role"].clone(),
                )
        })
        .collect();
    Ok((perms, roles))
}

async fn ok(r: crate::common::Resp, what: &str, status: u16) -> Result<Value, String> {
    if r.status.as_u16() == status {
        Ok(r.body)
    } else {
        Err(format!("{what}: {} {}", r.status, r.body))
    }
}

async fn run_case(fx: &Fixture, case: &Case, tally: &Tally) -> Result<(), String> {
    let app = &fx.app;
    let (owner, helper, target) = (&fx.users[0], &fx.users[1], &fx.users[2]);
    let org = ok(
        app.post(
            "/api/v1/orgs",
            &owner.token,
            json!({ "name": unique("Preview") }),
        )
        .await,
        "org",
        201,
    )
    .await?;
    let slug = org["slug"].as_str().ok_or("slug")?.to_owned();
    let base = format!("/api/v1/orgs/{slug}");
    let mut custom = picked(&case.custom, &PERMISSIONS);
    if custom.is_empty() {
        custom.push("org.read");
    }
    ok(
        app.post(
            &format!("{base}/roles"),
            &owner.token,
            json!({ "name": "Custom", "permissions": custom }),
        )
        .await,
        "custom role",
        201,
    )
    .await?;
    let mut projects = Vec::new();
    for name in ["api", "web", "docs"] {
        let p = ok(
            app.post(
                &format!("{base}/projects"),
                &owner.token,
                json!({ "name": name }),
            )
            .await,
            "project",
            201,
        )
        .await?;
        projects.push(p["id"].as_str().ok_or("id")?.to_owned());
    }
    let actor = match ACTORS[case.actor] {
        "owner" => owner,
        role => {
            ok(app.add(owner, &slug, helper, &[role]).await, "actor", 201).await?;
            helper
        }
    };
    let mut start = picked(&case.start, &ROLES);
    if start.is_empty() {
        start.push("member");
    }
    ok(app.add(owner, &slug, target, &start).await, "target", 201).await?;
    if let Some(role) = case.group_role {
        ok(
            app.post(
                &format!("{base}/groups"),
                &owner.token,
                json!({ "name": "G" }),
            )
            .await,
            "group",
            201,
        )
        .await?;
        let members = format!("{base}/groups/G/members/{}", target.id);
        let r = app
            .req(
                reqwest::Method::PUT,
                &members,
                Some(&owner.token),
                Some(json!({})),
            )
            .await;
        ok(r, "group member", 200).await?;
        let grant = format!("{base}/groups/G/projects/api");
        let body = json!({ "role": PROJECT_ROLES[role] });
        let r = app
            .req(reqwest::Method::PUT, &grant, Some(&owner.token), Some(body))
            .await;
        ok(r, "group project", 200).await?;
    }
    if let Some(role) = case.direct_role {
        let path = format!("{base}/projects/web/members/{}", target.id);
        let r = app
            .req(
                reqwest::Method::PUT,
                &path,
                Some(&owner.token),
                Some(json!({ "role": PROJECT_ROLES[role] })),
            )
            .await;
        ok(r, "direct role", 200).await?;
    }

    let (perms_before, reach_before) = effective(fx, owner, &slug, &target.id, &projects).await?;
    let audit_before = app.audit(owner, &slug).await.len();
    let to = picked(&case.to, &ROLES);
    let path = format!("{base}/members/{}", target.id);
    let preview = app
        .patch(
            &format!("{path}?dry_run=true"),
            &actor.token,
            json!({ "roles": to }),
        )
        .await;
    let audit_between = app.audit(owner, &slug).await.len();
    if audit_between != audit_before {
        return Err("the preview wrote an audit event".into());
    }
    let real = app.patch(&path, &actor.token, json!({ "roles": to })).await;
    tally.count(
        "preview",
        format!("{} {}", preview.status.as_u16(), preview.code()),
    );
    if preview.status != 200 {
        if (preview.status, preview.code()) != (real.status, real.code()) {
            return Err(format!(
                "the preview was refused {} {}, the change {} {}",
                preview.status, preview.body, real.status, real.body
            ));
        }
        return Ok(());
    }
    if real.status != 200 {
        return Err(format!(
            "the preview passed, the change got {} {}",
            real.status, real.body
        ));
    }
    let (perms_after, reach_after) = effective(fx, owner, &slug, &target.id, &projects).await?;
    let names = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str().map(str::to_owned))
            .collect()
    };
    let (had, has) = (
        BTreeSet::from_iter(start.iter().map(|s| (*s).to_owned())),
        names(&real.body["roles"]),
    );
    let want = [
        (
            "roles_added",
            has.difference(&had).cloned().collect::<BTreeSet<_>>(),
        ),
        ("roles_removed", had.difference(&has).cloned().collect()),
        (
            "permissions_gained",
            perms_after.difference(&perms_before).cloned().collect(),
        ),
        (
            "permissions_lost",
            perms_before.difference(&perms_after).cloned().collect(),
        ),
    ];
    for (field, set) in want {
        if names(&preview.body[field]) != set {
            return Err(format!(
                "{field}: previewed {}, the change made {set:?}",
                preview.body[field]
            ));
        }
    }
    let moved: Vec<Value> = projects
        .iter()
        .zip(reach_before.iter().zip(&reach_after))
        .filter(|(_, (b, a))| b != a)
        .map(|(id, (b, a))| json!({ "id": id, "before": b, "after": a }))
        .collect();
    let previewed: Vec<Value> = preview.body["projects"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| json!({ "id": c["project"]["id"], "before": c["before"], "after": c["after"] }))
        .collect();
    let key = |v: &Value| v["id"].as_str().unwrap_or_default().to_owned();
    let (mut moved, mut previewed) = (moved, previewed);
    moved.sort_by_key(key);
    previewed.sort_by_key(key);
    if moved != previewed {
        return Err(format!(
            "projects: previewed {previewed:?}, the change moved {moved:?}"
        ));
    }
    Ok(())
}
