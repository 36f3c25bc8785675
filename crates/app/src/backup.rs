//! 备份与恢复 (SQLite): a consistent copy taken while the server runs, and a restore that
//! refuses a damaged, foreign or newer file before it replaces anything. The copy is checked
//! as a whole — SQLite's integrity check, minzheng's schema, the audit log's hash chain —
//! and only then moved into place; the database it replaces is kept beside it. PostgreSQL
//! is backed up with `pg_dump` (README).

use std::path::{Path, PathBuf};

use minzheng_store::backup as store;
use minzheng_store::{AuditEvent, DatabaseUrl};
use serde::Serialize;
use serde_json::json;

use crate::{App, Error, Result};

/// What a backup holds (or a restore brought back).
#[derive(Debug, Clone, Serialize)]
pub struct BackupReport {
    pub path: String,
    pub bytes: u64,
    pub schema_version: i64,
    pub households: i64,
    pub persons: i64,
    pub enrolments: i64,
    pub audit_records: i64,
}

const NOT_OURS: &str = "该文件不是minzheng的数据库备份";

impl App {
    /// Takes a consistent copy of the (SQLite) database into `dest` while others keep
    /// reading and writing; `dest` must not exist. The copy is checked before it is
    /// reported, and the backup is recorded in the audit log.
    pub async fn backup(&self, dest: &Path) -> Result<BackupReport> {
        if dest.exists() {
            return Err(Error::validation(format!(
                "备份文件{}已存在，请换一个文件名",
                dest.display()
            )));
        }
        let tmp = sibling(dest, "partial");
        let _ = std::fs::remove_file(&tmp);
        let tmp_s = tmp.to_string_lossy().to_string();
        if let Err(e) = store::vacuum_into(self.store(), &tmp_s).await {
            let _ = std::fs::remove_file(&tmp);
            return Err(e.into());
        }
        let report = match inspect(&tmp).await {
            Ok(r) => r,
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
        };
        std::fs::rename(&tmp, dest)
            .map_err(|e| Error::Internal(format!("备份文件无法写入{}：{e}", dest.display())))?;
        let report = BackupReport {
            path: dest.display().to_string(),
            ..report
        };
        let mut tx = self.store().begin_write().await?;
        minzheng_store::append_audit(
            &mut tx,
            &minzheng_domain::Actor::system("backup"),
            AuditEvent {
                action: "database.backup",
                entity_type: "database",
                entity_id: "",
                scope_code: "",
                before: None,
                after: Some(json!({
                    "file": report.path, "bytes": report.bytes,
                    "households": report.households, "persons": report.persons,
                    "audit_records": report.audit_records,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(report)
    }
}

/// Opens a copy and checks it: sound, minzheng's, not newer than this program, its audit
/// chain intact. The copy is not migrated.
async fn inspect(path: &Path) -> Result<BackupReport> {
    let url = format!("sqlite://{}", path.display());
    let app = App::connect(&url)
        .await
        .map_err(|_| Error::validation(format!("{NOT_OURS}，或已损坏")))?;
    let result = async {
        let facts = store::facts(app.store())
            .await
            .map_err(|_| Error::validation(format!("备份文件已损坏（{NOT_OURS}，或不完整）")))?;
        if facts.integrity != "ok" {
            return Err(Error::validation(format!(
                "备份文件已损坏：{}",
                facts.integrity.chars().take(200).collect::<String>()
            )));
        }
        let Some(version) = facts.schema_version else {
            return Err(Error::validation(NOT_OURS.to_string()));
        };
        if version > store::latest_schema_version() {
            return Err(Error::validation(format!(
                "备份来自更新版本的minzheng（数据结构第{version}版），请先升级本程序"
            )));
        }
        let v = app.audit().verify().await?;
        if let Some(b) = v.first_break {
            return Err(Error::validation(format!(
                "备份中的操作日志校验未通过（第{}条记录起被改动），不能用它恢复",
                b.seq
            )));
        }
        Ok(BackupReport {
            path: path.display().to_string(),
            bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            schema_version: version,
            households: facts.households,
            persons: facts.persons,
            enrolments: facts.enrolments,
            audit_records: facts.audit_records,
        })
    }
    .await;
    app.close().await;
    result
}

/// `path` with `.{tag}` appended to its file name.
fn sibling(path: &Path, tag: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(format!(".{tag}"));
    PathBuf::from(s)
}

/// Restores the SQLite database named by `target_url` from `backup`. The server must be
/// stopped. The backup is checked whole on a copy first (see [`App::backup`]); a damaged,
/// foreign or newer file changes nothing. An existing database is refused unless `replace`,
/// and then kept beside the restored one as `….before-restore` (with its WAL files).
pub async fn restore(backup: &Path, target_url: &str, replace: bool) -> Result<BackupReport> {
    let target = match DatabaseUrl::parse(target_url)? {
        DatabaseUrl::Sqlite(p) => PathBuf::from(p),
        DatabaseUrl::Postgres(_) => {
            return Err(Error::validation(
                "PostgreSQL 数据库请用 pg_restore 恢复（见 README“备份与恢复”）",
            ))
        }
    };
    let mut head = [0u8; 16];
    let readable = std::fs::File::open(backup)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok();
    if !readable || &head != b"SQLite format 3\0" {
        return Err(Error::validation(format!(
            "{NOT_OURS}（{}不是SQLite数据库文件）",
            backup.display()
        )));
    }
    if target.exists() && !replace {
        return Err(Error::validation(format!(
            "数据库{}已存在；确认要用备份替换它时请加 --replace（原数据库将改名保留）",
            target.display()
        )));
    }
    let staged = sibling(&target, "restoring");
    for p in [&staged, &sibling(&staged, "wal"), &sibling(&staged, "shm")] {
        let _ = std::fs::remove_file(p);
    }
    std::fs::copy(backup, &staged)
        .map_err(|e| Error::Internal(format!("无法复制备份文件：{e}")))?;
    let report = match inspect(&staged).await {
        Ok(r) => r,
        Err(e) => {
            for p in [&staged, &sibling(&staged, "wal"), &sibling(&staged, "shm")] {
                let _ = std::fs::remove_file(p);
            }
            return Err(e);
        }
    };
    // The database replaced, and its WAL (which must never be applied to the restored
    // file), are kept aside.
    if target.exists() {
        let aside = sibling(&target, "before-restore");
        for (from, to) in [
            (target.clone(), aside.clone()),
            (sibling(&target, "wal"), sibling(&aside, "wal")),
            (sibling(&target, "shm"), sibling(&aside, "shm")),
        ] {
            if from.exists() {
                std::fs::rename(&from, &to)
                    .map_err(|e| Error::Internal(format!("无法保留原数据库：{e}")))?;
            }
        }
    }
    std::fs::rename(&staged, &target)
        .map_err(|e| Error::Internal(format!("无法写入{}：{e}", target.display())))?;
    Ok(BackupReport {
        path: target.display().to_string(),
        ..report
    })
}

/// Keeps the newest `keep` of the nightly backups (`minzheng-YYYYMMDD.db`) in `dir`.
pub fn rotate(dir: &Path, keep: usize) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("minzheng-") && n.ends_with(".db"))
        })
        .collect();
    files.sort();
    let excess = files.len().saturating_sub(keep);
    let removed: Vec<PathBuf> = files.into_iter().take(excess).collect();
    for p in &removed {
        std::fs::remove_file(p)?;
    }
    Ok(removed)
}

/// The nightly backup's file in `dir` for `on`.
pub fn nightly_file(dir: &Path, on: chrono::NaiveDate) -> PathBuf {
    dir.join(format!("minzheng-{}.db", on.format("%Y%m%d")))
}
