//! Plans and billing in the store: plan periods, billing profiles, vouchers and their
//! redemptions, invoices and the invoice counter. A supertrait of `Tx`, so every transaction
//! can write a plan change together with the rest of its use case; its SQL is shared by both
//! backends like `sql.rs`'s, through `impl_billing_tx!`.

use super::StoreResult;
use crate::domain::billing::{BillingProfile, Invoice, PlanPeriod, Redemption, Voucher};
use crate::domain::ids::{OrgId, ProjectId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Billing reads and writes inside one transaction.
#[async_trait]
pub trait BillingTx: Send {
    /// A project's current plan period.
    async fn current_plan(&mut self, project: ProjectId) -> StoreResult<Option<PlanPeriod>>;
    /// Opens a plan period (the project's new current plan).
    async fn open_plan_period(&mut self, org: OrgId, period: &PlanPeriod) -> StoreResult<()>;
    /// Closes a project's current plan period at `at`; `by_delete` when the project is deleted.
    async fn close_plan_period(
        &mut self,
        project: ProjectId,
        at: DateTime<Utc>,
        by_delete: bool,
    ) -> StoreResult<()>;
    /// Renames a project in its current plan period (the name its next invoice lines carry).
    async fn rename_plan_project(&mut self, project: ProjectId, name: &str) -> StoreResult<()>;
    /// An organization's plan periods overlapping `[start, end)`.
    async fn plan_periods_in(
        &mut self,
        org: OrgId,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> StoreResult<Vec<PlanPeriod>>;
    /// Up to `limit` organizations, by id after `after`, with a plan period overlapping
    /// `[start, end)` and no invoice for `month` yet.
    async fn orgs_to_invoice(
        &mut self,
        month: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        after: Option<OrgId>,
        limit: u32,
    ) -> StoreResult<Vec<OrgId>>;
    /// How many organizations `orgs_to_invoice` would list in all.
    async fn count_orgs_to_invoice(
        &mut self,
        month: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> StoreResult<u64>;

    /// An organization's billing profile.
    async fn billing_profile(&mut self, org: OrgId) -> StoreResult<Option<BillingProfile>>;
    /// Replaces an organization's billing profile.
    async fn put_billing_profile(
        &mut self,
        org: OrgId,
        profile: &BillingProfile,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// A voucher by code.
    async fn voucher(&mut self, code: &str) -> StoreResult<Option<Voucher>>;
    /// Inserts a voucher.
    async fn insert_voucher(&mut self, v: &Voucher, now: DateTime<Utc>) -> StoreResult<()>;
    /// Counts one more use of a voucher; false when it has none left.
    async fn use_voucher(&mut self, code: &str) -> StoreResult<bool>;
    /// Whether `org` already redeemed `code`.
    async fn redeemed(&mut self, code: &str, org: OrgId) -> StoreResult<bool>;
    /// Records `org`'s redemption of `code`.
    async fn insert_redemption(
        &mut self,
        code: &str,
        org: OrgId,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// The vouchers `org` redeemed that no invoice used yet, oldest first.
    async fn pending_redemptions(&mut self, org: OrgId) -> StoreResult<Vec<Redemption>>;
    /// Marks `org`'s pending redemptions of `codes` as used by `invoice`.
    async fn apply_redemptions(
        &mut self,
        org: OrgId,
        codes: &[String],
        invoice: uuid::Uuid,
    ) -> StoreResult<()>;

    /// Whether `org` has an invoice for `month`.
    async fn invoice_exists(&mut self, org: OrgId, month: &str) -> StoreResult<bool>;
    /// Takes the next invoice number (the counter row stays locked until commit).
    async fn next_invoice_seq(&mut self) -> StoreResult<i64>;
    /// Inserts an invoice.
    async fn insert_invoice(&mut self, invoice: &Invoice) -> StoreResult<()>;
    /// One of `org`'s invoices.
    async fn invoice(&mut self, org: OrgId, id: uuid::Uuid) -> StoreResult<Option<Invoice>>;
    /// A page of `org`'s invoices, newest month first, after (month, id).
    async fn invoices(
        &mut self,
        org: OrgId,
        after: Option<(&str, uuid::Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<Invoice>>;
}

macro_rules! impl_billing_tx {
    ($tx:ident) => {
        mod billing_impl {
            use super::{$tx, DbRow, db_err, get};
            use crate::domain::billing::{
                BillTo, BillingProfile, Invoice, InvoiceLine, Month, PlanPeriod, PlanSpec,
                Redemption, Voucher, VoucherValue,
            };
            use crate::domain::ids::{OrgId, ProjectId};
            use crate::store::billing::BillingTx;
            use crate::store::{StoreError, StoreResult};
            use chrono::{DateTime, NaiveDate, Utc};
            use uuid::Uuid;

            fn corrupt(what: &str) -> StoreError {
                StoreError::Corrupt(what.to_owned())
            }

            const PERIOD_COLS: &str = "project_id, project_name, tier, storage_gb, environments, \
                licenses, monthly_price, valid_from, valid_to, ended_by_delete";

            fn period_from(row: &DbRow) -> StoreResult<PlanPeriod> {
                Ok(PlanPeriod {
                    project: get(row, "project_id")?,
                    project_name: get(row, "project_name")?,
                    plan: PlanSpec {
                        tier: get(row, "tier")?,
                        storage_gb: get(row, "storage_gb")?,
                        environments: get(row, "environments")?,
                        licenses: get(row, "licenses")?,
                    },
                    monthly_price: get(row, "monthly_price")?,
                    from: get(row, "valid_from")?,
                    to: get(row, "valid_to")?,
                    ended_by_delete: get(row, "ended_by_delete")?,
                })
            }

            fn voucher_from(row: &DbRow) -> StoreResult<Voucher> {
                let kind: String = get(row, "kind")?;
                let expires: String = get(row, "expires_on")?;
                Ok(Voucher {
                    code: get(row, "code")?,
                    value: VoucherValue::from_parts(&kind, get(row, "value")?)
                        .ok_or_else(|| corrupt("voucher kind"))?,
                    expires_on: NaiveDate::parse_from_str(&expires, "%Y-%m-%d")
                        .map_err(|_| corrupt("voucher expiry"))?,
                    max_uses: get(row, "max_uses")?,
                    uses: get(row, "uses")?,
                    org: get(row, "org_id")?,
                })
            }

            const INVOICE_COLS: &str = "id, org_id, month, seq, number, currency, status, \
                subtotal, total, lines, bill_to, issued_at";

            fn invoice_from(row: &DbRow) -> StoreResult<Invoice> {
                let month: String = get(row, "month")?;
                let lines: String = get(row, "lines")?;
                let bill_to: Option<String> = get(row, "bill_to")?;
                Ok(Invoice {
                    id: get(row, "id")?,
                    org: get(row, "org_id")?,
                    month: Month::parse(&month).ok_or_else(|| corrupt("invoice month"))?,
                    seq: get(row, "seq")?,
                    number: get(row, "number")?,
                    currency: get(row, "currency")?,
                    status: get(row, "status")?,
                    subtotal: get(row, "subtotal")?,
                    total: get(row, "total")?,
                    lines: serde_json::from_str::<Vec<InvoiceLine>>(&lines)
                        .map_err(|_| corrupt("invoice lines"))?,
                    bill_to: bill_to
                        .map(|b| serde_json::from_str::<BillTo>(&b))
                        .transpose()
                        .map_err(|_| corrupt("invoice bill_to"))?,
                    issued_at: get(row, "issued_at")?,
                })
            }

            #[async_trait::async_trait]
            impl BillingTx for $tx {
                async fn current_plan(
                    &mut self,
                    project: ProjectId,
                ) -> StoreResult<Option<PlanPeriod>> {
                    let sql = format!(
                        "SELECT {PERIOD_COLS} FROM plan_periods \
                         WHERE project_id = $1 AND valid_to IS NULL"
                    );
                    sqlx::query(&sql)
                        .bind(project.0)
                        .fetch_optional(&mut *self.conn)
                        .await
                        .map_err(db_err)?
                        .map(|r| period_from(&r))
                        .transpose()
                }

                async fn open_plan_period(
                    &mut self,
                    org: OrgId,
                    p: &PlanPeriod,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO plan_periods (id, org_id, project_id, project_name, tier, \
                         storage_gb, environments, licenses, monthly_price, valid_from, valid_to, \
                         ended_by_delete) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(Uuid::now_v7())
                    .bind(org.0)
                    .bind(p.project)
                    .bind(&p.project_name)
                    .bind(&p.plan.tier)
                    .bind(p.plan.storage_gb)
                    .bind(p.plan.environments)
                    .bind(p.plan.licenses)
                    .bind(p.monthly_price)
                    .bind(p.from)
                    .bind(p.to)
                    .bind(p.ended_by_delete)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn close_plan_period(
                    &mut self,
                    project: ProjectId,
                    at: DateTime<Utc>,
                    by_delete: bool,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE plan_periods SET valid_to = $2, ended_by_delete = $3 \
                         WHERE project_id = $1 AND valid_to IS NULL",
                    )
                    .bind(project.0)
                    .bind(at)
                    .bind(by_delete)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn rename_plan_project(
                    &mut self,
                    project: ProjectId,
                    name: &str,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE plan_periods SET project_name = $2 \
                         WHERE project_id = $1 AND valid_to IS NULL",
                    )
                    .bind(project.0)
                    .bind(name)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn plan_periods_in(
                    &mut self,
                    org: OrgId,
                    start: DateTime<Utc>,
                    end: DateTime<Utc>,
                ) -> StoreResult<Vec<PlanPeriod>> {
                    let sql = format!(
                        "SELECT {PERIOD_COLS} FROM plan_periods WHERE org_id = $1 \
                         AND valid_from < $3 AND (valid_to IS NULL OR valid_to >= $2) \
                         ORDER BY project_id, valid_from"
                    );
                    sqlx::query(&sql)
                        .bind(org.0)
                        .bind(start)
                        .bind(end)
                        .fetch_all(&mut *self.conn)
                        .await
                        .map_err(db_err)?
                        .iter()
                        .map(period_from)
                        .collect()
                }

                async fn orgs_to_invoice(
                    &mut self,
                    month: &str,
                    start: DateTime<Utc>,
                    end: DateTime<Utc>,
                    after: Option<OrgId>,
                    limit: u32,
                ) -> StoreResult<Vec<OrgId>> {
                    let rows = sqlx::query(
                        "SELECT DISTINCT p.org_id FROM plan_periods p \
                         WHERE p.valid_from < $2 AND (p.valid_to IS NULL OR p.valid_to >= $1) \
                         AND ($3 IS NULL OR p.org_id > $3) \
                         AND NOT EXISTS (SELECT 1 FROM invoices i \
                                         WHERE i.org_id = p.org_id AND i.month = $4) \
                         ORDER BY p.org_id LIMIT $5",
                    )
                    .bind(start)
                    .bind(end)
                    .bind(after.map(|o| o.0))
                    .bind(month)
                    .bind(i64::from(limit))
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    rows.iter().map(|r| Ok(OrgId(get(r, "org_id")?))).collect()
                }

                async fn count_orgs_to_invoice(
                    &mut self,
                    month: &str,
                    start: DateTime<Utc>,
                    end: DateTime<Utc>,
                ) -> StoreResult<u64> {
                    let row = sqlx::query(
                        "SELECT COUNT(DISTINCT p.org_id) AS n FROM plan_periods p \
                         WHERE p.valid_from < $2 AND (p.valid_to IS NULL OR p.valid_to >= $1) \
                         AND NOT EXISTS (SELECT 1 FROM invoices i \
                                         WHERE i.org_id = p.org_id AND i.month = $3)",
                    )
                    .bind(start)
                    .bind(end)
                    .bind(month)
                    .fetch_one(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    let n: i64 = get(&row, "n")?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }

                async fn billing_profile(
                    &mut self,
                    org: OrgId,
                ) -> StoreResult<Option<BillingProfile>> {
                    let row = sqlx::query("SELECT profile FROM billing_profiles WHERE org_id = $1")
                        .bind(org.0)
                        .fetch_optional(&mut *self.conn)
                        .await
                        .map_err(db_err)?;
                    row.map(|r| {
                        let text: String = get(&r, "profile")?;
                        serde_json::from_str(&text).map_err(|_| corrupt("billing profile"))
                    })
                    .transpose()
                }

                async fn put_billing_profile(
                    &mut self,
                    org: OrgId,
                    profile: &BillingProfile,
                    now: DateTime<Utc>,
                ) -> StoreResult<()> {
                    let text = serde_json::to_string(profile)
                        .map_err(|_| corrupt("billing profile"))?;
                    sqlx::query(
                        "INSERT INTO billing_profiles (org_id, profile, updated_at) \
                         VALUES ($1, $2, $3) ON CONFLICT (org_id) DO UPDATE \
                         SET profile = excluded.profile, updated_at = excluded.updated_at",
                    )
                    .bind(org.0)
                    .bind(text)
                    .bind(now)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn voucher(&mut self, code: &str) -> StoreResult<Option<Voucher>> {
                    sqlx::query(
                        "SELECT code, kind, value, org_id, expires_on, max_uses, uses \
                         FROM vouchers WHERE code = $1",
                    )
                    .bind(code)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?
                    .map(|r| voucher_from(&r))
                    .transpose()
                }

                async fn insert_voucher(
                    &mut self,
                    v: &Voucher,
                    now: DateTime<Utc>,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO vouchers (code, kind, value, org_id, expires_on, max_uses, \
                         uses, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7)",
                    )
                    .bind(&v.code)
                    .bind(v.value.kind())
                    .bind(v.value.value())
                    .bind(v.org)
                    .bind(v.expires_on.format("%Y-%m-%d").to_string())
                    .bind(v.max_uses)
                    .bind(now)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn use_voucher(&mut self, code: &str) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE vouchers SET uses = uses + 1 WHERE code = $1 AND uses < max_uses",
                    )
                    .bind(code)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn redeemed(&mut self, code: &str, org: OrgId) -> StoreResult<bool> {
                    let row = sqlx::query(
                        "SELECT 1 AS one FROM voucher_redemptions WHERE code = $1 AND org_id = $2",
                    )
                    .bind(code)
                    .bind(org.0)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    Ok(row.is_some())
                }

                async fn insert_redemption(
                    &mut self,
                    code: &str,
                    org: OrgId,
                    now: DateTime<Utc>,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO voucher_redemptions (code, org_id, redeemed_at) \
                         VALUES ($1, $2, $3)",
                    )
                    .bind(code)
                    .bind(org.0)
                    .bind(now)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn pending_redemptions(&mut self, org: OrgId) -> StoreResult<Vec<Redemption>> {
                    let rows = sqlx::query(
                        "SELECT r.code, r.redeemed_at, r.invoice_id, v.kind, v.value \
                         FROM voucher_redemptions r JOIN vouchers v ON v.code = r.code \
                         WHERE r.org_id = $1 AND r.invoice_id IS NULL \
                         ORDER BY r.redeemed_at, r.code",
                    )
                    .bind(org.0)
                    .fetch_all(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    rows.iter()
                        .map(|r| {
                            let kind: String = get(r, "kind")?;
                            Ok(Redemption {
                                code: get(r, "code")?,
                                value: VoucherValue::from_parts(&kind, get(r, "value")?)
                                    .ok_or_else(|| corrupt("voucher kind"))?,
                                redeemed_at: get(r, "redeemed_at")?,
                                invoice: get(r, "invoice_id")?,
                            })
                        })
                        .collect()
                }

                async fn apply_redemptions(
                    &mut self,
                    org: OrgId,
                    codes: &[String],
                    invoice: Uuid,
                ) -> StoreResult<()> {
                    for code in codes {
                        sqlx::query(
                            "UPDATE voucher_redemptions SET invoice_id = $3 \
                             WHERE org_id = $1 AND code = $2 AND invoice_id IS NULL",
                        )
                        .bind(org.0)
                        .bind(code)
                        .bind(invoice)
                        .execute(&mut *self.conn)
                        .await
                        .map_err(db_err)?;
                    }
                    Ok(())
                }

                async fn invoice_exists(&mut self, org: OrgId, month: &str) -> StoreResult<bool> {
                    let row = sqlx::query(
                        "SELECT 1 AS one FROM invoices WHERE org_id = $1 AND month = $2",
                    )
                    .bind(org.0)
                    .bind(month)
                    .fetch_optional(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    Ok(row.is_some())
                }

                async fn next_invoice_seq(&mut self) -> StoreResult<i64> {
                    let row = sqlx::query(
                        "UPDATE invoice_counter SET last = last + 1 WHERE id = 1 RETURNING last",
                    )
                    .fetch_one(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    get(&row, "last")
                }

                async fn insert_invoice(&mut self, inv: &Invoice) -> StoreResult<()> {
                    let lines = serde_json::to_string(&inv.lines)
                        .map_err(|_| corrupt("invoice lines"))?;
                    let bill_to = inv
                        .bill_to
                        .as_ref()
                        .map(serde_json::to_string)
                        .transpose()
                        .map_err(|_| corrupt("invoice bill_to"))?;
                    sqlx::query(
                        "INSERT INTO invoices (id, org_id, month, seq, number, currency, status, \
                         subtotal, total, lines, bill_to, issued_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    )
                    .bind(inv.id)
                    .bind(inv.org)
                    .bind(inv.month.to_string())
                    .bind(inv.seq)
                    .bind(&inv.number)
                    .bind(&inv.currency)
                    .bind(&inv.status)
                    .bind(inv.subtotal)
                    .bind(inv.total)
                    .bind(lines)
                    .bind(bill_to)
                    .bind(inv.issued_at)
                    .execute(&mut *self.conn)
                    .await
                    .map_err(db_err)?;
                    Ok(())
                }

                async fn invoice(&mut self, org: OrgId, id: Uuid) -> StoreResult<Option<Invoice>> {
                    let sql =
                        format!("SELECT {INVOICE_COLS} FROM invoices WHERE org_id = $1 AND id = $2");
                    sqlx::query(&sql)
                        .bind(org.0)
                        .bind(id)
                        .fetch_optional(&mut *self.conn)
                        .await
                        .map_err(db_err)?
                        .map(|r| invoice_from(&r))
                        .transpose()
                }

                async fn invoices(
                    &mut self,
                    org: OrgId,
                    after: Option<(&str, Uuid)>,
                    limit: u32,
                ) -> StoreResult<Vec<Invoice>> {
                    let sql = format!(
                        "SELECT {INVOICE_COLS} FROM invoices WHERE org_id = $1 \
                         AND ($2 IS NULL OR (month, id) < ($2, $3)) \
                         ORDER BY month DESC, id DESC LIMIT $4"
                    );
                    sqlx::query(&sql)
                        .bind(org.0)
                        .bind(after.map(|a| a.0.to_owned()))
                        .bind(after.map(|a| a.1))
                        .bind(i64::from(limit))
                        .fetch_all(&mut *self.conn)
                        .await
                        .map_err(db_err)?
                        .iter()
                        .map(invoice_from)
                        .collect()
                }
            }
        }
    };
}

pub(super) use impl_billing_tx;
