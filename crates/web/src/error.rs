//! One error type for the web layer, rendered as JSON for the API and as a Chinese page
//! for browsers.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error on its way to the user.
#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: BTreeMap<String, String>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AppError {
            status,
            code,
            message: message.into(),
            fields: BTreeMap::new(),
        }
    }
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "请先登录")
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", msg)
    }
    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", msg)
    }
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", msg)
    }
}

/// A numeric id from a URL path. A malformed id is reported like an unknown one (404), the
/// same answer a record outside the caller's jurisdiction gets.
pub fn parse_id(raw: &str, what: &'static str) -> Result<i64, AppError> {
    raw.parse::<i64>()
        .map_err(|_| AppError::from(minzheng_app::Error::NotFound(what)))
}

impl From<minzheng_app::Error> for AppError {
    fn from(e: minzheng_app::Error) -> Self {
        use minzheng_app::Error as E;
        match e {
            E::NotFound(_) => AppError::not_found(e.to_string()),
            E::Forbidden(m) => AppError::forbidden(m),
            E::Validation { message, fields } => {
                crate::forms::note(&fields);
                AppError {
                    status: StatusCode::UNPROCESSABLE_ENTITY,
                    code: "validation",
                    message,
                    fields,
                }
            }
            E::Conflict(m) => AppError::new(StatusCode::CONFLICT, "conflict", m),
            ref other => {
                // Logged once here; the user sees a generic message.
                tracing::error!(error = %other.detail(), "internal error");
                AppError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            }
        }
    }
}

impl AppError {
    pub fn json_body(&self) -> serde_json::Value {
        json!({"error": {"code": self.code, "message": self.message, "fields": self.fields}})
    }
}

/// API handlers return this; it renders the JSON error body.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.json_body())).into_response()
    }
}

/// Page handlers return this; it renders a Chinese error page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        let title = match e.status {
            StatusCode::NOT_FOUND => "未找到",
            StatusCode::FORBIDDEN => "无权访问",
            StatusCode::UNAUTHORIZED => "请先登录",
            StatusCode::CONFLICT => "操作冲突",
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "输入有误",
            _ => "系统错误",
        };
        let body = crate::pages::render_error_page(title, &e.message);
        (e.status, axum::response::Html(body)).into_response()
    }
}
