//! The storage side of the ledger import: the database facts the checks need (villages,
//! persons by ID number, households by head) and the write phase.
//!
//! The facts are read on the connection the import will write on: its write transaction
//! when the import may write (so nothing changes between the checks and the writes),
//! otherwise a plain connection (dry runs and refused files never take the writer).
//!
//! Writing: SQLite steps prepared statements on the connection's raw handle (`bulk.rs`),
//! PostgreSQL sends one array statement per table and batch; both inside the one
//! transaction, in batches of about [`BATCH_ROWS`] persons so progress can be reported in
//! between. A large import into a small SQLite table builds its random-order indexes
//! afterwards ([`ImportWrite::defer_indexes`]).

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
use crate::error::{StoreError, StoreResult};

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
pub async fn known_villages(store: &Store, wanted: &[String]) -> StoreResult<HashSet<[u8; 12]>> {
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
    pub async fn begin(store: &Store, write: bool) -> StoreResult<ImportSession> {
        let held = if write {
            Held::Write(store.begin_write().await?)
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
    pub async fn lookup(
        &mut self,
        ids: &[Id18],
        heads: &[Id18],
        scope: &Scope,
    ) -> StoreResult<Lookups> {
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
) -> StoreResult<Lookups> {
    let mut existing = Vec::new();
    for chunk in ids.chunks(10_000) {
        let list: Vec<&str> = chunk.iter().map(id_str).collect();
        let rows: Vec<(String, i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT p.id_number, p.id, p.household_id, h.village_code, h.head_id_number, p.name
             FROM persons p JOIN households h ON h.id = p.household_id
             WHERE p.id_number = ANY($1)",
        )
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
    /// Before the first batch: on SQLite, an import of `new_persons()` persons that at least
    /// doubles the persons table drops the deferrable indexes inside its transaction (readers keep
    /// seeing them in their snapshots; nothing in the write phase looks persons up by these
    /// columns) to build them again in [`ImportWrite::rebuild_indexes`]. If the import
    /// fails, the rollback restores them. Returns whether it did.
    pub async fn defer_indexes(
        &mut self,
        new_persons: impl FnOnce() -> usize,
    ) -> StoreResult<bool> {
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
            Tx::Pg(_) => self.analyze = new_persons() >= DEFER_MIN_ROWS,
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
    ) -> StoreResult<()> {
        match &mut self.tx.tx {
            Tx::Sqlite(t) => sqlite::write(t, plan, part, counts).await,
            Tx::Pg(t) => pg::write(t, plan, part, counts).await,
        }
    }

    /// Builds the indexes [`ImportWrite::defer_indexes`] dropped and refills the name parts
    /// (nothing if it dropped none); on PostgreSQL, after a large import, refreshes the
    /// statistics of the registry's tables.
    pub async fn rebuild_indexes(&mut self) -> StoreResult<()> {
        match &mut self.tx.tx {
            Tx::Sqlite(t) if !self.deferred.is_empty() => {
                rebuild_indexes(t, &self.deferred).await?
            }
            // Until autovacuum samples them, the planner takes a million new rows for a
            // few: the searches would then sort every match of a surname instead of
            // reading the first ones in index order (measured: 1 s instead of 1 ms).
            Tx::Pg(t) if self.analyze => {
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

    pub async fn commit(self) -> StoreResult<()> {
        self.tx.commit().await
    }
}

/// Drops the deferrable indexes and the name parts' triggers and returns their
/// definitions (indexes first).
async fn defer_indexes(conn: &mut SqliteConnection) -> StoreResult<Vec<String>> {
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
async fn rebuild_indexes(conn: &mut SqliteConnection, sql: &[String]) -> StoreResult<()> {
    // Let SQLite's sorter use a helper thread (the other core is idle meanwhile).
    sqlx::query("PRAGMA threads = 2")
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM person_name_parts")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO person_name_parts (part, person_id, township_code)
         SELECT substr(p.name, n.n), p.id, p.township_code
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
