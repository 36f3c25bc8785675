//! Browser end-to-end test of 操作日志: the auditor (赵敏) filters the log by a person
//! chosen by name, by what was done and by Beijing day, sees only those records with people
//! by name, and downloads what the filter shows as 操作日志.xlsx.
//!
//! Needs `chromium` and `chromedriver`; listed as ignored without them, a failure under CI.

mod browser;

use browser::*;

use fantoccini::{Client, Locator};
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::testing::TestDb;
use minzheng_web::testing::TestApp;

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_the_auditor_filters_the_log_and_exports_it() {
    let (chromium, chromedriver) = browser_tools();
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    // 刘芳 (staff) and 张伟 (director) sign in: each is a record of the log.
    for user in ["staff", "director"] {
        app.db
            .app
            .users()
            .authenticate(user, DEMO_PASSWORD, chrono::Utc::now())
            .await
            .unwrap()
            .unwrap();
    }
    let outcome = tokio::spawn(scenario(client.clone(), app.base.clone())).await;
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

async fn scenario(c: Client, base: String) {
    c.goto(&format!("{base}/login")).await.expect("open /login");
    fill(&c, "#username", "auditor").await;
    fill(&c, "#password", DEMO_PASSWORD).await;
    click(&c, "#signin").await;
    wait_text(&c, "#current-user", "赵敏").await;
    click_link(&c, "header nav", "操作日志").await;
    wait_url(&c, "/audit").await;
    wait_text(&c, "#audit-list", "张伟").await;

    // The person as the list offers them, by name; the action by its label; today (Beijing).
    let options = c
        .execute(
            "return Array.from(document.querySelectorAll('#audit-people option')).map(o => o.value).join('|')",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        options
            .as_str()
            .unwrap_or_default()
            .contains("刘芳（staff）"),
        "{options}"
    );
    fill(&c, "#f-actor", "刘芳").await;
    wait_for(&c, "#f-action")
        .await
        .select_by_value("auth.signin")
        .await
        .expect("choose 登录");
    let today = (chrono::Utc::now() + chrono::Duration::hours(8))
        .date_naive()
        .to_string();
    c.execute(
        "document.getElementById('f-from').value = arguments[0]; document.getElementById('f-to').value = arguments[0];",
        vec![serde_json::Value::String(today.clone())],
    )
    .await
    .unwrap();
    click(&c, "#f-apply").await;
    wait_url(&c, "actor=").await;
    let list = wait_text(&c, "#audit-list", "刘芳（staff）").await;
    assert!(!list.contains("张伟"), "only 刘芳's records: {list}");
    assert!(list.contains("登录"), "{list}");
    assert!(
        !list.contains("auth.signin"),
        "actions by their label: {list}"
    );
    assert_eq!(
        wait_for(&c, "#f-actor")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default(),
        "刘芳",
        "the filter keeps what was typed"
    );
    // A day range that holds nothing says so.
    c.goto(&format!("{base}/audit?from=2999-01-01"))
        .await
        .unwrap();
    wait_text(&c, "#audit-list", "没有符合条件的记录").await;
    c.back().await.unwrap();
    wait_text(&c, "#audit-list", "刘芳（staff）").await;

    // The export serves the filtered log as 操作日志.xlsx (fetched with the browser's session).
    let href = wait_for(&c, "#audit-export")
        .await
        .attr("href")
        .await
        .unwrap()
        .expect("export link");
    assert!(
        href.contains("actor=staff") && href.contains(&today),
        "{href}"
    );
    let got = c
        .execute(
            "return fetch(arguments[0]).then(r => r.status + ' ' + r.headers.get('content-disposition'));",
            vec![serde_json::Value::String(href)],
        )
        .await
        .unwrap();
    let got = got.as_str().unwrap_or_default().to_string();
    assert!(got.starts_with("200 "), "{got}");
    assert!(
        got.contains("filename*=UTF-8''%E6%93%8D%E4%BD%9C%E6%97%A5%E5%BF%97.xlsx"),
        "{got}"
    );
    assert!(c.find(Locator::Css("#f-from-error")).await.is_err());
}
