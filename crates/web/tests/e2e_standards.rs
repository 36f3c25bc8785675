//! Browser end-to-end test of office standardization (规范化建设): a real headless Chromium,
//! driven through chromedriver with fantoccini, against the real server (`TestApp`) over a
//! fresh SQLite database seeded with the demo city 四川省雅安市. Same harness as `e2e.rs`.
//!
//! It proves, as the city administrator sees it in a browser, that:
//! - the console (规范化建设 in the top navigation) lists every office with its compliance and
//!   shows the per-county bar chart;
//! - drilling into 东城街道民政办公室 shows each rule met, and an inspection can be opened there;
//! - the inspectors' manual items are scored in the checklist, a photo is uploaded (multipart
//!   with the CSRF token in the form's URL) and shown on the record;
//! - passing the inspection grants the subsidy — half of 东城's recorded 91,456.78元
//!   investment, 45,728.39元 — which appears in the subsidy ledger as awaiting payment.
//!
//! Needs `chromium` and `chromedriver`; without them the test is skipped loudly, except in CI
//! (`CI=true`), where their absence is a failure.

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

/// A real 1×1 PNG, so the browser can render the uploaded photo.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f,
    0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_city_admin_inspects_passes_and_sees_subsidy() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    let photo_dir = tempfile::tempdir().expect("temp dir");
    let photo = photo_dir.path().join("现场照片.png");
    std::fs::write(&photo, PNG).expect("write photo");

    // Run the scenario in its own task so that a failed assertion still lets us close the
    // browser and stop the server before reporting it (the guard then kills chromedriver).
    let outcome = tokio::spawn(scenario(client.clone(), app.base.clone(), photo)).await;
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

async fn scenario(c: Client, base: String, photo: PathBuf) {
    let url = |path: &str| format!("{base}{path}");

    // 1. Sign in as the city administrator.
    c.goto(&url("/login")).await.expect("open /login");
    fill(&c, "#username", "admin").await;
    fill(&c, "#password", DEMO_PASSWORD).await;
    click(&c, "#signin").await;
    wait_text(&c, "h1", "工作台").await;

    // 2. The console: every office, the chart, the statuses.
    click_link(&c, "header nav", "规范化建设").await;
    wait_url(&c, "/standards").await;
    let table = wait_text(&c, "#standards-console", "东城街道民政办公室").await;
    for expected in ["逾期未报", "验收通过", "验收未通过", "检查中"] {
        assert!(table.contains(expected), "console shows {expected:?}");
    }
    wait_text(&c, "#county-chart", "雨城区").await;

    // 3. Drill into 东城街道: every rule met.
    click_link(&c, "#standards-console", "东城街道民政办公室").await;
    wait_url(&c, "/standards/offices/511802001").await;
    wait_text(&c, "#office-name", "东城街道民政办公室").await;
    wait_text(&c, "#compliance", "100%").await;
    let rules = wait_text(&c, "#rule-table", "三室且总面积不少于60㎡").await;
    assert!(!rules.contains("未达标"), "all rules met: {rules}");

    // 4. Open an inspection.
    fill(&c, "#inspectors", "王建国、李秀英").await;
    click(&c, "#open-inspection-button").await;
    wait_url(&c, "/standards/inspections/").await;
    wait_text(&c, "#inspection-status", "检查中").await;
    // The 14 basic rules are pre-scored at 5 points each; the 3 manual items (10 each) await
    // the inspectors.
    wait_text(&c, "#inspection-score", "70 / 100").await;

    // 5. Score the manual items.
    let manual = c
        .find_all(Locator::Css("input.score[data-manual='1']"))
        .await
        .expect("manual score inputs");
    assert_eq!(manual.len(), 3, "three manual checklist items");
    for input in manual {
        input.clear().await.expect("clear score");
        input.send_keys("10").await.expect("type score");
    }
    click(&c, "#save-scores").await;
    wait_text(&c, "#inspection-score", "100 / 100").await;

    // 6. Upload a photo of the premises.
    let file = wait_for(&c, "#photo-file").await;
    file.send_keys(photo.to_str().expect("utf-8 path"))
        .await
        .expect("choose photo");
    click(&c, "#upload-photo").await;
    wait_for(&c, "#inspection-photos img").await;
    wait_text(&c, "#inspection-photos", "现场照片.png").await;

    // 7. Pass it: the subsidy is half the recorded investment.
    fill(
        &c,
        "#decide-form textarea",
        "达到规范化建设标准，同意验收。",
    )
    .await;
    click(&c, "#pass-button").await;
    wait_text(&c, "#inspection-status", "验收通过").await;
    wait_text(&c, "#findings", "同意验收").await;
    wait_text(&c, "#subsidy-line", "45,728.39元").await;

    // 8. The subsidy ledger lists it, awaiting payment.
    click_link(&c, "main", "查看补助资金台账").await;
    wait_url(&c, "/standards/subsidies").await;
    let ledger = wait_text(&c, "#subsidy-ledger", "东城街道民政办公室").await;
    let row = ledger
        .lines()
        .find(|l| l.contains("东城街道民政办公室"))
        .unwrap_or_default()
        .to_string();
    assert!(
        row.contains("45,728.39元") && row.contains("91,456.78元") && row.contains("待拨付"),
        "ledger row: {row:?}"
    );
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
