//! HTTP tests of 调标批次: the township's staff prepare April's 高龄津贴 age-band batch
//! through the API (once: a second request adds nothing), may not sign it off (403, nothing
//! changes), and the director reviews the batch page — old and new amounts in yuan, the
//! reason in words, a confirmation saying what the sign-off does — and signs it off there.

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

both!(an_age_band_batch_is_prepared_refused_to_staff_and_signed_by_the_director);

fn id(first17: &str) -> String {
    let c = IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    format!("{first17}{c}")
}

async fn monthly_of(app: &TestApp, eid: i64) -> i64 {
    let (all, _) = app
        .db
        .app
        .cases()
        .enrolments(&minzheng_domain::Actor::system("t"), &Default::default())
        .await
        .unwrap();
    all.into_iter().find(|e| e.id == eid).unwrap().monthly_fen.0
}

async fn an_age_band_batch_is_prepared_refused_to_staff_and_signed_by_the_director(app: &TestApp) {
    // 周桂英 turned 90 on 15 March 2026 and is paid the 80–89 band, 60 元.
    let eid = fixtures::enrol(
        &app.db.app,
        &FixtureEnrolment::new(
            Program::OldAgeAllowance,
            "511802001001",
            "周桂英",
            &id("51180219360315002"),
            6_000,
            "2025-01",
        ),
    )
    .await
    .unwrap();
    let (staff, staff_csrf) = api_login(app, "staff").await;
    let prepare = || {
        staff
            .post(app.url("/api/v1/repricing/age-bands"))
            .header("x-csrf-token", &staff_csrf)
            .json(&json!({"month": "2026-04"}))
            .send()
    };
    let r = prepare().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    let batch = body["batches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["township_code"] == "511802001")
        .expect("东城街道's batch")
        .clone();
    assert_eq!(batch["status"], "pending");
    assert_eq!(batch["reason"], "age_band");
    let id = batch["id"].as_i64().unwrap();
    let again = prepare().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["added"], 0);
    // A malformed month is a field error.
    let bad = staff
        .post(app.url("/api/v1/repricing/age-bands"))
        .header("x-csrf-token", &staff_csrf)
        .json(&json!({"month": "2026-4x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Staff may not sign it off.
    let refused = staff
        .post(app.url(&format!("/api/v1/repricing/{id}/sign-off")))
        .header("x-csrf-token", &staff_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_error(&refused.json().await.unwrap(), "forbidden");
    assert_eq!(monthly_of(app, eid).await, 6_000);
    let listed: Value = staff
        .get(app.url("/api/v1/repricing?status=pending"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["id"] == id));

    // The director's page: amounts in yuan, the reason, what the sign-off will do.
    let (director, _) = api_login(app, "director").await;
    let html = director
        .get(app.url(&format!("/repricing/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for want in [
        "周桂英",
        "60.00元",
        "120.00元",
        "年龄段变化",
        "90周岁",
        "确认签发",
        "自2026-04起按新金额发放",
        // The village by name, not its code.
        "<td>东大街社区居委会</td>",
    ] {
        assert!(html.contains(want), "{want} in the page");
    }
    assert!(
        !html.contains("511802001001"),
        "no village code on the page"
    );
    let csrf = csrf_in(&html);
    let r = director
        .post(app.url(&format!("/repricing/{id}")))
        .form(&[("_csrf", csrf.as_str()), ("action", "sign_off")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let html = director
        .get(app.url(&to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("已签发"), "{html}");
    assert_eq!(monthly_of(app, eid).await, 12_000);
    let review: Value = staff
        .get(app.url(&format!("/api/v1/repricing/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(review["batch"]["status"], "applied");
    assert_eq!(review["batch"]["decided_by"], "director");
    // The list page shows it among the batches.
    let list = staff
        .get(app.url("/repricing"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("调标批次") && list.contains("东城街道"),
        "{list}"
    );
}
