//! 工作日历 — working days under the State Council's holiday schedules
//! (全国年节及纪念日放假安排), used for statutory "within N working days" deadlines.
//!
//! A schedule lists days off (`holiday`, weekends inside a holiday span included) and
//! weekend days that are working days (`workday`, 调休上班). Every other Monday–Friday is
//! a working day. For dates in years without a schedule the calendar falls back to plain
//! Monday–Friday: deadlines stay computable, but may be early by the length of an
//! unlisted holiday, so callers should check `covers` and warn when it is false.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The official schedules shipped with the crate (2025–2026).
const OFFICIAL_CSV: &str = include_str!("../data/holidays-cn.csv");

/// Why a holiday schedule could not be loaded. Line numbers are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("第{line}行格式错误，应为“日期,类型,名称”")]
    BadLine { line: usize },
    #[error("第{line}行日期无效：{value}")]
    BadDate { line: usize, value: String },
    #[error("第{line}行类型“{kind}”未知，应为holiday(放假)或workday(调休上班)")]
    UnknownKind { line: usize, kind: String },
    #[error("第{line}行：{date}不是周末，不能标为调休上班日")]
    WorkdayNotWeekend { line: usize, date: NaiveDate },
    #[error("第{line}行：{date}既是放假日又是调休上班日")]
    Conflict { line: usize, date: NaiveDate },
    #[error("第{line}行：{date}重复出现")]
    Duplicate { line: usize, date: NaiveDate },
}

/// 工作日历 — which days are working days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    /// Days off, with the festival name.
    holidays: BTreeMap<NaiveDate, String>,
    /// Weekend days that are working days (调休上班), with the festival they make up for.
    workdays: BTreeMap<NaiveDate, String>,
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

impl WorkCalendar {
    /// The official schedules embedded in the crate.
    pub fn official() -> WorkCalendar {
        // The embedded file is fixed at compile time and `official_schedule_loads` checks it.
        Self::from_csv(OFFICIAL_CSV).expect("embedded holiday schedule is valid")
    }

    /// Loads a schedule in the `date,kind,name` format (`kind` = `holiday` | `workday`).
    /// A header line, blank lines and `#` comments are skipped.
    pub fn from_csv(text: &str) -> Result<WorkCalendar, CalendarError> {
        let mut cal = WorkCalendar::default();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let row = raw.trim_start_matches('\u{feff}').trim();
            if row.is_empty() || row.starts_with('#') || row.starts_with("date,") {
                continue;
            }
            let mut fields = row.splitn(3, ',').map(str::trim);
            let (Some(date), Some(kind)) = (fields.next(), fields.next()) else {
                return Err(CalendarError::BadLine { line });
            };
            let name = fields.next().unwrap_or("").to_owned();
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").map_err(|_| {
                CalendarError::BadDate {
                    line,
                    value: date.chars().take(40).collect(),
                }
            })?;
            let (mine, other) = match kind {
                "holiday" => (&mut cal.holidays, &cal.workdays),
                "workday" => {
                    if !is_weekend(date) {
                        return Err(CalendarError::WorkdayNotWeekend { line, date });
                    }
                    (&mut cal.workdays, &cal.holidays)
                }
                _ => {
                    return Err(CalendarError::UnknownKind {
                        line,
                        kind: kind.chars().take(40).collect(),
                    })
                }
            };
            if other.contains_key(&date) {
                return Err(CalendarError::Conflict { line, date });
            }
            if mine.insert(date, name).is_some() {
                return Err(CalendarError::Duplicate { line, date });
            }
        }
        Ok(cal)
    }

    /// Adds another schedule (e.g. next year's, published each November). Where both
    /// mention a date, `other` wins, since it is the newer notice.
    pub fn merge(&mut self, other: WorkCalendar) {
        for (date, name) in other.holidays {
            self.workdays.remove(&date);
            self.holidays.insert(date, name);
        }
        for (date, name) in other.workdays {
            self.holidays.remove(&date);
            self.workdays.insert(date, name);
        }
    }

    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.holidays.contains_key(&date) {
            false
        } else if self.workdays.contains_key(&date) {
            true
        } else {
            !is_weekend(date)
        }
    }

    /// The festival a day off belongs to, e.g. "国庆节、中秋节"; `None` for other days.
    pub fn holiday_name(&self, date: NaiveDate) -> Option<&str> {
        self.holidays.get(&date).map(String::as_str)
    }

    /// The festival a make-up working day (调休上班) belongs to.
    pub fn makeup_workday_name(&self, date: NaiveDate) -> Option<&str> {
        self.workdays.get(&date).map(String::as_str)
    }

    /// Years with at least one entry, ascending.
    pub fn known_years(&self) -> Vec<i32> {
        let years: BTreeSet<i32> = self
            .holidays
            .keys()
            .chain(self.workdays.keys())
            .map(|d| d.year())
            .collect();
        years.into_iter().collect()
    }

    /// Whether `date`'s year has a schedule (otherwise Monday–Friday is assumed).
    pub fn covers(&self, date: NaiveDate) -> bool {
        let year = date.year();
        let (Some(first), Some(last)) = (
            NaiveDate::from_ymd_opt(year, 1, 1),
            NaiveDate::from_ymd_opt(year, 12, 31),
        ) else {
            return false;
        };
        self.holidays.range(first..=last).next().is_some()
            || self.workdays.range(first..=last).next().is_some()
    }

    /// Last date with an entry; beyond it every week has exactly five working days.
    fn last_entry(&self) -> Option<NaiveDate> {
        let h = self.holidays.keys().next_back();
        let w = self.workdays.keys().next_back();
        h.max(w).copied()
    }

    /// The `n`-th working day after `start` (`start` itself for `n == 0`), i.e. the
    /// deadline for "within `n` working days" counted from the day after `start`.
    /// Saturates at `NaiveDate::MAX` for absurd `n`.
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let last = self.last_entry();
        let mut date = start;
        let mut left = n;
        while left > 0 {
            // Past the last entry, skip whole weeks so large n stays cheap; keep at least
            // one day for the stepping loop so the result lands on a working day.
            if left > 5 && !matches!(last, Some(l) if date < l) {
                let weeks = (left - 1) / 5;
                match date.checked_add_days(Days::new(u64::from(weeks) * 7)) {
                    Some(d) => date = d,
                    None => return NaiveDate::MAX,
                }
                left -= weeks * 5;
                continue;
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => return NaiveDate::MAX,
            }
            if self.is_working_day(date) {
                left -= 1;
            }
        }
        date
    }

    /// Working days in `(from, to]`; negative (minus the count in `(to, from]`) if
    /// `to < from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        if to < from {
            return -self.working_days_between(to, from);
        }
        let days = (to - from).num_days();
        let mut count = days / 7 * 5;
        let mut d = from + Days::new(u64::try_from(days / 7 * 7).unwrap_or(0));
        while d < to {
            match d.succ_opt() {
                Some(next) => d = next,
                None => break,
            }
            if !is_weekend(d) {
                count += 1;
            }
        }
        let range = (Bound::Excluded(from), Bound::Included(to));
        let off_weekdays = self
            .holidays
            .range(range)
            .filter(|(d, _)| !is_weekend(**d))
            .count();
        let on_weekends = self
            .workdays
            .range(range)
            .filter(|(d, _)| is_weekend(**d))
            .count();
        count - off_weekdays as i64 + on_weekends as i64
    }

    /// `date` if it is a working day, otherwise the next one.
    pub fn next_working_day(&self, date: NaiveDate) -> NaiveDate {
        let mut d = date;
        while !self.is_working_day(d) {
            match d.succ_opt() {
                Some(next) => d = next,
                None => return NaiveDate::MAX,
            }
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn official_schedule_loads() {
        let cal = WorkCalendar::from_csv(OFFICIAL_CSV).unwrap();
        assert_eq!(cal.known_years(), vec![2025, 2026]);
        assert_eq!(cal, WorkCalendar::official());
    }

    #[test]
    fn official_days() {
        let cal = WorkCalendar::official();
        for day in 1..=8 {
            assert!(!cal.is_working_day(d(2025, 10, day)), "2025-10-{day}");
        }
        assert_eq!(cal.holiday_name(d(2025, 10, 1)), Some("国庆节、中秋节"));
        assert!(cal.is_working_day(d(2025, 10, 9)));
        assert!(cal.is_working_day(d(2025, 9, 28))); // Sunday, 调休
        assert!(cal.is_working_day(d(2025, 10, 11))); // Saturday, 调休
        assert!(cal.is_working_day(d(2026, 2, 14))); // Saturday, 调休
        assert_eq!(cal.makeup_workday_name(d(2026, 2, 14)), Some("春节"));
        assert!(!cal.is_working_day(d(2026, 2, 16)));
        assert!(!cal.is_working_day(d(2026, 3, 14))); // ordinary Saturday
        assert!(cal.is_working_day(d(2026, 3, 16))); // ordinary Monday
        assert_eq!(cal.holiday_name(d(2026, 3, 16)), None);
        assert!(cal.covers(d(2026, 12, 31)));
        assert!(!cal.covers(d(2027, 1, 1)));
        // Outside known years: Monday–Friday.
        assert!(!cal.is_working_day(d(2027, 1, 2)));
        assert!(cal.is_working_day(d(2027, 1, 1)));
    }

    #[test]
    fn adding_working_days() {
        let cal = WorkCalendar::official();
        assert_eq!(cal.add_working_days(d(2025, 9, 30), 0), d(2025, 9, 30));
        assert_eq!(cal.add_working_days(d(2025, 9, 30), 1), d(2025, 10, 9));
        assert_eq!(cal.add_working_days(d(2025, 9, 30), 3), d(2025, 10, 11));
        assert_eq!(cal.add_working_days(d(2025, 9, 26), 1), d(2025, 9, 28));
        assert_eq!(cal.working_days_between(d(2025, 9, 30), d(2025, 10, 9)), 1);
        assert_eq!(cal.working_days_between(d(2025, 10, 9), d(2025, 9, 30)), -1);
        assert_eq!(cal.working_days_between(d(2025, 10, 1), d(2025, 10, 1)), 0);
        assert_eq!(cal.next_working_day(d(2025, 10, 1)), d(2025, 10, 9));
        assert_eq!(cal.next_working_day(d(2025, 10, 9)), d(2025, 10, 9));
        // Large n past the schedule uses the week skip; check against counting.
        let far = cal.add_working_days(d(2026, 12, 1), 10_000);
        assert!(cal.is_working_day(far));
        assert_eq!(cal.working_days_between(d(2026, 12, 1), far), 10_000);
        assert_eq!(
            cal.add_working_days(d(2025, 1, 1), u32::MAX),
            NaiveDate::MAX
        );
    }

    #[test]
    fn csv_errors() {
        let e = |t: &str| WorkCalendar::from_csv(t).unwrap_err();
        assert_eq!(
            e("date,kind,name\n2025-13-01,holiday,x").to_string(),
            "第2行日期无效：2025-13-01"
        );
        assert!(matches!(
            e("2025-10-01"),
            CalendarError::BadLine { line: 1 }
        ));
        assert!(matches!(
            e("2025-10-01,off,x"),
            CalendarError::UnknownKind { line: 1, .. }
        ));
        assert!(matches!(
            e("\n2025-10-09,workday,x"),
            CalendarError::WorkdayNotWeekend { line: 2, .. }
        ));
        assert!(matches!(
            e("2025-09-28,workday,x\n2025-09-28,holiday,x"),
            CalendarError::Conflict { line: 2, .. }
        ));
        assert!(matches!(
            e("2025-09-28,holiday,x\n2025-09-28,workday,x"),
            CalendarError::Conflict { line: 2, .. }
        ));
        assert!(matches!(
            e("2025-10-01,holiday,x\n2025-10-01,holiday,x"),
            CalendarError::Duplicate { line: 2, .. }
        ));
        assert_eq!(
            WorkCalendar::from_csv("# none\n\n").unwrap(),
            WorkCalendar::default()
        );
    }

    #[test]
    fn merging() {
        let mut cal = WorkCalendar::official();
        let next =
            WorkCalendar::from_csv("2027-01-01,holiday,元旦\n2027-01-02,workday,元旦").unwrap();
        cal.merge(next);
        assert_eq!(cal.known_years(), vec![2025, 2026, 2027]);
        assert!(!cal.is_working_day(d(2027, 1, 1)));
        assert!(cal.is_working_day(d(2027, 1, 2)));
        // A newer notice overrides an older entry for the same date.
        cal.merge(WorkCalendar::from_csv("2027-01-02,holiday,元旦").unwrap());
        assert!(!cal.is_working_day(d(2027, 1, 2)));
        assert_eq!(cal.makeup_workday_name(d(2027, 1, 2)), None);
    }

    #[test]
    fn a_year_is_covered_by_a_schedule_listing_only_days_off_or_only_makeup_days() {
        let off = WorkCalendar::from_csv("2027-10-01,holiday,国庆节").unwrap();
        assert!(off.covers(d(2027, 1, 1)));
        assert!(!off.covers(d(2028, 10, 1)));
        let on = WorkCalendar::from_csv("2027-09-26,workday,国庆节").unwrap();
        assert!(on.covers(d(2027, 12, 31)));
        assert!(!on.covers(d(2026, 9, 26)));
    }

    fn naive_count(cal: &WorkCalendar, from: NaiveDate, to: NaiveDate) -> i64 {
        from.iter_days()
            .skip(1)
            .take_while(|x| *x <= to)
            .filter(|x| cal.is_working_day(*x))
            .count() as i64
    }

    fn date_in_range() -> impl Strategy<Value = NaiveDate> {
        (0u64..4 * 366).prop_map(|k| d(2024, 6, 1) + Days::new(k))
    }

    proptest! {
        #[test]
        fn add_then_count(start in date_in_range(), n in 0u32..600) {
            let cal = WorkCalendar::official();
            let end = cal.add_working_days(start, n);
            if n >= 1 {
                prop_assert!(cal.is_working_day(end));
            }
            prop_assert_eq!(cal.working_days_between(start, end), i64::from(n));
            prop_assert_eq!(cal.working_days_between(end, start), -i64::from(n));
        }

        #[test]
        fn count_matches_naive(a in date_in_range(), b in date_in_range()) {
            let cal = WorkCalendar::official();
            let expected = if a <= b { naive_count(&cal, a, b) } else { -naive_count(&cal, b, a) };
            prop_assert_eq!(cal.working_days_between(a, b), expected);
        }

        #[test]
        fn next_working_day_is_working(a in date_in_range()) {
            let cal = WorkCalendar::official();
            let n = cal.next_working_day(a);
            prop_assert!(n >= a && cal.is_working_day(n));
            prop_assert!(a.iter_days().take_while(|x| *x < n).all(|x| !cal.is_working_day(x)));
        }
    }
}
