//! Plans and billing in the store: plan periods, billing profiles, vouchers and their
//! redemptions, invoices and the invoice counter. A supertrait of `Tx`, so every transaction
//! can write a plan change together with the rest of its use case. Its SQL, shared by both
//! backends, is in `sql/billing.rs`.

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

    /// How many invoices there are for `month`.
    async fn count_invoices(&mut self, month: &str) -> StoreResult<u64>;

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
    /// Up to `limit` vouchers by code, after `after`.
    async fn vouchers(&mut self, after: Option<&str>, limit: u32) -> StoreResult<Vec<Voucher>>;
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
    /// Any organization's invoice, by its number (`INV-000001`) or id (operator command and
    /// service route).
    async fn invoice_by_id_or_number(&mut self, key: &str) -> StoreResult<Option<Invoice>>;
    /// Sets an invoice's status to `to` if it is still `from`; false when it no longer was (a
    /// concurrent change won).
    async fn set_invoice_status(
        &mut self,
        id: uuid::Uuid,
        from: &str,
        to: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<bool>;
    /// A page of `org`'s invoices, newest month first, after (month, id).
    async fn invoices(
        &mut self,
        org: OrgId,
        after: Option<(&str, uuid::Uuid)>,
        limit: u32,
    ) -> StoreResult<Vec<Invoice>>;
}
