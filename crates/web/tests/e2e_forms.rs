//! Browser end-to-end test of forms that never lose work, and of places chosen by name.
//!
//! A township clerk (staff, 东城街道) on a household page:
//! - adds a member with a wrong ID number and no health or work capacity: every problem is
//!   shown next to its field at once, what was typed stays, and the address bar shows the
//!   household page (not the form's address), so reloading asks nothing and keeps the typing;
//!   opening the form's own address leads to the household page, never a 405 page;
//! - types a member while the session has ended: the sign-in page says 登录已超时，请重新登录,
//!   and after signing in the clerk is back on the household page with the typing restored;
//!   saved, the form is empty again (the copy is forgotten once the server accepted it);
//! - adds a household naming its village by name (东城街道's 新康路社区, as the list offers
//!   it), and finds it by filtering the list by the township's name;
//! - signs out: what the browser kept of the forms is forgotten.
//!
//! Needs `chromium` and `chromedriver`; listed as ignored without them, a failure under CI.

mod browser;

use browser::*;

use fantoccini::{Client, Locator};
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::formats::ledger::ledger_csv;
use minzheng_app::formats::synthetic::generate_ledger;
use minzheng_app::registry::import::{ImportInput, ImportOptions};
use minzheng_app::testing::TestDb;
use minzheng_domain::registry::Column;
use minzheng_domain::Actor;
use minzheng_web::testing::TestApp;

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_forms_keep_what_was_typed_and_places_are_chosen_by_name() {
    let (chromium, chromedriver) = browser_tools();
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    let hid = one_household(&app).await;
    let outcome = tokio::spawn(scenario(client.clone(), app.base.clone(), hid)).await;
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

/// One household imported into 东城街道; returns its id.
async fn one_household(app: &TestApp) -> i64 {
    let a = &app.db.app;
    let rows = generate_ledger(1, 31, &["511802001001".to_string()]);
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
    let found = a
        .registry()
        .search(&Actor::system("t"), &head, 5)
        .await
        .unwrap();
    found[0].household_id
}

async fn sign_in(c: &Client) {
    fill(c, "#username", "staff").await;
    fill(c, "#password", DEMO_PASSWORD).await;
    click(c, "#signin").await;
}

async fn value(c: &Client, css: &str) -> String {
    wait_for(c, css)
        .await
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

async fn select(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(&format!("{css} option[value='{value}']")))
        .await
        .expect("option")
        .click()
        .await
        .expect("select");
}

fn id_number(first17: &str) -> String {
    let check = minzheng_domain::IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    format!("{first17}{check}")
}

async fn scenario(c: Client, base: String, hid: i64) {
    let url = |path: &str| format!("{base}{path}");
    let household = url(&format!("/households/{hid}"));
    c.goto(&url("/login")).await.expect("open /login");
    sign_in(&c).await;
    wait_text(&c, "#current-user", "刘芳").await;

    // 1. A refused member: every problem next to its field, the typing kept, the page's address.
    c.goto(&household).await.unwrap();
    fill(&c, "#member-name", "王小明").await;
    fill(&c, "#member-id", "123").await;
    click(&c, "#add-member-button").await;
    wait_text(&c, "#err-member-id", "身份证号码有误").await;
    wait_text(&c, "#err-member-health", "请选择健康状况").await;
    wait_text(&c, "#err-member-work-capacity", "请选择劳动能力").await;
    assert_eq!(value(&c, "#member-name").await, "王小明");
    assert_eq!(value(&c, "#member-id").await, "123");
    wait_url(&c, &format!("/households/{hid}")).await;
    assert!(
        !here(&c).await.contains("/members"),
        "the form's address left in the address bar: {}",
        here(&c).await
    );
    // Reloading shows the household page again, the typing restored, with a note.
    c.refresh().await.expect("reload");
    wait_text(&c, ".draft-note", "已恢复您上次未能提交成功的内容").await;
    assert_eq!(value(&c, "#member-name").await, "王小明");
    assert_eq!(value(&c, "#member-id").await, "123");
    // The form's own address opened in the browser leads to its page, never a 405.
    c.goto(&url(&format!("/households/{hid}/members")))
        .await
        .unwrap();
    wait_text(&c, "#household-title", "户").await;
    assert!(here(&c).await.ends_with(&format!("/households/{hid}")));

    // 2. The session ends while the clerk types: told plainly, back to the form, typing kept.
    fill(&c, "#member-id", &id_number("51180219900101003")).await;
    select(&c, "#member-health", "healthy").await;
    select(&c, "#member-work-capacity", "full").await;
    c.delete_cookie("mz_session")
        .await
        .expect("end the session");
    click(&c, "#add-member-button").await;
    wait_url(&c, "/login").await;
    let notice = wait_text(&c, ".alert.ok", "登录已超时，请重新登录").await;
    assert!(!notice.contains("CSRF"), "{notice}");
    sign_in(&c).await;
    wait_url(&c, &format!("/households/{hid}")).await;
    wait_text(&c, ".draft-note", "已恢复").await;
    assert_eq!(value(&c, "#member-name").await, "王小明");
    assert_eq!(value(&c, "#member-health").await, "healthy");
    click(&c, "#add-member-button").await;
    wait_text(&c, "#notice", "已保存").await;
    wait_text(&c, "#members", "王小明").await;
    // Accepted: the copy is forgotten; reloading shows an empty form and no note.
    c.refresh().await.expect("reload");
    wait_text(&c, "#members", "王小明").await;
    assert_eq!(value(&c, "#member-name").await, "");
    assert!(c.find(Locator::Css(".draft-note")).await.is_err());

    // 3. A household whose village is chosen by name; the list filtered by township name.
    c.goto(&url("/households/new")).await.unwrap();
    // The list holds the jurisdiction's villages by name (filled by forms.js).
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let n = c
            .execute(
                "return document.querySelectorAll('#places-village option').length",
                vec![],
            )
            .await
            .expect("count options");
        if n.as_i64().unwrap_or(0) > 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no village choices");
        tokio::time::sleep(POLL).await;
    }
    let listed = c
        .execute(
            "return Array.from(document.querySelectorAll('#places-village option')).map(o => o.value + ' ' + o.label).join('\\n')",
            vec![],
        )
        .await
        .expect("options");
    let listed = listed.as_str().unwrap_or_default().to_string();
    assert!(
        listed.contains("新康路社区居委会（东城街道） xklsqjwh"),
        "{listed}"
    );
    fill(&c, "#head_name", "李四").await;
    fill(&c, "#head_id_number", &id_number("51180219700101005")).await;
    select(&c, "#head_health", "healthy").await;
    select(&c, "#head_work_capacity", "full").await;
    fill(&c, "#village_code", "新康路社区居委会（东城街道）").await;
    select(&c, "#registration_type", "urban").await;
    click(&c, "#create-household").await;
    wait_text(&c, "#household-title", "李四户").await;
    let shown = wait_text(&c, "main", "新康路社区居委会").await;
    assert!(shown.contains("新康路社区居委会"));
    assert_eq!(
        value(&c, "#household-village").await,
        "新康路社区居委会（东城街道）"
    );
    // A name outside the jurisdiction is refused next to the field, the typing kept.
    c.goto(&url("/households/new")).await.unwrap();
    fill(&c, "#head_name", "赵五").await;
    fill(&c, "#village_code", "不存在村").await;
    click(&c, "#create-household").await;
    wait_text(&c, "#new-household-form", "没有名为“不存在村”的村(社区)").await;
    assert_eq!(value(&c, "#head_name").await, "赵五");
    // The list filtered by the township's name.
    c.goto(&url(
        "/households?village=%E4%B8%9C%E5%9F%8E%E8%A1%97%E9%81%93",
    ))
    .await
    .unwrap();
    wait_text(&c, "#household-list", "李四").await;

    // Signing out forgets the typing kept in this browser (a shared office computer).
    let kept = |c: Client| async move {
        c.execute("return sessionStorage.getItem('mz-forms') || ''", vec![])
            .await
            .unwrap()
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        kept(c.clone()).await.contains("赵五"),
        "the refused form is kept"
    );
    click(&c, "#logout").await;
    wait_text(&c, "body", "您已安全退出").await;
    assert!(!kept(c.clone()).await.contains("赵五"));
}
