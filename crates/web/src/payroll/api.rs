//! The payroll's JSON API under `/api/v1/payroll`.

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use minzheng_app::Error;
use minzheng_domain::payroll::{
    BankColumn, BankTemplateInput, BatchFilter, ExceptionCorrection, GenerateForm, LedgerFilter,
    LineFilter, NewBackPay,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

use super::{bank_file, read_file, ApiResult};
use crate::api::{ApiJson, ApiQuery};
use crate::error::{parse_id, AppError};
use crate::session::ApiUser;
use crate::AppState;

fn ok(v: impl serde::Serialize) -> ApiResult {
    Ok(Json(v).into_response())
}

pub(super) async fn api_batches(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<BatchFilter>,
) -> ApiResult {
    let items = st.app.payroll().list(&actor, &qs).await?;
    ok(json!({"total": items.len(), "items": items}))
}

pub(super) async fn api_generate(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<GenerateForm>,
) -> ApiResult {
    let out = st.app.payroll().generate_form(&actor, &body).await?;
    let status = if out.created.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(out)).into_response())
}

pub(super) async fn api_batch(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    ok(st.app.payroll().get(&actor, id).await?)
}

pub(super) async fn api_lines(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiQuery(qs): ApiQuery<LineFilter>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    let (items, total) = st.app.payroll().lines(&actor, id, &qs).await?;
    ok(json!({"total": total, "items": items}))
}

pub(super) async fn api_bank_files(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    ok(json!({"items": st.app.bank_files().downloads(&actor, id).await?}))
}

pub(super) async fn api_return_files(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    ok(json!({"items": st.app.bank_files().return_files(&actor, id).await?}))
}

pub(super) async fn api_diff(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    ok(st.app.payroll().diff(&actor, id).await?)
}

pub(super) async fn api_regenerate(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    match st.app.payroll().regenerate(&actor, id).await? {
        Some(b) => ok(b),
        None => ok(json!({"removed": true, "message": "本月已无应发对象，草稿批次已删除"})),
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct SignOffQuery {
    /// The batch's `generated_at` as the director reviewed it (optional).
    reviewed: Option<String>,
}

pub(super) async fn api_sign_off(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiQuery(qs): ApiQuery<SignOffQuery>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    let reviewed = qs.reviewed.as_deref().filter(|r| !r.is_empty());
    ok(st.app.payroll().sign_off(&actor, id, reviewed).await?)
}

#[derive(Deserialize)]
pub struct SignOffAllBody {
    /// Each batch with the `generated_at` the review showed.
    batches: Vec<ReviewedBatch>,
}

#[derive(Deserialize)]
pub struct ReviewedBatch {
    id: i64,
    #[serde(default)]
    reviewed: String,
}

/// Signs several drafts off at once, all or none (the month's review).
pub(super) async fn api_sign_off_all(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<SignOffAllBody>,
) -> ApiResult {
    let reviewed: Vec<(i64, String)> = body
        .batches
        .into_iter()
        .map(|b| (b.id, b.reviewed))
        .collect();
    ok(json!({"items": st.app.payroll().sign_off_all(&actor, &reviewed).await?}))
}

pub(super) async fn api_close(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    ok(st.app.payroll().close(&actor, id).await?)
}

#[derive(Deserialize)]
pub(super) struct ApiBankFile {
    /// Missing is refused by the use case (after the jurisdiction check).
    #[serde(default)]
    template: String,
}

pub(super) async fn api_bank_file(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ApiBankFile>,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    Ok(bank_file(
        st.app
            .bank_files()
            .export(&actor, id, &body.template)
            .await?,
    ))
}

pub(super) async fn api_return(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> ApiResult {
    let id = parse_id(&id, "该发放批次")?;
    // Jurisdiction first: a batch outside it is not found, whatever the body.
    st.app.payroll().get(&actor, id).await?;
    let mp = <Multipart as axum::extract::FromRequest<AppState>>::from_request(req, &st)
        .await
        .map_err(|_| {
            AppError::from(Error::field(
                "file",
                "请以 multipart/form-data 上传回盘文件（字段名 file）",
            ))
        })?;
    let (name, data) = read_file(mp).await?;
    ok(st
        .app
        .bank_files()
        .import_return(&actor, id, &name, &data)
        .await?)
}

#[derive(Deserialize, Default)]
pub(super) struct ApiExceptionsQuery {
    status: Option<String>,
}

pub(super) async fn api_exceptions(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<ApiExceptionsQuery>,
) -> ApiResult {
    let items = st
        .app
        .payroll()
        .exceptions(&actor, qs.status.as_deref())
        .await?;
    ok(json!({"total": items.len(), "items": items}))
}

pub(super) async fn api_correct(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ExceptionCorrection>,
) -> ApiResult {
    let id = parse_id(&id, "该退票记录")?;
    ok(st
        .app
        .payroll()
        .correct_exception(&actor, id, &body)
        .await?)
}

pub(super) async fn api_back_pay(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
) -> ApiResult {
    let items = st.app.payroll().back_pay_list(&actor).await?;
    ok(json!({"total": items.len(), "items": items}))
}

pub(super) async fn api_request_back_pay(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<NewBackPay>,
) -> ApiResult {
    let a = st.app.payroll().request_back_pay(&actor, &body).await?;
    Ok((StatusCode::CREATED, Json(a)).into_response())
}

#[derive(Deserialize)]
pub(super) struct ApiDecision {
    /// Required: `true` approves, `false` rejects. Read as any JSON value so that a
    /// missing or non-boolean decision is refused with 422 after the jurisdiction check.
    #[serde(default)]
    approve: Option<serde_json::Value>,
}

pub(super) async fn api_decide_back_pay(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ApiDecision>,
) -> ApiResult {
    let id = parse_id(&id, "该补发记录")?;
    let payroll = st.app.payroll();
    // Jurisdiction first: a record outside it is not found, whatever the body.
    payroll.back_pay(&actor, id).await?;
    let approve = match body.approve {
        Some(serde_json::Value::Bool(approve)) => approve,
        _ => {
            return Err(Error::Validation {
                message: "请明确审批结论：批准或不批准".into(),
                fields: BTreeMap::from([(
                    "approve".to_string(),
                    "应为 true（批准）或 false（不批准）".to_string(),
                )]),
            }
            .into())
        }
    };
    ok(payroll.decide_back_pay(&actor, id, approve).await?)
}

pub(super) async fn api_ledger(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<LedgerFilter>,
) -> ApiResult {
    let items = st.app.payroll().ledger(&actor, &qs).await?;
    ok(json!({"total": items.len(), "items": items}))
}

pub(super) async fn api_templates(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
) -> ApiResult {
    let items = st.app.bank_files().templates(&actor).await?;
    ok(json!({"items": items, "columns": BankColumn::choices()}))
}

pub(super) async fn api_save_template(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<BankTemplateInput>,
) -> ApiResult {
    ok(st.app.bank_files().save_template(&actor, &body).await?)
}
