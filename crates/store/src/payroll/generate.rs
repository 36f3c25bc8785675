//! Generating a month's batches and (re)filling their lines, set-based: one `INSERT …
//! SELECT` per kind of line inside the caller's write transaction. Every statement and its
//! plan hints are measured at a million enrolments (`minzheng bench payroll`); change one
//! only with a new measurement.

use minzheng_domain::payroll::{BackPayStatus, PayrollBatch};
use minzheng_domain::{Fen, Program, YearMonth};

use super::{batch, coded, set_cache, BIG_CACHE_KIB, SELECT_BATCH};
use crate::db::{q, Store, Tx, WriteTx};
use crate::error::{Result, StoreError};

/// The batches a generation may create: every (program, township) of `month` in the range
/// `lo..hi` (only `program` if given) with something to pay.
#[derive(Debug, Clone)]
pub struct BatchPlan<'a> {
    pub month: YearMonth,
    pub program: Option<Program>,
    pub lo: &'a str,
    pub hi: &'a str,
    /// The generation's token ([`super::generation_token`]).
    pub token: &'a str,
    /// The username recorded as generating them.
    pub by: &'a str,
    pub now: &'a str,
}

/// A back-pay request a generation took up: `included` with its line, or `superseded`.
#[derive(Debug, Clone)]
pub struct BackPayMove {
    pub id: i64,
    pub township_code: String,
    pub status: BackPayStatus,
    pub line_id: Option<i64>,
}

/// A corrected exception a generation re-issued.
#[derive(Debug, Clone)]
pub struct ReissueMove {
    pub id: i64,
    pub township_code: String,
    pub reissue_line_id: Option<i64>,
}

/// What [`fill_lines`] took up besides the regular lines.
#[derive(Debug, Clone, Default)]
pub struct Filled {
    pub back_pay: Vec<BackPayMove>,
    pub reissued: Vec<ReissueMove>,
}

/// A back-pay request or an exception a regenerated draft gave back (waiting again).
#[derive(Debug, Clone)]
pub struct Released {
    pub id: i64,
    pub township_code: String,
}

/// A batch a generation (re)filled, as its audit record names it.
#[derive(Debug, Clone)]
pub struct GeneratedBatch {
    pub id: i64,
    pub batch_no: String,
    pub program: Program,
    pub township_code: String,
    pub month: YearMonth,
    pub line_count: i64,
    pub planned: Fen,
    pub back_pay: Fen,
    pub reissue_count: i64,
}

/// Every program code as a one-column table (`program`). Batches are found by probing the
/// enrolment index for each (township, program) pair — a loose index scan — instead of
/// reading the index's million entries for DISTINCT.
fn programs_table() -> String {
    Program::ALL
        .iter()
        .map(|p| format!("SELECT '{}' AS program", p.as_str()))
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// Which enrolments pay in the batch's month (`b.month`), as an SQL condition on `e`. A
/// stopped enrolment (停发, status ended) is still paid through its end month, the month of
/// the decision: it stops from the month after.
const PAYABLE: &str =
    "(e.status IN ('active', 'grace') OR (e.status = 'ended' AND e.end_month IS NOT NULL))
    AND e.start_month <= b.month
    AND (e.end_month IS NULL OR e.end_month >= b.month)
    AND (e.payment = 'monthly' OR e.start_month = b.month)
    AND (e.status <> 'grace' OR e.grace_until IS NULL OR e.grace_until >= b.month)";

/// What an enrolment pays in the batch's month: its monthly amount, and in December the
/// year's remainder of an annual amount paid monthly (优抚; 0 for every other program), so
/// a year's twelve lines add up to the annual figure.
pub(crate) const REGULAR_AMOUNT: &str =
    "e.monthly_fen + CASE WHEN substr(b.month, 6, 2) = '12' THEN e.year_end_extra_fen ELSE 0 END";

const LINE_COLUMNS: &str = "batch_id, kind, program, period, enrolment_id, township_code,
    county_code, village_code, beneficiary_name, beneficiary_id_number, bank_name, account_number,
    account_holder, amount_fen";

/// Fills the lines of every batch whose generation is `token`: regular lines from the
/// payable enrolments, approved back pay, and corrected exceptions to re-issue. Then the
/// batch counters; batches left empty are removed. `scan` (the month) picks the plan on
/// SQLite: walk all enrolments once (many batches) or, without it, walk each batch's
/// enrolments by index (few). Returns the back pay and the exceptions the lines took up,
/// for the caller's audit records.
pub async fn fill_lines(tx: &mut Tx, token: &str, scan: Option<&str>, now: &str) -> Result<Filled> {
    // A distributed database (ARCHITECTURE.md, "A province on a distributed PostgreSQL"):
    // its once index carries the county too.
    let distributed = crate::distribute::keeps_person_ids(tx).await?;
    let county = |[a, b]: &[&str; 2]| crate::distribute::same_county(distributed, a, b);
    let mut regular = match scan {
        // CROSS JOIN fixes SQLite's loop order: one sequential pass over the enrolments, a
        // unique-index probe per row into the (few) batches of the month. `+e.status` keeps
        // SQLite from walking the (status, next_review_on) index instead of the table, which
        // would cost a second B-tree lookup per enrolment when nearly all are active.
        Some(month) if !tx.is_postgres() => q("FROM enrolments e CROSS JOIN payroll_batches b
             JOIN households h ON h.id = e.household_id
             WHERE b.program = e.program AND b.township_code = e.township_code AND b.month = $2
               AND +e.status IN ('active', 'grace', 'ended')")
        .bind(token)
        .bind(month),
        // (On a cluster each join names the county as well, answered on one node.)
        _ => q(format!(
            "FROM payroll_batches b
             JOIN enrolments e ON e.program = b.program AND e.township_code = b.township_code{}
             JOIN households h ON h.id = e.household_id{}
             WHERE true",
            county(&["e", "b"]),
            county(&["h", "e"])
        ))
        .bind(token),
    };
    // Lines go in by ID number (and so a batch lists them in that order): the once index is
    // then filled front to back instead of at random places, ID numbers saying nothing of
    // the enrolment order. For a city-wide month the sort costs less than the random inserts
    // it avoids (1M lines, scattered ID numbers: SQLite 4.9 s -> 3.3 s, its sorter keeping up
    // to the page cache's size in memory; PostgreSQL, whose shared_buffers is far smaller than
    // the index and table being written, 12 s -> 9–10 s). PostgreSQL sorts by bytes
    // (`COLLATE "C"`): a libc collation such as C.UTF-8 or zh_CN.UTF-8 goes through strcoll
    // without abbreviated keys, twice as slow, and orders ID numbers (digits, a final X) the
    // same way.
    let order = if tx.is_postgres() {
        r#"ORDER BY e.beneficiary_id_number COLLATE "C""#
    } else {
        "ORDER BY e.beneficiary_id_number"
    };
    regular.sql = format!(
        "INSERT INTO payroll_lines ({LINE_COLUMNS})
         SELECT b.id, 'regular', e.program, b.month, e.id, e.township_code, e.county_code,
                e.village_code,
                e.beneficiary_name, e.beneficiary_id_number, h.bank_name, h.account_number,
                h.account_holder, {REGULAR_AMOUNT}
         {} AND b.generation = $1 AND {PAYABLE}
         {order}",
        regular.sql
    );
    // The once index is the only arbiter: a line already paid to the beneficiary for the
    // program and month is skipped. (Naming it spares PostgreSQL a speculative probe of the
    // other unique indexes per row, which no regular line can hit.)
    let skip_paid = if distributed {
        " ON CONFLICT (beneficiary_id_number, program, period, county_code) WHERE kind NOT IN ('reissue', 'top_up') DO NOTHING"
    } else {
        " ON CONFLICT (beneficiary_id_number, program, period) WHERE kind NOT IN ('reissue', 'top_up') DO NOTHING"
    };
    if tx.is_postgres() && !distributed {
        // PostgreSQL's ON CONFLICT costs a speculative insertion per row (an extra probe of
        // the once index and a confirmation record in the WAL: 1M lines 10.4 s -> 8.7 s
        // without it). A month's lines rarely meet an earlier line (a beneficiary who moved
        // township within the month, a duplicate enrolment), so the plain insert is tried
        // first; if the once index refuses a line, the statement is undone to the savepoint
        // and the skipping insert runs instead. Same lines either way.
        tx.execute(q("SAVEPOINT regular_lines")).await?;
        match tx.execute(regular.clone()).await {
            Ok(_) => {}
            Err(e) if refused_by_once_index(&e) => {
                tx.execute(q("ROLLBACK TO SAVEPOINT regular_lines")).await?;
                regular.sql.push_str(skip_paid);
                tx.execute(regular).await?;
            }
            Err(e) => return Err(e),
        }
        tx.execute(q("RELEASE SAVEPOINT regular_lines")).await?;
    } else {
        // SQLite probes a unique index before every insert whatever the conflict clause. A
        // cluster's refusal is not told apart from any other failure (the coordinator
        // reports a worker's refusal of rows it routed as an internal error, naming the
        // shard's copy of the index), so there the skipping insert runs at once, each node
        // probing its own shards.
        regular.sql.push_str(skip_paid);
        tx.execute(regular).await?;
    }
    // Approved back pay for months before the batch's (a top-up, 调标补差, pays the
    // difference for a month paid at the old amount: its line stands beside the month's own).
    tx.execute(
        q(format!(
            "INSERT INTO payroll_lines ({LINE_COLUMNS}, adjustment_id)
             SELECT b.id, a.kind, a.program, a.period, e.id, e.township_code, e.county_code,
                    e.village_code,
                    e.beneficiary_name, e.beneficiary_id_number, h.bank_name, h.account_number,
                    h.account_holder, a.amount_fen, a.id
             FROM payroll_adjustments a
             JOIN payroll_batches b ON b.program = a.program AND b.township_code = a.township_code{}
             JOIN enrolments e ON e.id = a.enrolment_id{}
             JOIN households h ON h.id = e.household_id{}
             WHERE b.generation = $1 AND a.status = 'approved' AND a.period < b.month
             ON CONFLICT DO NOTHING",
            county(&["b", "a"]),
            county(&["e", "a"]),
            county(&["h", "e"])
        ))
        .bind(token),
    )
    .await?;
    let included = tx
        .fetch_all(
            q(format!("UPDATE payroll_adjustments SET status = 'included',
             line_id = (SELECT l.id FROM payroll_lines l WHERE l.adjustment_id = payroll_adjustments.id{})
           WHERE status = 'approved' AND id IN (
             SELECT l.adjustment_id FROM payroll_lines l
             JOIN payroll_batches b ON b.id = l.batch_id{}
             WHERE b.generation = $1 AND l.kind <> 'regular' AND l.adjustment_id IS NOT NULL)
           RETURNING id, township_code, status, line_id",
             county(&["l", "payroll_adjustments"]), county(&["b", "l"])))
            .bind(token),
        )
        .await?;
    // Approved back pay for a month that meanwhile has its own line (the regular batch of that
    // month was generated after the request): nothing to pay; it is marked so instead of
    // waiting, approved, for a line the once index will never let in.
    let superseded = tx
        .fetch_all(
            q(format!(
                "UPDATE payroll_adjustments SET status = 'superseded'
           WHERE status = 'approved' AND kind = 'back_pay' AND EXISTS (
             SELECT 1 FROM payroll_batches b
             JOIN enrolments e ON e.id = payroll_adjustments.enrolment_id{}
             JOIN payroll_lines l ON l.beneficiary_id_number = e.beneficiary_id_number
               AND l.program = payroll_adjustments.program AND l.period = payroll_adjustments.period
               AND l.kind NOT IN ('reissue', 'top_up'){}
             WHERE b.generation = $1 AND b.program = payroll_adjustments.program
               AND b.township_code = payroll_adjustments.township_code{}
               AND payroll_adjustments.period < b.month)
           RETURNING id, township_code, status, line_id",
                county(&["e", "payroll_adjustments"]),
                county(&["l", "e"]),
                county(&["b", "payroll_adjustments"])
            ))
            .bind(token),
        )
        .await?;
    // Corrected exceptions: the same period and amount, to the corrected account.
    tx.execute(
        q(format!(
            "INSERT INTO payroll_lines ({LINE_COLUMNS}, reissue_of)
             SELECT b.id, 'reissue', o.program, o.period, o.enrolment_id, o.township_code,
                    o.county_code,                    o.village_code, o.beneficiary_name, o.beneficiary_id_number,
                    COALESCE(x.bank_name, o.bank_name), COALESCE(x.account_number, o.account_number),
                    COALESCE(x.account_holder, o.account_holder), o.amount_fen, o.id
             FROM payment_exceptions x
             JOIN payroll_batches b ON b.program = x.program AND b.township_code = x.township_code{}
             JOIN payroll_lines o ON o.id = x.line_id{}
             WHERE b.generation = $1 AND x.status = 'ready' AND x.batch_month < b.month
             ON CONFLICT DO NOTHING",
            county(&["b", "x"]),
            county(&["o", "x"])
        ))
        .bind(token),
    )
    .await?;
    let reissued = tx
        .fetch_all(
        q(format!("UPDATE payment_exceptions SET status = 'reissued', updated_at = $2,
             reissue_line_id = (SELECT l.id FROM payroll_lines l WHERE l.reissue_of = payment_exceptions.line_id{})
           WHERE status = 'ready' AND line_id IN (
             SELECT l.reissue_of FROM payroll_lines l
             JOIN payroll_batches b ON b.id = l.batch_id{}
             WHERE b.generation = $1 AND l.kind <> 'regular' AND l.reissue_of IS NOT NULL)
           RETURNING id, township_code, reissue_line_id",
             county(&["l", "payment_exceptions"]), county(&["b", "l"])))
        .bind(token)
        .bind(now),
    )
    .await?;
    // Counters. SQLite: per batch from the covering index (batch_id, status, id, amount_fen)
    // and, for back pay and re-issues, the partial index of non-regular lines. PostgreSQL:
    // one grouped pass over the generation's lines (from its batches, so a batch left without
    // lines counts zero and is removed below) — its index-only scans still visit the
    // heap for rows this transaction just wrote, so five lookups per batch would read every
    // line five times.
    let counters = if tx.is_postgres() {
        let lines_county = county(&["l", "g"]);
        let batch_county = county(&["payroll_batches", "t"]);
        format!("UPDATE payroll_batches SET line_count = t.n, planned_fen = t.fen, back_pay_fen = t.bp,
           reissue_count = t.rc, reissue_fen = t.rf
         FROM (SELECT g.id AS batch_id, g.county_code, COUNT(l.id) AS n,
                 COALESCE(SUM(l.amount_fen), 0) AS fen,
                 COALESCE(SUM(CASE WHEN l.kind IN ('back_pay', 'top_up') THEN l.amount_fen END), 0) AS bp,
                 COUNT(CASE WHEN l.kind = 'reissue' THEN 1 END) AS rc,
                 COALESCE(SUM(CASE WHEN l.kind = 'reissue' THEN l.amount_fen END), 0) AS rf
               FROM payroll_batches g
               LEFT JOIN payroll_lines l ON l.batch_id = g.id{lines_county}
               WHERE g.generation = $1 GROUP BY g.county_code, g.id) t
         WHERE payroll_batches.id = t.batch_id{batch_county}")
    } else {
        "UPDATE payroll_batches SET
             line_count = (SELECT COUNT(*) FROM payroll_lines l WHERE l.batch_id = payroll_batches.id),
             planned_fen = (SELECT COALESCE(SUM(l.amount_fen), 0) FROM payroll_lines l
                            WHERE l.batch_id = payroll_batches.id),
             back_pay_fen = (SELECT COALESCE(SUM(l.amount_fen), 0) FROM payroll_lines l
                            WHERE l.batch_id = payroll_batches.id AND l.kind <> 'regular'
                              AND l.kind IN ('back_pay', 'top_up')),
             reissue_count = (SELECT COUNT(*) FROM payroll_lines l
                            WHERE l.batch_id = payroll_batches.id AND l.kind <> 'regular' AND l.kind = 'reissue'),
             reissue_fen = (SELECT COALESCE(SUM(l.amount_fen), 0) FROM payroll_lines l
                            WHERE l.batch_id = payroll_batches.id AND l.kind <> 'regular' AND l.kind = 'reissue')
           WHERE generation = $1"
            .to_string()
    };
    tx.execute(q(counters).bind(token)).await?;
    tx.execute(
        q("DELETE FROM payroll_batches WHERE generation = $1 AND line_count = 0").bind(token),
    )
    .await?;
    let back_pay = included
        .iter()
        .chain(&superseded)
        .map(|r| {
            Ok(BackPayMove {
                id: r.i64("id")?,
                township_code: r.str("township_code")?,
                status: coded(r, "status")?,
                line_id: r.opt_i64("line_id")?,
            })
        })
        .collect::<Result<_>>()?;
    let reissued = reissued
        .iter()
        .map(|r| {
            Ok(ReissueMove {
                id: r.i64("id")?,
                township_code: r.str("township_code")?,
                reissue_line_id: r.opt_i64("reissue_line_id")?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Filled { back_pay, reissued })
}

/// Creates the month's missing batches as drafts carrying the plan's token: one per
/// program and township with payable enrolments, approved back pay or corrected exceptions.
/// Existing batches are left alone (the unique key); concurrent generations queue on
/// PostgreSQL instead of interleaving. Returns how many were created.
pub async fn create_batches(tx: &mut Tx, p: &BatchPlan<'_>) -> Result<i64> {
    let month = p.month.to_string();
    let program = p.program.map(|p| p.as_str().to_string());
    if tx.is_postgres() {
        // Concurrent generations queue here instead of interleaving their inserts.
        tx.execute(q("SELECT pg_advisory_xact_lock(7340005)"))
            .await?;
    }
    // The townships and programs with payable enrolments: one index probe per township and
    // program on a single server; a cluster cannot probe its shards from a row of the
    // divisions (a reference table), so it reads them from the enrolments, each shard its own.
    let payable = if crate::distribute::keeps_person_ids(tx).await? {
        "SELECT DISTINCT e.program, e.township_code FROM enrolments e
              WHERE e.township_code >= $6 AND e.township_code < $7
                AND ($8 IS NULL OR e.program = $8)
                AND (e.status IN ('active', 'grace') OR (e.status = 'ended' AND e.end_month >= $1))"
            .to_string()
    } else {
        format!(
            "SELECT p.program, d.code AS township_code
              FROM divisions d CROSS JOIN ({programs}) p
              WHERE d.level = 4 AND d.code >= $6 AND d.code < $7
                AND ($8 IS NULL OR p.program = $8)
                AND (EXISTS (SELECT 1 FROM enrolments e WHERE e.township_code = d.code
                             AND e.program = p.program AND e.status IN ('active', 'grace'))
                  OR EXISTS (SELECT 1 FROM enrolments e WHERE e.township_code = d.code
                             AND e.program = p.program AND e.status = 'ended'
                             AND e.end_month >= $1))",
            programs = programs_table()
        )
    };
    tx.execute(
        q(format!(
            "INSERT INTO payroll_batches (batch_no, program, township_code, county_code, month, status,
             generation, generated_by, generated_at, updated_at)
           SELECT $2 || '-' || k.township_code || '-' || k.program, k.program, k.township_code, substr(k.township_code, 1, 6),
                  $1, 'draft', $3, $4, $5, $5
           FROM (
             {payable}
             UNION
             SELECT a.program, a.township_code FROM payroll_adjustments a
              WHERE a.status = 'approved' AND a.period < $1
                AND a.township_code >= $6 AND a.township_code < $7
                AND ($8 IS NULL OR a.program = $8)
             UNION
             SELECT x.program, x.township_code FROM payment_exceptions x
              WHERE x.status = 'ready' AND x.batch_month < $1
                AND x.township_code >= $6 AND x.township_code < $7
                AND ($8 IS NULL OR x.program = $8)
           ) k
           WHERE true
           ORDER BY k.program, k.township_code
           ON CONFLICT DO NOTHING"
        ))
        .bind(month.as_str())
        .bind(p.month.compact())
        .bind(p.token)
        .bind(p.by)
        .bind(p.now)
        .bind(p.lo)
        .bind(p.hi)
        .bind(program),
    )
    .await?;
    tx.fetch_one(q("SELECT COUNT(*) AS n FROM payroll_batches WHERE generation = $1").bind(p.token))
        .await?
        .i64("n")
}

/// The plan settings of a fill, to undo before commit.
#[derive(Debug)]
pub struct FillTuning {
    cache: Option<i64>,
}

/// Prepares the transaction for filling: for a city-wide month (`city_wide`), hash joins
/// on PostgreSQL, a big page cache on SQLite, and a background checkpoint after the commit.
pub async fn tune_fill(tx: &mut WriteTx, city_wide: bool) -> Result<FillTuning> {
    if city_wide && tx.is_postgres() {
        // A city-wide month: hash joins over the enrolments and households in memory
        // beat a million random index probes into them.
        tx.execute(q("SET LOCAL work_mem = '256MB'")).await?;
        tx.execute(q("SET LOCAL enable_nestloop = off")).await?;
    }
    // A city-wide month writes hundreds of MB of table and index pages: a page cache
    // big enough to keep the index pages being modified keeps SQLite from spilling
    // and rewriting them mid-transaction. Bounded; the connection's own size is
    // restored before commit ([`untune_fill`]).
    let cache = if city_wide && !tx.is_postgres() {
        Some(set_cache(tx, BIG_CACHE_KIB).await?)
    } else {
        None
    };
    if city_wide {
        tx.mark_large();
    }
    Ok(FillTuning { cache })
}

/// Restores the connection's own page cache after [`tune_fill`].
pub async fn untune_fill(tx: &mut Tx, t: FillTuning) -> Result<()> {
    if let Some(before) = t.cache {
        tx.execute(q(format!("PRAGMA cache_size = {before}")))
            .await?;
    }
    Ok(())
}

/// The batches carrying `token`, in id order.
pub async fn generated_batches(tx: &mut Tx, token: &str) -> Result<Vec<GeneratedBatch>> {
    let rows = tx
        .fetch_all(
            q(
                "SELECT id, batch_no, program, township_code, month, line_count, planned_fen,
                  back_pay_fen, reissue_count
           FROM payroll_batches WHERE generation = $1 ORDER BY id",
            )
            .bind(token),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(GeneratedBatch {
                id: r.i64("id")?,
                batch_no: r.str("batch_no")?,
                program: super::program(r, "program")?,
                township_code: r.str("township_code")?,
                month: super::month(r, "month")?,
                line_count: r.i64("line_count")?,
                planned: Fen(r.i64("planned_fen")?),
                back_pay: Fen(r.i64("back_pay_fen")?),
                reissue_count: r.i64("reissue_count")?,
            })
        })
        .collect()
}

/// The batches of `month` in the range `lo..hi` (of `program` if given), by township and
/// program, each with whether the generation `token` created it.
pub async fn batches_of_month(
    store: &Store,
    month: YearMonth,
    lo: &str,
    hi: &str,
    program: Option<Program>,
    token: &str,
) -> Result<Vec<(PayrollBatch, bool)>> {
    let month = month.to_string();
    let mut query = q(format!(
        "{SELECT_BATCH} WHERE b.month = $1 AND b.township_code >= $2 AND b.township_code < $3"
    ))
    .bind(month.as_str())
    .bind(lo)
    .bind(hi);
    if let Some(p) = program {
        query.sql.push_str(" AND b.program = $4");
        query.push(p.as_str());
    }
    query.sql.push_str(" ORDER BY b.township_code, b.program");
    store
        .fetch_all(query)
        .await?
        .iter()
        .map(|r| Ok((batch(r)?, r.str("generation")? == token)))
        .collect()
}

// ---------------------------------------------------------------- regeneration

/// Gives a draft a new generation (token, who, when) before its lines are filled again;
/// false when the batch is no longer a draft.
pub async fn restart_draft(tx: &mut Tx, id: i64, token: &str, by: &str, now: &str) -> Result<bool> {
    let n = tx
        .execute(
            q(
                "UPDATE payroll_batches SET generation = $2, generated_by = $3, generated_at = $4,
                 updated_at = $4 WHERE id = $1 AND status = 'draft'",
            )
            .bind(id)
            .bind(token)
            .bind(by)
            .bind(now),
        )
        .await?;
    Ok(n > 0)
}

/// Gives back the back pay and re-issues a draft carried (they wait again, approved or
/// ready, for the refill to take them if still due), and deletes the draft's lines.
/// Returns (back pay, exceptions) released.
pub async fn release_draft(tx: &mut Tx, id: i64) -> Result<(Vec<Released>, Vec<Released>)> {
    let back_pay = tx
        .fetch_all(
            q(
                "UPDATE payroll_adjustments SET status = 'approved', line_id = NULL
           WHERE line_id IN (SELECT id FROM payroll_lines WHERE batch_id = $1 AND kind <> 'regular')
           RETURNING id, township_code",
            )
            .bind(id),
        )
        .await?;
    let reissues = tx
        .fetch_all(
            q("UPDATE payment_exceptions SET status = 'ready', reissue_line_id = NULL
           WHERE reissue_line_id IN (SELECT id FROM payroll_lines WHERE batch_id = $1 AND kind <> 'regular')
           RETURNING id, township_code")
            .bind(id),
        )
        .await?;
    let released = |rows: Vec<crate::db::DbRow>| {
        rows.iter()
            .map(|r| {
                Ok(Released {
                    id: r.i64("id")?,
                    township_code: r.str("township_code")?,
                })
            })
            .collect::<Result<Vec<_>>>()
    };
    let out = (released(back_pay)?, released(reissues)?);
    tx.execute(q("DELETE FROM payroll_lines WHERE batch_id = $1").bind(id))
        .await?;
    Ok(out)
}

/// Whether the batch still exists (a refill that found nothing payable removes it).
pub async fn batch_exists(tx: &mut Tx, id: i64) -> Result<bool> {
    Ok(tx
        .fetch_optional(q("SELECT id FROM payroll_batches WHERE id = $1").bind(id))
        .await?
        .is_some())
}

/// Whether `e` is the once index refusing a line. On PostgreSQL the lines are partitioned
/// by year (migration 12) and the refusal names the year's own copy of the index, which
/// PostgreSQL names after the partition and the columns
/// (`payroll_lines_2026_beneficiary_id_number_program_period_idx`).
fn refused_by_once_index(e: &StoreError) -> bool {
    e.is_unique_violation_of("payroll_lines_once")
        || e.unique_violation().is_some_and(|c| {
            c.starts_with("payroll_lines_")
                && c.ends_with("_beneficiary_id_number_program_period_idx")
        })
}
