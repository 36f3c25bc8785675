//! 调标批次: the batches of the user's jurisdiction with their totals by township, the
//! preparation of a month's 高龄津贴 age-band batch, and a batch's review (old and new
//! amounts, the difference and the calculator's reasons) with the director's sign-off or
//! void. The JSON twins are under `/api/v1/repricing`.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use minzheng_app::repricing::SignedOff;
use minzheng_app::users::SessionInfo;
use minzheng_app::{Authorize, Error, Permission};
use minzheng_domain::repricing::{RepricingBatch, RepricingLine, RepricingStatus};
use minzheng_domain::{Actor, Fen, YearMonth};
use serde::Deserialize;
use serde_json::json;

use crate::api::{ApiJson, ApiQuery};
use crate::error::parse_id;
use crate::pages::{actor_label, beijing_time, render, Nav, PageForm};
use crate::payroll::{
    form_map, int, see_other, user_error_fields, with_status, ApiResult, FieldRefusal, PageResult,
};
use crate::session::{ApiUser, PageUser};
use crate::standards::today;
use crate::AppState;

/// The pages.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/repricing", get(list_page).post(list_post))
        .route("/repricing/{id}", get(batch_page).post(batch_post))
}

/// The API under `/api/v1`.
pub fn api() -> Router<AppState> {
    Router::new()
        .route("/repricing", get(api_list))
        .route("/repricing/age-bands", post(api_prepare))
        .route("/repricing/{id}", get(api_review))
        .route("/repricing/{id}/sign-off", post(api_sign_off))
        .route("/repricing/{id}/void", post(api_void))
}

/// A status filter as given (unknown codes match nothing but are not an error).
#[derive(Deserialize, Default)]
pub struct ListQuery {
    status: Option<String>,
    /// After a preparation: the month and how many lines were added.
    prepared: Option<String>,
    month: Option<String>,
}

fn status_of(s: &Option<String>) -> Result<Option<RepricingStatus>, Error> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => RepricingStatus::parse(s)
            .map(Some)
            .ok_or_else(|| Error::field("status", "未知的批次状态")),
    }
}

/// Totals of one township over the listed batches: lines, old and new monthly totals.
struct TownshipTotal {
    name: String,
    batches: usize,
    lines: i64,
    old_total: Fen,
    new_total: Fen,
}

impl TownshipTotal {
    fn difference(&self) -> Fen {
        Fen(self.new_total.0 - self.old_total.0)
    }
}

#[derive(Template)]
#[template(path = "repricing_list.html")]
struct ListPage {
    nav: Nav,
    items: Vec<RepricingBatch>,
    townships: Vec<TownshipTotal>,
    statuses: &'static [RepricingStatus],
    status: String,
    can_prepare: bool,
    month: String,
    notice: Option<String>,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
}

impl ListPage {
    fn field_error(&self, field: &str) -> Option<&String> {
        self.field_errors.get(field)
    }
}

async fn list_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    status: String,
    notice: Option<String>,
    refusal: Option<FieldRefusal>,
) -> PageResult {
    let filter = status_of(&Some(status.clone())).unwrap_or(None);
    let items = st.app.repricing().list(actor, filter).await?;
    let mut by: BTreeMap<String, TownshipTotal> = BTreeMap::new();
    for b in items
        .iter()
        .filter(|b| b.status == RepricingStatus::Pending)
    {
        let t = by
            .entry(b.township_code.clone())
            .or_insert_with(|| TownshipTotal {
                name: b.township_name.clone(),
                batches: 0,
                lines: 0,
                old_total: Fen(0),
                new_total: Fen(0),
            });
        t.batches += 1;
        t.lines += b.line_count;
        t.old_total = Fen(t.old_total.0 + b.old_total.0);
        t.new_total = Fen(t.new_total.0 + b.new_total.0);
    }
    let (code, error, field_errors) = match refusal {
        Some((c, m, f)) => (c, Some(m), f),
        None => (StatusCode::OK, None, BTreeMap::new()),
    };
    let page = ListPage {
        nav: Nav::new(s, "payroll"),
        items,
        townships: by.into_values().collect(),
        statuses: RepricingStatus::ALL,
        status,
        can_prepare: actor.may(Permission::PrepareRepricing),
        month: YearMonth::of(today()).to_string(),
        notice,
        error,
        field_errors,
    };
    Ok(with_status(render(&page)?, code))
}

async fn list_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<ListQuery>,
) -> PageResult {
    let notice = int(&qs.prepared).map(|n| {
        let month = qs.month.clone().unwrap_or_default();
        if n > 0 {
            format!("已生成{month}高龄津贴年龄段调标：新列入{n}人，请审核后签发")
        } else {
            format!("{month}没有需要调整年龄段的高龄津贴对象（已列入的不会重复列入）")
        }
    });
    list_render(&st, &s, &actor, qs.status.unwrap_or_default(), notice, None).await
}

async fn list_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let f = form_map(form);
    let month = f.get("month").cloned().unwrap_or_default();
    let result = match YearMonth::parse(month.trim()) {
        Err(_) => Err(Error::field("month", "请选择执行月份，如2026-04")),
        Ok(m) => {
            st.app
                .repricing()
                .prepare_age_bands(&actor, m, None, today())
                .await
        }
    };
    match result {
        Ok(r) => Ok(see_other(&format!(
            "/repricing?prepared={}&month={}",
            r.added, r.month
        ))),
        Err(e) => {
            let refusal = user_error_fields(e)?;
            list_render(&st, &s, &actor, String::new(), None, Some(refusal)).await
        }
    }
}

/// One line as the review shows it: the line and its reason in words.
struct LineView {
    line: RepricingLine,
    reason: String,
}

#[derive(Template)]
#[template(path = "repricing_batch.html")]
struct BatchPage {
    nav: Nav,
    b: RepricingBatch,
    lines: Vec<LineView>,
    prepared_at: String,
    /// Who prepared it and who decided, in words.
    prepared_by: String,
    decided_at: String,
    decided_by: String,
    can_sign: bool,
    /// How many enrolments a sign-off changes.
    to_apply: i64,
    notice: Option<String>,
    error: Option<String>,
}

/// The reason of a line in words: the reason kind, then the calculator's steps and notes.
fn reason_of(b: &RepricingBatch, l: &RepricingLine) -> String {
    let mut parts: Vec<String> = l
        .explanation
        .steps
        .iter()
        .map(|s| format!("{} {}", s.label, s.value))
        .collect();
    parts.extend(l.explanation.notes.iter().cloned());
    if parts.is_empty() {
        b.reason.label().to_string()
    } else {
        format!("{}：{}", b.reason.label(), parts.join("；"))
    }
}

#[derive(Deserialize, Default)]
pub struct BatchQuery {
    ok: Option<String>,
    applied: Option<String>,
    drafts: Option<String>,
    top_ups: Option<String>,
    top_up_fen: Option<String>,
}

async fn batch_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    id: i64,
    notice: Option<String>,
    refusal: Option<(StatusCode, String)>,
) -> PageResult {
    let r = st.app.repricing().review(actor, id).await?;
    let b = r.batch;
    let lines = r
        .lines
        .into_iter()
        .map(|line| LineView {
            reason: reason_of(&b, &line),
            line,
        })
        .collect();
    let (code, error) = match refusal {
        Some((c, m)) => (c, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = BatchPage {
        nav: Nav::new(s, "payroll"),
        prepared_at: beijing_time(&b.prepared_at),
        prepared_by: actor_label(&b.prepared_by).to_string(),
        decided_at: b
            .decided_at
            .as_deref()
            .map(beijing_time)
            .unwrap_or_default(),
        decided_by: b
            .decided_by
            .as_deref()
            .map(actor_label)
            .unwrap_or_default()
            .to_string(),
        can_sign: actor.may(Permission::SignOffRepricing) && b.status == RepricingStatus::Pending,
        to_apply: b.line_count - b.zero_count,
        b,
        lines,
        notice,
        error,
    };
    Ok(with_status(render(&page)?, code))
}

async fn batch_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    Query(qs): Query<BatchQuery>,
) -> PageResult {
    let id = parse_id(&id, "该调标批次")?;
    let notice = match qs.ok.as_deref() {
        Some("signed_off") => {
            let mut m = format!(
                "已签发：{}名保障对象自本批次执行月份起按新金额发放",
                int(&qs.applied).unwrap_or(0)
            );
            if let Some(n) = int(&qs.top_ups).filter(|n| *n > 0) {
                m.push_str(&format!(
                    "；已按原金额发放的{n}个月份的差额（合计{}）列为调标补差，随下一个生成的发放批次发放",
                    Fen(int(&qs.top_up_fen).unwrap_or(0))
                ));
            }
            if let Some(d) = qs.drafts.as_deref().filter(|d| !d.is_empty()) {
                m.push_str(&format!("；发放批次{d}（草稿）仍按原金额生成，请重新生成"));
            }
            Some(m)
        }
        Some("voided") => Some("已作废：未调整任何金额，相关对象可重新生成调标".into()),
        _ => None,
    };
    batch_render(&st, &s, &actor, id, notice, None).await
}

fn signed_url(id: i64, done: &SignedOff) -> String {
    let drafts: Vec<String> = done
        .drafts_to_regenerate
        .iter()
        .map(|d| d.to_string())
        .collect();
    format!(
        "/repricing/{id}?ok=signed_off&applied={}&drafts={}&top_ups={}&top_up_fen={}",
        done.applied,
        drafts.join(","),
        done.top_up_count,
        done.top_up_total.0
    )
}

async fn batch_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "该调标批次")?;
    let f = form_map(form);
    let r = st.app.repricing();
    let result = match f.get("action").map(String::as_str) {
        Some("sign_off") => r
            .sign_off(&actor, id, today())
            .await
            .map(|done| signed_url(id, &done)),
        Some("void") => r
            .void(&actor, id)
            .await
            .map(|_| format!("/repricing/{id}?ok=voided")),
        // A batch outside the jurisdiction is not found, whatever the action.
        _ => r
            .review(&actor, id)
            .await
            .and(Err(Error::validation("未知的操作"))),
    };
    match result {
        Ok(to) => Ok(see_other(&to)),
        Err(e) => {
            let (code, message, _) = user_error_fields(e)?;
            batch_render(&st, &s, &actor, id, None, Some((code, message))).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ApiListQuery {
    status: Option<String>,
}

async fn api_list(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<ApiListQuery>,
) -> ApiResult {
    let items = st
        .app
        .repricing()
        .list(&actor, status_of(&qs.status)?)
        .await?;
    Ok(Json(json!({"total": items.len(), "items": items})).into_response())
}

#[derive(Deserialize)]
pub struct PrepareBody {
    /// YYYY-MM: the new amounts are paid from this month.
    month: String,
    /// Only under this division (inside the user's jurisdiction).
    #[serde(default)]
    within: Option<String>,
}

async fn api_prepare(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<PrepareBody>,
) -> ApiResult {
    let month = YearMonth::parse(body.month.trim())
        .map_err(|_| Error::field("month", "执行月份格式应为如2026-04"))?;
    let r = st
        .app
        .repricing()
        .prepare_age_bands(&actor, month, body.within.as_deref(), today())
        .await?;
    let status = if r.added > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(r)).into_response())
}

async fn api_review(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该调标批次")?;
    Ok(Json(st.app.repricing().review(&actor, id).await?).into_response())
}

async fn api_sign_off(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该调标批次")?;
    Ok(Json(st.app.repricing().sign_off(&actor, id, today()).await?).into_response())
}

async fn api_void(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该调标批次")?;
    Ok(Json(st.app.repricing().void(&actor, id).await?).into_response())
}
