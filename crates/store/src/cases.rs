//! 救助案件 storage: cases, their transitions, clocks, surveys, public notices,
//! objections and enrolments.
//!
//! The state machine, calculators, deadlines and notice whitelist are pure functions in
//! `minzheng-domain`; this module loads the facts they need (case row, registry
//! household, parameters in force), calls them, and applies the result in one write
//! transaction with a case event and an audit record. A transition is a conditional
//! update (`WHERE state = <from>`), so two clerks pressing the same button apply it once.

use std::collections::HashMap;

use chrono::NaiveDate;
use minzheng_domain::calculators::{IncomeItem, IncomePeriod};
use minzheng_domain::case_calc::{self, CaseDetails, CaseInputs, MemberInput};
use minzheng_domain::cases::{allowed_roles, effective_approval_level, Effect};
use minzheng_domain::deadlines::{deadline_status, due_date, StatutoryLimits};
use minzheng_domain::limits::{
    check_exclusive, enrolment_start_month, next_review_date, ReviewClass,
};
use minzheng_domain::notices::{NameMask, NoticeCandidate};
use minzheng_domain::params::ParamName;
use minzheng_domain::registry::{DisabilityType, Health, RegistrationType};
use minzheng_domain::{
    transition, Action, ActionKind, ApprovalLevel, CaseError, CaseFacts, CaseState, DivisionCode,
    Fen, IdNumber, ParamSet, Program, PublicNoticeEntry, Role, Step, UrbanRural, WorkCalendar,
    YearMonth,
};
use serde::{Deserialize, Serialize};

use crate::audit::{append, AuditEvent};
use crate::db::{q, DbRow, Store, Tx};
use crate::error::{StoreError, StoreResult};
use crate::registry::mask_id;
use minzheng_domain::{Actor, Scope};

/// A snake_case serde code (states, actions, steps) as stored.
pub(crate) fn code_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub(crate) fn from_code<T: for<'de> Deserialize<'de>>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

fn yuan(f: Option<i64>) -> String {
    f.map(|f| Fen(f).to_string()).unwrap_or_default()
}

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// 案件类别.
pub fn case_kind_label(kind: &str) -> &'static str {
    match kind {
        "review" => "定期核查",
        "change" => "变更",
        _ => "新申请",
    }
}

/// A case as lists and pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub id: i64,
    pub case_no: String,
    pub program: Program,
    pub program_label: &'static str,
    pub kind: String,
    pub kind_label: &'static str,
    pub state: CaseState,
    pub state_label: &'static str,
    pub township_code: String,
    pub village_code: String,
    pub village_name: String,
    pub household_id: i64,
    pub person_id: Option<i64>,
    pub enrolment_id: Option<i64>,
    /// The subject (person) or, for household programs, the head.
    pub subject_name: String,
    pub subject_id_number: String,
    pub head_name: String,
    pub address: String,
    pub urban_rural: UrbanRural,
    pub subject_is_minor: bool,
    pub applied_on: String,
    pub reason: String,
    pub details: CaseDetails,
    pub proposed_fen: Option<i64>,
    pub proposed_yuan: String,
    pub calc: Option<minzheng_domain::Calculation>,
    pub approved_fen: Option<i64>,
    pub approved_yuan: String,
    pub decided_on: Option<String>,
    pub decision_reasons: String,
    pub notice_posted_on: Option<String>,
    pub notice_batch_id: Option<i64>,
    pub missing_items: String,
    pub created_by: String,
    /// `clerk`, or `system` for the daily tasks' proposals.
    pub origin: String,
    pub created_at: String,
    pub updated_at: String,
}

impl Case {
    fn from_row(r: &DbRow) -> StoreResult<Case> {
        let program: Program = r
            .str("program")?
            .parse()
            .map_err(|_| StoreError::Internal("案件项目代码无效".into()))?;
        let state: CaseState = from_code(&r.str("state")?)
            .ok_or_else(|| StoreError::Internal("案件状态代码无效".into()))?;
        let kind = r.str("kind")?;
        let ur = r
            .str("urban_rural")?
            .parse::<UrbanRural>()
            .unwrap_or(UrbanRural::Rural);
        let proposed = r.opt_i64("proposed_fen")?;
        let approved = r.opt_i64("approved_fen")?;
        let person_name = r.opt_str("person_name")?;
        let head_name = r.opt_str("head_name")?.unwrap_or_default();
        Ok(Case {
            id: r.i64("id")?,
            case_no: r.str("case_no")?,
            program,
            program_label: program.label(),
            kind_label: case_kind_label(&kind),
            kind,
            state,
            state_label: state.label(),
            township_code: r.str("township_code")?,
            village_code: r.str("village_code")?,
            village_name: r.opt_str("village_name")?.unwrap_or_default(),
            household_id: r.i64("household_id")?,
            person_id: r.opt_i64("person_id")?,
            enrolment_id: r.opt_i64("enrolment_id")?,
            subject_name: person_name.clone().unwrap_or_else(|| head_name.clone()),
            subject_id_number: r
                .opt_str("person_id_number")?
                .or(r.opt_str("head_id_number")?)
                .unwrap_or_default(),
            head_name,
            address: r.opt_str("address")?.unwrap_or_default(),
            urban_rural: ur,
            subject_is_minor: r.bool("subject_is_minor")?,
            applied_on: r.str("applied_on")?,
            reason: r.str("reason")?,
            details: serde_json::from_str(&r.str("details_json")?).unwrap_or_default(),
            proposed_fen: proposed,
            proposed_yuan: yuan(proposed),
            calc: r
                .opt_str("calc_json")?
                .and_then(|s| serde_json::from_str(&s).ok()),
            approved_fen: approved,
            approved_yuan: yuan(approved),
            decided_on: r.opt_str("decided_on")?,
            decision_reasons: r.str("decision_reasons")?,
            notice_posted_on: r.opt_str("notice_posted_on")?,
            notice_batch_id: r.opt_i64("notice_batch_id")?,
            missing_items: r.str("missing_items")?,
            created_by: r.str("created_by")?,
            origin: r.str("origin")?,
            created_at: r.str("created_at")?,
            updated_at: r.str("updated_at")?,
        })
    }

    /// ID number masked for roles that must not see it in full.
    pub fn masked(mut self) -> Self {
        self.subject_id_number = mask_id(&self.subject_id_number);
        self
    }
}

const CASE_SELECT: &str = "SELECT c.*, p.name AS person_name, p.id_number AS person_id_number,
      h.head_name, h.head_id_number, h.address, d.name AS village_name
    FROM cases c
    JOIN households h ON h.id = c.household_id
    LEFT JOIN persons p ON p.id = c.person_id
    LEFT JOIN divisions d ON d.code = c.village_code";

/// One transition in the case's history.
#[derive(Debug, Clone, Serialize)]
pub struct CaseEvent {
    pub id: i64,
    pub action: String,
    pub action_label: &'static str,
    pub from_label: &'static str,
    pub to_label: &'static str,
    pub actor: String,
    pub role_label: &'static str,
    pub on_date: String,
    pub at: String,
    pub note: String,
    pub data: serde_json::Value,
}

/// A statutory clock.
#[derive(Debug, Clone, Serialize)]
pub struct CaseClock {
    pub step: Step,
    pub step_label: &'static str,
    pub started_on: String,
    pub due_on: String,
    pub stopped_on: Option<String>,
    /// For running clocks: 剩余N个工作日 / 即将到期 / 已超期N天.
    pub status_label: String,
    pub overdue: bool,
    pub due_soon: bool,
}

/// 入户调查记录.
#[derive(Debug, Clone, Serialize)]
pub struct Survey {
    pub id: i64,
    pub visited_on: String,
    pub investigators: String,
    pub findings: String,
    pub authorization_signed: bool,
    pub created_by: String,
}

/// 异议.
#[derive(Debug, Clone, Serialize)]
pub struct Objection {
    pub id: i64,
    pub received_on: String,
    pub summary: String,
    pub recorded_by: String,
}

/// 保障对象 — one enrolment.
#[derive(Debug, Clone, Serialize)]
pub struct Enrolment {
    pub id: i64,
    pub program: Program,
    pub program_label: &'static str,
    pub case_id: Option<i64>,
    pub household_id: i64,
    pub person_id: Option<i64>,
    pub township_code: String,
    pub village_code: String,
    pub beneficiary_name: String,
    pub beneficiary_id_number: String,
    pub household_size: i64,
    pub monthly_fen: i64,
    pub monthly_yuan: String,
    pub payment: String,
    pub payment_label: &'static str,
    pub start_month: String,
    pub end_month: Option<String>,
    pub status: String,
    pub status_label: &'static str,
    pub grace_until: Option<String>,
    pub next_review_on: Option<String>,
}

/// 保障状态.
pub fn enrolment_status_label(s: &str) -> &'static str {
    match s {
        "active" => "正常发放",
        "suspended" => "暂停发放",
        "grace" => "渐退期",
        "ended" => "已停保",
        _ => "未知",
    }
}

impl Enrolment {
    fn from_row(r: &DbRow) -> StoreResult<Enrolment> {
        let program: Program = r
            .str("program")?
            .parse()
            .map_err(|_| StoreError::Internal("保障项目代码无效".into()))?;
        let status = r.str("status")?;
        let payment = r.str("payment")?;
        let monthly = r.i64("monthly_fen")?;
        Ok(Enrolment {
            id: r.i64("id")?,
            program,
            program_label: program.label(),
            case_id: r.opt_i64("case_id")?,
            household_id: r.i64("household_id")?,
            person_id: r.opt_i64("person_id")?,
            township_code: r.str("township_code")?,
            village_code: r.str("village_code")?,
            beneficiary_name: r.str("beneficiary_name")?,
            beneficiary_id_number: r.str("beneficiary_id_number")?,
            household_size: r.i64("household_size")?,
            monthly_fen: monthly,
            monthly_yuan: Fen(monthly).to_string(),
            payment_label: if payment == "once" {
                "一次性"
            } else {
                "按月"
            },
            payment,
            start_month: r.str("start_month")?,
            end_month: r.opt_str("end_month")?,
            status_label: enrolment_status_label(&status),
            status,
            grace_until: r.opt_str("grace_until")?,
            next_review_on: r.opt_str("next_review_on")?,
        })
    }

    pub fn masked(mut self) -> Self {
        self.beneficiary_id_number = mask_id(&self.beneficiary_id_number);
        self
    }
}

/// A case page's worth.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    pub case: Case,
    pub household_size: i64,
    pub events: Vec<CaseEvent>,
    pub clocks: Vec<CaseClock>,
    pub surveys: Vec<Survey>,
    pub objections: Vec<Objection>,
    pub enrolment: Option<Enrolment>,
    /// Photos and scans (signed authorisation, survey photos, papers).
    pub attachments: Vec<crate::Attachment>,
    /// Actions that make sense now (the page's buttons; the role is checked again).
    pub next_actions: Vec<ActionKind>,
}

impl CaseDetail {
    pub fn masked(mut self) -> Self {
        self.case = self.case.masked();
        self.enrolment = self.enrolment.map(Enrolment::masked);
        self
    }
}

/// A new application.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct NewCase {
    pub household_id: i64,
    /// The subject for per-person programs (特困, 单人保, 高龄, 优抚, 教育 …).
    #[serde(default)]
    pub person_id: Option<i64>,
    pub program: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub details: CaseDetails,
    /// Submit at once (the usual case); otherwise the case stays a draft.
    #[serde(default = "yes")]
    pub submit: bool,
}

fn yes() -> bool {
    true
}

/// Filters for the case list.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct CaseFilter {
    pub state: Option<String>,
    pub program: Option<String>,
    pub kind: Option<String>,
    /// Name or case number.
    pub q: Option<String>,
    /// `system` (opened by the daily tasks), `clerk`, `no_system_drafts` (everything but
    /// the system's unverified proposals: the case list's default), or all when empty.
    #[serde(default)]
    pub origin: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Filters for the enrolment list.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct EnrolmentFilter {
    pub status: Option<String>,
    pub program: Option<String>,
    pub q: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// A case near or past a statutory limit (dashboards).
#[derive(Debug, Clone, Serialize)]
pub struct DueItem {
    pub case_id: i64,
    pub case_no: String,
    pub subject_name: String,
    pub program_label: &'static str,
    pub step_label: &'static str,
    pub due_on: String,
    pub status_label: String,
    pub overdue: bool,
}

/// 公示 on the public page: only whitelisted fields.
#[derive(Debug, Clone, Serialize)]
pub struct PublicNotice {
    pub id: i64,
    pub title: String,
    pub division_name: String,
    pub starts_on: String,
    pub ends_on: String,
    pub entries: Vec<PublicNoticeEntry>,
}

/// A notice batch for staff (with case links).
#[derive(Debug, Clone, Serialize)]
pub struct NoticeBatch {
    pub id: i64,
    pub title: String,
    pub division_code: String,
    pub division_name: String,
    pub starts_on: String,
    pub ends_on: String,
    pub created_by: String,
    pub entries: Vec<NoticeBatchEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoticeBatchEntry {
    pub case_id: i64,
    pub entry: PublicNoticeEntry,
}

/// Counts for the dashboard.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CaseCounts {
    pub open: i64,
    pub publicised: i64,
    pub awaiting_decision: i64,
    pub enrolled: i64,
    pub monthly_total_fen: i64,
    pub monthly_total_yuan: String,
}

/// What an action needs beyond the domain action (form fields).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ActionExtras {
    /// Free note recorded with the event.
    #[serde(default)]
    pub note: String,
    /// Survey: visit date and findings (with StartInvestigation or a separate survey).
    #[serde(default)]
    pub findings: String,
    /// Terminate: a gradual exit (渐退) instead of an immediate stop.
    #[serde(default)]
    pub grace: bool,
}

fn err_case(e: CaseError) -> StoreError {
    match e {
        CaseError::IllegalTransition { .. } => StoreError::Conflict(e.to_string()),
        CaseError::WrongRole { .. } => StoreError::Forbidden(e.to_string()),
        CaseError::Invalid(m) => StoreError::validation(m),
    }
}

fn region_of(village: &str) -> StoreResult<DivisionCode> {
    DivisionCode::parse_native(village)
        .map_err(|_| StoreError::Internal(format!("村(社区)代码{village}无效")))
}

/// The household's registry facts the calculators read.
struct HouseholdFacts {
    township_code: String,
    village_code: String,
    urban_rural: UrbanRural,
    members: Vec<MemberInput>,
    member_ids: HashMap<i64, (String, String)>,
    incomes: Vec<IncomeItem>,
    counted: i64,
    head_id: String,
    address: String,
    phone: String,
    account: String,
}

fn as_of_id(s: &str, on: NaiveDate) -> Option<IdNumber> {
    IdNumber::parse(s, on).ok()
}

impl Store {
    async fn household_facts(
        &self,
        household_id: i64,
        on: NaiveDate,
    ) -> StoreResult<HouseholdFacts> {
        let h = self
            .fetch_optional(q("SELECT * FROM households WHERE id = $1").bind(household_id))
            .await?
            .ok_or(StoreError::NotFound("该户"))?;
        let rt = RegistrationType::from_code(&h.str("registration_type")?);
        let urban_rural = if rt == RegistrationType::Urban {
            UrbanRural::Urban
        } else {
            UrbanRural::Rural
        };
        let persons = self
            .fetch_all(
                q(
                    "SELECT id, id_number, name, counted, disability_type, disability_grade, health
                   FROM persons WHERE household_id = $1 AND status = 'active' ORDER BY id",
                )
                .bind(household_id),
            )
            .await?;
        let mut members = Vec::new();
        let mut member_ids = HashMap::new();
        let mut counted = 0;
        for p in &persons {
            let id_s = p.str("id_number")?;
            member_ids.insert(p.i64("id")?, (id_s.clone(), p.str("name")?));
            let Some(id) = as_of_id(&id_s, on) else {
                continue;
            };
            let c = p.bool("counted")?;
            counted += i64::from(c);
            let dt = DisabilityType::from_code(&p.str("disability_type")?);
            let grade = p.opt_i64("disability_grade")?;
            members.push(MemberInput {
                id_number: id,
                counted: c,
                severe_disability: dt != DisabilityType::None && grade.is_some_and(|g| g <= 2),
                serious_illness: Health::from_code(&p.str("health")?) == Health::Serious,
            });
        }
        let inc = self
            .fetch_all(
                q("SELECT kind, amount_fen, period FROM incomes WHERE household_id = $1")
                    .bind(household_id),
            )
            .await?;
        let mut incomes = Vec::new();
        for r in &inc {
            incomes.push(IncomeItem {
                kind: case_calc::income_kind(minzheng_domain::registry::IncomeKind::from_code(
                    &r.str("kind")?,
                )),
                period: if r.str("period")? == "annual" {
                    IncomePeriod::Annual
                } else {
                    IncomePeriod::Monthly
                },
                amount: Fen(r.i64("amount_fen")?),
            });
        }
        Ok(HouseholdFacts {
            township_code: h.str("township_code")?,
            village_code: h.str("village_code")?,
            urban_rural,
            members,
            member_ids,
            incomes,
            counted,
            head_id: h.str("head_id_number")?,
            address: h.str("address")?,
            phone: h.str("phone")?,
            account: h.str("account_number")?,
        })
    }

    async fn case_row(&self, scope: &Scope, id: i64) -> StoreResult<Case> {
        let (lo, hi) = scope.bounds();
        let r = self
            .fetch_optional(
                q(format!(
                    "{CASE_SELECT} WHERE c.id = $1 AND c.village_code >= $2 AND c.village_code < $3"
                ))
                .bind(id)
                .bind(lo)
                .bind(hi),
            )
            .await?
            .ok_or(StoreError::NotFound("该案件"))?;
        Case::from_row(&r)
    }

    /// Computes the amount for a case from the registry and the parameters in force on
    /// `on` (the page's 测算 button and the first-review opinion).
    pub async fn compute_case(
        &self,
        scope: &Scope,
        id: i64,
        on: NaiveDate,
    ) -> StoreResult<minzheng_domain::Calculation> {
        let c = self.case_row(scope, id).await?;
        let params = self.load_params().await?;
        self.compute_for(&c, &params, on).await
    }

    async fn compute_for(
        &self,
        c: &Case,
        params: &ParamSet,
        on: NaiveDate,
    ) -> StoreResult<minzheng_domain::Calculation> {
        self.compute_raw(
            c.household_id,
            c.person_id,
            c.program,
            &c.details,
            params,
            on,
        )
        .await
    }

    /// The calculation for a would-be case (also used to choose demo households).
    pub(crate) async fn compute_raw(
        &self,
        household_id: i64,
        person_id: Option<i64>,
        program: Program,
        details: &CaseDetails,
        params: &ParamSet,
        on: NaiveDate,
    ) -> StoreResult<minzheng_domain::Calculation> {
        let f = self.household_facts(household_id, on).await?;
        let region = region_of(&f.village_code)?;
        let qy = params.at(&region, Some(f.urban_rural), on);
        let subject = person_id
            .and_then(|p| f.member_ids.get(&p))
            .and_then(|(s, _)| as_of_id(s, on));
        let inp = CaseInputs {
            program,
            members: &f.members,
            incomes: &f.incomes,
            subject: subject.as_ref(),
            details,
            on,
        };
        case_calc::compute(&inp, &qy).map_err(|m| StoreError::field("amount", m))
    }

    /// Opens an application (submitted at once unless `submit` is false).
    pub async fn create_case(
        &self,
        actor: &Actor,
        input: &NewCase,
        on: NaiveDate,
    ) -> StoreResult<i64> {
        if let Some(r) = actor.role {
            if !matches!(
                r,
                Role::VillageAssistant | Role::TownshipStaff | Role::TownshipDirector
            ) {
                return Err(StoreError::Forbidden(format!(
                    "{}不能受理救助申请，应由村(居)民政协理员或乡镇(街道)工作人员录入",
                    r.label()
                )));
            }
        }
        let program: Program = input
            .program
            .trim()
            .parse()
            .map_err(|_| StoreError::field("program", "请选择救助项目"))?;
        // The household must be visible to the actor.
        let hh = self
            .fetch_optional({
                let (lo, hi) = actor.scope.bounds();
                q("SELECT id, village_code FROM households
                   WHERE id = $1 AND village_code >= $2 AND village_code < $3")
                .bind(input.household_id)
                .bind(lo)
                .bind(hi)
            })
            .await?
            .ok_or(StoreError::NotFound("该户"))?;
        let f = self.household_facts(hh.i64("id")?, on).await?;
        let per_person = !matches!(
            program,
            Program::UrbanDibao
                | Program::RuralDibao
                | Program::TemporaryAssistance
                | Program::DisasterRelief
        );
        let person_id = match input.person_id {
            Some(p) if f.member_ids.contains_key(&p) => Some(p),
            Some(_) => return Err(StoreError::field("person_id", "救助对象不是该户的在册成员")),
            None if per_person => {
                return Err(StoreError::field(
                    "person_id",
                    format!("{}须选择救助对象(家庭成员)", program.label()),
                ))
            }
            None => None,
        };
        let rt_ok = match program {
            Program::UrbanDibao => f.urban_rural == UrbanRural::Urban,
            Program::RuralDibao => f.urban_rural == UrbanRural::Rural,
            _ => true,
        };
        if !rt_ok {
            return Err(StoreError::field(
                "program",
                format!(
                    "该户为{}户籍，不能申请{}",
                    if f.urban_rural == UrbanRural::Urban {
                        "城镇"
                    } else {
                        "农村"
                    },
                    program.label()
                ),
            ));
        }
        let subject_id = person_id
            .and_then(|p| f.member_ids.get(&p))
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| f.head_id.clone());
        let minor = as_of_id(&subject_id, on).is_some_and(|i| i.age_at(on) < 18);
        // Exclusivity (低保 vs 特困) against what the subject already holds.
        self.check_exclusive_for(&f, person_id, program).await?;
        if program == Program::TemporaryAssistance {
            self.check_temporary_for(
                input.household_id,
                &f.village_code,
                f.urban_rural,
                &input.details,
                None,
                on,
            )
            .await?;
        }
        let mut tx = self.begin_write().await?;
        let now = crate::timestamp(chrono::Utc::now());
        let state = if input.submit {
            CaseState::Submitted
        } else {
            CaseState::Draft
        };
        let case_no = next_case_no(&mut tx, &f.township_code, on).await?;
        let row = tx
            .fetch_one(
                q(
                    "INSERT INTO cases (case_no, program, kind, state, township_code, village_code,
                     household_id, person_id, urban_rural, subject_is_minor, applied_on,
                     details_json, reason, created_by, created_at, updated_at, origin)
                   VALUES ($1,$2,'new',$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$14,$15) RETURNING id",
                )
                .bind(case_no.as_str())
                .bind(program.as_str())
                .bind(code_of(&state))
                .bind(f.township_code.as_str())
                .bind(f.village_code.as_str())
                .bind(input.household_id)
                .bind(person_id)
                .bind(f.urban_rural.as_str())
                .bind(minor)
                .bind(on.to_string())
                .bind(serde_json::to_string(&input.details).unwrap_or_else(|_| "{}".into()))
                .bind(input.reason.trim())
                .bind(actor.username.as_str())
                .bind(now.as_str())
                .bind(if actor.role.is_none() { "system" } else { "clerk" }),
            )
            .await?;
        let id = row.i64("id")?;
        insert_event(
            &mut tx,
            id,
            &f.township_code,
            if input.submit { "submit" } else { "draft" },
            CaseState::Draft,
            state,
            actor,
            on,
            "",
            serde_json::json!({}),
        )
        .await?;
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "case.create",
                entity_type: "case",
                entity_id: &id.to_string(),
                scope_code: &f.village_code,
                before: None,
                after: Some(serde_json::json!({
                    "case_no": case_no, "program": program.as_str(), "household_id": input.household_id,
                    "person_id": person_id, "state": code_of(&state), "details": input.details,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn check_exclusive_for(
        &self,
        f: &HouseholdFacts,
        person_id: Option<i64>,
        program: Program,
    ) -> StoreResult<()> {
        // Per person: the subject, or every member for household programs.
        let ids: Vec<i64> = match person_id {
            Some(p) => vec![p],
            None => f.member_ids.keys().copied().collect(),
        };
        for pid in ids {
            let rows = self
                .fetch_all(
                    q("SELECT DISTINCT e.program FROM enrolments e
                       WHERE e.status IN ('active','suspended','grace')
                         AND (e.person_id = $1 OR (e.person_id IS NULL AND e.household_id =
                              (SELECT household_id FROM persons WHERE id = $1)))")
                    .bind(pid),
                )
                .await?;
            let current: Vec<Program> = rows
                .iter()
                .filter_map(|r| r.str("program").ok()?.parse().ok())
                .collect();
            if let Err(e) = check_exclusive(&current, program) {
                let name = f
                    .member_ids
                    .get(&pid)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default();
                return Err(StoreError::Conflict(format!("{name}：{e}")));
            }
        }
        Ok(())
    }

    /// 临时救助: at most N grants per cause per year for a household (parameter
    /// `per_cause_per_year`). The cause is required.
    async fn check_temporary_for(
        &self,
        household_id: i64,
        village: &str,
        ur: UrbanRural,
        details: &CaseDetails,
        exclude: Option<i64>,
        on: NaiveDate,
    ) -> StoreResult<()> {
        let cause = details.cause.as_deref().map(str::trim).unwrap_or("");
        if cause.is_empty() {
            return Err(StoreError::field(
                "cause",
                "临时救助须填写救助事由(如火灾、重病)",
            ));
        }
        let params = self.load_params().await?;
        let region = region_of(village)?;
        let max = params
            .at(&region, Some(ur), on)
            .count(Program::TemporaryAssistance, ParamName::PerCausePerYear)
            .unwrap_or(1);
        let rows = self
            .fetch_all(
                q("SELECT id, decided_on, details_json FROM cases
                   WHERE household_id = $1 AND program = 'temporary_assistance'
                     AND state IN ('approved','enrolled','suspended','terminated') AND decided_on IS NOT NULL")
                .bind(household_id),
            )
            .await?;
        let mut past = Vec::new();
        for r in &rows {
            if Some(r.i64("id")?) == exclude {
                continue;
            }
            let d: CaseDetails = serde_json::from_str(&r.str("details_json")?).unwrap_or_default();
            if let (Some(on), Some(c)) =
                (r.opt_str("decided_on")?.as_deref().and_then(date), d.cause)
            {
                past.push(minzheng_domain::limits::PastGrant {
                    granted_on: on,
                    cause: c,
                });
            }
        }
        minzheng_domain::check_temporary_frequency(&past, cause, on, max)
            .map_err(|e| StoreError::Conflict(e.to_string()))
    }

    /// Attaches a photo or scan (signed authorisation, survey photo, papers) to a case.
    pub async fn attach_to_case(
        &self,
        actor: &Actor,
        id: i64,
        a: &crate::NewAttachment,
        max_bytes: usize,
        on: NaiveDate,
    ) -> StoreResult<i64> {
        let c = self.case_row(&actor.scope, id).await?;
        if !actor.can_write()
            || actor
                .role
                .is_some_and(|r| matches!(r, Role::CityAdmin | Role::Auditor))
        {
            return Err(StoreError::Forbidden("您无权为案件上传材料".into()));
        }
        if c.state.is_final() {
            return Err(StoreError::Conflict(format!(
                "案件已“{}”，不能再上传材料",
                c.state.label()
            )));
        }
        let mut tx = self.begin_write().await?;
        let aid = crate::attachments::insert_attachment(
            &mut tx,
            actor,
            "case",
            &id.to_string(),
            &c.village_code,
            a,
            max_bytes,
        )
        .await?;
        insert_event(
            &mut tx,
            id,
            &c.township_code,
            "attach",
            c.state,
            c.state,
            actor,
            on,
            &a.filename,
            serde_json::json!({ "attachment_id": aid }),
        )
        .await?;
        tx.commit().await?;
        Ok(aid)
    }

    /// Lists cases in scope, newest first.
    pub async fn list_cases(
        &self,
        scope: &Scope,
        filter: &CaseFilter,
    ) -> StoreResult<(Vec<Case>, i64)> {
        let (lo, hi) = scope.bounds();
        let mut where_ = "c.village_code >= $1 AND c.village_code < $2".to_string();
        let mut args: Vec<String> = vec![lo, hi];
        fn add(where_: &mut String, cond: &str, v: String, args: &mut Vec<String>) {
            args.push(v);
            where_.push_str(&format!(
                " AND {}",
                cond.replace('?', &format!("${}", args.len()))
            ));
        }
        if let Some(s) = filter.state.as_deref().filter(|s| !s.is_empty()) {
            if s == "open" {
                where_.push_str(
                    " AND c.state NOT IN ('enrolled','suspended','terminated','withdrawn','denied','not_accepted')",
                );
            } else {
                add(&mut where_, "c.state = ?", s.to_string(), &mut args);
            }
        }
        if let Some(p) = filter.program.as_deref().filter(|s| !s.is_empty()) {
            add(&mut where_, "c.program = ?", p.to_string(), &mut args);
        }
        if let Some(k) = filter.kind.as_deref().filter(|s| !s.is_empty()) {
            add(&mut where_, "c.kind = ?", k.to_string(), &mut args);
        }
        match filter.origin.as_deref().unwrap_or("") {
            "" | "all" => {}
            "no_system_drafts" => {
                where_.push_str(" AND NOT (c.origin = 'system' AND c.state = 'draft')")
            }
            o @ ("system" | "clerk") => add(&mut where_, "c.origin = ?", o.to_string(), &mut args),
            _ => {
                return Err(StoreError::field(
                    "origin",
                    "来源只能是 system、clerk 或 all",
                ))
            }
        }
        if let Some(t) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let n = args.len();
            args.extend([t.to_string(), t.to_string(), t.to_string()]);
            where_.push_str(&format!(
                " AND (c.case_no = ${} OR h.head_name = ${} OR p.name = ${})",
                n + 1,
                n + 2,
                n + 3
            ));
        }
        let limit = filter.limit.unwrap_or(50).clamp(1, 500);
        let offset = filter.offset.unwrap_or(0).max(0);
        let mut qq = q(format!(
            "{CASE_SELECT} WHERE {where_} ORDER BY c.id DESC LIMIT {limit} OFFSET {offset}"
        ));
        let mut cq = q(format!(
            "SELECT COUNT(*) AS n FROM cases c JOIN households h ON h.id = c.household_id
             LEFT JOIN persons p ON p.id = c.person_id WHERE {where_}"
        ));
        for a in &args {
            qq.push(a.as_str());
            cq.push(a.as_str());
        }
        let rows = self.fetch_all(qq).await?;
        let total = self.fetch_one(cq).await?.i64("n")?;
        Ok((
            rows.iter()
                .map(Case::from_row)
                .collect::<StoreResult<_>>()?,
            total,
        ))
    }

    /// The case page.
    pub async fn get_case(
        &self,
        scope: &Scope,
        id: i64,
        on: NaiveDate,
        cal: &WorkCalendar,
    ) -> StoreResult<CaseDetail> {
        let case = self.case_row(scope, id).await?;
        let events = self
            .fetch_all(q("SELECT * FROM case_events WHERE case_id = $1 ORDER BY id").bind(id))
            .await?
            .iter()
            .map(|r| {
                let action = r.str("action")?;
                let ak: Option<ActionKind> = from_code(&action);
                let from: Option<CaseState> = from_code(&r.str("from_state")?);
                let to: Option<CaseState> = from_code(&r.str("to_state")?);
                let role: Option<Role> = r.str("role")?.parse().ok();
                Ok(CaseEvent {
                    id: r.i64("id")?,
                    action_label: ak.map(|a| a.label()).unwrap_or(match action.as_str() {
                        "draft" => "系统拟定",
                        "survey" => "登记入户调查",
                        "amend" => "修改申请信息",
                        "attach" => "上传材料",
                        _ => "办理",
                    }),
                    action,
                    from_label: from.map(|s| s.label()).unwrap_or(""),
                    to_label: to.map(|s| s.label()).unwrap_or(""),
                    actor: r.str("actor")?,
                    role_label: role.map(|r| r.label()).unwrap_or("系统"),
                    on_date: r.str("on_date")?,
                    at: r.str("at")?,
                    note: r.str("note")?,
                    data: serde_json::from_str(&r.str("data_json")?).unwrap_or_default(),
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let params = self.load_params().await?;
        let limits = self.limits_for(&case, &params, on);
        let clocks = self
            .fetch_all(q("SELECT * FROM case_clocks WHERE case_id = $1 ORDER BY id").bind(id))
            .await?
            .iter()
            .map(|r| clock_from_row(r, limits.as_ref(), cal, on))
            .collect::<StoreResult<Vec<_>>>()?;
        let surveys = self
            .fetch_all(q("SELECT * FROM case_surveys WHERE case_id = $1 ORDER BY id").bind(id))
            .await?
            .iter()
            .map(|r| {
                Ok(Survey {
                    id: r.i64("id")?,
                    visited_on: r.str("visited_on")?,
                    investigators: r.str("investigators")?,
                    findings: r.str("findings")?,
                    authorization_signed: r.bool("authorization_signed")?,
                    created_by: r.str("created_by")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let objections = self
            .fetch_all(q("SELECT * FROM objections WHERE case_id = $1 ORDER BY id").bind(id))
            .await?
            .iter()
            .map(|r| {
                Ok(Objection {
                    id: r.i64("id")?,
                    received_on: r.str("received_on")?,
                    summary: r.str("summary")?,
                    recorded_by: r.str("recorded_by")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let enrolment = match case.enrolment_id {
            Some(e) => self
                .fetch_optional(q("SELECT * FROM enrolments WHERE id = $1").bind(e))
                .await?
                .map(|r| Enrolment::from_row(&r))
                .transpose()?,
            None => None,
        };
        let household_size = self
            .fetch_one(
                q("SELECT COUNT(*) AS n FROM persons WHERE household_id = $1 AND status = 'active' AND counted = $2")
                    .bind(case.household_id)
                    .bind(true),
            )
            .await?
            .i64("n")?;
        let next_actions = next_actions(&case);
        let attachments = self
            .list_attachments(scope, "case", &id.to_string())
            .await?;
        Ok(CaseDetail {
            attachments,
            case,
            household_size,
            events,
            clocks,
            surveys,
            objections,
            enrolment,
            next_actions,
        })
    }

    fn limits_for(&self, c: &Case, params: &ParamSet, on: NaiveDate) -> Option<StatutoryLimits> {
        let region = region_of(&c.village_code).ok()?;
        let qy = params.at(&region, Some(c.urban_rural), on);
        StatutoryLimits::load(&qy, c.program).ok()
    }

    /// Takes an action on a case (the whole procedure goes through here).
    pub async fn act_on_case(
        &self,
        actor: &Actor,
        id: i64,
        action: Action,
        extras: &ActionExtras,
        on: NaiveDate,
        cal: &WorkCalendar,
    ) -> StoreResult<()> {
        let case = self.case_row(&actor.scope, id).await?;
        if !actor.can_write() {
            return Err(StoreError::Forbidden(format!(
                "{}为只读角色，不能办理案件",
                actor.role.map(|r| r.label()).unwrap_or("")
            )));
        }
        let params = self.load_params().await?;
        let region = region_of(&case.village_code)?;
        let qy = params.at(&region, Some(case.urban_rural), on);
        let notice_days = qy.days(case.program, ParamName::NoticeDays).unwrap_or(7);
        let threshold = qy
            .amount(case.program, ParamName::TownshipApprovalThreshold)
            .ok();
        let configured = qy
            .approval_level(case.program, ParamName::ApprovalLevel)
            .unwrap_or(case.program.info().default_approval);
        let facts = CaseFacts {
            workflow: case.program.info().workflow,
            state: case.state,
            subject_is_minor: case.subject_is_minor,
            notice_posted_on: case.notice_posted_on.as_deref().and_then(date),
            notice_days,
            proposed_amount: case.proposed_fen.map(Fen),
            township_approval_threshold: threshold,
        };
        // Fill in what the clerk may leave to the system.
        let mut calc = None;
        let action = match action {
            Action::RecordOpinion {
                proposed_amount: None,
            } if case.state != CaseState::Draft => {
                let c = self.compute_for(&case, &params, on).await?;
                let amount = c.amount;
                calc = Some(c);
                Action::RecordOpinion {
                    proposed_amount: Some(amount),
                }
            }
            // No amount given: the parameters in force on the decision date decide
            // (a new standard since the opinion applies); without a computable amount
            // the proposed one is confirmed.
            Action::Approve { amount } if amount.0 < 0 => {
                match self.compute_for(&case, &params, on).await {
                    Ok(c) => {
                        let amount = c.amount;
                        calc = Some(c);
                        Action::Approve { amount }
                    }
                    Err(_) => Action::Approve {
                        amount: case
                            .proposed_fen
                            .map(Fen)
                            .ok_or_else(|| StoreError::field("amount", "请填写确认金额"))?,
                    },
                }
            }
            a => a,
        };
        let role = match actor.role {
            Some(r) => r,
            // The system acts with the role the step needs.
            None => {
                let amount = match &action {
                    Action::Approve { amount } => Some(*amount),
                    _ => None,
                };
                let level = effective_approval_level(&facts, amount, configured);
                allowed_roles(action.kind(), level)[0]
            }
        };
        let t = transition(&facts, action.clone(), role, configured, on).map_err(err_case)?;
        // Checks that need storage, before anything is written.
        if action.kind() == ActionKind::Enrol && case.kind == "new" {
            let f = self.household_facts(case.household_id, on).await?;
            self.check_exclusive_for(&f, case.person_id, case.program)
                .await?;
            if case.program == Program::TemporaryAssistance {
                self.check_temporary_for(
                    case.household_id,
                    &case.village_code,
                    case.urban_rural,
                    &case.details,
                    Some(case.id),
                    on,
                )
                .await?;
            }
        }
        let mut tx = self.begin_write().await?;
        let now = crate::timestamp(chrono::Utc::now());
        let n = tx
            .execute(
                q("UPDATE cases SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4")
                    .bind(code_of(&t.to))
                    .bind(now.as_str())
                    .bind(id)
                    .bind(code_of(&t.from)),
            )
            .await?;
        if n != 1 {
            return Err(StoreError::Conflict(
                "案件状态已被他人更新，请刷新页面后重试".into(),
            ));
        }
        let limits = StatutoryLimits::load(&qy, case.program).ok();
        let mut data = serde_json::to_value(&action).unwrap_or_default();
        for e in &t.effects {
            match e {
                Effect::StartClock { step } => {
                    let Some(l) = limits.as_ref().and_then(|l| l.limit(*step)) else {
                        continue;
                    };
                    start_clock(&mut tx, &case, *step, l, on, cal).await?;
                }
                Effect::StopClock { step } => {
                    tx.execute(
                        q("UPDATE case_clocks SET stopped_on = $1
                           WHERE case_id = $2 AND step = $3 AND stopped_on IS NULL")
                        .bind(on.to_string())
                        .bind(id)
                        .bind(code_of(step)),
                    )
                    .await?;
                }
                Effect::MissingItemsNotice { items } => {
                    tx.execute(
                        q("UPDATE cases SET missing_items = $1 WHERE id = $2")
                            .bind(items.join("；"))
                            .bind(id),
                    )
                    .await?;
                }
                Effect::NoticePosted { ends_on } => {
                    data["notice_ends_on"] = serde_json::json!(ends_on.to_string());
                }
                Effect::NoticeSkippedForMinor => {
                    data["notice_skipped"] = serde_json::json!("特困人员中的未成年人不予公示");
                }
                Effect::WrittenReasons { reasons } => {
                    tx.execute(
                        q("UPDATE cases SET decision_reasons = $1 WHERE id = $2")
                            .bind(reasons.as_str())
                            .bind(id),
                    )
                    .await?;
                }
                Effect::AmountFixed { amount } => {
                    tx.execute(
                        q("UPDATE cases SET approved_fen = $1, decided_on = $2 WHERE id = $3")
                            .bind(amount.0)
                            .bind(on.to_string())
                            .bind(id),
                    )
                    .await?;
                }
            }
        }
        match &action {
            Action::RecordOpinion {
                proposed_amount: Some(a),
            } => {
                tx.execute(
                    q("UPDATE cases SET proposed_fen = $1, calc_json = COALESCE($2, calc_json) WHERE id = $3")
                        .bind(a.0)
                        .bind(calc.as_ref().map(|c| serde_json::to_string(c).unwrap_or_default()))
                        .bind(id),
                )
                .await?;
            }
            Action::Approve { .. } if calc.is_some() => {
                tx.execute(
                    q("UPDATE cases SET calc_json = $1 WHERE id = $2")
                        .bind(
                            calc.as_ref()
                                .map(|c| serde_json::to_string(c).unwrap_or_default()),
                        )
                        .bind(id),
                )
                .await?;
            }
            Action::Deny { .. } | Action::NotAccept { .. } => {
                tx.execute(
                    q("UPDATE cases SET decided_on = $1 WHERE id = $2")
                        .bind(on.to_string())
                        .bind(id),
                )
                .await?;
                // A periodic review the county does not confirm means the household no
                // longer qualifies: 停发 (or 渐退 when asked), as a termination would. A denied
                // change case only leaves the enrolment as it was.
                if let (Some(eid), true, Action::Deny { .. }) =
                    (case.enrolment_id, case.kind == "review", &action)
                {
                    let (status, end) =
                        end_enrolment(&mut tx, &qy, case.program, eid, on, extras.grace, &mut data)
                            .await?;
                    set_enrolment_status(&mut tx, eid, status, end, &now).await?;
                }
            }
            Action::StartInvestigation {
                investigators,
                authorization_attached,
            } => {
                // The survey record: who visited, when, what they found.
                tx.execute(
                    q("INSERT INTO case_surveys (case_id, township_code, visited_on, investigators,
                         findings, authorization_signed, created_by, created_at)
                       VALUES ($1,$2,$3,$4,$5,$6,$7,$8)")
                    .bind(id)
                    .bind(case.township_code.as_str())
                    .bind(on.to_string())
                    .bind(investigators.join("、"))
                    .bind(extras.findings.trim())
                    .bind(*authorization_attached)
                    .bind(actor.username.as_str())
                    .bind(now.as_str()),
                )
                .await?;
            }
            Action::Publish => {
                let batch = publish_batch(
                    &mut tx,
                    actor,
                    &case.village_code,
                    &format!("{}公示", case.program_label),
                    std::slice::from_ref(&case),
                    on,
                    notice_days,
                    &params,
                    self,
                )
                .await?;
                data["notice_batch_id"] = serde_json::json!(batch);
            }
            Action::RecordObjection { summary } => {
                tx.execute(
                    q("INSERT INTO objections (case_id, batch_id, township_code, received_on, summary,
                         recorded_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)")
                    .bind(id)
                    .bind(case.notice_batch_id)
                    .bind(case.township_code.as_str())
                    .bind(on.to_string())
                    .bind(summary.trim())
                    .bind(actor.username.as_str())
                    .bind(now.as_str()),
                )
                .await?;
                // Re-investigation has its own clock.
                if let Some(l) = limits.as_ref().and_then(|l| l.limit(Step::Reinvestigation)) {
                    start_clock(&mut tx, &case, Step::Reinvestigation, l, on, cal).await?;
                }
            }
            Action::Enrol => {
                let eid = self.enrol(&mut tx, &case, &qy, on, &now).await?;
                data["enrolment_id"] = serde_json::json!(eid);
            }
            Action::Suspend { .. } | Action::Resume | Action::Terminate { .. } => {
                if let Some(eid) = case.enrolment_id {
                    let (status, end) = match &action {
                        Action::Suspend { .. } => ("suspended", None),
                        Action::Resume => ("active", None),
                        _ => {
                            end_enrolment(
                                &mut tx,
                                &qy,
                                case.program,
                                eid,
                                on,
                                extras.grace,
                                &mut data,
                            )
                            .await?
                        }
                    };
                    set_enrolment_status(&mut tx, eid, status, end, &now).await?;
                }
            }
            _ => {}
        }
        insert_event(
            &mut tx,
            id,
            &case.township_code,
            &code_of(&action.kind()),
            t.from,
            t.to,
            actor,
            on,
            extras.note.trim(),
            data.clone(),
        )
        .await?;
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "case.transition",
                entity_type: "case",
                entity_id: &id.to_string(),
                scope_code: &case.village_code,
                before: Some(serde_json::json!({ "state": code_of(&t.from) })),
                after: Some(serde_json::json!({
                    "state": code_of(&t.to), "action": data, "note": extras.note.trim(),
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates the enrolment for an approved case (or, for a review/change case,
    /// applies the newly confirmed amount to the existing enrolment).
    async fn enrol(
        &self,
        tx: &mut Tx,
        case: &Case,
        qy: &minzheng_domain::params::ParamQuery<'_>,
        on: NaiveDate,
        now: &str,
    ) -> StoreResult<i64> {
        let amount = case
            .approved_fen
            .ok_or_else(|| StoreError::Internal("确认金额缺失".into()))?;
        let decided = case.decided_on.as_deref().and_then(date).unwrap_or(on);
        let offset = qy
            .months(case.program, ParamName::PaymentStartOffsetMonths)
            .unwrap_or(1);
        let start = enrolment_start_month(decided, offset);
        let stable = qy
            .months(case.program, ParamName::ReviewMonthsStable)
            .unwrap_or(12);
        let irregular = qy
            .months(case.program, ParamName::ReviewMonthsIrregular)
            .unwrap_or(6);
        let class = if case.details.rigid_spending_fen.is_some() {
            ReviewClass::Irregular
        } else {
            ReviewClass::Stable
        };
        let review = next_review_date(decided, class, stable, irregular);
        let once = case.program.info().unit == minzheng_domain::programs::AmountUnit::OneOff;
        if let (Some(eid), false) = (case.enrolment_id, case.kind == "new") {
            if amount == 0 {
                // 停发: a review or change confirmed at zero ends the enrolment.
                tx.execute(
                    q(
                        "UPDATE enrolments SET status = 'ended', end_month = $1, updated_at = $2
                       WHERE id = $3",
                    )
                    .bind(YearMonth::of(decided).to_string())
                    .bind(now)
                    .bind(eid),
                )
                .await?;
                return Ok(eid);
            }
            // 增发/减发: the review or change case fixes a new monthly amount.
            tx.execute(
                q("UPDATE enrolments SET monthly_fen = $1, next_review_on = $2, status = 'active',
                     updated_at = $3 WHERE id = $4")
                .bind(amount)
                .bind(review.to_string())
                .bind(now)
                .bind(eid),
            )
            .await?;
            return Ok(eid);
        }
        let (name, id_number): (String, String) = match case.person_id {
            Some(p) => {
                let r = tx
                    .fetch_one(q("SELECT name, id_number FROM persons WHERE id = $1").bind(p))
                    .await?;
                (r.str("name")?, r.str("id_number")?)
            }
            None => (case.head_name.clone(), case.subject_id_number.clone()),
        };
        let size = tx
            .fetch_one(
                q("SELECT COUNT(*) AS n FROM persons WHERE household_id = $1 AND status = 'active' AND counted = $2")
                    .bind(case.household_id)
                    .bind(true),
            )
            .await?
            .i64("n")?;
        let row = tx
            .fetch_one(
                q("INSERT INTO enrolments (program, case_id, household_id, person_id, township_code,
                     village_code, beneficiary_name, beneficiary_id_number, household_size, monthly_fen,
                     payment, start_month, end_month, status, next_review_on, review_class,
                     created_at, updated_at)
                   VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,'active',$14,$15,$16,$16)
                   RETURNING id")
                .bind(case.program.as_str())
                .bind(case.id)
                .bind(case.household_id)
                .bind(case.person_id)
                .bind(case.township_code.as_str())
                .bind(case.village_code.as_str())
                .bind(name)
                .bind(id_number)
                .bind(size)
                .bind(amount)
                .bind(if once { "once" } else { "monthly" })
                .bind(start.to_string())
                .bind(if once { Some(start.to_string()) } else { None })
                .bind(if once { None } else { Some(review.to_string()) })
                .bind(if once { None } else { Some(code_of(&class)) })
                .bind(now),
            )
            .await?;
        let eid = row.i64("id")?;
        tx.execute(
            q("UPDATE cases SET enrolment_id = $1 WHERE id = $2")
                .bind(eid)
                .bind(case.id),
        )
        .await?;
        Ok(eid)
    }

    /// Publishes a notice for several cases of one village or township at once
    /// (each must be awaiting its notice). Returns the batch id.
    pub async fn publish_notice(
        &self,
        actor: &Actor,
        division_code: &str,
        case_ids: &[i64],
        on: NaiveDate,
    ) -> StoreResult<i64> {
        if case_ids.is_empty() {
            return Err(StoreError::field("case_ids", "请至少选择一个案件"));
        }
        let mut cases = Vec::new();
        for id in case_ids {
            let c = self.case_row(&actor.scope, *id).await?;
            if !c.village_code.starts_with(division_code) {
                return Err(StoreError::field(
                    "case_ids",
                    format!("案件{}不属于该公示范围", c.case_no),
                ));
            }
            cases.push(c);
        }
        let params = self.load_params().await?;
        // Check every case can be publicised before writing anything.
        let mut days = 7;
        for c in &cases {
            let region = region_of(&c.village_code)?;
            let qy = params.at(&region, Some(c.urban_rural), on);
            days = qy.days(c.program, ParamName::NoticeDays).unwrap_or(7);
            let facts = CaseFacts {
                workflow: c.program.info().workflow,
                state: c.state,
                subject_is_minor: c.subject_is_minor,
                notice_posted_on: None,
                notice_days: days,
                proposed_amount: c.proposed_fen.map(Fen),
                township_approval_threshold: None,
            };
            let role = actor.role.unwrap_or(Role::TownshipStaff);
            transition(&facts, Action::Publish, role, ApprovalLevel::County, on).map_err(|e| {
                match err_case(e) {
                    StoreError::Conflict(m) => StoreError::Conflict(format!("{}：{m}", c.case_no)),
                    other => other,
                }
            })?;
        }
        let mut tx = self.begin_write().await?;
        let title = format!(
            "{}公示",
            cases
                .iter()
                .map(|c| c.program_label)
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join("、")
        );
        let batch = publish_batch(
            &mut tx,
            actor,
            division_code,
            &title,
            &cases,
            on,
            days,
            &params,
            self,
        )
        .await?;
        let now = crate::timestamp(chrono::Utc::now());
        for c in &cases {
            let n = tx
                .execute(
                    q("UPDATE cases SET state = 'publicised', updated_at = $1 WHERE id = $2 AND state = 'prelim_opinion'")
                        .bind(now.as_str())
                        .bind(c.id),
                )
                .await?;
            if n != 1 {
                return Err(StoreError::Conflict(format!(
                    "案件{}状态已被他人更新，请刷新后重试",
                    c.case_no
                )));
            }
            insert_event(
                &mut tx,
                c.id,
                &c.township_code,
                "publish",
                CaseState::PrelimOpinion,
                CaseState::Publicised,
                actor,
                on,
                "",
                serde_json::json!({ "notice_batch_id": batch }),
            )
            .await?;
        }
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "notice.publish",
                entity_type: "notice",
                entity_id: &batch.to_string(),
                scope_code: division_code,
                before: None,
                after: Some(serde_json::json!({ "cases": case_ids, "starts_on": on.to_string(), "days": days })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(batch)
    }

    /// Notices still on the board (or ended within `keep_days`) for a division and
    /// everything inside it. Public: no scope, and only whitelisted fields exist here.
    pub async fn public_notices(
        &self,
        division: &DivisionCode,
        on: NaiveDate,
    ) -> StoreResult<Vec<PublicNotice>> {
        let lo = division.as_str().to_string();
        let hi = division.range_end();
        let batches = self
            .fetch_all(
                q("SELECT b.*, d.name AS division_name FROM notice_batches b
                   LEFT JOIN divisions d ON d.code = b.division_code
                   WHERE b.division_code >= $1 AND b.division_code < $2
                     AND b.starts_on <= $3 AND b.ends_on >= $3
                   ORDER BY b.starts_on DESC, b.id DESC LIMIT 200")
                .bind(lo)
                .bind(hi)
                .bind(on.to_string()),
            )
            .await?;
        let mut out = Vec::new();
        for b in &batches {
            let id = b.i64("id")?;
            let entries = self.notice_entries(id).await?;
            out.push(PublicNotice {
                id,
                title: b.str("title")?,
                division_name: b.opt_str("division_name")?.unwrap_or_default(),
                starts_on: b.str("starts_on")?,
                ends_on: b.str("ends_on")?,
                entries: entries.into_iter().map(|e| e.entry).collect(),
            });
        }
        Ok(out)
    }

    async fn notice_entries(&self, batch: i64) -> StoreResult<Vec<NoticeBatchEntry>> {
        self.fetch_all(
            q(
                "SELECT case_id, display_name, household_size, program, amount_fen
               FROM notice_entries WHERE batch_id = $1 ORDER BY id",
            )
            .bind(batch),
        )
        .await?
        .iter()
        .map(|r| {
            Ok(NoticeBatchEntry {
                case_id: r.i64("case_id")?,
                entry: PublicNoticeEntry {
                    name: r.str("display_name")?,
                    household_size: r.i64("household_size")? as u32,
                    program: r.str("program")?,
                    amount: Fen(r.opt_i64("amount_fen")?.unwrap_or(0)),
                },
            })
        })
        .collect()
    }

    /// Notice batches in scope for staff (newest first).
    pub async fn list_notices(&self, scope: &Scope) -> StoreResult<Vec<NoticeBatch>> {
        self.notice_batches(scope, None).await
    }

    /// One notice batch for its print page.
    pub async fn get_notice(&self, scope: &Scope, id: i64) -> StoreResult<NoticeBatch> {
        self.notice_batches(scope, Some(id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound("该公示"))
    }

    /// Notice batches in scope, newest first (the latest 200), or just batch `id`.
    async fn notice_batches(
        &self,
        scope: &Scope,
        id: Option<i64>,
    ) -> StoreResult<Vec<NoticeBatch>> {
        // Boards belong to a township; a village assistant sees their township's.
        let scope = match scope.code() {
            Some(c) if c.as_str().len() > 9 => Scope::of(
                DivisionCode::parse_native(&c.as_str()[..9]).expect("prefix of a valid code"),
            ),
            _ => scope.clone(),
        };
        let (lo, hi) = scope.bounds();
        let rows = self
            .fetch_all(
                q("SELECT b.*, d.name AS division_name FROM notice_batches b
                   LEFT JOIN divisions d ON d.code = b.division_code
                   WHERE b.township_code >= $1 AND b.township_code < $2
                     AND ($3 IS NULL OR b.id = $3)
                   ORDER BY b.id DESC LIMIT 200")
                .bind(lo)
                .bind(hi)
                .bind(id),
            )
            .await?;
        let mut out = Vec::new();
        for b in &rows {
            let id = b.i64("id")?;
            out.push(NoticeBatch {
                id,
                title: b.str("title")?,
                division_code: b.str("division_code")?,
                division_name: b.opt_str("division_name")?.unwrap_or_default(),
                starts_on: b.str("starts_on")?,
                ends_on: b.str("ends_on")?,
                created_by: b.str("created_by")?,
                entries: self.notice_entries(id).await?,
            });
        }
        Ok(out)
    }

    /// Running clocks near or past their limit, for the dashboard. Approvers see the
    /// confirmation step; township roles see the rest.
    pub async fn due_cases(
        &self,
        scope: &Scope,
        role: Option<Role>,
        on: NaiveDate,
        cal: &WorkCalendar,
    ) -> StoreResult<Vec<DueItem>> {
        let (lo, hi) = scope.bounds();
        let rows = self
            .fetch_all(
                q(
                    "SELECT k.step, k.started_on, k.due_on, c.id AS cid, c.village_code, c.urban_rural,
                        c.program AS cprogram, c.case_no, COALESCE(p.name, h.head_name) AS subject
                     FROM case_clocks k JOIN cases c ON c.id = k.case_id
                     JOIN households h ON h.id = c.household_id
                     LEFT JOIN persons p ON p.id = c.person_id
                     WHERE c.village_code >= $1 AND c.village_code < $2 AND k.stopped_on IS NULL
                     ORDER BY k.due_on LIMIT 2000"
                )
                .bind(lo)
                .bind(hi),
            )
            .await?;
        let params = self.load_params().await?;
        let mut out = Vec::new();
        for r in &rows {
            let Some(step) = from_code::<Step>(&r.str("step")?) else {
                continue;
            };
            let for_role = match role {
                Some(Role::CountyApprover) => step == Step::Confirmation,
                Some(Role::TownshipDirector | Role::TownshipStaff | Role::VillageAssistant) => {
                    step != Step::Confirmation
                }
                _ => true,
            };
            if !for_role {
                continue;
            }
            let Ok(program) = r.str("cprogram")?.parse::<Program>() else {
                continue;
            };
            let Some(started) = date(&r.str("started_on")?) else {
                continue;
            };
            let ur = r.str("urban_rural")?.parse::<UrbanRural>().ok();
            let Ok(region) = region_of(&r.str("village_code")?) else {
                continue;
            };
            let qy = params.at(&region, ur, on);
            let Some(limit) = StatutoryLimits::load(&qy, program)
                .ok()
                .and_then(|l| l.limit(step))
            else {
                continue;
            };
            let st = deadline_status(cal, started, limit, on);
            let (overdue, soon) = match st {
                minzheng_domain::DeadlineStatus::Overdue { .. } => (true, false),
                minzheng_domain::DeadlineStatus::DueSoon { .. } => (false, true),
                _ => (false, false),
            };
            if overdue || soon {
                out.push(DueItem {
                    case_id: r.i64("cid")?,
                    case_no: r.str("case_no")?,
                    subject_name: r.str("subject")?,
                    program_label: program.label(),
                    step_label: step.label(),
                    due_on: st.due().to_string(),
                    status_label: st.label(),
                    overdue,
                });
            }
        }
        out.sort_by(|a, b| b.overdue.cmp(&a.overdue).then(a.due_on.cmp(&b.due_on)));
        Ok(out)
    }

    /// Counts for the dashboard.
    pub async fn case_counts(&self, scope: &Scope) -> StoreResult<CaseCounts> {
        let (lo, hi) = scope.bounds();
        let r = self
            .fetch_one(
                q("SELECT
                     SUM(CASE WHEN state NOT IN ('enrolled','suspended','terminated','withdrawn','denied','not_accepted') THEN 1 ELSE 0 END) AS open,
                     SUM(CASE WHEN state = 'publicised' THEN 1 ELSE 0 END) AS publicised,
                     SUM(CASE WHEN state = 'under_confirmation' THEN 1 ELSE 0 END) AS awaiting
                   FROM cases WHERE village_code >= $1 AND village_code < $2")
                .bind(lo.as_str())
                .bind(hi.as_str()),
            )
            .await?;
        let e = self
            .fetch_one(
                q(
                    "SELECT COUNT(*) AS n, CAST(SUM(monthly_fen) AS BIGINT) AS total FROM enrolments
                   WHERE village_code >= $1 AND village_code < $2 AND status IN ('active','grace')
                     AND payment = 'monthly'",
                )
                .bind(lo.as_str())
                .bind(hi.as_str()),
            )
            .await?;
        let total = e.opt_i64("total")?.unwrap_or(0);
        Ok(CaseCounts {
            open: r.opt_i64("open")?.unwrap_or(0),
            publicised: r.opt_i64("publicised")?.unwrap_or(0),
            awaiting_decision: r.opt_i64("awaiting")?.unwrap_or(0),
            enrolled: e.i64("n")?,
            monthly_total_fen: total,
            monthly_total_yuan: Fen(total).to_string(),
        })
    }

    /// 保障对象 list.
    pub async fn list_enrolments(
        &self,
        scope: &Scope,
        filter: &EnrolmentFilter,
    ) -> StoreResult<(Vec<Enrolment>, i64)> {
        let (lo, hi) = scope.bounds();
        let mut where_ = "village_code >= $1 AND village_code < $2".to_string();
        let mut args = vec![lo, hi];
        if let Some(s) = filter.status.as_deref().filter(|s| !s.is_empty()) {
            args.push(s.to_string());
            where_.push_str(&format!(" AND status = ${}", args.len()));
        }
        if let Some(p) = filter.program.as_deref().filter(|s| !s.is_empty()) {
            args.push(p.to_string());
            where_.push_str(&format!(" AND program = ${}", args.len()));
        }
        if let Some(t) = filter.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            args.push(t.to_string());
            where_.push_str(&format!(" AND beneficiary_name = ${}", args.len()));
        }
        let limit = filter.limit.unwrap_or(50).clamp(1, 500);
        let offset = filter.offset.unwrap_or(0).max(0);
        let mut qq = q(format!(
            "SELECT * FROM enrolments WHERE {where_} ORDER BY id DESC LIMIT {limit} OFFSET {offset}"
        ));
        let mut cq = q(format!(
            "SELECT COUNT(*) AS n FROM enrolments WHERE {where_}"
        ));
        for a in &args {
            qq.push(a.as_str());
            cq.push(a.as_str());
        }
        let rows = self.fetch_all(qq).await?;
        let total = self.fetch_one(cq).await?.i64("n")?;
        Ok((
            rows.iter()
                .map(Enrolment::from_row)
                .collect::<StoreResult<_>>()?,
            total,
        ))
    }

    /// Daily tasks (动态管理): proposes 高龄津贴 for persons who reached the first age
    /// band, and opens review cases for enrolments whose review date has come.
    /// Returns (allowances proposed, reviews opened). Idempotent for a day.
    pub async fn run_case_tasks(
        &self,
        actor: &Actor,
        on: NaiveDate,
    ) -> StoreResult<(usize, usize)> {
        if actor
            .role
            .is_some_and(|r| !matches!(r, Role::TownshipDirector | Role::CityAdmin))
        {
            return Err(StoreError::Forbidden(
                "每日任务由民政办主任、市民政局管理员或系统执行".into(),
            ));
        }
        let params = self.load_params().await?;
        let (lo, hi) = actor.scope.bounds();
        // 高龄津贴: the youngest band's age, from the city parameters.
        let mut proposed = 0;
        let persons = self
            .fetch_all(
                q("SELECT p.id, p.household_id, p.id_number, h.village_code
                   FROM persons p JOIN households h ON h.id = p.household_id
                   WHERE p.status = 'active' AND h.village_code >= $1 AND h.village_code < $2
                     AND p.birth_date <= $3
                     AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.person_id = p.id
                                     AND c.program = 'old_age_allowance'
                                     AND c.state NOT IN ('withdrawn','denied','not_accepted','terminated'))
                   ORDER BY p.id LIMIT 500")
                .bind(lo.as_str())
                .bind(hi.as_str())
                .bind(min_age_cutoff(&params, on)),
            )
            .await?;
        for p in &persons {
            let input = NewCase {
                household_id: p.i64("household_id")?,
                person_id: Some(p.i64("id")?),
                program: Program::OldAgeAllowance.as_str().into(),
                reason: "系统按年龄自动拟定".into(),
                details: CaseDetails::default(),
                submit: false,
            };
            let sys = Actor {
                role: None,
                ..actor.clone()
            };
            match self.create_case(&sys, &input, on).await {
                Ok(_) => proposed += 1,
                Err(StoreError::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        // Reviews due.
        let due = self
            .fetch_all(
                q("SELECT e.* FROM enrolments e
                   WHERE e.status = 'active' AND e.next_review_on IS NOT NULL AND e.next_review_on <= $1
                     AND e.village_code >= $2 AND e.village_code < $3
                     AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.enrolment_id = e.id AND c.kind = 'review'
                                     AND c.state NOT IN ('enrolled','terminated','withdrawn','denied','not_accepted'))
                   ORDER BY e.id LIMIT 500")
                .bind(on.to_string())
                .bind(lo.as_str())
                .bind(hi.as_str()),
            )
            .await?;
        let mut reviews = 0;
        for r in &due {
            let e = Enrolment::from_row(r)?;
            self.open_followup(
                actor,
                &e,
                "review",
                "定期核查",
                "到期定期核查，系统自动立案",
                on,
            )
            .await?;
            reviews += 1;
        }
        let _ = params;
        Ok((proposed, reviews))
    }

    /// Opens a follow-up case (定期核查 `review`, or 变更 `change` for 增发/减发/停发)
    /// on an enrolment, at the accepted stage; its approval changes the enrolment.
    async fn open_followup(
        &self,
        actor: &Actor,
        e: &Enrolment,
        kind: &str,
        reason: &str,
        note: &str,
        on: NaiveDate,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let now = crate::timestamp(chrono::Utc::now());
        let case_no = next_case_no(&mut tx, &e.township_code, on).await?;
        let hh = tx
            .fetch_one(
                q("SELECT registration_type FROM households WHERE id = $1").bind(e.household_id),
            )
            .await?;
        let ur = if hh.str("registration_type")? == "urban" {
            "urban"
        } else {
            "rural"
        };
        let details = match e.case_id {
            Some(cid) => tx
                .fetch_optional(q("SELECT details_json FROM cases WHERE id = $1").bind(cid))
                .await?
                .map(|r| r.str("details_json"))
                .transpose()?
                .unwrap_or_else(|| "{}".into()),
            None => "{}".into(),
        };
        let row = tx
            .fetch_one(
                q("INSERT INTO cases (case_no, program, kind, state, township_code, village_code,
                     household_id, person_id, enrolment_id, urban_rural, subject_is_minor, applied_on,
                     details_json, reason, created_by, created_at, updated_at)
                   VALUES ($1,$2,$14,'accepted',$3,$4,$5,$6,$7,$8,$9,$10,$11,$15,$12,$13,$13)
                   RETURNING id")
                .bind(case_no.as_str())
                .bind(e.program.as_str())
                .bind(e.township_code.as_str())
                .bind(e.village_code.as_str())
                .bind(e.household_id)
                .bind(e.person_id)
                .bind(e.id)
                .bind(ur)
                .bind(false)
                .bind(on.to_string())
                .bind(details)
                .bind(actor.username.as_str())
                .bind(now.as_str())
                .bind(kind)
                .bind(reason),
            )
            .await?;
        let cid = row.i64("id")?;
        insert_event(
            &mut tx,
            cid,
            &e.township_code,
            "draft",
            CaseState::Draft,
            CaseState::Accepted,
            actor,
            on,
            note,
            serde_json::json!({ "enrolment_id": e.id }),
        )
        .await?;
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: if kind == "review" {
                    "case.review_opened"
                } else {
                    "case.change_opened"
                },
                entity_type: "case",
                entity_id: &cid.to_string(),
                scope_code: &e.village_code,
                before: None,
                after: Some(serde_json::json!({ "enrolment_id": e.id, "case_no": case_no })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(cid)
    }

    /// 变更申请 (增发/减发/停发): a change case on an active enrolment, by township staff.
    pub async fn open_change_case(
        &self,
        actor: &Actor,
        enrolment_id: i64,
        reason: &str,
        on: NaiveDate,
    ) -> StoreResult<i64> {
        if actor.role.is_some_and(|r| {
            !matches!(
                r,
                Role::TownshipStaff | Role::TownshipDirector | Role::VillageAssistant
            )
        }) || !actor.can_write()
        {
            return Err(StoreError::Forbidden(
                "变更申请由村(居)民政协理员或乡镇(街道)工作人员提出".into(),
            ));
        }
        let (lo, hi) = actor.scope.bounds();
        let e = self
            .fetch_optional(
                q("SELECT * FROM enrolments WHERE id = $1 AND village_code >= $2 AND village_code < $3")
                    .bind(enrolment_id)
                    .bind(lo)
                    .bind(hi),
            )
            .await?
            .map(|r| Enrolment::from_row(&r))
            .transpose()?
            .ok_or(StoreError::NotFound("该保障对象"))?;
        if !matches!(e.status.as_str(), "active" | "suspended" | "grace") {
            return Err(StoreError::Conflict(format!(
                "该保障对象当前为“{}”，不能提出变更",
                e.status_label
            )));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(StoreError::field(
                "reason",
                "请写明变更事由(如家庭收入增加、人口变化)",
            ));
        }
        let open = self
            .fetch_one(
                q("SELECT COUNT(*) AS n FROM cases WHERE enrolment_id = $1 AND kind IN ('review','change')
                   AND state NOT IN ('enrolled','terminated','withdrawn','denied','not_accepted')")
                .bind(e.id),
            )
            .await?
            .i64("n")?;
        if open > 0 {
            return Err(StoreError::Conflict(
                "该保障对象已有正在办理的核查或变更案件".into(),
            ));
        }
        self.open_followup(actor, &e, "change", reason, reason, on)
            .await
    }

    /// Saves amounts and inputs on a case that is still being prepared (details
    /// for the calculator).
    pub async fn update_case_details(
        &self,
        actor: &Actor,
        id: i64,
        details: &CaseDetails,
        on: NaiveDate,
    ) -> StoreResult<()> {
        let c = self.case_row(&actor.scope, id).await?;
        if !actor.can_write()
            || actor.role.is_some_and(|r| {
                matches!(r, Role::CityAdmin | Role::Auditor | Role::CountyApprover)
            })
        {
            return Err(StoreError::Forbidden("您无权修改申请信息".into()));
        }
        if !matches!(
            c.state,
            CaseState::Draft
                | CaseState::Submitted
                | CaseState::MissingPapers
                | CaseState::Accepted
                | CaseState::Investigating
                | CaseState::Reinvestigating
        ) {
            return Err(StoreError::Conflict(format!(
                "案件当前为“{}”，申请信息已不能修改",
                c.state.label()
            )));
        }
        let mut tx = self.begin_write().await?;
        tx.execute(
            q("UPDATE cases SET details_json = $1, updated_at = $2 WHERE id = $3")
                .bind(serde_json::to_string(details).unwrap_or_else(|_| "{}".into()))
                .bind(crate::timestamp(chrono::Utc::now()))
                .bind(id),
        )
        .await?;
        insert_event(
            &mut tx,
            id,
            &c.township_code,
            "amend",
            c.state,
            c.state,
            actor,
            on,
            "",
            serde_json::to_value(details).unwrap_or_default(),
        )
        .await?;
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "case.details",
                entity_type: "case",
                entity_id: &id.to_string(),
                scope_code: &c.village_code,
                before: Some(serde_json::to_value(&c.details).unwrap_or_default()),
                after: Some(serde_json::to_value(details).unwrap_or_default()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn min_age_cutoff(params: &ParamSet, on: NaiveDate) -> String {
    // The youngest band anywhere in the city; persons younger are skipped in SQL, the
    // exact band is decided per person by the calculator at approval.
    let min_age = params
        .entries()
        .iter()
        .filter_map(|e| match &e.value {
            minzheng_domain::ParamValue::AgeBands(b) => b.iter().map(|x| x.min_age).min(),
            _ => None,
        })
        .min()
        .unwrap_or(80);
    on.with_year(on.year() - min_age as i32)
        .unwrap_or(on)
        .to_string()
}

use chrono::Datelike;

fn next_actions(c: &Case) -> Vec<ActionKind> {
    let facts = CaseFacts {
        workflow: c.program.info().workflow,
        state: c.state,
        subject_is_minor: c.subject_is_minor,
        notice_posted_on: None,
        notice_days: 0,
        proposed_amount: c.proposed_fen.map(Fen),
        township_approval_threshold: None,
    };
    ActionKind::ALL
        .into_iter()
        .filter(|k| {
            let a = sample_action(*k);
            // Any working role: we only want "legal from this state".
            [
                Role::VillageAssistant,
                Role::TownshipStaff,
                Role::TownshipDirector,
                Role::CountyApprover,
            ]
            .into_iter()
            .any(|r| {
                !matches!(
                    transition(&facts, a.clone(), r, ApprovalLevel::County, NaiveDate::MAX),
                    Err(CaseError::IllegalTransition { .. })
                )
            })
        })
        .collect()
}

fn sample_action(k: ActionKind) -> Action {
    match k {
        ActionKind::Submit => Action::Submit,
        ActionKind::Accept => Action::Accept,
        ActionKind::NotAccept => Action::NotAccept {
            reasons: "x".into(),
        },
        ActionKind::RequestPapers => Action::RequestPapers {
            missing: vec!["x".into()],
        },
        ActionKind::ResubmitPapers => Action::ResubmitPapers,
        ActionKind::StartInvestigation => Action::StartInvestigation {
            investigators: vec!["a".into(), "b".into()],
            authorization_attached: true,
        },
        ActionKind::RecordOpinion => Action::RecordOpinion {
            proposed_amount: Some(Fen(0)),
        },
        ActionKind::Publish => Action::Publish,
        ActionKind::RecordObjection => Action::RecordObjection {
            summary: "x".into(),
        },
        ActionKind::CloseNotice => Action::CloseNotice,
        ActionKind::SendWithoutNotice => Action::SendWithoutNotice,
        ActionKind::Approve => Action::Approve { amount: Fen(0) },
        ActionKind::Deny => Action::Deny {
            reasons: "x".into(),
        },
        ActionKind::Enrol => Action::Enrol,
        ActionKind::Suspend => Action::Suspend {
            reasons: "x".into(),
        },
        ActionKind::Resume => Action::Resume,
        ActionKind::Terminate => Action::Terminate {
            reasons: "x".into(),
        },
        ActionKind::Withdraw => Action::Withdraw,
    }
}

fn clock_from_row(
    r: &DbRow,
    limits: Option<&StatutoryLimits>,
    cal: &WorkCalendar,
    on: NaiveDate,
) -> StoreResult<CaseClock> {
    let step: Step = from_code(&r.str("step")?)
        .ok_or_else(|| StoreError::Internal("时限环节代码无效".into()))?;
    let stopped = r.opt_str("stopped_on")?;
    let started = r.str("started_on")?;
    let mut status_label = String::new();
    let (mut overdue, mut due_soon) = (false, false);
    if stopped.is_none() {
        if let (Some(l), Some(s)) = (limits.and_then(|l| l.limit(step)), date(&started)) {
            let st = deadline_status(cal, s, l, on);
            status_label = st.label();
            overdue = matches!(st, minzheng_domain::DeadlineStatus::Overdue { .. });
            due_soon = matches!(st, minzheng_domain::DeadlineStatus::DueSoon { .. });
        }
    } else {
        status_label = "已完成".into();
    }
    Ok(CaseClock {
        step,
        step_label: step.label(),
        started_on: started,
        due_on: r.str("due_on")?,
        stopped_on: stopped,
        status_label,
        overdue,
        due_soon,
    })
}

/// Starts a statutory clock: due `limit` working days after `on`.
async fn start_clock(
    tx: &mut Tx,
    case: &Case,
    step: Step,
    limit: minzheng_domain::WorkingDayLimit,
    on: NaiveDate,
    cal: &WorkCalendar,
) -> StoreResult<()> {
    tx.execute(
        q(
            "INSERT INTO case_clocks (case_id, township_code, step, started_on, due_on)
           VALUES ($1,$2,$3,$4,$5)",
        )
        .bind(case.id)
        .bind(case.township_code.as_str())
        .bind(code_of(&step))
        .bind(on.to_string())
        .bind(due_date(cal, on, limit.working_days).to_string()),
    )
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert_event(
    tx: &mut Tx,
    case_id: i64,
    township: &str,
    action: &str,
    from: CaseState,
    to: CaseState,
    actor: &Actor,
    on: NaiveDate,
    note: &str,
    data: serde_json::Value,
) -> StoreResult<()> {
    tx.execute(
        q(
            "INSERT INTO case_events (case_id, township_code, action, from_state, to_state, actor,
             role, on_date, at, note, data_json) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
        )
        .bind(case_id)
        .bind(township)
        .bind(action)
        .bind(code_of(&from))
        .bind(code_of(&to))
        .bind(actor.username.as_str())
        .bind(actor.role.map(|r| r.as_str()).unwrap_or("system"))
        .bind(on.to_string())
        .bind(crate::timestamp(chrono::Utc::now()))
        .bind(note)
        .bind(data.to_string()),
    )
    .await?;
    Ok(())
}

/// 案件编号: township code, year, sequence — e.g. 511802001-2026-00042.
async fn next_case_no(tx: &mut Tx, township: &str, on: NaiveDate) -> StoreResult<String> {
    let prefix = format!("{township}-{}-", on.year());
    let r = tx
        .fetch_one(
            q("SELECT COUNT(*) AS n FROM cases WHERE township_code = $1 AND case_no >= $2 AND case_no < $3")
                .bind(township)
                .bind(prefix.as_str())
                .bind(format!("{township}-{}.", on.year())),
        )
        .await?;
    Ok(format!("{prefix}{:05}", r.i64("n")? + 1))
}

/// Writes a notice batch and its whitelisted entries; the cases' state is updated by
/// the caller.
#[allow(clippy::too_many_arguments)]
async fn publish_batch(
    tx: &mut Tx,
    actor: &Actor,
    division_code: &str,
    title: &str,
    cases: &[Case],
    on: NaiveDate,
    days: u32,
    params: &ParamSet,
    store: &Store,
) -> StoreResult<i64> {
    let township = cases
        .first()
        .map(|c| c.township_code.clone())
        .unwrap_or_default();
    let ends = minzheng_domain::deadlines::notice_ends_on(on, days);
    let now = crate::timestamp(chrono::Utc::now());
    let row = tx
        .fetch_one(
            q("INSERT INTO notice_batches (township_code, division_code, title, starts_on, ends_on,
                 created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id")
            .bind(township.as_str())
            .bind(division_code)
            .bind(title)
            .bind(on.to_string())
            .bind(ends.to_string())
            .bind(actor.username.as_str())
            .bind(now.as_str()),
        )
        .await?;
    let batch = row.i64("id")?;
    for c in cases {
        let region = region_of(&c.village_code)?;
        let qy = params.at(&region, Some(c.urban_rural), on);
        let mask = qy
            .name_mask(c.program, ParamName::NameMask)
            .unwrap_or(NameMask::None);
        let f = store.household_facts(c.household_id, on).await?;
        let id = as_of_id(&c.subject_id_number, on)
            .ok_or_else(|| StoreError::Internal(format!("案件{}的身份证号无效", c.case_no)))?;
        let cand = NoticeCandidate {
            name: c.subject_name.clone(),
            id_number: id,
            phone: Some(f.phone.clone()),
            bank_account: Some(f.account.clone()),
            address: Some(f.address.clone()),
            health_condition: None,
            disability: None,
            household_size: f.counted.max(1) as u32,
            program: c.program,
            amount: Fen(c.proposed_fen.unwrap_or(0)),
        };
        // Minors in 特困 are never put on a notice (the transition refused it already;
        // this is the second lock).
        let Ok(entry) = PublicNoticeEntry::build(&cand, mask, on) else {
            continue;
        };
        tx.execute(
            q("INSERT INTO notice_entries (batch_id, case_id, display_name, household_size, program, amount_fen)
               VALUES ($1,$2,$3,$4,$5,$6)")
            .bind(batch)
            .bind(c.id)
            .bind(entry.name)
            .bind(i64::from(entry.household_size))
            .bind(entry.program)
            .bind(entry.amount.0),
        )
        .await?;
        tx.execute(
            q("UPDATE cases SET notice_posted_on = $1, notice_batch_id = $2 WHERE id = $3")
                .bind(on.to_string())
                .bind(batch)
                .bind(c.id),
        )
        .await?;
    }
    Ok(batch)
}

/// How an enrolment ends on a termination (or a review the county does not confirm):
/// 渐退 until the grace period's last month when `grace`, else 停发 after the decision month.
/// Returns the new status and end month; records the grace end in `data`.
async fn end_enrolment(
    tx: &mut Tx,
    qy: &minzheng_domain::params::ParamQuery<'_>,
    program: Program,
    eid: i64,
    on: NaiveDate,
    grace: bool,
    data: &mut serde_json::Value,
) -> StoreResult<(&'static str, Option<String>)> {
    if !grace {
        return Ok(("ended", Some(YearMonth::of(on).to_string())));
    }
    let months = qy
        .months(program, ParamName::GracePeriodMonths)
        .unwrap_or(6);
    let warn = qy.days(program, ParamName::GraceWarningDays).unwrap_or(15);
    let g = minzheng_domain::grace_period(on, months, warn)
        .map_err(|e| StoreError::validation(e.to_string()))?;
    tx.execute(
        q("UPDATE enrolments SET grace_until = $1 WHERE id = $2")
            .bind(g.last_month.to_string())
            .bind(eid),
    )
    .await?;
    data["grace_until"] = serde_json::json!(g.last_month.to_string());
    Ok(("grace", Some(g.last_month.to_string())))
}

async fn set_enrolment_status(
    tx: &mut Tx,
    eid: i64,
    status: &str,
    end: Option<String>,
    now: &str,
) -> StoreResult<()> {
    tx.execute(
        q(
            "UPDATE enrolments SET status = $1, end_month = COALESCE($2, end_month),
             updated_at = $3 WHERE id = $4",
        )
        .bind(status)
        .bind(end)
        .bind(now)
        .bind(eid),
    )
    .await
    .map(|_| ())
}
