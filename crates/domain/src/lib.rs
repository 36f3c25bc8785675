//! minzheng-domain — the pure rules of grassroots civil affairs (民政).
//!
//! Owns: value types that are valid once constructed (`IdNumber`, `CreditCode`,
//! `DivisionCode`, `Fen`, `YearMonth`), the working-day calendar and the role model.
//! Must never: touch I/O, read the clock, or know about SQL or HTTP. Anything that
//! depends on "today" takes an explicit `as_of` date.

pub mod calendar;
pub mod credit_code;
pub mod division;
pub mod id_number;
pub mod money;
pub mod month;
pub mod role;
pub mod standards;

pub use calendar::{CalendarError, WorkCalendar};
pub use credit_code::{CreditCode, CreditCodeError};
pub use division::{DivisionCode, DivisionError, DivisionLevel};
pub use id_number::{check_line, Gender, IdError, IdNumber};
pub use money::{Fen, MoneyError};
pub use month::{MonthError, YearMonth};
pub use role::Role;
