//! 互斥与限制 — pure checks on combinations and periods (docs/rules.md §2, §4): 低保/特困 exclusivity, temporary aid frequency, the
//! payment start month, the review date and the 渐退 (gradual exit) period. All
//! numbers come in as parameters.

use chrono::{Datelike, Days, Months, NaiveDate};

use crate::programs::Program;
use crate::YearMonth;

/// Why a combination or period is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("该人员正在享受{existing}，不能同时申请{applying}")]
    Exclusive {
        existing: &'static str,
        applying: &'static str,
    },
    #[error("{year}年已因“{cause}”获得临时救助{count}次，每年同一事由最多{max}次")]
    AnnualLimit {
        cause: String,
        year: i32,
        count: u32,
        max: u32,
    },
    #[error("渐退期应为1至12个月，实为{0}个月")]
    GraceOutOfRange(u32),
}

/// Whether two programs cannot be held by the same person at once: a person is in at
/// most one 低保 (urban, rural or 单人保), and 低保 and 特困 exclude each other (特困
/// already covers basic living).
pub fn mutually_exclusive(a: Program, b: Program) -> bool {
    let tekun_or_dibao = |p: Program| p.is_dibao() || p == Program::Tekun;
    tekun_or_dibao(a) && tekun_or_dibao(b)
}

/// Checks a new application against the programs the person currently holds.
pub fn check_exclusive(current: &[Program], applying: Program) -> Result<(), LimitError> {
    match current.iter().find(|p| mutually_exclusive(**p, applying)) {
        Some(p) => Err(LimitError::Exclusive {
            existing: p.label(),
            applying: applying.label(),
        }),
        None => Ok(()),
    }
}

/// An earlier temporary aid grant to the same household.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PastGrant {
    pub granted_on: NaiveDate,
    /// The cause as recorded (e.g. "火灾", "重病"); compared after trimming.
    pub cause: String,
}

/// 临时救助频次: at most `max_per_year` grants per cause per calendar year (local
/// practice; docs/rules.md §2). A calendar year is used because that is how
/// the annual caps are budgeted.
pub fn check_temporary_frequency(
    past: &[PastGrant],
    cause: &str,
    as_of: NaiveDate,
    max_per_year: u32,
) -> Result<(), LimitError> {
    let cause = cause.trim();
    let year = as_of.year();
    let count = past
        .iter()
        .filter(|g| g.granted_on.year() == year && g.cause.trim() == cause)
        .count() as u32;
    if count >= max_per_year {
        Err(LimitError::AnnualLimit {
            cause: cause.to_string(),
            year,
            count,
            max: max_per_year,
        })
    } else {
        Ok(())
    }
}

/// 发放起始月: the month `offset_months` after the approval month (1 = the month
/// after, docs/rules.md §4; 0 = the same month where a locality pays so).
pub fn enrolment_start_month(approved_on: NaiveDate, offset_months: u32) -> YearMonth {
    let offset = i32::try_from(offset_months).unwrap_or(i32::MAX);
    YearMonth::of(approved_on)
        .checked_add_months(offset)
        .unwrap_or(YearMonth::MAX)
}

crate::coded_enum! {
    /// 核查类别.
    pub enum ReviewClass {
        /// 收入来源稳定、变化不大 (yearly by default).
        Stable = ("stable", "收入稳定家庭"),
        /// 收入不稳定且有劳动能力的成员 (every 6 months by default).
        Irregular = ("irregular", "收入不稳定家庭"),
    }
}

/// 下次核查日期 — `months` (the parameter for the class) after `last`, clamped to
/// the month's end (31 Aug + 6 months = 28/29 Feb).
pub fn next_review_date(
    last: NaiveDate,
    class: ReviewClass,
    stable_months: u32,
    irregular_months: u32,
) -> NaiveDate {
    let m = match class {
        ReviewClass::Stable => stable_months,
        ReviewClass::Irregular => irregular_months,
    };
    last.checked_add_months(Months::new(m))
        .unwrap_or(NaiveDate::MAX)
}

/// 渐退期 (docs/rules.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GracePeriod {
    pub first_month: YearMonth,
    pub last_month: YearMonth,
    /// Remind staff on this date (`warn_days` before the period ends).
    pub warn_on: NaiveDate,
}

/// The gradual-exit period after a decision that income rose above the standard:
/// `months` (1–12, commonly 6) starting the month after the decision.
pub fn grace_period(
    decided_on: NaiveDate,
    months: u32,
    warn_days: u32,
) -> Result<GracePeriod, LimitError> {
    if !(1..=12).contains(&months) {
        return Err(LimitError::GraceOutOfRange(months));
    }
    // 1..=12 fits i32.
    let first = YearMonth::of(decided_on).next();
    let last = first.add_months(months as i32 - 1);
    let end = last.last_day();
    let warn_on = end
        .checked_sub_days(Days::new(u64::from(warn_days)))
        .unwrap_or(end);
    Ok(GracePeriod {
        first_month: first,
        last_month: last,
        warn_on,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn ym(y: i32, m: u32) -> YearMonth {
        YearMonth::new(y, m).unwrap()
    }

    #[test]
    fn dibao_and_tekun_exclusive() {
        let e = check_exclusive(&[Program::RuralDibao], Program::Tekun).unwrap_err();
        assert_eq!(
            e.to_string(),
            "该人员正在享受农村最低生活保障，不能同时申请特困人员救助供养"
        );
        assert!(check_exclusive(&[Program::Tekun], Program::UrbanDibao).is_err());
        assert!(check_exclusive(&[Program::Tekun], Program::SinglePersonDibao).is_err());
        assert!(check_exclusive(&[Program::UrbanDibao], Program::RuralDibao).is_err());
        assert!(check_exclusive(&[Program::UrbanDibao], Program::UrbanDibao).is_err());
        assert!(check_exclusive(&[Program::Tekun], Program::Tekun).is_err());
        // Other programs combine freely with either.
        assert!(check_exclusive(&[Program::Tekun], Program::MedicalAssistance).is_ok());
        assert!(check_exclusive(&[Program::RuralDibao], Program::OldAgeAllowance).is_ok());
        assert!(check_exclusive(&[Program::RuralDibao], Program::TemporaryAssistance).is_ok());
        assert!(check_exclusive(&[], Program::Tekun).is_ok());
    }

    #[test]
    fn temporary_once_per_cause_per_year() {
        let past = [PastGrant {
            granted_on: d(2025, 11, 3),
            cause: "火灾".into(),
        }];
        assert!(check_temporary_frequency(&past, "火灾", d(2025, 12, 31), 1).is_err());
        assert!(check_temporary_frequency(&past, " 火灾 ", d(2026, 1, 1), 1).is_ok());
        assert!(check_temporary_frequency(&past, "重病", d(2025, 12, 1), 1).is_ok());
        assert!(check_temporary_frequency(&past, "火灾", d(2025, 12, 1), 2).is_ok());
        let e = check_temporary_frequency(&past, "火灾", d(2025, 12, 1), 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "2025年已因“火灾”获得临时救助1次，每年同一事由最多1次"
        );
    }

    #[test]
    fn start_month_review_and_grace() {
        assert_eq!(enrolment_start_month(d(2025, 12, 31), 1), ym(2026, 1));
        assert_eq!(enrolment_start_month(d(2026, 3, 1), 0), ym(2026, 3));
        assert_eq!(
            next_review_date(d(2025, 8, 31), ReviewClass::Irregular, 12, 6),
            d(2026, 2, 28)
        );
        assert_eq!(
            next_review_date(d(2025, 8, 31), ReviewClass::Stable, 12, 6),
            d(2026, 8, 31)
        );
        let g = grace_period(d(2026, 3, 15), 6, 30).unwrap();
        assert_eq!(g.first_month, ym(2026, 4));
        assert_eq!(g.last_month, ym(2026, 9));
        assert_eq!(g.warn_on, d(2026, 8, 31));
        let g = grace_period(d(2025, 12, 1), 1, 30).unwrap();
        assert_eq!((g.first_month, g.last_month), (ym(2026, 1), ym(2026, 1)));
        assert_eq!(
            grace_period(d(2026, 1, 1), 0, 30),
            Err(LimitError::GraceOutOfRange(0))
        );
        assert!(grace_period(d(2026, 1, 1), 13, 30).is_err());
        assert!(grace_period(d(2026, 1, 1), 12, 30).is_ok());
    }

    proptest! {
        #[test]
        fn exclusivity_symmetric(a in 0usize..11, b in 0usize..11) {
            let (a, b) = (Program::ALL[a], Program::ALL[b]);
            prop_assert_eq!(mutually_exclusive(a, b), mutually_exclusive(b, a));
        }

        #[test]
        fn grace_length(day in 0u32..1000, months in 1u32..=12) {
            let decided = d(2025, 1, 1) + Days::new(day.into());
            let g = grace_period(decided, months, 30).unwrap();
            prop_assert_eq!(g.first_month.months_until(g.last_month) + 1, months as i32);
            prop_assert!(g.first_month > YearMonth::of(decided));
        }
    }
}
