//! HTTP tests of the audit log (操作日志): the API and the page filter by who acted, what was
//! done, on what and between Beijing days; a bad date is a 422 naming the field, on the page
//! too (the typed filter kept); the filtered log downloads as 操作日志.xlsx from the page
//! and the API; a clerk reads none of it.

mod common;

use common::*;
use minzheng_web::testing::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_filters_refuses_bad_dates_and_downloads() {
    let app = TestApp::start(minzheng_app::testing::TestDb::sqlite().await).await;
    let (admin, _) = api_login(&app, "admin").await;
    let (staff, _) = api_login(&app, "staff").await;

    // Only the administrator's sign-ins, newest first, with the number that match.
    let r = admin
        .get(app.url("/api/v1/audit?actor=admin&action=auth.signin&limit=5"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items
        .iter()
        .all(|e| e["actor"] == "admin" && e["action"] == "auth.signin"));
    assert!(body["total"].as_i64().unwrap() >= items.len() as i64);
    // Days far in the future hold nothing.
    let r = admin
        .get(app.url("/api/v1/audit?from=2999-01-01"))
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["total"], 0);
    // A date that is no date, or a range backwards: 422 naming the field.
    let r = admin
        .get(app.url("/api/v1/audit?from=2026-13-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_error(&body, "validation");
    assert!(body["error"]["fields"]["from"]
        .as_str()
        .unwrap()
        .contains("不是有效日期"));
    let r = admin
        .get(app.url("/api/v1/audit?from=2026-12-05&to=2026-12-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The page: the filter kept and its records; a bad date refused next to its field.
    let html = admin
        .get(app.url("/audit?actor=admin&action=auth.signin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let actor_field = html
        .split(r#"id="f-actor""#)
        .nth(1)
        .and_then(|rest| rest.split('>').next())
        .unwrap_or_default();
    assert!(actor_field.contains(r#"value="admin""#), "{html}");
    // The accounts are offered by name.
    assert!(
        html.contains(r#"<option value="王建国（admin）">"#),
        "{html}"
    );
    // People by their real name, with the user name the log is about.
    assert!(html.contains("王建国（admin）"), "{html}");
    assert!(html.contains(r#"<option value="auth.signin" selected>"#));
    let link = html.split("href=\"/audit.xlsx").nth(1).unwrap_or("");
    assert!(link.starts_with("?actor=admin&"), "{link}");
    let r = admin
        .get(app.url("/audit?from=%E6%98%A8%E5%A4%A9"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(r#"id="f-from-error""#) && html.contains("昨天"));

    // Downloads from the page and from the API.
    for path in [
        "/audit.xlsx?actor=admin",
        "/api/v1/audit/export?actor=admin",
    ] {
        let r = admin.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml"));
        let bytes = r.bytes().await.unwrap();
        assert_eq!(&bytes[..2], b"PK", "{path}");
    }
    // Each download is in the log.
    let body: Value = admin
        .get(app.url("/api/v1/audit?action=audit.export"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["total"], 2);

    // A clerk reads none of it.
    for path in ["/api/v1/audit", "/api/v1/audit/export", "/audit.xlsx"] {
        let r = staff.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
    }
    app.stop().await;
}
