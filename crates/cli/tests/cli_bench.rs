//! `minzheng bench import`: generates exactly the persons asked for, imports them, runs the
//! floor, and ends with one JSON line carrying the figures (no timing is asserted).

use std::process::Command;

/// Runs `minzheng bench <args>`, asserts it succeeded, and returns its output and the
/// JSON of its last line.
fn bench_json(args: &[&str]) -> (String, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_minzheng"))
        .arg("bench")
        .args(args)
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
    let v = serde_json::from_str(last).expect("last line is JSON");
    (stdout.into_owned(), v)
}

#[test]
fn bench_import_ends_with_a_json_summary() {
    for format in ["csv", "xlsx"] {
        let (stdout, v) = bench_json(&["import", "--persons", "1500", "--format", format]);
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

/// `minzheng bench stats`: the fixture gives every enrolled household its head and each
/// 农村低保 household (one in four of the payroll fixture's) a second member, then the
/// month's report runs twice with the same figures.
#[test]
fn bench_stats_gives_each_household_its_members_and_ends_with_a_json_summary() {
    let (_, v) = bench_json(&["stats", "--enrolments", "4000"]);
    assert_eq!(v["backend"], "sqlite");
    assert_eq!(v["enrolments"], 4000, "{v}");
    // 4,000 heads and 1,000 second members of the 农村低保 households.
    assert_eq!(v["persons"], 5000, "{v}");
    assert_eq!(v["lines"], 4000, "{v}");
    for key in ["seconds", "floor_seconds", "peak_rss_mb"] {
        assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key} in {v}");
    }
}
