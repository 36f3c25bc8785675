//! 案件测算 — from what the registry and the case record say to the right calculator.
//!
//! Storage gathers [`CaseInputs`] (the household's counted members and incomes from the
//! registry, plus the program-specific [`CaseDetails`] the clerk entered) and calls
//! [`compute`] with the parameters in force; the result carries the explanation the
//! case page shows. Pure: no I/O, no clock.

use chrono::NaiveDate;

use crate::calculators::{
    self, household_income, Calculation, DibaoParams, IncomeItem, IncomeParams, MedicalParams,
    RigidSpending, SelfCareAssessment, SinglePersonParams, TekunParams,
};
use crate::params::{ParamName, ParamQuery, SupplementCategory};
use crate::programs::{
    CareCategory, DisabilityCause, LaidOffRegime, Program, ReliefStage, SchoolStage, SupportMode,
    TemporaryKind,
};
use crate::{Fen, IdNumber, YearMonth};

/// One member of the household as the calculators need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInput {
    pub id_number: IdNumber,
    /// 共同生活家庭成员 (counted in household size and income).
    pub counted: bool,
    pub severe_disability: bool,
    pub serious_illness: bool,
}

/// Program-specific facts entered on the application (all optional; each program
/// says which it needs).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct CaseDetails {
    /// 特困: 6-item self-care assessment.
    pub assessment: Option<SelfCareAssessment>,
    pub support_mode: Option<SupportMode>,
    /// 临时救助.
    pub temporary_kind: Option<TemporaryKind>,
    /// 临时救助: the amount assessed by the township (fen), capped by the calculator.
    pub assessed_fen: Option<i64>,
    /// 临时救助: the cause (同一事由 limits).
    pub cause: Option<String>,
    /// 医疗救助.
    pub eligible_cost_fen: Option<i64>,
    pub paid_this_year_fen: Option<i64>,
    /// 教育救助.
    pub school_stage: Option<SchoolStage>,
    /// 受灾人员救助.
    pub relief_stage: Option<ReliefStage>,
    pub disaster_name: Option<String>,
    /// 精简退职.
    pub laid_off_regime: Option<LaidOffRegime>,
    pub original_wage_fen: Option<i64>,
    /// 优抚.
    pub care_category: Option<CareCategory>,
    pub care_grade: Option<u8>,
    pub disability_cause: Option<DisabilityCause>,
    /// 刚性支出 (monthly, fen) claimed for 低保 income assessment.
    pub rigid_spending_fen: Option<i64>,
}

/// The part of [`CaseDetails`] a program's calculation reads, as the application form
/// groups it (one section per program family; 高龄津贴 reads none: the subject's age).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DetailsSection {
    /// 刚性支出 (the 低保 income test).
    Dibao,
    /// The self-care assessment and the support mode.
    Tekun,
    /// Kind, assessed amount, cause.
    Temporary,
    /// Eligible cost and what was paid this year.
    Medical,
    /// School stage.
    Education,
    /// Relief stage and disaster name.
    Disaster,
    /// Regime and original wage.
    LaidOff,
    /// Category, grade, cause of disability.
    Care,
}

impl DetailsSection {
    pub const ALL: [DetailsSection; 8] = [
        DetailsSection::Dibao,
        DetailsSection::Tekun,
        DetailsSection::Temporary,
        DetailsSection::Medical,
        DetailsSection::Education,
        DetailsSection::Disaster,
        DetailsSection::LaidOff,
        DetailsSection::Care,
    ];

    /// The form section's name (`details-<name>`).
    pub fn as_str(self) -> &'static str {
        match self {
            DetailsSection::Dibao => "dibao",
            DetailsSection::Tekun => "tekun",
            DetailsSection::Temporary => "temporary",
            DetailsSection::Medical => "medical",
            DetailsSection::Education => "education",
            DetailsSection::Disaster => "disaster",
            DetailsSection::LaidOff => "laid-off",
            DetailsSection::Care => "care",
        }
    }

    /// The programs whose calculation reads this section.
    pub fn programs(self) -> Vec<Program> {
        Program::ALL
            .iter()
            .copied()
            .filter(|p| details_section(*p) == Some(self))
            .collect()
    }
}

/// The details section [`compute`] reads for `program` (none for 高龄津贴).
pub fn details_section(program: Program) -> Option<DetailsSection> {
    match program {
        Program::UrbanDibao | Program::RuralDibao | Program::SinglePersonDibao => {
            Some(DetailsSection::Dibao)
        }
        Program::Tekun => Some(DetailsSection::Tekun),
        Program::TemporaryAssistance => Some(DetailsSection::Temporary),
        Program::MedicalAssistance => Some(DetailsSection::Medical),
        Program::EducationAssistance => Some(DetailsSection::Education),
        Program::DisasterRelief => Some(DetailsSection::Disaster),
        Program::LaidOffWorkerRelief => Some(DetailsSection::LaidOff),
        Program::OldAgeAllowance => None,
        Program::PreferentialCare => Some(DetailsSection::Care),
    }
}

/// Everything [`compute`] reads.
#[derive(Debug, Clone)]
pub struct CaseInputs<'a> {
    pub program: Program,
    pub members: &'a [MemberInput],
    pub incomes: &'a [IncomeItem],
    /// The subject of a per-person program (特困, 单人保, 高龄, 优抚 …); `None` = the
    /// household as a whole.
    pub subject: Option<&'a IdNumber>,
    pub details: &'a CaseDetails,
    /// The date the amount is for (decision date, or today for a proposal).
    pub on: NaiveDate,
}

fn need<T: Clone>(v: &Option<T>, what: &str) -> Result<T, String> {
    v.clone().ok_or_else(|| format!("请先填写{what}"))
}

fn fen(v: Option<i64>, what: &str) -> Result<Fen, String> {
    match v {
        Some(f) if f >= 0 => Ok(Fen(f)),
        Some(_) => Err(format!("{what}不能为负数")),
        None => Err(format!("请先填写{what}")),
    }
}

/// The 分类施保 categories a member falls into on `on`.
fn categories(m: &MemberInput, on: NaiveDate) -> Vec<SupplementCategory> {
    let age = m.id_number.age_at(on);
    let mut c = Vec::new();
    if age >= 70 {
        c.push(SupplementCategory::Aged70);
    } else if age >= 60 {
        c.push(SupplementCategory::Aged60);
    }
    if age < 18 {
        c.push(SupplementCategory::Minor);
    }
    if m.severe_disability {
        c.push(SupplementCategory::SevereDisability);
    }
    if m.serious_illness {
        c.push(SupplementCategory::SeriousIllness);
    }
    c
}

/// Computes the amount for a case. Errors are Chinese messages for the clerk (a
/// missing parameter, a missing input, an ineligible household).
pub fn compute(inp: &CaseInputs<'_>, q: &ParamQuery<'_>) -> Result<Calculation, String> {
    let d = inp.details;
    let counted: Vec<&MemberInput> = inp.members.iter().filter(|m| m.counted).collect();
    let e = |x: calculators::CalcError| x.to_string();
    let p = |x: crate::params::ParamError| x.to_string();
    let income = |program: Program| {
        let rigid: Vec<RigidSpending> = match d.rigid_spending_fen {
            Some(f) if f > 0 => vec![RigidSpending {
                label: "刚性支出".into(),
                monthly: Fen(f),
            }],
            _ => Vec::new(),
        };
        let ip = IncomeParams::load(q, program).map_err(p)?;
        household_income(counted.len() as u32, inp.incomes, &rigid, &ip).map_err(e)
    };
    let subject = || {
        inp.subject
            .ok_or_else(|| "该项目须指定救助对象(家庭成员)".to_string())
    };
    let month = YearMonth::of(inp.on);
    match inp.program {
        Program::UrbanDibao | Program::RuralDibao => {
            let hi = income(inp.program)?;
            let cats: Vec<Vec<SupplementCategory>> =
                counted.iter().map(|m| categories(m, inp.on)).collect();
            let all: Vec<SupplementCategory> = cats.iter().flatten().copied().collect();
            let dp = DibaoParams::load(q, inp.program, &all).map_err(p)?;
            calculators::dibao_top_up(&hi, &cats, &dp).map_err(e)
        }
        Program::SinglePersonDibao => {
            let hi = income(Program::UrbanDibao).or_else(|_| income(Program::RuralDibao))?;
            let id = subject()?;
            let qualifies = inp
                .members
                .iter()
                .find(|m| &m.id_number == id)
                .map(|m| m.severe_disability || m.serious_illness)
                .unwrap_or(false);
            let sp = SinglePersonParams::load(q).map_err(p)?;
            calculators::single_person(hi.per_capita_monthly, qualifies, &sp).map_err(e)
        }
        Program::Tekun => {
            let a = need(&d.assessment, "生活自理能力评估")?;
            let mode = need(&d.support_mode, "供养方式")?;
            let tp = TekunParams::load(q).map_err(p)?;
            calculators::tekun(&a, mode, &tp).map_err(e)
        }
        Program::TemporaryAssistance => {
            let kind = need(&d.temporary_kind, "临时救助类型")?;
            let assessed = fen(d.assessed_fen, "核定救助金额")?;
            let std = q.dibao_standard().map_err(p)?;
            let cap = q
                .ratio(
                    Program::TemporaryAssistance,
                    ParamName::TemporaryCapRatio(kind),
                )
                .map_err(p)?;
            calculators::temporary(kind, assessed, std, cap).map_err(e)
        }
        Program::MedicalAssistance => {
            let cost = fen(d.eligible_cost_fen, "政策范围内自付费用")?;
            let paid = Fen(d.paid_this_year_fen.unwrap_or(0).max(0));
            let mp = MedicalParams::load(q).map_err(p)?;
            calculators::medical(cost, paid, &mp).map_err(e)
        }
        Program::EducationAssistance => {
            let stage = need(&d.school_stage, "学段")?;
            let grant = q
                .amount(
                    Program::EducationAssistance,
                    ParamName::EducationGrant(stage),
                )
                .map_err(p)?;
            calculators::education(stage, grant).map_err(e)
        }
        Program::DisasterRelief => {
            let stage = need(&d.relief_stage, "救助阶段")?;
            let name = d.disaster_name.clone().unwrap_or_else(|| "灾害".into());
            let grant = q
                .amount(Program::DisasterRelief, ParamName::DisasterGrant(stage))
                .map_err(p)?;
            let persons = if stage.per_household() {
                1
            } else {
                counted.len().max(1) as u32
            };
            calculators::disaster(&name, stage, persons, grant).map_err(e)
        }
        Program::LaidOffWorkerRelief => {
            let pr = Program::LaidOffWorkerRelief;
            let regime = need(&d.laid_off_regime, "救济方式")?;
            let wage = d.original_wage_fen.map(Fen);
            calculators::laid_off_worker(
                regime,
                wage,
                q.ratio(pr, ParamName::LaidOffRatio).map_err(p)?,
                q.amount(pr, ParamName::LaidOffFixedAmount).map_err(p)?,
                q.rounding(pr, ParamName::Rounding).map_err(p)?,
            )
            .map_err(e)
        }
        Program::OldAgeAllowance => {
            let pr = Program::OldAgeAllowance;
            calculators::old_age_allowance(
                subject()?,
                month,
                &q.age_bands(pr, ParamName::AgeBands).map_err(p)?,
                q.age_start_rule(pr, ParamName::AgeStartRule).map_err(p)?,
            )
            .map_err(e)
        }
        Program::PreferentialCare => {
            let pr = Program::PreferentialCare;
            let cat = need(&d.care_category, "优抚对象类别")?;
            calculators::preferential_care(
                &q.care_table(pr, ParamName::CareTable).map_err(p)?,
                cat,
                d.care_grade,
                d.disability_cause,
                month,
            )
            .map_err(e)
        }
    }
}

/// A registry member as the calculators take them: a disability of grade 1 or 2 (一级、二级)
/// is severe (重度残疾), whatever its kind; 重特大疾病 is a serious illness.
pub fn member_of(
    id_number: IdNumber,
    counted: bool,
    disability: crate::registry::DisabilityType,
    grade: Option<i64>,
    health: crate::registry::Health,
) -> MemberInput {
    MemberInput {
        id_number,
        counted,
        severe_disability: disability != crate::registry::DisabilityType::None
            && grade.is_some_and(|g| g <= 2),
        serious_illness: health == crate::registry::Health::Serious,
    }
}

/// A registry income as the calculators take it (an annual amount stays annual: the
/// calculators average it over the income window).
pub fn income_of(
    kind: crate::registry::IncomeKind,
    period: crate::registry::IncomePeriod,
    amount: Fen,
) -> IncomeItem {
    IncomeItem {
        kind: income_kind(kind),
        period: match period {
            crate::registry::IncomePeriod::Annual => calculators::IncomePeriod::Annual,
            crate::registry::IncomePeriod::Monthly => calculators::IncomePeriod::Monthly,
        },
        amount,
    }
}

/// The 城乡 a household's registration puts it under: urban registration is urban, any
/// other rural.
pub fn urban_rural_of(registration: crate::registry::RegistrationType) -> crate::UrbanRural {
    match registration {
        crate::registry::RegistrationType::Urban => crate::UrbanRural::Urban,
        crate::registry::RegistrationType::Rural => crate::UrbanRural::Rural,
    }
}

/// The registry's income kinds as the calculators know them.
pub fn income_kind(k: crate::registry::IncomeKind) -> calculators::IncomeKind {
    use crate::registry::IncomeKind as R;
    match k {
        R::Wage => calculators::IncomeKind::Wages,
        R::Business => calculators::IncomeKind::Business,
        R::Property => calculators::IncomeKind::Property,
        R::Transfer => calculators::IncomeKind::Transfer,
        R::Other => calculators::IncomeKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ParamSet;
    use crate::programs::UrbanRural;
    use crate::DivisionCode;

    fn id(s: &str) -> IdNumber {
        IdNumber::parse(s, NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()).unwrap()
    }

    fn member(s: &str) -> MemberInput {
        MemberInput {
            id_number: id(s),
            counted: true,
            severe_disability: false,
            serious_illness: false,
        }
    }

    #[test]
    fn registry_members_incomes_and_registration_as_the_calculators_take_them() {
        use crate::registry::{
            DisabilityType as D, Health as H, IncomeKind as K, IncomePeriod as P,
            RegistrationType as R,
        };
        let id = id(&with_check("51180219700101001"));
        let m = |dt, grade, health| member_of(id.clone(), true, dt, grade, health);
        assert!(m(D::Physical, Some(1), H::Healthy).severe_disability);
        assert!(m(D::Intellectual, Some(2), H::Healthy).severe_disability);
        assert!(!m(D::Physical, Some(3), H::Healthy).severe_disability);
        assert!(!m(D::Physical, None, H::Healthy).severe_disability);
        assert!(!m(D::None, Some(1), H::Healthy).severe_disability);
        assert!(m(D::None, None, H::Serious).serious_illness);
        assert!(!m(D::None, None, H::Chronic).serious_illness);
        assert!(!m(D::None, None, H::Disabled).serious_illness);
        let kept = member_of(id.clone(), false, D::None, None, H::Healthy);
        assert_eq!((kept.id_number, kept.counted), (id, false));
        assert_eq!(
            income_of(K::Wage, P::Annual, Fen(120_000)),
            IncomeItem {
                kind: calculators::IncomeKind::Wages,
                period: calculators::IncomePeriod::Annual,
                amount: Fen(120_000),
            }
        );
        assert_eq!(
            income_of(K::Transfer, P::Monthly, Fen(30_000)).period,
            calculators::IncomePeriod::Monthly
        );
        assert_eq!(urban_rural_of(R::Urban), UrbanRural::Urban);
        assert_eq!(urban_rural_of(R::Rural), UrbanRural::Rural);
    }

    #[test]
    fn dibao_for_a_household_without_income_is_the_standard_times_members_plus_supplements() {
        let set = ParamSet::demo_yaan();
        let region = DivisionCode::parse_native("511802001001").unwrap();
        let on = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let q = set.at(&region, Some(UrbanRural::Rural), on);
        // two adults aged 40ish, no income
        let members = vec![
            member(&with_check("51180219850101001")),
            member(&with_check("51180219870202002")),
        ];
        let details = CaseDetails::default();
        let inp = CaseInputs {
            program: Program::RuralDibao,
            members: &members,
            incomes: &[],
            subject: None,
            details: &details,
            on,
        };
        let c = compute(&inp, &q).unwrap();
        let std = q.dibao_standard().unwrap();
        assert_eq!(c.amount.0, std.0 * 2);
        // one wage income of 500 元/月 lowers it by exactly that (top-up mode)
        let incomes = vec![IncomeItem {
            kind: calculators::IncomeKind::Wages,
            period: calculators::IncomePeriod::Monthly,
            amount: Fen(50_000),
        }];
        let inp = CaseInputs {
            incomes: &incomes,
            ..inp
        };
        let c2 = compute(&inp, &q).unwrap();
        assert!(c2.amount.0 < c.amount.0, "{} vs {}", c2.amount, c.amount);
    }

    #[test]
    fn supplement_categories_follow_age_and_health() {
        let on = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let born = |y: u32| member(&with_check(&format!("511802{y}0101001")));
        assert_eq!(categories(&born(2009), on), [SupplementCategory::Minor]); // 17
        assert!(categories(&born(2008), on).is_empty()); // 18
        assert!(categories(&born(1967), on).is_empty()); // 59
        assert_eq!(categories(&born(1966), on), [SupplementCategory::Aged60]); // 60
        assert_eq!(categories(&born(1957), on), [SupplementCategory::Aged60]); // 69
        assert_eq!(categories(&born(1956), on), [SupplementCategory::Aged70]); // 70
        let mut m = born(1980);
        m.severe_disability = true;
        m.serious_illness = true;
        assert_eq!(
            categories(&m, on),
            [
                SupplementCategory::SevereDisability,
                SupplementCategory::SeriousIllness
            ]
        );
    }

    #[test]
    fn rigid_spending_lowers_the_income_only_when_positive() {
        let set = ParamSet::demo_yaan();
        let region = DivisionCode::parse_native("511802001001").unwrap();
        let on = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let q = set.at(&region, Some(UrbanRural::Rural), on);
        let members = vec![
            member(&with_check("51180219850101001")),
            member(&with_check("51180219870202002")),
        ];
        let incomes = vec![IncomeItem {
            kind: calculators::IncomeKind::Wages,
            period: calculators::IncomePeriod::Monthly,
            amount: Fen(50_000),
        }];
        let with = |rigid: Option<i64>| {
            let details = CaseDetails {
                rigid_spending_fen: rigid,
                ..CaseDetails::default()
            };
            let inp = CaseInputs {
                program: Program::RuralDibao,
                members: &members,
                incomes: &incomes,
                subject: None,
                details: &details,
                on,
            };
            compute(&inp, &q).unwrap()
        };
        let none = with(None);
        // 200 yuan a month of rigid spending: the household's income is 200 lower, so the
        // top-up is 200 higher (the gap is rounded up to the yuan, and both are whole yuan).
        assert_eq!(with(Some(20_000)).amount.0, none.amount.0 + 20_000);
        // 0 and a negative figure are no spending (a 0 deduction would change nothing).
        for nothing in [Some(0), Some(-20_000)] {
            assert_eq!(with(nothing).amount, none.amount, "{nothing:?}");
        }
    }

    #[test]
    fn single_person_dibao_counts_the_subjects_own_disability_or_illness() {
        let set = ParamSet::demo_yaan();
        let region = DivisionCode::parse_native("511802001001").unwrap();
        let on = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let q = set.at(&region, Some(UrbanRural::Rural), on);
        let std = q.dibao_standard().unwrap();
        let subject = id(&with_check("51180219850101001"));
        // Two members at 1.2 × the standard each: 低保边缘.
        let incomes = vec![IncomeItem {
            kind: calculators::IncomeKind::Wages,
            period: calculators::IncomePeriod::Monthly,
            amount: Fen(std.0 * 12 / 10 * 2),
        }];
        let details = CaseDetails::default();
        let run = |subject_ill: (bool, bool), other_disabled: bool| {
            let mut a = member(subject.as_str());
            (a.severe_disability, a.serious_illness) = subject_ill;
            let mut b = member(&with_check("51180219870202002"));
            b.severe_disability = other_disabled;
            let members = [a, b];
            let inp = CaseInputs {
                program: Program::SinglePersonDibao,
                members: &members,
                incomes: &incomes,
                subject: Some(&subject),
                details: &details,
                on,
            };
            compute(&inp, &q)
        };
        let disabled = run((true, false), false).unwrap();
        assert!(disabled.amount > Fen::ZERO);
        assert_eq!(run((false, true), false).unwrap().amount, disabled.amount);
        // Another member's disability does not make the subject qualify.
        assert!(run((false, false), true).is_err());
        assert!(run((false, false), false).is_err());
    }

    #[test]
    fn typed_amounts_must_be_given_and_not_negative() {
        assert_eq!(fen(Some(0), "核定救助金额"), Ok(Fen(0)));
        assert_eq!(fen(Some(12_345), "核定救助金额"), Ok(Fen(12_345)));
        assert_eq!(
            fen(Some(-1), "核定救助金额"),
            Err("核定救助金额不能为负数".to_string())
        );
        assert_eq!(
            fen(None, "政策范围内自付费用"),
            Err("请先填写政策范围内自付费用".to_string())
        );
    }

    #[test]
    fn missing_inputs_are_named() {
        let set = ParamSet::demo_yaan();
        let region = DivisionCode::parse_native("511802001001").unwrap();
        let on = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let q = set.at(&region, Some(UrbanRural::Rural), on);
        let details = CaseDetails::default();
        for (program, word) in [
            (Program::Tekun, "生活自理能力评估"),
            (Program::TemporaryAssistance, "临时救助类型"),
            (Program::EducationAssistance, "学段"),
            (Program::PreferentialCare, "优抚对象类别"),
            (Program::OldAgeAllowance, "救助对象"),
        ] {
            let inp = CaseInputs {
                program,
                members: &[],
                incomes: &[],
                subject: None,
                details: &details,
                on,
            };
            let err = compute(&inp, &q).unwrap_err();
            assert!(err.contains(word), "{program:?}: {err}");
        }
    }

    /// The section a program's form shows is the one its calculation reads: with every
    /// other section filled in, the calculation still names a missing input of its own
    /// section, and once that section is filled it no longer does.
    #[test]
    fn each_program_shows_the_details_its_calculation_reads() {
        let set = ParamSet::demo_yaan();
        let region = DivisionCode::parse_native("511802001001").unwrap();
        let on = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let q = set.at(&region, Some(UrbanRural::Rural), on);
        let fill = |sec: DetailsSection, d: &mut CaseDetails| match sec {
            DetailsSection::Dibao => d.rigid_spending_fen = Some(10_000),
            DetailsSection::Tekun => {
                d.assessment = Some(SelfCareAssessment {
                    eating: true,
                    dressing: true,
                    bed_transfer: true,
                    toileting: true,
                    indoor_walking: true,
                    bathing: true,
                });
                d.support_mode = Some(SupportMode::Dispersed);
            }
            DetailsSection::Temporary => {
                d.temporary_kind = Some(TemporaryKind::Emergency);
                d.assessed_fen = Some(50_000);
                d.cause = Some("火灾".into());
            }
            DetailsSection::Medical => {
                d.eligible_cost_fen = Some(100_000);
                d.paid_this_year_fen = Some(0);
            }
            DetailsSection::Education => d.school_stage = Some(SchoolStage::Primary),
            DetailsSection::Disaster => {
                d.relief_stage = Some(ReliefStage::Emergency);
                d.disaster_name = Some("洪灾".into());
            }
            DetailsSection::LaidOff => {
                d.laid_off_regime = Some(LaidOffRegime::FortyPercent);
                d.original_wage_fen = Some(60_000);
            }
            DetailsSection::Care => {
                d.care_category = Some(CareCategory::DisabledServiceman);
                d.care_grade = Some(5);
                d.disability_cause = Some(DisabilityCause::War);
            }
        };
        let missing_words = [
            "生活自理能力评估",
            "供养方式",
            "临时救助类型",
            "核定救助金额",
            "政策范围内自付费用",
            "学段",
            "救助阶段",
            "救济方式",
            "优抚对象类别",
        ];
        let names_missing = |r: &Result<Calculation, String>| {
            r.as_ref()
                .err()
                .is_some_and(|e| missing_words.iter().any(|w| e.contains(w)))
        };
        for program in Program::ALL {
            let Some(own) = details_section(program) else {
                continue;
            };
            if own == DetailsSection::Dibao {
                // 刚性支出 is optional: the income test runs without it.
                continue;
            }
            let mut others = CaseDetails::default();
            for sec in DetailsSection::ALL.into_iter().filter(|s| *s != own) {
                fill(sec, &mut others);
            }
            let mut all = others.clone();
            fill(own, &mut all);
            let run = |details: &CaseDetails| {
                compute(
                    &CaseInputs {
                        program,
                        members: &[],
                        incomes: &[],
                        subject: None,
                        details,
                        on,
                    },
                    &q,
                )
            };
            assert!(
                names_missing(&run(&others)),
                "{program:?} without its section"
            );
            assert!(!names_missing(&run(&all)), "{program:?} with its section");
            assert!(own.programs().contains(&program));
        }
        assert_eq!(details_section(Program::OldAgeAllowance), None);
    }

    /// The form's sections by program, and their names (the page's `details-<name>`).
    #[test]
    fn every_program_but_the_old_age_allowance_has_its_named_details_section() {
        let expected = [
            (Program::UrbanDibao, Some("dibao")),
            (Program::RuralDibao, Some("dibao")),
            (Program::SinglePersonDibao, Some("dibao")),
            (Program::Tekun, Some("tekun")),
            (Program::TemporaryAssistance, Some("temporary")),
            (Program::MedicalAssistance, Some("medical")),
            (Program::EducationAssistance, Some("education")),
            (Program::DisasterRelief, Some("disaster")),
            (Program::LaidOffWorkerRelief, Some("laid-off")),
            (Program::OldAgeAllowance, None),
            (Program::PreferentialCare, Some("care")),
        ];
        assert_eq!(expected.len(), Program::ALL.len());
        for (program, name) in expected {
            assert_eq!(
                details_section(program).map(DetailsSection::as_str),
                name,
                "{program:?}"
            );
        }
        let names: std::collections::BTreeSet<&str> =
            DetailsSection::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names.len(), DetailsSection::ALL.len(), "names are distinct");
        assert_eq!(
            DetailsSection::Dibao.programs(),
            [
                Program::UrbanDibao,
                Program::RuralDibao,
                Program::SinglePersonDibao
            ]
        );
    }

    #[test]
    fn old_age_allowance_follows_the_birth_date() {
        let set = ParamSet::demo_yaan();
        let region = DivisionCode::parse_native("511802001001").unwrap();
        let on = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let q = set.at(&region, Some(UrbanRural::Rural), on);
        let old = id(&with_check("51180219300101001"));
        let young = id(&with_check("51180219700101001"));
        let details = CaseDetails::default();
        let mk = |s| CaseInputs {
            program: Program::OldAgeAllowance,
            members: &[],
            incomes: &[],
            subject: Some(s),
            details: &details,
            on,
        };
        assert!(compute(&mk(&old), &q).unwrap().amount.0 > 0);
        assert!(compute(&mk(&young), &q).is_err());
    }

    fn with_check(first17: &str) -> String {
        format!(
            "{first17}{}",
            IdNumber::check_char(first17.as_bytes()).unwrap() as char
        )
    }
}
