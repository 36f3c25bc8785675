//! 调标批次: re-pricing enrolments whose amount a rule moves without a case — now the
//! 高龄津贴 age bands (a beneficiary turning 90 or 100), later a rise of a standard. The
//! system (or a clerk) prepares a month's batch per township; the director reviews the old
//! and new amounts with the calculator's explanation and signs it off, which applies the new
//! amounts in one transaction with an audit record per enrolment, or voids it
//! (docs/rules.md §9).

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use chrono::NaiveDate;
use minzheng_domain::cases::region_of;
use minzheng_domain::params::{AgeBand, AgeStartRule, ParamName};
use minzheng_domain::payroll::bounds_within;
use minzheng_domain::repricing::{
    age_band_line, transition, RepricingAction, RepricingBatch, RepricingReason, RepricingReview,
    RepricingStatus,
};
use minzheng_domain::{Actor, Fen, Program, UrbanRural, YearMonth};
use minzheng_store::repricing as store;
use serde::Serialize;
use serde_json::json;

use crate::payroll::{audit, now};
use crate::{App, AppResult, Authorize, Error, Permission};

/// The re-pricing duty of [`App`].
pub struct Repricing<'a> {
    app: &'a App,
}

impl App {
    pub fn repricing(&self) -> Repricing<'_> {
        Repricing { app: self }
    }
}

/// What a preparation did.
#[derive(Debug, Clone, Serialize)]
pub struct Prepared {
    pub month: YearMonth,
    /// Live enrolments looked at (those not yet re-priced for the month).
    pub considered: usize,
    /// Lines added, over all batches.
    pub added: i64,
    /// The batches that gained lines.
    pub batches: Vec<RepricingBatch>,
}

/// What a sign-off did.
#[derive(Debug, Clone, Serialize)]
pub struct SignedOff {
    pub batch: RepricingBatch,
    /// Enrolments whose amount was changed.
    pub applied: usize,
    /// Beneficiaries left as they were because a case changed their amount meanwhile.
    pub changed_meanwhile: Vec<String>,
    /// Lines at 0, not applied: each needs a case's decision.
    pub for_decision: i64,
    /// Draft payroll batches generated at the old amounts: to be generated again.
    pub drafts_to_regenerate: Vec<i64>,
    /// Months already paid at the old amount whose difference is now approved back pay
    /// (调标补差), paid by the next generated batch: how many and the total.
    pub top_up_count: usize,
    pub top_up_total: Fen,
}

impl Repricing<'_> {
    /// Prepares the 高龄津贴 age-band batch of `month` for the actor's jurisdiction (or the
    /// division `within` inside it): every live enrolment whose band for `month`, by the
    /// calculator with the bands and start rule in force that month, differs from what it
    /// pays. Idempotent: an enrolment already in a pending batch or re-priced for the
    /// month is not added again, so a second run adds nothing.
    pub async fn prepare_age_bands(
        &self,
        actor: &Actor,
        month: YearMonth,
        within: Option<&str>,
        today: NaiveDate,
    ) -> AppResult<Prepared> {
        actor.require(Permission::PrepareRepricing)?;
        let (lo, hi) =
            bounds_within(&actor.scope, within).map_err(|_| Error::NotFound("该区划"))?;
        let program = Program::OldAgeAllowance;
        let st = self.app.store();
        let params = minzheng_store::params::load(st).await?;
        let on = month.first_day();
        let mut tx = st.begin_write().await?;
        store::lock_preparation(&mut tx).await?;
        let candidates = store::candidates(&mut tx, program, (&lo, &hi), month).await?;
        // Parameters are set for a city or a county: read once per county and registration.
        let mut in_force: HashMap<(String, UrbanRural), (Vec<AgeBand>, AgeStartRule)> =
            HashMap::new();
        let mut lines = Vec::new();
        for c in &candidates {
            let Some(region) = region_of(&c.village_code) else {
                continue;
            };
            let county = c.village_code.get(..6).unwrap_or_default().to_string();
            let (bands, rule) = match in_force.entry((county, c.urban_rural)) {
                Entry::Occupied(o) => o.into_mut(),
                Entry::Vacant(v) => {
                    let qy = params.at(&region, Some(c.urban_rural), on);
                    let (Ok(bands), Ok(rule)) = (
                        qy.age_bands(program, ParamName::AgeBands),
                        qy.age_start_rule(program, ParamName::AgeStartRule),
                    ) else {
                        return Err(Error::Conflict(format!(
                            "{}在{month}没有有效的高龄津贴年龄段参数，请先设置",
                            c.village_code
                        )));
                    };
                    v.insert((bands, rule))
                }
            };
            if let Some(l) = age_band_line(c, month, bands, *rule, today) {
                lines.push(l);
            }
        }
        let at = now();
        let reason = RepricingReason::AgeBand;
        let written = store::add_lines(
            &mut tx,
            reason,
            program,
            month,
            &lines,
            &actor.username,
            &at,
        )
        .await?;
        for p in &written {
            audit(
                &mut tx,
                actor,
                "repricing.prepare",
                "repricing_batch",
                &p.batch_id.to_string(),
                &p.township_code,
                None,
                Some(json!({"reason": reason, "program": program, "month": month,
                    "added": p.added})),
            )
            .await?;
        }
        let mut batches = Vec::new();
        for p in &written {
            batches.push(store::batch_in_scope(&mut tx, &actor.scope, p.batch_id).await?);
        }
        tx.commit().await?;
        Ok(Prepared {
            month,
            considered: candidates.len(),
            added: written.iter().map(|p| p.added).sum(),
            batches,
        })
    }

    /// The batches of the actor's jurisdiction, newest month first; only those of `status`
    /// if given.
    pub async fn list(
        &self,
        actor: &Actor,
        status: Option<RepricingStatus>,
    ) -> AppResult<Vec<RepricingBatch>> {
        Ok(store::batches(self.app.store(), &actor.scope, status).await?)
    }

    /// A batch with its lines (404 outside the jurisdiction); ID numbers masked for roles
    /// that may not see them.
    pub async fn review(&self, actor: &Actor, id: i64) -> AppResult<RepricingReview> {
        let st = self.app.store();
        let batch = store::batch_in_scope(st, &actor.scope, id).await?;
        let mut lines = store::lines(st, id).await?;
        if !actor.may(Permission::SeeFullIdentity) {
            lines = lines.into_iter().map(|l| l.masked()).collect();
        }
        Ok(RepricingReview { batch, lines })
    }

    /// 审核签发: applies the batch's new amounts from its month, in one transaction with an
    /// audit record per enrolment. A month from the batch's on already paid at the old,
    /// lower amount gets an approved back-pay request for the difference (调标补差), which
    /// the next generated batch pays; a month paid at a higher amount refuses the sign-off
    /// (a re-pricing recovers nothing). Refused before the month has begun. Lines at 0 are
    /// not applied; an enrolment whose amount a case changed meanwhile is left as the case
    /// set it.
    pub async fn sign_off(&self, actor: &Actor, id: i64, today: NaiveDate) -> AppResult<SignedOff> {
        let st = self.app.store();
        let b = store::batch_in_scope(st, &actor.scope, id).await?;
        actor.require(Permission::SignOffRepricing)?;
        let to = transition(b.status, RepricingAction::SignOff)
            .map_err(|e| Error::Conflict(e.to_string()))?;
        if b.month > YearMonth::of(today) {
            return Err(Error::Conflict(format!(
                "该批次自{}起执行，须在{}开始后签发",
                b.month, b.month
            )));
        }
        let at = now();
        let mut tx = st.begin_write().await?;
        let overpaid = store::overpaid_from_month(&mut tx, &b).await?;
        if !overpaid.is_empty() {
            let names: Vec<String> = overpaid
                .iter()
                .take(10)
                .map(|(n, m)| format!("{n}（{m}）"))
                .collect();
            return Err(Error::Conflict(format!(
                "{}起已按高于新金额的原金额签发发放：{}{}。调标不追回已发金额，请作废本批次后办理变更和追回",
                b.month,
                names.join("、"),
                if overpaid.len() > 10 { " 等" } else { "" }
            )));
        }
        // Months already paid at the old amount: the difference is approved back pay
        // (调标补差), paid by the next generated batch.
        let top_ups = store::top_ups(&mut tx, &b, &actor.username, &at)
            .await?
            .ok_or_else(|| {
                Error::Conflict(
                    "本批次对象的已发月份已有调标补差，不能重复补差；请作废本批次后核实".into(),
                )
            })?;
        if !store::decide(&mut tx, id, b.status, to, &actor.username, &at).await? {
            return Err(Error::Conflict("该调标批次已被他人处理".into()));
        }
        let applied = store::apply(&mut tx, id, &at).await?;
        for a in &applied {
            audit(
                &mut tx,
                actor,
                "repricing.apply",
                "enrolment",
                &a.enrolment_id.to_string(),
                &a.township_code,
                Some(json!({"monthly_fen": a.old.0})),
                Some(
                    json!({"monthly_fen": a.new.0, "batch_id": id, "month": b.month,
                    "reason": b.reason}),
                ),
            )
            .await?;
        }
        for t in &top_ups {
            audit(
                &mut tx,
                actor,
                "payroll.back_pay.top_up",
                "payroll_adjustment",
                &t.id.to_string(),
                &t.township_code,
                None,
                Some(json!({"enrolment_id": t.enrolment_id, "period": t.period,
                    "amount_fen": t.amount.0, "status": "approved", "batch_id": id})),
            )
            .await?;
        }
        audit(
            &mut tx,
            actor,
            "repricing.sign_off",
            "repricing_batch",
            &id.to_string(),
            &b.township_code,
            Some(json!({"status": b.status})),
            Some(json!({"status": to, "applied": applied.len(), "top_ups": top_ups.len()})),
        )
        .await?;
        let drafts = store::drafts_to_regenerate(&mut tx, &b).await?;
        let lines = store::lines(&mut tx, id).await?;
        let batch = store::batch_in_scope(&mut tx, &actor.scope, id).await?;
        tx.commit().await?;
        let changed_meanwhile = lines
            .iter()
            .filter(|l| !l.needs_decision())
            .filter(|l| !applied.iter().any(|a| a.enrolment_id == l.enrolment_id))
            .map(|l| l.beneficiary_name.clone())
            .collect();
        Ok(SignedOff {
            for_decision: batch.zero_count,
            batch,
            applied: applied.len(),
            changed_meanwhile,
            drafts_to_regenerate: drafts,
            top_up_count: top_ups.len(),
            top_up_total: Fen(top_ups.iter().map(|t| t.amount.0).sum()),
        })
    }

    /// 作废: nothing is applied; the enrolments may be prepared again.
    pub async fn void(&self, actor: &Actor, id: i64) -> AppResult<RepricingBatch> {
        let st = self.app.store();
        let b = store::batch_in_scope(st, &actor.scope, id).await?;
        actor.require(Permission::SignOffRepricing)?;
        let to = transition(b.status, RepricingAction::Void)
            .map_err(|e| Error::Conflict(e.to_string()))?;
        let at = now();
        let mut tx = st.begin_write().await?;
        if !store::decide(&mut tx, id, b.status, to, &actor.username, &at).await? {
            return Err(Error::Conflict("该调标批次已被他人处理".into()));
        }
        audit(
            &mut tx,
            actor,
            "repricing.void",
            "repricing_batch",
            &id.to_string(),
            &b.township_code,
            Some(json!({"status": b.status})),
            Some(json!({"status": to})),
        )
        .await?;
        let batch = store::batch_in_scope(&mut tx, &actor.scope, id).await?;
        tx.commit().await?;
        Ok(batch)
    }
}
