//! The rules around the state machine: who an application may be for, what the page may
//! offer next, which parameters a step reads, how an enrolment starts, changes and ends
//! (docs/rules.md §2–§4).

use chrono::{Datelike, NaiveDate};

use crate::case_calc::CaseDetails;
use crate::cases::records::{
    Case, CaseKind, EnrolmentStatus, HouseholdFacts, PastTemporaryCase, PaymentSchedule,
};
use crate::cases::{transition, Action, ActionKind, CaseError, CaseFacts, CaseState};
use crate::deadlines::{deadline_status, DeadlineStatus, StatutoryLimits, Step};
use crate::limits::{enrolment_start_month, next_review_date, PastGrant, ReviewClass};
use crate::params::{ParamName, ParamQuery, ParamSet, ParamValue};
use crate::programs::AmountUnit;
use crate::{
    ApprovalLevel, DivisionCode, Fen, FieldErrors, IdNumber, Program, Role, UrbanRural,
    WorkCalendar, YearMonth,
};

/// Whether a program is applied for one person (特困, 单人保, 高龄, 优抚, 教育 …) rather than
/// the household as a whole (低保, 临时救助, 受灾人员救助).
pub fn per_person(program: Program) -> bool {
    !matches!(
        program,
        Program::UrbanDibao
            | Program::RuralDibao
            | Program::TemporaryAssistance
            | Program::DisasterRelief
    )
}

/// An application that passed the checks that need only the household.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub program: Program,
    pub person_id: Option<i64>,
    /// The subject's ID number (the head's for household programs).
    pub subject_id_number: String,
    pub subject_is_minor: bool,
}

/// Checks a new application against the household: the program exists, a per-person
/// program names a member of the household, and 城市低保 / 农村低保 match the household's
/// registration (docs/rules.md §2).
pub fn check_application(
    program: &str,
    person_id: Option<i64>,
    f: &HouseholdFacts,
    on: NaiveDate,
) -> Result<Application, FieldErrors> {
    let program: Program = program
        .trim()
        .parse()
        .map_err(|_| FieldErrors::one("program", "请选择救助项目"))?;
    let person_id = match person_id {
        Some(p) if f.member_ids.contains_key(&p) => Some(p),
        Some(_) => return Err(FieldErrors::one("person_id", "救助对象不是该户的在册成员")),
        None if per_person(program) => {
            return Err(FieldErrors::one(
                "person_id",
                format!("{}须选择救助对象(家庭成员)", program.label()),
            ))
        }
        None => None,
    };
    let rt_ok = match program {
        Program::UrbanDibao => f.urban_rural == UrbanRural::Urban,
        Program::RuralDibao => f.urban_rural == UrbanRural::Rural,
        _ => true,
    };
    if !rt_ok {
        return Err(FieldErrors::one(
            "program",
            format!(
                "该户为{}户籍，不能申请{}",
                if f.urban_rural == UrbanRural::Urban {
                    "城镇"
                } else {
                    "农村"
                },
                program.label()
            ),
        ));
    }
    let subject_id_number = person_id
        .and_then(|p| f.member_ids.get(&p))
        .map(|(s, _)| s.clone())
        .unwrap_or_else(|| f.head_id.clone());
    let subject_is_minor = IdNumber::parse(&subject_id_number, on).is_ok_and(|i| i.age_at(on) < 18);
    Ok(Application {
        program,
        person_id,
        subject_id_number,
        subject_is_minor,
    })
}

/// The members whose current enrolments an application must not clash with: the subject,
/// or every member for household programs.
pub fn exclusivity_subjects(f: &HouseholdFacts, person_id: Option<i64>) -> Vec<i64> {
    match person_id {
        Some(p) => vec![p],
        None => f.member_ids.keys().copied().collect(),
    }
}

/// 临时救助 needs its cause (同一事由 limits count per cause).
pub fn temporary_cause(details: &CaseDetails) -> Result<&str, FieldErrors> {
    let cause = details.cause.as_deref().map(str::trim).unwrap_or("");
    if cause.is_empty() {
        Err(FieldErrors::one(
            "cause",
            "临时救助须填写救助事由(如火灾、重病)",
        ))
    } else {
        Ok(cause)
    }
}

/// The household's past grants with a decision date and a cause, leaving out `exclude`
/// (the case being decided).
pub fn past_grants(cases: &[PastTemporaryCase], exclude: Option<i64>) -> Vec<PastGrant> {
    cases
        .iter()
        .filter(|c| Some(c.case_id) != exclude)
        .filter_map(|c| {
            Some(PastGrant {
                granted_on: c.decided_on.as_deref().and_then(super::parse_date)?,
                cause: c.details.cause.clone()?,
            })
        })
        .collect()
}

/// The region a village's parameters are looked up for.
pub fn region_of(village: &str) -> Option<DivisionCode> {
    DivisionCode::parse_native(village).ok()
}

/// What the state machine needs to know about a stored case, with the parameters in
/// force (notice days, the township's 临时救助 threshold).
pub fn facts_of(c: &Case, qy: Option<&ParamQuery<'_>>) -> CaseFacts {
    CaseFacts {
        workflow: c.program.info().workflow,
        state: c.state,
        subject_is_minor: c.subject_is_minor,
        notice_posted_on: c.notice_posted_date(),
        notice_days: notice_days(qy, c.program),
        proposed_amount: c.proposed_fen,
        township_approval_threshold: qy.and_then(|q| {
            q.amount(c.program, ParamName::TownshipApprovalThreshold)
                .ok()
        }),
    }
}

/// 公示天数 in force (7 where no parameter says otherwise).
pub fn notice_days(qy: Option<&ParamQuery<'_>>, program: Program) -> u32 {
    qy.and_then(|q| q.days(program, ParamName::NoticeDays).ok())
        .unwrap_or(7)
}

/// The approval level configured for the program (its default where none is set).
pub fn configured_level(qy: &ParamQuery<'_>, program: Program) -> ApprovalLevel {
    qy.approval_level(program, ParamName::ApprovalLevel)
        .unwrap_or(program.info().default_approval)
}

/// The role the system acts in when it takes a step (demo seeding, daily tasks): the first
/// role the step allows at the level that decides it.
pub fn system_role(facts: &CaseFacts, action: &Action, configured: ApprovalLevel) -> Role {
    let amount = match action {
        Action::Approve { amount } => Some(*amount),
        _ => None,
    };
    let level = super::effective_approval_level(facts, amount, configured);
    super::allowed_roles(action.kind(), level)[0]
}

/// The actions legal from the case's state whoever takes them (the page's buttons; the
/// role and content are checked when one is taken).
pub fn next_actions(c: &Case) -> Vec<ActionKind> {
    let mut facts = facts_of(c, None);
    facts.notice_posted_on = None;
    facts.notice_days = 0;
    ActionKind::ALL
        .iter()
        .copied()
        .filter(|k| {
            let a = sample_action(*k);
            [
                Role::VillageAssistant,
                Role::TownshipStaff,
                Role::TownshipDirector,
                Role::CountyApprover,
            ]
            .into_iter()
            .any(|r| {
                !matches!(
                    transition(&facts, a.clone(), r, ApprovalLevel::County, NaiveDate::MAX),
                    Err(CaseError::IllegalTransition { .. })
                )
            })
        })
        .collect()
}

pub(super) fn sample_action(k: ActionKind) -> Action {
    match k {
        ActionKind::Submit => Action::Submit,
        ActionKind::Accept => Action::Accept,
        ActionKind::NotAccept => Action::NotAccept {
            reasons: "x".into(),
        },
        ActionKind::RequestPapers => Action::RequestPapers {
            missing: vec!["x".into()],
        },
        ActionKind::ResubmitPapers => Action::ResubmitPapers,
        ActionKind::StartInvestigation => Action::StartInvestigation {
            investigators: vec!["a".into(), "b".into()],
            authorization_attached: true,
        },
        ActionKind::RecordOpinion => Action::RecordOpinion {
            proposed_amount: Some(Fen(0)),
        },
        ActionKind::Publish => Action::Publish,
        ActionKind::RecordObjection => Action::RecordObjection {
            summary: "x".into(),
        },
        ActionKind::CloseNotice => Action::CloseNotice,
        ActionKind::SendWithoutNotice => Action::SendWithoutNotice,
        ActionKind::Approve => Action::Approve { amount: Fen(0) },
        ActionKind::Deny => Action::Deny {
            reasons: "x".into(),
        },
        ActionKind::Enrol => Action::Enrol,
        ActionKind::Suspend => Action::Suspend {
            reasons: "x".into(),
        },
        ActionKind::Resume => Action::Resume,
        ActionKind::Terminate => Action::Terminate {
            reasons: "x".into(),
        },
        ActionKind::Withdraw => Action::Withdraw,
    }
}

/// Whether any role may take `kind` at some approval level (for drawing a step's form).
pub fn role_may_take(kind: ActionKind, role: Option<Role>) -> bool {
    let Some(r) = role else { return false };
    super::allowed_roles(kind, ApprovalLevel::County).contains(&r)
        || super::allowed_roles(kind, ApprovalLevel::Township).contains(&r)
}

/// The applicant's details may still be changed (before the first-review opinion).
pub fn details_editable(s: CaseState) -> bool {
    matches!(
        s,
        CaseState::Draft
            | CaseState::Submitted
            | CaseState::MissingPapers
            | CaseState::Accepted
            | CaseState::Investigating
            | CaseState::Reinvestigating
    )
}

/// The refusal when details can no longer change.
pub fn details_locked(s: CaseState) -> String {
    format!("案件当前为“{}”，申请信息已不能修改", s.label())
}

/// Papers may be attached until the case is closed.
pub fn papers_refused(s: CaseState) -> Option<String> {
    s.is_final()
        .then(|| format!("案件已“{}”，不能再上传材料", s.label()))
}

/// Whether a statutory step concerns the role on its dashboard: approvers see the
/// confirmation step, township and village roles the rest, others everything.
pub fn step_concerns(role: Option<Role>, step: Step) -> bool {
    match role {
        Some(Role::CountyApprover) => step == Step::Confirmation,
        Some(Role::TownshipDirector | Role::TownshipStaff | Role::VillageAssistant) => {
            step != Step::Confirmation
        }
        _ => true,
    }
}

/// A clock's standing on `on`: its status, overdue, due soon (none for a stopped clock or
/// one without a limit in force).
pub fn clock_standing(
    limits: Option<&StatutoryLimits>,
    step: Step,
    started: Option<NaiveDate>,
    stopped: bool,
    cal: &WorkCalendar,
    on: NaiveDate,
) -> (Option<DeadlineStatus>, bool, bool) {
    if stopped {
        return (None, false, false);
    }
    match (limits.and_then(|l| l.limit(step)), started) {
        (Some(l), Some(s)) => {
            let st = deadline_status(cal, s, l, on);
            (
                Some(st),
                matches!(st, DeadlineStatus::Overdue { .. }),
                matches!(st, DeadlineStatus::DueSoon { .. }),
            )
        }
        _ => (None, false, false),
    }
}

/// The youngest 高龄津贴 band anywhere in the parameters, as the latest birth date that
/// reaches it on `on`; persons born later are not proposed (the exact band is decided per
/// person by the calculator at approval).
pub fn old_age_birth_cutoff(params: &ParamSet, on: NaiveDate) -> NaiveDate {
    let min_age = params
        .entries()
        .iter()
        .filter_map(|e| match &e.value {
            ParamValue::AgeBands(b) => b.iter().map(|x| x.min_age).min(),
            _ => None,
        })
        .min()
        .unwrap_or(80);
    on.with_year(on.year() - min_age as i32).unwrap_or(on)
}

/// A new enrolment, as the approval fixed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentPlan {
    pub monthly: Fen,
    /// What December pays on top of `monthly` (an annual amount paid monthly; else 0).
    pub year_end_extra: Fen,
    pub payment: PaymentSchedule,
    pub start_month: YearMonth,
    /// One-off payments end in their start month.
    pub end_month: Option<YearMonth>,
    pub next_review_on: Option<NaiveDate>,
    pub review_class: Option<ReviewClass>,
}

/// What 纳入保障 does to the enrolments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrolmentChange {
    /// A new application: a new enrolment.
    Create(EnrolmentPlan),
    /// 增发/减发: a review or change case fixes a new monthly amount.
    Adjust {
        enrolment_id: i64,
        monthly: Fen,
        /// What December pays on top of `monthly` (an annual amount paid monthly; else 0).
        year_end_extra: Fen,
        next_review_on: NaiveDate,
    },
    /// 停发: a review or change confirmed at zero ends the enrolment after the decision
    /// month.
    Stop {
        enrolment_id: i64,
        end_month: YearMonth,
    },
}

/// The enrolment an approved case leads to: payment from the month after approval, periodic
/// reviews by income class (docs/rules.md §4).
pub fn enrolment_change(
    c: &Case,
    qy: &ParamQuery<'_>,
    on: NaiveDate,
) -> Result<EnrolmentChange, String> {
    let amount = c.approved_fen.ok_or_else(|| "确认金额缺失".to_string())?;
    let decided = c.decided_date().unwrap_or(on);
    let offset = qy
        .months(c.program, ParamName::PaymentStartOffsetMonths)
        .unwrap_or(1);
    let start = enrolment_start_month(decided, offset);
    let stable = qy
        .months(c.program, ParamName::ReviewMonthsStable)
        .unwrap_or(12);
    let irregular = qy
        .months(c.program, ParamName::ReviewMonthsIrregular)
        .unwrap_or(6);
    let class = if c.details.rigid_spending_fen.is_some() {
        ReviewClass::Irregular
    } else {
        ReviewClass::Stable
    };
    let review = next_review_date(decided, class, stable, irregular);
    let once = c.program.info().unit == AmountUnit::OneOff;
    if let (Some(eid), false) = (c.enrolment_id, c.kind == CaseKind::New) {
        if amount.0 == 0 {
            return Ok(EnrolmentChange::Stop {
                enrolment_id: eid,
                end_month: YearMonth::of(decided),
            });
        }
        let (monthly, year_end_extra) = monthly_and_year_end(c, qy, amount);
        return Ok(EnrolmentChange::Adjust {
            enrolment_id: eid,
            monthly,
            year_end_extra,
            next_review_on: review,
        });
    }
    let (monthly, year_end_extra) = if once {
        (amount, Fen(0))
    } else {
        monthly_and_year_end(c, qy, amount)
    };
    Ok(EnrolmentChange::Create(EnrolmentPlan {
        monthly,
        year_end_extra,
        payment: if once {
            PaymentSchedule::Once
        } else {
            PaymentSchedule::Monthly
        },
        start_month: start,
        end_month: once.then_some(start),
        next_review_on: (!once).then_some(review),
        review_class: (!once).then_some(class),
    }))
}

/// How a confirmed monthly amount is kept on the enrolment: the month's payment and what
/// December adds. An amount from an annual table (优抚) — the calculator's figure for any
/// month, December's included — is kept as `floor(年标准 ÷ 12)` with the year's remainder
/// for December, so the year pays the table figure exactly (docs/rules.md §9). Any other
/// amount (another program, or one the county typed) is paid as confirmed every month.
pub fn monthly_and_year_end(c: &Case, qy: &ParamQuery<'_>, amount: Fen) -> (Fen, Fen) {
    if c.program != Program::PreferentialCare {
        return (amount, Fen(0));
    }
    let annual = c.details.care_category.and_then(|cat| {
        let table = qy.care_table(c.program, ParamName::CareTable).ok()?;
        crate::calculators::preferential_care_annual(
            &table,
            cat,
            c.details.care_grade,
            c.details.disability_cause,
        )
        .ok()
    });
    match annual.map(crate::calculators::AnnualInstalments::of) {
        Some(i) if amount == i.monthly || amount == i.december() => (i.monthly, i.year_end_extra),
        _ => (amount, Fen(0)),
    }
}

/// How an enrolment ends on a termination (or a review the county does not confirm).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentEnd {
    pub status: EnrolmentStatus,
    pub end_month: YearMonth,
    /// The grace period's last month (渐退), when asked for.
    pub grace_until: Option<YearMonth>,
}

/// 渐退 until the grace period's last month when `grace`, else 停发 after the decision
/// month (docs/rules.md §4).
pub fn enrolment_end(
    qy: &ParamQuery<'_>,
    program: Program,
    on: NaiveDate,
    grace: bool,
) -> Result<EnrolmentEnd, String> {
    if !grace {
        return Ok(EnrolmentEnd {
            status: EnrolmentStatus::Ended,
            end_month: YearMonth::of(on),
            grace_until: None,
        });
    }
    let months = qy
        .months(program, ParamName::GracePeriodMonths)
        .unwrap_or(6);
    let warn = qy.days(program, ParamName::GraceWarningDays).unwrap_or(15);
    let g = crate::grace_period(on, months, warn).map_err(|e| e.to_string())?;
    Ok(EnrolmentEnd {
        status: EnrolmentStatus::Grace,
        end_month: g.last_month,
        grace_until: Some(g.last_month),
    })
}

/// A change (增发/减发/停发) needs an enrolment still held and a reason.
pub fn check_change(status: EnrolmentStatus, reason: &str) -> Result<(), ChangeRefusal> {
    if !matches!(
        status,
        EnrolmentStatus::Active | EnrolmentStatus::Suspended | EnrolmentStatus::Grace
    ) {
        return Err(ChangeRefusal::Conflict(format!(
            "该保障对象当前为“{}”，不能提出变更",
            status.label()
        )));
    }
    if reason.trim().is_empty() {
        return Err(ChangeRefusal::Field(FieldErrors::one(
            "reason",
            "请写明变更事由(如家庭收入增加、人口变化)",
        )));
    }
    Ok(())
}

/// Why a change case is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeRefusal {
    /// The enrolment is not in a state that can change (409).
    Conflict(String),
    /// The form is incomplete (422).
    Field(FieldErrors),
}

/// The notice title for the programs on one board (`农村最低生活保障公示`).
pub fn notice_title(programs: impl IntoIterator<Item = Program>) -> String {
    let mut labels: Vec<&str> = programs.into_iter().map(|p| p.label()).collect();
    labels.sort_unstable();
    labels.dedup();
    format!("{}公示", labels.join("、"))
}

/// The board a notice may be posted on: a village or a township (9 or 12 digits) inside
/// the publisher's jurisdiction (a village user's board scope is their township). Whether
/// the division exists is the caller's question to the store; the refusal names the code
/// the same way for both, revealing nothing outside the jurisdiction.
pub fn board_division(code: &str, scope: &crate::Scope) -> Result<DivisionCode, String> {
    let refused = || unknown_board_division(code);
    let d = DivisionCode::parse(code.trim()).map_err(|_| refused())?;
    if !matches!(
        d.level(),
        crate::DivisionLevel::Township | crate::DivisionLevel::Village
    ) || !board_scope(scope).contains_str(d.as_str())
    {
        return Err(refused());
    }
    Ok(d)
}

/// The refusal of [`board_division`] for a code the store does not know.
pub fn unknown_board_division(code: &str) -> String {
    format!(
        "公示范围“{}”不是您管辖范围内的村(社区)或乡镇(街道)区划代码",
        code.trim().chars().take(20).collect::<String>()
    )
}

/// The boards a scope sees: boards belong to a township, so a village user sees their
/// township's.
pub fn board_scope(scope: &crate::Scope) -> crate::Scope {
    match scope.code() {
        Some(c) if c.level() == crate::DivisionLevel::Village => {
            DivisionCode::parse_native(&c.as_str()[..9])
                .map(crate::Scope::of)
                .unwrap_or_else(|_| scope.clone())
        }
        _ => scope.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn with_check(first17: &str) -> String {
        let c = IdNumber::check_char(first17.as_bytes()).unwrap() as char;
        format!("{first17}{c}")
    }

    /// An urban household: the head (person 1, born 1980) and a child (person 2) born on
    /// 2008-06-01, who is 18 from 2026-06-01.
    fn household(urban_rural: UrbanRural) -> HouseholdFacts {
        let head = with_check("51180219800101001");
        let child = with_check("51180220080601002");
        HouseholdFacts {
            township_code: "511802001".into(),
            village_code: "511802001001".into(),
            urban_rural,
            members: Vec::new(),
            member_ids: HashMap::from([
                (1, (head.clone(), "张建军".to_string())),
                (2, (child, "张小雨".to_string())),
            ]),
            incomes: Vec::new(),
            counted: 2,
            head_id: head,
            address: String::new(),
            phone: String::new(),
            account: String::new(),
        }
    }

    #[test]
    fn household_programs_are_applied_for_the_household_and_the_rest_for_one_person() {
        for p in Program::ALL {
            let household = matches!(
                p,
                Program::UrbanDibao
                    | Program::RuralDibao
                    | Program::TemporaryAssistance
                    | Program::DisasterRelief
            );
            assert_eq!(per_person(p), !household, "{p:?}");
        }
    }

    #[test]
    fn an_application_names_a_member_and_matches_the_registration() {
        let urban = household(UrbanRural::Urban);
        let on = d(2026, 5, 31);
        let a = check_application("urban_dibao", None, &urban, on).unwrap();
        assert_eq!(a.program, Program::UrbanDibao);
        assert_eq!(
            (a.person_id, a.subject_id_number.as_str()),
            (None, urban.head_id.as_str())
        );
        assert!(!a.subject_is_minor);
        let e = check_application("rural_dibao", None, &urban, on).unwrap_err();
        assert_eq!(
            e.get("program"),
            Some("该户为城镇户籍，不能申请农村最低生活保障")
        );
        let rural = household(UrbanRural::Rural);
        assert!(check_application("rural_dibao", None, &rural, on).is_ok());
        let e = check_application("urban_dibao", None, &rural, on).unwrap_err();
        assert!(e.get("program").unwrap().starts_with("该户为农村户籍"));
        // A per-person program needs its member.
        let e = check_application("tekun", None, &urban, on).unwrap_err();
        assert!(e.get("person_id").unwrap().contains("须选择救助对象"));
        let e = check_application("tekun", Some(9), &urban, on).unwrap_err();
        assert_eq!(e.get("person_id"), Some("救助对象不是该户的在册成员"));
        let child = check_application("tekun", Some(2), &urban, on).unwrap();
        assert_eq!(child.person_id, Some(2));
        assert_eq!(child.subject_id_number, urban.member_ids[&2].0);
        // Under 18 the day before the 18th birthday, not on it.
        assert!(child.subject_is_minor);
        let grown = check_application("tekun", Some(2), &urban, d(2026, 6, 1)).unwrap();
        assert!(!grown.subject_is_minor);
        let e = check_application("nothing", None, &urban, on).unwrap_err();
        assert_eq!(e.get("program"), Some("请选择救助项目"));
        // A household program takes no member; its exclusivity covers every member.
        let mut all = exclusivity_subjects(&urban, None);
        all.sort();
        assert_eq!(all, [1, 2]);
        assert_eq!(exclusivity_subjects(&urban, Some(2)), [2]);
    }

    #[test]
    fn temporary_aid_names_its_cause_and_counts_past_grants_with_one() {
        let with_cause = |c: Option<&str>| CaseDetails {
            cause: c.map(String::from),
            ..Default::default()
        };
        assert_eq!(
            temporary_cause(&with_cause(Some(" 火灾 "))).unwrap(),
            "火灾"
        );
        for blank in [None, Some(""), Some("  ")] {
            let e = temporary_cause(&with_cause(blank)).unwrap_err();
            assert!(e.get("cause").unwrap().contains("救助事由"));
        }
        let past = |id, on: Option<&str>, cause: Option<&str>| PastTemporaryCase {
            case_id: id,
            decided_on: on.map(String::from),
            details: with_cause(cause),
        };
        let cases = [
            past(1, Some("2026-02-01"), Some("火灾")),
            past(2, Some("2026-03-01"), Some("重病")),
            past(3, None, Some("火灾")),
            past(4, Some("2026-04-01"), None),
        ];
        let grants = past_grants(&cases, Some(2));
        assert_eq!(
            grants,
            [PastGrant {
                granted_on: d(2026, 2, 1),
                cause: "火灾".into()
            }]
        );
        assert_eq!(past_grants(&cases, None).len(), 2);
    }

    #[test]
    fn steps_roles_and_pages_follow_the_case_state() {
        assert_eq!(notice_days(None, Program::RuralDibao), 7);
        assert!(!role_may_take(ActionKind::Approve, None));
        assert!(role_may_take(
            ActionKind::Approve,
            Some(Role::CountyApprover)
        ));
        // Township-level approval: the director.
        assert!(role_may_take(
            ActionKind::Approve,
            Some(Role::TownshipDirector)
        ));
        assert!(!role_may_take(
            ActionKind::Approve,
            Some(Role::VillageAssistant)
        ));
        assert!(role_may_take(
            ActionKind::Submit,
            Some(Role::VillageAssistant)
        ));
        for s in CaseState::ALL {
            let editable = matches!(
                s,
                CaseState::Draft
                    | CaseState::Submitted
                    | CaseState::MissingPapers
                    | CaseState::Accepted
                    | CaseState::Investigating
                    | CaseState::Reinvestigating
            );
            assert_eq!(details_editable(*s), editable, "{s:?}");
            assert_eq!(
                papers_refused(*s),
                s.is_final()
                    .then(|| format!("案件已“{}”，不能再上传材料", s.label()))
            );
        }
        assert_eq!(
            details_locked(CaseState::Publicised),
            "案件当前为“公示中”，申请信息已不能修改"
        );
        for step in Step::ALL {
            let confirmation = *step == Step::Confirmation;
            assert_eq!(
                step_concerns(Some(Role::CountyApprover), *step),
                confirmation
            );
            for r in [
                Role::TownshipDirector,
                Role::TownshipStaff,
                Role::VillageAssistant,
            ] {
                assert_eq!(step_concerns(Some(r), *step), !confirmation, "{r:?}");
            }
            assert!(step_concerns(None, *step));
            assert!(step_concerns(Some(Role::Auditor), *step));
        }
    }

    #[test]
    fn old_age_proposals_start_at_the_youngest_band() {
        use crate::params::{AgeBand, ParamEntry, ParamKey, Scope};
        let on = d(2026, 5, 31);
        // Without bands: 80.
        assert_eq!(old_age_birth_cutoff(&ParamSet::new(), on), d(1946, 5, 31));
        let mut set = ParamSet::new();
        let band = |min_age| AgeBand {
            min_age,
            max_age: None,
            monthly: Fen(10_000),
        };
        set.insert(ParamEntry {
            key: ParamKey::new(Program::OldAgeAllowance, ParamName::AgeBands),
            scope: Scope::city(DivisionCode::parse_native("5118").unwrap()),
            effective_from: d(2020, 1, 1),
            value: ParamValue::AgeBands(vec![band(90), band(70), band(100)]),
            source: "test".into(),
        })
        .unwrap();
        assert_eq!(old_age_birth_cutoff(&set, on), d(1956, 5, 31));
    }

    #[test]
    fn a_change_needs_an_enrolment_still_held_and_a_reason() {
        for held in [
            EnrolmentStatus::Active,
            EnrolmentStatus::Suspended,
            EnrolmentStatus::Grace,
        ] {
            assert_eq!(check_change(held, "收入增加"), Ok(()));
            assert!(matches!(
                check_change(held, "  "),
                Err(ChangeRefusal::Field(e)) if e.get("reason").is_some()
            ));
        }
        assert_eq!(
            check_change(EnrolmentStatus::Ended, "收入增加"),
            Err(ChangeRefusal::Conflict(
                "该保障对象当前为“已停保”，不能提出变更".into()
            ))
        );
        // Without a grace period an end is 停发 after the decision month.
        let set = ParamSet::demo_yaan();
        let region = DivisionCode::parse_native("511802001001").unwrap();
        let q = set.at(&region, Some(UrbanRural::Rural), d(2026, 5, 20));
        let end = enrolment_end(&q, Program::RuralDibao, d(2026, 5, 20), false).unwrap();
        assert_eq!(
            end,
            EnrolmentEnd {
                status: EnrolmentStatus::Ended,
                end_month: YearMonth::parse("2026-05").unwrap(),
                grace_until: None,
            }
        );
        let grace = enrolment_end(&q, Program::RuralDibao, d(2026, 5, 20), true).unwrap();
        assert_eq!(grace.status, EnrolmentStatus::Grace);
        assert_eq!(grace.grace_until, Some(grace.end_month));
        assert!(grace.end_month > end.end_month);
    }

    #[test]
    fn notices_go_on_a_village_or_township_board_inside_the_jurisdiction() {
        let scope = |c: &str| crate::Scope::of(DivisionCode::parse_native(c).unwrap());
        let town = scope("511802001");
        assert_eq!(
            board_division("511802001001", &town).unwrap().as_str(),
            "511802001001"
        );
        assert_eq!(
            board_division(" 511802001 ", &town).unwrap().as_str(),
            "511802001"
        );
        for refused in ["511802", "511802002001", "5118", "xyz"] {
            assert_eq!(
                board_division(refused, &town),
                Err(format!(
                    "公示范围“{refused}”不是您管辖范围内的村(社区)或乡镇(街道)区划代码"
                ))
            );
        }
        // A village user's boards are their township's; others keep their scope.
        assert_eq!(board_scope(&scope("511802001001")), town);
        assert_eq!(board_scope(&town), town);
        assert_eq!(board_scope(&scope("511802")), scope("511802"));
        assert!(board_division("511802001002", &scope("511802001001")).is_ok());
        assert_eq!(
            notice_title([Program::RuralDibao, Program::RuralDibao]),
            "农村最低生活保障公示"
        );
        assert_eq!(
            notice_title([Program::Tekun, Program::RuralDibao]),
            notice_title([Program::RuralDibao, Program::Tekun])
        );
        assert!(notice_title([Program::Tekun, Program::RuralDibao]).contains("、"));
    }

    fn decided(program: Program, kind: CaseKind, approved: i64) -> Case {
        Case {
            kind,
            enrolment_id: (kind != CaseKind::New).then_some(9),
            proposed_fen: Some(Fen(approved)),
            approved_fen: Some(Fen(approved)),
            decided_on: Some("2026-05-20".into()),
            ..Case::sample(program, CaseState::Approved)
        }
    }

    /// 纳入保障: paid from the month after the decision (the demo's offset of one month),
    /// reviewed after 12 months (stable income) or 6 (with rigid spending recorded).
    #[test]
    fn an_approved_case_starts_changes_or_stops_an_enrolment() {
        let set = ParamSet::demo_yaan();
        let region = DivisionCode::parse_native("511802001001").unwrap();
        let q = set.at(&region, Some(UrbanRural::Rural), d(2026, 5, 20));
        let on = d(2026, 5, 20);
        let june = YearMonth::parse("2026-06").unwrap();
        let new = decided(Program::RuralDibao, CaseKind::New, 50_000);
        assert_eq!(
            enrolment_change(&new, &q, on).unwrap(),
            EnrolmentChange::Create(EnrolmentPlan {
                monthly: Fen(50_000),
                year_end_extra: Fen(0),
                payment: PaymentSchedule::Monthly,
                start_month: june,
                end_month: None,
                next_review_on: Some(d(2027, 5, 20)),
                review_class: Some(ReviewClass::Stable),
            })
        );
        let mut irregular = new.clone();
        irregular.details.rigid_spending_fen = Some(20_000);
        let EnrolmentChange::Create(plan) = enrolment_change(&irregular, &q, on).unwrap() else {
            panic!("a new enrolment")
        };
        assert_eq!(plan.review_class, Some(ReviewClass::Irregular));
        assert_eq!(plan.next_review_on, Some(d(2026, 11, 20)));
        // A one-off grant is paid once, in its start month, and not reviewed.
        let once = decided(Program::TemporaryAssistance, CaseKind::New, 120_000);
        assert_eq!(
            enrolment_change(&once, &q, on).unwrap(),
            EnrolmentChange::Create(EnrolmentPlan {
                monthly: Fen(120_000),
                year_end_extra: Fen(0),
                payment: PaymentSchedule::Once,
                start_month: june,
                end_month: Some(june),
                next_review_on: None,
                review_class: None,
            })
        );
        // A review fixes a new amount on the enrolment it reviews, or stops it at 0.
        let review = decided(Program::RuralDibao, CaseKind::Review, 60_000);
        assert_eq!(
            enrolment_change(&review, &q, on).unwrap(),
            EnrolmentChange::Adjust {
                enrolment_id: 9,
                monthly: Fen(60_000),
                year_end_extra: Fen(0),
                next_review_on: d(2027, 5, 20),
            }
        );
        let stop = decided(Program::RuralDibao, CaseKind::Change, 0);
        assert_eq!(
            enrolment_change(&stop, &q, on).unwrap(),
            EnrolmentChange::Stop {
                enrolment_id: 9,
                end_month: YearMonth::parse("2026-05").unwrap(),
            }
        );
        let mut unapproved = new.clone();
        unapproved.approved_fen = None;
        assert_eq!(
            enrolment_change(&unapproved, &q, on),
            Err("确认金额缺失".to_string())
        );
    }

    /// An annual 优抚 amount confirmed as the calculator's monthly or December figure is
    /// kept as the monthly payment plus December's remainder, so the year pays the table's
    /// amount; any other amount is paid as confirmed.
    #[test]
    fn an_annual_care_amount_keeps_the_years_remainder_for_december() {
        use crate::calculators::AnnualInstalments;
        use crate::programs::{CareCategory, DisabilityCause};
        let set = ParamSet::demo_yaan();
        let region = DivisionCode::parse_native("511802001001").unwrap();
        let q = set.at(&region, Some(UrbanRural::Rural), d(2026, 5, 20));
        let mut care = decided(Program::PreferentialCare, CaseKind::New, 0);
        care.details.care_category = Some(CareCategory::DisabledServiceman);
        care.details.care_grade = Some(1);
        care.details.disability_cause = Some(DisabilityCause::War);
        let table = q
            .care_table(Program::PreferentialCare, ParamName::CareTable)
            .unwrap();
        let annual = crate::calculators::preferential_care_annual(
            &table,
            CareCategory::DisabledServiceman,
            Some(1),
            Some(DisabilityCause::War),
        )
        .unwrap();
        let i = AnnualInstalments::of(annual);
        assert!(
            i.year_end_extra.0 > 0,
            "the demo's figure leaves a remainder"
        );
        assert_eq!(i.monthly.0 * 12 + i.year_end_extra.0, annual.0);
        for confirmed in [i.monthly, i.december()] {
            assert_eq!(
                monthly_and_year_end(&care, &q, confirmed),
                (i.monthly, i.year_end_extra)
            );
        }
        let typed = Fen(i.monthly.0 + 100);
        assert_eq!(monthly_and_year_end(&care, &q, typed), (typed, Fen(0)));
        let dibao = decided(Program::RuralDibao, CaseKind::New, 0);
        assert_eq!(
            monthly_and_year_end(&dibao, &q, i.monthly),
            (i.monthly, Fen(0))
        );
        // The new enrolment carries both.
        care.approved_fen = Some(i.monthly);
        let EnrolmentChange::Create(plan) = enrolment_change(&care, &q, d(2026, 5, 20)).unwrap()
        else {
            panic!("a new enrolment")
        };
        assert_eq!(
            (plan.monthly, plan.year_end_extra),
            (i.monthly, i.year_end_extra)
        );
    }

    #[test]
    fn the_system_approves_small_temporary_aid_as_the_township() {
        let facts = CaseFacts {
            workflow: Program::TemporaryAssistance.info().workflow,
            state: CaseState::UnderConfirmation,
            subject_is_minor: false,
            notice_posted_on: None,
            notice_days: 7,
            proposed_amount: Some(Fen(300_000)),
            township_approval_threshold: Some(Fen(100_000)),
        };
        let approve = |fen| Action::Approve { amount: Fen(fen) };
        assert_eq!(
            system_role(&facts, &approve(50_000), ApprovalLevel::County),
            Role::TownshipDirector
        );
        assert_eq!(
            system_role(&facts, &approve(300_000), ApprovalLevel::County),
            Role::CountyApprover
        );
    }

    #[test]
    fn a_clock_is_overdue_or_due_soon_only_while_it_runs_under_a_limit() {
        let cal = WorkCalendar::official();
        let limits = StatutoryLimits {
            limits: vec![(Step::Investigation, 10)],
            warn_within: 3,
        };
        let started = Some(d(2026, 3, 2));
        let standing = |on, stopped| {
            clock_standing(
                Some(&limits),
                Step::Investigation,
                started,
                stopped,
                &cal,
                on,
            )
        };
        let (st, overdue, soon) = standing(d(2026, 3, 3), false);
        assert!(matches!(st, Some(DeadlineStatus::Ok { .. })));
        assert_eq!((overdue, soon), (false, false));
        let (st, overdue, soon) = standing(d(2026, 3, 13), false);
        assert!(matches!(st, Some(DeadlineStatus::DueSoon { .. })), "{st:?}");
        assert_eq!((overdue, soon), (false, true));
        let (st, overdue, soon) = standing(d(2026, 4, 1), false);
        assert!(matches!(st, Some(DeadlineStatus::Overdue { .. })), "{st:?}");
        assert_eq!((overdue, soon), (true, false));
        assert_eq!(standing(d(2026, 4, 1), true), (None, false, false));
        let no_limit = clock_standing(
            Some(&limits),
            Step::Confirmation,
            started,
            false,
            &cal,
            d(2026, 4, 1),
        );
        assert_eq!(no_limit, (None, false, false));
        let not_started = clock_standing(
            Some(&limits),
            Step::Investigation,
            None,
            false,
            &cal,
            d(2026, 4, 1),
        );
        assert_eq!(not_started, (None, false, false));
    }
}
