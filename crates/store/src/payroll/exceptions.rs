//! Payment exceptions (退票) and back pay (补发).

use minzheng_domain::payroll::{
    BackPay, BackPayEnrolment, BackPayRequest, BackPayStatus, CorrectedAccount, ExceptionStatus,
    PaymentException, Wanted,
};
use minzheng_domain::{Fen, Program, Scope, YearMonth};

use super::{
    back_pay, coded, exception, month, opt_month, program, select_back_pay, select_exception,
};
use crate::db::{q, Conn, Store, Tx};
use crate::distribute::same_county;
use crate::error::{Result, StoreError};

// ---------------------------------------------------------------- exceptions (退票)

/// Payment exceptions inside the scope (optionally of one status code), newest first (at
/// most 2,000).
pub async fn list_exceptions(
    store: &Store,
    scope: &Scope,
    status: &Wanted<ExceptionStatus>,
) -> Result<Vec<PaymentException>> {
    let (lo, hi) = scope.bounds();
    let mut query = q(format!(
        "{} WHERE x.township_code >= $1 AND x.township_code < $2",
        select_exception(store.distributed)
    ))
    .bind(lo)
    .bind(hi);
    match status {
        None => {}
        Some(Ok(s)) => {
            query.sql.push_str(" AND x.status = $3");
            query.push(s.as_str());
        }
        // A status no word has: nothing matches.
        Some(Err(_)) => query.sql.push_str(" AND 1 = 0"),
    }
    query.sql.push_str(" ORDER BY x.id DESC LIMIT 2000");
    store
        .fetch_all(query)
        .await?
        .iter()
        .map(exception)
        .collect()
}

/// One payment exception inside the scope.
pub async fn get_exception<'c>(
    db: impl Into<Conn<'c>>,
    scope: &Scope,
    id: i64,
) -> Result<PaymentException> {
    let mut db = db.into();
    let select = select_exception(db.is_distributed().await?);
    let r = db
        .fetch_optional(q(format!("{select} WHERE x.id = $1")).bind(id))
        .await?
        .ok_or(StoreError::NotFound("该退票记录"))?;
    let x = exception(&r)?;
    if !scope.contains_str(&x.township_code) {
        return Err(StoreError::NotFound("该退票记录"));
    }
    Ok(x)
}

/// Records a correction: the exception becomes ready for re-issue. False if it was
/// re-issued or cancelled meanwhile.
pub async fn correct_exception(
    tx: &mut Tx,
    id: i64,
    c: &CorrectedAccount,
    by: &str,
    now: &str,
) -> Result<bool> {
    let n = tx
        .execute(
            q("UPDATE payment_exceptions SET status = 'ready', bank_name = $2, account_number = $3,
                 account_holder = $4, note = $5, corrected_by = $6, corrected_at = $7, updated_at = $7
               WHERE id = $1 AND status IN ('open', 'ready')")
            .bind(id)
            .bind(c.bank_name.as_str())
            .bind(c.account_number.as_str())
            .bind(c.account_holder.as_str())
            .bind(c.note.as_str())
            .bind(by)
            .bind(now),
        )
        .await?;
    Ok(n > 0)
}

/// Writes the corrected account to the household the failed line paid, so later months go
/// to it — if the household is still within `scope` (it may have moved township since the
/// failed month; its new township keeps its own account record). Returns the household.
pub async fn correct_household_account(
    tx: &mut Tx,
    line_id: i64,
    scope: &Scope,
    c: &CorrectedAccount,
    now: &str,
) -> Result<Option<i64>> {
    let (lo, hi) = scope.bounds();
    let distributed = crate::distribute::keeps_person_ids(tx).await?;
    let household = tx
        .fetch_optional(
            q(format!(
                "SELECT e.household_id FROM payroll_lines l
               JOIN enrolments e ON e.id = l.enrolment_id{}
               JOIN households h ON h.id = e.household_id{}
               WHERE l.id = $1 AND h.township_code >= $2 AND h.township_code < $3",
                same_county(distributed, "e", "l"),
                same_county(distributed, "h", "e")
            ))
            .bind(line_id)
            .bind(lo)
            .bind(hi),
        )
        .await?
        .map(|r| r.i64("household_id"))
        .transpose()?;
    if let Some(h) = household {
        tx.execute(
            q(
                "UPDATE households SET bank_name = $2, account_number = $3, account_holder = $4,
                 updated_at = $5 WHERE id = $1",
            )
            .bind(h)
            .bind(c.bank_name.as_str())
            .bind(c.account_number.as_str())
            .bind(c.account_holder.as_str())
            .bind(now),
        )
        .await?;
    }
    Ok(household)
}

// ---------------------------------------------------------------- back pay (补发)

/// The enrolment a back-pay request is for (whatever the scope: the caller checks it).
pub async fn back_pay_enrolment(store: &Store, id: i64) -> Result<Option<BackPayEnrolment>> {
    let Some(e) = store
        .fetch_optional(
            q(
                "SELECT id, program, township_code, beneficiary_id_number, beneficiary_name,
                      monthly_fen, year_end_extra_fen, start_month, end_month, payment
               FROM enrolments WHERE id = $1",
            )
            .bind(id),
        )
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(BackPayEnrolment {
        id: e.i64("id")?,
        program: program(&e, "program")?,
        township_code: e.str("township_code")?,
        beneficiary_id_number: e.str("beneficiary_id_number")?,
        monthly: Fen(e.i64("monthly_fen")?),
        year_end_extra: Fen(e.i64("year_end_extra_fen")?),
        start_month: month(&e, "start_month")?,
        end_month: opt_month(&e, "end_month")?,
        payment: coded(&e, "payment")?,
    }))
}

/// Whether a line already plans or paid `period` of `program` to the beneficiary (a
/// re-issue does not count: it pays an earlier line again).
pub async fn period_planned(
    tx: &mut Tx,
    id_number: &str,
    program: Program,
    period: YearMonth,
) -> Result<bool> {
    let period = period.to_string();
    Ok(tx
        .fetch_optional(
            q(
                "SELECT l.id FROM payroll_lines l WHERE l.beneficiary_id_number = $1
               AND l.program = $2 AND l.period = $3 AND l.kind NOT IN ('reissue', 'top_up')",
            )
            .bind(id_number)
            .bind(program.as_str())
            .bind(period.as_str()),
        )
        .await?
        .is_some())
}

/// Records a pending back-pay request; returns its id, or None when the enrolment has a
/// request for that month already (the unique key).
pub async fn insert_back_pay(
    tx: &mut Tx,
    e: &BackPayEnrolment,
    r: &BackPayRequest,
    case_id: Option<i64>,
    by: &str,
    now: &str,
) -> Result<Option<i64>> {
    let period = r.period.to_string();
    match tx
        .fetch_one(
            q(
                "INSERT INTO payroll_adjustments (enrolment_id, program, township_code, county_code, period,
                 amount_fen, reason, case_id, status, requested_by, requested_at)
               VALUES ($1, $2, $3, substr($3, 1, 6), $4, $5, $6, $7, 'pending', $8, $9) RETURNING id",
            )
            .bind(e.id)
            .bind(e.program.as_str())
            .bind(e.township_code.as_str())
            .bind(period.as_str())
            .bind(r.amount.0)
            .bind(r.reason.as_str())
            .bind(case_id)
            .bind(by)
            .bind(now),
        )
        .await
    {
        Ok(row) => row.i64("id").map(Some),
        Err(e) if e.is_unique_violation() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Approves or rejects (`to`) a pending request; false if it was decided meanwhile.
pub async fn decide_back_pay(
    tx: &mut Tx,
    id: i64,
    to: BackPayStatus,
    by: &str,
    now: &str,
) -> Result<bool> {
    let n = tx
        .execute(
            q(
                "UPDATE payroll_adjustments SET status = $2, decided_by = $3, decided_at = $4
               WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .bind(to.as_str())
            .bind(by)
            .bind(now),
        )
        .await?;
    Ok(n > 0)
}

/// One back-pay record inside the scope.
pub async fn get_back_pay<'c>(db: impl Into<Conn<'c>>, scope: &Scope, id: i64) -> Result<BackPay> {
    let mut db = db.into();
    let select = select_back_pay(db.is_distributed().await?);
    let r = db
        .fetch_optional(q(format!("{select} WHERE a.id = $1")).bind(id))
        .await?
        .ok_or(StoreError::NotFound("该补发记录"))?;
    let a = back_pay(&r)?;
    if !scope.contains_str(&a.township_code) {
        return Err(StoreError::NotFound("该补发记录"));
    }
    Ok(a)
}

/// Back pay inside the scope, newest first (at most 2,000).
pub async fn list_back_pay(store: &Store, scope: &Scope) -> Result<Vec<BackPay>> {
    let (lo, hi) = scope.bounds();
    store
        .fetch_all(
            q(format!(
                "{} WHERE a.township_code >= $1 AND a.township_code < $2
                 ORDER BY a.id DESC LIMIT 2000",
                select_back_pay(store.distributed)
            ))
            .bind(lo)
            .bind(hi),
        )
        .await?
        .iter()
        .map(back_pay)
        .collect()
}
