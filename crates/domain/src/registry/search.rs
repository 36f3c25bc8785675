//! Finding households and persons: the list filter as typed, and what a search term means
//! (a full ID number, the last four digits alone or with a name, pinyin, or part of a name).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::input::{is_pinyin_query, normalize_id_input};
use super::words::{HouseholdStatus, RegistrationType};
use crate::{FieldErrors, IdNumber};

/// Filters for the household list, as typed (form or query string).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct HouseholdFilter {
    pub village: Option<String>,
    pub registration_type: Option<String>,
    pub status: Option<String>,
    /// Name, pinyin (`zs`, `zhangsan`), a full ID number, the last four of one, or last
    /// four + name.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// A household list filter that passed [`HouseholdFilter::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdQuery {
    /// Villages whose code starts with these digits.
    pub village: Option<String>,
    pub registration_type: Option<RegistrationType>,
    pub status: Option<HouseholdStatus>,
    /// Households with a member matching this.
    pub term: Option<SearchTerm>,
    pub limit: i64,
    pub offset: i64,
}

/// One page of the household list.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HouseholdPage {
    pub items: Vec<super::Household>,
    /// How many households match; with a search term counted only to the end of the
    /// page asked for (offset + limit).
    pub total: i64,
    /// Whether more households match than `total` says (the count stopped at the cap).
    pub total_capped: bool,
}

fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl HouseholdFilter {
    /// The typed filter. The first problem found is the one reported (the list shows one
    /// message above the filters).
    pub fn parse(&self, today: NaiveDate) -> Result<HouseholdQuery, FieldErrors> {
        let village = match given(&self.village) {
            Some(v) if !v.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(FieldErrors::one("village", "区划代码只能包含数字"))
            }
            v => v.map(str::to_string),
        };
        let registration_type = given(&self.registration_type)
            .map(|t| {
                RegistrationType::parse_input(t).ok_or_else(|| {
                    FieldErrors::one("registration_type", "户籍类型应为“城镇”或“农村”")
                })
            })
            .transpose()?;
        let status = given(&self.status)
            .map(|s| {
                HouseholdStatus::parse_input(s)
                    .ok_or_else(|| FieldErrors::one("status", "户状态应为“正常”或“已注销”"))
            })
            .transpose()?;
        Ok(HouseholdQuery {
            village,
            registration_type,
            status,
            term: given(&self.q).map(|t| SearchTerm::classify(t, today)),
            limit: self.limit.unwrap_or(50).clamp(1, 500),
            offset: self.offset.unwrap_or(0).max(0),
        })
    }
}

/// What a search term means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchTerm {
    /// A full, valid ID number.
    Id(String),
    /// The last four characters of an ID number (upper case) alone: three digits and a
    /// digit or X.
    Last4(String),
    /// The last four characters of an ID number (upper case) and a full name.
    Last4Name(String, String),
    /// Pinyin (lower case): initials or the full spelling, from the start.
    Pinyin(String),
    /// Part of a name.
    Name(String),
}

impl SearchTerm {
    /// Reads a search box: `11010519491231002x`, `002x张三`, `张三 0021`, `zs`, `张`.
    pub fn classify(q: &str, today: NaiveDate) -> SearchTerm {
        let t = q.trim();
        if let Ok(cleaned) = normalize_id_input(t) {
            if cleaned.len() == 18 || cleaned.len() == 15 {
                if let Ok(id) = IdNumber::parse(&cleaned, today) {
                    return SearchTerm::Id(id.as_str().to_string());
                }
            }
        }
        // "002X张三" or "张三002X" or "张三 002x".
        let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
        let chars: Vec<char> = compact.chars().collect();
        let is_id4 = |s: &[char]| {
            s.len() == 4
                && s[..3].iter().all(|c| c.is_ascii_digit())
                && (s[3].is_ascii_digit() || s[3] == 'X' || s[3] == 'x')
        };
        if is_id4(&chars) {
            return SearchTerm::Last4(compact.to_ascii_uppercase());
        }
        if chars.len() > 4 {
            if is_id4(&chars[..4]) && !chars[4..].iter().any(|c| c.is_ascii_alphanumeric()) {
                let last4: String = chars[..4].iter().collect::<String>().to_ascii_uppercase();
                return SearchTerm::Last4Name(last4, chars[4..].iter().collect());
            }
            let n = chars.len();
            if is_id4(&chars[n - 4..]) && !chars[..n - 4].iter().any(|c| c.is_ascii_alphanumeric())
            {
                let last4: String = chars[n - 4..]
                    .iter()
                    .collect::<String>()
                    .to_ascii_uppercase();
                return SearchTerm::Last4Name(last4, chars[..n - 4].iter().collect());
            }
        }
        if is_pinyin_query(&compact) {
            return SearchTerm::Pinyin(compact.to_ascii_lowercase());
        }
        SearchTerm::Name(t.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(q: &str) -> SearchTerm {
        SearchTerm::classify(q, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap())
    }

    #[test]
    fn search_terms_are_classified() {
        assert_eq!(
            classify("11010519491231002x"),
            SearchTerm::Id("11010519491231002X".into())
        );
        assert_eq!(
            classify("002x张三"),
            SearchTerm::Last4Name("002X".into(), "张三".into())
        );
        assert_eq!(
            classify("张三 0021"),
            SearchTerm::Last4Name("0021".into(), "张三".into())
        );
        assert_eq!(classify("ZS"), SearchTerm::Pinyin("zs".into()));
        assert_eq!(classify(" 002x "), SearchTerm::Last4("002X".into()));
        assert_eq!(classify("0021"), SearchTerm::Last4("0021".into()));
        assert_eq!(classify("00X1"), SearchTerm::Name("00X1".into()));
        assert_eq!(classify("021"), SearchTerm::Name("021".into()));
        assert_eq!(classify("张"), SearchTerm::Name("张".into()));
        assert_eq!(classify("002X"), SearchTerm::Last4("002X".into()));
        assert_eq!(classify("002a"), SearchTerm::Name("002a".into()));
        // A long name, or a name with a letter in it, is not read as a name and four
        // characters of an ID number.
        for q in ["爱新觉罗氏", "0021ab", "张三 A 0021"] {
            assert_eq!(classify(q), SearchTerm::Name(q.into()), "{q}");
        }
        // A 15-digit number of the first generation is found as the 18-digit one.
        assert_eq!(
            classify("110105491231002"),
            SearchTerm::Id("11010519491231002X".into())
        );
    }

    #[test]
    fn a_village_code_of_digits_narrows_the_list() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let q = HouseholdFilter {
            village: Some(" 511802001 ".into()),
            ..Default::default()
        }
        .parse(today)
        .unwrap();
        assert_eq!(q.village.as_deref(), Some("511802001"));
    }

    #[test]
    fn a_filter_reports_its_first_problem() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let e = HouseholdFilter {
            village: Some("51a".into()),
            status: Some("x".into()),
            ..Default::default()
        }
        .parse(today)
        .unwrap_err();
        assert_eq!(
            (e.len(), e.get("village")),
            (1, Some("区划代码只能包含数字"))
        );
        let q = HouseholdFilter {
            village: Some(" ".into()),
            registration_type: Some("农村".into()),
            status: Some("正常".into()),
            q: Some("zs".into()),
            limit: Some(9999),
            ..Default::default()
        }
        .parse(today)
        .unwrap();
        assert_eq!(q.village, None);
        assert_eq!(q.registration_type, Some(RegistrationType::Rural));
        assert_eq!(q.term, Some(SearchTerm::Pinyin("zs".into())));
        assert_eq!((q.limit, q.offset), (500, 0));
    }
}
