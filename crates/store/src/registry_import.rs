//! Importing household ledgers (台账导入): `.xlsx`, `.xls` and `.csv` (UTF-8 with or
//! without BOM, or GBK/GB18030), one row per person, grouped into households by the head's
//! ID number.
//!
//! Every row is validated first (ID, dates, village inside the importer's scope, relations,
//! duplicates inside the file and against the database); only then is anything written, in
//! one transaction with one summary audit record. By default any error means nothing is
//! written; `valid_only` writes the households without errors and reports the rest.
//! Importing the same file again updates the same records: persons are keyed by ID number,
//! households by the head's ID number, and imported incomes/assets are replaced.

use std::collections::HashSet;
use std::path::PathBuf;

use minzheng_domain::registry::{household_problems, Column, MemberFacts, Relation};
use serde::{Deserialize, Serialize};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection};

use crate::audit::{append, AuditEvent};
use crate::bulk::Raw;
use crate::db::{q, Pool, Store, Tx, WriteTx};
use crate::error::{StoreError, StoreResult};
use crate::registry::mask_id;
use crate::registry_read::{group_rows, id_str, read_ledger, Groups, Id18, Ledger};
use crate::registry_write::{
    batches, defer_indexes, rebuild_indexes, should_defer, write_pg, write_sqlite, Counts,
    Existing, ExistingHousehold, IdMap, Plan,
};
use minzheng_domain::{Actor, Scope};

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

/// One problem, located in the file. `row` is the spreadsheet row (1-based, header
/// included); 0 means the file as a whole.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImportIssue {
    pub row: usize,
    pub column: String,
    pub value: String,
    pub reason: String,
}

pub(crate) fn file_issue(reason: impl Into<String>) -> ImportIssue {
    ImportIssue {
        row: 0,
        column: String::new(),
        value: String::new(),
        reason: reason.into(),
    }
}

/// What an import did (or would do).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ImportReport {
    pub file_name: String,
    pub sheet: Option<String>,
    pub encoding: Option<String>,
    pub rows_read: usize,
    pub rows_valid: usize,
    pub households: usize,
    pub households_created: usize,
    pub households_updated: usize,
    pub persons_created: usize,
    pub persons_updated: usize,
    pub persons_moved: usize,
    pub issues: Vec<ImportIssue>,
    /// Whether anything was written.
    pub written: bool,
    pub dry_run: bool,
}

impl ImportReport {
    /// A one-line Chinese summary.
    pub fn summary(&self) -> String {
        if self.written {
            format!(
                "导入完成：读取{}行，新增{}户、更新{}户，新增{}人、更新{}人（其中迁入{}人）{}",
                self.rows_read,
                self.households_created,
                self.households_updated,
                self.persons_created,
                self.persons_updated,
                self.persons_moved,
                if self.issues.is_empty() {
                    String::new()
                } else {
                    format!("；另有{}处错误的行未导入", self.issues.len())
                }
            )
        } else if self.issues.is_empty() {
            format!(
                "校验通过（试导入，未写入）：{}行，{}户",
                self.rows_read, self.households
            )
        } else {
            format!(
                "发现{}处错误，未写入任何数据。请按错误报告修改后重新导入。",
                self.issues.len()
            )
        }
    }
}

/// Progress callbacks: (phase, done, total).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ImportProgress {
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

/// Decodes CSV bytes held in memory: UTF-8 (BOM optional) when valid, otherwise GB18030 (a
/// superset of GBK). The ledger import decodes while it streams (`registry_read.rs`); this is
/// for small files read whole.
// transitional: the bank return files, its last caller, are decoded in app now.
#[allow(dead_code)]
pub(crate) fn decode_text(data: &[u8]) -> (String, &'static str) {
    if let Some(rest) = data.strip_prefix(b"\xEF\xBB\xBF") {
        return (String::from_utf8_lossy(rest).into_owned(), "UTF-8(BOM)");
    }
    match std::str::from_utf8(data) {
        Ok(s) => (s.to_string(), "UTF-8"),
        Err(_) => {
            let (s, _, _) = encoding_rs::GB18030.decode(data);
            (s.into_owned(), "GBK/GB18030")
        }
    }
}

// ------------------------------------------------------------------ the import

/// Runs CPU-bound work (reading a large file, a million lookups) without stalling the
/// other tasks of a multi-threaded runtime; inline on a current-thread runtime.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// The connection the database checks run on: the write transaction when the import may
/// write (so nothing changes between the checks and the writes), otherwise a plain
/// connection (dry runs and refused files never take the writer).
enum Held {
    Write(WriteTx),
    Sqlite(PoolConnection<Sqlite>),
    Pg(PoolConnection<Postgres>),
}

impl Held {
    fn sqlite(&mut self) -> Option<&mut SqliteConnection> {
        match self {
            Held::Write(w) => match &mut w.tx {
                Tx::Sqlite(t) => Some(&mut **t),
                Tx::Pg(_) => None,
            },
            Held::Sqlite(c) => Some(&mut **c),
            Held::Pg(_) => None,
        }
    }

    fn pg(&mut self) -> Option<&mut PgConnection> {
        match self {
            Held::Write(w) => match &mut w.tx {
                Tx::Pg(t) => Some(&mut **t),
                Tx::Sqlite(_) => None,
            },
            Held::Pg(c) => Some(&mut **c),
            Held::Sqlite(_) => None,
        }
    }
}

type Lookups = (IdMap<Existing>, IdMap<ExistingHousehold>);

/// Persons of the file the database already holds (by ID number) and households it
/// already holds (by head ID), on SQLite: one prepared point lookup per ID, in ID order.
fn lookup_sqlite(
    handle: &mut sqlx::sqlite::LockedSqliteHandle<'_>,
    ids: &[Id18],
    heads: &[Id18],
    scope: &Scope,
) -> StoreResult<Lookups> {
    let raw = Raw::new(handle);
    let mut any_person = false;
    raw.prepare("SELECT 1 FROM persons LIMIT 1")?
        .query(&[], |_| {
            any_person = true;
            Ok(())
        })?;
    let mut existing = Vec::new();
    if any_person {
        let mut st = raw.prepare(
            "SELECT p.id, p.household_id, h.village_code, h.head_id_number
             FROM persons p JOIN households h ON h.id = p.household_id
             WHERE p.id_number = ?1",
        )?;
        for id in ids {
            st.query(&[id_str(id).into()], |row| {
                existing.push((
                    *id,
                    Existing {
                        person_id: row.int(0),
                        household_id: row.int(1),
                        in_scope: scope.contains_str(&row.text(2)),
                        is_head: row.text(3).as_bytes() == id.as_slice(),
                    },
                ));
                Ok(())
            })?;
        }
    }
    let mut any_household = false;
    raw.prepare("SELECT 1 FROM households LIMIT 1")?
        .query(&[], |_| {
            any_household = true;
            Ok(())
        })?;
    let mut households = Vec::new();
    if any_household {
        let mut st =
            raw.prepare("SELECT id, village_code FROM households WHERE head_id_number = ?1")?;
        for h in heads {
            st.query(&[id_str(h).into()], |row| {
                households.push((
                    *h,
                    ExistingHousehold {
                        id: row.int(0),
                        in_scope: scope.contains_str(&row.text(1)),
                    },
                ));
                Ok(())
            })?;
        }
    }
    Ok((IdMap::new(existing), IdMap::new(households)))
}

/// The same on PostgreSQL: `= ANY($1)` over chunks of 10,000 IDs.
async fn lookup_pg(
    conn: &mut PgConnection,
    ids: &[Id18],
    heads: &[Id18],
    scope: &Scope,
) -> StoreResult<Lookups> {
    let mut existing = Vec::new();
    for chunk in ids.chunks(10_000) {
        let list: Vec<&str> = chunk.iter().map(id_str).collect();
        let rows: Vec<(String, i64, i64, String, String)> = sqlx::query_as(
            "SELECT p.id_number, p.id, p.household_id, h.village_code, h.head_id_number
             FROM persons p JOIN households h ON h.id = p.household_id
             WHERE p.id_number = ANY($1)",
        )
        .bind(&list)
        .fetch_all(&mut *conn)
        .await?;
        for (id, person_id, household_id, village, head) in rows {
            if let Ok(key) = Id18::try_from(id.as_bytes()) {
                existing.push((
                    key,
                    Existing {
                        person_id,
                        household_id,
                        in_scope: scope.contains_str(&village),
                        is_head: head == id,
                    },
                ));
            }
        }
    }
    let mut households = Vec::new();
    for chunk in heads.chunks(10_000) {
        let list: Vec<&str> = chunk.iter().map(id_str).collect();
        let rows: Vec<(i64, String, String)> = sqlx::query_as(
            "SELECT id, village_code, head_id_number FROM households
             WHERE head_id_number = ANY($1)",
        )
        .bind(&list)
        .fetch_all(&mut *conn)
        .await?;
        for (id, village, head) in rows {
            if let Ok(key) = Id18::try_from(head.as_bytes()) {
                households.push((
                    key,
                    ExistingHousehold {
                        id,
                        in_scope: scope.contains_str(&village),
                    },
                ));
            }
        }
    }
    Ok((IdMap::new(existing), IdMap::new(households)))
}

impl Store {
    /// Imports a household ledger. Errors in the file come back in the report (never as
    /// `Err`); `Err` means the database failed or the actor may not write.
    pub async fn import_households(
        &self,
        actor: &Actor,
        input: &ImportInput,
        opts: &ImportOptions,
        progress: &mut (dyn FnMut(ImportProgress) + Send),
    ) -> StoreResult<ImportReport> {
        if !actor.can_write() && !opts.dry_run {
            return Err(StoreError::Forbidden(
                "您的角色只能查看，不能导入户籍台账".into(),
            ));
        }
        let mask = !actor.role.is_none_or(|r| r.sees_full_identity());
        let mut report = ImportReport {
            file_name: input.name(),
            dry_run: opts.dry_run,
            ..Default::default()
        };
        let (meta, read) =
            blocking(|| read_ledger(input, opts.max_bytes, mask, &mut |p| progress(p)));
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
        let shown_id = |id: &str| {
            if mask {
                mask_id(id)
            } else {
                id.to_string()
            }
        };

        // Duplicates inside the file: rows in ID order, then file order.
        let mut by_id: Vec<u32> = (0..n as u32).collect();
        by_id.sort_unstable_by(|&a, &b| {
            rows[a as usize]
                .id
                .cmp(&rows[b as usize].id)
                .then(a.cmp(&b))
        });
        for run in by_id.chunk_by(|&a, &b| rows[a as usize].id == rows[b as usize].id) {
            let first = rows[run[0] as usize].line;
            for &k in &run[1..] {
                let r = &rows[k as usize];
                issues.push(ImportIssue {
                    row: r.line as usize,
                    column: Column::IdNumber.header().into(),
                    value: shown_id(r.id()),
                    reason: format!("同一人在文件中出现了两次（与第{first}行重复）"),
                });
                bad[k as usize] = true;
            }
        }
        let ids: Vec<Id18> = {
            let mut v: Vec<Id18> = by_id.iter().map(|&k| rows[k as usize].id).collect();
            v.dedup();
            v
        };
        drop(by_id);

        // Villages must exist and lie inside the importer's scope.
        let wanted: HashSet<[u8; 12]> = rows.iter().map(|r| r.village).collect();
        let mut known: HashSet<[u8; 12]> = HashSet::new();
        let wanted: Vec<String> = wanted
            .into_iter()
            .map(|v| String::from_utf8_lossy(&v).into_owned())
            .collect();
        for chunk in wanted.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let mut query = q(format!(
                "SELECT code FROM divisions WHERE level = 5 AND code IN ({})",
                placeholders.join(",")
            ));
            for v in chunk {
                query.push(v.as_str());
            }
            for row in self.fetch_all(query).await? {
                if let Ok(code) = <[u8; 12]>::try_from(row.str("code")?.as_bytes()) {
                    known.insert(code);
                }
            }
        }
        for (k, r) in rows.iter().enumerate() {
            let reason = if !known.contains(&r.village) {
                if actor.scope.contains_str(r.village()) {
                    format!("区划代码{}不存在", r.village())
                } else {
                    "该村(社区)不在您的管辖范围内".to_string()
                }
            } else if !actor.scope.contains_str(r.village()) {
                "该村(社区)不在您的管辖范围内".to_string()
            } else {
                continue;
            };
            issues.push(ImportIssue {
                row: r.line as usize,
                column: Column::Village.header().into(),
                value: r.village().into(),
                reason,
            });
            bad[k] = true;
        }

        // Against the database: persons by ID number, households by head. When the import
        // may write, this runs inside its write transaction.
        let may_write = !opts.dry_run && (opts.valid_only || issues.is_empty());
        let mut held = if may_write {
            Held::Write(self.begin_write().await?)
        } else {
            match &self.pool {
                Pool::Sqlite(p) => Held::Sqlite(p.acquire().await?),
                Pool::Postgres(p) => Held::Pg(p.acquire().await?),
            }
        };
        progress(ImportProgress {
            phase: "核对",
            done: 0,
            total: n as u64,
        });
        let groups = group_rows(rows);
        let head_ids: Vec<Id18> = {
            let mut v: Vec<Id18> = (0..groups.len())
                .map(|g| rows[groups.get(g)[0] as usize].head)
                .collect();
            v.sort_unstable();
            v
        };
        let (existing, heads) = if let Some(conn) = held.sqlite() {
            let mut handle = conn.lock_handle().await?;
            blocking(|| lookup_sqlite(&mut handle, &ids, &head_ids, &actor.scope))?
        } else if let Some(conn) = held.pg() {
            lookup_pg(conn, &ids, &head_ids, &actor.scope).await?
        } else {
            return Err(StoreError::Internal("导入没有可用的数据库连接".into()));
        };
        drop(ids);
        drop(head_ids);
        for (k, r) in rows.iter().enumerate() {
            if let Some(e) = existing.get(&r.id) {
                if !e.in_scope {
                    issues.push(ImportIssue {
                        row: r.line as usize,
                        column: Column::IdNumber.header().into(),
                        value: shown_id(r.id()),
                        reason:
                            "此人已在其他辖区登记（每人全市只能登记一次），请联系其户籍所在地民政办"
                                .into(),
                    });
                    bad[k] = true;
                } else if e.is_head && r.head != r.id {
                    issues.push(ImportIssue {
                        row: r.line as usize,
                        column: Column::HeadId.header().into(),
                        value: shown_id(r.head()),
                        reason: "此人是系统中另一户的户主，不能直接迁入其他户：请先在原户更换户主"
                            .into(),
                    });
                    bad[k] = true;
                }
            }
            if heads.get(&r.head).is_some_and(|h| !h.in_scope) {
                issues.push(ImportIssue {
                    row: r.line as usize,
                    column: Column::HeadId.header().into(),
                    value: shown_id(r.head()),
                    reason: "该户已在其他辖区登记".into(),
                });
                bad[k] = true;
            }
        }

        // Household-level checks.
        let bad_groups = check_households(&ledger, &groups, &bad, &mut issues);
        issues.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
        report.rows_valid = n - bad.iter().filter(|b| **b).count();
        report.households = groups.len();
        let must_stop = !issues.is_empty() && !opts.valid_only;
        if opts.valid_only {
            for (g, _) in bad_groups.iter().enumerate().filter(|(_, b)| **b) {
                for &i in groups.get(g) {
                    if !bad[i as usize] {
                        issues.push(ImportIssue {
                            row: rows[i as usize].line as usize,
                            column: String::new(),
                            value: String::new(),
                            reason: "所在户有错误，整户未导入".into(),
                        });
                    }
                }
            }
            issues.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
        }
        report.issues = issues;
        let good: Vec<u32> = (0..groups.len() as u32)
            .filter(|&g| !bad_groups[g as usize])
            .collect();
        if must_stop || opts.dry_run || good.is_empty() {
            return Ok(report);
        }
        let Held::Write(mut tx) = held else {
            return Err(StoreError::Internal("导入未取得写事务".into()));
        };
        // Write, in batches, inside the one transaction.
        let total: u64 = good
            .iter()
            .map(|&g| groups.get(g as usize).len() as u64)
            .sum();
        let now = crate::timestamp(chrono::Utc::now());
        let plan = Plan {
            ledger: &ledger,
            groups: &groups,
            existing: &existing,
            heads: &heads,
            now: &now,
            actor: &actor.username,
        };
        let mut counts = Counts::default();
        let mut done = 0u64;
        progress(ImportProgress {
            phase: "写入",
            done,
            total,
        });
        // A large import into a small table builds the random-order indexes afterwards.
        let mut deferred = Vec::new();
        if let Tx::Sqlite(t) = &mut tx.tx {
            let new_persons = good
                .iter()
                .flat_map(|&g| groups.get(g as usize))
                .filter(|&&i| existing.get(&rows[i as usize].id).is_none())
                .count();
            let max_id = sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM persons")
                .fetch_one(&mut **t)
                .await?
                .unwrap_or(0);
            if should_defer(new_persons, max_id) {
                deferred = defer_indexes(t).await?;
            }
        }
        if !deferred.is_empty() {
            tx.mark_large();
        }
        for range in batches(&groups, &good) {
            let part = &good[range];
            match &mut tx.tx {
                Tx::Sqlite(t) => write_sqlite(t, &plan, part, &mut counts).await?,
                Tx::Pg(t) => write_pg(t, &plan, part, &mut counts).await?,
            }
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
        // The rows are written: free them before SQLite sorts the deferred indexes.
        drop((existing, heads, groups, good));
        drop(ledger);
        if let (Tx::Sqlite(t), false) = (&mut tx.tx, deferred.is_empty()) {
            progress(ImportProgress {
                phase: "建立索引",
                done,
                total,
            });
            rebuild_indexes(t, &deferred).await?;
        }
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
        append(
            &mut tx,
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
        tx.commit().await?;
        report.written = true;
        Ok(report)
    }
}

/// The checks that need a whole household; returns which households are bad.
fn check_households(
    ledger: &Ledger,
    groups: &Groups,
    bad: &[bool],
    issues: &mut Vec<ImportIssue>,
) -> Vec<bool> {
    let rows = &ledger.rows;
    let mut bad_groups = vec![false; groups.len()];
    let mut facts: Vec<MemberFacts> = Vec::new();
    for (g, flag) in bad_groups.iter_mut().enumerate() {
        let idx = groups.get(g);
        facts.clear();
        facts.extend(idx.iter().map(|&i| MemberFacts {
            relation: rows[i as usize].relation,
            birth: rows[i as usize].birth,
        }));
        for (k, reason) in household_problems(&facts) {
            let r = &rows[idx[k] as usize];
            issues.push(ImportIssue {
                row: r.line as usize,
                column: Column::Relation.header().into(),
                value: r.relation.label().into(),
                reason,
            });
            *flag = true;
        }
        let head = idx
            .iter()
            .map(|&i| &rows[i as usize])
            .find(|r| r.relation == Relation::Head);
        if let Some(head) = head {
            if head.registration_type.is_none() {
                issues.push(ImportIssue {
                    row: head.line as usize,
                    column: Column::RegistrationType.header().into(),
                    value: String::new(),
                    reason: "户主行必须填写户籍类型（城镇/农村）".into(),
                });
                *flag = true;
            }
            for &i in idx {
                let r = &rows[i as usize];
                if r.village != head.village {
                    issues.push(ImportIssue {
                        row: r.line as usize,
                        column: Column::Village.header().into(),
                        value: r.village().into(),
                        reason: format!(
                            "同一户成员的村(社区)代码与户主行（{}）不一致",
                            head.village()
                        ),
                    });
                    *flag = true;
                }
            }
        }
        // A member row that failed its own checks leaves the household incomplete.
        if idx.iter().any(|&i| bad[i as usize])
            || ledger.bad_heads.contains(&rows[idx[0] as usize].head)
        {
            *flag = true;
        }
    }
    bad_groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_bom_and_gbk() {
        assert_eq!(decode_text("姓名".as_bytes()).0, "姓名");
        assert_eq!(decode_text(b"\xEF\xBB\xBFab").0, "ab");
        let (gbk, _, _) = encoding_rs::GBK.encode("张三,户主");
        let (s, enc) = decode_text(&gbk);
        assert_eq!(s, "张三,户主");
        assert_eq!(enc, "GBK/GB18030");
    }

    #[test]
    fn summaries_are_chinese() {
        let r = ImportReport {
            rows_read: 3,
            households: 1,
            dry_run: true,
            ..Default::default()
        };
        assert!(r.summary().contains("校验通过"));
    }
}
