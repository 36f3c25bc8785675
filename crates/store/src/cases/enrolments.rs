//! 保障对象 storage: the enrolments approved cases create, and the changes later cases
//! make to them.

use chrono::NaiveDate;
use minzheng_domain::cases::Enrolment;
use minzheng_domain::cases::{
    Case, EnrolmentPlan, EnrolmentQuery, EnrolmentStatus, PaymentSchedule,
};
use minzheng_domain::limits::ReviewClass;
use minzheng_domain::{Fen, Program, Scope, YearMonth};

use super::bad;
use crate::db::{q, Conn, DbRow, Store, Tx};
use crate::error::{Result, StoreError};

fn enrolment(r: &DbRow) -> Result<Enrolment> {
    let program: Program = r.str("program")?.parse().map_err(|_| bad("保障项目"))?;
    Ok(Enrolment {
        id: r.i64("id")?,
        program,
        case_id: r.opt_i64("case_id")?,
        household_id: r.i64("household_id")?,
        person_id: r.opt_i64("person_id")?,
        township_code: r.str("township_code")?,
        village_code: r.str("village_code")?,
        beneficiary_name: r.str("beneficiary_name")?,
        beneficiary_id_number: r.str("beneficiary_id_number")?,
        household_size: r.i64("household_size")?,
        monthly_fen: Fen(r.i64("monthly_fen")?),
        year_end_extra_fen: Fen(r.i64("year_end_extra_fen")?),
        payment: if r.str("payment")? == "once" {
            PaymentSchedule::Once
        } else {
            PaymentSchedule::Monthly
        },
        start_month: r.str("start_month")?,
        end_month: r.opt_str("end_month")?,
        status: EnrolmentStatus::parse(&r.str("status")?).ok_or_else(|| bad("保障状态"))?,
        grace_until: r.opt_str("grace_until")?,
        next_review_on: r.opt_str("next_review_on")?,
        review_class: r
            .opt_str("review_class")?
            .and_then(|c| ReviewClass::parse(&c)),
    })
}

/// One enrolment by id (no scope: the caller reached it through a case it may see).
pub async fn enrolment_by_id<'c>(db: impl Into<Conn<'c>>, id: i64) -> Result<Option<Enrolment>> {
    db.into()
        .fetch_optional(q("SELECT * FROM enrolments WHERE id = $1").bind(id))
        .await?
        .map(|r| enrolment(&r))
        .transpose()
}

/// One enrolment inside the scope (404 outside it).
pub async fn get_enrolment(store: &Store, scope: &Scope, id: i64) -> Result<Enrolment> {
    let (lo, hi) = scope.bounds();
    store
        .fetch_optional(
            q("SELECT * FROM enrolments WHERE id = $1 AND village_code >= $2 AND village_code < $3")
                .bind(id)
                .bind(lo)
                .bind(hi),
        )
        .await?
        .map(|r| enrolment(&r))
        .transpose()?
        .ok_or(StoreError::NotFound("该保障对象"))
}

/// The enrolments of a household still held (not ended), oldest first (no scope: the
/// caller reached the household inside its own).
pub async fn household_enrolments<'c>(
    db: impl Into<Conn<'c>>,
    household_id: i64,
) -> Result<Vec<Enrolment>> {
    db.into()
        .fetch_all(
            q("SELECT * FROM enrolments WHERE household_id = $1 AND status <> 'ended' ORDER BY id")
                .bind(household_id),
        )
        .await?
        .iter()
        .map(enrolment)
        .collect()
}

/// 保障对象 in scope, newest first, and the total before paging.
pub async fn list_enrolments(
    store: &Store,
    scope: &Scope,
    f: &EnrolmentQuery,
) -> Result<(Vec<Enrolment>, i64)> {
    let (lo, hi) = scope.bounds();
    let mut where_ = "village_code >= $1 AND village_code < $2".to_string();
    let mut args = vec![lo, hi];
    // A code no variant knows is compared as typed, so it matches nothing.
    if let Some(s) = &f.status {
        args.push(match s {
            Ok(s) => s.as_str().to_string(),
            Err(s) => s.clone(),
        });
        where_.push_str(&format!(" AND status = ${}", args.len()));
    }
    if let Some(p) = &f.program {
        args.push(match p {
            Ok(p) => p.as_str().to_string(),
            Err(p) => p.clone(),
        });
        where_.push_str(&format!(" AND program = ${}", args.len()));
    }
    if let Some(t) = &f.q {
        args.push(t.clone());
        where_.push_str(&format!(" AND beneficiary_name = ${}", args.len()));
    }
    let (limit, offset) = (f.limit, f.offset);
    let mut qq = q(format!(
        "SELECT * FROM enrolments WHERE {where_} ORDER BY id DESC LIMIT {limit} OFFSET {offset}"
    ));
    let mut cq = q(format!(
        "SELECT COUNT(*) AS n FROM enrolments WHERE {where_}"
    ));
    for a in &args {
        qq.push(a.as_str());
        cq.push(a.as_str());
    }
    let rows = store.fetch_all(qq).await?;
    let total = store.fetch_one(cq).await?.i64("n")?;
    Ok((rows.iter().map(enrolment).collect::<Result<_>>()?, total))
}

/// Active enrolments in scope whose review date has come and that have no review case
/// under way (at most 500).
pub async fn reviews_due(store: &Store, scope: &Scope, on: NaiveDate) -> Result<Vec<Enrolment>> {
    let (lo, hi) = scope.bounds();
    store
        .fetch_all(
            q(format!(
                "SELECT e.* FROM enrolments e
               WHERE e.status = 'active' AND e.next_review_on IS NOT NULL AND e.next_review_on <= $1
                 AND e.village_code >= $2 AND e.village_code < $3
                 AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.enrolment_id = e.id{} AND c.kind = 'review'
                                 AND c.state NOT IN ('enrolled','terminated','withdrawn','denied','not_accepted'))
               ORDER BY e.id LIMIT 500",
                crate::distribute::same_county(store.distributed, "c", "e")
            ))
            .bind(on.to_string())
            .bind(lo.as_str())
            .bind(hi.as_str()),
        )
        .await?
        .iter()
        .map(enrolment)
        .collect()
}

/// Review or change cases of the enrolment still under way.
pub async fn open_followups(store: &Store, enrolment_id: i64) -> Result<i64> {
    store
        .fetch_one(
            q("SELECT COUNT(*) AS n FROM cases WHERE enrolment_id = $1 AND kind IN ('review','change')
               AND state NOT IN ('enrolled','terminated','withdrawn','denied','not_accepted')")
            .bind(enrolment_id),
        )
        .await?
        .i64("n")
}

/// Whether the household is registered urban (for a follow-up case's 城乡).
pub async fn household_is_urban(tx: &mut Tx, household_id: i64) -> Result<bool> {
    Ok(tx
        .fetch_one(q("SELECT registration_type FROM households WHERE id = $1").bind(household_id))
        .await?
        .str("registration_type")?
        == "urban")
}

/// The stored details of a case, as JSON (`{}` when the case is gone).
pub async fn details_json(tx: &mut Tx, case_id: Option<i64>) -> Result<String> {
    Ok(match case_id {
        Some(cid) => tx
            .fetch_optional(q("SELECT details_json FROM cases WHERE id = $1").bind(cid))
            .await?
            .map(|r| r.str("details_json"))
            .transpose()?
            .unwrap_or_else(|| "{}".into()),
        None => "{}".into(),
    })
}

/// A member's name and ID number.
pub async fn person_identity(tx: &mut Tx, person_id: i64) -> Result<(String, String)> {
    let r = tx
        .fetch_one(q("SELECT name, id_number FROM persons WHERE id = $1").bind(person_id))
        .await?;
    Ok((r.str("name")?, r.str("id_number")?))
}

/// Creates the enrolment an approved new case leads to and links it to the case.
pub async fn create_enrolment(
    tx: &mut Tx,
    case: &Case,
    plan: &EnrolmentPlan,
    beneficiary: (&str, &str),
    household_size: i64,
) -> Result<i64> {
    let now = crate::timestamp(chrono::Utc::now());
    let row = tx
        .fetch_one(
            q(
                "INSERT INTO enrolments (program, case_id, household_id, person_id, township_code, county_code,
                 village_code, beneficiary_name, beneficiary_id_number, household_size, monthly_fen,
                 payment, start_month, end_month, status, next_review_on, review_class,
                 created_at, updated_at, year_end_extra_fen)
               VALUES ($1,$2,$3,$4,$5, substr($5, 1, 6),$6,$7,$8,$9,$10,$11,$12,$13,'active',$14,$15,$16,$16,$17)
               RETURNING id",
            )
            .bind(case.program.as_str())
            .bind(case.id)
            .bind(case.household_id)
            .bind(case.person_id)
            .bind(case.township_code.as_str())
            .bind(case.village_code.as_str())
            .bind(beneficiary.0)
            .bind(beneficiary.1)
            .bind(household_size)
            .bind(plan.monthly.0)
            .bind(plan.payment.as_str())
            .bind(plan.start_month.to_string())
            .bind(plan.end_month.map(|m| m.to_string()))
            .bind(plan.next_review_on.map(|d| d.to_string()))
            .bind(plan.review_class.map(|c| c.as_str().to_string()))
            .bind(now.as_str())
            .bind(plan.year_end_extra.0),
        )
        .await?;
    let eid = row.i64("id")?;
    tx.execute(
        q("UPDATE cases SET enrolment_id = $1 WHERE id = $2")
            .bind(eid)
            .bind(case.id),
    )
    .await?;
    Ok(eid)
}

/// 增发/减发: a new monthly amount (and what December adds to it) and review date; the
/// enrolment is active again.
pub async fn adjust_enrolment(
    tx: &mut Tx,
    id: i64,
    (monthly, year_end_extra): (Fen, Fen),
    next_review_on: NaiveDate,
) -> Result<()> {
    tx.execute(
        q(
            "UPDATE enrolments SET monthly_fen = $1, next_review_on = $2, status = 'active',
             updated_at = $3, year_end_extra_fen = $5 WHERE id = $4",
        )
        .bind(monthly.0)
        .bind(next_review_on.to_string())
        .bind(crate::timestamp(chrono::Utc::now()))
        .bind(id)
        .bind(year_end_extra.0),
    )
    .await?;
    Ok(())
}

/// 停发 after `end_month`.
pub async fn stop_enrolment(tx: &mut Tx, id: i64, end_month: YearMonth) -> Result<()> {
    tx.execute(
        q(
            "UPDATE enrolments SET status = 'ended', end_month = $1, updated_at = $2
           WHERE id = $3",
        )
        .bind(end_month.to_string())
        .bind(crate::timestamp(chrono::Utc::now()))
        .bind(id),
    )
    .await?;
    Ok(())
}

/// The last month of a 渐退 grace period.
pub async fn set_grace_until(tx: &mut Tx, id: i64, last_month: YearMonth) -> Result<()> {
    tx.execute(
        q("UPDATE enrolments SET grace_until = $1 WHERE id = $2")
            .bind(last_month.to_string())
            .bind(id),
    )
    .await?;
    Ok(())
}

/// A new status (suspended, active again, in grace, ended) and, when given, the end month.
pub async fn set_enrolment_status(
    tx: &mut Tx,
    id: i64,
    status: EnrolmentStatus,
    end_month: Option<YearMonth>,
) -> Result<()> {
    tx.execute(
        q(
            "UPDATE enrolments SET status = $1, end_month = COALESCE($2, end_month),
             updated_at = $3 WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(end_month.map(|m| m.to_string()))
        .bind(crate::timestamp(chrono::Utc::now()))
        .bind(id),
    )
    .await?;
    Ok(())
}
