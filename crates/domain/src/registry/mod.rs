//! 户籍台账 — the household registry's pure rules: its records and coded words, the forms
//! a clerk fills in and how they are checked, what a search term means, ledger columns and
//! the spellings of real spreadsheets, and the data that flows through a ledger import.

mod columns;
pub mod forms;
mod input;
pub mod ledger;
mod records;
mod report;
mod rules;
mod search;
mod words;

pub use columns::{normalize_header, Column};
pub use forms::{
    member_addition, member_removal, parse_asset_correction, parse_asset_form,
    parse_household_update, parse_id_number, parse_income_correction, parse_income_form,
    parse_member_correction, parse_new_household, parse_new_member, parse_person_fields,
    parse_person_form, parse_person_update, parse_removal, peek_id_number, village_to_check,
    AssetInput, FieldRefusal, HouseholdChange, HouseholdFacts, HouseholdFields, HouseholdUpdate,
    IncomeInput, MemberAddition, MemberCorrection, NewAsset, NewHousehold, NewHouseholdForm,
    NewIncome, NewPerson, PersonInput, PersonTraces, Registered, Removal, REASON_MAX,
};
pub use input::{
    date_from_excel_serial, id_last4, is_pinyin_query, mask_account, normalize_id_input,
    parse_flexible_date, parse_yes_no, pinyin_keys, plausible_date, same_name,
};
pub use records::{Asset, Household, HouseholdDetail, Income, LedgerEntry, LedgerExport, Person};
pub use report::{ImportIssue, ImportProgress, ImportReport};
pub use rules::{household_problems, MemberFacts};
pub use search::{HouseholdFilter, HouseholdPage, HouseholdQuery, SearchTerm};
pub use words::{
    AssetKind, DisabilityType, Employment, ExclusionReason, Health, HouseholdStatus, IncomeKind,
    IncomePeriod, PersonStatus, RegistrationType, Relation, WorkCapacity,
};
