//! Checking each data row of a ledger into the compact [`Ledger`].

use std::borrow::Cow;

use chrono::NaiveDate;
use minzheng_domain::registry::ledger::{HouseholdText, Id18, Ledger, RowInput, MONEY_COLUMNS};
use minzheng_domain::registry::{
    date_from_excel_serial, mask_account, normalize_id_input, parse_id_number, parse_person_fields,
    Column, ImportIssue, PersonInput, RegistrationType, Relation,
};
use minzheng_domain::{mask_id, DivisionCode, DivisionLevel, Fen, FieldErrors, IdNumber};

use super::cells::{col_letter, number_text, required_list, Cell, BLANK};
use crate::formats::limits::clip;

/// Characters of a cell's value an issue shows (the value may be a whole cell's text).
const SHOWN_VALUE_CHARS: usize = 100;
/// Characters of an issue's reason (reasons may quote the value).
const SHOWN_REASON_CHARS: usize = 300;

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

/// Validates data rows against a header, one at a time, into a [`Ledger`].
pub(super) struct Checker {
    /// Column → index in the row.
    cols: [Option<usize>; Column::ALL.len()],
    mask: bool,
    today: NaiveDate,
    pub(super) ledger: Ledger,
}

impl Checker {
    /// Reads the header row; refuses duplicate or missing required columns.
    pub(super) fn new(
        header_line: usize,
        header: &[Cell<'_>],
        mask: bool,
        today: NaiveDate,
    ) -> Result<Checker, ImportIssue> {
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
            today,
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
        // A cell may hold up to `max_cell_bytes`: the report shows its beginning.
        self.ledger.issues.push(ImportIssue {
            row: line,
            column: c.header().to_string(),
            value: clip(value, SHOWN_VALUE_CHARS),
            reason: clip(reason, SHOWN_REASON_CHARS),
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
    pub(super) fn row(&mut self, line: usize, cells: &[Cell<'_>]) {
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
        let mut f = FieldErrors::new();
        let person = parse_person_fields(&mut f, &input, self.today);
        let head_id = parse_id_number(&mut f, "head_id_number", &head_raw, self.today);
        let mut row_issues: Vec<(Column, String, String)> = Vec::new();
        if let Err(fields) = f.finish() {
            for (field, msg) in fields.into_map() {
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
            match RegistrationType::parse_input(&rt_text) {
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
        let mut money = [0i64; MONEY_COLUMNS.len()];
        for (slot, c) in MONEY_COLUMNS.into_iter().enumerate() {
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
        let is_head = person.relation == Relation::Head;
        let (address, bank, holder) = if is_head {
            (
                text_of(&self.cols, cells, Column::Address),
                text_of(&self.cols, cells, Column::Bank),
                text_of(&self.cols, cells, Column::AccountHolder),
            )
        } else {
            Default::default()
        };
        self.ledger.push_row(RowInput {
            line: line as u32,
            id,
            head,
            village,
            person: &person,
            registration_type,
            household: is_head.then(|| HouseholdText {
                address: &address,
                phone: &phone,
                bank: &bank,
                account: &account,
                holder: &holder,
            }),
            money,
        });
        true
    }

    pub(super) fn finish(self) -> Ledger {
        self.ledger
    }

    /// The same header and settings with an empty ledger, for another checking thread.
    pub(super) fn fork(&self) -> Checker {
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
