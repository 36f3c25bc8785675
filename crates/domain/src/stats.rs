//! 统计月报 — the monthly statistics the bureau reports, derived from the ledgers: the
//! enrolments (在保、新增、停保、one-off payments of the month), the payroll lines of
//! signed-off batches (支出) and the registry's persons (低保对象的构成). Never typed.
//!
//! The store reads each table once, grouped by township, into [`Facts`]; facts are
//! additive, so a county's and the city's are the sums of their townships' (rolled up
//! here, not in SQL). The report's rows are [`StatItem`]s, each a function of the facts,
//! with its unit and the records that make it ([`Drill`]). [`warnings`] names what looks
//! inconsistent. A locked month keeps its townships' facts as they were (docs/stats.md).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::case_calc::CaseDetails;
use crate::programs::{CareLevel, SupportMode};
use crate::{Program, YearMonth};

/// What one program's enrolments and payroll lines say about a township in a month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgramFacts {
    /// 在保: enrolments paid by the month (started, not ended before it), monthly programs.
    pub live: i64,
    /// 本月新增: monthly enrolments whose first month is this one.
    pub new: i64,
    /// 本月停保: monthly enrolments whose last month is this one.
    pub exited: i64,
    /// 人次: one-off enrolments paid in this month.
    pub once: i64,
    /// 应发: what the payable enrolments pay this month (the payroll's own rule).
    pub due_fen: i64,
    /// Signed-off batches of the month (签发, exported, reconciled or closed).
    pub signed_batches: i64,
    /// Batches of the month still drafts.
    pub draft_batches: i64,
    /// Lines of the signed-off batches, and what they pay (支出).
    pub paid_lines: i64,
    pub paid_fen: i64,
    /// Of those, the month's own regular lines (no back pay, re-issue or top-up).
    pub regular_fen: i64,
}

impl ProgramFacts {
    fn add(&mut self, o: &ProgramFacts) {
        self.live += o.live;
        self.new += o.new;
        self.exited += o.exited;
        self.once += o.once;
        self.due_fen += o.due_fen;
        self.signed_batches += o.signed_batches;
        self.draft_batches += o.draft_batches;
        self.paid_lines += o.paid_lines;
        self.paid_fen += o.paid_fen;
        self.regular_fen += o.regular_fen;
    }

    fn is_empty(&self) -> bool {
        *self == ProgramFacts::default()
    }
}

/// The persons of the month's 城市/农村低保 households (counted members on the register in
/// the month), by age group, gender, disability and labour ability.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caseload {
    pub persons: i64,
    pub minors: i64,
    pub adults: i64,
    pub elderly: i64,
    pub male: i64,
    pub female: i64,
    pub disabled: i64,
    pub work_full: i64,
    pub work_partial: i64,
    pub work_none: i64,
}

impl Caseload {
    fn add(&mut self, o: &Caseload) {
        self.persons += o.persons;
        self.minors += o.minors;
        self.adults += o.adults;
        self.elderly += o.elderly;
        self.male += o.male;
        self.female += o.female;
        self.disabled += o.disabled;
        self.work_full += o.work_full;
        self.work_partial += o.work_partial;
        self.work_none += o.work_none;
    }
}

/// A township's facts for a month (or a county's, the city's: their sums).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub programs: BTreeMap<Program, ProgramFacts>,
    /// The persons of live 城市低保 and 农村低保 households.
    pub urban_caseload: Caseload,
    pub rural_caseload: Caseload,
    /// 特困: live enrolments by 供养方式 (from the case), and by 生活自理能力.
    pub tekun_centralized: i64,
    pub tekun_dispersed: i64,
    pub tekun_mode_unrecorded: i64,
    pub tekun_self_reliant: i64,
    pub tekun_partial: i64,
    pub tekun_full: i64,
    pub tekun_unassessed: i64,
    /// 高龄津贴: live enrolments by the beneficiary's age on the month's last day.
    pub old_age_80: i64,
    pub old_age_90: i64,
    pub old_age_100: i64,
    pub old_age_other: i64,
}

impl Facts {
    /// Adds another unit's facts (a township to its county, a county to the city).
    pub fn add(&mut self, o: &Facts) {
        for (p, f) in &o.programs {
            self.programs.entry(*p).or_default().add(f);
        }
        self.urban_caseload.add(&o.urban_caseload);
        self.rural_caseload.add(&o.rural_caseload);
        self.tekun_centralized += o.tekun_centralized;
        self.tekun_dispersed += o.tekun_dispersed;
        self.tekun_mode_unrecorded += o.tekun_mode_unrecorded;
        self.tekun_self_reliant += o.tekun_self_reliant;
        self.tekun_partial += o.tekun_partial;
        self.tekun_full += o.tekun_full;
        self.tekun_unassessed += o.tekun_unassessed;
        self.old_age_80 += o.old_age_80;
        self.old_age_90 += o.old_age_90;
        self.old_age_100 += o.old_age_100;
        self.old_age_other += o.old_age_other;
    }

    /// One program's facts (zeros when it has none).
    pub fn program(&self, p: Program) -> ProgramFacts {
        self.programs.get(&p).cloned().unwrap_or_default()
    }

    /// Whether the ledgers hold nothing at all for the unit this month.
    pub fn is_empty(&self) -> bool {
        self.programs.values().all(ProgramFacts::is_empty)
            && self.urban_caseload.persons == 0
            && self.rural_caseload.persons == 0
    }

    /// Counts one live 特困 enrolment by its case's details (`None`: no case behind it).
    pub fn count_tekun(&mut self, details: Option<&CaseDetails>, n: i64) {
        match details.and_then(|d| d.support_mode) {
            Some(SupportMode::Centralized) => self.tekun_centralized += n,
            Some(SupportMode::Dispersed) => self.tekun_dispersed += n,
            None => self.tekun_mode_unrecorded += n,
        }
        match tekun_care(details) {
            Some(CareLevel::SelfReliant) => self.tekun_self_reliant += n,
            Some(CareLevel::Partial) => self.tekun_partial += n,
            Some(CareLevel::Full) => self.tekun_full += n,
            None => self.tekun_unassessed += n,
        }
    }

    /// Counts live 高龄津贴 enrolments of a band.
    pub fn count_old_age(&mut self, band: Option<OldAgeBand>, n: i64) {
        match band {
            Some(OldAgeBand::From80) => self.old_age_80 += n,
            Some(OldAgeBand::From90) => self.old_age_90 += n,
            Some(OldAgeBand::From100) => self.old_age_100 += n,
            None => self.old_age_other += n,
        }
    }
}

/// How enrolments of one start month, end month, status and payment count in a month:
/// the rules the report and the payroll share (docs/stats.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// 在保: a monthly enrolment paid by the month (started, not ended before it; an ended
    /// enrolment without an end month never paid).
    pub live: bool,
    /// Its first month is this one (monthly).
    pub new: bool,
    /// Its last month is this one (monthly).
    pub exited: bool,
    /// A one-off enrolment paid in this month.
    pub once: bool,
    /// The payroll pays it this month (a 渐退 enrolment past its grace aside, which the
    /// caller takes off).
    pub payable: bool,
}

impl Counts {
    /// `start`, `end` as `YYYY-MM`; `status` and `payment` as stored.
    pub fn of(
        month: YearMonth,
        start: &str,
        end: Option<&str>,
        status: &str,
        payment: &str,
    ) -> Counts {
        let m = month.to_string();
        let m = m.as_str();
        let monthly = payment == "monthly";
        let started = start <= m;
        let not_ended = end.is_none_or(|e| e >= m);
        let paid_ever = status != "ended" || end.is_some();
        Counts {
            live: monthly && started && not_ended && paid_ever,
            new: monthly && start == m,
            exited: monthly && end == Some(m),
            once: !monthly && start == m && paid_ever,
            payable: (matches!(status, "active" | "grace") || (status == "ended" && end.is_some()))
                && started
                && not_ended
                && (monthly || start == m),
        }
    }
}

/// A 特困 beneficiary's self-care level, from the assessment on the case (`None`: not assessed).
pub fn tekun_care(details: Option<&CaseDetails>) -> Option<CareLevel> {
    details.and_then(|d| d.assessment).map(|a| a.level())
}

/// A 特困 beneficiary's support mode, from the case (`None`: not recorded).
pub fn tekun_mode(details: Option<&CaseDetails>) -> Option<SupportMode> {
    details.and_then(|d| d.support_mode)
}

crate::coded_enum! {
    /// 高龄津贴's report bands: the beneficiary's age on the month's last day.
    pub enum OldAgeBand {
        From80 = ("80", "80-89周岁"),
        From90 = ("90", "90-99周岁"),
        From100 = ("100", "100周岁及以上"),
    }
}

impl OldAgeBand {
    fn years(self) -> i32 {
        match self {
            OldAgeBand::From80 => 80,
            OldAgeBand::From90 => 90,
            OldAgeBand::From100 => 100,
        }
    }
}

/// `day` minus `years` (29 February becomes the 28th in a common year).
fn years_before(day: NaiveDate, years: i32) -> NaiveDate {
    let y = day.year() - years;
    NaiveDate::from_ymd_opt(y, day.month(), day.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, day.month(), day.day() - 1))
        .unwrap_or(day)
}

/// The birth-date limits (`YYYY-MM-DD`) of the age groups on the month's last day: born
/// after `minor_after` → under 18; born on or before `elderly_until` → 60 or older; and
/// the 高龄 bands' limits (born on or before → at least that age).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeLimits {
    pub minor_after: String,
    pub elderly_until: String,
    pub age80_until: String,
    pub age90_until: String,
    pub age100_until: String,
}

impl AgeLimits {
    pub fn of(month: YearMonth) -> AgeLimits {
        let last = month.last_day();
        let d = |y: i32| years_before(last, y).format("%Y-%m-%d").to_string();
        AgeLimits {
            minor_after: d(18),
            elderly_until: d(60),
            age80_until: d(OldAgeBand::From80.years()),
            age90_until: d(OldAgeBand::From90.years()),
            age100_until: d(OldAgeBand::From100.years()),
        }
    }
}

/// The programs the report has rows for, monthly ones first.
pub const MONTHLY_PROGRAMS: [Program; 6] = [
    Program::UrbanDibao,
    Program::RuralDibao,
    Program::SinglePersonDibao,
    Program::Tekun,
    Program::OldAgeAllowance,
    Program::PreferentialCare,
];
pub const ONE_OFF_PROGRAMS: [Program; 3] = [
    Program::TemporaryAssistance,
    Program::MedicalAssistance,
    Program::EducationAssistance,
];

crate::coded_enum! {
    /// A row of the report (指标).
    pub enum StatItem {
        UrbanHouseholds = ("urban_households", "城市低保 户数"),
        UrbanPersons = ("urban_persons", "城市低保 人数"),
        UrbanNew = ("urban_new", "城市低保 本月新增户数"),
        UrbanExited = ("urban_exited", "城市低保 本月停保户数"),
        UrbanFen = ("urban_fen", "城市低保 本月支出"),
        RuralHouseholds = ("rural_households", "农村低保 户数"),
        RuralPersons = ("rural_persons", "农村低保 人数"),
        RuralNew = ("rural_new", "农村低保 本月新增户数"),
        RuralExited = ("rural_exited", "农村低保 本月停保户数"),
        RuralFen = ("rural_fen", "农村低保 本月支出"),
        SinglePersons = ("single_persons", "单人保 人数"),
        SingleFen = ("single_fen", "单人保 本月支出"),
        TekunPersons = ("tekun_persons", "特困人员 人数"),
        TekunCentralized = ("tekun_centralized", "特困人员 集中供养"),
        TekunDispersed = ("tekun_dispersed", "特困人员 分散供养"),
        TekunSelfReliant = ("tekun_self_reliant", "特困人员 具备生活自理能力"),
        TekunPartial = ("tekun_partial", "特困人员 部分丧失生活自理能力"),
        TekunFull = ("tekun_full", "特困人员 完全丧失生活自理能力"),
        TekunFen = ("tekun_fen", "特困人员 本月支出"),
        TemporaryTimes = ("temporary_times", "临时救助 人次"),
        TemporaryFen = ("temporary_fen", "临时救助 金额"),
        MedicalTimes = ("medical_times", "医疗救助 人次"),
        MedicalFen = ("medical_fen", "医疗救助 金额"),
        EducationTimes = ("education_times", "教育救助 人次"),
        EducationFen = ("education_fen", "教育救助 金额"),
        OldAge80 = ("old_age_80", "高龄津贴 80-89周岁"),
        OldAge90 = ("old_age_90", "高龄津贴 90-99周岁"),
        OldAge100 = ("old_age_100", "高龄津贴 100周岁及以上"),
        OldAgeFen = ("old_age_fen", "高龄津贴 本月支出"),
        CarePersons = ("care_persons", "优抚对象 人数"),
        CareFen = ("care_fen", "优抚 本月支出"),
        CaseMinors = ("case_minors", "低保对象 未满18周岁"),
        CaseAdults = ("case_adults", "低保对象 18-59周岁"),
        CaseElderly = ("case_elderly", "低保对象 60周岁及以上"),
        CaseMale = ("case_male", "低保对象 男"),
        CaseFemale = ("case_female", "低保对象 女"),
        CaseDisabled = ("case_disabled", "低保对象 残疾人"),
        CaseWorkFull = ("case_work_full", "低保对象 有劳动能力"),
        CaseWorkPartial = ("case_work_partial", "低保对象 部分丧失劳动能力"),
        CaseWorkNone = ("case_work_none", "低保对象 无劳动能力"),
    }
}

/// The report's sections: a title and its rows, in the report's order.
pub const SECTIONS: &[(&str, &[StatItem])] = {
    use StatItem as I;
    &[
        (
            "城市最低生活保障",
            &[
                I::UrbanHouseholds,
                I::UrbanPersons,
                I::UrbanNew,
                I::UrbanExited,
                I::UrbanFen,
            ],
        ),
        (
            "农村最低生活保障",
            &[
                I::RuralHouseholds,
                I::RuralPersons,
                I::RuralNew,
                I::RuralExited,
                I::RuralFen,
            ],
        ),
        ("单人保", &[I::SinglePersons, I::SingleFen]),
        (
            "特困人员救助供养",
            &[
                I::TekunPersons,
                I::TekunCentralized,
                I::TekunDispersed,
                I::TekunSelfReliant,
                I::TekunPartial,
                I::TekunFull,
                I::TekunFen,
            ],
        ),
        ("临时救助", &[I::TemporaryTimes, I::TemporaryFen]),
        (
            "医疗救助、教育救助",
            &[
                I::MedicalTimes,
                I::MedicalFen,
                I::EducationTimes,
                I::EducationFen,
            ],
        ),
        (
            "高龄津贴",
            &[I::OldAge80, I::OldAge90, I::OldAge100, I::OldAgeFen],
        ),
        ("优抚", &[I::CarePersons, I::CareFen]),
        (
            "城乡低保对象构成",
            &[
                I::CaseMinors,
                I::CaseAdults,
                I::CaseElderly,
                I::CaseMale,
                I::CaseFemale,
                I::CaseDisabled,
                I::CaseWorkFull,
                I::CaseWorkPartial,
                I::CaseWorkNone,
            ],
        ),
    ]
};

/// Which 低保对象 a caseload row counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonFilter {
    All,
    Minors,
    Adults,
    Elderly,
    Male,
    Female,
    Disabled,
    WorkFull,
    WorkPartial,
    WorkNone,
}

/// Which enrolments an enrolment row counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrolmentFilter {
    /// 在保.
    Live,
    /// 本月新增.
    New,
    /// 本月停保.
    Exited,
    /// One-off payments of the month.
    Once,
    /// Live, of a 高龄 band.
    Band(OldAgeBand),
    /// Live 特困 of a support mode.
    Mode(SupportMode),
    /// Live 特困 of a self-care level.
    Care(CareLevel),
}

/// The records behind a row (下钻).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "source")]
pub enum Drill {
    /// Enrolments of the programs.
    Enrolments {
        program: Program,
        filter: EnrolmentFilter,
    },
    /// Lines of the month's signed-off payroll batches of the program.
    Payroll { program: Program },
    /// Persons of the live 低保 households of the programs (urban, rural or both).
    Persons {
        programs: &'static [Program],
        filter: PersonFilter,
    },
}

const DIBAO: &[Program] = &[Program::UrbanDibao, Program::RuralDibao];
const URBAN: &[Program] = &[Program::UrbanDibao];
const RURAL: &[Program] = &[Program::RuralDibao];

impl StatItem {
    /// 户, 人, 人次 or 元.
    pub fn unit(self) -> &'static str {
        use StatItem as I;
        match self {
            I::UrbanHouseholds | I::UrbanNew | I::UrbanExited => "户",
            I::RuralHouseholds | I::RuralNew | I::RuralExited => "户",
            I::TemporaryTimes | I::MedicalTimes | I::EducationTimes => "人次",
            i if i.is_money() => "元",
            _ => "人",
        }
    }

    /// Whether the value is an amount (fen; shown and written as yuan).
    pub fn is_money(self) -> bool {
        self.as_str().ends_with("_fen")
    }

    /// The value of the row for a unit's facts (amounts in fen).
    pub fn value(self, f: &Facts) -> i64 {
        use StatItem as I;
        let p = |p: Program| f.program(p);
        match self {
            I::UrbanHouseholds => p(Program::UrbanDibao).live,
            I::UrbanPersons => f.urban_caseload.persons,
            I::UrbanNew => p(Program::UrbanDibao).new,
            I::UrbanExited => p(Program::UrbanDibao).exited,
            I::UrbanFen => p(Program::UrbanDibao).paid_fen,
            I::RuralHouseholds => p(Program::RuralDibao).live,
            I::RuralPersons => f.rural_caseload.persons,
            I::RuralNew => p(Program::RuralDibao).new,
            I::RuralExited => p(Program::RuralDibao).exited,
            I::RuralFen => p(Program::RuralDibao).paid_fen,
            I::SinglePersons => p(Program::SinglePersonDibao).live,
            I::SingleFen => p(Program::SinglePersonDibao).paid_fen,
            I::TekunPersons => p(Program::Tekun).live,
            I::TekunCentralized => f.tekun_centralized,
            I::TekunDispersed => f.tekun_dispersed,
            I::TekunSelfReliant => f.tekun_self_reliant,
            I::TekunPartial => f.tekun_partial,
            I::TekunFull => f.tekun_full,
            I::TekunFen => p(Program::Tekun).paid_fen,
            I::TemporaryTimes => p(Program::TemporaryAssistance).once,
            I::TemporaryFen => p(Program::TemporaryAssistance).paid_fen,
            I::MedicalTimes => p(Program::MedicalAssistance).once,
            I::MedicalFen => p(Program::MedicalAssistance).paid_fen,
            I::EducationTimes => p(Program::EducationAssistance).once,
            I::EducationFen => p(Program::EducationAssistance).paid_fen,
            I::OldAge80 => f.old_age_80,
            I::OldAge90 => f.old_age_90,
            I::OldAge100 => f.old_age_100,
            I::OldAgeFen => p(Program::OldAgeAllowance).paid_fen,
            I::CarePersons => p(Program::PreferentialCare).live,
            I::CareFen => p(Program::PreferentialCare).paid_fen,
            I::CaseMinors => f.urban_caseload.minors + f.rural_caseload.minors,
            I::CaseAdults => f.urban_caseload.adults + f.rural_caseload.adults,
            I::CaseElderly => f.urban_caseload.elderly + f.rural_caseload.elderly,
            I::CaseMale => f.urban_caseload.male + f.rural_caseload.male,
            I::CaseFemale => f.urban_caseload.female + f.rural_caseload.female,
            I::CaseDisabled => f.urban_caseload.disabled + f.rural_caseload.disabled,
            I::CaseWorkFull => f.urban_caseload.work_full + f.rural_caseload.work_full,
            I::CaseWorkPartial => f.urban_caseload.work_partial + f.rural_caseload.work_partial,
            I::CaseWorkNone => f.urban_caseload.work_none + f.rural_caseload.work_none,
        }
    }

    /// The records that make the row.
    pub fn drill(self) -> Drill {
        use EnrolmentFilter as F;
        use Program as P;
        use StatItem as I;
        let e = |program, filter| Drill::Enrolments { program, filter };
        let pay = |program| Drill::Payroll { program };
        let persons = |programs, filter| Drill::Persons { programs, filter };
        match self {
            I::UrbanHouseholds => e(P::UrbanDibao, F::Live),
            I::UrbanPersons => persons(URBAN, PersonFilter::All),
            I::UrbanNew => e(P::UrbanDibao, F::New),
            I::UrbanExited => e(P::UrbanDibao, F::Exited),
            I::UrbanFen => pay(P::UrbanDibao),
            I::RuralHouseholds => e(P::RuralDibao, F::Live),
            I::RuralPersons => persons(RURAL, PersonFilter::All),
            I::RuralNew => e(P::RuralDibao, F::New),
            I::RuralExited => e(P::RuralDibao, F::Exited),
            I::RuralFen => pay(P::RuralDibao),
            I::SinglePersons => e(P::SinglePersonDibao, F::Live),
            I::SingleFen => pay(P::SinglePersonDibao),
            I::TekunPersons => e(P::Tekun, F::Live),
            I::TekunCentralized => e(P::Tekun, F::Mode(SupportMode::Centralized)),
            I::TekunDispersed => e(P::Tekun, F::Mode(SupportMode::Dispersed)),
            I::TekunSelfReliant => e(P::Tekun, F::Care(CareLevel::SelfReliant)),
            I::TekunPartial => e(P::Tekun, F::Care(CareLevel::Partial)),
            I::TekunFull => e(P::Tekun, F::Care(CareLevel::Full)),
            I::TekunFen => pay(P::Tekun),
            I::TemporaryTimes => e(P::TemporaryAssistance, F::Once),
            I::TemporaryFen => pay(P::TemporaryAssistance),
            I::MedicalTimes => e(P::MedicalAssistance, F::Once),
            I::MedicalFen => pay(P::MedicalAssistance),
            I::EducationTimes => e(P::EducationAssistance, F::Once),
            I::EducationFen => pay(P::EducationAssistance),
            I::OldAge80 => e(P::OldAgeAllowance, F::Band(OldAgeBand::From80)),
            I::OldAge90 => e(P::OldAgeAllowance, F::Band(OldAgeBand::From90)),
            I::OldAge100 => e(P::OldAgeAllowance, F::Band(OldAgeBand::From100)),
            I::OldAgeFen => pay(P::OldAgeAllowance),
            I::CarePersons => e(P::PreferentialCare, F::Live),
            I::CareFen => pay(P::PreferentialCare),
            I::CaseMinors => persons(DIBAO, PersonFilter::Minors),
            I::CaseAdults => persons(DIBAO, PersonFilter::Adults),
            I::CaseElderly => persons(DIBAO, PersonFilter::Elderly),
            I::CaseMale => persons(DIBAO, PersonFilter::Male),
            I::CaseFemale => persons(DIBAO, PersonFilter::Female),
            I::CaseDisabled => persons(DIBAO, PersonFilter::Disabled),
            I::CaseWorkFull => persons(DIBAO, PersonFilter::WorkFull),
            I::CaseWorkPartial => persons(DIBAO, PersonFilter::WorkPartial),
            I::CaseWorkNone => persons(DIBAO, PersonFilter::WorkNone),
        }
    }

    /// The value as shown: a count, or yuan with two decimals.
    pub fn display(self, v: i64) -> String {
        if self.is_money() {
            crate::Fen(v).yuan_string()
        } else {
            v.to_string()
        }
    }
}

/// The program's name as the report's rows say it (城市低保, 特困人员 …).
pub fn short_label(p: Program) -> &'static str {
    match p {
        Program::UrbanDibao => "城市低保",
        Program::RuralDibao => "农村低保",
        Program::Tekun => "特困人员",
        other => other.label(),
    }
}

/// A consistency warning (数据校验提示): what looks wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The township it concerns.
    pub township_code: String,
    pub message: String,
}

/// What looks inconsistent in the townships' facts of a month (each a township code, its
/// name and facts): persons fewer than households; a program with live enrolments whose
/// month has no signed-off payroll, or whose signed-off regular lines differ from what
/// the payable enrolments pay; 特困 without a recorded support mode; a township with no
/// figures at all (not yet reporting).
pub fn warnings(units: &[(String, String, Facts)]) -> Vec<Warning> {
    let mut out = Vec::new();
    for (code, name, f) in units {
        let mut w = |message: String| {
            out.push(Warning {
                township_code: code.clone(),
                message,
            })
        };
        if f.is_empty() {
            w(format!("{name}本月没有任何统计数据，请核实是否漏报"));
            continue;
        }
        for (p, c) in [
            (Program::UrbanDibao, &f.urban_caseload),
            (Program::RuralDibao, &f.rural_caseload),
        ] {
            let households = f.program(p).live;
            if c.persons < households {
                w(format!(
                    "{name}{}人数（{}人）少于户数（{}户），请核实家庭成员登记",
                    short_label(p),
                    c.persons,
                    households
                ));
            }
        }
        for p in MONTHLY_PROGRAMS.iter().chain(ONE_OFF_PROGRAMS.iter()) {
            let pf = f.program(*p);
            if pf.due_fen == 0 && pf.paid_fen == 0 {
                continue;
            }
            if pf.signed_batches == 0 {
                let why = if pf.draft_batches > 0 {
                    "发放批次尚未签发"
                } else {
                    "尚未生成发放批次"
                };
                w(format!(
                    "{name}{}本月应发{}，{why}，支出按0计",
                    short_label(*p),
                    crate::Fen(pf.due_fen)
                ));
            } else if pf.regular_fen != pf.due_fen {
                w(format!(
                    "{name}{}本月已签发的当月发放{}与在保对象应发{}不一致",
                    short_label(*p),
                    crate::Fen(pf.regular_fen),
                    crate::Fen(pf.due_fen)
                ));
            }
        }
        if f.tekun_mode_unrecorded > 0 {
            w(format!(
                "{name}有{}名特困人员未登记供养方式",
                f.tekun_mode_unrecorded
            ));
        }
    }
    out
}

/// An enrolment behind a row.
#[derive(Debug, Clone, Serialize)]
pub struct EnrolmentRecord {
    pub enrolment_id: i64,
    pub program: Program,
    pub household_id: i64,
    pub case_id: Option<i64>,
    pub township_code: String,
    pub village_code: String,
    pub name: String,
    pub id_number: String,
    pub monthly_fen: i64,
    pub start_month: String,
    pub end_month: Option<String>,
    pub status: crate::cases::EnrolmentStatus,
    /// 特困: the case's support mode and self-care level.
    pub support_mode: Option<SupportMode>,
    pub care_level: Option<CareLevel>,
}

/// A payroll line behind an expenditure row.
#[derive(Debug, Clone, Serialize)]
pub struct LineRecord {
    pub line_id: i64,
    pub batch_id: i64,
    pub batch_no: String,
    pub kind: crate::payroll::LineKind,
    pub period: String,
    pub township_code: String,
    pub village_code: String,
    pub name: String,
    pub id_number: String,
    pub amount_fen: i64,
}

/// A person behind a 低保 persons row.
#[derive(Debug, Clone, Serialize)]
pub struct PersonRecord {
    pub person_id: i64,
    pub household_id: i64,
    pub program: Program,
    pub township_code: String,
    pub name: String,
    pub id_number: String,
    /// 男 or 女.
    pub gender: String,
    pub birth_date: String,
    pub disability_type: crate::registry::DisabilityType,
    pub work_capacity: crate::registry::WorkCapacity,
}

/// The records behind a row: one of the three kinds, the first page of them and how many
/// there are in all.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", content = "items", rename_all = "snake_case")]
pub enum Records {
    Enrolments(Vec<EnrolmentRecord>),
    Lines(Vec<LineRecord>),
    Persons(Vec<PersonRecord>),
}

impl Records {
    pub fn len(&self) -> usize {
        match self {
            Records::Enrolments(v) => v.len(),
            Records::Lines(v) => v.len(),
            Records::Persons(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// ID numbers masked (for roles that may not see them whole).
    pub fn masked(mut self) -> Self {
        match &mut self {
            Records::Enrolments(v) => v
                .iter_mut()
                .for_each(|r| r.id_number = crate::mask_id(&r.id_number)),
            Records::Lines(v) => v
                .iter_mut()
                .for_each(|r| r.id_number = crate::mask_id(&r.id_number)),
            Records::Persons(v) => v
                .iter_mut()
                .for_each(|r| r.id_number = crate::mask_id(&r.id_number)),
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calculators::SelfCareAssessment;

    #[test]
    fn age_limits_are_the_birth_dates_of_the_month_end() {
        let l = AgeLimits::of(YearMonth::parse("2026-02").unwrap());
        assert_eq!(l.minor_after, "2008-02-28");
        assert_eq!(l.elderly_until, "1966-02-28");
        assert_eq!(l.age80_until, "1946-02-28");
        assert_eq!(l.age100_until, "1926-02-28");
        // A leap-year month end: 29 February 2028 minus 18 years has no 29th.
        let l = AgeLimits::of(YearMonth::parse("2028-02").unwrap());
        assert_eq!(l.minor_after, "2010-02-28");
        assert_eq!(l.age80_until, "1948-02-29");
    }

    #[test]
    fn facts_add_up_and_items_read_them() {
        let mut a = Facts::default();
        a.programs.insert(
            Program::UrbanDibao,
            ProgramFacts {
                live: 2,
                paid_fen: 100,
                ..Default::default()
            },
        );
        a.urban_caseload.persons = 5;
        a.urban_caseload.minors = 1;
        let mut b = a.clone();
        b.rural_caseload.minors = 2;
        b.add(&a);
        assert_eq!(StatItem::UrbanHouseholds.value(&b), 4);
        assert_eq!(StatItem::UrbanPersons.value(&b), 10);
        assert_eq!(StatItem::UrbanFen.value(&b), 200);
        assert_eq!(StatItem::CaseMinors.value(&b), 4);
        assert_eq!(StatItem::UrbanFen.display(12345), "123.45");
        assert_eq!(StatItem::UrbanFen.unit(), "元");
        assert_eq!(StatItem::TemporaryTimes.unit(), "人次");
        assert_eq!(StatItem::RuralNew.unit(), "户");
    }

    #[test]
    fn counts_follow_the_payrolls_rules() {
        let m = YearMonth::parse("2026-11").unwrap();
        let c = Counts::of(m, "2026-01", None, "active", "monthly");
        assert!(c.live && c.payable && !c.new && !c.exited && !c.once);
        let c = Counts::of(m, "2026-11", None, "active", "monthly");
        assert!(c.live && c.new && c.payable);
        let c = Counts::of(m, "2026-03", Some("2026-11"), "ended", "monthly");
        assert!(c.live && c.exited && c.payable);
        let c = Counts::of(m, "2026-03", Some("2026-10"), "ended", "monthly");
        assert_eq!(c, Counts::default());
        let c = Counts::of(m, "2026-03", None, "suspended", "monthly");
        assert!(c.live && !c.payable);
        let c = Counts::of(m, "2026-11", None, "active", "once");
        assert!(c.once && c.payable && !c.live);
        let c = Counts::of(m, "2026-10", None, "active", "once");
        assert_eq!(c, Counts::default());
        let c = Counts::of(m, "2026-12", None, "active", "monthly");
        assert_eq!(c, Counts::default());
    }

    #[test]
    fn only_an_active_or_ended_enrolment_is_paid() {
        let m = YearMonth::parse("2026-11").unwrap();
        // Suspended with its last month ahead: counted as 在保, not paid.
        let c = Counts::of(m, "2026-03", Some("2026-12"), "suspended", "monthly");
        assert!(c.live && !c.payable);
        // Ended without a last month: it never paid.
        let c = Counts::of(m, "2026-03", None, "ended", "monthly");
        assert_eq!(c, Counts::default());
        // In its grace months: paid.
        let c = Counts::of(m, "2026-03", None, "grace", "monthly");
        assert!(c.live && c.payable);
    }

    #[test]
    fn a_month_without_any_batch_says_so() {
        let mut f = Facts::default();
        f.programs.insert(
            Program::RuralDibao,
            ProgramFacts {
                live: 1,
                due_fen: 63_000,
                ..Default::default()
            },
        );
        f.rural_caseload.persons = 1;
        // Lines paid though nothing is payable: the figures disagree.
        f.programs.insert(
            Program::OldAgeAllowance,
            ProgramFacts {
                signed_batches: 1,
                paid_lines: 1,
                paid_fen: 6_000,
                regular_fen: 6_000,
                ..Default::default()
            },
        );
        let w: Vec<String> = warnings(&[("511802001".into(), "甲镇".into(), f)])
            .into_iter()
            .map(|w| w.message)
            .collect();
        assert_eq!(
            w,
            [
                "甲镇农村低保本月应发630.00元，尚未生成发放批次，支出按0计",
                "甲镇高龄津贴本月已签发的当月发放60.00元与在保对象应发0.00元不一致",
            ]
        );
    }

    #[test]
    fn every_item_is_in_one_section() {
        for i in StatItem::ALL {
            let n = SECTIONS
                .iter()
                .filter(|(_, items)| items.contains(i))
                .count();
            assert_eq!(n, 1, "{i:?}");
        }
    }

    #[test]
    fn tekun_is_counted_by_its_case() {
        let mut f = Facts::default();
        let d = CaseDetails {
            support_mode: Some(SupportMode::Centralized),
            assessment: Some(SelfCareAssessment::all_met()),
            ..Default::default()
        };
        f.count_tekun(Some(&d), 2);
        f.count_tekun(None, 1);
        assert_eq!(
            (
                f.tekun_centralized,
                f.tekun_dispersed,
                f.tekun_mode_unrecorded
            ),
            (2, 0, 1)
        );
        assert_eq!((f.tekun_self_reliant, f.tekun_unassessed), (2, 1));
    }

    /// A township's facts whose every figure is `k` times a figure of its own, so that the
    /// sum of two townships' facts is the facts of their `k`s added.
    fn facts_times(k: i64) -> Facts {
        let program = |base: i64| ProgramFacts {
            live: k * base,
            new: k * (base + 1),
            exited: k * (base + 2),
            once: k * (base + 3),
            due_fen: k * (base + 4),
            signed_batches: k * (base + 5),
            draft_batches: k * (base + 6),
            paid_lines: k * (base + 7),
            paid_fen: k * (base + 8),
            regular_fen: k * (base + 9),
        };
        let caseload = |base: i64| Caseload {
            persons: k * base,
            minors: k * (base + 1),
            adults: k * (base + 2),
            elderly: k * (base + 3),
            male: k * (base + 4),
            female: k * (base + 5),
            disabled: k * (base + 6),
            work_full: k * (base + 7),
            work_partial: k * (base + 8),
            work_none: k * (base + 9),
        };
        let mut programs = BTreeMap::new();
        for (i, p) in Program::ALL.iter().enumerate() {
            programs.insert(*p, program(100 * (i as i64 + 1)));
        }
        Facts {
            programs,
            urban_caseload: caseload(2_000),
            rural_caseload: caseload(3_000),
            tekun_centralized: k * 11,
            tekun_dispersed: k * 12,
            tekun_mode_unrecorded: k * 13,
            tekun_self_reliant: k * 14,
            tekun_partial: k * 15,
            tekun_full: k * 16,
            tekun_unassessed: k * 17,
            old_age_80: k * 18,
            old_age_90: k * 19,
            old_age_100: k * 20,
            old_age_other: k * 21,
        }
    }

    #[test]
    fn a_countys_facts_are_the_sums_of_its_townships_every_figure() {
        let mut county = facts_times(2);
        county.add(&facts_times(3));
        assert_eq!(county, facts_times(5));
        // A program only one township has is taken as it is.
        let mut county = Facts::default();
        county.add(&facts_times(3));
        assert_eq!(county, facts_times(3));
    }

    #[test]
    fn every_row_reads_its_own_figure() {
        use StatItem as I;
        let f = facts_times(1);
        let p = |p: Program| f.program(p);
        let (u, r) = (&f.urban_caseload, &f.rural_caseload);
        let expected: Vec<(StatItem, i64)> = vec![
            (I::UrbanHouseholds, p(Program::UrbanDibao).live),
            (I::UrbanPersons, u.persons),
            (I::UrbanNew, p(Program::UrbanDibao).new),
            (I::UrbanExited, p(Program::UrbanDibao).exited),
            (I::UrbanFen, p(Program::UrbanDibao).paid_fen),
            (I::RuralHouseholds, p(Program::RuralDibao).live),
            (I::RuralPersons, r.persons),
            (I::RuralNew, p(Program::RuralDibao).new),
            (I::RuralExited, p(Program::RuralDibao).exited),
            (I::RuralFen, p(Program::RuralDibao).paid_fen),
            (I::SinglePersons, p(Program::SinglePersonDibao).live),
            (I::SingleFen, p(Program::SinglePersonDibao).paid_fen),
            (I::TekunPersons, p(Program::Tekun).live),
            (I::TekunCentralized, f.tekun_centralized),
            (I::TekunDispersed, f.tekun_dispersed),
            (I::TekunSelfReliant, f.tekun_self_reliant),
            (I::TekunPartial, f.tekun_partial),
            (I::TekunFull, f.tekun_full),
            (I::TekunFen, p(Program::Tekun).paid_fen),
            (I::TemporaryTimes, p(Program::TemporaryAssistance).once),
            (I::TemporaryFen, p(Program::TemporaryAssistance).paid_fen),
            (I::MedicalTimes, p(Program::MedicalAssistance).once),
            (I::MedicalFen, p(Program::MedicalAssistance).paid_fen),
            (I::EducationTimes, p(Program::EducationAssistance).once),
            (I::EducationFen, p(Program::EducationAssistance).paid_fen),
            (I::OldAge80, f.old_age_80),
            (I::OldAge90, f.old_age_90),
            (I::OldAge100, f.old_age_100),
            (I::OldAgeFen, p(Program::OldAgeAllowance).paid_fen),
            (I::CarePersons, p(Program::PreferentialCare).live),
            (I::CareFen, p(Program::PreferentialCare).paid_fen),
            // 低保对象: the urban and the rural households' persons together.
            (I::CaseMinors, 2_001 + 3_001),
            (I::CaseAdults, 2_002 + 3_002),
            (I::CaseElderly, 2_003 + 3_003),
            (I::CaseMale, 2_004 + 3_004),
            (I::CaseFemale, 2_005 + 3_005),
            (I::CaseDisabled, 2_006 + 3_006),
            (I::CaseWorkFull, 2_007 + 3_007),
            (I::CaseWorkPartial, 2_008 + 3_008),
            (I::CaseWorkNone, 2_009 + 3_009),
        ];
        assert_eq!(expected.len(), StatItem::ALL.len());
        for (item, v) in expected {
            assert_eq!(item.value(&f), v, "{item:?}");
        }
        // The figures are all different: a row reading another's figure would show.
        assert_eq!(p(Program::UrbanDibao).live, 100);
        assert_eq!(p(Program::RuralDibao).paid_fen, 208);
    }

    #[test]
    fn rows_have_their_units_and_amounts_show_as_yuan() {
        use StatItem as I;
        for i in [
            I::UrbanHouseholds,
            I::UrbanNew,
            I::RuralHouseholds,
            I::RuralExited,
        ] {
            assert_eq!(i.unit(), "户", "{i:?}");
        }
        for i in [I::TemporaryTimes, I::MedicalTimes, I::EducationTimes] {
            assert_eq!(i.unit(), "人次", "{i:?}");
        }
        for i in [I::UrbanFen, I::TekunFen, I::CareFen] {
            assert_eq!(i.unit(), "元", "{i:?}");
            assert!(i.is_money());
        }
        for i in [I::UrbanPersons, I::TekunFull, I::OldAge90, I::CaseWorkNone] {
            assert_eq!(i.unit(), "人", "{i:?}");
            assert!(!i.is_money());
        }
        assert_eq!(I::UrbanHouseholds.display(12345), "12345");
        assert_eq!(I::RuralFen.display(5), "0.05");
    }

    #[test]
    fn the_reports_names_of_programs() {
        assert_eq!(short_label(Program::UrbanDibao), "城市低保");
        assert_eq!(short_label(Program::RuralDibao), "农村低保");
        assert_eq!(short_label(Program::Tekun), "特困人员");
        assert_eq!(short_label(Program::TemporaryAssistance), "临时救助");
    }

    #[test]
    fn a_unit_with_any_figure_is_reporting() {
        assert!(Facts::default().is_empty());
        // A program with only zeros says nothing.
        let mut f = Facts::default();
        f.programs.insert(Program::Tekun, ProgramFacts::default());
        assert!(f.is_empty());
        let mut f = Facts::default();
        f.programs.insert(
            Program::Tekun,
            ProgramFacts {
                draft_batches: 1,
                ..Default::default()
            },
        );
        assert!(!f.is_empty());
        let mut f = Facts::default();
        f.urban_caseload.persons = 1;
        assert!(!f.is_empty());
        let mut f = Facts::default();
        f.rural_caseload.persons = 1;
        assert!(!f.is_empty());
    }

    #[test]
    fn old_age_allowances_are_counted_in_their_band() {
        let mut f = Facts::default();
        f.count_old_age(Some(OldAgeBand::From80), 2);
        f.count_old_age(Some(OldAgeBand::From90), 3);
        f.count_old_age(Some(OldAgeBand::From100), 4);
        f.count_old_age(None, 5);
        f.count_old_age(Some(OldAgeBand::From90), 3);
        assert_eq!(
            (f.old_age_80, f.old_age_90, f.old_age_100, f.old_age_other),
            (2, 6, 4, 5)
        );
    }

    #[test]
    fn tekun_is_counted_by_support_mode_and_self_care() {
        let mut f = Facts::default();
        let mut partial = SelfCareAssessment::all_met();
        partial.bathing = false;
        let full = SelfCareAssessment {
            eating: false,
            dressing: false,
            bed_transfer: false,
            toileting: false,
            ..SelfCareAssessment::all_met()
        };
        let dispersed = |a| CaseDetails {
            support_mode: Some(SupportMode::Dispersed),
            assessment: Some(a),
            ..Default::default()
        };
        f.count_tekun(Some(&dispersed(partial)), 2);
        f.count_tekun(Some(&dispersed(partial)), 3);
        f.count_tekun(Some(&dispersed(full)), 4);
        f.count_tekun(Some(&dispersed(full)), 1);
        assert_eq!((f.tekun_dispersed, f.tekun_centralized), (10, 0));
        assert_eq!(
            (f.tekun_partial, f.tekun_full, f.tekun_self_reliant),
            (5, 5, 0)
        );
        assert_eq!(
            tekun_mode(Some(&dispersed(full))),
            Some(SupportMode::Dispersed)
        );
        assert_eq!(tekun_mode(Some(&CaseDetails::default())), None);
        assert_eq!(tekun_mode(None), None);
        assert_eq!(tekun_care(Some(&dispersed(full))), Some(CareLevel::Full));
    }

    #[test]
    fn the_records_behind_a_row_are_counted_and_masked() {
        let id = "511802199001011234";
        let person = PersonRecord {
            person_id: 1,
            household_id: 1,
            program: Program::UrbanDibao,
            township_code: "511802001".into(),
            name: "张三".into(),
            id_number: id.into(),
            gender: "男".into(),
            birth_date: "1990-01-01".into(),
            disability_type: crate::registry::DisabilityType::None,
            work_capacity: crate::registry::WorkCapacity::Full,
        };
        let r = Records::Persons(vec![person.clone(), person]);
        assert_eq!(r.len(), 2);
        assert!(!r.is_empty());
        let Records::Persons(v) = r.masked() else {
            panic!("persons stay persons");
        };
        assert_eq!(v[0].id_number, "511802********1234");
        assert!(Records::Lines(Vec::new()).is_empty());
        assert_eq!(Records::Enrolments(Vec::new()).len(), 0);
    }

    #[test]
    fn warnings_fire_when_figures_disagree() {
        let mut f = Facts::default();
        f.programs.insert(
            Program::UrbanDibao,
            ProgramFacts {
                live: 3,
                due_fen: 90_000,
                signed_batches: 1,
                regular_fen: 60_000,
                paid_fen: 60_000,
                ..Default::default()
            },
        );
        f.urban_caseload.persons = 2;
        f.programs.insert(
            Program::Tekun,
            ProgramFacts {
                live: 1,
                due_fen: 50_000,
                draft_batches: 1,
                ..Default::default()
            },
        );
        f.tekun_mode_unrecorded = 1;
        let units = vec![
            ("511802001".to_string(), "甲镇".to_string(), f),
            (
                "511802002".to_string(),
                "乙镇".to_string(),
                Facts::default(),
            ),
        ];
        let w: Vec<String> = warnings(&units).into_iter().map(|w| w.message).collect();
        assert_eq!(
            w,
            vec![
                "甲镇城市低保人数（2人）少于户数（3户），请核实家庭成员登记",
                "甲镇城市低保本月已签发的当月发放600.00元与在保对象应发900.00元不一致",
                "甲镇特困人员本月应发500.00元，发放批次尚未签发，支出按0计",
                "甲镇有1名特困人员未登记供养方式",
                "乙镇本月没有任何统计数据，请核实是否漏报",
            ]
        );
        // Agreeing figures raise nothing.
        let mut ok = Facts::default();
        ok.programs.insert(
            Program::UrbanDibao,
            ProgramFacts {
                live: 1,
                due_fen: 100,
                signed_batches: 1,
                regular_fen: 100,
                paid_fen: 150,
                ..Default::default()
            },
        );
        ok.urban_caseload.persons = 1;
        assert!(warnings(&[("1".into(), "丙镇".into(), ok)]).is_empty());
    }
}
