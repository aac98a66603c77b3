//! Plans and billing: plan periods, billing profiles, vouchers and their redemptions, invoices
//! and the invoice counter (`store::billing::BillingTx`, implemented here for both backends).

use super::{Backend, Row, SqlTx, query, read_count};
use crate::domain::billing::{
    BillTo, BillingProfile, Invoice, InvoiceLine, Month, PlanPeriod, PlanSpec, Redemption, Voucher,
    VoucherValue,
};
use crate::domain::ids::{OrgId, ProjectId};
use crate::store::billing::BillingTx;
use crate::store::{StoreError, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

/// A plan period's columns, as [`period_from`] reads them.
const PERIOD_COLS: &str = "project_id, project_name, tier, storage_gb, environments, licenses, \
                           monthly_price, valid_from, valid_to, ended_by_delete";

fn period_from<DB: Backend>(row: &Row<DB>) -> StoreResult<PlanPeriod> {
    Ok(PlanPeriod {
        project: row.get("project_id")?,
        project_name: row.get("project_name")?,
        plan: PlanSpec {
            tier: row.get("tier")?,
            storage_gb: row.get("storage_gb")?,
            environments: row.get("environments")?,
            licenses: row.get("licenses")?,
        },
        monthly_price: row.get("monthly_price")?,
        from: row.get("valid_from")?,
        to: row.get("valid_to")?,
        ended_by_delete: row.get("ended_by_delete")?,
    })
}

/// A voucher's columns, as [`voucher_from`] reads them.
const VOUCHER_COLS: &str = "code, kind, value, org_id, expires_on, max_uses, uses";

fn voucher_from<DB: Backend>(row: &Row<DB>) -> StoreResult<Voucher> {
    let kind: String = row.get("kind")?;
    let expires: String = row.get("expires_on")?;
    Ok(Voucher {
        code: row.get("code")?,
        value: VoucherValue::from_parts(&kind, row.get("value")?)
            .ok_or_else(|| corrupt("voucher kind"))?,
        expires_on: NaiveDate::parse_from_str(&expires, "%Y-%m-%d")
            .map_err(|_| corrupt("voucher expiry"))?,
        max_uses: row.get("max_uses")?,
        uses: row.get("uses")?,
        org: row.get("org_id")?,
    })
}

/// An invoice's columns, as [`invoice_from`] reads them.
const INVOICE_COLS: &str = "id, org_id, month, seq, number, currency, status, subtotal, total, lines, bill_to, issued_at, \
     seller, tax, due_on, status_changed_at";

/// An optional JSON column, read back.
fn json_col<T: serde::de::DeserializeOwned>(
    raw: Option<String>,
    what: &str,
) -> StoreResult<Option<T>> {
    raw.map(|b| serde_json::from_str::<T>(&b))
        .transpose()
        .map_err(|_| corrupt(what))
}

/// An optional value as a JSON column.
fn to_json_col<T: serde::Serialize>(v: Option<&T>, what: &str) -> StoreResult<Option<String>> {
    v.map(serde_json::to_string)
        .transpose()
        .map_err(|_| corrupt(what))
}

fn invoice_from<DB: Backend>(row: &Row<DB>) -> StoreResult<Invoice> {
    let month: String = row.get("month")?;
    let lines: String = row.get("lines")?;
    let bill_to: Option<String> = row.get("bill_to")?;
    Ok(Invoice {
        id: row.get("id")?,
        org: row.get("org_id")?,
        month: Month::parse(&month).ok_or_else(|| corrupt("invoice month"))?,
        seq: row.get("seq")?,
        number: row.get("number")?,
        currency: row.get("currency")?,
        status: row.get("status")?,
        subtotal: row.get("subtotal")?,
        total: row.get("total")?,
        lines: serde_json::from_str::<Vec<InvoiceLine>>(&lines)
            .map_err(|_| corrupt("invoice lines"))?,
        bill_to: bill_to
            .map(|b| serde_json::from_str::<BillTo>(&b))
            .transpose()
            .map_err(|_| corrupt("invoice bill_to"))?,
        issued_at: row.get("issued_at")?,
        seller: json_col(row.get("seller")?, "invoice seller")?,
        tax: json_col(row.get("tax")?, "invoice tax")?,
        due_on: row
            .get::<Option<String>>("due_on")?
            .map(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d"))
            .transpose()
            .map_err(|_| corrupt("invoice due date"))?,
        status_changed_at: row.get("status_changed_at")?,
    })
}

#[async_trait::async_trait]
impl<DB: Backend> BillingTx for SqlTx<DB> {
    async fn current_plan(&mut self, project: ProjectId) -> StoreResult<Option<PlanPeriod>> {
        let sql = format!(
            "SELECT {PERIOD_COLS} FROM plan_periods WHERE project_id = $1 AND valid_to IS NULL"
        );
        query(&sql)
            .bind(project.0)
            .map_optional(self, period_from)
            .await
    }

    async fn open_plan_period(&mut self, org: OrgId, p: &PlanPeriod) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO plan_periods (id, org_id, {PERIOD_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        );
        query(&sql)
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
            .execute(self)
            .await?;
        Ok(())
    }

    async fn close_plan_period(
        &mut self,
        project: ProjectId,
        at: DateTime<Utc>,
        by_delete: bool,
    ) -> StoreResult<()> {
        query(
            "UPDATE plan_periods SET valid_to = $2, ended_by_delete = $3 \
             WHERE project_id = $1 AND valid_to IS NULL",
        )
        .bind(project.0)
        .bind(at)
        .bind(by_delete)
        .execute(self)
        .await?;
        Ok(())
    }

    async fn rename_plan_project(&mut self, project: ProjectId, name: &str) -> StoreResult<()> {
        query(
            "UPDATE plan_periods SET project_name = $2 WHERE project_id = $1 AND valid_to IS NULL",
        )
        .bind(project.0)
        .bind(name)
        .execute(self)
        .await?;
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
        query(&sql)
            .bind(org.0)
            .bind(start)
            .bind(end)
            .map_all(self, period_from)
            .await
    }

    async fn orgs_to_invoice(
        &mut self,
        month: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        after: Option<OrgId>,
        limit: u32,
    ) -> StoreResult<Vec<OrgId>> {
        query(
            "SELECT DISTINCT p.org_id FROM plan_periods p \
             WHERE p.valid_from < $2 AND (p.valid_to IS NULL OR p.valid_to >= $1) \
             AND ($3 IS NULL OR p.org_id > $3) \
             AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.org_id = p.org_id AND i.month = $4) \
             ORDER BY p.org_id LIMIT $5",
        )
        .bind(start)
        .bind(end)
        .bind(after.map(|o| o.0))
        .bind(month)
        .bind(i64::from(limit))
        .map_all(self, |r| Ok(OrgId(r.get("org_id")?)))
        .await
    }

    async fn count_orgs_to_invoice(
        &mut self,
        month: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let row = query(
            "SELECT COUNT(DISTINCT p.org_id) AS n FROM plan_periods p \
             WHERE p.valid_from < $2 AND (p.valid_to IS NULL OR p.valid_to >= $1) \
             AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.org_id = p.org_id AND i.month = $3)",
        )
        .bind(start)
        .bind(end)
        .bind(month)
        .fetch_one(self)
        .await?;
        read_count(&row)
    }

    async fn count_invoices(&mut self, month: &str) -> StoreResult<u64> {
        let row = query("SELECT COUNT(*) AS n FROM invoices WHERE month = $1")
            .bind(month)
            .fetch_one(self)
            .await?;
        read_count(&row)
    }

    async fn billing_profile(&mut self, org: OrgId) -> StoreResult<Option<BillingProfile>> {
        query("SELECT profile FROM billing_profiles WHERE org_id = $1")
            .bind(org.0)
            .map_optional(self, |r| {
                let text: String = r.get("profile")?;
                serde_json::from_str(&text).map_err(|_| corrupt("billing profile"))
            })
            .await
    }

    async fn put_billing_profile(
        &mut self,
        org: OrgId,
        profile: &BillingProfile,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let text = serde_json::to_string(profile).map_err(|_| corrupt("billing profile"))?;
        query(
            "INSERT INTO billing_profiles (org_id, profile, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id) DO UPDATE \
             SET profile = excluded.profile, updated_at = excluded.updated_at",
        )
        .bind(org.0)
        .bind(text)
        .bind(now)
        .execute(self)
        .await?;
        Ok(())
    }

    async fn voucher(&mut self, code: &str) -> StoreResult<Option<Voucher>> {
        let sql = format!("SELECT {VOUCHER_COLS} FROM vouchers WHERE code = $1");
        query(&sql)
            .bind(code)
            .map_optional(self, voucher_from)
            .await
    }

    async fn vouchers(&mut self, after: Option<&str>, limit: u32) -> StoreResult<Vec<Voucher>> {
        let sql = format!(
            "SELECT {VOUCHER_COLS} FROM vouchers WHERE ($1 IS NULL OR code > $1) \
             ORDER BY code LIMIT $2"
        );
        query(&sql)
            .bind(after)
            .bind(i64::from(limit))
            .map_all(self, voucher_from)
            .await
    }

    async fn insert_voucher(&mut self, v: &Voucher, now: DateTime<Utc>) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO vouchers ({VOUCHER_COLS}, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7)"
        );
        query(&sql)
            .bind(&v.code)
            .bind(v.value.kind())
            .bind(v.value.value())
            .bind(v.org)
            .bind(v.expires_on.format("%Y-%m-%d").to_string())
            .bind(v.max_uses)
            .bind(now)
            .execute(self)
            .await?;
        Ok(())
    }

    async fn use_voucher(&mut self, code: &str) -> StoreResult<bool> {
        let done = query("UPDATE vouchers SET uses = uses + 1 WHERE code = $1 AND uses < max_uses")
            .bind(code)
            .execute(self)
            .await?;
        Ok(done == 1)
    }

    async fn redeemed(&mut self, code: &str, org: OrgId) -> StoreResult<bool> {
        let row = query("SELECT 1 AS one FROM voucher_redemptions WHERE code = $1 AND org_id = $2")
            .bind(code)
            .bind(org.0)
            .fetch_optional(self)
            .await?;
        Ok(row.is_some())
    }

    async fn insert_redemption(
        &mut self,
        code: &str,
        org: OrgId,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        query("INSERT INTO voucher_redemptions (code, org_id, redeemed_at) VALUES ($1, $2, $3)")
            .bind(code)
            .bind(org.0)
            .bind(now)
            .execute(self)
            .await?;
        Ok(())
    }

    async fn pending_redemptions(&mut self, org: OrgId) -> StoreResult<Vec<Redemption>> {
        query(
            "SELECT r.code, r.redeemed_at, r.invoice_id, v.kind, v.value \
             FROM voucher_redemptions r JOIN vouchers v ON v.code = r.code \
             WHERE r.org_id = $1 AND r.invoice_id IS NULL \
             ORDER BY r.redeemed_at, r.code",
        )
        .bind(org.0)
        .map_all(self, |r| {
            let kind: String = r.get("kind")?;
            Ok(Redemption {
                code: r.get("code")?,
                value: VoucherValue::from_parts(&kind, r.get("value")?)
                    .ok_or_else(|| corrupt("voucher kind"))?,
                redeemed_at: r.get("redeemed_at")?,
                invoice: r.get("invoice_id")?,
            })
        })
        .await
    }

    async fn apply_redemptions(
        &mut self,
        org: OrgId,
        codes: &[String],
        invoice: Uuid,
    ) -> StoreResult<()> {
        for code in codes {
            query(
                "UPDATE voucher_redemptions SET invoice_id = $3 \
                 WHERE org_id = $1 AND code = $2 AND invoice_id IS NULL",
            )
            .bind(org.0)
            .bind(code)
            .bind(invoice)
            .execute(self)
            .await?;
        }
        Ok(())
    }

    async fn invoice_exists(&mut self, org: OrgId, month: &str) -> StoreResult<bool> {
        let row = query("SELECT 1 AS one FROM invoices WHERE org_id = $1 AND month = $2")
            .bind(org.0)
            .bind(month)
            .fetch_optional(self)
            .await?;
        Ok(row.is_some())
    }

    async fn next_invoice_seq(&mut self) -> StoreResult<i64> {
        let row = query("UPDATE invoice_counter SET last = last + 1 WHERE id = 1 RETURNING last")
            .fetch_one(self)
            .await?;
        row.get("last")
    }

    async fn insert_invoice(&mut self, inv: &Invoice) -> StoreResult<()> {
        let lines = serde_json::to_string(&inv.lines).map_err(|_| corrupt("invoice lines"))?;
        let bill_to = inv
            .bill_to
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|_| corrupt("invoice bill_to"))?;
        let sql = format!(
            "INSERT INTO invoices ({INVOICE_COLS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        );
        query(&sql)
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
            .bind(to_json_col(inv.seller.as_ref(), "invoice seller")?)
            .bind(to_json_col(inv.tax.as_ref(), "invoice tax")?)
            .bind(inv.due_on.map(|d| d.format("%Y-%m-%d").to_string()))
            .bind(inv.status_changed_at)
            .execute(self)
            .await?;
        Ok(())
    }

    async fn invoice(&mut self, org: OrgId, id: Uuid) -> StoreResult<Option<Invoice>> {
        let sql = format!("SELECT {INVOICE_COLS} FROM invoices WHERE org_id = $1 AND id = $2");
        query(&sql)
            .bind(org.0)
            .bind(id)
            .map_optional(self, invoice_from)
            .await
    }

    async fn invoice_by_id_or_number(&mut self, key: &str) -> StoreResult<Option<Invoice>> {
        let sql = format!("SELECT {INVOICE_COLS} FROM invoices WHERE number = $1 OR id = $2");
        let id = Uuid::parse_str(key).unwrap_or(Uuid::nil());
        query(&sql)
            .bind(key.to_owned())
            .bind(id)
            .map_optional(self, invoice_from)
            .await
    }

    async fn set_invoice_status(
        &mut self,
        id: Uuid,
        from: &str,
        to: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = query(
            "UPDATE invoices SET status = $3, status_changed_at = $4 \
             WHERE id = $1 AND status = $2",
        )
        .bind(id)
        .bind(from.to_owned())
        .bind(to.to_owned())
        .bind(at)
        .execute(self)
        .await?;
        Ok(done > 0)
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
        query(&sql)
            .bind(org.0)
            .bind(after.map(|a| a.0.to_owned()))
            .bind(after.map(|a| a.1))
            .bind(i64::from(limit))
            .map_all(self, invoice_from)
            .await
    }
}
