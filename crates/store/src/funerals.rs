//! The funeral ledger (殡葬管理) and recoveries (追回), in the tables `funeral_records` and
//! `recoveries`; and the registry, enrolment and payroll facts a death needs. One death per
//! ID number (a unique key); one recovery per paid line.

use minzheng_domain::funerals::{
    DeathInput, DeathSource, EnrolmentAtDeath, FuneralRecord, PaidAfterDeath, Recovery,
    RecoveryStatus, RegisteredPerson,
};
use minzheng_domain::payroll::Wanted;
use minzheng_domain::{Fen, Scope, YearMonth};

use crate::db::{q, Conn, DbRow, Store, Tx};
use crate::error::{Result, StoreError};

// ---------------------------------------------------------------- registry facts

/// The registered person with this ID number, if any.
pub async fn registered_person<'c>(
    db: impl Into<Conn<'c>>,
    id_number: &str,
) -> Result<Option<RegisteredPerson>> {
    let row = db
        .into()
        .fetch_optional(
            q(
                "SELECT p.id, p.household_id, h.township_code, p.name, p.status
               FROM persons p JOIN households h ON h.id = p.household_id
               WHERE p.id_number = $1",
            )
            .bind(id_number),
        )
        .await?;
    row.map(|r| {
        Ok(RegisteredPerson {
            id: r.i64("id")?,
            household_id: r.i64("household_id")?,
            township_code: r.str("township_code")?,
            name: r.str("name")?,
            deceased: r.str("status")? == "deceased",
        })
    })
    .transpose()
}

/// Marks a registered person dead on `date` (`YYYY-MM-DD`).
pub async fn mark_deceased(tx: &mut Tx, person_id: i64, date: &str, now: &str) -> Result<()> {
    tx.execute(
        q("UPDATE persons SET status = 'deceased', status_date = $2, updated_at = $3 WHERE id = $1")
            .bind(person_id)
            .bind(date)
            .bind(now),
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- the ledger

/// Records a death; None when the ID number has a death recorded already.
#[allow(clippy::too_many_arguments)]
pub async fn insert_funeral(
    tx: &mut Tx,
    d: &DeathInput,
    township_code: &str,
    person: Option<&RegisteredPerson>,
    source: DeathSource,
    by: &str,
    now: &str,
) -> Result<Option<i64>> {
    let r = tx
        .fetch_one(
            q(
                "INSERT INTO funeral_records (township_code, county_code, person_id, household_id, id_number,
                 name, death_date, death_place, certificate_kind, certificate_no, disposal,
                 cremation_no, funeral_home, source, note, recorded_by, recorded_at)
               VALUES ($1, substr($1, 1, 6), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
               RETURNING id",
            )
            .bind(township_code)
            .bind(person.map(|p| p.id))
            .bind(person.map(|p| p.household_id))
            .bind(d.id_number.as_str())
            .bind(d.name.as_str())
            .bind(d.death_date.to_string())
            .bind(d.death_place.as_str())
            .bind(d.certificate_kind.as_str())
            .bind(d.certificate_no.as_str())
            .bind(d.disposal.as_str())
            .bind(d.cremation_no.as_str())
            .bind(d.funeral_home.as_str())
            .bind(source.as_str())
            .bind(d.note.as_str())
            .bind(by)
            .bind(now),
        )
        .await;
    match r {
        Ok(row) => row.i64("id").map(Some),
        Err(e) if e.is_unique_violation() => Ok(None),
        Err(e) => Err(e),
    }
}

const SELECT_FUNERAL: &str = "SELECT * FROM funeral_records f";

fn funeral(r: &DbRow) -> Result<FuneralRecord> {
    Ok(FuneralRecord {
        id: r.i64("id")?,
        township_code: r.str("township_code")?,
        person_id: r.opt_i64("person_id")?,
        household_id: r.opt_i64("household_id")?,
        id_number: r.str("id_number")?,
        name: r.str("name")?,
        death_date: r.str("death_date")?,
        death_place: r.str("death_place")?,
        certificate_kind: r.coded("certificate_kind")?,
        certificate_no: r.str("certificate_no")?,
        disposal: r.coded("disposal")?,
        cremation_no: r.str("cremation_no")?,
        funeral_home: r.str("funeral_home")?,
        source: r.coded("source")?,
        note: r.str("note")?,
        recorded_by: r.str("recorded_by")?,
        recorded_at: r.str("recorded_at")?,
        relief: Fen(r.i64("relief_fen")?),
        grant: Fen(r.i64("grant_fen")?),
        grant_program: match r.opt_str("grant_program")? {
            Some(_) => Some(r.program("grant_program")?),
            None => None,
        },
    })
}

/// Records the 惠民殡葬 relief and 丧葬补助 due for a death.
pub async fn set_benefits(
    tx: &mut Tx,
    id: i64,
    b: &minzheng_domain::funerals::DeathBenefits,
) -> Result<()> {
    tx.execute(
        q(
            "UPDATE funeral_records SET relief_fen = $2, grant_fen = $3, grant_program = $4
           WHERE id = $1",
        )
        .bind(id)
        .bind(b.relief.0)
        .bind(b.grant.0)
        .bind(b.grant_program.map(|p| p.as_str().to_string())),
    )
    .await?;
    Ok(())
}

/// One funeral record inside the scope.
pub async fn get_funeral<'c>(
    db: impl Into<Conn<'c>>,
    scope: &Scope,
    id: i64,
) -> Result<FuneralRecord> {
    let r = db
        .into()
        .fetch_optional(q(format!("{SELECT_FUNERAL} WHERE f.id = $1")).bind(id))
        .await?
        .ok_or(StoreError::NotFound("该殡葬记录"))?;
    let f = funeral(&r)?;
    if !scope.contains_str(&f.township_code) {
        return Err(StoreError::NotFound("该殡葬记录"));
    }
    Ok(f)
}

/// The funeral record of an ID number, wherever it was recorded.
pub async fn funeral_of<'c>(
    db: impl Into<Conn<'c>>,
    id_number: &str,
) -> Result<Option<FuneralRecord>> {
    db.into()
        .fetch_optional(q(format!("{SELECT_FUNERAL} WHERE f.id_number = $1")).bind(id_number))
        .await?
        .as_ref()
        .map(funeral)
        .transpose()
}

/// Funeral records inside the scope, latest death first (at most 2,000); `month` narrows
/// to deaths in one month.
pub async fn list_funerals(
    store: &Store,
    scope: &Scope,
    month: Option<YearMonth>,
) -> Result<Vec<FuneralRecord>> {
    let (lo, hi) = scope.bounds();
    let mut query = q(format!(
        "{SELECT_FUNERAL} WHERE f.township_code >= $1 AND f.township_code < $2"
    ))
    .bind(lo)
    .bind(hi);
    if let Some(m) = month {
        query
            .sql
            .push_str(" AND f.death_date >= $3 AND f.death_date <= $4");
        query.push(m.first_day().to_string());
        query.push(m.last_day().to_string());
    }
    query
        .sql
        .push_str(" ORDER BY f.death_date DESC, f.id DESC LIMIT 2000");
    store.fetch_all(query).await?.iter().map(funeral).collect()
}

// ---------------------------------------------------------------- enrolments and payments

/// The enrolments a death may touch: the person's own, and their household's, each with
/// how many counted members of the household still live besides the person.
pub async fn enrolments_at_death(
    tx: &mut Tx,
    person_id: i64,
    household_id: i64,
) -> Result<Vec<EnrolmentAtDeath>> {
    // A household's members live in its county: on a cluster the count stays on the
    // enrolment's shard.
    let county =
        crate::distribute::same_county(crate::distribute::keeps_person_ids(tx).await?, "o", "e");
    let rows = tx
        .fetch_all(
            q(format!(
                "SELECT e.id, e.program, e.township_code, e.person_id, e.beneficiary_id_number,
                 e.status, e.start_month, e.end_month,
                 (SELECT COUNT(*) FROM persons o WHERE o.household_id = e.household_id
                    AND o.id <> $1 AND o.status = 'active' AND o.counted = TRUE{county}) AS others
               FROM enrolments e
               WHERE e.person_id = $1 OR (e.person_id IS NULL AND e.household_id = $2)
               ORDER BY e.id"
            ))
            .bind(person_id)
            .bind(household_id),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(EnrolmentAtDeath {
                id: r.i64("id")?,
                program: r.program("program")?,
                township_code: r.str("township_code")?,
                person_id: r.opt_i64("person_id")?,
                beneficiary_id_number: r.str("beneficiary_id_number")?,
                status: r.coded("status")?,
                start_month: r.month("start_month")?,
                end_month: r
                    .opt_str("end_month")?
                    .and_then(|s| YearMonth::parse(&s).ok()),
                others_living: r.i64("others")?,
            })
        })
        .collect()
}

/// The enrolment's lines for months after `after` that were signed off (the bank has them
/// or will) and not returned as failed.
pub async fn paid_after(
    tx: &mut Tx,
    e: &EnrolmentAtDeath,
    after: YearMonth,
) -> Result<Vec<PaidAfterDeath>> {
    let rows = tx
        .fetch_all(
            q(
                "SELECT l.id, l.batch_id, l.enrolment_id, l.program, l.period, l.township_code,
                 l.amount_fen
               FROM payroll_lines l JOIN payroll_batches b ON b.id = l.batch_id
               WHERE l.beneficiary_id_number = $1 AND l.program = $2 AND l.period > $3
                 AND l.enrolment_id = $4 AND l.status <> 'failed' AND b.status <> 'draft'
               ORDER BY l.period, l.id",
            )
            .bind(e.beneficiary_id_number.as_str())
            .bind(e.program.as_str())
            .bind(after.to_string())
            .bind(e.id),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(PaidAfterDeath {
                line_id: r.i64("id")?,
                batch_id: r.i64("batch_id")?,
                enrolment_id: r.i64("enrolment_id")?,
                program: r.program("program")?,
                period: r.month("period")?,
                township_code: r.str("township_code")?,
                amount: Fen(r.i64("amount_fen")?),
            })
        })
        .collect()
}

/// The unsigned drafts holding a line of the enrolment for a month after `after`.
pub async fn drafts_paying_after(
    tx: &mut Tx,
    e: &EnrolmentAtDeath,
    after: YearMonth,
) -> Result<Vec<i64>> {
    let rows = tx
        .fetch_all(
            q("SELECT DISTINCT l.batch_id FROM payroll_lines l
               JOIN payroll_batches b ON b.id = l.batch_id
               WHERE l.beneficiary_id_number = $1 AND l.program = $2 AND l.period > $3
                 AND l.enrolment_id = $4 AND b.status = 'draft'")
            .bind(e.beneficiary_id_number.as_str())
            .bind(e.program.as_str())
            .bind(after.to_string())
            .bind(e.id),
        )
        .await?;
    rows.iter().map(|r| r.i64("batch_id")).collect()
}

// ---------------------------------------------------------------- recoveries (追回)

/// Opens the recovery of one paid line; None when the line has one already.
pub async fn insert_recovery(
    tx: &mut Tx,
    funeral_id: i64,
    p: &PaidAfterDeath,
    name: &str,
    id_number: &str,
    now: &str,
) -> Result<Option<i64>> {
    let r = tx
        .fetch_one(
            q(
                "INSERT INTO recoveries (funeral_id, township_code, county_code, enrolment_id, line_id, program,
                 period, beneficiary_name, beneficiary_id_number, amount_fen, status, opened_at,
                 updated_at)
               VALUES ($1, $2, substr($2, 1, 6), $3, $4, $5, $6, $7, $8, $9, 'open', $10, $10) RETURNING id",
            )
            .bind(funeral_id)
            .bind(p.township_code.as_str())
            .bind(p.enrolment_id)
            .bind(p.line_id)
            .bind(p.program.as_str())
            .bind(p.period.to_string())
            .bind(name)
            .bind(id_number)
            .bind(p.amount.0)
            .bind(now),
        )
        .await;
    match r {
        Ok(row) => row.i64("id").map(Some),
        Err(e) if e.is_unique_violation() => Ok(None),
        Err(e) => Err(e),
    }
}

const SELECT_RECOVERY: &str = "SELECT * FROM recoveries r";

fn recovery(r: &DbRow) -> Result<Recovery> {
    Ok(Recovery {
        id: r.i64("id")?,
        funeral_id: r.i64("funeral_id")?,
        township_code: r.str("township_code")?,
        enrolment_id: r.i64("enrolment_id")?,
        line_id: r.i64("line_id")?,
        program: r.program("program")?,
        period: r.str("period")?,
        beneficiary_name: r.str("beneficiary_name")?,
        beneficiary_id_number: r.str("beneficiary_id_number")?,
        amount: Fen(r.i64("amount_fen")?),
        status: r.coded("status")?,
        note: r.str("note")?,
        requested_by: r.opt_str("requested_by")?,
        decided_by: r.opt_str("decided_by")?,
        opened_at: r.str("opened_at")?,
        updated_at: r.str("updated_at")?,
    })
}

/// Recoveries inside the scope (optionally of one status), oldest open first (at most
/// 2,000).
pub async fn list_recoveries(
    store: &Store,
    scope: &Scope,
    status: &Wanted<RecoveryStatus>,
) -> Result<Vec<Recovery>> {
    let (lo, hi) = scope.bounds();
    let mut query = q(format!(
        "{SELECT_RECOVERY} WHERE r.township_code >= $1 AND r.township_code < $2"
    ))
    .bind(lo)
    .bind(hi);
    match status {
        None => {}
        Some(Ok(s)) => {
            query.sql.push_str(" AND r.status = $3");
            query.push(s.as_str());
        }
        Some(Err(_)) => query.sql.push_str(" AND 1 = 0"),
    }
    query.sql.push_str(" ORDER BY r.id LIMIT 2000");
    store.fetch_all(query).await?.iter().map(recovery).collect()
}

/// The recoveries a death opened.
pub async fn recoveries_of<'c>(db: impl Into<Conn<'c>>, funeral_id: i64) -> Result<Vec<Recovery>> {
    db.into()
        .fetch_all(
            q(format!(
                "{SELECT_RECOVERY} WHERE r.funeral_id = $1 ORDER BY r.period, r.program"
            ))
            .bind(funeral_id),
        )
        .await?
        .iter()
        .map(recovery)
        .collect()
}

/// One recovery inside the scope.
pub async fn get_recovery<'c>(db: impl Into<Conn<'c>>, scope: &Scope, id: i64) -> Result<Recovery> {
    let r = db
        .into()
        .fetch_optional(q(format!("{SELECT_RECOVERY} WHERE r.id = $1")).bind(id))
        .await?
        .ok_or(StoreError::NotFound("该追回记录"))?;
    let x = recovery(&r)?;
    if !scope.contains_str(&x.township_code) {
        return Err(StoreError::NotFound("该追回记录"));
    }
    Ok(x)
}

/// Moves a recovery from `from` to `to` with its note; who asked for a write-off, or who
/// decided it, is kept. False when it was moved meanwhile.
pub async fn step_recovery(
    tx: &mut Tx,
    id: i64,
    from: RecoveryStatus,
    to: RecoveryStatus,
    note: &str,
    by: &str,
    now: &str,
) -> Result<bool> {
    let (requested, decided) = match to {
        RecoveryStatus::WriteOffRequested => (Some(by), None),
        RecoveryStatus::WrittenOff => (None, Some(by)),
        _ => (None, None),
    };
    let n = tx
        .execute(
            q("UPDATE recoveries SET status = $3,
                 note = CASE WHEN $4 = '' THEN note ELSE $4 END,
                 requested_by = COALESCE($5, requested_by),
                 decided_by = COALESCE($6, decided_by), updated_at = $7
               WHERE id = $1 AND status = $2")
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(note.trim())
            .bind(requested.map(str::to_string))
            .bind(decided.map(str::to_string))
            .bind(now),
        )
        .await?;
    Ok(n > 0)
}

/// Open and recovered sums inside the scope: (count open, fen open, fen recovered).
pub async fn recovery_totals(store: &Store, scope: &Scope) -> Result<(i64, Fen, Fen)> {
    let (lo, hi) = scope.bounds();
    let r = store
        .fetch_one(
            q("SELECT
                 CAST(COALESCE(SUM(CASE WHEN status IN ('open', 'write_off_requested')
                   THEN 1 ELSE 0 END), 0) AS BIGINT) AS n_open,
                 CAST(COALESCE(SUM(CASE WHEN status IN ('open', 'write_off_requested')
                   THEN amount_fen ELSE 0 END), 0) AS BIGINT) AS fen_open,
                 CAST(COALESCE(SUM(CASE WHEN status = 'recovered'
                   THEN amount_fen ELSE 0 END), 0) AS BIGINT) AS fen_back
               FROM recoveries WHERE township_code >= $1 AND township_code < $2")
            .bind(lo)
            .bind(hi),
        )
        .await?;
    Ok((
        r.i64("n_open")?,
        Fen(r.i64("fen_open")?),
        Fen(r.i64("fen_back")?),
    ))
}

// ---------------------------------------------------------------- the demo

/// The demo's people for its deaths: (ID number, name) of the heads of active enrolments of
/// one-person households in the township or village, oldest enrolment first.
pub async fn demo_lone_beneficiaries(
    store: &Store,
    division_code: &str,
    n: i64,
) -> Result<Vec<(String, String)>> {
    store
        .fetch_all(
            q(
                "SELECT e.beneficiary_id_number, e.beneficiary_name FROM enrolments e
               WHERE SUBSTR(e.village_code, 1, LENGTH($1)) = $1 AND e.status = 'active'
                 AND e.household_size = 1
                 AND e.person_id IS NULL
               ORDER BY e.id LIMIT $2",
            )
            .bind(division_code)
            .bind(n),
        )
        .await?
        .iter()
        .map(|r| Ok((r.str("beneficiary_id_number")?, r.str("beneficiary_name")?)))
        .collect()
}

/// The demo's beneficiaries of one village: (ID number, name) of the heads of its active
/// household enrolments, oldest enrolment first.
pub async fn demo_village_beneficiaries(
    store: &Store,
    village_code: &str,
    n: i64,
) -> Result<Vec<(String, String)>> {
    store
        .fetch_all(
            q(
                "SELECT e.beneficiary_id_number, e.beneficiary_name FROM enrolments e
               WHERE e.village_code = $1 AND e.status = 'active' AND e.person_id IS NULL
               ORDER BY e.id LIMIT $2",
            )
            .bind(village_code)
            .bind(n),
        )
        .await?
        .iter()
        .map(|r| Ok((r.str("beneficiary_id_number")?, r.str("beneficiary_name")?)))
        .collect()
}

/// The demo's irregularity for the cross-checks to find: the second enrolled household of
/// 西城街道 is paid into the first one's account. Returns whether it was planted.
pub async fn demo_shared_account(tx: &mut Tx) -> Result<bool> {
    let rows = tx
        .fetch_all(q("SELECT e.household_id FROM enrolments e
             WHERE e.township_code = '511802002' AND e.status = 'active'
             ORDER BY e.id LIMIT 2"))
        .await?;
    if rows.len() < 2 {
        return Ok(false);
    }
    tx.execute(
        q("UPDATE households SET account_number =
             (SELECT account_number FROM households WHERE id = $1)
           WHERE id = $2")
        .bind(rows[0].i64("household_id")?)
        .bind(rows[1].i64("household_id")?),
    )
    .await?;
    Ok(true)
}

/// The demo's other irregularities, one per remaining cross-check, all in 东城街道 (the
/// demo's own data, so the worklist has something of each kind): an overdue review, a 低保
/// household earning far above the standard, a 低保 beneficiary also enrolled in 特困, a
/// beneficiary enrolled twice (the second time in 西城), 高龄津贴 paid to someone far too
/// young, and a beneficiary whose ID number was mistyped in the enrolment.
pub async fn demo_irregularities(tx: &mut Tx, now: &str) -> Result<()> {
    let rows = tx
        .fetch_all(q("SELECT e.id, e.household_id FROM enrolments e
             WHERE e.township_code = '511802001' AND e.status = 'active'
               AND e.program IN ('urban_dibao', 'rural_dibao') AND e.person_id IS NULL
             ORDER BY e.id DESC LIMIT 6"))
        .await?;
    if rows.len() < 6 {
        return Ok(());
    }
    let id = |i: usize| rows[i].i64("id");
    // 逾期未复核.
    tx.execute(q("UPDATE enrolments SET next_review_on = '2026-06-30' WHERE id = $1").bind(id(0)?))
        .await?;
    // 家庭收入超过低保标准.
    tx.execute(
        q(
            "INSERT INTO incomes (household_id, township_code, county_code, kind, amount_fen, period, note,
             created_at)
           VALUES ($1, '511802001', substr('511802001', 1, 6), 'business', 2000000, 'monthly', '演示：经营收入', $2)",
        )
        .bind(rows[1].i64("household_id")?)
        .bind(now),
    )
    .await?;
    // 同时享受互斥项目, 同一人重复享受同一项目, 出生日期与项目不符: copies of enrolments.
    // (which enrolment, another program, another township, another village)
    type Copy<'a> = (usize, Option<&'a str>, Option<&'a str>, Option<&'a str>);
    let copies: [Copy<'_>; 3] = [
        (2, Some("tekun"), None, None),
        (3, None, Some("511802002"), Some("511802002001")),
        (4, Some("old_age_allowance"), None, None),
    ];
    for (i, program, township, village) in copies {
        tx.execute(
            q(
                "INSERT INTO enrolments (program, case_id, household_id, person_id, township_code, county_code,
                 village_code, beneficiary_name, beneficiary_id_number, household_size,
                 monthly_fen, payment, start_month, end_month, status, created_at, updated_at)
               SELECT COALESCE($2, program), NULL, household_id, NULL,
                      COALESCE($3, township_code), substr(COALESCE($3, township_code), 1, 6), COALESCE($4, village_code), beneficiary_name,
                      beneficiary_id_number, household_size, 6000, payment, start_month, NULL,
                      'active', $5, $5
               FROM enrolments WHERE id = $1",
            )
            .bind(id(i)?)
            .bind(program.map(String::from))
            .bind(township.map(String::from))
            .bind(village.map(String::from))
            .bind(now),
        )
        .await?;
    }
    // 身份证号码校验不通过: the enrolment's copy of the number lost its check digit.
    tx.execute(
        q("UPDATE enrolments SET beneficiary_id_number =
             SUBSTR(beneficiary_id_number, 1, 17) ||
             CASE WHEN SUBSTR(beneficiary_id_number, 18, 1) = '0' THEN '1' ELSE '0' END
           WHERE id = $1")
        .bind(id(5)?),
    )
    .await?;
    Ok(())
}
