//! The forms of standardization work as typed (page forms and API bodies alike), and the
//! checks that turn each into typed values or every field's message at once.

use chrono::NaiveDate;
use serde::Deserialize;

use super::records::{Inspection, OfficeProfile};
use super::rules::{parse_area_m2, EquipmentKind, OfficeKind, RoomKind, Thresholds};
use super::workflow::ChangeKind;
use crate::{Fen, FieldErrors};

// ---------------------------------------------------------------- field checks

/// Text of at most `max` characters, trimmed; `required` refuses it empty.
fn text(
    f: &mut FieldErrors,
    field: &str,
    label: &str,
    v: &str,
    max: usize,
    required: bool,
) -> String {
    let v = v.trim();
    if required && v.is_empty() {
        f.add(field, format!("请填写{label}"));
    } else if v.chars().count() > max {
        f.add(field, format!("{label}最长{max}个字"));
    }
    v.to_string()
}

/// A date written as 2026-03-01.
fn date(f: &mut FieldErrors, field: &str, label: &str, v: &str) -> Option<NaiveDate> {
    let d = NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok();
    if d.is_none() {
        f.add(field, format!("{label}格式不正确，应为如2026-03-01的日期"));
    }
    d
}

/// An optional date: blank is none.
fn opt_date(f: &mut FieldErrors, field: &str, label: &str, v: Option<&str>) -> Option<NaiveDate> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => date(f, field, label, s),
    }
}

/// An amount in yuan, not negative.
fn money(f: &mut FieldErrors, field: &str, label: &str, v: &str) -> Option<Fen> {
    match v.trim().parse::<Fen>() {
        Err(e) => {
            f.add(field, format!("{label}：{e}"));
            None
        }
        Ok(x) if x.is_negative() => {
            f.add(field, format!("{label}不能为负数"));
            None
        }
        Ok(x) => Some(x),
    }
}

/// Checks a single date field (a disbursement, a rectification done).
pub fn parse_date(field: &str, label: &str, v: &str) -> Result<NaiveDate, FieldErrors> {
    let mut f = FieldErrors::new();
    let d = date(&mut f, field, label, v);
    f.finish()?;
    Ok(d.expect("checked"))
}

// ---------------------------------------------------------------- profile

/// The profile as entered on the office page, which always sends every field; empty
/// strings mean "not recorded". (The API's PATCH sends a [`ProfilePatch`].)
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct ProfileUpdate {
    pub population: Option<i64>,
    pub kind: Option<String>,
    pub city_street: bool,
    pub contact_name: String,
    pub contact_phone: String,
    pub signage: String,
    pub policy_board: Option<bool>,
    pub notice_board: Option<bool>,
    pub archives_organized: Option<bool>,
}

/// A PATCH of the profile: only the fields present change. A field sent as `null` (or an
/// empty string) clears it; a field left out keeps what is recorded.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct ProfilePatch {
    #[serde(deserialize_with = "present")]
    pub population: Option<Option<i64>>,
    #[serde(deserialize_with = "present")]
    pub kind: Option<Option<String>>,
    pub city_street: Option<bool>,
    #[serde(deserialize_with = "present")]
    pub contact_name: Option<Option<String>>,
    #[serde(deserialize_with = "present")]
    pub contact_phone: Option<Option<String>>,
    #[serde(deserialize_with = "present")]
    pub signage: Option<Option<String>>,
    #[serde(deserialize_with = "present")]
    pub policy_board: Option<Option<bool>>,
    #[serde(deserialize_with = "present")]
    pub notice_board: Option<Option<bool>>,
    #[serde(deserialize_with = "present")]
    pub archives_organized: Option<Option<bool>>,
}

/// A field that is present in the body, possibly `null` (absent fields are `None` through
/// `#[serde(default)]`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl ProfilePatch {
    /// The whole profile after this patch of `current`, to be checked by [`parse_profile`].
    pub fn apply(&self, current: &OfficeProfile) -> ProfileUpdate {
        fn pick<T: Clone>(sent: &Option<T>, kept: T) -> T {
            sent.clone().unwrap_or(kept)
        }
        let text = |sent: &Option<Option<String>>, kept: &str| match sent {
            Some(v) => v.clone().unwrap_or_default(),
            None => kept.to_string(),
        };
        ProfileUpdate {
            population: pick(&self.population, current.population),
            kind: pick(&self.kind, current.kind.map(|k| k.as_str().to_string())),
            city_street: pick(&self.city_street, current.city_street),
            contact_name: text(&self.contact_name, &current.contact_name),
            contact_phone: text(&self.contact_phone, &current.contact_phone),
            signage: text(&self.signage, &current.signage),
            policy_board: pick(&self.policy_board, current.policy_board),
            notice_board: pick(&self.notice_board, current.notice_board),
            archives_organized: pick(&self.archives_organized, current.archives_organized),
        }
    }

    /// Whether the body names no field at all.
    pub fn is_empty(&self) -> bool {
        self.population.is_none()
            && self.kind.is_none()
            && self.city_street.is_none()
            && self.contact_name.is_none()
            && self.contact_phone.is_none()
            && self.signage.is_none()
            && self.policy_board.is_none()
            && self.notice_board.is_none()
            && self.archives_organized.is_none()
    }
}

/// Checks a profile for the office `township_code`.
pub fn parse_profile(township_code: &str, u: &ProfileUpdate) -> Result<OfficeProfile, FieldErrors> {
    let mut f = FieldErrors::new();
    if let Some(p) = u.population {
        if !(0..=10_000_000).contains(&p) {
            f.add("population", "辖区人口应为0到1000万之间的整数");
        }
    }
    let kind = match u.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(k) => OfficeKind::parse(k).map(Some).ok_or(()),
    };
    match kind {
        Err(()) => f.add("kind", "类型只能是乡、镇或街道"),
        Ok(k) if u.city_street && k != Some(OfficeKind::Jiedao) => {
            f.add("city_street", "只有街道才能标记为市区街道办事处")
        }
        Ok(_) => {}
    }
    let contact_name = text(&mut f, "contact_name", "联系人", &u.contact_name, 40, false);
    let contact_phone = text(
        &mut f,
        "contact_phone",
        "联系人电话",
        &u.contact_phone,
        40,
        false,
    );
    let signage = text(&mut f, "signage", "标识标牌说明", &u.signage, 200, false);
    f.finish()?;
    Ok(OfficeProfile {
        township_code: township_code.to_string(),
        population: u.population,
        kind: kind.unwrap_or(None),
        city_street: u.city_street,
        contact_name,
        contact_phone,
        signage,
        policy_board: u.policy_board,
        notice_board: u.notice_board,
        archives_organized: u.archives_organized,
    })
}

// ---------------------------------------------------------------- staff changes

/// A staff change as filed by the township.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewStaffChange {
    pub kind: String,
    pub staff_id: Option<i64>,
    pub name: String,
    pub position: String,
    pub is_director: bool,
    pub full_time: bool,
    pub effective_on: String,
    pub doc_number: String,
    pub doc_date: Option<String>,
    pub reason: String,
}

/// A checked staff-change form (see [`change_entry`](super::change_entry) for what it
/// records once the member it names is looked up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeForm {
    pub kind: ChangeKind,
    /// The member in post it concerns (every kind but an appointment).
    pub staff_id: Option<i64>,
    pub name: String,
    pub position: String,
    pub is_director: bool,
    pub full_time: bool,
    pub effective_on: NaiveDate,
    pub doc_number: String,
    pub doc_date: Option<NaiveDate>,
    pub reason: String,
}

/// The message when the form names someone not in post at the office.
pub const NOT_ON_ROSTER: &str = "该人员不在本办在岗名册中";

/// Checks a staff-change form. Every change carries the appointing document's number
/// (plan §四(三)).
pub fn parse_staff_change(c: &NewStaffChange) -> Result<ChangeForm, FieldErrors> {
    let mut f = FieldErrors::new();
    let kind = ChangeKind::parse(&c.kind);
    if kind.is_none() {
        f.add("kind", "请选择异动类型");
    }
    let effective_on = date(&mut f, "effective_on", "生效日期", &c.effective_on);
    let doc_number = text(
        &mut f,
        "doc_number",
        "任用文件文号",
        &c.doc_number,
        80,
        true,
    );
    let doc_date = opt_date(&mut f, "doc_date", "文件日期", c.doc_date.as_deref());
    let reason = text(&mut f, "reason", "异动原因", &c.reason, 500, false);
    let (mut name, mut position) = (String::new(), String::new());
    match kind {
        Some(ChangeKind::Appoint) => {
            name = text(&mut f, "name", "姓名", &c.name, 40, true);
            position = text(&mut f, "position", "职务", &c.position, 40, true);
        }
        Some(k) => {
            if c.staff_id.is_none() {
                f.add("staff_id", "请选择在岗人员");
            }
            if k == ChangeKind::Transfer {
                position = text(&mut f, "position", "新职务", &c.position, 40, true);
            }
        }
        None => {}
    }
    f.finish()?;
    Ok(ChangeForm {
        kind: kind.expect("checked"),
        staff_id: c.staff_id,
        name,
        position,
        is_director: c.is_director,
        full_time: c.full_time,
        effective_on: effective_on.expect("checked"),
        doc_number,
        doc_date,
        reason,
    })
}

/// The city's decision on a staff change as typed (the API's body; also plans and
/// inspections: approve / reject, accept / return, pass / fail).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct Decision {
    pub decision: String,
    pub note: String,
}

/// Checks the note on a staff-change decision: a rejection says why.
pub fn parse_change_note(approve: bool, note: &str) -> Result<String, FieldErrors> {
    let mut f = FieldErrors::new();
    let note = text(&mut f, "note", "审批意见", note, 500, false);
    if !approve && note.is_empty() {
        f.add("note", "退回时请写明原因");
    }
    f.finish()?;
    Ok(note)
}

// ---------------------------------------------------------------- village assistants

/// Checks a village assistant's name and telephone (an empty name removes the assistant).
pub fn parse_assistant(name: &str, phone: &str) -> Result<(String, String), FieldErrors> {
    let mut f = FieldErrors::new();
    let name = text(&mut f, "name", "协理员姓名", name, 40, false);
    let phone = text(&mut f, "phone", "联系电话", phone, 40, false);
    f.finish()?;
    Ok((name, phone))
}

// ---------------------------------------------------------------- premises

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewRoom {
    pub kind: String,
    /// Square metres as text, e.g. "59.9" (kept exact as dm²).
    pub area_m2: String,
    pub shared_hall: bool,
    pub note: String,
}

/// A checked room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomEntry {
    pub kind: RoomKind,
    pub area_dm2: i64,
    pub shared_hall: bool,
    pub note: String,
}

pub fn parse_room(r: &NewRoom) -> Result<RoomEntry, FieldErrors> {
    let mut f = FieldErrors::new();
    let kind = RoomKind::parse(r.kind.trim());
    if kind.is_none() {
        f.add("kind", "请选择用房类型");
    }
    let area = parse_area_m2(&r.area_m2);
    if area.is_none() {
        f.add("area_m2", "面积应为数字（平方米，最多两位小数），如59.9");
    }
    if r.shared_hall && kind.is_some_and(|k| k != RoomKind::ServiceHall) {
        f.add("shared_hall", "只有服务大厅可以标记为综合大厅");
    }
    let note = text(&mut f, "note", "备注", &r.note, 200, false);
    f.finish()?;
    Ok(RoomEntry {
        kind: kind.expect("checked"),
        area_dm2: area.expect("checked"),
        shared_hall: r.shared_hall,
        note,
    })
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewEquipment {
    pub kind: String,
    pub count: i64,
    pub dedicated: bool,
    pub note: String,
}

/// A checked equipment line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquipmentEntry {
    pub kind: EquipmentKind,
    pub count: i64,
    pub dedicated: bool,
    pub note: String,
}

pub fn parse_equipment(e: &NewEquipment) -> Result<EquipmentEntry, FieldErrors> {
    let mut f = FieldErrors::new();
    let kind = EquipmentKind::parse(e.kind.trim());
    if kind.is_none() {
        f.add("kind", "请选择设备类型");
    }
    if !(1..=1000).contains(&e.count) {
        f.add("count", "数量应为1到1000之间的整数");
    }
    let note = text(&mut f, "note", "备注", &e.note, 200, false);
    f.finish()?;
    Ok(EquipmentEntry {
        kind: kind.expect("checked"),
        count: e.count,
        dedicated: e.dedicated,
        note,
    })
}

/// A rule or procedure posted on the wall, as entered.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewPostedRule {
    pub title: String,
    pub posted_on: String,
}

pub fn parse_posted_rule(r: &NewPostedRule) -> Result<(String, NaiveDate), FieldErrors> {
    let mut f = FieldErrors::new();
    let title = text(&mut f, "title", "制度名称", &r.title, 100, true);
    let posted = date(&mut f, "posted_on", "公示日期", &r.posted_on);
    f.finish()?;
    Ok((title, posted.expect("checked")))
}

// ---------------------------------------------------------------- investments, plans

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewInvestment {
    pub spent_on: String,
    pub item: String,
    /// Yuan as text.
    pub amount: String,
    pub doc_number: String,
}

/// A checked investment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvestmentEntry {
    pub spent_on: NaiveDate,
    pub item: String,
    pub amount: Fen,
    pub doc_number: String,
}

pub fn parse_investment(i: &NewInvestment) -> Result<InvestmentEntry, FieldErrors> {
    let mut f = FieldErrors::new();
    let spent = date(&mut f, "spent_on", "投入日期", &i.spent_on);
    let item = text(&mut f, "item", "投入项目", &i.item, 100, true);
    let amount = money(&mut f, "amount", "金额", &i.amount);
    if amount.is_some_and(Fen::is_zero) {
        f.add("amount", "金额必须大于0");
    }
    let doc_number = text(
        &mut f,
        "doc_number",
        "凭证或文件号",
        &i.doc_number,
        80,
        false,
    );
    f.finish()?;
    Ok(InvestmentEntry {
        spent_on: spent.expect("checked"),
        item,
        amount: amount.expect("checked"),
        doc_number,
    })
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewPlan {
    pub items: String,
    /// Yuan as text, e.g. "120000.00".
    pub budget: String,
    pub timeline: String,
}

/// A checked construction plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanEntry {
    pub items: String,
    pub budget: Fen,
    pub timeline: String,
}

pub fn parse_plan(p: &NewPlan) -> Result<PlanEntry, FieldErrors> {
    let mut f = FieldErrors::new();
    let items = text(&mut f, "items", "建设项目", &p.items, 2000, true);
    let budget = money(&mut f, "budget", "预算", &p.budget);
    let timeline = text(&mut f, "timeline", "进度安排", &p.timeline, 1000, true);
    f.finish()?;
    Ok(PlanEntry {
        items,
        budget: budget.expect("checked"),
        timeline,
    })
}

/// Checks the note on a plan review: returning a plan says what to change.
pub fn parse_review_note(accept: bool, note: &str) -> Result<String, FieldErrors> {
    let mut f = FieldErrors::new();
    let note = text(&mut f, "note", "审核意见", note, 500, false);
    if !accept && note.is_empty() {
        f.add("note", "退回时请写明修改意见");
    }
    f.finish()?;
    Ok(note)
}

// ---------------------------------------------------------------- inspections

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewInspection {
    pub inspectors: String,
    pub inspected_on: String,
}

pub fn parse_inspection(n: &NewInspection) -> Result<(String, NaiveDate), FieldErrors> {
    let mut f = FieldErrors::new();
    let inspectors = text(&mut f, "inspectors", "检查人员", &n.inspectors, 200, true);
    let on = date(&mut f, "inspected_on", "检查日期", &n.inspected_on);
    f.finish()?;
    Ok((inspectors, on.expect("checked")))
}

/// Scores for checklist items (the API's body).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct Scores {
    pub items: Vec<ScoreInput>,
}

/// One item's score and note.
#[derive(Debug, Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(default)]
pub struct ScoreInput {
    pub id: i64,
    pub score: i64,
    pub note: String,
}

/// Checks scores against the inspection's checklist: each item of it, within its points.
/// The notes come back trimmed.
pub fn parse_scores(i: &Inspection, scores: &[ScoreInput]) -> Result<Vec<ScoreInput>, FieldErrors> {
    let mut f = FieldErrors::new();
    let mut out = Vec::with_capacity(scores.len());
    for s in scores {
        let Some(item) = i.items.iter().find(|x| x.id == s.id) else {
            f.add("items", "检查项目不属于该检查验收");
            continue;
        };
        if !(0..=item.max_score).contains(&s.score) {
            f.add(
                &format!("score_{}", s.id),
                format!("“{}”的得分应在0到{}之间", item.label, item.max_score),
            );
        }
        let note = text(&mut f, "note", "说明", &s.note, 500, false);
        out.push(ScoreInput {
            id: s.id,
            score: s.score,
            note,
        });
    }
    f.finish()?;
    Ok(out)
}

/// A rectification item as entered (the API's body).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewRectification {
    pub item: String,
    pub due_on: String,
}

pub fn parse_rectification(r: &NewRectification) -> Result<(String, NaiveDate), FieldErrors> {
    let mut f = FieldErrors::new();
    let item = text(&mut f, "item", "整改事项", &r.item, 300, true);
    let due = date(&mut f, "due_on", "整改期限", &r.due_on);
    f.finish()?;
    Ok((item, due.expect("checked")))
}

/// Checks an inspection's findings.
pub fn parse_findings(findings: &str) -> Result<String, FieldErrors> {
    let mut f = FieldErrors::new();
    let findings = text(&mut f, "findings", "检查意见", findings, 2000, false);
    f.finish()?;
    Ok(findings)
}

/// A disbursement as entered (the API's body).
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct Disbursement {
    pub disbursed_on: String,
}

// ---------------------------------------------------------------- parameters

/// The parameter form: areas in m², counts, the percent and dates, as typed.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct ParamsForm {
    pub effective_from: String,
    pub plan_deadline: String,
    pub population_split: String,
    pub staff_small: String,
    pub staff_large: String,
    pub staff_city_street: String,
    pub three_rooms_m2: String,
    pub archive_cabinets: String,
    pub hall_standalone_m2: String,
    pub hall_shared_m2: String,
    pub supplies_store_m2: String,
    pub subsidy_percent: String,
}

/// Reads the parameter form: the parameters and the plan deadline (blank: none).
pub fn parse_params(p: &ParamsForm) -> Result<(Thresholds, Option<NaiveDate>), FieldErrors> {
    let mut f = FieldErrors::new();
    let d = |f: &mut FieldErrors, k: &str, v: &str, label: &str| {
        let r = NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok();
        if r.is_none() {
            f.add(k, format!("{label}格式不正确，应为如2026-04-30的日期"));
        }
        r
    };
    let n = |f: &mut FieldErrors, k: &str, v: &str, label: &str| {
        let v = v.trim();
        if v.is_empty() {
            f.add(k, format!("请填写{label}"));
            return 0;
        }
        v.parse::<i64>().unwrap_or_else(|_| {
            f.add(k, format!("{label}应为整数"));
            0
        })
    };
    let a = |f: &mut FieldErrors, k: &str, v: &str, label: &str| {
        parse_area_m2(v).unwrap_or_else(|| {
            f.add(k, format!("{label}应为数字（平方米）"));
            0
        })
    };
    let deadline = if p.plan_deadline.trim().is_empty() {
        None
    } else {
        d(
            &mut f,
            "plan_deadline",
            &p.plan_deadline,
            "方案报送截止日期",
        )
    };
    let effective_from = d(&mut f, "effective_from", &p.effective_from, "生效日期");
    let t = Thresholds {
        effective_from: effective_from.unwrap_or_default(),
        population_split: n(&mut f, "population_split", &p.population_split, "人口分界"),
        staff_small: n(&mut f, "staff_small", &p.staff_small, "2万人以下应配人数"),
        staff_large: n(&mut f, "staff_large", &p.staff_large, "2万人以上应配人数"),
        staff_city_street: n(
            &mut f,
            "staff_city_street",
            &p.staff_city_street,
            "市区街道应配人数",
        ),
        three_rooms_dm2: a(&mut f, "three_rooms_m2", &p.three_rooms_m2, "三室总面积"),
        archive_cabinets: n(
            &mut f,
            "archive_cabinets",
            &p.archive_cabinets,
            "档案柜数量",
        ),
        hall_standalone_dm2: a(
            &mut f,
            "hall_standalone_m2",
            &p.hall_standalone_m2,
            "单独大厅面积",
        ),
        hall_shared_dm2: a(
            &mut f,
            "hall_shared_m2",
            &p.hall_shared_m2,
            "综合大厅所占面积",
        ),
        supplies_store_dm2: a(
            &mut f,
            "supplies_store_m2",
            &p.supplies_store_m2,
            "物资储备库面积",
        ),
        subsidy_percent: n(&mut f, "subsidy_percent", &p.subsidy_percent, "补助比例"),
    };
    f.finish()?;
    Ok((t, deadline))
}

/// Checks the parameters make sense (see [`Thresholds::validate`]).
pub fn check_thresholds(t: &Thresholds) -> Result<(), FieldErrors> {
    t.validate().map_err(|(k, m)| FieldErrors::one(k, m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_form_reports_every_field_at_once() {
        let e = parse_staff_change(&NewStaffChange {
            kind: "appoint".into(),
            effective_on: "2026-13-01".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(
            e.get("effective_on"),
            Some("生效日期格式不正确，应为如2026-03-01的日期")
        );
        assert_eq!(e.get("doc_number"), Some("请填写任用文件文号"));
        assert_eq!(e.get("name"), Some("请填写姓名"));
        let e = parse_staff_change(&NewStaffChange {
            kind: "depart".into(),
            effective_on: "2026-12-01".into(),
            doc_number: "雨东办〔2026〕30号".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.get("staff_id"), Some("请选择在岗人员"));
        let ok = parse_staff_change(&NewStaffChange {
            kind: "transfer".into(),
            staff_id: Some(3),
            position: " 民政办副主任 ".into(),
            effective_on: "2026-12-01".into(),
            doc_number: "雨东办〔2026〕31号".into(),
            doc_date: Some(" ".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(
            (ok.kind, ok.position.as_str()),
            (ChangeKind::Transfer, "民政办副主任")
        );
        assert_eq!(ok.doc_date, None);
    }

    #[test]
    fn profile_room_and_money_checks_keep_their_messages() {
        let e = parse_profile(
            "511802001",
            &ProfileUpdate {
                population: Some(-1),
                kind: Some("zhen".into()),
                city_street: true,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.len(), 2);
        assert_eq!(
            e.get("city_street"),
            Some("只有街道才能标记为市区街道办事处")
        );
        let e = parse_room(&NewRoom {
            kind: "archive".into(),
            area_m2: "0.123".into(),
            shared_hall: true,
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.get("area_m2").is_some() && e.get("shared_hall").is_some());
        let e = parse_investment(&NewInvestment {
            spent_on: "2026-11-01".into(),
            item: "x".into(),
            amount: "0".into(),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(e.get("amount"), Some("金额必须大于0"));
        let e = parse_plan(&NewPlan {
            items: "x".into(),
            budget: "-1".into(),
            timeline: "x".into(),
        })
        .unwrap_err();
        assert_eq!(e.get("budget"), Some("预算不能为负数"));
        assert!(parse_change_note(false, " ").is_err());
        assert_eq!(parse_review_note(true, " 同意 ").unwrap(), "同意");
    }

    #[test]
    fn the_parameter_form_reads_square_metres() {
        let form = ParamsForm {
            effective_from: "2026-01-01".into(),
            population_split: "20000".into(),
            staff_small: "2".into(),
            staff_large: "3".into(),
            staff_city_street: "4".into(),
            three_rooms_m2: "60".into(),
            archive_cabinets: "2".into(),
            hall_standalone_m2: "50".into(),
            hall_shared_m2: "25".into(),
            supplies_store_m2: "15".into(),
            subsidy_percent: "50".into(),
            ..Default::default()
        };
        let (t, deadline) = parse_params(&form).unwrap();
        assert_eq!(
            t,
            Thresholds {
                effective_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
                ..Thresholds::plan_2011()
            }
        );
        assert_eq!(deadline, None);
        let e = parse_params(&ParamsForm {
            staff_small: "两".into(),
            three_rooms_m2: String::new(),
            ..form
        })
        .unwrap_err();
        assert_eq!(e.get("staff_small"), Some("2万人以下应配人数应为整数"));
        assert_eq!(
            e.get("three_rooms_m2"),
            Some("三室总面积应为数字（平方米）")
        );
        assert!(check_thresholds(&Thresholds {
            subsidy_percent: 101,
            ..Thresholds::plan_2011()
        })
        .is_err());
    }

    #[test]
    fn a_patch_names_only_what_it_changes_and_null_clears_a_field() {
        let empty: ProfilePatch = serde_json::from_str("{}").unwrap();
        assert!(empty.is_empty());
        for body in [
            r#"{"population": null}"#,
            r#"{"kind": "zhen"}"#,
            r#"{"city_street": true}"#,
            r#"{"contact_name": "王"}"#,
            r#"{"contact_phone": null}"#,
            r#"{"signage": ""}"#,
            r#"{"policy_board": true}"#,
            r#"{"notice_board": false}"#,
            r#"{"archives_organized": null}"#,
        ] {
            let p: ProfilePatch = serde_json::from_str(body).unwrap();
            assert!(!p.is_empty(), "{body}");
        }
        let current = OfficeProfile {
            township_code: "511802001".into(),
            population: Some(30_000),
            kind: Some(OfficeKind::Zhen),
            city_street: false,
            contact_name: "李".into(),
            contact_phone: "0835-1".into(),
            signage: "门牌".into(),
            policy_board: Some(true),
            notice_board: Some(true),
            archives_organized: Some(false),
        };
        let p: ProfilePatch = serde_json::from_str(
            r#"{"population": null, "contact_name": "王", "contact_phone": null, "notice_board": false}"#,
        )
        .unwrap();
        let u = p.apply(&current);
        assert_eq!(u.population, None);
        assert_eq!(u.kind.as_deref(), Some("zhen"));
        assert_eq!(u.contact_name, "王");
        assert_eq!(u.contact_phone, "");
        assert_eq!(u.signage, "门牌");
        assert_eq!(
            (u.policy_board, u.notice_board, u.archives_organized),
            (Some(true), Some(false), Some(false))
        );
        assert!(!u.city_street);
    }

    #[test]
    fn a_profiles_kind_street_mark_and_texts_keep_their_limits() {
        let profile = |kind: &str, city_street: bool, signage: String| ProfileUpdate {
            population: Some(10_000_000),
            kind: Some(kind.into()),
            city_street,
            contact_name: "王".repeat(40),
            signage,
            ..Default::default()
        };
        let p = parse_profile("511802001", &profile(" jiedao ", true, "牌".repeat(200))).unwrap();
        assert_eq!(p.kind, Some(OfficeKind::Jiedao));
        assert!(p.city_street);
        assert_eq!(p.population, Some(10_000_000));
        let p = parse_profile("511802001", &profile("", false, String::new())).unwrap();
        assert_eq!(p.kind, None);
        let e = parse_profile("511802001", &profile("zhen", true, "牌".repeat(201))).unwrap_err();
        assert_eq!(
            e.get("city_street"),
            Some("只有街道才能标记为市区街道办事处")
        );
        assert_eq!(e.get("signage"), Some("标识标牌说明最长200个字"));
        assert_eq!(
            parse_profile("511802001", &profile("", true, String::new()))
                .unwrap_err()
                .get("city_street"),
            Some("只有街道才能标记为市区街道办事处")
        );
    }

    #[test]
    fn a_rejection_needs_its_reason_and_an_approval_does_not() {
        assert_eq!(parse_change_note(true, " "), Ok(String::new()));
        assert_eq!(
            parse_change_note(false, "").unwrap_err().get("note"),
            Some("退回时请写明原因")
        );
        assert_eq!(
            parse_change_note(false, " 材料不全 "),
            Ok("材料不全".into())
        );
        assert_eq!(parse_review_note(true, ""), Ok(String::new()));
        assert_eq!(
            parse_review_note(false, " ").unwrap_err().get("note"),
            Some("退回时请写明修改意见")
        );
        assert_eq!(parse_review_note(false, "补预算"), Ok("补预算".into()));
    }

    #[test]
    fn short_forms_return_what_was_typed_trimmed() {
        assert_eq!(
            parse_assistant(" 张三 ", " 138 0000 0000 "),
            Ok(("张三".into(), "138 0000 0000".into()))
        );
        let day = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        assert_eq!(
            parse_posted_rule(&NewPostedRule {
                title: " 值班制度 ".into(),
                posted_on: "2026-06-01".into(),
            }),
            Ok(("值班制度".into(), day))
        );
        assert_eq!(
            parse_inspection(&NewInspection {
                inspectors: " 王、李 ".into(),
                inspected_on: "2026-06-01".into(),
            }),
            Ok(("王、李".into(), day))
        );
        assert_eq!(
            parse_rectification(&NewRectification {
                item: " 补齐公示栏 ".into(),
                due_on: "2026-06-01".into(),
            }),
            Ok(("补齐公示栏".into(), day))
        );
        assert_eq!(parse_findings(" 合格 "), Ok("合格".into()));
        assert_eq!(
            parse_date("disbursed_on", "拨付日期", " 2026-06-01 "),
            Ok(day)
        );
        assert_eq!(
            parse_date("disbursed_on", "拨付日期", "6月1日")
                .unwrap_err()
                .get("disbursed_on"),
            Some("拨付日期格式不正确，应为如2026-03-01的日期")
        );
    }

    #[test]
    fn a_change_forms_document_date_is_read_when_given() {
        let ok = parse_staff_change(&NewStaffChange {
            kind: "transfer".into(),
            staff_id: Some(3),
            position: "干事".into(),
            effective_on: "2026-12-01".into(),
            doc_number: "雨东办〔2026〕31号".into(),
            doc_date: Some(" 2026-11-20 ".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.doc_date, NaiveDate::from_ymd_opt(2026, 11, 20));
    }

    #[test]
    fn a_shared_hall_is_a_service_hall_and_equipment_counts_from_one() {
        let room = |kind: &str, shared_hall| NewRoom {
            kind: kind.into(),
            area_m2: "30".into(),
            shared_hall,
            note: String::new(),
        };
        assert!(parse_room(&room("service-hall", true)).unwrap().shared_hall);
        assert_eq!(
            parse_room(&room("office", true))
                .unwrap_err()
                .get("shared_hall"),
            Some("只有服务大厅可以标记为综合大厅")
        );
        assert!(parse_room(&room("office", false)).is_ok());
        let equipment = |count| NewEquipment {
            kind: "computer".into(),
            count,
            dedicated: true,
            note: String::new(),
        };
        assert_eq!(parse_equipment(&equipment(1)).unwrap().count, 1);
        assert_eq!(parse_equipment(&equipment(1000)).unwrap().count, 1000);
        for bad in [0, 1001] {
            assert_eq!(
                parse_equipment(&equipment(bad)).unwrap_err().get("count"),
                Some("数量应为1到1000之间的整数")
            );
        }
    }

    fn inspection() -> Inspection {
        Inspection::sample(None, vec![])
    }

    #[test]
    fn scores_belong_to_the_checklist_and_lie_between_nought_and_the_items_most() {
        let score = |id, score, note: &str| ScoreInput {
            id,
            score,
            note: note.into(),
        };
        assert_eq!(
            parse_scores(&inspection(), &[score(7, 10, " 整洁 ")]),
            Ok(vec![score(7, 10, "整洁")])
        );
        assert_eq!(
            parse_scores(&inspection(), &[score(7, 0, "")]),
            Ok(vec![score(7, 0, "")])
        );
        assert_eq!(
            parse_scores(&inspection(), &[score(7, 11, "")])
                .unwrap_err()
                .get("score_7"),
            Some("“服务大厅”的得分应在0到10之间")
        );
        assert_eq!(
            parse_scores(&inspection(), &[score(8, 1, "")])
                .unwrap_err()
                .get("items"),
            Some("检查项目不属于该检查验收")
        );
    }
}
