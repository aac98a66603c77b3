//! Projects (R5, R11, R12) and direct project roles (R6).

use super::{Guildhall, OrgAccess, OrgRef, Page, Principal, Result, after, org_access};
use super::{Named, lost_race};
use crate::authz::eval;
use crate::domain::DomainError;
use crate::domain::audit::{Action, AuditEvent};
use crate::domain::error::Kind;
use crate::domain::ids::{ProjectId, UserId};
use crate::domain::model::{Project, User};
use crate::domain::names::{LocalName, name_key};
use crate::domain::permission::{Permission, ProjectPermission, ProjectRole};
use crate::domain::rules::{
    GrantPath, r6_own_project_role, r6_project_role, r11_project_action, r11_see_project_members,
    token_carries_project_roles,
};
use crate::ids::NewId as _;
use crate::store::{After, Tx};
use serde_json::json;
use std::collections::BTreeMap;

/// A project with the caller's strongest role on it.
pub type ReachedProject = (Project, ProjectRole);

/// R11: the strongest role `user` holds on each project of the organization they reach through a
/// grant (direct or group). An API token limited to some permissions carries no project roles:
/// only the organization permissions it names.
pub(super) async fn granted_roles(
    tx: &mut dyn Tx,
    who: &Principal,
    access: &OrgAccess,
    user: UserId,
) -> Result<BTreeMap<ProjectId, ProjectRole>> {
    let token_permissions = who.token().and_then(|t| t.permissions);
    if user == who.user.id && !token_carries_project_roles(token_permissions) {
        return Ok(BTreeMap::new());
    }
    let grants = tx.project_grants(access.org.org.id, user).await?;
    Ok(eval::strongest_grants(
        grants.into_iter().map(|g| (g.project, g.role)),
    ))
}

/// R11, R12: a project the caller reaches, with their role on it; anything else is `NotFound`.
pub(super) async fn reach(
    tx: &mut dyn Tx,
    who: &Principal,
    access: &OrgAccess,
    project: &str,
) -> Result<ReachedProject> {
    let not_found = || DomainError::NotFound(Kind::Project);
    if !plausible_ref(project) {
        return Err(not_found().into());
    }
    let p = tx
        .project_by_ref(access.org.org.id, project)
        .await?
        .ok_or_else(not_found)?;
    let granted = granted_roles(tx, who, access, who.user.id).await?;
    let role = eval::project_role(access.actor.permissions, granted.get(&p.id).copied())
        .ok_or_else(not_found)?;
    Ok((p, role))
}

/// The projects of the organization the caller reaches (R11), by name.
pub async fn list_projects(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    from: Option<&After>,
    limit: u32,
) -> Result<Page<ReachedProject, After>> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    let granted = granted_roles(&mut *tx, who, &access, who.user.id).await?;
    let org_role = ProjectRole::from_org(access.actor.permissions);
    let rows: Vec<ReachedProject> = if org_role.is_some() {
        tx.projects(access.org.org.id, from, limit + 1)
            .await?
            .into_iter()
            .filter_map(|p| {
                let role =
                    eval::project_role(access.actor.permissions, granted.get(&p.id).copied());
                role.map(|r| (p, r))
            })
            .collect()
    } else {
        // Only granted projects: few, so they are read whole and paged here.
        let mut all = Vec::new();
        let mut cursor = None;
        loop {
            let page = tx
                .projects(access.org.org.id, cursor.as_ref(), 1000)
                .await?;
            let done = page.len() < 1000;
            cursor = page.last().map(|p| after(name_key(&p.name), p.id.0));
            all.extend(
                page.into_iter()
                    .filter_map(|p| granted.get(&p.id).map(|r| (p.clone(), *r))),
            );
            if done {
                break;
            }
        }
        all.retain(|(p, _)| {
            from.is_none_or(|a| (name_key(&p.name), p.id.0) > (a.key.clone(), a.id))
        });
        all.truncate(limit as usize + 1);
        all
    };
    Ok(Page::from_rows(rows, limit, |(p, _)| {
        after(name_key(&p.name), p.id.0)
    }))
}

/// A project the caller reaches.
pub async fn get_project(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    project: &str,
) -> Result<ReachedProject> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    reach(&mut *tx, who, &access, project).await
}

/// Creates a project (`projects.create`); its creator gets `admin` on it, so a creator without
/// organization-wide reach can still see what they made.
pub async fn create_project(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    name: LocalName,
) -> Result<ReachedProject> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    access.actor.require(Permission::ProjectsCreate)?;
    let org_id = access.org.org.id;
    if tx.project_name_taken(org_id, &name.key()).await? {
        return Err(DomainError::ProjectNameTaken(name.as_str().to_owned()).into());
    }
    let project = Project {
        id: ProjectId::new(),
        org: org_id,
        name: name.as_str().to_owned(),
        created_at: now,
    };
    tx.insert_project(&project, &name.key())
        .await
        .map_err(|e| lost_race(e, Named::Project(&project.name)))?;
    tx.put_project_member(org_id, project.id, who.user.id, ProjectRole::Admin)
        .await?;
    super::billing::open_default_plan(&mut *tx, &gh.plans, &project).await?;
    let event = AuditEvent::new(
        &who.actor(now),
        Action::ProjectCreated,
        "project",
        project.id,
    )
    .in_org(org_id)
    .named(project.name.as_str())
    .with_data(json!({ "name": project.name }));
    gh.commit(tx, vec![event]).await?;
    Ok((project, ProjectRole::Admin))
}

/// Renames a project (`project.manage` on it).
pub async fn rename_project(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    project: &str,
    name: LocalName,
) -> Result<ReachedProject> {
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let (mut p, role) = reach(&mut *tx, who, &access, project).await?;
    r11_project_action(role, ProjectPermission::Manage)?;
    if p.name == name.as_str() {
        return Ok((p, role));
    }
    if name_key(&p.name) != name.key() && tx.project_name_taken(p.org, &name.key()).await? {
        return Err(DomainError::ProjectNameTaken(name.as_str().to_owned()).into());
    }
    let before = std::mem::replace(&mut p.name, name.as_str().to_owned());
    tx.update_project(&p, &name.key())
        .await
        .map_err(|e| lost_race(e, Named::Project(&p.name)))?;
    tx.rename_plan_project(p.id, &p.name).await?;
    let event = AuditEvent::new(
        &who.actor(gh.clock.now()),
        Action::ProjectRenamed,
        "project",
        p.id,
    )
    .in_org(p.org)
    .named(p.name.as_str())
    .with_data(json!({ "before": before, "after": p.name }));
    gh.commit(tx, vec![event]).await?;
    Ok((p, role))
}

/// Deletes a project with every grant on it (`project.delete` on it).
pub async fn delete_project(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    project: &str,
) -> Result<()> {
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let (p, role) = reach(&mut *tx, who, &access, project).await?;
    r11_project_action(role, ProjectPermission::Delete)?;
    tx.delete_project(p.org, p.id).await?;
    // Its plan history stays: the month it is deleted in is still billed for its days.
    let now = gh.clock.now();
    tx.close_plan_period(p.id, now, true).await?;
    let event = AuditEvent::new(&who.actor(now), Action::ProjectDeleted, "project", p.id)
        .in_org(p.org)
        .named(p.name.as_str())
        .with_data(json!({ "name": p.name }));
    gh.commit(tx, vec![event]).await?;
    Ok(())
}

/// R6: gives a member a direct role on a project (replacing the one they had): only up to the
/// giver's own role on that project, and never replacing a stronger one than that. Answers the
/// project with the giver's role on it, the member, and the role given.
pub async fn set_project_member(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    project: &str,
    user: UserId,
    role: ProjectRole,
) -> Result<(Project, ProjectRole, User, ProjectRole)> {
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let (p, mine) = reach(&mut *tx, who, &access, project).await?;
    if tx.member_roles(p.org, user).await?.is_none() {
        return Err(DomainError::NotFound(Kind::Member).into());
    }
    let member = tx
        .user_by_id(user)
        .await?
        .ok_or(DomainError::NotFound(Kind::Member))?;
    r6_own_project_role(who.user.id, user)?;
    let before = direct_role(&mut *tx, p.org, p.id, user).await?;
    r6_project_role(&access.actor, Some(mine), role, GrantPath::Direct)?;
    if let Some(old) = before {
        r6_project_role(&access.actor, Some(mine), old, GrantPath::Direct)?;
    }
    tx.put_project_member(p.org, p.id, user, role).await?;
    let event = AuditEvent::new(
        &who.actor(gh.clock.now()),
        Action::ProjectMemberSet,
        "project",
        p.id,
    )
    .in_org(p.org)
    .named(p.name.as_str())
    .with_data(
        json!({ "user": user, "before": before.map(ProjectRole::as_str), "after": role.as_str() }),
    );
    gh.commit(tx, vec![event]).await?;
    Ok((p, mine, member, role))
}

/// R6: takes a member's direct role on a project (never one stronger than the taker's own).
pub async fn remove_project_member(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    project: &str,
    user: UserId,
) -> Result<()> {
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let (p, mine) = reach(&mut *tx, who, &access, project).await?;
    let before = direct_role(&mut *tx, p.org, p.id, user)
        .await?
        .ok_or(DomainError::NotFound(Kind::Member))?;
    r6_project_role(&access.actor, Some(mine), before, GrantPath::Direct)?;
    tx.delete_project_member(p.org, p.id, user).await?;
    let event = AuditEvent::new(
        &who.actor(gh.clock.now()),
        Action::ProjectMemberRemoved,
        "project",
        p.id,
    )
    .in_org(p.org)
    .named(p.name.as_str())
    .with_data(json!({ "user": user, "before": before.as_str() }));
    gh.commit(tx, vec![event]).await?;
    Ok(())
}

/// Who holds a role on a project directly, by email (R11: the project must be reachable; its
/// `admin`s or holders of `members.read` see them).
pub async fn project_members(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    project: &str,
) -> Result<Vec<(User, ProjectRole)>> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    let (p, mine) = reach(&mut *tx, who, &access, project).await?;
    r11_see_project_members(&access.actor, mine)?;
    Ok(tx.project_members(p.id).await?)
}

async fn direct_role(
    tx: &mut dyn Tx,
    org: crate::domain::ids::OrgId,
    project: ProjectId,
    user: UserId,
) -> Result<Option<ProjectRole>> {
    Ok(tx
        .project_grants(org, user)
        .await?
        .into_iter()
        .find(|g| g.project == project && g.group.is_none())
        .map(|g| g.role))
}

/// Whether a path segment could name a project or group at all; anything else never reaches a
/// query (PostgreSQL refuses NUL characters outright).
pub(super) fn plausible_ref(key: &str) -> bool {
    !key.is_empty() && key.chars().count() <= 100 && !key.chars().any(char::is_control)
}
