//! Limits on what a file from outside may make the server do: every reader of uploaded or
//! operator-supplied files (ledgers, return files, death lists, division and holiday files)
//! checks its input against one [`InputLimits`] before and while it parses, and refuses
//! with a Chinese message naming the limit that was reached.
//!
//! A spreadsheet is small on the wire and may be huge inside: an `.xlsx` is a zip archive
//! of XML parts, and 4 MB of deflate unpacks to gigabytes; an `.xls` is a compound file
//! whose chains and records a writer chooses freely. Neither is handed to the spreadsheet
//! library (calamine) unchecked: [`check_xlsx`] decompresses every entry with a cap (the
//! sizes an archive declares are not trusted) and scans its XML as a stream of bytes —
//! nesting, the length of each text, tag and cell, the shared-string table's entries and
//! text, rows, sheets, styles — in constant memory; [`check_xls`] walks the compound file's
//! chains and the workbook's records the way the library will, and adds up the cells and
//! text it would lay out. Only a file that passes is parsed, and the readers then bound
//! what they keep (rows, columns, text held at once, reported issues). CSV is read through
//! [`BoundedCsv`], which caps each line and the total.
//!
//! With the defaults a hostile upload of any kind keeps the server's memory within a few
//! hundred megabytes (docs/limits.md has the measurements); the administrator can change each
//! limit (`minzheng --limits key=value,…` or `MINZHENG_LIMITS`).

mod text;
mod xls;
mod xlsx;
mod xml;

pub(crate) use text::TextBudget;
pub use text::{refusal_of, BoundedCsv};
pub use xls::check_xls;
pub use xlsx::check_xlsx;

/// The limits on files read from outside. Every field is a hard limit: a file beyond it is
/// refused whole, with a message naming the limit, before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputLimits {
    /// Bytes an `.xlsx` (all its zip entries) or a `.csv.gz` may unpack to. A ledger of a
    /// million persons unpacks to about 630 MB.
    pub max_unpacked_bytes: u64,
    /// Entries in an `.xlsx` archive (a workbook has a few dozen).
    pub max_zip_entries: u64,
    /// Bytes of one cell's text (Excel allows 32,767 characters), and of any one text, tag,
    /// comment or processing instruction of a workbook's XML.
    pub max_cell_bytes: u64,
    /// Entries of the shared-string table (a million-person ledger has about 1.85 million).
    pub max_shared_strings: u64,
    /// Bytes of text in the shared-string table, all entries together.
    pub max_shared_string_bytes: u64,
    /// Rows of a sheet or CSV file (Excel's own limit is 1,048,576).
    pub max_rows: u64,
    /// Columns: a cell further right is refused.
    pub max_columns: u64,
    /// Bytes of one CSV line (and of one record, which may span lines inside quotes).
    pub max_line_bytes: u64,
    /// Nesting depth of a workbook's XML (a sheet needs seven levels).
    pub max_xml_depth: u64,
    /// Sheets of a workbook.
    pub max_sheets: u64,
    /// Cell formats (`xf` records) of a workbook's style sheet (each holds a copy of its
    /// font and number format once read).
    pub max_styles: u64,
    /// Cells a reader lays out as a grid at once: every sheet of an `.xls` (read whole), the
    /// rows and columns of a return file or death list.
    pub max_cells: u64,
    /// Bytes a reader holds at once for a file it reads whole (`.xls`, return files, death
    /// lists): each cell's text with its allocation, and for an `.xls` the workbook stream,
    /// which the library keeps twice.
    pub max_text_bytes: u64,
    /// Problems one ledger import lists before it stops checking (each row may have several;
    /// a file with more is not a ledger of this office).
    pub max_issues: u64,
}

impl Default for InputLimits {
    fn default() -> Self {
        InputLimits {
            max_unpacked_bytes: 1 << 30,
            max_zip_entries: 4096,
            max_cell_bytes: 128 << 10,
            max_shared_strings: 2_000_000,
            max_shared_string_bytes: 64 << 20,
            max_rows: 1_048_576,
            max_columns: 256,
            max_line_bytes: 256 << 10,
            max_xml_depth: 64,
            max_sheets: 256,
            max_styles: 16_384,
            max_cells: 1 << 20,
            max_text_bytes: 64 << 20,
            max_issues: 100_000,
        }
    }
}

/// Each limit: its key, Chinese name and unit (for messages and `--limits`).
const KEYS: &[(&str, &str)] = &[
    ("max_unpacked_bytes", "解压后大小"),
    ("max_zip_entries", "压缩包部件数"),
    ("max_cell_bytes", "单元格内容长度"),
    ("max_shared_strings", "共享字符串条目数"),
    ("max_shared_string_bytes", "共享字符串总长度"),
    ("max_rows", "行数"),
    ("max_columns", "列数"),
    ("max_line_bytes", "单行长度"),
    ("max_xml_depth", "XML嵌套层数"),
    ("max_sheets", "工作表数"),
    ("max_styles", "单元格格式数"),
    ("max_cells", "单元格数"),
    ("max_text_bytes", "表格文字总量"),
    ("max_issues", "错误条数"),
];

impl InputLimits {
    fn field_mut(&mut self, key: &str) -> Option<&mut u64> {
        Some(match key {
            "max_unpacked_bytes" => &mut self.max_unpacked_bytes,
            "max_zip_entries" => &mut self.max_zip_entries,
            "max_cell_bytes" => &mut self.max_cell_bytes,
            "max_shared_strings" => &mut self.max_shared_strings,
            "max_shared_string_bytes" => &mut self.max_shared_string_bytes,
            "max_rows" => &mut self.max_rows,
            "max_columns" => &mut self.max_columns,
            "max_line_bytes" => &mut self.max_line_bytes,
            "max_xml_depth" => &mut self.max_xml_depth,
            "max_sheets" => &mut self.max_sheets,
            "max_styles" => &mut self.max_styles,
            "max_cells" => &mut self.max_cells,
            "max_text_bytes" => &mut self.max_text_bytes,
            "max_issues" => &mut self.max_issues,
            _ => return None,
        })
    }

    /// The defaults with `key=value` pairs (comma-separated) applied; sizes may carry a
    /// unit (`64MB`, `128KB`, `1GB`, binary multiples). Unknown keys, values that are not
    /// numbers and zero are refused.
    pub fn with_overrides(mut self, spec: &str) -> Result<InputLimits, String> {
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(format!(
                    "限额“{pair}”的格式应为 名称=数值，如 max_rows=2000000"
                ));
            };
            let key = key.trim();
            let names = KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join("、");
            let slot = self
                .field_mut(key)
                .ok_or_else(|| format!("没有名为“{key}”的限额，可设置：{names}"))?;
            let n = parse_amount(value.trim())
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    format!(
                        "限额 {key} 的值“{}”无效：应为正整数，大小可带单位KB、MB、GB",
                        value.trim()
                    )
                })?;
            *slot = n;
        }
        Ok(self)
    }

    /// Every limit as `key=value` (for the log and `minzheng limits`).
    pub fn describe(&self) -> Vec<(&'static str, &'static str, u64)> {
        let mut me = *self;
        KEYS.iter()
            .map(|(k, name)| (*k, *name, *me.field_mut(k).expect("every key has a field")))
            .collect()
    }
}

fn parse_amount(s: &str) -> Option<u64> {
    let upper = s.to_ascii_uppercase().replace('_', "");
    let (digits, unit) = match upper.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => upper.split_at(i),
        None => (upper.as_str(), ""),
    };
    let n: u64 = digits.parse().ok()?;
    let shift = match unit.trim() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return None,
    };
    n.checked_mul(1u64 << shift)
}

/// A file refused for a limit (or for being malformed in a way that matters to the
/// limits), with the Chinese message to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A size for a message: `128KB`, `64MB`, `1GB`, or bytes when small.
pub(crate) fn size_text(n: u64) -> String {
    if n >= 1 << 30 && n.is_multiple_of(1 << 30) {
        format!("{}GB", n >> 30)
    } else if n >= 1 << 20 {
        format!("{}MB", (n + (1 << 19)) >> 20)
    } else if n >= 1 << 10 {
        format!("{}KB", (n + (1 << 9)) >> 10)
    } else {
        format!("{n}字节")
    }
}

/// "超过上限…（限额 key）": the tail of every refusal, naming the limit and its key so the
/// administrator knows what to raise.
pub(crate) fn over(key: &str, limit: String) -> String {
    let name = KEYS.iter().find(|(k, _)| *k == key).map_or("", |(_, n)| *n);
    format!("超过{name}上限{limit}（限额 {key}）")
}

/// Truncates text shown back to the user (an issue's value or reason) to `max` characters.
pub(crate) fn clip(s: String, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s,
        Some((at, _)) => {
            let mut t = s;
            t.truncate(at);
            t.push('…');
            t
        }
    }
}

/// Gives the memory a large read freed back to the system. glibc keeps freed memory in
/// each thread's arena for reuse, so without this the peak of every file read stays
/// resident (and the peaks of reads on different threads add up); called when an import
/// or a whole-table read has ended.
pub fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory held by the allocator; it reads no
    // pointers of ours and is safe to call at any time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Runs a parser that may panic on malformed input (the spreadsheet library asserts on
/// some damaged files) and turns a panic into a refusal of the file.
pub(crate) fn unpanicked<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, Refused> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let detail = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::warn!(what, detail, "a file made its parser panic");
        Refused(format!(
            "{what}内容已损坏，无法解析：请在Excel中打开并另存为 .xlsx 后重新上传"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_parse_units_and_refuse_unknown_keys() {
        let l = InputLimits::default()
            .with_overrides("max_rows=2000000, max_cell_bytes=64KB,max_unpacked_bytes=2GB")
            .unwrap();
        assert_eq!(l.max_rows, 2_000_000);
        assert_eq!(l.max_cell_bytes, 64 << 10);
        assert_eq!(l.max_unpacked_bytes, 2 << 30);
        assert_eq!(l.max_columns, InputLimits::default().max_columns);
        let e = InputLimits::default()
            .with_overrides("max_rowz=1")
            .unwrap_err();
        assert!(e.contains("max_rows"), "{e}");
        assert!(InputLimits::default().with_overrides("max_rows=0").is_err());
        assert!(InputLimits::default()
            .with_overrides("max_rows=abc")
            .is_err());
        assert!(InputLimits::default().with_overrides("max_rows").is_err());
        assert_eq!(
            InputLimits::default().with_overrides("").unwrap(),
            InputLimits::default()
        );
    }

    #[test]
    fn every_limit_is_described_and_named_in_refusals() {
        let d = InputLimits::default().describe();
        assert_eq!(d.len(), KEYS.len());
        assert!(d.iter().all(|(_, _, v)| *v > 0));
        assert_eq!(
            over("max_cell_bytes", size_text(128 << 10)),
            "超过单元格内容长度上限128KB（限额 max_cell_bytes）"
        );
        assert_eq!(size_text(1 << 30), "1GB");
        assert_eq!(size_text(64 << 20), "64MB");
        assert_eq!(clip("一二三四".into(), 2), "一二…");
        assert_eq!(clip("一二".into(), 2), "一二");
    }
}
