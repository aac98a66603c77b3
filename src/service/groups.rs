//! Groups: named sets of members given project roles on selected projects (R6, R11).

use super::projects::{granted_roles, reach};
use super::{Guildhall, OrgAccess, OrgRef, Page, Principal, Result, after, org_access};
use super::{Named, lost_race};
use crate::authz::eval;
use crate::domain::DomainError;
use crate::domain::audit::{Action, AuditEvent};
use crate::domain::error::Kind;
use crate::domain::ids::{GroupId, UserId};
use crate::domain::model::{Group, Project, User};
use crate::domain::names::{LocalName, name_key};
use crate::domain::permission::{Permission, ProjectRole};
use crate::domain::rules::{GrantPath, r6_group_place, r6_project_role};
use crate::ids::NewId as _;
use crate::store::{After, Tx};
use serde_json::json;

/// A group with its members and projects.
pub struct GroupDetail {
    /// The group.
    pub group: Group,
    /// Its members, by email.
    pub members: Vec<User>,
    /// Its projects and the role it gives on each.
    pub projects: Vec<(Project, ProjectRole)>,
}

/// A page of the organization's groups, by name (`members.read`).
pub async fn list_groups(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    from: Option<&After>,
    limit: u32,
) -> Result<Page<Group, After>> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access.actor.require(Permission::MembersRead)?;
    let rows = tx.groups(access.org.org.id, from, limit + 1).await?;
    Ok(Page::from_rows(rows, limit, |g| {
        after(name_key(&g.name), g.id.0)
    }))
}

/// A group with how many members and projects it has.
pub struct GroupSummary {
    /// The group.
    pub group: Group,
    /// Its number of members.
    pub members: u64,
    /// Its number of projects.
    pub projects: u64,
}

/// A page of the organization's groups with their counts, by name (`members.read`).
pub async fn list_group_summaries(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    from: Option<&After>,
    limit: u32,
) -> Result<Page<GroupSummary, After>> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access.actor.require(Permission::MembersRead)?;
    let rows = tx.groups(access.org.org.id, from, limit + 1).await?;
    let counts: std::collections::HashMap<GroupId, (u64, u64)> = tx
        .group_counts(access.org.org.id)
        .await?
        .into_iter()
        .map(|(g, m, p)| (g, (m, p)))
        .collect();
    let rows = rows
        .into_iter()
        .map(|group| {
            let (members, projects) = counts.get(&group.id).copied().unwrap_or((0, 0));
            GroupSummary {
                group,
                members,
                projects,
            }
        })
        .collect();
    Ok(Page::from_rows(rows, limit, |s: &GroupSummary| {
        after(name_key(&s.group.name), s.group.id.0)
    }))
}

/// A group with its members and projects (`members.read`).
pub async fn get_group(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    group: &str,
) -> Result<GroupDetail> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access.actor.require(Permission::MembersRead)?;
    let group = find(&mut *tx, &access, group).await?;
    detail(&mut *tx, group).await
}

/// Creates a group (`groups.manage`).
pub async fn create_group(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    name: LocalName,
) -> Result<GroupDetail> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    access.actor.require(Permission::GroupsManage)?;
    let org_id = access.org.org.id;
    if tx.group_name_taken(org_id, &name.key()).await? {
        return Err(DomainError::GroupNameTaken(name.as_str().to_owned()).into());
    }
    let group = Group {
        id: GroupId::new(),
        org: org_id,
        name: name.as_str().to_owned(),
        created_at: now,
    };
    tx.insert_group(&group, &name.key())
        .await
        .map_err(|e| lost_race(e, Named::Group(&group.name)))?;
    let event = AuditEvent::new(&who.actor(now), Action::GroupCreated, "group", group.id)
        .in_org(org_id)
        .named(group.name.as_str())
        .with_data(json!({ "name": group.name }));
    gh.commit(tx, vec![event]).await?;
    Ok(GroupDetail {
        group,
        members: Vec::new(),
        projects: Vec::new(),
    })
}

/// Renames a group (`groups.manage`).
pub async fn rename_group(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    group: &str,
    name: LocalName,
) -> Result<GroupDetail> {
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    access.actor.require(Permission::GroupsManage)?;
    let mut g = find(&mut *tx, &access, group).await?;
    if g.name != name.as_str() {
        if name_key(&g.name) != name.key() && tx.group_name_taken(g.org, &name.key()).await? {
            return Err(DomainError::GroupNameTaken(name.as_str().to_owned()).into());
        }
        let before = std::mem::replace(&mut g.name, name.as_str().to_owned());
        tx.update_group(&g, &name.key())
            .await
            .map_err(|e| lost_race(e, Named::Group(&g.name)))?;
        let event = AuditEvent::new(
            &who.actor(gh.clock.now()),
            Action::GroupRenamed,
            "group",
            g.id,
        )
        .in_org(g.org)
        .named(g.name.as_str())
        .with_data(json!({ "before": before, "after": g.name }));
        let d = detail(&mut *tx, g).await?;
        gh.commit(tx, vec![event]).await?;
        return Ok(d);
    }
    detail(&mut *tx, g).await
}

/// Deletes a group; its members lose the project roles it gave (`groups.manage`, and R6: only a
/// group whose every project role the caller could take away).
pub async fn delete_group(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    group: &str,
) -> Result<()> {
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    access.actor.require(Permission::GroupsManage)?;
    let g = find(&mut *tx, &access, group).await?;
    let projects = tx.group_projects(g.id).await?;
    check_carried(&mut *tx, who, &access, &projects).await?;
    tx.delete_group(g.org, g.id).await?;
    let event = AuditEvent::new(
        &who.actor(gh.clock.now()),
        Action::GroupDeleted,
        "group",
        g.id,
    )
    .in_org(g.org)
    .named(g.name.as_str())
    .with_data(json!({ "name": g.name }));
    gh.commit(tx, vec![event]).await?;
    Ok(())
}

/// R6: puts a member in a group, which gives them the group's project roles: only when the
/// caller could give each of those roles themselves.
pub async fn put_group_member(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    group: &str,
    user: UserId,
) -> Result<GroupDetail> {
    change_place(gh, who, org, group, user, true).await
}

/// R6: takes a member out of a group (the same bound: nobody takes away a role above their own).
pub async fn remove_group_member(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    group: &str,
    user: UserId,
) -> Result<GroupDetail> {
    change_place(gh, who, org, group, user, false).await
}

async fn change_place(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    group: &str,
    user: UserId,
    put: bool,
) -> Result<GroupDetail> {
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    access.actor.require(Permission::GroupsManage)?;
    let g = find(&mut *tx, &access, group).await?;
    if tx.member_roles(g.org, user).await?.is_none() {
        return Err(DomainError::NotFound(Kind::Member).into());
    }
    r6_group_place(who.user.id, user, put)?;
    let projects = tx.group_projects(g.id).await?;
    check_carried(&mut *tx, who, &access, &projects).await?;
    let (changed, action) = if put {
        let present = tx.group_members(g.id).await?.iter().any(|u| u.id == user);
        if !present {
            tx.put_group_member(g.org, g.id, user).await?;
        }
        (!present, Action::GroupMemberAdded)
    } else {
        let removed = tx.delete_group_member(g.org, g.id, user).await?;
        if !removed {
            return Err(DomainError::NotFound(Kind::Member).into());
        }
        (true, Action::GroupMemberRemoved)
    };
    let event = AuditEvent::new(&who.actor(gh.clock.now()), action, "group", g.id)
        .in_org(g.org)
        .named(g.name.as_str())
        .with_data(json!({ "user": user }));
    let d = detail(&mut *tx, g).await?;
    if changed {
        gh.commit(tx, vec![event]).await?;
    }
    Ok(d)
}

/// R6: gives a group a role on a project (replacing the one it had): only up to the caller's own
/// role on that project.
pub async fn put_group_project(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    group: &str,
    project: &str,
    role: ProjectRole,
) -> Result<GroupDetail> {
    set_group_project(gh, who, org, group, project, Some(role)).await
}

/// R6: takes a project from a group (never a role stronger than the caller's own on it).
pub async fn remove_group_project(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    group: &str,
    project: &str,
) -> Result<GroupDetail> {
    set_group_project(gh, who, org, group, project, None).await
}

/// Sets (`Some`) or takes (`None`) a group's role on a project. R6 bounds both the role given
/// and the role it replaces by the caller's own role on that project.
async fn set_group_project(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    group: &str,
    project: &str,
    role: Option<ProjectRole>,
) -> Result<GroupDetail> {
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    access.actor.require(Permission::GroupsManage)?;
    let g = find(&mut *tx, &access, group).await?;
    let (p, mine) = reach(&mut *tx, who, &access, project).await?;
    let before = tx
        .group_projects(g.id)
        .await?
        .into_iter()
        .find(|(x, _)| x.id == p.id)
        .map(|(_, r)| r);
    if role.is_none() && before.is_none() {
        return Err(DomainError::NotFound(Kind::Project).into());
    }
    for r in role.iter().chain(before.iter()) {
        r6_project_role(&access.actor, Some(mine), *r, GrantPath::Group)?;
    }
    let action = match role {
        Some(r) => {
            tx.put_group_project(g.org, g.id, p.id, r).await?;
            Action::GroupProjectSet
        }
        None => {
            tx.delete_group_project(g.org, g.id, p.id).await?;
            Action::GroupProjectRemoved
        }
    };
    let event = AuditEvent::new(&who.actor(gh.clock.now()), action, "group", g.id)
        .in_org(g.org)
        .named(g.name.as_str())
        .with_data(json!({
            "project": p.id,
            "project_name": p.name,
            "before": before.map(ProjectRole::as_str),
            "after": role.map(ProjectRole::as_str),
        }));
    let d = detail(&mut *tx, g).await?;
    gh.commit(tx, vec![event]).await?;
    Ok(d)
}

/// R6: the caller could give (or take) every project role in `projects` themselves.
async fn check_carried(
    tx: &mut dyn Tx,
    who: &Principal,
    access: &OrgAccess,
    projects: &[(Project, ProjectRole)],
) -> Result<()> {
    if projects.is_empty() {
        return Ok(());
    }
    let granted = granted_roles(tx, who, access, who.user.id).await?;
    for (p, role) in projects {
        let mine = eval::project_role(access.actor.permissions, granted.get(&p.id).copied());
        r6_project_role(&access.actor, mine, *role, GrantPath::Group)?;
    }
    Ok(())
}

async fn find(tx: &mut dyn Tx, access: &OrgAccess, group: &str) -> Result<Group> {
    if !super::projects::plausible_ref(group) {
        return Err(DomainError::NotFound(Kind::Group).into());
    }
    tx.group_by_ref(access.org.org.id, group)
        .await?
        .ok_or(DomainError::NotFound(Kind::Group).into())
}

async fn detail(tx: &mut dyn Tx, group: Group) -> Result<GroupDetail> {
    let members = tx.group_members(group.id).await?;
    let projects = tx.group_projects(group.id).await?;
    Ok(GroupDetail {
        group,
        members,
        projects,
    })
}
