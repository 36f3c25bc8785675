//! HTTP tests of import jobs: an import of more than 10,000 rows answers 202 and runs in
//! the background, its job row (in the `jobs` table) ends `succeeded` with the row counts,
//! the job page and the list show it, and a job cut off by a restart is shown as failed
//! with its Chinese message. SQLite always, PostgreSQL when configured.

mod common;

use chrono::Utc;
use common::*;
use minzheng_app::demo::DEMO_PASSWORD;
use minzheng_app::formats::ledger::ledger_csv;
use minzheng_app::formats::synthetic::generate_ledger;
use minzheng_domain::jobs::{JobKind, JobStatus, JOB_INTERRUPTED};
use minzheng_web::testing::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = minzheng_web::testing::TestApp::start(minzheng_app::testing::TestDb::sqlite().await).await;
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
        mod postgres {
            $(
                #[minzheng_test_services::needs_postgres]
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = minzheng_app::testing::TestDb::postgres().await;
                    let app = minzheng_web::testing::TestApp::start(db).await;
                    super::$name(&app).await;
                    app.stop().await;
                }
            )*
        }
    };
}

both!(
    large_import_runs_as_a_recorded_job,
    interrupted_job_is_shown_failed,
    a_refused_import_leaves_no_job_behind,
);

async fn large_import_runs_as_a_recorded_job(app: &TestApp) {
    let (c, csrf) = api_login(app, "staff").await;
    // About 10,400 persons: more than BACKGROUND_ROWS, so the request does not wait.
    let rows = generate_ledger(
        3600,
        3,
        &["511802001001".to_string(), "511802001002".to_string()],
    );
    assert!(rows.len() > 10_000);
    let r = c
        .post(app.url("/api/v1/imports/households"))
        .header("x-csrf-token", &csrf)
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(ledger_csv(&rows).unwrap()).file_name("大台账.csv"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body: Value = r.json().await.unwrap();
    let job = body["job_id"].as_i64().unwrap();
    // The progress page polls its fragment with htmx while the job runs.
    let page = c
        .get(app.url(&format!("/jobs/{job}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("job-progress") && page.contains("大台账.csv"),
        "{page}"
    );
    let mut j = Value::Null;
    for _ in 0..600 {
        j = c
            .get(app.url(&format!("/api/v1/jobs/{job}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if j["finished"] == true {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(j["finished"], true, "{j}");
    assert_eq!(j["status"], "succeeded", "{j}");
    assert_eq!(j["done"], rows.len());
    assert_eq!(j["total"], rows.len());
    assert_eq!(j["report"]["persons_created"], rows.len());
    // The row in the jobs table says the same.
    let staff = app
        .db
        .app
        .users()
        .authenticate("staff", DEMO_PASSWORD, Utc::now())
        .await
        .unwrap()
        .unwrap()
        .actor()
        .unwrap();
    let stored = app.db.app.jobs().get(&staff, job).await.unwrap();
    assert_eq!(stored.status, JobStatus::Succeeded);
    assert_eq!(stored.done, rows.len() as u64);
    // The finished fragment stops polling and shows the result.
    let frag = c
        .get(app.url(&format!("/jobs/{job}?fragment=1")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        frag.contains("导入完成") && !frag.contains("hx-get"),
        "{frag}"
    );
    // The list (API and import page) shows it.
    let list: Value = c
        .get(app.url("/api/v1/jobs"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["id"], job);
    let page = c
        .get(app.url("/registry/import"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("最近的导入任务") && page.contains("大台账.csv"));
}

async fn interrupted_job_is_shown_failed(app: &TestApp) {
    let (c, _) = api_login(app, "staff").await;
    let staff = app
        .db
        .app
        .users()
        .authenticate("staff", DEMO_PASSWORD, Utc::now())
        .await
        .unwrap()
        .unwrap()
        .actor()
        .unwrap();
    // A job the previous server process never finished.
    let job = app
        .db
        .app
        .jobs()
        .start(&staff, JobKind::RegistryImport, "中断.csv")
        .await
        .unwrap();
    let j: Value = c
        .get(app.url(&format!("/api/v1/jobs/{job}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(j["status"], "running");
    // What `serve` does on start.
    app.db.app.jobs().fail_interrupted().await.unwrap();
    let j: Value = c
        .get(app.url(&format!("/api/v1/jobs/{job}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(j["status"], "failed");
    assert_eq!(j["finished"], true);
    assert_eq!(j["error"], JOB_INTERRUPTED);
    let page = c
        .get(app.url(&format!("/jobs/{job}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(JOB_INTERRUPTED), "{page}");
    // Another user cannot see it.
    let (other, _) = api_login(app, "director").await;
    let r = other
        .get(app.url(&format!("/api/v1/jobs/{job}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

/// The read-only auditor's import is refused before any job is recorded: 403, and neither
/// the auditor nor the command line sees a job row; the auditor's dry run (which only
/// checks) is still a job.
async fn a_refused_import_leaves_no_job_behind(app: &TestApp) {
    let all_jobs = || async {
        app.db
            .app
            .jobs()
            .list(&minzheng_domain::Actor::system("t"), 100)
            .await
            .unwrap()
            .len()
    };
    assert_eq!(all_jobs().await, 0);
    let (c, csrf) = api_login(app, "auditor").await;
    let rows = generate_ledger(3, 4, &["511802001001".to_string()]);
    let csv = ledger_csv(&rows).unwrap();
    let form = |dry: bool| {
        let f = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(csv.clone()).file_name("只读.csv"),
        );
        if dry {
            f.text("dry_run", "true")
        } else {
            f
        }
    };
    let r = c
        .post(app.url("/api/v1/imports/households"))
        .header("x-csrf-token", &csrf)
        .multipart(form(false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_error(&body, "forbidden");
    assert_eq!(all_jobs().await, 0, "no job row for a refused import");
    let r = c.get(app.url("/api/v1/jobs")).send().await.unwrap();
    let body: Value = r.json().await.unwrap();
    assert!(body["items"].as_array().unwrap().is_empty(), "{body}");
    // The page's upload is refused the same way.
    let r = c
        .post(app.url(&format!("/registry/import?_csrf={csrf}")))
        .multipart(form(false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(all_jobs().await, 0);
    // A dry run only checks: the auditor may, and it is recorded.
    let r = c
        .post(app.url("/api/v1/imports/households"))
        .header("x-csrf-token", &csrf)
        .multipart(form(true))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(all_jobs().await, 1);
}
