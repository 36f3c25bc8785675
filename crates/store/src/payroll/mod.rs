//! Monthly payroll (资金发放): the batches, their lines, payment exceptions (退票), back pay
//! (补发), bank templates and return files, in the tables `payroll_batches`,
//! `payroll_lines`, `payment_exceptions`, `payroll_adjustments`, `bank_templates` and
//! `payroll_returns`.
//!
//! Generation is set-based (`generate.rs`): a few `INSERT … SELECT` statements in one write
//! transaction, never a loop over enrolments in Rust. A batch is unique per (program,
//! township, month) and a line per (beneficiary, program, period) among non-reissue lines
//! (the once index), so no month is ever planned twice for anyone. Conditional updates
//! (`… WHERE status = 'draft'`) answer a concurrent change with 0 rows, which the caller
//! reports.

mod batches;
pub mod bench;
pub mod demo;
mod exceptions;
mod files;
mod generate;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use batches::*;
pub use exceptions::*;
pub use files::*;
pub use generate::*;

use minzheng_domain::payroll::{
    BackPay, BankTemplate, PaymentException, PayrollBatch, PayrollLine,
};
use minzheng_domain::{Coded, Fen, Program, YearMonth};

use crate::db::{q, DbRow, Tx};
use crate::distribute::same_county;
use crate::error::{Result, StoreError};

pub(crate) fn now() -> String {
    crate::timestamp(chrono::Utc::now())
}

/// A fresh generation token: the batches a generation (re)fills carry it, so its
/// statements find them.
pub fn generation_token() -> String {
    use rand::RngCore;
    let mut b = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Sets SQLite's page cache of the transaction's connection to `kib`; returns the setting
/// it had (to restore).
pub(crate) async fn set_cache(tx: &mut Tx, kib: i64) -> Result<i64> {
    let before = tx
        .fetch_one(q("PRAGMA cache_size"))
        .await?
        .i64("cache_size")?;
    tx.execute(q(format!("PRAGMA cache_size = -{kib}"))).await?;
    Ok(before)
}

/// The SQLite page cache (KiB) of a city-wide generation.
pub(crate) const BIG_CACHE_KIB: i64 = 131_072;

// ---------------------------------------------------------------- row mapping

/// A coded column read back as its word.
fn coded<T: Coded>(r: &DbRow, col: &str) -> Result<T> {
    r.coded(col)
}

fn program(r: &DbRow, col: &str) -> Result<Program> {
    r.program(col)
}

fn month(r: &DbRow, col: &str) -> Result<YearMonth> {
    r.month(col)
}

/// An optional month column read leniently (a value that is not a month counts as absent).
fn opt_month(r: &DbRow, col: &str) -> Result<Option<YearMonth>> {
    Ok(r.opt_str(col)?.and_then(|s| YearMonth::parse(&s).ok()))
}

const SELECT_BATCH: &str = "SELECT b.*, d.name AS township_name FROM payroll_batches b
    LEFT JOIN divisions d ON d.code = b.township_code";

fn batch(r: &DbRow) -> Result<PayrollBatch> {
    Ok(PayrollBatch {
        id: r.i64("id")?,
        batch_no: r.str("batch_no")?,
        program: program(r, "program")?,
        township_code: r.str("township_code")?,
        township_name: r.opt_str("township_name")?.unwrap_or_default(),
        month: month(r, "month")?,
        status: coded(r, "status")?,
        line_count: r.i64("line_count")?,
        planned: Fen(r.i64("planned_fen")?),
        back_pay: Fen(r.i64("back_pay_fen")?),
        reissue_count: r.i64("reissue_count")?,
        reissue: Fen(r.i64("reissue_fen")?),
        returned_count: r.i64("returned_count")?,
        paid_count: r.i64("paid_count")?,
        paid: Fen(r.i64("paid_fen")?),
        failed_count: r.i64("failed_count")?,
        failed: Fen(r.i64("failed_fen")?),
        generated_by: r.str("generated_by")?,
        generated_at: r.str("generated_at")?,
        signed_off_by: r.opt_str("signed_off_by")?,
        signed_off_at: r.opt_str("signed_off_at")?,
        exported_at: r.opt_str("exported_at")?,
        export_count: r.i64("export_count")?,
        reconciled_at: r.opt_str("reconciled_at")?,
        closed_at: r.opt_str("closed_at")?,
    })
}

fn line(r: &DbRow) -> Result<PayrollLine> {
    Ok(PayrollLine {
        id: r.i64("id")?,
        batch_id: r.i64("batch_id")?,
        kind: coded(r, "kind")?,
        program: program(r, "program")?,
        period: month(r, "period")?,
        enrolment_id: r.i64("enrolment_id")?,
        township_code: r.str("township_code")?,
        village_code: r.str("village_code")?,
        beneficiary_name: r.str("beneficiary_name")?,
        beneficiary_id_number: r.str("beneficiary_id_number")?,
        bank_name: r.str("bank_name")?,
        account_number: r.str("account_number")?,
        account_holder: r.str("account_holder")?,
        amount: Fen(r.i64("amount_fen")?),
        reissue_of: r.opt_i64("reissue_of")?,
        adjustment_id: r.opt_i64("adjustment_id")?,
        status: coded(r, "status")?,
        fail_reason: r.opt_str("fail_reason")?,
        bank_txn_id: r.opt_str("bank_txn_id")?,
    })
}

fn lines(rows: &[DbRow]) -> Result<Vec<PayrollLine>> {
    rows.iter().map(line).collect()
}

/// Payment exceptions with their batch's number and their line (on a distributed database
/// the joins name the county as well, answered on one node).
fn select_exception(distributed: bool) -> String {
    format!(
        "SELECT x.*, b.batch_no, l.beneficiary_name, l.beneficiary_id_number,
        l.bank_name AS original_bank_name, l.account_number AS original_account,
        l.account_holder AS original_holder, l.amount_fen
    FROM payment_exceptions x
    JOIN payroll_batches b ON b.id = x.batch_id{}
    JOIN payroll_lines l ON l.id = x.line_id{}",
        same_county(distributed, "b", "x"),
        same_county(distributed, "l", "x")
    )
}

fn exception(r: &DbRow) -> Result<PaymentException> {
    Ok(PaymentException {
        id: r.i64("id")?,
        line_id: r.i64("line_id")?,
        batch_id: r.i64("batch_id")?,
        batch_no: r.str("batch_no")?,
        batch_month: month(r, "batch_month")?,
        program: program(r, "program")?,
        township_code: r.str("township_code")?,
        period: month(r, "period")?,
        beneficiary_name: r.str("beneficiary_name")?,
        beneficiary_id_number: r.str("beneficiary_id_number")?,
        original_bank_name: r.str("original_bank_name")?,
        original_account: r.str("original_account")?,
        original_holder: r.str("original_holder")?,
        amount: Fen(r.i64("amount_fen")?),
        fail_reason: r.str("fail_reason")?,
        status: coded(r, "status")?,
        bank_name: r.opt_str("bank_name")?,
        account_number: r.opt_str("account_number")?,
        account_holder: r.opt_str("account_holder")?,
        note: r.str("note")?,
        reissue_line_id: r.opt_i64("reissue_line_id")?,
        created_at: r.str("created_at")?,
        corrected_by: r.opt_str("corrected_by")?,
    })
}

/// Back pay with its beneficiary's name (the enrolment's county named on a distributed
/// database).
fn select_back_pay(distributed: bool) -> String {
    format!(
        "SELECT a.*, e.beneficiary_name FROM payroll_adjustments a
    JOIN enrolments e ON e.id = a.enrolment_id{}",
        same_county(distributed, "e", "a")
    )
}

fn back_pay(r: &DbRow) -> Result<BackPay> {
    Ok(BackPay {
        id: r.i64("id")?,
        enrolment_id: r.i64("enrolment_id")?,
        program: program(r, "program")?,
        township_code: r.str("township_code")?,
        beneficiary_name: r.str("beneficiary_name")?,
        period: month(r, "period")?,
        amount: Fen(r.i64("amount_fen")?),
        reason: r.str("reason")?,
        case_id: r.opt_i64("case_id")?,
        status: coded(r, "status")?,
        requested_by: r.str("requested_by")?,
        decided_by: r.opt_str("decided_by")?,
        line_id: r.opt_i64("line_id")?,
    })
}

fn template(r: &DbRow) -> Result<BankTemplate> {
    let columns = r
        .str("columns")?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|c| {
            minzheng_domain::payroll::BankColumn::parse(c)
                .ok_or_else(|| StoreError::Internal(format!("代发模板的列“{c}”无法识别")))
        })
        .collect::<Result<_>>()?;
    Ok(BankTemplate {
        id: r.i64("id")?,
        code: r.str("code")?,
        name: r.str("name")?,
        format: coded(r, "format")?,
        encoding: coded(r, "encoding")?,
        columns,
        totals_line: r.bool("totals_line")?,
        amount_unit: coded(r, "amount_unit")?,
        file_name: r.str("file_name")?,
        active: r.bool("active")?,
    })
}
