//! Subsidies (补助资金): granted when an office passes acceptance, paid out by the city.

use minzheng_domain::standards::Subsidy;
use minzheng_domain::{Fen, Scope};

use super::subsidy;
use crate::db::{q, Store, Tx};
use crate::error::{Result, StoreError};

const SELECT: &str = "SELECT s.*, o.name AS office_name, c.name AS county_name
    FROM subsidies s JOIN offices o ON o.township_code = s.township_code
    LEFT JOIN divisions t ON t.code = s.township_code
    LEFT JOIN divisions c ON c.code = t.parent_code";

/// The subsidy ledger in scope.
pub async fn list(store: &Store, scope: &Scope) -> Result<Vec<Subsidy>> {
    let (lo, hi) = scope.bounds();
    store
        .fetch_all(
            q(format!(
                "{SELECT} WHERE s.township_code >= $1 AND s.township_code < $2 ORDER BY s.id"
            ))
            .bind(lo)
            .bind(hi),
        )
        .await?
        .iter()
        .map(subsidy)
        .collect()
}

/// One office's subsidies.
pub async fn of_office(store: &Store, township_code: &str) -> Result<Vec<Subsidy>> {
    store
        .fetch_all(
            q(format!("{SELECT} WHERE s.township_code = $1 ORDER BY s.id")).bind(township_code),
        )
        .await?
        .iter()
        .map(subsidy)
        .collect()
}

/// One subsidy, if its office is inside the scope.
pub async fn get(store: &Store, scope: &Scope, id: i64) -> Result<Subsidy> {
    let (lo, hi) = scope.bounds();
    store
        .fetch_optional(
            q(format!(
                "{SELECT} WHERE s.id = $1 AND s.township_code >= $2 AND s.township_code < $3"
            ))
            .bind(id)
            .bind(lo)
            .bind(hi),
        )
        .await?
        .map(|r| subsidy(&r))
        .transpose()?
        .ok_or(StoreError::NotFound("该补助"))
}

/// Grants a subsidy, awaiting payment, for a passed inspection.
pub async fn grant(
    tx: &mut Tx,
    township_code: &str,
    inspection_id: i64,
    investment: Fen,
    percent: i64,
    amount: Fen,
) -> Result<()> {
    tx.execute(
        q("INSERT INTO subsidies (township_code, county_code, inspection_id, investment_fen, percent, amount_fen,
                     status, created_at)
                   VALUES ($1, substr($1, 1, 6), $2, $3, $4, $5, 'pending', $6)")
        .bind(township_code)
        .bind(inspection_id)
        .bind(investment.0)
        .bind(percent)
        .bind(amount.0)
        .bind(crate::timestamp(chrono::Utc::now())),
    )
    .await?;
    Ok(())
}

/// Records a pending subsidy paid out on `on`; `false` when it was paid already (by a
/// concurrent payment, too).
pub async fn disburse(tx: &mut Tx, id: i64, on: chrono::NaiveDate) -> Result<bool> {
    let n = tx
        .execute(
            q("UPDATE subsidies SET status = 'disbursed', disbursed_on = $1 WHERE id = $2 AND status = 'pending'")
                .bind(on.to_string())
                .bind(id),
        )
        .await?;
    Ok(n > 0)
}
