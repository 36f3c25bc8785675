//! Subsidies (补助资金): the ledger, and paying a subsidy out.

use minzheng_domain::standards::{disburse, parse_date, Subsidy, SubsidyStatus, SUBSIDY_PAID};
use minzheng_domain::Actor;
use minzheng_store::standards::subsidies;

use super::{audit, require_city, Standards};
use crate::{Error, Result};

impl Standards<'_> {
    /// The subsidy ledger inside the actor's scope.
    pub async fn subsidies(&self, actor: &Actor) -> Result<Vec<Subsidy>> {
        Ok(subsidies::list(self.app.store(), &actor.scope).await?)
    }

    /// The subsidy a passed inspection granted, if the actor sees it.
    pub async fn subsidy_of_inspection(
        &self,
        actor: &Actor,
        inspection_id: i64,
    ) -> Result<Option<Subsidy>> {
        Ok(self
            .subsidies(actor)
            .await?
            .into_iter()
            .find(|x| x.inspection_id == inspection_id))
    }

    /// Records a subsidy paid out on `on` (the date as typed).
    pub async fn disburse(&self, actor: &Actor, id: i64, on: &str) -> Result<Subsidy> {
        let store = self.app.store();
        let s = subsidies::get(store, &actor.scope, id).await?;
        require_city(actor, "拨付补助资金")?;
        let on = parse_date("disbursed_on", "拨付日期", on)?;
        let to = disburse(s.status)?;
        let mut tx = store.begin_write().await?;
        if !subsidies::disburse(&mut tx, id, on).await? {
            return Err(Error::Conflict(SUBSIDY_PAID.into()));
        }
        audit(
            &mut tx,
            actor,
            "subsidy.disburse",
            "subsidy",
            &id.to_string(),
            &s.township_code,
            Some(serde_json::json!({"status": SubsidyStatus::Pending})),
            Some(serde_json::json!({"status": to, "disbursed_on": on, "amount_fen": s.amount.0})),
        )
        .await?;
        tx.commit().await?;
        Ok(Subsidy {
            status: to,
            disbursed_on: Some(on.to_string()),
            ..s
        })
    }
}
