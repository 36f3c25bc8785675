// transitional: the registry as other duties' code still reaches it — through `Store`
// methods and the labelled records they render. The registry's own code uses
// `minzheng_domain::registry` records, the free functions of this module's siblings and
// `minzheng_app`'s `app.registry()`. Remove this file once the case pages (web/cases.rs and
// its templates) and the cases, payroll and standards suites call `app.registry()`.
//
// The writes and the demo ledger below need the application's use cases (permission, the
// domain's checks, the import pipeline), which live above this crate: `minzheng-app`
// registers them here when it makes an `App` ([`register_use_cases`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use minzheng_domain::registry::{
    self as domain, AssetKind, DisabilityType, Employment, ExclusionReason, Health,
    HouseholdFilter, HouseholdStatus, IncomeInput, IncomeKind, IncomePeriod, NewHousehold,
    PersonInput, PersonStatus, RegistrationType, Relation, WorkCapacity,
};
use minzheng_domain::{mask_id, Actor, Fen, Scope};
use serde::Serialize;

use crate::db::Store;
use crate::error::{StoreError, StoreResult};

/// A household (户), with the labels of its coded fields.
#[derive(Debug, Clone, Serialize)]
pub struct Household {
    pub id: i64,
    pub township_code: String,
    pub village_code: String,
    pub village_name: String,
    pub head_id_number: String,
    pub head_name: String,
    pub address: String,
    pub registration_type: RegistrationType,
    pub registration_type_label: &'static str,
    pub phone: String,
    pub bank_name: String,
    pub account_number: String,
    pub account_holder: String,
    pub status: HouseholdStatus,
    pub status_label: &'static str,
    pub member_count: i64,
    pub updated_at: String,
}

impl Household {
    /// Hides the head's ID number and the account.
    pub fn masked(mut self) -> Self {
        self.head_id_number = mask_id(&self.head_id_number);
        self.account_number = domain::mask_account(&self.account_number);
        self
    }
}

impl From<domain::Household> for Household {
    fn from(h: domain::Household) -> Self {
        Household {
            id: h.id,
            township_code: h.township_code,
            village_code: h.village_code,
            village_name: h.village_name,
            head_id_number: h.head_id_number,
            head_name: h.head_name,
            address: h.address,
            registration_type: h.registration_type,
            registration_type_label: h.registration_type.label(),
            phone: h.phone,
            bank_name: h.bank_name,
            account_number: h.account_number,
            account_holder: h.account_holder,
            status: h.status,
            status_label: h.status.label(),
            member_count: h.member_count,
            updated_at: h.updated_at,
        }
    }
}

/// A person (成员), with the labels of their coded fields.
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: i64,
    pub household_id: i64,
    pub id_number: String,
    pub name: String,
    pub gender: String,
    pub birth_date: String,
    pub relation: Relation,
    pub relation_label: &'static str,
    pub counted: bool,
    pub exclusion_reason: Option<ExclusionReason>,
    pub exclusion_reason_label: &'static str,
    pub disability_type: DisabilityType,
    pub disability_type_label: &'static str,
    pub disability_grade: Option<i64>,
    pub health: Health,
    pub health_label: &'static str,
    pub work_capacity: WorkCapacity,
    pub work_capacity_label: &'static str,
    pub employment: Employment,
    pub employment_label: &'static str,
    pub status: PersonStatus,
    pub status_label: &'static str,
    pub status_date: Option<String>,
    pub head_name: String,
    pub village_name: String,
}

impl Person {
    pub fn masked(mut self) -> Self {
        self.id_number = mask_id(&self.id_number);
        self
    }
}

impl From<domain::Person> for Person {
    fn from(p: domain::Person) -> Self {
        Person {
            id: p.id,
            household_id: p.household_id,
            id_number: p.id_number,
            name: p.name,
            gender: p.gender,
            birth_date: p.birth_date,
            relation: p.relation,
            relation_label: p.relation.label(),
            counted: p.counted,
            exclusion_reason: p.exclusion_reason,
            exclusion_reason_label: p.exclusion_reason.map(|e| e.label()).unwrap_or(""),
            disability_type: p.disability_type,
            disability_type_label: p.disability_type.label(),
            disability_grade: p.disability_grade,
            health: p.health,
            health_label: p.health.label(),
            work_capacity: p.work_capacity,
            work_capacity_label: p.work_capacity.label(),
            employment: p.employment,
            employment_label: p.employment.label(),
            status: p.status,
            status_label: p.status.label(),
            status_date: p.status_date,
            head_name: p.head_name,
            village_name: p.village_name,
        }
    }
}

/// An income item (收入), in fen and in yuan.
#[derive(Debug, Clone, Serialize)]
pub struct Income {
    pub id: i64,
    pub household_id: i64,
    pub person_id: Option<i64>,
    pub person_name: String,
    pub kind: IncomeKind,
    pub kind_label: &'static str,
    pub amount_fen: i64,
    pub amount_yuan: String,
    pub period: IncomePeriod,
    pub period_label: &'static str,
    pub start_month: Option<String>,
    pub end_month: Option<String>,
    pub note: String,
}

impl From<domain::Income> for Income {
    fn from(i: domain::Income) -> Self {
        Income {
            id: i.id,
            household_id: i.household_id,
            person_id: i.person_id,
            person_name: i.person_name,
            kind: i.kind,
            kind_label: i.kind.label(),
            amount_fen: i.amount_fen.0,
            amount_yuan: i.amount_fen.yuan_string(),
            period: i.period,
            period_label: i.period.label(),
            start_month: i.start_month.map(|m| m.to_string()),
            end_month: i.end_month.map(|m| m.to_string()),
            note: i.note,
        }
    }
}

/// An asset (财产), in fen and in yuan.
#[derive(Debug, Clone, Serialize)]
pub struct Asset {
    pub id: i64,
    pub household_id: i64,
    pub person_id: Option<i64>,
    pub person_name: String,
    pub kind: AssetKind,
    pub kind_label: &'static str,
    pub value_fen: i64,
    pub value_yuan: String,
    pub description: String,
}

impl From<domain::Asset> for Asset {
    fn from(a: domain::Asset) -> Self {
        Asset {
            id: a.id,
            household_id: a.household_id,
            person_id: a.person_id,
            person_name: a.person_name,
            kind: a.kind,
            kind_label: a.kind.label(),
            value_fen: a.value_fen.0,
            value_yuan: Fen(a.value_fen.0).yuan_string(),
            description: a.description,
        }
    }
}

/// A household with everything on its page.
#[derive(Debug, Clone, Serialize)]
pub struct HouseholdDetail {
    pub household: Household,
    pub members: Vec<Person>,
    pub incomes: Vec<Income>,
    pub assets: Vec<Asset>,
}

impl HouseholdDetail {
    pub fn masked(self) -> Self {
        HouseholdDetail {
            household: self.household.masked(),
            members: self.members.into_iter().map(Person::masked).collect(),
            ..self
        }
    }
}

impl From<domain::HouseholdDetail> for HouseholdDetail {
    fn from(d: domain::HouseholdDetail) -> Self {
        HouseholdDetail {
            household: d.household.into(),
            members: d.members.into_iter().map(Into::into).collect(),
            incomes: d.incomes.into_iter().map(Into::into).collect(),
            assets: d.assets.into_iter().map(Into::into).collect(),
        }
    }
}

/// A future of the registered use cases.
pub type UseCaseFuture<'a, T> = Pin<Box<dyn Future<Output = StoreResult<T>> + Send + 'a>>;

/// The application's registry use cases, for the `Store` methods below.
pub trait RegistryUseCases: Send + Sync + 'static {
    fn create_household<'a>(
        &'a self,
        store: &'a Store,
        actor: &'a Actor,
        input: &'a NewHousehold,
    ) -> UseCaseFuture<'a, domain::HouseholdDetail>;
    fn add_member<'a>(
        &'a self,
        store: &'a Store,
        actor: &'a Actor,
        household_id: i64,
        input: &'a PersonInput,
    ) -> UseCaseFuture<'a, domain::HouseholdDetail>;
    fn add_income<'a>(
        &'a self,
        store: &'a Store,
        actor: &'a Actor,
        household_id: i64,
        input: &'a IncomeInput,
    ) -> UseCaseFuture<'a, domain::HouseholdDetail>;
    fn seed_demo_registry<'a>(
        &'a self,
        store: &'a Store,
        households: usize,
        seed: u64,
    ) -> UseCaseFuture<'a, usize>;
}

static USE_CASES: OnceLock<Box<dyn RegistryUseCases>> = OnceLock::new();

/// Registers the application's use cases (the first registration stays).
#[doc(hidden)]
pub fn register_use_cases(u: Box<dyn RegistryUseCases>) {
    let _ = USE_CASES.set(u);
}

fn use_cases() -> StoreResult<&'static dyn RegistryUseCases> {
    USE_CASES
        .get()
        .map(|b| b.as_ref())
        .ok_or_else(|| StoreError::Internal("户籍台账功能尚未初始化".into()))
}

impl Store {
    /// One household with members, incomes and assets, if visible (unmasked).
    pub async fn get_household(&self, scope: &Scope, id: i64) -> StoreResult<HouseholdDetail> {
        Ok(super::get_household(self, scope, id).await?.into())
    }

    /// Lists households in the scope (unmasked). Returns the page and the total.
    pub async fn list_households(
        &self,
        scope: &Scope,
        f: &HouseholdFilter,
    ) -> StoreResult<(Vec<Household>, i64)> {
        let q = f
            .parse(chrono::Utc::now().date_naive())
            .map_err(|e| match e.iter().next() {
                Some((field, message)) => StoreError::field(field, message),
                None => StoreError::validation(e.message()),
            })?;
        let (list, total) = super::list_households(self, scope, &q).await?;
        Ok((list.into_iter().map(Into::into).collect(), total))
    }

    /// Creates a household with its head.
    pub async fn create_household(
        &self,
        actor: &Actor,
        input: &NewHousehold,
    ) -> StoreResult<HouseholdDetail> {
        Ok(use_cases()?
            .create_household(self, actor, input)
            .await?
            .into())
    }

    /// Adds a member to a household (moving one registered elsewhere in the scope).
    pub async fn add_member(
        &self,
        actor: &Actor,
        household_id: i64,
        input: &PersonInput,
    ) -> StoreResult<HouseholdDetail> {
        Ok(use_cases()?
            .add_member(self, actor, household_id, input)
            .await?
            .into())
    }

    /// Adds an income item to a household.
    pub async fn add_income(
        &self,
        actor: &Actor,
        household_id: i64,
        input: &IncomeInput,
    ) -> StoreResult<HouseholdDetail> {
        Ok(use_cases()?
            .add_income(self, actor, household_id, input)
            .await?
            .into())
    }

    /// Fills the demo city with synthetic households when the registry is still empty;
    /// returns how many were added.
    pub async fn seed_demo_registry(&self, households: usize, seed: u64) -> StoreResult<usize> {
        use_cases()?
            .seed_demo_registry(self, households, seed)
            .await
    }
}
