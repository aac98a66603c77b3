//! The OpenAPI schemas of the core's types that answers and requests carry as they are. The
//! core knows nothing of OpenAPI (it is kept free of utoipa), so each is described here, field
//! for field with its serde shape. A change to a core type must be made here too: the snapshot
//! test shows a change made here, and schemathesis (in the test command) fails on an answer
//! whose shape the document does not describe.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One line of an invoice.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct InvoiceLine {
    /// `plan` or `voucher`.
    pub kind: String,
    /// What the line is for, as printed on the PDF.
    pub description: String,
    /// The project, for a plan line.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub project: Option<uuid::Uuid>,
    /// The voucher code, for a voucher line.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub code: Option<String>,
    /// Days billed, for a plan line.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub days: Option<i64>,
    /// The amount in minor units; negative for a voucher.
    pub amount: i64,
}

/// A postal address.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// First line.
    pub line1: String,
    /// Second line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    /// Postal code.
    pub postal_code: String,
    /// City.
    pub city: String,
    /// Region or state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166 alpha-2 country code, e.g. `FR`.
    pub country: String,
}

/// A payment method: brand, last four digits and expiry only, never a full card number.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethod {
    /// The card brand, e.g. `visa`.
    pub brand: String,
    /// The last four digits.
    pub last4: String,
    /// Expiry month, 1 to 12.
    pub exp_month: u32,
    /// Expiry year, e.g. 2030.
    pub exp_year: i32,
}

/// An organization's billing profile.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BillingProfile {
    /// The name invoices are made out to.
    pub name: String,
    /// The billing address.
    pub address: Address,
    /// The EU VAT number, normalized (e.g. `DE123456789`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_number: Option<String>,
    /// ISO 4217 currency; must be the plan catalog's.
    pub currency: String,
    /// How the organization pays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<PaymentMethod>,
}

/// Whom an invoice is made out to: the billing profile's name, address and VAT number at the time
/// it was produced.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct BillTo {
    /// The billing name.
    pub name: String,
    /// The billing address.
    pub address: Address,
    /// The VAT number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_number: Option<String>,
}

/// Where a permission comes from.
#[derive(Serialize, ToSchema)]
pub struct Source {
    /// `role` for a built-in role, `custom_role` for one of the organization's own,
    /// `membership` for what every membership carries (`org.read`, with `role` `member`).
    pub kind: String,
    /// The role's name.
    pub role: String,
}

/// One permission a member holds, with every grant that gives it.
#[derive(Serialize, ToSchema)]
pub struct Grant {
    /// The permission's wire name.
    pub permission: String,
    /// The grants that give it.
    pub sources: Vec<Source>,
}

/// Where a project role comes from.
#[derive(Serialize, ToSchema)]
pub struct ProjectSource {
    /// `role` or `custom_role` (organization-wide reach), `group` or `direct`.
    pub kind: String,
    /// The role's or group's name; absent for a direct grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The project role this source gives.
    pub role: String,
}

/// A member's reach over every project of the organization at once, from their roles.
#[derive(Serialize, ToSchema)]
pub struct OrgWideReach {
    /// The strongest role it gives on every project.
    pub role: String,
    /// The roles it comes from.
    pub sources: Vec<ProjectSource>,
}
