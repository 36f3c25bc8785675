//! 金额 — money as integer 分 (fen). Never floats: amounts are summed and compared
//! exactly and rounded once, by the rule that needs it.

use std::fmt;
use std::str::FromStr;

/// 分 — an amount of money in fen (1 yuan = 100 fen); may be negative (refunds, recovery).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Fen(pub i64);

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("金额为空")]
    Empty,
    #[error("金额格式不正确，应为如1234.50的数字")]
    Invalid,
    #[error("金额最多保留两位小数(精确到分)")]
    TooManyDecimals,
    #[error("金额超出范围")]
    Overflow,
}

impl Fen {
    pub const ZERO: Fen = Fen(0);

    /// Whole yuan to fen; `None` on overflow.
    pub fn from_yuan(yuan: i64) -> Option<Fen> {
        yuan.checked_mul(100).map(Fen)
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    pub fn checked_mul(self, factor: i64) -> Option<Fen> {
        self.0.checked_mul(factor).map(Fen)
    }

    /// Sum that reports overflow as `None` instead of wrapping or saturating: a wrong
    /// total on a payment roster is worse than no total. (This is why there is no
    /// `std::iter::Sum` impl, which could only panic or saturate.)
    pub fn sum_checked<I: IntoIterator<Item = Fen>>(iter: I) -> Option<Fen> {
        iter.into_iter()
            .try_fold(Fen::ZERO, |acc, x| acc.checked_add(x))
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Plain decimal yuan for files and bank exports: `1234.50`, `-0.05`, `0.00`.
    pub fn yuan_string(self) -> String {
        let abs = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// Parses yuan text as typed by staff or found in spreadsheets: `1234`, `1234.5`,
    /// `1,234.50`, `1234.50元`, `¥12`, `-3.20`. Thousands separators, if used, must be
    /// in the right places, and more than two decimals is an error rather than rounded.
    pub fn parse_yuan(s: &str) -> Result<Fen, MoneyError> {
        let mut t = s.trim();
        if t.is_empty() {
            return Err(MoneyError::Empty);
        }
        if let Some(rest) = t.strip_suffix('元') {
            t = rest.trim_end();
        }
        let mut negative = false;
        let mut take_sign = |t: &mut &str, seen: bool| -> bool {
            if seen {
                return true;
            }
            if let Some(rest) = t.strip_prefix('-') {
                *t = rest.trim_start();
                negative = true;
                return true;
            }
            if let Some(rest) = t.strip_prefix('+') {
                *t = rest.trim_start();
                return true;
            }
            false
        };
        let signed = take_sign(&mut t, false);
        if let Some(rest) = t.strip_prefix('¥').or_else(|| t.strip_prefix('￥')) {
            t = rest.trim_start();
        }
        take_sign(&mut t, signed);
        let (int_part, frac_part) = match t.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (t, None),
        };
        let yuan = parse_int_part(int_part)?;
        let frac = match frac_part {
            None => 0,
            Some(f) if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(MoneyError::Invalid)
            }
            Some(f) if f.len() > 2 => return Err(MoneyError::TooManyDecimals),
            Some(f) => {
                let v = digits_value(f).ok_or(MoneyError::Overflow)?;
                if f.len() == 1 {
                    v * 10
                } else {
                    v
                }
            }
        };
        let magnitude = yuan
            .checked_mul(100)
            .and_then(|v| v.checked_add(frac))
            .ok_or(MoneyError::Overflow)?;
        let signed = if negative {
            -i128::from(magnitude)
        } else {
            i128::from(magnitude)
        };
        i64::try_from(signed)
            .map(Fen)
            .map_err(|_| MoneyError::Overflow)
    }
}

/// Digits with optional correctly placed thousands separators, e.g. `1,234,567`.
fn parse_int_part(s: &str) -> Result<u64, MoneyError> {
    if s.is_empty() {
        return Err(MoneyError::Invalid);
    }
    if !s.bytes().all(|b| b.is_ascii_digit() || b == b',') {
        return Err(MoneyError::Invalid);
    }
    if s.contains(',') {
        let mut groups = s.split(',');
        let first_ok = groups.next().is_some_and(|g| (1..=3).contains(&g.len()));
        if !first_ok || !groups.all(|g| g.len() == 3) {
            return Err(MoneyError::Invalid);
        }
    }
    let mut v = 0u64;
    for b in s.bytes().filter(|b| b.is_ascii_digit()) {
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(MoneyError::Overflow)?;
    }
    Ok(v)
}

fn digits_value(s: &str) -> Option<u64> {
    s.bytes().try_fold(0u64, |acc, b| {
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

/// `1,234.50元`, `-1,234.50元`, `0.00元`.
impl fmt::Display for Fen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let abs = self.0.unsigned_abs();
        if self.0 < 0 {
            f.write_str("-")?;
        }
        let int = (abs / 100).to_string();
        let first = int.len() % 3;
        for (i, ch) in int.chars().enumerate() {
            if i != 0 && i % 3 == first {
                f.write_str(",")?;
            }
            write!(f, "{ch}")?;
        }
        write!(f, ".{:02}元", abs % 100)
    }
}

impl FromStr for Fen {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fen::parse_yuan(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn y(s: &str) -> Result<Fen, MoneyError> {
        Fen::parse_yuan(s)
    }

    #[test]
    fn display() {
        assert_eq!(Fen(123450).to_string(), "1,234.50元");
        assert_eq!(Fen(-123450).to_string(), "-1,234.50元");
        assert_eq!(Fen(0).to_string(), "0.00元");
        assert_eq!(Fen(5).to_string(), "0.05元");
        assert_eq!(Fen(-5).to_string(), "-0.05元");
        assert_eq!(Fen(99_999).to_string(), "999.99元");
        assert_eq!(Fen(100_000).to_string(), "1,000.00元");
        assert_eq!(Fen(12_345_678_900).to_string(), "123,456,789.00元");
        assert_eq!(Fen(i64::MIN).to_string(), "-92,233,720,368,547,758.08元");
        assert_eq!(Fen(123450).yuan_string(), "1234.50");
        assert_eq!(Fen(-5).yuan_string(), "-0.05");
        assert_eq!(Fen(0).yuan_string(), "0.00");
    }

    #[test]
    fn parse() {
        assert_eq!(y("1234"), Ok(Fen(123400)));
        assert_eq!(y("1234.5"), Ok(Fen(123450)));
        assert_eq!(y("1,234.50"), Ok(Fen(123450)));
        assert_eq!(y("1234.50元"), Ok(Fen(123450)));
        assert_eq!(y("¥12"), Ok(Fen(1200)));
        assert_eq!(y("￥ 12.01"), Ok(Fen(1201)));
        assert_eq!(y(" -3.20 "), Ok(Fen(-320)));
        assert_eq!(y("-¥3"), Ok(Fen(-300)));
        assert_eq!(y("¥-3"), Ok(Fen(-300)));
        assert_eq!(y("0.07"), Ok(Fen(7)));
        assert_eq!(y("1,234,567.00元"), Ok(Fen(123_456_700)));
        assert_eq!(y(""), Err(MoneyError::Empty));
        assert_eq!(y("1.234"), Err(MoneyError::TooManyDecimals));
        assert_eq!(
            y("1.234").unwrap_err().to_string(),
            "金额最多保留两位小数(精确到分)"
        );
        for bad in [
            "abc", "1.", ".5", "12,34", "1,2345", ",123", "1e3", "--1", "-¥-1", "1.2.3", "元",
            "1 2",
        ] {
            assert_eq!(y(bad), Err(MoneyError::Invalid), "{bad}");
        }
        assert_eq!(y("92233720368547758.07"), Ok(Fen(i64::MAX)));
        assert_eq!(y("-92233720368547758.08"), Ok(Fen(i64::MIN)));
        assert_eq!(y("92233720368547758.08"), Err(MoneyError::Overflow));
        assert_eq!(y("99999999999999999999999"), Err(MoneyError::Overflow));
    }

    #[test]
    fn arithmetic() {
        assert_eq!(Fen(1).checked_add(Fen(2)), Some(Fen(3)));
        assert_eq!(Fen(i64::MAX).checked_add(Fen(1)), None);
        assert_eq!(Fen(i64::MIN).checked_sub(Fen(1)), None);
        assert_eq!(Fen(500).checked_sub(Fen(750)), Some(Fen(-250)));
        assert!(Fen(-1).is_negative() && !Fen(0).is_negative());
        assert!(Fen(0).is_zero() && !Fen(1).is_zero() && !Fen(-1).is_zero());
        assert_eq!(Fen(250).checked_mul(3), Some(Fen(750)));
        assert_eq!(Fen(i64::MAX).checked_mul(2), None);
        assert_eq!(Fen::sum_checked([Fen(1), Fen(2), Fen(-4)]), Some(Fen(-1)));
        assert_eq!(Fen::sum_checked(Vec::new()), Some(Fen(0)));
        assert_eq!(Fen::sum_checked([Fen(i64::MAX), Fen(1)]), None);
        assert_eq!(Fen::from_yuan(12), Some(Fen(1200)));
    }

    proptest! {
        #[test]
        fn yuan_string_round_trip(x in any::<i64>()) {
            prop_assert_eq!(Fen::parse_yuan(&Fen(x).yuan_string()), Ok(Fen(x)));
        }

        #[test]
        fn display_round_trip(x in any::<i64>()) {
            prop_assert_eq!(Fen::parse_yuan(&Fen(x).to_string()), Ok(Fen(x)));
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,30}") {
            let _ = Fen::parse_yuan(&s);
        }
    }
}
