//! 殡葬管理 and 追回: the funeral ledger with the form a clerk records a death on, a death's
//! page with what it stopped and the recoveries it opened, and the recovery list where the
//! office records money recovered or asks for a write-off and the director decides. The
//! JSON twins live under `/api/v1/funerals` and `/api/v1/recoveries`.
//!
//! Pages post back and redirect (303) on success with a short code; refusals re-render the
//! page with the Chinese message and what was typed (403 / 409 / 422).

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use minzheng_app::funerals::{FuneralDetail, RecoveryTotals};
use minzheng_app::users::SessionInfo;
use minzheng_app::{Authorize, Error, Permission};
use minzheng_domain::funerals::{
    recovery_status_filter, CertificateKind, DeathSource, Disposal, FuneralRecord, NewDeath,
    Recovery, RecoveryAction, RecoveryStatus,
};
use minzheng_domain::{Actor, YearMonth};
use serde::Deserialize;
use serde_json::json;

use crate::api::{ApiJson, ApiQuery};
use crate::error::parse_id;
use crate::pages::{beijing_time, render, Nav, PageForm};
use crate::payroll::{
    form_map, see_other, user_error_fields, with_status, ApiResult, FieldRefusal, PageResult,
};
use crate::session::{ApiUser, PageUser};
use crate::standards::today;
use crate::AppState;

/// The pages.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/funerals", get(ledger_page).post(ledger_post))
        .route(
            "/funerals/import",
            post(import_post).layer(axum::extract::DefaultBodyLimit::max(LIST_LIMIT + 64 * 1024)),
        )
        .route("/funerals/template.xlsx", get(template_download))
        .route("/funerals/{id}", get(funeral_page))
        .route("/recoveries", get(recoveries_page))
        .route("/recoveries/{id}", post(recovery_post))
}

/// The API under `/api/v1`.
pub fn api() -> Router<AppState> {
    Router::new()
        .route("/funerals", get(api_funerals).post(api_record))
        .route(
            "/funerals/import",
            post(api_import).layer(axum::extract::DefaultBodyLimit::max(LIST_LIMIT + 64 * 1024)),
        )
        .route("/funerals/{id}", get(api_funeral))
        .route("/recoveries", get(api_recoveries))
        .route("/recoveries/{id}/steps", post(api_step))
}

/// Largest death list accepted.
const LIST_LIMIT: usize = 16 * 1024 * 1024;

// ---------------------------------------------------------------- the ledger

#[derive(Template)]
#[template(path = "funeral_list.html")]
struct LedgerPage {
    nav: Nav,
    items: Vec<FuneralRecord>,
    month: String,
    can_record: bool,
    /// The form: empty, or what was typed into a refused one.
    form: NewDeath,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
    certificate_kinds: &'static [CertificateKind],
    disposals: &'static [Disposal],
    notice: Option<String>,
    upload_csrf: String,
}

impl LedgerPage {
    fn field_error(&self, field: &str) -> Option<&String> {
        self.field_errors.get(field)
    }
}

#[derive(Deserialize, Default)]
pub struct LedgerQuery {
    /// `YYYY-MM`: deaths in that month.
    month: Option<String>,
    /// After an import: how many deaths were recorded.
    imported: Option<String>,
}

async fn ledger_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    month: String,
    form: NewDeath,
    refusal: Option<FieldRefusal>,
    notice: Option<String>,
) -> PageResult {
    let m = YearMonth::parse(month.trim()).ok();
    let items = st.app.funerals().list(actor, m).await?;
    let (code, error, field_errors) = match refusal {
        Some((c, m, f)) => (c, Some(m), f),
        None => (StatusCode::OK, None, BTreeMap::new()),
    };
    let page = LedgerPage {
        nav: Nav::new(s, "funerals"),
        items,
        month,
        can_record: actor.may(Permission::RecordDeaths),
        form,
        error,
        field_errors,
        certificate_kinds: CertificateKind::ALL,
        disposals: Disposal::ALL,
        notice,
        upload_csrf: s.csrf_token.clone(),
    };
    Ok(with_status(render(&page)?, code))
}

async fn ledger_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<LedgerQuery>,
) -> PageResult {
    let month = qs.month.unwrap_or_default();
    let notice = crate::payroll::int(&qs.imported).map(|n| {
        format!("已导入死亡名单{n}人：各人的待遇已按规定停发，死亡以后已发放的月份已开立追回")
    });
    ledger_render(&st, &s, &actor, month, NewDeath::default(), None, notice).await
}

fn death_from_form(f: &std::collections::HashMap<String, String>) -> NewDeath {
    let get = |k: &str| f.get(k).cloned().unwrap_or_default();
    NewDeath {
        id_number: get("id_number"),
        name: get("name"),
        death_date: get("death_date"),
        death_place: get("death_place"),
        certificate_kind: get("certificate_kind"),
        certificate_no: get("certificate_no"),
        disposal: get("disposal"),
        cremation_no: get("cremation_no"),
        funeral_home: get("funeral_home"),
        township_code: get("township_code"),
        note: get("note"),
    }
}

async fn ledger_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let d = death_from_form(&form_map(form));
    let result = match crate::places::resolve(
        &st,
        &actor,
        "township_code",
        &d.township_code,
        crate::places::levels("township"),
    )
    .await
    {
        Ok(code) => {
            let resolved = NewDeath {
                township_code: code,
                ..d.clone()
            };
            st.app.funerals().record(&actor, &resolved, today()).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(out) => Ok(see_other(&format!(
            "/funerals/{}?saved=recorded",
            out.record.id
        ))),
        Err(e) => {
            let refusal = user_error_fields(e)?;
            ledger_render(&st, &s, &actor, String::new(), d, Some(refusal), None).await
        }
    }
}

/// A death list upload: the file and its source.
async fn read_list(
    mut mp: axum::extract::Multipart,
) -> Result<(DeathSource, String, Vec<u8>), Error> {
    let broken = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::field("file", "死亡名单过大（上限16 MB），请分批导入")
        } else {
            Error::field("file", "上传内容不完整，请重新选择文件")
        }
    };
    let mut source = DeathSource::FuneralHome;
    let mut file = None;
    while let Some(field) = mp.next_field().await.map_err(broken)? {
        match field.name() {
            Some("source") => {
                let v = field.text().await.map_err(broken)?;
                source = match v.trim() {
                    "police" => DeathSource::Police,
                    "funeral_home" => DeathSource::FuneralHome,
                    _ => return Err(Error::field("source", "请选择名单来源：殡仪馆或公安")),
                };
            }
            Some("file") => {
                let name = field.file_name().unwrap_or("死亡名单").to_string();
                let data = Vec::from(field.bytes().await.map_err(broken)?);
                if !data.is_empty() {
                    file = Some((name, data));
                }
            }
            _ => {}
        }
    }
    let (name, data) = file.ok_or_else(|| Error::field("file", "请选择要导入的死亡名单文件"))?;
    Ok((source, name, data))
}

async fn import_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    crate::api::Upload(mp): crate::api::Upload,
) -> PageResult {
    let result = match read_list(mp).await {
        Ok((source, name, data)) => {
            st.app
                .funerals()
                .import(&actor, source, &name, &data, today())
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(out) => Ok(see_other(&format!("/funerals?imported={}", out.len()))),
        Err(e) => {
            let refusal = user_error_fields(e)?;
            ledger_render(
                &st,
                &s,
                &actor,
                String::new(),
                NewDeath::default(),
                Some(refusal),
                None,
            )
            .await
        }
    }
}

async fn template_download(PageUser(_, _actor): PageUser) -> PageResult {
    let bytes = minzheng_app::formats::deaths::template()
        .map_err(|e| Error::Internal(format!("模板生成失败：{e}")))?;
    Ok(crate::payroll::download(
        "死亡名单模板.xlsx",
        minzheng_app::payroll::Workbook::CONTENT_TYPE,
        bytes,
    ))
}

#[derive(Template)]
#[template(path = "funeral_page.html")]
struct FuneralPage {
    nav: Nav,
    d: FuneralDetail,
    recorded_at: String,
    notice: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct SavedQuery {
    /// Success code: `recorded`, `recovered`, `write_off_requested`, `written_off`, `reopened`.
    saved: Option<String>,
    status: Option<String>,
}

async fn funeral_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    Query(qs): Query<SavedQuery>,
) -> PageResult {
    let id = parse_id(&id, "该殡葬记录")?;
    let d = st.app.funerals().get(&actor, id).await?;
    let notice = match qs.saved.as_deref() {
        Some("recorded") => Some("已登记死亡信息：该人员的待遇已按规定停发，以后月份不再发放"),
        _ => None,
    };
    let page = FuneralPage {
        nav: Nav::new(&s, "funerals"),
        recorded_at: beijing_time(&d.record.recorded_at),
        d,
        notice,
    };
    render(&page)
}

// ---------------------------------------------------------------- recoveries

#[derive(Template)]
#[template(path = "recovery_list.html")]
struct RecoveriesPage {
    nav: Nav,
    items: Vec<Recovery>,
    totals: RecoveryTotals,
    status: String,
    statuses: &'static [RecoveryStatus],
    can_handle: bool,
    can_approve: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    /// The recovery a refused step was for, and the note typed.
    typed: Option<(i64, String)>,
}

impl RecoveriesPage {
    fn note_for(&self, r: &Recovery) -> &str {
        match &self.typed {
            Some((id, note)) if *id == r.id => note,
            _ => "",
        }
    }
}

async fn recoveries_render(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    qs: SavedQuery,
    refused: Option<(i64, String, FieldRefusal)>,
) -> PageResult {
    let status = qs.status.unwrap_or_default();
    let wanted = recovery_status_filter(Some(&status));
    let funerals = st.app.funerals();
    let items = funerals.recoveries(actor, &wanted).await?;
    let totals = funerals.recovery_totals(actor).await?;
    let (code, error, typed) = match refused {
        Some((id, note, (c, m, _))) => (c, Some(m), Some((id, note))),
        None => (StatusCode::OK, None, None),
    };
    let notice = match qs.saved.as_deref() {
        Some("recovered") => Some("已登记追回"),
        Some("write_off_requested") => Some("已申请核销，待民政办主任审批"),
        Some("written_off") => Some("已批准核销"),
        Some("open") => Some("已驳回核销申请，该笔款项仍待追回"),
        _ => None,
    };
    let page = RecoveriesPage {
        nav: Nav::new(s, "funerals"),
        items,
        totals,
        status,
        statuses: RecoveryStatus::ALL,
        can_handle: actor.may(Permission::HandleRecoveries),
        can_approve: actor.may(Permission::ApproveWriteOff),
        notice,
        error,
        typed,
    };
    Ok(with_status(render(&page)?, code))
}

async fn recoveries_page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<SavedQuery>,
) -> PageResult {
    recoveries_render(&st, &s, &actor, qs, None).await
}

async fn recovery_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Path(id): Path<String>,
    PageForm(form): PageForm<Vec<(String, String)>>,
) -> PageResult {
    let id = parse_id(&id, "该追回记录")?;
    let f = form_map(form);
    let note = f.get("note").cloned().unwrap_or_default();
    let result = match f.get("action").and_then(|a| RecoveryAction::parse(a)) {
        Some(a) => st.app.funerals().step(&actor, id, a, &note).await,
        None => Err(Error::validation("请选择要办理的操作")),
    };
    match result {
        Ok(r) => Ok(see_other(&format!(
            "/recoveries?saved={}",
            r.status.as_str()
        ))),
        Err(e) => {
            let refusal = user_error_fields(e)?;
            recoveries_render(
                &st,
                &s,
                &actor,
                SavedQuery::default(),
                Some((id, note, refusal)),
            )
            .await
        }
    }
}

// ---------------------------------------------------------------- API

fn ok(v: impl serde::Serialize) -> ApiResult {
    Ok(Json(v).into_response())
}

#[derive(Deserialize, Default)]
pub struct MonthQuery {
    month: Option<String>,
}

async fn api_funerals(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<MonthQuery>,
) -> ApiResult {
    let month = match qs.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        None => None,
        Some(m) => {
            Some(YearMonth::parse(m).map_err(|_| Error::field("month", "月份格式应为如2026-03"))?)
        }
    };
    let items = st.app.funerals().list(&actor, month).await?;
    ok(json!({"total": items.len(), "items": items}))
}

async fn api_record(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<NewDeath>,
) -> ApiResult {
    let out = st.app.funerals().record(&actor, &body, today()).await?;
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

async fn api_import(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    crate::api::Upload(mp): crate::api::Upload,
) -> ApiResult {
    let (source, name, data) = read_list(mp).await?;
    let out = st
        .app
        .funerals()
        .import(&actor, source, &name, &data, today())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"recorded": out.len(), "items": out})),
    )
        .into_response())
}

async fn api_funeral(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    let id = parse_id(&id, "该殡葬记录")?;
    ok(st.app.funerals().get(&actor, id).await?)
}

#[derive(Deserialize, Default)]
pub struct StatusQuery {
    status: Option<String>,
}

async fn api_recoveries(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<StatusQuery>,
) -> ApiResult {
    let wanted = recovery_status_filter(qs.status.as_deref());
    let funerals = st.app.funerals();
    let items = funerals.recoveries(&actor, &wanted).await?;
    let totals = funerals.recovery_totals(&actor).await?;
    ok(json!({"total": items.len(), "totals": totals, "items": items}))
}

#[derive(Deserialize)]
pub struct StepBody {
    /// `recovered`, `request_write_off`, `approve_write_off` or `reject_write_off`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    note: String,
}

async fn api_step(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StepBody>,
) -> ApiResult {
    let id = parse_id(&id, "该追回记录")?;
    // Another jurisdiction's recovery is not found, whatever the body says.
    st.app.funerals().recovery(&actor, id).await?;
    let action = RecoveryAction::parse(body.action.trim()).ok_or_else(|| {
        Error::field(
            "action",
            "操作应为 recovered、request_write_off、approve_write_off 或 reject_write_off",
        )
    })?;
    ok(st
        .app
        .funerals()
        .step(&actor, id, action, &body.note)
        .await?)
}
