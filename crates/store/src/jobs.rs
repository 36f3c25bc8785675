//! Background jobs (the `jobs` table).
//!
//! A job row is written when the job starts (`running`) and when it ends (`succeeded` or
//! `failed`, with a Chinese message and the result as JSON). Progress in between is written
//! in separate short statements when the database is free; on SQLite the import itself holds
//! the single writer for its whole transaction, so progress updates then are skipped (the
//! application keeps live progress in memory) rather than queued behind it.
//!
//! Job rows are bookkeeping, not registry records: they are not audited (the import itself
//! writes its audit record).

use minzheng_domain::jobs::{Job, JobFilter, JobKind, JobResult, JobStatus, JOB_INTERRUPTED};
use minzheng_domain::registry::ImportReport;

use crate::db::{q, DbRow, Store};
use crate::error::{Result, StoreError};

fn job(r: &DbRow) -> Result<Job> {
    let kind = r.str("kind")?;
    let status = r.str("status")?;
    let unknown =
        |what: &str, code: &str| StoreError::Internal(format!("任务{what}无法识别：{code}"));
    // The result is read field by field, so a report of another shape still leaves the
    // file name.
    let result = r
        .opt_str("result_json")?
        .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
        .map(|v| JobResult {
            file_name: v["file_name"].as_str().unwrap_or_default().to_string(),
            report: serde_json::from_value::<ImportReport>(v["report"].clone()).ok(),
            issues_total: v["issues_total"].as_u64().unwrap_or(0) as usize,
        })
        .unwrap_or_default();
    Ok(Job {
        id: r.i64("id")?,
        kind: JobKind::parse(&kind).ok_or_else(|| unknown("类型", &kind))?,
        status: JobStatus::parse(&status).ok_or_else(|| unknown("状态", &status))?,
        scope_code: r.str("scope_code")?,
        created_by: r.str("created_by")?,
        total: r.i64("total")?,
        done: r.i64("done")?,
        message: r.str("message")?,
        result,
        created_at: r.str("created_at")?,
        updated_at: r.str("updated_at")?,
    })
}

const COLUMNS: &str =
    "id, kind, status, scope_code, created_by, total, done, message, result_json, created_at, updated_at";

/// Records a job as `running`, reading `file_name`.
pub async fn insert(
    store: &Store,
    kind: JobKind,
    scope_code: &str,
    created_by: &str,
    file_name: &str,
) -> Result<i64> {
    let now = crate::timestamp(chrono::Utc::now());
    let result = serde_json::json!({ "file_name": file_name }).to_string();
    let mut tx = store.begin_write().await?;
    let id = tx
        .fetch_one(
            q(
                "INSERT INTO jobs (kind, status, scope_code, county_code, created_by, message, result_json,
                 created_at, updated_at)
               VALUES ($1, 'running', $2, substr($2, 1, 6), $3, '正在导入', $4, $5, $5) RETURNING id",
            )
            .bind(kind.as_str())
            .bind(scope_code)
            .bind(created_by)
            .bind(result)
            .bind(now.as_str()),
        )
        .await?
        .i64("id")?;
    tx.commit().await?;
    Ok(id)
}

/// Writes a running job's progress if the database is free right now; returns whether
/// it did. Never waits behind another writer (on SQLite, the import itself).
pub async fn try_progress(store: &Store, id: i64, done: u64, total: u64) -> Result<bool> {
    let now = crate::timestamp(chrono::Utc::now());
    let sql = q("UPDATE jobs SET done = $1, total = $2, updated_at = $3
                 WHERE id = $4 AND status = 'running' RETURNING id")
    .bind(done as i64)
    .bind(total as i64)
    .bind(now.as_str())
    .bind(id);
    if store.is_postgres() {
        store.fetch_optional(sql).await?;
        return Ok(true);
    }
    // SQLite: only when no writer of ours holds the database (the guard keeps others
    // of ours out while this one statement commits on its own).
    let Ok(_guard) = store.write_lock.clone().try_lock_owned() else {
        return Ok(false);
    };
    store.fetch_optional(sql).await?;
    Ok(true)
}

/// Ends a job (`succeeded` or `failed`).
pub async fn finish(
    store: &Store,
    id: i64,
    status: JobStatus,
    done: u64,
    total: u64,
    message: &str,
    result: &JobResult,
) -> Result<()> {
    if status == JobStatus::Running {
        return Err(StoreError::Internal(format!(
            "任务状态无效：{}",
            status.as_str()
        )));
    }
    let result = serde_json::to_string(result)
        .map_err(|e| StoreError::Internal(format!("任务结果无法保存：{e}")))?;
    let now = crate::timestamp(chrono::Utc::now());
    let mut tx = store.begin_write().await?;
    tx.execute(
        q(
            "UPDATE jobs SET status = $1, done = $2, total = $3, message = $4,
             result_json = $5, updated_at = $6 WHERE id = $7",
        )
        .bind(status.as_str())
        .bind(done as i64)
        .bind(total as i64)
        .bind(message)
        .bind(result)
        .bind(now.as_str())
        .bind(id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// One job (whoever started it: the caller decides who may see it).
pub async fn get(store: &Store, id: i64) -> Result<Job> {
    store
        .fetch_optional(q(format!("SELECT {COLUMNS} FROM jobs WHERE id = $1")).bind(id))
        .await?
        .map(|r| job(&r))
        .transpose()?
        .ok_or(StoreError::NotFound("该任务"))
}

/// The most recent jobs the filter lets through, newest first.
pub async fn list(store: &Store, filter: &JobFilter, limit: i64) -> Result<Vec<Job>> {
    let limit = limit.clamp(1, 200);
    let query = match filter {
        JobFilter::All => q(format!(
            "SELECT {COLUMNS} FROM jobs ORDER BY id DESC LIMIT $1"
        ))
        .bind(limit),
        JobFilter::Viewer {
            username,
            command_line: None,
        } => q(format!(
            "SELECT {COLUMNS} FROM jobs WHERE created_by = $1 ORDER BY id DESC LIMIT $2"
        ))
        .bind(username.as_str())
        .bind(limit),
        JobFilter::Viewer {
            username,
            command_line: Some((lo, hi)),
        } => q(format!(
            "SELECT {COLUMNS} FROM jobs WHERE created_by = $1
               OR (created_by = $2 AND scope_code >= $3 AND scope_code < $4)
             ORDER BY id DESC LIMIT $5"
        ))
        .bind(username.as_str())
        .bind(minzheng_domain::jobs::COMMAND_LINE)
        .bind(lo.as_str())
        .bind(hi.as_str())
        .bind(limit),
    };
    store.fetch_all(query).await?.iter().map(job).collect()
}

/// Marks jobs left `running` by a previous process as failed. Called once when the server
/// starts, before it accepts requests.
pub async fn fail_interrupted(store: &Store) -> Result<u64> {
    let now = crate::timestamp(chrono::Utc::now());
    let mut tx = store.begin_write().await?;
    let n = tx
        .execute(
            q(
                "UPDATE jobs SET status = 'failed', message = $1, updated_at = $2
               WHERE status = 'running'",
            )
            .bind(JOB_INTERRUPTED)
            .bind(now.as_str()),
        )
        .await?;
    tx.commit().await?;
    Ok(n)
}
