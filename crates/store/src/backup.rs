//! Backups of a SQLite database: a consistent copy taken while others read and write
//! (`VACUUM INTO`, which reads one snapshot), and the facts a copy must show before it may
//! replace a database (its integrity, that its schema is minzheng's and not newer than this
//! program's, what it holds). PostgreSQL is backed up with its own tools (README).

use crate::db::{q, Store};
use crate::error::{Result, StoreError};

/// Writes a consistent copy of the (SQLite) database to `dest`, which must not exist.
pub async fn vacuum_into(store: &Store, dest: &str) -> Result<()> {
    if store.is_postgres() {
        return Err(StoreError::validation(
            "PostgreSQL 数据库请用 pg_dump 备份、pg_restore 恢复（见 README“备份与恢复”）",
        ));
    }
    // The path is a parameter of the statement, never spliced into it.
    store.execute_with(q("VACUUM INTO $1").bind(dest)).await?;
    Ok(())
}

/// What a copy of the database shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyFacts {
    /// `PRAGMA quick_check`'s answer (`ok` when sound).
    pub integrity: String,
    /// The newest migration applied, None when the file has no minzheng schema.
    pub schema_version: Option<i64>,
    pub households: i64,
    pub persons: i64,
    pub enrolments: i64,
    pub audit_records: i64,
}

/// The facts of the (SQLite) database `store` is open on.
pub async fn facts(store: &Store) -> Result<CopyFacts> {
    let integrity = store
        .fetch_one(q("PRAGMA quick_check"))
        .await?
        .str("quick_check")?;
    let has_schema = store
        .fetch_optional(q(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
        ))
        .await?
        .is_some();
    if !has_schema || integrity != "ok" {
        return Ok(CopyFacts {
            integrity,
            schema_version: None,
            households: 0,
            persons: 0,
            enrolments: 0,
            audit_records: 0,
        });
    }
    let n = |table: &'static str| {
        let sql = format!("SELECT COUNT(*) AS n FROM {table}");
        async move { store.fetch_one(q(sql)).await?.i64("n") }
    };
    Ok(CopyFacts {
        schema_version: store
            .fetch_one(q("SELECT MAX(version) AS v FROM schema_migrations"))
            .await?
            .opt_i64("v")?,
        households: n("households").await?,
        persons: n("persons").await?,
        enrolments: n("enrolments").await?,
        audit_records: n("audit_log").await?,
        integrity,
    })
}

/// The newest migration this program knows.
pub fn latest_schema_version() -> i64 {
    crate::migrate::latest_version()
}
