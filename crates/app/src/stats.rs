//! 统计月报: the month's statistics for the city, a county or a township — 城乡低保, 特困,
//! 临时救助, 医疗/教育救助, 高龄津贴, 优抚 and the 低保 caseload — derived from the ledgers
//! (`store::stats::facts`: one grouped pass per table, by township) and rolled up here to
//! the report's columns and total; the consistency warnings (domain `stats::warnings`); the
//! records behind each figure; the workbook; and the city's lock of a month, which keeps
//! the townships' figures as they were (reopening is audited). Reads of an unlocked month
//! go through the read replica, as the dashboard's statistics do (docs/stats.md).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use minzheng_domain::stats::{warnings, Facts, Records, StatItem, Warning, SECTIONS};
use minzheng_domain::{Actor, DivisionCode, Scope, YearMonth};
use minzheng_store::stats as store;
use serde::Serialize;
use serde_json::json;

use crate::payroll::{audit, now, Workbook};
use crate::{App, Authorize, Error, Permission, Result};

/// The statistics duty of [`App`].
pub struct Stats<'a> {
    app: &'a App,
}

impl App {
    pub fn stats(&self) -> Stats<'_> {
        Stats { app: self }
    }
}

/// A column of the report: a county of the city, a township of the county.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub code: String,
    pub name: String,
}

/// A row of the report: the total of the report's division and the value of each column.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRow {
    pub section: &'static str,
    pub item: StatItem,
    pub label: &'static str,
    pub unit: &'static str,
    /// Counts, or amounts in fen.
    pub total: i64,
    pub values: Vec<i64>,
}

/// Who locked the month, and when.
#[derive(Debug, Clone, Serialize)]
pub struct LockInfo {
    pub locked_by: String,
    pub locked_at: String,
}

/// The month's report (统计月报) for one division.
#[derive(Debug, Clone, Serialize)]
pub struct MonthReport {
    pub month: YearMonth,
    /// The division reported on ("" for everything, the command line's view).
    pub scope_code: String,
    pub scope_name: String,
    /// Set when the month is locked: the figures are the snapshot taken then.
    pub locked: Option<LockInfo>,
    pub columns: Vec<Column>,
    pub rows: Vec<ReportRow>,
    /// The townships the report covers.
    pub townships: usize,
    pub warnings: Vec<Warning>,
}

impl MonthReport {
    /// A row's total.
    pub fn total(&self, item: StatItem) -> i64 {
        self.rows
            .iter()
            .find(|r| r.item == item)
            .map(|r| r.total)
            .unwrap_or(0)
    }
}

/// The records behind one figure: the first page and how many there are.
#[derive(Debug, Clone, Serialize)]
pub struct RecordList {
    pub month: YearMonth,
    pub scope_code: String,
    pub scope_name: String,
    pub item: StatItem,
    pub label: &'static str,
    /// The figure as the report shows it (the snapshot's when the month is locked).
    pub value: i64,
    pub locked: bool,
    pub total: usize,
    pub records: Records,
    /// Names of the townships the records lie in.
    pub township_names: BTreeMap<String, String>,
}

/// How many records a drill-down lists at most.
pub const RECORD_LIMIT: usize = 500;

/// The division a report is about: its code (None: everything), bounds, name and level.
struct Target {
    code: Option<DivisionCode>,
    bounds: (String, String),
    name: String,
    level: i64,
}

impl Stats<'_> {
    /// The division asked for (the actor's own by default), inside the actor's
    /// jurisdiction, at township level or above.
    async fn target(&self, actor: &Actor, scope: Option<&str>) -> Result<Target> {
        let code = match scope.map(str::trim).filter(|s| !s.is_empty()) {
            None => actor.scope.code().cloned(),
            Some(s) => {
                let c = DivisionCode::parse_native(s)
                    .or_else(|_| DivisionCode::parse(s))
                    .map_err(|_| Error::field("scope", "区划代码格式不对"))?;
                if !actor.scope.contains_str(c.as_str()) {
                    return Err(Error::NotFound("该区划"));
                }
                Some(c)
            }
        };
        let Some(code) = code else {
            return Ok(Target {
                code: None,
                bounds: Scope::all().bounds(),
                name: "全部".into(),
                level: 1,
            });
        };
        if code.as_str().len() > 9 {
            return Err(Error::field(
                "scope",
                "统计月报按乡镇(街道)及以上区划统计，请选择乡镇(街道)、县(区)或市",
            ));
        }
        let d = minzheng_store::divisions::get(self.app.reader(), &actor.scope, code.as_str())
            .await
            .map_err(|_| Error::NotFound("该区划"))?;
        Ok(Target {
            bounds: Scope::of(code.clone()).bounds(),
            name: d.name,
            level: match code.as_str().len() {
                2 => 1,
                4 => 2,
                6 => 3,
                _ => 4,
            },
            code: Some(code),
        })
    }

    /// The month's report for `scope` (the actor's jurisdiction by default): the locked
    /// snapshot when the month is locked, else the ledgers as they are now.
    pub async fn month(
        &self,
        actor: &Actor,
        month: YearMonth,
        scope: Option<&str>,
    ) -> Result<MonthReport> {
        actor.require(Permission::ReadStatistics)?;
        let t = self.target(actor, scope).await?;
        let db = self.app.reader();
        let lock = store::lock_of(db, month).await?;
        let bounds = (t.bounds.0.as_str(), t.bounds.1.as_str());
        let facts = match &lock {
            Some(_) => store::snapshot(db, bounds, month).await?,
            None => store::facts(db, bounds, month).await?,
        };
        let units = store::units(db, bounds, (t.level + 1).min(4)).await?;
        Ok(assemble(month, &t, lock, &units, &facts))
    }

    /// Locks the month (the city administrator): the figures of every township as they
    /// are now are kept, and the report shows them from then on.
    pub async fn lock(
        &self,
        actor: &Actor,
        month: YearMonth,
        today: NaiveDate,
    ) -> Result<MonthReport> {
        actor.require(Permission::LockStatistics)?;
        if month > YearMonth::of(today) {
            return Err(Error::field("month", "尚未到的月份不能锁定"));
        }
        let store = self.app.store();
        if store::lock_of(store, month).await?.is_some() {
            return Err(Error::Conflict(format!("{}的统计已锁定", month.label())));
        }
        let bounds = actor.scope.bounds();
        let facts = store::facts(store, (&bounds.0, &bounds.1), month).await?;
        let mut totals = Facts::default();
        facts.values().for_each(|f| totals.add(f));
        let at = now();
        let mut tx = store.begin_write().await?;
        if !store::lock(&mut tx, month, &facts, &actor.username, &at).await? {
            return Err(Error::Conflict(format!("{}的统计已锁定", month.label())));
        }
        audit(
            &mut tx,
            actor,
            "stats.lock",
            "stats_month",
            &month.to_string(),
            actor.scope.code_str(),
            None,
            Some(json!({
                "townships": facts.len(),
                "urban_households": StatItem::UrbanHouseholds.value(&totals),
                "rural_households": StatItem::RuralHouseholds.value(&totals),
                "tekun_persons": StatItem::TekunPersons.value(&totals),
                "paid_fen": totals.programs.values().map(|p| p.paid_fen).sum::<i64>(),
            })),
        )
        .await?;
        tx.commit().await?;
        self.month(actor, month, None).await
    }

    /// Reopens a locked month (the city administrator, with a reason): the snapshot is
    /// dropped and the report shows the ledgers as they are again.
    pub async fn reopen(
        &self,
        actor: &Actor,
        month: YearMonth,
        reason: &str,
    ) -> Result<MonthReport> {
        actor.require(Permission::LockStatistics)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(Error::field("reason", "请填写重新打开的原因"));
        }
        if reason.chars().count() > 500 {
            return Err(Error::field("reason", "原因不能超过500字"));
        }
        let store = self.app.store();
        let Some(lock) = store::lock_of(store, month).await? else {
            return Err(Error::Conflict(format!("{}的统计未锁定", month.label())));
        };
        let mut tx = store.begin_write().await?;
        if !store::reopen(&mut tx, month).await? {
            return Err(Error::Conflict(format!("{}的统计未锁定", month.label())));
        }
        audit(
            &mut tx,
            actor,
            "stats.reopen",
            "stats_month",
            &month.to_string(),
            actor.scope.code_str(),
            Some(json!({"locked_by": lock.locked_by, "locked_at": lock.locked_at})),
            Some(json!({"reason": reason})),
        )
        .await?;
        tx.commit().await?;
        self.month(actor, month, None).await
    }

    /// The records behind a figure, in `scope`: as the ledgers are now (a locked month's
    /// figure may differ; the list says so).
    pub async fn records(
        &self,
        actor: &Actor,
        month: YearMonth,
        scope: Option<&str>,
        item: StatItem,
    ) -> Result<RecordList> {
        actor.require(Permission::ReadStatistics)?;
        let t = self.target(actor, scope).await?;
        let db = self.app.reader();
        let bounds = (t.bounds.0.as_str(), t.bounds.1.as_str());
        let lock = store::lock_of(db, month).await?;
        let facts = match &lock {
            Some(_) => store::snapshot(db, bounds, month).await?,
            None => store::facts(db, bounds, month).await?,
        };
        let mut sum = Facts::default();
        facts.values().for_each(|f| sum.add(f));
        let (records, total) =
            store::records(db, bounds, month, item.drill(), RECORD_LIMIT).await?;
        let records = if actor.may(Permission::SeeFullIdentity) {
            records
        } else {
            records.masked()
        };
        let township_names = store::units(db, bounds, 4)
            .await?
            .into_iter()
            .map(|u| (u.code, u.name))
            .collect();
        Ok(RecordList {
            month,
            scope_code: t.code.map(|c| c.as_str().to_string()).unwrap_or_default(),
            scope_name: t.name,
            item,
            label: item.label(),
            value: item.value(&sum),
            locked: lock.is_some(),
            total,
            records,
            township_names,
        })
    }

    /// The report as a workbook in the report's layout: 指标, 计量单位, the total and a
    /// column per county or township; amounts in yuan; the warnings on a second sheet.
    pub async fn workbook(
        &self,
        actor: &Actor,
        month: YearMonth,
        scope: Option<&str>,
    ) -> Result<Workbook> {
        let r = self.month(actor, month, scope).await?;
        let bytes = report_workbook(&r)
            .map_err(|e| Error::Internal(format!("统计月报文件生成失败：{e}")))?;
        Ok(Workbook {
            file_name: format!("{}统计月报{}.xlsx", r.scope_name, month.compact()),
            bytes,
        })
    }
}

/// The report from the townships' facts: each column the sum of its townships, the total
/// the sum of all, the warnings per township (a township the ledgers hold nothing for is
/// named as missing).
fn assemble(
    month: YearMonth,
    t: &Target,
    lock: Option<store::Lock>,
    units: &[store::Unit],
    facts: &BTreeMap<String, Facts>,
) -> MonthReport {
    let column_level = (t.level + 1).min(4);
    let columns: Vec<Column> = if t.level >= 4 {
        Vec::new()
    } else {
        units
            .iter()
            .filter(|u| u.level == column_level)
            .map(|u| Column {
                code: u.code.clone(),
                name: u.name.clone(),
            })
            .collect()
    };
    let mut total = Facts::default();
    let mut by_column = vec![Facts::default(); columns.len()];
    for (code, f) in facts {
        total.add(f);
        if let Some(i) = columns.iter().position(|c| code.starts_with(&c.code)) {
            by_column[i].add(f);
        }
    }
    let mut rows = Vec::new();
    for (section, items) in SECTIONS {
        for item in *items {
            rows.push(ReportRow {
                section,
                item: *item,
                label: item.label(),
                unit: item.unit(),
                total: item.value(&total),
                values: by_column.iter().map(|f| item.value(f)).collect(),
            });
        }
    }
    let empty = Facts::default();
    let townships: Vec<(String, String, Facts)> = units
        .iter()
        .filter(|u| u.level == 4)
        .map(|u| {
            (
                u.code.clone(),
                u.name.clone(),
                facts.get(&u.code).unwrap_or(&empty).clone(),
            )
        })
        .collect();
    let warnings = warnings(&townships);
    MonthReport {
        month,
        scope_code: t
            .code
            .as_ref()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        scope_name: t.name.clone(),
        locked: lock.map(|l| LockInfo {
            locked_by: l.locked_by,
            locked_at: l.locked_at,
        }),
        columns,
        rows,
        townships: townships.len(),
        warnings,
    }
}

fn report_workbook(r: &MonthReport) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::formats::inert::write_text;
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("统计月报")?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("0.00");
    let title = format!("{}社会救助统计月报（{}）", r.scope_name, r.month.label());
    write_text(ws, 0, 0, &title, Some(&bold))?;
    let state = match &r.locked {
        Some(l) => format!("已锁定（{}）", minzheng_domain::time::beijing(&l.locked_at)),
        None => "未锁定（按当前台账统计）".to_string(),
    };
    write_text(ws, 1, 0, &state, None)?;
    let mut headers = vec!["项目", "指标", "计量单位", "合计"];
    headers.extend(r.columns.iter().map(|c| c.name.as_str()));
    for (c, h) in headers.iter().enumerate() {
        write_text(ws, 3, c as u16, h, Some(&bold))?;
    }
    for (i, row) in r.rows.iter().enumerate() {
        let n = i as u32 + 4;
        write_text(ws, n, 0, row.section, None)?;
        write_text(ws, n, 1, row.label, None)?;
        write_text(ws, n, 2, row.unit, None)?;
        for (c, v) in std::iter::once(row.total)
            .chain(row.values.iter().copied())
            .enumerate()
        {
            let col = 3 + c as u16;
            if row.item.is_money() {
                ws.write_number_with_format(n, col, v as f64 / 100.0, &money)?;
            } else {
                ws.write_number(n, col, v as f64)?;
            }
        }
    }
    ws.set_column_width(0, 18)?;
    ws.set_column_width(1, 30)?;
    let w = wb.add_worksheet();
    w.set_name("数据校验提示")?;
    write_text(w, 0, 0, "提示", Some(&bold))?;
    for (i, x) in r.warnings.iter().enumerate() {
        write_text(w, i as u32 + 1, 0, &x.message, None)?;
    }
    w.set_column_width(0, 80)?;
    wb.save_to_buffer()
}

/// The statistics benchmark's data over [`App`] (`minzheng bench stats`): not a use case,
/// so no actor.
pub struct StatsBench<'a> {
    app: &'a App,
}

impl App {
    pub fn stats_bench(&self) -> StatsBench<'_> {
        StatsBench { app: self }
    }
}

impl StatsBench<'_> {
    /// A person per household head, and a second member in each 农村低保 household.
    pub async fn persons(&self) -> Result<i64> {
        Ok(store::bench::persons(self.app.store()).await?)
    }

    /// The floor a report is compared with: (groups, seconds).
    pub async fn floor(&self) -> Result<(i64, f64)> {
        Ok(store::bench::floor(self.app.store()).await?)
    }
}
