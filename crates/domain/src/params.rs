//! 参数 — dated, regional parameters for the assistance rules.
//!
//! Almost every amount, ratio and period is set by the province, city or county and
//! changes over time (DOMAIN.md preamble, §13), so rules never contain them as
//! literals: they read a [`ParamSet`]. Resolution picks, among the entries in force on
//! the date, the most specific region, then the latest `effective_from`. If nothing
//! is in force the caller gets an error naming the parameter and date: a benefit must
//! not be computed from a stale or foreign value silently (NewCosmos fails the same
//! way, DOMAIN §0).

use std::cmp::Ordering;
use std::fmt;

use chrono::NaiveDate;

use crate::calculators::IncomeKind;
use crate::notices::NameMask;
use crate::programs::{
    ApprovalLevel, CareCategory, CareLevel, DisabilityCause, Program, ReliefStage, SchoolStage,
    TemporaryKind, UrbanRural,
};
use crate::{DivisionCode, DivisionLevel, Fen};

/// 比例 — an exact ratio `num / den` (den > 0). Constructors cover basis points,
/// per-mille, percent and plain fractions such as 1/6 of the minimum wage, which no
/// decimal unit represents exactly.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "RatioRepr")]
pub struct Ratio {
    num: i64,
    den: i64,
}

/// Unchecked wire form; deserialization goes through [`Ratio::new`].
#[derive(serde::Deserialize)]
struct RatioRepr {
    num: i64,
    den: i64,
}

impl TryFrom<RatioRepr> for Ratio {
    type Error = String;
    fn try_from(r: RatioRepr) -> Result<Self, Self::Error> {
        Ratio::new(r.num, r.den).ok_or_else(|| format!("比例{}/{}无效", r.num, r.den))
    }
}

/// Bounds that keep exact arithmetic far from overflow: no rule needs a finer
/// denominator than 1/1,000,000 or a ratio above 100× (the largest is ~10× the
/// standard for temporary aid).
const MAX_DEN: i64 = 1_000_000;
const MAX_MULTIPLE: i64 = 100;

impl Ratio {
    pub const ZERO: Ratio = Ratio { num: 0, den: 1 };
    pub const ONE: Ratio = Ratio { num: 1, den: 1 };

    /// `None` if `den` is not in 1..=1,000,000, `num` is negative (no rule uses a
    /// negative ratio) or the ratio exceeds 100.
    pub fn new(num: i64, den: i64) -> Option<Ratio> {
        (den > 0 && den <= MAX_DEN && num >= 0 && num <= MAX_MULTIPLE * den)
            .then_some(Ratio { num, den })
    }
    /// Basis points (万分之一): `bp(7000)` = 70%.
    pub const fn bp(n: u32) -> Ratio {
        Ratio {
            num: n as i64,
            den: 10_000,
        }
    }
    /// Per-mille (千分之一).
    pub const fn permille(n: u32) -> Ratio {
        Ratio {
            num: n as i64,
            den: 1_000,
        }
    }
    pub const fn percent(n: u32) -> Ratio {
        Ratio {
            num: n as i64,
            den: 100,
        }
    }
    /// `fraction(1, 6)`; a zero denominator gives zero rather than a panic.
    pub const fn fraction(num: u32, den: u32) -> Ratio {
        if den == 0 {
            Ratio::ZERO
        } else {
            Ratio {
                num: num as i64,
                den: den as i64,
            }
        }
    }
    pub fn num(self) -> i64 {
        self.num
    }
    pub fn den(self) -> i64 {
        self.den
    }

    /// `amount × ratio`, exact.
    pub fn of(self, amount: Fen) -> Exact {
        Exact::new(
            i128::from(amount.0) * i128::from(self.num),
            i128::from(self.den),
        )
    }
}

impl PartialEq for Ratio {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ratio {}
impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ratio {
    fn cmp(&self, other: &Self) -> Ordering {
        (i128::from(self.num) * i128::from(other.den))
            .cmp(&(i128::from(other.num) * i128::from(self.den)))
    }
}

/// Percent with up to two decimals when exact (`70%`, `12.5%`), else the fraction (`1/6`).
impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scaled = i128::from(self.num) * 10_000;
        let den = i128::from(self.den);
        if scaled % den == 0 {
            let bp = scaled / den;
            if bp % 100 == 0 {
                write!(f, "{}%", bp / 100)
            } else {
                let s = format!("{}.{:02}", bp / 100, bp % 100);
                write!(f, "{}%", s.trim_end_matches('0'))
            }
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

/// An exact amount in fen as a fraction, so that a rule can multiply and divide freely
/// and round once at the end (DOMAIN preamble: "round once").
#[derive(Debug, Clone, Copy)]
pub struct Exact {
    num: i128,
    den: i128,
}

impl Exact {
    /// `den` must be positive; a non-positive denominator is treated as 1 (never
    /// produced by this crate, which only divides by validated positive counts).
    pub fn new(num: i128, den: i128) -> Exact {
        if den <= 0 {
            Exact { num, den: 1 }
        } else {
            Exact { num, den }
        }
    }
    pub fn from_fen(f: Fen) -> Exact {
        Exact::new(i128::from(f.0), 1)
    }
    pub fn zero() -> Exact {
        Exact::new(0, 1)
    }
    pub fn plus(self, o: Exact) -> Exact {
        Exact::new(self.num * o.den + o.num * self.den, self.den * o.den).reduced()
    }
    pub fn minus(self, o: Exact) -> Exact {
        Exact::new(self.num * o.den - o.num * self.den, self.den * o.den).reduced()
    }
    pub fn mul_int(self, k: i64) -> Exact {
        Exact::new(self.num * i128::from(k), self.den).reduced()
    }
    pub fn div_int(self, k: i64) -> Exact {
        if k > 0 {
            Exact::new(self.num, self.den * i128::from(k)).reduced()
        } else {
            self
        }
    }
    pub fn mul_ratio(self, r: Ratio) -> Exact {
        Exact::new(self.num * i128::from(r.num), self.den * i128::from(r.den)).reduced()
    }
    pub fn max(self, o: Exact) -> Exact {
        if self.cmp_exact(o) == Ordering::Less {
            o
        } else {
            self
        }
    }
    pub fn min(self, o: Exact) -> Exact {
        if self.cmp_exact(o) == Ordering::Greater {
            o
        } else {
            self
        }
    }
    pub fn cmp_exact(self, o: Exact) -> Ordering {
        (self.num * o.den).cmp(&(o.num * self.den))
    }
    pub fn is_negative(self) -> bool {
        self.num < 0
    }
    fn reduced(self) -> Exact {
        let g = gcd(self.num.unsigned_abs(), self.den.unsigned_abs());
        if g > 1 {
            let g = g as i128;
            Exact::new(self.num / g, self.den / g)
        } else {
            self
        }
    }

    /// Shown to users with four decimals of yuan when not whole fen (`1234.5678元`).
    pub fn display_yuan(self) -> String {
        // Rounded half-up to 1/100 fen for display only.
        let hundredths = div_round(self.num * 100, self.den, RoundDir::HalfUp);
        let neg = hundredths < 0;
        let a = hundredths.unsigned_abs();
        let (fen, frac) = (a / 100, a % 100);
        let sign = if neg { "-" } else { "" };
        if frac == 0 {
            format!("{sign}{}.{:02}元", fen / 100, fen % 100)
        } else {
            format!("{sign}{}.{:02}{:02}元", fen / 100, fen % 100, frac)
        }
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[derive(Clone, Copy)]
enum RoundDir {
    Up,
    Down,
    HalfUp,
}

/// `n / d` rounded; `d > 0`. Directions are on the number line (Up = ceiling), and
/// half-up rounds halves away from zero, as on a calculator.
fn div_round(n: i128, d: i128, dir: RoundDir) -> i128 {
    let q = n.div_euclid(d);
    let r = n.rem_euclid(d);
    match dir {
        RoundDir::Down => q,
        RoundDir::Up => q + i128::from(r != 0),
        RoundDir::HalfUp => {
            if n >= 0 {
                q + i128::from(2 * r >= d)
            } else {
                q + i128::from(2 * r > d)
            }
        }
    }
}

/// 取整方式 — how a rule's final amount is rounded (local, DOMAIN preamble).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// 向上取整到元 (NewCosmos rounds the 低保 top-up up to whole yuan).
    UpToYuan,
    /// 向下取整到元
    DownToYuan,
    /// 四舍五入到元
    HalfUpToYuan,
    /// 四舍五入到分
    ToFen,
}

impl Rounding {
    pub fn label(self) -> &'static str {
        match self {
            Rounding::UpToYuan => "向上取整到元",
            Rounding::DownToYuan => "向下取整到元",
            Rounding::HalfUpToYuan => "四舍五入到元",
            Rounding::ToFen => "四舍五入到分",
        }
    }

    /// Rounds an exact amount; `None` on overflow of `i64` fen.
    pub fn apply(self, x: Exact) -> Option<Fen> {
        let fen = match self {
            Rounding::ToFen => div_round(x.num, x.den, RoundDir::HalfUp),
            Rounding::UpToYuan => div_round(x.num, x.den * 100, RoundDir::Up) * 100,
            Rounding::DownToYuan => div_round(x.num, x.den * 100, RoundDir::Down) * 100,
            Rounding::HalfUpToYuan => div_round(x.num, x.den * 100, RoundDir::HalfUp) * 100,
        };
        i64::try_from(fen).ok().map(Fen)
    }
}

/// 低保金计算方式 (§2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopUpMode {
    /// 补差(按人均): `(标准 − 人均收入) × 人数`, with the per-capita income as recorded
    /// (already rounded), as on many local forms.
    PerCapitaGap,
    /// 补差(按户): `标准 × 人数 − 家庭月收入`, exact, rounded once — NewCosmos's way,
    /// which avoids the rounding error of going through the per-capita figure.
    HouseholdGap,
    /// 分档 — by tiers (民发〔2021〕57号 Art. 23), see [`DibaoTier`].
    Tiers,
}

impl TopUpMode {
    pub fn label(self) -> &'static str {
        match self {
            TopUpMode::PerCapitaGap => "按人均补差",
            TopUpMode::HouseholdGap => "按户补差",
            TopUpMode::Tiers => "分档发放",
        }
    }
}

/// 分档 — a tier: households whose per-capita income is below `income_below × 标准`
/// receive `per_person × 标准` for each counted member. Tiers are tried in order of
/// `income_below`; the first that matches applies.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DibaoTier {
    /// Chinese name shown in the explanation, e.g. "一档".
    pub name: String,
    pub income_below: Ratio,
    pub per_person: Ratio,
}

/// 年龄段 — an old-age allowance band, ages inclusive (`max_age: None` = no upper limit).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AgeBand {
    pub min_age: u32,
    pub max_age: Option<u32>,
    pub monthly: Fen,
}

impl AgeBand {
    pub fn contains(&self, age: u32) -> bool {
        age >= self.min_age && self.max_age.is_none_or(|m| age <= m)
    }
    pub fn label(&self) -> String {
        match self.max_age {
            Some(m) => format!("{}—{}周岁", self.min_age, m),
            None => format!("{}周岁以上", self.min_age),
        }
    }
}

/// When a benefit tied to reaching an age starts (§7: the month after, or the month
/// of, reaching the age — local).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeStartRule {
    /// 达到年龄的当月起
    SameMonth,
    /// 达到年龄的次月起
    NextMonth,
}

/// 优抚标准表 — one row: annual amount for a category, optional grade and cause.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CareRow {
    pub category: CareCategory,
    pub grade: Option<u8>,
    pub cause: Option<DisabilityCause>,
    pub annual: Fen,
}

/// 参数名 — what a parameter is. Some carry a sub-kind (e.g. the care ratio per
/// self-care level). `code()` gives the stable storage key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamName {
    /// 低保标准 (元/人·月)
    Standard,
    TopUpMode,
    /// 低保金取整方式
    Rounding,
    /// 人均收入取整方式
    PerCapitaRounding,
    /// 最低发放额(占标准比例/人)
    MinPaymentRatio,
    /// 低保边缘(标准倍数)
    EdgeBandRatio,
    /// 单人保(占标准比例)
    SinglePersonShare,
    /// 分类施保加发 — `Amount` (flat per person) or `Ratio` (of the standard).
    ClassifiedSupplement(SupplementCategory),
    Tiers,
    /// 不计入收入的项目
    ExemptIncomeKinds,
    /// 特困基本生活标准(低保标准倍数)
    TekunBasicRatio,
    /// 最低工资标准(元/月)
    MinimumWage,
    /// 照料护理标准(最低工资比例)
    CareRatio(CareLevel),
    /// 集中供养护理加成
    InstitutionalCareUplift,
    /// 临时救助上限(月低保标准倍数)
    TemporaryCapRatio(TemporaryKind),
    /// 乡镇审批额度(不超过此额由乡镇审批)
    TownshipApprovalThreshold,
    /// 同一事由每年救助次数
    PerCausePerYear,
    MedicalRatio,
    MedicalAnnualCap,
    MedicalDeductible,
    EducationGrant(SchoolStage),
    DisasterGrant(ReliefStage),
    LaidOffRatio,
    LaidOffFixedAmount,
    AgeBands,
    AgeStartRule,
    CareTable,
    /// 公示天数(自然日)
    NoticeDays,
    InvestigationWorkingDays,
    ReinvestigationWorkingDays,
    ConfirmationWorkingDays,
    RefusalNoticeWorkingDays,
    ProcedureWorkingDays,
    ProcedureExtendedWorkingDays,
    /// 临近到期提醒(工作日)
    DueSoonWorkingDays,
    /// 发放起始月(审批后第N个月)
    PaymentStartOffsetMonths,
    ReviewMonthsStable,
    ReviewMonthsIrregular,
    GracePeriodMonths,
    GraceWarningDays,
    ApprovalLevel,
    NameMask,
}

crate::programs::coded_enum! {
    /// 分类施保类别 (§2.5): 就高不重复 — a person gets only their highest supplement.
    SupplementCategory {
        Aged60 => "aged60", "60周岁以上老年人";
        Aged70 => "aged70", "70周岁以上老年人";
        Minor => "minor", "未成年人";
        SevereDisability => "severe_disability", "重度残疾人";
        SeriousIllness => "serious_illness", "重病患者";
    }
}

/// The shape of value a parameter must hold (checked on insert, so a storage row of
/// the wrong type is refused when loaded, not when a benefit is computed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Amount,
    Ratio,
    AmountOrRatio,
    Days,
    WorkingDays,
    Months,
    Count,
    Rounding,
    TopUpMode,
    Tiers,
    IncomeKinds,
    AgeBands,
    AgeStartRule,
    CareTable,
    ApprovalLevel,
    NameMask,
}

impl ValueKind {
    pub fn label(self) -> &'static str {
        match self {
            ValueKind::Amount => "金额",
            ValueKind::Ratio => "比例",
            ValueKind::AmountOrRatio => "金额或比例",
            ValueKind::Days => "天数",
            ValueKind::WorkingDays => "工作日数",
            ValueKind::Months => "月数",
            ValueKind::Count => "次数",
            ValueKind::Rounding => "取整方式",
            ValueKind::TopUpMode => "计算方式",
            ValueKind::Tiers => "分档表",
            ValueKind::IncomeKinds => "收入项目列表",
            ValueKind::AgeBands => "年龄段表",
            ValueKind::AgeStartRule => "起始月规则",
            ValueKind::CareTable => "优抚标准表",
            ValueKind::ApprovalLevel => "审批层级",
            ValueKind::NameMask => "姓名遮蔽方式",
        }
    }
}

impl ParamName {
    pub fn label(self) -> String {
        let s = match self {
            ParamName::Standard => "低保标准",
            ParamName::TopUpMode => "低保金计算方式",
            ParamName::Rounding => "取整方式",
            ParamName::PerCapitaRounding => "人均收入取整方式",
            ParamName::MinPaymentRatio => "最低发放比例",
            ParamName::EdgeBandRatio => "低保边缘收入倍数",
            ParamName::SinglePersonShare => "单人保发放比例",
            ParamName::ClassifiedSupplement(c) => return format!("分类施保加发({})", c.label()),
            ParamName::Tiers => "分档标准",
            ParamName::ExemptIncomeKinds => "不计入家庭收入的项目",
            ParamName::TekunBasicRatio => "特困基本生活标准(低保标准倍数)",
            ParamName::MinimumWage => "最低工资标准",
            ParamName::CareRatio(l) => return format!("照料护理标准比例({})", l.label()),
            ParamName::InstitutionalCareUplift => "集中供养护理标准上浮比例",
            ParamName::TemporaryCapRatio(k) => return format!("临时救助上限倍数({})", k.label()),
            ParamName::TownshipApprovalThreshold => "乡镇审批额度",
            ParamName::PerCausePerYear => "同一事由年度救助次数",
            ParamName::MedicalRatio => "医疗救助比例",
            ParamName::MedicalAnnualCap => "医疗救助年度限额",
            ParamName::MedicalDeductible => "医疗救助起付线",
            ParamName::EducationGrant(s) => return format!("教育救助标准({})", s.label()),
            ParamName::DisasterGrant(s) => return format!("受灾救助标准({})", s.label()),
            ParamName::LaidOffRatio => "精简退职救济比例",
            ParamName::LaidOffFixedAmount => "精简退职定期救济金额",
            ParamName::AgeBands => "高龄津贴年龄段标准",
            ParamName::AgeStartRule => "高龄津贴起始月规则",
            ParamName::CareTable => "优抚标准表",
            ParamName::NoticeDays => "公示天数",
            ParamName::InvestigationWorkingDays => "调查时限(工作日)",
            ParamName::ReinvestigationWorkingDays => "复查时限(工作日)",
            ParamName::ConfirmationWorkingDays => "审核确认时限(工作日)",
            ParamName::RefusalNoticeWorkingDays => "不予确认告知时限(工作日)",
            ParamName::ProcedureWorkingDays => "办理总时限(工作日)",
            ParamName::ProcedureExtendedWorkingDays => "特殊情况办理总时限(工作日)",
            ParamName::DueSoonWorkingDays => "临近到期提醒(工作日)",
            ParamName::PaymentStartOffsetMonths => "发放起始月(审批后第N个月)",
            ParamName::ReviewMonthsStable => "定期核查间隔(收入稳定,月)",
            ParamName::ReviewMonthsIrregular => "定期核查间隔(收入不稳定,月)",
            ParamName::GracePeriodMonths => "渐退期(月)",
            ParamName::GraceWarningDays => "渐退期到期提醒(天)",
            ParamName::ApprovalLevel => "审批层级",
            ParamName::NameMask => "公示姓名遮蔽方式",
        };
        s.to_string()
    }

    /// Stable storage key, e.g. `standard`, `care_ratio.partial`.
    pub fn code(self) -> String {
        let (base, sub) = match self {
            ParamName::ClassifiedSupplement(c) => ("classified_supplement", Some(c.as_str())),
            ParamName::CareRatio(l) => ("care_ratio", Some(l.as_str())),
            ParamName::TemporaryCapRatio(k) => ("temporary_cap_ratio", Some(k.as_str())),
            ParamName::EducationGrant(s) => ("education_grant", Some(s.as_str())),
            ParamName::DisasterGrant(s) => ("disaster_grant", Some(s.as_str())),
            other => (other.simple_code(), None),
        };
        match sub {
            Some(s) => format!("{base}.{s}"),
            None => base.to_string(),
        }
    }

    fn simple_code(self) -> &'static str {
        match self {
            ParamName::Standard => "standard",
            ParamName::TopUpMode => "top_up_mode",
            ParamName::Rounding => "rounding",
            ParamName::PerCapitaRounding => "per_capita_rounding",
            ParamName::MinPaymentRatio => "min_payment_ratio",
            ParamName::EdgeBandRatio => "edge_band_ratio",
            ParamName::SinglePersonShare => "single_person_share",
            ParamName::Tiers => "tiers",
            ParamName::ExemptIncomeKinds => "exempt_income_kinds",
            ParamName::TekunBasicRatio => "tekun_basic_ratio",
            ParamName::MinimumWage => "minimum_wage",
            ParamName::InstitutionalCareUplift => "institutional_care_uplift",
            ParamName::TownshipApprovalThreshold => "township_approval_threshold",
            ParamName::PerCausePerYear => "per_cause_per_year",
            ParamName::MedicalRatio => "medical_ratio",
            ParamName::MedicalAnnualCap => "medical_annual_cap",
            ParamName::MedicalDeductible => "medical_deductible",
            ParamName::LaidOffRatio => "laid_off_ratio",
            ParamName::LaidOffFixedAmount => "laid_off_fixed_amount",
            ParamName::AgeBands => "age_bands",
            ParamName::AgeStartRule => "age_start_rule",
            ParamName::CareTable => "care_table",
            ParamName::NoticeDays => "notice_days",
            ParamName::InvestigationWorkingDays => "investigation_working_days",
            ParamName::ReinvestigationWorkingDays => "reinvestigation_working_days",
            ParamName::ConfirmationWorkingDays => "confirmation_working_days",
            ParamName::RefusalNoticeWorkingDays => "refusal_notice_working_days",
            ParamName::ProcedureWorkingDays => "procedure_working_days",
            ParamName::ProcedureExtendedWorkingDays => "procedure_extended_working_days",
            ParamName::DueSoonWorkingDays => "due_soon_working_days",
            ParamName::PaymentStartOffsetMonths => "payment_start_offset_months",
            ParamName::ReviewMonthsStable => "review_months_stable",
            ParamName::ReviewMonthsIrregular => "review_months_irregular",
            ParamName::GracePeriodMonths => "grace_period_months",
            ParamName::GraceWarningDays => "grace_warning_days",
            ParamName::ApprovalLevel => "approval_level",
            ParamName::NameMask => "name_mask",
            // Variants with a sub-kind are handled in code().
            ParamName::ClassifiedSupplement(_)
            | ParamName::CareRatio(_)
            | ParamName::TemporaryCapRatio(_)
            | ParamName::EducationGrant(_)
            | ParamName::DisasterGrant(_) => "",
        }
    }

    /// Parses a storage key produced by [`ParamName::code`].
    pub fn parse_code(s: &str) -> Option<ParamName> {
        let s = s.trim();
        if let Some((base, sub)) = s.split_once('.') {
            return match base {
                "classified_supplement" => sub.parse().ok().map(ParamName::ClassifiedSupplement),
                "care_ratio" => sub.parse().ok().map(ParamName::CareRatio),
                "temporary_cap_ratio" => sub.parse().ok().map(ParamName::TemporaryCapRatio),
                "education_grant" => sub.parse().ok().map(ParamName::EducationGrant),
                "disaster_grant" => sub.parse().ok().map(ParamName::DisasterGrant),
                _ => None,
            };
        }
        Self::SIMPLE.iter().copied().find(|n| n.simple_code() == s)
    }

    const SIMPLE: [ParamName; 37] = [
        ParamName::Standard,
        ParamName::TopUpMode,
        ParamName::Rounding,
        ParamName::PerCapitaRounding,
        ParamName::MinPaymentRatio,
        ParamName::EdgeBandRatio,
        ParamName::SinglePersonShare,
        ParamName::Tiers,
        ParamName::ExemptIncomeKinds,
        ParamName::TekunBasicRatio,
        ParamName::MinimumWage,
        ParamName::InstitutionalCareUplift,
        ParamName::TownshipApprovalThreshold,
        ParamName::PerCausePerYear,
        ParamName::MedicalRatio,
        ParamName::MedicalAnnualCap,
        ParamName::MedicalDeductible,
        ParamName::LaidOffRatio,
        ParamName::LaidOffFixedAmount,
        ParamName::AgeBands,
        ParamName::AgeStartRule,
        ParamName::CareTable,
        ParamName::NoticeDays,
        ParamName::InvestigationWorkingDays,
        ParamName::ReinvestigationWorkingDays,
        ParamName::ConfirmationWorkingDays,
        ParamName::RefusalNoticeWorkingDays,
        ParamName::ProcedureWorkingDays,
        ParamName::ProcedureExtendedWorkingDays,
        ParamName::DueSoonWorkingDays,
        ParamName::PaymentStartOffsetMonths,
        ParamName::ReviewMonthsStable,
        ParamName::ReviewMonthsIrregular,
        ParamName::GracePeriodMonths,
        ParamName::GraceWarningDays,
        ParamName::ApprovalLevel,
        ParamName::NameMask,
    ];

    /// The value shape this parameter must hold.
    pub fn kind(self) -> ValueKind {
        use ParamName as N;
        match self {
            N::Standard
            | N::MinimumWage
            | N::TownshipApprovalThreshold
            | N::MedicalAnnualCap
            | N::MedicalDeductible
            | N::EducationGrant(_)
            | N::DisasterGrant(_)
            | N::LaidOffFixedAmount => ValueKind::Amount,
            N::MinPaymentRatio
            | N::EdgeBandRatio
            | N::SinglePersonShare
            | N::TekunBasicRatio
            | N::CareRatio(_)
            | N::InstitutionalCareUplift
            | N::TemporaryCapRatio(_)
            | N::MedicalRatio
            | N::LaidOffRatio => ValueKind::Ratio,
            N::ClassifiedSupplement(_) => ValueKind::AmountOrRatio,
            N::NoticeDays | N::GraceWarningDays => ValueKind::Days,
            N::InvestigationWorkingDays
            | N::ReinvestigationWorkingDays
            | N::ConfirmationWorkingDays
            | N::RefusalNoticeWorkingDays
            | N::ProcedureWorkingDays
            | N::ProcedureExtendedWorkingDays
            | N::DueSoonWorkingDays => ValueKind::WorkingDays,
            N::PaymentStartOffsetMonths
            | N::ReviewMonthsStable
            | N::ReviewMonthsIrregular
            | N::GracePeriodMonths => ValueKind::Months,
            N::PerCausePerYear => ValueKind::Count,
            N::Rounding | N::PerCapitaRounding => ValueKind::Rounding,
            N::TopUpMode => ValueKind::TopUpMode,
            N::Tiers => ValueKind::Tiers,
            N::ExemptIncomeKinds => ValueKind::IncomeKinds,
            N::AgeBands => ValueKind::AgeBands,
            N::AgeStartRule => ValueKind::AgeStartRule,
            N::CareTable => ValueKind::CareTable,
            N::ApprovalLevel => ValueKind::ApprovalLevel,
            N::NameMask => ValueKind::NameMask,
        }
    }
}

/// 参数键 — program + parameter name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ParamKey {
    pub program: Program,
    pub name: ParamName,
}

impl ParamKey {
    pub fn new(program: Program, name: ParamName) -> ParamKey {
        ParamKey { program, name }
    }
    /// `城市最低生活保障·低保标准`
    pub fn label(&self) -> String {
        format!("{}·{}", self.program.label(), self.name.label())
    }
}

/// 参数值.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum ParamValue {
    Amount(Fen),
    Ratio(Ratio),
    /// 自然日
    Days(u32),
    WorkingDays(u32),
    Months(u32),
    Count(u32),
    Rounding(Rounding),
    TopUpMode(TopUpMode),
    Tiers(Vec<DibaoTier>),
    IncomeKinds(Vec<IncomeKind>),
    AgeBands(Vec<AgeBand>),
    AgeStartRule(AgeStartRule),
    CareTable(Vec<CareRow>),
    ApprovalLevel(ApprovalLevel),
    NameMask(NameMask),
}

impl ParamValue {
    fn fits(&self, kind: ValueKind) -> bool {
        matches!(
            (self, kind),
            (
                ParamValue::Amount(_),
                ValueKind::Amount | ValueKind::AmountOrRatio
            ) | (
                ParamValue::Ratio(_),
                ValueKind::Ratio | ValueKind::AmountOrRatio
            ) | (ParamValue::Days(_), ValueKind::Days)
                | (ParamValue::WorkingDays(_), ValueKind::WorkingDays)
                | (ParamValue::Months(_), ValueKind::Months)
                | (ParamValue::Count(_), ValueKind::Count)
                | (ParamValue::Rounding(_), ValueKind::Rounding)
                | (ParamValue::TopUpMode(_), ValueKind::TopUpMode)
                | (ParamValue::Tiers(_), ValueKind::Tiers)
                | (ParamValue::IncomeKinds(_), ValueKind::IncomeKinds)
                | (ParamValue::AgeBands(_), ValueKind::AgeBands)
                | (ParamValue::AgeStartRule(_), ValueKind::AgeStartRule)
                | (ParamValue::CareTable(_), ValueKind::CareTable)
                | (ParamValue::ApprovalLevel(_), ValueKind::ApprovalLevel)
                | (ParamValue::NameMask(_), ValueKind::NameMask)
        )
    }
}

/// 适用地区 — a city, optionally narrowed to one of its counties and/or to urban or
/// rural. A county override beats the city value; an urban/rural-specific value beats
/// one for both.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Scope {
    pub city: DivisionCode,
    pub county: Option<DivisionCode>,
    pub urban_rural: Option<UrbanRural>,
}

impl Scope {
    pub fn city(city: DivisionCode) -> Scope {
        Scope {
            city,
            county: None,
            urban_rural: None,
        }
    }

    fn matches(&self, region: &DivisionCode, ur: Option<UrbanRural>) -> bool {
        let place = match &self.county {
            Some(c) => c.contains(region),
            None => self.city.contains(region),
        };
        let ur_ok = self.urban_rural.is_none() || self.urban_rural == ur;
        place && ur_ok
    }

    /// Higher = more specific. The county outranks urban/rural: a county that set its
    /// own figure meant it for all its cases.
    fn specificity(&self) -> u8 {
        u8::from(self.county.is_some()) * 2 + u8::from(self.urban_rural.is_some())
    }

    fn label(&self) -> String {
        let mut s = self
            .county
            .as_ref()
            .unwrap_or(&self.city)
            .as_str()
            .to_string();
        if let Some(ur) = self.urban_rural {
            s.push_str(ur.label());
        }
        s
    }
}

/// One dated value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParamEntry {
    pub key: ParamKey,
    pub scope: Scope,
    pub effective_from: NaiveDate,
    pub value: ParamValue,
    /// Where the figure comes from (document number), or "演示数据".
    pub source: String,
}

/// Why a parameter could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("参数“{key}”在{on}没有生效的取值(地区{region})，请先维护参数表")]
    NotInForce {
        key: String,
        region: String,
        on: NaiveDate,
    },
    #[error("参数“{key}”的取值类型不对，应为{expected}")]
    WrongType { key: String, expected: &'static str },
    #[error("参数“{key}”在{scope}自{on}起已有取值，不能重复")]
    Duplicate {
        key: String,
        scope: String,
        on: NaiveDate,
    },
    #[error("参数“{key}”的适用地区不正确：{reason}")]
    BadScope { key: String, reason: &'static str },
    #[error("参数“{key}”的取值超出允许范围：{reason}")]
    OutOfRange { key: String, reason: String },
}

/// 参数表 — all dated parameter entries.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ParamSet {
    entries: Vec<ParamEntry>,
}

impl ParamSet {
    pub fn new() -> ParamSet {
        ParamSet::default()
    }

    pub fn entries(&self) -> &[ParamEntry] {
        &self.entries
    }

    /// Adds an entry after checking its type and scope; two entries for the same key,
    /// scope and date are refused because resolution could not choose between them.
    pub fn insert(&mut self, e: ParamEntry) -> Result<(), ParamError> {
        let key = e.key.label();
        let expected = e.key.name.kind();
        if !e.value.fits(expected) {
            return Err(ParamError::WrongType {
                key,
                expected: expected.label(),
            });
        }
        if e.scope.city.level() != DivisionLevel::City {
            return Err(ParamError::BadScope {
                key,
                reason: "城市代码应为4位地级代码",
            });
        }
        if let Some(c) = &e.scope.county {
            if c.level() != DivisionLevel::County || !e.scope.city.contains(c) {
                return Err(ParamError::BadScope {
                    key,
                    reason: "区县代码应为本市所辖的6位代码",
                });
            }
        }
        if let ParamValue::Months(m) = e.value {
            if e.key.name == ParamName::GracePeriodMonths && !(1..=12).contains(&m) {
                return Err(ParamError::OutOfRange {
                    key,
                    reason: format!("渐退期应为1至12个月，实为{m}个月"),
                });
            }
        }
        if self
            .entries
            .iter()
            .any(|x| x.key == e.key && x.scope == e.scope && x.effective_from == e.effective_from)
        {
            return Err(ParamError::Duplicate {
                key,
                scope: e.scope.label(),
                on: e.effective_from,
            });
        }
        self.entries.push(e);
        Ok(())
    }

    /// The entry in force for `key` in `region` (any level inside a city) on `on`:
    /// among entries whose scope covers the region and whose `effective_from <= on`,
    /// the most specific scope wins, then the latest date.
    pub fn resolve_entry(
        &self,
        key: ParamKey,
        region: &DivisionCode,
        urban_rural: Option<UrbanRural>,
        on: NaiveDate,
    ) -> Result<&ParamEntry, ParamError> {
        self.entries
            .iter()
            .filter(|e| {
                e.key == key && e.effective_from <= on && e.scope.matches(region, urban_rural)
            })
            .max_by_key(|e| (e.scope.specificity(), e.effective_from))
            .ok_or_else(|| ParamError::NotInForce {
                key: key.label(),
                region: match urban_rural {
                    Some(ur) => format!("{}{}", region.as_str(), ur.label()),
                    None => region.as_str().to_string(),
                },
                on,
            })
    }

    pub fn resolve(
        &self,
        key: ParamKey,
        region: &DivisionCode,
        urban_rural: Option<UrbanRural>,
        on: NaiveDate,
    ) -> Result<&ParamValue, ParamError> {
        self.resolve_entry(key, region, urban_rural, on)
            .map(|e| &e.value)
    }

    /// A query bound to one region and date, with typed getters.
    pub fn at<'a>(
        &'a self,
        region: &'a DivisionCode,
        urban_rural: Option<UrbanRural>,
        on: NaiveDate,
    ) -> ParamQuery<'a> {
        ParamQuery {
            set: self,
            region,
            urban_rural,
            on,
        }
    }
}

/// Typed access to a [`ParamSet`] for one region, urban/rural status and date.
#[derive(Debug, Clone, Copy)]
pub struct ParamQuery<'a> {
    pub set: &'a ParamSet,
    pub region: &'a DivisionCode,
    pub urban_rural: Option<UrbanRural>,
    pub on: NaiveDate,
}

macro_rules! getter {
    ($fn:ident, $variant:ident, $t:ty, $kind:ident) => {
        pub fn $fn(&self, program: Program, name: ParamName) -> Result<$t, ParamError> {
            match self.get(program, name)? {
                ParamValue::$variant(v) => Ok(v.clone()),
                _ => Err(self.wrong(program, name, ValueKind::$kind)),
            }
        }
    };
}

impl<'a> ParamQuery<'a> {
    pub fn get(&self, program: Program, name: ParamName) -> Result<&'a ParamValue, ParamError> {
        self.set.resolve(
            ParamKey::new(program, name),
            self.region,
            self.urban_rural,
            self.on,
        )
    }

    fn wrong(&self, program: Program, name: ParamName, kind: ValueKind) -> ParamError {
        ParamError::WrongType {
            key: ParamKey::new(program, name).label(),
            expected: kind.label(),
        }
    }

    getter!(amount, Amount, Fen, Amount);
    getter!(ratio, Ratio, Ratio, Ratio);
    getter!(days, Days, u32, Days);
    getter!(working_days, WorkingDays, u32, WorkingDays);
    getter!(months, Months, u32, Months);
    getter!(count, Count, u32, Count);
    getter!(rounding, Rounding, Rounding, Rounding);
    getter!(top_up_mode, TopUpMode, TopUpMode, TopUpMode);
    getter!(tiers, Tiers, Vec<DibaoTier>, Tiers);
    getter!(income_kinds, IncomeKinds, Vec<IncomeKind>, IncomeKinds);
    getter!(age_bands, AgeBands, Vec<AgeBand>, AgeBands);
    getter!(age_start_rule, AgeStartRule, AgeStartRule, AgeStartRule);
    getter!(care_table, CareTable, Vec<CareRow>, CareTable);
    getter!(approval_level, ApprovalLevel, ApprovalLevel, ApprovalLevel);
    getter!(name_mask, NameMask, NameMask, NameMask);

    /// The monthly 低保 standard for this query's urban/rural status: the 城市低保
    /// standard for urban, 农村低保 for rural. Without a status there is no standard
    /// (the two may differ, §2.1).
    pub fn dibao_standard(&self) -> Result<Fen, ParamError> {
        match self.urban_rural {
            Some(UrbanRural::Urban) => self.amount(Program::UrbanDibao, ParamName::Standard),
            Some(UrbanRural::Rural) => self.amount(Program::RuralDibao, ParamName::Standard),
            None => Err(ParamError::NotInForce {
                key: "低保标准(未指明城市或农村)".to_string(),
                region: self.region.as_str().to_string(),
                on: self.on,
            }),
        }
    }
}

/// The demo city: 雅安市.
pub const DEMO_CITY: &str = "5118";

impl ParamSet {
    /// 演示参数 — **demo data for 雅安市 (5118), not official figures.** Plausible
    /// values effective 2025-01-01 and 2026-01-01 so that pages and tests have
    /// something to compute with; every entry's `source` says "演示数据". Replace with
    /// the city's published standards before real use.
    pub fn demo_yaan() -> ParamSet {
        Self::demo_yaan_checked().0
    }

    /// The demo set and the number of rows the builder had to drop (tests want 0).
    fn demo_yaan_checked() -> (ParamSet, usize) {
        let mut b = DemoBuilder::default();
        let y25 = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap_or(NaiveDate::MIN);
        let y26 = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or(NaiveDate::MIN);
        let yuan = |y: i64| Fen(y * 100);
        use ParamName as N;
        use ParamValue as V;
        use Program as P;

        for (d, urban, rural, wage, cap, old) in [
            (y25, 780, 600, 2_100, 60_000, [50, 100, 500]),
            (y26, 810, 630, 2_200, 80_000, [60, 120, 600]),
        ] {
            b.add(P::UrbanDibao, N::Standard, d, V::Amount(yuan(urban)));
            b.add(P::RuralDibao, N::Standard, d, V::Amount(yuan(rural)));
            b.add(P::Tekun, N::MinimumWage, d, V::Amount(yuan(wage)));
            b.add(
                P::MedicalAssistance,
                N::MedicalAnnualCap,
                d,
                V::Amount(yuan(cap)),
            );
            b.add(
                P::OldAgeAllowance,
                N::AgeBands,
                d,
                V::AgeBands(vec![
                    AgeBand {
                        min_age: 80,
                        max_age: Some(89),
                        monthly: yuan(old[0]),
                    },
                    AgeBand {
                        min_age: 90,
                        max_age: Some(99),
                        monthly: yuan(old[1]),
                    },
                    AgeBand {
                        min_age: 100,
                        max_age: None,
                        monthly: yuan(old[2]),
                    },
                ]),
            );
        }

        // Rules that did not change between the two demo years: entered once, 2025.
        for p in [P::UrbanDibao, P::RuralDibao, P::SinglePersonDibao] {
            b.add(p, N::TopUpMode, y25, V::TopUpMode(TopUpMode::HouseholdGap));
            b.add(p, N::Rounding, y25, V::Rounding(Rounding::UpToYuan));
            b.add(p, N::PerCapitaRounding, y25, V::Rounding(Rounding::ToFen));
            b.add(p, N::MinPaymentRatio, y25, V::Ratio(Ratio::percent(20)));
            b.add(p, N::EdgeBandRatio, y25, V::Ratio(Ratio::percent(150)));
            b.add(
                p,
                N::ExemptIncomeKinds,
                y25,
                V::IncomeKinds(IncomeKind::NATIONAL_EXEMPT.to_vec()),
            );
            for (c, pct) in [
                (SupplementCategory::Aged60, 10),
                (SupplementCategory::Aged70, 20),
                (SupplementCategory::Minor, 10),
                (SupplementCategory::SevereDisability, 20),
                (SupplementCategory::SeriousIllness, 20),
            ] {
                b.add(
                    p,
                    N::ClassifiedSupplement(c),
                    y25,
                    V::Ratio(Ratio::percent(pct)),
                );
            }
            b.add(
                p,
                N::Tiers,
                y25,
                V::Tiers(vec![
                    DibaoTier {
                        name: "一档".into(),
                        income_below: Ratio::percent(30),
                        per_person: Ratio::percent(100),
                    },
                    DibaoTier {
                        name: "二档".into(),
                        income_below: Ratio::percent(60),
                        per_person: Ratio::percent(70),
                    },
                    DibaoTier {
                        name: "三档".into(),
                        income_below: Ratio::percent(100),
                        per_person: Ratio::percent(40),
                    },
                ]),
            );
            b.add(p, N::ReviewMonthsStable, y25, V::Months(12));
            b.add(p, N::ReviewMonthsIrregular, y25, V::Months(6));
            b.add(p, N::GracePeriodMonths, y25, V::Months(6));
            b.add(p, N::GraceWarningDays, y25, V::Days(30));
        }
        b.add(
            P::SinglePersonDibao,
            N::SinglePersonShare,
            y25,
            V::Ratio(Ratio::percent(60)),
        );
        b.add(
            P::Tekun,
            N::TekunBasicRatio,
            y25,
            V::Ratio(Ratio::percent(130)),
        );
        for (l, r) in [
            (CareLevel::SelfReliant, Ratio::fraction(1, 10)),
            (CareLevel::Partial, Ratio::fraction(1, 6)),
            (CareLevel::Full, Ratio::fraction(1, 3)),
        ] {
            b.add(P::Tekun, N::CareRatio(l), y25, V::Ratio(r));
        }
        b.add(
            P::Tekun,
            N::InstitutionalCareUplift,
            y25,
            V::Ratio(Ratio::percent(50)),
        );
        b.add(P::Tekun, N::Rounding, y25, V::Rounding(Rounding::ToFen));
        b.add(
            P::TemporaryAssistance,
            N::TemporaryCapRatio(TemporaryKind::Emergency),
            y25,
            V::Ratio(Ratio::percent(600)),
        );
        b.add(
            P::TemporaryAssistance,
            N::TemporaryCapRatio(TemporaryKind::Spending),
            y25,
            V::Ratio(Ratio::percent(1000)),
        );
        b.add(
            P::TemporaryAssistance,
            N::TownshipApprovalThreshold,
            y25,
            V::Amount(yuan(2_000)),
        );
        b.add(P::TemporaryAssistance, N::PerCausePerYear, y25, V::Count(1));
        b.add(
            P::MedicalAssistance,
            N::MedicalRatio,
            y25,
            V::Ratio(Ratio::percent(70)),
        );
        b.add(
            P::MedicalAssistance,
            N::MedicalDeductible,
            y25,
            V::Amount(Fen::ZERO),
        );
        b.add(
            P::MedicalAssistance,
            N::Rounding,
            y25,
            V::Rounding(Rounding::ToFen),
        );
        for (s, y) in [
            (SchoolStage::Preschool, 1_000),
            (SchoolStage::Primary, 1_000),
            (SchoolStage::JuniorSecondary, 1_250),
            (SchoolStage::SeniorSecondary, 2_000),
            (SchoolStage::Vocational, 2_000),
            (SchoolStage::Undergraduate, 5_000),
        ] {
            b.add(
                P::EducationAssistance,
                N::EducationGrant(s),
                y25,
                V::Amount(yuan(y)),
            );
        }
        for (s, y) in [
            (ReliefStage::Emergency, 300),
            (ReliefStage::Transitional, 900),
            (ReliefStage::HousingReconstruction, 30_000),
            (ReliefStage::WinterSpring, 500),
            (ReliefStage::Bereavement, 10_000),
        ] {
            b.add(
                P::DisasterRelief,
                N::DisasterGrant(s),
                y25,
                V::Amount(yuan(y)),
            );
        }
        b.add(
            P::LaidOffWorkerRelief,
            N::LaidOffRatio,
            y25,
            V::Ratio(Ratio::percent(40)),
        );
        b.add(
            P::LaidOffWorkerRelief,
            N::LaidOffFixedAmount,
            y25,
            V::Amount(yuan(600)),
        );
        b.add(
            P::LaidOffWorkerRelief,
            N::Rounding,
            y25,
            V::Rounding(Rounding::ToFen),
        );
        b.add(
            P::OldAgeAllowance,
            N::AgeStartRule,
            y25,
            V::AgeStartRule(AgeStartRule::NextMonth),
        );
        // 优抚: grade 1 因战 and grade 10 因公 are the latest national figures DOMAIN §6
        // found (year unknown); the other rows are invented for the demo.
        let care = |category, grade, cause, y: i64| CareRow {
            category,
            grade,
            cause,
            annual: yuan(y),
        };
        use CareCategory as CC;
        use DisabilityCause as DC;
        b.add(
            P::PreferentialCare,
            N::CareTable,
            y25,
            V::CareTable(vec![
                care(CC::DisabledServiceman, Some(1), Some(DC::War), 116_270),
                care(CC::DisabledServiceman, Some(1), Some(DC::Duty), 112_650),
                care(CC::DisabledServiceman, Some(1), Some(DC::Illness), 108_490),
                care(CC::DisabledServiceman, Some(6), Some(DC::Illness), 38_000),
                care(CC::DisabledServiceman, Some(10), Some(DC::War), 11_590),
                care(CC::DisabledServiceman, Some(10), Some(DC::Duty), 10_850),
                care(CC::MartyrFamily, None, None, 31_000),
                care(CC::DiedOnDutyFamily, None, None, 28_000),
                care(CC::DiedOfIllnessFamily, None, None, 27_000),
                care(CC::DemobilisedRural, None, None, 9_000),
                care(CC::IllReturned, None, None, 7_500),
                care(CC::WarOrTestParticipant, None, None, 7_000),
                care(CC::MartyrElderlyChild, None, None, 6_000),
            ]),
        );

        // Procedure limits (DOMAIN §2.4, §4, §13 rows 10–15), for every program.
        for p in Program::ALL {
            b.add(p, N::NoticeDays, y25, V::Days(7));
            b.add(p, N::InvestigationWorkingDays, y25, V::WorkingDays(15));
            b.add(p, N::ReinvestigationWorkingDays, y25, V::WorkingDays(15));
            b.add(p, N::ConfirmationWorkingDays, y25, V::WorkingDays(10));
            b.add(p, N::RefusalNoticeWorkingDays, y25, V::WorkingDays(3));
            b.add(p, N::ProcedureWorkingDays, y25, V::WorkingDays(30));
            b.add(p, N::ProcedureExtendedWorkingDays, y25, V::WorkingDays(45));
            b.add(p, N::DueSoonWorkingDays, y25, V::WorkingDays(3));
            b.add(p, N::PaymentStartOffsetMonths, y25, V::Months(1));
            b.add(p, N::NameMask, y25, V::NameMask(NameMask::KeepFirstAndLast));
            b.add(
                p,
                N::ApprovalLevel,
                y25,
                V::ApprovalLevel(p.info().default_approval),
            );
        }

        // A county override, to show the mechanism: 芦山县 (511826) pays more at 100+
        // from 2026 (demo).
        b.add_county(
            "511826",
            P::OldAgeAllowance,
            N::AgeBands,
            y26,
            V::AgeBands(vec![
                AgeBand {
                    min_age: 80,
                    max_age: Some(89),
                    monthly: yuan(60),
                },
                AgeBand {
                    min_age: 90,
                    max_age: Some(99),
                    monthly: yuan(120),
                },
                AgeBand {
                    min_age: 100,
                    max_age: None,
                    monthly: yuan(800),
                },
            ]),
        );
        (b.set, b.rejected)
    }
}

#[derive(Default)]
struct DemoBuilder {
    set: ParamSet,
    rejected: usize,
}

impl DemoBuilder {
    fn add(&mut self, program: Program, name: ParamName, from: NaiveDate, value: ParamValue) {
        self.add_scoped(None, program, name, from, value);
    }
    fn add_county(
        &mut self,
        county: &str,
        program: Program,
        name: ParamName,
        from: NaiveDate,
        value: ParamValue,
    ) {
        self.add_scoped(Some(county), program, name, from, value);
    }
    fn add_scoped(
        &mut self,
        county: Option<&str>,
        program: Program,
        name: ParamName,
        from: NaiveDate,
        value: ParamValue,
    ) {
        // The demo table is fixed data checked by `demo_set_is_consistent`; a bad row
        // would be a programming error, so it is skipped rather than panicking in
        // production code, and the test catches it.
        let (Ok(city), county) = (
            DivisionCode::parse(DEMO_CITY),
            county.and_then(|c| DivisionCode::parse(c).ok()),
        ) else {
            self.rejected += 1;
            return;
        };
        let inserted = self.set.insert(ParamEntry {
            key: ParamKey::new(program, name),
            scope: Scope {
                city,
                county,
                urban_rural: None,
            },
            effective_from: from,
            value,
            source: "演示数据(非正式标准)".to_string(),
        });
        if inserted.is_err() {
            self.rejected += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).unwrap()
    }
    fn entry(scope: Scope, from: NaiveDate, yuan: i64) -> ParamEntry {
        ParamEntry {
            key: ParamKey::new(Program::UrbanDibao, ParamName::Standard),
            scope,
            effective_from: from,
            value: ParamValue::Amount(Fen(yuan * 100)),
            source: "test".into(),
        }
    }
    const KEY: ParamKey = ParamKey {
        program: Program::UrbanDibao,
        name: ParamName::Standard,
    };

    #[test]
    fn ratio_display_and_order() {
        assert_eq!(Ratio::bp(7000).to_string(), "70%");
        assert_eq!(Ratio::permille(125).to_string(), "12.5%");
        assert_eq!(Ratio::fraction(1, 6).to_string(), "1/6");
        assert_eq!(Ratio::percent(150).to_string(), "150%");
        assert_eq!(Ratio::bp(5000), Ratio::fraction(1, 2));
        assert!(Ratio::fraction(1, 6) > Ratio::percent(16));
        assert!(Ratio::new(1, 0).is_none());
        assert!(Ratio::new(-1, 2).is_none());
        assert!(Ratio::new(1, 2_000_000).is_none());
        assert!(Ratio::new(101, 1).is_none());
        assert_eq!(Ratio::new(3, 4), Some(Ratio::percent(75)));
    }

    #[test]
    fn rounding_modes() {
        let x = Exact::new(123_401, 1); // 1234.01 yuan
        assert_eq!(Rounding::UpToYuan.apply(x), Some(Fen(123_500)));
        assert_eq!(Rounding::DownToYuan.apply(x), Some(Fen(123_400)));
        assert_eq!(Rounding::HalfUpToYuan.apply(x), Some(Fen(123_400)));
        assert_eq!(
            Rounding::HalfUpToYuan.apply(Exact::new(123_450, 1)),
            Some(Fen(123_500))
        );
        assert_eq!(Rounding::ToFen.apply(Exact::new(1, 2)), Some(Fen(1)));
        assert_eq!(Rounding::ToFen.apply(Exact::new(1, 3)), Some(Fen(0)));
        assert_eq!(Rounding::ToFen.apply(Exact::new(-1, 2)), Some(Fen(-1)));
        assert_eq!(
            Rounding::UpToYuan.apply(Exact::new(123_400, 1)),
            Some(Fen(123_400))
        );
        assert_eq!(Exact::new(1, 3).display_yuan(), "0.0033元");
        assert_eq!(Exact::new(12_345, 1).display_yuan(), "123.45元");
    }

    #[test]
    fn most_specific_then_latest() {
        let city = Scope::city(code("5118"));
        let county = Scope {
            county: Some(code("511826")),
            ..city.clone()
        };
        let urban = Scope {
            urban_rural: Some(UrbanRural::Urban),
            ..city.clone()
        };
        let mut s = ParamSet::new();
        s.insert(entry(city.clone(), d(2025, 1, 1), 780)).unwrap();
        s.insert(entry(city.clone(), d(2026, 1, 1), 810)).unwrap();
        s.insert(entry(county.clone(), d(2025, 7, 1), 800)).unwrap();
        s.insert(entry(urban.clone(), d(2025, 3, 1), 790)).unwrap();
        let amt = |region: &str, ur, on| match s.resolve(KEY, &code(region), ur, on) {
            Ok(ParamValue::Amount(f)) => Ok(f.0 / 100),
            Ok(_) => panic!(),
            Err(e) => Err(e),
        };
        // City value by date.
        assert_eq!(amt("511802", None, d(2025, 6, 30)), Ok(780));
        assert_eq!(amt("511802", None, d(2026, 1, 1)), Ok(810));
        assert_eq!(amt("511802", None, d(2025, 12, 31)), Ok(780));
        // Urban-specific beats the city-wide value once in force.
        assert_eq!(
            amt("511802", Some(UrbanRural::Urban), d(2025, 2, 28)),
            Ok(780)
        );
        assert_eq!(
            amt("511802", Some(UrbanRural::Urban), d(2025, 3, 1)),
            Ok(790)
        );
        assert_eq!(
            amt("511802", Some(UrbanRural::Rural), d(2025, 3, 1)),
            Ok(780)
        );
        // County override beats the city, even the city's later raise, inside the county
        // (a township code under it too).
        assert_eq!(amt("511826", None, d(2025, 6, 30)), Ok(780));
        assert_eq!(amt("511826100", None, d(2025, 7, 1)), Ok(800));
        assert_eq!(amt("511826", None, d(2026, 3, 1)), Ok(800));
        // Before anything is in force: an error naming the parameter and date.
        let err = amt("511802", None, d(2024, 12, 31)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "参数“城市最低生活保障·低保标准”在2024-12-31没有生效的取值(地区511802)，请先维护参数表"
        );
        // Another city: nothing, never the 雅安 value.
        assert!(amt("510104", None, d(2026, 1, 1)).is_err());
        // The city itself does not match a county override.
        assert_eq!(amt("5118", None, d(2025, 8, 1)), Ok(780));
    }

    #[test]
    fn insert_checks() {
        let mut s = ParamSet::new();
        let city = Scope::city(code("5118"));
        s.insert(entry(city.clone(), d(2025, 1, 1), 1)).unwrap();
        assert!(matches!(
            s.insert(entry(city.clone(), d(2025, 1, 1), 2)),
            Err(ParamError::Duplicate { .. })
        ));
        let mut bad = entry(city.clone(), d(2025, 2, 1), 1);
        bad.value = ParamValue::Days(3);
        assert!(matches!(s.insert(bad), Err(ParamError::WrongType { .. })));
        let mut bad = entry(city.clone(), d(2025, 2, 1), 1);
        bad.scope.county = Some(code("510104"));
        assert!(matches!(s.insert(bad), Err(ParamError::BadScope { .. })));
        let mut bad = entry(Scope::city(code("511802")), d(2025, 2, 1), 1);
        bad.scope.county = None;
        assert!(matches!(s.insert(bad), Err(ParamError::BadScope { .. })));
        let grace = ParamEntry {
            key: ParamKey::new(Program::UrbanDibao, ParamName::GracePeriodMonths),
            scope: city,
            effective_from: d(2025, 1, 1),
            value: ParamValue::Months(13),
            source: String::new(),
        };
        assert!(matches!(
            s.insert(grace),
            Err(ParamError::OutOfRange { .. })
        ));
    }

    #[test]
    fn demo_set_is_consistent() {
        let (s, rejected) = ParamSet::demo_yaan_checked();
        // Every demo row was accepted (the builder cannot panic, so it counts refusals).
        assert_eq!(rejected, 0);
        assert!(s.entries().len() > 200);
        assert!(s.entries().iter().all(|e| e.source.contains("演示")));
        let r = code("511802");
        let q = s.at(&r, Some(UrbanRural::Urban), d(2025, 6, 1));
        assert_eq!(q.dibao_standard(), Ok(Fen(78_000)));
        let q = s.at(&r, Some(UrbanRural::Rural), d(2026, 6, 1));
        assert_eq!(q.dibao_standard(), Ok(Fen(63_000)));
        assert!(s.at(&r, None, d(2026, 6, 1)).dibao_standard().is_err());
        assert_eq!(
            q.ratio(Program::Tekun, ParamName::CareRatio(CareLevel::Partial)),
            Ok(Ratio::fraction(1, 6))
        );
        assert!(matches!(
            q.amount(Program::Tekun, ParamName::CareRatio(CareLevel::Partial)),
            Err(ParamError::WrongType { .. })
        ));
        assert_eq!(
            q.working_days(Program::Tekun, ParamName::ConfirmationWorkingDays),
            Ok(10)
        );
        let lushan = code("511826");
        let bands = s
            .at(&lushan, None, d(2026, 2, 1))
            .age_bands(Program::OldAgeAllowance, ParamName::AgeBands)
            .unwrap();
        assert_eq!(bands[2].monthly, Fen(80_000));
    }

    #[test]
    fn param_codes_round_trip() {
        let mut names: Vec<ParamName> = ParamName::SIMPLE.to_vec();
        names.extend(CareLevel::ALL.iter().map(|l| ParamName::CareRatio(*l)));
        names.extend(
            SchoolStage::ALL
                .iter()
                .map(|l| ParamName::EducationGrant(*l)),
        );
        names.extend(
            ReliefStage::ALL
                .iter()
                .map(|l| ParamName::DisasterGrant(*l)),
        );
        names.extend(
            TemporaryKind::ALL
                .iter()
                .map(|l| ParamName::TemporaryCapRatio(*l)),
        );
        names.extend(
            SupplementCategory::ALL
                .iter()
                .map(|l| ParamName::ClassifiedSupplement(*l)),
        );
        let mut seen = std::collections::HashSet::new();
        for n in names {
            assert_eq!(ParamName::parse_code(&n.code()), Some(n), "{}", n.code());
            assert!(seen.insert(n.code()));
            assert!(!n.label().is_empty());
        }
        assert_eq!(ParamName::parse_code("care_ratio.none"), None);
        assert_eq!(ParamName::parse_code("nope"), None);
    }

    proptest! {
        #[test]
        fn rounding_brackets_the_exact_value(num in -10_000_000i64..10_000_000, den in 1i64..1000) {
            let x = Exact::new(num.into(), den.into());
            let up = Rounding::UpToYuan.apply(x).unwrap();
            let down = Rounding::DownToYuan.apply(x).unwrap();
            let half = Rounding::HalfUpToYuan.apply(x).unwrap();
            let fen = Rounding::ToFen.apply(x).unwrap();
            prop_assert!(Exact::from_fen(down).cmp_exact(x) != Ordering::Greater);
            prop_assert!(Exact::from_fen(up).cmp_exact(x) != Ordering::Less);
            prop_assert!(up.0 - down.0 == 0 || up.0 - down.0 == 100);
            prop_assert!(half == up || half == down);
            prop_assert!(fen.0 * den - num <= den && num - fen.0 * den <= den);
        }

        #[test]
        fn resolve_never_returns_future_values(day in 0u32..800) {
            let s = ParamSet::demo_yaan();
            let on = d(2024, 12, 1) + chrono::Days::new(day.into());
            let r = code("511803");
            match s.resolve_entry(KEY, &r, None, on) {
                Ok(e) => prop_assert!(e.effective_from <= on),
                Err(_) => prop_assert!(on < d(2025, 1, 1)),
            }
        }
    }
}
