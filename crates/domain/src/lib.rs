//! minzheng-domain — the pure rules of grassroots civil affairs (民政).
//!
//! Owns: value types that are valid once constructed (`IdNumber`, `CreditCode`,
//! `DivisionCode`, `Fen`, `YearMonth`), the working-day calendar and the role model.
//! Must never: touch I/O, read the clock, or know about SQL or HTTP. Anything that
//! depends on "today" takes an explicit `as_of` date.

pub mod calculators;
pub mod calendar;
pub mod case_calc;
pub mod cases;
pub mod codes;
pub mod credit_code;
pub mod deadlines;
pub mod division;
pub mod forms;
pub mod id_number;
pub mod jurisdiction;
pub mod limits;
pub mod money;
pub mod month;
pub mod notices;
pub mod offices;
pub mod params;
pub mod payroll;
pub mod programs;
pub mod registry;
pub mod role;
pub mod standards;
#[cfg(test)]
mod test_ser;
pub mod time;

pub use calculators::{CalcError, Calculation, Explanation, HouseholdIncome, IncomeKind};
pub use calendar::{CalendarError, WorkCalendar};
pub use cases::{transition, Action, ActionKind, CaseError, CaseFacts, CaseState, Transition};
pub use codes::{Coded, UnknownCode};
pub use credit_code::{CreditCode, CreditCodeError};
pub use deadlines::{deadline_status, DeadlineStatus, Step, WorkingDayLimit};
pub use division::{DivisionCode, DivisionError, DivisionLevel};
pub use forms::FieldErrors;
pub use id_number::{check_line, mask_id, Gender, IdError, IdNumber};
pub use jurisdiction::{Actor, Scope};
pub use limits::{check_exclusive, check_temporary_frequency, grace_period, LimitError};
pub use money::{Fen, MoneyError};
pub use month::{MonthError, YearMonth};
pub use notices::{NameMask, NoticeCandidate, PublicNoticeEntry};
pub use params::{ParamError, ParamKey, ParamName, ParamSet, ParamValue, Ratio, Rounding};
pub use programs::{ApprovalLevel, Program, UrbanRural, Workflow};
pub use role::Role;
