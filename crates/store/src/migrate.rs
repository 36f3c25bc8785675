//! Embedded migrations, one list per backend, applied in order inside one transaction.
//! A migration whose SQL is the same on both backends is kept once, in `migrations/common`;
//! the others have a SQLite and a PostgreSQL file of the same number.

use crate::db::{q, Store};
use crate::error::Result;

/// The tables that carry the county code of their jurisdiction (`county_code`, migration
/// 18): the large ones, by the township or scope of each row. A distributed PostgreSQL
/// shards and co-locates them by it (ARCHITECTURE.md, "Keys for distribution"); every
/// statement that adds a row to one of them names the column.
pub const COUNTY_TABLES: &[&str] = &[
    "households",
    "persons",
    "person_moves",
    "incomes",
    "assets",
    "person_name_parts",
    "cases",
    "case_events",
    "case_clocks",
    "case_surveys",
    "enrolments",
    "notice_batches",
    "notice_entries",
    "objections",
    "payroll_batches",
    "payroll_lines",
    "payroll_adjustments",
    "payroll_returns",
    "payment_exceptions",
    "recoveries",
    "findings",
    "funeral_records",
    "relative_declarations",
    "repricing_batches",
    "repricing_lines",
    "stats_snapshots",
    "office_profiles",
    "office_staff",
    "office_rooms",
    "office_rules",
    "office_equipment",
    "staff_changes",
    "village_assistants",
    "inspections",
    "inspection_items",
    "rectifications",
    "subsidies",
    "investments",
    "construction_plans",
    "jobs",
    "audit_log",
    "attachments",
    "external_batches",
];

const SQLITE: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/sqlite/0001_foundation.sql"),
    ),
    (
        2,
        "registry",
        include_str!("../migrations/sqlite/0002_registry.sql"),
    ),
    (
        3,
        "standards",
        include_str!("../migrations/sqlite/0003_standards.sql"),
    ),
    (
        4,
        "cases",
        include_str!("../migrations/sqlite/0004_cases.sql"),
    ),
    (
        5,
        "payroll",
        include_str!("../migrations/sqlite/0005_payroll.sql"),
    ),
    (
        6,
        "write_paths",
        include_str!("../migrations/common/0006_write_paths.sql"),
    ),
    (
        7,
        "person_indexes",
        include_str!("../migrations/common/0007_person_indexes.sql"),
    ),
    (
        8,
        "deaths",
        include_str!("../migrations/sqlite/0008_deaths.sql"),
    ),
    (
        9,
        "signin_failures",
        include_str!("../migrations/common/0009_signin_failures.sql"),
    ),
    (
        10,
        "relatives_and_lists",
        include_str!("../migrations/sqlite/0010_relatives_and_lists.sql"),
    ),
    (
        11,
        "search_keys",
        include_str!("../migrations/sqlite/0011_search_keys.sql"),
    ),
    (
        12,
        "partitions",
        include_str!("../migrations/sqlite/0012_partitions.sql"),
    ),
    (
        13,
        "amounts",
        include_str!("../migrations/sqlite/0013_amounts.sql"),
    ),
    (
        14,
        "check_facts",
        include_str!("../migrations/sqlite/0014_check_facts.sql"),
    ),
    (
        15,
        "hand_amounts",
        include_str!("../migrations/common/0015_hand_amounts.sql"),
    ),
    (
        16,
        "repricing_standard",
        include_str!("../migrations/common/0016_repricing_standard.sql"),
    ),
    (
        17,
        "stats",
        include_str!("../migrations/sqlite/0017_stats.sql"),
    ),
    (
        18,
        "county_keys",
        include_str!("../migrations/sqlite/0018_county_keys.sql"),
    ),
    (
        19,
        "child_county_keys",
        include_str!("../migrations/sqlite/0019_child_county_keys.sql"),
    ),
];
const POSTGRES: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (
        2,
        "registry",
        include_str!("../migrations/postgres/0002_registry.sql"),
    ),
    (
        3,
        "standards",
        include_str!("../migrations/postgres/0003_standards.sql"),
    ),
    (
        4,
        "cases",
        include_str!("../migrations/postgres/0004_cases.sql"),
    ),
    (
        5,
        "payroll",
        include_str!("../migrations/postgres/0005_payroll.sql"),
    ),
    (
        6,
        "write_paths",
        include_str!("../migrations/common/0006_write_paths.sql"),
    ),
    (
        7,
        "person_indexes",
        include_str!("../migrations/common/0007_person_indexes.sql"),
    ),
    (
        8,
        "deaths",
        include_str!("../migrations/postgres/0008_deaths.sql"),
    ),
    (
        9,
        "signin_failures",
        include_str!("../migrations/common/0009_signin_failures.sql"),
    ),
    (
        10,
        "relatives_and_lists",
        include_str!("../migrations/postgres/0010_relatives_and_lists.sql"),
    ),
    (
        11,
        "search_keys",
        include_str!("../migrations/postgres/0011_search_keys.sql"),
    ),
    (
        12,
        "partitions",
        include_str!("../migrations/postgres/0012_partitions.sql"),
    ),
    (
        13,
        "amounts",
        include_str!("../migrations/postgres/0013_amounts.sql"),
    ),
    (
        14,
        "check_facts",
        include_str!("../migrations/postgres/0014_check_facts.sql"),
    ),
    (
        15,
        "hand_amounts",
        include_str!("../migrations/common/0015_hand_amounts.sql"),
    ),
    (
        16,
        "repricing_standard",
        include_str!("../migrations/common/0016_repricing_standard.sql"),
    ),
    (
        17,
        "stats",
        include_str!("../migrations/postgres/0017_stats.sql"),
    ),
    (
        18,
        "county_keys",
        include_str!("../migrations/postgres/0018_county_keys.sql"),
    ),
    (
        19,
        "child_county_keys",
        include_str!("../migrations/postgres/0019_child_county_keys.sql"),
    ),
];

/// The newest migration this program knows.
pub(crate) fn latest_version() -> i64 {
    SQLITE.iter().map(|m| m.0).max().unwrap_or(0)
}

impl Store {
    /// Applies every migration not yet applied. Returns how many ran.
    pub async fn migrate(&self) -> Result<usize> {
        Ok(self.migrate_and_distribute().await?.0)
    }

    /// [`Store::migrate`], and whether a Citus coordinator's tables were distributed now.
    pub(crate) async fn migrate_and_distribute(&self) -> Result<(usize, bool)> {
        let mut tx = self.begin_write().await?;
        if tx.is_postgres() {
            // Two servers starting at once must not migrate concurrently.
            tx.execute(q("SELECT pg_advisory_xact_lock(7340001)"))
                .await?;
        }
        tx.execute(q(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
        ))
        .await?;
        let done: Vec<i64> = tx
            .fetch_all(q("SELECT version FROM schema_migrations"))
            .await?
            .iter()
            .map(|r| r.i64("version"))
            .collect::<Result<_>>()?;
        let list = if self.is_postgres() { POSTGRES } else { SQLITE };
        let mut ran = 0;
        for (version, name, sql) in list {
            if done.contains(version) {
                continue;
            }
            for stmt in split_statements(sql) {
                tx.execute(q(stmt)).await?;
            }
            tx.execute(
                q("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)")
                    .bind(*version)
                    .bind(*name)
                    .bind(crate::timestamp(chrono::Utc::now())),
            )
            .await?;
            ran += 1;
        }
        tx.commit().await?;
        // PostgreSQL: this year's and next year's partitions (migration 12) exist.
        let year = chrono::Datelike::year(&chrono::Utc::now());
        crate::partitions::ensure_years(self, year..=year + 1).await?;
        // A Citus coordinator's database: its tables distributed across the cluster, once.
        let distributed = self.deployment().await? == crate::Deployment::CitusPending
            && self.distribute().await?;
        Ok((ran, distributed))
    }
}

/// Splits a migration into statements on `;` at line ends (our migrations keep to that).
fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in sql.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") || trimmed.is_empty() {
            continue;
        }
        cur.push_str(line);
        cur.push('\n');
        if trimmed.ends_with(';') {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}
