//! Browser end-to-end test of a death that stops the money (殡葬管理, 追回): a real headless
//! Chromium, driven through chromedriver with fantoccini, against the real server
//! (`TestApp`) over a fresh SQLite database seeded with the demo city. Same harness as
//! `e2e.rs`.
//!
//! 王大山 of 东城街道 receives 特困 support; October and November were paid (signed off and
//! exported) and December is an unsigned draft — then the village reports that he died on
//! 15 September, the registry marks him dead and the night's cross-checks raise findings
//! (死亡人员仍在保, 死亡后仍有发放). In the browser, the clerk (staff):
//! 1. sees the findings on the dashboard and in the 数据比对 worklist;
//! 2. records the death on the 殡葬管理 page; a refused form (another name for his ID number)
//!    keeps what was typed and says who is registered under it;
//! 3. sees the death's page list two recoveries, October and November, of 800 元 each;
//! 4. finds December's draft without him, his enrolment ended with September, and the
//!    findings closed by themselves;
//! 5. records October's money as recovered on the recovery list.
//!
//! Needs `chromium` and `chromedriver`; without them `cargo test` lists the test as ignored,
//! except under CI, where their absence is a failure.

mod browser;

use browser::*;

use fantoccini::{Client, Locator};
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::testing::payroll::{self as fixtures, FixtureEnrolment};
use minzheng_app::testing::TestDb;
use minzheng_app::App;
use minzheng_domain::payroll::{GenerateRequest, PayrollBatch};
use minzheng_domain::registry::{NewHousehold, PersonInput};
use minzheng_domain::{Actor, Program, YearMonth};
use minzheng_web::testing::TestApp;

const V1: &str = "511802001001";
const WANG: &str = "511802194501010019";

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_a_late_death_stops_payment_and_opens_recoveries() {
    let (chromium, chromedriver) = browser_tools();
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    let december = seed(&app.db.app).await;

    let outcome = tokio::spawn(scenario(client.clone(), app.base.clone(), december.id)).await;
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

fn req(m: &str) -> GenerateRequest {
    GenerateRequest {
        month: YearMonth::parse(m).unwrap(),
        program: Some(Program::Tekun),
        within: None,
    }
}

/// The demo city, 王大山 and a neighbour on 特困, October and November paid, December a
/// draft; returns December's batch.
async fn seed(app: &App) -> PayrollBatch {
    app.demo().ensure().await.expect("seed demo");
    app.registry()
        .create(
            &Actor::system("t"),
            &NewHousehold {
                head_health: "健康".into(),
                head_work_capacity: "有劳动能力".into(),
                village_code: V1.into(),
                registration_type: "农村".into(),
                address: "和平路1号".into(),
                bank_name: "四川农信".into(),
                account_number: "6228480000000000001".into(),
                account_holder: "王大山".into(),
                head_name: "王大山".into(),
                head_id_number: WANG.into(),
                ..Default::default()
            },
        )
        .await
        .expect("register");
    for (name, id) in [("王大山", WANG), ("李四", "511802195001010025")] {
        fixtures::enrol(
            app,
            &FixtureEnrolment::new(Program::Tekun, V1, name, id, 80_000, "2026-01"),
        )
        .await
        .expect("enrol");
    }
    let staff = fixtures::actor(app, "staff").await.unwrap();
    let director = fixtures::actor(app, "director").await.unwrap();
    for m in ["2026-10", "2026-11"] {
        let out = app.payroll().generate(&staff, &req(m)).await.unwrap();
        let b = &out.created[0];
        app.payroll().sign_off(&director, b.id, None).await.unwrap();
        app.bank_files()
            .export(&staff, b.id, "utf8-csv")
            .await
            .unwrap();
    }
    let out = app
        .payroll()
        .generate(&staff, &req("2026-12"))
        .await
        .unwrap();
    let december = out.created.into_iter().next().expect("December's draft");
    // The registry learns of the death first; the night's checks see the money still going.
    let sys = Actor::system("t");
    let person = app.registry().search(&sys, WANG, 1).await.unwrap()[0].id;
    app.registry()
        .update_person(
            &sys,
            person,
            &PersonInput {
                health: "健康".into(),
                work_capacity: "有劳动能力".into(),
                name: "王大山".into(),
                id_number: WANG.into(),
                relation: "户主".into(),
                status: "死亡".into(),
                status_date: "2026-09-15".into(),
                ..Default::default()
            },
        )
        .await
        .expect("mark dead in the registry");
    let report = app.checks().run(&staff, today()).await.unwrap();
    assert!(report.new_findings() >= 3, "{report:?}");
    december
}

fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap()
}

async fn scenario(c: Client, base: String, december: i64) {
    let url = |path: &str| format!("{base}{path}");

    c.goto(&url("/login")).await.expect("open /login");
    fill(&c, "#username", "staff").await;
    fill(&c, "#password", DEMO_PASSWORD).await;
    click(&c, "#signin").await;
    wait_text(&c, "h1", "工作台").await;

    // 1. The findings: on the dashboard and in the worklist.
    let open = wait_for(&c, "#open-findings").await.text().await.unwrap();
    assert_ne!(open.trim(), "0", "the dashboard shows the open findings");
    click_link(&c, "header nav", "数据比对").await;
    wait_url(&c, "/checks").await;
    let list = wait_text(&c, "#findings", "死亡人员仍在保").await;
    assert!(
        list.contains("王大山") && list.contains("死亡后仍有发放"),
        "{list}"
    );

    // December's draft pays him before the death is recorded.
    c.goto(&url(&format!("/payroll/batches/{december}")))
        .await
        .expect("open December");
    wait_text(&c, "main", "王大山").await;

    // 2. The 殡葬管理 page; a refused form keeps what was typed.
    click_link(&c, "header nav", "殡葬管理").await;
    wait_url(&c, "/funerals").await;
    click(&c, "#record-death summary").await;
    fill(&c, "input[name=id_number]", WANG).await;
    fill(&c, "input[name=name]", "王小山").await;
    let date = wait_for(&c, "input[name=death_date]").await;
    // A date input takes the digits in the browser's order (yyyy-mm-dd in this locale);
    // setting the value is locale-proof.
    c.execute(
        "arguments[0].value = '2026-09-15';",
        vec![serde_json::to_value(&date).unwrap()],
    )
    .await
    .expect("set date");
    c.find(Locator::Css(
        "select[name=certificate_kind] option[value=medical]",
    ))
    .await
    .expect("certificate kind")
    .click()
    .await
    .expect("choose");
    fill(&c, "input[name=certificate_no]", "N5118020001").await;
    c.find(Locator::Css(
        "select[name=disposal] option[value=cremation]",
    ))
    .await
    .expect("disposal")
    .click()
    .await
    .expect("choose");
    fill(&c, "input[name=cremation_no]", "H2026-0915").await;
    fill(&c, "input[name=funeral_home]", "雅安市殡仪馆").await;
    click(&c, "#record-submit").await;
    let err = wait_text(&c, "#err-name", "王大山").await;
    assert!(err.contains("王小山"), "{err}");
    let kept = c
        .find(Locator::Css("input[name=certificate_no]"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(kept, "N5118020001", "the refused form keeps what was typed");
    fill(&c, "input[name=name]", "王大山").await;
    click(&c, "#record-submit").await;

    // 3. The death's page: two months to recover.
    wait_url(&c, "/funerals/").await;
    wait_text(&c, "#notice", "停发").await;
    let table = wait_text(&c, "#recoveries", "2026-11").await;
    assert!(table.contains("2026-10"), "{table}");
    assert!(table.contains("800.00"), "{table}");
    assert!(table.contains("待追回"), "{table}");

    // 4. December's draft no longer pays him; his neighbour is still paid.
    c.goto(&url(&format!("/payroll/batches/{december}")))
        .await
        .expect("open December");
    let lines = wait_text(&c, "#lines", "李四").await;
    assert!(
        !lines.contains("王大山"),
        "December still pays him: {lines}"
    );
    // The review before sign-off says why he is gone.
    let diff = wait_text(&c, "#diff", "王大山").await;
    assert!(diff.contains("停发"), "{diff}");
    c.goto(&url("/enrolments?status=ended"))
        .await
        .expect("ended enrolments");
    wait_text(&c, "main", "王大山").await;

    // The findings closed themselves: nothing is left to verify.
    c.goto(&url("/checks")).await.expect("worklist");
    wait_text(&c, "#findings", "没有符合条件的疑点").await;
    c.goto(&url("/checks?state=closed"))
        .await
        .expect("closed findings");
    let closed = wait_text(&c, "#findings", "已自动关闭").await;
    assert!(closed.contains("王大山"), "{closed}");

    // 5. October's money comes back.
    c.goto(&url("/recoveries")).await.expect("recoveries");
    let first = wait_for(&c, "#recovery-list tbody tr").await;
    first
        .find(Locator::Css("input[name=note]"))
        .await
        .expect("note")
        .send_keys("2026-12-03 家属退回现金")
        .await
        .expect("type note");
    first
        .find(Locator::Css("button[value=recovered]"))
        .await
        .expect("recovered button")
        .click()
        .await
        .expect("click");
    wait_text(&c, "#notice", "已登记追回").await;
    let list = wait_text(&c, "#recovery-list", "已追回").await;
    assert!(list.contains("待追回"), "November still open: {list}");
    wait_text(&c, "h1", "已追回 800.00元").await;
}
