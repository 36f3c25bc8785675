//! Return files (回盘文件): the bank's answer for a batch's lines, as CSV (UTF-8 or GBK),
//! xlsx (read cell by cell) or Excel 97–2003 (.xls), recognised by content. The header is
//! found by its titles (banks name and order their columns differently), the result by its
//! words (成功, 交易不成功, 退票 …).

use std::collections::HashMap;
use std::io::Cursor;

use minzheng_domain::payroll::{ReturnFile, ReturnRow};

use super::limits::{
    check_xls, check_xlsx, over, refusal_of, unpanicked, BoundedCsv, InputLimits, Refused,
    TextBudget,
};
use crate::{Error, Result};

/// Decodes CSV bytes held in memory: UTF-8 (BOM optional) when valid, otherwise GB18030 (a
/// superset of GBK).
fn decode_text(data: &[u8]) -> String {
    if let Some(rest) = data.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8_lossy(rest).into_owned();
    }
    match std::str::from_utf8(data) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030.decode(data).0.into_owned(),
    }
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

/// Reads the raw cells of a CSV (UTF-8 or GBK), xlsx or xls file (recognised by content);
/// `what` names the file in the refusals ("回盘文件", "死亡名单"). The file is held whole as
/// text, so it is checked against the limits first (workbooks before they are opened) and
/// the cells read are counted against `max_cells` and `max_text_bytes`.
pub(crate) fn read_cells(
    what: &'static str,
    name: &str,
    data: &[u8],
    limits: &InputLimits,
) -> Result<Vec<Vec<String>>> {
    let bad = |m: String| Error::field("file", m);
    let refused = |r: Refused| Error::field("file", r.0);
    if data.starts_with(b"PK\x03\x04") {
        check_xlsx(Cursor::new(data), limits).map_err(refused)?;
        return unpanicked(what, || {
            let wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(data))
                .map_err(|_| bad(format!("{what}不是有效的Excel工作簿")))?;
            xlsx_cells(what, wb, limits)
        })
        .map_err(refused)?;
    }
    // The OLE2 compound file of Excel 97–2003 workbooks (many banks still send .xls).
    if data.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        check_xls(data, limits).map_err(refused)?;
        return unpanicked(what, || {
            let wb: calamine::Xls<_> = calamine::open_workbook_from_rs(Cursor::new(data))
                .map_err(|_| bad(format!("{what}不是有效的Excel 97-2003工作簿(.xls)")))?;
            first_sheet_cells(what, wb, limits)
        })
        .map_err(refused)?;
    }
    let lower = name.to_lowercase();
    if lower.ends_with(".xls") || lower.ends_with(".xlsx") {
        return Err(bad(format!(
            "{what}的扩展名是Excel，但内容不是Excel工作簿：请用原来的文件"
        )));
    }
    let text = decode_text(data);
    // Row k of the table is the sheet's row k + 1, as Excel or WPS shows the file: the
    // parser skips blank lines and reads a quoted cell's line breaks inside its record, so
    // each record is placed at the row the meter saw it start on, blank rows between.
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BoundedCsv::new(text.as_bytes(), limits, u64::MAX, what).counting_rows());
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut budget = TextBudget::new(limits, what);
    let mut rec = csv::StringRecord::new();
    loop {
        let next = rdr.read_record(&mut rec);
        let row = rdr
            .get_mut()
            .next_row()
            .map_or(rows.len() + 1, |r| r as usize);
        match next {
            Ok(true) => {}
            Ok(false) => break,
            // The meter's refusal (a record, the rows or the total over its limit) as it
            // words it; anything else is the file's format.
            Err(e) => {
                return Err(match refusal_of(&e) {
                    Some(r) => refused(r),
                    None => bad(format!("{what}第{row}行格式有误：{e}")),
                })
            }
        }
        // Blank rows count as rows here (a sheet shows them): a file of endless blank
        // lines is refused like one of endless records.
        if row as u64 > limits.max_rows.saturating_add(1) {
            return Err(bad(format!(
                "{what}的行{}：请拆分后分批导入",
                over("max_rows", format!("{}行", limits.max_rows))
            )));
        }
        while rows.len() + 1 < row {
            rows.push(Vec::new());
        }
        let i = rows.len();
        // Up to the last field with content (spreadsheets write empty ones to the end of
        // their used range).
        let used = (0..rec.len())
            .rev()
            .find(|&j| !rec[j].trim().is_empty())
            .map_or(0, |j| j + 1);
        if used as u64 > limits.max_columns {
            return Err(too_wide(what, i as u64 + 1, used as u64, limits));
        }
        budget
            .add(used as u64, rec.as_slice().len() as u64)
            .map_err(refused)?;
        // A bank echoing our bank file echoes its inert cells too.
        rows.push(
            rec.iter()
                .take(used)
                .map(|s| super::inert::read_back(s.trim()).to_string())
                .collect(),
        );
    }
    Ok(rows)
}

/// A cell beyond `max_columns` (row and column counted from 1).
fn too_wide(what: &str, row: u64, col: u64, limits: &InputLimits) -> Error {
    Error::field(
        "file",
        format!(
            "{what}第{row}行第{col}列有内容，{}：请用原来的文件",
            over("max_columns", format!("{}列", limits.max_columns))
        ),
    )
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

/// The first sheet's cells of an xlsx workbook as text, read cell by cell; rows are counted
/// from the first row holding a value and each row is as long as its last value. A cell
/// right of `max_columns` or below `max_rows` is refused rather than laid out in memory (a
/// two-cell sheet reaching column XFD and row 1,048,576 would otherwise ask for a grid of 17
/// billion cells).
fn xlsx_cells<RS: std::io::Read + std::io::Seek>(
    what: &'static str,
    mut wb: calamine::Xlsx<RS>,
    limits: &InputLimits,
) -> Result<Vec<Vec<String>>> {
    use calamine::Reader;
    let bad = |m: String| Error::field("file", m);
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| bad(format!("{what}中没有工作表")))?;
    let mut cells = wb
        .worksheet_cells_reader(&sheet)
        .map_err(|_| bad(format!("无法读取{what}的工作表")))?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut first_row: Option<u32> = None;
    let mut budget = TextBudget::new(limits, what);
    while let Some(c) = cells
        .next_cell()
        .map_err(|_| bad(format!("无法读取{what}的工作表")))?
    {
        let (row, col) = c.get_position();
        let text = cell_text(&calamine::Data::from(c.get_value().clone()));
        if text.is_empty() {
            continue;
        }
        if u64::from(col) >= limits.max_columns {
            return Err(too_wide(
                what,
                u64::from(row) + 1,
                u64::from(col) + 1,
                limits,
            ));
        }
        let start = *first_row.get_or_insert(row);
        let r = u64::from(row.saturating_sub(start));
        if r >= limits.max_rows {
            return Err(bad(format!(
                "{what}第{}行有内容，{}",
                u64::from(row) + 1,
                over("max_rows", format!("{}行", limits.max_rows))
            )));
        }
        let (r, col) = (r as usize, col as usize);
        let mut laid_out = 0u64;
        if rows.len() <= r {
            laid_out += (r + 1 - rows.len()) as u64;
            rows.resize_with(r + 1, Vec::new);
        }
        let cells_of_row = &mut rows[r];
        if cells_of_row.len() <= col {
            laid_out += (col + 1 - cells_of_row.len()) as u64;
            cells_of_row.resize(col + 1, String::new());
        }
        budget
            .add(laid_out, text.len() as u64)
            .map_err(|e| bad(e.0))?;
        cells_of_row[col] = text;
    }
    Ok(rows)
}

/// The first sheet's cells of an Excel 97–2003 workbook as text (a sheet there holds at
/// most 65,536 × 256 cells; the whole workbook was checked before it was opened).
fn first_sheet_cells<RS, R>(
    what: &'static str,
    mut wb: R,
    limits: &InputLimits,
) -> Result<Vec<Vec<String>>>
where
    RS: std::io::Read + std::io::Seek,
    R: calamine::Reader<RS>,
{
    let bad = |m: String| Error::field("file", m);
    let sheet = wb
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| bad(format!("{what}中没有工作表")))?;
    let range = wb
        .worksheet_range(&sheet)
        .map_err(|_| bad(format!("无法读取{what}的工作表")))?;
    if u64::from(range.width() as u32) > limits.max_columns {
        return Err(too_wide(what, 1, range.width() as u64, limits));
    }
    Ok(range
        .rows()
        .map(|r| r.iter().map(cell_text).collect())
        .collect())
}

/// Reads a return file: finds the header among the first ten rows (three known columns),
/// then every data row and the totals line (合计).
pub fn parse(name: &str, data: &[u8], limits: &InputLimits) -> Result<ReturnFile> {
    let bad = |m: String| Error::field("file", m);
    if data.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(bad("回盘文件是空的".into()));
    }
    let cells = read_cells("回盘文件", name, data, limits)?;
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
            paid: get("status").as_deref().and_then(parse_status),
            result_text: get("status").unwrap_or_default(),
            reason: get("reason").unwrap_or_default(),
            txn: get("txn").unwrap_or_default(),
        });
    }
    Ok(out)
}

/// 成功 → Some(true), 失败 → Some(false), anything else None.
pub fn parse_status(s: &str) -> Option<bool> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_bom_and_gbk() {
        assert_eq!(decode_text("姓名".as_bytes()), "姓名");
        assert_eq!(decode_text(b"\xEF\xBB\xBFab"), "ab");
        let (gbk, _, _) = encoding_rs::GBK.encode("张三,户主");
        assert_eq!(decode_text(&gbk), "张三,户主");
    }

    /// A CSV table's row k is the sheet's row k + 1 whatever the line ends: a blank line
    /// is a (blank) row of its own, a cell typed on two lines stays in its row.
    #[test]
    fn csv_rows_are_the_rows_a_spreadsheet_shows() {
        let lf = "姓名,账号\n张三,1\n\n\"李\n四\",2\n王五,3\n";
        let limits = InputLimits::default();
        for text in [lf.to_string(), lf.replace('\n', "\r\n")] {
            let rows = read_cells("回盘文件", "a.csv", text.as_bytes(), &limits).unwrap();
            let first: Vec<&str> = rows
                .iter()
                .map(|r| r.first().map_or("", String::as_str))
                .collect();
            let two_lines = if text.contains('\r') {
                "李\r\n四"
            } else {
                "李\n四"
            };
            assert_eq!(first, ["姓名", "张三", "", two_lines, "王五"], "{text:?}");
        }
        // Endless blank lines count as rows.
        let small = InputLimits {
            max_rows: 5,
            ..InputLimits::default()
        };
        let blank = format!("姓名,账号{}张三,1\n", "\n".repeat(10));
        let e = read_cells("回盘文件", "a.csv", blank.as_bytes(), &small).unwrap_err();
        assert!(e.to_string().contains("max_rows"), "{e}");
    }

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
        let f = parse("r.xlsx", &data, &InputLimits::default()).unwrap();
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.rows[0].line_no.as_deref(), Some("1"));
        assert_eq!(f.rows[0].amount.as_deref(), Some("300"));
        assert_eq!(f.rows[1].amount.as_deref(), Some("200.50"));
        assert_eq!(f.rows[1].row, 5, "Excel's row number");
        assert_eq!(f.rows[1].paid, Some(false));
        assert_eq!(f.rows[1].result_text, "交易不成功");
        assert_eq!(f.rows[1].reason, "户名不符");
    }

    #[test]
    fn a_return_sheet_reaching_far_columns_is_refused_without_laying_it_out() {
        // Two cells, A1 and XFD1048576: as a grid, 17 billion cells.
        let data = xlsx(&[(0, 0, "明细号"), (1_048_575, 16_383, "x")], &[]);
        let Err(Error::Validation { fields, .. }) = parse("r.xlsx", &data, &InputLimits::default())
        else {
            panic!("refused");
        };
        assert!(
            fields["file"].contains("第1048576行第16384列")
                && fields["file"].contains("max_columns"),
            "{}",
            fields["file"]
        );
        // Far down within the columns: a million empty rows laid out, more than the cells
        // a whole-table reader may hold.
        let data = xlsx(&[(0, 0, "x"), (1_048_575, 0, "y")], &[]);
        let Err(Error::Validation { fields, .. }) = parse("r.xlsx", &data, &InputLimits::default())
        else {
            panic!("refused");
        };
        assert!(fields["file"].contains("max_cells"), "{}", fields["file"]);
        // Further down than it, but within the cells: read (and refused for want of a
        // header).
        let data = xlsx(&[(0, 0, "x"), (100_000, 0, "y")], &[]);
        let Err(Error::Validation { fields, .. }) = parse("r.xlsx", &data, &InputLimits::default())
        else {
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
        let f = parse("r.csv", &gbk, &InputLimits::default()).unwrap();
        assert_eq!(f.rows.len(), 2);
        assert_eq!(f.rows[1].reason, "户名不符");
        assert_eq!(f.totals, Some((Some(2), "500.50".into())));
        assert!(!f.amount_in_fen);
    }
}
