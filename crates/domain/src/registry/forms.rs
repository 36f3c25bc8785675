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
    /// The head's 健康状况: asked, never assumed.
    #[serde(default)]
    pub head_health: String,
    /// The head's 劳动能力: asked, never assumed.
    #[serde(default)]
    pub head_work_capacity: String,
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

/// A correction of a member's circumstances (the fields that decide eligibility); the
/// name, relation and ID number (with the gender and birth date it encodes) stay as they
/// are. `reason` (修改原因) is required.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct MemberCorrection {
    /// 是/否.
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
    /// Empty keeps the member's status.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub status_date: String,
    #[serde(default)]
    pub reason: String,
}

impl MemberCorrection {
    /// The form as it stands for `p` (what the edit form shows before anything is typed).
    pub fn of(p: &Person) -> MemberCorrection {
        MemberCorrection {
            counted: if p.counted { "是" } else { "否" }.into(),
            exclusion_reason: p
                .exclusion_reason
                .map(|e| e.as_str().to_string())
                .unwrap_or_default(),
            disability_type: p.disability_type.as_str().into(),
            disability_grade: p
                .disability_grade
                .map(|g| g.to_string())
                .unwrap_or_default(),
            health: p.health.as_str().into(),
            work_capacity: p.work_capacity.as_str().into(),
            employment: p.employment.as_str().into(),
            status: p.status.as_str().into(),
            status_date: p.status_date.clone().unwrap_or_default(),
            reason: String::new(),
        }
    }
}

/// Why a record is removed (删除原因).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Removal {
    #[serde(default)]
    pub reason: String,
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
    /// 修改原因, required when an existing item is corrected (ignored when one is added).
    #[serde(default)]
    pub reason: String,
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
    /// 修改原因, required when an existing asset is corrected (ignored when one is added).
    #[serde(default)]
    pub reason: String,
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
    /// The head of a newly registered household with the health and work capacity the
    /// form asked for, and no disability, counted, active.
    pub fn head(
        id: IdNumber,
        name: String,
        health: Health,
        work_capacity: WorkCapacity,
    ) -> NewPerson {
        NewPerson {
            id,
            name,
            relation: Relation::Head,
            counted: true,
            exclusion_reason: None,
            disability_type: DisabilityType::None,
            disability_grade: None,
            health,
            work_capacity,
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

/// Checks a member's fields as a ledger row states them, adding every problem to `f`: an
/// empty health or work-capacity cell reads as 健康 / 有劳动能力, as the ledgers mean it.
/// Returns the typed member when every field needed for one parsed (`f` may still hold
/// problems of other fields).
pub fn parse_person_fields(
    f: &mut FieldErrors,
    p: &PersonInput,
    today: NaiveDate,
) -> Option<NewPerson> {
    person_fields(f, p, today, false)
}

/// The longest 修改原因 / 删除原因, in characters.
pub const REASON_MAX: usize = 200;

/// A correction's or removal's reason: required, at most [`REASON_MAX`] characters.
fn check_reason(f: &mut FieldErrors, raw: &str, removal: bool) -> Option<String> {
    let t = raw.trim();
    let what = if removal {
        "删除原因"
    } else {
        "修改原因"
    };
    if t.is_empty() {
        f.add("reason", format!("请填写{what}"));
        None
    } else if t.chars().count() > REASON_MAX {
        f.add("reason", format!("{what}最长{REASON_MAX}个字"));
        None
    } else {
        Some(t.to_string())
    }
}

/// Checks a member's fields; with `ask`, a form's: the fields that decide eligibility
/// (健康状况, 劳动能力) must be chosen, never assumed.
fn person_fields(
    f: &mut FieldErrors,
    p: &PersonInput,
    today: NaiveDate,
    ask: bool,
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
        (!ask).then_some(Health::Healthy),
    );
    let work_capacity = coded(
        f,
        "work_capacity",
        "劳动能力",
        &p.work_capacity,
        WorkCapacity::parse_input,
        WorkCapacity::choices,
        (!ask).then_some(WorkCapacity::Full),
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
    let person = person_fields(&mut f, p, today, true);
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
    let person = person_fields(&mut f, p, today, true);
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
    let person = person_fields(&mut f, p, today, true);
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
    let head_health = coded(
        &mut f,
        "head_health",
        "户主健康状况",
        &input.head_health,
        Health::parse_input,
        Health::choices,
        None,
    );
    let head_work_capacity = coded(
        &mut f,
        "head_work_capacity",
        "户主劳动能力",
        &input.head_work_capacity,
        WorkCapacity::parse_input,
        WorkCapacity::choices,
        None,
    );
    check_phone(&mut f, input.phone.trim());
    check_account(&mut f, input.account_number.trim());
    check_address(&mut f, input.address.trim());
    if head_id.is_some() && facts.head_registered {
        f.add(
            "head_id_number",
            "该身份证号码已登记在其他户中（每人只能登记一次），请在原户中办理迁移",
        );
    }
    let form = match (village, rt, head_id, head_health, head_work_capacity) {
        (Some(village_code), Some(registration_type), Some(id), Some(health), Some(capacity)) => {
            Some(NewHouseholdForm {
                household: HouseholdFields {
                    village_code,
                    registration_type,
                    address: input.address.trim().into(),
                    phone: input.phone.trim().into(),
                    bank_name: input.bank_name.trim().into(),
                    account_number: input.account_number.trim().into(),
                    account_holder: input.account_holder.trim().into(),
                },
                head: NewPerson::head(id, head_name, health, capacity),
            })
        }
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
    let income = income_fields(&mut f, input, members);
    finish(f, income)
}

/// Checks a correction of an income item: the item as it is to be, and its reason.
pub fn parse_income_correction(
    input: &IncomeInput,
    members: &[Person],
) -> Result<(NewIncome, String), FieldErrors> {
    let mut f = FieldErrors::new();
    let income = income_fields(&mut f, input, members);
    let reason = check_reason(&mut f, &input.reason, false);
    finish(f, income.zip(reason))
}

/// Checks a correction of an asset: the asset as it is to be, and its reason.
pub fn parse_asset_correction(
    input: &AssetInput,
    members: &[Person],
) -> Result<(NewAsset, String), FieldErrors> {
    let mut f = FieldErrors::new();
    let asset = asset_fields(&mut f, input, members);
    let reason = check_reason(&mut f, &input.reason, false);
    finish(f, asset.zip(reason))
}

/// Checks the reason a record is removed.
pub fn parse_removal(r: &Removal) -> Result<String, FieldErrors> {
    let mut f = FieldErrors::new();
    let reason = check_reason(&mut f, &r.reason, true);
    finish(f, reason)
}

/// Checks a correction of `before`'s circumstances: the member as they are to be (name,
/// relation and ID number unchanged), and the reason.
pub fn parse_member_correction(
    input: &MemberCorrection,
    before: &Person,
    today: NaiveDate,
) -> Result<(NewPerson, String), FieldErrors> {
    let mut f = FieldErrors::new();
    let as_input = PersonInput {
        name: before.name.clone(),
        id_number: before.id_number.clone(),
        relation: before.relation.as_str().into(),
        counted: input.counted.clone(),
        exclusion_reason: input.exclusion_reason.clone(),
        disability_type: input.disability_type.clone(),
        disability_grade: input.disability_grade.clone(),
        health: input.health.clone(),
        work_capacity: input.work_capacity.clone(),
        employment: input.employment.clone(),
        status: if input.status.trim().is_empty() {
            before.status.as_str().into()
        } else {
            input.status.clone()
        },
        status_date: input.status_date.clone(),
    };
    let person = person_fields(&mut f, &as_input, today, true);
    let reason = check_reason(&mut f, &input.reason, false);
    // The fields taken over unchanged cannot fail unless the stored record is damaged.
    for kept in ["name", "id_number", "relation"] {
        if let Some(m) = f.get(kept).map(str::to_string) {
            f.add("form", format!("该成员的登记信息有误，请联系管理员：{m}"));
        }
    }
    finish(f, person.zip(reason))
}

/// What else the registry and the money hold about a person (the application counts them
/// before a removal).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PersonTraces {
    /// Cases, enrolments, payroll lines and funeral records naming the person.
    pub history: i64,
    /// Moves between households on record.
    pub moves: i64,
    /// Incomes and assets registered to the person.
    pub items: i64,
}

/// Whether `p` may be removed from the registry (a record entered by mistake): never the
/// head, never anyone the case files or the money name, nor anyone with incomes or assets
/// still registered to them. The refusal says what to do instead.
pub fn member_removal(p: &Person, traces: PersonTraces) -> Result<(), String> {
    if p.relation == Relation::Head {
        return Err("户主不能删除：请先更换户主（把另一位成员的“与户主关系”改为户主），再删除此人；户主已迁出或死亡的，请点“修改”把人员状态改为“迁出”或“死亡”".into());
    }
    if traces.history > 0 || traces.moves > 0 {
        return Err(format!(
            "{}有救助案件、保障、发放或迁移记录，这些记录要留档，不能删除；已迁出或死亡的，请点“修改”把人员状态改为“迁出”或“死亡”",
            p.name
        ));
    }
    if traces.items > 0 {
        return Err(format!(
            "{}名下还登记有收入或财产：请先删除或修改这些收入、财产，再删除此人",
            p.name
        ));
    }
    Ok(())
}

/// The fields of an income item.
fn income_fields(
    f: &mut FieldErrors,
    input: &IncomeInput,
    members: &[Person],
) -> Option<NewIncome> {
    let person_id = member_ref(f, members, &input.person_id);
    let kind = coded(
        f,
        "kind",
        "收入类型",
        &input.kind,
        IncomeKind::parse_input,
        IncomeKind::choices,
        None,
    );
    let amount = yuan(f, "amount", "金额", &input.amount);
    let period = coded(
        f,
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
    let start_month = month(f, "start_month", &input.start_month);
    let end_month = month(f, "end_month", &input.end_month);
    if let (Some(s), Some(e)) = (start_month, end_month) {
        if e < s {
            f.add("end_month", "结束月份不能早于起始月份");
        }
    }
    if input.note.chars().count() > 200 {
        f.add("note", "备注最长200个字");
    }
    match (kind, amount, period) {
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
    }
}

/// Checks an asset of a household with these members.
pub fn parse_asset_form(input: &AssetInput, members: &[Person]) -> Result<NewAsset, FieldErrors> {
    let mut f = FieldErrors::new();
    let asset = asset_fields(&mut f, input, members);
    finish(f, asset)
}

/// The fields of an asset.
fn asset_fields(f: &mut FieldErrors, input: &AssetInput, members: &[Person]) -> Option<NewAsset> {
    let person_id = member_ref(f, members, &input.person_id);
    let kind = coded(
        f,
        "kind",
        "资产类型",
        &input.kind,
        AssetKind::parse_input,
        AssetKind::choices,
        None,
    );
    let value = yuan(f, "value", "价值", &input.value);
    if input.description.chars().count() > 200 {
        f.add("description", "说明最长200个字");
    }
    match (kind, value) {
        (Some(kind), Some(value)) => Some(NewAsset {
            person_id,
            kind,
            value,
            description: input.description.trim().into(),
        }),
        _ => None,
    }
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
                health: "残疾".into(),
                work_capacity: "部分丧失".into(),
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
                health: "健康".into(),
                work_capacity: "有劳动能力".into(),
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
        assert_eq!(e.get("head_health"), Some("请选择户主健康状况"));
        assert_eq!(e.get("head_work_capacity"), Some("请选择户主劳动能力"));
        let ok = NewHousehold {
            village_code: "511802001001".into(),
            registration_type: "农村".into(),
            head_name: "张三".into(),
            head_id_number: HEAD.into(),
            head_health: "慢性病".into(),
            head_work_capacity: "无劳动能力".into(),
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
        assert_eq!(
            (form.head.health, form.head.work_capacity),
            (Health::Chronic, WorkCapacity::None)
        );
    }

    #[test]
    fn a_form_asks_for_health_and_work_capacity_where_a_ledger_row_may_omit_them() {
        let p = PersonInput {
            name: "张三".into(),
            id_number: HEAD.into(),
            relation: "子女".into(),
            ..Default::default()
        };
        let e = parse_new_member(&p, today()).unwrap_err();
        assert_eq!(e.get("health"), Some("请选择健康状况"));
        assert_eq!(e.get("work_capacity"), Some("请选择劳动能力"));
        let mut f = FieldErrors::new();
        let row = parse_person_fields(&mut f, &p, today()).unwrap();
        assert!(f.finish().is_ok());
        assert_eq!(
            (row.health, row.work_capacity),
            (Health::Healthy, WorkCapacity::Full)
        );
    }

    fn stored(relation: Relation) -> Person {
        Person {
            id: 7,
            household_id: 1,
            id_number: HEAD.into(),
            name: "张三".into(),
            gender: "女".into(),
            birth_date: "1949-12-31".into(),
            relation,
            counted: true,
            exclusion_reason: None,
            disability_type: DisabilityType::None,
            disability_grade: None,
            health: Health::Healthy,
            work_capacity: WorkCapacity::Full,
            employment: Employment::Farming,
            status: PersonStatus::Active,
            status_date: None,
            head_name: "张三".into(),
            village_name: String::new(),
        }
    }

    #[test]
    fn a_member_correction_keeps_the_identity_and_needs_a_reason() {
        let before = stored(Relation::Spouse);
        let mut c = MemberCorrection::of(&before);
        c.health = "".into();
        c.reason = "  ".into();
        let e = parse_member_correction(&c, &before, today()).unwrap_err();
        assert_eq!(e.get("health"), Some("请选择健康状况"));
        assert_eq!(e.get("reason"), Some("请填写修改原因"));
        c.reason = "字".repeat(REASON_MAX + 1);
        c.health = "serious".into();
        let e = parse_member_correction(&c, &before, today()).unwrap_err();
        assert_eq!(e.get("reason"), Some("修改原因最长200个字"));
        c.reason = "入户核查发现患尿毒症".into();
        c.work_capacity = "无".into();
        let (p, reason) = parse_member_correction(&c, &before, today()).unwrap();
        assert_eq!(reason, "入户核查发现患尿毒症");
        assert_eq!((p.name.as_str(), p.relation), ("张三", Relation::Spouse));
        assert_eq!(
            (p.health, p.work_capacity),
            (Health::Serious, WorkCapacity::None)
        );
        assert_eq!(p.employment, Employment::Farming);
        c.status = "死亡".into();
        let e = parse_member_correction(&c, &before, today()).unwrap_err();
        assert!(e.get("status_date").is_some());
    }

    #[test]
    fn income_and_asset_corrections_and_removals_need_a_reason() {
        let income = IncomeInput {
            kind: "工资".into(),
            amount: "800".into(),
            ..Default::default()
        };
        let e = parse_income_correction(&income, &[]).unwrap_err();
        assert_eq!(e.get("reason"), Some("请填写修改原因"));
        let (i, r) = parse_income_correction(
            &IncomeInput {
                reason: "工资条核实为800元".into(),
                ..income
            },
            &[],
        )
        .unwrap();
        assert_eq!((i.amount, r.as_str()), (Fen(80_000), "工资条核实为800元"));
        let e = parse_asset_correction(&AssetInput::default(), &[]).unwrap_err();
        assert!(e.get("reason").is_some() && e.get("kind").is_some());
        let e = parse_removal(&Removal::default()).unwrap_err();
        assert_eq!(e.get("reason"), Some("请填写删除原因"));
        assert_eq!(
            parse_removal(&Removal {
                reason: " 重复登记 ".into()
            })
            .unwrap(),
            "重复登记"
        );
    }

    #[test]
    fn the_head_and_anyone_with_a_history_stay_in_the_registry() {
        let head = stored(Relation::Head);
        assert!(member_removal(&head, PersonTraces::default())
            .unwrap_err()
            .contains("更换户主"));
        let child = stored(Relation::Child);
        assert!(member_removal(&child, PersonTraces::default()).is_ok());
        let e = member_removal(
            &child,
            PersonTraces {
                history: 1,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.contains("迁出") && e.contains("死亡"), "{e}");
        let e = member_removal(
            &child,
            PersonTraces {
                items: 2,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.contains("收入或财产"), "{e}");
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

    fn scope() -> Scope {
        Scope::of(DivisionCode::parse_native("511802001").unwrap())
    }

    fn update() -> HouseholdUpdate {
        HouseholdUpdate {
            village_code: "511802001001".into(),
            registration_type: "农村".into(),
            address: "一组12号".into(),
            phone: "(0835) 222-3333 转8".into(),
            bank_name: "农业银行".into(),
            account_number: "62284800000000000000000000000001".into(),
            account_holder: "张三".into(),
            status: String::new(),
        }
    }

    #[test]
    fn a_households_phone_account_and_address_have_their_limits() {
        let ok =
            parse_household_update(&update(), true, &scope(), HouseholdStatus::Closed).unwrap();
        // An empty status keeps the household's own.
        assert_eq!(ok.status, HouseholdStatus::Closed);
        assert_eq!(ok.household.phone, "(0835) 222-3333 转8");
        assert_eq!(ok.household.account_number.len(), 32);
        let mut u = update();
        u.phone = "1".repeat(40);
        u.account_number = String::new();
        u.address = "址".repeat(200);
        u.status = "注销".into();
        let ok = parse_household_update(&u, true, &scope(), HouseholdStatus::Active).unwrap();
        assert_eq!(ok.status, HouseholdStatus::Closed);
        assert_eq!(ok.household.account_number, "");
        u.phone = "1".repeat(41);
        u.account_number = "1".repeat(33);
        u.address = "址".repeat(201);
        let e = parse_household_update(&u, true, &scope(), HouseholdStatus::Active).unwrap_err();
        assert_eq!(
            e.get("phone"),
            Some("联系电话只能包含数字、空格和“-”，最长40个字符")
        );
        assert_eq!(
            e.get("account_number"),
            Some("银行账号只能包含数字，最长32位")
        );
        assert_eq!(e.get("address"), Some("家庭住址最长200个字"));
        assert_eq!(e.len(), 3, "{e}");
        u = update();
        u.phone = "0835-abc".into();
        u.account_number = "6228-4800".into();
        let e = parse_household_update(&u, true, &scope(), HouseholdStatus::Active).unwrap_err();
        assert!(e.get("phone").is_some() && e.get("account_number").is_some());
        assert_eq!(e.len(), 2, "{e}");
    }

    #[test]
    fn a_household_is_filed_under_a_village_not_a_township() {
        let mut u = update();
        u.village_code = "511802001".into();
        let e = parse_household_update(&u, true, &scope(), HouseholdStatus::Active).unwrap_err();
        assert_eq!(e.get("village_code"), Some("村(社区)代码应为12位数字"));
    }

    #[test]
    fn a_heads_name_may_have_50_characters() {
        let mut h = NewHousehold {
            village_code: "511802001001".into(),
            registration_type: "农村".into(),
            head_name: "张".repeat(50),
            head_id_number: HEAD.into(),
            head_health: "健康".into(),
            head_work_capacity: "有劳动能力".into(),
            ..Default::default()
        };
        let facts = HouseholdFacts {
            village_exists: true,
            head_registered: false,
        };
        let form = parse_new_household(&h, facts, &scope(), today()).unwrap();
        assert_eq!(form.head.name.chars().count(), 50);
        h.head_name = "张".repeat(51);
        assert_eq!(
            parse_new_household(&h, facts, &scope(), today())
                .unwrap_err()
                .get("head_name"),
            Some("姓名最长50个字")
        );
    }

    #[test]
    fn an_id_number_is_peeked_only_when_valid() {
        assert_eq!(
            peek_id_number(" 11010519491231002x ", today()).map(|id| id.as_str().to_string()),
            Some(HEAD.to_string())
        );
        assert_eq!(peek_id_number("110105194912310021", today()), None);
        assert_eq!(peek_id_number("", today()), None);
    }

    #[test]
    fn an_income_may_belong_to_a_member_of_the_household() {
        let members = [stored(Relation::Head)];
        let input = |person_id: &str| IncomeInput {
            person_id: person_id.into(),
            kind: "工资".into(),
            amount: "100".into(),
            ..Default::default()
        };
        assert_eq!(
            parse_income_form(&input("7"), &members).unwrap().person_id,
            Some(7)
        );
        assert_eq!(
            parse_income_form(&input(""), &members).unwrap().person_id,
            None
        );
        assert_eq!(
            parse_income_form(&input("8"), &members)
                .unwrap_err()
                .get("person_id"),
            Some("所选成员不属于本户")
        );
    }

    #[test]
    fn a_reason_may_have_200_characters() {
        let r = parse_removal(&Removal {
            reason: "因".repeat(REASON_MAX),
        })
        .unwrap();
        assert_eq!(r.chars().count(), REASON_MAX);
        assert_eq!(
            parse_removal(&Removal {
                reason: "因".repeat(REASON_MAX + 1),
            })
            .unwrap_err()
            .get("reason"),
            Some("删除原因最长200个字")
        );
    }

    fn member(f: impl FnOnce(&mut PersonInput)) -> Result<NewPerson, FieldErrors> {
        let mut p = PersonInput {
            name: "张小三".into(),
            id_number: HEAD.into(),
            relation: "子女".into(),
            health: "健康".into(),
            work_capacity: "有劳动能力".into(),
            ..Default::default()
        };
        f(&mut p);
        parse_person_form(&p, today())
    }

    #[test]
    fn a_checked_box_counts_the_member_and_a_counted_member_has_no_exclusion_reason() {
        let p = member(|p| p.counted = "on".into()).unwrap();
        assert!(p.counted);
        let p = member(|p| {
            p.counted = "是".into();
            p.exclusion_reason = "服刑人员".into();
        })
        .unwrap();
        assert_eq!((p.counted, p.exclusion_reason), (true, None));
        let p = member(|p| {
            p.counted = "否".into();
            p.exclusion_reason = "服刑人员".into();
        })
        .unwrap();
        assert!(!p.counted);
        assert!(p.exclusion_reason.is_some());
    }

    #[test]
    fn a_disability_grade_reads_in_chinese_numerals_or_digits() {
        for (typed, grade) in [
            ("一级", 1),
            ("二", 2),
            ("三级", 3),
            ("四级", 4),
            ("1级", 1),
            ("4", 4),
        ] {
            let p = member(|p| {
                p.disability_type = "肢体".into();
                p.disability_grade = typed.into();
            })
            .unwrap();
            assert_eq!(p.disability_grade, Some(grade), "{typed}");
        }
        for typed in ["五级", "0", "5"] {
            assert_eq!(
                member(|p| {
                    p.disability_type = "肢体".into();
                    p.disability_grade = typed.into();
                })
                .unwrap_err()
                .get("disability_grade"),
                Some("残疾等级应为1至4级"),
                "{typed}"
            );
        }
    }

    #[test]
    fn a_status_may_change_today_but_not_tomorrow() {
        let p = member(|p| {
            p.status = "死亡".into();
            p.status_date = "2026-01-01".into();
        })
        .unwrap();
        assert_eq!(p.status_date, Some(today()));
        assert_eq!(
            member(|p| {
                p.status = "迁出".into();
                p.status_date = "2026-01-02".into();
            })
            .unwrap_err()
            .get("status_date"),
            Some("状态变更日期不能晚于今天")
        );
    }

    #[test]
    fn an_edit_keeps_one_head_and_an_id_number_registered_to_nobody_else() {
        let head = stored(Relation::Head);
        let mut spouse = stored(Relation::Spouse);
        spouse.id = 8;
        spouse.id_number = "110101199003074477".into();
        let members = [head.clone(), spouse.clone()];
        let input = |relation: &str, id: &str| PersonInput {
            name: "某人".into(),
            id_number: id.into(),
            relation: relation.into(),
            health: "健康".into(),
            work_capacity: "有劳动能力".into(),
            ..Default::default()
        };
        // The head stays head; the spouse stays spouse, even when the ID number is taken
        // (it is their own).
        assert!(parse_person_update(&input("户主", HEAD), &head, &members, true, today()).is_ok());
        assert!(parse_person_update(
            &input("配偶", &spouse.id_number),
            &spouse,
            &members,
            true,
            today()
        )
        .is_ok());
        // The spouse made head while the head is still head.
        assert_eq!(
            parse_person_update(
                &input("户主", &spouse.id_number),
                &spouse,
                &members,
                false,
                today()
            )
            .unwrap_err()
            .get("relation"),
            Some("该户已有户主；请先把原户主改为其他关系")
        );
        // Once the old head is no longer head, the spouse may be.
        let mut former = head.clone();
        former.relation = Relation::Parent;
        assert!(parse_person_update(
            &input("户主", &spouse.id_number),
            &spouse,
            &[former, spouse.clone()],
            false,
            today()
        )
        .is_ok());
        assert_eq!(
            parse_person_update(&input("子女", HEAD), &head, &members, false, today())
                .unwrap_err()
                .get("relation"),
            Some("户主不能直接改为其他关系；请先指定新户主")
        );
        // A corrected ID number: refused only when it is registered to another person.
        let corrected = input("配偶", "11010519491231002X");
        assert_eq!(
            parse_person_update(&corrected, &spouse, &members, true, today())
                .unwrap_err()
                .get("id_number"),
            Some("该身份证号码已登记给另一人")
        );
        assert!(parse_person_update(&corrected, &spouse, &members, false, today()).is_ok());
    }

    fn household(id: i64, head: &str) -> Household {
        Household {
            id,
            township_code: "511802001".into(),
            village_code: "511802001001".into(),
            village_name: String::new(),
            head_id_number: head.into(),
            head_name: String::new(),
            address: String::new(),
            registration_type: RegistrationType::Rural,
            phone: String::new(),
            bank_name: String::new(),
            account_number: String::new(),
            account_holder: String::new(),
            status: HouseholdStatus::Active,
            member_count: 2,
            updated_at: String::new(),
        }
    }

    #[test]
    fn a_member_registered_elsewhere_moves_unless_here_already_outside_or_a_head() {
        let person = member(|_| {}).unwrap();
        let message = |r: Result<MemberAddition, FieldRefusal>| r.unwrap_err().message;
        assert_eq!(member_addition(1, &person, None), Ok(MemberAddition::New));
        let other = household(2, "110101199003074477");
        let registered = |household_id, household| {
            Some(Registered {
                person_id: 9,
                household_id,
                household,
            })
        };
        assert_eq!(
            member_addition(1, &person, registered(2, Some(&other))),
            Ok(MemberAddition::MoveFrom {
                person_id: 9,
                household_id: 2
            })
        );
        assert_eq!(
            message(member_addition(2, &person, registered(2, Some(&other)))),
            "该成员已在本户中"
        );
        assert_eq!(
            message(member_addition(1, &person, registered(2, None))),
            "该身份证号码已在其他辖区登记，请联系其户籍所在地民政办迁出后再添加"
        );
        let headed = household(2, HEAD);
        assert_eq!(
            message(member_addition(1, &person, registered(2, Some(&headed)))),
            "此人是另一户的户主，请先在该户更换户主"
        );
    }

    #[test]
    fn someone_who_moved_between_households_stays_in_the_registry() {
        let child = stored(Relation::Child);
        let e = member_removal(
            &child,
            PersonTraces {
                moves: 1,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.starts_with("张三有救助案件、保障、发放或迁移记录"), "{e}");
    }

    #[test]
    fn an_income_of_one_month_and_notes_of_200_characters_are_kept() {
        let income = |note: String| IncomeInput {
            kind: "工资".into(),
            amount: "100".into(),
            start_month: "2025-03".into(),
            end_month: "2025-03".into(),
            note,
            ..Default::default()
        };
        let i = parse_income_form(&income("记".repeat(200)), &[]).unwrap();
        assert_eq!((i.start_month, i.end_month), (i.start_month, i.start_month));
        assert!(i.start_month.is_some());
        assert_eq!(
            parse_income_form(&income("记".repeat(201)), &[])
                .unwrap_err()
                .get("note"),
            Some("备注最长200个字")
        );
        let asset = |description: String| AssetInput {
            kind: "存款".into(),
            value: "1".into(),
            description,
            ..Default::default()
        };
        assert!(parse_asset_form(&asset("述".repeat(200)), &[]).is_ok());
        assert_eq!(
            parse_asset_form(&asset("述".repeat(201)), &[])
                .unwrap_err()
                .get("description"),
            Some("说明最长200个字")
        );
    }
}
