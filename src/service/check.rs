//! The check API's decisions: answered from the in-memory index, at a revision at least as new
//! as the caller asks for (Zanzibar's "zookie").

use super::{Guildhall, Result};
use crate::authz::index::Reach;
use crate::domain::DomainError;
use crate::domain::ids::{OrgId, ProjectId, UserId};
use crate::domain::permission::{Permission, ProjectPermission};

/// One question: may `user` do `what`?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Question {
    /// The user asked about.
    pub user: UserId,
    /// The permission and where.
    pub what: Ask,
}

/// A permission and its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ask {
    /// An organization-scope permission (SPEC §2) in an organization.
    Org(Permission, OrgId),
    /// A project-scope permission on a project.
    Project(ProjectPermission, ProjectId),
}

/// Brings the index to at least `at_least` (reading through to the database when it lags) and
/// returns the revision answers will be computed at. A revision the database has not reached is
/// refused rather than answered from older state.
pub async fn settle(gh: &Guildhall, at_least: Option<u64>) -> Result<u64> {
    let Some(wanted) = at_least else {
        return Ok(gh.authz.revision());
    };
    if gh.authz.revision() >= wanted {
        return Ok(gh.authz.revision());
    }
    let now = gh.authz.catch_up().await?;
    if now >= wanted {
        Ok(now)
    } else {
        Err(DomainError::RevisionAhead(wanted))
    }
}

/// Answers one question from the index. Unknown users, organizations and projects are simply
/// not allowed.
pub fn decide(gh: &Guildhall, q: &Question) -> bool {
    match q.what {
        Ask::Org(p, org) => gh.authz.check_org(q.user, p, org),
        Ask::Project(p, project) => gh.authz.check_project(q.user, p, project),
    }
}

/// Every project `user` may do `permission` on, complete, in a stable order.
pub fn user_projects(gh: &Guildhall, user: UserId, permission: ProjectPermission) -> Vec<Reach> {
    gh.authz.projects_of(user, permission)
}
