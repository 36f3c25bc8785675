//! Construction plans (建设方案): submitted by the township (again after a return), reviewed
//! by the city.

use minzheng_domain::standards::{
    parse_plan, parse_review_note, review_plan, submit_plan, NewPlan, PLAN_REVIEWED_MEANWHILE,
};
use minzheng_domain::Actor;
use minzheng_store::offices;
use minzheng_store::standards::plans;

use super::{audit, require_city, Standards};
use crate::{Error, Result};

impl Standards<'_> {
    /// Submits (or resubmits after return) the township's construction plan.
    pub async fn submit_plan(&self, actor: &Actor, township_code: &str, p: &NewPlan) -> Result<()> {
        self.recordable_office(actor, township_code).await?;
        let p = parse_plan(p)?;
        let mut tx = self.app.store().begin_write().await?;
        let existing = plans::status(&mut tx, township_code).await?;
        submit_plan(existing)?;
        plans::submit(&mut tx, township_code, existing.is_some(), &p).await?;
        audit(
            &mut tx,
            actor,
            "plan.submit",
            "construction_plan",
            township_code,
            township_code,
            existing.map(|s| serde_json::json!({"status": s})),
            Some(serde_json::json!({"items": p.items, "budget_fen": p.budget.0, "timeline": p.timeline})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Accepts or returns a submitted plan; a return says what to change.
    pub async fn review_plan(
        &self,
        actor: &Actor,
        township_code: &str,
        accept: bool,
        note: &str,
    ) -> Result<()> {
        let store = self.app.store();
        offices::get(store, &actor.scope, township_code).await?;
        require_city(actor, "审核建设方案")?;
        let note = parse_review_note(accept, note)?;
        let mut tx = store.begin_write().await?;
        let from = plans::status(&mut tx, township_code)
            .await?
            .ok_or(Error::NotFound("该建设方案"))?;
        let to = review_plan(from, accept)?;
        if !plans::review(&mut tx, township_code, to, &actor.username, &note).await? {
            return Err(Error::Conflict(PLAN_REVIEWED_MEANWHILE.into()));
        }
        audit(
            &mut tx,
            actor,
            if accept { "plan.accept" } else { "plan.return" },
            "construction_plan",
            township_code,
            township_code,
            Some(serde_json::json!({"status": "submitted"})),
            Some(serde_json::json!({"status": to, "note": note})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
