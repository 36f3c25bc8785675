//! 办理时限 — statutory working-day limits per procedure step (《最低生活保障审核确认办法》,
//! 《特困人员认定办法》; docs/rules.md §3), counted on the official [`WorkCalendar`] so that holidays and
//! 调休 make-up days are honoured. The limits are parameters; only the counting rule
//! lives here.

use chrono::{Days, NaiveDate};

use crate::params::{ParamError, ParamName, ParamQuery};
use crate::programs::Program;
use crate::WorkCalendar;

crate::coded_enum! {
    /// 办理环节 — a step with a statutory clock.
    pub enum Step {
        /// 特困: 15 working days from acceptance.
        Investigation = ("investigation", "入户调查"),
        /// 15 working days.
        Reinvestigation = ("reinvestigation", "异议复查"),
        /// 10 working days after the notice ends.
        Confirmation = ("confirmation", "审核确认"),
        /// 书面告知不予确认的理由: 3 working days from the decision.
        RefusalNotice = ("refusal_notice", "不予确认书面告知"),
        /// 全流程: 30 working days.
        WholeProcedure = ("whole_procedure", "全流程办理"),
        /// 全流程(特殊情况延长): 45 working days.
        WholeProcedureExtended = ("whole_procedure_extended", "全流程办理(延长)"),
    }
}

impl Step {
    pub fn param(self) -> ParamName {
        match self {
            Step::Investigation => ParamName::InvestigationWorkingDays,
            Step::Reinvestigation => ParamName::ReinvestigationWorkingDays,
            Step::Confirmation => ParamName::ConfirmationWorkingDays,
            Step::RefusalNotice => ParamName::RefusalNoticeWorkingDays,
            Step::WholeProcedure => ParamName::ProcedureWorkingDays,
            Step::WholeProcedureExtended => ParamName::ProcedureExtendedWorkingDays,
        }
    }
}

/// A limit in working days and how early to warn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkingDayLimit {
    pub working_days: u32,
    /// Report `DueSoon` when this many working days or fewer are left.
    pub warn_within: u32,
}

/// All step limits of one program in one region and date.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatutoryLimits {
    pub limits: Vec<(Step, u32)>,
    pub warn_within: u32,
}

impl StatutoryLimits {
    pub fn load(q: &ParamQuery<'_>, program: Program) -> Result<StatutoryLimits, ParamError> {
        let mut limits = Vec::with_capacity(Step::ALL.len());
        for &s in Step::ALL {
            limits.push((s, q.working_days(program, s.param())?));
        }
        Ok(StatutoryLimits {
            limits,
            warn_within: q.working_days(program, ParamName::DueSoonWorkingDays)?,
        })
    }

    pub fn limit(&self, step: Step) -> Option<WorkingDayLimit> {
        self.limits
            .iter()
            .find(|(s, _)| *s == step)
            .map(|(_, d)| WorkingDayLimit {
                working_days: *d,
                warn_within: self.warn_within,
            })
    }
}

/// 时限状态.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum DeadlineStatus {
    /// 正常
    Ok {
        due: NaiveDate,
        working_days_left: i64,
    },
    /// 即将到期 (0 = due today)
    DueSoon {
        due: NaiveDate,
        working_days_left: i64,
    },
    /// 已超期: calendar days past the due date, and working days among them (which
    /// can be 0 on the weekend right after a Friday deadline — still overdue).
    Overdue {
        due: NaiveDate,
        days: i64,
        working_days: i64,
    },
}

impl DeadlineStatus {
    pub fn due(self) -> NaiveDate {
        match self {
            DeadlineStatus::Ok { due, .. }
            | DeadlineStatus::DueSoon { due, .. }
            | DeadlineStatus::Overdue { due, .. } => due,
        }
    }

    /// `剩余3个工作日`, `今日到期`, `已超期2天`.
    pub fn label(self) -> String {
        match self {
            DeadlineStatus::Ok {
                working_days_left, ..
            } => format!("剩余{working_days_left}个工作日"),
            DeadlineStatus::DueSoon {
                working_days_left: 0,
                ..
            } => "今日到期".to_string(),
            DeadlineStatus::DueSoon {
                working_days_left, ..
            } => format!("即将到期，剩余{working_days_left}个工作日"),
            DeadlineStatus::Overdue { days, .. } => format!("已超期{days}天"),
        }
    }
}

/// Due date for "within `n` working days" of `started` (the start day not counted).
pub fn due_date(cal: &WorkCalendar, started: NaiveDate, working_days: u32) -> NaiveDate {
    cal.add_working_days(started, working_days)
}

/// Where a step stands on `as_of`.
pub fn deadline_status(
    cal: &WorkCalendar,
    step_started: NaiveDate,
    limit: WorkingDayLimit,
    as_of: NaiveDate,
) -> DeadlineStatus {
    let due = due_date(cal, step_started, limit.working_days);
    if as_of > due {
        return DeadlineStatus::Overdue {
            due,
            days: (as_of - due).num_days(),
            working_days: cal.working_days_between(due, as_of),
        };
    }
    let left = cal.working_days_between(as_of, due);
    if left <= i64::from(limit.warn_within) {
        DeadlineStatus::DueSoon {
            due,
            working_days_left: left,
        }
    } else {
        DeadlineStatus::Ok {
            due,
            working_days_left: left,
        }
    }
}

/// Last day of a public notice of `days` calendar days posted on `posted`: the posting
/// day is not counted (民法典 Art. 201 for periods in days; applying it to 公示 is our
/// reading), so a 7-day notice posted on the 2nd runs to the 9th inclusive and may be
/// closed from the 10th.
pub fn notice_ends_on(posted: NaiveDate, days: u32) -> NaiveDate {
    posted
        .checked_add_days(Days::new(u64::from(days)))
        .unwrap_or(NaiveDate::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ParamSet;
    use crate::programs::UrbanRural;
    use crate::DivisionCode;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn lim(n: u32) -> WorkingDayLimit {
        WorkingDayLimit {
            working_days: n,
            warn_within: 3,
        }
    }

    #[test]
    fn refusal_notice_across_spring_festival_2026() {
        let cal = WorkCalendar::official();
        // Decision Thu 2026-02-12: 13 Fri, 14 Sat (调休 working day), then the holiday
        // 15–23, so the third working day is Tue 02-24.
        assert_eq!(due_date(&cal, d(2026, 2, 12), 3), d(2026, 2, 24));
        // Decision Fri 02-13: 14 (Sat, working), 24, 25.
        assert_eq!(due_date(&cal, d(2026, 2, 13), 3), d(2026, 2, 25));
        // Started inside the holiday.
        assert_eq!(due_date(&cal, d(2026, 2, 18), 3), d(2026, 2, 26));
    }

    #[test]
    fn confirmation_ten_days_with_makeup_saturdays() {
        let cal = WorkCalendar::official();
        // Notice ended Tue 02-10: 11, 12, 13, 14(Sat), 24, 25, 26, 27, 28(Sat), Mon 03-02.
        assert_eq!(due_date(&cal, d(2026, 2, 10), 10), d(2026, 3, 2));
        let s = |as_of| deadline_status(&cal, d(2026, 2, 10), lim(10), as_of);
        assert_eq!(
            s(d(2026, 2, 12)),
            DeadlineStatus::Ok {
                due: d(2026, 3, 2),
                working_days_left: 8
            }
        );
        // During the holiday the count does not move: 24,25,26,27,28,03-02 = 6 left.
        assert_eq!(
            s(d(2026, 2, 20)),
            DeadlineStatus::Ok {
                due: d(2026, 3, 2),
                working_days_left: 6
            }
        );
        // Fri 02-27: 28 (Sat, working) and 03-02 left → due soon.
        assert_eq!(
            s(d(2026, 2, 27)),
            DeadlineStatus::DueSoon {
                due: d(2026, 3, 2),
                working_days_left: 2
            }
        );
        assert_eq!(s(d(2026, 3, 2)).label(), "今日到期");
        assert_eq!(
            s(d(2026, 3, 3)),
            DeadlineStatus::Overdue {
                due: d(2026, 3, 2),
                days: 1,
                working_days: 1
            }
        );
        assert_eq!(s(d(2026, 3, 3)).label(), "已超期1天");
    }

    #[test]
    fn overdue_on_weekend_after_friday_deadline() {
        let cal = WorkCalendar::official();
        // Started Fri 2026-03-06, 5 working days → Fri 03-13; Saturday is overdue.
        let st = deadline_status(&cal, d(2026, 3, 6), lim(5), d(2026, 3, 14));
        assert_eq!(
            st,
            DeadlineStatus::Overdue {
                due: d(2026, 3, 13),
                days: 1,
                working_days: 0
            }
        );
    }

    #[test]
    fn whole_procedure_and_notice() {
        let cal = WorkCalendar::official();
        // 30 working days from Mon 2026-02-02 crossing the festival:
        // Feb 3–13 = 9, Sat 14 = 10, 24–27 = 14, Sat 28 = 15, March 2–20 = 30.
        assert_eq!(due_date(&cal, d(2026, 2, 2), 30), d(2026, 3, 20));
        assert_eq!(notice_ends_on(d(2026, 3, 2), 7), d(2026, 3, 9));
    }

    #[test]
    fn limits_from_params() {
        let set = ParamSet::demo_yaan();
        let r = DivisionCode::parse("511802").unwrap();
        let q = set.at(&r, Some(UrbanRural::Rural), d(2026, 1, 5));
        let l = StatutoryLimits::load(&q, Program::Tekun).unwrap();
        assert_eq!(l.limit(Step::Confirmation).unwrap().working_days, 10);
        assert_eq!(l.limit(Step::RefusalNotice).unwrap().working_days, 3);
        assert_eq!(
            l.limit(Step::WholeProcedureExtended).unwrap().working_days,
            45
        );
        let q = set.at(&r, None, d(2024, 1, 5));
        assert!(StatutoryLimits::load(&q, Program::Tekun).is_err());
    }

    proptest! {
        #[test]
        fn status_consistent(start in 0u32..700, n in 1u32..40, delta in 0u32..90) {
            let cal = WorkCalendar::official();
            let started = d(2025, 1, 1) + Days::new(start.into());
            let as_of = started + Days::new(delta.into());
            let st = deadline_status(&cal, started, lim(n), as_of);
            let due = st.due();
            prop_assert!(cal.is_working_day(due));
            prop_assert_eq!(cal.working_days_between(started, due), i64::from(n));
            match st {
                DeadlineStatus::Ok { working_days_left, .. } => prop_assert!(working_days_left > 3),
                DeadlineStatus::DueSoon { working_days_left, .. } => prop_assert!((0..=3).contains(&working_days_left)),
                DeadlineStatus::Overdue { days, .. } => prop_assert!(days >= 1 && as_of > due),
            }
        }
    }
}
