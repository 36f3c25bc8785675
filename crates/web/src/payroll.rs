//! Monthly payroll (资金发放): the month's batches, a batch with its review (month-over-month
//! changes), sign-off, bank file download, return file upload, payment exceptions (退票),
//! back pay (补发), the funds ledger with its chart and workbook, the bank templates (代发模板:
//! every role reads them, the city administrator adds and edits them), and the JSON API twins.
//!
//! Pages post back with an `action` field and redirect (303) on success; refusals re-render
//! the page with the Chinese message (403 / 409 / 422). A success redirect carries a short
//! code (and the numbers it reports, as integers), never the message itself, so a crafted
//! link cannot show its own text as a success. The return file is a multipart form whose
//! CSRF token travels in the action URL (`?_csrf=`), as for photo uploads.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use minzheng_domain::{Fen, Program, Role, YearMonth};
use minzheng_store::{
    Actor, BackPay, BankFile, BankTemplate, BankTemplateInput, BatchDiff, BatchFilter,
    ExceptionCorrection, GenerateRequest, LedgerFilter, LedgerRow, LineFilter, NewBackPay,
    PaymentException, PayrollBatch, PayrollLine, SessionInfo, StoreError, BANK_COLUMNS,
    BATCH_STATUSES,
};
use serde::Deserialize;
use serde_json::json;

use crate::api::{ApiJson, ApiQuery};
use crate::error::{parse_id, AppError, PageError};
use crate::pages::{render, Nav, PageForm};
use crate::session::{ApiUser, PageUser};
use crate::AppState;

type PageResult = Result<Response, PageError>;
type ApiResult = Result<Response, AppError>;

const ECHARTS: &str = include_str!("../static/echarts.min.js");
const PAYROLL_JS: &str = include_str!("../static/payroll.js");
const PAYROLL_CSS: &str = include_str!("../static/payroll.css");
/// Largest return file accepted.
const RETURN_LIMIT: usize = 32 * 1024 * 1024;

/// Pages and static assets.
pub fn pages() -> Router<AppState> {
    let upload = axum::extract::DefaultBodyLimit::max(RETURN_LIMIT + 64 * 1024);
    Router::new()
        .route("/payroll", get(list_page).post(list_post))
        .route("/payroll/batches/{id}", get(batch_page).post(batch_post))
        .route("/payroll/batches/{id}/bank-file", post(bank_file_post))
        .route(
            "/payroll/batches/{id}/return",
            post(return_post).layer(upload),
        )
        .route("/payroll/exceptions", get(exceptions_page))
        .route("/payroll/exceptions/{id}", post(exception_post))
        .route("/payroll/back-pay", get(back_pay_page).post(back_pay_post))
        .route("/payroll/ledger", get(ledger_page))
        .route("/payroll/ledger.xlsx", get(ledger_xlsx))
        .route(
            "/payroll/bank-templates",
            get(templates_page).post(templates_post),
        )
        .route(
            "/static/echarts.min.js",
            get(|| async { asset(ECHARTS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/static/payroll.js",
            get(|| async { asset(PAYROLL_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/static/payroll.css",
            get(|| async { asset(PAYROLL_CSS, "text/css; charset=utf-8") }),
        )
}

/// The API under `/api/v1`.
pub fn api() -> Router<AppState> {
    let upload = axum::extract::DefaultBodyLimit::max(RETURN_LIMIT + 64 * 1024);
    Router::new()
        .route("/payroll/batches", get(api_batches).post(api_generate))
        .route("/payroll/batches/{id}", get(api_batch))
        .route("/payroll/batches/{id}/lines", get(api_lines))
        .route("/payroll/batches/{id}/diff", get(api_diff))
        .route("/payroll/batches/{id}/regenerate", post(api_regenerate))
        .route("/payroll/batches/{id}/sign-off", post(api_sign_off))
        .route("/payroll/batches/{id}/close", post(api_close))
        .route("/payroll/batches/{id}/bank-file", post(api_bank_file))
        .route(
            "/payroll/batches/{id}/returns",
            post(api_return).layer(upload),
        )
        .route("/payroll/exceptions", get(api_exceptions))
        .route("/payroll/exceptions/{id}/correction", post(api_correct))
        .route(
            "/payroll/back-pay",
            get(api_back_pay).post(api_request_back_pay),
        )
        .route("/payroll/back-pay/{id}/decision", post(api_decide_back_pay))
        .route("/payroll/ledger", get(api_ledger))
        .route(
            "/payroll/bank-templates",
            get(api_templates).post(api_save_template),
        )
}

fn asset(body: &'static str, mime: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, mime),
            (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

fn this_month() -> String {
    YearMonth::of(crate::standards::today()).to_string()
}

fn is_clerk(actor: &Actor) -> bool {
    matches!(
        actor.role,
        Some(Role::TownshipStaff | Role::TownshipDirector)
    )
}

fn is_director(actor: &Actor) -> bool {
    actor.role == Some(Role::TownshipDirector)
}

fn full_identity(actor: &Actor) -> bool {
    actor.role.is_none_or(|r| r.sees_full_identity())
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Refusals a clerk can act on re-render the page; anything else is an error page.
fn user_error(e: StoreError) -> Result<(StatusCode, String), PageError> {
    user_error_fields(e).map(|(status, message, _)| (status, message))
}

/// As `user_error`, keeping the store's per-field messages (shown next to the fields).
fn user_error_fields(e: StoreError) -> Result<FieldRefusal, PageError> {
    match e {
        StoreError::Validation { message, fields } => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, message, fields))
        }
        StoreError::Conflict(m) => Ok((StatusCode::CONFLICT, m, BTreeMap::new())),
        StoreError::Forbidden(m) => Ok((StatusCode::FORBIDDEN, m, BTreeMap::new())),
        other => Err(other.into()),
    }
}

/// A refusal shown on the page: status, message, and messages by field.
type FieldRefusal = (StatusCode, String, BTreeMap<String, String>);

/// An integer of a success redirect's query; anything else counts as absent.
fn int(v: &Option<String>) -> Option<i64> {
    v.as_deref().and_then(|v| v.trim().parse().ok())
}

/// A redirect target: `path` with its query encoded.
fn with_query(path: &str, query: &[(&str, String)]) -> String {
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(query).unwrap_or_default()
    )
}

fn with_status(mut r: Response, s: StatusCode) -> Response {
    *r.status_mut() = s;
    r
}

fn programs() -> Vec<(&'static str, &'static str)> {
    Program::ALL
        .iter()
        .map(|p| (p.as_str(), p.label()))
        .collect()
}

fn form_map(v: Vec<(String, String)>) -> std::collections::HashMap<String, String> {
    v.into_iter().collect()
}

// ---------------------------------------------------------------- batch list

#[derive(Template)]
#[template(path = "payroll_list.html")]
struct ListPage {
    nav: Nav,
    month: String,
    program: String,
    status: String,
    batches: Vec<PayrollBatch>,
    total_lines: i64,
    total_planned: String,
    programs: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    can_generate: bool,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    month: Option<String>,
    program: Option<String>,
    status: Option<String>,
    /// Success code after a generation: `batches` (with the counts below) or `removed`.
    generated: Option<String>,
    created: Option<String>,
    lines: Option<String>,
    planned: Option<String>,
    existing: Option<String>,
}

impl ListQuery {
    /// The success message of `generated`; an unknown code or a missing count shows none.
    fn notice(&self) -> Option<String> {
        match self.generated.as_deref()? {
            "batches" => Some(format!(
                "已生成{}个批次、{}笔，合计{}；已存在{}个批次未改动",
                int(&self.created)?,
                int(&self.lines)?,
                Fen(int(&self.planned)?),
                int(&self.existing)?
            )),
            "removed" => Some("本月已无应发对象，草稿批次已删除".into()),
            _ => None,
        }
    }
}

async fn list_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    qs: ListQuery,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let notice = qs.notice();
    let month = qs
        .month
        .filter(|m| YearMonth::parse(m).is_ok())
        .unwrap_or_else(this_month);
    let program = qs.program.unwrap_or_default();
    let status = qs.status.unwrap_or_default();
    let batches = st
        .store
        .list_batches(
            &actor.scope,
            &BatchFilter {
                month: Some(month.clone()),
                program: Some(program.clone()),
                status: Some(status.clone()),
                within: None,
            },
        )
        .await?;
    let (code, error) = match error {
        Some((c, m)) => (c, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = ListPage {
        nav: Nav::new(s, "payroll"),
        total_lines: batches.iter().map(|b| b.line_count).sum(),
        total_planned: Fen(batches.iter().map(|b| b.planned.0).sum()).to_string(),
        batches,
        month,
        program,
        status,
        programs: programs(),
        statuses: BATCH_STATUSES.to_vec(),
        can_generate: is_clerk(actor),
        notice,
        error,
    };
    Ok(with_status(render(&page)?, code))
}

pub async fn list_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<ListQuery>,
) -> PageResult {
    list_render(&st, &s, &actor, qs, None).await
}

pub async fn list_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let f = form_map(form);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let month_s = get("month");
    let result = async {
        let month = YearMonth::parse(&month_s)
            .map_err(|_| StoreError::field("month", "月份格式不正确，应为如2026-11的年月"))?;
        let program = match get("program").as_str() {
            "" => None,
            p => Some(
                p.parse::<Program>()
                    .map_err(|e| StoreError::field("program", e.to_string()))?,
            ),
        };
        st.store
            .generate_payroll(
                &actor,
                &GenerateRequest {
                    month,
                    program,
                    within: None,
                },
            )
            .await
    }
    .await;
    match result {
        Ok(out) => Ok(see_other(&with_query(
            "/payroll",
            &[
                ("month", out.month),
                ("generated", "batches".into()),
                ("created", out.created.len().to_string()),
                ("lines", out.lines.to_string()),
                ("planned", out.planned.0.to_string()),
                ("existing", out.existing.len().to_string()),
            ],
        ))),
        Err(e) => {
            let err = user_error(e)?;
            list_render(
                &st,
                &s,
                &actor,
                ListQuery {
                    month: Some(month_s),
                    ..Default::default()
                },
                Some(err),
            )
            .await
        }
    }
}

// ---------------------------------------------------------------- one batch

#[derive(Template)]
#[template(path = "payroll_batch.html")]
struct BatchPage {
    nav: Nav,
    b: PayrollBatch,
    diff: BatchDiff,
    lines: Vec<PayrollLine>,
    lines_total: i64,
    /// A draft's lines without a bank account (the first 50) and how many there are.
    missing: Vec<PayrollLine>,
    missing_total: i64,
    line_status: String,
    templates: Vec<BankTemplate>,
    can_clerk: bool,
    can_sign: bool,
    csrf_q: String,
    notice: Option<String>,
    error: Option<String>,
}

impl BatchPage {
    fn money(&self, f: &Option<Fen>) -> String {
        f.map(|f| f.to_string()).unwrap_or_default()
    }
}

#[derive(Deserialize, Default)]
pub struct BatchQuery {
    status: Option<String>,
    /// Success code: `regenerated`, `signed_off`, `closed` or `returned`, with the
    /// numbers below where the message reports them.
    saved: Option<String>,
    lines: Option<String>,
    planned: Option<String>,
    paid_count: Option<String>,
    paid: Option<String>,
    failed_count: Option<String>,
    failed: Option<String>,
    complete: Option<String>,
}

impl BatchQuery {
    /// The success message of `saved`; an unknown code or a missing number shows none.
    fn notice(&self) -> Option<String> {
        Some(match self.saved.as_deref()? {
            "regenerated" => format!(
                "已重新生成：{}笔，合计{}",
                int(&self.lines)?,
                Fen(int(&self.planned)?)
            ),
            "signed_off" => "已审核签发".into(),
            "closed" => "批次已结束".into(),
            "returned" => format!(
                "回盘已导入：成功{}笔{}，失败{}笔{}{}",
                int(&self.paid_count)?,
                Fen(int(&self.paid)?),
                int(&self.failed_count)?,
                Fen(int(&self.failed)?),
                if int(&self.complete)? == 1 {
                    "；批次已全部对账"
                } else {
                    "；其余明细待回盘"
                }
            ),
            _ => return None,
        })
    }
}

async fn batch_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    id: i64,
    qs: BatchQuery,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let b = st.store.get_batch(&actor.scope, id).await?;
    let mut diff = st.store.batch_diff(&actor.scope, id).await?;
    let notice = qs.notice();
    let line_status = qs.status.unwrap_or_default();
    let (mut lines, lines_total) = st
        .store
        .batch_lines(
            &actor.scope,
            id,
            &LineFilter {
                status: Some(line_status.clone()),
                limit: Some(500),
                ..Default::default()
            },
        )
        .await?;
    // Lines the bank could not pay: the sign-off refuses them, so the draft says so first.
    let (mut missing, missing_total) = if b.status == "draft" {
        st.store
            .batch_lines(
                &actor.scope,
                id,
                &LineFilter {
                    missing_account: true,
                    limit: Some(50),
                    ..Default::default()
                },
            )
            .await?
    } else {
        (Vec::new(), 0)
    };
    if !full_identity(actor) {
        lines = lines.into_iter().map(PayrollLine::masked).collect();
        missing = missing.into_iter().map(PayrollLine::masked).collect();
        diff.extras = diff.extras.into_iter().map(PayrollLine::masked).collect();
        for e in &mut diff.entries {
            e.beneficiary_id_number = minzheng_store::mask_id(&e.beneficiary_id_number);
        }
    }
    let templates = st
        .store
        .bank_templates()
        .await?
        .into_iter()
        .filter(|t| t.active)
        .collect();
    let (code, error) = match error {
        Some((c, m)) => (c, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = BatchPage {
        nav: Nav::new(s, "payroll"),
        b,
        diff,
        lines,
        missing,
        missing_total,
        lines_total,
        line_status,
        templates,
        can_clerk: is_clerk(actor),
        can_sign: is_director(actor),
        csrf_q: serde_urlencoded::to_string([("_csrf", s.csrf_token.as_str())]).unwrap_or_default(),
        notice,
        error,
    };
    Ok(with_status(render(&page)?, code))
}

pub async fn batch_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    Query(qs): Query<BatchQuery>,
) -> PageResult {
    let id = parse_id(&id, "该发放批次")?;
    batch_render(&st, &s, &actor, id, qs, None).await
}

/// The batch page after a success: its code and the numbers the message reports.
fn saved_url(id: i64, code: &str, numbers: &[(&str, i64)]) -> String {
    let mut query = vec![("saved", code.to_string())];
    query.extend(numbers.iter().map(|(k, v)| (*k, v.to_string())));
    with_query(&format!("/payroll/batches/{id}"), &query)
}

pub async fn batch_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "该发放批次")?;
    let f = form_map(form);
    let action = f.get("action").cloned().unwrap_or_default();
    let result = match action.as_str() {
        "regenerate" => {
            // The month, for the list to show if the regenerated draft is removed.
            let month = st.store.get_batch(&actor.scope, id).await?.month;
            match st.store.regenerate_batch(&actor, id).await {
                Ok(Some(b)) => Ok(saved_url(
                    id,
                    "regenerated",
                    &[("lines", b.line_count), ("planned", b.planned.0)],
                )),
                Ok(None) => Ok(with_query(
                    "/payroll",
                    &[("month", month), ("generated", "removed".into())],
                )),
                Err(e) => Err(e),
            }
        }
        // The page carries the generation the director reviewed: a batch regenerated since
        // is refused rather than signed unseen.
        "sign_off" => st
            .store
            .sign_off_reviewed(
                &actor,
                id,
                f.get("reviewed")
                    .map(String::as_str)
                    .filter(|r| !r.is_empty()),
            )
            .await
            .map(|_| saved_url(id, "signed_off", &[])),
        "close" => st
            .store
            .close_batch(&actor, id)
            .await
            .map(|_| saved_url(id, "closed", &[])),
        _ => Err(StoreError::validation("未知的操作")),
    };
    match result {
        Ok(to) => Ok(see_other(&to)),
        Err(e) => {
            let err = user_error(e)?;
            batch_render(&st, &s, &actor, id, BatchQuery::default(), Some(err)).await
        }
    }
}

fn download(f: BankFile) -> Response {
    let ascii: String = f
        .file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = f
        .file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_' {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    (
        [
            (CONTENT_TYPE, f.content_type.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        f.bytes,
    )
        .into_response()
}

pub async fn bank_file_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "该发放批次")?;
    let f = form_map(form);
    let template = f.get("template").cloned().unwrap_or_default();
    match st.store.export_bank_file(&actor, id, &template).await {
        Ok(file) => Ok(download(file)),
        Err(e) => {
            let err = user_error(e)?;
            batch_render(&st, &s, &actor, id, BatchQuery::default(), Some(err)).await
        }
    }
}

/// Reads the `file` field of a multipart form.
async fn read_file(mut mp: Multipart) -> Result<(String, Vec<u8>), StoreError> {
    let broken = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            StoreError::field("file", "回盘文件过大（上限32 MB）")
        } else {
            StoreError::field("file", "上传内容不完整，请重新选择回盘文件")
        }
    };
    while let Some(field) = mp.next_field().await.map_err(broken)? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("回盘文件").to_string();
            let data = field.bytes().await.map_err(broken)?.to_vec();
            if data.is_empty() {
                break;
            }
            return Ok((name, data));
        }
    }
    Err(StoreError::field("file", "请选择银行回盘文件"))
}

pub async fn return_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    mp: Multipart,
) -> PageResult {
    let id = parse_id(&id, "该发放批次")?;
    let result = match read_file(mp).await {
        Ok((name, data)) => st.store.import_return(&actor, id, &name, &data).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => Ok(see_other(&saved_url(
            id,
            "returned",
            &[
                ("paid_count", r.paid_count as i64),
                ("paid", r.paid.0),
                ("failed_count", r.failed_count as i64),
                ("failed", r.failed.0),
                ("complete", i64::from(r.complete)),
            ],
        ))),
        // Shown here rather than redirected to the batch page: the store's refusal names
        // the rows at fault, which a redirect code could not carry.
        Err(e) => {
            let err = user_error(e)?;
            batch_render(&st, &s, &actor, id, BatchQuery::default(), Some(err)).await
        }
    }
}

// ---------------------------------------------------------------- exceptions

#[derive(Template)]
#[template(path = "payroll_exceptions.html")]
struct ExceptionsPage {
    nav: Nav,
    items: Vec<PaymentException>,
    status: String,
    /// The batch the list is narrowed to (from the batch page's link).
    batch: Option<PayrollBatch>,
    can_clerk: bool,
    notice: Option<String>,
    error: Option<String>,
    /// A refused correction: the exception it was for and what the clerk typed.
    typed: Option<(i64, ExceptionCorrection)>,
    field_errors: BTreeMap<String, String>,
}

impl ExceptionsPage {
    /// The value a correction field shows: what was typed into a refused correction of
    /// this exception, else the correction already on record.
    fn value(&self, x: &PaymentException, field: &str) -> String {
        match &self.typed {
            Some((id, c)) if *id == x.id => match field {
                "bank_name" => c.bank_name.clone(),
                "account_number" => c.account_number.clone(),
                "account_holder" => c.account_holder.clone(),
                _ => c.note.clone(),
            },
            _ => match field {
                "bank_name" => x.bank_name.clone().unwrap_or_default(),
                "account_number" => x.account_number.clone().unwrap_or_default(),
                _ => String::new(),
            },
        }
    }

    /// The store's message for one field of a refused correction of this exception.
    fn field_error(&self, x: &PaymentException, field: &str) -> Option<&String> {
        match &self.typed {
            Some((id, _)) if *id == x.id => self.field_errors.get(field),
            _ => None,
        }
    }
}

#[derive(Deserialize, Default)]
pub struct ExceptionsQuery {
    status: Option<String>,
    /// Only the exceptions of this batch.
    batch: Option<String>,
    /// Success code: `corrected`.
    saved: Option<String>,
}

/// A refused correction to show again.
struct RefusedCorrection {
    id: i64,
    typed: ExceptionCorrection,
    refusal: FieldRefusal,
}

async fn exceptions_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    qs: ExceptionsQuery,
    refused: Option<RefusedCorrection>,
) -> PageResult {
    let status = qs.status.unwrap_or_default();
    let batch = match int(&qs.batch) {
        Some(id) => Some(st.store.get_batch(&actor.scope, id).await?),
        None => None,
    };
    let mut items = st
        .store
        .list_exceptions(&actor.scope, Some(status.as_str()))
        .await?;
    if let Some(b) = &batch {
        items.retain(|x| x.batch_id == b.id);
    }
    if !full_identity(actor) {
        items = items.into_iter().map(PaymentException::masked).collect();
    }
    let (code, error, typed, field_errors) = match refused {
        Some(RefusedCorrection {
            id,
            typed,
            refusal: (c, m, f),
        }) => (c, Some(m), Some((id, typed)), f),
        None => (StatusCode::OK, None, None, BTreeMap::new()),
    };
    let notice = match qs.saved.as_deref() {
        Some("corrected") => Some("已更正，将在下一个生成的批次中重发".to_string()),
        _ => None,
    };
    let page = ExceptionsPage {
        nav: Nav::new(s, "payroll"),
        items,
        status,
        batch,
        can_clerk: is_clerk(actor),
        notice,
        error,
        typed,
        field_errors,
    };
    Ok(with_status(render(&page)?, code))
}

pub async fn exceptions_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<ExceptionsQuery>,
) -> PageResult {
    exceptions_render(&st, &s, &actor, qs, None).await
}

pub async fn exception_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "该退票记录")?;
    let f = form_map(form);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let c = ExceptionCorrection {
        bank_name: get("bank_name"),
        account_number: get("account_number"),
        account_holder: get("account_holder"),
        note: get("note"),
    };
    match st.store.correct_exception(&actor, id, &c).await {
        Ok(_) => Ok(see_other("/payroll/exceptions?saved=corrected")),
        Err(e) => {
            let refused = RefusedCorrection {
                id,
                typed: c,
                refusal: user_error_fields(e)?,
            };
            exceptions_render(&st, &s, &actor, ExceptionsQuery::default(), Some(refused)).await
        }
    }
}

// ---------------------------------------------------------------- back pay

#[derive(Template)]
#[template(path = "payroll_back_pay.html")]
struct BackPayPage {
    nav: Nav,
    items: Vec<BackPay>,
    can_clerk: bool,
    can_decide: bool,
    /// The request form: empty, or what was typed into a refused request.
    form: BackPayForm,
    notice: Option<String>,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
}

impl BackPayPage {
    fn field_error(&self, field: &str) -> Option<&String> {
        self.field_errors.get(field)
    }
}

/// The back-pay request form as typed.
#[derive(Default)]
struct BackPayForm {
    enrolment_id: String,
    period: String,
    amount: String,
    reason: String,
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    /// Success code: `requested`, `approved` or `rejected`.
    saved: Option<String>,
}

async fn back_pay_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    form: BackPayForm,
    notice: Option<String>,
    error: Option<FieldRefusal>,
) -> PageResult {
    let items = st.store.list_back_pay(&actor.scope).await?;
    let (code, error, field_errors) = match error {
        Some((c, m, f)) => (c, Some(m), f),
        None => (StatusCode::OK, None, BTreeMap::new()),
    };
    let page = BackPayPage {
        nav: Nav::new(s, "payroll"),
        items,
        can_clerk: is_clerk(actor),
        can_decide: is_director(actor),
        form,
        notice,
        error,
        field_errors,
    };
    Ok(with_status(render(&page)?, code))
}

pub async fn back_pay_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<SavedQuery>,
) -> PageResult {
    let notice = match qs.saved.as_deref() {
        Some("requested") => Some("已提交补发申请，待民政办主任审批"),
        Some("approved") => Some("已批准补发，将列入该项目下一个生成的发放批次"),
        Some("rejected") => Some("已不批准该补发申请"),
        _ => None,
    };
    back_pay_render(
        &st,
        &s,
        &actor,
        BackPayForm::default(),
        notice.map(str::to_string),
        None,
    )
    .await
}

pub async fn back_pay_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let f = form_map(form);
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    let mut typed = BackPayForm::default();
    let result = match get("action").as_str() {
        "request" => {
            typed = BackPayForm {
                enrolment_id: get("enrolment_id"),
                period: get("period"),
                amount: get("amount"),
                reason: get("reason"),
            };
            match typed.enrolment_id.trim().parse::<i64>() {
                Ok(enrolment_id) => st
                    .store
                    .request_back_pay(
                        &actor,
                        &NewBackPay {
                            enrolment_id,
                            period: typed.period.clone(),
                            amount: typed.amount.clone(),
                            reason: typed.reason.clone(),
                            case_id: get("case_id").trim().parse::<i64>().ok(),
                        },
                    )
                    .await
                    .map(|_| "requested")
                    .map_err(|e| match e {
                        // A mistyped number is a slip of the form, not a missing page.
                        StoreError::NotFound(_) => StoreError::field(
                            "enrolment_id",
                            "未找到该保障对象，请核对编号（只能为本辖区的保障对象申请）",
                        ),
                        e => e,
                    }),
                Err(_) => Err(StoreError::field("enrolment_id", "请填写保障对象编号")),
            }
        }
        // The decision must be explicit: anything but 批准 or 不批准 changes nothing.
        "decide" => match (get("id").parse::<i64>(), get("decision").as_str()) {
            (Err(_), _) => Err(StoreError::validation("缺少补发编号")),
            (Ok(id), "approve") => st
                .store
                .decide_back_pay(&actor, id, true)
                .await
                .map(|_| "approved"),
            (Ok(id), "reject") => st
                .store
                .decide_back_pay(&actor, id, false)
                .await
                .map(|_| "rejected"),
            (Ok(_), _) => Err(StoreError::field(
                "decision",
                "请选择审批结论：批准或不批准",
            )),
        },
        _ => Err(StoreError::validation("未知的操作")),
    };
    match result {
        Ok(code) => Ok(see_other(&format!("/payroll/back-pay?saved={code}"))),
        Err(e) => {
            let err = user_error_fields(e)?;
            back_pay_render(&st, &s, &actor, typed, None, Some(err)).await
        }
    }
}

// ---------------------------------------------------------------- funds ledger

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
}

impl LedgerTotals {
    fn add(&mut self, r: &LedgerRow) {
        self.lines += r.lines;
        self.planned = Fen(self.planned.0 + r.planned.0);
        self.paid = Fen(self.paid.0 + r.paid.0);
        self.failed = Fen(self.failed.0 + r.failed.0);
        self.reissued = Fen(self.reissued.0 + r.reissued.0);
    }
}

#[derive(Deserialize, Default)]
pub struct LedgerQuery {
    from: Option<String>,
    to: Option<String>,
    program: Option<String>,
    within: Option<String>,
}

impl LedgerQuery {
    fn filter(&self) -> LedgerFilter {
        let month = |m: &Option<String>| m.clone().filter(|m| YearMonth::parse(m).is_ok());
        LedgerFilter {
            from: month(&self.from),
            to: month(&self.to),
            program: self.program.clone().filter(|p| !p.is_empty()),
            within: self.within.clone().filter(|w| !w.is_empty()),
        }
    }
}

fn chart_json(rows: &[LedgerRow]) -> String {
    let (months, series) = minzheng_store::ledger_series(rows);
    let series: Vec<_> = series
        .into_iter()
        .map(|(name, v)| {
            json!({"name": name, "data": v.iter().map(|f| *f as f64 / 100.0).collect::<Vec<_>>()})
        })
        .collect();
    json!({"months": months, "series": series}).to_string()
}

pub async fn ledger_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<LedgerQuery>,
) -> PageResult {
    let filter = qs.filter();
    let rows = st.store.funds_ledger(&actor.scope, &filter).await?;
    let mut totals = LedgerTotals::default();
    let mut by: BTreeMap<String, LedgerTotals> = BTreeMap::new();
    for r in &rows {
        totals.add(r);
        by.entry(r.program_label.clone()).or_default().add(r);
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

fn ledger_workbook(rows: &[LedgerRow]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("资金台账")?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let headers = [
        "月份",
        "救助项目",
        "乡镇(街道)代码",
        "乡镇(街道)",
        "笔数",
        "应发金额(元)",
        "成功笔数",
        "已发金额(元)",
        "失败笔数",
        "失败金额(元)",
        "重发笔数",
        "重发金额(元)",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    let y = |f: Fen| f.0 as f64 / 100.0;
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_string(row, 0, &r.month)?;
        ws.write_string(row, 1, &r.program_label)?;
        ws.write_string(row, 2, &r.township_code)?;
        ws.write_string(row, 3, &r.township_name)?;
        ws.write_number(row, 4, r.lines as f64)?;
        ws.write_number_with_format(row, 5, y(r.planned), &money)?;
        ws.write_number(row, 6, r.paid_count as f64)?;
        ws.write_number_with_format(row, 7, y(r.paid), &money)?;
        ws.write_number(row, 8, r.failed_count as f64)?;
        ws.write_number_with_format(row, 9, y(r.failed), &money)?;
        ws.write_number(row, 10, r.reissue_count as f64)?;
        ws.write_number_with_format(row, 11, y(r.reissued), &money)?;
    }
    for c in 0..headers.len() {
        ws.set_column_width(c as u16, 14)?;
    }
    wb.save_to_buffer()
}

pub async fn ledger_xlsx(
    State(st): State<AppState>,
    PageUser(_, actor): PageUser,
    Query(qs): Query<LedgerQuery>,
) -> PageResult {
    let rows = st.store.funds_ledger(&actor.scope, &qs.filter()).await?;
    let bytes = ledger_workbook(&rows).map_err(|e| {
        PageError(AppError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("导出失败：{e}"),
        ))
    })?;
    st.store
        .audit_payroll_export(&actor, "payroll_ledger.xlsx", rows.len())
        .await?;
    Ok(download(BankFile {
        file_name: "资金发放台账.xlsx".into(),
        content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        bytes,
        lines: rows.len(),
        total: Fen(0),
    }))
}

// ---------------------------------------------------------------- bank templates

/// Who may configure bank templates: the role `Store::save_bank_template` requires.
fn can_configure_templates(actor: &Actor) -> bool {
    actor.role == Some(Role::CityAdmin)
}

/// The columns a new template starts with (the usual order of a bank's 代发 file).
const DEFAULT_COLUMNS: &[&str] = &[
    "batch_no",
    "line_no",
    "item",
    "period",
    "division",
    "name",
    "id_number",
    "account",
    "amount",
    "remark",
];

/// One template as the page shows it.
struct TemplateRow {
    t: BankTemplate,
    /// (key, title) in file order.
    columns: Vec<(String, String)>,
    header_line: String,
    example_file: String,
}

impl TemplateRow {
    fn new(t: BankTemplate, example: &PayrollBatch) -> Self {
        let header = t.header();
        let header_line = header.join(if t.format == "xlsx" { " | " } else { "," });
        TemplateRow {
            columns: t.columns.iter().cloned().zip(header).collect(),
            header_line,
            example_file: t.file_name_for(example),
            t,
        }
    }

    fn format_label(&self) -> &'static str {
        if self.t.format == "xlsx" {
            "Excel（xlsx）"
        } else {
            "CSV"
        }
    }

    fn encoding_label(&self) -> &'static str {
        match (self.t.format.as_str(), self.t.encoding.as_str()) {
            ("xlsx", _) => "—",
            (_, "gbk") => "GBK",
            _ => "UTF-8",
        }
    }

    fn unit_label(&self) -> &'static str {
        if self.t.amount_unit == "fen" {
            "分"
        } else {
            "元"
        }
    }
}

/// One column position of the form: the chosen key ("" = unused).
struct Slot {
    key: String,
    /// A key the form posted that no bank file knows (shown so the clerk can fix it).
    unknown: bool,
}

/// The template form as shown or as posted.
struct TemplateForm {
    /// The code of the template being edited; empty for a new one.
    editing: String,
    code: String,
    name: String,
    format: String,
    encoding: String,
    columns: Vec<String>,
    totals_line: bool,
    amount_unit: String,
    file_name: String,
    active: bool,
}

impl TemplateForm {
    fn blank() -> Self {
        TemplateForm {
            editing: String::new(),
            code: String::new(),
            name: String::new(),
            format: "csv".into(),
            encoding: "gbk".into(),
            columns: DEFAULT_COLUMNS.iter().map(|c| c.to_string()).collect(),
            totals_line: true,
            amount_unit: "yuan".into(),
            file_name: "{bank}_{batch_no}.{ext}".into(),
            active: true,
        }
    }

    fn of(t: &BankTemplate) -> Self {
        TemplateForm {
            editing: t.code.clone(),
            code: t.code.clone(),
            name: t.name.clone(),
            format: t.format.clone(),
            encoding: t.encoding.clone(),
            columns: t.columns.clone(),
            totals_line: t.totals_line,
            amount_unit: t.amount_unit.clone(),
            file_name: t.file_name.clone(),
            active: t.active,
        }
    }

    /// Reads the posted form: one `col` field per position, in order; checkboxes are
    /// present when ticked.
    fn posted(fields: Vec<(String, String)>) -> Self {
        let mut f = TemplateForm {
            columns: Vec::new(),
            totals_line: false,
            active: false,
            format: String::new(),
            encoding: String::new(),
            amount_unit: String::new(),
            file_name: String::new(),
            ..TemplateForm::blank()
        };
        for (k, v) in fields {
            match k.as_str() {
                "editing" => f.editing = v.trim().to_string(),
                "code" => f.code = v,
                "name" => f.name = v,
                "format" => f.format = v,
                "encoding" => f.encoding = v,
                "col" => f.columns.push(v.trim().to_string()),
                "totals_line" => f.totals_line = true,
                "amount_unit" => f.amount_unit = v,
                "file_name" => f.file_name = v,
                "active" => f.active = true,
                _ => {}
            }
        }
        f
    }

    fn input(&self) -> BankTemplateInput {
        BankTemplateInput {
            code: self.code.clone(),
            name: self.name.clone(),
            format: self.format.clone(),
            encoding: self.encoding.clone(),
            columns: self
                .columns
                .iter()
                .filter(|c| !c.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
            totals_line: self.totals_line,
            amount_unit: self.amount_unit.clone(),
            file_name: self.file_name.clone(),
            active: self.active,
        }
    }

    /// The column positions: the chosen keys in order (unused positions dropped), then
    /// empty positions up to one per known column.
    fn slots(&self) -> Vec<Slot> {
        let known = |k: &str| BANK_COLUMNS.iter().any(|(c, _)| *c == k);
        let mut slots: Vec<Slot> = self
            .columns
            .iter()
            .filter(|c| !c.is_empty())
            .map(|c| Slot {
                key: c.clone(),
                unknown: !known(c),
            })
            .collect();
        while slots.len() < BANK_COLUMNS.len() {
            slots.push(Slot {
                key: String::new(),
                unknown: false,
            });
        }
        slots
    }
}

#[derive(Template)]
#[template(path = "payroll_templates.html")]
struct TemplatesPage {
    nav: Nav,
    rows: Vec<TemplateRow>,
    example_label: String,
    can_edit: bool,
    form: TemplateForm,
    slots: Vec<Slot>,
    choices: Vec<(&'static str, &'static str)>,
    notice: Option<String>,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
}

impl TemplatesPage {
    fn field_error(&self, field: &str) -> Option<&String> {
        self.field_errors.get(field)
    }
}

#[derive(Deserialize, Default)]
pub struct TemplatesQuery {
    code: Option<String>,
    /// The code of the template just saved; the message names it as stored.
    saved: Option<String>,
}

/// The batch the examples are rendered for: this month's 城市低保 batch of the viewer's
/// township (or of a placeholder township for wider scopes).
fn example_batch(s: &SessionInfo) -> PayrollBatch {
    let month = YearMonth::of(crate::standards::today());
    let (code, name) = if s.user.scope_code.len() == 9 {
        (s.user.scope_code.clone(), s.user.scope_name.clone())
    } else {
        ("XXXXXXXXX".to_string(), "某乡镇".to_string())
    };
    let program = Program::UrbanDibao;
    PayrollBatch {
        id: 0,
        batch_no: format!("{}-{code}-{}", month.compact(), program.as_str()),
        program: program.as_str().to_string(),
        program_label: program.label().to_string(),
        township_code: code,
        township_name: name,
        month: month.to_string(),
        status: "signed_off".into(),
        status_label: "",
        line_count: 0,
        planned: Fen(0),
        back_pay: Fen(0),
        reissue_count: 0,
        reissue: Fen(0),
        returned_count: 0,
        paid_count: 0,
        paid: Fen(0),
        failed_count: 0,
        failed: Fen(0),
        generated_by: String::new(),
        generated_at: String::new(),
        signed_off_by: None,
        signed_off_at: None,
        exported_at: None,
        export_count: 0,
        reconciled_at: None,
        closed_at: None,
    }
}

async fn templates_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    form: TemplateForm,
    notice: Option<String>,
    error: Option<(StatusCode, String, BTreeMap<String, String>)>,
) -> PageResult {
    let example = example_batch(s);
    let rows = st
        .store
        .bank_templates()
        .await?
        .into_iter()
        .map(|t| TemplateRow::new(t, &example))
        .collect();
    let (code, error, field_errors) = match error {
        Some((c, m, f)) => (c, Some(m), f),
        None => (StatusCode::OK, None, BTreeMap::new()),
    };
    let page = TemplatesPage {
        nav: Nav::new(s, "payroll"),
        rows,
        example_label: format!(
            "{}{}{}（批次号{}）",
            example.township_name, example.month, example.program_label, example.batch_no
        ),
        can_edit: can_configure_templates(actor),
        slots: form.slots(),
        form,
        choices: BANK_COLUMNS.to_vec(),
        notice,
        error,
        field_errors,
    };
    Ok(with_status(render(&page)?, code))
}

pub async fn templates_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<TemplatesQuery>,
) -> PageResult {
    let form = match qs.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) if can_configure_templates(&actor) => {
            let templates = st.store.bank_templates().await?;
            let t = templates
                .iter()
                .find(|t| t.code == code)
                .ok_or_else(|| PageError(AppError::not_found("未找到该银行代发模板")))?;
            TemplateForm::of(t)
        }
        _ => TemplateForm::blank(),
    };
    let notice = match qs.saved.as_deref() {
        Some(code) => st
            .store
            .bank_templates()
            .await?
            .into_iter()
            .find(|t| t.code == code)
            .map(|t| format!("已保存银行代发模板“{}”（{}）", t.name, t.code)),
        None => None,
    };
    templates_render(&st, &s, &actor, form, notice, None).await
}

pub async fn templates_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(fields): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let form = TemplateForm::posted(fields);
    let input = form.input();
    let code = input.code.trim().to_string();
    // The store saves by code (create or update): a new template must not silently
    // replace an existing one. Others are refused by the store's role check below.
    let taken = can_configure_templates(&actor)
        && code != form.editing
        && st
            .store
            .bank_templates()
            .await?
            .iter()
            .any(|t| t.code == code);
    let result = if taken {
        Err(StoreError::field(
            "code",
            format!("模板代码“{code}”已被使用；如需修改该模板，请在列表中点“编辑”"),
        ))
    } else {
        st.store.save_bank_template(&actor, &input).await
    };
    match result {
        Ok(t) => Ok(see_other(&with_query(
            "/payroll/bank-templates",
            &[("saved", t.code)],
        ))),
        Err(StoreError::Validation { message, fields }) => {
            templates_render(
                &st,
                &s,
                &actor,
                form,
                None,
                Some((StatusCode::UNPROCESSABLE_ENTITY, message, fields)),
            )
            .await
        }
        Err(e) => {
            let (status, message) = user_error(e)?;
            templates_render(
                &st,
                &s,
                &actor,
                TemplateForm::blank(),
                None,
                Some((status, message, BTreeMap::new())),
            )
            .await
        }
    }
}

// ---------------------------------------------------------------- JSON API

fn ok(v: impl serde::Serialize) -> ApiResult {
    Ok(Json(v).into_response())
}

#[derive(Deserialize, Default)]
pub struct ApiBatchQuery {
    month: Option<String>,
    program: Option<String>,
    status: Option<String>,
    within: Option<String>,
}

pub async fn api_batches(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<ApiBatchQuery>,
) -> ApiResult {
    let items = st
        .store
        .list_batches(
            &actor.scope,
            &BatchFilter {
                month: qs.month,
                program: qs.program,
                status: qs.status,
                within: qs.within,
            },
        )
        .await?;
    ok(json!({"total": items.len(), "items": items}))
}

#[derive(Deserialize)]
pub struct ApiGenerate {
    month: String,
    #[serde(default)]
    program: Option<String>,
    #[serde(default)]
    within: Option<String>,
}

pub async fn api_generate(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<ApiGenerate>,
) -> ApiResult {
    let month = YearMonth::parse(&body.month)
        .map_err(|_| StoreError::field("month", "月份格式不正确，应为如2026-11的年月"))?;
    let program = body
        .program
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<Program>())
        .transpose()
        .map_err(|e| StoreError::field("program", e.to_string()))?;
    let out = st
        .store
        .generate_payroll(
            &actor,
            &GenerateRequest {
                month,
                program,
                within: body.within,
            },
        )
        .await?;
    let status = if out.created.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(out)).into_response())
}

pub async fn api_batch(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    ok(st.store.get_batch(&actor.scope, id).await?)
}

#[derive(Deserialize, Default)]
pub struct ApiLinesQuery {
    status: Option<String>,
    kind: Option<String>,
    /// `true`: only lines without a bank account.
    missing_account: Option<bool>,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub async fn api_lines(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiQuery(qs): ApiQuery<ApiLinesQuery>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    let (mut items, total) = st
        .store
        .batch_lines(
            &actor.scope,
            id,
            &LineFilter {
                status: qs.status,
                kind: qs.kind,
                missing_account: qs.missing_account.unwrap_or(false),
                limit: qs.limit,
                offset: qs.offset,
            },
        )
        .await?;
    if !full_identity(&actor) {
        items = items.into_iter().map(PayrollLine::masked).collect();
    }
    ok(json!({"total": total, "items": items}))
}

pub async fn api_diff(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    let mut d = st.store.batch_diff(&actor.scope, id).await?;
    if !full_identity(&actor) {
        d.extras = d.extras.into_iter().map(PayrollLine::masked).collect();
        for e in &mut d.entries {
            e.beneficiary_id_number = minzheng_store::mask_id(&e.beneficiary_id_number);
        }
    }
    ok(d)
}

pub async fn api_regenerate(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    match st.store.regenerate_batch(&actor, id).await? {
        Some(b) => ok(b),
        None => ok(json!({"removed": true, "message": "本月已无应发对象，草稿批次已删除"})),
    }
}

#[derive(Debug, Deserialize)]
pub struct SignOffQuery {
    /// The batch's `generated_at` as the director reviewed it (optional).
    reviewed: Option<String>,
}

pub async fn api_sign_off(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiQuery(qs): ApiQuery<SignOffQuery>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    let reviewed = qs.reviewed.as_deref().filter(|r| !r.is_empty());
    ok(st.store.sign_off_reviewed(&actor, id, reviewed).await?)
}

pub async fn api_close(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    ok(st.store.close_batch(&actor, id).await?)
}

#[derive(Deserialize)]
pub struct ApiBankFile {
    /// Missing is refused by the store (after the jurisdiction check).
    #[serde(default)]
    template: String,
}

pub async fn api_bank_file(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ApiBankFile>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    Ok(download(
        st.store
            .export_bank_file(&actor, id, &body.template)
            .await?,
    ))
}

pub async fn api_return(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    // Jurisdiction first: a batch outside it is not found, whatever the body.
    st.store.get_batch(&actor.scope, id).await?;
    let mp = <Multipart as axum::extract::FromRequest<AppState>>::from_request(req, &st)
        .await
        .map_err(|_| {
            AppError::from(StoreError::field(
                "file",
                "请以 multipart/form-data 上传回盘文件（字段名 file）",
            ))
        })?;
    let (name, data) = read_file(mp).await?;
    ok(st.store.import_return(&actor, id, &name, &data).await?)
}

#[derive(Deserialize, Default)]
pub struct ApiExceptionsQuery {
    status: Option<String>,
}

pub async fn api_exceptions(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<ApiExceptionsQuery>,
) -> ApiResult {
    let mut items = st
        .store
        .list_exceptions(&actor.scope, qs.status.as_deref())
        .await?;
    if !full_identity(&actor) {
        items = items.into_iter().map(PaymentException::masked).collect();
    }
    ok(json!({"total": items.len(), "items": items}))
}

pub async fn api_correct(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExceptionCorrection>,
) -> ApiResult {
    let id = parse_id(&id, "该退票记录")?;
    ok(st.store.correct_exception(&actor, id, &body).await?)
}

pub async fn api_back_pay(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    let items = st.store.list_back_pay(&actor.scope).await?;
    ok(json!({"total": items.len(), "items": items}))
}

pub async fn api_request_back_pay(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<NewBackPay>,
) -> ApiResult {
    let a = st.store.request_back_pay(&actor, &body).await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

#[derive(Deserialize)]
pub struct ApiDecision {
    /// Required: `true` approves, `false` rejects. Read as any JSON value so that a
    /// missing or non-boolean decision is refused with 422 after the jurisdiction check.
    #[serde(default)]
    approve: Option<serde_json::Value>,
}

pub async fn api_decide_back_pay(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ApiDecision>,
) -> ApiResult {
    let id = parse_id(&id, "该补发记录")?;
    // Jurisdiction first: a record outside it is not found, whatever the body.
    st.store.get_back_pay(&actor.scope, id).await?;
    let approve = match body.approve {
        Some(serde_json::Value::Bool(approve)) => approve,
        _ => {
            return Err(StoreError::Validation {
                message: "请明确审批结论：批准或不批准".into(),
                fields: BTreeMap::from([(
                    "approve".to_string(),
                    "应为 true（批准）或 false（不批准）".to_string(),
                )]),
            }
            .into())
        }
    };
    ok(st.store.decide_back_pay(&actor, id, approve).await?)
}

pub async fn api_ledger(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<LedgerQuery>,
) -> ApiResult {
    let items = st.store.funds_ledger(&actor.scope, &qs.filter()).await?;
    ok(json!({"total": items.len(), "items": items}))
}

pub async fn api_templates(State(st): State<AppState>, ApiUser(_, _actor): ApiUser) -> ApiResult {
    let items = st.store.bank_templates().await?;
    ok(json!({"items": items, "columns": minzheng_store::BANK_COLUMNS}))
}

pub async fn api_save_template(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<BankTemplateInput>,
) -> ApiResult {
    ok(st.store.save_bank_template(&actor, &body).await?)
}
