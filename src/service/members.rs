//! Members: list, add a registered user, change roles (R3, R6), remove, effective permissions.

use super::{
    Guildhall, OrgAccess, OrgRef, Page, Principal, Result, after, org_access, orgs::names, roles,
};
use super::{Named, lost_race};
use crate::authz::eval::{self, Grant, OrgWideReach, ProjectSource, explain, explain_org_reach};
use crate::domain::DomainError;
use crate::domain::audit::{Action, AuditEvent};
use crate::domain::error::Kind;
use crate::domain::ids::{ProjectId, UserId};
use crate::domain::invitation::PasswordPurpose;
use crate::domain::model::User;
use crate::domain::names::{DisplayName, Email};
use crate::domain::permission::{Permission, ProjectRole};
use crate::domain::role::AssignedRole;
use crate::domain::rules::{MemberFacts, r6_add_member, r6_change_roles, r6_remove_member};
use crate::ids::NewId as _;
use crate::secret::{TokenKind, new_token};
use crate::store::After;
use serde_json::json;

/// A member: the user, the roles they hold and the groups they are in.
#[derive(Clone, Debug)]
pub struct Member {
    /// The user.
    pub user: User,
    /// Their roles.
    pub roles: Vec<AssignedRole>,
    /// The names of their groups.
    pub groups: Vec<String>,
}

/// The names of `user`'s groups in `org`.
async fn groups_of(
    tx: &mut dyn crate::store::Tx,
    org: crate::domain::ids::OrgId,
    user: UserId,
) -> Result<Vec<String>> {
    Ok(tx
        .member_groups(org)
        .await?
        .into_iter()
        .filter(|(u, _)| *u == user)
        .map(|(_, g)| g)
        .collect())
}

/// A page of members, by email (`members.read`).
pub async fn list_members(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    from: Option<&After>,
    limit: u32,
) -> Result<Page<Member, After>> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access.actor.require(Permission::MembersRead)?;
    members_in(&mut *tx, &access, from, limit).await
}

/// What a members page shows, read in one transaction: the organization as the caller sees it,
/// a page of its members (`members.read`), and every role of the organization, built-in then
/// custom (the console offers those R6 lets the caller grant).
pub async fn members_page(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    from: Option<&After>,
    limit: u32,
) -> Result<(OrgAccess, Page<Member, After>, Vec<AssignedRole>)> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access.actor.require(Permission::MembersRead)?;
    let page = members_in(&mut *tx, &access, from, limit).await?;
    let custom = tx.custom_roles(access.org.org.id).await?;
    let roles = crate::domain::permission::BuiltinRole::ALL
        .iter()
        .map(|b| AssignedRole::Builtin(*b))
        .chain(custom.into_iter().map(AssignedRole::Custom))
        .collect();
    Ok((access, page, roles))
}

async fn members_in(
    tx: &mut dyn crate::store::Tx,
    access: &OrgAccess,
    from: Option<&After>,
    limit: u32,
) -> Result<Page<Member, After>> {
    let org_id = access.org.org.id;
    let rows = tx.members(org_id, from, limit + 1).await?;
    let mut places: std::collections::HashMap<UserId, Vec<String>> =
        std::collections::HashMap::new();
    for (u, g) in tx.member_groups(org_id).await? {
        places.entry(u).or_default().push(g);
    }
    let rows = rows
        .into_iter()
        .map(|(user, roles)| {
            let groups = places.remove(&user.id).unwrap_or_default();
            Member {
                user,
                roles,
                groups,
            }
        })
        .collect();
    Ok(Page::from_rows(rows, limit, |m: &Member| {
        after(m.user.email.to_lowercase(), m.user.id.0)
    }))
}

/// R6: adds a registered user with roles (`members.invite`; each role one the caller may grant).
/// With `register` (R10, the new account's name), the account is created first.
pub async fn add_member(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    email: Email,
    role_names: &[String],
    register: Option<DisplayName>,
) -> Result<Member> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let org_id = access.org.org.id;
    access.actor.require(Permission::MembersInvite)?;
    let roles = roles::resolve(&mut *tx, org_id, role_names).await?;
    r6_add_member(&access.actor, &roles)?;
    if let Some(name) = register {
        return register_and_add(
            gh,
            who,
            tx,
            org_id,
            &access.org.org.name,
            email,
            name,
            roles,
        )
        .await;
    }
    let (user, _) = tx
        .user_by_email(&email.key())
        .await?
        .ok_or_else(|| DomainError::NotRegistered(email.as_str().to_owned()))?;
    if tx.member_roles(org_id, user.id).await?.is_some() {
        return Err(DomainError::AlreadyMember.into());
    }
    tx.insert_member(org_id, user.id, &roles, now)
        .await
        .map_err(|e| lost_race(e, Named::Nothing))?;
    let event = AuditEvent::new(&who.actor(now), Action::MemberAdded, "member", user.id)
        .in_org(org_id)
        .with_data(json!({ "email": user.email, "roles": names(&roles) }));
    gh.commit(tx, vec![event])
        .await
        .map_err(|e| lost_race(e, Named::Nothing))?;
    Ok(Member {
        user,
        roles,
        groups: Vec::new(),
    })
}

/// R10: creates the account of someone not yet registered (no usable password: it cannot sign
/// in until one is set), with its personal organization (R2), adds it with `roles`, and mails it
/// a one-time link to set its password (24 hours, single use). One transaction.
#[expect(
    clippy::too_many_arguments,
    reason = "one use case's facts, gathered by add_member"
)]
async fn register_and_add(
    gh: &Guildhall,
    who: &Principal,
    mut tx: Box<dyn crate::store::Tx>,
    org_id: crate::domain::ids::OrgId,
    org_name: &str,
    email: Email,
    name: DisplayName,
    roles: Vec<AssignedRole>,
) -> Result<Member> {
    let now = gh.clock.now();
    let actor = who.actor(now);
    let user = User {
        id: UserId::new(),
        email: email.as_str().to_owned(),
        name: name.as_str().to_owned(),
        created_at: now,
        disabled_at: None,
    };
    let (user, _, mut events) =
        super::users::create_account(&mut *tx, &email, &name, None, &actor, user).await?;
    tx.insert_member(org_id, user.id, &roles, now)
        .await
        .map_err(|e| lost_race(e, Named::Nothing))?;
    let token = new_token(TokenKind::PasswordLink);
    super::passwords::issue(&mut *tx, &user, PasswordPurpose::Set, &token, now).await?;
    events.push(
        AuditEvent::new(&actor, Action::MemberAdded, "member", user.id)
            .in_org(org_id)
            .with_data(json!({ "email": user.email, "roles": names(&roles), "registered": true })),
    );
    let mail = super::passwords::queue_link(
        &mut *tx,
        &gh.public_url,
        &user,
        PasswordPurpose::Set,
        &token,
        Some(org_name),
    )
    .await?;
    gh.commit(tx, events)
        .await
        .map_err(|e| lost_race(e, Named::Email(&user.email)))?;
    super::outbox::deliver(gh, mail).await;
    Ok(Member {
        user,
        roles,
        groups: Vec::new(),
    })
}

/// A role change that R3 and R6 admit, not yet written: the roles before and after.
struct PlannedChange {
    org: crate::domain::ids::OrgId,
    target_user: User,
    before: Vec<AssignedRole>,
    after: Vec<AssignedRole>,
}

/// Checks a change of `user`'s roles to `role_names` in `tx` exactly as making it does: the
/// preview and the change are refused by the same rules, in the same order.
async fn plan_role_change(
    tx: &mut dyn crate::store::Tx,
    who: &Principal,
    org: &OrgRef,
    user: UserId,
    role_names: &[String],
    lock: bool,
) -> Result<PlannedChange> {
    let access = org_access(&mut *tx, who, org, lock).await?;
    let org_id = access.org.org.id;
    access.actor.require(Permission::MembersManage)?;
    let target = target(&mut *tx, org_id, user).await?;
    let requested = roles::resolve(&mut *tx, org_id, role_names).await?;
    let change = r6_change_roles(&access.actor, &target, requested)?;
    let target_user = tx
        .user_by_id(user)
        .await?
        .ok_or(DomainError::NotFound(Kind::Member))?;
    let mut after: Vec<AssignedRole> = target
        .roles
        .iter()
        .filter(|r| !change.removed.iter().any(|x| x.same_role(r)))
        .cloned()
        .collect();
    after.extend(change.added.iter().cloned());
    Ok(PlannedChange {
        org: org_id,
        target_user,
        before: target.roles,
        after,
    })
}

/// R3, R6: sets a member's roles. Checked and written under the organization's lock, so two
/// concurrent changes cannot together break a rule.
pub async fn change_member_roles(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    user: UserId,
    role_names: &[String],
) -> Result<Member> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let plan = plan_role_change(&mut *tx, who, org, user, role_names, true).await?;
    let groups = groups_of(&mut *tx, plan.org, user).await?;
    let unchanged = plan.before.len() == plan.after.len()
        && plan
            .after
            .iter()
            .all(|r| plan.before.iter().any(|b| b.same_role(r)));
    if unchanged {
        return Ok(Member {
            user: plan.target_user,
            roles: plan.before,
            groups,
        });
    }
    tx.set_member_roles(plan.org, user, &plan.after).await?;
    let event = AuditEvent::new(&who.actor(now), Action::MemberRolesChanged, "member", user)
        .in_org(plan.org)
        .with_data(json!({ "before": names(&plan.before), "after": names(&plan.after) }));
    gh.commit(tx, vec![event]).await?;
    Ok(Member {
        user: plan.target_user,
        roles: plan.after,
        groups,
    })
}

/// R3, R6: what changing a member's roles would do, refused exactly when the change would be;
/// nothing is written and nothing audited. Projects are named `(id, name)`.
pub async fn preview_member_roles(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    user: UserId,
    role_names: &[String],
) -> Result<crate::authz::preview::RoleChangePreview<(ProjectId, String)>> {
    let mut tx = gh.store.read().await?;
    let plan = plan_role_change(&mut *tx, who, org, user, role_names, false).await?;
    let grants = tx.project_grants(plan.org, user).await?;
    let granted: std::collections::BTreeMap<(ProjectId, String), ProjectRole> =
        eval::strongest_grants(
            grants
                .into_iter()
                .map(|g| ((g.project, g.project_name), g.role)),
        );
    let mut projects = Vec::new();
    let mut from: Option<After> = None;
    loop {
        let page = tx.projects(plan.org, from.as_ref(), 1000).await?;
        let full = page.len() == 1000;
        from = page
            .last()
            .map(|p| after(crate::domain::names::name_key(&p.name), p.id.0));
        projects.extend(page.into_iter().map(|p| (p.id, p.name)));
        if !full {
            break;
        }
    }
    Ok(crate::authz::preview::role_change(
        &plan.before,
        &plan.after,
        projects,
        &granted,
    ))
}

/// R3, R6: removes a member with everything they hold in the organization.
pub async fn remove_member(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    user: UserId,
) -> Result<()> {
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let org_id = access.org.org.id;
    access.actor.require(Permission::MembersManage)?;
    let target = target(&mut *tx, org_id, user).await?;
    r6_remove_member(&access.actor, &target)?;
    tx.delete_member(org_id, user).await?;
    let event = AuditEvent::new(
        &who.actor(gh.clock.now()),
        Action::MemberRemoved,
        "member",
        user,
    )
    .in_org(org_id)
    .with_data(json!({ "roles": names(&target.roles) }));
    gh.commit(tx, vec![event]).await?;
    Ok(())
}

/// A member's effective permissions and project reach, with where each comes from.
pub struct Effective {
    /// The member.
    pub user: User,
    /// Organization permissions and their sources.
    pub permissions: Vec<Grant>,
    /// Reach over every project, from the member's roles.
    pub all_projects: Option<OrgWideReach>,
    /// Projects granted directly or through groups: the project, its name, the effective role
    /// (organization-wide reach included) and the grants.
    pub granted: Vec<(ProjectId, String, ProjectRole, Vec<ProjectSource>)>,
}

/// A member's effective permissions with where each comes from: one's own, or anyone's with
/// `members.read`.
pub async fn member_permissions(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    user: UserId,
) -> Result<Effective> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    if user != who.user.id {
        access.actor.require(Permission::MembersRead)?;
    }
    let org_id = access.org.org.id;
    let target = target(&mut *tx, org_id, user).await?;
    let target_user = tx
        .user_by_id(user)
        .await?
        .ok_or(DomainError::NotFound(Kind::Member))?;
    let all_projects = explain_org_reach(&target.roles);
    let grants = tx.project_grants(org_id, user).await?;
    let strongest = eval::strongest_grants(grants.iter().map(|g| (g.project, g.role)));
    let permissions = eval::permissions(&target.roles, None);
    let mut granted: Vec<(ProjectId, String, ProjectRole, Vec<ProjectSource>)> = Vec::new();
    for g in grants {
        let source = ProjectSource {
            kind: if g.group.is_some() { "group" } else { "direct" },
            name: g.group.clone(),
            role: g.role,
        };
        match granted.iter_mut().find(|(p, ..)| *p == g.project) {
            Some((.., sources)) => sources.push(source),
            None => {
                let role = eval::project_role(permissions, strongest.get(&g.project).copied())
                    .unwrap_or(g.role);
                granted.push((g.project, g.project_name.clone(), role, vec![source]));
            }
        }
    }
    granted.sort_by_key(|g| g.1.to_lowercase());
    Ok(Effective {
        user: target_user,
        permissions: explain(&target.roles),
        all_projects,
        granted,
    })
}

async fn target(
    tx: &mut dyn crate::store::Tx,
    org: crate::domain::ids::OrgId,
    user: UserId,
) -> Result<MemberFacts> {
    let roles = tx
        .member_roles(org, user)
        .await?
        .ok_or(DomainError::NotFound(Kind::Member))?;
    Ok(MemberFacts { user, roles })
}
