//! 统计月报: the month's report for the user's jurisdiction (or a county or township inside
//! it), every figure a link to the records that make it, the consistency warnings, charts,
//! the workbook, and the city administrator's lock and reopening of a month. The JSON
//! twins are under `/api/v1/stats`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use minzheng_app::stats::{MonthReport, RecordList};
use minzheng_app::users::SessionInfo;
use minzheng_app::{Authorize, Error, Permission};
use minzheng_domain::stats::{Records, StatItem};
use minzheng_domain::{Actor, Fen, YearMonth};
use serde::Deserialize;

use crate::api::{ApiJson, ApiQuery};
use crate::pages::{beijing_time, render, Names, Nav, PageForm};
use crate::payroll::{form_map, see_other, user_error_fields, with_status, ApiResult, PageResult};
use crate::session::{ApiUser, PageUser};
use crate::standards::today;
use crate::AppState;

const STATS_JS: &str = include_str!("../static/stats.js");

/// The pages and the chart script.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/stats", get(report_page).post(report_post))
        .route("/stats/records", get(records_page))
        .route("/stats/month.xlsx", get(report_xlsx))
        .route(
            "/static/stats.js",
            get(|| async {
                (
                    [
                        (
                            axum::http::header::CONTENT_TYPE,
                            "text/javascript; charset=utf-8",
                        ),
                        (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
                    ],
                    STATS_JS,
                )
                    .into_response()
            }),
        )
}

/// The API under `/api/v1`.
pub fn api() -> Router<AppState> {
    Router::new()
        .route("/stats/month", get(api_month))
        .route("/stats/records", get(api_records))
        .route("/stats/lock", post(api_lock))
        .route("/stats/reopen", post(api_reopen))
}

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    month: Option<String>,
    scope: Option<String>,
    item: Option<String>,
    ok: Option<String>,
}

/// The month asked for (this month when none is given).
fn month_of(m: &Option<String>) -> Result<YearMonth, Error> {
    match m.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        None => Ok(YearMonth::of(today())),
        Some(m) => {
            YearMonth::parse(m).map_err(|_| Error::field("month", "统计月份格式应为如2026-11"))
        }
    }
}

fn item_of(i: &Option<String>) -> Result<StatItem, Error> {
    i.as_deref()
        .map(str::trim)
        .and_then(StatItem::parse)
        .ok_or_else(|| Error::field("item", "未知的统计指标"))
}

/// A cell of the page's table: the value as shown and the link to its records.
struct Cell {
    text: String,
    link: String,
}

/// A row of the page's table.
struct RowView {
    section: &'static str,
    /// The first row of its section (the section's name is shown there).
    first: bool,
    rows_in_section: usize,
    label: &'static str,
    unit: &'static str,
    item: &'static str,
    total: Cell,
    values: Vec<Cell>,
}

#[derive(Template)]
#[template(path = "stats_report.html")]
struct ReportPage {
    nav: Nav,
    r: MonthReport,
    rows: Vec<RowView>,
    /// Where the scope picker goes up to, when the user sees more than this division.
    up: Option<(String, String)>,
    locked_at: String,
    locked_by: String,
    can_lock: bool,
    chart: String,
    query: String,
    notice: Option<String>,
    error: Option<String>,
}

fn records_link(month: YearMonth, scope: &str, item: StatItem) -> String {
    format!(
        "/stats/records?month={month}&scope={scope}&item={}",
        item.as_str()
    )
}

/// The chart's data: 低保 households per column (or the total), and the month's
/// expenditure by program, in yuan.
fn chart_data(r: &MonthReport) -> String {
    let names: Vec<&str> = if r.columns.is_empty() {
        vec![r.scope_name.as_str()]
    } else {
        r.columns.iter().map(|c| c.name.as_str()).collect()
    };
    let series = |item: StatItem| -> Vec<i64> {
        let row = r.rows.iter().find(|x| x.item == item);
        match row {
            Some(x) if r.columns.is_empty() => vec![x.total],
            Some(x) => x.values.clone(),
            None => Vec::new(),
        }
    };
    let spend: Vec<serde_json::Value> = r
        .rows
        .iter()
        .filter(|x| x.item.is_money() && x.total != 0)
        .map(|x| {
            serde_json::json!({"name": x.label.split(' ').next().unwrap_or(x.label),
                               "value": x.total as f64 / 100.0})
        })
        .collect();
    serde_json::json!({
        "units": names,
        "urban": series(StatItem::UrbanHouseholds),
        "rural": series(StatItem::RuralHouseholds),
        "spend": spend,
    })
    .to_string()
}

async fn report_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    month: YearMonth,
    scope: Option<&str>,
    notice: Option<String>,
    refusal: Option<(StatusCode, String)>,
) -> PageResult {
    let r = st.app.stats().month(actor, month, scope).await?;
    let mut rows = Vec::new();
    let mut last = "";
    for x in &r.rows {
        let in_section = r.rows.iter().filter(|y| y.section == x.section).count();
        rows.push(RowView {
            section: x.section,
            first: x.section != last,
            rows_in_section: in_section,
            label: x.label,
            unit: x.unit,
            item: x.item.as_str(),
            total: Cell {
                text: x.item.display(x.total),
                link: records_link(month, &r.scope_code, x.item),
            },
            values: x
                .values
                .iter()
                .zip(&r.columns)
                .map(|(v, c)| Cell {
                    text: x.item.display(*v),
                    link: records_link(month, &c.code, x.item),
                })
                .collect(),
        });
        last = x.section;
    }
    // The division above, when it is still the user's.
    let up = match r.scope_code.len() {
        9 => Some(&r.scope_code[..6]),
        6 => Some(&r.scope_code[..4]),
        _ => None,
    }
    .filter(|c| actor.scope.contains_str(c))
    .map(|c| (c.to_string(), format!("/stats?month={month}&scope={c}")));
    let (code, error) = match refusal {
        Some((c, m)) => (c, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = ReportPage {
        nav: Nav::new(s, "stats"),
        locked_at: r
            .locked
            .as_ref()
            .map(|l| beijing_time(&l.locked_at))
            .unwrap_or_default(),
        locked_by: match &r.locked {
            Some(l) => Names::load(st).await?.of(&l.locked_by),
            None => String::new(),
        },
        can_lock: actor.may(Permission::LockStatistics),
        chart: chart_data(&r),
        query: format!("month={month}&scope={}", r.scope_code),
        rows,
        up,
        r,
        notice,
        error,
    };
    Ok(with_status(render(&page)?, code))
}

async fn report_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<ReportQuery>,
) -> PageResult {
    let month = month_of(&qs.month)?;
    let notice = match qs.ok.as_deref() {
        Some("locked") => Some(format!(
            "已锁定{}的统计：此后台账的修改不再改变本月报表",
            month.label()
        )),
        Some("reopened") => Some(format!(
            "已重新打开{}的统计：报表按当前台账重新统计",
            month.label()
        )),
        _ => None,
    };
    report_render(&st, &s, &actor, month, qs.scope.as_deref(), notice, None).await
}

async fn report_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let f = form_map(form);
    let month = month_of(&f.get("month").cloned())?;
    let scope = f.get("scope").cloned().filter(|s| !s.is_empty());
    let stats = st.app.stats();
    let result = match f.get("action").map(String::as_str) {
        Some("lock") => stats.lock(&actor, month, today()).await.map(|_| "locked"),
        Some("reopen") => stats
            .reopen(
                &actor,
                month,
                f.get("reason").map(String::as_str).unwrap_or(""),
            )
            .await
            .map(|_| "reopened"),
        _ => Err(Error::validation("未知的操作")),
    };
    match result {
        Ok(ok) => Ok(see_other(&format!(
            "/stats?month={month}&scope={}&ok={ok}",
            scope.as_deref().unwrap_or("")
        ))),
        Err(e) => {
            let (code, message, _) = user_error_fields(e)?;
            report_render(
                &st,
                &s,
                &actor,
                month,
                scope.as_deref(),
                None,
                Some((code, message)),
            )
            .await
        }
    }
}

async fn report_xlsx(
    State(st): State<AppState>,
    PageUser(_, actor): PageUser,
    Query(qs): Query<ReportQuery>,
) -> PageResult {
    let month = month_of(&qs.month)?;
    let w = st
        .app
        .stats()
        .workbook(&actor, month, qs.scope.as_deref())
        .await?;
    Ok(crate::payroll::download(
        &w.file_name,
        minzheng_app::payroll::Workbook::CONTENT_TYPE,
        w.bytes,
    ))
}

/// A record as the drill-down lists it.
struct RecordView {
    name: String,
    id_number: String,
    township: String,
    what: String,
    months: String,
    amount: String,
    link: Option<(String, &'static str)>,
}

#[derive(Template)]
#[template(path = "stats_records.html")]
struct RecordsPage {
    nav: Nav,
    l: RecordList,
    value: String,
    rows: Vec<RecordView>,
    back: String,
}

fn record_views(l: &RecordList) -> Vec<RecordView> {
    let town = |c: &str| {
        l.township_names
            .get(c)
            .cloned()
            .unwrap_or_else(|| c.to_string())
    };
    match &l.records {
        Records::Enrolments(v) => v
            .iter()
            .map(|e| {
                let mut what = vec![e.program.label().to_string(), e.status.label().to_string()];
                what.extend(e.support_mode.map(|m| m.label().to_string()));
                what.extend(e.care_level.map(|c| c.label().to_string()));
                RecordView {
                    name: e.name.clone(),
                    id_number: e.id_number.clone(),
                    township: town(&e.township_code),
                    what: what.join(" · "),
                    months: match &e.end_month {
                        Some(end) => format!("{}–{end}", e.start_month),
                        None => format!("{}起", e.start_month),
                    },
                    amount: Fen(e.monthly_fen).to_string(),
                    link: Some(match e.case_id {
                        Some(c) => (format!("/cases/{c}"), "查看案件"),
                        None => (format!("/households/{}", e.household_id), "查看家庭"),
                    }),
                }
            })
            .collect(),
        Records::Lines(v) => v
            .iter()
            .map(|x| RecordView {
                name: x.name.clone(),
                id_number: x.id_number.clone(),
                township: town(&x.township_code),
                what: format!("{} · {}", x.batch_no, x.kind.label()),
                months: x.period.clone(),
                amount: Fen(x.amount_fen).to_string(),
                link: Some((format!("/payroll/batches/{}", x.batch_id), "查看批次")),
            })
            .collect(),
        Records::Persons(v) => v
            .iter()
            .map(|p| RecordView {
                name: p.name.clone(),
                id_number: p.id_number.clone(),
                township: town(&p.township_code),
                what: format!(
                    "{} · {} · {} · {}",
                    p.program.label(),
                    p.gender,
                    p.disability_type.label(),
                    p.work_capacity.label()
                ),
                months: p.birth_date.clone(),
                amount: String::new(),
                link: Some((format!("/households/{}", p.household_id), "查看家庭")),
            })
            .collect(),
    }
}

async fn records_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<ReportQuery>,
) -> PageResult {
    let month = month_of(&qs.month)?;
    let item = item_of(&qs.item)?;
    let l = st
        .app
        .stats()
        .records(&actor, month, qs.scope.as_deref(), item)
        .await?;
    let page = RecordsPage {
        nav: Nav::new(&s, "stats"),
        value: format!("{}{}", item.display(l.value), item.unit()),
        rows: record_views(&l),
        back: format!("/stats?month={month}&scope={}", l.scope_code),
        l,
    };
    render(&page)
}

async fn api_month(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<ReportQuery>,
) -> ApiResult {
    let month = month_of(&qs.month)?;
    let r = st
        .app
        .stats()
        .month(&actor, month, qs.scope.as_deref())
        .await?;
    Ok(Json(r).into_response())
}

async fn api_records(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<ReportQuery>,
) -> ApiResult {
    let month = month_of(&qs.month)?;
    let item = item_of(&qs.item)?;
    let l = st
        .app
        .stats()
        .records(&actor, month, qs.scope.as_deref(), item)
        .await?;
    Ok(Json(l).into_response())
}

#[derive(Deserialize)]
pub struct LockBody {
    /// YYYY-MM.
    month: String,
    /// 重新打开的原因 (reopen only).
    #[serde(default)]
    reason: Option<String>,
}

fn body_month(m: &str) -> Result<YearMonth, Error> {
    YearMonth::parse(m.trim()).map_err(|_| Error::field("month", "统计月份格式应为如2026-11"))
}

async fn api_lock(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<LockBody>,
) -> ApiResult {
    let r = st
        .app
        .stats()
        .lock(&actor, body_month(&body.month)?, today())
        .await?;
    Ok(Json(r).into_response())
}

async fn api_reopen(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<LockBody>,
) -> ApiResult {
    let r = st
        .app
        .stats()
        .reopen(
            &actor,
            body_month(&body.month)?,
            body.reason.as_deref().unwrap_or(""),
        )
        .await?;
    Ok(Json(r).into_response())
}
