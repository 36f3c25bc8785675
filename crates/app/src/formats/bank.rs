//! Bank files (代发文件): a batch's lines in the columns, order and format a bank's template
//! asks for — CSV in GBK or UTF-8, or an xlsx workbook — with an optional totals line, and
//! named by the template's rule. Text cells are made inert ([`inert`]): a name, holder or
//! bank name that would be a formula gets a leading apostrophe in CSV and Excel's quote
//! prefix in xlsx; amounts stay numbers.

use minzheng_domain::payroll::{
    BankColumn, BankFormat, BankTemplate, LineKind, MoneyUnit, PayrollBatch, PayrollLine,
    TextEncoding,
};
use minzheng_domain::Fen;

use super::inert::{self, CsvCell};
use crate::{Error, Result};

/// A rendered bank file.
#[derive(Debug, Clone)]
pub struct BankFile {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    pub lines: usize,
    pub total: Fen,
}

/// The column titles of the template's files, in order (the header line).
pub fn header(t: &BankTemplate) -> Vec<String> {
    t.columns.iter().map(|c| c.header(t.amount_unit)).collect()
}

/// The name the template gives the bank file of a batch: `{bank}` (the template's name),
/// `{batch_no}` (as people read it, the program by its name:
/// `202611-511802001-城市最低生活保障`), `{period}` (YYYYMM), `{township}`, `{program}` and
/// `{ext}` filled in, characters a file system refuses replaced, the extension added if
/// missing. The file's lines keep the stored batch number.
pub fn file_name(t: &BankTemplate, b: &PayrollBatch) -> String {
    let ext = match t.format {
        BankFormat::Xlsx => "xlsx",
        BankFormat::Csv => "csv",
    };
    let name = t
        .file_name
        .replace(
            "{bank}",
            if t.name.trim().is_empty() {
                &t.code
            } else {
                t.name.trim()
            },
        )
        .replace("{batch_no}", &readable_batch_no(&b.batch_no))
        .replace("{period}", &b.month.compact())
        .replace("{township}", &b.township_name)
        .replace("{program}", b.program.label())
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

/// A batch number as people read it: the program's code at its end by the program's name.
pub fn readable_batch_no(batch_no: &str) -> String {
    match batch_no.rsplit_once('-') {
        Some((head, code)) => match code.parse::<minzheng_domain::Program>() {
            Ok(p) => format!("{head}-{}", p.label()),
            Err(_) => batch_no.to_string(),
        },
        None => batch_no.to_string(),
    }
}

/// 摘要: the program, the month, and whether it is back pay or a re-issue.
fn remark(l: &PayrollLine) -> String {
    let period = l.period.label();
    let what = l.program.label();
    match l.kind {
        LineKind::BackPay => format!("{what}{period}补发"),
        LineKind::Reissue => format!("{what}{period}重发"),
        LineKind::TopUp => format!("{what}{period}补差"),
        LineKind::Regular => format!("{what}{period}"),
    }
}

fn amount_text(f: Fen, unit: MoneyUnit) -> String {
    match unit {
        MoneyUnit::Fen => f.0.to_string(),
        MoneyUnit::Yuan => f.yuan_string(),
    }
}

fn cell(key: BankColumn, b: &PayrollBatch, l: &PayrollLine, unit: MoneyUnit) -> String {
    match key {
        BankColumn::BatchNo => b.batch_no.clone(),
        BankColumn::LineNo => l.id.to_string(),
        BankColumn::Item => l.program.as_str().to_string(),
        BankColumn::ItemName => l.program.label().to_string(),
        BankColumn::Period => l.period.compact(),
        BankColumn::Division => l.village_code.clone(),
        BankColumn::Name => l.beneficiary_name.clone(),
        BankColumn::IdNumber => l.beneficiary_id_number.clone(),
        BankColumn::Bank => l.bank_name.clone(),
        BankColumn::Account => l.account_number.clone(),
        BankColumn::Holder => l.account_holder.clone(),
        BankColumn::Amount => amount_text(l.amount, unit),
        BankColumn::Remark => remark(l),
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
        .position(|c| *c == BankColumn::Name)
        .filter(|&i| i != 0)
        .unwrap_or(1.min(row.len() - 1));
    if count_col != 0 {
        row[count_col] = format!("共{lines}笔");
    }
    if let Some(i) = t.columns.iter().position(|c| *c == BankColumn::Amount) {
        row[i] = amount_text(total, t.amount_unit);
    }
    row
}

/// Renders the bank file of `b` with its `lines`.
pub fn render(t: &BankTemplate, b: &PayrollBatch, lines: &[PayrollLine]) -> Result<BankFile> {
    let total = Fen(lines.iter().map(|l| l.amount.0).sum());
    let header = header(t);
    let bytes = match t.format {
        BankFormat::Xlsx => xlsx_file(t, b, lines, &header, total)
            .map_err(|e| Error::Internal(format!("生成Excel代发文件失败：{e}")))?,
        BankFormat::Csv => {
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(Vec::new());
            let err = |e: csv::Error| Error::Internal(format!("生成CSV代发文件失败：{e}"));
            w.write_record(header.iter().map(|h| CsvCell::text(h)))
                .map_err(err)?;
            for l in lines {
                // Text cells are made inert; the amount is a number and stays as it is.
                let cells: Vec<String> = t
                    .columns
                    .iter()
                    .map(|c| cell(*c, b, l, t.amount_unit))
                    .collect();
                w.write_record(t.columns.iter().zip(&cells).map(|(c, v)| {
                    if *c == BankColumn::Amount {
                        CsvCell::number(v)
                    } else {
                        CsvCell::text(v)
                    }
                }))
                .map_err(err)?;
            }
            if t.totals_line {
                w.write_record(totals_row(t, lines.len(), total))
                    .map_err(err)?;
            }
            let text = w
                .into_inner()
                .map_err(|e| Error::Internal(format!("生成CSV代发文件失败：{e}")))?;
            if t.encoding == TextEncoding::Gbk {
                // GB18030 is GBK for every character GBK has, and still encodes rare name
                // characters (生僻字) instead of losing them.
                let s = String::from_utf8(text)
                    .map_err(|_| Error::Internal("代发文件编码失败".into()))?;
                encoding_rs::GB18030.encode(&s).0.into_owned()
            } else {
                text
            }
        }
    };
    Ok(BankFile {
        file_name: file_name(t, b),
        content_type: match (t.format, t.encoding) {
            (BankFormat::Xlsx, _) => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            (BankFormat::Csv, TextEncoding::Gbk) => "text/csv; charset=gb18030",
            (BankFormat::Csv, TextEncoding::Utf8) => "text/csv; charset=utf-8",
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
        inert::write_text(ws, 0, c as u16, h, Some(&bold))?;
    }
    let amount_cell =
        |ws: &mut rust_xlsxwriter::Worksheet, r: u32, c: u16, f: Fen| match t.amount_unit {
            MoneyUnit::Fen => ws.write_number(r, c, f.0 as f64).map(|_| ()),
            MoneyUnit::Yuan => ws
                .write_number_with_format(r, c, f.0 as f64 / 100.0, &money)
                .map(|_| ()),
        };
    for (i, l) in lines.iter().enumerate() {
        let r = i as u32 + 1;
        for (c, key) in t.columns.iter().enumerate() {
            if *key == BankColumn::Amount {
                amount_cell(ws, r, c as u16, l.amount)?;
            } else {
                let v = cell(*key, b, l, t.amount_unit);
                inert::write_text(ws, r, c as u16, &v, Some(&text))?;
            }
        }
    }
    if t.totals_line {
        let r = lines.len() as u32 + 1;
        for (c, v) in totals_row(t, lines.len(), total).iter().enumerate() {
            if t.columns[c] == BankColumn::Amount {
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
