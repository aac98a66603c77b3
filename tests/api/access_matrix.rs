//! Issue 15: the access matrix. Every route of the served OpenAPI document is asked by every kind
//! of caller, and each answer is compared with what a small model of SPEC §2 (permissions), §3
//! (built-in roles), §5 (credentials), R8 (billing), R11 (project reach) and R12 (404 to
//! outsiders) says it must be. The expected answer of a cell is never typed in: it is computed
//! from the route's requirement and the caller's grants.
//!
//! A route added without a row here fails the test: the table's (method, path) set must equal
//! the document's.

use crate::both_stores;
use crate::common::{PASSWORD, SERVICE_TOKEN, TestApp, TestUser, unique};
use guildhall::clock::Clock as _;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------------
// The model: SPEC §2 and §3 as data.
// ---------------------------------------------------------------------------------------------

/// Every organization permission a route of the API needs (SPEC §2; `webhooks.manage` and
/// `security.manage` guard no route yet).
const ALL: &[&str] = &[
    "org.read",
    "org.update",
    "org.delete",
    "org.transfer",
    "members.read",
    "members.invite",
    "members.manage",
    "roles.manage",
    "groups.manage",
    "projects.create",
    "projects.read",
    "projects.manage",
    "projects.deploy",
    "plans.manage",
    "billing.read",
    "billing.manage",
    "audit.read",
];

/// The custom role of the fixture, and what it carries.
const CUSTOM_ROLE: &str = "Auditor";
const CUSTOM_PERMISSIONS: &[&str] = &["projects.read", "audit.read"];

/// What the permission-limited token is limited to.
const TOKEN_LIMIT: &[&str] = &["org.read", "members.read"];

type Perms = BTreeSet<&'static str>;

/// SPEC §3: a role's permissions.
fn role_permissions(role: &str) -> Perms {
    let only = |ps: &[&'static str]| ps.iter().copied().collect::<Perms>();
    match role {
        "owner" => only(ALL),
        // "all but `org.delete`, `org.transfer`, `billing.*`"
        "admin" => ALL
            .iter()
            .copied()
            .filter(|p| !matches!(*p, "org.delete" | "org.transfer") && !p.starts_with("billing."))
            .collect(),
        // "`org.read`, `org.update`, `members.*`, `groups.manage`, `projects.*`, `plans.manage`,
        // `audit.read`"
        "manager" => ALL
            .iter()
            .copied()
            .filter(|p| {
                matches!(
                    *p,
                    "org.read" | "org.update" | "groups.manage" | "plans.manage" | "audit.read"
                ) || p.starts_with("members.")
                    || p.starts_with("projects.")
            })
            .collect(),
        "developer" => only(&[
            "org.read",
            "members.read",
            "projects.create",
            "projects.read",
            "projects.deploy",
        ]),
        "billing" => only(&["org.read", "billing.read", "billing.manage"]),
        "member" => only(&["org.read"]),
        CUSTOM_ROLE => only(CUSTOM_PERMISSIONS),
        other => panic!("no role `{other}` in the model"),
    }
}

/// A project role (SPEC §1), ordered so that the strongest grant wins (R11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum ProjectRole {
    Viewer,
    Contributor,
    Admin,
}

impl ProjectRole {
    fn as_str(self) -> &'static str {
        match self {
            ProjectRole::Viewer => "viewer",
            ProjectRole::Contributor => "contributor",
            ProjectRole::Admin => "admin",
        }
    }

    /// R11 with SPEC §2: `projects.manage` edits and deletes any project (an `admin` on each),
    /// `projects.deploy` reaches every repository (a `contributor`), `projects.read` sees every
    /// project (a `viewer`).
    fn from_org(perms: &Perms) -> Option<ProjectRole> {
        if perms.contains("projects.manage") {
            Some(ProjectRole::Admin)
        } else if perms.contains("projects.deploy") {
            Some(ProjectRole::Contributor)
        } else if perms.contains("projects.read") {
            Some(ProjectRole::Viewer)
        } else {
            None
        }
    }
}

/// What an action on a project needs there.
#[derive(Clone, Copy, Debug)]
enum ProjectAction {
    /// See it: any project role.
    Read,
    /// Edit or delete it: `admin` ("everything on that project").
    Manage,
}

/// How a caller presents itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cred {
    /// No `Authorization` header.
    Nothing,
    /// A sign-in session.
    Session,
    /// The owner's API token limited to another organization.
    OrgLimitedToken,
    /// The owner's API token limited to [`TOKEN_LIMIT`].
    PermLimitedToken,
    /// The check API's service token.
    Service,
}

/// Every kind of caller of the matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Owner,
    Admin,
    Manager,
    Developer,
    Billing,
    Member,
    Custom,
    GroupViewer,
    GroupContributor,
    GroupAdmin,
    DirectRole,
    NonMember,
    Anonymous,
    OrgLimitedToken,
    PermLimitedToken,
    Service,
}

const CALLERS: &[Who] = &[
    Who::Owner,
    Who::Admin,
    Who::Manager,
    Who::Developer,
    Who::Billing,
    Who::Member,
    Who::Custom,
    Who::GroupViewer,
    Who::GroupContributor,
    Who::GroupAdmin,
    Who::DirectRole,
    Who::NonMember,
    Who::Anonymous,
    Who::OrgLimitedToken,
    Who::PermLimitedToken,
    Who::Service,
];

/// The accounts of the world (callers' own and the fixture's helpers).
const ACCOUNTS: &[Who] = &[
    Who::Owner,
    Who::Admin,
    Who::Manager,
    Who::Developer,
    Who::Billing,
    Who::Member,
    Who::Custom,
    Who::GroupViewer,
    Who::GroupContributor,
    Who::GroupAdmin,
    Who::DirectRole,
    Who::NonMember,
];

/// What the model knows of a caller in the fixture organization.
struct Facts {
    cred: Cred,
    /// Whose account acts: the owner's for the owner's tokens; `None` without one.
    account: Option<Who>,
    /// Its roles in the fixture organization; empty when not a member.
    roles: &'static [&'static str],
    /// Its project role on the fixture's project, directly or through a group.
    grant: Option<ProjectRole>,
}

impl Who {
    fn name(self) -> &'static str {
        match self {
            Who::Owner => "owner",
            Who::Admin => "admin",
            Who::Manager => "manager",
            Who::Developer => "developer",
            Who::Billing => "billing",
            Who::Member => "member",
            Who::Custom => "custom role (projects.read + audit.read)",
            Who::GroupViewer => "group viewer",
            Who::GroupContributor => "group contributor",
            Who::GroupAdmin => "group admin",
            Who::DirectRole => "direct project contributor",
            Who::NonMember => "non-member",
            Who::Anonymous => "anonymous",
            Who::OrgLimitedToken => "owner's token limited to another org",
            Who::PermLimitedToken => "owner's token limited to org.read + members.read",
            Who::Service => "service token",
        }
    }

    fn facts(self) -> Facts {
        let session = |roles, grant| Facts {
            cred: Cred::Session,
            account: Some(self),
            roles,
            grant,
        };
        match self {
            // The owner created the project, and its creator gets `admin` on it.
            Who::Owner => session(&["owner"], Some(ProjectRole::Admin)),
            Who::Admin => session(&["admin"], None),
            Who::Manager => session(&["manager"], None),
            Who::Developer => session(&["developer"], None),
            Who::Billing => session(&["billing"], None),
            Who::Member => session(&["member"], None),
            Who::Custom => session(&[CUSTOM_ROLE], None),
            Who::GroupViewer => session(&["member"], Some(ProjectRole::Viewer)),
            Who::GroupContributor => session(&["member"], Some(ProjectRole::Contributor)),
            Who::GroupAdmin => session(&["member"], Some(ProjectRole::Admin)),
            Who::DirectRole => session(&["member"], Some(ProjectRole::Contributor)),
            Who::NonMember => session(&[], None),
            Who::Anonymous => Facts {
                cred: Cred::Nothing,
                account: None,
                roles: &[],
                grant: None,
            },
            Who::OrgLimitedToken => Facts {
                cred: Cred::OrgLimitedToken,
                account: Some(Who::Owner),
                roles: &["owner"],
                grant: Some(ProjectRole::Admin),
            },
            Who::PermLimitedToken => Facts {
                cred: Cred::PermLimitedToken,
                account: Some(Who::Owner),
                roles: &["owner"],
                grant: Some(ProjectRole::Admin),
            },
            Who::Service => Facts {
                cred: Cred::Service,
                account: None,
                roles: &[],
                grant: None,
            },
        }
    }
}

impl Facts {
    /// The permissions this request may use in the fixture organization; `None` when, to this
    /// caller, the organization does not exist (R12: not a member, or a token limited to another
    /// organization). Every membership carries `org.read` (SPEC §3); a token's limit intersects.
    fn org_permissions(&self) -> Option<Perms> {
        if self.roles.is_empty() || self.cred == Cred::OrgLimitedToken {
            return None;
        }
        let mut held: Perms = self
            .roles
            .iter()
            .flat_map(|r| role_permissions(r))
            .collect();
        held.insert("org.read");
        if self.cred == Cred::PermLimitedToken {
            held.retain(|p| TOKEN_LIMIT.contains(p));
        }
        Some(held)
    }

    /// R11: the strongest of the organization-wide reach and the project role granted. A token
    /// limited to some permissions carries only those, and no project role (SPEC §1: "a subset
    /// of the owner's permissions").
    fn project_role(&self, perms: &Perms) -> Option<ProjectRole> {
        let granted = self.grant.filter(|_| self.cred != Cred::PermLimitedToken);
        ProjectRole::from_org(perms).max(granted)
    }
}

/// What a route needs of its caller.
#[derive(Clone, Copy, Debug)]
enum Need {
    /// Nothing: anyone, whatever they present.
    Public,
    /// A signed-in user, by session or API token.
    Account,
    /// A sign-in session: an API token neither signs out nor mints or revokes other tokens.
    Session,
    /// A signed-in user; a token limited to one organization creates no other (R12).
    NewOrg,
    /// The invitation's token in the body; a signed-in caller must be its addressee, and a token
    /// limited to another organization answers nothing about this one (R12).
    InvitationAnswer,
    /// The check API (SPEC §5): the service token, or an API token holding the `check`
    /// capability; a sign-in session is not a service.
    Check,
    /// The service token alone (a payment provider marking invoices, issue 16): any user's
    /// credential is refused with 403 `service_token_required`.
    Service,
    /// A member holding any of these permissions (none: membership alone).
    Org(&'static [&'static str]),
    /// R6: `members.manage`, and every permission of the role given.
    OrgGrant(&'static str),
    /// R4: any member but the owner leaves.
    Leave,
    /// R7: the pending offer's receiver answers it; to anyone else no offer is addressed.
    TransferAnswer,
    /// R7: the pending offer is shown to its receiver and to holders of `members.read`.
    TransferRead,
    /// R11: an action on a project the caller reaches.
    Project(ProjectAction),
    /// R11 first, then an organization permission (changing a plan: `plans.manage`).
    ProjectThen(&'static str),
    /// R6: giving or taking a direct project role: reach, then `projects.manage` or `admin` on
    /// the project (the role given, `viewer`, is within anyone's reach).
    ProjectGrant,
    /// A group's project role: `groups.manage`, then reach of the project (R6: `viewer` is within
    /// anyone's reach).
    GroupProject,
}

/// An expected answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// The route's success status.
    Allowed(u16),
    /// A problem with this status and code.
    Refused(u16, &'static str),
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Allowed(s) => write!(f, "allowed ({s})"),
            Expect::Refused(s, code) => write!(f, "{s} {code}"),
        }
    }
}

const UNAUTHENTICATED: Expect = Expect::Refused(401, "unauthenticated");
const FORBIDDEN: Expect = Expect::Refused(403, "forbidden");
const ORG_NOT_FOUND: Expect = Expect::Refused(404, "org_not_found");
const PROJECT_NOT_FOUND: Expect = Expect::Refused(404, "project_not_found");

/// The model: what `need` answers to `who`, succeeding with `ok`.
fn expected(need: Need, who: Who, ok: u16) -> Expect {
    let f = who.facts();
    let allowed = Expect::Allowed(ok);
    match (need, f.cred) {
        (Need::Public, _) => return allowed,
        (Need::Check, Cred::Service) => return allowed,
        (Need::Check, Cred::OrgLimitedToken | Cred::PermLimitedToken) => {
            return Expect::Refused(403, "check_capability_required");
        }
        (Need::Check, _) => return UNAUTHENTICATED,
        (Need::Service, Cred::Service) => return allowed,
        (Need::Service, Cred::Nothing) => return UNAUTHENTICATED,
        (Need::Service, _) => return Expect::Refused(403, "service_token_required"),
        (Need::InvitationAnswer, Cred::Nothing) => return allowed,
        // The service token is no user's credential: refused on the management API.
        (_, Cred::Nothing | Cred::Service) => return UNAUTHENTICATED,
        (Need::Session, Cred::OrgLimitedToken | Cred::PermLimitedToken) => {
            return Expect::Refused(403, "session_required");
        }
        (Need::NewOrg | Need::InvitationAnswer, Cred::OrgLimitedToken) => {
            return Expect::Refused(403, "token_limited");
        }
        (Need::Account | Need::Session | Need::NewOrg | Need::InvitationAnswer, _) => {
            return allowed;
        }
        _ => {}
    }
    // R12: to anyone not in the organization (or whose token does not reach it), it does not
    // exist.
    let Some(perms) = f.org_permissions() else {
        return ORG_NOT_FOUND;
    };
    let reach = f.project_role(&perms);
    let refuse_unless = |ok_: bool, refusal: Expect| if ok_ { allowed } else { refusal };
    match need {
        Need::Org(any) => refuse_unless(
            any.is_empty() || any.iter().any(|p| perms.contains(p)),
            FORBIDDEN,
        ),
        Need::OrgGrant(role) => {
            if !perms.contains("members.manage") {
                FORBIDDEN
            } else {
                refuse_unless(
                    role_permissions(role).is_subset(&perms),
                    Expect::Refused(403, "role_not_grantable"),
                )
            }
        }
        Need::Leave => refuse_unless(
            !f.roles.contains(&"owner"),
            Expect::Refused(409, "owner_cannot_leave"),
        ),
        Need::TransferAnswer => refuse_unless(
            f.account == Some(Who::Admin),
            Expect::Refused(404, "transfer_not_found"),
        ),
        Need::TransferRead => refuse_unless(
            f.account == Some(Who::Admin) || perms.contains("members.read"),
            FORBIDDEN,
        ),
        Need::Project(action) => match (reach, action) {
            (None, _) => PROJECT_NOT_FOUND,
            (Some(_), ProjectAction::Read) => allowed,
            (Some(role), ProjectAction::Manage) => {
                refuse_unless(role == ProjectRole::Admin, FORBIDDEN)
            }
        },
        Need::ProjectThen(p) => match reach {
            None => PROJECT_NOT_FOUND,
            Some(_) => refuse_unless(perms.contains(p), FORBIDDEN),
        },
        Need::ProjectGrant => match reach {
            None => PROJECT_NOT_FOUND,
            Some(role) => refuse_unless(
                perms.contains("projects.manage") || role == ProjectRole::Admin,
                FORBIDDEN,
            ),
        },
        Need::GroupProject => {
            if !perms.contains("groups.manage") {
                FORBIDDEN
            } else if reach.is_none() {
                PROJECT_NOT_FOUND
            } else {
                allowed
            }
        }
        Need::Public
        | Need::Account
        | Need::Session
        | Need::NewOrg
        | Need::InvitationAnswer
        | Need::Check
        | Need::Service => unreachable!("answered above"),
    }
}

// ---------------------------------------------------------------------------------------------
// The table: every route, what it needs, what it answers when allowed, and how much of the
// fixture its cells may change.
// ---------------------------------------------------------------------------------------------

/// Which fixture a route's cells run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// The shared fixture: the route changes no grant (each cell brings what it changes).
    Shared,
    /// A fixture of the route's own: its cells change the organization, on resources each cell
    /// makes for itself.
    Route,
    /// A fresh fixture per cell: an allowed cell destroys it (delete, leave, accept ownership).
    Cell,
}

struct Route {
    method: &'static str,
    path: &'static str,
    need: Need,
    ok: u16,
    scope: Scope,
}

const fn r(method: &'static str, path: &'static str, need: Need, ok: u16, scope: Scope) -> Route {
    Route {
        method,
        path,
        need,
        ok,
        scope,
    }
}

const ORG: &str = "/api/v1/orgs/{org}";

#[rustfmt::skip]
const ROUTES: &[Route] = {
    use Need::*;
    use Scope::{Cell, Route as Own, Shared};
    &[
        // Public: meta, accounts and passwords.
        r("GET", "/.well-known/authzen-configuration", Public, 200, Shared),
        r("GET", "/api/v1/openapi.json", Public, 200, Shared),
        r("GET", "/api/v1/permissions", Public, 200, Shared),
        r("GET", "/healthz", Public, 200, Shared),
        r("GET", "/readyz", Public, 200, Shared),
        r("GET", "/metrics", Public, 200, Shared),
        r("POST", "/api/v1/users", Public, 201, Shared),
        r("POST", "/api/v1/sessions", Public, 201, Shared),
        r("POST", "/api/v1/password/forgot", Public, 202, Shared),
        r("POST", "/api/v1/password/set", Public, 200, Shared),
        // The caller's own account.
        r("DELETE", "/api/v1/sessions/current", Session, 204, Shared),
        r("GET", "/api/v1/me", Account, 200, Shared),
        r("GET", "/api/v1/tokens", Account, 200, Shared),
        r("POST", "/api/v1/tokens", Session, 201, Shared),
        r("DELETE", "/api/v1/tokens/{id}", Session, 204, Shared),
        r("GET", "/api/v1/invitations", Account, 200, Shared),
        r("POST", "/api/v1/invitations/accept", InvitationAnswer, 200, Shared),
        r("POST", "/api/v1/invitations/decline", InvitationAnswer, 204, Shared),
        r("GET", "/api/v1/orgs", Account, 200, Shared),
        r("POST", "/api/v1/orgs", NewOrg, 201, Shared),
        r("GET", "/api/v1/plans", Account, 200, Shared),
        // The check API.
        r("POST", "/api/v1/check", Check, 200, Shared),
        r("POST", "/api/v1/check/batch", Check, 200, Shared),
        r("GET", "/api/v1/users/{user}/projects", Check, 200, Shared),
        r("POST", "/access/v1/evaluation", Check, 200, Shared),
        r("POST", "/access/v1/evaluations", Check, 200, Shared),
        // Invoice status, for the service token (a payment provider).
        r("POST", "/api/v1/invoices/{id}/status", Service, 200, Shared),
        // The organization.
        r("GET", ORG, Org(&["org.read"]), 200, Shared),
        r("PATCH", ORG, Org(&["org.update"]), 200, Own),
        r("DELETE", ORG, Org(&["org.delete"]), 204, Cell),
        r("POST", "/api/v1/orgs/{org}/leave", Leave, 204, Cell),
        r("GET", "/api/v1/orgs/{org}/audit", Org(&["audit.read"]), 200, Shared),
        // Members.
        r("GET", "/api/v1/orgs/{org}/members", Org(&["members.read"]), 200, Shared),
        r("POST", "/api/v1/orgs/{org}/members", Org(&["members.invite"]), 201, Own),
        r("PATCH", "/api/v1/orgs/{org}/members/{user}", OrgGrant("developer"), 200, Own),
        r("DELETE", "/api/v1/orgs/{org}/members/{user}", Org(&["members.manage"]), 204, Own),
        r("GET", "/api/v1/orgs/{org}/members/{user}/permissions", Org(&["members.read"]), 200, Shared),
        // Invitations.
        r("GET", "/api/v1/orgs/{org}/invitations", Org(&["members.read", "members.invite"]), 200, Shared),
        r("POST", "/api/v1/orgs/{org}/invitations", Org(&["members.invite"]), 201, Own),
        r("DELETE", "/api/v1/orgs/{org}/invitations/{id}", Org(&["members.invite"]), 204, Own),
        r("POST", "/api/v1/orgs/{org}/invitations/{id}/resend", Org(&["members.invite"]), 200, Own),
        // Ownership transfer.
        r("GET", "/api/v1/orgs/{org}/transfer", TransferRead, 200, Own),
        r("POST", "/api/v1/orgs/{org}/transfer", Org(&["org.transfer"]), 201, Own),
        r("DELETE", "/api/v1/orgs/{org}/transfer", Org(&["org.transfer"]), 204, Own),
        r("POST", "/api/v1/orgs/{org}/transfer/accept", TransferAnswer, 204, Cell),
        r("POST", "/api/v1/orgs/{org}/transfer/decline", TransferAnswer, 204, Own),
        // Custom roles.
        r("GET", "/api/v1/orgs/{org}/roles", Org(&["org.read"]), 200, Shared),
        r("POST", "/api/v1/orgs/{org}/roles", Org(&["roles.manage"]), 201, Own),
        r("PATCH", "/api/v1/orgs/{org}/roles/{role}", Org(&["roles.manage"]), 200, Own),
        r("DELETE", "/api/v1/orgs/{org}/roles/{role}", Org(&["roles.manage"]), 204, Own),
        // Groups.
        r("GET", "/api/v1/orgs/{org}/groups", Org(&["members.read"]), 200, Shared),
        r("POST", "/api/v1/orgs/{org}/groups", Org(&["groups.manage"]), 201, Own),
        r("GET", "/api/v1/orgs/{org}/groups/{group}", Org(&["members.read"]), 200, Shared),
        r("PATCH", "/api/v1/orgs/{org}/groups/{group}", Org(&["groups.manage"]), 200, Own),
        r("DELETE", "/api/v1/orgs/{org}/groups/{group}", Org(&["groups.manage"]), 204, Own),
        r("PUT", "/api/v1/orgs/{org}/groups/{group}/members/{user}", Org(&["groups.manage"]), 200, Own),
        r("DELETE", "/api/v1/orgs/{org}/groups/{group}/members/{user}", Org(&["groups.manage"]), 204, Own),
        r("PUT", "/api/v1/orgs/{org}/groups/{group}/projects/{project}", GroupProject, 200, Own),
        r("DELETE", "/api/v1/orgs/{org}/groups/{group}/projects/{project}", GroupProject, 204, Own),
        // Projects (R11).
        r("GET", "/api/v1/orgs/{org}/projects", Org(&[]), 200, Shared),
        r("POST", "/api/v1/orgs/{org}/projects", Org(&["projects.create"]), 201, Own),
        r("GET", "/api/v1/orgs/{org}/projects/{project}", Project(ProjectAction::Read), 200, Shared),
        r("PATCH", "/api/v1/orgs/{org}/projects/{project}", Project(ProjectAction::Manage), 200, Own),
        r("DELETE", "/api/v1/orgs/{org}/projects/{project}", Project(ProjectAction::Manage), 204, Own),
        r("PUT", "/api/v1/orgs/{org}/projects/{project}/members/{user}", ProjectGrant, 200, Own),
        r("DELETE", "/api/v1/orgs/{org}/projects/{project}/members/{user}", ProjectGrant, 204, Own),
        r("GET", "/api/v1/orgs/{org}/projects/{project}/plan", Project(ProjectAction::Read), 200, Shared),
        r("PUT", "/api/v1/orgs/{org}/projects/{project}/plan", ProjectThen("plans.manage"), 200, Own),
        // Billing (R8).
        r("GET", "/api/v1/orgs/{org}/billing", Org(&["billing.read"]), 200, Shared),
        r("PUT", "/api/v1/orgs/{org}/billing", Org(&["billing.manage"]), 200, Own),
        r("GET", "/api/v1/orgs/{org}/billing/invoices", Org(&["billing.read"]), 200, Shared),
        r("GET", "/api/v1/orgs/{org}/billing/invoices/upcoming", Org(&["billing.read"]), 200, Shared),
        r("GET", "/api/v1/orgs/{org}/billing/invoices/{id}", Org(&["billing.read"]), 200, Shared),
        r("GET", "/api/v1/orgs/{org}/billing/invoices/{id}/pdf", Org(&["billing.read"]), 200, Shared),
        r("POST", "/api/v1/orgs/{org}/billing/vouchers", Org(&["billing.manage"]), 201, Own),
    ]
};

// ---------------------------------------------------------------------------------------------
// The world: accounts, credentials, fixtures.
// ---------------------------------------------------------------------------------------------

struct World {
    app: TestApp,
    accounts: Vec<(Who, TestUser)>,
    /// A member of every fixture who is no caller: the target of member, group and project-role
    /// routes.
    target: TestUser,
    /// Sends the invitations the invitation-answer cells answer, from organizations of its own.
    inviter: TestUser,
    /// Signed in by the sign-in cells.
    signer: TestUser,
    org_limited_token: String,
    perm_limited_token: String,
    store: std::sync::Arc<dyn guildhall::store::Store>,
}

/// One organization with every kind of member.
struct Fixture {
    org: String,
    project: String,
    groups: Vec<(ProjectRole, String)>,
    invoice: Option<String>,
}

impl World {
    fn user(&self, who: Who) -> &TestUser {
        &self
            .accounts
            .iter()
            .find(|(w, _)| *w == who)
            .unwrap_or_else(|| panic!("no account for {who:?}"))
            .1
    }

    fn owner(&self) -> &str {
        &self.user(Who::Owner).token
    }

    /// The credential `who` presents.
    fn credential(&self, who: Who) -> Option<String> {
        match who.facts().cred {
            Cred::Nothing => None,
            Cred::Service => Some(SERVICE_TOKEN.to_owned()),
            Cred::OrgLimitedToken => Some(self.org_limited_token.clone()),
            Cred::PermLimitedToken => Some(self.perm_limited_token.clone()),
            Cred::Session => Some(self.user(who).token.clone()),
        }
    }

    async fn send(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let m = Method::from_bytes(method.as_bytes()).expect("method");
        let resp = self.app.req(m, path, Some(token), body).await;
        assert!(
            resp.status.is_success(),
            "fixture step {method} {path} failed: {} {:#}",
            resp.status,
            resp.body
        );
        resp.body
    }

    /// Register-and-add (R10) of a fresh account into `org`, by the owner; its id.
    async fn fresh_member(&self, org: &str, role: &str) -> String {
        let email = format!("{}@example.com", unique("hire"));
        let body = json!({ "email": email, "name": "New Hire", "roles": [role], "register": true });
        let r = self
            .send(
                "POST",
                &format!("/api/v1/orgs/{org}/members"),
                self.owner(),
                Some(body),
            )
            .await;
        r["user"]["id"].as_str().expect("member id").to_owned()
    }

    /// A fresh group of `org` (by the owner); its name.
    async fn fresh_group(&self, org: &str) -> String {
        let name = unique("grp");
        self.send(
            "POST",
            &format!("/api/v1/orgs/{org}/groups"),
            self.owner(),
            Some(json!({ "name": name })),
        )
        .await;
        name
    }

    /// The owner's pending offer of ownership to the admin, made anew.
    async fn offer_transfer(&self, org: &str) {
        let path = format!("/api/v1/orgs/{org}/transfer");
        let _ = self.app.delete(&path, self.owner()).await;
        let to = self.user(Who::Admin).id.clone();
        self.send("POST", &path, self.owner(), Some(json!({ "to": to })))
            .await;
    }

    /// An organization owned by the owner holding every kind of member, a custom role, a
    /// project, a group per project role (each with one plain member) and a direct project role.
    async fn fixture(&self) -> Fixture {
        let owner = self.owner();
        let org = self
            .send(
                "POST",
                "/api/v1/orgs",
                owner,
                Some(json!({ "name": unique("Matrix") })),
            )
            .await["id"]
            .as_str()
            .expect("org id")
            .to_owned();
        let base = format!("/api/v1/orgs/{org}");
        self.send(
            "POST",
            &format!("{base}/roles"),
            owner,
            Some(json!({ "name": CUSTOM_ROLE, "permissions": CUSTOM_PERMISSIONS })),
        )
        .await;
        for &who in ACCOUNTS {
            let f = who.facts();
            if who == Who::Owner || f.roles.is_empty() {
                continue;
            }
            let body = json!({ "email": self.user(who).email, "roles": f.roles });
            self.send("POST", &format!("{base}/members"), owner, Some(body))
                .await;
        }
        let body = json!({ "email": self.target.email, "roles": ["member"] });
        self.send("POST", &format!("{base}/members"), owner, Some(body))
            .await;
        let project = self
            .send(
                "POST",
                &format!("{base}/projects"),
                owner,
                Some(json!({ "name": unique("web") })),
            )
            .await["id"]
            .as_str()
            .expect("project id")
            .to_owned();
        let mut groups = Vec::new();
        for (who, role) in [
            (Who::GroupViewer, ProjectRole::Viewer),
            (Who::GroupContributor, ProjectRole::Contributor),
            (Who::GroupAdmin, ProjectRole::Admin),
        ] {
            let g = self.fresh_group(&org).await;
            let user = &self.user(who).id;
            self.send(
                "PUT",
                &format!("{base}/groups/{g}/members/{user}"),
                owner,
                None,
            )
            .await;
            groups.push((role, g));
        }
        let fx = Fixture {
            org,
            project,
            groups,
            invoice: None,
        };
        self.grant_project(&fx, &fx.project).await;
        fx
    }

    /// The groups' project roles and the direct role on `project`.
    async fn grant_project(&self, fx: &Fixture, project: &str) {
        let base = format!("/api/v1/orgs/{}", fx.org);
        for (role, g) in &fx.groups {
            self.send(
                "PUT",
                &format!("{base}/groups/{g}/projects/{project}"),
                self.owner(),
                Some(json!({ "role": role.as_str() })),
            )
            .await;
        }
        let direct = &self.user(Who::DirectRole).id;
        self.send(
            "PUT",
            &format!("{base}/projects/{project}/members/{direct}"),
            self.owner(),
            Some(json!({ "role": "contributor" })),
        )
        .await;
    }

    /// A fresh invitation from an organization of the inviter's to `email`; its token.
    async fn invitation_to(&self, email: &str) -> String {
        let side = self
            .send(
                "POST",
                "/api/v1/orgs",
                &self.inviter.token,
                Some(json!({ "name": unique("Inviting") })),
            )
            .await["id"]
            .as_str()
            .expect("org id")
            .to_owned();
        self.send(
            "POST",
            &format!("/api/v1/orgs/{side}/invitations"),
            &self.inviter.token,
            Some(json!({ "email": email, "roles": ["member"] })),
        )
        .await;
        self.app.newest_token(email, "/invitations/accept")
    }

    /// A fresh API token of `account`, made with its session; its id.
    async fn fresh_token(&self, account: &TestUser) -> String {
        self.send(
            "POST",
            "/api/v1/tokens",
            &account.token,
            Some(json!({ "name": unique("tok") })),
        )
        .await["id"]
            .as_str()
            .expect("token id")
            .to_owned()
    }
}

/// One request of the matrix.
struct Cell {
    path: String,
    body: Option<Value>,
    /// Replaces the caller's usual credential (a fresh session of the same account).
    credential: Option<Option<String>>,
    /// Replaces the route's success status.
    ok: Option<u16>,
}

/// Makes what the cell of `route` for `who` acts on, on `fx`, and the request.
async fn prepare(w: &World, fx: &Fixture, route: &Route, who: Who) -> Cell {
    let app = &w.app;
    let base = format!("/api/v1/orgs/{}", fx.org);
    let owner = w.owner();
    let f = who.facts();
    let mut cell = Cell {
        path: route
            .path
            .replace("{org}", &fx.org)
            .replace("{project}", &fx.project),
        body: None,
        credential: None,
        ok: None,
    };
    let fresh_email = || format!("{}@example.com", unique("fresh"));
    match (route.method, route.path) {
        ("POST", "/api/v1/users") => {
            cell.body =
                Some(json!({ "email": fresh_email(), "password": PASSWORD, "name": "Newcomer" }));
        }
        ("POST", "/api/v1/sessions") => {
            cell.body = Some(json!({ "email": w.signer.email, "password": PASSWORD }));
        }
        ("POST", "/api/v1/password/forgot") => {
            cell.body = Some(json!({ "email": fresh_email() }));
        }
        ("POST", "/api/v1/password/set") => {
            // R10: register-and-add mails a one-time link to set a password.
            let email = fresh_email();
            let body = json!({ "email": email, "name": "Link Holder", "roles": ["member"], "register": true });
            w.send("POST", &format!("{base}/members"), owner, Some(body))
                .await;
            let token = app.newest_token(&email, "/password/set");
            cell.body = Some(json!({ "token": token, "password": PASSWORD }));
        }
        ("DELETE", "/api/v1/sessions/current") if f.cred == Cred::Session => {
            // A session of its own, so that the caller's stays for the other cells.
            let user = w.user(who);
            let token = app.sign_in(&user.email, PASSWORD).await.expect(201).body["token"]
                .as_str()
                .expect("token")
                .to_owned();
            cell.credential = Some(Some(token));
        }
        ("POST", "/api/v1/tokens") => {
            cell.body = Some(json!({ "name": unique("tok") }));
        }
        ("DELETE", "/api/v1/tokens/{id}") => {
            // One of the caller's own tokens (the owner's for a token or no account).
            let account = match f.cred {
                Cred::Session => w.user(who),
                _ => w.user(Who::Owner),
            };
            let id = w.fresh_token(account).await;
            cell.path = format!("/api/v1/tokens/{id}");
        }
        ("POST", "/api/v1/invitations/accept" | "/api/v1/invitations/decline") => {
            let email = match f.account {
                Some(a) => w.user(a).email.clone(),
                None => fresh_email(),
            };
            let token = w.invitation_to(&email).await;
            let accepting = route.path.ends_with("accept");
            cell.body = Some(if accepting && f.cred == Cred::Nothing {
                // Signed out, accepting creates the invited account (R9).
                cell.ok = Some(201);
                json!({ "token": token, "name": "Invitee", "password": PASSWORD })
            } else {
                json!({ "token": token })
            });
        }
        ("POST", "/api/v1/orgs") => {
            cell.body = Some(json!({ "name": unique("Created") }));
        }
        ("POST", "/api/v1/check") => {
            let user = &w.user(Who::Owner).id;
            cell.body = Some(json!({ "user": user, "permission": "org.read", "org": fx.org }));
        }
        ("POST", "/api/v1/check/batch") => {
            let user = &w.user(Who::Owner).id;
            cell.body = Some(
                json!({ "checks": [{ "user": user, "permission": "org.read", "org": fx.org }] }),
            );
        }
        ("GET", "/api/v1/users/{user}/projects") => {
            let user = &w.user(Who::Owner).id;
            cell.path = format!("/api/v1/users/{user}/projects?permission=project.read");
        }
        ("POST", "/access/v1/evaluation") => {
            let user = &w.user(Who::Owner).id;
            cell.body = Some(json!({
                "subject": { "type": "user", "id": user },
                "action": { "name": "org.read" },
                "resource": { "type": "organization", "id": fx.org }
            }));
        }
        ("POST", "/access/v1/evaluations") => {
            let user = &w.user(Who::Owner).id;
            cell.body = Some(json!({
                "subject": { "type": "user", "id": user },
                "resource": { "type": "organization", "id": fx.org },
                "evaluations": [{ "action": { "name": "org.read" } }]
            }));
        }
        ("PATCH", ORG) => {
            cell.body = Some(json!({ "name": unique("Renamed") }));
        }
        ("DELETE", ORG) => {
            // R5: only an organization without projects can go.
            w.send(
                "DELETE",
                &format!("{base}/projects/{}", fx.project),
                owner,
                None,
            )
            .await;
        }
        ("POST", "/api/v1/orgs/{org}/members") => {
            cell.body = Some(
                json!({ "email": fresh_email(), "name": "New Hire", "roles": ["member"], "register": true }),
            );
        }
        ("PATCH", "/api/v1/orgs/{org}/members/{user}") => {
            let user = w.fresh_member(&fx.org, "member").await;
            cell.path = format!("{base}/members/{user}");
            cell.body = Some(json!({ "roles": ["developer"] }));
        }
        ("DELETE", "/api/v1/orgs/{org}/members/{user}") => {
            let user = w.fresh_member(&fx.org, "member").await;
            cell.path = format!("{base}/members/{user}");
        }
        ("GET", "/api/v1/orgs/{org}/members/{user}/permissions") => {
            cell.path = format!("{base}/members/{}/permissions", w.target.id);
        }
        ("POST", "/api/v1/orgs/{org}/invitations") => {
            cell.body = Some(json!({ "email": fresh_email(), "roles": ["member"] }));
        }
        (
            "DELETE" | "POST",
            "/api/v1/orgs/{org}/invitations/{id}" | "/api/v1/orgs/{org}/invitations/{id}/resend",
        ) => {
            let body = json!({ "email": fresh_email(), "roles": ["member"] });
            let inv = w
                .send("POST", &format!("{base}/invitations"), owner, Some(body))
                .await;
            let id = inv["id"].as_str().expect("invitation id");
            cell.path = route.path.replace("{org}", &fx.org).replace("{id}", id);
            if route.method == "POST" {
                cell.body = Some(json!({}));
            }
        }
        ("GET" | "DELETE", "/api/v1/orgs/{org}/transfer")
        | ("POST", "/api/v1/orgs/{org}/transfer/accept" | "/api/v1/orgs/{org}/transfer/decline") => {
            w.offer_transfer(&fx.org).await;
        }
        ("POST", "/api/v1/orgs/{org}/transfer") => {
            let _ = app.delete(&format!("{base}/transfer"), owner).await;
            cell.body = Some(json!({ "to": w.user(Who::Admin).id }));
        }
        ("POST", "/api/v1/orgs/{org}/roles") => {
            cell.body = Some(json!({ "name": unique("role"), "permissions": ["org.read"] }));
        }
        ("PATCH" | "DELETE", "/api/v1/orgs/{org}/roles/{role}") => {
            let name = unique("role");
            let body = json!({ "name": name, "permissions": ["org.read"] });
            w.send("POST", &format!("{base}/roles"), owner, Some(body))
                .await;
            cell.path = format!("{base}/roles/{name}");
            if route.method == "PATCH" {
                cell.body = Some(json!({ "name": unique("role") }));
            }
        }
        ("POST", "/api/v1/orgs/{org}/groups") => {
            cell.body = Some(json!({ "name": unique("grp") }));
        }
        ("GET", "/api/v1/orgs/{org}/groups/{group}") => {
            cell.path = format!("{base}/groups/{}", fx.groups[0].1);
        }
        ("PATCH" | "DELETE", "/api/v1/orgs/{org}/groups/{group}") => {
            let g = w.fresh_group(&fx.org).await;
            cell.path = format!("{base}/groups/{g}");
            if route.method == "PATCH" {
                cell.body = Some(json!({ "name": unique("grp") }));
            }
        }
        (m, "/api/v1/orgs/{org}/groups/{group}/members/{user}") => {
            let g = w.fresh_group(&fx.org).await;
            cell.path = format!("{base}/groups/{g}/members/{}", w.target.id);
            if m == "DELETE" {
                w.send("PUT", &cell.path, owner, None).await;
            }
        }
        (m, "/api/v1/orgs/{org}/groups/{group}/projects/{project}") => {
            let g = w.fresh_group(&fx.org).await;
            cell.path = format!("{base}/groups/{g}/projects/{}", fx.project);
            let body = json!({ "role": "viewer" });
            if m == "DELETE" {
                w.send("PUT", &cell.path, owner, Some(body)).await;
            } else {
                cell.body = Some(body);
            }
        }
        ("POST", "/api/v1/orgs/{org}/projects") => {
            cell.body = Some(json!({ "name": unique("proj") }));
        }
        ("PATCH", "/api/v1/orgs/{org}/projects/{project}") => {
            cell.body = Some(json!({ "name": unique("web") }));
        }
        ("DELETE", "/api/v1/orgs/{org}/projects/{project}") => {
            // A project of its own, reached as the fixture's is.
            let body = json!({ "name": unique("doomed") });
            let p = w
                .send("POST", &format!("{base}/projects"), owner, Some(body))
                .await;
            let id = p["id"].as_str().expect("project id").to_owned();
            w.grant_project(fx, &id).await;
            cell.path = format!("{base}/projects/{id}");
        }
        (m, "/api/v1/orgs/{org}/projects/{project}/members/{user}") => {
            cell.path = format!("{base}/projects/{}/members/{}", fx.project, w.target.id);
            let body = json!({ "role": "viewer" });
            if m == "DELETE" {
                w.send("PUT", &cell.path, owner, Some(body)).await;
            } else {
                cell.body = Some(body);
            }
        }
        ("PUT", "/api/v1/orgs/{org}/projects/{project}/plan") => {
            cell.body = Some(json!({ "tier": "pro" }));
        }
        ("PUT", "/api/v1/orgs/{org}/billing") => {
            cell.body = Some(crate::billing::profile());
        }
        (
            "GET",
            "/api/v1/orgs/{org}/billing/invoices/{id}"
            | "/api/v1/orgs/{org}/billing/invoices/{id}/pdf",
        ) => {
            let id = fx
                .invoice
                .as_deref()
                .expect("the shared fixture has an invoice");
            cell.path = cell.path.replace("{id}", id);
        }
        ("POST", "/api/v1/invoices/{id}/status") => {
            let id = fx
                .invoice
                .as_deref()
                .expect("the shared fixture has an invoice");
            cell.path = cell.path.replace("{id}", id);
            // Marking it paid again changes nothing: every cell may.
            cell.body = Some(json!({ "status": "paid" }));
        }
        ("POST", "/api/v1/orgs/{org}/billing/vouchers") => {
            let code = unique("MATRIX").to_uppercase();
            let far = (app.clock.now() + chrono::Duration::days(365)).date_naive();
            guildhall::service::billing::create_voucher(
                &*w.store,
                &code,
                guildhall::domain::billing::VoucherValue::Amount(100),
                far,
                1,
                None,
                &guildhall::service::billing::Operator {
                    account: "test-operator",
                    now: app.clock.now(),
                },
            )
            .await
            .expect("voucher created");
            cell.body = Some(json!({ "code": code }));
        }
        _ => {}
    }
    assert!(
        !cell.path.contains('{'),
        "{} {}: no value for a path parameter",
        route.method,
        route.path
    );
    cell
}

/// Signs up and in every account, makes the shared fixture with an invoice, and the owner's
/// limited tokens.
async fn world(app: TestApp) -> (World, Fixture) {
    let mut accounts = Vec::new();
    for &who in ACCOUNTS {
        accounts.push((who, app.user(&format!("{who:?}")).await));
    }
    let target = app.user("Target").await;
    let inviter = app.user("Inviter").await;
    let signer = app.user("Signer").await;
    let store = guildhall::store::open(&app.database_url)
        .await
        .expect("store");
    let mut w = World {
        app,
        accounts,
        target,
        inviter,
        signer,
        org_limited_token: String::new(),
        perm_limited_token: String::new(),
        store,
    };
    let mut shared = w.fixture().await;
    // R8: an invoice to read, from the invoice run of a closed month.
    let month = guildhall::domain::billing::Month::of(w.app.clock.now());
    crate::billing::close_month(&w.app, month);
    assert_eq!(crate::billing::generate(&w.app, month).await, 1);
    let mut relogged = Vec::new();
    for (who, mut u) in std::mem::take(&mut w.accounts) {
        crate::billing::relog(&w.app, &mut u).await;
        relogged.push((who, u));
    }
    w.accounts = relogged;
    crate::billing::relog(&w.app, &mut w.inviter).await;
    let invoices = format!("/api/v1/orgs/{}/billing/invoices", shared.org);
    let list = w.send("GET", &invoices, w.owner(), None).await;
    shared.invoice = Some(list["items"][0]["id"].as_str().expect("invoice").to_owned());
    // The owner's tokens: one limited to another organization (the personal one), one to a few
    // permissions.
    let orgs = w.send("GET", "/api/v1/orgs", w.owner(), None).await;
    let personal = orgs["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|o| o["personal"] == true)
        .expect("a personal organization")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let body = json!({ "name": "elsewhere", "org": personal });
    let made = w
        .send("POST", "/api/v1/tokens", w.owner(), Some(body))
        .await;
    w.org_limited_token = made["token"].as_str().expect("token").to_owned();
    let body = json!({ "name": "narrow", "permissions": TOKEN_LIMIT });
    let made = w
        .send("POST", "/api/v1/tokens", w.owner(), Some(body))
        .await;
    w.perm_limited_token = made["token"].as_str().expect("token").to_owned();
    (w, shared)
}

/// Every (method, path) the served OpenAPI document describes.
async fn documented(app: &TestApp) -> BTreeSet<(String, String)> {
    let doc = app
        .req(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .expect(200)
        .body;
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if [
                "get", "put", "post", "patch", "delete", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

both_stores!(
    async fn every_route_answers_every_kind_of_caller_as_spec_says(app) {
        let started = std::time::Instant::now();
        // A route without a row (or a row without a route) fails before anything else.
        let table: BTreeSet<(String, String)> = ROUTES
            .iter()
            .map(|r| (r.method.to_owned(), r.path.to_owned()))
            .collect();
        assert_eq!(table.len(), ROUTES.len(), "a route is in the table twice");
        let served = documented(&app).await;
        let missing: Vec<_> = served.difference(&table).collect();
        let extra: Vec<_> = table.difference(&served).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "the matrix and the OpenAPI document disagree: routes without a row {missing:?}, \
             rows without a route {extra:?}"
        );

        let (w, shared) = world(app).await;
        let mut mismatches = Vec::new();
        let mut cells = 0;
        let mut tally = std::collections::BTreeMap::new();
        for route in ROUTES {
            let own = match route.scope {
                Scope::Route => Some(w.fixture().await),
                Scope::Shared | Scope::Cell => None,
            };
            for &who in CALLERS {
                let fresh = match route.scope {
                    Scope::Cell => Some(w.fixture().await),
                    Scope::Shared | Scope::Route => None,
                };
                let fx = fresh.as_ref().or(own.as_ref()).unwrap_or(&shared);
                let cell = prepare(&w, fx, route, who).await;
                let want = expected(route.need, who, cell.ok.unwrap_or(route.ok));
                let credential = cell.credential.clone().unwrap_or_else(|| w.credential(who));
                let method = Method::from_bytes(route.method.as_bytes()).expect("method");
                let got = w
                    .app
                    .req(method, &cell.path, credential.as_deref(), cell.body.clone())
                    .await;
                cells += 1;
                *tally.entry(want.to_string()).or_insert(0) += 1;
                let agrees = match want {
                    Expect::Allowed(s) => got.status.as_u16() == s,
                    Expect::Refused(s, code) => got.status.as_u16() == s && got.code() == code,
                };
                if !agrees {
                    let mut body = got.body.to_string();
                    body.truncate(300);
                    mismatches.push(format!(
                        "{} {} as {}: expected {want}, got {} {} ({body})",
                        route.method,
                        route.path,
                        who.name(),
                        got.status.as_u16(),
                        got.code(),
                    ));
                }
            }
        }
        eprintln!(
            "access matrix: {} routes x {} callers = {cells} cells in {:.1?}; expected {tally:?}",
            ROUTES.len(),
            CALLERS.len(),
            started.elapsed()
        );
        assert!(
            mismatches.is_empty(),
            "{} of {cells} cells disagree with SPEC:\n{}",
            mismatches.len(),
            mismatches.join("\n")
        );
    }
);
