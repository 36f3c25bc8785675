//! `minzheng bench import`: generates exactly the persons asked for, imports them, runs the
//! floor, and ends with one JSON line carrying the figures (no timing is asserted).

use std::process::Command;

#[test]
fn bench_import_ends_with_a_json_summary() {
    for format in ["csv", "xlsx"] {
        let out = Command::new(env!("CARGO_BIN_EXE_minzheng"))
            .args(["bench", "import", "--persons", "1500", "--format", format])
            .env("MINZHENG_LOG", "warn")
            .output()
            .expect("start minzheng");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let last = stdout.lines().last().expect("output");
        let v: serde_json::Value = serde_json::from_str(last).expect("last line is JSON");
        assert_eq!(v["rows"], 1500, "{v}");
        assert_eq!(v["format"], format);
        assert_eq!(v["backend"], "sqlite");
        for key in [
            "seconds",
            "rows_per_s",
            "floor_seconds",
            "ratio",
            "peak_rss_mb",
        ] {
            assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key} in {v}");
        }
        assert!(stdout.contains("审计链完好"), "{stdout}");
    }
}
