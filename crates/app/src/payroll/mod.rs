//! Monthly payroll (资金发放): generating the month's batches, the review and sign-off,
//! closing, payment exceptions (退票) and their correction, back pay (补发), the month's
//! overview and the funds ledger. Bank templates, bank files and return files are the
//! [`crate::bank_files`] duty.
//!
//! Who may move a batch is the batch state machine's decision
//! (`minzheng_domain::payroll::transition`); the rest asks the permission table. Every
//! change and its audit records are one transaction.

mod back_pay;
mod batches;
pub mod bench;
mod exceptions;
mod ledger;
#[cfg(feature = "testing")]
pub mod testing;

pub use batches::{VillageBatch, VillagePayroll};
pub use ledger::Workbook;

use minzheng_domain::payroll::{BatchAction, BatchError, PayrollBatch};
use minzheng_domain::{Actor, FieldErrors};
use minzheng_store::{append_audit, payroll, AuditEvent, Tx};

use crate::{App, Authorize, Error, Permission, Result};

/// The payroll duty of [`App`].
pub struct Payroll<'a> {
    app: &'a App,
}

impl App {
    pub fn payroll(&self) -> Payroll<'_> {
        Payroll { app: self }
    }
}

/// The permission behind each batch action (pages ask it to decide which buttons to draw).
pub fn permission(action: BatchAction) -> Permission {
    match action {
        BatchAction::Regenerate => Permission::GeneratePayroll,
        BatchAction::SignOff => Permission::SignOffPayroll,
        BatchAction::Export => Permission::ExportBankFile,
        BatchAction::RecordReturn => Permission::ImportReturnFile,
        BatchAction::Close => Permission::ClosePayroll,
    }
}

/// Whether the actor sees ID numbers and accounts in full (others see them masked).
pub(crate) fn full_identity(actor: &Actor) -> bool {
    actor.may(Permission::SeeFullIdentity)
}

/// A refused form: its fields' messages. A single problem is the summary itself, as
/// clerks have always seen it.
pub(crate) fn refused(f: FieldErrors) -> Error {
    if f.len() == 1 {
        let (field, message) = f.iter().next().unwrap_or_default();
        Error::field(field, message)
    } else {
        Error::from(f)
    }
}

impl From<BatchError> for Error {
    fn from(e: BatchError) -> Self {
        match e {
            BatchError::WrongRole(m) => Error::Forbidden(m),
            BatchError::WrongState(m) => Error::Conflict(m),
        }
    }
}

/// The refusal when a conditional update found the batch changed meanwhile: what its
/// state says now, or that it changed.
pub(crate) async fn changed_meanwhile(tx: &mut Tx, b: &PayrollBatch, action: BatchAction) -> Error {
    match payroll::get_batch(tx, &minzheng_domain::Scope::all(), b.id).await {
        Ok(now) => match minzheng_domain::payroll::next_status(&now, action) {
            Err(e) => e.into(),
            Ok(_) => Error::Conflict("该批次状态已变化，请刷新后重试".into()),
        },
        Err(e) => e.into(),
    }
}

/// Test hook of the crash tests (cargo feature `failpoints`, never in the release binary):
/// when `MINZHENG_FAILPOINT` names this point, the process says so on stderr and waits
/// there, inside the open transaction, to be killed.
#[cfg(feature = "failpoints")]
pub(crate) async fn failpoint(name: &str) {
    if std::env::var("MINZHENG_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("FAILPOINT {name}");
        tokio::time::sleep(std::time::Duration::from_secs(120)).await;
    }
}

#[cfg(not(feature = "failpoints"))]
pub(crate) async fn failpoint(_name: &str) {}

/// Appends one audit record of the payroll.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn audit(
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

pub(crate) fn now() -> String {
    minzheng_domain::time::timestamp(chrono::Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::role_may;
    use minzheng_domain::payroll::authorize;
    use minzheng_domain::Role;

    #[test]
    fn the_batch_state_machine_and_the_permission_table_agree() {
        let roles = [
            Role::CityAdmin,
            Role::CountyApprover,
            Role::TownshipDirector,
            Role::TownshipStaff,
            Role::VillageAssistant,
            Role::Auditor,
        ];
        for action in BatchAction::ALL {
            for role in roles {
                assert_eq!(
                    authorize(Some(role), action).is_ok(),
                    role_may(role, permission(action)),
                    "{role:?} {action:?}"
                );
            }
        }
    }

    #[test]
    fn one_refused_field_is_its_own_summary() {
        let Error::Validation { message, fields } =
            refused(FieldErrors::one("amount", "补发金额必须大于0"))
        else {
            panic!("validation");
        };
        assert_eq!(message, "补发金额必须大于0");
        assert_eq!(fields["amount"], message);
        let mut two = FieldErrors::one("amount", "a");
        two.add("reason", "b");
        assert!(refused(two).to_string().starts_with("请修改以下2处错误"));
    }
}
