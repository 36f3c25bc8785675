//! Office standardization (规范化建设): each office's page and what its township records
//! there, staff changes and their approval, construction plans, inspections, subsidies,
//! the city's parameters and the console.
//!
//! Who may do what: the township's director and staff (and the city administrator) record
//! their own office's profile, rooms, equipment, posted rules, village assistants,
//! investments and plan, and file staff changes (`RecordOfficeStandards`, inside their
//! scope); the city administrator with a city-wide account approves staff changes, sets the
//! parameters and the plan deadline, reviews plans, runs inspections and pays subsidies
//! (`ManageStandards`). Everyone else reads inside their scope. Every change is audited in
//! its own transaction; the roster changes only through approved staff changes.

mod console;
mod export;
mod inspections;
mod office;
mod plans;
mod staff;
mod subsidies;

use minzheng_domain::offices::Office;
use minzheng_domain::standards::StepError;
use minzheng_domain::{Actor, Role};
use minzheng_store::{append_audit, offices, AuditEvent, Tx};

use crate::{App, Authorize, Error, Permission, Result};

/// The standardization duty of [`App`].
pub struct Standards<'a> {
    app: &'a App,
}

impl App {
    pub fn standards(&self) -> Standards<'_> {
        Standards { app: self }
    }
}

impl From<StepError> for Error {
    fn from(e: StepError) -> Self {
        match e {
            StepError::Invalid(f) => f.into(),
            StepError::Conflict(m) => Error::Conflict(m),
        }
    }
}

/// The refusal of a role that may not record an office's standardization, or of an office
/// outside the actor's own jurisdiction.
const RECORD_REFUSAL: &str = "您的角色无权修改该民政办公室的规范化建设信息";

impl Standards<'_> {
    /// Whether the actor may record the office's standardization: a role that records, and
    /// the office inside the actor's scope (a village user sees their township's office but
    /// records nothing there).
    pub fn may_record(&self, actor: &Actor, township_code: &str) -> bool {
        actor.may(Permission::RecordOfficeStandards) && actor.scope.contains_str(township_code)
    }

    /// Whether the actor does the city's part (approvals, reviews, inspections, subsidies,
    /// parameters).
    pub fn may_manage(&self, actor: &Actor) -> bool {
        actor.may(Permission::ManageStandards)
    }

    /// The office a township- or village-level user belongs to (the console sends them
    /// there).
    pub fn home_office(&self, actor: &Actor) -> Option<String> {
        actor
            .scope
            .code()
            .map(|c| c.as_str())
            .filter(|c| c.len() >= 9)
            .map(|c| c[..9].to_string())
    }

    /// The office, if the actor may record its data (404 outside the scope, 403 otherwise).
    async fn recordable_office(&self, actor: &Actor, township_code: &str) -> Result<Office> {
        let o = offices::get(self.app.store(), &actor.scope, township_code).await?;
        if !self.may_record(actor, township_code) {
            return Err(Error::Forbidden(RECORD_REFUSAL.into()));
        }
        Ok(o)
    }
}

/// Refuses anyone but the city administrator (city-wide), naming what they tried.
fn require_city(actor: &Actor, what: &str) -> Result<()> {
    actor.require_or(
        Permission::ManageStandards,
        &format!("只有{}可以{what}", Role::CityAdmin.label()),
    )
}

/// Appends the audit record of a standardization change.
#[allow(clippy::too_many_arguments)]
async fn audit(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    scope_code: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<()> {
    append_audit(
        tx,
        actor,
        AuditEvent {
            action,
            entity_type,
            entity_id,
            scope_code,
            before,
            after,
        },
    )
    .await?;
    Ok(())
}
