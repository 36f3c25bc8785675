//! The console's Excel workbook (规范化建设.xlsx): one row per office with its compliance,
//! gaps, plan, inspection, subsidy and every rule's status.

use minzheng_domain::standards::{OfficeStanding, RULES};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use crate::formats::inert::write_text;

pub(super) fn console_xlsx(rows: &[OfficeStanding]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("规范化建设")?;
    let bold = Format::new().set_bold();
    let mut headers: Vec<String> = [
        "县(市、区)",
        "乡镇(街道)代码",
        "民政办公室",
        "基本标准达标率(%)",
        "未达标或未登记项",
        "建设方案",
        "检查验收",
        "补助金额(元)",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    headers.extend(RULES.iter().map(|r| r.title.to_string()));
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)?;
    }
    for (i, o) in rows.iter().enumerate() {
        let r = (i + 1) as u32;
        // Names come from the division files: text cells are written inert.
        write_text(ws, r, 0, &o.county_name, None)?;
        write_text(ws, r, 1, &o.township_code, None)?;
        write_text(ws, r, 2, &o.name, None)?;
        ws.write_number(r, 3, o.evaluation.compliance_percent as f64)?;
        write_text(ws, r, 4, &o.failing_titles().join("、"), None)?;
        write_text(ws, r, 5, o.plan_status.label(), None)?;
        write_text(ws, r, 6, o.inspection_status.label(), None)?;
        // Money leaves the system as text with exactly two decimals: no float rounding.
        ws.write_string(r, 7, o.subsidy.map(|f| f.yuan_string()).unwrap_or_default())?;
        for (j, res) in o.evaluation.results.iter().enumerate() {
            write_text(ws, r, (8 + j) as u16, res.status.label(), None)?;
        }
    }
    ws.set_column_width(2, 24)?;
    ws.set_column_width(4, 40)?;
    wb.save_to_buffer()
}
