//! Reading ledgers as a stream and checking each row into a compact form.
//!
//! A ledger of a million persons is about 150 MB of CSV; holding every cell as a `String`
//! would take gigabytes. So the file is never held as a table: CSV is parsed record by record
//! from the file (or the uploaded bytes), `.xlsx` sheets are streamed cell by cell through
//! calamine's cell reader (only the shared-string table is loaded), and each row is validated
//! as it arrives into a fixed-size row of the domain's [`Ledger`] (about 100 bytes per
//! person). Only `.xls` (at most 65,536 rows) is read whole.

mod cells;
mod checker;
mod csv_text;
mod excel;
mod fanout;

use std::io::{Read, Seek};
use std::path::Path;

use chrono::NaiveDate;
use minzheng_domain::registry::ledger::Ledger;
use minzheng_domain::registry::{ImportIssue, ImportProgress};

use super::ImportInput;
use crate::formats::limits::{over, unpanicked, InputLimits, Refused};
use cells::{required_list, Scanned};

/// How the file was read, for the report.
#[derive(Debug, Default, Clone)]
pub(crate) struct ReadMeta {
    pub sheet: Option<String>,
    pub encoding: Option<String>,
}

fn ext_of(name: &str) -> String {
    Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The bytes of the input: borrowed uploads, or a file opened for streaming.
enum Source<'a> {
    Bytes(&'a [u8]),
    File(std::fs::File, u64),
}

impl Source<'_> {
    fn len(&self) -> u64 {
        match self {
            Source::Bytes(b) => b.len() as u64,
            Source::File(_, n) => *n,
        }
    }
}

fn open_source(input: &ImportInput, max: u64) -> Result<Source<'_>, ImportIssue> {
    let too_big = |n: u64| {
        ImportIssue::file(format!(
            "文件大小{:.1}MB，超过上限{}MB：请按乡镇拆分后分批导入，或由管理员调整导入大小上限",
            n as f64 / 1_048_576.0,
            max / 1_048_576
        ))
    };
    match input {
        ImportInput::Bytes { data, .. } => {
            if data.len() as u64 > max {
                return Err(too_big(data.len() as u64));
            }
            Ok(Source::Bytes(data))
        }
        ImportInput::Path(p) => {
            let cannot =
                |e: std::io::Error| ImportIssue::file(format!("无法读取文件{}：{e}", p.display()));
            let f = std::fs::File::open(p).map_err(cannot)?;
            let len = f.metadata().map_err(cannot)?.len();
            if len > max {
                return Err(too_big(len));
            }
            Ok(Source::File(f, len))
        }
    }
}

/// Whether the input holds nothing but whitespace (checked on small inputs only: a large
/// one is not blank in practice, and CSV is checked again while it is read).
fn is_blank_source(src: &mut Source<'_>) -> Result<bool, ImportIssue> {
    let io = |e: std::io::Error| ImportIssue::file(format!("无法读取文件：{e}"));
    match src {
        Source::Bytes(b) => Ok(b.iter().all(|c| c.is_ascii_whitespace())),
        Source::File(f, len) => {
            if *len > 64 * 1024 {
                return Ok(false);
            }
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).map_err(io)?;
            f.rewind().map_err(io)?;
            Ok(buf.iter().all(|c| c.is_ascii_whitespace()))
        }
    }
}

/// Reads and checks a ledger (ID numbers valid on `today`; IDs and accounts in the issues
/// masked if `mask`). Progress reports rows checked against the expected total
/// (estimated from bytes for CSV, from the sheet's dimensions for xlsx). A file beyond
/// `limits` is refused with the limit named; a file that makes the spreadsheet library
/// panic is refused as damaged.
pub(crate) fn read_ledger(
    input: &ImportInput,
    max: u64,
    limits: &InputLimits,
    mask: bool,
    today: NaiveDate,
    progress: &mut dyn FnMut(ImportProgress),
) -> (ReadMeta, Result<Ledger, ImportIssue>) {
    let mut meta = ReadMeta::default();
    let name = input.name();
    let ext = ext_of(&name);
    if !matches!(ext.as_str(), "csv" | "txt" | "xlsx" | "xlsm" | "xls") {
        return (
            meta,
            Err(ImportIssue::file(format!(
                "不支持的文件类型“{}”：请上传 .xlsx、.xls 或 .csv 文件",
                if ext.is_empty() { "无扩展名" } else { &ext }
            ))),
        );
    }
    let read = || {
        let mut src = open_source(input, max)?;
        if is_blank_source(&mut src)? {
            return Err(ImportIssue::file("文件是空的：没有任何内容"));
        }
        let scanned = match ext.as_str() {
            "csv" | "txt" => {
                let from = if two_cores() {
                    PARALLEL_MIN_BYTES
                } else {
                    u64::MAX
                };
                csv_text::read_csv(src, mask, today, &mut meta, progress, from, limits)?
            }
            "xls" => excel::read_xls(src, mask, today, &mut meta, limits)?,
            _ => excel::read_xlsx(src, mask, today, &mut meta, progress, limits)?,
        };
        match scanned {
            Scanned::Ledger(l) if l.rows_read == 0 => Err(ImportIssue::file("文件只有表头，没有数据行")),
            Scanned::Ledger(l) => Ok(l),
            Scanned::Refused(issue) => Err(issue),
            Scanned::NoHeader { nonblank: false } => {
                Err(ImportIssue::file("文件是空的：没有表头也没有数据"))
            }
            Scanned::NoHeader { nonblank: true } => Err(ImportIssue::file(format!(
                "没有找到表头：前10行中没有一行包含台账列名（必填列：{}）。请使用系统提供的导入模板",
                required_list()
            ))),
        }
    };
    let result = unpanicked("文件", read).unwrap_or_else(|r| Err(ImportIssue::file(r.0)));
    if let Ok(l) = &result {
        let n = l.rows_read as u64;
        progress(ImportProgress {
            phase: "校验",
            done: n,
            total: n,
        });
    }
    (meta, result)
}

/// The refusal of a file beyond a limit, as the report's file-wide issue.
fn refused(r: Refused) -> ImportIssue {
    ImportIssue::file(r.0)
}

/// The refusal of a ledger with more problems than `max_issues`, once the ledger read so
/// far has that many.
fn too_many_issues(ledger: &Ledger, limits: &InputLimits) -> Option<ImportIssue> {
    (ledger.issues.len() as u64 > limits.max_issues).then(|| {
        ImportIssue::file(format!(
            "第{}行之前已发现{}处错误，{}，已停止校验：请确认这是户籍台账、各列与表头对应后重新导入",
            ledger.issues.last().map_or(0, |i| i.row),
            ledger.issues.len(),
            over("max_issues", format!("{}处", limits.max_issues))
        ))
    })
}

/// A row cell beyond `max_columns` or a row beyond `max_rows` (both counted from 1).
fn outside(line: u64, col: u64, limits: &InputLimits) -> Option<ImportIssue> {
    if col > limits.max_columns {
        return Some(ImportIssue::file(format!(
            "第{line}行第{col}列有内容，{}：台账只需要模板中的列",
            over("max_columns", format!("{}列", limits.max_columns))
        )));
    }
    if line > limits.max_rows {
        return Some(ImportIssue::file(format!(
            "第{line}行有内容，{}：请按乡镇拆分后分批导入",
            over("max_rows", format!("{}行", limits.max_rows))
        )));
    }
    None
}

/// Text of one row (all its cells) beyond `max_line_bytes`.
fn row_too_long(line: u64, bytes: u64, limits: &InputLimits) -> Option<ImportIssue> {
    (bytes > limits.max_line_bytes).then(|| {
        ImportIssue::file(format!(
            "第{line}行的文字{}",
            over(
                "max_line_bytes",
                crate::formats::limits::size_text(limits.max_line_bytes)
            )
        ))
    })
}

/// Reports every 2,000 rows.
struct Ticker {
    last: usize,
}

impl Ticker {
    fn tick(
        &mut self,
        done: usize,
        total: impl FnOnce() -> u64,
        progress: &mut dyn FnMut(ImportProgress),
    ) {
        if done >= self.last + 2000 {
            self.last = done;
            progress(ImportProgress {
                phase: "校验",
                done: done as u64,
                total: total().max(done as u64),
            });
        }
    }
}

/// CSV inputs at least this large are checked on two threads.
const PARALLEL_MIN_BYTES: u64 = 4 << 20;
/// Records per batch handed to a checking thread.
const PARALLEL_BATCH: usize = 2048;
/// Checking threads (the reading thread parses the file for them).
const CHECKERS: usize = 2;
/// `.xlsx` sheets of at least this many rows are checked on two threads.
const PARALLEL_MIN_ROWS: u64 = 20_000;

fn two_cores() -> bool {
    std::thread::available_parallelism().map_or(1, |n| n.get()) > 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::synthetic::generate_ledger;
    use minzheng_domain::registry::Column;

    pub(super) fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    /// A ledger with errors spread over several batches: a bad ID number, a bad date, a
    /// bad amount.
    pub(super) fn ledger_with_errors() -> Vec<Vec<String>> {
        let villages = ["511802001001".to_string(), "511802001002".to_string()];
        let mut rows = generate_ledger(3_000, 5, &villages);
        for (k, r) in rows.iter_mut().enumerate().filter(|(k, _)| k % 997 == 3) {
            let c = [Column::IdNumber, Column::StatusDate, Column::WageMonthly][k % 3];
            r[c as usize] = "不对".into();
        }
        assert!(rows.len() > 3 * PARALLEL_BATCH);
        rows
    }

    pub(super) fn ledger_of(s: Scanned) -> Ledger {
        match s {
            Scanned::Ledger(l) => l,
            _ => panic!("no ledger"),
        }
    }

    /// Asserts that two reads of `rows` gave the same ledger: rows in file order with their
    /// text and amounts, the same issues and incomplete households.
    pub(super) fn assert_same_ledger(rows: &[Vec<String>], one: &Ledger, two: &Ledger) {
        assert_eq!(one.rows_read, rows.len());
        assert_eq!(two.rows_read, one.rows_read);
        assert!(!one.issues.is_empty() && one.rows.len() < rows.len());
        let key = |l: &Ledger| {
            l.rows
                .iter()
                .map(|r| {
                    let h = l.household_text(r);
                    (
                        r.line,
                        r.id,
                        l.name(r).to_string(),
                        [h.address, h.phone, h.bank, h.account, h.holder].join("|"),
                        l.incomes(r).map(|(_, _, f)| f.0).collect::<Vec<_>>(),
                        l.assets(r).map(|(_, f)| f.0).collect::<Vec<_>>(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let k1 = key(one);
        assert!(k1.windows(2).all(|w| w[0].0 < w[1].0), "file order");
        assert_eq!(k1, key(two));
        let issues = |l: &Ledger| {
            let mut v: Vec<String> = l
                .issues
                .iter()
                .map(|i| format!("{}|{}|{}|{}", i.row, i.column, i.value, i.reason))
                .collect();
            v.sort();
            v
        };
        assert_eq!(issues(one), issues(two));
        assert_eq!(one.bad_heads, two.bad_heads);
    }

    #[test]
    fn gbk_and_utf8_csv_read_the_same() {
        let text = "户主身份证号,村(社区)代码,姓名,身份证号,与户主关系\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        for (data, enc) in [
            (text.as_bytes().to_vec(), "UTF-8"),
            (
                [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
                "UTF-8(BOM)",
            ),
            (gbk.into_owned(), "GBK/GB18030"),
        ] {
            let input = ImportInput::Bytes {
                name: "a.csv".into(),
                data,
            };
            let (meta, r) = read_ledger(
                &input,
                u64::MAX,
                &InputLimits::default(),
                false,
                today(),
                &mut |_| {},
            );
            assert_eq!(meta.encoding.as_deref(), Some(enc));
            // Header found, no data rows.
            assert!(r.err().unwrap().reason.contains("只有表头"));
        }
    }
}
