//! 救助项目目录 — the catalog of assistance programs the township office handles,
//! with their sub-kinds and per-program metadata (which calculator, which case
//! workflow, which default approval level); docs/rules.md §1.
//!
//! Codes (`as_str`) are stable snake_case keys for storage and URLs: never rename one,
//! add a new variant instead.

use std::fmt;
use std::str::FromStr;

/// 救助项目 — an assistance program.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Program {
    /// 城市低保 — urban minimum living guarantee (docs/rules.md §6).
    UrbanDibao,
    /// 农村低保 — rural minimum living guarantee (docs/rules.md §6).
    RuralDibao,
    /// 单人保 — individual inclusion of a member of a 低保边缘 household (docs/rules.md §6).
    SinglePersonDibao,
    /// 特困人员救助供养 — support for persons in extreme hardship (docs/rules.md §7).
    Tekun,
    /// 临时救助 — temporary assistance (docs/rules.md §8).
    TemporaryAssistance,
    /// 医疗救助 — medical assistance (docs/rules.md §8).
    MedicalAssistance,
    /// 教育救助 — education assistance (docs/rules.md §8).
    EducationAssistance,
    /// 受灾人员救助 — relief for disaster victims (docs/rules.md §8), tied to a [`DisasterEvent`].
    DisasterRelief,
    /// 六十年代精简退职老职工救济 — relief for workers laid off in the 1960s (docs/rules.md §8).
    LaidOffWorkerRelief,
    /// 高龄津贴 — old-age allowance (docs/rules.md §9).
    OldAgeAllowance,
    /// 优抚 — special care for veterans and survivors (docs/rules.md §9).
    PreferentialCare,
}

/// 审批层级 — who takes the final decision: the county civil-affairs approver, or the
/// township director where confirmation is delegated (docs/rules.md §3: small temporary aid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalLevel {
    /// 县级民政部门审核确认
    County,
    /// 乡镇(街道)审核确认 (委托下放)
    Township,
}

impl ApprovalLevel {
    pub fn label(self) -> &'static str {
        match self {
            ApprovalLevel::County => "县级民政部门",
            ApprovalLevel::Township => "乡镇(街道)",
        }
    }
}

/// Which calculator in [`crate::calculators`] fixes the amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalculatorKind {
    DibaoTopUp,
    SinglePerson,
    Tekun,
    Temporary,
    Medical,
    Education,
    Disaster,
    LaidOffWorker,
    OldAge,
    PreferentialCare,
}

/// Which variant of the case state machine in [`crate::cases`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Workflow {
    /// Full 低保 procedure (docs/rules.md §3): investigation by two, 7-day notice, confirmation.
    Full,
    /// 特困 (docs/rules.md §7): as `Full`, but minors are never publicised.
    Tekun,
    /// 临时救助 (docs/rules.md §3): publicised; small amounts may be approved by the township.
    Temporary,
    /// 高龄津贴 (docs/rules.md §4): the system proposes people reaching an age band; staff check
    /// and the approver confirms. No investigation, no notice.
    AutoProposed,
    /// Application → check → approval, no notice (优抚, 医疗, 教育, 精简退职).
    Simple,
}

impl Workflow {
    /// Whether the first-review opinion is publicised (公示) in this workflow.
    pub fn has_public_notice(self) -> bool {
        matches!(self, Workflow::Full | Workflow::Tekun | Workflow::Temporary)
    }

    /// Whether a household economic investigation is required before the opinion.
    pub fn requires_investigation(self) -> bool {
        self.has_public_notice()
    }
}

/// How the calculated amount is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmountUnit {
    /// 按月发放
    Monthly,
    /// 一次性
    OneOff,
}

impl AmountUnit {
    pub fn label(self) -> &'static str {
        match self {
            AmountUnit::Monthly => "按月发放",
            AmountUnit::OneOff => "一次性发放",
        }
    }
}

/// Per-program metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProgramInfo {
    pub calculator: CalculatorKind,
    pub workflow: Workflow,
    /// Default only: a region may delegate (parameter `approval_level`).
    pub default_approval: ApprovalLevel,
    pub unit: AmountUnit,
}

/// The error for an unknown program code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的救助项目“{0}”")]
pub struct UnknownProgram(pub String);

impl Program {
    pub const ALL: [Program; 11] = [
        Program::UrbanDibao,
        Program::RuralDibao,
        Program::SinglePersonDibao,
        Program::Tekun,
        Program::TemporaryAssistance,
        Program::MedicalAssistance,
        Program::EducationAssistance,
        Program::DisasterRelief,
        Program::LaidOffWorkerRelief,
        Program::OldAgeAllowance,
        Program::PreferentialCare,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Program::UrbanDibao => "urban_dibao",
            Program::RuralDibao => "rural_dibao",
            Program::SinglePersonDibao => "single_person_dibao",
            Program::Tekun => "tekun",
            Program::TemporaryAssistance => "temporary_assistance",
            Program::MedicalAssistance => "medical_assistance",
            Program::EducationAssistance => "education_assistance",
            Program::DisasterRelief => "disaster_relief",
            Program::LaidOffWorkerRelief => "laid_off_worker_relief",
            Program::OldAgeAllowance => "old_age_allowance",
            Program::PreferentialCare => "preferential_care",
        }
    }

    /// The Chinese name shown to users and on notices.
    pub fn label(self) -> &'static str {
        match self {
            Program::UrbanDibao => "城市最低生活保障",
            Program::RuralDibao => "农村最低生活保障",
            Program::SinglePersonDibao => "单人保",
            Program::Tekun => "特困人员救助供养",
            Program::TemporaryAssistance => "临时救助",
            Program::MedicalAssistance => "医疗救助",
            Program::EducationAssistance => "教育救助",
            Program::DisasterRelief => "受灾人员救助",
            Program::LaidOffWorkerRelief => "精简退职老职工救济",
            Program::OldAgeAllowance => "高龄津贴",
            Program::PreferentialCare => "优抚",
        }
    }

    /// True for the three 低保 programs (urban, rural, 单人保).
    pub fn is_dibao(self) -> bool {
        matches!(
            self,
            Program::UrbanDibao | Program::RuralDibao | Program::SinglePersonDibao
        )
    }

    pub fn info(self) -> ProgramInfo {
        use AmountUnit::*;
        use ApprovalLevel::*;
        use CalculatorKind as C;
        let (calculator, workflow, default_approval, unit) = match self {
            Program::UrbanDibao | Program::RuralDibao => {
                (C::DibaoTopUp, Workflow::Full, County, Monthly)
            }
            Program::SinglePersonDibao => (C::SinglePerson, Workflow::Full, County, Monthly),
            Program::Tekun => (C::Tekun, Workflow::Tekun, County, Monthly),
            Program::TemporaryAssistance => (C::Temporary, Workflow::Temporary, County, OneOff),
            Program::MedicalAssistance => (C::Medical, Workflow::Simple, County, OneOff),
            Program::EducationAssistance => (C::Education, Workflow::Simple, County, OneOff),
            // Housing reconstruction needs democratic review and a village notice (docs/rules.md §8),
            // which is the temporary-aid shape: publicised, county approval.
            Program::DisasterRelief => (C::Disaster, Workflow::Temporary, County, OneOff),
            Program::LaidOffWorkerRelief => (C::LaidOffWorker, Workflow::Simple, County, Monthly),
            Program::OldAgeAllowance => (C::OldAge, Workflow::AutoProposed, County, Monthly),
            Program::PreferentialCare => (C::PreferentialCare, Workflow::Simple, County, Monthly),
        };
        ProgramInfo {
            calculator,
            workflow,
            default_approval,
            unit,
        }
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Program {
    type Err = UnknownProgram;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Program::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
            .ok_or_else(|| UnknownProgram(s.to_string()))
    }
}

/// Declares a small code/label enum with `ALL`, `as_str`, `label` and `FromStr`.
macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $code:literal, $label:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v,)+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v,)+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $code,)+ }
            }
            pub fn label(self) -> &'static str {
                match self { $($name::$v => $label,)+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::programs::UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s.trim())
                    .ok_or_else(|| $crate::programs::UnknownCode { kind: stringify!($name), code: s.to_string() })
            }
        }
    };
}
pub(crate) use coded_enum;

/// The error for an unknown sub-kind code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的代码“{code}”({kind})")]
pub struct UnknownCode {
    pub kind: &'static str,
    pub code: String,
}

coded_enum! {
    /// 城乡 — urban or rural (standards may differ, docs/rules.md §10).
    UrbanRural {
        Urban => "urban", "城市";
        Rural => "rural", "农村";
    }
}

coded_enum! {
    /// 供养方式 — 集中供养 (in an institution) or 分散供养 (at home), docs/rules.md §7.
    SupportMode {
        Centralized => "centralized", "集中供养";
        Dispersed => "dispersed", "分散供养";
    }
}

coded_enum! {
    /// 生活自理能力 — self-care level from the 6-item assessment (docs/rules.md §7).
    CareLevel {
        /// 具备生活自理能力 — all six items met.
        SelfReliant => "self_reliant", "具备生活自理能力";
        /// 部分丧失生活自理能力 — 1 to 3 items not met.
        Partial => "partial", "部分丧失生活自理能力";
        /// 完全丧失生活自理能力 — 4 or more items not met.
        Full => "full", "完全丧失生活自理能力";
    }
}

coded_enum! {
    /// 临时救助类型 (docs/rules.md §8).
    TemporaryKind {
        /// 急难型 — sudden hardship (fire, accident, serious illness).
        Emergency => "emergency", "急难型";
        /// 支出型 — unaffordable essential spending.
        Spending => "spending", "支出型";
    }
}

coded_enum! {
    /// 学段 — school stage for 教育救助 (docs/rules.md §8).
    SchoolStage {
        Preschool => "preschool", "学前教育";
        Primary => "primary", "小学";
        JuniorSecondary => "junior_secondary", "初中";
        SeniorSecondary => "senior_secondary", "普通高中";
        Vocational => "vocational", "中等职业教育";
        Undergraduate => "undergraduate", "高等教育(本专科)";
    }
}

coded_enum! {
    /// 救助阶段 — disaster relief stage (《自然灾害救助条例》; docs/rules.md §8).
    ReliefStage {
        /// 应急救助 (Art. 14)
        Emergency => "emergency", "应急救助";
        /// 过渡期生活救助
        Transitional => "transitional", "过渡期生活救助";
        /// 倒损住房恢复重建补助 (per household)
        HousingReconstruction => "housing_reconstruction", "倒损住房恢复重建";
        /// 冬春救助
        WinterSpring => "winter_spring", "冬春救助";
        /// 遇难人员家属抚慰 (per household)
        Bereavement => "bereavement", "遇难人员家属抚慰";
    }
}

impl ReliefStage {
    /// Housing and comfort payments go to the household; the others are per person.
    pub fn per_household(self) -> bool {
        matches!(
            self,
            ReliefStage::HousingReconstruction | ReliefStage::Bereavement
        )
    }
}

coded_enum! {
    /// 精简退职救济方式 (docs/rules.md §3): two regimes exist side by side.
    LaidOffRegime {
        /// 按本人原标准工资40%救济
        FortyPercent => "forty_percent", "按原标准工资40%救济";
        /// 定期定量救济
        RegularFixed => "regular_fixed", "定期定量救济";
    }
}

coded_enum! {
    /// 优抚对象类别 (docs/rules.md §9).
    CareCategory {
        /// 残疾军人(含伤残人民警察、民兵民工)
        DisabledServiceman => "disabled_serviceman", "残疾军人";
        /// 烈士遗属
        MartyrFamily => "martyr_family", "烈士遗属";
        /// 因公牺牲军人遗属
        DiedOnDutyFamily => "died_on_duty_family", "因公牺牲军人遗属";
        /// 病故军人遗属
        DiedOfIllnessFamily => "died_of_illness_family", "病故军人遗属";
        /// 在乡复员军人
        DemobilisedRural => "demobilised_rural", "在乡复员军人";
        /// 带病回乡退伍军人
        IllReturned => "ill_returned", "带病回乡退伍军人";
        /// 参战参试人员
        WarOrTestParticipant => "war_or_test_participant", "参战参试人员";
        /// 烈士老年子女
        MartyrElderlyChild => "martyr_elderly_child", "烈士老年子女";
    }
}

coded_enum! {
    /// 致残性质 — cause of a serviceman's disability (docs/rules.md §9).
    DisabilityCause {
        War => "war", "因战";
        Duty => "duty", "因公";
        /// Only grades 1–6 exist for 因病.
        Illness => "illness", "因病";
    }
}

/// 灾害事件 — a disaster that 受灾人员救助 cases refer to (docs/rules.md §8).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DisasterEvent {
    /// Stable identifier assigned by storage.
    pub id: String,
    /// e.g. "2025年7月荥经县暴雨洪涝".
    pub name: String,
    pub occurred_on: chrono::NaiveDate,
    /// The affected division (county or township).
    pub region: crate::DivisionCode,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for p in Program::ALL {
            assert_eq!(p.as_str().parse::<Program>().unwrap(), p);
            assert!(seen.insert(p.as_str()));
            assert!(!p.label().is_empty());
            assert!(p
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
        assert!("dibao".parse::<Program>().is_err());
        for s in SchoolStage::ALL {
            assert_eq!(s.as_str().parse::<SchoolStage>().unwrap(), *s);
        }
        for c in CareCategory::ALL {
            assert_eq!(c.as_str().parse::<CareCategory>().unwrap(), *c);
        }
        let err = "x".parse::<CareLevel>().unwrap_err();
        assert_eq!(err.to_string(), "未知的代码“x”(CareLevel)");
    }

    #[test]
    fn metadata() {
        assert_eq!(Program::Tekun.info().workflow, Workflow::Tekun);
        assert_eq!(
            Program::TemporaryAssistance.info().workflow,
            Workflow::Temporary
        );
        assert_eq!(
            Program::OldAgeAllowance.info().workflow,
            Workflow::AutoProposed
        );
        assert_eq!(Program::PreferentialCare.info().workflow, Workflow::Simple);
        assert!(Program::UrbanDibao.info().workflow.has_public_notice());
        assert!(!Workflow::Simple.has_public_notice());
        assert_eq!(Program::TemporaryAssistance.info().unit, AmountUnit::OneOff);
        assert!(Program::SinglePersonDibao.is_dibao());
        assert!(!Program::Tekun.is_dibao());
        assert_eq!(ApprovalLevel::County.label(), "县级民政部门");
        assert_eq!(ApprovalLevel::Township.label(), "乡镇(街道)");
        assert_eq!(AmountUnit::Monthly.label(), "按月发放");
        assert_eq!(AmountUnit::OneOff.label(), "一次性发放");
        assert_eq!(Program::RuralDibao.to_string(), "rural_dibao");
    }

    #[test]
    fn serde_uses_codes() {
        // serde rename must agree with as_str, since storage may use either.
        for p in Program::ALL {
            let json = format!("\"{}\"", p.as_str());
            let back: Program =
                serde::Deserialize::deserialize(serde::de::value::StrDeserializer::<
                    serde::de::value::Error,
                >::new(p.as_str()))
                .unwrap();
            assert_eq!(back, p, "{json}");
        }
    }
}
