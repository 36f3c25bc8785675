//! 核对数据: the lists received from other departments that concern the user's jurisdiction,
//! the upload form (city and county users), and each kind's template. The JSON twins are
//! `/api/v1/lists` and `/api/v1/lists/import`. Matches appear as findings on 数据比对.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use minzheng_app::users::SessionInfo;
use minzheng_app::{Authorize, Error, Permission};
use minzheng_domain::lists::{ListBatch, ListKind};
use minzheng_domain::Actor;
use serde::Deserialize;
use serde_json::json;

use crate::pages::{beijing_time, render, Nav};
use crate::payroll::{
    see_other, user_error_fields, with_status, ApiResult, FieldRefusal, PageResult,
};
use crate::session::{ApiUser, PageUser};
use crate::standards::today;
use crate::AppState;

/// Largest list accepted.
const LIST_LIMIT: usize = 32 * 1024 * 1024;

/// The pages.
pub fn pages() -> Router<AppState> {
    Router::new()
        .route("/checks/lists", get(page))
        .route(
            "/checks/lists/import",
            post(import_post).layer(axum::extract::DefaultBodyLimit::max(LIST_LIMIT + 64 * 1024)),
        )
        .route("/checks/lists/template.xlsx", get(template_download))
}

/// The API under `/api/v1`.
pub fn api() -> Router<AppState> {
    Router::new().route("/lists", get(api_list)).route(
        "/lists/import",
        post(api_import).layer(axum::extract::DefaultBodyLimit::max(LIST_LIMIT + 64 * 1024)),
    )
}

#[derive(Template)]
#[template(path = "list_batches.html")]
struct ListsPage {
    nav: Nav,
    /// Each list, when it was imported (Beijing time) and by whom (in words).
    items: Vec<(ListBatch, String, String)>,
    can_import: bool,
    kinds: &'static [ListKind],
    kind: String,
    received_on: String,
    error: Option<String>,
    field_errors: BTreeMap<String, String>,
    notice: Option<String>,
    upload_csrf: String,
}

impl ListsPage {
    fn field_error(&self, field: &str) -> Option<&String> {
        self.field_errors.get(field)
    }
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    /// After an import: how many rows the list had.
    imported: Option<String>,
    kind: Option<String>,
}

async fn render_page(
    st: &AppState,
    s: &SessionInfo,
    actor: &Actor,
    kind: String,
    refusal: Option<FieldRefusal>,
    notice: Option<String>,
) -> PageResult {
    let items = st
        .app
        .lists()
        .batches(actor)
        .await?
        .into_iter()
        .map(|b| {
            let at = beijing_time(&b.imported_at);
            let by = crate::pages::actor_label(&b.imported_by).to_string();
            (b, at, by)
        })
        .collect();
    let (code, error, field_errors) = match refusal {
        Some((c, m, f)) => (c, Some(m), f),
        None => (StatusCode::OK, None, BTreeMap::new()),
    };
    let page = ListsPage {
        nav: Nav::new(s, "checks"),
        items,
        can_import: actor.may(Permission::ImportLists),
        kinds: ListKind::ALL,
        kind,
        received_on: today().to_string(),
        error,
        field_errors,
        notice,
        upload_csrf: s.csrf_token.clone(),
    };
    Ok(with_status(render(&page)?, code))
}

async fn page(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    Query(qs): Query<PageQuery>,
) -> PageResult {
    let notice = crate::payroll::int(&qs.imported).map(|n| {
        format!("已导入{n}行核对数据；运行数据比对后，比中的保障对象列入疑点待核实（名单不会直接修改户籍台账）")
    });
    render_page(&st, &s, &actor, qs.kind.unwrap_or_default(), None, notice).await
}

/// A list upload: its kind, the date it was received and the file.
async fn read_upload(
    mut mp: axum::extract::Multipart,
) -> Result<(ListKind, NaiveDate, String, Vec<u8>), Error> {
    let broken = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::field("file", "核对数据文件过大（上限32 MB），请分批导入")
        } else {
            Error::field("file", "上传内容不完整，请重新选择文件")
        }
    };
    let mut kind = None;
    let mut received = None;
    let mut file = None;
    while let Some(field) = mp.next_field().await.map_err(broken)? {
        match field.name() {
            Some("kind") => {
                let v = field.text().await.map_err(broken)?;
                kind = Some(
                    ListKind::parse_code_or_label(&v)
                        .ok_or_else(|| Error::field("kind", "请选择核对数据的种类"))?,
                );
            }
            Some("received_on") => {
                let v = field.text().await.map_err(broken)?;
                received = Some(
                    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
                        .map_err(|_| Error::field("received_on", "接收日期格式应为如2026-03-01"))?,
                );
            }
            Some("file") => {
                let name = field.file_name().unwrap_or("核对数据").to_string();
                let data = field.bytes().await.map_err(broken)?.to_vec();
                if !data.is_empty() {
                    file = Some((name, data));
                }
            }
            _ => {}
        }
    }
    let kind = kind.ok_or_else(|| Error::field("kind", "请选择核对数据的种类"))?;
    let (name, data) = file.ok_or_else(|| Error::field("file", "请选择要导入的文件"))?;
    Ok((kind, received.unwrap_or_else(today), name, data))
}

async fn import_post(
    State(st): State<AppState>,
    PageUser(s, actor): PageUser,
    crate::api::Upload(mp): crate::api::Upload,
) -> PageResult {
    let result = match read_upload(mp).await {
        Ok((kind, on, name, data)) => {
            st.app
                .lists()
                .import(&actor, kind, on, &name, &data, today())
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(b) => Ok(see_other(&format!("/checks/lists?imported={}", b.rows))),
        Err(e) => {
            let refusal = user_error_fields(e)?;
            render_page(&st, &s, &actor, String::new(), Some(refusal), None).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct TemplateQuery {
    kind: Option<String>,
}

async fn template_download(
    PageUser(_, _actor): PageUser,
    Query(qs): Query<TemplateQuery>,
) -> PageResult {
    let kind = qs
        .kind
        .as_deref()
        .and_then(ListKind::parse_code_or_label)
        .unwrap_or(ListKind::PoliceDeath);
    let bytes = minzheng_app::formats::lists::template(kind)
        .map_err(|e| Error::Internal(format!("模板生成失败：{e}")))?;
    Ok(crate::payroll::download(
        &format!("核对数据模板-{}.xlsx", kind.label()),
        minzheng_app::payroll::Workbook::CONTENT_TYPE,
        bytes,
    ))
}

async fn api_list(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    let items = st.app.lists().batches(&actor).await?;
    Ok(Json(json!({"total": items.len(), "items": items})).into_response())
}

async fn api_import(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    crate::api::Upload(mp): crate::api::Upload,
) -> ApiResult {
    let (kind, on, name, data) = read_upload(mp).await?;
    let b = st
        .app
        .lists()
        .import(&actor, kind, on, &name, &data, today())
        .await?;
    Ok((StatusCode::CREATED, Json(b)).into_response())
}
