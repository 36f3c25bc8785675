//! The payroll benchmark's data (`minzheng bench payroll`, in the release binary too): a
//! city of enrolments inserted set-based, and the floor a generation is compared with —
//! the same number of lines inserted as plainly as the backend allows.

use crate::bulk::{BulkVal, Prepared};
use crate::db::{q, Store, Tx};
use crate::error::{Result, StoreError};

/// The programs the bulk enrolments are spread over.
const BULK_PROGRAMS: [&str; 4] = ["urban_dibao", "rural_dibao", "tekun", "old_age_allowance"];

/// `n` households with one active monthly enrolment each, spread round-robin over the
/// villages under `within` and over four programs, starting `start_month`. Set-based
/// (one `INSERT … SELECT` per table), for the benchmark and large tests.
pub async fn bulk_enrolments(
    store: &Store,
    n: i64,
    within: &str,
    start_month: &str,
) -> Result<i64> {
    let now = super::now();
    let hi = format!("{within}:");
    let mut tx = store.begin_write().await?;
    tx.mark_large();
    let villages = tx
        .fetch_one(
            q("SELECT COUNT(*) AS n FROM divisions WHERE level = 5 AND code >= $1 AND code < $2")
                .bind(within)
                .bind(hi.as_str()),
        )
        .await?
        .i64("n")?;
    if villages == 0 {
        return Err(StoreError::validation(format!("{within}下没有村(社区)")));
    }
    let base = tx
        .fetch_one(q("SELECT COALESCE(MAX(id), 0) AS m FROM households"))
        .await?
        .i64("m")?;
    tx.execute(q("DROP TABLE IF EXISTS fixture_villages"))
        .await?;
    tx.execute(
        q("CREATE TEMP TABLE fixture_villages AS
           SELECT CAST(ROW_NUMBER() OVER (ORDER BY code) - 1 AS BIGINT) AS k, code
           FROM divisions WHERE level = 5 AND code >= $1 AND code < $2")
        .bind(within)
        .bind(hi.as_str()),
    )
    .await?;
    tx.execute(q(
        "CREATE UNIQUE INDEX fixture_villages_k ON fixture_villages (k)",
    ))
    .await?;
    // ID numbers scattered like real ones (the enrolment order says nothing about them):
    // the first eight digits step through 0..99999989 by 0.618 of the range (a Weyl
    // sequence: neighbours land far apart at every scale), the last eight are the
    // household's number (unique). So the payroll's once index is written at random
    // places, as it would be in an office.
    let (numbers, id_expr, acct_expr) = if tx.is_postgres() {
        (
            "SELECT g AS i FROM generate_series(0, $1 - 1) AS g",
            "'51' || lpad(((($2 + s.i + 1) * 61803393) % 99999989)::text, 8, '0')
               || lpad(($2 + s.i + 1)::text, 8, '0')",
            "'621' || lpad(($2 + s.i)::text, 16, '0')",
        )
    } else {
        (
            "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < $1)
             SELECT i FROM c",
            "'51' || printf('%08d%08d', (($2 + s.i + 1) * 61803393) % 99999989, $2 + s.i + 1)",
            "'621' || printf('%016d', $2 + s.i)",
        )
    };
    tx.execute(
        q(format!(
            "INSERT INTO households (township_code, county_code, village_code, head_id_number, head_name,
               registration_type, bank_name, account_number, account_holder, created_at, updated_at)
             SELECT substr(v.code, 1, 9), substr(substr(v.code, 1, 9), 1, 6), v.code, {id_expr}, '对象' || ($2 + s.i), 'rural',
                    '四川农信', {acct_expr}, '对象' || ($2 + s.i), $3, $3
             FROM ({numbers}) s JOIN fixture_villages v ON v.k = s.i % $4
             ORDER BY s.i"
        ))
        .bind(n)
        .bind(base)
        .bind(now.as_str())
        .bind(villages),
    )
    .await?;
    let program = format!(
        "CASE h.id % 4 WHEN 0 THEN '{}' WHEN 1 THEN '{}' WHEN 2 THEN '{}' ELSE '{}' END",
        BULK_PROGRAMS[0], BULK_PROGRAMS[1], BULK_PROGRAMS[2], BULK_PROGRAMS[3]
    );
    let added = tx
        .execute(
            q(format!(
                "INSERT INTO enrolments (program, household_id, township_code, county_code, village_code,
                   beneficiary_name, beneficiary_id_number, household_size, monthly_fen, payment,
                   start_month, status, created_at, updated_at)
                 SELECT {program}, h.id, h.township_code, substr(h.township_code, 1, 6), h.village_code, h.head_name,
                        h.head_id_number, 1 + h.id % 4, 30000 + (h.id % 50) * 1000, 'monthly',
                        $2, 'active', $3, $3
                 FROM households h WHERE h.id > $1 ORDER BY h.id"
            ))
            .bind(base)
            .bind(start_month)
            .bind(now.as_str()),
        )
        .await?;
    tx.execute(q("DROP TABLE fixture_villages")).await?;
    tx.commit().await?;
    // A live PostgreSQL database's autovacuum would long since have visited these rows:
    // hint bits set, visibility map and statistics current. Without it the first reader
    // pays for all of that (and plans from empty statistics).
    if store.is_postgres() {
        store
            .execute_unchecked("VACUUM (ANALYZE) households, enrolments")
            .await?;
    }
    Ok(added as i64)
}

/// The benchmark's floor: `rows` payroll lines, shaped like generated ones, inserted by
/// one bare prepared statement stepped in a loop inside one transaction (SQLite), or by
/// `INSERT … SELECT FROM UNNEST` in batches of 50,000 (PostgreSQL). Run it on a fresh
/// migrated database. Returns seconds for the inserts alone.
pub async fn floor(store: &Store, rows: i64, month: &str, batches: i64) -> Result<f64> {
    let now = super::now();
    let mut tx = store.begin_write().await?;
    let mut ids = Vec::new();
    for k in 0..batches.max(1) {
        let r = tx
            .fetch_one(
                q("INSERT INTO payroll_batches (batch_no, program, township_code, county_code, month, status,
                     generation, generated_by, generated_at, updated_at)
                   VALUES ($1, 'urban_dibao', $2, substr($2, 1, 6), $3, 'draft', 'floor', 'bench', $4, $4) RETURNING id")
                .bind(format!("floor-{k}"))
                .bind(format!("{:09}", 511_800_000 + k))
                .bind(month)
                .bind(now.as_str()),
            )
            .await?;
        ids.push(r.i64("id")?);
    }
    tx.commit().await?;
    let mut tx = store.begin_write().await?;
    // The same page cache as a city-wide generation, so both measure the same thing.
    let cache = if tx.is_postgres() {
        None
    } else {
        Some(super::set_cache(&mut tx, super::BIG_CACHE_KIB).await?)
    };
    tx.mark_large();
    let started = std::time::Instant::now();
    floor_inserts(&mut tx, rows, month, &ids).await?;
    if let Some(before) = cache {
        tx.execute(q(format!("PRAGMA cache_size = {before}")))
            .await?;
    }
    tx.commit().await?;
    Ok(started.elapsed().as_secs_f64())
}

/// The `i`-th of the fixture's scattered ID numbers (as in
/// [`bulk_enrolments`]), so the floor writes the once index as randomly as the
/// generation does.
fn scattered(i: i64) -> String {
    let k = i + 1;
    format!("51{:08}{k:08}", k * 61_803_393 % 99_999_989)
}

async fn floor_inserts(tx: &mut Tx, rows: i64, month: &str, batches: &[i64]) -> Result<()> {
    let k = batches.len() as i64;
    match tx {
        Tx::Sqlite(t) => {
            let mut handle = t.lock_handle().await?;
            let mut stmt = Prepared::new(
                &mut handle,
                "INSERT INTO payroll_lines (batch_id, kind, program, period, enrolment_id,
                   township_code, county_code, village_code, beneficiary_name, beneficiary_id_number, bank_name,
                   account_number, account_holder, amount_fen)
                 VALUES (?1, 'regular', 'urban_dibao', ?2, ?3, ?4, substr(?4, 1, 6), ?5, ?6, ?7, '四川农信', ?8, ?6, ?9)",
            )?;
            let (mut town, mut village, mut name, mut idn, mut acct) = (
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            );
            use std::fmt::Write;
            for i in 0..rows {
                let b = batches[(i % k) as usize];
                town.clear();
                village.clear();
                name.clear();
                idn.clear();
                acct.clear();
                let _ = write!(town, "{:09}", 511_800_000 + i % k);
                let _ = write!(village, "{town}{:03}", i % 7);
                let _ = write!(name, "对象{i}");
                idn.push_str(&scattered(i));
                let _ = write!(acct, "621{i:016}");
                stmt.run(&[
                    BulkVal::Int(b),
                    month.into(),
                    BulkVal::Int(i + 1),
                    town.as_str().into(),
                    village.as_str().into(),
                    name.as_str().into(),
                    idn.as_str().into(),
                    acct.as_str().into(),
                    BulkVal::Int(30_000 + (i % 50) * 1000),
                ])?;
            }
            Ok(())
        }
        Tx::Pg(t) => {
            let mut start = 0i64;
            while start < rows {
                let end = (start + 50_000).min(rows);
                let range = start..end;
                let b: Vec<i64> = range.clone().map(|i| batches[(i % k) as usize]).collect();
                let e: Vec<i64> = range.clone().map(|i| i + 1).collect();
                let town: Vec<String> = range
                    .clone()
                    .map(|i| format!("{:09}", 511_800_000 + i % k))
                    .collect();
                let village: Vec<String> = range
                    .clone()
                    .map(|i| format!("{:09}{:03}", 511_800_000 + i % k, i % 7))
                    .collect();
                let name: Vec<String> = range.clone().map(|i| format!("对象{i}")).collect();
                let idn: Vec<String> = range.clone().map(scattered).collect();
                let acct: Vec<String> = range.clone().map(|i| format!("621{i:016}")).collect();
                let amount: Vec<i64> = range.map(|i| 30_000 + (i % 50) * 1000).collect();
                sqlx::query(
                    "INSERT INTO payroll_lines (batch_id, kind, program, period, enrolment_id,
                       township_code, county_code, village_code, beneficiary_name, beneficiary_id_number, bank_name,
                       account_number, account_holder, amount_fen)
                     SELECT u.b, 'regular', 'urban_dibao', $1, u.e, u.t, substr(u.t, 1, 6), u.v, u.n, u.i, '四川农信', u.a, u.n, u.m
                     FROM UNNEST($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[],
                                 $7::text[], $8::text[], $9::bigint[]) AS u(b, e, t, v, n, i, a, m)",
                )
                .bind(month)
                .bind(b)
                .bind(e)
                .bind(town)
                .bind(village)
                .bind(name)
                .bind(idn)
                .bind(acct)
                .bind(amount)
                .execute(&mut **t)
                .await?;
                start = end;
            }
            Ok(())
        }
    }
}
