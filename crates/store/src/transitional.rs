//! Transitional: the old `Store` methods of accounts, the audit log and divisions, kept
//! while the duties' code and suites still call them. The use cases are in
//! `minzheng-app` (`users`, `audit`, `divisions`); these wrappers go when the last caller
//! has moved there.

use chrono::{DateTime, Utc};
use minzheng_domain::audit::{AuditEntry, AuditVerification, ChainCheck};
use minzheng_domain::division::Division;
use minzheng_domain::time::parse_timestamp;
use minzheng_domain::users::{decide_signin, valid_username, AuthError, SigninState, User};
use minzheng_domain::{Actor, Scope};

use crate::db::Store;
use crate::error::{StoreError, StoreResult};

impl Store {
    /// Checks a user name and password (no audit, no lockout bookkeeping: tests only sign
    /// in the demo accounts with their right passwords).
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<User, AuthError>> {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let username = username.trim();
        if !valid_username(username) {
            return Ok(Err(AuthError::BadCredentials));
        }
        let Some(r) = crate::users::signin_record(self, username).await? else {
            return Ok(Err(AuthError::BadCredentials));
        };
        let ok = PasswordHash::new(&r.password_hash)
            .map(|h| {
                argon2::Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        let outcome = decide_signin(
            SigninState {
                failed_attempts: r.failed_attempts,
                locked_until: r.locked_until.as_deref().and_then(parse_timestamp),
                active: r.active,
            },
            ok,
            now,
        );
        match outcome.refusal() {
            Some(e) => Ok(Err(e)),
            None => Ok(Ok(crate::users::get(self, &Scope::all(), r.id).await?)),
        }
    }

    /// Audit records inside the actor's scope, newest first.
    pub async fn list_audit(
        &self,
        actor: &Actor,
        entity: Option<(&str, &str)>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<AuditEntry>> {
        if !actor.can_read_audit() {
            return Err(StoreError::Forbidden("您的角色无权查看操作日志".into()));
        }
        crate::audit::list(self, &actor.scope, entity, limit, offset).await
    }

    /// Walks the whole audit chain.
    pub async fn verify_audit(&self) -> StoreResult<AuditVerification> {
        let mut check = ChainCheck::default();
        loop {
            let rows = crate::audit::from_seq(self, check.next_seq(), 5000).await?;
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

    /// One division the scope sees.
    pub async fn get_division(&self, scope: &Scope, code: &str) -> StoreResult<Division> {
        crate::divisions::get(self, scope, code).await
    }

    /// Direct children of `parent` inside the scope.
    pub async fn children(
        &self,
        scope: &Scope,
        parent: Option<&str>,
    ) -> StoreResult<Vec<Division>> {
        crate::divisions::children(self, scope, parent).await
    }
}
