//! 数据比对: running the cross-checks over the actor's jurisdiction (nightly by `serve`, on
//! demand from the page, `minzheng checks run`), the findings worklist and the clerk's
//! verdicts (docs/rules.md §12). All checks of a run are one transaction: a run either
//! leaves every finding it raised and closed, or nothing.

use std::time::Instant;

use chrono::NaiveDate;
use minzheng_domain::checks::{
    verdict_step, CheckCount, CheckKind, CheckRun, Finding, FindingFilter, RunReport, Verdict,
    VerdictRefusal,
};
use minzheng_domain::{Actor, Program, UrbanRural};
use minzheng_store::checks;
use serde_json::json;

use crate::payroll::{audit, now};
use crate::{App, Authorize, Error, Permission, Result};

/// The cross-check duty of [`App`].
pub struct Checks<'a> {
    app: &'a App,
}

impl App {
    pub fn checks(&self) -> Checks<'_> {
        Checks { app: self }
    }
}

impl Checks<'_> {
    /// Runs every check over the actor's jurisdiction on `today`.
    pub async fn run(&self, actor: &Actor, today: NaiveDate) -> Result<RunReport> {
        self.run_only(actor, CheckKind::ALL, today).await
    }

    /// Runs the given checks over the actor's jurisdiction on `today`.
    pub async fn run_only(
        &self,
        actor: &Actor,
        kinds: &[CheckKind],
        today: NaiveDate,
    ) -> Result<RunReport> {
        actor.require(Permission::RunChecks)?;
        let (lo, hi) = actor.scope.bounds();
        let started = Instant::now();
        let run = minzheng_store::payroll::generation_token();
        let now = now();
        let params = minzheng_store::params::load(self.app.store()).await?;
        let on = today;
        let born_by = minzheng_domain::cases::old_age_birth_cutoff(&params, on).to_string();
        let today = today.to_string();
        let mut standards = Vec::new();
        for county in checks::dibao_counties(self.app.store(), (&lo, &hi)).await? {
            let Ok(region) = minzheng_domain::DivisionCode::parse_native(&county) else {
                continue;
            };
            for (program, ur) in [
                (Program::UrbanDibao, UrbanRural::Urban),
                (Program::RuralDibao, UrbanRural::Rural),
            ] {
                if let Ok(fen) = params.at(&region, Some(ur), on).dibao_standard() {
                    standards.push((county.clone(), program.as_str(), fen.0));
                }
            }
        }
        let day = checks::Day {
            today: &today,
            old_age_born_by: &born_by,
            dibao_standards: &standards,
        };
        let mut report = RunReport::default();
        let mut tx = self.app.store().begin_write().await?;
        checks::stage(&mut tx, kinds).await?;
        for kind in kinds {
            let t = Instant::now();
            let ran = checks::run_check(&mut tx, *kind, (&lo, &hi), &run, day, &now).await?;
            report.checks.push(CheckRun {
                kind: *kind,
                found: ran.found,
                new: ran.new,
                closed: ran.closed,
                seconds: t.elapsed().as_secs_f64(),
            });
        }
        checks::unstage(&mut tx, kinds).await?;
        report.seconds = started.elapsed().as_secs_f64();
        audit(
            &mut tx,
            actor,
            "checks.run",
            "checks",
            &run,
            actor.scope.code_str(),
            None,
            Some(
                json!({"found": report.found(), "new": report.new_findings(),
                "closed": report.checks.iter().map(|c| c.closed).sum::<i64>()}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }

    /// The worklist inside the actor's scope, open findings first; and how many match. ID
    /// numbers masked for those who may not see them.
    pub async fn findings(&self, actor: &Actor, f: &FindingFilter) -> Result<(Vec<Finding>, i64)> {
        self.findings_on(self.app.store(), actor, f).await
    }

    /// [`Checks::findings`], read from `store`.
    async fn findings_on(
        &self,
        store: &minzheng_store::Store,
        actor: &Actor,
        f: &FindingFilter,
    ) -> Result<(Vec<Finding>, i64)> {
        let (mut items, total) = checks::list_findings(store, &actor.scope, &f.query()).await?;
        if !actor.may(Permission::SeeFullIdentity) {
            for x in &mut items {
                x.id_number = minzheng_domain::mask_id(&x.id_number);
            }
        }
        Ok((items, total))
    }

    /// One finding inside the actor's scope.
    pub async fn finding(&self, actor: &Actor, id: i64) -> Result<Finding> {
        let mut f = checks::get_finding(self.app.store(), &actor.scope, id).await?;
        if !actor.may(Permission::SeeFullIdentity) {
            f.id_number = minzheng_domain::mask_id(&f.id_number);
        }
        Ok(f)
    }

    /// The worklist as a workbook (数据比对疑点.xlsx): the findings the filter selects, up to
    /// 5,000, ID numbers masked for those who may not see them, read from the read
    /// replica when there is one; every export is audited (on the primary).
    pub async fn findings_workbook(
        &self,
        actor: &Actor,
        f: &FindingFilter,
    ) -> Result<crate::payroll::Workbook> {
        let f = FindingFilter {
            limit: Some(5000),
            offset: Some(0),
            ..f.clone()
        };
        let (items, _) = self.findings_on(self.app.reader(), actor, &f).await?;
        let bytes =
            findings_workbook(&items).map_err(|e| Error::Internal(format!("导出失败：{e}")))?;
        let mut tx = self.app.store().begin_write().await?;
        audit(
            &mut tx,
            actor,
            "checks.export",
            "export",
            "findings.xlsx",
            actor.scope.code_str(),
            None,
            Some(json!({"what": "findings.xlsx", "rows": items.len()})),
        )
        .await?;
        tx.commit().await?;
        Ok(crate::payroll::Workbook {
            file_name: "数据比对疑点.xlsx".into(),
            bytes,
        })
    }

    /// Findings per check inside the actor's scope (the dashboard's and the worklist's
    /// counts), from the read replica when there is one.
    pub async fn counts(&self, actor: &Actor) -> Result<Vec<CheckCount>> {
        Ok(checks::counts(self.app.reader(), &actor.scope).await?)
    }

    /// The clerk's verdict: 属实, 不属实 or 已处理, with what was found.
    pub async fn verdict(&self, actor: &Actor, id: i64, v: Verdict, note: &str) -> Result<Finding> {
        actor.require(Permission::ResolveFindings)?;
        let store = self.app.store();
        let f = checks::get_finding(store, &actor.scope, id).await?;
        let to = verdict_step(f.state, v, note).map_err(|e| match e {
            VerdictRefusal::WrongState(..) => Error::Conflict(e.to_string()),
            VerdictRefusal::Note => Error::field("note", e.to_string()),
        })?;
        let now = now();
        let mut tx = store.begin_write().await?;
        if !checks::set_verdict(&mut tx, id, f.state, to, note, &actor.username, &now).await? {
            return Err(Error::Conflict("该疑点已被他人处理，请刷新后重试".into()));
        }
        audit(
            &mut tx,
            actor,
            "finding.verdict",
            "finding",
            &id.to_string(),
            &f.township_code,
            Some(json!({"state": f.state})),
            Some(json!({"state": to, "note": note.trim()})),
        )
        .await?;
        tx.commit().await?;
        self.finding(actor, id).await
    }
}

/// The findings as a worksheet 疑点, every text cell inert.
fn findings_workbook(items: &[Finding]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::formats::inert::write_text;
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("疑点")?;
    let bold = Format::new().set_bold();
    let headers = [
        "编号",
        "比对项目",
        "乡镇(街道)代码",
        "姓名",
        "身份证号码",
        "疑点",
        "处理建议",
        "状态",
        "核实情况",
        "发现时间",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, f) in items.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_number(row, 0, f.id as f64)?;
        write_text(ws, row, 1, f.kind.label(), None)?;
        write_text(ws, row, 2, &f.township_code, None)?;
        write_text(ws, row, 3, &f.name, None)?;
        write_text(ws, row, 4, &f.id_number, None)?;
        write_text(ws, row, 5, &f.describe(), None)?;
        write_text(ws, row, 6, f.kind.advice(), None)?;
        write_text(ws, row, 7, f.state.label(), None)?;
        write_text(ws, row, 8, &f.note, None)?;
        let opened = minzheng_domain::time::beijing(&f.opened_at);
        write_text(ws, row, 9, &opened, None)?;
    }
    ws.set_column_width(4, 22)?;
    ws.set_column_width(5, 48)?;
    ws.set_column_width(6, 40)?;
    wb.save_to_buffer()
}

/// The cross-checks' benchmark fixture (`minzheng bench checks`): realistic ID numbers,
/// deaths among the enrolled, and the floor.
pub struct ChecksBench<'a> {
    app: &'a App,
}

impl App {
    pub fn checks_bench(&self) -> ChecksBench<'_> {
        ChecksBench { app: self }
    }
}

impl ChecksBench<'_> {
    /// Gives every household head and enrolment a valid, unique ID number.
    pub async fn realistic_ids(&self) -> Result<()> {
        Ok(checks::bench::realistic_ids(self.app.store()).await?)
    }

    /// Records `n` deaths on `death_date` spread over the enrolments; returns how many.
    pub async fn deaths(&self, n: i64, death_date: &str) -> Result<i64> {
        Ok(checks::bench::deaths(self.app.store(), n, death_date).await?)
    }

    /// The bare join of enrolments and death records by ID number: (matches, seconds).
    pub async fn floor(&self) -> Result<(i64, f64)> {
        Ok(checks::bench::floor(self.app.store()).await?)
    }
}
