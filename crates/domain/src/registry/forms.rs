//! Forms of the registry: what a clerk types (or an API client sends) for a household, a
//! member, an income or an asset, and the pure functions that turn it into typed values —
//! or into every field's message at once.
//!
//! Facts only the database knows (does the village exist, is the ID number registered
//! already) are looked up by the application first and handed in.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::input::{normalize_id_input, parse_flexible_date, parse_yes_no};
use super::records::{Household, Person};
use super::words::{
    AssetKind, DisabilityType, Employment, ExclusionReason, Health, HouseholdStatus, IncomeKind,
    IncomePeriod, PersonStatus, RegistrationType, Relation, WorkCapacity,
};
use crate::{DivisionCode, DivisionLevel, Fen, FieldErrors, IdNumber, Scope, YearMonth};

/// A new household with its head (form or API input; strings so every field can be
/// validated with a Chinese message).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NewHousehold {
    #[serde(default)]
    pub village_code: String,
    #[serde(default)]
    pub registration_type: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub bank_name: String,
    #[serde(default)]
    pub account_number: String,
    #[serde(default)]
    pub account_holder: String,
    #[serde(default)]
    pub head_name: String,
    #[serde(default)]
    pub head_id_number: String,
}

/// Editable household fields.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct HouseholdUpdate {
    #[serde(default)]
    pub village_code: String,
    #[serde(default)]
    pub registration_type: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub bank_name: String,
    #[serde(default)]
    pub account_number: String,
    #[serde(default)]
    pub account_holder: String,
    #[serde(default)]
    pub status: String,
}

/// A member as entered (new or edited).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct PersonInput {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub relation: String,
    /// 是/否 (default 是).
    #[serde(default)]
    pub counted: String,
    #[serde(default)]
    pub exclusion_reason: String,
    #[serde(default)]
    pub disability_type: String,
    #[serde(default)]
    pub disability_grade: String,
    #[serde(default)]
    pub health: String,
    #[serde(default)]
    pub work_capacity: String,
    #[serde(default)]
    pub employment: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub status_date: String,
}

/// An income item as entered; `amount` in yuan.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct IncomeInput {
    #[serde(default)]
    pub person_id: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub period: String,
    #[serde(default)]
    pub start_month: String,
    #[serde(default)]
    pub end_month: String,
    #[serde(default)]
    pub note: String,
}

/// An asset as entered; `value` in yuan.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AssetInput {
    #[serde(default)]
    pub person_id: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub description: String,
}

// ---------------------------------------------------------------- typed values

/// A member's fields that passed their checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    pub id: IdNumber,
    pub name: String,
    pub relation: Relation,
    pub counted: bool,
    pub exclusion_reason: Option<ExclusionReason>,
    pub disability_type: DisabilityType,
    pub disability_grade: Option<i64>,
    pub health: Health,
    pub work_capacity: WorkCapacity,
    pub employment: Employment,
    pub status: PersonStatus,
    pub status_date: Option<NaiveDate>,
}

impl NewPerson {
    /// The head of a newly registered household, with the defaults of every other field.
    pub fn head(id: IdNumber, name: String) -> NewPerson {
        NewPerson {
            id,
            name,
            relation: Relation::Head,
            counted: true,
            exclusion_reason: None,
            disability_type: DisabilityType::None,
            disability_grade: None,
            health: Health::Healthy,
            work_capacity: WorkCapacity::Full,
            employment: Employment::Other,
            status: PersonStatus::Active,
            status_date: None,
        }
    }
}

/// A household's own fields that passed their checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdFields {
    /// A 12-digit village code inside the actor's scope that exists.
    pub village_code: String,
    pub registration_type: RegistrationType,
    pub address: String,
    pub phone: String,
    pub bank_name: String,
    pub account_number: String,
    pub account_holder: String,
}

impl HouseholdFields {
    /// The township the village belongs to.
    pub fn township_code(&self) -> &str {
        &self.village_code[..9]
    }
}

/// A new household and its head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHouseholdForm {
    pub household: HouseholdFields,
    pub head: NewPerson,
}

/// A household's new fields and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdChange {
    pub household: HouseholdFields,
    pub status: HouseholdStatus,
}

/// An income item that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIncome {
    pub person_id: Option<i64>,
    pub kind: IncomeKind,
    pub amount: Fen,
    pub period: IncomePeriod,
    pub start_month: Option<YearMonth>,
    pub end_month: Option<YearMonth>,
    pub note: String,
}

/// An asset that passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAsset {
    pub person_id: Option<i64>,
    pub kind: AssetKind,
    pub value: Fen,
    pub description: String,
}

/// What the database knows about a household form (the application looks these up first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HouseholdFacts {
    /// The village the form names exists (see [`village_to_check`]).
    pub village_exists: bool,
    /// The head's ID number is registered already, in any household.
    pub head_registered: bool,
}

/// One field refused on its own: its message is the whole message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRefusal {
    pub field: &'static str,
    pub message: &'static str,
}

// ---------------------------------------------------------------- field checks

fn coded<T>(
    f: &mut FieldErrors,
    field: &str,
    label: &str,
    raw: &str,
    parse: fn(&str) -> Option<T>,
    choices: fn() -> String,
    default: Option<T>,
) -> Option<T> {
    let t = raw.trim();
    if t.is_empty() {
        if default.is_none() {
            f.add(field, format!("请选择{label}"));
        }
        return default;
    }
    match parse(t) {
        Some(v) => Some(v),
        None => {
            f.add(field, format!("{label}“{t}”无法识别，可选：{}", choices()));
            None
        }
    }
}

fn check_phone(f: &mut FieldErrors, phone: &str) {
    if phone.chars().count() > 40
        || !phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '(' | ')' | '+' | '转'))
    {
        f.add("phone", "联系电话只能包含数字、空格和“-”，最长40个字符");
    }
}

fn check_account(f: &mut FieldErrors, acc: &str) {
    if !acc.is_empty() && (acc.len() > 32 || !acc.bytes().all(|b| b.is_ascii_digit())) {
        f.add("account_number", "银行账号只能包含数字，最长32位");
    }
}

fn check_name(f: &mut FieldErrors, field: &str, name: &str) {
    let n = name.chars().count();
    if n == 0 {
        f.add(field, "请填写姓名");
    } else if n > 50 {
        f.add(field, "姓名最长50个字");
    }
}

fn check_address(f: &mut FieldErrors, address: &str) {
    if address.chars().count() > 200 {
        f.add("address", "家庭住址最长200个字");
    }
}

/// The village of a household form, when its code is a village-level code inside the scope:
/// the one whose existence the application looks up for [`HouseholdFacts`].
pub fn village_to_check<'a>(raw: &'a str, scope: &Scope) -> Option<&'a str> {
    let v = raw.trim();
    match DivisionCode::parse_native(v) {
        Ok(c) if c.level() == DivisionLevel::Village && scope.contains_str(v) => Some(v),
        _ => None,
    }
}

/// Checks that `raw` is a village-level division inside the actor's write scope that exists.
fn check_village(f: &mut FieldErrors, raw: &str, scope: &Scope, exists: bool) -> Option<String> {
    let v = raw.trim();
    match DivisionCode::parse_native(v) {
        Ok(c) if c.level() == DivisionLevel::Village => {}
        _ => {
            f.add("village_code", "村(社区)代码应为12位数字");
            return None;
        }
    }
    if !scope.contains_str(v) {
        f.add("village_code", "该村(社区)不在您的管辖范围内");
        return None;
    }
    if !exists {
        f.add("village_code", format!("区划代码{v}不存在"));
        return None;
    }
    Some(v.to_string())
}

/// An ID number as clerks type it (see [`normalize_id_input`]), valid on `today`.
pub fn parse_id_number(
    f: &mut FieldErrors,
    field: &str,
    raw: &str,
    today: NaiveDate,
) -> Option<IdNumber> {
    let cleaned = match normalize_id_input(raw) {
        Ok(s) => s,
        Err(e) => {
            f.add(field, e);
            return None;
        }
    };
    if cleaned.is_empty() {
        f.add(field, "请填写身份证号码");
        return None;
    }
    match IdNumber::parse(&cleaned, today) {
        Ok(id) => Some(id),
        Err(e) => {
            f.add(field, format!("身份证号码有误：{e}"));
            None
        }
    }
}

/// The ID number a field holds, if it is a valid one (to look it up before the whole form
/// is checked).
pub fn peek_id_number(raw: &str, today: NaiveDate) -> Option<IdNumber> {
    parse_id_number(&mut FieldErrors::new(), "id_number", raw, today)
}

/// A yuan amount for a field; negative amounts are refused.
fn yuan(f: &mut FieldErrors, field: &str, label: &str, raw: &str) -> Option<Fen> {
    let t = raw.trim().replace([',', '，'], "");
    if t.is_empty() {
        f.add(field, format!("请填写{label}"));
        return None;
    }
    match Fen::parse_yuan(&t) {
        Ok(v) if !v.is_negative() => Some(v),
        Ok(_) => {
            f.add(field, format!("{label}不能为负数"));
            None
        }
        Err(_) => {
            f.add(
                field,
                format!("{label}“{t}”不是有效金额（单位元，最多两位小数）"),
            );
            None
        }
    }
}

/// The member an income or asset belongs to (empty: the household as a whole).
fn member_ref(f: &mut FieldErrors, members: &[Person], raw: &str) -> Option<i64> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<i64>() {
        Ok(id) if members.iter().any(|m| m.id == id) => Some(id),
        _ => {
            f.add("person_id", "所选成员不属于本户");
            None
        }
    }
}

// ---------------------------------------------------------------- members

/// Checks a member's fields, adding every problem to `f`. Returns the typed member when
/// every field needed for one parsed (`f` may still hold problems of other fields).
pub fn parse_person_fields(
    f: &mut FieldErrors,
    p: &PersonInput,
    today: NaiveDate,
) -> Option<NewPerson> {
    let name = p.name.trim().to_string();
    check_name(f, "name", &name);
    let id = parse_id_number(f, "id_number", &p.id_number, today);
    let relation = coded(
        f,
        "relation",
        "与户主关系",
        &p.relation,
        Relation::parse_input,
        Relation::choices,
        None,
    );
    let counted = if p.counted.trim().is_empty() {
        Some(true)
    } else {
        let v = parse_yes_no(&p.counted).or(match p.counted.trim() {
            "on" => Some(true),
            _ => None,
        });
        if v.is_none() {
            f.add("counted", "是否共同生活成员请填写“是”或“否”");
        }
        v
    };
    let exclusion_reason = if p.exclusion_reason.trim().is_empty() {
        None
    } else {
        coded(
            f,
            "exclusion_reason",
            "不计入原因",
            &p.exclusion_reason,
            ExclusionReason::parse_input,
            ExclusionReason::choices,
            None,
        )
    };
    if counted == Some(false) && exclusion_reason.is_none() && p.exclusion_reason.trim().is_empty()
    {
        f.add(
            "exclusion_reason",
            "不计入共同生活成员时，必须选择不计入原因",
        );
    }
    let disability_type = coded(
        f,
        "disability_type",
        "残疾类别",
        &p.disability_type,
        DisabilityType::parse_input,
        DisabilityType::choices,
        Some(DisabilityType::None),
    );
    let grade_raw = p
        .disability_grade
        .trim()
        .trim_end_matches('级')
        .trim_start_matches(['一', '二', '三', '四'])
        .to_string();
    let grade_txt = match p.disability_grade.trim().trim_end_matches('级') {
        "一" => "1".to_string(),
        "二" => "2".to_string(),
        "三" => "3".to_string(),
        "四" => "4".to_string(),
        _ => grade_raw,
    };
    let disability_grade = if grade_txt.is_empty() {
        None
    } else {
        match grade_txt.parse::<i64>() {
            Ok(g @ 1..=4) => Some(g),
            _ => {
                f.add("disability_grade", "残疾等级应为1至4级");
                None
            }
        }
    };
    if disability_type.is_some_and(|d| d != DisabilityType::None) && disability_grade.is_none() {
        f.add("disability_grade", "有残疾类别时请填写残疾等级(1至4级)");
    }
    if disability_type == Some(DisabilityType::None) && disability_grade.is_some() {
        f.add("disability_grade", "残疾类别为“无”时不应填写残疾等级");
    }
    let health = coded(
        f,
        "health",
        "健康状况",
        &p.health,
        Health::parse_input,
        Health::choices,
        Some(Health::Healthy),
    );
    let work_capacity = coded(
        f,
        "work_capacity",
        "劳动能力",
        &p.work_capacity,
        WorkCapacity::parse_input,
        WorkCapacity::choices,
        Some(WorkCapacity::Full),
    );
    let employment = coded(
        f,
        "employment",
        "就业状况",
        &p.employment,
        Employment::parse_input,
        Employment::choices,
        Some(Employment::Other),
    );
    let status = coded(
        f,
        "status",
        "人员状态",
        &p.status,
        PersonStatus::parse_input,
        PersonStatus::choices,
        Some(PersonStatus::Active),
    );
    let status_date = if p.status_date.trim().is_empty() {
        None
    } else {
        match parse_flexible_date(&p.status_date) {
            Some(d) if d <= today => Some(d),
            Some(_) => {
                f.add("status_date", "状态变更日期不能晚于今天");
                None
            }
            None => {
                f.add(
                    "status_date",
                    format!(
                        "日期“{}”无法识别，请写成 2024-01-05 的形式",
                        p.status_date.trim()
                    ),
                );
                None
            }
        }
    };
    if matches!(
        status,
        Some(PersonStatus::Deceased | PersonStatus::MovedOut)
    ) && status_date.is_none()
        && p.status_date.trim().is_empty()
    {
        f.add("status_date", "迁出或死亡时请填写状态变更日期");
    }
    Some(NewPerson {
        id: id?,
        name,
        relation: relation?,
        counted: counted?,
        exclusion_reason: if counted == Some(true) {
            None
        } else {
            exclusion_reason
        },
        disability_type: disability_type?,
        disability_grade,
        health: health?,
        work_capacity: work_capacity?,
        employment: employment?,
        status: status?,
        status_date,
    })
}

/// Checks a member form on `today`.
pub fn parse_person_form(p: &PersonInput, today: NaiveDate) -> Result<NewPerson, FieldErrors> {
    let mut f = FieldErrors::new();
    let person = parse_person_fields(&mut f, p, today);
    finish(f, person)
}

/// `Ok(value)` when no field had a problem.
fn finish<T>(f: FieldErrors, value: Option<T>) -> Result<T, FieldErrors> {
    f.finish()?;
    // Every field that yields no value adds a problem, so a clean form has its value.
    value.ok_or_else(|| FieldErrors::one("form", "表单不完整"))
}

/// Checks a member to add to a household (who cannot be its second head).
pub fn parse_new_member(p: &PersonInput, today: NaiveDate) -> Result<NewPerson, FieldErrors> {
    let mut f = FieldErrors::new();
    let person = parse_person_fields(&mut f, p, today);
    if person
        .as_ref()
        .is_some_and(|p| p.relation == Relation::Head)
    {
        f.add("relation", "该户已有户主；如需更换户主，请修改原户主的关系");
    }
    finish(f, person)
}

/// Checks an edit of `before`, one of `members`. The ID number may be corrected (unless
/// `id_taken`: it is registered to another person); the relation "户主" makes this person
/// the head once the previous head has another relation.
pub fn parse_person_update(
    p: &PersonInput,
    before: &Person,
    members: &[Person],
    id_taken: bool,
    today: NaiveDate,
) -> Result<NewPerson, FieldErrors> {
    let mut f = FieldErrors::new();
    let person = parse_person_fields(&mut f, p, today);
    if let Some(p) = &person {
        let other_head = members
            .iter()
            .any(|m| m.id != before.id && m.relation == Relation::Head);
        if p.relation == Relation::Head && other_head {
            f.add("relation", "该户已有户主；请先把原户主改为其他关系");
        }
        if before.relation == Relation::Head && p.relation != Relation::Head {
            f.add("relation", "户主不能直接改为其他关系；请先指定新户主");
        }
        if p.id.as_str() != before.id_number && id_taken {
            f.add("id_number", "该身份证号码已登记给另一人");
        }
    }
    finish(f, person)
}

/// Where a person added to a household already is, when the ID number is registered.
#[derive(Debug, Clone, Copy)]
pub struct Registered<'a> {
    pub person_id: i64,
    pub household_id: i64,
    /// Their household, or `None` when it lies outside the actor's scope.
    pub household: Option<&'a Household>,
}

/// How a member joins a household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberAddition {
    /// Not registered anywhere yet.
    New,
    /// Registered in another household of the actor's scope: the person moves here.
    MoveFrom { person_id: i64, household_id: i64 },
}

/// Decides how `person` joins household `household_id`. A person is registered once
/// city-wide: one registered elsewhere in the actor's scope moves, unless they head that
/// household.
pub fn member_addition(
    household_id: i64,
    person: &NewPerson,
    registered: Option<Registered<'_>>,
) -> Result<MemberAddition, FieldRefusal> {
    let refuse = |message| FieldRefusal {
        field: "id_number",
        message,
    };
    match registered {
        None => Ok(MemberAddition::New),
        Some(r) if r.household_id == household_id => Err(refuse("该成员已在本户中")),
        Some(Registered {
            household: None, ..
        }) => Err(refuse(
            "该身份证号码已在其他辖区登记，请联系其户籍所在地民政办迁出后再添加",
        )),
        Some(Registered {
            household: Some(h), ..
        }) if h.head_id_number == person.id.as_str() => {
            Err(refuse("此人是另一户的户主，请先在该户更换户主"))
        }
        Some(r) => Ok(MemberAddition::MoveFrom {
            person_id: r.person_id,
            household_id: r.household_id,
        }),
    }
}

// ---------------------------------------------------------------- households

/// Checks a new household and its head. `scope` is the actor's: the village must lie in it.
pub fn parse_new_household(
    input: &NewHousehold,
    facts: HouseholdFacts,
    scope: &Scope,
    today: NaiveDate,
) -> Result<NewHouseholdForm, FieldErrors> {
    let mut f = FieldErrors::new();
    let village = check_village(&mut f, &input.village_code, scope, facts.village_exists);
    let rt = coded(
        &mut f,
        "registration_type",
        "户籍类型",
        &input.registration_type,
        RegistrationType::parse_input,
        RegistrationType::choices,
        None,
    );
    let head_name = input.head_name.trim().to_string();
    check_name(&mut f, "head_name", &head_name);
    let head_id = parse_id_number(&mut f, "head_id_number", &input.head_id_number, today);
    check_phone(&mut f, input.phone.trim());
    check_account(&mut f, input.account_number.trim());
    check_address(&mut f, input.address.trim());
    if head_id.is_some() && facts.head_registered {
        f.add(
            "head_id_number",
            "该身份证号码已登记在其他户中（每人只能登记一次），请在原户中办理迁移",
        );
    }
    let form = match (village, rt, head_id) {
        (Some(village_code), Some(registration_type), Some(id)) => Some(NewHouseholdForm {
            household: HouseholdFields {
                village_code,
                registration_type,
                address: input.address.trim().into(),
                phone: input.phone.trim().into(),
                bank_name: input.bank_name.trim().into(),
                account_number: input.account_number.trim().into(),
                account_holder: input.account_holder.trim().into(),
            },
            head: NewPerson::head(id, head_name),
        }),
        _ => None,
    };
    finish(f, form)
}

/// Checks a household's new fields; an empty status keeps `current`.
pub fn parse_household_update(
    upd: &HouseholdUpdate,
    village_exists: bool,
    scope: &Scope,
    current: HouseholdStatus,
) -> Result<HouseholdChange, FieldErrors> {
    let mut f = FieldErrors::new();
    let village = check_village(&mut f, &upd.village_code, scope, village_exists);
    let rt = coded(
        &mut f,
        "registration_type",
        "户籍类型",
        &upd.registration_type,
        RegistrationType::parse_input,
        RegistrationType::choices,
        None,
    );
    let status = coded(
        &mut f,
        "status",
        "户状态",
        &upd.status,
        HouseholdStatus::parse_input,
        HouseholdStatus::choices,
        Some(current),
    );
    check_phone(&mut f, upd.phone.trim());
    check_account(&mut f, upd.account_number.trim());
    check_address(&mut f, upd.address.trim());
    let change = match (village, rt, status) {
        (Some(village_code), Some(registration_type), Some(status)) => Some(HouseholdChange {
            household: HouseholdFields {
                village_code,
                registration_type,
                address: upd.address.trim().into(),
                phone: upd.phone.trim().into(),
                bank_name: upd.bank_name.trim().into(),
                account_number: upd.account_number.trim().into(),
                account_holder: upd.account_holder.trim().into(),
            },
            status,
        }),
        _ => None,
    };
    finish(f, change)
}

// ---------------------------------------------------------------- incomes and assets

/// Checks an income item of a household with these members.
pub fn parse_income_form(
    input: &IncomeInput,
    members: &[Person],
) -> Result<NewIncome, FieldErrors> {
    let mut f = FieldErrors::new();
    let person_id = member_ref(&mut f, members, &input.person_id);
    let kind = coded(
        &mut f,
        "kind",
        "收入类型",
        &input.kind,
        IncomeKind::parse_input,
        IncomeKind::choices,
        None,
    );
    let amount = yuan(&mut f, "amount", "金额", &input.amount);
    let period = coded(
        &mut f,
        "period",
        "收入周期",
        &input.period,
        IncomePeriod::parse_input,
        IncomePeriod::choices,
        Some(IncomePeriod::Monthly),
    );
    let month = |f: &mut FieldErrors, field: &str, raw: &str| -> Option<YearMonth> {
        let t = raw.trim();
        if t.is_empty() {
            return None;
        }
        match t.parse::<YearMonth>() {
            Ok(m) => Some(m),
            Err(_) => {
                f.add(field, format!("月份“{t}”无法识别，请写成 2024-01 的形式"));
                None
            }
        }
    };
    let start_month = month(&mut f, "start_month", &input.start_month);
    let end_month = month(&mut f, "end_month", &input.end_month);
    if let (Some(s), Some(e)) = (start_month, end_month) {
        if e < s {
            f.add("end_month", "结束月份不能早于起始月份");
        }
    }
    if input.note.chars().count() > 200 {
        f.add("note", "备注最长200个字");
    }
    let income = match (kind, amount, period) {
        (Some(kind), Some(amount), Some(period)) => Some(NewIncome {
            person_id,
            kind,
            amount,
            period,
            start_month,
            end_month,
            note: input.note.trim().into(),
        }),
        _ => None,
    };
    finish(f, income)
}

/// Checks an asset of a household with these members.
pub fn parse_asset_form(input: &AssetInput, members: &[Person]) -> Result<NewAsset, FieldErrors> {
    let mut f = FieldErrors::new();
    let person_id = member_ref(&mut f, members, &input.person_id);
    let kind = coded(
        &mut f,
        "kind",
        "资产类型",
        &input.kind,
        AssetKind::parse_input,
        AssetKind::choices,
        None,
    );
    let value = yuan(&mut f, "value", "价值", &input.value);
    if input.description.chars().count() > 200 {
        f.add("description", "说明最长200个字");
    }
    let asset = match (kind, value) {
        (Some(kind), Some(value)) => Some(NewAsset {
            person_id,
            kind,
            value,
            description: input.description.trim().into(),
        }),
        _ => None,
    };
    finish(f, asset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
    }

    const HEAD: &str = "11010519491231002X";

    #[test]
    fn a_member_form_reports_every_field_at_once() {
        let e = parse_person_form(
            &PersonInput {
                id_number: "1.10105E+17".into(),
                relation: "邻居".into(),
                counted: "否".into(),
                disability_type: "肢体".into(),
                status: "死亡".into(),
                ..Default::default()
            },
            today(),
        )
        .unwrap_err();
        for field in [
            "name",
            "id_number",
            "relation",
            "exclusion_reason",
            "disability_grade",
            "status_date",
        ] {
            assert!(e.get(field).is_some(), "{field}: {e:?}");
        }
        assert!(e.get("id_number").unwrap().contains("文本"));
        let p = parse_person_form(
            &PersonInput {
                name: " 张三 ".into(),
                id_number: HEAD.into(),
                relation: "本人".into(),
                disability_grade: "二级".into(),
                disability_type: "肢体".into(),
                ..Default::default()
            },
            today(),
        )
        .unwrap();
        assert_eq!(
            (p.name.as_str(), p.relation, p.disability_grade),
            ("张三", Relation::Head, Some(2))
        );
        assert!(parse_new_member(
            &PersonInput {
                name: "张三".into(),
                id_number: HEAD.into(),
                relation: "户主".into(),
                ..Default::default()
            },
            today()
        )
        .unwrap_err()
        .get("relation")
        .unwrap()
        .contains("已有户主"));
    }

    #[test]
    fn a_household_form_needs_its_village_in_scope_and_an_unregistered_head() {
        let scope = Scope::of(DivisionCode::parse_native("511802001").unwrap());
        let input = NewHousehold {
            village_code: "511802002001".into(),
            registration_type: "外星".into(),
            head_id_number: HEAD.into(),
            phone: "abc".into(),
            ..Default::default()
        };
        assert_eq!(village_to_check(&input.village_code, &scope), None);
        let e = parse_new_household(
            &input,
            HouseholdFacts {
                village_exists: true,
                head_registered: true,
            },
            &scope,
            today(),
        )
        .unwrap_err();
        assert!(e.get("village_code").unwrap().contains("管辖范围"));
        assert!(e.get("registration_type").unwrap().contains("无法识别"));
        assert!(e.get("head_id_number").unwrap().contains("已登记"));
        assert!(e.get("head_name").is_some() && e.get("phone").is_some());
        let ok = NewHousehold {
            village_code: "511802001001".into(),
            registration_type: "农村".into(),
            head_name: "张三".into(),
            head_id_number: HEAD.into(),
            ..Default::default()
        };
        assert_eq!(
            village_to_check(&ok.village_code, &scope),
            Some("511802001001")
        );
        let e = parse_new_household(&ok, HouseholdFacts::default(), &scope, today()).unwrap_err();
        assert_eq!(e.get("village_code"), Some("区划代码511802001001不存在"));
        let form = parse_new_household(
            &ok,
            HouseholdFacts {
                village_exists: true,
                head_registered: false,
            },
            &scope,
            today(),
        )
        .unwrap();
        assert_eq!(form.household.township_code(), "511802001");
        assert_eq!(form.head.relation, Relation::Head);
    }

    #[test]
    fn incomes_are_yuan_of_a_member_between_months() {
        let e = parse_income_form(
            &IncomeInput {
                person_id: "7".into(),
                kind: "工资性收入".into(),
                amount: "-5".into(),
                start_month: "2025-03".into(),
                end_month: "2025-01".into(),
                ..Default::default()
            },
            &[],
        )
        .unwrap_err();
        assert!(e.get("amount").unwrap().contains("负数"));
        assert_eq!(e.get("person_id"), Some("所选成员不属于本户"));
        assert_eq!(e.get("end_month"), Some("结束月份不能早于起始月份"));
        let i = parse_income_form(
            &IncomeInput {
                kind: "工资".into(),
                amount: "2,500.50".into(),
                ..Default::default()
            },
            &[],
        )
        .unwrap();
        assert_eq!((i.amount, i.period), (Fen(250_050), IncomePeriod::Monthly));
        let a = parse_asset_form(
            &AssetInput {
                kind: "存款".into(),
                value: "10000".into(),
                ..Default::default()
            },
            &[],
        )
        .unwrap();
        assert_eq!(a.value, Fen(1_000_000));
    }
}
