//! Browser end-to-end test of the registry: a real headless Chromium (chromedriver +
//! fantoccini) against the real server over a fresh SQLite database with the demo city.
//!
//! A township clerk (staff, 东城街道) signs in and, as a user sees it:
//! - opens 户籍台账, adds a household — a wrong ID number is refused with a Chinese
//!   message next to the field, the corrected one is saved;
//! - adds a member and edits the address on the household page; the change history shows it;
//! - finds 张三 from the list's search box by typing `zs`;
//! - uploads a generated ledger through the import page and sees the summary;
//! - the export link serves an Excel file.
//!
//! Needs `chromium` and `chromedriver`; skipped loudly without them, except in CI.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use minzheng_store::testing::TestDb;
use minzheng_store::{generate_ledger, ledger_csv, DEMO_PASSWORD};
use minzheng_web::testing::TestApp;

const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(100);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_add_find_edit_import_and_export_households() {
    let Some((chromium, chromedriver)) = browser_tools() else {
        return;
    };
    let driver = ChromeDriver::start(&chromedriver);
    let client = connect(&driver, &chromium).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    let ledger = driver.profile.path().join("台账.csv");
    let rows = generate_ledger(3, 11, &["511802001002".to_string()]);
    std::fs::write(&ledger, ledger_csv(&rows).unwrap()).unwrap();

    let outcome = tokio::spawn(scenario(client.clone(), app.base.clone(), ledger)).await;
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

async fn scenario(c: Client, base: String, ledger: PathBuf) {
    let url = |path: &str| format!("{base}{path}");
    c.goto(&url("/login")).await.expect("open /login");
    fill(&c, "#username", "staff").await;
    fill(&c, "#password", DEMO_PASSWORD).await;
    click(&c, "#signin").await;
    wait_text(&c, "#current-user", "刘芳").await;

    // 1. Add a household; first with a wrong check digit.
    click_link(&c, "header nav", "户籍台账").await;
    wait_url(&c, "/households").await;
    click(&c, "#new-household").await;
    fill(&c, "#head_name", "张三").await;
    fill(&c, "#head_id_number", "110105194912310021").await;
    fill(&c, "#village_code", "511802001001").await;
    c.find(Locator::Css("#registration_type option[value='rural']"))
        .await
        .expect("option")
        .click()
        .await
        .expect("select");
    click(&c, "#create-household").await;
    wait_text(&c, "#err-head_id_number", "校验码错误").await;
    fill(&c, "#head_id_number", "11010519491231002X").await;
    click(&c, "#create-household").await;
    wait_text(&c, "#household-title", "张三户").await;
    wait_text(&c, "#notice", "已保存").await;

    // 2. Add a member, edit the address; the history shows both.
    fill(&c, "#member-name", "张小").await;
    let first17 = "11010519800101001";
    let check = minzheng_domain::IdNumber::check_char(first17.as_bytes()).unwrap() as char;
    fill(&c, "#member-id", &format!("{first17}{check}")).await;
    click(&c, "#add-member-button").await;
    wait_text(&c, "#members", "张小").await;
    fill(&c, "#edit-address", "和平路8号").await;
    click(&c, "#save-household").await;
    wait_text(&c, "#household-address", "和平路8号").await;
    let history = wait_text(&c, "#history", "household.update").await;
    assert!(history.contains("person.add") && history.contains("household.create"));

    // 3. Find 张三 by pinyin initials.
    click_link(&c, "header nav", "户籍台账").await;
    fill(&c, "#q", "zs").await;
    click(&c, "#search-button").await;
    wait_url(&c, "q=zs").await;
    let list = wait_text(&c, "#household-list", "张三").await;
    assert!(list.contains("511802001001"));
    click_link(&c, "#household-list", "张三").await;
    wait_text(&c, "#household-title", "张三户").await;

    // 4. Import a generated ledger through the upload form.
    click_link(&c, "header nav", "户籍台账").await;
    click(&c, "#import-link").await;
    let input = wait_for(&c, "#import-file").await;
    input
        .send_keys(&ledger.display().to_string())
        .await
        .expect("choose file");
    click(&c, "#import-button").await;
    wait_text(&c, "#import-summary", "导入完成").await;
    wait_text(&c, "#import-summary", "新增3户").await;

    // 5. The export link serves an Excel workbook (fetched with the browser's session).
    click_link(&c, "header nav", "户籍台账").await;
    let href = wait_for(&c, "#export-link")
        .await
        .attr("href")
        .await
        .expect("href")
        .expect("export link");
    let ok = c
        .execute(
            "return fetch(arguments[0]).then(r => r.status + ' ' + r.headers.get('content-type'));",
            vec![serde_json::Value::String(href)],
        )
        .await
        .expect("fetch export");
    let ok = ok.as_str().unwrap_or_default().to_string();
    assert!(
        ok.starts_with("200 ") && ok.contains("spreadsheetml"),
        "{ok}"
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
