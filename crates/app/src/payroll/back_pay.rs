//! Back pay (补发): a clerk asks for a past month of an enrolment (approved late, say), the
//! director decides, and the next generated batch of the program pays it once.

use minzheng_domain::payroll::{parse_back_pay, BackPay, BackPayStatus, NewBackPay};
use minzheng_domain::Actor;
use minzheng_store::payroll;
use serde_json::json;

use super::{audit, now, refused, Payroll};
use crate::{Authorize, Error, Permission, Result};

impl Payroll<'_> {
    /// Asks for back pay for a past month of an enrolment inside the actor's scope. The
    /// amount defaults to the enrolment's monthly amount. A month already planned or paid
    /// for the beneficiary is refused, and so is a second request for it.
    pub async fn request_back_pay(&self, actor: &Actor, r: &NewBackPay) -> Result<BackPay> {
        actor.require(Permission::RequestBackPay)?;
        let store = self.app.store();
        let e = payroll::back_pay_enrolment(store, r.enrolment_id)
            .await?
            .filter(|e| actor.scope.contains_str(&e.township_code))
            .ok_or(Error::NotFound("该保障对象"))?;
        let req = parse_back_pay(r, &e).map_err(refused)?;
        // The case a request cites must be one the actor sees, about this beneficiary.
        if let Some(case_id) = r.case_id {
            let about_this = match minzheng_store::cases::get(store, &actor.scope, case_id).await {
                Ok(c) => c.subject_id_number == e.beneficiary_id_number,
                Err(minzheng_store::StoreError::NotFound(_)) => false,
                Err(other) => return Err(other.into()),
            };
            if !about_this {
                return Err(Error::field(
                    "case_id",
                    format!("案件{case_id}不存在、不在您的管辖范围内，或不是该保障对象的案件"),
                ));
            }
        }
        let now = now();
        let mut tx = store.begin_write().await?;
        if payroll::period_planned(&mut tx, &e.beneficiary_id_number, e.program, req.period).await?
        {
            return Err(Error::Conflict(format!(
                "{}的待遇已列入发放批次，不能重复补发",
                req.period
            )));
        }
        let id = payroll::insert_back_pay(&mut tx, &e, &req, r.case_id, &actor.username, &now)
            .await?
            .ok_or_else(|| Error::Conflict(format!("该对象{}已有补发申请", req.period)))?;
        audit(
            &mut tx,
            actor,
            "payroll.back_pay.request",
            "payroll_adjustment",
            &id.to_string(),
            &e.township_code,
            None,
            Some(json!({"enrolment_id": r.enrolment_id, "period": req.period,
                "amount_fen": req.amount.0, "reason": req.reason, "case_id": r.case_id})),
        )
        .await?;
        tx.commit().await?;
        self.back_pay(actor, id).await
    }

    /// The director approves (`approve`) or rejects a pending request made by someone else.
    pub async fn decide_back_pay(&self, actor: &Actor, id: i64, approve: bool) -> Result<BackPay> {
        let store = self.app.store();
        let a = payroll::get_back_pay(store, &actor.scope, id).await?;
        actor.require(Permission::DecideBackPay)?;
        a.may_be_decided_by(&actor.username)
            .map_err(|m| Error::Forbidden(m.into()))?;
        let to = if approve {
            BackPayStatus::Approved
        } else {
            BackPayStatus::Rejected
        };
        let now = now();
        let mut tx = store.begin_write().await?;
        if !payroll::decide_back_pay(&mut tx, id, to, &actor.username, &now).await? {
            return Err(Error::Conflict("该补发申请已审批".into()));
        }
        audit(
            &mut tx,
            actor,
            "payroll.back_pay.decide",
            "payroll_adjustment",
            &id.to_string(),
            &a.township_code,
            Some(json!({"status": "pending"})),
            Some(json!({"status": to, "period": a.period, "amount_fen": a.amount.0})),
        )
        .await?;
        tx.commit().await?;
        self.back_pay(actor, id).await
    }

    /// One back-pay record inside the actor's scope.
    pub async fn back_pay(&self, actor: &Actor, id: i64) -> Result<BackPay> {
        Ok(payroll::get_back_pay(self.app.store(), &actor.scope, id).await?)
    }

    /// Back pay inside the actor's scope, newest first.
    pub async fn back_pay_list(&self, actor: &Actor) -> Result<Vec<BackPay>> {
        Ok(payroll::list_back_pay(self.app.store(), &actor.scope).await?)
    }
}
