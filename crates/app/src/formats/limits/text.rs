//! Bounds on CSV text and on the cells a whole-table reader holds.
//!
//! [`BoundedCsv`] wraps the bytes on their way to the CSV parser and follows its record
//! boundaries (quotes, `""`, commas, CR/LF, as the `csv` crate reads them), so a record
//! longer than `max_line_bytes` — one endless line, or endless lines inside one quoted
//! field — is refused before the parser has buffered it, and so are more than `max_rows`
//! records and more than `max_total` bytes (a `.gz` that unpacks without end).

use std::io::Read;

use super::{over, size_text, InputLimits, Refused};

impl std::error::Error for Refused {}

/// Where the CSV lexer stands (the `csv` crate's default dialect).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    StartField,
    InField,
    InQuoted,
    QuoteInQuoted,
}

/// Record lengths, record count and total size of CSV bytes, fed in pieces.
#[derive(Debug, Clone)]
pub(crate) struct CsvMeter {
    lex: Lex,
    record: u64,
    records: u64,
    total: u64,
    /// Physical line the current record started on (1-based).
    line: u64,
    lines: u64,
    /// A CR was the last byte (CRLF counts as one line end).
    after_cr: bool,
    /// Line ends outside quoted fields so far: the rows a spreadsheet shows before the
    /// current position (a quoted field's line breaks stay inside its one row).
    rows_ended: u64,
    /// The spreadsheet row the current record started on (1-based).
    record_row: u64,
    /// The spreadsheet rows of the records read but not yet taken ([`BoundedCsv::next_row`]);
    /// `None` unless asked for.
    rows: Option<std::collections::VecDeque<u64>>,
    max_record: u64,
    max_records: u64,
    max_total: u64,
    /// Whether `max_total` is the `max_unpacked_bytes` limit (a `.gz`) or a fixed size.
    total_is_unpacked: bool,
    what: &'static str,
}

impl CsvMeter {
    pub(crate) fn new(limits: &InputLimits, max_total: u64, what: &'static str) -> Self {
        CsvMeter {
            lex: Lex::StartField,
            record: 0,
            records: 0,
            total: 0,
            line: 1,
            lines: 1,
            after_cr: false,
            rows_ended: 0,
            record_row: 1,
            rows: None,
            max_record: limits.max_line_bytes,
            max_records: limits.max_rows,
            max_total,
            total_is_unpacked: max_total == limits.max_unpacked_bytes,
            what,
        }
    }

    fn end_record(&mut self) -> Result<(), Refused> {
        if self.record > 0 {
            if let Some(rows) = &mut self.rows {
                rows.push_back(self.record_row);
            }
            self.records += 1;
            if self.records > self.max_records {
                return Err(Refused(format!(
                    "{}的行{}：请拆分后分批导入",
                    self.what,
                    over("max_rows", format!("{}行", self.max_records))
                )));
            }
        }
        self.record = 0;
        self.line = self.lines;
        self.lex = Lex::StartField;
        Ok(())
    }

    /// Measures the next bytes.
    pub(crate) fn feed(&mut self, data: &[u8]) -> Result<(), Refused> {
        self.total += data.len() as u64;
        if self.total > self.max_total {
            return Err(Refused(if self.total_is_unpacked {
                format!(
                    "{}解压后{}：文件可能经过恶意构造，已拒绝",
                    self.what,
                    over("max_unpacked_bytes", size_text(self.max_total))
                )
            } else {
                format!(
                    "{}超过{}，不是应有的文件：已拒绝",
                    self.what,
                    size_text(self.max_total)
                )
            }));
        }
        for &b in data {
            let newline = b == b'\n' || b == b'\r';
            let crlf_tail = b == b'\n' && self.after_cr;
            if newline && !crlf_tail {
                self.lines += 1;
            }
            self.after_cr = b == b'\r';
            if self.record == 0 && !newline {
                self.record_row = self.rows_ended + 1;
            }
            let ends = match (self.lex, b) {
                (Lex::InQuoted, b'"') => {
                    self.lex = Lex::QuoteInQuoted;
                    false
                }
                (Lex::InQuoted, _) => false,
                (_, b'\n' | b'\r') => true,
                (Lex::StartField, b'"') => {
                    self.lex = Lex::InQuoted;
                    false
                }
                (Lex::QuoteInQuoted, b'"') => {
                    self.lex = Lex::InQuoted;
                    false
                }
                (_, b',') => {
                    self.lex = Lex::StartField;
                    false
                }
                _ => {
                    self.lex = Lex::InField;
                    false
                }
            };
            if ends {
                if !crlf_tail {
                    self.rows_ended += 1;
                }
                self.end_record()?;
                continue;
            }
            self.record += 1;
            if self.record > self.max_record {
                return Err(Refused(format!(
                    "{}第{}行起的一行（或引号内跨行的一条记录）{}：文件可能不是CSV表格，或缺少换行",
                    self.what,
                    self.line,
                    over("max_line_bytes", size_text(self.max_record))
                )));
            }
        }
        Ok(())
    }

    /// Counts a last record that has no line end.
    pub(crate) fn finish(&mut self) -> Result<(), Refused> {
        self.end_record()
    }
}

/// Checks CSV held in memory: every record within `max_line_bytes`, at most `max_rows`.
#[cfg(test)]
pub(crate) fn check_line_lengths(
    data: &[u8],
    limits: &InputLimits,
    what: &'static str,
) -> Result<(), Refused> {
    let mut m = CsvMeter::new(limits, u64::MAX, what);
    m.feed(data)?;
    m.finish()
}

/// A reader that measures CSV bytes on their way to the parser and fails with the
/// [`Refused`] (inside an `io::Error`) once a limit is passed. Find it again with
/// [`refusal_of`].
pub struct BoundedCsv<R> {
    inner: R,
    meter: CsvMeter,
    done: bool,
}

impl<R: Read> BoundedCsv<R> {
    /// `max_total`: the most bytes the input may yield (its unpacked size for `.gz`).
    pub fn new(inner: R, limits: &InputLimits, max_total: u64, what: &'static str) -> Self {
        BoundedCsv {
            inner,
            meter: CsvMeter::new(limits, max_total, what),
            done: false,
        }
    }
}

impl<R> BoundedCsv<R> {
    /// Also notes the spreadsheet row of every record, for [`BoundedCsv::next_row`].
    pub fn counting_rows(mut self) -> Self {
        self.meter.rows = Some(std::collections::VecDeque::new());
        self
    }

    /// The row Excel or WPS shows the next record on (1-based; the records in the order the
    /// parser yields them, blank lines skipped as it skips them): line ends outside quoted
    /// fields counted, CRLF as one, a quoted field's line breaks inside its row. The `csv`
    /// crate's own line count is one short after each CRLF and counts a quoted field's
    /// lines. `None` when not counting, or for a record the meter has not seen.
    pub fn next_row(&mut self) -> Option<u64> {
        self.meter.rows.as_mut()?.pop_front()
    }
}

impl<R: Read> Read for BoundedCsv<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let invalid = |r: Refused| std::io::Error::new(std::io::ErrorKind::InvalidData, r);
        if n == 0 && !self.done {
            self.done = true;
            self.meter.finish().map_err(invalid)?;
        }
        self.meter.feed(&buf[..n]).map_err(invalid)?;
        Ok(n)
    }
}

/// The refusal behind an I/O error from a [`BoundedCsv`] (also inside a CSV error).
pub fn refusal_of(e: &(dyn std::error::Error + 'static)) -> Option<Refused> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<Refused>() {
            return Some(r.clone());
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(r) = io.get_ref().and_then(|i| i.downcast_ref::<Refused>()) {
                return Some(r.clone());
            }
        }
        if let Some(c) = err.downcast_ref::<csv::Error>() {
            if let csv::ErrorKind::Io(io) = c.kind() {
                if let Some(r) = io.get_ref().and_then(|i| i.downcast_ref::<Refused>()) {
                    return Some(r.clone());
                }
            }
        }
        cur = err.source();
    }
    None
}

/// What a text cell costs besides its text: the string's header and its allocation.
pub(crate) const CELL_OVERHEAD: u64 = 48;

/// The cells and text a whole-table reader has laid out so far.
#[derive(Debug)]
pub(crate) struct TextBudget {
    cells: u64,
    bytes: u64,
    max_cells: u64,
    max_bytes: u64,
    what: &'static str,
}

impl TextBudget {
    pub(crate) fn new(limits: &InputLimits, what: &'static str) -> Self {
        TextBudget {
            cells: 0,
            bytes: 0,
            max_cells: limits.max_cells,
            max_bytes: limits.max_text_bytes,
            what,
        }
    }

    /// Counts `cells` more cells holding `bytes` of text (each cell's string costs its
    /// header and allocation besides its text).
    pub(crate) fn add(&mut self, cells: u64, bytes: u64) -> Result<(), Refused> {
        self.cells += cells;
        self.bytes += bytes + CELL_OVERHEAD * cells;
        if self.cells > self.max_cells {
            return Err(Refused(format!(
                "{}的单元格{}",
                self.what,
                over("max_cells", self.max_cells.to_string())
            )));
        }
        if self.bytes > self.max_bytes {
            return Err(Refused(format!(
                "{}的文字总量{}",
                self.what,
                over("max_text_bytes", size_text(self.max_bytes))
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(line: u64, rows: u64) -> InputLimits {
        InputLimits {
            max_line_bytes: line,
            max_rows: rows,
            ..Default::default()
        }
    }

    #[test]
    fn records_follow_quotes_like_the_csv_parser() {
        let l = limits(10, 10);
        // Quoted fields may hold commas, quotes and line ends; each record is short.
        check_line_lengths(b"a,\"b\nc\",d\r\n\"x\"\"y\",z\n", &l, "文件").unwrap();
        // One record of twelve bytes inside quotes across three short lines.
        let e = check_line_lengths(b"a\n\"bc\nde\nfgh\"\n", &l, "文件").unwrap_err();
        assert!(
            e.0.contains("第2行起") && e.0.contains("max_line_bytes"),
            "{e}"
        );
        // A quote inside an unquoted field is text: the line still ends.
        check_line_lengths(b"ab\"c\nd\n", &l, "文件").unwrap();
        let e = check_line_lengths(b"1\n2\n3\n", &limits(8, 2), "文件").unwrap_err();
        assert!(e.0.contains("max_rows"), "{e}");
        // Blank lines are not records.
        check_line_lengths(b"1\n\n\r\n2\n", &limits(8, 2), "文件").unwrap();
    }

    #[test]
    fn a_reader_refuses_on_the_way_and_the_refusal_is_found_again() {
        let data = [b'1'; 100];
        let mut r = BoundedCsv::new(&data[..], &limits(50, 10), u64::MAX, "CSV文件");
        let mut out = Vec::new();
        let e = r.read_to_end(&mut out).unwrap_err();
        assert!(refusal_of(&e).unwrap().0.contains("max_line_bytes"));
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(BoundedCsv::new(
                &data[..],
                &InputLimits {
                    max_unpacked_bytes: 60,
                    ..limits(50, 10)
                },
                60,
                "CSV文件",
            ));
        let e = rdr.byte_records().next().unwrap().unwrap_err();
        assert!(
            refusal_of(&e).unwrap().0.contains("max_unpacked_bytes"),
            "{e}"
        );
    }
}
