//! Writes to a case and its history, each inside the caller's transaction.

use chrono::{Datelike, NaiveDate};
use minzheng_domain::case_calc::CaseDetails;
use minzheng_domain::cases::{CaseKind, CaseOrigin, EventKind};
use minzheng_domain::{Actor, CaseState, Fen, Program, Step, UrbanRural};

use crate::db::{q, Tx};
use crate::error::{Result, StoreError};

/// A case row to insert.
#[derive(Debug, Clone)]
pub struct CaseRow<'a> {
    pub program: Program,
    pub kind: CaseKind,
    pub state: CaseState,
    pub township_code: &'a str,
    pub village_code: &'a str,
    pub household_id: i64,
    pub person_id: Option<i64>,
    /// Follow-up cases (review, change) name the enrolment they are about.
    pub enrolment_id: Option<i64>,
    pub urban_rural: UrbanRural,
    pub subject_is_minor: bool,
    pub applied_on: NaiveDate,
    /// The details as stored JSON.
    pub details_json: &'a str,
    pub reason: &'a str,
    pub origin: CaseOrigin,
}

/// 案件编号: township code, year, sequence — e.g. 511802001-2026-00042.
async fn next_case_no(tx: &mut Tx, township: &str, on: NaiveDate) -> Result<String> {
    let prefix = format!("{township}-{}-", on.year());
    let r = tx
        .fetch_one(
            q("SELECT COUNT(*) AS n FROM cases WHERE township_code = $1 AND case_no >= $2 AND case_no < $3")
                .bind(township)
                .bind(prefix.as_str())
                .bind(format!("{township}-{}.", on.year())),
        )
        .await?;
    Ok(format!("{prefix}{:05}", r.i64("n")? + 1))
}

/// Inserts a case with the next number of its township and year; returns (id, number).
pub async fn insert_case(tx: &mut Tx, actor: &Actor, c: &CaseRow<'_>) -> Result<(i64, String)> {
    let now = crate::timestamp(chrono::Utc::now());
    let case_no = next_case_no(tx, c.township_code, c.applied_on).await?;
    let row = tx
        .fetch_one(
            q(
                "INSERT INTO cases (case_no, program, kind, state, township_code, county_code, village_code,
                 household_id, person_id, enrolment_id, urban_rural, subject_is_minor, applied_on,
                 details_json, reason, created_by, created_at, updated_at, origin)
               VALUES ($1,$2,$3,$4,$5, substr($5, 1, 6),$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$16,$17) RETURNING id",
            )
            .bind(case_no.as_str())
            .bind(c.program.as_str())
            .bind(c.kind.as_str())
            .bind(c.state.as_str())
            .bind(c.township_code)
            .bind(c.village_code)
            .bind(c.household_id)
            .bind(c.person_id)
            .bind(c.enrolment_id)
            .bind(c.urban_rural.as_str())
            .bind(c.subject_is_minor)
            .bind(c.applied_on.to_string())
            .bind(c.details_json)
            .bind(c.reason)
            .bind(actor.username.as_str())
            .bind(now.as_str())
            .bind(c.origin.as_str()),
        )
        .await?;
    Ok((row.i64("id")?, case_no))
}

/// One entry of a case's history.
#[derive(Debug, Clone)]
pub struct EventRow<'a> {
    pub case_id: i64,
    pub township_code: &'a str,
    pub action: EventKind,
    pub from: CaseState,
    pub to: CaseState,
    pub on: NaiveDate,
    pub note: &'a str,
    pub data: &'a serde_json::Value,
}

/// Appends an entry to the case's history (the actor and their role, or `system`).
pub async fn insert_event(tx: &mut Tx, actor: &Actor, e: &EventRow<'_>) -> Result<()> {
    tx.execute(
        q(
            "INSERT INTO case_events (case_id, township_code, county_code, action, from_state, to_state, actor,
             role, on_date, at, note, data_json) VALUES ($1,$2, substr($2, 1, 6),$3,$4,$5,$6,$7,$8,$9,$10,$11)",
        )
        .bind(e.case_id)
        .bind(e.township_code)
        .bind(e.action.as_str())
        .bind(e.from.as_str())
        .bind(e.to.as_str())
        .bind(actor.username.as_str())
        .bind(actor.role.map(|r| r.as_str()).unwrap_or("system"))
        .bind(e.on.to_string())
        .bind(crate::timestamp(chrono::Utc::now()))
        .bind(e.note)
        .bind(e.data.to_string()),
    )
    .await?;
    Ok(())
}

/// Moves the case from `from` to `to`; a case no longer in `from` (another clerk was
/// quicker) is a conflict and nothing changes.
pub async fn set_state(
    tx: &mut Tx,
    id: i64,
    from: CaseState,
    to: CaseState,
    conflict: &str,
) -> Result<()> {
    let n = tx
        .execute(
            q("UPDATE cases SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4")
                .bind(to.as_str())
                .bind(crate::timestamp(chrono::Utc::now()))
                .bind(id)
                .bind(from.as_str()),
        )
        .await?;
    if n != 1 {
        return Err(StoreError::Conflict(conflict.to_string()));
    }
    Ok(())
}

/// Starts a statutory clock due on `due_on`.
pub async fn start_clock(
    tx: &mut Tx,
    case_id: i64,
    township: &str,
    step: Step,
    on: NaiveDate,
    due_on: NaiveDate,
) -> Result<()> {
    tx.execute(
        q(
            "INSERT INTO case_clocks (case_id, township_code, county_code, step, started_on, due_on)
           VALUES ($1,$2, substr($2, 1, 6),$3,$4,$5)",
        )
        .bind(case_id)
        .bind(township)
        .bind(step.as_str())
        .bind(on.to_string())
        .bind(due_on.to_string()),
    )
    .await?;
    Ok(())
}

/// Stops the step's running clock.
pub async fn stop_clock(tx: &mut Tx, case_id: i64, step: Step, on: NaiveDate) -> Result<()> {
    tx.execute(
        q("UPDATE case_clocks SET stopped_on = $1
           WHERE case_id = $2 AND step = $3 AND stopped_on IS NULL")
        .bind(on.to_string())
        .bind(case_id)
        .bind(step.as_str()),
    )
    .await?;
    Ok(())
}

/// 一次性告知: the missing papers, in one list.
pub async fn set_missing_items(tx: &mut Tx, id: i64, items: &str) -> Result<()> {
    tx.execute(
        q("UPDATE cases SET missing_items = $1 WHERE id = $2")
            .bind(items)
            .bind(id),
    )
    .await?;
    Ok(())
}

/// The written reasons of a refusal, suspension or termination.
pub async fn set_decision_reasons(tx: &mut Tx, id: i64, reasons: &str) -> Result<()> {
    tx.execute(
        q("UPDATE cases SET decision_reasons = $1 WHERE id = $2")
            .bind(reasons)
            .bind(id),
    )
    .await?;
    Ok(())
}

/// The confirmed amount and the decision date.
pub async fn set_approved(tx: &mut Tx, id: i64, amount: Fen, on: NaiveDate) -> Result<()> {
    tx.execute(
        q("UPDATE cases SET approved_fen = $1, decided_on = $2 WHERE id = $3")
            .bind(amount.0)
            .bind(on.to_string())
            .bind(id),
    )
    .await?;
    Ok(())
}

/// The decision date of a refusal.
pub async fn set_decided_on(tx: &mut Tx, id: i64, on: NaiveDate) -> Result<()> {
    tx.execute(
        q("UPDATE cases SET decided_on = $1 WHERE id = $2")
            .bind(on.to_string())
            .bind(id),
    )
    .await?;
    Ok(())
}

/// The first-review opinion's amount, and the calculation behind it (kept when none is
/// given).
pub async fn set_proposed(
    tx: &mut Tx,
    id: i64,
    amount: Fen,
    calc_json: Option<String>,
) -> Result<()> {
    tx.execute(
        q("UPDATE cases SET proposed_fen = $1, calc_json = COALESCE($2, calc_json) WHERE id = $3")
            .bind(amount.0)
            .bind(calc_json)
            .bind(id),
    )
    .await?;
    Ok(())
}

/// A hand amount's reason and the calculator's amount it differs from (both cleared when
/// the amount is the calculator's: `calc` `None`).
pub async fn set_hand_amount(tx: &mut Tx, id: i64, reason: &str, calc: Option<Fen>) -> Result<()> {
    tx.execute(
        q("UPDATE cases SET amount_reason = $1, amount_calc_fen = $2 WHERE id = $3")
            .bind(reason.trim())
            .bind(calc.map(|f| f.0))
            .bind(id),
    )
    .await?;
    Ok(())
}

/// The calculation behind the confirmed amount.
pub async fn set_calc(tx: &mut Tx, id: i64, calc_json: Option<String>) -> Result<()> {
    tx.execute(
        q("UPDATE cases SET calc_json = $1 WHERE id = $2")
            .bind(calc_json)
            .bind(id),
    )
    .await?;
    Ok(())
}

/// Replaces the applicant's details.
pub async fn set_details(tx: &mut Tx, id: i64, details: &CaseDetails) -> Result<()> {
    tx.execute(
        q("UPDATE cases SET details_json = $1, updated_at = $2 WHERE id = $3")
            .bind(serde_json::to_string(details).unwrap_or_else(|_| "{}".into()))
            .bind(crate::timestamp(chrono::Utc::now()))
            .bind(id),
    )
    .await?;
    Ok(())
}

/// A household survey: who visited, when, what they found.
#[derive(Debug, Clone)]
pub struct SurveyRow<'a> {
    pub case_id: i64,
    pub township_code: &'a str,
    pub visited_on: NaiveDate,
    /// The investigators' names, joined.
    pub investigators: &'a str,
    pub findings: &'a str,
    pub authorization_signed: bool,
}

/// Records a household survey.
pub async fn insert_survey(tx: &mut Tx, actor: &Actor, v: &SurveyRow<'_>) -> Result<()> {
    tx.execute(
        q(
            "INSERT INTO case_surveys (case_id, township_code, county_code, visited_on, investigators,
             findings, authorization_signed, created_by, created_at)
           VALUES ($1,$2, substr($2, 1, 6),$3,$4,$5,$6,$7,$8)",
        )
        .bind(v.case_id)
        .bind(v.township_code)
        .bind(v.visited_on.to_string())
        .bind(v.investigators)
        .bind(v.findings)
        .bind(v.authorization_signed)
        .bind(actor.username.as_str())
        .bind(crate::timestamp(chrono::Utc::now())),
    )
    .await?;
    Ok(())
}

/// An objection received against the case's notice.
pub async fn insert_objection(
    tx: &mut Tx,
    actor: &Actor,
    case_id: i64,
    batch_id: Option<i64>,
    township: &str,
    on: NaiveDate,
    summary: &str,
) -> Result<()> {
    tx.execute(
        q(
            "INSERT INTO objections (case_id, batch_id, township_code, county_code, received_on, summary,
             recorded_by, created_at) VALUES ($1,$2,$3, substr($3, 1, 6),$4,$5,$6,$7)",
        )
        .bind(case_id)
        .bind(batch_id)
        .bind(township)
        .bind(on.to_string())
        .bind(summary)
        .bind(actor.username.as_str())
        .bind(crate::timestamp(chrono::Utc::now())),
    )
    .await?;
    Ok(())
}
