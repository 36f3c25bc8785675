//! The funds ledger (资金台账): per month, program and township, with its chart and
//! workbook.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use minzheng_app::payroll::Workbook;
use minzheng_domain::payroll::{ledger_series, LedgerFilter, LedgerRow};
use minzheng_domain::Fen;
use serde_json::json;

use super::{download, programs, PageResult};
use crate::pages::{render, Nav};
use crate::session::PageUser;
use crate::AppState;

#[derive(Template)]
#[template(path = "payroll_ledger.html")]
struct LedgerPage {
    nav: Nav,
    rows: Vec<LedgerRow>,
    totals: LedgerTotals,
    by_program: Vec<(String, LedgerTotals)>,
    from: String,
    to: String,
    program: String,
    programs: Vec<(&'static str, &'static str)>,
    chart: String,
    export_query: String,
}

/// Sums of ledger rows.
#[derive(Default, Clone)]
pub struct LedgerTotals {
    pub lines: i64,
    pub planned: Fen,
    pub paid: Fen,
    pub failed: Fen,
    pub reissued: Fen,
    pub to_recover: Fen,
    pub recovered: Fen,
}

impl LedgerTotals {
    fn add(&mut self, r: &LedgerRow) {
        self.lines += r.lines;
        self.planned = Fen(self.planned.0 + r.planned.0);
        self.paid = Fen(self.paid.0 + r.paid.0);
        self.failed = Fen(self.failed.0 + r.failed.0);
        self.reissued = Fen(self.reissued.0 + r.reissued.0);
        self.to_recover = Fen(self.to_recover.0 + r.to_recover.0);
        self.recovered = Fen(self.recovered.0 + r.recovered.0);
    }
}

fn chart_json(rows: &[LedgerRow]) -> String {
    let (months, series) = ledger_series(rows);
    let series: Vec<_> = series
        .into_iter()
        .map(|(name, v)| {
            json!({"name": name, "data": v.iter().map(|f| *f as f64 / 100.0).collect::<Vec<_>>()})
        })
        .collect();
    json!({"months": months, "series": series}).to_string()
}

pub(super) async fn ledger_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<LedgerFilter>,
) -> PageResult {
    let filter = qs.normalized();
    let rows = st.app.payroll().ledger(&actor, &filter).await?;
    let mut totals = LedgerTotals::default();
    let mut by: BTreeMap<String, LedgerTotals> = BTreeMap::new();
    for r in &rows {
        totals.add(r);
        by.entry(r.program.label().to_string()).or_default().add(r);
    }
    let page = LedgerPage {
        nav: Nav::new(&s, "payroll"),
        chart: chart_json(&rows),
        rows,
        totals,
        by_program: by.into_iter().collect(),
        export_query: serde_urlencoded::to_string([
            ("from", filter.from.clone().unwrap_or_default()),
            ("to", filter.to.clone().unwrap_or_default()),
            ("program", filter.program.clone().unwrap_or_default()),
            ("within", filter.within.clone().unwrap_or_default()),
        ])
        .unwrap_or_default(),
        from: filter.from.unwrap_or_default(),
        to: filter.to.unwrap_or_default(),
        program: filter.program.unwrap_or_default(),
        programs: programs(),
    };
    render(&page)
}

pub(super) async fn ledger_xlsx(
    State(st): State<AppState>,
    PageUser(_, actor): PageUser,
    Query(qs): Query<LedgerFilter>,
) -> PageResult {
    let w = st.app.payroll().ledger_workbook(&actor, &qs).await?;
    Ok(download(&w.file_name, Workbook::CONTENT_TYPE, w.bytes))
}
