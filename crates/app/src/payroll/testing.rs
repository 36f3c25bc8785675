//! Payroll test support (cargo feature `testing`, never in the release binary): fixtures
//! of enrolments and cases, the few direct changes a test stages, demo sign-ins and the
//! audit trail — for the suites of app, web and the command line, which speak to the
//! application only.

use chrono::Utc;
use minzheng_domain::audit::AuditEntry;
use minzheng_domain::{Actor, Program, YearMonth};
use minzheng_store::payroll::testing as fixtures;

pub use fixtures::{EnrolmentChange, FixtureEnrolment};

use crate::{App, Error, Result};

/// Inserts the enrolment (and its household); returns the enrolment id.
pub async fn enrol(app: &App, e: &FixtureEnrolment) -> Result<i64> {
    Ok(fixtures::enrolment(app.store(), e).await?)
}

/// Changes an enrolment the way a case decision would.
pub async fn change_enrolment(app: &App, id: i64, c: &EnrolmentChange) -> Result<()> {
    Ok(fixtures::change_enrolment(app.store(), id, c).await?)
}

/// Inserts an approved case of `kind` (new | review | change); returns its id.
pub async fn case(
    app: &App,
    case_no: &str,
    kind: &str,
    program: Program,
    household_id: i64,
    enrolment_id: Option<i64>,
) -> Result<i64> {
    Ok(fixtures::case(
        app.store(),
        case_no,
        kind,
        program,
        household_id,
        enrolment_id,
    )
    .await?)
}

/// Puts an approved case with `details_json` behind an enrolment; returns the case id.
pub async fn attach_case_details(
    app: &App,
    enrolment_id: i64,
    case_no: &str,
    details_json: &str,
) -> Result<i64> {
    Ok(fixtures::attach_case_details(app.store(), enrolment_id, case_no, details_json).await?)
}

/// The household of an enrolment.
pub async fn household_of(app: &App, enrolment_id: i64) -> Result<i64> {
    Ok(fixtures::household_of(app.store(), enrolment_id).await?)
}

/// Sets the account holder (户名) of the household headed by `head_id_number`.
pub async fn set_account_holder(app: &App, head_id_number: &str, holder: &str) -> Result<()> {
    Ok(fixtures::set_account_holder(app.store(), head_id_number, holder).await?)
}

/// Sets the account number of the household whose head is `head_name` ("" for none).
pub async fn set_account_number(app: &App, head_name: &str, account: &str) -> Result<()> {
    Ok(fixtures::set_account_number(app.store(), head_name, account).await?)
}

/// Moves the household headed by `head_id_number` to another village.
pub async fn move_household(app: &App, head_id_number: &str, village_code: &str) -> Result<()> {
    Ok(fixtures::move_household(app.store(), head_id_number, village_code).await?)
}

/// Whether the household headed by `head_id_number` has `account` on record.
pub async fn has_account(app: &App, head_id_number: &str, account: &str) -> Result<bool> {
    Ok(fixtures::has_account(app.store(), head_id_number, account).await?)
}

/// Removes the bank account from the lines of `beneficiary_name` in a batch.
pub async fn clear_line_account(app: &App, batch_id: i64, beneficiary_name: &str) -> Result<()> {
    Ok(fixtures::clear_line_account(app.store(), batch_id, beneficiary_name).await?)
}

/// Names someone else as the requester of a back-pay request.
pub async fn set_requested_by(app: &App, adjustment_id: i64, username: &str) -> Result<()> {
    Ok(fixtures::set_requested_by(app.store(), adjustment_id, username).await?)
}

/// Tries to add a back-pay line for `period` of a beneficiary to a batch, bypassing the
/// generation (the once index must refuse a month already planned).
pub async fn insert_back_pay_line(
    app: &App,
    batch_id: i64,
    period: YearMonth,
    village_code: &str,
    name: &str,
    id_number: &str,
) -> Result<()> {
    Ok(
        fixtures::insert_back_pay_line(
            app.store(),
            batch_id,
            period,
            village_code,
            name,
            id_number,
        )
        .await?,
    )
}

/// The actor of a demo account, signed in with the demo password.
pub async fn actor(app: &App, username: &str) -> Result<Actor> {
    let user = app
        .users()
        .authenticate(username, crate::demo::DEMO_PASSWORD, Utc::now())
        .await?
        .map_err(|e| Error::Forbidden(e.to_string()))?;
    user.actor()
        .map_err(|e| Error::Internal(format!("demo account {username}: {e}")))
}

/// The audit records of one entity, newest first.
pub async fn audit_trail(app: &App, entity_type: &str, id: &str) -> Result<Vec<AuditEntry>> {
    app.audit()
        .list(&Actor::system("t"), Some((entity_type, id)), 100, 0)
        .await
}

/// The actions of [`audit_trail`].
pub async fn audit_actions(app: &App, entity_type: &str, id: &str) -> Result<Vec<String>> {
    Ok(audit_trail(app, entity_type, id)
        .await?
        .into_iter()
        .map(|e| e.action)
        .collect())
}

/// Whether the audit log's hash chain is unbroken.
pub async fn audit_intact(app: &App) -> Result<bool> {
    Ok(app.audit().verify().await?.first_break.is_none())
}
