//! The audit log (操作日志): every change appends one record in the same transaction as the
//! change. Records are hash-chained: each record's hash covers the previous record's hash
//! and its own canonical content, so editing, inserting or deleting a row breaks the chain
//! at that row, which `verify_audit` finds.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::{q, DbRow, Store, Tx};
use crate::error::{StoreError, StoreResult};
use minzheng_domain::{Actor, Scope};

/// The hash that precedes the first record.
pub(crate) const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub actor_id: Option<i64>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub scope_code: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    pub(crate) fn from_row(r: &DbRow) -> StoreResult<Self> {
        Ok(AuditEntry {
            seq: r.i64("seq")?,
            at: r.str("at")?,
            actor: r.str("actor")?,
            actor_id: r.opt_i64("actor_id")?,
            action: r.str("action")?,
            entity_type: r.str("entity_type")?,
            entity_id: r.str("entity_id")?,
            scope_code: r.str("scope_code")?,
            before_json: r.opt_str("before_json")?,
            after_json: r.opt_str("after_json")?,
            prev_hash: r.str("prev_hash")?,
            hash: r.str("hash")?,
        })
    }

    /// The hash this record should carry given its content and `prev_hash`.
    pub fn expected_hash(&self) -> String {
        chain_hash(
            &self.prev_hash,
            self.seq,
            &self.at,
            &self.actor,
            self.actor_id,
            &self.action,
            &self.entity_type,
            &self.entity_id,
            &self.scope_code,
            self.before_json.as_deref(),
            self.after_json.as_deref(),
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn chain_hash(
    prev: &str,
    seq: i64,
    at: &str,
    actor: &str,
    actor_id: Option<i64>,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    scope_code: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    // Fields are length-prefixed so no choice of content can make two records collide.
    let mut h = Sha256::new();
    let mut field = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    field(prev);
    field(&seq.to_string());
    field(at);
    field(actor);
    field(
        &actor_id
            .map(|i| i.to_string())
            .unwrap_or_else(|| "-".into()),
    );
    field(action);
    field(entity_type);
    field(entity_id);
    field(scope_code);
    field(before.unwrap_or("\u{0}"));
    field(after.unwrap_or("\u{0}"));
    hex::encode(h.finalize())
}

/// What a change looks like before it is appended.
pub struct AuditEvent<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    pub scope_code: &'a str,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Appends one record inside `tx`. The caller's transaction makes the change and its
/// record atomic. Appends are serialized (SQLite: one writer; PostgreSQL: an advisory lock
/// held to the end of the transaction) so the chain never forks.
pub async fn append(tx: &mut Tx, actor: &Actor, ev: AuditEvent<'_>) -> StoreResult<i64> {
    if tx.is_postgres() {
        tx.execute(q("SELECT pg_advisory_xact_lock(7340002)"))
            .await?;
    }
    let last = tx
        .fetch_optional(q(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
        ))
        .await?;
    let (seq, prev) = match last {
        Some(r) => (r.i64("seq")? + 1, r.str("hash")?),
        None => (1, GENESIS.to_string()),
    };
    let at = crate::timestamp(chrono::Utc::now());
    let before = ev.before.map(|v| v.to_string());
    let after = ev.after.map(|v| v.to_string());
    let hash = chain_hash(
        &prev,
        seq,
        &at,
        &actor.username,
        actor.user_id,
        ev.action,
        ev.entity_type,
        ev.entity_id,
        ev.scope_code,
        before.as_deref(),
        after.as_deref(),
    );
    tx.execute(
        q(
            "INSERT INTO audit_log (seq, at, actor, actor_id, action, entity_type, entity_id,
             scope_code, before_json, after_json, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(seq)
        .bind(at)
        .bind(&actor.username)
        .bind(actor.user_id)
        .bind(ev.action)
        .bind(ev.entity_type)
        .bind(ev.entity_id)
        .bind(ev.scope_code)
        .bind(before)
        .bind(after)
        .bind(prev)
        .bind(hash),
    )
    .await?;
    Ok(seq)
}

/// Where the chain first breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditBreak {
    pub seq: i64,
    pub reason: String,
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerification {
    pub records: u64,
    pub first_break: Option<AuditBreak>,
}

impl Store {
    /// Audit records visible in `scope`, newest first.
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
        let (lo, hi) = actor.scope.bounds();
        let mut query = q("SELECT * FROM audit_log WHERE scope_code >= $1 AND scope_code < $2")
            .bind(lo)
            .bind(hi);
        if let Some((t, id)) = entity {
            query
                .sql
                .push_str(" AND entity_type = $3 AND entity_id = $4");
            query.push(t);
            query.push(id);
        }
        let n = query.args.len();
        query.sql.push_str(&format!(
            " ORDER BY seq DESC LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        ));
        query.push(limit.clamp(1, 500));
        query.push(offset.max(0));
        self.fetch_all(query)
            .await?
            .iter()
            .map(AuditEntry::from_row)
            .collect()
    }

    /// Number of audit records in scope.
    pub async fn count_audit(&self, scope: &Scope) -> StoreResult<i64> {
        let (lo, hi) = scope.bounds();
        self.fetch_one(
            q("SELECT COUNT(*) AS n FROM audit_log WHERE scope_code >= $1 AND scope_code < $2")
                .bind(lo)
                .bind(hi),
        )
        .await?
        .i64("n")
    }

    /// Walks the whole chain in order and reports the first record whose hash, link or
    /// sequence number is wrong.
    pub async fn verify_audit(&self) -> StoreResult<AuditVerification> {
        let mut prev_hash = GENESIS.to_string();
        let mut expected_seq = 1i64;
        let mut count = 0u64;
        loop {
            let rows = self
                .fetch_all(
                    q("SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT 5000")
                        .bind(expected_seq),
                )
                .await?;
            if rows.is_empty() {
                break;
            }
            for r in &rows {
                let e = AuditEntry::from_row(r)?;
                let broken = |reason: String| AuditVerification {
                    records: count,
                    first_break: Some(AuditBreak { seq: e.seq, reason }),
                };
                if e.seq != expected_seq {
                    return Ok(AuditVerification {
                        records: count,
                        first_break: Some(AuditBreak {
                            seq: expected_seq,
                            reason: format!("第{expected_seq}条记录缺失（下一条为第{}条）", e.seq),
                        }),
                    });
                }
                if e.prev_hash != prev_hash {
                    return Ok(broken(format!(
                        "第{}条记录的前序哈希与第{}条记录不符（记录被删除、插入或改动）",
                        e.seq,
                        e.seq - 1
                    )));
                }
                if e.expected_hash() != e.hash {
                    return Ok(broken(format!(
                        "第{}条记录的内容与其哈希不符（记录被改动）",
                        e.seq
                    )));
                }
                prev_hash = e.hash;
                expected_seq += 1;
                count += 1;
            }
        }
        Ok(AuditVerification {
            records: count,
            first_break: None,
        })
    }
}
