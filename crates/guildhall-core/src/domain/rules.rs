//! The rules of SPEC §4 as pure functions from facts to a decision. Each one's doc comment starts
//! with its rule id, so `grep R6` finds the code and its tests. No clock, no RNG, no IO: callers
//! pass `now` in, so the API, the console and the CLI share one implementation.

use super::error::DomainError;
use super::ids::{OrgId, TokenId, UserId};
use super::permission::{
    BuiltinRole, PermSet, Permission, ProjectPermission, ProjectRole, owner_only,
};
use super::role::AssignedRole;
use chrono::{DateTime, Duration, Utc};

/// What a member holds in one organization.
#[derive(Clone, Debug)]
pub struct MemberFacts {
    /// The member.
    pub user: UserId,
    /// The roles the member holds.
    pub roles: Vec<AssignedRole>,
}

impl MemberFacts {
    /// Whether the member holds `owner`.
    pub fn is_owner(&self) -> bool {
        self.roles.iter().any(|r| r.is(BuiltinRole::Owner))
    }

    /// Whether the member holds the built-in role `b`.
    pub fn holds(&self, b: BuiltinRole) -> bool {
        self.roles.iter().any(|r| r.is(b))
    }

    /// The permissions the membership (its floor, `org.read`) and the member's roles add up to.
    pub fn permissions(&self) -> PermSet {
        super::role::member_permissions(&self.roles, None)
    }
}

/// The member acting, with what the request may use: the member's permissions, narrowed by the
/// API token's limits when the request came with one (R6).
#[derive(Clone, Debug)]
pub struct ActorFacts {
    /// The member's roles.
    pub member: MemberFacts,
    /// The permissions this request may use.
    pub permissions: PermSet,
}

impl ActorFacts {
    /// Facts for a member acting with `limit` (an API token's permissions), or with all they hold.
    pub fn new(member: MemberFacts, limit: Option<PermSet>) -> Self {
        let permissions = super::role::member_permissions(&member.roles, limit);
        ActorFacts {
            member,
            permissions,
        }
    }

    /// Refuses with 403 unless the request may use `p`.
    pub fn require(&self, p: Permission) -> Result<(), DomainError> {
        if self.permissions.contains(p) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(p))
        }
    }
}

/// The roles a role change adds and removes.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleChange {
    /// Roles the member gains.
    pub added: Vec<AssignedRole>,
    /// Roles the member loses.
    pub removed: Vec<AssignedRole>,
}

impl RoleChange {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// R6: whether `actor` may give (or take away) `role`. `owner` moves only by transfer (R3);
/// `admin` only by the owner or an admin; `billing` only by the owner; anything else only when
/// the actor holds every permission the role carries. Members without `members.manage` assign
/// nothing but `member`, which carries only `org.read`.
pub fn r6_may_grant(actor: &ActorFacts, role: &AssignedRole) -> Result<(), DomainError> {
    let refuse = |who| {
        Err(DomainError::RoleNotGrantable {
            role: role.name().to_owned(),
            who,
        })
    };
    if role.is(BuiltinRole::Owner) {
        return Err(DomainError::OwnerNeedsTransfer);
    }
    if !actor.permissions.contains(Permission::MembersManage) && !role.is(BuiltinRole::Member) {
        return refuse("only members with `members.manage` (owner, admin, manager) assign roles");
    }
    if role.is(BuiltinRole::Admin)
        && !(actor.member.is_owner() || actor.member.holds(BuiltinRole::Admin))
    {
        return refuse("only the owner or an admin may");
    }
    if role.is(BuiltinRole::Billing) && !actor.member.is_owner() {
        return refuse("only the owner may");
    }
    if !actor.permissions.is_superset(role.permissions()) {
        return refuse("only someone who holds every permission it carries may");
    }
    Ok(())
}

/// R3, R6: `actor` sets `target`'s roles to `requested`. Needs `members.manage`; nobody changes
/// their own roles; the owner's roles are fixed (only a transfer moves ownership); `owner` is never
/// given this way; every role added or removed must be one the actor may grant; at least one role
/// remains.
pub fn r6_change_roles(
    actor: &ActorFacts,
    target: &MemberFacts,
    requested: Vec<AssignedRole>,
) -> Result<RoleChange, DomainError> {
    actor.require(Permission::MembersManage)?;
    if actor.member.user == target.user {
        return Err(DomainError::OwnRoles);
    }
    if target.is_owner() {
        return Err(DomainError::OwnerIsFixed);
    }
    if requested.is_empty() {
        return Err(DomainError::invalid("roles", "must name at least one role"));
    }
    let added: Vec<_> = dedup(requested.iter().filter(|r| !contains(&target.roles, r)));
    let removed: Vec<_> = dedup(target.roles.iter().filter(|r| !contains(&requested, r)));
    for role in added.iter().chain(&removed) {
        r6_may_grant(actor, role)?;
    }
    Ok(RoleChange { added, removed })
}

/// R3, R6: `actor` removes `target` from the organization. Needs `members.manage`; leaving is
/// how one removes oneself; the owner cannot be removed; and the actor must be able to take away
/// every role the target holds, so nobody removes someone above them.
pub fn r6_remove_member(actor: &ActorFacts, target: &MemberFacts) -> Result<(), DomainError> {
    actor.require(Permission::MembersManage)?;
    if actor.member.user == target.user {
        return Err(DomainError::OwnRoles);
    }
    if target.is_owner() {
        return Err(DomainError::OwnerIsFixed);
    }
    for role in &target.roles {
        r6_may_grant(actor, role)?;
    }
    Ok(())
}

/// R6: `actor` adds a registered user with `roles`. Needs `members.invite`; every role must be
/// grantable (without `members.manage`, only `member`).
pub fn r6_add_member(actor: &ActorFacts, roles: &[AssignedRole]) -> Result<(), DomainError> {
    actor.require(Permission::MembersInvite)?;
    if roles.is_empty() {
        return Err(DomainError::invalid("roles", "must name at least one role"));
    }
    for role in roles {
        r6_may_grant(actor, role)?;
    }
    Ok(())
}

/// R4: the owner cannot leave (a personal organization's, not even by a transfer); any other
/// member can.
pub fn r4_leave(member: &MemberFacts, personal: bool) -> Result<(), DomainError> {
    if member.is_owner() {
        Err(DomainError::OwnerCannotLeave { personal })
    } else {
        Ok(())
    }
}

/// R5: only the owner deletes an organization (`org.delete` is the owner's alone), never a
/// personal one, and only once no project is left.
pub fn r5_delete_org(
    actor: &ActorFacts,
    personal: bool,
    projects_left: u64,
) -> Result<(), DomainError> {
    actor.require(Permission::OrgDelete)?;
    if personal {
        return Err(DomainError::PersonalOrg);
    }
    if projects_left > 0 {
        return Err(DomainError::OrgHasProjects(projects_left));
    }
    Ok(())
}

/// R6 for custom roles: needs `roles.manage`; a custom role never carries the owner's own
/// permissions (SPEC §3) and carries only permissions the actor holds.
pub fn r6_custom_role_permissions(
    actor: &ActorFacts,
    permissions: PermSet,
) -> Result<(), DomainError> {
    actor.require(Permission::RolesManage)?;
    let owners = permissions.intersect(owner_only());
    if !owners.is_empty() {
        return Err(DomainError::invalid(
            "permissions",
            format!(
                "{} stay the owner's and cannot be in a custom role",
                quoted(owners)
            ),
        ));
    }
    let missing = permissions.minus(actor.permissions);
    if !missing.is_empty() {
        return Err(DomainError::PermissionsNotHeld(missing.names()));
    }
    Ok(())
}

/// R6 for editing a custom role members hold: widening it hands its holders new permissions,
/// which is assigning, so it also needs `members.manage` ("members without `members.manage`
/// assign nothing"). Narrowing it, or editing a role nobody holds, needs only `roles.manage`.
pub fn r6_edit_custom_role(
    actor: &ActorFacts,
    before: PermSet,
    after: PermSet,
    holders: u64,
) -> Result<(), DomainError> {
    r6_custom_role_permissions(actor, after)?;
    if holders > 0 && !after.minus(before).is_empty() {
        actor.require(Permission::MembersManage)?;
    }
    Ok(())
}

/// R6 for API tokens: a token may be limited to permissions its owner holds, and to nothing else.
/// `held` is what the owner holds where the token applies (one organization, or all of them).
pub fn r6_token_permissions(held: PermSet, requested: PermSet) -> Result<(), DomainError> {
    let missing = requested.minus(held);
    if missing.is_empty() {
        Ok(())
    } else {
        Err(DomainError::PermissionsNotHeld(missing.names()))
    }
}

/// API tokens (SPEC §5): the most live (unrevoked, unexpired) tokens one account holds at
/// once, so that a client minting in a loop runs into a wall and not the database.
pub const MAX_LIVE_TOKENS: u64 = 100;

/// API tokens (SPEC §5: "90 days unless asked otherwise, within a server-set maximum"): how
/// long a token made without `expires_at` lives, and how far ahead any token's may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenLifetime {
    /// Days a token made without `expires_at` lives.
    pub default_days: u32,
    /// The most days ahead an `expires_at` may be.
    pub max_days: u32,
}

impl TokenLifetime {
    /// The longest maximum a server may set: a hundred years.
    pub const LONGEST_DAYS: u32 = 36_500;

    /// A lifetime, checked: `1 <= default_days <= max_days <= LONGEST_DAYS`. The error says
    /// which bound was crossed, for the start-up message.
    pub fn new(default_days: u32, max_days: u32) -> Result<Self, String> {
        if default_days == 0 {
            Err("the default token lifetime must be at least 1 day".to_owned())
        } else if max_days > Self::LONGEST_DAYS {
            Err(format!(
                "the maximum token lifetime must be at most {} days",
                Self::LONGEST_DAYS
            ))
        } else if default_days > max_days {
            Err(format!(
                "the default token lifetime ({default_days} days) is longer than the maximum \
                 ({max_days} days)"
            ))
        } else {
            Ok(Self {
                default_days,
                max_days,
            })
        }
    }
}

impl Default for TokenLifetime {
    /// SPEC §5: 90 days unless asked otherwise; at most a year.
    fn default() -> Self {
        Self {
            default_days: 90,
            max_days: 365,
        }
    }
}

/// API tokens (SPEC §1, "API token"; SPEC §5; R6 bounds what they carry): only a sign-in
/// session makes one, so that a leaked token cannot mint longer-lived ones; and every token
/// expires: `asked` if given, which must be in the future and at most `lifetime.max_days`
/// ahead, else `lifetime.default_days` from `now`. Returns when the token expires.
pub fn r6_mint_token(
    by_session: bool,
    asked: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    lifetime: TokenLifetime,
) -> Result<DateTime<Utc>, DomainError> {
    if !by_session {
        return Err(DomainError::SessionRequired);
    }
    let within = |days: u32| now + Duration::days(i64::from(days));
    let (max, default) = (lifetime.max_days, lifetime.default_days);
    match asked {
        None => Ok(within(default)),
        Some(e) if e <= now => Err(DomainError::invalid(
            "expires_at",
            format!(
                "must be in the future, at most {max} days ahead (the server's maximum); leave it \
                 out for {default} days"
            ),
        )),
        Some(e) if e > within(max) => Err(DomainError::invalid(
            "expires_at",
            format!(
                "must be at most {max} days ahead, the server's maximum for API tokens; leave it \
                 out for {default} days"
            ),
        )),
        Some(e) => Ok(e),
    }
}

/// API tokens (SPEC §5): a new token needs room among the owner's `live` ones (unrevoked and
/// unexpired), at most [`MAX_LIVE_TOKENS`].
pub fn token_room(live: u64) -> Result<(), DomainError> {
    if live >= MAX_LIVE_TOKENS {
        Err(DomainError::TooManyTokens(MAX_LIVE_TOKENS))
    } else {
        Ok(())
    }
}

/// API tokens (SPEC §1, "revocable"): a token may revoke itself; revoking another needs a
/// sign-in session (`presented` is the token the request came with, `None` for a session).
pub fn r6_revoke_token(presented: Option<TokenId>, revoked: TokenId) -> Result<(), DomainError> {
    match presented {
        Some(t) if t != revoked => Err(DomainError::SessionRequired),
        _ => Ok(()),
    }
}

/// API tokens (SPEC §1, "optionally limited to one organization"; R12): a token limited to one
/// organization reaches nothing outside it, so it cannot create another.
pub fn r6_create_org(token_limited_to_an_org: bool) -> Result<(), DomainError> {
    if token_limited_to_an_org {
        Err(DomainError::TokenLimited)
    } else {
        Ok(())
    }
}

/// R6: nobody puts themselves in a group: its project roles would be self-given.
pub fn r6_group_place(actor: UserId, member: UserId, adding: bool) -> Result<(), DomainError> {
    if adding {
        r6_own_project_role(actor, member)
    } else {
        Ok(())
    }
}

/// R6: nobody gives (or changes) their own project role.
pub fn r6_own_project_role(actor: UserId, member: UserId) -> Result<(), DomainError> {
    if actor == member {
        Err(DomainError::OwnRoles)
    } else {
        Ok(())
    }
}

/// API tokens (SPEC §1, "optionally limited to one organization"; R12): whether a token limited
/// to `token_org` (or to none) reaches `org`. An organization it does not reach must look absent.
pub fn token_reaches(token_org: Option<OrgId>, org: OrgId) -> bool {
    token_org.is_none_or(|o| o == org)
}

/// API tokens (SPEC §1, "a subset of the owner's permissions"; R11): a token limited to some
/// permissions carries only the organization permissions it names, no project role.
pub fn token_carries_project_roles(token_permissions: Option<PermSet>) -> bool {
    token_permissions.is_none()
}

/// R11: an action on a project needs it from the strongest role the member holds there; a
/// refusal names `projects.manage`, the organization permission that would give it.
pub fn r11_project_action(role: ProjectRole, action: ProjectPermission) -> Result<(), DomainError> {
    if role.allows(action) {
        Ok(())
    } else {
        Err(DomainError::Forbidden(Permission::ProjectsManage))
    }
}

/// R11: who holds a role on a project directly is seen by those who may list the organization's
/// members (`members.read`) and by that project's own `admin`s, who give those roles (R6).
pub fn r11_see_project_members(
    actor: &ActorFacts,
    on_project: ProjectRole,
) -> Result<(), DomainError> {
    if on_project == ProjectRole::Admin {
        Ok(())
    } else {
        actor.require(Permission::MembersRead)
    }
}

/// How a project role is being given: directly to a member, or to a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantPath {
    /// A direct project role (`projects.manage`, or admin on that project).
    Direct,
    /// A group's project role, or a group place that carries it (`groups.manage`).
    Group,
}

/// R6 for project roles: nobody gives (or takes away) a project role above what they hold on
/// that project. Direct roles need `projects.manage` or `admin` on the project; group grants and
/// group places need `groups.manage`.
pub fn r6_project_role(
    actor: &ActorFacts,
    actor_on_project: Option<ProjectRole>,
    role: ProjectRole,
    path: GrantPath,
) -> Result<(), DomainError> {
    match path {
        GrantPath::Direct => {
            if !actor.permissions.contains(Permission::ProjectsManage)
                && actor_on_project != Some(ProjectRole::Admin)
            {
                return Err(DomainError::Forbidden(Permission::ProjectsManage));
            }
        }
        GrantPath::Group => actor.require(Permission::GroupsManage)?,
    }
    if actor_on_project.is_some_and(|held| role <= held) {
        Ok(())
    } else {
        Err(DomainError::ProjectRoleNotGrantable(role.as_str()))
    }
}

/// How long an ownership transfer offer stands (R7).
pub const TRANSFER_VALIDITY: Duration = Duration::days(7);

/// R7: the owner (`org.transfer` is the owner's alone) offers ownership to a current `admin`,
/// never of a personal organization, and only while no other offer is pending.
pub fn r7_offer(
    actor: &ActorFacts,
    personal: bool,
    receiver: Option<&MemberFacts>,
    pending: bool,
) -> Result<(), DomainError> {
    actor.require(Permission::OrgTransfer)?;
    if personal {
        return Err(DomainError::PersonalOrg);
    }
    let receiver = receiver.ok_or(DomainError::TransferTargetNotAdmin)?;
    if receiver.user == actor.member.user || !receiver.holds(BuiltinRole::Admin) {
        return Err(DomainError::TransferTargetNotAdmin);
    }
    if pending {
        return Err(DomainError::TransferPending);
    }
    Ok(())
}

/// R7: the receiver answers an offer: it must be addressed to them and still standing. To
/// accept, they must still be an `admin` (a demotion since the offer voids it).
pub fn r7_answer(
    receiver: &MemberFacts,
    offer: &crate::domain::model::Transfer,
    accepting: bool,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    use crate::domain::model::TransferState;
    if offer.to != receiver.user {
        return Err(DomainError::NoPendingTransfer);
    }
    match offer.state_at(now) {
        TransferState::Pending => {}
        TransferState::Expired => return Err(DomainError::TransferExpired),
        _ => return Err(DomainError::NoPendingTransfer),
    }
    if accepting && !receiver.holds(BuiltinRole::Admin) {
        return Err(DomainError::TransferTargetNotAdmin);
    }
    Ok(())
}

/// R3, R7: the roles after an accepted transfer: the receiver holds `owner` alone, the former
/// owner `admin`. Exactly one owner before and after.
pub fn r7_roles_after_transfer() -> (Vec<AssignedRole>, Vec<AssignedRole>) {
    (
        vec![AssignedRole::Builtin(BuiltinRole::Owner)],
        vec![AssignedRole::Builtin(BuiltinRole::Admin)],
    )
}

/// A throttle on one key: `free` events within `window` cost nothing; each further one doubles
/// the wait before the next is even considered (1 s, 2 s, 4 s … at most [`MAX_WAIT`]). A key
/// whose last event is older than `window` starts again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Events allowed before waits begin.
    pub free: u32,
    /// How long an event is remembered after the key's last one.
    pub window: Duration,
}

/// Sign-in failures per (account, address): the attacker's own key. Five, then waits; an
/// attacker at one address gets about 30 password evaluations per account per hour.
pub const SIGNIN_PER_ACCOUNT_AND_ADDRESS: Limit = Limit {
    free: 5,
    window: Duration::minutes(15),
};
/// Sign-in failures per address, whatever the account: stops one address spraying passwords
/// over many accounts; high, because many honest people can share one address.
pub const SIGNIN_PER_ADDRESS: Limit = Limit {
    free: 100,
    window: Duration::minutes(15),
};
/// Sign-in failures per account, from every address: the ceiling of an attack spread over many
/// addresses (about 60 evaluations an hour). Well above what one address can reach, so an
/// attack from elsewhere never locks the real user out.
pub const SIGNIN_PER_ACCOUNT: Limit = Limit {
    free: 50,
    window: Duration::hours(1),
};

impl Limit {
    /// `free` events an hour (sign-ups, password-reset requests per address: the server's
    /// configuration says how many).
    pub const fn per_hour(free: u32) -> Limit {
        Limit {
            free,
            window: Duration::hours(1),
        }
    }
}
/// The longest wait ever asked for.
pub const MAX_WAIT: Duration = Duration::minutes(15);

/// How long the caller must still wait before the next event on a key holding `count` events,
/// the last at `last`; `None`: go ahead.
pub fn throttle_wait(
    count: u32,
    last: DateTime<Utc>,
    limit: Limit,
    now: DateTime<Utc>,
) -> Option<Duration> {
    if count < limit.free || now - last > limit.window {
        return None;
    }
    let doublings = (count - limit.free).min(20);
    let delay = Duration::seconds(1_i64 << doublings).min(MAX_WAIT);
    let until = last + delay;
    (until > now).then(|| until - now)
}

/// The count to store after one more event at `now`.
pub fn next_count(
    count: u32,
    last: Option<DateTime<Utc>>,
    limit: Limit,
    now: DateTime<Utc>,
) -> u32 {
    match last {
        Some(last) if now - last <= limit.window => count.saturating_add(1),
        _ => 1,
    }
}

fn contains(roles: &[AssignedRole], role: &AssignedRole) -> bool {
    roles.iter().any(|r| r.same_role(role))
}

fn dedup<'a>(roles: impl Iterator<Item = &'a AssignedRole>) -> Vec<AssignedRole> {
    let mut out: Vec<AssignedRole> = Vec::new();
    for r in roles {
        if !contains(&out, r) {
            out.push(r.clone());
        }
    }
    out
}

fn quoted(set: PermSet) -> String {
    set.iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::RoleId;
    use crate::domain::role::CustomRole;
    use AssignedRole::Builtin as B;
    use BuiltinRole::*;

    #[test]
    fn r6_tokens_are_minted_by_sessions_only_and_revoked_by_themselves() {
        let now = chrono::Utc::now();
        let life = TokenLifetime::default();
        assert_eq!(
            r6_mint_token(true, None, now, life).ok(),
            Some(now + Duration::days(90))
        );
        let soon = now + Duration::hours(1);
        assert_eq!(r6_mint_token(true, Some(soon), now, life).ok(), Some(soon));
        let last = now + Duration::days(365);
        assert_eq!(r6_mint_token(true, Some(last), now, life).ok(), Some(last));
        assert!(matches!(
            r6_mint_token(false, None, now, life),
            Err(DomainError::SessionRequired)
        ));
        for refused in [now, now - Duration::days(1), last + Duration::seconds(1)] {
            match r6_mint_token(true, Some(refused), now, life) {
                Err(DomainError::Invalid(e)) => {
                    assert_eq!(e[0].field, "expires_at");
                    assert!(e[0].reason.contains("365 days"), "{}", e[0].reason);
                }
                other => panic!("{refused}: {other:?}"),
            }
        }
        let short = TokenLifetime::new(7, 30).expect("lifetime");
        assert_eq!(
            r6_mint_token(true, None, now, short).ok(),
            Some(now + Duration::days(7))
        );
        assert!(r6_mint_token(true, Some(now + Duration::days(31)), now, short).is_err());
        assert!(TokenLifetime::new(0, 30).is_err());
        assert!(TokenLifetime::new(31, 30).is_err());
        assert!(TokenLifetime::new(30, TokenLifetime::LONGEST_DAYS + 1).is_err());
        assert!(token_room(MAX_LIVE_TOKENS - 1).is_ok());
        assert!(matches!(
            token_room(MAX_LIVE_TOKENS),
            Err(DomainError::TooManyTokens(100))
        ));
        let (a, b) = (TokenId(uuid::Uuid::now_v7()), TokenId(uuid::Uuid::now_v7()));
        assert!(r6_revoke_token(None, a).is_ok());
        assert!(r6_revoke_token(Some(a), a).is_ok());
        assert!(matches!(
            r6_revoke_token(Some(b), a),
            Err(DomainError::SessionRequired)
        ));
    }

    #[test]
    fn r6_nobody_places_themselves_in_a_group_and_r11_gates_project_actions() {
        let (me, other) = (UserId(uuid::Uuid::now_v7()), UserId(uuid::Uuid::now_v7()));
        assert!(matches!(
            r6_group_place(me, me, true),
            Err(DomainError::OwnRoles)
        ));
        assert!(r6_group_place(me, me, false).is_ok());
        assert!(r6_group_place(me, other, true).is_ok());
        assert!(matches!(
            r6_own_project_role(me, me),
            Err(DomainError::OwnRoles)
        ));
        assert!(r6_own_project_role(me, other).is_ok());
        let (a, b) = (OrgId(uuid::Uuid::now_v7()), OrgId(uuid::Uuid::now_v7()));
        assert!(token_reaches(None, a) && token_reaches(Some(a), a) && !token_reaches(Some(b), a));
        assert!(token_carries_project_roles(None));
        assert!(!token_carries_project_roles(Some(PermSet::EMPTY)));
        assert!(matches!(
            r6_create_org(true),
            Err(DomainError::TokenLimited)
        ));
        assert!(r6_create_org(false).is_ok());
        for &role in ProjectRole::ALL.iter() {
            for action in [ProjectPermission::Manage, ProjectPermission::Delete] {
                assert_eq!(
                    r11_project_action(role, action).is_ok(),
                    role.allows(action),
                    "{role:?} {action:?}"
                );
            }
        }
        assert!(r11_project_action(ProjectRole::Admin, ProjectPermission::Delete).is_ok());
        assert!(r11_project_action(ProjectRole::Viewer, ProjectPermission::Manage).is_err());
    }

    fn member(roles: &[BuiltinRole]) -> MemberFacts {
        MemberFacts {
            user: UserId(uuid::Uuid::now_v7()),
            roles: roles.iter().map(|r| B(*r)).collect(),
        }
    }

    fn actor(roles: &[BuiltinRole]) -> ActorFacts {
        ActorFacts::new(member(roles), None)
    }

    #[test]
    fn r3_owner_is_never_given_by_a_role_change() {
        let err = r6_change_roles(&actor(&[Owner]), &member(&[Admin]), vec![B(Owner)]);
        assert!(matches!(err, Err(DomainError::OwnerNeedsTransfer)));
    }

    #[test]
    fn r3_owner_roles_cannot_be_changed_or_removed() {
        let owner = member(&[Owner]);
        assert!(matches!(
            r6_change_roles(&actor(&[Admin]), &owner, vec![B(Member)]),
            Err(DomainError::OwnerIsFixed)
        ));
        assert!(matches!(
            r6_remove_member(&actor(&[Admin]), &owner),
            Err(DomainError::OwnerIsFixed)
        ));
    }

    #[test]
    fn r6_nobody_changes_their_own_roles() {
        let a = actor(&[Admin]);
        let me = a.member.clone();
        assert!(matches!(
            r6_change_roles(&a, &me, vec![B(Member)]),
            Err(DomainError::OwnRoles)
        ));
    }

    #[test]
    fn r6_admin_is_given_only_by_owner_or_admin_and_billing_only_by_owner() {
        let target = member(&[Member]);
        assert!(r6_change_roles(&actor(&[Owner]), &target, vec![B(Billing)]).is_ok());
        assert!(r6_change_roles(&actor(&[Admin]), &target, vec![B(Admin)]).is_ok());
        assert!(matches!(
            r6_change_roles(&actor(&[Admin]), &target, vec![B(Billing)]),
            Err(DomainError::RoleNotGrantable { .. })
        ));
        assert!(matches!(
            r6_change_roles(&actor(&[Manager]), &target, vec![B(Admin)]),
            Err(DomainError::RoleNotGrantable { .. })
        ));
        assert!(r6_change_roles(&actor(&[Manager]), &target, vec![B(Developer)]).is_ok());
    }

    #[test]
    fn r6_a_manager_cannot_remove_or_demote_an_admin() {
        let admin = member(&[Admin]);
        assert!(r6_remove_member(&actor(&[Manager]), &admin).is_err());
        assert!(r6_change_roles(&actor(&[Manager]), &admin, vec![B(Member)]).is_err());
        assert!(r6_remove_member(&actor(&[Admin]), &admin).is_ok());
    }

    #[test]
    fn r6_members_without_members_manage_assign_nothing() {
        assert!(matches!(
            r6_change_roles(&actor(&[Developer]), &member(&[Member]), vec![B(Developer)]),
            Err(DomainError::Forbidden(Permission::MembersManage))
        ));
        let inviter = CustomRole {
            id: RoleId(uuid::Uuid::now_v7()),
            name: "inviter".into(),
            permissions: [Permission::OrgRead, Permission::MembersInvite]
                .into_iter()
                .collect(),
        };
        let a = ActorFacts::new(
            MemberFacts {
                user: UserId(uuid::Uuid::now_v7()),
                roles: vec![AssignedRole::Custom(inviter)],
            },
            None,
        );
        assert!(r6_add_member(&a, &[B(Member)]).is_ok());
        assert!(r6_add_member(&a, &[B(Developer)]).is_err());
    }

    #[test]
    fn r6_token_limits_narrow_what_an_actor_may_grant() {
        let limited = ActorFacts::new(
            member(&[Owner]),
            Some(
                [Permission::OrgRead, Permission::MembersManage]
                    .into_iter()
                    .collect(),
            ),
        );
        assert!(r6_change_roles(&limited, &member(&[Member]), vec![B(Developer)]).is_err());
        assert!(r6_change_roles(&limited, &member(&[Developer]), vec![B(Member)]).is_err());
    }

    #[test]
    fn r6_custom_roles_carry_only_held_and_never_owner_permissions() {
        let perms = |ps: &[Permission]| ps.iter().copied().collect::<PermSet>();
        assert!(
            r6_custom_role_permissions(&actor(&[Admin]), perms(&[Permission::AuditRead])).is_ok()
        );
        assert!(matches!(
            r6_custom_role_permissions(&actor(&[Admin]), perms(&[Permission::BillingRead])),
            Err(DomainError::PermissionsNotHeld(_))
        ));
        assert!(matches!(
            r6_custom_role_permissions(&actor(&[Owner]), perms(&[Permission::OrgDelete])),
            Err(DomainError::Invalid(_))
        ));
    }

    #[test]
    fn r6_project_roles_are_bounded_by_the_givers_own_role_on_that_project() {
        use ProjectRole::*;
        let dev = actor(&[Developer]);
        assert!(matches!(
            r6_project_role(&dev, Some(Contributor), Viewer, GrantPath::Direct),
            Err(DomainError::Forbidden(Permission::ProjectsManage))
        ));
        assert!(r6_project_role(&dev, Some(Admin), Contributor, GrantPath::Direct).is_ok());
        let mgr = actor(&[Manager]);
        assert!(r6_project_role(&mgr, Some(Admin), Admin, GrantPath::Group).is_ok());
        let grouper = ActorFacts::new(member(&[Member]), None);
        assert!(r6_project_role(&grouper, Some(Admin), Viewer, GrantPath::Group).is_err());
        let limited = ActorFacts::new(
            member(&[Owner]),
            Some([Permission::GroupsManage].into_iter().collect()),
        );
        assert!(r6_project_role(&limited, Some(Contributor), Admin, GrantPath::Group).is_err());
        assert!(r6_project_role(&limited, None, Viewer, GrantPath::Group).is_err());
    }

    #[test]
    fn r6_widening_a_held_custom_role_needs_members_manage() {
        let perms = |ps: &[Permission]| ps.iter().copied().collect::<PermSet>();
        let role_admin = CustomRole {
            id: RoleId(uuid::Uuid::now_v7()),
            name: "role admins".into(),
            permissions: perms(&[
                Permission::OrgRead,
                Permission::RolesManage,
                Permission::AuditRead,
            ]),
        };
        let a = ActorFacts::new(
            MemberFacts {
                user: UserId(uuid::Uuid::now_v7()),
                roles: vec![AssignedRole::Custom(role_admin)],
            },
            None,
        );
        let narrow = perms(&[Permission::OrgRead]);
        let wide = perms(&[Permission::OrgRead, Permission::AuditRead]);
        assert!(r6_edit_custom_role(&a, narrow, wide, 0).is_ok());
        assert!(r6_edit_custom_role(&a, wide, narrow, 3).is_ok());
        assert!(matches!(
            r6_edit_custom_role(&a, narrow, wide, 3),
            Err(DomainError::Forbidden(Permission::MembersManage))
        ));
        assert!(r6_edit_custom_role(&actor(&[Admin]), narrow, wide, 3).is_ok());
    }

    #[test]
    fn r4_owner_cannot_leave_others_can() {
        assert!(matches!(
            r4_leave(&member(&[Owner]), false),
            Err(DomainError::OwnerCannotLeave { personal: false })
        ));
        assert!(r4_leave(&member(&[Admin, Billing]), false).is_ok());
    }

    #[test]
    fn r5_only_the_owner_deletes_and_only_without_projects() {
        assert!(r5_delete_org(&actor(&[Owner]), false, 0).is_ok());
        assert!(matches!(
            r5_delete_org(&actor(&[Admin]), false, 0),
            Err(DomainError::Forbidden(Permission::OrgDelete))
        ));
        assert!(matches!(
            r5_delete_org(&actor(&[Owner]), true, 0),
            Err(DomainError::PersonalOrg)
        ));
        assert!(matches!(
            r5_delete_org(&actor(&[Owner]), false, 3),
            Err(DomainError::OrgHasProjects(3))
        ));
    }

    #[test]
    fn throttle_waits_double_after_the_free_events_and_are_forgotten_later() {
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("valid time");
        let l = SIGNIN_PER_ACCOUNT_AND_ADDRESS;
        assert_eq!(throttle_wait(4, t0, l, t0), None);
        assert_eq!(throttle_wait(5, t0, l, t0), Some(Duration::seconds(1)));
        assert_eq!(throttle_wait(8, t0, l, t0), Some(Duration::seconds(8)));
        assert_eq!(throttle_wait(40, t0, l, t0), Some(MAX_WAIT));
        assert_eq!(throttle_wait(8, t0, l, t0 + Duration::seconds(9)), None);
        assert_eq!(throttle_wait(40, t0, l, t0 + Duration::minutes(16)), None);
        assert_eq!(next_count(7, Some(t0), l, t0 + Duration::minutes(20)), 1);
        assert_eq!(next_count(7, Some(t0), l, t0), 8);
        // The per-account window is an hour: 20 minutes later it still counts.
        assert_eq!(
            next_count(7, Some(t0), SIGNIN_PER_ACCOUNT, t0 + Duration::minutes(20)),
            8
        );
    }

    /// An attacker at one address trying as fast as allowed gets a bounded number of password
    /// evaluations an hour, and never brings the account's own key to its ceiling.
    #[test]
    fn one_address_alone_never_reaches_the_account_ceiling() {
        let t0 = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).expect("valid time");
        type Key = Option<(u32, DateTime<Utc>)>;
        let (mut pair, mut account): (Key, Key) = (None, None);
        let mut evaluated = 0;
        let mut t = t0;
        while t < t0 + Duration::hours(1) {
            let blocked = [
                (pair, SIGNIN_PER_ACCOUNT_AND_ADDRESS),
                (account, SIGNIN_PER_ACCOUNT),
            ]
            .iter()
            .any(|(k, l)| k.is_some_and(|(c, last)| throttle_wait(c, last, *l, t).is_some()));
            if !blocked {
                evaluated += 1;
                let bump =
                    |k: Key, l| Some((next_count(k.map_or(0, |k| k.0), k.map(|k| k.1), l, t), t));
                pair = bump(pair, SIGNIN_PER_ACCOUNT_AND_ADDRESS);
                account = bump(account, SIGNIN_PER_ACCOUNT);
            }
            t += Duration::milliseconds(100);
        }
        assert!(evaluated <= 40, "{evaluated} evaluations in an hour");
        assert!(
            account.is_some_and(|(c, _)| c < SIGNIN_PER_ACCOUNT.free),
            "{account:?}"
        );
    }
}
