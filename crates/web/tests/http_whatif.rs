//! HTTP tests of 调标测算: the city admin posts two 方案 to the API and gets their results
//! side by side, and the same request as a workbook; nothing is written; the OpenAPI
//! document lists the operations; a township director is refused (403) and a bad value is
//! a field error (422); the page shows the results; adopting a 方案 through the API adds
//! the value and prepares the batches (201).

mod common;

use common::*;
use minzheng_domain::Actor;
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

both!(the_admin_compares_two_scenarios_and_adopts_one);

fn raise(yuan: &str) -> Value {
    json!({"program": "urban_dibao", "name": "standard", "region": "5118",
           "effective_from": "2027-01-01", "value_json": yuan})
}

async fn written(app: &TestApp) -> (usize, i64) {
    let a = &app.db.app;
    let sys = Actor::system("t");
    (
        a.params().list(&sys, None).await.unwrap().len(),
        a.audit().count(&sys).await.unwrap(),
    )
}

async fn the_admin_compares_two_scenarios_and_adopts_one(app: &TestApp) {
    let demo = app.db.app.demo();
    demo.registry(600, 7).await.unwrap();
    demo.payroll_enrolments().await.unwrap();
    let (admin, csrf) = api_login(app, "admin").await;
    // Signing in is recorded: both sign in first.
    let (director, dcsrf) = api_login(app, "director").await;
    let before = written(app).await;
    let body = json!({"scenarios": [
        {"name": "小幅", "changes": [raise("850")]},
        {"name": "大幅", "changes": [raise("950")]}
    ]});
    let r = admin
        .post(app.url("/api/v1/params/whatif"))
        .header("x-csrf-token", &csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let w: Value = r.json().await.unwrap();
    let (small, big) = (&w["scenarios"][0], &w["scenarios"][1]);
    assert_eq!(small["name"], "小幅");
    assert_eq!(small["month"], "2027-01");
    let monthly = |s: &Value| s["total"]["monthly_difference"].as_i64().unwrap();
    assert!(monthly(small) > 0 && monthly(big) > monthly(small), "{w}");
    assert_eq!(w["buckets"].as_array().unwrap().len(), 10);
    let r = admin
        .post(app.url("/api/v1/params/whatif.xlsx"))
        .header("x-csrf-token", &csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.bytes().await.unwrap().starts_with(b"PK"));
    assert_eq!(written(app).await, before, "a what-if writes nothing");

    let doc: Value = client()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for p in [
        "/api/v1/params/whatif",
        "/api/v1/params/whatif.xlsx",
        "/api/v1/params/whatif/adopt",
    ] {
        assert!(doc["paths"][p]["post"].is_object(), "{p}");
    }

    let r = director
        .post(app.url("/api/v1/params/whatif"))
        .header("x-csrf-token", &dcsrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = admin
        .post(app.url("/api/v1/params/whatif"))
        .header("x-csrf-token", &csrf)
        .json(&json!({"scenarios": [{"changes": [raise("很多")]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["fields"]["scenarios[0].changes[0].value_json"].is_string(),
        "{e}"
    );
    assert_eq!(written(app).await, before);

    // The page: the form, and the results after 测算.
    let page = admin
        .get(app.url("/params/whatif"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_in(&page);
    let html = admin
        .post(app.url("/params/whatif"))
        .form(&[
            ("_csrf", token.as_str()),
            ("action", "run"),
            ("s0_name", "页面方案"),
            ("s0_c0_program", "urban_dibao"),
            ("s0_c0_name", "standard"),
            ("s0_c0_region", "5118"),
            ("s0_c0_from", "2027-01-01"),
            ("s0_c0_value", "850"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"whatif-summary\"") && html.contains("页面方案"));
    assert!(html.contains("城市最低生活保障"));
    assert_eq!(written(app).await, before);

    let r = admin
        .post(app.url("/api/v1/params/whatif/adopt"))
        .header("x-csrf-token", &csrf)
        .json(&body["scenarios"][0])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let a: Value = r.json().await.unwrap();
    assert_eq!(a["month"], "2027-01");
    assert_eq!(a["ids"].as_array().unwrap().len(), 1);
    let changed = small["total"]["changed_households"].as_i64().unwrap()
        + small["total"]["leaving_households"].as_i64().unwrap()
        + small["total"]["problems"].as_i64().unwrap();
    assert_eq!(a["added"].as_i64().unwrap(), changed, "{a}");
    assert!(written(app).await.0 == before.0 + 1);
}
