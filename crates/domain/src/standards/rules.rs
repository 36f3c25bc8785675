//! The plan's requirements as rules, the city's parameters, and the evaluation of one
//! office's recorded facts against them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::Fen;

crate::coded_enum! {
    /// 乡 / 镇 / 街道.
    pub enum OfficeKind {
        Xiang = ("xiang", "乡"),
        Zhen = ("zhen", "镇"),
        Jiedao = ("jiedao", "街道"),
    }
}

crate::coded_enum! {
    /// Rooms the plan names (§二(三)1 and §三(四)).
    pub enum RoomKind {
        /// 办公室
        Office = ("office", "办公室"),
        /// 接待室
        Reception = ("reception", "接待室"),
        /// 档案室
        Archive = ("archive", "档案室"),
        /// 民政服务大厅 (standalone, or a share of the township's shared hall)
        ServiceHall = ("service-hall", "民政服务大厅"),
        /// 物资储备库
        SuppliesStore = ("supplies-store", "物资储备库"),
    }
}

crate::coded_enum! {
    /// Equipment the plan names (§二(三)2).
    pub enum EquipmentKind {
        Computer = ("computer", "电脑"),
        Printer = ("printer", "打印机"),
        Phone = ("phone", "电话"),
        Copier = ("copier", "复印机"),
        Camera = ("camera", "数码相机"),
        AirConditioner = ("air-conditioner", "空调"),
        ArchiveCabinet = ("archive-cabinet", "档案柜"),
        DeskChair = ("desk-chair", "办公桌椅(套)"),
        VisitorSeating = ("visitor-seating", "群众等候座椅"),
    }
}

impl EquipmentKind {
    /// The six items every office must have at least one of.
    pub const BASIC: [EquipmentKind; 6] = [
        EquipmentKind::Computer,
        EquipmentKind::Printer,
        EquipmentKind::Phone,
        EquipmentKind::Copier,
        EquipmentKind::Camera,
        EquipmentKind::AirConditioner,
    ];
}

/// The city's parameters, in force from `effective_from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    pub effective_from: NaiveDate,
    /// Populations at or above this need the larger staff (plan: 20,000).
    pub population_split: i64,
    pub staff_small: i64,
    pub staff_large: i64,
    /// Street offices of the city proper.
    pub staff_city_street: i64,
    /// Office + reception + archive together, dm² (plan: 60 m²).
    pub three_rooms_dm2: i64,
    pub archive_cabinets: i64,
    pub hall_standalone_dm2: i64,
    pub hall_shared_dm2: i64,
    pub supplies_store_dm2: i64,
    /// The city's share of the accepted investment, percent (plan: 一半 = 50).
    pub subsidy_percent: i64,
}

impl Thresholds {
    /// The plan's own figures.
    pub fn plan_2011() -> Self {
        Thresholds {
            effective_from: NaiveDate::from_ymd_opt(2011, 1, 1).expect("valid date"),
            population_split: 20_000,
            staff_small: 2,
            staff_large: 3,
            staff_city_street: 4,
            three_rooms_dm2: 6_000,
            archive_cabinets: 2,
            hall_standalone_dm2: 5_000,
            hall_shared_dm2: 2_500,
            supplies_store_dm2: 1_500,
            subsidy_percent: 50,
        }
    }

    /// The parameters in force on `as_of`: the latest whose `effective_from` is not after it.
    pub fn in_force(list: &[Thresholds], as_of: NaiveDate) -> Option<&Thresholds> {
        list.iter()
            .filter(|t| t.effective_from <= as_of)
            .max_by_key(|t| t.effective_from)
    }

    /// Checks the parameters make sense; returns (field, Chinese message) on the first error.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let positive = [
            ("population_split", self.population_split),
            ("staff_small", self.staff_small),
            ("staff_large", self.staff_large),
            ("staff_city_street", self.staff_city_street),
            ("three_rooms_dm2", self.three_rooms_dm2),
            ("archive_cabinets", self.archive_cabinets),
            ("hall_standalone_dm2", self.hall_standalone_dm2),
            ("hall_shared_dm2", self.hall_shared_dm2),
            ("supplies_store_dm2", self.supplies_store_dm2),
        ];
        for (f, v) in positive {
            if v <= 0 {
                return Err((f, "必须大于0".into()));
            }
        }
        if !(0..=100).contains(&self.subsidy_percent) {
            return Err(("subsidy_percent", "补助比例应在0到100之间".into()));
        }
        Ok(())
    }
}

/// One member of the roster in post.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StaffFact {
    pub full_time: bool,
    pub director: bool,
    /// Appointed by a filed document (红头文件 number recorded).
    pub has_document: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomFact {
    pub kind: RoomKind,
    pub area_dm2: i64,
    /// A service hall that is a share of the township's shared hall (综合大厅).
    pub shared_hall: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EquipmentFact {
    pub kind: EquipmentKind,
    pub count: i64,
    pub dedicated: bool,
}

/// Everything recorded about one office that the rules look at. `None` means not recorded.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OfficeFacts {
    pub population: Option<i64>,
    pub kind: Option<OfficeKind>,
    /// A street office of the city proper (stricter staffing).
    pub city_street: bool,
    /// Staff in post (the roster after approved changes). Empty = not recorded.
    pub staff: Vec<StaffFact>,
    pub village_count: i64,
    /// Villages (of `village_count`) with an assistant recorded.
    pub villages_with_assistant: i64,
    /// Rooms. Empty = not recorded.
    pub rooms: Vec<RoomFact>,
    /// Equipment. Empty = not recorded.
    pub equipment: Vec<EquipmentFact>,
    /// Rules and procedures posted on the wall (count).
    pub rules_posted: i64,
    pub policy_board: Option<bool>,
    pub notice_board: Option<bool>,
    pub archives_organized: Option<bool>,
    /// The office keeps its ledger in the system (derived by the store).
    pub e_ledger: bool,
}

crate::coded_enum! {
    /// Whether a rule is part of the basic standard or the encouraged high standard (§三(四)).
    pub enum RuleLevel {
        Basic = ("basic", "基本标准"),
        High = ("high", "高标准"),
    }
}

/// A requirement of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: &'static str,
    pub title: &'static str,
    pub text: &'static str,
    pub clause: &'static str,
    pub level: RuleLevel,
}

/// Every rule, in display order.
pub const RULES: &[Rule] = &[
    Rule {
        id: "staff-count",
        title: "专职工作人员人数",
        text:
            "2万人以下乡(镇、办)配备2名民政专职工作人员；2万人以上配置3名；市区街道办事处不少于4名",
        clause: "二(二)",
        level: RuleLevel::Basic,
    },
    Rule {
        id: "one-director",
        title: "设主任1名",
        text: "民政办公室设主任1名",
        clause: "二(二)",
        level: RuleLevel::Basic,
    },
    Rule {
        id: "staffing-document",
        title: "人员配备红头文件确认",
        text: "工作人员配备必须由乡镇人民政府、街道办事处的红头文件予以确认，并报民政局备案",
        clause: "四(三)",
        level: RuleLevel::Basic,
    },
    Rule {
        id: "village-assistants",
        title: "村(居)民政协理员",
        text: "各村(居委会)要确定一名民政协理员",
        clause: "二(二)",
        level: RuleLevel::Basic,
    },
    Rule {
        id: "three-rooms",
        title: "三室且总面积不少于60㎡",
        text: "须配备三室(办公室、接待室、档案室)，且总面积不得少于60㎡",
        clause: "二(三)1",
        level: RuleLevel::Basic,
    },
    Rule {
        id: "equipment",
        title: "办公设备齐全",
        text: "配备电脑、打印机、电话、复印机、数码相机、空调",
        clause: "二(三)2",
        level: RuleLevel::Basic,
    },
    Rule {
        id: "archive-cabinets",
        title: "档案柜不少于2个",
        text: "档案柜不少于2个",
        clause: "二(三)2",
        level: RuleLevel::Basic,
    },
    Rule {
        id: "desks-chairs",
        title: "每人一套办公桌椅",
        text: "每个工作人员在民政办应配备办公桌椅",
        clause: "二(三)2",
        level: RuleLevel::Basic,
    },
    Rule {
        id: "visitor-seating",
        title: "群众就坐设施",
        text: "有接待群众来访和办事时方便群众就坐的基本设施",
        clause: "二(三)2",
        level: RuleLevel::Basic,
    },
    Rule {
        id: "rules-posted",
        title: "规章制度公示上墙",
        text: "制定各项规章制度、办事流程，实行政务公开，并全部公示上墙",
        clause: "二(三)3",
        level: RuleLevel::Basic,
    },
    Rule {
        id: "boards",
        title: "政策宣传栏和救助对象公示栏",
        text: "高标准建立长久、耐用的政策宣传栏和民政救助对象公示栏",
        clause: "二(三)4",
        level: RuleLevel::Basic,
    },
    Rule {
        id: "archives",
        title: "档案资料整理建档",
        text: "按统一标准、格式将历年民政台账、资料整理装订建档",
        clause: "二(三)5",
        level: RuleLevel::Basic,
    },
    Rule {
        id: "e-ledger",
        title: "建立电子台账",
        text: "各类民政工作对象资料齐全，并建立电子台帐",
        clause: "二(三)5",
        level: RuleLevel::Basic,
    },
    Rule {
        id: "dedicated-hardware",
        title: "硬件设施民政办专用",
        text: "基层民政室的各种硬件设施必须是民政办专用",
        clause: "四(四)",
        level: RuleLevel::Basic,
    },
    Rule {
        id: "service-hall",
        title: "民政服务大厅(高标准)",
        text: "单独设立的办事大厅面积不少于50平方米，综合大厅的所占面积不少于25平方米",
        clause: "三(四)",
        level: RuleLevel::High,
    },
    Rule {
        id: "supplies-store",
        title: "物资储备库(高标准)",
        text: "物资储备库不少于15平方米",
        clause: "三(四)",
        level: RuleLevel::High,
    },
];

crate::coded_enum! {
    /// met / not met / not recorded.
    pub enum RuleStatus {
        Met = ("met", "达标"),
        NotMet = ("not_met", "未达标"),
        NotRecorded = ("not_recorded", "未登记"),
    }
}

/// One rule's verdict for one office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleResult {
    pub rule: Rule,
    pub status: RuleStatus,
    /// What was found, e.g. "专职人员2名，需3名".
    pub finding: String,
    /// What to do, in plain Chinese (empty when met).
    pub advice: String,
}

/// The verdict for one office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub as_of: NaiveDate,
    pub results: Vec<RuleResult>,
    pub basic_total: usize,
    pub basic_met: usize,
    /// Percentage of basic rules met, rounded down.
    pub compliance_percent: u32,
}

impl Evaluation {
    pub fn status_of(&self, id: &str) -> Option<RuleStatus> {
        self.results
            .iter()
            .find(|r| r.rule.id == id)
            .map(|r| r.status)
    }

    /// Basic rules not met or not recorded.
    pub fn failing(&self) -> Vec<&RuleResult> {
        self.results
            .iter()
            .filter(|r| r.rule.level == RuleLevel::Basic && r.status != RuleStatus::Met)
            .collect()
    }

    pub fn all_basic_met(&self) -> bool {
        self.basic_met == self.basic_total
    }
}

/// Square decimetres as "59.9㎡".
pub fn fmt_area(dm2: i64) -> String {
    let whole = dm2 / 100;
    let frac = (dm2 % 100).abs();
    if frac == 0 {
        format!("{whole}㎡")
    } else if frac % 10 == 0 {
        format!("{whole}.{}㎡", frac / 10)
    } else {
        format!("{whole}.{frac:02}㎡")
    }
}

/// Parses "59.9" / "60" / "60.25" square metres into dm²; at most two decimals, not negative.
pub fn parse_area_m2(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches(['㎡', 'm', '²']).trim();
    if s.is_empty() {
        return None;
    }
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > 2
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 7
    {
        return None;
    }
    let w: i64 = whole.parse().ok()?;
    let f: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    Some(w * 100 + f)
}

/// The subsidy for an accepted investment: `percent` of it, rounded down to the fen (the city
/// never pays more than its share). `None` on overflow or a negative investment.
pub fn subsidy(accepted_investment: Fen, percent: i64) -> Option<Fen> {
    if accepted_investment.is_negative() || !(0..=100).contains(&percent) {
        return None;
    }
    accepted_investment
        .0
        .checked_mul(percent)
        .map(|v| Fen(v / 100))
}

/// The staff the office needs under `t`.
pub fn required_staff(population: i64, city_street: bool, t: &Thresholds) -> i64 {
    if city_street {
        t.staff_city_street
    } else if population >= t.population_split {
        t.staff_large
    } else {
        t.staff_small
    }
}

fn result(rule: &Rule, status: RuleStatus, finding: String, advice: &str) -> RuleResult {
    RuleResult {
        rule: *rule,
        status,
        finding,
        advice: if status == RuleStatus::Met {
            String::new()
        } else {
            advice.to_string()
        },
    }
}

fn yes_no(b: Option<bool>, yes: &str, no: &str, advice: &str, rule: &Rule) -> RuleResult {
    match b {
        None => result(
            rule,
            RuleStatus::NotRecorded,
            "尚未登记".into(),
            "请在“场所与设施”中登记此项情况",
        ),
        Some(true) => result(rule, RuleStatus::Met, yes.into(), ""),
        Some(false) => result(rule, RuleStatus::NotMet, no.into(), advice),
    }
}

/// Judges one office against every rule.
pub fn evaluate(f: &OfficeFacts, t: &Thresholds, as_of: NaiveDate) -> Evaluation {
    let full_time = f.staff.iter().filter(|s| s.full_time).count() as i64;
    let count_of = |k: EquipmentKind| -> i64 {
        f.equipment
            .iter()
            .filter(|e| e.kind == k)
            .map(|e| e.count.max(0))
            .sum()
    };
    let area_of = |k: RoomKind| -> i64 {
        f.rooms
            .iter()
            .filter(|r| r.kind == k)
            .map(|r| r.area_dm2.max(0))
            .sum()
    };
    let has_room = |k: RoomKind| f.rooms.iter().any(|r| r.kind == k);
    let mut out = Vec::with_capacity(RULES.len());
    for rule in RULES {
        let nr = |what: &str| result(rule, RuleStatus::NotRecorded, "尚未登记".into(), what);
        let r = match rule.id {
            "staff-count" => match (f.population, f.staff.is_empty()) {
                (None, _) if !f.city_street => {
                    nr("请在“基本情况”中登记辖区户籍人口，系统据此确定应配人数")
                }
                (_, true) => nr("请通过“人员异动”报备在岗工作人员，经市民政局同意后生效"),
                (pop, false) => {
                    let need = required_staff(pop.unwrap_or(0), f.city_street, t);
                    let basis = if f.city_street {
                        "市区街道办事处".to_string()
                    } else if pop.unwrap_or(0) >= t.population_split {
                        format!(
                            "辖区人口{}人（{}人以上）",
                            pop.unwrap_or(0),
                            t.population_split
                        )
                    } else {
                        format!(
                            "辖区人口{}人（不足{}人）",
                            pop.unwrap_or(0),
                            t.population_split
                        )
                    };
                    let status = if full_time >= need {
                        RuleStatus::Met
                    } else {
                        RuleStatus::NotMet
                    };
                    result(
                        rule,
                        status,
                        format!("{basis}，应配专职人员{need}名，现有{full_time}名"),
                        &format!(
                            "还需配备{}名专职工作人员，并以红头文件确认后报市民政局备案",
                            (need - full_time).max(0)
                        ),
                    )
                }
            },
            "one-director" => {
                if f.staff.is_empty() {
                    nr("请通过“人员异动”报备民政办主任")
                } else {
                    let n = f.staff.iter().filter(|s| s.director).count();
                    match n {
                        1 => result(rule, RuleStatus::Met, "已设主任1名".into(), ""),
                        0 => result(
                            rule,
                            RuleStatus::NotMet,
                            "未设主任".into(),
                            "请选派一名同志担任民政办主任，并通过“人员异动”报市民政局同意",
                        ),
                        n => result(
                            rule,
                            RuleStatus::NotMet,
                            format!("登记了{n}名主任"),
                            "民政办只设主任1名，请通过“人员异动”调整",
                        ),
                    }
                }
            }
            "staffing-document" => {
                if f.staff.is_empty() {
                    nr("请通过“人员异动”报备工作人员及其任用文件")
                } else {
                    let missing = f.staff.iter().filter(|s| !s.has_document).count();
                    if missing == 0 {
                        result(rule, RuleStatus::Met, "全部人员均有任用文件".into(), "")
                    } else {
                        result(
                            rule,
                            RuleStatus::NotMet,
                            format!("{missing}名人员缺少红头文件"),
                            "请补充乡镇(街道)确认人员配备的红头文件文号和日期，并报市民政局备案",
                        )
                    }
                }
            }
            "village-assistants" => {
                if f.village_count == 0 {
                    result(rule, RuleStatus::Met, "无下辖村(社区)".into(), "")
                } else if f.villages_with_assistant == 0 {
                    nr("请为每个村(社区)登记一名民政协理员")
                } else {
                    let missing = (f.village_count - f.villages_with_assistant).max(0);
                    let status = if missing == 0 {
                        RuleStatus::Met
                    } else {
                        RuleStatus::NotMet
                    };
                    result(
                        rule,
                        status,
                        format!(
                            "{}个村(社区)中{}个已确定协理员",
                            f.village_count, f.villages_with_assistant
                        ),
                        &format!("还有{missing}个村(社区)没有民政协理员，请逐一确定并登记"),
                    )
                }
            }
            "three-rooms" => {
                if f.rooms.is_empty() {
                    nr("请在“场所与设施”中登记办公室、接待室、档案室及面积")
                } else {
                    let three = [RoomKind::Office, RoomKind::Reception, RoomKind::Archive];
                    let missing: Vec<&str> = three
                        .iter()
                        .filter(|k| !has_room(**k))
                        .map(|k| k.label())
                        .collect();
                    let total: i64 = three.iter().map(|k| area_of(*k)).sum();
                    let ok = missing.is_empty() && total >= t.three_rooms_dm2;
                    let mut advice = String::new();
                    if !missing.is_empty() {
                        advice.push_str(&format!("还缺{}；", missing.join("、")));
                    }
                    if total < t.three_rooms_dm2 {
                        advice.push_str(&format!(
                            "三室总面积还差{}，需调整或扩大用房",
                            fmt_area(t.three_rooms_dm2 - total)
                        ));
                    }
                    result(
                        rule,
                        if ok {
                            RuleStatus::Met
                        } else {
                            RuleStatus::NotMet
                        },
                        format!(
                            "三室总面积{}（标准不少于{}）",
                            fmt_area(total),
                            fmt_area(t.three_rooms_dm2)
                        ),
                        advice.trim_end_matches('；'),
                    )
                }
            }
            "equipment" => {
                if f.equipment.is_empty() {
                    nr("请在“场所与设施”中登记设备清单")
                } else {
                    let missing: Vec<&str> = EquipmentKind::BASIC
                        .iter()
                        .filter(|k| count_of(**k) < 1)
                        .map(|k| k.label())
                        .collect();
                    if missing.is_empty() {
                        result(rule, RuleStatus::Met, "设备齐全".into(), "")
                    } else {
                        result(
                            rule,
                            RuleStatus::NotMet,
                            format!("缺少{}", missing.join("、")),
                            &format!("请购置{}并登记", missing.join("、")),
                        )
                    }
                }
            }
            "archive-cabinets" => {
                if f.equipment.is_empty() {
                    nr("请登记档案柜数量")
                } else {
                    let n = count_of(EquipmentKind::ArchiveCabinet);
                    result(
                        rule,
                        if n >= t.archive_cabinets {
                            RuleStatus::Met
                        } else {
                            RuleStatus::NotMet
                        },
                        format!("档案柜{n}个（标准不少于{}个）", t.archive_cabinets),
                        &format!("还需添置{}个档案柜", (t.archive_cabinets - n).max(0)),
                    )
                }
            }
            "desks-chairs" => {
                if f.equipment.is_empty() || f.staff.is_empty() {
                    nr("请登记工作人员和办公桌椅套数")
                } else {
                    let n = count_of(EquipmentKind::DeskChair);
                    let need = f.staff.len() as i64;
                    result(
                        rule,
                        if n >= need {
                            RuleStatus::Met
                        } else {
                            RuleStatus::NotMet
                        },
                        format!("办公桌椅{n}套，在岗人员{need}名"),
                        &format!("还需添置{}套办公桌椅", (need - n).max(0)),
                    )
                }
            }
            "visitor-seating" => {
                if f.equipment.is_empty() {
                    nr("请登记群众等候座椅")
                } else if count_of(EquipmentKind::VisitorSeating) >= 1 {
                    result(rule, RuleStatus::Met, "已配备".into(), "")
                } else {
                    result(
                        rule,
                        RuleStatus::NotMet,
                        "未配备".into(),
                        "请在接待区配备方便群众就坐的座椅",
                    )
                }
            }
            "rules-posted" => {
                if f.rules_posted > 0 {
                    result(
                        rule,
                        RuleStatus::Met,
                        format!("已公示{}项制度、流程", f.rules_posted),
                        "",
                    )
                } else {
                    nr("请把规章制度、办事流程公示上墙，并逐项登记公示日期")
                }
            }
            "boards" => match (f.policy_board, f.notice_board) {
                (Some(true), Some(true)) => {
                    result(rule, RuleStatus::Met, "两栏均已建立".into(), "")
                }
                (Some(false), _) | (_, Some(false)) => {
                    let mut miss = Vec::new();
                    if f.policy_board == Some(false) {
                        miss.push("政策宣传栏");
                    }
                    if f.notice_board == Some(false) {
                        miss.push("救助对象公示栏");
                    }
                    result(
                        rule,
                        RuleStatus::NotMet,
                        format!("未建立{}", miss.join("、")),
                        &format!("请建立长久、耐用的{}", miss.join("和")),
                    )
                }
                _ => nr("请登记政策宣传栏和救助对象公示栏的情况"),
            },
            "archives" => yes_no(
                f.archives_organized,
                "已整理建档",
                "尚未整理建档",
                "请按市民政局统一标准、格式将历年台账资料整理装订建档",
                rule,
            ),
            "e-ledger" => {
                if f.e_ledger {
                    result(rule, RuleStatus::Met, "本系统中已有本办业务记录".into(), "")
                } else {
                    result(
                        rule,
                        RuleStatus::NotMet,
                        "本系统中尚无本办业务记录或账户".into(),
                        "请为工作人员开通账户，在本系统中建立各类民政对象电子台账",
                    )
                }
            }
            "dedicated-hardware" => {
                if f.equipment.is_empty() {
                    nr("请登记设备并注明是否民政办专用")
                } else {
                    let shared: Vec<&str> = f
                        .equipment
                        .iter()
                        .filter(|e| !e.dedicated && e.count > 0)
                        .map(|e| e.kind.label())
                        .collect();
                    if shared.is_empty() {
                        result(rule, RuleStatus::Met, "全部设备为民政办专用".into(), "")
                    } else {
                        result(
                            rule,
                            RuleStatus::NotMet,
                            format!("{}非民政办专用", shared.join("、")),
                            "硬件设施必须民政办专用，请单独配备",
                        )
                    }
                }
            }
            "service-hall" => {
                let halls: Vec<&RoomFact> = f
                    .rooms
                    .iter()
                    .filter(|r| r.kind == RoomKind::ServiceHall)
                    .collect();
                if halls.is_empty() {
                    nr("如已建服务大厅，请登记面积以及是否为综合大厅")
                } else {
                    let ok = halls.iter().any(|h| {
                        h.area_dm2
                            >= if h.shared_hall {
                                t.hall_shared_dm2
                            } else {
                                t.hall_standalone_dm2
                            }
                    });
                    let h = halls[0];
                    result(
                        rule,
                        if ok {
                            RuleStatus::Met
                        } else {
                            RuleStatus::NotMet
                        },
                        format!(
                            "{}{}（标准：单独设立不少于{}，综合大厅中不少于{}）",
                            if h.shared_hall {
                                "综合大厅中所占"
                            } else {
                                "单独设立的大厅"
                            },
                            fmt_area(h.area_dm2),
                            fmt_area(t.hall_standalone_dm2),
                            fmt_area(t.hall_shared_dm2)
                        ),
                        "扩大服务大厅面积后可达到高标准",
                    )
                }
            }
            "supplies-store" => {
                if !has_room(RoomKind::SuppliesStore) {
                    nr("如已建物资储备库，请登记面积")
                } else {
                    let a = area_of(RoomKind::SuppliesStore);
                    result(
                        rule,
                        if a >= t.supplies_store_dm2 {
                            RuleStatus::Met
                        } else {
                            RuleStatus::NotMet
                        },
                        format!(
                            "物资储备库{}（标准不少于{}）",
                            fmt_area(a),
                            fmt_area(t.supplies_store_dm2)
                        ),
                        "扩大物资储备库面积后可达到高标准",
                    )
                }
            }
            other => unreachable!("rule {other} has no evaluation"),
        };
        out.push(r);
    }
    let basic: Vec<&RuleResult> = out
        .iter()
        .filter(|r| r.rule.level == RuleLevel::Basic)
        .collect();
    let basic_total = basic.len();
    let basic_met = basic.iter().filter(|r| r.status == RuleStatus::Met).count();
    Evaluation {
        as_of,
        compliance_percent: (basic_met * 100 / basic_total.max(1)) as u32,
        results: out,
        basic_total,
        basic_met,
    }
}

#[cfg(test)]
impl Evaluation {
    /// An evaluation on 2026-06-01 with `status` for each rule (met unless named otherwise),
    /// each finding naming the rule and its status, for the domain's unit tests.
    pub(crate) fn with_statuses(status: &[(&str, RuleStatus)]) -> Evaluation {
        Evaluation {
            as_of: NaiveDate::from_ymd_opt(2026, 6, 1).expect("valid date"),
            results: RULES
                .iter()
                .map(|r| {
                    let st = status
                        .iter()
                        .find(|(id, _)| *id == r.id)
                        .map_or(RuleStatus::Met, |(_, s)| *s);
                    RuleResult {
                        rule: *r,
                        status: st,
                        finding: format!("{}：{}", r.id, st.label()),
                        advice: String::new(),
                    }
                })
                .collect(),
            basic_total: 0,
            basic_met: 0,
            compliance_percent: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn staff(n: usize) -> Vec<StaffFact> {
        (0..n)
            .map(|i| StaffFact {
                full_time: true,
                director: i == 0,
                has_document: true,
            })
            .collect()
    }

    fn eq(kind: EquipmentKind, count: i64) -> EquipmentFact {
        EquipmentFact {
            kind,
            count,
            dedicated: true,
        }
    }

    fn room(kind: RoomKind, area_dm2: i64) -> RoomFact {
        RoomFact {
            kind,
            area_dm2,
            shared_hall: false,
        }
    }

    /// An office that meets every rule.
    fn model() -> OfficeFacts {
        OfficeFacts {
            population: Some(15_000),
            kind: Some(OfficeKind::Zhen),
            city_street: false,
            staff: staff(2),
            village_count: 3,
            villages_with_assistant: 3,
            rooms: vec![
                room(RoomKind::Office, 3_000),
                room(RoomKind::Reception, 1_500),
                room(RoomKind::Archive, 1_500),
                room(RoomKind::ServiceHall, 5_000),
                room(RoomKind::SuppliesStore, 1_500),
            ],
            equipment: EquipmentKind::ALL.iter().map(|k| eq(*k, 2)).collect(),
            rules_posted: 5,
            policy_board: Some(true),
            notice_board: Some(true),
            archives_organized: Some(true),
            e_ledger: true,
        }
    }

    fn status(f: &OfficeFacts, id: &str) -> RuleStatus {
        evaluate(f, &Thresholds::plan_2011(), d("2026-01-01"))
            .status_of(id)
            .unwrap()
    }

    #[test]
    fn the_model_office_meets_everything() {
        let e = evaluate(&model(), &Thresholds::plan_2011(), d("2026-01-01"));
        for r in &e.results {
            assert_eq!(r.status, RuleStatus::Met, "{}: {}", r.rule.id, r.finding);
            assert!(r.advice.is_empty());
        }
        assert_eq!(e.compliance_percent, 100);
        assert!(e.all_basic_met());
        assert_eq!(e.results.len(), RULES.len());
    }

    #[test]
    fn every_rule_has_a_unique_id_and_evaluation() {
        let mut ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        // An empty office: nothing panics, and staffing says not recorded.
        let e = evaluate(
            &OfficeFacts::default(),
            &Thresholds::plan_2011(),
            d("2026-01-01"),
        );
        assert_eq!(e.status_of("staff-count"), Some(RuleStatus::NotRecorded));
        assert_eq!(e.status_of("three-rooms"), Some(RuleStatus::NotRecorded));
        assert_eq!(e.status_of("e-ledger"), Some(RuleStatus::NotMet));
        // Only “no villages, so no assistants needed” is met: 1 of 14 basic rules.
        assert_eq!(
            (e.basic_met, e.basic_total, e.compliance_percent),
            (1, 14, 7)
        );
        for r in &e.results {
            if r.status != RuleStatus::Met {
                assert!(!r.advice.is_empty(), "{} has advice", r.rule.id);
            }
        }
    }

    #[test]
    fn staff_count_at_the_population_boundary() {
        let mut f = model();
        f.population = Some(19_999);
        f.staff = staff(2);
        assert_eq!(status(&f, "staff-count"), RuleStatus::Met);
        f.population = Some(20_000);
        assert_eq!(status(&f, "staff-count"), RuleStatus::NotMet);
        let e = evaluate(&f, &Thresholds::plan_2011(), d("2026-01-01"));
        assert!(
            e.results[0].advice.contains("还需配备1名"),
            "{:?}",
            e.results[0]
        );
        f.staff = staff(3);
        assert_eq!(status(&f, "staff-count"), RuleStatus::Met);
        f.population = Some(19_999);
        f.staff = staff(1);
        assert_eq!(status(&f, "staff-count"), RuleStatus::NotMet);
    }

    #[test]
    fn part_time_staff_do_not_count() {
        let mut f = model();
        f.staff[1].full_time = false;
        assert_eq!(status(&f, "staff-count"), RuleStatus::NotMet);
    }

    #[test]
    fn street_office_of_the_city_needs_four() {
        let mut f = model();
        f.kind = Some(OfficeKind::Jiedao);
        f.city_street = true;
        f.population = Some(8_000);
        f.staff = staff(3);
        assert_eq!(status(&f, "staff-count"), RuleStatus::NotMet);
        f.staff = staff(4);
        assert_eq!(status(&f, "staff-count"), RuleStatus::Met);
        // A street office outside the city proper follows the population rule.
        f.city_street = false;
        f.staff = staff(2);
        assert_eq!(status(&f, "staff-count"), RuleStatus::Met);
        // Population is not needed to judge a city street office.
        f.city_street = true;
        f.population = None;
        f.staff = staff(4);
        assert_eq!(status(&f, "staff-count"), RuleStatus::Met);
    }

    #[test]
    fn exactly_one_director_and_documents() {
        let mut f = model();
        f.staff[1].director = true;
        assert_eq!(status(&f, "one-director"), RuleStatus::NotMet);
        f.staff[0].director = false;
        f.staff[1].director = false;
        assert_eq!(status(&f, "one-director"), RuleStatus::NotMet);
        let mut f = model();
        f.staff[1].has_document = false;
        assert_eq!(status(&f, "staffing-document"), RuleStatus::NotMet);
        f.staff.clear();
        assert_eq!(status(&f, "staffing-document"), RuleStatus::NotRecorded);
        assert_eq!(status(&f, "one-director"), RuleStatus::NotRecorded);
    }

    #[test]
    fn assistants_in_every_village() {
        let mut f = model();
        f.villages_with_assistant = 2;
        assert_eq!(status(&f, "village-assistants"), RuleStatus::NotMet);
        f.villages_with_assistant = 0;
        assert_eq!(status(&f, "village-assistants"), RuleStatus::NotRecorded);
        f.village_count = 0;
        assert_eq!(status(&f, "village-assistants"), RuleStatus::Met);
    }

    #[test]
    fn three_rooms_at_sixty_square_metres() {
        let mut f = model();
        f.rooms = vec![
            room(RoomKind::Office, 2_990),
            room(RoomKind::Reception, 1_500),
            room(RoomKind::Archive, 1_500),
        ];
        assert_eq!(status(&f, "three-rooms"), RuleStatus::NotMet, "59.9 m²");
        let e = evaluate(&f, &Thresholds::plan_2011(), d("2026-01-01"));
        let r = &e.results[4];
        assert!(
            r.finding.contains("59.9㎡") && r.advice.contains("0.1㎡"),
            "{r:?}"
        );
        f.rooms[0].area_dm2 = 3_000;
        assert_eq!(status(&f, "three-rooms"), RuleStatus::Met, "60 m²");
        // A big office without an archive room does not pass.
        f.rooms = vec![
            room(RoomKind::Office, 9_000),
            room(RoomKind::Reception, 1_000),
        ];
        assert_eq!(status(&f, "three-rooms"), RuleStatus::NotMet);
        // The service hall does not count towards the three rooms.
        f.rooms = vec![
            room(RoomKind::Office, 1_000),
            room(RoomKind::Reception, 1_000),
            room(RoomKind::Archive, 1_000),
            room(RoomKind::ServiceHall, 9_000),
        ];
        assert_eq!(status(&f, "three-rooms"), RuleStatus::NotMet);
    }

    #[test]
    fn equipment_cabinets_desks_seating_and_dedication() {
        let mut f = model();
        f.equipment.retain(|e| e.kind != EquipmentKind::Camera);
        assert_eq!(status(&f, "equipment"), RuleStatus::NotMet);
        let mut f = model();
        for e in &mut f.equipment {
            if e.kind == EquipmentKind::ArchiveCabinet {
                e.count = 1;
            }
            if e.kind == EquipmentKind::DeskChair {
                e.count = 1;
            }
        }
        assert_eq!(status(&f, "archive-cabinets"), RuleStatus::NotMet);
        assert_eq!(
            status(&f, "desks-chairs"),
            RuleStatus::NotMet,
            "2 staff, 1 desk"
        );
        f.equipment.push(eq(EquipmentKind::ArchiveCabinet, 1));
        f.equipment.push(eq(EquipmentKind::DeskChair, 1));
        assert_eq!(status(&f, "archive-cabinets"), RuleStatus::Met);
        assert_eq!(status(&f, "desks-chairs"), RuleStatus::Met);
        f.equipment
            .retain(|e| e.kind != EquipmentKind::VisitorSeating);
        assert_eq!(status(&f, "visitor-seating"), RuleStatus::NotMet);
        f.equipment[0].dedicated = false;
        assert_eq!(status(&f, "dedicated-hardware"), RuleStatus::NotMet);
        f.equipment.clear();
        assert_eq!(status(&f, "equipment"), RuleStatus::NotRecorded);
    }

    #[test]
    fn rules_boards_archives_and_ledger() {
        let mut f = model();
        f.rules_posted = 0;
        assert_eq!(status(&f, "rules-posted"), RuleStatus::NotRecorded);
        f.policy_board = Some(false);
        assert_eq!(status(&f, "boards"), RuleStatus::NotMet);
        f.policy_board = None;
        assert_eq!(status(&f, "boards"), RuleStatus::NotRecorded);
        f.archives_organized = Some(false);
        assert_eq!(status(&f, "archives"), RuleStatus::NotMet);
        f.archives_organized = None;
        assert_eq!(status(&f, "archives"), RuleStatus::NotRecorded);
        f.e_ledger = false;
        assert_eq!(status(&f, "e-ledger"), RuleStatus::NotMet);
    }

    #[test]
    fn service_hall_standalone_and_shared() {
        let mut f = model();
        f.rooms.retain(|r| r.kind != RoomKind::ServiceHall);
        assert_eq!(status(&f, "service-hall"), RuleStatus::NotRecorded);
        f.rooms.push(RoomFact {
            kind: RoomKind::ServiceHall,
            area_dm2: 2_490,
            shared_hall: true,
        });
        assert_eq!(
            status(&f, "service-hall"),
            RuleStatus::NotMet,
            "24.9 m² shared"
        );
        f.rooms.last_mut().unwrap().area_dm2 = 2_500;
        assert_eq!(status(&f, "service-hall"), RuleStatus::Met, "25 m² shared");
        f.rooms.last_mut().unwrap().shared_hall = false;
        assert_eq!(
            status(&f, "service-hall"),
            RuleStatus::NotMet,
            "25 m² standalone"
        );
        f.rooms.last_mut().unwrap().area_dm2 = 4_990;
        assert_eq!(status(&f, "service-hall"), RuleStatus::NotMet, "49.9 m²");
        f.rooms.last_mut().unwrap().area_dm2 = 5_000;
        assert_eq!(status(&f, "service-hall"), RuleStatus::Met, "50 m²");
        // High-standard rules do not lower the basic compliance.
        f.rooms.retain(|r| r.kind != RoomKind::ServiceHall);
        let e = evaluate(&f, &Thresholds::plan_2011(), d("2026-01-01"));
        assert_eq!(e.compliance_percent, 100);
    }

    #[test]
    fn supplies_store_at_fifteen() {
        let mut f = model();
        f.rooms.retain(|r| r.kind != RoomKind::SuppliesStore);
        f.rooms.push(room(RoomKind::SuppliesStore, 1_499));
        assert_eq!(status(&f, "supplies-store"), RuleStatus::NotMet);
        f.rooms.last_mut().unwrap().area_dm2 = 1_500;
        assert_eq!(status(&f, "supplies-store"), RuleStatus::Met);
    }

    #[test]
    fn thresholds_in_force_by_date() {
        let a = Thresholds::plan_2011();
        let b = Thresholds {
            effective_from: d("2026-07-01"),
            three_rooms_dm2: 8_000,
            ..Thresholds::plan_2011()
        };
        let list = [b.clone(), a.clone()];
        assert_eq!(Thresholds::in_force(&list, d("2026-06-30")), Some(&a));
        assert_eq!(Thresholds::in_force(&list, d("2026-07-01")), Some(&b));
        assert_eq!(Thresholds::in_force(&list, d("2010-12-31")), None);
        // The same office meets the old standard and fails the new one.
        let f = model();
        assert_eq!(
            evaluate(&f, &b, d("2026-07-01")).status_of("three-rooms"),
            Some(RuleStatus::NotMet)
        );
        let bad = Thresholds {
            subsidy_percent: 101,
            ..a.clone()
        };
        assert_eq!(bad.validate().unwrap_err().0, "subsidy_percent");
        assert!(a.validate().is_ok());
    }

    #[test]
    fn subsidy_is_half_rounded_down() {
        assert_eq!(subsidy(Fen(10_000_000), 50), Some(Fen(5_000_000)));
        assert_eq!(
            subsidy(Fen(12_345), 50),
            Some(Fen(6_172)),
            "odd fen rounds down"
        );
        assert_eq!(subsidy(Fen(0), 50), Some(Fen(0)));
        assert_eq!(subsidy(Fen(1_000), 100), Some(Fen(1_000)));
        assert_eq!(subsidy(Fen(-1), 50), None);
        assert_eq!(subsidy(Fen(i64::MAX), 50), None);
        assert_eq!(subsidy(Fen(100), 101), None);
    }

    #[test]
    fn areas_parse_and_format_exactly() {
        assert_eq!(parse_area_m2("59.9"), Some(5_990));
        assert_eq!(parse_area_m2("60"), Some(6_000));
        assert_eq!(parse_area_m2("24.95"), Some(2_495));
        assert_eq!(parse_area_m2("25㎡"), Some(2_500));
        assert_eq!(parse_area_m2("1.234"), None);
        assert_eq!(parse_area_m2("-3"), None);
        assert_eq!(parse_area_m2("abc"), None);
        assert_eq!(parse_area_m2(""), None);
        assert_eq!(fmt_area(5_990), "59.9㎡");
        assert_eq!(fmt_area(6_000), "60㎡");
        assert_eq!(fmt_area(2_495), "24.95㎡");
        assert_eq!(fmt_area(10), "0.1㎡");
    }

    fn evaluation(f: &OfficeFacts) -> Evaluation {
        evaluate(f, &Thresholds::plan_2011(), d("2026-01-01"))
    }

    fn verdict(f: &OfficeFacts, id: &str) -> (RuleStatus, String, String) {
        let e = evaluation(f);
        let r = e
            .results
            .iter()
            .find(|r| r.rule.id == id)
            .expect("a rule of the plan");
        (r.status, r.finding.clone(), r.advice.clone())
    }

    #[test]
    fn parameters_must_be_positive_and_the_share_a_percentage() {
        let a = Thresholds::plan_2011();
        let zero = Thresholds {
            staff_small: 0,
            ..a.clone()
        };
        assert_eq!(
            zero.validate(),
            Err(("staff_small", "必须大于0".to_string()))
        );
        let negative = Thresholds {
            supplies_store_dm2: -1,
            ..a.clone()
        };
        assert_eq!(negative.validate().unwrap_err().0, "supplies_store_dm2");
        for p in [0, 100] {
            let t = Thresholds {
                subsidy_percent: p,
                ..a.clone()
            };
            assert!(t.validate().is_ok(), "{p}%");
        }
        let below = Thresholds {
            subsidy_percent: -1,
            ..a.clone()
        };
        assert_eq!(
            below.validate(),
            Err(("subsidy_percent", "补助比例应在0到100之间".to_string()))
        );
    }

    #[test]
    fn the_staff_finding_names_the_basis_and_the_shortfall() {
        let mut f = model();
        assert_eq!(
            verdict(&f, "staff-count"),
            (
                RuleStatus::Met,
                "辖区人口15000人（不足20000人），应配专职人员2名，现有2名".into(),
                String::new()
            )
        );
        f.population = Some(20_000);
        assert_eq!(
            verdict(&f, "staff-count"),
            (
                RuleStatus::NotMet,
                "辖区人口20000人（20000人以上），应配专职人员3名，现有2名".into(),
                "还需配备1名专职工作人员，并以红头文件确认后报市民政局备案".into()
            )
        );
        f.city_street = true;
        f.staff = staff(5);
        assert_eq!(
            verdict(&f, "staff-count").1,
            "市区街道办事处，应配专职人员4名，现有5名"
        );
        // Staff recorded but no population: the population is asked for.
        let mut f = model();
        f.population = None;
        let (s, _, advice) = verdict(&f, "staff-count");
        assert_eq!(s, RuleStatus::NotRecorded);
        assert!(advice.contains("辖区户籍人口"), "{advice}");
        // A population but no staff: the staff are asked for.
        let mut f = model();
        f.staff.clear();
        let (s, _, advice) = verdict(&f, "staff-count");
        assert_eq!(s, RuleStatus::NotRecorded);
        assert!(advice.contains("人员异动"), "{advice}");
    }

    #[test]
    fn failing_lists_the_basic_rules_not_met_only() {
        let mut f = model();
        f.e_ledger = false;
        f.rooms.retain(|r| r.kind != RoomKind::ServiceHall);
        let e = evaluation(&f);
        let failing: Vec<&str> = e.failing().iter().map(|r| r.rule.id).collect();
        assert_eq!(failing, ["e-ledger"]);
        assert!(!e.all_basic_met());
        // 13 of 14 basic rules: 92 %, rounded down.
        assert_eq!(
            (e.basic_met, e.basic_total, e.compliance_percent),
            (13, 14, 92)
        );
        assert_eq!(e.status_of("service-hall"), Some(RuleStatus::NotRecorded));
        assert_eq!(e.status_of("no-such-rule"), None);
    }

    #[test]
    fn village_assistants_counted_against_villages() {
        let mut f = model();
        f.villages_with_assistant = 2;
        assert_eq!(
            verdict(&f, "village-assistants"),
            (
                RuleStatus::NotMet,
                "3个村(社区)中2个已确定协理员".into(),
                "还有1个村(社区)没有民政协理员，请逐一确定并登记".into()
            )
        );
        // More assistants recorded than villages: every village has one.
        f.villages_with_assistant = 4;
        assert_eq!(verdict(&f, "village-assistants").0, RuleStatus::Met);
    }

    #[test]
    fn three_rooms_advice_names_what_is_missing_and_how_much_area() {
        let mut f = model();
        f.rooms = vec![
            room(RoomKind::Office, 2_000),
            room(RoomKind::Reception, 1_500),
        ];
        assert_eq!(
            verdict(&f, "three-rooms"),
            (
                RuleStatus::NotMet,
                "三室总面积35㎡（标准不少于60㎡）".into(),
                "还缺档案室；三室总面积还差25㎡，需调整或扩大用房".into()
            )
        );
        // The area is there (60㎡ exactly), a room is not.
        f.rooms[0].area_dm2 = 4_500;
        assert_eq!(verdict(&f, "three-rooms").2, "还缺档案室");
        // Every room there, the area short.
        f.rooms = vec![
            room(RoomKind::Office, 2_000),
            room(RoomKind::Reception, 1_500),
            room(RoomKind::Archive, 1_000),
        ];
        assert_eq!(
            verdict(&f, "three-rooms").2,
            "三室总面积还差15㎡，需调整或扩大用房"
        );
    }

    #[test]
    fn equipment_listed_without_a_count_is_missing() {
        let mut f = model();
        for e in &mut f.equipment {
            if e.kind == EquipmentKind::Camera {
                e.count = 0;
            }
            if e.kind == EquipmentKind::Copier {
                e.count = -2;
            }
        }
        assert_eq!(
            verdict(&f, "equipment"),
            (
                RuleStatus::NotMet,
                "缺少复印机、数码相机".into(),
                "请购置复印机、数码相机并登记".into()
            )
        );
        // A negative count takes nothing away from another line of the same kind.
        f.equipment.push(eq(EquipmentKind::Copier, 1));
        f.equipment.push(eq(EquipmentKind::Camera, 1));
        assert_eq!(verdict(&f, "equipment").0, RuleStatus::Met);
        // An item not dedicated but with none counted is not shared hardware.
        let mut f = model();
        f.equipment.push(EquipmentFact {
            kind: EquipmentKind::Computer,
            count: 0,
            dedicated: false,
        });
        assert_eq!(verdict(&f, "dedicated-hardware").0, RuleStatus::Met);
        f.equipment.push(EquipmentFact {
            kind: EquipmentKind::Printer,
            count: 1,
            dedicated: false,
        });
        assert_eq!(verdict(&f, "dedicated-hardware").1, "打印机非民政办专用");
    }

    #[test]
    fn cabinets_desks_and_seating_name_the_shortfall() {
        let mut f = model();
        for e in &mut f.equipment {
            if e.kind == EquipmentKind::ArchiveCabinet {
                e.count = 1;
            }
            if e.kind == EquipmentKind::DeskChair {
                e.count = 0;
            }
            if e.kind == EquipmentKind::VisitorSeating {
                e.count = 0;
            }
        }
        assert_eq!(
            verdict(&f, "archive-cabinets"),
            (
                RuleStatus::NotMet,
                "档案柜1个（标准不少于2个）".into(),
                "还需添置1个档案柜".into()
            )
        );
        assert_eq!(
            verdict(&f, "desks-chairs"),
            (
                RuleStatus::NotMet,
                "办公桌椅0套，在岗人员2名".into(),
                "还需添置2套办公桌椅".into()
            )
        );
        assert_eq!(verdict(&f, "visitor-seating").0, RuleStatus::NotMet);
        // Desks without staff recorded cannot be judged.
        let mut f = model();
        f.staff.clear();
        assert_eq!(verdict(&f, "desks-chairs").0, RuleStatus::NotRecorded);
    }

    #[test]
    fn boards_name_each_one_missing() {
        let mut f = model();
        f.notice_board = Some(false);
        assert_eq!(
            verdict(&f, "boards"),
            (
                RuleStatus::NotMet,
                "未建立救助对象公示栏".into(),
                "请建立长久、耐用的救助对象公示栏".into()
            )
        );
        f.policy_board = Some(false);
        assert_eq!(
            verdict(&f, "boards"),
            (
                RuleStatus::NotMet,
                "未建立政策宣传栏、救助对象公示栏".into(),
                "请建立长久、耐用的政策宣传栏和救助对象公示栏".into()
            )
        );
        f.policy_board = Some(true);
        f.notice_board = None;
        assert_eq!(verdict(&f, "boards").0, RuleStatus::NotRecorded);
    }

    #[test]
    fn any_hall_of_its_size_meets_the_high_standard() {
        let mut f = model();
        f.rooms.retain(|r| r.kind != RoomKind::ServiceHall);
        f.rooms.push(room(RoomKind::ServiceHall, 4_000));
        f.rooms.push(RoomFact {
            kind: RoomKind::ServiceHall,
            area_dm2: 2_500,
            shared_hall: true,
        });
        assert_eq!(
            verdict(&f, "service-hall"),
            (
                RuleStatus::Met,
                "单独设立的大厅40㎡（标准：单独设立不少于50㎡，综合大厅中不少于25㎡）".into(),
                String::new()
            )
        );
        // Two small stores together make the area.
        f.rooms.retain(|r| r.kind != RoomKind::SuppliesStore);
        f.rooms.push(room(RoomKind::SuppliesStore, 800));
        f.rooms.push(room(RoomKind::SuppliesStore, 700));
        assert_eq!(verdict(&f, "supplies-store").0, RuleStatus::Met);
    }

    #[test]
    fn areas_at_their_limits() {
        assert_eq!(parse_area_m2("1234567.5"), Some(123_456_750));
        assert_eq!(parse_area_m2("12345678"), None);
        assert_eq!(parse_area_m2(".5"), None);
        assert_eq!(parse_area_m2("5.5"), Some(550));
        assert_eq!(parse_area_m2(" 25 m² "), Some(2_500));
        assert_eq!(parse_area_m2("2.x"), None);
        assert_eq!(fmt_area(2_490), "24.9㎡");
        assert_eq!(fmt_area(5), "0.05㎡");
        assert_eq!(subsidy(Fen(1_000), 0), Some(Fen(0)));
        assert_eq!(subsidy(Fen(1_000), -1), None);
    }

    #[test]
    fn the_latest_thresholds_not_after_the_day_are_in_force() {
        let a = Thresholds::plan_2011();
        let b = Thresholds {
            effective_from: d("2020-01-01"),
            ..a.clone()
        };
        let c = Thresholds {
            effective_from: d("2026-07-01"),
            ..a.clone()
        };
        let list = [a.clone(), c.clone(), b.clone()];
        assert_eq!(Thresholds::in_force(&list, d("2026-06-30")), Some(&b));
        assert_eq!(Thresholds::in_force(&list, d("2030-01-01")), Some(&c));
        assert_eq!(Thresholds::in_force(&list, d("2019-12-31")), Some(&a));
    }
}
