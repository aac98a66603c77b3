//! Request and response bodies, shaped exactly as SPEC §5 says. Requests refuse unknown fields
//! (R14) and become domain types through `TryFrom`, which calls the `parse` functions and reports
//! every offending field at once.

use crate::domain::FieldError;
use crate::domain::audit::{Action, AuditRecord};
use crate::domain::model::{ApiToken, OrgWithOwner, User};
use crate::domain::names::{DisplayName, Email, LocalName, OrgName, Password, RoleName, Slug};
use crate::domain::permission::{PermSet, Permission, ProjectRole};
use crate::domain::role::{AssignedRole, CustomRole};
use crate::service::orgs::names;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Longest list of roles or permissions one request may carry.
const MAX_LIST: usize = 50;

/// Collects parse results, keeping every field error.
#[derive(Default)]
struct Fields(Vec<FieldError>);

impl Fields {
    fn take<T>(&mut self, r: Result<T, FieldError>) -> Option<T> {
        r.map_err(|e| self.0.push(e)).ok()
    }

    fn take_all<T>(&mut self, r: Result<T, Vec<FieldError>>) -> Option<T> {
        r.map_err(|e| self.0.extend(e)).ok()
    }

    fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Vec<FieldError>> {
        match (self.0.is_empty(), build()) {
            (true, Some(v)) => Ok(v),
            _ => Err(self.0),
        }
    }
}

/// Parses permission names, naming each unknown one by its position.
pub fn parse_permissions(names: &[String]) -> Result<PermSet, Vec<FieldError>> {
    if names.len() > MAX_LIST {
        return Err(vec![FieldError::new(
            "permissions",
            format!("at most {MAX_LIST} entries"),
        )]);
    }
    let mut errors = Vec::new();
    let mut set = PermSet::EMPTY;
    for (i, n) in names.iter().enumerate() {
        match Permission::parse(n) {
            Some(p) => set.insert(p),
            None => errors.push(FieldError::new(
                format!("permissions[{i}]"),
                format!("unknown permission `{n}`"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(set)
    } else {
        Err(errors)
    }
}

/// Whether a time lies in the years 0–9999, the range every store compares correctly.
pub fn plausible_year(t: DateTime<Utc>) -> bool {
    use chrono::Datelike as _;
    (0..=9999).contains(&t.year())
}

/// Checks a list of role names for size and emptiness; names are resolved by the service.
pub fn check_roles(roles: &[String]) -> Result<(), Vec<FieldError>> {
    if roles.is_empty() {
        return Err(vec![FieldError::new(
            "roles",
            "must name at least one role",
        )]);
    }
    if roles.len() > MAX_LIST {
        return Err(vec![FieldError::new(
            "roles",
            format!("at most {MAX_LIST} entries"),
        )]);
    }
    Ok(())
}

/// `POST /users`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignUpRequest {
    /// The account's email, unique case-insensitively.
    pub email: String,
    /// 8 characters to 1 KiB, not common or guessable, and not the email or name (400
    /// `password_too_weak` says why).
    pub password: String,
    /// The display name.
    pub name: String,
}

impl TryFrom<SignUpRequest> for crate::service::users::SignUp {
    type Error = Vec<FieldError>;

    fn try_from(r: SignUpRequest) -> Result<Self, Self::Error> {
        let mut f = Fields::default();
        let email = f.take(Email::parse(&r.email));
        let password = f.take(Password::parse(r.password));
        let name = f.take(DisplayName::parse(&r.name));
        f.finish(|| {
            Some(Self {
                email: email?,
                password: password?,
                name: name?,
            })
        })
    }
}

/// `POST /sessions`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The account's email.
    pub email: String,
    /// The password.
    pub password: String,
}

/// A new session.
#[derive(Serialize, ToSchema)]
pub struct SessionDto {
    /// The bearer token; shown in this answer only.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// The account made by accepting an invitation while signed out, signed in.
#[derive(Serialize, ToSchema)]
pub struct RegisteredDto {
    /// The new user.
    #[serde(flatten)]
    pub user: UserDto,
    /// A session for them, as `POST /api/v1/sessions` answers it.
    pub session: SessionDto,
}

/// A user as the API shows one.
#[derive(Serialize, Deserialize, ToSchema, Clone, Debug, PartialEq)]
pub struct UserDto {
    /// Its id.
    pub id: Uuid,
    /// Its email.
    pub email: String,
    /// Its display name.
    pub name: String,
}

impl From<&User> for UserDto {
    fn from(u: &User) -> Self {
        UserDto {
            id: u.id.0,
            email: u.email.clone(),
            name: u.name.clone(),
        }
    }
}

/// `POST /tokens`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    /// A name to recognise it by.
    pub name: String,
    /// Limit it to one organization (id or slug).
    pub org: Option<String>,
    /// Limit it to these permissions (R6: only ones you hold).
    pub permissions: Option<Vec<String>>,
    /// When it stops working: in the future, at most the server's maximum ahead (365 days
    /// unless configured); left out, the server's default (90 days unless configured).
    pub expires_at: Option<DateTime<Utc>>,
    /// `["check"]` lets the token ask the check API about organizations where you hold
    /// `members.read`.
    pub capabilities: Option<Vec<String>>,
}

impl TryFrom<CreateTokenRequest> for crate::service::tokens::NewTokenInput {
    type Error = Vec<FieldError>;

    fn try_from(r: CreateTokenRequest) -> Result<Self, Self::Error> {
        let mut f = Fields::default();
        let name = f.take(DisplayName::parse(&r.name));
        if r.expires_at.is_some_and(|t| !plausible_year(t)) {
            f.0.push(FieldError::new(
                "expires_at",
                "must be a time between the years 0 and 9999",
            ));
        }
        let permissions = match r.permissions.as_deref().map(parse_permissions) {
            Some(p) => f.take_all(p).map(Some),
            None => Some(None),
        };
        let mut can_check = false;
        for (i, c) in r.capabilities.iter().flatten().enumerate() {
            if c == "check" {
                can_check = true;
            } else {
                f.0.push(FieldError::new(
                    format!("capabilities[{i}]"),
                    format!("unknown capability `{c}`; the one capability is `check`"),
                ));
            }
        }
        f.finish(|| {
            Some(Self {
                name: name?.as_str().to_owned(),
                org: r.org.as_deref().map(crate::service::OrgRef::parse),
                permissions: permissions?,
                expires_at: r.expires_at,
                can_check,
            })
        })
    }
}

/// An API token's record (never its secret).
#[derive(Serialize, ToSchema)]
pub struct TokenDto {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// The organization it is limited to.
    pub org: Option<Uuid>,
    /// The permissions it is limited to.
    pub permissions: Option<Vec<&'static str>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: Option<DateTime<Utc>>,
    /// `check` when it may ask the check API.
    pub capabilities: Vec<&'static str>,
}

impl From<&ApiToken> for TokenDto {
    fn from(t: &ApiToken) -> Self {
        TokenDto {
            id: t.id.0,
            name: t.name.clone(),
            org: t.org.map(|o| o.0),
            permissions: t.permissions.map(PermSet::names),
            created_at: t.created_at,
            expires_at: t.expires_at,
            capabilities: if t.can_check {
                vec!["check"]
            } else {
                Vec::new()
            },
        }
    }
}

/// A new API token: its record and, in this answer only, its secret.
#[derive(Serialize, ToSchema)]
pub struct CreatedTokenDto {
    /// The secret; shown in this answer only.
    pub token: String,
    /// The token's record.
    #[serde(flatten)]
    pub record: TokenDto,
}

/// One permission of the catalog.
#[derive(Serialize, ToSchema)]
pub struct PermissionDto {
    /// Its wire name.
    pub name: &'static str,
    /// What it allows.
    pub description: &'static str,
}

/// A role: built-in or one of the organization's.
#[derive(Serialize, ToSchema)]
pub struct RoleDto {
    /// The custom role's id; absent for built-in roles.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Uuid>,
    /// Its name.
    pub name: String,
    /// Whether it is built in.
    pub builtin: bool,
    /// What it grants.
    pub permissions: Vec<&'static str>,
}

impl From<&AssignedRole> for RoleDto {
    fn from(r: &AssignedRole) -> Self {
        RoleDto {
            id: match r {
                AssignedRole::Custom(c) => Some(c.id.0),
                AssignedRole::Builtin(_) => None,
            },
            name: r.name().to_owned(),
            builtin: matches!(r, AssignedRole::Builtin(_)),
            permissions: r.permissions().names(),
        }
    }
}

impl From<&CustomRole> for RoleDto {
    fn from(c: &CustomRole) -> Self {
        RoleDto::from(&AssignedRole::Custom(c.clone()))
    }
}

/// `GET /permissions`.
#[derive(Serialize, ToSchema)]
pub struct CatalogDto {
    /// Every organization-scope permission.
    pub permissions: Vec<PermissionDto>,
    /// The built-in roles.
    pub roles: Vec<RoleDto>,
}

/// An organization as the API shows one.
#[derive(Serialize, ToSchema)]
pub struct OrgDto {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its URL slug.
    pub slug: String,
    /// Whether it is a personal organization.
    pub personal: bool,
    /// Its one owner.
    pub owner: UserDto,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// The caller's roles in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_roles: Option<Vec<String>>,
}

impl OrgDto {
    /// The organization, with the caller's roles.
    pub fn mine(o: &OrgWithOwner, roles: &[AssignedRole]) -> Self {
        OrgDto {
            id: o.org.id.0,
            name: o.org.name.clone(),
            slug: o.org.slug.clone(),
            personal: o.org.personal,
            owner: UserDto::from(&o.owner),
            created_at: o.org.created_at,
            my_roles: Some(names(roles)),
        }
    }
}

/// `POST /orgs`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgRequest {
    /// Unique across the server, compared after NFKC and case folding (R1); no invisible or
    /// bidirectional control characters.
    pub name: String,
    /// Optional; derived from the name when absent.
    pub slug: Option<String>,
}

impl CreateOrgRequest {
    /// The parsed name and slug.
    pub fn parse(self) -> Result<(OrgName, Option<Slug>), Vec<FieldError>> {
        let mut f = Fields::default();
        let name = f.take(OrgName::parse(&self.name));
        let slug = match self.slug.as_deref().map(Slug::parse) {
            Some(s) => f.take(s).map(Some),
            None => Some(None),
        };
        f.finish(|| Some((name?, slug?)))
    }
}

/// `PATCH /orgs/{org}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgRequest {
    /// A new name.
    pub name: Option<String>,
    /// A new slug.
    pub slug: Option<String>,
}

impl TryFrom<UpdateOrgRequest> for crate::service::orgs::OrgChange {
    type Error = Vec<FieldError>;

    fn try_from(r: UpdateOrgRequest) -> Result<Self, Self::Error> {
        let mut f = Fields::default();
        let name = match r.name.as_deref().map(OrgName::parse) {
            Some(n) => f.take(n).map(Some),
            None => Some(None),
        };
        let slug = match r.slug.as_deref().map(Slug::parse) {
            Some(s) => f.take(s).map(Some),
            None => Some(None),
        };
        f.finish(|| {
            Some(Self {
                name: name?,
                slug: slug?,
            })
        })
    }
}

/// A member with roles and groups.
#[derive(Serialize, ToSchema)]
pub struct MemberDto {
    /// The user.
    pub user: UserDto,
    /// Role names, built-in or custom.
    pub roles: Vec<String>,
    /// The names of the groups the member is in.
    pub groups: Vec<String>,
}

impl From<&crate::service::members::Member> for MemberDto {
    fn from(m: &crate::service::members::Member) -> Self {
        MemberDto {
            user: UserDto::from(&m.user),
            roles: names(&m.roles),
            groups: m.groups.clone(),
        }
    }
}

/// `POST /orgs/{org}/members`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// The registered user's email.
    pub email: String,
    /// Roles to give (R6: only roles you may grant).
    pub roles: Vec<String>,
    /// The new user's name, with `register`.
    pub name: Option<String>,
    /// Register the account first (R10).
    #[serde(default)]
    pub register: bool,
}

/// `PATCH /orgs/{org}/members/{user}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRolesRequest {
    /// The member's roles from now on.
    pub roles: Vec<String>,
}

/// `PATCH /orgs/{org}/members/{user}` query.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChangeRolesQuery {
    /// `true`: answer what the change would do, and change nothing.
    pub dry_run: Option<bool>,
}

/// What a role change does: the member after it, or with `dry_run=true` its preview.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ChangeRolesAnswer {
    /// The member, changed.
    Member(MemberDto),
    /// What the change would do (`dry_run=true`).
    Preview(RoleChangePreviewDto),
}

/// What a role change would do (`PATCH …?dry_run=true`).
#[derive(Serialize, ToSchema)]
pub struct RoleChangePreviewDto {
    /// Roles the member would gain.
    pub roles_added: Vec<String>,
    /// Roles the member would lose.
    pub roles_removed: Vec<String>,
    /// Organization permissions the member would gain, in catalog order.
    pub permissions_gained: Vec<&'static str>,
    /// Organization permissions the member would lose, in catalog order.
    pub permissions_lost: Vec<&'static str>,
    /// Every project whose effective role would change.
    pub projects: Vec<ReachChangeDto>,
}

/// A project whose effective role a change moves.
#[derive(Serialize, ToSchema)]
pub struct ReachChangeDto {
    /// The project.
    pub project: ProjectRefDto,
    /// The project role before (`null`: out of reach).
    pub before: Option<&'static str>,
    /// The project role after (`null`: out of reach).
    pub after: Option<&'static str>,
}

impl From<crate::authz::preview::RoleChangePreview<(crate::domain::ids::ProjectId, String)>>
    for RoleChangePreviewDto
{
    fn from(
        p: crate::authz::preview::RoleChangePreview<(crate::domain::ids::ProjectId, String)>,
    ) -> Self {
        let names = |ps: Vec<crate::domain::permission::Permission>| {
            ps.into_iter().map(|p| p.as_str()).collect()
        };
        RoleChangePreviewDto {
            roles_added: p.roles_added,
            roles_removed: p.roles_removed,
            permissions_gained: names(p.permissions_gained),
            permissions_lost: names(p.permissions_lost),
            projects: p
                .projects
                .into_iter()
                .map(|c| ReachChangeDto {
                    project: ProjectRefDto {
                        id: c.project.0.0,
                        name: c.project.1,
                    },
                    before: c.before.map(|r| r.as_str()),
                    after: c.after.map(|r| r.as_str()),
                })
                .collect(),
        }
    }
}

/// `PATCH /orgs/{org}/roles/{role}` query.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UpdateRoleQuery {
    /// `true`: answer what the edit would do to the role's holders, and change nothing.
    pub dry_run: Option<bool>,
}

/// What an edit of a custom role does: the role after it, or with `dry_run=true` its preview.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum UpdateRoleAnswer {
    /// The role, changed.
    Role(RoleDto),
    /// What the edit would do (`dry_run=true`).
    Preview(RoleEditPreviewDto),
}

/// What an edit of a custom role would do (`PATCH …/roles/{role}?dry_run=true`).
#[derive(Serialize, ToSchema)]
pub struct RoleEditPreviewDto {
    /// The role as it would be.
    pub role: RoleDto,
    /// How many members hold it.
    pub holders: u64,
    /// Permissions some holders would gain, in catalog order, with how many would gain each.
    pub permissions_gained: Vec<PermissionCountDto>,
    /// Permissions some holders would lose (not held through another role), in catalog order.
    pub permissions_lost: Vec<PermissionCountDto>,
}

/// A permission and how many members a change moves it for.
#[derive(Serialize, ToSchema)]
pub struct PermissionCountDto {
    /// The permission.
    pub permission: &'static str,
    /// How many members.
    pub members: u64,
}

impl RoleEditPreviewDto {
    /// The DTO of `role` as it would be and the impact on its holders.
    pub fn new(
        role: &crate::domain::role::CustomRole,
        p: crate::authz::preview::RoleEditPreview,
    ) -> Self {
        let counts = |v: Vec<(crate::domain::permission::Permission, u64)>| {
            v.into_iter()
                .map(|(p, members)| PermissionCountDto {
                    permission: p.as_str(),
                    members,
                })
                .collect()
        };
        RoleEditPreviewDto {
            role: RoleDto::from(role),
            holders: p.holders,
            permissions_gained: counts(p.gained),
            permissions_lost: counts(p.lost),
        }
    }
}

/// `GET /orgs/{org}/members/{user}/permissions`.
#[derive(Serialize, ToSchema)]
pub struct EffectivePermissionsDto {
    /// The member.
    pub user: UserDto,
    /// Every permission held, with where it comes from.
    #[schema(value_type = Vec<super::schema::Grant>)]
    pub permissions: Vec<crate::authz::eval::Grant>,
    /// Which projects the member reaches, and why (R11).
    pub projects: ProjectReachDto,
}

/// A member's project reach.
#[derive(Serialize, ToSchema)]
pub struct ProjectReachDto {
    /// Reach over every project of the organization, from the member's roles; `null` if none.
    #[schema(value_type = Option<super::schema::OrgWideReach>)]
    pub all: Option<crate::authz::eval::OrgWideReach>,
    /// Projects granted directly or through groups.
    pub granted: Vec<GrantedProjectDto>,
}

/// One granted project, with the effective role (the strongest grant wins) and its sources.
#[derive(Serialize, ToSchema)]
pub struct GrantedProjectDto {
    /// The project.
    pub project: ProjectRefDto,
    /// The effective role on it.
    pub role: &'static str,
    /// Every grant on it.
    #[schema(value_type = Vec<super::schema::ProjectSource>)]
    pub sources: Vec<crate::authz::eval::ProjectSource>,
}

/// A project named in another answer.
#[derive(Serialize, ToSchema)]
pub struct ProjectRefDto {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
}

impl From<crate::service::members::Effective> for EffectivePermissionsDto {
    fn from(e: crate::service::members::Effective) -> Self {
        EffectivePermissionsDto {
            user: UserDto::from(&e.user),
            permissions: e.permissions,
            projects: ProjectReachDto {
                all: e.all_projects,
                granted: e
                    .granted
                    .into_iter()
                    .map(|(id, name, role, sources)| GrantedProjectDto {
                        project: ProjectRefDto { id: id.0, name },
                        role: role.as_str(),
                        sources,
                    })
                    .collect(),
            },
        }
    }
}

/// A project as the API shows one, with the caller's role on it.
#[derive(Serialize, ToSchema)]
pub struct ProjectDto {
    /// Its id.
    pub id: Uuid,
    /// Its organization.
    pub org: Uuid,
    /// Its name, unique within the organization.
    pub name: String,
    /// The caller's strongest role on it (R11).
    pub my_role: &'static str,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl ProjectDto {
    /// A project with the caller's role.
    pub fn new(p: &crate::domain::model::Project, role: ProjectRole) -> Self {
        ProjectDto {
            id: p.id.0,
            org: p.org.0,
            name: p.name.clone(),
            my_role: role.as_str(),
            created_at: p.created_at,
        }
    }
}

/// `POST /orgs/{org}/projects`, `PATCH .../{project}`, `POST /orgs/{org}/groups`,
/// `PATCH .../{group}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameRequest {
    /// Unique within the organization, compared after NFKC and case folding; no invisible or
    /// bidirectional control characters.
    pub name: String,
}

impl NameRequest {
    /// The parsed name.
    pub fn parse(&self) -> Result<LocalName, Vec<FieldError>> {
        LocalName::parse(&self.name).map_err(|e| vec![e])
    }
}

/// `PUT .../projects/{project}/members/{user}`, `PUT .../groups/{group}/projects/{project}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectRoleRequest {
    /// `viewer`, `contributor` or `admin`.
    pub role: String,
}

/// A member's direct role on a project, as `PUT …/projects/{project}/members/{user}` answers it.
#[derive(Serialize, ToSchema)]
pub struct ProjectMemberDto {
    /// The project, with the caller's role on it.
    pub project: ProjectDto,
    /// The member.
    pub user: UserDto,
    /// Their direct role on the project: `viewer`, `contributor` or `admin`.
    pub role: &'static str,
}

impl ProjectRoleRequest {
    /// The parsed role.
    pub fn parse(&self) -> Result<ProjectRole, Vec<FieldError>> {
        ProjectRole::parse(&self.role).ok_or_else(|| {
            vec![FieldError::new(
                "role",
                format!(
                    "unknown project role `{}`; use `viewer`, `contributor` or `admin`",
                    self.role
                ),
            )]
        })
    }
}

/// A group in a listing.
#[derive(Serialize, ToSchema)]
pub struct GroupDto {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

impl From<&crate::domain::model::Group> for GroupDto {
    fn from(g: &crate::domain::model::Group) -> Self {
        GroupDto {
            id: g.id.0,
            name: g.name.clone(),
            created_at: g.created_at,
        }
    }
}

/// A group with its members and projects.
#[derive(Serialize, ToSchema)]
pub struct GroupDetailDto {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Its members.
    pub members: Vec<UserDto>,
    /// Its projects and the role it gives on each.
    pub projects: Vec<GroupProjectDto>,
}

/// One of a group's projects.
#[derive(Serialize, ToSchema)]
pub struct GroupProjectDto {
    /// The project.
    pub project: ProjectRefDto,
    /// The role the group gives on it.
    pub role: &'static str,
}

impl From<&crate::service::groups::GroupDetail> for GroupDetailDto {
    fn from(d: &crate::service::groups::GroupDetail) -> Self {
        GroupDetailDto {
            id: d.group.id.0,
            name: d.group.name.clone(),
            created_at: d.group.created_at,
            members: d.members.iter().map(UserDto::from).collect(),
            projects: d
                .projects
                .iter()
                .map(|(p, r)| GroupProjectDto {
                    project: ProjectRefDto {
                        id: p.id.0,
                        name: p.name.clone(),
                    },
                    role: r.as_str(),
                })
                .collect(),
        }
    }
}

/// `POST /orgs/{org}/roles`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleRequest {
    /// Unique in the organization; never a built-in role's name.
    pub name: String,
    /// Any permissions you hold, but `org.delete` and `org.transfer`.
    pub permissions: Vec<String>,
}

impl CreateRoleRequest {
    /// The parsed name and permissions.
    pub fn parse(self) -> Result<(RoleName, PermSet), Vec<FieldError>> {
        let mut f = Fields::default();
        let name = f.take(RoleName::parse(&self.name));
        let perms = f.take_all(parse_permissions(&self.permissions));
        f.finish(|| Some((name?, perms?)))
    }
}

/// `PATCH /orgs/{org}/roles/{role}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoleRequest {
    /// A new name.
    pub name: Option<String>,
    /// A new permission set.
    pub permissions: Option<Vec<String>>,
}

impl TryFrom<UpdateRoleRequest> for crate::service::roles::RoleChange {
    type Error = Vec<FieldError>;

    fn try_from(r: UpdateRoleRequest) -> Result<Self, Self::Error> {
        let mut f = Fields::default();
        if r.name.is_none() && r.permissions.is_none() {
            f.0.push(FieldError::new(
                "name",
                "give a new `name` or `permissions`",
            ));
        }
        let name = match r.name.as_deref().map(RoleName::parse) {
            Some(n) => f.take(n).map(Some),
            None => Some(None),
        };
        let permissions = match r.permissions.as_deref().map(parse_permissions) {
            Some(p) => f.take_all(p).map(Some),
            None => Some(None),
        };
        f.finish(|| {
            Some(Self {
                name: name?,
                permissions: permissions?,
            })
        })
    }
}

/// What an audit event changed.
#[derive(Serialize, ToSchema)]
pub struct TargetDto {
    /// `org`, `member`, `role`, `token`, `user` or `session`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    pub id: String,
    /// Its name (or, for a member or user, email) at that moment, when the event recorded one.
    pub name: Option<String>,
}

/// One audit event.
#[derive(Serialize, ToSchema)]
pub struct AuditEventDto {
    /// Its id.
    pub id: Uuid,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened, e.g. `member.removed`.
    pub action: String,
    /// Who did it: the user's id (none for an operator command or Guildhall itself).
    pub actor: Option<Uuid>,
    /// `user`, `operator` (a command run on the server's machine) or `system` (sign-up, the
    /// invoice run).
    #[schema(value_type = String, example = "user")]
    pub actor_kind: &'static str,
    /// The actor's email then.
    pub actor_email: Option<String>,
    /// The actor's name then (for an operator, the account the command ran as).
    pub actor_name: Option<String>,
    /// The API token used, if any.
    pub token: Option<Uuid>,
    /// The organization.
    pub org: Option<Uuid>,
    /// What was changed.
    pub target: TargetDto,
    /// Before/after values.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    /// The client's address.
    pub ip: Option<String>,
}

impl From<AuditRecord> for AuditEventDto {
    fn from(r: AuditRecord) -> Self {
        AuditEventDto {
            id: r.id,
            at: r.at,
            // Events written before an action was renamed read under its current name.
            action: Action::parse(&r.action).map_or(r.action, |a| a.as_str().to_owned()),
            actor: r.actor.map(|u| u.0),
            actor_kind: r.actor_kind.as_str(),
            actor_email: r.actor_email,
            actor_name: r.actor_name,
            token: r.token.map(|t| t.0),
            org: r.org.map(|o| o.0),
            target: TargetDto {
                kind: r.target_type,
                id: r.target_id,
                name: r.target_name,
            },
            data: r.data,
            ip: r.ip,
        }
    }
}

/// A page of a list.
#[derive(Serialize, ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    pub next_cursor: Option<String>,
}

/// `cursor` and `limit` of a list.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From a previous answer's `next_cursor`.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
    /// 1 to 100; 50 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// `GET /orgs` query.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgListQuery {
    /// Keep organizations whose name contains this, compared as names are (NFKC, case folded).
    #[param(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub q: Option<String>,
    /// From a previous answer's `next_cursor`.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
    /// 1 to 100; 50 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// `GET /orgs/{org}/audit` query.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only events by this user: an id or an email.
    pub actor: Option<String>,
    /// Only events with this action, e.g. `member.removed`, or of this family, e.g. `member.*`.
    #[param(schema_with = super::openapi::audit_action_schema)]
    pub action: Option<String>,
    /// Only events at or after this time: RFC 3339 (`2026-12-01T09:30:00Z`) or a day
    /// (`2026-12-01`, from its start, UTC).
    pub since: Option<String>,
    /// Only events before this time, as `since`.
    pub until: Option<String>,
    /// From a previous answer's `next_cursor`.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
    /// 1 to 100; 50 when absent.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}
