//! File formats: what the system reads from and writes to files (spreadsheets, CSV, bank
//! files), kept apart from the use cases that use them.

pub mod divisions;
pub mod ledger;
pub mod synthetic;
