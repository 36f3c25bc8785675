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
pub mod standards;
#[cfg(feature = "testing")]
pub mod testing;
pub mod users;

use std::sync::Arc;

use minzheng_domain::WorkCalendar;
use minzheng_store::Store;

pub use authz::{Authorize, Permission};
pub use error::{AppResult, Error};
/// What [`App::compact_sqlite`] did: page size and file size before and after.
pub use minzheng_store::Compacted;

/// The application: the database and the settings every use case shares. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Store,
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
        write!(f, "App({:?})", self.store)
    }
}

impl App {
    /// Opens the database named by `url` (`sqlite://PATH`, a bare path or
    /// `postgres://…`) and applies its migrations.
    pub async fn open(url: &str) -> AppResult<App> {
        Ok(App::new(Store::open(url).await?))
    }

    /// Opens the database without migrating it (`minzheng migrate` does that itself).
    pub async fn connect(url: &str) -> AppResult<App> {
        Ok(App::new(Store::connect(url).await?))
    }

    pub(crate) fn new(store: Store) -> App {
        App {
            store,
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
    pub async fn migrate(&self) -> AppResult<usize> {
        Ok(self.store.migrate().await?)
    }

    /// Rewrites a SQLite database file with the page size the million-row writes were
    /// measured with, giving back deleted rows' space (`minzheng compact`). Needs the file
    /// to itself: with the server running it refuses and says so.
    pub async fn compact_sqlite(url: &str) -> AppResult<Compacted> {
        Ok(minzheng_store::compact_sqlite(url).await?)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> AppResult<()> {
        Ok(self.store.ping().await?)
    }

    pub fn is_postgres(&self) -> bool {
        self.store.is_postgres()
    }

    /// Closes the database (SQLite copies its write-ahead log back into the file).
    pub async fn close(&self) {
        self.store.close().await
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }
}
