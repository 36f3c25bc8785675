//! 数据比对: the worklist of findings (疑点) with counts per check and filters, the run
//! button, each finding's page with its evidence, links to the records and the verdict
//! form; and the JSON twins under `/api/v1/checks` and `/api/v1/findings`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use minzheng_app::users::SessionInfo;
use minzheng_app::{Authorize, Error, Permission};
use minzheng_domain::checks::{
    CheckCount, Finding, FindingFilter, FindingState, RunReport, Verdict,
};
use minzheng_domain::Actor;
use serde::Deserialize;
use serde_json::json;

use crate::api::{ApiJson, ApiQuery};
use crate::error::parse_id;
use crate::pages::{beijing_time, render, Nav, PageForm};
use crate::payroll::{
    download, form_map, int, see_other, user_error_fields, with_status, ApiResult, FieldRefusal,
    PageResult,
};
use crate::session::{ApiUser, PageUser};
use crate::standards::today;
use crate::AppState;

/// The pages.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/checks", get(worklist_page))
        .route("/checks/run", post(run_post))
        .route("/checks/export.xlsx", get(export_xlsx))
        .route(
            "/checks/findings/{id}",
            get(finding_page).post(finding_post),
        )
}

/// The API under `/api/v1`.
pub fn api() -> Router<AppState> {
    Router::new()
        .route("/checks", get(api_counts))
        .route("/checks/run", post(api_run))
        .route("/findings", get(api_findings))
        .route("/findings/{id}", get(api_finding))
        .route("/findings/{id}/verdict", post(api_verdict))
}

const PAGE: i64 = 100;

#[derive(Template)]
#[template(path = "check_list.html")]
struct WorklistPage {
    nav: Nav,
    counts: Vec<CheckCount>,
    items: Vec<Finding>,
    total: i64,
    kind: String,
    state: String,
    offset: i64,
    states: &'static [FindingState],
    can_run: bool,
    notice: Option<String>,
}

impl WorklistPage {
    fn next_offset(&self) -> Option<i64> {
        (self.offset + PAGE < self.total).then_some(self.offset + PAGE)
    }
}

#[derive(Deserialize, Default)]
pub struct WorklistQuery {
    kind: Option<String>,
    /// Absent: the findings still under way (待核实); `all`: every state.
    state: Option<String>,
    offset: Option<String>,
    /// After a run: how many were found, new and closed.
    found: Option<String>,
    new: Option<String>,
    closed: Option<String>,
}

async fn worklist_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<WorklistQuery>,
) -> PageResult {
    let kind = qs.kind.clone().unwrap_or_default();
    let state = qs.state.clone().unwrap_or_else(|| "open".into());
    let offset = int(&qs.offset).unwrap_or(0).max(0);
    let checks = st.app.checks();
    let filter = FindingFilter {
        kind: Some(kind.clone()),
        state: (state != "all").then(|| state.clone()),
        limit: Some(PAGE),
        offset: Some(offset),
    };
    let (items, total) = checks.findings(&actor, &filter).await?;
    let notice = match (int(&qs.found), int(&qs.new), int(&qs.closed)) {
        (Some(f), Some(n), Some(c)) => Some(format!(
            "比对完成：现有疑点{f}条，其中新发现{n}条；{c}条已不再成立，自动关闭"
        )),
        _ => None,
    };
    let page = WorklistPage {
        nav: Nav::new(&s, "checks"),
        counts: checks.counts(&actor).await?,
        items,
        total,
        kind,
        state,
        offset,
        states: FindingState::ALL,
        can_run: actor.may(Permission::RunChecks),
        notice,
    };
    render(&page)
}

/// The worklist as filtered, as a workbook.
async fn export_xlsx(
    State(st): State<AppState>,
    PageUser(_, actor): PageUser,
    Query(qs): Query<WorklistQuery>,
) -> PageResult {
    let state = qs.state.unwrap_or_else(|| "open".into());
    let filter = FindingFilter {
        kind: qs.kind,
        state: (state != "all").then_some(state),
        ..Default::default()
    };
    let w = st.app.checks().findings_workbook(&actor, &filter).await?;
    Ok(download(
        &w.file_name,
        minzheng_app::payroll::Workbook::CONTENT_TYPE,
        w.bytes,
    ))
}

async fn run_post(
    State(st): State<AppState>,
    PageUser(_, actor): PageUser,
    PageForm(_form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let r = st.app.checks().run(&actor, today()).await?;
    let closed: i64 = r.checks.iter().map(|c| c.closed).sum();
    Ok(see_other(&format!(
        "/checks?found={}&new={}&closed={closed}",
        r.found(),
        r.new_findings()
    )))
}

#[derive(Template)]
#[template(path = "check_finding.html")]
struct FindingPage {
    nav: Nav,
    f: Finding,
    opened_at: String,
    updated_at: String,
    can_resolve: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    note: String,
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<String>,
}

async fn finding_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    id: i64,
    notice: Option<&'static str>,
    refused: Option<(String, FieldRefusal)>,
) -> PageResult {
    let f = st.app.checks().finding(actor, id).await?;
    let (code, error, note) = match refused {
        Some((note, (c, m, _))) => (c, Some(m), note),
        None => (StatusCode::OK, None, String::new()),
    };
    let page = FindingPage {
        nav: Nav::new(s, "checks"),
        opened_at: beijing_time(&f.opened_at),
        updated_at: beijing_time(&f.updated_at),
        can_resolve: actor.may(Permission::ResolveFindings) && f.state.under_way(),
        f,
        notice,
        error,
        note,
    };
    Ok(with_status(render(&page)?, code))
}

async fn finding_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    Query(qs): Query<SavedQuery>,
) -> PageResult {
    let id = parse_id(&id, "该疑点")?;
    let notice = qs.saved.as_deref().map(|_| "已记录核实结果");
    finding_render(&st, &s, &actor, id, notice, None).await
}

async fn finding_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "该疑点")?;
    let f = form_map(form);
    let note = f.get("note").cloned().unwrap_or_default();
    let result = match f.get("verdict").and_then(|v| Verdict::parse(v)) {
        Some(v) => st.app.checks().verdict(&actor, id, v, &note).await,
        None => Err(Error::validation("请选择核实结论")),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/checks/findings/{id}?saved=1"))),
        Err(e) => {
            let refusal = user_error_fields(e)?;
            finding_render(&st, &s, &actor, id, None, Some((note, refusal))).await
        }
    }
}

// ---------------------------------------------------------------- API

fn ok(v: impl serde::Serialize) -> ApiResult {
    Ok(Json(v).into_response())
}

/// A finding as the API gives it: the record and its evidence in words.
fn with_words(f: Finding) -> serde_json::Value {
    let words = f.describe();
    let advice = f.kind.advice();
    let mut v = serde_json::to_value(f).unwrap_or_default();
    v["description"] = json!(words);
    v["advice"] = json!(advice);
    v
}

async fn api_counts(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    ok(json!({"items": st.app.checks().counts(&actor).await?}))
}

async fn api_run(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    let r: RunReport = st.app.checks().run(&actor, today()).await?;
    ok(r)
}

async fn api_findings(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<FindingFilter>,
) -> ApiResult {
    let (items, total) = st.app.checks().findings(&actor, &qs).await?;
    let items: Vec<_> = items.into_iter().map(with_words).collect();
    ok(json!({"total": total, "items": items}))
}

async fn api_finding(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该疑点")?;
    ok(with_words(st.app.checks().finding(&actor, id).await?))
}

#[derive(Deserialize)]
pub struct VerdictBody {
    /// `confirm` (属实), `dismiss` (不属实) or `handle` (已处理).
    #[serde(default)]
    verdict: String,
    #[serde(default)]
    note: String,
}

async fn api_verdict(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<VerdictBody>,
) -> ApiResult {
    let id = parse_id(&id, "该疑点")?;
    // Another jurisdiction's finding is not found, whatever the body says.
    st.app.checks().finding(&actor, id).await?;
    let v = Verdict::parse(&body.verdict)
        .ok_or_else(|| Error::field("verdict", "核实结论应为 confirm、dismiss 或 handle"))?;
    ok(with_words(
        st.app.checks().verdict(&actor, id, v, &body.note).await?,
    ))
}
