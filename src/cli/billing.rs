//! `guildhall billing …`, `guildhall invoice …`, `guildhall voucher …`: what holders of
//! `billing.read` (and `billing.manage`) see and do (R8).

use super::Ctx;
use super::args::{BillingCommand, BillingSetArgs, InvoiceCommand, VoucherCommand};
use super::error::{CliError, Result};
use super::output::{Output, money, s, table, when};
use serde_json::{Map, Value, json};
use std::io::Write as _;

/// Runs one `billing` verb.
pub async fn run(ctx: &Ctx, command: BillingCommand, out: Output) -> Result<()> {
    let api = ctx.api()?;
    let org = ctx.org()?;
    let label = ctx.org_label(&org);
    let path = ["orgs", org.as_str(), "billing"];
    match command {
        BillingCommand::Show => {
            let b = api.get(&path).await?;
            show(&b, out);
        }
        BillingCommand::Set(a) => {
            let current = api.get(&path).await?;
            let body = profile(&current, *a)?;
            api.put(&path, &body).await?;
            let b = api.get(&path).await?;
            if !out.json() && !out.quiet {
                println!("saved the billing profile of `{label}`:");
            }
            show(&b, out);
        }
    }
    Ok(())
}

/// The profile to `PUT`: the current one with the flags given laid over it.
fn profile(current: &Value, a: BillingSetArgs) -> Result<Value> {
    let keep = |flag: Option<String>, pointer: &str| -> Option<String> {
        match flag {
            Some(v) => Some(v),
            None => current
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned),
        }
    };
    // `""` clears an optional field.
    let optional = |v: Option<String>| v.filter(|v| !v.is_empty());
    let name = keep(a.name, "/name");
    let line1 = keep(a.line1, "/address/line1");
    let postal_code = keep(a.postal_code, "/address/postal_code");
    let city = keep(a.city, "/address/city");
    let country = keep(a.country, "/address/country");
    let mut missing = Vec::new();
    for (flag, v) in [
        ("--name", &name),
        ("--line1", &line1),
        ("--postal-code", &postal_code),
        ("--city", &city),
        ("--country", &country),
    ] {
        if v.is_none() {
            missing.push(flag);
        }
    }
    if !missing.is_empty() {
        return Err(CliError::Usage(format!(
            "no billing profile yet: give {}",
            missing.join(", ")
        )));
    }
    let mut address = Map::new();
    address.insert("line1".into(), json!(line1));
    address.insert("postal_code".into(), json!(postal_code));
    address.insert("city".into(), json!(city));
    address.insert("country".into(), json!(country));
    if let Some(v) = optional(keep(a.line2, "/address/line2")) {
        address.insert("line2".into(), json!(v));
    }
    if let Some(v) = optional(keep(a.region, "/address/region")) {
        address.insert("region".into(), json!(v));
    }
    let mut body = json!({
        "name": name,
        "address": Value::Object(address),
        "currency": s(current, "/currency"),
    });
    if let Some(v) = optional(keep(a.vat, "/vat_number")) {
        body["vat_number"] = json!(v);
    }
    let card = match (a.card, a.no_card) {
        (_, true) => None,
        (Some(c), false) => Some(card(&c)?),
        (None, false) => current
            .get("payment_method")
            .filter(|v| !v.is_null())
            .cloned(),
    };
    if let Some(card) = card {
        body["payment_method"] = card;
    }
    Ok(body)
}

/// `visa,4242,12/2030` as a payment method.
fn card(raw: &str) -> Result<Value> {
    let bad = || {
        CliError::Usage(format!(
            "--card `{raw}` is not BRAND,LAST4,MM/YYYY, e.g. visa,4242,12/2030"
        ))
    };
    let parts: Vec<&str> = raw.split(',').map(str::trim).collect();
    let [brand, last4, expiry] = parts.as_slice() else {
        return Err(bad());
    };
    let (month, year) = expiry.split_once('/').ok_or_else(bad)?;
    let month: u32 = month.parse().map_err(|_| bad())?;
    let year: i32 = year.parse().map_err(|_| bad())?;
    Ok(json!({ "brand": brand, "last4": last4, "exp_month": month, "exp_year": year }))
}

/// Prints a billing profile.
fn show(b: &Value, out: Output) {
    let address = [
        s(b, "/address/line1"),
        s(b, "/address/line2"),
        format!("{} {}", s(b, "/address/postal_code"), s(b, "/address/city"))
            .trim()
            .to_owned(),
        s(b, "/address/region"),
        s(b, "/address/country"),
    ]
    .into_iter()
    .filter(|l| !l.is_empty())
    .collect::<Vec<_>>()
    .join(", ");
    let card = match b.get("payment_method") {
        Some(p) if !p.is_null() => format!(
            "{} ending {}, expires {:0>2}/{}",
            s(p, "/brand"),
            s(p, "/last4"),
            s(p, "/exp_month"),
            s(p, "/exp_year")
        ),
        _ => String::new(),
    };
    let vouchers = b
        .get("vouchers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|v| match s(v, "/kind").as_str() {
                    "percent" => format!("{} ({}% off)", s(v, "/code"), s(v, "/percent")),
                    _ => format!(
                        "{} ({} off)",
                        s(v, "/code"),
                        money(
                            v.get("amount").and_then(Value::as_i64).unwrap_or(0),
                            &s(b, "/currency")
                        )
                    ),
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    out.one(
        b,
        &[
            ("name", s(b, "/name")),
            ("address", address),
            ("vat number", s(b, "/vat_number")),
            ("payment method", card),
            ("currency", s(b, "/currency")),
            ("vouchers", vouchers),
        ],
        "",
    );
}

/// Runs one `invoice` verb.
pub async fn run_invoice(ctx: &Ctx, command: InvoiceCommand, out: Output) -> Result<()> {
    let api = ctx.api()?;
    let org = ctx.org()?;
    match command {
        InvoiceCommand::List => {
            let items = api
                .list(&["orgs", &org, "billing", "invoices"], &[])
                .await?;
            out.list(
                &items,
                &[
                    ("NUMBER", &|i| s(i, "/number")),
                    ("MONTH", &|i| s(i, "/month")),
                    ("TOTAL", &|i| total(i, "/total")),
                    ("STATUS", &|i| s(i, "/status")),
                    ("ISSUED", &|i| when(i, "/issued_at")),
                    ("ID", &|i| s(i, "/id")),
                ],
                &|i| s(i, "/id"),
            );
        }
        InvoiceCommand::Show { id } => {
            let i = api.get(&["orgs", &org, "billing", "invoices", &id]).await?;
            if out.json() || out.quiet {
                out.one(&i, &[], &s(&i, "/id"));
                return Ok(());
            }
            if id == "upcoming" {
                println!(
                    "{} so far (through {}): {}; projected to the month's end: {}",
                    s(&i, "/month"),
                    s(&i, "/through"),
                    total(&i, "/so_far/total"),
                    total(&i, "/projected/total")
                );
                print_lines(&i, "/projected/lines", &s(&i, "/currency"));
                return Ok(());
            }
            print!(
                "{}",
                table(
                    Vec::new(),
                    vec![
                        vec!["number:".into(), s(&i, "/number")],
                        vec!["month:".into(), s(&i, "/month")],
                        vec!["status:".into(), s(&i, "/status")],
                        vec!["issued:".into(), when(&i, "/issued_at")],
                        vec!["subtotal:".into(), total(&i, "/subtotal")],
                        vec!["total:".into(), total(&i, "/total")],
                    ]
                )
            );
            println!();
            print_lines(&i, "/lines", &s(&i, "/currency"));
        }
        InvoiceCommand::Download { id, file } => {
            let response = api
                .send(
                    reqwest::Method::GET,
                    &["orgs", &org, "billing", "invoices", &id, "pdf"],
                    &[],
                    None,
                )
                .await?;
            let url = response.url().to_string();
            let pdf = response.bytes().await.map_err(|e| CliError::Unreachable {
                url,
                reason: e.to_string(),
            })?;
            let file = match file {
                Some(f) => f,
                None => {
                    let i = api.get(&["orgs", &org, "billing", "invoices", &id]).await?;
                    format!("invoice-{}.pdf", s(&i, "/number"))
                }
            };
            if file == "-" {
                std::io::stdout()
                    .write_all(&pdf)
                    .map_err(|e| CliError::Other(format!("cannot write the PDF: {e}")))?;
                return Ok(());
            }
            std::fs::write(&file, &pdf)
                .map_err(|e| CliError::Other(format!("cannot write `{file}`: {e}")))?;
            out.done(
                &json!({ "id": id, "file": file, "bytes": pdf.len() }),
                &format!("saved invoice {id} to {file}"),
                &file,
            );
        }
    }
    Ok(())
}

/// An invoice's total (or other amount) with its currency.
fn total(i: &Value, pointer: &str) -> String {
    match i.pointer(pointer).and_then(Value::as_i64) {
        Some(a) => money(a, &s(i, "/currency")),
        None => String::new(),
    }
}

/// An invoice's lines.
fn print_lines(i: &Value, pointer: &str, currency: &str) {
    let rows: Vec<Vec<String>> = i
        .pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|l| {
                    vec![
                        s(l, "/description"),
                        money(
                            l.get("amount").and_then(Value::as_i64).unwrap_or(0),
                            currency,
                        ),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    if rows.is_empty() {
        println!("no lines");
    } else {
        print!("{}", table(vec!["LINE", "AMOUNT"], rows));
    }
}

/// Runs one `voucher` verb.
pub async fn run_voucher(ctx: &Ctx, command: VoucherCommand, out: Output) -> Result<()> {
    let api = ctx.api()?;
    let org = ctx.org()?;
    match command {
        VoucherCommand::Redeem { code } => {
            let v = api
                .post(
                    &["orgs", &org, "billing", "vouchers"],
                    &json!({ "code": code }),
                )
                .await?;
            out.done(
                &v,
                &format!(
                    "redeemed voucher {}; it comes off the next invoice",
                    s(&v, "/code")
                ),
                &s(&v, "/code"),
            );
        }
    }
    Ok(())
}
