//! The audit log (操作日志): reading it, and checking its hash chain.

use minzheng_domain::audit::{AuditEntry, AuditVerification, ChainCheck};
use minzheng_domain::Actor;
use minzheng_store::audit as repo;

use crate::{App, AppResult, Authorize, Permission};

/// Records read per round while walking the chain.
const VERIFY_PAGE: i64 = 5000;

/// The audit duty of [`App`].
pub struct Audit<'a> {
    app: &'a App,
}

impl App {
    pub fn audit(&self) -> Audit<'_> {
        Audit { app: self }
    }
}

impl Audit<'_> {
    /// Records inside the actor's scope (optionally of one entity), newest first.
    pub async fn list(
        &self,
        actor: &Actor,
        entity: Option<(&str, &str)>,
        limit: i64,
        offset: i64,
    ) -> AppResult<Vec<AuditEntry>> {
        actor.require_or(Permission::ReadAudit, "您的角色无权查看操作日志")?;
        Ok(repo::list(self.app.store(), &actor.scope, entity, limit, offset).await?)
    }

    /// How many records lie inside the actor's scope.
    pub async fn count(&self, actor: &Actor) -> AppResult<i64> {
        actor.require_or(Permission::ReadAudit, "您的角色无权查看操作日志")?;
        Ok(repo::count(self.app.store(), &actor.scope).await?)
    }

    /// Walks the whole chain in order and reports the first record whose hash, link or
    /// sequence number is wrong (`minzheng audit verify`).
    pub async fn verify(&self) -> AppResult<AuditVerification> {
        let mut check = ChainCheck::default();
        loop {
            let rows = repo::from_seq(self.app.store(), check.next_seq(), VERIFY_PAGE).await?;
            if rows.is_empty() {
                return Ok(check.finish(None));
            }
            for e in &rows {
                if let Err(b) = check.push(e) {
                    return Ok(check.finish(Some(b)));
                }
            }
        }
    }
}
