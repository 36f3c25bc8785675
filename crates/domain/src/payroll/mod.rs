//! Monthly payroll (资金发放): the typed words of batches, lines, payment exceptions (退票)
//! and back pay (补发); the records read back from the database; the batch's state machine
//! (who may move a batch from which state by which action); the forms of generation,
//! correction, back pay and bank templates; the month-over-month review and the matching of
//! a bank's return file to a batch. Pure: no I/O, no clock, no SQL.

mod batch;
pub(crate) mod forms;
mod records;
mod returns;
mod review;

pub use batch::{authorize, next_status, sign_off_refusal, transition, BatchAction, BatchError};
pub use forms::{
    bounds_within, exception_status_filter, parse_back_pay, parse_bank_template, parse_correction,
    parse_generate, parse_program, BackPayEnrolment, BackPayRequest, BankTemplateInput,
    BatchFilter, BatchQuery, CorrectedAccount, CorrectionError, ExceptionCorrection, GenerateForm,
    GenerateRequest, LedgerFilter, LineFilter, LineQuery, NewBackPay, OutsideScope, ValidTemplate,
    Wanted, MONTH_FORMAT,
};
pub use records::{
    BackPay, BankFileDownload, BankTemplate, BatchDiff, DiffEntry, GenerateOutcome, LedgerRow,
    PaymentException, PayrollBatch, PayrollLine, PayrollOverview, ReturnFileRecord, ReturnOutcome,
};
pub use returns::{parse_amount, reconcile, LineKey, MatchedResult, ReturnFile, ReturnRow};
pub use review::{changed_enrolments, diff, explain, ledger_series, EnrolmentFacts, PreviousBatch};

/// An enrolment's standing and payment schedule are the cases' words (the enrolment is
/// theirs); the payroll reads them.
pub use crate::cases::{EnrolmentStatus, PaymentSchedule as PaymentKind};

crate::coded_enum! {
    /// 批次状态 — where a payroll batch stands, in order.
    pub enum BatchStatus {
        Draft = ("draft", "草稿（待审核）"),
        SignedOff = ("signed_off", "已审核签发"),
        Exported = ("exported", "已生成银行文件"),
        Reconciled = ("reconciled", "已对账"),
        Closed = ("closed", "已结束"),
    }
}

crate::coded_enum! {
    /// 明细类别 — why a line pays.
    pub enum LineKind {
        /// The month's own payment.
        Regular = ("regular", "正常发放"),
        /// An approved back pay for an earlier month.
        BackPay = ("back_pay", "补发"),
        /// A failed payment paid again to the corrected account.
        Reissue = ("reissue", "退票重发"),
        /// 调标补差: the difference a re-pricing owes for a month already paid at the old
        /// amount.
        TopUp = ("top_up", "调标补差"),
    }
}

crate::coded_enum! {
    /// 明细状态 — the bank's answer for a line.
    pub enum LineStatus {
        Planned = ("planned", "待发放"),
        Paid = ("paid", "发放成功"),
        Failed = ("failed", "发放失败"),
    }
}

crate::coded_enum! {
    /// 退票状态 — a failed payment's way back to the beneficiary.
    pub enum ExceptionStatus {
        Open = ("open", "待处理"),
        Ready = ("ready", "已更正，待重发"),
        Reissued = ("reissued", "已重发"),
        Cancelled = ("cancelled", "已注销"),
    }
}

crate::coded_enum! {
    /// 补发状态 — a back-pay request from the clerk's request to its line.
    pub enum BackPayStatus {
        Pending = ("pending", "待审批"),
        Approved = ("approved", "已批准，待发放"),
        Included = ("included", "已列入批次"),
        /// The month was paid by its own regular line after all.
        Superseded = ("superseded", "该月已随正常发放，无需补发"),
        Rejected = ("rejected", "未批准"),
    }
}

crate::coded_enum! {
    /// 环比变动 — how a beneficiary's line differs from the month before.
    pub enum DiffChange {
        New = ("new", "新增"),
        Stopped = ("stopped", "停发"),
        Changed = ("changed", "金额变动"),
    }
}

crate::coded_enum! {
    /// 代发文件格式.
    pub enum BankFormat {
        Csv = ("csv", "CSV"),
        Xlsx = ("xlsx", "Excel（xlsx）"),
    }
}

crate::coded_enum! {
    /// 代发文件编码 (CSV only; a workbook has its own).
    pub enum TextEncoding {
        Utf8 = ("utf-8", "UTF-8"),
        Gbk = ("gbk", "GBK"),
    }
}

crate::coded_enum! {
    /// 金额单位 of a bank file.
    pub enum MoneyUnit {
        /// Yuan with two decimals.
        Yuan = ("yuan", "元"),
        /// Whole fen.
        Fen = ("fen", "分"),
    }
}

crate::coded_enum! {
    /// The columns a bank file may have: the key a template lists, and the column's title.
    pub enum BankColumn {
        BatchNo = ("batch_no", "批次号"),
        LineNo = ("line_no", "明细号"),
        Item = ("item", "项目代码"),
        ItemName = ("item_name", "补贴项目"),
        Period = ("period", "所属期"),
        Division = ("division", "区划代码"),
        Name = ("name", "姓名"),
        IdNumber = ("id_number", "证件号码"),
        Bank = ("bank", "开户行"),
        Account = ("account", "账号"),
        Holder = ("holder", "户名"),
        Amount = ("amount", "金额"),
        Remark = ("remark", "摘要"),
    }
}

impl BankColumn {
    /// The column's title in a file whose amounts are in `unit`: 金额(元) or 金额(分).
    pub fn header(self, unit: MoneyUnit) -> String {
        match (self, unit) {
            (BankColumn::Amount, MoneyUnit::Fen) => "金额(分)".into(),
            (BankColumn::Amount, MoneyUnit::Yuan) => "金额(元)".into(),
            (c, _) => c.label().to_string(),
        }
    }

    /// (key, title) of every column, as the template page and the API list them.
    pub fn choices() -> Vec<(&'static str, &'static str)> {
        Self::ALL.iter().map(|c| (c.as_str(), c.label())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_their_codes_and_labels() {
        assert_eq!(
            BatchStatus::parse("signed_off"),
            Some(BatchStatus::SignedOff)
        );
        assert_eq!(BatchStatus::Draft.to_string(), "草稿（待审核）");
        assert_eq!(LineKind::Reissue.label(), "退票重发");
        assert_eq!(BackPayStatus::Superseded.as_str(), "superseded");
        assert_eq!(
            BankColumn::choices()[0],
            ("batch_no", "批次号"),
            "the first column a template may list"
        );
        assert_eq!(BankColumn::Amount.header(MoneyUnit::Fen), "金额(分)");
        assert_eq!(BankColumn::Name.header(MoneyUnit::Yuan), "姓名");
        assert_eq!(
            serde_json::to_string(&TextEncoding::Utf8).unwrap(),
            "\"utf-8\""
        );
    }
}
