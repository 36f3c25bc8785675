//! The household registry (户籍台账): households, their members, incomes and assets.
//!
//! Reads take a [`Scope`]; a household is visible when its village lies inside the scope.
//! Writes take an [`Actor`] and write one audit record per change in the same transaction.
//! ID numbers and accounts in audit records are masked: the log is read by roles that may
//! not see them in full.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use minzheng_domain::registry::{
    is_pinyin_query, mask_account, normalize_id_input, parse_flexible_date, parse_yes_no,
    pinyin_keys, AssetKind, DisabilityType, Employment, ExclusionReason, Health, HouseholdStatus,
    IncomeKind, IncomePeriod, PersonStatus, RegistrationType, Relation, WorkCapacity,
};
use minzheng_domain::{DivisionCode, DivisionLevel, Fen, IdNumber, YearMonth};
use serde::{Deserialize, Serialize};

use crate::audit::{append, AuditEvent};
use crate::db::{q, DbRow, Store, Tx, Q};
use crate::divisions::escape_like;
use crate::error::{StoreError, StoreResult};
use crate::AuditEntry;
use minzheng_domain::{Actor, Scope};

/// A household (户).
#[derive(Debug, Clone, Serialize)]
pub struct Household {
    pub id: i64,
    pub township_code: String,
    pub village_code: String,
    pub village_name: String,
    pub head_id_number: String,
    pub head_name: String,
    pub address: String,
    pub registration_type: RegistrationType,
    pub registration_type_label: &'static str,
    pub phone: String,
    pub bank_name: String,
    pub account_number: String,
    pub account_holder: String,
    pub status: HouseholdStatus,
    pub status_label: &'static str,
    pub member_count: i64,
    pub updated_at: String,
}

impl Household {
    fn from_row(r: &DbRow) -> StoreResult<Self> {
        let rt = RegistrationType::from_code(&r.str("registration_type")?);
        let st = HouseholdStatus::from_code(&r.str("status")?);
        Ok(Household {
            id: r.i64("id")?,
            township_code: r.str("township_code")?,
            village_code: r.str("village_code")?,
            village_name: r.opt_str("village_name")?.unwrap_or_default(),
            head_id_number: r.str("head_id_number")?,
            head_name: r.str("head_name")?,
            address: r.str("address")?,
            registration_type: rt,
            registration_type_label: rt.label(),
            phone: r.str("phone")?,
            bank_name: r.str("bank_name")?,
            account_number: r.str("account_number")?,
            account_holder: r.str("account_holder")?,
            status: st,
            status_label: st.label(),
            member_count: r.i64("member_count")?,
            updated_at: r.str("updated_at")?,
        })
    }

    /// Hides the head's ID number and the account (for roles that may not see them).
    pub fn masked(mut self) -> Self {
        self.head_id_number = mask_id(&self.head_id_number);
        self.account_number = mask_account(&self.account_number);
        self
    }
}

pub use minzheng_domain::mask_id;

/// A person (成员).
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: i64,
    pub household_id: i64,
    pub id_number: String,
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub relation: Relation,
    pub relation_label: &'static str,
    pub counted: bool,
    pub exclusion_reason: Option<ExclusionReason>,
    pub exclusion_reason_label: &'static str,
    pub disability_type: DisabilityType,
    pub disability_type_label: &'static str,
    pub disability_grade: Option<i64>,
    pub health: Health,
    pub health_label: &'static str,
    pub work_capacity: WorkCapacity,
    pub work_capacity_label: &'static str,
    pub employment: Employment,
    pub employment_label: &'static str,
    pub status: PersonStatus,
    pub status_label: &'static str,
    pub status_date: Option<String>,
    /// Filled in by searches.
    pub head_name: String,
    pub village_name: String,
}

impl Person {
    fn from_row(r: &DbRow) -> StoreResult<Self> {
        let relation = Relation::from_code(&r.str("relation")?);
        let ex = r
            .opt_str("exclusion_reason")?
            .filter(|s| !s.is_empty())
            .map(|s| ExclusionReason::from_code(&s));
        let dt = DisabilityType::from_code(&r.str("disability_type")?);
        let health = Health::from_code(&r.str("health")?);
        let wc = WorkCapacity::from_code(&r.str("work_capacity")?);
        let emp = Employment::from_code(&r.str("employment")?);
        let st = PersonStatus::from_code(&r.str("status")?);
        Ok(Person {
            id: r.i64("id")?,
            household_id: r.i64("household_id")?,
            id_number: r.str("id_number")?,
            name: r.str("name")?,
            gender: r.str("gender")?,
            birth_date: r.str("birth_date")?,
            relation,
            relation_label: relation.label(),
            counted: r.bool("counted")?,
            exclusion_reason: ex,
            exclusion_reason_label: ex.map(|e| e.label()).unwrap_or(""),
            disability_type: dt,
            disability_type_label: dt.label(),
            disability_grade: r.opt_i64("disability_grade")?,
            health,
            health_label: health.label(),
            work_capacity: wc,
            work_capacity_label: wc.label(),
            employment: emp,
            employment_label: emp.label(),
            status: st,
            status_label: st.label(),
            status_date: r.opt_str("status_date")?,
            head_name: r.opt_str("head_name")?.unwrap_or_default(),
            village_name: r.opt_str("village_name")?.unwrap_or_default(),
        })
    }

    pub fn masked(mut self) -> Self {
        self.id_number = mask_id(&self.id_number);
        self
    }
}

/// An income item (收入), in fen.
#[derive(Debug, Clone, Serialize)]
pub struct Income {
    pub id: i64,
    pub household_id: i64,
    pub person_id: Option<i64>,
    pub person_name: String,
    pub kind: IncomeKind,
    pub kind_label: &'static str,
    pub amount_fen: i64,
    pub amount_yuan: String,
    pub period: IncomePeriod,
    pub period_label: &'static str,
    pub start_month: Option<String>,
    pub end_month: Option<String>,
    pub note: String,
}

/// An asset (财产), in fen.
#[derive(Debug, Clone, Serialize)]
pub struct Asset {
    pub id: i64,
    pub household_id: i64,
    pub person_id: Option<i64>,
    pub person_name: String,
    pub kind: AssetKind,
    pub kind_label: &'static str,
    pub value_fen: i64,
    pub value_yuan: String,
    pub description: String,
}

/// A household with everything on its page.
#[derive(Debug, Clone, Serialize)]
pub struct HouseholdDetail {
    pub household: Household,
    pub members: Vec<Person>,
    pub incomes: Vec<Income>,
    pub assets: Vec<Asset>,
}

impl HouseholdDetail {
    pub fn masked(self) -> Self {
        HouseholdDetail {
            household: self.household.masked(),
            members: self.members.into_iter().map(Person::masked).collect(),
            ..self
        }
    }
}

/// Filters for the household list.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct HouseholdFilter {
    pub village: Option<String>,
    pub registration_type: Option<String>,
    pub status: Option<String>,
    /// Name, pinyin (`zs`, `zhangsan`), a full ID number, or last four + name.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

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

/// Collects per-field messages, then fails once with all of them.
#[derive(Default)]
pub(crate) struct Fields(BTreeMap<String, String>);

impl Fields {
    pub fn add(&mut self, field: &str, msg: impl Into<String>) {
        self.0
            .entry(field.to_string())
            .or_insert_with(|| msg.into());
    }
    pub fn finish(self) -> StoreResult<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let message = format!(
            "请修改以下{}处错误：{}",
            self.0.len(),
            self.0.values().cloned().collect::<Vec<_>>().join("；")
        );
        Err(StoreError::Validation {
            message,
            fields: self.0,
        })
    }
}

fn coded<T>(
    f: &mut Fields,
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

fn check_phone(f: &mut Fields, phone: &str) {
    if phone.chars().count() > 40
        || !phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '(' | ')' | '+' | '转'))
    {
        f.add("phone", "联系电话只能包含数字、空格和“-”，最长40个字符");
    }
}

fn check_account(f: &mut Fields, acc: &str) {
    if !acc.is_empty() && (acc.len() > 32 || !acc.bytes().all(|b| b.is_ascii_digit())) {
        f.add("account_number", "银行账号只能包含数字，最长32位");
    }
}

fn check_name(f: &mut Fields, field: &str, name: &str) {
    let n = name.chars().count();
    if n == 0 {
        f.add(field, "请填写姓名");
    } else if n > 50 {
        f.add(field, "姓名最长50个字");
    }
}

/// Validated person fields.
#[derive(Debug, Clone)]
pub(crate) struct PersonFields {
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

pub(crate) fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

pub(crate) fn parse_id_field(f: &mut Fields, field: &str, raw: &str) -> Option<IdNumber> {
    parse_id_field_on(f, field, raw, today())
}

/// [`parse_id_field`] against a given today (the import reads the clock once per file).
pub(crate) fn parse_id_field_on(
    f: &mut Fields,
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

pub(crate) fn person_fields(f: &mut Fields, p: &PersonInput) -> Option<PersonFields> {
    person_fields_on(f, p, today())
}

/// [`person_fields`] against a given today.
pub(crate) fn person_fields_on(
    f: &mut Fields,
    p: &PersonInput,
    today: NaiveDate,
) -> Option<PersonFields> {
    let name = p.name.trim().to_string();
    check_name(f, "name", &name);
    let id = parse_id_field_on(f, "id_number", &p.id_number, today);
    let relation = coded(
        f,
        "relation",
        "与户主关系",
        &p.relation,
        Relation::parse,
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
            ExclusionReason::parse,
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
        DisabilityType::parse,
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
        Health::parse,
        Health::choices,
        Some(Health::Healthy),
    );
    let work_capacity = coded(
        f,
        "work_capacity",
        "劳动能力",
        &p.work_capacity,
        WorkCapacity::parse,
        WorkCapacity::choices,
        Some(WorkCapacity::Full),
    );
    let employment = coded(
        f,
        "employment",
        "就业状况",
        &p.employment,
        Employment::parse,
        Employment::choices,
        Some(Employment::Other),
    );
    let status = coded(
        f,
        "status",
        "人员状态",
        &p.status,
        PersonStatus::parse,
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
    Some(PersonFields {
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

/// Parses a yuan amount for a field; negative amounts are refused.
fn yuan(f: &mut Fields, field: &str, label: &str, raw: &str) -> Option<Fen> {
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

const HH_SELECT: &str = "SELECT h.*, v.name AS village_name,
    (SELECT COUNT(*) FROM persons p WHERE p.household_id = h.id AND p.status = 'active') AS member_count
  FROM households h LEFT JOIN divisions v ON v.code = h.village_code";

const PERSON_SELECT: &str = "SELECT p.*, h.head_name AS head_name, v.name AS village_name
  FROM persons p JOIN households h ON h.id = p.household_id
  LEFT JOIN divisions v ON v.code = h.village_code";

/// The SQL condition (on alias `h`) that limits households to the scope, with its bounds.
/// Village-level scopes filter by village code; wider ones by the township column, which
/// is what the (township_code, status) index serves.
fn scope_cond(scope: &Scope, first: usize) -> (String, String, String) {
    let (lo, hi) = scope.bounds();
    let col = match scope.code() {
        Some(c) if c.as_str().len() > 9 => "h.village_code",
        _ => "h.township_code",
    };
    (
        format!("{col} >= ${first} AND {col} < ${}", first + 1),
        lo,
        hi,
    )
}

/// The person search's SQL and its arguments (the LIMIT is the last placeholder).
fn search_sql(scope: &Scope, term: &str, sqlite: bool) -> (String, Vec<String>) {
    let (cond, lo, hi) = scope_cond(scope, 1);
    let mut args = vec![lo, hi];
    let term = classify(term);
    let mut c = person_cond(&term, &mut args);
    if let (Term::Name(name), true) = (&term, sqlite) {
        // Over a county or wider, walking the scope's households and their members costs
        // ~1 s city-wide at 1.2M persons; a pass over the persons themselves finds the
        // matches first. A name's initials are its characters' initials in order
        // (`pinyin_keys` maps each character on its own), so a name containing the part has
        // initials containing the part's: with two or more initials the short entries of
        // persons (name_initials) are scanned instead of the table. Measured city-wide:
        // 张伟 1,240 -> 75 ms, 张 1,378 -> 198 ms (name pass); a township walks its own
        // households (28–35 ms; either pass would cost 100–290 ms there).
        match narrow_name_search(scope, name) {
            Some(Narrow::Initials(ini)) => {
                args.push(format!("%{}%", escape_like(&ini)));
                c.push_str(&format!(
                    " AND p.id IN (SELECT id FROM persons INDEXED BY persons_initials
                                   WHERE name_initials LIKE ${} ESCAPE '\\')",
                    args.len()
                ));
            }
            Some(Narrow::Names) => {
                // The name pattern person_cond pushed last.
                c.push_str(&format!(
                    " AND p.id IN (SELECT id FROM persons WHERE name LIKE ${} ESCAPE '\\')",
                    args.len()
                ));
            }
            None => {}
        }
    }
    let sql = format!(
        "{PERSON_SELECT} WHERE {cond} AND {c} ORDER BY p.name, p.id LIMIT ${}",
        args.len() + 1
    );
    (sql, args)
}

fn bind_all(mut query: Q, args: &[String]) -> Q {
    for a in args {
        query.push(a.as_str());
    }
    query
}

/// What a search term means.
#[derive(Debug, PartialEq, Eq)]
enum Term {
    Id(String),
    Last4Name(String, String),
    Pinyin(String),
    Name(String),
}

fn classify(q: &str) -> Term {
    let t = q.trim();
    if let Ok(cleaned) = normalize_id_input(t) {
        if cleaned.len() == 18 || cleaned.len() == 15 {
            if let Ok(id) = IdNumber::parse(&cleaned, today()) {
                return Term::Id(id.as_str().to_string());
            }
        }
    }
    // "002X张三" or "张三002X" or "张三 002x".
    let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
    let chars: Vec<char> = compact.chars().collect();
    let is_id4 = |s: &[char]| {
        s.len() == 4
            && s[..3].iter().all(|c| c.is_ascii_digit())
            && (s[3].is_ascii_digit() || s[3] == 'X' || s[3] == 'x')
    };
    if chars.len() > 4 {
        if is_id4(&chars[..4]) && !chars[4..].iter().any(|c| c.is_ascii_alphanumeric()) {
            let last4: String = chars[..4].iter().collect::<String>().to_ascii_uppercase();
            return Term::Last4Name(last4, chars[4..].iter().collect());
        }
        let n = chars.len();
        if is_id4(&chars[n - 4..]) && !chars[..n - 4].iter().any(|c| c.is_ascii_alphanumeric()) {
            let last4: String = chars[n - 4..]
                .iter()
                .collect::<String>()
                .to_ascii_uppercase();
            return Term::Last4Name(last4, chars[..n - 4].iter().collect());
        }
    }
    if is_pinyin_query(&compact) {
        return Term::Pinyin(compact.to_ascii_lowercase());
    }
    Term::Name(t.to_string())
}

/// How a name-part search finds its candidates on SQLite (see [`search_sql`]).
#[derive(Debug, PartialEq, Eq)]
enum Narrow {
    /// Persons whose name initials contain these (the part's).
    Initials(String),
    /// Persons whose name contains the part, in one pass over the table.
    Names,
}

/// `None` for a township or village scope (walking its households is quicker).
fn narrow_name_search(scope: &Scope, name: &str) -> Option<Narrow> {
    if scope.code().is_some_and(|c| c.as_str().len() > 6) {
        return None;
    }
    let ini = pinyin_keys(name).1;
    Some(if ini.len() >= 2 {
        Narrow::Initials(ini)
    } else {
        Narrow::Names
    })
}

/// Adds the person-matching condition for a search term (alias `p`), pushing its args.
fn person_cond(term: &Term, args: &mut Vec<String>) -> String {
    match term {
        Term::Id(id) => {
            args.push(id.clone());
            format!("p.id_number = ${}", args.len())
        }
        Term::Last4Name(l4, name) => {
            // The full name is known, so its initials find the few candidates through
            // persons (name_initials); the last four digits and the name pick among them.
            args.push(pinyin_keys(name).1);
            args.push(l4.clone());
            args.push(name.clone());
            format!(
                "p.name_initials = ${} AND p.id_last4 = ${} AND p.name = ${}",
                args.len() - 2,
                args.len() - 1,
                args.len()
            )
        }
        Term::Pinyin(py) => {
            args.push(format!("{}%", escape_like(py)));
            let like = format!(
                "(p.name_initials LIKE ${n} ESCAPE '\\' OR p.name_pinyin LIKE ${n} ESCAPE '\\')",
                n = args.len()
            );
            // Full pinyin and initials both begin with the first syllable's first letter: a
            // range on it lets persons (name_initials) narrow the scan (LIKE itself is
            // case-insensitive and cannot use the index).
            let Some(first) = py.bytes().next().filter(u8::is_ascii_lowercase) else {
                return like;
            };
            args.push((first as char).to_string());
            let mut cond = format!("p.name_initials >= ${}", args.len());
            if first < b'z' {
                args.push(((first + 1) as char).to_string());
                cond.push_str(&format!(" AND p.name_initials < ${}", args.len()));
            }
            format!("{cond} AND {like}")
        }
        Term::Name(name) => {
            args.push(format!("%{}%", escape_like(name)));
            format!("p.name LIKE ${} ESCAPE '\\'", args.len())
        }
    }
}

fn json_household(h: &Household) -> serde_json::Value {
    serde_json::json!({
        "village_code": h.village_code,
        "registration_type": h.registration_type.code(),
        "address": h.address,
        "phone": h.phone,
        "bank_name": h.bank_name,
        "account_number": mask_account(&h.account_number),
        "account_holder": h.account_holder,
        "status": h.status.code(),
        "head_id_number": mask_id(&h.head_id_number),
        "head_name": h.head_name,
    })
}

fn json_person(p: &PersonFields) -> serde_json::Value {
    serde_json::json!({
        "name": p.name,
        "id_number": p.id.masked(),
        "relation": p.relation.code(),
        "counted": p.counted,
        "exclusion_reason": p.exclusion_reason.map(|e| e.code()),
        "disability_type": p.disability_type.code(),
        "disability_grade": p.disability_grade,
        "health": p.health.code(),
        "work_capacity": p.work_capacity.code(),
        "employment": p.employment.code(),
        "status": p.status.code(),
        "status_date": p.status_date.map(|d| d.to_string()),
    })
}

impl Store {
    /// Checks that `village` is a village-level division inside the actor's write scope.
    async fn check_village(
        &self,
        actor: &Actor,
        f: &mut Fields,
        village: &str,
    ) -> StoreResult<Option<String>> {
        let v = village.trim();
        match DivisionCode::parse_native(v) {
            Ok(c) if c.level() == DivisionLevel::Village => {}
            _ => {
                f.add("village_code", "村(社区)代码应为12位数字");
                return Ok(None);
            }
        }
        if !actor.scope.contains_str(v) {
            f.add("village_code", "该村(社区)不在您的管辖范围内");
            return Ok(None);
        }
        let exists = self
            .fetch_optional(q("SELECT code FROM divisions WHERE code = $1").bind(v))
            .await?
            .is_some();
        if !exists {
            f.add("village_code", format!("区划代码{v}不存在"));
            return Ok(None);
        }
        Ok(Some(v.to_string()))
    }

    fn require_write(actor: &Actor) -> StoreResult<()> {
        if !actor.can_write() {
            return Err(StoreError::Forbidden(
                "您的角色只能查看，不能修改户籍台账".into(),
            ));
        }
        Ok(())
    }

    /// Lists households in the scope. Returns the page and the total.
    pub async fn list_households(
        &self,
        scope: &Scope,
        f: &HouseholdFilter,
    ) -> StoreResult<(Vec<Household>, i64)> {
        let (cond, lo, hi) = scope_cond(scope, 1);
        let mut args = vec![lo, hi];
        let mut where_sql = format!(" WHERE {cond}");
        if let Some(v) = f
            .village
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            if !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(StoreError::field("village", "区划代码只能包含数字"));
            }
            args.push(v.to_string());
            args.push(format!("{v}:"));
            where_sql.push_str(&format!(
                " AND h.village_code >= ${} AND h.village_code < ${}",
                args.len() - 1,
                args.len()
            ));
        }
        if let Some(t) = f
            .registration_type
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            let rt = RegistrationType::parse(t).ok_or_else(|| {
                StoreError::field("registration_type", "户籍类型应为“城镇”或“农村”")
            })?;
            args.push(rt.code().to_string());
            where_sql.push_str(&format!(" AND h.registration_type = ${}", args.len()));
        }
        if let Some(s) = f.status.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            let st = HouseholdStatus::parse(s)
                .ok_or_else(|| StoreError::field("status", "户状态应为“正常”或“已注销”"))?;
            args.push(st.code().to_string());
            where_sql.push_str(&format!(" AND h.status = ${}", args.len()));
        }
        if let Some(term) = f.q.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            let t = classify(term);
            let c = person_cond(&t, &mut args);
            where_sql.push_str(&format!(
                " AND h.id IN (SELECT p.household_id FROM persons p WHERE {c})"
            ));
        }
        let total = self
            .fetch_one(bind_all(
                q(format!("SELECT COUNT(*) AS n FROM households h{where_sql}")),
                &args,
            ))
            .await?
            .i64("n")?;
        let mut list_q = bind_all(
            q(format!(
                "{HH_SELECT}{where_sql} ORDER BY h.id LIMIT ${} OFFSET ${}",
                args.len() + 1,
                args.len() + 2
            )),
            &args,
        );
        list_q.push(f.limit.unwrap_or(50).clamp(1, 500));
        list_q.push(f.offset.unwrap_or(0).max(0));
        let rows = self.fetch_all(list_q).await?;
        let list = rows
            .iter()
            .map(Household::from_row)
            .collect::<StoreResult<_>>()?;
        Ok((list, total))
    }

    /// Finds persons by name, pinyin (`zs` → 张三), full ID number, or last four + name.
    pub async fn search_persons(
        &self,
        scope: &Scope,
        term: &str,
        limit: i64,
    ) -> StoreResult<Vec<Person>> {
        if term.trim().is_empty() {
            return Ok(Vec::new());
        }
        let (sql, args) = search_sql(scope, term, !self.is_postgres());
        let mut query = bind_all(q(sql), &args);
        query.push(limit.clamp(1, 200));
        self.fetch_all(query)
            .await?
            .iter()
            .map(Person::from_row)
            .collect()
    }

    async fn household_row(&self, scope: &Scope, id: i64) -> StoreResult<Household> {
        let row = self
            .fetch_optional(q(format!("{HH_SELECT} WHERE h.id = $1")).bind(id))
            .await?
            .ok_or(StoreError::NotFound("该户"))?;
        let h = Household::from_row(&row)?;
        if !scope.contains_str(&h.village_code) {
            return Err(StoreError::NotFound("该户"));
        }
        Ok(h)
    }

    /// One household with members, incomes and assets, if visible.
    pub async fn get_household(&self, scope: &Scope, id: i64) -> StoreResult<HouseholdDetail> {
        let household = self.household_row(scope, id).await?;
        let members = self
            .fetch_all(
                q(format!(
                    "{PERSON_SELECT} WHERE p.household_id = $1
                     ORDER BY CASE p.relation WHEN 'head' THEN 0 ELSE 1 END, p.birth_date, p.id"
                ))
                .bind(id),
            )
            .await?
            .iter()
            .map(Person::from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let incomes = self
            .fetch_all(
                q("SELECT i.*, p.name AS person_name FROM incomes i
                   LEFT JOIN persons p ON p.id = i.person_id
                   WHERE i.household_id = $1 ORDER BY i.id")
                .bind(id),
            )
            .await?
            .iter()
            .map(|r| {
                let kind = IncomeKind::from_code(&r.str("kind")?);
                let period = IncomePeriod::from_code(&r.str("period")?);
                let fen = r.i64("amount_fen")?;
                Ok(Income {
                    id: r.i64("id")?,
                    household_id: r.i64("household_id")?,
                    person_id: r.opt_i64("person_id")?,
                    person_name: r.opt_str("person_name")?.unwrap_or_default(),
                    kind,
                    kind_label: kind.label(),
                    amount_fen: fen,
                    amount_yuan: Fen(fen).yuan_string(),
                    period,
                    period_label: period.label(),
                    start_month: r.opt_str("start_month")?,
                    end_month: r.opt_str("end_month")?,
                    note: r.str("note")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let assets = self
            .fetch_all(
                q("SELECT a.*, p.name AS person_name FROM assets a
                   LEFT JOIN persons p ON p.id = a.person_id
                   WHERE a.household_id = $1 ORDER BY a.id")
                .bind(id),
            )
            .await?
            .iter()
            .map(|r| {
                let kind = AssetKind::from_code(&r.str("kind")?);
                let fen = r.i64("value_fen")?;
                Ok(Asset {
                    id: r.i64("id")?,
                    household_id: r.i64("household_id")?,
                    person_id: r.opt_i64("person_id")?,
                    person_name: r.opt_str("person_name")?.unwrap_or_default(),
                    kind,
                    kind_label: kind.label(),
                    value_fen: fen,
                    value_yuan: Fen(fen).yuan_string(),
                    description: r.str("description")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(HouseholdDetail {
            household,
            members,
            incomes,
            assets,
        })
    }

    /// The change history of a household (its audit records, newest first).
    pub async fn household_history(&self, scope: &Scope, id: i64) -> StoreResult<Vec<AuditEntry>> {
        self.household_row(scope, id).await?;
        self.fetch_all(
            q(
                "SELECT * FROM audit_log WHERE entity_type = 'household' AND entity_id = $1
               ORDER BY seq DESC LIMIT 200",
            )
            .bind(id.to_string()),
        )
        .await?
        .iter()
        .map(crate::audit::entry)
        .collect()
    }

    /// Creates a household with its head.
    pub async fn create_household(
        &self,
        actor: &Actor,
        input: &NewHousehold,
    ) -> StoreResult<HouseholdDetail> {
        Self::require_write(actor)?;
        let mut f = Fields::default();
        let village = self
            .check_village(actor, &mut f, &input.village_code)
            .await?;
        let rt = coded(
            &mut f,
            "registration_type",
            "户籍类型",
            &input.registration_type,
            RegistrationType::parse,
            RegistrationType::choices,
            None,
        );
        let head_name = input.head_name.trim().to_string();
        check_name(&mut f, "head_name", &head_name);
        let head_id = parse_id_field(&mut f, "head_id_number", &input.head_id_number);
        check_phone(&mut f, input.phone.trim());
        check_account(&mut f, input.account_number.trim());
        if input.address.trim().chars().count() > 200 {
            f.add("address", "家庭住址最长200个字");
        }
        if let Some(id) = &head_id {
            if self.person_by_id_number(id.as_str()).await?.is_some() {
                f.add(
                    "head_id_number",
                    "该身份证号码已登记在其他户中（每人只能登记一次），请在原户中办理迁移",
                );
            }
        }
        f.finish()?;
        let (village, rt, head_id) = (
            village.expect("checked"),
            rt.expect("checked"),
            head_id.expect("checked"),
        );
        let now = crate::timestamp(chrono::Utc::now());
        let township = village[..9].to_string();
        let mut tx = self.begin_write().await?;
        let hid = tx
            .fetch_one(
                q("INSERT INTO households (township_code, village_code, head_id_number, head_name,
                    address, registration_type, phone, bank_name, account_number, account_holder,
                    status, created_at, updated_at)
                   VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'active',$11,$11) RETURNING id")
                .bind(township.as_str())
                .bind(village.as_str())
                .bind(head_id.as_str())
                .bind(head_name.as_str())
                .bind(input.address.trim())
                .bind(rt.code())
                .bind(input.phone.trim())
                .bind(input.bank_name.trim())
                .bind(input.account_number.trim())
                .bind(input.account_holder.trim())
                .bind(now.as_str()),
            )
            .await?
            .i64("id")?;
        let head = PersonFields {
            id: head_id,
            name: head_name,
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
        };
        insert_person_row(&mut tx, hid, &township, &head, &now).await?;
        let after = serde_json::json!({"household": {
            "village_code": village, "registration_type": rt.code(), "address": input.address.trim(),
            "phone": input.phone.trim(), "bank_name": input.bank_name.trim(),
            "account_number": mask_account(input.account_number.trim()),
            "account_holder": input.account_holder.trim()}, "head": json_person(&head)});
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "household.create",
                entity_type: "household",
                entity_id: &hid.to_string(),
                scope_code: &village,
                before: None,
                after: Some(after),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_household(&actor.scope, hid).await
    }

    async fn person_by_id_number(&self, id: &str) -> StoreResult<Option<(i64, i64)>> {
        self.fetch_optional(q("SELECT id, household_id FROM persons WHERE id_number = $1").bind(id))
            .await?
            .map(|r| Ok((r.i64("id")?, r.i64("household_id")?)))
            .transpose()
    }

    /// Visible household the actor may change (NotFound outside the scope, Forbidden for
    /// read-only roles).
    async fn writable_household(&self, actor: &Actor, id: i64) -> StoreResult<Household> {
        let h = self.household_row(&actor.scope, id).await?;
        Self::require_write(actor)?;
        Ok(h)
    }

    /// Updates a household's own fields.
    pub async fn update_household(
        &self,
        actor: &Actor,
        id: i64,
        upd: &HouseholdUpdate,
    ) -> StoreResult<HouseholdDetail> {
        let before = self.writable_household(actor, id).await?;
        let mut f = Fields::default();
        let village = self.check_village(actor, &mut f, &upd.village_code).await?;
        let rt = coded(
            &mut f,
            "registration_type",
            "户籍类型",
            &upd.registration_type,
            RegistrationType::parse,
            RegistrationType::choices,
            None,
        );
        let status = coded(
            &mut f,
            "status",
            "户状态",
            &upd.status,
            HouseholdStatus::parse,
            HouseholdStatus::choices,
            Some(before.status),
        );
        check_phone(&mut f, upd.phone.trim());
        check_account(&mut f, upd.account_number.trim());
        if upd.address.trim().chars().count() > 200 {
            f.add("address", "家庭住址最长200个字");
        }
        f.finish()?;
        let (village, rt, status) = (
            village.expect("checked"),
            rt.expect("checked"),
            status.expect("checked"),
        );
        let township = village[..9].to_string();
        let mut tx = self.begin_write().await?;
        tx.execute(
            q("UPDATE households SET township_code = $1, village_code = $2, registration_type = $3,
                 address = $4, phone = $5, bank_name = $6, account_number = $7, account_holder = $8,
                 status = $9, updated_at = $10 WHERE id = $11")
            .bind(township.as_str())
            .bind(village.as_str())
            .bind(rt.code())
            .bind(upd.address.trim())
            .bind(upd.phone.trim())
            .bind(upd.bank_name.trim())
            .bind(upd.account_number.trim())
            .bind(upd.account_holder.trim())
            .bind(status.code())
            .bind(crate::timestamp(chrono::Utc::now()))
            .bind(id),
        )
        .await?;
        if township != before.township_code {
            for table in ["persons", "incomes", "assets"] {
                tx.execute(
                    q(format!(
                        "UPDATE {table} SET township_code = $1 WHERE household_id = $2"
                    ))
                    .bind(township.as_str())
                    .bind(id),
                )
                .await?;
            }
        }
        let mut after = before.clone();
        after.village_code = village.clone();
        after.registration_type = rt;
        after.address = upd.address.trim().into();
        after.phone = upd.phone.trim().into();
        after.bank_name = upd.bank_name.trim().into();
        after.account_number = upd.account_number.trim().into();
        after.account_holder = upd.account_holder.trim().into();
        after.status = status;
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "household.update",
                entity_type: "household",
                entity_id: &id.to_string(),
                scope_code: &village,
                before: Some(json_household(&before)),
                after: Some(json_household(&after)),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_household(&actor.scope, id).await
    }

    /// Adds a member to a household. A person already registered elsewhere is moved here
    /// (when both households are in the actor's scope), keeping the move in `person_moves`.
    pub async fn add_member(
        &self,
        actor: &Actor,
        household_id: i64,
        input: &PersonInput,
    ) -> StoreResult<HouseholdDetail> {
        let h = self.writable_household(actor, household_id).await?;
        let mut f = Fields::default();
        let p = person_fields(&mut f, input);
        if let Some(p) = &p {
            if p.relation == Relation::Head {
                f.add("relation", "该户已有户主；如需更换户主，请修改原户主的关系");
            }
        }
        f.finish()?;
        let p = p.expect("checked");
        let existing = self.person_by_id_number(p.id.as_str()).await?;
        let now = crate::timestamp(chrono::Utc::now());
        let mut tx = self.begin_write().await?;
        let (action, before) = match existing {
            Some((_, hid)) if hid == household_id => {
                return Err(StoreError::field("id_number", "该成员已在本户中"));
            }
            Some((pid, from)) => {
                let from_h =
                    match self.household_row(&actor.scope, from).await {
                        Ok(x) => x,
                        Err(StoreError::NotFound(_)) => return Err(StoreError::field(
                            "id_number",
                            "该身份证号码已在其他辖区登记，请联系其户籍所在地民政办迁出后再添加",
                        )),
                        Err(e) => return Err(e),
                    };
                if from_h.head_id_number == p.id.as_str() {
                    return Err(StoreError::field(
                        "id_number",
                        "此人是另一户的户主，请先在该户更换户主",
                    ));
                }
                update_person_row(&mut tx, pid, household_id, &h.township_code, &p, &now).await?;
                tx.execute(
                    q(
                        "INSERT INTO person_moves (person_id, from_household_id, to_household_id,
                        township_code, at, actor) VALUES ($1,$2,$3,$4,$5,$6)",
                    )
                    .bind(pid)
                    .bind(from)
                    .bind(household_id)
                    .bind(h.township_code.as_str())
                    .bind(now.as_str())
                    .bind(actor.username.as_str()),
                )
                .await?;
                append(
                    &mut tx,
                    actor,
                    AuditEvent {
                        action: "person.move_out",
                        entity_type: "household",
                        entity_id: &from.to_string(),
                        scope_code: &from_h.village_code,
                        before: Some(serde_json::json!({"person": p.id.masked(), "household_id": from})),
                        after: Some(serde_json::json!({"person": p.id.masked(), "household_id": household_id})),
                    },
                )
                .await?;
                (
                    "person.move_in",
                    Some(serde_json::json!({"household_id": from})),
                )
            }
            None => {
                insert_person_row(&mut tx, household_id, &h.township_code, &p, &now).await?;
                ("person.add", None)
            }
        };
        append(
            &mut tx,
            actor,
            AuditEvent {
                action,
                entity_type: "household",
                entity_id: &household_id.to_string(),
                scope_code: &h.village_code,
                before,
                after: Some(json_person(&p)),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_household(&actor.scope, household_id).await
    }

    /// The household a person belongs to, if visible.
    pub async fn person_household(&self, scope: &Scope, person_id: i64) -> StoreResult<i64> {
        let hid = self
            .fetch_optional(q("SELECT household_id FROM persons WHERE id = $1").bind(person_id))
            .await?
            .ok_or(StoreError::NotFound("该成员"))?
            .i64("household_id")?;
        match self.household_row(scope, hid).await {
            Ok(_) => Ok(hid),
            Err(StoreError::NotFound(_)) => Err(StoreError::NotFound("该成员")),
            Err(e) => Err(e),
        }
    }

    /// Edits a member. The ID number may be corrected; the relation "户主" makes this person
    /// the head (the previous head must be given another relation first).
    pub async fn update_person(
        &self,
        actor: &Actor,
        person_id: i64,
        input: &PersonInput,
    ) -> StoreResult<HouseholdDetail> {
        let hid = self.person_household(&actor.scope, person_id).await?;
        let detail = self.get_household(&actor.scope, hid).await?;
        Self::require_write(actor)?;
        let before = detail
            .members
            .iter()
            .find(|m| m.id == person_id)
            .cloned()
            .ok_or(StoreError::NotFound("该成员"))?;
        let mut f = Fields::default();
        let p = person_fields(&mut f, input);
        if let Some(p) = &p {
            let other_head = detail
                .members
                .iter()
                .any(|m| m.id != person_id && m.relation == Relation::Head);
            if p.relation == Relation::Head && other_head {
                f.add("relation", "该户已有户主；请先把原户主改为其他关系");
            }
            if before.relation == Relation::Head && p.relation != Relation::Head {
                f.add("relation", "户主不能直接改为其他关系；请先指定新户主");
            }
            if p.id.as_str() != before.id_number {
                if let Some((other, _)) = self.person_by_id_number(p.id.as_str()).await? {
                    if other != person_id {
                        f.add("id_number", "该身份证号码已登记给另一人");
                    }
                }
            }
        }
        f.finish()?;
        let p = p.expect("checked");
        let now = crate::timestamp(chrono::Utc::now());
        let mut tx = self.begin_write().await?;
        update_person_row(
            &mut tx,
            person_id,
            hid,
            &detail.household.township_code,
            &p,
            &now,
        )
        .await?;
        if p.relation == Relation::Head {
            tx.execute(
                q("UPDATE households SET head_id_number = $1, head_name = $2, updated_at = $3 WHERE id = $4")
                    .bind(p.id.as_str())
                    .bind(p.name.as_str())
                    .bind(now.as_str())
                    .bind(hid),
            )
            .await?;
        }
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "person.update",
                entity_type: "household",
                entity_id: &hid.to_string(),
                scope_code: &detail.household.village_code,
                before: Some(serde_json::json!({
                    "name": before.name, "id_number": mask_id(&before.id_number),
                    "relation": before.relation.code(), "counted": before.counted,
                    "status": before.status.code()})),
                after: Some(json_person(&p)),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_household(&actor.scope, hid).await
    }

    /// Adds an income item to a household (optionally for one member).
    pub async fn add_income(
        &self,
        actor: &Actor,
        household_id: i64,
        input: &IncomeInput,
    ) -> StoreResult<HouseholdDetail> {
        let detail = self.get_household(&actor.scope, household_id).await?;
        Self::require_write(actor)?;
        let mut f = Fields::default();
        let person_id = member_ref(&mut f, &detail, &input.person_id);
        let kind = coded(
            &mut f,
            "kind",
            "收入类型",
            &input.kind,
            IncomeKind::parse,
            IncomeKind::choices,
            None,
        );
        let amount = yuan(&mut f, "amount", "金额", &input.amount);
        let period = coded(
            &mut f,
            "period",
            "收入周期",
            &input.period,
            IncomePeriod::parse,
            IncomePeriod::choices,
            Some(IncomePeriod::Monthly),
        );
        let month = |f: &mut Fields, field: &str, raw: &str| -> Option<String> {
            let t = raw.trim();
            if t.is_empty() {
                return None;
            }
            match t.parse::<YearMonth>() {
                Ok(m) => Some(m.to_string()),
                Err(_) => {
                    f.add(field, format!("月份“{t}”无法识别，请写成 2024-01 的形式"));
                    None
                }
            }
        };
        let start = month(&mut f, "start_month", &input.start_month);
        let end = month(&mut f, "end_month", &input.end_month);
        if let (Some(s), Some(e)) = (&start, &end) {
            if e < s {
                f.add("end_month", "结束月份不能早于起始月份");
            }
        }
        if input.note.chars().count() > 200 {
            f.add("note", "备注最长200个字");
        }
        f.finish()?;
        let (kind, amount, period) = (
            kind.expect("checked"),
            amount.expect("checked"),
            period.expect("checked"),
        );
        let mut tx = self.begin_write().await?;
        tx.execute(
            q("INSERT INTO incomes (household_id, person_id, township_code, kind, amount_fen, period,
                start_month, end_month, note, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)")
            .bind(household_id)
            .bind(person_id)
            .bind(detail.household.township_code.as_str())
            .bind(kind.code())
            .bind(amount.0)
            .bind(period.code())
            .bind(start.clone())
            .bind(end.clone())
            .bind(input.note.trim())
            .bind(crate::timestamp(chrono::Utc::now())),
        )
        .await?;
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "income.add",
                entity_type: "household",
                entity_id: &household_id.to_string(),
                scope_code: &detail.household.village_code,
                before: None,
                after: Some(serde_json::json!({"person_id": person_id, "kind": kind.code(),
                    "amount_fen": amount.0, "period": period.code(), "start_month": start, "end_month": end})),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_household(&actor.scope, household_id).await
    }

    /// Adds an asset to a household (optionally for one member).
    pub async fn add_asset(
        &self,
        actor: &Actor,
        household_id: i64,
        input: &AssetInput,
    ) -> StoreResult<HouseholdDetail> {
        let detail = self.get_household(&actor.scope, household_id).await?;
        Self::require_write(actor)?;
        let mut f = Fields::default();
        let person_id = member_ref(&mut f, &detail, &input.person_id);
        let kind = coded(
            &mut f,
            "kind",
            "资产类型",
            &input.kind,
            AssetKind::parse,
            AssetKind::choices,
            None,
        );
        let value = yuan(&mut f, "value", "价值", &input.value);
        if input.description.chars().count() > 200 {
            f.add("description", "说明最长200个字");
        }
        f.finish()?;
        let (kind, value) = (kind.expect("checked"), value.expect("checked"));
        let mut tx = self.begin_write().await?;
        tx.execute(
            q(
                "INSERT INTO assets (household_id, person_id, township_code, kind, value_fen,
                description, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)",
            )
            .bind(household_id)
            .bind(person_id)
            .bind(detail.household.township_code.as_str())
            .bind(kind.code())
            .bind(value.0)
            .bind(input.description.trim())
            .bind(crate::timestamp(chrono::Utc::now())),
        )
        .await?;
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "asset.add",
                entity_type: "household",
                entity_id: &household_id.to_string(),
                scope_code: &detail.household.village_code,
                before: None,
                after: Some(
                    serde_json::json!({"person_id": person_id, "kind": kind.code(),
                    "value_fen": value.0, "description": input.description.trim()}),
                ),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_household(&actor.scope, household_id).await
    }

    /// Counts for the registry dashboard of a scope: (households, active persons).
    pub async fn registry_counts(&self, scope: &Scope) -> StoreResult<(i64, i64)> {
        let (cond, lo, hi) = scope_cond(scope, 1);
        let h = self
            .fetch_one(
                q(format!(
                    "SELECT COUNT(*) AS n FROM households h WHERE {cond} AND h.status = 'active'"
                ))
                .bind(lo.as_str())
                .bind(hi.as_str()),
            )
            .await?
            .i64("n")?;
        let p = self
            .fetch_one(
                q(format!(
                    "SELECT COUNT(*) AS n FROM persons p JOIN households h ON h.id = p.household_id
                     WHERE {cond} AND p.status = 'active'"
                ))
                .bind(lo)
                .bind(hi),
            )
            .await?
            .i64("n")?;
        Ok((h, p))
    }
}

fn member_ref(f: &mut Fields, detail: &HouseholdDetail, raw: &str) -> Option<i64> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    match t.parse::<i64>() {
        Ok(id) if detail.members.iter().any(|m| m.id == id) => Some(id),
        _ => {
            f.add("person_id", "所选成员不属于本户");
            None
        }
    }
}

pub(crate) async fn insert_person_row(
    tx: &mut Tx,
    household_id: i64,
    township: &str,
    p: &PersonFields,
    now: &str,
) -> StoreResult<i64> {
    let (py, ini) = pinyin_keys(&p.name);
    let id = tx
        .fetch_one(
            q(
                "INSERT INTO persons (id_number, household_id, township_code, name, name_pinyin,
                name_initials, id_last4, gender, birth_date, relation, counted, exclusion_reason,
                disability_type, disability_grade, health, work_capacity, employment, status,
                status_date, created_at, updated_at)
               VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$20)
               RETURNING id",
            )
            .bind(p.id.as_str())
            .bind(household_id)
            .bind(township)
            .bind(p.name.as_str())
            .bind(py)
            .bind(ini)
            .bind(&p.id.as_str()[14..])
            .bind(p.id.gender().label())
            .bind(p.id.birth_date().to_string())
            .bind(p.relation.code())
            .bind(p.counted)
            .bind(p.exclusion_reason.map(|e| e.code().to_string()))
            .bind(p.disability_type.code())
            .bind(p.disability_grade)
            .bind(p.health.code())
            .bind(p.work_capacity.code())
            .bind(p.employment.code())
            .bind(p.status.code())
            .bind(p.status_date.map(|d| d.to_string()))
            .bind(now),
        )
        .await?
        .i64("id")?;
    Ok(id)
}

pub(crate) async fn update_person_row(
    tx: &mut Tx,
    person_id: i64,
    household_id: i64,
    township: &str,
    p: &PersonFields,
    now: &str,
) -> StoreResult<()> {
    let (py, ini) = pinyin_keys(&p.name);
    tx.execute(
        q(
            "UPDATE persons SET id_number = $1, household_id = $2, township_code = $3, name = $4,
            name_pinyin = $5, name_initials = $6, id_last4 = $7, gender = $8, birth_date = $9,
            relation = $10, counted = $11, exclusion_reason = $12, disability_type = $13,
            disability_grade = $14, health = $15, work_capacity = $16, employment = $17,
            status = $18, status_date = $19, updated_at = $20 WHERE id = $21",
        )
        .bind(p.id.as_str())
        .bind(household_id)
        .bind(township)
        .bind(p.name.as_str())
        .bind(py)
        .bind(ini)
        .bind(&p.id.as_str()[14..])
        .bind(p.id.gender().label())
        .bind(p.id.birth_date().to_string())
        .bind(p.relation.code())
        .bind(p.counted)
        .bind(p.exclusion_reason.map(|e| e.code().to_string()))
        .bind(p.disability_type.code())
        .bind(p.disability_grade)
        .bind(p.health.code())
        .bind(p.work_capacity.code())
        .bind(p.employment.code())
        .bind(p.status.code())
        .bind(p.status_date.map(|d| d.to_string()))
        .bind(now)
        .bind(person_id),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_are_classified() {
        assert_eq!(
            classify("11010519491231002x"),
            Term::Id("11010519491231002X".into())
        );
        assert_eq!(
            classify("002x张三"),
            Term::Last4Name("002X".into(), "张三".into())
        );
        assert_eq!(
            classify("张三 0021"),
            Term::Last4Name("0021".into(), "张三".into())
        );
        assert_eq!(classify("ZS"), Term::Pinyin("zs".into()));
        assert_eq!(classify("张"), Term::Name("张".into()));
    }

    /// SQLite's plan (one `detail` per step) for a person search as [`search_sql`] builds it.
    async fn search_plan(store: &Store, scope: &Scope, term: &str, sqlite: bool) -> Vec<String> {
        let (sql, args) = search_sql(scope, term, sqlite);
        let mut query = bind_all(q(format!("EXPLAIN QUERY PLAN {sql}")), &args);
        query.push(20i64);
        store
            .fetch_all(query)
            .await
            .unwrap()
            .iter()
            .map(|r| r.str("detail").unwrap())
            .collect()
    }

    /// Searches that name one person start from the index that finds them, never from a
    /// walk over the jurisdiction's households (migration 0007 dropped persons (id_last4):
    /// the last-four search goes through the name's initials).
    #[tokio::test]
    async fn person_searches_start_from_their_index_on_sqlite() {
        let db = crate::testing::TestDb::sqlite().await;
        let city = Scope::of(minzheng_domain::DivisionCode::parse("511800").unwrap());
        for (term, index) in [
            ("511802199001010015", "persons_id_number"),
            ("0015张三", "persons_initials"),
            ("张三 0015", "persons_initials"),
        ] {
            let plan = search_plan(&db.store, &city, term, true).await;
            assert!(
                plan[0].starts_with(&format!("SEARCH p USING INDEX {index} ")),
                "{term}: {plan:?}"
            );
        }
        db.cleanup().await;
    }

    /// A name search over a city scans persons (name_initials) for the term's initials, or
    /// the persons table for a one-character term; a township's walks its households.
    #[tokio::test]
    async fn wide_name_searches_narrow_by_initials_on_sqlite() {
        let db = crate::testing::TestDb::sqlite().await;
        let plan = |code: &str, term: &str, sqlite: bool| {
            let scope = Scope::of(minzheng_domain::DivisionCode::parse(code).unwrap());
            let store = db.store.clone();
            let term = term.to_string();
            async move { search_plan(&store, &scope, &term, sqlite).await.join("; ") }
        };
        let city = plan("511800", "张伟", true).await;
        assert!(city.contains("COVERING INDEX persons_initials"), "{city}");
        let one = plan("511800", "张", true).await;
        assert!(
            one.contains("SCAN persons") && !one.contains("persons_initials"),
            "{one}"
        );
        for (code, term) in [("511802001", "张伟"), ("511802001", "张")] {
            let township = plan(code, term, true).await;
            assert!(!township.contains("SCAN persons"), "{township}");
            assert!(!township.contains("persons_initials"), "{township}");
        }
        assert!(!plan("511800", "张伟", false)
            .await
            .contains("persons_initials"));
        let county = Scope::of(minzheng_domain::DivisionCode::parse("511802").unwrap());
        assert_eq!(
            narrow_name_search(&county, "张伟"),
            Some(Narrow::Initials("zw".into()))
        );
        assert_eq!(narrow_name_search(&Scope::all(), "张"), Some(Narrow::Names));
        assert_eq!(narrow_name_search(&Scope::all(), "·"), Some(Narrow::Names));
        let township = Scope::of(minzheng_domain::DivisionCode::parse("511802001").unwrap());
        assert_eq!(narrow_name_search(&township, "张伟"), None);
        db.cleanup().await;
    }
}
