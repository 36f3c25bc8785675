//! Shared harness of the browser tests: finds Debian's chromium and chromedriver, starts
//! chromedriver on a free port (killed on drop), connects fantoccini, and offers patient
//! helpers (`wait_for`, `wait_text`, `click_link`, …) that poll instead of assuming a page has
//! finished loading. Each `e2e*.rs` test file includes it with `mod browser;`.
#![allow(dead_code)] // each test file uses a different subset

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use minzheng_app::demo::DEMO_PASSWORD;

/// How long to wait for any one thing to appear in the browser.
pub const WAIT: Duration = Duration::from_secs(20);
/// How often to look again while waiting.
pub const POLL: Duration = Duration::from_millis(100);

/// Waits until `css` matches an element.
pub async fn wait_for(c: &Client, css: &str) -> fantoccini::elements::Element {
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
pub async fn wait_text(c: &Client, css: &str, needle: &str) -> String {
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
pub async fn wait_url(c: &Client, needle: &str) {
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
pub async fn fill(c: &Client, css: &str, text: &str) {
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
pub async fn click(c: &Client, css: &str) {
    let el = wait_for(c, css).await;
    el.click()
        .await
        .unwrap_or_else(|e| panic!("click {css:?}: {e}"));
}

/// Clicks the link whose text is exactly `text` inside the element matching `scope_css`.
pub async fn click_link(c: &Client, scope_css: &str, text: &str) {
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
pub async fn here(c: &Client) -> String {
    match c.current_url().await {
        Ok(u) => u.to_string(),
        Err(e) => format!("<unknown URL: {e}>"),
    }
}

// ---------------------------------------------------------------------------------------------
// Chromium and chromedriver.

/// Finds chromium and chromedriver. The browser tests are marked
/// `#[minzheng_test_services::needs_browser]`, so they are built ignored where the two are
/// missing; one that runs without them anyway (under CI, or with `--include-ignored`)
/// fails here.
pub fn browser_tools() -> (PathBuf, PathBuf) {
    let chromium = find_executable("/usr/bin/chromium", &["chromium", "chromium-browser"]);
    let chromedriver = find_executable("/usr/bin/chromedriver", &["chromedriver"]);
    match (chromium, chromedriver) {
        (Some(browser), Some(driver)) => (browser, driver),
        (browser, driver) => {
            let missing = [
                ("chromium", browser.is_none()),
                ("chromedriver", driver.is_none()),
            ]
            .iter()
            .filter(|(_, absent)| *absent)
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(" 和 ");
            if minzheng_app::testing::in_ci() {
                panic!(
                    "CI 已设置但未安装 {missing}：浏览器测试在 CI 中必须运行\
                     （apt-get install chromium chromium-driver）"
                );
            }
            panic!(
                "未安装 {missing}：浏览器测试需要 chromium 与 chromedriver 才能运行\
                 （apt-get install chromium chromium-driver，然后重新运行 cargo test；\
                 未安装时构建的 cargo test 把浏览器测试列为 ignored）"
            );
        }
    }
}

/// `preferred` if it exists, else the first of `names` found on `PATH`.
pub fn find_executable(preferred: &str, names: &[&str]) -> Option<PathBuf> {
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
pub struct ChromeDriver {
    child: Child,
    port: u16,
    /// A fresh Chromium profile directory, removed when dropped.
    pub profile: tempfile::TempDir,
}

impl ChromeDriver {
    pub fn start(chromedriver: &Path) -> ChromeDriver {
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

/// Opens a headless Chromium session through `driver` that is a phone: 390×844 CSS pixels,
/// touch, a mobile user agent (Chromium's mobile emulation).
pub async fn connect_phone(driver: &ChromeDriver, chromium: &Path) -> Client {
    connect_with(
        driver,
        chromium,
        Some(serde_json::json!({
            "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 3.0, "touch": true },
            "userAgent": "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 \
                (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
        })),
    )
    .await
}

/// Cuts the browser's network (`offline`) or gives it back (chromedriver's network
/// conditions): requests fail, `navigator.onLine` follows.
pub async fn set_offline(c: &Client, offline: bool) {
    #[derive(Debug)]
    struct NetworkConditions(bool);
    impl fantoccini::wd::WebDriverCompatibleCommand for NetworkConditions {
        fn endpoint(
            &self,
            base: &reqwest::Url,
            session: Option<&str>,
        ) -> Result<reqwest::Url, url_error::ParseError> {
            base.join(&format!(
                "session/{}/chromium/network_conditions",
                session.unwrap_or_default()
            ))
        }
        fn method_and_body(&self, _: &reqwest::Url) -> (axum::http::Method, Option<String>) {
            let body = serde_json::json!({ "network_conditions": {
                "offline": self.0, "latency": 0,
                "download_throughput": -1, "upload_throughput": -1 } });
            (axum::http::Method::POST, Some(body.to_string()))
        }
    }
    c.issue_cmd(NetworkConditions(offline))
        .await
        .unwrap_or_else(|e| panic!("set the network offline={offline}: {e}"));
}

mod url_error {
    pub use reqwest::Url;
    pub type ParseError = <Url as std::str::FromStr>::Err;
}

/// Opens a headless Chromium session through `driver`.
pub async fn connect(driver: &ChromeDriver, chromium: &Path) -> Client {
    connect_with(driver, chromium, None).await
}

async fn connect_with(
    driver: &ChromeDriver,
    chromium: &Path,
    mobile: Option<serde_json::Value>,
) -> Client {
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
    let mut options = serde_json::json!({ "binary": chromium.to_string_lossy(), "args": args });
    if let Some(m) = mobile {
        options["mobileEmulation"] = m;
    }
    caps.insert("goog:chromeOptions".into(), options);
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url())
        .await
        .unwrap_or_else(|e| panic!("open a Chromium session via chromedriver: {e}"))
}

/// Signs in as `user` with the demo password and waits for the header to name `name`.
pub async fn sign_in(c: &Client, base: &str, user: &str, name: &str) {
    c.goto(&format!("{base}/login")).await.expect("open /login");
    fill(c, "#username", user).await;
    fill(c, "#password", DEMO_PASSWORD).await;
    click(c, "#signin").await;
    wait_text(c, "#current-user", name).await;
}

/// Signs out and waits for the sign-in page.
pub async fn sign_out(c: &Client) {
    click(c, "#logout").await;
    wait_url(c, "/login").await;
}

/// The cells' texts of the first row of the table matching `css` whose text contains
/// `needle`.
pub async fn row_with(c: &Client, css: &str, needle: &str) -> Vec<String> {
    wait_text(c, css, needle).await;
    for row in c
        .find_all(Locator::Css(&format!("{css} tbody tr")))
        .await
        .unwrap()
    {
        if row.text().await.unwrap().contains(needle) {
            let mut out = Vec::new();
            for cell in row.find_all(Locator::Css("td")).await.unwrap() {
                out.push(cell.text().await.unwrap());
            }
            return out;
        }
    }
    panic!("no row with {needle:?} in {css:?}");
}
