//! HTTP tests of 统计月报: the API's report for a township user is their township's, another
//! township is not found; bad input is a Chinese 422; the records behind a figure; the page
//! links every figure to its records; only the city administrator locks (the lock and the
//! reopening through the API, 409 when repeated, the reopening's reason required), and the
//! workbook downloads.

mod common;

use common::*;
use minzheng_app::testing::payroll::{self as fixtures, FixtureEnrolment};
use minzheng_domain::{IdNumber, Program};
use minzheng_web::testing::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = minzheng_web::testing::TestApp::start(minzheng_app::testing::TestDb::sqlite().await).await;
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[minzheng_test_services::needs_postgres]
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = minzheng_app::testing::TestDb::postgres().await;
                    let app = minzheng_web::testing::TestApp::start(db).await;
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}

both!(the_report_its_records_and_the_lock_over_http);

fn id(birth: &str, seq: u32) -> String {
    let first = format!("511802{birth}{seq:03}");
    let c = IdNumber::check_char(first.as_bytes()).unwrap();
    format!("{first}{}", c as char)
}

fn total(r: &Value, item: &str) -> i64 {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["item"] == item)
        .unwrap()["total"]
        .as_i64()
        .unwrap()
}

async fn get(c: &reqwest::Client, url: String) -> (StatusCode, Value) {
    let r = c.get(url).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn post(c: &reqwest::Client, csrf: &str, url: String, body: Value) -> (StatusCode, Value) {
    let r = c
        .post(url)
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn the_report_its_records_and_the_lock_over_http(app: &TestApp) {
    let a = &app.db.app;
    for (program, village, name, number) in [
        (
            Program::RuralDibao,
            "511802001001",
            "东城甲",
            id("19600101", 11),
        ),
        (
            Program::RuralDibao,
            XICHENG_VILLAGE,
            "西城乙",
            id("19610101", 21),
        ),
        (
            Program::Tekun,
            XICHENG_VILLAGE,
            "西城丙",
            id("19620101", 31),
        ),
    ] {
        fixtures::enrol(
            a,
            &FixtureEnrolment::new(program, village, name, &number, 30_000, "2026-10"),
        )
        .await
        .unwrap();
    }
    let month = "month=2026-11";

    // The township's staff: their township only.
    let (staff, _) = api_login(app, "staff").await;
    let (s, r) = get(&staff, app.url(&format!("/api/v1/stats/month?{month}"))).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["scope_code"], "511802001");
    assert_eq!(total(&r, "rural_households"), 1);
    assert_eq!(total(&r, "tekun_persons"), 0);
    let (s, body) = get(
        &staff,
        app.url(&format!("/api/v1/stats/month?{month}&scope={XICHENG}")),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found");
    let (s, body) = get(&staff, app.url("/api/v1/stats/month?month=2026-13")).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["fields"]["month"].is_string(), "{body}");
    let (s, body) = get(
        &staff,
        app.url(&format!("/api/v1/stats/records?{month}&item=nonsense")),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (s, l) = get(
        &staff,
        app.url(&format!(
            "/api/v1/stats/records?{month}&item=rural_households"
        )),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{l}");
    assert_eq!(l["total"], 1);
    assert_eq!(l["records"]["kind"], "enrolments");
    assert_eq!(l["records"]["items"][0]["name"], "东城甲");

    // The page links every figure to its records.
    let html = staff
        .get(app.url(&format!("/stats?{month}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let link = "/stats/records?month=2026-11&#38;scope=511802001&#38;item=rural_households";
    assert!(html.contains(link), "the figure links to its records");

    // Only the city administrator locks; twice is a conflict; the reopening needs a reason.
    let (director, dcsrf) = api_login(app, "director").await;
    let (s, _) = post(
        &director,
        &dcsrf,
        app.url("/api/v1/stats/lock"),
        json!({"month": "2026-11"}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (admin, csrf) = api_login(app, "admin").await;
    let (s, r) = post(
        &admin,
        &csrf,
        app.url("/api/v1/stats/lock"),
        json!({"month": "2026-11"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert!(r["locked"]["locked_at"].is_string(), "{r}");
    assert_eq!(total(&r, "rural_households"), 2);
    assert_eq!(total(&r, "tekun_persons"), 1);
    let (s, body) = post(
        &admin,
        &csrf,
        app.url("/api/v1/stats/lock"),
        json!({"month": "2026-11"}),
    )
    .await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_error(&body, "conflict");
    let (s, body) = post(
        &admin,
        &csrf,
        app.url("/api/v1/stats/reopen"),
        json!({"month": "2026-11"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["error"]["fields"]["reason"].is_string(), "{body}");
    let (s, r) = post(
        &admin,
        &csrf,
        app.url("/api/v1/stats/reopen"),
        json!({"month": "2026-11", "reason": "补录"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert!(r["locked"].is_null());

    // The workbook.
    let r = admin
        .get(app.url(&format!("/stats/month.xlsx?{month}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
}
