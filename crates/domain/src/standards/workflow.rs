//! The steps of standardization work and who may take them from which state: staff
//! changes (filed by the township, decided once by the city), construction plans (submitted,
//! returned or accepted), inspections (opened, scored, closed as passed or failed — a failed
//! one leads to a re-inspection), rectifications and subsidies. Each function takes the
//! state as recorded and answers with the next state or the reason it may not be taken.

use chrono::NaiveDate;

use super::records::{Inspection, InspectionItem, Rectification, StaffChange, StaffMember};
use super::rules::{Evaluation, RuleLevel, RuleStatus};
use crate::FieldErrors;

crate::coded_enum! {
    /// 人员异动类型 — the kinds of staff change.
    pub enum ChangeKind {
        Appoint = ("appoint", "新任用"),
        Transfer = ("transfer", "岗位调整"),
        Depart = ("depart", "调离/离职"),
        Director = ("director", "任命主任"),
    }
}

crate::coded_enum! {
    /// A staff change's decision.
    pub enum ChangeStatus {
        Pending = ("pending", "待审批"),
        Approved = ("approved", "已同意"),
        Rejected = ("rejected", "已退回"),
    }
}

crate::coded_enum! {
    /// A construction plan's review.
    pub enum PlanStatus {
        Submitted = ("submitted", "已报送待审核"),
        Returned = ("returned", "已退回修改"),
        Accepted = ("accepted", "已审核通过"),
    }
}

crate::coded_enum! {
    /// Where an office's plan stands on the console: its review, or none at all, or none
    /// accepted or awaiting review after the deadline.
    pub enum PlanStanding {
        NotSubmitted = ("none", "未报送"),
        Submitted = ("submitted", "已报送待审核"),
        Returned = ("returned", "已退回修改"),
        Accepted = ("accepted", "已审核通过"),
        Overdue = ("overdue", "逾期未报"),
    }
}

crate::coded_enum! {
    /// An inspection (检查验收): under way, or closed as passed or failed.
    pub enum InspectionStatus {
        Open = ("open", "检查中"),
        Passed = ("passed", "验收通过"),
        Failed = ("failed", "验收未通过"),
    }
}

crate::coded_enum! {
    /// Where an office's acceptance stands on the console: its latest inspection, or none.
    pub enum InspectionStanding {
        NotInspected = ("none", "未检查"),
        Open = ("open", "检查中"),
        Passed = ("passed", "验收通过"),
        Failed = ("failed", "验收未通过"),
    }
}

crate::coded_enum! {
    /// A subsidy granted on acceptance: awaiting payment, or paid.
    pub enum SubsidyStatus {
        Pending = ("pending", "待拨付"),
        Disbursed = ("disbursed", "已拨付"),
    }
}

crate::coded_enum! {
    /// A checklist item scored from the recorded facts when the inspection opens, or by the
    /// inspectors on site.
    pub enum ItemKind {
        Auto = ("auto", "系统评估"),
        Manual = ("manual", "人工评分"),
    }
}

impl From<PlanStatus> for PlanStanding {
    fn from(s: PlanStatus) -> Self {
        match s {
            PlanStatus::Submitted => PlanStanding::Submitted,
            PlanStatus::Returned => PlanStanding::Returned,
            PlanStatus::Accepted => PlanStanding::Accepted,
        }
    }
}

impl From<InspectionStatus> for InspectionStanding {
    fn from(s: InspectionStatus) -> Self {
        match s {
            InspectionStatus::Open => InspectionStanding::Open,
            InspectionStatus::Passed => InspectionStanding::Passed,
            InspectionStatus::Failed => InspectionStanding::Failed,
        }
    }
}

/// Why a step may not be taken: the input is wrong (per field), or the records are not in
/// a state that allows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("{0}")]
    Conflict(String),
}

impl From<FieldErrors> for StepError {
    fn from(f: FieldErrors) -> Self {
        StepError::Invalid(f)
    }
}

fn conflict<T>(m: impl Into<String>) -> Result<T, StepError> {
    Err(StepError::Conflict(m.into()))
}

// ---------------------------------------------------------------- staff changes

/// The decision on a staff change: only a pending change is decided, and only once.
pub fn decide_change(from: ChangeStatus, approve: bool) -> Result<ChangeStatus, StepError> {
    match from {
        ChangeStatus::Pending if approve => Ok(ChangeStatus::Approved),
        ChangeStatus::Pending => Ok(ChangeStatus::Rejected),
        done => conflict(format!("该人员异动已{}，不能重复审批", done.label())),
    }
}

/// The refusal when an approved change names a member who has left since it was filed.
pub const MEMBER_GONE: &str = "该人员已不在岗，此异动无法生效，请退回";

/// What an approved change does to the roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RosterChange {
    /// A new member joins the roster.
    Appoint {
        name: String,
        position: String,
        is_director: bool,
        full_time: bool,
        since: String,
        doc_number: String,
        doc_date: Option<String>,
    },
    /// The member leaves on `on`.
    Depart { staff_id: i64, on: String },
    /// The member's post changes.
    Update {
        staff_id: i64,
        position: String,
        is_director: bool,
        full_time: bool,
        doc_number: String,
        doc_date: Option<String>,
    },
}

impl RosterChange {
    /// The member already on the roster it changes (none for an appointment).
    pub fn staff_id(&self) -> Option<i64> {
        match self {
            RosterChange::Appoint { .. } => None,
            RosterChange::Depart { staff_id, .. } | RosterChange::Update { staff_id, .. } => {
                Some(*staff_id)
            }
        }
    }
}

/// An approved change applied to the roster: whether the office's current director steps
/// down first (the office has one director: plan §二(二)), and the change itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEffect {
    pub clear_director: bool,
    pub change: RosterChange,
}

/// What approving `c` does to the roster.
pub fn roster_effect(c: &StaffChange) -> RosterEffect {
    let staff_id = c.staff_id.unwrap_or(0);
    let change = match c.kind {
        ChangeKind::Appoint => RosterChange::Appoint {
            name: c.name.clone(),
            position: c.position.clone(),
            is_director: c.is_director,
            full_time: c.full_time,
            since: c.effective_on.clone(),
            doc_number: c.doc_number.clone(),
            doc_date: c.doc_date.clone(),
        },
        ChangeKind::Depart => RosterChange::Depart {
            staff_id,
            on: c.effective_on.clone(),
        },
        ChangeKind::Transfer | ChangeKind::Director => RosterChange::Update {
            staff_id,
            position: c.position.clone(),
            is_director: c.is_director,
            full_time: c.full_time,
            doc_number: c.doc_number.clone(),
            doc_date: c.doc_date.clone(),
        },
    };
    RosterEffect {
        clear_director: c.is_director,
        change,
    }
}

/// A change as it is filed: the form's values, completed from the roster for a change to a
/// member already in post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEntry {
    pub kind: ChangeKind,
    pub staff_id: Option<i64>,
    pub name: String,
    pub position: String,
    pub is_director: bool,
    pub full_time: bool,
    pub effective_on: NaiveDate,
    pub doc_number: String,
    pub doc_date: Option<String>,
    pub reason: String,
}

/// Completes a checked change form: an appointment names the newcomer; a transfer keeps the
/// member's name with the new post; naming a director makes the member 民政办主任; a
/// departure records the member as they are. `member` is the roster entry named by the
/// form (required for every kind but an appointment).
pub fn change_entry(f: &super::forms::ChangeForm, member: Option<&StaffMember>) -> ChangeEntry {
    let (name, position, is_director, full_time) = match (f.kind, member) {
        (ChangeKind::Appoint, _) | (_, None) => (
            f.name.clone(),
            f.position.clone(),
            f.is_director,
            f.full_time,
        ),
        (ChangeKind::Transfer, Some(s)) => (
            s.name.clone(),
            f.position.clone(),
            f.is_director,
            f.full_time,
        ),
        (ChangeKind::Director, Some(s)) => (s.name.clone(), "民政办主任".into(), true, s.full_time),
        (ChangeKind::Depart, Some(s)) => (
            s.name.clone(),
            s.position.clone(),
            s.is_director,
            s.full_time,
        ),
    };
    ChangeEntry {
        kind: f.kind,
        staff_id: if f.kind == ChangeKind::Appoint {
            None
        } else {
            f.staff_id
        },
        name,
        position,
        is_director,
        full_time,
        effective_on: f.effective_on,
        doc_number: f.doc_number.clone(),
        doc_date: f.doc_date.map(|d| d.to_string()),
        reason: f.reason.clone(),
    }
}

// ---------------------------------------------------------------- plans

/// Whether the township may (re)submit its plan: none yet, or returned.
pub fn plan_open(existing: Option<PlanStatus>) -> bool {
    matches!(existing, None | Some(PlanStatus::Returned))
}

/// Submitting a plan: allowed when there is none or it was returned.
pub fn submit_plan(existing: Option<PlanStatus>) -> Result<PlanStatus, StepError> {
    match existing {
        Some(PlanStatus::Submitted) => conflict("建设方案已报送，正在审核中，不能重复报送"),
        Some(PlanStatus::Accepted) => conflict("建设方案已审核通过，不能再修改"),
        None | Some(PlanStatus::Returned) => Ok(PlanStatus::Submitted),
    }
}

/// Reviewing a plan: only a submitted plan is accepted or returned.
pub fn review_plan(from: PlanStatus, accept: bool) -> Result<PlanStatus, StepError> {
    match from {
        PlanStatus::Submitted if accept => Ok(PlanStatus::Accepted),
        PlanStatus::Submitted => Ok(PlanStatus::Returned),
        other => conflict(format!(
            "建设方案当前状态为“{}”，只能审核已报送的方案",
            other.label()
        )),
    }
}

/// The refusal when another reviewer decided the plan first.
pub const PLAN_REVIEWED_MEANWHILE: &str = "建设方案已被他人审核，请刷新后查看";

/// A plan is overdue when the deadline has passed and none is submitted or accepted.
pub fn plan_overdue(
    status: Option<PlanStatus>,
    deadline: Option<NaiveDate>,
    as_of: NaiveDate,
) -> bool {
    match deadline {
        Some(d) if as_of > d => {
            !matches!(status, Some(PlanStatus::Submitted | PlanStatus::Accepted))
        }
        _ => false,
    }
}

/// Where the plan stands on `as_of`.
pub fn plan_standing(
    status: Option<PlanStatus>,
    deadline: Option<NaiveDate>,
    as_of: NaiveDate,
) -> PlanStanding {
    if plan_overdue(status, deadline, as_of) {
        PlanStanding::Overdue
    } else {
        status.map_or(PlanStanding::NotSubmitted, PlanStanding::from)
    }
}

// ---------------------------------------------------------------- inspections

/// The refusal of a second open inspection of one office.
pub const INSPECTION_UNDER_WAY: &str = "该办公室已有正在进行的检查验收，请先完成它";
/// The refusal of a change to a closed inspection.
pub const INSPECTION_CLOSED: &str = "该检查验收已结束，不能再修改";

/// Opening an inspection after the office's latest one (id and status): none, or a failed
/// one (this is then its re-inspection, linked by the returned previous id).
pub fn open_inspection(latest: Option<(i64, InspectionStatus)>) -> Result<Option<i64>, StepError> {
    match latest {
        None => Ok(None),
        Some((_, InspectionStatus::Open)) => conflict(INSPECTION_UNDER_WAY),
        Some((_, InspectionStatus::Passed)) => conflict("该办公室已通过验收，无需再次检查"),
        Some((id, InspectionStatus::Failed)) => Ok(Some(id)),
    }
}

/// Points for each automatic rule.
pub const AUTO_POINTS: i64 = 5;

/// The manual checklist items inspectors score (plan §四(一)(二), §二(三)5).
pub const MANUAL_ITEMS: &[(&str, i64)] = &[
    ("办公场地设置合理、室内美观整洁、基本设施规范统一", 10),
    ("村(居委会)基本硬件设施和政务公开情况", 10),
    ("台账资料规范无差错、各类对象资料齐全详实", 10),
];

/// One line of a new inspection's checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItem {
    /// The rule it scores automatically (none for a manual item).
    pub rule_id: Option<&'static str>,
    pub label: String,
    pub max_score: i64,
    pub auto_status: Option<RuleStatus>,
    pub score: Option<i64>,
    pub note: String,
}

/// The score an automatic item starts with: all its points when the rule is met, none
/// otherwise.
fn prefill_score(status: RuleStatus) -> i64 {
    if status == RuleStatus::Met {
        AUTO_POINTS
    } else {
        0
    }
}

/// A new inspection's checklist: each basic rule pre-scored from today's evaluation, then
/// the manual items awaiting the inspectors. Acceptance is of the basic standard; the
/// encouraged high-standard rules (§三(四)) are shown on the office page but not scored.
pub fn checklist(e: &Evaluation) -> Vec<ChecklistItem> {
    let auto = e
        .results
        .iter()
        .filter(|r| r.rule.level == RuleLevel::Basic)
        .map(|r| ChecklistItem {
            rule_id: Some(r.rule.id),
            label: format!("{}（{}）", r.rule.title, r.rule.clause),
            max_score: AUTO_POINTS,
            auto_status: Some(r.status),
            score: Some(prefill_score(r.status)),
            note: r.finding.clone(),
        });
    let manual = MANUAL_ITEMS.iter().map(|(label, max)| ChecklistItem {
        rule_id: None,
        label: (*label).to_string(),
        max_score: *max,
        auto_status: None,
        score: None,
        note: String::new(),
    });
    auto.chain(manual).collect()
}

/// An open inspection's automatic items brought up to `e`, the evaluation the office page
/// shows now, with the pre-fill [`checklist`] gives: an item whose score is still the one
/// its recorded status pre-filled takes `e`'s status, score and finding; an item the
/// inspectors scored otherwise keeps their score and note and takes `e`'s status beside it.
/// Returns the ids of the items whose status, score or note changed.
pub fn prefill_from(items: &mut [InspectionItem], e: &Evaluation) -> Vec<i64> {
    let fresh = checklist(e);
    let mut changed = Vec::new();
    for it in items.iter_mut() {
        let Some(rule) = it.rule_id.as_deref() else {
            continue;
        };
        let Some(now) = fresh.iter().find(|c| c.rule_id == Some(rule)) else {
            continue;
        };
        let prefilled = it.auto_status.map(prefill_score);
        let untouched = it.score == prefilled;
        let before = (it.auto_status, it.score, it.note.clone());
        it.auto_status = now.auto_status;
        if untouched {
            it.score = now.score;
            it.note = now.note.clone();
        }
        if before != (it.auto_status, it.score, it.note.clone()) {
            changed.push(it.id);
        }
    }
    changed
}

/// The score and the most points of a checklist.
pub fn score_totals(items: &[InspectionItem]) -> (i64, i64) {
    (
        items.iter().filter_map(|i| i.score).sum(),
        items.iter().map(|i| i.max_score).sum(),
    )
}

/// The inspectors change an inspection (scores, rectifications, photos) only while it is
/// open.
pub fn editable(i: &Inspection) -> Result<(), StepError> {
    if i.status == InspectionStatus::Open {
        Ok(())
    } else {
        conflict(format!(
            "该检查验收已结束（{}），不能再修改",
            i.status.label()
        ))
    }
}

/// Closing an inspection as passed or failed, with the findings as checked. Passing needs
/// every item scored and every rectification done; failing needs the findings written.
pub fn decide_inspection(
    i: &Inspection,
    pass: bool,
    findings: &str,
) -> Result<InspectionStatus, StepError> {
    editable(i)?;
    if pass {
        if let Some(item) = i.items.iter().find(|x| x.score.is_none()) {
            return Err(FieldErrors::one(
                &format!("score_{}", item.id),
                format!("“{}”尚未评分，评分完成后才能验收通过", item.label),
            )
            .into());
        }
        if i.rectifications.iter().any(|r| r.done_on.is_none()) {
            return conflict(
                "还有未完成的整改事项，不能验收通过；请判定为未通过，整改后再组织复查",
            );
        }
        Ok(InspectionStatus::Passed)
    } else if findings.is_empty() {
        Err(FieldErrors::one("findings", "判定未通过时请写明检查意见").into())
    } else {
        Ok(InspectionStatus::Failed)
    }
}

/// The township reports a rectification done, once.
pub fn complete_rectification(r: &Rectification) -> Result<(), StepError> {
    match r.done_on {
        Some(_) => conflict("该整改事项已完成"),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------- subsidies

/// The refusal of a second payment of one subsidy.
pub const SUBSIDY_PAID: &str = "该补助已拨付，不能重复拨付";

/// Paying a subsidy out: once.
pub fn disburse(from: SubsidyStatus) -> Result<SubsidyStatus, StepError> {
    match from {
        SubsidyStatus::Pending => Ok(SubsidyStatus::Disbursed),
        SubsidyStatus::Disbursed => conflict(SUBSIDY_PAID),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn overdue_only_after_the_deadline_without_a_plan() {
        let dl = d("2026-04-30");
        let after = d("2026-05-01");
        assert!(!plan_overdue(None, Some(dl), dl));
        assert!(plan_overdue(None, Some(dl), after));
        assert!(plan_overdue(Some(PlanStatus::Returned), Some(dl), after));
        assert!(!plan_overdue(Some(PlanStatus::Submitted), Some(dl), after));
        assert!(!plan_overdue(None, None, after));
        assert_eq!(
            plan_standing(Some(PlanStatus::Returned), Some(dl), after),
            PlanStanding::Overdue
        );
        assert_eq!(plan_standing(None, None, after), PlanStanding::NotSubmitted);
        assert_eq!(PlanStanding::NotSubmitted.as_str(), "none");
    }

    /// The basic rules' ids, in display order (the ones an inspection scores).
    fn basic_rule_ids() -> Vec<&'static str> {
        super::super::rules::RULES
            .iter()
            .filter(|r| r.level == RuleLevel::Basic)
            .map(|r| r.id)
            .collect()
    }

    #[test]
    fn a_checklist_scores_each_basic_rule_from_the_evaluation_then_lists_the_manual_items() {
        let basic = basic_rule_ids();
        assert!(basic.len() >= 2 && basic.len() < super::super::rules::RULES.len());
        let (met, missed, unrecorded) = (basic[0], basic[1], *basic.last().unwrap());
        let e = Evaluation::with_statuses(&[
            (missed, RuleStatus::NotMet),
            (unrecorded, RuleStatus::NotRecorded),
        ]);
        let list = checklist(&e);
        assert_eq!(list.len(), basic.len() + MANUAL_ITEMS.len());
        let auto: Vec<&ChecklistItem> = list.iter().filter(|i| i.rule_id.is_some()).collect();
        assert_eq!(
            auto.iter().map(|i| i.rule_id.unwrap()).collect::<Vec<_>>(),
            basic
        );
        let item = |id: &str| auto.iter().find(|i| i.rule_id == Some(id)).unwrap();
        assert_eq!(item(met).score, Some(AUTO_POINTS));
        assert_eq!(item(met).auto_status, Some(RuleStatus::Met));
        assert_eq!(item(missed).score, Some(0));
        assert_eq!(item(unrecorded).score, Some(0));
        assert_eq!(item(missed).note, format!("{missed}：未达标"));
        assert!(auto.iter().all(|i| i.max_score == AUTO_POINTS));
        let manual: Vec<&ChecklistItem> = list[auto.len()..].iter().collect();
        for (i, (label, max)) in manual.iter().zip(MANUAL_ITEMS) {
            assert_eq!((i.label.as_str(), i.max_score), (*label, *max));
            assert_eq!((i.rule_id, i.score, i.auto_status), (None, None, None));
        }
    }

    #[test]
    fn an_open_inspection_follows_the_evaluation_where_the_inspectors_left_the_prefill() {
        let basic = basic_rule_ids();
        let (a, b, c) = (basic[0], basic[1], basic[2]);
        // Opened when `a` and `b` were not met and `c` was.
        let opened = checklist(&Evaluation::with_statuses(&[
            (a, RuleStatus::NotMet),
            (b, RuleStatus::NotMet),
        ]));
        let mut items: Vec<InspectionItem> = opened
            .iter()
            .enumerate()
            .map(|(k, i)| InspectionItem {
                id: 100 + k as i64,
                rule_id: i.rule_id.map(String::from),
                label: i.label.clone(),
                max_score: i.max_score,
                kind: if i.rule_id.is_some() {
                    ItemKind::Auto
                } else {
                    ItemKind::Manual
                },
                auto_status: i.auto_status,
                score: i.score,
                note: i.note.clone(),
            })
            .collect();
        let id_of = |items: &[InspectionItem], rule: &str| {
            items
                .iter()
                .find(|i| i.rule_id.as_deref() == Some(rule))
                .unwrap()
                .id
        };
        // The inspectors gave `b` 3 points of their own, and a manual item its score.
        let b_at = items
            .iter()
            .position(|i| i.rule_id.as_deref() == Some(b))
            .unwrap();
        items[b_at].score = Some(3);
        items[b_at].note = "现场核实".into();
        let manual_at = items.iter().position(|i| i.rule_id.is_none()).unwrap();
        items[manual_at].score = Some(2);
        // Now `a` and `b` are met and `c` is not.
        let now = Evaluation::with_statuses(&[(c, RuleStatus::NotMet)]);
        let mut changed = prefill_from(&mut items, &now);
        changed.sort();
        let mut expected = vec![id_of(&items, a), id_of(&items, b), id_of(&items, c)];
        expected.sort();
        assert_eq!(changed, expected);
        let get = |rule: &str| {
            items
                .iter()
                .find(|i| i.rule_id.as_deref() == Some(rule))
                .unwrap()
        };
        assert_eq!(
            (get(a).auto_status, get(a).score),
            (Some(RuleStatus::Met), Some(AUTO_POINTS))
        );
        assert_eq!(get(a).note, format!("{a}：达标"));
        // The inspectors' score and note stay; the status beside them is today's.
        assert_eq!(
            (get(b).auto_status, get(b).score, get(b).note.as_str()),
            (Some(RuleStatus::Met), Some(3), "现场核实")
        );
        assert_eq!(
            (get(c).auto_status, get(c).score),
            (Some(RuleStatus::NotMet), Some(0))
        );
        assert_eq!(items[manual_at].score, Some(2));
        // Brought up to the same evaluation again, nothing changes.
        assert!(prefill_from(&mut items, &now).is_empty());
    }

    fn scored_inspection(rectifications: Vec<Rectification>) -> Inspection {
        Inspection::sample(Some(10), rectifications)
    }

    #[test]
    fn an_inspection_passes_only_with_every_rectification_done() {
        let open = Rectification {
            id: 3,
            item: "补齐公示栏".into(),
            due_on: "2026-06-30".into(),
            done_on: None,
        };
        let done = Rectification {
            done_on: Some("2026-06-20".into()),
            ..open.clone()
        };
        assert!(matches!(
            decide_inspection(&scored_inspection(vec![done.clone(), open]), true, ""),
            Err(StepError::Conflict(m)) if m.contains("未完成的整改")
        ));
        assert_eq!(
            decide_inspection(&scored_inspection(vec![done]), true, ""),
            Ok(InspectionStatus::Passed)
        );
        assert_eq!(
            decide_inspection(&scored_inspection(vec![]), true, ""),
            Ok(InspectionStatus::Passed)
        );
        let mut unscored = scored_inspection(vec![]);
        unscored.items[0].score = None;
        assert!(decide_inspection(&unscored, true, "").is_err());
        assert!(
            decide_inspection(&unscored, false, "").is_err(),
            "failing needs findings"
        );
        assert_eq!(
            decide_inspection(&unscored, false, "公示栏缺失"),
            Ok(InspectionStatus::Failed)
        );
    }

    #[test]
    fn changes_and_plans_are_decided_once() {
        assert_eq!(
            decide_change(ChangeStatus::Pending, false),
            Ok(ChangeStatus::Rejected)
        );
        assert!(matches!(
            decide_change(ChangeStatus::Approved, true),
            Err(StepError::Conflict(m)) if m.contains("不能重复审批")
        ));
        assert!(submit_plan(Some(PlanStatus::Returned)).is_ok());
        assert!(submit_plan(Some(PlanStatus::Accepted)).is_err());
        assert_eq!(
            review_plan(PlanStatus::Submitted, false),
            Ok(PlanStatus::Returned)
        );
        assert!(review_plan(PlanStatus::Returned, true).is_err());
        assert!(plan_open(None) && plan_open(Some(PlanStatus::Returned)));
        assert!(!plan_open(Some(PlanStatus::Submitted)));
    }

    #[test]
    fn a_failed_inspection_leads_to_a_reinspection() {
        assert_eq!(open_inspection(None), Ok(None));
        assert_eq!(
            open_inspection(Some((7, InspectionStatus::Failed))),
            Ok(Some(7))
        );
        assert!(open_inspection(Some((7, InspectionStatus::Open))).is_err());
        assert!(open_inspection(Some((7, InspectionStatus::Passed))).is_err());
        assert_eq!(
            disburse(SubsidyStatus::Pending),
            Ok(SubsidyStatus::Disbursed)
        );
        assert!(disburse(SubsidyStatus::Disbursed).is_err());
    }

    #[test]
    fn an_approval_and_an_acceptance_take_their_own_way() {
        assert_eq!(
            decide_change(ChangeStatus::Pending, true),
            Ok(ChangeStatus::Approved)
        );
        assert_eq!(
            review_plan(PlanStatus::Submitted, true),
            Ok(PlanStatus::Accepted)
        );
    }

    #[test]
    fn a_roster_change_names_the_member_it_changes() {
        let appoint = RosterChange::Appoint {
            name: "李".into(),
            position: "干事".into(),
            is_director: false,
            full_time: true,
            since: "2026-01-01".into(),
            doc_number: String::new(),
            doc_date: None,
        };
        assert_eq!(appoint.staff_id(), None);
        let depart = RosterChange::Depart {
            staff_id: 42,
            on: "2026-06-30".into(),
        };
        assert_eq!(depart.staff_id(), Some(42));
        let update = RosterChange::Update {
            staff_id: 43,
            position: "主任".into(),
            is_director: true,
            full_time: true,
            doc_number: "雨民发〔2026〕3号".into(),
            doc_date: None,
        };
        assert_eq!(update.staff_id(), Some(43));
    }

    #[test]
    fn a_closed_inspection_and_a_done_rectification_are_not_changed_again() {
        let mut closed = scored_inspection(vec![]);
        closed.status = InspectionStatus::Passed;
        assert!(matches!(
            editable(&closed),
            Err(StepError::Conflict(m)) if m == "该检查验收已结束（验收通过），不能再修改"
        ));
        assert!(decide_inspection(&closed, true, "").is_err());
        assert_eq!(editable(&scored_inspection(vec![])), Ok(()));
        let open = Rectification {
            id: 3,
            item: "补齐公示栏".into(),
            due_on: "2026-06-30".into(),
            done_on: None,
        };
        assert_eq!(complete_rectification(&open), Ok(()));
        let done = Rectification {
            done_on: Some("2026-06-20".into()),
            ..open
        };
        assert!(matches!(
            complete_rectification(&done),
            Err(StepError::Conflict(m)) if m == "该整改事项已完成"
        ));
    }

    #[test]
    fn a_checklists_score_counts_the_scored_items_and_its_most_every_item() {
        let mut i = scored_inspection(vec![]);
        let mut second = i.items[0].clone();
        second.id = 8;
        second.max_score = 15;
        second.score = None;
        let mut third = second.clone();
        third.id = 9;
        third.max_score = 5;
        third.score = Some(3);
        i.items.push(second);
        i.items.push(third);
        assert_eq!(score_totals(&i.items), (13, 30));
        assert_eq!(score_totals(&[]), (0, 0));
    }

    #[test]
    fn an_appointment_names_nobody_on_the_roster_and_a_transfer_its_member() {
        use super::super::forms::{parse_staff_change, NewStaffChange};
        let form = |kind: &str| {
            parse_staff_change(&NewStaffChange {
                kind: kind.into(),
                staff_id: Some(3),
                name: "赵新".into(),
                position: "干事".into(),
                effective_on: "2026-12-01".into(),
                doc_number: "雨东办〔2026〕31号".into(),
                ..Default::default()
            })
            .unwrap()
        };
        let member = StaffMember {
            id: 3,
            township_code: "511802001".into(),
            name: "王旧".into(),
            position: "副主任".into(),
            is_director: false,
            full_time: true,
            since: "2020-01-01".into(),
            doc_number: String::new(),
            doc_date: None,
            active: true,
            ended_on: None,
        };
        let appoint = change_entry(&form("appoint"), Some(&member));
        assert_eq!((appoint.staff_id, appoint.name.as_str()), (None, "赵新"));
        let transfer = change_entry(&form("transfer"), Some(&member));
        assert_eq!(
            (transfer.staff_id, transfer.name.as_str()),
            (Some(3), "王旧")
        );
        assert_eq!(transfer.position, "干事");
    }
}
