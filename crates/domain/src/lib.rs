//! minzheng-domain — the pure rules and types of grassroots civil affairs (民政); it never
//! does I/O, never reads the clock and knows neither SQL nor HTTP.
//!
//! Owns: value types that are valid once constructed (`IdNumber`, `CreditCode`,
//! `DivisionCode`, `Fen`, `YearMonth`), the coded words every status and kind is stored as
//! (`coded_enum!`: one storage code, one Chinese label), the records the store returns, the
//! forms parsed into typed values (`FieldErrors` with every field's message), the decisions
//! (the case state machine, the payroll batch transitions, calculators, deadlines, the
//! sign-in lockout, the audit chain, the office standards), jurisdiction (`Scope`, `Actor`)
//! and the working-day calendar. Anything that depends on "today" takes an explicit
//! `as_of` date.

pub mod attachments;
pub mod audit;
pub mod calculators;
pub mod calendar;
pub mod case_calc;
pub mod cases;
pub mod checks;
pub mod codes;
pub mod credit_code;
pub mod deadlines;
pub mod division;
pub mod forms;
pub mod funerals;
pub mod id_number;
pub mod jobs;
pub mod jurisdiction;
pub mod limits;
pub mod lists;
pub mod money;
pub mod month;
pub mod notices;
pub mod offices;
pub mod params;
pub mod payroll;
pub mod programs;
pub mod registry;
pub mod relatives;
pub mod repricing;
pub mod role;
pub mod standards;
pub mod stats;
#[cfg(test)]
mod test_ser;
pub mod time;
pub mod users;
pub mod whatif;

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
