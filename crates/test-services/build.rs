//! Decides, when the test suites are built, which test services this machine offers, and
//! tells the attributes of `src/lib.rs` through `cfg`s:
//!
//! - `minzheng_without_postgres`: `MINZHENG_TEST_POSTGRES_URL` is unset or empty;
//! - `minzheng_without_replica`: that, or `MINZHENG_TEST_POSTGRES_REPLICA_URL` unset or empty;
//! - `minzheng_without_citus`: `MINZHENG_TEST_CITUS_URL` (a Citus coordinator) unset or empty;
//! - `minzheng_without_browser`: Debian's `chromium` or `chromedriver` is not installed
//!   (neither at `/usr/bin` nor on `PATH`).
//!
//! Under CI (`CI` set to anything but empty, `0` or `false`) none is set: there every test
//! runs, and one whose service is missing fails (its test support panics) instead of being
//! ignored. Cargo runs this again when any of those variables change or a program is
//! installed into or removed from a directory on `PATH`.

use std::path::{Path, PathBuf};

const POSTGRES: &str = "MINZHENG_TEST_POSTGRES_URL";
const REPLICA: &str = "MINZHENG_TEST_POSTGRES_REPLICA_URL";
const CITUS: &str = "MINZHENG_TEST_CITUS_URL";

fn main() {
    for cfg in [
        "minzheng_without_postgres",
        "minzheng_without_replica",
        "minzheng_without_citus",
        "minzheng_without_browser",
    ] {
        println!("cargo:rustc-check-cfg=cfg({cfg})");
    }
    for var in [POSTGRES, REPLICA, CITUS, "CI", "PATH"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=build.rs");

    let ci = in_ci();
    let postgres = is_set(POSTGRES);
    let replica = postgres && is_set(REPLICA);
    let citus = is_set(CITUS);
    let browser = browser_installed();

    let missing = [
        (postgres, "minzheng_without_postgres", POSTGRES),
        (replica, "minzheng_without_replica", REPLICA),
        (citus, "minzheng_without_citus", CITUS),
        (browser, "minzheng_without_browser", "chromium/chromedriver"),
    ];
    for (present, cfg, what) in missing {
        if present {
            continue;
        }
        if ci {
            println!(
                "cargo:warning=CI 已设置，但缺少 {what}：需要它的测试将运行并失败，而不是被忽略"
            );
        } else {
            println!("cargo:rustc-cfg={cfg}");
        }
    }
}

/// The same rule as `minzheng_store::testing::in_ci`.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| {
        let v = v.trim();
        !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false")
    })
}

fn is_set(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| !v.trim().is_empty())
}

/// Whether both programs are found where the browser tests look for them
/// (`crates/web/tests/browser/mod.rs`); names what to watch for a change either way.
fn browser_installed() -> bool {
    let chromium = find("/usr/bin/chromium", &["chromium", "chromium-browser"]);
    let chromedriver = find("/usr/bin/chromedriver", &["chromedriver"]);
    match (chromium, chromedriver) {
        (Some(browser), Some(driver)) => {
            // Removing either makes the file missing, which makes Cargo run this again.
            println!("cargo:rerun-if-changed={}", browser.display());
            println!("cargo:rerun-if-changed={}", driver.display());
            true
        }
        _ => {
            // Installing one adds an entry to one of these directories.
            for dir in search_dirs() {
                println!("cargo:rerun-if-changed={}", dir.display());
            }
            false
        }
    }
}

/// `/usr/bin` and the directories on `PATH` that exist.
fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("/usr/bin")];
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    let mut seen = Vec::new();
    for dir in dirs {
        if dir.is_dir() && !seen.contains(&dir) {
            seen.push(dir);
        }
    }
    seen
}

/// `preferred` if it exists, else the first of `names` found on `PATH` (as the browser
/// tests' `find_executable`).
fn find(preferred: &str, names: &[&str]) -> Option<PathBuf> {
    let preferred = Path::new(preferred);
    if preferred.is_file() {
        return Some(preferred.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}
