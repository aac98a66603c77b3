//! Reading the audit log (R13): newest first, filtered, paged by position.

use super::{Guildhall, OrgRef, Page, Principal, Result, org_access};
use crate::domain::audit::AuditRecord;
use crate::domain::ids::UserId;
use crate::domain::model::User;
use crate::domain::names::Email;
use crate::domain::permission::Permission;
use crate::store::AuditFilter;
use std::collections::HashMap;

/// The actor an audit reader filters by.
#[derive(Clone, Debug)]
pub enum ActorRef {
    /// By user id.
    Id(UserId),
    /// By email, as the reader knows them.
    Email(Email),
}

/// A page of the organization's audit log (`audit.read`), by `actor` when given. An email no
/// account has answers an empty page, as an account with no event there does: the log tells
/// nobody which emails are registered.
pub async fn list_audit(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    actor: Option<ActorRef>,
    mut filter: AuditFilter,
    limit: u32,
) -> Result<Page<AuditRecord, i64>> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access.actor.require(Permission::AuditRead)?;
    filter.actor = match actor {
        None => None,
        Some(ActorRef::Id(id)) => Some(id),
        Some(ActorRef::Email(email)) => match tx.user_by_email(&email.key()).await? {
            Some((user, _)) => Some(user.id),
            None => {
                return Ok(Page {
                    items: Vec::new(),
                    next: None,
                });
            }
        },
    };
    let rows = tx.audit(access.org.org.id, &filter, limit + 1).await?;
    Ok(Page::from_rows(rows, limit, |r| r.seq))
}

/// The people an audit reader's page names by id (a member whose roles changed, the receiver
/// of an ownership offer), so that each event reads with names (`audit.read`). An id no account
/// has is left out; the reader shows it as it is.
pub async fn people(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    ids: &[UserId],
) -> Result<HashMap<UserId, User>> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access.actor.require(Permission::AuditRead)?;
    let mut out = HashMap::new();
    for id in ids {
        if out.contains_key(id) {
            continue;
        }
        if let Some(user) = tx.user_by_id(*id).await? {
            out.insert(*id, user);
        }
    }
    Ok(out)
}
