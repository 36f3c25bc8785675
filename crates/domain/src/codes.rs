//! Coded words (代码): every status and kind the system stores is an enum with one storage
//! code (`as_str`, also its JSON form) and one Chinese label (`label`, also its `Display`),
//! declared with [`coded_enum!`] so the two can never drift apart.

/// Declares an enum whose variants each carry a storage code and a Chinese label:
///
/// ```
/// minzheng_domain::coded_enum! {
///     /// 批次状态 — a payroll batch's status.
///     pub enum BatchStatus {
///         Draft = ("draft", "草稿（待审核）"),
///         SignedOff = ("signed_off", "已审核签发"),
///     }
/// }
/// assert_eq!(BatchStatus::parse("draft"), Some(BatchStatus::Draft));
/// assert_eq!(BatchStatus::SignedOff.label(), "已审核签发");
/// assert_eq!(BatchStatus::SignedOff.to_string(), "已审核签发");
/// ```
///
/// The enum serializes as its code and deserializes from it (an unknown code is an error
/// that lists the codes); `ALL` lists the variants in declaration order.
#[macro_export]
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = ($code:literal, $label:literal)
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code stored in the database and used in JSON and URLs.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// The Chinese label shown to users.
            pub fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $label),+
                }
            }

            /// The variant with this storage code.
            pub fn parse(code: &str) -> Option<$name> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The variant whose code or label this is (form input may carry either).
            pub fn parse_code_or_label(text: &str) -> Option<$name> {
                let t = text.trim();
                Self::parse(t).or_else(|| Self::ALL.iter().copied().find(|v| v.label() == t))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.label())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::codes::UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s).ok_or_else(|| $crate::codes::UnknownCode {
                    code: s.to_string(),
                    allowed: Self::ALL.iter().map(|v| v.as_str()).collect(),
                })
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err(::serde::de::Error::custom)
            }
        }

        impl $crate::codes::Coded for $name {
            const NAME: &'static str = stringify!($name);
            fn all() -> &'static [Self] {
                Self::ALL
            }
            fn code(self) -> &'static str {
                self.as_str()
            }
            fn label(self) -> &'static str {
                $name::label(self)
            }
        }
    };
}

/// What every [`coded_enum!`] enum offers, for code that handles them alike (the data
/// dictionary of the API, storage helpers).
pub trait Coded: Copy + 'static {
    /// The enum's name, e.g. `BatchStatus`.
    const NAME: &'static str;
    fn all() -> &'static [Self];
    fn code(self) -> &'static str;
    fn label(self) -> &'static str;
}

/// A stored or submitted code that names no variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("代码“{code}”无法识别，可选：{}", allowed.join("、"))]
pub struct UnknownCode {
    pub code: String,
    pub allowed: Vec<&'static str>,
}

/// One code and its Chinese label, for the data dictionary.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CodeEntry {
    pub code: &'static str,
    pub label: &'static str,
}

/// Every code of one word, in order (`GET /api/v1/codes`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CodeTable {
    /// The word's name, e.g. `BatchStatus`.
    pub name: &'static str,
    pub codes: Vec<CodeEntry>,
}

macro_rules! tables {
    ($($ty:path),* $(,)?) => {
        vec![$(CodeTable {
            name: {
                let full = stringify!($ty);
                full.rsplit("::").next().unwrap_or(full).trim()
            },
            codes: <$ty>::ALL
                .iter()
                .map(|v| CodeEntry { code: v.as_str(), label: v.label() })
                .collect(),
        }),*]
    };
}

/// The data dictionary: every coded word that records, filters and forms carry, with the
/// Chinese label of each code. API clients show labels from here; records carry codes.
pub fn dictionary() -> Vec<CodeTable> {
    use crate::{cases, deadlines, limits, payroll, programs, registry, standards};
    tables![
        crate::Role,
        crate::DivisionLevel,
        programs::Program,
        cases::CaseState,
        cases::ActionKind,
        cases::CaseKind,
        cases::CaseOrigin,
        cases::EventKind,
        cases::EnrolmentStatus,
        cases::PaymentSchedule,
        deadlines::Step,
        limits::ReviewClass,
        registry::RegistrationType,
        registry::Relation,
        registry::Health,
        registry::WorkCapacity,
        registry::Employment,
        registry::DisabilityType,
        registry::ExclusionReason,
        registry::PersonStatus,
        registry::HouseholdStatus,
        registry::AssetKind,
        registry::IncomeKind,
        registry::IncomePeriod,
        crate::jobs::JobStatus,
        crate::jobs::JobKind,
        payroll::BatchStatus,
        payroll::LineKind,
        payroll::LineStatus,
        payroll::ExceptionStatus,
        payroll::BackPayStatus,
        payroll::DiffChange,
        payroll::BankFormat,
        payroll::TextEncoding,
        payroll::MoneyUnit,
        payroll::BankColumn,
        standards::OfficeKind,
        standards::RoomKind,
        standards::EquipmentKind,
        standards::RuleStatus,
        standards::RuleLevel,
        standards::ChangeKind,
        standards::ChangeStatus,
        standards::PlanStatus,
        standards::PlanStanding,
        standards::InspectionStatus,
        standards::InspectionStanding,
        standards::ItemKind,
        standards::SubsidyStatus,
        crate::attachments::AttachedTo,
        crate::funerals::CertificateKind,
        crate::funerals::Disposal,
        crate::funerals::DeathSource,
        crate::funerals::RecoveryStatus,
        crate::checks::CheckKind,
        crate::checks::FindingState,
        crate::relatives::DeclarantPost,
        crate::relatives::Kinship,
        crate::lists::ListKind,
        crate::repricing::RepricingStatus,
        crate::repricing::RepricingReason,
    ]
}

#[cfg(test)]
mod tests {
    crate::coded_enum! {
        /// A test enum.
        pub enum Colour {
            Red = ("red", "红"),
            /// Documented variant.
            DarkBlue = ("dark_blue", "深蓝"),
        }
    }

    #[test]
    fn codes_labels_and_json_agree() {
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.as_str()), Some(*c));
            assert_eq!(
                serde_json::to_string(c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
            let back: Colour = serde_json::from_str(&format!("\"{}\"", c.as_str())).unwrap();
            assert_eq!(back, *c);
        }
        assert_eq!(Colour::DarkBlue.to_string(), "深蓝");
        assert_eq!(
            Colour::parse_code_or_label(" 深蓝 "),
            Some(Colour::DarkBlue)
        );
        let e = "green".parse::<Colour>().unwrap_err();
        assert_eq!(e.to_string(), "代码“green”无法识别，可选：red、dark_blue");
        assert!(serde_json::from_str::<Colour>("\"green\"").is_err());
    }

    #[test]
    fn the_dictionary_names_each_word_once_with_its_labels() {
        let d = super::dictionary();
        let names: std::collections::HashSet<_> = d.iter().map(|t| t.name).collect();
        assert_eq!(names.len(), d.len(), "a word listed twice");
        let batch = d.iter().find(|t| t.name == "BatchStatus").unwrap();
        assert_eq!(batch.codes[0].code, "draft");
        for t in &d {
            assert!(!t.codes.is_empty(), "{}", t.name);
            let codes: std::collections::HashSet<_> = t.codes.iter().map(|c| c.code).collect();
            assert_eq!(codes.len(), t.codes.len(), "{} repeats a code", t.name);
            assert!(t.codes.iter().all(|c| !c.label.is_empty()), "{}", t.name);
        }
        // Words people read are Chinese (file formats keep their own names: CSV, UTF-8).
        let relation = d.iter().find(|t| t.name == "Relation").unwrap();
        assert!(relation.codes.iter().any(|c| c.label == "户主"));
    }
}
