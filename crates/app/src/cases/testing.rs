//! Test support (cargo feature `testing`): moving a case's dates back, so a suite reaches
//! the end of a notice period or a statutory limit without waiting.

use chrono::NaiveDate;
use minzheng_store::cases::testing as store;

use crate::testing::TestDb;
use crate::App;

/// Pretends the case's notice was posted on `on`.
pub async fn set_notice_posted_on(app: &App, case_id: i64, on: NaiveDate) {
    store::set_notice_posted_on(app.store(), case_id, on)
        .await
        .expect("move the notice date");
}

/// Pretends every clock of the case started on `on`.
pub async fn set_clocks_started_on(app: &App, case_id: i64, on: NaiveDate) {
    store::set_clocks_started_on(app.store(), case_id, on)
        .await
        .expect("move the clocks");
}

impl TestDb {
    /// Pretends the case's notice was posted on `on`.
    pub async fn set_case_notice_posted_on(&self, case_id: i64, on: NaiveDate) {
        set_notice_posted_on(&self.app, case_id, on).await
    }

    /// Pretends every clock of the case started on `on`.
    pub async fn set_case_clocks_started_on(&self, case_id: i64, on: NaiveDate) {
        set_clocks_started_on(&self.app, case_id, on).await
    }
}
