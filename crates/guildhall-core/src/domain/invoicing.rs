//! What makes an invoice one a business can send, as pure functions: the seller it is issued by,
//! its due date, its tax (the configured VAT rate, or the EU reverse charge), and its status
//! (`open`, then `paid` or `void`, each final).

use super::billing::{BillTo, check_vat};
use super::error::DomainError;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// The wording printed on an invoice the EU reverse charge applies to.
pub const REVERSE_CHARGE_NOTE: &str = "Reverse charge: VAT to be accounted for by the recipient (Article 196, Council Directive 2006/112/EC)";

/// The most days after its date an invoice may fall due.
pub const MAX_DUE_DAYS: u32 = 365;

/// Who issues the invoices: the server's `--seller-name`, `--seller-address`, `--seller-vat`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seller {
    /// The seller's legal name.
    pub name: String,
    /// The postal address, one entry a printed line.
    pub address: Vec<String>,
    /// The seller's EU VAT number, normalized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_number: Option<String>,
}

/// The terms invoices are produced with, snapshotted into each invoice at production.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct InvoiceTerms {
    /// The seller, when configured.
    pub seller: Option<Seller>,
    /// The VAT rate in basis points (2000 is 20 %).
    pub vat_rate_bp: i64,
    /// Days from the invoice date to its due date.
    pub due_days: u32,
}

impl InvoiceTerms {
    /// Checks and builds the terms from the server's flags, each error naming its flag.
    pub fn new(
        seller_name: Option<&str>,
        seller_address: Option<&str>,
        seller_vat: Option<&str>,
        vat_rate: Option<&str>,
        due_days: u32,
    ) -> Result<Self, String> {
        let name = seller_name.map(str::trim).filter(|s| !s.is_empty());
        let address: Vec<String> = seller_address
            .unwrap_or_default()
            .split(['\n', ';'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        let vat_number = match seller_vat.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(v) => Some(check_vat(v).map_err(|e| format!("--seller-vat `{v}`: {e}"))?),
        };
        let seller = match name {
            Some(n) if n.chars().count() > 200 => {
                return Err("--seller-name is longer than 200 characters".to_owned());
            }
            Some(n) => Some(Seller {
                name: n.to_owned(),
                address,
                vat_number,
            }),
            None if !address.is_empty() || vat_number.is_some() => {
                return Err(
                    "--seller-address and --seller-vat need --seller-name: the name invoices are issued by"
                        .to_owned(),
                );
            }
            None => None,
        };
        let vat_rate_bp = match vat_rate.map(str::trim).filter(|s| !s.is_empty()) {
            None => 0,
            Some(raw) => parse_rate(raw).ok_or_else(|| {
                format!(
                    "--vat-rate `{raw}` is not a percentage from 0 to 100 with at most two decimals, e.g. 20 or 5.5"
                )
            })?,
        };
        if vat_rate_bp > 0 && seller.as_ref().is_none_or(|s| s.vat_number.is_none()) {
            return Err(
                "--vat-rate above 0 needs --seller-name and --seller-vat: an invoice that charges VAT names the seller's VAT number"
                    .to_owned(),
            );
        }
        if due_days > MAX_DUE_DAYS {
            return Err(format!(
                "--invoice-due-days {due_days} is more than {MAX_DUE_DAYS}"
            ));
        }
        Ok(InvoiceTerms {
            seller,
            vat_rate_bp,
            due_days,
        })
    }

    /// The due date of an invoice dated `date`.
    pub fn due_on(&self, date: NaiveDate) -> NaiveDate {
        date + Duration::days(i64::from(self.due_days))
    }

    /// The tax on `net` for `buyer`: the reverse charge (VAT 0) when [`reverse_charge`] says so,
    /// the configured rate otherwise.
    pub fn tax(&self, net: i64, buyer: Option<&BillTo>) -> Tax {
        let seller_vat = self.seller.as_ref().and_then(|s| s.vat_number.as_deref());
        let buyer_vat = buyer.and_then(|b| b.vat_number.as_deref());
        if reverse_charge(seller_vat, buyer_vat) {
            return Tax {
                rate_bp: 0,
                amount: 0,
                reverse_charge: true,
            };
        }
        // Half up, in i128: no catalog amount times 10000 overflows it.
        let product = i128::from(net.max(0)) * i128::from(self.vat_rate_bp);
        let amount = i64::try_from((product + 5_000) / 10_000).unwrap_or(i64::MAX);
        Tax {
            rate_bp: self.vat_rate_bp,
            amount,
            reverse_charge: false,
        }
    }
}

/// Reads a percentage of 0 to 100 with at most two decimals (`20`, `5.5`, `8.10`) as basis
/// points.
pub fn parse_rate(raw: &str) -> Option<i64> {
    let (int, frac) = raw.split_once('.').unwrap_or((raw, ""));
    if int.is_empty()
        || int.len() > 3
        || frac.len() > 2
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int: i64 = int.parse().ok()?;
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    let bp = int * 100 + frac;
    (bp <= 10_000).then_some(bp)
}

/// A rate in basis points as a percentage: `20`, `5.5`, `8.25`.
pub fn format_rate(bp: i64) -> String {
    let (int, frac) = (bp / 100, bp % 100);
    match frac {
        0 => int.to_string(),
        f if f % 10 == 0 => format!("{int}.{}", f / 10),
        f => format!("{int}.{f:02}"),
    }
}

/// The EU reverse charge (Article 196 of Directive 2006/112/EC): a seller with an EU VAT number
/// supplies a business buyer with a VAT number of **another** EU member state. Both numbers are
/// checked EU VAT numbers, so their prefixes name the member states (`EL` is Greece on both).
pub fn reverse_charge(seller_vat: Option<&str>, buyer_vat: Option<&str>) -> bool {
    let country = |v: &str| check_vat(v).ok().map(|n| n[..2].to_owned());
    match (seller_vat.and_then(country), buyer_vat.and_then(country)) {
        (Some(s), Some(b)) => s != b,
        _ => false,
    }
}

/// The tax of an invoice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tax {
    /// The VAT rate applied, in basis points (0 under the reverse charge).
    pub rate_bp: i64,
    /// The VAT, in minor units.
    pub amount: i64,
    /// Whether the EU reverse charge applies (the buyer accounts for the VAT).
    pub reverse_charge: bool,
}

/// An invoice's status: `open` when produced, then `paid` or `void`, either of them final.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvoiceStatus {
    /// Produced, not yet paid.
    Open,
    /// Paid.
    Paid,
    /// Cancelled: nothing is owed.
    Void,
}

impl InvoiceStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Open => "open",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
        }
    }

    /// Reads a wire name.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "open" => Some(InvoiceStatus::Open),
            "paid" => Some(InvoiceStatus::Paid),
            "void" => Some(InvoiceStatus::Void),
            _ => None,
        }
    }
}

/// Whether an invoice in status `current`, numbered `number`, may be marked `to`: `Ok(true)`
/// when it changes, `Ok(false)` when it already has that status (nothing to do). A void invoice
/// is never paid (409 `invoice_void`), a paid one never voided (409 `invoice_paid`), and none
/// goes back to `open` (422).
pub fn change_status(
    number: &str,
    current: InvoiceStatus,
    to: InvoiceStatus,
) -> Result<bool, DomainError> {
    use InvoiceStatus::{Open, Paid, Void};
    match (current, to) {
        (_, Open) => Err(DomainError::invalid(
            "status",
            "must be `paid` or `void`; an invoice never goes back to `open`",
        )),
        (a, b) if a == b => Ok(false),
        (Open, _) => Ok(true),
        (Void, Paid) => Err(DomainError::InvoiceVoid(number.to_owned())),
        (Paid, Void) => Err(DomainError::InvoicePaid(number.to_owned())),
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::billing::Address;

    fn buyer(vat: Option<&str>) -> BillTo {
        BillTo {
            name: "Buyer".to_owned(),
            address: Address {
                line1: "1 Street".to_owned(),
                line2: None,
                postal_code: "1000".to_owned(),
                city: "City".to_owned(),
                region: None,
                country: "DE".to_owned(),
            },
            vat_number: vat.map(str::to_owned),
        }
    }

    fn terms(rate: &str) -> InvoiceTerms {
        InvoiceTerms::new(
            Some("Guildhall SAS"),
            Some("1 rue de la Paix; 75002 Paris; France"),
            Some("FR12345678901"),
            Some(rate),
            14,
        )
        .expect("valid terms")
    }

    #[test]
    fn rates_parse_as_basis_points_and_print_back() {
        assert_eq!(parse_rate("20"), Some(2000));
        assert_eq!(parse_rate("5.5"), Some(550));
        assert_eq!(parse_rate("8.25"), Some(825));
        assert_eq!(parse_rate("100"), Some(10_000));
        for bad in ["", "-1", "100.01", "5.555", "abc", "1e2", ".5", "20%"] {
            assert_eq!(parse_rate(bad), None, "{bad}");
        }
        assert_eq!(format_rate(2000), "20");
        assert_eq!(format_rate(550), "5.5");
        assert_eq!(format_rate(825), "8.25");
    }

    #[test]
    fn tax_is_the_rate_rounded_half_up_or_the_reverse_charge() {
        let t = terms("20");
        assert_eq!(t.tax(1001, None).amount, 200);
        assert_eq!(t.tax(1003, Some(&buyer(None))).amount, 201);
        assert_eq!(t.tax(1000, Some(&buyer(Some("FR98765432109")))).amount, 200);
        let rc = t.tax(1000, Some(&buyer(Some("DE123456789"))));
        assert!(rc.reverse_charge);
        assert_eq!((rc.amount, rc.rate_bp), (0, 0));
    }

    #[test]
    fn reverse_charge_needs_two_eu_vat_numbers_of_different_states() {
        assert!(reverse_charge(Some("FR12345678901"), Some("EL123456789")));
        assert!(!reverse_charge(
            Some("FR12345678901"),
            Some("FR98765432109")
        ));
        assert!(!reverse_charge(None, Some("DE123456789")));
        assert!(!reverse_charge(Some("FR12345678901"), None));
        assert!(!reverse_charge(Some("FR12345678901"), Some("US123")));
    }

    #[test]
    fn terms_refuse_bad_flags_naming_them() {
        let err = |r: Result<InvoiceTerms, String>| r.expect_err("refused");
        assert!(err(InvoiceTerms::new(None, None, None, Some("20"), 14)).contains("--vat-rate"));
        assert!(
            err(InvoiceTerms::new(Some("S"), None, Some("XX1"), None, 14)).contains("--seller-vat")
        );
        assert!(
            err(InvoiceTerms::new(Some("S"), None, None, Some("abc"), 14)).contains("--vat-rate")
        );
        assert!(
            err(InvoiceTerms::new(None, Some("1 Street"), None, None, 14))
                .contains("--seller-name")
        );
        assert!(err(InvoiceTerms::new(None, None, None, None, 400)).contains("--invoice-due-days"));
        let t = terms("0");
        assert_eq!(
            t.seller.map(|s| s.address),
            Some(vec![
                "1 rue de la Paix".to_owned(),
                "75002 Paris".to_owned(),
                "France".to_owned()
            ])
        );
    }

    #[test]
    fn paid_and_void_are_final() {
        use InvoiceStatus::{Open, Paid, Void};
        assert_eq!(change_status("INV-1", Open, Paid).ok(), Some(true));
        assert_eq!(change_status("INV-1", Open, Void).ok(), Some(true));
        assert_eq!(change_status("INV-1", Paid, Paid).ok(), Some(false));
        assert!(matches!(
            change_status("INV-1", Void, Paid),
            Err(DomainError::InvoiceVoid(_))
        ));
        assert!(matches!(
            change_status("INV-1", Paid, Void),
            Err(DomainError::InvoicePaid(_))
        ));
        assert!(change_status("INV-1", Open, Open).is_err());
    }
}
