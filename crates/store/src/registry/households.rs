//! Households, persons, incomes and assets: the `households`, `persons`, `incomes`, `assets`
//! and `person_moves` tables, one record at a time.
//!
//! A household is visible when its village lies inside the scope.

use minzheng_domain::registry::{
    pinyin_keys, AssetKind, DisabilityType, Employment, ExclusionReason, Health, HouseholdChange,
    HouseholdDetail, HouseholdFields, HouseholdPage, HouseholdQuery, HouseholdStatus, IncomeKind,
    IncomePeriod, NewAsset, NewIncome, NewPerson, PersonStatus, PersonTraces, RegistrationType,
    Relation, WorkCapacity,
};
use minzheng_domain::registry::{Asset, Household, Income, Person, SearchTerm};
use minzheng_domain::{Fen, Scope};

use super::search::{bind_all, matching_households, scope_cond};
use crate::db::{q, DbRow, Store, Tx};
use crate::error::{Result, StoreError};
use minzheng_domain::audit::AuditEntry;

/// A household with its village's name and its active members' count. (A cluster counts
/// the members on the household's own node, the county named; a single server counts them
/// from the index of (household, status) alone.)
fn hh_select(store: &Store) -> String {
    format!(
        "SELECT h.*, v.name AS village_name,
    (SELECT COUNT(*) FROM persons p WHERE p.household_id = h.id AND p.status = 'active'{})
      AS member_count
  FROM households h LEFT JOIN divisions v ON v.code = h.village_code",
        crate::distribute::same_county(store.distributed, "p", "h")
    )
}

/// A person with the household's head and village.
fn person_select(store: &Store) -> String {
    format!(
        "SELECT p.*, h.head_name AS head_name, v.name AS village_name
  FROM persons p JOIN households h ON h.id = p.household_id{}
  LEFT JOIN divisions v ON v.code = h.village_code",
        crate::distribute::same_county(store.distributed, "h", "p")
    )
}

fn household(r: &DbRow) -> Result<Household> {
    Ok(Household {
        id: r.i64("id")?,
        township_code: r.str("township_code")?,
        village_code: r.str("village_code")?,
        village_name: r.opt_str("village_name")?.unwrap_or_default(),
        head_id_number: r.str("head_id_number")?,
        head_name: r.str("head_name")?,
        address: r.str("address")?,
        registration_type: RegistrationType::from_code(&r.str("registration_type")?),
        phone: r.str("phone")?,
        bank_name: r.str("bank_name")?,
        account_number: r.str("account_number")?,
        account_holder: r.str("account_holder")?,
        status: HouseholdStatus::from_code(&r.str("status")?),
        member_count: r.i64("member_count")?,
        updated_at: r.str("updated_at")?,
    })
}

pub(super) fn person(r: &DbRow) -> Result<Person> {
    Ok(Person {
        id: r.i64("id")?,
        household_id: r.i64("household_id")?,
        id_number: r.str("id_number")?,
        name: r.str("name")?,
        gender: r.str("gender")?,
        birth_date: r.str("birth_date")?,
        relation: Relation::from_code(&r.str("relation")?),
        counted: r.bool("counted")?,
        exclusion_reason: r
            .opt_str("exclusion_reason")?
            .filter(|s| !s.is_empty())
            .map(|s| ExclusionReason::from_code(&s)),
        disability_type: DisabilityType::from_code(&r.str("disability_type")?),
        disability_grade: r.opt_i64("disability_grade")?,
        health: Health::from_code(&r.str("health")?),
        work_capacity: WorkCapacity::from_code(&r.str("work_capacity")?),
        employment: Employment::from_code(&r.str("employment")?),
        status: PersonStatus::from_code(&r.str("status")?),
        status_date: r.opt_str("status_date")?,
        head_name: r.opt_str("head_name")?.unwrap_or_default(),
        village_name: r.opt_str("village_name")?.unwrap_or_default(),
    })
}

fn income(r: &DbRow) -> Result<Income> {
    let month = |c: &str| -> Result<_> { Ok(r.opt_str(c)?.and_then(|s| s.parse().ok())) };
    Ok(Income {
        id: r.i64("id")?,
        household_id: r.i64("household_id")?,
        person_id: r.opt_i64("person_id")?,
        person_name: r.opt_str("person_name")?.unwrap_or_default(),
        kind: IncomeKind::from_code(&r.str("kind")?),
        amount_fen: Fen(r.i64("amount_fen")?),
        period: IncomePeriod::from_code(&r.str("period")?),
        start_month: month("start_month")?,
        end_month: month("end_month")?,
        note: r.str("note")?,
    })
}

fn asset(r: &DbRow) -> Result<Asset> {
    Ok(Asset {
        id: r.i64("id")?,
        household_id: r.i64("household_id")?,
        person_id: r.opt_i64("person_id")?,
        person_name: r.opt_str("person_name")?.unwrap_or_default(),
        kind: AssetKind::from_code(&r.str("kind")?),
        value_fen: Fen(r.i64("value_fen")?),
        description: r.str("description")?,
    })
}

// ---------------------------------------------------------------- reads

/// Households in the scope matching the query: the page and the total. Without a search
/// term they are listed by id and counted exactly; with one, in the order of their first
/// matching member (see `search`) and counted only to the end of the page asked for:
/// counting every household where someone's name contains a common surname would read a
/// large part of the registry on every search (`total_capped` says there are more).
pub async fn list_households(
    store: &Store,
    scope: &Scope,
    f: &HouseholdQuery,
) -> Result<HouseholdPage> {
    if let Some(term) = &f.term {
        return search_households(store, scope, f, term).await;
    }
    let (cond, lo, hi) = scope_cond(scope, 1);
    let mut args = vec![lo, hi];
    let mut where_sql = format!(" WHERE {cond}");
    if let Some(v) = &f.village {
        args.push(v.clone());
        args.push(format!("{v}:"));
        where_sql.push_str(&format!(
            " AND h.village_code >= ${} AND h.village_code < ${}",
            args.len() - 1,
            args.len()
        ));
    }
    if let Some(rt) = f.registration_type {
        args.push(rt.as_str().to_string());
        where_sql.push_str(&format!(" AND h.registration_type = ${}", args.len()));
    }
    if let Some(st) = f.status {
        args.push(st.as_str().to_string());
        where_sql.push_str(&format!(" AND h.status = ${}", args.len()));
    }
    let total = store
        .fetch_one(bind_all(
            q(format!("SELECT COUNT(*) AS n FROM households h{where_sql}")),
            &args,
        ))
        .await?
        .i64("n")?;
    let mut list_q = bind_all(
        q(format!(
            "{}{where_sql} ORDER BY h.id LIMIT ${} OFFSET ${}",
            hh_select(store),
            args.len() + 1,
            args.len() + 2
        )),
        &args,
    );
    list_q.push(f.limit);
    list_q.push(f.offset);
    let rows = store.fetch_all(list_q).await?;
    let items = rows.iter().map(household).collect::<Result<_>>()?;
    Ok(HouseholdPage {
        items,
        total,
        total_capped: false,
    })
}

/// The household list with a search term (see [`list_households`]).
async fn search_households(
    store: &Store,
    scope: &Scope,
    f: &HouseholdQuery,
    term: &SearchTerm,
) -> Result<HouseholdPage> {
    let cap = f.offset.saturating_add(f.limit);
    let found = matching_households(store, scope, f, term, cap as usize + 1).await?;
    let total_capped = found.len() as i64 > cap;
    let total = (found.len() as i64).min(cap);
    let page: Vec<i64> = found
        .into_iter()
        .skip(f.offset as usize)
        .take(f.limit as usize)
        .collect();
    if page.is_empty() {
        return Ok(HouseholdPage {
            items: Vec::new(),
            total,
            total_capped,
        });
    }
    let (cond, lo, hi) = scope_cond(scope, 1);
    let marks: Vec<String> = (0..page.len()).map(|k| format!("${}", k + 3)).collect();
    let mut query = q(format!(
        "{} WHERE {cond} AND h.id IN ({})",
        hh_select(store),
        marks.join(", ")
    ))
    .bind(lo)
    .bind(hi);
    for id in &page {
        query.push(*id);
    }
    let mut by_id = std::collections::HashMap::new();
    for r in store.fetch_all(query).await? {
        let h = household(&r)?;
        by_id.insert(h.id, h);
    }
    let items = page.iter().filter_map(|id| by_id.remove(id)).collect();
    Ok(HouseholdPage {
        items,
        total,
        total_capped,
    })
}

/// One household, if visible.
pub async fn get_household_row(store: &Store, scope: &Scope, id: i64) -> Result<Household> {
    let row = store
        .fetch_optional(q(format!("{} WHERE h.id = $1", hh_select(store))).bind(id))
        .await?
        .ok_or(StoreError::NotFound("该户"))?;
    let h = household(&row)?;
    if !scope.contains_str(&h.village_code) {
        return Err(StoreError::NotFound("该户"));
    }
    Ok(h)
}

/// One household with members, incomes and assets, if visible.
pub async fn get_household(store: &Store, scope: &Scope, id: i64) -> Result<HouseholdDetail> {
    let household = get_household_row(store, scope, id).await?;
    let members = store
        .fetch_all(
            q(format!(
                "{} WHERE p.household_id = $1
                 ORDER BY CASE p.relation WHEN 'head' THEN 0 ELSE 1 END, p.birth_date, p.id",
                person_select(store)
            ))
            .bind(id),
        )
        .await?
        .iter()
        .map(person)
        .collect::<Result<Vec<_>>>()?;
    let incomes = store
        .fetch_all(
            q(format!(
                "SELECT i.*, p.name AS person_name FROM incomes i
               LEFT JOIN persons p ON p.id = i.person_id{}
               WHERE i.household_id = $1 ORDER BY i.id",
                crate::distribute::same_county(store.distributed, "p", "i")
            ))
            .bind(id),
        )
        .await?
        .iter()
        .map(income)
        .collect::<Result<Vec<_>>>()?;
    let assets = store
        .fetch_all(
            q(format!(
                "SELECT a.*, p.name AS person_name FROM assets a
               LEFT JOIN persons p ON p.id = a.person_id{}
               WHERE a.household_id = $1 ORDER BY a.id",
                crate::distribute::same_county(store.distributed, "p", "a")
            ))
            .bind(id),
        )
        .await?
        .iter()
        .map(asset)
        .collect::<Result<Vec<_>>>()?;
    Ok(HouseholdDetail {
        household,
        members,
        incomes,
        assets,
    })
}

/// The change history of a visible household (its audit records, newest first).
pub async fn household_history(store: &Store, scope: &Scope, id: i64) -> Result<Vec<AuditEntry>> {
    get_household_row(store, scope, id).await?;
    store
        .fetch_all(
            q(
                "SELECT * FROM audit_log WHERE entity_type = 'household' AND entity_id = $1
               ORDER BY seq DESC LIMIT 200",
            )
            .bind(id.to_string()),
        )
        .await?
        .iter()
        .map(crate::audit::entry)
        .collect()
}

/// The household a person belongs to, if visible.
pub async fn person_household(store: &Store, scope: &Scope, person_id: i64) -> Result<i64> {
    let hid = store
        .fetch_optional(q("SELECT household_id FROM persons WHERE id = $1").bind(person_id))
        .await?
        .ok_or(StoreError::NotFound("该成员"))?
        .i64("household_id")?;
    match get_household_row(store, scope, hid).await {
        Ok(_) => Ok(hid),
        Err(StoreError::NotFound(_)) => Err(StoreError::NotFound("该成员")),
        Err(e) => Err(e),
    }
}

/// Who holds an ID number, anywhere: (person, household, registered name).
pub async fn registered(store: &Store, id_number: &str) -> Result<Option<(i64, i64, String)>> {
    store
        .fetch_optional(
            q("SELECT id, household_id, name FROM persons WHERE id_number = $1").bind(id_number),
        )
        .await?
        .map(|r| Ok((r.i64("id")?, r.i64("household_id")?, r.str("name")?)))
        .transpose()
}

/// Whether a division with this code exists.
pub async fn division_exists(store: &Store, code: &str) -> Result<bool> {
    Ok(store
        .fetch_optional(q("SELECT code FROM divisions WHERE code = $1").bind(code))
        .await?
        .is_some())
}

/// Active households and active persons in the scope.
pub async fn counts(store: &Store, scope: &Scope) -> Result<(i64, i64)> {
    let (cond, lo, hi) = scope_cond(scope, 1);
    let h = store
        .fetch_one(
            q(format!(
                "SELECT COUNT(*) AS n FROM households h WHERE {cond} AND h.status = 'active'"
            ))
            .bind(lo.as_str())
            .bind(hi.as_str()),
        )
        .await?
        .i64("n")?;
    let p = store
        .fetch_one(
            q(format!(
                "SELECT COUNT(*) AS n FROM persons p JOIN households h ON h.id = p.household_id{}
                 WHERE {cond} AND p.status = 'active'",
                crate::distribute::same_county(store.distributed, "h", "p")
            ))
            .bind(lo)
            .bind(hi),
        )
        .await?
        .i64("n")?;
    Ok((h, p))
}

// ---------------------------------------------------------------- writes

/// Registers a household headed by `head` (whose person row [`insert_person`] adds).
pub async fn insert_household(
    tx: &mut Tx,
    h: &HouseholdFields,
    head: &NewPerson,
    now: &str,
) -> Result<i64> {
    tx.fetch_one(
        q(
            "INSERT INTO households (township_code, county_code, village_code, head_id_number, head_name,
            address, registration_type, phone, bank_name, account_number, account_holder,
            status, created_at, updated_at)
           VALUES ($1, substr($1, 1, 6),$2,$3,$4,$5,$6,$7,$8,$9,$10,'active',$11,$11) RETURNING id",
        )
        .bind(h.township_code())
        .bind(h.village_code.as_str())
        .bind(head.id.as_str())
        .bind(head.name.as_str())
        .bind(h.address.as_str())
        .bind(h.registration_type.as_str())
        .bind(h.phone.as_str())
        .bind(h.bank_name.as_str())
        .bind(h.account_number.as_str())
        .bind(h.account_holder.as_str())
        .bind(now),
    )
    .await
    .map_err(|e| {
        // The one unique key of a household beside the id is its head's ID number.
        if e.is_unique_violation() {
            crate::distribute::taken(head.id.as_str())
        } else {
            e
        }
    })?
    .i64("id")
}

/// A distributed database keeps a household's rows on its county's node; a move of the
/// whole household to another county is not made there (its members move one by one).
pub const MOVE_HOUSEHOLD_ACROSS_COUNTIES: &str =
    "本系统按县（区）分布式部署，整户不能直接迁往其他县（区）：请在迁入地登记新户，再将成员逐一迁入";

/// On a distributed database, the condition that keeps an update on the row's own county
/// (`township` the statement's parameter of the new township): a cluster changes no row's
/// county in place, and refuses an update that sets the column unless the row is pinned to
/// that county. Empty on a single server.
fn pinned_to_county(distributed: bool, township: &str) -> String {
    if distributed {
        format!(" AND county_code = substr({township}, 1, 6)")
    } else {
        String::new()
    }
}

/// Writes a household's own fields and status; a household moved to another township takes
/// its persons, incomes and assets along.
pub async fn update_household(
    tx: &mut Tx,
    id: i64,
    before_township: &str,
    c: &HouseholdChange,
) -> Result<()> {
    let h = &c.household;
    let township = h.township_code();
    let distributed = crate::distribute::keeps_person_ids(tx).await?;
    if distributed && crate::county_of(township) != crate::county_of(before_township) {
        return Err(StoreError::Conflict(MOVE_HOUSEHOLD_ACROSS_COUNTIES.into()));
    }
    tx.execute(
        q(format!(
            "UPDATE households SET township_code = $1, county_code = substr($1, 1, 6),
             village_code = $2, registration_type = $3,
             address = $4, phone = $5, bank_name = $6, account_number = $7, account_holder = $8,
             status = $9, updated_at = $10 WHERE id = $11{}",
            pinned_to_county(distributed, "$1")
        ))
        .bind(township)
        .bind(h.village_code.as_str())
        .bind(h.registration_type.as_str())
        .bind(h.address.as_str())
        .bind(h.phone.as_str())
        .bind(h.bank_name.as_str())
        .bind(h.account_number.as_str())
        .bind(h.account_holder.as_str())
        .bind(c.status.as_str())
        .bind(crate::timestamp(chrono::Utc::now()))
        .bind(id),
    )
    .await?;
    if township != before_township {
        for table in ["persons", "incomes", "assets"] {
            tx.execute(
                q(format!(
                    "UPDATE {table} SET township_code = $1, county_code = substr($1, 1, 6)
                     WHERE household_id = $2{}",
                    pinned_to_county(distributed, "$1")
                ))
                .bind(township)
                .bind(id),
            )
            .await?;
        }
    }
    Ok(())
}

/// Makes `head` the household's head of record.
pub async fn set_head(tx: &mut Tx, household_id: i64, head: &NewPerson, now: &str) -> Result<()> {
    tx.execute(
        q("UPDATE households SET head_id_number = $1, head_name = $2, updated_at = $3 WHERE id = $4")
            .bind(head.id.as_str())
            .bind(head.name.as_str())
            .bind(now)
            .bind(household_id),
    )
    .await?;
    Ok(())
}

/// Adds a person to a household of `township`.
pub async fn insert_person(
    tx: &mut Tx,
    household_id: i64,
    township: &str,
    p: &NewPerson,
    now: &str,
) -> Result<i64> {
    let id = insert_person_row(tx, None, household_id, township, p, now, now).await?;
    if crate::distribute::keeps_person_ids(tx).await? {
        crate::distribute::claim_id_number(tx, p.id.as_str(), id, crate::county_of(township))
            .await?;
    }
    Ok(id)
}

/// Writes a person's row: a new id, or `id` (a person moved to another county of a
/// distributed database keeps theirs); returns the id.
async fn insert_person_row(
    tx: &mut Tx,
    id: Option<i64>,
    household_id: i64,
    township: &str,
    p: &NewPerson,
    created_at: &str,
    now: &str,
) -> Result<i64> {
    let (py, ini) = pinyin_keys(&p.name);
    let (id_column, id_value) = if id.is_some() {
        ("id, ", "$22, ")
    } else {
        ("", "")
    };
    let mut stmt = q(format!(
        "INSERT INTO persons ({id_column}id_number, household_id, township_code, county_code, name, name_pinyin,
        name_initials, id_last4, gender, birth_date, relation, counted, exclusion_reason,
        disability_type, disability_grade, health, work_capacity, employment, status,
        status_date, created_at, updated_at)
       VALUES ({id_value}$1,$2,$3, substr($3, 1, 6),$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$21,$20)
       RETURNING id",
    ))
    .bind(p.id.as_str())
            .bind(household_id)
            .bind(township)
            .bind(p.name.as_str())
            .bind(py)
            .bind(ini)
            .bind(&p.id.as_str()[14..])
            .bind(p.id.gender().label())
            .bind(p.id.birth_date().to_string())
            .bind(p.relation.as_str())
            .bind(p.counted)
            .bind(p.exclusion_reason.map(|e| e.as_str().to_string()))
            .bind(p.disability_type.as_str())
            .bind(p.disability_grade)
            .bind(p.health.as_str())
            .bind(p.work_capacity.as_str())
            .bind(p.employment.as_str())
            .bind(p.status.as_str())
            .bind(p.status_date.map(|d| d.to_string()))
    .bind(now)
    .bind(created_at);
    if let Some(id) = id {
        stmt = stmt.bind(id);
    }
    match tx.fetch_one(stmt).await {
        Ok(row) => row.i64("id"),
        // The one unique key of a person beside the id is the ID number.
        Err(e) if e.is_unique_violation() => Err(crate::distribute::taken(p.id.as_str())),
        Err(e) => Err(e),
    }
}

/// Rewrites a person (also moving them to `household_id`).
pub async fn update_person(
    tx: &mut Tx,
    person_id: i64,
    household_id: i64,
    township: &str,
    p: &NewPerson,
    now: &str,
) -> Result<()> {
    let (py, ini) = pinyin_keys(&p.name);
    let distributed = crate::distribute::keeps_person_ids(tx).await?;
    if distributed {
        // A distributed database cannot change a row's county in place: a move to another
        // county's household takes the row out of the old county and writes it, with its
        // id and creation time, into the new one.
        let Some(row) = tx
            .fetch_optional(
                q("SELECT county_code, created_at FROM persons WHERE id = $1").bind(person_id),
            )
            .await?
        else {
            // No such person: nothing to rewrite, and no ID number to claim for them.
            return Ok(());
        };
        let county = row.str("county_code")?;
        if county != crate::county_of(township) {
            let created_at = row.str("created_at")?;
            tx.execute(
                q("DELETE FROM persons WHERE id = $1 AND county_code = $2")
                    .bind(person_id)
                    .bind(&county),
            )
            .await?;
            insert_person_row(
                tx,
                Some(person_id),
                household_id,
                township,
                p,
                &created_at,
                now,
            )
            .await?;
            return keep_id_number(tx, person_id, p, township).await;
        }
    }
    tx.execute(
        q(format!(
            "UPDATE persons SET id_number = $1, household_id = $2, township_code = $3,
            county_code = substr($3, 1, 6), name = $4,
            name_pinyin = $5, name_initials = $6, id_last4 = $7, gender = $8, birth_date = $9,
            relation = $10, counted = $11, exclusion_reason = $12, disability_type = $13,
            disability_grade = $14, health = $15, work_capacity = $16, employment = $17,
            status = $18, status_date = $19, updated_at = $20 WHERE id = $21{}",
            pinned_to_county(distributed, "$3")
        ))
        .bind(p.id.as_str())
        .bind(household_id)
        .bind(township)
        .bind(p.name.as_str())
        .bind(py)
        .bind(ini)
        .bind(&p.id.as_str()[14..])
        .bind(p.id.gender().label())
        .bind(p.id.birth_date().to_string())
        .bind(p.relation.as_str())
        .bind(p.counted)
        .bind(p.exclusion_reason.map(|e| e.as_str().to_string()))
        .bind(p.disability_type.as_str())
        .bind(p.disability_grade)
        .bind(p.health.as_str())
        .bind(p.work_capacity.as_str())
        .bind(p.employment.as_str())
        .bind(p.status.as_str())
        .bind(p.status_date.map(|d| d.to_string()))
        .bind(now)
        .bind(person_id),
    )
    .await?;
    if distributed {
        keep_id_number(tx, person_id, p, township).await?;
    }
    Ok(())
}

/// A distributed database: `person_ids` holds the person's ID number (a corrected number
/// replaces the old one) with their county.
async fn keep_id_number(tx: &mut Tx, person_id: i64, p: &NewPerson, township: &str) -> Result<()> {
    crate::distribute::release_id_numbers(tx, person_id, Some(p.id.as_str())).await?;
    crate::distribute::claim_id_number(tx, p.id.as_str(), person_id, crate::county_of(township))
        .await
}

/// A person's move between households (`person_moves`), by `actor` (a user name).
pub async fn record_move(
    tx: &mut Tx,
    person_id: i64,
    from: i64,
    to: i64,
    township: &str,
    now: &str,
    actor: &str,
) -> Result<()> {
    tx.execute(
        q(
            "INSERT INTO person_moves (person_id, from_household_id, to_household_id,
            township_code, county_code, at, actor) VALUES ($1,$2,$3,$4, substr($4, 1, 6),$5,$6)",
        )
        .bind(person_id)
        .bind(from)
        .bind(to)
        .bind(township)
        .bind(now)
        .bind(actor),
    )
    .await?;
    Ok(())
}

/// Adds an income item to a household of `township`.
pub async fn insert_income(
    tx: &mut Tx,
    household_id: i64,
    township: &str,
    i: &NewIncome,
) -> Result<()> {
    tx.execute(
        q(
            "INSERT INTO incomes (household_id, person_id, township_code, county_code, kind, amount_fen, period,
            start_month, end_month, note, created_at) VALUES ($1,$2,$3, substr($3, 1, 6),$4,$5,$6,$7,$8,$9,$10)",
        )
        .bind(household_id)
        .bind(i.person_id)
        .bind(township)
        .bind(i.kind.as_str())
        .bind(i.amount.0)
        .bind(i.period.as_str())
        .bind(i.start_month.map(|m| m.to_string()))
        .bind(i.end_month.map(|m| m.to_string()))
        .bind(i.note.as_str())
        .bind(crate::timestamp(chrono::Utc::now())),
    )
    .await?;
    Ok(())
}

/// Adds an asset to a household of `township`.
pub async fn insert_asset(
    tx: &mut Tx,
    household_id: i64,
    township: &str,
    a: &NewAsset,
) -> Result<()> {
    tx.execute(
        q(
            "INSERT INTO assets (household_id, person_id, township_code, county_code, kind, value_fen,
            description, created_at) VALUES ($1,$2,$3, substr($3, 1, 6),$4,$5,$6,$7)",
        )
        .bind(household_id)
        .bind(a.person_id)
        .bind(township)
        .bind(a.kind.as_str())
        .bind(a.value.0)
        .bind(a.description.as_str())
        .bind(crate::timestamp(chrono::Utc::now())),
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- corrections

/// `household_id IN (households inside the scope)`, with the scope's bounds as `$lo`, `$hi`.
fn in_scope_households(lo: usize) -> String {
    format!(
        "household_id IN (SELECT id FROM households WHERE village_code >= ${lo} AND village_code < ${})",
        lo + 1
    )
}

/// What else the registry, the case files and the money hold about a person (counted
/// before a removal): cases, enrolments, payroll lines, funeral records and recoveries
/// naming them, their moves, and the incomes and assets registered to them.
pub async fn person_traces(tx: &mut Tx, person_id: i64, id_number: &str) -> Result<PersonTraces> {
    let r = tx
        .fetch_one(
            q("SELECT
                (SELECT COUNT(*) FROM cases WHERE person_id = $1)
              + (SELECT COUNT(*) FROM enrolments WHERE person_id = $1)
              + (SELECT COUNT(*) FROM funeral_records WHERE person_id = $1 OR id_number = $2)
              + (SELECT COUNT(*) FROM payroll_lines WHERE beneficiary_id_number = $2)
              + (SELECT COUNT(*) FROM recoveries WHERE beneficiary_id_number = $2) AS history,
                (SELECT COUNT(*) FROM person_moves WHERE person_id = $1) AS moves,
                (SELECT COUNT(*) FROM incomes WHERE person_id = $1)
              + (SELECT COUNT(*) FROM assets WHERE person_id = $1) AS items")
            .bind(person_id)
            .bind(id_number),
        )
        .await?;
    Ok(PersonTraces {
        history: r.i64("history")?,
        moves: r.i64("moves")?,
        items: r.i64("items")?,
    })
}

/// Rewrites the circumstances of a person of a household inside `scope` (health, work
/// capacity, employment, disability, counted, status); the name, ID number and relation
/// stay. Not found outside the scope.
pub async fn correct_person(
    tx: &mut Tx,
    scope: &Scope,
    person_id: i64,
    p: &NewPerson,
    now: &str,
) -> Result<()> {
    let (lo, hi) = scope.bounds();
    let n = tx
        .execute(
            q(format!(
                "UPDATE persons SET counted = $1, exclusion_reason = $2, disability_type = $3,
                 disability_grade = $4, health = $5, work_capacity = $6, employment = $7,
                 status = $8, status_date = $9, updated_at = $10
                 WHERE id = $11 AND {}",
                in_scope_households(12)
            ))
            .bind(p.counted)
            .bind(p.exclusion_reason.map(|e| e.as_str().to_string()))
            .bind(p.disability_type.as_str())
            .bind(p.disability_grade)
            .bind(p.health.as_str())
            .bind(p.work_capacity.as_str())
            .bind(p.employment.as_str())
            .bind(p.status.as_str())
            .bind(p.status_date.map(|d| d.to_string()))
            .bind(now)
            .bind(person_id)
            .bind(lo)
            .bind(hi),
        )
        .await?;
    found(n, "该成员")
}

/// Removes a person of a household inside `scope` (the caller checked [`person_traces`]).
pub async fn delete_person(tx: &mut Tx, scope: &Scope, person_id: i64) -> Result<()> {
    let (lo, hi) = scope.bounds();
    let n = tx
        .execute(
            q(format!(
                "DELETE FROM persons WHERE id = $1 AND relation <> 'head' AND {}",
                in_scope_households(2)
            ))
            .bind(person_id)
            .bind(lo)
            .bind(hi),
        )
        .await?;
    if n == 1 && crate::distribute::keeps_person_ids(tx).await? {
        crate::distribute::release_id_numbers(tx, person_id, None).await?;
    }
    found(n, "该成员")
}

/// Rewrites an income item of a household inside `scope`.
pub async fn update_income(
    tx: &mut Tx,
    scope: &Scope,
    income_id: i64,
    i: &NewIncome,
) -> Result<()> {
    let (lo, hi) = scope.bounds();
    let n = tx
        .execute(
            q(format!(
                "UPDATE incomes SET person_id = $1, kind = $2, amount_fen = $3, period = $4,
                 start_month = $5, end_month = $6, note = $7 WHERE id = $8 AND {}",
                in_scope_households(9)
            ))
            .bind(i.person_id)
            .bind(i.kind.as_str())
            .bind(i.amount.0)
            .bind(i.period.as_str())
            .bind(i.start_month.map(|m| m.to_string()))
            .bind(i.end_month.map(|m| m.to_string()))
            .bind(i.note.as_str())
            .bind(income_id)
            .bind(lo)
            .bind(hi),
        )
        .await?;
    found(n, "该收入")
}

/// Removes an income item of a household inside `scope`.
pub async fn delete_income(tx: &mut Tx, scope: &Scope, income_id: i64) -> Result<()> {
    delete_household_item(tx, scope, "incomes", income_id, "该收入").await
}

/// Rewrites an asset of a household inside `scope`.
pub async fn update_asset(tx: &mut Tx, scope: &Scope, asset_id: i64, a: &NewAsset) -> Result<()> {
    let (lo, hi) = scope.bounds();
    let n = tx
        .execute(
            q(format!(
                "UPDATE assets SET person_id = $1, kind = $2, value_fen = $3, description = $4
                 WHERE id = $5 AND {}",
                in_scope_households(6)
            ))
            .bind(a.person_id)
            .bind(a.kind.as_str())
            .bind(a.value.0)
            .bind(a.description.as_str())
            .bind(asset_id)
            .bind(lo)
            .bind(hi),
        )
        .await?;
    found(n, "该财产")
}

/// Removes an asset of a household inside `scope`.
pub async fn delete_asset(tx: &mut Tx, scope: &Scope, asset_id: i64) -> Result<()> {
    delete_household_item(tx, scope, "assets", asset_id, "该财产").await
}

/// Deletes row `id` of `table` (incomes, assets: rows with a `household_id`) if its
/// household lies inside `scope`.
async fn delete_household_item(
    tx: &mut Tx,
    scope: &Scope,
    table: &'static str,
    id: i64,
    what: &'static str,
) -> Result<()> {
    let (lo, hi) = scope.bounds();
    let n = tx
        .execute(
            q(format!(
                "DELETE FROM {table} WHERE id = $1 AND {}",
                in_scope_households(2)
            ))
            .bind(id)
            .bind(lo)
            .bind(hi),
        )
        .await?;
    found(n, what)
}

/// One row changed, or the record is not there for this caller.
fn found(n: u64, what: &'static str) -> Result<()> {
    if n == 0 {
        Err(StoreError::NotFound(what))
    } else {
        Ok(())
    }
}
