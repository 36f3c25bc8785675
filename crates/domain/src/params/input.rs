//! Parameters as the administration page and the API show and take them: a stored row,
//! a new value as typed (yuan, percentages, JSON for tables), and how a value reads.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize, Serializer};

use super::{ParamEntry, ParamKey, ParamName, ParamValue, Ratio, Scope, ValueKind};
use crate::programs::{Program, UrbanRural};
use crate::{DivisionCode, Fen, FieldErrors};

/// One stored parameter row, for the administration page and the API.
#[derive(Debug, Clone, Serialize)]
pub struct ParamRow {
    pub id: i64,
    pub program: Program,
    /// Serialized as its storage code (`classified_supplement.aged60`).
    #[serde(serialize_with = "name_code")]
    pub name: ParamName,
    /// The city (4 digits) or county (6 digits) it applies to.
    pub region: String,
    /// `None`: both urban and rural.
    pub urban_rural: Option<UrbanRural>,
    pub effective_from: NaiveDate,
    pub value: ParamValue,
    pub source: String,
    pub created_by: String,
    pub created_at: String,
}

fn name_code<S: Serializer>(n: &ParamName, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&n.code())
}

/// A new parameter value from the administration page or API.
#[derive(Debug, Clone, Default, Deserialize)]
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

/// Why a new value is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamInputError {
    /// A field is wrong (422, shown beside the field).
    Field(FieldErrors),
    /// The region lies outside the actor's jurisdiction (404, as if it did not exist).
    OutsideScope,
}

impl From<FieldErrors> for ParamInputError {
    fn from(f: FieldErrors) -> Self {
        ParamInputError::Field(f)
    }
}

/// Reads a new value: program, name, region (a city or one of its counties, inside
/// `scope`), urban or rural, the date it applies from and the value as typed. The first
/// problem found is the answer (the form shows it beside its field).
pub fn parse_new_param(
    input: &NewParam,
    scope: &crate::Scope,
) -> Result<ParamEntry, ParamInputError> {
    let program: Program = input
        .program
        .trim()
        .parse()
        .map_err(|e: crate::programs::UnknownProgram| FieldErrors::one("program", e.to_string()))?;
    let name = ParamName::parse_code(input.name.trim())
        .ok_or_else(|| FieldErrors::one("name", format!("未知的参数名“{}”", input.name.trim())))?;
    let bad_region = || FieldErrors::one("region", "适用地区应为4位城市代码或6位区县代码");
    let region = DivisionCode::parse(input.region.trim()).map_err(|_| bad_region())?;
    let (city, county) = match region.as_str().len() {
        4 => (region.clone(), None),
        6 => (
            DivisionCode::parse_native(&region.as_str()[..4]).map_err(|_| bad_region())?,
            Some(region.clone()),
        ),
        _ => return Err(bad_region().into()),
    };
    if !scope.contains_str(region.as_str()) {
        return Err(ParamInputError::OutsideScope);
    }
    let urban_rural = match input.urban_rural.trim() {
        "" => None,
        s => Some(s.parse::<UrbanRural>().map_err(|_| {
            FieldErrors::one("urban_rural", "城乡应为 urban(城市)、rural(农村)或留空")
        })?),
    };
    let effective_from = NaiveDate::parse_from_str(input.effective_from.trim(), "%Y-%m-%d")
        .map_err(|_| FieldErrors::one("effective_from", "生效日期格式应为 2026-01-01"))?;
    let value = parse_value(name.kind(), input.value_json.trim()).ok_or_else(|| {
        FieldErrors::one(
            "value_json",
            format!("取值格式不对，应为{}", name.kind().label()),
        )
    })?;
    Ok(ParamEntry {
        key: ParamKey::new(program, name),
        scope: Scope {
            city,
            county,
            urban_rural,
        },
        effective_from,
        value,
        source: input.source.trim().to_string(),
    })
}

impl ParamEntry {
    /// The region it applies to: the county, else the city.
    pub fn region(&self) -> &DivisionCode {
        self.scope.county.as_ref().unwrap_or(&self.scope.city)
    }
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
    // Digits only on both sides: a sign is refused (`-0.5` would otherwise read as 0.5).
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) || frac.len() > 6 {
        return None;
    }
    let i: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let den = 10_i64.pow(frac.len() as u32);
    let f: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    // A whole part too large for the fraction (`99999999999999999.5%`) is no ratio.
    Ratio::new(i.checked_mul(den)?.checked_add(f)?, den * scale)
}

impl ParamValue {
    /// How the value reads on the page (`780.00`, `7天`, `15个工作日`; tables as JSON).
    pub fn text(&self) -> String {
        match self {
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
            Some(ParamValue::ApprovalLevel(crate::ApprovalLevel::Township))
        );
        for bad in ["abc", "-5", "", "1.2.3"] {
            assert_eq!(parse_value(ValueKind::Amount, bad), None, "{bad}");
        }
        assert_eq!(parse_value(ValueKind::Days, "7.5"), None);
        // Too large to hold as a fraction: refused, not an overflow.
        for huge in [
            "9223372036854775807.5",
            "99999999999999999.5%",
            "922337203685477.58071",
        ] {
            assert_eq!(parse_value(ValueKind::Ratio, huge), None, "{huge}");
        }
    }

    #[test]
    fn whole_numbers_read_as_months_and_counts_and_decimals_take_up_to_six_places() {
        assert_eq!(
            parse_value(ValueKind::Months, "3"),
            Some(ParamValue::Months(3))
        );
        assert_eq!(
            parse_value(ValueKind::Count, "2"),
            Some(ParamValue::Count(2))
        );
        assert_eq!(parse_value(ValueKind::Days, "7"), Some(ParamValue::Days(7)));
        assert_eq!(
            parse_value(ValueKind::Ratio, "0.123456"),
            Ratio::new(123_456, 1_000_000).map(ParamValue::Ratio)
        );
        assert_eq!(
            parse_value(ValueKind::Ratio, ".5"),
            Ratio::new(1, 2).map(ParamValue::Ratio)
        );
        assert_eq!(
            parse_value(ValueKind::Ratio, "1."),
            Ratio::new(1, 1).map(ParamValue::Ratio)
        );
        for bad in [
            "0.1234567",
            ".",
            "%",
            "0.1a",
            "a.5",
            "-0.5",
            "-1",
            "+0.5",
            "-5%",
            "0.+5",
            "1.-5",
        ] {
            assert_eq!(parse_value(ValueKind::Ratio, bad), None, "{bad}");
        }
    }

    #[test]
    fn every_table_and_mode_reads_back_from_the_json_the_page_shows() {
        // Each value of the demo table that is shown as JSON, typed back without its
        // wrapper, is the same value.
        let set = crate::params::ParamSet::demo_yaan();
        // The kinds typed as plain text; every other kind is shown and typed as JSON.
        let typed_plain = |k: ValueKind| {
            matches!(
                k,
                ValueKind::Amount
                    | ValueKind::Ratio
                    | ValueKind::AmountOrRatio
                    | ValueKind::Days
                    | ValueKind::WorkingDays
                    | ValueKind::Months
                    | ValueKind::Count
            )
        };
        let mut kinds = std::collections::BTreeSet::new();
        for e in set.entries() {
            let kind = e.key.name.kind();
            if typed_plain(kind) {
                continue;
            }
            assert_eq!(
                parse_value(kind, &e.value.text()).as_ref(),
                Some(&e.value),
                "{}",
                e.key.label()
            );
            kinds.insert(kind.label());
        }
        for kind in ValueKind::ALL.iter().filter(|k| !typed_plain(**k)) {
            assert!(kinds.contains(kind.label()), "{}", kind.label());
        }
        // A table typed for another kind is not read as this one.
        assert_eq!(parse_value(ValueKind::Rounding, "\"township\""), None);
    }

    fn new_param(region: &str) -> NewParam {
        NewParam {
            program: "rural_dibao".into(),
            name: "standard".into(),
            region: region.into(),
            urban_rural: String::new(),
            effective_from: "2027-01-01".into(),
            value_json: "660".into(),
            source: "雅府发〔2026〕1号".into(),
        }
    }

    #[test]
    fn a_value_is_set_for_the_callers_city_or_one_of_its_counties_only() {
        let code = |c| DivisionCode::parse(c).unwrap();
        let city = crate::Scope::of(code("5118"));
        let e = parse_new_param(&new_param("511802"), &city).unwrap();
        assert_eq!(e.scope.city, code("5118"));
        assert_eq!(e.scope.county, Some(code("511802")));
        assert_eq!(e.value, ParamValue::Amount(Fen(66_000)));
        assert_eq!(e.region(), &code("511802"));
        let e = parse_new_param(&new_param("5118"), &city).unwrap();
        assert_eq!(e.scope.county, None);
        assert_eq!(e.region(), &code("5118"));
        // Another city's county, and the city above a county's own jurisdiction: both
        // outside the caller's jurisdiction.
        assert_eq!(
            parse_new_param(&new_param("510104"), &city),
            Err(ParamInputError::OutsideScope)
        );
        let county = crate::Scope::of(code("511802"));
        assert_eq!(
            parse_new_param(&new_param("5118"), &county),
            Err(ParamInputError::OutsideScope)
        );
        assert!(parse_new_param(&new_param("511802"), &county).is_ok());
    }
}
