//! The household registry (户籍台账): households and their members, incomes and assets,
//! the search, the change history, the ledger import and export.
//!
//! Everyone reads inside their jurisdiction; changing the registry needs
//! [`Permission::EditRegistry`], importing it [`Permission::ImportRegistry`]. ID numbers and
//! accounts come back masked unless the actor holds [`Permission::SeeFullIdentity`]; in
//! audit records they are always masked (the log is read by roles that may not see them).

pub mod bench;
pub mod corrections;
pub mod import;

use chrono::NaiveDate;
use minzheng_domain::audit::AuditEntry;
use minzheng_domain::registry::{
    mask_account, member_addition, parse_asset_form, parse_household_update, parse_income_form,
    parse_new_household, parse_new_member, parse_person_update, peek_id_number, village_to_check,
    AssetInput, FieldRefusal, Household, HouseholdChange, HouseholdDetail, HouseholdFacts,
    HouseholdFilter, HouseholdPage, HouseholdUpdate, IncomeInput, MemberAddition, NewHousehold,
    NewPerson, Person, PersonInput, Registered, SearchTerm,
};
use minzheng_domain::{mask_id, Actor, DivisionCode, FieldErrors, Scope};
use minzheng_store::registry;
use minzheng_store::{append_audit, AuditEvent};

use crate::formats::ledger::ledger_rows;
use crate::{App, Authorize, Error, Permission, Result};

/// The registry duty of [`App`].
pub struct Registry<'a> {
    app: &'a App,
}

impl App {
    pub fn registry(&self) -> Registry<'_> {
        Registry { app: self }
    }
}

/// Today in Beijing (UTC+8), as the registry dates ID numbers and status changes: the day
/// the clerks' pages and the other duties use, which before 08:00 is a day ahead of UTC's.
pub(crate) fn today() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

const READ_ONLY: &str = "您的角色只能查看，不能修改户籍台账";

/// A filter's one problem, reported as that field's message.
fn first_field(e: FieldErrors) -> Error {
    match e.iter().next() {
        Some((field, message)) => Error::field(field, message),
        None => Error::validation(e.message()),
    }
}

fn refused(r: FieldRefusal) -> Error {
    Error::field(r.field, r.message)
}

/// A household as its audit records show it.
fn json_household(h: &Household) -> serde_json::Value {
    serde_json::json!({
        "village_code": h.village_code,
        "registration_type": h.registration_type.as_str(),
        "address": h.address,
        "phone": h.phone,
        "bank_name": h.bank_name,
        "account_number": mask_account(&h.account_number),
        "account_holder": h.account_holder,
        "status": h.status.as_str(),
        "head_id_number": mask_id(&h.head_id_number),
        "head_name": h.head_name,
    })
}

/// A member as their audit records show them.
fn json_person(p: &NewPerson) -> serde_json::Value {
    serde_json::json!({
        "name": p.name,
        "id_number": p.id.masked(),
        "relation": p.relation.as_str(),
        "counted": p.counted,
        "exclusion_reason": p.exclusion_reason.map(|e| e.as_str()),
        "disability_type": p.disability_type.as_str(),
        "disability_grade": p.disability_grade,
        "health": p.health.as_str(),
        "work_capacity": p.work_capacity.as_str(),
        "employment": p.employment.as_str(),
        "status": p.status.as_str(),
        "status_date": p.status_date.map(|d| d.to_string()),
    })
}

fn now() -> String {
    minzheng_domain::time::timestamp(chrono::Utc::now())
}

impl Registry<'_> {
    /// Whether the actor sees full ID numbers and accounts.
    fn reveals(actor: &Actor) -> bool {
        actor.may(Permission::SeeFullIdentity)
    }

    fn shown(actor: &Actor, d: HouseholdDetail) -> HouseholdDetail {
        if Self::reveals(actor) {
            d
        } else {
            d.masked()
        }
    }

    /// Households in the actor's scope: the page and the total (with a search term counted
    /// only up to a cap; [`Registry::page`] says whether it stopped there).
    pub async fn list(&self, actor: &Actor, f: &HouseholdFilter) -> Result<(Vec<Household>, i64)> {
        let p = self.page(actor, f).await?;
        Ok((p.items, p.total))
    }

    /// One page of the households in the actor's scope. Without a search term they are
    /// listed by number and counted exactly; with one, in the order of their first
    /// matching member and counted to the end of the page asked for (`total_capped`: there
    /// are more). Read from the read replica when there is one (a household just saved
    /// is shown from the primary by [`Registry::get`]).
    pub async fn page(&self, actor: &Actor, f: &HouseholdFilter) -> Result<HouseholdPage> {
        let q = f.parse(today()).map_err(first_field)?;
        let mut page = registry::list_households(self.app.reader(), &actor.scope, &q).await?;
        if !Self::reveals(actor) {
            page.items = page.items.into_iter().map(Household::masked).collect();
        }
        Ok(page)
    }

    /// Persons in the actor's scope by part of the name, pinyin (`zs` → 张三), full ID
    /// number, the last four characters of one, or last four + name; at most `limit`
    /// (1–200), in the order the store's search lists them. Read from the read replica
    /// when there is one.
    pub async fn search(&self, actor: &Actor, term: &str, limit: i64) -> Result<Vec<Person>> {
        if term.trim().is_empty() {
            return Ok(Vec::new());
        }
        let term = SearchTerm::classify(term, today());
        let found = registry::search_persons(self.app.reader(), &actor.scope, &term, limit).await?;
        Ok(if Self::reveals(actor) {
            found
        } else {
            found.into_iter().map(Person::masked).collect()
        })
    }

    /// One household with members, incomes and assets.
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<HouseholdDetail> {
        let d = registry::get_household(self.app.store(), &actor.scope, id).await?;
        Ok(Self::shown(actor, d))
    }

    /// The change history of a household (its audit records, newest first).
    pub async fn history(&self, actor: &Actor, id: i64) -> Result<Vec<AuditEntry>> {
        Ok(registry::household_history(self.app.store(), &actor.scope, id).await?)
    }

    /// The household a person belongs to.
    pub async fn person_household(&self, actor: &Actor, person_id: i64) -> Result<i64> {
        Ok(registry::person_household(self.app.store(), &actor.scope, person_id).await?)
    }

    /// Active households and active persons in the actor's scope.
    pub async fn counts(&self, actor: &Actor) -> Result<(i64, i64)> {
        Ok(registry::counts(self.app.store(), &actor.scope).await?)
    }

    /// Whether a form's village exists (when it is one the actor may name at all).
    async fn village_exists(&self, raw: &str, scope: &Scope) -> Result<bool> {
        Ok(match village_to_check(raw, scope) {
            Some(v) => registry::division_exists(self.app.store(), v).await?,
            None => false,
        })
    }

    /// Registers a household with its head.
    pub async fn create(&self, actor: &Actor, input: &NewHousehold) -> Result<HouseholdDetail> {
        actor.require_or(Permission::EditRegistry, READ_ONLY)?;
        let store = self.app.store();
        let today = today();
        let head_registered = match peek_id_number(&input.head_id_number, today) {
            Some(id) => registry::registered(store, id.as_str()).await?.is_some(),
            None => false,
        };
        let facts = HouseholdFacts {
            village_exists: self
                .village_exists(&input.village_code, &actor.scope)
                .await?,
            head_registered,
        };
        let form = parse_new_household(input, facts, &actor.scope, today)?;
        let (h, head) = (&form.household, &form.head);
        let now = now();
        let mut tx = store.begin_write().await?;
        let hid = registry::insert_household(&mut tx, h, head, &now).await?;
        registry::insert_person(&mut tx, hid, h.township_code(), head, &now).await?;
        let after = serde_json::json!({"household": {
            "village_code": h.village_code, "registration_type": h.registration_type.as_str(),
            "address": h.address, "phone": h.phone, "bank_name": h.bank_name,
            "account_number": mask_account(&h.account_number),
            "account_holder": h.account_holder}, "head": json_person(head)});
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: "household.create",
                entity_type: "household",
                entity_id: &hid.to_string(),
                scope_code: &h.village_code,
                before: None,
                after: Some(after),
            },
        )
        .await?;
        tx.commit().await?;
        self.get(actor, hid).await
    }

    /// A visible household the actor may change (404 outside the scope, then 403 for
    /// read-only roles).
    async fn writable(&self, actor: &Actor, id: i64) -> Result<Household> {
        let h = registry::get_household_row(self.app.store(), &actor.scope, id).await?;
        actor.require_or(Permission::EditRegistry, READ_ONLY)?;
        Ok(h)
    }

    /// Updates a household's own fields.
    pub async fn update(
        &self,
        actor: &Actor,
        id: i64,
        upd: &HouseholdUpdate,
    ) -> Result<HouseholdDetail> {
        let before = self.writable(actor, id).await?;
        let exists = self.village_exists(&upd.village_code, &actor.scope).await?;
        let change = parse_household_update(upd, exists, &actor.scope, before.status)?;
        let mut tx = self.app.store().begin_write().await?;
        registry::update_household(&mut tx, id, &before.township_code, &change).await?;
        let after = changed(&before, &change);
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: "household.update",
                entity_type: "household",
                entity_id: &id.to_string(),
                scope_code: &change.household.village_code,
                before: Some(json_household(&before)),
                after: Some(json_household(&after)),
            },
        )
        .await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// Adds a member to a household. A person already registered elsewhere is moved here
    /// (when both households are in the actor's scope), keeping the move in `person_moves`.
    pub async fn add_member(
        &self,
        actor: &Actor,
        household_id: i64,
        input: &PersonInput,
    ) -> Result<HouseholdDetail> {
        let h = self.writable(actor, household_id).await?;
        let store = self.app.store();
        let p = parse_new_member(input, today())?;
        let existing = registry::registered(store, p.id.as_str()).await?;
        // An ID number registered under another name is an identity conflict: refused, with
        // the registered name beside the one typed, and nothing written.
        if let Some((_, _, name)) = &existing {
            if !minzheng_domain::registry::same_name(name, &p.name) {
                return Err(Error::field(
                    "name",
                    format!(
                        "身份证号码{}在户籍台账中登记为“{name}”，与填写的“{}”不一致：系统不会自动改名或合并，请核对",
                        minzheng_domain::mask_id(p.id.as_str()),
                        p.name
                    ),
                ));
            }
        }
        let existing = existing.map(|(person, hid, _)| (person, hid));
        let from = match existing {
            Some((_, from)) if from != household_id => {
                match registry::get_household_row(store, &actor.scope, from).await {
                    Ok(x) => Some(x),
                    Err(minzheng_store::StoreError::NotFound(_)) => None,
                    Err(e) => return Err(e.into()),
                }
            }
            _ => None,
        };
        let addition = member_addition(
            household_id,
            &p,
            existing.map(|(person_id, hid)| Registered {
                person_id,
                household_id: hid,
                household: from.as_ref(),
            }),
        )
        .map_err(refused)?;
        let now = now();
        let mut tx = store.begin_write().await?;
        let (action, before) = match addition {
            MemberAddition::MoveFrom {
                person_id,
                household_id: from_id,
            } => {
                registry::update_person(
                    &mut tx,
                    person_id,
                    household_id,
                    &h.township_code,
                    &p,
                    &now,
                )
                .await?;
                registry::record_move(
                    &mut tx,
                    person_id,
                    from_id,
                    household_id,
                    &h.township_code,
                    &now,
                    &actor.username,
                )
                .await?;
                let from_village = from.as_ref().map(|f| f.village_code.as_str()).unwrap_or("");
                append_audit(
                    &mut tx,
                    actor,
                    AuditEvent {
                        action: "person.move_out",
                        entity_type: "household",
                        entity_id: &from_id.to_string(),
                        scope_code: from_village,
                        before: Some(
                            serde_json::json!({"person": p.id.masked(), "household_id": from_id}),
                        ),
                        after: Some(
                            serde_json::json!({"person": p.id.masked(), "household_id": household_id}),
                        ),
                    },
                )
                .await?;
                (
                    "person.move_in",
                    Some(serde_json::json!({"household_id": from_id})),
                )
            }
            MemberAddition::New => {
                registry::insert_person(&mut tx, household_id, &h.township_code, &p, &now).await?;
                ("person.add", None)
            }
        };
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action,
                entity_type: "household",
                entity_id: &household_id.to_string(),
                scope_code: &h.village_code,
                before,
                after: Some(json_person(&p)),
            },
        )
        .await?;
        tx.commit().await?;
        self.get(actor, household_id).await
    }

    /// Edits a member. The ID number may be corrected; the relation "户主" makes this person
    /// the head (the previous head must be given another relation first).
    pub async fn update_person(
        &self,
        actor: &Actor,
        person_id: i64,
        input: &PersonInput,
    ) -> Result<HouseholdDetail> {
        let store = self.app.store();
        let hid = registry::person_household(store, &actor.scope, person_id).await?;
        let detail = registry::get_household(store, &actor.scope, hid).await?;
        actor.require_or(Permission::EditRegistry, READ_ONLY)?;
        let before = detail
            .member(person_id)
            .cloned()
            .ok_or(Error::NotFound("该成员"))?;
        let id_taken = match peek_id_number(&input.id_number, today()) {
            Some(id) if id.as_str() != before.id_number => registry::registered(store, id.as_str())
                .await?
                .is_some_and(|(other, _, _)| other != person_id),
            _ => false,
        };
        let p = parse_person_update(input, &before, &detail.members, id_taken, today())?;
        let now = now();
        let mut tx = store.begin_write().await?;
        registry::update_person(
            &mut tx,
            person_id,
            hid,
            &detail.household.township_code,
            &p,
            &now,
        )
        .await?;
        if p.relation == minzheng_domain::registry::Relation::Head {
            registry::set_head(&mut tx, hid, &p, &now).await?;
        }
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: "person.update",
                entity_type: "household",
                entity_id: &hid.to_string(),
                scope_code: &detail.household.village_code,
                before: Some(serde_json::json!({
                    "name": before.name, "id_number": mask_id(&before.id_number),
                    "relation": before.relation.as_str(), "counted": before.counted,
                    "status": before.status.as_str()})),
                after: Some(json_person(&p)),
            },
        )
        .await?;
        tx.commit().await?;
        self.get(actor, hid).await
    }

    /// Adds an income item to a household (optionally for one member).
    pub async fn add_income(
        &self,
        actor: &Actor,
        household_id: i64,
        input: &IncomeInput,
    ) -> Result<HouseholdDetail> {
        let store = self.app.store();
        let detail = registry::get_household(store, &actor.scope, household_id).await?;
        actor.require_or(Permission::EditRegistry, READ_ONLY)?;
        let i = parse_income_form(input, &detail.members)?;
        let mut tx = store.begin_write().await?;
        registry::insert_income(&mut tx, household_id, &detail.household.township_code, &i).await?;
        let month = |m: Option<minzheng_domain::YearMonth>| m.map(|m| m.to_string());
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: "income.add",
                entity_type: "household",
                entity_id: &household_id.to_string(),
                scope_code: &detail.household.village_code,
                before: None,
                after: Some(
                    serde_json::json!({"person_id": i.person_id, "kind": i.kind.as_str(),
                    "amount_fen": i.amount.0, "period": i.period.as_str(),
                    "start_month": month(i.start_month), "end_month": month(i.end_month)}),
                ),
            },
        )
        .await?;
        tx.commit().await?;
        self.get(actor, household_id).await
    }

    /// Adds an asset to a household (optionally for one member).
    pub async fn add_asset(
        &self,
        actor: &Actor,
        household_id: i64,
        input: &AssetInput,
    ) -> Result<HouseholdDetail> {
        let store = self.app.store();
        let detail = registry::get_household(store, &actor.scope, household_id).await?;
        actor.require_or(Permission::EditRegistry, READ_ONLY)?;
        let a = parse_asset_form(input, &detail.members)?;
        let mut tx = store.begin_write().await?;
        registry::insert_asset(&mut tx, household_id, &detail.household.township_code, &a).await?;
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: "asset.add",
                entity_type: "household",
                entity_id: &household_id.to_string(),
                scope_code: &detail.household.village_code,
                before: None,
                after: Some(
                    serde_json::json!({"person_id": a.person_id, "kind": a.kind.as_str(),
                    "value_fen": a.value.0, "description": a.description}),
                ),
            },
        )
        .await?;
        tx.commit().await?;
        self.get(actor, household_id).await
    }

    /// The unified ledger of the actor's scope (optionally narrowed to `within`), one row
    /// per person in the import layout, and the number of households. ID numbers and
    /// accounts are masked unless the actor may see them. Every export is audited: the
    /// rows are read from the read replica when there is one, the audit record is written
    /// on the primary.
    pub async fn export(
        &self,
        actor: &Actor,
        within: Option<&str>,
    ) -> Result<(Vec<Vec<String>>, usize)> {
        let scope = match within.map(str::trim).filter(|w| !w.is_empty()) {
            Some(w) => {
                let code =
                    DivisionCode::parse(w).map_err(|_| Error::field("scope", "区划代码有误"))?;
                if !actor.scope.contains_str(code.as_str()) {
                    return Err(Error::NotFound("该区划"));
                }
                Scope::of(code)
            }
            None => actor.scope.clone(),
        };
        let full = Self::reveals(actor);
        let data = registry::ledger_export(self.app.reader(), &scope).await?;
        let households = data
            .entries
            .iter()
            .map(|e| e.household_id)
            .collect::<std::collections::HashSet<_>>()
            .len();
        let rows = ledger_rows(&data, full);
        let mut tx = self.app.store().begin_write().await?;
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: "registry.export",
                entity_type: "export",
                entity_id: scope.code_str(),
                scope_code: scope.code_str(),
                before: None,
                after: Some(serde_json::json!({
                    "persons": rows.len(), "households": households, "full_identity": full})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((rows, households))
    }
}

/// The household as it is after `change` (its head unchanged), for the audit record.
fn changed(before: &Household, change: &HouseholdChange) -> Household {
    let h = &change.household;
    Household {
        village_code: h.village_code.clone(),
        registration_type: h.registration_type,
        address: h.address.clone(),
        phone: h.phone.clone(),
        bank_name: h.bank_name.clone(),
        account_number: h.account_number.clone(),
        account_holder: h.account_holder.clone(),
        status: change.status,
        ..before.clone()
    }
}
