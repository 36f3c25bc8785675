//! The demo's payroll data (`serve --demo`): enrolments for registry households.

use crate::db::{q, Store, Tx};
use crate::error::Result;

/// Whether the demo's payroll enrolments exist. The demo's cases (seeded first) enrol a
/// few households of their own: this looks for enrolments without a case, the demo's
/// payroll ones.
pub async fn has_enrolments(store: &Store) -> Result<bool> {
    Ok(store
        .fetch_optional(q("SELECT id FROM enrolments WHERE case_id IS NULL LIMIT 1"))
        .await?
        .is_some())
}

/// The demo's enrolments: the heads of the first 150 registry
/// households of 东城街道 and of 西城街道 receive 低保 from January 2026 (urban in 社区,
/// rural in 村), so the payroll pages have a month to generate. Households without an
/// account get a synthetic one; their recorded incomes are scaled to 低保 levels. Returns how
/// many were added. Every enrolled household of
/// the demo (the cases' too) gets an account, so a demo batch can be signed off.
pub async fn enrol_households(tx: &mut Tx) -> Result<i64> {
    let now = super::now();
    let padded = if tx.is_postgres() {
        "lpad(CAST(id AS TEXT), 15, '0')"
    } else {
        "printf('%015d', id)"
    };
    // (On a distributed database the enrolments and persons of a household are read in its
    // county.)
    let distributed = crate::distribute::keeps_person_ids(tx).await?;
    let county = |a, b| crate::distribute::same_county(distributed, a, b);
    let mut added = 0;
    for township in ["511802001", "511802002"] {
        let pick = format!(
            "SELECT id FROM households h WHERE township_code = $1 AND status = 'active'
                      AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.household_id = h.id{})
                    ORDER BY id LIMIT 150",
            county("e", "h")
        );
        tx.execute(
            q(format!(
                "UPDATE households SET bank_name = '四川农信', account_holder = head_name,
                   account_number = '6214' || {padded}
                 WHERE id IN ({pick}) AND account_number = ''"
            ))
            .bind(township),
        )
        .await?;
        // A 低保 household lives on little: the synthetic registry's incomes of the picked
        // households are scaled down to 低保 levels (the income check would flag them).
        tx.execute(
            q(format!(
                "UPDATE incomes SET amount_fen = amount_fen / 10 WHERE household_id IN ({pick})"
            ))
            .bind(township),
        )
        .await?;
        added += tx
            .execute(
                q(format!(
                    "INSERT INTO enrolments (program, household_id, township_code, county_code, village_code,
                       beneficiary_name, beneficiary_id_number, household_size, monthly_fen,
                       payment, start_month, status, created_at, updated_at)
                     SELECT CASE WHEN substr(h.village_code, 10, 1) IN ('0', '1') THEN 'urban_dibao'
                                 ELSE 'rural_dibao' END,
                            h.id, h.township_code, substr(h.township_code, 1, 6), h.village_code, h.head_name, h.head_id_number,
                            (SELECT COUNT(*) FROM persons p WHERE p.household_id = h.id{}),
                            20000 + (h.id % 13) * 2550, 'monthly', '2026-01', 'active', $2, $2
                     FROM households h WHERE h.id IN ({pick}) ORDER BY h.id",
                    county("p", "h")
                ))
                .bind(township)
                .bind(now.as_str()),
            )
            .await? as i64;
    }
    // Every enrolled household of the demo (the cases' too) has an account, so a demo
    // batch can be signed off.
    tx.execute(q(format!(
        "UPDATE households SET bank_name = '四川农信', account_holder = head_name,
           account_number = '6214' || {padded}
         WHERE account_number = '' AND id IN (SELECT household_id FROM enrolments)"
    )))
    .await?;
    Ok(added)
}

/// Whether any batch exists (the demo's history is seeded into an empty payroll only).
pub async fn any_batch(store: &Store) -> Result<bool> {
    Ok(store
        .fetch_optional(q("SELECT id FROM payroll_batches LIMIT 1"))
        .await?
        .is_some())
}
