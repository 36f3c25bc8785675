//! Payroll fixtures for the test suites (cargo feature `testing`): enrolments, cases and
//! households inserted directly (the case workflow that creates them in real use is its
//! own duty), and the few direct changes a test needs to stage a situation — each a named,
//! typed helper, never SQL from the caller.

use minzheng_domain::payroll::{EnrolmentStatus, PaymentKind};
use minzheng_domain::{Program, YearMonth};

use crate::db::{q, Store};
use crate::error::Result;

/// One enrolment (and the household that holds its account).
#[derive(Debug, Clone)]
pub struct FixtureEnrolment {
    pub program: Program,
    pub village_code: String,
    pub name: String,
    pub id_number: String,
    pub monthly_fen: i64,
    pub start_month: YearMonth,
    pub end_month: Option<YearMonth>,
    pub status: EnrolmentStatus,
    pub payment: PaymentKind,
    pub grace_until: Option<YearMonth>,
    pub case_id: Option<i64>,
    pub bank_name: String,
    pub account_number: String,
    /// The date of the next review (定期核查), when one is planned.
    pub next_review_on: Option<chrono::NaiveDate>,
}

impl FixtureEnrolment {
    /// An active monthly enrolment from `start_month` (`YYYY-MM`), paid to a 四川农信
    /// account.
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
            start_month: YearMonth::parse(start_month).unwrap_or(YearMonth::MIN),
            end_month: None,
            status: EnrolmentStatus::Active,
            payment: PaymentKind::Monthly,
            grace_until: None,
            case_id: None,
            bank_name: "四川农信".into(),
            account_number: format!("621{}", &id_number[id_number.len().saturating_sub(13)..])
                .replace('X', "0"),
            next_review_on: None,
        }
    }
}

/// Inserts a household (keyed by the head's ID number, reused if present) and the
/// enrolment; returns the enrolment id.
pub async fn enrolment(store: &Store, e: &FixtureEnrolment) -> Result<i64> {
    let now = super::now();
    let township = e.village_code.get(..9).unwrap_or_default().to_string();
    let mut tx = store.begin_write().await?;
    let existing = tx
        .fetch_optional(
            q("SELECT id FROM households WHERE head_id_number = $1").bind(e.id_number.as_str()),
        )
        .await?;
    let household = match existing {
        Some(r) => r.i64("id")?,
        None => tx
            .fetch_one(
                q("INSERT INTO households (township_code, county_code, village_code, head_id_number, head_name,
                     registration_type, bank_name, account_number, account_holder, created_at, updated_at)
                   VALUES ($1, substr($1, 1, 6), $2, $3, $4, 'rural', $5, $6, $4, $7, $7) RETURNING id")
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
            q("INSERT INTO enrolments (program, case_id, household_id, township_code, county_code, village_code,
                 beneficiary_name, beneficiary_id_number, household_size, monthly_fen, payment,
                 start_month, end_month, status, grace_until, created_at, updated_at,
                 next_review_on)
               VALUES ($1, $2, $3, $4, substr($4, 1, 6), $5, $6, $7, 1, $8, $9, $10, $11, $12, $13, $14, $14, $15)
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
            .bind(e.start_month.to_string())
            .bind(e.end_month.map(|m| m.to_string()))
            .bind(e.status.as_str())
            .bind(e.grace_until.map(|m| m.to_string()))
            .bind(now.as_str())
            .bind(e.next_review_on.map(|d| d.to_string())),
        )
        .await?
        .i64("id")?;
    tx.commit().await?;
    Ok(id)
}

/// How a case decision changes an enrolment (the fields given are set).
#[derive(Debug, Clone, Default)]
pub struct EnrolmentChange {
    pub status: Option<EnrolmentStatus>,
    pub end_month: Option<YearMonth>,
    pub monthly_fen: Option<i64>,
}

/// Changes an enrolment the way a case decision would.
pub async fn change_enrolment(store: &Store, id: i64, c: &EnrolmentChange) -> Result<()> {
    let mut tx = store.begin_write().await?;
    if let Some(s) = c.status {
        tx.execute(
            q("UPDATE enrolments SET status = $2 WHERE id = $1")
                .bind(id)
                .bind(s.as_str()),
        )
        .await?;
    }
    if let Some(m) = c.end_month {
        tx.execute(
            q("UPDATE enrolments SET end_month = $2 WHERE id = $1")
                .bind(id)
                .bind(m.to_string()),
        )
        .await?;
    }
    if let Some(f) = c.monthly_fen {
        tx.execute(
            q("UPDATE enrolments SET monthly_fen = $2 WHERE id = $1")
                .bind(id)
                .bind(f),
        )
        .await?;
    }
    tx.commit().await
}

/// Inserts an approved case row of `kind` (new | review | change); returns its id.
pub async fn case(
    store: &Store,
    case_no: &str,
    kind: &str,
    program: Program,
    household_id: i64,
    enrolment_id: Option<i64>,
) -> Result<i64> {
    let now = super::now();
    let h = store
        .fetch_one(
            q("SELECT township_code, village_code FROM households WHERE id = $1")
                .bind(household_id),
        )
        .await?;
    let mut tx = store.begin_write().await?;
    let id = tx
        .fetch_one(
            q("INSERT INTO cases (case_no, program, kind, state, township_code, county_code, village_code,
                 household_id, enrolment_id, urban_rural, applied_on, created_by, created_at, updated_at)
               VALUES ($1, $2, $3, 'approved', $4, substr($4, 1, 6), $5, $6, $7, 'urban', '2026-01-01', 'fixture', $8, $8)
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

/// The household of an enrolment.
pub async fn household_of(store: &Store, enrolment_id: i64) -> Result<i64> {
    store
        .fetch_one(q("SELECT household_id FROM enrolments WHERE id = $1").bind(enrolment_id))
        .await?
        .i64("household_id")
}

/// Sets the account holder (户名) of the household headed by `head_id_number` (a
/// guardian's card).
pub async fn set_account_holder(store: &Store, head_id_number: &str, holder: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    tx.execute(
        q("UPDATE households SET account_holder = $2 WHERE head_id_number = $1")
            .bind(head_id_number)
            .bind(holder),
    )
    .await?;
    tx.commit().await
}

/// Sets the account number of the household whose head is named `head_name` ("" for none).
pub async fn set_account_number(store: &Store, head_name: &str, account: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    tx.execute(
        q("UPDATE households SET account_number = $2 WHERE head_name = $1")
            .bind(head_name)
            .bind(account),
    )
    .await?;
    tx.commit().await
}

/// Moves the household headed by `head_id_number` to another village (and its township).
/// On a distributed database the update is pinned to the new township's county, as the
/// registry's are (a cluster changes no row's county in place): a household of another
/// county is not moved there.
pub async fn move_household(store: &Store, head_id_number: &str, village_code: &str) -> Result<()> {
    let pin = if store.distributed {
        " AND county_code = substr($2, 1, 6)"
    } else {
        ""
    };
    let mut tx = store.begin_write().await?;
    tx.execute(
        q(format!(
            "UPDATE households SET township_code = $2, county_code = substr($2, 1, 6), village_code = $3
           WHERE head_id_number = $1{pin}"
        ))
            .bind(head_id_number)
            .bind(village_code.get(..9).unwrap_or_default())
            .bind(village_code),
    )
    .await?;
    tx.commit().await
}

/// Whether the household headed by `head_id_number` has `account` on record.
pub async fn has_account(store: &Store, head_id_number: &str, account: &str) -> Result<bool> {
    Ok(store
        .fetch_optional(
            q("SELECT id FROM households WHERE head_id_number = $1 AND account_number = $2")
                .bind(head_id_number)
                .bind(account),
        )
        .await?
        .is_some())
}

/// Removes the bank account from the lines of `beneficiary_name` in a batch (a line the
/// bank could not pay).
pub async fn clear_line_account(
    store: &Store,
    batch_id: i64,
    beneficiary_name: &str,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    tx.execute(
        q("UPDATE payroll_lines SET account_number = '' WHERE batch_id = $1 AND beneficiary_name = $2")
            .bind(batch_id)
            .bind(beneficiary_name),
    )
    .await?;
    tx.commit().await
}

/// Names someone else as the requester of a back-pay request.
pub async fn set_requested_by(store: &Store, adjustment_id: i64, username: &str) -> Result<()> {
    let mut tx = store.begin_write().await?;
    tx.execute(
        q("UPDATE payroll_adjustments SET requested_by = $2 WHERE id = $1")
            .bind(adjustment_id)
            .bind(username),
    )
    .await?;
    tx.commit().await
}

/// Tries to add a back-pay line to a batch for `period` of the beneficiary, bypassing the
/// generation: the once index must refuse it when the month is already planned.
pub async fn insert_back_pay_line(
    store: &Store,
    batch_id: i64,
    period: YearMonth,
    village_code: &str,
    name: &str,
    id_number: &str,
) -> Result<()> {
    let mut tx = store.begin_write().await?;
    tx.execute(
        q("INSERT INTO payroll_lines (batch_id, kind, program, period, enrolment_id, township_code, county_code,
             village_code, beneficiary_name, beneficiary_id_number, bank_name, account_number,
             account_holder, amount_fen)
           VALUES ($1, 'back_pay', 'urban_dibao', $2, 1, $3, substr($3, 1, 6), $4, $5, $6, 'x', '1', 'x', 50000)")
        .bind(batch_id)
        .bind(period.to_string())
        .bind(village_code.get(..9).unwrap_or_default())
        .bind(village_code)
        .bind(name)
        .bind(id_number),
    )
    .await?;
    tx.commit().await
}

/// Puts an approved case with `details_json` (the program's inputs: 特困's support mode and
/// assessment …) behind an enrolment; returns the case id.
pub async fn attach_case_details(
    store: &Store,
    enrolment_id: i64,
    case_no: &str,
    details_json: &str,
) -> Result<i64> {
    let e = store
        .fetch_one(
            q("SELECT program, household_id FROM enrolments WHERE id = $1").bind(enrolment_id),
        )
        .await?;
    let id = case(
        store,
        case_no,
        "new",
        e.program("program")?,
        e.i64("household_id")?,
        Some(enrolment_id),
    )
    .await?;
    let mut tx = store.begin_write().await?;
    tx.execute(
        q("UPDATE cases SET details_json = $1 WHERE id = $2")
            .bind(details_json)
            .bind(id),
    )
    .await?;
    tx.execute(
        q("UPDATE enrolments SET case_id = $1 WHERE id = $2")
            .bind(id)
            .bind(enrolment_id),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}
