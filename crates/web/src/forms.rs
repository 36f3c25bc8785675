//! Page forms that never lose work: the server half of `static/forms.js`.
//!
//! Every page form answers an accepted submission with a redirect (303, post/redirect/get;
//! the session layer marks it with the `mz_saved` cookie so the browser forgets its copy of
//! the form), and a refusal with the page the form is on, its message and each field's
//! message. The field messages a handler meets while refusing are collected here for the
//! request ([`refused_fields`]) and sent with the page as `#form-errors`, so `forms.js`
//! shows each one next to its field even where a template shows only the summary.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;

tokio::task_local! {
    static REFUSED: RefCell<BTreeMap<String, String>>;
}

/// Runs a page form's handler with room for its field messages.
pub async fn collecting<F: std::future::Future<Output = Response>>(f: F) -> Response {
    let (resp, fields) = REFUSED
        .scope(RefCell::new(BTreeMap::new()), async move {
            let resp = f.await;
            let fields = REFUSED.with(|r| std::mem::take(&mut *r.borrow_mut()));
            (resp, fields)
        })
        .await;
    attach(resp, fields).await
}

/// Notes the field messages of a refusal (outside a page form, nothing happens).
pub fn refused_fields(e: &minzheng_app::Error) {
    if let minzheng_app::Error::Validation { fields, .. } = e {
        note(fields);
    }
}

/// Notes field messages by field name.
pub fn note(fields: &BTreeMap<String, String>) {
    let _ = REFUSED.try_with(|r| {
        let mut r = r.borrow_mut();
        for (k, v) in fields {
            r.entry(k.clone()).or_insert_with(|| v.clone());
        }
    });
}

/// Puts the field messages into a refused page as JSON (`<script type="application/json"
/// id="form-errors">`, data, never run).
async fn attach(resp: Response, fields: BTreeMap<String, String>) -> Response {
    let is_html = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if fields.is_empty() || !is_html || !resp.status().is_client_error() {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 8 * 1024 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let html = String::from_utf8_lossy(&bytes);
    let json = serde_json::to_string(&fields)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    let block = format!("<script type=\"application/json\" id=\"form-errors\">{json}</script>\n");
    let html = match html.rfind("</body>") {
        Some(i) => format!("{}{block}{}", &html[..i], &html[i..]),
        None => format!("{html}{block}"),
    };
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(html))
}

/// A new one-time key for a rendered form.
pub fn fresh_key() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// How long an accepted form's key is remembered.
const ONCE_KEEP: Duration = Duration::from_secs(48 * 3600);
/// The most keys remembered; the oldest are forgotten first.
const ONCE_MAX: usize = 200_000;

/// The one-time keys (`_once`) of page forms: a form that carries one is done at most once.
/// A phone that sends a home visit again when the network returns, a double tap or a
/// second tab is answered "已经提交过" instead of doing it twice. The keys live in this
/// process's memory for two days; case steps are guarded by their state besides.
#[derive(Default)]
pub struct OnceKeys(Mutex<HashMap<String, (Instant, bool)>>);

/// What [`OnceKeys::claim`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// Not seen: go ahead (and [`OnceKeys::finish`] after).
    New,
    /// Already done, or being done right now.
    Seen,
}

impl OnceKeys {
    /// Marks `key` (of `user`) as being done, unless it was done or is under way.
    pub fn claim(&self, user: i64, key: &str) -> Claim {
        let k = format!("{user}:{key}");
        let now = Instant::now();
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= ONCE_MAX {
            m.retain(|_, (at, _)| now.duration_since(*at) < ONCE_KEEP);
            if m.len() >= ONCE_MAX {
                let oldest = m
                    .iter()
                    .min_by_key(|(_, (at, _))| *at)
                    .map(|(k, _)| k.clone());
                if let Some(o) = oldest {
                    m.remove(&o);
                }
            }
        }
        match m.get(&k) {
            Some((at, _)) if now.duration_since(*at) < ONCE_KEEP => Claim::Seen,
            _ => {
                m.insert(k, (now, false));
                Claim::New
            }
        }
    }

    /// After the form's answer: an accepted form keeps its key, a refused one frees it (the
    /// clerk corrects the form and sends it again).
    pub fn finish(&self, user: i64, key: &str, accepted: bool) {
        let k = format!("{user}:{key}");
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if accepted {
            if let Some(v) = m.get_mut(&k) {
                v.1 = true;
            }
        } else {
            m.remove(&k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_page_carries_its_field_messages_as_data() {
        let resp = collecting(async {
            note(&BTreeMap::from([(
                "name".to_string(),
                "请填写姓名<".to_string(),
            )]));
            let mut r =
                axum::response::Html("<html><body><main>x</main></body></html>").into_response();
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            r
        })
        .await;
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let html = String::from_utf8(body.to_vec()).unwrap();
        assert!(
            html.contains(r#"<script type="application/json" id="form-errors">{"name":"请填写姓名\u003c"}</script>"#),
            "{html}"
        );
        assert!(html.ends_with("</body></html>"), "{html}");
        // An accepted form (a redirect) is left alone.
        let resp = collecting(async {
            note(&BTreeMap::from([("name".to_string(), "x".to_string())]));
            axum::response::Redirect::to("/").into_response()
        })
        .await;
        assert!(resp.status().is_redirection());
        // Outside a page form nothing is collected and nothing fails.
        note(&BTreeMap::from([("name".to_string(), "x".to_string())]));
    }

    use axum::response::IntoResponse;

    #[test]
    fn a_form_with_a_one_time_key_is_done_once() {
        let keys = OnceKeys::default();
        assert_eq!(keys.claim(1, "k"), Claim::New);
        // While it is being done, and after it was accepted: seen.
        assert_eq!(keys.claim(1, "k"), Claim::Seen);
        keys.finish(1, "k", true);
        assert_eq!(keys.claim(1, "k"), Claim::Seen);
        // Another user's key of the same text is theirs.
        assert_eq!(keys.claim(2, "k"), Claim::New);
        // A refused form frees its key.
        assert_eq!(keys.claim(1, "r"), Claim::New);
        keys.finish(1, "r", false);
        assert_eq!(keys.claim(1, "r"), Claim::New);
        assert_ne!(fresh_key(), fresh_key());
    }
}
