//! 月份 — a calendar month, the unit of benefit periods and monthly statistics.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

const MIN_YEAR: i32 = 1;
const MAX_YEAR: i32 = 9999;

/// A year and month between 0001-01 and 9999-12 (so it always prints as `YYYY-MM`).
/// Ordering is chronological.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct YearMonth {
    // Field order matters: the derived Ord compares year first.
    year: i32,
    month: u32,
}

/// Why a text is not a month.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MonthError {
    #[error("月份格式应为YYYY-MM，例如2026-03")]
    Format,
}

impl YearMonth {
    pub const MIN: YearMonth = YearMonth {
        year: MIN_YEAR,
        month: 1,
    };
    pub const MAX: YearMonth = YearMonth {
        year: MAX_YEAR,
        month: 12,
    };

    /// `None` unless `1 <= month <= 12` and `1 <= year <= 9999`.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((MIN_YEAR..=MAX_YEAR).contains(&year) && (1..=12).contains(&month))
            .then_some(YearMonth { year, month })
    }

    /// Parses `YYYY-MM` (surrounding whitespace ignored). The compact `YYYYMM` used in
    /// bank payment files is accepted too.
    pub fn parse(s: &str) -> Result<Self, MonthError> {
        let t = s.trim().as_bytes();
        let (y, m) = match t.len() {
            7 if t[4] == b'-' => (&t[..4], &t[5..]),
            6 => (&t[..4], &t[4..]),
            _ => return Err(MonthError::Format),
        };
        if !y.iter().chain(m).all(u8::is_ascii_digit) {
            return Err(MonthError::Format);
        }
        let num = |d: &[u8]| d.iter().fold(0u32, |a, &b| a * 10 + u32::from(b - b'0'));
        let year = i32::try_from(num(y)).map_err(|_| MonthError::Format)?;
        Self::new(year, num(m)).ok_or(MonthError::Format)
    }

    /// The month containing `date` (clamped to the supported years).
    pub fn of(date: NaiveDate) -> Self {
        Self::from_index(month_index(date.year(), date.month()))
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn first_day(self) -> NaiveDate {
        // Years 1..=9999 are well inside chrono's range; the fallback is unreachable.
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    pub fn last_day(self) -> NaiveDate {
        let next_first = if self.month == 12 {
            NaiveDate::from_ymd_opt(self.year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(self.year, self.month + 1, 1)
        };
        next_first
            .and_then(|d| d.pred_opt())
            .unwrap_or(NaiveDate::MAX)
    }

    /// Number of days in the month.
    pub fn days(self) -> u32 {
        self.last_day().day()
    }

    pub fn contains(self, date: NaiveDate) -> bool {
        date.year() == self.year && date.month() == self.month
    }

    /// The following month; stays at 9999-12 (never reached by real data).
    pub fn next(self) -> Self {
        self.add_months(1)
    }

    /// The preceding month; stays at 0001-01.
    pub fn prev(self) -> Self {
        self.add_months(-1)
    }

    /// `n` months later (earlier if negative), clamped to 0001-01..=9999-12.
    pub fn add_months(self, n: i32) -> Self {
        Self::from_index(self.index() + i64::from(n))
    }

    /// Like `add_months` but `None` instead of clamping.
    pub fn checked_add_months(self, n: i32) -> Option<Self> {
        let i = self.index() + i64::from(n);
        (Self::MIN.index()..=Self::MAX.index())
            .contains(&i)
            .then(|| Self::from_index(i))
    }

    /// Months from `self` to `other`: positive if `other` is later, 0 if equal.
    pub fn months_until(self, other: YearMonth) -> i32 {
        // At most ±119,987, so the conversion cannot fail.
        i32::try_from(other.index() - self.index()).unwrap_or(0)
    }

    /// Chinese label: `2026年3月`.
    pub fn label(self) -> String {
        format!("{}年{}月", self.year, self.month)
    }

    /// Compact `YYYYMM`, as in bank payment files.
    pub fn compact(self) -> String {
        format!("{:04}{:02}", self.year, self.month)
    }

    fn index(self) -> i64 {
        month_index(self.year, self.month)
    }

    fn from_index(i: i64) -> Self {
        let i = i.clamp(Self::MIN.index(), Self::MAX.index());
        // Within the clamp both parts fit their types.
        let year = i32::try_from(i.div_euclid(12)).unwrap_or(MAX_YEAR);
        let month = u32::try_from(i.rem_euclid(12) + 1).unwrap_or(12);
        YearMonth { year, month }
    }
}

fn month_index(year: i32, month: u32) -> i64 {
    i64::from(year) * 12 + i64::from(month) - 1
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = MonthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for YearMonth {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ym(y: i32, m: u32) -> YearMonth {
        YearMonth::new(y, m).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn basics() {
        let m = YearMonth::parse("2026-03").unwrap();
        assert_eq!(m, ym(2026, 3));
        assert_eq!(m.to_string(), "2026-03");
        assert_eq!(m.label(), "2026年3月");
        assert_eq!(m.compact(), "202603");
        assert_eq!(YearMonth::parse("202603"), Ok(m));
        assert_eq!(YearMonth::parse(" 2026-03 "), Ok(m));
        for bad in [
            "2026-3",
            "2026-13",
            "2026-00",
            "26-03",
            "",
            "2026/03",
            "２０２６-03",
        ] {
            assert_eq!(YearMonth::parse(bad), Err(MonthError::Format), "{bad}");
        }
        assert_eq!(
            MonthError::Format.to_string(),
            "月份格式应为YYYY-MM，例如2026-03"
        );
        assert_eq!(YearMonth::new(2026, 0), None);
        assert_eq!(YearMonth::new(0, 1), None);
        assert_eq!(YearMonth::of(d(2024, 2, 29)), ym(2024, 2));
        assert_eq!((m.year(), m.month()), (2026, 3));
    }

    #[test]
    fn days_and_steps() {
        assert_eq!(ym(2024, 2).first_day(), d(2024, 2, 1));
        assert_eq!(ym(2024, 2).last_day(), d(2024, 2, 29));
        assert_eq!(ym(2025, 2).last_day(), d(2025, 2, 28));
        assert_eq!(ym(2025, 12).last_day(), d(2025, 12, 31));
        assert_eq!(ym(2025, 12).next(), ym(2026, 1));
        assert_eq!(ym(2026, 1).prev(), ym(2025, 12));
        assert_eq!(ym(2026, 3).add_months(-15), ym(2024, 12));
        assert_eq!(ym(2026, 3).add_months(22), ym(2028, 1));
        assert_eq!(ym(2025, 11).months_until(ym(2026, 2)), 3);
        assert_eq!(ym(2026, 2).months_until(ym(2025, 11)), -3);
        assert_eq!(YearMonth::MAX.next(), YearMonth::MAX);
        assert_eq!(YearMonth::MIN.prev(), YearMonth::MIN);
        assert_eq!(YearMonth::MAX.checked_add_months(1), None);
        assert!(ym(2026, 3).contains(d(2026, 3, 31)));
        assert!(!ym(2026, 3).contains(d(2025, 3, 31)));
        assert_eq!(ym(2024, 2).days(), 29);
    }

    fn any_month() -> impl Strategy<Value = YearMonth> {
        (1i32..=9999, 1u32..=12).prop_map(|(y, m)| ym(y, m))
    }

    proptest! {
        #[test]
        fn next_prev_inverse(m in any_month()) {
            if m != YearMonth::MAX {
                prop_assert_eq!(m.next().prev(), m);
                prop_assert!(m.next() > m);
                prop_assert_eq!(m.months_until(m.next()), 1);
                prop_assert_eq!(m.next().first_day(), m.last_day().succ_opt().unwrap());
            }
        }

        #[test]
        fn order_is_chronological(a in any_month(), b in any_month()) {
            prop_assert_eq!(a.cmp(&b), a.first_day().cmp(&b.first_day()));
            prop_assert_eq!(a.months_until(b).signum(), -(a.cmp(&b) as i32));
        }

        #[test]
        fn display_round_trip(m in any_month()) {
            prop_assert_eq!(YearMonth::parse(&m.to_string()), Ok(m));
            prop_assert_eq!(YearMonth::of(m.first_day()), m);
            prop_assert_eq!(YearMonth::of(m.last_day()), m);
        }

        #[test]
        fn add_months_consistent(m in any_month(), n in -1200i32..1200) {
            if let Some(k) = m.checked_add_months(n) {
                prop_assert_eq!(m.months_until(k), n);
                prop_assert_eq!(k.add_months(-n), m);
            }
        }
    }
}
