//! The city console (规范化建设总览): every office's standing, the filters of its list, the
//! average compliance per county, and the subsidy ledger's totals.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::records::{OfficeStanding, Subsidy};
use super::rules::{evaluate, OfficeFacts, Thresholds};
use super::workflow::{
    plan_standing, InspectionStanding, InspectionStatus, PlanStanding, PlanStatus, SubsidyStatus,
};
use crate::{Fen, Scope};

/// What the store knows of one office for the console, before the rules judge it.
#[derive(Debug, Clone, Default)]
pub struct StandingFacts {
    pub township_code: String,
    pub name: String,
    pub county_code: String,
    pub county_name: String,
    pub facts: OfficeFacts,
    pub plan: Option<PlanStatus>,
    /// The latest inspection's status.
    pub inspection: Option<InspectionStatus>,
    pub subsidy: Option<(Fen, SubsidyStatus)>,
}

/// One office's standing on `as_of` under the parameters `t` and the plan deadline.
pub fn standing(
    s: StandingFacts,
    t: &Thresholds,
    deadline: Option<NaiveDate>,
    as_of: NaiveDate,
) -> OfficeStanding {
    OfficeStanding {
        evaluation: evaluate(&s.facts, t, as_of),
        plan_status: plan_standing(s.plan, deadline, as_of),
        inspection_status: s
            .inspection
            .map_or(InspectionStanding::NotInspected, InspectionStanding::from),
        subsidy: s.subsidy.map(|x| x.0),
        subsidy_status: s.subsidy.map(|x| x.1),
        township_code: s.township_code,
        name: s.name,
        county_code: s.county_code,
        county_name: s.county_name,
    }
}

/// The part of the actor's scope the console shows: all of it, or the division `within`
/// (digits, inside the scope) — as range bounds of township codes. `None` when `within`
/// names no division inside the scope.
pub fn console_range(scope: &Scope, within: Option<&str>) -> Option<(String, String)> {
    match within.map(str::trim).filter(|w| !w.is_empty()) {
        None => Some(scope.bounds()),
        Some(w) if !w.bytes().all(|b| b.is_ascii_digit()) || !scope.contains_str(w) => None,
        Some(w) => Some((w.to_string(), format!("{w}:"))),
    }
}

crate::coded_enum! {
    /// The console's list filters.
    pub enum ConsoleFilter {
        Compliant = ("compliant", "基本标准全部达标"),
        Failing = ("failing", "有未达标项"),
        Overdue = ("overdue", "建设方案逾期未报"),
        PlanSubmitted = ("plan-submitted", "方案待审核"),
        Open = ("open", "检查中"),
        Passed = ("passed", "验收通过"),
        Failed = ("failed", "验收未通过"),
        Uninspected = ("uninspected", "未检查"),
    }
}

impl ConsoleFilter {
    /// The filter a query names; blank or unknown is none (every office).
    pub fn from_query(q: Option<&str>) -> Option<ConsoleFilter> {
        q.and_then(|s| ConsoleFilter::parse(s.trim()))
    }

    pub fn matches(self, o: &OfficeStanding) -> bool {
        match self {
            ConsoleFilter::Compliant => o.evaluation.all_basic_met(),
            ConsoleFilter::Failing => !o.evaluation.all_basic_met(),
            ConsoleFilter::Overdue => o.plan_status == PlanStanding::Overdue,
            ConsoleFilter::PlanSubmitted => o.plan_status == PlanStanding::Submitted,
            ConsoleFilter::Open => o.inspection_status == InspectionStanding::Open,
            ConsoleFilter::Passed => o.inspection_status == InspectionStanding::Passed,
            ConsoleFilter::Failed => o.inspection_status == InspectionStanding::Failed,
            ConsoleFilter::Uninspected => o.inspection_status == InspectionStanding::NotInspected,
        }
    }
}

/// A county's bar in the console's chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountyBar {
    pub name: String,
    pub offices: usize,
    /// The offices' average compliance, rounded down.
    pub percent: u32,
    /// Offices that passed acceptance.
    pub passed: usize,
}

/// The counties of `rows` in code order, each with its average compliance.
pub fn county_bars(rows: &[OfficeStanding]) -> Vec<CountyBar> {
    let mut by: BTreeMap<String, (String, Vec<&OfficeStanding>)> = BTreeMap::new();
    for r in rows {
        by.entry(r.county_code.clone())
            .or_insert_with(|| (r.county_name.clone(), Vec::new()))
            .1
            .push(r);
    }
    by.into_values()
        .map(|(name, list)| {
            let sum: u32 = list.iter().map(|o| o.evaluation.compliance_percent).sum();
            CountyBar {
                name,
                offices: list.len(),
                percent: sum / list.len().max(1) as u32,
                passed: list
                    .iter()
                    .filter(|o| o.inspection_status == InspectionStanding::Passed)
                    .count(),
            }
        })
        .collect()
}

/// The ledger's total granted and total paid (`None` on overflow).
pub fn subsidy_totals(items: &[Subsidy]) -> (Option<Fen>, Option<Fen>) {
    let sum = |paid_only: bool| {
        Fen::sum_checked(
            items
                .iter()
                .filter(|x| !paid_only || x.status == SubsidyStatus::Disbursed)
                .map(|x| x.amount),
        )
    };
    (sum(false), sum(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DivisionCode;

    fn row(
        county: &str,
        facts: OfficeFacts,
        inspection: Option<InspectionStatus>,
    ) -> OfficeStanding {
        standing(
            StandingFacts {
                township_code: format!("{county}001"),
                county_code: county.into(),
                county_name: format!("县{county}"),
                facts,
                inspection,
                ..Default::default()
            },
            &Thresholds::plan_2011(),
            None,
            NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        )
    }

    #[test]
    fn bars_average_each_county_and_filters_pick_rows() {
        let rows = vec![
            row("511802", OfficeFacts::default(), None),
            row(
                "511802",
                OfficeFacts::default(),
                Some(InspectionStatus::Passed),
            ),
            row(
                "511803",
                OfficeFacts::default(),
                Some(InspectionStatus::Open),
            ),
        ];
        let bars = county_bars(&rows);
        assert_eq!(bars.len(), 2);
        assert_eq!(
            (bars[0].offices, bars[0].passed, bars[0].percent),
            (2, 1, 7)
        );
        assert_eq!(rows[0].inspection_status.as_str(), "none");
        assert_eq!(rows[0].plan_status, PlanStanding::NotSubmitted);
        let open: Vec<_> = rows
            .iter()
            .filter(|o| ConsoleFilter::Open.matches(o))
            .collect();
        assert_eq!(open.len(), 1);
        assert!(rows.iter().all(|o| ConsoleFilter::Failing.matches(o)));
        assert_eq!(ConsoleFilter::from_query(Some("")), None);
        assert_eq!(
            ConsoleFilter::from_query(Some("plan-submitted")),
            Some(ConsoleFilter::PlanSubmitted)
        );
    }

    #[test]
    fn the_console_stays_inside_the_scope() {
        let county = Scope::of(DivisionCode::parse_native("511802").unwrap());
        assert_eq!(
            console_range(&county, Some("511802001")),
            Some(("511802001".to_string(), "511802001:".to_string()))
        );
        assert!(console_range(&county, Some("511803")).is_none());
        assert!(console_range(&county, Some("51x")).is_none());
        assert_eq!(console_range(&county, Some(" ")), Some(county.bounds()));
    }

    #[test]
    fn each_filter_picks_the_offices_in_its_standing() {
        use InspectionStanding as I;
        use PlanStanding as P;
        let mut rows = Vec::new();
        for (plan, inspection) in [
            (P::Overdue, I::NotInspected),
            (P::Submitted, I::Open),
            (P::Accepted, I::Passed),
            (P::Returned, I::Failed),
        ] {
            let mut r = row("511802", OfficeFacts::default(), None);
            r.plan_status = plan;
            r.inspection_status = inspection;
            rows.push(r);
        }
        let picked = |f: ConsoleFilter| -> Vec<usize> {
            (0..rows.len()).filter(|&i| f.matches(&rows[i])).collect()
        };
        assert_eq!(picked(ConsoleFilter::Overdue), [0]);
        assert_eq!(picked(ConsoleFilter::PlanSubmitted), [1]);
        assert_eq!(picked(ConsoleFilter::Uninspected), [0]);
        assert_eq!(picked(ConsoleFilter::Open), [1]);
        assert_eq!(picked(ConsoleFilter::Passed), [2]);
        assert_eq!(picked(ConsoleFilter::Failed), [3]);
        assert_eq!(picked(ConsoleFilter::Failing), [0, 1, 2, 3]);
        assert!(picked(ConsoleFilter::Compliant).is_empty());
        // A county's passed offices: one of four.
        assert_eq!(county_bars(&rows)[0].passed, 1);
    }

    fn subsidy(amount: i64, status: SubsidyStatus) -> Subsidy {
        Subsidy {
            id: 1,
            township_code: "511802001".into(),
            office_name: String::new(),
            county_name: String::new(),
            inspection_id: 1,
            investment: Fen(0),
            percent: 30,
            amount: Fen(amount),
            status,
            disbursed_on: None,
            created_at: String::new(),
        }
    }

    #[test]
    fn the_subsidy_ledger_totals_what_was_granted_and_what_was_paid() {
        let items = [
            subsidy(1_000_000, SubsidyStatus::Disbursed),
            subsidy(250_000, SubsidyStatus::Pending),
            subsidy(30_000, SubsidyStatus::Disbursed),
        ];
        assert_eq!(
            subsidy_totals(&items),
            (Some(Fen(1_280_000)), Some(Fen(1_030_000)))
        );
        assert_eq!(subsidy_totals(&[]), (Some(Fen(0)), Some(Fen(0))));
        let huge = [
            subsidy(i64::MAX, SubsidyStatus::Pending),
            subsidy(1, SubsidyStatus::Disbursed),
        ];
        assert_eq!(subsidy_totals(&huge), (None, Some(Fen(1))));
    }
}
