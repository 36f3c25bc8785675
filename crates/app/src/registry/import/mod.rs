//! Importing household ledgers (台账导入): `.xlsx`, `.xls` and `.csv` (UTF-8 with or
//! without BOM, or GBK/GB18030), one row per person, grouped into households by the head's
//! ID number.
//!
//! One way through: **read** (the file, streamed, into the domain's compact ledger, each row
//! checked on its own: `read`) → **check** (the file as a whole and the database facts:
//! duplicates, villages, persons and households already registered, whole households:
//! `check`) → **write** (the store's bulk statements). Only when every check passed is
//! anything written, in one transaction with one summary audit record. By default any error
//! means nothing is written; `valid_only` writes the households without errors and reports
//! the rest. Importing the same file again updates the same records: persons are keyed by
//! ID number, households by the head's ID number, and imported incomes/assets are replaced.

mod check;
pub(crate) mod read;

use std::path::PathBuf;

use minzheng_domain::registry::ledger::{Counts, Groups, Plan};
use minzheng_domain::registry::{ImportProgress, ImportReport};
use minzheng_domain::Actor;
use minzheng_store::registry::import::{batches, known_villages, ImportSession};
use minzheng_store::{append_audit, AuditEvent};

use super::{today, Registry};
use crate::{Authorize, Error, Permission, Result};

/// Default largest file accepted (bytes). Larger ledgers should be split by township.
pub const DEFAULT_MAX_IMPORT_BYTES: u64 = 100 * 1024 * 1024;
/// Imports with more rows than this run as background jobs in the web UI.
pub const BACKGROUND_ROWS: u64 = 10_000;

/// Where the ledger comes from.
#[derive(Debug, Clone)]
pub enum ImportInput {
    Path(PathBuf),
    Bytes { name: String, data: Vec<u8> },
}

impl ImportInput {
    pub fn name(&self) -> String {
        match self {
            ImportInput::Path(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            ImportInput::Bytes { name, .. } => name.clone(),
        }
    }
}

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Validate only; write nothing.
    pub dry_run: bool,
    /// Write the valid households and report the rest (default: all-or-nothing).
    pub valid_only: bool,
    /// Refuse files larger than this.
    pub max_bytes: u64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            dry_run: false,
            valid_only: false,
            max_bytes: DEFAULT_MAX_IMPORT_BYTES,
        }
    }
}

/// Runs CPU-bound work (reading a large file) without stalling the other tasks of a
/// multi-threaded runtime; inline on a current-thread runtime.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Whether the actor may run this import: writing needs [`Permission::ImportRegistry`]; a
/// dry run, which only checks, needs nothing. Asked before a job is recorded, so a refused
/// import leaves no row behind.
pub(crate) fn check_may_import(actor: &Actor, opts: &ImportOptions) -> Result<()> {
    if !opts.dry_run {
        actor.require_or(
            Permission::ImportRegistry,
            "您的角色只能查看，不能导入户籍台账",
        )?;
    }
    Ok(())
}

impl Registry<'_> {
    /// Imports a household ledger. Errors in the file come back in the report (never as
    /// `Err`); `Err` means the database failed or the actor may not import. A dry run,
    /// which only checks, needs no permission.
    pub async fn import(
        &self,
        actor: &Actor,
        input: &ImportInput,
        opts: &ImportOptions,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> Result<ImportReport> {
        check_may_import(actor, opts)?;
        let store = self.app.store();
        let mask = !actor.may(Permission::SeeFullIdentity);
        let shown = check::Shown { mask };
        let mut report = ImportReport {
            file_name: input.name(),
            dry_run: opts.dry_run,
            ..Default::default()
        };

        #[cfg(feature = "testing")]
        if crate::testing::import_fault(
            &report.file_name,
            crate::testing::ImportFault::PanicWhileReading,
        ) {
            panic!("测试：读取文件时出错");
        }
        // Read: every row checked on its own.
        let (meta, read) = blocking(|| {
            read::read_ledger(
                input,
                opts.max_bytes,
                self.app.limits(),
                mask,
                today(),
                &mut |p| progress(p),
            )
        });
        report.sheet = meta.sheet;
        report.encoding = meta.encoding;
        let mut ledger = match read {
            Ok(l) => l,
            Err(issue) => {
                report.issues.push(issue);
                return Ok(report);
            }
        };
        report.rows_read = ledger.rows_read;
        let mut issues = std::mem::take(&mut ledger.issues);
        let ledger = ledger;
        let rows = &ledger.rows;
        let n = rows.len();
        // Rows that passed their own checks but fail against the file or the database.
        let mut bad = vec![false; n];

        // Check: the file as a whole, then against the database.
        let ids = check::duplicates(rows, shown, &mut issues, &mut bad);
        let known = known_villages(store, &check::villages(rows)).await?;
        check::village_issues(rows, &known, &actor.scope, &mut issues, &mut bad);
        drop(known);
        // When the import may write, the facts are read inside its write transaction.
        let may_write = !opts.dry_run && (opts.valid_only || issues.is_empty());
        let mut session = ImportSession::begin(store, may_write).await?;
        progress(ImportProgress {
            phase: "核对",
            done: 0,
            total: n as u64,
        });
        let groups = Groups::of(rows);
        let head_ids = check::heads(rows, &groups);
        let (existing, heads) = session.lookup(&ids, &head_ids, &actor.scope).await?;
        drop(ids);
        drop(head_ids);
        check::database_issues(
            &ledger,
            rows,
            &existing,
            &heads,
            shown,
            &mut issues,
            &mut bad,
        );
        let bad_groups = check::households(&ledger, &groups, &bad, &mut issues);
        check::sort(&mut issues);
        report.rows_valid = n - bad.iter().filter(|b| **b).count();
        report.households = groups.len();
        let must_stop = !issues.is_empty() && !opts.valid_only;
        if opts.valid_only {
            check::left_out(rows, &groups, &bad_groups, &bad, &mut issues);
            check::sort(&mut issues);
        }
        report.issues = issues;
        let good: Vec<u32> = (0..groups.len() as u32)
            .filter(|&g| !bad_groups[g as usize])
            .collect();
        if must_stop || opts.dry_run || good.is_empty() {
            return Ok(report);
        }
        let Some(mut write) = session.into_write() else {
            return Err(Error::Internal("导入未取得写事务".into()));
        };

        // Write, in batches, inside the one transaction.
        let total: u64 = good
            .iter()
            .map(|&g| groups.get(g as usize).len() as u64)
            .sum();
        let now = minzheng_domain::time::timestamp(chrono::Utc::now());
        let mut counts = Counts::default();
        let mut done = 0u64;
        progress(ImportProgress {
            phase: "写入",
            done,
            total,
        });
        // A large import into a small table builds the random-order indexes afterwards.
        let deferred = write
            .defer_indexes(|| {
                good.iter()
                    .flat_map(|&g| groups.get(g as usize))
                    .filter(|&&i| existing.get(&rows[i as usize].id).is_none())
                    .count()
            })
            .await?;
        {
            let plan = Plan {
                ledger: &ledger,
                groups: &groups,
                existing: &existing,
                heads: &heads,
                now: &now,
                actor: &actor.username,
            };
            for range in batches(&groups, &good) {
                let part = &good[range];
                write.write(&plan, part, &mut counts).await?;
                done += part
                    .iter()
                    .map(|&g| groups.get(g as usize).len() as u64)
                    .sum::<u64>();
                progress(ImportProgress {
                    phase: "写入",
                    done,
                    total,
                });
                tokio::task::yield_now().await;
            }
        }
        // The rows are written: free them before SQLite sorts the deferred indexes.
        drop((existing, heads, groups, good));
        drop(ledger);
        if deferred {
            progress(ImportProgress {
                phase: "建立索引",
                done,
                total,
            });
        }
        // Also refreshes PostgreSQL's statistics after a large import.
        write.rebuild_indexes().await?;
        report.households_created = counts.households_created;
        report.households_updated = counts.households_updated;
        report.persons_created = counts.persons_created;
        report.persons_updated = counts.persons_updated;
        report.persons_moved = counts.persons_moved;
        let summary = serde_json::json!({
            "file": report.file_name,
            "rows_read": report.rows_read,
            "households_created": report.households_created,
            "households_updated": report.households_updated,
            "persons_created": report.persons_created,
            "persons_updated": report.persons_updated,
            "persons_moved": report.persons_moved,
            "rows_refused": report.issues.len(),
            "valid_only": opts.valid_only,
        });
        append_audit(
            write.tx(),
            actor,
            AuditEvent {
                action: "registry.import",
                entity_type: "import",
                entity_id: &report.file_name,
                scope_code: actor.scope.code_str(),
                before: None,
                after: Some(summary),
            },
        )
        .await?;
        write.commit().await?;
        report.written = true;
        Ok(report)
    }
}
