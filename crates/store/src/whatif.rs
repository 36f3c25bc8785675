//! 测算 reads: the jurisdiction's households with their registry facts and their live
//! monthly enrolments, read part by part (households by id range), so a city of a million
//! enrolments is read in a few range scans per part and never held whole. Every part sees
//! one moment. Nothing is written.
//!
//! On SQLite the statements are stepped on pooled connections' own handles (the bulk path
//! of `bulk.rs`: no round trip to sqlx's worker per row), by one thread per core, each
//! with its own read transaction; the transactions start under the write lock, so they
//! share one snapshot. On PostgreSQL each part is four queries in one `REPEATABLE READ,
//! READ ONLY` transaction, and the parts read are computed on other threads while the next
//! one is read.

use std::collections::HashMap;

use chrono::NaiveDate;
use minzheng_domain::case_calc;
use minzheng_domain::cases::HouseholdFacts;
use minzheng_domain::registry::{
    DisabilityType, Health, IncomeKind, IncomePeriod, RegistrationType,
};
use minzheng_domain::repricing::RepricingCandidate;
use minzheng_domain::{Fen, IdNumber, Program, YearMonth};

use crate::db::{blocking, multi_threaded, q, Pool, Store};
use crate::error::Result;

/// Households per part.
pub const PART: i64 = 50_000;

/// A live monthly enrolment as the what-if reads it.
#[derive(Debug, Clone)]
pub struct LiveEnrolment {
    pub program: Program,
    pub candidate: RepricingCandidate,
    pub start_month: YearMonth,
    pub end_month: Option<YearMonth>,
}

impl LiveEnrolment {
    /// Whether it is payable in `month`.
    pub fn payable_in(&self, month: YearMonth) -> bool {
        self.start_month <= month && self.end_month.is_none_or(|e| e >= month)
    }
}

/// One part of the jurisdiction: its households' facts (a dense table by household id:
/// the ids of a part are one range) and their live enrolments of the programs asked.
#[derive(Debug, Default)]
pub struct Part {
    /// The id of `households[0]`.
    first: i64,
    households: Vec<Option<PartHousehold>>,
    pub enrolments: Vec<LiveEnrolment>,
}

/// A household as a part holds it.
#[derive(Debug)]
struct PartHousehold {
    facts: HouseholdFacts,
    /// Its registration is active (an inactive one is not counted as newly eligible).
    active: bool,
    /// It holds a live 低保 enrolment of the programs read.
    dibao: bool,
    /// The persons its per-person enrolments are paid for: only they are kept in
    /// `member_ids` (the calculators read no other member's ID number by person id).
    subjects: Vec<i64>,
}

impl Part {
    /// Empties the part for households `a..b`, keeping its buffers (a part is some tens of
    /// megabytes: allocated once per reading thread, not once per part).
    fn reset(&mut self, (a, b): (i64, i64)) {
        self.first = a;
        self.households.clear();
        self.households
            .resize_with(usize::try_from(b - a).unwrap_or(0), || None);
        self.enrolments.clear();
    }

    /// Where household `id` sits in `households`, if in this part's range.
    fn index(&self, id: i64) -> Option<usize> {
        usize::try_from(id - self.first)
            .ok()
            .filter(|i| *i < self.households.len())
    }

    fn slot(&self, id: i64) -> Option<&PartHousehold> {
        self.households[self.index(id)?].as_ref()
    }

    fn slot_mut(&mut self, id: i64) -> Option<&mut PartHousehold> {
        let i = self.index(id)?;
        self.households[i].as_mut()
    }

    /// The facts of household `id`, if it is in this part.
    pub fn household(&self, id: i64) -> Option<&HouseholdFacts> {
        self.slot(id).map(|h| &h.facts)
    }

    /// The part's households with an active registration, recorded incomes and no live
    /// 低保 enrolment: those a 低保 change may make eligible.
    pub fn unenrolled_with_incomes(&self) -> impl Iterator<Item = &HouseholdFacts> {
        self.households
            .iter()
            .flatten()
            .filter(|h| h.active && !h.dibao && !h.facts.incomes.is_empty())
            .map(|h| &h.facts)
    }
}

/// How many states [`read_parts`] computes with: one per core, at most two. On SQLite each
/// is a reading thread that computes what it reads (and holds a pooled connection for the
/// whole read); on PostgreSQL one connection reads while they compute.
pub fn readers(_store: &Store) -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 2)
}

/// Reads the households whose village lies in `lo..hi`, part by part, with their active
/// members (ID numbers read as on `on`), incomes and live monthly enrolments of
/// `programs`, `part` households at a time ([`PART`] but in tests), and hands each part
/// to `each` with one of `states`. Every part sees the
/// same moment.
///
/// On SQLite each state is a reading thread with its own connection and read transaction,
/// taking every n-th part and calling `each` on it as it is read (so a part is built, used
/// and freed on one thread). The transactions begin while this function holds the
/// database's write lock, so no write can commit between them: they all read one snapshot.
/// On PostgreSQL the parts are read in one `REPEATABLE READ, READ ONLY` transaction, and
/// each part is computed on one thread per state while the next is read (on a
/// single-threaded runtime, as in most tests, they are computed in turn on the reading
/// thread). Returns the states.
#[allow(clippy::too_many_arguments)]
pub async fn read_parts<S: Send>(
    store: &Store,
    (lo, hi): (&str, &str),
    programs: &[Program],
    on: NaiveDate,
    part: i64,
    mut states: Vec<S>,
    each: impl Fn(&mut S, &Part) -> Result<()> + Sync,
) -> Result<Vec<S>> {
    if states.is_empty() {
        return Ok(states);
    }
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
        return Ok(states);
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
    // SQLite would take the enrolments by program through `enrolments_stats` and scan a
    // program's whole city for every part; `+` leaves those terms out of the index choice,
    // so each part reads its own household range (PostgreSQL has no unary `+` on text).
    let plus = if store.is_postgres() { "" } else { "+" };
    // A database that holds no household outside the range (a city's own database, asked
    // for the whole city) needs no range terms: each part's rows are its id range's, and
    // comparing codes row by row is a good part of the read.
    let ranged = store
        .fetch_one(
            q("SELECT COUNT(*) AS n FROM (SELECT 1 FROM households
                 WHERE village_code < $1 OR village_code >= $2 LIMIT 1) AS outside")
            .bind(lo)
            .bind(hi),
        )
        .await?
        .i64("n")?
        > 0;
    let within = |column: &str| {
        if ranged {
            format!("AND {column} >= $3 AND {column} < $4")
        } else {
            String::new()
        }
    };
    let sql = Sql {
        ranged,
        households: format!(
            "SELECT id, township_code, village_code, registration_type, status
             FROM households WHERE id >= $1 AND id < $2 {}",
            within("village_code")
        ),
        persons: format!(
            "SELECT id, household_id, id_number, counted, disability_type,
                    disability_grade, health FROM persons
             WHERE household_id >= $1 AND household_id < $2 AND status = 'active' {}",
            within("township_code")
        ),
        incomes: format!(
            "SELECT household_id, kind, amount_fen, period FROM incomes
             WHERE household_id >= $1 AND household_id < $2 {}",
            within("township_code")
        ),
        enrolments: format!(
            "SELECT e.id, e.program, e.township_code, e.monthly_fen, e.household_id,
                    e.person_id, e.start_month, e.end_month, c.details_json
             FROM enrolments e LEFT JOIN cases c ON c.id = e.case_id{case_county}
             WHERE e.household_id >= $1 AND e.household_id < $2
               {}
               AND {plus}e.program IN ({programs_sql})
               AND {plus}e.status IN ('active', 'grace', 'suspended')
               AND {plus}e.payment = 'monthly'",
            within(&format!("{plus}e.village_code")),
            case_county = crate::distribute::same_county(store.distributed, "c", "e"),
        ),
    };
    let parts: Vec<(i64, i64)> = (first..=last)
        .step_by(part.max(1) as usize)
        .map(|a| (a, (a + part.max(1)).min(last + 1)))
        .collect();
    match &store.pool {
        Pool::Sqlite(p) => {
            let mut conns = Vec::with_capacity(states.len());
            for _ in 0..states.len() {
                conns.push(p.acquire().await?);
            }
            let mut handles = Vec::with_capacity(conns.len());
            for c in conns.iter_mut() {
                handles.push(c.lock_handle().await?);
            }
            // One snapshot for all: each read transaction starts (its first read fixes
            // what it sees) while the write lock is held, then the lock is let go.
            let hold = if handles.len() > 1 {
                Some(store.begin_write().await?)
            } else {
                None
            };
            let mut begun = 0;
            let mut result = Ok(());
            for h in handles.iter_mut() {
                result = begin_read(h);
                if result.is_err() {
                    break;
                }
                begun += 1;
            }
            if let Some(hold) = hold {
                result = result.and(hold.commit().await);
            }
            if result.is_ok() {
                let n = handles.len();
                let (sql, parts, each) = (&sql, &parts, &each);
                let (tlo, thi) = (tlo.as_str(), thi.as_str());
                result = blocking(|| {
                    std::thread::scope(|scope| {
                        let threads: Vec<_> = handles
                            .iter_mut()
                            .zip(states.iter_mut())
                            .enumerate()
                            .map(|(k, (h, state))| {
                                let handle = SendHandle(h);
                                scope.spawn(move || {
                                    let handle = handle;
                                    let mine = parts.iter().skip(k).step_by(n).copied();
                                    sqlite_parts(
                                        handle.0,
                                        sql,
                                        mine,
                                        (lo, hi),
                                        (tlo, thi),
                                        on,
                                        |part| each(state, part),
                                    )
                                })
                            })
                            .collect();
                        threads.into_iter().try_for_each(|t| {
                            t.join().unwrap_or_else(|_| {
                                Err(crate::StoreError::Internal("读取过程异常中止".into()))
                            })
                        })
                    })
                });
            }
            // Every read transaction begun is ended, whatever failed, before its
            // connection goes back to the pool; the first error is the one returned.
            for h in handles.iter_mut().take(begun) {
                let raw = crate::bulk::Raw::new(h);
                let ended = raw.prepare("COMMIT").and_then(|mut c| c.run(&[]));
                result = result.and(ended.map(drop));
            }
            result.map(|()| states)
        }
        Pool::Postgres(p) => {
            let each = &each;
            let by_village = sql.ranged.then_some((lo, hi));
            let by_township = sql.ranged.then_some((tlo.as_str(), thi.as_str()));
            let mut tx = p.begin().await?;
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
            if states.len() > 1 && multi_threaded() {
                // Parts computed on their own threads while the next part is read: the
                // threads are scoped (they borrow `each` and the states), so the reading
                // runs on this thread as well, by `block_on` inside `block_in_place`.
                let rt = tokio::runtime::Handle::current();
                let read = blocking(|| {
                    computing_threads(&mut states, each, |send, recycled| {
                        rt.block_on(async {
                            for &range in &parts {
                                let mut part = recycled.try_recv().unwrap_or_default();
                                pg_part(
                                    &mut tx,
                                    &sql,
                                    range,
                                    by_village,
                                    by_township,
                                    on,
                                    &mut part,
                                )
                                .await?;
                                if send(part).is_err() {
                                    break;
                                }
                            }
                            Ok::<(), crate::StoreError>(())
                        })
                    })
                });
                read?;
            } else {
                let mut part = Part::default();
                for (k, &range) in parts.iter().enumerate() {
                    pg_part(&mut tx, &sql, range, by_village, by_township, on, &mut part).await?;
                    let n = states.len();
                    blocking(|| each(&mut states[k % n], &part))?;
                }
            }
            tx.commit().await?;
            Ok(states)
        }
    }
}

/// Runs one computing thread per state, each taking the parts `read` sends (a part goes to
/// whichever thread is free) and calling `each` on them with its state, then handing the
/// part's buffers back through `read`'s second argument. At most one part waits between
/// the reading and the computing. Returns the reading's error, else the first computing
/// error; a thread that failed goes on taking parts (and drops them), so the reading never
/// waits on it.
fn computing_threads<S: Send>(
    states: &mut [S],
    each: &(impl Fn(&mut S, &Part) -> Result<()> + Sync),
    read: impl FnOnce(
        &dyn Fn(Part) -> Result<(), std::sync::mpsc::SendError<Part>>,
        &std::sync::mpsc::Receiver<Part>,
    ) -> Result<()>,
) -> Result<()> {
    use std::sync::{mpsc, Mutex};
    let (send, parts) = mpsc::sync_channel::<Part>(1);
    let (give_back, recycled) = mpsc::channel::<Part>();
    let parts = Mutex::new(parts);
    std::thread::scope(|scope| {
        let threads: Vec<_> = states
            .iter_mut()
            .map(|state| {
                let (parts, give_back) = (&parts, give_back.clone());
                scope.spawn(move || {
                    let mut result = Ok(());
                    loop {
                        let next = parts
                            .lock()
                            .map_err(|_| ())
                            .and_then(|p| p.recv().map_err(drop));
                        let Ok(part) = next else { break };
                        if result.is_ok() {
                            // A panic ends this thread's work, not the reading: the thread
                            // goes on taking parts, so the reader never waits on it.
                            result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                each(state, &part)
                            }))
                            .unwrap_or_else(|_| {
                                Err(crate::StoreError::Internal("读取过程异常中止".into()))
                            });
                        }
                        let _ = give_back.send(part);
                    }
                    result
                })
            })
            .collect();
        drop(give_back);
        let read = read(&|part| send.send(part), &recycled);
        drop(send);
        let computed = threads.into_iter().try_for_each(|t| {
            t.join()
                .unwrap_or_else(|_| Err(crate::StoreError::Internal("读取过程异常中止".into())))
        });
        read.and(computed)
    })
}

/// Reads households `a..b` into `part` on PostgreSQL: four queries in the caller's
/// transaction.
async fn pg_part(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    sql: &Sql,
    (a, b): (i64, i64),
    by_village: Option<(&str, &str)>,
    by_township: Option<(&str, &str)>,
    on: NaiveDate,
    part: &mut Part,
) -> Result<()> {
    use sqlx::Row;
    /// The part's ids, and the code range when the statements carry it.
    fn rows<'q>(
        sql: &'q str,
        (a, b): (i64, i64),
        range: Option<(&str, &str)>,
    ) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
        let query = sqlx::query(sql).bind(a).bind(b);
        match range {
            Some((lo, hi)) => query.bind(lo.to_string()).bind(hi.to_string()),
            None => query,
        }
    }
    part.reset((a, b));
    for r in rows(&sql.households, (a, b), by_village)
        .fetch_all(&mut **tx)
        .await?
    {
        part.add_household(
            r.try_get("id")?,
            r.try_get("township_code")?,
            r.try_get("village_code")?,
            &r.try_get::<String, _>("registration_type")?,
            &r.try_get::<String, _>("status")?,
        );
    }
    for r in rows(&sql.enrolments, (a, b), by_village)
        .fetch_all(&mut **tx)
        .await?
    {
        part.add_enrolment(EnrolmentRow {
            id: r.try_get("id")?,
            program: &r.try_get::<String, _>("program")?,
            township_code: r.try_get("township_code")?,
            monthly: r.try_get("monthly_fen")?,
            household_id: r.try_get("household_id")?,
            person_id: r.try_get("person_id")?,
            start_month: &r.try_get::<String, _>("start_month")?,
            end_month: r.try_get::<Option<String>, _>("end_month")?.as_deref(),
            details: r.try_get::<Option<String>, _>("details_json")?.as_deref(),
        });
    }
    for r in rows(&sql.persons, (a, b), by_township)
        .fetch_all(&mut **tx)
        .await?
    {
        part.add_person(
            r.try_get("household_id")?,
            r.try_get("id")?,
            &r.try_get::<String, _>("id_number")?,
            r.try_get("counted")?,
            &r.try_get::<String, _>("disability_type")?,
            r.try_get("disability_grade")?,
            &r.try_get::<String, _>("health")?,
            on,
        );
    }
    for r in rows(&sql.incomes, (a, b), by_township)
        .fetch_all(&mut **tx)
        .await?
    {
        part.add_income(
            r.try_get("household_id")?,
            &r.try_get::<String, _>("kind")?,
            r.try_get("amount_fen")?,
            &r.try_get::<String, _>("period")?,
        );
    }
    Ok(())
}

struct Sql {
    /// The statements carry the range terms (`$3`, `$4`).
    ranged: bool,
    households: String,
    persons: String,
    incomes: String,
    enrolments: String,
}

/// A locked handle lent to one reading thread. SQLite is built serialized (any thread
/// may use a connection, one at a time) and the handle stays locked, used by that thread
/// alone, until every thread of the scope has ended.
struct SendHandle<'a, 'b>(&'a mut sqlx::sqlite::LockedSqliteHandle<'b>);

// SAFETY: see the type's comment: exactly one thread uses the handle at a time, and the
// lock that keeps every other user away outlives the thread.
unsafe impl Send for SendHandle<'_, '_> {}

/// Starts a read transaction and fixes its snapshot (WAL mode: at its first read).
fn begin_read(handle: &mut sqlx::sqlite::LockedSqliteHandle<'_>) -> Result<()> {
    let raw = crate::bulk::Raw::new(handle);
    raw.prepare("BEGIN")?.run(&[])?;
    let mut touch = raw.prepare("SELECT 1 FROM households LIMIT 1")?;
    touch.query(&[], |_| Ok(()))
}

fn sqlite_parts(
    handle: &mut sqlx::sqlite::LockedSqliteHandle<'_>,
    sql: &Sql,
    parts: impl Iterator<Item = (i64, i64)>,
    (lo, hi): (&str, &str),
    (tlo, thi): (&str, &str),
    on: NaiveDate,
    mut each: impl FnMut(&Part) -> Result<()>,
) -> Result<()> {
    use crate::bulk::{BulkVal, Raw};
    let raw = Raw::new(handle);
    // `$n` is SQLite's `?n` too.
    let mut hs = raw.prepare(&sql.households)?;
    let mut ps = raw.prepare(&sql.persons)?;
    let mut is = raw.prepare(&sql.incomes)?;
    let mut es = raw.prepare(&sql.enrolments)?;
    let mut part = Part::default();
    for (a, b) in parts {
        part.reset((a, b));
        let by_village: [BulkVal<'_>; 4] = [a.into(), b.into(), lo.into(), hi.into()];
        let by_township: [BulkVal<'_>; 4] = [a.into(), b.into(), tlo.into(), thi.into()];
        let n = if sql.ranged { 4 } else { 2 };
        let (by_village, by_township) = (&by_village[..n], &by_township[..n]);
        hs.query(by_village, |r| {
            part.add_household(
                r.int(0),
                r.text(1).into_owned(),
                r.text(2).into_owned(),
                &r.text(3),
                &r.text(4),
            );
            Ok(())
        })?;
        es.query(by_village, |r| {
            let (end, details) = (r.opt_text(7), r.opt_text(8));
            part.add_enrolment(EnrolmentRow {
                id: r.int(0),
                program: &r.text(1),
                township_code: r.text(2).into_owned(),
                monthly: r.int(3),
                household_id: r.int(4),
                person_id: r.opt_int(5),
                start_month: &r.text(6),
                end_month: end.as_deref(),
                details: details.as_deref(),
            });
            Ok(())
        })?;
        ps.query(by_township, |r| {
            part.add_person(
                r.int(1),
                r.int(0),
                &r.text(2),
                r.int(3) != 0,
                &r.text(4),
                r.opt_int(5),
                &r.text(6),
                on,
            );
            Ok(())
        })?;
        is.query(by_township, |r| {
            part.add_income(r.int(0), &r.text(1), r.int(2), &r.text(3));
            Ok(())
        })?;
        each(&part)?;
    }
    Ok(())
}

/// An enrolment as read: what the what-if computes with (it names no one, so neither the
/// beneficiary's name nor ID number is read).
struct EnrolmentRow<'a> {
    id: i64,
    program: &'a str,
    township_code: String,
    monthly: i64,
    household_id: i64,
    person_id: Option<i64>,
    start_month: &'a str,
    end_month: Option<&'a str>,
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
    ) {
        let Some(i) = self.index(id) else {
            return;
        };
        self.households[i] = Some(PartHousehold {
            facts: HouseholdFacts {
                township_code,
                village_code,
                urban_rural: case_calc::urban_rural_of(RegistrationType::from_code(
                    registration_type,
                )),
                members: Vec::new(),
                member_ids: HashMap::new(),
                incomes: Vec::new(),
                counted: 0,
                head_id: String::new(),
                address: String::new(),
                phone: String::new(),
                account: String::new(),
            },
            active: status == "active",
            dibao: false,
            subjects: Vec::new(),
        });
    }

    /// As `cases::households_facts` reads a member (a member who is no enrolment's
    /// subject is not kept by person id, and no name is kept: the what-if names no one).
    #[allow(clippy::too_many_arguments)]
    fn add_person(
        &mut self,
        household_id: i64,
        id: i64,
        id_number: &str,
        counted: bool,
        disability_type: &str,
        grade: Option<i64>,
        health: &str,
        on: NaiveDate,
    ) {
        let Some(h) = self.slot_mut(household_id) else {
            return;
        };
        let parsed = IdNumber::parse(id_number, on);
        if h.subjects.contains(&id) {
            h.facts
                .member_ids
                .insert(id, (id_number.to_string(), String::new()));
        }
        let Ok(idn) = parsed else {
            return;
        };
        let f = &mut h.facts;
        f.counted += i64::from(counted);
        f.members.push(case_calc::member_of(
            idn,
            counted,
            DisabilityType::from_code(disability_type),
            grade,
            Health::from_code(health),
        ));
    }

    fn add_income(&mut self, household_id: i64, kind: &str, amount: i64, period: &str) {
        let Some(h) = self.slot_mut(household_id) else {
            return;
        };
        h.facts.incomes.push(case_calc::income_of(
            IncomeKind::from_code(kind),
            IncomePeriod::from_code(period),
            Fen(amount),
        ));
    }

    fn add_enrolment(&mut self, r: EnrolmentRow<'_>) {
        let Ok(program) = r.program.parse::<Program>() else {
            return;
        };
        // Months are stored as `YYYY-MM`; one that cannot be read is never payable.
        let Ok(start_month) = YearMonth::parse(r.start_month) else {
            return;
        };
        let end_month = match r.end_month.map(YearMonth::parse) {
            None => None,
            Some(Ok(m)) => Some(m),
            Some(Err(_)) => return,
        };
        // As the re-pricing's candidates: an enrolment joins its household.
        let Some(h) = self.slot_mut(r.household_id) else {
            return;
        };
        h.dibao |= matches!(program, Program::UrbanDibao | Program::RuralDibao);
        if let Some(p) = r.person_id {
            h.subjects.push(p);
        }
        let urban_rural = h.facts.urban_rural;
        self.enrolments.push(LiveEnrolment {
            program,
            candidate: RepricingCandidate {
                enrolment_id: r.id,
                township_code: r.township_code,
                village_code: String::new(),
                beneficiary_name: String::new(),
                beneficiary_id_number: String::new(),
                urban_rural,
                monthly: Fen(r.monthly),
                household_id: r.household_id,
                person_id: r.person_id,
                details: r
                    .details
                    .and_then(|d| serde_json::from_str(d).ok())
                    .unwrap_or_default(),
            },
            start_month,
            end_month,
        });
    }
}

/// The names of the divisions `codes` (those not found are left out).
pub async fn names(store: &Store, codes: &[String]) -> Result<HashMap<String, String>> {
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
pub async fn bench_registry(store: &Store) -> Result<i64> {
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
                "INSERT INTO persons (id_number, household_id, township_code, county_code, name, name_pinyin,
                   name_initials, id_last4, gender, birth_date, relation, counted, status,
                   created_at, updated_at)
                 SELECT h.head_id_number, h.id, h.township_code, substr(h.township_code, 1, 6), h.head_name, '', '',
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
        q("INSERT INTO incomes (household_id, person_id, township_code, county_code, kind, amount_fen, period,
             created_at)
           SELECT p.household_id, p.id, p.township_code, substr(p.township_code, 1, 6), 'wage', 20000 + (p.household_id % 9) * 8000,
                  'monthly', $1
           FROM persons p WHERE p.household_id % 5 < 3 ORDER BY p.household_id")
        .bind(now.as_str()),
    )
    .await?;
    // Set-based: PostgreSQL, without statistics on the persons just added, runs a
    // correlated `MIN(p.id)` as a walk of the primary key for every enrolment.
    tx.execute(q("UPDATE enrolments SET person_id = p.first_id
         FROM (SELECT household_id, MIN(id) AS first_id FROM persons GROUP BY household_id) AS p
         WHERE p.household_id = enrolments.household_id
           AND enrolments.program IN ('tekun', 'old_age_allowance')"))
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
pub async fn bench_unenrol_last(store: &Store, n: i64) -> Result<i64> {
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
pub async fn bench_floor(store: &Store) -> Result<(f64, u64)> {
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
