//! `/orgs/{slug}/billing`: the billing profile and payment method, vouchers, this month so far
//! and the invoices with their PDFs. Without `billing.read` the page is the 404 page and no
//! link leads to it (R8); `billing.read` alone shows everything and offers no form.

use super::layout::{Shell, Tab, csrf, field, form_error, optional_field};
use super::orgs::{nav, open};
use super::session::{Ctx, Fields, Post};
use super::{Refusal, not_found, org_missing, refusal};
use crate::api::AppState;
use crate::domain::DomainError;
use crate::domain::billing::{
    Address, BillingProfile, Invoice, PaymentMethod, Redemption, VoucherValue, format_amount,
    has_card_number,
};
use crate::domain::error::FieldError;
use crate::domain::permission::Permission;
use crate::service::{OrgRef, Principal, billing};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

/// Invoices shown per page.
const PAGE: u32 = 12;

/// `?cursor=` of the billing page: older invoices.
#[derive(Deserialize, Default)]
pub struct Older {
    cursor: Option<String>,
}

/// What the page shows beside the stored state: the form as typed and a refusal on it.
#[derive(Default)]
struct State_<'a> {
    typed: Option<&'a Fields>,
    profile_error: Option<&'a Refusal>,
    voucher_error: Option<&'a Refusal>,
    voucher: &'a str,
    cursor: Option<&'a str>,
}

/// The profile's form fields, in order, with their labels.
const PROFILE_FIELDS: [(&str, &str); 7] = [
    ("name", "Name"),
    ("address.line1", "Address line 1"),
    ("address.line2", "Address line 2"),
    ("address.postal_code", "Postal code"),
    ("address.city", "City"),
    ("address.region", "Region"),
    ("address.country", "Country"),
];

/// The payment method's form fields.
const CARD_FIELDS: [&str; 4] = [
    "payment_method.brand",
    "payment_method.last4",
    "payment_method.exp_month",
    "payment_method.exp_year",
];

async fn render(s: &AppState, ctx: Ctx, slug: &str, state: State_<'_>) -> Response {
    let (ctx, access, mine) = match open(s, ctx, slug).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let p = access.actor.permissions;
    if !p.contains(Permission::BillingRead) {
        return not_found(ctx).await;
    }
    let Some(who) = ctx.user.clone() else {
        return not_found(ctx).await;
    };
    let org = OrgRef::Id(access.org.org.id);
    let from = state
        .cursor
        .and_then(|c| crate::api::cursor::decode_after(c).ok());
    let loaded = async {
        let (profile, pending) = billing::get_billing(&s.gh, &who, &org).await?;
        let upcoming = billing::upcoming_invoice(&s.gh, &who, &org).await?;
        let invoices = billing::list_invoices(&s.gh, &who, &org, from.as_ref(), PAGE).await?;
        Ok::<_, crate::service::Error>((profile, pending, upcoming, invoices))
    }
    .await;
    let (profile, pending, upcoming, invoices) = match loaded {
        Ok(x) => x,
        Err(e) if org_missing(&e) => return not_found(ctx).await,
        Err(e) => return crate::api::problem::ApiError::from(e).into_response(),
    };
    let manage = p.contains(Permission::BillingManage);
    let o = &access.org.org;
    let cur = &s.gh.plans.currency;
    let status = state
        .profile_error
        .or(state.voucher_error)
        .map_or(StatusCode::OK, |r| r.status);
    let next = invoices.next.as_ref().map(crate::api::cursor::encode_after);
    let body = html! {
        h1 { "Billing" }
        @if !manage {
            p.hint { "You can see the billing of " (o.name) " but not change it." }
            (form_error(state.profile_error.or(state.voucher_error).map(|r| r.message.as_str())))
        }
        section.panel aria-labelledby="month-title" {
            h2 #month-title { "This month" }
            p {
                "So far (through " (upcoming.through) "): " strong { (format_amount(upcoming.so_far.total)) " " (cur) }
                ". Projected for the whole of " (upcoming.month) ": " strong { (format_amount(upcoming.projected.total)) " " (cur) } "."
            }
        }
        section.panel aria-labelledby="profile-title" {
            h2 #profile-title { "Billing profile" }
            @if manage {
                (profile_form(&ctx, &o.slug, profile.as_ref(), state.typed, state.profile_error, cur))
            } @else {
                (profile_view(profile.as_ref()))
            }
        }
        section.panel aria-labelledby="vouchers-title" {
            h2 #vouchers-title { "Vouchers" }
            (pending_list(&pending, cur))
            @if manage {
                (form_error(state.voucher_error.and_then(|r| r.general(&["code"]))))
                form.inline method="post" action={ "/orgs/" (o.slug) "/billing/vouchers" } {
                    (csrf(&ctx))
                    (field("Voucher code", "code", "text", state.voucher, state.voucher_error.and_then(|r| r.on("code"))))
                    button type="submit" { "Redeem" }
                }
            }
        }
        section.panel aria-labelledby="invoices-title" {
            h2 #invoices-title { "Invoices" }
            @if invoices.items.is_empty() {
                p.empty { @if from.is_some() { "No older invoices." } @else { "No invoice yet: the first comes after the first whole month." } }
            } @else {
                (invoice_table(&o.slug, &invoices.items))
            }
            @if let Some(n) = next {
                p { a href={ "/orgs/" (o.slug) "/billing?cursor=" (n) } { "Older invoices" } }
            }
        }
    };
    let title = format!("Billing · {}", o.name);
    let shell = Shell {
        title: &title,
        org: Some(nav(&access, mine, Tab::Billing)),
    };
    ctx.page(status, shell, body)
}

fn profile_view(profile: Option<&BillingProfile>) -> Markup {
    html! {
        @match profile {
            None => p.empty { "No billing profile yet." },
            Some(b) => dl.facts {
                dt { "Name" } dd { (b.name) }
                dt { "Address" } dd { (address_line(&b.address)) }
                dt { "VAT number" } dd { (b.vat_number.as_deref().unwrap_or("none")) }
                dt { "Currency" } dd { (b.currency) }
                dt { "Payment method" } dd { (card_line(b.payment_method.as_ref())) }
            },
        }
    }
}

fn address_line(a: &Address) -> String {
    let mut parts = vec![a.line1.clone()];
    parts.extend(a.line2.clone());
    parts.push(format!("{} {}", a.postal_code, a.city));
    parts.extend(a.region.clone());
    parts.push(a.country.clone());
    parts.join(", ")
}

fn card_line(pm: Option<&PaymentMethod>) -> String {
    match pm {
        None => "none".to_owned(),
        Some(c) => format!(
            "{} ending in {}, expires {:02}/{}",
            c.brand, c.last4, c.exp_month, c.exp_year
        ),
    }
}

fn profile_form(
    ctx: &Ctx,
    slug: &str,
    profile: Option<&BillingProfile>,
    typed: Option<&Fields>,
    error: Option<&Refusal>,
    currency: &str,
) -> Markup {
    let stored = |name: &str| -> String {
        let Some(b) = profile else {
            return String::new();
        };
        let a = &b.address;
        let pm = b.payment_method.as_ref();
        match name {
            "name" => b.name.clone(),
            "address.line1" => a.line1.clone(),
            "address.line2" => a.line2.clone().unwrap_or_default(),
            "address.postal_code" => a.postal_code.clone(),
            "address.city" => a.city.clone(),
            "address.region" => a.region.clone().unwrap_or_default(),
            "address.country" => a.country.clone(),
            "vat_number" => b.vat_number.clone().unwrap_or_default(),
            "payment_method.brand" => pm.map(|c| c.brand.clone()).unwrap_or_default(),
            "payment_method.last4" => pm.map(|c| c.last4.clone()).unwrap_or_default(),
            "payment_method.exp_month" => pm.map(|c| c.exp_month.to_string()).unwrap_or_default(),
            "payment_method.exp_year" => pm.map(|c| c.exp_year.to_string()).unwrap_or_default(),
            _ => String::new(),
        }
    };
    // What was typed is shown again after a refusal, except a refused card number.
    let value = |name: &str| -> String {
        match typed {
            Some(f)
                if error.and_then(|r| r.on(name)).is_none() || !has_card_number(f.get(name)) =>
            {
                f.get(name).to_owned()
            }
            Some(_) => String::new(),
            None => stored(name),
        }
    };
    let on = |name: &str| error.and_then(|r| r.on(name));
    let mut all: Vec<&str> = PROFILE_FIELDS.iter().map(|(n, _)| *n).collect();
    all.push("vat_number");
    all.extend(CARD_FIELDS);
    html! {
        (form_error(error.and_then(|r| r.general(&all))))
        form.stack method="post" action={ "/orgs/" (slug) "/billing" } {
            (csrf(ctx))
            @for (name, label) in PROFILE_FIELDS {
                @if matches!(name, "address.line2" | "address.region") {
                    (optional_field(label, name, "text", &value(name), on(name)))
                } @else {
                    (field(label, name, "text", &value(name), on(name)))
                }
            }
            p.hint { "Country: the two-letter code, such as FR or DE." }
            (optional_field("VAT number", "vat_number", "text", &value("vat_number"), on("vat_number")))
            p.hint { "With its country prefix, such as DE123456789. Invoices are in " (currency) "." }
            fieldset.card-fields {
                legend { "Payment method (optional)" }
                p.hint { "Only the brand, the last four digits and the expiry: Guildhall never takes a full card number." }
                (optional_field("Brand", "payment_method.brand", "text", &value("payment_method.brand"), on("payment_method.brand")))
                (optional_field("Last four digits", "payment_method.last4", "text", &value("payment_method.last4"), on("payment_method.last4")))
                (optional_field("Expiry month", "payment_method.exp_month", "text", &value("payment_method.exp_month"), on("payment_method.exp_month")))
                (optional_field("Expiry year", "payment_method.exp_year", "text", &value("payment_method.exp_year"), on("payment_method.exp_year")))
            }
            button type="submit" { "Save" }
        }
    }
}

fn pending_list(pending: &[Redemption], currency: &str) -> Markup {
    html! {
        @if pending.is_empty() {
            p.empty { "No voucher waiting for the next invoice." }
        } @else {
            p { "Waiting for the next invoice:" }
            ul {
                @for r in pending {
                    li {
                        code { (r.code) } ": "
                        @match r.value {
                            VoucherValue::Amount(a) => { (format_amount(a)) " " (currency) " off" },
                            VoucherValue::Percent(pc) => { (pc) "% off" },
                        }
                        ", redeemed " (crate::mail::when(r.redeemed_at))
                    }
                }
            }
        }
    }
}

fn invoice_table(slug: &str, invoices: &[Invoice]) -> Markup {
    html! {
        table.list {
            caption.visually-hidden { "Invoices, newest first" }
            thead { tr {
                th scope="col" { "Invoice" } th scope="col" { "Month" } th scope="col" { "Due" } th scope="col" { "Status" }
                th scope="col" .num { "Total" } th scope="col" { span.visually-hidden { "Download" } }
            } }
            tbody {
                @for i in invoices {
                    tr {
                        td {
                            details {
                                summary { (i.number) }
                                ul.lines {
                                    @for l in &i.lines {
                                        li { (l.description) ": " (format_amount(l.amount)) " " (i.currency) }
                                    }
                                    li { "Subtotal: " (format_amount(i.subtotal)) " " (i.currency) }
                                    @if let Some(t) = i.tax {
                                        @if t.reverse_charge {
                                            li { "VAT: reverse charge (0 " (i.currency) ")" }
                                        } @else {
                                            li { "VAT " (crate::domain::invoicing::format_rate(t.rate_bp)) "%: " (format_amount(t.amount)) " " (i.currency) }
                                        }
                                    }
                                }
                            }
                        }
                        td { (i.month) }
                        td { @if let Some(d) = i.due_on { (d) } @else { "—" } }
                        td { span.chip { (i.status) } }
                        td.num { (format_amount(i.total)) " " (i.currency) }
                        td { a href={ "/orgs/" (slug) "/billing/invoices/" (i.id) "/pdf" } download { "PDF" span.visually-hidden { " of " (i.number) } } }
                    }
                }
            }
        }
    }
}

/// `GET /orgs/{slug}/billing`.
pub async fn page(
    State(s): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(q): Query<Older>,
) -> Response {
    let state = State_ {
        cursor: q.cursor.as_deref(),
        ..Default::default()
    };
    render(&s, ctx, &slug, state).await
}

/// The form's profile, or the refusal of the field that cannot be read. A field holding a full
/// card number is refused before anything else, wherever it was typed.
fn profile_of(f: &Fields, currency: &str) -> Result<BillingProfile, DomainError> {
    let mut names: Vec<&str> = PROFILE_FIELDS.iter().map(|(n, _)| *n).collect();
    names.push("vat_number");
    names.extend(CARD_FIELDS);
    if let Some(name) = names.into_iter().find(|n| has_card_number(f.get(n))) {
        return Err(DomainError::CardNumberRefused(name.to_owned()));
    }
    let optional = |name: &str| Some(f.get(name).to_owned()).filter(|v| !v.is_empty());
    let card_given = CARD_FIELDS.iter().any(|n| !f.get(n).is_empty());
    let payment_method = if card_given {
        let number = |name: &str, what: &str| -> Result<i64, DomainError> {
            f.get(name)
                .parse::<i64>()
                .map_err(|_| DomainError::Invalid(vec![FieldError::new(name, what)]))
        };
        let month = number("payment_method.exp_month", "must be a number from 1 to 12")?;
        let year = number("payment_method.exp_year", "must be a four-digit year")?;
        Some(PaymentMethod {
            brand: f.get("payment_method.brand").to_owned(),
            last4: f.get("payment_method.last4").to_owned(),
            exp_month: u32::try_from(month).unwrap_or(0),
            exp_year: i32::try_from(year).unwrap_or(0),
        })
    } else {
        None
    };
    Ok(BillingProfile {
        name: f.get("name").to_owned(),
        address: Address {
            line1: f.get("address.line1").to_owned(),
            line2: optional("address.line2"),
            postal_code: f.get("address.postal_code").to_owned(),
            city: f.get("address.city").to_owned(),
            region: optional("address.region"),
            country: f.get("address.country").to_owned(),
        },
        vat_number: optional("vat_number"),
        currency: currency.to_owned(),
        payment_method,
    })
}

/// `POST /orgs/{slug}/billing`: saves the profile (`billing.manage`).
pub async fn save(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Post(ctx, f): Post,
) -> Response {
    let who: Principal = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let result = match profile_of(&f, &s.gh.plans.currency) {
        Ok(profile) => billing::put_billing(&s.gh, &who, &OrgRef::parse(&slug), profile)
            .await
            .map(|_| ()),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(()) => ctx.redirect(
            &format!("/orgs/{slug}/billing"),
            Some("Billing profile saved."),
        ),
        Err(e) => match refused(ctx, e).await {
            Ok((ctx, r)) => {
                let state = State_ {
                    typed: Some(&f),
                    profile_error: Some(&r),
                    ..Default::default()
                };
                render(&s, ctx, &slug, state).await
            }
            Err(page) => page,
        },
    }
}

/// `POST /orgs/{slug}/billing/vouchers`: redeems a code (`billing.manage`).
pub async fn redeem(
    State(s): State<AppState>,
    Path(slug): Path<String>,
    Post(ctx, f): Post,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let code = f.get("code").to_owned();
    match billing::redeem_voucher(&s.gh, &who, &OrgRef::parse(&slug), &code).await {
        Ok(r) => ctx.redirect(
            &format!("/orgs/{slug}/billing"),
            Some(&format!(
                "Voucher {} redeemed: it applies to the next invoice.",
                r.code
            )),
        ),
        Err(e) => match refused(ctx, e).await {
            Ok((ctx, r)) => {
                let state = State_ {
                    voucher_error: Some(&r),
                    voucher: &code,
                    ..Default::default()
                };
                render(&s, ctx, &slug, state).await
            }
            Err(page) => page,
        },
    }
}

/// A refused change: the 404 page when the organization is not mine or billing is not open to
/// me (R8, R12), else the refusal to show on the page again.
async fn refused(ctx: Ctx, e: crate::service::Error) -> Result<(Ctx, Refusal), Response> {
    let hidden = org_missing(&e)
        || matches!(
            &e,
            crate::service::Error::Domain(DomainError::Forbidden(p)) if *p == Permission::BillingRead
        );
    if hidden {
        return Err(not_found(ctx).await);
    }
    refusal(e).map(|r| (ctx, r))
}

/// `GET /orgs/{slug}/billing/invoices/{id}/pdf`: the invoice as a PDF download (R8).
pub async fn pdf(
    State(s): State<AppState>,
    ctx: Ctx,
    Path((slug, id)): Path<(String, String)>,
) -> Response {
    let who = match ctx.require_user() {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let Ok(id) = uuid::Uuid::parse_str(&id) else {
        return not_found(ctx).await;
    };
    match billing::get_invoice(&s.gh, &who, &OrgRef::parse(&slug), id).await {
        Ok((invoice, org_name)) => {
            let bytes =
                crate::pdf::invoice_pdf(&invoice, &org_name, s.gh.invoicing.seller.as_ref());
            let mut response = bytes.into_response();
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            );
            if let Ok(v) =
                HeaderValue::from_str(&format!("attachment; filename=\"{}.pdf\"", invoice.number))
            {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
            response
        }
        Err(crate::service::Error::Domain(
            DomainError::NotFound(_) | DomainError::Forbidden(_),
        )) => not_found(ctx).await,
        Err(e) => crate::api::problem::ApiError::from(e).into_response(),
    }
}
