//! 测算 — the budget what-if before a standard decision: the city enters one to three
//! candidate parameter sets (方案: e.g. 城市低保标准 810 → 850 元 from 2027-01, 特困基本
//! 生活标准 1.3 → 1.4 倍) and sees, computed on the real enrolments and registry facts with
//! the same calculators as a case and a re-pricing ([`crate::repricing::standard_line_for`]),
//! whose amount changes, who would become eligible (registered households with recorded
//! incomes, not yet enrolled) and who would leave, with the monthly and annual cost
//! difference by county, township and program. Nothing is written; a 方案 can then be
//! adopted as the real parameter change, which prepares the 调整标准 batches.
//!
//! This module parses the 方案, classifies each enrolment's outcome and sums the outcomes
//! into rows; the totals are the sums of the rows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use chrono::NaiveDate;

use crate::calculators::{CalcError, Calculation};
use crate::case_calc::{self, CaseDetails, CaseInputs};
use crate::cases::{region_of, HouseholdFacts};
use crate::params::ParamSet;
use crate::params::{parse_new_param, NewParam, ParamEntry, ParamInputError};
use crate::repricing::{effective_month, programs_following, reprices};
use crate::{Fen, FieldErrors, Program, Scope, UrbanRural, YearMonth};

/// At most this many 方案 side by side.
pub const MAX_SCENARIOS: usize = 3;
/// At most this many parameter changes in one 方案.
pub const MAX_CHANGES: usize = 10;

/// A 方案 as typed (the page's form, the API's JSON, the command line's TOML).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ScenarioInput {
    /// The 方案's name (default 方案一, 方案二 …).
    #[serde(default)]
    pub name: String,
    /// The parameter values it would add, as the parameters page takes them.
    #[serde(default)]
    pub changes: Vec<ChangeInput>,
}

/// One parameter value of a 方案: [`NewParam`] whose source is optional.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ChangeInput {
    pub program: String,
    pub name: String,
    /// City (4 digits) or one of its counties (6 digits).
    pub region: String,
    #[serde(default)]
    pub urban_rural: String,
    pub effective_from: String,
    /// The value as typed (yuan, `1.4`, `35%`, JSON for tables).
    #[serde(alias = "value")]
    pub value_json: String,
    #[serde(default)]
    pub source: String,
}

impl ChangeInput {
    pub fn to_new_param(&self) -> NewParam {
        NewParam {
            program: self.program.clone(),
            name: self.name.clone(),
            region: self.region.clone(),
            urban_rural: self.urban_rural.clone(),
            effective_from: self.effective_from.clone(),
            value_json: self.value_json.clone(),
            source: self.source.clone(),
        }
    }
}

/// What to compute: the 方案, and optionally a division inside the jurisdiction.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct WhatIfRequest {
    #[serde(default, alias = "scenario")]
    pub scenarios: Vec<ScenarioInput>,
    /// Only this division (inside the user's jurisdiction).
    #[serde(default)]
    pub within: Option<String>,
}

/// A 方案 read: its values, the month its new amounts would be paid from (the latest of
/// its values' [`effective_month`]) and the monthly programs whose amounts it can change.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub name: String,
    pub changes: Vec<ParamEntry>,
    pub month: YearMonth,
    pub programs: Vec<Program>,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioError {
    /// A field is wrong (422): keys are `scenarios[i].changes[j].field`.
    Field(FieldErrors),
    /// A region lies outside the user's jurisdiction (404).
    OutsideScope,
}

const ORDINALS: [&str; MAX_SCENARIOS] = ["方案一", "方案二", "方案三"];

/// Reads the 方案 of a request: one to three, each with one to ten values that can change
/// a monthly amount, in the user's jurisdiction. The first problem is the answer.
pub fn parse_scenarios(req: &WhatIfRequest, scope: &Scope) -> Result<Vec<Scenario>, ScenarioError> {
    let field = |k: String, m: String| ScenarioError::Field(FieldErrors::one(&k, m));
    // Each filled 方案 keeps its row's number (blank rows are skipped, not renumbered), so
    // an error and a default name point at the row the clerk filled.
    let given: Vec<(usize, &ScenarioInput)> = req
        .scenarios
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.changes.is_empty() || !s.name.trim().is_empty())
        .collect();
    if given.is_empty() {
        return Err(field("scenarios".into(), "请至少填写一个测算方案".into()));
    }
    if given.len() > MAX_SCENARIOS {
        return Err(field(
            "scenarios".into(),
            format!("最多同时测算{MAX_SCENARIOS}个方案"),
        ));
    }
    let mut out = Vec::new();
    // The page has one row per ordinal; a request with more rows (the API) names its
    // unnamed 方案 in the order given.
    let by_row = req.scenarios.len() <= MAX_SCENARIOS;
    for (k, (i, s)) in given.into_iter().enumerate() {
        let name = match s.name.trim() {
            "" => ORDINALS[if by_row { i } else { k }].to_string(),
            n => n.chars().take(40).collect(),
        };
        if s.changes.is_empty() {
            return Err(field(
                format!("scenarios[{i}].changes"),
                format!("{name}没有填写参数调整"),
            ));
        }
        if s.changes.len() > MAX_CHANGES {
            return Err(field(
                format!("scenarios[{i}].changes"),
                format!("{name}最多{MAX_CHANGES}项参数调整"),
            ));
        }
        let mut changes: Vec<ParamEntry> = Vec::new();
        let mut programs: Vec<Program> = Vec::new();
        for (j, c) in s.changes.iter().enumerate() {
            let at = |f: &str| format!("scenarios[{i}].changes[{j}].{f}");
            let e = parse_new_param(&c.to_new_param(), scope).map_err(|e| match e {
                ParamInputError::OutsideScope => ScenarioError::OutsideScope,
                ParamInputError::Field(f) => {
                    let (k, m) = f
                        .iter()
                        .next()
                        .map(|(k, m)| (k.to_string(), m.to_string()))
                        .unwrap_or_default();
                    ScenarioError::Field(FieldErrors::one(&at(&k), format!("{name}：{m}")))
                }
            })?;
            let following = programs_following(e.key.program);
            if !reprices(e.key.name) || following.is_empty() {
                return Err(field(
                    at("name"),
                    format!("{name}：{}不影响按月发放的金额，无法测算", e.key.label()),
                ));
            }
            if changes.iter().any(|x| {
                x.key == e.key && x.scope == e.scope && x.effective_from == e.effective_from
            }) {
                return Err(field(
                    at("name"),
                    format!("{name}：{}重复填写", e.key.label()),
                ));
            }
            for p in following {
                if !programs.contains(&p) {
                    programs.push(p);
                }
            }
            changes.push(e);
        }
        let month = changes
            .iter()
            .map(|e| effective_month(e.effective_from))
            .max()
            .expect("at least one change");
        programs.sort_by_key(|p| Program::ALL.iter().position(|x| x == p));
        out.push(Scenario {
            name,
            changes,
            month,
            programs,
        });
    }
    Ok(out)
}

/// What a 方案 does to one enrolment or household.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The amount changes from `old` to `new` (both above 0).
    Changes { old: Fen, new: Fen },
    /// No longer eligible (the calculator gives 0 or says not eligible): `old` is saved.
    Leaves { old: Fen },
    /// A registered household not enrolled that would become eligible at `new`.
    Enters { new: Fen },
    /// The calculator cannot compute it (a fact or parameter missing): not counted in the
    /// cost.
    Problem,
}

impl Outcome {
    /// The monthly cost difference (new − old).
    pub fn difference(self) -> Fen {
        match self {
            Outcome::Changes { old, new } => Fen(new.0 - old.0),
            Outcome::Leaves { old } => Fen(-old.0),
            Outcome::Enters { new } => new,
            Outcome::Problem => Fen(0),
        }
    }
}

/// Whether a calculator's message says the household is not eligible (as opposed to a
/// missing fact or parameter).
pub fn is_not_eligible(message: &str) -> bool {
    message.starts_with(&CalcError::NotEligible(String::new()).to_string())
}

/// The outcome for an enrolment paying `old` of what the 方案 does to it
/// ([`crate::repricing::standard_change_for`]; `None`: the amount stays): a new amount above
/// 0 changes it, 0 or "not eligible" ends it, any other error is a problem.
pub fn outcome_of_change(
    old: Fen,
    change: Option<&Result<Calculation, String>>,
) -> Option<Outcome> {
    Some(match change? {
        Ok(calc) if calc.amount.0 > 0 => Outcome::Changes {
            old,
            new: calc.amount,
        },
        Ok(_) => Outcome::Leaves { old },
        Err(why) if is_not_eligible(why) => Outcome::Leaves { old },
        Err(_) => Outcome::Problem,
    })
}

/// The 低保 amount of a registered household not enrolled, computed as an application
/// with no further details would be (its counted members and recorded incomes), with
/// `params` in force on `on`: `Some` when it would be eligible (above 0).
pub fn household_dibao(
    f: &HouseholdFacts,
    params: &ParamSet,
    on: NaiveDate,
) -> Option<(Program, Fen)> {
    let program = match f.urban_rural {
        UrbanRural::Urban => Program::UrbanDibao,
        UrbanRural::Rural => Program::RuralDibao,
    };
    let region = region_of(&f.village_code)?;
    let details = CaseDetails::default();
    let inp = CaseInputs {
        program,
        members: &f.members,
        incomes: &f.incomes,
        subject: None,
        details: &details,
        on,
    };
    let calc = case_calc::compute(&inp, &params.at(&region, Some(f.urban_rural), on)).ok()?;
    (calc.amount.0 > 0).then_some((program, calc.amount))
}

/// One row of a 方案's result: a township and program.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WhatIfRow {
    pub county_code: String,
    pub county_name: String,
    pub township_code: String,
    pub township_name: String,
    /// `None` in the county and city totals.
    pub program: Option<Program>,
    /// Enrolments whose amount changes (户次: a household with two programs counts in
    /// each), and the persons they cover.
    pub changed_households: i64,
    pub changed_persons: i64,
    pub entering_households: i64,
    pub entering_persons: i64,
    pub leaving_households: i64,
    pub leaving_persons: i64,
    /// Enrolments the calculator could not compute (not in the cost).
    pub problems: i64,
    /// Monthly amounts of the enrolments whose amount changes, before and after.
    pub old_monthly: Fen,
    pub new_monthly: Fen,
    /// Monthly amounts the entering households would receive.
    pub entering_monthly: Fen,
    /// Monthly amounts the leaving enrolments pay now.
    pub leaving_monthly: Fen,
    /// (new − old) + entering − leaving.
    pub monthly_difference: Fen,
    /// Twelve months of the monthly difference.
    pub annual_difference: Fen,
}

impl WhatIfRow {
    fn add(&mut self, o: &WhatIfRow) {
        self.changed_households += o.changed_households;
        self.changed_persons += o.changed_persons;
        self.entering_households += o.entering_households;
        self.entering_persons += o.entering_persons;
        self.leaving_households += o.leaving_households;
        self.leaving_persons += o.leaving_persons;
        self.problems += o.problems;
        self.old_monthly.0 += o.old_monthly.0;
        self.new_monthly.0 += o.new_monthly.0;
        self.entering_monthly.0 += o.entering_monthly.0;
        self.leaving_monthly.0 += o.leaving_monthly.0;
        self.monthly_difference.0 += o.monthly_difference.0;
        self.annual_difference.0 += o.annual_difference.0;
    }

    fn count(&mut self, o: Outcome, persons: i64) {
        match o {
            Outcome::Changes { old, new } => {
                self.changed_households += 1;
                self.changed_persons += persons;
                self.old_monthly.0 += old.0;
                self.new_monthly.0 += new.0;
            }
            Outcome::Leaves { old } => {
                self.leaving_households += 1;
                self.leaving_persons += persons;
                self.leaving_monthly.0 += old.0;
            }
            Outcome::Enters { new } => {
                self.entering_households += 1;
                self.entering_persons += persons;
                self.entering_monthly.0 += new.0;
            }
            Outcome::Problem => self.problems += 1,
        }
        let d = o.difference().0;
        self.monthly_difference.0 += d;
        self.annual_difference.0 += d * 12;
    }
}

/// The edges (yuan per month) of the distribution of the monthly difference per
/// enrolment: below −200, −200 to −100 … above 500.
pub const BUCKET_EDGES_YUAN: [i64; 9] = [-200, -100, -50, 0, 20, 50, 100, 200, 500];

/// The label of each bucket of [`BUCKET_EDGES_YUAN`] (one more than the edges).
pub fn bucket_labels() -> Vec<String> {
    let e = BUCKET_EDGES_YUAN;
    let mut out = vec![format!("减少{}元以上", -e[0])];
    for w in e.windows(2) {
        out.push(match (w[0], w[1]) {
            (a, 0) => format!("减少{}元以内", -a),
            (a, b) if b <= 0 => format!("减少{}—{}元", -b, -a),
            (0, b) => format!("增加{b}元以内"),
            (a, b) => format!("增加{a}—{b}元"),
        });
    }
    out.push(format!("增加{}元以上", e[e.len() - 1]));
    out
}

/// The bucket of a monthly difference: a decrease below the first edge it is under, an
/// increase up to the first edge it does not pass (a rise of exactly 20 yuan is "增加20元以内").
pub fn bucket_of(d: Fen) -> usize {
    BUCKET_EDGES_YUAN
        .iter()
        .position(|&e| {
            if e <= 0 {
                d.0 < e * 100
            } else {
                d.0 <= e * 100
            }
        })
        .unwrap_or(BUCKET_EDGES_YUAN.len())
}

/// Sums outcomes into rows by township and program, as they arrive.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    rows: BTreeMap<(String, Program), WhatIfRow>,
    /// Enrolments and households looked at.
    pub considered: i64,
    /// How many enrolments' (or entering households') difference falls in each bucket.
    pub distribution: Vec<i64>,
}

impl Tally {
    pub fn new() -> Self {
        Tally {
            distribution: vec![0; BUCKET_EDGES_YUAN.len() + 1],
            ..Default::default()
        }
    }

    /// Counts one outcome of `program` in `township` covering `persons` persons.
    pub fn add(&mut self, township: &str, program: Program, o: Outcome, persons: i64) {
        let row = self
            .rows
            .entry((township.to_string(), program))
            .or_insert_with(|| WhatIfRow {
                county_code: township.get(..6).unwrap_or(township).to_string(),
                township_code: township.to_string(),
                program: Some(program),
                ..Default::default()
            });
        row.count(o, persons);
        if o != Outcome::Problem {
            self.distribution[bucket_of(o.difference())] += 1;
        }
    }

    /// The county and township codes of the rows (to look their names up).
    pub fn codes(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (t, _) in self.rows.keys() {
            out.push(t.get(..6).unwrap_or(t).to_string());
            out.push(t.clone());
        }
        out.sort();
        out.dedup();
        out
    }

    /// Adds another tally's counts (a part of the city computed apart).
    pub fn merge(&mut self, other: Tally) {
        self.considered += other.considered;
        for (i, n) in other.distribution.iter().enumerate() {
            self.distribution[i] += n;
        }
        for (k, r) in other.rows {
            match self.rows.get_mut(&k) {
                Some(mine) => mine.add(&r),
                None => {
                    self.rows.insert(k, r);
                }
            }
        }
    }

    /// The rows by township and program, named by `name_of` (division code → name).
    pub fn finish(self, scenario: &Scenario, name_of: impl Fn(&str) -> String) -> ScenarioResult {
        let mut rows: Vec<WhatIfRow> = self.rows.into_values().collect();
        for r in &mut rows {
            r.county_name = name_of(&r.county_code);
            r.township_name = name_of(&r.township_code);
        }
        rows.sort_by(|a, b| {
            (a.township_code.as_str(), a.program.map(program_rank))
                .cmp(&(b.township_code.as_str(), b.program.map(program_rank)))
        });
        let mut counties: BTreeMap<String, WhatIfRow> = BTreeMap::new();
        let mut programs: BTreeMap<usize, WhatIfRow> = BTreeMap::new();
        let mut total = WhatIfRow::default();
        for r in &rows {
            let c = counties
                .entry(r.county_code.clone())
                .or_insert_with(|| WhatIfRow {
                    county_code: r.county_code.clone(),
                    county_name: r.county_name.clone(),
                    ..Default::default()
                });
            c.add(r);
            let p = programs
                .entry(r.program.map(program_rank).unwrap_or(0))
                .or_insert_with(|| WhatIfRow {
                    program: r.program,
                    ..Default::default()
                });
            p.add(r);
            total.add(r);
        }
        ScenarioResult {
            name: scenario.name.clone(),
            month: scenario.month,
            changes: scenario.changes.iter().map(ChangeView::of).collect(),
            programs: scenario.programs.clone(),
            considered: self.considered,
            rows,
            by_county: counties.into_values().collect(),
            by_program: programs.into_values().collect(),
            total,
            distribution: self.distribution,
        }
    }
}

fn program_rank(p: Program) -> usize {
    Program::ALL
        .iter()
        .position(|x| *x == p)
        .unwrap_or(usize::MAX)
}

/// A parameter value of a 方案 as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeView {
    pub program: Program,
    /// Storage code (`standard`, `tekun_basic_ratio`).
    pub name: String,
    /// 城市最低生活保障·低保标准.
    pub label: String,
    pub region: String,
    pub urban_rural: Option<crate::UrbanRural>,
    pub effective_from: chrono::NaiveDate,
    /// The value as the parameters page shows it (`850.00`, `7/5`).
    pub value: String,
    /// The value as the parameters form takes it (for adopting the 方案).
    pub value_input: String,
}

impl ChangeView {
    pub fn of(e: &ParamEntry) -> Self {
        let value_input = match &e.value {
            crate::ParamValue::Amount(f) => format!("{}.{:02}", f.0 / 100, f.0 % 100),
            crate::ParamValue::Ratio(r) => {
                // Exact decimals where the ratio has one, else the JSON form.
                let scaled = i128::from(r.num()) * 1_000_000;
                if scaled % i128::from(r.den()) == 0 {
                    let millionths = scaled / i128::from(r.den());
                    let s = format!("{}.{:06}", millionths / 1_000_000, millionths % 1_000_000);
                    s.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    serde_json::to_string(&e.value).unwrap_or_default()
                }
            }
            other => serde_json::to_string(other).unwrap_or_default(),
        };
        ChangeView {
            program: e.key.program,
            name: e.key.name.code(),
            label: e.key.label(),
            region: e.region().as_str().to_string(),
            urban_rural: e.scope.urban_rural,
            effective_from: e.effective_from,
            value: e.value.text(),
            value_input,
        }
    }

    /// The value as the parameters page takes it (to adopt the 方案).
    pub fn to_new_param(&self, source: &str) -> NewParam {
        NewParam {
            program: self.program.as_str().to_string(),
            name: self.name.clone(),
            region: self.region.clone(),
            urban_rural: self
                .urban_rural
                .map(|u| u.as_str().to_string())
                .unwrap_or_default(),
            effective_from: self.effective_from.to_string(),
            value_json: self.value_input.clone(),
            source: source.to_string(),
        }
    }
}

/// A 方案's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioResult {
    pub name: String,
    pub month: YearMonth,
    pub changes: Vec<ChangeView>,
    pub programs: Vec<Program>,
    /// Enrolments and registered households looked at.
    pub considered: i64,
    /// By township and program.
    pub rows: Vec<WhatIfRow>,
    pub by_county: Vec<WhatIfRow>,
    pub by_program: Vec<WhatIfRow>,
    /// The sums of `rows`.
    pub total: WhatIfRow,
    /// Counts per bucket of [`BUCKET_EDGES_YUAN`].
    pub distribution: Vec<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DivisionCode;

    fn changes(old: i64, new: i64) -> Outcome {
        Outcome::Changes {
            old: Fen(old),
            new: Fen(new),
        }
    }

    fn leaves(old: i64) -> Outcome {
        Outcome::Leaves { old: Fen(old) }
    }

    fn enters(new: i64) -> Outcome {
        Outcome::Enters { new: Fen(new) }
    }

    fn city() -> Scope {
        Scope::of(DivisionCode::parse("5118").unwrap())
    }

    fn change(name: &str, value: &str) -> ChangeInput {
        ChangeInput {
            program: "urban_dibao".into(),
            name: name.into(),
            region: "5118".into(),
            effective_from: "2027-01-01".into(),
            value_json: value.into(),
            ..Default::default()
        }
    }

    #[test]
    fn an_enrolment_changes_leaves_or_is_a_problem_by_what_the_calculator_says() {
        use crate::calculators::{CalcError, Calculation, Explanation};
        use crate::programs::AmountUnit;
        let calc = |fen: i64| -> Result<Calculation, String> {
            Ok(Calculation {
                amount: Fen(fen),
                unit: AmountUnit::Monthly,
                explanation: Explanation::default(),
            })
        };
        let old = Fen(50_000);
        // The amount stays: no outcome.
        assert_eq!(outcome_of_change(old, None), None);
        assert_eq!(
            outcome_of_change(old, Some(&calc(52_000))),
            Some(Outcome::Changes {
                old,
                new: Fen(52_000)
            })
        );
        assert_eq!(
            outcome_of_change(old, Some(&calc(1))),
            Some(Outcome::Changes { old, new: Fen(1) })
        );
        // 0 ends it, as "not eligible" does.
        assert_eq!(
            outcome_of_change(old, Some(&calc(0))),
            Some(Outcome::Leaves { old })
        );
        let not_eligible = Err(CalcError::NotEligible("收入高于标准".into()).to_string());
        assert!(is_not_eligible(not_eligible.as_ref().unwrap_err()));
        assert_eq!(
            outcome_of_change(old, Some(&not_eligible)),
            Some(Outcome::Leaves { old })
        );
        // Anything else cannot be computed.
        let missing = Err("缺少参数".to_string());
        assert!(!is_not_eligible(missing.as_ref().unwrap_err()));
        assert_eq!(
            outcome_of_change(old, Some(&missing)),
            Some(Outcome::Problem)
        );
    }

    #[test]
    fn scenarios_are_read_with_their_month_and_programs() {
        let req = WhatIfRequest {
            scenarios: vec![
                ScenarioInput {
                    name: String::new(),
                    changes: vec![change("standard", "850")],
                },
                ScenarioInput {
                    name: "特困提高".into(),
                    changes: vec![ChangeInput {
                        program: "tekun".into(),
                        effective_from: "2027-01-15".into(),
                        ..change("tekun_basic_ratio", "1.4")
                    }],
                },
            ],
            within: None,
        };
        let s = parse_scenarios(&req, &city()).unwrap();
        assert_eq!(s[0].name, "方案一");
        assert_eq!(s[0].month.to_string(), "2027-01");
        assert_eq!(
            s[0].programs,
            [
                Program::UrbanDibao,
                Program::SinglePersonDibao,
                Program::Tekun
            ]
        );
        assert_eq!(s[1].name, "特困提高");
        // Effective mid-month: paid from the next month.
        assert_eq!(s[1].month.to_string(), "2027-02");
        assert_eq!(s[1].programs, [Program::Tekun]);
        assert_eq!(ChangeView::of(&s[1].changes[0]).value_input, "1.4");
        assert_eq!(ChangeView::of(&s[0].changes[0]).value_input, "850.00");
    }

    #[test]
    fn a_filled_scenario_keeps_its_rows_number_when_a_row_before_it_is_blank() {
        let blank = || ScenarioInput {
            name: "  ".into(),
            changes: Vec::new(),
        };
        let filled = |name: &str| ScenarioInput {
            name: name.into(),
            changes: vec![change("standard", "850")],
        };
        // The page's second row filled, the first left blank: it is 方案二.
        let req = WhatIfRequest {
            scenarios: vec![blank(), filled(""), filled("")],
            within: None,
        };
        let names: Vec<String> = parse_scenarios(&req, &city())
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["方案二", "方案三"]);
        // A named row without changes after a blank one: the error is on its own row.
        let req = WhatIfRequest {
            scenarios: vec![
                blank(),
                ScenarioInput {
                    name: String::new(),
                    changes: vec![change("standard", "850")],
                },
                ScenarioInput {
                    name: "提标".into(),
                    changes: Vec::new(),
                },
            ],
            within: None,
        };
        let Err(ScenarioError::Field(f)) = parse_scenarios(&req, &city()) else {
            panic!("a 方案 without changes");
        };
        assert_eq!(
            f.get("scenarios[2].changes").map(|m| m.to_string()),
            Some("提标没有填写参数调整".to_string())
        );
        // More rows than the page has (the API): the unnamed ones are named in order.
        let req = WhatIfRequest {
            scenarios: vec![blank(), blank(), filled(""), blank(), filled("")],
            within: None,
        };
        let names: Vec<String> = parse_scenarios(&req, &city())
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["方案一", "方案二"]);
    }

    #[test]
    fn bad_scenarios_are_refused_with_the_field_named() {
        let none = WhatIfRequest::default();
        assert!(matches!(
            parse_scenarios(&none, &city()),
            Err(ScenarioError::Field(_))
        ));
        let one = |c: ChangeInput| WhatIfRequest {
            scenarios: vec![ScenarioInput {
                name: String::new(),
                changes: vec![c],
            }],
            within: None,
        };
        let Err(ScenarioError::Field(f)) =
            parse_scenarios(&one(change("notice_days", "7")), &city())
        else {
            panic!("a notice period changes no amount");
        };
        assert!(f
            .get("scenarios[0].changes[0].name")
            .unwrap()
            .contains("无法测算"));
        let Err(ScenarioError::Field(f)) =
            parse_scenarios(&one(change("standard", "abc")), &city())
        else {
            panic!("a bad value");
        };
        assert!(f.get("scenarios[0].changes[0].value_json").is_some());
        let other = Scope::of(DivisionCode::parse("5101").unwrap());
        assert_eq!(
            parse_scenarios(&one(change("standard", "850")), &other).unwrap_err(),
            ScenarioError::OutsideScope
        );
        let four = WhatIfRequest {
            scenarios: vec![
                ScenarioInput {
                    name: "x".into(),
                    changes: vec![change("standard", "850")],
                };
                4
            ],
            within: None,
        };
        assert!(parse_scenarios(&four, &city()).is_err());
    }

    #[test]
    fn totals_are_the_sums_of_the_rows() {
        let req = WhatIfRequest {
            scenarios: vec![ScenarioInput {
                name: String::new(),
                changes: vec![change("standard", "850")],
            }],
            within: None,
        };
        let s = parse_scenarios(&req, &city()).unwrap().remove(0);
        let mut t = Tally::new();
        let (a, b) = ("511802001", "511803002");
        t.add(a, Program::UrbanDibao, changes(30_000, 34_000), 3);
        t.add(a, Program::UrbanDibao, leaves(5_000), 2);
        let mut u = Tally::new();
        u.add(b, Program::Tekun, changes(100_000, 108_000), 1);
        u.add(a, Program::UrbanDibao, enters(12_000), 4);
        u.add(b, Program::Tekun, Outcome::Problem, 1);
        t.merge(u);
        let r = t.finish(&s, |c| format!("区划{c}"));
        assert_eq!(r.rows.len(), 2);
        let row = &r.rows[0];
        assert_eq!(row.township_name, "区划511802001");
        assert_eq!(
            (
                row.changed_households,
                row.changed_persons,
                row.leaving_persons,
                row.entering_persons
            ),
            (1, 3, 2, 4)
        );
        assert_eq!(row.monthly_difference, Fen(4_000 - 5_000 + 12_000));
        assert_eq!(r.total.monthly_difference, Fen(11_000 + 8_000));
        assert_eq!(r.total.annual_difference, Fen(19_000 * 12));
        assert_eq!(r.total.problems, 1);
        let sum: i64 = r.rows.iter().map(|x| x.monthly_difference.0).sum();
        assert_eq!(sum, r.total.monthly_difference.0);
        assert_eq!(r.by_county.len(), 2);
        assert_eq!(r.by_program.len(), 2);
        assert_eq!(r.distribution.iter().sum::<i64>(), 4);
        assert_eq!(bucket_labels().len(), r.distribution.len());
    }

    fn one_scenario(name: &str, changes: Vec<ChangeInput>) -> WhatIfRequest {
        WhatIfRequest {
            scenarios: vec![ScenarioInput {
                name: name.into(),
                changes,
            }],
            within: None,
        }
    }

    fn field_error(r: Result<Vec<Scenario>, ScenarioError>) -> (String, String) {
        match r {
            Err(ScenarioError::Field(f)) => {
                let (k, m) = f.iter().next().expect("one field");
                (k.to_string(), m.to_string())
            }
            other => panic!("a field error expected: {other:?}"),
        }
    }

    #[test]
    fn a_named_scenario_without_changes_is_refused_by_its_name() {
        let (k, m) = field_error(parse_scenarios(&one_scenario("方案甲", vec![]), &city()));
        assert_eq!(k, "scenarios[0].changes");
        assert_eq!(m, "方案甲没有填写参数调整");
        // Blank ones are left out; the filled one keeps its row's number.
        let req = WhatIfRequest {
            scenarios: vec![
                ScenarioInput::default(),
                ScenarioInput {
                    name: "  ".into(),
                    changes: vec![change("standard", "850")],
                },
            ],
            within: None,
        };
        let s = parse_scenarios(&req, &city()).unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].name, "方案二");
        let (k, m) = field_error(parse_scenarios(&WhatIfRequest::default(), &city()));
        assert_eq!(
            (k.as_str(), m.as_str()),
            ("scenarios", "请至少填写一个测算方案")
        );
    }

    #[test]
    fn three_scenarios_of_ten_changes_each_are_the_most() {
        let ten: Vec<ChangeInput> = (1..=10)
            .map(|m| ChangeInput {
                effective_from: format!("2027-{m:02}-01"),
                ..change("standard", "850")
            })
            .collect();
        let three = WhatIfRequest {
            scenarios: vec![
                ScenarioInput {
                    name: String::new(),
                    changes: ten.clone(),
                };
                3
            ],
            within: None,
        };
        let s = parse_scenarios(&three, &city()).unwrap();
        assert_eq!(
            s.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(),
            ["方案一", "方案二", "方案三"]
        );
        assert_eq!(s[2].changes.len(), 10);
        // The latest value decides the month the new amounts are paid from.
        assert_eq!(s[0].month.to_string(), "2027-10");
        let mut four = three.clone();
        four.scenarios.push(four.scenarios[0].clone());
        let (k, m) = field_error(parse_scenarios(&four, &city()));
        assert_eq!(
            (k.as_str(), m.as_str()),
            ("scenarios", "最多同时测算3个方案")
        );
        let mut eleven = ten;
        eleven.push(ChangeInput {
            effective_from: "2027-11-01".into(),
            ..change("standard", "850")
        });
        let (k, m) = field_error(parse_scenarios(&one_scenario("多项", eleven), &city()));
        assert_eq!(k, "scenarios[0].changes");
        assert_eq!(m, "多项最多10项参数调整");
    }

    #[test]
    fn a_long_name_is_cut_to_forty_characters() {
        let long = "调".repeat(45);
        let s = parse_scenarios(
            &one_scenario(&format!(" {long} "), vec![change("standard", "850")]),
            &city(),
        )
        .unwrap();
        assert_eq!(s[0].name, "调".repeat(40));
    }

    #[test]
    fn a_bad_value_is_named_with_its_scenario_and_place() {
        let req = one_scenario(
            "提标",
            vec![change("standard", "850"), change("standard", "abc")],
        );
        let (k, m) = field_error(parse_scenarios(&req, &city()));
        assert_eq!(k, "scenarios[0].changes[1].value_json");
        assert!(m.starts_with("提标："), "{m}");
    }

    #[test]
    fn the_same_value_twice_is_refused_but_another_date_or_area_is_not() {
        let twice = one_scenario(
            "重复",
            vec![change("standard", "850"), change("standard", "860")],
        );
        let (k, m) = field_error(parse_scenarios(&twice, &city()));
        assert_eq!(k, "scenarios[0].changes[1].name");
        assert_eq!(m, "重复：城市最低生活保障·低保标准重复填写");
        let other_date = one_scenario(
            "",
            vec![
                change("standard", "850"),
                ChangeInput {
                    effective_from: "2027-07-01".into(),
                    ..change("standard", "870")
                },
            ],
        );
        assert_eq!(
            parse_scenarios(&other_date, &city()).unwrap()[0]
                .changes
                .len(),
            2
        );
        let other_area = one_scenario(
            "",
            vec![
                change("standard", "850"),
                ChangeInput {
                    region: "511802".into(),
                    ..change("standard", "870")
                },
            ],
        );
        assert_eq!(
            parse_scenarios(&other_area, &city()).unwrap()[0]
                .changes
                .len(),
            2
        );
        let other_name = one_scenario(
            "",
            vec![
                change("standard", "850"),
                change("single_person_share", "0.4"),
            ],
        );
        let s = parse_scenarios(&other_name, &city()).unwrap();
        assert_eq!(s[0].changes.len(), 2);
        // Both follow into the same programs, each listed once.
        assert_eq!(
            s[0].programs,
            [
                Program::UrbanDibao,
                Program::SinglePersonDibao,
                Program::Tekun
            ]
        );
    }

    #[test]
    fn a_value_that_pays_no_monthly_amount_cannot_be_computed() {
        // A standard of a one-off program changes no monthly amount.
        let once = ChangeInput {
            program: "temporary_assistance".into(),
            ..change("standard", "850")
        };
        let (k, m) = field_error(parse_scenarios(&one_scenario("临时", vec![once]), &city()));
        assert_eq!(k, "scenarios[0].changes[0].name");
        assert!(m.ends_with("不影响按月发放的金额，无法测算"), "{m}");
    }

    #[test]
    fn a_rows_difference_is_new_less_old_plus_entering_less_leaving() {
        assert_eq!(changes(30_000, 34_500).difference(), Fen(4_500));
        assert_eq!(leaves(5_000).difference(), Fen(-5_000));
        assert_eq!(enters(12_000).difference(), Fen(12_000));
        assert_eq!(Outcome::Problem.difference(), Fen(0));
    }

    #[test]
    fn county_program_and_city_totals_add_every_column() {
        let req = one_scenario("", vec![change("standard", "850")]);
        let s = parse_scenarios(&req, &city()).unwrap().remove(0);
        // Two townships of one county, one of another; two programs.
        let (a, b, c) = ("511802001", "511802002", "511803001");
        let mut t = Tally::new();
        t.add(a, Program::UrbanDibao, changes(30_000, 34_000), 3);
        t.add(a, Program::UrbanDibao, changes(20_000, 21_000), 2);
        t.add(a, Program::UrbanDibao, leaves(5_000), 2);
        t.add(a, Program::UrbanDibao, leaves(7_000), 1);
        t.add(a, Program::UrbanDibao, enters(12_000), 4);
        t.add(a, Program::UrbanDibao, enters(9_000), 3);
        t.add(a, Program::UrbanDibao, Outcome::Problem, 2);
        t.add(a, Program::UrbanDibao, Outcome::Problem, 5);
        t.considered = 8;
        let mut u = Tally::new();
        u.considered = 5;
        u.add(b, Program::UrbanDibao, changes(40_000, 43_000), 2);
        u.add(b, Program::UrbanDibao, leaves(6_000), 3);
        u.add(b, Program::UrbanDibao, enters(8_000), 2);
        u.add(b, Program::UrbanDibao, Outcome::Problem, 1);
        u.add(c, Program::Tekun, changes(100_000, 108_000), 1);
        // A part of the city computed apart, with the same township and program.
        u.add(a, Program::UrbanDibao, changes(10_000, 10_500), 1);
        t.merge(u);
        assert_eq!(
            t.codes(),
            ["511802", "511802001", "511802002", "511803", "511803001"]
        );
        let r = t.finish(&s, |code| format!("区划{code}"));
        assert_eq!(r.considered, 13);
        // Township a, 城市低保.
        let row = &r.rows[0];
        assert_eq!(
            (row.township_code.as_str(), row.county_code.as_str()),
            (a, "511802")
        );
        assert_eq!(row.county_name, "区划511802");
        assert_eq!(row.program, Some(Program::UrbanDibao));
        assert_eq!(
            (row.changed_households, row.changed_persons),
            (3, 3 + 2 + 1)
        );
        assert_eq!((row.leaving_households, row.leaving_persons), (2, 3));
        assert_eq!((row.entering_households, row.entering_persons), (2, 7));
        assert_eq!(row.problems, 2);
        assert_eq!(row.old_monthly, Fen(30_000 + 20_000 + 10_000));
        assert_eq!(row.new_monthly, Fen(34_000 + 21_000 + 10_500));
        assert_eq!(row.leaving_monthly, Fen(12_000));
        assert_eq!(row.entering_monthly, Fen(21_000));
        // (65,500 − 60,000) + 21,000 − 12,000
        assert_eq!(row.monthly_difference, Fen(14_500));
        assert_eq!(row.annual_difference, Fen(14_500 * 12));
        // County 511802: townships a and b.
        let county = &r.by_county[0];
        assert_eq!(county.county_code, "511802");
        assert_eq!(county.county_name, "区划511802");
        assert_eq!(county.program, None);
        assert_eq!((county.changed_households, county.changed_persons), (4, 8));
        assert_eq!((county.leaving_households, county.leaving_persons), (3, 6));
        assert_eq!(
            (county.entering_households, county.entering_persons),
            (3, 9)
        );
        assert_eq!(county.problems, 3);
        assert_eq!(county.old_monthly, Fen(100_000));
        assert_eq!(county.new_monthly, Fen(108_500));
        assert_eq!(county.leaving_monthly, Fen(18_000));
        assert_eq!(county.entering_monthly, Fen(29_000));
        // (108,500 − 100,000) + 29,000 − 18,000
        assert_eq!(county.monthly_difference, Fen(19_500));
        assert_eq!(county.annual_difference, Fen(19_500 * 12));
        assert_eq!(r.by_county[1].county_code, "511803");
        // By program, in the programs' order: 城市低保 then 特困.
        assert_eq!(
            r.by_program.iter().map(|p| p.program).collect::<Vec<_>>(),
            [Some(Program::UrbanDibao), Some(Program::Tekun)]
        );
        assert_eq!(r.by_program[0].monthly_difference, Fen(19_500));
        assert_eq!(r.by_program[1].monthly_difference, Fen(8_000));
        assert_eq!(r.total.monthly_difference, Fen(27_500));
        assert_eq!(r.total.changed_households, 5);
        assert_eq!(r.total.new_monthly, Fen(216_500));
        // Problems are not in the distribution: 14 outcomes, 3 problems.
        assert_eq!(r.distribution.iter().sum::<i64>(), 11);
        assert_eq!(r.name, "方案一");
        assert_eq!(r.month.to_string(), "2027-01");
        assert_eq!(r.programs, s.programs);
        assert_eq!(r.changes.len(), 1);
    }

    #[test]
    fn rows_are_in_township_order_and_a_townships_programs_in_the_programs_order() {
        let req = one_scenario("", vec![change("standard", "850")]);
        let s = parse_scenarios(&req, &city()).unwrap().remove(0);
        let mut t = Tally::new();
        let up = enters(100);
        t.add("511802002", Program::UrbanDibao, up, 1);
        // 特困 sorts after 城市低保 though its code sorts before it.
        t.add("511802001", Program::Tekun, up, 1);
        t.add("511802001", Program::UrbanDibao, up, 1);
        let r = t.finish(&s, |c| c.to_string());
        let order: Vec<(&str, Option<Program>)> = r
            .rows
            .iter()
            .map(|x| (x.township_code.as_str(), x.program))
            .collect();
        assert_eq!(
            order,
            [
                ("511802001", Some(Program::UrbanDibao)),
                ("511802001", Some(Program::Tekun)),
                ("511802002", Some(Program::UrbanDibao)),
            ]
        );
    }

    #[test]
    fn the_distribution_counts_each_outcome_in_its_bucket() {
        let mut t = Tally::new();
        t.add("511802001", Program::UrbanDibao, leaves(30_000), 1);
        t.add("511802001", Program::UrbanDibao, enters(1_000), 1);
        t.add("511802001", Program::UrbanDibao, enters(1_500), 1);
        let mut u = Tally::new();
        u.add("511802001", Program::UrbanDibao, enters(60_000), 1);
        u.add("511802001", Program::UrbanDibao, enters(2_000), 1);
        t.merge(u);
        // 减少200元以上: 1; 增加20元以内: 3 (10, 15 and 20 元); 增加500元以上: 1.
        assert_eq!(t.distribution, [1, 0, 0, 0, 3, 0, 0, 0, 0, 1]);
    }

    #[test]
    fn an_edge_belongs_to_the_smaller_change() {
        let labels = bucket_labels();
        assert_eq!(
            labels,
            [
                "减少200元以上",
                "减少100—200元",
                "减少50—100元",
                "减少50元以内",
                "增加20元以内",
                "增加20—50元",
                "增加50—100元",
                "增加100—200元",
                "增加200—500元",
                "增加500元以上",
            ]
        );
        let at = |fen: i64| labels[bucket_of(Fen(fen))].as_str();
        assert_eq!(at(-20_001), "减少200元以上");
        assert_eq!(at(-20_000), "减少100—200元");
        assert_eq!(at(-10_000), "减少50—100元");
        assert_eq!(at(-5_000), "减少50元以内");
        assert_eq!(at(-1), "减少50元以内");
        // No change is no decrease.
        assert_eq!(at(0), "增加20元以内");
        assert_eq!(at(2_001), "增加20—50元");
        assert_eq!(at(50_000), "增加200—500元");
        assert_eq!(at(50_001), "增加500元以上");
    }

    #[test]
    fn a_changes_value_reads_back_as_the_form_takes_it() {
        let req = one_scenario(
            "",
            vec![
                ChangeInput {
                    urban_rural: "rural".into(),
                    region: "511802".into(),
                    ..change("standard", "850.5")
                },
                change("single_person_share", "0.125"),
                change(
                    "edge_band_ratio",
                    r#"{"type":"ratio","value":{"num":4,"den":3}}"#,
                ),
            ],
        );
        let s = parse_scenarios(&req, &city()).unwrap().remove(0);
        let views: Vec<ChangeView> = s.changes.iter().map(ChangeView::of).collect();
        assert_eq!(views[0].value_input, "850.50");
        assert_eq!(views[0].value, "850.50元");
        assert_eq!(views[1].value_input, "0.125");
        // No exact decimal: the JSON form.
        assert_eq!(
            views[2].value_input,
            r#"{"type":"ratio","value":{"num":4,"den":3}}"#
        );
        // Adopting the 方案 gives back the same values.
        for (v, e) in views.iter().zip(&s.changes) {
            let back = parse_new_param(&v.to_new_param("市政发〔2026〕1号"), &city()).unwrap();
            assert_eq!(back.key, e.key);
            assert_eq!(back.scope, e.scope);
            assert_eq!(back.effective_from, e.effective_from);
            assert_eq!(back.value, e.value);
            assert_eq!(back.source, "市政发〔2026〕1号");
        }
        assert_eq!(views[0].region, "511802");
        assert_eq!(views[0].urban_rural, Some(UrbanRural::Rural));
    }

    #[test]
    fn a_registered_household_would_receive_the_standard_times_its_members() {
        use crate::calculators::{IncomeItem, IncomeKind, IncomePeriod};
        use crate::case_calc::MemberInput;
        use crate::IdNumber;
        let set = ParamSet::demo_yaan();
        let on = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let member = |first17: &str| MemberInput {
            id_number: IdNumber::parse(
                &format!(
                    "{first17}{}",
                    IdNumber::check_char(first17.as_bytes()).unwrap() as char
                ),
                on,
            )
            .unwrap(),
            counted: true,
            severe_disability: false,
            serious_illness: false,
        };
        let mut f = HouseholdFacts {
            township_code: "511802001".into(),
            village_code: "511802001001".into(),
            urban_rural: UrbanRural::Urban,
            members: vec![member("51180219850101001"), member("51180219870202002")],
            member_ids: Default::default(),
            incomes: Vec::new(),
            counted: 2,
            head_id: String::new(),
            address: String::new(),
            phone: String::new(),
            account: String::new(),
        };
        // Two adults without income: the demo's 2026 standards, 810 元 urban, 630 元 rural.
        assert_eq!(
            household_dibao(&f, &set, on),
            Some((Program::UrbanDibao, Fen(2 * 81_000)))
        );
        f.urban_rural = UrbanRural::Rural;
        assert_eq!(
            household_dibao(&f, &set, on),
            Some((Program::RuralDibao, Fen(2 * 63_000)))
        );
        // An income above the standard: not eligible.
        f.incomes = vec![IncomeItem {
            kind: IncomeKind::Wages,
            period: IncomePeriod::Monthly,
            amount: Fen(300_000),
        }];
        assert_eq!(household_dibao(&f, &set, on), None);
        // A tier that pays nothing, with no minimum payment: eligible at 0 is no entry.
        f.incomes.clear();
        f.urban_rural = UrbanRural::Urban;
        let mut zero_tier = set.clone();
        let from = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
        for (name, value) in [
            (
                crate::params::ParamName::TopUpMode,
                crate::ParamValue::TopUpMode(crate::params::TopUpMode::Tiers),
            ),
            (
                crate::params::ParamName::Tiers,
                crate::ParamValue::Tiers(vec![crate::params::DibaoTier {
                    name: "零档".into(),
                    income_below: crate::params::Ratio::percent(100),
                    per_person: crate::params::Ratio::percent(0),
                }]),
            ),
            (
                crate::params::ParamName::MinPaymentRatio,
                crate::ParamValue::Ratio(crate::params::Ratio::percent(0)),
            ),
        ] {
            zero_tier
                .insert(ParamEntry {
                    key: crate::params::ParamKey::new(Program::UrbanDibao, name),
                    scope: crate::params::Scope::city(DivisionCode::parse("5118").unwrap()),
                    effective_from: from,
                    value,
                    source: String::new(),
                })
                .unwrap();
        }
        assert_eq!(household_dibao(&f, &zero_tier, on), None);
        // A village code that is no division: nothing to compute with.
        f.incomes.clear();
        f.village_code = "abc".into();
        assert_eq!(household_dibao(&f, &set, on), None);
    }

    #[test]
    fn differences_fall_in_their_buckets() {
        let labels = bucket_labels();
        let at = |yuan: i64| labels[bucket_of(Fen(yuan * 100))].clone();
        assert_eq!(at(-300), "减少200元以上");
        assert_eq!(at(-150), "减少100—200元");
        assert_eq!(at(-10), "减少50元以内");
        assert_eq!(at(10), "增加20元以内");
        assert_eq!(at(20), "增加20元以内");
        assert_eq!(at(40), "增加20—50元");
        assert_eq!(at(800), "增加500元以上");
        assert!(is_not_eligible(
            &CalcError::NotEligible("人均收入不低于标准".into()).to_string()
        ));
        assert!(!is_not_eligible("请先填写供养方式"));
    }
}
