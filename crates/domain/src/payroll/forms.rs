//! The payroll's forms and filters as typed (text fields), and the pure functions that turn
//! them into typed values or per-field messages.

use serde::{Deserialize, Serialize};

use super::{
    BankColumn, BankFormat, BatchStatus, ExceptionStatus, LineKind, LineStatus, MoneyUnit,
    PaymentException, PaymentKind, TextEncoding,
};
use crate::{DivisionCode, Fen, FieldErrors, Program, Scope, YearMonth};

/// The message for a month that is not `YYYY-MM`.
pub const MONTH_FORMAT: &str = "月份格式不正确，应为如2026-11的年月";

// ---------------------------------------------------------------- generation

/// A generation as asked for (the form's or the API's fields).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GenerateForm {
    pub month: String,
    #[serde(default)]
    pub program: Option<String>,
    #[serde(default)]
    pub within: Option<String>,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateRequest {
    pub month: YearMonth,
    pub program: Option<Program>,
    /// Only townships under this division (inside the actor's scope).
    pub within: Option<String>,
}

/// An optional program code: empty is none.
pub fn parse_program(code: Option<&str>) -> Result<Option<Program>, FieldErrors> {
    match code.map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(p) => p
            .parse::<Program>()
            .map(Some)
            .map_err(|e| FieldErrors::one("program", e.to_string())),
    }
}

/// Checks a generation's month and program.
pub fn parse_generate(f: &GenerateForm) -> Result<GenerateRequest, FieldErrors> {
    let mut errors = FieldErrors::new();
    let month = YearMonth::parse(&f.month)
        .map_err(|_| errors.add("month", MONTH_FORMAT))
        .ok();
    let program = match parse_program(f.program.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            for (k, v) in e.iter() {
                errors.add(k, v);
            }
            None
        }
    };
    errors.finish()?;
    Ok(GenerateRequest {
        month: month.unwrap_or(YearMonth::MIN),
        program,
        within: f.within.clone(),
    })
}

/// `within` names a division outside the actor's scope (answered as not found).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutsideScope;

/// The narrower of the actor's scope and `within`, as range bounds. A division wider than
/// the scope (the actor's county, say) means the scope; one outside it is refused.
pub fn bounds_within(
    scope: &Scope,
    within: Option<&str>,
) -> Result<(String, String), OutsideScope> {
    let Some(w) = within.map(str::trim).filter(|w| !w.is_empty()) else {
        return Ok(scope.bounds());
    };
    let code = DivisionCode::parse(w).map_err(|_| OutsideScope)?;
    if scope.contains_str(code.as_str()) {
        Ok(Scope::of(code).bounds())
    } else if scope.sees_str(code.as_str()) {
        Ok(scope.bounds())
    } else {
        Err(OutsideScope)
    }
}

// ---------------------------------------------------------------- lists

/// Filters for the batch list (codes as given; an unknown one matches nothing).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BatchFilter {
    pub month: Option<String>,
    pub program: Option<String>,
    pub status: Option<String>,
    pub within: Option<String>,
}

/// Filters for a batch's lines.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LineFilter {
    pub status: Option<String>,
    pub kind: Option<String>,
    /// Only lines without a bank account (which the bank cannot pay).
    #[serde(default)]
    pub missing_account: bool,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// A code given in a list filter: `None` when not given, `Err` (the text) when no word has
/// that code — the list is then empty, as a filter on an unknown code always was.
pub type Wanted<T> = Option<Result<T, String>>;

/// A list filter's code read as `parse` says (see [`Wanted`]).
pub(crate) fn wanted<T>(v: &Option<String>, parse: impl Fn(&str) -> Option<T>) -> Wanted<T> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| parse(s).ok_or_else(|| s.to_string()))
}

/// A [`BatchFilter`] read into typed values (`within` is the use case's, for the scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchQuery {
    pub month: Wanted<YearMonth>,
    pub program: Wanted<Program>,
    pub status: Wanted<BatchStatus>,
}

impl BatchFilter {
    pub fn query(&self) -> BatchQuery {
        BatchQuery {
            month: wanted(&self.month, |m| YearMonth::parse(m).ok()),
            program: wanted(&self.program, |p| p.parse().ok()),
            status: wanted(&self.status, BatchStatus::parse),
        }
    }
}

/// A [`LineFilter`] read into typed values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineQuery {
    pub status: Wanted<LineStatus>,
    pub kind: Wanted<LineKind>,
    pub missing_account: bool,
    pub limit: i64,
    pub offset: i64,
}

impl LineFilter {
    pub fn query(&self) -> LineQuery {
        LineQuery {
            status: wanted(&self.status, LineStatus::parse),
            kind: wanted(&self.kind, LineKind::parse),
            missing_account: self.missing_account,
            limit: self.limit.unwrap_or(100).clamp(1, 5000),
            offset: self.offset.unwrap_or(0).max(0),
        }
    }
}

/// The status filter of the exception list, typed.
pub fn exception_status_filter(status: Option<&str>) -> Wanted<ExceptionStatus> {
    wanted(&status.map(str::to_string), ExceptionStatus::parse)
}

/// Filters for the funds ledger.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct LedgerFilter {
    pub from: Option<String>,
    pub to: Option<String>,
    pub program: Option<String>,
    pub within: Option<String>,
}

impl LedgerFilter {
    /// The filter as applied: months that are not `YYYY-MM` and empty fields are dropped.
    pub fn normalized(&self) -> LedgerFilter {
        let month = |m: &Option<String>| m.clone().filter(|m| YearMonth::parse(m).is_ok());
        let given = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        LedgerFilter {
            from: month(&self.from),
            to: month(&self.to),
            program: given(&self.program),
            within: given(&self.within),
        }
    }
}

// ---------------------------------------------------------------- exceptions

/// A clerk's correction of a failed payment, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExceptionCorrection {
    #[serde(default)]
    pub bank_name: String,
    #[serde(default)]
    pub account_number: String,
    #[serde(default)]
    pub account_holder: String,
    #[serde(default)]
    pub note: String,
}

/// A correction that passed [`parse_correction`]: where the re-issue and the household's
/// later months go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectedAccount {
    pub bank_name: String,
    pub account_number: String,
    pub account_holder: String,
    pub note: String,
}

/// Why a correction is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorrectionError {
    /// The account number, next to its field.
    #[error("{0}")]
    Fields(FieldErrors),
    /// A text too long, for the correction as a whole.
    #[error("开户行、户名或说明过长")]
    TooLong,
}

/// Checks a correction of `x`. The account number is required (digits; spaces are
/// dropped); an empty bank or holder keeps what the failed line had (a guardian's card
/// keeps its holder). The whole correction is refused, without a field, when a text is
/// too long.
pub fn parse_correction(
    c: &ExceptionCorrection,
    x: &PaymentException,
) -> Result<CorrectedAccount, CorrectionError> {
    let account: String = c
        .account_number
        .chars()
        .filter(|ch| !ch.is_whitespace())
        .collect();
    if account.is_empty() {
        return Err(CorrectionError::Fields(FieldErrors::one(
            "account_number",
            "请填写更正后的银行账号",
        )));
    }
    if account.len() > 40 || !account.chars().all(|ch| ch.is_ascii_digit()) {
        return Err(CorrectionError::Fields(FieldErrors::one(
            "account_number",
            "银行账号应为不超过40位的数字",
        )));
    }
    let bank = c.bank_name.trim();
    let holder = c.account_holder.trim();
    if bank.chars().count() > 60 || holder.chars().count() > 40 || c.note.chars().count() > 500 {
        return Err(CorrectionError::TooLong);
    }
    let or = |typed: &str, original: &str| {
        if typed.is_empty() {
            original.to_string()
        } else {
            typed.to_string()
        }
    };
    Ok(CorrectedAccount {
        bank_name: or(bank, &x.original_bank_name),
        account_number: account,
        account_holder: or(holder, &x.original_holder),
        note: c.note.trim().to_string(),
    })
}

// ---------------------------------------------------------------- back pay

/// A back-pay request, as typed.
#[derive(Debug, Clone, Deserialize)]
pub struct NewBackPay {
    pub enrolment_id: i64,
    /// YYYY-MM
    pub period: String,
    /// Yuan as typed; empty means the enrolment's monthly amount.
    #[serde(default)]
    pub amount: String,
    pub reason: String,
    #[serde(default)]
    pub case_id: Option<i64>,
}

/// What a back-pay request needs to know of its enrolment.
#[derive(Debug, Clone)]
pub struct BackPayEnrolment {
    pub id: i64,
    pub program: Program,
    pub township_code: String,
    pub beneficiary_id_number: String,
    pub monthly: Fen,
    /// What December pays on top of `monthly` (an annual amount paid monthly).
    pub year_end_extra: Fen,
    pub start_month: YearMonth,
    pub end_month: Option<YearMonth>,
    pub payment: PaymentKind,
}

/// A request that passed [`parse_back_pay`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackPayRequest {
    pub period: YearMonth,
    pub amount: Fen,
    pub reason: String,
}

/// Checks a back-pay request for `e`: the month must lie within the enrolment's period (a
/// one-off payment's only month is its start), the amount defaults to the monthly amount
/// and must be positive, a reason is required.
pub fn parse_back_pay(r: &NewBackPay, e: &BackPayEnrolment) -> Result<BackPayRequest, FieldErrors> {
    let mut errors = FieldErrors::new();
    let period = match YearMonth::parse(&r.period) {
        Err(_) => {
            errors.add("period", MONTH_FORMAT);
            None
        }
        Ok(p)
            if p < e.start_month
                || e.end_month.is_some_and(|end| p > end)
                || (e.payment == PaymentKind::Once && p != e.start_month) =>
        {
            errors.add(
                "period",
                format!("{p}不在该对象的保障期内（自{}起）", e.start_month),
            );
            None
        }
        Ok(p) => Some(p),
    };
    let amount = if r.amount.trim().is_empty() {
        // The month's own payment: December's includes the year's remainder.
        Some(match period {
            Some(p) if p.month() == 12 => Fen(e.monthly.0 + e.year_end_extra.0),
            _ => e.monthly,
        })
    } else {
        match Fen::parse_yuan(&r.amount) {
            Ok(a) => Some(a),
            Err(_) => {
                errors.add("amount", "补发金额格式不正确，应为如356.50的金额");
                None
            }
        }
    };
    if amount.is_some_and(|a| a.0 <= 0) {
        errors.add("amount", "补发金额必须大于0");
    }
    let reason = r.reason.trim();
    if reason.is_empty() || reason.chars().count() > 500 {
        errors.add("reason", "请填写补发原因（不超过500字）");
    }
    errors.finish()?;
    Ok(BackPayRequest {
        period: period.unwrap_or(e.start_month),
        amount: amount.unwrap_or(e.monthly),
        reason: reason.to_string(),
    })
}

// ---------------------------------------------------------------- bank templates

/// A template as configured by the city administrator (the API's body and the form's
/// fields; `columns` is comma-separated keys of [`BankColumn`]).
#[derive(Debug, Clone, Deserialize)]
pub struct BankTemplateInput {
    pub code: String,
    pub name: String,
    pub format: String,
    #[serde(default = "utf8")]
    pub encoding: String,
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

/// A template that passed [`parse_bank_template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidTemplate {
    pub code: String,
    pub name: String,
    pub format: BankFormat,
    pub encoding: TextEncoding,
    pub columns: Vec<BankColumn>,
    pub totals_line: bool,
    pub amount_unit: MoneyUnit,
    pub file_name: String,
    pub active: bool,
}

/// Checks a template: a code of letters, digits, `-` and `_`; known columns, each once,
/// with the account and the amount, and the line number or the ID number (so the bank's
/// return can be matched).
pub fn parse_bank_template(t: &BankTemplateInput) -> Result<ValidTemplate, FieldErrors> {
    let mut errors = FieldErrors::new();
    let code = t.code.trim();
    if code.is_empty()
        || code.len() > 40
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        errors.add("code", "模板代码应为不超过40位的字母、数字、-或_");
    }
    let name = t.name.trim();
    if name.is_empty() || name.chars().count() > 60 {
        errors.add("name", "请填写模板名称（不超过60字）");
    }
    let format = BankFormat::parse(&t.format);
    if format.is_none() {
        errors.add("format", "文件格式应为 csv 或 xlsx");
    }
    let encoding = TextEncoding::parse(&t.encoding);
    if encoding.is_none() {
        errors.add("encoding", "编码应为 utf-8 或 gbk");
    }
    let amount_unit = MoneyUnit::parse(&t.amount_unit);
    if amount_unit.is_none() {
        errors.add("amount_unit", "金额单位应为 yuan 或 fen");
    }
    let keys: Vec<&str> = t
        .columns
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    let mut columns = Vec::new();
    if keys.is_empty() {
        errors.add("columns", "请至少选择一列");
    }
    for key in &keys {
        let Some(c) = BankColumn::parse(key) else {
            let known: Vec<&str> = BankColumn::ALL.iter().map(|c| c.as_str()).collect();
            errors.add(
                "columns",
                format!("未知的列“{key}”，可选：{}", known.join("、")),
            );
            break;
        };
        // A bank reads each column once; a repeated one is a slip of the form.
        if columns.contains(&c) {
            errors.add(
                "columns",
                format!("列“{}”选了两次，每列只能出现一次", c.label()),
            );
            break;
        }
        columns.push(c);
    }
    let sufficient =
        columns.contains(&BankColumn::Account) && columns.contains(&BankColumn::Amount);
    if !keys.is_empty() && !sufficient {
        errors.add(
            "columns",
            "代发文件至少应包含账号（account）和金额（amount）",
        );
    }
    if !columns.contains(&BankColumn::LineNo) && !columns.contains(&BankColumn::IdNumber) {
        errors.add(
            "columns",
            "代发文件应包含明细号（line_no）或证件号码（id_number），回盘时才能对应",
        );
    }
    let file_name = t.file_name.trim();
    if file_name.is_empty() || file_name.chars().count() > 120 {
        errors.add("file_name", "请填写文件名规则（不超过120字）");
    }
    errors.finish()?;
    Ok(ValidTemplate {
        code: code.to_string(),
        name: name.to_string(),
        format: format.unwrap_or(BankFormat::Csv),
        encoding: encoding.unwrap_or(TextEncoding::Utf8),
        columns,
        totals_line: t.totals_line,
        amount_unit: amount_unit.unwrap_or(MoneyUnit::Yuan),
        file_name: file_name.to_string(),
        active: t.active,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> YearMonth {
        YearMonth::parse(s).unwrap()
    }

    #[test]
    fn a_generation_needs_a_month_and_a_known_program() {
        let e = parse_generate(&GenerateForm {
            month: "2026-13".into(),
            program: Some("nope".into()),
            within: None,
        })
        .unwrap_err();
        assert_eq!(e.get("month"), Some(MONTH_FORMAT));
        assert!(e.get("program").is_some());
        let r = parse_generate(&GenerateForm {
            month: "2026-11".into(),
            program: Some(String::new()),
            within: None,
        })
        .unwrap();
        assert_eq!((r.month, r.program), (m("2026-11"), None));
    }

    #[test]
    fn within_narrows_the_scope_or_is_outside_it() {
        let county = Scope::of(DivisionCode::parse_native("511802").unwrap());
        assert_eq!(
            bounds_within(&county, Some("511802001")).unwrap().0,
            "511802001"
        );
        assert_eq!(bounds_within(&county, Some("5118")).unwrap().0, "511802");
        assert_eq!(bounds_within(&county, Some("511803")), Err(OutsideScope));
        assert_eq!(bounds_within(&county, Some("x")), Err(OutsideScope));
    }

    fn enrolment() -> BackPayEnrolment {
        BackPayEnrolment {
            id: 1,
            program: Program::UrbanDibao,
            township_code: "511802001".into(),
            beneficiary_id_number: "51180219800101001X".into(),
            monthly: Fen(40_000),
            year_end_extra: Fen(0),
            start_month: m("2026-09"),
            end_month: None,
            payment: PaymentKind::Monthly,
        }
    }

    #[test]
    fn back_pay_lies_within_the_enrolment_and_every_problem_is_named() {
        let ask = |period: &str, amount: &str, reason: &str| NewBackPay {
            enrolment_id: 1,
            period: period.into(),
            amount: amount.into(),
            reason: reason.into(),
            case_id: None,
        };
        let ok = parse_back_pay(&ask("2026-10", "", " 审批滞后 "), &enrolment()).unwrap();
        assert_eq!(ok.amount, Fen(40_000));
        assert_eq!(ok.reason, "审批滞后");
        let e = parse_back_pay(&ask("2026-08", "三百元", ""), &enrolment()).unwrap_err();
        assert_eq!(
            e.get("period"),
            Some("2026-08不在该对象的保障期内（自2026-09起）")
        );
        assert!(e.get("amount").unwrap().contains("补发金额格式不正确"));
        assert!(e.get("reason").is_some());
        let e = parse_back_pay(&ask("2026-10", "0", "x"), &enrolment()).unwrap_err();
        assert_eq!(e.get("amount"), Some("补发金额必须大于0"));
        let mut once = enrolment();
        once.payment = PaymentKind::Once;
        assert!(parse_back_pay(&ask("2026-10", "", "x"), &once).is_err());
    }

    #[test]
    fn back_pay_of_december_includes_the_year_end_remainder_of_an_annual_amount() {
        let ask = |period: &str| NewBackPay {
            enrolment_id: 1,
            period: period.into(),
            amount: String::new(),
            reason: "审批滞后".into(),
            case_id: None,
        };
        let mut care = enrolment();
        care.program = Program::PreferentialCare;
        care.monthly = Fen(968_916);
        care.year_end_extra = Fen(8);
        assert_eq!(
            parse_back_pay(&ask("2026-11"), &care).unwrap().amount,
            Fen(968_916)
        );
        assert_eq!(
            parse_back_pay(&ask("2026-12"), &care).unwrap().amount,
            Fen(968_924)
        );
    }

    fn template(columns: &str) -> BankTemplateInput {
        BankTemplateInput {
            code: "abc-1".into(),
            name: "农业银行".into(),
            format: "csv".into(),
            encoding: "gbk".into(),
            columns: columns.into(),
            totals_line: true,
            amount_unit: "yuan".into(),
            file_name: "{bank}_{batch_no}.{ext}".into(),
            active: true,
        }
    }

    #[test]
    fn template_columns_are_known_once_and_sufficient() {
        let t = parse_bank_template(&template("line_no, account,amount")).unwrap();
        assert_eq!(
            t.columns,
            [BankColumn::LineNo, BankColumn::Account, BankColumn::Amount]
        );
        let columns = |c: &str| {
            parse_bank_template(&template(c))
                .unwrap_err()
                .get("columns")
                .unwrap()
                .to_string()
        };
        assert!(columns("line_no,account,amount,foo").starts_with("未知的列“foo”"));
        assert_eq!(
            columns("line_no,account,amount,account"),
            "列“账号”选了两次，每列只能出现一次"
        );
        assert!(columns("line_no,amount").contains("至少应包含账号"));
        assert!(columns("account,amount").contains("回盘时才能对应"));
        assert_eq!(columns(""), "请至少选择一列");
        let mut bad = template("line_no,account,amount");
        bad.code = "农行".into();
        bad.format = "pdf".into();
        let e = parse_bank_template(&bad).unwrap_err();
        assert_eq!(e.len(), 2);
    }

    #[test]
    fn an_empty_filter_is_no_filter_and_an_unknown_code_is_kept_as_typed() {
        let q = BatchFilter {
            month: Some(" ".into()),
            program: Some("".into()),
            status: Some(" signed_off ".into()),
            within: None,
        }
        .query();
        assert_eq!(q.month, None);
        assert_eq!(q.program, None);
        assert_eq!(q.status, Some(Ok(BatchStatus::SignedOff)));
        let q = BatchFilter {
            month: Some("2026-13".into()),
            program: Some("rural_dibao".into()),
            status: Some("paid-ish".into()),
            within: None,
        }
        .query();
        assert_eq!(q.month, Some(Err("2026-13".to_string())));
        assert_eq!(q.program, Some(Ok(Program::RuralDibao)));
        assert_eq!(q.status, Some(Err("paid-ish".to_string())));
        assert_eq!(exception_status_filter(Some("")), None);
        assert_eq!(
            exception_status_filter(Some("ready")),
            Some(Ok(ExceptionStatus::Ready))
        );
    }

    #[test]
    fn the_ledger_filter_drops_months_it_cannot_read_and_empty_fields() {
        let f = LedgerFilter {
            from: Some("2026-01".into()),
            to: Some("2026-1".into()),
            program: Some("tekun".into()),
            within: Some("".into()),
        }
        .normalized();
        assert_eq!(f.from.as_deref(), Some("2026-01"));
        assert_eq!(f.to, None);
        assert_eq!(f.program.as_deref(), Some("tekun"));
        assert_eq!(f.within, None);
        let f = LedgerFilter {
            from: None,
            to: Some("2026-12".into()),
            program: Some("".into()),
            within: Some("511802".into()),
        }
        .normalized();
        assert_eq!(f.from, None);
        assert_eq!(f.to.as_deref(), Some("2026-12"));
        assert_eq!(f.program, None);
        assert_eq!(f.within.as_deref(), Some("511802"));
    }

    /// A failed line paid to a guardian's card: the holder is not the beneficiary.
    fn failed() -> PaymentException {
        PaymentException {
            original_bank_name: "农业银行".into(),
            original_holder: "甲的监护人".into(),
            ..PaymentException::sample()
        }
    }

    fn correction(bank: &str, account: &str, holder: &str, note: &str) -> ExceptionCorrection {
        ExceptionCorrection {
            bank_name: bank.into(),
            account_number: account.into(),
            account_holder: holder.into(),
            note: note.into(),
        }
    }

    #[test]
    fn a_correction_keeps_the_failed_lines_bank_and_holder_unless_typed() {
        let c = parse_correction(
            &correction("", " 6228 4800 0000 0000 001 ", "", " 换卡 "),
            &failed(),
        )
        .unwrap();
        assert_eq!(
            c,
            CorrectedAccount {
                bank_name: "农业银行".into(),
                account_number: "6228480000000000001".into(),
                account_holder: "甲的监护人".into(),
                note: "换卡".into(),
            }
        );
        let c = parse_correction(&correction(" 工商银行 ", "1", " 甲 ", ""), &failed()).unwrap();
        assert_eq!(
            (c.bank_name.as_str(), c.account_holder.as_str()),
            ("工商银行", "甲")
        );
    }

    #[test]
    fn a_correction_needs_an_account_of_at_most_40_digits_and_texts_within_their_limits() {
        let field = |c: &ExceptionCorrection| match parse_correction(c, &failed()) {
            Err(CorrectionError::Fields(f)) => f.get("account_number").map(str::to_string),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(&correction("", "  ", "", "")).as_deref(),
            Some("请填写更正后的银行账号")
        );
        for bad in ["1".repeat(41), "62284800a1".into(), "６２２８".into()] {
            assert_eq!(
                field(&correction("", &bad, "", "")).as_deref(),
                Some("银行账号应为不超过40位的数字"),
                "{bad}"
            );
        }
        let full = parse_correction(
            &correction(
                &"行".repeat(60),
                &"9".repeat(40),
                &"名".repeat(40),
                &"注".repeat(500),
            ),
            &failed(),
        )
        .unwrap();
        assert_eq!(full.account_number.len(), 40);
        for c in [
            correction(&"行".repeat(61), "1", "", ""),
            correction("", "1", &"名".repeat(41), ""),
            correction("", "1", "", &"注".repeat(501)),
        ] {
            assert_eq!(
                parse_correction(&c, &failed()),
                Err(CorrectionError::TooLong)
            );
        }
    }

    #[test]
    fn back_pay_takes_the_first_and_last_months_of_the_enrolment_and_a_reason_of_500() {
        let ask = |period: &str, reason: &str| NewBackPay {
            enrolment_id: 1,
            period: period.into(),
            amount: "12.5".into(),
            reason: reason.into(),
            case_id: None,
        };
        let mut e = enrolment();
        e.end_month = Some(m("2026-11"));
        let first = parse_back_pay(&ask("2026-09", &"因".repeat(500)), &e).unwrap();
        assert_eq!(
            first,
            BackPayRequest {
                period: m("2026-09"),
                amount: Fen(1_250),
                reason: "因".repeat(500),
            }
        );
        assert_eq!(
            parse_back_pay(&ask("2026-11", "x"), &e).unwrap().period,
            m("2026-11")
        );
        assert_eq!(
            parse_back_pay(&ask("2026-12", "x"), &e)
                .unwrap_err()
                .get("period"),
            Some("2026-12不在该对象的保障期内（自2026-09起）")
        );
        assert_eq!(
            parse_back_pay(&ask("2026-10", &"因".repeat(501)), &e)
                .unwrap_err()
                .get("reason"),
            Some("请填写补发原因（不超过500字）")
        );
        // A one-off payment: its own month only.
        e.payment = PaymentKind::Once;
        assert!(parse_back_pay(&ask("2026-09", "x"), &e).is_ok());
        let amount = |a: &str| {
            parse_back_pay(
                &NewBackPay {
                    amount: a.into(),
                    ..ask("2026-09", "x")
                },
                &e,
            )
        };
        assert_eq!(
            amount("-1").unwrap_err().get("amount"),
            Some("补发金额必须大于0")
        );
        assert_eq!(amount("0.01").unwrap().amount, Fen(1));
    }

    #[test]
    fn a_template_from_the_api_defaults_to_utf8_yuan_and_active() {
        let t: BankTemplateInput = serde_json::from_str(
            r#"{"code":"abc","name":"农行","format":"csv","columns":"line_no,account,amount","file_name":"{batch_no}.csv"}"#,
        )
        .unwrap();
        assert_eq!(t.encoding, "utf-8");
        assert_eq!(t.amount_unit, "yuan");
        assert!(t.active);
        assert!(!t.totals_line);
        let v = parse_bank_template(&t).unwrap();
        assert_eq!(v.encoding, TextEncoding::Utf8);
        assert_eq!(v.amount_unit, MoneyUnit::Yuan);
    }

    #[test]
    fn a_templates_code_name_and_file_name_have_their_limits() {
        let mut t = template("id_number,account,amount");
        t.code = format!(" {} ", "a".repeat(40));
        t.name = "行".repeat(60);
        t.file_name = "f".repeat(120);
        let v = parse_bank_template(&t).unwrap();
        assert_eq!(v.code, "a".repeat(40));
        assert_eq!(
            v.columns,
            [
                BankColumn::IdNumber,
                BankColumn::Account,
                BankColumn::Amount
            ]
        );
        assert_eq!(v.encoding, TextEncoding::Gbk);
        assert!(v.totals_line && v.active);
        t.code = "a".repeat(41);
        t.name = "行".repeat(61);
        t.file_name = "f".repeat(121);
        let e = parse_bank_template(&t).unwrap_err();
        assert_eq!(
            e.get("code"),
            Some("模板代码应为不超过40位的字母、数字、-或_")
        );
        assert_eq!(e.get("name"), Some("请填写模板名称（不超过60字）"));
        assert_eq!(e.get("file_name"), Some("请填写文件名规则（不超过120字）"));
        assert_eq!(e.len(), 3, "{e}");
        t = template("line_no,account,amount");
        t.code = " ".into();
        t.name = " ".into();
        t.file_name = String::new();
        t.encoding = "big5".into();
        t.amount_unit = "jiao".into();
        let e = parse_bank_template(&t).unwrap_err();
        for (field, message) in [
            ("code", "模板代码应为不超过40位的字母、数字、-或_"),
            ("name", "请填写模板名称（不超过60字）"),
            ("file_name", "请填写文件名规则（不超过120字）"),
            ("encoding", "编码应为 utf-8 或 gbk"),
            ("amount_unit", "金额单位应为 yuan 或 fen"),
        ] {
            assert_eq!(e.get(field), Some(message), "{field}");
        }
        // Only the account, or only the amount: not enough for a bank.
        for columns in ["line_no,account", "line_no,amount"] {
            assert_eq!(
                parse_bank_template(&template(columns))
                    .unwrap_err()
                    .get("columns"),
                Some("代发文件至少应包含账号（account）和金额（amount）"),
                "{columns}"
            );
        }
    }
}
