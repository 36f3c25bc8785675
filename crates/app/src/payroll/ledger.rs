//! The month's overview (the dashboard) and the funds ledger (资金台账) with its workbook.
//! All three are statistics: read from the read replica when there is one.

use minzheng_domain::payroll::{bounds_within, LedgerFilter, LedgerRow, PayrollOverview};
use minzheng_domain::{Actor, Fen, YearMonth};
use minzheng_store::payroll;
use serde_json::json;

use super::{audit, Payroll};
use crate::{Error, Result};

/// A workbook to download.
#[derive(Debug, Clone)]
pub struct Workbook {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl Workbook {
    pub const CONTENT_TYPE: &'static str =
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
}

impl Payroll<'_> {
    /// Where `month`'s payroll stands in the actor's scope: batches by state, the planned
    /// amount, 退票 waiting for a correction or a re-issue, back pay waiting for the
    /// director.
    pub async fn overview(&self, actor: &Actor, month: YearMonth) -> Result<PayrollOverview> {
        Ok(payroll::overview(self.app.reader(), &actor.scope, month).await?)
    }

    /// The funds ledger inside the actor's scope (and the filter's `within`): per month,
    /// program and township, what was planned, paid, failed and re-issued. Months that are
    /// not `YYYY-MM` and empty fields of the filter are ignored.
    pub async fn ledger(&self, actor: &Actor, f: &LedgerFilter) -> Result<Vec<LedgerRow>> {
        let f = f.normalized();
        let (lo, hi) = bounds_within(&actor.scope, f.within.as_deref())
            .map_err(|_| Error::NotFound("该区划"))?;
        Ok(payroll::ledger(self.app.reader(), (&lo, &hi), &f).await?)
    }

    /// The funds ledger as a workbook (资金发放台账.xlsx); every export is audited (on the
    /// primary).
    pub async fn ledger_workbook(&self, actor: &Actor, f: &LedgerFilter) -> Result<Workbook> {
        let rows = self.ledger(actor, f).await?;
        let bytes =
            ledger_workbook(&rows).map_err(|e| Error::Internal(format!("导出失败：{e}")))?;
        let mut tx = self.app.store().begin_write().await?;
        audit(
            &mut tx,
            actor,
            "payroll.export",
            "export",
            "payroll_ledger.xlsx",
            actor.scope.code_str(),
            None,
            Some(json!({"what": "payroll_ledger.xlsx", "rows": rows.len()})),
        )
        .await?;
        tx.commit().await?;
        Ok(Workbook {
            file_name: "资金发放台账.xlsx".into(),
            bytes,
        })
    }
}

/// The ledger's rows as a worksheet 资金台账, amounts in yuan.
fn ledger_workbook(rows: &[LedgerRow]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::formats::inert::write_text;
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("资金台账")?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let headers = [
        "月份",
        "救助项目",
        "乡镇(街道)代码",
        "乡镇(街道)",
        "笔数",
        "应发金额(元)",
        "成功笔数",
        "已发金额(元)",
        "失败笔数",
        "失败金额(元)",
        "重发笔数",
        "重发金额(元)",
        "待追回(元)",
        "已追回(元)",
        "已核销(元)",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    let y = |f: Fen| f.0 as f64 / 100.0;
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        write_text(ws, row, 0, &r.month.to_string(), None)?;
        write_text(ws, row, 1, r.program.label(), None)?;
        write_text(ws, row, 2, &r.township_code, None)?;
        write_text(ws, row, 3, &r.township_name, None)?;
        ws.write_number(row, 4, r.lines as f64)?;
        ws.write_number_with_format(row, 5, y(r.planned), &money)?;
        ws.write_number(row, 6, r.paid_count as f64)?;
        ws.write_number_with_format(row, 7, y(r.paid), &money)?;
        ws.write_number(row, 8, r.failed_count as f64)?;
        ws.write_number_with_format(row, 9, y(r.failed), &money)?;
        ws.write_number(row, 10, r.reissue_count as f64)?;
        ws.write_number_with_format(row, 11, y(r.reissued), &money)?;
        ws.write_number_with_format(row, 12, y(r.to_recover), &money)?;
        ws.write_number_with_format(row, 13, y(r.recovered), &money)?;
        ws.write_number_with_format(row, 14, y(r.written_off), &money)?;
    }
    for c in 0..headers.len() {
        ws.set_column_width(c as u16, 14)?;
    }
    wb.save_to_buffer()
}
