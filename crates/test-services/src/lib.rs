//! Attributes for the tests that need a service this machine may not offer. Each leaves the
//! test as it is where the service was configured when the suite was built, and otherwise
//! marks it `#[ignore]` with the reason, so that `cargo test` lists it as ignored in its
//! summary instead of counting it as passed:
//!
//! ```ignore
//! #[minzheng_test_services::needs_postgres]
//! #[tokio::test]
//! async fn saves_on_postgres() { /* TestDb::postgres() */ }
//! ```
//!
//! `build.rs` decides (it reads `MINZHENG_TEST_POSTGRES_URL`,
//! `MINZHENG_TEST_POSTGRES_REPLICA_URL`, `MINZHENG_TEST_CITUS_URL`, `CI` and whether
//! Chromium is installed; Cargo
//! rebuilds the test targets when they change). Under CI nothing is ignored: a missing
//! service fails the tests that need it. A marked test run anyway (`--include-ignored`)
//! fails too when its service is missing: the test support panics rather than return.

use proc_macro::{Delimiter, TokenStream, TokenTree};

/// The test needs PostgreSQL (`MINZHENG_TEST_POSTGRES_URL`).
#[proc_macro_attribute]
pub fn needs_postgres(args: TokenStream, item: TokenStream) -> TokenStream {
    mark(
        args,
        item,
        cfg!(minzheng_without_postgres),
        "未设置 MINZHENG_TEST_POSTGRES_URL：跳过 PostgreSQL 测试",
    )
}

/// The test needs PostgreSQL and a streaming replica of it
/// (`MINZHENG_TEST_POSTGRES_URL` and `MINZHENG_TEST_POSTGRES_REPLICA_URL`).
#[proc_macro_attribute]
pub fn needs_replica(args: TokenStream, item: TokenStream) -> TokenStream {
    mark(
        args,
        item,
        cfg!(minzheng_without_replica),
        "未设置 MINZHENG_TEST_POSTGRES_REPLICA_URL（或 MINZHENG_TEST_POSTGRES_URL）：跳过只读副本测试",
    )
}

/// The test needs a Citus cluster's coordinator (`MINZHENG_TEST_CITUS_URL`).
#[proc_macro_attribute]
pub fn needs_citus(args: TokenStream, item: TokenStream) -> TokenStream {
    mark(
        args,
        item,
        cfg!(minzheng_without_citus),
        "未设置 MINZHENG_TEST_CITUS_URL：跳过 Citus 集群测试",
    )
}

/// The test drives Chromium through chromedriver.
#[proc_macro_attribute]
pub fn needs_browser(args: TokenStream, item: TokenStream) -> TokenStream {
    mark(
        args,
        item,
        cfg!(minzheng_without_browser),
        "未安装 chromium 或 chromedriver：跳过浏览器测试（apt-get install chromium chromium-driver）",
    )
}

/// `item` unchanged when the service is there; otherwise with `#[ignore = reason]` after
/// its other outer attributes (so after `#[tokio::test]`, where `#[ignore]` usually goes).
fn mark(args: TokenStream, item: TokenStream, missing: bool, reason: &str) -> TokenStream {
    if !args.is_empty() {
        return "compile_error!(\"this attribute takes no arguments\");"
            .parse()
            .expect("valid tokens");
    }
    if !missing {
        return item;
    }
    let ignore: TokenStream = format!("#[ignore = {reason:?}]")
        .parse()
        .expect("valid tokens");
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    // Outer attributes come as `#` followed by a bracketed group.
    let mut at = 0;
    while let [TokenTree::Punct(hash), TokenTree::Group(group), ..] = &tokens[at..] {
        if hash.as_char() != '#' || group.delimiter() != Delimiter::Bracket {
            break;
        }
        at += 2;
    }
    tokens.splice(at..at, ignore);
    tokens.into_iter().collect()
}
