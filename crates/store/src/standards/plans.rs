//! Construction plans (建设方案): one per office, submitted by the township and reviewed by
//! the city.

use minzheng_domain::standards::{ConstructionPlan, PlanEntry, PlanStatus};

use super::{coded, plan};
use crate::db::{q, Conn, Store, Tx};
use crate::error::Result;

pub async fn get(store: &Store, township_code: &str) -> Result<Option<ConstructionPlan>> {
    store
        .fetch_optional(
            q("SELECT * FROM construction_plans WHERE township_code = $1").bind(township_code),
        )
        .await?
        .map(|r| plan(&r))
        .transpose()
}

/// The plan's status, if the office has one.
pub async fn status<'c>(
    db: impl Into<Conn<'c>>,
    township_code: &str,
) -> Result<Option<PlanStatus>> {
    db.into()
        .fetch_optional(
            q("SELECT status FROM construction_plans WHERE township_code = $1").bind(township_code),
        )
        .await?
        .map(|r| coded(&r, "status"))
        .transpose()
}

/// Replaces the office's plan (a returned one) with a newly submitted one.
pub async fn submit(tx: &mut Tx, township_code: &str, replaces: bool, p: &PlanEntry) -> Result<()> {
    if replaces {
        tx.execute(
            q("DELETE FROM construction_plans WHERE township_code = $1").bind(township_code),
        )
        .await?;
    }
    tx.execute(
        q("INSERT INTO construction_plans (township_code, county_code, items, budget_fen, timeline, status, submitted_at)
               VALUES ($1, substr($1, 1, 6), $2, $3, $4, 'submitted', $5)")
        .bind(township_code)
        .bind(&p.items)
        .bind(p.budget.0)
        .bind(&p.timeline)
        .bind(crate::timestamp(chrono::Utc::now())),
    )
    .await?;
    Ok(())
}

/// Records the review of a plan that is still submitted. Conditional, so a concurrent
/// review cannot slip between: `false` when another review came first.
pub async fn review(
    tx: &mut Tx,
    township_code: &str,
    to: PlanStatus,
    reviewed_by: &str,
    note: &str,
) -> Result<bool> {
    let n = tx
        .execute(
            q("UPDATE construction_plans SET status = $1, reviewed_by = $2, reviewed_at = $3, review_note = $4
                   WHERE township_code = $5 AND status = 'submitted'")
            .bind(to.as_str())
            .bind(reviewed_by)
            .bind(crate::timestamp(chrono::Utc::now()))
            .bind(note)
            .bind(township_code),
        )
        .await?;
    Ok(n > 0)
}
