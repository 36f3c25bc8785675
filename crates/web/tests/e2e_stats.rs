//! Browser end-to-end test of 统计月报: November's ledgers hold 张大山's 城市低保 household of
//! two (paid and signed off) and 李桂英's new 农村低保 household. The township director sees
//! the dashboard's chart, opens the report from the menu, reads the figures and the chart, follows the 城市低保 households
//! to the record behind them; the page fits a phone's width with its table scrolling inside
//! itself; the city administrator locks the month, and the page says so.
//!
//! Needs `chromium` and `chromedriver`; listed as ignored without them, a failure under CI.

mod browser;

use std::path::Path;

use browser::*;

use fantoccini::Client;
use minzheng_app::testing::payroll::{self as fixtures, FixtureEnrolment};
use minzheng_app::testing::TestDb;
use minzheng_domain::payroll::GenerateRequest;
use minzheng_domain::registry::{NewHousehold, PersonInput};
use minzheng_domain::{Actor, IdNumber, Program, YearMonth};
use minzheng_web::testing::TestApp;

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_the_monthly_report_is_read_followed_and_locked() {
    let (chromium, chromedriver) = browser_tools();
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    ledgers(&app).await;
    let outcome = tokio::spawn(scenario(client.clone(), app.base.clone())).await;
    let _ = client.close().await;
    let locked = app
        .db
        .app
        .stats()
        .month(&Actor::system("t"), month(), None)
        .await
        .unwrap()
        .locked
        .is_some();
    app.stop().await;
    drop(driver);
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("e2e scenario task failed: {e}");
    }
    assert!(locked, "the month is locked");
}

fn month() -> YearMonth {
    YearMonth::parse("2026-11").unwrap()
}

fn id(birth: &str, seq: u32) -> String {
    let first = format!("511802{birth}{seq:03}");
    let c = IdNumber::check_char(first.as_bytes()).unwrap();
    format!("{first}{}", c as char)
}

async fn ledgers(app: &TestApp) {
    let a = &app.db.app;
    let sys = Actor::system("t");
    let zhang = id("19700101", 11);
    let h = a
        .registry()
        .create(
            &sys,
            &NewHousehold {
                head_health: "健康".into(),
                head_work_capacity: "有劳动能力".into(),
                village_code: "511802001001".into(),
                registration_type: "城镇".into(),
                address: "和平路1号".into(),
                phone: "13800000000".into(),
                bank_name: "中国农业银行".into(),
                account_number: "6228480000000000001".into(),
                account_holder: "张大山".into(),
                head_name: "张大山".into(),
                head_id_number: zhang.clone(),
            },
        )
        .await
        .unwrap()
        .household
        .id;
    a.registry()
        .add_member(
            &sys,
            h,
            &PersonInput {
                name: "王小兰".into(),
                id_number: id("19720202", 12),
                relation: "配偶".into(),
                health: "健康".into(),
                work_capacity: "有劳动能力".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for (program, village, name, number, fen, start) in [
        (
            Program::UrbanDibao,
            "511802001001",
            "张大山",
            zhang.clone(),
            60_000,
            "2026-01",
        ),
        (
            Program::RuralDibao,
            "511802001200",
            "李桂英",
            id("19500505", 22),
            40_000,
            "2026-11",
        ),
    ] {
        fixtures::enrol(
            a,
            &FixtureEnrolment::new(program, village, name, &number, fen, start),
        )
        .await
        .unwrap();
    }
    let out = a
        .payroll()
        .generate(
            &sys,
            &GenerateRequest {
                month: month(),
                program: Some(Program::UrbanDibao),
                within: None,
            },
        )
        .await
        .unwrap();
    for b in &out.created {
        a.payroll().sign_off(&sys, b.id, None).await.unwrap();
    }
}

/// With `MINZHENG_E2E_SCREENSHOTS=DIR`, saves what the browser shows as DIR/NAME.png.
async fn shot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("MINZHENG_E2E_SCREENSHOTS") {
        let png = c.screenshot().await.expect("screenshot");
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).expect("save screenshot");
    }
}

async fn scenario(c: Client, base: String) {
    // The director (东城街道) opens the report from the menu, then November's.
    sign_in(&c, &base, "director", "张伟").await;
    // The dashboard's chart of this month's report, drawn from the API.
    wait_for(&c, "#stats-overview #stats-chart[data-ready='1']").await;
    click(&c, "#menu-stats").await;
    wait_url(&c, "/stats").await;
    wait_text(&c, "h1", "统计月报").await;
    c.goto(&format!("{base}/stats?month=2026-11"))
        .await
        .unwrap();
    wait_text(&c, "#report-title", "东城街道 · 2026年11月").await;
    wait_text(&c, "#total-urban_households", "1").await;
    wait_text(&c, "#total-urban_persons", "2").await;
    wait_text(&c, "#total-urban_fen", "600.00").await;
    wait_text(&c, "#total-rural_new", "1").await;
    // 农村低保's month is not signed off: the warning says so.
    wait_text(
        &c,
        "#warnings",
        "农村低保本月应发400.00元，尚未生成发放批次",
    )
    .await;
    // The chart is drawn from the page's data.
    wait_for(&c, "#stats-chart[data-ready='1']").await;
    shot(&c, "stats-1366").await;

    // At a phone's width the page does not scroll sideways and the report's rows are cards
    // that fit the screen.
    c.set_window_size(390, 844).await.unwrap();
    // The chart follows the window on its resize event, a moment after the window changes:
    // measure until the page has settled at the phone's width (at most five seconds).
    let mut w: Vec<i64> = Vec::new();
    for _ in 0..50 {
        let widths = c
            .execute(
                "const w = document.querySelector('.table-wrap');
                 const t = w.querySelector('table');
                 return [document.documentElement.scrollWidth, window.innerWidth,
                         w.scrollWidth, w.clientWidth,
                         t.classList.contains('row-cards') ? 1 : 0];",
                vec![],
            )
            .await
            .unwrap();
        w = widths
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        if w[1] == 390 && w[0] <= w[1] && w[2] <= w[3] && w[4] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(w[1], 390, "the window is not at the phone's width: {w:?}");
    assert!(w[0] <= w[1], "the page scrolls sideways at 390 px: {w:?}");
    assert!(w[2] <= w[3], "the table is wider than the screen: {w:?}");
    assert_eq!(w[4], 1, "the report's rows are not shown as cards: {w:?}");
    shot(&c, "stats-390").await;
    c.set_window_size(1366, 900).await.unwrap();

    // A figure leads to the records that make it.
    click(&c, "#total-urban_households").await;
    wait_url(&c, "/stats/records").await;
    wait_text(&c, "h1", "城市低保 户数").await;
    wait_text(&c, "#figure", "1户").await;
    let row = wait_text(&c, "#record-list", "张大山").await;
    assert!(
        row.contains("城市最低生活保障") && row.contains("600.00"),
        "{row}"
    );
    assert!(!row.contains("李桂英"), "{row}");
    shot(&c, "stats-records").await;
    click(&c, "#logout").await;
    wait_url(&c, "/login").await;

    // The city administrator locks November.
    sign_in(&c, &base, "admin", "王建国").await;
    c.goto(&format!("{base}/stats?month=2026-11"))
        .await
        .unwrap();
    wait_text(&c, "#report-title", "雅安市 · 2026年11月").await;
    wait_text(&c, "#lock-state", "未锁定").await;
    click(&c, "#lock").await;
    wait_text(&c, "#notice", "已锁定2026年11月的统计").await;
    wait_text(&c, "#lock-state", "王建国锁定").await;
    wait_for(&c, "#reopen-form").await;
    wait_text(&c, "#total-urban_households", "1").await;
}
