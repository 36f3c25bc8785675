//! 参数表 storage: dated program parameters (city, optional county, urban/rural).
//!
//! The domain's [`ParamSet`] does the resolving and checking; this module loads the
//! rows into one and writes new rows after the set accepted them. Only the city
//! administrator (or the system) changes parameters; every change is audited.

use chrono::NaiveDate;
use minzheng_domain::params::{ParamEntry, ParamKey, ParamName, Scope as ParamScope, ValueKind};
use minzheng_domain::{DivisionCode, Fen, ParamSet, ParamValue, Program, Ratio, Role, UrbanRural};
use serde::Serialize;

use crate::audit::{append, AuditEvent};
use crate::db::{q, DbRow, Store};
use crate::error::{StoreError, StoreResult};
use minzheng_domain::Actor;

/// One stored parameter row, for the admin page and API.
#[derive(Debug, Clone, Serialize)]
pub struct ParamRow {
    pub id: i64,
    pub program: String,
    pub program_label: &'static str,
    pub name: String,
    pub name_label: String,
    pub region: String,
    pub urban_rural: String,
    pub effective_from: String,
    pub value: ParamValue,
    pub value_text: String,
    pub source: String,
    pub created_by: String,
    pub created_at: String,
}

/// A new parameter value from the admin page or API.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewParam {
    pub program: String,
    pub name: String,
    /// City (4 digits) or one of its counties (6 digits).
    pub region: String,
    /// "", "urban" or "rural".
    #[serde(default)]
    pub urban_rural: String,
    pub effective_from: String,
    /// The value as typed: yuan for amounts, `0.35`/`35%` for ratios, integers for
    /// days/months/counts, JSON for tables and modes (see [`parse_value`]).
    pub value_json: String,
    #[serde(default)]
    pub source: String,
}

fn entry_from_row(r: &DbRow) -> StoreResult<ParamEntry> {
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

/// Reads a value as a clerk types it: yuan for amounts (`780` or `780.50`), a
/// decimal or percentage for ratios (`0.35`, `35%`), whole numbers for day, month and
/// count values; anything else (tables, modes) as the JSON the API shows, with or
/// without the `{"type":…,"value":…}` wrapper.
pub fn parse_value(kind: ValueKind, text: &str) -> Option<ParamValue> {
    let t = text.trim();
    if t.starts_with('{') {
        if let Ok(v) = serde_json::from_str::<ParamValue>(t) {
            return Some(v);
        }
    }
    let int = || t.parse::<u32>().ok();
    Some(match kind {
        ValueKind::Amount => ParamValue::Amount(Fen::parse_yuan(t).ok().filter(|f| f.0 >= 0)?),
        ValueKind::Ratio => ParamValue::Ratio(parse_ratio(t)?),
        ValueKind::AmountOrRatio => match parse_ratio_strict(t) {
            Some(r) => ParamValue::Ratio(r),
            None => ParamValue::Amount(Fen::parse_yuan(t).ok().filter(|f| f.0 >= 0)?),
        },
        ValueKind::Days => ParamValue::Days(int()?),
        ValueKind::WorkingDays => ParamValue::WorkingDays(int()?),
        ValueKind::Months => ParamValue::Months(int()?),
        ValueKind::Count => ParamValue::Count(int()?),
        _ => {
            // The inner value as JSON, wrapped with the kind's tag.
            let inner: serde_json::Value = serde_json::from_str(t).ok()?;
            let tag = match kind {
                ValueKind::Rounding => "rounding",
                ValueKind::TopUpMode => "top_up_mode",
                ValueKind::Tiers => "tiers",
                ValueKind::IncomeKinds => "income_kinds",
                ValueKind::AgeBands => "age_bands",
                ValueKind::AgeStartRule => "age_start_rule",
                ValueKind::CareTable => "care_table",
                ValueKind::ApprovalLevel => "approval_level",
                ValueKind::NameMask => "name_mask",
                _ => return None,
            };
            serde_json::from_value(serde_json::json!({ "type": tag, "value": inner })).ok()?
        }
    })
}

/// `35%` only (so that `AmountOrRatio` can tell `0.5` yuan from a ratio).
fn parse_ratio_strict(t: &str) -> Option<Ratio> {
    t.strip_suffix('%').and_then(|p| decimal(p.trim(), 100))
}

fn parse_ratio(t: &str) -> Option<Ratio> {
    parse_ratio_strict(t).or_else(|| decimal(t, 1))
}

/// `a.bc` / `scale` as an exact fraction.
fn decimal(t: &str, scale: i64) -> Option<Ratio> {
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty() && frac.is_empty()
        || !frac.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 6
    {
        return None;
    }
    let i: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    if i < 0 {
        return None;
    }
    let den = 10_i64.pow(frac.len() as u32);
    let f: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    Ratio::new(i * den + f, den * scale)
}

/// How a value reads on the page.
pub fn value_text(v: &ParamValue) -> String {
    match v {
        ParamValue::Amount(f) => f.to_string(),
        ParamValue::Ratio(r) => format!("{}/{}", r.num(), r.den()),
        ParamValue::Days(n) => format!("{n}天"),
        ParamValue::WorkingDays(n) => format!("{n}个工作日"),
        ParamValue::Months(n) => format!("{n}个月"),
        ParamValue::Count(n) => format!("{n}次"),
        other => serde_json::to_value(other)
            .ok()
            .and_then(|v| v.get("value").map(|x| x.to_string()))
            .unwrap_or_default(),
    }
}

impl Store {
    /// All parameters as a resolvable set.
    pub async fn load_params(&self) -> StoreResult<ParamSet> {
        let rows = self
            .fetch_all(q("SELECT * FROM program_params ORDER BY id"))
            .await?;
        let mut set = ParamSet::new();
        for r in &rows {
            let e = entry_from_row(r)?;
            set.insert(e)
                .map_err(|e| StoreError::Internal(e.to_string()))?;
        }
        Ok(set)
    }

    /// The parameter rows for the admin page, newest first within each key.
    pub async fn list_params(&self, program: Option<&str>) -> StoreResult<Vec<ParamRow>> {
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
        let rows = self.fetch_all(qq).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let e = entry_from_row(r)?;
            out.push(ParamRow {
                id: r.i64("id")?,
                program: e.key.program.as_str().to_string(),
                program_label: e.key.program.label(),
                name: e.key.name.code(),
                name_label: e.key.name.label(),
                region: e
                    .scope
                    .county
                    .as_ref()
                    .unwrap_or(&e.scope.city)
                    .as_str()
                    .to_string(),
                urban_rural: e
                    .scope
                    .urban_rural
                    .map(|u| u.label())
                    .unwrap_or("城乡通用")
                    .to_string(),
                effective_from: e.effective_from.to_string(),
                value_text: value_text(&e.value),
                value: e.value,
                source: e.source,
                created_by: r.str("created_by")?,
                created_at: r.str("created_at")?,
            });
        }
        Ok(out)
    }

    /// Adds a dated value. Values are never edited in place: a new figure is a new row
    /// with its own effective date, so cases decided earlier keep theirs.
    pub async fn add_param(&self, actor: &Actor, input: &NewParam) -> StoreResult<i64> {
        if let Some(r) = actor.role {
            if r != Role::CityAdmin {
                return Err(StoreError::Forbidden(
                    "只有市民政局管理员可以维护救助参数".into(),
                ));
            }
        }
        let program: Program = input.program.trim().parse().map_err(
            |e: minzheng_domain::programs::UnknownProgram| {
                StoreError::field("program", e.to_string())
            },
        )?;
        let name = ParamName::parse_code(input.name.trim()).ok_or_else(|| {
            StoreError::field("name", format!("未知的参数名“{}”", input.name.trim()))
        })?;
        let region = DivisionCode::parse_native(input.region.trim())
            .map_err(|_| StoreError::field("region", "适用地区应为4位城市代码或6位区县代码"))?;
        let (city, county) = match region.as_str().len() {
            4 => (region.clone(), None),
            6 => (
                DivisionCode::parse_native(&region.as_str()[..4]).expect("prefix of a valid code"),
                Some(region.clone()),
            ),
            _ => {
                return Err(StoreError::field(
                    "region",
                    "适用地区应为4位城市代码或6位区县代码",
                ))
            }
        };
        if !actor.scope.contains_str(region.as_str()) && !actor.scope.sees_str(region.as_str()) {
            return Err(StoreError::NotFound("该地区"));
        }
        let urban_rural = match input.urban_rural.trim() {
            "" => None,
            s => Some(s.parse::<UrbanRural>().map_err(|_| {
                StoreError::field("urban_rural", "城乡应为 urban(城市)、rural(农村)或留空")
            })?),
        };
        let effective_from = NaiveDate::parse_from_str(input.effective_from.trim(), "%Y-%m-%d")
            .map_err(|_| StoreError::field("effective_from", "生效日期格式应为 2026-01-01"))?;
        let value = parse_value(name.kind(), input.value_json.trim()).ok_or_else(|| {
            StoreError::field(
                "value_json",
                format!("取值格式不对，应为{}", name.kind().label()),
            )
        })?;
        let entry = ParamEntry {
            key: ParamKey::new(program, name),
            scope: ParamScope {
                city: city.clone(),
                county: county.clone(),
                urban_rural,
            },
            effective_from,
            value: value.clone(),
            source: input.source.trim().to_string(),
        };
        // Let the domain check type, scope and duplicates against what is stored.
        let mut set = self.load_params().await?;
        set.insert(entry)
            .map_err(|e| StoreError::field("value_json", e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let row = tx
            .fetch_one(
                q("INSERT INTO program_params (program, name, city_code, county_code, urban_rural,
                     effective_from, value_json, source, created_by, created_at)
                   VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id")
                .bind(program.as_str())
                .bind(name.code())
                .bind(city.as_str())
                .bind(county.as_ref().map(|c| c.as_str()).unwrap_or(""))
                .bind(urban_rural.map(|u| u.as_str()).unwrap_or(""))
                .bind(effective_from.to_string())
                .bind(serde_json::to_string(&value).unwrap_or_default())
                .bind(input.source.trim())
                .bind(actor.username.as_str())
                .bind(crate::timestamp(chrono::Utc::now())),
            )
            .await?;
        let id = row.i64("id")?;
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "param.add",
                entity_type: "param",
                entity_id: &id.to_string(),
                scope_code: region.as_str(),
                before: None,
                after: Some(serde_json::json!({
                    "program": program.as_str(), "name": name.code(), "region": region.as_str(),
                    "urban_rural": urban_rural.map(|u| u.as_str()), "effective_from": effective_from.to_string(),
                    "value": value, "source": input.source.trim(),
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Writes a whole set (demo seeding, first install) in one transaction with one
    /// audit record; rows already present are left alone.
    pub async fn seed_params(&self, actor: &Actor, set: &ParamSet) -> StoreResult<usize> {
        let mut tx = self.begin_write().await?;
        let now = crate::timestamp(chrono::Utc::now());
        let mut n = 0;
        for e in set.entries() {
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
        if n > 0 {
            append(
                &mut tx,
                actor,
                AuditEvent {
                    action: "param.seed",
                    entity_type: "param",
                    entity_id: "",
                    scope_code: "",
                    before: None,
                    after: Some(serde_json::json!({ "rows": n })),
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_clerks_type_them() {
        assert_eq!(
            parse_value(ValueKind::Amount, "780.5"),
            Some(ParamValue::Amount(Fen(78050)))
        );
        assert_eq!(
            parse_value(ValueKind::Ratio, "35%"),
            Ratio::new(35, 100).map(ParamValue::Ratio)
        );
        assert_eq!(
            parse_value(ValueKind::Ratio, "0.35"),
            Ratio::new(35, 100).map(ParamValue::Ratio)
        );
        assert_eq!(
            parse_value(ValueKind::WorkingDays, "10"),
            Some(ParamValue::WorkingDays(10))
        );
        assert_eq!(
            parse_value(ValueKind::AmountOrRatio, "50"),
            Some(ParamValue::Amount(Fen(5000)))
        );
        assert_eq!(
            parse_value(ValueKind::AmountOrRatio, "5%"),
            Ratio::new(5, 100).map(ParamValue::Ratio)
        );
        assert_eq!(
            parse_value(ValueKind::ApprovalLevel, "\"township\""),
            Some(ParamValue::ApprovalLevel(
                minzheng_domain::ApprovalLevel::Township
            ))
        );
        for bad in ["abc", "-5", "", "1.2.3"] {
            assert_eq!(parse_value(ValueKind::Amount, bad), None, "{bad}");
        }
        assert_eq!(parse_value(ValueKind::Days, "7.5"), None);
    }
}
