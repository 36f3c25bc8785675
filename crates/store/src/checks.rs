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
use crate::error::{Result, StoreError};

/// Live enrolments: paying now or able to pay again.
const LIVE: &str = "e.status IN ('active', 'grace', 'suspended')";

/// `INDEXED BY index` on SQLite, nothing on PostgreSQL. SQLite keeps no statistics here, so
/// it takes an equality on the status (nearly every enrolment is live) for the most
/// selective index; where a check is answered by a partial or covering index, the check
/// names it (and an index that cannot answer the query makes SQLite refuse it, which the
/// tests would see). PostgreSQL's planner knows the sizes.
fn by_index(postgres: bool, index: &str) -> String {
    if postgres {
        String::new()
    } else {
        format!(" INDEXED BY {index}")
    }
}

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
/// the income check). The townships are read from the scope index one seek each (a loose
/// index scan: a city has a hundred townships and a million enrolments), then each is asked
/// whether it pays 低保. A cluster (which runs no recursive query across shards) asks each
/// shard for its counties instead: the county is the distribution column, so each shard
/// answers for its own.
pub async fn dibao_counties(store: &Store, (lo, hi): (&str, &str)) -> Result<Vec<String>> {
    let sql = if store.distributed {
        "SELECT DISTINCT county_code AS county FROM enrolments
         WHERE township_code >= $1 AND township_code < $2 AND status = 'active'
           AND program IN ('urban_dibao', 'rural_dibao')
         ORDER BY county"
    } else {
        "WITH RECURSIVE t(code) AS (
           SELECT MIN(township_code) FROM enrolments
            WHERE township_code >= $1 AND township_code < $2
           UNION ALL
           SELECT (SELECT MIN(e.township_code) FROM enrolments e
                    WHERE e.township_code > t.code AND e.township_code < $2)
             FROM t WHERE t.code IS NOT NULL)
         SELECT DISTINCT SUBSTR(t.code, 1, 6) AS county FROM t
         WHERE t.code IS NOT NULL
           AND EXISTS (SELECT 1 FROM enrolments e WHERE e.township_code = t.code
               AND e.status = 'active' AND e.program IN ('urban_dibao', 'rural_dibao'))
         ORDER BY county"
    };
    store
        .fetch_all(q(sql).bind(lo).bind(hi))
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
    let by = |index: &str| by_index(postgres, index);
    let exclusive = "('urban_dibao', 'rural_dibao', 'single_person_dibao', 'tekun')";
    let born_by = date_literal(day.old_age_born_by);
    let today = date_literal(day.today);
    match kind {
        // Driven from the deaths (a few) into the lines by the beneficiary's ID number: the
        // once index holds every line but re-issues and top-ups, payroll_lines_beside_once
        // those two.
        CheckKind::PaidAfterDeath => {
            let line = |from: &str, cond: &str| {
                format!(
                    "SELECT 'line:' || l.id AS subject_key, l.township_code,
                        l.beneficiary_id_number AS id_number, l.beneficiary_name AS name,
                        e.household_id, l.enrolment_id,
                        '{{\"program\":\"' || l.program || '\",\"period\":\"' || l.period
                          || '\",\"amount_fen\":' || l.amount_fen || ',\"death_date\":\"'
                          || d.death_date || '\"}}' AS evidence
                     FROM {from}
                     JOIN payroll_batches b ON b.id = l.batch_id
                     JOIN enrolments e ON e.id = l.enrolment_id
                     WHERE l.beneficiary_id_number = d.id_number AND {cond}
                       AND l.period > SUBSTR(d.death_date, 1, 7) AND l.status <> 'failed'
                       AND b.status <> 'draft'
                       AND NOT EXISTS (SELECT 1 FROM recoveries r WHERE r.line_id = l.id)"
                )
            };
            format!(
                "{} UNION ALL {}",
                line(
                    &format!(
                        "({DEATHS}) d CROSS JOIN payroll_lines l{}",
                        by("payroll_lines_once")
                    ),
                    "l.kind NOT IN ('reissue', 'top_up')"
                ),
                line(
                    &format!(
                        "({DEATHS}) d CROSS JOIN payroll_lines l{}",
                        by("payroll_lines_beside_once")
                    ),
                    "l.kind IN ('reissue', 'top_up')"
                ),
            )
        }
        CheckKind::EnrolledAfterDeath => format!(
            "SELECT 'enrolment:' || e.id AS subject_key, e.township_code,
                e.beneficiary_id_number AS id_number, e.beneficiary_name AS name, e.household_id,
                e.id AS enrolment_id,
                '{{\"program\":\"' || e.program || '\",\"death_date\":\"' || d.death_date
                  || '\",\"status\":\"' || e.status || '\"}}' AS evidence
             FROM ({DEATHS}) d CROSS JOIN enrolments e
             WHERE e.beneficiary_id_number = d.id_number AND {LIVE}
               AND (e.end_month IS NULL OR e.end_month > SUBSTR(d.death_date, 1, 7))"
        ),
        // The grouping checks find their keys first from an index alone (the persons with
        // more than one live enrolment, staged once for the run; households by account),
        // then read only those rows.
        CheckKind::DuplicateEnrolment => format!(
            "SELECT 'dup:' || e.beneficiary_id_number || ':' || e.program AS subject_key,
                MIN(e.township_code) AS township_code, e.beneficiary_id_number AS id_number,
                MIN(e.beneficiary_name) AS name, MIN(e.household_id) AS household_id,
                MIN(e.id) AS enrolment_id,
                '{{\"program\":\"' || e.program || '\",\"count\":' || COUNT(*)
                  || ',\"townships\":[\"' || MIN(e.township_code) || '\",\"'
                  || MAX(e.township_code) || '\"]}}' AS evidence
             FROM {MULTI} d CROSS JOIN enrolments e
             WHERE e.beneficiary_id_number = d.id AND {LIVE}
             GROUP BY e.beneficiary_id_number, e.program HAVING COUNT(*) > 1"
        ),
        CheckKind::ExclusivePrograms => format!(
            "SELECT 'excl:' || e.beneficiary_id_number AS subject_key,
                MIN(e.township_code) AS township_code, e.beneficiary_id_number AS id_number,
                MIN(e.beneficiary_name) AS name, MIN(e.household_id) AS household_id,
                MIN(e.id) AS enrolment_id,
                '{{\"programs\":[\"' || MIN(e.program) || '\",\"' || MAX(e.program)
                  || '\"]}}' AS evidence
             FROM {MULTI} d CROSS JOIN enrolments e
             WHERE e.beneficiary_id_number = d.id AND {LIVE} AND e.program IN {exclusive}
             GROUP BY e.beneficiary_id_number HAVING COUNT(DISTINCT e.program) > 1"
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
             CROSS JOIN households h CROSS JOIN enrolments e
             WHERE h.account_number = d.acct AND e.household_id = h.id AND {LIVE}
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
        // `id_ok` and `id_birth` are kept by the database on every write (migration 14):
        // the checks read the few live enrolments they find through partial indexes.
        CheckKind::InvalidIdNumber => format!(
            "SELECT 'id:' || e.beneficiary_id_number AS subject_key,
                MIN(e.township_code) AS township_code, e.beneficiary_id_number AS id_number,
                MIN(e.beneficiary_name) AS name, MIN(e.household_id) AS household_id,
                MIN(e.id) AS enrolment_id,
                '{{\"programs\":' || COUNT(*) || '}}' AS evidence
             FROM enrolments e{bad_id}
             WHERE {LIVE} AND e.id_ok = 0
             GROUP BY e.beneficiary_id_number",
            bad_id = by("enrolments_bad_id")
        ),
        // Each way a birth date can be implausible is one branch an index answers (a date
        // in the future or more than 120 years ago, born after the enrolment began, too
        // young for 高龄津贴); UNION merges an enrolment found twice.
        CheckKind::ImplausibleBirth => {
            let branch = |index: &str, cond: &str| {
                format!(
                    "SELECT 'birth:' || e.id AS subject_key, e.township_code,
                        e.beneficiary_id_number AS id_number, e.beneficiary_name AS name,
                        e.household_id, e.id AS enrolment_id,
                        '{{\"program\":\"' || e.program || '\",\"birth\":\"' || e.id_birth
                          || '\",\"why\":\"' || (CASE
                            WHEN e.id_birth > {today} THEN 'future'
                            WHEN SUBSTR(e.id_birth, 1, 7) > e.start_month THEN 'born_after_start'
                            WHEN e.program = 'old_age_allowance' AND e.id_birth > {born_by}
                              THEN 'too_young'
                            ELSE 'too_old' END) || '\"}}' AS evidence
                     FROM enrolments e{index}
                     WHERE {LIVE} AND {cond}",
                    index = by(index)
                )
            };
            let oldest = date_literal(&format!(
                "{:04}{}",
                day.today.get(..4).and_then(|y| y.parse::<i32>().ok()).unwrap_or(2000) - 120,
                day.today.get(4..).unwrap_or("-01-01")
            ));
            [
                ("enrolments_birth", format!("e.id_birth > {today}")),
                ("enrolments_birth", format!("e.id_birth < {oldest}")),
                (
                    "enrolments_old_age_birth",
                    format!("e.program = 'old_age_allowance' AND e.id_birth > {born_by}"),
                ),
                (
                    "enrolments_born_after_start",
                    "e.id_birth > e.start_month || '-99'".to_string(),
                ),
            ]
            .iter()
            .map(|(index, c)| branch(index, c))
            .collect::<Vec<_>>()
            .join(" UNION ")
        }
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
        // From the declarations (few) to the persons by ID number, to the live enrolments of
        // their households.
        CheckKind::UnfiledRelative => format!(
            "SELECT 'relative:' || e.id || ':' || d.id || ':' || p.id AS subject_key,
                e.township_code, p.id_number, p.name, e.household_id, e.id AS enrolment_id,
                '{{\"program\":\"' || e.program || '\",\"member\":\"' || p.name
                  || '\",\"declarant\":\"' || d.declarant_name || '\",\"post\":\"' || d.post
                  || '\",\"relation\":\"' || d.relation || '\"}}' AS evidence
             FROM (SELECT id, declarant_name, post, relation, relative_id_number AS member_id
                     FROM relative_declarations
                   UNION ALL
                   SELECT id, declarant_name, post, 'self', declarant_id_number
                     FROM relative_declarations) d
             CROSS JOIN persons p CROSS JOIN enrolments e
             LEFT JOIN cases c ON c.id = e.case_id
             WHERE p.id_number = d.member_id AND p.status = 'active'
               AND e.household_id = p.household_id AND {LIVE}
               AND COALESCE(c.filed_note, '') = ''"
        ),
        // From the households with a current income (a share of all) to their live 低保
        // enrolments; the counted members read per household by its index.
        CheckKind::IncomeAboveStandard => format!(
            "SELECT 'income:' || x.id AS subject_key, x.township_code,
                x.beneficiary_id_number AS id_number, x.beneficiary_name AS name, x.household_id,
                x.id AS enrolment_id,
                '{{\"program\":\"' || x.program || '\",\"per_capita_fen\":'
                  || CAST(x.monthly / x.n AS BIGINT) || ',\"standard_fen\":' || x.fen
                  || ',\"members\":' || x.n || '}}' AS evidence
             FROM (SELECT e.id, e.township_code, e.beneficiary_id_number, e.beneficiary_name,
                          e.household_id, e.program, i.monthly, s.fen,
                          (SELECT COUNT(*) FROM persons m
                            WHERE m.household_id = e.household_id AND m.status = 'active'
                              AND m.counted = TRUE) AS n
                   FROM (SELECT household_id,
                                SUM(CASE WHEN period = 'annual' THEN amount_fen / 12
                                         ELSE amount_fen END) AS monthly
                           FROM incomes
                          WHERE (start_month IS NULL OR start_month <= SUBSTR({today}, 1, 7))
                            AND (end_month IS NULL OR end_month >= SUBSTR({today}, 1, 7))
                          GROUP BY household_id) i
                   CROSS JOIN enrolments e
                   JOIN ({standards}) s ON s.county = SUBSTR(e.township_code, 1, 6)
                                       AND s.program = e.program
                   WHERE e.household_id = i.household_id AND e.status = 'active'
                     AND e.program IN ('urban_dibao', 'rural_dibao')) x
             WHERE x.n > 0 AND x.monthly > x.fen * x.n",
            standards = standards_table(day.dibao_standards)
        ),
        // From the other departments' records to the persons by ID number, to the live
        // enrolments of their households.
        CheckKind::ListMatch => format!(
            "SELECT 'list:' || e.id || ':' || x.id AS subject_key, e.township_code,
                p.id_number, p.name, e.household_id, e.id AS enrolment_id,
                '{{\"program\":\"' || e.program || '\",\"list\":\"' || x.kind
                  || '\",\"member\":\"' || p.name || '\",\"date\":\"' || x.event_date
                  || '\",\"detail\":\"' || x.detail || '\",\"received_on\":\"'
                  || b.received_on || '\"}}' AS evidence
             FROM external_records x CROSS JOIN persons p CROSS JOIN enrolments e
             JOIN external_batches b ON b.id = x.batch_id
             WHERE x.kind <> 'police_death' AND p.id_number = x.id_number
               AND p.status = 'active' AND e.household_id = p.household_id AND {LIVE}"
        ),
    }
}

/// The persons with more than one live enrolment, staged once per run for the two checks
/// that group enrolments by person (the same program twice; programs that exclude each
/// other): one ordered scan of the covering index instead of one per check.
const MULTI: &str = "check_multi";

/// Whether `kinds` needs [`MULTI`].
fn needs_multi(kinds: &[CheckKind]) -> bool {
    kinds.iter().any(|k| {
        matches!(
            k,
            CheckKind::DuplicateEnrolment | CheckKind::ExclusivePrograms
        )
    })
}

/// The tables the checks read, copied to the coordinator for a run on a cluster (see
/// [`stage`]), with the indexes their lookups need.
const CLUSTER_COPIES: [(&str, &[&str]); 12] = [
    ("persons", &["household_id", "id_number", "id"]),
    ("households", &["id", "account_number"]),
    (
        "enrolments",
        &["household_id", "beneficiary_id_number", "person_id", "id"],
    ),
    ("cases", &["enrolment_id", "person_id", "id"]),
    ("incomes", &["household_id"]),
    ("payroll_lines", &["beneficiary_id_number"]),
    ("payroll_batches", &["id"]),
    ("recoveries", &["line_id"]),
    ("funeral_records", &["id_number"]),
    ("relative_declarations", &[]),
    ("external_records", &["id_number"]),
    ("external_batches", &["id"]),
];

/// Prepares what the run of `kinds` reads more than once; [`unstage`] drops it before the
/// transaction ends (a rolled-back run leaves nothing either way).
///
/// On a cluster the checks first copy the tables they read into temporary tables of the
/// same names on the coordinator, which the run's queries then find before the shared ones
/// (PostgreSQL looks in the session's temporary schema first). A check matches rows of any
/// county by ID number, household or account, with subqueries a cluster cannot send to the
/// shards; on the copies each runs as on one server, and its findings are written back to
/// the shards. The copies cost a read of those tables per run (ARCHITECTURE.md).
pub async fn stage(tx: &mut Tx, kinds: &[CheckKind]) -> Result<()> {
    if crate::distribute::keeps_person_ids(tx).await? {
        for (table, keys) in CLUSTER_COPIES {
            tx.execute(q(format!(
                "CREATE TEMP TABLE {table} ON COMMIT DROP AS SELECT * FROM public.{table}"
            )))
            .await?;
            for key in keys {
                tx.execute(q(format!("CREATE INDEX ON pg_temp.{table} ({key})")))
                    .await?;
            }
            tx.execute(q(format!("ANALYZE pg_temp.{table}"))).await?;
        }
    }
    if needs_multi(kinds) {
        let by = by_index(tx.is_postgres(), "enrolments_beneficiary");
        tx.execute(q(format!(
            "CREATE TEMP TABLE {MULTI} AS
             SELECT k.beneficiary_id_number AS id FROM enrolments k{by}
             WHERE k.status IN ('active', 'grace', 'suspended')
             GROUP BY k.beneficiary_id_number HAVING COUNT(*) > 1"
        )))
        .await?;
    }
    Ok(())
}

/// Drops what [`stage`] prepared.
pub async fn unstage(tx: &mut Tx, kinds: &[CheckKind]) -> Result<()> {
    if needs_multi(kinds) {
        tx.execute(q(format!("DROP TABLE {MULTI}"))).await?;
    }
    if crate::distribute::keeps_person_ids(tx).await? {
        for (table, _) in CLUSTER_COPIES {
            tx.execute(q(format!("DROP TABLE pg_temp.{table}"))).await?;
        }
    }
    Ok(())
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
) -> Result<Ran> {
    let sql = format!(
        "INSERT INTO findings (kind, subject_key, township_code, county_code, id_number, name, household_id,
             enrolment_id, evidence, state, last_run, first_run, opened_at, updated_at)
         SELECT $2, h.subject_key, h.township_code, substr(h.township_code, 1, 6), h.id_number, h.name, h.household_id,
             h.enrolment_id, h.evidence, 'open', $3, $3, $4, $4
         FROM ({hits}) h
         WHERE h.township_code >= $5 AND h.township_code < $6
         ORDER BY h.subject_key
         ON CONFLICT (kind, subject_key{county}) WHERE state IN ('open', 'confirmed', 'dismissed')
         DO UPDATE SET last_run = excluded.last_run, evidence = excluded.evidence",
        hits = hits(kind, tx.is_postgres(), day),
        // A cluster's unique keys take the county as their last column.
        county = if crate::distribute::keeps_person_ids(tx).await? {
            ", county_code"
        } else {
            ""
        },
    );
    // The live findings of the kind (the partial unique index alone): the run adds exactly
    // the difference, since a finding it sees again is updated in place.
    let live = "SELECT COUNT(*) AS n FROM findings
                WHERE kind = $1 AND state IN ('open', 'confirmed', 'dismissed')";
    let before = tx.fetch_one(q(live).bind(kind.as_str())).await?.i64("n")?;
    // Every hit is one row inserted or updated: what the run found.
    let found = tx
        .execute(
            q(sql)
                .bind(day.today)
                .bind(kind.as_str())
                .bind(run)
                .bind(now)
                .bind(lo)
                .bind(hi),
        )
        .await? as i64;
    let after = tx.fetch_one(q(live).bind(kind.as_str())).await?.i64("n")?;
    // The open or confirmed findings the run did not see again, read through the same
    // index (the repeated state test lets SQLite use it).
    let closed = tx
        .execute(
            q("UPDATE findings SET state = 'closed', updated_at = $3
               WHERE kind = $1 AND state IN ('open', 'confirmed', 'dismissed')
                 AND state <> 'dismissed' AND last_run <> $2
                 AND township_code >= $4 AND township_code < $5")
            .bind(kind.as_str())
            .bind(run)
            .bind(now)
            .bind(lo)
            .bind(hi),
        )
        .await? as i64;
    Ok(Ran {
        found,
        new: after - before,
        closed,
    })
}

const SELECT_FINDING: &str = "SELECT * FROM findings x";

fn finding(r: &DbRow) -> Result<Finding> {
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
) -> Result<(Vec<Finding>, i64)> {
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
        .collect::<Result<Vec<_>>>()?;
    Ok((items, total))
}

/// One finding inside the scope.
pub async fn get_finding<'c>(db: impl Into<Conn<'c>>, scope: &Scope, id: i64) -> Result<Finding> {
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
) -> Result<bool> {
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
pub async fn counts(store: &Store, scope: &Scope) -> Result<Vec<CheckCount>> {
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
) -> Result<u64> {
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
    use crate::error::Result;

    /// Gives every household head and enrolment a valid, unique ID number (雨城区, born
    /// 1940–1964, a sequence number, the check digit), as a real registry's would be.
    pub async fn realistic_ids(store: &Store) -> Result<()> {
        let mut tx = store.begin_write().await?;
        tx.mark_large();
        // Born 1940–1964; 高龄津贴's beneficiaries 1925–1930 (old enough for it).
        // On a cluster the subqueries name the county, so each shard answers alone.
        let county = |a: &str, b: &str| crate::distribute::same_county(store.distributed, a, b);
        let old = format!(
            "EXISTS (SELECT 1 FROM enrolments e WHERE e.household_id = households.id
                       AND e.program = 'old_age_allowance'{})",
            county("e", "households")
        );
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
        tx.execute(q(format!(
            "UPDATE enrolments SET beneficiary_id_number =
               (SELECT h.head_id_number FROM households h WHERE h.id = enrolments.household_id{})",
            county("h", "enrolments")
        )))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records `n` deaths on `death_date` among the enrolled, spread evenly over the
    /// enrolments (the funeral ledger as a nightly run meets it). Returns how many.
    pub async fn deaths(store: &Store, n: i64, death_date: &str) -> Result<i64> {
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
                    "INSERT INTO funeral_records (township_code, county_code, household_id, id_number, name,
                     death_date, certificate_kind, certificate_no, disposal, source, recorded_by,
                     recorded_at)
                   SELECT e.township_code, substr(e.township_code, 1, 6), e.household_id, e.beneficiary_id_number,
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
    pub async fn floor(store: &Store) -> Result<(i64, f64)> {
        let t = Instant::now();
        let n = store
            .fetch_one(q("SELECT COUNT(*) AS n FROM enrolments e
                 JOIN funeral_records f ON f.id_number = e.beneficiary_id_number"))
            .await?
            .i64("n")?;
        Ok((n, t.elapsed().as_secs_f64()))
    }
}
