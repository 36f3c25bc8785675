//! Browser end-to-end test of office standardization (规范化建设): a real headless Chromium,
//! driven through chromedriver with fantoccini, against the real server (`TestApp`) over a
//! fresh SQLite database seeded with the demo city 四川省雅安市. Same harness as `e2e.rs`.
//!
//! It proves, as the city administrator sees it in a browser, that:
//! - the console (规范化建设 in the top navigation) lists every office with its compliance and
//!   shows the per-county bar chart;
//! - drilling into 东城街道民政办公室 shows each rule met, and an inspection can be opened there;
//! - the inspectors' manual items are scored in the checklist, a photo is uploaded (multipart
//!   with the CSRF token in the form's URL) and shown on the record;
//! - passing the inspection grants the subsidy — half of 东城's recorded 91,456.78元
//!   investment, 45,728.39元 — which appears in the subsidy ledger as awaiting payment.
//!
//! Needs `chromium` and `chromedriver`; without them `cargo test` lists the test as ignored,
//! except under CI, where their absence is a failure.

mod browser;

use browser::*;
use std::path::PathBuf;

use fantoccini::{Client, Locator};
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::testing::TestDb;
use minzheng_web::testing::TestApp;

/// A real 1×1 PNG, so the browser can render the uploaded photo.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f,
    0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_city_admin_inspects_passes_and_sees_subsidy() {
    let (chromium, chromedriver) = browser_tools();
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    let photo_dir = tempfile::tempdir().expect("temp dir");
    let photo = photo_dir.path().join("现场照片.png");
    std::fs::write(&photo, PNG).expect("write photo");

    // Run the scenario in its own task so that a failed assertion still lets us close the
    // browser and stop the server before reporting it (the guard then kills chromedriver).
    let outcome = tokio::spawn(scenario(client.clone(), app.base.clone(), photo)).await;
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

async fn scenario(c: Client, base: String, photo: PathBuf) {
    let url = |path: &str| format!("{base}{path}");

    // 1. Sign in as the city administrator.
    c.goto(&url("/login")).await.expect("open /login");
    fill(&c, "#username", "admin").await;
    fill(&c, "#password", DEMO_PASSWORD).await;
    click(&c, "#signin").await;
    wait_text(&c, "h1", "工作台").await;

    // 2. The console: every office, the chart, the statuses.
    click_link(&c, "header nav", "规范化建设").await;
    wait_url(&c, "/standards").await;
    let table = wait_text(&c, "#standards-console", "东城街道民政办公室").await;
    for expected in ["逾期未报", "验收通过", "验收未通过", "检查中"] {
        assert!(table.contains(expected), "console shows {expected:?}");
    }
    wait_text(&c, "#county-chart", "雨城区").await;

    // 3. Drill into 东城街道: every rule met.
    click_link(&c, "#standards-console", "东城街道民政办公室").await;
    wait_url(&c, "/standards/offices/511802001").await;
    wait_text(&c, "#office-name", "东城街道民政办公室").await;
    wait_text(&c, "#compliance", "100%").await;
    let rules = wait_text(&c, "#rule-table", "三室且总面积不少于60㎡").await;
    assert!(!rules.contains("未达标"), "all rules met: {rules}");

    // 4. Open an inspection.
    fill(&c, "#inspectors", "王建国、李秀英").await;
    click(&c, "#open-inspection-button").await;
    wait_url(&c, "/standards/inspections/").await;
    wait_text(&c, "#inspection-status", "检查中").await;
    // The 14 basic rules are pre-scored at 5 points each; the 3 manual items (10 each) await
    // the inspectors.
    wait_text(&c, "#inspection-score", "70 / 100").await;

    // 5. Score the manual items.
    let manual = c
        .find_all(Locator::Css("input.score[data-manual='1']"))
        .await
        .expect("manual score inputs");
    assert_eq!(manual.len(), 3, "three manual checklist items");
    // A score that is not a number is refused; every score typed stays as typed.
    for (i, input) in manual.iter().enumerate() {
        input.clear().await.expect("clear score");
        let typed = if i == 0 { "十分" } else { "10" };
        input.send_keys(typed).await.expect("type score");
    }
    click(&c, "#save-scores").await;
    wait_for(&c, ".alert.error").await;
    let kept = c
        .execute(
            "return Array.from(document.querySelectorAll(\"input.score[data-manual='1']\")).map(i => i.value).join(',')",
            vec![],
        )
        .await
        .expect("scores as shown");
    assert_eq!(kept.as_str(), Some("十分,10,10"), "the refused scores kept");
    let manual = c
        .find_all(Locator::Css("input.score[data-manual='1']"))
        .await
        .expect("manual score inputs");
    for input in manual {
        input.clear().await.expect("clear score");
        input.send_keys("10").await.expect("type score");
    }
    click(&c, "#save-scores").await;
    wait_text(&c, "#inspection-score", "100 / 100").await;

    // 6. Upload a photo of the premises.
    let file = wait_for(&c, "#photo-file").await;
    file.send_keys(photo.to_str().expect("utf-8 path"))
        .await
        .expect("choose photo");
    click(&c, "#upload-photo").await;
    wait_for(&c, "#inspection-photos img").await;
    wait_text(&c, "#inspection-photos", "现场照片.png").await;

    // 7. Pass it: the subsidy is half the recorded investment.
    fill(
        &c,
        "#decide-form textarea",
        "达到规范化建设标准，同意验收。",
    )
    .await;
    // Passing says what it grants first.
    click(&c, "#pass-open").await;
    wait_text(&c, "#pass-what", "建设补助").await;
    click(&c, "#pass-button").await;
    wait_text(&c, "#inspection-status", "验收通过").await;
    wait_text(&c, "#findings", "同意验收").await;
    wait_text(&c, "#subsidy-line", "45,728.39元").await;

    // 8. The subsidy ledger lists it, awaiting payment.
    click_link(&c, "main", "查看补助资金台账").await;
    wait_url(&c, "/standards/subsidies").await;
    let ledger = wait_text(&c, "#subsidy-ledger", "东城街道民政办公室").await;
    let row = ledger
        .lines()
        .find(|l| l.contains("东城街道民政办公室"))
        .unwrap_or_default()
        .to_string();
    assert!(
        row.contains("45,728.39元") && row.contains("91,456.78元") && row.contains("待拨付"),
        "ledger row: {row:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Browser helpers. Each waits (up to WAIT) instead of assuming a page has finished loading.
