//! 测算 — the budget what-if before a standard decision (`app.params().whatif`): one to
//! three 方案 of parameter values, each computed over the jurisdiction's real enrolments and
//! registry facts with the calculators a case and a re-pricing use
//! (`domain::repricing::standard_change_for`, which the re-pricing's `standard_line_for`
//! writes as a line), summed by county, township and program, side by side; its workbook; and the adoption of a 方案 as the real parameter change, which
//! prepares the 调整标准 batches as `add_and_reprice` does. The what-if itself writes
//! nothing: no row, no audit record (it reads, and its figures name no one).

use std::collections::{BTreeSet, HashSet};
use std::time::Instant;

use minzheng_domain::calculators::without_explanations;
use minzheng_domain::params::ParamSet;
use minzheng_domain::payroll::bounds_within;
use minzheng_domain::repricing::{programs_following, reprices, standard_change_for};
use minzheng_domain::whatif::{
    bucket_labels, household_dibao, outcome_of_change, parse_scenarios, Outcome, Scenario,
    ScenarioError, ScenarioInput, ScenarioResult, Tally, WhatIfRequest, WhatIfRow,
};
use minzheng_domain::{Actor, Program, YearMonth};
use minzheng_store::whatif as store;
use serde::Serialize;

use crate::params::Params;
use crate::payroll::Workbook;
use crate::repricing::Prepared;
use crate::{Authorize, Error, Permission, Result};

/// A what-if's answer: each 方案's result, side by side.
#[derive(Debug, Clone, Serialize)]
pub struct WhatIf {
    pub scenarios: Vec<ScenarioResult>,
    /// The labels of the distribution's buckets (monthly difference per enrolment).
    pub buckets: Vec<String>,
    /// How long the computation took.
    pub seconds: f64,
}

/// A 方案 adopted: the values added and the 调整标准 batches they prepared.
#[derive(Debug, Clone, Serialize)]
pub struct Adopted {
    /// The parameter rows added.
    pub ids: Vec<i64>,
    /// The month the new amounts are paid from.
    pub month: YearMonth,
    /// Lines prepared, over all batches.
    pub added: i64,
    pub prepared: Vec<Prepared>,
    /// Why a preparation failed (the values are added all the same; it may be run again
    /// from the 调标批次 page).
    pub errors: Vec<String>,
}

fn scenario_error(e: ScenarioError) -> Error {
    match e {
        ScenarioError::Field(f) => crate::cases::field_error(f),
        ScenarioError::OutsideScope => Error::NotFound("该地区"),
    }
}

/// The stored parameters with a 方案's values added (a value already stored for the same
/// key, region and date is refused, as the parameters page would).
fn overlay(base: &ParamSet, s: &Scenario, i: usize) -> Result<ParamSet> {
    let mut set = base.clone();
    for (j, e) in s.changes.iter().enumerate() {
        set.insert(e.clone()).map_err(|err| {
            Error::field(
                &format!("scenarios[{i}].changes[{j}].value_json"),
                format!("{}：{err}", s.name),
            )
        })?;
    }
    Ok(set)
}

/// What the reading threads share: the 方案, the parameters with each 方案's values
/// and without.
struct Shared {
    scenarios: Vec<Scenario>,
    overlays: Vec<ParamSet>,
    base: ParamSet,
}

const DIBAO: [Program; 2] = [Program::UrbanDibao, Program::RuralDibao];

impl Shared {
    /// Adds one part's outcomes to each 方案's tally.
    fn compute(&self, part: &store::Part, tallies: &mut [Tally]) {
        for (i, s) in self.scenarios.iter().enumerate() {
            let (params, tally) = (&self.overlays[i], &mut tallies[i]);
            for e in &part.enrolments {
                if !s.programs.contains(&e.program) || !e.payable_in(s.month) {
                    continue;
                }
                tally.considered += 1;
                let c = &e.candidate;
                let f = part.household(c.household_id);
                let change = standard_change_for(c, f, params, e.program, s.month);
                if let Some(o) = outcome_of_change(c.monthly, change.as_ref()) {
                    let persons = match (c.person_id, f) {
                        (Some(_), _) | (None, None) => 1,
                        (None, Some(f)) => f.counted.max(1),
                    };
                    tally.add(&c.township_code, e.program, o, persons);
                }
            }
            if !s.programs.iter().any(|p| DIBAO.contains(p)) {
                continue;
            }
            let day = s.month.first_day();
            for f in part.unenrolled_with_incomes() {
                let Some((program, new)) = household_dibao(f, params, day) else {
                    continue;
                };
                if !s.programs.contains(&program) || household_dibao(f, &self.base, day).is_some() {
                    continue;
                }
                tally.considered += 1;
                tally.add(
                    &f.township_code,
                    program,
                    Outcome::Enters { new },
                    f.counted.max(1),
                );
            }
        }
    }
}

impl Params<'_> {
    /// Whether the actor may run a what-if (for drawing links).
    pub fn may_whatif(&self, actor: &Actor) -> bool {
        actor.may(Permission::ManageParams)
    }

    /// 测算: computes each 方案 over the live monthly enrolments of the programs its values
    /// can change, in the actor's jurisdiction (or `within` inside it), from the month its
    /// values take effect: every enrolment computed as a re-pricing would with the
    /// parameters plus the 方案's values — whose amount changes, who would leave (the
    /// calculator gives 0 or says not eligible), who cannot be computed; and, for a 方案
    /// touching 低保, the registered households not enrolled in 低保 with recorded incomes
    /// that would become eligible (and are not eligible without it). Nothing is written.
    pub async fn whatif(&self, actor: &Actor, req: &WhatIfRequest) -> Result<WhatIf> {
        self.whatif_in_parts(actor, req, store::PART).await
    }

    /// [`Self::whatif`], reading `part` households at a time (tests use small parts to
    /// read a small city in many parts, by several threads).
    pub(crate) async fn whatif_in_parts(
        &self,
        actor: &Actor,
        req: &WhatIfRequest,
        part: i64,
    ) -> Result<WhatIf> {
        actor.require_or(
            Permission::ManageParams,
            "只有市民政局管理员可以进行调标测算",
        )?;
        let started = Instant::now();
        let scenarios = parse_scenarios(req, &actor.scope).map_err(scenario_error)?;
        let (lo, hi) = bounds_within(&actor.scope, req.within.as_deref())
            .map_err(|_| Error::NotFound("该区划"))?;
        let st = self.app.store();
        let base = minzheng_store::params::load(st).await?;
        let overlays = scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| overlay(&base, s, i))
            .collect::<Result<Vec<_>>>()?;
        let mut programs: Vec<Program> = scenarios
            .iter()
            .flat_map(|s| s.programs.iter().copied())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if programs.iter().any(|p| DIBAO.contains(p)) {
            // Who holds 低保 already is not newly eligible.
            for p in DIBAO {
                if !programs.contains(&p) {
                    programs.push(p);
                }
            }
        }
        let on = scenarios
            .iter()
            .map(|s| s.month)
            .max()
            .expect("parse_scenarios gives one at least")
            .first_day();
        // Each reading thread computes the parts it reads, into its own tallies.
        let shared = Shared {
            scenarios,
            overlays,
            base,
        };
        let fresh = || -> Vec<Tally> { shared.scenarios.iter().map(|_| Tally::new()).collect() };
        let states = (0..store::readers(st)).map(|_| fresh()).collect();
        let states = store::read_parts(st, (&lo, &hi), &programs, on, part, states, |t, part| {
            // Amounts only: the explanations are not read.
            without_explanations(|| shared.compute(part, t));
            Ok(())
        })
        .await?;
        let mut tallies = fresh();
        for state in states {
            for (mine, theirs) in tallies.iter_mut().zip(state) {
                mine.merge(theirs);
            }
        }
        let scenarios = shared.scenarios;
        let mut codes: BTreeSet<String> = BTreeSet::new();
        let results: Vec<(Scenario, Tally)> = scenarios.into_iter().zip(tallies).collect();
        for (_, t) in &results {
            codes.extend(t.codes());
        }
        let codes: Vec<String> = codes.into_iter().collect();
        let names = store::names(st, &codes).await?;
        let scenarios = results
            .into_iter()
            .map(|(s, t)| {
                t.finish(&s, |c| {
                    names.get(c).cloned().unwrap_or_else(|| c.to_string())
                })
            })
            .collect();
        Ok(WhatIf {
            scenarios,
            buckets: bucket_labels(),
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// The what-if as a workbook (调标测算.xlsx): a sheet comparing the 方案, and per 方案
    /// its rows by township and program and its totals by county and program. Its figures
    /// name no one, so it is not an audited export; nothing is written.
    pub async fn whatif_workbook(&self, actor: &Actor, req: &WhatIfRequest) -> Result<Workbook> {
        let w = self.whatif(actor, req).await?;
        let bytes = workbook(&w).map_err(|e| Error::Internal(format!("导出失败：{e}")))?;
        Ok(Workbook {
            file_name: "调标测算.xlsx".into(),
            bytes,
        })
    }

    /// Adopts a 方案: adds its values as the real parameters (each as the parameters page
    /// would, audited) and prepares the 调整标准 batches of each program they change, from
    /// the month they take effect, once all are added (so each enrolment's line reflects
    /// the whole 方案). Every value is checked before any is added.
    pub async fn adopt(&self, actor: &Actor, scenario: &ScenarioInput) -> Result<Adopted> {
        actor.require_or(
            Permission::ManageParams,
            "只有市民政局管理员可以维护救助参数",
        )?;
        let req = WhatIfRequest {
            scenarios: vec![scenario.clone()],
            within: None,
        };
        let s = parse_scenarios(&req, &actor.scope)
            .map_err(scenario_error)?
            .remove(0);
        let base = minzheng_store::params::load(self.app.store()).await?;
        overlay(&base, &s, 0)?;
        let mut ids = Vec::new();
        for c in &scenario.changes {
            let mut input = c.to_new_param();
            if input.source.trim().is_empty() {
                input.source = format!("调标测算{}采用", s.name);
            }
            ids.push(self.add_entry(actor, &input).await?.0);
        }
        let mut adopted = Adopted {
            ids,
            month: s.month,
            added: 0,
            prepared: Vec::new(),
            errors: Vec::new(),
        };
        let mut done: HashSet<(Program, String, YearMonth)> = HashSet::new();
        for e in &s.changes {
            if !reprices(e.key.name) || programs_following(e.key.program).is_empty() {
                continue;
            }
            let month = minzheng_domain::repricing::effective_month(e.effective_from);
            let region = e.region().as_str().to_string();
            if !done.insert((e.key.program, region.clone(), month)) {
                continue;
            }
            match self
                .app
                .repricing()
                .prepare_standard(actor, e.key.program, month, Some(&region))
                .await
            {
                Ok(p) => {
                    adopted.added += p.added;
                    adopted.prepared.push(p);
                }
                Err(err) => adopted.errors.push(err.to_string()),
            }
        }
        Ok(adopted)
    }
}

/// The workbook: 方案对比 (one column per 方案), then per 方案 its rows.
fn workbook(w: &WhatIf) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::formats::inert::write_text;
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let yuan = |f: minzheng_domain::Fen| f.0 as f64 / 100.0;
    {
        let ws = wb.add_worksheet();
        ws.set_name("方案对比")?;
        ws.write_string_with_format(0, 0, "项目", &bold)?;
        for (i, s) in w.scenarios.iter().enumerate() {
            write_text(ws, 0, i as u16 + 1, &s.name, Some(&bold))?;
        }
        let lines: Vec<(&str, SummaryLine)> = vec![
            ("参数调整", Box::new(|s| Cell::Text(changes_text(s)))),
            ("执行月份", Box::new(|s| Cell::Text(s.month.to_string()))),
            (
                "金额变化户次",
                Box::new(|s| Cell::Int(s.total.changed_households)),
            ),
            (
                "金额变化人数",
                Box::new(|s| Cell::Int(s.total.changed_persons)),
            ),
            (
                "新增符合条件户数",
                Box::new(|s| Cell::Int(s.total.entering_households)),
            ),
            (
                "新增符合条件人数",
                Box::new(|s| Cell::Int(s.total.entering_persons)),
            ),
            (
                "退出户次",
                Box::new(|s| Cell::Int(s.total.leaving_households)),
            ),
            ("退出人数", Box::new(|s| Cell::Int(s.total.leaving_persons))),
            ("无法计算", Box::new(|s| Cell::Int(s.total.problems))),
            (
                "月增支(元)",
                Box::new(|s| Cell::Money(s.total.monthly_difference)),
            ),
            (
                "年增支(元)",
                Box::new(|s| Cell::Money(s.total.annual_difference)),
            ),
        ];
        for (r, (label, f)) in lines.iter().enumerate() {
            let row = r as u32 + 1;
            ws.write_string_with_format(row, 0, *label, &bold)?;
            for (i, s) in w.scenarios.iter().enumerate() {
                let col = i as u16 + 1;
                match f(s) {
                    Cell::Text(t) => {
                        write_text(ws, row, col, &t, None)?;
                    }
                    Cell::Int(n) => {
                        ws.write_number(row, col, n as f64)?;
                    }
                    Cell::Money(m) => {
                        ws.write_number_with_format(row, col, yuan(m), &money)?;
                    }
                }
            }
        }
        let base = lines.len() as u32 + 2;
        ws.write_string_with_format(base, 0, "月金额变化分布(人次)", &bold)?;
        for (b, label) in w.buckets.iter().enumerate() {
            let row = base + 1 + b as u32;
            write_text(ws, row, 0, label, None)?;
            for (i, s) in w.scenarios.iter().enumerate() {
                ws.write_number(row, i as u16 + 1, s.distribution[b] as f64)?;
            }
        }
        ws.set_column_width(0, 22)?;
        for i in 0..w.scenarios.len() {
            ws.set_column_width(i as u16 + 1, 40)?;
        }
    }
    let headers = [
        "区县",
        "乡镇(街道)",
        "救助项目",
        "金额变化户次",
        "金额变化人数",
        "新增户数",
        "新增人数",
        "退出户次",
        "退出人数",
        "无法计算",
        "原月金额(元)",
        "新月金额(元)",
        "新增月金额(元)",
        "退出月金额(元)",
        "月增支(元)",
        "年增支(元)",
    ];
    for (i, s) in w.scenarios.iter().enumerate() {
        let ws = wb.add_worksheet();
        ws.set_name(format!("{}{}", i + 1, sheet_name(&s.name)))?;
        for (c, h) in headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        let all: Vec<(&WhatIfRow, &str)> = s
            .rows
            .iter()
            .map(|r| (r, ""))
            .chain(s.by_county.iter().map(|r| (r, "区县合计")))
            .chain(s.by_program.iter().map(|r| (r, "项目合计")))
            .chain(std::iter::once((&s.total, "总计")))
            .collect();
        for (k, (r, kind)) in all.iter().enumerate() {
            let row = k as u32 + 1;
            let county = if kind.is_empty() || *kind == "区县合计" {
                r.county_name.clone()
            } else {
                kind.to_string()
            };
            write_text(ws, row, 0, &county, None)?;
            let town = match *kind {
                "" => r.township_name.clone(),
                "区县合计" => "区县合计".into(),
                _ => String::new(),
            };
            write_text(ws, row, 1, &town, None)?;
            write_text(ws, row, 2, r.program.map(|p| p.label()).unwrap_or(""), None)?;
            let ints = [
                r.changed_households,
                r.changed_persons,
                r.entering_households,
                r.entering_persons,
                r.leaving_households,
                r.leaving_persons,
                r.problems,
            ];
            for (c, n) in ints.iter().enumerate() {
                ws.write_number(row, 3 + c as u16, *n as f64)?;
            }
            for (c, m) in [
                r.old_monthly,
                r.new_monthly,
                r.entering_monthly,
                r.leaving_monthly,
                r.monthly_difference,
                r.annual_difference,
            ]
            .iter()
            .enumerate()
            {
                ws.write_number_with_format(row, 10 + c as u16, yuan(*m), &money)?;
            }
        }
        ws.set_column_width(0, 16)?;
        ws.set_column_width(1, 18)?;
        ws.set_column_width(2, 22)?;
    }
    wb.save_to_buffer()
}

/// One line of the comparison sheet: a 方案's value for it.
type SummaryLine = Box<dyn Fn(&ScenarioResult) -> Cell>;

enum Cell {
    Text(String),
    Int(i64),
    Money(minzheng_domain::Fen),
}

/// A 方案's values in one line (城市最低生活保障·低保标准 850.00（5118，自2027-01-01起）).
pub fn changes_text(s: &ScenarioResult) -> String {
    s.changes
        .iter()
        .map(|c| {
            format!(
                "{} {}（{}{}，自{}起）",
                c.label,
                c.value,
                c.region,
                c.urban_rural.map(|u| u.label()).unwrap_or(""),
                c.effective_from
            )
        })
        .collect::<Vec<_>>()
        .join("；")
}

/// A sheet name Excel accepts: no `[]:*?/\`, at most 28 characters after the number.
fn sheet_name(name: &str) -> String {
    name.chars()
        .filter(|c| !"[]:*?/\\'".contains(*c))
        .take(28)
        .collect()
}

/// The what-if and re-pricing benchmarks' data over [`crate::App`] (`minzheng bench
/// whatif|repricing`, in the release binary too): not a use case, so no actor.
pub struct WhatIfBench<'a> {
    app: &'a crate::App,
}

impl crate::App {
    pub fn whatif_bench(&self) -> WhatIfBench<'_> {
        WhatIfBench { app: self }
    }
}

impl WhatIfBench<'_> {
    /// The registry behind the bulk enrolments: a counted head per household, incomes,
    /// urban households, per-person enrolments tied to their person. Returns persons added.
    pub async fn registry(&self) -> Result<i64> {
        Ok(store::bench_registry(self.app.store()).await?)
    }

    /// Leaves the last `n` households registered without an enrolment.
    pub async fn unenrol_last(&self, n: i64) -> Result<i64> {
        Ok(store::bench_unenrol_last(self.app.store(), n).await?)
    }

    /// The bare `UPDATE` of the pending 调整标准 lines' new amounts (committed, then put
    /// back): seconds and rows.
    pub async fn floor(&self) -> Result<(f64, u64)> {
        Ok(store::bench_floor(self.app.store()).await?)
    }
}
