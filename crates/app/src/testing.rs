//! Test support for the suites of app, web and the command line (cargo feature `testing`,
//! never in the release binary): a fresh database per test — a temporary SQLite file, or a
//! new PostgreSQL database on the server named by `MINZHENG_TEST_POSTGRES_URL`, dropped
//! afterwards — opened as an [`App`].

use minzheng_store::testing::TestDb as StoreDb;

use crate::App;

pub use minzheng_store::testing::{in_ci, postgres_url, replica_url, AuditTamper};

pub use crate::payroll::testing as payroll;

pub mod hostile;

/// A fault a test makes one import meet, named by the import's file name (tests run side
/// by side, each with files of its own names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFault {
    /// The import panics while it reads the file.
    PanicWhileReading,
    /// The database refuses to store the job's full result (as SQLite refuses a value over
    /// a gigabyte, "string or blob too big").
    ResultRefused,
}

static IMPORT_FAULTS: std::sync::Mutex<Vec<(String, ImportFault)>> =
    std::sync::Mutex::new(Vec::new());

/// Makes the next imports of a file named `file_name` meet `fault`.
pub fn inject_import_fault(file_name: &str, fault: ImportFault) {
    IMPORT_FAULTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((file_name.to_string(), fault));
}

/// Whether an import of `file_name` is to meet `fault`.
pub(crate) fn import_fault(file_name: &str, fault: ImportFault) -> bool {
    IMPORT_FAULTS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .any(|(n, f)| n == file_name && *f == fault)
}

/// A fresh, migrated database and the application over it.
pub struct TestDb {
    pub url: String,
    pub app: App,
    db: StoreDb,
}

impl TestDb {
    /// A migrated, empty SQLite database in a temporary directory.
    pub async fn sqlite() -> TestDb {
        Self::wrap(StoreDb::sqlite().await)
    }

    /// A migrated, empty PostgreSQL database on the server named by
    /// `MINZHENG_TEST_POSTGRES_URL`. A test calling this is marked
    /// `#[minzheng_test_services::needs_postgres]`; run without the server it panics.
    pub async fn postgres() -> TestDb {
        Self::wrap(StoreDb::postgres().await)
    }

    /// A migrated, empty database of its own on the Citus cluster named by
    /// `MINZHENG_TEST_CITUS_URL`, its tables distributed. A test calling this is marked
    /// `#[minzheng_test_services::needs_citus]`.
    pub async fn citus() -> TestDb {
        Self::wrap(StoreDb::citus().await)
    }

    fn wrap(db: StoreDb) -> TestDb {
        TestDb {
            url: db.url.clone(),
            app: App::new(db.store.clone()),
            db,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.db.is_postgres()
    }

    /// Tampers with the audit log on purpose (bypassing every use case).
    pub async fn tamper_audit(&self, t: AuditTamper<'_>) {
        minzheng_store::testing::tamper_audit(&self.db.store, t)
            .await
            .expect("tamper with the audit log")
    }

    /// The application over this database that reads from the test replica
    /// ([`replica_url`]) where a read may lag, and writes to this database; `None` for
    /// SQLite. A test calling this is marked `#[minzheng_test_services::needs_replica]`;
    /// run without the replica it panics. The replica has replayed everything written so
    /// far when this returns.
    pub async fn with_replica(&self) -> Option<App> {
        let read_url = self.db.replica_url().await?;
        Some(
            App::open_with_replica(&self.url, &read_url)
                .await
                .expect("open the database with its read replica"),
        )
    }

    /// The URL of this database on the test replica, once it has replayed everything
    /// written so far (see [`TestDb::with_replica`]).
    pub async fn replica_url(&self) -> Option<String> {
        self.db.replica_url().await
    }

    /// Appends a correctly chained audit record dated `at` (a stored timestamp such as
    /// `2031-01-01T00:00:00.000000Z`), bypassing the clock.
    pub async fn append_audit_at(&self, at: &str, entity_id: &str) -> i64 {
        minzheng_store::testing::append_audit_at(&self.db.store, at, entity_id)
            .await
            .expect("append a dated audit record")
    }

    /// PostgreSQL: the partitions of `table` with their row counts (empty on SQLite).
    pub async fn partitions(&self, table: &str) -> Vec<(String, i64)> {
        minzheng_store::partitions::counts(&self.db.store, table)
            .await
            .expect("list partitions")
    }

    /// The store under the application, for a test that drives one of its guarded writes
    /// as a request that raced another meets it: the use case checked the record before
    /// it began writing, and the write checks again.
    pub fn store(&self) -> &minzheng_store::Store {
        &self.db.store
    }

    /// Closes the database and drops it (PostgreSQL).
    pub async fn cleanup(self) {
        self.db.cleanup().await
    }
}

/// Tampers with the audit log of the database at `url` (for a test that drives the
/// binary and then checks `minzheng audit verify`).
pub async fn tamper_audit_at(url: &str, t: AuditTamper<'_>) {
    let store = minzheng_store::Store::connect(url)
        .await
        .expect("open the database");
    minzheng_store::testing::tamper_audit(&store, t)
        .await
        .expect("tamper with the audit log");
    // Into the database file itself: a SQLite file is then copied alone (`restore` copies
    // the backup before it checks it), without a write-ahead log beside it.
    store.checkpoint().await.expect("checkpoint the change");
    store.close().await;
}

/// Waits until the application's read replica has replayed everything written to its
/// primary so far (at once when it has none).
pub async fn wait_for_replica(app: &App) {
    if app.has_read_replica() {
        minzheng_store::testing::wait_for_replay(app.store(), app.reader())
            .await
            .expect("the replica catches up with the primary");
    }
}

/// Stops the application's read replica from replaying the primary's log until
/// [`resume_replica`]: what is written meanwhile is on the primary only.
pub async fn pause_replica(app: &App) {
    minzheng_store::testing::pause_replay(app.reader())
        .await
        .expect("pause the replica's replay");
}

/// Lets the read replica replay again, and waits until it has caught up.
pub async fn resume_replica(app: &App) {
    minzheng_store::testing::resume_replay(app.reader())
        .await
        .expect("resume the replica's replay");
    wait_for_replica(app).await;
}

/// Tries a write on the connection the application reads from, bypassing every use case
/// and the store's own refusal: a read replica's server must refuse it.
pub async fn write_on_reader(app: &App) -> crate::Result<()> {
    minzheng_store::testing::raw_write(app.reader()).await?;
    Ok(())
}

/// Tries to begin a write transaction on the store the application reads from.
pub async fn begin_write_on_reader(app: &App) -> crate::Result<()> {
    app.reader().begin_write().await?;
    Ok(())
}

/// The 测算 read `part` households at a time: a small city in many parts, read by as
/// many threads as the what-if uses.
pub async fn whatif_in_parts(
    app: &App,
    actor: &minzheng_domain::Actor,
    req: &minzheng_domain::whatif::WhatIfRequest,
    part: i64,
) -> crate::Result<crate::whatif::WhatIf> {
    app.params().whatif_in_parts(actor, req, part).await
}
