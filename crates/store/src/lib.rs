//! minzheng-store — the only crate that knows SQL.
//!
//! Owns: the database connection (SQLite or PostgreSQL), embedded migrations, and the
//! storage API used by the web server and the CLI. Every read takes a [`Scope`] and every
//! write takes an [`Actor`] (who carries one), so jurisdiction (管辖范围) is enforced here
//! and a handler cannot forget it. Every change writes a hash-chained audit record in the
//! same transaction.
//! Must never: render pages, speak HTTP, or hold business rules that belong in the pure
//! `minzheng-domain` crate.

mod attachments;
mod audit;
mod bulk;
mod cases;
mod cases_demo;
mod db;
mod demo;
mod divisions;
mod error;
mod jobs;
mod migrate;
mod offices;
mod params;
mod payroll;
mod payroll_files;
#[doc(hidden)]
pub mod payroll_fixture;
mod registry;
mod registry_import;
mod registry_read;
mod registry_write;
mod registry_xlsx;
mod scope;
mod standards;
mod standards_demo;
mod users;

#[doc(hidden)]
pub mod testing;

pub use attachments::{check_photo, Attachment, NewAttachment, DEFAULT_ATTACHMENT_LIMIT};
pub use audit::{AuditBreak, AuditEntry, AuditVerification};
pub use cases::{
    case_kind_label, enrolment_status_label, ActionExtras, Case, CaseClock, CaseCounts, CaseDetail,
    CaseEvent, CaseFilter, DueItem, Enrolment, EnrolmentFilter, NewCase, NoticeBatch,
    NoticeBatchEntry, Objection, PublicNotice, Survey,
};
pub use db::{compact_sqlite, Compacted, DatabaseUrl, Store, SQLITE_PAGE_SIZE};
pub use demo::{DemoLogin, DEMO_PASSWORD};
pub use divisions::{
    Division, DivisionImportProgress, DivisionImportStats, DivisionSource, LevelCount,
};
pub use error::{AuthError, StoreError, StoreResult};
pub use jobs::{Job, JOB_INTERRUPTED, JOB_KIND_IMPORT};
pub use offices::{Office, OfficeFilter, OfficeUpdate};
pub use params::{value_text, NewParam, ParamRow};
pub use payroll::{
    batch_status_label, ledger_series, BackPay, BatchDiff, BatchFilter, DiffEntry,
    ExceptionCorrection, GenerateOutcome, GenerateRequest, LedgerFilter, LedgerRow, LineFilter,
    NewBackPay, PaymentException, PayrollBatch, PayrollLine, PayrollOverview, BATCH_STATUSES,
};
pub use payroll_files::{
    render_bank_file, BankFile, BankTemplate, BankTemplateInput, ReturnOutcome, BANK_COLUMNS,
};
pub use registry::{
    mask_id, Asset, AssetInput, Household, HouseholdDetail, HouseholdFilter, HouseholdUpdate,
    Income, IncomeInput, NewHousehold, Person, PersonInput,
};
pub use registry_import::{
    ImportInput, ImportIssue, ImportOptions, ImportProgress, ImportReport, BACKGROUND_ROWS,
    DEFAULT_MAX_IMPORT_BYTES,
};
pub use registry_xlsx::{
    demo_villages, generate_ledger, import_report_xlsx, import_template, ledger_csv, ledger_xlsx,
};
pub use scope::{Actor, Scope};
pub use standards::{
    change_kind_label, rule_catalogue, ConstructionPlan, Equipment, Inspection, InspectionItem,
    Investment, NewEquipment, NewInspection, NewInvestment, NewPlan, NewPostedRule, NewRoom,
    NewStaffChange, OfficeProfile, OfficeStandards, OfficeStanding, PostedRule, ProfileUpdate,
    Rectification, Room, StaffChange, StaffMember, StandardParams, Subsidy, VillageAssistant,
    CHANGE_KINDS,
};
pub use users::{
    check_password_policy, DashboardCounts, NewUser, SessionInfo, User, UserUpdate,
    LOCKOUT_MINUTES, MAX_FAILED_SIGNINS,
};

/// Demo city shipped with the binary: 四川省雅安市 (5118), real 2023 division codes.
pub const DEMO_CITY_CODE: &str = "5118";
/// The demo city's divisions as `code,name,level,parent` CSV.
pub const DEMO_CITY_CSV: &str = include_str!("../data/demo-yaan-5118.csv");

/// The current instant in the fixed text form used in every timestamp column.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses a timestamp written by [`timestamp`].
pub fn parse_timestamp(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}
