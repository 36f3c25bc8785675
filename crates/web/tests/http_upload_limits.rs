//! Bombs uploaded through the real HTTP import endpoint: a workbook of about 1 MB whose one
//! cell unpacks to 1 GiB, and one whose shared string does. Each is refused with 422 and
//! the Chinese message naming the limit, its job ends `failed`, nothing is written, and the
//! process (the server runs in it) never holds more than 500 MB at its peak (VmHWM, reset
//! just before the uploads; before the limits, the first bomb alone drove it past 3 GB).
//! Its two tests (SQLite; PostgreSQL, when `MINZHENG_TEST_POSTGRES_URL` is set) take turns,
//! and no other test shares the process while they measure.

mod common;

use common::*;
use minzheng_app::formats::synthetic::generate_ledger;
use minzheng_app::testing::{hostile, TestDb};
use minzheng_web::testing::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

/// The bound the server's memory stays under whatever is uploaded.
const BOUND_KB: u64 = 500 * 1024;

fn status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"))
}

/// Resets the process's peak resident size (VmHWM) to its current size.
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
}

async fn bombs_are_refused_within_the_bound(app: &TestApp) {
    let (c, csrf) = api_login(app, "staff").await;
    let valid = generate_ledger(3, 7, &["511802001001".to_string()]);
    let cell = format!("单元格C{}", valid.len() + 2);
    let bombs = [
        (
            hostile::huge_cell(&valid, 1 << 30),
            vec![cell.as_str(), "max_cell_bytes"],
        ),
        (
            hostile::huge_shared_string(&valid, 1 << 30),
            vec!["共享字符串", "max_cell_bytes"],
        ),
    ];
    for (bomb, expect) in bombs {
        assert!(bomb.len() < 4 << 20, "{} bytes on the wire", bomb.len());
        reset_peak();
        let r = c
            .post(app.url("/api/v1/imports/households"))
            .header("x-csrf-token", &csrf)
            .multipart(reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(bomb).file_name("台账.xlsx"),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = r.json().await.unwrap();
        let reason = body["report"]["issues"][0]["reason"].as_str().unwrap();
        for e in &expect {
            assert!(reason.contains(e), "{e:?} not in {reason}");
        }
        assert_eq!(body["report"]["written"], false);
        let peak = status_kb("VmHWM:");
        println!("peak while refusing a bomb: {peak} kB");
        assert!(
            peak < BOUND_KB,
            "peak {peak} kB while refusing a bomb (bound {BOUND_KB} kB)"
        );
        let job = body["job_id"].as_i64().unwrap();
        let j: Value = c
            .get(app.url(&format!("/api/v1/jobs/{job}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(j["status"], "failed", "{j}");
    }
    let list: Value = c
        .get(app.url("/api/v1/households"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0, "nothing is written: {list}");
}

/// The tests of this file measure the process's peak: one at a time.
static ONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bombs_uploaded_over_http_are_refused_within_the_memory_bound() {
    let _one = ONE.lock().await;
    let app = TestApp::start(TestDb::sqlite().await).await;
    bombs_are_refused_within_the_bound(&app).await;
    app.stop().await;
}

#[minzheng_test_services::needs_postgres]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bombs_uploaded_over_http_are_refused_within_the_memory_bound_on_postgres() {
    let _one = ONE.lock().await;
    let app = TestApp::start(TestDb::postgres().await).await;
    bombs_are_refused_within_the_bound(&app).await;
    app.stop().await;
}
