//! Invoice PDFs: A4 pages written with `pdf-writer`, in DejaVu Sans (shipped in `assets/fonts/`
//! under its licence, `LICENSE-DejaVu.txt`), embedded as a CID (Type0) font subset to the
//! glyphs the invoice uses, with a ToUnicode map so the text is searchable and extractable in
//! any script DejaVu covers (Latin, Greek, Cyrillic and more). Long texts are wrapped at the
//! font's real advance widths, never cut.
//!
//! The PDF is drawn from the stored invoice alone (its seller, buyer, lines, tax and due date as
//! they were when it was produced), so it always says what the JSON invoice says. Only invoices
//! produced before sellers were stored take the seller configured now.

use crate::domain::billing::{Address, Invoice, format_amount};
use crate::domain::invoicing::{REVERSE_CHARGE_NOTE, Seller, format_rate};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish as _, Name, Pdf, Rect, Ref, Str};
use std::collections::BTreeMap;

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
/// The lowest a text line may sit; the footer goes below it.
const BOTTOM: f32 = 72.0;
const SIZE: f32 = 10.0;
const LEADING: f32 = 14.0;
/// The right edge of the amounts column.
const RIGHT: f32 = PAGE_W - MARGIN;
/// The width kept for amounts; descriptions wrap before it.
const AMOUNT_W: f32 = 100.0;
/// Where the invoice's details (number, dates) start, right of the seller.
const META_X: f32 = 340.0;

static REGULAR: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../assets/fonts/DejaVuSans-Bold.ttf");

/// The two faces an invoice is set in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Face {
    Regular,
    Bold,
}

/// A font: its bytes and parsed tables.
struct Font {
    data: &'static [u8],
    face: ttf_parser::Face<'static>,
    name: &'static str,
}

impl Font {
    fn load(data: &'static [u8], name: &'static str) -> Self {
        // INVARIANT: the bytes are the font shipped in the binary; `fonts_parse` tests them.
        #[expect(clippy::expect_used, reason = "the embedded font is fixed and tested")]
        let face = ttf_parser::Face::parse(data, 0).expect("the embedded font parses");
        Font { data, face, name }
    }

    /// The glyph of `c`, or `.notdef` for a character the font lacks.
    fn glyph(&self, c: char) -> u16 {
        self.face.glyph_index(c).map_or(0, |g| g.0)
    }

    /// The width of glyph `g` in thousandths of the font size.
    fn advance(&self, g: u16) -> f32 {
        let adv = self
            .face
            .glyph_hor_advance(ttf_parser::GlyphId(g))
            .unwrap_or(0);
        f32::from(adv) * 1000.0 / f32::from(self.face.units_per_em())
    }

    /// The width of `s` at `size` points.
    fn width(&self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.advance(self.glyph(c))).sum::<f32>() * size / 1000.0
    }

    /// `text` broken into lines no wider than `width` at `size`: at spaces where it can, inside
    /// a word only when the word alone is wider than a line. Nothing is dropped.
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // The word alone: split it where it must be.
                for c in word.chars() {
                    line.push(c);
                    if self.width(&line, size) > width && line.chars().count() > 1 {
                        line.pop();
                        lines.push(std::mem::take(&mut line));
                        line.push(c);
                    }
                }
            }
            lines.push(line);
        }
        lines
    }
}

/// A run of text placed on a page.
struct Span {
    x: f32,
    y: f32,
    size: f32,
    face: Face,
    text: String,
}

/// A page being laid out: its text and its horizontal rules `(x1, x2, y)`.
#[derive(Default)]
struct Page {
    spans: Vec<Span>,
    rules: Vec<(f32, f32, f32)>,
}

/// Lays text out top to bottom, starting new pages as it runs out of room.
struct Layout {
    regular: Font,
    bold: Font,
    pages: Vec<Page>,
    y: f32,
    /// The table's header, repeated at the top of each page the table runs onto.
    header: Option<String>,
}

impl Layout {
    fn new() -> Self {
        Layout {
            regular: Font::load(REGULAR, "DejaVuSans"),
            bold: Font::load(BOLD, "DejaVuSans-Bold"),
            pages: vec![Page::default()],
            y: PAGE_H - MARGIN,
            header: None,
        }
    }

    fn font(&self, face: Face) -> &Font {
        match face {
            Face::Regular => &self.regular,
            Face::Bold => &self.bold,
        }
    }

    fn page(&mut self) -> &mut Page {
        if self.pages.is_empty() {
            self.pages.push(Page::default());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// Makes room for `height` points, on a new page if this one is full (there the table
    /// header is repeated while a table runs).
    fn need(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.pages.push(Page::default());
            self.y = PAGE_H - MARGIN;
            if let Some(header) = self.header.clone() {
                self.head_row(&header);
            }
        }
    }

    /// The table's header row and its rule.
    fn head_row(&mut self, amount: &str) {
        let y = self.y;
        self.put(MARGIN, y, Face::Bold, SIZE, "Description");
        self.put_right(RIGHT, y, Face::Bold, SIZE, amount);
        self.y -= LEADING;
        self.rule();
    }

    /// Starts the table of lines; its header comes back on every page it runs onto.
    fn table(&mut self, amount: &str) {
        self.need(LEADING * 3.0);
        self.head_row(amount);
        self.header = Some(amount.to_owned());
    }

    /// Places `text` with its baseline at `y`.
    fn put(&mut self, x: f32, y: f32, face: Face, size: f32, text: &str) {
        if text.is_empty() {
            return;
        }
        self.page().spans.push(Span {
            x,
            y,
            size,
            face,
            text: text.to_owned(),
        });
    }

    /// Places `text` so that it ends at `right`.
    fn put_right(&mut self, right: f32, y: f32, face: Face, size: f32, text: &str) {
        let w = self.font(face).width(text, size);
        self.put(right - w, y, face, size, text);
    }

    /// A wrapped paragraph from `x`, `width` wide, moving down as it goes.
    fn paragraph(&mut self, x: f32, width: f32, face: Face, text: &str) {
        for line in self.font(face).wrap(text, SIZE, width) {
            self.need(LEADING);
            let y = self.y;
            self.put(x, y, face, SIZE, &line);
            self.y -= LEADING;
        }
    }

    /// A table row: the description wrapped left of the amounts, the amount on its first line.
    fn row(&mut self, face: Face, text: &str, amount: Option<&str>) {
        let width = RIGHT - AMOUNT_W - MARGIN - 12.0;
        let lines = self.font(face).wrap(text, SIZE, width);
        // A row stays on one page (unless it is longer than a page).
        self.need(LEADING * u16::try_from(lines.len()).map_or(f32::MAX, f32::from));
        for (i, line) in lines.iter().enumerate() {
            self.need(LEADING);
            let y = self.y;
            self.put(MARGIN, y, face, SIZE, line);
            if i == 0
                && let Some(a) = amount
            {
                self.put_right(RIGHT, y, face, SIZE, a);
            }
            self.y -= LEADING;
        }
        if self.header.is_some() && lines.len() > 1 {
            // Air between wrapped table rows, so each reads as one.
            self.y -= 3.0;
        }
    }

    /// A thin rule under the last line written.
    fn rule(&mut self) {
        let y = self.y + LEADING - 4.0;
        self.page().rules.push((MARGIN, RIGHT, y));
        self.y -= 4.0;
    }
}

/// An address as printed lines.
fn address_lines(a: &Address) -> Vec<String> {
    let mut out = vec![a.line1.clone()];
    out.extend(a.line2.clone());
    let mut city = format!("{} {}", a.postal_code, a.city);
    if let Some(r) = &a.region {
        city.push_str(", ");
        city.push_str(r);
    }
    out.push(city.trim().to_owned());
    out.push(a.country.clone());
    out
}

/// A block of lines in a column from `x`, `width` wide, starting at `top`; where it ended.
fn column(l: &mut Layout, x: f32, width: f32, top: f32, lines: &[(Face, f32, String)]) -> f32 {
    let mut y = top;
    for (face, size, text) in lines {
        for line in l.font(*face).wrap(text, *size, width) {
            l.put(x, y, *face, *size, &line);
            y -= size * 1.4;
        }
    }
    y
}

/// The PDF of `invoice` for the organization named `org_name`. `seller` is the one the server
/// has configured now, used only for an invoice produced before invoices kept their seller.
pub fn invoice_pdf(invoice: &Invoice, org_name: &str, seller: Option<&Seller>) -> Vec<u8> {
    let cur = &invoice.currency;
    let mut l = Layout::new();
    let top = l.y;

    // The seller, top left.
    let seller = invoice.seller.as_ref().or(seller);
    let mut left: Vec<(Face, f32, String)> = Vec::new();
    if let Some(s) = seller {
        left.push((Face::Bold, 13.0, s.name.clone()));
        left.extend(s.address.iter().map(|a| (Face::Regular, SIZE, a.clone())));
        if let Some(vat) = &s.vat_number {
            left.push((Face::Regular, SIZE, format!("VAT number: {vat}")));
        }
    }
    let left_end = column(&mut l, MARGIN, META_X - MARGIN - 16.0, top, &left);

    // The invoice's details, top right.
    let mut right = vec![
        (Face::Bold, 18.0, "INVOICE".to_owned()),
        (Face::Regular, SIZE, format!("Number: {}", invoice.number)),
        (
            Face::Regular,
            SIZE,
            format!("Invoice date: {}", invoice.issued_at.format("%Y-%m-%d")),
        ),
    ];
    if let Some(due) = invoice.due_on {
        right.push((Face::Bold, SIZE, format!("Due date: {due}")));
    }
    right.push((Face::Regular, SIZE, format!("Period: {}", invoice.month)));
    right.push((Face::Regular, SIZE, format!("Status: {}", invoice.status)));
    let right_end = column(&mut l, META_X, RIGHT - META_X, top, &right);
    l.y = left_end.min(right_end) - LEADING;

    // The buyer.
    l.need(LEADING * 3.0);
    let y = l.y;
    l.put(MARGIN, y, Face::Bold, SIZE, "Bill to");
    l.y -= LEADING;
    let width = RIGHT - MARGIN;
    match &invoice.bill_to {
        Some(b) => {
            l.paragraph(MARGIN, width, Face::Regular, &b.name);
            for line in address_lines(&b.address) {
                l.paragraph(MARGIN, width, Face::Regular, &line);
            }
            if let Some(vat) = &b.vat_number {
                l.paragraph(MARGIN, width, Face::Regular, &format!("VAT number: {vat}"));
            }
            if b.name != org_name {
                l.paragraph(
                    MARGIN,
                    width,
                    Face::Regular,
                    &format!("Organization: {org_name}"),
                );
            }
        }
        None => l.paragraph(MARGIN, width, Face::Regular, org_name),
    }
    l.y -= LEADING;

    // The lines.
    l.table(&format!("Amount ({cur})"));
    for line in &invoice.lines {
        l.row(
            Face::Regular,
            &line.description,
            Some(&format_amount(line.amount)),
        );
    }
    l.rule();
    // The sums stay together, on one page.
    l.header = None;
    l.need(LEADING * 5.0);
    l.row(
        Face::Regular,
        "Subtotal",
        Some(&format_amount(invoice.subtotal)),
    );
    if let Some(tax) = invoice.tax {
        if invoice.net() != invoice.subtotal {
            l.row(
                Face::Regular,
                "Net after vouchers",
                Some(&format_amount(invoice.net())),
            );
        }
        let label = if tax.reverse_charge {
            "VAT 0% (reverse charge)".to_owned()
        } else {
            format!("VAT {}%", format_rate(tax.rate_bp))
        };
        l.row(Face::Regular, &label, Some(&format_amount(tax.amount)));
    }
    l.row(
        Face::Bold,
        &format!("Total {cur}"),
        Some(&format_amount(invoice.total)),
    );
    l.y -= LEADING;
    if invoice.tax.is_some_and(|t| t.reverse_charge) {
        l.paragraph(MARGIN, width, Face::Regular, REVERSE_CHARGE_NOTE);
    }
    if let Some(due) = invoice.due_on {
        l.paragraph(
            MARGIN,
            width,
            Face::Regular,
            &format!(
                "Please pay {} {cur} by {due}, quoting {}.",
                format_amount(invoice.total),
                invoice.number
            ),
        );
    }

    // Footers, now that the page count is known.
    let count = l.pages.len();
    for i in 0..count {
        let text = format!("{} · page {} of {count}", invoice.number, i + 1);
        let w = l.regular.width(&text, 8.0);
        l.pages[i].spans.push(Span {
            x: RIGHT - w,
            y: MARGIN - 16.0,
            size: 8.0,
            face: Face::Regular,
            text,
        });
    }
    write(&l)
}

/// The glyphs one face uses: old glyph id per character, and the subset's new ids.
struct Used {
    chars: BTreeMap<char, u16>,
    remapper: subsetter::GlyphRemapper,
}

impl Used {
    fn of(font: &Font, spans: impl Iterator<Item = char>) -> Self {
        let mut chars = BTreeMap::new();
        let mut remapper = subsetter::GlyphRemapper::new();
        for c in spans {
            let g = *chars.entry(c).or_insert_with(|| font.glyph(c));
            remapper.remap(g);
        }
        Used { chars, remapper }
    }

    /// The content-stream bytes of `s`: two-byte CIDs (the subset's glyph ids, Identity-H).
    fn encode(&self, s: &str) -> Vec<u8> {
        s.chars()
            .flat_map(|c| {
                let g = self.chars.get(&c).copied().unwrap_or(0);
                self.remapper.get(g).unwrap_or(0).to_be_bytes()
            })
            .collect()
    }
}

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

/// Writes one face as a Type0 font over a CIDFontType2 subset, with its ToUnicode map; the ids
/// of the Type0 font are `base`..`base + 5`.
fn write_font(pdf: &mut Pdf, base: i32, font: &Font, used: &Used, tag: &str) {
    let (type0, cid, descriptor, file, cmap) = (
        Ref::new(base),
        Ref::new(base + 1),
        Ref::new(base + 2),
        Ref::new(base + 3),
        Ref::new(base + 4),
    );
    let name = format!("{tag}+{}", font.name);
    let system = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    pdf.type0_font(type0)
        .base_font(Name(name.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid)
        .to_unicode(cmap);
    let mut cid_font = pdf.cid_font(cid);
    cid_font
        .subtype(CidFontType::Type2)
        .base_font(Name(name.as_bytes()))
        .system_info(system)
        .font_descriptor(descriptor)
        .cid_to_gid_map_predefined(Name(b"Identity"));
    let widths: Vec<f32> = used
        .remapper
        .remapped_gids()
        .map(|g| font.advance(g))
        .collect();
    cid_font.widths().consecutive(0, widths);
    cid_font.finish();

    let f = &font.face;
    let scale = |v: i16| f32::from(v) * 1000.0 / f32::from(f.units_per_em());
    let bbox = f.global_bounding_box();
    pdf.font_descriptor(descriptor)
        .name(Name(name.as_bytes()))
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            scale(bbox.x_min),
            scale(bbox.y_min),
            scale(bbox.x_max),
            scale(bbox.y_max),
        ))
        .italic_angle(0.0)
        .ascent(scale(f.ascender()))
        .descent(scale(f.descender()))
        .cap_height(scale(f.capital_height().unwrap_or(f.ascender())))
        .stem_v(80.0)
        .font_file2(file);
    // A subsetting failure (none is known for this font) embeds the whole font instead.
    let program = subsetter::subset(font.data, 0, &used.remapper).unwrap_or_else(|e| {
        tracing::warn!(error = ?e, "subsetting the invoice font failed; embedding it whole");
        font.data.to_vec()
    });
    let packed = deflate(&program);
    pdf.stream(file, &packed).filter(Filter::FlateDecode).pair(
        Name(b"Length1"),
        i32::try_from(program.len()).unwrap_or(i32::MAX),
    );

    let mut unicode = UnicodeCmap::new(Name(b"Custom"), system);
    let mut mapped = std::collections::HashSet::new();
    for (c, g) in &used.chars {
        if let Some(new) = used.remapper.get(*g)
            && new != 0
            && mapped.insert(new)
        {
            unicode.pair(new, *c);
        }
    }
    pdf.cmap(cmap, &unicode.finish())
        .system_info(system)
        .name(Name(b"Custom"));
}

/// The subset tag of a face: six capitals, the same for the same glyphs.
fn subset_tag(used: &Used) -> String {
    let mut h: u32 = 2_166_136_261;
    for c in used.chars.keys() {
        h = (h ^ u32::from(*c)).wrapping_mul(16_777_619);
    }
    (0..6)
        .map(|i| char::from(b'A' + ((h >> (i * 5)) % 26) as u8))
        .collect()
}

fn write(l: &Layout) -> Vec<u8> {
    let chars = |face: Face| {
        l.pages
            .iter()
            .flat_map(|p| p.spans.iter())
            .filter(move |s| s.face == face)
            .flat_map(|s| s.text.chars())
    };
    let regular = Used::of(&l.regular, chars(Face::Regular));
    let bold = Used::of(&l.bold, chars(Face::Bold));

    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let (regular_base, bold_base) = (3, 8);
    let mut next = 13;
    let page_ids: Vec<(Ref, Ref)> = l
        .pages
        .iter()
        .map(|_| {
            let ids = (Ref::new(next), Ref::new(next + 1));
            next += 2;
            ids
        })
        .collect();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));
    write_font(
        &mut pdf,
        regular_base,
        &l.regular,
        &regular,
        &subset_tag(&regular),
    );
    write_font(&mut pdf, bold_base, &l.bold, &bold, &subset_tag(&bold));

    for (page, (page_id, content_id)) in l.pages.iter().zip(&page_ids) {
        let mut p = pdf.page(*page_id);
        p.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        p.parent(tree_id);
        p.contents(*content_id);
        let mut resources = p.resources();
        let mut fonts = resources.fonts();
        fonts.pair(Name(b"F1"), Ref::new(regular_base));
        fonts.pair(Name(b"F2"), Ref::new(bold_base));
        fonts.finish();
        resources.finish();
        p.finish();

        let mut content = Content::new();
        for (x1, x2, y) in &page.rules {
            content.set_line_width(0.5);
            content.move_to(*x1, *y);
            content.line_to(*x2, *y);
            content.stroke();
        }
        for s in &page.spans {
            let (font, used) = match s.face {
                Face::Regular => (Name(b"F1"), &regular),
                Face::Bold => (Name(b"F2"), &bold),
            };
            content.begin_text();
            content.set_font(font, s.size);
            content.next_line(s.x, s.y);
            content.show(Str(&used.encode(&s.text)));
            content.end_text();
        }
        let packed = deflate(&content.finish());
        pdf.stream(*content_id, &packed).filter(Filter::FlateDecode);
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fonts_parse_and_cover_latin_greek_cyrillic() {
        for font in [Font::load(REGULAR, "r"), Font::load(BOLD, "b")] {
            for c in "éèçßŁĄ ΑαΩωλ ЖжЯяЮ €".chars().filter(|c| *c != ' ') {
                assert_ne!(font.glyph(c), 0, "{c} is missing");
            }
        }
    }

    #[test]
    fn a_long_invoice_runs_onto_numbered_pages() {
        use crate::domain::billing::{InvoiceLine, Month};
        use chrono::TimeZone as _;
        let lines: Vec<InvoiceLine> = (0..80)
            .map(|i| InvoiceLine {
                kind: "plan".to_owned(),
                description: format!(
                    "project-{i}: pro plan, 50 GB, 3 env., 5 lic., 2026-12-01 to 2026-12-31 (31 of 31 days)"
                ),
                project: None,
                code: None,
                days: Some(31),
                amount: 4900,
            })
            .collect();
        let invoice = Invoice {
            id: uuid::Uuid::nil(),
            org: uuid::Uuid::nil(),
            month: Month {
                year: 2026,
                month: 12,
            },
            seq: 7,
            number: "INV-000007".to_owned(),
            currency: "EUR".to_owned(),
            status: "open".to_owned(),
            subtotal: 80 * 4900,
            total: 80 * 4900,
            lines,
            bill_to: None,
            issued_at: chrono::Utc
                .with_ymd_and_hms(2027, 1, 1, 0, 0, 0)
                .single()
                .expect("a time"),
            seller: None,
            tax: None,
            due_on: None,
            status_changed_at: None,
        };
        let bytes = invoice_pdf(&invoice, "Acme", None);
        // To look at it: GUILDHALL_TEST_PDF_DIR=/tmp/pdfs cargo test --lib pdf, then pdftoppm.
        if let Ok(dir) = std::env::var("GUILDHALL_TEST_PDF_DIR") {
            std::fs::create_dir_all(&dir).expect("dir");
            std::fs::write(format!("{dir}/long.pdf"), &bytes).expect("written");
        }
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("/Count 4"), "four pages");
    }

    #[test]
    fn wrapping_keeps_every_word_and_fits_the_width() {
        let f = Font::load(REGULAR, "r");
        let text = "api: starter plan with a very long description (11 of 30 days), including storage and licenses beyond the included amounts";
        let lines = f.wrap(text, SIZE, 200.0);
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| f.width(l, SIZE) <= 200.0));
        assert_eq!(lines.join(" "), text);
        let long = "x".repeat(200);
        let lines = f.wrap(&long, SIZE, 100.0);
        assert_eq!(lines.concat(), long);
    }
}
