//! Background jobs (the `jobs` table): large ledger imports run as jobs that outlive the
//! request that started them and the server process that ran them.
//!
//! A job row is written when the job starts (`running`) and when it ends (`succeeded` or
//! `failed`, with a Chinese message and the result as JSON). Progress in between is written
//! in separate short statements when the database is free; on SQLite the import itself holds
//! the single writer for its whole transaction, so progress updates then are skipped (the web
//! server shows live progress from memory) rather than queued behind it. A job still
//! `running` when the server starts was cut off by a restart and is marked failed.
//!
//! Job rows are bookkeeping, not registry records: they are not audited (the import itself
//! writes its audit record).

use serde::Serialize;

use crate::db::{q, DbRow, Store};
use crate::error::{StoreError, StoreResult};
use crate::registry_import::{ImportInput, ImportOptions, ImportProgress, ImportReport};
use minzheng_domain::Actor;

/// What a job reports when it was cut off by a restart.
pub const JOB_INTERRUPTED: &str = "服务重启，导入中断，请重新导入";
/// The kind of ledger-import jobs.
pub const JOB_KIND_IMPORT: &str = "registry.import";
/// Issues kept in a finished job's stored report (the summary counts them all).
const STORED_ISSUES: usize = 10_000;

/// A job as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    pub scope_code: String,
    pub created_by: String,
    pub total: i64,
    pub done: i64,
    pub message: String,
    pub result: Option<serde_json::Value>,
    pub created_at: String,
    pub updated_at: String,
}

impl Job {
    fn from_row(r: &DbRow) -> StoreResult<Job> {
        Ok(Job {
            id: r.i64("id")?,
            kind: r.str("kind")?,
            status: r.str("status")?,
            scope_code: r.str("scope_code")?,
            created_by: r.str("created_by")?,
            total: r.i64("total")?,
            done: r.i64("done")?,
            message: r.str("message")?,
            result: r
                .opt_str("result_json")?
                .and_then(|s| serde_json::from_str(&s).ok()),
            created_at: r.str("created_at")?,
            updated_at: r.str("updated_at")?,
        })
    }

    pub fn finished(&self) -> bool {
        self.status != "running"
    }

    /// The file an import job reads.
    pub fn file_name(&self) -> String {
        self.result
            .as_ref()
            .and_then(|r| r["file_name"].as_str())
            .unwrap_or_default()
            .to_string()
    }

    /// The stored import report of a finished import job.
    pub fn import_report(&self) -> Option<ImportReport> {
        self.result
            .as_ref()
            .and_then(|r| serde_json::from_value(r["report"].clone()).ok())
    }

    /// How many issues the import found (the stored report keeps at most 10,000).
    pub fn issues_total(&self) -> usize {
        self.result
            .as_ref()
            .and_then(|r| r["issues_total"].as_u64())
            .unwrap_or(0) as usize
    }

    /// Why a failed job failed without a report (a database error, a restart).
    pub fn error(&self) -> Option<String> {
        (self.status == "failed" && self.import_report().is_none()).then(|| self.message.clone())
    }
}

const COLUMNS: &str =
    "id, kind, status, scope_code, created_by, total, done, message, result_json, created_at, updated_at";

impl Store {
    /// Records a job as `running`. `file_name` is kept in the result for the job page.
    pub async fn create_job(&self, actor: &Actor, kind: &str, file_name: &str) -> StoreResult<i64> {
        let now = crate::timestamp(chrono::Utc::now());
        let result = serde_json::json!({ "file_name": file_name }).to_string();
        let mut tx = self.begin_write().await?;
        let id = tx
            .fetch_one(
                q(
                    "INSERT INTO jobs (kind, status, scope_code, created_by, message, result_json,
                     created_at, updated_at)
                   VALUES ($1, 'running', $2, $3, '正在导入', $4, $5, $5) RETURNING id",
                )
                .bind(kind)
                .bind(actor.scope.code_str())
                .bind(actor.username.as_str())
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
    pub async fn try_job_progress(&self, id: i64, done: u64, total: u64) -> StoreResult<bool> {
        let now = crate::timestamp(chrono::Utc::now());
        let sql = q("UPDATE jobs SET done = $1, total = $2, updated_at = $3
                     WHERE id = $4 AND status = 'running' RETURNING id")
        .bind(done as i64)
        .bind(total as i64)
        .bind(now.as_str())
        .bind(id);
        if self.is_postgres() {
            self.fetch_optional(sql).await?;
            return Ok(true);
        }
        // SQLite: only when no writer of ours holds the database (the guard keeps others
        // of ours out while this one statement commits on its own).
        let Ok(_guard) = self.write_lock.clone().try_lock_owned() else {
            return Ok(false);
        };
        self.fetch_optional(sql).await?;
        Ok(true)
    }

    /// Ends a job. `status` is `succeeded` or `failed`.
    pub async fn finish_job(
        &self,
        id: i64,
        status: &str,
        done: u64,
        total: u64,
        message: &str,
        result: &serde_json::Value,
    ) -> StoreResult<()> {
        if !matches!(status, "succeeded" | "failed") {
            return Err(StoreError::Internal(format!("任务状态无效：{status}")));
        }
        let now = crate::timestamp(chrono::Utc::now());
        let mut tx = self.begin_write().await?;
        tx.execute(
            q(
                "UPDATE jobs SET status = $1, done = $2, total = $3, message = $4,
                 result_json = $5, updated_at = $6 WHERE id = $7",
            )
            .bind(status)
            .bind(done as i64)
            .bind(total as i64)
            .bind(message)
            .bind(result.to_string())
            .bind(now.as_str())
            .bind(id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A job of the actor (jobs are visible only to the user who started them).
    pub async fn get_job(&self, actor: &Actor, id: i64) -> StoreResult<Job> {
        self.fetch_optional(
            q(format!(
                "SELECT {COLUMNS} FROM jobs WHERE id = $1 AND created_by = $2"
            ))
            .bind(id)
            .bind(actor.username.as_str()),
        )
        .await?
        .map(|r| Job::from_row(&r))
        .transpose()?
        .ok_or_else(|| StoreError::NotFound("该任务"))
    }

    /// The actor's most recent jobs, newest first.
    pub async fn list_jobs(&self, actor: &Actor, limit: i64) -> StoreResult<Vec<Job>> {
        self.fetch_all(
            q(format!(
                "SELECT {COLUMNS} FROM jobs WHERE created_by = $1 ORDER BY id DESC LIMIT $2"
            ))
            .bind(actor.username.as_str())
            .bind(limit.clamp(1, 200)),
        )
        .await?
        .iter()
        .map(Job::from_row)
        .collect()
    }

    /// Marks jobs left `running` by a previous server process as failed. Call once when
    /// the server starts, before it accepts requests.
    pub async fn fail_interrupted_jobs(&self) -> StoreResult<u64> {
        let now = crate::timestamp(chrono::Utc::now());
        let mut tx = self.begin_write().await?;
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

    /// Runs a ledger import as the job `job_id` (created by [`Store::create_job`]) and
    /// records how it ended: `succeeded` when the ledger was written (or, for a dry run,
    /// found valid), `failed` when it was refused or the database failed. The report is
    /// stored with the job (at most 10,000 issues of it).
    pub async fn run_import_job(
        &self,
        actor: &Actor,
        job_id: i64,
        input: &ImportInput,
        opts: &ImportOptions,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> StoreResult<ImportReport> {
        let mut last = ImportProgress {
            phase: "读取",
            done: 0,
            total: 0,
        };
        let result = self
            .import_households(actor, input, opts, &mut |p| {
                last = p;
                progress(p)
            })
            .await;
        let file_name = input.name();
        match &result {
            Ok(r) => {
                let ok = r.written || (r.dry_run && r.issues.is_empty());
                let mut stored = r.clone();
                let issues_total = stored.issues.len();
                stored.issues.truncate(STORED_ISSUES);
                // Every row was read and checked, whether or not the ledger was written.
                let rows = r.rows_read as u64;
                self.finish_job(
                    job_id,
                    if ok { "succeeded" } else { "failed" },
                    rows,
                    rows,
                    &r.summary(),
                    &serde_json::json!({
                        "file_name": file_name,
                        "report": stored,
                        "issues_total": issues_total,
                    }),
                )
                .await?;
            }
            Err(e) => {
                self.finish_job(
                    job_id,
                    "failed",
                    last.done,
                    last.total,
                    &format!("导入失败：{e}"),
                    &serde_json::json!({ "file_name": file_name }),
                )
                .await?;
            }
        }
        result
    }
}
