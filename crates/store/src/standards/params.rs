//! The city's parameters (规范化建设参数) by effective date, and the plan deadline.

use chrono::NaiveDate;
use minzheng_domain::standards::{StandardParams, Thresholds};

use crate::db::{q, Store, Tx};
use crate::error::{Result, StoreError};

/// Every set of parameters recorded, oldest first, and the plan deadline (the latest
/// recorded with any). Empty when none were ever set.
pub async fn get(store: &Store) -> Result<StandardParams> {
    let rows = store
        .fetch_all(q(
            "SELECT effective_from, params_json, plan_deadline FROM std_params ORDER BY effective_from",
        ))
        .await?;
    let mut thresholds = Vec::new();
    let mut deadline = None;
    for r in &rows {
        let t: Thresholds = serde_json::from_str(&r.str("params_json")?)
            .map_err(|e| StoreError::Internal(format!("参数记录无法解析：{e}")))?;
        thresholds.push(t);
        if let Some(d) = r.opt_str("plan_deadline")? {
            deadline = NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok();
        }
    }
    Ok(StandardParams {
        thresholds,
        plan_deadline: deadline,
    })
}

/// Records the parameters in force from `t.effective_from`, replacing any recorded for that
/// date, with the plan deadline. Returns the replaced record (as stored JSON), if any.
pub async fn set(
    tx: &mut Tx,
    t: &Thresholds,
    plan_deadline: Option<NaiveDate>,
) -> Result<Option<String>> {
    let json = serde_json::to_string(t).map_err(|e| StoreError::Internal(e.to_string()))?;
    let eff = t.effective_from.to_string();
    let before = tx
        .fetch_optional(
            q("SELECT params_json FROM std_params WHERE effective_from = $1").bind(&eff),
        )
        .await?
        .map(|r| r.str("params_json"))
        .transpose()?;
    tx.execute(q("DELETE FROM std_params WHERE effective_from = $1").bind(&eff))
        .await?;
    tx.execute(
        q(
            "INSERT INTO std_params (effective_from, params_json, plan_deadline, updated_at)
               VALUES ($1, $2, $3, $4)",
        )
        .bind(&eff)
        .bind(&json)
        .bind(plan_deadline.map(|d| d.to_string()))
        .bind(crate::timestamp(chrono::Utc::now())),
    )
    .await?;
    Ok(before)
}
