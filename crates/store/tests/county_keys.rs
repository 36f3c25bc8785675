//! Keys for distribution: every large table carries the county code of its jurisdiction
//! (`county_code`, the first six digits of the row's township or scope), on both backends;
//! a row whose county is not its township's is refused, on insert and on update; and every
//! statement in the store that adds rows to such a table names the column — a distributed
//! PostgreSQL routes a row by the value in the statement itself.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use minzheng_store::testing::TestDb;
use minzheng_store::{Deployment, COUNTY_TABLES};

/// A plain connection to the test database, past the store.
enum Conn {
    Pg(sqlx::PgPool),
    Lite(sqlx::SqlitePool),
}

impl Conn {
    async fn open(db: &TestDb) -> Conn {
        if db.is_postgres() {
            Conn::Pg(sqlx::PgPool::connect(&db.url).await.unwrap())
        } else {
            Conn::Lite(sqlx::SqlitePool::connect(&db.url).await.unwrap())
        }
    }

    async fn exec(&self, sql: &str, binds: &[&str]) -> Result<u64, sqlx::Error> {
        match self {
            Conn::Pg(p) => {
                let mut q = sqlx::query(sql);
                for b in binds {
                    q = q.bind(*b);
                }
                Ok(q.execute(p).await?.rows_affected())
            }
            Conn::Lite(p) => {
                let mut q = sqlx::query(sql);
                for b in binds {
                    q = q.bind(*b);
                }
                Ok(q.execute(p).await?.rows_affected())
            }
        }
    }

    async fn strings(&self, sql: &str) -> BTreeSet<String> {
        match self {
            Conn::Pg(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
            Conn::Lite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        }
        .into_iter()
        .collect()
    }

    async fn count(&self, sql: &str) -> i64 {
        match self {
            Conn::Pg(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
            Conn::Lite(p) => sqlx::query_scalar(sql).fetch_one(p).await.unwrap(),
        }
    }

    async fn close(self) {
        match self {
            Conn::Pg(p) => p.close().await,
            Conn::Lite(p) => p.close().await,
        }
    }
}

async fn county_rules_hold(db: TestDb) {
    let distributed = db.store.deployment().await.unwrap() == Deployment::Distributed;
    let c = Conn::open(&db).await;
    // The tables with a county_code column (PostgreSQL: the partitioned tables' parents).
    let tables = if db.is_postgres() {
        c.strings(
            "SELECT c.table_name::text FROM information_schema.columns c
             WHERE c.table_schema = current_schema() AND c.column_name = 'county_code'
               AND NOT EXISTS (SELECT 1 FROM pg_inherits i
                               WHERE i.inhrelid = (quote_ident(c.table_name))::regclass)",
        )
        .await
    } else {
        c.strings(
            "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c
             WHERE m.type = 'table' AND c.name = 'county_code'",
        )
        .await
    };
    // (program_params is a reference table: its county_code is the county a parameter
    // applies to, blank for the whole city.)
    let want: BTreeSet<String> = COUNTY_TABLES
        .iter()
        .chain(&["program_params"])
        .map(|t| t.to_string())
        .collect();
    assert_eq!(tables, want);

    let insert = "INSERT INTO jobs (kind, status, scope_code, county_code, created_by,
                    created_at, updated_at) VALUES ('import', 'running', $1, $2, 'test', 'now', 'now')";
    // A township of 雨城区 (511802) is filed under 511802; a city-level scope under the
    // city's own four digits.
    for (scope, county) in [("511802001", "511802"), ("5118", "5118")] {
        c.exec(insert, &[scope, county]).await.unwrap();
    }
    let jobs = "SELECT COUNT(*) FROM jobs";
    assert_eq!(c.count(jobs).await, 2);
    // Another county's code, or none, is refused and writes nothing.
    for county in ["511803", "5118", ""] {
        let refused = c.exec(insert, &["511802001", county]).await;
        assert!(
            refused.is_err(),
            "county {county:?} for 511802001 was taken"
        );
    }
    assert_eq!(c.count(jobs).await, 2);
    // Moving a row to another county's township without its county is refused; with it,
    // the row moves.
    let refused = c
        .exec(
            "UPDATE jobs SET scope_code = '511803001' WHERE scope_code = '511802001'",
            &[],
        )
        .await;
    assert!(refused.is_err(), "a move without its county was taken");
    let moved = c
        .exec(
            "UPDATE jobs SET scope_code = '511803001', county_code = '511803'
             WHERE scope_code = '511802001'",
            &[],
        )
        .await;
    if distributed {
        // A cluster cannot change a row's shard in place: the store moves a row to another
        // county by deleting and writing it again.
        assert!(moved.is_err(), "a cluster changed a row's county in place");
        assert_eq!(
            c.count("SELECT COUNT(*) FROM jobs WHERE county_code = '511802'")
                .await,
            1
        );
    } else {
        assert_eq!(moved.unwrap(), 1);
        assert_eq!(
            c.count("SELECT COUNT(*) FROM jobs WHERE county_code = '511803'")
                .await,
            1
        );
    }
    c.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn sqlite_tables_carry_their_county_and_refuse_another() {
    county_rules_hold(TestDb::sqlite().await).await;
}

#[minzheng_test_services::needs_postgres]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tables_carry_their_county_and_refuse_another() {
    county_rules_hold(TestDb::postgres().await).await;
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The text from `open` (an opening parenthesis) to its closing one.
fn parenthesized(s: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in s[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &s[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    &s[open + 1..]
}

/// The value of `const NAME: &str = "…";` in `src` (the string may start on the next line).
fn const_text<'a>(src: &'a str, name: &str) -> Option<&'a str> {
    let at = src.find(&format!("const {name}: &str ="))?;
    let rest = &src[at..];
    let start = rest.find('"')? + 1;
    let end = rest[start..].find('"')?;
    Some(&rest[start..start + end])
}

/// Every `INSERT INTO t (…)` and `COPY t (…)` of a table in [`COUNTY_TABLES`] in the
/// store's code lists `county_code` (directly, or in the `{CONSTANT}` its list names).
#[test]
fn every_write_to_a_county_table_names_the_county() {
    let src_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src_dir, &mut files);
    let mut checked = 0;
    let mut missing = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        for table in COUNTY_TABLES {
            for head in [format!("INSERT INTO {table} ("), format!("COPY {table} (")] {
                for (at, _) in src.match_indices(&head) {
                    let cols = parenthesized(&src, at + head.len() - 1);
                    let named = cols.contains("county_code")
                        || cols.split(['{', '}']).skip(1).step_by(2).any(|name| {
                            const_text(&src, name).is_some_and(|c| c.contains("county_code"))
                        });
                    checked += 1;
                    if !named {
                        let line = src[..at].lines().count();
                        missing.push(format!("{}:{line} {table}", f.display()));
                    }
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} writes found");
    assert!(
        missing.is_empty(),
        "writes that do not name county_code:\n{}",
        missing.join("\n")
    );
}
