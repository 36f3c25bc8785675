//! minzheng-store — the only crate that knows SQL.
//!
//! Owns: the database connection (SQLite or PostgreSQL), embedded migrations, and the
//! storage API used by the web server and the CLI. Every read takes a [`Scope`] and every
//! write takes an [`Actor`] (who carries one), so jurisdiction (管辖范围) is enforced here
//! and a handler cannot forget it. Every change writes a hash-chained audit record in the
//! same transaction.
//! Must never: render pages, speak HTTP, or hold business rules that belong in the pure
//! `minzheng-domain` crate.

pub mod admin;
mod attachments;
mod audit;
mod bulk;
mod cases;
mod cases_demo;
mod db;
mod divisions;
mod error;
mod jobs;
mod migrate;
pub mod offices;
mod params;
pub mod payroll;
mod registry;
mod registry_import;
mod registry_read;
mod registry_write;
mod registry_xlsx;
mod standards;
mod standards_demo;
pub mod users;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use attachments::{check_photo, Attachment, NewAttachment, DEFAULT_ATTACHMENT_LIMIT};
pub use audit::{append as append_audit, AuditBreak, AuditEntry, AuditEvent, AuditVerification};
pub use cases::{
    case_kind_label, enrolment_status_label, ActionExtras, Case, CaseClock, CaseCounts, CaseDetail,
    CaseEvent, CaseFilter, DueItem, Enrolment, EnrolmentFilter, NewCase, NoticeBatch,
    NoticeBatchEntry, Objection, PublicNotice, Survey,
};
pub use db::{compact_sqlite, Compacted, Conn, DatabaseUrl, Store, Tx, WriteTx, SQLITE_PAGE_SIZE};
pub use divisions::{
    Division, DivisionImportProgress, DivisionImportStats, DivisionSource, LevelCount,
};
pub use error::{AuthError, StoreError, StoreResult};
pub use jobs::{Job, JOB_INTERRUPTED, JOB_KIND_IMPORT};
pub use minzheng_domain::{Actor, Scope};
pub use params::{value_text, NewParam, ParamRow};
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

pub use minzheng_domain::time::{parse_timestamp, timestamp};
