//! Browser end-to-end test of a registry correction: a real headless Chromium against the
//! real server over a fresh SQLite database with the demo city.
//!
//! The township clerk (staff, 东城街道) opens a household's page, presses 修改 on a
//! member's row and changes her health; saving without a reason is refused with the message
//! beside the field and the choice kept; with a reason the page returns to the household
//! with a confirmation, the new health in the member's row and the change with its reason in
//! the household's history.
//!
//! Needs `chromium` and `chromedriver`; listed as ignored without them, a failure under CI.

mod browser;

use browser::*;

use fantoccini::{Client, Locator};
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::testing::TestDb;
use minzheng_domain::registry::{NewHousehold, PersonInput};
use minzheng_domain::Actor;
use minzheng_web::testing::TestApp;

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_corrects_a_members_health_with_a_reason() {
    let (chromium, chromedriver) = browser_tools();
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    let (hid, pid) = household(&app).await;

    let outcome = tokio::spawn(scenario(client.clone(), app.base.clone(), hid, pid)).await;
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

fn id18(first17: &str) -> String {
    let c = minzheng_domain::IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    format!("{first17}{c}")
}

/// 蒋华's household in 东城村 with his wife 沈梅 (healthy, able to work).
async fn household(app: &TestApp) -> (i64, i64) {
    let a = &app.db.app;
    let sys = Actor::system("t");
    let h = a
        .registry()
        .create(
            &sys,
            &NewHousehold {
                village_code: "511802001001".into(),
                registration_type: "农村".into(),
                head_name: "蒋华".into(),
                head_id_number: id18("51180219570707105"),
                head_health: "慢性病".into(),
                head_work_capacity: "部分丧失劳动能力".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let d = a
        .registry()
        .add_member(
            &sys,
            h.household.id,
            &PersonInput {
                name: "沈梅".into(),
                id_number: id18("51180219590808206"),
                relation: "配偶".into(),
                health: "健康".into(),
                work_capacity: "有劳动能力".into(),
                employment: "务农".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let pid = d.members.iter().find(|m| m.name == "沈梅").unwrap().id;
    (h.household.id, pid)
}

async fn select(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(&format!("{css} option[value='{value}']")))
        .await
        .expect("option")
        .click()
        .await
        .expect("select");
}

async fn scenario(c: Client, base: String, hid: i64, pid: i64) {
    let url = |path: &str| format!("{base}{path}");
    c.goto(&url("/login")).await.expect("open /login");
    fill(&c, "#username", "staff").await;
    fill(&c, "#password", DEMO_PASSWORD).await;
    click(&c, "#signin").await;
    wait_text(&c, "#current-user", "刘芳").await;

    c.goto(&url(&format!("/households/{hid}")))
        .await
        .expect("open the household");
    wait_text(&c, "#household-title", "蒋华户").await;
    click(&c, &format!("#edit-member-{pid}")).await;
    wait_text(&c, "#correct-title", "修改成员：沈梅（配偶）").await;

    // No reason: refused beside the field, the new health kept.
    select(&c, "#health", "serious").await;
    select(&c, "#work_capacity", "none").await;
    click(&c, "#save-correction").await;
    wait_text(&c, "#err-reason", "请填写修改原因").await;
    let kept = wait_for(&c, "#health").await.prop("value").await.unwrap();
    assert_eq!(kept.as_deref(), Some("serious"), "the choice is kept");

    // With a reason: back on the household page with the change and its reason.
    fill(&c, "#reason", "入户核查发现患尿毒症，需长期透析").await;
    click(&c, "#save-correction").await;
    wait_text(&c, "#notice", "成员信息已修改").await;
    let members = wait_text(&c, "#members", "重特大疾病").await;
    assert!(members.contains("无劳动能力"), "{members}");
    let history = wait_text(&c, "#history", "修改成员情况").await;
    assert!(
        history.contains("健康状况：健康 → 重特大疾病")
            && history.contains("入户核查发现患尿毒症，需长期透析"),
        "{history}"
    );
}
