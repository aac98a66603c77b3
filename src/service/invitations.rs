//! Invitations (R9): an organization invites an email with roles; the invitee accepts or declines
//! with the token from the mail, signed in as that email or creating the account. Tokens are
//! random, stored only hashed, single use and valid 7 days; re-sending replaces the token, so the
//! old one dies at once. Expiry is computed from the clock: no job is needed.
//!
//! A second pending invitation to the same email in one organization is refused
//! (`invitation_pending`): the inviter re-sends the existing one instead. A partial unique index
//! backs this against races between processes.

use super::members::Member;
use super::{Guildhall, OrgRef, Page, Principal, Result, after, org_access, roles, users};
use super::{Named, lost_race};
use crate::domain::DomainError;
use crate::domain::audit::{Action, Actor, AuditEvent};
use crate::domain::ids::{InvitationId, UserId};
use crate::domain::invitation::{
    INVITATION_VALIDITY, Invitation, InvitationState, MailState, r9_addressee, r9_answerable,
    r9_still_open,
};
use crate::domain::model::{Org, User};
use crate::domain::names::{DisplayName, Email, Password};
use crate::domain::permission::{BuiltinRole, Permission};
use crate::domain::role::{AssignedRole, CustomRole};
use crate::domain::rules::r6_add_member;
use crate::ids::NewId as _;
use crate::mail::{Mail, html_escape};
use crate::secret::{TokenHash, TokenKind, new_token};
use crate::store::{After, Tx};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::json;
use std::collections::HashMap;

/// An invitation as the API shows it: with its organization, role names, inviter and state now.
#[derive(Clone, Debug)]
pub struct InvitationView {
    /// The invitation.
    pub invitation: Invitation,
    /// Its organization.
    pub org: Org,
    /// The roles it gives, by name.
    pub roles: Vec<String>,
    /// Who invited, if that account still exists.
    pub invited_by: Option<User>,
    /// Its state now (a pending one past its expiry is `expired`).
    pub state: InvitationState,
}

/// Who accepts: the signed-in addressee, or a person without an account who creates it with the
/// invitation's email.
pub enum Acceptor<'a> {
    /// The signed-in user; their email must be the invitation's.
    SignedIn(&'a Principal),
    /// A new account: name and password; its email is the invitation's.
    NewAccount {
        /// The display name.
        name: DisplayName,
        /// The password.
        password: Password,
        /// The client's address.
        ip: Option<String>,
    },
}

/// What accepting did.
pub enum Accepted {
    /// The signed-in user joined: the invitation, now accepted, and the membership.
    Joined(Box<InvitationView>, Member),
    /// A new account was made, joined, and signed in.
    Registered(User, super::sessions::NewSession),
}

/// R9, R6: invites `email` into `org` with roles (`members.invite`; only roles the inviter may
/// grant). Refused when the email is already a member (409 `already_member`) or has a pending
/// invitation here (409 `invitation_pending`). The invitee is mailed the link with the token.
pub async fn create_invitation(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    email: Email,
    role_names: &[String],
) -> Result<InvitationView> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let org_id = access.org.org.id;
    access.actor.require(Permission::MembersInvite)?;
    let roles = roles::resolve(&mut *tx, org_id, role_names).await?;
    r6_add_member(&access.actor, &roles)?;
    let key = email.key();
    if let Some((user, _)) = tx.user_by_email(&key).await?
        && tx.member_roles(org_id, user.id).await?.is_some()
    {
        return Err(DomainError::AlreadyMember.into());
    }
    if let Some(stored) = tx.pending_invitation(org_id, &key).await? {
        if stored.state_at(now) == InvitationState::Pending {
            return Err(DomainError::InvitationPending.into());
        }
        // Lapsed and never answered: record it as expired, making room for the new one.
        tx.close_invitation(stored.id, InvitationState::Expired, now)
            .await?;
    }
    let token = new_token(TokenKind::Invitation);
    let invitation = Invitation {
        id: InvitationId::new(),
        org: org_id,
        email: email.as_str().to_owned(),
        email_key: key,
        roles: encode(&roles),
        invited_by: Some(who.user.id),
        state: InvitationState::Pending,
        mail: MailState::Pending,
        created_at: now,
        expires_at: now + INVITATION_VALIDITY,
    };
    tx.insert_invitation(&invitation, &token.hash.0)
        .await
        .map_err(|e| lost_race(e, Named::Nothing))?;
    let names = super::orgs::names(&roles);
    let event = AuditEvent::new(
        &who.actor(now),
        Action::InvitationCreated,
        "invitation",
        invitation.id,
    )
    .in_org(org_id)
    .named(invitation.email.as_str())
    .with_data(
        json!({ "email": invitation.email, "roles": names, "expires_at": invitation.expires_at }),
    );
    let mut view = InvitationView {
        state: InvitationState::Pending,
        invitation,
        org: access.org.org,
        roles: names,
        invited_by: Some(who.user.clone()),
    };
    let mail = queue_invitation(
        &mut *tx,
        gh,
        &view,
        &who.user.name,
        &token.secret,
        &token.hash,
    )
    .await?;
    gh.commit(tx, vec![event])
        .await
        .map_err(|e| lost_race(e, Named::Nothing))?;
    view.invitation.mail = super::outbox::deliver(gh, mail).await;
    Ok(view)
}

/// A page of the organization's invitations, in every state, by email (`members.invite` or
/// `members.read`).
pub async fn list_invitations(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    from: Option<&After>,
    limit: u32,
) -> Result<Page<InvitationView, After>> {
    let now = gh.clock.now();
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access
        .actor
        .require(Permission::MembersRead)
        .or_else(|_| access.actor.require(Permission::MembersInvite))?;
    let org_id = access.org.org.id;
    let rows = tx.org_invitations(org_id, from, limit + 1).await?;
    let custom = tx.custom_roles(org_id).await?;
    let mut people = HashMap::new();
    let mut views = Vec::with_capacity(rows.len());
    for inv in rows {
        let invited_by = inviter(&mut *tx, &mut people, inv.invited_by).await?;
        views.push(InvitationView {
            state: inv.state_at(now),
            roles: role_names(&inv.roles, &custom),
            org: access.org.org.clone(),
            invitation: inv,
            invited_by,
        });
    }
    Ok(Page::from_rows(views, limit, |v: &InvitationView| {
        after(v.invitation.email_key.clone(), v.invitation.id.0)
    }))
}

/// R9: takes back an invitation nobody answered (`members.invite`); its token stops working.
pub async fn revoke_invitation(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    id: InvitationId,
) -> Result<()> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    access.actor.require(Permission::MembersInvite)?;
    let org_id = access.org.org.id;
    let inv = tx
        .invitation(org_id, id)
        .await?
        .ok_or(DomainError::InvitationNotFound)?;
    r9_still_open(&inv)?;
    tx.close_invitation(inv.id, InvitationState::Revoked, now)
        .await?;
    let event = AuditEvent::new(
        &who.actor(now),
        Action::InvitationRevoked,
        "invitation",
        inv.id,
    )
    .in_org(org_id)
    .named(inv.email.as_str())
    .with_data(json!({ "email": inv.email }));
    gh.commit(tx, vec![event]).await?;
    Ok(())
}

/// R9: re-sends an invitation nobody answered (`members.invite`): a new token replaces the old
/// one, which dies at once, and the 7 days start again (so an expired one is renewed).
pub async fn resend_invitation(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    id: InvitationId,
) -> Result<InvitationView> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    access.actor.require(Permission::MembersInvite)?;
    let org_id = access.org.org.id;
    let mut inv = tx
        .invitation(org_id, id)
        .await?
        .ok_or(DomainError::InvitationNotFound)?;
    r9_still_open(&inv)?;
    if let Some((user, _)) = tx.user_by_email(&inv.email_key).await?
        && tx.member_roles(org_id, user.id).await?.is_some()
    {
        return Err(DomainError::AlreadyMember.into());
    }
    let token = new_token(TokenKind::Invitation);
    inv.expires_at = now + INVITATION_VALIDITY;
    inv.mail = MailState::Pending;
    tx.renew_invitation(inv.id, &token.hash.0, inv.expires_at)
        .await?;
    let custom = tx.custom_roles(org_id).await?;
    let mut people = HashMap::new();
    let invited_by = inviter(&mut *tx, &mut people, inv.invited_by).await?;
    let event = AuditEvent::new(
        &who.actor(now),
        Action::InvitationResent,
        "invitation",
        inv.id,
    )
    .in_org(org_id)
    .named(inv.email.as_str())
    .with_data(json!({ "email": inv.email, "expires_at": inv.expires_at }));
    let mut view = InvitationView {
        state: InvitationState::Pending,
        roles: role_names(&inv.roles, &custom),
        invitation: inv,
        org: access.org.org,
        invited_by,
    };
    let mail = queue_invitation(
        &mut *tx,
        gh,
        &view,
        &who.user.name,
        &token.secret,
        &token.hash,
    )
    .await?;
    gh.commit(tx, vec![event]).await?;
    view.invitation.mail = super::outbox::deliver(gh, mail).await;
    Ok(view)
}

/// A page of the invitations addressed to the caller's email (matched case-insensitively) that
/// nobody answered yet, expired ones included and shown so, oldest first.
pub async fn my_invitations(
    gh: &Guildhall,
    who: &Principal,
    from: Option<&After>,
    limit: u32,
) -> Result<Page<InvitationView, After>> {
    let now = gh.clock.now();
    let mut tx = gh.store.read().await?;
    let key = who.user.email.to_lowercase();
    let mut people = HashMap::new();
    let mut out = Vec::new();
    for inv in tx.invitations_to(&key).await? {
        if !who.reaches(inv.org) || from.is_some_and(|a| inv.id.0 <= a.id) {
            continue;
        }
        if out.len() > limit as usize {
            break;
        }
        let Some(org) = tx.org_by_id(inv.org).await? else {
            continue;
        };
        let custom = tx.custom_roles(inv.org).await?;
        let invited_by = inviter(&mut *tx, &mut people, inv.invited_by).await?;
        out.push(InvitationView {
            state: inv.state_at(now),
            roles: role_names(&inv.roles, &custom),
            org: org.org,
            invitation: inv,
            invited_by,
        });
    }
    Ok(Page::from_rows(out, limit, |v: &InvitationView| {
        after(String::new(), v.invitation.id.0)
    }))
}

/// The invitation `token` opens, for the page its mail links to (the token is the proof: no
/// sign-in needed). Answered, revoked and unknown tokens are `invitation_not_found` alike; an
/// expired one `invitation_expired` (R9).
pub async fn invitation_by_token(gh: &Guildhall, token: &str) -> Result<InvitationView> {
    let now = gh.clock.now();
    let mut tx = gh.store.read().await?;
    let inv = tx
        .invitation_by_hash(&TokenHash::of(token.trim()).0)
        .await?
        .ok_or(DomainError::InvitationNotFound)?;
    r9_answerable(&inv, now)?;
    let org = tx
        .org_by_id(inv.org)
        .await?
        .ok_or(DomainError::InvitationNotFound)?;
    let custom = tx.custom_roles(inv.org).await?;
    let invited_by = inviter(&mut *tx, &mut HashMap::new(), inv.invited_by).await?;
    Ok(InvitationView {
        state: inv.state_at(now),
        roles: role_names(&inv.roles, &custom),
        org: org.org,
        invitation: inv,
        invited_by,
    })
}

/// R9: accepts the invitation whose token is `token`, once. The signed-in addressee joins with
/// the invitation's roles; a person without an account creates it with the invitation's email
/// (and their personal organization, R2), joins and is signed in, in one transaction. Unknown, used, declined,
/// revoked and re-sent-away tokens all answer `invitation_not_found`; an expired one
/// `invitation_expired`.
pub async fn accept_invitation(gh: &Guildhall, token: &str, who: Acceptor<'_>) -> Result<Accepted> {
    let password_hash = match &who {
        Acceptor::NewAccount { password, name, .. } => {
            // The password must pass the strength rule for the account it makes (ASVS 6.2.4),
            // whose email is the invitation's: read it first. Then hash before taking the write
            // lock: it is the slow part.
            let email = {
                let mut read = gh.store.read().await?;
                let inv = read
                    .invitation_by_hash(&TokenHash::of(token.trim()).0)
                    .await?
                    .ok_or(DomainError::InvitationNotFound)?;
                r9_answerable(&inv, gh.clock.now())?;
                inv.email
            };
            let password = gh
                .hasher
                .choose(password.clone(), &email, name.as_str())
                .await?;
            Some(gh.hasher.hash(password).await?)
        }
        Acceptor::SignedIn(_) => None,
    };
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let inv = answerable(&mut *tx, token, now).await?;
    let custom = tx.custom_roles(inv.org).await?;
    let roles = decode(&inv.roles, &custom);
    let names = super::orgs::names(&roles);
    let mut session_made = None;
    let (user, actor, mut events) = match &who {
        Acceptor::SignedIn(p) => {
            if !p.reaches(inv.org) {
                return Err(DomainError::TokenLimited.into());
            }
            r9_addressee(&inv, &p.user.email.to_lowercase())?;
            if tx.member_roles(inv.org, p.user.id).await?.is_some() {
                // Left pending: the organization may revoke it; nothing changes here.
                return Err(DomainError::AlreadyMember.into());
            }
            (p.user.clone(), p.actor(now), Vec::new())
        }
        Acceptor::NewAccount { name, ip, .. } => {
            let email = Email::parse(&inv.email).map_err(|_| {
                crate::service::Error::Internal("stored invitation email unreadable".into())
            })?;
            let user = User {
                id: UserId::new(),
                email: email.as_str().to_owned(),
                name: name.as_str().to_owned(),
                created_at: now,
                disabled_at: None,
            };
            let actor = Actor {
                user: Some(user.id),
                token: None,
                ip: ip.clone(),
                now,
            };
            let (user, _, events) = users::create_account(
                &mut *tx,
                &email,
                name,
                password_hash.as_deref(),
                &actor,
                user,
            )
            .await?;
            // Signed up by accepting: signed in too, as a console expects.
            let (session, event) = super::sessions::new_session(gh, &mut *tx, &actor).await?;
            let mut events = events;
            events.push(event);
            session_made = Some(session);
            (user, actor, events)
        }
    };
    tx.insert_member(inv.org, user.id, &roles, now)
        .await
        .map_err(|e| lost_race(e, Named::Nothing))?;
    if !tx
        .close_invitation(inv.id, InvitationState::Accepted, now)
        .await?
    {
        return Err(DomainError::InvitationNotFound.into());
    }
    events.push(
        AuditEvent::new(&actor, Action::InvitationAccepted, "invitation", inv.id)
            .in_org(inv.org)
            .named(inv.email.as_str())
            .with_data(json!({ "email": inv.email, "user": user.id })),
    );
    events.push(
        AuditEvent::new(&actor, Action::MemberAdded, "member", user.id)
            .in_org(inv.org)
            .with_data(json!({ "email": user.email, "roles": names, "invitation": inv.id })),
    );
    let org = tx
        .org_by_id(inv.org)
        .await?
        .ok_or(DomainError::InvitationNotFound)?;
    let mut people = HashMap::new();
    let invited_by = inviter(&mut *tx, &mut people, inv.invited_by).await?;
    gh.commit(tx, events)
        .await
        .map_err(|e| lost_race(e, Named::Email(&user.email)))?;
    tracing::info!(user.id = %user.id, org.id = %inv.org, "invitation accepted");
    Ok(match who {
        Acceptor::SignedIn(_) => {
            let member = Member {
                user,
                roles,
                groups: Vec::new(),
            };
            let mut invitation = inv;
            invitation.state = InvitationState::Accepted;
            Accepted::Joined(
                Box::new(InvitationView {
                    state: InvitationState::Accepted,
                    invitation,
                    org: org.org,
                    roles: names,
                    invited_by,
                }),
                member,
            )
        }
        Acceptor::NewAccount { .. } => match session_made {
            Some(session) => Accepted::Registered(user, session),
            None => return Err(crate::service::Error::Internal("no session made".into())),
        },
    })
}

/// R9: declines the invitation whose token is `token`. The token suffices; a signed-in caller
/// must be its addressee, and an API token limited to another organization is refused, as
/// accepting refuses it (R12).
pub async fn decline_invitation(
    gh: &Guildhall,
    token: &str,
    who: Option<&Principal>,
    ip: Option<String>,
) -> Result<()> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let inv = answerable(&mut *tx, token, now).await?;
    let actor = match who {
        Some(p) => {
            // R12, as accepting: a token limited to another organization answers nothing here.
            if !p.reaches(inv.org) {
                return Err(DomainError::TokenLimited.into());
            }
            r9_addressee(&inv, &p.user.email.to_lowercase())?;
            p.actor(now)
        }
        None => Actor {
            user: None,
            token: None,
            ip,
            now,
        },
    };
    if !tx
        .close_invitation(inv.id, InvitationState::Declined, now)
        .await?
    {
        return Err(DomainError::InvitationNotFound.into());
    }
    let event = AuditEvent::new(&actor, Action::InvitationDeclined, "invitation", inv.id)
        .in_org(inv.org)
        .named(inv.email.as_str())
        .with_data(json!({ "email": inv.email }));
    gh.commit(tx, vec![event]).await?;
    Ok(())
}

/// The invitation `token` opens, locked for an answer: its organization's row is locked first and
/// the invitation read again, so of two answers racing, the second sees the first's.
async fn answerable(
    tx: &mut dyn Tx,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Invitation> {
    let hash = TokenHash::of(token.trim());
    let found = tx
        .invitation_by_hash(&hash.0)
        .await?
        .ok_or(DomainError::InvitationNotFound)?;
    if !tx.lock_org(found.org).await? {
        return Err(DomainError::InvitationNotFound.into());
    }
    let inv = tx
        .invitation_by_hash(&hash.0)
        .await?
        .ok_or(DomainError::InvitationNotFound)?;
    r9_answerable(&inv, now)?;
    Ok(inv)
}

/// Queues, in `tx`, the invitation's mail with its link; the outbox records on the invitation
/// whether it went out.
async fn queue_invitation(
    tx: &mut dyn Tx,
    gh: &Guildhall,
    view: &InvitationView,
    inviter: &str,
    secret: &SecretString,
    hash: &TokenHash,
) -> Result<super::outbox::Queued> {
    let org = &view.org.name;
    let link = format!(
        "{}/invitations/accept?token={}",
        gh.public_url,
        secret.expose_secret()
    );
    let expires = crate::mail::when(view.invitation.expires_at);
    let mail = Mail {
        to: view.invitation.email.clone(),
        subject: format!("{inviter} invites you to join {org} on Guildhall"),
        text: format!(
            "{inviter} invites you to join the organization {org} as {}.\n\n\
             Accept or decline before {expires}:\n{link}\n\n\
             If you have no Guildhall account yet, the link lets you create one with this address.\n",
            view.roles.join(", ")
        ),
        html: format!(
            "<p>{} invites you to join the organization <b>{}</b> as {}.</p>\
             <p><a href=\"{}\">Accept or decline</a> before {expires}.</p>\
             <p>If you have no Guildhall account yet, the link lets you create one with this address.</p>",
            html_escape(inviter),
            html_escape(org),
            html_escape(&view.roles.join(", ")),
            html_escape(&link),
        ),
    };
    super::outbox::queue(tx, &mail, Some((view.invitation.id, hash))).await
}

async fn inviter(
    tx: &mut dyn Tx,
    cache: &mut HashMap<UserId, Option<User>>,
    id: Option<UserId>,
) -> Result<Option<User>> {
    let Some(id) = id else { return Ok(None) };
    if let Some(u) = cache.get(&id) {
        return Ok(u.clone());
    }
    let u = tx.user_by_id(id).await?;
    cache.insert(id, u.clone());
    Ok(u)
}

/// Roles as an invitation stores them: built-in names, custom roles by id (so a renamed custom
/// role still applies).
fn encode(roles: &[AssignedRole]) -> Vec<String> {
    roles
        .iter()
        .map(|r| match r {
            AssignedRole::Builtin(b) => b.as_str().to_owned(),
            AssignedRole::Custom(c) => c.id.0.to_string(),
        })
        .collect()
}

/// The roles an invitation gives now. A custom role deleted since is dropped; if nothing is left
/// the invitee joins as `member`, which grants only `org.read`.
fn decode(stored: &[String], custom: &[CustomRole]) -> Vec<AssignedRole> {
    let mut roles: Vec<AssignedRole> = stored
        .iter()
        .filter_map(|s| match BuiltinRole::parse(s) {
            Some(b) => Some(AssignedRole::Builtin(b)),
            None => {
                let id = uuid::Uuid::parse_str(s).ok()?;
                custom
                    .iter()
                    .find(|c| c.id.0 == id)
                    .cloned()
                    .map(AssignedRole::Custom)
            }
        })
        .collect();
    if roles.is_empty() {
        roles.push(AssignedRole::Builtin(BuiltinRole::Member));
    }
    roles
}

fn role_names(stored: &[String], custom: &[CustomRole]) -> Vec<String> {
    super::orgs::names(&decode(stored, custom))
}
