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
//! Without them the test is skipped with a loud message, except in CI (`CI=true`), where their
//! absence is a failure.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use minzheng_store::testing::TestDb;
use minzheng_store::DEMO_PASSWORD;
use minzheng_web::testing::TestApp;

/// How long to wait for any one thing to appear in the browser.
const WAIT: Duration = Duration::from_secs(20);
/// How often to look again while waiting.
const POLL: Duration = Duration::from_millis(100);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sign_in_browse_divisions_and_sign_out() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
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

/// Waits until `css` matches an element.
async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
    match c
        .wait()
        .at_most(WAIT)
        .every(POLL)
        .for_element(Locator::Css(css))
        .await
    {
        Ok(e) => e,
        Err(e) => panic!("element {css:?} did not appear: {e} (at {})", here(c).await),
    }
}

/// Waits until the text of the element matching `css` contains `needle`; returns that text.
async fn wait_text(c: &Client, css: &str, needle: &str) -> String {
    let deadline = Instant::now() + WAIT;
    let mut last = None;
    loop {
        if let Ok(el) = c.find(Locator::Css(css)).await {
            if let Ok(text) = el.text().await {
                if text.contains(needle) {
                    return text;
                }
                last = Some(text);
            }
        }
        if Instant::now() > deadline {
            panic!(
                "{css:?} never contained {needle:?}; last text {last:?} (at {})",
                here(c).await
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the current URL contains `needle`.
async fn wait_url(c: &Client, needle: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let current = here(c).await;
        if current.contains(needle) {
            return;
        }
        if Instant::now() > deadline {
            panic!("URL never contained {needle:?}; it is {current}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Replaces the contents of the input matching `css` with `text`.
async fn fill(c: &Client, css: &str, text: &str) {
    let input = wait_for(c, css).await;
    input
        .clear()
        .await
        .unwrap_or_else(|e| panic!("clear {css:?}: {e}"));
    input
        .send_keys(text)
        .await
        .unwrap_or_else(|e| panic!("type into {css:?}: {e}"));
}

/// Clicks the element matching `css`.
async fn click(c: &Client, css: &str) {
    let el = wait_for(c, css).await;
    el.click()
        .await
        .unwrap_or_else(|e| panic!("click {css:?}: {e}"));
}

/// Clicks the link whose text is exactly `text` inside the element matching `scope_css`.
async fn click_link(c: &Client, scope_css: &str, text: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let found = match c.find(Locator::Css(scope_css)).await {
            Ok(scope) => scope.find(Locator::LinkText(text)).await.ok(),
            Err(_) => None,
        };
        if let Some(link) = found {
            link.click()
                .await
                .unwrap_or_else(|e| panic!("click link {text:?} in {scope_css:?}: {e}"));
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "no link {text:?} inside {scope_css:?} (at {})",
                here(c).await
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The current URL, for messages.
async fn here(c: &Client) -> String {
    match c.current_url().await {
        Ok(u) => u.to_string(),
        Err(e) => format!("<unknown URL: {e}>"),
    }
}

// ---------------------------------------------------------------------------------------------
// Chromium and chromedriver.

/// Finds chromium and chromedriver, or decides what their absence means.
fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    let chromium = find_executable("/usr/bin/chromium", &["chromium", "chromium-browser"]);
    let chromedriver = find_executable("/usr/bin/chromedriver", &["chromedriver"]);
    match (chromium, chromedriver) {
        (Some(browser), Some(driver)) => Some((browser, driver)),
        (browser, driver) => {
            let missing = [
                ("chromium", browser.is_none()),
                ("chromedriver", driver.is_none()),
            ]
            .iter()
            .filter(|(_, absent)| *absent)
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(" and ");
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "CI=true but {missing} not installed: the browser e2e test must run in CI \
                     (apt-get install chromium chromium-driver)"
                );
            }
            eprintln!();
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            eprintln!(
                "!!! SKIPPED e2e: {missing} not installed — install with \
                 apt-get install chromium chromium-driver"
            );
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            eprintln!();
            None
        }
    }
}

/// `preferred` if it exists, else the first of `names` found on `PATH`.
fn find_executable(preferred: &str, names: &[&str]) -> Option<PathBuf> {
    let preferred = Path::new(preferred);
    if preferred.is_file() {
        return Some(preferred.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// A chromedriver child process, killed when dropped (also when the test panics).
struct ChromeDriver {
    child: Child,
    port: u16,
    /// A fresh Chromium profile directory, removed when dropped.
    profile: tempfile::TempDir,
}

impl ChromeDriver {
    fn start(chromedriver: &Path) -> ChromeDriver {
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
            probe.local_addr().expect("probe address").port()
        };
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display()));
        let driver = ChromeDriver {
            child,
            port,
            profile: tempfile::tempdir().expect("temporary Chromium profile"),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                panic!("chromedriver did not accept connections on port {port} within 20 s");
            }
            std::thread::sleep(POLL);
        }
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens a headless Chromium session through `driver`.
async fn connect(driver: &ChromeDriver, chromium: &Path) -> Client {
    let args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-quic".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--window-size=1280,900".into(),
        format!("--user-data-dir={}", driver.profile.path().display()),
    ];
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "chrome".into());
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({ "binary": chromium.to_string_lossy(), "args": args }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url())
        .await
        .unwrap_or_else(|e| panic!("open a Chromium session via chromedriver: {e}"))
}
