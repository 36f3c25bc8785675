//! Township civil-affairs offices (民政办公室): the `offices` table, one row per
//! township-level division.

use minzheng_domain::offices::{office_visible, visible_office_range, Office, OfficeFilter};
use minzheng_domain::Scope;

use crate::db::{q, Conn, DbRow, Store, Tx};
use crate::divisions::escape_like;
use crate::error::{Result, StoreError};

fn office(r: &DbRow) -> Result<Office> {
    Ok(Office {
        township_code: r.str("township_code")?,
        name: r.str("name")?,
        second_name: r.str("second_name")?,
        township_name: r.str("township_name")?,
        county_code: r.opt_str("county_code")?.unwrap_or_default(),
        county_name: r.opt_str("county_name")?.unwrap_or_default(),
        phone: r.str("phone")?,
        address: r.str("address")?,
        village_count: r.i64("village_count")?,
        updated_at: r.str("updated_at")?,
    })
}

const SELECT: &str =
    "SELECT o.*, t.name AS township_name, c.code AS county_code, c.name AS county_name,
       (SELECT COUNT(*) FROM divisions v WHERE v.parent_code = o.township_code) AS village_count
  FROM offices o
  JOIN divisions t ON t.code = o.township_code
  LEFT JOIN divisions c ON c.code = t.parent_code";

/// Offices the scope sees (for a village user, the office of their township), with the
/// total before paging. `within` must already be checked to be digits.
pub async fn list(
    store: &Store,
    scope: &Scope,
    within: Option<&str>,
    f: &OfficeFilter,
) -> Result<(Vec<Office>, i64)> {
    let (lo, hi) = visible_office_range(scope);
    let mut where_sql = String::from(" WHERE o.township_code >= $1 AND o.township_code < $2");
    let mut args: Vec<String> = vec![lo, hi];
    if let Some(w) = within {
        args.push(w.to_string());
        args.push(format!("{w}:"));
        where_sql.push_str(&format!(
            " AND o.township_code >= ${} AND o.township_code < ${}",
            args.len() - 1,
            args.len()
        ));
    }
    if let Some(term) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        args.push(format!("%{}%", escape_like(term)));
        where_sql.push_str(&format!(" AND o.name LIKE ${} ESCAPE '\\'", args.len()));
    }
    let mut count_q = q(format!("SELECT COUNT(*) AS n FROM offices o{where_sql}"));
    for a in &args {
        count_q.push(a.as_str());
    }
    let total = store.fetch_one(count_q).await?.i64("n")?;
    let mut list_q = q(format!(
        "{SELECT}{where_sql} ORDER BY o.township_code LIMIT ${} OFFSET ${}",
        args.len() + 1,
        args.len() + 2
    ));
    for a in &args {
        list_q.push(a.as_str());
    }
    list_q.push(f.limit.unwrap_or(50).clamp(1, 500));
    list_q.push(f.offset.unwrap_or(0).max(0));
    let rows = store.fetch_all(list_q).await?;
    let list = rows.iter().map(office).collect::<Result<_>>()?;
    Ok((list, total))
}

/// One office, if the scope sees it.
pub async fn get<'c>(
    db: impl Into<Conn<'c>>,
    scope: &Scope,
    township_code: &str,
) -> Result<Office> {
    if !office_visible(scope, township_code) {
        return Err(StoreError::NotFound("该民政办公室"));
    }
    let row = db
        .into()
        .fetch_optional(q(format!("{SELECT} WHERE o.township_code = $1")).bind(township_code))
        .await?
        .ok_or(StoreError::NotFound("该民政办公室"))?;
    office(&row)
}

/// Writes an office's contact details.
pub async fn set_contact(
    tx: &mut Tx,
    township_code: &str,
    phone: &str,
    address: &str,
) -> Result<()> {
    tx.execute(
        q("UPDATE offices SET phone = $1, address = $2, updated_at = $3 WHERE township_code = $4")
            .bind(phone)
            .bind(address)
            .bind(crate::timestamp(chrono::Utc::now()))
            .bind(township_code),
    )
    .await?;
    Ok(())
}
