//! Browser end-to-end test of the application form's program sections: a real headless
//! Chromium against the real server over a fresh SQLite database with the demo city.
//!
//! - Before a program is chosen no program's inputs show;
//! - choosing 特困 shows its self-care assessment and support mode only; 医疗救助 its costs
//!   only; 高龄津贴 none, and the form says it needs none;
//! - the hidden sections are not sent: a 特困 application saved with the medical cost typed
//!   before switching programs keeps no medical cost.
//!
//! Needs `chromium` and `chromedriver`; listed as ignored without them, a failure under CI.

mod browser;
mod common;

use browser::*;

use common::api_login;
use fantoccini::{Client, Locator};
use minzheng_app::testing::TestDb;
use minzheng_domain::case_calc::DetailsSection;
use minzheng_domain::{IdNumber, Program};
use minzheng_web::testing::TestApp;
use serde_json::{json, Value};

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_application_form_shows_the_chosen_programs_inputs_only() {
    let (chromium, chromedriver) = browser_tools();
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    let hid = prepare(&app).await;
    let (staff, _) = api_login(&app, "staff").await;

    let outcome = tokio::spawn(scenario(client.clone(), app.base.clone(), hid, staff)).await;
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
    let c = IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    format!("{first17}{c}")
}

/// A rural household of one, returned by id.
async fn prepare(app: &TestApp) -> i64 {
    let (staff, csrf) = api_login(app, "staff").await;
    let r = staff
        .post(app.url("/api/v1/households"))
        .header("x-csrf-token", &csrf)
        .json(
            &json!({"village_code": "511802001001", "registration_type": "rural",
               "head_name": "蒋长青", "head_id_number": id18("51180219500101135"),
               "head_health": "健康", "head_work_capacity": "无劳动能力"}),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let v: Value = r.json().await.unwrap();
    v["household"]["id"].as_i64().unwrap()
}

/// The sections the page shows now, by name (`details-<name>`).
async fn shown(c: &Client) -> Vec<String> {
    let mut out = Vec::new();
    for f in c.find_all(Locator::Css("fieldset.details")).await.unwrap() {
        if f.is_displayed().await.unwrap() {
            let id = f.attr("id").await.unwrap().unwrap_or_default();
            out.push(id.trim_start_matches("details-").to_string());
        }
    }
    out
}

async fn choose(c: &Client, program: Program) {
    c.find(Locator::Css("#program"))
        .await
        .unwrap()
        .select_by_value(program.as_str())
        .await
        .unwrap();
}

async fn scenario(c: Client, base: String, hid: i64, staff: reqwest::Client) {
    sign_in(&c, &base, "staff", "刘芳").await;
    c.goto(&format!("{base}/cases/new?household_id={hid}"))
        .await
        .unwrap();
    wait_for(&c, "#new-case-form").await;
    assert!(shown(&c).await.is_empty(), "no program chosen yet");
    wait_text(&c, "#details-hint", "选择救助项目后").await;

    for program in [
        Program::MedicalAssistance,
        Program::Tekun,
        Program::UrbanDibao,
    ] {
        choose(&c, program).await;
        let want = minzheng_domain::case_calc::details_section(program)
            .map(DetailsSection::as_str)
            .unwrap();
        assert_eq!(shown(&c).await, vec![want.to_string()], "{program:?}");
    }
    choose(&c, Program::OldAgeAllowance).await;
    assert!(shown(&c).await.is_empty(), "高龄津贴 reads no details");
    wait_text(&c, "#details-hint", "无需填写").await;

    // A cost typed under 医疗救助, then the program changed to 特困: the cost is not sent.
    choose(&c, Program::MedicalAssistance).await;
    fill(&c, "input[name=eligible_cost]", "1200").await;
    choose(&c, Program::Tekun).await;
    c.find(Locator::Css("#person_id"))
        .await
        .unwrap()
        .select_by_index(1)
        .await
        .unwrap();
    fill(&c, "#reason", "无劳动能力、无生活来源").await;
    click(&c, "#submit-application").await;
    wait_url(&c, "ok=submit").await;
    let url = here(&c).await;
    let id: i64 = url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let d: Value = staff
        .get(format!("{base}/api/v1/cases/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["case"]["program"], "tekun");
    assert!(d["case"]["details"]["eligible_cost_fen"].is_null(), "{d}");
    // The case page's details form is the program's section only.
    assert_eq!(shown(&c).await, vec!["tekun".to_string()]);
}
