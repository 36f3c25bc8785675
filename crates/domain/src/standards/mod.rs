//! 基层民政办公室规范化建设 — the city's implementation plan as rules.
//!
//! Every requirement of the plan (§二(二)(三), §三(四), §四) is a [`Rule`] with an id, its
//! text and its clause. [`evaluate`] judges one office from a plain struct of recorded facts
//! ([`OfficeFacts`]) and the city's parameters in force ([`Thresholds`]): each rule is met,
//! not met, or not recorded (the office has not entered the data the rule needs), with advice
//! in plain Chinese. Pure: no I/O, no clock — the caller picks the parameters for `as_of`
//! with [`Thresholds::in_force`]. Areas are integer square decimetres (1 m² = 100 dm²) so
//! 59.9 m² and 60 m² compare exactly; money is [`Fen`](crate::Fen).
//!
//! Besides the rules: the records an office keeps ([`records`]), the forms that add to them
//! and their checks ([`forms`]), the steps of staff changes, plans, inspections and
//! subsidies and who decides them ([`workflow`]), and the city console's figures
//! ([`console`]).

pub mod console;
pub mod forms;
pub mod records;
mod rules;
pub mod workflow;

pub use console::*;
pub use forms::*;
pub use records::*;
pub use rules::*;
pub use workflow::*;
