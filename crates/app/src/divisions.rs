//! Administrative divisions (行政区划): the national codes imported in bulk (and one
//! 民政办公室 derived per township), and the browser over them.

use minzheng_domain::division::{
    Division, DivisionImportProgress, DivisionImportStats, DivisionRow, LevelCount,
};
use minzheng_domain::{Actor, DivisionCode, DivisionLevel, Scope};
pub use minzheng_store::divisions::Place;
use minzheng_store::{append_audit, divisions as repo, AuditEvent};

use crate::formats::divisions::{DivisionFiles, DivisionSource, BATCH};
use crate::{App, Authorize, Error, Permission, Result};

/// The divisions duty of [`App`].
pub struct Divisions<'a> {
    app: &'a App,
}

impl App {
    pub fn divisions(&self) -> Divisions<'_> {
        Divisions { app: self }
    }
}

impl Divisions<'_> {
    /// Imports divisions (all of them, or only those inside / above `only`), upserting
    /// idempotently in one transaction, then derives one office per township. Any
    /// malformed row aborts the whole import with its file and line; nothing is written.
    pub async fn import(
        &self,
        actor: &Actor,
        source: &DivisionSource,
        only: Option<&DivisionCode>,
        progress: &mut (dyn FnMut(DivisionImportProgress) + Send),
    ) -> Result<DivisionImportStats> {
        actor.require_or(
            Permission::ImportDivisions,
            "区划导入只能由系统管理员在命令行执行",
        )?;
        let mut files = DivisionFiles::open(source, only, self.app.limits())?;
        let scope = only
            .map(|c| Scope::of(c.clone()))
            .unwrap_or_else(Scope::all);
        let (lo, hi) = scope.bounds();
        let now = minzheng_domain::time::timestamp(chrono::Utc::now());
        let mut tx = self.app.store().begin_write().await?;
        // Up to 665,000 rows: checkpoint right after the commit, in the background.
        tx.mark_large();
        let before = repo::count_all(&mut tx).await?;
        let mut changed = 0u64;
        let mut rows: Vec<DivisionRow> = Vec::with_capacity(BATCH);
        loop {
            files.next_batch(BATCH, &mut rows)?;
            if rows.is_empty() {
                break;
            }
            changed += repo::write_batch(&mut tx, &rows, &now).await?;
            progress(DivisionImportProgress {
                bytes_done: files.bytes_done(),
                bytes_total: files.bytes_total,
                rows: files.rows_read(),
            });
        }
        // Every division below the top must hang under one that exists.
        if let Some((code, parent)) = repo::first_orphan(&mut tx, &lo, &hi).await? {
            return Err(Error::validation(format!(
                "区划“{code}”的上级“{parent}”不存在，导入已取消"
            )));
        }
        let mut stats = DivisionImportStats {
            rows_read: files.rows_read(),
            ..Default::default()
        };
        let after = repo::count_all(&mut tx).await?;
        stats.inserted = (after - before).max(0) as u64;
        stats.updated = changed.saturating_sub(stats.inserted);
        // Rows outside `only` were read but not considered.
        stats.unchanged = files
            .rows_considered()
            .saturating_sub(stats.inserted + stats.updated);
        let (created, renamed) = repo::derive_offices(&mut tx, &lo, &hi, &now).await?;
        stats.offices_created = created;
        stats.offices_renamed = renamed;
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: "divisions.import",
                entity_type: "divisions",
                entity_id: scope.code_str(),
                scope_code: scope.code_str(),
                before: None,
                after: Some(serde_json::to_value(&stats).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(stats)
    }

    /// Count of divisions per level inside the actor's scope, all five levels in order
    /// (from the read replica when there is one).
    pub async fn stats(&self, actor: &Actor) -> Result<Vec<LevelCount>> {
        Ok(repo::stats(self.app.reader(), &actor.scope).await?)
    }

    /// One division, if the actor may see it (inside the scope, or one of its ancestors).
    pub async fn get(&self, actor: &Actor, code: &str) -> Result<Division> {
        Ok(repo::get(self.app.store(), &actor.scope, code).await?)
    }

    /// Where a browser starts: the actor's own division, or every province.
    pub async fn roots(&self, actor: &Actor) -> Result<Vec<Division>> {
        Ok(repo::roots(self.app.store(), &actor.scope).await?)
    }

    /// Direct children of `parent` (or the provinces) inside the actor's scope.
    pub async fn children(&self, actor: &Actor, parent: Option<&str>) -> Result<Vec<Division>> {
        Ok(repo::children(self.app.store(), &actor.scope, parent).await?)
    }

    /// The chain from the province down to `code` that the actor may see.
    pub async fn path(&self, actor: &Actor, code: &str) -> Result<Vec<Division>> {
        let code = DivisionCode::parse(code).map_err(|e| Error::field("code", e.to_string()))?;
        Ok(repo::path(self.app.store(), &actor.scope, &code).await?)
    }

    /// The divisions of `levels` inside the actor's scope, each with its parent's name: the
    /// choices of a form's place field (at most `limit`, by code).
    pub async fn places(
        &self,
        actor: &Actor,
        levels: &[DivisionLevel],
        limit: i64,
    ) -> Result<Vec<Place>> {
        Ok(repo::places(self.app.reader(), &actor.scope, levels, limit).await?)
    }

    /// The divisions of `levels` inside the actor's scope named exactly `name` (and, when
    /// `parent` is given, whose parent is named `parent`): how a place typed by name in a
    /// form becomes its code.
    pub async fn by_name(
        &self,
        actor: &Actor,
        name: &str,
        parent: Option<&str>,
        levels: &[DivisionLevel],
    ) -> Result<Vec<Division>> {
        let name = name.trim();
        if name.is_empty() {
            return Ok(Vec::new());
        }
        let mut found: Vec<Division> = repo::search(self.app.store(), &actor.scope, name, 200)
            .await?
            .into_iter()
            .filter(|d| d.name == name && (levels.is_empty() || levels.contains(&d.level)))
            .collect();
        if let Some(parent) = parent.map(str::trim).filter(|p| !p.is_empty()) {
            let mut kept = Vec::new();
            for d in found {
                let parent_name = match &d.parent_code {
                    Some(pc) => repo::get(self.app.store(), &actor.scope, pc)
                        .await
                        .ok()
                        .map(|p| p.name),
                    None => None,
                };
                if parent_name.as_deref() == Some(parent) {
                    kept.push(d);
                }
            }
            found = kept;
        }
        Ok(found)
    }

    /// Divisions inside the actor's scope whose name contains `term` or whose code starts
    /// with it (from the read replica when there is one).
    pub async fn search(&self, actor: &Actor, term: &str, limit: i64) -> Result<Vec<Division>> {
        Ok(repo::search(self.app.reader(), &actor.scope, term, limit).await?)
    }
}
