//! The JSON API under `/api/v1`. Same store calls as the pages, same jurisdiction.

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::header::SET_COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use minzheng_app::users::SessionInfo;
use minzheng_domain::offices::{OfficeFilter, OfficePatch};
use minzheng_domain::users::{AuthError, NewUser, UserUpdate};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{parse_id, AppError};
use crate::session::{cookie, set_cookie, ApiUser, ClientAddr, SESSION_COOKIE};
use crate::AppState;

type ApiResult = Result<Response, AppError>;

fn ok(v: impl serde::Serialize) -> ApiResult {
    Ok(Json(v).into_response())
}

/// `Json<T>` whose rejection is our Chinese error body (never axum's English text).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "提交的内容过大",
            )),
            Err(e) => Err(AppError::bad_request(match e {
                JsonRejection::MissingJsonContentType(_) => "请求内容须为JSON格式",
                JsonRejection::JsonSyntaxError(_) => "请求内容不是有效的JSON",
                JsonRejection::JsonDataError(_) => "请求内容缺少必填字段或字段类型不符",
                _ => "请求内容无法读取，请重新提交",
            })),
        }
    }
}

/// `Multipart` whose rejection is our Chinese error body (never axum's English text): an
/// upload without a `multipart/form-data` body and boundary is refused with 400.
pub struct Upload(pub axum::extract::Multipart);

impl<S: Send + Sync> FromRequest<S> for Upload {
    type Rejection = AppError;
    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Multipart::from_request(req, state).await {
            Ok(mp) => Ok(Upload(mp)),
            Err(_) => Err(AppError::bad_request(
                "上传须以 multipart/form-data 格式提交文件（请通过页面的上传表单或按接口说明提交）",
            )),
        }
    }
}

/// `Query<T>` whose rejection is our Chinese error body (never axum's English text).
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(_) => Err(AppError::bad_request(
                "请求参数格式不正确：数量、偏移量等数字参数应为整数",
            )),
        }
    }
}

fn me_body(s: &SessionInfo) -> Value {
    json!({"user": s.user, "csrf_token": s.csrf_token})
}

#[derive(Deserialize)]
pub struct SignIn {
    username: String,
    password: String,
}

pub async fn sign_in(
    State(st): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<SignIn>,
) -> ApiResult {
    let now = chrono::Utc::now();
    match st
        .app
        .users()
        .authenticate_from(&body.username, &body.password, &client, now)
        .await?
    {
        Ok(user) => {
            let (token, csrf) = st.app.users().open_session(user.id, now).await?;
            let mut resp = Json(json!({"user": user, "csrf_token": csrf})).into_response();
            resp.headers_mut().append(
                SET_COOKIE,
                set_cookie(SESSION_COOKIE, &token, st.config.secure_cookies, None),
            );
            Ok(resp)
        }
        Err(e) => Err(AppError::new(
            match e {
                AuthError::Locked { .. } | AuthError::Throttled { .. } => {
                    StatusCode::TOO_MANY_REQUESTS
                }
                _ => StatusCode::UNAUTHORIZED,
            },
            "signin_failed",
            e.to_string(),
        )),
    }
}

pub async fn sign_out(
    State(st): State<AppState>,
    headers: HeaderMap,
    ApiUser(_, actor): ApiUser,
) -> ApiResult {
    let token = cookie(&headers, SESSION_COOKIE);
    st.app.users().sign_out(&actor, token.as_deref()).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().append(
        SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", st.config.secure_cookies, Some(0)),
    );
    Ok(resp)
}

pub async fn me(ApiUser(s, _): ApiUser) -> ApiResult {
    ok(me_body(&s))
}

/// The data dictionary: every coded word with the Chinese label of each code.
pub async fn codes(ApiUser(_, _): ApiUser) -> ApiResult {
    ok(json!({ "items": minzheng_domain::codes::dictionary() }))
}

pub async fn dashboard(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    ok(st.app.dashboard().counts(&actor).await?)
}

/// `GET /api/v1/todo`: 待我办理 — the cases waiting for this user's step, with their clocks.
pub async fn todo(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    ok(st
        .app
        .dashboard()
        .todo(&actor, crate::cases::today())
        .await?)
}

#[derive(Deserialize, Default)]
pub struct DivisionsQuery {
    q: Option<String>,
    parent: Option<String>,
    limit: Option<i64>,
}

pub async fn divisions(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<DivisionsQuery>,
) -> ApiResult {
    let items = if let Some(q) = qs.q.as_deref().filter(|q| !q.trim().is_empty()) {
        st.app
            .divisions()
            .search(&actor, q, qs.limit.unwrap_or(50))
            .await?
    } else if let Some(p) = qs.parent.as_deref().filter(|p| !p.trim().is_empty()) {
        st.app.divisions().children(&actor, Some(p.trim())).await?
    } else {
        st.app.divisions().roots(&actor).await?
    };
    ok(json!({ "items": items }))
}

pub async fn division_stats(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    ok(json!({ "levels": st.app.divisions().stats(&actor).await? }))
}

pub async fn division(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
) -> ApiResult {
    ok(st.app.divisions().get(&actor, &code).await?)
}

pub async fn division_children(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
) -> ApiResult {
    let divisions = st.app.divisions();
    divisions.get(&actor, &code).await?;
    ok(json!({ "items": divisions.children(&actor, Some(&code)).await? }))
}

pub async fn offices(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(f): ApiQuery<OfficeFilter>,
) -> ApiResult {
    let (items, total) = st.app.offices().list(&actor, &f).await?;
    ok(json!({ "items": items, "total": total }))
}

pub async fn office(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
) -> ApiResult {
    ok(st.app.offices().get(&actor, &code).await?)
}

pub async fn office_update(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(code): Path<String>,
    ApiJson(body): ApiJson<OfficePatch>,
) -> ApiResult {
    ok(st.app.offices().patch(&actor, &code, &body).await?)
}

pub async fn users(State(st): State<AppState>, ApiUser(_, actor): ApiUser) -> ApiResult {
    ok(json!({ "items": st.app.users().list(&actor).await? }))
}

pub async fn user(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
) -> ApiResult {
    ok(st.app.users().get(&actor, parse_id(&id, "该用户")?).await?)
}

pub async fn user_create(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiJson(body): ApiJson<NewUser>,
) -> ApiResult {
    let u = st.app.users().create(&actor, &body).await?;
    Ok((StatusCode::CREATED, Json(u)).into_response())
}

pub async fn user_update(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UserUpdate>,
) -> ApiResult {
    ok(st
        .app
        .users()
        .update(&actor, parse_id(&id, "该用户")?, &body)
        .await?)
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    // Text, parsed here: a flattened query reads every value as text.
    limit: Option<String>,
    offset: Option<String>,
    #[serde(flatten)]
    f: minzheng_domain::audit::AuditFilterForm,
}

/// An optional whole number from the query; a malformed one is a malformed query (400), as
/// every other query parameter is.
fn number(v: &Option<String>) -> Result<Option<i64>, AppError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
            AppError::bad_request("请求参数格式不正确：数量、偏移量等数字参数应为整数")
        }),
    }
}

/// The log inside the caller's jurisdiction, newest first, filtered by `actor`, `action`,
/// `entity_type`, `entity_id` and Beijing days `from`–`to`; with the number that match.
pub async fn audit(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<AuditQuery>,
) -> ApiResult {
    let f = qs.f.parse().map_err(minzheng_app::Error::from)?;
    let items = st
        .app
        .audit()
        .search(
            &actor,
            &f,
            number(&qs.limit)?.unwrap_or(50).clamp(1, 500),
            number(&qs.offset)?.unwrap_or(0).max(0),
        )
        .await?;
    let total = st.app.audit().count_matching(&actor, &f).await?;
    ok(json!({ "items": items, "total": total }))
}

/// The log as filtered, as a workbook (操作日志.xlsx).
pub async fn audit_export(
    State(st): State<AppState>,
    ApiUser(_, actor): ApiUser,
    ApiQuery(qs): ApiQuery<AuditQuery>,
) -> Result<axum::response::Response, AppError> {
    let f = qs.f.parse().map_err(minzheng_app::Error::from)?;
    let w = st
        .app
        .audit()
        .workbook(&actor, &f, crate::pages::audit_words)
        .await?;
    Ok(crate::payroll::download(
        &w.file_name,
        minzheng_app::payroll::Workbook::CONTENT_TYPE,
        w.bytes,
    ))
}

pub async fn method_not_allowed() -> AppError {
    AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "该接口不支持此请求方法",
    )
}

pub async fn not_found() -> AppError {
    AppError::not_found("接口不存在")
}

pub async fn healthz(State(st): State<AppState>) -> Response {
    match st.app.ping().await {
        Ok(()) => Json(json!({"status": "ok"})).into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "error", "message": "数据库无法连接"})),
        )
            .into_response(),
    }
}
