//! Reading batches and their lines, the review's inputs, sign-off and close, the month's
//! overview and the funds ledger.

use std::collections::HashMap;

use minzheng_domain::payroll::{
    BatchQuery, BatchStatus, EnrolmentFacts, LedgerFilter, LedgerRow, LineQuery, PayrollBatch,
    PayrollLine, PayrollOverview, PreviousBatch, Wanted,
};
use minzheng_domain::{Fen, Scope, YearMonth};

use super::{batch, coded, lines, month, opt_month, program, SELECT_BATCH};
use crate::db::{q, Conn, Store, Tx};
use crate::distribute::same_county;
use crate::error::{Result, StoreError};

/// One batch inside the scope (not found outside it).
pub async fn get_batch<'c>(
    db: impl Into<Conn<'c>>,
    scope: &Scope,
    id: i64,
) -> Result<PayrollBatch> {
    let r = db
        .into()
        .fetch_optional(q(format!("{SELECT_BATCH} WHERE b.id = $1")).bind(id))
        .await?
        .ok_or(StoreError::NotFound("该发放批次"))?;
    let b = batch(&r)?;
    if !scope.contains_str(&b.township_code) {
        return Err(StoreError::NotFound("该发放批次"));
    }
    Ok(b)
}

/// A filter's code as stored: `None` not given, `Some(None)` a code no word has.
fn code<T: Copy>(w: &Wanted<T>, as_str: fn(T) -> &'static str) -> Option<Option<String>> {
    w.as_ref()
        .map(|r| r.as_ref().ok().map(|v| as_str(*v).to_string()))
}

/// Batches of townships in `lo..hi`, newest month first (at most 2,000).
pub async fn list_batches(
    store: &Store,
    (lo, hi): (&str, &str),
    f: &BatchQuery,
) -> Result<Vec<PayrollBatch>> {
    let mut query = q(format!(
        "{SELECT_BATCH} WHERE b.township_code >= $1 AND b.township_code < $2"
    ))
    .bind(lo)
    .bind(hi);
    let month = f
        .month
        .as_ref()
        .map(|m| m.as_ref().ok().map(|m| m.to_string()));
    let program = code(&f.program, |p| p.as_str());
    let status = code(&f.status, |s| s.as_str());
    for (col, v) in [
        ("b.month", month),
        ("b.program", program),
        ("b.status", status),
    ] {
        match v {
            None => {}
            Some(Some(v)) => {
                query.push(v);
                query
                    .sql
                    .push_str(&format!(" AND {col} = ${}", query.args.len()));
            }
            // A code no word has: nothing matches.
            Some(None) => query.sql.push_str(" AND 1 = 0"),
        }
    }
    query
        .sql
        .push_str(" ORDER BY b.month DESC, b.township_code, b.program LIMIT 2000");
    store.fetch_all(query).await?.iter().map(batch).collect()
}

/// A batch's lines (paged, in id order) and their number. The batch must already be known
/// to be inside the caller's scope.
pub async fn batch_lines(store: &Store, id: i64, f: &LineQuery) -> Result<(Vec<PayrollLine>, i64)> {
    let mut cond = String::from("batch_id = $1");
    if f.missing_account {
        cond.push_str(" AND account_number = ''");
    }
    let mut args: Vec<String> = Vec::new();
    let status = code(&f.status, |s| s.as_str());
    let kind = code(&f.kind, |k| k.as_str());
    for (col, v) in [("status", status), ("kind", kind)] {
        match v {
            None => {}
            Some(Some(v)) => {
                args.push(v);
                cond.push_str(&format!(" AND {col} = ${}", args.len() + 1));
            }
            Some(None) => cond.push_str(" AND 1 = 0"),
        }
    }
    let mut count = q(format!(
        "SELECT COUNT(*) AS n FROM payroll_lines WHERE {cond}"
    ))
    .bind(id);
    let mut list = q(format!("SELECT * FROM payroll_lines WHERE {cond}")).bind(id);
    for a in &args {
        count.push(a.as_str());
        list.push(a.as_str());
    }
    let total = store.fetch_one(count).await?.i64("n")?;
    let n = list.args.len();
    list.sql
        .push_str(&format!(" ORDER BY id LIMIT ${} OFFSET ${}", n + 1, n + 2));
    list.push(f.limit);
    list.push(f.offset);
    let rows = store.fetch_all(list).await?;
    Ok((lines(&rows)?, total))
}

/// The lines of `township`'s batches of `month` whose village lies in `lo..hi` (a village
/// assistant's village), in batch and id order (at most 5,000).
pub async fn village_lines(
    store: &Store,
    township: &str,
    m: YearMonth,
    (lo, hi): (&str, &str),
) -> Result<Vec<PayrollLine>> {
    let rows = store
        .fetch_all(
            q(format!(
                "SELECT l.* FROM payroll_lines l JOIN payroll_batches b ON b.id = l.batch_id{}
               WHERE b.township_code = $1 AND b.month = $2
                 AND l.village_code >= $3 AND l.village_code < $4
               ORDER BY l.batch_id, l.id LIMIT 5000",
                same_county(store.distributed, "b", "l")
            ))
            .bind(township)
            .bind(m.to_string())
            .bind(lo)
            .bind(hi),
        )
        .await?;
    lines(&rows)
}

/// Every line of a batch in id order (the bank file's lines).
pub async fn all_lines<'c>(db: impl Into<Conn<'c>>, id: i64) -> Result<Vec<PayrollLine>> {
    let rows = db
        .into()
        .fetch_all(q("SELECT * FROM payroll_lines WHERE batch_id = $1 ORDER BY id").bind(id))
        .await?;
    lines(&rows)
}

/// A batch's regular lines and, separately, its back pay and re-issues, in id order.
pub async fn review_lines(store: &Store, id: i64) -> Result<(Vec<PayrollLine>, Vec<PayrollLine>)> {
    let regular = store.fetch_all(regular_lines(id)).await?;
    let extras = store
        .fetch_all(
            q("SELECT * FROM payroll_lines WHERE batch_id = $1 AND kind <> 'regular' ORDER BY id")
                .bind(id),
        )
        .await?;
    Ok((lines(&regular)?, lines(&extras)?))
}

fn regular_lines(batch: i64) -> crate::db::Q {
    q("SELECT * FROM payroll_lines WHERE batch_id = $1 AND kind = 'regular' ORDER BY id")
        .bind(batch)
}

/// The same program's batch of the month before `b`'s, with its regular lines.
pub async fn previous_batch(store: &Store, b: &PayrollBatch) -> Result<Option<PreviousBatch>> {
    let prev_month = b.month.prev().to_string();
    let Some(p) = store
        .fetch_optional(
            q("SELECT id, line_count, planned_fen FROM payroll_batches
               WHERE program = $1 AND township_code = $2 AND month = $3")
            .bind(b.program.as_str())
            .bind(b.township_code.as_str())
            .bind(prev_month.as_str()),
        )
        .await?
    else {
        return Ok(None);
    };
    let id = p.i64("id")?;
    let rows = store.fetch_all(regular_lines(id)).await?;
    Ok(Some(PreviousBatch {
        id,
        line_count: p.i64("line_count")?,
        planned: Fen(p.i64("planned_fen")?),
        lines: lines(&rows)?,
    }))
}

/// What the review needs to know about enrolments: state, dates, the case that created
/// each and the latest case about it.
pub async fn enrolment_facts(store: &Store, ids: &[i64]) -> Result<HashMap<i64, EnrolmentFacts>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let list: Vec<String> = chunk.iter().map(|i| i.to_string()).collect();
        let rows = store
            .fetch_all(q(format!(
                "SELECT e.id, e.status, e.start_month, e.end_month, e.grace_until, e.payment,
                        e.monthly_fen, e.year_end_extra_fen, e.township_code, e.case_id,
                        c.case_no, c.kind AS case_kind,
                        lc.id AS last_case_id, lc.case_no AS last_case_no, lc.kind AS last_case_kind
                 FROM enrolments e
                 LEFT JOIN cases c ON c.id = e.case_id{}
                 LEFT JOIN cases lc ON lc.id = (SELECT MAX(c2.id) FROM cases c2
                                                WHERE c2.enrolment_id = e.id{}){}
                 WHERE e.id IN ({})",
                same_county(store.distributed, "c", "e"),
                same_county(store.distributed, "c2", "e"),
                same_county(store.distributed, "lc", "e"),
                list.join(",")
            )))
            .await?;
        for r in rows {
            out.insert(
                r.i64("id")?,
                EnrolmentFacts {
                    status: coded(&r, "status")?,
                    start_month: month(&r, "start_month")?,
                    end_month: opt_month(&r, "end_month")?,
                    grace_until: opt_month(&r, "grace_until")?,
                    payment: coded(&r, "payment")?,
                    township_code: r.str("township_code")?,
                    monthly: Fen(r.i64("monthly_fen")?),
                    year_end_extra: Fen(r.i64("year_end_extra_fen")?),
                    case_id: r.opt_i64("case_id")?,
                    case_no: r.opt_str("case_no")?,
                    case_kind: r.opt_str("case_kind")?,
                    last_case_id: r.opt_i64("last_case_id")?,
                    last_case_no: r.opt_str("last_case_no")?,
                    last_case_kind: r.opt_str("last_case_kind")?,
                },
            );
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- sign-off, close

/// Signs a draft off: only if it is still a draft, no line lacks a bank account and, with
/// `reviewed`, it is still the generation of that time. False if any of that no longer
/// holds ([`sign_off_facts`] says which).
pub async fn sign_off(
    tx: &mut Tx,
    id: i64,
    by: &str,
    now: &str,
    reviewed: Option<&str>,
) -> Result<bool> {
    let distributed = crate::distribute::keeps_person_ids(tx).await?;
    let mut update = q(format!(
        "UPDATE payroll_batches SET status = $2, signed_off_by = $3, signed_off_at = $4, updated_at = $4
             WHERE id = $1 AND status = $5 AND NOT EXISTS (SELECT 1 FROM payroll_lines l
                   WHERE l.batch_id = payroll_batches.id AND l.account_number = ''{})",
        same_county(distributed, "l", "payroll_batches")
    ))
    .bind(id)
    .bind(BatchStatus::SignedOff.as_str())
    .bind(by)
    .bind(now)
    .bind(BatchStatus::Draft.as_str());
    if let Some(r) = reviewed {
        update.sql.push_str(" AND generated_at = $6");
        update.push(r);
    }
    Ok(tx.execute(update).await? > 0)
}

/// A batch's state, generation time and lines without a bank account, as they are now.
pub async fn sign_off_facts(tx: &mut Tx, id: i64) -> Result<(BatchStatus, String, i64)> {
    let distributed = crate::distribute::keeps_person_ids(tx).await?;
    let r = tx
        .fetch_one(
            q(format!(
                "SELECT status, generated_at,
                 (SELECT COUNT(*) FROM payroll_lines l
                  WHERE l.batch_id = b.id AND l.account_number = ''{}) AS no_account
               FROM payroll_batches b WHERE b.id = $1",
                same_county(distributed, "l", "b")
            ))
            .bind(id),
        )
        .await?;
    Ok((
        coded(&r, "status")?,
        r.str("generated_at")?,
        r.i64("no_account")?,
    ))
}

/// Closes a reconciled batch (the system closing it counts as its signer if none); false
/// if it is no longer reconciled.
pub async fn close(tx: &mut Tx, id: i64, by: &str, now: &str) -> Result<bool> {
    let n = tx
        .execute(
            q("UPDATE payroll_batches SET status = $2, closed_at = $4, signed_off_by = COALESCE(signed_off_by, $3), updated_at = $4
             WHERE id = $1 AND status = $5")
            .bind(id)
            .bind(BatchStatus::Closed.as_str())
            .bind(by)
            .bind(now)
            .bind(BatchStatus::Reconciled.as_str()),
        )
        .await?;
    Ok(n > 0)
}

// ---------------------------------------------------------------- overview, ledger

/// Where `month`'s payroll stands in the scope: batches by state, the planned amount, 退票
/// waiting for a correction or a re-issue, back pay waiting for the director.
pub async fn overview(store: &Store, scope: &Scope, m: YearMonth) -> Result<PayrollOverview> {
    let (lo, hi) = scope.bounds();
    let mut out = PayrollOverview::empty(m);
    let month = m.to_string();
    for r in store
        .fetch_all(
            q(
                "SELECT status, COUNT(*) AS n, CAST(COALESCE(SUM(planned_fen), 0) AS BIGINT) AS fen
               FROM payroll_batches
               WHERE month = $1 AND township_code >= $2 AND township_code < $3
               GROUP BY status",
            )
            .bind(month.as_str())
            .bind(lo.as_str())
            .bind(hi.as_str()),
        )
        .await?
    {
        out.add_batches(coded(&r, "status")?, r.i64("n")?, Fen(r.i64("fen")?));
    }
    for r in store
        .fetch_all(
            q("SELECT status, COUNT(*) AS n FROM payment_exceptions
               WHERE status IN ('open', 'ready') AND township_code >= $1 AND township_code < $2
               GROUP BY status")
            .bind(lo.as_str())
            .bind(hi.as_str()),
        )
        .await?
    {
        if r.str("status")? == "open" {
            out.open_exceptions = r.i64("n")?;
        } else {
            out.ready_exceptions = r.i64("n")?;
        }
    }
    out.pending_back_pay = store
        .fetch_one(
            q("SELECT COUNT(*) AS n FROM payroll_adjustments
               WHERE status = 'pending' AND township_code >= $1 AND township_code < $2")
            .bind(lo.as_str())
            .bind(hi.as_str()),
        )
        .await?
        .i64("n")?;
    Ok(out)
}

/// The funds ledger (资金台账) of townships in `lo..hi`: per month, program and township,
/// what was planned, paid, failed and re-issued. Read from the batch counters, so it is
/// cheap at any size.
pub async fn ledger(
    store: &Store,
    (lo, hi): (&str, &str),
    f: &LedgerFilter,
) -> Result<Vec<LedgerRow>> {
    // On a distributed database each sum over the recoveries names the batch's county, which
    // the grouping then carries (one township is in one county: the same groups).
    let r_county = same_county(store.distributed, "r", "b");
    let group_county = if store.distributed {
        ", b.county_code"
    } else {
        ""
    };
    let mut query = q(format!(
        "SELECT b.month, b.program, b.township_code, MAX(d.name) AS township_name,
                COUNT(*) AS batches,
                CAST(SUM(b.line_count) AS BIGINT) AS lines,
                CAST(SUM(b.planned_fen) AS BIGINT) AS planned_fen,
                CAST(SUM(b.paid_count) AS BIGINT) AS paid_count,
                CAST(SUM(b.paid_fen) AS BIGINT) AS paid_fen,
                CAST(SUM(b.failed_count) AS BIGINT) AS failed_count,
                CAST(SUM(b.failed_fen) AS BIGINT) AS failed_fen,
                CAST(SUM(b.reissue_count) AS BIGINT) AS reissue_count,
                CAST(SUM(b.reissue_fen) AS BIGINT) AS reissue_fen,
                CAST(COALESCE((SELECT SUM(r.amount_fen) FROM recoveries r
                   WHERE r.period = b.month AND r.program = b.program
                     AND r.township_code = b.township_code
                     AND r.status IN ('open', 'write_off_requested'){r_county}), 0) AS BIGINT) AS to_recover,
                CAST(COALESCE((SELECT SUM(r.amount_fen) FROM recoveries r
                   WHERE r.period = b.month AND r.program = b.program
                     AND r.township_code = b.township_code AND r.status = 'recovered'{r_county}), 0)
                   AS BIGINT) AS recovered,
                CAST(COALESCE((SELECT SUM(r.amount_fen) FROM recoveries r
                   WHERE r.period = b.month AND r.program = b.program
                     AND r.township_code = b.township_code AND r.status = 'written_off'{r_county}), 0)
                   AS BIGINT) AS written_off
         FROM payroll_batches b LEFT JOIN divisions d ON d.code = b.township_code
         WHERE b.township_code >= $1 AND b.township_code < $2"
    ))
    .bind(lo)
    .bind(hi);
    for (cond, v) in [
        ("b.month >= ", &f.from),
        ("b.month <= ", &f.to),
        ("b.program = ", &f.program),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            query.push(v);
            query
                .sql
                .push_str(&format!(" AND {cond}${}", query.args.len()));
        }
    }
    query.sql.push_str(&format!(
        " GROUP BY b.month, b.program, b.township_code{group_county}
          ORDER BY b.month, b.program, b.township_code"
    ));
    store
        .fetch_all(query)
        .await?
        .iter()
        .map(|r| {
            Ok(LedgerRow {
                month: month(r, "month")?,
                program: program(r, "program")?,
                township_code: r.str("township_code")?,
                township_name: r.opt_str("township_name")?.unwrap_or_default(),
                batches: r.i64("batches")?,
                lines: r.i64("lines")?,
                planned: Fen(r.i64("planned_fen")?),
                paid_count: r.i64("paid_count")?,
                paid: Fen(r.i64("paid_fen")?),
                failed_count: r.i64("failed_count")?,
                failed: Fen(r.i64("failed_fen")?),
                reissue_count: r.i64("reissue_count")?,
                reissued: Fen(r.i64("reissue_fen")?),
                to_recover: Fen(r.i64("to_recover")?),
                recovered: Fen(r.i64("recovered")?),
                written_off: Fen(r.i64("written_off")?),
            })
        })
        .collect()
}
