//! Invoice PDFs: A4 pages of plain text in the built-in Helvetica font (no font is embedded),
//! written with `pdf-writer`. The PDF is drawn from the stored invoice alone, so it always says
//! what the JSON invoice says: the same number, lines, amounts and total.

use crate::domain::billing::{Invoice, format_amount};
use pdf_writer::{Content, Finish as _, Name, Pdf, Rect, Ref, Str};

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const LEADING: f32 = 16.0;
const AMOUNT_X: f32 = 460.0;

/// One printed row: text on the left, an optional amount on the right, bold or not.
struct Row {
    text: String,
    amount: Option<String>,
    bold: bool,
}

impl Row {
    fn text(text: impl Into<String>) -> Self {
        Row {
            text: text.into(),
            amount: None,
            bold: false,
        }
    }
}

/// WinAnsi bytes for `s`: ASCII and Latin-1 letters as they are, anything else as `?`.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match u32::from(c) {
            0x20..=0x7e | 0xa0..=0xff => u8::try_from(u32::from(c)).unwrap_or(b'?'),
            _ => b'?',
        })
        .collect()
}

/// Cuts a description so it fits before the amount column (Helvetica 10pt is about 5pt a
/// character on average).
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(3)).collect();
        out.push_str("...");
        out
    }
}

/// The PDF of `invoice` for the organization named `org_name`.
pub fn invoice_pdf(invoice: &Invoice, org_name: &str) -> Vec<u8> {
    let cur = &invoice.currency;
    let mut rows = vec![
        Row {
            text: format!("Invoice {}", invoice.number),
            amount: None,
            bold: true,
        },
        Row::text(format!("Organization: {org_name}")),
        Row::text(format!("Period: {}", invoice.month)),
        Row::text(format!(
            "Issued: {}",
            invoice.issued_at.format("%Y-%m-%d %H:%M UTC")
        )),
        Row::text(format!("Status: {}", invoice.status)),
    ];
    if let Some(b) = &invoice.bill_to {
        rows.push(Row::text(format!("Bill to: {}", b.name)));
        let mut addr = b.address.line1.clone();
        if let Some(l2) = &b.address.line2 {
            addr.push_str(", ");
            addr.push_str(l2);
        }
        rows.push(Row::text(format!("  {addr}")));
        rows.push(Row::text(format!(
            "  {} {}{} {}",
            b.address.postal_code,
            b.address.city,
            b.address
                .region
                .as_ref()
                .map(|r| format!(", {r}"))
                .unwrap_or_default(),
            b.address.country
        )));
        if let Some(vat) = &b.vat_number {
            rows.push(Row::text(format!("  VAT: {vat}")));
        }
    }
    rows.push(Row::text(""));
    rows.push(Row {
        text: "Description".to_owned(),
        amount: Some(format!("Amount ({cur})")),
        bold: true,
    });
    for line in &invoice.lines {
        rows.push(Row {
            text: clip(&line.description, 78),
            amount: Some(format_amount(line.amount)),
            bold: false,
        });
    }
    rows.push(Row::text(""));
    rows.push(Row {
        text: "Subtotal".to_owned(),
        amount: Some(format_amount(invoice.subtotal)),
        bold: false,
    });
    rows.push(Row {
        text: format!("Total {cur}"),
        amount: Some(format_amount(invoice.total)),
        bold: true,
    });

    let per_page = ((PAGE_H - 2.0 * MARGIN) / LEADING) as usize;
    let pages: Vec<&[Row]> = rows.chunks(per_page.max(1)).collect();
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let font_id = Ref::new(3);
    let bold_id = Ref::new(4);
    let mut next = 5;
    let mut page_ids = Vec::new();
    for _ in &pages {
        page_ids.push((Ref::new(next), Ref::new(next + 1)));
        next += 2;
    }
    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));
    pdf.type1_font(font_id)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold_id)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    for (chunk, (page_id, content_id)) in pages.iter().zip(&page_ids) {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree_id);
        page.contents(*content_id);
        let mut resources = page.resources();
        let mut fonts = resources.fonts();
        fonts.pair(Name(b"F1"), font_id);
        fonts.pair(Name(b"F2"), bold_id);
        fonts.finish();
        resources.finish();
        page.finish();

        let mut content = Content::new();
        let mut y = PAGE_H - MARGIN;
        for row in *chunk {
            let font = if row.bold { Name(b"F2") } else { Name(b"F1") };
            content.begin_text();
            content.set_font(font, 10.0);
            content.next_line(MARGIN, y);
            content.show(Str(&win_ansi(&row.text)));
            content.end_text();
            if let Some(a) = &row.amount {
                content.begin_text();
                content.set_font(font, 10.0);
                content.next_line(AMOUNT_X, y);
                content.show(Str(&win_ansi(a)));
                content.end_text();
            }
            y -= LEADING;
        }
        pdf.stream(*content_id, &content.finish());
    }
    pdf.finish()
}
