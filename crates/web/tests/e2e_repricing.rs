//! Browser end-to-end test of 调标批次: April's 高龄津贴 age-band batch has been prepared (as
//! the monthly task does) with 周桂英, who turned 90 in March. The township director opens it
//! from the payroll page, reads the old and new amounts, opens the sign-off, which says what
//! will happen, confirms, and the enrolment pays the new band.
//!
//! Needs `chromium` and `chromedriver`; listed as ignored without them, a failure under CI.

mod browser;

use browser::*;

use fantoccini::Client;
use minzheng_app::testing::payroll::{self as fixtures, FixtureEnrolment};
use minzheng_app::testing::TestDb;
use minzheng_domain::{Actor, Fen, IdNumber, Program, YearMonth};
use minzheng_web::testing::TestApp;

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_the_director_signs_an_age_band_batch_off() {
    let (chromium, chromedriver) = browser_tools();
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    let (eid, batch) = prepared_batch(&app).await;
    let outcome = tokio::spawn(scenario(client.clone(), app.base.clone(), batch)).await;
    let _ = client.close().await;
    let paid = app
        .db
        .app
        .cases()
        .enrolments(&Actor::system("t"), &Default::default())
        .await
        .unwrap()
        .0
        .into_iter()
        .find(|e| e.id == eid)
        .unwrap()
        .monthly_fen;
    app.stop().await;
    drop(driver);
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("e2e scenario task failed: {e}");
    }
    assert_eq!(paid, Fen(12_000), "the 90–99 band from April");
}

/// 周桂英's enrolment (60 元, the 80–89 band) and April's batch of 东城街道 holding her.
async fn prepared_batch(app: &TestApp) -> (i64, i64) {
    let a = &app.db.app;
    let first17 = "51180219360315002";
    let c = IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    let eid = fixtures::enrol(
        a,
        &FixtureEnrolment::new(
            Program::OldAgeAllowance,
            "511802001001",
            "周桂英",
            &format!("{first17}{c}"),
            6_000,
            "2025-01",
        ),
    )
    .await
    .unwrap();
    let prepared = a
        .repricing()
        .prepare_age_bands(
            &Actor::system("monthly-repricing"),
            YearMonth::parse("2026-04").unwrap(),
            None,
            chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
        )
        .await
        .unwrap();
    let batch = prepared
        .batches
        .iter()
        .find(|b| b.township_code == "511802001")
        .expect("东城街道's batch")
        .id;
    (eid, batch)
}

async fn scenario(c: Client, base: String, batch: i64) {
    sign_in(&c, &base, "director", "张伟").await;
    c.goto(&format!("{base}/payroll")).await.unwrap();
    click(&c, "#link-repricing").await;
    wait_url(&c, "/repricing").await;
    let row = wait_text(&c, &format!("#repricing-{batch}"), "待审核").await;
    assert!(
        row.contains("东城街道") && row.contains("年龄段变化"),
        "{row}"
    );
    click_link(&c, &format!("#repricing-{batch}"), "2026-04").await;
    wait_url(&c, &format!("/repricing/{batch}")).await;
    let line = wait_text(&c, "#lines", "周桂英").await;
    for want in ["60.00元", "120.00元", "90周岁"] {
        assert!(line.contains(want), "{want} in {line}");
    }
    // The sign-off opens on what it will do, then asks for the confirmation.
    click(&c, "#sign-off-open").await;
    let what = wait_text(&c, "#sign-off-what", "自2026-04起按新金额发放").await;
    assert!(what.contains("不能撤销"), "{what}");
    click(&c, "#sign-off").await;
    wait_text(&c, "#notice", "已签发").await;
    wait_text(&c, "#batch-status", "已签发").await;
}
