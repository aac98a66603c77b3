//! Reading organizations' grants for the authorization index: the queries, and the assembly of
//! their rows into one snapshot per organization. Written once for every reader: the `Tx` of
//! each backend (one organization, or all of them) and the SQLite start-up reader.

use super::{OrgSnapshot, StoreError, StoreResult};
use crate::domain::ids::{GroupId, OrgId, ProjectId, UserId};
use crate::domain::permission::ProjectRole;
use crate::domain::role::AssignedRole;
use std::collections::HashMap;

/// The global grant revision.
pub(super) const REVISION: &str = "SELECT revision FROM grant_revision WHERE id = 1";

/// A `member_roles` row joined with its custom role, as [`role_from_parts`] reads it.
pub(super) const ROLE_COLS: &str =
    "mr.builtin, cr.id AS cr_id, cr.name AS cr_name, cr.permissions AS cr_perms";

/// The six queries of a load. Column order is part of the contract: readers take columns by
/// position as well as by name.
pub(super) struct GrantQueries {
    /// `org_id, user_id, builtin, cr_id, cr_name, cr_perms`, ordered by organization and user
    /// (one row per role; a member without a role has one row of nulls).
    pub members: String,
    /// `org_id, id, name`.
    pub projects: String,
    /// `org_id, id, name`.
    pub groups: String,
    /// `org_id, project_id, user_id, role`.
    pub direct: String,
    /// `org_id, group_id, user_id`.
    pub group_members: String,
    /// `org_id, group_id, project_id, role`.
    pub group_projects: String,
}

impl GrantQueries {
    /// Every organization's grants, or (`scoped`) one organization's, bound as `$1`. One
    /// statement text per shape: a reload of one organization must never share a prepared plan
    /// with the full load (PostgreSQL would reuse the generic plan that scans every row).
    pub fn new(scoped: bool) -> Self {
        let pred = |col: &str| {
            if scoped {
                format!("{col} = $1")
            } else {
                "1 = 1".to_owned()
            }
        };
        Self {
            members: format!(
                "SELECT m.org_id, m.user_id, {ROLE_COLS} FROM memberships m \
                 LEFT JOIN member_roles mr ON mr.org_id = m.org_id AND mr.user_id = m.user_id \
                 LEFT JOIN custom_roles cr ON cr.id = mr.custom_role_id \
                 WHERE {} ORDER BY m.org_id, m.user_id",
                pred("m.org_id")
            ),
            projects: format!(
                "SELECT org_id, id, name FROM projects WHERE {}",
                pred("org_id")
            ),
            groups: format!(
                "SELECT org_id, id, name FROM groups WHERE {}",
                pred("org_id")
            ),
            direct: format!(
                "SELECT org_id, project_id, user_id, role FROM project_members WHERE {}",
                pred("org_id")
            ),
            group_members: format!(
                "SELECT org_id, group_id, user_id FROM group_members WHERE {}",
                pred("org_id")
            ),
            group_projects: format!(
                "SELECT g.org_id, gp.group_id, gp.project_id, gp.role FROM group_projects gp \
                 JOIN groups g ON g.id = gp.group_id WHERE {}",
                pred("g.org_id")
            ),
        }
    }
}

/// Builds the domain role a `member_roles` row (joined with `custom_roles`) stands for.
pub(super) fn role_from_parts(
    builtin: Option<String>,
    custom_id: Option<uuid::Uuid>,
    custom_name: Option<String>,
    custom_perms: Option<Vec<String>>,
) -> super::StoreResult<Option<crate::domain::role::AssignedRole>> {
    use crate::domain::permission::BuiltinRole;
    use crate::domain::role::{AssignedRole, CustomRole};
    match (builtin, custom_id, custom_name, custom_perms) {
        (Some(b), _, _, _) => BuiltinRole::parse(&b)
            .map(|r| Some(AssignedRole::Builtin(r)))
            .ok_or_else(|| super::StoreError::Corrupt(format!("unknown built-in role `{b}`"))),
        (None, Some(id), Some(name), Some(perms)) => Ok(Some(AssignedRole::Custom(CustomRole {
            id: crate::domain::ids::RoleId(id),
            name,
            permissions: super::perms_from_json(&perms)?,
        }))),
        _ => Ok(None),
    }
}

/// The stored revision; negative only if the row was written by something else.
pub(super) fn revision_from(stored: i64) -> StoreResult<u64> {
    u64::try_from(stored).map_err(|_| StoreError::Corrupt(format!("grant revision {stored}")))
}

/// A stored project role, or `Corrupt` when a newer server wrote one this version lacks.
pub(super) fn project_role(s: &str) -> StoreResult<ProjectRole> {
    ProjectRole::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown project role `{s}`")))
}

/// Snapshots being assembled from the rows of [`GrantQueries`], in any order of organizations.
#[derive(Default)]
pub(super) struct Snapshots(HashMap<OrgId, OrgSnapshot>);

impl Snapshots {
    fn at(&mut self, org: OrgId) -> &mut OrgSnapshot {
        self.0.entry(org).or_insert_with(|| OrgSnapshot {
            org: Some(org),
            ..OrgSnapshot::default()
        })
    }

    /// A `members` row: the rows of one member come together (the query sorts them).
    pub fn member(&mut self, org: OrgId, user: UserId, role: Option<AssignedRole>) {
        let s = self.at(org);
        if s.members.last().is_none_or(|(u, _)| *u != user) {
            s.members.push((user, Vec::new()));
        }
        if let (Some(role), Some((_, roles))) = (role, s.members.last_mut()) {
            roles.push(role);
        }
    }

    pub fn project(&mut self, org: OrgId, project: ProjectId, name: String) {
        self.at(org).projects.push((project, name));
    }

    pub fn group(&mut self, org: OrgId, group: GroupId, name: String) {
        self.at(org).groups.push((group, name));
    }

    pub fn direct(&mut self, org: OrgId, project: ProjectId, user: UserId, role: ProjectRole) {
        self.at(org).direct.push((project, user, role));
    }

    pub fn group_member(&mut self, org: OrgId, group: GroupId, user: UserId) {
        self.at(org).group_members.push((group, user));
    }

    pub fn group_project(
        &mut self,
        org: OrgId,
        group: GroupId,
        project: ProjectId,
        role: ProjectRole,
    ) {
        self.at(org).group_projects.push((group, project, role));
    }

    pub fn finish(self) -> Vec<OrgSnapshot> {
        self.0.into_values().collect()
    }
}
