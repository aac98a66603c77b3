//! Personal access tokens: shown once, stored hashed, optionally limited to one organization and
//! to a subset of the owner's permissions (R6), expiring, revocable.

use super::{Guildhall, OrgRef, Principal, Result, org_access};
use crate::authz::eval;
use crate::domain::DomainError;
use crate::domain::audit::{Action, AuditEvent};
use crate::domain::error::Kind;
use crate::domain::ids::TokenId;
use crate::domain::model::ApiToken;
use crate::domain::permission::PermSet;
use crate::domain::rules::{r6_mint_token, r6_revoke_token, r6_token_permissions};
use crate::ids::NewId as _;
use crate::secret::{TokenKind, new_token};
use chrono::{DateTime, Utc};
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
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether it may ask the check API.
    pub can_check: bool,
}

/// The caller's tokens, newest first.
pub async fn list_tokens(gh: &Guildhall, who: &Principal) -> Result<Vec<ApiToken>> {
    let mut tx = gh.store.read().await?;
    Ok(tx.tokens_of(who.user.id).await?)
}

/// R6: makes a token carrying at most what the caller holds where it applies. Only a sign-in
/// session makes tokens, so a leaked token cannot mint longer-lived ones.
pub async fn create_token(
    gh: &Guildhall,
    who: &Principal,
    input: NewTokenInput,
) -> Result<(ApiToken, SecretString)> {
    let now = gh.clock.now();
    r6_mint_token(who.token().is_none(), input.expires_at, now)?;
    let mut tx = gh.store.begin().await?;
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
        expires_at: input.expires_at,
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

/// Revokes one of the caller's tokens. A token may revoke itself; revoking others needs a
/// sign-in session.
pub async fn revoke_token(gh: &Guildhall, who: &Principal, id: TokenId) -> Result<()> {
    r6_revoke_token(who.token().map(|t| t.id), id)?;
    let mut tx = gh.store.begin().await?;
    let token = tx
        .tokens_of(who.user.id)
        .await?
        .into_iter()
        .find(|t| t.id == id)
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
    Ok(())
}
