//! The audit log (操作日志): the `audit_log` table. Every change appends one record in the
//! same transaction as the change; the hash chain's rules are
//! `minzheng_domain::audit`'s.

use minzheng_domain::audit::{chain_hash, AuditEntry, ChainFields, GENESIS};
use minzheng_domain::{Actor, Scope};

use crate::db::{q, DbRow, Store, Tx};
use crate::error::StoreResult;

pub(crate) fn entry(r: &DbRow) -> StoreResult<AuditEntry> {
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
    append_at(tx, actor, ev, crate::timestamp(chrono::Utc::now())).await
}

/// [`append`] with the record's time given (tests that need records of other years).
pub(crate) async fn append_at(
    tx: &mut Tx,
    actor: &Actor,
    ev: AuditEvent<'_>,
    at: String,
) -> StoreResult<i64> {
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
    let before = ev.before.map(|v| v.to_string());
    let after = ev.after.map(|v| v.to_string());
    let hash = chain_hash(&ChainFields {
        prev: &prev,
        seq,
        at: &at,
        actor: &actor.username,
        actor_id: actor.user_id,
        action: ev.action,
        entity_type: ev.entity_type,
        entity_id: ev.entity_id,
        scope_code: ev.scope_code,
        before: before.as_deref(),
        after: after.as_deref(),
    });
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

/// Audit records inside `scope` (optionally of one entity), newest first.
pub async fn list(
    store: &Store,
    scope: &Scope,
    entity: Option<(&str, &str)>,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<AuditEntry>> {
    let (lo, hi) = scope.bounds();
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
    store.fetch_all(query).await?.iter().map(entry).collect()
}

/// Number of audit records inside `scope`.
pub async fn count(store: &Store, scope: &Scope) -> StoreResult<i64> {
    let (lo, hi) = scope.bounds();
    store
        .fetch_one(
            q("SELECT COUNT(*) AS n FROM audit_log WHERE scope_code >= $1 AND scope_code < $2")
                .bind(lo)
                .bind(hi),
        )
        .await?
        .i64("n")
}

/// Up to `limit` records from sequence number `from` on, in order (for walking the chain).
pub async fn from_seq(store: &Store, from: i64, limit: i64) -> StoreResult<Vec<AuditEntry>> {
    store
        .fetch_all(
            q("SELECT * FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2")
                .bind(from)
                .bind(limit),
        )
        .await?
        .iter()
        .map(entry)
        .collect()
}
