//! Personal access tokens: shown once, stored hashed, optionally limited to one organization and
//! to a subset of the owner's permissions (R6), expiring, revocable.

use super::{Credential, Guildhall, OrgRef, Page, Principal, Result, after, org_access};
use crate::authz::eval;
use crate::domain::DomainError;
use crate::domain::audit::{Action, AuditEvent};
use crate::domain::error::Kind;
use crate::domain::ids::TokenId;
use crate::domain::model::{ApiToken, OrgWithOwner};
use crate::domain::permission::PermSet;
use crate::domain::rules::{r6_mint_token, r6_revoke_token, r6_token_permissions, token_room};
use crate::ids::NewId as _;
use crate::secret::{TokenKind, new_token};
use crate::store::After;
use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::SecretString;
use serde_json::json;

/// A token request, parsed.
#[derive(Debug)]
pub struct NewTokenInput {
    /// A name to recognise it by.
    pub name: String,
    /// The one organization it is limited to.
    pub org: Option<OrgRef>,
    /// The permissions it is limited to.
    pub permissions: Option<PermSet>,
    /// When it stops working; the server's default lifetime when not given.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether it may ask the check API.
    pub can_check: bool,
}

/// A page of the caller's tokens, newest first (by `created_at`, then id), expired ones
/// included until they are revoked.
pub async fn list_tokens(
    gh: &Guildhall,
    who: &Principal,
    from: Option<&After>,
    limit: u32,
) -> Result<Page<ApiToken, After>> {
    let from = from.map(position).transpose()?;
    let mut tx = gh.store.read().await?;
    let rows = tx.tokens_page(who.user.id, from, limit + 1).await?;
    Ok(Page::from_rows(rows, limit, |t| {
        after(
            t.created_at.to_rfc3339_opts(SecondsFormat::Nanos, true),
            t.id.0,
        )
    }))
}

/// The listing position a cursor holds: a token's `created_at` and id.
fn position(a: &After) -> Result<(DateTime<Utc>, uuid::Uuid)> {
    let at = DateTime::parse_from_rfc3339(&a.key).map_err(|_| {
        DomainError::invalid(
            "cursor",
            "is not a cursor this server gave out; start again without it",
        )
    })?;
    Ok((at.with_timezone(&Utc), a.id))
}

/// R6: makes a token carrying at most what the caller holds where it applies. Only a sign-in
/// session makes tokens, so a leaked token cannot mint longer-lived ones. Every token expires:
/// when asked (within the server's maximum), else after the server's default (SPEC §5). An
/// account holds at most `MAX_LIVE_TOKENS` live ones.
pub async fn create_token(
    gh: &Guildhall,
    who: &Principal,
    input: NewTokenInput,
) -> Result<(ApiToken, SecretString)> {
    let now = gh.clock.now();
    let expires_at = r6_mint_token(
        who.token().is_none(),
        input.expires_at,
        now,
        gh.token_lifetime,
    )?;
    let mut tx = gh.store.begin().await?;
    // One account's token changes and password sets run one at a time (PostgreSQL; SQLite's
    // write lock already does it): the count below holds until the insert, and a token cannot
    // be minted by a session that a password set has just ended.
    if !tx.lock_user(who.user.id).await? {
        return Err(DomainError::Unauthenticated.into());
    }
    if let Credential::Session(session) = who.credential
        && !tx.session_exists(session).await?
    {
        return Err(DomainError::Unauthenticated.into());
    }
    token_room(tx.count_live_tokens(who.user.id, now).await?)?;
    let (org, held) = match &input.org {
        Some(org) => {
            let access = org_access(&mut *tx, who, org, false).await?;
            (Some(access.org.org.id), access.actor.permissions)
        }
        None => (
            None,
            eval::permissions(&tx.all_roles_of(who.user.id).await?, None),
        ),
    };
    if let Some(requested) = input.permissions {
        r6_token_permissions(held, requested)?;
    }
    let secret = new_token(TokenKind::Api);
    let token = ApiToken {
        id: TokenId::new(),
        user: who.user.id,
        name: input.name,
        org,
        permissions: input.permissions,
        created_at: now,
        expires_at: Some(expires_at),
        can_check: input.can_check,
    };
    tx.insert_token(&token, &secret.hash.0).await?;
    let mut event = AuditEvent::new(&who.actor(now), Action::TokenCreated, "token", token.id)
        .named(&token.name)
        .with_data(json!({
            "name": token.name,
            "permissions": token.permissions.map(PermSet::names),
            "expires_at": token.expires_at,
            "can_check": token.can_check,
        }));
    if let Some(org) = org {
        event = event.in_org(org);
    }
    gh.commit(tx, vec![event]).await?;
    Ok((token, secret.secret))
}

/// Revokes one of the caller's tokens, answering what it was. A token may revoke itself;
/// revoking others needs a sign-in session.
pub async fn revoke_token(gh: &Guildhall, who: &Principal, id: TokenId) -> Result<ApiToken> {
    r6_revoke_token(who.token().map(|t| t.id), id)?;
    let mut tx = gh.store.begin().await?;
    let token = tx
        .token_by_id(who.user.id, id)
        .await?
        .ok_or(DomainError::NotFound(Kind::Token))?;
    tx.delete_token(who.user.id, id).await?;
    let mut event = AuditEvent::new(
        &who.actor(gh.clock.now()),
        Action::TokenRevoked,
        "token",
        id,
    )
    .named(&token.name)
    .with_data(json!({ "name": token.name }));
    if let Some(org) = token.org {
        event = event.in_org(org);
    }
    gh.commit(tx, vec![event]).await?;
    Ok(token)
}

/// R6, for a form: what a new token may carry, where. A token limited to no organization
/// carries at most what every role of mine adds up to (`anywhere`, as [`create_token`] counts
/// it); one limited to an organization, at most what I hold there (`orgs`, by name).
pub struct Grantable {
    /// What a token limited to no organization may carry.
    pub anywhere: PermSet,
    /// My organizations, by name, each with what a token limited to it may carry.
    pub orgs: Vec<(OrgWithOwner, PermSet)>,
}

/// Organizations read at a time by [`grantable`].
const ORG_BATCH: u32 = 200;

/// R6: what the caller's new tokens may carry, for the console's form; [`create_token`] still
/// decides (a change between the form and the answer is refused there).
pub async fn grantable(gh: &Guildhall, who: &Principal) -> Result<Grantable> {
    let mut tx = gh.store.read().await?;
    let anywhere = eval::permissions(&tx.all_roles_of(who.user.id).await?, None);
    let mut orgs = Vec::new();
    let mut from: Option<After> = None;
    loop {
        let rows = tx
            .orgs_of(who.user.id, None, from.as_ref(), ORG_BATCH + 1)
            .await?;
        let page = Page::from_rows(rows, ORG_BATCH, |(o, _)| {
            after(crate::domain::names::name_key(&o.org.name), o.org.id.0)
        });
        orgs.extend(
            page.items
                .into_iter()
                .map(|(o, roles)| (o, eval::permissions(&roles, None))),
        );
        match page.next {
            Some(next) => from = Some(next),
            None => break,
        }
    }
    Ok(Grantable { anywhere, orgs })
}
