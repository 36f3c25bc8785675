//! minzheng-store — the only crate that knows SQL; it stores and reads, and decides nothing
//! (no permission, no form field, no display label).
//!
//! Owns: the database connection (SQLite or PostgreSQL, `db`), embedded migrations, and
//! one repository module per concern (`offices`, `users`, `audit`, `divisions` …) of free
//! functions that take and return domain types: reads take `&Store` (or a `Conn`, on the
//! pool or inside a transaction) and the jurisdiction's [`Scope`]; writes take the
//! transaction a use case began (`Store::begin_write`) and commits. The dialects' few
//! differences live here, side by side behind one function. The use cases are
//! `minzheng-app`'s.

pub mod admin;
pub mod attachments;
pub mod audit;
pub mod backup;
mod bulk;
pub mod cases;
pub mod checks;
mod copy;
mod db;
mod distribute;
pub mod divisions;
mod error;
pub mod funerals;
pub mod jobs;
pub mod lists;
mod migrate;
pub mod offices;
pub mod params;
pub mod partitions;
pub mod payroll;
pub mod registry;
pub mod relatives;
pub mod repricing;
pub mod standards;
pub mod stats;
pub mod users;
pub mod whatif;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use audit::{append as append_audit, append_many as append_audit_many, AuditEvent, AuditText};
pub use db::{
    compact_sqlite, Compacted, Conn, DatabaseUrl, Store, Tx, WriteTx, SQLITE_CACHE_BUDGET_KIB,
    SQLITE_MAX_CONNECTIONS, SQLITE_PAGE_SIZE,
};
pub use distribute::{Deployment, NOT_CITUS};
pub use error::{Result, StoreError};
pub use migrate::COUNTY_TABLES;

pub(crate) use minzheng_domain::mask_id;
pub(crate) use minzheng_domain::time::timestamp;

/// The county code (县级区划代码: the first six digits) of a township, village or scope
/// code, as every large table keeps it in `county_code` (migration 0018); a city-level
/// scope is its own four digits.
pub(crate) fn county_of(code: &str) -> &str {
    &code[..code.len().min(6)]
}
