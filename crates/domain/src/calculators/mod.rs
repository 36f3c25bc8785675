//! 待遇计算 — benefit calculators. Each returns the amount and an [`Explanation`]
//! (inputs, the formula in Chinese, intermediate values) that a page can show as is,
//! so staff and applicants can check every figure (docs/rules.md §6–§9).
//!
//! Money is integer fen; intermediate values are exact fractions ([`Exact`]) and the
//! result is rounded once, at the end, by the region's rounding parameter.
//! Parameters come in as plain structs; each has a `load` that reads them from a
//! [`ParamQuery`], so tests can state values directly and production reads the table.

use std::cmp::Ordering;

use crate::params::{
    AgeBand, AgeStartRule, CareRow, DibaoTier, Exact, ParamError, ParamName, ParamQuery, Ratio,
    Rounding, SupplementCategory, TopUpMode,
};
use crate::programs::{
    AmountUnit, CareCategory, CareLevel, DisabilityCause, LaidOffRegime, Program, ReliefStage,
    SchoolStage, SupportMode, TemporaryKind,
};
use crate::{Fen, IdNumber, YearMonth};

/// One labelled value in an explanation, e.g. `低保标准` = `780.00元`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    pub label: String,
    pub value: String,
}

/// 计算过程 — how an amount was reached.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Explanation {
    /// The formula in Chinese, e.g. `低保金 = 低保标准 × 人数 − 家庭月收入`.
    pub formula: String,
    pub inputs: Vec<Line>,
    /// Intermediate values in the order they were computed.
    pub steps: Vec<Line>,
    /// Remarks such as "已按最低发放额发放".
    pub notes: Vec<String>,
    /// Written under [`without_explanations`]: nothing above is filled in.
    #[serde(skip)]
    quiet: bool,
}

thread_local! {
    /// Set while [`without_explanations`] runs on this thread.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with the calculators on this thread leaving their explanations empty (the
/// formula, inputs, steps and notes are not written): bulk work over a whole city (测算)
/// needs the amounts only, and writing the text is most of a calculation's time. The
/// amounts and errors are the same.
pub fn without_explanations<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            QUIET.with(|q| q.set(self.0));
        }
    }
    let _restore = Restore(QUIET.with(|q| q.replace(true)));
    f()
}

impl Explanation {
    fn new(formula: impl std::fmt::Display) -> Self {
        if QUIET.with(|q| q.get()) {
            return Explanation {
                quiet: true,
                ..Default::default()
            };
        }
        Explanation {
            formula: formula.to_string(),
            ..Default::default()
        }
    }
    fn input(&mut self, label: impl std::fmt::Display, value: impl std::fmt::Display) -> &mut Self {
        if !self.quiet {
            self.inputs.push(Line {
                label: label.to_string(),
                value: value.to_string(),
            });
        }
        self
    }
    fn step(&mut self, label: impl std::fmt::Display, value: impl std::fmt::Display) -> &mut Self {
        if !self.quiet {
            self.steps.push(Line {
                label: label.to_string(),
                value: value.to_string(),
            });
        }
        self
    }
    fn note(&mut self, s: impl Into<String>) -> &mut Self {
        if !self.quiet {
            self.notes.push(s.into());
        }
        self
    }
}

/// 计算结果.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Calculation {
    pub amount: Fen,
    /// Monthly or one-off, as documented on each calculator.
    pub unit: AmountUnit,
    pub explanation: Explanation,
}

/// Why an amount cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalcError {
    #[error("家庭人数为0，无法计算")]
    NoMembers,
    #[error("{0}不能为负数")]
    Negative(String),
    #[error("金额超出计算范围")]
    Overflow,
    #[error("不符合条件：{0}")]
    NotEligible(String),
    #[error("输入有误：{0}")]
    Invalid(String),
    #[error(transparent)]
    Param(#[from] ParamError),
}

fn non_negative(label: &str, f: Fen) -> Result<(), CalcError> {
    if f.is_negative() {
        Err(CalcError::Negative(label.to_string()))
    } else {
        Ok(())
    }
}

fn round(r: Rounding, x: Exact) -> Result<Fen, CalcError> {
    r.apply(x).ok_or(CalcError::Overflow)
}

fn count(n: u32) -> impl std::fmt::Display {
    struct Persons(u32);
    impl std::fmt::Display for Persons {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}人", self.0)
        }
    }
    Persons(n)
}

/// [`Fen::yuan_string`] (`1234.50`), written only when displayed.
struct PlainYuan(Fen);

impl std::fmt::Display for PlainYuan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let abs = self.0 .0.unsigned_abs();
        let sign = if self.0 .0 < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

// ---------------------------------------------------------------------------
// Household income (docs/rules.md §6)
// ---------------------------------------------------------------------------

crate::programs::coded_enum! {
    /// 收入类型 (docs/rules.md §6). The second group is not counted under the national list; the
    /// exempt set actually used is the parameter `exempt_income_kinds`.
    IncomeKind {
        Wages => "wages", "工资性收入";
        Business => "business", "经营净收入";
        Property => "property", "财产净收入";
        Transfer => "transfer", "转移净收入";
        /// 赡养(扶养、抚养)费 owed by obliged relatives outside the household.
        Maintenance => "maintenance", "赡养(扶养、抚养)费";
        LandTransfer => "land_transfer", "土地流转收入";
        Subsidy => "subsidy", "各类补贴";
        Other => "other", "其他收入";
        SpecialCare => "special_care", "优待抚恤金";
        FamilyPlanningReward => "family_planning_reward", "计划生育奖励与扶助金";
        Scholarship => "scholarship", "奖学金、助学金";
        BraveryAward => "bravery_award", "见义勇为奖励";
        SocialAssistance => "social_assistance", "社会救助金";
        BasicPension => "basic_pension", "城乡居民基础养老金";
        DisabilityAllowance => "disability_allowance", "残疾人两项补贴";
    }
}

impl IncomeKind {
    /// The national not-counted list as the national rules give it (local lists
    /// are longer) — a starting point for the parameter, not a rule.
    pub const NATIONAL_EXEMPT: [IncomeKind; 7] = [
        IncomeKind::SpecialCare,
        IncomeKind::FamilyPlanningReward,
        IncomeKind::Scholarship,
        IncomeKind::BraveryAward,
        IncomeKind::SocialAssistance,
        IncomeKind::BasicPension,
        IncomeKind::DisabilityAllowance,
    ];
}

/// Whether an income figure is per month or per year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncomePeriod {
    Monthly,
    Annual,
}

/// One income item of the household (already averaged over the income window).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IncomeItem {
    pub kind: IncomeKind,
    pub period: IncomePeriod,
    pub amount: Fen,
}

/// 刚性支出 — a monthly deduction (medical, disability, employment costs).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RigidSpending {
    /// e.g. "慢性病自付医疗费".
    pub label: String,
    pub monthly: Fen,
}

/// 家庭收入计算参数.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomeParams {
    pub exempt: Vec<IncomeKind>,
    pub per_capita_rounding: Rounding,
}

impl IncomeParams {
    pub fn load(q: &ParamQuery<'_>, program: Program) -> Result<IncomeParams, ParamError> {
        Ok(IncomeParams {
            exempt: q.income_kinds(program, ParamName::ExemptIncomeKinds)?,
            per_capita_rounding: q.rounding(program, ParamName::PerCapitaRounding)?,
        })
    }
}

/// 家庭收入 — the result of [`household_income`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HouseholdIncome {
    /// Annual counted household income after deductions (never negative), exact fen.
    pub annual: Fen,
    pub counted_members: u32,
    /// 人均月收入 — `annual ÷ members ÷ 12`, rounded once.
    pub per_capita_monthly: Fen,
    pub explanation: Explanation,
}

/// 家庭收入核算 (docs/rules.md §6): `年收入 = Σ月度收入×12 + Σ年度收入 −
/// Σ月刚性支出×12`, exempt kinds left out; `人均月收入 = 年收入 ÷ 人数 ÷ 12`, rounded
/// once. Deductions cannot push income below zero: a negative income would make the
/// top-up exceed the standard itself.
pub fn household_income(
    counted_members: u32,
    items: &[IncomeItem],
    rigid: &[RigidSpending],
    p: &IncomeParams,
) -> Result<HouseholdIncome, CalcError> {
    if counted_members == 0 {
        return Err(CalcError::NoMembers);
    }
    let mut ex = Explanation::new(
        "家庭年收入 = Σ(月度收入×12) + Σ年度收入 − Σ(月刚性支出×12)；人均月收入 = 家庭年收入 ÷ 人数 ÷ 12",
    );
    ex.input("共同生活家庭成员(计入)", count(counted_members));
    let mut total: i128 = 0;
    for it in items {
        non_negative(it.kind.label(), it.amount)?;
        let (per, annual) = match it.period {
            IncomePeriod::Monthly => ("元/月", i128::from(it.amount.0) * 12),
            IncomePeriod::Annual => ("元/年", i128::from(it.amount.0)),
        };
        if p.exempt.contains(&it.kind) {
            ex.input(
                it.kind.label(),
                format_args!("{}{per}(不计入)", PlainYuan(it.amount)),
            );
            continue;
        }
        ex.input(
            it.kind.label(),
            format_args!("{}{per}", PlainYuan(it.amount)),
        );
        total += annual;
    }
    ex.step("计入收入合计(年)", Exact::new(total, 1).yuan());
    let mut deduction: i128 = 0;
    for r in rigid {
        non_negative(&r.label, r.monthly)?;
        ex.input(
            format_args!("刚性支出：{}", r.label),
            format_args!("{}元/月", PlainYuan(r.monthly)),
        );
        deduction += i128::from(r.monthly.0) * 12;
    }
    if deduction > 0 {
        ex.step("刚性支出扣减(年)", Exact::new(deduction, 1).yuan());
    }
    let mut net = total - deduction;
    if net < 0 {
        ex.note("刚性支出超过收入，家庭收入按0计算");
        net = 0;
    }
    let annual = Fen(i64::try_from(net).map_err(|_| CalcError::Overflow)?);
    ex.step("家庭年收入", annual);
    let pc_exact = Exact::from_fen(annual)
        .div_int(i64::from(counted_members))
        .div_int(12);
    let pc = round(p.per_capita_rounding, pc_exact)?;
    ex.step("人均月收入(未取整)", pc_exact.yuan());
    ex.step(
        format_args!("人均月收入({})", p.per_capita_rounding.label()),
        pc,
    );
    Ok(HouseholdIncome {
        annual,
        counted_members,
        per_capita_monthly: pc,
        explanation: ex,
    })
}

// ---------------------------------------------------------------------------
// 低保 and 低保边缘 (docs/rules.md §6)
// ---------------------------------------------------------------------------

/// 分类施保加发 — a flat amount per person or a share of the standard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Supplement {
    Flat(Fen),
    ShareOfStandard(Ratio),
}

impl Supplement {
    fn value(self, standard: Fen) -> Exact {
        match self {
            Supplement::Flat(f) => Exact::from_fen(f),
            Supplement::ShareOfStandard(r) => r.of(standard),
        }
    }
}

/// 低保金计算参数.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DibaoParams {
    /// 低保标准, per person per month.
    pub standard: Fen,
    pub mode: TopUpMode,
    pub rounding: Rounding,
    /// 最低发放额: this share of the standard per counted person.
    pub min_payment_ratio: Ratio,
    /// Used only in `TopUpMode::Tiers`.
    pub tiers: Vec<DibaoTier>,
    /// Supplements for the categories present in the household.
    pub supplements: Vec<(SupplementCategory, Supplement)>,
}

impl DibaoParams {
    /// Reads the parameters for an urban or rural 低保 case. Only the supplement
    /// categories in `categories` are read, so a missing one is an error only when a
    /// member actually has it.
    pub fn load(
        q: &ParamQuery<'_>,
        program: Program,
        categories: &[SupplementCategory],
    ) -> Result<DibaoParams, ParamError> {
        let mode = q.top_up_mode(program, ParamName::TopUpMode)?;
        let mut supplements = Vec::new();
        for c in categories {
            if supplements.iter().any(|(x, _)| x == c) {
                continue;
            }
            let s = match q.get(program, ParamName::ClassifiedSupplement(*c))? {
                crate::params::ParamValue::Amount(f) => Supplement::Flat(*f),
                crate::params::ParamValue::Ratio(r) => Supplement::ShareOfStandard(*r),
                _ => {
                    return Err(ParamError::WrongType {
                        key: crate::params::ParamKey::new(
                            program,
                            ParamName::ClassifiedSupplement(*c),
                        )
                        .label(),
                        expected: "金额或比例",
                    })
                }
            };
            supplements.push((*c, s));
        }
        Ok(DibaoParams {
            standard: q.dibao_standard()?,
            mode,
            rounding: q.rounding(program, ParamName::Rounding)?,
            min_payment_ratio: q.ratio(program, ParamName::MinPaymentRatio)?,
            tiers: if mode == TopUpMode::Tiers {
                q.tiers(program, ParamName::Tiers)?
            } else {
                Vec::new()
            },
            supplements,
        })
    }
}

/// 低保金 (monthly). `member_categories` has one entry per counted member (possibly
/// empty) listing the 分类施保 categories that person falls into.
///
/// Eligibility on income uses the recorded (rounded) per-capita income, the figure on
/// the forms: it must be strictly below the standard. The amount then follows the
/// mode; a minimum payment floor applies, supplements are added (each person only
/// their highest, 就高不重复), and the total is rounded once.
pub fn dibao_top_up(
    income: &HouseholdIncome,
    member_categories: &[Vec<SupplementCategory>],
    p: &DibaoParams,
) -> Result<Calculation, CalcError> {
    let n = income.counted_members;
    if n == 0 {
        return Err(CalcError::NoMembers);
    }
    non_negative("家庭收入", income.annual)?;
    non_negative("低保标准", p.standard)?;
    if member_categories.len() > n as usize {
        return Err(CalcError::Invalid(
            "分类施保人员多于计入的家庭成员".to_string(),
        ));
    }
    let s = p.standard;
    let n_i = i64::from(n);
    let pc = income.per_capita_monthly;
    let formula = match p.mode {
        TopUpMode::PerCapitaGap => "低保金 = (低保标准 − 人均月收入) × 人数 + 分类施保加发",
        TopUpMode::HouseholdGap => "低保金 = 低保标准 × 人数 − 家庭月收入 + 分类施保加发",
        TopUpMode::Tiers => "低保金 = 低保标准 × 档次比例 × 人数 + 分类施保加发",
    };
    let mut ex = Explanation::new(format_args!(
        "{formula}；不低于 低保标准 × 最低发放比例 × 人数；结果{}",
        p.rounding.label()
    ));
    ex.input("低保标准", format_args!("{s}/人·月"))
        .input("计入人数", count(n))
        .input("家庭年收入", income.annual)
        .input("人均月收入", pc)
        .input("计算方式", p.mode.label())
        .input("最低发放比例", p.min_payment_ratio);
    if pc >= s {
        return Err(CalcError::NotEligible(format!(
            "人均月收入{pc}不低于低保标准{s}"
        )));
    }
    let base = match p.mode {
        TopUpMode::PerCapitaGap => {
            let gap = Exact::from_fen(s).minus(Exact::from_fen(pc));
            ex.step("差额(低保标准 − 人均月收入)", gap.yuan());
            gap.mul_int(n_i)
        }
        TopUpMode::HouseholdGap => {
            let monthly = Exact::from_fen(income.annual).div_int(12);
            let all = Exact::from_fen(s).mul_int(n_i);
            ex.step("低保标准 × 人数", all.yuan());
            ex.step("家庭月收入(年收入 ÷ 12)", monthly.yuan());
            all.minus(monthly)
        }
        TopUpMode::Tiers => {
            let mut tiers = p.tiers.clone();
            tiers.sort_by_key(|t| t.income_below);
            let tier = tiers
                .iter()
                .find(|t| Exact::from_fen(pc).cmp_exact(t.income_below.of(s)) == Ordering::Less)
                .ok_or_else(|| CalcError::NotEligible("人均月收入不在任何档次内".to_string()))?;
            ex.step(
                "适用档次",
                format!(
                    "{}(人均收入低于标准的{}，按标准的{}发放)",
                    tier.name, tier.income_below, tier.per_person
                ),
            );
            tier.per_person.of(s).mul_int(n_i)
        }
    };
    ex.step("基本低保金", base.yuan());
    let floor = p.min_payment_ratio.of(s).mul_int(n_i);
    let mut total = base;
    if base.cmp_exact(floor) == Ordering::Less {
        ex.step("最低发放额", floor.yuan());
        ex.note("补差额低于最低发放额，按最低发放额发放");
        total = floor;
    }
    let mut supp_total = Exact::zero();
    for (i, cats) in member_categories.iter().enumerate() {
        let mut best: Option<(SupplementCategory, Exact)> = None;
        for c in cats {
            let sup = p
                .supplements
                .iter()
                .find(|(x, _)| x == c)
                .map(|(_, s)| *s)
                .ok_or_else(|| CalcError::Invalid(format!("缺少分类施保参数：{}", c.label())))?;
            let v = sup.value(s);
            if best.is_none_or(|(_, b)| v.cmp_exact(b) == Ordering::Greater) {
                best = Some((*c, v));
            }
        }
        if let Some((c, v)) = best {
            let more = if cats.len() > 1 {
                "(就高不重复)"
            } else {
                ""
            };
            ex.step(
                format_args!("成员{}分类施保", i + 1),
                format_args!("{}{} {}", c.label(), more, v.yuan()),
            );
            supp_total = supp_total.plus(v);
        }
    }
    if supp_total.cmp_exact(Exact::zero()) == Ordering::Greater {
        ex.step("分类施保加发合计", supp_total.yuan());
        total = total.plus(supp_total);
    }
    ex.step("合计(取整前)", total.yuan());
    let amount = round(p.rounding, total)?;
    ex.step(format_args!("月低保金({})", p.rounding.label()), amount);
    Ok(Calculation {
        amount,
        unit: AmountUnit::Monthly,
        explanation: ex,
    })
}

/// 收入档位 (docs/rules.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncomeBand {
    /// 人均收入低于低保标准
    BelowStandard,
    /// 低保边缘: at or above the standard, below `edge_ratio × standard`
    Edge,
    /// 高于低保边缘
    Above,
}

impl IncomeBand {
    pub fn label(self) -> &'static str {
        match self {
            IncomeBand::BelowStandard => "低于低保标准",
            IncomeBand::Edge => "低保边缘",
            IncomeBand::Above => "高于低保边缘标准",
        }
    }
}

/// Which band a per-capita monthly income falls in (`edge_ratio` typically 150%).
pub fn income_band(per_capita: Fen, standard: Fen, edge_ratio: Ratio) -> IncomeBand {
    let pc = Exact::from_fen(per_capita);
    if pc.cmp_exact(Exact::from_fen(standard)) == Ordering::Less {
        IncomeBand::BelowStandard
    } else if pc.cmp_exact(edge_ratio.of(standard)) == Ordering::Less {
        IncomeBand::Edge
    } else {
        IncomeBand::Above
    }
}

/// 单人保参数.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinglePersonParams {
    pub standard: Fen,
    pub edge_ratio: Ratio,
    pub share: Ratio,
    pub rounding: Rounding,
}

impl SinglePersonParams {
    pub fn load(q: &ParamQuery<'_>) -> Result<SinglePersonParams, ParamError> {
        let p = Program::SinglePersonDibao;
        Ok(SinglePersonParams {
            standard: q.dibao_standard()?,
            edge_ratio: q.ratio(p, ParamName::EdgeBandRatio)?,
            share: q.ratio(p, ParamName::SinglePersonShare)?,
            rounding: q.rounding(p, ParamName::Rounding)?,
        })
    }
}

/// 单人保 (monthly, one person) — `低保标准 × 单人保比例`, for a qualifying member
/// (severe disability, serious illness, clergy; docs/rules.md §6) of a 低保边缘 household.
/// A household below the standard should be enrolled as a whole instead.
pub fn single_person(
    household_per_capita: Fen,
    member_qualifies: bool,
    p: &SinglePersonParams,
) -> Result<Calculation, CalcError> {
    non_negative("人均月收入", household_per_capita)?;
    let mut ex = Explanation::new(format_args!(
        "单人保金 = 低保标准 × 单人保比例；结果{}",
        p.rounding.label()
    ));
    ex.input("低保标准", p.standard)
        .input("家庭人均月收入", household_per_capita)
        .input("低保边缘收入倍数", p.edge_ratio)
        .input("单人保比例", p.share);
    match income_band(household_per_capita, p.standard, p.edge_ratio) {
        IncomeBand::BelowStandard => {
            return Err(CalcError::NotEligible(
                "家庭人均收入低于低保标准，应按整户申请低保".to_string(),
            ))
        }
        IncomeBand::Above => {
            return Err(CalcError::NotEligible(
                "家庭人均收入不在低保边缘范围内".to_string(),
            ))
        }
        IncomeBand::Edge => {}
    }
    if !member_qualifies {
        return Err(CalcError::NotEligible(
            "该成员不属于可单独纳入低保的人员".to_string(),
        ));
    }
    let x = p.share.of(p.standard);
    ex.step("低保标准 × 比例", x.yuan());
    let amount = round(p.rounding, x)?;
    ex.step("月单人保金", amount);
    Ok(Calculation {
        amount,
        unit: AmountUnit::Monthly,
        explanation: ex,
    })
}

// ---------------------------------------------------------------------------
// 特困 (《特困人员认定办法》; docs/rules.md §7)
// ---------------------------------------------------------------------------

/// 生活自理能力评估 — the six items (《特困人员认定办法》; docs/rules.md §7); `true` = the person manages it alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SelfCareAssessment {
    /// 自主吃饭
    pub eating: bool,
    /// 自主穿衣
    pub dressing: bool,
    /// 自主上下床
    pub bed_transfer: bool,
    /// 自主如厕
    pub toileting: bool,
    /// 室内行走
    pub indoor_walking: bool,
    /// 自主洗澡
    pub bathing: bool,
}

impl SelfCareAssessment {
    pub fn all_met() -> Self {
        SelfCareAssessment {
            eating: true,
            dressing: true,
            bed_transfer: true,
            toileting: true,
            indoor_walking: true,
            bathing: true,
        }
    }

    pub fn items_not_met(&self) -> u32 {
        [
            self.eating,
            self.dressing,
            self.bed_transfer,
            self.toileting,
            self.indoor_walking,
            self.bathing,
        ]
        .iter()
        .filter(|ok| !**ok)
        .count() as u32
    }

    /// 0 not met → 具备; 1–3 → 部分丧失; 4–6 → 完全丧失 (national; docs/rules.md §7).
    pub fn level(&self) -> CareLevel {
        match self.items_not_met() {
            0 => CareLevel::SelfReliant,
            1..=3 => CareLevel::Partial,
            _ => CareLevel::Full,
        }
    }
}

/// 特困供养标准参数.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TekunParams {
    pub dibao_standard: Fen,
    /// 基本生活标准 = 低保标准 × this (≥130% commonly).
    pub basic_ratio: Ratio,
    pub minimum_wage: Fen,
    /// 照料护理标准 = 最低工资 × ratio for the level.
    pub care_ratio_self_reliant: Ratio,
    pub care_ratio_partial: Ratio,
    pub care_ratio_full: Ratio,
    /// 集中供养 raises the care standard by this share (e.g. 50%).
    pub institutional_uplift: Ratio,
    pub rounding: Rounding,
}

impl TekunParams {
    pub fn load(q: &ParamQuery<'_>) -> Result<TekunParams, ParamError> {
        let p = Program::Tekun;
        Ok(TekunParams {
            dibao_standard: q.dibao_standard()?,
            basic_ratio: q.ratio(p, ParamName::TekunBasicRatio)?,
            minimum_wage: q.amount(p, ParamName::MinimumWage)?,
            care_ratio_self_reliant: q.ratio(p, ParamName::CareRatio(CareLevel::SelfReliant))?,
            care_ratio_partial: q.ratio(p, ParamName::CareRatio(CareLevel::Partial))?,
            care_ratio_full: q.ratio(p, ParamName::CareRatio(CareLevel::Full))?,
            institutional_uplift: q.ratio(p, ParamName::InstitutionalCareUplift)?,
            rounding: q.rounding(p, ParamName::Rounding)?,
        })
    }
    fn care_ratio(&self, l: CareLevel) -> Ratio {
        match l {
            CareLevel::SelfReliant => self.care_ratio_self_reliant,
            CareLevel::Partial => self.care_ratio_partial,
            CareLevel::Full => self.care_ratio_full,
        }
    }
}

/// 特困供养金 (monthly) = 基本生活标准 + 照料护理标准 (by self-care level; raised for
/// 集中供养), rounded once.
pub fn tekun(
    assessment: &SelfCareAssessment,
    mode: SupportMode,
    p: &TekunParams,
) -> Result<Calculation, CalcError> {
    non_negative("低保标准", p.dibao_standard)?;
    non_negative("最低工资标准", p.minimum_wage)?;
    let level = assessment.level();
    let mut ex = Explanation::new(format_args!(
        "特困供养金 = 低保标准 × 基本生活标准倍数 + 最低工资标准 × 护理比例{}；结果{}",
        if mode == SupportMode::Centralized {
            " × (1 + 集中供养上浮比例)"
        } else {
            ""
        },
        p.rounding.label()
    ));
    ex.input("低保标准", p.dibao_standard)
        .input("基本生活标准倍数", p.basic_ratio)
        .input("最低工资标准", p.minimum_wage)
        .input("供养方式", mode.label())
        .input(
            "生活自理能力评估",
            format!("6项中{}项不能自理", assessment.items_not_met()),
        );
    ex.step("自理能力等级", level.label());
    let basic = p.basic_ratio.of(p.dibao_standard);
    ex.step("基本生活标准", basic.yuan());
    let ratio = p.care_ratio(level);
    ex.step("护理比例", ratio);
    let mut care = ratio.of(p.minimum_wage);
    if mode == SupportMode::Centralized {
        ex.input("集中供养上浮比例", p.institutional_uplift);
        care = care.plus(care.mul_ratio(p.institutional_uplift));
    }
    ex.step("照料护理标准", care.yuan());
    let amount = round(p.rounding, basic.plus(care))?;
    ex.step("月供养金", amount);
    Ok(Calculation {
        amount,
        unit: AmountUnit::Monthly,
        explanation: ex,
    })
}

// ---------------------------------------------------------------------------
// 临时救助, 医疗救助, 教育救助, 受灾救助, 精简退职 (docs/rules.md §8)
// ---------------------------------------------------------------------------

/// Floor to whole fen: a capped payment must never exceed its cap.
fn floor_fen(x: Exact) -> Result<Fen, CalcError> {
    // DownToYuan would lose the fen; ToFen may round up. Compute directly.
    let down = Rounding::ToFen.apply(x).ok_or(CalcError::Overflow)?;
    if Exact::from_fen(down).cmp_exact(x) == Ordering::Greater {
        Ok(Fen(down.0 - 1))
    } else {
        Ok(down)
    }
}

/// 临时救助 (one-off): the assessed amount, limited to `上限倍数 × 月低保标准`.
pub fn temporary(
    kind: TemporaryKind,
    assessed: Fen,
    dibao_standard: Fen,
    cap_ratio: Ratio,
) -> Result<Calculation, CalcError> {
    non_negative("核定救助金额", assessed)?;
    non_negative("低保标准", dibao_standard)?;
    let mut ex = Explanation::new("临时救助金 = min(核定金额, 月低保标准 × 上限倍数)");
    ex.input("救助类型", kind.label())
        .input("核定金额", assessed)
        .input("月低保标准", dibao_standard)
        .input("上限倍数", cap_ratio);
    let cap = cap_ratio.of(dibao_standard);
    ex.step("救助上限", cap.yuan());
    let amount = if Exact::from_fen(assessed).cmp_exact(cap) == Ordering::Greater {
        ex.note("核定金额超过上限，按上限发放");
        floor_fen(cap)?
    } else {
        assessed
    };
    ex.step("临时救助金", amount);
    Ok(Calculation {
        amount,
        unit: AmountUnit::OneOff,
        explanation: ex,
    })
}

/// 医疗救助参数.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MedicalParams {
    pub ratio: Ratio,
    pub annual_cap: Fen,
    /// 起付线.
    pub deductible: Fen,
    pub rounding: Rounding,
}

impl MedicalParams {
    pub fn load(q: &ParamQuery<'_>) -> Result<MedicalParams, ParamError> {
        let p = Program::MedicalAssistance;
        Ok(MedicalParams {
            ratio: q.ratio(p, ParamName::MedicalRatio)?,
            annual_cap: q.amount(p, ParamName::MedicalAnnualCap)?,
            deductible: q.amount(p, ParamName::MedicalDeductible)?,
            rounding: q.rounding(p, ParamName::Rounding)?,
        })
    }
}

/// 医疗救助 (one-off, per claim) = `(政策范围内自付费用 − 起付线) × 救助比例`, limited
/// to what is left of the annual cap after `paid_this_year`.
pub fn medical(
    eligible_cost: Fen,
    paid_this_year: Fen,
    p: &MedicalParams,
) -> Result<Calculation, CalcError> {
    non_negative("政策范围内自付费用", eligible_cost)?;
    non_negative("本年度已救助金额", paid_this_year)?;
    let mut ex = Explanation::new(format_args!(
        "医疗救助金 = min((政策范围内自付费用 − 起付线) × 救助比例, 年度限额 − 本年度已救助)；{}",
        p.rounding.label()
    ));
    ex.input("政策范围内自付费用", eligible_cost)
        .input("起付线", p.deductible)
        .input("救助比例", p.ratio)
        .input("年度限额", p.annual_cap)
        .input("本年度已救助", paid_this_year);
    let base = eligible_cost.0.saturating_sub(p.deductible.0).max(0);
    let raw = round(p.rounding, p.ratio.of(Fen(base)))?;
    ex.step("按比例计算", raw);
    let left = Fen(p.annual_cap.0.saturating_sub(paid_this_year.0).max(0));
    ex.step("年度剩余额度", left);
    let amount = if raw > left {
        ex.note("超过年度剩余额度，按剩余额度救助");
        left
    } else {
        raw
    };
    ex.step("医疗救助金", amount);
    Ok(Calculation {
        amount,
        unit: AmountUnit::OneOff,
        explanation: ex,
    })
}

/// 教育救助 (one-off per school year): the grant for the school stage.
pub fn education(stage: SchoolStage, grant: Fen) -> Result<Calculation, CalcError> {
    non_negative("教育救助标准", grant)?;
    let mut ex = Explanation::new("教育救助金 = 所在学段救助标准");
    ex.input("学段", stage.label()).input("救助标准", grant);
    Ok(Calculation {
        amount: grant,
        unit: AmountUnit::OneOff,
        explanation: ex,
    })
}

/// 受灾人员救助 (one-off) for one relief stage: per household for housing
/// reconstruction and bereavement, otherwise per affected person.
pub fn disaster(
    event_name: &str,
    stage: ReliefStage,
    persons: u32,
    grant: Fen,
) -> Result<Calculation, CalcError> {
    non_negative("救助标准", grant)?;
    let mut ex = Explanation::new(if stage.per_household() {
        "救助金 = 每户救助标准"
    } else {
        "救助金 = 每人救助标准 × 受灾人数"
    });
    ex.input("灾害事件", event_name)
        .input("救助阶段", stage.label())
        .input("救助标准", grant);
    let amount = if stage.per_household() {
        grant
    } else {
        if persons == 0 {
            return Err(CalcError::NoMembers);
        }
        ex.input("受灾人数", count(persons));
        grant
            .checked_mul(i64::from(persons))
            .ok_or(CalcError::Overflow)?
    };
    ex.step("救助金", amount);
    Ok(Calculation {
        amount,
        unit: AmountUnit::OneOff,
        explanation: ex,
    })
}

/// 精简退职老职工救济 (monthly): 40% (parameter) of the original standard wage, or
/// the fixed regular relief amount.
pub fn laid_off_worker(
    regime: LaidOffRegime,
    original_wage: Option<Fen>,
    ratio: Ratio,
    fixed: Fen,
    rounding: Rounding,
) -> Result<Calculation, CalcError> {
    let mut ex;
    let amount = match regime {
        LaidOffRegime::FortyPercent => {
            let wage = original_wage
                .ok_or_else(|| CalcError::Invalid("缺少本人原标准工资".to_string()))?;
            non_negative("原标准工资", wage)?;
            ex = Explanation::new(format_args!(
                "救济金 = 原标准工资 × 救济比例；{}",
                rounding.label()
            ));
            ex.input("原标准工资", wage).input("救济比例", ratio);
            round(rounding, ratio.of(wage))?
        }
        LaidOffRegime::RegularFixed => {
            non_negative("定期救济金额", fixed)?;
            ex = Explanation::new("救济金 = 定期定量救济标准");
            ex.input("定期救济标准", fixed);
            fixed
        }
    };
    ex.input("救济方式", regime.label());
    ex.step("月救济金", amount);
    Ok(Calculation {
        amount,
        unit: AmountUnit::Monthly,
        explanation: ex,
    })
}

// ---------------------------------------------------------------------------
// 高龄津贴 (docs/rules.md §9)
// ---------------------------------------------------------------------------

/// The age that decides the band for `month`. With `SameMonth`, reaching an age at
/// any day of the month counts for that month (age on its last day). With
/// `NextMonth`, it counts from the following month (age on the last day of the
/// previous month). Uses `IdNumber::age_at`, whose birthday counts (满N周岁).
pub fn age_for_month(id: &IdNumber, month: YearMonth, rule: AgeStartRule) -> u32 {
    match rule {
        AgeStartRule::SameMonth => id.age_at(month.last_day()),
        AgeStartRule::NextMonth => id.age_at(month.prev().last_day()),
    }
}

/// 高龄津贴 for `month` (monthly). Not eligible below the lowest band.
pub fn old_age_allowance(
    id: &IdNumber,
    month: YearMonth,
    bands: &[AgeBand],
    rule: AgeStartRule,
) -> Result<Calculation, CalcError> {
    let age = age_for_month(id, month, rule);
    let mut ex = Explanation::new("高龄津贴 = 所在年龄段月标准");
    ex.input("出生日期", id.birth_date())
        .input("发放月份", month)
        .input(
            "起始规则",
            match rule {
                AgeStartRule::SameMonth => "达到年龄当月起",
                AgeStartRule::NextMonth => "达到年龄次月起",
            },
        );
    ex.step("计算年龄", format_args!("{age}周岁"));
    let band = bands
        .iter()
        .find(|b| b.contains(age))
        .ok_or_else(|| CalcError::NotEligible(format!("{age}周岁不在高龄津贴年龄段内")))?;
    ex.step("年龄段", band.label());
    ex.step("月津贴", band.monthly);
    Ok(Calculation {
        amount: band.monthly,
        unit: AmountUnit::Monthly,
        explanation: ex,
    })
}

/// 高龄津贴档次变化 — what the monthly auto-proposal job should do for one person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "change")]
pub enum BandChange {
    /// 新增: enters the first band this month.
    Start { band: AgeBand },
    /// 停旧增新: moves to a higher band this month (e.g. turning 90).
    Regrade { from: AgeBand, to: AgeBand },
}

/// Compares the band for `month` with the band for the month before (people turning
/// 90 or 100 in a month are re-graded; docs/rules.md §9). `None` = no change.
pub fn old_age_band_change(
    id: &IdNumber,
    month: YearMonth,
    bands: &[AgeBand],
    rule: AgeStartRule,
) -> Option<BandChange> {
    let band_at = |m: YearMonth| {
        let age = age_for_month(id, m, rule);
        bands.iter().find(|b| b.contains(age)).cloned()
    };
    match (band_at(month.prev()), band_at(month)) {
        (None, Some(band)) => Some(BandChange::Start { band }),
        (Some(from), Some(to)) if from != to => Some(BandChange::Regrade { from, to }),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// 优抚 (《军人抚恤优待条例》; docs/rules.md §9)
// ---------------------------------------------------------------------------

/// An annual amount paid monthly: January–November pay `monthly` = `floor(年标准 ÷ 12)`,
/// December pays `monthly + year_end_extra`, so the twelve payments add up to the annual
/// figure exactly (docs/rules.md §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AnnualInstalments {
    pub annual: Fen,
    pub monthly: Fen,
    /// 年末补足: what December pays on top of `monthly` (0–11 fen).
    pub year_end_extra: Fen,
}

impl AnnualInstalments {
    pub fn of(annual: Fen) -> AnnualInstalments {
        let monthly = annual.0.div_euclid(12);
        AnnualInstalments {
            annual,
            monthly: Fen(monthly),
            year_end_extra: Fen(annual.0 - monthly * 12),
        }
    }

    /// December's payment: the month's share and the year's remainder.
    pub fn december(&self) -> Fen {
        Fen(self.monthly.0 + self.year_end_extra.0)
    }

    /// The payment for `month`.
    pub fn for_month(&self, month: YearMonth) -> Fen {
        if month.month() == 12 {
            self.december()
        } else {
            self.monthly
        }
    }
}

/// The annual standard (年抚恤标准) of the table row for a category, grade and cause, with
/// the checks of [`preferential_care`].
pub fn preferential_care_annual(
    table: &[CareRow],
    category: CareCategory,
    grade: Option<u8>,
    cause: Option<DisabilityCause>,
) -> Result<Fen, CalcError> {
    care_row(table, category, grade, cause).map(|r| r.annual)
}

fn care_row(
    table: &[CareRow],
    category: CareCategory,
    grade: Option<u8>,
    cause: Option<DisabilityCause>,
) -> Result<&CareRow, CalcError> {
    if category == CareCategory::DisabledServiceman {
        let g = grade.ok_or_else(|| CalcError::Invalid("残疾军人须有残疾等级".to_string()))?;
        let c = cause.ok_or_else(|| CalcError::Invalid("残疾军人须有致残性质".to_string()))?;
        if !(1..=10).contains(&g) {
            return Err(CalcError::Invalid(format!(
                "残疾等级应为1至10级，实为{g}级"
            )));
        }
        if c == DisabilityCause::Illness && g > 6 {
            return Err(CalcError::Invalid("因病致残只评定1至6级".to_string()));
        }
    }
    let (grade, cause) = if category == CareCategory::DisabledServiceman {
        (grade, cause)
    } else {
        (None, None)
    };
    let row = table
        .iter()
        .find(|r| r.category == category && r.grade == grade && r.cause == cause)
        .ok_or_else(|| {
            CalcError::Invalid(format!(
                "优抚标准表中没有“{}{}{}”",
                category.label(),
                grade.map(|g| format!("{g}级")).unwrap_or_default(),
                cause.map(|c| c.label()).unwrap_or_default()
            ))
        })?;
    non_negative("年抚恤标准", row.annual)?;
    Ok(row)
}

/// 优抚金 for one month from the annual table. The annual amount is authoritative
/// (docs/rules.md §9): January–November pay `floor(年标准 ÷ 12)` and December pays the
/// remainder, so twelve payments always add up to the table figure ([`AnnualInstalments`];
/// the enrolment keeps both parts).
pub fn preferential_care(
    table: &[CareRow],
    category: CareCategory,
    grade: Option<u8>,
    cause: Option<DisabilityCause>,
    month: YearMonth,
) -> Result<Calculation, CalcError> {
    let row = care_row(table, category, grade, cause)?;
    let (grade, cause) = (row.grade, row.cause);
    let mut ex = Explanation::new("月发放额 = 年标准 ÷ 12 (1—11月取整到分，12月补足全年差额)");
    ex.input("优抚类别", category.label());
    if let Some(g) = grade {
        ex.input("残疾等级", format_args!("{g}级"));
    }
    if let Some(c) = cause {
        ex.input("致残性质", c.label());
    }
    ex.input("年标准", row.annual).input("发放月份", month);
    let amount = AnnualInstalments::of(row.annual).for_month(month);
    ex.step("年标准 ÷ 12", Exact::new(row.annual.0.into(), 12).yuan());
    ex.step("本月发放", amount);
    Ok(Calculation {
        amount,
        unit: AmountUnit::Monthly,
        explanation: ex,
    })
}

#[cfg(test)]
mod tests;
