//! The registry's records as read back: households (户), persons (成员), incomes (收入) and
//! assets (财产). Coded fields are their words (a label is `x.relation.label()`, or just
//! `{{ x.relation }}`); money is [`Fen`].

use serde::Serialize;

use super::input::mask_account;
use super::words::{
    AssetKind, DisabilityType, Employment, ExclusionReason, Health, HouseholdStatus, IncomeKind,
    IncomePeriod, PersonStatus, RegistrationType, Relation, WorkCapacity,
};
use crate::{mask_id, Fen, YearMonth};

/// A household (户).
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
    pub phone: String,
    pub bank_name: String,
    pub account_number: String,
    pub account_holder: String,
    pub status: HouseholdStatus,
    /// Members whose status is 正常.
    pub member_count: i64,
    pub updated_at: String,
}

impl Household {
    /// Hides the head's ID number and the account (for roles that may not see them).
    pub fn masked(mut self) -> Self {
        self.head_id_number = mask_id(&self.head_id_number);
        self.account_number = mask_account(&self.account_number);
        self
    }
}

/// A person (成员).
#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub id: i64,
    pub household_id: i64,
    pub id_number: String,
    pub name: String,
    /// 男 or 女, as the ID number encodes it.
    pub gender: String,
    /// `YYYY-MM-DD`, from the ID number.
    pub birth_date: String,
    pub relation: Relation,
    pub counted: bool,
    pub exclusion_reason: Option<ExclusionReason>,
    pub disability_type: DisabilityType,
    pub disability_grade: Option<i64>,
    pub health: Health,
    pub work_capacity: WorkCapacity,
    pub employment: Employment,
    pub status: PersonStatus,
    /// `YYYY-MM-DD`, when the person moved out or died.
    pub status_date: Option<String>,
    /// The head of the person's household (filled in by searches and household pages).
    pub head_name: String,
    pub village_name: String,
}

impl Person {
    /// Hides the ID number.
    pub fn masked(mut self) -> Self {
        self.id_number = mask_id(&self.id_number);
        self
    }
}

/// An income item (收入).
#[derive(Debug, Clone, Serialize)]
pub struct Income {
    pub id: i64,
    pub household_id: i64,
    pub person_id: Option<i64>,
    pub person_name: String,
    pub kind: IncomeKind,
    pub amount_fen: Fen,
    pub period: IncomePeriod,
    pub start_month: Option<YearMonth>,
    pub end_month: Option<YearMonth>,
    pub note: String,
}

/// An asset (财产).
#[derive(Debug, Clone, Serialize)]
pub struct Asset {
    pub id: i64,
    pub household_id: i64,
    pub person_id: Option<i64>,
    pub person_name: String,
    pub kind: AssetKind,
    pub value_fen: Fen,
    pub description: String,
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
    /// Hides the ID numbers and the account.
    pub fn masked(self) -> Self {
        HouseholdDetail {
            household: self.household.masked(),
            members: self.members.into_iter().map(Person::masked).collect(),
            ..self
        }
    }

    /// The member with this id.
    pub fn member(&self, person_id: i64) -> Option<&Person> {
        self.members.iter().find(|m| m.id == person_id)
    }
}

/// One person of a ledger export with their household's fields (one row of the unified
/// ledger).
#[derive(Debug, Clone)]
pub struct LedgerEntry {
    pub person_id: i64,
    pub household_id: i64,
    pub head_id_number: String,
    pub village_code: String,
    pub registration_type: RegistrationType,
    pub address: String,
    pub phone: String,
    pub bank_name: String,
    pub account_number: String,
    pub account_holder: String,
    pub name: String,
    pub id_number: String,
    pub relation: Relation,
    pub counted: bool,
    pub exclusion_reason: Option<ExclusionReason>,
    pub disability_type: DisabilityType,
    pub disability_grade: Option<i64>,
    pub health: Health,
    pub work_capacity: WorkCapacity,
    pub employment: Employment,
    pub status: PersonStatus,
    pub status_date: Option<String>,
}

/// Everything a ledger export holds: persons in household order (head first), and the
/// sums of their incomes and assets by kind.
#[derive(Debug, Clone, Default)]
pub struct LedgerExport {
    pub entries: Vec<LedgerEntry>,
    /// (person, kind, period) → sum.
    pub incomes: std::collections::HashMap<(i64, IncomeKind, IncomePeriod), Fen>,
    /// (person, kind) → sum.
    pub assets: std::collections::HashMap<(i64, AssetKind), Fen>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: i64, id_number: &str) -> Person {
        Person {
            id,
            household_id: 1,
            id_number: id_number.into(),
            name: "张三".into(),
            gender: "男".into(),
            birth_date: "1949-12-31".into(),
            relation: Relation::Head,
            counted: true,
            exclusion_reason: None,
            disability_type: DisabilityType::None,
            disability_grade: None,
            health: Health::Healthy,
            work_capacity: WorkCapacity::Full,
            employment: Employment::Farming,
            status: PersonStatus::Active,
            status_date: None,
            head_name: "张三".into(),
            village_name: "城东村".into(),
        }
    }

    fn page() -> HouseholdDetail {
        HouseholdDetail {
            household: Household {
                id: 1,
                township_code: "511802001".into(),
                village_code: "511802001001".into(),
                village_name: "城东村".into(),
                head_id_number: "11010519491231002X".into(),
                head_name: "张三".into(),
                address: "城东村1组".into(),
                registration_type: RegistrationType::Rural,
                phone: "13800000000".into(),
                bank_name: "农商银行".into(),
                account_number: "6217001234567890".into(),
                account_holder: "张三".into(),
                status: HouseholdStatus::Active,
                member_count: 2,
                updated_at: String::new(),
            },
            members: vec![
                person(7, "11010519491231002X"),
                person(8, "110105197503150017"),
            ],
            incomes: Vec::new(),
            assets: Vec::new(),
        }
    }

    #[test]
    fn a_masked_household_page_hides_every_id_number_and_the_account() {
        let masked = page().masked();
        assert_eq!(masked.household.head_id_number, "110105********002X");
        assert_eq!(masked.household.account_number, "6217********7890");
        let ids: Vec<&str> = masked
            .members
            .iter()
            .map(|m| m.id_number.as_str())
            .collect();
        assert_eq!(ids, ["110105********002X", "110105********0017"]);
        assert_eq!(masked.household.head_name, "张三");
    }

    #[test]
    fn a_member_is_found_on_the_page_by_its_id() {
        let p = page();
        assert_eq!(
            p.member(8).map(|m| m.id_number.as_str()),
            Some("110105197503150017")
        );
        assert!(p.member(9).is_none());
    }
}
