//! 统计用区划代码 — statistical administrative division codes (国家统计局《统计用区划代码和
//! 城乡划分代码》), and the division records the system keeps of them.
//!
//! Codes are kept at their **native length**: province 2 digits, city 4, county 6,
//! township 9, village 12. Padding everything to 12 digits is ambiguous (county
//! `441900` of 东莞, a placeholder county under a city without counties, would pad to
//! the same string as city `4419`), so the native length is the canonical form and a
//! code's level is its length.

use std::fmt;
use std::str::FromStr;

/// 行政区划层级 — the five levels of the statistical division code.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum DivisionLevel {
    /// 省级
    Province,
    /// 地级 (市)
    City,
    /// 县级 (县、区)
    County,
    /// 乡级 (乡、镇、街道)
    Township,
    /// 村级 (村、社区)
    Village,
}

impl DivisionLevel {
    pub const ALL: [DivisionLevel; 5] = [
        DivisionLevel::Province,
        DivisionLevel::City,
        DivisionLevel::County,
        DivisionLevel::Township,
        DivisionLevel::Village,
    ];

    /// The level whose native code has `n` digits.
    pub fn from_len(n: usize) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.code_len() == n)
    }

    pub fn code_len(self) -> usize {
        match self {
            DivisionLevel::Province => 2,
            DivisionLevel::City => 4,
            DivisionLevel::County => 6,
            DivisionLevel::Township => 9,
            DivisionLevel::Village => 12,
        }
    }

    /// Stable identifier for storage and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            DivisionLevel::Province => "province",
            DivisionLevel::City => "city",
            DivisionLevel::County => "county",
            DivisionLevel::Township => "township",
            DivisionLevel::Village => "village",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            DivisionLevel::Province => "省",
            DivisionLevel::City => "市",
            DivisionLevel::County => "县(区)",
            DivisionLevel::Township => "乡镇(街道)",
            DivisionLevel::Village => "村(社区)",
        }
    }

    /// 1 for province … 5 for village.
    pub fn depth(self) -> u8 {
        match self {
            DivisionLevel::Province => 1,
            DivisionLevel::City => 2,
            DivisionLevel::County => 3,
            DivisionLevel::Township => 4,
            DivisionLevel::Village => 5,
        }
    }

    pub fn child(self) -> Option<Self> {
        Self::ALL.get(usize::from(self.depth())).copied()
    }

    pub fn parent(self) -> Option<Self> {
        usize::from(self.depth())
            .checked_sub(2)
            .and_then(|i| Self::ALL.get(i).copied())
    }

    /// Inverse of `as_str`.
    pub fn from_str_id(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

impl fmt::Display for DivisionLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why an input is not a valid division code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DivisionError {
    #[error("区划代码为空")]
    Empty,
    #[error("区划代码只能包含数字")]
    NonDigit,
    #[error("区划代码长度应为2、4、6、9或12位，实际为{0}位")]
    BadLength(usize),
    #[error("区划代码的省级部分不能为00")]
    ZeroProvince,
    #[error("区划代码的市级部分不能为00")]
    ZeroCity,
}

/// 区划代码 — a division code at its native length (2/4/6/9/12 digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DivisionCode(String);

impl DivisionCode {
    /// Parses a code of 2, 4, 6, 9 or 12 digits (surrounding whitespace ignored).
    ///
    /// A 12-digit input is the padded form used in many files, where an all-zero group
    /// means "this level is not present": trailing all-zero groups are stripped, so
    /// `511800000000` → `5118` and `511802001000` → `511802001`. Shorter inputs are taken
    /// at face value. Use [`DivisionCode::parse_native`] for data whose 12-digit codes are
    /// always real villages.
    pub fn parse(s: &str) -> Result<Self, DivisionError> {
        let digits = check_digits(s)?;
        let mut len = digits.len();
        if len == DivisionLevel::Village.code_len() {
            let mut level = DivisionLevel::Village;
            while let Some(parent) = level.parent() {
                if !digits[parent.code_len()..level.code_len()]
                    .bytes()
                    .all(|b| b == b'0')
                {
                    break;
                }
                len = parent.code_len();
                level = parent;
            }
        }
        Self::validate_native(&digits[..len])
    }

    /// Parses a code at its native length without stripping zero groups.
    ///
    /// Needed for the statistics dataset, which has real placeholder units whose own
    /// group is zero: county `441900` (东莞 has no counties), township `350527000` and
    /// village `350527000000` (金门). `parse` would read the latter as county `350527`.
    pub fn parse_native(s: &str) -> Result<Self, DivisionError> {
        Self::validate_native(check_digits(s)?)
    }

    /// Rejects what never occurs in the data: province `00` and city group `00`. Zero
    /// county/township/village groups are real placeholders (see `parse_native`).
    fn validate_native(d: &str) -> Result<Self, DivisionError> {
        if DivisionLevel::from_len(d.len()).is_none() {
            return Err(DivisionError::BadLength(d.len()));
        }
        if &d[..2] == "00" {
            return Err(DivisionError::ZeroProvince);
        }
        if d.len() >= 4 && &d[2..4] == "00" {
            return Err(DivisionError::ZeroCity);
        }
        Ok(DivisionCode(d.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> DivisionLevel {
        // The length was validated at construction; the fallback is unreachable.
        DivisionLevel::from_len(self.0.len()).unwrap_or(DivisionLevel::Village)
    }

    /// The enclosing division (the prefix of the parent level's length).
    pub fn parent(&self) -> Option<DivisionCode> {
        self.level().parent().and_then(|l| self.at_level(l))
    }

    /// True if `other` is this division or lies inside it.
    pub fn contains(&self, other: &DivisionCode) -> bool {
        other.0.starts_with(&self.0)
    }

    /// All enclosing divisions from the province down, excluding `self`.
    pub fn ancestors(&self) -> Vec<DivisionCode> {
        DivisionLevel::ALL
            .into_iter()
            .take_while(|&l| l < self.level())
            .filter_map(|l| self.at_level(l))
            .collect()
    }

    /// The enclosing division at `level` (`self` if it is at that level); `None` if
    /// `level` is below `self`.
    pub fn at_level(&self, level: DivisionLevel) -> Option<DivisionCode> {
        self.0
            .get(..level.code_len())
            .map(|p| DivisionCode(p.to_owned()))
    }

    /// Exclusive upper bound for a prefix range scan:
    /// `code >= self AND code < range_end()` selects `self` and everything inside it,
    /// because `':'` is the byte after `'9'`.
    pub fn range_end(&self) -> String {
        let mut s = String::with_capacity(self.0.len() + 1);
        s.push_str(&self.0);
        s.push(':');
        s
    }

    pub fn province(&self) -> DivisionCode {
        DivisionCode(self.0[..2].to_owned())
    }

    pub fn city(&self) -> Option<DivisionCode> {
        self.at_level(DivisionLevel::City)
    }

    pub fn county(&self) -> Option<DivisionCode> {
        self.at_level(DivisionLevel::County)
    }

    pub fn township(&self) -> Option<DivisionCode> {
        self.at_level(DivisionLevel::Township)
    }

    /// The code padded to 12 digits with zeros, for systems that want that form. Lossy:
    /// see the module docs.
    pub fn padded12(&self) -> String {
        format!("{:0<12}", self.0)
    }
}

fn check_digits(s: &str) -> Result<&str, DivisionError> {
    let d = s.trim();
    if d.is_empty() {
        return Err(DivisionError::Empty);
    }
    if !d.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DivisionError::NonDigit);
    }
    Ok(d)
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for DivisionCode {
    type Err = DivisionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for DivisionCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for DivisionCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse_native(&s).map_err(serde::de::Error::custom)
    }
}

/// One division as stored.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Division {
    pub code: String,
    pub name: String,
    pub level: DivisionLevel,
    pub parent_code: Option<String>,
    /// Number of direct children, where the query computed it.
    pub child_count: Option<i64>,
}

/// Count of divisions at one level.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct LevelCount {
    pub level: DivisionLevel,
    pub count: i64,
}

/// Progress of a division import, reported as it goes.
#[derive(Debug, Clone, Copy)]
pub struct DivisionImportProgress {
    pub bytes_done: u64,
    pub bytes_total: u64,
    pub rows: u64,
}

/// What a division import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DivisionImportStats {
    pub rows_read: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub offices_created: u64,
    pub offices_renamed: u64,
}

/// A division row of an import file that passed [`check_division_row`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DivisionRow {
    pub code: DivisionCode,
    pub name: String,
    pub level: DivisionLevel,
    pub parent: Option<String>,
}

/// Checks one row of a division file: the code is valid and of the row's level (the
/// file's level, or the row's own `level` column, or else the code's), the name is
/// present and at most 100 characters, and the parent column names exactly the code's
/// parent. The error is the reason, for "文件 X 第N行：…".
pub fn check_division_row(
    raw_code: &str,
    name: &str,
    level: Option<DivisionLevel>,
    parent: Option<&str>,
) -> Result<DivisionRow, String> {
    let raw_code = raw_code.trim();
    let code =
        DivisionCode::parse_native(raw_code).map_err(|e| format!("代码“{raw_code}”：{e}"))?;
    let level = level.unwrap_or_else(|| code.level());
    if code.level() != level {
        return Err(format!("代码“{code}”不是{}级代码", level.label()));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err("名称为空或超过100个字".into());
    }
    let parent = parent.map(str::trim).filter(|p| !p.is_empty());
    if parent != code.parent().as_ref().map(|p| p.as_str()) {
        return Err(format!(
            "上级代码“{}”与代码“{code}”不符",
            parent.unwrap_or("")
        ));
    }
    Ok(DivisionRow {
        parent: parent.map(str::to_string),
        name: name.to_string(),
        level,
        code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(s: &str) -> DivisionCode {
        DivisionCode::parse(s).unwrap()
    }

    #[test]
    fn division_rows_agree_with_their_codes() {
        let ok = check_division_row(" 511802001 ", "东城街道", None, Some("511802")).unwrap();
        assert_eq!(ok.level, DivisionLevel::Township);
        assert!(check_division_row(
            "511802001",
            "东城街道",
            Some(DivisionLevel::County),
            Some("511802")
        )
        .unwrap_err()
        .contains("不是县(区)级代码"));
        assert!(
            check_division_row("511802001", "东城街道", None, Some("511803"))
                .unwrap_err()
                .contains("上级代码")
        );
        assert!(check_division_row("511802001", " ", None, Some("511802")).is_err());
        let long = |n| check_division_row("511802001", &"街".repeat(n), None, Some("511802"));
        assert_eq!(long(100).unwrap().name.chars().count(), 100);
        assert_eq!(long(101).unwrap_err(), "名称为空或超过100个字");
        assert_eq!(
            DivisionLevel::Township.to_string(),
            DivisionLevel::Township.label()
        );
        assert_eq!(DivisionLevel::Village.to_string(), "村(社区)");
        assert!(check_division_row("51", "四川省", None, None).is_ok());
    }

    #[test]
    fn levels() {
        assert_eq!(c("51").level(), DivisionLevel::Province);
        assert_eq!(c("5118").level(), DivisionLevel::City);
        assert_eq!(c("511802").level(), DivisionLevel::County);
        assert_eq!(c("511802001").level(), DivisionLevel::Township);
        assert_eq!(c("511802001001").level(), DivisionLevel::Village);
        for l in DivisionLevel::ALL {
            assert_eq!(DivisionLevel::from_len(l.code_len()), Some(l));
            assert_eq!(DivisionLevel::from_str_id(l.as_str()), Some(l));
            if let Some(ch) = l.child() {
                assert_eq!(ch.parent(), Some(l));
                assert_eq!(ch.depth(), l.depth() + 1);
            }
        }
        assert_eq!(DivisionLevel::Village.child(), None);
        assert_eq!(DivisionLevel::Province.parent(), None);
        assert_eq!(DivisionLevel::from_len(3), None);
    }

    #[test]
    fn padded_input_is_normalised() {
        assert_eq!(c("511800000000").as_str(), "5118");
        assert_eq!(c("511802001000").as_str(), "511802001");
        assert_eq!(c("511802000000").as_str(), "511802");
        assert_eq!(c("510000000000").as_str(), "51");
        assert_eq!(c(" 511802001001 ").as_str(), "511802001001");
        // Six digits are taken at face value: 441900 is a real (placeholder) county.
        assert_eq!(c("441900").level(), DivisionLevel::County);
        assert_eq!(c("441900003").parent(), Some(c("441900")));
        assert_eq!(
            DivisionCode::parse_native("350527000000").unwrap().level(),
            DivisionLevel::Village
        );
    }

    #[test]
    fn errors() {
        assert_eq!(DivisionCode::parse(""), Err(DivisionError::Empty));
        assert_eq!(DivisionCode::parse("51a8"), Err(DivisionError::NonDigit));
        assert_eq!(DivisionCode::parse("５１"), Err(DivisionError::NonDigit));
        assert_eq!(DivisionCode::parse("511"), Err(DivisionError::BadLength(3)));
        assert_eq!(DivisionCode::parse("00"), Err(DivisionError::ZeroProvince));
        assert_eq!(
            DivisionCode::parse("000000000000"),
            Err(DivisionError::ZeroProvince)
        );
        assert_eq!(DivisionCode::parse("5100"), Err(DivisionError::ZeroCity));
        assert_eq!(DivisionCode::parse("510001"), Err(DivisionError::ZeroCity));
        assert_eq!(
            DivisionCode::parse("511").unwrap_err().to_string(),
            "区划代码长度应为2、4、6、9或12位，实际为3位"
        );
    }

    #[test]
    fn hierarchy() {
        let v = c("511802001001");
        assert_eq!(v.parent(), Some(c("511802001")));
        assert_eq!(v.township(), Some(c("511802001")));
        assert_eq!(v.county(), Some(c("511802")));
        assert_eq!(v.city(), Some(c("5118")));
        assert_eq!(v.province(), c("51"));
        assert_eq!(
            v.ancestors(),
            vec![c("51"), c("5118"), c("511802"), c("511802001")]
        );
        assert!(c("51").ancestors().is_empty());
        assert_eq!(c("51").parent(), None);
        assert_eq!(c("5118").township(), None);
        assert!(c("5118").contains(&v));
        assert!(v.contains(&v));
        assert!(!v.contains(&c("5118")));
        assert!(!c("5118").contains(&c("5119")));
        assert_eq!(c("5118").range_end(), "5118:");
        assert!(v.as_str() >= "5118" && v.as_str() < c("5118").range_end().as_str());
        assert!("5119" >= c("5118").range_end().as_str());
        assert_eq!(c("5118").padded12(), "511800000000");
    }

    fn code() -> impl Strategy<Value = String> {
        (
            11u32..=99,
            1u32..=99,
            0u32..=99,
            0u32..=999,
            0u32..=999,
            0usize..5,
        )
            .prop_map(|(p, ci, co, t, v, lvl)| {
                let full = format!("{p:02}{ci:02}{co:02}{t:03}{v:03}");
                full[..DivisionLevel::ALL[lvl].code_len()].to_owned()
            })
    }

    proptest! {
        #[test]
        fn native_round_trip(s in code()) {
            let x = DivisionCode::parse_native(&s).unwrap();
            prop_assert_eq!(x.as_str(), s.as_str());
            prop_assert_eq!(DivisionCode::parse_native(&x.to_string()).unwrap(), x.clone());
            prop_assert_eq!(x.level(), DivisionLevel::from_len(s.len()).unwrap());
            if let Some(parent) = x.parent() {
                prop_assert!(parent.contains(&x));
                prop_assert_eq!(parent.level().child(), Some(x.level()));
                prop_assert!(x.as_str() < parent.range_end().as_str());
            }
            for a in x.ancestors() {
                prop_assert!(a.contains(&x));
            }
        }

        #[test]
        fn parse_round_trip(s in code()) {
            if let Ok(x) = DivisionCode::parse(&s) {
                prop_assert_eq!(DivisionCode::parse(&x.to_string()).unwrap(), x.clone());
                // Padding then parsing yields x or, if x's own group is zero, an ancestor.
                prop_assert!(DivisionCode::parse(&x.padded12()).unwrap().contains(&x));
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = DivisionCode::parse(&s);
            let _ = DivisionCode::parse_native(&s);
        }
    }
}
