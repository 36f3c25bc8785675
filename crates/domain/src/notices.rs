//! 公示 — what may appear on a public notice board (docs/rules.md §5).
//!
//! The notice shows the applicant's name, household size, the program and the
//! amount, and nothing else. [`PublicNoticeEntry`] is that whitelist as a type: it has
//! no field that could hold an ID number, phone, bank account, address detail, health
//! or disability data, so no code path can leak them through a notice. Minors in 特困
//! cases are not publicised at all (《特困人员认定办法》).

use chrono::NaiveDate;

use crate::programs::Program;
use crate::{Fen, IdNumber};

/// 公示姓名遮蔽方式. The rules list the name among the published fields; masking it is
/// local practice, so it is a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NameMask {
    /// 全名公示
    None,
    /// 保留首尾字: 张三丰 → 张*丰, 张三 → 张*, 欧阳娜娜 → 欧**娜
    KeepFirstAndLast,
    /// 只保留姓(首字): 张三丰 → 张**
    KeepSurname,
}

impl NameMask {
    pub fn label(self) -> &'static str {
        match self {
            NameMask::None => "全名公示",
            NameMask::KeepFirstAndLast => "保留首尾字",
            NameMask::KeepSurname => "只保留姓",
        }
    }

    /// Masks a name. Digits are always replaced: a name field that holds an ID or
    /// phone number typed by mistake must not put it on a board.
    pub fn apply(self, name: &str) -> String {
        let chars: Vec<char> = name
            .trim()
            .chars()
            .map(|c| if c.is_ascii_digit() { '*' } else { c })
            .collect();
        let n = chars.len();
        match self {
            NameMask::None => chars.into_iter().collect(),
            _ if n <= 1 => chars.into_iter().collect(),
            NameMask::KeepSurname => std::iter::once(chars[0])
                .chain(std::iter::repeat_n('*', n - 1))
                .collect(),
            NameMask::KeepFirstAndLast if n == 2 => format!("{}*", chars[0]),
            NameMask::KeepFirstAndLast => std::iter::once(chars[0])
                .chain(std::iter::repeat_n('*', n - 2))
                .chain(std::iter::once(chars[n - 1]))
                .collect(),
        }
    }
}

/// Everything the office knows about an applicant that a notice might be built from.
/// Most of it must never reach the notice; it is here so that the builder, not each
/// caller, decides what is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeCandidate {
    pub name: String,
    pub id_number: IdNumber,
    pub phone: Option<String>,
    pub bank_account: Option<String>,
    pub address: Option<String>,
    pub health_condition: Option<String>,
    pub disability: Option<String>,
    pub household_size: u32,
    pub program: Program,
    /// Monthly or one-off amount as approved or proposed.
    pub amount: Fen,
}

/// 公示名单条目 — the only fields allowed on a public notice.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PublicNoticeEntry {
    /// Masked per the region's [`NameMask`].
    pub name: String,
    pub household_size: u32,
    /// The program; the board shows its Chinese name (农村最低生活保障).
    pub program: Program,
    pub amount: Fen,
}

/// Why a candidate is left off the notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeExclusion {
    /// 特困未成年人不公示
    MinorInTekun,
}

impl NoticeExclusion {
    pub fn label(self) -> &'static str {
        match self {
            NoticeExclusion::MinorInTekun => "特困人员中的未成年人不予公示",
        }
    }
}

/// 18 — age of majority (民法典 Art. 17); minors in 特困 are not publicised.
const ADULT_AGE: u32 = 18;

impl PublicNoticeEntry {
    /// Builds the notice entry, or says why the person is not publicised. Minority is
    /// judged on `as_of` (the posting date) from the ID number.
    pub fn build(
        c: &NoticeCandidate,
        mask: NameMask,
        as_of: NaiveDate,
    ) -> Result<PublicNoticeEntry, NoticeExclusion> {
        if c.program == Program::Tekun && c.id_number.age_at(as_of) < ADULT_AGE {
            return Err(NoticeExclusion::MinorInTekun);
        }
        Ok(PublicNoticeEntry {
            name: mask.apply(&c.name),
            household_size: c.household_size,
            program: c.program,
            amount: c.amount,
        })
    }
}

/// Builds a whole notice list; excluded candidates are simply left out (the caller
/// may count them via `build` if it needs to report the number).
pub fn public_notice(
    candidates: &[NoticeCandidate],
    mask: NameMask,
    as_of: NaiveDate,
) -> Vec<PublicNoticeEntry> {
    candidates
        .iter()
        .filter_map(|c| PublicNoticeEntry::build(c, mask, as_of).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_ser::to_text;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn name_masks_are_named_in_chinese() {
        assert_eq!(NameMask::None.label(), "全名公示");
        assert_eq!(NameMask::KeepFirstAndLast.label(), "保留首尾字");
        assert_eq!(NameMask::KeepSurname.label(), "只保留姓");
    }

    #[test]
    fn keep_surname_stars_every_other_character() {
        assert_eq!(NameMask::KeepSurname.apply("张三"), "张*");
        assert_eq!(NameMask::KeepSurname.apply("张三丰"), "张**");
        assert_eq!(NameMask::KeepSurname.apply("欧阳娜娜"), "欧***");
        // First and last kept, however long the name.
        assert_eq!(NameMask::KeepFirstAndLast.apply("爱新觉罗娜"), "爱***娜");
        assert_eq!(NameMask::KeepFirstAndLast.apply("阿卜杜热合曼"), "阿****曼");
        assert_eq!(
            NoticeExclusion::MinorInTekun.label(),
            "特困人员中的未成年人不予公示"
        );
    }

    fn id(birth: &str) -> IdNumber {
        let first17 = format!("511802{birth}002");
        let check = IdNumber::check_char(first17.as_bytes()).unwrap() as char;
        IdNumber::parse(&format!("{first17}{check}"), d(2026, 12, 31)).unwrap()
    }

    fn candidate(program: Program, birth: &str) -> NoticeCandidate {
        NoticeCandidate {
            name: "张三丰".into(),
            id_number: id(birth),
            phone: Some("13812345678".into()),
            bank_account: Some("6217003810012345678".into()),
            address: Some("雨城区河北街道青衣江路88号3单元".into()),
            health_condition: Some("尿毒症".into()),
            disability: Some("肢体二级".into()),
            household_size: 3,
            program,
            amount: Fen(156_000),
        }
    }

    #[test]
    fn masks() {
        assert_eq!(NameMask::KeepFirstAndLast.apply("张三丰"), "张*丰");
        assert_eq!(NameMask::KeepFirstAndLast.apply("张三"), "张*");
        assert_eq!(NameMask::KeepFirstAndLast.apply("欧阳娜娜"), "欧**娜");
        assert_eq!(NameMask::KeepSurname.apply("张三丰"), "张**");
        assert_eq!(NameMask::KeepSurname.apply("张"), "张");
        assert_eq!(NameMask::None.apply(" 张三丰 "), "张三丰");
        assert_eq!(NameMask::None.apply("张138"), "张***");
        assert_eq!(NameMask::KeepFirstAndLast.apply(""), "");
    }

    #[test]
    fn whitelist_only() {
        let c = candidate(Program::RuralDibao, "19600101");
        let e = PublicNoticeEntry::build(&c, NameMask::KeepFirstAndLast, d(2026, 3, 1)).unwrap();
        assert_eq!(e.name, "张*丰");
        assert_eq!(e.program.label(), "农村最低生活保障");
        let text = to_text(&e);
        for secret in [
            c.id_number.as_str(),
            &c.id_number.as_str()[6..14],
            "13812345678",
            "6217003810012345678",
            "青衣江路",
            "尿毒症",
            "肢体",
            "张三丰",
        ] {
            assert!(!text.contains(secret), "{secret} leaked into {text}");
        }
        // Exactly the four whitelisted field names.
        assert_eq!(
            text.split(' ')
                .filter(|w| ["name", "household_size", "program", "amount"].contains(w))
                .count(),
            4
        );
        assert!(text.contains("1560"));
    }

    #[test]
    fn minors_in_tekun_not_publicised() {
        let minor = candidate(Program::Tekun, "20100301");
        assert_eq!(
            PublicNoticeEntry::build(&minor, NameMask::None, d(2026, 3, 1)),
            Err(NoticeExclusion::MinorInTekun)
        );
        // Turns 18 on 2028-03-01: publicised from that day.
        assert!(PublicNoticeEntry::build(&minor, NameMask::None, d(2028, 2, 29)).is_err());
        assert!(PublicNoticeEntry::build(&minor, NameMask::None, d(2028, 3, 1)).is_ok());
        // A minor in a 低保 household is listed (by the applicant's name only).
        let dibao_minor = candidate(Program::UrbanDibao, "20100301");
        assert!(PublicNoticeEntry::build(&dibao_minor, NameMask::None, d(2026, 3, 1)).is_ok());
        let list = public_notice(
            &[minor, candidate(Program::Tekun, "19500101")],
            NameMask::KeepSurname,
            d(2026, 3, 1),
        );
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].name, "张**");
    }

    proptest! {
        #[test]
        fn no_digits_of_sensitive_fields_leak(
            phone in "1[3-9][0-9]{9}",
            account in "62[0-9]{14,17}",
            name in "[张王李赵][\\u{4e00}-\\u{9fa5}]{1,3}[0-9]{0,11}",
            mask in prop_oneof![Just(NameMask::None), Just(NameMask::KeepFirstAndLast), Just(NameMask::KeepSurname)],
        ) {
            let mut c = candidate(Program::UrbanDibao, "19700101");
            c.phone = Some(phone.clone());
            c.bank_account = Some(account.clone());
            c.name = name;
            let e = PublicNoticeEntry::build(&c, mask, d(2026, 1, 1)).unwrap();
            let text = to_text(&e);
            prop_assert!(!text.contains(&phone));
            prop_assert!(!text.contains(&account));
            prop_assert!(!text.contains(c.id_number.as_str()));
            prop_assert!(!e.name.chars().any(|ch| ch.is_ascii_digit()));
        }
    }
}
