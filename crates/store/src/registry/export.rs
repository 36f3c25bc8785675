//! What the unified ledger export reads: every person of a scope with their household's
//! fields, and the sums of their incomes and assets by kind.

use std::collections::HashMap;

use minzheng_domain::registry::{
    AssetKind, DisabilityType, Employment, ExclusionReason, Health, IncomeKind, IncomePeriod,
    LedgerEntry, LedgerExport, PersonStatus, RegistrationType, Relation, WorkCapacity,
};
use minzheng_domain::{Fen, Scope};

use crate::db::{q, DbRow, Store};
use crate::error::Result;

fn entry(r: &DbRow) -> Result<LedgerEntry> {
    Ok(LedgerEntry {
        person_id: r.i64("pid")?,
        household_id: r.i64("household_id")?,
        head_id_number: r.str("head_id_number")?,
        village_code: r.str("village_code")?,
        registration_type: RegistrationType::from_code(&r.str("registration_type")?),
        address: r.str("address")?,
        phone: r.str("phone")?,
        bank_name: r.str("bank_name")?,
        account_number: r.str("account_number")?,
        account_holder: r.str("account_holder")?,
        name: r.str("name")?,
        id_number: r.str("id_number")?,
        relation: Relation::from_code(&r.str("relation")?),
        counted: r.bool("counted")?,
        exclusion_reason: r
            .opt_str("exclusion_reason")?
            .filter(|s| !s.is_empty())
            .map(|s| ExclusionReason::from_code(&s)),
        disability_type: DisabilityType::from_code(&r.str("disability_type")?),
        disability_grade: r.opt_i64("disability_grade")?,
        health: Health::from_code(&r.str("health")?),
        work_capacity: WorkCapacity::from_code(&r.str("work_capacity")?),
        employment: Employment::from_code(&r.str("employment")?),
        status: PersonStatus::from_code(&r.str("status")?),
        status_date: r.opt_str("status_date")?,
    })
}

/// The ledger of a scope: persons by household (head first), with their incomes and assets
/// summed by kind.
pub async fn ledger_export(store: &Store, scope: &Scope) -> Result<LedgerExport> {
    let (lo, hi) = scope.bounds();
    let col = match scope.code() {
        Some(c) if c.as_str().len() > 9 => "h.village_code",
        _ => "h.township_code",
    };
    let entries = store
        .fetch_all(
            q(format!(
                "SELECT p.id AS pid, p.*, h.head_id_number, h.village_code, h.registration_type,
                    h.address, h.phone, h.bank_name, h.account_number, h.account_holder
                 FROM persons p JOIN households h ON h.id = p.household_id
                 WHERE {col} >= $1 AND {col} < $2
                 ORDER BY h.id, CASE p.relation WHEN 'head' THEN 0 ELSE 1 END, p.id"
            ))
            .bind(lo.as_str())
            .bind(hi.as_str()),
        )
        .await?
        .iter()
        .map(entry)
        .collect::<Result<Vec<_>>>()?;
    let mut incomes = HashMap::new();
    for r in store
        .fetch_all(
            q(format!(
                "SELECT i.person_id, i.kind, i.period, CAST(SUM(i.amount_fen) AS BIGINT) AS s FROM incomes i
                 JOIN households h ON h.id = i.household_id
                 WHERE {col} >= $1 AND {col} < $2 AND i.person_id IS NOT NULL
                 GROUP BY i.person_id, i.kind, i.period"
            ))
            .bind(lo.as_str())
            .bind(hi.as_str()),
        )
        .await?
    {
        // Codes no ledger column holds (only a hand-edited database has them) are left out.
        let (Some(kind), Some(period)) = (
            IncomeKind::parse(&r.str("kind")?),
            IncomePeriod::parse(&r.str("period")?),
        ) else {
            continue;
        };
        incomes.insert((r.i64("person_id")?, kind, period), Fen(r.i64("s")?));
    }
    let mut assets = HashMap::new();
    for r in store
        .fetch_all(
            q(format!(
                "SELECT a.person_id, a.kind, CAST(SUM(a.value_fen) AS BIGINT) AS s FROM assets a
                 JOIN households h ON h.id = a.household_id
                 WHERE {col} >= $1 AND {col} < $2 AND a.person_id IS NOT NULL
                 GROUP BY a.person_id, a.kind"
            ))
            .bind(lo.as_str())
            .bind(hi.as_str()),
        )
        .await?
    {
        let Some(kind) = AssetKind::parse(&r.str("kind")?) else {
            continue;
        };
        assets.insert((r.i64("person_id")?, kind), Fen(r.i64("s")?));
    }
    Ok(LedgerExport {
        entries,
        incomes,
        assets,
    })
}
