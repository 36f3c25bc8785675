//! Administrative divisions (行政区划): the national statistical codes, imported in bulk,
//! and the township offices derived from them.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use minzheng_domain::{DivisionCode, DivisionLevel};
use serde::Serialize;

use crate::audit::{append, AuditEvent};
use crate::db::{q, DbRow, Store, Tx};
use crate::error::{StoreError, StoreResult};
use minzheng_domain::{Actor, Scope};

/// One division.
#[derive(Debug, Clone, Serialize)]
pub struct Division {
    pub code: String,
    pub name: String,
    pub level: DivisionLevel,
    pub parent_code: Option<String>,
    /// Number of direct children, where the query computed it.
    pub child_count: Option<i64>,
}

impl Division {
    fn from_row(r: &DbRow) -> StoreResult<Self> {
        let level = r.i64("level")?;
        let level = DivisionLevel::ALL
            .into_iter()
            .find(|l| i64::from(l.depth()) == level)
            .ok_or_else(|| StoreError::Internal(format!("区划级别{level}无效")))?;
        Ok(Division {
            code: r.str("code")?,
            name: r.str("name")?,
            level,
            parent_code: r.opt_str("parent_code")?,
            child_count: None,
        })
    }
}

/// Count of divisions at one level.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LevelCount {
    pub level: DivisionLevel,
    pub count: i64,
}

/// Where divisions come from.
#[derive(Debug, Clone)]
pub enum DivisionSource {
    /// A folder in the national dataset's layout: provinces, cities, areas, streets and
    /// villages, each `.csv` or `.csv.gz`.
    Dir(PathBuf),
    /// The demo city compiled into the binary.
    DemoCity,
}

/// Progress of an import, reported as it goes.
#[derive(Debug, Clone, Copy)]
pub struct DivisionImportProgress {
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub rows: u64,
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DivisionImportStats {
    pub rows_read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub offices_created: u64,
    pub offices_renamed: u64,
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
const BATCH: usize = 5000;

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

fn find_file(dir: &Path, stem: &str) -> StoreResult<(PathBuf, bool)> {
    let gz = dir.join(format!("{stem}.csv.gz"));
    if gz.is_file() {
        return Ok((gz, true));
    }
    let plain = dir.join(format!("{stem}.csv"));
    if plain.is_file() {
        return Ok((plain, false));
    }
    Err(StoreError::validation(format!(
        "目录 {} 中缺少文件 {stem}.csv 或 {stem}.csv.gz",
        dir.display()
    )))
}

fn bad_row(label: &str, line: u64, msg: impl std::fmt::Display) -> StoreError {
    StoreError::validation(format!("文件 {label} 第{line}行：{msg}"))
}

/// One validated division row.
struct Row {
    code: String,
    name: String,
    level: i64,
    parent: Option<String>,
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
    fn open_next(&mut self) -> StoreResult<bool> {
        let Some(input) = self.inputs.pop_front() else {
            return Ok(false);
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(input.reader);
        let headers = rdr
            .headers()
            .map_err(|e| bad_row(&input.label, 1, format!("无法读取表头：{e}")))?
            .clone();
        let col = |name: &str| -> StoreResult<usize> {
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
    fn next_batch(&mut self, max: usize, out: &mut Vec<Row>) -> StoreResult<()> {
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
                Err(e) => return Err(bad_row(label, self.line + 1, format!("格式错误：{e}"))),
            }
            self.line += 1;
            self.rows_read += 1;
            let line = self.line;
            let rec = &self.record;
            let raw_code = rec.get(cols.code).unwrap_or("").trim();
            let code = DivisionCode::parse_native(raw_code)
                .map_err(|e| bad_row(label, line, format!("代码“{raw_code}”：{e}")))?;
            let level = match (*file_level, cols.level) {
                (Some(l), _) => l,
                (None, Some(i)) => {
                    let s = rec.get(i).unwrap_or("").trim();
                    DivisionLevel::ALL
                        .into_iter()
                        .find(|l| l.as_str() == s)
                        .ok_or_else(|| bad_row(label, line, format!("级别“{s}”无效")))?
                }
                (None, None) => code.level(),
            };
            if code.level() != level {
                return Err(bad_row(
                    label,
                    line,
                    format!("代码“{code}”不是{}级代码", level.label()),
                ));
            }
            let name = rec.get(cols.name).unwrap_or("").trim();
            if name.is_empty() || name.chars().count() > 100 {
                return Err(bad_row(label, line, "名称为空或超过100个字"));
            }
            let parent = cols
                .parent
                .map(|i| rec.get(i).unwrap_or("").trim())
                .filter(|p| !p.is_empty());
            let expected_parent = code.parent();
            if parent != expected_parent.as_ref().map(|p| p.as_str()) {
                return Err(bad_row(
                    label,
                    line,
                    format!("上级代码“{}”与代码“{code}”不符", parent.unwrap_or("")),
                ));
            }
            if let Some(o) = &self.only {
                if !(o.contains(&code) || code.contains(o)) {
                    continue;
                }
            }
            self.considered += 1;
            out.push(Row {
                code: code.as_str().to_string(),
                name: name.to_string(),
                level: i64::from(level.depth()),
                parent: parent.map(str::to_string),
            });
        }
        Ok(())
    }
}

/// Only rows whose content differs are touched, so a repeated import changes nothing.
const UPSERT_TAIL: &str =
    " ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
      parent_code = excluded.parent_code, updated_at = excluded.updated_at
      WHERE divisions.name <> excluded.name OR divisions.level <> excluded.level
         OR COALESCE(divisions.parent_code, '') <> COALESCE(excluded.parent_code, '')";

/// Writes one batch; returns the rows inserted or changed.
async fn write_batch(tx: &mut Tx, rows: &[Row], now: &str) -> StoreResult<u64> {
    match tx {
        Tx::Sqlite(t) => {
            let mut handle = t.lock_handle().await?;
            let mut stmt = crate::bulk::Prepared::new(
                &mut handle,
                &format!(
                    "INSERT INTO divisions (code, name, level, parent_code, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5){UPSERT_TAIL}"
                ),
            )?;
            let mut changed = 0;
            for r in rows {
                changed += stmt.run(&[
                    r.code.as_str().into(),
                    r.name.as_str().into(),
                    r.level.into(),
                    r.parent.as_deref().into(),
                    now.into(),
                ])?;
            }
            Ok(changed)
        }
        Tx::Pg(t) => {
            // One statement per batch: the columns travel as four arrays.
            let codes: Vec<&str> = rows.iter().map(|r| r.code.as_str()).collect();
            let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
            let levels: Vec<i64> = rows.iter().map(|r| r.level).collect();
            let parents: Vec<&str> = rows
                .iter()
                .map(|r| r.parent.as_deref().unwrap_or(""))
                .collect();
            let sql = format!(
                "INSERT INTO divisions (code, name, level, parent_code, updated_at)
                 SELECT c, n, l, NULLIF(p, ''), $5
                 FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[]) AS t(c, n, l, p){UPSERT_TAIL}"
            );
            Ok(sqlx::query(&sql)
                .bind(codes)
                .bind(names)
                .bind(levels)
                .bind(parents)
                .bind(now)
                .execute(&mut **t)
                .await?
                .rows_affected())
        }
    }
}

impl Store {
    /// Imports divisions (all of them, or only those inside / above `only`), upserting
    /// idempotently in one transaction, then derives one office per township. Any malformed
    /// row aborts the whole import with its file and line; nothing is written.
    pub async fn import_divisions(
        &self,
        actor: &Actor,
        source: &DivisionSource,
        only: Option<&DivisionCode>,
        progress: &mut (dyn FnMut(DivisionImportProgress) + Send),
    ) -> StoreResult<DivisionImportStats> {
        if actor.role.is_some() {
            return Err(StoreError::Forbidden(
                "区划导入只能由系统管理员在命令行执行".into(),
            ));
        }
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut inputs = std::collections::VecDeque::new();
        let mut bytes_total = 0u64;
        match source {
            DivisionSource::Dir(dir) => {
                if !dir.is_dir() {
                    return Err(StoreError::validation(format!(
                        "目录 {} 不存在",
                        dir.display()
                    )));
                }
                for (stem, level, parent_col) in FILES {
                    let (path, gz) = find_file(dir, stem)?;
                    let file = File::open(&path).map_err(|e| {
                        StoreError::validation(format!("无法打开文件 {}：{e}", path.display()))
                    })?;
                    bytes_total += file.metadata().map(|m| m.len()).unwrap_or(0);
                    let counted = Counting {
                        inner: BufReader::with_capacity(1 << 16, file),
                        count: counter.clone(),
                    };
                    let reader: Box<dyn Read + Send> = if gz {
                        Box::new(MultiGzDecoder::new(counted))
                    } else {
                        Box::new(counted)
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
                bytes_total = crate::DEMO_CITY_CSV.len() as u64;
                inputs.push_back(Input {
                    label: "演示城市区划".into(),
                    level: None,
                    parent_col: Some("parent"),
                    reader: Box::new(Counting {
                        inner: crate::DEMO_CITY_CSV.as_bytes(),
                        count: counter.clone(),
                    }),
                });
            }
        }

        let scope = only
            .map(|c| Scope::of(c.clone()))
            .unwrap_or_else(Scope::all);
        let (lo, hi) = scope.bounds();
        let now = crate::timestamp(chrono::Utc::now());
        let mut reader = RowReader {
            inputs,
            current: None,
            record: csv::StringRecord::new(),
            line: 0,
            only: only.cloned(),
            rows_read: 0,
            considered: 0,
        };
        let mut tx = self.begin_write().await?;
        // Up to 665,000 rows: checkpoint right after the commit, in the background.
        tx.mark_large();
        let before = count_all(&mut tx).await?;
        let mut changed = 0u64;
        let mut rows = Vec::with_capacity(BATCH);
        loop {
            reader.next_batch(BATCH, &mut rows)?;
            if rows.is_empty() {
                break;
            }
            changed += write_batch(&mut tx, &rows, &now).await?;
            progress(DivisionImportProgress {
                bytes_done: counter.load(std::sync::atomic::Ordering::Relaxed),
                bytes_total,
                rows: reader.rows_read,
            });
        }
        // Every division below the top must hang under one that exists.
        let orphan = tx
            .fetch_optional(
                q("SELECT d.code, d.parent_code FROM divisions d
                   WHERE d.code >= $1 AND d.code < $2 AND d.parent_code IS NOT NULL
                     AND NOT EXISTS (SELECT 1 FROM divisions p WHERE p.code = d.parent_code)
                   LIMIT 1")
                .bind(&lo)
                .bind(&hi),
            )
            .await?;
        if let Some(r) = orphan {
            return Err(StoreError::validation(format!(
                "区划“{}”的上级“{}”不存在，导入已取消",
                r.str("code")?,
                r.opt_str("parent_code")?.unwrap_or_default()
            )));
        }
        let mut stats = DivisionImportStats {
            rows_read: reader.rows_read,
            ..Default::default()
        };
        let after = count_all(&mut tx).await?;
        stats.inserted = (after - before).max(0) as u64;
        stats.updated = changed.saturating_sub(stats.inserted);
        // Rows outside `only` were read but not considered.
        stats.unchanged = reader
            .considered
            .saturating_sub(stats.inserted + stats.updated);
        let (created, renamed) = derive_offices(&mut tx, &lo, &hi, &now).await?;
        stats.offices_created = created;
        stats.offices_renamed = renamed;
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "divisions.import",
                entity_type: "divisions",
                entity_id: scope.code_str(),
                scope_code: scope.code_str(),
                before: None,
                after: Some(serde_json::to_value(&stats).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(stats)
    }

    /// Count of divisions per level inside `scope`, all five levels in order.
    pub async fn division_stats(&self, scope: &Scope) -> StoreResult<Vec<LevelCount>> {
        let (lo, hi) = scope.bounds();
        let rows = self
            .fetch_all(
                q("SELECT level, COUNT(*) AS n FROM divisions
                   WHERE code >= $1 AND code < $2 GROUP BY level")
                .bind(lo)
                .bind(hi),
            )
            .await?;
        let mut out: Vec<LevelCount> = DivisionLevel::ALL
            .into_iter()
            .map(|level| LevelCount { level, count: 0 })
            .collect();
        for r in rows {
            let level = r.i64("level")?;
            if let Some(lc) = out
                .iter_mut()
                .find(|lc| i64::from(lc.level.depth()) == level)
            {
                lc.count = r.i64("n")?;
            }
        }
        Ok(out)
    }

    /// One division, if the scope may see it (inside it, or one of its ancestors).
    pub async fn get_division(&self, scope: &Scope, code: &str) -> StoreResult<Division> {
        if !scope.sees_str(code) {
            return Err(StoreError::NotFound("该区划"));
        }
        let row = self
            .fetch_optional(
                q(
                    "SELECT d.*, (SELECT COUNT(*) FROM divisions c WHERE c.parent_code = d.code)
                     AS child_count FROM divisions d WHERE d.code = $1",
                )
                .bind(code),
            )
            .await?
            .ok_or(StoreError::NotFound("该区划"))?;
        let mut d = Division::from_row(&row)?;
        d.child_count = row.opt_i64("child_count")?;
        Ok(d)
    }

    /// The divisions a browser starts from: the scope's own division, or every province.
    pub async fn root_divisions(&self, scope: &Scope) -> StoreResult<Vec<Division>> {
        match scope.code() {
            Some(c) => Ok(vec![self.get_division(scope, c.as_str()).await?]),
            None => self.children(scope, None).await,
        }
    }

    /// Direct children of `parent` (or the provinces) that lie inside the scope.
    pub async fn children(
        &self,
        scope: &Scope,
        parent: Option<&str>,
    ) -> StoreResult<Vec<Division>> {
        if let Some(p) = parent {
            if !scope.sees_str(p) {
                return Err(StoreError::NotFound("该区划"));
            }
        }
        let (lo, hi) = scope.bounds();
        let mut query = q(
            "SELECT d.*, (SELECT COUNT(*) FROM divisions c WHERE c.parent_code = d.code)
                 AS child_count FROM divisions d WHERE d.code >= $1 AND d.code < $2",
        )
        .bind(lo)
        .bind(hi);
        match parent {
            Some(p) => {
                query.sql.push_str(" AND d.parent_code = $3");
                query.push(p);
            }
            None => query.sql.push_str(" AND d.parent_code IS NULL"),
        }
        query.sql.push_str(" ORDER BY d.code LIMIT 2000");
        self.fetch_all(query)
            .await?
            .iter()
            .map(|r| {
                let mut d = Division::from_row(r)?;
                d.child_count = r.opt_i64("child_count")?;
                Ok(d)
            })
            .collect()
    }

    /// The chain from the province down to `code` (inclusive) that the scope may see.
    pub async fn division_path(&self, scope: &Scope, code: &str) -> StoreResult<Vec<Division>> {
        let parsed = DivisionCode::parse_native(code)
            .map_err(|e| StoreError::field("code", e.to_string()))?;
        let mut codes: Vec<String> = Vec::new();
        let mut cur = Some(parsed);
        while let Some(c) = cur {
            cur = c.parent();
            codes.push(c.as_str().to_string());
        }
        codes.reverse();
        let mut out = Vec::new();
        for c in codes {
            if !scope.sees_str(&c) {
                continue;
            }
            if let Some(r) = self
                .fetch_optional(q("SELECT * FROM divisions WHERE code = $1").bind(c))
                .await?
            {
                out.push(Division::from_row(&r)?);
            }
        }
        Ok(out)
    }

    /// Divisions inside the scope whose name contains `term` or whose code starts with it.
    pub async fn search_divisions(
        &self,
        scope: &Scope,
        term: &str,
        limit: i64,
    ) -> StoreResult<Vec<Division>> {
        let term = term.trim();
        if term.is_empty() {
            return Ok(Vec::new());
        }
        let (lo, hi) = scope.bounds();
        let query = if term.bytes().all(|b| b.is_ascii_digit()) {
            let (tlo, thi) = (term.to_string(), format!("{term}:"));
            q("SELECT * FROM divisions WHERE code >= $1 AND code < $2 AND code >= $3 AND code < $4
               ORDER BY level, code LIMIT $5")
            .bind(lo)
            .bind(hi)
            .bind(tlo)
            .bind(thi)
            .bind(limit.clamp(1, 200))
        } else {
            let pattern = format!("%{}%", escape_like(term));
            q("SELECT * FROM divisions WHERE code >= $1 AND code < $2 AND name LIKE $3 ESCAPE '\\'
               ORDER BY level, code LIMIT $4")
            .bind(lo)
            .bind(hi)
            .bind(pattern)
            .bind(limit.clamp(1, 200))
        };
        self.fetch_all(query)
            .await?
            .iter()
            .map(Division::from_row)
            .collect()
    }
}

pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

async fn count_all(tx: &mut Tx) -> StoreResult<i64> {
    tx.fetch_one(q("SELECT COUNT(*) AS n FROM divisions"))
        .await?
        .i64("n")
}

/// One office per township-level division: "X民政办公室", second plaque "X社会救助工作站".
/// Set-based: one statement creates the missing ones, one renames those whose township was
/// renamed.
async fn derive_offices(tx: &mut Tx, lo: &str, hi: &str, now: &str) -> StoreResult<(u64, u64)> {
    let created = tx
        .execute(
            q(
                "INSERT INTO offices (township_code, name, second_name, created_at, updated_at)
               SELECT d.code, d.name || '民政办公室', d.name || '社会救助工作站', $3, $3
               FROM divisions d
               WHERE d.level = 4 AND d.code >= $1 AND d.code < $2
                 AND NOT EXISTS (SELECT 1 FROM offices o WHERE o.township_code = d.code)",
            )
            .bind(lo)
            .bind(hi)
            .bind(now),
        )
        .await?;
    let renamed = tx
        .execute(
            q("UPDATE offices SET
                 name = (SELECT d.name || '民政办公室' FROM divisions d WHERE d.code = offices.township_code),
                 second_name = (SELECT d.name || '社会救助工作站' FROM divisions d WHERE d.code = offices.township_code),
                 updated_at = $3
               WHERE township_code >= $1 AND township_code < $2
                 AND name <> (SELECT d.name || '民政办公室' FROM divisions d WHERE d.code = offices.township_code)")
            .bind(lo)
            .bind(hi)
            .bind(now),
        )
        .await?;
    Ok((created, renamed))
}
