//! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL database created
//! on the server named by `MINZHENG_TEST_POSTGRES_URL` and dropped afterwards; and that
//! database as a streaming replica of the server serves it, when
//! `MINZHENG_TEST_POSTGRES_REPLICA_URL` names one (`scripts/pg-replica`).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::db::Pool;
use crate::Store;

/// A fresh database that cleans up after itself when [`TestDb::cleanup`] is awaited.
pub struct TestDb {
    pub url: String,
    pub store: Store,
    admin_url: Option<String>,
    db_name: Option<String>,
    _dir: Option<tempfile_dir::TempDir>,
}

mod tempfile_dir {
    /// A directory removed on drop (a few lines instead of a dependency).
    pub struct TempDir(pub std::path::PathBuf);
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique() -> String {
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_micros() % 1_000_000_000
    )
}

/// Whether the tests run under CI: `CI` set to anything but empty, `0` or `false` (CI
/// systems set `true` or `1`). There a missing test service is a failure, never a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| {
        let v = v.trim();
        !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false")
    })
}

/// The PostgreSQL server for tests (`MINZHENG_TEST_POSTGRES_URL`). A test that needs it is
/// marked `#[minzheng_test_services::needs_postgres]`: built ignored, with the reason, where
/// the variable is unset, so it never reports ok without having run. When it runs without
/// the server anyway — under CI, or asked for with `--include-ignored` — this panics.
pub fn postgres_url() -> String {
    required_url("MINZHENG_TEST_POSTGRES_URL", "PostgreSQL 测试")
}

/// The coordinator of the Citus cluster for tests (`MINZHENG_TEST_CITUS_URL`, e.g.
/// `postgres://postgres@127.0.0.1:5440/postgres`). The tests that need it are marked
/// `#[minzheng_test_services::needs_citus]`; like [`postgres_url`], this panics when one
/// runs without it.
pub fn citus_url() -> String {
    required_url("MINZHENG_TEST_CITUS_URL", "Citus 集群测试")
}

/// The streaming replica of the test server (`MINZHENG_TEST_POSTGRES_REPLICA_URL`, e.g.
/// `postgres://postgres@127.0.0.1:5433/test`; `scripts/pg-replica start` makes one). The
/// tests that need it are marked `#[minzheng_test_services::needs_replica]`; like
/// [`postgres_url`], this panics when one runs without it.
pub fn replica_url() -> String {
    required_url("MINZHENG_TEST_POSTGRES_REPLICA_URL", "只读副本测试")
}

fn required_url(var: &str, tests: &str) -> String {
    match std::env::var(var) {
        Ok(u) if !u.trim().is_empty() => u,
        _ if in_ci() => panic!("CI 已设置但未设置 {var}：{tests}在 CI 中必须运行"),
        _ => panic!(
            "未设置 {var}：{tests}需要它才能运行（未设置时构建的 cargo test 把它们列为 ignored；\
             设置后重新运行 cargo test）"
        ),
    }
}

/// How long a test waits for the replica to replay what the primary wrote.
const REPLAY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Waits until `replica` (a streaming standby of `primary`'s server) has replayed
/// everything `primary` has written so far: the primary's WAL position now
/// (`pg_current_wal_lsn()`), compared with the standby's `pg_last_wal_replay_lsn()`.
pub async fn wait_for_replay(primary: &Store, replica: &Store) -> crate::Result<()> {
    use crate::db::q;
    let lsn = primary
        .fetch_one(q("SELECT pg_current_wal_lsn()::text AS lsn"))
        .await?
        .str("lsn")?;
    let started = std::time::Instant::now();
    loop {
        let done = replica
            .fetch_one(
                q("SELECT COALESCE(pg_last_wal_replay_lsn() >= $1::pg_lsn, FALSE) AS done")
                    .bind(&lsn),
            )
            .await?
            .bool("done")?;
        if done {
            return Ok(());
        }
        if started.elapsed() > REPLAY_TIMEOUT {
            return Err(crate::StoreError::Internal(format!(
                "只读副本在{}秒内未回放到主库的位置{lsn}",
                REPLAY_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Pauses the replay of the primary's log on a standby (`pg_wal_replay_pause()`) and
/// waits until it has stopped: what the primary writes next stays unseen there until
/// [`resume_replay`].
pub async fn pause_replay(replica: &Store) -> crate::Result<()> {
    use crate::db::q;
    replica
        .execute_unchecked("SELECT pg_wal_replay_pause()")
        .await?;
    for _ in 0..500 {
        let state = replica
            .fetch_one(q("SELECT pg_get_wal_replay_pause_state() AS s"))
            .await?
            .str("s")?;
        if state == "paused" {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Err(crate::StoreError::Internal("只读副本未能暂停回放".into()))
}

/// Resumes the replay [`pause_replay`] stopped.
pub async fn resume_replay(replica: &Store) -> crate::Result<()> {
    replica
        .execute_unchecked("SELECT pg_wal_replay_resume()")
        .await
        .map(|_| ())
}

/// Runs a write on `store`'s own connection, past [`Store::begin_write`]'s refusal: on a
/// read replica the server itself must refuse it.
pub async fn raw_write(store: &Store) -> crate::Result<u64> {
    store
        .execute_unchecked("CREATE TABLE replica_write_probe (x INTEGER)")
        .await
}

pub use crate::admin::with_db_name;

impl TestDb {
    /// A migrated, empty SQLite database in a temporary directory.
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("minzheng-test-{}", unique()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        let url = format!("sqlite://{}", dir.join("test.db").display());
        let store = Store::open(&url).await.expect("open sqlite");
        TestDb {
            url,
            store,
            admin_url: None,
            db_name: None,
            _dir: Some(tempfile_dir::TempDir(dir)),
        }
    }

    /// A migrated, empty PostgreSQL database on the server of [`postgres_url`] (which
    /// panics when none is configured).
    pub async fn postgres() -> TestDb {
        Self::on_server(postgres_url()).await
    }

    /// A migrated, empty database of its own on the Citus cluster of [`citus_url`] (made
    /// on every node, its tables distributed), which panics when none is configured.
    pub async fn citus() -> TestDb {
        Self::on_server(citus_url()).await
    }

    async fn on_server(admin: String) -> TestDb {
        let name = format!("mz_test_{}", unique());
        let url = crate::admin::create_database(&admin, &name)
            .await
            .expect("create test database");
        // Four shards per table on a cluster: two per worker, so a county's rows and a
        // city-wide query still cross nodes, for a fraction of the 32 shards' setup.
        crate::admin::set_shard_count(&admin, &name, 4)
            .await
            .expect("set the test database's shard count");
        let store = Store::open(&url).await.expect("open postgres");
        TestDb {
            url,
            store,
            admin_url: Some(admin),
            db_name: Some(name),
            _dir: None,
        }
    }

    /// The URL of this PostgreSQL database on the test replica ([`replica_url`]), once
    /// the replica has replayed everything written so far (the database's creation
    /// included); `None` for SQLite. Panics when no replica is configured (see
    /// [`replica_url`]).
    pub async fn replica_url(&self) -> Option<String> {
        let name = self.db_name.as_ref()?;
        let admin_url = replica_url();
        let admin = Store::connect_replica(&admin_url)
            .await
            .expect("connect to the test replica");
        wait_for_replay(&self.store, &admin)
            .await
            .expect("the replica replays the test database");
        admin.close().await;
        Some(with_db_name(&admin_url, name))
    }

    /// Closes the pool and drops the PostgreSQL database.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let (Some(admin), Some(name)) = (&self.admin_url, &self.db_name) {
            let _ = crate::admin::drop_database(admin, name).await;
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.store.pool, Pool::Postgres(_))
    }
}

/// Writes the demo city's divisions (雅安市, `app/data/demo-yaan-5118.csv`): the villages the
/// store suites register households in.
pub async fn seed_demo_divisions(store: &Store) {
    let rows: Vec<_> = include_str!("../../app/data/demo-yaan-5118.csv")
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            minzheng_domain::division::check_division_row(f[0], f[1], None, Some(f[3]))
                .expect("a valid demo division")
        })
        .collect();
    let mut tx = store.begin_write().await.expect("begin");
    crate::divisions::write_batch(&mut tx, &rows, "2026-11-26T05:30:00.000000Z")
        .await
        .expect("write the demo divisions");
    tx.commit().await.expect("commit");
}

/// A change to the audit log made on purpose, to prove the chain check finds it.
#[derive(Debug, Clone, Copy)]
pub enum AuditTamper<'a> {
    /// Replaces a record's `after_json`.
    SetAfter(i64, &'a str),
    /// Replaces a record's stored hash.
    SetHash(i64, &'a str),
    /// Replaces a record's actor name.
    SetActor(i64, &'a str),
    /// Deletes a record.
    Delete(i64),
}

/// Tampers with the audit log, bypassing the audited API.
pub async fn tamper_audit(store: &Store, t: AuditTamper<'_>) -> crate::Result<()> {
    use crate::db::q;
    let query = match t {
        AuditTamper::SetAfter(seq, v) => q("UPDATE audit_log SET after_json = $1 WHERE seq = $2")
            .bind(v)
            .bind(seq),
        AuditTamper::SetHash(seq, v) => q("UPDATE audit_log SET hash = $1 WHERE seq = $2")
            .bind(v)
            .bind(seq),
        AuditTamper::SetActor(seq, v) => q("UPDATE audit_log SET actor = $1 WHERE seq = $2")
            .bind(v)
            .bind(seq),
        AuditTamper::Delete(seq) => q("DELETE FROM audit_log WHERE seq = $1").bind(seq),
    };
    let mut tx = store.begin_write().await?;
    tx.execute(query).await?;
    tx.commit().await
}

/// Appends a correctly chained audit record dated `at` (a stored timestamp), bypassing the
/// clock: the chain across the audit log's yearly partitions is tested with it.
pub async fn append_audit_at(store: &Store, at: &str, entity_id: &str) -> crate::Result<i64> {
    let mut tx = store.begin_write().await?;
    let seq = crate::audit::append_at(
        &mut tx,
        &minzheng_domain::Actor::system("test"),
        crate::AuditEvent {
            action: "test.dated",
            entity_type: "test",
            entity_id,
            scope_code: "5118",
            before: None,
            after: None,
        },
        at.to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(seq)
}
