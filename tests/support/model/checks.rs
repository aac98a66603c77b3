//! Properties of the server's state that every suite checks the same way, against the shared
//! [`Org`]: members and the one owner (R3), effective permissions and where each comes from.

use super::catalog::{PERMS, Perms};
use super::org::Org;
use super::runner::Fixture;
use serde_json::Value;
use std::collections::BTreeMap;

/// A permission list from the server, as a set; an error for a name not in SPEC §2.
pub fn perm_set(names: &[Value]) -> Result<Perms, String> {
    let names: Vec<&str> = names
        .iter()
        .map(|n| n.as_str().ok_or_else(|| format!("permission name {n}")))
        .collect::<Result<_, _>>()?;
    if let Some(bad) = names.iter().find(|n| !PERMS.contains(n)) {
        return Err(format!(
            "the server names a permission not in SPEC §2: {bad}"
        ));
    }
    Ok(Perms::of(&names))
}

/// The server's members and their roles are the model's, and R3 holds: the model's owner is
/// the one owner, in the member list and in the organization's own answer (read as the owner).
pub async fn members_and_owner(fx: &Fixture, slug: &str, org: &Org) -> Result<(), String> {
    let owner = &fx.users[org.owner];
    let server = fx.app.members(owner, slug).await;
    let mut model: Vec<(String, Vec<String>)> = org
        .members
        .iter()
        .map(|(u, roles)| {
            let mut names: Vec<String> = roles.iter().map(|r| org.name_of(*r)).collect();
            names.sort();
            (fx.id(*u).to_owned(), names)
        })
        .collect();
    model.sort();
    if server != model {
        return Err(format!(
            "members differ:\n  server {server:?}\n  model  {model:?}"
        ));
    }
    let owners: Vec<&String> = server
        .iter()
        .filter(|(_, roles)| roles.iter().any(|r| r == "owner"))
        .map(|(id, _)| id)
        .collect();
    if owners != [&owner.id] {
        return Err(format!(
            "R3: the owners are {owners:?}, not just {}",
            owner.id
        ));
    }
    let answer = fx
        .app
        .get(&format!("/api/v1/orgs/{slug}"), &owner.token)
        .await
        .expect(200)
        .body;
    if answer["owner"]["id"] != owner.id.as_str() {
        return Err(format!(
            "R3: the organization names {} as its owner",
            answer["owner"]
        ));
    }
    Ok(())
}

/// The `permissions` of a member's `GET /orgs/{org}/members/{user}/permissions` answer: each
/// permission their roles add up to (SPEC §1), each from exactly the roles of theirs that carry
/// it, and nothing else; `org.read` also from the membership itself (SPEC §3). Returns what they hold.
pub fn permissions_match(org: &Org, user: usize, body: &Value) -> Result<Perms, String> {
    let roles = org.members.get(&user).ok_or("not a member")?;
    let mut server = BTreeMap::new();
    for g in body["permissions"].as_array().ok_or("permissions")? {
        let p = g["permission"].as_str().ok_or("permission")?.to_owned();
        let mut from: Vec<String> = g["sources"]
            .as_array()
            .ok_or("sources")?
            .iter()
            .map(|s| s["role"].as_str().unwrap_or("?").to_owned())
            .collect();
        from.sort();
        if server.insert(p.clone(), from).is_some() {
            return Err(format!("{p} listed twice"));
        }
    }
    let held = org.member_perms(user);
    let wanted: BTreeMap<String, Vec<String>> = held
        .names()
        .into_iter()
        .map(|p| {
            // `org.read` comes from the membership itself too (named `member`).
            let floor = (p == "org.read").then(|| "member".to_owned());
            let mut from: Vec<String> = roles
                .iter()
                .filter(|r| org.perms_of(**r).has(p))
                .map(|r| org.name_of(*r))
                .chain(floor)
                .collect();
            from.sort();
            (p.to_owned(), from)
        })
        .collect();
    if server != wanted {
        return Err(format!(
            "effective permissions and their roles:\n  server {server:?}\n  model  {wanted:?}"
        ));
    }
    Ok(held)
}
