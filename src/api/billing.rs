//! Plans and billing on the wire: `/orgs/{org}/projects/{project}/plan` and
//! `/orgs/{org}/billing…` (R8). Request bodies here pass through `BillingJson`, which refuses
//! anything that looks like a full card number before the body is even typed.

use super::AppState;
use super::cursor::{decode_after, encode_after};
use super::dto::{Page, PageQuery};
use super::extract::{AppJson, AppPath, AppQuery, Auth, path_id};
use super::openapi::{Conflict, Forbidden, NotFound, Unprocessable};
use super::problem::ApiError;
use crate::domain::DomainError;
use crate::domain::billing::{
    Address, BillTo, BillingProfile, Invoice, InvoiceDraft, InvoiceLine, PaymentMethod, Redemption,
    VoucherValue, find_card_number,
};
use crate::service::billing::{self, PlanView};
use crate::service::{OrgRef, page_size};
use axum::Json;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A JSON body that holds no full card number anywhere (keys, strings, numbers): the whole
/// document is walked before it is typed, and a hit is refused with 422 `card_number_refused`
/// naming where it was, never what it was. Nothing is stored and the body is never logged.
pub struct BillingJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for BillingJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let AppJson(value) = AppJson::<serde_json::Value>::from_request(req, state).await?;
        if let Some(path) = find_card_number(&value) {
            return Err(DomainError::CardNumberRefused(path).into());
        }
        serde_path_to_error::deserialize(value)
            .map(BillingJson)
            .map_err(|e| {
                super::extract::body_does_not_fit(&e.path().to_string(), &e.inner().to_string())
            })
    }
}

/// A project's plan. `monthly_price` and `currency` appear only for callers holding
/// `billing.read` (R8).
#[derive(Serialize, utoipa::ToSchema)]
pub struct PlanDto {
    /// The tier.
    pub tier: String,
    /// Storage, GB.
    pub storage_gb: i64,
    /// Development environments.
    pub environments: i64,
    /// User licenses.
    pub licenses: i64,
    /// Since when the project has had this plan.
    pub since: DateTime<Utc>,
    /// The plan's monthly price in minor units (only with `billing.read`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_price: Option<i64>,
    /// The price's currency (only with `billing.read`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

impl PlanDto {
    fn new(v: PlanView, currency: &str) -> Self {
        PlanDto {
            tier: v.period.plan.tier,
            storage_gb: v.period.plan.storage_gb,
            environments: v.period.plan.environments,
            licenses: v.period.plan.licenses,
            since: v.period.from,
            monthly_price: v.show_prices.then_some(v.period.monthly_price),
            currency: v.show_prices.then(|| currency.to_owned()),
        }
    }
}

/// `PUT …/plan`: the tier and, optionally, the amounts (left out: the tier's included ones).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// A tier of the catalog, e.g. `pro`.
    pub tier: String,
    /// Storage, GB (0 up to the tier's limit).
    pub storage_gb: Option<i64>,
    /// Development environments (0 up to the tier's limit).
    pub environments: Option<i64>,
    /// User licenses (0 up to the tier's limit).
    pub licenses: Option<i64>,
}

/// A voucher the organization redeemed and no invoice used yet.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VoucherDto {
    /// The code.
    pub code: String,
    /// `amount` or `percent`.
    pub kind: &'static str,
    /// For `amount`: minor units off the next invoice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    /// For `percent`: the share of the next invoice's subtotal taken off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent: Option<i64>,
    /// When it was redeemed.
    pub redeemed_at: DateTime<Utc>,
}

impl From<&Redemption> for VoucherDto {
    fn from(r: &Redemption) -> Self {
        VoucherDto {
            code: r.code.clone(),
            kind: r.value.kind(),
            amount: match r.value {
                VoucherValue::Amount(a) => Some(a),
                VoucherValue::Percent(_) => None,
            },
            percent: match r.value {
                VoucherValue::Percent(p) => Some(p),
                VoucherValue::Amount(_) => None,
            },
            redeemed_at: r.redeemed_at,
        }
    }
}

/// The billing profile (fields are `null` until one is saved) and the vouchers waiting for the
/// next invoice.
#[derive(Serialize, utoipa::ToSchema)]
pub struct BillingDto {
    /// The name invoices are made out to.
    pub name: Option<String>,
    /// The billing address.
    #[schema(value_type = Option<super::schema::Address>)]
    pub address: Option<Address>,
    /// The EU VAT number.
    pub vat_number: Option<String>,
    /// The currency invoices are in.
    pub currency: String,
    /// Brand, last four digits and expiry only.
    #[schema(value_type = Option<super::schema::PaymentMethod>)]
    pub payment_method: Option<PaymentMethod>,
    /// Redeemed vouchers not yet applied to an invoice.
    pub vouchers: Vec<VoucherDto>,
}

impl BillingDto {
    fn new(profile: Option<BillingProfile>, vouchers: &[Redemption], currency: &str) -> Self {
        let vouchers = vouchers.iter().map(VoucherDto::from).collect();
        match profile {
            Some(p) => BillingDto {
                name: Some(p.name),
                address: Some(p.address),
                vat_number: p.vat_number,
                currency: p.currency,
                payment_method: p.payment_method,
                vouchers,
            },
            None => BillingDto {
                name: None,
                address: None,
                vat_number: None,
                currency: currency.to_owned(),
                payment_method: None,
                vouchers,
            },
        }
    }
}

/// `POST …/billing/vouchers`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RedeemRequest {
    /// The voucher code (case does not matter).
    pub code: String,
}

/// An invoice. Amounts are integer minor units of `currency`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InvoiceDto {
    /// Its id.
    pub id: uuid::Uuid,
    /// Its number, `INV-000001`: gap-free per server.
    pub number: String,
    /// The month billed, `YYYY-MM`.
    pub month: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// `open`, `paid` or `void`.
    pub status: String,
    /// Plan lines (prorated by day), then voucher lines (negative).
    #[schema(value_type = Vec<super::schema::InvoiceLine>)]
    pub lines: Vec<InvoiceLine>,
    /// Sum of the plan lines.
    pub subtotal: i64,
    /// What is due, never below zero.
    pub total: i64,
    /// Whom it is made out to (the billing profile when it was produced).
    #[schema(value_type = Option<super::schema::BillTo>)]
    pub bill_to: Option<BillTo>,
    /// When it was produced: the invoice date.
    pub issued_at: DateTime<Utc>,
    /// When it falls due (`null` for invoices produced before due dates were kept).
    pub due_on: Option<NaiveDate>,
    /// Who issued it (`null` when no seller was configured then).
    pub seller: Option<SellerDto>,
    /// Its VAT (`null` for invoices produced before taxes were kept: no VAT).
    pub tax: Option<TaxDto>,
    /// When `status` last changed (to `paid` or `void`); `null` while `open`.
    pub status_changed_at: Option<DateTime<Utc>>,
}

/// Who issued an invoice: the server's configured seller when it was produced.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SellerDto {
    /// The seller's legal name.
    pub name: String,
    /// The postal address, a printed line each.
    pub address: Vec<String>,
    /// The seller's EU VAT number.
    pub vat_number: Option<String>,
}

/// An invoice's VAT.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TaxDto {
    /// The rate applied, in percent, as a decimal string (`"20"`, `"5.5"`; `"0"` under the
    /// reverse charge).
    pub rate_percent: String,
    /// The VAT in minor units, included in `total`.
    pub amount: i64,
    /// Whether the EU reverse charge applies: VAT 0, to be accounted for by the recipient.
    pub reverse_charge: bool,
    /// What is owed before VAT: the subtotal less the vouchers.
    pub net: i64,
}

impl From<Invoice> for InvoiceDto {
    fn from(i: Invoice) -> Self {
        InvoiceDto {
            id: i.id,
            number: i.number,
            month: i.month.to_string(),
            currency: i.currency,
            status: i.status,
            lines: i.lines,
            subtotal: i.subtotal,
            total: i.total,
            tax: i.tax.map(|t| TaxDto {
                rate_percent: crate::domain::invoicing::format_rate(t.rate_bp),
                amount: t.amount,
                reverse_charge: t.reverse_charge,
                net: i.total - t.amount,
            }),
            bill_to: i.bill_to,
            issued_at: i.issued_at,
            due_on: i.due_on,
            seller: i.seller.map(|s| SellerDto {
                name: s.name,
                address: s.address,
                vat_number: s.vat_number,
            }),
            status_changed_at: i.status_changed_at,
        }
    }
}

/// An amount of an invoice not yet produced: its lines and sums, in minor units.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DraftDto {
    /// Plan lines (prorated by day), then voucher lines (negative).
    #[schema(value_type = Vec<super::schema::InvoiceLine>)]
    pub lines: Vec<InvoiceLine>,
    /// Sum of the plan lines.
    pub subtotal: i64,
    /// What would be due, never below zero.
    pub total: i64,
}

impl From<InvoiceDraft> for DraftDto {
    fn from(d: InvoiceDraft) -> Self {
        DraftDto {
            lines: d.lines,
            subtotal: d.subtotal,
            total: d.total,
        }
    }
}

/// The current month's invoice as it stands: not numbered, not stored, changing as plans do.
#[derive(Serialize, utoipa::ToSchema)]
pub struct UpcomingDto {
    /// The month, `YYYY-MM`.
    pub month: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// The last day counted in `so_far` (today, UTC).
    pub through: NaiveDate,
    /// How many days the month has.
    pub days_in_month: i64,
    /// From the month's first day through `through`.
    pub so_far: DraftDto,
    /// The whole month, if every project keeps its current plan to the month's end.
    pub projected: DraftDto,
}

/// A tier of the plan catalog, with its currency.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TierDto {
    /// The tier's name, what `PUT …/plan` takes as `tier`.
    pub name: String,
    /// ISO 4217 currency of every price.
    pub currency: String,
    /// Whether new projects start on it.
    pub default: bool,
    /// Monthly price of the tier itself, in minor units.
    pub monthly_price: i64,
    /// Storage (GB), environments and licenses included in the monthly price.
    pub included: PlanAmounts,
    /// The most a project on this tier may have.
    pub limits: PlanAmounts,
    /// Monthly price, in minor units, of each GB, environment and license beyond the included.
    pub unit_prices: PlanAmounts,
}

/// Storage (GB), development environments and user licenses.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PlanAmounts {
    /// Storage, GB (for `unit_prices`: per GB).
    pub storage_gb: i64,
    /// Development environments.
    pub environments: i64,
    /// User licenses.
    pub licenses: i64,
}

/// The plan tiers with their prices and limits, cheapest first, for consoles and the CLI. Any
/// signed-in caller may read them.
#[utoipa::path(get, path = "/api/v1/plans", tag = "billing", security(("bearer" = [])),
    responses((status = 200, body = Page<TierDto>)))]
pub async fn list_plans(State(s): State<AppState>, Auth(_who): Auth) -> Json<Page<TierDto>> {
    let c = &s.gh.plans;
    let items = c
        .tiers
        .iter()
        .map(|t| TierDto {
            name: t.name.clone(),
            currency: c.currency.clone(),
            default: t.name == c.default_tier,
            monthly_price: t.monthly_price,
            included: PlanAmounts {
                storage_gb: t.included_storage_gb,
                environments: t.included_environments,
                licenses: t.included_licenses,
            },
            limits: PlanAmounts {
                storage_gb: t.max_storage_gb,
                environments: t.max_environments,
                licenses: t.max_licenses,
            },
            unit_prices: PlanAmounts {
                storage_gb: t.storage_gb_price,
                environments: t.environment_price,
                licenses: t.license_price,
            },
        })
        .collect();
    Json(Page {
        items,
        next_cursor: None,
    })
}

/// A project's plan: tier, storage, environments, licenses, since when; the price only with
/// `billing.read` (R8). Needs the project to be reachable (R11).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/projects/{project}/plan", tag = "billing", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("project" = String, Path, description = "id or name")),
    responses((status = 200, body = PlanDto), (status = 404, response = NotFound)))]
pub async fn get_plan(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, project)): AppPath<(String, String)>,
) -> Result<Json<PlanDto>, ApiError> {
    let v = billing::get_plan(&s.gh, &who, &OrgRef::parse(&org), &project).await?;
    Ok(Json(PlanDto::new(v, &s.gh.plans.currency)))
}

/// Change a project's plan (`plans.manage`): a tier of the catalog, with storage, environments
/// and licenses within the tier's limits (422 `plan_limit_exceeded` names the limit).
#[utoipa::path(put, path = "/api/v1/orgs/{org}/projects/{project}/plan", tag = "billing", security(("bearer" = [])), request_body = PlanRequest,
    params(("org" = String, Path, description = "id or slug"), ("project" = String, Path, description = "id or name")),
    responses((status = 200, body = PlanDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
pub async fn set_plan(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, project)): AppPath<(String, String)>,
    BillingJson(req): BillingJson<PlanRequest>,
) -> Result<Json<PlanDto>, ApiError> {
    let choice = billing::PlanChoice {
        tier: req.tier,
        storage_gb: req.storage_gb,
        environments: req.environments,
        licenses: req.licenses,
    };
    let v = billing::set_plan(&s.gh, &who, &OrgRef::parse(&org), &project, &choice).await?;
    Ok(Json(PlanDto::new(v, &s.gh.plans.currency)))
}

/// The billing profile and the redeemed vouchers waiting for the next invoice (`billing.read`;
/// a member without it gets 403, R8).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/billing", tag = "billing", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 200, body = BillingDto), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn get_billing(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
) -> Result<Json<BillingDto>, ApiError> {
    let (p, v) = billing::get_billing(&s.gh, &who, &OrgRef::parse(&org)).await?;
    Ok(Json(BillingDto::new(p, &v, &s.gh.plans.currency)))
}

/// Replace the billing profile (`billing.manage`): name, address, EU VAT number (format checked
/// per country, 422 `vat_invalid`), the catalog's currency (422 `currency_unsupported`
/// otherwise), and a payment method of brand, last four digits and expiry only. Anything that
/// looks like a full card number, anywhere in the body, is refused with 422
/// `card_number_refused`.
#[utoipa::path(put, path = "/api/v1/orgs/{org}/billing", tag = "billing", security(("bearer" = [])), request_body = super::schema::BillingProfile,
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 200, body = BillingDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 422, response = Unprocessable)))]
pub async fn put_billing(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    BillingJson(req): BillingJson<BillingProfile>,
) -> Result<Json<BillingDto>, ApiError> {
    let (p, v) = billing::put_billing(&s.gh, &who, &OrgRef::parse(&org), req).await?;
    Ok(Json(BillingDto::new(p, &v, &s.gh.plans.currency)))
}

/// Redeem a voucher code (`billing.manage`); it applies to the organization's next invoice.
/// Unknown, expired, used-up or another organization's codes: 422 `voucher_invalid`; a code
/// this organization already redeemed: 409 `voucher_already_redeemed`.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/billing/vouchers", tag = "billing", security(("bearer" = [])), request_body = RedeemRequest,
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 201, body = VoucherDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict), (status = 422, response = Unprocessable)))]
pub async fn redeem_voucher(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    BillingJson(req): BillingJson<RedeemRequest>,
) -> Result<(StatusCode, Json<VoucherDto>), ApiError> {
    let r = billing::redeem_voucher(&s.gh, &who, &OrgRef::parse(&org), &req.code).await?;
    Ok((StatusCode::CREATED, Json(VoucherDto::from(&r))))
}

/// The organization's invoices, newest month first (`billing.read`).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/billing/invoices", tag = "billing", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), PageQuery),
    responses((status = 200, body = Page<InvoiceDto>), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn list_invoices(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
    AppQuery(q): AppQuery<PageQuery>,
) -> Result<Json<Page<InvoiceDto>>, ApiError> {
    let limit = page_size(q.limit)?;
    let from = q.cursor.as_deref().map(decode_after).transpose()?;
    let page =
        billing::list_invoices(&s.gh, &who, &OrgRef::parse(&org), from.as_ref(), limit).await?;
    Ok(Json(Page {
        next_cursor: page.next.as_ref().map(encode_after),
        items: page.items.into_iter().map(InvoiceDto::from).collect(),
    }))
}

/// The current month's invoice as it stands (`billing.read`): the days so far (today included)
/// and the whole month projected from the current plans, with the vouchers waiting for it. Not
/// numbered and not stored: the monthly run produces the invoice once the month is over.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/billing/invoices/upcoming", tag = "billing", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug")),
    responses((status = 200, body = UpcomingDto), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn upcoming_invoice(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath(org): AppPath<String>,
) -> Result<Json<UpcomingDto>, ApiError> {
    let u = billing::upcoming_invoice(&s.gh, &who, &OrgRef::parse(&org)).await?;
    Ok(Json(UpcomingDto {
        month: u.month.to_string(),
        currency: s.gh.plans.currency.clone(),
        through: u.through,
        days_in_month: u.month.days(),
        so_far: u.so_far.into(),
        projected: u.projected.into(),
    }))
}

/// One invoice (`billing.read`).
#[utoipa::path(get, path = "/api/v1/orgs/{org}/billing/invoices/{id}", tag = "billing", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("id" = uuid::Uuid, Path, description = "invoice id")),
    responses((status = 200, body = InvoiceDto), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn get_invoice(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, id)): AppPath<(String, String)>,
) -> Result<Json<InvoiceDto>, ApiError> {
    let id = path_id(&id, "id")?;
    let (i, _) = billing::get_invoice(&s.gh, &who, &OrgRef::parse(&org), id).await?;
    Ok(Json(InvoiceDto::from(i)))
}

/// One invoice as a PDF (`billing.read`): its number, lines and total, as in the JSON.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/billing/invoices/{id}/pdf", tag = "billing", security(("bearer" = [])),
    params(("org" = String, Path, description = "id or slug"), ("id" = uuid::Uuid, Path, description = "invoice id")),
    responses((status = 200, description = "the invoice as a PDF", content_type = "application/pdf"), (status = 403, response = Forbidden), (status = 404, response = NotFound)))]
pub async fn invoice_pdf(
    State(s): State<AppState>,
    Auth(who): Auth,
    AppPath((org, id)): AppPath<(String, String)>,
) -> Result<Response, ApiError> {
    let id = path_id(&id, "id")?;
    let (i, org_name) = billing::get_invoice(&s.gh, &who, &OrgRef::parse(&org), id).await?;
    let bytes = crate::pdf::invoice_pdf(&i, &org_name, s.gh.invoicing.seller.as_ref());
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{}.pdf\"", i.number)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `POST /api/v1/invoices/{id}/status`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceStatusRequest {
    /// The new status.
    pub status: NewInvoiceStatus,
}

/// What an invoice may be marked: both are final.
#[derive(Deserialize, utoipa::ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum NewInvoiceStatus {
    /// Paid.
    Paid,
    /// Cancelled: nothing is owed.
    Void,
}

/// Mark an invoice `paid` or `void`: for the service token only (what a payment provider's
/// integration presents; any other credential gets 403 `service_token_required`). `{id}` is the
/// invoice's id or its number (`INV-000001`), of any organization. Both statuses are final: a
/// void invoice cannot be paid (409 `invoice_void`), a paid one cannot be voided (409
/// `invoice_paid`); marking an invoice what it already is changes nothing. The change is
/// recorded as `invoice.status_changed` in the organization's audit log.
#[utoipa::path(post, path = "/api/v1/invoices/{id}/status", tag = "billing", security(("bearer" = [])), request_body = InvoiceStatusRequest,
    params(("id" = String, Path, description = "invoice id or number")),
    responses((status = 200, body = InvoiceDto), (status = 403, response = Forbidden), (status = 404, response = NotFound), (status = 409, response = Conflict), (status = 422, response = Unprocessable)))]
pub async fn set_invoice_status(
    State(s): State<AppState>,
    _service: super::extract::ServiceCaller,
    AppPath(id): AppPath<String>,
    AppJson(req): AppJson<InvoiceStatusRequest>,
) -> Result<Json<InvoiceDto>, ApiError> {
    use crate::domain::invoicing::InvoiceStatus;
    let to = match req.status {
        NewInvoiceStatus::Paid => InvoiceStatus::Paid,
        NewInvoiceStatus::Void => InvoiceStatus::Void,
    };
    let i = billing::set_invoice_status(
        &*s.gh.store,
        &id,
        to,
        billing::StatusBy::Service,
        s.gh.clock.now(),
    )
    .await?;
    Ok(Json(InvoiceDto::from(i)))
}
