//! The SQLite write phase: one prepared statement per table on the connection's raw handle
//! (`bulk.rs`), stepped row by row inside the import's write transaction; new rows a
//! hundred per statement.

use minzheng_domain::registry::ledger::{Counts, Ledger, Plan, Row};
use minzheng_domain::registry::pinyin_keys;
use sqlx::SqliteConnection;

use super::IMPORT_NOTE;
use crate::bulk::{BulkVal, MultiInsert, Raw};
use crate::error::Result;

fn opt<'a>(s: Option<&'a str>) -> BulkVal<'a> {
    s.map(BulkVal::Text).unwrap_or(BulkVal::Null)
}

fn opt_int(n: Option<i64>) -> BulkVal<'static> {
    n.map(BulkVal::Int).unwrap_or(BulkVal::Null)
}

// The household and person statements share their leading parameters (see
// `household_binds`, `person_binds`), so insert and update bind the same values.
const INSERT_HOUSEHOLD: &str =
    "INSERT INTO households (township_code, county_code, village_code, head_name,
     address, registration_type, phone, bank_name, account_number, account_holder, created_at,
     updated_at, head_id_number, status)
   VALUES (?1, substr(?1, 1, 6), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, 'active')";
const UPDATE_HOUSEHOLD: &str = "UPDATE households SET township_code = ?1,
     county_code = substr(?1, 1, 6), village_code = ?2,
     head_name = ?3, address = ?4, registration_type = ?5, phone = ?6, bank_name = ?7,
     account_number = ?8, account_holder = ?9, updated_at = ?10 WHERE id = ?11";
const INSERT_PERSON: &str = "INSERT INTO persons (household_id, township_code, county_code, name,
     name_pinyin, name_initials, id_last4, gender, birth_date, relation, counted,
     exclusion_reason, disability_type, disability_grade, health, work_capacity, employment,
     status, status_date, created_at, updated_at, id_number)
   VALUES (?1, ?2, substr(?2, 1, 6), ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
     ?19, ?20)";
const UPDATE_PERSON: &str = "UPDATE persons SET household_id = ?1, township_code = ?2,
     county_code = substr(?2, 1, 6), name = ?3,
     name_pinyin = ?4, name_initials = ?5, id_last4 = ?6, gender = ?7, birth_date = ?8,
     relation = ?9, counted = ?10, exclusion_reason = ?11, disability_type = ?12,
     disability_grade = ?13, health = ?14, work_capacity = ?15, employment = ?16, status = ?17,
     status_date = ?18, updated_at = ?19 WHERE id = ?20";
// The same inserts for `MultiInsert`, with explicit ids (handed out from `next_id`) and
// anonymous parameters in the order of `household_row` / `person_row`.
const MULTI_HOUSEHOLD: &str = "INSERT INTO households (id, township_code, village_code,
     head_name, address, registration_type, phone, bank_name, account_number, account_holder,
     created_at, updated_at, head_id_number, status, county_code)";
const MULTI_HOUSEHOLD_ROW: &str =
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', substr(?, 1, 6))";
const MULTI_PERSON: &str = "INSERT INTO persons (id, household_id, township_code, name,
     name_pinyin, name_initials, id_last4, gender, birth_date, relation, counted,
     exclusion_reason, disability_type, disability_grade, health, work_capacity, employment,
     status, status_date, created_at, updated_at, id_number, county_code)";
const MULTI_PERSON_ROW: &str =
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, substr(?, 1, 6))";
// Incomes and assets: the rows of `income_rows` / `asset_rows`, then the township again
// for the county code.
const MULTI_INCOME: &str = "INSERT INTO incomes (household_id, person_id, township_code, kind,
     amount_fen, period, note, created_at, county_code)";
const MULTI_INCOME_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, substr(?, 1, 6))";
const MULTI_ASSET: &str = "INSERT INTO assets (household_id, person_id, township_code, kind,
     value_fen, description, created_at, county_code)";
const MULTI_ASSET_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, substr(?, 1, 6))";

/// The next id an AUTOINCREMENT table hands out (never one used before), read inside the
/// write transaction, which no one else can write while it is held.
fn next_id(raw: &Raw<'_>, table: &str) -> Result<i64> {
    let mut st = raw.prepare(&format!(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0),
                COALESCE((SELECT MAX(id) FROM {table}), 0)) + 1"
    ))?;
    let mut next = 1;
    st.query(&[], |r| {
        next = r.int(0);
        Ok(())
    })?;
    Ok(next)
}

const INSERT_MOVE: &str = "INSERT INTO person_moves (person_id, from_household_id,
     to_household_id, township_code, county_code, at, actor) VALUES (?1, ?2, ?3, ?4, substr(?4, 1, 6), ?5, ?6)";
const DELETE_INCOMES: &str = "DELETE FROM incomes WHERE person_id = ?1 AND note = ?2";
const DELETE_ASSETS: &str = "DELETE FROM assets WHERE person_id = ?1 AND description = ?2";
const INSERT_INCOME: &str = "INSERT INTO incomes (household_id, person_id, township_code, county_code, kind,
     amount_fen, period, note, created_at) VALUES (?1, ?2, ?3, substr(?3, 1, 6), ?4, ?5, ?6, ?7, ?8)";
const INSERT_ASSET: &str =
    "INSERT INTO assets (household_id, person_id, township_code, county_code, kind,
     value_fen, description, created_at) VALUES (?1, ?2, ?3, substr(?3, 1, 6), ?4, ?5, ?6, ?7)";

/// The per-person values derived for writing.
pub(super) struct PersonVals {
    pub(super) pinyin: String,
    pub(super) initials: String,
    pub(super) birth: String,
    pub(super) status_date: Option<String>,
}

pub(super) fn person_vals(ledger: &Ledger, r: &Row) -> PersonVals {
    let (pinyin, initials) = pinyin_keys(ledger.name(r));
    PersonVals {
        pinyin,
        initials,
        birth: r.birth.to_string(),
        status_date: r.status_date.map(|d| d.to_string()),
    }
}

/// The household columns insert and update share (?1–?9).
fn household_binds<'a>(l: &'a Ledger, head: &'a Row) -> [BulkVal<'a>; 9] {
    let t = l.household_text(head);
    [
        head.township().into(),
        head.village().into(),
        l.name(head).into(),
        t.address.into(),
        head.registration_type
            .map(|r| r.as_str())
            .unwrap_or("")
            .into(),
        t.phone.into(),
        t.bank.into(),
        t.account.into(),
        t.holder.into(),
    ]
}

/// The person columns insert and update share (?1–?18).
fn person_binds<'a>(l: &'a Ledger, r: &'a Row, v: &'a PersonVals, hid: i64) -> [BulkVal<'a>; 18] {
    [
        hid.into(),
        r.township().into(),
        l.name(r).into(),
        v.pinyin.as_str().into(),
        v.initials.as_str().into(),
        r.id_last4().into(),
        r.gender_label().into(),
        v.birth.as_str().into(),
        r.relation.as_str().into(),
        i64::from(r.counted).into(),
        opt(r.exclusion_reason.map(|e| e.as_str())),
        r.disability_type.as_str().into(),
        opt_int(r.disability_grade.map(i64::from)),
        r.health.as_str().into(),
        r.work_capacity.as_str().into(),
        r.employment.as_str().into(),
        r.status.as_str().into(),
        opt(v.status_date.as_deref()),
    ]
}

/// The income rows of a ledger row, as `INSERT_INCOME` / `MULTI_INCOME` take them.
fn income_rows<'a>(
    l: &'a Ledger,
    r: &'a Row,
    hid: i64,
    pid: i64,
    now: &'a str,
) -> impl Iterator<Item = [BulkVal<'a>; 8]> + 'a {
    l.incomes(r).map(move |(kind, period, amount)| {
        [
            hid.into(),
            pid.into(),
            r.township().into(),
            kind.as_str().into(),
            amount.0.into(),
            period.as_str().into(),
            IMPORT_NOTE.into(),
            now.into(),
        ]
    })
}

/// The asset rows of a ledger row, as `INSERT_ASSET` / `MULTI_ASSET` take them.
fn asset_rows<'a>(
    l: &'a Ledger,
    r: &'a Row,
    hid: i64,
    pid: i64,
    now: &'a str,
) -> impl Iterator<Item = [BulkVal<'a>; 7]> + 'a {
    l.assets(r).map(move |(kind, value)| {
        [
            hid.into(),
            pid.into(),
            r.township().into(),
            kind.as_str().into(),
            value.0.into(),
            IMPORT_NOTE.into(),
            now.into(),
        ]
    })
}

/// The prepared statements of the SQLite write phase.
pub(super) struct SqliteStmts<'c> {
    ins_household: crate::bulk::Prepared<'c>,
    upd_household: crate::bulk::Prepared<'c>,
    ins_person: crate::bulk::Prepared<'c>,
    upd_person: crate::bulk::Prepared<'c>,
    ins_move: crate::bulk::Prepared<'c>,
    del_incomes: crate::bulk::Prepared<'c>,
    del_assets: crate::bulk::Prepared<'c>,
    ins_income: crate::bulk::Prepared<'c>,
    ins_asset: crate::bulk::Prepared<'c>,
}

impl<'c> SqliteStmts<'c> {
    pub(super) fn prepare(raw: &'c Raw<'_>) -> Result<Self> {
        Ok(SqliteStmts {
            ins_household: raw.prepare(INSERT_HOUSEHOLD)?,
            upd_household: raw.prepare(UPDATE_HOUSEHOLD)?,
            ins_person: raw.prepare(INSERT_PERSON)?,
            upd_person: raw.prepare(UPDATE_PERSON)?,
            ins_move: raw.prepare(INSERT_MOVE)?,
            del_incomes: raw.prepare(DELETE_INCOMES)?,
            del_assets: raw.prepare(DELETE_ASSETS)?,
            ins_income: raw.prepare(INSERT_INCOME)?,
            ins_asset: raw.prepare(INSERT_ASSET)?,
        })
    }

    pub(super) fn insert_household(&mut self, l: &Ledger, head: &Row, now: &str) -> Result<i64> {
        let c = household_binds(l, head);
        self.ins_household
            .insert(&std::array::from_fn::<_, 11, _>(|k| match k {
                9 => now.into(),
                10 => head.head().into(),
                k => c[k],
            }))
    }

    fn update_household(&mut self, l: &Ledger, head: &Row, id: i64, now: &str) -> Result<()> {
        let c = household_binds(l, head);
        self.upd_household
            .run(&std::array::from_fn::<_, 11, _>(|k| match k {
                9 => now.into(),
                10 => id.into(),
                k => c[k],
            }))
            .map(|_| ())
    }

    pub(super) fn insert_person(
        &mut self,
        l: &Ledger,
        r: &Row,
        v: &PersonVals,
        hid: i64,
        now: &str,
    ) -> Result<i64> {
        let c = person_binds(l, r, v, hid);
        self.ins_person
            .insert(&std::array::from_fn::<_, 20, _>(|k| match k {
                18 => now.into(),
                19 => r.id().into(),
                k => c[k],
            }))
    }

    fn update_person(
        &mut self,
        l: &Ledger,
        r: &Row,
        v: &PersonVals,
        hid: i64,
        pid: i64,
        now: &str,
    ) -> Result<()> {
        let c = person_binds(l, r, v, hid);
        self.upd_person
            .run(&std::array::from_fn::<_, 20, _>(|k| match k {
                18 => now.into(),
                19 => pid.into(),
                k => c[k],
            }))
            .map(|_| ())
    }

    pub(super) fn items(
        &mut self,
        l: &Ledger,
        r: &Row,
        hid: i64,
        pid: i64,
        now: &str,
    ) -> Result<()> {
        self.incomes(l, r, hid, pid, now)?;
        self.assets(l, r, hid, pid, now)
    }

    fn incomes(&mut self, l: &Ledger, r: &Row, hid: i64, pid: i64, now: &str) -> Result<()> {
        for vals in income_rows(l, r, hid, pid, now) {
            self.ins_income.run(&vals)?;
        }
        Ok(())
    }

    fn assets(&mut self, l: &Ledger, r: &Row, hid: i64, pid: i64, now: &str) -> Result<()> {
        for vals in asset_rows(l, r, hid, pid, now) {
            self.ins_asset.run(&vals)?;
        }
        Ok(())
    }
}

/// Writes the households `good` on SQLite, synchronously on the locked handle (a batch
/// takes tens of milliseconds; the caller reports progress and yields between batches).
pub(super) async fn write(
    conn: &mut SqliteConnection,
    plan: &Plan<'_>,
    good: &[u32],
    counts: &mut Counts,
) -> Result<()> {
    let mut handle = conn.lock_handle().await?;
    write_sqlite_locked(&mut handle, plan, good, counts)
}

fn write_sqlite_locked(
    handle: &mut sqlx::sqlite::LockedSqliteHandle<'_>,
    plan: &Plan<'_>,
    good: &[u32],
    counts: &mut Counts,
) -> Result<()> {
    let raw = Raw::new(handle);
    let mut st = SqliteStmts::prepare(&raw)?;
    let l = plan.ledger;
    let now = plan.now;
    // Table by table within the batch: each statement runs many times in a row, and each
    // table's pages stay hot while it is written. New rows go in a hundred per statement
    // with their ids handed out here; each table is complete before the next refers to it.
    let mut hids = Vec::with_capacity(good.len());
    {
        let mut next = next_id(&raw, "households")?;
        let mut ins = MultiInsert::prepare(&raw, MULTI_HOUSEHOLD, MULTI_HOUSEHOLD_ROW)?;
        for &g in good {
            let head = plan.head_of(g as usize);
            let hid = match plan.heads.get(&head.head) {
                Some(h) => {
                    st.update_household(l, head, h.id, now)?;
                    counts.households_updated += 1;
                    h.id
                }
                None => {
                    counts.households_created += 1;
                    let c = household_binds(l, head);
                    let hid = next;
                    next += 1;
                    ins.push(&std::array::from_fn::<_, 14, _>(|k| match k {
                        0 => hid.into(),
                        10 | 11 => now.into(),
                        12 => head.head().into(),
                        13 => head.township().into(),
                        k => c[k - 1],
                    }))?;
                    hid
                }
            };
            hids.push(hid);
        }
        ins.finish()?;
    }
    let members: Vec<(&Row, i64)> = good
        .iter()
        .zip(&hids)
        .flat_map(|(&g, &hid)| {
            plan.groups
                .get(g as usize)
                .iter()
                .map(move |&i| (&l.rows[i as usize], hid))
        })
        .collect();
    let vals: Vec<PersonVals> = members.iter().map(|(r, _)| person_vals(l, r)).collect();
    // (row, household, person, the household it moved from: Some(None) when new)
    let mut written: Vec<(&Row, i64, i64, Option<Option<i64>>)> = Vec::with_capacity(members.len());
    {
        let mut next = next_id(&raw, "persons")?;
        let mut ins = MultiInsert::prepare(&raw, MULTI_PERSON, MULTI_PERSON_ROW)?;
        for (&(r, hid), v) in members.iter().zip(&vals) {
            match plan.existing.get(&r.id) {
                Some(e) => {
                    st.update_person(l, r, v, hid, e.person_id, now)?;
                    counts.persons_updated += 1;
                    let moved = (e.household_id != hid).then_some(Some(e.household_id));
                    written.push((r, hid, e.person_id, moved));
                }
                None => {
                    counts.persons_created += 1;
                    let c = person_binds(l, r, v, hid);
                    let pid = next;
                    next += 1;
                    ins.push(&std::array::from_fn::<_, 23, _>(|k| match k {
                        0 => pid.into(),
                        19 | 20 => now.into(),
                        21 => r.id().into(),
                        22 => r.township().into(),
                        k => c[k - 1],
                    }))?;
                    written.push((r, hid, pid, Some(None)));
                }
            }
        }
        ins.finish()?;
    }
    // Only real moves are recorded: a new person's first household is the person row itself.
    for &(r, hid, pid, moved) in &written {
        let Some(Some(from)) = moved else { continue };
        counts.persons_moved += 1;
        st.ins_move.run(&[
            pid.into(),
            from.into(),
            hid.into(),
            r.township().into(),
            now.into(),
            plan.actor.into(),
        ])?;
    }
    for &(_, _, pid, moved) in &written {
        // Persons already registered lose the incomes and assets an earlier import gave them.
        if moved != Some(None) {
            st.del_incomes.run(&[pid.into(), IMPORT_NOTE.into()])?;
            st.del_assets.run(&[pid.into(), IMPORT_NOTE.into()])?;
        }
    }
    let mut ins = MultiInsert::prepare(&raw, MULTI_INCOME, MULTI_INCOME_ROW)?;
    for &(r, hid, pid, _) in &written {
        for v in income_rows(l, r, hid, pid, now) {
            ins.push(&std::array::from_fn::<_, 9, _>(|k| {
                v[if k == 8 { 2 } else { k }]
            }))?;
        }
    }
    ins.finish()?;
    let mut ins = MultiInsert::prepare(&raw, MULTI_ASSET, MULTI_ASSET_ROW)?;
    for &(r, hid, pid, _) in &written {
        for v in asset_rows(l, r, hid, pid, now) {
            ins.push(&std::array::from_fn::<_, 8, _>(|k| {
                v[if k == 7 { 2 } else { k }]
            }))?;
        }
    }
    ins.finish()
}
