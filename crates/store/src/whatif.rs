//! 测算 reads: the jurisdiction's households with their registry facts and their live
//! monthly enrolments, read part by part (households by id range) inside one read
//! transaction, so a city of a million enrolments is read in a few range scans per part
//! and never held whole. Nothing is written.
//!
//! On SQLite the statements are stepped on the pooled connection's own handle (the bulk
//! path of `bulk.rs`: no round trip to sqlx's worker per row); on PostgreSQL each part is
//! four queries in one `REPEATABLE READ, READ ONLY` transaction.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use minzheng_domain::calculators::{IncomeItem, IncomePeriod};
use minzheng_domain::case_calc::{self, MemberInput};
use minzheng_domain::cases::HouseholdFacts;
use minzheng_domain::registry::{DisabilityType, Health, IncomeKind, RegistrationType};
use minzheng_domain::repricing::RepricingCandidate;
use minzheng_domain::{Fen, IdNumber, Program, UrbanRural};

use crate::db::{q, Pool, Store};
use crate::error::StoreResult;

/// Households per part.
const PART: i64 = 50_000;

/// A live monthly enrolment as the what-if reads it.
#[derive(Debug, Clone)]
pub struct LiveEnrolment {
    pub program: Program,
    pub candidate: RepricingCandidate,
    pub start_month: String,
    pub end_month: Option<String>,
}

impl LiveEnrolment {
    /// Whether it is payable in `month` (`YYYY-MM` compares as text).
    pub fn payable_in(&self, month: &str) -> bool {
        self.start_month.as_str() <= month && self.end_month.as_deref().is_none_or(|e| e >= month)
    }
}

/// One part of the jurisdiction: its households' facts and their live enrolments of the
/// programs asked.
#[derive(Debug, Default)]
pub struct Part {
    pub households: HashMap<i64, HouseholdFacts>,
    /// Households whose registration is no longer active (not counted as newly eligible).
    pub inactive: HashSet<i64>,
    pub enrolments: Vec<LiveEnrolment>,
}

/// Reads the households whose village lies in `lo..hi`, part by part, with their active
/// members (ID numbers read as on `on`), incomes and live monthly enrolments of
/// `programs`, and hands each part to `each`. One read transaction: every part sees the
/// same moment.
pub async fn read_parts(
    store: &Store,
    (lo, hi): (&str, &str),
    programs: &[Program],
    on: NaiveDate,
    mut each: impl FnMut(Part) -> StoreResult<()>,
) -> StoreResult<()> {
    let range = store
        .fetch_one(
            q(
                "SELECT COALESCE(MIN(id), 0) AS lo, COALESCE(MAX(id), -1) AS hi FROM households
               WHERE village_code >= $1 AND village_code < $2",
            )
            .bind(lo)
            .bind(hi),
        )
        .await?;
    let (first, last) = (range.i64("lo")?, range.i64("hi")?);
    if last < first {
        return Ok(());
    }
    // Persons and incomes carry their township: a range on it keeps a township's part
    // from reading the city's (a village scope reads its township's).
    let (tlo, thi) = if lo.len() > 9 {
        (lo[..9].to_string(), format!("{}:", &lo[..9]))
    } else {
        (lo.to_string(), hi.to_string())
    };
    let programs_sql = programs
        .iter()
        .map(|p| format!("'{}'", p.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let programs_sql = if programs_sql.is_empty() {
        "''".to_string()
    } else {
        programs_sql
    };
    let sql = Sql {
        households: "SELECT id, township_code, village_code, registration_type, status,
                     head_id_number FROM households
                     WHERE id >= $1 AND id < $2 AND village_code >= $3 AND village_code < $4"
            .into(),
        persons: "SELECT id, household_id, id_number, name, counted, disability_type,
                  disability_grade, health FROM persons
                  WHERE household_id >= $1 AND household_id < $2 AND status = 'active'
                    AND township_code >= $3 AND township_code < $4"
            .into(),
        incomes: "SELECT household_id, kind, amount_fen, period FROM incomes
                  WHERE household_id >= $1 AND household_id < $2
                    AND township_code >= $3 AND township_code < $4"
            .into(),
        enrolments: format!(
            "SELECT e.id, e.program, e.township_code, e.village_code, e.beneficiary_name,
                    e.beneficiary_id_number, e.monthly_fen, e.household_id, e.person_id,
                    e.start_month, e.end_month, c.details_json
             FROM enrolments e LEFT JOIN cases c ON c.id = e.case_id
             WHERE e.household_id >= $1 AND e.household_id < $2
               AND e.village_code >= $3 AND e.village_code < $4
               AND e.program IN ({programs_sql})
               AND e.status IN ('active', 'grace', 'suspended') AND e.payment = 'monthly'"
        ),
    };
    let parts: Vec<(i64, i64)> = (first..=last)
        .step_by(PART as usize)
        .map(|a| (a, (a + PART).min(last + 1)))
        .collect();
    match &store.pool {
        Pool::Sqlite(p) => {
            let mut conn = p.acquire().await?;
            let mut handle = conn.lock_handle().await?;
            blocking(|| {
                sqlite_parts(
                    &mut handle,
                    &sql,
                    &parts,
                    (lo, hi),
                    (&tlo, &thi),
                    on,
                    &mut each,
                )
            })
        }
        Pool::Postgres(p) => {
            let mut tx = p.begin().await?;
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
            for &(a, b) in &parts {
                let mut part = Part::default();
                fn rows<'q>(
                    sql: &'q str,
                    (a, b): (i64, i64),
                    lo: &str,
                    hi: &str,
                ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>
                {
                    sqlx::query(sql)
                        .bind(a)
                        .bind(b)
                        .bind(lo.to_string())
                        .bind(hi.to_string())
                }
                use sqlx::Row;
                for r in rows(&sql.households, (a, b), lo, hi)
                    .fetch_all(&mut *tx)
                    .await?
                {
                    part.add_household(
                        r.try_get("id")?,
                        r.try_get("township_code")?,
                        r.try_get("village_code")?,
                        &r.try_get::<String, _>("registration_type")?,
                        &r.try_get::<String, _>("status")?,
                        r.try_get("head_id_number")?,
                    );
                }
                for r in rows(&sql.persons, (a, b), &tlo, &thi)
                    .fetch_all(&mut *tx)
                    .await?
                {
                    part.add_person(
                        r.try_get("household_id")?,
                        r.try_get("id")?,
                        r.try_get("id_number")?,
                        r.try_get("name")?,
                        r.try_get("counted")?,
                        &r.try_get::<String, _>("disability_type")?,
                        r.try_get("disability_grade")?,
                        &r.try_get::<String, _>("health")?,
                        on,
                    );
                }
                for r in rows(&sql.incomes, (a, b), &tlo, &thi)
                    .fetch_all(&mut *tx)
                    .await?
                {
                    part.add_income(
                        r.try_get("household_id")?,
                        &r.try_get::<String, _>("kind")?,
                        r.try_get("amount_fen")?,
                        &r.try_get::<String, _>("period")?,
                    );
                }
                for r in rows(&sql.enrolments, (a, b), lo, hi)
                    .fetch_all(&mut *tx)
                    .await?
                {
                    part.add_enrolment(EnrolmentRow {
                        id: r.try_get("id")?,
                        program: &r.try_get::<String, _>("program")?,
                        township_code: r.try_get("township_code")?,
                        village_code: r.try_get("village_code")?,
                        name: r.try_get("beneficiary_name")?,
                        id_number: r.try_get("beneficiary_id_number")?,
                        monthly: r.try_get("monthly_fen")?,
                        household_id: r.try_get("household_id")?,
                        person_id: r.try_get("person_id")?,
                        start_month: r.try_get("start_month")?,
                        end_month: r.try_get("end_month")?,
                        details: r.try_get::<Option<String>, _>("details_json")?.as_deref(),
                    });
                }
                each(part)?;
            }
            tx.commit().await?;
            Ok(())
        }
    }
}

struct Sql {
    households: String,
    persons: String,
    incomes: String,
    enrolments: String,
}

fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

fn sqlite_parts(
    handle: &mut sqlx::sqlite::LockedSqliteHandle<'_>,
    sql: &Sql,
    parts: &[(i64, i64)],
    (lo, hi): (&str, &str),
    (tlo, thi): (&str, &str),
    on: NaiveDate,
    each: &mut impl FnMut(Part) -> StoreResult<()>,
) -> StoreResult<()> {
    use crate::bulk::{BulkVal, Raw};
    let raw = Raw::new(handle);
    // `$n` is SQLite's `?n` too.
    raw.prepare("BEGIN")?.run(&[])?;
    let result = (|| {
        let mut hs = raw.prepare(&sql.households)?;
        let mut ps = raw.prepare(&sql.persons)?;
        let mut is = raw.prepare(&sql.incomes)?;
        let mut es = raw.prepare(&sql.enrolments)?;
        for &(a, b) in parts {
            let mut part = Part::default();
            let by_village: [BulkVal<'_>; 4] = [a.into(), b.into(), lo.into(), hi.into()];
            let by_township: [BulkVal<'_>; 4] = [a.into(), b.into(), tlo.into(), thi.into()];
            hs.query(&by_village, |r| {
                part.add_household(
                    r.int(0),
                    r.text(1).into_owned(),
                    r.text(2).into_owned(),
                    &r.text(3),
                    &r.text(4),
                    r.text(5).into_owned(),
                );
                Ok(())
            })?;
            ps.query(&by_township, |r| {
                part.add_person(
                    r.int(1),
                    r.int(0),
                    r.text(2).into_owned(),
                    r.text(3).into_owned(),
                    r.int(4) != 0,
                    &r.text(5),
                    r.opt_int(6),
                    &r.text(7),
                    on,
                );
                Ok(())
            })?;
            is.query(&by_township, |r| {
                part.add_income(r.int(0), &r.text(1), r.int(2), &r.text(3));
                Ok(())
            })?;
            es.query(&by_village, |r| {
                let details = r.opt_text(11);
                part.add_enrolment(EnrolmentRow {
                    id: r.int(0),
                    program: &r.text(1),
                    township_code: r.text(2).into_owned(),
                    village_code: r.text(3).into_owned(),
                    name: r.text(4).into_owned(),
                    id_number: r.text(5).into_owned(),
                    monthly: r.int(6),
                    household_id: r.int(7),
                    person_id: r.opt_int(8),
                    start_month: r.text(9).into_owned(),
                    end_month: r.opt_text(10).map(|s| s.into_owned()),
                    details: details.as_deref(),
                });
                Ok(())
            })?;
            each(part)?;
        }
        Ok(())
    })();
    raw.prepare("COMMIT")?.run(&[])?;
    result
}

struct EnrolmentRow<'a> {
    id: i64,
    program: &'a str,
    township_code: String,
    village_code: String,
    name: String,
    id_number: String,
    monthly: i64,
    household_id: i64,
    person_id: Option<i64>,
    start_month: String,
    end_month: Option<String>,
    details: Option<&'a str>,
}

impl Part {
    fn add_household(
        &mut self,
        id: i64,
        township_code: String,
        village_code: String,
        registration_type: &str,
        status: &str,
        head_id: String,
    ) {
        if status != "active" {
            self.inactive.insert(id);
        }
        self.households.insert(
            id,
            HouseholdFacts {
                township_code,
                village_code,
                urban_rural: if RegistrationType::from_code(registration_type)
                    == RegistrationType::Urban
                {
                    UrbanRural::Urban
                } else {
                    UrbanRural::Rural
                },
                members: Vec::new(),
                member_ids: HashMap::new(),
                incomes: Vec::new(),
                counted: 0,
                head_id,
                address: String::new(),
                phone: String::new(),
                account: String::new(),
            },
        );
    }

    /// As `cases::households_facts` reads a member.
    #[allow(clippy::too_many_arguments)]
    fn add_person(
        &mut self,
        household_id: i64,
        id: i64,
        id_number: String,
        name: String,
        counted: bool,
        disability_type: &str,
        grade: Option<i64>,
        health: &str,
        on: NaiveDate,
    ) {
        let Some(f) = self.households.get_mut(&household_id) else {
            return;
        };
        let parsed = IdNumber::parse(&id_number, on);
        f.member_ids.insert(id, (id_number, name));
        let Ok(idn) = parsed else {
            return;
        };
        f.counted += i64::from(counted);
        let dt = DisabilityType::from_code(disability_type);
        f.members.push(MemberInput {
            id_number: idn,
            counted,
            severe_disability: dt != DisabilityType::None && grade.is_some_and(|g| g <= 2),
            serious_illness: Health::from_code(health) == Health::Serious,
        });
    }

    fn add_income(&mut self, household_id: i64, kind: &str, amount: i64, period: &str) {
        let Some(f) = self.households.get_mut(&household_id) else {
            return;
        };
        f.incomes.push(IncomeItem {
            kind: case_calc::income_kind(IncomeKind::from_code(kind)),
            period: if period == "annual" {
                IncomePeriod::Annual
            } else {
                IncomePeriod::Monthly
            },
            amount: Fen(amount),
        });
    }

    fn add_enrolment(&mut self, r: EnrolmentRow<'_>) {
        let Ok(program) = r.program.parse::<Program>() else {
            return;
        };
        // As the re-pricing's candidates: an enrolment joins its household.
        let Some(f) = self.households.get(&r.household_id) else {
            return;
        };
        self.enrolments.push(LiveEnrolment {
            program,
            candidate: RepricingCandidate {
                enrolment_id: r.id,
                township_code: r.township_code,
                village_code: r.village_code,
                beneficiary_name: r.name,
                beneficiary_id_number: r.id_number,
                urban_rural: f.urban_rural,
                monthly: Fen(r.monthly),
                household_id: r.household_id,
                person_id: r.person_id,
                details: r
                    .details
                    .and_then(|d| serde_json::from_str(d).ok())
                    .unwrap_or_default(),
            },
            start_month: r.start_month,
            end_month: r.end_month,
        });
    }
}

/// The names of the divisions `codes` (those not found are left out).
pub async fn names(store: &Store, codes: &[String]) -> StoreResult<HashMap<String, String>> {
    let mut out = HashMap::new();
    for chunk in codes.chunks(500) {
        let list = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut query = q(format!(
            "SELECT code, name FROM divisions WHERE code IN ({list})"
        ));
        for c in chunk {
            query.push(c.as_str());
        }
        for r in store.fetch_all(query).await? {
            out.insert(r.str("code")?, r.str("name")?);
        }
    }
    Ok(out)
}

/// The what-if and re-pricing benchmarks' registry (`minzheng bench whatif|repricing`, in
/// the release binary too), set-based, over households made by
/// `payroll::bench::bulk_enrolments` with valid ID numbers: each household's head as its
/// one counted member, 城市低保 households registered urban, a monthly wage recorded for
/// three households in five, and the per-person enrolments (特困, 高龄津贴) tied to their
/// person. Returns the persons added.
pub async fn bench_registry(store: &Store) -> StoreResult<i64> {
    let now = crate::timestamp(chrono::Utc::now());
    let mut tx = store.begin_write().await?;
    tx.mark_large();
    tx.execute(q(
        "UPDATE households SET registration_type = 'urban'
         WHERE id % 2 = 0 AND NOT EXISTS (SELECT 1 FROM enrolments e
                                          WHERE e.household_id = households.id
                                            AND e.program <> 'urban_dibao')",
    ))
    .await?;
    let birth = "substr(h.head_id_number, 7, 4) || '-' || substr(h.head_id_number, 11, 2) || '-'
        || substr(h.head_id_number, 13, 2)";
    let yes = if tx.is_postgres() { "TRUE" } else { "1" };
    let persons = tx
        .execute(
            q(format!(
                "INSERT INTO persons (id_number, household_id, township_code, name, name_pinyin,
                   name_initials, id_last4, gender, birth_date, relation, counted, status,
                   created_at, updated_at)
                 SELECT h.head_id_number, h.id, h.township_code, h.head_name, '', '',
                        substr(h.head_id_number, 15, 4), '男', {birth}, 'head', {}, 'active', $1, $1
                 FROM households h
                 WHERE NOT EXISTS (SELECT 1 FROM persons p WHERE p.household_id = h.id)
                 ORDER BY h.id",
                yes
            ))
            .bind(now.as_str()),
        )
        .await?;
    tx.execute(
        q("INSERT INTO incomes (household_id, person_id, township_code, kind, amount_fen, period,
             created_at)
           SELECT p.household_id, p.id, p.township_code, 'wage', 20000 + (p.household_id % 9) * 8000,
                  'monthly', $1
           FROM persons p WHERE p.household_id % 5 < 3 ORDER BY p.household_id")
        .bind(now.as_str()),
    )
    .await?;
    tx.execute(q("UPDATE enrolments SET person_id =
           (SELECT MIN(p.id) FROM persons p WHERE p.household_id = enrolments.household_id)
         WHERE program IN ('tekun', 'old_age_allowance')"))
        .await?;
    tx.commit().await?;
    if store.is_postgres() {
        store
            .execute_unchecked("VACUUM (ANALYZE) households, persons, incomes, enrolments")
            .await?;
    }
    Ok(persons as i64)
}

/// Registered households without any enrolment: the last `n` households lose theirs (the
/// benchmark's households a 低保 rise may make eligible). Returns how many.
pub async fn bench_unenrol_last(store: &Store, n: i64) -> StoreResult<i64> {
    let mut tx = store.begin_write().await?;
    let removed = tx
        .execute(
            q("DELETE FROM enrolments WHERE household_id >
                 (SELECT MAX(id) FROM households) - $1")
            .bind(n),
        )
        .await?;
    tx.commit().await?;
    Ok(removed as i64)
}

/// The re-pricing benchmark's floor: the bare `UPDATE` of the enrolments' amounts to the
/// new amounts of the pending 调整标准 lines a sign-off applies, one statement in one
/// transaction, committed; then (not timed) the old amounts are put back. Returns its
/// seconds and the rows it changed.
pub async fn bench_floor(store: &Store) -> StoreResult<(f64, u64)> {
    const LINES: &str = "SELECT l.enrolment_id, l.old_fen, l.new_fen FROM repricing_lines l
        JOIN repricing_batches b ON b.id = l.batch_id AND b.status = 'pending'
        WHERE l.new_fen > 0 AND l.problem IS NULL";
    let mut tx = store.begin_write().await?;
    tx.mark_large();
    let started = std::time::Instant::now();
    let n = tx
        .execute(q(format!(
            "UPDATE enrolments SET monthly_fen = x.new_fen FROM ({LINES}) AS x
             WHERE x.enrolment_id = enrolments.id"
        )))
        .await?;
    tx.commit().await?;
    let secs = started.elapsed().as_secs_f64();
    let mut tx = store.begin_write().await?;
    tx.execute(q(format!(
        "UPDATE enrolments SET monthly_fen = x.old_fen FROM ({LINES}) AS x
         WHERE x.enrolment_id = enrolments.id"
    )))
    .await?;
    tx.commit().await?;
    Ok((secs, n))
}
