//! `minzheng offices report` over the demo city, run as a child process.

use std::process::Command;

fn report(db: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_minzheng"))
        .arg("--database-url")
        .arg(db)
        .args(["offices", "report", "--as-of", "2026-11-26"])
        .args(args)
        .env("MINZHENG_LOG", "warn")
        .output()
        .expect("run minzheng");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn report_lists_each_office_with_every_rule_status() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("demo.db").display());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let app = minzheng_app::App::open(&db).await.unwrap();
        app.demo().ensure().await.unwrap();
        app.close().await;
    });

    let text = report(&db, &["--scope", "511802"]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 5, "{text}");
    let dc = lines
        .iter()
        .find(|l| l.starts_with("511802001\t"))
        .expect("东城街道 listed");
    let cols: Vec<&str> = dc.split('\t').collect();
    assert_eq!(cols[1], "东城街道民政办公室");
    assert_eq!(cols[2], "100%");
    assert!(cols[3].contains("staff-count=met") && cols[3].contains("three-rooms=met"));
    assert!(
        lines.iter().all(|l| l.starts_with("511802")),
        "scope filter"
    );

    let json = report(&db, &["--scope", "511802002", "--json"]);
    let rows: Vec<serde_json::Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 1);
    let xc = &rows[0];
    assert_eq!(xc["township_code"], "511802002");
    assert_eq!(xc["rules"]["staff-count"], "not_met");
    assert_eq!(xc["rules"]["three-rooms"], "not_met");
    assert_eq!(xc["rules"]["service-hall"], "not_recorded");
    assert_eq!(xc["rules"].as_object().unwrap().len(), 16);
    assert_eq!(xc["plan_status"], "submitted");

    // A bad scope is a Chinese error, not a crash.
    let out = Command::new(env!("CARGO_BIN_EXE_minzheng"))
        .args(["--database-url", &db, "offices", "report", "--scope", "51x"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("区划代码"));
}
