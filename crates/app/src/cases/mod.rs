//! 救助案件 — assistance cases from application to enrolment: applying, computing the
//! amount, papers, the procedure's steps (`act`), change cases, the case page, lists,
//! the dashboard's counts and due list, enrolments (保障对象) and the daily tasks.
//!
//! Which role may take which step is the state machine's decision
//! (`minzheng_domain::cases::transition`); the permission table only says who handles
//! cases at all.

mod act;
#[cfg(feature = "testing")]
pub mod testing;

use chrono::NaiveDate;
use minzheng_domain::attachments::{AttachedTo, Attachment, NewAttachment};
use minzheng_domain::case_calc::{self, CaseDetails, CaseInputs};
use minzheng_domain::cases::{
    self as rules, Case, CaseClock, CaseCounts, CaseEvent, CaseFilter, CaseKind, CaseOrigin,
    DueItem, Enrolment, EnrolmentFilter, EventKind, HouseholdFacts, NewCase, Objection, Survey,
};
use minzheng_domain::deadlines::StatutoryLimits;
use minzheng_domain::params::ParamName;
use minzheng_domain::{
    check_exclusive, check_temporary_frequency, ActionKind, Actor, Calculation, CaseState,
    DivisionCode, IdNumber, ParamSet, Program,
};
use minzheng_store::cases::{self as store, CaseRow, EventRow};
use minzheng_store::{append_audit, AuditEvent, Store};

use crate::{App, Authorize, Error, Permission, Result};

/// A case page's worth.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseDetail {
    pub case: Case,
    pub household_size: i64,
    pub events: Vec<CaseEvent>,
    pub clocks: Vec<CaseClock>,
    pub surveys: Vec<Survey>,
    pub objections: Vec<Objection>,
    pub enrolment: Option<Enrolment>,
    /// Photos and scans (signed authorisation, survey photos, papers).
    pub attachments: Vec<Attachment>,
    /// Actions that make sense now (the page's buttons; the role is checked again).
    pub next_actions: Vec<ActionKind>,
    /// The steps the case waits for, with the roles that take them at the level that
    /// decides it and, for closing a notice, the first day it may be taken.
    pub next_steps: Vec<rules::NextStep>,
    /// The public notice's standing on the day asked.
    pub notice: rules::NoticeStanding,
    /// 近亲属备案: the household's ties to staff and cadres, as declared now.
    pub ties: Vec<minzheng_domain::relatives::Tie>,
    /// Why the actor may not act on this case (回避), if so.
    pub recused: Option<String>,
}

impl CaseDetail {
    fn masked(mut self) -> Self {
        self.case = self.case.masked();
        self.enrolment = self.enrolment.map(Enrolment::masked);
        self
    }
}

/// The cases duty of [`App`].
pub struct Cases<'a> {
    app: &'a App,
}

impl App {
    pub fn cases(&self) -> Cases<'_> {
        Cases { app: self }
    }
}

/// Whether the actor sees ID numbers in full.
pub(crate) fn reveals(actor: &Actor) -> bool {
    actor.may(Permission::SeeFullIdentity)
}

/// A refusal of one field, worded as that field's message (the form shows it beside the
/// field and as the summary); several fields get the usual summary.
pub(crate) fn field_error(f: minzheng_domain::FieldErrors) -> Error {
    if f.len() == 1 {
        if let Some((k, m)) = f.iter().next() {
            return Error::field(k, m);
        }
    }
    f.into()
}

pub(crate) fn region(village: &str) -> Result<DivisionCode> {
    rules::region_of(village).ok_or_else(|| Error::Internal(format!("村(社区)代码{village}无效")))
}

/// The statutory limits in force for a case (none where parameters are missing).
fn limits_for(c: &Case, params: &ParamSet, on: NaiveDate) -> Option<StatutoryLimits> {
    let region = rules::region_of(&c.village_code)?;
    let qy = params.at(&region, Some(c.urban_rural), on);
    StatutoryLimits::load(&qy, c.program).ok()
}

impl Cases<'_> {
    fn store(&self) -> &Store {
        self.app.store()
    }

    async fn params(&self) -> Result<ParamSet> {
        Ok(minzheng_store::params::load(self.store()).await?)
    }

    /// The amount for a would-be case from the registry and the parameters in force on
    /// `on` (also used to choose demo households).
    pub(crate) async fn calculate(
        &self,
        household_id: i64,
        person_id: Option<i64>,
        program: Program,
        details: &CaseDetails,
        params: &ParamSet,
        on: NaiveDate,
    ) -> Result<Calculation> {
        let f = store::household_facts(self.store(), household_id, on).await?;
        let region = region(&f.village_code)?;
        let qy = params.at(&region, Some(f.urban_rural), on);
        let subject = person_id
            .and_then(|p| f.member_ids.get(&p))
            .and_then(|(s, _)| IdNumber::parse(s, on).ok());
        let inp = CaseInputs {
            program,
            members: &f.members,
            incomes: &f.incomes,
            subject: subject.as_ref(),
            details,
            on,
        };
        case_calc::compute(&inp, &qy).map_err(|m| Error::field("amount", m))
    }

    async fn calculate_case(
        &self,
        c: &Case,
        params: &ParamSet,
        on: NaiveDate,
    ) -> Result<Calculation> {
        self.calculate(
            c.household_id,
            c.person_id,
            c.program,
            &c.details,
            params,
            on,
        )
        .await
    }

    /// 测算: the amount for a case from the registry and the parameters in force on `on`.
    pub async fn compute(&self, actor: &Actor, id: i64, on: NaiveDate) -> Result<Calculation> {
        let c = store::get(self.store(), &actor.scope, id).await?;
        let params = self.params().await?;
        self.calculate_case(&c, &params, on).await
    }

    /// 低保 and 特困 are exclusive: no subject (or, for household programs, no member) may
    /// hold the other.
    async fn check_exclusive(
        &self,
        f: &HouseholdFacts,
        person_id: Option<i64>,
        program: Program,
    ) -> Result<()> {
        for pid in rules::exclusivity_subjects(f, person_id) {
            let current = store::held_programs(self.store(), pid).await?;
            if let Err(e) = check_exclusive(&current, program) {
                let name = f
                    .member_ids
                    .get(&pid)
                    .map(|(_, n)| n.clone())
                    .unwrap_or_default();
                return Err(Error::Conflict(format!("{name}：{e}")));
            }
        }
        Ok(())
    }

    /// 临时救助: at most N grants per cause per year for a household (parameter
    /// `per_cause_per_year`). The cause is required.
    async fn check_temporary(
        &self,
        household_id: i64,
        village: &str,
        ur: minzheng_domain::UrbanRural,
        details: &CaseDetails,
        exclude: Option<i64>,
        on: NaiveDate,
    ) -> Result<()> {
        let cause = rules::temporary_cause(details).map_err(field_error)?;
        let params = self.params().await?;
        let max = params
            .at(&region(village)?, Some(ur), on)
            .count(Program::TemporaryAssistance, ParamName::PerCausePerYear)
            .unwrap_or(1);
        let past = store::past_temporary(self.store(), household_id).await?;
        check_temporary_frequency(&rules::past_grants(&past, exclude), cause, on, max)
            .map_err(|e| Error::Conflict(e.to_string()))
    }

    /// Opens an application (submitted at once unless `submit` is false); returns its id.
    pub async fn create(&self, actor: &Actor, input: &NewCase, on: NaiveDate) -> Result<i64> {
        if let Some(r) = actor.role {
            if !actor.may(Permission::ApplyForAssistance) {
                return Err(Error::Forbidden(format!(
                    "{}不能受理救助申请，应由村(居)民政协理员或乡镇(街道)工作人员录入",
                    r.label()
                )));
            }
        }
        let store = self.store();
        if input.program.trim().parse::<Program>().is_err() {
            return Err(Error::field("program", "请选择救助项目"));
        }
        // The household must be visible to the actor.
        store::household_visible(store, &actor.scope, input.household_id).await?;
        crate::relatives::check_recusal(store, actor, input.household_id).await?;
        let f = store::household_facts(store, input.household_id, on).await?;
        let a = rules::check_application(&input.program, input.person_id, &f, on)
            .map_err(field_error)?;
        self.check_exclusive(&f, a.person_id, a.program).await?;
        if a.program == Program::TemporaryAssistance {
            self.check_temporary(
                input.household_id,
                &f.village_code,
                f.urban_rural,
                &input.details,
                None,
                on,
            )
            .await?;
        }
        let state = if input.submit {
            CaseState::Submitted
        } else {
            CaseState::Draft
        };
        let details_json = serde_json::to_string(&input.details).unwrap_or_else(|_| "{}".into());
        let mut tx = store.begin_write().await?;
        let (id, case_no) = store::insert_case(
            &mut tx,
            actor,
            &CaseRow {
                program: a.program,
                kind: CaseKind::New,
                state,
                township_code: &f.township_code,
                village_code: &f.village_code,
                household_id: input.household_id,
                person_id: a.person_id,
                enrolment_id: None,
                urban_rural: f.urban_rural,
                subject_is_minor: a.subject_is_minor,
                applied_on: on,
                details_json: &details_json,
                reason: input.reason.trim(),
                origin: if actor.role.is_none() {
                    CaseOrigin::System
                } else {
                    CaseOrigin::Clerk
                },
            },
        )
        .await?;
        crate::relatives::file_new_case(&mut tx, id, input.household_id).await?;
        store::insert_event(
            &mut tx,
            actor,
            &EventRow {
                case_id: id,
                township_code: &f.township_code,
                action: if input.submit {
                    EventKind::Submit
                } else {
                    EventKind::Draft
                },
                from: CaseState::Draft,
                to: state,
                on,
                note: "",
                data: &serde_json::json!({}),
            },
        )
        .await?;
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: "case.create",
                entity_type: "case",
                entity_id: &id.to_string(),
                scope_code: &f.village_code,
                before: None,
                after: Some(serde_json::json!({
                    "case_no": case_no, "program": a.program.as_str(), "household_id": input.household_id,
                    "person_id": a.person_id, "state": state.as_str(), "details": input.details,
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Attaches a photo or scan (signed authorisation, survey photo, papers) to a case;
    /// returns the attachment's id.
    pub async fn attach(
        &self,
        actor: &Actor,
        id: i64,
        a: &NewAttachment,
        max_bytes: usize,
        on: NaiveDate,
    ) -> Result<i64> {
        let store = self.store();
        let c = store::get(store, &actor.scope, id).await?;
        actor.require_or(Permission::AttachCasePapers, "您无权为案件上传材料")?;
        crate::relatives::check_recusal(store, actor, c.household_id).await?;
        if let Some(m) = rules::papers_refused(c.state) {
            return Err(Error::Conflict(m));
        }
        let mut tx = store.begin_write().await?;
        let aid = crate::attachments::attach_photo(
            &mut tx,
            actor,
            AttachedTo::Case,
            &id.to_string(),
            &c.village_code,
            a,
            max_bytes,
        )
        .await?;
        store::insert_event(
            &mut tx,
            actor,
            &EventRow {
                case_id: id,
                township_code: &c.township_code,
                action: EventKind::Attach,
                from: c.state,
                to: c.state,
                on,
                note: &a.filename,
                data: &serde_json::json!({ "attachment_id": aid }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(aid)
    }

    /// Cases in the actor's scope, newest first, and the total.
    pub async fn list(&self, actor: &Actor, f: &CaseFilter) -> Result<(Vec<Case>, i64)> {
        let q = f.query().map_err(field_error)?;
        let (items, total) = store::list(self.store(), &actor.scope, &q).await?;
        let items = if reveals(actor) {
            items
        } else {
            items.into_iter().map(Case::masked).collect()
        };
        Ok((items, total))
    }

    /// One case as stored (ID numbers masked for those who may not see them).
    pub async fn case(&self, actor: &Actor, id: i64) -> Result<Case> {
        let c = store::get(self.store(), &actor.scope, id).await?;
        Ok(if reveals(actor) { c } else { c.masked() })
    }

    /// The case page: the case, its history, clocks (their standing on `on`), surveys,
    /// objections, enrolment, papers and the steps that make sense now.
    pub async fn get(&self, actor: &Actor, id: i64, on: NaiveDate) -> Result<CaseDetail> {
        let store = self.store();
        let case = store::get(store, &actor.scope, id).await?;
        let events = store::events(store, id).await?;
        let params = self.params().await?;
        let limits = limits_for(&case, &params, on);
        let cal = self.app.calendar();
        let clocks = store::clocks(store, id)
            .await?
            .into_iter()
            .map(|k| {
                let (status, overdue, due_soon) = rules::clock_standing(
                    limits.as_ref(),
                    k.step,
                    rules::parse_date(&k.started_on),
                    k.stopped_on.is_some(),
                    cal,
                    on,
                );
                CaseClock {
                    step: k.step,
                    started_on: k.started_on,
                    due_on: k.due_on,
                    stopped_on: k.stopped_on,
                    status,
                    overdue,
                    due_soon,
                }
            })
            .collect();
        let surveys = store::surveys(store, id).await?;
        let objections = store::objections(store, id).await?;
        let enrolment = match case.enrolment_id {
            Some(e) => store::enrolment_by_id(store, e).await?,
            None => None,
        };
        let household_size = store::counted_members(store, case.household_id).await?;
        let next_actions = rules::next_actions(&case);
        let (facts, level) = match rules::region_of(&case.village_code) {
            Some(region) => {
                let qy = params.at(&region, Some(case.urban_rural), on);
                (
                    rules::facts_of(&case, Some(&qy)),
                    rules::configured_level(&qy, case.program),
                )
            }
            None => (
                rules::facts_of(&case, None),
                case.program.info().default_approval,
            ),
        };
        let next_steps = rules::next_steps(&case, &facts, level, on, true);
        let notice = rules::notice_standing(&case, &facts, &events, &objections, on);
        let attachments = minzheng_store::attachments::list(
            store,
            &actor.scope,
            AttachedTo::Case,
            &id.to_string(),
        )
        .await?;
        let ties = crate::relatives::ties(store, case.household_id).await?;
        let recused = actor
            .role
            .and_then(|_| minzheng_domain::relatives::recusal(&actor.username, &ties));
        let d = CaseDetail {
            ties,
            recused,
            attachments,
            case,
            household_size,
            events,
            clocks,
            surveys,
            objections,
            enrolment,
            next_actions,
            next_steps,
            notice,
        };
        Ok(if reveals(actor) { d } else { d.masked() })
    }

    /// Saves the applicant's details (the calculator's inputs) on a case still being
    /// prepared.
    pub async fn update_details(
        &self,
        actor: &Actor,
        id: i64,
        details: &CaseDetails,
        on: NaiveDate,
    ) -> Result<()> {
        let store = self.store();
        let c = store::get(store, &actor.scope, id).await?;
        actor.require_or(Permission::EditCaseDetails, "您无权修改申请信息")?;
        crate::relatives::check_recusal(store, actor, c.household_id).await?;
        if !rules::details_editable(c.state) {
            return Err(Error::Conflict(rules::details_locked(c.state)));
        }
        let mut tx = store.begin_write().await?;
        store::set_details(&mut tx, id, details).await?;
        store::insert_event(
            &mut tx,
            actor,
            &EventRow {
                case_id: id,
                township_code: &c.township_code,
                action: EventKind::Amend,
                from: c.state,
                to: c.state,
                on,
                note: "",
                data: &serde_json::to_value(details).unwrap_or_default(),
            },
        )
        .await?;
        append_audit(
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

    /// Opens a follow-up case (定期核查, or 变更 for 增发/减发/停发) on an enrolment, at the
    /// accepted stage; its approval changes the enrolment.
    async fn open_followup(
        &self,
        actor: &Actor,
        e: &Enrolment,
        kind: CaseKind,
        reason: &str,
        note: &str,
        on: NaiveDate,
    ) -> Result<i64> {
        let mut tx = self.store().begin_write().await?;
        let urban = store::household_is_urban(&mut tx, e.household_id).await?;
        let details = store::details_json(&mut tx, e.case_id).await?;
        let (cid, case_no) = store::insert_case(
            &mut tx,
            actor,
            &CaseRow {
                program: e.program,
                kind,
                state: CaseState::Accepted,
                township_code: &e.township_code,
                village_code: &e.village_code,
                household_id: e.household_id,
                person_id: e.person_id,
                enrolment_id: Some(e.id),
                urban_rural: if urban {
                    minzheng_domain::UrbanRural::Urban
                } else {
                    minzheng_domain::UrbanRural::Rural
                },
                subject_is_minor: false,
                applied_on: on,
                details_json: &details,
                reason,
                // Follow-ups are the office's work, whoever opened them.
                origin: CaseOrigin::Clerk,
            },
        )
        .await?;
        crate::relatives::file_new_case(&mut tx, cid, e.household_id).await?;
        store::insert_event(
            &mut tx,
            actor,
            &EventRow {
                case_id: cid,
                township_code: &e.township_code,
                action: EventKind::Draft,
                from: CaseState::Draft,
                to: CaseState::Accepted,
                on,
                note,
                data: &serde_json::json!({ "enrolment_id": e.id }),
            },
        )
        .await?;
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: if kind == CaseKind::Review {
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

    /// 变更申请 (增发/减发/停发): a change case on an enrolment still held; returns its id.
    pub async fn open_change(
        &self,
        actor: &Actor,
        enrolment_id: i64,
        reason: &str,
        on: NaiveDate,
    ) -> Result<i64> {
        actor.require_or(
            Permission::OpenChangeCase,
            "变更申请由村(居)民政协理员或乡镇(街道)工作人员提出",
        )?;
        let store = self.store();
        let e = store::get_enrolment(store, &actor.scope, enrolment_id).await?;
        crate::relatives::check_recusal(store, actor, e.household_id).await?;
        rules::check_change(e.status, reason).map_err(|r| match r {
            rules::ChangeRefusal::Conflict(m) => Error::Conflict(m),
            rules::ChangeRefusal::Field(f) => field_error(f),
        })?;
        if store::open_followups(store, e.id).await? > 0 {
            return Err(Error::Conflict(
                "该保障对象已有正在办理的核查或变更案件".into(),
            ));
        }
        let reason = reason.trim();
        self.open_followup(actor, &e, CaseKind::Change, reason, reason, on)
            .await
    }

    /// 保障对象 in the actor's scope, newest first, and the total.
    pub async fn enrolments(
        &self,
        actor: &Actor,
        f: &EnrolmentFilter,
    ) -> Result<(Vec<Enrolment>, i64)> {
        let (items, total) = store::list_enrolments(self.store(), &actor.scope, &f.query()).await?;
        let items = if reveals(actor) {
            items
        } else {
            items.into_iter().map(Enrolment::masked).collect()
        };
        Ok((items, total))
    }

    /// Counts for the dashboard (from the read replica when there is one).
    pub async fn counts(&self, actor: &Actor) -> Result<CaseCounts> {
        Ok(store::counts(self.app.reader(), &actor.scope).await?)
    }

    /// Running clocks near or past their limit on `on`, overdue first: approvers see the
    /// confirmation step, township roles the rest. A statistic of the dashboard, read
    /// from the read replica when there is one.
    pub async fn due(&self, actor: &Actor, on: NaiveDate) -> Result<Vec<DueItem>> {
        let mut out = self.clocks(self.app.reader(), actor, on).await?;
        out.retain(|d| {
            matches!(
                d.status,
                minzheng_domain::DeadlineStatus::Overdue { .. }
                    | minzheng_domain::DeadlineStatus::DueSoon { .. }
            )
        });
        Ok(out)
    }

    /// Every running clock inside the actor's scope on a step that concerns their role,
    /// with its deadline standing on `on`, overdue first, then by due date.
    pub(crate) async fn clocks(
        &self,
        store: &Store,
        actor: &Actor,
        on: NaiveDate,
    ) -> Result<Vec<DueItem>> {
        let rows = store::running_clocks(store, &actor.scope).await?;
        let params = minzheng_store::params::load(store).await?;
        let cal = self.app.calendar();
        let mut out = Vec::new();
        for r in rows {
            if !rules::step_concerns(actor.role, r.step) {
                continue;
            }
            let Some(region) = rules::region_of(&r.village_code) else {
                continue;
            };
            let qy = params.at(&region, r.urban_rural, on);
            let Some(limit) = StatutoryLimits::load(&qy, r.program)
                .ok()
                .and_then(|l| l.limit(r.step))
            else {
                continue;
            };
            let st = minzheng_domain::deadline_status(cal, r.started_on, limit, on);
            let overdue = matches!(st, minzheng_domain::DeadlineStatus::Overdue { .. });
            out.push(DueItem {
                case_id: r.case_id,
                case_no: r.case_no,
                subject_name: r.subject_name,
                program: r.program,
                step: r.step,
                due_on: st.due().to_string(),
                status: st,
                overdue,
            });
        }
        out.sort_by(|a, b| b.overdue.cmp(&a.overdue).then(a.due_on.cmp(&b.due_on)));
        Ok(out)
    }

    /// Daily tasks (动态管理): proposes 高龄津贴 for persons who reached the first age
    /// band, and opens review cases for enrolments whose review date has come. Returns
    /// (allowances proposed, reviews opened). Idempotent for a day.
    pub async fn run_tasks(&self, actor: &Actor, on: NaiveDate) -> Result<(usize, usize)> {
        actor.require_or(
            Permission::RunCaseTasks,
            "每日任务由民政办主任、市民政局管理员或系统执行",
        )?;
        let store = self.store();
        let params = self.params().await?;
        let born_by = rules::old_age_birth_cutoff(&params, on);
        let mut proposed = 0;
        let sys = Actor {
            role: None,
            ..actor.clone()
        };
        for (household_id, person_id) in
            store::old_age_candidates(store, &actor.scope, born_by).await?
        {
            let input = NewCase {
                household_id,
                person_id: Some(person_id),
                program: Program::OldAgeAllowance.as_str().into(),
                reason: "系统按年龄自动拟定".into(),
                details: CaseDetails::default(),
                submit: false,
            };
            match self.create(&sys, &input, on).await {
                Ok(_) => proposed += 1,
                Err(Error::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        let mut reviews = 0;
        for e in store::reviews_due(store, &actor.scope, on).await? {
            self.open_followup(
                actor,
                &e,
                CaseKind::Review,
                "定期核查",
                "到期定期核查，系统自动立案",
                on,
            )
            .await?;
            reviews += 1;
        }
        Ok((proposed, reviews))
    }
}
