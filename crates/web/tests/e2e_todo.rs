//! Browser end-to-end test of 待我办理: each user's dashboard opens with what waits for
//! their own step. A village assistant submits an application; the township clerk's
//! dashboard lists it as waiting for 受理 and it opens on its case page with that step's
//! form; the assistant's own list does not hold it; the auditor, who acts on nothing, is
//! told there is nothing to do.
//!
//! Needs `chromium` and `chromedriver`; listed as ignored without them, a failure under CI.

mod browser;

use browser::*;

use fantoccini::Client;
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::formats::ledger::ledger_csv;
use minzheng_app::formats::synthetic::generate_ledger;
use minzheng_app::registry::import::{ImportInput, ImportOptions};
use minzheng_app::testing::TestDb;
use minzheng_domain::cases::NewCase;
use minzheng_domain::registry::Column;
use minzheng_domain::Actor;
use minzheng_web::testing::TestApp;

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_each_dashboard_opens_with_its_users_todo_list() {
    let (chromium, chromedriver) = browser_tools();
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    let name = submitted_application(&app).await;
    let outcome = tokio::spawn(scenario(client.clone(), app.base.clone(), name)).await;
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

/// One household imported into a village of 东城街道 and its 农村低保 application submitted
/// by the village assistant; returns the head's name.
async fn submitted_application(app: &TestApp) -> String {
    let a = &app.db.app;
    let rows = generate_ledger(1, 23, &["511802001001".to_string()]);
    let head = rows[0][Column::Name as usize].clone();
    let report = a
        .registry()
        .import(
            &Actor::system("t"),
            &ImportInput::Bytes {
                name: "台账.csv".into(),
                data: ledger_csv(&rows).unwrap(),
            },
            &ImportOptions::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
    assert!(report.written, "{:?}", report.issues);
    let assistant = a
        .users()
        .authenticate("assistant", DEMO_PASSWORD, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap()
        .actor()
        .unwrap();
    let found = a.registry().search(&assistant, &head, 5).await.unwrap();
    let hid = found[0].household_id;
    a.cases()
        .create(
            &assistant,
            &NewCase {
                household_id: hid,
                person_id: None,
                program: "rural_dibao".into(),
                reason: "务农收入低".into(),
                details: Default::default(),
                submit: true,
            },
            minzheng_web::cases::today(),
        )
        .await
        .unwrap();
    head
}

async fn scenario(c: Client, base: String, head: String) {
    sign_in(&c, &base, "staff", "刘芳").await;
    let todo = wait_text(&c, "#todo-cases", &head).await;
    assert!(todo.contains("待受理"), "{todo}");
    click(&c, "#todo-cases li a").await;
    wait_url(&c, "/cases/").await;
    wait_text(&c, "main", "受理").await;

    click(&c, "#logout").await;
    wait_text(&c, "body", "您已安全退出").await;
    sign_in(&c, &base, "assistant", "").await;
    c.goto(&format!("{base}/")).await.unwrap();
    let mine = wait_text(&c, "#todo", "待我办理").await;
    assert!(
        !mine.contains(&head),
        "the assistant submitted it; nothing of theirs waits: {mine}"
    );

    click(&c, "#logout").await;
    wait_text(&c, "body", "您已安全退出").await;
    sign_in(&c, &base, "auditor", "").await;
    c.goto(&format!("{base}/")).await.unwrap();
    wait_text(&c, "#todo-empty", "目前没有等待您办理的事项").await;
}
