//! The write phase of the ledger import, and the benchmark floor.
//!
//! SQLite: one prepared statement per table on the connection's raw handle (`bulk.rs`),
//! stepped row by row inside the import's write transaction, in batches of about 10,000
//! persons (the handle is locked per batch so progress can be reported in between).
//! PostgreSQL: per batch, one `INSERT … SELECT FROM UNNEST(…)` (or `UPDATE … FROM UNNEST`)
//! per table, the columns travelling as arrays.

use std::collections::HashMap;

use minzheng_domain::registry::pinyin_keys;
use sqlx::{PgConnection, SqliteConnection};

use crate::bulk::{BulkVal, MultiInsert, Raw};
use crate::error::StoreResult;
use crate::registry_read::{Groups, Id18, Ledger, Row};

/// Marker on incomes and assets written by an import, so a re-import replaces exactly them.
pub(crate) const IMPORT_NOTE: &str = "台账导入";

/// Persons per batch.
pub(crate) const BATCH_ROWS: usize = 10_000;

/// Secondary indexes built after the rows are in when an import at least doubles the
/// registry. Maintaining an index row by row costs a B-tree descent per row, at a random
/// place for keys that arrive unordered (ID numbers, initials, heads' ID numbers) and at one
/// of ~100 (township) or ~2,000 (village) hot spots for the scope indexes; building it once
/// afterwards is a sort. Measured on 1M persons (2 cores, with the two persons indexes
/// migration 0007 dropped): the write phase took 7.4 s with these deferred against 9.4 s
/// with only the random-key ones. The household/person foreign-key indexes arrive in order
/// and stay. (table, index)
const DEFERRABLE: [(&str, &str); 5] = [
    ("persons", "persons_id_number"),
    ("persons", "persons_initials"),
    ("households", "households_village"),
    ("households", "households_scope"),
    ("households", "households_head"),
];

/// Deferring pays off only for large imports that at least double the table.
pub(crate) const DEFER_MIN_ROWS: usize = 50_000;

/// Whether a SQLite import adding `new_persons` to a table whose largest id is `max_id`
/// should build the random-order indexes afterwards.
pub(crate) fn should_defer(new_persons: usize, max_id: i64) -> bool {
    new_persons >= DEFER_MIN_ROWS && new_persons as i64 >= max_id
}

/// Drops the deferrable indexes inside the import's transaction (readers keep seeing them
/// in their snapshots; nothing in the write phase looks persons up by these columns) and
/// returns their definitions, to be run again by [`rebuild_indexes`] before the commit. If
/// the import fails, the rollback restores them.
pub(crate) async fn defer_indexes(conn: &mut SqliteConnection) -> StoreResult<Vec<String>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT tbl_name, name, sql FROM sqlite_master
         WHERE type = 'index' AND tbl_name IN ('persons', 'households') AND sql IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for (table, name, sql) in rows {
        if DEFERRABLE.contains(&(table.as_str(), name.as_str())) {
            sqlx::query(&format!("DROP INDEX \"{name}\""))
                .execute(&mut *conn)
                .await?;
            out.push(sql);
        }
    }
    Ok(out)
}

/// Builds the indexes dropped by [`defer_indexes`] again, from their own definitions (a
/// unique index re-checks uniqueness here).
pub(crate) async fn rebuild_indexes(
    conn: &mut SqliteConnection,
    sql: &[String],
) -> StoreResult<()> {
    // Let SQLite's sorter use a helper thread (the other core is idle meanwhile).
    sqlx::query("PRAGMA threads = 2")
        .execute(&mut *conn)
        .await?;
    for s in sql {
        sqlx::query(s).execute(&mut *conn).await?;
    }
    sqlx::query("PRAGMA threads = 0")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What the database already holds for a person of the file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Existing {
    pub person_id: i64,
    pub household_id: i64,
    /// The person's household lies inside the importer's scope.
    pub in_scope: bool,
    /// The person is the head of their current household.
    pub is_head: bool,
}

/// A household the database already holds, by head ID.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExistingHousehold {
    pub id: i64,
    pub in_scope: bool,
}

/// A map keyed by ID number, kept as one sorted vector: at a million entries it takes half
/// the memory of a `HashMap`.
pub(crate) struct IdMap<V> {
    items: Vec<(Id18, V)>,
}

impl<V> IdMap<V> {
    pub fn new(mut items: Vec<(Id18, V)>) -> Self {
        items.sort_unstable_by_key(|a| a.0);
        IdMap { items }
    }

    pub fn get(&self, id: &Id18) -> Option<&V> {
        self.items
            .binary_search_by(|(k, _)| k.cmp(id))
            .ok()
            .map(|i| &self.items[i].1)
    }
}

/// Everything the write phase needs.
pub(crate) struct Plan<'a> {
    pub ledger: &'a Ledger,
    pub groups: &'a Groups,
    pub existing: &'a IdMap<Existing>,
    pub heads: &'a IdMap<ExistingHousehold>,
    pub now: &'a str,
    pub actor: &'a str,
}

/// What the write phase did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counts {
    pub households_created: usize,
    pub households_updated: usize,
    pub persons_created: usize,
    pub persons_updated: usize,
    pub persons_moved: usize,
}

impl Plan<'_> {
    fn head_of(&self, g: usize) -> &Row {
        let rows = &self.ledger.rows;
        self.groups
            .get(g)
            .iter()
            .map(|&i| &rows[i as usize])
            .find(|r| r.relation == minzheng_domain::registry::Relation::Head)
            .unwrap_or(&rows[self.groups.get(g)[0] as usize])
    }
}

/// Splits the households to write into batches of about [`BATCH_ROWS`] persons.
pub(crate) fn batches(groups: &Groups, good: &[u32]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut rows = 0;
    for (k, &g) in good.iter().enumerate() {
        rows += groups.get(g as usize).len();
        if rows >= BATCH_ROWS {
            out.push(start..k + 1);
            start = k + 1;
            rows = 0;
        }
    }
    if start < good.len() {
        out.push(start..good.len());
    }
    out
}

fn opt<'a>(s: Option<&'a str>) -> BulkVal<'a> {
    s.map(BulkVal::Text).unwrap_or(BulkVal::Null)
}

fn opt_int(n: Option<i64>) -> BulkVal<'static> {
    n.map(BulkVal::Int).unwrap_or(BulkVal::Null)
}

// The household and person statements share their leading parameters (see
// `household_binds`, `person_binds`), so insert and update bind the same values.
const INSERT_HOUSEHOLD: &str = "INSERT INTO households (township_code, village_code, head_name,
     address, registration_type, phone, bank_name, account_number, account_holder, created_at,
     updated_at, head_id_number, status)
   VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, 'active')";
const UPDATE_HOUSEHOLD: &str = "UPDATE households SET township_code = ?1, village_code = ?2,
     head_name = ?3, address = ?4, registration_type = ?5, phone = ?6, bank_name = ?7,
     account_number = ?8, account_holder = ?9, updated_at = ?10 WHERE id = ?11";
const INSERT_PERSON: &str = "INSERT INTO persons (household_id, township_code, name,
     name_pinyin, name_initials, id_last4, gender, birth_date, relation, counted,
     exclusion_reason, disability_type, disability_grade, health, work_capacity, employment,
     status, status_date, created_at, updated_at, id_number)
   VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19,
     ?19, ?20)";
const UPDATE_PERSON: &str = "UPDATE persons SET household_id = ?1, township_code = ?2, name = ?3,
     name_pinyin = ?4, name_initials = ?5, id_last4 = ?6, gender = ?7, birth_date = ?8,
     relation = ?9, counted = ?10, exclusion_reason = ?11, disability_type = ?12,
     disability_grade = ?13, health = ?14, work_capacity = ?15, employment = ?16, status = ?17,
     status_date = ?18, updated_at = ?19 WHERE id = ?20";
// The same inserts for `MultiInsert`, with explicit ids (handed out from `next_id`) and
// anonymous parameters in the order of `household_row` / `person_row`.
const MULTI_HOUSEHOLD: &str = "INSERT INTO households (id, township_code, village_code,
     head_name, address, registration_type, phone, bank_name, account_number, account_holder,
     created_at, updated_at, head_id_number, status)";
const MULTI_HOUSEHOLD_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active')";
const MULTI_PERSON: &str = "INSERT INTO persons (id, household_id, township_code, name,
     name_pinyin, name_initials, id_last4, gender, birth_date, relation, counted,
     exclusion_reason, disability_type, disability_grade, health, work_capacity, employment,
     status, status_date, created_at, updated_at, id_number)";
const MULTI_PERSON_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const MULTI_INCOME: &str = "INSERT INTO incomes (household_id, person_id, township_code, kind,
     amount_fen, period, note, created_at)";
const MULTI_INCOME_ROW: &str = "(?, ?, ?, ?, ?, ?, ?, ?)";
const MULTI_ASSET: &str = "INSERT INTO assets (household_id, person_id, township_code, kind,
     value_fen, description, created_at)";
const MULTI_ASSET_ROW: &str = "(?, ?, ?, ?, ?, ?, ?)";

/// The next id an AUTOINCREMENT table hands out (never one used before), read inside the
/// write transaction, which no one else can write while it is held.
fn next_id(raw: &Raw<'_>, table: &str) -> StoreResult<i64> {
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
     to_household_id, township_code, at, actor) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
const DELETE_INCOMES: &str = "DELETE FROM incomes WHERE person_id = ?1 AND note = ?2";
const DELETE_ASSETS: &str = "DELETE FROM assets WHERE person_id = ?1 AND description = ?2";
const INSERT_INCOME: &str = "INSERT INTO incomes (household_id, person_id, township_code, kind,
     amount_fen, period, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
const INSERT_ASSET: &str = "INSERT INTO assets (household_id, person_id, township_code, kind,
     value_fen, description, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/// The per-person values derived for writing.
struct PersonVals {
    pinyin: String,
    initials: String,
    birth: String,
    status_date: Option<String>,
}

fn person_vals(ledger: &Ledger, r: &Row) -> PersonVals {
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
            .map(|r| r.code())
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
        r.relation.code().into(),
        i64::from(r.counted).into(),
        opt(r.exclusion_reason.map(|e| e.code())),
        r.disability_type.code().into(),
        opt_int(r.disability_grade.map(i64::from)),
        r.health.code().into(),
        r.work_capacity.code().into(),
        r.employment.code().into(),
        r.status.code().into(),
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
            kind.code().into(),
            amount.0.into(),
            period.code().into(),
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
            kind.code().into(),
            value.0.into(),
            IMPORT_NOTE.into(),
            now.into(),
        ]
    })
}

/// The prepared statements of the SQLite write phase.
struct SqliteStmts<'c> {
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
    fn prepare(raw: &'c Raw<'_>) -> StoreResult<Self> {
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

    fn insert_household(&mut self, l: &Ledger, head: &Row, now: &str) -> StoreResult<i64> {
        let c = household_binds(l, head);
        self.ins_household
            .insert(&std::array::from_fn::<_, 11, _>(|k| match k {
                9 => now.into(),
                10 => head.head().into(),
                k => c[k],
            }))
    }

    fn update_household(&mut self, l: &Ledger, head: &Row, id: i64, now: &str) -> StoreResult<()> {
        let c = household_binds(l, head);
        self.upd_household
            .run(&std::array::from_fn::<_, 11, _>(|k| match k {
                9 => now.into(),
                10 => id.into(),
                k => c[k],
            }))
            .map(|_| ())
    }

    fn insert_person(
        &mut self,
        l: &Ledger,
        r: &Row,
        v: &PersonVals,
        hid: i64,
        now: &str,
    ) -> StoreResult<i64> {
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
    ) -> StoreResult<()> {
        let c = person_binds(l, r, v, hid);
        self.upd_person
            .run(&std::array::from_fn::<_, 20, _>(|k| match k {
                18 => now.into(),
                19 => pid.into(),
                k => c[k],
            }))
            .map(|_| ())
    }

    fn items(&mut self, l: &Ledger, r: &Row, hid: i64, pid: i64, now: &str) -> StoreResult<()> {
        self.incomes(l, r, hid, pid, now)?;
        self.assets(l, r, hid, pid, now)
    }

    fn incomes(&mut self, l: &Ledger, r: &Row, hid: i64, pid: i64, now: &str) -> StoreResult<()> {
        for vals in income_rows(l, r, hid, pid, now) {
            self.ins_income.run(&vals)?;
        }
        Ok(())
    }

    fn assets(&mut self, l: &Ledger, r: &Row, hid: i64, pid: i64, now: &str) -> StoreResult<()> {
        for vals in asset_rows(l, r, hid, pid, now) {
            self.ins_asset.run(&vals)?;
        }
        Ok(())
    }
}

/// Writes the households `good` on SQLite, synchronously on the locked handle (a batch
/// takes tens of milliseconds; the caller reports progress and yields between batches).
pub(crate) async fn write_sqlite(
    conn: &mut SqliteConnection,
    plan: &Plan<'_>,
    good: &[u32],
    counts: &mut Counts,
) -> StoreResult<()> {
    let mut handle = conn.lock_handle().await?;
    write_sqlite_locked(&mut handle, plan, good, counts)
}

fn write_sqlite_locked(
    handle: &mut sqlx::sqlite::LockedSqliteHandle<'_>,
    plan: &Plan<'_>,
    good: &[u32],
    counts: &mut Counts,
) -> StoreResult<()> {
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
                    ins.push(&std::array::from_fn::<_, 13, _>(|k| match k {
                        0 => hid.into(),
                        10 | 11 => now.into(),
                        12 => head.head().into(),
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
                    ins.push(&std::array::from_fn::<_, 22, _>(|k| match k {
                        0 => pid.into(),
                        19 | 20 => now.into(),
                        21 => r.id().into(),
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
        for vals in income_rows(l, r, hid, pid, now) {
            ins.push(&vals)?;
        }
    }
    ins.finish()?;
    let mut ins = MultiInsert::prepare(&raw, MULTI_ASSET, MULTI_ASSET_ROW)?;
    for &(r, hid, pid, _) in &written {
        for vals in asset_rows(l, r, hid, pid, now) {
            ins.push(&vals)?;
        }
    }
    ins.finish()
}

// ------------------------------------------------------------------ PostgreSQL

/// Writes the households `good` on PostgreSQL: a handful of array statements per batch.
pub(crate) async fn write_pg(
    conn: &mut PgConnection,
    plan: &Plan<'_>,
    good: &[u32],
    counts: &mut Counts,
) -> StoreResult<()> {
    let l = plan.ledger;
    // Households: new ones inserted (ids come back keyed by head), existing ones updated.
    let mut hid_of: HashMap<Id18, i64> = HashMap::with_capacity(good.len());
    {
        let mut new = HouseholdCols::default();
        let mut upd = HouseholdCols::default();
        let mut upd_ids: Vec<i64> = Vec::new();
        for &g in good {
            let head = plan.head_of(g as usize);
            match plan.heads.get(&head.head) {
                Some(h) => {
                    upd.push(l, head);
                    upd_ids.push(h.id);
                    hid_of.insert(head.head, h.id);
                    counts.households_updated += 1;
                }
                None => {
                    new.push(l, head);
                    counts.households_created += 1;
                }
            }
        }
        if !new.head.is_empty() {
            let rows: Vec<(i64, String)> = sqlx::query_as(
                "INSERT INTO households (township_code, village_code, head_id_number, head_name,
                   address, registration_type, phone, bank_name, account_number, account_holder,
                   status, created_at, updated_at)
                 SELECT t, v, h, n, a, r, p, b, acc, ho, 'active', $11, $11
                 FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                   $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
                   AS x(t, v, h, n, a, r, p, b, acc, ho)
                 RETURNING id, head_id_number",
            )
            .bind(&new.township)
            .bind(&new.village)
            .bind(&new.head)
            .bind(&new.name)
            .bind(&new.address)
            .bind(&new.reg)
            .bind(&new.phone)
            .bind(&new.bank)
            .bind(&new.account)
            .bind(&new.holder)
            .bind(plan.now)
            .fetch_all(&mut *conn)
            .await?;
            for (id, head) in rows {
                if let Ok(h) = Id18::try_from(head.as_bytes()) {
                    hid_of.insert(h, id);
                }
            }
        }
        if !upd_ids.is_empty() {
            sqlx::query(
                "UPDATE households h SET township_code = x.t, village_code = x.v, head_name = x.n,
                   address = x.a, registration_type = x.r, phone = x.p, bank_name = x.b,
                   account_number = x.acc, account_holder = x.ho, updated_at = $11
                 FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                   $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
                   AS x(id, t, v, n, a, r, p, b, acc, ho)
                 WHERE h.id = x.id",
            )
            .bind(&upd_ids)
            .bind(&upd.township)
            .bind(&upd.village)
            .bind(&upd.name)
            .bind(&upd.address)
            .bind(&upd.reg)
            .bind(&upd.phone)
            .bind(&upd.bank)
            .bind(&upd.account)
            .bind(&upd.holder)
            .bind(plan.now)
            .execute(&mut *conn)
            .await?;
        }
    }
    // Persons.
    let mut new = PersonCols::default();
    let mut upd = PersonCols::default();
    let mut upd_ids: Vec<i64> = Vec::new();
    let mut moves = MoveCols::default();
    let mut replaced: Vec<i64> = Vec::new();
    // (row index, household id) of the new persons, to attach their moves and items.
    let mut new_rows: Vec<(u32, i64)> = Vec::new();
    let mut items = ItemCols::default();
    for &g in good {
        let head = plan.head_of(g as usize);
        let hid = hid_of.get(&head.head).copied().unwrap_or_default();
        for &i in plan.groups.get(g as usize) {
            let r = &l.rows[i as usize];
            match plan.existing.get(&r.id) {
                Some(e) => {
                    upd.push(l, r, hid);
                    upd_ids.push(e.person_id);
                    if e.household_id != hid {
                        counts.persons_moved += 1;
                        moves.push(e.person_id, Some(e.household_id), hid, r.township());
                    }
                    counts.persons_updated += 1;
                    replaced.push(e.person_id);
                    items.push(l, r, hid, e.person_id);
                }
                None => {
                    new.push(l, r, hid);
                    new_rows.push((i, hid));
                    counts.persons_created += 1;
                }
            }
        }
    }
    if !new.id.is_empty() {
        let rows: Vec<(i64, String)> = sqlx::query_as(&format!(
            "INSERT INTO persons (id_number, household_id, township_code, name, name_pinyin,
               name_initials, id_last4, gender, birth_date, relation, counted, exclusion_reason,
               disability_type, disability_grade, health, work_capacity, employment, status,
               status_date, created_at, updated_at)
             SELECT {PERSON_SELECT}, $20, $20 FROM {PERSON_UNNEST}
             RETURNING id, id_number"
        ))
        .bind(&new.id)
        .bind(&new.household)
        .bind(&new.township)
        .bind(&new.name)
        .bind(&new.pinyin)
        .bind(&new.initials)
        .bind(&new.last4)
        .bind(&new.gender)
        .bind(&new.birth)
        .bind(&new.relation)
        .bind(&new.counted)
        .bind(&new.exclusion)
        .bind(&new.disability)
        .bind(&new.grade)
        .bind(&new.health)
        .bind(&new.work)
        .bind(&new.employment)
        .bind(&new.status)
        .bind(&new.status_date)
        .bind(plan.now)
        .fetch_all(&mut *conn)
        .await?;
        let pid_of: HashMap<String, i64> = rows.into_iter().map(|(id, n)| (n, id)).collect();
        for (i, hid) in new_rows {
            let r = &l.rows[i as usize];
            let pid = pid_of.get(r.id()).copied().unwrap_or_default();
            items.push(l, r, hid, pid);
        }
    }
    if !upd_ids.is_empty() {
        sqlx::query(&format!(
            "UPDATE persons p SET household_id = x.household_id, township_code = x.township_code,
               name = x.name, name_pinyin = x.name_pinyin, name_initials = x.name_initials,
               id_last4 = x.id_last4, gender = x.gender, birth_date = x.birth_date,
               relation = x.relation, counted = x.counted, exclusion_reason = x.exclusion_reason,
               disability_type = x.disability_type, disability_grade = x.disability_grade,
               health = x.health, work_capacity = x.work_capacity, employment = x.employment,
               status = x.status, status_date = x.status_date, updated_at = $20
             FROM (SELECT {PERSON_SELECT}, pid FROM {PERSON_UNNEST_WITH_ID}) AS x
             WHERE p.id = x.pid"
        ))
        .bind(&upd.id)
        .bind(&upd.household)
        .bind(&upd.township)
        .bind(&upd.name)
        .bind(&upd.pinyin)
        .bind(&upd.initials)
        .bind(&upd.last4)
        .bind(&upd.gender)
        .bind(&upd.birth)
        .bind(&upd.relation)
        .bind(&upd.counted)
        .bind(&upd.exclusion)
        .bind(&upd.disability)
        .bind(&upd.grade)
        .bind(&upd.health)
        .bind(&upd.work)
        .bind(&upd.employment)
        .bind(&upd.status)
        .bind(&upd.status_date)
        .bind(plan.now)
        .bind(&upd_ids)
        .execute(&mut *conn)
        .await?;
    }
    if !moves.person.is_empty() {
        sqlx::query(
            "INSERT INTO person_moves (person_id, from_household_id, to_household_id,
               township_code, at, actor)
             SELECT p, f, t, tw, $5, $6
             FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[]) AS x(p, f, t, tw)",
        )
        .bind(&moves.person)
        .bind(&moves.from)
        .bind(&moves.to)
        .bind(&moves.township)
        .bind(plan.now)
        .bind(plan.actor)
        .execute(&mut *conn)
        .await?;
    }
    if !replaced.is_empty() {
        sqlx::query("DELETE FROM incomes WHERE person_id = ANY($1) AND note = $2")
            .bind(&replaced)
            .bind(IMPORT_NOTE)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM assets WHERE person_id = ANY($1) AND description = $2")
            .bind(&replaced)
            .bind(IMPORT_NOTE)
            .execute(&mut *conn)
            .await?;
    }
    items.write(conn, plan.now).await?;
    Ok(())
}

/// The columns of a persons UNNEST, in the order bound ($1–$19).
const PERSON_UNNEST: &str = "UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[],
     $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bool[],
     $12::text[], $13::text[], $14::bigint[], $15::text[], $16::text[], $17::text[], $18::text[],
     $19::text[])
     AS x(id_number, household_id, township_code, name, name_pinyin, name_initials, id_last4,
       gender, birth_date, relation, counted, exclusion_reason, disability_type,
       disability_grade, health, work_capacity, employment, status, status_date)";
const PERSON_UNNEST_WITH_ID: &str = "UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[],
     $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bool[],
     $12::text[], $13::text[], $14::bigint[], $15::text[], $16::text[], $17::text[], $18::text[],
     $19::text[], $21::bigint[])
     AS x(id_number, household_id, township_code, name, name_pinyin, name_initials, id_last4,
       gender, birth_date, relation, counted, exclusion_reason, disability_type,
       disability_grade, health, work_capacity, employment, status, status_date, pid)";
const PERSON_SELECT: &str = "x.id_number, x.household_id, x.township_code, x.name,
     x.name_pinyin, x.name_initials, x.id_last4, x.gender, x.birth_date, x.relation, x.counted,
     x.exclusion_reason, x.disability_type, x.disability_grade, x.health, x.work_capacity,
     x.employment, x.status, x.status_date";

#[derive(Default)]
struct HouseholdCols<'a> {
    township: Vec<&'a str>,
    village: Vec<&'a str>,
    head: Vec<&'a str>,
    name: Vec<&'a str>,
    address: Vec<&'a str>,
    reg: Vec<&'a str>,
    phone: Vec<&'a str>,
    bank: Vec<&'a str>,
    account: Vec<&'a str>,
    holder: Vec<&'a str>,
}

impl<'a> HouseholdCols<'a> {
    fn push(&mut self, l: &'a Ledger, head: &'a Row) {
        let t = l.household_text(head);
        self.township.push(head.township());
        self.village.push(head.village());
        self.head.push(head.head());
        self.name.push(l.name(head));
        self.address.push(t.address);
        self.reg
            .push(head.registration_type.map(|r| r.code()).unwrap_or(""));
        self.phone.push(t.phone);
        self.bank.push(t.bank);
        self.account.push(t.account);
        self.holder.push(t.holder);
    }
}

#[derive(Default)]
struct PersonCols<'a> {
    id: Vec<&'a str>,
    household: Vec<i64>,
    township: Vec<&'a str>,
    name: Vec<&'a str>,
    pinyin: Vec<String>,
    initials: Vec<String>,
    last4: Vec<&'a str>,
    gender: Vec<&'static str>,
    birth: Vec<String>,
    relation: Vec<&'static str>,
    counted: Vec<bool>,
    exclusion: Vec<Option<&'static str>>,
    disability: Vec<&'static str>,
    grade: Vec<Option<i64>>,
    health: Vec<&'static str>,
    work: Vec<&'static str>,
    employment: Vec<&'static str>,
    status: Vec<&'static str>,
    status_date: Vec<Option<String>>,
}

impl<'a> PersonCols<'a> {
    fn push(&mut self, l: &'a Ledger, r: &'a Row, hid: i64) {
        let v = person_vals(l, r);
        self.id.push(r.id());
        self.household.push(hid);
        self.township.push(r.township());
        self.name.push(l.name(r));
        self.pinyin.push(v.pinyin);
        self.initials.push(v.initials);
        self.last4.push(r.id_last4());
        self.gender.push(r.gender_label());
        self.birth.push(v.birth);
        self.relation.push(r.relation.code());
        self.counted.push(r.counted);
        self.exclusion.push(r.exclusion_reason.map(|e| e.code()));
        self.disability.push(r.disability_type.code());
        self.grade.push(r.disability_grade.map(i64::from));
        self.health.push(r.health.code());
        self.work.push(r.work_capacity.code());
        self.employment.push(r.employment.code());
        self.status.push(r.status.code());
        self.status_date.push(v.status_date);
    }
}

#[derive(Default)]
struct MoveCols<'a> {
    person: Vec<i64>,
    from: Vec<Option<i64>>,
    to: Vec<i64>,
    township: Vec<&'a str>,
}

impl<'a> MoveCols<'a> {
    fn push(&mut self, person: i64, from: Option<i64>, to: i64, township: &'a str) {
        self.person.push(person);
        self.from.push(from);
        self.to.push(to);
        self.township.push(township);
    }
}

#[derive(Default)]
struct ItemCols<'a> {
    inc_household: Vec<i64>,
    inc_person: Vec<i64>,
    inc_township: Vec<&'a str>,
    inc_kind: Vec<&'static str>,
    inc_amount: Vec<i64>,
    inc_period: Vec<&'static str>,
    as_household: Vec<i64>,
    as_person: Vec<i64>,
    as_township: Vec<&'a str>,
    as_kind: Vec<&'static str>,
    as_value: Vec<i64>,
}

impl<'a> ItemCols<'a> {
    fn push(&mut self, l: &'a Ledger, r: &'a Row, hid: i64, pid: i64) {
        for (kind, period, amount) in l.incomes(r) {
            self.inc_household.push(hid);
            self.inc_person.push(pid);
            self.inc_township.push(r.township());
            self.inc_kind.push(kind.code());
            self.inc_amount.push(amount.0);
            self.inc_period.push(period.code());
        }
        for (kind, value) in l.assets(r) {
            self.as_household.push(hid);
            self.as_person.push(pid);
            self.as_township.push(r.township());
            self.as_kind.push(kind.code());
            self.as_value.push(value.0);
        }
    }

    async fn write(&self, conn: &mut PgConnection, now: &str) -> StoreResult<()> {
        if !self.inc_person.is_empty() {
            sqlx::query(
                "INSERT INTO incomes (household_id, person_id, township_code, kind, amount_fen,
                   period, note, created_at)
                 SELECT h, p, t, k, a, pe, $7, $8
                 FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[],
                   $6::text[]) AS x(h, p, t, k, a, pe)",
            )
            .bind(&self.inc_household)
            .bind(&self.inc_person)
            .bind(&self.inc_township)
            .bind(&self.inc_kind)
            .bind(&self.inc_amount)
            .bind(&self.inc_period)
            .bind(IMPORT_NOTE)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
        if !self.as_person.is_empty() {
            sqlx::query(
                "INSERT INTO assets (household_id, person_id, township_code, kind, value_fen,
                   description, created_at)
                 SELECT h, p, t, k, v, $6, $7
                 FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[])
                   AS x(h, p, t, k, v)",
            )
            .bind(&self.as_household)
            .bind(&self.as_person)
            .bind(&self.as_township)
            .bind(&self.as_kind)
            .bind(&self.as_value)
            .bind(IMPORT_NOTE)
            .bind(now)
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }
}

// ------------------------------------------------------------------ the benchmark floor

impl crate::db::Store {
    /// The benchmark floor: the same rows the import writes (households, persons, their
    /// first moves, incomes, assets), inserted by bare prepared statements stepped in a loop
    /// inside one transaction (PostgreSQL: the same array statements as the import, without
    /// its lookups). Every value is computed before the clock starts; reading and checking
    /// the file are not timed. Returns the seconds from the first insert to the commit.
    #[doc(hidden)]
    pub async fn bench_floor(&self, path: &std::path::Path) -> StoreResult<f64> {
        use crate::db::Tx;
        use crate::error::StoreError;
        let input = crate::registry_import::ImportInput::Path(path.to_path_buf());
        let (_, ledger) = crate::registry_read::read_ledger(&input, u64::MAX, false, &mut |_| {});
        let ledger = ledger.map_err(|i| StoreError::Internal(i.reason))?;
        let groups = crate::registry_read::group_rows(&ledger.rows);
        let good: Vec<u32> = (0..groups.len() as u32).collect();
        let vals: Vec<PersonVals> = ledger
            .rows
            .iter()
            .map(|r| person_vals(&ledger, r))
            .collect();
        let now = crate::timestamp(chrono::Utc::now());
        let (existing, heads) = (IdMap::new(Vec::new()), IdMap::new(Vec::new()));
        let plan = Plan {
            ledger: &ledger,
            groups: &groups,
            existing: &existing,
            heads: &heads,
            now: &now,
            actor: "bench",
        };
        let mut tx = self.begin_write().await?;
        tx.mark_large();
        let started = std::time::Instant::now();
        match &mut tx.tx {
            Tx::Sqlite(t) => {
                let mut handle = t.lock_handle().await?;
                let raw = Raw::new(&mut handle);
                let mut st = SqliteStmts::prepare(&raw)?;
                for g in 0..groups.len() {
                    let head = plan.head_of(g);
                    let hid = st.insert_household(&ledger, head, &now)?;
                    for &i in groups.get(g) {
                        let r = &ledger.rows[i as usize];
                        let pid = st.insert_person(&ledger, r, &vals[i as usize], hid, &now)?;
                        st.items(&ledger, r, hid, pid, &now)?;
                    }
                }
            }
            Tx::Pg(t) => {
                let mut counts = Counts::default();
                for range in batches(&groups, &good) {
                    write_pg(t, &plan, &good[range], &mut counts).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(started.elapsed().as_secs_f64())
    }
}
