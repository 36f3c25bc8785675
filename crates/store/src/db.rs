//! The connection and a small backend-neutral query layer.
//!
//! SQL text is shared between SQLite and PostgreSQL wherever the dialects agree (both take
//! `$1` placeholders); values are bound through [`Arg`] and rows read through [`DbRow`], so
//! each store function is written once. The few dialect differences branch on
//! [`Store::is_postgres`].

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Postgres, Row, Sqlite, Transaction};

use crate::error::{Result, StoreError};

#[derive(Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The storage handle. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    /// SQLite allows one writer: write transactions begin IMMEDIATE; this lock keeps our own
    /// writers queued in-process instead of spinning on SQLITE_BUSY.
    pub(crate) write_lock: Arc<tokio::sync::Mutex<()>>,
    /// SQLite: when to copy the WAL back into the database file (see [`Checkpointer`]).
    pub(crate) checkpointer: Arc<Checkpointer>,
    /// A read replica ([`Store::connect_replica`]): its connections are read-only on the
    /// server, and [`Store::begin_write`] (so also [`Store::migrate`]) refuses at once.
    pub(crate) read_only: bool,
    /// A Citus cluster's database whose tables are distributed (found when connecting):
    /// some statements then name the county in their joins, which a single server's planner
    /// is better without (ARCHITECTURE.md, "A province on a distributed PostgreSQL").
    pub(crate) distributed: bool,
}

/// Moves SQLite's WAL checkpoints off the committing request's path.
///
/// SQLite's own auto-checkpoint runs inside the `COMMIT` that crosses 1,000 WAL pages, so
/// the clerk whose commit crosses it (or the million-line payroll month, whose commit would
/// copy hundreds of MB back into the database file) waits for the copy. Connections are
/// opened with `wal_autocheckpoint = 0` instead, and a PASSIVE checkpoint runs on a pool
/// connection in the background after every [`CHECKPOINT_EVERY`] write commits, or at once
/// after a commit marked large. One runs at a time; readers and the next writer are never
/// blocked by it, and closing the pool checkpoints what is left.
#[derive(Debug, Default)]
pub(crate) struct Checkpointer {
    commits: std::sync::atomic::AtomicU32,
    running: Arc<std::sync::atomic::AtomicBool>,
}

/// Write commits between background checkpoints (a few hundred WAL pages at most).
pub(crate) const CHECKPOINT_EVERY: u32 = 64;

impl Checkpointer {
    fn after_commit(&self, pool: &SqlitePool, large: bool) {
        use std::sync::atomic::Ordering;
        let n = self.commits.fetch_add(1, Ordering::Relaxed) + 1;
        if !(large || n >= CHECKPOINT_EVERY) || self.running.swap(true, Ordering::AcqRel) {
            return;
        }
        self.commits.store(0, Ordering::Relaxed);
        let (pool, running) = (pool.clone(), self.running.clone());
        tokio::spawn(async move {
            match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                // Closing the pool checkpoints what is left.
                Ok(_) | Err(sqlx::Error::PoolClosed) => {}
                Err(e) => tracing::warn!(error = %e, "background WAL checkpoint failed"),
            }
            running.store(false, Ordering::Release);
        });
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match (self.is_postgres(), self.read_only) {
            (true, true) => "Store(postgres, read replica)",
            (true, false) => "Store(postgres)",
            (false, _) => "Store(sqlite)",
        })
    }
}

/// A bound value.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(bool),
    Bytes(Option<Vec<u8>>),
}

impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(Some(v))
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_string()))
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

/// A statement with its arguments.
#[derive(Debug, Clone)]
pub(crate) struct Q {
    pub sql: String,
    pub args: Vec<Arg>,
}

pub(crate) fn q(sql: impl Into<String>) -> Q {
    Q {
        sql: sql.into(),
        args: Vec::new(),
    }
}

impl Q {
    pub fn bind(mut self, a: impl Into<Arg>) -> Self {
        self.args.push(a.into());
        self
    }

    pub fn push(&mut self, a: impl Into<Arg>) {
        self.args.push(a.into());
    }
}

macro_rules! bind_all {
    ($query:expr, $args:expr) => {{
        let mut qq = $query;
        for a in $args {
            qq = match a {
                Arg::Text(v) => qq.bind(v),
                Arg::Int(v) => qq.bind(v),
                Arg::Bool(v) => qq.bind(v),
                Arg::Bytes(v) => qq.bind(v),
            };
        }
        qq
    }};
}

/// A row from either backend, read by column name.
pub(crate) enum DbRow {
    Sqlite(SqliteRow),
    Pg(PgRow),
}

impl DbRow {
    pub fn str(&self, c: &str) -> Result<String> {
        Ok(match self {
            DbRow::Sqlite(r) => r.try_get(c)?,
            DbRow::Pg(r) => r.try_get(c)?,
        })
    }
    /// A program column read back as its program.
    pub fn program(&self, c: &str) -> Result<minzheng_domain::Program> {
        let s = self.str(c)?;
        s.parse()
            .map_err(|_| StoreError::Internal(format!("救助项目代码“{s}”无法识别")))
    }

    /// A `YYYY-MM` column read back as its month.
    pub fn month(&self, c: &str) -> Result<minzheng_domain::YearMonth> {
        let s = self.str(c)?;
        minzheng_domain::YearMonth::parse(&s)
            .map_err(|_| StoreError::Internal(format!("月份“{s}”无效")))
    }

    /// A coded column read back as its word.
    pub fn coded<T: minzheng_domain::Coded>(&self, c: &str) -> Result<T> {
        let v = self.str(c)?;
        T::all()
            .iter()
            .copied()
            .find(|x| x.code() == v)
            .ok_or_else(|| StoreError::Internal(format!("{}代码“{v}”无法识别", T::NAME)))
    }

    pub fn opt_str(&self, c: &str) -> Result<Option<String>> {
        Ok(match self {
            DbRow::Sqlite(r) => r.try_get(c)?,
            DbRow::Pg(r) => r.try_get(c)?,
        })
    }
    pub fn i64(&self, c: &str) -> Result<i64> {
        self.opt_i64(c)?
            .ok_or_else(|| StoreError::Internal(format!("列{c}为空")))
    }
    pub fn opt_i64(&self, c: &str) -> Result<Option<i64>> {
        Ok(match self {
            DbRow::Sqlite(r) => r.try_get(c)?,
            // PostgreSQL is strict about widths: accept int4 results (literals) too.
            DbRow::Pg(r) => match r.try_get::<Option<i64>, _>(c) {
                Ok(v) => v,
                Err(_) => r.try_get::<Option<i32>, _>(c)?.map(i64::from),
            },
        })
    }
    pub fn opt_bytes(&self, c: &str) -> Result<Option<Vec<u8>>> {
        Ok(match self {
            DbRow::Sqlite(r) => r.try_get(c)?,
            DbRow::Pg(r) => r.try_get(c)?,
        })
    }
    pub fn bool(&self, c: &str) -> Result<bool> {
        Ok(match self {
            DbRow::Sqlite(r) => r.try_get(c)?,
            DbRow::Pg(r) => r.try_get(c)?,
        })
    }
}

/// An open transaction on either backend. Outside this crate it can only be passed to the
/// store's functions and committed (through [`WriteTx`]); SQL is never built elsewhere.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

impl Tx {
    pub fn is_postgres(&self) -> bool {
        matches!(self, Tx::Pg(_))
    }

    pub(crate) async fn execute(&mut self, q: Q) -> Result<u64> {
        Ok(match self {
            Tx::Sqlite(tx) => bind_all!(sqlx::query(&q.sql), q.args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            Tx::Pg(tx) => bind_all!(sqlx::query(&q.sql), q.args)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    /// Inserts `rows` (each `width` values) with `head` (`INSERT INTO t (…)`) and `tail`
    /// (e.g. `ON CONFLICT DO NOTHING`); returns the rows inserted. On SQLite one prepared
    /// single-row statement is stepped per row on the connection's handle: a multi-row
    /// statement with thousands of numbered parameters costs time quadratic in their number
    /// there, in SQLite's parser and in sqlx's binding. On PostgreSQL the rows go in
    /// multi-row statements of up to 500 rows.
    pub(crate) async fn insert_rows(
        &mut self,
        head: &str,
        width: usize,
        tail: &str,
        rows: &[Vec<Arg>],
    ) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        if let Some(r) = rows.iter().find(|r| r.len() != width) {
            return Err(StoreError::Internal(format!(
                "参数个数不符：需要{width}个，提供了{}个",
                r.len()
            )));
        }
        match self {
            Tx::Sqlite(t) => {
                use crate::bulk::BulkVal;
                let mut handle = t.lock_handle().await?;
                let marks = vec!["?"; width].join(", ");
                let mut stmt = crate::bulk::Prepared::new(
                    &mut handle,
                    &format!("{head} VALUES ({marks}) {tail}"),
                )?;
                let mut vals: Vec<BulkVal<'_>> = Vec::with_capacity(width);
                let mut n = 0;
                for row in rows {
                    vals.clear();
                    for a in row {
                        vals.push(match a {
                            Arg::Text(Some(s)) => BulkVal::Text(s),
                            Arg::Int(Some(i)) => BulkVal::Int(*i),
                            Arg::Bool(b) => BulkVal::Int(i64::from(*b)),
                            Arg::Text(None) | Arg::Int(None) | Arg::Bytes(None) => BulkVal::Null,
                            Arg::Bytes(Some(_)) => {
                                return Err(StoreError::Internal("批量写入不支持二进制值".into()))
                            }
                        });
                    }
                    n += stmt.run(&vals)?;
                }
                Ok(n)
            }
            Tx::Pg(_) => {
                let mut n = 0;
                for chunk in rows.chunks(500) {
                    let values = (0..chunk.len())
                        .map(|i| {
                            let cols = (1..=width)
                                .map(|k| format!("${}", i * width + k))
                                .collect::<Vec<_>>()
                                .join(", ");
                            format!("({cols})")
                        })
                        .collect::<Vec<_>>()
                        .join(", ");
                    let mut query = q(format!("{head} VALUES {values} {tail}"));
                    for row in chunk {
                        for a in row {
                            query.push(a.clone());
                        }
                    }
                    n += self.execute(query).await?;
                }
                Ok(n)
            }
        }
    }

    pub(crate) async fn fetch_all(&mut self, q: Q) -> Result<Vec<DbRow>> {
        Ok(match self {
            Tx::Sqlite(tx) => bind_all!(sqlx::query(&q.sql), q.args)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(DbRow::Sqlite)
                .collect(),
            Tx::Pg(tx) => bind_all!(sqlx::query(&q.sql), q.args)
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(DbRow::Pg)
                .collect(),
        })
    }

    pub(crate) async fn fetch_optional(&mut self, q: Q) -> Result<Option<DbRow>> {
        Ok(match self {
            Tx::Sqlite(tx) => bind_all!(sqlx::query(&q.sql), q.args)
                .fetch_optional(&mut **tx)
                .await?
                .map(DbRow::Sqlite),
            Tx::Pg(tx) => bind_all!(sqlx::query(&q.sql), q.args)
                .fetch_optional(&mut **tx)
                .await?
                .map(DbRow::Pg),
        })
    }

    pub(crate) async fn fetch_one(&mut self, q: Q) -> Result<DbRow> {
        self.fetch_optional(q)
            .await?
            .ok_or(StoreError::Db(sqlx::Error::RowNotFound))
    }

    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Pg(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// Where a read runs: on the pool (its own snapshot) or inside an open transaction (which
/// sees the transaction's own writes). Read functions that serve both take
/// `impl Into<Conn>`, so a use case passes `&store` or `&mut tx` alike.
pub struct Conn<'a>(ConnInner<'a>);

enum ConnInner<'a> {
    Pool(&'a Store),
    Tx(&'a mut Tx),
}

impl<'a> From<&'a Store> for Conn<'a> {
    fn from(s: &'a Store) -> Self {
        Conn(ConnInner::Pool(s))
    }
}
impl<'a> From<&'a mut Tx> for Conn<'a> {
    fn from(t: &'a mut Tx) -> Self {
        Conn(ConnInner::Tx(t))
    }
}
impl<'a> From<&'a mut WriteTx> for Conn<'a> {
    fn from(t: &'a mut WriteTx) -> Self {
        Conn(ConnInner::Tx(&mut t.tx))
    }
}

impl Conn<'_> {
    pub fn is_postgres(&self) -> bool {
        match &self.0 {
            ConnInner::Pool(s) => s.is_postgres(),
            ConnInner::Tx(t) => t.is_postgres(),
        }
    }

    /// Whether the tables are distributed: the store's finding when it connected, or a
    /// transaction's own answer ([`crate::distribute::keeps_person_ids`]).
    pub(crate) async fn is_distributed(&mut self) -> Result<bool> {
        match &mut self.0 {
            ConnInner::Pool(s) => Ok(s.distributed),
            ConnInner::Tx(t) => crate::distribute::keeps_person_ids(t).await,
        }
    }

    pub(crate) async fn fetch_all(&mut self, q: Q) -> Result<Vec<DbRow>> {
        match &mut self.0 {
            ConnInner::Pool(s) => s.fetch_all(q).await,
            ConnInner::Tx(t) => t.fetch_all(q).await,
        }
    }

    pub(crate) async fn fetch_optional(&mut self, q: Q) -> Result<Option<DbRow>> {
        match &mut self.0 {
            ConnInner::Pool(s) => s.fetch_optional(q).await,
            ConnInner::Tx(t) => t.fetch_optional(q).await,
        }
    }

    pub(crate) async fn fetch_one(&mut self, q: Q) -> Result<DbRow> {
        match &mut self.0 {
            ConnInner::Pool(s) => s.fetch_one(q).await,
            ConnInner::Tx(t) => t.fetch_one(q).await,
        }
    }
}

/// A write transaction that also holds the in-process writer lock (SQLite). The use case
/// that begins it passes it to the store's functions and commits it; dropping it rolls back.
pub struct WriteTx {
    pub(crate) tx: Tx,
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    /// SQLite: the pool and checkpointer to tell after the commit.
    checkpoint: Option<(SqlitePool, Arc<Checkpointer>)>,
    large: bool,
}

impl std::ops::Deref for WriteTx {
    type Target = Tx;
    fn deref(&self) -> &Tx {
        &self.tx
    }
}
impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Tx {
        &mut self.tx
    }
}

impl WriteTx {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        if let Some((pool, c)) = &self.checkpoint {
            c.after_commit(pool, self.large);
        }
        Ok(())
    }

    /// Marks a transaction that writes many pages (a payroll month, a big import): on
    /// SQLite the WAL is checkpointed in the background right after its commit.
    pub fn mark_large(&mut self) {
        self.large = true;
    }
}

/// How the database URL was understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(String),
    Postgres(String),
}

impl DatabaseUrl {
    /// Accepts `postgres://…`, `postgresql://…`, `sqlite://PATH`, `sqlite:PATH` or a bare path.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        if url.is_empty() {
            return Err(StoreError::validation("数据库地址为空"));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_string()));
        }
        if let Some(rest) = url.strip_prefix("sqlite://") {
            return Ok(DatabaseUrl::Sqlite(rest.to_string()));
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            return Ok(DatabaseUrl::Sqlite(rest.to_string()));
        }
        if url.contains("://") {
            return Err(StoreError::validation(format!(
                "不支持的数据库地址“{url}”：请使用 sqlite://文件路径 或 postgres://…"
            )));
        }
        Ok(DatabaseUrl::Sqlite(url.to_string()))
    }
}

impl Store {
    /// Opens the database named by `url` (see [`DatabaseUrl::parse`]) without migrating.
    pub async fn connect(url: &str) -> Result<Store> {
        let pool = match DatabaseUrl::parse(url)? {
            DatabaseUrl::Sqlite(path) => {
                let opts = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                    .create_if_missing(true)
                    // New databases use 16 KiB pages: the million-row write paths (import,
                    // payroll generation) split and write a quarter as many pages as with
                    // 4 KiB. Measured on 1M persons (2 cores): import write phase 9.6 s ->
                    // 7.6 s, index builds 3.5-4.2 s -> 2.9 s; payroll generation 6.1 s -> 3.0 s.
                    // An existing database keeps its page size.
                    .page_size(SQLITE_PAGE_SIZE)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
                    // Each connection has its own page cache: the budget is for the pool.
                    .pragma(
                        "cache_size",
                        format!(
                            "-{}",
                            SQLITE_CACHE_BUDGET_KIB / SQLITE_MAX_CONNECTIONS as u64
                        ),
                    )
                    .pragma("temp_store", "memory")
                    // Read the file through a shared memory map (see SQLITE_MMAP_BYTES).
                    .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string())
                    // Checkpoints run in the background (see `Checkpointer`).
                    .pragma("wal_autocheckpoint", "0");
                let pool = SqlitePoolOptions::new()
                    .max_connections(SQLITE_MAX_CONNECTIONS)
                    .connect_with(opts)
                    .await?;
                Pool::Sqlite(pool)
            }
            DatabaseUrl::Postgres(url) => {
                let opts = PgConnectOptions::from_str(&url)?;
                let pool = PgPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await?;
                Pool::Postgres(pool)
            }
        };
        let mut store = Store {
            pool,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            checkpointer: Arc::new(Checkpointer::default()),
            read_only: false,
            distributed: false,
        };
        store.distributed = store.is_distributed().await?;
        Ok(store)
    }

    /// Opens a PostgreSQL read replica (a streaming standby of the primary) for the reads
    /// that may lag the primary a little: searches, statistics, exports, public pages.
    /// Never migrated and never written: every connection starts with
    /// `default_transaction_read_only = on`, so the server itself refuses a write even
    /// where the replica is not a standby, and [`Store::begin_write`] refuses before
    /// asking it. A SQLite address is refused: only a PostgreSQL server can be a replica.
    /// Whether the server is a standby is logged (see [`Store::in_recovery`]).
    pub async fn connect_replica(url: &str) -> Result<Store> {
        let url = match DatabaseUrl::parse(url)? {
            DatabaseUrl::Postgres(url) => url,
            DatabaseUrl::Sqlite(_) => {
                return Err(StoreError::validation(
                    "只读副本（--read-database-url）须为PostgreSQL地址 postgres://…：\
                     SQLite数据库不能作只读副本",
                ))
            }
        };
        let opts =
            PgConnectOptions::from_str(&url)?.options([("default_transaction_read_only", "on")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        let mut store = Store {
            pool: Pool::Postgres(pool),
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            checkpointer: Arc::new(Checkpointer::default()),
            read_only: true,
            distributed: false,
        };
        store.distributed = store.is_distributed().await?;
        if store.in_recovery().await? {
            tracing::info!("read replica connected: a standby in recovery, opened read-only");
        } else {
            tracing::warn!(
                "read replica connected, but the server is not a standby (pg_is_in_recovery() \
                 is false): it is used read-only all the same"
            );
        }
        Ok(store)
    }

    /// Whether this is a read replica ([`Store::connect_replica`]).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// PostgreSQL: whether the server is a standby replaying a primary's log
    /// (`pg_is_in_recovery()`). SQLite: never.
    pub async fn in_recovery(&self) -> Result<bool> {
        if !self.is_postgres() {
            return Ok(false);
        }
        self.fetch_one(q("SELECT pg_is_in_recovery() AS r"))
            .await?
            .bool("r")
    }

    /// Opens and migrates.
    pub async fn open(url: &str) -> Result<Store> {
        let store = Store::connect(url).await?;
        if store.migrate_and_distribute().await?.1 {
            // The database's settings for a cluster (ALTER DATABASE … SET) reach new
            // connections only.
            store.close().await;
            return Store::connect(url).await;
        }
        Ok(store)
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.pool, Pool::Postgres(_))
    }

    /// Closes the pool (lets SQLite checkpoint its WAL), after any background checkpoint
    /// in progress, so the file is free when this returns.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => {
                while self
                    .checkpointer
                    .running
                    .load(std::sync::atomic::Ordering::Acquire)
                {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                p.close().await
            }
            Pool::Postgres(p) => p.close().await,
        }
    }

    /// SQLite: copies the WAL back into the database file now, after any background
    /// checkpoint in progress (PASSIVE: frames a reader still needs stay). PostgreSQL: asks
    /// the server for a CHECKPOINT, which only a superuser or `pg_checkpoint` member may do;
    /// a refusal is not an error (the server checkpoints on its own schedule). Returns how
    /// long it took, waiting included. The benchmarks call it between their fixture and the
    /// timed run, so the fixture's writes are not flushed inside the measurement.
    pub async fn checkpoint(&self) -> Result<Duration> {
        let t = std::time::Instant::now();
        if let Pool::Postgres(p) = &self.pool {
            if let Err(e) = sqlx::query("CHECKPOINT").execute(p).await {
                tracing::debug!(error = %e, "CHECKPOINT refused");
            }
        }
        if let Pool::Sqlite(p) = &self.pool {
            // A background checkpoint in progress would make this one return at once.
            while self
                .checkpointer
                .running
                .load(std::sync::atomic::Ordering::Acquire)
            {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(p)
                .await?;
        }
        Ok(t.elapsed())
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.fetch_one(q("SELECT 1 AS one")).await.map(|_| ())
    }

    /// SQLite: the page cache (`PRAGMA cache_size`) of every connection of the pool, all
    /// held at once so each is read once; empty on PostgreSQL. A bulk write that enlarges
    /// its connection's cache must give it back before the connection returns to the pool
    /// (the memory budget is per pool, see `SQLITE_CACHE_BUDGET_KIB`); tests read it here.
    #[doc(hidden)]
    pub async fn pooled_cache_sizes(&self) -> Result<Vec<i64>> {
        let Pool::Sqlite(p) = &self.pool else {
            return Ok(Vec::new());
        };
        let mut held = Vec::new();
        let mut sizes = Vec::new();
        for _ in 0..p.options().get_max_connections() {
            let mut c = p.acquire().await?;
            sizes.push(
                sqlx::query_scalar::<_, i64>("PRAGMA cache_size")
                    .fetch_one(&mut *c)
                    .await?,
            );
            held.push(c);
        }
        Ok(sizes)
    }

    /// Begins a write transaction: IMMEDIATE on SQLite (so a read-then-write transaction
    /// can never fail to upgrade its lock), ordinary on PostgreSQL.
    pub async fn begin_write(&self) -> Result<WriteTx> {
        if self.read_only {
            return Err(StoreError::Internal(
                "只读副本不能写入：修改须在主数据库上进行".into(),
            ));
        }
        Ok(match &self.pool {
            Pool::Sqlite(p) => {
                let guard = self.write_lock.clone().lock_owned().await;
                WriteTx {
                    tx: Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?),
                    _guard: Some(guard),
                    checkpoint: Some((p.clone(), self.checkpointer.clone())),
                    large: false,
                }
            }
            Pool::Postgres(p) => WriteTx {
                tx: Tx::Pg(p.begin().await?),
                _guard: None,
                checkpoint: None,
                large: false,
            },
        })
    }

    pub(crate) async fn fetch_all(&self, q: Q) -> Result<Vec<DbRow>> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => bind_all!(sqlx::query(&q.sql), q.args)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(DbRow::Sqlite)
                .collect(),
            Pool::Postgres(p) => bind_all!(sqlx::query(&q.sql), q.args)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(DbRow::Pg)
                .collect(),
        })
    }

    /// A read that returns its first few rows in index order (the searches). On
    /// PostgreSQL the planner is kept to that plan: without parallel workers (it otherwise
    /// starts two and merges their output for a 20-row search of a million-row table, ~15
    /// ms of start-up against ~0.5 ms for the index scan alone) and without bitmap scans
    /// (which collect every match of a common surname and sort them, 150–280 ms, whenever
    /// the index's visibility map is not yet set after a large import).
    pub(crate) async fn fetch_first_rows(&self, q: Q) -> Result<Vec<DbRow>> {
        let Pool::Postgres(p) = &self.pool else {
            return self.fetch_all(q).await;
        };
        let mut tx = p.begin().await?;
        sqlx::query(
            "SELECT set_config('max_parallel_workers_per_gather', '0', true),
                    set_config('enable_bitmapscan', 'off', true)",
        )
        .execute(&mut *tx)
        .await?;
        let rows = bind_all!(sqlx::query(&q.sql), q.args)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows.into_iter().map(DbRow::Pg).collect())
    }

    pub(crate) async fn fetch_optional(&self, q: Q) -> Result<Option<DbRow>> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => bind_all!(sqlx::query(&q.sql), q.args)
                .fetch_optional(p)
                .await?
                .map(DbRow::Sqlite),
            Pool::Postgres(p) => bind_all!(sqlx::query(&q.sql), q.args)
                .fetch_optional(p)
                .await?
                .map(DbRow::Pg),
        })
    }

    pub(crate) async fn fetch_one(&self, q: Q) -> Result<DbRow> {
        self.fetch_optional(q)
            .await?
            .ok_or(StoreError::Db(sqlx::Error::RowNotFound))
    }

    /// Runs a statement with parameters outside any transaction (`VACUUM INTO`).
    pub(crate) async fn execute_with(&self, q: Q) -> Result<u64> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => bind_all!(sqlx::query(&q.sql), q.args)
                .execute(p)
                .await?
                .rows_affected(),
            Pool::Postgres(p) => bind_all!(sqlx::query(&q.sql), q.args)
                .execute(p)
                .await?
                .rows_affected(),
        })
    }

    /// Runs a statement that takes no parameters and is no change to the records (creating
    /// and dropping scratch databases, `VACUUM`) outside any transaction.
    pub(crate) async fn execute_unchecked(&self, sql: &str) -> Result<u64> {
        Ok(match &self.pool {
            Pool::Sqlite(p) => sqlx::query(sql).execute(p).await?.rows_affected(),
            Pool::Postgres(p) => sqlx::query(sql).execute(p).await?.rows_affected(),
        })
    }
}

/// SQLite connections in the pool. Reads run on them side by side (WAL); writes queue on
/// the in-process writer lock.
pub const SQLITE_MAX_CONNECTIONS: u32 = 4;

/// The SQLite page cache of the whole pool, in KiB: each of the
/// [`SQLITE_MAX_CONNECTIONS`] connections gets its share (32 MiB), so the cache stays
/// within 128 MiB however the load is spread. It was 64 MiB per connection (512 MiB for
/// the pool), and a server under read traffic grew to about 1 GB as every connection
/// filled its own copy of the same hot pages; the searches read a few pages per request
/// (`registry/search.rs`), and the operating system's file cache serves the rest. The
/// city-wide payroll generation raises its own connection's cache for the run and puts it
/// back (`payroll::generate`).
pub const SQLITE_CACHE_BUDGET_KIB: u64 = 128 * 1024;

/// How much of the SQLite database file connections read through a memory map. A search
/// visits a few dozen rows at random places of the million-row tables; through `read()`
/// each page the pool's cache does not hold is copied out of the operating system's file
/// cache (16 KiB per page), which took about a third of the server's time under search
/// load. Mapped, the pages are read where the file cache holds them, one copy shared by
/// every connection and by the kernel, which reclaims them like any cached file. The
/// mapped pages count in the process's resident size (as file pages, not its own
/// memory); the memory the server allocates itself is bounded by
/// [`SQLITE_CACHE_BUDGET_KIB`] plus request buffers.
pub const SQLITE_MMAP_BYTES: u64 = 4 << 30;

/// The page size new SQLite databases get (see [`Store::connect`]).
pub const SQLITE_PAGE_SIZE: u32 = 16384;

/// What [`compact_sqlite`] did: page size and file size before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    pub page_size_before: i64,
    pub page_size_after: i64,
    pub bytes_before: i64,
    pub bytes_after: i64,
}

/// Page size and file size of a SQLite database.
async fn file_size(conn: &mut sqlx::SqliteConnection) -> Result<(i64, i64)> {
    let page: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut *conn)
        .await?;
    let count: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut *conn)
        .await?;
    Ok((page, page * count))
}

/// Rewrites a SQLite database file (`VACUUM`) with [`SQLITE_PAGE_SIZE`]-byte pages: gives
/// back the space of deleted rows and moves a database made with SQLite's default 4 KiB pages
/// to the page size the million-row writes were measured with. WAL mode cannot change the
/// page size, so the file leaves WAL for the rewrite and returns to it. Needs the database to
/// itself: with the server running, SQLite refuses and this says so.
pub async fn compact_sqlite(url: &str) -> Result<Compacted> {
    use sqlx::Connection;
    let DatabaseUrl::Sqlite(path) = DatabaseUrl::parse(url)? else {
        return Err(StoreError::Conflict(
            "PostgreSQL由数据库服务器自行整理（autovacuum），无需此命令".into(),
        ));
    };
    if !std::path::Path::new(&path).exists() {
        return Err(StoreError::Conflict(format!("数据库文件{path}不存在")));
    }
    let opts = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
        .busy_timeout(Duration::from_secs(2));
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    let in_use = || {
        StoreError::Conflict("数据库正在被使用（例如网页服务正在运行）：请先停止服务再整理".into())
    };
    let busy = |e: sqlx::Error| match e {
        sqlx::Error::Database(d) if d.message().contains("locked") => in_use(),
        e => e.into(),
    };
    let (page_before, bytes_before) = file_size(&mut conn).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .map_err(busy)?;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode = DELETE")
        .fetch_one(&mut conn)
        .await
        .map_err(busy)?;
    if mode != "delete" {
        return Err(in_use());
    }
    let rewrite = async {
        sqlx::query(&format!("PRAGMA page_size = {SQLITE_PAGE_SIZE}"))
            .execute(&mut conn)
            .await?;
        sqlx::query("VACUUM").execute(&mut conn).await
    }
    .await;
    // Back to WAL whatever happened.
    sqlx::query("PRAGMA journal_mode = WAL")
        .execute(&mut conn)
        .await?;
    rewrite.map_err(busy)?;
    let (page_after, bytes_after) = file_size(&mut conn).await?;
    conn.close().await?;
    Ok(Compacted {
        page_size_before: page_before,
        page_size_after: page_after,
        bytes_before,
        bytes_after,
    })
}

/// Runs `f`, which blocks (stepping SQLite on a raw handle, joining threads), inside
/// `block_in_place` on tokio's multi-threaded runtime so the runtime's other tasks move on;
/// on a single-threaded runtime it simply runs.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    if multi_threaded() {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

/// Whether this runs on tokio's multi-threaded runtime (the server's and the command
/// line's), where a blocking section may drive futures with `block_on`.
pub(crate) fn multi_threaded() -> bool {
    tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://a.db").unwrap(),
            DatabaseUrl::Sqlite("a.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("./x.db").unwrap(),
            DatabaseUrl::Sqlite("./x.db".into())
        );
        assert!(matches!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap(),
            DatabaseUrl::Postgres(_)
        ));
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("  ").is_err());
    }

    #[tokio::test]
    async fn new_sqlite_databases_use_16k_pages_and_wal() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("p.db").display()))
            .await
            .unwrap();
        let Pool::Sqlite(pool) = &store.pool else {
            unreachable!()
        };
        let size: i64 = sqlx::query_scalar("PRAGMA page_size")
            .fetch_one(pool)
            .await
            .unwrap();
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!((size, mode.as_str()), (16384, "wal"));
        store.close().await;
    }

    /// A database made with SQLite's default 4 KiB pages comes out of `compact_sqlite`
    /// with 16 KiB pages, in WAL mode, with its rows and audit chain intact; while a pool
    /// holds it open the command refuses and changes nothing.
    #[tokio::test]
    async fn compact_moves_old_databases_to_16k_pages() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("old.db").display());
        {
            let opts = SqliteConnectOptions::from_str(&url)
                .unwrap()
                .create_if_missing(true)
                .page_size(4096)
                .journal_mode(SqliteJournalMode::Wal);
            let pool = SqlitePool::connect_with(opts).await.unwrap();
            pool.close().await;
        }
        let store = Store::open(&url).await.unwrap();
        // Some divisions (and their audit records) to carry through the rewrite.
        {
            use minzheng_domain::division::check_division_row;
            let rows: Vec<_> = [
                ("51", "四川省", None),
                ("5118", "雅安市", Some("51")),
                ("511802", "雨城区", Some("5118")),
            ]
            .into_iter()
            .map(|(c, n, p)| check_division_row(c, n, None, p).unwrap())
            .collect();
            let mut tx = store.begin_write().await.unwrap();
            crate::divisions::write_batch(&mut tx, &rows, "2026-11-26T05:30:00.000000Z")
                .await
                .unwrap();
            for code in ["51", "5118"] {
                crate::audit::append(
                    &mut tx,
                    &minzheng_domain::Actor::system("t"),
                    crate::audit::AuditEvent {
                        action: "divisions.import",
                        entity_type: "divisions",
                        entity_id: code,
                        scope_code: code,
                        before: None,
                        after: None,
                    },
                )
                .await
                .unwrap();
            }
            tx.commit().await.unwrap();
        }
        let count = |store: &Store| {
            let Pool::Sqlite(pool) = &store.pool else {
                unreachable!()
            };
            let pool = pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM divisions")
                    .fetch_one(&pool)
                    .await
                    .unwrap()
            }
        };
        let divisions = count(&store).await;
        assert!(divisions > 0);
        // In use: refused, nothing changed.
        let err = compact_sqlite(&url).await.unwrap_err();
        assert!(err.to_string().contains("请先停止服务"), "{err}");
        store.close().await;
        let done = compact_sqlite(&url).await.unwrap();
        assert_eq!((done.page_size_before, done.page_size_after), (4096, 16384));
        let store = Store::open(&url).await.unwrap();
        assert_eq!(count(&store).await, divisions);
        let Pool::Sqlite(pool) = &store.pool else {
            unreachable!()
        };
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let mut chain = minzheng_domain::audit::ChainCheck::default();
        for e in crate::audit::from_seq(&store, 1, 100).await.unwrap() {
            chain.push(&e).unwrap();
        }
        assert_eq!(chain.finish(None).records, 2);
        store.close().await;
        assert!(compact_sqlite("postgres://u@h/db").await.is_err());
    }

    /// Commits leave their pages in the WAL (no checkpoint inside COMMIT); a commit marked
    /// large is copied into the database file in the background right after, and so is the
    /// WAL after every `CHECKPOINT_EVERY` small commits. The database file only grows when
    /// a checkpoint copies pages into it, which is what this watches.
    #[tokio::test]
    async fn checkpoints_run_after_large_or_many_commits_not_inside_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let store = Store::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let file_len = || std::fs::metadata(&path).unwrap().len();
        let settle = || async {
            for _ in 0..500 {
                if !store
                    .checkpointer
                    .running
                    .load(std::sync::atomic::Ordering::Acquire)
                {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        let write = |large: bool, rows: i64| {
            let store = store.clone();
            async move {
                let mut tx = store.begin_write().await.unwrap();
                if large {
                    tx.mark_large();
                }
                tx.execute(q(
                    "CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v TEXT)",
                ))
                .await
                .unwrap();
                tx.execute(
                    q("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $1)
                       INSERT INTO t (v) SELECT printf('%0200d', i) FROM c")
                    .bind(rows),
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        };
        let empty = file_len();
        // A big unmarked write stays in the WAL: SQLite's own auto-checkpoint is off.
        write(false, 20_000).await;
        settle().await;
        assert_eq!(file_len(), empty, "no checkpoint inside an ordinary commit");
        // Marked large: copied into the file right after the commit.
        write(true, 20_000).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        settle().await;
        let after_large = file_len();
        assert!(after_large > empty + 4_000_000, "{empty} → {after_large}");
        // Small commits: nothing until the CHECKPOINT_EVERY-th.
        for _ in 0..CHECKPOINT_EVERY - 1 {
            write(false, 200).await;
        }
        settle().await;
        assert_eq!(file_len(), after_large);
        write(false, 200).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        settle().await;
        assert!(file_len() > after_large);
        store.close().await;
    }
}
