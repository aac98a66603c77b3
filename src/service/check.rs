//! The check API's decisions: answered from the in-memory index, at a revision at least as new
//! as the caller asks for (Zanzibar's "zookie").

use super::{Guildhall, Result};
use crate::authz::index::Reach;
use crate::domain::DomainError;
use crate::domain::ids::{OrgId, ProjectId, UserId};
use crate::domain::permission::{Permission, ProjectPermission};
use std::collections::HashMap;

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
    /// A permission in an organization that does not exist (a slug no organization has): never
    /// allowed, as an unknown id is not.
    Nowhere,
}

/// The organizations these slugs name, read in one transaction; a slug no organization has is
/// absent. Ids are the check API's fast path (answered from memory alone); a slug costs this.
pub async fn org_slugs(
    gh: &Guildhall,
    slugs: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, OrgId>> {
    let mut tx = gh.store.read().await?;
    let mut out = HashMap::new();
    for slug in slugs {
        if let Some(id) = tx.org_id_by_slug(&slug).await? {
            out.insert(slug, id);
        }
    }
    Ok(out)
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
        Err(DomainError::RevisionAhead(wanted).into())
    }
}

/// Who asks the check API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A service presenting the configured service token: may ask anything.
    Service,
    /// An API token with the `check` capability: answers only within organizations where its
    /// owner holds `members.read` (and its own organization, if limited to one). Anything else
    /// is `allowed: false`, exactly like an unknown organization (R12).
    Token {
        /// The token's owner.
        owner: UserId,
        /// The one organization the token is limited to, if any.
        org: Option<OrgId>,
    },
}

impl Caller {
    fn sees(self, gh: &Guildhall, org: Option<OrgId>) -> bool {
        match self {
            Caller::Service => true,
            Caller::Token { owner, org: limit } => org.is_some_and(|o| {
                limit.is_none_or(|l| l == o)
                    && gh.authz.check_org(owner, Permission::MembersRead, o)
            }),
        }
    }
}

/// Answers one question from the index. Unknown users, organizations and projects are simply
/// not allowed.
pub fn decide(gh: &Guildhall, caller: Caller, q: &Question) -> bool {
    match q.what {
        Ask::Org(p, org) => caller.sees(gh, Some(org)) && gh.authz.check_org(q.user, p, org),
        Ask::Project(p, project) => {
            (caller == Caller::Service || caller.sees(gh, gh.authz.org_of(project)))
                && gh.authz.check_project(q.user, p, project)
        }
        Ask::Nowhere => false,
    }
}

/// Every project `user` may do `permission` on, complete, in a stable order (for a token caller,
/// only those in organizations it sees).
pub fn user_projects(
    gh: &Guildhall,
    caller: Caller,
    user: UserId,
    permission: ProjectPermission,
) -> Vec<Reach> {
    let mut all = gh.authz.projects_of(user, permission);
    if caller != Caller::Service {
        all.retain(|r| caller.sees(gh, Some(r.org)));
    }
    all
}
