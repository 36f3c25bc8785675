pub mod ledger;
pub mod synthetic;
