//! The demo's choice of applicants: households and persons of 雨城区 (511802) suited to
//! each program. Only reads; the demo cases themselves go through the ordinary use cases.

use crate::db::{q, Store};
use crate::distribute::same_county;
use crate::error::Result;

/// Whether any case exists yet.
pub async fn case_count(store: &Store) -> Result<i64> {
    store
        .fetch_one(q("SELECT COUNT(*) AS n FROM cases"))
        .await?
        .i64("n")
}

/// Households of one registration type (`urban`, `rural`) whose head was born after 1960,
/// the poorest per member first (at most 400): (household, head).
pub async fn households(store: &Store, registration_type: &str) -> Result<Vec<(i64, i64)>> {
    let rows = store
        .fetch_all(
            // A derived table: PostgreSQL does not see output names inside ORDER BY
            // expressions.
            // (On a distributed database the sums and the join name the household's county.)
            q(format!(
                "SELECT id, pid FROM (
                 SELECT h.id, p.id AS pid,
                   (SELECT COALESCE(SUM(CASE WHEN i.period = 'annual' THEN i.amount_fen / 12
                                             ELSE i.amount_fen END), 0)
                    FROM incomes i WHERE i.household_id = h.id{}) AS income,
                   (SELECT COUNT(*) FROM persons m WHERE m.household_id = h.id{}) AS members
                 FROM households h
                 JOIN persons p ON p.household_id = h.id AND p.relation = 'head'{}
                 WHERE h.registration_type = $1 AND h.village_code >= '511802'
                   AND h.village_code < '511803' AND p.birth_date > '1960-01-01'
               ) t
               ORDER BY income / members, id
               LIMIT 400",
                same_county(store.distributed, "i", "h"),
                same_county(store.distributed, "m", "h"),
                same_county(store.distributed, "p", "h")
            ))
            .bind(registration_type),
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.i64("id")?, r.i64("pid")?)))
        .collect()
}

/// Members with a severe disability or serious illness (单人保 candidates), at most 300:
/// (household, person).
pub async fn disabled(store: &Store) -> Result<Vec<(i64, i64)>> {
    let rows = store
        .fetch_all(q("SELECT household_id, id FROM persons
             WHERE status = 'active' AND township_code >= '511802' AND township_code < '511803'
               AND (health = 'serious' OR (disability_type <> 'none' AND disability_grade <= 2))
             ORDER BY id LIMIT 300"))
        .await?;
    rows.iter()
        .map(|r| Ok((r.i64("household_id")?, r.i64("id")?)))
        .collect()
}

/// Members born before 1944 (高龄津贴 candidates), at most 20: (household, person).
pub async fn elderly(store: &Store) -> Result<Vec<(i64, i64)>> {
    let rows = store
        .fetch_all(q("SELECT household_id, id FROM persons
             WHERE status = 'active' AND birth_date <= '1944-01-01' AND township_code >= '511802'
               AND township_code < '511803'
             ORDER BY id LIMIT 20"))
        .await?;
    rows.iter()
        .map(|r| Ok((r.i64("household_id")?, r.i64("id")?)))
        .collect()
}
