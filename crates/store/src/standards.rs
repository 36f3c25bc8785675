//! Office standardization (规范化建设): what each office has recorded, evaluated against the
//! city plan by the pure rules in `minzheng_domain::standards`.
//!
//! Who may do what: the township's director and staff record their own office's profile,
//! rooms, equipment, posted rules, village assistants, investments and construction plan, and
//! file staff changes; the city administrator (city scope) approves staff changes, sets the
//! parameters and the plan deadline, reviews plans, runs inspections and manages subsidies.
//! County approvers, auditors and village assistants only read here. Every read is scoped,
//! every write audited in its own transaction; the roster changes only through approved
//! staff changes.

use std::collections::HashMap;

use chrono::NaiveDate;
use minzheng_domain::standards::{
    evaluate, fmt_area, parse_area_m2, subsidy, EquipmentFact, EquipmentKind, Evaluation,
    OfficeFacts, OfficeKind, RoomFact, RoomKind, RuleLevel, RuleStatus, StaffFact, Thresholds,
    RULES,
};
use minzheng_domain::{Fen, Role};
use serde::{Deserialize, Serialize};

use crate::attachments::{insert_attachment, NewAttachment};
use crate::audit::{append, AuditEvent};
use crate::db::{q, DbRow, Store, Tx};
use crate::error::{StoreError, StoreResult};
use minzheng_domain::offices::Office;
use minzheng_domain::{Actor, Scope};

// ---------------------------------------------------------------- records

/// The office's own facts beyond name and contact (which live on `offices`).
#[derive(Debug, Clone, Serialize, Default)]
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

impl OfficeProfile {
    pub fn kind_label(&self) -> &'static str {
        self.kind.map(|k| k.label()).unwrap_or("未登记")
    }
}

/// The profile as entered; empty strings mean "not recorded".
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct ProfileUpdate {
    #[serde(default)]
    pub population: Option<i64>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub city_street: bool,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    #[serde(default)]
    pub signage: String,
    #[serde(default)]
    pub policy_board: Option<bool>,
    #[serde(default)]
    pub notice_board: Option<bool>,
    #[serde(default)]
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

/// The kinds of staff change (人员异动).
pub const CHANGE_KINDS: &[(&str, &str)] = &[
    ("appoint", "新任用"),
    ("transfer", "岗位调整"),
    ("depart", "调离/离职"),
    ("director", "任命主任"),
];

pub fn change_kind_label(k: &str) -> &'static str {
    CHANGE_KINDS
        .iter()
        .find(|(c, _)| *c == k)
        .map(|(_, l)| *l)
        .unwrap_or("未知")
}

/// A filed staff change and its decision.
#[derive(Debug, Clone, Serialize)]
pub struct StaffChange {
    pub id: i64,
    pub township_code: String,
    pub kind: String,
    pub kind_label: &'static str,
    pub staff_id: Option<i64>,
    pub name: String,
    pub position: String,
    pub is_director: bool,
    pub full_time: bool,
    pub effective_on: String,
    pub doc_number: String,
    pub doc_date: Option<String>,
    pub reason: String,
    /// pending / approved / rejected
    pub status: String,
    pub status_label: &'static str,
    pub filed_by: String,
    pub filed_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: String,
}

/// A staff change as filed by the township.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewStaffChange {
    pub kind: String,
    #[serde(default)]
    pub staff_id: Option<i64>,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub position: String,
    #[serde(default)]
    pub is_director: bool,
    #[serde(default)]
    pub full_time: bool,
    #[serde(default)]
    pub effective_on: String,
    #[serde(default)]
    pub doc_number: String,
    #[serde(default)]
    pub doc_date: Option<String>,
    #[serde(default)]
    pub reason: String,
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
    pub kind_label: &'static str,
    pub area_dm2: i64,
    pub area_label: String,
    pub shared_hall: bool,
    pub note: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewRoom {
    pub kind: String,
    /// Square metres as text, e.g. "59.9" (kept exact as dm²).
    pub area_m2: String,
    #[serde(default)]
    pub shared_hall: bool,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Equipment {
    pub id: i64,
    pub kind: EquipmentKind,
    pub kind_label: &'static str,
    pub count: i64,
    pub dedicated: bool,
    pub note: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewEquipment {
    pub kind: String,
    pub count: i64,
    #[serde(default)]
    pub dedicated: bool,
    #[serde(default)]
    pub note: String,
}

/// A rule or procedure posted on the wall.
#[derive(Debug, Clone, Serialize)]
pub struct PostedRule {
    pub id: i64,
    pub title: String,
    pub posted_on: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewPostedRule {
    pub title: String,
    pub posted_on: String,
}

/// A township's construction plan (建设方案).
#[derive(Debug, Clone, Serialize)]
pub struct ConstructionPlan {
    pub township_code: String,
    pub items: String,
    pub budget: Fen,
    pub budget_label: String,
    pub timeline: String,
    /// submitted / returned / accepted
    pub status: String,
    pub status_label: &'static str,
    pub submitted_at: String,
    pub reviewed_by: Option<String>,
    pub review_note: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewPlan {
    pub items: String,
    /// Yuan as text, e.g. "120000.00".
    pub budget: String,
    pub timeline: String,
}

/// One line of an inspection checklist.
#[derive(Debug, Clone, Serialize)]
pub struct InspectionItem {
    pub id: i64,
    pub rule_id: Option<String>,
    pub label: String,
    pub max_score: i64,
    /// The automatic rule's status when the inspection was opened.
    pub auto_status: Option<String>,
    pub score: Option<i64>,
    pub note: String,
}

impl InspectionItem {
    pub fn auto_label(&self) -> &'static str {
        match self.auto_status.as_deref() {
            Some("met") => "达标",
            Some("not_met") => "未达标",
            Some("not_recorded") => "未登记",
            _ => "人工评分",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Rectification {
    pub id: i64,
    pub item: String,
    pub due_on: String,
    pub done_on: Option<String>,
}

/// An inspection (检查验收) with its checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Inspection {
    pub id: i64,
    pub township_code: String,
    pub inspectors: String,
    pub inspected_on: String,
    /// open / passed / failed
    pub status: String,
    pub status_label: &'static str,
    pub findings: String,
    pub previous_id: Option<i64>,
    pub opened_by: String,
    pub decided_at: Option<String>,
    pub items: Vec<InspectionItem>,
    pub rectifications: Vec<Rectification>,
    pub score: i64,
    pub max_score: i64,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewInspection {
    pub inspectors: String,
    pub inspected_on: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Investment {
    pub id: i64,
    pub spent_on: String,
    pub item: String,
    pub amount: Fen,
    pub amount_label: String,
    pub doc_number: String,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default)]
pub struct NewInvestment {
    pub spent_on: String,
    pub item: String,
    /// Yuan as text.
    pub amount: String,
    #[serde(default)]
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
    pub amount_label: String,
    pub investment_label: String,
    /// pending / disbursed
    pub status: String,
    pub status_label: &'static str,
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
    /// none / submitted / returned / accepted / overdue
    pub plan_status: String,
    pub plan_label: &'static str,
    /// none / open / passed / failed
    pub inspection_status: String,
    pub inspection_label: &'static str,
    pub subsidy: Option<Fen>,
    pub subsidy_status: Option<String>,
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
    pub fn subsidy_label(&self) -> String {
        self.subsidy.map(|f| f.to_string()).unwrap_or_default()
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

// ---------------------------------------------------------------- helpers

fn status_label(s: &str) -> &'static str {
    match s {
        "pending" => "待审批",
        "approved" => "已同意",
        "rejected" => "已退回",
        "submitted" => "已报送待审核",
        "returned" => "已退回修改",
        "accepted" => "已审核通过",
        "overdue" => "逾期未报",
        "none" => "未报送",
        "open" => "检查中",
        "passed" => "验收通过",
        "failed" => "验收未通过",
        "disbursed" => "已拨付",
        "unpaid" => "待拨付",
        _ => "未知",
    }
}

fn inspection_status_label(s: &str) -> &'static str {
    if s == "none" {
        "未检查"
    } else {
        status_label(s)
    }
}

fn subsidy_status_label(s: &str) -> &'static str {
    if s == "pending" {
        "待拨付"
    } else {
        status_label(s)
    }
}

fn tri(v: Option<i64>) -> Option<bool> {
    v.map(|x| x != 0)
}

fn tri_arg(v: Option<bool>) -> Option<i64> {
    v.map(i64::from)
}

fn text(field: &str, label: &str, v: &str, max: usize, required: bool) -> StoreResult<String> {
    let v = v.trim();
    if required && v.is_empty() {
        return Err(StoreError::field(field, format!("请填写{label}")));
    }
    if v.chars().count() > max {
        return Err(StoreError::field(field, format!("{label}最长{max}个字")));
    }
    Ok(v.to_string())
}

fn date(field: &str, label: &str, v: &str) -> StoreResult<NaiveDate> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map_err(|_| StoreError::field(field, format!("{label}格式不正确，应为如2026-03-01的日期")))
}

fn opt_date(field: &str, label: &str, v: Option<&str>) -> StoreResult<Option<String>> {
    match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Ok(Some(date(field, label, s)?.to_string())),
    }
}

fn money(field: &str, label: &str, v: &str) -> StoreResult<Fen> {
    let f: Fen = v.trim().parse().map_err(|e: minzheng_domain::MoneyError| {
        StoreError::field(field, format!("{label}：{e}"))
    })?;
    if f.is_negative() {
        return Err(StoreError::field(field, format!("{label}不能为负数")));
    }
    Ok(f)
}

fn is_city_admin(actor: &Actor) -> bool {
    match actor.role {
        None => true,
        Some(r) => {
            r == Role::CityAdmin && actor.scope.code().is_some_and(|c| c.as_str().len() <= 4)
        }
    }
}

fn require_city_admin(actor: &Actor, what: &str) -> StoreResult<()> {
    if is_city_admin(actor) {
        Ok(())
    } else {
        Err(StoreError::Forbidden(format!(
            "只有市民政局管理员可以{what}"
        )))
    }
}

/// Township staff, their director and the city administrator record an office's data.
fn can_record(actor: &Actor, township_code: &str) -> bool {
    actor.scope.contains_str(township_code)
        && match actor.role {
            None => true,
            Some(r) => matches!(
                r,
                Role::CityAdmin | Role::TownshipDirector | Role::TownshipStaff
            ),
        }
}

#[allow(clippy::too_many_arguments)]
async fn audit(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    scope_code: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> StoreResult<()> {
    append(
        tx,
        actor,
        AuditEvent {
            action,
            entity_type,
            entity_id,
            scope_code,
            before,
            after,
        },
    )
    .await
    .map(|_| ())
}

fn staff_from_row(r: &DbRow) -> StoreResult<StaffMember> {
    Ok(StaffMember {
        id: r.i64("id")?,
        township_code: r.str("township_code")?,
        name: r.str("name")?,
        position: r.str("position")?,
        is_director: r.bool("is_director")?,
        full_time: r.bool("full_time")?,
        since: r.str("since")?,
        doc_number: r.str("doc_number")?,
        doc_date: r.opt_str("doc_date")?,
        active: r.bool("active")?,
        ended_on: r.opt_str("ended_on")?,
    })
}

fn change_from_row(r: &DbRow) -> StoreResult<StaffChange> {
    let kind = r.str("kind")?;
    let status = r.str("status")?;
    Ok(StaffChange {
        id: r.i64("id")?,
        township_code: r.str("township_code")?,
        kind_label: change_kind_label(&kind),
        kind,
        staff_id: r.opt_i64("staff_id")?,
        name: r.str("name")?,
        position: r.str("position")?,
        is_director: r.bool("is_director")?,
        full_time: r.bool("full_time")?,
        effective_on: r.str("effective_on")?,
        doc_number: r.str("doc_number")?,
        doc_date: r.opt_str("doc_date")?,
        reason: r.str("reason")?,
        status_label: status_label(&status),
        status,
        filed_by: r.str("filed_by")?,
        filed_at: r.str("filed_at")?,
        decided_by: r.opt_str("decided_by")?,
        decided_at: r.opt_str("decided_at")?,
        decision_note: r.str("decision_note")?,
    })
}

fn room_from_row(r: &DbRow) -> StoreResult<Room> {
    let kind = RoomKind::parse(&r.str("kind")?).unwrap_or(RoomKind::Office);
    let area = r.i64("area_dm2")?;
    Ok(Room {
        id: r.i64("id")?,
        kind,
        kind_label: kind.label(),
        area_dm2: area,
        area_label: fmt_area(area),
        shared_hall: r.bool("shared_hall")?,
        note: r.str("note")?,
    })
}

fn equipment_from_row(r: &DbRow) -> StoreResult<Equipment> {
    let kind = EquipmentKind::parse(&r.str("kind")?).unwrap_or(EquipmentKind::Computer);
    Ok(Equipment {
        id: r.i64("id")?,
        kind,
        kind_label: kind.label(),
        count: r.i64("count")?,
        dedicated: r.bool("dedicated")?,
        note: r.str("note")?,
    })
}

fn plan_from_row(r: &DbRow) -> StoreResult<ConstructionPlan> {
    let status = r.str("status")?;
    let budget = Fen(r.i64("budget_fen")?);
    Ok(ConstructionPlan {
        township_code: r.str("township_code")?,
        items: r.str("items")?,
        budget,
        budget_label: budget.to_string(),
        timeline: r.str("timeline")?,
        status_label: status_label(&status),
        status,
        submitted_at: r.str("submitted_at")?,
        reviewed_by: r.opt_str("reviewed_by")?,
        review_note: r.str("review_note")?,
    })
}

fn subsidy_from_row(r: &DbRow) -> StoreResult<Subsidy> {
    let status = r.str("status")?;
    let amount = Fen(r.i64("amount_fen")?);
    let investment = Fen(r.i64("investment_fen")?);
    Ok(Subsidy {
        id: r.i64("id")?,
        township_code: r.str("township_code")?,
        office_name: r.opt_str("office_name")?.unwrap_or_default(),
        county_name: r.opt_str("county_name")?.unwrap_or_default(),
        inspection_id: r.i64("inspection_id")?,
        investment,
        percent: r.i64("percent")?,
        amount,
        amount_label: amount.to_string(),
        investment_label: investment.to_string(),
        status_label: subsidy_status_label(&status),
        status,
        disbursed_on: r.opt_str("disbursed_on")?,
        created_at: r.str("created_at")?,
    })
}

const SUBSIDY_SELECT: &str = "SELECT s.*, o.name AS office_name, c.name AS county_name
    FROM subsidies s JOIN offices o ON o.township_code = s.township_code
    LEFT JOIN divisions t ON t.code = s.township_code
    LEFT JOIN divisions c ON c.code = t.parent_code";

/// The manual checklist items inspectors score (plan §四(一)(二), §二(三)5).
const MANUAL_ITEMS: &[(&str, i64)] = &[
    ("办公场地设置合理、室内美观整洁、基本设施规范统一", 10),
    ("村(居委会)基本硬件设施和政务公开情况", 10),
    ("台账资料规范无差错、各类对象资料齐全详实", 10),
];
/// Points for each automatic rule.
const AUTO_POINTS: i64 = 5;

// ---------------------------------------------------------------- store API

impl Store {
    /// The city's parameters (all effective dates) and the plan deadline.
    pub async fn standard_params(&self) -> StoreResult<StandardParams> {
        let rows = self
            .fetch_all(q(
                "SELECT effective_from, params_json, plan_deadline FROM std_params ORDER BY effective_from",
            ))
            .await?;
        let mut thresholds = Vec::new();
        let mut deadline = None;
        for r in &rows {
            let t: Thresholds = serde_json::from_str(&r.str("params_json")?)
                .map_err(|e| StoreError::Internal(format!("参数记录无法解析：{e}")))?;
            thresholds.push(t);
            if let Some(d) = r.opt_str("plan_deadline")? {
                deadline = NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok();
            }
        }
        if thresholds.is_empty() {
            thresholds.push(Thresholds::plan_2011());
        }
        Ok(StandardParams {
            thresholds,
            plan_deadline: deadline,
        })
    }

    /// Sets the parameters in force from `t.effective_from` (replacing any set for that
    /// date) and the plan submission deadline. City administrator only.
    pub async fn set_standard_params(
        &self,
        actor: &Actor,
        t: &Thresholds,
        plan_deadline: Option<NaiveDate>,
    ) -> StoreResult<()> {
        require_city_admin(actor, "设置规范化建设参数")?;
        if let Err((f, m)) = t.validate() {
            return Err(StoreError::field(f, m));
        }
        let json = serde_json::to_string(t).map_err(|e| StoreError::Internal(e.to_string()))?;
        let eff = t.effective_from.to_string();
        let mut tx = self.begin_write().await?;
        let before = tx
            .fetch_optional(
                q("SELECT params_json FROM std_params WHERE effective_from = $1").bind(&eff),
            )
            .await?
            .map(|r| r.str("params_json"))
            .transpose()?;
        tx.execute(q("DELETE FROM std_params WHERE effective_from = $1").bind(&eff))
            .await?;
        tx.execute(
            q(
                "INSERT INTO std_params (effective_from, params_json, plan_deadline, updated_at)
               VALUES ($1, $2, $3, $4)",
            )
            .bind(&eff)
            .bind(&json)
            .bind(plan_deadline.map(|d| d.to_string()))
            .bind(crate::timestamp(chrono::Utc::now())),
        )
        .await?;
        audit(
            &mut tx,
            actor,
            "standards.params",
            "std_params",
            &eff,
            actor.scope.code_str(),
            before.map(serde_json::Value::String),
            Some(serde_json::json!({"params": t, "plan_deadline": plan_deadline})),
        )
        .await?;
        tx.commit().await
    }

    async fn visible_office(&self, scope: &Scope, code: &str) -> StoreResult<Office> {
        crate::offices::get(self, scope, code).await
    }

    /// The office, if the actor may record its data (404 outside the scope, 403 otherwise).
    async fn recordable_office(&self, actor: &Actor, code: &str) -> StoreResult<Office> {
        let o = self.visible_office(&actor.scope, code).await?;
        if !can_record(actor, code) {
            return Err(StoreError::Forbidden(
                "您的角色无权修改该民政办公室的规范化建设信息".into(),
            ));
        }
        Ok(o)
    }

    /// Everything about one office's standardization, evaluated as of `as_of`.
    pub async fn office_standards(
        &self,
        scope: &Scope,
        code: &str,
        as_of: NaiveDate,
    ) -> StoreResult<OfficeStandards> {
        let office = self.visible_office(scope, code).await?;
        let profile = self.profile_of(code).await?;
        let all_staff = self
            .fetch_all(
                q("SELECT * FROM office_staff WHERE township_code = $1 ORDER BY is_director DESC, id")
                    .bind(code),
            )
            .await?
            .iter()
            .map(staff_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let (staff, former_staff): (Vec<_>, Vec<_>) = all_staff.into_iter().partition(|s| s.active);
        let changes = self
            .fetch_all(
                q("SELECT * FROM staff_changes WHERE township_code = $1 ORDER BY id DESC")
                    .bind(code),
            )
            .await?
            .iter()
            .map(change_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let assistants = self
            .fetch_all(
                q(
                    "SELECT d.code, d.name AS village_name, a.name, a.phone FROM divisions d
                   LEFT JOIN village_assistants a ON a.village_code = d.code
                   WHERE d.parent_code = $1 ORDER BY d.code",
                )
                .bind(code),
            )
            .await?
            .iter()
            .map(|r| {
                Ok(VillageAssistant {
                    village_code: r.str("code")?,
                    village_name: r.str("village_name")?,
                    name: r.opt_str("name")?,
                    phone: r.opt_str("phone")?.unwrap_or_default(),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let rooms = self
            .fetch_all(
                q("SELECT * FROM office_rooms WHERE township_code = $1 ORDER BY id").bind(code),
            )
            .await?
            .iter()
            .map(room_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let equipment = self
            .fetch_all(
                q("SELECT * FROM office_equipment WHERE township_code = $1 ORDER BY id").bind(code),
            )
            .await?
            .iter()
            .map(equipment_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let rules = self
            .fetch_all(
                q("SELECT * FROM office_rules WHERE township_code = $1 ORDER BY posted_on, id")
                    .bind(code),
            )
            .await?
            .iter()
            .map(|r| {
                Ok(PostedRule {
                    id: r.i64("id")?,
                    title: r.str("title")?,
                    posted_on: r.str("posted_on")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let e_ledger = self.e_ledger_in_use(code).await?;
        let plan = self
            .fetch_optional(
                q("SELECT * FROM construction_plans WHERE township_code = $1").bind(code),
            )
            .await?
            .map(|r| plan_from_row(&r))
            .transpose()?;
        let params = self.standard_params().await?;
        let plan_overdue = plan_overdue(
            plan.as_ref().map(|p| p.status.as_str()),
            params.plan_deadline,
            as_of,
        );
        let ids: Vec<i64> = self
            .fetch_all(
                q("SELECT id FROM inspections WHERE township_code = $1 ORDER BY id DESC")
                    .bind(code),
            )
            .await?
            .iter()
            .map(|r| r.i64("id"))
            .collect::<StoreResult<_>>()?;
        let mut inspections = Vec::new();
        for id in ids {
            inspections.push(self.load_inspection(id).await?);
        }
        let investments = self
            .fetch_all(
                q("SELECT * FROM investments WHERE township_code = $1 ORDER BY spent_on, id")
                    .bind(code),
            )
            .await?
            .iter()
            .map(|r| {
                let amount = Fen(r.i64("amount_fen")?);
                Ok(Investment {
                    id: r.i64("id")?,
                    spent_on: r.str("spent_on")?,
                    item: r.str("item")?,
                    amount,
                    amount_label: amount.to_string(),
                    doc_number: r.str("doc_number")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let investment_total = Fen::sum_checked(investments.iter().map(|i| i.amount))
            .ok_or_else(|| StoreError::Internal("投入金额合计溢出".into()))?;
        let subsidies = self
            .fetch_all(
                q(format!(
                    "{SUBSIDY_SELECT} WHERE s.township_code = $1 ORDER BY s.id"
                ))
                .bind(code),
            )
            .await?
            .iter()
            .map(subsidy_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let thresholds = params.in_force(as_of);
        let facts = OfficeFacts {
            population: profile.population,
            kind: profile.kind,
            city_street: profile.city_street,
            staff: staff
                .iter()
                .map(|s| StaffFact {
                    full_time: s.full_time,
                    director: s.is_director,
                    has_document: !s.doc_number.is_empty(),
                })
                .collect(),
            village_count: assistants.len() as i64,
            villages_with_assistant: assistants.iter().filter(|a| a.name.is_some()).count() as i64,
            rooms: rooms
                .iter()
                .map(|r| RoomFact {
                    kind: r.kind,
                    area_dm2: r.area_dm2,
                    shared_hall: r.shared_hall,
                })
                .collect(),
            equipment: equipment
                .iter()
                .map(|e| EquipmentFact {
                    kind: e.kind,
                    count: e.count,
                    dedicated: e.dedicated,
                })
                .collect(),
            rules_posted: rules.len() as i64,
            policy_board: profile.policy_board,
            notice_board: profile.notice_board,
            archives_organized: profile.archives_organized,
            e_ledger,
        };
        let evaluation = evaluate(&facts, &thresholds, as_of);
        Ok(OfficeStandards {
            office,
            profile,
            staff,
            former_staff,
            changes,
            assistants,
            rooms,
            equipment,
            rules,
            e_ledger,
            plan,
            plan_deadline: params.plan_deadline,
            plan_overdue,
            inspections,
            investments,
            investment_total,
            subsidies,
            thresholds,
            evaluation,
        })
    }

    /// The electronic ledger is "in use" when the office keeps its work in this system: the
    /// township has households in the registry, or (before its ledger is imported) an active
    /// account that works here.
    async fn e_ledger_in_use(&self, code: &str) -> StoreResult<bool> {
        Ok(self
            .fetch_one(
                q(
                    "SELECT (SELECT COUNT(*) FROM households WHERE township_code = $1)
                        + (SELECT COUNT(*) FROM users
                           WHERE scope_code >= $1 AND scope_code < $2 AND active = $3) AS n",
                )
                .bind(code)
                .bind(format!("{code}:"))
                .bind(true),
            )
            .await?
            .i64("n")?
            > 0)
    }

    async fn profile_of(&self, code: &str) -> StoreResult<OfficeProfile> {
        let row = self
            .fetch_optional(q("SELECT * FROM office_profiles WHERE township_code = $1").bind(code))
            .await?;
        Ok(match row {
            None => OfficeProfile {
                township_code: code.to_string(),
                ..Default::default()
            },
            Some(r) => profile_from_row(&r)?,
        })
    }

    /// Records the office's profile.
    pub async fn update_profile(
        &self,
        actor: &Actor,
        code: &str,
        u: &ProfileUpdate,
    ) -> StoreResult<OfficeProfile> {
        self.recordable_office(actor, code).await?;
        if let Some(p) = u.population {
            if !(0..=10_000_000).contains(&p) {
                return Err(StoreError::field(
                    "population",
                    "辖区人口应为0到1000万之间的整数",
                ));
            }
        }
        let kind = match u.kind.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(k) => Some(
                OfficeKind::parse(k)
                    .ok_or_else(|| StoreError::field("kind", "类型只能是乡、镇或街道"))?,
            ),
        };
        if u.city_street && kind != Some(OfficeKind::Jiedao) {
            return Err(StoreError::field(
                "city_street",
                "只有街道才能标记为市区街道办事处",
            ));
        }
        let contact_name = text("contact_name", "联系人", &u.contact_name, 40, false)?;
        let contact_phone = text("contact_phone", "联系人电话", &u.contact_phone, 40, false)?;
        let signage = text("signage", "标识标牌说明", &u.signage, 200, false)?;
        let before = self.profile_of(code).await?;
        let mut tx = self.begin_write().await?;
        tx.execute(q("DELETE FROM office_profiles WHERE township_code = $1").bind(code))
            .await?;
        tx.execute(
            q("INSERT INTO office_profiles (township_code, population, kind, city_street, contact_name,
                 contact_phone, signage, policy_board, notice_board, archives_organized, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
            .bind(code)
            .bind(u.population)
            .bind(kind.map(|k| k.as_str().to_string()))
            .bind(u.city_street)
            .bind(&contact_name)
            .bind(&contact_phone)
            .bind(&signage)
            .bind(tri_arg(u.policy_board))
            .bind(tri_arg(u.notice_board))
            .bind(tri_arg(u.archives_organized))
            .bind(crate::timestamp(chrono::Utc::now())),
        )
        .await?;
        let after = OfficeProfile {
            township_code: code.into(),
            population: u.population,
            kind,
            city_street: u.city_street,
            contact_name,
            contact_phone,
            signage,
            policy_board: u.policy_board,
            notice_board: u.notice_board,
            archives_organized: u.archives_organized,
        };
        audit(
            &mut tx,
            actor,
            "standards.profile",
            "office",
            code,
            code,
            serde_json::to_value(&before).ok(),
            serde_json::to_value(&after).ok(),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Files a staff change; the roster changes only when the city approves it.
    pub async fn file_staff_change(
        &self,
        actor: &Actor,
        code: &str,
        c: &NewStaffChange,
    ) -> StoreResult<StaffChange> {
        self.recordable_office(actor, code).await?;
        if !CHANGE_KINDS.iter().any(|(k, _)| *k == c.kind) {
            return Err(StoreError::field("kind", "请选择异动类型"));
        }
        let effective = date("effective_on", "生效日期", &c.effective_on)?;
        let doc_number = text("doc_number", "任用文件文号", &c.doc_number, 80, true)?;
        let doc_date = opt_date("doc_date", "文件日期", c.doc_date.as_deref())?;
        let reason = text("reason", "异动原因", &c.reason, 500, false)?;
        let (name, position, is_director, full_time, staff_id) = if c.kind == "appoint" {
            (
                text("name", "姓名", &c.name, 40, true)?,
                text("position", "职务", &c.position, 40, true)?,
                c.is_director,
                c.full_time,
                None,
            )
        } else {
            let id = c
                .staff_id
                .ok_or_else(|| StoreError::field("staff_id", "请选择在岗人员"))?;
            let row = self
                .fetch_optional(
                    q("SELECT * FROM office_staff WHERE id = $1 AND township_code = $2 AND active = $3")
                        .bind(id)
                        .bind(code)
                        .bind(true),
                )
                .await?
                .ok_or_else(|| StoreError::field("staff_id", "该人员不在本办在岗名册中"))?;
            let s = staff_from_row(&row)?;
            match c.kind.as_str() {
                "transfer" => (
                    s.name,
                    text("position", "新职务", &c.position, 40, true)?,
                    c.is_director,
                    c.full_time,
                    Some(id),
                ),
                "director" => (s.name, "民政办主任".into(), true, s.full_time, Some(id)),
                _ => (s.name, s.position, s.is_director, s.full_time, Some(id)),
            }
        };
        let mut tx = self.begin_write().await?;
        let id = tx
            .fetch_one(
                q("INSERT INTO staff_changes (township_code, kind, staff_id, name, position, is_director,
                     full_time, effective_on, doc_number, doc_date, reason, status, filed_by, filed_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $13) RETURNING id")
                .bind(code)
                .bind(&c.kind)
                .bind(staff_id)
                .bind(&name)
                .bind(&position)
                .bind(is_director)
                .bind(full_time)
                .bind(effective.to_string())
                .bind(&doc_number)
                .bind(doc_date.clone())
                .bind(&reason)
                .bind(&actor.username)
                .bind(crate::timestamp(chrono::Utc::now())),
            )
            .await?
            .i64("id")?;
        audit(
            &mut tx,
            actor,
            "staff_change.file",
            "staff_change",
            &id.to_string(),
            code,
            None,
            Some(
                serde_json::json!({"kind": c.kind, "staff_id": staff_id, "name": name,
                "position": position, "is_director": is_director, "full_time": full_time,
                "effective_on": effective, "doc_number": doc_number, "doc_date": doc_date}),
            ),
        )
        .await?;
        tx.commit().await?;
        self.get_staff_change(&actor.scope, id).await
    }

    pub async fn get_staff_change(&self, scope: &Scope, id: i64) -> StoreResult<StaffChange> {
        let (lo, hi) = scope.bounds();
        let row = self
            .fetch_optional(
                q("SELECT * FROM staff_changes WHERE id = $1 AND township_code >= $2 AND township_code < $3")
                    .bind(id)
                    .bind(lo)
                    .bind(hi),
            )
            .await?
            .ok_or(StoreError::NotFound("该人员异动"))?;
        change_from_row(&row)
    }

    /// Pending staff changes in scope (the city's approval queue).
    pub async fn pending_staff_changes(&self, scope: &Scope) -> StoreResult<Vec<StaffChange>> {
        let (lo, hi) = scope.bounds();
        self.fetch_all(
            q(
                "SELECT * FROM staff_changes WHERE status = 'pending' AND township_code >= $1
               AND township_code < $2 ORDER BY id",
            )
            .bind(lo)
            .bind(hi),
        )
        .await?
        .iter()
        .map(change_from_row)
        .collect()
    }

    /// Approves (and applies to the roster) or rejects a pending staff change.
    pub async fn decide_staff_change(
        &self,
        actor: &Actor,
        id: i64,
        approve: bool,
        note: &str,
    ) -> StoreResult<StaffChange> {
        let c = self.get_staff_change(&actor.scope, id).await?;
        require_city_admin(actor, "审批人员异动")?;
        let note = text("note", "审批意见", note, 500, false)?;
        if !approve && note.is_empty() {
            return Err(StoreError::field("note", "退回时请写明原因"));
        }
        let mut tx = self.begin_write().await?;
        // Claim the change first with a conditional update: of two approvers racing (on
        // PostgreSQL, where writers do not queue), only one sees a row change and goes on to
        // apply it to the roster; the other gets the conflict.
        let new_status = if approve { "approved" } else { "rejected" };
        let claimed = tx
            .execute(
                q("UPDATE staff_changes SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4
                   WHERE id = $5 AND status = 'pending'")
                .bind(new_status)
                .bind(&actor.username)
                .bind(crate::timestamp(chrono::Utc::now()))
                .bind(&note)
                .bind(id),
            )
            .await?;
        if claimed == 0 {
            let status = tx
                .fetch_one(q("SELECT status FROM staff_changes WHERE id = $1").bind(id))
                .await?
                .str("status")?;
            return Err(StoreError::Conflict(format!(
                "该人员异动已{}，不能重复审批",
                status_label(&status)
            )));
        }
        let code = c.township_code.as_str();
        if approve {
            match c.kind.as_str() {
                "appoint" => {
                    if c.is_director {
                        tx.execute(
                            q("UPDATE office_staff SET is_director = $1 WHERE township_code = $2 AND active = $3")
                                .bind(false)
                                .bind(code)
                                .bind(true),
                        )
                        .await?;
                    }
                    tx.execute(
                        q("INSERT INTO office_staff (township_code, name, position, is_director, full_time,
                             since, doc_number, doc_date, active)
                           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                        .bind(code)
                        .bind(&c.name)
                        .bind(&c.position)
                        .bind(c.is_director)
                        .bind(c.full_time)
                        .bind(&c.effective_on)
                        .bind(&c.doc_number)
                        .bind(c.doc_date.clone())
                        .bind(true),
                    )
                    .await?;
                }
                kind => {
                    let sid = c.staff_id.unwrap_or(0);
                    let still = tx
                        .fetch_optional(
                            q("SELECT id FROM office_staff WHERE id = $1 AND active = $2")
                                .bind(sid)
                                .bind(true),
                        )
                        .await?;
                    if still.is_none() {
                        return Err(StoreError::Conflict(
                            "该人员已不在岗，此异动无法生效，请退回".into(),
                        ));
                    }
                    if c.is_director {
                        tx.execute(
                            q("UPDATE office_staff SET is_director = $1 WHERE township_code = $2 AND active = $3")
                                .bind(false)
                                .bind(code)
                                .bind(true),
                        )
                        .await?;
                    }
                    let upd = match kind {
                        "depart" => q("UPDATE office_staff SET active = $1, ended_on = $2, is_director = $3 WHERE id = $4")
                            .bind(false)
                            .bind(&c.effective_on)
                            .bind(false)
                            .bind(sid),
                        _ => q("UPDATE office_staff SET position = $1, is_director = $2, full_time = $3,
                                  doc_number = $4, doc_date = $5 WHERE id = $6")
                            .bind(&c.position)
                            .bind(c.is_director)
                            .bind(c.full_time)
                            .bind(&c.doc_number)
                            .bind(c.doc_date.clone())
                            .bind(sid),
                    };
                    tx.execute(upd).await?;
                }
            }
        }
        audit(
            &mut tx,
            actor,
            if approve {
                "staff_change.approve"
            } else {
                "staff_change.reject"
            },
            "staff_change",
            &id.to_string(),
            code,
            Some(serde_json::json!({"status": "pending"})),
            Some(serde_json::json!({"status": new_status, "note": note})),
        )
        .await?;
        tx.commit().await?;
        self.get_staff_change(&actor.scope, id).await
    }

    /// Records (or, with an empty name, removes) a village's assistant.
    pub async fn set_village_assistant(
        &self,
        actor: &Actor,
        village_code: &str,
        name: &str,
        phone: &str,
    ) -> StoreResult<()> {
        let township = village_code.get(..9).unwrap_or("");
        if village_code.len() != 12 {
            return Err(StoreError::NotFound("该村(社区)"));
        }
        self.recordable_office(actor, township).await?;
        let exists = self
            .fetch_optional(
                q("SELECT code FROM divisions WHERE code = $1 AND parent_code = $2")
                    .bind(village_code)
                    .bind(township),
            )
            .await?;
        if exists.is_none() {
            return Err(StoreError::NotFound("该村(社区)"));
        }
        let name = text("name", "协理员姓名", name, 40, false)?;
        let phone = text("phone", "联系电话", phone, 40, false)?;
        let mut tx = self.begin_write().await?;
        let before = tx
            .fetch_optional(
                q("SELECT name FROM village_assistants WHERE village_code = $1").bind(village_code),
            )
            .await?
            .map(|r| r.str("name"))
            .transpose()?;
        tx.execute(q("DELETE FROM village_assistants WHERE village_code = $1").bind(village_code))
            .await?;
        if !name.is_empty() {
            tx.execute(
                q("INSERT INTO village_assistants (village_code, township_code, name, phone, updated_at)
                   VALUES ($1, $2, $3, $4, $5)")
                .bind(village_code)
                .bind(township)
                .bind(&name)
                .bind(&phone)
                .bind(crate::timestamp(chrono::Utc::now())),
            )
            .await?;
        }
        audit(
            &mut tx,
            actor,
            "standards.assistant",
            "village",
            village_code,
            village_code,
            before.map(|n| serde_json::json!({"name": n})),
            Some(serde_json::json!({"name": name, "phone": phone})),
        )
        .await?;
        tx.commit().await
    }

    /// Adds a room.
    pub async fn add_room(&self, actor: &Actor, code: &str, r: &NewRoom) -> StoreResult<i64> {
        self.recordable_office(actor, code).await?;
        let kind = RoomKind::parse(r.kind.trim())
            .ok_or_else(|| StoreError::field("kind", "请选择用房类型"))?;
        let area = parse_area_m2(&r.area_m2).ok_or_else(|| {
            StoreError::field("area_m2", "面积应为数字（平方米，最多两位小数），如59.9")
        })?;
        if r.shared_hall && kind != RoomKind::ServiceHall {
            return Err(StoreError::field(
                "shared_hall",
                "只有服务大厅可以标记为综合大厅",
            ));
        }
        let note = text("note", "备注", &r.note, 200, false)?;
        self.insert_owned(
            actor,
            code,
            "room",
            q("INSERT INTO office_rooms (township_code, kind, area_dm2, shared_hall, note)
               VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(code)
            .bind(kind.as_str())
            .bind(area)
            .bind(r.shared_hall)
            .bind(&note),
            serde_json::json!({"kind": kind, "area_dm2": area, "shared_hall": r.shared_hall, "note": note}),
        )
        .await
    }

    /// Adds an equipment line.
    pub async fn add_equipment(
        &self,
        actor: &Actor,
        code: &str,
        e: &NewEquipment,
    ) -> StoreResult<i64> {
        self.recordable_office(actor, code).await?;
        let kind = EquipmentKind::parse(e.kind.trim())
            .ok_or_else(|| StoreError::field("kind", "请选择设备类型"))?;
        if !(1..=1000).contains(&e.count) {
            return Err(StoreError::field("count", "数量应为1到1000之间的整数"));
        }
        let note = text("note", "备注", &e.note, 200, false)?;
        self.insert_owned(
            actor,
            code,
            "equipment",
            q("INSERT INTO office_equipment (township_code, kind, count, dedicated, note)
               VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(code)
            .bind(kind.as_str())
            .bind(e.count)
            .bind(e.dedicated)
            .bind(&note),
            serde_json::json!({"kind": kind, "count": e.count, "dedicated": e.dedicated, "note": note}),
        )
        .await
    }

    /// Adds a posted rule or procedure.
    pub async fn add_posted_rule(
        &self,
        actor: &Actor,
        code: &str,
        r: &NewPostedRule,
    ) -> StoreResult<i64> {
        self.recordable_office(actor, code).await?;
        let title = text("title", "制度名称", &r.title, 100, true)?;
        let posted = date("posted_on", "公示日期", &r.posted_on)?;
        self.insert_owned(
            actor,
            code,
            "posted_rule",
            q("INSERT INTO office_rules (township_code, title, posted_on) VALUES ($1, $2, $3) RETURNING id")
                .bind(code)
                .bind(&title)
                .bind(posted.to_string()),
            serde_json::json!({"title": title, "posted_on": posted}),
        )
        .await
    }

    /// Records an investment.
    pub async fn add_investment(
        &self,
        actor: &Actor,
        code: &str,
        i: &NewInvestment,
    ) -> StoreResult<i64> {
        self.recordable_office(actor, code).await?;
        let spent = date("spent_on", "投入日期", &i.spent_on)?;
        let item = text("item", "投入项目", &i.item, 100, true)?;
        let amount = money("amount", "金额", &i.amount)?;
        if amount.is_zero() {
            return Err(StoreError::field("amount", "金额必须大于0"));
        }
        let doc = text("doc_number", "凭证或文件号", &i.doc_number, 80, false)?;
        self.insert_owned(
            actor,
            code,
            "investment",
            q("INSERT INTO investments (township_code, spent_on, item, amount_fen, doc_number, recorded_at)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(code)
            .bind(spent.to_string())
            .bind(&item)
            .bind(amount.0)
            .bind(&doc)
            .bind(crate::timestamp(chrono::Utc::now())),
            serde_json::json!({"spent_on": spent, "item": item, "amount_fen": amount.0, "doc_number": doc}),
        )
        .await
    }

    async fn insert_owned(
        &self,
        actor: &Actor,
        code: &str,
        entity: &str,
        insert: crate::db::Q,
        after: serde_json::Value,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let id = tx.fetch_one(insert).await?.i64("id")?;
        audit(
            &mut tx,
            actor,
            &format!("standards.{entity}.add"),
            entity,
            &id.to_string(),
            code,
            None,
            Some(after),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Removes a room, equipment line or posted rule recorded by mistake.
    pub async fn remove_office_item(
        &self,
        actor: &Actor,
        code: &str,
        entity: &str,
        id: i64,
    ) -> StoreResult<()> {
        self.recordable_office(actor, code).await?;
        let table = match entity {
            "room" => "office_rooms",
            "equipment" => "office_equipment",
            "posted_rule" => "office_rules",
            _ => return Err(StoreError::NotFound("该记录")),
        };
        let mut tx = self.begin_write().await?;
        let n = tx
            .execute(
                q(format!(
                    "DELETE FROM {table} WHERE id = $1 AND township_code = $2"
                ))
                .bind(id)
                .bind(code),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound("该记录"));
        }
        audit(
            &mut tx,
            actor,
            &format!("standards.{entity}.remove"),
            entity,
            &id.to_string(),
            code,
            Some(serde_json::json!({"id": id})),
            None,
        )
        .await?;
        tx.commit().await
    }

    /// Submits (or resubmits after return) the township's construction plan.
    pub async fn submit_plan(&self, actor: &Actor, code: &str, p: &NewPlan) -> StoreResult<()> {
        self.recordable_office(actor, code).await?;
        let items = text("items", "建设项目", &p.items, 2000, true)?;
        let budget = money("budget", "预算", &p.budget)?;
        let timeline = text("timeline", "进度安排", &p.timeline, 1000, true)?;
        let mut tx = self.begin_write().await?;
        let existing = tx
            .fetch_optional(
                q("SELECT status FROM construction_plans WHERE township_code = $1").bind(code),
            )
            .await?
            .map(|r| r.str("status"))
            .transpose()?;
        match existing.as_deref() {
            Some("submitted") => {
                return Err(StoreError::Conflict(
                    "建设方案已报送，正在审核中，不能重复报送".into(),
                ))
            }
            Some("accepted") => {
                return Err(StoreError::Conflict(
                    "建设方案已审核通过，不能再修改".into(),
                ))
            }
            Some(_) => {
                tx.execute(q("DELETE FROM construction_plans WHERE township_code = $1").bind(code))
                    .await?;
            }
            None => {}
        }
        tx.execute(
            q("INSERT INTO construction_plans (township_code, items, budget_fen, timeline, status, submitted_at)
               VALUES ($1, $2, $3, $4, 'submitted', $5)")
            .bind(code)
            .bind(&items)
            .bind(budget.0)
            .bind(&timeline)
            .bind(crate::timestamp(chrono::Utc::now())),
        )
        .await?;
        audit(
            &mut tx,
            actor,
            "plan.submit",
            "construction_plan",
            code,
            code,
            existing.map(|s| serde_json::json!({"status": s})),
            Some(serde_json::json!({"items": items, "budget_fen": budget.0, "timeline": timeline})),
        )
        .await?;
        tx.commit().await
    }

    /// Accepts or returns a submitted plan.
    pub async fn review_plan(
        &self,
        actor: &Actor,
        code: &str,
        accept: bool,
        note: &str,
    ) -> StoreResult<()> {
        self.visible_office(&actor.scope, code).await?;
        require_city_admin(actor, "审核建设方案")?;
        let note = text("note", "审核意见", note, 500, false)?;
        if !accept && note.is_empty() {
            return Err(StoreError::field("note", "退回时请写明修改意见"));
        }
        let mut tx = self.begin_write().await?;
        let status = tx
            .fetch_optional(
                q("SELECT status FROM construction_plans WHERE township_code = $1").bind(code),
            )
            .await?
            .map(|r| r.str("status"))
            .transpose()?;
        match status.as_deref() {
            None => return Err(StoreError::NotFound("该建设方案")),
            Some("submitted") => {}
            Some(s) => {
                return Err(StoreError::Conflict(format!(
                    "建设方案当前状态为“{}”，只能审核已报送的方案",
                    status_label(s)
                )))
            }
        }
        let new = if accept { "accepted" } else { "returned" };
        // Conditional on the status read above, so a concurrent review cannot slip between.
        let n = tx
            .execute(
                q("UPDATE construction_plans SET status = $1, reviewed_by = $2, reviewed_at = $3, review_note = $4
                   WHERE township_code = $5 AND status = 'submitted'")
                .bind(new)
                .bind(&actor.username)
                .bind(crate::timestamp(chrono::Utc::now()))
                .bind(&note)
                .bind(code),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict(
                "建设方案已被他人审核，请刷新后查看".into(),
            ));
        }
        audit(
            &mut tx,
            actor,
            if accept { "plan.accept" } else { "plan.return" },
            "construction_plan",
            code,
            code,
            Some(serde_json::json!({"status": "submitted"})),
            Some(serde_json::json!({"status": new, "note": note})),
        )
        .await?;
        tx.commit().await
    }

    async fn load_inspection(&self, id: i64) -> StoreResult<Inspection> {
        let r = self
            .fetch_optional(q("SELECT * FROM inspections WHERE id = $1").bind(id))
            .await?
            .ok_or(StoreError::NotFound("该检查验收记录"))?;
        let items = self
            .fetch_all(
                q("SELECT * FROM inspection_items WHERE inspection_id = $1 ORDER BY position")
                    .bind(id),
            )
            .await?
            .iter()
            .map(|r| {
                Ok(InspectionItem {
                    id: r.i64("id")?,
                    rule_id: r.opt_str("rule_id")?,
                    label: r.str("label")?,
                    max_score: r.i64("max_score")?,
                    auto_status: r.opt_str("auto_status")?,
                    score: r.opt_i64("score")?,
                    note: r.str("note")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let rectifications = self
            .fetch_all(
                q("SELECT * FROM rectifications WHERE inspection_id = $1 ORDER BY id").bind(id),
            )
            .await?
            .iter()
            .map(|r| {
                Ok(Rectification {
                    id: r.i64("id")?,
                    item: r.str("item")?,
                    due_on: r.str("due_on")?,
                    done_on: r.opt_str("done_on")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let status = r.str("status")?;
        Ok(Inspection {
            id,
            township_code: r.str("township_code")?,
            inspectors: r.str("inspectors")?,
            inspected_on: r.str("inspected_on")?,
            status_label: inspection_status_label(&status),
            status,
            findings: r.str("findings")?,
            previous_id: r.opt_i64("previous_id")?,
            opened_by: r.str("opened_by")?,
            decided_at: r.opt_str("decided_at")?,
            score: items.iter().filter_map(|i| i.score).sum(),
            max_score: items.iter().map(|i| i.max_score).sum(),
            items,
            rectifications,
        })
    }

    /// One inspection, if its office is visible.
    pub async fn get_inspection(&self, scope: &Scope, id: i64) -> StoreResult<Inspection> {
        let i = self.load_inspection(id).await?;
        if !scope.contains_str(&i.township_code)
            && self.visible_office(scope, &i.township_code).await.is_err()
        {
            return Err(StoreError::NotFound("该检查验收记录"));
        }
        Ok(i)
    }

    /// Opens an inspection: the automatic rules are pre-scored from today's evaluation, the
    /// manual items await the inspectors. A failed earlier inspection makes this a
    /// re-inspection (linked by `previous_id`).
    pub async fn open_inspection(
        &self,
        actor: &Actor,
        code: &str,
        n: &NewInspection,
        as_of: NaiveDate,
    ) -> StoreResult<i64> {
        let st = self.office_standards(&actor.scope, code, as_of).await?;
        require_city_admin(actor, "组织检查验收")?;
        let inspectors = text("inspectors", "检查人员", &n.inspectors, 200, true)?;
        let on = date("inspected_on", "检查日期", &n.inspected_on)?;
        let mut tx = self.begin_write().await?;
        let last = tx
            .fetch_optional(
                q("SELECT id, status FROM inspections WHERE township_code = $1 ORDER BY id DESC LIMIT 1")
                    .bind(code),
            )
            .await?;
        let previous_id = match last {
            None => None,
            Some(r) => match r.str("status")?.as_str() {
                "open" => {
                    return Err(StoreError::Conflict(
                        "该办公室已有正在进行的检查验收，请先完成它".into(),
                    ))
                }
                "passed" => {
                    return Err(StoreError::Conflict(
                        "该办公室已通过验收，无需再次检查".into(),
                    ))
                }
                _ => Some(r.i64("id")?),
            },
        };
        let id = tx
            .fetch_one(
                q("INSERT INTO inspections (township_code, inspectors, inspected_on, status, previous_id,
                     opened_by, opened_at)
                   VALUES ($1, $2, $3, 'open', $4, $5, $6) RETURNING id")
                .bind(code)
                .bind(&inspectors)
                .bind(on.to_string())
                .bind(previous_id)
                .bind(&actor.username)
                .bind(crate::timestamp(chrono::Utc::now())),
            )
            .await
            .map_err(|e| {
                // The partial unique index allows one open inspection per office.
                if e.is_unique_violation() {
                    StoreError::Conflict("该办公室已有正在进行的检查验收，请先完成它".into())
                } else {
                    e
                }
            })?
            .i64("id")?;
        let mut pos = 0i64;
        // Acceptance is of the basic standard; the encouraged high-standard rules (§三(四))
        // are shown on the office page but not scored.
        for r in st
            .evaluation
            .results
            .iter()
            .filter(|r| r.rule.level == RuleLevel::Basic)
        {
            pos += 1;
            let score = if r.status == RuleStatus::Met {
                AUTO_POINTS
            } else {
                0
            };
            tx.execute(
                q("INSERT INTO inspection_items (inspection_id, position, rule_id, label, max_score,
                     auto_status, score, note)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(id)
                .bind(pos)
                .bind(r.rule.id)
                .bind(format!("{}（{}）", r.rule.title, r.rule.clause))
                .bind(AUTO_POINTS)
                .bind(r.status.as_str())
                .bind(score)
                .bind(&r.finding),
            )
            .await?;
        }
        for (label, max) in MANUAL_ITEMS {
            pos += 1;
            tx.execute(
                q(
                    "INSERT INTO inspection_items (inspection_id, position, label, max_score, note)
                   VALUES ($1, $2, $3, $4, '')",
                )
                .bind(id)
                .bind(pos)
                .bind(*label)
                .bind(*max),
            )
            .await?;
        }
        audit(
            &mut tx,
            actor,
            "inspection.open",
            "inspection",
            &id.to_string(),
            code,
            None,
            Some(serde_json::json!({"inspectors": inspectors, "inspected_on": on,
                "previous_id": previous_id, "compliance_percent": st.evaluation.compliance_percent})),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn open_inspection_for_admin(&self, actor: &Actor, id: i64) -> StoreResult<Inspection> {
        let i = self.get_inspection(&actor.scope, id).await?;
        require_city_admin(actor, "填写检查验收")?;
        if i.status != "open" {
            return Err(StoreError::Conflict(format!(
                "该检查验收已结束（{}），不能再修改",
                i.status_label
            )));
        }
        Ok(i)
    }

    /// Scores checklist items: (item id, score, note).
    pub async fn score_inspection(
        &self,
        actor: &Actor,
        id: i64,
        scores: &[(i64, i64, String)],
    ) -> StoreResult<Inspection> {
        let i = self.open_inspection_for_admin(actor, id).await?;
        for (item_id, score, note) in scores {
            let item = i
                .items
                .iter()
                .find(|x| x.id == *item_id)
                .ok_or_else(|| StoreError::field("items", "检查项目不属于该检查验收"))?;
            if !(0..=item.max_score).contains(score) {
                return Err(StoreError::field(
                    &format!("score_{item_id}"),
                    format!("“{}”的得分应在0到{}之间", item.label, item.max_score),
                ));
            }
            text("note", "说明", note, 500, false)?;
        }
        let mut tx = self.begin_write().await?;
        for (item_id, score, note) in scores {
            tx.execute(
                q("UPDATE inspection_items SET score = $1, note = $2 WHERE id = $3 AND inspection_id = $4")
                    .bind(*score)
                    .bind(note.trim())
                    .bind(*item_id)
                    .bind(id),
            )
            .await?;
        }
        audit(
            &mut tx,
            actor,
            "inspection.score",
            "inspection",
            &id.to_string(),
            &i.township_code,
            None,
            Some(serde_json::json!({"scores": scores.iter().map(|(a, b, _)| (a, b)).collect::<Vec<_>>()})),
        )
        .await?;
        tx.commit().await?;
        self.get_inspection(&actor.scope, id).await
    }

    /// Adds a rectification item with its due date.
    pub async fn add_rectification(
        &self,
        actor: &Actor,
        id: i64,
        item: &str,
        due_on: &str,
    ) -> StoreResult<i64> {
        let i = self.open_inspection_for_admin(actor, id).await?;
        let item = text("item", "整改事项", item, 300, true)?;
        let due = date("due_on", "整改期限", due_on)?;
        let mut tx = self.begin_write().await?;
        let rid = tx
            .fetch_one(
                q(
                    "INSERT INTO rectifications (inspection_id, township_code, item, due_on)
                   VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(id)
                .bind(&i.township_code)
                .bind(&item)
                .bind(due.to_string()),
            )
            .await?
            .i64("id")?;
        audit(
            &mut tx,
            actor,
            "inspection.rectification",
            "inspection",
            &id.to_string(),
            &i.township_code,
            None,
            Some(serde_json::json!({"rectification_id": rid, "item": item, "due_on": due})),
        )
        .await?;
        tx.commit().await?;
        Ok(rid)
    }

    /// The township reports a rectification item done.
    pub async fn complete_rectification(
        &self,
        actor: &Actor,
        rectification_id: i64,
        done_on: &str,
    ) -> StoreResult<()> {
        let (lo, hi) = actor.scope.bounds();
        let row = self
            .fetch_optional(
                q(
                    "SELECT township_code, inspection_id, done_on FROM rectifications
                   WHERE id = $1 AND township_code >= $2 AND township_code < $3",
                )
                .bind(rectification_id)
                .bind(lo)
                .bind(hi),
            )
            .await?
            .ok_or(StoreError::NotFound("该整改事项"))?;
        let code = row.str("township_code")?;
        self.recordable_office(actor, &code).await?;
        if row.opt_str("done_on")?.is_some() {
            return Err(StoreError::Conflict("该整改事项已完成".into()));
        }
        let done = date("done_on", "完成日期", done_on)?;
        let mut tx = self.begin_write().await?;
        tx.execute(
            q("UPDATE rectifications SET done_on = $1 WHERE id = $2")
                .bind(done.to_string())
                .bind(rectification_id),
        )
        .await?;
        audit(
            &mut tx,
            actor,
            "inspection.rectified",
            "inspection",
            &row.i64("inspection_id")?.to_string(),
            &code,
            None,
            Some(serde_json::json!({"rectification_id": rectification_id, "done_on": done})),
        )
        .await?;
        tx.commit().await
    }

    /// Attaches a photo to an inspection (inspectors only, while open).
    pub async fn attach_inspection_photo(
        &self,
        actor: &Actor,
        id: i64,
        a: &NewAttachment,
        max_bytes: usize,
    ) -> StoreResult<i64> {
        let i = self.open_inspection_for_admin(actor, id).await?;
        let mut tx = self.begin_write().await?;
        let aid = insert_attachment(
            &mut tx,
            actor,
            "inspection",
            &id.to_string(),
            &i.township_code,
            a,
            max_bytes,
        )
        .await?;
        tx.commit().await?;
        Ok(aid)
    }

    /// Attaches a photo to an office record (the office itself, a room, equipment, a posted rule).
    pub async fn attach_office_photo(
        &self,
        actor: &Actor,
        code: &str,
        entity_type: &str,
        entity_id: i64,
        a: &NewAttachment,
        max_bytes: usize,
    ) -> StoreResult<i64> {
        self.recordable_office(actor, code).await?;
        let table = match entity_type {
            "office" => None,
            "room" => Some("office_rooms"),
            "equipment" => Some("office_equipment"),
            "posted_rule" => Some("office_rules"),
            _ => return Err(StoreError::NotFound("该记录")),
        };
        let entity_id = match table {
            None => code.to_string(),
            Some(t) => {
                self.fetch_optional(
                    q(format!(
                        "SELECT id FROM {t} WHERE id = $1 AND township_code = $2"
                    ))
                    .bind(entity_id)
                    .bind(code),
                )
                .await?
                .ok_or(StoreError::NotFound("该记录"))?;
                entity_id.to_string()
            }
        };
        let mut tx = self.begin_write().await?;
        let aid =
            insert_attachment(&mut tx, actor, entity_type, &entity_id, code, a, max_bytes).await?;
        tx.commit().await?;
        Ok(aid)
    }

    /// Closes an inspection as passed or failed. Passing needs every item scored and every
    /// rectification done, and grants the subsidy: the city's share of the office's recorded
    /// investment, in the same transaction.
    pub async fn decide_inspection(
        &self,
        actor: &Actor,
        id: i64,
        pass: bool,
        findings: &str,
        as_of: NaiveDate,
    ) -> StoreResult<Inspection> {
        let i = self.open_inspection_for_admin(actor, id).await?;
        let findings = text("findings", "检查意见", findings, 2000, false)?;
        if pass {
            if let Some(item) = i.items.iter().find(|x| x.score.is_none()) {
                return Err(StoreError::field(
                    &format!("score_{}", item.id),
                    format!("“{}”尚未评分，评分完成后才能验收通过", item.label),
                ));
            }
            if i.rectifications.iter().any(|r| r.done_on.is_none()) {
                return Err(StoreError::Conflict(
                    "还有未完成的整改事项，不能验收通过；请判定为未通过，整改后再组织复查".into(),
                ));
            }
        } else if findings.is_empty() {
            return Err(StoreError::field("findings", "判定未通过时请写明检查意见"));
        }
        let percent = self
            .standard_params()
            .await?
            .in_force(as_of)
            .subsidy_percent;
        let code = i.township_code.clone();
        let mut tx = self.begin_write().await?;
        let status: String = tx
            .fetch_one(q("SELECT status FROM inspections WHERE id = $1").bind(id))
            .await?
            .str("status")?;
        if status != "open" {
            return Err(StoreError::Conflict("该检查验收已结束，不能再修改".into()));
        }
        let new = if pass { "passed" } else { "failed" };
        // Conditional: of two inspectors closing it at once, only one changes the row.
        let n = tx
            .execute(
                q(
                    "UPDATE inspections SET status = $1, findings = $2, decided_at = $3
                   WHERE id = $4 AND status = 'open'",
                )
                .bind(new)
                .bind(&findings)
                .bind(crate::timestamp(chrono::Utc::now()))
                .bind(id),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict("该检查验收已结束，不能再修改".into()));
        }
        let mut granted = None;
        if pass {
            let total = tx
                .fetch_one(
                    q("SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS total FROM investments WHERE township_code = $1")
                        .bind(&code),
                )
                .await?
                .i64("total")?;
            let amount = subsidy(Fen(total), percent)
                .ok_or_else(|| StoreError::Internal("补助金额计算溢出".into()))?;
            tx.execute(
                q("INSERT INTO subsidies (township_code, inspection_id, investment_fen, percent, amount_fen,
                     status, created_at)
                   VALUES ($1, $2, $3, $4, $5, 'pending', $6)")
                .bind(&code)
                .bind(id)
                .bind(total)
                .bind(percent)
                .bind(amount.0)
                .bind(crate::timestamp(chrono::Utc::now())),
            )
            .await?;
            granted = Some(
                serde_json::json!({"investment_fen": total, "percent": percent, "amount_fen": amount.0}),
            );
        }
        audit(
            &mut tx,
            actor,
            if pass {
                "inspection.pass"
            } else {
                "inspection.fail"
            },
            "inspection",
            &id.to_string(),
            &code,
            Some(serde_json::json!({"status": "open"})),
            Some(
                serde_json::json!({"status": new, "findings": findings, "score": i.score,
                "max_score": i.max_score, "subsidy": granted}),
            ),
        )
        .await?;
        tx.commit().await?;
        self.get_inspection(&actor.scope, id).await
    }

    /// The subsidy ledger in scope.
    pub async fn list_subsidies(&self, scope: &Scope) -> StoreResult<Vec<Subsidy>> {
        let (lo, hi) = scope.bounds();
        self.fetch_all(
            q(format!(
                "{SUBSIDY_SELECT} WHERE s.township_code >= $1 AND s.township_code < $2 ORDER BY s.id"
            ))
            .bind(lo)
            .bind(hi),
        )
        .await?
        .iter()
        .map(subsidy_from_row)
        .collect()
    }

    /// Marks a subsidy paid out.
    pub async fn disburse_subsidy(&self, actor: &Actor, id: i64, on: &str) -> StoreResult<Subsidy> {
        let (lo, hi) = actor.scope.bounds();
        let s = self
            .fetch_optional(
                q(format!(
                    "{SUBSIDY_SELECT} WHERE s.id = $1 AND s.township_code >= $2 AND s.township_code < $3"
                ))
                .bind(id)
                .bind(lo)
                .bind(hi),
            )
            .await?
            .map(|r| subsidy_from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("该补助"))?;
        require_city_admin(actor, "拨付补助资金")?;
        let on = date("disbursed_on", "拨付日期", on)?;
        let mut tx = self.begin_write().await?;
        let n = tx
            .execute(
                q("UPDATE subsidies SET status = 'disbursed', disbursed_on = $1 WHERE id = $2 AND status = 'pending'")
                    .bind(on.to_string())
                    .bind(id),
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict("该补助已拨付，不能重复拨付".into()));
        }
        audit(
            &mut tx,
            actor,
            "subsidy.disburse",
            "subsidy",
            &id.to_string(),
            &s.township_code,
            Some(serde_json::json!({"status": "pending"})),
            Some(serde_json::json!({"status": "disbursed", "disbursed_on": on, "amount_fen": s.amount.0})),
        )
        .await?;
        tx.commit().await?;
        Ok(Subsidy {
            status: "disbursed".into(),
            status_label: "已拨付",
            disbursed_on: Some(on.to_string()),
            ..s
        })
    }

    /// Every office in scope with its compliance, plan, inspection and subsidy: the console.
    /// A fixed number of queries whatever the number of offices.
    pub async fn standards_overview(
        &self,
        scope: &Scope,
        within: Option<&str>,
        as_of: NaiveDate,
    ) -> StoreResult<Vec<OfficeStanding>> {
        let (mut lo, mut hi) = scope.bounds();
        if let Some(w) = within.map(str::trim).filter(|w| !w.is_empty()) {
            if !w.bytes().all(|b| b.is_ascii_digit()) || !scope.contains_str(w) {
                return Err(StoreError::NotFound("该区划"));
            }
            lo = w.to_string();
            hi = format!("{w}:");
        }
        let range = |sql: &str| q(sql.to_string()).bind(lo.clone()).bind(hi.clone());
        let params = self.standard_params().await?;
        let t = params.in_force(as_of);
        let offices = self
            .fetch_all(range(
                "SELECT o.township_code, o.name, c.code AS county_code, c.name AS county_name
                 FROM offices o JOIN divisions t ON t.code = o.township_code
                 LEFT JOIN divisions c ON c.code = t.parent_code
                 WHERE o.township_code >= $1 AND o.township_code < $2 ORDER BY o.township_code",
            ))
            .await?;
        let mut facts: HashMap<String, OfficeFacts> = HashMap::new();
        for r in &offices {
            facts.insert(r.str("township_code")?, OfficeFacts::default());
        }
        for r in &self
            .fetch_all(range(
                "SELECT * FROM office_profiles WHERE township_code >= $1 AND township_code < $2",
            ))
            .await?
        {
            if let Some(f) = facts.get_mut(&r.str("township_code")?) {
                let p = profile_from_row(r)?;
                f.population = p.population;
                f.kind = p.kind;
                f.city_street = p.city_street;
                f.policy_board = p.policy_board;
                f.notice_board = p.notice_board;
                f.archives_organized = p.archives_organized;
            }
        }
        for r in &self
            .fetch_all(
                range(
                    "SELECT township_code, full_time, is_director, doc_number FROM office_staff
                 WHERE township_code >= $1 AND township_code < $2 AND active = $3",
                )
                .bind(true),
            )
            .await?
        {
            if let Some(f) = facts.get_mut(&r.str("township_code")?) {
                f.staff.push(StaffFact {
                    full_time: r.bool("full_time")?,
                    director: r.bool("is_director")?,
                    has_document: !r.str("doc_number")?.is_empty(),
                });
            }
        }
        for r in &self
            .fetch_all(range(
                "SELECT d.parent_code AS township_code, COUNT(*) AS villages, COUNT(a.village_code) AS covered
                 FROM divisions d LEFT JOIN village_assistants a ON a.village_code = d.code
                 WHERE d.parent_code >= $1 AND d.parent_code < $2 AND d.level = 5
                 GROUP BY d.parent_code",
            ))
            .await?
        {
            if let Some(f) = facts.get_mut(&r.str("township_code")?) {
                f.village_count = r.i64("villages")?;
                f.villages_with_assistant = r.i64("covered")?;
            }
        }
        for r in &self
            .fetch_all(range(
                "SELECT * FROM office_rooms WHERE township_code >= $1 AND township_code < $2",
            ))
            .await?
        {
            if let Some(f) = facts.get_mut(&r.str("township_code")?) {
                let room = room_from_row(r)?;
                f.rooms.push(RoomFact {
                    kind: room.kind,
                    area_dm2: room.area_dm2,
                    shared_hall: room.shared_hall,
                });
            }
        }
        for r in &self
            .fetch_all(range(
                "SELECT * FROM office_equipment WHERE township_code >= $1 AND township_code < $2",
            ))
            .await?
        {
            if let Some(f) = facts.get_mut(&r.str("township_code")?) {
                let e = equipment_from_row(r)?;
                f.equipment.push(EquipmentFact {
                    kind: e.kind,
                    count: e.count,
                    dedicated: e.dedicated,
                });
            }
        }
        for r in &self
            .fetch_all(range(
                "SELECT township_code, COUNT(*) AS n FROM office_rules
                 WHERE township_code >= $1 AND township_code < $2 GROUP BY township_code",
            ))
            .await?
        {
            if let Some(f) = facts.get_mut(&r.str("township_code")?) {
                f.rules_posted = r.i64("n")?;
            }
        }
        for r in &self
            .fetch_all(range(
                // Same rule as `e_ledger_in_use`: registry households, or an active account.
                "SELECT DISTINCT SUBSTR(scope_code, 1, 9) AS township_code FROM users
                 WHERE scope_code >= $1 AND scope_code < $2 AND active = $3 AND LENGTH(scope_code) >= 9
                 UNION
                 SELECT DISTINCT township_code FROM households
                 WHERE township_code >= $1 AND township_code < $2",
            ).bind(true))
            .await?
        {
            if let Some(f) = facts.get_mut(&r.str("township_code")?) {
                f.e_ledger = true;
            }
        }
        let mut plans: HashMap<String, String> = HashMap::new();
        for r in &self
            .fetch_all(range(
                "SELECT township_code, status FROM construction_plans WHERE township_code >= $1 AND township_code < $2",
            ))
            .await?
        {
            plans.insert(r.str("township_code")?, r.str("status")?);
        }
        let mut inspections: HashMap<String, String> = HashMap::new();
        for r in &self
            .fetch_all(range(
                "SELECT township_code, status FROM inspections WHERE township_code >= $1 AND township_code < $2 ORDER BY id",
            ))
            .await?
        {
            inspections.insert(r.str("township_code")?, r.str("status")?);
        }
        let mut subsidies: HashMap<String, (Fen, String)> = HashMap::new();
        for r in &self
            .fetch_all(range(
                "SELECT township_code, amount_fen, status FROM subsidies WHERE township_code >= $1 AND township_code < $2",
            ))
            .await?
        {
            subsidies.insert(r.str("township_code")?, (Fen(r.i64("amount_fen")?), r.str("status")?));
        }
        let mut out = Vec::with_capacity(offices.len());
        for r in &offices {
            let code = r.str("township_code")?;
            let f = facts.remove(&code).unwrap_or_default();
            let plan = plans.get(&code).map(String::as_str);
            let plan_status = if plan_overdue(plan, params.plan_deadline, as_of) {
                "overdue"
            } else {
                plan.unwrap_or("none")
            };
            let insp = inspections.get(&code).map(String::as_str).unwrap_or("none");
            let sub = subsidies.get(&code);
            out.push(OfficeStanding {
                name: r.str("name")?,
                county_code: r.opt_str("county_code")?.unwrap_or_default(),
                county_name: r.opt_str("county_name")?.unwrap_or_default(),
                evaluation: evaluate(&f, &t, as_of),
                plan_label: status_label(plan_status),
                plan_status: plan_status.to_string(),
                inspection_label: inspection_status_label(insp),
                inspection_status: insp.to_string(),
                subsidy: sub.map(|s| s.0),
                subsidy_status: sub.map(|s| s.1.clone()),
                township_code: code,
            });
        }
        Ok(out)
    }

    /// Records an audit entry for an export (exports are changes of who knows what).
    pub async fn audit_export(&self, actor: &Actor, what: &str, rows: usize) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        audit(
            &mut tx,
            actor,
            "standards.export",
            "export",
            what,
            actor.scope.code_str(),
            None,
            Some(serde_json::json!({"what": what, "rows": rows})),
        )
        .await?;
        tx.commit().await
    }
}

/// A plan is overdue when the deadline has passed and none is submitted or accepted.
fn plan_overdue(status: Option<&str>, deadline: Option<NaiveDate>, as_of: NaiveDate) -> bool {
    match deadline {
        Some(d) if as_of > d => !matches!(status, Some("submitted" | "accepted")),
        _ => false,
    }
}

fn profile_from_row(r: &DbRow) -> StoreResult<OfficeProfile> {
    Ok(OfficeProfile {
        township_code: r.str("township_code")?,
        population: r.opt_i64("population")?,
        kind: r.opt_str("kind")?.and_then(|k| OfficeKind::parse(&k)),
        city_street: r.bool("city_street")?,
        contact_name: r.str("contact_name")?,
        contact_phone: r.str("contact_phone")?,
        signage: r.str("signage")?,
        policy_board: tri(r.opt_i64("policy_board")?),
        notice_board: tri(r.opt_i64("notice_board")?),
        archives_organized: tri(r.opt_i64("archives_organized")?),
    })
}

/// The rule catalogue (for pages and the API).
pub fn rule_catalogue() -> &'static [minzheng_domain::standards::Rule] {
    RULES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overdue_only_after_the_deadline_without_a_plan() {
        let d = NaiveDate::from_ymd_opt(2026, 4, 30).unwrap();
        let after = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
        assert!(!plan_overdue(None, Some(d), d));
        assert!(plan_overdue(None, Some(d), after));
        assert!(plan_overdue(Some("returned"), Some(d), after));
        assert!(!plan_overdue(Some("submitted"), Some(d), after));
        assert!(!plan_overdue(None, None, after));
    }
}
