//! What the store hands the index: one organization's grants as rows.

use crate::domain::ids::{GroupId, OrgId, ProjectId, UserId};
use crate::domain::permission::ProjectRole;
use crate::domain::role::AssignedRole;

/// Everything that decides who may do what in one organization, as stored.
#[derive(Clone, Debug, Default)]
pub struct OrgSnapshot {
    /// The organization.
    pub org: Option<OrgId>,
    /// Each member's roles.
    pub members: Vec<(UserId, Vec<AssignedRole>)>,
    /// Its projects, with their names.
    pub projects: Vec<(ProjectId, String)>,
    /// Its groups, with their names.
    pub groups: Vec<(GroupId, String)>,
    /// Direct project roles: (project, user, role).
    pub direct: Vec<(ProjectId, UserId, ProjectRole)>,
    /// Group places: (group, user).
    pub group_members: Vec<(GroupId, UserId)>,
    /// Groups' project roles: (group, project, role).
    pub group_projects: Vec<(GroupId, ProjectId, ProjectRole)>,
}
