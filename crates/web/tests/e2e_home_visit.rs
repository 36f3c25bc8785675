//! Browser end-to-end test of the home visit (入户调查) on a phone: Chromium emulating a
//! 390×844 phone. The township clerk opens a case that waits for its home visit; the page
//! fits the phone's width and its photo field opens the camera. The clerk types the survey,
//! the network drops: what was typed is kept on the device (also while typing), submitting
//! says it will be sent when the network returns, and when it does, the survey is sent by
//! itself and recorded once.
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
use minzheng_domain::cases::{Action, ActionExtras, NewCase};
use minzheng_domain::registry::Column;
use minzheng_domain::Actor;
use minzheng_web::testing::TestApp;

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_a_home_visit_on_a_phone_survives_a_dropped_network() {
    let (chromium, chromedriver) = browser_tools();
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect_phone(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    let case = accepted_case(&app).await;
    let outcome = tokio::spawn(scenario(client.clone(), app.base.clone(), case)).await;
    let _ = client.close().await;
    // Recorded once, with what was typed on the phone.
    let staff = actor(&app, "staff").await;
    let d = app
        .db
        .app
        .cases()
        .get(&staff, case, minzheng_web::cases::today())
        .await
        .unwrap();
    app.stop().await;
    drop(driver);
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("e2e scenario task failed: {e}");
    }
    assert_eq!(d.case.state.as_str(), "investigating");
    let visits: Vec<_> = d
        .events
        .iter()
        .filter(|e| e.action.as_str() == "start_investigation")
        .collect();
    assert_eq!(visits.len(), 1, "recorded once: {:?}", d.events);
}

async fn actor(app: &TestApp, user: &str) -> Actor {
    app.db
        .app
        .users()
        .authenticate(user, DEMO_PASSWORD, chrono::Utc::now())
        .await
        .unwrap()
        .unwrap()
        .actor()
        .unwrap()
}

/// A 农村低保 application of a household of 东城街道, submitted by the village assistant and
/// accepted by the township clerk: it waits for the home visit.
async fn accepted_case(app: &TestApp) -> i64 {
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
    let assistant = actor(app, "assistant").await;
    let hid = a.registry().search(&assistant, &head, 5).await.unwrap()[0].household_id;
    let today = minzheng_web::cases::today();
    let id = a
        .cases()
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
            today,
        )
        .await
        .unwrap();
    let staff = actor(app, "staff").await;
    a.cases()
        .act(&staff, id, Action::Accept, &ActionExtras::default(), today)
        .await
        .unwrap();
    id
}

async fn scenario(c: Client, base: String, case: i64) {
    c.goto(&format!("{base}/login")).await.expect("open /login");
    fill(&c, "#username", "staff").await;
    fill(&c, "#password", DEMO_PASSWORD).await;
    click(&c, "#signin").await;
    wait_text(&c, "#current-user", "刘芳").await;
    c.goto(&format!("{base}/cases/{case}")).await.unwrap();
    wait_for(&c, "#act-start_investigation").await;

    // A phone's page: as wide as the phone; the photo field opens the camera.
    let fits = c
        .execute(
            "return [window.innerWidth, document.documentElement.scrollWidth]",
            vec![],
        )
        .await
        .unwrap();
    let (w, sw) = (fits[0].as_i64().unwrap(), fits[1].as_i64().unwrap());
    assert_eq!(w, 390, "the phone's width");
    assert!(sw <= w, "the page scrolls sideways on a phone: {sw} > {w}");
    let photo = wait_for(&c, "#attach-file").await;
    assert_eq!(
        photo.attr("accept").await.unwrap().as_deref(),
        Some("image/*")
    );
    assert!(photo.attr("capture").await.unwrap().is_some());

    // Typed on the phone: kept on the device while typing.
    fill(&c, "#investigator-1", "刘芳").await;
    fill(&c, "#investigator-2", "杨洋").await;
    click(&c, "#authorization").await;
    fill(&c, "#findings", "两位老人务农，房屋老旧").await;
    let kept = c
        .execute("return localStorage.getItem('mz-forms') || ''", vec![])
        .await
        .unwrap();
    assert!(
        kept.as_str().unwrap_or_default().contains("房屋老旧"),
        "the half-filled survey is on the device: {kept}"
    );

    // The network drops; submitting keeps it on the device and says so.
    set_offline(&c, true).await;
    click(&c, "#act-start_investigation button[type=submit]").await;
    wait_text(&c, "#act-start_investigation .offline-note", "网络不通").await;
    assert!(here(&c).await.ends_with(&format!("/cases/{case}")));

    // The network returns: sent by itself, recorded, and the copy on the device forgotten.
    set_offline(&c, false).await;
    wait_url(&c, "ok=start_investigation").await;
    wait_text(&c, "#case-state", "调查核实中").await;
    let kept = c
        .execute("return localStorage.getItem('mz-forms') || ''", vec![])
        .await
        .unwrap();
    assert!(
        !kept.as_str().unwrap_or_default().contains("房屋老旧"),
        "forgotten once recorded: {kept}"
    );
}
