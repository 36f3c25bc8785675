//! What an office records about its standardization, as read back: its profile, the roster
//! and the staff changes filed, village assistants, rooms, equipment, posted rules, the
//! construction plan, inspections, investments and subsidies; and the facts the rules judge
//! gathered from them.

use chrono::NaiveDate;
use serde::Serialize;

use super::rules::{
    EquipmentFact, EquipmentKind, Evaluation, OfficeFacts, OfficeKind, RoomFact, RoomKind,
    RuleStatus, StaffFact, Thresholds,
};
use super::workflow::{
    ChangeKind, ChangeStatus, InspectionStanding, InspectionStatus, ItemKind, PlanStanding,
    PlanStatus, SubsidyStatus,
};
use crate::offices::Office;
use crate::Fen;

crate::coded_enum! {
    /// The items of its premises an office records one by one (and may remove, and attach
    /// photos to).
    pub enum OfficeItem {
        Room = ("room", "用房"),
        Equipment = ("equipment", "设备"),
        PostedRule = ("posted_rule", "制度"),
    }
}

/// The office's own facts beyond name and contact (which live on the office).
#[derive(Debug, Clone, Serialize, Default, PartialEq, Eq)]
pub struct OfficeProfile {
    pub township_code: String,
    pub population: Option<i64>,
    pub kind: Option<OfficeKind>,
    pub city_street: bool,
    pub contact_name: String,
    pub contact_phone: String,
    pub signage: String,
    pub policy_board: Option<bool>,
    pub notice_board: Option<bool>,
    pub archives_organized: Option<bool>,
}

/// A member of the roster (current or past).
#[derive(Debug, Clone, Serialize)]
pub struct StaffMember {
    pub id: i64,
    pub township_code: String,
    pub name: String,
    pub position: String,
    pub is_director: bool,
    pub full_time: bool,
    pub since: String,
    pub doc_number: String,
    pub doc_date: Option<String>,
    pub active: bool,
    pub ended_on: Option<String>,
}

/// A filed staff change and its decision.
#[derive(Debug, Clone, Serialize)]
pub struct StaffChange {
    pub id: i64,
    pub township_code: String,
    pub kind: ChangeKind,
    pub staff_id: Option<i64>,
    pub name: String,
    pub position: String,
    pub is_director: bool,
    pub full_time: bool,
    pub effective_on: String,
    pub doc_number: String,
    pub doc_date: Option<String>,
    pub reason: String,
    pub status: ChangeStatus,
    pub filed_by: String,
    pub filed_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: String,
}

/// A village and its assistant (协理员), if any.
#[derive(Debug, Clone, Serialize)]
pub struct VillageAssistant {
    pub village_code: String,
    pub village_name: String,
    pub name: Option<String>,
    pub phone: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Room {
    pub id: i64,
    pub kind: RoomKind,
    /// Square decimetres (shown as m² by [`fmt_area`](super::fmt_area)).
    pub area_dm2: i64,
    pub shared_hall: bool,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Equipment {
    pub id: i64,
    pub kind: EquipmentKind,
    pub count: i64,
    pub dedicated: bool,
    pub note: String,
}

/// A rule or procedure posted on the wall.
#[derive(Debug, Clone, Serialize)]
pub struct PostedRule {
    pub id: i64,
    pub title: String,
    pub posted_on: String,
}

/// A township's construction plan (建设方案).
#[derive(Debug, Clone, Serialize)]
pub struct ConstructionPlan {
    pub township_code: String,
    pub items: String,
    pub budget: Fen,
    pub timeline: String,
    pub status: PlanStatus,
    pub submitted_at: String,
    pub reviewed_by: Option<String>,
    pub review_note: String,
}

/// One line of an inspection checklist.
#[derive(Debug, Clone, Serialize)]
pub struct InspectionItem {
    pub id: i64,
    /// The rule an automatic item scores.
    pub rule_id: Option<String>,
    pub label: String,
    pub max_score: i64,
    pub kind: ItemKind,
    /// The automatic rule's status when the inspection was opened.
    pub auto_status: Option<RuleStatus>,
    pub score: Option<i64>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rectification {
    pub id: i64,
    pub item: String,
    pub due_on: String,
    pub done_on: Option<String>,
}

/// A rectification with the office and inspection it belongs to.
#[derive(Debug, Clone)]
pub struct RectificationOf {
    pub township_code: String,
    pub inspection_id: i64,
    pub rectification: Rectification,
}

/// An inspection (检查验收) with its checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub id: i64,
    pub township_code: String,
    pub inspectors: String,
    pub inspected_on: String,
    pub status: InspectionStatus,
    pub findings: String,
    pub previous_id: Option<i64>,
    pub opened_by: String,
    pub decided_at: Option<String>,
    pub items: Vec<InspectionItem>,
    pub rectifications: Vec<Rectification>,
    pub score: i64,
    pub max_score: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Investment {
    pub id: i64,
    pub spent_on: String,
    pub item: String,
    pub amount: Fen,
    pub doc_number: String,
}

/// A subsidy granted on passing acceptance.
#[derive(Debug, Clone, Serialize)]
pub struct Subsidy {
    pub id: i64,
    pub township_code: String,
    pub office_name: String,
    pub county_name: String,
    pub inspection_id: i64,
    pub investment: Fen,
    pub percent: i64,
    pub amount: Fen,
    pub status: SubsidyStatus,
    pub disbursed_on: Option<String>,
    pub created_at: String,
}

/// The city's parameters and the plan deadline.
#[derive(Debug, Clone, Serialize)]
pub struct StandardParams {
    pub thresholds: Vec<Thresholds>,
    pub plan_deadline: Option<NaiveDate>,
}

impl StandardParams {
    /// The parameters in force on `as_of` (the plan's own before any were set).
    pub fn in_force(&self, as_of: NaiveDate) -> Thresholds {
        Thresholds::in_force(&self.thresholds, as_of)
            .cloned()
            .unwrap_or_else(Thresholds::plan_2011)
    }
}

/// One office on the city console.
#[derive(Debug, Clone, Serialize)]
pub struct OfficeStanding {
    pub township_code: String,
    pub name: String,
    pub county_code: String,
    pub county_name: String,
    pub evaluation: Evaluation,
    pub plan_status: PlanStanding,
    pub inspection_status: InspectionStanding,
    pub subsidy: Option<Fen>,
    pub subsidy_status: Option<SubsidyStatus>,
}

impl OfficeStanding {
    /// Basic rules not met or not recorded (for exports).
    pub fn failing_titles(&self) -> Vec<&'static str> {
        self.evaluation
            .failing()
            .iter()
            .map(|r| r.rule.title)
            .collect()
    }

    /// Basic rules recorded and not met (for the console, where “not recorded” is a count).
    pub fn not_met_titles(&self) -> String {
        self.evaluation
            .failing()
            .iter()
            .filter(|r| r.status == RuleStatus::NotMet)
            .map(|r| r.rule.title)
            .collect::<Vec<_>>()
            .join("、")
    }

    pub fn not_recorded_count(&self) -> usize {
        self.evaluation
            .failing()
            .iter()
            .filter(|r| r.status == RuleStatus::NotRecorded)
            .count()
    }
}

/// Everything on one office's standardization page.
#[derive(Debug, Clone, Serialize)]
pub struct OfficeStandards {
    pub office: Office,
    pub profile: OfficeProfile,
    pub staff: Vec<StaffMember>,
    pub former_staff: Vec<StaffMember>,
    pub changes: Vec<StaffChange>,
    pub assistants: Vec<VillageAssistant>,
    pub rooms: Vec<Room>,
    pub equipment: Vec<Equipment>,
    pub rules: Vec<PostedRule>,
    pub e_ledger: bool,
    pub plan: Option<ConstructionPlan>,
    pub plan_deadline: Option<NaiveDate>,
    pub plan_overdue: bool,
    pub inspections: Vec<Inspection>,
    pub investments: Vec<Investment>,
    pub investment_total: Fen,
    pub subsidies: Vec<Subsidy>,
    pub thresholds: Thresholds,
    pub evaluation: Evaluation,
}

/// One office's records as the rules see them. The roster is the staff in post; a village
/// counts as covered when its assistant is recorded.
pub fn office_facts(
    profile: &OfficeProfile,
    staff: &[StaffMember],
    assistants: &[VillageAssistant],
    rooms: &[Room],
    equipment: &[Equipment],
    rules_posted: usize,
    e_ledger: bool,
) -> OfficeFacts {
    OfficeFacts {
        population: profile.population,
        kind: profile.kind,
        city_street: profile.city_street,
        staff: staff.iter().map(staff_fact).collect(),
        village_count: assistants.len() as i64,
        villages_with_assistant: assistants.iter().filter(|a| a.name.is_some()).count() as i64,
        rooms: rooms.iter().map(room_fact).collect(),
        equipment: equipment.iter().map(equipment_fact).collect(),
        rules_posted: rules_posted as i64,
        policy_board: profile.policy_board,
        notice_board: profile.notice_board,
        archives_organized: profile.archives_organized,
        e_ledger,
    }
}

/// A member in post as the staffing rules see them: appointed by a filed document when its
/// number is recorded.
pub fn staff_fact(s: &StaffMember) -> StaffFact {
    StaffFact {
        full_time: s.full_time,
        director: s.is_director,
        has_document: !s.doc_number.is_empty(),
    }
}

pub fn room_fact(r: &Room) -> RoomFact {
    RoomFact {
        kind: r.kind,
        area_dm2: r.area_dm2,
        shared_hall: r.shared_hall,
    }
}

pub fn equipment_fact(e: &Equipment) -> EquipmentFact {
    EquipmentFact {
        kind: e.kind,
        count: e.count,
        dedicated: e.dedicated,
    }
}

#[cfg(test)]
impl Inspection {
    /// An open inspection of 511802001 with one manual item of 10 points scored `score`, and
    /// these rectifications, for the domain's unit tests.
    pub(crate) fn sample(score: Option<i64>, rectifications: Vec<Rectification>) -> Inspection {
        Inspection {
            id: 1,
            township_code: "511802001".into(),
            inspectors: "王".into(),
            inspected_on: "2026-06-01".into(),
            status: InspectionStatus::Open,
            findings: String::new(),
            previous_id: None,
            opened_by: "admin".into(),
            decided_at: None,
            items: vec![InspectionItem {
                id: 7,
                rule_id: None,
                label: "服务大厅".into(),
                max_score: 10,
                kind: ItemKind::Manual,
                auto_status: None,
                score,
                note: String::new(),
            }],
            rectifications,
            score: score.unwrap_or(0),
            max_score: 10,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(status: &[(&str, RuleStatus)]) -> OfficeStanding {
        OfficeStanding {
            township_code: "511802001".into(),
            name: "东城街道民政办公室".into(),
            county_code: "511802".into(),
            county_name: "雨城区".into(),
            evaluation: Evaluation::with_statuses(status),
            plan_status: PlanStanding::NotSubmitted,
            inspection_status: InspectionStanding::NotInspected,
            subsidy: None,
            subsidy_status: None,
        }
    }

    #[test]
    fn an_offices_failing_rules_are_the_basic_ones_not_met_or_not_recorded() {
        let o = standing(&[
            ("staff-count", RuleStatus::NotMet),
            ("one-director", RuleStatus::NotRecorded),
            ("staffing-document", RuleStatus::NotMet),
            ("service-hall", RuleStatus::NotMet),
        ]);
        assert_eq!(
            o.failing_titles(),
            ["专职工作人员人数", "设主任1名", "人员配备红头文件确认"]
        );
        assert_eq!(o.not_met_titles(), "专职工作人员人数、人员配备红头文件确认");
        assert_eq!(o.not_recorded_count(), 1);
        let all_met = standing(&[]);
        assert!(all_met.failing_titles().is_empty());
        assert_eq!(all_met.not_met_titles(), "");
        assert_eq!(all_met.not_recorded_count(), 0);
        let two = standing(&[
            ("one-director", RuleStatus::NotRecorded),
            ("three-rooms", RuleStatus::NotRecorded),
        ]);
        assert_eq!(two.not_recorded_count(), 2);
        assert_eq!(two.not_met_titles(), "");
    }

    fn member(full_time: bool, is_director: bool, doc_number: &str) -> StaffMember {
        StaffMember {
            id: 1,
            township_code: "511802001".into(),
            name: "王".into(),
            position: "干事".into(),
            is_director,
            full_time,
            since: "2025-01-01".into(),
            doc_number: doc_number.into(),
            doc_date: None,
            active: true,
            ended_on: None,
        }
    }

    #[test]
    fn the_records_become_the_facts_the_rules_read() {
        let profile = OfficeProfile {
            township_code: "511802001".into(),
            population: Some(32_000),
            kind: None,
            city_street: true,
            contact_name: String::new(),
            contact_phone: String::new(),
            signage: String::new(),
            policy_board: Some(true),
            notice_board: Some(false),
            archives_organized: None,
        };
        let staff = [
            member(true, true, "雨民发〔2026〕3号"),
            member(false, false, ""),
        ];
        let assistant = |name: Option<&str>| VillageAssistant {
            village_code: "511802001001".into(),
            village_name: "一村".into(),
            name: name.map(str::to_string),
            phone: String::new(),
        };
        let assistants = [
            assistant(Some("张")),
            assistant(None),
            assistant(Some("李")),
        ];
        let f = office_facts(&profile, &staff, &assistants, &[], &[], 4, true);
        assert_eq!(f.population, Some(32_000));
        assert!(f.city_street);
        assert_eq!(
            f.staff,
            [
                StaffFact {
                    full_time: true,
                    director: true,
                    has_document: true
                },
                StaffFact {
                    full_time: false,
                    director: false,
                    has_document: false
                },
            ]
        );
        assert_eq!((f.village_count, f.villages_with_assistant), (3, 2));
        assert_eq!(f.rules_posted, 4);
        assert_eq!(
            (f.policy_board, f.notice_board, f.archives_organized),
            (Some(true), Some(false), None)
        );
        assert!(f.e_ledger);
    }
}
