//! Inert cells: text the system writes into CSV files and workbooks never reaches a
//! spreadsheet as a formula.
//!
//! Excel, WPS and LibreOffice take a CSV cell that begins with `=`, `+`, `-` or `@` (or
//! with a tab or carriage return followed by one, or a full-width `＝`/`＋`/`－`/`＠`, which
//! Chinese input methods type) as a formula, so a name such as `=HYPERLINK(…)` would run in
//! the clerk's spreadsheet. Every writer passes its text cells through this module:
//!
//! - CSV: such a cell gets a leading apostrophe (`'=HYPERLINK(…)`), the convention
//!   spreadsheets use for "this is text"; the cell stays one plain text field, so a bank's
//!   import reads it as before (legitimate names, accounts and bank names never begin with
//!   these characters, so only hostile values change).
//! - xlsx: text is written as a string cell (never a formula) and such a cell also gets
//!   Excel's quote prefix (the `'` a clerk would type), so editing the cell keeps it text;
//!   the stored value itself is unchanged.
//!
//! Numbers (amounts, counts) are written as numbers and do not pass through here: a
//! negative amount stays a number.

use std::borrow::Cow;

use rust_xlsxwriter::{Format, Worksheet, XlsxError};

/// Whether a spreadsheet would take a cell beginning like `s` as a formula.
pub fn looks_like_formula(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some('=' | '+' | '-' | '@' | '＝' | '＋' | '－' | '＠') => true,
        // Leading control characters are dropped by some spreadsheets before they look.
        Some('\t' | '\r' | '\n') => true,
        _ => false,
    }
}

/// A CSV text cell: `s`, or `s` behind an apostrophe when it would be a formula.
pub fn csv_text(s: &str) -> Cow<'_, str> {
    if looks_like_formula(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The text a CSV cell written by [`csv_text`] stands for: the apostrophe in front of
/// formula-like text removed (used where our own files come back: the ledger import, a
/// bank's return file echoing a bank file).
pub fn read_back(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if looks_like_formula(rest) => rest,
        _ => s,
    }
}

/// A CSV cell ready for `csv::Writer::write_record`: text made inert (see [`csv_text`]),
/// or an amount written as it is.
pub struct CsvCell<'a>(Cow<'a, str>);

impl CsvCell<'_> {
    /// A text cell, made inert.
    pub fn text(s: &str) -> CsvCell<'_> {
        CsvCell(csv_text(s))
    }

    /// A number (an amount, a count): written as it is.
    pub fn number(s: &str) -> CsvCell<'_> {
        CsvCell(Cow::Borrowed(s))
    }
}

impl AsRef<[u8]> for CsvCell<'_> {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

/// Writes a text cell into a worksheet as a string (never a formula); text that would be
/// a formula gets the quote prefix on top of `format` (or on its own).
pub fn write_text(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    format: Option<&Format>,
) -> Result<(), XlsxError> {
    if looks_like_formula(text) {
        let f = format.cloned().unwrap_or_default().set_quote_prefix();
        ws.write_string_with_format(row, col, text, &f)?;
    } else if let Some(f) = format {
        ws.write_string_with_format(row, col, text, f)?;
    } else {
        ws.write_string(row, col, text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_starts_are_neutralised_and_others_kept() {
        for s in [
            "=HYPERLINK(\"http://x\",\"点此\")",
            "+86",
            "-1+2",
            "@SUM(A1)",
            "\t=1",
            "\r=1",
            "＝1+1",
        ] {
            assert!(looks_like_formula(s), "{s:?}");
            assert_eq!(csv_text(s), format!("'{s}"));
        }
        for s in [
            "张三",
            "6217001234567890",
            "",
            "中国农业银行",
            "123.45",
            "a=b",
        ] {
            assert!(!looks_like_formula(s), "{s:?}");
            assert_eq!(csv_text(s), s);
        }
        for s in ["=1+1", "-3", "张三", "'已有撇号", ""] {
            assert_eq!(read_back(&csv_text(s)), s);
        }
    }
}
