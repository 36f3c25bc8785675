//! 统一社会信用代码 — unified social credit code (GB 32100-2015 《法人和其他组织统一社会信用代码
//! 编码规则》).

use std::fmt;
use std::str::FromStr;

/// The 31 symbols of GB 32100 (no I, O, S, V, Z); a symbol's value is its index.
const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// `3^(i-1) mod 31` for positions 1–17.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
/// Weights of the embedded 组织机构代码 (GB 11714), positions 9–16 of the credit code.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Why an input is not a valid unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("统一社会信用代码为空")]
    Empty,
    #[error("统一社会信用代码应为18位，实际为{0}位")]
    BadLength(usize),
    /// `pos` is 1-based.
    #[error(
        "统一社会信用代码第{pos}位字符“{ch}”不合法(只能使用数字和除I、O、S、V、Z以外的大写字母)"
    )]
    BadChar { pos: usize, ch: char },
    #[error("统一社会信用代码中的组织机构代码校验码错误，第17位应为{expected}")]
    BadOrgCheck { expected: char },
    #[error("统一社会信用代码校验码错误，第18位应为{expected}")]
    BadCheck { expected: char },
}

/// A validated 18-character unified social credit code (uppercase).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

fn value(b: u8) -> Option<u32> {
    CHARSET.iter().position(|&c| c == b).map(|i| i as u32)
}

/// Check character over the first 17 symbols; `None` if any is outside the charset.
fn check_char(first17: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (&b, &w) in first17.iter().zip(WEIGHTS.iter()) {
        sum += value(b)? * w;
    }
    let r = (31 - sum % 31) % 31;
    Some(CHARSET[r as usize])
}

/// Check character of the embedded organisation code from its first 8 symbols.
/// GB 11714 values letters A–Z as 10–35, which differs from the GB 32100 index.
fn org_check_char(first8: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (&b, &w) in first8.iter().zip(ORG_WEIGHTS.iter()) {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        11 => b'0',
        10 => b'X',
        r => b'0' + r as u8,
    })
}

impl CreditCode {
    /// Parses a code: surrounding whitespace is ignored and letters are uppercased. Both
    /// the final check character and the embedded organisation code's check are verified.
    pub fn parse(input: &str) -> Result<Self, CreditCodeError> {
        Self::parse_inner(input, true)
    }

    /// Like `parse` but skips the embedded organisation-code check (pos 17). Some codes
    /// issued to 个体工商户 carry no real organisation code; use this only for such
    /// imports, never for 民政-registered organisations.
    pub fn parse_without_org_check(input: &str) -> Result<Self, CreditCodeError> {
        Self::parse_inner(input, false)
    }

    fn parse_inner(input: &str, org_check: bool) -> Result<Self, CreditCodeError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(CreditCodeError::Empty);
        }
        let len = s.chars().count();
        if len != 18 {
            return Err(CreditCodeError::BadLength(len));
        }
        let mut buf = [0u8; 18];
        for (i, c) in s.chars().enumerate() {
            let u = c.to_ascii_uppercase();
            match u8::try_from(u) {
                Ok(b) if CHARSET.contains(&b) => buf[i] = b,
                _ => return Err(CreditCodeError::BadChar { pos: i + 1, ch: c }),
            }
        }
        if org_check {
            let expected = org_check_char(&buf[8..16]).ok_or(CreditCodeError::BadLength(len))?;
            if buf[16] != expected {
                return Err(CreditCodeError::BadOrgCheck {
                    expected: expected as char,
                });
            }
        }
        let expected = check_char(&buf[..17]).ok_or(CreditCodeError::BadLength(len))?;
        if buf[17] != expected {
            return Err(CreditCodeError::BadCheck {
                expected: expected as char,
            });
        }
        Ok(CreditCode(buf.iter().map(|&b| b as char).collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// 登记管理部门代码 — position 1.
    pub fn registering_authority(&self) -> char {
        self.0.as_bytes()[0] as char
    }

    /// Registered by 民政 (civil affairs), i.e. position 1 is `5`.
    pub fn is_civil_affairs(&self) -> bool {
        self.registering_authority() == '5'
    }

    /// 机构类别 — position 2 (meaning depends on the registering authority).
    pub fn org_type(&self) -> char {
        self.0.as_bytes()[1] as char
    }

    /// The organisation type under 民政; `None` for other authorities or unknown types.
    pub fn org_type_label(&self) -> Option<&'static str> {
        if !self.is_civil_affairs() {
            return None;
        }
        match self.org_type() {
            '1' => Some("社会团体"),
            '2' => Some("民办非企业单位/社会服务机构"),
            '3' => Some("基金会"),
            '9' => Some("其他"),
            _ => None,
        }
    }

    /// GB/T 2260 code of the registering authority (positions 3–8).
    pub fn authority_region_code(&self) -> &str {
        &self.0[2..8]
    }

    /// 组织机构代码 — positions 9–17.
    pub fn org_code(&self) -> &str {
        &self.0[8..17]
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for CreditCode {
    type Err = CreditCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for CreditCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for CreditCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VALID: &str = "91350100M000100Y43";

    #[test]
    fn vector() {
        let c = CreditCode::parse(VALID).unwrap();
        assert_eq!(c.as_str(), VALID);
        assert_eq!(c.org_code(), "M000100Y4");
        assert_eq!(c.registering_authority(), '9');
        assert!(!c.is_civil_affairs());
        assert_eq!(c.org_type_label(), None);
        assert_eq!(CreditCode::parse(" 91350100m000100y43 ").unwrap(), c);
        assert_eq!(c.to_string(), VALID);
    }

    fn make(first16: &str) -> String {
        let b = first16.as_bytes();
        let org = org_check_char(&b[8..16]).unwrap() as char;
        let first17 = format!("{first16}{org}");
        let c = check_char(first17.as_bytes()).unwrap() as char;
        format!("{first17}{c}")
    }

    #[test]
    fn civil_affairs_types() {
        for (t, label) in [
            ('1', "社会团体"),
            ('2', "民办非企业单位/社会服务机构"),
            ('3', "基金会"),
            ('9', "其他"),
        ] {
            let s = make(&format!("5{t}511802MJ000001"));
            let c = CreditCode::parse(&s).unwrap();
            assert!(c.is_civil_affairs());
            assert_eq!(c.org_type_label(), Some(label));
            assert_eq!(c.authority_region_code(), "511802");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(CreditCode::parse("  "), Err(CreditCodeError::Empty));
        assert_eq!(
            CreditCode::parse("91350100M000100Y4"),
            Err(CreditCodeError::BadLength(17))
        );
        assert!(matches!(
            CreditCode::parse("91350100M000100I43"),
            Err(CreditCodeError::BadChar { pos: 16, ch: 'I' })
        ));
        assert!(matches!(
            CreditCode::parse("91350100M000100Y4３"),
            Err(CreditCodeError::BadChar { pos: 18, .. })
        ));
        assert!(matches!(
            CreditCode::parse("91350100M000100Y44"),
            Err(CreditCodeError::BadCheck { expected: '3' })
        ));
        assert!(matches!(
            CreditCode::parse("91350100M000100Y53"),
            Err(CreditCodeError::BadOrgCheck { expected: '4' })
        ));
        // With the org check off, only the final check matters.
        let first17 = "91350100M000100Y5";
        let c = check_char(first17.as_bytes()).unwrap() as char;
        let s = format!("{first17}{c}");
        assert!(CreditCode::parse(&s).is_err());
        assert!(CreditCode::parse_without_org_check(&s).is_ok());
    }

    proptest! {
        #[test]
        fn single_char_change_is_invalid(pos in 0usize..18, delta in 1usize..31) {
            let mut b = VALID.as_bytes().to_vec();
            let cur = CHARSET.iter().position(|&c| c == b[pos]).unwrap();
            b[pos] = CHARSET[(cur + delta) % 31];
            let s = String::from_utf8(b).unwrap();
            prop_assert!(CreditCode::parse(&s).is_err(), "{}", s);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,30}") {
            let _ = CreditCode::parse(&s);
        }
    }
}
