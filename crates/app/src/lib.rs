//! minzheng-app — the use cases: each action a user or the system takes, from the signed-in
//! actor to the committed transaction. It never speaks HTTP and never writes SQL.
//!
//! A use case takes the actor and typed input, checks the permission (`authz`, the one
//! table of who may do what), asks the pure `minzheng-domain` for every decision, and asks
//! `minzheng-store` to read and write — all of a change, with its audit record, in one
//! transaction. One module per duty (`registry`, `cases`, `payroll`, `standards` …), each
//! reached through a handle on [`App`] (`app.payroll().sign_off(&actor, …)`). File formats
//! (ledger, bank and return files, every spreadsheet the pages offer) live in `formats`;
//! background jobs in `jobs`. The web server and the command line both call this crate and
//! nothing below it.

pub mod attachments;
pub mod audit;
pub mod authz;
pub mod backup;
pub mod bank_files;
pub mod bench;
pub mod cases;
pub mod checks;
pub mod dashboard;
pub mod demo;
pub mod divisions;
mod error;
pub mod formats;
pub mod funerals;
#[cfg(all(test, feature = "testing"))]
mod fuzz;
pub mod jobs;
pub mod lists;
pub mod notices;
pub mod offices;
pub mod params;
pub mod payroll;
pub mod registry;
pub mod relatives;
pub mod repricing;
pub mod standards;
pub mod stats;
#[cfg(feature = "testing")]
pub mod testing;
pub mod users;
pub mod whatif;

use std::sync::Arc;

use minzheng_domain::WorkCalendar;
use minzheng_store::{DatabaseUrl, Store};

pub use authz::{Authorize, Permission};
pub use error::{Error, Result};
/// What [`App::compact_sqlite`] did: page size and file size before and after.
pub use minzheng_store::{Compacted, Deployment};

/// The application: the database and the settings every use case shares. Cheap to clone.
#[derive(Clone)]
pub struct App {
    /// The primary: every write, and every read that must see the writes just made.
    store: Store,
    /// A PostgreSQL read replica for the reads that may lag a little (searches, lists,
    /// statistics, exports, public pages), when one is configured; see [`App::reader`].
    replica: Option<Store>,
    calendar: Arc<WorkCalendar>,
    /// Live progress of the jobs this process runs.
    live_jobs: Arc<jobs::LiveJobs>,
    /// Failed sign-ins per client address.
    signin_throttle: Arc<users::SigninThrottle>,
    /// What a file from outside may make the readers do (`formats::limits`).
    limits: formats::limits::InputLimits,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.replica {
            Some(r) => write!(f, "App({:?}, reads {:?})", self.store, r),
            None => write!(f, "App({:?})", self.store),
        }
    }
}

impl App {
    /// Opens the database named by `url` (`sqlite://PATH`, a bare path or
    /// `postgres://…`) and applies its migrations.
    pub async fn open(url: &str) -> Result<App> {
        Ok(App::new(Store::open(url).await?))
    }

    /// Opens the database without migrating it (`minzheng migrate` does that itself).
    pub async fn connect(url: &str) -> Result<App> {
        Ok(App::new(Store::connect(url).await?))
    }

    /// Opens the primary named by `url` (migrating it) and the PostgreSQL read replica
    /// named by `read_url` (`serve --read-database-url`), which is never migrated and
    /// never written. The replica must be PostgreSQL, and so must the primary: a SQLite
    /// address on either side is refused before anything is opened.
    pub async fn open_with_replica(url: &str, read_url: &str) -> Result<App> {
        if !matches!(DatabaseUrl::parse(read_url)?, DatabaseUrl::Postgres(_)) {
            return Err(Error::validation(REPLICA_NOT_POSTGRES));
        }
        if !matches!(DatabaseUrl::parse(url)?, DatabaseUrl::Postgres(_)) {
            return Err(Error::validation(
                "只读副本只能与PostgreSQL主数据库同用：当前主数据库是SQLite",
            ));
        }
        let app = App::open(url).await?;
        match Store::connect_replica(read_url).await {
            Ok(replica) => Ok(app.with_reader(replica)),
            Err(e) => {
                app.close().await;
                Err(e.into())
            }
        }
    }

    pub(crate) fn new(store: Store) -> App {
        App {
            store,
            replica: None,
            calendar: Arc::new(WorkCalendar::official()),
            live_jobs: Arc::default(),
            signin_throttle: Arc::default(),
            limits: formats::limits::InputLimits::default(),
        }
    }

    /// The application with other input limits than the defaults.
    pub fn with_limits(mut self, limits: formats::limits::InputLimits) -> App {
        self.limits = limits;
        self
    }

    /// The limits every reader of outside files checks its input against.
    pub fn limits(&self) -> &formats::limits::InputLimits {
        &self.limits
    }

    /// The same application with another working-day calendar (an official schedule
    /// newer than the built-in one).
    pub fn with_calendar(mut self, calendar: WorkCalendar) -> App {
        self.calendar = Arc::new(calendar);
        self
    }

    /// The working-day calendar that case deadlines are counted in.
    pub fn calendar(&self) -> &WorkCalendar {
        &self.calendar
    }

    /// Applies the migrations not yet applied; returns how many ran.
    pub async fn migrate(&self) -> Result<usize> {
        Ok(self.store.migrate().await?)
    }

    /// How the database is deployed: one server, or a Citus cluster (distributed by county).
    pub async fn deployment(&self) -> Result<Deployment> {
        Ok(self.store.deployment().await?)
    }

    /// Refuses, with what to do, a database that cannot be distributed (no citus
    /// extension): `minzheng migrate --distributed`.
    pub async fn require_distributable(&self) -> Result<()> {
        if self.store.deployment().await? == Deployment::Single {
            return Err(minzheng_store::StoreError::validation(minzheng_store::NOT_CITUS).into());
        }
        Ok(())
    }

    /// Rewrites a SQLite database file with the page size the million-row writes were
    /// measured with, giving back deleted rows' space (`minzheng compact`). Needs the file
    /// to itself: with the server running it refuses and says so.
    pub async fn compact_sqlite(url: &str) -> Result<Compacted> {
        Ok(minzheng_store::compact_sqlite(url).await?)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }

    pub fn is_postgres(&self) -> bool {
        self.store.is_postgres()
    }

    /// Whether a read replica serves the reads that may lag ([`App::open_with_replica`]).
    pub fn has_read_replica(&self) -> bool {
        self.replica.is_some()
    }

    /// Whether the read replica is a standby replaying the primary's log
    /// (`pg_is_in_recovery()`); `None` without a replica.
    pub async fn read_replica_in_recovery(&self) -> Result<Option<bool>> {
        Ok(match &self.replica {
            Some(r) => Some(r.in_recovery().await?),
            None => None,
        })
    }

    /// Closes the database (SQLite copies its write-ahead log back into the file) and the
    /// read replica's connections.
    pub async fn close(&self) {
        self.store.close().await;
        if let Some(r) = &self.replica {
            r.close().await;
        }
    }

    /// The same application reading from `replica` where a read may lag.
    pub(crate) fn with_reader(mut self, replica: Store) -> App {
        self.replica = Some(replica);
        self
    }

    /// The primary: every write, and every read a write depends on or that a page shown
    /// right after a change must answer with that change.
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Where reads that may lag the primary a little go: the read replica when one is
    /// configured, else the primary. The searches and household lists, the statistics
    /// (the dashboard, the funds ledger), the exports and the public notice boards read
    /// here — never a read inside a use case that then writes on what it read.
    pub(crate) fn reader(&self) -> &Store {
        self.replica.as_ref().unwrap_or(&self.store)
    }
}

/// The refusal of a read replica address that is not PostgreSQL.
const REPLICA_NOT_POSTGRES: &str =
    "只读副本（--read-database-url）须为PostgreSQL地址 postgres://…：SQLite数据库不能作只读副本";

#[cfg(test)]
mod tests {
    use super::*;

    /// A SQLite address is refused as a read replica (and as the primary of one) with a
    /// Chinese message, before any database is opened or created.
    #[tokio::test]
    async fn a_read_replica_must_be_postgres() {
        let dir = std::env::temp_dir().join(format!("minzheng-replica-{}", std::process::id()));
        let file = dir.join("never.db");
        let sqlite = format!("sqlite://{}", file.display());
        let e = App::open_with_replica("postgres://u@127.0.0.1:1/x", &sqlite)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("SQLite数据库不能作只读副本"), "{e}");
        let e = App::open_with_replica(&sqlite, "postgres://u@127.0.0.1:1/x")
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("只能与PostgreSQL主数据库同用"),
            "{e}"
        );
        assert!(!file.exists(), "nothing was created");
        let e = Store::connect_replica("./x.db").await.unwrap_err();
        assert!(e.to_string().contains("SQLite数据库不能作只读副本"), "{e}");
    }
}
