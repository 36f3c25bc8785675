//! The registry's spreadsheets: the import template, an import's error report, and the
//! unified ledger (the import layout, which an export writes and an import reads back).

use minzheng_domain::registry::{
    mask_account, AssetKind, Column, DisabilityType, Employment, ExclusionReason, Health,
    ImportReport, IncomeKind, IncomePeriod, LedgerExport, PersonStatus, RegistrationType, Relation,
    WorkCapacity,
};
use minzheng_domain::{mask_id, Fen};
use rust_xlsxwriter::{DataValidation, Format, Note, Workbook, XlsxError};

use super::inert::{self, CsvCell};
use crate::{Error, Result};

fn xerr(e: XlsxError) -> Error {
    Error::Internal(format!("生成Excel文件失败：{e}"))
}

/// Choices offered as drop-downs in the template.
fn choices(c: Column) -> Option<Vec<&'static str>> {
    fn labels<T: Copy>(all: &[T], f: fn(T) -> &'static str) -> Vec<&'static str> {
        all.iter().map(|v| f(*v)).collect()
    }
    Some(match c {
        Column::RegistrationType => labels(RegistrationType::ALL, RegistrationType::label),
        Column::Relation => labels(Relation::ALL, Relation::label),
        Column::Counted => vec!["是", "否"],
        Column::ExclusionReason => labels(ExclusionReason::ALL, ExclusionReason::label),
        Column::DisabilityType => labels(DisabilityType::ALL, DisabilityType::label),
        Column::DisabilityGrade => vec!["1", "2", "3", "4"],
        Column::Health => labels(Health::ALL, Health::label),
        Column::WorkCapacity => labels(WorkCapacity::ALL, WorkCapacity::label),
        Column::Employment => labels(Employment::ALL, Employment::label),
        Column::Status => labels(PersonStatus::ALL, PersonStatus::label),
        _ => return None,
    })
}

/// The money columns: written as amounts, never neutralised as text (a negative amount is
/// a number, not a formula).
fn is_amount(c: Column) -> bool {
    matches!(
        c,
        Column::WageMonthly
            | Column::BusinessMonthly
            | Column::TransferMonthly
            | Column::OtherAnnual
            | Column::Deposit
            | Column::Vehicle
            | Column::Housing
    )
}

fn text_columns() -> [Column; 5] {
    [
        Column::HeadId,
        Column::IdNumber,
        Column::Village,
        Column::Account,
        Column::Phone,
    ]
}

/// The import template: the header row with a note on each column, drop-downs for coded
/// columns, ID/account columns formatted as text, and a sheet of instructions.
pub fn import_template() -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold().set_background_color(0xDDEBF7);
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name("家庭成员").map_err(xerr)?;
    for (j, c) in Column::ALL.into_iter().enumerate() {
        let j = j as u16;
        let header = if c.required() {
            format!("{}*", c.header())
        } else {
            c.header().to_string()
        };
        ws.write_string_with_format(0, j, &header, &bold)
            .map_err(xerr)?;
        ws.set_column_width(j, 16).map_err(xerr)?;
        ws.insert_note(0, j, &Note::new(c.note()).set_author("minzheng"))
            .map_err(xerr)?;
        if text_columns().contains(&c) {
            ws.set_column_format(j, &text).map_err(xerr)?;
            ws.set_column_width(j, 22).map_err(xerr)?;
        }
        if let Some(list) = choices(c) {
            let dv = DataValidation::new()
                .allow_list_strings(&list)
                .map_err(xerr)?
                .set_error_title("请从下拉列表中选择")
                .map_err(xerr)?;
            ws.add_data_validation(1, j, 50_000, j, &dv).map_err(xerr)?;
        }
    }
    ws.set_freeze_panes(1, 0).map_err(xerr)?;
    let help = wb.add_worksheet();
    help.set_name("填写说明").map_err(xerr)?;
    help.set_column_width(0, 100).map_err(xerr)?;
    let lines = [
        "户籍台账导入模板：每行一名家庭成员；同一户各行的“户主身份证号”相同，系统据此分户。"
            .to_string(),
        "带*的列必填。户主所在行填写户籍类型、住址、电话、开户银行、银行账号、账户户名。"
            .to_string(),
        "身份证号、银行账号请保持“文本”格式，否则Excel会把号码变成科学计数法并丢失后几位。"
            .to_string(),
        "日期可写成 2024-01-05、2024/1/5、2024年1月5日 或 20240105。金额单位为元。".to_string(),
        "同一文件可重复导入：已登记的人员按身份证号更新，不会重复登记。".to_string(),
    ];
    for (i, l) in lines.iter().enumerate() {
        help.write_string(i as u32, 0, l).map_err(xerr)?;
    }
    wb.save_to_buffer().map_err(xerr)
}

/// The error report of an import as a workbook: row, column, value, reason.
pub fn import_report_xlsx(report: &ImportReport) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name("错误报告").map_err(xerr)?;
    inert::write_text(ws, 0, 0, &report.summary(), None).map_err(xerr)?;
    for (j, h) in ["行号", "列", "内容", "原因"].iter().enumerate() {
        ws.write_string_with_format(2, j as u16, *h, &bold)
            .map_err(xerr)?;
    }
    ws.set_column_width(1, 18).map_err(xerr)?;
    ws.set_column_width(2, 24).map_err(xerr)?;
    ws.set_column_width(3, 80).map_err(xerr)?;
    for (i, is) in report.issues.iter().enumerate() {
        let r = 3 + i as u32;
        if is.row > 0 {
            ws.write_number(r, 0, is.row as f64).map_err(xerr)?;
        } else {
            ws.write_string(r, 0, "整个文件").map_err(xerr)?;
        }
        // The column and value come from the uploaded file: written inert.
        inert::write_text(ws, r, 1, &is.column, None).map_err(xerr)?;
        inert::write_text(ws, r, 2, &is.value, None).map_err(xerr)?;
        inert::write_text(ws, r, 3, &is.reason, None).map_err(xerr)?;
    }
    wb.save_to_buffer().map_err(xerr)
}

/// Writes rows in template column order as an .xlsx (ID and account columns as text).
pub fn ledger_xlsx(rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let ws = wb.add_worksheet();
    ws.set_name("家庭成员").map_err(xerr)?;
    for (j, c) in Column::ALL.into_iter().enumerate() {
        ws.write_string_with_format(0, j as u16, c.header(), &bold)
            .map_err(xerr)?;
        if text_columns().contains(&c) {
            ws.set_column_format(j as u16, &text).map_err(xerr)?;
        }
    }
    for (i, row) in rows.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            let (r, c) = (i as u32 + 1, j as u16);
            if Column::ALL.get(j).is_some_and(|c| is_amount(*c)) {
                ws.write_string(r, c, v).map_err(xerr)?;
            } else {
                inert::write_text(ws, r, c, v, None).map_err(xerr)?;
            }
        }
    }
    wb.save_to_buffer().map_err(xerr)
}

/// Writes rows in template column order as UTF-8 CSV with a BOM (so Excel opens it right).
/// Text cells a spreadsheet would take as a formula get a leading apostrophe, which the
/// ledger import removes again; amounts are written as they are.
pub fn ledger_csv(rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let io = |e: csv::Error| Error::Internal(format!("生成CSV失败：{e}"));
    w.write_record(Column::ALL.iter().map(|c| c.header()))
        .map_err(io)?;
    for r in rows {
        w.write_record(r.iter().enumerate().map(|(j, v)| match Column::ALL.get(j) {
            Some(c) if is_amount(*c) => CsvCell::number(v),
            _ => CsvCell::text(v),
        }))
        .map_err(io)?;
    }
    w.into_inner()
        .map_err(|e| Error::Internal(format!("生成CSV失败：{e}")))
}

/// The unified ledger of an export, one row per person in the import layout. ID numbers
/// and accounts are masked unless `full`.
pub fn ledger_rows(export: &LedgerExport, full: bool) -> Vec<Vec<String>> {
    let money = |v: Option<&Fen>| v.map(|f| f.yuan_string()).unwrap_or_default();
    let mut out = Vec::with_capacity(export.entries.len());
    for e in &export.entries {
        let pid = e.person_id;
        let is_head = e.relation == Relation::Head;
        let hh = |v: &str| {
            if is_head {
                v.to_string()
            } else {
                String::new()
            }
        };
        let inc = |k: IncomeKind, p: IncomePeriod| money(export.incomes.get(&(pid, k, p)));
        let ast = |k: AssetKind| money(export.assets.get(&(pid, k)));
        let id = |v: &str| if full { v.to_string() } else { mask_id(v) };
        let row: Vec<String> = Column::ALL
            .into_iter()
            .map(|c| match c {
                Column::HeadId => id(&e.head_id_number),
                Column::Village => e.village_code.clone(),
                Column::RegistrationType => hh(e.registration_type.label()),
                Column::Address => hh(&e.address),
                Column::Phone => hh(&e.phone),
                Column::Bank => hh(&e.bank_name),
                Column::Account => hh(&if full {
                    e.account_number.clone()
                } else {
                    mask_account(&e.account_number)
                }),
                Column::AccountHolder => hh(&e.account_holder),
                Column::Name => e.name.clone(),
                Column::IdNumber => id(&e.id_number),
                Column::Relation => e.relation.label().into(),
                Column::Counted => if e.counted { "是" } else { "否" }.into(),
                Column::ExclusionReason => e
                    .exclusion_reason
                    .map(|x| x.label().to_string())
                    .unwrap_or_default(),
                Column::DisabilityType => e.disability_type.label().into(),
                Column::DisabilityGrade => e
                    .disability_grade
                    .map(|g| g.to_string())
                    .unwrap_or_default(),
                Column::Health => e.health.label().into(),
                Column::WorkCapacity => e.work_capacity.label().into(),
                Column::Employment => e.employment.label().into(),
                Column::Status => e.status.label().into(),
                Column::StatusDate => e.status_date.clone().unwrap_or_default(),
                Column::WageMonthly => inc(IncomeKind::Wage, IncomePeriod::Monthly),
                Column::BusinessMonthly => inc(IncomeKind::Business, IncomePeriod::Monthly),
                Column::TransferMonthly => inc(IncomeKind::Transfer, IncomePeriod::Monthly),
                Column::OtherAnnual => inc(IncomeKind::Other, IncomePeriod::Annual),
                Column::Deposit => ast(AssetKind::Deposit),
                Column::Vehicle => ast(AssetKind::Vehicle),
                Column::Housing => ast(AssetKind::Housing),
            })
            .collect();
        out.push(row);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_is_a_workbook() {
        let bytes = import_template().unwrap();
        assert_eq!(&bytes[..2], b"PK");
    }
}
