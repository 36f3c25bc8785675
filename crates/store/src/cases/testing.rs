//! Test support (cargo feature `testing`): moving a case's dates back so a suite can
//! reach the end of a notice period or a statutory limit without waiting.

use chrono::NaiveDate;

use crate::db::{q, Store};
use crate::error::Result;

/// Sets the date the case's notice was posted.
pub async fn set_notice_posted_on(store: &Store, case_id: i64, on: NaiveDate) -> Result<()> {
    let mut tx = store.begin_write().await?;
    tx.execute(
        q("UPDATE cases SET notice_posted_on = $1 WHERE id = $2")
            .bind(on.to_string())
            .bind(case_id),
    )
    .await?;
    tx.commit().await
}

/// Sets the start date of every clock of the case.
pub async fn set_clocks_started_on(store: &Store, case_id: i64, on: NaiveDate) -> Result<()> {
    let mut tx = store.begin_write().await?;
    tx.execute(
        q("UPDATE case_clocks SET started_on = $1 WHERE case_id = $2")
            .bind(on.to_string())
            .bind(case_id),
    )
    .await?;
    tx.commit().await
}
