//! Enrolments for tests, the benchmark and the demo, inserted directly with SQL: the case
//! workflow that creates them in real use is built separately. Not part of the audited API.

use minzheng_domain::{Program, YearMonth};

use crate::bulk::{BulkVal, Prepared};
use crate::db::{q, Store, Tx};
use crate::error::{StoreError, StoreResult};

/// One enrolment (and the household that holds its account).
#[derive(Debug, Clone)]
pub struct FixtureEnrolment {
    pub program: Program,
    pub village_code: String,
    pub name: String,
    pub id_number: String,
    pub monthly_fen: i64,
    pub start_month: String,
    pub end_month: Option<String>,
    /// active | suspended | grace | ended
    pub status: String,
    /// monthly | once
    pub payment: String,
    pub grace_until: Option<String>,
    pub case_id: Option<i64>,
    pub bank_name: String,
    pub account_number: String,
}

impl FixtureEnrolment {
    /// An active monthly enrolment from `start_month`, paid to a 四川农信 account.
    pub fn new(
        program: Program,
        village_code: &str,
        name: &str,
        id_number: &str,
        monthly_fen: i64,
        start_month: &str,
    ) -> Self {
        FixtureEnrolment {
            program,
            village_code: village_code.into(),
            name: name.into(),
            id_number: id_number.into(),
            monthly_fen,
            start_month: start_month.into(),
            end_month: None,
            status: "active".into(),
            payment: "monthly".into(),
            grace_until: None,
            case_id: None,
            bank_name: "四川农信".into(),
            account_number: format!("621{}", &id_number[id_number.len().saturating_sub(13)..])
                .replace('X', "0"),
        }
    }
}

/// The programs the bulk fixture spreads enrolments over.
const BULK_PROGRAMS: [&str; 4] = ["urban_dibao", "rural_dibao", "tekun", "old_age_allowance"];

impl Store {
    /// Inserts a household (keyed by the head's ID number, reused if present) and the
    /// enrolment; returns the enrolment id.
    pub async fn fixture_enrolment(&self, e: &FixtureEnrolment) -> StoreResult<i64> {
        let now = crate::payroll::now();
        let township = e.village_code.get(..9).unwrap_or_default().to_string();
        let mut tx = self.begin_write().await?;
        let existing = tx
            .fetch_optional(
                q("SELECT id FROM households WHERE head_id_number = $1").bind(e.id_number.as_str()),
            )
            .await?;
        let household = match existing {
            Some(r) => r.i64("id")?,
            None => tx
                .fetch_one(
                    q("INSERT INTO households (township_code, village_code, head_id_number, head_name,
                         registration_type, bank_name, account_number, account_holder, created_at, updated_at)
                       VALUES ($1, $2, $3, $4, 'rural', $5, $6, $4, $7, $7) RETURNING id")
                    .bind(township.as_str())
                    .bind(e.village_code.as_str())
                    .bind(e.id_number.as_str())
                    .bind(e.name.as_str())
                    .bind(e.bank_name.as_str())
                    .bind(e.account_number.as_str())
                    .bind(now.as_str()),
                )
                .await?
                .i64("id")?,
        };
        let id = tx
            .fetch_one(
                q("INSERT INTO enrolments (program, case_id, household_id, township_code, village_code,
                     beneficiary_name, beneficiary_id_number, household_size, monthly_fen, payment,
                     start_month, end_month, status, grace_until, created_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9, $10, $11, $12, $13, $14, $14)
                   RETURNING id")
                .bind(e.program.as_str())
                .bind(e.case_id)
                .bind(household)
                .bind(township.as_str())
                .bind(e.village_code.as_str())
                .bind(e.name.as_str())
                .bind(e.id_number.as_str())
                .bind(e.monthly_fen)
                .bind(e.payment.as_str())
                .bind(e.start_month.as_str())
                .bind(e.end_month.clone())
                .bind(e.status.as_str())
                .bind(e.grace_until.clone())
                .bind(now.as_str()),
            )
            .await?
            .i64("id")?;
        tx.commit().await?;
        Ok(id)
    }

    /// The demo's enrolments, when there are none yet: the heads of the first 150 registry
    /// households of 东城街道 and of 西城街道 receive 低保 from January 2026 (urban in 社区,
    /// rural in 村), so the payroll pages have a month to generate. Households without an
    /// account get a synthetic one. Returns how many were added.
    pub async fn seed_payroll_demo(&self) -> StoreResult<i64> {
        // The demo's cases (seeded first) enrol a few households of their own: the guard
        // looks for enrolments without a case, the demo's payroll ones.
        let any = self
            .fetch_optional(q("SELECT id FROM enrolments WHERE case_id IS NULL LIMIT 1"))
            .await?
            .is_some();
        if any {
            return Ok(0);
        }
        let now = crate::payroll::now();
        let mut tx = self.begin_write().await?;
        let padded = if tx.is_postgres() {
            "lpad(CAST(id AS TEXT), 15, '0')"
        } else {
            "printf('%015d', id)"
        };
        let mut added = 0;
        for township in ["511802001", "511802002"] {
            let pick = "SELECT id FROM households h WHERE township_code = $1 AND status = 'active'
                          AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.household_id = h.id)
                        ORDER BY id LIMIT 150";
            tx.execute(
                q(format!(
                    "UPDATE households SET bank_name = '四川农信', account_holder = head_name,
                       account_number = '6214' || {padded}
                     WHERE id IN ({pick}) AND account_number = ''"
                ))
                .bind(township),
            )
            .await?;
            added += tx
                .execute(
                    q(format!(
                        "INSERT INTO enrolments (program, household_id, township_code, village_code,
                           beneficiary_name, beneficiary_id_number, household_size, monthly_fen,
                           payment, start_month, status, created_at, updated_at)
                         SELECT CASE WHEN substr(h.village_code, 10, 1) IN ('0', '1') THEN 'urban_dibao'
                                     ELSE 'rural_dibao' END,
                                h.id, h.township_code, h.village_code, h.head_name, h.head_id_number,
                                (SELECT COUNT(*) FROM persons p WHERE p.household_id = h.id),
                                20000 + (h.id % 13) * 2550, 'monthly', '2026-01', 'active', $2, $2
                         FROM households h WHERE h.id IN ({pick}) ORDER BY h.id"
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
        tx.commit().await?;
        Ok(added)
    }

    /// The demo's payroll history, when there is no batch yet: `month` (the month before the
    /// current one) generated, signed off, exported and reconciled from a return file in
    /// which one line of 东城街道's first batch failed (账户已冻结), so the ledger, the
    /// month-over-month review and 退票 have something to show. The current month is left
    /// for the visitor to generate. Returns the number of batches.
    pub async fn seed_payroll_demo_history(&self, month: YearMonth) -> StoreResult<usize> {
        let any = self
            .fetch_optional(q("SELECT id FROM payroll_batches LIMIT 1"))
            .await?
            .is_some();
        if any {
            return Ok(0);
        }
        let demo = crate::Actor::system("demo");
        let out = self
            .generate_payroll(
                &demo,
                &crate::GenerateRequest {
                    month,
                    program: None,
                    within: None,
                },
            )
            .await?;
        let mut failed_one = false;
        for b in &out.created {
            self.sign_off_batch(&demo, b.id).await?;
            self.export_bank_file(&demo, b.id, "utf8-csv").await?;
            let (lines, _) = self
                .batch_lines(
                    &crate::Scope::all(),
                    b.id,
                    &crate::LineFilter {
                        limit: Some(5000),
                        ..Default::default()
                    },
                )
                .await?;
            let mut file = String::from("明细号,金额(分),处理结果,失败原因\n");
            for l in &lines {
                let fail = !failed_one && b.township_code == "511802001";
                failed_one |= fail;
                let (status, reason) = if fail {
                    ("失败", "账户已冻结")
                } else {
                    ("成功", "")
                };
                file.push_str(&format!("{},{},{status},{reason}\n", l.id, l.amount.0));
            }
            self.import_return(&demo, b.id, "演示回盘.csv", file.as_bytes())
                .await?;
        }
        Ok(out.created.len())
    }

    /// Changes an enrolment the way a case decision would (tests): `set` is an SQL SET list.
    pub async fn fixture_update_enrolment(&self, id: i64, set: &str) -> StoreResult<()> {
        self.execute_unchecked(&format!("UPDATE enrolments SET {set} WHERE id = {id}"))
            .await
            .map(|_| ())
    }

    /// Inserts a case row (tests): returns its id.
    pub async fn fixture_case(
        &self,
        case_no: &str,
        kind: &str,
        program: Program,
        household_id: i64,
        enrolment_id: Option<i64>,
    ) -> StoreResult<i64> {
        let now = crate::payroll::now();
        let h = self
            .fetch_one(
                q("SELECT township_code, village_code FROM households WHERE id = $1")
                    .bind(household_id),
            )
            .await?;
        let mut tx = self.begin_write().await?;
        let id = tx
            .fetch_one(
                q("INSERT INTO cases (case_no, program, kind, state, township_code, village_code,
                     household_id, enrolment_id, urban_rural, applied_on, created_by, created_at, updated_at)
                   VALUES ($1, $2, $3, 'approved', $4, $5, $6, $7, 'urban', '2026-01-01', 'fixture', $8, $8)
                   RETURNING id")
                .bind(case_no)
                .bind(program.as_str())
                .bind(kind)
                .bind(h.str("township_code")?)
                .bind(h.str("village_code")?)
                .bind(household_id)
                .bind(enrolment_id)
                .bind(now.as_str()),
            )
            .await?
            .i64("id")?;
        tx.commit().await?;
        Ok(id)
    }

    /// The household of an enrolment (tests).
    pub async fn fixture_household_of(&self, enrolment_id: i64) -> StoreResult<i64> {
        self.fetch_one(q("SELECT household_id FROM enrolments WHERE id = $1").bind(enrolment_id))
            .await?
            .i64("household_id")
    }

    /// `n` households with one active monthly enrolment each, spread round-robin over the
    /// villages under `within` and over four programs, starting `start_month`. Set-based
    /// (one `INSERT … SELECT` per table), for the benchmark and large tests.
    pub async fn fixture_bulk_enrolments(
        &self,
        n: i64,
        within: &str,
        start_month: &str,
    ) -> StoreResult<i64> {
        let now = crate::payroll::now();
        let hi = format!("{within}:");
        let mut tx = self.begin_write().await?;
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
                "INSERT INTO households (township_code, village_code, head_id_number, head_name,
                   registration_type, bank_name, account_number, account_holder, created_at, updated_at)
                 SELECT substr(v.code, 1, 9), v.code, {id_expr}, '对象' || ($2 + s.i), 'rural',
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
                    "INSERT INTO enrolments (program, household_id, township_code, village_code,
                       beneficiary_name, beneficiary_id_number, household_size, monthly_fen, payment,
                       start_month, status, created_at, updated_at)
                     SELECT {program}, h.id, h.township_code, h.village_code, h.head_name,
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
        if self.is_postgres() {
            self.execute_unchecked("VACUUM (ANALYZE) households, enrolments")
                .await?;
        }
        Ok(added as i64)
    }

    /// The benchmark's floor: `rows` payroll lines, shaped like generated ones, inserted by
    /// one bare prepared statement stepped in a loop inside one transaction (SQLite), or by
    /// `INSERT … SELECT FROM UNNEST` in batches of 50,000 (PostgreSQL). Run it on a fresh
    /// migrated database. Returns seconds for the inserts alone.
    pub async fn bench_payroll_floor(
        &self,
        rows: i64,
        month: &str,
        batches: i64,
    ) -> StoreResult<f64> {
        let now = crate::payroll::now();
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::new();
        for k in 0..batches.max(1) {
            let r = tx
                .fetch_one(
                    q("INSERT INTO payroll_batches (batch_no, program, township_code, month, status,
                         generation, generated_by, generated_at, updated_at)
                       VALUES ($1, 'urban_dibao', $2, $3, 'draft', 'floor', 'bench', $4, $4) RETURNING id")
                    .bind(format!("floor-{k}"))
                    .bind(format!("{:09}", 511_800_000 + k))
                    .bind(month)
                    .bind(now.as_str()),
                )
                .await?;
            ids.push(r.i64("id")?);
        }
        tx.commit().await?;
        let mut tx = self.begin_write().await?;
        // The same page cache as a city-wide generation, so both measure the same thing.
        let cache = if tx.is_postgres() {
            None
        } else {
            Some(crate::payroll::set_cache(&mut tx, crate::payroll::BIG_CACHE_KIB).await?)
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
}

/// The `i`-th of the fixture's scattered ID numbers (as in
/// [`Store::fixture_bulk_enrolments`]), so the floor writes the once index as randomly as the
/// generation does.
fn scattered(i: i64) -> String {
    let k = i + 1;
    format!("51{:08}{k:08}", k * 61_803_393 % 99_999_989)
}

async fn floor_inserts(tx: &mut Tx, rows: i64, month: &str, batches: &[i64]) -> StoreResult<()> {
    let k = batches.len() as i64;
    match tx {
        Tx::Sqlite(t) => {
            let mut handle = t.lock_handle().await?;
            let mut stmt = Prepared::new(
                &mut handle,
                "INSERT INTO payroll_lines (batch_id, kind, program, period, enrolment_id,
                   township_code, village_code, beneficiary_name, beneficiary_id_number, bank_name,
                   account_number, account_holder, amount_fen)
                 VALUES (?1, 'regular', 'urban_dibao', ?2, ?3, ?4, ?5, ?6, ?7, '四川农信', ?8, ?6, ?9)",
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
                       township_code, village_code, beneficiary_name, beneficiary_id_number, bank_name,
                       account_number, account_holder, amount_fen)
                     SELECT u.b, 'regular', 'urban_dibao', $1, u.e, u.t, u.v, u.n, u.i, '四川农信', u.a, u.n, u.m
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
