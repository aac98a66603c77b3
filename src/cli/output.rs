//! The one output switch every command shares: an aligned table for people (the default),
//! the API's own JSON (`--output json`; a list is one array of every item), or ids only
//! (`--quiet`, one a line).

use super::args::{Format, OutputArgs};
use comfy_table::{ContentArrangement, Table, presets};
use serde_json::Value;

/// How one command prints.
#[derive(Clone, Copy, Debug)]
pub struct Output {
    /// Table or JSON.
    pub format: Format,
    /// Ids only.
    pub quiet: bool,
}

impl From<&OutputArgs> for Output {
    fn from(a: &OutputArgs) -> Self {
        Output {
            format: a.output,
            quiet: a.quiet,
        }
    }
}

/// A column: its heading and how to read its cell out of an item.
pub type Column<'a> = (&'a str, &'a dyn Fn(&Value) -> String);

impl Output {
    /// Whether the API's JSON is printed.
    pub fn json(&self) -> bool {
        self.format == Format::Json && !self.quiet
    }

    /// Prints a list: a table with `columns`, one JSON array, or `id` of each item.
    pub fn list(&self, items: &[Value], columns: &[Column<'_>], id: &dyn Fn(&Value) -> String) {
        if self.quiet {
            for item in items {
                println!("{}", id(item));
            }
        } else if self.json() {
            print_json(&Value::Array(items.to_vec()));
        } else {
            let rows: Vec<Vec<String>> = items
                .iter()
                .map(|item| columns.iter().map(|(_, cell)| cell(item)).collect())
                .collect();
            print!("{}", table(columns.iter().map(|(h, _)| *h).collect(), rows));
        }
    }

    /// Prints one item: `rows` as a two-column table, its JSON, or its `id`.
    pub fn one(&self, item: &Value, rows: &[(&str, String)], id: &str) {
        if self.quiet {
            if !id.is_empty() {
                println!("{id}");
            }
        } else if self.json() {
            print_json(item);
        } else {
            let rows = rows
                .iter()
                .map(|(k, v)| vec![format!("{k}:"), v.clone()])
                .collect();
            print!("{}", table(Vec::new(), rows));
        }
    }

    /// Prints what a change did: a sentence for people, the API's answer as JSON, or the id.
    pub fn done(&self, item: &Value, message: &str, id: &str) {
        if self.quiet {
            if !id.is_empty() {
                println!("{id}");
            }
        } else if self.json() {
            print_json(item);
        } else {
            println!("{message}");
        }
    }
}

/// Prints a JSON value, pretty.
pub fn print_json(v: &Value) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(_) => println!("{v}"),
    }
}

/// An aligned table, columns two spaces apart, no borders, no trailing blanks.
pub fn table(header: Vec<&str>, rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if !header.is_empty() {
        t.set_header(header);
    }
    for row in rows {
        t.add_row(row);
    }
    for column in t.column_iter_mut() {
        column.set_padding((0, 2));
    }
    let mut out = String::new();
    for line in t.to_string().lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The string at a JSON pointer (`/user/email`), or `""`; numbers and booleans as written.
pub fn s(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// The strings of an array at a JSON pointer, joined with `, `.
pub fn list(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// A timestamp cut to the minute, for tables (`2026-03-01 09:30`).
pub fn when(v: &Value, pointer: &str) -> String {
    let raw = s(v, pointer);
    match chrono::DateTime::parse_from_rfc3339(&raw) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => raw,
    }
}

/// An amount in minor units with its currency (`12.50 EUR`).
pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    format!("{sign}{}.{:02} {currency}", abs / 100, abs % 100)
}
