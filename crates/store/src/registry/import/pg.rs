//! The PostgreSQL write phase: per batch, the new rows go in with `COPY … FROM STDIN`
//! under ids taken from the tables' sequences beforehand (so households and persons are
//! linked on the client, with no round trip per row and no `RETURNING`); the changed rows
//! are copied into temporary staging tables and merged with one `UPDATE … FROM` each.

use std::collections::HashMap;

use minzheng_domain::registry::ledger::{Counts, Id18, Ledger, Plan, Row};
use sqlx::PgConnection;

use super::sqlite::person_vals;
use super::IMPORT_NOTE;
use crate::copy::CopyRows;
use crate::county_of;
use crate::error::{Result, StoreError};

/// The household columns an import writes, in COPY order after `id`.
const HOUSEHOLD_COLUMNS: &str =
    "township_code, county_code, village_code, head_id_number, head_name,
     address, registration_type, phone, bank_name, account_number, account_holder";

/// The person columns an import writes, in COPY order after `id`.
const PERSON_COLUMNS: &str =
    "id_number, household_id, township_code, county_code, name, name_pinyin,
     name_initials, id_last4, gender, birth_date, relation, counted, exclusion_reason,
     disability_type, disability_grade, health, work_capacity, employment, status, status_date";

/// Writes the households `good` on PostgreSQL.
///
/// `alone`: the import holds the registry's tables to itself (a large import that dropped
/// their indexes, see `defer_pg`), so it may take its ids as one block.
pub(super) async fn write(
    conn: &mut PgConnection,
    plan: &Plan<'_>,
    good: &[u32],
    counts: &mut Counts,
    alone: bool,
) -> Result<()> {
    let l = plan.ledger;
    let now = plan.now;
    // A distributed database keeps the city-wide ID numbers beside the persons, and changes
    // no row's county in place (ARCHITECTURE.md, "A province on a distributed PostgreSQL").
    let distributed = crate::distribute::pg_distributed(conn).await?;
    // (On a single server the county is rewritten with the township.)
    let (county_set, same_county) = if distributed {
        ("", "AND t.county_code = s.county_code")
    } else {
        ("county_code = s.county_code,", "")
    };
    // Households: which are new, which exist.
    let mut hid_of: HashMap<Id18, i64> = HashMap::with_capacity(good.len());
    let mut new_heads: Vec<&Row> = Vec::new();
    let mut changed = CopyRows::new();
    for &g in good {
        let head = plan.head_of(g as usize);
        match plan.heads.get(&head.head) {
            Some(h) => {
                household_row(&mut changed, l, head, h.id);
                changed.end();
                hid_of.insert(head.head, h.id);
                counts.households_updated += 1;
            }
            None => {
                new_heads.push(head);
                counts.households_created += 1;
            }
        }
    }
    let ids = take_ids(conn, "households", new_heads.len(), alone).await?;
    let mut new = CopyRows::new();
    for (head, id) in new_heads.iter().zip(&ids) {
        household_row(&mut new, l, head, *id);
        new.text("active").text(now).text(now);
        new.end();
        hid_of.insert(head.head, *id);
    }
    new.send(
        conn,
        &format!(
            "COPY households (id, {HOUSEHOLD_COLUMNS}, status, created_at, updated_at) FROM STDIN"
        ),
    )
    .await?;
    if !changed.is_empty() {
        stage(
            conn,
            "import_household_changes",
            "households",
            HOUSEHOLD_COLUMNS,
        )
        .await?;
        changed
            .send(
                conn,
                &format!("COPY import_household_changes (id, {HOUSEHOLD_COLUMNS}) FROM STDIN"),
            )
            .await?;
        if distributed {
            refuse_county_moves(conn, "import_household_changes", "households").await?;
        }
        sqlx::query(&format!(
            "UPDATE households t SET township_code = s.township_code, {county_set}
               village_code = s.village_code, head_name = s.head_name, address = s.address,
               registration_type = s.registration_type, phone = s.phone,
               bank_name = s.bank_name, account_number = s.account_number,
               account_holder = s.account_holder, updated_at = $1
             FROM import_household_changes s WHERE t.id = s.id {same_county}"
        ))
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }

    // Persons: the changed ones staged, the new ones counted for their ids.
    let mut changed = CopyRows::new();
    let mut moves = CopyRows::new();
    let mut replaced: Vec<i64> = Vec::new();
    let mut items = Items::new();
    let mut new_rows: Vec<(&Row, i64)> = Vec::new();
    for &g in good {
        let head = plan.head_of(g as usize);
        let hid = hid_of.get(&head.head).copied().unwrap_or_default();
        for &i in plan.groups.get(g as usize) {
            let r = &l.rows[i as usize];
            match plan.existing.get(&r.id) {
                Some(e) => {
                    person_row(&mut changed, l, r, hid, e.person_id);
                    changed.end();
                    if e.household_id != hid {
                        counts.persons_moved += 1;
                        moves
                            .int(e.person_id)
                            .int(e.household_id)
                            .int(hid)
                            .text(r.township())
                            .text(county_of(r.township()))
                            .text(now)
                            .text(plan.actor);
                        moves.end();
                    }
                    counts.persons_updated += 1;
                    replaced.push(e.person_id);
                    items.push(l, r, hid, e.person_id, now);
                }
                None => {
                    new_rows.push((r, hid));
                    counts.persons_created += 1;
                }
            }
        }
    }
    let ids = take_ids(conn, "persons", new_rows.len(), alone).await?;
    let mut new = CopyRows::new();
    for ((r, hid), pid) in new_rows.iter().zip(&ids) {
        person_row(&mut new, l, r, *hid, *pid);
        new.text(now).text(now);
        new.end();
        items.push(l, r, *hid, *pid, now);
    }
    new.send(
        conn,
        &format!("COPY persons (id, {PERSON_COLUMNS}, created_at, updated_at) FROM STDIN"),
    )
    .await?;
    if distributed && !ids.is_empty() {
        sqlx::query(
            "INSERT INTO person_ids (id_number, person_id, home_county)
             SELECT id_number, id, county_code FROM persons WHERE id = ANY($1)",
        )
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    }
    if !changed.is_empty() {
        stage(conn, "import_person_changes", "persons", PERSON_COLUMNS).await?;
        changed
            .send(
                conn,
                &format!("COPY import_person_changes (id, {PERSON_COLUMNS}) FROM STDIN"),
            )
            .await?;
        if distributed {
            refuse_county_moves(conn, "import_person_changes", "persons").await?;
        }
        sqlx::query(&format!(
            "UPDATE persons t SET household_id = s.household_id,
               township_code = s.township_code, {county_set} name = s.name, name_pinyin = s.name_pinyin,
               name_initials = s.name_initials, id_last4 = s.id_last4, gender = s.gender,
               birth_date = s.birth_date, relation = s.relation, counted = s.counted,
               exclusion_reason = s.exclusion_reason, disability_type = s.disability_type,
               disability_grade = s.disability_grade, health = s.health,
               work_capacity = s.work_capacity, employment = s.employment, status = s.status,
               status_date = s.status_date, updated_at = $1
             FROM import_person_changes s WHERE t.id = s.id {same_county}"
        ))
        .bind(now)
        .execute(&mut *conn)
        .await?;
        if distributed {
            sqlx::query(
                "UPDATE person_ids i SET home_county = s.county_code
                 FROM import_person_changes s WHERE i.id_number = s.id_number",
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    moves
        .send(
            conn,
            "COPY person_moves (person_id, from_household_id, to_household_id, township_code,
               county_code, at, actor) FROM STDIN",
        )
        .await?;
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
    items
        .incomes
        .send(
            conn,
            "COPY incomes (household_id, person_id, township_code, county_code, kind, amount_fen, period,
               note, created_at) FROM STDIN",
        )
        .await?;
    items
        .assets
        .send(
            conn,
            "COPY assets (household_id, person_id, township_code, county_code, kind, value_fen, description,
               created_at) FROM STDIN",
        )
        .await?;
    Ok(())
}

/// On a distributed database: refuses the import when a staged change (`staged`) would
/// move a row of `table` to another county, which the cluster cannot do in place.
async fn refuse_county_moves(conn: &mut PgConnection, staged: &str, table: &str) -> Result<()> {
    let moves: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM {staged} s JOIN {table} t ON t.id = s.id
         WHERE t.county_code <> s.county_code"
    ))
    .fetch_one(&mut *conn)
    .await?;
    if moves > 0 {
        let what = if table == "households" { "户" } else { "人" };
        return Err(StoreError::Conflict(format!(
            "台账中有{moves}{what}将迁往其他县（区）：本系统按县（区）分布式部署，不能在导入中跨县迁移；             请在迁入地逐一办理迁入后再导入"
        )));
    }
    Ok(())
}

/// `n` ids from `table`'s own sequence, so rows copied in with them never collide with
/// rows others insert meanwhile. `alone` (nobody else can insert into `table` until the
/// commit): one block of `n` from one `setval`; otherwise one `nextval` each.
async fn take_ids(conn: &mut PgConnection, table: &str, n: usize, alone: bool) -> Result<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if alone {
        let last: i64 = sqlx::query_scalar(
            "SELECT setval(q.s, nextval(q.s) + $2 - 1)
             FROM (SELECT pg_get_serial_sequence($1, 'id')::regclass AS s) q",
        )
        .bind(table)
        .bind(n as i64)
        .fetch_one(&mut *conn)
        .await?;
        return Ok((last - n as i64 + 1..=last).collect());
    }
    Ok(sqlx::query_scalar(
        "SELECT nextval(q.s) FROM (SELECT pg_get_serial_sequence($1, 'id')::regclass AS s) q,
           generate_series(1, $2)",
    )
    .bind(table)
    .bind(n as i64)
    .fetch_all(&mut *conn)
    .await?)
}

/// An empty temporary table `name` with `id` and `columns` of `table` (dropped at the
/// commit, or with the transaction).
async fn stage(conn: &mut PgConnection, name: &str, table: &str, columns: &str) -> Result<()> {
    sqlx::query(&format!(
        "CREATE TEMPORARY TABLE IF NOT EXISTS {name} ON COMMIT DROP AS
           SELECT id, {columns} FROM {table} WITH NO DATA"
    ))
    .execute(&mut *conn)
    .await?;
    sqlx::query(&format!("TRUNCATE {name}"))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// `id` and [`HOUSEHOLD_COLUMNS`] of the household `head` heads.
fn household_row(c: &mut CopyRows, l: &Ledger, head: &Row, id: i64) {
    let t = l.household_text(head);
    c.int(id)
        .text(head.township())
        .text(county_of(head.township()))
        .text(head.village())
        .text(head.head())
        .text(l.name(head))
        .text(t.address)
        .text(head.registration_type.map(|r| r.as_str()).unwrap_or(""))
        .text(t.phone)
        .text(t.bank)
        .text(t.account)
        .text(t.holder);
}

/// `id` and [`PERSON_COLUMNS`] of the person of row `r`.
fn person_row(c: &mut CopyRows, l: &Ledger, r: &Row, hid: i64, id: i64) {
    let v = person_vals(l, r);
    c.int(id)
        .text(r.id())
        .int(hid)
        .text(r.township())
        .text(county_of(r.township()))
        .text(l.name(r))
        .text(&v.pinyin)
        .text(&v.initials)
        .text(r.id_last4())
        .text(r.gender_label())
        .text(&v.birth)
        .text(r.relation.as_str())
        .bool(r.counted)
        .opt(r.exclusion_reason.map(|e| e.as_str()))
        .text(r.disability_type.as_str())
        .opt_int(r.disability_grade.map(i64::from))
        .text(r.health.as_str())
        .text(r.work_capacity.as_str())
        .text(r.employment.as_str())
        .text(r.status.as_str())
        .opt(v.status_date.as_deref());
}

/// The incomes and assets a batch's rows declare.
struct Items {
    incomes: CopyRows,
    assets: CopyRows,
}

impl Items {
    fn new() -> Items {
        Items {
            incomes: CopyRows::new(),
            assets: CopyRows::new(),
        }
    }

    fn push(&mut self, l: &Ledger, r: &Row, hid: i64, pid: i64, now: &str) {
        for (kind, period, amount) in l.incomes(r) {
            self.incomes
                .int(hid)
                .int(pid)
                .text(r.township())
                .text(county_of(r.township()))
                .text(kind.as_str())
                .int(amount.0)
                .text(period.as_str())
                .text(IMPORT_NOTE)
                .text(now);
            self.incomes.end();
        }
        for (kind, value) in l.assets(r) {
            self.assets
                .int(hid)
                .int(pid)
                .text(r.township())
                .text(county_of(r.township()))
                .text(kind.as_str())
                .int(value.0)
                .text(IMPORT_NOTE)
                .text(now);
            self.assets.end();
        }
    }
}
