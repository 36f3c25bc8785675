//! 调标批次 storage: `repricing_batches` (one pending batch at most per reason, program,
//! township and month) and `repricing_lines` (old and new monthly amounts per enrolment,
//! with the calculator's explanation). The candidates are read in one statement, the lines
//! written in multi-row inserts and the counters and the applied amounts set in one
//! statement each.

use std::collections::BTreeMap;

use minzheng_domain::calculators::Explanation;
use minzheng_domain::case_calc::CaseDetails;
use minzheng_domain::repricing::{
    NewRepricingLine, RepricingBatch, RepricingCandidate, RepricingLine, RepricingReason,
    RepricingStatus,
};
use minzheng_domain::{Fen, Program, Scope, UrbanRural, YearMonth};

use crate::db::{q, Arg, Conn, DbRow, Tx};
use crate::error::{Result, StoreError};

/// Queues concurrent preparations (the monthly task and a clerk at once) on PostgreSQL, where
/// both would otherwise read the same candidates and race to create the township's pending
/// batch; SQLite's writer lock already serializes them.
pub async fn lock_preparation(tx: &mut Tx) -> Result<()> {
    if tx.is_postgres() {
        tx.execute(q("SELECT pg_advisory_xact_lock(7340013)"))
            .await?;
    }
    Ok(())
}

/// The live enrolments of `program` in `lo..hi` (village codes) payable in `month` that
/// no pending batch holds and no batch of `month` re-priced already: what a preparation
/// considers. Suspended enrolments count: their amount is what they resume with.
pub async fn candidates<'c>(
    db: impl Into<Conn<'c>>,
    program: Program,
    (lo, hi): (&str, &str),
    month: YearMonth,
) -> Result<Vec<RepricingCandidate>> {
    let mut db = db.into();
    let distributed = db.is_distributed().await?;
    let county = |a: &str, b: &str| crate::distribute::same_county(distributed, a, b);
    let rows = db
        .fetch_all(
            q(format!(
                "SELECT e.id, e.township_code, e.village_code, e.beneficiary_name,
                      e.beneficiary_id_number, e.monthly_fen, h.registration_type,
                      e.household_id, e.person_id, c.details_json
               FROM enrolments e JOIN households h ON h.id = e.household_id{eh}
               LEFT JOIN cases c ON c.id = e.case_id{ec}
               WHERE e.program = $1 AND e.village_code >= $2 AND e.village_code < $3
                 AND e.status IN ('active', 'grace', 'suspended') AND e.payment = 'monthly'
                 AND e.start_month <= $4 AND (e.end_month IS NULL OR e.end_month >= $4)
                 AND NOT EXISTS (SELECT 1 FROM repricing_lines l
                                 JOIN repricing_batches b ON b.id = l.batch_id{bl}
                                 WHERE l.enrolment_id = e.id{le}
                                   AND (b.status = 'pending' OR l.once_month = $4))
               ORDER BY e.township_code, e.id",
                eh = county("h", "e"),
                ec = county("c", "e"),
                bl = county("b", "l"),
                le = county("l", "e"),
            ))
            .bind(program.as_str())
            .bind(lo)
            .bind(hi)
            .bind(month.to_string()),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(RepricingCandidate {
                enrolment_id: r.i64("id")?,
                township_code: r.str("township_code")?,
                village_code: r.str("village_code")?,
                beneficiary_name: r.str("beneficiary_name")?,
                beneficiary_id_number: r.str("beneficiary_id_number")?,
                urban_rural: if r.str("registration_type")? == "urban" {
                    UrbanRural::Urban
                } else {
                    UrbanRural::Rural
                },
                monthly: Fen(r.i64("monthly_fen")?),
                household_id: r.i64("household_id")?,
                person_id: r.opt_i64("person_id")?,
                details: r
                    .opt_str("details_json")?
                    .and_then(|d| serde_json::from_str(&d).ok())
                    .unwrap_or_else(CaseDetails::default),
            })
        })
        .collect()
}

/// What a preparation wrote: per batch, its id and township and how many lines it gained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub batch_id: i64,
    pub township_code: String,
    pub added: i64,
}

/// Adds the lines to the pending batch of their township (created if there is none) and
/// brings the touched batches' counters up to date. A line whose enrolment is re-priced
/// for the month already is skipped (the once index).
#[allow(clippy::too_many_arguments)]
pub async fn add_lines(
    tx: &mut Tx,
    reason: RepricingReason,
    program: Program,
    month: YearMonth,
    lines: &[NewRepricingLine],
    by: &str,
    now: &str,
) -> Result<Vec<Prepared>> {
    let mut by_township: BTreeMap<&str, Vec<&NewRepricingLine>> = BTreeMap::new();
    for l in lines {
        by_township
            .entry(l.candidate.township_code.as_str())
            .or_default()
            .push(l);
    }
    let month_s = month.to_string();
    let mut out = Vec::new();
    for (township, lines) in by_township {
        let existing = tx
            .fetch_optional(
                q(
                    "SELECT id FROM repricing_batches WHERE reason = $1 AND program = $2
                     AND township_code = $3 AND month = $4 AND status = 'pending'",
                )
                .bind(reason.as_str())
                .bind(program.as_str())
                .bind(township)
                .bind(month_s.as_str()),
            )
            .await?;
        let batch_id = match existing {
            Some(r) => r.i64("id")?,
            None => tx
                .fetch_one(
                    q(
                        "INSERT INTO repricing_batches (reason, program, township_code, county_code, month,
                         status, prepared_by, prepared_at)
                       VALUES ($1, $2, $3, substr($3, 1, 6), $4, 'pending', $5, $6) RETURNING id",
                    )
                    .bind(reason.as_str())
                    .bind(program.as_str())
                    .bind(township)
                    .bind(month_s.as_str())
                    .bind(by)
                    .bind(now),
                )
                .await?
                .i64("id")?,
        };
        let rows: Vec<Vec<Arg>> = lines
            .iter()
            .map(|l| {
                let c = &l.candidate;
                vec![
                    batch_id.into(),
                    c.enrolment_id.into(),
                    c.township_code.as_str().into(),
                    crate::county_of(&c.township_code).into(),
                    c.village_code.as_str().into(),
                    c.beneficiary_name.as_str().into(),
                    c.beneficiary_id_number.as_str().into(),
                    c.monthly.0.into(),
                    l.new_amount.0.into(),
                    serde_json::to_string(&l.explanation)
                        .unwrap_or_else(|_| "{}".into())
                        .into(),
                    l.problem.clone().into(),
                    month_s.as_str().into(),
                ]
            })
            .collect();
        let added = tx
            .insert_rows(
                "INSERT INTO repricing_lines (batch_id, enrolment_id, township_code, county_code,
                   village_code, beneficiary_name, beneficiary_id_number, old_fen, new_fen,
                   explanation_json, problem, once_month)",
                12,
                "ON CONFLICT DO NOTHING",
                &rows,
            )
            .await? as i64;
        update_counters(tx, batch_id).await?;
        out.push(Prepared {
            batch_id,
            township_code: township.to_string(),
            added,
        });
    }
    // A batch whose lines were all re-priced meanwhile stays empty: it is not kept.
    tx.execute(q(
        "DELETE FROM repricing_batches WHERE status = 'pending' AND line_count = 0",
    ))
    .await?;
    out.retain(|p| p.added > 0);
    Ok(out)
}

/// The batch's counters from its lines (a line at 0 counts its old amount on both sides:
/// it is not applied; a line not computed has its old amount on both sides).
async fn update_counters(tx: &mut Tx, batch_id: i64) -> Result<()> {
    tx.execute(
        q("UPDATE repricing_batches SET
             line_count = (SELECT COUNT(*) FROM repricing_lines l WHERE l.batch_id = $1),
             zero_count = (SELECT COUNT(*) FROM repricing_lines l
                           WHERE l.batch_id = $1 AND l.new_fen = 0 AND l.problem IS NULL),
             problem_count = (SELECT COUNT(*) FROM repricing_lines l
                              WHERE l.batch_id = $1 AND l.problem IS NOT NULL),
             old_total_fen = (SELECT COALESCE(SUM(l.old_fen), 0) FROM repricing_lines l
                              WHERE l.batch_id = $1),
             new_total_fen = (SELECT COALESCE(SUM(CASE WHEN l.new_fen = 0 THEN l.old_fen
                                                       ELSE l.new_fen END), 0)
                              FROM repricing_lines l WHERE l.batch_id = $1)
           WHERE id = $1")
        .bind(batch_id),
    )
    .await?;
    Ok(())
}

const BATCH_COLUMNS: &str = "b.*, COALESCE(d.name, b.township_code) AS township_name";

fn batch(r: &DbRow) -> Result<RepricingBatch> {
    Ok(RepricingBatch {
        id: r.i64("id")?,
        reason: r.coded("reason")?,
        program: r.program("program")?,
        township_code: r.str("township_code")?,
        township_name: r.str("township_name")?,
        month: r.month("month")?,
        status: r.coded("status")?,
        line_count: r.i64("line_count")?,
        zero_count: r.i64("zero_count")?,
        problem_count: r.i64("problem_count")?,
        old_total: Fen(r.i64("old_total_fen")?),
        new_total: Fen(r.i64("new_total_fen")?),
        prepared_by: r.str("prepared_by")?,
        prepared_at: r.str("prepared_at")?,
        decided_by: r.opt_str("decided_by")?,
        decided_at: r.opt_str("decided_at")?,
    })
}

/// The batches of townships inside the scope, newest month first (at most 500), only those
/// of `status` if given.
pub async fn batches<'c>(
    db: impl Into<Conn<'c>>,
    scope: &Scope,
    status: Option<RepricingStatus>,
) -> Result<Vec<RepricingBatch>> {
    let (lo, hi) = scope.bounds();
    let mut query = q(format!(
        "SELECT {BATCH_COLUMNS} FROM repricing_batches b
         LEFT JOIN divisions d ON d.code = b.township_code
         WHERE b.township_code >= $1 AND b.township_code < $2
           AND ($3 = '' OR b.status = $3)
         ORDER BY b.month DESC, b.township_code, b.id DESC LIMIT 500"
    ))
    .bind(lo.as_str())
    .bind(hi.as_str());
    query.push(status.map(|s| s.as_str()).unwrap_or(""));
    db.into()
        .fetch_all(query)
        .await?
        .iter()
        .map(batch)
        .collect()
}

/// One batch inside the scope (404 outside it: a township's batch is seen by those whose
/// jurisdiction holds the township).
pub async fn batch_in_scope<'c>(
    db: impl Into<Conn<'c>>,
    scope: &Scope,
    id: i64,
) -> Result<RepricingBatch> {
    db.into()
        .fetch_optional(
            q(format!(
                "SELECT {BATCH_COLUMNS} FROM repricing_batches b
                 LEFT JOIN divisions d ON d.code = b.township_code WHERE b.id = $1"
            ))
            .bind(id),
        )
        .await?
        .map(|r| batch(&r))
        .transpose()?
        .filter(|b| scope.contains_str(&b.township_code))
        .ok_or(StoreError::NotFound("该调标批次"))
}

/// The lines of a batch, by village and name.
pub async fn lines<'c>(db: impl Into<Conn<'c>>, batch_id: i64) -> Result<Vec<RepricingLine>> {
    db.into()
        .fetch_all(
            q("SELECT * FROM repricing_lines WHERE batch_id = $1
               ORDER BY village_code, beneficiary_name, id")
            .bind(batch_id),
        )
        .await?
        .iter()
        .map(|r| {
            let explanation: Explanation =
                serde_json::from_str(&r.str("explanation_json")?).unwrap_or_default();
            Ok(RepricingLine {
                id: r.i64("id")?,
                batch_id: r.i64("batch_id")?,
                enrolment_id: r.i64("enrolment_id")?,
                township_code: r.str("township_code")?,
                village_code: r.str("village_code")?,
                beneficiary_name: r.str("beneficiary_name")?,
                beneficiary_id_number: r.str("beneficiary_id_number")?,
                old_amount: Fen(r.i64("old_fen")?),
                new_amount: Fen(r.i64("new_fen")?),
                explanation,
                problem: r.opt_str("problem")?,
            })
        })
        .collect()
}

/// Moves a batch from `from` to `to` if it is still `from` (two directors pressing at once
/// decide it once). Voiding frees its enrolments for a new preparation.
pub async fn decide(
    tx: &mut Tx,
    id: i64,
    from: RepricingStatus,
    to: RepricingStatus,
    by: &str,
    now: &str,
) -> Result<bool> {
    let n = tx
        .execute(
            q(
                "UPDATE repricing_batches SET status = $3, decided_by = $4, decided_at = $5
               WHERE id = $1 AND status = $2",
            )
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(by)
            .bind(now),
        )
        .await?;
    if n == 1 && to == RepricingStatus::Void {
        tx.execute(q("UPDATE repricing_lines SET once_month = NULL WHERE batch_id = $1").bind(id))
            .await?;
    }
    Ok(n == 1)
}

/// A line a sign-off applies: the enrolment, its township and the amounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedLine {
    pub enrolment_id: i64,
    pub township_code: String,
    pub beneficiary_name: String,
    pub old: Fen,
    pub new: Fen,
}

/// Whether any month of `program` from `month` on has been paid: a payroll batch of it no
/// longer a draft, for `month` or later, anywhere in the city (a line is never for a later
/// month than its batch's: back pay is for earlier months). When none is, a sign-off has
/// nothing overpaid to refuse and no top-up to add.
pub async fn paid_from(tx: &mut Tx, program: Program, month: YearMonth) -> Result<bool> {
    Ok(tx
        .fetch_optional(
            q("SELECT 1 AS paid FROM payroll_batches
               WHERE program = $1 AND month >= $2 AND status <> 'draft' LIMIT 1")
            .bind(program.as_str())
            .bind(month.to_string()),
        )
        .await?
        .is_some())
}

/// The beneficiaries of the batch (lines not at 0) paid more than their new amount for the
/// batch's month or a later one in a batch no longer a draft, with the first such month: a
/// decrease of months already paid is not settled by a re-pricing.
pub async fn overpaid_from_month(
    tx: &mut Tx,
    b: &RepricingBatch,
) -> Result<Vec<(String, YearMonth)>> {
    let rows = tx
        .fetch_all(
            q(format!(
                "SELECT l.beneficiary_name, MIN(p.period) AS period {PAID_AT_OLD}
                   AND p.amount_fen > {NEW_FOR_PERIOD}
                 GROUP BY l.beneficiary_name ORDER BY l.beneficiary_name"
            ))
            .bind(b.id)
            .bind(b.program.as_str())
            .bind(b.month.to_string()),
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.str("beneficiary_name")?, r.month("period")?)))
        .collect()
}

/// The months of a batch's beneficiaries paid (a regular or back-pay line in a batch no
/// longer a draft) from the batch's month on, for the lines a sign-off applies: `l` the
/// repricing line, `p` the paid line, `e` the enrolment.
const PAID_AT_OLD: &str = "FROM repricing_lines l
    JOIN enrolments e ON e.id = l.enrolment_id
    JOIN payroll_lines p ON p.beneficiary_id_number = l.beneficiary_id_number
      AND p.program = $2 AND p.period >= $3 AND p.kind NOT IN ('reissue', 'top_up')
    JOIN payroll_batches pb ON pb.id = p.batch_id AND pb.status <> 'draft'
    WHERE l.batch_id = $1 AND l.new_fen > 0 AND l.problem IS NULL AND l.old_fen = e.monthly_fen
      AND e.status <> 'ended'";

/// What the new amount pays for the paid line's month (December adds the enrolment's
/// year-end remainder).
const NEW_FOR_PERIOD: &str =
    "(l.new_fen + CASE WHEN substr(p.period, 6, 2) = '12' THEN e.year_end_extra_fen ELSE 0 END)";

/// A top-up (调标补差) a sign-off asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopUp {
    pub id: i64,
    pub enrolment_id: i64,
    pub township_code: String,
    pub period: YearMonth,
    pub amount: Fen,
}

/// For every month of the batch's beneficiaries already paid at a lower amount, an
/// approved back-pay request of kind `top_up` for the difference (requested by whoever
/// prepared the batch, approved by the signer), in one statement. `None` if one of those
/// months has a top-up already (from an earlier batch).
pub async fn top_ups(
    tx: &mut Tx,
    b: &RepricingBatch,
    signer: &str,
    now: &str,
) -> Result<Option<Vec<TopUp>>> {
    let reason = format!(
        "调标补差：{}（调标批次{}，{}起执行），已发月份按原金额发放",
        b.reason.label(),
        b.id,
        b.month
    );
    let result = tx
        .fetch_all(
            q(format!(
                "INSERT INTO payroll_adjustments (enrolment_id, program, township_code, county_code, period,
                   amount_fen, reason, status, requested_by, requested_at, decided_by,
                   decided_at, kind)
                 SELECT l.enrolment_id, p.program, e.township_code, e.county_code, p.period,
                        {NEW_FOR_PERIOD} - p.amount_fen, $4, 'approved', $5, $7, $6, $7, 'top_up'
                 {PAID_AT_OLD} AND p.amount_fen < {NEW_FOR_PERIOD}
                 ORDER BY l.id, p.period
                 RETURNING id, enrolment_id, township_code, period, amount_fen"
            ))
            .bind(b.id)
            .bind(b.program.as_str())
            .bind(b.month.to_string())
            .bind(reason)
            .bind(b.prepared_by.as_str())
            .bind(signer)
            .bind(now),
        )
        .await;
    let rows = match result {
        Ok(rows) => rows,
        Err(e) if e.is_unique_violation() => return Ok(None),
        Err(e) => return Err(e),
    };
    rows.iter()
        .map(|r| {
            Ok(TopUp {
                id: r.i64("id")?,
                enrolment_id: r.i64("enrolment_id")?,
                township_code: r.str("township_code")?,
                period: r.month("period")?,
                amount: Fen(r.i64("amount_fen")?),
            })
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// Draft payroll batches of the batch's month or later holding a regular line of one of
/// its enrolments: generated at the old amounts, they are to be generated again.
pub async fn drafts_to_regenerate(tx: &mut Tx, b: &RepricingBatch) -> Result<Vec<i64>> {
    let rows = tx
        .fetch_all(
            q("SELECT DISTINCT pb.id FROM repricing_lines l
               JOIN payroll_lines p ON p.beneficiary_id_number = l.beneficiary_id_number
                 AND p.program = $2 AND p.period >= $3 AND p.kind = 'regular'
               JOIN payroll_batches pb ON pb.id = p.batch_id AND pb.status = 'draft'
               WHERE l.batch_id = $1 AND l.new_fen > 0 AND l.problem IS NULL ORDER BY pb.id")
            .bind(b.id)
            .bind(b.program.as_str())
            .bind(b.month.to_string()),
        )
        .await?;
    rows.iter().map(|r| r.i64("id")).collect()
}

/// What a sign-off applied: the lines, and the beneficiaries of lines it left because a
/// case changed or ended their enrolment since the preparation (the sign-off leaves them
/// as the case set them), each in line order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub lines: Vec<AppliedLine>,
    pub changed_meanwhile: Vec<String>,
}

/// Applies the batch's lines that are not at 0, were computed, and whose enrolment still
/// pays the amount the line was prepared from and has not ended: the new amounts in one
/// `UPDATE … FROM` (the bare update's shape). The lines are read once, with whether each
/// still applies.
pub async fn apply(tx: &mut Tx, batch_id: i64, now: &str) -> Result<Applied> {
    // The batch is `$1` in both statements, `now` the update's `$2` (numbered in order of
    // first appearance, as the SQLite path binds by position).
    const LINES: &str = "l.batch_id = $1 AND l.new_fen > 0 AND l.problem IS NULL";
    const STILL: &str = "l.old_fen = e.monthly_fen AND e.status <> 'ended'";
    let select = format!(
        "SELECT l.enrolment_id, l.township_code, l.beneficiary_name, l.old_fen, l.new_fen,
                CASE WHEN {STILL} THEN 1 ELSE 0 END AS still
         FROM repricing_lines l JOIN enrolments e ON e.id = l.enrolment_id
         WHERE {LINES} ORDER BY l.id"
    );
    // The amounts to apply are read once (the lines by their batch index, each enrolment
    // by its key) and joined to the enrolments they change.
    let update = format!(
        "WITH x AS (SELECT l.enrolment_id, l.new_fen FROM repricing_lines l
                    JOIN enrolments e ON e.id = l.enrolment_id WHERE {LINES} AND {STILL})
         UPDATE enrolments SET monthly_fen = x.new_fen, updated_at = $2
         FROM x WHERE x.enrolment_id = enrolments.id"
    );
    let mut out = Applied::default();
    let mut take = |line: AppliedLine, still: bool| {
        if still {
            out.lines.push(line);
        } else {
            out.changed_meanwhile.push(line.beneficiary_name);
        }
    };
    if let Tx::Sqlite(t) = tx {
        // Thousands of lines per batch: read on the connection's handle, not row by row
        // through sqlx's worker.
        let mut handle = t.lock_handle().await?;
        let raw = crate::bulk::Raw::new(&mut handle);
        raw.prepare(&select)?.query(&[batch_id.into()], |r| {
            take(
                AppliedLine {
                    enrolment_id: r.int(0),
                    township_code: r.text(1).into_owned(),
                    beneficiary_name: r.text(2).into_owned(),
                    old: Fen(r.int(3)),
                    new: Fen(r.int(4)),
                },
                r.int(5) != 0,
            );
            Ok(())
        })?;
        raw.prepare(&update)?.run(&[batch_id.into(), now.into()])?;
        return Ok(out);
    }
    let rows = tx.fetch_all(q(select).bind(batch_id)).await?;
    tx.execute(q(update).bind(batch_id).bind(now)).await?;
    for r in &rows {
        take(
            AppliedLine {
                enrolment_id: r.i64("enrolment_id")?,
                township_code: r.str("township_code")?,
                beneficiary_name: r.str("beneficiary_name")?,
                old: Fen(r.i64("old_fen")?),
                new: Fen(r.i64("new_fen")?),
            },
            r.i64("still")? != 0,
        );
    }
    Ok(out)
}
