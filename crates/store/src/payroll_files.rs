//! Bank files (代发文件) and return files (回盘文件) of the payroll.
//!
//! A bank template says which columns, in which order, in which format (CSV in GBK or
//! UTF-8, or xlsx), whether a totals line ends the file, the amount unit and the file name.
//! Every export is audited. A return file is matched line by line to the batch and applied
//! all-or-nothing: unknown lines, duplicates, wrong amounts or totals that do not add up
//! refuse the whole file. Failed lines become payment exceptions (退票).

use std::collections::{HashMap, HashSet};
use std::io::Cursor;

use minzheng_domain::{Fen, YearMonth};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::{q, DbRow, Store, Tx};
use crate::error::{StoreError, StoreResult};
use crate::payroll::{audit, failpoint, now, require, PayrollBatch, PayrollLine, CLERKS};
use minzheng_domain::Actor;

/// The columns a bank file may have: (key, header).
pub const BANK_COLUMNS: &[(&str, &str)] = &[
    ("batch_no", "批次号"),
    ("line_no", "明细号"),
    ("item", "项目代码"),
    ("item_name", "补贴项目"),
    ("period", "所属期"),
    ("division", "区划代码"),
    ("name", "姓名"),
    ("id_number", "证件号码"),
    ("bank", "开户行"),
    ("account", "账号"),
    ("holder", "户名"),
    ("amount", "金额"),
    ("remark", "摘要"),
];

/// A bank file template (代发模板).
#[derive(Debug, Clone, Serialize)]
pub struct BankTemplate {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// csv | xlsx
    pub format: String,
    /// utf-8 | gbk (csv only)
    pub encoding: String,
    pub columns: Vec<String>,
    pub totals_line: bool,
    /// yuan | fen
    pub amount_unit: String,
    pub file_name: String,
    pub active: bool,
}

impl BankTemplate {
    fn from_row(r: &DbRow) -> StoreResult<Self> {
        Ok(BankTemplate {
            id: r.i64("id")?,
            code: r.str("code")?,
            name: r.str("name")?,
            format: r.str("format")?,
            encoding: r.str("encoding")?,
            columns: r
                .str("columns")?
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            totals_line: r.bool("totals_line")?,
            amount_unit: r.str("amount_unit")?,
            file_name: r.str("file_name")?,
            active: r.bool("active")?,
        })
    }

    /// The column titles of this template's files, in order (the header line).
    pub fn header(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| header_of(c, &self.amount_unit))
            .collect()
    }

    /// The name this template gives the bank file of a batch.
    pub fn file_name_for(&self, b: &PayrollBatch) -> String {
        file_name(self, b)
    }
}

/// A template as configured by the city administrator.
#[derive(Debug, Clone, Deserialize)]
pub struct BankTemplateInput {
    pub code: String,
    pub name: String,
    pub format: String,
    #[serde(default = "utf8")]
    pub encoding: String,
    /// Comma-separated column keys (see [`BANK_COLUMNS`]).
    pub columns: String,
    #[serde(default)]
    pub totals_line: bool,
    #[serde(default = "yuan")]
    pub amount_unit: String,
    pub file_name: String,
    #[serde(default = "yes")]
    pub active: bool,
}

fn utf8() -> String {
    "utf-8".into()
}
fn yuan() -> String {
    "yuan".into()
}
fn yes() -> bool {
    true
}

/// A rendered bank file.
#[derive(Debug, Clone)]
pub struct BankFile {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    pub lines: usize,
    pub total: Fen,
}

/// What an accepted return file did.
#[derive(Debug, Clone, Serialize)]
pub struct ReturnOutcome {
    pub batch: PayrollBatch,
    pub lines: usize,
    pub paid_count: usize,
    pub paid: Fen,
    pub failed_count: usize,
    pub failed: Fen,
    /// Every line of the batch now has a result.
    pub complete: bool,
}

fn header_of(key: &str, unit: &str) -> String {
    match key {
        "amount" if unit == "fen" => "金额(分)".into(),
        "amount" => "金额(元)".into(),
        _ => BANK_COLUMNS
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, h)| h.to_string())
            .unwrap_or_else(|| key.to_string()),
    }
}

fn remark(l: &PayrollLine) -> String {
    let period = YearMonth::parse(&l.period)
        .map(|m| m.label())
        .unwrap_or_else(|_| l.period.clone());
    let what = crate::payroll::program_label(&l.program);
    match l.kind.as_str() {
        "back_pay" => format!("{what}{period}补发"),
        "reissue" => format!("{what}{period}重发"),
        _ => format!("{what}{period}"),
    }
}

fn amount_text(f: Fen, unit: &str) -> String {
    if unit == "fen" {
        f.0.to_string()
    } else {
        f.yuan_string()
    }
}

fn cell(key: &str, b: &PayrollBatch, l: &PayrollLine, unit: &str) -> String {
    match key {
        "batch_no" => b.batch_no.clone(),
        "line_no" => l.id.to_string(),
        "item" => l.program.clone(),
        "item_name" => crate::payroll::program_label(&l.program),
        "period" => l.period.replace('-', ""),
        "division" => l.village_code.clone(),
        "name" => l.beneficiary_name.clone(),
        "id_number" => l.beneficiary_id_number.clone(),
        "bank" => l.bank_name.clone(),
        "account" => l.account_number.clone(),
        "holder" => l.account_holder.clone(),
        "amount" => amount_text(l.amount, unit),
        "remark" => remark(l),
        _ => String::new(),
    }
}

/// The totals line: 合计 in the first column, the count in the name column (or the second),
/// the sum in the amount column.
fn totals_row(t: &BankTemplate, lines: usize, total: Fen) -> Vec<String> {
    let mut row = vec![String::new(); t.columns.len()];
    if row.is_empty() {
        return row;
    }
    row[0] = "合计".into();
    let count_col = t
        .columns
        .iter()
        .position(|c| c == "name")
        .filter(|&i| i != 0)
        .unwrap_or(1.min(row.len() - 1));
    if count_col != 0 {
        row[count_col] = format!("共{lines}笔");
    }
    if let Some(i) = t.columns.iter().position(|c| c == "amount") {
        row[i] = amount_text(total, &t.amount_unit);
    }
    row
}

fn file_name(t: &BankTemplate, b: &PayrollBatch) -> String {
    let ext = if t.format == "xlsx" { "xlsx" } else { "csv" };
    let name = t
        .file_name
        .replace("{bank}", &t.code)
        .replace("{batch_no}", &b.batch_no)
        .replace("{period}", &b.month.replace('-', ""))
        .replace("{township}", &b.township_name)
        .replace("{program}", &b.program_label)
        .replace("{ext}", ext);
    let clean: String = name
        .chars()
        .map(|c| {
            if matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if clean.ends_with(&format!(".{ext}")) {
        clean
    } else {
        format!("{clean}.{ext}")
    }
}

/// Renders the file (pure: no database).
pub fn render_bank_file(
    t: &BankTemplate,
    b: &PayrollBatch,
    lines: &[PayrollLine],
) -> StoreResult<BankFile> {
    let total = Fen(lines.iter().map(|l| l.amount.0).sum());
    let header: Vec<String> = t
        .columns
        .iter()
        .map(|c| header_of(c, &t.amount_unit))
        .collect();
    let bytes = if t.format == "xlsx" {
        xlsx_file(t, b, lines, &header, total)
            .map_err(|e| StoreError::Internal(format!("生成Excel代发文件失败：{e}")))?
    } else {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let err = |e: csv::Error| StoreError::Internal(format!("生成CSV代发文件失败：{e}"));
        w.write_record(&header).map_err(err)?;
        for l in lines {
            w.write_record(t.columns.iter().map(|c| cell(c, b, l, &t.amount_unit)))
                .map_err(err)?;
        }
        if t.totals_line {
            w.write_record(totals_row(t, lines.len(), total))
                .map_err(err)?;
        }
        let text = w
            .into_inner()
            .map_err(|e| StoreError::Internal(format!("生成CSV代发文件失败：{e}")))?;
        if t.encoding == "gbk" {
            // GB18030 is GBK for every character GBK has, and still encodes rare name
            // characters (生僻字) instead of losing them.
            let s = String::from_utf8(text)
                .map_err(|_| StoreError::Internal("代发文件编码失败".into()))?;
            encoding_rs::GB18030.encode(&s).0.into_owned()
        } else {
            text
        }
    };
    Ok(BankFile {
        file_name: file_name(t, b),
        content_type: if t.format == "xlsx" {
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        } else if t.encoding == "gbk" {
            "text/csv; charset=gb18030"
        } else {
            "text/csv; charset=utf-8"
        },
        bytes,
        lines: lines.len(),
        total,
    })
}

fn xlsx_file(
    t: &BankTemplate,
    b: &PayrollBatch,
    lines: &[PayrollLine],
    header: &[String],
    total: Fen,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("代发明细")?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let money = Format::new().set_num_format("0.00");
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)?;
    }
    let amount_cell = |ws: &mut rust_xlsxwriter::Worksheet, r: u32, c: u16, f: Fen| {
        if t.amount_unit == "fen" {
            ws.write_number(r, c, f.0 as f64).map(|_| ())
        } else {
            ws.write_number_with_format(r, c, f.0 as f64 / 100.0, &money)
                .map(|_| ())
        }
    };
    for (i, l) in lines.iter().enumerate() {
        let r = i as u32 + 1;
        for (c, key) in t.columns.iter().enumerate() {
            if key == "amount" {
                amount_cell(ws, r, c as u16, l.amount)?;
            } else {
                ws.write_string_with_format(r, c as u16, cell(key, b, l, &t.amount_unit), &text)?;
            }
        }
    }
    if t.totals_line {
        let r = lines.len() as u32 + 1;
        for (c, v) in totals_row(t, lines.len(), total).iter().enumerate() {
            if t.columns[c] == "amount" {
                amount_cell(ws, r, c as u16, total)?;
            } else if !v.is_empty() {
                ws.write_string_with_format(r, c as u16, v, &bold)?;
            }
        }
    }
    for c in 0..t.columns.len() {
        ws.set_column_width(c as u16, 18)?;
    }
    wb.save_to_buffer()
}

// ---------------------------------------------------------------- return files

/// One data line of a return file.
#[derive(Debug, Clone)]
struct ReturnRow {
    row: usize,
    line_no: Option<String>,
    batch_no: Option<String>,
    id_number: Option<String>,
    name: Option<String>,
    amount: Option<String>,
    period: Option<String>,
    status: String,
    reason: String,
    txn: String,
}

#[derive(Debug, Default)]
struct ReturnFile {
    rows: Vec<ReturnRow>,
    /// (count if stated, total amount text)
    totals: Option<(Option<usize>, String)>,
    amount_in_fen: bool,
}

fn matches_any(h: &str, names: &[&str]) -> bool {
    names.contains(&h)
}

/// The column a header names, if we know it.
fn return_column(h: &str) -> Option<&'static str> {
    let h: String = h.chars().filter(|c| !c.is_whitespace()).collect();
    let h = h.as_str();
    Some(if matches_any(h, &["明细号", "明细编号", "业务明细号"]) {
        "line_no"
    } else if matches_any(h, &["批次号", "代发批次号"]) {
        "batch_no"
    } else if matches_any(h, &["证件号码", "身份证号码", "身份证号", "公民身份号码"])
    {
        "id_number"
    } else if matches_any(h, &["姓名", "户名", "收款人"]) {
        "name"
    } else if h.starts_with("金额") || matches_any(h, &["代发金额", "发放金额"]) {
        "amount"
    } else if matches_any(h, &["所属期", "发放期"]) {
        "period"
    } else if matches_any(h, &["状态", "处理结果", "结果", "处理状态", "入账结果"])
    {
        "status"
    } else if matches_any(h, &["失败原因", "原因", "备注说明", "错误原因"]) {
        "reason"
    } else if matches_any(h, &["银行流水号", "流水号", "交易流水号"]) {
        "txn"
    } else {
        return None;
    })
}

/// Reads the raw cells of a CSV (UTF-8 or GBK), xlsx or xls file (recognised by content).
fn read_cells(name: &str, data: &[u8]) -> StoreResult<Vec<Vec<String>>> {
    let bad = |m: String| StoreError::field("file", m);
    if data.starts_with(b"PK\x03\x04") {
        let wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(data))
            .map_err(|_| bad("回盘文件不是有效的Excel工作簿".into()))?;
        return xlsx_cells(wb);
    }
    // The OLE2 compound file of Excel 97–2003 workbooks (many banks still send .xls).
    if data.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        let wb: calamine::Xls<_> = calamine::open_workbook_from_rs(Cursor::new(data))
            .map_err(|_| bad("回盘文件不是有效的Excel 97-2003工作簿(.xls)".into()))?;
        return first_sheet_cells(wb);
    }
    let lower = name.to_lowercase();
    if lower.ends_with(".xls") || lower.ends_with(".xlsx") {
        return Err(bad(
            "回盘文件的扩展名是Excel，但内容不是Excel工作簿：请用银行提供的原文件".into(),
        ));
    }
    let (text, _) = crate::registry_import::decode_text(data);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(format!("回盘文件第{}行格式有误：{e}", i + 1)))?;
        rows.push(rec.iter().map(|s| s.trim().to_string()).collect());
    }
    Ok(rows)
}

/// A cell as text: whole numbers without a decimal point (accounts and ID numbers stored as
/// numbers), other numbers with two decimals.
fn cell_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e17 => format!("{}", *f as i64),
        Data::Float(f) => format!("{f:.2}"),
        Data::Int(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// The widest return file we read: banks send a dozen columns. A cell further right is
/// refused rather than laid out in memory (a two-cell sheet reaching column XFD and row
/// 1,048,576 would otherwise ask for a grid of 17 billion cells).
const RETURN_MAX_COLUMNS: u32 = 64;

/// The first sheet's cells of an xlsx workbook as text, read cell by cell; rows are counted
/// from the first row holding a value and each row is as long as its last value.
fn xlsx_cells<RS: std::io::Read + std::io::Seek>(
    mut wb: calamine::Xlsx<RS>,
) -> StoreResult<Vec<Vec<String>>> {
    use calamine::Reader;
    let bad = |m: String| StoreError::field("file", m);
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| bad("回盘文件中没有工作表".into()))?;
    let mut cells = wb
        .worksheet_cells_reader(&sheet)
        .map_err(|_| bad("无法读取回盘文件的工作表".into()))?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut first_row: Option<u32> = None;
    while let Some(c) = cells
        .next_cell()
        .map_err(|_| bad("无法读取回盘文件的工作表".into()))?
    {
        let (row, col) = c.get_position();
        let text = cell_text(&calamine::Data::from(c.get_value().clone()));
        if text.is_empty() {
            continue;
        }
        if col >= RETURN_MAX_COLUMNS {
            return Err(bad(format!(
                "回盘文件第{}行第{}列有内容，超出回盘文件的范围（最多{RETURN_MAX_COLUMNS}列）：请用银行提供的原文件",
                row + 1,
                col + 1
            )));
        }
        let start = *first_row.get_or_insert(row);
        let (r, col) = ((row - start) as usize, col as usize);
        if rows.len() <= r {
            rows.resize_with(r + 1, Vec::new);
        }
        let cells_of_row = &mut rows[r];
        if cells_of_row.len() <= col {
            cells_of_row.resize(col + 1, String::new());
        }
        cells_of_row[col] = text;
    }
    Ok(rows)
}

/// The first sheet's cells of an Excel 97–2003 workbook as text (a sheet there holds at
/// most 65,536 × 256 cells).
fn first_sheet_cells<RS, R>(mut wb: R) -> StoreResult<Vec<Vec<String>>>
where
    RS: std::io::Read + std::io::Seek,
    R: calamine::Reader<RS>,
{
    let bad = |m: &str| StoreError::field("file", m.to_string());
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| bad("回盘文件中没有工作表"))?;
    let range = wb
        .worksheet_range(&sheet)
        .map_err(|_| bad("无法读取回盘文件的工作表"))?;
    Ok(range
        .rows()
        .map(|r| r.iter().map(cell_text).collect())
        .collect())
}

fn parse_return(name: &str, data: &[u8]) -> StoreResult<ReturnFile> {
    let bad = |m: String| StoreError::field("file", m);
    if data.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(bad("回盘文件是空的".into()));
    }
    let cells = read_cells(name, data)?;
    let header_at = cells
        .iter()
        .take(10)
        .position(|r| r.iter().filter(|h| return_column(h).is_some()).count() >= 3)
        .ok_or_else(|| {
            bad("回盘文件中找不到表头（应有明细号或证件号码、金额、处理结果等列）".into())
        })?;
    let mut cols: HashMap<&'static str, usize> = HashMap::new();
    let mut amount_in_fen = false;
    for (i, h) in cells[header_at].iter().enumerate() {
        if let Some(k) = return_column(h) {
            cols.entry(k).or_insert(i);
            if k == "amount" && h.contains('分') {
                amount_in_fen = true;
            }
        }
    }
    for (k, label) in [("status", "处理结果"), ("amount", "金额")] {
        if !cols.contains_key(k) {
            return Err(bad(format!("回盘文件缺少“{label}”列")));
        }
    }
    if !cols.contains_key("line_no") && !cols.contains_key("id_number") {
        return Err(bad(
            "回盘文件缺少“明细号”或“证件号码”列，无法对应发放明细".into()
        ));
    }
    let mut out = ReturnFile {
        amount_in_fen,
        ..Default::default()
    };
    for (i, r) in cells.iter().enumerate().skip(header_at + 1) {
        if r.iter().all(|c| c.is_empty()) {
            continue;
        }
        let get = |k: &str| {
            cols.get(k)
                .and_then(|&c| r.get(c))
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty())
        };
        if r.iter()
            .find(|c| !c.is_empty())
            .is_some_and(|c| c.starts_with("合计"))
        {
            let count = r.iter().find_map(|c| {
                let digits: String = c.chars().filter(|ch| ch.is_ascii_digit()).collect();
                (c.contains('笔') && !digits.is_empty())
                    .then(|| digits.parse::<usize>().ok())
                    .flatten()
            });
            out.totals = Some((count, get("amount").unwrap_or_default()));
            continue;
        }
        out.rows.push(ReturnRow {
            row: i + 1,
            line_no: get("line_no"),
            batch_no: get("batch_no"),
            id_number: get("id_number").map(|s| s.to_uppercase()),
            name: get("name"),
            amount: get("amount"),
            period: get("period"),
            status: get("status").unwrap_or_default(),
            reason: get("reason").unwrap_or_default(),
            txn: get("txn").unwrap_or_default(),
        });
    }
    Ok(out)
}

fn parse_amount(s: &str, fen: bool) -> Option<Fen> {
    if fen {
        s.trim().parse::<i64>().ok().map(Fen)
    } else {
        Fen::parse_yuan(s).ok()
    }
}

/// 成功 → Some(true), 失败 → Some(false), anything else None.
fn parse_status(s: &str) -> Option<bool> {
    let t = s.trim().to_lowercase();
    match t.as_str() {
        "成功" | "success" | "s" | "0" | "00" | "0000" | "已入账" | "入账成功" | "交易成功" => {
            Some(true)
        }
        "失败" | "fail" | "failed" | "f" | "退票" | "入账失败" | "交易失败" => {
            Some(false)
        }
        // Negations and refunds before success: "交易不成功", "未成功" and "退票成功" are
        // failures, whatever else the words say.
        _ if [
            "失败",
            "不成功",
            "未成功",
            "退",
            "拒",
            "驳回",
            "错误",
            "无效",
        ]
        .iter()
        .any(|w| t.contains(w)) =>
        {
            Some(false)
        }
        // Still open ("处理中", "待处理", "未处理", "不确定"): not a result yet.
        _ if ["未", "待", "不确定", "处理中", "进行中", "审核中"]
            .iter()
            .any(|w| t.contains(w)) =>
        {
            None
        }
        _ if ["成功", "已入账", "已到账", "已支付"]
            .iter()
            .any(|w| t.contains(w)) =>
        {
            Some(true)
        }
        _ => None,
    }
}

struct LineKey {
    id_number: String,
    name: String,
    /// 户名: the account holder, who may be a guardian rather than the beneficiary.
    holder: String,
    period: String,
    amount: Fen,
    status: String,
}

/// One matched result, ready to apply.
struct Result1 {
    line_id: i64,
    ok: bool,
    reason: String,
    txn: String,
    amount: Fen,
}

impl Store {
    /// The bank templates, active first.
    pub async fn bank_templates(&self) -> StoreResult<Vec<BankTemplate>> {
        self.fetch_all(q("SELECT * FROM bank_templates ORDER BY active DESC, id"))
            .await?
            .iter()
            .map(BankTemplate::from_row)
            .collect()
    }

    /// Creates or updates a template (the city administrator configures banks).
    pub async fn save_bank_template(
        &self,
        actor: &Actor,
        t: &BankTemplateInput,
    ) -> StoreResult<BankTemplate> {
        require(
            actor,
            &[minzheng_domain::Role::CityAdmin],
            "配置银行代发模板",
        )?;
        let code = t.code.trim();
        if code.is_empty()
            || code.len() > 40
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(StoreError::field(
                "code",
                "模板代码应为不超过40位的字母、数字、-或_",
            ));
        }
        let name = t.name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(StoreError::field("name", "请填写模板名称（不超过60字）"));
        }
        if !matches!(t.format.as_str(), "csv" | "xlsx") {
            return Err(StoreError::field("format", "文件格式应为 csv 或 xlsx"));
        }
        if !matches!(t.encoding.as_str(), "utf-8" | "gbk") {
            return Err(StoreError::field("encoding", "编码应为 utf-8 或 gbk"));
        }
        if !matches!(t.amount_unit.as_str(), "yuan" | "fen") {
            return Err(StoreError::field("amount_unit", "金额单位应为 yuan 或 fen"));
        }
        let columns: Vec<&str> = t
            .columns
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        if columns.is_empty() {
            return Err(StoreError::field("columns", "请至少选择一列"));
        }
        for (k, c) in columns.iter().enumerate() {
            let Some((_, title)) = BANK_COLUMNS.iter().find(|(key, _)| key == c) else {
                let known: Vec<&str> = BANK_COLUMNS.iter().map(|(k, _)| *k).collect();
                return Err(StoreError::field(
                    "columns",
                    format!("未知的列“{c}”，可选：{}", known.join("、")),
                ));
            };
            // A bank reads each column once; a repeated one is a slip of the form.
            if columns[..k].contains(c) {
                return Err(StoreError::field(
                    "columns",
                    format!("列“{title}”选了两次，每列只能出现一次"),
                ));
            }
        }
        for must in ["account", "amount"] {
            if !columns.contains(&must) {
                return Err(StoreError::field(
                    "columns",
                    "代发文件至少应包含账号（account）和金额（amount）",
                ));
            }
        }
        if !columns.contains(&"line_no") && !columns.contains(&"id_number") {
            return Err(StoreError::field(
                "columns",
                "代发文件应包含明细号（line_no）或证件号码（id_number），回盘时才能对应",
            ));
        }
        let file_name = t.file_name.trim();
        if file_name.is_empty() || file_name.chars().count() > 120 {
            return Err(StoreError::field(
                "file_name",
                "请填写文件名规则（不超过120字）",
            ));
        }
        let now = now();
        let mut tx = self.begin_write().await?;
        let before = tx
            .fetch_optional(q("SELECT * FROM bank_templates WHERE code = $1").bind(code))
            .await?
            .map(|r| BankTemplate::from_row(&r))
            .transpose()?;
        let cols = columns.join(",");
        let totals = t.totals_line;
        let active = t.active;
        if before.is_some() {
            tx.execute(
                q("UPDATE bank_templates SET name = $2, format = $3, encoding = $4, columns = $5,
                     totals_line = $6, amount_unit = $7, file_name = $8, active = $9, updated_at = $10
                   WHERE code = $1")
                .bind(code)
                .bind(name)
                .bind(t.format.as_str())
                .bind(t.encoding.as_str())
                .bind(cols.as_str())
                .bind(totals)
                .bind(t.amount_unit.as_str())
                .bind(file_name)
                .bind(active)
                .bind(now.as_str()),
            )
            .await?;
        } else {
            tx.execute(
                q("INSERT INTO bank_templates (code, name, format, encoding, columns, totals_line,
                     amount_unit, file_name, active, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
                .bind(code)
                .bind(name)
                .bind(t.format.as_str())
                .bind(t.encoding.as_str())
                .bind(cols.as_str())
                .bind(totals)
                .bind(t.amount_unit.as_str())
                .bind(file_name)
                .bind(active)
                .bind(now.as_str()),
            )
            .await?;
        }
        let after = tx
            .fetch_one(q("SELECT * FROM bank_templates WHERE code = $1").bind(code))
            .await
            .and_then(|r| BankTemplate::from_row(&r))?;
        audit(
            &mut tx,
            actor,
            "payroll.bank_template.save",
            "bank_template",
            code,
            actor.scope.code_str(),
            before.map(|b| serde_json::to_value(b).unwrap_or_default()),
            Some(serde_json::to_value(&after).unwrap_or_default()),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Renders the bank file of a signed-off batch with a template; the first export moves
    /// the batch to `exported`. Every export (also a repeated one) is audited.
    pub async fn export_bank_file(
        &self,
        actor: &Actor,
        batch_id: i64,
        template: &str,
    ) -> StoreResult<BankFile> {
        let b = self.get_batch(&actor.scope, batch_id).await?;
        require(actor, CLERKS, "生成银行代发文件")?;
        let t = self
            .fetch_optional(
                q("SELECT * FROM bank_templates WHERE code = $1 AND active = $2")
                    .bind(template)
                    .bind(true),
            )
            .await?
            .map(|r| BankTemplate::from_row(&r))
            .transpose()?
            .ok_or_else(|| StoreError::field("template", "请选择有效的银行代发模板"))?;
        let now = now();
        let mut tx = self.begin_write().await?;
        // Once the bank has answered for any line, a new file could pay those lines again:
        // a batch is exported (again, e.g. when the bank lost the file) only before that.
        let n = tx
            .execute(
                q("UPDATE payroll_batches SET
                     status = CASE WHEN status = 'signed_off' THEN 'exported' ELSE status END,
                     exported_at = $2, export_count = export_count + 1, updated_at = $2
                   WHERE id = $1 AND status IN ('signed_off', 'exported') AND returned_count = 0")
                .bind(batch_id)
                .bind(now.as_str()),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict(if b.status == "draft" {
                "该批次尚未经民政办主任审核签发，不能生成银行代发文件".into()
            } else {
                "该批次已导入银行回盘，不能再生成代发文件（以免重复发放）；失败的款项请在退票管理中更正，随以后的批次重发".into()
            }));
        }
        let lines: Vec<PayrollLine> = tx
            .fetch_all(
                q("SELECT * FROM payroll_lines WHERE batch_id = $1 ORDER BY id").bind(batch_id),
            )
            .await?
            .iter()
            .map(PayrollLine::from_row)
            .collect::<StoreResult<_>>()?;
        let file = render_bank_file(&t, &b, &lines)?;
        audit(
            &mut tx,
            actor,
            "payroll.bank_file",
            "payroll_batch",
            &batch_id.to_string(),
            &b.township_code,
            Some(serde_json::json!({"status": b.status})),
            Some(
                serde_json::json!({"template": t.code, "file_name": file.file_name,
                "lines": file.lines, "total_fen": file.total.0,
                "sha256": hex::encode(Sha256::digest(&file.bytes))}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(file)
    }

    /// Imports the bank's return file for a batch. Refused as a whole when it does not
    /// reconcile; otherwise every line's result is applied in one transaction, failures
    /// become payment exceptions, and the batch is reconciled once every line has a result
    /// (a partial return is allowed and leaves the rest pending).
    pub async fn import_return(
        &self,
        actor: &Actor,
        batch_id: i64,
        file_name: &str,
        data: &[u8],
    ) -> StoreResult<ReturnOutcome> {
        let b = self.get_batch(&actor.scope, batch_id).await?;
        require(actor, CLERKS, "导入银行回盘文件")?;
        if b.status != "exported" {
            return Err(StoreError::Conflict(match b.status.as_str() {
                "draft" | "signed_off" => "该批次尚未生成银行代发文件，不能导入回盘".into(),
                _ => "该批次已全部对账，不能再导入回盘".into(),
            }));
        }
        let file = parse_return(file_name, data)?;
        let lines: HashMap<i64, LineKey> = self
            .fetch_all(
                q(
                    "SELECT id, beneficiary_id_number, beneficiary_name, account_holder, period,
                          amount_fen, status
                   FROM payroll_lines WHERE batch_id = $1",
                )
                .bind(batch_id),
            )
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.i64("id")?,
                    LineKey {
                        id_number: r.str("beneficiary_id_number")?,
                        name: r.str("beneficiary_name")?,
                        holder: r.str("account_holder")?,
                        period: r.str("period")?,
                        amount: Fen(r.i64("amount_fen")?),
                        status: r.str("status")?,
                    },
                ))
            })
            .collect::<StoreResult<_>>()?;
        let results = reconcile(&b, &file, &lines)?;
        let paid: Vec<&Result1> = results.iter().filter(|r| r.ok).collect();
        let failed: Vec<&Result1> = results.iter().filter(|r| !r.ok).collect();
        let paid_fen = Fen(paid.iter().map(|r| r.amount.0).sum());
        let failed_fen = Fen(failed.iter().map(|r| r.amount.0).sum());
        let now = now();
        let sha = hex::encode(Sha256::digest(data));

        let mut tx = self.begin_write().await?;
        let changed = apply_results(&mut tx, batch_id, &results, &now).await?;
        if changed != results.len() as u64 {
            return Err(StoreError::Conflict(
                "部分明细已由其他回盘文件对账，请刷新后重试".into(),
            ));
        }
        tx.execute(
            q("INSERT INTO payment_exceptions (line_id, batch_id, batch_month, program, township_code,
                 period, fail_reason, status, created_at, updated_at)
               SELECT l.id, l.batch_id, $2, l.program, l.township_code, l.period,
                      COALESCE(l.fail_reason, ''), 'open', $3, $3
               FROM payroll_lines l
               WHERE l.batch_id = $1 AND l.status = 'failed' AND l.returned_at = $3")
            .bind(batch_id)
            .bind(b.month.as_str())
            .bind(now.as_str()),
        )
        .await?;
        let n = results.len() as i64;
        let updated = tx
            .execute(
                q("UPDATE payroll_batches SET
                     returned_count = returned_count + $2,
                     paid_count = paid_count + $3, paid_fen = paid_fen + $4,
                     failed_count = failed_count + $5, failed_fen = failed_fen + $6,
                     status = CASE WHEN returned_count + $2 >= line_count THEN 'reconciled' ELSE status END,
                     reconciled_at = CASE WHEN returned_count + $2 >= line_count THEN $7 ELSE reconciled_at END,
                     updated_at = $7
                   WHERE id = $1 AND status = 'exported'")
                .bind(batch_id)
                .bind(n)
                .bind(paid.len() as i64)
                .bind(paid_fen.0)
                .bind(failed.len() as i64)
                .bind(failed_fen.0)
                .bind(now.as_str()),
            )
            .await?;
        if updated == 0 {
            return Err(StoreError::Conflict(
                "该批次状态已变化，请刷新后重试".into(),
            ));
        }
        tx.execute(
            q(
                "INSERT INTO payroll_returns (batch_id, township_code, file_name, sha256, lines,
                 paid_count, paid_fen, failed_count, failed_fen, imported_by, imported_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(batch_id)
            .bind(b.township_code.as_str())
            .bind(file_name)
            .bind(sha.as_str())
            .bind(n)
            .bind(paid.len() as i64)
            .bind(paid_fen.0)
            .bind(failed.len() as i64)
            .bind(failed_fen.0)
            .bind(actor.username.as_str())
            .bind(now.as_str()),
        )
        .await?;
        audit(
            &mut tx,
            actor,
            "payroll.return",
            "payroll_batch",
            &batch_id.to_string(),
            &b.township_code,
            Some(serde_json::json!({"returned": b.returned_count})),
            Some(
                serde_json::json!({"file_name": file_name, "sha256": sha, "lines": n,
                "paid": paid.len(), "paid_fen": paid_fen.0,
                "failed": failed.len(), "failed_fen": failed_fen.0}),
            ),
        )
        .await?;
        failpoint("payroll.return.before_commit").await;
        tx.commit().await?;
        let batch = self.get_batch(&actor.scope, batch_id).await?;
        Ok(ReturnOutcome {
            complete: batch.returned_count >= batch.line_count,
            batch,
            lines: results.len(),
            paid_count: paid.len(),
            paid: paid_fen,
            failed_count: failed.len(),
            failed: failed_fen,
        })
    }
}

/// Matches every row to a line of the batch; any problem refuses the whole file.
fn reconcile(
    b: &PayrollBatch,
    file: &ReturnFile,
    lines: &HashMap<i64, LineKey>,
) -> StoreResult<Vec<Result1>> {
    let mut issues: Vec<String> = Vec::new();
    let mut by_id: HashMap<&str, Vec<i64>> = HashMap::new();
    for (id, l) in lines {
        by_id.entry(l.id_number.as_str()).or_default().push(*id);
    }
    let mut seen: HashSet<i64> = HashSet::new();
    let mut out = Vec::new();
    let mut sum = 0i64;
    if file.rows.is_empty() {
        issues.push("文件中没有回盘明细".into());
    }
    for r in &file.rows {
        let at = format!("第{}行", r.row);
        if let Some(bn) = &r.batch_no {
            if bn != &b.batch_no {
                issues.push(format!("{at}：批次号“{bn}”不是本批次（{}）", b.batch_no));
                continue;
            }
        }
        let line_id = match (&r.line_no, &r.id_number) {
            (Some(n), _) => match n.parse::<i64>().ok().filter(|i| lines.contains_key(i)) {
                Some(i) => i,
                None => {
                    issues.push(format!("{at}：明细号“{n}”不属于本批次"));
                    continue;
                }
            },
            (None, Some(idn)) => {
                let candidates: Vec<i64> = by_id
                    .get(idn.as_str())
                    .map(|v| {
                        v.iter()
                            .copied()
                            .filter(|i| {
                                r.period.as_deref().is_none_or(|p| {
                                    lines[i].period.replace('-', "") == p.replace('-', "")
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                match candidates.as_slice() {
                    [one] => *one,
                    [] => {
                        issues.push(format!("{at}：证件号码{idn}不在本批次中"));
                        continue;
                    }
                    _ => {
                        issues.push(format!(
                            "{at}：证件号码{idn}在本批次中有多笔，请提供明细号或所属期"
                        ));
                        continue;
                    }
                }
            }
            (None, None) => {
                issues.push(format!("{at}：缺少明细号和证件号码"));
                continue;
            }
        };
        let l = &lines[&line_id];
        if let Some(idn) = &r.id_number {
            if idn != &l.id_number {
                issues.push(format!("{at}：证件号码与明细号{line_id}的发放对象不符"));
                continue;
            }
        }
        // 姓名 or 户名: banks name the beneficiary or the account's holder.
        if let Some(name) = &r.name {
            if name != &l.name && name != &l.holder {
                issues.push(format!("{at}：姓名“{name}”与明细号{line_id}的发放对象不符"));
                continue;
            }
        }
        if !seen.insert(line_id) {
            issues.push(format!("{at}：明细号{line_id}在文件中重复出现"));
            continue;
        }
        if l.status != "planned" {
            issues.push(format!("{at}：明细号{line_id}已于此前回盘对账"));
            continue;
        }
        let amount = r
            .amount
            .as_deref()
            .and_then(|a| parse_amount(a, file.amount_in_fen));
        match amount {
            Some(a) if a == l.amount => sum += a.0,
            Some(a) => {
                issues.push(format!(
                    "{at}：金额{}与发放明细的{}不符",
                    a.yuan_string(),
                    l.amount.yuan_string()
                ));
                continue;
            }
            None => {
                issues.push(format!(
                    "{at}：金额“{}”无法识别",
                    r.amount.as_deref().unwrap_or("")
                ));
                continue;
            }
        }
        let Some(ok) = parse_status(&r.status) else {
            issues.push(format!(
                "{at}：处理结果“{}”无法识别（应为成功或失败）",
                r.status
            ));
            continue;
        };
        if !ok && r.reason.trim().is_empty() {
            issues.push(format!("{at}：发放失败但未注明失败原因"));
            continue;
        }
        out.push(Result1 {
            line_id,
            ok,
            reason: if ok {
                String::new()
            } else {
                r.reason.trim().chars().take(200).collect()
            },
            txn: r.txn.chars().take(64).collect(),
            amount: l.amount,
        });
    }
    if let Some((count, total)) = &file.totals {
        if let Some(c) = count {
            if *c != file.rows.len() {
                issues.push(format!("合计行笔数{c}与明细行数{}不符", file.rows.len()));
            }
        }
        match parse_amount(total, file.amount_in_fen) {
            Some(t) if issues.is_empty() && t.0 != sum => issues.push(format!(
                "合计金额{}与明细金额之和{}不符",
                t.yuan_string(),
                Fen(sum).yuan_string()
            )),
            None => issues.push(format!("合计行金额“{total}”无法识别")),
            _ => {}
        }
    }
    if issues.is_empty() {
        return Ok(out);
    }
    let shown: Vec<&str> = issues.iter().take(20).map(String::as_str).collect();
    let more = if issues.len() > 20 {
        format!("；另有{}处问题", issues.len() - 20)
    } else {
        String::new()
    };
    Err(StoreError::field(
        "file",
        format!(
            "回盘文件不能对账，未导入任何结果（共{}处问题）：{}{more}",
            issues.len(),
            shown.join("；")
        ),
    ))
}

/// Writes the results; returns how many lines changed (each must, or another import won).
async fn apply_results(
    tx: &mut Tx,
    batch_id: i64,
    results: &[Result1],
    now: &str,
) -> StoreResult<u64> {
    match tx {
        Tx::Sqlite(t) => {
            let mut handle = t.lock_handle().await?;
            let mut stmt = crate::bulk::Prepared::new(
                &mut handle,
                "UPDATE payroll_lines SET status = ?2, fail_reason = ?3, bank_txn_id = ?4,
                   returned_at = ?5 WHERE id = ?1 AND batch_id = ?6 AND status = 'planned'",
            )?;
            let mut changed = 0;
            for r in results {
                changed += stmt.run(&[
                    r.line_id.into(),
                    (if r.ok { "paid" } else { "failed" }).into(),
                    (!r.ok).then_some(r.reason.as_str()).into(),
                    (!r.txn.is_empty()).then_some(r.txn.as_str()).into(),
                    now.into(),
                    batch_id.into(),
                ])?;
            }
            Ok(changed)
        }
        Tx::Pg(t) => {
            let ids: Vec<i64> = results.iter().map(|r| r.line_id).collect();
            let statuses: Vec<&str> = results
                .iter()
                .map(|r| if r.ok { "paid" } else { "failed" })
                .collect();
            let reasons: Vec<&str> = results.iter().map(|r| r.reason.as_str()).collect();
            let txns: Vec<&str> = results.iter().map(|r| r.txn.as_str()).collect();
            let done = sqlx::query(
                "UPDATE payroll_lines l SET status = u.status, fail_reason = NULLIF(u.reason, ''),
                   bank_txn_id = NULLIF(u.txn, ''), returned_at = $5
                 FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(id, status, reason, txn)
                 WHERE l.id = u.id AND l.batch_id = $6 AND l.status = 'planned'",
            )
            .bind(ids)
            .bind(statuses)
            .bind(reasons)
            .bind(txns)
            .bind(now)
            .bind(batch_id)
            .execute(&mut **t)
            .await?;
            Ok(done.rows_affected())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xlsx(cells: &[(u32, u16, &str)], numbers: &[(u32, u16, f64)]) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        for (r, c, v) in cells {
            ws.write_string(*r, *c, *v).unwrap();
        }
        for (r, c, v) in numbers {
            ws.write_number(*r, *c, *v).unwrap();
        }
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn xlsx_return_files_are_read_cell_by_cell() {
        // A title row, a blank row, then the header; amounts and line numbers as numbers.
        let mut text = vec![(0, 0, "代发结果"), (2, 0, "明细号"), (2, 1, "证件号码")];
        text.extend([(2, 2, "金额(元)"), (2, 3, "处理结果"), (2, 4, "失败原因")]);
        text.extend([(3, 1, "11010519491231002X"), (3, 3, "成功")]);
        text.extend([
            (4, 1, "110101202311012176"),
            (4, 3, "交易不成功"),
            (4, 4, "户名不符"),
        ]);
        let data = xlsx(
            &text,
            &[(3, 0, 1.0), (3, 2, 300.0), (4, 0, 2.0), (4, 2, 200.5)],
        );
        let f = parse_return("r.xlsx", &data).unwrap();
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.rows[0].line_no.as_deref(), Some("1"));
        assert_eq!(f.rows[0].amount.as_deref(), Some("300"));
        assert_eq!(f.rows[1].amount.as_deref(), Some("200.50"));
        assert_eq!(f.rows[1].row, 5, "Excel's row number");
        assert_eq!(parse_status(&f.rows[1].status), Some(false));
        assert_eq!(f.rows[1].reason, "户名不符");
    }

    #[test]
    fn a_return_sheet_reaching_far_columns_is_refused_without_laying_it_out() {
        // Two cells, A1 and XFD1048576: as a grid, 17 billion cells.
        let data = xlsx(&[(0, 0, "明细号"), (1_048_575, 16_383, "x")], &[]);
        let Err(StoreError::Validation { fields, .. }) = parse_return("r.xlsx", &data) else {
            panic!("refused");
        };
        assert!(fields["file"].contains("最多64列"), "{}", fields["file"]);
        // Far down but within the columns: read (and refused for want of a header).
        let data = xlsx(&[(0, 0, "x"), (1_048_575, 0, "y")], &[]);
        let Err(StoreError::Validation { fields, .. }) = parse_return("r.xlsx", &data) else {
            panic!("refused");
        };
        assert!(fields["file"].contains("找不到表头"), "{}", fields["file"]);
    }

    #[test]
    fn statuses() {
        assert_eq!(parse_status("成功"), Some(true));
        assert_eq!(parse_status("入账成功"), Some(true));
        assert_eq!(parse_status("失败"), Some(false));
        assert_eq!(parse_status("退票"), Some(false));
        assert_eq!(parse_status("处理中"), None);
        assert_eq!(parse_status("交易已入账"), Some(true));
        for failed in [
            "未成功",
            "交易不成功",
            "入账不成功",
            "退票成功",
            "账户已销户，入账失败",
            "拒绝",
        ] {
            assert_eq!(parse_status(failed), Some(false), "{failed}");
        }
        for open in ["待处理", "未处理", "处理中（成功待确认）", "结果不确定"]
        {
            assert_eq!(parse_status(open), None, "{open}");
        }
    }

    #[test]
    fn return_headers() {
        assert_eq!(return_column("明细号"), Some("line_no"));
        assert_eq!(return_column("金额(元)"), Some("amount"));
        assert_eq!(return_column(" 处理结果 "), Some("status"));
        assert_eq!(return_column("开户行"), None);
    }

    #[test]
    fn parses_a_gbk_return_file_with_totals() {
        let text = "明细号,姓名,证件号码,金额(元),处理结果,失败原因\r\n1,张三,11010519491231002X,300.00,成功,\r\n2,李四,110101202311012176,200.50,失败,户名不符\r\n合计,共2笔,,500.50,,\r\n";
        let gbk = encoding_rs::GBK.encode(text).0.into_owned();
        let f = parse_return("r.csv", &gbk).unwrap();
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.rows[1].reason, "户名不符");
        assert_eq!(f.totals, Some((Some(2), "500.50".into())));
        assert!(!f.amount_in_fen);
    }
}
