//! File formats: what the system reads from and writes to files (spreadsheets, CSV, bank
//! and return files), kept apart from the use cases that use them.

pub mod bank;
pub mod deaths;
pub mod divisions;
pub mod inert;
pub mod ledger;
pub mod limits;
pub mod lists;
pub mod returns;
pub mod synthetic;
mod titled;
