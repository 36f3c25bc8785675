//! The audit log (操作日志): the `audit_log` table. Every change appends one record in the
//! same transaction as the change; the hash chain's rules are
//! `minzheng_domain::audit`'s.

use minzheng_domain::audit::{chain_hash, AuditEntry, AuditFilter, ChainFields, GENESIS};
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
             scope_code, county_code, before_json, after_json, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, substr($8, 1, 6), $9, $10, $11, $12)",
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

/// A record for [`append_many`], its before and after already JSON text (a sign-off of
/// many batches writes hundreds of thousands: no `serde_json::Value` built for each).
#[derive(Debug, Clone)]
pub struct AuditText<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: String,
    pub scope_code: &'a str,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Appends many records inside `tx`, in order, as [`append`] would one by one (the same
/// chain): the last record is read once, the hashes chained in memory and the rows written
/// in multi-row inserts. A sign-off that changes a hundred thousand enrolments records each
/// without a round trip per record.
pub async fn append_many(
    tx: &mut Tx,
    actor: &Actor,
    events: Vec<AuditText<'_>>,
) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    if tx.is_postgres() {
        tx.execute(q("SELECT pg_advisory_xact_lock(7340002)"))
            .await?;
    }
    let at = crate::timestamp(chrono::Utc::now());
    let last = tx
        .fetch_optional(q(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
        ))
        .await?;
    let (mut seq, mut prev) = match last {
        Some(r) => (r.i64("seq")? + 1, r.str("hash")?),
        None => (1, GENESIS.to_string()),
    };
    /// Rows handed to the store at a time.
    const CHUNK: usize = 5_000;
    let mut rows: Vec<Vec<crate::db::Arg>> = Vec::with_capacity(CHUNK);
    let mut events = events.into_iter().peekable();
    while let Some(ev) = events.next() {
        let hash = chain_hash(&ChainFields {
            prev: &prev,
            seq,
            at: &at,
            actor: &actor.username,
            actor_id: actor.user_id,
            action: ev.action,
            entity_type: ev.entity_type,
            entity_id: &ev.entity_id,
            scope_code: ev.scope_code,
            before: ev.before.as_deref(),
            after: ev.after.as_deref(),
        });
        rows.push(vec![
            seq.into(),
            at.as_str().into(),
            actor.username.as_str().into(),
            actor.user_id.into(),
            ev.action.into(),
            ev.entity_type.into(),
            ev.entity_id.into(),
            ev.scope_code.into(),
            crate::county_of(ev.scope_code).into(),
            ev.before.into(),
            ev.after.into(),
            std::mem::replace(&mut prev, hash.clone()).into(),
            hash.into(),
        ]);
        seq += 1;
        if rows.len() == CHUNK || events.peek().is_none() {
            tx.insert_rows(
                "INSERT INTO audit_log (seq, at, actor, actor_id, action, entity_type, entity_id,
                 scope_code, county_code, before_json, after_json, prev_hash, hash)",
                13,
                "",
                &rows,
            )
            .await?;
            rows.clear();
        }
    }
    Ok(())
}

/// The `WHERE` of the records inside `scope` that pass `f`, and its arguments.
fn filtered(scope: &Scope, f: &AuditFilter) -> (String, Vec<String>) {
    let (lo, hi) = scope.bounds();
    let mut sql = String::from(" WHERE scope_code >= $1 AND scope_code < $2");
    let mut args = vec![lo, hi];
    let (from, to) = f.at_bounds();
    for (cond, v) in [
        ("actor =", &f.actor),
        ("action =", &f.action),
        ("entity_type =", &f.entity_type),
        ("entity_id =", &f.entity_id),
        ("at >=", &from),
        ("at <", &to),
    ] {
        if let Some(v) = v {
            args.push(v.clone());
            sql.push_str(&format!(" AND {cond} ${}", args.len()));
        }
    }
    (sql, args)
}

/// Audit records inside `scope` that pass `f`, newest first.
pub async fn list(
    store: &Store,
    scope: &Scope,
    f: &AuditFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<AuditEntry>> {
    let (where_, args) = filtered(scope, f);
    let mut query = q(format!(
        "SELECT * FROM audit_log{where_} ORDER BY seq DESC LIMIT {} OFFSET {}",
        limit.clamp(1, 5000),
        offset.max(0)
    ));
    for a in args {
        query.push(a);
    }
    store.fetch_all(query).await?.iter().map(entry).collect()
}

/// Number of audit records inside `scope` that pass `f`.
pub async fn count(store: &Store, scope: &Scope, f: &AuditFilter) -> StoreResult<i64> {
    let (where_, args) = filtered(scope, f);
    let mut query = q(format!("SELECT COUNT(*) AS n FROM audit_log{where_}"));
    for a in args {
        query.push(a);
    }
    store.fetch_one(query).await?.i64("n")
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
