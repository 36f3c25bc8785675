//! 参数 — dated, regional parameters for the assistance rules.
//!
//! Almost every amount, ratio and period is set by the province, city or county and
//! changes over time (docs/rules.md §10), so rules never contain them as
//! literals: they read a [`ParamSet`]. Resolution picks, among the entries in force on
//! the date, the most specific region, then the latest `effective_from`. If nothing
//! is in force the caller gets an error naming the parameter and date: a benefit must
//! not be computed from a stale or foreign value silently.

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
/// and round once at the end (docs/rules.md §10).
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
        // `den` is at least 1, so their greatest common divisor is too.
        let g = gcd(self.num.unsigned_abs(), self.den.unsigned_abs()) as i128;
        Exact::new(self.num / g, self.den / g)
    }

    /// [`Self::display_yuan`], written only when displayed.
    pub fn yuan(self) -> impl std::fmt::Display {
        struct Yuan(Exact);
        impl std::fmt::Display for Yuan {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0.display_yuan())
            }
        }
        Yuan(self)
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

/// 取整方式 — how a rule's final amount is rounded (local practice; docs/rules.md §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// 向上取整到元 (some localities round the 低保 top-up up to whole yuan).
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

/// 低保金计算方式 (docs/rules.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TopUpMode {
    /// 补差(按人均): `(标准 − 人均收入) × 人数`, with the per-capita income as recorded
    /// (already rounded), as on many local forms.
    PerCapitaGap,
    /// 补差(按户): `标准 × 人数 − 家庭月收入`, exact, rounded once, which avoids the rounding error of going through the per-capita figure.
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

/// When a benefit tied to reaching an age starts (docs/rules.md §9: the month after, or the month
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
    /// 惠民殡葬基本服务费减免 (元/人): the basic funeral services (接运、存放、火化、骨灰寄存)
    /// a cremated beneficiary of the program does not pay.
    FuneralRelief,
    /// 丧葬补助 (元/人): paid once for a beneficiary of the program who dies.
    FuneralGrant,
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
    /// 分类施保类别 (docs/rules.md §6): 就高不重复 — a person gets only their highest supplement.
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
    /// Every kind, in declaration order.
    pub const ALL: &'static [ValueKind] = &[
        ValueKind::Amount,
        ValueKind::Ratio,
        ValueKind::AmountOrRatio,
        ValueKind::Days,
        ValueKind::WorkingDays,
        ValueKind::Months,
        ValueKind::Count,
        ValueKind::Rounding,
        ValueKind::TopUpMode,
        ValueKind::Tiers,
        ValueKind::IncomeKinds,
        ValueKind::AgeBands,
        ValueKind::AgeStartRule,
        ValueKind::CareTable,
        ValueKind::ApprovalLevel,
        ValueKind::NameMask,
    ];

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
            ParamName::FuneralRelief => "惠民殡葬基本服务费减免",
            ParamName::FuneralGrant => "丧葬补助",
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
            ParamName::FuneralRelief => "funeral_relief",
            ParamName::FuneralGrant => "funeral_grant",
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

    const SIMPLE: [ParamName; 39] = [
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
        ParamName::FuneralRelief,
        ParamName::FuneralGrant,
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
            | N::LaidOffFixedAmount
            | N::FuneralRelief
            | N::FuneralGrant => ValueKind::Amount,
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
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ParamSet {
    entries: Vec<ParamEntry>,
    /// The entries' positions by key, built on first use: a calculation resolves a dozen
    /// keys, and a re-pricing or what-if (测算) over a city computes a million of them.
    #[serde(skip)]
    index: std::sync::OnceLock<std::collections::HashMap<ParamKey, Vec<usize>>>,
}

impl PartialEq for ParamSet {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}
impl Eq for ParamSet {}

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
        self.index = std::sync::OnceLock::new();
        Ok(())
    }

    fn positions(&self, key: &ParamKey) -> &[usize] {
        self.index
            .get_or_init(|| {
                let mut m: std::collections::HashMap<ParamKey, Vec<usize>> =
                    std::collections::HashMap::new();
                for (i, e) in self.entries.iter().enumerate() {
                    m.entry(e.key).or_default().push(i);
                }
                m
            })
            .get(key)
            .map(Vec::as_slice)
            .unwrap_or(&[])
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
        self.positions(&key)
            .iter()
            .map(|&i| &self.entries[i])
            .filter(|e| e.effective_from <= on && e.scope.matches(region, urban_rural))
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
    /// (the two may differ, docs/rules.md §10).
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

#[cfg(test)]
pub(crate) mod fixture;
mod input;
#[cfg(test)]
mod tests;

pub use input::{parse_new_param, parse_value, NewParam, ParamInputError, ParamRow};
