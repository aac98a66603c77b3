//! Plans and billing as pure functions: the plan catalog and its per-tier limits, the card-number
//! detector, the VAT format check, calendar months, and the invoice computation (proration by day
//! and vouchers). No clock, no IO: callers pass `now` and the month in.
//!
//! Amounts are integer minor units (`i64` cents for EUR), never floats; intermediate products
//! are computed in `i128` so no catalog price can overflow them.
//!
//! # Proration rule
//!
//! Days are UTC calendar days. Each day of a month is billed to the plan period **in force at the
//! end of that day**; a project deleted during a day is billed for that day under the plan it had
//! when it was deleted. So a change made on the 10th bills the 10th at the new plan, several
//! changes on one day bill only the last one, and a project created and deleted on the same day
//! is billed one day. A period's line is `monthly_price × days / days_in_month`, rounded half up,
//! once per line (not per day).

use super::error::{DomainError, FieldError};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// Largest price (in minor units) a catalog entry may name: 10 million units of the currency.
pub const MAX_PRICE: i64 = 1_000_000_000;
/// Largest limit (storage GB, environments, licenses) a catalog entry may name.
pub const MAX_LIMIT: i64 = 1_000_000;

/// One tier of the plan catalog: its monthly price, what it includes, its limits and the unit
/// prices of what goes beyond the included amounts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// The tier's name, e.g. `pro`.
    pub name: String,
    /// Monthly price of the tier itself, in minor units.
    pub monthly_price: i64,
    /// Storage included in the monthly price, in GB.
    pub included_storage_gb: i64,
    /// Development environments included.
    pub included_environments: i64,
    /// User licenses included.
    pub included_licenses: i64,
    /// Most storage a project on this tier may have, in GB.
    pub max_storage_gb: i64,
    /// Most development environments.
    pub max_environments: i64,
    /// Most user licenses.
    pub max_licenses: i64,
    /// Monthly price of each GB beyond the included storage.
    pub storage_gb_price: i64,
    /// Monthly price of each environment beyond the included ones.
    pub environment_price: i64,
    /// Monthly price of each license beyond the included ones.
    pub license_price: i64,
}

/// The plan catalog: one currency, a default tier for new projects, and the tiers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// ISO 4217 code of every price, e.g. `EUR`. Billing profiles must use it.
    pub currency: String,
    /// The tier a new project starts on.
    pub default_tier: String,
    /// The tiers, cheapest first by convention.
    #[serde(rename = "tier")]
    pub tiers: Vec<Tier>,
}

/// What a project's plan is: a tier and the amounts chosen on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanSpec {
    /// The tier's name.
    pub tier: String,
    /// Storage, GB.
    pub storage_gb: i64,
    /// Development environments.
    pub environments: i64,
    /// User licenses.
    pub licenses: i64,
}

fn tier(name: &str, price: i64, included: [i64; 3], max: [i64; 3], units: [i64; 3]) -> Tier {
    Tier {
        name: name.to_owned(),
        monthly_price: price,
        included_storage_gb: included[0],
        included_environments: included[1],
        included_licenses: included[2],
        max_storage_gb: max[0],
        max_environments: max[1],
        max_licenses: max[2],
        storage_gb_price: units[0],
        environment_price: units[1],
        license_price: units[2],
    }
}

impl Default for Catalog {
    /// The built-in catalog, in EUR cents.
    fn default() -> Self {
        Catalog {
            currency: "EUR".to_owned(),
            default_tier: "free".to_owned(),
            tiers: vec![
                tier("free", 0, [1, 0, 1], [1, 0, 1], [0, 0, 0]),
                tier("starter", 900, [10, 1, 2], [50, 3, 5], [25, 500, 300]),
                tier("pro", 4900, [50, 3, 5], [500, 10, 25], [20, 400, 250]),
                tier(
                    "enterprise",
                    29900,
                    [200, 10, 25],
                    [10_000, 100, 1_000],
                    [15, 300, 200],
                ),
            ],
        }
    }
}

impl Catalog {
    /// Reads a catalog file (TOML) and validates it; the error names the bad entry.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let c: Catalog = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate()?;
        Ok(c)
    }

    /// Checks the catalog: a three-letter currency, unique tier names, non-negative prices and
    /// limits within bounds, included amounts within the limits, and an existing default tier.
    pub fn validate(&self) -> Result<(), String> {
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(format!(
                "currency `{}` is not a three-letter ISO 4217 code such as `EUR`",
                self.currency
            ));
        }
        if self.tiers.is_empty() {
            return Err("the catalog has no tier".to_owned());
        }
        for (i, t) in self.tiers.iter().enumerate() {
            let at = format!("tier `{}`", t.name);
            if t.name.is_empty()
                || t.name.len() > 40
                || !t
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(format!(
                    "tier #{} name `{}` must be 1 to 40 lowercase letters, digits or `-`",
                    i + 1,
                    t.name
                ));
            }
            if self.tiers[..i].iter().any(|o| o.name == t.name) {
                return Err(format!("{at} appears twice"));
            }
            for (field, v) in [
                ("monthly_price", t.monthly_price),
                ("storage_gb_price", t.storage_gb_price),
                ("environment_price", t.environment_price),
                ("license_price", t.license_price),
            ] {
                if !(0..=MAX_PRICE).contains(&v) {
                    return Err(format!("{at}: `{field}` must be between 0 and {MAX_PRICE}"));
                }
            }
            for (field, v) in [
                ("max_storage_gb", t.max_storage_gb),
                ("max_environments", t.max_environments),
                ("max_licenses", t.max_licenses),
            ] {
                if !(0..=MAX_LIMIT).contains(&v) {
                    return Err(format!("{at}: `{field}` must be between 0 and {MAX_LIMIT}"));
                }
            }
            for (field, v, max) in [
                (
                    "included_storage_gb",
                    t.included_storage_gb,
                    t.max_storage_gb,
                ),
                (
                    "included_environments",
                    t.included_environments,
                    t.max_environments,
                ),
                ("included_licenses", t.included_licenses, t.max_licenses),
            ] {
                if !(0..=max).contains(&v) {
                    return Err(format!(
                        "{at}: `{field}` must be between 0 and its maximum ({max})"
                    ));
                }
            }
        }
        if self.tier(&self.default_tier).is_none() {
            return Err(format!(
                "default_tier `{}` is not one of the tiers",
                self.default_tier
            ));
        }
        Ok(())
    }

    /// A tier by name.
    pub fn tier(&self, name: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.name == name)
    }

    /// The plan a new project starts on: the default tier with its included amounts.
    pub fn default_plan(&self) -> (PlanSpec, i64) {
        let t = self
            .tier(&self.default_tier)
            .or_else(|| self.tiers.first())
            .cloned()
            .unwrap_or_else(|| tier("free", 0, [0; 3], [0; 3], [0; 3]));
        let spec = PlanSpec {
            tier: t.name.clone(),
            storage_gb: t.included_storage_gb,
            environments: t.included_environments,
            licenses: t.included_licenses,
        };
        let price = monthly_price(&t, &spec);
        (spec, price)
    }

    /// Checks a requested plan against the catalog: a known tier (400 otherwise), no negative
    /// amount (400), and each amount within the tier's limit (422 `plan_limit_exceeded`, naming
    /// the limit). Amounts left out take the tier's included ones. Returns the plan and its
    /// monthly price.
    pub fn check_plan(
        &self,
        tier_name: &str,
        storage_gb: Option<i64>,
        environments: Option<i64>,
        licenses: Option<i64>,
    ) -> Result<(PlanSpec, i64), DomainError> {
        let t = self.tier(tier_name).ok_or_else(|| {
            let known: Vec<String> = self.tiers.iter().map(|t| format!("`{}`", t.name)).collect();
            DomainError::invalid(
                "tier",
                format!(
                    "`{tier_name}` is not a plan tier; known tiers: {}",
                    known.join(", ")
                ),
            )
        })?;
        let spec = PlanSpec {
            tier: t.name.clone(),
            storage_gb: storage_gb.unwrap_or(t.included_storage_gb),
            environments: environments.unwrap_or(t.included_environments),
            licenses: licenses.unwrap_or(t.included_licenses),
        };
        let mut negative = Vec::new();
        for (field, v) in [
            ("storage_gb", spec.storage_gb),
            ("environments", spec.environments),
            ("licenses", spec.licenses),
        ] {
            if v < 0 {
                negative.push(FieldError::new(field, "must not be negative"));
            }
        }
        if !negative.is_empty() {
            return Err(DomainError::Invalid(negative));
        }
        for (field, v, max) in [
            ("storage_gb", spec.storage_gb, t.max_storage_gb),
            ("environments", spec.environments, t.max_environments),
            ("licenses", spec.licenses, t.max_licenses),
        ] {
            if v > max {
                return Err(DomainError::PlanLimit {
                    field,
                    tier: t.name.clone(),
                    max,
                });
            }
        }
        let price = monthly_price(t, &spec);
        Ok((spec, price))
    }
}

/// The monthly price of `spec` on tier `t`: the tier's price plus what goes beyond the included
/// amounts at the unit prices.
pub fn monthly_price(t: &Tier, spec: &PlanSpec) -> i64 {
    let extra = |v: i64, inc: i64, unit: i64| i128::from((v - inc).max(0)) * i128::from(unit);
    let total = i128::from(t.monthly_price)
        + extra(spec.storage_gb, t.included_storage_gb, t.storage_gb_price)
        + extra(
            spec.environments,
            t.included_environments,
            t.environment_price,
        )
        + extra(spec.licenses, t.included_licenses, t.license_price);
    i64::try_from(total).unwrap_or(i64::MAX)
}

/// The Luhn checksum over ASCII digits.
pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// Whether `text` holds something that looks like a full card number: a run of 13 to 19 digits
/// (single spaces or dashes allowed between digits) passing the Luhn check. In a run longer than
/// 19 digits every window of 13 to 19 digits counts, so padding a number does not hide it.
pub fn has_card_number(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut runs: Vec<Vec<u8>> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_digit() {
            cur.push(b);
        } else if (b == b' ' || b == b'-')
            && !cur.is_empty()
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)
        {
            // A separator between two digits keeps the run going.
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
        i += 1;
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs.iter().any(|run| match run.len() {
        13..=19 => luhn(run),
        // Longer than any card: a card number may hide inside, padded.
        n if n > 19 => (13..=19).any(|len| run.windows(len).any(luhn)),
        _ => false,
    })
}

/// Walks a whole JSON document (keys, strings and numbers) and returns the path of the first
/// place holding a card number (`has_card_number`), e.g. `address.line1`; never the value.
pub fn find_card_number(v: &serde_json::Value) -> Option<String> {
    fn walk(v: &serde_json::Value, path: &str) -> Option<String> {
        let here = || {
            if path.is_empty() {
                "body".to_owned()
            } else {
                path.to_owned()
            }
        };
        match v {
            serde_json::Value::String(s) if has_card_number(s) => Some(here()),
            serde_json::Value::Number(n) if has_card_number(&n.to_string()) => Some(here()),
            serde_json::Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(i, x)| walk(x, &format!("{path}[{i}]"))),
            serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if has_card_number(k) {
                    return Some(if path.is_empty() {
                        "body".to_owned()
                    } else {
                        path.to_owned()
                    });
                }
                walk(x, &p)
            }),
            _ => None,
        }
    }
    walk(v, "")
}

/// The EU VAT prefixes (Greece is `EL`; `XI` is Northern Ireland) and the shape of the number
/// after each, as (prefix, allowed patterns). In a pattern `9` is a digit, `A` a letter, `X` a
/// letter or digit.
const VAT_FORMATS: &[(&str, &[&str])] = &[
    ("AT", &["U99999999"]),
    ("BE", &["9999999999"]),
    ("BG", &["999999999", "9999999999"]),
    ("CY", &["99999999A"]),
    ("CZ", &["99999999", "999999999", "9999999999"]),
    ("DE", &["999999999"]),
    ("DK", &["99999999"]),
    ("EE", &["999999999"]),
    ("EL", &["999999999"]),
    ("ES", &["X9999999X"]),
    ("FI", &["99999999"]),
    ("FR", &["XX999999999"]),
    ("HR", &["99999999999"]),
    ("HU", &["99999999"]),
    ("IE", &["9X99999A", "9999999AA", "9999999A"]),
    ("IT", &["99999999999"]),
    ("LT", &["999999999", "999999999999"]),
    ("LU", &["99999999"]),
    ("LV", &["99999999999"]),
    ("MT", &["99999999"]),
    ("NL", &["999999999B99"]),
    ("PL", &["9999999999"]),
    ("PT", &["999999999"]),
    (
        "RO",
        &[
            "99",
            "999",
            "9999",
            "99999",
            "999999",
            "9999999",
            "99999999",
            "999999999",
            "9999999999",
        ],
    ),
    ("SE", &["999999999901"]),
    ("SI", &["99999999"]),
    ("SK", &["9999999999"]),
    ("XI", &["999999999", "999999999999", "GD999", "HA999"]),
];

fn fits(body: &str, pattern: &str) -> bool {
    body.len() == pattern.len()
        && body.bytes().zip(pattern.bytes()).all(|(c, p)| match p {
            b'9' => c.is_ascii_digit(),
            b'A' => c.is_ascii_uppercase(),
            b'X' => c.is_ascii_uppercase() || c.is_ascii_digit(),
            // `SE…01`, `NL…B…`, `AT U…`: fixed letters and digits.
            other => c == other,
        })
}

/// Checks an EU VAT number's format for its country prefix (spaces, dots and dashes are
/// ignored; letters are uppercased) and returns it normalized, e.g. `DE123456789`. A number
/// without an EU prefix, or whose shape does not fit its country's, is refused with 422
/// `vat_invalid`.
pub fn check_vat(raw: &str) -> Result<String, DomainError> {
    let norm: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .flat_map(char::to_uppercase)
        .collect();
    if !norm.is_ascii() || norm.len() < 4 {
        return Err(DomainError::VatInvalid(
            "must be an EU VAT number: a country prefix such as `DE` followed by the number"
                .to_owned(),
        ));
    }
    let (prefix, body) = norm.split_at(2);
    let Some((_, patterns)) = VAT_FORMATS.iter().find(|(p, _)| *p == prefix) else {
        return Err(DomainError::VatInvalid(format!(
            "`{prefix}` is not an EU VAT country prefix (Greece is `EL`, Northern Ireland `XI`)"
        )));
    };
    if patterns.iter().any(|p| fits(body, p)) {
        Ok(norm)
    } else {
        Err(DomainError::VatInvalid(format!(
            "does not have the format of a `{prefix}` VAT number"
        )))
    }
}

/// A calendar month (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// The year.
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
}

impl Month {
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Month> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let month = Month {
            year: y.parse().ok()?,
            month: m.parse().ok()?,
        };
        NaiveDate::from_ymd_opt(month.year, month.month, 1)?;
        Some(month)
    }

    /// The month `t` falls in.
    pub fn of(t: DateTime<Utc>) -> Month {
        Month {
            year: t.year(),
            month: t.month(),
        }
    }

    /// The month after this one.
    pub fn next(self) -> Month {
        if self.month == 12 {
            Month {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Month {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// The month before this one.
    pub fn previous(self) -> Month {
        if self.month == 1 {
            Month {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Month {
                year: self.year,
                month: self.month - 1,
            }
        }
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// Its first instant.
    pub fn start(self) -> DateTime<Utc> {
        Utc.from_utc_datetime(&self.first_day().and_time(chrono::NaiveTime::MIN))
    }

    /// The first instant of the next month.
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }

    /// How many days it has.
    pub fn days(self) -> i64 {
        (self.next().first_day() - self.first_day()).num_days()
    }

    /// Whether the month is over at `now`, so it can be invoiced.
    pub fn is_closed(self, now: DateTime<Utc>) -> bool {
        now >= self.end()
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// One stretch of time a project had one plan, as stored (the history invoices are computed
/// from).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanPeriod {
    /// The project (which may have been deleted since).
    pub project: uuid::Uuid,
    /// The project's name when the period started, for the invoice line.
    pub project_name: String,
    /// The plan.
    pub plan: PlanSpec,
    /// The plan's monthly price, fixed when it was chosen.
    pub monthly_price: i64,
    /// When it started.
    pub from: DateTime<Utc>,
    /// When it ended; `None` while it is the project's current plan.
    pub to: Option<DateTime<Utc>>,
    /// Whether it ended because the project was deleted (that day is still billed).
    pub ended_by_delete: bool,
}

impl PlanPeriod {
    /// The days it is billed for, as a half-open range of dates `[first, end)` (the proration
    /// rule in the module documentation); `None` for no end.
    pub fn billed_dates(&self) -> (NaiveDate, Option<NaiveDate>) {
        let first = self.from.date_naive();
        let end = self.to.map(|t| {
            let d = t.date_naive();
            if self.ended_by_delete {
                d + Duration::days(1)
            } else {
                d
            }
        });
        (first, end)
    }

    /// The dates of `month` it is billed for: `(first, last)` inclusive and the day count.
    pub fn days_in(&self, month: Month) -> Option<(NaiveDate, NaiveDate, i64)> {
        self.days_before(month, month.next().first_day())
    }

    /// The dates of `month` before `until` it is billed for, as `days_in`.
    pub fn days_before(
        &self,
        month: Month,
        until: NaiveDate,
    ) -> Option<(NaiveDate, NaiveDate, i64)> {
        let (first, end) = self.billed_dates();
        let from = first.max(month.first_day());
        let until = until.min(month.next().first_day());
        let end = end.map_or(until, |e| e.min(until));
        let days = (end - from).num_days();
        (days > 0).then(|| (from, end - Duration::days(1), days))
    }
}

/// `price × days / days_in_month`, rounded half up, in minor units.
pub fn prorate(monthly_price: i64, days: i64, days_in_month: i64) -> i64 {
    if days_in_month <= 0 {
        return 0;
    }
    let num = i128::from(monthly_price) * i128::from(days) * 2 + i128::from(days_in_month);
    let den = 2 * i128::from(days_in_month);
    i64::try_from(num.div_euclid(den)).unwrap_or(i64::MAX)
}

/// What a voucher is worth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoucherValue {
    /// A fixed amount, in minor units.
    Amount(i64),
    /// A percentage (1 to 100) of the invoice's subtotal.
    Percent(i64),
}

impl VoucherValue {
    /// `amount` or `percent`, as stored.
    pub fn kind(self) -> &'static str {
        match self {
            VoucherValue::Amount(_) => "amount",
            VoucherValue::Percent(_) => "percent",
        }
    }

    /// The number stored with the kind.
    pub fn value(self) -> i64 {
        match self {
            VoucherValue::Amount(v) | VoucherValue::Percent(v) => v,
        }
    }

    /// Reads a stored kind and number.
    pub fn from_parts(kind: &str, value: i64) -> Option<Self> {
        match kind {
            "amount" => Some(VoucherValue::Amount(value)),
            "percent" => Some(VoucherValue::Percent(value)),
            _ => None,
        }
    }
}

/// A voucher an operator created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Voucher {
    /// The code, uppercase.
    pub code: String,
    /// What it is worth.
    pub value: VoucherValue,
    /// The last day it can be redeemed (inclusive, UTC).
    pub expires_on: NaiveDate,
    /// How many organizations may redeem it.
    pub max_uses: i64,
    /// How many have.
    pub uses: i64,
    /// The one organization it is for, if it is not for anyone.
    pub org: Option<uuid::Uuid>,
}

/// Normalizes a voucher code: trimmed, uppercase; 3 to 40 letters, digits, `-` or `_`.
pub fn parse_voucher_code(raw: &str) -> Option<String> {
    let code = raw.trim().to_ascii_uppercase();
    ((3..=40).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    .then_some(code)
}

/// Whether `org` may redeem `voucher` at `now`: it exists for them, has not expired and has
/// uses left. Already-redeemed-by-this-org is the caller's check (409).
pub fn check_redeemable(
    voucher: Option<&Voucher>,
    org: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let Some(v) = voucher.filter(|v| v.org.is_none_or(|o| o == org)) else {
        return Err(DomainError::VoucherInvalid(
            "there is no such voucher code".to_owned(),
        ));
    };
    if now.date_naive() > v.expires_on {
        return Err(DomainError::VoucherInvalid(format!(
            "the voucher expired on {}",
            v.expires_on
        )));
    }
    if v.uses >= v.max_uses {
        return Err(DomainError::VoucherInvalid(
            "the voucher has been used up".to_owned(),
        ));
    }
    Ok(())
}

/// One line of an invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

/// An invoice's computed content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvoiceDraft {
    /// Plan lines then voucher lines.
    pub lines: Vec<InvoiceLine>,
    /// Sum of the plan lines.
    pub subtotal: i64,
    /// What is due: the subtotal less the vouchers, never below zero.
    pub total: i64,
}

/// Computes an organization's invoice for `month` from its plan periods (the proration rule in
/// the module documentation) and the vouchers it redeemed and has not used yet: percentage
/// vouchers first, each a share of the subtotal, then amount vouchers, in the order given; none
/// takes the total below zero (what an amount voucher cannot use is lost).
pub fn compute_invoice(
    month: Month,
    periods: &[PlanPeriod],
    vouchers: &[(String, VoucherValue)],
) -> InvoiceDraft {
    compute_invoice_before(month, month.next().first_day(), periods, vouchers)
}

/// The month not yet invoiced, seen on `today`: what its days so far (today included) cost, and
/// what the whole month will cost if every plan stays as it is. Neither is numbered or stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpcomingInvoice {
    /// The month.
    pub month: Month,
    /// The last day counted in `so_far`.
    pub through: NaiveDate,
    /// From the month's first day through `through`.
    pub so_far: InvoiceDraft,
    /// The whole month, every current plan kept to its end.
    pub projected: InvoiceDraft,
}

/// Computes the upcoming invoice of the month `today` falls in, by the same rule as
/// `compute_invoice` (the vouchers waiting for the next invoice are applied to both figures).
pub fn compute_upcoming(
    today: NaiveDate,
    periods: &[PlanPeriod],
    vouchers: &[(String, VoucherValue)],
) -> UpcomingInvoice {
    let month = Month {
        year: today.year(),
        month: today.month(),
    };
    UpcomingInvoice {
        month,
        through: today,
        so_far: compute_invoice_before(month, today + Duration::days(1), periods, vouchers),
        projected: compute_invoice(month, periods, vouchers),
    }
}

/// `compute_invoice` counting only the days of `month` before `until`.
fn compute_invoice_before(
    month: Month,
    until: NaiveDate,
    periods: &[PlanPeriod],
    vouchers: &[(String, VoucherValue)],
) -> InvoiceDraft {
    let dim = month.days();
    let mut sorted: Vec<&PlanPeriod> = periods.iter().collect();
    sorted.sort_by(|a, b| {
        (a.project_name.as_str(), a.project, a.from).cmp(&(
            b.project_name.as_str(),
            b.project,
            b.from,
        ))
    });
    let mut lines = Vec::new();
    let mut subtotal: i64 = 0;
    for p in sorted {
        let Some((first, last, days)) = p.days_before(month, until) else {
            continue;
        };
        let amount = prorate(p.monthly_price, days, dim);
        subtotal = subtotal.saturating_add(amount);
        lines.push(InvoiceLine {
            kind: "plan".to_owned(),
            description: format!(
                "{}: {} plan, {} GB, {} env., {} lic., {} to {} ({} of {} days)",
                p.project_name,
                p.plan.tier,
                p.plan.storage_gb,
                p.plan.environments,
                p.plan.licenses,
                first,
                last,
                days,
                dim
            ),
            project: Some(p.project),
            code: None,
            days: Some(days),
            amount,
        });
    }
    let mut remaining = subtotal;
    let percents = vouchers
        .iter()
        .filter(|(_, v)| matches!(v, VoucherValue::Percent(_)));
    let amounts = vouchers
        .iter()
        .filter(|(_, v)| matches!(v, VoucherValue::Amount(_)));
    for (code, v) in percents.chain(amounts) {
        let (wanted, label) = match *v {
            VoucherValue::Percent(p) => (
                prorate(subtotal, p.clamp(0, 100), 100),
                format!("voucher {code}: {p}% off"),
            ),
            VoucherValue::Amount(a) => (a.max(0), format!("voucher {code}")),
        };
        let discount = wanted.min(remaining);
        remaining -= discount;
        lines.push(InvoiceLine {
            kind: "voucher".to_owned(),
            description: label,
            project: None,
            code: Some(code.clone()),
            days: None,
            amount: -discount,
        });
    }
    InvoiceDraft {
        lines,
        subtotal,
        total: remaining,
    }
}

/// Formats minor units as `12.34` (two decimals, as for EUR).
pub fn format_amount(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// The invoice number for the `seq`-th invoice of this server: `INV-000001`. Numbers come from
/// one counter incremented in the transaction that inserts the invoice, so they have no gaps.
pub fn invoice_number(seq: i64) -> String {
    format!("INV-{seq:06}")
}

/// A postal address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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

impl BillingProfile {
    /// Checks and normalizes a requested profile: required text present and not too long (400),
    /// a two-letter country, a payment method of brand, four digits and a sane expiry (400), an EU
    /// VAT number of the right shape (422 `vat_invalid`), and the catalog's currency (422
    /// `currency_unsupported`).
    pub fn check(mut self, catalog_currency: &str) -> Result<Self, DomainError> {
        let mut errors = Vec::new();
        let mut text = |field: &str, v: &mut String, required: bool| {
            *v = v.trim().to_owned();
            if required && v.is_empty() {
                errors.push(FieldError::new(field, "must not be empty"));
            } else if v.chars().count() > 200 {
                errors.push(FieldError::new(field, "must be at most 200 characters"));
            } else if v.chars().any(char::is_control) {
                errors.push(FieldError::new(
                    field,
                    "must not contain control characters",
                ));
            }
        };
        text("name", &mut self.name, true);
        text("address.line1", &mut self.address.line1, true);
        text("address.postal_code", &mut self.address.postal_code, true);
        text("address.city", &mut self.address.city, true);
        if let Some(l2) = self.address.line2.as_mut() {
            text("address.line2", l2, false);
        }
        if let Some(r) = self.address.region.as_mut() {
            text("address.region", r, false);
        }
        self.address.country = self.address.country.trim().to_ascii_uppercase();
        if self.address.country.len() != 2
            || !self.address.country.bytes().all(|b| b.is_ascii_uppercase())
        {
            errors.push(FieldError::new(
                "address.country",
                "must be a two-letter ISO 3166 country code such as `FR`",
            ));
        }
        if let Some(pm) = self.payment_method.as_mut() {
            pm.brand = pm.brand.trim().to_ascii_lowercase();
            if pm.brand.is_empty()
                || pm.brand.len() > 20
                || !pm
                    .brand
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b' ' || b == b'-')
            {
                errors.push(FieldError::new(
                    "payment_method.brand",
                    "must be 1 to 20 letters, such as `visa`",
                ));
            }
            if pm.last4.len() != 4 || !pm.last4.bytes().all(|b| b.is_ascii_digit()) {
                errors.push(FieldError::new(
                    "payment_method.last4",
                    "must be exactly the last four digits",
                ));
            }
            if !(1..=12).contains(&pm.exp_month) {
                errors.push(FieldError::new(
                    "payment_method.exp_month",
                    "must be between 1 and 12",
                ));
            }
            if !(2000..=2100).contains(&pm.exp_year) {
                errors.push(FieldError::new(
                    "payment_method.exp_year",
                    "must be a four-digit year",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors));
        }
        self.vat_number = match self.vat_number.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(v) => Some(check_vat(v)?),
        };
        self.currency = self.currency.trim().to_ascii_uppercase();
        if self.currency != catalog_currency {
            return Err(DomainError::CurrencyUnsupported {
                given: self.currency,
                supported: catalog_currency.to_owned(),
            });
        }
        Ok(self)
    }

    /// The names of the fields that differ from `before` (for the audit: never the values).
    pub fn changed_fields(&self, before: Option<&BillingProfile>) -> Vec<&'static str> {
        let Some(b) = before else {
            return vec![
                "name",
                "address",
                "vat_number",
                "currency",
                "payment_method",
            ];
        };
        let mut out = Vec::new();
        if self.name != b.name {
            out.push("name");
        }
        if self.address != b.address {
            out.push("address");
        }
        if self.vat_number != b.vat_number {
            out.push("vat_number");
        }
        if self.currency != b.currency {
            out.push("currency");
        }
        if self.payment_method != b.payment_method {
            out.push("payment_method");
        }
        out
    }
}

/// A voucher an organization redeemed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redemption {
    /// The code.
    pub code: String,
    /// What it is worth.
    pub value: VoucherValue,
    /// When it was redeemed.
    pub redeemed_at: DateTime<Utc>,
    /// The invoice it was applied to, once it was.
    pub invoice: Option<uuid::Uuid>,
}

/// Whom an invoice is made out to: the billing profile's name, address and VAT number at the time
/// it was produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillTo {
    /// The billing name.
    pub name: String,
    /// The billing address.
    pub address: Address,
    /// The VAT number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_number: Option<String>,
}

/// A stored invoice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invoice {
    /// Its id.
    pub id: uuid::Uuid,
    /// The organization billed.
    pub org: uuid::Uuid,
    /// The month billed.
    pub month: Month,
    /// Its position in the server's numbering.
    pub seq: i64,
    /// Its number, `INV-000001`.
    pub number: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// `open`, `paid` or `void`.
    pub status: String,
    /// Sum of the plan lines.
    pub subtotal: i64,
    /// What is due.
    pub total: i64,
    /// The lines.
    pub lines: Vec<InvoiceLine>,
    /// Whom it is made out to, when the organization had a billing profile.
    pub bill_to: Option<BillTo>,
    /// When it was produced.
    pub issued_at: DateTime<Utc>,
    /// Who issued it, when the server had a seller configured then (none before migration 0013).
    pub seller: Option<super::invoicing::Seller>,
    /// Its tax; `None` for invoices produced before taxes were (migration 0013): no VAT.
    pub tax: Option<super::invoicing::Tax>,
    /// When it falls due; `None` for invoices produced before due dates were.
    pub due_on: Option<NaiveDate>,
    /// When its status last changed (to `paid` or `void`).
    pub status_changed_at: Option<DateTime<Utc>>,
}

impl Invoice {
    /// What is owed before tax: the subtotal less the vouchers (the total less the tax).
    pub fn net(&self) -> i64 {
        self.total - self.tax.map_or(0, |t| t.amount)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_test_card_numbers_and_refuses_one_digit_off() {
        assert!(has_card_number("4111111111111111"));
        assert!(has_card_number("my card 4111 1111 1111 1111 thanks"));
        assert!(has_card_number("4111-1111-1111-1111"));
        assert!(has_card_number("378282246310005"));
        assert!(!has_card_number("4111111111111112"));
        assert!(!has_card_number("123456789012"));
        assert!(!has_card_number("DE123456789"));
        assert!(has_card_number("00004111111111111111"));
    }

    #[test]
    fn card_numbers_are_found_anywhere_in_a_document() {
        let v = serde_json::json!({ "a": { "b": ["x", 4_111_111_111_111_111u64] } });
        assert_eq!(find_card_number(&v).as_deref(), Some("a.b[1]"));
        assert_eq!(find_card_number(&serde_json::json!({ "ok": "fine" })), None);
    }

    #[test]
    fn vat_formats_are_checked_per_country() {
        assert_eq!(
            check_vat("de 123 456 789").ok().as_deref(),
            Some("DE123456789")
        );
        assert!(check_vat("FRAB123456789").is_ok());
        assert!(check_vat("ATU12345678").is_ok());
        assert!(check_vat("DE12345678").is_err());
        assert!(check_vat("US123456789").is_err());
        assert!(check_vat("GR123456789").is_err());
        assert!(check_vat("EL123456789").is_ok());
    }

    #[test]
    fn months_know_their_days_and_neighbours() {
        let feb = Month::parse("2024-02").expect("month");
        assert_eq!(feb.days(), 29);
        assert_eq!(feb.next().to_string(), "2024-03");
        assert_eq!(
            Month::parse("2024-01").expect("m").previous().to_string(),
            "2023-12"
        );
        assert!(Month::parse("2024-13").is_none());
        assert!(Month::parse("24-01").is_none());
    }

    #[test]
    fn proration_rounds_half_up_per_line() {
        assert_eq!(prorate(3000, 15, 30), 1500);
        assert_eq!(prorate(100, 1, 8), 13);
        assert_eq!(prorate(100, 1, 3), 33);
        assert_eq!(prorate(0, 31, 31), 0);
    }

    #[test]
    fn vouchers_never_take_the_total_below_zero() {
        let m = Month::parse("2025-03").expect("m");
        let p = PlanPeriod {
            project: uuid::Uuid::nil(),
            project_name: "web".to_owned(),
            plan: PlanSpec {
                tier: "pro".to_owned(),
                storage_gb: 50,
                environments: 3,
                licenses: 5,
            },
            monthly_price: 4900,
            from: m.start(),
            to: None,
            ended_by_delete: false,
        };
        let d = compute_invoice(
            m,
            &[p],
            &[
                ("A".to_owned(), VoucherValue::Amount(4000)),
                ("P".to_owned(), VoucherValue::Percent(10)),
            ],
        );
        assert_eq!(d.subtotal, 4900);
        assert_eq!(d.lines[1].amount, -490);
        assert_eq!(d.lines[2].amount, -4000);
        assert_eq!(d.total, 410);
    }

    #[test]
    fn the_upcoming_invoice_counts_today_so_far_and_the_whole_month_projected() {
        let m = Month::parse("2026-12").expect("m");
        let plan = |tier: &str| PlanSpec {
            tier: tier.to_owned(),
            storage_gb: 10,
            environments: 1,
            licenses: 2,
        };
        let at = |day: u32| {
            Utc.from_utc_datetime(
                &NaiveDate::from_ymd_opt(2026, 12, day)
                    .expect("day")
                    .and_hms_opt(9, 0, 0)
                    .expect("time"),
            )
        };
        // `web` was on starter from before the month and moved to pro on the 5th; `api` was
        // created on the 3rd and deleted on the 4th (both days billed).
        let web = uuid::Uuid::from_u128(1);
        let periods = [
            PlanPeriod {
                project: web,
                project_name: "web".to_owned(),
                plan: plan("starter"),
                monthly_price: 3100,
                from: m.previous().start(),
                to: Some(at(5)),
                ended_by_delete: false,
            },
            PlanPeriod {
                project: web,
                project_name: "web".to_owned(),
                plan: plan("pro"),
                monthly_price: 6200,
                from: at(5),
                to: None,
                ended_by_delete: false,
            },
            PlanPeriod {
                project: uuid::Uuid::from_u128(2),
                project_name: "api".to_owned(),
                plan: plan("starter"),
                monthly_price: 3100,
                from: at(3),
                to: Some(at(4)),
                ended_by_delete: true,
            },
        ];
        let today = NaiveDate::from_ymd_opt(2026, 12, 10).expect("today");
        let u = compute_upcoming(
            today,
            &periods,
            &[("P".to_owned(), VoucherValue::Percent(50))],
        );
        assert_eq!(u.month, m);
        assert_eq!(u.through, today);
        // So far: api 2 days (200), web 4 days starter (400) and 6 days pro (1200).
        let so_far: Vec<i64> = u.so_far.lines.iter().map(|l| l.amount).collect();
        assert_eq!(so_far, vec![200, 400, 1200, -900]);
        assert_eq!((u.so_far.subtotal, u.so_far.total), (1800, 900));
        // Projected: pro to the 31st (27 days, 5400); what ended stays as it was.
        let projected: Vec<i64> = u.projected.lines.iter().map(|l| l.amount).collect();
        assert_eq!(projected, vec![200, 400, 5400, -3000]);
        assert_eq!(
            u.projected,
            compute_invoice(m, &periods, &[("P".to_owned(), VoucherValue::Percent(50))])
        );
        // On the first day only that day counts.
        let first = compute_upcoming(m.first_day(), &periods, &[]);
        assert_eq!(first.so_far.subtotal, 100);
    }
}
