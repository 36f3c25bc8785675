//! The PostgreSQL write phase: per batch, one `INSERT … SELECT FROM UNNEST(…)` (or
//! `UPDATE … FROM UNNEST`) per table, the columns travelling as arrays.

use std::collections::HashMap;

use minzheng_domain::registry::ledger::{Counts, Id18, Ledger, Plan, Row};
use sqlx::PgConnection;

use super::sqlite::person_vals;
use super::IMPORT_NOTE;
use crate::error::StoreResult;

/// Writes the households `good` on PostgreSQL: a handful of array statements per batch.
pub(super) async fn write(
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
            .push(head.registration_type.map(|r| r.as_str()).unwrap_or(""));
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
        self.relation.push(r.relation.as_str());
        self.counted.push(r.counted);
        self.exclusion.push(r.exclusion_reason.map(|e| e.as_str()));
        self.disability.push(r.disability_type.as_str());
        self.grade.push(r.disability_grade.map(i64::from));
        self.health.push(r.health.as_str());
        self.work.push(r.work_capacity.as_str());
        self.employment.push(r.employment.as_str());
        self.status.push(r.status.as_str());
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
            self.inc_kind.push(kind.as_str());
            self.inc_amount.push(amount.0);
            self.inc_period.push(period.as_str());
        }
        for (kind, value) in l.assets(r) {
            self.as_household.push(hid);
            self.as_person.push(pid);
            self.as_township.push(r.township());
            self.as_kind.push(kind.as_str());
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
