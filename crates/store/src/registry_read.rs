//! Reading ledgers as a stream and checking each row into a compact form.
//!
//! A ledger of a million persons is about 150 MB of CSV; holding every cell as a `String`
//! would take gigabytes. So the file is never held as a table: CSV is parsed record by record
//! from the file (or the uploaded bytes), `.xlsx` sheets are streamed cell by cell through
//! calamine's cell reader (only the shared-string table is loaded), and each row is validated
//! as it arrives into a fixed-size [`Row`] (ID numbers as bytes, coded fields as enums, names
//! and the head's free text in one string arena, amounts in one `i64` arena). What stays in
//! memory is about 100 bytes per person. Only `.xls` (at most 65,536 rows) is read whole.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Cursor, Read, Seek};
use std::path::Path;

use calamine::{DataRef, Reader};
use chrono::NaiveDate;
use minzheng_domain::registry::{
    date_from_excel_serial, mask_account, normalize_id_input, AssetKind, Column, DisabilityType,
    Employment, ExclusionReason, Health, IncomeKind, IncomePeriod, PersonStatus, RegistrationType,
    Relation, WorkCapacity,
};
use minzheng_domain::{DivisionCode, DivisionLevel, Fen, Gender, IdNumber};

use crate::error::StoreError;
use crate::registry::{mask_id, parse_id_field_on, person_fields_on, Fields, PersonInput};
use crate::registry_import::{file_issue, ImportInput, ImportIssue, ImportProgress};

/// An ID number (18 ASCII characters).
pub(crate) type Id18 = [u8; 18];

/// The text of an [`Id18`] (always ASCII digits and `X`).
pub(crate) fn id_str(id: &Id18) -> &str {
    std::str::from_utf8(id).unwrap_or("")
}

// ------------------------------------------------------------------ cells

/// A cell as read from any format.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell<'a> {
    Empty,
    Text(Cow<'a, str>),
    Number(f64),
    /// A formula whose result was never calculated (no cached value).
    UncalculatedFormula,
    /// A formula whose cached result is 0: what writers that never calculate store. Fine
    /// for amounts, but in identity columns it means the value is missing.
    FormulaZero,
    Error(String),
}

impl Cell<'_> {
    fn is_blank(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The value as a clerk would read it.
    fn display(&self) -> Cow<'_, str> {
        match self {
            Cell::Empty | Cell::UncalculatedFormula => Cow::Borrowed(""),
            Cell::Text(s) => Cow::Borrowed(s.trim()),
            Cell::Number(n) => Cow::Owned(number_text(*n)),
            Cell::FormulaZero => Cow::Borrowed("0"),
            Cell::Error(e) => Cow::Borrowed(e),
        }
    }

    fn into_owned(self) -> Cell<'static> {
        match self {
            Cell::Empty => Cell::Empty,
            Cell::Text(s) => Cell::Text(Cow::Owned(s.into_owned())),
            Cell::Number(n) => Cell::Number(n),
            Cell::UncalculatedFormula => Cell::UncalculatedFormula,
            Cell::FormulaZero => Cell::FormulaZero,
            Cell::Error(e) => Cell::Error(e),
        }
    }
}

pub(crate) fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else if n.abs() >= 1e15 {
        format!("{n:E}")
    } else {
        let s = format!("{n:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

const BLANK: Cell<'static> = Cell::Empty;

// ------------------------------------------------------------------ the compact ledger

/// A span in [`Ledger::text`].
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    at: u32,
    len: u32,
}

/// The household fields only a head's row carries (its address, phone, bank account).
#[derive(Debug, Clone, Copy)]
struct Extra {
    address: Span,
    phone: Span,
    bank: Span,
    account: Span,
    holder: Span,
}

/// The head row's household fields, borrowed from the ledger.
pub(crate) struct HouseholdText<'a> {
    pub address: &'a str,
    pub phone: &'a str,
    pub bank: &'a str,
    pub account: &'a str,
    pub holder: &'a str,
}

const NO_EXTRA: u32 = u32::MAX;

/// The amount columns, in the order of [`Row::money_mask`] bits.
const MONEY: [Column; 7] = [
    Column::WageMonthly,
    Column::BusinessMonthly,
    Column::TransferMonthly,
    Column::OtherAnnual,
    Column::Deposit,
    Column::Vehicle,
    Column::Housing,
];
const INCOME_SLOTS: [(IncomeKind, IncomePeriod); 4] = [
    (IncomeKind::Wage, IncomePeriod::Monthly),
    (IncomeKind::Business, IncomePeriod::Monthly),
    (IncomeKind::Transfer, IncomePeriod::Monthly),
    (IncomeKind::Other, IncomePeriod::Annual),
];
const ASSET_SLOTS: [AssetKind; 3] = [AssetKind::Deposit, AssetKind::Vehicle, AssetKind::Housing];

/// One valid row, about 100 bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row {
    pub line: u32,
    pub id: Id18,
    pub head: Id18,
    pub village: [u8; 12],
    name: Span,
    pub birth: NaiveDate,
    pub male: bool,
    pub relation: Relation,
    pub counted: bool,
    pub exclusion_reason: Option<ExclusionReason>,
    pub disability_type: DisabilityType,
    pub disability_grade: Option<u8>,
    pub health: Health,
    pub work_capacity: WorkCapacity,
    pub employment: Employment,
    pub status: PersonStatus,
    pub status_date: Option<NaiveDate>,
    pub registration_type: Option<RegistrationType>,
    extra: u32,
    money_mask: u8,
    money_at: u32,
}

impl Row {
    pub fn id(&self) -> &str {
        id_str(&self.id)
    }
    pub fn head(&self) -> &str {
        id_str(&self.head)
    }
    pub fn village(&self) -> &str {
        std::str::from_utf8(&self.village).unwrap_or("")
    }
    pub fn township(&self) -> &str {
        &self.village()[..9]
    }
    pub fn gender_label(&self) -> &'static str {
        if self.male {
            Gender::Male.label()
        } else {
            Gender::Female.label()
        }
    }
    pub fn id_last4(&self) -> &str {
        &self.id()[14..]
    }
}

/// The checked rows of a ledger.
#[derive(Default)]
pub(crate) struct Ledger {
    pub rows: Vec<Row>,
    pub issues: Vec<ImportIssue>,
    /// Non-blank data rows read (valid or not).
    pub rows_read: usize,
    /// Heads (by ID) of rows that failed their own checks: those households are incomplete.
    pub bad_heads: HashSet<Id18>,
    text: String,
    extras: Vec<Extra>,
    money: Vec<i64>,
}

impl Ledger {
    fn push_text(&mut self, s: &str) -> Span {
        let at = self.text.len() as u32;
        self.text.push_str(s);
        Span {
            at,
            len: s.len() as u32,
        }
    }

    fn text_of(&self, s: Span) -> &str {
        &self.text[s.at as usize..(s.at + s.len) as usize]
    }

    pub fn name(&self, r: &Row) -> &str {
        self.text_of(r.name)
    }

    /// The head row's household fields (empty strings for other rows).
    pub fn household_text(&self, r: &Row) -> HouseholdText<'_> {
        match self.extras.get(r.extra as usize) {
            Some(e) => HouseholdText {
                address: self.text_of(e.address),
                phone: self.text_of(e.phone),
                bank: self.text_of(e.bank),
                account: self.text_of(e.account),
                holder: self.text_of(e.holder),
            },
            None => HouseholdText {
                address: "",
                phone: "",
                bank: "",
                account: "",
                holder: "",
            },
        }
    }

    fn amounts(&self, r: &Row) -> impl Iterator<Item = (usize, Fen)> + '_ {
        let mask = r.money_mask;
        let mut at = r.money_at as usize;
        (0..MONEY.len()).filter_map(move |slot| {
            if mask & (1 << slot) == 0 {
                return None;
            }
            let v = self.money[at];
            at += 1;
            Some((slot, Fen(v)))
        })
    }

    /// The row's non-zero incomes.
    pub fn incomes(&self, r: &Row) -> impl Iterator<Item = (IncomeKind, IncomePeriod, Fen)> + '_ {
        self.amounts(r)
            .filter(|(slot, _)| *slot < INCOME_SLOTS.len())
            .map(|(slot, v)| (INCOME_SLOTS[slot].0, INCOME_SLOTS[slot].1, v))
    }

    /// The row's non-zero assets.
    pub fn assets(&self, r: &Row) -> impl Iterator<Item = (AssetKind, Fen)> + '_ {
        self.amounts(r)
            .filter(|(slot, _)| *slot >= INCOME_SLOTS.len())
            .map(|(slot, v)| (ASSET_SLOTS[slot - INCOME_SLOTS.len()], v))
    }
}

// ------------------------------------------------------------------ checking rows

/// Which column a person-field error belongs to.
fn column_of_field(field: &str) -> Column {
    match field {
        "name" => Column::Name,
        "id_number" => Column::IdNumber,
        "relation" => Column::Relation,
        "counted" => Column::Counted,
        "exclusion_reason" => Column::ExclusionReason,
        "disability_type" => Column::DisabilityType,
        "disability_grade" => Column::DisabilityGrade,
        "health" => Column::Health,
        "work_capacity" => Column::WorkCapacity,
        "employment" => Column::Employment,
        "status" => Column::Status,
        "status_date" => Column::StatusDate,
        "head_id_number" => Column::HeadId,
        _ => Column::Name,
    }
}

pub(crate) fn required_list() -> String {
    Column::ALL
        .into_iter()
        .filter(|c| c.required())
        .map(|c| c.header())
        .collect::<Vec<_>>()
        .join("、")
}

pub(crate) fn col_letter(mut j: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (j % 26) as u8);
        if j < 26 {
            break;
        }
        j = j / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// How many known column names a row contains.
fn header_score(cells: &[Cell<'_>]) -> usize {
    cells
        .iter()
        .filter(|c| Column::match_header(&c.display()).is_some())
        .count()
}

/// The header row among the first ten: the one naming the most known columns (≥ 3).
fn find_header(rows: &[(usize, Vec<Cell<'static>>)]) -> Option<usize> {
    rows.iter()
        .take(10)
        .enumerate()
        .map(|(i, (_, cells))| (i, header_score(cells)))
        .filter(|(_, n)| *n >= 3)
        .max_by_key(|(i, n)| (*n, usize::MAX - i))
        .map(|(i, _)| i)
}

/// Validates data rows against a header, one at a time, into a [`Ledger`].
pub(crate) struct Checker {
    /// Column → index in the row.
    cols: [Option<usize>; Column::ALL.len()],
    mask: bool,
    today: NaiveDate,
    ledger: Ledger,
}

impl Checker {
    /// Reads the header row; refuses duplicate or missing required columns.
    fn new(header_line: usize, header: &[Cell<'_>], mask: bool) -> Result<Checker, ImportIssue> {
        let mut cols: [Option<usize>; Column::ALL.len()] = [None; Column::ALL.len()];
        let mut issues = Vec::new();
        let mut blanks_between = Vec::new();
        let last_named = header.iter().rposition(|c| !c.is_blank()).unwrap_or(0);
        for (j, cell) in header.iter().enumerate() {
            let text = cell.display();
            match Column::match_header(&text) {
                Some(c) => {
                    if let Some(prev) = cols[c as usize].replace(j) {
                        issues.push(ImportIssue {
                            row: header_line,
                            column: text.to_string(),
                            value: text.to_string(),
                            reason: format!(
                                "列“{}”出现了两次（第{}列和第{}列）",
                                c.header(),
                                col_letter(prev),
                                col_letter(j)
                            ),
                        });
                    }
                }
                None if cell.is_blank() && j < last_named => blanks_between.push(j),
                None => {}
            }
        }
        let missing: Vec<Column> = Column::ALL
            .into_iter()
            .filter(|c| c.required() && cols[*c as usize].is_none())
            .collect();
        if !missing.is_empty() {
            let mut reason = format!(
                "缺少必填列：{}。表头应包含：{}",
                missing
                    .iter()
                    .map(|c| c.header())
                    .collect::<Vec<_>>()
                    .join("、"),
                required_list()
            );
            if !blanks_between.is_empty() {
                reason.push_str(&format!(
                    "。表头第{}列为空，可能是合并单元格：请取消合并，并为每一列单独填写列名",
                    blanks_between
                        .iter()
                        .map(|j| col_letter(*j))
                        .collect::<Vec<_>>()
                        .join("、")
                ));
            }
            issues.push(ImportIssue {
                row: header_line,
                column: String::new(),
                value: String::new(),
                reason,
            });
        }
        if !issues.is_empty() {
            return Err(issues.remove(0));
        }
        Ok(Checker {
            cols,
            mask,
            today: crate::registry::today(),
            ledger: Ledger::default(),
        })
    }

    fn get<'c, 'a>(&self, cells: &'c [Cell<'a>], c: Column) -> &'c Cell<'a> {
        self.cols[c as usize]
            .and_then(|j| cells.get(j))
            .unwrap_or(&BLANK)
    }

    fn push_issue(&mut self, line: usize, c: Column, value: String, reason: String) {
        let value = if self.mask && matches!(c, Column::IdNumber | Column::HeadId) {
            mask_id(&value)
        } else if self.mask && c == Column::Account {
            mask_account(&value)
        } else {
            value
        };
        self.ledger.issues.push(ImportIssue {
            row: line,
            column: c.header().to_string(),
            value,
            reason,
        });
    }

    /// Remembers the household of a row that failed, so `valid_only` leaves it out whole.
    fn mark_bad(&mut self, cells: &[Cell<'_>]) {
        let raw = self.get(cells, Column::HeadId).display();
        let head = normalize_id_input(&raw)
            .ok()
            .and_then(|s| IdNumber::parse(&s, self.today).ok());
        if let Some(id) = head.and_then(|h| Id18::try_from(h.as_str().as_bytes()).ok()) {
            self.ledger.bad_heads.insert(id);
        }
    }

    /// Checks one data row (blank rows are skipped).
    pub(crate) fn row(&mut self, line: usize, cells: &[Cell<'_>]) {
        if cells.iter().all(Cell::is_blank) {
            return;
        }
        self.ledger.rows_read += 1;
        if !self.check(line, cells) {
            self.mark_bad(cells);
        }
    }

    /// Returns whether the row was valid (and kept).
    fn check(&mut self, line: usize, cells: &[Cell<'_>]) -> bool {
        // Generic cell problems first: error values and uncalculated formulas.
        let mut generic = false;
        for c in Column::ALL {
            let Some(j) = self.cols[c as usize] else {
                continue;
            };
            match cells.get(j) {
                Some(Cell::Error(e)) => {
                    let e = e.clone();
                    self.push_issue(
                        line,
                        c,
                        e,
                        "单元格是错误值（如#N/A、#REF!），请修正公式或改为直接填写".into(),
                    );
                    generic = true;
                }
                Some(Cell::FormulaZero)
                    if matches!(
                        c,
                        Column::HeadId
                            | Column::IdNumber
                            | Column::Village
                            | Column::Name
                            | Column::Relation
                    ) =>
                {
                    self.push_issue(
                        line,
                        c,
                        "0".into(),
                        "单元格是公式且计算结果为0（文件保存时未计算公式）：请在Excel中打开、复制该列，再“选择性粘贴→数值”后保存".into(),
                    );
                    generic = true;
                }
                Some(Cell::UncalculatedFormula) => {
                    self.push_issue(
                        line,
                        c,
                        String::new(),
                        "单元格是公式但没有计算结果：请在Excel中复制该列，再“选择性粘贴→数值”后保存".into(),
                    );
                    generic = true;
                }
                _ => {}
            }
        }
        if generic {
            return false;
        }
        // ID columns: a number cell means Excel already rounded the digits away.
        let id_text = |this: &mut Self, c: Column| -> Option<String> {
            match this.get(cells, c) {
                Cell::Number(n) if n.abs() >= 1e11 => {
                    let n = *n;
                    this.ledger.issues.push(ImportIssue {
                        row: line,
                        column: c.header().to_string(),
                        value: number_text(n),
                        reason: "身份证号码被Excel存成了数字，后几位已丢失：请把该列设置为“文本”格式后重新录入号码".into(),
                    });
                    None
                }
                other => Some(other.display().into_owned()),
            }
        };
        let id_raw = id_text(self, Column::IdNumber);
        let head_raw = id_text(self, Column::HeadId);
        let (Some(id_raw), Some(head_raw)) = (id_raw, head_raw) else {
            return false;
        };
        let date_cell = match self.get(cells, Column::StatusDate) {
            Cell::Number(n) => match date_from_excel_serial(*n) {
                Some(d) => d.to_string(),
                None => number_text(*n),
            },
            other => other.display().into_owned(),
        };
        let text = |c: Column| self.get(cells, c).display();
        let input = PersonInput {
            name: text(Column::Name).into_owned(),
            id_number: id_raw.clone(),
            relation: text(Column::Relation).into_owned(),
            counted: text(Column::Counted).into_owned(),
            exclusion_reason: text(Column::ExclusionReason).into_owned(),
            disability_type: text(Column::DisabilityType).into_owned(),
            disability_grade: text(Column::DisabilityGrade).into_owned(),
            health: text(Column::Health).into_owned(),
            work_capacity: text(Column::WorkCapacity).into_owned(),
            employment: text(Column::Employment).into_owned(),
            status: text(Column::Status).into_owned(),
            status_date: date_cell,
        };
        let mut f = Fields::default();
        let person = person_fields_on(&mut f, &input, self.today);
        let head_id = parse_id_field_on(&mut f, "head_id_number", &head_raw, self.today);
        let mut row_issues: Vec<(Column, String, String)> = Vec::new();
        if let Err(StoreError::Validation { fields, .. }) = f.finish() {
            for (field, msg) in fields {
                let c = column_of_field(&field);
                let v = match c {
                    Column::IdNumber => id_raw.clone(),
                    Column::HeadId => head_raw.clone(),
                    c => text(c).into_owned(),
                };
                row_issues.push((c, v, msg));
            }
        }
        let village = text(Column::Village);
        let village_code: Option<[u8; 12]> = match DivisionCode::parse_native(&village) {
            Ok(c) if c.level() == DivisionLevel::Village => c.as_str().as_bytes().try_into().ok(),
            _ => None,
        };
        if village_code.is_none() {
            row_issues.push((
                Column::Village,
                village.to_string(),
                "村(社区)代码应为12位数字".into(),
            ));
        }
        let rt_text = text(Column::RegistrationType);
        let registration_type = if rt_text.is_empty() {
            None
        } else {
            match RegistrationType::parse(&rt_text) {
                Some(v) => Some(v),
                None => {
                    row_issues.push((
                        Column::RegistrationType,
                        rt_text.to_string(),
                        "户籍类型应为“城镇”或“农村”".into(),
                    ));
                    None
                }
            }
        };
        let phone = text(Column::Phone);
        if phone.chars().count() > 40
            || !phone
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '(' | ')' | '+'))
        {
            row_issues.push((
                Column::Phone,
                phone.to_string(),
                "联系电话只能包含数字、空格和“-”".into(),
            ));
        }
        let account = match self.get(cells, Column::Account) {
            Cell::Number(n) if n.abs() >= 1e15 => {
                row_issues.push((
                    Column::Account,
                    number_text(*n),
                    "银行账号被Excel存成了数字，后几位已丢失：请把该列设置为“文本”格式后重新录入"
                        .into(),
                ));
                String::new()
            }
            c => normalize_id_input(&c.display()).unwrap_or_default(),
        };
        if !account.is_empty()
            && (account.len() > 32 || !account.bytes().all(|b| b.is_ascii_digit()))
        {
            row_issues.push((
                Column::Account,
                account.clone(),
                "银行账号只能包含数字，最长32位".into(),
            ));
        }
        let mut money = [0i64; MONEY.len()];
        for (slot, c) in MONEY.into_iter().enumerate() {
            let raw = match self.get(cells, c) {
                Cell::Number(n) => format!("{n:.2}"),
                other => {
                    let d = other.display();
                    if d.contains([',', '，']) {
                        d.replace([',', '，'], "")
                    } else {
                        d.into_owned()
                    }
                }
            };
            if raw.is_empty() {
                continue;
            }
            match Fen::parse_yuan(&raw) {
                Ok(v) if !v.is_negative() => money[slot] = v.0,
                _ => row_issues.push((
                    c,
                    raw,
                    "金额应为不小于0的数字（单位元，最多两位小数）".into(),
                )),
            }
        }
        if let Some(p) = &person {
            if p.status_date.is_some_and(|d| d > self.today) {
                row_issues.push((
                    Column::StatusDate,
                    text(Column::StatusDate).into_owned(),
                    "日期晚于今天".into(),
                ));
            }
        }
        let ok = row_issues.is_empty() && person.is_some() && head_id.is_some();
        for (c, v, msg) in row_issues {
            self.push_issue(line, c, v, msg);
        }
        if !ok {
            return false;
        }
        let (Some(person), Some(head_id), Some(village)) = (person, head_id, village_code) else {
            return false;
        };
        if person.relation == Relation::Head && person.id.as_str() != head_id.as_str() {
            self.push_issue(
                line,
                Column::HeadId,
                head_raw,
                "“户主”行的户主身份证号应与本人身份证号相同".into(),
            );
            return false;
        }
        let (Ok(id), Ok(head)) = (
            Id18::try_from(person.id.as_str().as_bytes()),
            Id18::try_from(head_id.as_str().as_bytes()),
        ) else {
            return false;
        };
        let l = &mut self.ledger;
        let name = l.push_text(&person.name);
        let extra = if person.relation == Relation::Head {
            let address = l.push_text(&text_of(&self.cols, cells, Column::Address));
            let phone = l.push_text(&phone);
            let bank = l.push_text(&text_of(&self.cols, cells, Column::Bank));
            let account = l.push_text(&account);
            let holder = l.push_text(&text_of(&self.cols, cells, Column::AccountHolder));
            l.extras.push(Extra {
                address,
                phone,
                bank,
                account,
                holder,
            });
            (l.extras.len() - 1) as u32
        } else {
            NO_EXTRA
        };
        let money_at = l.money.len() as u32;
        let mut money_mask = 0u8;
        for (slot, v) in money.into_iter().enumerate() {
            if v != 0 {
                money_mask |= 1 << slot;
                l.money.push(v);
            }
        }
        l.rows.push(Row {
            line: line as u32,
            id,
            head,
            village,
            name,
            birth: person.id.birth_date(),
            male: person.id.gender() == Gender::Male,
            relation: person.relation,
            counted: person.counted,
            exclusion_reason: person.exclusion_reason,
            disability_type: person.disability_type,
            disability_grade: person.disability_grade.map(|g| g as u8),
            health: person.health,
            work_capacity: person.work_capacity,
            employment: person.employment,
            status: person.status,
            status_date: person.status_date,
            registration_type,
            extra,
            money_mask,
            money_at,
        });
        true
    }

    fn finish(self) -> Ledger {
        self.ledger
    }

    /// The same header and settings with an empty ledger, for another checking thread.
    fn fork(&self) -> Checker {
        Checker {
            cols: self.cols,
            mask: self.mask,
            today: self.today,
            ledger: Ledger::default(),
        }
    }
}

fn text_of<'c>(
    cols: &[Option<usize>; Column::ALL.len()],
    cells: &'c [Cell<'_>],
    c: Column,
) -> Cow<'c, str> {
    cols[c as usize]
        .and_then(|j| cells.get(j))
        .map(Cell::display)
        .unwrap_or(Cow::Borrowed(""))
}

// ------------------------------------------------------------------ one table (sheet)

/// Finds the header among a table's first ten rows, then checks the rows after it.
struct TableScan {
    mask: bool,
    buffered: Vec<(usize, Vec<Cell<'static>>)>,
    state: ScanState,
}

enum ScanState {
    /// Still collecting the first ten rows.
    Looking,
    /// Found the header; every further row is checked.
    Checking(Box<Checker>),
    /// No header in the first ten rows; `nonblank` says whether the table has any content.
    NoHeader { nonblank: bool },
    /// The header row itself is unusable (missing or duplicate columns).
    Refused(ImportIssue),
}

/// What a scanned table turned out to be.
enum Scanned {
    Ledger(Ledger),
    NoHeader { nonblank: bool },
    Refused(ImportIssue),
}

impl TableScan {
    fn new(mask: bool) -> Self {
        TableScan {
            mask,
            buffered: Vec::new(),
            state: ScanState::Looking,
        }
    }

    /// Whether more rows can still change the outcome.
    fn wants_more(&self) -> bool {
        match &self.state {
            ScanState::Looking | ScanState::Checking(_) => true,
            ScanState::NoHeader { nonblank } => !nonblank,
            ScanState::Refused(_) => false,
        }
    }

    /// Feeds the row at position `index` of the table (0 = first row).
    fn push(&mut self, index: usize, line: usize, cells: Vec<Cell<'_>>) {
        match &mut self.state {
            ScanState::Checking(ch) => ch.row(line, &cells),
            ScanState::Looking if index < 10 => {
                self.buffered
                    .push((line, cells.into_iter().map(Cell::into_owned).collect()));
            }
            ScanState::Looking => {
                self.decide();
                self.push(index, line, cells);
            }
            ScanState::NoHeader { nonblank } => {
                if !cells.iter().all(Cell::is_blank) {
                    *nonblank = true;
                }
            }
            ScanState::Refused(_) => {}
        }
    }

    fn decide(&mut self) {
        let buffered = std::mem::take(&mut self.buffered);
        self.state = match find_header(&buffered) {
            Some(h) => {
                let (line, header) = &buffered[h];
                match Checker::new(*line, header, self.mask) {
                    Ok(mut ch) => {
                        for (line, cells) in &buffered[h + 1..] {
                            ch.row(*line, cells);
                        }
                        ScanState::Checking(Box::new(ch))
                    }
                    Err(issue) => ScanState::Refused(issue),
                }
            }
            None => ScanState::NoHeader {
                nonblank: buffered.iter().any(|(_, r)| !r.iter().all(Cell::is_blank)),
            },
        };
    }

    fn rows_so_far(&self) -> usize {
        match &self.state {
            ScanState::Checking(ch) => ch.ledger.rows_read,
            _ => 0,
        }
    }

    fn finish(mut self) -> Scanned {
        if matches!(self.state, ScanState::Looking) {
            self.decide();
        }
        match self.state {
            ScanState::Checking(ch) => Scanned::Ledger(ch.finish()),
            ScanState::NoHeader { nonblank } => Scanned::NoHeader { nonblank },
            ScanState::Refused(i) => Scanned::Refused(i),
            ScanState::Looking => Scanned::NoHeader { nonblank: false },
        }
    }
}

// ------------------------------------------------------------------ files

/// How the file was read, for the report.
#[derive(Debug, Default, Clone)]
pub(crate) struct ReadMeta {
    pub sheet: Option<String>,
    pub encoding: Option<String>,
}

fn ext_of(name: &str) -> String {
    Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The bytes of the input: borrowed uploads, or a file opened for streaming.
enum Source<'a> {
    Bytes(&'a [u8]),
    File(std::fs::File, u64),
}

impl Source<'_> {
    fn len(&self) -> u64 {
        match self {
            Source::Bytes(b) => b.len() as u64,
            Source::File(_, n) => *n,
        }
    }
}

fn open_source(input: &ImportInput, max: u64) -> Result<Source<'_>, ImportIssue> {
    let too_big = |n: u64| {
        file_issue(format!(
            "文件大小{:.1}MB，超过上限{}MB：请按乡镇拆分后分批导入，或由管理员调整导入大小上限",
            n as f64 / 1_048_576.0,
            max / 1_048_576
        ))
    };
    match input {
        ImportInput::Bytes { data, .. } => {
            if data.len() as u64 > max {
                return Err(too_big(data.len() as u64));
            }
            Ok(Source::Bytes(data))
        }
        ImportInput::Path(p) => {
            let cannot =
                |e: std::io::Error| file_issue(format!("无法读取文件{}：{e}", p.display()));
            let f = std::fs::File::open(p).map_err(cannot)?;
            let len = f.metadata().map_err(cannot)?.len();
            if len > max {
                return Err(too_big(len));
            }
            Ok(Source::File(f, len))
        }
    }
}

/// Whether the input holds nothing but whitespace (checked on small inputs only: a large
/// one is not blank in practice, and CSV is checked again while it is read).
fn is_blank_source(src: &mut Source<'_>) -> Result<bool, ImportIssue> {
    let io = |e: std::io::Error| file_issue(format!("无法读取文件：{e}"));
    match src {
        Source::Bytes(b) => Ok(b.iter().all(|c| c.is_ascii_whitespace())),
        Source::File(f, len) => {
            if *len > 64 * 1024 {
                return Ok(false);
            }
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).map_err(io)?;
            f.rewind().map_err(io)?;
            Ok(buf.iter().all(|c| c.is_ascii_whitespace()))
        }
    }
}

/// Reads and checks a ledger. Progress reports rows checked against the expected total
/// (estimated from bytes for CSV, from the sheet's dimensions for xlsx).
pub(crate) fn read_ledger(
    input: &ImportInput,
    max: u64,
    mask: bool,
    progress: &mut dyn FnMut(ImportProgress),
) -> (ReadMeta, Result<Ledger, ImportIssue>) {
    let mut meta = ReadMeta::default();
    let name = input.name();
    let ext = ext_of(&name);
    if !matches!(ext.as_str(), "csv" | "txt" | "xlsx" | "xlsm" | "xls") {
        return (
            meta,
            Err(file_issue(format!(
                "不支持的文件类型“{}”：请上传 .xlsx、.xls 或 .csv 文件",
                if ext.is_empty() { "无扩展名" } else { &ext }
            ))),
        );
    }
    let result = (|| {
        let mut src = open_source(input, max)?;
        if is_blank_source(&mut src)? {
            return Err(file_issue("文件是空的：没有任何内容"));
        }
        let scanned = match ext.as_str() {
            "csv" | "txt" => {
                let from = if two_cores() {
                    PARALLEL_MIN_BYTES
                } else {
                    u64::MAX
                };
                read_csv(src, mask, &mut meta, progress, from)?
            }
            "xls" => read_xls(src, mask, &mut meta)?,
            _ => read_xlsx(src, mask, &mut meta, progress)?,
        };
        match scanned {
            Scanned::Ledger(l) if l.rows_read == 0 => Err(file_issue("文件只有表头，没有数据行")),
            Scanned::Ledger(l) => Ok(l),
            Scanned::Refused(issue) => Err(issue),
            Scanned::NoHeader { nonblank: false } => {
                Err(file_issue("文件是空的：没有表头也没有数据"))
            }
            Scanned::NoHeader { nonblank: true } => Err(file_issue(format!(
                "没有找到表头：前10行中没有一行包含台账列名（必填列：{}）。请使用系统提供的导入模板",
                required_list()
            ))),
        }
    })();
    if let Ok(l) = &result {
        let n = l.rows_read as u64;
        progress(ImportProgress {
            phase: "校验",
            done: n,
            total: n,
        });
    }
    (meta, result)
}

/// Reports every 2,000 rows.
struct Ticker {
    last: usize,
}

impl Ticker {
    fn tick(
        &mut self,
        done: usize,
        total: impl FnOnce() -> u64,
        progress: &mut dyn FnMut(ImportProgress),
    ) {
        if done >= self.last + 2000 {
            self.last = done;
            progress(ImportProgress {
                phase: "校验",
                done: done as u64,
                total: total().max(done as u64),
            });
        }
    }
}

// ------------------------------------------------------------------ CSV

/// The encoding of CSV text: UTF-8 (BOM optional) when the whole input is valid UTF-8,
/// otherwise GB18030 (a superset of GBK). Checked in one streaming pass before parsing.
fn detect_encoding(src: &mut Source<'_>) -> Result<(&'static str, bool), ImportIssue> {
    let io = |e: std::io::Error| file_issue(format!("无法读取文件：{e}"));
    match src {
        Source::Bytes(b) => Ok(if b.starts_with(b"\xEF\xBB\xBF") {
            ("UTF-8(BOM)", true)
        } else if std::str::from_utf8(b).is_ok() {
            ("UTF-8", false)
        } else {
            ("GBK/GB18030", false)
        }),
        Source::File(f, _) => {
            let mut r = BufReader::with_capacity(1 << 20, &mut *f);
            let bom = r.fill_buf().map_err(io)?.starts_with(b"\xEF\xBB\xBF");
            let mut utf8 = true;
            if !bom {
                let mut carry: Vec<u8> = Vec::new();
                loop {
                    let buf = r.fill_buf().map_err(io)?;
                    if buf.is_empty() {
                        utf8 = carry.is_empty();
                        break;
                    }
                    let n = buf.len();
                    let chunk: Cow<'_, [u8]> = if carry.is_empty() {
                        Cow::Borrowed(buf)
                    } else {
                        let mut c = std::mem::take(&mut carry);
                        c.extend_from_slice(buf);
                        Cow::Owned(c)
                    };
                    match std::str::from_utf8(&chunk) {
                        Ok(_) => {}
                        // An incomplete character at the end continues in the next chunk.
                        Err(e) if e.error_len().is_none() => {
                            carry = chunk[e.valid_up_to()..].to_vec();
                        }
                        Err(_) => {
                            utf8 = false;
                            break;
                        }
                    }
                    r.consume(n);
                }
            }
            drop(r);
            f.rewind().map_err(io)?;
            Ok(if bom {
                ("UTF-8(BOM)", true)
            } else if utf8 {
                ("UTF-8", false)
            } else {
                ("GBK/GB18030", false)
            })
        }
    }
}

/// CSV inputs at least this large are checked on two threads.
const PARALLEL_MIN_BYTES: u64 = 4 << 20;
/// Records per batch handed to a checking thread.
const PARALLEL_BATCH: usize = 2048;
/// Checking threads (the reading thread parses the file for them).
const CHECKERS: usize = 2;
/// `.xlsx` sheets of at least this many rows are checked on two threads.
const PARALLEL_MIN_ROWS: u64 = 20_000;

fn two_cores() -> bool {
    std::thread::available_parallelism().map_or(1, |n| n.get()) > 1
}

/// The cells of a CSV record, decoded from UTF-8 or GB18030.
fn decode_cells(rec: &csv::ByteRecord, utf8: bool) -> Vec<Cell<'_>> {
    decode_iter(rec, utf8).collect()
}

fn decode_iter(rec: &csv::ByteRecord, utf8: bool) -> impl Iterator<Item = Cell<'_>> {
    rec.iter().map(move |field| {
        let s: Cow<'_, str> = if utf8 {
            // The whole input was checked to be UTF-8 (fields split at ASCII commas stay
            // valid): std's validation is the fast path, lossy decoding the safe one.
            match std::str::from_utf8(field) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(field),
            }
        } else {
            encoding_rs::GB18030.decode_without_bom_handling(field).0
        };
        if s.trim().is_empty() {
            Cell::Empty
        } else {
            Cell::Text(s)
        }
    })
}

/// The line and byte offset where a record starts.
fn record_position(rec: &csv::ByteRecord, index: usize) -> (usize, u64) {
    rec.position()
        .map(|p| (p.line() as usize, p.byte()))
        .unwrap_or((index + 1, 0))
}

fn csv_error(index: usize, e: csv::Error) -> ImportIssue {
    file_issue(format!("CSV第{}行格式有误（引号不匹配等）：{e}", index + 1))
}

/// Rows read but not yet checked, and how many of `items` are in use: the buffers go back
/// and forth between the threads and keep their allocations.
struct Batch<T> {
    items: Vec<T>,
    len: usize,
}

impl<T> Default for Batch<T> {
    fn default() -> Self {
        Batch {
            items: Vec::new(),
            len: 0,
        }
    }
}

/// One checked batch: its number and the rows it added, in a ledger of their own.
struct Checked {
    seq: usize,
    part: Ledger,
}

/// Checks batches of rows on [`CHECKERS`] threads, each with its own copy of the header's
/// checker, and appends the checked rows to the reader's ledger in file order as they come
/// back (so the rows are never held twice).
struct Fanout<'scope, T> {
    queues: Vec<std::sync::mpsc::SyncSender<(usize, Batch<T>)>>,
    spent: std::sync::mpsc::Receiver<Batch<T>>,
    checked: std::sync::mpsc::Receiver<Checked>,
    workers: Vec<std::thread::ScopedJoinHandle<'scope, ()>>,
    waiting: std::collections::BTreeMap<usize, Ledger>,
    sent: usize,
    next: usize,
}

impl<'scope, T: Send + 'scope> Fanout<'scope, T> {
    fn start<'env>(
        s: &'scope std::thread::Scope<'scope, 'env>,
        checker: &Checker,
        work: impl Fn(&mut Checker, &[T]) + Send + Copy + 'scope,
    ) -> Self {
        let (spent_tx, spent) = std::sync::mpsc::sync_channel::<Batch<T>>(CHECKERS * 3);
        let (checked_tx, checked) = std::sync::mpsc::channel::<Checked>();
        let mut queues = Vec::with_capacity(CHECKERS);
        let mut workers = Vec::with_capacity(CHECKERS);
        for _ in 0..CHECKERS {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Batch<T>)>(2);
            let mut ch = checker.fork();
            let (spent_tx, checked_tx) = (spent_tx.clone(), checked_tx.clone());
            workers.push(s.spawn(move || {
                for (seq, mut batch) in rx {
                    work(&mut ch, &batch.items[..batch.len]);
                    let part = std::mem::take(&mut ch.ledger);
                    if checked_tx.send(Checked { seq, part }).is_err() {
                        return;
                    }
                    batch.len = 0;
                    // The reader makes a new buffer when none is waiting.
                    let _ = spent_tx.try_send(batch);
                }
            }));
            queues.push(tx);
        }
        Fanout {
            queues,
            spent,
            checked,
            workers,
            waiting: std::collections::BTreeMap::new(),
            sent: 0,
            next: 0,
        }
    }

    /// A buffer for the next batch: one the threads are done with, or a new one.
    fn spare(&self) -> Batch<T> {
        self.spent.try_recv().unwrap_or_default()
    }

    /// Hands a batch to the next thread and appends the batches that came back. False when
    /// that thread has stopped (it panicked: `finish` reports it).
    fn send(&mut self, batch: Batch<T>, ledger: &mut Ledger) -> bool {
        let ok = self.queues[self.sent % CHECKERS]
            .send((self.sent, batch))
            .is_ok();
        self.sent += 1;
        while let Ok(got) = self.checked.try_recv() {
            self.next = append_in_order(ledger, &mut self.waiting, self.next, got);
        }
        ok
    }

    /// Sends the last (partial) batch, waits for the threads and appends the rest.
    fn finish(mut self, last: Option<Batch<T>>, ledger: &mut Ledger) {
        if let Some(b) = last.filter(|b| b.len > 0) {
            self.send(b, ledger);
        }
        let Fanout {
            queues,
            checked,
            workers,
            mut waiting,
            mut next,
            ..
        } = self;
        drop(queues);
        for got in checked {
            next = append_in_order(ledger, &mut waiting, next, got);
        }
        for w in workers {
            w.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
    }
}

impl Ledger {
    /// Appends the rows checked into `part`, shifting their offsets into its text, extras
    /// and amounts, which move over whole.
    fn append(&mut self, part: Ledger) {
        let text_at = self.text.len() as u32;
        let extras_at = self.extras.len() as u32;
        let money_at = self.money.len() as u32;
        self.text.push_str(&part.text);
        let shift = |s: Span| Span {
            at: s.at + text_at,
            len: s.len,
        };
        self.extras.extend(part.extras.iter().map(|e| Extra {
            address: shift(e.address),
            phone: shift(e.phone),
            bank: shift(e.bank),
            account: shift(e.account),
            holder: shift(e.holder),
        }));
        self.money.extend_from_slice(&part.money);
        self.issues.extend(part.issues);
        self.rows_read += part.rows_read;
        self.bad_heads.extend(part.bad_heads);
        self.rows.extend(part.rows.iter().map(|r| {
            let mut r = *r;
            r.name.at += text_at;
            if r.extra != NO_EXTRA {
                r.extra += extras_at;
            }
            r.money_at += money_at;
            r
        }));
    }
}

/// Appends checked batches to `ledger` in their order; returns the next batch number due.
fn append_in_order(
    ledger: &mut Ledger,
    waiting: &mut std::collections::BTreeMap<usize, Ledger>,
    mut next: usize,
    got: Checked,
) -> usize {
    waiting.insert(got.seq, got.part);
    while let Some(part) = waiting.remove(&next) {
        ledger.append(part);
        next += 1;
    }
    next
}

/// Reads CSV; inputs of at least `parallel_from` bytes are checked on two threads.
fn read_csv(
    mut src: Source<'_>,
    mask: bool,
    meta: &mut ReadMeta,
    progress: &mut dyn FnMut(ImportProgress),
    parallel_from: u64,
) -> Result<Scanned, ImportIssue> {
    let (enc, bom) = detect_encoding(&mut src)?;
    meta.encoding = Some(enc.to_string());
    let len = src.len().max(1);
    let parallel = len >= parallel_from;
    let reader: Box<dyn Read + Send + '_> = match src {
        Source::Bytes(b) => Box::new(if bom { &b[3..] } else { b }),
        Source::File(f, _) => {
            let mut r = BufReader::with_capacity(1 << 18, f);
            if bom {
                let n = r.fill_buf().map(|b| b.len()).unwrap_or(0);
                r.consume(3.min(n));
            }
            Box::new(r)
        }
    };
    let utf8 = enc != "GBK/GB18030";
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(reader);
    let mut scan = TableScan::new(mask);
    let mut rec = csv::ByteRecord::new();
    let mut ticker = Ticker { last: 0 };
    let mut index = 0usize;
    // The first rows (which hold the header) are checked on this thread; a large file's
    // remaining rows are then checked on two threads while this one parses.
    loop {
        if parallel && index > 10 && !matches!(scan.state, ScanState::Looking) {
            break;
        }
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => return Ok(scan.finish()),
            Err(e) => return Err(csv_error(index, e)),
        }
        let (line, byte) = record_position(&rec, index);
        scan.push(index, line, decode_cells(&rec, utf8));
        index += 1;
        if !scan.wants_more() {
            return Ok(scan.finish());
        }
        let done = scan.rows_so_far();
        ticker.tick(
            done,
            || (done as f64 * len as f64 / byte.max(1) as f64) as u64,
            progress,
        );
    }
    let ScanState::Checking(checker) = &mut scan.state else {
        // No header or a refused one: nothing further changes the outcome.
        return Ok(scan.finish());
    };
    let fork = checker.fork();
    let ledger = &mut checker.ledger;
    std::thread::scope(|s| -> Result<(), ImportIssue> {
        let mut fan = Fanout::start(s, &fork, move |ch, recs: &[(usize, csv::ByteRecord)]| {
            // One cell vector for the batch (its records live until the batch ends).
            let mut cells: Vec<Cell<'_>> = Vec::new();
            for (line, rec) in recs {
                cells.clear();
                cells.extend(decode_iter(rec, utf8));
                ch.row(*line, &cells);
            }
        });
        let mut batch = fan.spare();
        let mut failed = None;
        loop {
            if batch.len == batch.items.len() {
                batch.items.push((0, csv::ByteRecord::new()));
            }
            let (line, rec) = &mut batch.items[batch.len];
            match rdr.read_byte_record(rec) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    failed = Some(csv_error(index, e));
                    break;
                }
            }
            let byte;
            (*line, byte) = record_position(rec, index);
            batch.len += 1;
            index += 1;
            if batch.len == PARALLEL_BATCH {
                let full = std::mem::replace(&mut batch, fan.spare());
                if !fan.send(full, ledger) {
                    break;
                }
                let done = ledger.rows_read;
                ticker.tick(
                    done,
                    || (done as f64 * len as f64 / byte.max(1) as f64) as u64,
                    progress,
                );
            }
        }
        fan.finish(failed.is_none().then_some(batch), ledger);
        failed.map_or(Ok(()), Err)
    })?;
    Ok(scan.finish())
}

// ------------------------------------------------------------------ xlsx

fn not_excel(ext: &str) -> ImportIssue {
    file_issue(format!(
        "文件不是有效的Excel工作簿（.{ext}）：可能是其他类型的文件改了扩展名，或文件已损坏。请在Excel中打开并另存为 .xlsx 后重新导入"
    ))
}

fn read_xlsx(
    src: Source<'_>,
    mask: bool,
    meta: &mut ReadMeta,
    progress: &mut dyn FnMut(ImportProgress),
) -> Result<Scanned, ImportIssue> {
    match src {
        Source::Bytes(b) => {
            let wb: calamine::Xlsx<_> =
                calamine::open_workbook_from_rs(Cursor::new(b)).map_err(|_| not_excel("xlsx"))?;
            scan_xlsx(wb, mask, meta, progress, PARALLEL_MIN_ROWS)
        }
        Source::File(f, _) => {
            let wb: calamine::Xlsx<_> =
                calamine::open_workbook_from_rs(BufReader::with_capacity(1 << 16, f))
                    .map_err(|_| not_excel("xlsx"))?;
            scan_xlsx(wb, mask, meta, progress, PARALLEL_MIN_ROWS)
        }
    }
}

/// Takes the first sheet whose first ten rows contain a header. A sheet of at least
/// `parallel_from` rows is checked on two threads.
fn scan_xlsx<RS: Read + Seek>(
    mut wb: calamine::Xlsx<RS>,
    mask: bool,
    meta: &mut ReadMeta,
    progress: &mut dyn FnMut(ImportProgress),
    parallel_from: u64,
) -> Result<Scanned, ImportIssue> {
    let names = wb.sheet_names();
    if names.is_empty() {
        return Err(file_issue("工作簿中没有工作表"));
    }
    let mut first_nonempty: Option<String> = None;
    for name in &names {
        let Ok(mut cells) = wb.worksheet_cells_reader(name) else {
            continue;
        };
        let total_rows = {
            let d = cells.dimensions();
            u64::from(d.end.0.saturating_sub(d.start.0)) + 1
        };
        let mut scan = TableScan::new(mask);
        let mut ticker = Ticker { last: 0 };
        // Rows start at the first row holding a value (as a calamine range would).
        let mut first_row: Option<u32> = None;
        let mut current: Option<(u32, Vec<Cell<'_>>)> = None;
        let mut failed = false;
        // A large sheet's rows after the header are checked on two threads while this one
        // parses the XML.
        let parallel = total_rows >= parallel_from && two_cores();
        let mut rows_seen = 0usize;
        std::thread::scope(|s| {
            type Lines<'a> = (usize, Vec<Cell<'a>>);
            let mut fan: Option<Fanout<'_, Lines<'_>>> = None;
            let mut batch: Batch<Lines<'_>> = Batch::default();
            // Hands one finished row on; false when nothing more can change the outcome.
            let mut emit = |r: u32, row_cells, first_row: u32| -> bool {
                let index = (r - first_row) as usize;
                let line = r as usize + 1;
                let ScanState::Checking(ch) = &mut scan.state else {
                    scan.push(index, line, row_cells);
                    return scan.wants_more();
                };
                let Some(f) = fan.as_mut() else {
                    ch.row(line, &row_cells);
                    if parallel {
                        fan = Some(Fanout::start(s, ch, |ch, rows: &[Lines<'_>]| {
                            for (line, cells) in rows {
                                ch.row(*line, cells);
                            }
                        }));
                    }
                    return true;
                };
                batch.items.push((line, row_cells));
                batch.len += 1;
                if batch.len == PARALLEL_BATCH {
                    let mut spare = f.spare();
                    spare.items.clear();
                    let full = std::mem::replace(&mut batch, spare);
                    if !f.send(full, &mut ch.ledger) {
                        return false;
                    }
                }
                true
            };
            loop {
                let rec = match cells.next_cell_with_formula_metadata() {
                    Ok(Some(rec)) => rec,
                    Ok(None) => break,
                    Err(_) => {
                        failed = true;
                        break;
                    }
                };
                let (row, col) = rec.pos;
                let has_formula = rec.formula.is_some();
                let cell = match rec.value {
                    DataRef::Empty if has_formula => Cell::UncalculatedFormula,
                    DataRef::Empty => Cell::Empty,
                    DataRef::Float(f) if f == 0.0 && has_formula => Cell::FormulaZero,
                    DataRef::Int(0) if has_formula => Cell::FormulaZero,
                    DataRef::String(s) => Cell::Text(Cow::Owned(s)),
                    DataRef::SharedString(s) => Cell::Text(Cow::Borrowed(s)),
                    DataRef::Int(n) => Cell::Number(n as f64),
                    DataRef::Float(f) => Cell::Number(f),
                    DataRef::Bool(b) => Cell::Text(Cow::Borrowed(if b { "是" } else { "否" })),
                    DataRef::DateTime(dt) => Cell::Number(dt.as_f64()),
                    DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Text(Cow::Owned(s)),
                    DataRef::Error(e) => Cell::Error(format!("{e}")),
                };
                let start = match first_row {
                    Some(r) => r,
                    None if cell == Cell::Empty => continue,
                    None => *first_row.insert(row),
                };
                if current.as_ref().is_some_and(|(r, _)| *r != row) {
                    if let Some((r, done_cells)) = current.take() {
                        if !emit(r, done_cells, start) {
                            break;
                        }
                        rows_seen += 1;
                        ticker.tick(rows_seen, || total_rows, progress);
                    }
                }
                let (_, row_cells) = current.get_or_insert_with(|| (row, Vec::new()));
                let col = col as usize;
                if row_cells.len() <= col {
                    row_cells.resize(col + 1, Cell::Empty);
                }
                row_cells[col] = cell;
            }
            if let (Some((r, done_cells)), Some(start)) = (current.take(), first_row) {
                emit(r, done_cells, start);
            }
            if let (Some(f), ScanState::Checking(ch)) = (fan, &mut scan.state) {
                f.finish(Some(batch), &mut ch.ledger);
            }
        });
        drop(cells);
        if failed && first_row.is_none() {
            continue;
        }
        if failed {
            return Err(not_excel("xlsx"));
        }
        match scan.finish() {
            Scanned::NoHeader { nonblank } => {
                if nonblank && first_nonempty.is_none() {
                    first_nonempty = Some(name.clone());
                }
            }
            found => {
                meta.sheet = Some(name.clone());
                return Ok(found);
            }
        }
    }
    meta.sheet = first_nonempty.clone().or_else(|| names.first().cloned());
    Ok(Scanned::NoHeader {
        nonblank: first_nonempty.is_some(),
    })
}

// ------------------------------------------------------------------ xls

/// `.xls` (BIFF, at most 65,536 rows) has no streaming reader: each sheet is read whole.
fn read_xls(src: Source<'_>, mask: bool, meta: &mut ReadMeta) -> Result<Scanned, ImportIssue> {
    let data: Cow<'_, [u8]> = match src {
        Source::Bytes(b) => Cow::Borrowed(b),
        Source::File(mut f, _) => {
            let mut v = Vec::new();
            f.read_to_end(&mut v)
                .map_err(|e| file_issue(format!("无法读取文件：{e}")))?;
            Cow::Owned(v)
        }
    };
    let mut wb: calamine::Xls<_> =
        calamine::open_workbook_from_rs(Cursor::new(&data[..])).map_err(|_| not_excel("xls"))?;
    let names = wb.sheet_names();
    if names.is_empty() {
        return Err(file_issue("工作簿中没有工作表"));
    }
    let mut first_nonempty: Option<String> = None;
    for name in &names {
        let Ok(range) = wb.worksheet_range(name) else {
            continue;
        };
        let formulas = wb.worksheet_formula(name).ok();
        let (r0, c0) = range.start().unwrap_or((0, 0));
        let mut scan = TableScan::new(mask);
        for (i, row) in range.rows().enumerate() {
            let mut cells: Vec<Cell<'_>> = vec![Cell::Empty; c0 as usize];
            for (j, d) in row.iter().enumerate() {
                let has_formula = || {
                    formulas.as_ref().is_some_and(|f| {
                        f.get_value((r0 + i as u32, c0 + j as u32))
                            .is_some_and(|s| !s.is_empty())
                    })
                };
                use calamine::Data;
                cells.push(match d {
                    Data::Empty if has_formula() => Cell::UncalculatedFormula,
                    Data::Empty => Cell::Empty,
                    Data::Float(f) if *f == 0.0 && has_formula() => Cell::FormulaZero,
                    Data::Int(0) if has_formula() => Cell::FormulaZero,
                    Data::String(s) => Cell::Text(Cow::Borrowed(s)),
                    Data::Int(n) => Cell::Number(*n as f64),
                    Data::Float(f) => Cell::Number(*f),
                    Data::Bool(b) => Cell::Text(Cow::Borrowed(if *b { "是" } else { "否" })),
                    Data::DateTime(dt) => Cell::Number(dt.as_f64()),
                    Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(Cow::Borrowed(s)),
                    Data::Error(e) => Cell::Error(format!("{e}")),
                });
            }
            scan.push(i, r0 as usize + i + 1, cells);
            if !scan.wants_more() {
                break;
            }
        }
        match scan.finish() {
            Scanned::NoHeader { nonblank } => {
                if nonblank && first_nonempty.is_none() {
                    first_nonempty = Some(name.clone());
                }
            }
            found => {
                meta.sheet = Some(name.clone());
                return Ok(found);
            }
        }
    }
    meta.sheet = first_nonempty.clone().or_else(|| names.first().cloned());
    Ok(Scanned::NoHeader {
        nonblank: first_nonempty.is_some(),
    })
}

// ------------------------------------------------------------------ households

/// The households of the file in first-seen order, each with its rows in file order:
/// `members[starts[g]..starts[g + 1]]` are the row indexes of household `g`.
pub(crate) struct Groups {
    pub starts: Vec<u32>,
    pub members: Vec<u32>,
}

impl Groups {
    pub fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    pub fn get(&self, g: usize) -> &[u32] {
        &self.members[self.starts[g] as usize..self.starts[g + 1] as usize]
    }
}

/// Groups rows by head ID without a vector per household.
pub(crate) fn group_rows(rows: &[Row]) -> Groups {
    let mut index: HashMap<Id18, u32> = HashMap::new();
    let mut group_of = Vec::with_capacity(rows.len());
    let mut sizes: Vec<u32> = Vec::new();
    for r in rows {
        let n = sizes.len() as u32;
        let g = *index.entry(r.head).or_insert(n);
        if g == n {
            sizes.push(0);
        }
        sizes[g as usize] += 1;
        group_of.push(g);
    }
    drop(index);
    let mut starts = Vec::with_capacity(sizes.len() + 1);
    let mut at = 0u32;
    starts.push(0);
    for s in &sizes {
        at += s;
        starts.push(at);
    }
    let mut fill: Vec<u32> = starts[..sizes.len()].to_vec();
    let mut members = vec![0u32; rows.len()];
    for (i, g) in group_of.into_iter().enumerate() {
        let slot = &mut fill[g as usize];
        members[*slot as usize] = i as u32;
        *slot += 1;
    }
    Groups { starts, members }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(col_letter(0), "A");
        assert_eq!(col_letter(25), "Z");
        assert_eq!(col_letter(26), "AA");
    }

    #[test]
    fn numbers_display_like_excel() {
        assert_eq!(number_text(45296.0), "45296");
        assert_eq!(number_text(1.5), "1.5");
        assert!(number_text(1.10105e17).contains('E'));
    }

    #[test]
    fn a_row_stays_small() {
        assert!(
            std::mem::size_of::<Row>() <= 104,
            "{}",
            std::mem::size_of::<Row>()
        );
    }

    /// A ledger with errors spread over several batches: a bad ID number, a bad date, a
    /// bad amount.
    fn ledger_with_errors() -> Vec<Vec<String>> {
        let villages = ["511802001001".to_string(), "511802001002".to_string()];
        let mut rows = crate::generate_ledger(3_000, 5, &villages);
        for (k, r) in rows.iter_mut().enumerate().filter(|(k, _)| k % 997 == 3) {
            let c = [Column::IdNumber, Column::StatusDate, Column::WageMonthly][k % 3];
            r[c as usize] = "不对".into();
        }
        assert!(rows.len() > 3 * PARALLEL_BATCH);
        rows
    }

    fn ledger_of(s: Scanned) -> Ledger {
        match s {
            Scanned::Ledger(l) => l,
            _ => panic!("no ledger"),
        }
    }

    /// Asserts that two reads of `rows` gave the same ledger: rows in file order with their
    /// text and amounts, the same issues and incomplete households.
    fn assert_same_ledger(rows: &[Vec<String>], one: &Ledger, two: &Ledger) {
        assert_eq!(one.rows_read, rows.len());
        assert_eq!(two.rows_read, one.rows_read);
        assert!(!one.issues.is_empty() && one.rows.len() < rows.len());
        let key = |l: &Ledger| {
            l.rows
                .iter()
                .map(|r| {
                    let h = l.household_text(r);
                    (
                        r.line,
                        r.id,
                        l.name(r).to_string(),
                        [h.address, h.phone, h.bank, h.account, h.holder].join("|"),
                        l.incomes(r).map(|(_, _, f)| f.0).collect::<Vec<_>>(),
                        l.assets(r).map(|(_, f)| f.0).collect::<Vec<_>>(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let k1 = key(one);
        assert!(k1.windows(2).all(|w| w[0].0 < w[1].0), "file order");
        assert_eq!(k1, key(two));
        let issues = |l: &Ledger| {
            let mut v: Vec<String> = l
                .issues
                .iter()
                .map(|i| format!("{}|{}|{}|{}", i.row, i.column, i.value, i.reason))
                .collect();
            v.sort();
            v
        };
        assert_eq!(issues(one), issues(two));
        assert_eq!(one.bad_heads, two.bad_heads);
    }

    /// The two-thread check of a CSV gives the one-thread check's ledger.
    #[test]
    fn csv_checked_on_two_threads_matches_one_thread() {
        let rows = ledger_with_errors();
        let data = crate::ledger_csv(&rows).unwrap();
        let read = |parallel_from: u64| {
            let mut meta = ReadMeta::default();
            ledger_of(
                read_csv(
                    Source::Bytes(&data),
                    true,
                    &mut meta,
                    &mut |_| {},
                    parallel_from,
                )
                .unwrap(),
            )
        };
        assert_same_ledger(&rows, &read(u64::MAX), &read(0));
    }

    /// The same for an `.xlsx` sheet, whose cells arrive already typed.
    #[test]
    fn xlsx_checked_on_two_threads_matches_one_thread() {
        let rows = ledger_with_errors();
        let data = crate::ledger_xlsx(&rows).unwrap();
        let read = |parallel_from: u64| {
            let wb: calamine::Xlsx<_> =
                calamine::open_workbook_from_rs(Cursor::new(&data)).unwrap();
            let mut meta = ReadMeta::default();
            ledger_of(scan_xlsx(wb, true, &mut meta, &mut |_| {}, parallel_from).unwrap())
        };
        assert_same_ledger(&rows, &read(u64::MAX), &read(0));
    }

    #[test]
    fn gbk_and_utf8_csv_read_the_same() {
        let text = "户主身份证号,村(社区)代码,姓名,身份证号,与户主关系\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        for (data, enc) in [
            (text.as_bytes().to_vec(), "UTF-8"),
            (
                [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
                "UTF-8(BOM)",
            ),
            (gbk.into_owned(), "GBK/GB18030"),
        ] {
            let input = ImportInput::Bytes {
                name: "a.csv".into(),
                data,
            };
            let (meta, r) = read_ledger(&input, u64::MAX, false, &mut |_| {});
            assert_eq!(meta.encoding.as_deref(), Some(enc));
            // Header found, no data rows.
            assert!(r.err().unwrap().reason.contains("只有表头"));
        }
    }
}
