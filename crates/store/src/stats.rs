//! 统计月报 storage: the month's figures per township read set-based — one grouped pass
//! over the enrolments (`enrolments_stats`, in program and township order, so the
//! grouping streams), one over the 低保 households' persons (`persons_stats`), the 特困
//! cases' details, and the month's payroll batches with their lines' totals — and the
//! locked months' snapshots (`stats_locks`, `stats_snapshots`). The reads run on a
//! connection each, side by side. Rolling townships up to counties and the city is the
//! caller's (domain `Facts::add`).

use std::collections::BTreeMap;

use minzheng_domain::case_calc::CaseDetails;
use minzheng_domain::stats::{
    tekun_care, tekun_mode, AgeLimits, Counts, Drill, EnrolmentFilter, EnrolmentRecord, Facts,
    LineRecord, OldAgeBand, PersonFilter, PersonRecord, Records,
};
use minzheng_domain::{Program, YearMonth};

use crate::db::{q, Conn, DbRow, Store, Tx};
use crate::error::{Result, StoreError};

/// Paid by the month: started, not ended before it (an ended enrolment without an end
/// month never paid), monthly programs.
const LIVE: &str = "(e.payment = 'monthly' AND e.start_month <= $3
    AND (e.end_month IS NULL OR e.end_month >= $3)
    AND (e.status <> 'ended' OR e.end_month IS NOT NULL))";

/// The beneficiary's birth date as the ID number's digits (`YYYYMMDD`), compared with the
/// band limits in that form: read from the index, where the generated `id_birth` would
/// need the table row on SQLite.
const BIRTH: &str = "(CASE WHEN length(e.beneficiary_id_number) = 18
    THEN substr(e.beneficiary_id_number, 7, 8) END)";

fn compact(day: &str) -> String {
    day.replace('-', "")
}

/// Every program code, for an `IN` list that lets the index's first column be used with
/// the township range on its second.
fn all_programs() -> String {
    Program::ALL
        .iter()
        .map(|p| format!("'{}'", p.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn sum(expr: &str, alias: &str) -> String {
    format!("CAST(COALESCE(SUM(CASE WHEN {expr} THEN 1 ELSE 0 END), 0) AS BIGINT) AS {alias}")
}

/// The month's facts of every township in `lo..hi` that the ledgers hold anything for.
pub async fn facts(
    store: &Store,
    (lo, hi): (&str, &str),
    month: YearMonth,
) -> Result<BTreeMap<String, Facts>> {
    let m = month.to_string();
    let ages = AgeLimits::of(month);
    let (e, p, t, b) = tokio::try_join!(
        enrolment_rows(store, lo, hi, &m, &ages, month.month() == 12),
        person_rows(store, lo, hi, &m, &ages),
        tekun_rows(store, lo, hi, &m),
        batch_rows(store, lo, hi, &m),
    )?;
    let mut out: BTreeMap<String, Facts> = BTreeMap::new();
    for r in &e {
        let f = out.entry(r.str("township_code")?).or_default();
        let program = r.program("program")?;
        let end = r.opt_str("end_month")?;
        let c = Counts::of(
            month,
            &r.str("start_month")?,
            end.as_deref(),
            &r.str("status")?,
            &r.str("payment")?,
        );
        let n = r.i64("n")?;
        let pf = f.programs.entry(program).or_default();
        if c.live {
            pf.live += n;
        }
        if c.new {
            pf.new += n;
        }
        if c.exited {
            pf.exited += n;
        }
        if c.once {
            pf.once += n;
        }
        if c.payable {
            pf.due_fen += r.i64("due_fen")? - r.i64("lapsed_fen")?;
        }
        if c.live && program == Program::Tekun {
            f.count_tekun(None, r.i64("no_case")?);
        }
        if c.live && program == Program::OldAgeAllowance {
            let (b80, b90, b100) = (r.i64("band80")?, r.i64("band90")?, r.i64("band100")?);
            f.count_old_age(Some(OldAgeBand::From80), b80);
            f.count_old_age(Some(OldAgeBand::From90), b90);
            f.count_old_age(Some(OldAgeBand::From100), b100);
            f.count_old_age(None, n - b80 - b90 - b100);
        }
    }
    for r in &p {
        let f = out.entry(r.str("township_code")?).or_default();
        let c = if r.program("program")? == Program::UrbanDibao {
            &mut f.urban_caseload
        } else {
            &mut f.rural_caseload
        };
        c.persons = r.i64("persons")?;
        c.minors = r.i64("minors")?;
        c.elderly = r.i64("elderly")?;
        c.adults = c.persons - c.minors - c.elderly;
        c.male = r.i64("male")?;
        c.female = r.i64("female")?;
        c.disabled = r.i64("disabled")?;
        c.work_full = r.i64("work_full")?;
        c.work_partial = r.i64("work_partial")?;
        c.work_none = r.i64("work_none")?;
    }
    for r in &t {
        let f = out.entry(r.str("township_code")?).or_default();
        let d: Option<CaseDetails> = serde_json::from_str(&r.str("details_json")?).ok();
        f.count_tekun(d.as_ref(), r.i64("n")?);
    }
    for r in &b {
        let f = out.entry(r.str("township_code")?).or_default();
        let pf = f.programs.entry(r.program("program")?).or_default();
        if r.str("status")? == "draft" {
            pf.draft_batches += 1;
        } else {
            pf.signed_batches += 1;
            let paid = r.i64("paid_fen")?;
            pf.paid_lines += r.i64("lines")?;
            pf.paid_fen += paid;
            pf.regular_fen += paid - r.i64("extra_fen")?;
        }
    }
    Ok(out)
}

/// One pass over the enrolments, grouped by an index prefix (program, township, start and
/// end month, status, payment) so the grouping streams; which groups are live, new,
/// stopped, one-off or payable in the month is the domain's (`Counts`). Only cheap sums run
/// per row: the amounts, the 渐退 enrolments past their grace, the enrolments without a
/// case, the 高龄 bands.
async fn enrolment_rows(
    store: &Store,
    lo: &str,
    hi: &str,
    m: &str,
    ages: &AgeLimits,
    december: bool,
) -> Result<Vec<DbRow>> {
    let old = "e.program = 'old_age_allowance'";
    let sql = format!(
        "SELECT e.program, e.township_code, e.start_month, e.end_month, e.status, e.payment,
                COUNT(*) AS n,
                CAST(SUM(e.monthly_fen + e.year_end_extra_fen * $4) AS BIGINT) AS due_fen,
                CAST(COALESCE(SUM(CASE WHEN e.status = 'grace' AND e.grace_until < $3
                    THEN e.monthly_fen + e.year_end_extra_fen * $4 ELSE 0 END), 0) AS BIGINT)
                    AS lapsed_fen,
                {no_case}, {b80}, {b90}, {b100}
         FROM enrolments e
         WHERE e.program IN ({programs}) AND e.township_code >= $1 AND e.township_code < $2
         GROUP BY e.program, e.township_code, e.start_month, e.end_month, e.status, e.payment",
        no_case = sum("e.case_id IS NULL", "no_case"),
        b80 = sum(
            &format!("{old} AND {BIRTH} <= $5 AND {BIRTH} > $6"),
            "band80"
        ),
        b90 = sum(
            &format!("{old} AND {BIRTH} <= $6 AND {BIRTH} > $7"),
            "band90"
        ),
        b100 = sum(&format!("{old} AND {BIRTH} <= $7"), "band100"),
        programs = all_programs(),
    );
    store
        .fetch_all(
            q(sql)
                .bind(lo)
                .bind(hi)
                .bind(m)
                .bind(i64::from(december))
                .bind(compact(&ages.age80_until))
                .bind(compact(&ages.age90_until))
                .bind(compact(&ages.age100_until)),
        )
        .await
}

/// The persons of the month's live 城市/农村低保 households: counted members on the
/// register during the month (moved out or died after it still count).
const MEMBER: &str = "p.counted AND (p.status = 'active' OR p.status_date > $6)";

async fn person_rows(
    store: &Store,
    lo: &str,
    hi: &str,
    m: &str,
    ages: &AgeLimits,
) -> Result<Vec<DbRow>> {
    let sql = format!(
        "SELECT e.program, e.township_code, COUNT(*) AS persons, {minors}, {elderly}, {male},
                {female}, {disabled}, {full}, {partial}, {none}
         FROM enrolments e JOIN persons p ON p.household_id = e.household_id{county}
         WHERE e.program IN ('urban_dibao', 'rural_dibao')
           AND e.township_code >= $1 AND e.township_code < $2 AND {LIVE} AND {MEMBER}
         GROUP BY e.program, e.township_code",
        county = crate::distribute::same_county(store.distributed, "p", "e"),
        minors = sum("p.birth_date > $4", "minors"),
        elderly = sum("p.birth_date <= $5", "elderly"),
        male = sum("p.gender = '男'", "male"),
        female = sum("p.gender = '女'", "female"),
        disabled = sum("p.disability_type <> 'none'", "disabled"),
        full = sum("p.work_capacity = 'full'", "work_full"),
        partial = sum("p.work_capacity = 'partial'", "work_partial"),
        none = sum("p.work_capacity = 'none'", "work_none"),
    );
    store
        .fetch_all(
            q(sql)
                .bind(lo)
                .bind(hi)
                .bind(m)
                .bind(ages.minor_after.as_str())
                .bind(ages.elderly_until.as_str())
                .bind(month_end(m)),
        )
        .await
}

/// The last day of a `YYYY-MM` month as `YYYY-MM-DD` (dates sort as text).
fn month_end(m: &str) -> String {
    YearMonth::parse(m)
        .map(|m| m.last_day().format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// Live 特困 enrolments with a case, grouped by township and the case's details (few
/// distinct: the support mode and the six-item assessment).
async fn tekun_rows(store: &Store, lo: &str, hi: &str, m: &str) -> Result<Vec<DbRow>> {
    store
        .fetch_all(
            q(format!(
                "SELECT e.township_code, c.details_json, COUNT(*) AS n
                 FROM enrolments e JOIN cases c ON c.id = e.case_id{county}
                 WHERE e.program = 'tekun' AND e.township_code >= $1 AND e.township_code < $2
                   AND {LIVE}
                 GROUP BY e.township_code, c.details_json",
                county = crate::distribute::same_county(store.distributed, "c", "e"),
            ))
            .bind(lo)
            .bind(hi)
            .bind(m),
        )
        .await
}

/// The month's batches with their lines' totals. On one server each total is read from a
/// covering index per batch (all lines, and the few that are not the month's regular
/// ones); a cluster answers a correlated subquery per batch slowly, so there the lines are
/// joined to their batches on the county and summed per batch on each node.
async fn batch_rows(store: &Store, lo: &str, hi: &str, m: &str) -> Result<Vec<DbRow>> {
    let sql = if store.distributed {
        "SELECT b.program, b.township_code, b.status, COUNT(l.id) AS lines,
           CAST(COALESCE(SUM(l.amount_fen), 0) AS BIGINT) AS paid_fen,
           CAST(COALESCE(SUM(CASE WHEN l.kind <> 'regular' THEN l.amount_fen END), 0) AS BIGINT)
             AS extra_fen
         FROM payroll_batches b
         LEFT JOIN payroll_lines l ON l.batch_id = b.id AND l.county_code = b.county_code
         WHERE b.month = $3 AND b.township_code >= $1 AND b.township_code < $2
         GROUP BY b.county_code, b.id, b.program, b.township_code, b.status"
    } else {
        "SELECT b.program, b.township_code, b.status,
           (SELECT COUNT(*) FROM payroll_lines l WHERE l.batch_id = b.id) AS lines,
           (SELECT CAST(COALESCE(SUM(l.amount_fen), 0) AS BIGINT) FROM payroll_lines l
            WHERE l.batch_id = b.id) AS paid_fen,
           (SELECT CAST(COALESCE(SUM(l.amount_fen), 0) AS BIGINT) FROM payroll_lines l
            WHERE l.batch_id = b.id AND l.kind <> 'regular') AS extra_fen
         FROM payroll_batches b
         WHERE b.month = $3 AND b.township_code >= $1 AND b.township_code < $2"
    };
    store.fetch_all(q(sql).bind(lo).bind(hi).bind(m)).await
}

/// A division the report has a column or a unit for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    pub code: String,
    pub name: String,
    pub level: i64,
}

/// The divisions of `lo..hi` from `min_level` to the townships (level 4), by code.
pub async fn units<'c>(
    db: impl Into<Conn<'c>>,
    (lo, hi): (&str, &str),
    min_level: i64,
) -> Result<Vec<Unit>> {
    let rows = db
        .into()
        .fetch_all(
            q("SELECT code, name, level FROM divisions
               WHERE code >= $1 AND code < $2 AND level >= $3 AND level <= 4 ORDER BY code")
            .bind(lo)
            .bind(hi)
            .bind(min_level),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Unit {
                code: r.str("code")?,
                name: r.str("name")?,
                level: r.i64("level")?,
            })
        })
        .collect()
}

/// Who locked a month, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub locked_by: String,
    pub locked_at: String,
}

/// The month's lock, if it is locked.
pub async fn lock_of<'c>(db: impl Into<Conn<'c>>, month: YearMonth) -> Result<Option<Lock>> {
    let r = db
        .into()
        .fetch_optional(
            q("SELECT locked_by, locked_at FROM stats_locks WHERE month = $1")
                .bind(month.to_string()),
        )
        .await?;
    r.map(|r| {
        Ok(Lock {
            locked_by: r.str("locked_by")?,
            locked_at: r.str("locked_at")?,
        })
    })
    .transpose()
}

/// The locked month's facts of the townships in `lo..hi`.
pub async fn snapshot<'c>(
    db: impl Into<Conn<'c>>,
    (lo, hi): (&str, &str),
    month: YearMonth,
) -> Result<BTreeMap<String, Facts>> {
    let rows = db
        .into()
        .fetch_all(
            q("SELECT township_code, facts_json FROM stats_snapshots
               WHERE month = $1 AND township_code >= $2 AND township_code < $3")
            .bind(month.to_string())
            .bind(lo)
            .bind(hi),
        )
        .await?;
    rows.iter()
        .map(|r| {
            let facts = serde_json::from_str(&r.str("facts_json")?)
                .map_err(|e| StoreError::Internal(format!("统计快照无法读取：{e}")))?;
            Ok((r.str("township_code")?, facts))
        })
        .collect()
}

/// Locks the month with its townships' facts. `false` (nothing written) when it is
/// locked already.
pub async fn lock(
    tx: &mut Tx,
    month: YearMonth,
    facts: &BTreeMap<String, Facts>,
    by: &str,
    now: &str,
) -> Result<bool> {
    let m = month.to_string();
    let added = tx
        .execute(
            q(
                "INSERT INTO stats_locks (month, locked_by, locked_at) VALUES ($1, $2, $3)
               ON CONFLICT (month) DO NOTHING",
            )
            .bind(m.as_str())
            .bind(by)
            .bind(now),
        )
        .await?;
    if added == 0 {
        return Ok(false);
    }
    for (code, f) in facts {
        let json = serde_json::to_string(f)
            .map_err(|e| StoreError::Internal(format!("统计快照无法保存：{e}")))?;
        tx.execute(
            q("INSERT INTO stats_snapshots (month, township_code, county_code, facts_json) VALUES ($1, $2, substr($2, 1, 6), $3)")
                .bind(m.as_str())
                .bind(code.as_str())
                .bind(json),
        )
        .await?;
    }
    Ok(true)
}

/// Reopens a locked month: its lock and snapshot removed. `false` when it was not locked.
pub async fn reopen(tx: &mut Tx, month: YearMonth) -> Result<bool> {
    let m = month.to_string();
    tx.execute(q("DELETE FROM stats_snapshots WHERE month = $1").bind(m.as_str()))
        .await?;
    let n = tx
        .execute(q("DELETE FROM stats_locks WHERE month = $1").bind(m.as_str()))
        .await?;
    Ok(n > 0)
}

/// The records behind a row in `lo..hi` for the month: at most `limit` of them (by
/// township and id) and how many there are.
pub async fn records(
    store: &Store,
    (lo, hi): (&str, &str),
    month: YearMonth,
    drill: Drill,
    limit: usize,
) -> Result<(Records, usize)> {
    let m = month.to_string();
    match drill {
        Drill::Enrolments { program, filter } => {
            enrolment_records(store, lo, hi, &m, month, program, filter, limit).await
        }
        Drill::Payroll { program } => line_records(store, lo, hi, &m, program, limit).await,
        Drill::Persons { programs, filter } => {
            person_records(store, lo, hi, month, programs, filter, limit).await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn enrolment_records(
    store: &Store,
    lo: &str,
    hi: &str,
    m: &str,
    month: YearMonth,
    program: Program,
    filter: EnrolmentFilter,
    limit: usize,
) -> Result<(Records, usize)> {
    let ages = AgeLimits::of(month);
    let (cond, a, b) = match filter {
        EnrolmentFilter::Live | EnrolmentFilter::Mode(_) | EnrolmentFilter::Care(_) => {
            (LIVE.to_string(), None, None)
        }
        EnrolmentFilter::New => (
            "e.payment = 'monthly' AND e.start_month = $3".to_string(),
            None,
            None,
        ),
        EnrolmentFilter::Exited => (
            "e.payment = 'monthly' AND e.end_month = $3".to_string(),
            None,
            None,
        ),
        EnrolmentFilter::Once => (
            "e.payment <> 'monthly' AND e.start_month = $3
             AND (e.status <> 'ended' OR e.end_month IS NOT NULL)"
                .to_string(),
            None,
            None,
        ),
        EnrolmentFilter::Band(band) => {
            let (upto, after) = match band {
                OldAgeBand::From80 => {
                    (compact(&ages.age80_until), Some(compact(&ages.age90_until)))
                }
                OldAgeBand::From90 => (
                    compact(&ages.age90_until),
                    Some(compact(&ages.age100_until)),
                ),
                OldAgeBand::From100 => (compact(&ages.age100_until), None),
            };
            let c = if after.is_some() {
                format!("{LIVE} AND {BIRTH} <= $5 AND {BIRTH} > $6")
            } else {
                format!("{LIVE} AND {BIRTH} <= $5 AND $6 = ''")
            };
            (c, Some(upto), Some(after.unwrap_or_default()))
        }
    };
    // 特困's support mode and care level are read from the case's details here, so those
    // rows are all read and filtered; the others are counted and paged in SQL.
    let in_rust = matches!(filter, EnrolmentFilter::Mode(_) | EnrolmentFilter::Care(_));
    let from = format!(
        "FROM enrolments e LEFT JOIN cases c ON c.id = e.case_id{county}
         WHERE e.program = $4 AND e.township_code >= $1 AND e.township_code < $2 AND {cond}",
        county = crate::distribute::same_county(store.distributed, "c", "e"),
    );
    let bind = |sql: String| {
        let mut query = q(sql).bind(lo).bind(hi).bind(m).bind(program.as_str());
        // $4 is the program; the band's limits follow as $5 and $6.
        if let (Some(a), Some(b)) = (&a, &b) {
            query = query.bind(a.as_str()).bind(b.as_str());
        }
        query
    };
    let counted = if in_rust {
        None
    } else {
        Some(
            store
                .fetch_one(bind(format!("SELECT COUNT(*) AS n {from}")))
                .await?
                .i64("n")? as usize,
        )
    };
    let page = if in_rust {
        String::new()
    } else {
        format!(" LIMIT {limit}")
    };
    let rows = store
        .fetch_all(bind(format!(
            "SELECT e.id, e.program, e.household_id, e.case_id, e.township_code, e.village_code,
                    e.beneficiary_name, e.beneficiary_id_number, e.monthly_fen, e.start_month,
                    e.end_month, e.status, c.details_json
             {from} ORDER BY e.township_code, e.id{page}"
        )))
        .await?;
    let mut all = Vec::new();
    for r in &rows {
        let details: Option<CaseDetails> = r
            .opt_str("details_json")?
            .and_then(|d| serde_json::from_str(&d).ok());
        let support_mode = tekun_mode(details.as_ref());
        let care_level = tekun_care(details.as_ref());
        let keep = match filter {
            EnrolmentFilter::Mode(x) => support_mode == Some(x),
            EnrolmentFilter::Care(x) => care_level == Some(x),
            _ => true,
        };
        if !keep {
            continue;
        }
        all.push(EnrolmentRecord {
            enrolment_id: r.i64("id")?,
            program: r.program("program")?,
            household_id: r.i64("household_id")?,
            case_id: r.opt_i64("case_id")?,
            township_code: r.str("township_code")?,
            village_code: r.str("village_code")?,
            name: r.str("beneficiary_name")?,
            id_number: r.str("beneficiary_id_number")?,
            monthly_fen: r.i64("monthly_fen")?,
            start_month: r.str("start_month")?,
            end_month: r.opt_str("end_month")?,
            status: r.coded("status")?,
            support_mode: if program == Program::Tekun {
                support_mode
            } else {
                None
            },
            care_level: if program == Program::Tekun {
                care_level
            } else {
                None
            },
        });
    }
    let total = counted.unwrap_or(all.len());
    all.truncate(limit);
    Ok((Records::Enrolments(all), total))
}

async fn line_records(
    store: &Store,
    lo: &str,
    hi: &str,
    m: &str,
    program: Program,
    limit: usize,
) -> Result<(Records, usize)> {
    let where_ = format!(
        "FROM payroll_batches b JOIN payroll_lines l ON l.batch_id = b.id{county}
         WHERE b.month = $3 AND b.status <> 'draft' AND b.program = $4
           AND b.township_code >= $1 AND b.township_code < $2",
        county = crate::distribute::same_county(store.distributed, "l", "b"),
    );
    let total = store
        .fetch_one(
            q(format!("SELECT COUNT(*) AS n {where_}"))
                .bind(lo)
                .bind(hi)
                .bind(m)
                .bind(program.as_str()),
        )
        .await?
        .i64("n")?;
    let rows = store
        .fetch_all(
            q(format!(
                "SELECT l.id, b.id AS batch_id, b.batch_no, l.kind, l.period, l.township_code,
                        l.village_code, l.beneficiary_name, l.beneficiary_id_number, l.amount_fen
                 {where_} ORDER BY b.township_code, l.id LIMIT $5"
            ))
            .bind(lo)
            .bind(hi)
            .bind(m)
            .bind(program.as_str())
            .bind(limit as i64),
        )
        .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(LineRecord {
                line_id: r.i64("id")?,
                batch_id: r.i64("batch_id")?,
                batch_no: r.str("batch_no")?,
                kind: r.coded("kind")?,
                period: r.str("period")?,
                township_code: r.str("township_code")?,
                village_code: r.str("village_code")?,
                name: r.str("beneficiary_name")?,
                id_number: r.str("beneficiary_id_number")?,
                amount_fen: r.i64("amount_fen")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((Records::Lines(items), total as usize))
}

async fn person_records(
    store: &Store,
    lo: &str,
    hi: &str,
    month: YearMonth,
    programs: &[Program],
    filter: PersonFilter,
    limit: usize,
) -> Result<(Records, usize)> {
    let cond = match filter {
        PersonFilter::All => "1 = 1",
        PersonFilter::Minors => "p.birth_date > $4",
        PersonFilter::Adults => "p.birth_date <= $4 AND p.birth_date > $5",
        PersonFilter::Elderly => "p.birth_date <= $5",
        PersonFilter::Male => "p.gender = '男'",
        PersonFilter::Female => "p.gender = '女'",
        PersonFilter::Disabled => "p.disability_type <> 'none'",
        PersonFilter::WorkFull => "p.work_capacity = 'full'",
        PersonFilter::WorkPartial => "p.work_capacity = 'partial'",
        PersonFilter::WorkNone => "p.work_capacity = 'none'",
    };
    let list = programs
        .iter()
        .map(|p| format!("'{}'", p.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let ages = AgeLimits::of(month);
    let m = month.to_string();
    let from = format!(
        "FROM enrolments e JOIN persons p ON p.household_id = e.household_id{county}
         WHERE e.program IN ({list}) AND e.township_code >= $1 AND e.township_code < $2
           AND {LIVE} AND {MEMBER} AND {cond}",
        county = crate::distribute::same_county(store.distributed, "p", "e"),
    );
    let bind = |sql: String| {
        q(sql)
            .bind(lo)
            .bind(hi)
            .bind(m.as_str())
            .bind(ages.minor_after.as_str())
            .bind(ages.elderly_until.as_str())
            .bind(month_end(&m))
    };
    let total = store
        .fetch_one(bind(format!("SELECT COUNT(*) AS n {from}")))
        .await?
        .i64("n")?;
    let rows = store
        .fetch_all(
            bind(format!(
                "SELECT p.id, p.household_id, e.program, e.township_code, p.name, p.id_number,
                        p.gender, p.birth_date, p.disability_type, p.work_capacity
                 {from} ORDER BY e.township_code, p.id LIMIT $7"
            ))
            .bind(limit as i64),
        )
        .await?;
    let items = rows
        .iter()
        .map(|r| {
            Ok(PersonRecord {
                person_id: r.i64("id")?,
                household_id: r.i64("household_id")?,
                program: r.program("program")?,
                township_code: r.str("township_code")?,
                name: r.str("name")?,
                id_number: r.str("id_number")?,
                gender: r.str("gender")?,
                birth_date: r.str("birth_date")?,
                disability_type: r.coded("disability_type")?,
                work_capacity: r.coded("work_capacity")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((Records::Persons(items), total as usize))
}

/// The statistics benchmark's data (`minzheng bench stats`, in the release binary too).
pub mod bench {
    use std::time::Instant;

    use crate::db::{q, Store};
    use crate::error::Result;

    /// A person for every household's head (born as the head's ID number says), and a
    /// second member for each 农村低保 household of the payroll fixture (a household of
    /// two): set-based, one `INSERT … SELECT` each per part of [`PART`] households, each
    /// part its own transaction (a cluster's workers hold a transaction's row triggers in
    /// memory until it ends). Genders, disabilities and labour abilities are spread by the
    /// household's id. Returns how many persons were added.
    pub async fn persons(store: &Store) -> Result<i64> {
        let now = super::super::timestamp(chrono::Utc::now());
        let bounds =
            store
                .fetch_one(q("SELECT CAST(COALESCE(MIN(id), 0) AS BIGINT) AS lo,
                        CAST(COALESCE(MAX(id), -1) AS BIGINT) AS hi FROM households"))
                .await?;
        let (lo, hi) = (bounds.i64("lo")?, bounds.i64("hi")?);
        let birth = "substr(h.head_id_number, 7, 4) || '-' || substr(h.head_id_number, 11, 2)
                     || '-' || substr(h.head_id_number, 13, 2)";
        let heads = format!(
            "INSERT INTO persons (id_number, household_id, township_code, county_code, name, name_pinyin,
               name_initials, id_last4, gender, birth_date, relation, counted,
               disability_type, work_capacity, created_at, updated_at)
             SELECT h.head_id_number, h.id, h.township_code, substr(h.township_code, 1, 6), '甲', 'jia', 'j',
               substr(h.head_id_number, 15, 4),
               CASE WHEN h.id % 2 = 0 THEN '男' ELSE '女' END, {birth}, 'head', (1 = 1),
               CASE WHEN h.id % 10 = 0 THEN 'physical' ELSE 'none' END,
               CASE h.id % 3 WHEN 0 THEN 'full' WHEN 1 THEN 'partial' ELSE 'none' END,
               $1, $1
             FROM households h WHERE h.id >= $2 AND h.id < $3 ORDER BY h.id"
        );
        // On a cluster the subquery names the county, so each shard answers alone.
        let county = crate::distribute::same_county(store.distributed, "e", "h");
        let children = format!(
            "INSERT INTO persons (id_number, household_id, township_code, county_code, name, name_pinyin,
               name_initials, id_last4, gender, birth_date, relation, counted,
               disability_type, work_capacity, created_at, updated_at)
             SELECT h.head_id_number || 'M', h.id, h.township_code, substr(h.township_code, 1, 6), '乙', 'yi', 'y',
               substr(h.head_id_number, 15, 4),
               CASE WHEN h.id % 2 = 0 THEN '女' ELSE '男' END, '2012-06-01', 'child', (1 = 1),
               'none', 'none', $1, $1
             FROM households h
             WHERE h.id >= $2 AND h.id < $3
               AND EXISTS (SELECT 1 FROM enrolments e WHERE e.household_id = h.id
                           AND e.program = 'rural_dibao'{county})
             ORDER BY h.id"
        );
        let mut added = 0;
        let mut from = lo;
        while from <= hi {
            let to = from + PART;
            let mut tx = store.begin_write().await?;
            tx.mark_large();
            for sql in [&heads, &children] {
                added += tx
                    .execute(q(sql.as_str()).bind(now.as_str()).bind(from).bind(to))
                    .await?;
            }
            tx.commit().await?;
            from = to;
        }
        if store.is_postgres() {
            store
                .execute_unchecked(
                    "VACUUM (ANALYZE) persons, enrolments, payroll_lines, payroll_batches",
                )
                .await?;
        }
        Ok(added as i64)
    }

    /// Households per transaction of [`persons`].
    const PART: i64 = 100_000;

    /// The floor: the bare grouped count of the enrolments by program and township (one
    /// pass over an index, nothing summed). Returns (groups, seconds).
    pub async fn floor(store: &Store) -> Result<(i64, f64)> {
        let t = Instant::now();
        let rows = store
            .fetch_all(q(
                "SELECT program, township_code, COUNT(*) AS n FROM enrolments
                 GROUP BY program, township_code",
            ))
            .await?;
        Ok((rows.len() as i64, t.elapsed().as_secs_f64()))
    }
}
