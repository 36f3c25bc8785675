//! Browser end-to-end test of the pages on a phone: Chromium emulating a 390×844 phone. The
//! village assistant and the township clerk sign in and open their daily pages; on each one
//! the page is no wider than the phone (nothing to scroll sideways), the navigation stays
//! closed until the 菜单 button opens it and then shows its links, and a list table shows
//! each row as a card whose cells carry their column headings, the table's heading row
//! hidden. On a desktop-wide window the same pages keep their tables and their menu.
//!
//! Needs `chromium` and `chromedriver`; listed as ignored without them, a failure under CI.

mod browser;

use browser::*;

use fantoccini::{Client, Locator};
use minzheng_app::testing::payroll::{self as fixtures, FixtureEnrolment};
use minzheng_app::testing::TestDb;
use minzheng_app::App;
use minzheng_domain::payroll::GenerateRequest;
use minzheng_domain::{Actor, Program, YearMonth};
use minzheng_web::testing::TestApp;

/// The month paid in the fixture.
const MONTH: &str = "2026-10";

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_pages_fit_a_phone_with_a_menu_button_and_rows_as_cards() {
    let (chromium, chromedriver) = browser_tools();
    let app = TestApp::start(TestDb::sqlite().await).await;
    let seeded = seed(&app.db.app).await;

    let driver = ChromeDriver::start(&chromedriver);
    let phone = connect_phone(&driver, &chromium).await;
    let outcome = tokio::spawn(on_a_phone(phone.clone(), app.base.clone(), seeded)).await;
    let _ = phone.close().await;
    drop(driver);
    let desktop_outcome = if outcome.is_ok() {
        let driver = ChromeDriver::start(&chromedriver);
        let desktop = connect(&driver, &chromium).await;
        let r = tokio::spawn(on_a_desktop(desktop.clone(), app.base.clone())).await;
        let _ = desktop.close().await;
        drop(driver);
        r
    } else {
        Ok(())
    };
    app.stop().await;
    for r in [outcome, desktop_outcome] {
        if let Err(e) = r {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
            panic!("e2e scenario task failed: {e}");
        }
    }
}

/// What the fixture holds: a household and an approved case of 东大街社区 (the assistant's
/// village, in the clerk's 东城街道) and a payroll batch of the month.
#[derive(Clone, Copy)]
struct Seeded {
    household: i64,
    case: i64,
    batch: i64,
}

async fn seed(app: &App) -> Seeded {
    let people = [
        ("张三", "511802198001010011", 50_000),
        ("李四", "511802198001010022", 42_050),
        ("王五", "511802198001010033", 30_000),
    ];
    let mut enrolments = Vec::new();
    for (name, id_number, fen) in people {
        let e = FixtureEnrolment::new(
            Program::UrbanDibao,
            "511802001001",
            name,
            id_number,
            fen,
            "2026-01",
        );
        enrolments.push(fixtures::enrol(app, &e).await.unwrap());
    }
    let household = fixtures::household_of(app, enrolments[0]).await.unwrap();
    let case = fixtures::case(
        app,
        "YC-DB-2026-0042",
        "new",
        Program::UrbanDibao,
        household,
        Some(enrolments[0]),
    )
    .await
    .unwrap();
    let batch = app
        .payroll()
        .generate(
            &Actor::system("seed"),
            &GenerateRequest {
                month: YearMonth::parse(MONTH).unwrap(),
                program: None,
                within: None,
            },
        )
        .await
        .unwrap()
        .created[0]
        .id;
    Seeded {
        household,
        case,
        batch,
    }
}

/// A page to open, and the list table on it (if any) whose rows must show as cards.
struct Page {
    path: String,
    /// What the page's main content says once it is there.
    shows: &'static str,
    cards: Option<&'static str>,
}

fn page(path: impl Into<String>, shows: &'static str, cards: Option<&'static str>) -> Page {
    Page {
        path: path.into(),
        shows,
        cards,
    }
}

async fn on_a_phone(c: Client, base: String, s: Seeded) {
    sign_in(&c, &base, "assistant", "杨洋").await;
    let assistant = [
        page("/", "工作台", None),
        page("/households", "户籍台账", Some("#household-list")),
        page(format!("/households/{}", s.household), "张三", None),
        page("/cases", "救助案件", Some("#case-list")),
        page(format!("/cases/{}", s.case), "张三", None),
        page("/enrolments", "保障对象", Some("#enrolment-list")),
        page("/cases/new", "新申请", None),
        page("/households/new", "新增家庭户", None),
        page("/account/password", "修改密码", None),
    ];
    for p in &assistant {
        check_page(&c, &base, p).await;
    }
    sign_out(&c).await;

    sign_in(&c, &base, "staff", "刘芳").await;
    let clerk = [
        page("/", "工作台", None),
        page("/households", "户籍台账", Some("#household-list")),
        page(format!("/households/{}", s.household), "张三", None),
        page("/cases", "救助案件", Some("#case-list")),
        page(format!("/cases/{}", s.case), "张三", None),
        page("/enrolments", "保障对象", Some("#enrolment-list")),
        page(
            format!("/payroll?month={MONTH}"),
            "资金发放",
            Some("#batches"),
        ),
        page(
            format!("/payroll/review?month={MONTH}"),
            "本月审核签发",
            Some("table.diff"),
        ),
        page(
            format!("/payroll/batches/{}", s.batch),
            "发放明细",
            Some("#lines"),
        ),
        page("/payroll/ledger", "资金发放台账", Some("#ledger")),
        page("/payroll/exceptions", "退票", None),
        page("/notices", "公示", None),
        page("/stats", "统计月报", None),
        page("/standards", "规范化建设", None),
        page("/funerals", "殡葬", None),
        page("/checks", "比对", None),
        page("/relatives", "近亲属", None),
        page("/params", "参数", None),
        page("/divisions", "行政区划", Some("#division-children")),
        page("/offices", "民政办公室", Some("#office-list")),
    ];
    for p in &clerk {
        check_page(&c, &base, p).await;
    }
}

async fn check_page(c: &Client, base: &str, p: &Page) {
    c.goto(&format!("{base}{}", p.path)).await.unwrap();
    wait_text(c, "main", p.shows).await;
    let at = &p.path;

    // Nothing wider than the phone: the page never scrolls sideways.
    let fits = c
        .execute(
            "return [window.innerWidth, document.documentElement.scrollWidth]",
            vec![],
        )
        .await
        .unwrap();
    let (w, sw) = (fits[0].as_i64().unwrap(), fits[1].as_i64().unwrap());
    assert_eq!(w, 390, "the phone's width at {at}");
    assert!(sw <= w, "{at} scrolls sideways on a phone: {sw} > {w}");

    // The menu is closed until 菜单 is pressed; then its links show; pressed again, it closes.
    let nav = wait_for(c, "#site-nav").await;
    let households_link = c
        .find(Locator::Css("#site-nav a[href='/households']"))
        .await
        .unwrap();
    assert!(
        !nav.is_displayed().await.unwrap() && !households_link.is_displayed().await.unwrap(),
        "the menu is open before 菜单 is pressed at {at}"
    );
    let button = wait_for(c, "#menu-toggle").await;
    assert_eq!(button.text().await.unwrap().trim(), "菜单");
    assert_eq!(
        button.attr("aria-expanded").await.unwrap().as_deref(),
        Some("false")
    );
    button.click().await.unwrap();
    assert!(
        nav.is_displayed().await.unwrap() && households_link.is_displayed().await.unwrap(),
        "菜单 does not open the menu at {at}"
    );
    assert_eq!(
        button.attr("aria-expanded").await.unwrap().as_deref(),
        Some("true")
    );
    let open = c
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(open, true, "the open menu is wider than the phone at {at}");
    button.click().await.unwrap();
    assert!(
        !nav.is_displayed().await.unwrap(),
        "菜单 pressed again does not close the menu at {at}"
    );

    if let Some(table) = p.cards {
        rows_are_cards(c, table, at).await;
    }
}

/// The table's heading row is hidden; its first row is a card (a block, not a table row) whose
/// first cell shows that column's heading before its value.
async fn rows_are_cards(c: &Client, table: &str, at: &str) {
    wait_for(c, &format!("{table} tbody tr td")).await;
    let seen = c
        .execute(
            r#"
            const t = document.querySelector(arguments[0]);
            const heading = t.querySelector("thead th");
            const row = t.querySelector("tbody tr");
            const cell = row.querySelector("td");
            const before = getComputedStyle(cell, "::before");
            return {
                headingText: heading.textContent.trim(),
                headRowShown: t.tHead.getBoundingClientRect().height > 0
                    && getComputedStyle(t.tHead).display !== "none",
                rowDisplay: getComputedStyle(row).display,
                cellDisplay: getComputedStyle(cell).display,
                label: cell.getAttribute("data-label"),
                before: before.content,
                beforeShown: before.display !== "none" && before.content !== "none",
                rowRight: row.getBoundingClientRect().right,
                width: window.innerWidth,
            };
            "#,
            vec![serde_json::json!(table)],
        )
        .await
        .unwrap();
    let heading = seen["headingText"].as_str().unwrap().to_string();
    assert!(!heading.is_empty(), "{table} at {at} has a first heading");
    assert_eq!(
        seen["headRowShown"], false,
        "{table}'s heading row shows at {at}: {seen}"
    );
    assert_eq!(
        seen["rowDisplay"], "block",
        "{table}'s rows are not cards at {at}: {seen}"
    );
    assert_ne!(
        seen["cellDisplay"], "table-cell",
        "{table}'s cells are table cells at {at}: {seen}"
    );
    assert_eq!(
        seen["label"].as_str(),
        Some(heading.as_str()),
        "{table}'s first cell is labelled with its column at {at}: {seen}"
    );
    assert_eq!(
        seen["before"].as_str(),
        Some(format!("\"{heading}\"").as_str()),
        "{table}'s first cell shows its heading at {at}: {seen}"
    );
    assert_eq!(seen["beforeShown"], true, "{seen}");
    assert!(
        seen["rowRight"].as_f64().unwrap() <= seen["width"].as_f64().unwrap(),
        "{table}'s card is cut off at {at}: {seen}"
    );
}

/// A desktop window keeps the table and the menu: the heading row shows, rows are table rows,
/// the navigation is open and there is no 菜单 button.
async fn on_a_desktop(c: Client, base: String) {
    sign_in(&c, &base, "staff", "刘芳").await;
    c.goto(&format!("{base}/households")).await.unwrap();
    wait_for(&c, "#household-list tbody tr td").await;
    let seen = c
        .execute(
            r##"
            const t = document.querySelector("#household-list");
            return {
                width: window.innerWidth,
                headDisplay: getComputedStyle(t.tHead).display,
                rowDisplay: getComputedStyle(t.querySelector("tbody tr")).display,
                nav: getComputedStyle(document.getElementById("site-nav")).display,
                button: getComputedStyle(document.getElementById("menu-toggle")).display,
            };
            "##,
            vec![],
        )
        .await
        .unwrap();
    assert!(seen["width"].as_i64().unwrap() > 640, "{seen}");
    assert_eq!(seen["headDisplay"], "table-header-group", "{seen}");
    assert_eq!(seen["rowDisplay"], "table-row", "{seen}");
    assert_eq!(seen["nav"], "flex", "{seen}");
    assert_eq!(seen["button"], "none", "{seen}");
    assert!(c
        .find(Locator::LinkText("户籍台账"))
        .await
        .unwrap()
        .is_displayed()
        .await
        .unwrap());
}
