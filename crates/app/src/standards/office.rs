//! One office's standardization page and what its township records there: the profile,
//! village assistants, rooms, equipment, posted rules, investments, and their photos.

use chrono::NaiveDate;
use minzheng_domain::attachments::{AttachedTo, NewAttachment};
use minzheng_domain::standards::{
    evaluate, office_facts, parse_assistant, parse_equipment, parse_investment, parse_posted_rule,
    parse_profile, parse_room, plan_overdue, NewEquipment, NewInvestment, NewPostedRule, NewRoom,
    OfficeItem, OfficeProfile, OfficeStandards, ProfilePatch, ProfileUpdate,
};
use minzheng_domain::{Actor, Fen};
use minzheng_store::offices;
use minzheng_store::standards::{
    assistants, inspections, plans, premises, profile, staff, subsidies,
};

use super::{audit, Standards};
use crate::attachments::attach_photo;
use crate::{Error, Result};

impl Standards<'_> {
    /// Everything about one office's standardization, evaluated as of `as_of` (404 outside
    /// the actor's scope; a village user reads their township's).
    pub async fn office(
        &self,
        actor: &Actor,
        township_code: &str,
        as_of: NaiveDate,
    ) -> Result<OfficeStandards> {
        let store = self.app.store();
        let office = offices::get(store, &actor.scope, township_code).await?;
        let code = township_code;
        let profile = profile::get(store, code).await?;
        let (staff, former_staff): (Vec<_>, Vec<_>) = staff::roster(store, code)
            .await?
            .into_iter()
            .partition(|s| s.active);
        let changes = staff::changes(store, code).await?;
        let assistants = assistants::list(store, code).await?;
        let rooms = premises::rooms(store, code).await?;
        let equipment = premises::equipment_of(store, code).await?;
        let rules = premises::posted_rules(store, code).await?;
        let e_ledger = profile::e_ledger_in_use(store, code).await?;
        let plan = plans::get(store, code).await?;
        let params = self.params(actor).await?;
        let plan_overdue =
            plan_overdue(plan.as_ref().map(|p| p.status), params.plan_deadline, as_of);
        let inspections = inspections::of_office(store, code).await?;
        let investments = premises::investments(store, code).await?;
        let investment_total = Fen::sum_checked(investments.iter().map(|i| i.amount))
            .ok_or_else(|| Error::Internal("投入金额合计溢出".into()))?;
        let subsidies = subsidies::of_office(store, code).await?;
        let thresholds = params.in_force(as_of);
        let facts = office_facts(
            &profile,
            &staff,
            &assistants,
            &rooms,
            &equipment,
            rules.len(),
            e_ledger,
        );
        let evaluation = evaluate(&facts, &thresholds, as_of);
        Ok(OfficeStandards {
            office,
            profile,
            staff,
            former_staff,
            changes,
            assistants,
            rooms,
            equipment,
            rules,
            e_ledger,
            plan,
            plan_deadline: params.plan_deadline,
            plan_overdue,
            inspections,
            investments,
            investment_total,
            subsidies,
            thresholds,
            evaluation,
        })
    }

    /// Records the office's profile (replacing it as a whole).
    pub async fn update_profile(
        &self,
        actor: &Actor,
        township_code: &str,
        u: &ProfileUpdate,
    ) -> Result<OfficeProfile> {
        self.recordable_office(actor, township_code).await?;
        let after = parse_profile(township_code, u)?;
        let store = self.app.store();
        let before = profile::get(store, township_code).await?;
        let mut tx = store.begin_write().await?;
        profile::put(&mut tx, &after).await?;
        audit(
            &mut tx,
            actor,
            "standards.profile",
            "office",
            township_code,
            township_code,
            serde_json::to_value(&before).ok(),
            serde_json::to_value(&after).ok(),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Changes only the profile fields the patch names (the API's PATCH); the result is
    /// checked as a whole, and a refusal changes nothing.
    pub async fn patch_profile(
        &self,
        actor: &Actor,
        township_code: &str,
        patch: &ProfilePatch,
    ) -> Result<OfficeProfile> {
        self.recordable_office(actor, township_code).await?;
        if patch.is_empty() {
            return Err(Error::validation("没有需要修改的内容"));
        }
        let current = profile::get(self.app.store(), township_code).await?;
        self.update_profile(actor, township_code, &patch.apply(&current))
            .await
    }

    /// Records (or, with an empty name, removes) a village's assistant.
    pub async fn set_village_assistant(
        &self,
        actor: &Actor,
        village_code: &str,
        name: &str,
        phone: &str,
    ) -> Result<()> {
        let township = village_code.get(..9).unwrap_or("");
        if village_code.len() != 12 {
            return Err(Error::NotFound("该村(社区)"));
        }
        self.recordable_office(actor, township).await?;
        let store = self.app.store();
        if !assistants::is_village_of(store, village_code, township).await? {
            return Err(Error::NotFound("该村(社区)"));
        }
        let (name, phone) = parse_assistant(name, phone)?;
        let mut tx = store.begin_write().await?;
        let before = assistants::set(&mut tx, village_code, township, &name, &phone).await?;
        audit(
            &mut tx,
            actor,
            "standards.assistant",
            "village",
            village_code,
            village_code,
            before.map(|n| serde_json::json!({"name": n})),
            Some(serde_json::json!({"name": name, "phone": phone})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a room; returns its id.
    pub async fn add_room(&self, actor: &Actor, township_code: &str, r: &NewRoom) -> Result<i64> {
        self.recordable_office(actor, township_code).await?;
        let r = parse_room(r)?;
        let mut tx = self.app.store().begin_write().await?;
        let id = premises::insert_room(&mut tx, township_code, &r).await?;
        let after = serde_json::json!({"kind": r.kind, "area_dm2": r.area_dm2,
            "shared_hall": r.shared_hall, "note": r.note});
        added(&mut tx, actor, township_code, "room", id, after).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds an equipment line; returns its id.
    pub async fn add_equipment(
        &self,
        actor: &Actor,
        township_code: &str,
        e: &NewEquipment,
    ) -> Result<i64> {
        self.recordable_office(actor, township_code).await?;
        let e = parse_equipment(e)?;
        let mut tx = self.app.store().begin_write().await?;
        let id = premises::insert_equipment(&mut tx, township_code, &e).await?;
        let after = serde_json::json!({"kind": e.kind, "count": e.count,
            "dedicated": e.dedicated, "note": e.note});
        added(&mut tx, actor, township_code, "equipment", id, after).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds a posted rule or procedure; returns its id.
    pub async fn add_posted_rule(
        &self,
        actor: &Actor,
        township_code: &str,
        r: &NewPostedRule,
    ) -> Result<i64> {
        self.recordable_office(actor, township_code).await?;
        let (title, posted) = parse_posted_rule(r)?;
        let mut tx = self.app.store().begin_write().await?;
        let id = premises::insert_posted_rule(&mut tx, township_code, &title, posted).await?;
        let after = serde_json::json!({"title": title, "posted_on": posted});
        added(&mut tx, actor, township_code, "posted_rule", id, after).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Records an investment; returns its id.
    pub async fn add_investment(
        &self,
        actor: &Actor,
        township_code: &str,
        i: &NewInvestment,
    ) -> Result<i64> {
        self.recordable_office(actor, township_code).await?;
        let i = parse_investment(i)?;
        let mut tx = self.app.store().begin_write().await?;
        let id = premises::insert_investment(&mut tx, township_code, &i).await?;
        let after = serde_json::json!({"spent_on": i.spent_on, "item": i.item,
            "amount_fen": i.amount.0, "doc_number": i.doc_number});
        added(&mut tx, actor, township_code, "investment", id, after).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Removes a room, equipment line or posted rule recorded by mistake. `entity` is the
    /// item's code as posted (`room`, `equipment`, `posted_rule`).
    pub async fn remove_item(
        &self,
        actor: &Actor,
        township_code: &str,
        entity: &str,
        id: i64,
    ) -> Result<()> {
        self.recordable_office(actor, township_code).await?;
        let item = OfficeItem::parse(entity).ok_or(Error::NotFound("该记录"))?;
        let mut tx = self.app.store().begin_write().await?;
        if !premises::remove(&mut tx, township_code, item, id).await? {
            return Err(Error::NotFound("该记录"));
        }
        audit(
            &mut tx,
            actor,
            &format!("standards.{}.remove", item.as_str()),
            item.as_str(),
            &id.to_string(),
            township_code,
            Some(serde_json::json!({"id": id})),
            None,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Attaches a photo to the office itself (`entity` `office`) or to one of its rooms,
    /// equipment lines or posted rules (`room`, `equipment`, `posted_rule` and its id).
    pub async fn attach_office_photo(
        &self,
        actor: &Actor,
        township_code: &str,
        entity: &str,
        entity_id: i64,
        upload: &NewAttachment,
        max_bytes: usize,
    ) -> Result<i64> {
        self.recordable_office(actor, township_code).await?;
        let store = self.app.store();
        let (to, entity_id) = match entity {
            "office" => (AttachedTo::Office, township_code.to_string()),
            other => {
                let item = OfficeItem::parse(other).ok_or(Error::NotFound("该记录"))?;
                if !premises::exists(store, township_code, item, entity_id).await? {
                    return Err(Error::NotFound("该记录"));
                }
                (AttachedTo::from(item), entity_id.to_string())
            }
        };
        let mut tx = store.begin_write().await?;
        let id = attach_photo(
            &mut tx,
            actor,
            to,
            &entity_id,
            township_code,
            upload,
            max_bytes,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }
}

/// The audit record of an item added to the office's records.
async fn added(
    tx: &mut minzheng_store::Tx,
    actor: &Actor,
    township_code: &str,
    entity: &str,
    id: i64,
    after: serde_json::Value,
) -> Result<()> {
    audit(
        tx,
        actor,
        &format!("standards.{entity}.add"),
        entity,
        &id.to_string(),
        township_code,
        None,
        Some(after),
    )
    .await
}
