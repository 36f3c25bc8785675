//! Test support for the suites of app, web and the command line (cargo feature `testing`,
//! never in the release binary): a fresh database per test — a temporary SQLite file, or a
//! new PostgreSQL database on the server named by `MINZHENG_TEST_POSTGRES_URL`, dropped
//! afterwards — opened as an [`App`].

use minzheng_store::testing::TestDb as StoreDb;

use crate::App;

pub use minzheng_store::testing::{in_ci, postgres_url, AuditTamper};

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

    /// A migrated, empty PostgreSQL database, or `None` when no server is configured
    /// (under `CI=true` its absence fails the test instead).
    pub async fn postgres() -> Option<TestDb> {
        StoreDb::postgres().await.map(Self::wrap)
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
    store.close().await;
}
