//! Reading CSV: UTF-8 (BOM optional) or GBK/GB18030, record by record, a large file's rows
//! checked on two threads.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read, Seek};

use chrono::NaiveDate;

use minzheng_domain::registry::{ImportIssue, ImportProgress};

use super::cells::{Cell, ScanState, Scanned, TableScan};
use super::fanout::Fanout;
use super::{outside, refused, too_many_issues, ReadMeta, Source, Ticker, PARALLEL_BATCH};
use crate::formats::limits::{refusal_of, BoundedCsv, InputLimits};

// ------------------------------------------------------------------ CSV

/// The encoding of CSV text: UTF-8 (BOM optional) when the whole input is valid UTF-8,
/// otherwise GB18030 (a superset of GBK). Checked in one streaming pass before parsing;
/// text that is not valid UTF-8 gets a second look ([`diagnose`]), so a UTF-8 file with a
/// stray byte, or bytes that are no known encoding, are refused with what is wrong and
/// where instead of being read as GB18030 mojibake.
fn detect_encoding(src: &mut Source<'_>) -> Result<(&'static str, bool), ImportIssue> {
    let io = |e: std::io::Error| ImportIssue::file(format!("无法读取文件：{e}"));
    let (bom, utf8) = match src {
        Source::Bytes(b) => {
            let bom = b.starts_with(b"\xEF\xBB\xBF");
            let text = if bom { &b[3..] } else { &b[..] };
            (bom, std::str::from_utf8(text).is_ok())
        }
        Source::File(f, _) => {
            let mut r = BufReader::with_capacity(1 << 20, &mut *f);
            let bom = r.fill_buf().map_err(io)?.starts_with(b"\xEF\xBB\xBF");
            if bom {
                r.consume(3);
            }
            let mut carry: Vec<u8> = Vec::new();
            let utf8 = loop {
                let buf = r.fill_buf().map_err(io)?;
                if buf.is_empty() {
                    break carry.is_empty();
                }
                let n = buf.len();
                let chunk: Cow<'_, [u8]> = if carry.is_empty() {
                    Cow::Borrowed(buf)
                } else {
                    let mut c = std::mem::take(&mut carry);
                    c.extend_from_slice(buf);
                    Cow::Owned(c)
                };
                match std::str::from_utf8(&chunk) {
                    Ok(_) => {}
                    // An incomplete character at the end continues in the next chunk.
                    Err(e) if e.error_len().is_none() => {
                        carry = chunk[e.valid_up_to()..].to_vec();
                    }
                    Err(_) => break false,
                }
                r.consume(n);
            };
            drop(r);
            f.rewind().map_err(io)?;
            (bom, utf8)
        }
    };
    if utf8 {
        return Ok(if bom {
            ("UTF-8(BOM)", true)
        } else {
            ("UTF-8", false)
        });
    }
    let d = diagnose(src, bom)?;
    const RESAVE: &str = "请在Excel中打开后另存为“CSV UTF-8（逗号分隔）”再导入";
    if bom {
        return Err(ImportIssue::file(format!(
            "文件开头标明为UTF-8编码，但第{}行含有不是UTF-8的字节（文件可能已损坏或混入了其他编码的内容）：{RESAVE}",
            d.utf8_error_line
        )));
    }
    // Mostly well-formed UTF-8 characters with a few bad bytes: a damaged UTF-8 file, not
    // GBK (GBK text is almost never valid UTF-8 by chance).
    if d.utf8_chars >= 4 && d.utf8_chars >= 4 * d.utf8_errors {
        return Err(ImportIssue::file(format!(
            "文件是UTF-8编码，但第{}行含有不是UTF-8的字节（共{}处；文件可能已损坏或混入了其他编码的内容）：请检查该行，或{RESAVE}",
            d.utf8_error_line, d.utf8_errors
        )));
    }
    if let Some(line) = d.gb_error_line {
        return Err(ImportIssue::file(format!(
            "无法识别文件的编码：既不是有效的UTF-8，也不是GBK/GB18030（第{line}行起无法解读）：{RESAVE}"
        )));
    }
    Ok(("GBK/GB18030", false))
}

/// What a second look at text that is not valid UTF-8 finds.
#[derive(Debug, Default)]
struct Diagnosis {
    /// Well-formed multi-byte UTF-8 characters.
    utf8_chars: u64,
    /// Places where the bytes are not UTF-8.
    utf8_errors: u64,
    /// The line of the first of them.
    utf8_error_line: usize,
    /// The first line GB18030 cannot decode, if any.
    gb_error_line: Option<usize>,
}

fn newlines(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c == b'\n').count()
}

impl Diagnosis {
    /// Counts UTF-8 characters and errors in `chunk` (which starts with the carried bytes
    /// of an incomplete character, never a newline); returns the bytes to carry.
    fn utf8(&mut self, chunk: &[u8], lines_before: usize, last: bool) -> Vec<u8> {
        let mut pos = 0;
        loop {
            let rest = &chunk[pos..];
            let (valid, err) = match std::str::from_utf8(rest) {
                Ok(s) => (s.len(), None),
                Err(e) => (e.valid_up_to(), Some(e.error_len())),
            };
            self.utf8_chars += rest[..valid].iter().filter(|&&b| b >= 0xC0).count() as u64;
            let at = pos + valid;
            let bad = match err {
                None => return Vec::new(),
                Some(None) if !last => return chunk[at..].to_vec(),
                Some(None) => chunk.len() - at,
                Some(Some(n)) => n,
            };
            if self.utf8_errors == 0 {
                self.utf8_error_line = lines_before + newlines(&chunk[..at]) + 1;
            }
            self.utf8_errors += 1;
            pos = at + bad;
            if pos >= chunk.len() {
                return Vec::new();
            }
        }
    }

    /// Decodes `chunk` as GB18030 until the first malformed sequence.
    fn gb18030(
        &mut self,
        dec: &mut encoding_rs::Decoder,
        chunk: &[u8],
        lines_before: usize,
        last: bool,
    ) {
        if self.gb_error_line.is_some() {
            return;
        }
        let mut out = [0u8; 16 * 1024];
        let mut offset = 0;
        loop {
            let (res, read, _) =
                dec.decode_to_utf8_without_replacement(&chunk[offset..], &mut out, last);
            match res {
                encoding_rs::DecoderResult::InputEmpty => return,
                encoding_rs::DecoderResult::OutputFull => offset += read,
                encoding_rs::DecoderResult::Malformed(bad, extra) => {
                    let at = (offset + read).saturating_sub(bad as usize + extra as usize);
                    self.gb_error_line = Some(lines_before + newlines(&chunk[..at]) + 1);
                    return;
                }
            }
        }
    }
}

/// Reads the whole input once more, counting UTF-8 characters and errors and decoding it
/// as GB18030 (invalid inputs only, so the common cases pay nothing).
fn diagnose(src: &mut Source<'_>, bom: bool) -> Result<Diagnosis, ImportIssue> {
    let io = |e: std::io::Error| ImportIssue::file(format!("无法读取文件：{e}"));
    let mut d = Diagnosis::default();
    let mut dec = encoding_rs::GB18030.new_decoder_without_bom_handling();
    match src {
        Source::Bytes(b) => {
            let text = if bom { &b[3..] } else { &b[..] };
            d.utf8(text, 0, true);
            d.gb18030(&mut dec, text, 0, true);
        }
        Source::File(f, _) => {
            let mut r = BufReader::with_capacity(1 << 20, &mut *f);
            if bom {
                r.fill_buf().map_err(io)?;
                r.consume(3);
            }
            let mut carry: Vec<u8> = Vec::new();
            let mut lines = 0;
            loop {
                let buf = r.fill_buf().map_err(io)?;
                let last = buf.is_empty();
                let n = buf.len();
                let mut chunk = std::mem::take(&mut carry);
                chunk.extend_from_slice(buf);
                carry = d.utf8(&chunk, lines, last);
                d.gb18030(&mut dec, buf, lines, last);
                if last {
                    break;
                }
                lines += newlines(buf);
                r.consume(n);
            }
            drop(r);
            f.rewind().map_err(io)?;
        }
    }
    Ok(d)
}

/// The cells of a CSV record, decoded from UTF-8 or GB18030.
fn decode_cells(rec: &csv::ByteRecord, utf8: bool) -> Vec<Cell<'_>> {
    decode_iter(rec, utf8).collect()
}

fn decode_iter(rec: &csv::ByteRecord, utf8: bool) -> impl Iterator<Item = Cell<'_>> {
    rec.iter().map(move |field| {
        let s: Cow<'_, str> = if utf8 {
            // The whole input was checked to be UTF-8 (fields split at ASCII commas stay
            // valid): std's validation is the fast path, lossy decoding the safe one.
            match std::str::from_utf8(field) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(field),
            }
        } else {
            encoding_rs::GB18030.decode_without_bom_handling(field).0
        };
        if s.trim().is_empty() {
            Cell::Empty
        } else {
            Cell::Text(without_inert_mark(s))
        }
    })
}

/// A cell our own CSV export made inert (`'=…`, see `formats::inert`) reads back as the
/// text it was.
fn without_inert_mark(s: Cow<'_, str>) -> Cow<'_, str> {
    let kept = crate::formats::inert::read_back(&s).len();
    if kept == s.len() {
        return s;
    }
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(&b[b.len() - kept..]),
        Cow::Owned(o) => Cow::Owned(o[o.len() - kept..].to_string()),
    }
}

/// The spreadsheet row of the record just read (the row the clerk sees in Excel or WPS,
/// [`BoundedCsv::next_row`]) and the byte offset where it starts.
fn record_position<R: Read>(
    rdr: &mut csv::Reader<BoundedCsv<R>>,
    rec: &csv::ByteRecord,
    index: usize,
) -> (usize, u64) {
    let (line, byte) = rec
        .position()
        .map(|p| (p.line() as usize, p.byte()))
        .unwrap_or((index + 1, 0));
    let row = rdr.get_mut().next_row().map_or(line, |r| r as usize);
    (row, byte)
}

fn csv_error(index: usize, e: csv::Error) -> ImportIssue {
    if let Some(r) = refusal_of(&e) {
        return refused(r);
    }
    ImportIssue::file(format!("CSV第{}行格式有误（引号不匹配等）：{e}", index + 1))
}

/// A record with content right of `max_columns` (trailing empty fields are ignored: Excel
/// writes them up to its sheet's used range).
fn too_wide(rec: &csv::ByteRecord, line: usize, limits: &InputLimits) -> Option<ImportIssue> {
    if rec.len() as u64 <= limits.max_columns {
        return None;
    }
    let last = rec
        .iter()
        .rposition(|f| !f.iter().all(u8::is_ascii_whitespace))?;
    outside(line as u64, last as u64 + 1, limits)
}

/// Reads CSV; inputs of at least `parallel_from` bytes are checked on two threads. The
/// bytes reach the parser through [`BoundedCsv`] (records of at most `max_line_bytes`, at
/// most `max_rows` of them).
pub(super) fn read_csv(
    mut src: Source<'_>,
    mask: bool,
    today: NaiveDate,
    meta: &mut ReadMeta,
    progress: &mut dyn FnMut(ImportProgress),
    parallel_from: u64,
    limits: &InputLimits,
) -> Result<Scanned, ImportIssue> {
    let (enc, bom) = detect_encoding(&mut src)?;
    meta.encoding = Some(enc.to_string());
    let len = src.len().max(1);
    let parallel = len >= parallel_from;
    let reader: Box<dyn Read + Send + '_> = match src {
        Source::Bytes(b) => Box::new(if bom { &b[3..] } else { b }),
        Source::File(f, _) => {
            let mut r = BufReader::with_capacity(1 << 18, f);
            if bom {
                let n = r.fill_buf().map(|b| b.len()).unwrap_or(0);
                r.consume(3.min(n));
            }
            Box::new(r)
        }
    };
    let utf8 = enc != "GBK/GB18030";
    let reader = BoundedCsv::new(reader, limits, u64::MAX, "CSV文件").counting_rows();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(reader);
    let mut scan = TableScan::new(mask, today);
    let mut rec = csv::ByteRecord::new();
    let mut ticker = Ticker { last: 0 };
    let mut index = 0usize;
    // The first rows (which hold the header) are checked on this thread; a large file's
    // remaining rows are then checked on two threads while this one parses.
    loop {
        if parallel && index > 10 && !matches!(scan.state, ScanState::Looking) {
            break;
        }
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => return Ok(scan.finish()),
            Err(e) => return Err(csv_error(index, e)),
        }
        let (line, byte) = record_position(&mut rdr, &rec, index);
        if let Some(issue) = too_wide(&rec, line, limits) {
            return Ok(Scanned::Refused(issue));
        }
        scan.push(index, line, decode_cells(&rec, utf8));
        index += 1;
        if let ScanState::Checking(ch) = &scan.state {
            if let Some(issue) = too_many_issues(&ch.ledger, limits) {
                return Ok(Scanned::Refused(issue));
            }
        }
        if !scan.wants_more() {
            return Ok(scan.finish());
        }
        let done = scan.rows_so_far();
        ticker.tick(
            done,
            || (done as f64 * len as f64 / byte.max(1) as f64) as u64,
            progress,
        );
    }
    let ScanState::Checking(checker) = &mut scan.state else {
        // No header or a refused one: nothing further changes the outcome.
        return Ok(scan.finish());
    };
    let fork = checker.fork();
    let ledger = &mut checker.ledger;
    let checked = std::thread::scope(|s| -> Result<(), ImportIssue> {
        let mut fan = Fanout::start(s, &fork, move |ch, recs: &[(usize, csv::ByteRecord)]| {
            // One cell vector for the batch (its records live until the batch ends).
            let mut cells: Vec<Cell<'_>> = Vec::new();
            for (line, rec) in recs {
                cells.clear();
                cells.extend(decode_iter(rec, utf8));
                ch.row(*line, &cells);
            }
        });
        let mut batch = fan.spare();
        let mut failed = None;
        loop {
            if batch.len == batch.items.len() {
                batch.items.push((0, csv::ByteRecord::new()));
            }
            let (line, rec) = &mut batch.items[batch.len];
            match rdr.read_byte_record(rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    failed = Some(csv_error(index, e));
                    break;
                }
            }
            let byte;
            (*line, byte) = record_position(&mut rdr, rec, index);
            if let Some(issue) = too_wide(rec, *line, limits) {
                failed = Some(issue);
                break;
            }
            batch.len += 1;
            index += 1;
            if batch.len == PARALLEL_BATCH {
                let full = std::mem::replace(&mut batch, fan.spare());
                if !fan.send(full, ledger) {
                    break;
                }
                if let Some(issue) = too_many_issues(ledger, limits) {
                    failed = Some(issue);
                    break;
                }
                let done = ledger.rows_read;
                ticker.tick(
                    done,
                    || (done as f64 * len as f64 / byte.max(1) as f64) as u64,
                    progress,
                );
            }
        }
        fan.finish(failed.is_none().then_some(batch), ledger);
        if failed.is_none() {
            failed = too_many_issues(ledger, limits);
        }
        failed.map_or(Ok(()), Err)
    });
    if let Err(issue) = checked {
        // A refusal, not a broken file: the report shows it as the file's problem.
        return Ok(Scanned::Refused(issue));
    }
    Ok(scan.finish())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_same_ledger, ledger_of, ledger_with_errors, today};
    use super::*;
    use crate::formats::ledger::ledger_csv;

    /// The two-thread check of a CSV gives the one-thread check's ledger.
    #[test]
    fn csv_checked_on_two_threads_matches_one_thread() {
        let rows = ledger_with_errors();
        let data = ledger_csv(&rows).unwrap();
        let read = |parallel_from: u64| {
            let mut meta = ReadMeta::default();
            ledger_of(
                read_csv(
                    Source::Bytes(&data),
                    true,
                    today(),
                    &mut meta,
                    &mut |_| {},
                    parallel_from,
                    &InputLimits::default(),
                )
                .unwrap(),
            )
        };
        assert_same_ledger(&rows, &read(u64::MAX), &read(0));
    }

    /// Errors are reported on the row the clerk sees in Excel or WPS: with LF or CRLF line
    /// ends, after an address typed on two lines inside one cell (one row in the sheet),
    /// and after a blank line (a row of its own), on one thread and on two.
    #[test]
    fn errors_name_the_spreadsheet_row_whatever_the_line_ends() {
        use minzheng_domain::registry::Column;
        let villages = ["511802001001".to_string()];
        let mut rows = crate::formats::synthetic::generate_ledger(40, 5, &villages);
        // Data row k is sheet row k + 2 (the header is row 1).
        rows[1][Column::Address as usize] = "和平路\n1号".into();
        rows[5][Column::IdNumber as usize] = "不对5".into();
        rows[25][Column::IdNumber as usize] = "不对25".into();
        let csv = String::from_utf8(ledger_csv(&rows).unwrap()).unwrap();
        assert!(
            csv.contains("和平路\n1号"),
            "the address stays one quoted cell"
        );
        // A blank line after data row 3 (sheet row 5) is sheet row 6.
        let mut lines: Vec<&str> = csv.split_inclusive('\n').collect();
        let after_row3 = lines.iter().position(|l| l.contains("1号")).unwrap() + 3;
        lines.insert(after_row3, "\n");
        let lf = lines.concat();
        let crlf = lf.replace('\n', "\r\n");
        for (what, text) in [("LF", &lf), ("CRLF", &crlf)] {
            for parallel_from in [u64::MAX, 0] {
                let mut meta = ReadMeta::default();
                let ledger = ledger_of(
                    read_csv(
                        Source::Bytes(text.as_bytes()),
                        false,
                        today(),
                        &mut meta,
                        &mut |_| {},
                        parallel_from,
                        &InputLimits::default(),
                    )
                    .unwrap(),
                );
                let mut bad: Vec<(usize, &str)> = ledger
                    .issues
                    .iter()
                    .filter(|i| i.value.starts_with("不对"))
                    .map(|i| (i.row, i.value.as_str()))
                    .collect();
                bad.sort();
                assert_eq!(
                    bad,
                    [(8, "不对5"), (28, "不对25")],
                    "{what}, {parallel_from}: {:?}",
                    ledger.issues
                );
            }
        }
    }
}
