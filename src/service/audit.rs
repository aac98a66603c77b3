//! Reading the audit log (R13): newest first, filtered, paged by position.

use super::{Guildhall, OrgRef, Page, Principal, Result, org_access};
use crate::domain::audit::AuditRecord;
use crate::domain::permission::Permission;
use crate::store::AuditFilter;

/// A page of the organization's audit log (`audit.read`).
pub async fn list_audit(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    filter: AuditFilter,
    limit: u32,
) -> Result<Page<AuditRecord, i64>> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access.actor.require(Permission::AuditRead)?;
    let rows = tx.audit(access.org.org.id, &filter, limit + 1).await?;
    Ok(Page::from_rows(rows, limit, |r| r.seq))
}
