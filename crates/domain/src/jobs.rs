//! Background jobs (任务): a ledger import runs as a job that outlives the request — or the
//! command — that started it, and the server process that ran it.
//!
//! Who sees a job: the user who started it; a job started from the command line is also
//! seen by every user who may import the registry and whose jurisdiction contains the
//! job's; the command line sees every job.

use serde::{Deserialize, Serialize};

use crate::registry::{ImportProgress, ImportReport};
use crate::Actor;

crate::coded_enum! {
    /// 任务状态.
    pub enum JobStatus {
        Running = ("running", "进行中"),
        Succeeded = ("succeeded", "已完成"),
        Failed = ("failed", "未成功"),
    }
}

crate::coded_enum! {
    /// 任务类型.
    pub enum JobKind {
        RegistryImport = ("registry.import", "户籍台账导入"),
    }
}

/// What a job reports when it was cut off by a restart.
pub const JOB_INTERRUPTED: &str = "服务重启，导入中断，请重新导入";

/// The owner recorded for jobs started from the command line. No account has this name
/// (user names are ASCII letters, digits, `_`, `-` and `.`).
pub const COMMAND_LINE: &str = "命令行";

/// Issues kept in a finished job's stored report (the summary counts them all).
pub const STORED_ISSUES: usize = 10_000;

/// What a job keeps besides its counters: the file it reads and, once finished, the
/// import's report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobResult {
    pub file_name: String,
    /// The report (at most [`STORED_ISSUES`] of its issues).
    pub report: Option<ImportReport>,
    /// How many issues the import found in all.
    pub issues_total: usize,
}

/// A job as stored.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub status: JobStatus,
    /// The jurisdiction of whoever started it ("" for the whole system).
    pub scope_code: String,
    /// The user name, or [`COMMAND_LINE`].
    pub created_by: String,
    pub total: i64,
    pub done: i64,
    pub message: String,
    pub result: JobResult,
    pub created_at: String,
    pub updated_at: String,
}

impl Job {
    pub fn finished(&self) -> bool {
        self.status != JobStatus::Running
    }

    /// Whether the job was started from the command line.
    pub fn from_command_line(&self) -> bool {
        self.created_by == COMMAND_LINE
    }

    /// Why a failed job failed without a report (a database error, a restart).
    pub fn error(&self) -> Option<String> {
        (self.status == JobStatus::Failed && self.result.report.is_none())
            .then(|| self.message.clone())
    }
}

/// The owner to record for a job `actor` starts.
pub fn job_owner(actor: &Actor) -> &str {
    match actor.role {
        None => COMMAND_LINE,
        Some(_) => &actor.username,
    }
}

/// Which jobs a viewer sees (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFilter {
    /// Every job (the command line).
    All,
    /// The viewer's own jobs, and command-line jobs whose scope code lies in `[lo, hi)`.
    Viewer {
        username: String,
        command_line: Option<(String, String)>,
    },
}

impl JobFilter {
    /// The jobs `viewer` sees; `may_import` says whether they may import the registry.
    pub fn for_viewer(viewer: &Actor, may_import: bool) -> JobFilter {
        match viewer.role {
            None => JobFilter::All,
            Some(_) => JobFilter::Viewer {
                username: viewer.username.clone(),
                command_line: may_import.then(|| viewer.scope.bounds()),
            },
        }
    }

    /// Whether the viewer sees `job`.
    pub fn sees(&self, job: &Job) -> bool {
        match self {
            JobFilter::All => true,
            JobFilter::Viewer {
                username,
                command_line,
            } => {
                job.created_by == *username
                    || (job.from_command_line()
                        && command_line.as_ref().is_some_and(|(lo, hi)| {
                            job.scope_code.as_str() >= lo.as_str()
                                && job.scope_code.as_str() < hi.as_str()
                        }))
            }
        }
    }
}

/// A job as pages and the API show it: the stored row, with live progress while running.
#[derive(Clone, Debug, Serialize)]
pub struct JobState {
    pub id: i64,
    pub owner: String,
    pub file_name: String,
    pub status: JobStatus,
    pub phase: String,
    pub done: u64,
    pub total: u64,
    pub finished: bool,
    pub message: String,
    pub created_at: String,
    pub report: Option<ImportReport>,
    /// Issues found in all (the stored report lists at most [`STORED_ISSUES`]).
    pub issues_total: usize,
    pub error: Option<String>,
}

impl JobState {
    /// The stored job, with the live progress of a running one if this process runs it.
    pub fn new(job: Job, live: Option<ImportProgress>) -> JobState {
        let finished = job.finished();
        let error = job.error();
        let (phase, done, total) = match (finished, live) {
            (false, Some(l)) => (l.phase.to_string(), l.done, l.total),
            (false, None) => ("导入".to_string(), job.done as u64, job.total as u64),
            (true, _) => (
                if job.status == JobStatus::Succeeded {
                    "完成"
                } else {
                    "结束"
                }
                .to_string(),
                job.done as u64,
                job.total as u64,
            ),
        };
        JobState {
            id: job.id,
            owner: job.created_by,
            file_name: job.result.file_name,
            status: job.status,
            phase,
            done,
            total,
            finished,
            message: job.message,
            created_at: job.created_at,
            report: job.result.report,
            issues_total: job.result.issues_total,
            error,
        }
    }

    /// How far it is, in percent (99 at most until it has finished).
    pub fn percent(&self) -> u64 {
        if self.finished {
            100
        } else {
            (self.done * 100)
                .checked_div(self.total)
                .unwrap_or(0)
                .min(99)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DivisionCode, Role, Scope};

    fn job(created_by: &str, scope_code: &str) -> Job {
        Job {
            id: 1,
            kind: JobKind::RegistryImport,
            status: JobStatus::Running,
            scope_code: scope_code.into(),
            created_by: created_by.into(),
            total: 200,
            done: 50,
            message: String::new(),
            result: JobResult::default(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn user(name: &str, code: &str) -> Actor {
        Actor {
            user_id: Some(1),
            username: name.into(),
            role: Some(Role::TownshipStaff),
            scope: Scope::of(DivisionCode::parse_native(code).unwrap()),
        }
    }

    #[test]
    fn command_line_jobs_are_seen_inside_their_scope_by_importers() {
        let staff = user("staff", "511802001");
        let sees = |j: &Job, may_import| JobFilter::for_viewer(&staff, may_import).sees(j);
        assert!(sees(&job("staff", "511802001"), false));
        assert!(!sees(&job("staff2", "511802001"), true));
        assert!(sees(&job(COMMAND_LINE, "511802001"), true));
        assert!(sees(&job(COMMAND_LINE, "511802001001"), true));
        assert!(!sees(&job(COMMAND_LINE, "511802001"), false));
        assert!(!sees(&job(COMMAND_LINE, "511802002"), true));
        assert!(!sees(&job(COMMAND_LINE, ""), true), "the whole system");
        // The scope's range ends just before its upper bound.
        let (_, hi) = staff.scope.bounds();
        assert!(!sees(&job(COMMAND_LINE, &hi), true), "{hi}");
        let cli = Actor::system("cli");
        assert_eq!(job_owner(&cli), COMMAND_LINE);
        assert_eq!(job_owner(&staff), "staff");
        assert!(JobFilter::for_viewer(&cli, true).sees(&job("staff", "511802001")));
    }

    #[test]
    fn a_running_job_shows_live_progress() {
        let live = ImportProgress {
            phase: "写入",
            done: 150,
            total: 200,
        };
        let s = JobState::new(job("staff", "511802001"), Some(live));
        assert_eq!((s.phase.as_str(), s.percent()), ("写入", 75));
        let s = JobState::new(job("staff", "511802001"), None);
        assert_eq!((s.phase.as_str(), s.percent()), ("导入", 25));
        assert_eq!(s.status.to_string(), "进行中");
    }

    #[test]
    fn a_job_is_finished_unless_running_and_failed_without_a_report_says_why() {
        let mut j = job("staff", "511802001");
        assert!(!j.finished());
        assert_eq!(j.error(), None);
        j.message = "数据库连接中断".into();
        j.status = JobStatus::Succeeded;
        assert!(j.finished());
        assert_eq!(j.error(), None);
        j.status = JobStatus::Failed;
        assert!(j.finished());
        assert_eq!(j.error().as_deref(), Some("数据库连接中断"));
        // A failed import with its report: the report says why, not the message.
        j.result.report = Some(ImportReport::default());
        assert_eq!(j.error(), None);
    }
}
