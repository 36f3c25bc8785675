//! 演示参数 — the demo city's parameters: **invented figures for 雅安市 (5118), not
//! official standards.** Plausible values effective 2025-01-01 and 2026-01-01 so that pages
//! and the demo's cases have something to compute with; every row's `source` says
//! "演示数据". A real installation enters the city's published standards instead.

use chrono::NaiveDate;
use minzheng_domain::calculators::IncomeKind;
use minzheng_domain::notices::NameMask;
use minzheng_domain::params::{
    AgeBand, AgeStartRule, CareRow, DibaoTier, ParamEntry, ParamKey, ParamName, ParamSet,
    ParamValue, Ratio, Rounding, Scope, SupplementCategory, TopUpMode,
};
use minzheng_domain::programs::{
    CareCategory, CareLevel, DisabilityCause, Program, ReliefStage, SchoolStage, TemporaryKind,
};
use minzheng_domain::{Actor, DivisionCode, Fen};

use super::Demo;
use crate::Result;

impl Demo<'_> {
    /// Seeds the demo parameters (rows already present are left alone); returns how many
    /// were added.
    pub async fn params(&self) -> Result<usize> {
        self.app
            .params()
            .seed(&Actor::system("demo"), &demo_yaan())
            .await
    }
}

/// The demo set (演示数据, not official figures).
pub fn demo_yaan() -> ParamSet {
    demo_yaan_checked().0
}

/// The demo set and the number of rows the builder had to drop (tests want 0).
pub(crate) fn demo_yaan_checked() -> (ParamSet, usize) {
    let mut b = DemoBuilder::default();
    let y25 = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or(NaiveDate::MIN);
    let y26 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or(NaiveDate::MIN);
    let yuan = |y: i64| Fen(y * 100);
    use ParamName as N;
    use ParamValue as V;
    use Program as P;

    for (d, urban, rural, wage, cap, old) in [
        (y25, 780, 600, 2_100, 60_000, [50, 100, 500]),
        (y26, 810, 630, 2_200, 80_000, [60, 120, 600]),
    ] {
        b.add(P::UrbanDibao, N::Standard, d, V::Amount(yuan(urban)));
        b.add(P::RuralDibao, N::Standard, d, V::Amount(yuan(rural)));
        // 惠民殡葬: basic funeral services free for cremated 低保 and 特困 beneficiaries;
        // 丧葬补助 for 特困 and 优抚 deaths.
        for p in [P::UrbanDibao, P::RuralDibao, P::SinglePersonDibao, P::Tekun] {
            b.add(p, N::FuneralRelief, d, V::Amount(yuan(1_200)));
        }
        b.add(P::Tekun, N::FuneralGrant, d, V::Amount(yuan(3_000)));
        b.add(
            P::PreferentialCare,
            N::FuneralGrant,
            d,
            V::Amount(yuan(5_000)),
        );
        b.add(P::Tekun, N::MinimumWage, d, V::Amount(yuan(wage)));
        b.add(
            P::MedicalAssistance,
            N::MedicalAnnualCap,
            d,
            V::Amount(yuan(cap)),
        );
        b.add(
            P::OldAgeAllowance,
            N::AgeBands,
            d,
            V::AgeBands(vec![
                AgeBand {
                    min_age: 80,
                    max_age: Some(89),
                    monthly: yuan(old[0]),
                },
                AgeBand {
                    min_age: 90,
                    max_age: Some(99),
                    monthly: yuan(old[1]),
                },
                AgeBand {
                    min_age: 100,
                    max_age: None,
                    monthly: yuan(old[2]),
                },
            ]),
        );
    }

    // Rules that did not change between the two demo years: entered once, 2025.
    for p in [P::UrbanDibao, P::RuralDibao, P::SinglePersonDibao] {
        b.add(p, N::TopUpMode, y25, V::TopUpMode(TopUpMode::HouseholdGap));
        b.add(p, N::Rounding, y25, V::Rounding(Rounding::UpToYuan));
        b.add(p, N::PerCapitaRounding, y25, V::Rounding(Rounding::ToFen));
        b.add(p, N::MinPaymentRatio, y25, V::Ratio(Ratio::percent(20)));
        b.add(p, N::EdgeBandRatio, y25, V::Ratio(Ratio::percent(150)));
        b.add(
            p,
            N::ExemptIncomeKinds,
            y25,
            V::IncomeKinds(IncomeKind::NATIONAL_EXEMPT.to_vec()),
        );
        for (c, pct) in [
            (SupplementCategory::Aged60, 10),
            (SupplementCategory::Aged70, 20),
            (SupplementCategory::Minor, 10),
            (SupplementCategory::SevereDisability, 20),
            (SupplementCategory::SeriousIllness, 20),
        ] {
            b.add(
                p,
                N::ClassifiedSupplement(c),
                y25,
                V::Ratio(Ratio::percent(pct)),
            );
        }
        b.add(
            p,
            N::Tiers,
            y25,
            V::Tiers(vec![
                DibaoTier {
                    name: "一档".into(),
                    income_below: Ratio::percent(30),
                    per_person: Ratio::percent(100),
                },
                DibaoTier {
                    name: "二档".into(),
                    income_below: Ratio::percent(60),
                    per_person: Ratio::percent(70),
                },
                DibaoTier {
                    name: "三档".into(),
                    income_below: Ratio::percent(100),
                    per_person: Ratio::percent(40),
                },
            ]),
        );
        b.add(p, N::ReviewMonthsStable, y25, V::Months(12));
        b.add(p, N::ReviewMonthsIrregular, y25, V::Months(6));
        b.add(p, N::GracePeriodMonths, y25, V::Months(6));
        b.add(p, N::GraceWarningDays, y25, V::Days(30));
    }
    b.add(
        P::SinglePersonDibao,
        N::SinglePersonShare,
        y25,
        V::Ratio(Ratio::percent(60)),
    );
    b.add(
        P::Tekun,
        N::TekunBasicRatio,
        y25,
        V::Ratio(Ratio::percent(130)),
    );
    for (l, r) in [
        (CareLevel::SelfReliant, Ratio::fraction(1, 10)),
        (CareLevel::Partial, Ratio::fraction(1, 6)),
        (CareLevel::Full, Ratio::fraction(1, 3)),
    ] {
        b.add(P::Tekun, N::CareRatio(l), y25, V::Ratio(r));
    }
    b.add(
        P::Tekun,
        N::InstitutionalCareUplift,
        y25,
        V::Ratio(Ratio::percent(50)),
    );
    b.add(P::Tekun, N::Rounding, y25, V::Rounding(Rounding::ToFen));
    b.add(
        P::TemporaryAssistance,
        N::TemporaryCapRatio(TemporaryKind::Emergency),
        y25,
        V::Ratio(Ratio::percent(600)),
    );
    b.add(
        P::TemporaryAssistance,
        N::TemporaryCapRatio(TemporaryKind::Spending),
        y25,
        V::Ratio(Ratio::percent(1000)),
    );
    b.add(
        P::TemporaryAssistance,
        N::TownshipApprovalThreshold,
        y25,
        V::Amount(yuan(2_000)),
    );
    b.add(P::TemporaryAssistance, N::PerCausePerYear, y25, V::Count(1));
    b.add(
        P::MedicalAssistance,
        N::MedicalRatio,
        y25,
        V::Ratio(Ratio::percent(70)),
    );
    b.add(
        P::MedicalAssistance,
        N::MedicalDeductible,
        y25,
        V::Amount(Fen::ZERO),
    );
    b.add(
        P::MedicalAssistance,
        N::Rounding,
        y25,
        V::Rounding(Rounding::ToFen),
    );
    for (s, y) in [
        (SchoolStage::Preschool, 1_000),
        (SchoolStage::Primary, 1_000),
        (SchoolStage::JuniorSecondary, 1_250),
        (SchoolStage::SeniorSecondary, 2_000),
        (SchoolStage::Vocational, 2_000),
        (SchoolStage::Undergraduate, 5_000),
    ] {
        b.add(
            P::EducationAssistance,
            N::EducationGrant(s),
            y25,
            V::Amount(yuan(y)),
        );
    }
    for (s, y) in [
        (ReliefStage::Emergency, 300),
        (ReliefStage::Transitional, 900),
        (ReliefStage::HousingReconstruction, 30_000),
        (ReliefStage::WinterSpring, 500),
        (ReliefStage::Bereavement, 10_000),
    ] {
        b.add(
            P::DisasterRelief,
            N::DisasterGrant(s),
            y25,
            V::Amount(yuan(y)),
        );
    }
    b.add(
        P::LaidOffWorkerRelief,
        N::LaidOffRatio,
        y25,
        V::Ratio(Ratio::percent(40)),
    );
    b.add(
        P::LaidOffWorkerRelief,
        N::LaidOffFixedAmount,
        y25,
        V::Amount(yuan(600)),
    );
    b.add(
        P::LaidOffWorkerRelief,
        N::Rounding,
        y25,
        V::Rounding(Rounding::ToFen),
    );
    b.add(
        P::OldAgeAllowance,
        N::AgeStartRule,
        y25,
        V::AgeStartRule(AgeStartRule::NextMonth),
    );
    // 优抚: grade 1 因战 and grade 10 因公 follow published national figures; the other
    // rows are invented for the demo.
    let care = |category, grade, cause, y: i64| CareRow {
        category,
        grade,
        cause,
        annual: yuan(y),
    };
    use CareCategory as CC;
    use DisabilityCause as DC;
    b.add(
        P::PreferentialCare,
        N::CareTable,
        y25,
        V::CareTable(vec![
            care(CC::DisabledServiceman, Some(1), Some(DC::War), 116_270),
            care(CC::DisabledServiceman, Some(1), Some(DC::Duty), 112_650),
            care(CC::DisabledServiceman, Some(1), Some(DC::Illness), 108_490),
            care(CC::DisabledServiceman, Some(6), Some(DC::Illness), 38_000),
            care(CC::DisabledServiceman, Some(10), Some(DC::War), 11_590),
            care(CC::DisabledServiceman, Some(10), Some(DC::Duty), 10_850),
            care(CC::MartyrFamily, None, None, 31_000),
            care(CC::DiedOnDutyFamily, None, None, 28_000),
            care(CC::DiedOfIllnessFamily, None, None, 27_000),
            care(CC::DemobilisedRural, None, None, 9_000),
            care(CC::IllReturned, None, None, 7_500),
            care(CC::WarOrTestParticipant, None, None, 7_000),
            care(CC::MartyrElderlyChild, None, None, 6_000),
        ]),
    );

    // Procedure limits (docs/rules.md §3), for every program.
    for p in Program::ALL {
        b.add(p, N::NoticeDays, y25, V::Days(7));
        b.add(p, N::InvestigationWorkingDays, y25, V::WorkingDays(15));
        b.add(p, N::ReinvestigationWorkingDays, y25, V::WorkingDays(15));
        b.add(p, N::ConfirmationWorkingDays, y25, V::WorkingDays(10));
        b.add(p, N::RefusalNoticeWorkingDays, y25, V::WorkingDays(3));
        b.add(p, N::ProcedureWorkingDays, y25, V::WorkingDays(30));
        b.add(p, N::ProcedureExtendedWorkingDays, y25, V::WorkingDays(45));
        b.add(p, N::DueSoonWorkingDays, y25, V::WorkingDays(3));
        b.add(p, N::PaymentStartOffsetMonths, y25, V::Months(1));
        b.add(p, N::NameMask, y25, V::NameMask(NameMask::KeepFirstAndLast));
        b.add(
            p,
            N::ApprovalLevel,
            y25,
            V::ApprovalLevel(p.info().default_approval),
        );
    }

    // A county override, to show the mechanism: 芦山县 (511826) pays more at 100+
    // from 2026 (demo).
    b.add_county(
        "511826",
        P::OldAgeAllowance,
        N::AgeBands,
        y26,
        V::AgeBands(vec![
            AgeBand {
                min_age: 80,
                max_age: Some(89),
                monthly: yuan(60),
            },
            AgeBand {
                min_age: 90,
                max_age: Some(99),
                monthly: yuan(120),
            },
            AgeBand {
                min_age: 100,
                max_age: None,
                monthly: yuan(800),
            },
        ]),
    );
    (b.set, b.rejected)
}

#[derive(Default)]
struct DemoBuilder {
    set: ParamSet,
    rejected: usize,
}

impl DemoBuilder {
    fn add(&mut self, program: Program, name: ParamName, from: NaiveDate, value: ParamValue) {
        self.add_scoped(None, program, name, from, value);
    }
    fn add_county(
        &mut self,
        county: &str,
        program: Program,
        name: ParamName,
        from: NaiveDate,
        value: ParamValue,
    ) {
        self.add_scoped(Some(county), program, name, from, value);
    }
    fn add_scoped(
        &mut self,
        county: Option<&str>,
        program: Program,
        name: ParamName,
        from: NaiveDate,
        value: ParamValue,
    ) {
        // The demo table is fixed data checked by `demo_set_is_consistent`; a bad row
        // would be a programming error, so it is skipped rather than panicking in
        // production code, and the test catches it.
        let (Ok(city), county) = (
            DivisionCode::parse(super::DEMO_CITY_CODE),
            county.and_then(|c| DivisionCode::parse(c).ok()),
        ) else {
            self.rejected += 1;
            return;
        };
        let inserted = self.set.insert(ParamEntry {
            key: ParamKey::new(program, name),
            scope: Scope {
                city,
                county,
                urban_rural: None,
            },
            effective_from: from,
            value,
            source: "演示数据(非正式标准)".to_string(),
        });
        if inserted.is_err() {
            self.rejected += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_row_is_accepted() {
        let (set, rejected) = demo_yaan_checked();
        assert_eq!(rejected, 0);
        assert!(set.entries().len() > 100, "{}", set.entries().len());
    }
}
