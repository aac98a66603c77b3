//! The store contract: every unique and foreign key of the schema, violated through the store
//! on both backends, and the `Constraint` the store reports for it.
//!
//! Each case names a key by its kind, table and columns (what both backends' catalogs can
//! say), and by its PostgreSQL name for the reader. A first test per backend reads the
//! migrated schema's keys and checks that each has a case, so a migration adding a key fails
//! here until its case is written. A second runs every case in a transaction of its own over
//! fresh rows, and rolls it back. A key the store cannot violate (an upsert absorbs the repeat,
//! or the store never writes the key's columns itself) is still a case: an upsert's repeat
//! must succeed, and an unreachable key says why.
//!
//! PostgreSQL comes from `GUILDHALL_TEST_DATABASE_URL` (an admin URL; default
//! `postgres://postgres@127.0.0.1:5432/postgres`), as for `tests/api`; each test gets its own
//! new database, dropped at the end.

mod rekey;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use guildhall::domain::billing::{
    Address, BillingProfile, Invoice, Month, PlanPeriod, PlanSpec, Voucher, VoucherValue,
};
use guildhall::domain::ids::{
    GroupId, InvitationId, OrgId, ProjectId, RoleId, SessionId, TokenId, TransferId, UserId,
};
use guildhall::domain::invitation::{
    Invitation, InvitationState, MailState, PasswordLink, PasswordPurpose,
};
use guildhall::domain::model::{ApiToken, Group, Org, Project, Transfer, TransferState, User};
use guildhall::domain::permission::{BuiltinRole, PermSet, ProjectRole};
use guildhall::domain::role::{AssignedRole, CustomRole};
use guildhall::ids::NewId as _;
use guildhall::store::{Constraint, Store, StoreError, StoreResult, Tx};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Whether a key is unique (a primary key, a unique constraint or a unique index) or foreign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Unique,
    Foreign,
}

/// What the store does when the case repeats or breaks its key.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Refuses with this constraint.
    Conflict(Constraint),
    /// Succeeds: the store's statement resolves the repeat itself (`ON CONFLICT`, or replacing
    /// what was there).
    Absorbed,
    /// No store method writes the key's columns with a value of the caller's: why.
    Unreachable(&'static str),
}

/// One key and how to hit it.
struct Case {
    /// The key's PostgreSQL name (the case's name).
    name: &'static str,
    kind: Kind,
    /// `table(column, …)`.
    key: &'static str,
    expect: Expect,
}

impl Case {
    /// The key's table and columns.
    fn key(&self) -> (String, Vec<String>) {
        let (table, columns) = self.key.split_once('(').expect("table(columns)");
        let columns = columns.strip_suffix(')').expect("table(columns)");
        let columns = columns.split(", ").map(str::to_owned).collect();
        (table.to_owned(), columns)
    }
}

const fn unique(name: &'static str, key: &'static str, expect: Expect) -> Case {
    Case {
        name,
        kind: Kind::Unique,
        key,
        expect,
    }
}

const fn foreign(name: &'static str, key: &'static str) -> Case {
    Case {
        name,
        kind: Kind::Foreign,
        key,
        expect: Expect::Conflict(Constraint::ForeignKey),
    }
}

/// Refused as `Constraint::Other`: a key the service does not tell apart.
const OTHER: Expect = Expect::Conflict(Constraint::Other);
/// Why some keys cannot be hit through the store.
const ONE_ROW: Expect = Expect::Unreachable("one row, written by the migration, then only updated");
const NUMBERED: Expect = Expect::Unreachable("the database numbers the rows");
const DRAWN: Expect = Expect::Unreachable("the store draws each row's id itself");

use Constraint as C;
use Expect::{Absorbed, Conflict, Unreachable};

/// Every key of the schema (`migrations/`), plus a few second ways of hitting one (an update
/// rather than an insert, a delete of what is still referenced), whose names say so. One key a
/// line, as a table: rustfmt would spread most rows over five lines.
#[rustfmt::skip]
const CASES: &[Case] = &[
    // 0001: accounts, sessions, tokens, organizations, memberships, roles, audit.
    unique("users_pkey", "users(id)", OTHER),
    unique("users_email_key_uq", "users(email_key)", Conflict(C::UserEmail)),
    unique("sessions_pkey", "sessions(id)", OTHER),
    unique("sessions_token_hash_uq", "sessions(token_hash)", OTHER),
    foreign("sessions_user_id_fkey", "sessions(user_id)"),
    unique("signin_failures_pkey", "signin_failures(key)", Absorbed),
    unique("orgs_pkey", "orgs(id)", OTHER),
    unique("orgs_name_key_uq", "orgs(name_key)", Conflict(C::OrgName)),
    unique("orgs_name_key_uq by rename", "orgs(name_key)", Conflict(C::OrgName)),
    unique("orgs_slug_uq", "orgs(slug)", Conflict(C::OrgSlug)),
    unique("orgs_slug_uq by rename", "orgs(slug)", Conflict(C::OrgSlug)),
    unique("api_tokens_pkey", "api_tokens(id)", OTHER),
    unique("api_tokens_token_hash_uq", "api_tokens(token_hash)", OTHER),
    foreign("api_tokens_user_id_fkey", "api_tokens(user_id)"),
    foreign("api_tokens_org_id_fkey", "api_tokens(org_id)"),
    unique("memberships_pk", "memberships(org_id, user_id)", Conflict(C::Membership)),
    foreign("memberships_org_id_fkey", "memberships(org_id)"),
    foreign("memberships_user_id_fkey", "memberships(user_id)"),
    unique("custom_roles_pkey", "custom_roles(id)", OTHER),
    unique("custom_roles_name_uq", "custom_roles(org_id, name_key)", Conflict(C::RoleName)),
    unique("custom_roles_name_uq by rename", "custom_roles(org_id, name_key)",
        Conflict(C::RoleName)),
    foreign("custom_roles_org_id_fkey", "custom_roles(org_id)"),
    unique("member_roles_builtin_uq", "member_roles(org_id, user_id, builtin)", OTHER),
    unique("member_roles_custom_uq", "member_roles(org_id, user_id, custom_role_id)", OTHER),
    unique("member_roles_one_owner", "member_roles(org_id)", Conflict(C::OneOwner)),
    foreign("member_roles_custom_role_id_fkey", "member_roles(custom_role_id)"),
    foreign("member_roles_custom_role_id_fkey by deleting", "member_roles(custom_role_id)"),
    foreign("member_roles_org_id_user_id_fkey", "member_roles(org_id, user_id)"),
    unique("audit_events_pkey", "audit_events(seq)", NUMBERED),
    // 0002: projects, groups, project roles, the grant revision.
    unique("projects_pkey", "projects(id)", OTHER),
    unique("projects_name_uq", "projects(org_id, name_key)", Conflict(C::ProjectName)),
    unique("projects_name_uq by rename", "projects(org_id, name_key)", Conflict(C::ProjectName)),
    foreign("projects_org_id_fkey", "projects(org_id)"),
    unique("groups_pkey", "groups(id)", OTHER),
    unique("groups_name_uq", "groups(org_id, name_key)", Conflict(C::GroupName)),
    unique("groups_name_uq by rename", "groups(org_id, name_key)", Conflict(C::GroupName)),
    foreign("groups_org_id_fkey", "groups(org_id)"),
    unique("group_members_pkey", "group_members(group_id, user_id)", Absorbed),
    foreign("group_members_group_id_fkey", "group_members(group_id)"),
    foreign("group_members_org_id_user_id_fkey", "group_members(org_id, user_id)"),
    unique("group_projects_pkey", "group_projects(group_id, project_id)", Absorbed),
    foreign("group_projects_group_id_fkey", "group_projects(group_id)"),
    foreign("group_projects_project_id_fkey", "group_projects(project_id)"),
    unique("project_members_pkey", "project_members(project_id, user_id)", Absorbed),
    foreign("project_members_project_id_fkey", "project_members(project_id)"),
    foreign("project_members_org_id_user_id_fkey", "project_members(org_id, user_id)"),
    unique("grant_revision_pkey", "grant_revision(id)", ONE_ROW),
    // 0004: ownership transfers.
    unique("transfers_pkey", "transfers(id)", OTHER),
    unique("transfers_one_pending", "transfers(org_id)", OTHER),
    foreign("transfers_org_id_fkey", "transfers(org_id)"),
    foreign("transfers_from_user_fkey", "transfers(from_user)"),
    foreign("transfers_to_user_fkey", "transfers(to_user)"),
    // 0006: invitations and password links.
    unique("invitations_pkey", "invitations(id)", OTHER),
    unique("invitations_token_hash_uq", "invitations(token_hash)", OTHER),
    unique("invitations_token_hash_uq by renewal", "invitations(token_hash)", OTHER),
    unique("invitations_one_pending", "invitations(org_id, email_key)",
        Conflict(C::InvitationPending)),
    foreign("invitations_org_id_fkey", "invitations(org_id)"),
    foreign("invitations_invited_by_fkey", "invitations(invited_by)"),
    unique("password_tokens_pkey", "password_tokens(token_hash)", OTHER),
    unique("password_tokens_one_per_user", "password_tokens(user_id)", Absorbed),
    foreign("password_tokens_user_id_fkey", "password_tokens(user_id)"),
    // 0007: plans, billing profiles, vouchers, invoices.
    unique("plan_periods_pkey", "plan_periods(id)", DRAWN),
    unique("plan_periods_current_uq", "plan_periods(project_id)", OTHER),
    unique("billing_profiles_pkey", "billing_profiles(org_id)", Absorbed),
    foreign("billing_profiles_org_id_fkey", "billing_profiles(org_id)"),
    unique("vouchers_pkey", "vouchers(code)", Conflict(C::VoucherCode)),
    unique("voucher_redemptions_pk", "voucher_redemptions(code, org_id)",
        Conflict(C::VoucherRedeemed)),
    foreign("voucher_redemptions_code_fkey", "voucher_redemptions(code)"),
    unique("invoices_pkey", "invoices(id)", OTHER),
    unique("invoices_org_month_uq", "invoices(org_id, month)", Conflict(C::InvoiceMonth)),
    unique("invoices_number_uq", "invoices(number)", OTHER),
    unique("invoice_counter_pkey", "invoice_counter(id)", ONE_ROW),
    // 0009: which name key function made the stored keys.
    unique("name_key_version_pkey", "name_key_version(id)", ONE_ROW),
    // 0011: the readiness probe's one row.
    unique("store_probe_pkey", "store_probe(id)", ONE_ROW),
    // 0012: the mail outbox.
    unique("mail_outbox_pkey", "mail_outbox(id)", DRAWN),
];

// ---------------------------------------------------------------------------------------------
// The tests.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_of_the_sqlite_schema_has_a_case() {
    let db = TestDb::sqlite();
    let _store = db.open().await;
    let pool = sqlx::SqlitePool::connect(&db.url).await.expect("sqlite");
    assert_covered("sqlite", sqlite_keys(&pool).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_of_the_postgres_schema_has_a_case() {
    let db = TestDb::postgres().await;
    let store = db.open().await;
    let pool = sqlx::PgPool::connect(&db.url).await.expect("postgres");
    let keys = postgres_keys(&pool).await;
    pool.close().await;
    drop(store);
    db.drop_database().await;
    // The case names are PostgreSQL's; check them too.
    let names: BTreeSet<_> = keys.iter().map(|k| k.3.clone()).collect();
    let unnamed: Vec<_> = CASES
        .iter()
        .filter(|c| !c.name.contains(' ') && !names.contains(c.name))
        .map(|c| c.name)
        .collect();
    assert!(unnamed.is_empty(), "cases named after no key: {unnamed:?}");
    assert_covered(
        "postgres",
        keys.into_iter().map(|(k, t, c, _)| (k, t, c)).collect(),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_reports_its_constraint_on_sqlite() {
    let db = TestDb::sqlite();
    let failures = run_cases(db.open().await).await;
    assert!(failures.is_empty(), "on sqlite:\n{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_reports_its_constraint_on_postgres() {
    let db = TestDb::postgres().await;
    let failures = run_cases(db.open().await).await;
    db.drop_database().await;
    assert!(failures.is_empty(), "on postgres:\n{}", failures.join("\n"));
}

/// Runs every case, each in its own transaction (rolled back); the mismatches.
async fn run_cases(store: Arc<dyn Store>) -> Vec<String> {
    let mut failures = Vec::new();
    for case in CASES {
        if let Unreachable(why) = case.expect {
            eprintln!("{}: not reachable through the store: {why}", case.name);
            continue;
        }
        let mut tx = store.begin().await.expect("begin");
        let fx = Fixture::insert(&mut *tx).await;
        let got = hit(case.name, &mut *tx, &fx).await;
        drop(tx);
        let ok = match (case.expect, &got) {
            (Conflict(want), Err(StoreError::Conflict(c))) => want == *c,
            (Absorbed, Ok(())) => true,
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: expected {:?}, got {got:?}",
                case.name, case.expect
            ));
        }
    }
    failures
}

/// Checks that the schema's keys and the cases' are the same.
fn assert_covered(backend: &str, schema: BTreeSet<(Kind, String, Vec<String>)>) {
    let cases: BTreeSet<(Kind, String, Vec<String>)> = CASES
        .iter()
        .map(|c| {
            let (table, columns) = c.key();
            (c.kind, table, columns)
        })
        .collect();
    let missing: Vec<_> = schema.difference(&cases).collect();
    let extra: Vec<_> = cases.difference(&schema).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{backend}: keys without a case: {missing:?}; cases without a key: {extra:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Hitting each key.

/// What every case starts from: user `a` owns `org`, which has a custom role, a project and a
/// group; user `b` exists and is no member.
struct Fixture {
    now: DateTime<Utc>,
    a: User,
    b: User,
    org: Org,
    role: CustomRole,
    project: Project,
    group: Group,
}

impl Fixture {
    async fn insert(tx: &mut dyn Tx) -> Fixture {
        let now = Utc::now();
        let (a, b) = (user(now), user(now));
        for u in [&a, &b] {
            tx.insert_user(u, &u.email, None).await.expect("user");
        }
        let org = org(now);
        tx.insert_org(&org, &org.slug).await.expect("org");
        let owner = [AssignedRole::Builtin(BuiltinRole::Owner)];
        tx.insert_member(org.id, a.id, &owner, now)
            .await
            .expect("owner");
        let role = custom_role();
        tx.insert_custom_role(org.id, &role, &role.name, now)
            .await
            .expect("role");
        let project = project(org.id, now);
        tx.insert_project(&project, &project.name)
            .await
            .expect("project");
        let group = group(org.id, now);
        tx.insert_group(&group, &group.name).await.expect("group");
        Fixture {
            now,
            a,
            b,
            org,
            role,
            project,
            group,
        }
    }
}

/// A name no other row has (lowercase, so it is its own key).
fn fresh(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

fn user(now: DateTime<Utc>) -> User {
    User {
        id: UserId::new(),
        email: format!("{}@example.test", fresh("u")),
        name: "User".to_owned(),
        created_at: now,
        disabled_at: None,
    }
}

fn org(now: DateTime<Utc>) -> Org {
    let slug = fresh("org");
    Org {
        id: OrgId::new(),
        name: slug.clone(),
        slug,
        personal: false,
        created_at: now,
    }
}

fn custom_role() -> CustomRole {
    CustomRole {
        id: RoleId::new(),
        name: fresh("role"),
        permissions: PermSet::EMPTY,
    }
}

fn project(org: OrgId, now: DateTime<Utc>) -> Project {
    Project {
        id: ProjectId::new(),
        org,
        name: fresh("project"),
        created_at: now,
    }
}

fn group(org: OrgId, now: DateTime<Utc>) -> Group {
    Group {
        id: GroupId::new(),
        org,
        name: fresh("group"),
        created_at: now,
    }
}

fn token(user: UserId, org: Option<OrgId>, now: DateTime<Utc>) -> ApiToken {
    ApiToken {
        id: TokenId::new(),
        user,
        name: "token".to_owned(),
        org,
        permissions: None,
        created_at: now,
        expires_at: None,
        can_check: false,
    }
}

fn transfer(org: OrgId, from: UserId, to: UserId, now: DateTime<Utc>) -> Transfer {
    Transfer {
        id: TransferId::new(),
        org,
        from,
        to,
        state: TransferState::Pending,
        created_at: now,
        expires_at: now + Duration::days(7),
    }
}

fn invitation(org: OrgId, by: UserId, now: DateTime<Utc>) -> Invitation {
    let email = format!("{}@example.test", fresh("i"));
    Invitation {
        id: InvitationId::new(),
        org,
        email_key: email.clone(),
        email,
        roles: vec!["member".to_owned()],
        invited_by: Some(by),
        state: InvitationState::Pending,
        mail: MailState::Pending,
        created_at: now,
        expires_at: now + Duration::days(7),
    }
}

fn password_link(user: UserId, now: DateTime<Utc>) -> PasswordLink {
    PasswordLink {
        user,
        purpose: PasswordPurpose::Set,
        created_at: now,
        expires_at: now + Duration::days(1),
    }
}

fn plan_period(project: &Project, now: DateTime<Utc>) -> PlanPeriod {
    PlanPeriod {
        project: project.id.0,
        project_name: project.name.clone(),
        plan: PlanSpec {
            tier: "free".to_owned(),
            storage_gb: 1,
            environments: 0,
            licenses: 1,
        },
        monthly_price: 0,
        from: now,
        to: None,
        ended_by_delete: false,
    }
}

fn billing_profile() -> BillingProfile {
    BillingProfile {
        name: "Acme".to_owned(),
        address: Address {
            line1: "1 Main Street".to_owned(),
            line2: None,
            postal_code: "75001".to_owned(),
            city: "Paris".to_owned(),
            region: None,
            country: "FR".to_owned(),
        },
        vat_number: None,
        currency: "EUR".to_owned(),
        payment_method: None,
    }
}

fn voucher() -> Voucher {
    Voucher {
        code: fresh("V").to_uppercase(),
        value: VoucherValue::Amount(100),
        expires_on: NaiveDate::from_ymd_opt(2099, 12, 31).expect("a date"),
        max_uses: 5,
        uses: 0,
        org: None,
    }
}

fn invoice(org: OrgId, month: u32, now: DateTime<Utc>) -> Invoice {
    Invoice {
        id: uuid::Uuid::now_v7(),
        org: org.0,
        month: Month { year: 2026, month },
        seq: 1,
        number: fresh("INV"),
        currency: "EUR".to_owned(),
        status: "open".to_owned(),
        subtotal: 0,
        total: 0,
        lines: Vec::new(),
        bill_to: None,
        issued_at: now,
        seller: None,
        tax: None,
        due_on: None,
        status_changed_at: None,
    }
}

/// A secret's hash no other row has.
fn hash() -> Vec<u8> {
    uuid::Uuid::new_v4().as_bytes().to_vec()
}

/// Writes what the case's key refuses (or, for an upsert, absorbs): every write before the
/// last must succeed, so the last one's answer is the case's.
async fn hit(case: &str, tx: &mut dyn Tx, fx: &Fixture) -> StoreResult<()> {
    let now = fx.now;
    let (a, b, org) = (&fx.a, &fx.b, fx.org.id);
    let nobody = UserId::new();
    let no_org = OrgId::new();
    match case {
        "users_pkey" => {
            let u = User {
                id: a.id,
                ..user(now)
            };
            tx.insert_user(&u, &u.email, None).await
        }
        "users_email_key_uq" => tx.insert_user(&user(now), &a.email, None).await,
        "sessions_pkey" => {
            let id = SessionId::new();
            tx.insert_session(id, a.id, &hash(), now, now)
                .await
                .expect("the case's setup");
            tx.insert_session(id, a.id, &hash(), now, now).await
        }
        "sessions_token_hash_uq" => {
            let h = hash();
            tx.insert_session(SessionId::new(), a.id, &h, now, now)
                .await
                .expect("the case's setup");
            tx.insert_session(SessionId::new(), b.id, &h, now, now)
                .await
        }
        "sessions_user_id_fkey" => {
            tx.insert_session(SessionId::new(), nobody, &hash(), now, now)
                .await
        }
        "signin_failures_pkey" => {
            let key = fresh("signin");
            tx.set_signin_failures(&key, 1, now)
                .await
                .expect("the case's setup");
            tx.set_signin_failures(&key, 2, now).await
        }
        "orgs_pkey" => {
            let o = Org {
                id: org,
                ..self::org(now)
            };
            tx.insert_org(&o, &o.slug).await
        }
        "orgs_name_key_uq" => {
            let o = self::org(now);
            tx.insert_org(&o, &fx.org.slug).await
        }
        "orgs_name_key_uq by rename" => {
            let o = self::org(now);
            tx.insert_org(&o, &o.slug).await.expect("the case's setup");
            tx.update_org(&o, &fx.org.slug).await
        }
        "orgs_slug_uq" => {
            let o = Org {
                slug: fx.org.slug.clone(),
                ..self::org(now)
            };
            tx.insert_org(&o, &fresh("name")).await
        }
        "orgs_slug_uq by rename" => {
            let o = self::org(now);
            tx.insert_org(&o, &o.slug).await.expect("the case's setup");
            let renamed = Org {
                slug: fx.org.slug.clone(),
                ..o
            };
            tx.update_org(&renamed, &fresh("name")).await
        }
        "api_tokens_pkey" => {
            let t = token(a.id, None, now);
            tx.insert_token(&t, &hash())
                .await
                .expect("the case's setup");
            tx.insert_token(&t, &hash()).await
        }
        "api_tokens_token_hash_uq" => {
            let h = hash();
            tx.insert_token(&token(a.id, None, now), &h)
                .await
                .expect("the case's setup");
            tx.insert_token(&token(a.id, None, now), &h).await
        }
        "api_tokens_user_id_fkey" => tx.insert_token(&token(nobody, None, now), &hash()).await,
        "api_tokens_org_id_fkey" => {
            tx.insert_token(&token(a.id, Some(no_org), now), &hash())
                .await
        }
        "memberships_pk" => tx.insert_member(org, a.id, &[], now).await,
        "memberships_org_id_fkey" => tx.insert_member(no_org, b.id, &[], now).await,
        "memberships_user_id_fkey" => tx.insert_member(org, nobody, &[], now).await,
        "custom_roles_pkey" => {
            let r = CustomRole {
                id: fx.role.id,
                ..custom_role()
            };
            tx.insert_custom_role(org, &r, &r.name, now).await
        }
        "custom_roles_name_uq" => {
            tx.insert_custom_role(org, &custom_role(), &fx.role.name, now)
                .await
        }
        "custom_roles_name_uq by rename" => {
            let r = custom_role();
            tx.insert_custom_role(org, &r, &r.name, now)
                .await
                .expect("the case's setup");
            tx.update_custom_role(org, &r, &fx.role.name).await
        }
        "custom_roles_org_id_fkey" => {
            let r = custom_role();
            tx.insert_custom_role(no_org, &r, &r.name, now).await
        }
        "member_roles_builtin_uq" => {
            let admin = AssignedRole::Builtin(BuiltinRole::Admin);
            tx.insert_member(org, b.id, &[admin.clone(), admin], now)
                .await
        }
        "member_roles_custom_uq" => {
            let custom = AssignedRole::Custom(fx.role.clone());
            tx.insert_member(org, b.id, &[custom.clone(), custom], now)
                .await
        }
        "member_roles_one_owner" => {
            let owner = AssignedRole::Builtin(BuiltinRole::Owner);
            tx.insert_member(org, b.id, &[owner], now).await
        }
        "member_roles_custom_role_id_fkey" => {
            let unknown = AssignedRole::Custom(custom_role());
            tx.insert_member(org, b.id, &[unknown], now).await
        }
        "member_roles_custom_role_id_fkey by deleting" => {
            let held = AssignedRole::Custom(fx.role.clone());
            tx.insert_member(org, b.id, &[held], now)
                .await
                .expect("the case's setup");
            tx.delete_custom_role(org, fx.role.id).await
        }
        "member_roles_org_id_user_id_fkey" => {
            let admin = AssignedRole::Builtin(BuiltinRole::Admin);
            tx.set_member_roles(org, b.id, &[admin]).await
        }
        "projects_pkey" => {
            let p = Project {
                id: fx.project.id,
                ..project(org, now)
            };
            tx.insert_project(&p, &p.name).await
        }
        "projects_name_uq" => {
            tx.insert_project(&project(org, now), &fx.project.name)
                .await
        }
        "projects_name_uq by rename" => {
            let p = project(org, now);
            tx.insert_project(&p, &p.name)
                .await
                .expect("the case's setup");
            tx.update_project(&p, &fx.project.name).await
        }
        "projects_org_id_fkey" => {
            let p = project(no_org, now);
            tx.insert_project(&p, &p.name).await
        }
        "groups_pkey" => {
            let g = Group {
                id: fx.group.id,
                ..group(org, now)
            };
            tx.insert_group(&g, &g.name).await
        }
        "groups_name_uq" => tx.insert_group(&group(org, now), &fx.group.name).await,
        "groups_name_uq by rename" => {
            let g = group(org, now);
            tx.insert_group(&g, &g.name)
                .await
                .expect("the case's setup");
            tx.update_group(&g, &fx.group.name).await
        }
        "groups_org_id_fkey" => {
            let g = group(no_org, now);
            tx.insert_group(&g, &g.name).await
        }
        "group_members_pkey" => {
            tx.put_group_member(org, fx.group.id, a.id)
                .await
                .expect("the case's setup");
            tx.put_group_member(org, fx.group.id, a.id).await
        }
        "group_members_group_id_fkey" => tx.put_group_member(org, GroupId::new(), a.id).await,
        "group_members_org_id_user_id_fkey" => tx.put_group_member(org, fx.group.id, b.id).await,
        "group_projects_pkey" => {
            let (g, p) = (fx.group.id, fx.project.id);
            tx.put_group_project(org, g, p, ProjectRole::Viewer)
                .await
                .expect("the case's setup");
            tx.put_group_project(org, g, p, ProjectRole::Admin).await
        }
        "group_projects_group_id_fkey" => {
            let p = fx.project.id;
            tx.put_group_project(org, GroupId::new(), p, ProjectRole::Viewer)
                .await
        }
        "group_projects_project_id_fkey" => {
            let g = fx.group.id;
            tx.put_group_project(org, g, ProjectId::new(), ProjectRole::Viewer)
                .await
        }
        "project_members_pkey" => {
            let p = fx.project.id;
            tx.put_project_member(org, p, a.id, ProjectRole::Viewer)
                .await
                .expect("the case's setup");
            tx.put_project_member(org, p, a.id, ProjectRole::Admin)
                .await
        }
        "project_members_project_id_fkey" => {
            tx.put_project_member(org, ProjectId::new(), a.id, ProjectRole::Viewer)
                .await
        }
        "project_members_org_id_user_id_fkey" => {
            let p = fx.project.id;
            tx.put_project_member(org, p, b.id, ProjectRole::Viewer)
                .await
        }
        "transfers_pkey" => {
            let t = transfer(org, a.id, b.id, now);
            tx.insert_transfer(&t).await.expect("the case's setup");
            let other = Transfer {
                org: another_org(tx, now).await,
                ..t
            };
            tx.insert_transfer(&other).await
        }
        "transfers_one_pending" => {
            tx.insert_transfer(&transfer(org, a.id, b.id, now))
                .await
                .expect("the case's setup");
            tx.insert_transfer(&transfer(org, a.id, b.id, now)).await
        }
        "transfers_org_id_fkey" => tx.insert_transfer(&transfer(no_org, a.id, b.id, now)).await,
        "transfers_from_user_fkey" => tx.insert_transfer(&transfer(org, nobody, b.id, now)).await,
        "transfers_to_user_fkey" => tx.insert_transfer(&transfer(org, a.id, nobody, now)).await,
        "invitations_pkey" => {
            let i = invitation(org, a.id, now);
            tx.insert_invitation(&i, &hash())
                .await
                .expect("the case's setup");
            let again = Invitation {
                id: i.id,
                ..invitation(org, a.id, now)
            };
            tx.insert_invitation(&again, &hash()).await
        }
        "invitations_token_hash_uq" => {
            let h = hash();
            tx.insert_invitation(&invitation(org, a.id, now), &h)
                .await
                .expect("the case's setup");
            tx.insert_invitation(&invitation(org, a.id, now), &h).await
        }
        "invitations_token_hash_uq by renewal" => {
            let h = hash();
            tx.insert_invitation(&invitation(org, a.id, now), &h)
                .await
                .expect("the case's setup");
            let other = invitation(org, a.id, now);
            tx.insert_invitation(&other, &hash())
                .await
                .expect("the case's setup");
            tx.renew_invitation(other.id, &h, now).await
        }
        "invitations_one_pending" => {
            let i = invitation(org, a.id, now);
            tx.insert_invitation(&i, &hash())
                .await
                .expect("the case's setup");
            let again = Invitation {
                email: i.email.clone(),
                email_key: i.email_key.clone(),
                ..invitation(org, a.id, now)
            };
            tx.insert_invitation(&again, &hash()).await
        }
        "invitations_org_id_fkey" => {
            tx.insert_invitation(&invitation(no_org, a.id, now), &hash())
                .await
        }
        "invitations_invited_by_fkey" => {
            tx.insert_invitation(&invitation(org, nobody, now), &hash())
                .await
        }
        "password_tokens_pkey" => {
            let h = hash();
            tx.insert_password_link(&password_link(a.id, now), &h)
                .await
                .expect("the case's setup");
            tx.insert_password_link(&password_link(b.id, now), &h).await
        }
        "password_tokens_one_per_user" => {
            tx.insert_password_link(&password_link(a.id, now), &hash())
                .await
                .expect("the case's setup");
            tx.insert_password_link(&password_link(a.id, now), &hash())
                .await
        }
        "password_tokens_user_id_fkey" => {
            tx.insert_password_link(&password_link(nobody, now), &hash())
                .await
        }
        "plan_periods_current_uq" => {
            let period = plan_period(&fx.project, now);
            tx.open_plan_period(org, &period)
                .await
                .expect("the case's setup");
            tx.open_plan_period(org, &period).await
        }
        "billing_profiles_pkey" => {
            tx.put_billing_profile(org, &billing_profile(), now)
                .await
                .expect("the case's setup");
            tx.put_billing_profile(org, &billing_profile(), now).await
        }
        "billing_profiles_org_id_fkey" => {
            tx.put_billing_profile(no_org, &billing_profile(), now)
                .await
        }
        "vouchers_pkey" => {
            let v = voucher();
            tx.insert_voucher(&v, now).await.expect("the case's setup");
            tx.insert_voucher(&v, now).await
        }
        "voucher_redemptions_pk" => {
            let v = voucher();
            tx.insert_voucher(&v, now).await.expect("the case's setup");
            tx.insert_redemption(&v.code, org, now)
                .await
                .expect("the case's setup");
            tx.insert_redemption(&v.code, org, now).await
        }
        "voucher_redemptions_code_fkey" => tx.insert_redemption(&voucher().code, org, now).await,
        "invoices_pkey" => {
            let i = invoice(org, 1, now);
            tx.insert_invoice(&i).await.expect("the case's setup");
            let again = Invoice {
                id: i.id,
                ..invoice(org, 2, now)
            };
            tx.insert_invoice(&again).await
        }
        "invoices_org_month_uq" => {
            tx.insert_invoice(&invoice(org, 3, now))
                .await
                .expect("the case's setup");
            tx.insert_invoice(&invoice(org, 3, now)).await
        }
        "invoices_number_uq" => {
            let i = invoice(org, 4, now);
            tx.insert_invoice(&i).await.expect("the case's setup");
            let again = Invoice {
                number: i.number.clone(),
                ..invoice(org, 5, now)
            };
            tx.insert_invoice(&again).await
        }
        other => panic!("no way to hit `{other}` is written"),
    }
}

/// Another organization, owned by nobody in particular (for a second row of a per-org key).
async fn another_org(tx: &mut dyn Tx, now: DateTime<Utc>) -> OrgId {
    let o = org(now);
    tx.insert_org(&o, &o.slug).await.expect("another org");
    o.id
}

// ---------------------------------------------------------------------------------------------
// The schemas' keys.

type Key = (Kind, String, Vec<String>);

/// Every unique and foreign key of the migrated SQLite schema.
async fn sqlite_keys(pool: &sqlx::SqlitePool) -> BTreeSet<Key> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    let mut keys = BTreeSet::new();
    for (table,) in tables {
        // Unique indexes, the primary key's among them unless it is the rowid.
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT il.name, il.origin, ii.name FROM pragma_index_list($1) il \
             JOIN pragma_index_info(il.name) ii WHERE il.\"unique\" = 1 \
             ORDER BY il.name, ii.seqno",
        )
        .bind(&table)
        .fetch_all(pool)
        .await
        .expect("indexes");
        let mut has_pk_index = false;
        let indexes = grouped(rows.iter().map(|(n, origin, c)| {
            has_pk_index |= origin == "pk";
            (n.clone(), c.clone())
        }));
        for (_, columns) in indexes {
            keys.insert((Kind::Unique, table.clone(), columns));
        }
        if !has_pk_index {
            let pk: Vec<(String,)> =
                sqlx::query_as("SELECT name FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk")
                    .bind(&table)
                    .fetch_all(pool)
                    .await
                    .expect("primary key");
            if !pk.is_empty() {
                let columns = pk.into_iter().map(|(c,)| c).collect();
                keys.insert((Kind::Unique, table.clone(), columns));
            }
        }
        let fks: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, \"from\" FROM pragma_foreign_key_list($1) ORDER BY id, seq")
                .bind(&table)
                .fetch_all(pool)
                .await
                .expect("foreign keys");
        for (_, columns) in grouped(fks.into_iter()) {
            keys.insert((Kind::Foreign, table.clone(), columns));
        }
    }
    keys
}

/// Every unique and foreign key of the migrated PostgreSQL schema, with its name.
async fn postgres_keys(pool: &sqlx::PgPool) -> Vec<(Kind, String, Vec<String>, String)> {
    let unique: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT t.relname::text, i.relname::text, \
                array_agg(a.attname::text ORDER BY k.ord) \
         FROM pg_index x \
         JOIN pg_class i ON i.oid = x.indexrelid \
         JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE n.nspname = current_schema() AND x.indisunique \
           AND t.relname <> '_sqlx_migrations' \
         GROUP BY t.relname, i.relname",
    )
    .fetch_all(pool)
    .await
    .expect("unique keys");
    let foreign: Vec<(String, String, Vec<String>)> = sqlx::query_as(
        "SELECT t.relname::text, c.conname::text, array_agg(a.attname::text ORDER BY k.ord) \
         FROM pg_constraint c \
         JOIN pg_class t ON t.oid = c.conrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE n.nspname = current_schema() AND c.contype = 'f' \
         GROUP BY t.relname, c.conname",
    )
    .fetch_all(pool)
    .await
    .expect("foreign keys");
    let tag = |kind: Kind| move |(t, n, c): (String, String, Vec<String>)| (kind, t, c, n);
    unique
        .into_iter()
        .map(tag(Kind::Unique))
        .chain(foreign.into_iter().map(tag(Kind::Foreign)))
        .collect()
}

/// Consecutive `(key, column)` rows as one column list per key.
fn grouped<K: PartialEq>(rows: impl Iterator<Item = (K, String)>) -> Vec<(K, Vec<String>)> {
    let mut out: Vec<(K, Vec<String>)> = Vec::new();
    for (key, column) in rows {
        match out.last_mut() {
            Some((k, columns)) if *k == key => columns.push(column),
            _ => out.push((key, vec![column])),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Fresh databases, as `tests/api/common.rs` makes them.

struct TestDb {
    url: String,
    /// The SQLite file's directory, or the PostgreSQL database's name.
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("contract.db").display());
        TestDb {
            url,
            _dir: Some(dir),
            pg_name: None,
        }
    }

    async fn postgres() -> TestDb {
        use sqlx::Connection as _;
        let admin = pg_admin_url();
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is needed for this test and could not be reached at {admin}: \
                     {e}. Set GUILDHALL_TEST_DATABASE_URL to an admin URL"
                )
            });
        let name = format!("gh_test_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("creating a test database");
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        TestDb {
            url: format!("{base}/{name}"),
            _dir: None,
            pg_name: Some(name),
        }
    }

    async fn open(&self) -> Arc<dyn Store> {
        guildhall::store::open(&self.url).await.expect("store")
    }

    /// Drops a PostgreSQL test database (its connections too); best effort.
    async fn drop_database(&self) {
        use sqlx::Connection as _;
        let Some(name) = &self.pg_name else { return };
        if let Ok(mut conn) = sqlx::PgConnection::connect(&pg_admin_url()).await {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await;
        }
    }
}

/// The admin URL of the test PostgreSQL server.
fn pg_admin_url() -> String {
    std::env::var("GUILDHALL_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}
