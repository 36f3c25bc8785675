//! 案件记录 — cases, their history, statutory clocks, surveys, objections, enrolments
//! (保障对象) and notice boards as read back from storage, the typed words they carry, and
//! the inputs that create or move a case.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calculators::{Calculation, IncomeItem};
use crate::case_calc::{CaseDetails, MemberInput};
use crate::cases::{ActionKind, CaseState};
use crate::deadlines::{DeadlineStatus, Step};
use crate::limits::ReviewClass;
use crate::notices::PublicNoticeEntry;
use crate::{mask_id, Fen, Program, Role, UrbanRural};

crate::coded_enum! {
    /// 案件类别.
    pub enum CaseKind {
        /// A first application.
        New = ("new", "新申请"),
        /// 定期核查 of an enrolment, opened by the daily tasks.
        Review = ("review", "定期核查"),
        /// 变更 (增发/减发/停发) of an enrolment.
        Change = ("change", "变更"),
    }
}

crate::coded_enum! {
    /// Who opened a case.
    pub enum CaseOrigin {
        /// A clerk at the front desk.
        Clerk = ("clerk", "工作人员受理"),
        /// The daily tasks (高龄津贴 proposals).
        System = ("system", "系统拟定"),
    }
}

crate::coded_enum! {
    /// 保障状态.
    pub enum EnrolmentStatus {
        Active = ("active", "正常发放"),
        Suspended = ("suspended", "暂停发放"),
        /// 渐退期: paid until `grace_until`.
        Grace = ("grace", "渐退期"),
        Ended = ("ended", "已停保"),
    }
}

impl EnrolmentStatus {
    /// Still held (counts for exclusivity, may be changed).
    pub fn is_held(self) -> bool {
        !matches!(self, EnrolmentStatus::Ended)
    }
}

crate::coded_enum! {
    /// 发放方式 of an enrolment.
    pub enum PaymentSchedule {
        Monthly = ("monthly", "按月"),
        /// One-off programs (临时救助, 医疗救助 …): paid once, in the start month.
        Once = ("once", "一次性"),
    }
}

crate::coded_enum! {
    /// What an entry of a case's history records: a step of the procedure, or one of the
    /// entries made beside it.
    pub enum EventKind {
        /// Proposed by the system, or a follow-up case opened on an enrolment.
        Draft = ("draft", "系统拟定"),
        Submit = ("submit", "提交申请"),
        Accept = ("accept", "受理"),
        NotAccept = ("not_accept", "不予受理"),
        RequestPapers = ("request_papers", "一次性告知补正材料"),
        ResubmitPapers = ("resubmit_papers", "补正材料"),
        StartInvestigation = ("start_investigation", "开始入户调查"),
        RecordOpinion = ("record_opinion", "提出初审意见"),
        Publish = ("publish", "张榜公示"),
        RecordObjection = ("record_objection", "登记公示异议"),
        CloseNotice = ("close_notice", "公示期满报送审核"),
        SendWithoutNotice = ("send_without_notice", "不经公示报送审核"),
        Approve = ("approve", "确认同意"),
        Deny = ("deny", "不予确认"),
        Enrol = ("enrol", "纳入保障"),
        Suspend = ("suspend", "暂停发放"),
        Resume = ("resume", "恢复发放"),
        Terminate = ("terminate", "终止保障"),
        Withdraw = ("withdraw", "撤回申请"),
        Survey = ("survey", "登记入户调查"),
        /// The applicant's details (the calculator's inputs) changed.
        Amend = ("amend", "修改申请信息"),
        /// A paper or photo was uploaded.
        Attach = ("attach", "上传材料"),
    }
}

impl From<ActionKind> for EventKind {
    fn from(k: ActionKind) -> EventKind {
        // The codes agree by construction.
        EventKind::parse(k.as_str()).unwrap_or(EventKind::Draft)
    }
}

/// A case as lists and pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub id: i64,
    pub case_no: String,
    pub program: Program,
    pub kind: CaseKind,
    pub state: CaseState,
    pub township_code: String,
    pub village_code: String,
    pub village_name: String,
    pub household_id: i64,
    pub person_id: Option<i64>,
    pub enrolment_id: Option<i64>,
    /// The subject (person) or, for household programs, the head.
    pub subject_name: String,
    pub subject_id_number: String,
    pub head_name: String,
    pub address: String,
    pub urban_rural: UrbanRural,
    pub subject_is_minor: bool,
    pub applied_on: String,
    pub reason: String,
    pub details: CaseDetails,
    pub proposed_fen: Option<Fen>,
    pub calc: Option<Calculation>,
    pub approved_fen: Option<Fen>,
    /// A hand amount's reason and the calculator's amount it was compared with (§3.4);
    /// `amount_calc_fen` is `None` while the amounts are the calculator's.
    pub amount_reason: String,
    pub amount_calc_fen: Option<Fen>,
    pub decided_on: Option<String>,
    pub decision_reasons: String,
    pub notice_posted_on: Option<String>,
    pub notice_batch_id: Option<i64>,
    pub missing_items: String,
    /// 近亲属备案: how the household is tied to staff or cadres ('' = not filed).
    pub filed_note: String,
    pub created_by: String,
    /// A clerk's application, or the daily tasks' proposal.
    pub origin: CaseOrigin,
    pub created_at: String,
    pub updated_at: String,
}

impl Case {
    /// ID number masked for roles that must not see it in full.
    pub fn masked(mut self) -> Self {
        self.subject_id_number = mask_id(&self.subject_id_number);
        self
    }

    /// The amount typed by hand that differs from the calculator's, with the calculator's:
    /// (hand amount, calculated). The approved amount once there is one, else the proposed.
    pub fn hand_amount(&self) -> Option<(Fen, Fen)> {
        let calc = self.amount_calc_fen?;
        let amount = self.approved_fen.or(self.proposed_fen)?;
        (amount != calc).then_some((amount, calc))
    }

    /// The date the decision was taken, if any.
    pub fn decided_date(&self) -> Option<NaiveDate> {
        self.decided_on.as_deref().and_then(parse_date)
    }

    /// The date the current notice was posted, if any.
    pub fn notice_posted_date(&self) -> Option<NaiveDate> {
        self.notice_posted_on.as_deref().and_then(parse_date)
    }
}

#[cfg(test)]
impl Case {
    /// A 农村 case in village 511802001001 proposing 500.00, applied for on 2026-03-01,
    /// for the domain's unit tests.
    pub(crate) fn sample(program: Program, state: CaseState) -> Case {
        Case {
            id: 1,
            case_no: "C1".into(),
            program,
            kind: crate::cases::CaseKind::New,
            state,
            township_code: "511802001".into(),
            village_code: "511802001001".into(),
            village_name: "村".into(),
            household_id: 1,
            person_id: None,
            enrolment_id: None,
            subject_name: "甲".into(),
            subject_id_number: String::new(),
            head_name: "甲".into(),
            address: String::new(),
            urban_rural: UrbanRural::Rural,
            subject_is_minor: false,
            applied_on: "2026-03-01".into(),
            reason: String::new(),
            details: Default::default(),
            proposed_fen: Some(Fen(50_000)),
            calc: None,
            approved_fen: None,
            amount_reason: String::new(),
            amount_calc_fen: None,
            decided_on: None,
            decision_reasons: String::new(),
            notice_posted_on: None,
            notice_batch_id: None,
            missing_items: String::new(),
            filed_note: String::new(),
            created_by: "staff".into(),
            origin: crate::cases::CaseOrigin::Clerk,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }
}

/// A stored `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// One entry in the case's history.
#[derive(Debug, Clone, Serialize)]
pub struct CaseEvent {
    pub id: i64,
    pub action: EventKind,
    pub from_state: Option<CaseState>,
    pub to_state: Option<CaseState>,
    pub actor: String,
    /// `None`: the system.
    pub role: Option<Role>,
    pub on_date: String,
    pub at: String,
    pub note: String,
    pub data: serde_json::Value,
}

/// A statutory clock.
#[derive(Debug, Clone, Serialize)]
pub struct CaseClock {
    pub step: Step,
    pub started_on: String,
    pub due_on: String,
    pub stopped_on: Option<String>,
    /// For running clocks with a limit in force: 剩余N个工作日 / 即将到期 / 已超期N天.
    pub status: Option<DeadlineStatus>,
    pub overdue: bool,
    pub due_soon: bool,
}

/// 入户调查记录.
#[derive(Debug, Clone, Serialize)]
pub struct Survey {
    pub id: i64,
    pub visited_on: String,
    pub investigators: String,
    pub findings: String,
    pub authorization_signed: bool,
    pub created_by: String,
}

/// 异议.
#[derive(Debug, Clone, Serialize)]
pub struct Objection {
    pub id: i64,
    pub received_on: String,
    pub summary: String,
    pub recorded_by: String,
}

/// 保障对象 — one enrolment.
#[derive(Debug, Clone, Serialize)]
pub struct Enrolment {
    pub id: i64,
    pub program: Program,
    pub case_id: Option<i64>,
    pub household_id: i64,
    pub person_id: Option<i64>,
    pub township_code: String,
    pub village_code: String,
    pub beneficiary_name: String,
    pub beneficiary_id_number: String,
    pub household_size: i64,
    pub monthly_fen: Fen,
    /// What December pays on top of `monthly_fen` (an annual amount paid monthly, 优抚:
    /// the year's remainder; 0 otherwise).
    pub year_end_extra_fen: Fen,
    pub payment: PaymentSchedule,
    pub start_month: String,
    pub end_month: Option<String>,
    pub status: EnrolmentStatus,
    pub grace_until: Option<String>,
    pub next_review_on: Option<String>,
    pub review_class: Option<ReviewClass>,
}

impl Enrolment {
    /// What the enrolment pays for `month` (December adds the year's remainder).
    pub fn amount_for(&self, month: crate::YearMonth) -> Fen {
        if month.month() == 12 {
            Fen(self.monthly_fen.0 + self.year_end_extra_fen.0)
        } else {
            self.monthly_fen
        }
    }

    pub fn masked(mut self) -> Self {
        self.beneficiary_id_number = mask_id(&self.beneficiary_id_number);
        self
    }
}

/// A new application.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NewCase {
    pub household_id: i64,
    /// The subject for per-person programs (特困, 单人保, 高龄, 优抚, 教育 …).
    #[serde(default)]
    pub person_id: Option<i64>,
    /// The program's code as submitted (checked by [`crate::cases::check_application`]).
    pub program: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub details: CaseDetails,
    /// Submit at once (the usual case); otherwise the case stays a draft.
    #[serde(default = "yes")]
    pub submit: bool,
}

fn yes() -> bool {
    true
}

/// What an action needs beyond the domain action (form fields).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ActionExtras {
    /// Free note recorded with the event.
    #[serde(default)]
    pub note: String,
    /// Survey: visit date and findings (with StartInvestigation or a separate survey).
    #[serde(default)]
    pub findings: String,
    /// Terminate: a gradual exit (渐退) instead of an immediate stop.
    #[serde(default)]
    pub grace: bool,
    /// Opinion or approval: why a hand amount differs from the calculator's (§3.4).
    #[serde(default)]
    pub amount_reason: String,
    /// Approval: the county confirms an amount far above the calculator's.
    #[serde(default)]
    pub amount_confirmed: bool,
}

/// Which cases a list shows by origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OriginFilter {
    /// Every case.
    #[default]
    All,
    /// Everything but the system's unverified proposals (the case list's default).
    NoSystemDrafts,
    Only(CaseOrigin),
}

/// Which cases a list shows by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFilter {
    /// Not yet decided, enrolled or closed.
    Open,
    Is(CaseState),
}

/// Filters for the case list.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CaseFilter {
    /// A state's code, or `open`.
    pub state: Option<String>,
    pub program: Option<String>,
    pub kind: Option<String>,
    /// Name or case number.
    pub q: Option<String>,
    /// `system` (opened by the daily tasks), `clerk`, `no_system_drafts` (everything but
    /// the system's unverified proposals: the case list's default), or all when empty.
    #[serde(default)]
    pub origin: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// A [`CaseFilter`] read into typed values. Codes no variant knows are kept as typed so
/// that the list is simply empty (as a filter on an unknown code always was).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseQuery {
    pub state: Option<Result<StateFilter, String>>,
    pub program: Option<Result<Program, String>>,
    pub kind: Option<Result<CaseKind, String>>,
    pub q: Option<String>,
    pub origin: OriginFilter,
    pub limit: i64,
    pub offset: i64,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

impl CaseFilter {
    /// The typed query, or the refusal of an origin no list knows.
    pub fn query(&self) -> Result<CaseQuery, crate::FieldErrors> {
        let origin = match self.origin.as_deref().unwrap_or("") {
            "" | "all" => OriginFilter::All,
            "no_system_drafts" => OriginFilter::NoSystemDrafts,
            "system" => OriginFilter::Only(CaseOrigin::System),
            "clerk" => OriginFilter::Only(CaseOrigin::Clerk),
            _ => {
                return Err(crate::FieldErrors::one(
                    "origin",
                    "来源只能是 system、clerk 或 all",
                ))
            }
        };
        Ok(CaseQuery {
            state: given(&self.state).map(|s| {
                if s == "open" {
                    Ok(StateFilter::Open)
                } else {
                    CaseState::parse(s)
                        .map(StateFilter::Is)
                        .ok_or_else(|| s.to_string())
                }
            }),
            program: given(&self.program).map(|p| p.parse().map_err(|_| p.to_string())),
            kind: given(&self.kind).map(|k| CaseKind::parse(k).ok_or_else(|| k.to_string())),
            q: self
                .q
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            origin,
            limit: self.limit.unwrap_or(50).clamp(1, 500),
            offset: self.offset.unwrap_or(0).max(0),
        })
    }
}

/// Filters for the enrolment list.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct EnrolmentFilter {
    pub status: Option<String>,
    pub program: Option<String>,
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// An [`EnrolmentFilter`] read into typed values (unknown codes kept as typed: they
/// match nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentQuery {
    pub status: Option<Result<EnrolmentStatus, String>>,
    pub program: Option<Result<Program, String>>,
    pub q: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

impl EnrolmentFilter {
    pub fn query(&self) -> EnrolmentQuery {
        EnrolmentQuery {
            status: given(&self.status)
                .map(|s| EnrolmentStatus::parse(s).ok_or_else(|| s.to_string())),
            program: given(&self.program).map(|p| p.parse().map_err(|_| p.to_string())),
            q: self
                .q
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
            limit: self.limit.unwrap_or(50).clamp(1, 500),
            offset: self.offset.unwrap_or(0).max(0),
        }
    }
}

/// A case near or past a statutory limit (dashboards).
#[derive(Debug, Clone, Serialize)]
pub struct DueItem {
    pub case_id: i64,
    pub case_no: String,
    pub subject_name: String,
    pub program: Program,
    pub step: Step,
    pub due_on: String,
    pub status: DeadlineStatus,
    pub overdue: bool,
}

/// A running clock as stored, before its limit is looked up.
#[derive(Debug, Clone)]
pub struct RunningClock {
    pub case_id: i64,
    pub case_no: String,
    pub subject_name: String,
    pub program: Program,
    pub village_code: String,
    pub urban_rural: Option<UrbanRural>,
    pub step: Step,
    pub started_on: NaiveDate,
}

/// 公示 on the public page: only whitelisted fields.
#[derive(Debug, Clone, Serialize)]
pub struct PublicNotice {
    pub id: i64,
    pub title: String,
    pub division_name: String,
    pub starts_on: String,
    pub ends_on: String,
    pub entries: Vec<PublicNoticeEntry>,
    /// The township office objections go to, and its phone ('' if not recorded).
    pub office_name: String,
    pub office_phone: String,
}

/// A notice batch for staff (with case links).
#[derive(Debug, Clone, Serialize)]
pub struct NoticeBatch {
    pub id: i64,
    pub title: String,
    pub division_code: String,
    pub division_name: String,
    pub starts_on: String,
    pub ends_on: String,
    pub created_by: String,
    pub entries: Vec<NoticeBatchEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoticeBatchEntry {
    pub case_id: i64,
    pub entry: PublicNoticeEntry,
}

/// Counts for the dashboard.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaseCounts {
    pub open: i64,
    pub publicised: i64,
    pub awaiting_decision: i64,
    pub enrolled: i64,
    pub monthly_total_fen: Fen,
}

/// The household's registry facts the calculators and the notice read.
#[derive(Debug, Clone)]
pub struct HouseholdFacts {
    pub township_code: String,
    pub village_code: String,
    pub urban_rural: UrbanRural,
    /// Active members with a valid ID number on the date asked.
    pub members: Vec<MemberInput>,
    /// Every active member: person id → (ID number, name).
    pub member_ids: HashMap<i64, (String, String)>,
    pub incomes: Vec<IncomeItem>,
    /// Members counted in the household (共同生活).
    pub counted: i64,
    pub head_id: String,
    pub address: String,
    pub phone: String,
    pub account: String,
}

/// A past 临时救助 grant of a household, as stored.
#[derive(Debug, Clone)]
pub struct PastTemporaryCase {
    pub case_id: i64,
    pub decided_on: Option<String>,
    pub details: CaseDetails,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_but_ended_is_held() {
        use EnrolmentStatus as S;
        for (s, held) in [
            (S::Active, true),
            (S::Suspended, true),
            (S::Grace, true),
            (S::Ended, false),
        ] {
            assert_eq!(s.is_held(), held, "{s:?}");
        }
    }

    #[test]
    fn a_hand_amount_is_the_decided_or_proposed_one_when_it_differs_from_the_calculator() {
        let mut c = Case::sample(Program::RuralDibao, crate::cases::CaseState::Submitted);
        // No calculation: nothing to compare.
        assert_eq!(c.hand_amount(), None);
        c.amount_calc_fen = Some(Fen(48_000));
        assert_eq!(c.hand_amount(), Some((Fen(50_000), Fen(48_000))));
        c.approved_fen = Some(Fen(48_000));
        assert_eq!(c.hand_amount(), None);
        c.approved_fen = Some(Fen(47_000));
        assert_eq!(c.hand_amount(), Some((Fen(47_000), Fen(48_000))));
    }

    #[test]
    fn a_cases_decision_and_notice_dates_read_from_storage() {
        let mut c = Case::sample(Program::RuralDibao, crate::cases::CaseState::Approved);
        assert_eq!(c.decided_date(), None);
        assert_eq!(c.notice_posted_date(), None);
        c.decided_on = Some("2026-04-15".into());
        c.notice_posted_on = Some("2026-04-02".into());
        assert_eq!(c.decided_date(), NaiveDate::from_ymd_opt(2026, 4, 15));
        assert_eq!(c.notice_posted_date(), NaiveDate::from_ymd_opt(2026, 4, 2));
        c.notice_posted_on = Some("2026-04".into());
        assert_eq!(c.notice_posted_date(), None);
    }

    #[test]
    fn december_pays_the_years_remainder_on_top() {
        let e = Enrolment {
            id: 1,
            program: Program::PreferentialCare,
            case_id: None,
            household_id: 1,
            person_id: Some(1),
            township_code: "511802001".into(),
            village_code: "511802001001".into(),
            beneficiary_name: "甲".into(),
            beneficiary_id_number: String::new(),
            household_size: 1,
            monthly_fen: Fen(150_000),
            year_end_extra_fen: Fen(700),
            payment: PaymentSchedule::Monthly,
            start_month: "2026-01".into(),
            end_month: None,
            status: EnrolmentStatus::Active,
            grace_until: None,
            next_review_on: None,
            review_class: None,
        };
        let ym = |s| crate::YearMonth::parse(s).unwrap();
        assert_eq!(e.amount_for(ym("2026-11")), Fen(150_000));
        assert_eq!(e.amount_for(ym("2026-12")), Fen(150_700));
        assert_eq!(e.amount_for(ym("2027-01")), Fen(150_000));
    }

    #[test]
    fn an_application_is_submitted_unless_it_says_draft() {
        let c: NewCase =
            serde_json::from_str(r#"{"household_id": 3, "program": "rural_dibao"}"#).unwrap();
        assert!(c.submit);
        let c: NewCase = serde_json::from_str(
            r#"{"household_id": 3, "program": "rural_dibao", "submit": false}"#,
        )
        .unwrap();
        assert!(!c.submit);
    }

    fn case_filter(origin: &str) -> CaseFilter {
        CaseFilter {
            origin: Some(origin.into()),
            ..CaseFilter::default()
        }
    }

    #[test]
    fn the_case_lists_origin_reads_each_word_and_refuses_others() {
        for (word, origin) in [
            ("", OriginFilter::All),
            ("all", OriginFilter::All),
            ("no_system_drafts", OriginFilter::NoSystemDrafts),
            (
                "system",
                OriginFilter::Only(crate::cases::CaseOrigin::System),
            ),
            ("clerk", OriginFilter::Only(crate::cases::CaseOrigin::Clerk)),
        ] {
            assert_eq!(case_filter(word).query().unwrap().origin, origin, "{word}");
        }
        assert_eq!(
            CaseFilter::default().query().unwrap().origin,
            OriginFilter::All
        );
        let e = case_filter("robot").query().unwrap_err();
        assert_eq!(e.get("origin"), Some("来源只能是 system、clerk 或 all"));
    }

    #[test]
    fn the_case_lists_filters_read_states_programs_and_words_and_keep_unknown_codes() {
        let f = CaseFilter {
            state: Some("open".into()),
            program: Some("rural_dibao".into()),
            kind: Some("review".into()),
            q: Some("  张三 ".into()),
            limit: Some(1_000),
            offset: Some(-5),
            origin: None,
        };
        let q = f.query().unwrap();
        assert_eq!(q.state, Some(Ok(StateFilter::Open)));
        assert_eq!(q.program, Some(Ok(Program::RuralDibao)));
        assert_eq!(q.kind, Some(Ok(crate::cases::CaseKind::Review)));
        assert_eq!(q.q.as_deref(), Some("张三"));
        assert_eq!((q.limit, q.offset), (500, 0));
        let f = CaseFilter {
            state: Some("approved".into()),
            program: Some("nope".into()),
            kind: Some("".into()),
            q: Some("   ".into()),
            limit: Some(0),
            offset: Some(20),
            origin: None,
        };
        let q = f.query().unwrap();
        assert_eq!(
            q.state,
            Some(Ok(StateFilter::Is(crate::cases::CaseState::Approved)))
        );
        assert_eq!(q.program, Some(Err("nope".to_string())));
        assert_eq!(q.kind, None);
        assert_eq!(q.q, None);
        assert_eq!((q.limit, q.offset), (1, 20));
        let q = CaseFilter {
            state: Some("limbo".into()),
            ..CaseFilter::default()
        }
        .query()
        .unwrap();
        assert_eq!(q.state, Some(Err("limbo".to_string())));
        assert_eq!((q.limit, q.offset), (50, 0));
    }

    #[test]
    fn the_enrolment_lists_filters_read_statuses_programs_and_words() {
        let q = EnrolmentFilter {
            status: Some("grace".into()),
            program: Some("tekun".into()),
            q: Some(" 李四 ".into()),
            limit: Some(501),
            offset: Some(-1),
        }
        .query();
        assert_eq!(q.status, Some(Ok(EnrolmentStatus::Grace)));
        assert_eq!(q.program, Some(Ok(Program::Tekun)));
        assert_eq!(q.q.as_deref(), Some("李四"));
        assert_eq!((q.limit, q.offset), (500, 0));
        let q = EnrolmentFilter {
            status: Some("gone".into()),
            program: Some("".into()),
            q: Some(" ".into()),
            limit: None,
            offset: Some(7),
        }
        .query();
        assert_eq!(q.status, Some(Err("gone".to_string())));
        assert_eq!(q.program, None);
        assert_eq!(q.q, None);
        assert_eq!((q.limit, q.offset), (50, 7));
    }
}
