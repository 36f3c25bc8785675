//! The storage side of the ledger import: the database facts the checks need (villages,
//! persons by ID number, households by head) and the write phase.
//!
//! The facts are read on the connection the import will write on: its write transaction
//! when the import may write (so nothing changes between the checks and the writes),
//! otherwise a plain connection (dry runs and refused files never take the writer).
//!
//! Writing: SQLite steps prepared statements on the connection's raw handle (`bulk.rs`),
//! PostgreSQL copies each table's rows in with `COPY` (`pg.rs`); both inside the one
//! transaction, in batches of about [`BATCH_ROWS`] persons so progress can be reported in
//! between. A large import into a small table builds its random-order indexes afterwards
//! ([`ImportWrite::defer_indexes`]).

mod floor;
mod pg;
mod sqlite;

use std::collections::HashSet;

use minzheng_domain::registry::ledger::{
    id_str, Counts, Existing, ExistingHousehold, Groups, Id18, IdMap, Plan,
};
use minzheng_domain::Scope;
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection};

use crate::bulk::Raw;
use crate::db::{q, Pool, Store, Tx, WriteTx};
use crate::error::{Result, StoreError};

pub use floor::bench_floor;

/// Marker on incomes and assets written by an import, so a re-import replaces exactly them.
pub const IMPORT_NOTE: &str = "台账导入";

/// Persons per batch.
pub const BATCH_ROWS: usize = 10_000;

/// Runs CPU-bound work (a million lookups) without stalling the other tasks of a
/// multi-threaded runtime; inline on a current-thread runtime.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// Which of these 12-digit codes are village-level divisions.
pub async fn known_villages(store: &Store, wanted: &[String]) -> Result<HashSet<[u8; 12]>> {
    let mut known = HashSet::new();
    for chunk in wanted.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let mut query = q(format!(
            "SELECT code FROM divisions WHERE level = 5 AND code IN ({})",
            placeholders.join(",")
        ));
        for v in chunk {
            query.push(v.as_str());
        }
        for row in store.fetch_all(query).await? {
            if let Ok(code) = <[u8; 12]>::try_from(row.str("code")?.as_bytes()) {
                known.insert(code);
            }
        }
    }
    Ok(known)
}

/// The connection an import reads its facts on (and, if it may write, writes on).
pub struct ImportSession {
    held: Held,
}

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

/// Persons of the file the database already holds (by ID number) and households it
/// already holds (by head ID).
pub type Lookups = (IdMap<Existing>, IdMap<ExistingHousehold>);

impl ImportSession {
    /// Takes the write transaction (`write`) or a plain connection.
    pub async fn begin(store: &Store, write: bool) -> Result<ImportSession> {
        let held = if write {
            let mut tx = store.begin_write().await?;
            if let Tx::Pg(t) = &mut tx.tx {
                // On a cluster, an import's reads and the index changes after them use one
                // connection per node: a shard read over several connections cannot be
                // altered later in the same transaction.
                if crate::distribute::pg_distributed(t).await? {
                    sqlx::query("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
                        .execute(&mut **t)
                        .await?;
                }
            }
            Held::Write(tx)
        } else {
            match &store.pool {
                Pool::Sqlite(p) => Held::Sqlite(p.acquire().await?),
                Pool::Postgres(p) => Held::Pg(p.acquire().await?),
            }
        };
        Ok(ImportSession { held })
    }

    /// Looks up the persons `ids` and the households headed by `heads` (both sorted);
    /// `in_scope` says whether their household lies inside `scope`.
    pub async fn lookup(&mut self, ids: &[Id18], heads: &[Id18], scope: &Scope) -> Result<Lookups> {
        if let Some(conn) = self.held.sqlite() {
            let mut handle = conn.lock_handle().await?;
            blocking(|| lookup_sqlite(&mut handle, ids, heads, scope))
        } else if let Some(conn) = self.held.pg() {
            lookup_pg(conn, ids, heads, scope).await
        } else {
            Err(StoreError::Internal("导入没有可用的数据库连接".into()))
        }
    }

    /// The write phase, if the session holds the write transaction.
    pub fn into_write(self) -> Option<ImportWrite> {
        match self.held {
            Held::Write(tx) => Some(ImportWrite {
                tx,
                deferred: Vec::new(),
                analyze: false,
            }),
            _ => None,
        }
    }
}

/// On SQLite: one prepared point lookup per ID, in ID order.
fn lookup_sqlite(
    handle: &mut sqlx::sqlite::LockedSqliteHandle<'_>,
    ids: &[Id18],
    heads: &[Id18],
    scope: &Scope,
) -> Result<Lookups> {
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
            "SELECT p.id, p.household_id, h.village_code, h.head_id_number, p.name
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
                        name: row.text(4).to_string(),
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

/// On PostgreSQL: `= ANY($1)` over chunks of 10,000 IDs.
async fn lookup_pg(
    conn: &mut PgConnection,
    ids: &[Id18],
    heads: &[Id18],
    scope: &Scope,
) -> Result<Lookups> {
    let distributed = crate::distribute::pg_distributed(conn).await?;
    let persons = format!(
        "SELECT p.id_number, p.id, p.household_id, h.village_code, h.head_id_number, p.name
         FROM persons p JOIN households h ON h.id = p.household_id{}
         WHERE p.id_number = ANY($1)",
        crate::distribute::same_county(distributed, "h", "p")
    );
    let mut existing = Vec::new();
    for chunk in ids.chunks(10_000) {
        let list: Vec<&str> = chunk.iter().map(id_str).collect();
        let rows: Vec<(String, i64, i64, String, String, String)> = sqlx::query_as(&persons)
            .bind(&list)
            .fetch_all(&mut *conn)
            .await?;
        for (id, person_id, household_id, village, head, name) in rows {
            if let Ok(key) = Id18::try_from(id.as_bytes()) {
                existing.push((
                    key,
                    Existing {
                        person_id,
                        household_id,
                        name,
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

/// Splits the households to write into batches of about [`BATCH_ROWS`] persons.
pub fn batches(groups: &Groups, good: &[u32]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut rows = 0;
    for (k, &g) in good.iter().enumerate() {
        rows += groups.get(g as usize).len();
        if rows >= BATCH_ROWS {
            out.push(start..k + 1);
            start = k + 1;
            rows = 0;
        }
    }
    if start < good.len() {
        out.push(start..good.len());
    }
    out
}

/// Secondary indexes built after the rows are in when an import at least doubles the
/// registry. Maintaining an index row by row costs a B-tree descent per row, at a random
/// place for keys that arrive unordered (ID numbers, initials, heads' ID numbers) and at one
/// of ~100 (township) or ~2,000 (village) hot spots for the scope indexes; building it once
/// afterwards is a sort. Measured on 1M persons (2 cores, with the two persons indexes
/// migration 0007 dropped): the write phase took 7.4 s with these deferred against 9.4 s
/// with only the random-key ones. The household/person foreign-key indexes arrive in order
/// and stay. The search's indexes (migration 0011) and the account index of the
/// shared-account check (migration 0010) go the same way. (table, index)
const DEFERRABLE: [(&str, &str); 8] = [
    ("persons", "persons_id_number"),
    ("persons", "persons_initials"),
    ("persons", "persons_pinyin"),
    ("persons", "persons_last4"),
    ("households", "households_village"),
    ("households", "households_scope"),
    ("households", "households_head"),
    ("households", "households_account"),
];

/// The triggers that keep `person_name_parts` in step with `persons` one row at a time
/// (migration 0011). A deferred import drops them with the indexes: a million persons'
/// parts cost a B-tree descent each at a random place, against one sorted pass afterwards.
const PARTS_TRIGGERS: [&str; 3] = [
    "person_name_parts_insert",
    "person_name_parts_update",
    "person_name_parts_delete",
];

/// Deferring pays off only for large imports that at least double the table.
const DEFER_MIN_ROWS: usize = 50_000;

/// Whether a SQLite import adding `new_persons` to a table whose largest id is `max_id`
/// should build the random-order indexes afterwards.
fn should_defer(new_persons: usize, max_id: i64) -> bool {
    new_persons >= DEFER_MIN_ROWS && new_persons as i64 >= max_id
}

/// The write phase of an import, inside its one transaction.
pub struct ImportWrite {
    tx: WriteTx,
    /// Definitions of the indexes dropped for the write, to build again before the commit.
    deferred: Vec<String>,
    /// PostgreSQL: a large import refreshes the planner's statistics of the tables it
    /// filled before its commit (see [`ImportWrite::rebuild_indexes`]).
    analyze: bool,
}

impl ImportWrite {
    /// Before the first batch: an import of `new_persons()` persons that at least doubles
    /// the persons table drops the deferrable indexes inside its transaction (nothing in the
    /// write phase looks persons up by these columns) to build them again in
    /// [`ImportWrite::rebuild_indexes`]. SQLite's readers keep seeing them in their
    /// snapshots; PostgreSQL's wait for the commit, and there the name parts' keys and the
    /// registry's foreign keys are set aside too (`defer_pg`). If the import fails, the
    /// rollback restores them. Returns whether it did.
    pub async fn defer_indexes(&mut self, new_persons: impl FnOnce() -> usize) -> Result<bool> {
        match &mut self.tx.tx {
            Tx::Sqlite(t) => {
                let new_persons = new_persons();
                let max_id = sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM persons")
                    .fetch_one(&mut **t)
                    .await?
                    .unwrap_or(0);
                if should_defer(new_persons, max_id) {
                    self.deferred = defer_indexes(t).await?;
                }
            }
            Tx::Pg(t) => {
                let new_persons = new_persons();
                self.analyze = new_persons >= DEFER_MIN_ROWS;

                let max_id = sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(id) FROM persons")
                    .fetch_one(&mut **t)
                    .await?
                    .unwrap_or(0);
                if should_defer(new_persons, max_id) {
                    self.deferred = defer_pg(t).await?;
                }
            }
        }
        if !self.deferred.is_empty() {
            self.tx.mark_large();
        }
        Ok(!self.deferred.is_empty())
    }

    /// Writes the households `part` of the plan.
    pub async fn write(
        &mut self,
        plan: &Plan<'_>,
        part: &[u32],
        counts: &mut Counts,
    ) -> Result<()> {
        match &mut self.tx.tx {
            Tx::Sqlite(t) => sqlite::write(t, plan, part, counts).await,
            Tx::Pg(t) => pg::write(t, plan, part, counts, !self.deferred.is_empty()).await,
        }
    }

    /// Builds the indexes [`ImportWrite::defer_indexes`] dropped and refills the name parts
    /// (nothing if it dropped none); on PostgreSQL, after a large import, refreshes the
    /// statistics of the registry's tables.
    pub async fn rebuild_indexes(&mut self) -> Result<()> {
        match &mut self.tx.tx {
            Tx::Sqlite(t) if !self.deferred.is_empty() => {
                rebuild_indexes(t, &self.deferred).await?
            }
            // Until autovacuum samples them, the planner takes a million new rows for a
            // few: the searches would then sort every match of a surname instead of
            // reading the first ones in index order (measured: 1 s instead of 1 ms).
            Tx::Pg(t) if self.analyze => {
                if !self.deferred.is_empty() {
                    rebuild_pg(t, &self.deferred).await?;
                }
                sqlx::query("ANALYZE persons, households, person_name_parts")
                    .execute(&mut **t)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// The transaction, for the import's audit record.
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await
    }
}

/// PostgreSQL: what a large import sets aside besides [`DEFERRABLE`] — the name parts'
/// own keys (their rows are computed again in one sorted pass) and the foreign keys
/// among the registry's tables (checked again in one join each when added back; a key to
/// the divisions stays, so the rest of the system keeps reading them). Measured on
/// 300,000 persons: inserting with every index, key and trigger in place took 14.8 s,
/// without the name parts' trigger 10.8 s, also without the foreign key 9.1 s, also
/// without the four random-order indexes 2.2 s; building those four again took 1.5 s.
const PG_DEFERRABLE_KEYS: [(&str, &str); 7] = [
    ("person_name_parts", "person_name_parts_pkey"),
    ("person_name_parts", "person_name_parts_scope"),
    ("persons", "persons_household_id_fkey"),
    ("incomes", "incomes_household_id_fkey"),
    ("incomes", "incomes_person_id_fkey"),
    ("assets", "assets_household_id_fkey"),
    ("assets", "assets_person_id_fkey"),
];

/// On PostgreSQL, inside the import's transaction: drops the deferrable indexes, the name
/// parts' keys and the registry's foreign keys, and disables the name parts' triggers;
/// returns the statements that put each back, in order. DDL is transactional here, so a
/// failed import's rollback restores them all. Dropping an index locks its table for the
/// rest of the transaction: while such an import (one that at least doubles the registry)
/// writes, other sessions' reads of the registry's tables wait for its commit.
async fn defer_pg(conn: &mut PgConnection) -> Result<Vec<String>> {
    // Nobody else writes households or persons until the commit (the import then takes
    // its ids as one block, see `pg::write`); dropping the indexes below locks reads too.
    sqlx::query("LOCK TABLE households, persons IN EXCLUSIVE MODE")
        .execute(&mut *conn)
        .await?;
    let mut names: Vec<&str> = DEFERRABLE.iter().map(|(_, i)| *i).collect();
    names.extend(PG_DEFERRABLE_KEYS.iter().map(|(_, k)| *k));
    // Constraints (primary and foreign keys) first, then the plain indexes.
    let rows: Vec<(String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT c.conrelid::regclass::text, c.conname, c.contype::text,
                pg_get_constraintdef(c.oid)
         FROM pg_constraint c
         WHERE c.connamespace = current_schema()::regnamespace AND c.conname = ANY($1)
         UNION ALL
         SELECT i.tablename, i.indexname, NULL, i.indexdef
         FROM pg_indexes i
         WHERE i.schemaname = current_schema() AND i.indexname = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                           WHERE c.conname = i.indexname
                             AND c.connamespace = current_schema()::regnamespace)",
    )
    .bind(&names)
    .fetch_all(&mut *conn)
    .await?;
    let mut restore = Vec::new();
    let mut foreign = Vec::new();
    for (table, name, kind, def) in rows {
        match kind {
            Some(kind) => {
                sqlx::query(&format!("ALTER TABLE {table} DROP CONSTRAINT \"{name}\""))
                    .execute(&mut *conn)
                    .await?;
                let add = format!("ALTER TABLE {table} ADD CONSTRAINT \"{name}\" {def}");
                if kind == "f" {
                    foreign.push(add);
                } else {
                    restore.push(add);
                }
            }
            None => {
                sqlx::query(&format!("DROP INDEX \"{name}\""))
                    .execute(&mut *conn)
                    .await?;
                restore.push(def);
            }
        }
    }
    // Foreign keys last: their check reads the rebuilt indexes.
    restore.extend(foreign);
    for trigger in PARTS_TRIGGERS {
        sqlx::query(&format!("ALTER TABLE persons DISABLE TRIGGER {trigger}"))
            .execute(&mut *conn)
            .await?;
        restore.push(format!("ALTER TABLE persons ENABLE TRIGGER {trigger}"));
    }
    Ok(restore)
}

/// PostgreSQL: refills the name parts of every person in one pass (their keys are built
/// after, each by one sort), then runs the
/// statements [`defer_pg`] returned (indexes, keys, triggers back; a unique index and a
/// foreign key re-check every row here).
async fn rebuild_pg(conn: &mut PgConnection, restore: &[String]) -> Result<()> {
    // Each index of a million rows sorts in memory instead of in temporary files (the
    // server's default is 64 MB); for this transaction only.
    sqlx::query("SET LOCAL maintenance_work_mem = '256MB'")
        .execute(&mut *conn)
        .await?;
    sqlx::query("TRUNCATE person_name_parts")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO person_name_parts (part, person_id, township_code, county_code)
         SELECT substr(p.name, g), p.id, p.township_code, p.county_code
         FROM persons p, generate_series(1, char_length(p.name)) g",
    )
    .execute(&mut *conn)
    .await?;
    for s in restore {
        sqlx::query(s).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Drops the deferrable indexes and the name parts' triggers and returns their
/// definitions (indexes first).
async fn defer_indexes(conn: &mut SqliteConnection) -> Result<Vec<String>> {
    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT type, tbl_name, name, sql FROM sqlite_master
         WHERE type IN ('index', 'trigger') AND sql IS NOT NULL
           AND tbl_name IN ('persons', 'households')
         ORDER BY type",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for (kind, table, name, sql) in rows {
        let drop = match kind.as_str() {
            "index" if DEFERRABLE.contains(&(table.as_str(), name.as_str())) => "INDEX",
            "trigger" if PARTS_TRIGGERS.contains(&name.as_str()) => "TRIGGER",
            _ => continue,
        };
        sqlx::query(&format!("DROP {drop} \"{name}\""))
            .execute(&mut *conn)
            .await?;
        out.push(sql);
    }
    Ok(out)
}

/// Refills the name parts of every person in one sorted pass (their triggers were dropped
/// for the import), then builds the indexes and triggers again from their own definitions
/// (a unique index re-checks uniqueness here).
async fn rebuild_indexes(conn: &mut SqliteConnection, sql: &[String]) -> Result<()> {
    // Let SQLite's sorter use a helper thread (the other core is idle meanwhile).
    sqlx::query("PRAGMA threads = 2")
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM person_name_parts")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO person_name_parts (part, person_id, township_code, county_code)
         SELECT substr(p.name, n.n), p.id, p.township_code, p.county_code
         FROM persons p JOIN name_positions n ON n.n <= length(p.name)
         ORDER BY 1, 2",
    )
    .execute(&mut *conn)
    .await?;
    for s in sql {
        sqlx::query(s).execute(&mut *conn).await?;
    }
    sqlx::query("PRAGMA threads = 0")
        .execute(&mut *conn)
        .await?;
    Ok(())
}
