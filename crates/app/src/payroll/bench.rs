//! The payroll benchmark's data (`minzheng bench payroll`, in the release binary too).

use crate::{App, Result};

/// The payroll benchmark's data over [`App`]: not a use case, so no actor.
pub struct PayrollBench<'a> {
    app: &'a App,
}

impl App {
    pub fn payroll_bench(&self) -> PayrollBench<'_> {
        PayrollBench { app: self }
    }
}

impl PayrollBench<'_> {
    /// `n` households with one active monthly enrolment each from `start_month`, spread over
    /// the villages under `within` and four programs, with ID numbers scattered as real
    /// ones are. Returns how many enrolments were added.
    pub async fn enrolments(&self, n: i64, within: &str, start_month: &str) -> Result<i64> {
        Ok(minzheng_store::payroll::bench::bulk_enrolments(
            self.app.store(),
            n,
            within,
            start_month,
        )
        .await?)
    }

    /// The floor a generation is compared with: `rows` lines shaped like generated ones
    /// over `batches` batches of `month`, inserted as plainly as the backend allows, on a
    /// fresh migrated database. Returns the seconds the inserts took.
    pub async fn floor(&self, rows: i64, month: &str, batches: i64) -> Result<f64> {
        Ok(minzheng_store::payroll::bench::floor(self.app.store(), rows, month, batches).await?)
    }

    /// Copies SQLite's write-ahead log into the database file (as months of use would
    /// have); returns how long it took.
    pub async fn checkpoint(&self) -> Result<std::time::Duration> {
        Ok(self.app.store().checkpoint().await?)
    }
}
