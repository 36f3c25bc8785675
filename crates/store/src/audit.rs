//! The audit log (操作日志): the `audit_log` table. Every change appends one record in the
//! same transaction as the change; the hash chain's rules are
//! `minzheng_domain::audit`'s.

use minzheng_domain::audit::{chain_hash, AuditEntry, AuditFilter, ChainFields, GENESIS};
use minzheng_domain::{Actor, Scope};

use crate::db::{q, DbRow, Store, Tx};
use crate::error::Result;

pub(crate) fn entry(r: &DbRow) -> Result<AuditEntry> {
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
pub async fn append(tx: &mut Tx, actor: &Actor, ev: AuditEvent<'_>) -> Result<i64> {
    append_at(tx, actor, ev, crate::timestamp(chrono::Utc::now())).await
}

/// [`append`] with the record's time given (tests that need records of other years).
pub(crate) async fn append_at(
    tx: &mut Tx,
    actor: &Actor,
    ev: AuditEvent<'_>,
    at: String,
) -> Result<i64> {
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
/// chain): the last record is read once and the hashes chained in memory; on SQLite one
/// prepared statement writes the rows on the connection's handle while another thread
/// chains the next ones, on PostgreSQL they go in multi-row inserts. A sign-off that
/// changes a hundred thousand enrolments records each without a round trip per record.
pub async fn append_many(tx: &mut Tx, actor: &Actor, events: Vec<AuditText<'_>>) -> Result<()> {
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
    let (seq, prev) = match last {
        Some(r) => (r.i64("seq")? + 1, r.str("hash")?),
        None => (1, GENESIS.to_string()),
    };
    if let Tx::Sqlite(t) = tx {
        // The hashes are chained on a thread of their own while this one writes the rows
        // already hashed: a sign-off's hundreds of thousands of records take the longer
        // of the two, not their sum.
        //
        // Many records are checked for their county once, after they are written, as the
        // registry import defers its indexes: the per-row trigger is dropped inside this
        // transaction and created again (a rollback restores it either way).
        let defer = events.len() >= DEFER_COUNTY_CHECK;
        let first = seq;
        let mut handle = t.lock_handle().await?;
        if defer {
            crate::bulk::Raw::new(&mut handle)
                .prepare("DROP TRIGGER audit_log_county_insert")?
                .run(&[])?;
        }
        let mut stmt = crate::bulk::Prepared::new(
            &mut handle,
            &format!("{INSERT} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        )?;
        let (at, actor) = (at.as_str(), actor);
        let written = crate::db::blocking(|| {
            std::thread::scope(|scope| {
                let (send, chunks) = std::sync::mpsc::sync_channel::<Vec<Hashed<'_>>>(2);
                let chain = scope.spawn(move || {
                    let mut records = chained(events, prev, seq, at, actor);
                    loop {
                        let chunk: Vec<Hashed<'_>> = records.by_ref().take(CHUNK).collect();
                        if chunk.is_empty() || send.send(chunk).is_err() {
                            break;
                        }
                    }
                });
                let mut result = Ok(());
                for chunk in chunks {
                    for h in &chunk {
                        use crate::bulk::BulkVal;
                        let ev = &h.ev;
                        let vals = [
                            BulkVal::Int(h.seq),
                            BulkVal::Text(at),
                            BulkVal::Text(&actor.username),
                            actor.user_id.map_or(BulkVal::Null, BulkVal::Int),
                            BulkVal::Text(ev.action),
                            BulkVal::Text(ev.entity_type),
                            BulkVal::Text(&ev.entity_id),
                            BulkVal::Text(ev.scope_code),
                            BulkVal::Text(crate::county_of(ev.scope_code)),
                            ev.before.as_deref().into(),
                            ev.after.as_deref().into(),
                            BulkVal::Text(&h.prev),
                            BulkVal::Text(&h.hash),
                        ];
                        if let Err(e) = stmt.run(&vals) {
                            result = Err(e);
                            break;
                        }
                    }
                    if result.is_err() {
                        // Dropping the receiver ends the chaining thread.
                        break;
                    }
                }
                chain
                    .join()
                    .map_err(|_| crate::StoreError::Internal("审计记录写入过程异常中止".into()))?;
                result
            })
        });
        drop(stmt);
        written?;
        if defer {
            let raw = crate::bulk::Raw::new(&mut handle);
            let mut wrong = None;
            raw.prepare(
                "SELECT seq FROM audit_log
                 WHERE seq >= ?1 AND county_code IS NOT substr(scope_code, 1, 6) LIMIT 1",
            )?
            .query(&[first.into()], |r| {
                wrong = Some(r.int(0));
                Ok(())
            })?;
            if let Some(seq) = wrong {
                return Err(crate::StoreError::Internal(format!(
                    "第{seq}条审计记录的区县代码与其范围不符"
                )));
            }
            raw.prepare(COUNTY_TRIGGER)?.run(&[])?;
        }
        return Ok(());
    }
    let mut rows: Vec<Vec<crate::db::Arg>> = Vec::with_capacity(CHUNK);
    for h in chained(events, prev, seq, &at, actor) {
        rows.push(vec![
            h.seq.into(),
            at.as_str().into(),
            actor.username.as_str().into(),
            actor.user_id.into(),
            h.ev.action.into(),
            h.ev.entity_type.into(),
            h.ev.entity_id.into(),
            h.ev.scope_code.into(),
            crate::county_of(h.ev.scope_code).into(),
            h.ev.before.into(),
            h.ev.after.into(),
            h.prev.into(),
            h.hash.into(),
        ]);
        if rows.len() == CHUNK {
            tx.insert_rows(INSERT, 13, "", &rows).await?;
            rows.clear();
        }
    }
    tx.insert_rows(INSERT, 13, "", &rows).await?;
    Ok(())
}

/// From how many records [`append_many`] checks their county once, after writing them, on
/// SQLite instead of row by row (measured: 463,000 records took 1.6 s to insert with the
/// per-row trigger, 0.86 s without it and 0.1 s more for the check).
const DEFER_COUNTY_CHECK: usize = 10_000;

/// SQLite's per-row county check on the audit log, as migration 18 creates it.
pub(crate) const COUNTY_TRIGGER: &str =
    "CREATE TRIGGER audit_log_county_insert BEFORE INSERT ON audit_log
  WHEN NEW.county_code IS NOT substr(NEW.scope_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'audit_log.county_code'); END";

/// Records appended at a time by [`append_many`].
const CHUNK: usize = 5_000;

const INSERT: &str = "INSERT INTO audit_log (seq, at, actor, actor_id, action, entity_type,
    entity_id, scope_code, county_code, before_json, after_json, prev_hash, hash)";

/// A record of [`append_many`] with its place in the chain.
struct Hashed<'a> {
    seq: i64,
    ev: AuditText<'a>,
    prev: String,
    hash: String,
}

/// The records in order with their places in the chain: each one's hash covers the one
/// before it, from `prev` and `seq` on.
fn chained<'a, 'e: 'a>(
    events: Vec<AuditText<'e>>,
    mut prev: String,
    mut seq: i64,
    at: &'a str,
    actor: &'a Actor,
) -> impl Iterator<Item = Hashed<'e>> + 'a {
    events.into_iter().map(move |ev| {
        let hash = chain_hash(&ChainFields {
            prev: &prev,
            seq,
            at,
            actor: &actor.username,
            actor_id: actor.user_id,
            action: ev.action,
            entity_type: ev.entity_type,
            entity_id: &ev.entity_id,
            scope_code: ev.scope_code,
            before: ev.before.as_deref(),
            after: ev.after.as_deref(),
        });
        let record = Hashed {
            seq,
            prev: std::mem::replace(&mut prev, hash.clone()),
            hash,
            ev,
        };
        seq += 1;
        record
    })
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
) -> Result<Vec<AuditEntry>> {
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
pub async fn count(store: &Store, scope: &Scope, f: &AuditFilter) -> Result<i64> {
    let (where_, args) = filtered(scope, f);
    let mut query = q(format!("SELECT COUNT(*) AS n FROM audit_log{where_}"));
    for a in args {
        query.push(a);
    }
    store.fetch_one(query).await?.i64("n")
}

/// Up to `limit` records from sequence number `from` on, in order (for walking the chain).
pub async fn from_seq(store: &Store, from: i64, limit: i64) -> Result<Vec<AuditEntry>> {
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_county_trigger_dropped_for_many_records_is_created_again_as_the_migration_made_it() {
        assert!(include_str!("../migrations/sqlite/0018_county_keys.sql")
            .contains(&format!("{};", super::COUNTY_TRIGGER)));
    }
}
