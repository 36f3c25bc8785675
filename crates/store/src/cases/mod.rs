//! 救助案件 storage: cases, their history (`case_events`), statutory clocks, surveys,
//! objections, enrolments (保障对象) and notice boards.
//!
//! Only SQL and row mapping live here; the use cases (`minzheng-app`) decide what to write
//! and write it through these functions inside their own transaction. A transition is a
//! conditional update ([`set_state`]: `WHERE state = <from>`), so two clerks pressing the
//! same button apply it once.

pub mod demo;
mod enrolments;
mod notices;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod write;

use std::collections::HashMap;

use chrono::NaiveDate;
use minzheng_domain::calculators::IncomeItem;
use minzheng_domain::case_calc::{self, CaseDetails};
use minzheng_domain::cases::{
    Case, CaseCounts, CaseEvent, CaseKind, CaseOrigin, CaseQuery, EventKind, HouseholdFacts,
    Objection, OriginFilter, PastTemporaryCase, RunningClock, StateFilter, Survey,
};
use minzheng_domain::registry::{
    DisabilityType, Health, IncomeKind, IncomePeriod, RegistrationType,
};
use minzheng_domain::{CaseState, Fen, IdNumber, Program, Role, Scope, Step, UrbanRural};

pub use enrolments::*;
pub use notices::*;
pub use write::*;

use crate::db::{q, Conn, DbRow, Store};
use crate::distribute::same_county;
use crate::error::{Result, StoreError};

fn bad(what: &str) -> StoreError {
    StoreError::Internal(format!("{what}代码无效"))
}

fn case(r: &DbRow) -> Result<Case> {
    let program: Program = r.str("program")?.parse().map_err(|_| bad("案件项目"))?;
    let state = CaseState::parse(&r.str("state")?).ok_or_else(|| bad("案件状态"))?;
    let kind = CaseKind::parse(&r.str("kind")?).ok_or_else(|| bad("案件类别"))?;
    let origin = CaseOrigin::parse(&r.str("origin")?).ok_or_else(|| bad("案件来源"))?;
    let ur = r
        .str("urban_rural")?
        .parse::<UrbanRural>()
        .unwrap_or(UrbanRural::Rural);
    let person_name = r.opt_str("person_name")?;
    let head_name = r.opt_str("head_name")?.unwrap_or_default();
    Ok(Case {
        id: r.i64("id")?,
        case_no: r.str("case_no")?,
        program,
        kind,
        state,
        township_code: r.str("township_code")?,
        village_code: r.str("village_code")?,
        village_name: r.opt_str("village_name")?.unwrap_or_default(),
        household_id: r.i64("household_id")?,
        person_id: r.opt_i64("person_id")?,
        enrolment_id: r.opt_i64("enrolment_id")?,
        subject_name: person_name.clone().unwrap_or_else(|| head_name.clone()),
        subject_id_number: r
            .opt_str("person_id_number")?
            .or(r.opt_str("head_id_number")?)
            .unwrap_or_default(),
        head_name,
        address: r.opt_str("address")?.unwrap_or_default(),
        urban_rural: ur,
        subject_is_minor: r.bool("subject_is_minor")?,
        applied_on: r.str("applied_on")?,
        reason: r.str("reason")?,
        details: serde_json::from_str(&r.str("details_json")?).unwrap_or_default(),
        proposed_fen: r.opt_i64("proposed_fen")?.map(Fen),
        calc: r
            .opt_str("calc_json")?
            .and_then(|s| serde_json::from_str(&s).ok()),
        approved_fen: r.opt_i64("approved_fen")?.map(Fen),
        amount_reason: r.str("amount_reason")?,
        amount_calc_fen: r.opt_i64("amount_calc_fen")?.map(Fen),
        decided_on: r.opt_str("decided_on")?,
        decision_reasons: r.str("decision_reasons")?,
        notice_posted_on: r.opt_str("notice_posted_on")?,
        notice_batch_id: r.opt_i64("notice_batch_id")?,
        missing_items: r.str("missing_items")?,
        filed_note: r.str("filed_note")?,
        created_by: r.str("created_by")?,
        origin,
        created_at: r.str("created_at")?,
        updated_at: r.str("updated_at")?,
    })
}

/// Cases with their household, person and village, from [`case_joins`].
fn case_select(distributed: bool) -> String {
    format!(
        "SELECT c.*, p.name AS person_name, p.id_number AS person_id_number,
      h.head_name, h.head_id_number, h.address, d.name AS village_name
    FROM {}
    LEFT JOIN divisions d ON d.code = c.village_code",
        case_joins(distributed)
    )
}

/// A case with its household and person: on a distributed database the joins name the
/// case's county as well (a household stays in its county there; a person who moved to
/// another county since is then not shown by the case).
fn case_joins(distributed: bool) -> String {
    format!(
        "cases c
    JOIN households h ON h.id = c.household_id{}
    LEFT JOIN persons p ON p.id = c.person_id{}",
        same_county(distributed, "h", "c"),
        same_county(distributed, "p", "c")
    )
}

/// One case inside the scope (404 outside it).
pub async fn get<'c>(db: impl Into<Conn<'c>>, scope: &Scope, id: i64) -> Result<Case> {
    let (lo, hi) = scope.bounds();
    let mut db = db.into();
    let select = case_select(db.is_distributed().await?);
    let r = db
        .fetch_optional(
            q(format!(
                "{select} WHERE c.id = $1 AND c.village_code >= $2 AND c.village_code < $3"
            ))
            .bind(id)
            .bind(lo)
            .bind(hi),
        )
        .await?
        .ok_or(StoreError::NotFound("该案件"))?;
    case(&r)
}

/// Cases in scope, newest first, and the total before paging.
pub async fn list(store: &Store, scope: &Scope, f: &CaseQuery) -> Result<(Vec<Case>, i64)> {
    let (lo, hi) = scope.bounds();
    let mut where_ = "c.village_code >= $1 AND c.village_code < $2".to_string();
    let mut args: Vec<String> = vec![lo, hi];
    fn add(where_: &mut String, cond: &str, v: String, args: &mut Vec<String>) {
        args.push(v);
        where_.push_str(&format!(
            " AND {}",
            cond.replace('?', &format!("${}", args.len()))
        ));
    }
    // A code no variant knows is compared as typed, so it matches nothing.
    fn code<T>(v: &Result<T, String>, as_str: impl Fn(&T) -> &'static str) -> String {
        match v {
            Ok(x) => as_str(x).to_string(),
            Err(s) => s.clone(),
        }
    }
    match &f.state {
        Some(Ok(StateFilter::Open)) => where_.push_str(
            " AND c.state NOT IN ('enrolled','suspended','terminated','withdrawn','denied','not_accepted')",
        ),
        Some(Ok(StateFilter::Is(s))) => {
            add(&mut where_, "c.state = ?", s.as_str().to_string(), &mut args)
        }
        Some(Err(s)) => add(&mut where_, "c.state = ?", s.clone(), &mut args),
        None => {}
    }
    if let Some(p) = &f.program {
        add(
            &mut where_,
            "c.program = ?",
            code(p, |p| p.as_str()),
            &mut args,
        );
    }
    if let Some(k) = &f.kind {
        add(
            &mut where_,
            "c.kind = ?",
            code(k, |k| k.as_str()),
            &mut args,
        );
    }
    match f.origin {
        OriginFilter::All => {}
        OriginFilter::NoSystemDrafts => {
            where_.push_str(" AND NOT (c.origin = 'system' AND c.state = 'draft')")
        }
        OriginFilter::Only(o) => add(
            &mut where_,
            "c.origin = ?",
            o.as_str().to_string(),
            &mut args,
        ),
    }
    if let Some(t) = &f.q {
        let n = args.len();
        args.extend([t.to_string(), t.to_string(), t.to_string()]);
        where_.push_str(&format!(
            " AND (c.case_no = ${} OR h.head_name = ${} OR p.name = ${})",
            n + 1,
            n + 2,
            n + 3
        ));
    }
    let (limit, offset) = (f.limit, f.offset);
    let mut qq = q(format!(
        "{} WHERE {where_} ORDER BY c.id DESC LIMIT {limit} OFFSET {offset}",
        case_select(store.distributed)
    ));
    let mut cq = q(format!(
        "SELECT COUNT(*) AS n FROM {} WHERE {where_}",
        case_joins(store.distributed)
    ));
    for a in &args {
        qq.push(a.as_str());
        cq.push(a.as_str());
    }
    let rows = store.fetch_all(qq).await?;
    let total = store.fetch_one(cq).await?.i64("n")?;
    Ok((rows.iter().map(case).collect::<Result<_>>()?, total))
}

/// The case's history, oldest first.
pub async fn events(store: &Store, case_id: i64) -> Result<Vec<CaseEvent>> {
    store
        .fetch_all(q("SELECT * FROM case_events WHERE case_id = $1 ORDER BY id").bind(case_id))
        .await?
        .iter()
        .map(|r| {
            let role = r.str("role")?;
            Ok(CaseEvent {
                id: r.i64("id")?,
                action: EventKind::parse(&r.str("action")?).ok_or_else(|| bad("办理动作"))?,
                from_state: CaseState::parse(&r.str("from_state")?),
                to_state: CaseState::parse(&r.str("to_state")?),
                actor: r.str("actor")?,
                role: role.parse::<Role>().ok(),
                on_date: r.str("on_date")?,
                at: r.str("at")?,
                note: r.str("note")?,
                data: serde_json::from_str(&r.str("data_json")?).unwrap_or_default(),
            })
        })
        .collect()
}

/// A clock as stored (its standing is worked out by the caller).
#[derive(Debug, Clone)]
pub struct StoredClock {
    pub step: Step,
    pub started_on: String,
    pub due_on: String,
    pub stopped_on: Option<String>,
}

/// The case's clocks, in the order they started.
pub async fn clocks(store: &Store, case_id: i64) -> Result<Vec<StoredClock>> {
    store
        .fetch_all(q("SELECT * FROM case_clocks WHERE case_id = $1 ORDER BY id").bind(case_id))
        .await?
        .iter()
        .map(|r| {
            Ok(StoredClock {
                step: Step::parse(&r.str("step")?).ok_or_else(|| bad("时限环节"))?,
                started_on: r.str("started_on")?,
                due_on: r.str("due_on")?,
                stopped_on: r.opt_str("stopped_on")?,
            })
        })
        .collect()
}

/// The household surveys recorded on the case.
pub async fn surveys(store: &Store, case_id: i64) -> Result<Vec<Survey>> {
    store
        .fetch_all(q("SELECT * FROM case_surveys WHERE case_id = $1 ORDER BY id").bind(case_id))
        .await?
        .iter()
        .map(|r| {
            Ok(Survey {
                id: r.i64("id")?,
                visited_on: r.str("visited_on")?,
                investigators: r.str("investigators")?,
                findings: r.str("findings")?,
                authorization_signed: r.bool("authorization_signed")?,
                created_by: r.str("created_by")?,
            })
        })
        .collect()
}

/// The objections received against the case's notice.
pub async fn objections(store: &Store, case_id: i64) -> Result<Vec<Objection>> {
    store
        .fetch_all(q("SELECT * FROM objections WHERE case_id = $1 ORDER BY id").bind(case_id))
        .await?
        .iter()
        .map(|r| {
            Ok(Objection {
                id: r.i64("id")?,
                received_on: r.str("received_on")?,
                summary: r.str("summary")?,
                recorded_by: r.str("recorded_by")?,
            })
        })
        .collect()
}

/// Active members counted in the household (共同生活).
pub async fn counted_members<'c>(db: impl Into<Conn<'c>>, household_id: i64) -> Result<i64> {
    db.into()
        .fetch_one(
            q("SELECT COUNT(*) AS n FROM persons WHERE household_id = $1 AND status = 'active' AND counted = $2")
                .bind(household_id)
                .bind(true),
        )
        .await?
        .i64("n")
}

/// Whether the household lies inside the scope (404 otherwise).
pub async fn household_visible(store: &Store, scope: &Scope, household_id: i64) -> Result<()> {
    let (lo, hi) = scope.bounds();
    store
        .fetch_optional(
            q("SELECT id, village_code FROM households
               WHERE id = $1 AND village_code >= $2 AND village_code < $3")
            .bind(household_id)
            .bind(lo)
            .bind(hi),
        )
        .await?
        .map(|_| ())
        .ok_or(StoreError::NotFound("该户"))
}

/// The household's registry facts the calculators and notices read, with ID numbers
/// judged on `on`.
pub async fn household_facts(
    store: &Store,
    household_id: i64,
    on: NaiveDate,
) -> Result<HouseholdFacts> {
    let h = store
        .fetch_optional(q("SELECT * FROM households WHERE id = $1").bind(household_id))
        .await?
        .ok_or(StoreError::NotFound("该户"))?;
    let mut f = facts_of(&h)?;
    for p in &store
        .fetch_all(
            q(
                "SELECT id, id_number, name, counted, disability_type, disability_grade, health
               FROM persons WHERE household_id = $1 AND status = 'active' ORDER BY id",
            )
            .bind(household_id),
        )
        .await?
    {
        add_member(&mut f, p, on)?;
    }
    for r in &store
        .fetch_all(
            q("SELECT kind, amount_fen, period FROM incomes WHERE household_id = $1")
                .bind(household_id),
        )
        .await?
    {
        f.incomes.push(income_of(r)?);
    }
    Ok(f)
}

/// [`household_facts`] of many households at once (three statements per 500 households,
/// not three per household): what a re-pricing computes its amounts from. Households
/// missing from the table are missing from the map. The rows are read as
/// [`household_facts`] reads them, by the same functions.
pub async fn households_facts<'c>(
    db: impl Into<Conn<'c>>,
    household_ids: &[i64],
    on: NaiveDate,
) -> Result<HashMap<i64, HouseholdFacts>> {
    let mut conn: Conn<'c> = db.into();
    let mut out: HashMap<i64, HouseholdFacts> = HashMap::new();
    for chunk in household_ids.chunks(500) {
        let list = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let bind_all = |mut query: crate::db::Q| {
            for id in chunk {
                query = query.bind(*id);
            }
            query
        };
        for h in conn
            .fetch_all(bind_all(q(format!(
                "SELECT * FROM households WHERE id IN ({list})"
            ))))
            .await?
        {
            out.insert(h.i64("id")?, facts_of(&h)?);
        }
        for p in conn
            .fetch_all(bind_all(q(format!(
                "SELECT id, household_id, id_number, name, counted, disability_type,
                        disability_grade, health
                 FROM persons WHERE household_id IN ({list}) AND status = 'active'
                 ORDER BY household_id, id"
            ))))
            .await?
        {
            if let Some(f) = out.get_mut(&p.i64("household_id")?) {
                add_member(f, &p, on)?;
            }
        }
        for r in conn
            .fetch_all(bind_all(q(format!(
                "SELECT household_id, kind, amount_fen, period FROM incomes
                 WHERE household_id IN ({list}) ORDER BY household_id, id"
            ))))
            .await?
        {
            if let Some(f) = out.get_mut(&r.i64("household_id")?) {
                f.incomes.push(income_of(&r)?);
            }
        }
    }
    Ok(out)
}

/// A household's row as facts without members or incomes yet.
fn facts_of(h: &DbRow) -> Result<HouseholdFacts> {
    Ok(HouseholdFacts {
        township_code: h.str("township_code")?,
        village_code: h.str("village_code")?,
        urban_rural: case_calc::urban_rural_of(RegistrationType::from_code(
            &h.str("registration_type")?,
        )),
        members: Vec::new(),
        member_ids: HashMap::new(),
        incomes: Vec::new(),
        counted: 0,
        head_id: h.str("head_id_number")?,
        address: h.str("address")?,
        phone: h.str("phone")?,
        account: h.str("account_number")?,
    })
}

/// Adds an active person's row to the household's facts: every member by id, and to the
/// calculators' members (and the counted size) those whose ID number is valid on `on`.
fn add_member(f: &mut HouseholdFacts, p: &DbRow, on: NaiveDate) -> Result<()> {
    let id_s = p.str("id_number")?;
    f.member_ids
        .insert(p.i64("id")?, (id_s.clone(), p.str("name")?));
    let Ok(id) = IdNumber::parse(&id_s, on) else {
        return Ok(());
    };
    let m = case_calc::member_of(
        id,
        p.bool("counted")?,
        DisabilityType::from_code(&p.str("disability_type")?),
        p.opt_i64("disability_grade")?,
        Health::from_code(&p.str("health")?),
    );
    f.counted += i64::from(m.counted);
    f.members.push(m);
    Ok(())
}

/// An income row as the calculators take it.
fn income_of(r: &DbRow) -> Result<IncomeItem> {
    Ok(case_calc::income_of(
        IncomeKind::from_code(&r.str("kind")?),
        IncomePeriod::from_code(&r.str("period")?),
        Fen(r.i64("amount_fen")?),
    ))
}

/// The programs a person holds now (active, suspended or in grace), counting the
/// household programs of their household.
pub async fn held_programs(store: &Store, person_id: i64) -> Result<Vec<Program>> {
    let rows = store
        .fetch_all(
            q("SELECT DISTINCT e.program FROM enrolments e
               WHERE e.status IN ('active','suspended','grace')
                 AND (e.person_id = $1 OR (e.person_id IS NULL AND e.household_id =
                      (SELECT household_id FROM persons WHERE id = $1)))")
            .bind(person_id),
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.str("program").ok()?.parse().ok())
        .collect())
}

/// The household's decided 临时救助 cases (for the once-per-cause limit).
pub async fn past_temporary(store: &Store, household_id: i64) -> Result<Vec<PastTemporaryCase>> {
    let rows = store
        .fetch_all(
            q("SELECT id, decided_on, details_json FROM cases
               WHERE household_id = $1 AND program = 'temporary_assistance'
                 AND state IN ('approved','enrolled','suspended','terminated') AND decided_on IS NOT NULL")
            .bind(household_id),
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(PastTemporaryCase {
                case_id: r.i64("id")?,
                decided_on: r.opt_str("decided_on")?,
                details: serde_json::from_str::<CaseDetails>(&r.str("details_json")?)
                    .unwrap_or_default(),
            })
        })
        .collect()
}

/// Counts for the dashboard.
pub async fn counts(store: &Store, scope: &Scope) -> Result<CaseCounts> {
    let (lo, hi) = scope.bounds();
    let r = store
        .fetch_one(
            q("SELECT
                 SUM(CASE WHEN state NOT IN ('enrolled','suspended','terminated','withdrawn','denied','not_accepted') THEN 1 ELSE 0 END) AS open,
                 SUM(CASE WHEN state = 'publicised' THEN 1 ELSE 0 END) AS publicised,
                 SUM(CASE WHEN state = 'under_confirmation' THEN 1 ELSE 0 END) AS awaiting
               FROM cases WHERE village_code >= $1 AND village_code < $2")
            .bind(lo.as_str())
            .bind(hi.as_str()),
        )
        .await?;
    let e = store
        .fetch_one(
            q(
                "SELECT COUNT(*) AS n, CAST(SUM(monthly_fen) AS BIGINT) AS total FROM enrolments
               WHERE village_code >= $1 AND village_code < $2 AND status IN ('active','grace')
                 AND payment = 'monthly'",
            )
            .bind(lo.as_str())
            .bind(hi.as_str()),
        )
        .await?;
    Ok(CaseCounts {
        open: r.opt_i64("open")?.unwrap_or(0),
        publicised: r.opt_i64("publicised")?.unwrap_or(0),
        awaiting_decision: r.opt_i64("awaiting")?.unwrap_or(0),
        enrolled: e.i64("n")?,
        monthly_total_fen: Fen(e.opt_i64("total")?.unwrap_or(0)),
    })
}

/// Running clocks of cases in scope, the earliest due first (at most 2,000).
pub async fn running_clocks(store: &Store, scope: &Scope) -> Result<Vec<RunningClock>> {
    let (lo, hi) = scope.bounds();
    let rows = store
        .fetch_all(
            q(format!(
                "SELECT k.step, k.started_on, k.due_on, c.id AS cid, c.village_code, c.urban_rural,
                    c.program AS cprogram, c.case_no, COALESCE(p.name, h.head_name) AS subject
                 FROM case_clocks k JOIN cases c ON c.id = k.case_id{}
                 JOIN households h ON h.id = c.household_id{}
                 LEFT JOIN persons p ON p.id = c.person_id{}
                 WHERE c.village_code >= $1 AND c.village_code < $2 AND k.stopped_on IS NULL
                 ORDER BY k.due_on LIMIT 2000",
                same_county(store.distributed, "c", "k"),
                same_county(store.distributed, "h", "c"),
                same_county(store.distributed, "p", "c")
            ))
            .bind(lo)
            .bind(hi),
        )
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        // Rows the rules cannot read are left off the dashboard.
        let (Some(step), Ok(program), Some(started)) = (
            Step::parse(&r.str("step")?),
            r.str("cprogram")?.parse::<Program>(),
            minzheng_domain::cases::parse_date(&r.str("started_on")?),
        ) else {
            continue;
        };
        out.push(RunningClock {
            case_id: r.i64("cid")?,
            case_no: r.str("case_no")?,
            subject_name: r.str("subject")?,
            program,
            village_code: r.str("village_code")?,
            urban_rural: r.str("urban_rural")?.parse::<UrbanRural>().ok(),
            step,
            started_on: started,
        });
    }
    Ok(out)
}

/// Persons in scope born on or before `born_by` without an open or granted 高龄津贴 case
/// (at most 500): (household, person).
pub async fn old_age_candidates(
    store: &Store,
    scope: &Scope,
    born_by: NaiveDate,
) -> Result<Vec<(i64, i64)>> {
    let (lo, hi) = scope.bounds();
    let rows = store
        .fetch_all(
            // (On a distributed database the household and the cases are the person's
            // county's: a case from before a move to another county does not count there.)
            q(format!(
                "SELECT p.id, p.household_id, p.id_number, h.village_code
               FROM persons p JOIN households h ON h.id = p.household_id{}
               WHERE p.status = 'active' AND h.village_code >= $1 AND h.village_code < $2
                 AND p.birth_date <= $3
                 AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.person_id = p.id{}
                                 AND c.program = 'old_age_allowance'
                                 AND c.state NOT IN ('withdrawn','denied','not_accepted','terminated'))
               ORDER BY p.id LIMIT 500",
                same_county(store.distributed, "h", "p"),
                same_county(store.distributed, "c", "p")
            ))
            .bind(lo.as_str())
            .bind(hi.as_str())
            .bind(born_by.to_string()),
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.i64("household_id")?, r.i64("id")?)))
        .collect()
}
