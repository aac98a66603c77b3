//! Plans and billing: project plans (`plans.manage`), the billing profile, vouchers and invoices
//! (R8: `billing.read` to see, `billing.manage` to change), and the monthly invoice run shared by
//! the server and `guildhall invoices generate`.

use super::projects::reach;
use super::{Error, Named, lost_race};
use super::{Guildhall, OrgRef, Principal, Result, org_access};
use crate::domain::DomainError;
use crate::domain::audit::{Action, Actor, AuditEvent};
use crate::domain::billing::{
    BillTo, BillingProfile, Catalog, Invoice, Month, PlanPeriod, PlanSpec, Redemption,
    UpcomingInvoice, Voucher, VoucherValue, check_redeemable, compute_invoice, compute_upcoming,
    invoice_number, parse_voucher_code,
};
use crate::domain::error::Kind;
use crate::domain::ids::OrgId;
use crate::domain::invoicing::{InvoiceStatus, InvoiceTerms, change_status};
use crate::domain::model::Project;
use crate::domain::permission::Permission;
use crate::store::{After, Constraint, Store, StoreError, Tx};
use chrono::{DateTime, NaiveDate, SubsecRound as _, Utc};
use serde_json::json;

/// A project's plan as answered: the plan, since when, and whether the caller may see its price
/// (R8: only with `billing.read`).
pub struct PlanView {
    /// The current plan period.
    pub period: PlanPeriod,
    /// Whether prices may be shown to the caller.
    pub show_prices: bool,
}

/// The plan period a project is on; a project without one (there should be none: the
/// migration and project creation open one) is on the default tier since its creation.
async fn current_period(tx: &mut dyn Tx, catalog: &Catalog, p: &Project) -> Result<PlanPeriod> {
    if let Some(period) = tx.current_plan(p.id).await? {
        return Ok(period);
    }
    let (plan, monthly_price) = catalog.default_plan();
    Ok(PlanPeriod {
        project: p.id.0,
        project_name: p.name.clone(),
        plan,
        monthly_price,
        from: p.created_at,
        to: None,
        ended_by_delete: false,
    })
}

/// Opens a new project's first plan period, on the catalog's default tier (called by project
/// creation, in its transaction).
pub(super) async fn open_default_plan(
    tx: &mut dyn Tx,
    catalog: &Catalog,
    p: &Project,
) -> Result<()> {
    let (plan, monthly_price) = catalog.default_plan();
    tx.open_plan_period(
        p.org,
        &PlanPeriod {
            project: p.id.0,
            project_name: p.name.clone(),
            plan,
            monthly_price,
            from: p.created_at,
            to: None,
            ended_by_delete: false,
        },
    )
    .await?;
    Ok(())
}

/// A project's plan (R11: the project must be reachable); prices only with `billing.read` (R8).
pub async fn get_plan(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    project: &str,
) -> Result<PlanView> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    let (p, _) = reach(&mut *tx, who, &access, project).await?;
    let period = current_period(&mut *tx, &gh.plans, &p).await?;
    Ok(PlanView {
        period,
        show_prices: access.actor.require(Permission::BillingRead).is_ok(),
    })
}

/// A requested plan: a tier and, optionally, amounts (left out: the tier's included ones).
#[derive(Clone, Debug)]
pub struct PlanChoice {
    /// The tier's name.
    pub tier: String,
    /// Storage, GB.
    pub storage_gb: Option<i64>,
    /// Development environments.
    pub environments: Option<i64>,
    /// User licenses.
    pub licenses: Option<i64>,
}

/// Changes a project's plan (`plans.manage`; R11 first, so an unreachable project is 404): the
/// tier and amounts are checked against the catalog's limits, the current period is closed now
/// and the new one opened, in one transaction with its audit event.
pub async fn set_plan(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    project: &str,
    choice: &PlanChoice,
) -> Result<PlanView> {
    // Microseconds: what PostgreSQL keeps, so the answer and later reads agree.
    let now = gh.clock.now().trunc_subsecs(6);
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    let (p, _) = reach(&mut *tx, who, &access, project).await?;
    access.actor.require(Permission::PlansManage)?;
    let (plan, monthly_price) = gh.plans.check_plan(
        &choice.tier,
        choice.storage_gb,
        choice.environments,
        choice.licenses,
    )?;
    let show_prices = access.actor.require(Permission::BillingRead).is_ok();
    let before = current_period(&mut *tx, &gh.plans, &p).await?;
    if before.plan == plan {
        return Ok(PlanView {
            period: before,
            show_prices,
        });
    }
    tx.close_plan_period(p.id, now, false).await?;
    let period = PlanPeriod {
        project: p.id.0,
        project_name: p.name.clone(),
        plan: plan.clone(),
        monthly_price,
        from: now,
        to: None,
        ended_by_delete: false,
    };
    tx.open_plan_period(p.org, &period).await?;
    let describe = |s: &PlanSpec| json!({ "tier": s.tier, "storage_gb": s.storage_gb, "environments": s.environments, "licenses": s.licenses });
    let event = AuditEvent::new(&who.actor(now), Action::PlanChanged, "project", p.id)
        .in_org(p.org)
        .named(p.name.as_str())
        .with_data(json!({
            "project": p.id,
            "project_name": p.name,
            "before": describe(&before.plan),
            "after": describe(&plan),
        }));
    gh.commit(tx, vec![event]).await?;
    Ok(PlanView {
        period,
        show_prices,
    })
}

/// The billing profile and the vouchers redeemed but not yet used by an invoice (R8:
/// `billing.read`).
pub async fn get_billing(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
) -> Result<(Option<BillingProfile>, Vec<Redemption>)> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access.actor.require(Permission::BillingRead)?;
    let id = access.org.org.id;
    Ok((
        tx.billing_profile(id).await?,
        tx.pending_redemptions(id).await?,
    ))
}

/// Replaces the billing profile (`billing.manage`). The audit event names the fields that
/// changed, never their values: no card data, no address.
pub async fn put_billing(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    profile: BillingProfile,
) -> Result<(Option<BillingProfile>, Vec<Redemption>)> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    access.actor.require(Permission::BillingManage)?;
    let profile = profile.check(&gh.plans.currency)?;
    let id = access.org.org.id;
    let before = tx.billing_profile(id).await?;
    let changed = profile.changed_fields(before.as_ref());
    let pending = tx.pending_redemptions(id).await?;
    if changed.is_empty() {
        return Ok((before, pending));
    }
    tx.put_billing_profile(id, &profile, now).await?;
    let event = AuditEvent::new(&who.actor(now), Action::BillingUpdated, "org", id)
        .in_org(id)
        .named(&access.org.org.name)
        .with_data(json!({ "changed": changed }));
    gh.commit(tx, vec![event]).await?;
    Ok((Some(profile), pending))
}

/// Redeems a voucher code for the organization (`billing.manage`): it applies to the next
/// invoice produced. Unknown, expired, used-up or another organization's codes are
/// `voucher_invalid`; a code this organization already redeemed is `voucher_already_redeemed`.
pub async fn redeem_voucher(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    code: &str,
) -> Result<Redemption> {
    let now = gh.clock.now();
    let mut tx = gh.store.begin().await?;
    let access = org_access(&mut *tx, who, org, true).await?;
    access.actor.require(Permission::BillingManage)?;
    let id = access.org.org.id;
    let unknown = || DomainError::VoucherInvalid("there is no such voucher code".to_owned());
    let code = parse_voucher_code(code).ok_or_else(unknown)?;
    let voucher = tx.voucher(&code).await?;
    if voucher
        .as_ref()
        .is_some_and(|v| v.org.is_none_or(|o| o == id.0))
        && tx.redeemed(&code, id).await?
    {
        return Err(DomainError::VoucherAlreadyRedeemed.into());
    }
    check_redeemable(voucher.as_ref(), id.0, now)?;
    let value = voucher.map(|v| v.value).ok_or_else(unknown)?;
    if !tx.use_voucher(&code).await? {
        return Err(DomainError::VoucherInvalid("the voucher has been used up".to_owned()).into());
    }
    tx.insert_redemption(&code, id, now)
        .await
        .map_err(|e| lost_race(e, Named::Nothing))?;
    let event = AuditEvent::new(&who.actor(now), Action::VoucherRedeemed, "voucher", &code)
        .in_org(id)
        .named(&code)
        .with_data(json!({ "code": code }));
    gh.commit(tx, vec![event]).await?;
    Ok(Redemption {
        code,
        value,
        redeemed_at: now,
        invoice: None,
    })
}

/// A page of the organization's invoices, newest month first (R8: `billing.read`).
pub async fn list_invoices(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    from: Option<&After>,
    limit: u32,
) -> Result<super::Page<Invoice, After>> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access.actor.require(Permission::BillingRead)?;
    let rows = tx
        .invoices(
            access.org.org.id,
            from.map(|a| (a.key.as_str(), a.id)),
            limit + 1,
        )
        .await?;
    Ok(super::Page::from_rows(rows, limit, |i| {
        super::after(i.month.to_string(), i.id)
    }))
}

/// The current month's invoice as it stands: the days so far and the month projected to its end
/// (R8: `billing.read`). Computed on each call by the rule of the monthly run; never numbered
/// nor stored, and the vouchers it shows are still waiting, not used.
pub async fn upcoming_invoice(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
) -> Result<UpcomingInvoice> {
    let now = gh.clock.now();
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access.actor.require(Permission::BillingRead)?;
    let id = access.org.org.id;
    let month = Month::of(now);
    let periods = tx.plan_periods_in(id, month.start(), month.end()).await?;
    let vouchers: Vec<(String, VoucherValue)> = tx
        .pending_redemptions(id)
        .await?
        .into_iter()
        .map(|r| (r.code, r.value))
        .collect();
    Ok(compute_upcoming(now.date_naive(), &periods, &vouchers))
}

/// One of the organization's invoices, with the organization's name for the PDF (R8:
/// `billing.read`).
pub async fn get_invoice(
    gh: &Guildhall,
    who: &Principal,
    org: &OrgRef,
    id: uuid::Uuid,
) -> Result<(Invoice, String)> {
    let mut tx = gh.store.read().await?;
    let access = org_access(&mut *tx, who, org, false).await?;
    access.actor.require(Permission::BillingRead)?;
    let invoice = tx
        .invoice(access.org.org.id, id)
        .await?
        .ok_or(DomainError::NotFound(Kind::Invoice))?;
    Ok((invoice, access.org.org.name))
}

/// What an invoice run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Invoices produced.
    pub created: u64,
    /// Organizations already invoiced for the month: before the run, or by another process
    /// during it.
    pub already: u64,
}

/// How many organizations an invoice run reads at once.
const BATCH: u32 = 500;

/// Produces the invoices of a closed month for every organization with a plan period in it (even
/// at a zero total), skipping those already invoiced, so running it twice changes nothing. Reads
/// organizations in batches of `BATCH` ids and invoices each in its own transaction (bounded
/// memory; a failure leaves the others done). `progress(done, total)` is called after each
/// organization. The server (at start and hourly) and `guildhall invoices generate` both call
/// this.
pub async fn generate_invoices(
    store: &dyn Store,
    catalog: &Catalog,
    terms: &InvoiceTerms,
    month: Month,
    now: DateTime<Utc>,
    mut progress: impl FnMut(u64, u64) + Send,
) -> Result<RunReport> {
    if !month.is_closed(now) {
        return Err(DomainError::MonthNotClosed(month.to_string()).into());
    }
    let label = month.to_string();
    let (start, end) = (month.start(), month.end());
    let (total, already) = {
        let mut tx = store.read().await?;
        (
            tx.count_orgs_to_invoice(&label, start, end).await?,
            tx.count_invoices(&label).await?,
        )
    };
    let mut report = RunReport {
        already,
        ..RunReport::default()
    };
    let mut after: Option<OrgId> = None;
    let mut done = 0;
    loop {
        let batch = {
            let mut tx = store.read().await?;
            tx.orgs_to_invoice(&label, start, end, after, BATCH).await?
        };
        let Some(last) = batch.last().copied() else {
            break;
        };
        for org in batch {
            match invoice_org(store, catalog, terms, org, month, now).await {
                Ok(true) => report.created += 1,
                Ok(false) => report.already += 1,
                // Another process inserted this organization's invoice between our check and
                // our insert: its transaction won, ours rolled back with its number.
                Err(Error::Store(StoreError::Conflict(Constraint::InvoiceMonth))) => {
                    report.already += 1;
                }
                Err(e) => return Err(e),
            }
            done += 1;
            progress(done, total.max(done));
        }
        after = Some(last);
    }
    Ok(report)
}

/// Invoices one organization for `month` in one transaction; false when it already had one.
async fn invoice_org(
    store: &dyn Store,
    catalog: &Catalog,
    terms: &InvoiceTerms,
    org: OrgId,
    month: Month,
    now: DateTime<Utc>,
) -> Result<bool> {
    let label = month.to_string();
    let mut tx = store.begin().await?;
    if tx.invoice_exists(org, &label).await? {
        return Ok(false);
    }
    let periods = tx.plan_periods_in(org, month.start(), month.end()).await?;
    let pending = tx.pending_redemptions(org).await?;
    let vouchers: Vec<(String, VoucherValue)> =
        pending.iter().map(|r| (r.code.clone(), r.value)).collect();
    let draft = compute_invoice(month, &periods, &vouchers);
    let bill_to = tx.billing_profile(org).await?.map(|p| BillTo {
        name: p.name,
        address: p.address,
        vat_number: p.vat_number,
    });
    // The seller, tax and due date as configured now, kept with the invoice: a later change of
    // the configuration never rewrites an issued invoice.
    let tax = terms.tax(draft.total, bill_to.as_ref());
    let seq = tx.next_invoice_seq().await?;
    let invoice = Invoice {
        id: uuid::Uuid::now_v7(),
        org: org.0,
        month,
        seq,
        number: invoice_number(seq),
        currency: catalog.currency.clone(),
        status: InvoiceStatus::Open.as_str().to_owned(),
        subtotal: draft.subtotal,
        total: draft.total.saturating_add(tax.amount),
        lines: draft.lines,
        bill_to,
        issued_at: now,
        seller: terms.seller.clone(),
        tax: Some(tax),
        due_on: Some(terms.due_on(now.date_naive())),
        status_changed_at: None,
    };
    tx.insert_invoice(&invoice).await?;
    let codes: Vec<String> = pending.into_iter().map(|r| r.code).collect();
    tx.apply_redemptions(org, &codes, invoice.id).await?;
    let system = Actor {
        user: None,
        token: None,
        ip: None,
        now,
    };
    let event = AuditEvent::new(&system, Action::InvoiceGenerated, "invoice", invoice.id)
        .in_org(org)
        .named(&invoice.number)
        .with_data(json!({ "number": invoice.number, "month": label, "total": invoice.total }));
    tx.commit(super::identified(vec![event])).await?;
    Ok(true)
}

/// An operator command's run: the machine account it runs as (the audit event's actor) and when.
#[derive(Clone, Copy, Debug)]
pub struct Operator<'a> {
    /// The account, e.g. `root`.
    pub account: &'a str,
    /// When it runs.
    pub now: DateTime<Utc>,
}

/// Creates a voucher (the operator's `guildhall vouchers create`, whose machine account the
/// audit event names): a code for an amount or a percentage, with its last
/// valid day (today or later) and how many organizations may redeem it, optionally reserved to
/// one organization.
pub async fn create_voucher(
    store: &dyn Store,
    code: &str,
    value: VoucherValue,
    expires_on: NaiveDate,
    max_uses: i64,
    org: Option<&OrgRef>,
    by: &Operator<'_>,
) -> Result<Voucher> {
    let now = by.now;
    let code = parse_voucher_code(code).ok_or_else(|| {
        DomainError::invalid("code", "must be 3 to 40 letters, digits, `-` or `_`")
    })?;
    match value {
        VoucherValue::Amount(a) if a <= 0 || a > crate::domain::billing::MAX_PRICE => {
            return Err(
                DomainError::invalid("amount", "must be a positive amount in minor units").into(),
            );
        }
        VoucherValue::Percent(p) if !(1..=100).contains(&p) => {
            return Err(DomainError::invalid("percent", "must be between 1 and 100").into());
        }
        _ => {}
    }
    if max_uses < 1 {
        return Err(DomainError::invalid("max_uses", "must be at least 1").into());
    }
    let today = now.date_naive();
    if expires_on < today {
        return Err(DomainError::invalid(
            "expires",
            format!("{expires_on} is already past; give today ({today}) or a later day"),
        )
        .into());
    }
    let mut tx = store.begin().await?;
    let org = match org {
        None => None,
        Some(r) => Some(
            match r {
                OrgRef::Id(id) => tx.org_by_id(*id).await?.map(|o| o.org.id),
                OrgRef::Slug(s) => tx.org_id_by_slug(s).await?,
                OrgRef::Invalid => None,
            }
            .ok_or(DomainError::NotFound(Kind::Org))?,
        ),
    };
    let voucher = Voucher {
        code,
        value,
        expires_on,
        max_uses,
        uses: 0,
        org: org.map(|o| o.0),
    };
    tx.insert_voucher(&voucher, now)
        .await
        .map_err(|e| lost_race(e, Named::Voucher(&voucher.code)))?;
    let system = Actor {
        user: None,
        token: None,
        ip: None,
        now,
    };
    let event = AuditEvent::new(&system, Action::VoucherCreated, "voucher", &voucher.code)
        .by_operator(by.account)
        .named(&voucher.code)
        .with_data(json!({ "code": voucher.code, "kind": value.kind(), "value": value.value() }));
    let event = match org {
        Some(o) => event.in_org(o),
        None => event,
    };
    tx.commit(super::identified(vec![event])).await?;
    Ok(voucher)
}

/// Every voucher, by code (the operator's `guildhall vouchers list`), read `BATCH` at a time.
pub async fn list_vouchers(store: &dyn Store) -> Result<Vec<Voucher>> {
    let mut all: Vec<Voucher> = Vec::new();
    loop {
        let after = all.last().map(|v| v.code.clone());
        let batch = {
            let mut tx = store.read().await?;
            tx.vouchers(after.as_deref(), BATCH).await?
        };
        let full = batch.len() == BATCH as usize;
        all.extend(batch);
        if !full {
            return Ok(all);
        }
    }
}

/// Who marks an invoice paid or void: an operator command (its machine account) or a service
/// presenting the service token (a payment provider).
#[derive(Clone, Copy, Debug)]
pub enum StatusBy<'a> {
    /// `guildhall invoices mark`, run as this account.
    Operator(&'a str),
    /// `POST /api/v1/invoices/{id}/status` with the service token.
    Service,
}

/// Marks an invoice (by number or id, any organization's) `paid` or `void`, with an
/// `invoice.status_changed` event in its organization's log. Both are final: a void invoice
/// is never paid (409 `invoice_void`), a paid one never voided (409 `invoice_paid`); marking it
/// what it already is changes nothing and records nothing. Race-safe: the update applies only
/// if the status is still the one read, otherwise the newer status is judged again.
pub async fn set_invoice_status(
    store: &dyn Store,
    key: &str,
    to: InvoiceStatus,
    by: StatusBy<'_>,
    now: DateTime<Utc>,
) -> Result<Invoice> {
    let now = now.trunc_subsecs(6);
    let mut tx = store.begin().await?;
    let mut invoice = tx
        .invoice_by_id_or_number(key.trim())
        .await?
        .ok_or(DomainError::NotFound(Kind::Invoice))?;
    let current = InvoiceStatus::parse(&invoice.status)
        .ok_or_else(|| StoreError::Corrupt("invoice status".to_owned()))?;
    if !change_status(&invoice.number, current, to)? {
        return Ok(invoice);
    }
    if !tx
        .set_invoice_status(invoice.id, current.as_str(), to.as_str(), now)
        .await?
    {
        // Another process changed it between our read and our update: judge its new status.
        drop(tx);
        let mut tx = store.read().await?;
        let latest = tx
            .invoice_by_id_or_number(&invoice.id.to_string())
            .await?
            .ok_or(DomainError::NotFound(Kind::Invoice))?;
        let latest_status = InvoiceStatus::parse(&latest.status)
            .ok_or_else(|| StoreError::Corrupt("invoice status".to_owned()))?;
        change_status(&latest.number, latest_status, to)?;
        return Ok(latest);
    }
    let system = Actor {
        user: None,
        token: None,
        ip: None,
        now,
    };
    let event = AuditEvent::new(&system, Action::InvoiceStatusChanged, "invoice", invoice.id)
        .in_org(OrgId(invoice.org))
        .named(&invoice.number)
        .with_data(json!({
            "number": invoice.number,
            "before": current.as_str(),
            "after": to.as_str(),
            "by": match by { StatusBy::Operator(_) => "operator", StatusBy::Service => "service_token" },
        }));
    let event = match by {
        StatusBy::Operator(account) => event.by_operator(account),
        StatusBy::Service => {
            let mut event = event;
            event.actor_name = Some("service token".to_owned());
            event
        }
    };
    tx.commit(super::identified(vec![event])).await?;
    invoice.status = to.as_str().to_owned();
    invoice.status_changed_at = Some(now);
    Ok(invoice)
}
