//! Browser end-to-end test of 调整标准: 城市低保 approval is delegated to the townships, and
//! 东城街道's heads receive 城市低保. The city admin adds a higher 城市低保 standard from
//! the first of this month on the parameters page, which says the batches were prepared;
//! the township director finds 东城街道's batch on the 调标批次 page (filtered by reason and
//! program), reads a line, signs it off, and the month's payroll draft, generated next,
//! pays that beneficiary the new amount.
//!
//! Needs `chromium` and `chromedriver`; listed as ignored without them, a failure under CI.

mod browser;

use browser::*;

use fantoccini::Client;
use minzheng_app::testing::TestDb;
use minzheng_domain::params::NewParam;
use minzheng_domain::{Actor, YearMonth};
use minzheng_web::testing::TestApp;

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_a_higher_city_dibao_standard_is_signed_and_paid() {
    let (chromium, chromedriver) = browser_tools();
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    let month = setup(&app).await;
    let outcome = tokio::spawn(scenario(client.clone(), app.base.clone(), month)).await;
    let _ = client.close().await;
    app.stop().await;
    drop(driver);
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("e2e scenario task failed: {e}");
    }
}

/// The registry, 低保 for the heads of 东城街道 and 西城街道, and 城市低保 approved by the
/// townships; returns this month (Beijing time).
async fn setup(app: &TestApp) -> YearMonth {
    let a = &app.db.app;
    a.demo().registry(600, 7).await.unwrap();
    a.demo().payroll_enrolments().await.unwrap();
    a.params()
        .add(
            &Actor::system("t"),
            &NewParam {
                program: "urban_dibao".into(),
                name: "approval_level".into(),
                region: "5118".into(),
                urban_rural: String::new(),
                effective_from: "2026-06-01".into(),
                value_json: "\"township\"".into(),
                source: "委托乡镇审核确认".into(),
            },
        )
        .await
        .unwrap();
    YearMonth::of((chrono::Utc::now() + chrono::Duration::hours(8)).date_naive())
}

async fn scenario(c: Client, base: String, month: YearMonth) {
    // The city admin adds the standard.
    sign_in(&c, &base, "admin", "王建国").await;
    c.goto(&format!("{base}/params?program=urban_dibao"))
        .await
        .unwrap();
    wait_for(&c, "#param-program")
        .await
        .select_by_value("urban_dibao")
        .await
        .expect("choose 城市低保");
    wait_for(&c, "#param-name")
        .await
        .select_by_value("standard")
        .await
        .expect("choose 低保标准");
    fill(&c, "#param-region", "雅安市").await;
    fill(&c, "#param-from", &format!("{}", month.first_day())).await;
    fill(&c, "#param-value", "900").await;
    click(&c, "#add-param").await;
    let notice = wait_text(&c, "#notice", "调整标准批次").await;
    assert!(notice.contains(&format!("已生成{month}起执行")), "{notice}");
    sign_out(&c).await;

    // The director signs 东城街道's batch.
    sign_in(&c, &base, "director", "张伟").await;
    c.goto(&format!(
        "{base}/repricing?status=pending&reason=standard&program=urban_dibao"
    ))
    .await
    .unwrap();
    let row = wait_text(&c, "#repricing-batches", "调整标准").await;
    assert!(row.contains("东城街道") && row.contains("待审核"), "{row}");
    let totals = wait_text(&c, "#township-totals", "城市最低生活保障").await;
    assert!(totals.contains("东城街道"), "{totals}");
    click_link(&c, "#repricing-batches", &month.to_string()).await;
    wait_url(&c, "/repricing/").await;
    let first = wait_for(&c, "#lines tbody tr td")
        .await
        .text()
        .await
        .unwrap();
    let line = row_with(&c, "#lines", &first).await;
    let (name, new_amount) = (line[0].clone(), line[4].clone());
    assert!(line[6].contains("调整标准"), "{line:?}");
    click(&c, "#sign-off-open").await;
    wait_text(&c, "#sign-off-what", &format!("自{month}起按新金额发放")).await;
    click(&c, "#sign-off").await;
    wait_text(&c, "#notice", "已签发").await;
    wait_text(&c, "#batch-status", "已签发").await;

    // The month's payroll, generated now, pays the new amount.
    c.goto(&format!("{base}/payroll?month={month}"))
        .await
        .unwrap();
    click(&c, "#generate").await;
    wait_text(&c, "#notice", "已生成").await;
    let batch_no = format!(
        "{}-511802001-城市最低生活保障",
        month.to_string().replace('-', "")
    );
    click_link(&c, "#batches", &batch_no).await;
    wait_text(&c, "#batch-status", "草稿").await;
    let paid = row_with(&c, "#lines", &name).await;
    assert_eq!(paid[7], new_amount, "{paid:?}");
}
