//! The checked ledger as it flows through the import: read (`minzheng-app` turns a file into
//! [`Row`]s), checked (against the file and the database facts into a [`Plan`]), written
//! (`minzheng-store` turns the plan into bulk SQL).
//!
//! A ledger of a million persons is about 150 MB of CSV; holding every cell as a `String`
//! would take gigabytes. So each valid row is a fixed-size [`Row`] (ID numbers as bytes,
//! coded fields as words, names and the head's free text in one string arena, amounts in
//! one `i64` arena): about 100 bytes per person.

use std::collections::HashSet;

use chrono::NaiveDate;

use super::columns::Column;
use super::forms::NewPerson;
use super::report::ImportIssue;
use super::words::{
    AssetKind, DisabilityType, Employment, ExclusionReason, Health, IncomeKind, IncomePeriod,
    PersonStatus, RegistrationType, Relation, WorkCapacity,
};
use crate::{Fen, Gender};

/// An ID number (18 ASCII characters).
pub type Id18 = [u8; 18];

/// The text of an [`Id18`] (always ASCII digits and `X`).
#[inline]
pub fn id_str(id: &Id18) -> &str {
    std::str::from_utf8(id).unwrap_or("")
}

/// A span in [`Ledger`]'s text arena.
#[derive(Debug, Clone, Copy, Default)]
struct Span {
    at: u32,
    len: u32,
}

/// The household fields only a head's row carries (its address, phone, bank account).
#[derive(Debug, Clone, Copy)]
struct Extra {
    address: Span,
    phone: Span,
    bank: Span,
    account: Span,
    holder: Span,
}

/// The head row's household fields.
#[derive(Debug, Clone, Copy, Default)]
pub struct HouseholdText<'a> {
    pub address: &'a str,
    pub phone: &'a str,
    pub bank: &'a str,
    pub account: &'a str,
    pub holder: &'a str,
}

const NO_EXTRA: u32 = u32::MAX;

/// The amount columns, in the order of the amounts a row is given.
pub const MONEY_COLUMNS: [Column; 7] = [
    Column::WageMonthly,
    Column::BusinessMonthly,
    Column::TransferMonthly,
    Column::OtherAnnual,
    Column::Deposit,
    Column::Vehicle,
    Column::Housing,
];
const INCOME_SLOTS: [(IncomeKind, IncomePeriod); 4] = [
    (IncomeKind::Wage, IncomePeriod::Monthly),
    (IncomeKind::Business, IncomePeriod::Monthly),
    (IncomeKind::Transfer, IncomePeriod::Monthly),
    (IncomeKind::Other, IncomePeriod::Annual),
];
const ASSET_SLOTS: [AssetKind; 3] = [AssetKind::Deposit, AssetKind::Vehicle, AssetKind::Housing];

/// One valid row, about 100 bytes.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// The spreadsheet row (1-based, header included).
    pub line: u32,
    pub id: Id18,
    pub head: Id18,
    pub village: [u8; 12],
    name: Span,
    pub birth: NaiveDate,
    pub male: bool,
    pub relation: Relation,
    pub counted: bool,
    pub exclusion_reason: Option<ExclusionReason>,
    pub disability_type: DisabilityType,
    pub disability_grade: Option<u8>,
    pub health: Health,
    pub work_capacity: WorkCapacity,
    pub employment: Employment,
    pub status: PersonStatus,
    pub status_date: Option<NaiveDate>,
    pub registration_type: Option<RegistrationType>,
    extra: u32,
    money_mask: u8,
    money_at: u32,
}

impl Row {
    #[inline]
    pub fn id(&self) -> &str {
        id_str(&self.id)
    }

    #[inline]
    pub fn head(&self) -> &str {
        id_str(&self.head)
    }

    #[inline]
    pub fn village(&self) -> &str {
        std::str::from_utf8(&self.village).unwrap_or("")
    }

    #[inline]
    pub fn township(&self) -> &str {
        &self.village()[..9]
    }

    #[inline]
    pub fn gender_label(&self) -> &'static str {
        if self.male {
            Gender::Male.label()
        } else {
            Gender::Female.label()
        }
    }

    #[inline]
    pub fn id_last4(&self) -> &str {
        &self.id()[14..]
    }
}

/// A valid row as the reader hands it to [`Ledger::push_row`].
#[derive(Debug, Clone, Copy)]
pub struct RowInput<'a> {
    pub line: u32,
    pub id: Id18,
    pub head: Id18,
    pub village: [u8; 12],
    pub person: &'a NewPerson,
    pub registration_type: Option<RegistrationType>,
    /// The household's fields (on the head's row only).
    pub household: Option<HouseholdText<'a>>,
    /// The amounts of [`MONEY_COLUMNS`] in fen (0 when blank).
    pub money: [i64; MONEY_COLUMNS.len()],
}

/// The checked rows of a ledger.
#[derive(Debug, Default)]
pub struct Ledger {
    pub rows: Vec<Row>,
    pub issues: Vec<ImportIssue>,
    /// Non-blank data rows read (valid or not).
    pub rows_read: usize,
    /// Heads (by ID) of rows that failed their own checks: those households are incomplete.
    pub bad_heads: HashSet<Id18>,
    text: String,
    extras: Vec<Extra>,
    money: Vec<i64>,
}

impl Ledger {
    fn push_text(&mut self, s: &str) -> Span {
        let at = self.text.len() as u32;
        self.text.push_str(s);
        Span {
            at,
            len: s.len() as u32,
        }
    }

    #[inline]
    fn text_of(&self, s: Span) -> &str {
        &self.text[s.at as usize..(s.at + s.len) as usize]
    }

    /// Keeps a valid row.
    pub fn push_row(&mut self, r: RowInput<'_>) {
        let p = r.person;
        let name = self.push_text(&p.name);
        let extra = match r.household {
            Some(h) => {
                let address = self.push_text(h.address);
                let phone = self.push_text(h.phone);
                let bank = self.push_text(h.bank);
                let account = self.push_text(h.account);
                let holder = self.push_text(h.holder);
                self.extras.push(Extra {
                    address,
                    phone,
                    bank,
                    account,
                    holder,
                });
                (self.extras.len() - 1) as u32
            }
            None => NO_EXTRA,
        };
        let money_at = self.money.len() as u32;
        let mut money_mask = 0u8;
        for (slot, v) in r.money.into_iter().enumerate() {
            if v != 0 {
                money_mask |= 1 << slot;
                self.money.push(v);
            }
        }
        self.rows.push(Row {
            line: r.line,
            id: r.id,
            head: r.head,
            village: r.village,
            name,
            birth: p.id.birth_date(),
            male: p.id.gender() == Gender::Male,
            relation: p.relation,
            counted: p.counted,
            exclusion_reason: p.exclusion_reason,
            disability_type: p.disability_type,
            disability_grade: p.disability_grade.map(|g| g as u8),
            health: p.health,
            work_capacity: p.work_capacity,
            employment: p.employment,
            status: p.status,
            status_date: p.status_date,
            registration_type: r.registration_type,
            extra,
            money_mask,
            money_at,
        });
    }

    #[inline]
    pub fn name(&self, r: &Row) -> &str {
        self.text_of(r.name)
    }

    /// The head row's household fields (empty strings for other rows).
    #[inline]
    pub fn household_text(&self, r: &Row) -> HouseholdText<'_> {
        match self.extras.get(r.extra as usize) {
            Some(e) => HouseholdText {
                address: self.text_of(e.address),
                phone: self.text_of(e.phone),
                bank: self.text_of(e.bank),
                account: self.text_of(e.account),
                holder: self.text_of(e.holder),
            },
            None => HouseholdText::default(),
        }
    }

    #[inline]
    fn amounts(&self, r: &Row) -> impl Iterator<Item = (usize, Fen)> + '_ {
        let mask = r.money_mask;
        let mut at = r.money_at as usize;
        (0..MONEY_COLUMNS.len()).filter_map(move |slot| {
            if mask & (1 << slot) == 0 {
                return None;
            }
            let v = self.money[at];
            at += 1;
            Some((slot, Fen(v)))
        })
    }

    /// The row's non-zero incomes.
    #[inline]
    pub fn incomes(&self, r: &Row) -> impl Iterator<Item = (IncomeKind, IncomePeriod, Fen)> + '_ {
        self.amounts(r)
            .filter(|(slot, _)| *slot < INCOME_SLOTS.len())
            .map(|(slot, v)| (INCOME_SLOTS[slot].0, INCOME_SLOTS[slot].1, v))
    }

    /// The row's non-zero assets.
    #[inline]
    pub fn assets(&self, r: &Row) -> impl Iterator<Item = (AssetKind, Fen)> + '_ {
        self.amounts(r)
            .filter(|(slot, _)| *slot >= INCOME_SLOTS.len())
            .map(|(slot, v)| (ASSET_SLOTS[slot - INCOME_SLOTS.len()], v))
    }

    /// Appends the rows checked into `part` (a part of the same file checked on another
    /// thread), shifting their offsets into its text, extras and amounts, which move over
    /// whole.
    pub fn append(&mut self, part: Ledger) {
        let text_at = self.text.len() as u32;
        let extras_at = self.extras.len() as u32;
        let money_at = self.money.len() as u32;
        self.text.push_str(&part.text);
        let shift = |s: Span| Span {
            at: s.at + text_at,
            len: s.len,
        };
        self.extras.extend(part.extras.iter().map(|e| Extra {
            address: shift(e.address),
            phone: shift(e.phone),
            bank: shift(e.bank),
            account: shift(e.account),
            holder: shift(e.holder),
        }));
        self.money.extend_from_slice(&part.money);
        self.issues.extend(part.issues);
        self.rows_read += part.rows_read;
        self.bad_heads.extend(part.bad_heads);
        self.rows.extend(part.rows.iter().map(|r| {
            let mut r = *r;
            r.name.at += text_at;
            if r.extra != NO_EXTRA {
                r.extra += extras_at;
            }
            r.money_at += money_at;
            r
        }));
    }
}

// ------------------------------------------------------------------ households

/// The households of the file in first-seen order, each with its rows in file order:
/// `members[starts[g]..starts[g + 1]]` are the row indexes of household `g`.
#[derive(Debug, Default)]
pub struct Groups {
    pub starts: Vec<u32>,
    pub members: Vec<u32>,
}

impl Groups {
    #[inline]
    pub fn len(&self) -> usize {
        self.starts.len().saturating_sub(1)
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    pub fn get(&self, g: usize) -> &[u32] {
        &self.members[self.starts[g] as usize..self.starts[g + 1] as usize]
    }

    /// Groups rows by head ID without a vector per household.
    pub fn of(rows: &[Row]) -> Groups {
        let mut index: std::collections::HashMap<Id18, u32> = std::collections::HashMap::new();
        let mut group_of = Vec::with_capacity(rows.len());
        let mut sizes: Vec<u32> = Vec::new();
        for r in rows {
            let n = sizes.len() as u32;
            let g = *index.entry(r.head).or_insert(n);
            if g == n {
                sizes.push(0);
            }
            sizes[g as usize] += 1;
            group_of.push(g);
        }
        drop(index);
        let mut starts = Vec::with_capacity(sizes.len() + 1);
        let mut at = 0u32;
        starts.push(0);
        for s in &sizes {
            at += s;
            starts.push(at);
        }
        let mut fill: Vec<u32> = starts[..sizes.len()].to_vec();
        let mut members = vec![0u32; rows.len()];
        for (i, g) in group_of.into_iter().enumerate() {
            let slot = &mut fill[g as usize];
            members[*slot as usize] = i as u32;
            *slot += 1;
        }
        Groups { starts, members }
    }
}

// ------------------------------------------------------------------ database facts

/// What the database already holds for a person of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub person_id: i64,
    pub household_id: i64,
    /// The registered name: a row with the same ID number and another name is an identity
    /// conflict, never a rename.
    pub name: String,
    /// The person's household lies inside the importer's scope.
    pub in_scope: bool,
    /// The person is the head of their current household.
    pub is_head: bool,
}

/// A household the database already holds, by head ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExistingHousehold {
    pub id: i64,
    pub in_scope: bool,
}

/// A map keyed by ID number, kept as one sorted vector: at a million entries it takes half
/// the memory of a `HashMap`.
#[derive(Debug)]
pub struct IdMap<V> {
    items: Vec<(Id18, V)>,
}

impl<V> IdMap<V> {
    pub fn new(mut items: Vec<(Id18, V)>) -> Self {
        items.sort_unstable_by_key(|a| a.0);
        IdMap { items }
    }

    #[inline]
    pub fn get(&self, id: &Id18) -> Option<&V> {
        self.items
            .binary_search_by(|(k, _)| k.cmp(id))
            .ok()
            .map(|i| &self.items[i].1)
    }
}

// ------------------------------------------------------------------ the plan

/// What the write phase writes: the checked ledger, its households, what the database
/// already holds, and the stamp of the import.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    pub ledger: &'a Ledger,
    pub groups: &'a Groups,
    pub existing: &'a IdMap<Existing>,
    pub heads: &'a IdMap<ExistingHousehold>,
    /// The timestamp written as created/updated.
    pub now: &'a str,
    /// Who imports (written with each move).
    pub actor: &'a str,
}

impl Plan<'_> {
    /// The head row of household `g` (its first row if it has none, which the checks
    /// refuse before anything is written).
    #[inline]
    pub fn head_of(&self, g: usize) -> &Row {
        let rows = &self.ledger.rows;
        self.groups
            .get(g)
            .iter()
            .map(|&i| &rows[i as usize])
            .find(|r| r.relation == Relation::Head)
            .unwrap_or(&rows[self.groups.get(g)[0] as usize])
    }
}

/// What the write phase did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub households_created: usize,
    pub households_updated: usize,
    pub persons_created: usize,
    pub persons_updated: usize,
    pub persons_moved: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_stays_small() {
        assert!(
            std::mem::size_of::<Row>() <= 104,
            "{}",
            std::mem::size_of::<Row>()
        );
    }

    #[test]
    fn rows_keep_their_text_and_amounts_across_parts() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let id = crate::IdNumber::parse("11010519491231002X", today).unwrap();
        let person = NewPerson::head(id, "张三".into(), Health::Healthy, WorkCapacity::Full);
        let other = NewPerson {
            name: "李四".into(),
            ..person.clone()
        };
        let key: Id18 = *b"11010519491231002X";
        let row = |person, money| RowInput {
            line: 2,
            id: key,
            head: key,
            village: *b"511802001001",
            person,
            registration_type: Some(RegistrationType::Rural),
            household: Some(HouseholdText {
                address: "和平路1号",
                ..Default::default()
            }),
            money,
        };
        let mut one = Ledger::default();
        one.push_row(row(&person, [0, 0, 0, 0, 5, 0, 0]));
        one.rows_read = 3;
        let mut two = Ledger::default();
        two.push_row(row(&other, [100, 0, 0, 7, 0, 0, 9]));
        two.rows_read = 2;
        one.append(two);
        assert_eq!(one.rows_read, 5);
        assert_eq!(one.name(&one.rows[0]), "张三");
        let r = &one.rows[1];
        assert_eq!(one.name(r), "李四");
        assert_eq!(one.household_text(r).address, "和平路1号");
        assert_eq!(
            one.incomes(r).map(|(_, _, f)| f.0).collect::<Vec<_>>(),
            [100, 7]
        );
        assert_eq!(
            one.assets(r).map(|(k, f)| (k, f.0)).collect::<Vec<_>>(),
            [(AssetKind::Housing, 9)]
        );
        assert_eq!(
            (r.gender_label(), r.township(), r.id_last4()),
            ("女", "511802001", "002X")
        );
        assert_eq!(r.head(), "11010519491231002X");
        // The first row has an asset only: the fifth column is the first asset's.
        let first = &one.rows[0];
        assert_eq!(one.incomes(first).count(), 0);
        assert_eq!(
            one.assets(first).map(|(k, f)| (k, f.0)).collect::<Vec<_>>(),
            [(ASSET_SLOTS[0], 5)]
        );
        let groups = Groups::of(&one.rows);
        assert_eq!((groups.len(), groups.get(0)), (1, &[0u32, 1][..]));
    }

    #[test]
    fn households_keep_their_own_fields_and_members_across_parts() {
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let parse = |id| crate::IdNumber::parse(id, today).unwrap();
        let a = NewPerson::head(
            parse("11010519491231002X"),
            "张三".into(),
            Health::Healthy,
            WorkCapacity::Full,
        );
        let b = NewPerson::head(
            parse("110101199003074477"),
            "李四".into(),
            Health::Healthy,
            WorkCapacity::Full,
        );
        let child = NewPerson {
            relation: Relation::Child,
            ..b.clone()
        };
        let (ka, kb, kc): (Id18, Id18, Id18) = (
            *b"11010519491231002X",
            *b"110101199003074477",
            *b"110101201001010012",
        );
        let row = |id, head, person, address: Option<&'static str>, money| RowInput {
            line: 2,
            id,
            head,
            village: *b"511802001001",
            person,
            registration_type: None,
            household: address.map(|address| HouseholdText {
                address,
                ..Default::default()
            }),
            money,
        };
        let mut one = Ledger::default();
        one.push_row(row(ka, ka, &a, Some("甲村1号"), [100, 0, 0, 0, 0, 0, 0]));
        let mut two = Ledger::default();
        two.push_row(row(kc, kb, &child, None, [0, 300, 0, 0, 0, 0, 0]));
        two.push_row(row(kb, kb, &b, Some("乙村2号"), [0, 0, 200, 0, 0, 0, 0]));
        one.append(two);
        let text = |i: usize| one.household_text(&one.rows[i]).address;
        assert_eq!((text(0), text(1), text(2)), ("甲村1号", "", "乙村2号"));
        let money = |i: usize| one.incomes(&one.rows[i]).map(|(_, _, f)| f.0).sum::<i64>();
        assert_eq!((money(0), money(1), money(2)), (100, 300, 200));
        let groups = Groups::of(&one.rows);
        assert_eq!(groups.len(), 2);
        assert!(!groups.is_empty());
        assert_eq!(
            (groups.get(0), groups.get(1)),
            (&[0u32][..], &[1u32, 2][..])
        );
        assert!(Groups::of(&[]).is_empty());
        assert_eq!(Groups::of(&[]).len(), 0);
        // The head row of the second household is its second row.
        let existing = IdMap::new(Vec::new());
        let heads = IdMap::new(vec![
            (
                kb,
                ExistingHousehold {
                    id: 9,
                    in_scope: true,
                },
            ),
            (
                ka,
                ExistingHousehold {
                    id: 4,
                    in_scope: false,
                },
            ),
        ]);
        let plan = Plan {
            ledger: &one,
            groups: &groups,
            existing: &existing,
            heads: &heads,
            now: "",
            actor: "",
        };
        assert_eq!(plan.head_of(1).id(), "110101199003074477");
        assert_eq!(plan.head_of(0).id(), "11010519491231002X");
        assert_eq!(
            heads.get(&ka),
            Some(&ExistingHousehold {
                id: 4,
                in_scope: false
            })
        );
        assert_eq!(heads.get(&kb).map(|h| h.id), Some(9));
        assert_eq!(heads.get(&kc), None);
    }
}
