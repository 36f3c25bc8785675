//! The cross-checks (数据比对) and their findings, in the table `findings`. Each check is one
//! `INSERT … SELECT … ON CONFLICT` over the whole database: the `SELECT` finds the hits
//! (set-based, never a loop in Rust), the partial unique index keeps a finding under way
//! (or dismissed) from being raised twice, and every hit is stamped with the run; one more
//! `UPDATE` closes the open or confirmed findings the run no longer saw. Only findings of
//! townships inside the run's range are written or closed.
//!
//! A finding's evidence is a small JSON object built in SQL (codes, months, fen), which the
//! domain turns into words.

use minzheng_domain::checks::{CheckCount, CheckKind, Finding, FindingQuery, FindingState};
use minzheng_domain::Scope;

use crate::db::{q, Conn, DbRow, Store, Tx};
use crate::error::{StoreError, StoreResult};

/// Live enrolments: paying now or able to pay again.
const LIVE: &str = "e.status IN ('active', 'grace', 'suspended')";

/// Deaths known to the system, one row per person: the funeral ledger; persons the
/// registry marks dead without a funeral record; and deaths on the police's lists (核对数据)
/// that neither knows yet.
const DEATHS: &str = "SELECT id_number, death_date FROM funeral_records
    UNION ALL
    SELECT p.id_number, p.status_date FROM persons p
     WHERE p.status = 'deceased' AND p.status_date IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM funeral_records f WHERE f.id_number = p.id_number)
    UNION ALL
    SELECT x.id_number, MIN(x.event_date) FROM external_records x
     WHERE x.kind = 'police_death'
       AND NOT EXISTS (SELECT 1 FROM funeral_records f WHERE f.id_number = x.id_number)
       AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.id_number = x.id_number
                         AND p.status = 'deceased' AND p.status_date IS NOT NULL)
     GROUP BY x.id_number";

/// What a run of the checks needs to know of the day: today, and the latest birth date of
/// the 高龄津贴's first age band (both `YYYY-MM-DD`, written into the SQL as literals).
#[derive(Debug, Clone, Copy)]
pub struct Day<'a> {
    pub today: &'a str,
    pub old_age_born_by: &'a str,
    /// The 低保 standard in force per county and program: (county code, program code, fen
    /// per person and month).
    pub dibao_standards: &'a [(String, &'static str, i64)],
}

/// The counties in `[lo, hi)` with live 低保 enrolments (their standards are looked up for
/// the income check).
pub async fn dibao_counties(store: &Store, (lo, hi): (&str, &str)) -> StoreResult<Vec<String>> {
    store
        .fetch_all(
            q(
                "SELECT DISTINCT SUBSTR(township_code, 1, 6) AS county FROM enrolments
               WHERE township_code >= $1 AND township_code < $2
                 AND program IN ('urban_dibao', 'rural_dibao') AND status = 'active'",
            )
            .bind(lo)
            .bind(hi),
        )
        .await?
        .iter()
        .map(|r| r.str("county"))
        .collect()
}

/// The standards as an inline table `s(county, program, fen)` (codes are digits and
/// program codes, amounts integers: nothing a caller typed reaches the SQL).
fn standards_table(rows: &[(String, &'static str, i64)]) -> String {
    let safe = |c: &str| {
        c.bytes()
            .all(|b| b.is_ascii_digit() || b == b'_' || b.is_ascii_lowercase())
    };
    let parts: Vec<String> = rows
        .iter()
        .filter(|(c, p, _)| safe(c) && safe(p))
        .map(|(c, p, f)| format!("SELECT '{c}' AS county, '{p}' AS program, {f} AS fen"))
        .collect();
    if parts.is_empty() {
        "SELECT '' AS county, '' AS program, 0 AS fen WHERE 1 = 0".to_string()
    } else {
        parts.join(" UNION ALL ")
    }
}

/// A date as an SQL literal (only `YYYY-MM-DD` digits and dashes pass).
fn date_literal(d: &str) -> String {
    let ok = d.len() == 10 && d.bytes().all(|b| b.is_ascii_digit() || b == b'-');
    format!("'{}'", if ok { d } else { "0000-00-00" })
}

/// The 18-character check of an ID number as a boolean SQL expression over `col`: the
/// format, a plausible birth date, and the ISO 7064 MOD 11-2 check digit (GB 11643).
fn id_number_valid(col: &str, postgres: bool) -> String {
    let check = check_char(col);
    let shape = if postgres {
        format!("{col} ~ '^[0-9]{{17}}[0-9X]$'")
    } else {
        format!("{col} GLOB '{}[0-9X]'", "[0-9]".repeat(17))
    };
    // CASE keeps the arithmetic away from anything that is not 17 digits and a check
    // character (PostgreSQL would refuse to cast a letter).
    format!(
        "(CASE WHEN {shape} THEN
            SUBSTR({col}, 7, 4) BETWEEN '1900' AND '2100'
            AND SUBSTR({col}, 11, 2) BETWEEN '01' AND '12'
            AND SUBSTR({col}, 13, 2) BETWEEN '01' AND '31'
            AND {check} = SUBSTR({col}, 18, 1)
          ELSE {false} END)",
        false = if postgres { "false" } else { "0" }
    )
}

/// The shape of an ID number and a plausible birth date in it, without the check digit.
fn id_shape_valid(col: &str, postgres: bool) -> String {
    let shape = if postgres {
        format!("{col} ~ '^[0-9]{{17}}[0-9X]$'")
    } else {
        format!("{col} GLOB '{}[0-9X]'", "[0-9]".repeat(17))
    };
    format!(
        "({shape} AND SUBSTR({col}, 7, 4) BETWEEN '1900' AND '2100'
            AND SUBSTR({col}, 11, 2) BETWEEN '01' AND '12'
            AND SUBSTR({col}, 13, 2) BETWEEN '01' AND '31')"
    )
}

/// The check character (GB 11643, ISO 7064 MOD 11-2) of the first 17 digits of the SQL
/// text expression `col`.
fn check_char(col: &str) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum = W
        .iter()
        .enumerate()
        .map(|(i, w)| format!("{w} * CAST(SUBSTR({col}, {}, 1) AS INTEGER)", i + 1))
        .collect::<Vec<_>>()
        .join(" + ");
    format!("SUBSTR('10X98765432', ({sum}) % 11 + 1, 1)")
}

/// The hits of a check: columns subject_key, township_code, id_number, name, household_id,
/// enrolment_id, evidence. `$1` is today (`YYYY-MM-DD`) where a check needs it.
fn hits(kind: CheckKind, postgres: bool, day: Day<'_>) -> String {
    let exclusive = "('urban_dibao', 'rural_dibao', 'single_person_dibao', 'tekun')";
    let born_by = date_literal(day.old_age_born_by);
    let today = date_literal(day.today);
    // The birth date an ID number carries, as `YYYY-MM-DD`.
    let birth = |col: &str| {
        format!("SUBSTR({col}, 7, 4) || '-' || SUBSTR({col}, 11, 2) || '-' || SUBSTR({col}, 13, 2)")
    };
    match kind {
        CheckKind::PaidAfterDeath => format!(
            "SELECT 'line:' || l.id AS subject_key, l.township_code, l.beneficiary_id_number AS id_number,
                l.beneficiary_name AS name, e.household_id, l.enrolment_id,
                '{{\"program\":\"' || l.program || '\",\"period\":\"' || l.period
                  || '\",\"amount_fen\":' || l.amount_fen || ',\"death_date\":\"' || d.death_date
                  || '\"}}' AS evidence
             FROM ({DEATHS}) d
             JOIN payroll_lines l ON l.beneficiary_id_number = d.id_number
             JOIN payroll_batches b ON b.id = l.batch_id
             JOIN enrolments e ON e.id = l.enrolment_id
             WHERE l.period > SUBSTR(d.death_date, 1, 7) AND l.status <> 'failed'
               AND b.status <> 'draft'
               AND NOT EXISTS (SELECT 1 FROM recoveries r WHERE r.line_id = l.id)"
        ),
        CheckKind::EnrolledAfterDeath => format!(
            "SELECT 'enrolment:' || e.id AS subject_key, e.township_code,
                e.beneficiary_id_number AS id_number, e.beneficiary_name AS name, e.household_id,
                e.id AS enrolment_id,
                '{{\"program\":\"' || e.program || '\",\"death_date\":\"' || d.death_date
                  || '\",\"status\":\"' || e.status || '\"}}' AS evidence
             FROM ({DEATHS}) d
             JOIN enrolments e ON e.beneficiary_id_number = d.id_number
             WHERE {LIVE} AND (e.end_month IS NULL OR e.end_month > SUBSTR(d.death_date, 1, 7))"
        ),
        // The grouping checks find their keys first from the index alone (enrolments by ID
        // number, program and status; households by account), then read only those rows.
        CheckKind::DuplicateEnrolment => format!(
            "SELECT 'dup:' || e.beneficiary_id_number || ':' || e.program AS subject_key,
                MIN(e.township_code) AS township_code, e.beneficiary_id_number AS id_number,
                MIN(e.beneficiary_name) AS name, MIN(e.household_id) AS household_id,
                MIN(e.id) AS enrolment_id,
                '{{\"program\":\"' || e.program || '\",\"count\":' || COUNT(*)
                  || ',\"townships\":[\"' || MIN(e.township_code) || '\",\"'
                  || MAX(e.township_code) || '\"]}}' AS evidence
             FROM (SELECT k.beneficiary_id_number AS id, k.program FROM enrolments k
                   WHERE k.status IN ('active', 'grace', 'suspended')
                   GROUP BY k.beneficiary_id_number, k.program HAVING COUNT(*) > 1) d
             JOIN enrolments e ON e.beneficiary_id_number = d.id AND e.program = d.program
             WHERE {LIVE}
             GROUP BY e.beneficiary_id_number, e.program"
        ),
        CheckKind::ExclusivePrograms => format!(
            "SELECT 'excl:' || e.beneficiary_id_number AS subject_key,
                MIN(e.township_code) AS township_code, e.beneficiary_id_number AS id_number,
                MIN(e.beneficiary_name) AS name, MIN(e.household_id) AS household_id,
                MIN(e.id) AS enrolment_id,
                '{{\"programs\":[\"' || MIN(e.program) || '\",\"' || MAX(e.program)
                  || '\"]}}' AS evidence
             FROM (SELECT k.beneficiary_id_number AS id FROM enrolments k
                   WHERE k.status IN ('active', 'grace', 'suspended')
                     AND k.program IN {exclusive}
                   GROUP BY k.beneficiary_id_number HAVING COUNT(DISTINCT k.program) > 1) d
             JOIN enrolments e ON e.beneficiary_id_number = d.id
             WHERE {LIVE} AND e.program IN {exclusive}
             GROUP BY e.beneficiary_id_number"
        ),
        CheckKind::SharedAccount => format!(
            "SELECT 'account:' || h.account_number AS subject_key,
                MIN(h.township_code) AS township_code, '' AS id_number,
                MIN(h.head_name) AS name, MIN(h.id) AS household_id, MIN(e.id) AS enrolment_id,
                '{{\"account\":\"' || h.account_number || '\",\"households\":'
                  || COUNT(DISTINCT h.id) || ',\"names\":[\"' || MIN(h.head_name) || '\",\"'
                  || MAX(h.head_name) || '\"]}}' AS evidence
             FROM (SELECT a.account_number AS acct FROM households a
                   WHERE a.account_number <> ''
                   GROUP BY a.account_number HAVING COUNT(*) > 1) d
             JOIN households h ON h.account_number = d.acct
             JOIN enrolments e ON e.household_id = h.id
             WHERE {LIVE}
             GROUP BY h.account_number HAVING COUNT(DISTINCT h.id) > 1"
        ),
        CheckKind::ReviewOverdue => String::from(
            "SELECT 'review:' || e.id AS subject_key, e.township_code,
                e.beneficiary_id_number AS id_number, e.beneficiary_name AS name, e.household_id,
                e.id AS enrolment_id,
                '{\"program\":\"' || e.program || '\",\"due\":\"' || e.next_review_on
                  || '\"}' AS evidence
             FROM enrolments e
             WHERE e.status = 'active' AND e.next_review_on IS NOT NULL
               AND e.next_review_on < $1
               AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.enrolment_id = e.id
                   AND c.kind = 'review'
                   AND c.state NOT IN ('enrolled','terminated','withdrawn','denied','not_accepted'))"
        ),
        CheckKind::InvalidIdNumber => format!(
            "SELECT 'id:' || e.beneficiary_id_number AS subject_key,
                MIN(e.township_code) AS township_code, e.beneficiary_id_number AS id_number,
                MIN(e.beneficiary_name) AS name, MIN(e.household_id) AS household_id,
                MIN(e.id) AS enrolment_id,
                '{{\"programs\":' || COUNT(*) || '}}' AS evidence
             FROM enrolments e
             WHERE {LIVE} AND NOT {valid}
             GROUP BY e.beneficiary_id_number",
            valid = id_number_valid("e.beneficiary_id_number", postgres)
        ),
        CheckKind::ImplausibleBirth => format!(
            "SELECT 'birth:' || e.id AS subject_key, e.township_code,
                e.beneficiary_id_number AS id_number, e.beneficiary_name AS name,
                e.household_id, e.id AS enrolment_id,
                '{{\"program\":\"' || e.program || '\",\"birth\":\"' || {b}
                  || '\",\"why\":\"' || (CASE
                    WHEN {b} > {today} THEN 'future'
                    WHEN SUBSTR({b}, 1, 7) > e.start_month THEN 'born_after_start'
                    WHEN e.program = 'old_age_allowance' AND {b} > {born_by} THEN 'too_young'
                    ELSE 'too_old' END) || '\"}}' AS evidence
             FROM enrolments e
             WHERE {LIVE} AND {valid}
               AND ({b} > {today}
                 OR SUBSTR({b}, 1, 7) > e.start_month
                 OR (e.program = 'old_age_allowance' AND {b} > {born_by})
                 OR {b} < {oldest})",
            b = birth("e.beneficiary_id_number"),
            // The shape and a real calendar date suffice here: a wrong check digit is the
            // other check's finding (and computing it twice over every enrolment is slow).
            valid = id_shape_valid("e.beneficiary_id_number", postgres),
            oldest = date_literal(&format!(
                "{:04}{}",
                day.today.get(..4).and_then(|y| y.parse::<i32>().ok()).unwrap_or(2000) - 120,
                day.today.get(4..).unwrap_or("-01-01")
            )),
        ),
        CheckKind::OldAgeNotEnrolled => format!(
            "SELECT 'old_age:' || p.id AS subject_key, p.township_code, p.id_number, p.name,
                p.household_id, CAST(NULL AS BIGINT) AS enrolment_id,
                '{{\"birth\":\"' || p.birth_date || '\"}}' AS evidence
             FROM persons p
             WHERE p.status = 'active' AND p.birth_date <= {born_by}
               AND NOT EXISTS (SELECT 1 FROM enrolments e
                   WHERE e.person_id = p.id AND e.program = 'old_age_allowance' AND {LIVE})
               AND NOT EXISTS (SELECT 1 FROM cases c
                   WHERE c.person_id = p.id AND c.program = 'old_age_allowance'
                     AND c.state NOT IN ('withdrawn','denied','not_accepted','terminated'))"
        ),
        CheckKind::UnfiledRelative => format!(
            "SELECT 'relative:' || e.id || ':' || d.id || ':' || p.id AS subject_key,
                e.township_code, p.id_number, p.name, e.household_id, e.id AS enrolment_id,
                '{{\"program\":\"' || e.program || '\",\"member\":\"' || p.name
                  || '\",\"declarant\":\"' || d.declarant_name || '\",\"post\":\"' || d.post
                  || '\",\"relation\":\"' || d.relation || '\"}}' AS evidence
             FROM enrolments e
             JOIN persons p ON p.household_id = e.household_id AND p.status = 'active'
             JOIN (SELECT id, declarant_name, post, relation, relative_id_number AS member_id
                     FROM relative_declarations
                   UNION ALL
                   SELECT id, declarant_name, post, 'self', declarant_id_number
                     FROM relative_declarations) d ON d.member_id = p.id_number
             LEFT JOIN cases c ON c.id = e.case_id
             WHERE {LIVE} AND COALESCE(c.filed_note, '') = ''"
        ),
        CheckKind::IncomeAboveStandard => format!(
            "SELECT 'income:' || e.id AS subject_key, e.township_code,
                e.beneficiary_id_number AS id_number, e.beneficiary_name AS name, e.household_id,
                e.id AS enrolment_id,
                '{{\"program\":\"' || e.program || '\",\"per_capita_fen\":'
                  || CAST(i.monthly / m.n AS BIGINT) || ',\"standard_fen\":' || s.fen
                  || ',\"members\":' || m.n || '}}' AS evidence
             FROM enrolments e
             JOIN ({standards}) s ON s.county = SUBSTR(e.township_code, 1, 6)
                                 AND s.program = e.program
             JOIN (SELECT household_id,
                          SUM(CASE WHEN period = 'annual' THEN amount_fen / 12
                                   ELSE amount_fen END) AS monthly
                     FROM incomes
                    WHERE (start_month IS NULL OR start_month <= SUBSTR({today}, 1, 7))
                      AND (end_month IS NULL OR end_month >= SUBSTR({today}, 1, 7))
                    GROUP BY household_id) i ON i.household_id = e.household_id
             JOIN (SELECT household_id, COUNT(*) AS n FROM persons
                    WHERE status = 'active' AND counted = TRUE
                    GROUP BY household_id) m ON m.household_id = e.household_id
             WHERE e.status = 'active' AND e.program IN ('urban_dibao', 'rural_dibao')
               AND i.monthly > s.fen * m.n",
            standards = standards_table(day.dibao_standards)
        ),
        CheckKind::ListMatch => format!(
            "SELECT 'list:' || e.id || ':' || x.id AS subject_key, e.township_code,
                p.id_number, p.name, e.household_id, e.id AS enrolment_id,
                '{{\"program\":\"' || e.program || '\",\"list\":\"' || x.kind
                  || '\",\"member\":\"' || p.name || '\",\"date\":\"' || x.event_date
                  || '\",\"detail\":\"' || x.detail || '\",\"received_on\":\"'
                  || b.received_on || '\"}}' AS evidence
             FROM enrolments e
             JOIN persons p ON p.household_id = e.household_id AND p.status = 'active'
             JOIN external_records x ON x.id_number = p.id_number AND x.kind <> 'police_death'
             JOIN external_batches b ON b.id = x.batch_id
             WHERE {LIVE}"
        ),
    }
}

/// What one check's run did.
#[derive(Debug, Clone, Copy)]
pub struct Ran {
    pub found: i64,
    pub new: i64,
    pub closed: i64,
}

/// Runs one check: raises its new findings inside `[lo, hi)` (township codes), stamps the
/// ones it saw again with `run`, and closes the open or confirmed ones it no longer saw.
pub async fn run_check(
    tx: &mut Tx,
    kind: CheckKind,
    (lo, hi): (&str, &str),
    run: &str,
    day: Day<'_>,
    now: &str,
) -> StoreResult<Ran> {
    let sql = format!(
        "INSERT INTO findings (kind, subject_key, township_code, id_number, name, household_id,
             enrolment_id, evidence, state, last_run, first_run, opened_at, updated_at)
         SELECT $2, h.subject_key, h.township_code, h.id_number, h.name, h.household_id,
             h.enrolment_id, h.evidence, 'open', $3, $3, $4, $4
         FROM ({hits}) h
         WHERE h.township_code >= $5 AND h.township_code < $6
         ON CONFLICT (kind, subject_key) WHERE state IN ('open', 'confirmed', 'dismissed')
         DO UPDATE SET last_run = excluded.last_run, evidence = excluded.evidence",
        hits = hits(kind, tx.is_postgres(), day)
    );
    tx.execute(
        q(sql)
            .bind(day.today)
            .bind(kind.as_str())
            .bind(run)
            .bind(now)
            .bind(lo)
            .bind(hi),
    )
    .await?;
    let closed = tx
        .execute(
            q("UPDATE findings SET state = 'closed', updated_at = $3
               WHERE kind = $1 AND state IN ('open', 'confirmed') AND last_run <> $2
                 AND township_code >= $4 AND township_code < $5")
            .bind(kind.as_str())
            .bind(run)
            .bind(now)
            .bind(lo)
            .bind(hi),
        )
        .await? as i64;
    let r = tx
        .fetch_one(
            q("SELECT COUNT(*) AS found,
                 COALESCE(SUM(CASE WHEN first_run = $2 THEN 1 ELSE 0 END), 0) AS fresh
               FROM findings WHERE kind = $1 AND last_run = $2 AND state <> 'closed'")
            .bind(kind.as_str())
            .bind(run),
        )
        .await?;
    Ok(Ran {
        found: r.i64("found")?,
        new: r.i64("fresh")?,
        closed,
    })
}

const SELECT_FINDING: &str = "SELECT * FROM findings x";

fn finding(r: &DbRow) -> StoreResult<Finding> {
    let evidence = r.str("evidence")?;
    Ok(Finding {
        id: r.i64("id")?,
        kind: r.coded("kind")?,
        subject_key: r.str("subject_key")?,
        township_code: r.str("township_code")?,
        id_number: r.str("id_number")?,
        name: r.str("name")?,
        household_id: r.opt_i64("household_id")?,
        enrolment_id: r.opt_i64("enrolment_id")?,
        evidence: serde_json::from_str(&evidence).unwrap_or(serde_json::Value::String(evidence)),
        state: r.coded("state")?,
        note: r.str("note")?,
        resolved_by: r.opt_str("resolved_by")?,
        opened_at: r.str("opened_at")?,
        updated_at: r.str("updated_at")?,
    })
}

/// Findings inside the scope, of one check and state when given, open ones first, oldest
/// first within; and how many match.
pub async fn list_findings(
    store: &Store,
    scope: &Scope,
    f: &FindingQuery,
) -> StoreResult<(Vec<Finding>, i64)> {
    let (kind, state, limit, offset) = (&f.kind, &f.state, f.limit, f.offset);
    let (lo, hi) = scope.bounds();
    let mut where_ = String::from(" WHERE x.township_code >= $1 AND x.township_code < $2");
    let mut args: Vec<String> = vec![lo, hi];
    for (col, w) in [
        (
            "kind",
            kind.as_ref().map(|r| r.as_ref().map(|k| k.as_str())),
        ),
        (
            "state",
            state.as_ref().map(|r| r.as_ref().map(|s| s.as_str())),
        ),
    ] {
        match w {
            None => {}
            Some(Ok(code)) => {
                args.push(code.to_string());
                where_.push_str(&format!(" AND x.{col} = ${}", args.len()));
            }
            Some(Err(_)) => where_.push_str(" AND 1 = 0"),
        }
    }
    let mut count = q(format!("SELECT COUNT(*) AS n FROM findings x{where_}"));
    let mut list = q(format!(
        "{SELECT_FINDING}{where_}
         ORDER BY CASE x.state WHEN 'open' THEN 0 WHEN 'confirmed' THEN 1 ELSE 2 END, x.id
         LIMIT {limit} OFFSET {offset}"
    ));
    for a in &args {
        count.push(a.clone());
        list.push(a.clone());
    }
    let total = store.fetch_one(count).await?.i64("n")?;
    let items = store
        .fetch_all(list)
        .await?
        .iter()
        .map(finding)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok((items, total))
}

/// One finding inside the scope.
pub async fn get_finding<'c>(
    db: impl Into<Conn<'c>>,
    scope: &Scope,
    id: i64,
) -> StoreResult<Finding> {
    let r = db
        .into()
        .fetch_optional(q(format!("{SELECT_FINDING} WHERE x.id = $1")).bind(id))
        .await?
        .ok_or(StoreError::NotFound("该疑点"))?;
    let f = finding(&r)?;
    if !scope.contains_str(&f.township_code) {
        return Err(StoreError::NotFound("该疑点"));
    }
    Ok(f)
}

/// Records a verdict; false when the finding moved meanwhile.
pub async fn set_verdict(
    tx: &mut Tx,
    id: i64,
    from: FindingState,
    to: FindingState,
    note: &str,
    by: &str,
    now: &str,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            q(
                "UPDATE findings SET state = $3, note = $4, resolved_by = $5, updated_at = $6
               WHERE id = $1 AND state = $2",
            )
            .bind(id)
            .bind(from.as_str())
            .bind(to.as_str())
            .bind(note.trim())
            .bind(by)
            .bind(now),
        )
        .await?;
    Ok(n > 0)
}

/// Findings per check inside the scope: open, confirmed, all.
pub async fn counts(store: &Store, scope: &Scope) -> StoreResult<Vec<CheckCount>> {
    let (lo, hi) = scope.bounds();
    let rows = store
        .fetch_all(
            q("SELECT kind,
                 CAST(SUM(CASE WHEN state = 'open' THEN 1 ELSE 0 END) AS BIGINT) AS open,
                 CAST(SUM(CASE WHEN state = 'confirmed' THEN 1 ELSE 0 END) AS BIGINT) AS confirmed,
                 COUNT(*) AS total
               FROM findings WHERE township_code >= $1 AND township_code < $2
               GROUP BY kind")
            .bind(lo)
            .bind(hi),
        )
        .await?;
    let mut out: Vec<CheckCount> = CheckKind::ALL
        .iter()
        .map(|k| CheckCount {
            kind: *k,
            open: 0,
            confirmed: 0,
            total: 0,
        })
        .collect();
    for r in rows {
        let kind: CheckKind = r.coded("kind")?;
        if let Some(c) = out.iter_mut().find(|c| c.kind == kind) {
            c.open = r.i64("open")?;
            c.confirmed = r.i64("confirmed")?;
            c.total = r.i64("total")?;
        }
    }
    Ok(out)
}

/// Closes the open or confirmed findings of `kind` with these subject keys (a death
/// recorded settles them at once, without waiting for the next run).
pub async fn close_findings(
    tx: &mut Tx,
    kind: CheckKind,
    keys: &[String],
    now: &str,
) -> StoreResult<u64> {
    let mut n = 0;
    for k in keys {
        n += tx
            .execute(
                q("UPDATE findings SET state = 'closed', updated_at = $3
                   WHERE kind = $1 AND subject_key = $2 AND state IN ('open', 'confirmed')")
                .bind(kind.as_str())
                .bind(k.as_str())
                .bind(now),
            )
            .await?;
    }
    Ok(n)
}

/// The cross-checks' benchmark (`minzheng bench checks`, in the release binary too): the
/// fixture's deaths and ID numbers, and the floor the checks are compared with.
pub mod bench {
    use std::time::Instant;

    use super::check_char;
    use crate::db::{q, Store};
    use crate::error::StoreResult;

    /// Gives every household head and enrolment a valid, unique ID number (雨城区, born
    /// 1940–1964, a sequence number, the check digit), as a real registry's would be.
    pub async fn realistic_ids(store: &Store) -> StoreResult<()> {
        let mut tx = store.begin_write().await?;
        tx.mark_large();
        // Born 1940–1964; 高龄津贴's beneficiaries 1925–1930 (old enough for it).
        let old = "EXISTS (SELECT 1 FROM enrolments e WHERE e.household_id = households.id
                             AND e.program = 'old_age_allowance')";
        let id17 = if tx.is_postgres() {
            format!(
                "'511802' || to_char(CASE WHEN {old}
                     THEN DATE '1925-01-01' + CAST((id / 1000) * 2 AS INTEGER)
                     ELSE DATE '1940-01-01' + CAST((id / 1000) * 9 AS INTEGER) END, 'YYYYMMDD')
                   || lpad(CAST(id % 1000 AS TEXT), 3, '0')"
            )
        } else {
            format!(
                "'511802' || replace(CASE WHEN {old}
                     THEN date('1925-01-01', '+' || ((id / 1000) * 2) || ' days')
                     ELSE date('1940-01-01', '+' || ((id / 1000) * 9) || ' days') END, '-', '')
                   || printf('%03d', id % 1000)"
            )
        };
        tx.execute(q(format!("UPDATE households SET head_id_number = {id17}")))
            .await?;
        tx.execute(q(format!(
            "UPDATE households SET head_id_number = head_id_number || {}",
            check_char("head_id_number")
        )))
        .await?;
        tx.execute(q(
            "UPDATE enrolments SET beneficiary_id_number =
               (SELECT h.head_id_number FROM households h WHERE h.id = enrolments.household_id)",
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records `n` deaths on `death_date` among the enrolled, spread evenly over the
    /// enrolments (the funeral ledger as a nightly run meets it). Returns how many.
    pub async fn deaths(store: &Store, n: i64, death_date: &str) -> StoreResult<i64> {
        let mut tx = store.begin_write().await?;
        tx.mark_large();
        let total = tx
            .fetch_one(q("SELECT COUNT(*) AS n FROM enrolments"))
            .await?
            .i64("n")?;
        let step = (total / n.max(1)).max(1);
        let added = tx
            .execute(
                q(
                    "INSERT INTO funeral_records (township_code, household_id, id_number, name,
                     death_date, certificate_kind, certificate_no, disposal, source, recorded_by,
                     recorded_at)
                   SELECT e.township_code, e.household_id, e.beneficiary_id_number,
                     e.beneficiary_name, $1, 'medical', 'B' || e.id, 'cremation', 'office',
                     'bench', $1
                   FROM enrolments e WHERE e.id % $2 = 0 ORDER BY e.id LIMIT $3",
                )
                .bind(death_date)
                .bind(step)
                .bind(n),
            )
            .await?;
        tx.commit().await?;
        if store.is_postgres() {
            store
                .execute_unchecked(
                    "VACUUM (ANALYZE) households, enrolments, funeral_records, payroll_lines, payroll_batches",
                )
                .await?;
        }
        Ok(added as i64)
    }

    /// The floor: the bare join of the enrolments with the death records by ID number,
    /// counted. Returns (matches, seconds).
    pub async fn floor(store: &Store) -> StoreResult<(i64, f64)> {
        let t = Instant::now();
        let n = store
            .fetch_one(q("SELECT COUNT(*) AS n FROM enrolments e
                 JOIN funeral_records f ON f.id_number = e.beneficiary_id_number"))
            .await?
            .i64("n")?;
        Ok((n, t.elapsed().as_secs_f64()))
    }
}
