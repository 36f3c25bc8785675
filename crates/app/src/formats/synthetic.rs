//! Synthetic ledgers in the import layout: realistic households for the demo city, the
//! benchmarks and the tests, deterministic for a seed.

use std::collections::HashSet;

use minzheng_domain::registry::{
    Column, DisabilityType, Employment, ExclusionReason, Health, PersonStatus, Relation,
    WorkCapacity,
};
use minzheng_domain::{Fen, IdNumber};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Surnames with their approximate national frequency (per mille).
const SURNAMES: &[(&str, u32)] = &[
    ("王", 72),
    ("李", 72),
    ("张", 68),
    ("刘", 54),
    ("陈", 45),
    ("杨", 31),
    ("黄", 22),
    ("赵", 22),
    ("吴", 20),
    ("周", 20),
    ("徐", 16),
    ("孙", 15),
    ("马", 15),
    ("朱", 14),
    ("胡", 13),
    ("郭", 12),
    ("何", 12),
    ("林", 12),
    ("罗", 11),
    ("高", 11),
    ("郑", 10),
    ("梁", 10),
    ("谢", 9),
    ("宋", 8),
    ("唐", 8),
    ("许", 7),
    ("韩", 7),
    ("冯", 7),
    ("邓", 7),
    ("曹", 6),
    ("彭", 6),
    ("曾", 6),
    ("肖", 6),
    ("田", 5),
    ("董", 5),
    ("袁", 5),
    ("潘", 5),
    ("蒋", 5),
    ("蔡", 5),
    ("余", 5),
];
const MALE_CHARS: &[&str] = &[
    "伟", "强", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "建", "国",
    "峰", "磊", "波", "林", "文", "德", "海", "荣", "志", "兵", "成", "春", "学", "军",
];
const FEMALE_CHARS: &[&str] = &[
    "芳", "娟", "敏", "静", "丽", "艳", "秀", "英", "霞", "燕", "玲", "桂", "兰", "萍", "红", "梅",
    "琴", "云", "莲", "珍", "婷", "雪", "慧", "莉", "倩", "琳", "洁", "颖", "华", "凤",
];
const ROADS: &[&str] = &[
    "和平路",
    "人民路",
    "新华街",
    "建设路",
    "幸福巷",
    "团结路",
    "胜利街",
];
const BANKS: &[&str] = &[
    "中国农业银行",
    "中国邮政储蓄银行",
    "四川农村商业联合银行",
    "中国工商银行",
    "中国建设银行",
];

struct Gen {
    rng: StdRng,
    used: HashSet<String>,
    surname_total: u32,
}

impl Gen {
    fn surname(&mut self) -> &'static str {
        let mut x = self.rng.gen_range(0..self.surname_total);
        for (s, w) in SURNAMES {
            if x < *w {
                return s;
            }
            x -= w;
        }
        "王"
    }

    fn given(&mut self, male: bool) -> String {
        let pool = if male { MALE_CHARS } else { FEMALE_CHARS };
        let n = if self.rng.gen_bool(0.7) { 2 } else { 1 };
        (0..n)
            .map(|_| pool[self.rng.gen_range(0..pool.len())])
            .collect()
    }

    /// A valid, unused ID number for a county, birth date and gender.
    fn id(&mut self, county: &str, birth: chrono::NaiveDate, male: bool) -> String {
        loop {
            let seq2: u32 = self.rng.gen_range(0..100);
            let last = self.rng.gen_range(0..5) * 2 + u32::from(male);
            let first17 = format!("{county}{}{seq2:02}{last}", birth.format("%Y%m%d"));
            let check = IdNumber::check_char(first17.as_bytes()).expect("17 digits");
            let id = format!("{first17}{}", check as char);
            if self.used.insert(id.clone()) {
                return id;
            }
        }
    }

    fn birth(&mut self, year: i32) -> chrono::NaiveDate {
        let doy = self.rng.gen_range(0..365);
        chrono::NaiveDate::from_ymd_opt(year, 1, 1).expect("valid") + chrono::Duration::days(doy)
    }

    fn money(&mut self, lo: i64, hi: i64) -> String {
        Fen(self.rng.gen_range(lo..hi) * 100).yuan_string()
    }
}

/// The villages of the demo city (12-digit codes).
pub fn demo_villages() -> Vec<String> {
    crate::demo::DEMO_CITY_CSV
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|c| c.len() == 12)
        .map(str::to_string)
        .collect()
}

/// A realistic synthetic ledger in the import layout: `households` households spread over
/// `villages`, deterministic for `seed`. Birth dates fit the relations; ID numbers are valid
/// and unique; incomes and assets have plausible spreads.
pub fn generate_ledger(households: usize, seed: u64, villages: &[String]) -> Vec<Vec<String>> {
    let mut g = Gen {
        rng: StdRng::seed_from_u64(seed),
        used: HashSet::new(),
        surname_total: SURNAMES.iter().map(|(_, w)| w).sum(),
    };
    let this_year = 2025;
    let mut rows = Vec::with_capacity(households * 3);
    let col = |c: Column| Column::ALL.iter().position(|x| *x == c).expect("column");
    for _ in 0..households {
        let village = &villages[g.rng.gen_range(0..villages.len())];
        let county = &village[..6];
        let head_male = g.rng.gen_bool(0.75);
        let head_year = this_year - g.rng.gen_range(25..86);
        let head_birth = g.birth(head_year);
        let surname = g.surname();
        let head_name = format!("{surname}{}", g.given(head_male));
        let head_id = g.id(county, head_birth, head_male);
        let rural = g.rng.gen_bool(0.65);
        // (name, id, relation, birth year, male)
        let mut members: Vec<(String, String, Relation, i32)> = vec![(
            head_name.clone(),
            head_id.clone(),
            Relation::Head,
            head_year,
        )];
        if g.rng.gen_bool(0.8) && this_year - head_year > 22 {
            let y = (head_year + g.rng.gen_range(-4..5)).min(this_year - 20);
            let b = g.birth(y);
            let s = g.surname();
            let name = format!("{s}{}", g.given(!head_male));
            let id = g.id(county, b, !head_male);
            members.push((name, id, Relation::Spouse, y));
        }
        let kids = g.rng.gen_range(0..4);
        for _ in 0..kids {
            let y = head_year + g.rng.gen_range(20..40);
            if y > this_year - 1 {
                continue;
            }
            let b = g.birth(y);
            let male = g.rng.gen_bool(0.5);
            let name = format!("{surname}{}", g.given(male));
            let id = g.id(county, b, male);
            members.push((name, id, Relation::Child, y));
        }
        if g.rng.gen_bool(0.15) && head_year > 1950 {
            let y = head_year - g.rng.gen_range(20..35);
            let b = g.birth(y);
            let male = g.rng.gen_bool(0.4);
            let name = format!("{surname}{}", g.given(male));
            let id = g.id(county, b, male);
            members.push((name, id, Relation::Parent, y));
        }
        for (name, id, rel, year) in members {
            let age = this_year - year;
            let mut row = vec![String::new(); Column::ALL.len()];
            row[col(Column::HeadId)] = head_id.clone();
            row[col(Column::Village)] = village.clone();
            row[col(Column::Name)] = name;
            row[col(Column::IdNumber)] = id;
            row[col(Column::Relation)] = rel.label().into();
            if rel == Relation::Head {
                row[col(Column::RegistrationType)] = if rural { "农村" } else { "城镇" }.into();
                row[col(Column::Address)] = format!(
                    "{}{}号",
                    ROADS[g.rng.gen_range(0..ROADS.len())],
                    g.rng.gen_range(1..300)
                );
                row[col(Column::Phone)] = format!(
                    "1{}{:09}",
                    g.rng.gen_range(3..9),
                    g.rng.gen_range(0..1_000_000_000u64)
                );
                row[col(Column::Bank)] = BANKS[g.rng.gen_range(0..BANKS.len())].into();
                row[col(Column::Account)] =
                    format!("6217{:015}", g.rng.gen_range(0..1_000_000_000_000_000u64));
                row[col(Column::AccountHolder)] = head_name.clone();
                row[col(Column::Deposit)] = g.money(0, 60_000);
                if g.rng.gen_bool(0.12) {
                    row[col(Column::Vehicle)] = g.money(20_000, 150_000);
                }
                if g.rng.gen_bool(0.3) {
                    row[col(Column::Housing)] = g.money(80_000, 600_000);
                }
            }
            let counted = g.rng.gen_bool(0.97) || rel == Relation::Head;
            row[col(Column::Counted)] = if counted { "是" } else { "否" }.into();
            if !counted {
                row[col(Column::ExclusionReason)] = ExclusionReason::Conscript.label().into();
            }
            if g.rng.gen_bool(0.06) {
                let types = &DisabilityType::ALL[1..];
                row[col(Column::DisabilityType)] =
                    types[g.rng.gen_range(0..types.len())].label().into();
                row[col(Column::DisabilityGrade)] = g.rng.gen_range(1..5).to_string();
            } else {
                row[col(Column::DisabilityType)] = DisabilityType::None.label().into();
            }
            row[col(Column::Health)] = if g.rng.gen_bool(0.08) {
                Health::Serious
            } else if g.rng.gen_bool(0.2) && age > 50 {
                Health::Chronic
            } else {
                Health::Healthy
            }
            .label()
            .into();
            let (emp, wc) = match age {
                0..=6 => (Employment::Preschool, WorkCapacity::None),
                7..=17 => (Employment::Student, WorkCapacity::None),
                18..=59 if g.rng.gen_bool(0.1) => (Employment::Unemployed, WorkCapacity::Full),
                18..=59 if rural => (Employment::Farming, WorkCapacity::Full),
                18..=59 => (Employment::Employed, WorkCapacity::Full),
                _ => (Employment::Retired, WorkCapacity::Partial),
            };
            row[col(Column::Employment)] = emp.label().into();
            row[col(Column::WorkCapacity)] = wc.label().into();
            row[col(Column::Status)] = PersonStatus::Active.label().into();
            match emp {
                Employment::Employed => row[col(Column::WageMonthly)] = g.money(1_800, 7_000),
                Employment::Farming => {
                    row[col(Column::BusinessMonthly)] = g.money(300, 2_500);
                    if g.rng.gen_bool(0.3) {
                        row[col(Column::WageMonthly)] = g.money(800, 3_000);
                    }
                }
                Employment::Retired => row[col(Column::TransferMonthly)] = g.money(150, 3_500),
                _ => {}
            }
            if g.rng.gen_bool(0.1) {
                row[col(Column::OtherAnnual)] = g.money(200, 5_000);
            }
            rows.push(row);
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generator_is_deterministic_and_valid() {
        let v = demo_villages();
        assert!(v.len() > 600);
        let a = generate_ledger(50, 7, &v);
        let b = generate_ledger(50, 7, &v);
        assert_eq!(a, b);
        assert_ne!(a, generate_ledger(50, 8, &v));
        let id = Column::ALL
            .iter()
            .position(|c| *c == Column::IdNumber)
            .unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        for r in &a {
            IdNumber::parse(&r[id], today).expect("valid id");
        }
    }
}
