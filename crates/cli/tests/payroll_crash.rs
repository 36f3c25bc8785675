//! Crash safety of the payroll: the real `minzheng` binary is killed with SIGKILL while it
//! generates a month's payroll or imports a bank return file, and the database must hold
//! either nothing of that run or all of it — never a partial batch or a half-applied return.
//!
//! The deterministic cases stop the child at a failpoint inside the open transaction (after
//! every insert and update, just before COMMIT) via `MINZHENG_FAILPOINT`, then kill it. A
//! second case kills generations at a spread of moments without any failpoint.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use minzheng_app::testing::payroll as fixtures;
use minzheng_app::App;
use minzheng_domain::payroll::{BatchFilter, BatchStatus, ExceptionStatus, LineFilter};
use minzheng_domain::Actor;

const ENROLMENTS: i64 = 30_000;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_minzheng"))
}

struct Db {
    dir: tempfile::TempDir,
}

impl Db {
    fn url(&self) -> String {
        format!("sqlite://{}", self.dir.path().join("crash.db").display())
    }
}

async fn seeded() -> Db {
    let db = Db {
        dir: tempfile::tempdir().unwrap(),
    };
    let app = App::open(&db.url()).await.unwrap();
    app.demo().ensure().await.unwrap();
    app.payroll_bench()
        .enrolments(ENROLMENTS, "5118", "2026-01")
        .await
        .unwrap();
    app.close().await;
    db
}

fn spawn(db: &Db, args: &[&str], failpoint: Option<&str>) -> Child {
    let mut c = bin();
    c.arg("--database-url")
        .arg(db.url())
        .args(args)
        .env("MINZHENG_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match failpoint {
        Some(f) => c.env("MINZHENG_FAILPOINT", f),
        None => c.env_remove("MINZHENG_FAILPOINT"),
    };
    c.spawn().expect("start minzheng")
}

/// Waits for the child to reach the failpoint, then SIGKILLs it.
fn kill_at_failpoint(mut child: Child, name: &str) {
    let stderr = child.stderr.take().unwrap();
    let mut reader = BufReader::new(stderr);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut line = String::new();
    loop {
        line.clear();
        let n = reader.read_line(&mut line).unwrap();
        assert!(
            n > 0,
            "the child exited before reaching the failpoint {name}"
        );
        if line.contains(&format!("FAILPOINT {name}")) {
            break;
        }
        assert!(Instant::now() < deadline, "failpoint {name} never reached");
    }
    child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix.
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed, not finished");
}

fn run_ok(db: &Db, args: &[&str]) -> String {
    let out = bin()
        .arg("--database-url")
        .arg(db.url())
        .args(args)
        .env("MINZHENG_LOG", "warn")
        .env_remove("MINZHENG_FAILPOINT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (batches, lines, sum of batch line counters) of a month.
async fn month_state(db: &Db, month: &str) -> (usize, i64, i64) {
    let app = App::open(&db.url()).await.unwrap();
    let sys = Actor::system("t");
    let batches = app
        .payroll()
        .list(
            &sys,
            &BatchFilter {
                month: Some(month.into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut lines = 0;
    for b in &batches {
        lines += app
            .payroll()
            .lines(
                &sys,
                b.id,
                &LineFilter {
                    limit: Some(1),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .1;
    }
    let counters = batches.iter().map(|b| b.line_count).sum();
    assert!(fixtures::audit_intact(&app).await.unwrap());
    app.close().await;
    (batches.len(), lines, counters)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_generation_leaves_no_partial_batch() {
    let db = seeded().await;
    let child = spawn(
        &db,
        &["payroll", "generate", "--month", "2026-11"],
        Some("payroll.generate.before_commit"),
    );
    kill_at_failpoint(child, "payroll.generate.before_commit");
    assert_eq!(
        month_state(&db, "2026-11").await,
        (0, 0, 0),
        "nothing of the killed run"
    );

    // Killed at a spread of moments without a failpoint: each time nothing or everything.
    let mut outcomes = Vec::new();
    for delay_ms in [5u64, 40, 80, 150, 300, 600] {
        let mut child = spawn(&db, &["payroll", "generate", "--month", "2026-12"], None);
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let (batches, lines, counters) = month_state(&db, "2026-12").await;
        assert!(
            (batches, lines, counters) == (0, 0, 0)
                || (batches > 0 && lines == ENROLMENTS && counters == ENROLMENTS),
            "after a kill at {delay_ms} ms: {batches} batches, {lines} lines, counters {counters}"
        );
        outcomes.push(lines);
    }
    // Then the generation completes normally, once.
    run_ok(&db, &["payroll", "generate", "--month", "2026-11"]);
    let (batches, lines, counters) = month_state(&db, "2026-11").await;
    assert!(batches > 0);
    assert_eq!((lines, counters), (ENROLMENTS, ENROLMENTS));
    eprintln!("lines after kills at increasing delays: {outcomes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_return_import_applies_nothing() {
    let db = seeded().await;
    // One township's batch, signed off and exported, with a return file for all its lines
    // (every tenth failed).
    let app = App::open(&db.url()).await.unwrap();
    let cli = Actor::system("cli");
    let out = app
        .payroll()
        .generate(
            &cli,
            &minzheng_domain::payroll::GenerateRequest {
                month: minzheng_domain::YearMonth::parse("2026-11").unwrap(),
                program: None,
                within: None,
            },
        )
        .await
        .unwrap();
    let batch = out
        .created
        .iter()
        .max_by_key(|b| b.line_count)
        .unwrap()
        .clone();
    app.payroll().sign_off(&cli, batch.id, None).await.unwrap();
    app.bank_files()
        .export(&cli, batch.id, "utf8-csv")
        .await
        .unwrap();
    let (lines, _) = app
        .payroll()
        .lines(
            &cli,
            batch.id,
            &LineFilter {
                limit: Some(5000),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(lines.len() as i64, batch.line_count);
    let mut csv = String::from("明细号,姓名,金额(分),处理结果,失败原因\n");
    for (i, l) in lines.iter().enumerate() {
        let (status, reason) = if i % 10 == 0 {
            ("失败", "账户冻结")
        } else {
            ("成功", "")
        };
        csv.push_str(&format!(
            "{},{},{},{status},{reason}\n",
            l.id, l.beneficiary_name, l.amount.0
        ));
    }
    let file = db.dir.path().join("return.csv");
    std::fs::write(&file, csv).unwrap();
    app.close().await;

    let id = batch.id.to_string();
    let path = file.display().to_string();
    let args = ["payroll", "import-return", "--batch", &id, &path];
    let child = spawn(&db, &args, Some("payroll.return.before_commit"));
    kill_at_failpoint(child, "payroll.return.before_commit");

    let app = App::open(&db.url()).await.unwrap();
    let b = app.payroll().get(&cli, batch.id).await.unwrap();
    assert_eq!(
        (b.status, b.returned_count, b.paid_count),
        (BatchStatus::Exported, 0, 0)
    );
    let (planned, total) = app
        .payroll()
        .lines(
            &cli,
            batch.id,
            &LineFilter {
                status: Some("planned".into()),
                limit: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!planned.is_empty());
    assert_eq!(total, b.line_count, "every line still awaits its result");
    assert!(app
        .payroll()
        .exceptions(&cli, None)
        .await
        .unwrap()
        .is_empty());
    assert!(fixtures::audit_intact(&app).await.unwrap());
    app.close().await;

    // The same file then imports in full.
    let out = run_ok(&db, &args);
    assert!(out.contains("已全部对账"), "{out}");
    let app = App::open(&db.url()).await.unwrap();
    let b = app.payroll().get(&cli, batch.id).await.unwrap();
    assert_eq!(b.status, BatchStatus::Reconciled);
    let failed = (b.line_count + 9) / 10;
    assert_eq!(b.failed_count, failed);
    assert_eq!(
        app.payroll()
            .exceptions(&cli, Some(ExceptionStatus::Open.as_str()))
            .await
            .unwrap()
            .len() as i64,
        failed
    );
    app.close().await;
}
