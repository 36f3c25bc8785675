//! PostgreSQL's yearly partitions of the two tables that grow without end (migration 12):
//! payroll lines by period, the audit log by time. The migration creates the years up to
//! the next one; [`ensure_years`] adds later years before they are needed — on every start
//! (`Store::migrate`) and before a payroll month is generated. A row whose year has no
//! partition lands in the table's DEFAULT partition, so no write ever fails for want of
//! one; a year whose rows already went there keeps them there (PostgreSQL refuses to
//! create a partition that rows of the default one would belong to), which queries do not
//! notice.
//!
//! SQLite has no partitions: this does nothing there.

use std::ops::RangeInclusive;

use crate::db::{Pool, Store};
use crate::error::Result;

/// The bounds of year `y` in a table's partition key.
type YearBounds = fn(i32) -> (String, String);

/// The partitioned tables and the bounds of a year in their partition key.
const TABLES: [(&str, YearBounds); 2] = [
    ("payroll_lines", |y| {
        (format!("{y}-01"), format!("{}-01", y + 1))
    }),
    ("audit_log", |y| (y.to_string(), (y + 1).to_string())),
];

/// Makes sure both partitioned tables have a partition for every year in `years`.
/// Concurrent callers (two servers starting) take turns on an advisory lock.
pub async fn ensure_years(store: &Store, years: RangeInclusive<i32>) -> Result<()> {
    let Pool::Postgres(pool) = &store.pool else {
        return Ok(());
    };
    for y in years {
        for (table, bounds) in TABLES {
            let name = format!("{table}_{y}");
            let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
                .bind(&name)
                .fetch_one(pool)
                .await?;
            if exists {
                continue;
            }
            let (from, to) = bounds(y);
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock(7340006)")
                .execute(&mut *tx)
                .await?;
            let created = sqlx::query(&format!(
                "CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table}
                   FOR VALUES FROM ('{from}') TO ('{to}')"
            ))
            .execute(&mut *tx)
            .await;
            match created {
                Ok(_) => tx.commit().await?,
                // The default partition already holds rows of that year: they stay there.
                Err(e) => {
                    tracing::warn!("{table} 的 {y} 年分区未建立（该年数据已在默认分区）：{e}");
                    tx.rollback().await?;
                }
            }
        }
    }
    Ok(())
}

/// The partitions of `table` with their row counts, in name order (statistics and tests).
pub async fn counts(store: &Store, table: &str) -> Result<Vec<(String, i64)>> {
    let Pool::Postgres(pool) = &store.pool else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = to_regclass($1) ORDER BY 1",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::new();
    for n in names {
        let count: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {n}"))
            .fetch_one(pool)
            .await?;
        out.push((n, count));
    }
    Ok(out)
}
