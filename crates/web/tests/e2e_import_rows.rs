//! Browser end-to-end test of the import report's row numbers: a township clerk uploads a
//! ledger saved with Windows line ends (CRLF), an address typed on two lines inside one
//! cell and a blank line, and the report names the row of the wrong ID number as Excel or
//! WPS shows it; the upload leaves no security token in the address bar.
//!
//! Needs `chromium` and `chromedriver`; listed as ignored without them, a failure under CI.

mod browser;

use browser::*;
use std::path::PathBuf;

use fantoccini::Client;
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::formats::ledger::ledger_csv;
use minzheng_app::formats::synthetic::generate_ledger;
use minzheng_app::testing::TestDb;
use minzheng_domain::registry::Column;
use minzheng_web::testing::TestApp;

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_import_report_names_the_row_excel_shows() {
    let (chromium, chromedriver) = browser_tools();
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    let ledger = driver.profile.path().join("台账.csv");
    let mut rows = generate_ledger(4, 17, &["511802001002".to_string()]);
    assert!(rows.len() > 6);
    // Data row k is sheet row k + 2 (the header is row 1); a blank line after data row 3
    // is sheet row 6, so data row 5 is sheet row 8.
    rows[1][Column::Address as usize] = "和平路\n1号".into();
    rows[5][Column::IdNumber as usize] = "51180219800101001Y".into();
    let csv = String::from_utf8(ledger_csv(&rows).unwrap()).unwrap();
    let mut lines: Vec<&str> = csv.split_inclusive('\n').collect();
    let after_row3 = lines.iter().position(|l| l.contains("1号")).unwrap() + 3;
    lines.insert(after_row3, "\n");
    std::fs::write(&ledger, lines.concat().replace('\n', "\r\n")).unwrap();

    let outcome = tokio::spawn(scenario(client.clone(), app.base.clone(), ledger)).await;
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

async fn scenario(c: Client, base: String, ledger: PathBuf) {
    let url = |path: &str| format!("{base}{path}");
    c.goto(&url("/login")).await.expect("open /login");
    fill(&c, "#username", "staff").await;
    fill(&c, "#password", DEMO_PASSWORD).await;
    click(&c, "#signin").await;
    wait_text(&c, "#current-user", "刘芳").await;

    click_link(&c, "header nav", "户籍台账").await;
    click(&c, "#import-link").await;
    let input = wait_for(&c, "#import-file").await;
    input
        .send_keys(&ledger.display().to_string())
        .await
        .expect("choose file");
    click(&c, "#import-button").await;
    wait_for(&c, "#import-issues").await;
    // The security token travelled in the form, not in the address the browser keeps.
    let address = here(&c).await;
    assert!(!address.contains("_csrf"), "{address}");
    let issues = c
        .execute(
            "return Array.from(document.querySelectorAll('#import-issues tbody tr'))
               .map(tr => tr.cells[0].innerText.trim() + '|' + tr.cells[1].innerText.trim());",
            vec![],
        )
        .await
        .expect("read the report");
    let issues: Vec<String> = serde_json::from_value(issues).unwrap();
    assert!(
        issues.iter().any(|i| i == "8|身份证号"),
        "the wrong ID number is reported on sheet row 8: {issues:?}"
    );
    assert!(
        !issues
            .iter()
            .any(|i| i == "7|身份证号" || i == "9|身份证号"),
        "{issues:?}"
    );
}
