//! The payroll's records as read back from the database. They carry codes and amounts, no
//! labels: a page shows `b.status` (its label) and formats `Fen` itself.

use serde::Serialize;

use super::{
    BackPayStatus, BankColumn, BankFormat, BatchStatus, DiffChange, ExceptionStatus, LineKind,
    LineStatus, MoneyUnit, TextEncoding,
};
use crate::registry::mask_account;
use crate::{mask_id, Fen, Program, YearMonth};

/// A payroll batch (发放批次): one program in one township for one month.
#[derive(Debug, Clone, Serialize)]
pub struct PayrollBatch {
    pub id: i64,
    pub batch_no: String,
    pub program: Program,
    pub township_code: String,
    pub township_name: String,
    pub month: YearMonth,
    pub status: BatchStatus,
    pub line_count: i64,
    pub planned: Fen,
    pub back_pay: Fen,
    pub reissue_count: i64,
    pub reissue: Fen,
    pub returned_count: i64,
    pub paid_count: i64,
    pub paid: Fen,
    pub failed_count: i64,
    pub failed: Fen,
    pub generated_by: String,
    pub generated_at: String,
    pub signed_off_by: Option<String>,
    pub signed_off_at: Option<String>,
    pub exported_at: Option<String>,
    pub export_count: i64,
    pub reconciled_at: Option<String>,
    pub closed_at: Option<String>,
}

impl PayrollBatch {
    /// Some lines are back from the bank but not all (部分回盘).
    pub fn partially_reconciled(&self) -> bool {
        self.returned_count > 0 && self.returned_count < self.line_count
    }
}

/// One bank file produced for a batch (代发文件), as its audit record keeps it: who, when
/// (a stored UTC timestamp), with which template, the file's name, lines and total.
#[derive(Debug, Clone, Serialize)]
pub struct BankFileDownload {
    pub at: String,
    pub actor: String,
    pub template: String,
    pub file_name: String,
    pub lines: i64,
    pub total: Fen,
}

/// One bank return file imported for a batch (回盘文件), as it was accepted: its name, the
/// SHA-256 of its bytes (to match the file the bank sent), how many lines it answered and
/// how many of them were paid or failed with their amounts, who imported it and when (a
/// stored UTC timestamp).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReturnFileRecord {
    pub file_name: String,
    pub sha256: String,
    pub lines: i64,
    pub paid_count: i64,
    pub paid: Fen,
    pub failed_count: i64,
    pub failed: Fen,
    pub imported_by: String,
    pub imported_at: String,
}

/// One line of a batch (发放明细).
#[derive(Debug, Clone, Serialize)]
pub struct PayrollLine {
    pub id: i64,
    pub batch_id: i64,
    pub kind: LineKind,
    pub program: Program,
    pub period: YearMonth,
    pub enrolment_id: i64,
    pub township_code: String,
    pub village_code: String,
    pub beneficiary_name: String,
    pub beneficiary_id_number: String,
    pub bank_name: String,
    pub account_number: String,
    pub account_holder: String,
    pub amount: Fen,
    pub reissue_of: Option<i64>,
    pub adjustment_id: Option<i64>,
    pub status: LineStatus,
    pub fail_reason: Option<String>,
    pub bank_txn_id: Option<String>,
}

impl PayrollLine {
    /// Hides the ID number and the account (for those who may not see them).
    pub fn masked(mut self) -> Self {
        self.beneficiary_id_number = mask_id(&self.beneficiary_id_number);
        self.account_number = mask_account(&self.account_number);
        self
    }
}

/// What a generation found and made.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateOutcome {
    pub month: YearMonth,
    /// Batches this call created.
    pub created: Vec<PayrollBatch>,
    /// Batches that already existed (returned unchanged).
    pub existing: Vec<PayrollBatch>,
    /// Lines this call created.
    pub lines: i64,
    pub planned: Fen,
}

/// One difference between a batch and the same program's batch of the month before.
#[derive(Debug, Clone, Serialize)]
pub struct DiffEntry {
    pub change: DiffChange,
    pub beneficiary_name: String,
    pub beneficiary_id_number: String,
    pub village_code: String,
    pub previous: Option<Fen>,
    pub current: Option<Fen>,
    pub reason: String,
    pub case_id: Option<i64>,
    pub case_no: Option<String>,
    pub enrolment_id: i64,
}

/// The month-over-month review of a batch (环比变动).
#[derive(Debug, Clone, Serialize)]
pub struct BatchDiff {
    pub previous_month: YearMonth,
    pub previous_batch_id: Option<i64>,
    pub previous_lines: i64,
    pub previous_total: Fen,
    pub new_count: usize,
    pub stopped_count: usize,
    pub changed_count: usize,
    pub unchanged_count: usize,
    pub entries: Vec<DiffEntry>,
    /// Back pay and re-issues in this batch (they are not month-over-month changes).
    pub extras: Vec<PayrollLine>,
}

impl BatchDiff {
    /// Hides ID numbers and accounts (for those who may not see them).
    pub fn masked(mut self) -> Self {
        self.extras = self.extras.into_iter().map(PayrollLine::masked).collect();
        for e in &mut self.entries {
            e.beneficiary_id_number = mask_id(&e.beneficiary_id_number);
        }
        self
    }
}

/// A payment exception (退票): a line the bank could not pay.
#[derive(Debug, Clone, Serialize)]
pub struct PaymentException {
    pub id: i64,
    pub line_id: i64,
    pub batch_id: i64,
    pub batch_no: String,
    pub batch_month: YearMonth,
    pub program: Program,
    pub township_code: String,
    pub period: YearMonth,
    pub beneficiary_name: String,
    pub beneficiary_id_number: String,
    pub original_bank_name: String,
    pub original_account: String,
    /// The account holder (户名) of the failed line.
    pub original_holder: String,
    pub amount: Fen,
    pub fail_reason: String,
    pub status: ExceptionStatus,
    pub bank_name: Option<String>,
    pub account_number: Option<String>,
    pub account_holder: Option<String>,
    pub note: String,
    pub reissue_line_id: Option<i64>,
    pub created_at: String,
    pub corrected_by: Option<String>,
}

impl PaymentException {
    /// Hides the ID number and the accounts (for those who may not see them).
    pub fn masked(mut self) -> Self {
        self.beneficiary_id_number = mask_id(&self.beneficiary_id_number);
        self.original_account = mask_account(&self.original_account);
        self.account_number = self.account_number.map(|a| mask_account(&a));
        self
    }

    /// Whether the clerk may still correct it (before its re-issue).
    pub fn correctable(&self) -> bool {
        matches!(self.status, ExceptionStatus::Open | ExceptionStatus::Ready)
    }
}

/// Back pay (补发) for one past month of an enrolment.
#[derive(Debug, Clone, Serialize)]
pub struct BackPay {
    pub id: i64,
    pub enrolment_id: i64,
    pub program: Program,
    pub township_code: String,
    pub beneficiary_name: String,
    pub period: YearMonth,
    pub amount: Fen,
    pub reason: String,
    pub case_id: Option<i64>,
    pub status: BackPayStatus,
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub line_id: Option<i64>,
}

impl BackPay {
    /// Four eyes: whoever asked for the money does not also approve it.
    pub fn may_be_decided_by(&self, username: &str) -> Result<(), &'static str> {
        if self.requested_by == username {
            Err("不能审批本人提出的补发申请，请由其他有审批权限的人员审批")
        } else {
            Ok(())
        }
    }
}

/// One row of the funds ledger (资金台账): a program in a township in a month.
#[derive(Debug, Clone, Serialize)]
pub struct LedgerRow {
    pub month: YearMonth,
    pub program: Program,
    pub township_code: String,
    pub township_name: String,
    pub batches: i64,
    pub lines: i64,
    pub planned: Fen,
    pub paid_count: i64,
    pub paid: Fen,
    pub failed_count: i64,
    pub failed: Fen,
    pub reissue_count: i64,
    pub reissued: Fen,
    /// Paid for this month after a death and still owed back (追回: open or waiting for a
    /// write-off's approval).
    pub to_recover: Fen,
    /// Recovered (已追回).
    pub recovered: Fen,
    /// Written off with the director's approval (已核销).
    pub written_off: Fen,
}

/// The month's payroll at a glance (the dashboard).
#[derive(Debug, Clone, Serialize)]
pub struct PayrollOverview {
    pub month: YearMonth,
    pub batches: i64,
    /// 草稿, waiting for the director's sign-off.
    pub drafts: i64,
    /// Signed off, the bank file not yet produced.
    pub signed_off: i64,
    /// Bank file out, waiting for the return.
    pub exported: i64,
    /// Reconciled or closed.
    pub reconciled: i64,
    pub planned: Fen,
    /// 退票 waiting for the clerk's correction.
    pub open_exceptions: i64,
    /// Corrected, to be re-issued by the next batch.
    pub ready_exceptions: i64,
    /// 补发 waiting for the director.
    pub pending_back_pay: i64,
}

impl PayrollOverview {
    /// Nothing yet for `month`.
    pub fn empty(month: YearMonth) -> Self {
        PayrollOverview {
            month,
            batches: 0,
            drafts: 0,
            signed_off: 0,
            exported: 0,
            reconciled: 0,
            planned: Fen(0),
            open_exceptions: 0,
            ready_exceptions: 0,
            pending_back_pay: 0,
        }
    }

    /// Counts `n` batches of `status` planning `planned`.
    pub fn add_batches(&mut self, status: BatchStatus, n: i64, planned: Fen) {
        self.batches += n;
        self.planned = Fen(self.planned.0 + planned.0);
        match status {
            BatchStatus::Draft => self.drafts += n,
            BatchStatus::SignedOff => self.signed_off += n,
            BatchStatus::Exported => self.exported += n,
            BatchStatus::Reconciled | BatchStatus::Closed => self.reconciled += n,
        }
    }
}

/// A bank file template (代发模板): which columns in which order, the file format, whether a
/// totals line ends the file, the amount unit and the file name rule.
#[derive(Debug, Clone, Serialize)]
pub struct BankTemplate {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub format: BankFormat,
    /// CSV only.
    pub encoding: TextEncoding,
    pub columns: Vec<BankColumn>,
    pub totals_line: bool,
    pub amount_unit: MoneyUnit,
    /// With `{bank}`, `{batch_no}`, `{period}`, `{township}`, `{program}`, `{ext}`.
    pub file_name: String,
    pub active: bool,
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

#[cfg(test)]
impl PayrollBatch {
    /// 东城街道's 城市低保 batch of November 2026: two lines, exported, nothing returned.
    pub(crate) fn sample() -> PayrollBatch {
        PayrollBatch {
            id: 1,
            batch_no: "202611-511802001-urban_dibao".into(),
            program: Program::UrbanDibao,
            township_code: "511802001".into(),
            township_name: "东城街道".into(),
            month: YearMonth::parse("2026-11").unwrap(),
            status: BatchStatus::Exported,
            line_count: 2,
            planned: Fen(92_050),
            back_pay: Fen(0),
            reissue_count: 0,
            reissue: Fen(0),
            returned_count: 0,
            paid_count: 0,
            paid: Fen(0),
            failed_count: 0,
            failed: Fen(0),
            generated_by: "staff".into(),
            generated_at: "2026-11-02T01:00:00Z".into(),
            signed_off_by: None,
            signed_off_at: None,
            exported_at: None,
            export_count: 1,
            reconciled_at: None,
            closed_at: None,
        }
    }
}

#[cfg(test)]
impl PaymentException {
    /// An open exception of 张三's 2026-11 城市低保 line (500.00 to 农商银行, account frozen),
    /// for the domain's unit tests.
    pub(crate) fn sample() -> PaymentException {
        PaymentException {
            id: 1,
            line_id: 10,
            batch_id: 1,
            batch_no: "202611-511802001-urban_dibao".into(),
            batch_month: YearMonth::parse("2026-11").unwrap(),
            program: Program::UrbanDibao,
            township_code: "511802001".into(),
            period: YearMonth::parse("2026-11").unwrap(),
            beneficiary_name: "张三".into(),
            beneficiary_id_number: "11010519491231002X".into(),
            original_bank_name: "农商银行".into(),
            original_account: "6228480000000000001".into(),
            original_holder: "张三".into(),
            amount: Fen(50_000),
            fail_reason: "账户冻结".into(),
            status: ExceptionStatus::Open,
            bank_name: None,
            account_number: None,
            account_holder: None,
            note: String::new(),
            reissue_line_id: None,
            created_at: String::new(),
            corrected_by: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partly_reconciled_means_some_lines_back_but_not_all() {
        let with = |returned_count| PayrollBatch {
            returned_count,
            ..PayrollBatch::sample()
        };
        assert!(!with(0).partially_reconciled());
        assert!(with(1).partially_reconciled());
        assert!(!with(2).partially_reconciled());
    }

    #[test]
    fn an_exception_is_corrected_until_its_reissue() {
        let with = |status| PaymentException {
            status,
            ..PaymentException::sample()
        };
        assert!(with(ExceptionStatus::Open).correctable());
        assert!(with(ExceptionStatus::Ready).correctable());
        assert!(!with(ExceptionStatus::Reissued).correctable());
        assert!(!with(ExceptionStatus::Cancelled).correctable());
    }

    #[test]
    fn back_pay_is_decided_by_someone_other_than_who_asked() {
        let b = BackPay {
            id: 1,
            enrolment_id: 1,
            program: Program::UrbanDibao,
            township_code: "511802001".into(),
            beneficiary_name: "张三".into(),
            period: YearMonth::parse("2026-10").unwrap(),
            amount: Fen(50_000),
            reason: "漏发".into(),
            case_id: None,
            status: BackPayStatus::Pending,
            requested_by: "staff".into(),
            decided_by: None,
            line_id: None,
        };
        assert_eq!(
            b.may_be_decided_by("staff"),
            Err("不能审批本人提出的补发申请，请由其他有审批权限的人员审批")
        );
        assert_eq!(b.may_be_decided_by("director"), Ok(()));
    }

    #[test]
    fn the_overview_counts_batches_by_state_and_sums_their_plans() {
        let mut o = PayrollOverview::empty(YearMonth::parse("2026-11").unwrap());
        o.add_batches(BatchStatus::Draft, 3, Fen(100));
        o.add_batches(BatchStatus::SignedOff, 2, Fen(20));
        o.add_batches(BatchStatus::Exported, 4, Fen(3));
        o.add_batches(BatchStatus::Reconciled, 5, Fen(1_000));
        o.add_batches(BatchStatus::Closed, 1, Fen(7));
        assert_eq!(
            (o.batches, o.drafts, o.signed_off, o.exported, o.reconciled),
            (15, 3, 2, 4, 6)
        );
        assert_eq!(o.planned, Fen(1_130));
    }
}
