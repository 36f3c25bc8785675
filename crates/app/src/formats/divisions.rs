//! The national statistical division files (国家统计局统计用区划代码): the five-file layout
//! (`provinces`, `cities`, `areas`, `streets`, `villages`, each `.csv` or `.csv.gz`) and
//! the demo city's single file, read as a stream of checked rows so memory stays bounded
//! however large the files are.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use minzheng_domain::division::{check_division_row, DivisionRow};
use minzheng_domain::{DivisionCode, DivisionLevel};

use super::limits::{refusal_of, BoundedCsv, InputLimits};
use crate::{Error, Result};

/// Where divisions come from.
#[derive(Debug, Clone)]
pub enum DivisionSource {
    /// A folder in the national dataset's layout: provinces, cities, areas, streets and
    /// villages, each `.csv` or `.csv.gz`.
    Dir(PathBuf),
    /// The demo city compiled into the binary.
    DemoCity,
}

/// The five files of the national dataset, each with the column naming its parent.
const FILES: [(&str, DivisionLevel, Option<&str>); 5] = [
    ("provinces", DivisionLevel::Province, None),
    ("cities", DivisionLevel::City, Some("provinceCode")),
    ("areas", DivisionLevel::County, Some("cityCode")),
    ("streets", DivisionLevel::Township, Some("areaCode")),
    ("villages", DivisionLevel::Village, Some("streetCode")),
];

/// Rows per batch: between progress reports, and per statement on PostgreSQL.
pub const BATCH: usize = 5000;

/// Counts bytes read from the underlying (compressed) file, for the progress bar.
struct Counting<R> {
    inner: R,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

struct Input {
    label: String,
    level: Option<DivisionLevel>,
    parent_col: Option<&'static str>,
    reader: Box<dyn Read + Send>,
}

fn find_file(dir: &Path, stem: &str) -> Result<(PathBuf, bool)> {
    let gz = dir.join(format!("{stem}.csv.gz"));
    if gz.is_file() {
        return Ok((gz, true));
    }
    let plain = dir.join(format!("{stem}.csv"));
    if plain.is_file() {
        return Ok((plain, false));
    }
    Err(Error::validation(format!(
        "目录 {} 中缺少文件 {stem}.csv 或 {stem}.csv.gz",
        dir.display()
    )))
}

fn bad_row(label: &str, line: u64, msg: impl std::fmt::Display) -> Error {
    Error::validation(format!("文件 {label} 第{line}行：{msg}"))
}

/// A CSV error, or the refusal of a file beyond the limits that caused it.
fn csv_failure(label: &str, line: u64, what: &str, e: &csv::Error) -> Error {
    match refusal_of(e) {
        Some(r) => Error::validation(format!("文件 {label}：{r}")),
        None => bad_row(label, line, format!("{what}：{e}")),
    }
}

/// Column positions of the file being read.
struct Cols {
    code: usize,
    name: usize,
    parent: Option<usize>,
    level: Option<usize>,
}

/// The file being read: its csv reader, columns, label and level.
type OpenFile = (
    csv::Reader<Box<dyn Read + Send>>,
    Cols,
    String,
    Option<DivisionLevel>,
);

/// Streams validated rows out of the input files, a batch at a time, so memory stays
/// bounded however large the files are.
struct RowReader {
    inputs: std::collections::VecDeque<Input>,
    current: Option<OpenFile>,
    record: csv::StringRecord,
    line: u64,
    only: Option<DivisionCode>,
    rows_read: u64,
    considered: u64,
}

impl RowReader {
    fn open_next(&mut self) -> Result<bool> {
        let Some(input) = self.inputs.pop_front() else {
            return Ok(false);
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(input.reader);
        let headers = rdr
            .headers()
            .map_err(|e| csv_failure(&input.label, 1, "无法读取表头", &e))?
            .clone();
        let col = |name: &str| -> Result<usize> {
            headers
                .iter()
                .position(|h| h.trim().trim_start_matches('\u{feff}') == name)
                .ok_or_else(|| bad_row(&input.label, 1, format!("表头缺少“{name}”列")))
        };
        let cols = Cols {
            code: col("code")?,
            name: col("name")?,
            parent: input.parent_col.map(&col).transpose()?,
            level: if input.level.is_none() {
                Some(col("level")?)
            } else {
                None
            },
        };
        self.line = 1;
        self.current = Some((rdr, cols, input.label, input.level));
        Ok(true)
    }

    /// Appends up to `max` validated rows to `out`; leaves `out` empty at the end.
    fn next_batch(&mut self, max: usize, out: &mut Vec<DivisionRow>) -> Result<()> {
        out.clear();
        while out.len() < max {
            if self.current.is_none() && !self.open_next()? {
                return Ok(());
            }
            let Some((rdr, cols, label, file_level)) = self.current.as_mut() else {
                return Ok(());
            };
            match rdr.read_record(&mut self.record) {
                Ok(true) => {}
                Ok(false) => {
                    self.current = None;
                    continue;
                }
                Err(e) => return Err(csv_failure(label, self.line + 1, "格式错误", &e)),
            }
            self.line += 1;
            self.rows_read += 1;
            let line = self.line;
            let rec = &self.record;
            let level = match (*file_level, cols.level) {
                (Some(l), _) => Some(l),
                (None, Some(i)) => {
                    let s = rec.get(i).unwrap_or("").trim();
                    Some(
                        DivisionLevel::ALL
                            .into_iter()
                            .find(|l| l.as_str() == s)
                            .ok_or_else(|| bad_row(label, line, format!("级别“{s}”无效")))?,
                    )
                }
                (None, None) => None,
            };
            let row = check_division_row(
                rec.get(cols.code).unwrap_or(""),
                rec.get(cols.name).unwrap_or(""),
                level,
                cols.parent.map(|i| rec.get(i).unwrap_or("")),
            )
            .map_err(|reason| bad_row(label, line, reason))?;
            let code = &row.code;
            if let Some(o) = &self.only {
                if !(o.contains(code) || code.contains(o)) {
                    continue;
                }
            }
            self.considered += 1;
            out.push(row);
        }
        Ok(())
    }
}

/// The rows of a source, with the bytes read so far (for a progress bar).
pub struct DivisionFiles {
    reader: RowReader,
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// All input bytes (compressed, where compressed).
    pub bytes_total: u64,
}

impl DivisionFiles {
    /// Opens the source's files; `only` keeps the rows inside that division and above it.
    /// Each file is read through [`BoundedCsv`]: lines of at most `max_line_bytes`, at most
    /// `max_rows` of them, and a `.gz` unpacking to at most `max_unpacked_bytes`.
    pub fn open(
        source: &DivisionSource,
        only: Option<&DivisionCode>,
        limits: &InputLimits,
    ) -> Result<Self> {
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut inputs = std::collections::VecDeque::new();
        let mut bytes_total = 0u64;
        match source {
            DivisionSource::Dir(dir) => {
                if !dir.is_dir() {
                    return Err(Error::validation(format!("目录 {} 不存在", dir.display())));
                }
                for (stem, level, parent_col) in FILES {
                    let (path, gz) = find_file(dir, stem)?;
                    let file = File::open(&path).map_err(|e| {
                        Error::validation(format!("无法打开文件 {}：{e}", path.display()))
                    })?;
                    bytes_total += file.metadata().map(|m| m.len()).unwrap_or(0);
                    let counted = Counting {
                        inner: BufReader::with_capacity(1 << 16, file),
                        count: counter.clone(),
                    };
                    let reader: Box<dyn Read + Send> = if gz {
                        Box::new(BoundedCsv::new(
                            MultiGzDecoder::new(counted),
                            limits,
                            limits.max_unpacked_bytes,
                            "区划文件",
                        ))
                    } else {
                        Box::new(BoundedCsv::new(counted, limits, u64::MAX, "区划文件"))
                    };
                    inputs.push_back(Input {
                        label: path
                            .file_name()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                        level: Some(level),
                        parent_col,
                        reader,
                    });
                }
            }
            DivisionSource::DemoCity => {
                let csv = crate::demo::DEMO_CITY_CSV;
                bytes_total = csv.len() as u64;
                inputs.push_back(Input {
                    label: "演示城市区划".into(),
                    level: None,
                    parent_col: Some("parent"),
                    reader: Box::new(Counting {
                        inner: csv.as_bytes(),
                        count: counter.clone(),
                    }),
                });
            }
        }
        Ok(DivisionFiles {
            reader: RowReader {
                inputs,
                current: None,
                record: csv::StringRecord::new(),
                line: 0,
                only: only.cloned(),
                rows_read: 0,
                considered: 0,
            },
            counter,
            bytes_total,
        })
    }

    /// The next up to `max` checked rows into `out` (left empty at the end). A malformed
    /// row is an error naming its file and line.
    pub fn next_batch(&mut self, max: usize, out: &mut Vec<DivisionRow>) -> Result<()> {
        self.reader.next_batch(max, out)
    }

    /// Bytes read so far.
    pub fn bytes_done(&self) -> u64 {
        self.counter.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Data rows read so far (all files).
    pub fn rows_read(&self) -> u64 {
        self.reader.rows_read
    }

    /// Rows read that lie inside (or above) `only`.
    pub fn rows_considered(&self) -> u64 {
        self.reader.considered
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;

    use super::*;

    /// A folder of the five files, `provinces` gzipped with `provinces` as its content.
    fn folder(provinces: &[u8]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(provinces).unwrap();
        std::fs::write(dir.path().join("provinces.csv.gz"), gz.finish().unwrap()).unwrap();
        for (stem, parent) in [
            ("cities", "provinceCode"),
            ("areas", "cityCode"),
            ("streets", "areaCode"),
            ("villages", "streetCode"),
        ] {
            std::fs::write(
                dir.path().join(format!("{stem}.csv")),
                format!("code,name,{parent}\n"),
            )
            .unwrap();
        }
        dir
    }

    fn read_all(dir: &Path, limits: &InputLimits) -> Result<u64> {
        let mut files = DivisionFiles::open(&DivisionSource::Dir(dir.into()), None, limits)?;
        let mut out = Vec::new();
        loop {
            files.next_batch(BATCH, &mut out)?;
            if out.is_empty() {
                return Ok(files.rows_read());
            }
        }
    }

    #[test]
    fn gzipped_files_are_read_within_the_limits() {
        let ok = folder("code,name\n51,四川省\n".as_bytes());
        assert_eq!(read_all(ok.path(), &InputLimits::default()).unwrap(), 1);
        // One line of 4 MB (a few kilobytes gzipped).
        let mut long = b"code,name\n51,".to_vec();
        long.extend(vec![b'x'; 4 << 20]);
        let dir = folder(&long);
        let e = read_all(dir.path(), &InputLimits::default()).unwrap_err();
        assert!(
            e.to_string().contains("provinces.csv.gz") && e.to_string().contains("max_line_bytes"),
            "{e}"
        );
        // Short lines without end: the unpacked size (a small limit here, 1 GB by default).
        let mut many = b"code,name\n".to_vec();
        for _ in 0..200_000 {
            many.extend("51,四川省\n".as_bytes());
        }
        let dir = folder(&many);
        let small = InputLimits {
            max_unpacked_bytes: 1 << 20,
            ..Default::default()
        };
        let e = read_all(dir.path(), &small).unwrap_err();
        assert!(e.to_string().contains("max_unpacked_bytes"), "{e}");
    }
}
