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

mod api;
mod batches;
mod exceptions;
mod ledger;
mod review;
mod templates;

use std::collections::BTreeMap;

use axum::extract::Multipart;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use minzheng_app::Error;
use minzheng_domain::{Program, YearMonth};

use crate::error::{AppError, PageError};
use crate::AppState;

pub(crate) type PageResult = Result<Response, PageError>;
pub(crate) type ApiResult = Result<Response, AppError>;

const ECHARTS: &str = include_str!("../../static/echarts.min.js");
const PAYROLL_JS: &str = include_str!("../../static/payroll.js");
const PAYROLL_CSS: &str = include_str!("../../static/payroll.css");
/// Largest return file accepted.
const RETURN_LIMIT: usize = 32 * 1024 * 1024;

/// Pages and static assets.
pub fn pages() -> Router<AppState> {
    use batches::*;
    use exceptions::*;
    use ledger::*;
    use review::*;
    use templates::*;
    let upload = axum::extract::DefaultBodyLimit::max(RETURN_LIMIT + 64 * 1024);
    Router::new()
        .route("/payroll", get(list_page).post(list_post))
        .route("/payroll/review", get(review_page).post(review_post))
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
    use api::*;
    let upload = axum::extract::DefaultBodyLimit::max(RETURN_LIMIT + 64 * 1024);
    Router::new()
        .route("/payroll/batches", get(api_batches).post(api_generate))
        .route("/payroll/batches/{id}", get(api_batch))
        .route("/payroll/batches/{id}/lines", get(api_lines))
        .route("/payroll/batches/{id}/diff", get(api_diff))
        .route("/payroll/batches/{id}/regenerate", post(api_regenerate))
        .route("/payroll/batches/{id}/sign-off", post(api_sign_off))
        .route("/payroll/sign-off", post(api_sign_off_all))
        .route("/payroll/batches/{id}/close", post(api_close))
        .route("/payroll/batches/{id}/bank-file", post(api_bank_file))
        .route("/payroll/batches/{id}/bank-files", get(api_bank_files))
        .route(
            "/payroll/batches/{id}/returns",
            get(api_return_files).merge(post(api_return).layer(upload)),
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

pub(crate) fn asset(body: &'static str, mime: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, mime),
            (axum::http::header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
        .into_response()
}

fn this_month() -> YearMonth {
    YearMonth::of(crate::standards::today())
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// A refusal shown on the page: status, message, and messages by field.
pub(crate) type FieldRefusal = (StatusCode, String, BTreeMap<String, String>);

/// Refusals a clerk can act on re-render the page; anything else is an error page.
fn user_error(e: Error) -> Result<(StatusCode, String), PageError> {
    user_error_fields(e).map(|(status, message, _)| (status, message))
}

/// As `user_error`, keeping the per-field messages (shown next to the fields).
pub(crate) fn user_error_fields(e: Error) -> Result<FieldRefusal, PageError> {
    match e {
        Error::Validation { message, fields } => {
            crate::forms::note(&fields);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, message, fields))
        }
        Error::Conflict(m) => Ok((StatusCode::CONFLICT, m, BTreeMap::new())),
        Error::Forbidden(m) => Ok((StatusCode::FORBIDDEN, m, BTreeMap::new())),
        other => Err(other.into()),
    }
}

/// An integer of a success redirect's query; anything else counts as absent.
pub(crate) fn int(v: &Option<String>) -> Option<i64> {
    v.as_deref().and_then(|v| v.trim().parse().ok())
}

/// A redirect target: `path` with its query encoded.
fn with_query(path: &str, query: &[(&str, String)]) -> String {
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(query).unwrap_or_default()
    )
}

pub(crate) fn with_status(mut r: Response, s: StatusCode) -> Response {
    *r.status_mut() = s;
    r
}

fn programs() -> Vec<(&'static str, &'static str)> {
    Program::ALL
        .iter()
        .map(|p| (p.as_str(), p.label()))
        .collect()
}

pub(crate) fn form_map(v: Vec<(String, String)>) -> std::collections::HashMap<String, String> {
    v.into_iter().collect()
}

/// The plain ASCII name of a download for clients that do not read `filename*`: the
/// name's ASCII letters, digits and `.-_` kept, anything else dropped (runs of separators
/// made one), `download` when nothing is left before the extension.
pub(crate) fn ascii_fallback(file_name: &str) -> String {
    let (stem, ext) = match file_name.rsplit_once('.') {
        Some((s, e)) if !e.is_empty() && e.bytes().all(|b| b.is_ascii_alphanumeric()) => (s, e),
        _ => (file_name, ""),
    };
    let mut out = String::new();
    for c in stem.chars() {
        let separator = matches!(c, '.' | '-' | '_');
        let after_text = !out.is_empty() && !out.ends_with(['.', '-', '_']);
        if c.is_ascii_alphanumeric() || (separator && after_text) {
            out.push(c);
        }
    }
    let stem = out.trim_end_matches(['.', '-', '_']);
    let stem = if stem.bytes().any(|b| b.is_ascii_alphabetic()) || stem.len() >= 4 {
        stem
    } else {
        "download"
    };
    if ext.is_empty() {
        stem.to_string()
    } else {
        format!("{stem}.{ext}")
    }
}

/// A file to save: its name (also as UTF-8 for browsers that read it), type and bytes.
/// A batch number as people read it: the program's code at its end by the program's name
/// (`202611-511802001-urban_dibao` → `202611-511802001-城市最低生活保障`). The stored
/// number, and the lines of the bank files, keep the code.
pub fn batch_label(batch_no: &str) -> String {
    minzheng_app::formats::bank::readable_batch_no(batch_no)
}

pub(crate) fn download(file_name: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    let ascii = ascii_fallback(file_name);
    let encoded: String = file_name
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
            (CONTENT_TYPE, content_type.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// A bank file to save.
fn bank_file(f: minzheng_app::formats::bank::BankFile) -> Response {
    download(&f.file_name, f.content_type, f.bytes)
}

/// Reads the `file` field of a multipart form.
async fn read_file(mut mp: Multipart) -> Result<(String, Vec<u8>), Error> {
    let broken = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::field("file", "回盘文件过大（上限32 MB）")
        } else {
            Error::field("file", "上传内容不完整，请重新选择回盘文件")
        }
    };
    while let Some(field) = mp.next_field().await.map_err(broken)? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("回盘文件").to_string();
            let data = Vec::from(field.bytes().await.map_err(broken)?);
            if data.is_empty() {
                break;
            }
            return Ok((name, data));
        }
    }
    Err(Error::field("file", "请选择银行回盘文件"))
}

#[cfg(test)]
mod batch_label_tests {
    use super::batch_label;

    /// A batch number reads with the program's name; anything else is left as it is.
    #[test]
    fn batch_numbers_read_with_the_programs_name() {
        assert_eq!(
            batch_label("202612-511802001-laid_off_worker_relief"),
            "202612-511802001-精简退职老职工救济"
        );
        assert_eq!(
            batch_label("202612-511802001-nothing"),
            "202612-511802001-nothing"
        );
        assert_eq!(batch_label("B1"), "B1");
    }
}

#[cfg(test)]
mod download_name_tests {
    use super::{ascii_fallback, download};

    /// A Chinese file name travels as RFC 5987 UTF-8, with a plain ASCII name beside it for
    /// clients that do not read it.
    #[test]
    fn downloads_carry_the_chinese_name_and_an_ascii_one() {
        assert_eq!(
            ascii_fallback("农商银行_202612-511802001-精简退职老职工救济.csv"),
            "202612-511802001.csv"
        );
        assert_eq!(ascii_fallback("操作日志.xlsx"), "download.xlsx");
        assert_eq!(ascii_fallback("ccb_B1.txt"), "ccb_B1.txt");
        let r = download("操作日志.xlsx", "application/octet-stream", vec![1]);
        let cd = r.headers()["content-disposition"].to_str().unwrap();
        assert_eq!(
            cd,
            "attachment; filename=\"download.xlsx\"; filename*=UTF-8''%E6%93%8D%E4%BD%9C%E6%97%A5%E5%BF%97.xlsx"
        );
    }
}
