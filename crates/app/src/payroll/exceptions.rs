//! Payment exceptions (退票): the bank could not pay a line; the clerk corrects the account
//! and the next generated batch of the program re-issues the payment.

use minzheng_domain::payroll::{
    parse_correction, CorrectionError, ExceptionCorrection, PaymentException,
};
use minzheng_domain::registry::mask_account;
use minzheng_domain::Actor;
use minzheng_store::payroll;
use serde_json::json;

use super::{audit, full_identity, now, refused, Payroll};
use crate::{Authorize, Error, Permission, Result};

impl Payroll<'_> {
    /// Payment exceptions inside the actor's scope (of one status code, if given), newest
    /// first; ID numbers and accounts masked for those who may not see them.
    pub async fn exceptions(
        &self,
        actor: &Actor,
        status: Option<&str>,
    ) -> Result<Vec<PaymentException>> {
        let status = minzheng_domain::payroll::exception_status_filter(status);
        let items = payroll::list_exceptions(self.app.store(), &actor.scope, &status).await?;
        Ok(if full_identity(actor) {
            items
        } else {
            items.into_iter().map(PaymentException::masked).collect()
        })
    }

    /// One payment exception inside the actor's scope.
    pub async fn exception(&self, actor: &Actor, id: i64) -> Result<PaymentException> {
        Ok(payroll::get_exception(self.app.store(), &actor.scope, id).await?)
    }

    /// The clerk corrects a failed payment (new account, holder or bank): the exception
    /// becomes ready for re-issue in the next generated batch, and the household's account
    /// is corrected too, so later months go to the right account — if the household is
    /// still within the clerk's jurisdiction (it may have moved township since).
    pub async fn correct_exception(
        &self,
        actor: &Actor,
        id: i64,
        c: &ExceptionCorrection,
    ) -> Result<PaymentException> {
        let store = self.app.store();
        let x = payroll::get_exception(store, &actor.scope, id).await?;
        actor.require(Permission::CorrectPaymentException)?;
        let fixed = parse_correction(c, &x).map_err(|e| match e {
            CorrectionError::Fields(f) => refused(f),
            e @ CorrectionError::TooLong => Error::validation(e.to_string()),
        })?;
        let now = now();
        let mut tx = store.begin_write().await?;
        if !payroll::correct_exception(&mut tx, id, &fixed, &actor.username, &now).await? {
            return Err(Error::Conflict("该退票已重发或已注销，不能再更正".into()));
        }
        let household =
            payroll::correct_household_account(&mut tx, x.line_id, &actor.scope, &fixed, &now)
                .await?;
        audit(
            &mut tx,
            actor,
            "payroll.exception.correct",
            "payment_exception",
            &id.to_string(),
            &x.township_code,
            Some(
                json!({"status": x.status, "bank_name": x.original_bank_name,
                "account_number": mask_account(&x.original_account), "fail_reason": x.fail_reason}),
            ),
            Some(json!({"status": "ready", "bank_name": fixed.bank_name,
                "account_number": mask_account(&fixed.account_number),
                "account_holder": fixed.account_holder,
                "household_id": household, "note": fixed.note})),
        )
        .await?;
        tx.commit().await?;
        self.exception(actor, id).await
    }
}
