//! 调标批次 — re-pricing batches: when an enrolment's amount follows from a rule that moves
//! on its own (a 高龄津贴 beneficiary reaching the next age band) or from a new standard,
//! the system prepares the new amounts as a batch per township and month, each line with
//! the old amount, the new one, the difference and the calculator's explanation; the
//! director reviews it and signs it off, which applies the new amounts from the batch's
//! month, or voids it (docs/rules.md §9).
//!
//! A line whose new amount would be 0 (no band or standard applies any more) is listed for a
//! decision and never applied: ending an enrolment is a case's decision, not a batch's. A
//! line the calculator cannot compute (a fact or parameter missing) is listed with the
//! reason and never applied either.

use serde::Serialize;

use crate::calculators::{old_age_allowance, CalcError, Calculation, Explanation};
use chrono::NaiveDate;

use crate::case_calc::{self, CaseDetails, CaseInputs};
use crate::cases::{region_of, HouseholdFacts};
use crate::params::ParamSet;
use crate::params::{AgeBand, AgeStartRule, ParamName};
use crate::programs::{AmountUnit, ApprovalLevel};
use crate::{Fen, IdNumber, Program, Role, UrbanRural, YearMonth};

crate::coded_enum! {
    /// 调标批次状态.
    pub enum RepricingStatus {
        /// Prepared, waiting for the director.
        Pending = ("pending", "待审核"),
        /// Signed off: the new amounts are the enrolments'.
        Applied = ("applied", "已签发"),
        /// Voided: nothing applied; the enrolments may be prepared again.
        Void = ("void", "已作废"),
    }
}

crate::coded_enum! {
    /// 调标原因.
    pub enum RepricingReason {
        /// 年龄段变化: a 高龄津贴 beneficiary moved band (e.g. turning 90).
        AgeBand = ("age_band", "年龄段变化"),
        /// 调整标准: the standard itself was raised.
        Standard = ("standard", "调整标准"),
    }
}

/// What the director may do with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepricingAction {
    /// 审核签发: apply the new amounts.
    SignOff,
    /// 作废.
    Void,
}

/// Why a batch cannot take an action (409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("该调标批次{0}，不能再{1}")]
pub struct RepricingRefusal(pub &'static str, pub &'static str);

/// The state a batch moves to, or why it cannot.
pub fn transition(
    status: RepricingStatus,
    action: RepricingAction,
) -> Result<RepricingStatus, RepricingRefusal> {
    let verb = match action {
        RepricingAction::SignOff => "签发",
        RepricingAction::Void => "作废",
    };
    match (status, action) {
        (RepricingStatus::Pending, RepricingAction::SignOff) => Ok(RepricingStatus::Applied),
        (RepricingStatus::Pending, RepricingAction::Void) => Ok(RepricingStatus::Void),
        (s, _) => Err(RepricingRefusal(s.label(), verb)),
    }
}

/// 调标批次: one township, one month, one reason and program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepricingBatch {
    pub id: i64,
    pub reason: RepricingReason,
    pub program: Program,
    pub township_code: String,
    pub township_name: String,
    /// From this month the new amounts are paid.
    pub month: YearMonth,
    pub status: RepricingStatus,
    pub line_count: i64,
    /// Lines whose new amount would be 0: listed for a decision, never applied.
    pub zero_count: i64,
    /// Lines the calculator could not compute: listed with the reason, never applied.
    pub problem_count: i64,
    pub old_total: Fen,
    pub new_total: Fen,
    pub prepared_by: String,
    pub prepared_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
}

impl RepricingBatch {
    /// The change of the monthly total (new − old).
    pub fn difference(&self) -> Fen {
        Fen(self.new_total.0 - self.old_total.0)
    }
}

/// One enrolment of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RepricingLine {
    pub id: i64,
    pub batch_id: i64,
    pub enrolment_id: i64,
    pub township_code: String,
    pub village_code: String,
    pub beneficiary_name: String,
    pub beneficiary_id_number: String,
    pub old_amount: Fen,
    pub new_amount: Fen,
    /// The calculator's explanation of the new amount.
    pub explanation: Explanation,
    /// Why the calculator could not compute the new amount (the line keeps the old amount
    /// and is not applied).
    pub problem: Option<String>,
}

impl RepricingLine {
    /// new − old.
    pub fn difference(&self) -> Fen {
        Fen(self.new_amount.0 - self.old_amount.0)
    }

    /// A new amount of 0 is not applied: ending the enrolment is a case's decision.
    pub fn needs_decision(&self) -> bool {
        self.new_amount.0 == 0 && self.problem.is_none()
    }

    /// Whether the sign-off applies this line's new amount.
    pub fn applies(&self) -> bool {
        self.new_amount.0 > 0 && self.problem.is_none()
    }

    pub fn masked(mut self) -> Self {
        self.beneficiary_id_number = crate::mask_id(&self.beneficiary_id_number);
        self
    }
}

/// A batch and its lines, as the review shows them.
#[derive(Debug, Clone, Serialize)]
pub struct RepricingReview {
    pub batch: RepricingBatch,
    pub lines: Vec<RepricingLine>,
}

/// A live enrolment the re-pricing considers, as the store reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepricingCandidate {
    pub enrolment_id: i64,
    pub township_code: String,
    pub village_code: String,
    pub beneficiary_name: String,
    pub beneficiary_id_number: String,
    /// The household's registration (the parameters may differ for urban and rural).
    pub urban_rural: UrbanRural,
    pub monthly: Fen,
    pub household_id: i64,
    /// The subject of a per-person program.
    pub person_id: Option<i64>,
    /// What the clerk entered on the case behind the enrolment (default without one).
    pub details: CaseDetails,
}

/// A line to prepare: the candidate, its new amount and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRepricingLine {
    pub candidate: RepricingCandidate,
    pub new_amount: Fen,
    pub explanation: Explanation,
    /// Why the new amount could not be computed (then it is the old one).
    pub problem: Option<String>,
}

/// The monthly programs whose calculators read a parameter of `program`: a 低保 standard
/// also sets 单人保 (a share of it) and the 特困 basic living standard (a multiple of it).
/// One-off programs have nothing to re-price; nor has 优抚 here, whose annual table is kept
/// on the enrolment as a monthly share and December's remainder (docs/rules.md §9), both
/// of which a new table changes: its new figures are decided by change cases.
pub fn programs_following(program: Program) -> Vec<Program> {
    let mut out = vec![program];
    if matches!(program, Program::UrbanDibao | Program::RuralDibao) {
        out.extend([Program::SinglePersonDibao, Program::Tekun]);
    }
    out.retain(|p| p.info().unit == AmountUnit::Monthly && *p != Program::PreferentialCare);
    out
}

/// Whether a new value of `name` can change a monthly amount (a standard, a ratio, a
/// table, a rounding): adding one prepares 调整标准 batches. Deadlines, notice days,
/// approval levels and the like change no amount.
pub fn reprices(name: ParamName) -> bool {
    use ParamName as N;
    matches!(
        name,
        N::Standard
            | N::TopUpMode
            | N::Rounding
            | N::PerCapitaRounding
            | N::MinPaymentRatio
            | N::EdgeBandRatio
            | N::SinglePersonShare
            | N::Tiers
            | N::ExemptIncomeKinds
            | N::TekunBasicRatio
            | N::MinimumWage
            | N::InstitutionalCareUplift
            | N::LaidOffRatio
            | N::LaidOffFixedAmount
            | N::AgeBands
            | N::AgeStartRule
            | N::CareTable
            | N::ClassifiedSupplement(_)
            | N::CareRatio(_)
    )
}

/// The month from which a value effective on `from` is paid: its own month when it takes
/// effect on the 1st, else the next (a payroll month is paid at one amount).
pub fn effective_month(from: chrono::NaiveDate) -> YearMonth {
    let m = YearMonth::of(from);
    if from == m.first_day() {
        m
    } else {
        m.next()
    }
}

/// Who signs off a re-pricing batch: an age-band batch is the township director's (the
/// bands were decided when the allowance was granted); a new standard changes the amounts
/// a program's approval authority confirmed, so its batch is signed by that authority —
/// the county approver, or the township director where the approval is delegated.
pub fn signer(reason: RepricingReason, level: ApprovalLevel) -> Role {
    match (reason, level) {
        (RepricingReason::Standard, ApprovalLevel::County) => Role::CountyApprover,
        _ => Role::TownshipDirector,
    }
}

/// The 调整标准 line for an enrolment: `new` is the calculator's result with the
/// parameters in force in the effective month, `before` its amount with those of the month
/// before. A line is prepared when the new parameters change the calculator's amount and it
/// differs from what the enrolment pays; an enrolment the calculator cannot compute is
/// listed with the reason (its amount unchanged). A new amount of 0 (no longer below the
/// standard, say) is listed for a decision.
pub fn standard_line(
    c: &RepricingCandidate,
    new: Result<Calculation, String>,
    before: Option<Fen>,
) -> Option<NewRepricingLine> {
    match new {
        Ok(Calculation {
            amount,
            mut explanation,
            ..
        }) => {
            if amount == c.monthly || before == Some(amount) {
                return None;
            }
            if amount.0 == 0 {
                explanation
                    .notes
                    .push("按新标准计算金额为0；调标不会停发，请核实后办理变更或终止".into());
            }
            Some(NewRepricingLine {
                candidate: c.clone(),
                new_amount: amount,
                explanation,
                problem: None,
            })
        }
        Err(why) => Some(NewRepricingLine {
            candidate: c.clone(),
            new_amount: c.monthly,
            explanation: Explanation::default(),
            problem: Some(why),
        }),
    }
}

/// The 调整标准 line of one enrolment, computed as a case is (`case_calc::compute`: the
/// household's counted members and incomes, the subject, the case's details) with
/// `params` in force on the first day of `month` and on the last day of the month before
/// ([`standard_line`]). `facts` is the household's registry facts (`None`: not found).
/// The re-pricing preparation and the what-if (测算) both call this, so a what-if of a
/// standard agrees with the batch the standard then prepares.
pub fn standard_line_for(
    c: &RepricingCandidate,
    facts: Option<&HouseholdFacts>,
    params: &ParamSet,
    program: Program,
    month: YearMonth,
) -> Option<NewRepricingLine> {
    standard_line(
        c,
        standard_change_for(c, facts, params, program, month)?,
        None,
    )
}

/// What [`standard_line_for`] finds, before the line is written: `None` when the
/// enrolment keeps its amount (the calculator gives what it pays, or gave the same the
/// month before), else the new calculation or why there is none. The what-if (测算)
/// reads its outcome from this without building the line.
pub fn standard_change_for(
    c: &RepricingCandidate,
    facts: Option<&HouseholdFacts>,
    params: &ParamSet,
    program: Program,
    month: YearMonth,
) -> Option<Result<Calculation, String>> {
    let Some(f) = facts else {
        return Some(Err("未找到该户的户籍信息".into()));
    };
    let Some(region) = region_of(&f.village_code) else {
        return Some(Err("该户的村(社区)代码无效".into()));
    };
    let on = month.first_day();
    let before = on.pred_opt().unwrap_or(on);
    let compute = |day: NaiveDate| {
        let subject = c
            .person_id
            .and_then(|p| f.member_ids.get(&p))
            .and_then(|(s, _)| IdNumber::parse(s, day).ok());
        let inp = CaseInputs {
            program,
            members: &f.members,
            incomes: &f.incomes,
            subject: subject.as_ref(),
            details: &c.details,
            on: day,
        };
        case_calc::compute(&inp, &params.at(&region, Some(f.urban_rural), day))
    };
    let new = compute(on);
    match &new {
        // Paid already (or the same as the calculator says now): no line.
        Ok(calc) if calc.amount == c.monthly => None,
        // The same as the month before: the new parameters do not move it.
        Ok(calc) if compute(before).ok().map(|old| old.amount) == Some(calc.amount) => None,
        _ => Some(new),
    }
}

/// The 高龄津贴 line for `month`, if the band's amount differs from what the enrolment
/// pays: the amount is the calculator's ([`old_age_allowance`]) with the bands and start
/// rule in force that month. Below every band the new amount is 0 (listed for a decision).
/// An ID number that cannot be read gives no line.
pub fn age_band_line(
    c: &RepricingCandidate,
    month: YearMonth,
    bands: &[AgeBand],
    rule: AgeStartRule,
    today: chrono::NaiveDate,
) -> Option<NewRepricingLine> {
    let id = IdNumber::parse(&c.beneficiary_id_number, today).ok()?;
    let (amount, explanation) = match old_age_allowance(&id, month, bands, rule) {
        Ok(Calculation {
            amount,
            explanation,
            ..
        }) => (amount, explanation),
        Err(CalcError::NotEligible(why)) => {
            let mut ex = Explanation::default();
            ex.formula = "高龄津贴 = 所在年龄段月标准".into();
            ex.notes.push(format!(
                "{why}，金额将为0；调标不会停发，请核实后办理变更或终止"
            ));
            (Fen(0), ex)
        }
        Err(_) => return None,
    };
    (amount != c.monthly).then(|| NewRepricingLine {
        candidate: c.clone(),
        new_amount: amount,
        explanation,
        problem: None,
    })
}

/// Sums of a batch's lines: count, lines at 0, old and new totals (the lines at 0 count
/// with their old amount on both sides: they are not applied).
pub fn totals(lines: &[(Fen, Fen)]) -> (i64, i64, Fen, Fen) {
    let mut zero = 0;
    let (mut old, mut new) = (0i64, 0i64);
    for (o, n) in lines {
        old += o.0;
        if n.0 == 0 {
            zero += 1;
            new += o.0;
        } else {
            new += n.0;
        }
    }
    (lines.len() as i64, zero, Fen(old), Fen(new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn bands() -> Vec<AgeBand> {
        vec![
            AgeBand {
                min_age: 80,
                max_age: Some(89),
                monthly: Fen(6_000),
            },
            AgeBand {
                min_age: 90,
                max_age: Some(99),
                monthly: Fen(12_000),
            },
            AgeBand {
                min_age: 100,
                max_age: None,
                monthly: Fen(60_000),
            },
        ]
    }

    fn with_check(first17: &str) -> String {
        let c = IdNumber::check_char(first17.as_bytes()).unwrap() as char;
        format!("{first17}{c}")
    }

    fn candidate(born: &str, monthly: i64) -> RepricingCandidate {
        RepricingCandidate {
            enrolment_id: 1,
            township_code: "511802001".into(),
            village_code: "511802001001".into(),
            beneficiary_name: "周桂英".into(),
            beneficiary_id_number: with_check(&format!("511802{born}002")),
            urban_rural: UrbanRural::Rural,
            monthly: Fen(monthly),
            household_id: 1,
            person_id: None,
            details: CaseDetails::default(),
        }
    }

    /// A rural household of two counted adults without income in 511802001001, and its
    /// 农村低保 enrolment paying `monthly`.
    fn dibao_household(monthly: i64) -> (RepricingCandidate, HouseholdFacts) {
        let on = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let member = |first17: &str| crate::case_calc::MemberInput {
            id_number: IdNumber::parse(&with_check(first17), on).unwrap(),
            counted: true,
            severe_disability: false,
            serious_illness: false,
        };
        let facts = HouseholdFacts {
            township_code: "511802001".into(),
            village_code: "511802001001".into(),
            urban_rural: UrbanRural::Rural,
            members: vec![member("51180219850101001"), member("51180219870202002")],
            member_ids: Default::default(),
            incomes: Vec::new(),
            counted: 2,
            head_id: String::new(),
            address: String::new(),
            phone: String::new(),
            account: String::new(),
        };
        (candidate("19850101", monthly), facts)
    }

    /// The demo parameters, with the city's 农村低保 standard raised by `rise` fen from
    /// 2027-01-01; and the standard before.
    fn raised(rise: i64) -> (ParamSet, Fen) {
        use crate::params::{ParamEntry, ParamKey, ParamValue, Scope};
        let mut set = ParamSet::demo_yaan();
        let region = crate::DivisionCode::parse_native("511802001001").unwrap();
        let before = set
            .at(
                &region,
                Some(UrbanRural::Rural),
                NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            )
            .dibao_standard()
            .unwrap();
        if rise != 0 {
            set.insert(ParamEntry {
                key: ParamKey::new(Program::RuralDibao, ParamName::Standard),
                scope: Scope::city(crate::DivisionCode::parse_native("5118").unwrap()),
                effective_from: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
                value: ParamValue::Amount(Fen(before.0 + rise)),
                source: "test".into(),
            })
            .unwrap();
        }
        (set, before)
    }

    #[test]
    fn a_standard_rise_changes_the_amount_the_calculator_gives_from_its_month() {
        // Two counted members without income: the standard times two.
        let (set, before) = raised(5_000);
        let january = m("2027-01");
        let (c, facts) = dibao_household(2 * before.0);
        let change = standard_change_for(&c, Some(&facts), &set, Program::RuralDibao, january);
        let calc = change.expect("the rise moves it").expect("computed");
        assert_eq!(calc.amount, Fen(2 * (before.0 + 5_000)));
        let line = standard_line_for(&c, Some(&facts), &set, Program::RuralDibao, january)
            .expect("a line");
        assert_eq!(line.new_amount, Fen(2 * (before.0 + 5_000)));
        assert_eq!(line.candidate.enrolment_id, c.enrolment_id);
        assert_eq!(line.problem, None);
        // Paid the new amount already: no line.
        let (paid, _) = dibao_household(2 * (before.0 + 5_000));
        assert!(
            standard_change_for(&paid, Some(&facts), &set, Program::RuralDibao, january).is_none()
        );
        assert!(
            standard_line_for(&paid, Some(&facts), &set, Program::RuralDibao, january).is_none()
        );
        // A month the rise is not yet in force: nothing moves.
        assert!(
            standard_change_for(&c, Some(&facts), &set, Program::RuralDibao, m("2026-12"))
                .is_none()
        );
    }

    #[test]
    fn an_amount_the_new_parameters_do_not_move_is_left_alone() {
        // No rise: the calculator gives the same in January as in December, so an
        // enrolment paying a different (hand-set) amount keeps it.
        let (set, before) = raised(0);
        let (c, facts) = dibao_household(2 * before.0 - 100);
        assert!(
            standard_change_for(&c, Some(&facts), &set, Program::RuralDibao, m("2027-01"))
                .is_none()
        );
        // With a rise the same enrolment moves to the calculator's new amount.
        let (set, before) = raised(3_000);
        let calc = standard_change_for(&c, Some(&facts), &set, Program::RuralDibao, m("2027-01"))
            .expect("moves")
            .expect("computed");
        assert_eq!(calc.amount, Fen(2 * (before.0 + 3_000)));
    }

    #[test]
    fn a_household_not_found_or_in_no_village_cannot_be_computed() {
        let (set, before) = raised(5_000);
        let (c, mut facts) = dibao_household(2 * before.0);
        let missing = standard_change_for(&c, None, &set, Program::RuralDibao, m("2027-01"));
        assert_eq!(missing, Some(Err("未找到该户的户籍信息".to_string())));
        let line = standard_line_for(&c, None, &set, Program::RuralDibao, m("2027-01"))
            .expect("a line naming the problem");
        assert_eq!(line.new_amount, c.monthly);
        assert!(line.problem.is_some());
        facts.village_code = "5118xx".into();
        assert_eq!(
            standard_change_for(&c, Some(&facts), &set, Program::RuralDibao, m("2027-01")),
            Some(Err("该户的村(社区)代码无效".to_string()))
        );
    }

    fn m(s: &str) -> YearMonth {
        YearMonth::parse(s).unwrap()
    }

    fn line(old: i64, new: i64, problem: Option<&str>) -> RepricingLine {
        RepricingLine {
            id: 1,
            batch_id: 1,
            enrolment_id: 1,
            township_code: "511802001".into(),
            village_code: "511802001001".into(),
            beneficiary_name: "周桂英".into(),
            beneficiary_id_number: with_check("51180219360101002"),
            old_amount: Fen(old),
            new_amount: Fen(new),
            explanation: Explanation::default(),
            problem: problem.map(String::from),
        }
    }

    #[test]
    fn a_line_applies_a_positive_new_amount_and_asks_about_zero() {
        let up = line(81_000, 85_000, None);
        assert_eq!(up.difference(), Fen(4_000));
        assert!(up.applies() && !up.needs_decision());
        let down = line(85_000, 81_000, None);
        assert_eq!(down.difference(), Fen(-4_000));
        assert!(down.applies());
        let zero = line(30_000, 0, None);
        assert_eq!(zero.difference(), Fen(-30_000));
        assert!(!zero.applies() && zero.needs_decision());
        // A line the calculator could not compute keeps its old amount: neither applied
        // nor put to a decision.
        for broken in [
            line(30_000, 30_000, Some("缺少参数")),
            line(30_000, 0, Some("缺少参数")),
        ] {
            assert!(!broken.applies() && !broken.needs_decision());
        }
        let masked = line(1, 2, None).masked();
        assert_eq!(
            masked.beneficiary_id_number,
            crate::mask_id(&with_check("51180219360101002"))
        );
        assert_ne!(
            masked.beneficiary_id_number,
            with_check("51180219360101002")
        );
    }

    #[test]
    fn a_batch_difference_is_new_minus_old() {
        let batch = RepricingBatch {
            id: 1,
            reason: RepricingReason::Standard,
            program: Program::UrbanDibao,
            township_code: "511802001".into(),
            township_name: "东城街道".into(),
            month: m("2027-01"),
            status: RepricingStatus::Pending,
            line_count: 2,
            zero_count: 0,
            problem_count: 0,
            old_total: Fen(162_000),
            new_total: Fen(170_000),
            prepared_by: "王建国".into(),
            prepared_at: String::new(),
            decided_by: None,
            decided_at: None,
        };
        assert_eq!(batch.difference(), Fen(8_000));
        let lower = RepricingBatch {
            new_total: Fen(150_000),
            ..batch
        };
        assert_eq!(lower.difference(), Fen(-12_000));
    }

    #[test]
    fn only_amount_parameters_reprice() {
        for name in [
            ParamName::Standard,
            ParamName::TekunBasicRatio,
            ParamName::AgeBands,
            ParamName::ClassifiedSupplement(crate::params::SupplementCategory::Minor),
        ] {
            assert!(reprices(name), "{name:?}");
        }
        for name in [
            ParamName::NoticeDays,
            ParamName::ApprovalLevel,
            ParamName::ReviewMonthsStable,
            ParamName::MedicalAnnualCap,
        ] {
            assert!(!reprices(name), "{name:?}");
        }
    }

    #[test]
    fn a_value_from_the_first_is_paid_that_month_otherwise_the_next() {
        let day = |y, mo, d| NaiveDate::from_ymd_opt(y, mo, d).unwrap();
        assert_eq!(effective_month(day(2027, 1, 1)), m("2027-01"));
        assert_eq!(effective_month(day(2027, 1, 2)), m("2027-02"));
        assert_eq!(effective_month(day(2026, 12, 31)), m("2027-01"));
    }

    #[test]
    fn turning_ninety_moves_band_from_the_month_the_start_rule_names() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        // Born 15 March 1936: 90 on 15 March 2026.
        let c = candidate("19360315", 6_000);
        let next = AgeStartRule::NextMonth;
        assert_eq!(age_band_line(&c, m("2026-03"), &bands(), next, today), None);
        let l = age_band_line(&c, m("2026-04"), &bands(), next, today).unwrap();
        assert_eq!(l.new_amount, Fen(12_000));
        assert!(l.explanation.steps.iter().any(|s| s.value == "90周岁"));
        let same = AgeStartRule::SameMonth;
        assert!(age_band_line(&c, m("2026-03"), &bands(), same, today).is_some());
        assert_eq!(age_band_line(&c, m("2026-02"), &bands(), same, today), None);
        // Already paid the new band: no line.
        let paid = candidate("19360315", 12_000);
        assert_eq!(
            age_band_line(&paid, m("2026-04"), &bands(), next, today),
            None
        );
    }

    #[test]
    fn below_every_band_the_line_is_zero_and_asks_for_a_decision() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let c = candidate("19500101", 6_000);
        let l = age_band_line(&c, m("2026-04"), &bands(), AgeStartRule::NextMonth, today).unwrap();
        assert_eq!(l.new_amount, Fen(0));
        assert_eq!(l.explanation.formula, "高龄津贴 = 所在年龄段月标准");
        assert!(l.explanation.notes[0].contains("调标不会停发"));
        assert_eq!(
            totals(&[(Fen(6_000), Fen(0)), (Fen(6_000), Fen(12_000))]),
            (2, 1, Fen(12_000), Fen(18_000))
        );
    }

    #[test]
    fn a_standard_line_only_where_the_new_parameters_change_the_amount() {
        let c = candidate("19500101", 30_000);
        let calc = |f: i64| {
            Ok(Calculation {
                amount: Fen(f),
                unit: AmountUnit::Monthly,
                explanation: Explanation::default(),
            })
        };
        // Same as paid, or unchanged by the new parameters: no line.
        assert_eq!(standard_line(&c, calc(30_000), Some(Fen(28_000))), None);
        assert_eq!(standard_line(&c, calc(31_000), Some(Fen(31_000))), None);
        let l = standard_line(&c, calc(35_000), Some(Fen(30_000))).unwrap();
        assert_eq!((l.new_amount, l.problem), (Fen(35_000), None));
        let z = standard_line(&c, calc(0), Some(Fen(30_000))).unwrap();
        assert!(z.explanation.notes[0].contains("调标不会停发"));
        let p = standard_line(&c, Err("请先填写供养方式".into()), None).unwrap();
        assert_eq!(p.new_amount, Fen(30_000));
        assert_eq!(p.problem.as_deref(), Some("请先填写供养方式"));
        assert_eq!(
            programs_following(Program::UrbanDibao),
            [
                Program::UrbanDibao,
                Program::SinglePersonDibao,
                Program::Tekun
            ]
        );
        assert!(programs_following(Program::MedicalAssistance).is_empty());
        assert!(programs_following(Program::PreferentialCare).is_empty());
        assert_eq!(
            signer(RepricingReason::Standard, ApprovalLevel::County),
            Role::CountyApprover
        );
        assert_eq!(
            signer(RepricingReason::AgeBand, ApprovalLevel::County),
            Role::TownshipDirector
        );
    }

    #[test]
    fn only_a_pending_batch_is_signed_off_or_voided() {
        use RepricingAction as A;
        use RepricingStatus as S;
        assert_eq!(transition(S::Pending, A::SignOff), Ok(S::Applied));
        assert_eq!(transition(S::Pending, A::Void), Ok(S::Void));
        assert_eq!(
            transition(S::Applied, A::SignOff).unwrap_err().to_string(),
            "该调标批次已签发，不能再签发"
        );
        assert!(transition(S::Void, A::SignOff).is_err());
    }
}
