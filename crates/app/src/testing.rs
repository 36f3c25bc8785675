//! Test support for the suites of app, web and the command line (cargo feature `testing`,
//! never in the release binary): a fresh database per test — a temporary SQLite file, or a
//! new PostgreSQL database on the server named by `MINZHENG_TEST_POSTGRES_URL`, dropped
//! afterwards — opened as an [`App`].

use minzheng_store::testing::TestDb as StoreDb;

use crate::App;

pub use minzheng_store::testing::{postgres_url, AuditTamper};

pub use crate::payroll::testing as payroll;

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
