//! 调标批次: the batches of the user's jurisdiction, filtered by status, program and reason,
//! with their totals by township and program; the preparation of a month's 高龄津贴
//! age-band batches and of a new standard's (调整标准) batches; a batch's review (old and
//! new amounts, the difference and the calculator's reasons, the lines not computed) with
//! its sign-off or void, and its lines as a workbook. The JSON twins are under
//! `/api/v1/repricing`.

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
use minzheng_domain::repricing::{
    programs_following, RepricingBatch, RepricingLine, RepricingReason, RepricingStatus,
};
use minzheng_domain::{Actor, Fen, Program, YearMonth};
use serde::Deserialize;
use serde_json::json;

use crate::api::{ApiJson, ApiQuery};
use crate::error::parse_id;
use crate::pages::{beijing_time, render, Nav, PageForm};
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
        .route("/repricing/{id}/export.xlsx", get(export_xlsx))
}

/// The API under `/api/v1`.
pub fn api() -> Router<AppState> {
    Router::new()
        .route("/repricing", get(api_list))
        .route("/repricing/age-bands", post(api_prepare))
        .route("/repricing/standard", post(api_prepare_standard))
        .route("/repricing/sign-off", post(api_sign_off_many))
        .route("/repricing/{id}", get(api_review))
        .route("/repricing/{id}/sign-off", post(api_sign_off))
        .route("/repricing/{id}/void", post(api_void))
}

/// A status filter as given (unknown codes match nothing but are not an error).
#[derive(Deserialize, Default)]
pub struct ListQuery {
    status: Option<String>,
    program: Option<String>,
    reason: Option<String>,
    /// After a preparation: `standard` for a new standard's batches.
    kind: Option<String>,
    /// After a preparation: the month and how many lines were added.
    prepared: Option<String>,
    month: Option<String>,
    /// After 签发全部: how many batches and enrolments.
    signed: Option<String>,
    applied: Option<String>,
}

fn status_of(s: &Option<String>) -> Result<Option<RepricingStatus>, Error> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => RepricingStatus::parse(s)
            .map(Some)
            .ok_or_else(|| Error::field("status", "未知的批次状态")),
    }
}

/// The programs a standard may be raised for: those with monthly amounts.
fn standard_programs() -> Vec<Program> {
    Program::ALL
        .into_iter()
        .filter(|p| !programs_following(*p).is_empty())
        .collect()
}

/// Totals of one township and program over the listed pending batches: lines, old and new
/// monthly totals.
struct TownshipTotal {
    name: String,
    program: Program,
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
    programs: Vec<Program>,
    program: String,
    reasons: &'static [RepricingReason],
    reason: String,
    /// The programs the standard form offers.
    standard_programs: Vec<Program>,
    can_prepare: bool,
    /// May run a 调标测算 (the link to it).
    can_whatif: bool,
    /// The listed pending batches the user may sign (签发全部), with their enrolments to
    /// apply and the monthly totals before and after.
    signable: Vec<i64>,
    signable_lines: i64,
    signable_old: Fen,
    signable_new: Fen,
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

/// The list's filters as given (unknown codes match nothing).
#[derive(Default)]
struct Filters {
    status: String,
    program: String,
    reason: String,
}

async fn list_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    f: Filters,
    notice: Option<String>,
    refusal: Option<FieldRefusal>,
) -> PageResult {
    let filter = status_of(&Some(f.status.clone())).unwrap_or(None);
    let items: Vec<RepricingBatch> = st
        .app
        .repricing()
        .list(actor, filter)
        .await?
        .into_iter()
        .filter(|b| f.program.is_empty() || b.program.as_str() == f.program)
        .filter(|b| f.reason.is_empty() || b.reason.as_str() == f.reason)
        .collect();
    let mut by: BTreeMap<(String, &str), TownshipTotal> = BTreeMap::new();
    for b in items
        .iter()
        .filter(|b| b.status == RepricingStatus::Pending)
    {
        let t = by
            .entry((b.township_code.clone(), b.program.as_str()))
            .or_insert_with(|| TownshipTotal {
                name: b.township_name.clone(),
                program: b.program,
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
    let signable = st.app.repricing().signable(actor, &items).await?;
    let signing: Vec<&RepricingBatch> = items.iter().filter(|b| signable.contains(&b.id)).collect();
    let (code, error, field_errors) = match refusal {
        Some((c, m, f)) => (c, Some(m), f),
        None => (StatusCode::OK, None, BTreeMap::new()),
    };
    let page = ListPage {
        signable_lines: signing
            .iter()
            .map(|b| b.line_count - b.zero_count - b.problem_count)
            .sum(),
        signable_old: Fen(signing.iter().map(|b| b.old_total.0).sum()),
        signable_new: Fen(signing.iter().map(|b| b.new_total.0).sum()),
        signable,
        nav: Nav::new(s, "payroll"),
        items,
        townships: by.into_values().collect(),
        statuses: RepricingStatus::ALL,
        status: f.status,
        programs: Program::ALL.to_vec(),
        program: f.program,
        reasons: RepricingReason::ALL,
        reason: f.reason,
        standard_programs: standard_programs(),
        can_prepare: actor.may(Permission::PrepareRepricing),
        can_whatif: actor.may(Permission::ManageParams),
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
    let standard = qs.kind.as_deref() == Some("standard");
    let notice = int(&qs.prepared).map(|n| {
        let month = qs.month.clone().unwrap_or_default();
        match (standard, n > 0) {
            (false, true) => format!("已生成{month}高龄津贴年龄段调标：新列入{n}人，请审核后签发"),
            (false, false) => {
                format!("{month}没有需要调整年龄段的高龄津贴对象（已列入的不会重复列入）")
            }
            (true, true) => format!("已生成{month}起执行的调整标准批次：新列入{n}人，请审核后签发"),
            (true, false) => {
                format!("{month}起没有保障对象的金额因标准调整而变化（已列入的不会重复列入）")
            }
        }
    });
    let notice = notice.or_else(|| {
        int(&qs.signed).map(|n| {
            format!(
                "已签发{n}个调标批次，{}名保障对象自各批次执行月份起按新金额发放",
                int(&qs.applied).unwrap_or(0)
            )
        })
    });
    let f = Filters {
        status: qs.status.unwrap_or_default(),
        program: qs.program.unwrap_or_default(),
        reason: qs.reason.unwrap_or_default(),
    };
    list_render(&st, &s, &actor, f, notice, None).await
}

async fn list_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let f = form_map(form);
    if f.get("action").map(String::as_str) == Some("sign_off_all") {
        let ids: Vec<i64> = f
            .get("ids")
            .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
            .unwrap_or_default();
        return match st
            .app
            .repricing()
            .sign_off_many(&actor, &ids, today())
            .await
        {
            Ok(done) => Ok(see_other(&format!(
                "/repricing?signed={}&applied={}",
                done.len(),
                done.iter().map(|d| d.applied).sum::<usize>()
            ))),
            Err(e) => {
                let refusal = user_error_fields(e)?;
                list_render(&st, &s, &actor, Filters::default(), None, Some(refusal)).await
            }
        };
    }
    let standard = f.get("kind").map(String::as_str) == Some("standard");
    let month = f.get("month").cloned().unwrap_or_default();
    let result = match YearMonth::parse(month.trim()) {
        Err(_) => Err(Error::field("month", "请选择执行月份，如2026-04")),
        Ok(m) if standard => {
            match f
                .get("program")
                .and_then(|p| p.trim().parse::<Program>().ok())
                .filter(|p| standard_programs().contains(p))
            {
                None => Err(Error::field("program", "请选择调整标准的救助项目")),
                Some(p) => {
                    st.app
                        .repricing()
                        .prepare_standard(&actor, p, m, None)
                        .await
                }
            }
        }
        Ok(m) => {
            st.app
                .repricing()
                .prepare_age_bands(&actor, m, None, today())
                .await
        }
    };
    match result {
        Ok(r) => Ok(see_other(&format!(
            "/repricing?prepared={}&month={}{}",
            r.added,
            r.month,
            if standard { "&kind=standard" } else { "" }
        ))),
        Err(e) => {
            let refusal = user_error_fields(e)?;
            list_render(&st, &s, &actor, Filters::default(), None, Some(refusal)).await
        }
    }
}

/// One line as the review shows it: the line and its reason in words.
struct LineView {
    line: RepricingLine,
    reason: String,
    /// The line's village by name (its code only if the divisions do not know it).
    village: String,
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
    /// Who signs this batch, in words.
    signer: &'static str,
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
    if let Some(p) = &l.problem {
        parts.push(format!("无法计算：{p}"));
    }
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
    let permission = st.app.repricing().signing_permission(&b).await?;
    let can_sign = b.status == RepricingStatus::Pending && actor.may(permission);
    let signer = if permission == Permission::ConfirmRepricing {
        "县级民政部门审批人"
    } else {
        "民政办主任"
    };
    let villages: std::collections::HashMap<String, String> = st
        .app
        .divisions()
        .children(actor, Some(&b.township_code))
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect();
    let lines = r
        .lines
        .into_iter()
        .map(|line| LineView {
            reason: reason_of(&b, &line),
            village: villages
                .get(&line.village_code)
                .cloned()
                .unwrap_or_else(|| line.village_code.clone()),
            line,
        })
        .collect();
    let (code, error) = match refusal {
        Some((c, m)) => (c, Some(m)),
        None => (StatusCode::OK, None),
    };
    let names = crate::pages::Names::load(st).await?;
    let page = BatchPage {
        nav: Nav::new(s, "payroll"),
        prepared_at: beijing_time(&b.prepared_at),
        prepared_by: names.of(&b.prepared_by),
        decided_at: b
            .decided_at
            .as_deref()
            .map(beijing_time)
            .unwrap_or_default(),
        decided_by: b
            .decided_by
            .as_deref()
            .map(|u| names.of(u))
            .unwrap_or_default(),
        can_sign,
        signer,
        to_apply: b.line_count - b.zero_count - b.problem_count,
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

/// The batch's lines as a workbook.
async fn export_xlsx(
    State(st): State<AppState>,
    PageUser(_, actor): PageUser,
    Path(id): Path<String>,
) -> PageResult {
    let id = parse_id(&id, "该调标批次")?;
    let w = st.app.repricing().lines_workbook(&actor, id).await?;
    Ok(crate::payroll::download(
        &w.file_name,
        minzheng_app::payroll::Workbook::CONTENT_TYPE,
        w.bytes,
    ))
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

#[derive(Deserialize)]
pub struct PrepareStandardBody {
    /// The program whose parameter changed (a 低保 standard also re-prices 单人保 and 特困).
    program: String,
    /// YYYY-MM: the new amounts are paid from this month.
    month: String,
    /// Only under this division (inside the user's jurisdiction).
    #[serde(default)]
    within: Option<String>,
}

async fn api_prepare_standard(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<PrepareStandardBody>,
) -> ApiResult {
    let month = YearMonth::parse(body.month.trim())
        .map_err(|_| Error::field("month", "执行月份格式应为如2026-04"))?;
    let program = body
        .program
        .trim()
        .parse::<Program>()
        .ok()
        .filter(|p| standard_programs().contains(p))
        .ok_or_else(|| Error::field("program", "请选择按月发放的救助项目"))?;
    let r = st
        .app
        .repricing()
        .prepare_standard(&actor, program, month, body.within.as_deref())
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

#[derive(Deserialize)]
pub struct SignOffMany {
    /// The pending batches to sign together.
    #[serde(default)]
    ids: Vec<i64>,
}

/// `POST /api/v1/repricing/sign-off` `{"ids": [...]}`: 签发全部 — the batches signed in one
/// transaction, all or none.
async fn api_sign_off_many(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(req): ApiJson<SignOffMany>,
) -> ApiResult {
    Ok(Json(
        st.app
            .repricing()
            .sign_off_many(&actor, &req.ids, today())
            .await?,
    )
    .into_response())
}
