//! Township civil-affairs offices (民政办公室), one per township-level division: the
//! record, its list filter, and the contact details a township may edit.

use serde::{Deserialize, Serialize};

use crate::{FieldErrors, Scope};

/// An office with the names of its township and county.
#[derive(Debug, Clone, Serialize)]
pub struct Office {
    pub township_code: String,
    /// Official name, e.g. 东城街道民政办公室.
    pub name: String,
    /// Second plaque, e.g. 东城街道社会救助工作站.
    pub second_name: String,
    pub township_name: String,
    pub county_code: String,
    pub county_name: String,
    pub phone: String,
    pub address: String,
    pub village_count: i64,
    pub updated_at: String,
}

/// Filters for the office list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OfficeFilter {
    /// Only offices under this county (or any division code prefix).
    pub within: Option<String>,
    /// Name contains.
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl OfficeFilter {
    /// The `within` prefix, if given: digits only.
    pub fn within(&self) -> Result<Option<&str>, FieldErrors> {
        match self
            .within
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            Some(w) if !w.bytes().all(|b| b.is_ascii_digit()) => {
                Err(FieldErrors::one("within", "区划代码只能包含数字"))
            }
            w => Ok(w),
        }
    }
}

/// The contact details a township may edit, as typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct OfficeUpdate {
    pub phone: String,
    pub address: String,
}

/// A PATCH of the contact details: only the fields present change.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct OfficePatch {
    pub phone: Option<String>,
    pub address: Option<String>,
}

impl OfficePatch {
    /// The contact details after this patch of `current`, to be checked by
    /// [`parse_office_update`].
    pub fn apply(&self, current: &Office) -> OfficeUpdate {
        OfficeUpdate {
            phone: self.phone.clone().unwrap_or_else(|| current.phone.clone()),
            address: self
                .address
                .clone()
                .unwrap_or_else(|| current.address.clone()),
        }
    }
}

/// Contact details that passed [`parse_office_update`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeContact {
    pub phone: String,
    pub address: String,
}

/// A telephone number as offices write them: digits, spaces, `-`, `()`, `+`, `转`
/// (extension), at most 40 characters.
pub fn is_phone(phone: &str) -> bool {
    phone.chars().count() <= 40
        && phone
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | ' ' | '(' | ')' | '+' | '转'))
}

/// Checks an office's new contact details.
pub fn parse_office_update(u: &OfficeUpdate) -> Result<OfficeContact, FieldErrors> {
    let phone = u.phone.trim();
    let address = u.address.trim();
    let mut f = FieldErrors::new();
    if !is_phone(phone) {
        f.add("phone", "联系电话只能包含数字、空格和“-”，最长40个字符");
    }
    if address.chars().count() > 200 {
        f.add("address", "办公地址最长200个字");
    }
    f.finish()?;
    Ok(OfficeContact {
        phone: phone.to_string(),
        address: address.to_string(),
    })
}

/// An office is visible inside the scope, and a village user sees their own township's.
pub fn office_visible(scope: &Scope, township_code: &str) -> bool {
    scope.contains_str(township_code)
        || scope
            .code()
            .is_some_and(|c| c.as_str().starts_with(township_code))
}

/// The township codes whose offices a scope sees, as range bounds: its own range, or for
/// a village user their township's.
pub fn visible_office_range(scope: &Scope) -> (String, String) {
    match scope.code() {
        Some(c) if c.level() == crate::DivisionLevel::Village => {
            let t = &c.as_str()[..9];
            (t.to_string(), format!("{t}:"))
        }
        _ => scope.bounds(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DivisionCode;

    #[test]
    fn contact_details_are_checked_together() {
        let e = parse_office_update(&OfficeUpdate {
            phone: "0835-abc".into(),
            address: "路".repeat(201),
        })
        .unwrap_err();
        assert_eq!(e.len(), 2);
        let ok = parse_office_update(&OfficeUpdate {
            phone: " 0835-2222222转8 ".into(),
            address: " 东城街道 ".into(),
        })
        .unwrap();
        assert_eq!(ok.phone, "0835-2222222转8");
        assert_eq!(ok.address, "东城街道");
    }

    #[test]
    fn a_village_user_sees_their_townships_office() {
        let village = Scope::of(DivisionCode::parse_native("511802001001").unwrap());
        assert!(office_visible(&village, "511802001"));
        assert!(!office_visible(&village, "511802002"));
        assert_eq!(
            visible_office_range(&village),
            ("511802001".to_string(), "511802001:".to_string())
        );
    }

    #[test]
    fn a_township_sees_its_own_office_and_a_county_its_townships() {
        let scope = |c| Scope::of(DivisionCode::parse_native(c).unwrap());
        let township = scope("511802001");
        assert!(office_visible(&township, "511802001"));
        assert!(!office_visible(&township, "511802002"));
        assert_eq!(
            visible_office_range(&township),
            ("511802001".to_string(), "511802001:".to_string())
        );
        let county = scope("511802");
        assert!(office_visible(&county, "511802003"));
        assert!(!office_visible(&county, "511803001"));
        assert_eq!(
            visible_office_range(&county),
            ("511802".to_string(), "511802:".to_string())
        );
        assert_eq!(
            visible_office_range(&Scope::all()),
            (String::new(), ":".to_string())
        );
    }

    #[test]
    fn the_list_filter_takes_digits_only() {
        let within = |w: Option<&str>| {
            OfficeFilter {
                within: w.map(str::to_string),
                ..OfficeFilter::default()
            }
            .within()
            .map(|w| w.map(str::to_string))
        };
        assert_eq!(within(None), Ok(None));
        assert_eq!(within(Some("  ")), Ok(None));
        assert_eq!(within(Some(" 511802 ")), Ok(Some("511802".to_string())));
        assert_eq!(
            within(Some("5118a")).unwrap_err().get("within"),
            Some("区划代码只能包含数字")
        );
    }

    #[test]
    fn a_patch_changes_only_the_fields_it_names_and_an_address_may_have_200_characters() {
        let office = Office {
            township_code: "511802001".into(),
            name: "东城街道民政办公室".into(),
            second_name: String::new(),
            township_name: "东城街道".into(),
            county_code: "511802".into(),
            county_name: "雨城区".into(),
            phone: "0835-1111111".into(),
            address: "东城路1号".into(),
            village_count: 3,
            updated_at: String::new(),
        };
        let u = OfficePatch {
            phone: Some("0835-2222222".into()),
            address: None,
        }
        .apply(&office);
        assert_eq!(
            (u.phone.as_str(), u.address.as_str()),
            ("0835-2222222", "东城路1号")
        );
        let u = OfficePatch {
            phone: None,
            address: Some("路".repeat(200)),
        }
        .apply(&office);
        assert_eq!(u.phone, "0835-1111111");
        assert_eq!(
            parse_office_update(&u).unwrap().address.chars().count(),
            200
        );
    }
}
