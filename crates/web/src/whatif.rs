//! 调标测算: the city admin's what-if page (`/params/whatif`, linked from the parameters
//! and 调标批次 pages) — up to three 方案 of up to three parameter values each, their
//! results side by side (changed, entering and leaving households and persons, monthly and
//! annual cost difference by county, township and program, the distribution chart drawn
//! by the vendored ECharts), the workbook, and the adoption of a 方案 as the real
//! parameter change (which prepares the 调整标准 batches). The JSON twins are
//! `POST /api/v1/params/whatif`, `/api/v1/params/whatif.xlsx` and
//! `/api/v1/params/whatif/adopt`.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use minzheng_app::whatif::{changes_text, WhatIf};
use minzheng_app::Error;
use minzheng_domain::params::ParamName;
use minzheng_domain::repricing::{programs_following, reprices};
use minzheng_domain::whatif::{ChangeInput, ScenarioInput, WhatIfRequest, MAX_SCENARIOS};
use minzheng_domain::{Actor, Program, YearMonth};
use serde_json::json;

use crate::api::ApiJson;
use crate::pages::{render, Nav, PageForm};
use crate::payroll::{form_map, see_other, user_error_fields, with_status, ApiResult, PageResult};
use crate::session::{ApiUser, PageUser};
use crate::standards::today;
use crate::AppState;

const WHATIF_JS: &str = include_str!("../static/whatif.js");

/// Parameter values a row of the form holds.
const ROWS: usize = 3;

/// The pages.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/params/whatif", get(page).post(post_form))
        .route(
            "/static/whatif.js",
            get(|| async { crate::payroll::asset(WHATIF_JS, "text/javascript; charset=utf-8") }),
        )
}

/// The API under `/api/v1`.
pub fn api() -> Router<AppState> {
    Router::new()
        .route("/params/whatif", post(api_whatif))
        .route("/params/whatif.xlsx", post(api_workbook))
        .route("/params/whatif/adopt", post(api_adopt))
}

/// One row of the form: a parameter value as typed.
#[derive(Clone, Default)]
struct Row {
    program: String,
    name: String,
    region: String,
    urban_rural: String,
    from: String,
    value: String,
}

/// One 方案 of the form.
#[derive(Clone, Default)]
struct FormScenario {
    name: String,
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "whatif.html")]
struct WhatIfPage {
    nav: Nav,
    scenarios: Vec<FormScenario>,
    within: String,
    programs: Vec<Program>,
    names: Vec<(String, String)>,
    result: Option<WhatIf>,
    /// The 方案's values in one line each (for the results' heading).
    summaries: Vec<String>,
    chart: String,
    notice: Option<String>,
    error: Option<String>,
}

/// The programs whose monthly amounts a parameter can change.
fn programs() -> Vec<Program> {
    Program::ALL
        .into_iter()
        .filter(|p| !programs_following(*p).is_empty())
        .collect()
}

/// The parameters a 方案 may change (those that move monthly amounts), code and label.
fn names() -> Vec<(String, String)> {
    use minzheng_domain::programs::CareLevel;
    let mut out = vec![
        ParamName::Standard,
        ParamName::TekunBasicRatio,
        ParamName::SinglePersonShare,
        ParamName::MinPaymentRatio,
        ParamName::MinimumWage,
        ParamName::InstitutionalCareUplift,
        ParamName::Rounding,
        ParamName::TopUpMode,
        ParamName::LaidOffRatio,
        ParamName::LaidOffFixedAmount,
    ];
    out.extend(CareLevel::ALL.iter().map(|l| ParamName::CareRatio(*l)));
    out.into_iter()
        .filter(|n| reprices(*n))
        .map(|n| (n.code(), n.label()))
        .collect()
}

/// The form as first shown: 方案一 with one 城市低保 standard row from next month for the
/// user's jurisdiction.
fn blank(actor: &Actor) -> Vec<FormScenario> {
    let region = actor.scope.code_str().chars().take(6).collect::<String>();
    let region = if region.len() >= 4 {
        region
    } else {
        String::new()
    };
    let next = YearMonth::of(today()).next().first_day().to_string();
    (0..MAX_SCENARIOS)
        .map(|i| FormScenario {
            name: String::new(),
            rows: (0..ROWS)
                .map(|j| Row {
                    program: if i == 0 && j == 0 {
                        "urban_dibao".into()
                    } else {
                        String::new()
                    },
                    name: if i == 0 && j == 0 {
                        "standard".into()
                    } else {
                        String::new()
                    },
                    region: region.clone(),
                    from: next.clone(),
                    ..Default::default()
                })
                .collect(),
        })
        .collect()
}

/// The form's fields (`s0_name`, `s0_c1_value` …) as typed.
fn read_form(f: &HashMap<String, String>) -> (Vec<FormScenario>, String) {
    let get = |k: String| f.get(&k).map(|v| v.trim().to_string()).unwrap_or_default();
    let scenarios = (0..MAX_SCENARIOS)
        .map(|i| FormScenario {
            name: get(format!("s{i}_name")),
            rows: (0..ROWS)
                .map(|j| Row {
                    program: get(format!("s{i}_c{j}_program")),
                    name: get(format!("s{i}_c{j}_name")),
                    region: get(format!("s{i}_c{j}_region")),
                    urban_rural: get(format!("s{i}_c{j}_ur")),
                    from: get(format!("s{i}_c{j}_from")),
                    value: get(format!("s{i}_c{j}_value")),
                })
                .collect(),
        })
        .collect();
    (scenarios, get("within".into()))
}

/// The request the form asks: rows with a value are the 方案's values; a 方案 without any
/// is left out.
fn request(scenarios: &[FormScenario], within: &str) -> WhatIfRequest {
    WhatIfRequest {
        scenarios: scenarios
            .iter()
            .map(|s| ScenarioInput {
                name: s.name.clone(),
                changes: s
                    .rows
                    .iter()
                    .filter(|r| !r.value.is_empty())
                    .map(|r| ChangeInput {
                        program: r.program.clone(),
                        name: r.name.clone(),
                        region: r.region.clone(),
                        urban_rural: r.urban_rural.clone(),
                        effective_from: r.from.clone(),
                        value_json: r.value.clone(),
                        source: String::new(),
                    })
                    .collect(),
            })
            .filter(|s| !s.changes.is_empty())
            .collect(),
        within: Some(within.to_string()).filter(|w| !w.is_empty()),
    }
}

/// The distribution chart's data: the buckets and one series per 方案.
fn chart(w: &WhatIf) -> String {
    json!({
        "buckets": w.buckets,
        "series": w.scenarios.iter().map(|s| json!({"name": s.name, "data": s.distribution}))
            .collect::<Vec<_>>(),
    })
    .to_string()
}

#[allow(clippy::too_many_arguments)]
fn page_of(
    s: &minzheng_app::users::SessionInfo,
    scenarios: Vec<FormScenario>,
    within: String,
    result: Option<WhatIf>,
    notice: Option<String>,
    error: Option<String>,
) -> WhatIfPage {
    let (summaries, chart) = match &result {
        Some(w) => (w.scenarios.iter().map(changes_text).collect(), chart(w)),
        None => (Vec::new(), String::new()),
    };
    WhatIfPage {
        nav: Nav::new(s, "cases"),
        scenarios,
        within,
        programs: programs(),
        names: names(),
        result,
        summaries,
        chart,
        notice,
        error,
    }
}

async fn page(State(st): State<AppState>, PageUser(s, actor): PageUser) -> PageResult {
    if !st.app.params().may_whatif(&actor) {
        return Err(Error::Forbidden("只有市民政局管理员可以进行调标测算".into()).into());
    }
    render(&page_of(&s, blank(&actor), String::new(), None, None, None))
}

async fn post_form(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let f = form_map(form);
    let (scenarios, within) = read_form(&f);
    let req = request(&scenarios, &within);
    let action = f.get("action").map(String::as_str).unwrap_or("run");
    let outcome = match action {
        "export" => match st.app.params().whatif_workbook(&actor, &req).await {
            Ok(w) => {
                return Ok(crate::payroll::download(
                    &w.file_name,
                    minzheng_app::payroll::Workbook::CONTENT_TYPE,
                    w.bytes,
                ))
            }
            Err(e) => Err(e),
        },
        a if a.starts_with("adopt") => {
            // The 方案 of that number in the form (the button's form holds it alone).
            let i: usize = a.trim_start_matches("adopt").parse().unwrap_or(usize::MAX);
            let chosen = scenarios
                .get(i)
                .map(|s| request(std::slice::from_ref(s), ""));
            let Some(one) = chosen.and_then(|r| r.scenarios.into_iter().next()) else {
                return Err(Error::field("action", "请选择要采用的方案").into());
            };
            let one = &one;
            match st.app.params().adopt(&actor, one).await {
                Ok(a) => {
                    let mut to = format!(
                        "/params?program={}&saved=1&month={}",
                        one.changes
                            .first()
                            .map(|c| c.program.trim().to_string())
                            .unwrap_or_default(),
                        a.month
                    );
                    match a.errors.first() {
                        Some(e) => {
                            let q = serde_urlencoded::to_string([("reprice_error", e)])
                                .unwrap_or_default();
                            to.push_str(&format!("&{q}"));
                        }
                        None => to.push_str(&format!("&repriced={}", a.added)),
                    }
                    return Ok(see_other(&to));
                }
                Err(e) => Err(e),
            }
        }
        _ => st.app.params().whatif(&actor, &req).await,
    };
    match outcome {
        Ok(w) => render(&page_of(&s, scenarios, within, Some(w), None, None)),
        Err(e) => {
            let (code, message, _fields) = user_error_fields(e)?;
            let page = render(&page_of(&s, scenarios, within, None, None, Some(message)))?;
            Ok(with_status(page, code))
        }
    }
}

async fn api_whatif(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(req): ApiJson<WhatIfRequest>,
) -> ApiResult {
    Ok(Json(st.app.params().whatif(&actor, &req).await?).into_response())
}

async fn api_workbook(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(req): ApiJson<WhatIfRequest>,
) -> ApiResult {
    let w = st.app.params().whatif_workbook(&actor, &req).await?;
    Ok(crate::payroll::download(
        &w.file_name,
        minzheng_app::payroll::Workbook::CONTENT_TYPE,
        w.bytes,
    ))
}

async fn api_adopt(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(scenario): ApiJson<ScenarioInput>,
) -> ApiResult {
    let a = st.app.params().adopt(&actor, &scenario).await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}
