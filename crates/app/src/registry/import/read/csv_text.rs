//! Reading CSV: UTF-8 (BOM optional) or GBK/GB18030, record by record, a large file's rows
//! checked on two threads.

use std::borrow::Cow;
use std::io::{BufRead, BufReader, Read, Seek};

use chrono::NaiveDate;

use minzheng_domain::registry::{ImportIssue, ImportProgress};

use super::cells::{Cell, ScanState, Scanned, TableScan};
use super::fanout::Fanout;
use super::{ReadMeta, Source, Ticker, PARALLEL_BATCH};

// ------------------------------------------------------------------ CSV

/// The encoding of CSV text: UTF-8 (BOM optional) when the whole input is valid UTF-8,
/// otherwise GB18030 (a superset of GBK). Checked in one streaming pass before parsing.
fn detect_encoding(src: &mut Source<'_>) -> Result<(&'static str, bool), ImportIssue> {
    let io = |e: std::io::Error| ImportIssue::file(format!("无法读取文件：{e}"));
    match src {
        Source::Bytes(b) => Ok(if b.starts_with(b"\xEF\xBB\xBF") {
            ("UTF-8(BOM)", true)
        } else if std::str::from_utf8(b).is_ok() {
            ("UTF-8", false)
        } else {
            ("GBK/GB18030", false)
        }),
        Source::File(f, _) => {
            let mut r = BufReader::with_capacity(1 << 20, &mut *f);
            let bom = r.fill_buf().map_err(io)?.starts_with(b"\xEF\xBB\xBF");
            let mut utf8 = true;
            if !bom {
                let mut carry: Vec<u8> = Vec::new();
                loop {
                    let buf = r.fill_buf().map_err(io)?;
                    if buf.is_empty() {
                        utf8 = carry.is_empty();
                        break;
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
                        Err(_) => {
                            utf8 = false;
                            break;
                        }
                    }
                    r.consume(n);
                }
            }
            drop(r);
            f.rewind().map_err(io)?;
            Ok(if bom {
                ("UTF-8(BOM)", true)
            } else if utf8 {
                ("UTF-8", false)
            } else {
                ("GBK/GB18030", false)
            })
        }
    }
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
            Cell::Text(s)
        }
    })
}

/// The line and byte offset where a record starts.
fn record_position(rec: &csv::ByteRecord, index: usize) -> (usize, u64) {
    rec.position()
        .map(|p| (p.line() as usize, p.byte()))
        .unwrap_or((index + 1, 0))
}

fn csv_error(index: usize, e: csv::Error) -> ImportIssue {
    ImportIssue::file(format!("CSV第{}行格式有误（引号不匹配等）：{e}", index + 1))
}

/// Reads CSV; inputs of at least `parallel_from` bytes are checked on two threads.
pub(super) fn read_csv(
    mut src: Source<'_>,
    mask: bool,
    today: NaiveDate,
    meta: &mut ReadMeta,
    progress: &mut dyn FnMut(ImportProgress),
    parallel_from: u64,
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
        let (line, byte) = record_position(&rec, index);
        scan.push(index, line, decode_cells(&rec, utf8));
        index += 1;
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
    std::thread::scope(|s| -> Result<(), ImportIssue> {
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
            (*line, byte) = record_position(rec, index);
            batch.len += 1;
            index += 1;
            if batch.len == PARALLEL_BATCH {
                let full = std::mem::replace(&mut batch, fan.spare());
                if !fan.send(full, ledger) {
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
        failed.map_or(Ok(()), Err)
    })?;
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
                )
                .unwrap(),
            )
        };
        assert_same_ledger(&rows, &read(u64::MAX), &read(0));
    }
}
