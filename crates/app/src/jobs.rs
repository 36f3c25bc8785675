//! Background jobs (任务): a ledger import runs as a job — from the web, where a large one
//! keeps running after the request has answered, and from the command line alike. The job
//! row (`running`, then `succeeded` or `failed` with the import's report) outlives the
//! process; live progress is kept here in memory while this process runs the job (on
//! SQLite the import holds the single writer for its whole write phase, so the row is
//! brought up to date only when the database is free and when the job ends).
//!
//! Who sees a job is the domain's rule (`minzheng_domain::jobs`): its owner, and for a job
//! started from the command line every user who may import the registry inside whose
//! jurisdiction it ran — with ID numbers in its report masked for roles that may not see
//! them. A job still `running` when the server starts was cut off by the previous process
//! and is marked failed.

use std::collections::HashMap;
use std::sync::Mutex;

use minzheng_domain::jobs::{
    job_owner, Job, JobFilter, JobKind, JobResult, JobState, JobStatus, STORED_ISSUES,
};
use minzheng_domain::registry::{ImportProgress, ImportReport};
use minzheng_domain::Actor;
use minzheng_store::jobs;

use crate::formats::limits::clip;
use crate::registry::import::{ImportInput, ImportOptions, BACKGROUND_ROWS};
use crate::{App, Authorize, Error, Permission, Result};

/// Characters of a job's message kept in its row (a database error may quote a whole value).
const STORED_MESSAGE_CHARS: usize = 500;

/// Polls a future and turns a panic while polling into `Err` with the panic's message.
struct CatchUnwind<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future> std::future::Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(std::task::Poll::Ready(v)) => std::task::Poll::Ready(Ok(v)),
            Ok(std::task::Poll::Pending) => std::task::Poll::Pending,
            Err(p) => std::task::Poll::Ready(Err(p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "未知错误".into()))),
        }
    }
}

/// Live progress of the jobs this process is running.
#[derive(Debug, Default)]
pub(crate) struct LiveJobs {
    live: Mutex<HashMap<i64, ImportProgress>>,
}

impl LiveJobs {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<i64, ImportProgress>> {
        // A panic while the lock was held leaves a map of plain values: still usable.
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, id: i64, p: ImportProgress) {
        self.map().insert(id, p);
    }

    fn get(&self, id: i64) -> Option<ImportProgress> {
        self.map().get(&id).copied()
    }

    fn remove(&self, id: i64) {
        self.map().remove(&id);
    }
}

/// The jobs duty of [`App`].
pub struct Jobs<'a> {
    app: &'a App,
}

impl App {
    pub fn jobs(&self) -> Jobs<'_> {
        Jobs { app: self }
    }
}

impl Jobs<'_> {
    fn filter(actor: &Actor) -> JobFilter {
        JobFilter::for_viewer(actor, actor.may(Permission::ImportRegistry))
    }

    /// A job as `actor` sees it: with live progress, and with the report's ID numbers
    /// masked when someone else started it and the actor may not see them.
    fn view(&self, actor: &Actor, mut job: Job) -> JobState {
        if job.created_by != actor.username && !actor.may(Permission::SeeFullIdentity) {
            job.result.report = job.result.report.map(ImportReport::masked);
        }
        let live = self.app.live_jobs.get(job.id);
        JobState::new(job, live)
    }

    /// One job the actor sees.
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<JobState> {
        let job = jobs::get(self.app.store(), id).await?;
        if !Self::filter(actor).sees(&job) {
            return Err(Error::NotFound("该任务"));
        }
        Ok(self.view(actor, job))
    }

    /// The most recent jobs the actor sees, newest first.
    pub async fn list(&self, actor: &Actor, limit: i64) -> Result<Vec<JobState>> {
        let list = jobs::list(self.app.store(), &Self::filter(actor), limit).await?;
        Ok(list.into_iter().map(|j| self.view(actor, j)).collect())
    }

    /// Records a job the actor starts, reading `file_name`, as running.
    pub async fn start(&self, actor: &Actor, kind: JobKind, file_name: &str) -> Result<i64> {
        Ok(jobs::insert(
            self.app.store(),
            kind,
            actor.scope.code_str(),
            job_owner(actor),
            file_name,
        )
        .await?)
    }

    /// Writes a running job's progress if the database is free right now; returns whether
    /// it did (never waits behind the import itself).
    pub async fn record_progress(&self, id: i64, done: u64, total: u64) -> Result<bool> {
        Ok(jobs::try_progress(self.app.store(), id, done, total).await?)
    }

    /// Marks the jobs a previous process left running as failed. The server does this once
    /// when it starts, before it accepts requests.
    pub async fn fail_interrupted(&self) -> Result<u64> {
        Ok(jobs::fail_interrupted(self.app.store()).await?)
    }

    /// Runs a ledger import as the job `id` (see [`Jobs::start`]) and records how it
    /// ended: `succeeded` when the ledger was written (or, for a dry run, found valid),
    /// `failed` when it was refused or could not run. The report is stored with the job
    /// (at most 10,000 of its issues).
    pub async fn run_import(
        &self,
        actor: &Actor,
        id: i64,
        input: &ImportInput,
        opts: &ImportOptions,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> Result<ImportReport> {
        let mut last = ImportProgress {
            phase: "读取",
            done: 0,
            total: 0,
        };
        // A panic inside the import (a parser's assertion, a bug) ends it like any failure:
        // its transaction is rolled back as the stack unwinds, and the job is recorded as
        // failed below instead of being left running.
        let caught = CatchUnwind(Box::pin(self.app.registry().import(
            actor,
            input,
            opts,
            &mut |p| {
                last = p;
                progress(p)
            },
        )))
        .await;
        let result = caught.unwrap_or_else(|panic| {
            tracing::error!(job = id, panic, "an import panicked");
            Err(Error::Internal(format!("导入过程异常中止：{panic}")))
        });
        let store = self.app.store();
        let file_name = input.name();
        let (status, done, total, message, report, issues_total) = match &result {
            Ok(r) => {
                let mut stored = r.clone();
                let issues_total = stored.issues.len();
                stored.issues.truncate(STORED_ISSUES);
                // Every row was read and checked, whether or not the ledger was written.
                let rows = r.rows_read as u64;
                let status = if r.succeeded() {
                    JobStatus::Succeeded
                } else {
                    JobStatus::Failed
                };
                (status, rows, rows, r.summary(), Some(stored), issues_total)
            }
            Err(e) => (
                JobStatus::Failed,
                last.done,
                last.total,
                format!("导入失败：{e}"),
                None,
                0,
            ),
        };
        let message = clip(message, STORED_MESSAGE_CHARS);
        let full = JobResult {
            file_name: file_name.clone(),
            report,
            issues_total,
        };
        // Test support: a database that refuses the full result.
        #[cfg(feature = "testing")]
        let refused =
            crate::testing::import_fault(&file_name, crate::testing::ImportFault::ResultRefused);
        #[cfg(not(feature = "testing"))]
        let refused = false;
        let stored: Result<()> = if refused {
            Err(Error::Internal("数据库拒绝保存导入结果".into()))
        } else {
            jobs::finish(store, id, status, done, total, &message, &full)
                .await
                .map_err(Error::from)
        };
        if let Err(e) = stored {
            // The result could not be stored (the database refused it): end the job with
            // its status and reason all the same, without the report.
            tracing::error!(job = id, error = %e, "an import's result could not be stored");
            let message = clip(
                format!("{message}（导入报告未能保存：{e}）"),
                STORED_MESSAGE_CHARS,
            );
            let bare = JobResult {
                file_name,
                ..Default::default()
            };
            jobs::finish(store, id, status, done, total, &message, &bare).await?;
        }
        crate::formats::limits::give_back_memory();
        result
    }

    /// Imports a ledger as a job and waits for it (the command line): the job's id and the
    /// report.
    pub async fn import(
        &self,
        actor: &Actor,
        input: &ImportInput,
        opts: &ImportOptions,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> Result<(i64, ImportReport)> {
        crate::registry::import::check_may_import(actor, opts)?;
        let id = self
            .start(actor, JobKind::RegistryImport, &input.name())
            .await?;
        let report = self.run_import(actor, id, input, opts, progress).await?;
        Ok((id, report))
    }

    /// Starts a ledger import as a job (the web). Returns the job's id and, if the import
    /// finished while still small (at most 10,000 rows), its report; a larger import keeps
    /// running in the background, its progress live in [`Jobs::get`].
    pub async fn start_import(
        &self,
        actor: &Actor,
        input: ImportInput,
        opts: ImportOptions,
    ) -> Result<(i64, Option<ImportReport>)> {
        crate::registry::import::check_may_import(actor, &opts)?;
        let id = self
            .start(actor, JobKind::RegistryImport, &input.name())
            .await?;
        let live = self.app.live_jobs.clone();
        live.set(
            id,
            ImportProgress {
                phase: "读取",
                done: 0,
                total: 0,
            },
        );
        let (tx, mut rx) = tokio::sync::watch::channel(false);
        let app = self.app.clone();
        let actor = actor.clone();
        let mut handle = tokio::spawn(async move {
            let store = app.store().clone();
            let mut saved = std::time::Instant::now();
            let mut progress = |p: ImportProgress| {
                live.set(id, p);
                if p.total > BACKGROUND_ROWS || p.done > BACKGROUND_ROWS {
                    let _ = tx.send(true);
                }
                // Persist progress now and then, when the database is free.
                if saved.elapsed() >= std::time::Duration::from_secs(1) {
                    saved = std::time::Instant::now();
                    let store = store.clone();
                    tokio::spawn(async move {
                        let _ = jobs::try_progress(&store, id, p.done, p.total).await;
                    });
                }
            };
            let result = app
                .jobs()
                .run_import(&actor, id, &input, &opts, &mut progress)
                .await;
            live.remove(id);
            result
        });
        // True once the import turns out large; false when the task ended (and dropped the
        // sender) without that.
        let large = async {
            loop {
                match rx.changed().await {
                    Ok(()) if *rx.borrow() => return true,
                    Ok(()) => {}
                    Err(_) => return false,
                }
            }
        };
        let finished = |r: Result<Result<ImportReport>, tokio::task::JoinError>| match r {
            Ok(Ok(report)) => Ok((id, Some(report))),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(Error::Internal(format!("导入任务异常结束：{e}"))),
        };
        tokio::select! {
            biased;
            r = &mut handle => finished(r),
            large = large => if large { Ok((id, None)) } else { finished(handle.await) },
        }
    }
}
