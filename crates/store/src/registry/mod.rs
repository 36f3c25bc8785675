//! The household registry (户籍台账): households, their members, incomes and assets, the
//! person search, the ledger export's read and the ledger import's database side.
//!
//! Reads take a [`Scope`](minzheng_domain::Scope); a household is visible when its village
//! lies inside it. Writes take the caller's transaction, which also carries the change's
//! audit record.

mod export;
mod households;
pub mod import;
mod search;

pub use export::ledger_export;
pub use households::{
    correct_person, counts, delete_asset, delete_income, delete_person, division_exists,
    get_household, get_household_row, household_history, insert_asset, insert_household,
    insert_income, insert_person, list_households, person_household, person_traces, record_move,
    registered, set_head, update_asset, update_household, update_income, update_person,
};
pub use minzheng_domain::mask_id;
pub use search::search_persons;
