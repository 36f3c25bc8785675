//! 参数表 storage: dated program parameters (city, optional county, urban/rural).
//!
//! The domain's [`ParamSet`] does the resolving and checking; this module loads the rows
//! into one and writes new rows after the set accepted them. Values are never edited in
//! place: a new figure is a new row with its own effective date, so cases decided earlier
//! keep theirs.

use chrono::NaiveDate;
use minzheng_domain::params::{ParamEntry, ParamKey, ParamName, ParamRow, Scope as ParamScope};
use minzheng_domain::{Actor, DivisionCode, ParamSet, ParamValue, Program, UrbanRural};

use crate::db::{q, DbRow, Store, Tx};
use crate::error::{Result, StoreError};

fn entry(r: &DbRow) -> Result<ParamEntry> {
    let bad = |what: &str| {
        StoreError::Internal(format!("参数表第{}行{what}无效", r.i64("id").unwrap_or(0)))
    };
    let program: Program = r.str("program")?.parse().map_err(|_| bad("项目"))?;
    let name = ParamName::parse_code(&r.str("name")?).ok_or_else(|| bad("参数名"))?;
    let city = DivisionCode::parse_native(&r.str("city_code")?).map_err(|_| bad("城市代码"))?;
    let county = match r.str("county_code")?.as_str() {
        "" => None,
        c => Some(DivisionCode::parse_native(c).map_err(|_| bad("区县代码"))?),
    };
    let urban_rural = match r.str("urban_rural")?.as_str() {
        "" => None,
        s => Some(s.parse::<UrbanRural>().map_err(|_| bad("城乡"))?),
    };
    let effective_from = NaiveDate::parse_from_str(&r.str("effective_from")?, "%Y-%m-%d")
        .map_err(|_| bad("生效日期"))?;
    let value: ParamValue = serde_json::from_str(&r.str("value_json")?).map_err(|_| bad("取值"))?;
    Ok(ParamEntry {
        key: ParamKey::new(program, name),
        scope: ParamScope {
            city,
            county,
            urban_rural,
        },
        effective_from,
        value,
        source: r.str("source")?,
    })
}

/// All parameters as a resolvable set.
pub async fn load(store: &Store) -> Result<ParamSet> {
    let rows = store
        .fetch_all(q("SELECT * FROM program_params ORDER BY id"))
        .await?;
    let mut set = ParamSet::new();
    for r in &rows {
        let e = entry(r)?;
        set.insert(e)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
    }
    Ok(set)
}

/// The parameter rows (of one program, when given), newest first within each key.
pub async fn list(store: &Store, program: Option<&str>) -> Result<Vec<ParamRow>> {
    let mut sql = "SELECT * FROM program_params".to_string();
    let mut qq = q("");
    if let Some(p) = program.filter(|p| !p.is_empty()) {
        sql.push_str(" WHERE program = $1");
        qq.push(p);
    }
    sql.push_str(
        " ORDER BY program, name, city_code, county_code, urban_rural, effective_from DESC",
    );
    qq.sql = sql;
    let rows = store.fetch_all(qq).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let e = entry(r)?;
        out.push(ParamRow {
            id: r.i64("id")?,
            program: e.key.program,
            name: e.key.name,
            region: e.region().as_str().to_string(),
            urban_rural: e.scope.urban_rural,
            effective_from: e.effective_from,
            value: e.value,
            source: e.source,
            created_by: r.str("created_by")?,
            created_at: r.str("created_at")?,
        });
    }
    Ok(out)
}

/// Adds a dated value; returns its row id.
pub async fn insert(tx: &mut Tx, actor: &Actor, e: &ParamEntry) -> Result<i64> {
    let row = tx
        .fetch_one(
            q(
                "INSERT INTO program_params (program, name, city_code, county_code, urban_rural,
                 effective_from, value_json, source, created_by, created_at)
               VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id",
            )
            .bind(e.key.program.as_str())
            .bind(e.key.name.code())
            .bind(e.scope.city.as_str())
            .bind(e.scope.county.as_ref().map(|c| c.as_str()).unwrap_or(""))
            .bind(e.scope.urban_rural.map(|u| u.as_str()).unwrap_or(""))
            .bind(e.effective_from.to_string())
            .bind(serde_json::to_string(&e.value).unwrap_or_default())
            .bind(e.source.as_str())
            .bind(actor.username.as_str())
            .bind(crate::timestamp(chrono::Utc::now())),
        )
        .await?;
    row.i64("id")
}

/// Writes a whole set, leaving rows already present alone; returns how many were added.
pub async fn insert_missing(tx: &mut Tx, actor: &Actor, set: &ParamSet) -> Result<usize> {
    let now = crate::timestamp(chrono::Utc::now());
    let mut n = 0;
    for e in set.entries() {
        // The same "insert unless present" in each dialect.
        let sql = if tx.is_postgres() {
            "INSERT INTO program_params (program, name, city_code, county_code, urban_rural,
               effective_from, value_json, source, created_by, created_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT DO NOTHING"
        } else {
            "INSERT OR IGNORE INTO program_params (program, name, city_code, county_code, urban_rural,
               effective_from, value_json, source, created_by, created_at)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)"
        };
        n += tx
            .execute(
                q(sql)
                    .bind(e.key.program.as_str())
                    .bind(e.key.name.code())
                    .bind(e.scope.city.as_str())
                    .bind(e.scope.county.as_ref().map(|c| c.as_str()).unwrap_or(""))
                    .bind(e.scope.urban_rural.map(|u| u.as_str()).unwrap_or(""))
                    .bind(e.effective_from.to_string())
                    .bind(serde_json::to_string(&e.value).unwrap_or_default())
                    .bind(e.source.as_str())
                    .bind(actor.username.as_str())
                    .bind(now.as_str()),
            )
            .await? as usize;
    }
    Ok(n)
}
