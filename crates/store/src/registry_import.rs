//! Importing household ledgers (台账导入): `.xlsx`, `.xls` and `.csv` (UTF-8 with or
//! without BOM, or GBK/GB18030), one row per person, grouped into households by the head's
//! ID number.
//!
//! Every row is validated first (ID, dates, village inside the importer's scope, relations,
//! duplicates inside the file and against the database); only then is anything written, in
//! one transaction with one summary audit record. By default any error means nothing is
//! written; `valid_only` writes the households without errors and reports the rest.
//! Importing the same file again updates the same records: persons are keyed by ID number,
//! households by the head's ID number, and imported incomes/assets are replaced.

use std::collections::{HashMap, HashSet};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use calamine::{Data, Reader};
use minzheng_domain::registry::{
    date_from_excel_serial, household_problems, mask_account, normalize_id_input, AssetKind,
    Column, IncomeKind, IncomePeriod, MemberFacts, RegistrationType, Relation,
};
use minzheng_domain::{DivisionCode, DivisionLevel, Fen};
use serde::Serialize;

use crate::audit::{append, AuditEvent};
use crate::db::{q, Store, Tx};
use crate::error::{StoreError, StoreResult};
use crate::registry::{mask_id, parse_id_field, person_fields, Fields, PersonFields, PersonInput};
use crate::scope::Actor;

/// Default largest file accepted (bytes). Larger ledgers should be split by township.
pub const DEFAULT_MAX_IMPORT_BYTES: u64 = 100 * 1024 * 1024;
/// Imports with more rows than this run as background jobs in the web UI.
pub const BACKGROUND_ROWS: u64 = 10_000;
/// Marker on incomes and assets written by an import, so a re-import replaces exactly them.
const IMPORT_NOTE: &str = "台账导入";

/// Where the ledger comes from.
#[derive(Debug, Clone)]
pub enum ImportInput {
    Path(PathBuf),
    Bytes { name: String, data: Vec<u8> },
}

impl ImportInput {
    pub fn name(&self) -> String {
        match self {
            ImportInput::Path(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            ImportInput::Bytes { name, .. } => name.clone(),
        }
    }
}

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Validate only; write nothing.
    pub dry_run: bool,
    /// Write the valid households and report the rest (default: all-or-nothing).
    pub valid_only: bool,
    /// Refuse files larger than this.
    pub max_bytes: u64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            dry_run: false,
            valid_only: false,
            max_bytes: DEFAULT_MAX_IMPORT_BYTES,
        }
    }
}

/// One problem, located in the file. `row` is the spreadsheet row (1-based, header
/// included); 0 means the file as a whole.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ImportIssue {
    pub row: usize,
    pub column: String,
    pub value: String,
    pub reason: String,
}

fn file_issue(reason: impl Into<String>) -> ImportIssue {
    ImportIssue {
        row: 0,
        column: String::new(),
        value: String::new(),
        reason: reason.into(),
    }
}

/// What an import did (or would do).
#[derive(Debug, Clone, Serialize, Default)]
pub struct ImportReport {
    pub file_name: String,
    pub sheet: Option<String>,
    pub encoding: Option<String>,
    pub rows_read: usize,
    pub rows_valid: usize,
    pub households: usize,
    pub households_created: usize,
    pub households_updated: usize,
    pub persons_created: usize,
    pub persons_updated: usize,
    pub persons_moved: usize,
    pub issues: Vec<ImportIssue>,
    /// Whether anything was written.
    pub written: bool,
    pub dry_run: bool,
}

impl ImportReport {
    /// A one-line Chinese summary.
    pub fn summary(&self) -> String {
        if self.written {
            format!(
                "导入完成：读取{}行，新增{}户、更新{}户，新增{}人、更新{}人（其中迁入{}人）{}",
                self.rows_read,
                self.households_created,
                self.households_updated,
                self.persons_created,
                self.persons_updated,
                self.persons_moved,
                if self.issues.is_empty() {
                    String::new()
                } else {
                    format!("；另有{}处错误的行未导入", self.issues.len())
                }
            )
        } else if self.issues.is_empty() {
            format!(
                "校验通过（试导入，未写入）：{}行，{}户",
                self.rows_read, self.households
            )
        } else {
            format!(
                "发现{}处错误，未写入任何数据。请按错误报告修改后重新导入。",
                self.issues.len()
            )
        }
    }
}

/// Progress callbacks: (phase, done, total).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ImportProgress {
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

// ------------------------------------------------------------------ reading

/// A cell as read from any format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A formula whose result was never calculated (no cached value).
    UncalculatedFormula,
    /// A formula whose cached result is 0: what writers that never calculate store. Fine
    /// for amounts, but in identity columns it means the value is missing.
    FormulaZero,
    Error(String),
}

impl Cell {
    fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The value as a clerk would read it.
    fn display(&self) -> String {
        match self {
            Cell::Empty | Cell::UncalculatedFormula => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(n) => number_text(*n),
            Cell::FormulaZero => "0".into(),
            Cell::Error(e) => e.clone(),
        }
    }
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else if n.abs() >= 1e15 {
        format!("{n:E}")
    } else {
        let s = format!("{n:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The rows of the chosen sheet (or the CSV file), with 1-based row numbers.
pub(crate) struct Table {
    pub sheet: Option<String>,
    pub encoding: Option<String>,
    pub rows: Vec<(usize, Vec<Cell>)>,
}

fn ext_of(name: &str) -> String {
    Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Reads the whole input (size-checked first).
fn read_bytes(input: &ImportInput, max: u64) -> Result<Vec<u8>, ImportIssue> {
    let too_big = |n: u64| {
        file_issue(format!(
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
            Ok(data.clone())
        }
        ImportInput::Path(p) => {
            let meta = std::fs::metadata(p)
                .map_err(|e| file_issue(format!("无法读取文件{}：{e}", p.display())))?;
            if meta.len() > max {
                return Err(too_big(meta.len()));
            }
            let mut buf = Vec::with_capacity(meta.len() as usize);
            std::fs::File::open(p)
                .and_then(|f| f.take(max.saturating_add(1)).read_to_end(&mut buf))
                .map_err(|e| file_issue(format!("无法读取文件{}：{e}", p.display())))?;
            if buf.len() as u64 > max {
                return Err(too_big(buf.len() as u64));
            }
            Ok(buf)
        }
    }
}

pub(crate) fn read_table(input: &ImportInput, max: u64) -> Result<Table, ImportIssue> {
    let name = input.name();
    let ext = ext_of(&name);
    if !matches!(ext.as_str(), "csv" | "txt" | "xlsx" | "xlsm" | "xls") {
        return Err(file_issue(format!(
            "不支持的文件类型“{}”：请上传 .xlsx、.xls 或 .csv 文件",
            if ext.is_empty() { "无扩展名" } else { &ext }
        )));
    }
    let data = read_bytes(input, max)?;
    if data.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(file_issue("文件是空的：没有任何内容"));
    }
    match ext.as_str() {
        "csv" | "txt" => read_csv(&data),
        _ => read_workbook(&data, &ext),
    }
}

/// Decodes CSV bytes: UTF-8 (BOM optional) when valid, otherwise GB18030 (a superset of GBK).
pub(crate) fn decode_text(data: &[u8]) -> (String, &'static str) {
    if let Some(rest) = data.strip_prefix(b"\xEF\xBB\xBF") {
        return (String::from_utf8_lossy(rest).into_owned(), "UTF-8(BOM)");
    }
    match std::str::from_utf8(data) {
        Ok(s) => (s.to_string(), "UTF-8"),
        Err(_) => {
            let (s, _, _) = encoding_rs::GB18030.decode(data);
            (s.into_owned(), "GBK/GB18030")
        }
    }
}

fn read_csv(data: &[u8]) -> Result<Table, ImportIssue> {
    let (text, enc) = decode_text(data);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec =
            rec.map_err(|e| file_issue(format!("CSV第{}行格式有误（引号不匹配等）：{e}", i + 1)))?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(i + 1);
        rows.push((
            line,
            rec.iter()
                .map(|s| {
                    if s.trim().is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(s.to_string())
                    }
                })
                .collect(),
        ));
    }
    Ok(Table {
        sheet: None,
        encoding: Some(enc.to_string()),
        rows,
    })
}

fn read_workbook(data: &[u8], ext: &str) -> Result<Table, ImportIssue> {
    let not_excel = || {
        file_issue(format!(
            "文件不是有效的Excel工作簿（.{ext}）：可能是其他类型的文件改了扩展名，或文件已损坏。请在Excel中打开并另存为 .xlsx 后重新导入"
        ))
    };
    let cursor = Cursor::new(data);
    let mut wb: calamine::Sheets<Cursor<&[u8]>> = if ext == "xls" {
        calamine::Sheets::Xls(calamine::open_workbook_from_rs(cursor).map_err(|_| not_excel())?)
    } else {
        calamine::Sheets::Xlsx(calamine::open_workbook_from_rs(cursor).map_err(|_| not_excel())?)
    };
    let names = wb.sheet_names();
    if names.is_empty() {
        return Err(file_issue("工作簿中没有工作表"));
    }
    // Several sheets: take the first one whose top rows contain a recognizable header.
    let mut first_nonempty: Option<Table> = None;
    for name in &names {
        let Ok(range) = wb.worksheet_range(name) else {
            continue;
        };
        let formulas = wb.worksheet_formula(name).ok();
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let mut rows = Vec::new();
        for (i, row) in range.rows().enumerate() {
            let line = r0 as usize + i + 1;
            let mut cells: Vec<Cell> = vec![Cell::Empty; c0 as usize];
            for (j, d) in row.iter().enumerate() {
                let has_formula = || {
                    formulas.as_ref().is_some_and(|f| {
                        f.get_value((r0 + i as u32, c0 + j as u32))
                            .is_some_and(|s| !s.is_empty())
                    })
                };
                let cell = match d {
                    Data::Empty if has_formula() => Cell::UncalculatedFormula,
                    Data::Empty => Cell::Empty,
                    Data::Float(f) if *f == 0.0 && has_formula() => Cell::FormulaZero,
                    Data::Int(0) if has_formula() => Cell::FormulaZero,
                    Data::String(s) => Cell::Text(s.clone()),
                    Data::Int(n) => Cell::Number(*n as f64),
                    Data::Float(f) => Cell::Number(*f),
                    Data::Bool(b) => Cell::Text(if *b { "是" } else { "否" }.into()),
                    Data::DateTime(dt) => Cell::Number(dt.as_f64()),
                    Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
                    Data::Error(e) => Cell::Error(format!("{e}")),
                };
                cells.push(cell);
            }
            rows.push((line, cells));
        }
        let table = Table {
            sheet: Some(name.clone()),
            encoding: None,
            rows,
        };
        if find_header(&table.rows).is_some() {
            return Ok(table);
        }
        if first_nonempty.is_none()
            && table
                .rows
                .iter()
                .any(|(_, r)| r.iter().any(|c| !c.is_blank()))
        {
            first_nonempty = Some(table);
        }
    }
    Ok(first_nonempty.unwrap_or(Table {
        sheet: names.first().cloned(),
        encoding: None,
        rows: Vec::new(),
    }))
}

/// The header row among the first ten: the one naming the most known columns (≥ 3).
fn find_header(rows: &[(usize, Vec<Cell>)]) -> Option<usize> {
    rows.iter()
        .take(10)
        .enumerate()
        .map(|(i, (_, cells))| {
            let n = cells
                .iter()
                .filter(|c| Column::match_header(&c.display()).is_some())
                .count();
            (i, n)
        })
        .filter(|(_, n)| *n >= 3)
        .max_by_key(|(i, n)| (*n, usize::MAX - i))
        .map(|(i, _)| i)
}

// ------------------------------------------------------------------ validating

/// One valid row.
#[derive(Debug, Clone)]
pub(crate) struct RowData {
    pub line: usize,
    pub head_id: String,
    pub village: String,
    pub registration_type: Option<RegistrationType>,
    pub address: String,
    pub phone: String,
    pub bank: String,
    pub account: String,
    pub holder: String,
    pub person: PersonFields,
    pub incomes: Vec<(IncomeKind, IncomePeriod, Fen)>,
    pub assets: Vec<(AssetKind, Fen)>,
}

/// Which column a person-field error belongs to.
fn column_of_field(field: &str) -> Column {
    match field {
        "name" => Column::Name,
        "id_number" => Column::IdNumber,
        "relation" => Column::Relation,
        "counted" => Column::Counted,
        "exclusion_reason" => Column::ExclusionReason,
        "disability_type" => Column::DisabilityType,
        "disability_grade" => Column::DisabilityGrade,
        "health" => Column::Health,
        "work_capacity" => Column::WorkCapacity,
        "employment" => Column::Employment,
        "status" => Column::Status,
        "status_date" => Column::StatusDate,
        "head_id_number" => Column::HeadId,
        _ => Column::Name,
    }
}

/// The checked ledger: valid rows, problems, and the rows each problem touches.
pub(crate) struct Checked {
    pub rows: Vec<RowData>,
    pub issues: Vec<ImportIssue>,
    pub bad_lines: HashSet<usize>,
    pub rows_read: usize,
}

/// Validates every data row of a table on its own (no database).
pub(crate) fn check_rows(
    table: &Table,
    mask: bool,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<Checked, ImportIssue> {
    let Some(h) = find_header(&table.rows) else {
        if table.rows.iter().all(|(_, r)| r.iter().all(Cell::is_blank)) {
            return Err(file_issue("文件是空的：没有表头也没有数据"));
        }
        return Err(file_issue(format!(
            "没有找到表头：前10行中没有一行包含台账列名（必填列：{}）。请使用系统提供的导入模板",
            required_list()
        )));
    };
    let (header_line, header) = &table.rows[h];
    let mut cols: HashMap<Column, usize> = HashMap::new();
    let mut issues = Vec::new();
    let mut blanks_between = Vec::new();
    let last_named = header.iter().rposition(|c| !c.is_blank()).unwrap_or(0);
    for (j, cell) in header.iter().enumerate() {
        let text = cell.display();
        match Column::match_header(&text) {
            Some(c) => {
                if let Some(prev) = cols.insert(c, j) {
                    issues.push(ImportIssue {
                        row: *header_line,
                        column: text.clone(),
                        value: text.clone(),
                        reason: format!(
                            "列“{}”出现了两次（第{}列和第{}列）",
                            c.header(),
                            col_letter(prev),
                            col_letter(j)
                        ),
                    });
                }
            }
            None if cell.is_blank() && j < last_named => blanks_between.push(j),
            None => {}
        }
    }
    let missing: Vec<Column> = Column::ALL
        .into_iter()
        .filter(|c| c.required() && !cols.contains_key(c))
        .collect();
    if !missing.is_empty() {
        let mut reason = format!(
            "缺少必填列：{}。表头应包含：{}",
            missing
                .iter()
                .map(|c| c.header())
                .collect::<Vec<_>>()
                .join("、"),
            required_list()
        );
        if !blanks_between.is_empty() {
            reason.push_str(&format!(
                "。表头第{}列为空，可能是合并单元格：请取消合并，并为每一列单独填写列名",
                blanks_between
                    .iter()
                    .map(|j| col_letter(*j))
                    .collect::<Vec<_>>()
                    .join("、")
            ));
        }
        issues.push(ImportIssue {
            row: *header_line,
            column: String::new(),
            value: String::new(),
            reason,
        });
    }
    if !issues.is_empty() {
        return Err(issues.remove(0));
    }
    let data_rows: Vec<&(usize, Vec<Cell>)> = table.rows[h + 1..]
        .iter()
        .filter(|(_, r)| !r.iter().all(Cell::is_blank))
        .collect();
    if data_rows.is_empty() {
        return Err(file_issue("文件只有表头，没有数据行"));
    }
    let total = data_rows.len() as u64;
    let get = |cells: &Vec<Cell>, c: Column| -> Cell {
        cols.get(&c)
            .and_then(|&j| cells.get(j))
            .cloned()
            .unwrap_or(Cell::Empty)
    };
    let today = crate::registry::today();
    let mut rows = Vec::with_capacity(data_rows.len());
    let mut bad_lines = HashSet::new();
    for (n, (line, cells)) in data_rows.iter().enumerate() {
        if n.is_multiple_of(2000) {
            progress(ImportProgress {
                phase: "校验",
                done: n as u64,
                total,
            });
        }
        let line = *line;
        let before = issues.len();
        let push = |issues: &mut Vec<ImportIssue>, c: Column, value: String, reason: String| {
            let value = if mask && matches!(c, Column::IdNumber | Column::HeadId) {
                mask_id(&value)
            } else if mask && c == Column::Account {
                mask_account(&value)
            } else {
                value
            };
            issues.push(ImportIssue {
                row: line,
                column: c.header().to_string(),
                value,
                reason,
            });
        };
        // Generic cell problems first: error values and uncalculated formulas.
        for (c, &j) in &cols {
            match cells.get(j) {
                Some(Cell::Error(e)) => push(
                    &mut issues,
                    *c,
                    e.clone(),
                    "单元格是错误值（如#N/A、#REF!），请修正公式或改为直接填写".into(),
                ),
                Some(Cell::FormulaZero)
                    if matches!(
                        c,
                        Column::HeadId
                            | Column::IdNumber
                            | Column::Village
                            | Column::Name
                            | Column::Relation
                    ) =>
                {
                    push(
                        &mut issues,
                        *c,
                        "0".into(),
                        "单元格是公式且计算结果为0（文件保存时未计算公式）：请在Excel中打开、复制该列，再“选择性粘贴→数值”后保存".into(),
                    )
                }
                Some(Cell::UncalculatedFormula) => push(
                    &mut issues,
                    *c,
                    String::new(),
                    "单元格是公式但没有计算结果：请在Excel中复制该列，再“选择性粘贴→数值”后保存".into(),
                ),
                _ => {}
            }
        }
        if issues.len() > before {
            bad_lines.insert(line);
            continue;
        }
        // ID columns: a number cell means Excel already rounded the digits away.
        let id_text = |issues: &mut Vec<ImportIssue>, c: Column| -> Option<String> {
            match get(cells, c) {
                Cell::Number(n) if n.abs() >= 1e11 => {
                    issues.push(ImportIssue {
                        row: line,
                        column: c.header().to_string(),
                        value: number_text(n),
                        reason: "身份证号码被Excel存成了数字，后几位已丢失：请把该列设置为“文本”格式后重新录入号码".into(),
                    });
                    None
                }
                other => Some(other.display()),
            }
        };
        let id_raw = id_text(&mut issues, Column::IdNumber);
        let head_raw = id_text(&mut issues, Column::HeadId);
        let (Some(id_raw), Some(head_raw)) = (id_raw, head_raw) else {
            bad_lines.insert(line);
            continue;
        };
        let date_cell = match get(cells, Column::StatusDate) {
            Cell::Number(n) => match date_from_excel_serial(n) {
                Some(d) => d.to_string(),
                None => number_text(n),
            },
            other => other.display(),
        };
        let text = |c: Column| get(cells, c).display();
        let input = PersonInput {
            name: text(Column::Name),
            id_number: id_raw.clone(),
            relation: text(Column::Relation),
            counted: text(Column::Counted),
            exclusion_reason: text(Column::ExclusionReason),
            disability_type: text(Column::DisabilityType),
            disability_grade: text(Column::DisabilityGrade),
            health: text(Column::Health),
            work_capacity: text(Column::WorkCapacity),
            employment: text(Column::Employment),
            status: text(Column::Status),
            status_date: date_cell,
        };
        let mut f = Fields::default();
        let person = person_fields(&mut f, &input);
        let head_id = parse_id_field(&mut f, "head_id_number", &head_raw);
        let mut row_issues: Vec<(Column, String, String)> = Vec::new();
        if let Err(StoreError::Validation { fields, .. }) = f.finish() {
            for (field, msg) in fields {
                let c = column_of_field(&field);
                let v = match c {
                    Column::IdNumber => id_raw.clone(),
                    Column::HeadId => head_raw.clone(),
                    c => text(c),
                };
                row_issues.push((c, v, msg));
            }
        }
        let village = text(Column::Village);
        match DivisionCode::parse_native(&village) {
            Ok(c) if c.level() == DivisionLevel::Village => {}
            _ => row_issues.push((
                Column::Village,
                village.clone(),
                "村(社区)代码应为12位数字".into(),
            )),
        }
        let rt_text = text(Column::RegistrationType);
        let registration_type = if rt_text.is_empty() {
            None
        } else {
            match RegistrationType::parse(&rt_text) {
                Some(v) => Some(v),
                None => {
                    row_issues.push((
                        Column::RegistrationType,
                        rt_text.clone(),
                        "户籍类型应为“城镇”或“农村”".into(),
                    ));
                    None
                }
            }
        };
        let phone = text(Column::Phone);
        if phone.chars().count() > 40
            || !phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '(' | ')' | '+'))
        {
            row_issues.push((
                Column::Phone,
                phone.clone(),
                "联系电话只能包含数字、空格和“-”".into(),
            ));
        }
        let account = match get(cells, Column::Account) {
            Cell::Number(n) if n.abs() >= 1e15 => {
                row_issues.push((
                    Column::Account,
                    number_text(n),
                    "银行账号被Excel存成了数字，后几位已丢失：请把该列设置为“文本”格式后重新录入"
                        .into(),
                ));
                String::new()
            }
            c => normalize_id_input(&c.display()).unwrap_or_default(),
        };
        if !account.is_empty()
            && (account.len() > 32 || !account.bytes().all(|b| b.is_ascii_digit()))
        {
            row_issues.push((
                Column::Account,
                account.clone(),
                "银行账号只能包含数字，最长32位".into(),
            ));
        }
        let mut money = |c: Column| -> Option<Fen> {
            let raw = match get(cells, c) {
                Cell::Number(n) => format!("{n:.2}"),
                other => other.display().replace([',', '，'], ""),
            };
            if raw.is_empty() {
                return None;
            }
            match Fen::parse_yuan(&raw) {
                Ok(v) if !v.is_negative() => Some(v),
                _ => {
                    row_issues.push((
                        c,
                        raw,
                        "金额应为不小于0的数字（单位元，最多两位小数）".into(),
                    ));
                    None
                }
            }
        };
        let mut incomes = Vec::new();
        for (c, kind, period) in [
            (Column::WageMonthly, IncomeKind::Wage, IncomePeriod::Monthly),
            (
                Column::BusinessMonthly,
                IncomeKind::Business,
                IncomePeriod::Monthly,
            ),
            (
                Column::TransferMonthly,
                IncomeKind::Transfer,
                IncomePeriod::Monthly,
            ),
            (Column::OtherAnnual, IncomeKind::Other, IncomePeriod::Annual),
        ] {
            if let Some(v) = money(c) {
                if !v.is_zero() {
                    incomes.push((kind, period, v));
                }
            }
        }
        let mut assets = Vec::new();
        for (c, kind) in [
            (Column::Deposit, AssetKind::Deposit),
            (Column::Vehicle, AssetKind::Vehicle),
            (Column::Housing, AssetKind::Housing),
        ] {
            if let Some(v) = money(c) {
                if !v.is_zero() {
                    assets.push((kind, v));
                }
            }
        }
        if let Some(p) = &person {
            if p.status_date.is_some_and(|d| d > today) {
                row_issues.push((
                    Column::StatusDate,
                    text(Column::StatusDate),
                    "日期晚于今天".into(),
                ));
            }
        }
        let ok = row_issues.is_empty() && person.is_some() && head_id.is_some();
        for (c, v, msg) in row_issues {
            push(&mut issues, c, v, msg);
        }
        if !ok {
            bad_lines.insert(line);
            continue;
        }
        let person = person.expect("checked");
        let head_id = head_id.expect("checked").as_str().to_string();
        if person.relation == Relation::Head && person.id.as_str() != head_id {
            push(
                &mut issues,
                Column::HeadId,
                head_raw.clone(),
                "“户主”行的户主身份证号应与本人身份证号相同".into(),
            );
            bad_lines.insert(line);
            continue;
        }
        rows.push(RowData {
            line,
            head_id,
            village,
            registration_type,
            address: text(Column::Address),
            phone,
            bank: text(Column::Bank),
            account,
            holder: text(Column::AccountHolder),
            person,
            incomes,
            assets,
        });
    }
    progress(ImportProgress {
        phase: "校验",
        done: total,
        total,
    });
    Ok(Checked {
        rows,
        issues,
        bad_lines,
        rows_read: data_rows.len(),
    })
}

fn required_list() -> String {
    Column::ALL
        .into_iter()
        .filter(|c| c.required())
        .map(|c| c.header())
        .collect::<Vec<_>>()
        .join("、")
}

fn col_letter(mut j: usize) -> String {
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

/// Households of the file: head ID → row indexes, in first-seen order.
pub(crate) fn group_rows(rows: &[RowData]) -> Vec<(String, Vec<usize>)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        match index.get(r.head_id.as_str()) {
            Some(&g) => groups[g].1.push(i),
            None => {
                index.insert(&r.head_id, groups.len());
                groups.push((r.head_id.clone(), vec![i]));
            }
        }
    }
    groups
}

// ------------------------------------------------------------------ the import

/// What the database already holds for a person of the file.
struct Existing {
    person_id: i64,
    household_id: i64,
    village: String,
    household_head: String,
}

impl Store {
    /// Imports a household ledger. Errors in the file come back in the report (never as
    /// `Err`); `Err` means the database failed or the actor may not write.
    pub async fn import_households(
        &self,
        actor: &Actor,
        input: &ImportInput,
        opts: &ImportOptions,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> StoreResult<ImportReport> {
        if !actor.can_write() && !opts.dry_run {
            return Err(StoreError::Forbidden(
                "您的角色只能查看，不能导入户籍台账".into(),
            ));
        }
        let mask = !actor.role.is_none_or(|r| r.sees_full_identity());
        let mut report = ImportReport {
            file_name: input.name(),
            dry_run: opts.dry_run,
            ..Default::default()
        };
        let table = match read_table(input, opts.max_bytes) {
            Ok(t) => t,
            Err(issue) => {
                report.issues.push(issue);
                return Ok(report);
            }
        };
        report.sheet = table.sheet.clone();
        report.encoding = table.encoding.clone();
        let checked = match check_rows(&table, mask, progress) {
            Ok(c) => c,
            Err(issue) => {
                report.issues.push(issue);
                return Ok(report);
            }
        };
        drop(table);
        let Checked {
            rows,
            mut issues,
            mut bad_lines,
            rows_read,
        } = checked;
        report.rows_read = rows_read;

        // Duplicates inside the file.
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for r in &rows {
            if let Some(first) = seen.insert(r.person.id.as_str(), r.line) {
                issues.push(ImportIssue {
                    row: r.line,
                    column: Column::IdNumber.header().into(),
                    value: if mask {
                        r.person.id.masked()
                    } else {
                        r.person.id.as_str().into()
                    },
                    reason: format!("同一人在文件中出现了两次（与第{first}行重复）"),
                });
                bad_lines.insert(r.line);
                seen.insert(r.person.id.as_str(), first);
            }
        }
        drop(seen);

        // Villages must exist and lie inside the importer's scope.
        let (lo, hi) = actor.scope.bounds();
        let villages: HashSet<String> = self
            .fetch_all(
                q("SELECT code FROM divisions WHERE level = 5 AND code >= $1 AND code < $2")
                    .bind(lo)
                    .bind(hi),
            )
            .await?
            .iter()
            .map(|r| r.str("code"))
            .collect::<StoreResult<_>>()?;
        for r in &rows {
            if !villages.contains(&r.village) {
                let reason = if actor.scope.contains_str(&r.village) {
                    format!("区划代码{}不存在", r.village)
                } else {
                    "该村(社区)不在您的管辖范围内".to_string()
                };
                issues.push(ImportIssue {
                    row: r.line,
                    column: Column::Village.header().into(),
                    value: r.village.clone(),
                    reason,
                });
                bad_lines.insert(r.line);
            }
        }

        // Against the database: persons by ID number, households by head.
        let existing = self.existing_persons(&rows).await?;
        let heads = self.existing_heads(&rows).await?;
        for r in &rows {
            if let Some(e) = existing.get(r.person.id.as_str()) {
                if !actor.scope.contains_str(&e.village) {
                    issues.push(ImportIssue {
                        row: r.line,
                        column: Column::IdNumber.header().into(),
                        value: if mask {
                            r.person.id.masked()
                        } else {
                            r.person.id.as_str().into()
                        },
                        reason:
                            "此人已在其他辖区登记（每人全市只能登记一次），请联系其户籍所在地民政办"
                                .into(),
                    });
                    bad_lines.insert(r.line);
                } else if e.household_head == r.person.id.as_str() && r.head_id != e.household_head
                {
                    issues.push(ImportIssue {
                        row: r.line,
                        column: Column::HeadId.header().into(),
                        value: if mask {
                            mask_id(&r.head_id)
                        } else {
                            r.head_id.clone()
                        },
                        reason: "此人是系统中另一户的户主，不能直接迁入其他户：请先在原户更换户主"
                            .into(),
                    });
                    bad_lines.insert(r.line);
                }
            }
            if let Some((_, v)) = heads.get(r.head_id.as_str()) {
                if !actor.scope.contains_str(v) {
                    issues.push(ImportIssue {
                        row: r.line,
                        column: Column::HeadId.header().into(),
                        value: if mask {
                            mask_id(&r.head_id)
                        } else {
                            r.head_id.clone()
                        },
                        reason: "该户已在其他辖区登记".into(),
                    });
                    bad_lines.insert(r.line);
                }
            }
        }

        // Household-level checks.
        let groups = group_rows(&rows);
        let mut bad_groups: HashSet<usize> = HashSet::new();
        for (g, (_, idx)) in groups.iter().enumerate() {
            let facts: Vec<MemberFacts> = idx
                .iter()
                .map(|&i| MemberFacts {
                    relation: rows[i].person.relation,
                    birth: rows[i].person.id.birth_date(),
                })
                .collect();
            for (k, reason) in household_problems(&facts) {
                let r = &rows[idx[k]];
                issues.push(ImportIssue {
                    row: r.line,
                    column: Column::Relation.header().into(),
                    value: r.person.relation.label().into(),
                    reason,
                });
                bad_groups.insert(g);
            }
            let head_row = idx
                .iter()
                .map(|&i| &rows[i])
                .find(|r| r.person.relation == Relation::Head);
            if let Some(head) = head_row {
                if head.registration_type.is_none() {
                    issues.push(ImportIssue {
                        row: head.line,
                        column: Column::RegistrationType.header().into(),
                        value: String::new(),
                        reason: "户主行必须填写户籍类型（城镇/农村）".into(),
                    });
                    bad_groups.insert(g);
                }
                for &i in idx {
                    if rows[i].village != head.village {
                        issues.push(ImportIssue {
                            row: rows[i].line,
                            column: Column::Village.header().into(),
                            value: rows[i].village.clone(),
                            reason: format!(
                                "同一户成员的村(社区)代码与户主行（{}）不一致",
                                head.village
                            ),
                        });
                        bad_groups.insert(g);
                    }
                }
            }
            if idx.iter().any(|&i| bad_lines.contains(&rows[i].line)) {
                bad_groups.insert(g);
            }
        }
        issues.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
        report.rows_valid = rows
            .len()
            .saturating_sub(rows.iter().filter(|r| bad_lines.contains(&r.line)).count());
        report.households = groups.len();
        let must_stop = !issues.is_empty() && !opts.valid_only;
        if opts.valid_only {
            for &g in &bad_groups {
                for &i in &groups[g].1 {
                    let r = &rows[i];
                    if !bad_lines.contains(&r.line) {
                        issues.push(ImportIssue {
                            row: r.line,
                            column: String::new(),
                            value: String::new(),
                            reason: "所在户有错误，整户未导入".into(),
                        });
                    }
                }
            }
            issues.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
        }
        report.issues = issues;
        if must_stop || opts.dry_run {
            return Ok(report);
        }
        let good: Vec<&(String, Vec<usize>)> = groups
            .iter()
            .enumerate()
            .filter(|(g, _)| !bad_groups.contains(g))
            .map(|(_, x)| x)
            .collect();
        if good.is_empty() {
            return Ok(report);
        }
        let total: u64 = good.iter().map(|(_, idx)| idx.len() as u64).sum();
        let now = crate::timestamp(chrono::Utc::now());
        let mut tx = self.begin_write().await?;
        let mut done = 0u64;
        for (head_id, idx) in good {
            let head = idx
                .iter()
                .map(|&i| &rows[i])
                .find(|r| r.person.relation == Relation::Head)
                .expect("checked: one head");
            let township = &head.village[..9];
            let hid = match heads.get(head_id.as_str()) {
                Some((hid, _)) => {
                    tx.execute(
                        q("UPDATE households SET township_code = $1, village_code = $2,
                             head_name = $3, address = $4, registration_type = $5, phone = $6,
                             bank_name = $7, account_number = $8, account_holder = $9, updated_at = $10
                           WHERE id = $11")
                        .bind(township)
                        .bind(head.village.as_str())
                        .bind(head.person.name.as_str())
                        .bind(head.address.as_str())
                        .bind(head.registration_type.expect("checked").code())
                        .bind(head.phone.as_str())
                        .bind(head.bank.as_str())
                        .bind(head.account.as_str())
                        .bind(head.holder.as_str())
                        .bind(now.as_str())
                        .bind(*hid),
                    )
                    .await?;
                    report.households_updated += 1;
                    *hid
                }
                None => {
                    report.households_created += 1;
                    tx.fetch_one(
                        q("INSERT INTO households (township_code, village_code, head_id_number,
                             head_name, address, registration_type, phone, bank_name, account_number,
                             account_holder, status, created_at, updated_at)
                           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'active',$11,$11) RETURNING id")
                        .bind(township)
                        .bind(head.village.as_str())
                        .bind(head_id.as_str())
                        .bind(head.person.name.as_str())
                        .bind(head.address.as_str())
                        .bind(head.registration_type.expect("checked").code())
                        .bind(head.phone.as_str())
                        .bind(head.bank.as_str())
                        .bind(head.account.as_str())
                        .bind(head.holder.as_str())
                        .bind(now.as_str()),
                    )
                    .await?
                    .i64("id")?
                }
            };
            for &i in idx {
                let r = &rows[i];
                let pid = match existing.get(r.person.id.as_str()) {
                    Some(e) => {
                        crate::registry::update_person_row(
                            &mut tx,
                            e.person_id,
                            hid,
                            township,
                            &r.person,
                            &now,
                        )
                        .await?;
                        if e.household_id != hid {
                            report.persons_moved += 1;
                            tx.execute(
                                q("INSERT INTO person_moves (person_id, from_household_id,
                                     to_household_id, township_code, at, actor)
                                   VALUES ($1,$2,$3,$4,$5,$6)")
                                .bind(e.person_id)
                                .bind(e.household_id)
                                .bind(hid)
                                .bind(township)
                                .bind(now.as_str())
                                .bind(actor.username.as_str()),
                            )
                            .await?;
                        }
                        report.persons_updated += 1;
                        e.person_id
                    }
                    None => {
                        report.persons_created += 1;
                        crate::registry::insert_person_row(
                            &mut tx, hid, township, &r.person, &now, actor,
                        )
                        .await?
                    }
                };
                replace_imported_items(&mut tx, hid, pid, township, r, &now).await?;
                done += 1;
                if done.is_multiple_of(2000) {
                    progress(ImportProgress {
                        phase: "写入",
                        done,
                        total,
                    });
                }
            }
        }
        let summary = serde_json::json!({
            "file": report.file_name,
            "rows_read": report.rows_read,
            "households_created": report.households_created,
            "households_updated": report.households_updated,
            "persons_created": report.persons_created,
            "persons_updated": report.persons_updated,
            "persons_moved": report.persons_moved,
            "rows_refused": report.issues.len(),
            "valid_only": opts.valid_only,
        });
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "registry.import",
                entity_type: "import",
                entity_id: &report.file_name,
                scope_code: actor.scope.code_str(),
                before: None,
                after: Some(summary),
            },
        )
        .await?;
        tx.commit().await?;
        progress(ImportProgress {
            phase: "写入",
            done: total,
            total,
        });
        report.written = true;
        Ok(report)
    }

    async fn existing_persons(&self, rows: &[RowData]) -> StoreResult<HashMap<String, Existing>> {
        let mut out = HashMap::new();
        for chunk in rows.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let mut query = q(format!(
                "SELECT p.id, p.id_number, p.household_id, h.village_code, h.head_id_number
                 FROM persons p JOIN households h ON h.id = p.household_id
                 WHERE p.id_number IN ({})",
                placeholders.join(",")
            ));
            for r in chunk {
                query.push(r.person.id.as_str());
            }
            for row in self.fetch_all(query).await? {
                out.insert(
                    row.str("id_number")?,
                    Existing {
                        person_id: row.i64("id")?,
                        household_id: row.i64("household_id")?,
                        village: row.str("village_code")?,
                        household_head: row.str("head_id_number")?,
                    },
                );
            }
        }
        Ok(out)
    }

    async fn existing_heads(
        &self,
        rows: &[RowData],
    ) -> StoreResult<HashMap<String, (i64, String)>> {
        let heads: Vec<&str> = {
            let mut s: Vec<&str> = rows.iter().map(|r| r.head_id.as_str()).collect();
            s.sort_unstable();
            s.dedup();
            s
        };
        let mut out = HashMap::new();
        for chunk in heads.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let mut query = q(format!(
                "SELECT id, head_id_number, village_code FROM households WHERE head_id_number IN ({})",
                placeholders.join(",")
            ));
            for h in chunk {
                query.push(*h);
            }
            for row in self.fetch_all(query).await? {
                out.insert(
                    row.str("head_id_number")?,
                    (row.i64("id")?, row.str("village_code")?),
                );
            }
        }
        Ok(out)
    }
}

async fn replace_imported_items(
    tx: &mut Tx,
    hid: i64,
    pid: i64,
    township: &str,
    r: &RowData,
    now: &str,
) -> StoreResult<()> {
    tx.execute(
        q("DELETE FROM incomes WHERE person_id = $1 AND note = $2")
            .bind(pid)
            .bind(IMPORT_NOTE),
    )
    .await?;
    tx.execute(
        q("DELETE FROM assets WHERE person_id = $1 AND description = $2")
            .bind(pid)
            .bind(IMPORT_NOTE),
    )
    .await?;
    for (kind, period, amount) in &r.incomes {
        tx.execute(
            q(
                "INSERT INTO incomes (household_id, person_id, township_code, kind, amount_fen,
                 period, note, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            )
            .bind(hid)
            .bind(pid)
            .bind(township)
            .bind(kind.code())
            .bind(amount.0)
            .bind(period.code())
            .bind(IMPORT_NOTE)
            .bind(now),
        )
        .await?;
    }
    for (kind, value) in &r.assets {
        tx.execute(
            q(
                "INSERT INTO assets (household_id, person_id, township_code, kind, value_fen,
                 description, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)",
            )
            .bind(hid)
            .bind(pid)
            .bind(township)
            .bind(kind.code())
            .bind(value.0)
            .bind(IMPORT_NOTE)
            .bind(now),
        )
        .await?;
    }
    Ok(())
}

impl Store {
    /// The benchmark floor: the persons of a ledger inserted by one prepared statement in a
    /// loop inside one transaction (no validation, grouping or other tables). Returns the
    /// seconds spent inserting. Reading and checking the file are not timed.
    #[doc(hidden)]
    pub async fn bench_floor(&self, path: &Path) -> StoreResult<f64> {
        let table = read_table(&ImportInput::Path(path.to_path_buf()), u64::MAX)
            .map_err(|i| StoreError::Internal(i.reason))?;
        let checked =
            check_rows(&table, false, &mut |_| {}).map_err(|i| StoreError::Internal(i.reason))?;
        drop(table);
        let now = crate::timestamp(chrono::Utc::now());
        let mut tx = self.begin_write().await?;
        let hid = tx
            .fetch_one(
                q("INSERT INTO households (township_code, village_code, head_id_number, head_name,
                     registration_type, created_at, updated_at)
                   VALUES ('511802001', '511802001001', 'floor', 'floor', 'rural', $1, $1)
                   RETURNING id")
                .bind(now.as_str()),
            )
            .await?
            .i64("id")?;
        let started = std::time::Instant::now();
        for r in &checked.rows {
            tx.execute(
                q("INSERT INTO persons (id_number, household_id, township_code, name, name_pinyin,
                     name_initials, id_last4, gender, birth_date, relation, created_at, updated_at)
                   VALUES ($1,$2,$3,$4,'','',$5,$6,$7,$8,$9,$9)")
                .bind(r.person.id.as_str())
                .bind(hid)
                .bind(&r.village[..9])
                .bind(r.person.name.as_str())
                .bind(&r.person.id.as_str()[14..])
                .bind(r.person.id.gender().label())
                .bind(r.person.id.birth_date().to_string())
                .bind(r.person.relation.code())
                .bind(now.as_str()),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(started.elapsed().as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_bom_and_gbk() {
        assert_eq!(decode_text("姓名".as_bytes()).0, "姓名");
        assert_eq!(decode_text(b"\xEF\xBB\xBFab").0, "ab");
        let (gbk, _, _) = encoding_rs::GBK.encode("张三,户主");
        let (s, enc) = decode_text(&gbk);
        assert_eq!(s, "张三,户主");
        assert_eq!(enc, "GBK/GB18030");
    }

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
