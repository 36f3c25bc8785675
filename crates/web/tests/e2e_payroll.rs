//! Browser end-to-end test of the monthly payroll (资金发放): a real headless Chromium, driven
//! through chromedriver with fantoccini, against the real server (`TestApp`) over a fresh
//! SQLite database seeded with the demo city. Same harness as the other e2e tests, plus a
//! download directory for the bank file.
//!
//! October was paid already (generated, signed off, exported and reconciled through the
//! application). In the browser:
//! 1. the clerk (staff, 东城街道) generates November and reviews the diff: one new person
//!    (by a case), one stopped;
//! 2. the director signs the batch off;
//! 3. the clerk downloads the bank file, and imports the bank's return file in which one
//!    payment failed (账户冻结);
//! 4. the clerk corrects the failed payment's account on the exceptions page;
//! 5. the clerk generates December: the failed November payment is re-issued there, to the
//!    new account, and the ledger shows it.
//!
//! Needs `chromium` and `chromedriver`; without them `cargo test` lists the test as ignored,
//! except under CI, where their absence is a failure.

mod browser;

use browser::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::testing::payroll::{self as fixtures, EnrolmentChange, FixtureEnrolment};
use minzheng_app::testing::TestDb;
use minzheng_app::App;
use minzheng_domain::payroll::{EnrolmentStatus, GenerateRequest, LineFilter};
use minzheng_domain::{Actor, Program, YearMonth};
use minzheng_web::testing::TestApp;

const NEW_ACCOUNT: &str = "6217995555000012345";

#[minzheng_test_services::needs_browser]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_month_of_payroll_from_generation_to_reissue() {
    let (chromium, chromedriver) = browser_tools();
    let driver = Driver::start(&chromedriver);
    let downloads = tempfile::tempdir().expect("download dir");
    let client = connect_with_downloads(&driver, &chromium, downloads.path()).await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    seed(&app.db.app).await;

    let outcome = tokio::spawn(scenario(
        client.clone(),
        app.base.clone(),
        downloads.path().to_path_buf(),
    ))
    .await;
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

/// chromedriver on a free port, killed on drop. (The shared harness keeps its port private
/// and connects without download preferences, which this test needs.)
struct Driver {
    child: std::process::Child,
    port: u16,
    profile: tempfile::TempDir,
}

impl Driver {
    fn start(chromedriver: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = std::process::Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(POLL);
        }
        Driver {
            child,
            port,
            profile: tempfile::tempdir().expect("profile dir"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium that saves downloads into `dir` without asking.
async fn connect_with_downloads(driver: &Driver, chromium: &Path, dir: &Path) -> Client {
    let args = vec![
        "--headless=new".to_string(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
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
        serde_json::json!({
            "binary": chromium.to_string_lossy(),
            "args": args,
            "prefs": {
                "download.default_directory": dir.to_string_lossy(),
                "download.prompt_for_download": false,
                "safebrowsing.enabled": false
            }
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| panic!("open a Chromium session via chromedriver: {e}"))
}

fn id_no(n: u32) -> String {
    format!("51180219800101{n:03}X")
}

/// October for 张三, 李四 and 王五 is paid; then 王五's enrolment ends (a review case) and
/// 赵六 is approved from November (a new case).
async fn seed(app: &App) {
    let sys = Actor::system("seed");
    let e = |name: &str, n: u32, fen: i64, start: &str| {
        FixtureEnrolment::new(
            Program::UrbanDibao,
            if n.is_multiple_of(2) {
                "511802001001"
            } else {
                "511802001200"
            },
            name,
            &id_no(n),
            fen,
            start,
        )
    };
    fixtures::enrol(app, &e("张三", 1, 50_000, "2026-01"))
        .await
        .unwrap();
    fixtures::enrol(app, &e("李四", 2, 42_050, "2026-01"))
        .await
        .unwrap();
    let wang = fixtures::enrol(app, &e("王五", 3, 30_000, "2026-01"))
        .await
        .unwrap();
    let oct = app
        .payroll()
        .generate(
            &sys,
            &GenerateRequest {
                month: YearMonth::parse("2026-10").unwrap(),
                program: None,
                within: None,
            },
        )
        .await
        .unwrap()
        .created[0]
        .clone();
    app.payroll().sign_off(&sys, oct.id, None).await.unwrap();
    app.bank_files()
        .export(&sys, oct.id, "utf8-csv")
        .await
        .unwrap();
    let lines = app
        .payroll()
        .lines(&sys, oct.id, &LineFilter::default())
        .await
        .unwrap()
        .0;
    let mut ret = String::from("明细号,姓名,金额(分),处理结果,失败原因\n");
    for l in &lines {
        ret.push_str(&format!(
            "{},{},{},成功,\n",
            l.id, l.beneficiary_name, l.amount.0
        ));
    }
    app.bank_files()
        .import_return(&sys, oct.id, "10月回盘.csv", ret.as_bytes())
        .await
        .unwrap();
    let h = fixtures::household_of(app, wang).await.unwrap();
    fixtures::case(
        app,
        "YC-DB-2026-0031",
        "review",
        Program::UrbanDibao,
        h,
        Some(wang),
    )
    .await
    .unwrap();
    fixtures::change_enrolment(
        app,
        wang,
        &EnrolmentChange {
            status: Some(EnrolmentStatus::Ended),
            end_month: Some(YearMonth::parse("2026-10").unwrap()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let mut zhao = e("赵六", 4, 61_000, "2026-11");
    let h = fixtures::household_of(app, wang).await.unwrap();
    zhao.case_id = Some(
        fixtures::case(app, "YC-DB-2026-0042", "new", Program::UrbanDibao, h, None)
            .await
            .unwrap(),
    );
    fixtures::enrol(app, &zhao).await.unwrap();
}

/// With `MINZHENG_E2E_SCREENSHOTS=DIR`, saves what the browser shows as DIR/NAME.png.
async fn shot(c: &Client, name: &str) {
    if let Ok(dir) = std::env::var("MINZHENG_E2E_SCREENSHOTS") {
        let png = c.screenshot().await.expect("screenshot");
        std::fs::write(Path::new(&dir).join(format!("{name}.png")), png).expect("save screenshot");
    }
}

async fn sign_in(c: &Client, base: &str, user: &str) {
    c.goto(&format!("{base}/login")).await.expect("open /login");
    fill(c, "#username", user).await;
    fill(c, "#password", DEMO_PASSWORD).await;
    click(c, "#signin").await;
    wait_text(c, "#current-user", "").await;
    wait_text(c, "h1", "工作台").await;
}

/// Waits for a finished download ending in `ext`.
fn wait_download(dir: &Path, ext: &str) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == ext) {
                    return p;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "no .{ext} download in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

async fn scenario(c: Client, base: String, downloads: PathBuf) {
    let url = |path: &str| format!("{base}{path}");

    // 1. The clerk generates November and reviews the diff.
    sign_in(&c, &base, "staff").await;
    click_link(&c, "header nav", "资金发放").await;
    wait_url(&c, "/payroll").await;
    c.goto(&url("/payroll?month=2026-11"))
        .await
        .expect("open November");
    click(&c, "#generate").await;
    wait_text(&c, "#notice", "已生成1个批次、3笔").await;
    click_link(&c, "#batches", "202611-511802001-城市最低生活保障").await;
    wait_text(&c, "#batch-status", "草稿").await;
    let summary = wait_text(&c, "#diff-summary", "新增 1 人").await;
    assert!(summary.contains("停发 1 人"), "{summary}");
    let diff = wait_text(&c, "#diff", "赵六").await;
    assert!(diff.contains("新申请案件YC-DB-2026-0042批准"), "{diff}");
    assert!(
        diff.contains("王五") && diff.contains("复核案件YC-DB-2026-0031"),
        "{diff}"
    );
    assert!(diff.contains("已终止保障（2026-10止）"), "{diff}");
    let batch_url = here(&c).await;
    shot(&c, "payroll-review").await;
    sign_out(&c).await;

    // 2. The director signs it off.
    sign_in(&c, &base, "director").await;
    c.goto(&batch_url).await.expect("open the batch");
    wait_text(&c, "#diff-summary", "新增 1 人").await;
    // Signing off says what it does first.
    click(&c, "#sign-off-open").await;
    wait_text(&c, "#sign-off-what", "不能再重新生成或修改").await;
    click(&c, "#sign-off").await;
    wait_text(&c, "#notice", "已审核签发").await;
    wait_text(&c, "#batch-status", "已审核签发").await;
    sign_out(&c).await;

    // 3. The clerk downloads the bank file and imports the return with one failure.
    sign_in(&c, &base, "staff").await;
    c.goto(&batch_url).await.expect("open the batch");
    let select = wait_for(&c, "#template").await;
    select
        .select_by_value("utf8-csv")
        .await
        .expect("choose the UTF-8 template");
    click(&c, "#download-bank-file").await;
    let file = wait_download(&downloads, "csv");
    let text = std::fs::read_to_string(&file).expect("read the bank file");
    let mut rows: Vec<Vec<String>> = text
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    let header = rows.remove(0);
    assert_eq!(header[0], "批次号");
    assert_eq!(rows.len(), 3, "{text}");
    let col = |name: &str| header.iter().position(|h| h.starts_with(name)).unwrap();
    let (line_no, name, amount) = (col("明细号"), col("姓名"), col("金额"));
    assert!(rows
        .iter()
        .any(|r| r[name] == "赵六" && r[amount] == "61000"));
    let mut ret = String::from("明细号,姓名,金额(分),处理结果,失败原因,银行流水号\n");
    for r in &rows {
        let failed = r[name] == "李四";
        ret.push_str(&format!(
            "{},{},{},{},{},B{}\n",
            r[line_no],
            r[name],
            r[amount],
            if failed { "失败" } else { "成功" },
            if failed { "账户冻结" } else { "" },
            r[line_no]
        ));
    }
    let ret_path =
        std::env::temp_dir().join(format!("minzheng-e2e-{}-回盘.csv", std::process::id()));
    std::fs::write(&ret_path, ret).expect("write the return file");
    c.refresh().await.expect("reload");
    wait_text(&c, "#batch-status", "已生成银行文件").await;
    let input = wait_for(&c, "#return-file").await;
    input
        .send_keys(ret_path.to_str().expect("utf-8 path"))
        .await
        .expect("choose the return file");
    click(&c, "#import-return").await;
    let notice = wait_text(&c, "#notice", "回盘已导入").await;
    assert!(
        notice.contains("成功2笔") && notice.contains("失败1笔"),
        "{notice}"
    );
    wait_text(&c, "#batch-status", "已对账").await;
    wait_text(&c, "#reconciliation", "失败1笔 420.50元").await;
    // The bank has answered: no further bank file is offered.
    wait_text(&c, "#no-more-bank-files", "不再生成代发文件").await;
    assert!(
        c.find(fantoccini::Locator::Css("#download-bank-file"))
            .await
            .is_err(),
        "no download button once the bank has answered"
    );
    shot(&c, "payroll-reconciled").await;

    // 4. The failure is corrected with the new account.
    c.goto(&url("/payroll/exceptions"))
        .await
        .expect("open exceptions");
    let row = wait_text(&c, "#exceptions", "李四").await;
    assert!(row.contains("账户冻结") && row.contains("待处理"), "{row}");
    fill(&c, "#exceptions input.account", NEW_ACCOUNT).await;
    click(&c, "#exceptions button.correct").await;
    wait_text(&c, "#notice", "已更正").await;
    wait_text(&c, "#exceptions", "已更正，待重发").await;

    // 5. December re-issues it to the new account.
    c.goto(&url("/payroll?month=2026-12"))
        .await
        .expect("open December");
    click(&c, "#generate").await;
    wait_text(&c, "#notice", "已生成1个批次、4笔").await;
    click_link(&c, "#batches", "202612-511802001-城市最低生活保障").await;
    let extras = wait_text(&c, "#extras", "退票重发").await;
    assert!(
        extras.contains("李四") && extras.contains("2026-11") && extras.contains(NEW_ACCOUNT),
        "{extras}"
    );
    c.goto(&url("/payroll/exceptions"))
        .await
        .expect("open exceptions");
    wait_text(&c, "#exceptions", "已重发").await;

    // The ledger: the chart is drawn, November shows the failure, December the re-issue.
    c.goto(&url("/payroll/ledger"))
        .await
        .expect("open the ledger");
    wait_for(&c, "#ledger-chart[data-ready='1'] svg").await;
    let ledger = wait_text(&c, "#ledger", "2026-12").await;
    assert!(ledger.contains("420.50元"), "{ledger}");
    shot(&c, "payroll-ledger").await;
}
