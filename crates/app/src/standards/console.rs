//! The city console: every office's standing, the parameters, and the export.

use chrono::NaiveDate;
use minzheng_domain::standards::{
    check_thresholds, console_range, standing, ConsoleFilter, OfficeStanding, StandardParams,
    Thresholds,
};
use minzheng_domain::Actor;
use minzheng_store::standards::{overview, params};
use minzheng_store::Store;

use super::{audit, require_city, Standards};
use crate::{Error, Result};

impl Standards<'_> {
    /// The city's parameters (every effective date; the plan's own when none were set) and
    /// the plan deadline. Everyone reads them.
    pub async fn params(&self, _actor: &Actor) -> Result<StandardParams> {
        params_on(self.app.store()).await
    }

    /// Sets the parameters in force from `t.effective_from` (replacing any set for that
    /// date) and the plan submission deadline.
    pub async fn set_params(
        &self,
        actor: &Actor,
        t: &Thresholds,
        plan_deadline: Option<NaiveDate>,
    ) -> Result<()> {
        require_city(actor, "设置规范化建设参数")?;
        check_thresholds(t)?;
        let mut tx = self.app.store().begin_write().await?;
        let before = params::set(&mut tx, t, plan_deadline).await?;
        audit(
            &mut tx,
            actor,
            "standards.params",
            "std_params",
            &t.effective_from.to_string(),
            actor.scope.code_str(),
            before.map(serde_json::Value::String),
            Some(serde_json::json!({"params": t, "plan_deadline": plan_deadline})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every office in the actor's scope (or in its division `within`) with its compliance,
    /// plan, inspection and subsidy as of `as_of`, narrowed by `filter`. A fixed number of
    /// queries whatever the number of offices. Read from the primary: the console is where
    /// the city lands after setting the parameters.
    pub async fn overview(
        &self,
        actor: &Actor,
        within: Option<&str>,
        filter: Option<ConsoleFilter>,
        as_of: NaiveDate,
    ) -> Result<Vec<OfficeStanding>> {
        overview_on(self.app.store(), actor, within, filter, as_of).await
    }

    /// The console (as [`Standards::overview`] lists it, but read from the read replica
    /// when there is one) as an Excel workbook, audited as an export (on the primary).
    pub async fn export_xlsx(
        &self,
        actor: &Actor,
        within: Option<&str>,
        filter: Option<ConsoleFilter>,
        as_of: NaiveDate,
    ) -> Result<Vec<u8>> {
        let rows = overview_on(self.app.reader(), actor, within, filter, as_of).await?;
        let bytes = super::export::console_xlsx(&rows)
            .map_err(|e| Error::Internal(format!("导出失败：{e}")))?;
        let mut tx = self.app.store().begin_write().await?;
        audit(
            &mut tx,
            actor,
            "standards.export",
            "export",
            "standards.xlsx",
            actor.scope.code_str(),
            None,
            Some(serde_json::json!({"what": "standards.xlsx", "rows": rows.len()})),
        )
        .await?;
        tx.commit().await?;
        Ok(bytes)
    }
}

/// The parameters as [`Standards::params`] gives them, read from `store`.
async fn params_on(store: &Store) -> Result<StandardParams> {
    let mut p = params::get(store).await?;
    if p.thresholds.is_empty() {
        p.thresholds.push(Thresholds::plan_2011());
    }
    Ok(p)
}

/// The console as [`Standards::overview`] lists it, read from `store`.
async fn overview_on(
    store: &Store,
    actor: &Actor,
    within: Option<&str>,
    filter: Option<ConsoleFilter>,
    as_of: NaiveDate,
) -> Result<Vec<OfficeStanding>> {
    let (lo, hi) = console_range(&actor.scope, within).ok_or(Error::NotFound("该区划"))?;
    let p = params_on(store).await?;
    let t = p.in_force(as_of);
    Ok(overview::standing_facts(store, &lo, &hi)
        .await?
        .into_iter()
        .map(|s| standing(s, &t, p.plan_deadline, as_of))
        .filter(|o| filter.is_none_or(|f| f.matches(o)))
        .collect())
}
