//! Cells as read from any format, and finding a table's header among its first rows.

use std::borrow::Cow;

use chrono::NaiveDate;

use minzheng_domain::registry::ledger::Ledger;
use minzheng_domain::registry::{Column, ImportIssue};

use super::checker::Checker;

/// A cell as read from any format.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell<'a> {
    Empty,
    Text(Cow<'a, str>),
    Number(f64),
    /// A formula whose result was never calculated (no cached value).
    UncalculatedFormula,
    /// A formula whose cached result is 0: what writers that never calculate store. Fine
    /// for amounts, but in identity columns it means the value is missing.
    FormulaZero,
    Error(String),
}

impl Cell<'_> {
    pub(super) fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The value as a clerk would read it.
    pub(super) fn display(&self) -> Cow<'_, str> {
        match self {
            Cell::Empty | Cell::UncalculatedFormula => Cow::Borrowed(""),
            Cell::Text(s) => Cow::Borrowed(s.trim()),
            Cell::Number(n) => Cow::Owned(number_text(*n)),
            Cell::FormulaZero => Cow::Borrowed("0"),
            Cell::Error(e) => Cow::Borrowed(e),
        }
    }

    pub(super) fn into_owned(self) -> Cell<'static> {
        match self {
            Cell::Empty => Cell::Empty,
            Cell::Text(s) => Cell::Text(Cow::Owned(s.into_owned())),
            Cell::Number(n) => Cell::Number(n),
            Cell::UncalculatedFormula => Cell::UncalculatedFormula,
            Cell::FormulaZero => Cell::FormulaZero,
            Cell::Error(e) => Cell::Error(e),
        }
    }
}

pub(super) fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else if n.abs() >= 1e15 {
        format!("{n:E}")
    } else {
        let s = format!("{n:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

pub(super) const BLANK: Cell<'static> = Cell::Empty;

pub(super) fn required_list() -> String {
    Column::ALL
        .into_iter()
        .filter(|c| c.required())
        .map(|c| c.header())
        .collect::<Vec<_>>()
        .join("、")
}

pub(super) fn col_letter(mut j: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (j % 26) as u8);
        if j < 26 {
            break;
        }
        j = j / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// How many known column names a row contains.
fn header_score(cells: &[Cell<'_>]) -> usize {
    cells
        .iter()
        .filter(|c| Column::match_header(&c.display()).is_some())
        .count()
}

/// The header row among the first ten: the one naming the most known columns (≥ 3).
fn find_header(rows: &[(usize, Vec<Cell<'static>>)]) -> Option<usize> {
    rows.iter()
        .take(10)
        .enumerate()
        .map(|(i, (_, cells))| (i, header_score(cells)))
        .filter(|(_, n)| *n >= 3)
        .max_by_key(|(i, n)| (*n, usize::MAX - i))
        .map(|(i, _)| i)
}

// ------------------------------------------------------------------ one table (sheet)

/// Finds the header among a table's first ten rows, then checks the rows after it.
pub(super) struct TableScan {
    mask: bool,
    today: NaiveDate,
    buffered: Vec<(usize, Vec<Cell<'static>>)>,
    pub(super) state: ScanState,
}

pub(super) enum ScanState {
    /// Still collecting the first ten rows.
    Looking,
    /// Found the header; every further row is checked.
    Checking(Box<Checker>),
    /// No header in the first ten rows; `nonblank` says whether the table has any content.
    NoHeader { nonblank: bool },
    /// The header row itself is unusable (missing or duplicate columns).
    Refused(ImportIssue),
}

/// What a scanned table turned out to be.
pub(super) enum Scanned {
    Ledger(Ledger),
    NoHeader { nonblank: bool },
    Refused(ImportIssue),
}

impl TableScan {
    pub(super) fn new(mask: bool, today: NaiveDate) -> Self {
        TableScan {
            mask,
            today,
            buffered: Vec::new(),
            state: ScanState::Looking,
        }
    }

    /// Whether more rows can still change the outcome.
    pub(super) fn wants_more(&self) -> bool {
        match &self.state {
            ScanState::Looking | ScanState::Checking(_) => true,
            ScanState::NoHeader { nonblank } => !nonblank,
            ScanState::Refused(_) => false,
        }
    }

    /// Feeds the row at position `index` of the table (0 = first row).
    pub(super) fn push(&mut self, index: usize, line: usize, cells: Vec<Cell<'_>>) {
        match &mut self.state {
            ScanState::Checking(ch) => ch.row(line, &cells),
            ScanState::Looking if index < 10 => {
                self.buffered
                    .push((line, cells.into_iter().map(Cell::into_owned).collect()));
            }
            ScanState::Looking => {
                self.decide();
                self.push(index, line, cells);
            }
            ScanState::NoHeader { nonblank } => {
                if !cells.iter().all(Cell::is_blank) {
                    *nonblank = true;
                }
            }
            ScanState::Refused(_) => {}
        }
    }

    fn decide(&mut self) {
        let buffered = std::mem::take(&mut self.buffered);
        self.state = match find_header(&buffered) {
            Some(h) => {
                let (line, header) = &buffered[h];
                match Checker::new(*line, header, self.mask, self.today) {
                    Ok(mut ch) => {
                        for (line, cells) in &buffered[h + 1..] {
                            ch.row(*line, cells);
                        }
                        ScanState::Checking(Box::new(ch))
                    }
                    Err(issue) => ScanState::Refused(issue),
                }
            }
            None => ScanState::NoHeader {
                nonblank: buffered.iter().any(|(_, r)| !r.iter().all(Cell::is_blank)),
            },
        };
    }

    pub(super) fn rows_so_far(&self) -> usize {
        match &self.state {
            ScanState::Checking(ch) => ch.ledger.rows_read,
            _ => 0,
        }
    }

    pub(super) fn finish(mut self) -> Scanned {
        if matches!(self.state, ScanState::Looking) {
            self.decide();
        }
        match self.state {
            ScanState::Checking(ch) => Scanned::Ledger(ch.finish()),
            ScanState::NoHeader { nonblank } => Scanned::NoHeader { nonblank },
            ScanState::Refused(i) => Scanned::Refused(i),
            ScanState::Looking => Scanned::NoHeader { nonblank: false },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(col_letter(0), "A");
        assert_eq!(col_letter(25), "Z");
        assert_eq!(col_letter(26), "AA");
    }

    #[test]
    fn numbers_display_like_excel() {
        assert_eq!(number_text(45296.0), "45296");
        assert_eq!(number_text(1.5), "1.5");
        assert!(number_text(1.10105e17).contains('E'));
    }
}
