//! Corrections of the registry (更正): a member's circumstances, an income item or an asset
//! edited or removed, each with its reason in the audit record (and so in the household's
//! history). A correction that changes what the calculator gives an enrolled household says
//! so, for the clerk to open the change case (变更).

use minzheng_domain::cases::{Enrolment, PaymentSchedule};
use minzheng_domain::registry::{
    member_removal, parse_asset_correction, parse_income_correction, parse_member_correction,
    parse_removal, Asset, AssetInput, HouseholdDetail, Income, IncomeInput, MemberCorrection,
    NewAsset, NewIncome, Person, Removal,
};
use minzheng_domain::{mask_id, Actor, Fen, Program};
use minzheng_store::cases as case_store;
use minzheng_store::registry;
use minzheng_store::{append_audit, AuditEvent};
use serde::Serialize;

use super::{json_person, now, today, Registry, READ_ONLY};
use crate::{Authorize, Error, Permission, Result};

/// A held enrolment of the household whose computed amount a correction changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AmountChange {
    pub enrolment_id: i64,
    pub program: Program,
    pub beneficiary_name: String,
    /// What the enrolment pays now (保障金额).
    pub monthly_fen: Fen,
    /// The calculator's amount over the registry before the correction.
    pub before_fen: Fen,
    /// The calculator's amount over the corrected registry.
    pub after_fen: Fen,
}

/// The household after a correction, and the enrolments whose amount it changed (offer
/// the change case for each).
#[derive(Debug, Clone, Serialize)]
pub struct Corrected {
    pub household: HouseholdDetail,
    pub amount_changes: Vec<AmountChange>,
}

/// A stored member as the audit records show them (the keys of a new member's record).
fn json_stored_person(p: &Person) -> serde_json::Value {
    serde_json::json!({
        "name": p.name,
        "id_number": mask_id(&p.id_number),
        "relation": p.relation.as_str(),
        "counted": p.counted,
        "exclusion_reason": p.exclusion_reason.map(|e| e.as_str()),
        "disability_type": p.disability_type.as_str(),
        "disability_grade": p.disability_grade,
        "health": p.health.as_str(),
        "work_capacity": p.work_capacity.as_str(),
        "employment": p.employment.as_str(),
        "status": p.status.as_str(),
        "status_date": p.status_date,
    })
}

fn member_name(d: &HouseholdDetail, person_id: Option<i64>) -> String {
    person_id
        .and_then(|p| d.member(p))
        .map(|m| m.name.clone())
        .unwrap_or_default()
}

fn json_income(i: &Income) -> serde_json::Value {
    serde_json::json!({
        "person_id": i.person_id, "person_name": i.person_name, "kind": i.kind.as_str(),
        "amount_fen": i.amount_fen.0, "period": i.period.as_str(),
        "start_month": i.start_month.map(|m| m.to_string()),
        "end_month": i.end_month.map(|m| m.to_string()), "note": i.note,
    })
}

fn json_new_income(i: &NewIncome, d: &HouseholdDetail) -> serde_json::Value {
    serde_json::json!({
        "person_id": i.person_id, "person_name": member_name(d, i.person_id),
        "kind": i.kind.as_str(), "amount_fen": i.amount.0, "period": i.period.as_str(),
        "start_month": i.start_month.map(|m| m.to_string()),
        "end_month": i.end_month.map(|m| m.to_string()), "note": i.note,
    })
}

fn json_asset(a: &Asset) -> serde_json::Value {
    serde_json::json!({
        "person_id": a.person_id, "person_name": a.person_name, "kind": a.kind.as_str(),
        "value_fen": a.value_fen.0, "description": a.description,
    })
}

fn json_new_asset(a: &NewAsset, d: &HouseholdDetail) -> serde_json::Value {
    serde_json::json!({
        "person_id": a.person_id, "person_name": member_name(d, a.person_id),
        "kind": a.kind.as_str(), "value_fen": a.value.0, "description": a.description,
    })
}

/// `value` with the reason added (the after side of a correction, or a removal's record).
fn with_reason(mut value: serde_json::Value, reason: &str) -> serde_json::Value {
    if let Some(o) = value.as_object_mut() {
        o.insert("reason".into(), reason.into());
    }
    value
}

impl Registry<'_> {
    /// A visible household with everything on its page, that the actor may change (404
    /// outside the scope, then 403 for read-only roles).
    async fn writable_detail(&self, actor: &Actor, id: i64) -> Result<HouseholdDetail> {
        let d = registry::get_household(self.app.store(), &actor.scope, id).await?;
        actor.require_or(Permission::EditRegistry, READ_ONLY)?;
        Ok(d)
    }

    /// The calculator's monthly amount for each held monthly enrolment of the household,
    /// over the registry as it is now (`None` where it cannot be computed).
    async fn computed_amounts(
        &self,
        actor: &Actor,
        household_id: i64,
    ) -> Result<Vec<(Enrolment, Option<Fen>)>> {
        let store = self.app.store();
        let enrolments: Vec<Enrolment> = case_store::household_enrolments(store, household_id)
            .await?
            .into_iter()
            .filter(|e| e.status.is_held() && e.payment == PaymentSchedule::Monthly)
            .collect();
        if enrolments.is_empty() {
            return Ok(Vec::new());
        }
        let params = minzheng_store::params::load(store).await?;
        let on = today();
        let mut out = Vec::new();
        for e in enrolments {
            let details = match e.case_id {
                Some(cid) => case_store::get(store, &actor.scope, cid)
                    .await
                    .ok()
                    .map(|c| c.details),
                None => None,
            }
            .unwrap_or_default();
            let amount = self
                .app
                .cases()
                .calculate(household_id, e.person_id, e.program, &details, &params, on)
                .await
                .ok()
                .map(|c| c.amount);
            out.push((e, amount));
        }
        Ok(out)
    }

    /// The enrolments whose computed amount differs between `before` and now.
    async fn amount_changes(
        &self,
        actor: &Actor,
        household_id: i64,
        before: Vec<(Enrolment, Option<Fen>)>,
    ) -> Result<Vec<AmountChange>> {
        if before.is_empty() {
            return Ok(Vec::new());
        }
        let after = self.computed_amounts(actor, household_id).await?;
        let mut out = Vec::new();
        for (e, was) in before {
            let now = after
                .iter()
                .find(|(a, _)| a.id == e.id)
                .and_then(|(_, n)| *n);
            if let (Some(was), Some(now)) = (was, now) {
                if was != now {
                    out.push(AmountChange {
                        enrolment_id: e.id,
                        program: e.program,
                        beneficiary_name: e.beneficiary_name.clone(),
                        monthly_fen: e.monthly_fen,
                        before_fen: was,
                        after_fen: now,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The held enrolments of a household whose paid amount differs from what the
    /// calculator gives over the registry now, among `enrolment_ids` (the household page
    /// offers the change case for them after a correction).
    pub async fn amounts_to_review(
        &self,
        actor: &Actor,
        household_id: i64,
        enrolment_ids: &[i64],
    ) -> Result<Vec<(Enrolment, Fen)>> {
        registry::get_household_row(self.app.store(), &actor.scope, household_id).await?;
        if enrolment_ids.is_empty() {
            return Ok(Vec::new());
        }
        // The calculator gives this month's payment (December's includes the year's
        // remainder of an annual amount), compared with what the enrolment pays this month.
        let month = minzheng_domain::YearMonth::of(today());
        Ok(self
            .computed_amounts(actor, household_id)
            .await?
            .into_iter()
            .filter(|(e, _)| enrolment_ids.contains(&e.id))
            .filter_map(|(e, n)| n.filter(|n| *n != e.amount_for(month)).map(|n| (e, n)))
            .collect())
    }

    /// Ends a correction: its audit record on the household (`action`, the row before, the
    /// row after with the reason), the commit, and the household with the enrolled amounts
    /// the correction changed.
    async fn commit_correction(
        &self,
        mut tx: minzheng_store::WriteTx,
        actor: &Actor,
        d: &HouseholdDetail,
        (action, before, after): (&str, serde_json::Value, serde_json::Value),
        amounts: Vec<(Enrolment, Option<Fen>)>,
    ) -> Result<Corrected> {
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action,
                entity_type: "household",
                entity_id: &d.household.id.to_string(),
                scope_code: &d.household.village_code,
                before: Some(before),
                after: Some(after),
            },
        )
        .await?;
        tx.commit().await?;
        self.corrected(actor, d.household.id, amounts).await
    }

    async fn corrected(
        &self,
        actor: &Actor,
        household_id: i64,
        before: Vec<(Enrolment, Option<Fen>)>,
    ) -> Result<Corrected> {
        let amount_changes = self.amount_changes(actor, household_id, before).await?;
        Ok(Corrected {
            household: self.get(actor, household_id).await?,
            amount_changes,
        })
    }

    /// Corrects a member's circumstances (health, work capacity, employment, disability,
    /// counted, status), with the reason; name, relation and ID number stay.
    pub async fn update_member(
        &self,
        actor: &Actor,
        household_id: i64,
        person_id: i64,
        input: &MemberCorrection,
    ) -> Result<Corrected> {
        let d = self.writable_detail(actor, household_id).await?;
        let before = d
            .member(person_id)
            .cloned()
            .ok_or(Error::NotFound("该成员"))?;
        let (p, reason) = parse_member_correction(input, &before, today())?;
        let amounts = self.computed_amounts(actor, household_id).await?;
        let mut tx = self.app.store().begin_write().await?;
        registry::correct_person(&mut tx, &actor.scope, person_id, &p, &now()).await?;
        let change = (
            "person.correct",
            json_stored_person(&before),
            with_reason(json_person(&p), &reason),
        );
        self.commit_correction(tx, actor, &d, change, amounts).await
    }

    /// Removes a member registered by mistake, with the reason. Refused (409) for the
    /// head and for anyone the case files, the money or the moves name: they are marked
    /// 迁出 or 死亡 instead.
    pub async fn remove_member(
        &self,
        actor: &Actor,
        household_id: i64,
        person_id: i64,
        removal: &Removal,
    ) -> Result<Corrected> {
        let d = self.writable_detail(actor, household_id).await?;
        let before = d
            .member(person_id)
            .cloned()
            .ok_or(Error::NotFound("该成员"))?;
        let reason = parse_removal(removal)?;
        let amounts = self.computed_amounts(actor, household_id).await?;
        let mut tx = self.app.store().begin_write().await?;
        let traces = registry::person_traces(&mut tx, person_id, &before.id_number).await?;
        member_removal(&before, traces).map_err(Error::Conflict)?;
        registry::delete_person(&mut tx, &actor.scope, person_id).await?;
        let change = (
            "person.remove",
            json_stored_person(&before),
            serde_json::json!({"name": before.name, "reason": reason}),
        );
        self.commit_correction(tx, actor, &d, change, amounts).await
    }

    /// Corrects an income item, with the reason.
    pub async fn update_income(
        &self,
        actor: &Actor,
        household_id: i64,
        income_id: i64,
        input: &IncomeInput,
    ) -> Result<Corrected> {
        let d = self.writable_detail(actor, household_id).await?;
        let before = d
            .incomes
            .iter()
            .find(|i| i.id == income_id)
            .cloned()
            .ok_or(Error::NotFound("该收入"))?;
        let (i, reason) = parse_income_correction(input, &d.members)?;
        let amounts = self.computed_amounts(actor, household_id).await?;
        let mut tx = self.app.store().begin_write().await?;
        registry::update_income(&mut tx, &actor.scope, income_id, &i).await?;
        let change = (
            "income.update",
            json_income(&before),
            with_reason(json_new_income(&i, &d), &reason),
        );
        self.commit_correction(tx, actor, &d, change, amounts).await
    }

    /// Removes an income item, with the reason.
    pub async fn remove_income(
        &self,
        actor: &Actor,
        household_id: i64,
        income_id: i64,
        removal: &Removal,
    ) -> Result<Corrected> {
        let d = self.writable_detail(actor, household_id).await?;
        let before = d
            .incomes
            .iter()
            .find(|i| i.id == income_id)
            .cloned()
            .ok_or(Error::NotFound("该收入"))?;
        let reason = parse_removal(removal)?;
        let amounts = self.computed_amounts(actor, household_id).await?;
        let mut tx = self.app.store().begin_write().await?;
        registry::delete_income(&mut tx, &actor.scope, income_id).await?;
        let change = (
            "income.remove",
            json_income(&before),
            serde_json::json!({"reason": reason}),
        );
        self.commit_correction(tx, actor, &d, change, amounts).await
    }

    /// Corrects an asset, with the reason.
    pub async fn update_asset(
        &self,
        actor: &Actor,
        household_id: i64,
        asset_id: i64,
        input: &AssetInput,
    ) -> Result<Corrected> {
        let d = self.writable_detail(actor, household_id).await?;
        let before = d
            .assets
            .iter()
            .find(|a| a.id == asset_id)
            .cloned()
            .ok_or(Error::NotFound("该财产"))?;
        let (a, reason) = parse_asset_correction(input, &d.members)?;
        let amounts = self.computed_amounts(actor, household_id).await?;
        let mut tx = self.app.store().begin_write().await?;
        registry::update_asset(&mut tx, &actor.scope, asset_id, &a).await?;
        let change = (
            "asset.update",
            json_asset(&before),
            with_reason(json_new_asset(&a, &d), &reason),
        );
        self.commit_correction(tx, actor, &d, change, amounts).await
    }

    /// Removes an asset, with the reason.
    pub async fn remove_asset(
        &self,
        actor: &Actor,
        household_id: i64,
        asset_id: i64,
        removal: &Removal,
    ) -> Result<Corrected> {
        let d = self.writable_detail(actor, household_id).await?;
        let before = d
            .assets
            .iter()
            .find(|a| a.id == asset_id)
            .cloned()
            .ok_or(Error::NotFound("该财产"))?;
        let reason = parse_removal(removal)?;
        let amounts = self.computed_amounts(actor, household_id).await?;
        let mut tx = self.app.store().begin_write().await?;
        registry::delete_asset(&mut tx, &actor.scope, asset_id).await?;
        let change = (
            "asset.remove",
            json_asset(&before),
            serde_json::json!({"reason": reason}),
        );
        self.commit_correction(tx, actor, &d, change, amounts).await
    }
}
