//! Registry commands of the `minzheng` binary: demo generate → import (CSV and xlsx, dry
//! run, all-or-nothing with an xlsx report; each import a job, listed by `minzheng jobs`) →
//! export.

use std::process::{Command, Output};

fn run(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_minzheng"))
        .arg("--database-url")
        .arg(db)
        .args(args)
        .env("MINZHENG_LOG", "warn")
        .output()
        .expect("start minzheng")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn generate_import_and_export_ledgers() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("t.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let app = minzheng_app::App::open(&db).await.unwrap();
        app.demo().ensure().await.unwrap();
        app.close().await;
    });
    let p = |n: &str| dir.path().join(n).display().to_string();
    // Deterministic generation in both formats.
    for f in ["a.csv", "b.csv", "a.xlsx"] {
        let out = run(
            &db,
            &[
                "demo",
                "generate",
                "--households",
                "40",
                "--seed",
                "3",
                "--out",
                &p(f),
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("已生成 40 户"));
    }
    assert_eq!(
        std::fs::read(p("a.csv")).unwrap(),
        std::fs::read(p("b.csv")).unwrap()
    );
    // Dry run writes nothing; a township scope refuses villages elsewhere in the city.
    let out = run(&db, &["import", "households", &p("a.csv"), "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("校验通过"));
    let out = run(
        &db,
        &[
            "import",
            "households",
            &p("a.csv"),
            "--scope",
            "511802001",
            "--report",
            &p("r.xlsx"),
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("不在您的管辖范围内"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("未写入任何数据"));
    assert_eq!(&std::fs::read(p("r.xlsx")).unwrap()[..2], b"PK");
    // The whole city: imports; the xlsx of the same ledger changes nothing new.
    let out = run(&db, &["import", "households", &p("a.csv")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("新增40户"),
        "{}",
        text(&out.stdout)
    );
    let out = run(&db, &["import", "households", &p("a.xlsx")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("新增0户"),
        "{}",
        text(&out.stdout)
    );
    // Every import ran as a job of the command line, newest first.
    let out = run(&db, &["jobs"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let jobs = text(&out.stdout);
    let lines: Vec<&str> = jobs.lines().collect();
    assert_eq!(lines.len(), 4, "{jobs}");
    assert!(lines.iter().all(|l| l.contains("命令行")), "{jobs}");
    assert!(
        lines[0].contains("a.xlsx") && lines[0].contains("已完成"),
        "{jobs}"
    );
    assert!(
        lines[2].contains("a.csv") && lines[2].contains("未成功"),
        "{jobs}"
    );
    let out = run(&db, &["export", "households", "--out", &p("e.xlsx")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("已导出 40 户"));
    // Size limit.
    let out = run(
        &db,
        &["import", "households", &p("a.csv"), "--max-size-mb", "0"],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("超过上限"));
}
