//! File formats: what the offices exchange with banks and spreadsheets.

pub mod bank;
pub mod returns;
