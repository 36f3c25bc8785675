//! Sessions, sign-in state and CSRF protection, applied to every request by one middleware.
//!
//! The session cookie holds a random token; the database holds only its hash, the user and
//! a per-session CSRF token. Every state-changing request must echo that CSRF token (form
//! field `_csrf` — the first field of a file-upload form — or header `X-CSRF-Token`). Before sign-in, the sign-in form uses a
//! double-submit token in its own cookie. A JSON sign-in to the API is exempt: browsers
//! cannot send a cross-site `application/json` POST without a CORS preflight, which we never
//! grant.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, HOST, ORIGIN};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use minzheng_app::users::SessionInfo;
use minzheng_domain::Actor;

use crate::error::{AppError, PageError};
use crate::AppState;

pub const SESSION_COOKIE: &str = "mz_session";
pub const PRE_CSRF_COOKIE: &str = "mz_pre";
/// Largest request body we accept anywhere (uploads will get their own limit).
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;
/// Largest ledger upload (the import itself also checks its own configurable limit).
pub const UPLOAD_LIMIT: usize = 64 * 1024 * 1024;

/// Reads one cookie's value.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value with our attributes.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> HeaderValue {
    let mut s = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(a) = max_age {
        s.push_str(&format!("; Max-Age={a}"));
    }
    if secure {
        s.push_str("; Secure");
    }
    HeaderValue::from_str(&s).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Compares two tokens in time independent of where they differ.
pub fn tokens_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn csrf_failure(path: &str) -> Response {
    if is_api(path) {
        return AppError::new(
            StatusCode::FORBIDDEN,
            "csrf",
            "页面已过期或请求来源无法确认（CSRF校验失败），请刷新页面后重试",
        )
        .into_response();
    }
    let message = if path == "/login" {
        "登录页面已过期，请刷新页面后重新登录"
    } else {
        "页面已过期（可能已在其他窗口重新登录或退出），请返回上一页刷新后重新提交；已填写的内容会自动恢复"
    };
    PageError(AppError::new(StatusCode::FORBIDDEN, "csrf", message)).into_response()
}

/// Set on the answer to a page form that was accepted (a redirect after `POST`), read by
/// `forms.js`, which then forgets the copy of that form it kept while it was being sent.
pub const SAVED_COOKIE: &str = "mz_saved";

/// The page a form posted to `path` lives on: the same-site page it was sent from
/// (`Referer`), else the form's own address without its last step.
fn form_page(headers: &HeaderMap, path: &str) -> String {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let from_referer = headers
        .get(axum::http::header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.split_once("://"))
        .and_then(|(_, rest)| rest.strip_prefix(host))
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/login"));
    match from_referer {
        Some(p) => p.to_string(),
        None => form_home(path),
    }
}

/// Where a browser asking with `GET` for the address of a form that only takes `POST`
/// belongs (after a refusal the form's address stays in the address bar; reloading it
/// or coming back to it opens the page the form is on).
pub fn form_home(path: &str) -> String {
    let path = path.trim_end_matches('/');
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        [] | ["logout"] | ["login"] => "/".into(),
        // A change case is opened from an enrolment, listed under 保障对象.
        ["enrolments", ..] => "/enrolments".into(),
        ["recoveries", ..] => "/recoveries".into(),
        [rest @ .., _] => format!("/{}", rest.join("/")),
    }
}

/// A form with a one-time key that was already accepted (sent again when the network
/// returned, tapped twice, or sent from a second tab): nothing is done twice. The page's
/// copy of the form is forgotten, as after any accepted form.
fn already_done() -> Response {
    let mut resp = PageError(AppError::new(
        StatusCode::CONFLICT,
        "already_done",
        "这份表单已经提交过（可能是网络恢复后再次发送，或点了两次），没有重复办理。请返回查看办理结果。",
    ))
    .into_response();
    resp.headers_mut().append(
        axum::http::header::SET_COOKIE,
        HeaderValue::from_str(&format!(
            "{SAVED_COOKIE}=1; Path=/; Max-Age=600; SameSite=Lax"
        ))
        .expect("a plain cookie"),
    );
    resp
}

/// A page form sent after the session ended (or without one): the clerk is told so in
/// plain words on the sign-in page and comes back to the form after signing in, where
/// `forms.js` puts back what was typed.
fn signed_out_on_submit(headers: &HeaderMap, path: &str) -> Response {
    if path == "/logout" {
        return Redirect::to("/login?signed_out=1").into_response();
    }
    let next = form_page(headers, path);
    let target = format!(
        "/login?expired=1&next={}",
        serde_urlencoded::to_string([("", next.as_str())])
            .map(|s| s.trim_start_matches('=').to_string())
            .unwrap_or_default()
    );
    Redirect::to(&target).into_response()
}

/// Loads the session, enforces CSRF on unsafe methods and adds security headers.
pub async fn session_layer(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let session = match cookie(req.headers(), SESSION_COOKIE) {
        Some(token) => match st
            .app
            .users()
            .session(&token, chrono::Utc::now(), st.config.idle_timeout)
            .await
        {
            Ok(s) => s,
            Err(e) => return AppError::from(e).into_response(),
        },
        None => None,
    };
    let mut req = req;
    // The page form's one-time key (`_once`), when it carries one.
    let mut once: Option<String> = None;
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method {
        // A cross-site request that announces its origin is refused outright.
        if let (Some(origin), Some(host)) = (req.headers().get(ORIGIN), req.headers().get(HOST)) {
            let origin = origin.to_str().unwrap_or("");
            let host = host.to_str().unwrap_or("");
            let origin_host = origin.split("://").nth(1).unwrap_or("");
            if origin == "null" || origin_host != host {
                return csrf_failure(&path);
            }
        }
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let json_signin = path == "/api/v1/session" && *req.method() == Method::POST && is_json;
        if !json_signin {
            if session.is_none() && !is_api(&path) && path != "/login" {
                return signed_out_on_submit(req.headers(), &path);
            }
            let expected = match &session {
                Some(s) => Some(s.csrf_token.clone()),
                None => cookie(req.headers(), PRE_CSRF_COOKIE),
            };
            let Some(expected) = expected else {
                return if is_api(&path) {
                    AppError::unauthorized().into_response()
                } else {
                    csrf_failure(&path)
                };
            };
            let mut given = req
                .headers()
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            if given.is_none() {
                // A file-upload form cannot set a header and its body is too large to
                // buffer here: our upload forms send the token as their first field, read
                // from the start of the stream and put back in front of the rest.
                let (r, token) = multipart_token(req).await;
                req = r;
                given = token;
            }
            if given.is_none() {
                let is_form = req
                    .headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
                if is_form {
                    let (parts, body) = req.into_parts();
                    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
                        Ok(b) => b,
                        Err(_) => {
                            return AppError::new(
                                StatusCode::PAYLOAD_TOO_LARGE,
                                "too_large",
                                "提交的内容过大",
                            )
                            .into_response()
                        }
                    };
                    let kv = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                        .unwrap_or_default();
                    let field =
                        |name: &str| kv.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
                    given = field("_csrf");
                    once = field("_once").filter(|k| !k.is_empty() && k.len() <= 64);
                    req = Request::from_parts(parts, Body::from(bytes));
                }
            }
            if given.is_none() {
                // Clients of the earlier form put the token of a multipart POST in the
                // query string; still taken (never for GET, so tokens never travel in links).
                let is_multipart = req
                    .headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("multipart/form-data"));
                if is_multipart && *req.method() == Method::POST {
                    given = req.uri().query().and_then(|qs| {
                        serde_urlencoded::from_str::<Vec<(String, String)>>(qs)
                            .ok()
                            .and_then(|kv| {
                                kv.into_iter().find(|(k, _)| k == "_csrf").map(|(_, v)| v)
                            })
                    });
                }
            }
            match given {
                Some(g) if tokens_equal(&g, &expected) => {}
                _ => return csrf_failure(&path),
            }
        }
    }
    let once = match (&session, once) {
        (Some(s), Some(k)) if unsafe_method && !is_api(&path) => Some((s.user.id, k)),
        _ => None,
    };
    if let Some((user, key)) = &once {
        if st.once.claim(*user, key) == crate::forms::Claim::Seen {
            return already_done();
        }
    }
    if let Some(s) = session {
        req.extensions_mut().insert(s);
    }
    // Signing in is not a form of the clerk's work: the copy of the form that was being
    // sent when the session ended must survive it.
    let page_form = unsafe_method && !is_api(&path) && path != "/login";
    let mut resp = if page_form {
        crate::forms::collecting(next.run(req)).await
    } else {
        next.run(req).await
    };
    if let Some((user, key)) = &once {
        st.once.finish(*user, key, resp.status().is_redirection());
    }
    if page_form && resp.status().is_redirection() {
        resp.headers_mut().append(
            axum::http::header::SET_COOKIE,
            HeaderValue::from_str(&format!(
                "{SAVED_COOKIE}=1; Path=/; Max-Age=600; SameSite=Lax"
            ))
            .expect("a plain cookie"),
        );
    }
    let h = resp.headers_mut();
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        ),
    );
    if !h.contains_key("cache-control") {
        h.insert("cache-control", HeaderValue::from_static("no-store"));
    }
    resp
}

/// An account whose stored scope is not a division code (only a damaged database has one).
fn bad_scope(e: minzheng_domain::DivisionError) -> AppError {
    AppError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        format!("用户管辖区划无效：{e}"),
    )
}

/// The signed-in user of a page request; without one, the browser goes to the sign-in page.
pub struct PageUser(pub SessionInfo, pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for PageUser {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(s) = parts.extensions.get::<SessionInfo>().cloned() else {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            let target = format!(
                "/login?next={}",
                serde_urlencoded::to_string([("", next.as_str())])
                    .map(|s| s.trim_start_matches('=').to_string())
                    .unwrap_or_default()
            );
            return Err(Redirect::to(&target).into_response());
        };
        let actor = s
            .user
            .actor()
            .map_err(|e| PageError(bad_scope(e)).into_response())?;
        Ok(PageUser(s, actor))
    }
}

/// The signed-in user of an API request; without one, 401 with a JSON error.
pub struct ApiUser(pub SessionInfo, pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for ApiUser {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let s = parts
            .extensions
            .get::<SessionInfo>()
            .cloned()
            .ok_or_else(AppError::unauthorized)?;
        let actor = s.user.actor().map_err(bad_scope)?;
        Ok(ApiUser(s, actor))
    }
}

/// The network address a request comes from, as sign-in throttling counts it: the peer's
/// IP address (behind a reverse proxy, `WebConfig::behind_proxy`, the last
/// `X-Forwarded-For` entry), an IPv6 address by its /64 network (which one subscriber
/// usually holds whole), or "未知" when there is none.
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        use std::net::{IpAddr, SocketAddr};
        let forwarded = || {
            parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .last()
                .and_then(|a| a.trim().parse::<IpAddr>().ok())
        };
        let ip = if st.config.behind_proxy {
            forwarded()
        } else {
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
        };
        Ok(ClientAddr(match ip {
            None => "未知".into(),
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
        }))
    }
}

/// How much of a multipart body is read to find its first field.
const MULTIPART_PEEK: usize = 16 * 1024;

/// The `_csrf` field of a `multipart/form-data` request when it is the form's first part,
/// read from the start of the body stream (at most [`MULTIPART_PEEK`] bytes); the bytes
/// read are put back in front of the rest, so the handler reads the whole body as sent.
/// Other requests are returned untouched.
async fn multipart_token(req: Request) -> (Request, Option<String>) {
    use futures_util::StreamExt;
    let Some(boundary) = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("multipart/form-data"))
        .and_then(multipart_boundary)
    else {
        return (req, None);
    };
    let (parts, body) = req.into_parts();
    let mut stream = body.into_data_stream();
    let mut head: Vec<u8> = Vec::new();
    let mut token = None;
    let mut failed = None;
    while head.len() < MULTIPART_PEEK {
        match stream.next().await {
            Some(Ok(chunk)) => head.extend_from_slice(&chunk),
            Some(Err(e)) => {
                failed = Some(e);
                break;
            }
            None => break,
        }
        if let Some(found) = first_field(&head, &boundary, "_csrf") {
            token = found;
            break;
        }
    }
    let first = futures_util::stream::once(async move {
        match failed {
            Some(e) => Err(e),
            None => Ok(axum::body::Bytes::from(head)),
        }
    });
    let body = Body::from_stream(first.chain(stream));
    (Request::from_parts(parts, body), token)
}

/// The boundary of a `multipart/form-data` content type.
fn multipart_boundary(content_type: &str) -> Option<String> {
    content_type.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// The value of the first part of a multipart body if that part is the field `name`:
/// `None` while `head` is too short to tell, `Some(None)` when the first part is something
/// else.
fn first_field(head: &[u8], boundary: &str, name: &str) -> Option<Option<String>> {
    let delim = format!("--{boundary}\r\n");
    if head.len() < delim.len() {
        return None;
    }
    if !head.starts_with(delim.as_bytes()) {
        return Some(None);
    }
    let rest = &head[delim.len()..];
    let end = find(rest, b"\r\n\r\n")?;
    let headers = String::from_utf8_lossy(&rest[..end]).to_ascii_lowercase();
    let wanted = format!("name=\"{name}\"");
    let is_field = headers
        .lines()
        .any(|l| l.starts_with("content-disposition:") && l.split(';').any(|p| p.trim() == wanted));
    if !is_field {
        return Some(None);
    }
    let value = &rest[end + 4..];
    let close = find(value, format!("\r\n--{boundary}").as_bytes())?;
    Some(
        std::str::from_utf8(&value[..close])
            .ok()
            .map(str::to_string),
    )
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod multipart_tests {
    use super::*;

    #[test]
    fn the_first_field_is_read_from_the_start_of_a_multipart_body() {
        assert_eq!(
            multipart_boundary("multipart/form-data; boundary=\"----x1\""),
            Some("----x1".to_string())
        );
        assert_eq!(multipart_boundary("multipart/form-data"), None);
        let body = b"------x1\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\nabc123\r\n------x1\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n";
        assert_eq!(
            first_field(body, "----x1", "_csrf"),
            Some(Some("abc123".to_string()))
        );
        // Not enough yet to tell.
        assert_eq!(first_field(&body[..30], "----x1", "_csrf"), None);
        assert_eq!(first_field(&body[..70], "----x1", "_csrf"), None);
        // The first part is another field, or the body is not what it says.
        let file_first = b"------x1\r\nContent-Disposition: form-data; name=\"file\"; filename=\"_csrf\"\r\n\r\nx\r\n------x1";
        assert_eq!(first_field(file_first, "----x1", "_csrf"), Some(None));
        assert_eq!(
            first_field(b"garbage garbage garbage", "----x1", "_csrf"),
            Some(None)
        );
    }
}
