//! Reading Excel workbooks: `.xlsx` streamed cell by cell (only the shared-string table is
//! loaded; a large sheet's rows checked on two threads), `.xls` read whole.

use std::borrow::Cow;
use std::io::{BufReader, Cursor, Read, Seek};

use calamine::{DataRef, Reader};
use chrono::NaiveDate;
use minzheng_domain::registry::{ImportIssue, ImportProgress};

use super::cells::{Cell, ScanState, Scanned, TableScan};
use super::fanout::{Batch, Fanout};
use super::{
    outside, refused, row_too_long, too_many_issues, two_cores, ReadMeta, Source, Ticker,
    PARALLEL_BATCH, PARALLEL_MIN_ROWS,
};
use crate::formats::limits::{check_xls, check_xlsx, InputLimits};

// ------------------------------------------------------------------ xlsx

fn not_excel(ext: &str) -> ImportIssue {
    ImportIssue::file(format!(
        "文件不是有效的Excel工作簿（.{ext}）：可能是其他类型的文件改了扩展名，或文件已损坏。请在Excel中打开并另存为 .xlsx 后重新导入"
    ))
}

pub(super) fn read_xlsx(
    src: Source<'_>,
    mask: bool,
    today: NaiveDate,
    meta: &mut ReadMeta,
    progress: &mut dyn FnMut(ImportProgress),
    limits: &InputLimits,
) -> Result<Scanned, ImportIssue> {
    match src {
        Source::Bytes(b) => {
            check_xlsx(Cursor::new(b), limits).map_err(refused)?;
            let wb: calamine::Xlsx<_> =
                calamine::open_workbook_from_rs(Cursor::new(b)).map_err(|_| not_excel("xlsx"))?;
            scan_xlsx(wb, mask, today, meta, progress, PARALLEL_MIN_ROWS, limits)
        }
        Source::File(f, _) => {
            check_xlsx(BufReader::with_capacity(1 << 16, &f), limits).map_err(refused)?;
            let wb: calamine::Xlsx<_> =
                calamine::open_workbook_from_rs(BufReader::with_capacity(1 << 16, f))
                    .map_err(|_| not_excel("xlsx"))?;
            scan_xlsx(wb, mask, today, meta, progress, PARALLEL_MIN_ROWS, limits)
        }
    }
}

/// Text a batch of rows may hold before it is handed to a checking thread, whatever its
/// number of rows (rows of inline strings own their text).
const BATCH_TEXT_BYTES: usize = 1 << 20;

/// The text a row's cells hold: (all of it, the part they own).
fn row_text(cells: &[Cell<'_>]) -> (usize, usize) {
    cells.iter().fold((0, 0), |(all, owned), c| match c {
        Cell::Text(Cow::Owned(s)) => (all + s.len(), owned + s.len()),
        Cell::Text(Cow::Borrowed(s)) => (all + s.len(), owned),
        Cell::Error(e) => (all + e.len(), owned + e.len()),
        _ => (all, owned),
    })
}

/// Takes the first sheet whose first ten rows contain a header. A sheet of at least
/// `parallel_from` rows is checked on two threads. Empty cells (formatting only) are
/// skipped; a cell with content right of `max_columns` or below `max_rows`, a row holding
/// more than `max_line_bytes` of text, or more than `max_issues` problems stop the read.
fn scan_xlsx<RS: Read + Seek>(
    mut wb: calamine::Xlsx<RS>,
    mask: bool,
    today: NaiveDate,
    meta: &mut ReadMeta,
    progress: &mut dyn FnMut(ImportProgress),
    parallel_from: u64,
    limits: &InputLimits,
) -> Result<Scanned, ImportIssue> {
    let names = wb.sheet_names();
    if names.is_empty() {
        return Err(ImportIssue::file("工作簿中没有工作表"));
    }
    let mut first_nonempty: Option<String> = None;
    for name in &names {
        let Ok(mut cells) = wb.worksheet_cells_reader(name) else {
            continue;
        };
        let total_rows = {
            let d = cells.dimensions();
            u64::from(d.end.0.saturating_sub(d.start.0)) + 1
        };
        let mut scan = TableScan::new(mask, today);
        let mut ticker = Ticker { last: 0 };
        // Rows start at the first row holding a value (as a calamine range would).
        let mut first_row: Option<u32> = None;
        let mut current: Option<(u32, Vec<Cell<'_>>)> = None;
        let mut row_bytes = 0usize;
        let mut failed = false;
        let mut refusal: Option<ImportIssue> = None;
        // A large sheet's rows after the header are checked on two threads while this one
        // parses the XML.
        let parallel = total_rows >= parallel_from && two_cores();
        let mut rows_seen = 0usize;
        std::thread::scope(|s| {
            type Lines<'a> = (usize, Vec<Cell<'a>>);
            let mut fan: Option<Fanout<'_, Lines<'_>>> = None;
            let mut batch: Batch<Lines<'_>> = Batch::default();
            let mut batch_bytes = 0usize;
            // Hands one finished row on: false when nothing more can change the outcome,
            // a refusal when the problems found so far are too many.
            let mut emit = |r: u32, row_cells, first_row: u32| {
                let index = (r - first_row) as usize;
                let line = r as usize + 1;
                let ScanState::Checking(ch) = &mut scan.state else {
                    scan.push(index, line, row_cells);
                    return Ok(scan.wants_more());
                };
                let Some(f) = fan.as_mut() else {
                    ch.row(line, &row_cells);
                    if let Some(issue) = too_many_issues(&ch.ledger, limits) {
                        return Err(issue);
                    }
                    if parallel {
                        fan = Some(Fanout::start(s, ch, |ch, rows: &[Lines<'_>]| {
                            for (line, cells) in rows {
                                ch.row(*line, cells);
                            }
                        }));
                    }
                    return Ok(true);
                };
                batch_bytes += row_text(&row_cells).1 + row_cells.len() * size_of::<Cell<'_>>();
                batch.items.push((line, row_cells));
                batch.len += 1;
                if batch.len == PARALLEL_BATCH || batch_bytes >= BATCH_TEXT_BYTES {
                    let mut spare = f.spare();
                    spare.items.clear();
                    let full = std::mem::replace(&mut batch, spare);
                    batch_bytes = 0;
                    if !f.send(full, &mut ch.ledger) {
                        return Ok(false);
                    }
                    if let Some(issue) = too_many_issues(&ch.ledger, limits) {
                        return Err(issue);
                    }
                }
                Ok(true)
            };
            loop {
                let rec = match cells.next_cell_with_formula_metadata() {
                    Ok(Some(rec)) => rec,
                    Ok(None) => break,
                    Err(_) => {
                        failed = true;
                        break;
                    }
                };
                let (row, col) = rec.pos;
                let has_formula = rec.formula.is_some();
                let cell = match rec.value {
                    DataRef::Empty if has_formula => Cell::UncalculatedFormula,
                    // Formatting without content: nothing to read, nothing to lay out.
                    DataRef::Empty => continue,
                    DataRef::Float(f) if f == 0.0 && has_formula => Cell::FormulaZero,
                    DataRef::Int(0) if has_formula => Cell::FormulaZero,
                    DataRef::String(s) => Cell::Text(Cow::Owned(s)),
                    DataRef::SharedString(s) => Cell::Text(Cow::Borrowed(s)),
                    DataRef::Int(n) => Cell::Number(n as f64),
                    DataRef::Float(f) => Cell::Number(f),
                    DataRef::Bool(b) => Cell::Text(Cow::Borrowed(if b { "是" } else { "否" })),
                    DataRef::DateTime(dt) => Cell::Number(dt.as_f64()),
                    DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Text(Cow::Owned(s)),
                    DataRef::Error(e) => Cell::Error(format!("{e}")),
                };
                if let Some(issue) = outside(u64::from(row) + 1, u64::from(col) + 1, limits) {
                    refusal = Some(issue);
                    break;
                }
                let start = *first_row.get_or_insert(row);
                if current.as_ref().is_some_and(|(r, _)| *r != row) {
                    if let Some((r, done_cells)) = current.take() {
                        row_bytes = 0;
                        match emit(r, done_cells, start) {
                            Ok(true) => {}
                            Ok(false) => break,
                            Err(issue) => {
                                refusal = Some(issue);
                                break;
                            }
                        }
                        rows_seen += 1;
                        ticker.tick(rows_seen, || total_rows, progress);
                    }
                }
                row_bytes += row_text(std::slice::from_ref(&cell)).0;
                if let Some(issue) = row_too_long(u64::from(row) + 1, row_bytes as u64, limits) {
                    refusal = Some(issue);
                    break;
                }
                let (_, row_cells) = current.get_or_insert_with(|| (row, Vec::new()));
                let col = col as usize;
                if row_cells.len() <= col {
                    row_cells.resize(col + 1, Cell::Empty);
                }
                row_cells[col] = cell;
            }
            if refusal.is_none() {
                if let (Some((r, done_cells)), Some(start)) = (current.take(), first_row) {
                    if let Err(issue) = emit(r, done_cells, start) {
                        refusal = Some(issue);
                    }
                }
            }
            if let (Some(f), ScanState::Checking(ch)) = (fan, &mut scan.state) {
                f.finish(refusal.is_none().then_some(batch), &mut ch.ledger);
                if refusal.is_none() {
                    refusal = too_many_issues(&ch.ledger, limits);
                }
            }
        });
        drop(cells);
        if let Some(issue) = refusal {
            meta.sheet = Some(name.clone());
            return Ok(Scanned::Refused(issue));
        }
        if failed && first_row.is_none() {
            continue;
        }
        if failed {
            return Err(not_excel("xlsx"));
        }
        match scan.finish() {
            Scanned::NoHeader { nonblank } => {
                if nonblank && first_nonempty.is_none() {
                    first_nonempty = Some(name.clone());
                }
            }
            found => {
                meta.sheet = Some(name.clone());
                return Ok(found);
            }
        }
    }
    meta.sheet = first_nonempty.clone().or_else(|| names.first().cloned());
    Ok(Scanned::NoHeader {
        nonblank: first_nonempty.is_some(),
    })
}

// ------------------------------------------------------------------ xls

/// `.xls` (BIFF, at most 65,536 rows) has no streaming reader: each sheet is read whole.
pub(super) fn read_xls(
    src: Source<'_>,
    mask: bool,
    today: NaiveDate,
    meta: &mut ReadMeta,
    limits: &InputLimits,
) -> Result<Scanned, ImportIssue> {
    let data: Cow<'_, [u8]> = match src {
        Source::Bytes(b) => Cow::Borrowed(b),
        Source::File(mut f, _) => {
            let mut v = Vec::new();
            f.read_to_end(&mut v)
                .map_err(|e| ImportIssue::file(format!("无法读取文件：{e}")))?;
            Cow::Owned(v)
        }
    };
    // The library reads every sheet whole when it opens the workbook: checked first.
    check_xls(&data, limits).map_err(refused)?;
    let mut wb: calamine::Xls<_> =
        calamine::open_workbook_from_rs(Cursor::new(&data[..])).map_err(|_| not_excel("xls"))?;
    let names = wb.sheet_names();
    if names.is_empty() {
        return Err(ImportIssue::file("工作簿中没有工作表"));
    }
    let mut first_nonempty: Option<String> = None;
    for name in &names {
        let Ok(range) = wb.worksheet_range(name) else {
            continue;
        };
        let formulas = wb.worksheet_formula(name).ok();
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let mut scan = TableScan::new(mask, today);
        for (i, row) in range.rows().enumerate() {
            let mut cells: Vec<Cell<'_>> = vec![Cell::Empty; c0 as usize];
            for (j, d) in row.iter().enumerate() {
                let has_formula = || {
                    formulas.as_ref().is_some_and(|f| {
                        f.get_value((r0 + i as u32, c0 + j as u32))
                            .is_some_and(|s| !s.is_empty())
                    })
                };
                use calamine::Data;
                cells.push(match d {
                    Data::Empty if has_formula() => Cell::UncalculatedFormula,
                    Data::Empty => Cell::Empty,
                    Data::Float(f) if *f == 0.0 && has_formula() => Cell::FormulaZero,
                    Data::Int(0) if has_formula() => Cell::FormulaZero,
                    Data::String(s) => Cell::Text(Cow::Borrowed(s)),
                    Data::Int(n) => Cell::Number(*n as f64),
                    Data::Float(f) => Cell::Number(*f),
                    Data::Bool(b) => Cell::Text(Cow::Borrowed(if *b { "是" } else { "否" })),
                    Data::DateTime(dt) => Cell::Number(dt.as_f64()),
                    Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(Cow::Borrowed(s)),
                    Data::Error(e) => Cell::Error(format!("{e}")),
                });
            }
            let line = r0 as usize + i + 1;
            if let Some(last) = cells.iter().rposition(|c| !c.is_blank()) {
                if let Some(issue) = outside(line as u64, last as u64 + 1, limits) {
                    return Ok(Scanned::Refused(issue));
                }
            }
            scan.push(i, line, cells);
            if let ScanState::Checking(ch) = &scan.state {
                if let Some(issue) = too_many_issues(&ch.ledger, limits) {
                    return Ok(Scanned::Refused(issue));
                }
            }
            if !scan.wants_more() {
                break;
            }
        }
        match scan.finish() {
            Scanned::NoHeader { nonblank } => {
                if nonblank && first_nonempty.is_none() {
                    first_nonempty = Some(name.clone());
                }
            }
            found => {
                meta.sheet = Some(name.clone());
                return Ok(found);
            }
        }
    }
    meta.sheet = first_nonempty.clone().or_else(|| names.first().cloned());
    Ok(Scanned::NoHeader {
        nonblank: first_nonempty.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_same_ledger, ledger_of, ledger_with_errors, today};
    use super::*;
    use crate::formats::ledger::ledger_xlsx;

    /// The same for an `.xlsx` sheet, whose cells arrive already typed.
    #[test]
    fn xlsx_checked_on_two_threads_matches_one_thread() {
        let rows = ledger_with_errors();
        let data = ledger_xlsx(&rows).unwrap();
        let read = |parallel_from: u64| {
            let wb: calamine::Xlsx<_> =
                calamine::open_workbook_from_rs(Cursor::new(&data)).unwrap();
            let mut meta = ReadMeta::default();
            let limits = InputLimits::default();
            ledger_of(
                scan_xlsx(
                    wb,
                    true,
                    today(),
                    &mut meta,
                    &mut |_| {},
                    parallel_from,
                    &limits,
                )
                .unwrap(),
            )
        };
        assert_same_ledger(&rows, &read(u64::MAX), &read(0));
    }
}
