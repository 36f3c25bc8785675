//! Taking a step of the procedure (受理, 入户调查, 初审, 公示, 审核确认, 纳入保障 …) and
//! publishing a notice board for several cases at once.

use chrono::NaiveDate;
use minzheng_domain::cases::{
    self as rules, check_hand_amount, ActionExtras, AmountStep, Case, CaseError, Effect,
    EnrolmentChange, EnrolmentStatus, EventKind, HandAmount,
};
use minzheng_domain::deadlines::{due_date, notice_ends_on, StatutoryLimits};
use minzheng_domain::notices::{NameMask, NoticeCandidate};
use minzheng_domain::params::{ParamName, ParamQuery};
use minzheng_domain::{
    transition, Action, ActionKind, Actor, ApprovalLevel, CaseState, Fen, IdNumber, ParamSet,
    PublicNoticeEntry, Role, Step, WorkingDayLimit,
};
use minzheng_store::cases::{self as store, EventRow};
use minzheng_store::{append_audit, AuditEvent, Tx};

use super::{region, Cases};
use crate::{Authorize, Error, Permission, Result};

/// A refusal of the state machine as the use cases report it.
pub(crate) fn case_error(e: CaseError) -> Error {
    match e {
        CaseError::IllegalTransition { .. } => Error::Conflict(e.to_string()),
        CaseError::WrongRole { .. } => Error::Forbidden(e.to_string()),
        CaseError::Invalid(m) => Error::validation(m),
    }
}

const CHANGED_MEANWHILE: &str = "案件状态已被他人更新，请刷新页面后重试";

async fn start_clock(
    tx: &mut Tx,
    case: &Case,
    step: Step,
    limit: WorkingDayLimit,
    on: NaiveDate,
    cal: &minzheng_domain::WorkCalendar,
) -> Result<()> {
    let due = due_date(cal, on, limit.working_days);
    Ok(store::start_clock(tx, case.id, &case.township_code, step, on, due).await?)
}

impl Cases<'_> {
    /// Takes a step on a case (the whole procedure goes through here): the facts are
    /// loaded, the state machine decides, and the step with its clocks, notice,
    /// enrolment, history entry and audit record is written in one transaction.
    pub async fn act(
        &self,
        actor: &Actor,
        id: i64,
        action: Action,
        extras: &ActionExtras,
        on: NaiveDate,
    ) -> Result<()> {
        let st = self.app.store();
        let cal = self.app.calendar();
        let case = store::get(st, &actor.scope, id).await?;
        if !actor.may(Permission::HandleCases) {
            return Err(Error::Forbidden(format!(
                "{}为只读角色，不能办理案件",
                actor.role.map(|r| r.label()).unwrap_or("")
            )));
        }
        crate::relatives::check_recusal(st, actor, case.household_id).await?;
        if matches!(action, Action::Approve { .. }) {
            minzheng_domain::relatives::check_county_visit(
                !case.filed_note.is_empty(),
                &extras.findings,
            )
            .map_err(|m| Error::field("findings", m))?;
        }
        let params = self.params().await?;
        let region = region(&case.village_code)?;
        let qy = params.at(&region, Some(case.urban_rural), on);
        let facts = rules::facts_of(&case, Some(&qy));
        let configured = rules::configured_level(&qy, case.program);
        // Fill in what the clerk may leave to the system.
        let mut calc = None;
        let action = match action {
            Action::RecordOpinion {
                proposed_amount: None,
            } if case.state != CaseState::Draft => {
                let c = self.calculate_case(&case, &params, on).await?;
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
                match self.calculate_case(&case, &params, on).await {
                    Ok(c) => {
                        let amount = c.amount;
                        calc = Some(c);
                        Action::Approve { amount }
                    }
                    Err(_) => Action::Approve {
                        amount: case
                            .proposed_fen
                            .ok_or_else(|| Error::field("amount", "请填写确认金额"))?,
                    },
                }
            }
            a => a,
        };
        // The system acts with the role the step needs.
        let role = actor
            .role
            .unwrap_or_else(|| rules::system_role(&facts, &action, configured));
        let t = transition(&facts, action.clone(), role, configured, on).map_err(case_error)?;
        // 金额合理性 (docs/rules.md §3.4): an amount typed by hand against the calculator's.
        // `hand` is what the case keeps: the reason and the calculator's amount when they
        // differ, nothing when the amount is the calculator's.
        let hand: Option<(String, Option<Fen>)> = match (&action, &calc) {
            (Action::RecordOpinion { .. }, Some(_)) | (Action::Approve { .. }, Some(_)) => {
                Some((String::new(), None))
            }
            (
                Action::RecordOpinion {
                    proposed_amount: Some(entered),
                },
                None,
            ) => {
                self.hand_amount(
                    &case,
                    &params,
                    on,
                    AmountStep::Opinion,
                    role,
                    *entered,
                    extras,
                )
                .await?
            }
            (Action::Approve { amount: entered }, None) => {
                self.hand_amount(
                    &case,
                    &params,
                    on,
                    AmountStep::Approval,
                    role,
                    *entered,
                    extras,
                )
                .await?
            }
            _ => None,
        };
        // Checks that need storage, before anything is written.
        if action.kind() == ActionKind::Enrol && case.kind == rules::CaseKind::New {
            let f = store::household_facts(st, case.household_id, on).await?;
            self.check_exclusive(&f, case.person_id, case.program)
                .await?;
            if case.program == minzheng_domain::Program::TemporaryAssistance {
                self.check_temporary(
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
        // What the notice board needs is read before the transaction.
        let notice = if matches!(action, Action::Publish) {
            Some(
                self.notice_entries(std::slice::from_ref(&case), &params, on)
                    .await?,
            )
        } else {
            None
        };
        let enrol = if matches!(action, Action::Enrol) {
            Some(rules::enrolment_change(&case, &qy, on).map_err(Error::Internal)?)
        } else {
            None
        };
        let limits = StatutoryLimits::load(&qy, case.program).ok();
        let mut tx = st.begin_write().await?;
        store::set_state(&mut tx, id, t.from, t.to, CHANGED_MEANWHILE).await?;
        let mut data = serde_json::to_value(&action).unwrap_or_default();
        if matches!(action, Action::Approve { .. }) && !case.filed_note.is_empty() {
            data["county_visit"] = serde_json::json!(extras.findings.trim());
        }
        for e in &t.effects {
            match e {
                Effect::StartClock { step } => {
                    let Some(l) = limits.as_ref().and_then(|l| l.limit(*step)) else {
                        continue;
                    };
                    start_clock(&mut tx, &case, *step, l, on, cal).await?;
                }
                Effect::StopClock { step } => store::stop_clock(&mut tx, id, *step, on).await?,
                Effect::MissingItemsNotice { items } => {
                    store::set_missing_items(&mut tx, id, &items.join("；")).await?
                }
                Effect::NoticePosted { ends_on } => {
                    data["notice_ends_on"] = serde_json::json!(ends_on.to_string());
                }
                Effect::NoticeSkippedForMinor => {
                    data["notice_skipped"] = serde_json::json!("特困人员中的未成年人不予公示");
                }
                Effect::WrittenReasons { reasons } => {
                    store::set_decision_reasons(&mut tx, id, reasons).await?
                }
                Effect::AmountFixed { amount } => {
                    store::set_approved(&mut tx, id, *amount, on).await?
                }
            }
        }
        if let Some((reason, calculated)) = &hand {
            store::set_hand_amount(&mut tx, id, reason, *calculated).await?;
            if let Some(c) = calculated {
                data["calculated"] = serde_json::json!(c.0);
                data["amount_reason"] = serde_json::json!(reason);
            }
        }
        let calc_json = calc
            .as_ref()
            .map(|c| serde_json::to_string(c).unwrap_or_default());
        match &action {
            Action::RecordOpinion {
                proposed_amount: Some(a),
            } => store::set_proposed(&mut tx, id, *a, calc_json).await?,
            Action::Approve { .. } if calc.is_some() => {
                store::set_calc(&mut tx, id, calc_json).await?
            }
            Action::Deny { .. } | Action::NotAccept { .. } => {
                store::set_decided_on(&mut tx, id, on).await?;
                // A periodic review the county does not confirm means the household no
                // longer qualifies: 停发 (or 渐退 when asked), as a termination would. A denied
                // change case only leaves the enrolment as it was.
                if let (Some(eid), true, Action::Deny { .. }) = (
                    case.enrolment_id,
                    case.kind == rules::CaseKind::Review,
                    &action,
                ) {
                    end_enrolment(&mut tx, &qy, &case, eid, on, extras.grace, &mut data).await?;
                }
            }
            Action::StartInvestigation {
                investigators,
                authorization_attached,
            } => {
                store::insert_survey(
                    &mut tx,
                    actor,
                    &store::SurveyRow {
                        case_id: id,
                        township_code: &case.township_code,
                        visited_on: on,
                        investigators: &investigators.join("、"),
                        findings: extras.findings.trim(),
                        authorization_signed: *authorization_attached,
                    },
                )
                .await?
            }
            Action::Publish => {
                let batch = publish_board(
                    &mut tx,
                    actor,
                    &case.township_code,
                    &case.village_code,
                    &rules::notice_title([case.program]),
                    notice.as_deref().unwrap_or_default(),
                    on,
                    facts.notice_days,
                )
                .await?;
                data["notice_batch_id"] = serde_json::json!(batch);
            }
            Action::RecordObjection { summary } => {
                store::insert_objection(
                    &mut tx,
                    actor,
                    id,
                    case.notice_batch_id,
                    &case.township_code,
                    on,
                    summary.trim(),
                )
                .await?;
                // Re-investigation has its own clock.
                if let Some(l) = limits.as_ref().and_then(|l| l.limit(Step::Reinvestigation)) {
                    start_clock(&mut tx, &case, Step::Reinvestigation, l, on, cal).await?;
                }
            }
            Action::Enrol => {
                let eid = match enrol {
                    Some(EnrolmentChange::Create(plan)) => {
                        let (name, id_number) = match case.person_id {
                            Some(p) => store::person_identity(&mut tx, p).await?,
                            None => (case.head_name.clone(), case.subject_id_number.clone()),
                        };
                        let size = store::counted_members(&mut tx, case.household_id).await?;
                        store::create_enrolment(&mut tx, &case, &plan, (&name, &id_number), size)
                            .await?
                    }
                    Some(EnrolmentChange::Adjust {
                        enrolment_id,
                        monthly,
                        year_end_extra,
                        next_review_on,
                    }) => {
                        store::adjust_enrolment(
                            &mut tx,
                            enrolment_id,
                            (monthly, year_end_extra),
                            next_review_on,
                        )
                        .await?;
                        enrolment_id
                    }
                    Some(EnrolmentChange::Stop {
                        enrolment_id,
                        end_month,
                    }) => {
                        store::stop_enrolment(&mut tx, enrolment_id, end_month).await?;
                        enrolment_id
                    }
                    None => return Err(Error::Internal("确认金额缺失".into())),
                };
                data["enrolment_id"] = serde_json::json!(eid);
            }
            Action::Suspend { .. } | Action::Resume | Action::Terminate { .. } => {
                if let Some(eid) = case.enrolment_id {
                    match &action {
                        Action::Suspend { .. } => {
                            store::set_enrolment_status(
                                &mut tx,
                                eid,
                                EnrolmentStatus::Suspended,
                                None,
                            )
                            .await?
                        }
                        Action::Resume => {
                            store::set_enrolment_status(&mut tx, eid, EnrolmentStatus::Active, None)
                                .await?
                        }
                        _ => {
                            end_enrolment(&mut tx, &qy, &case, eid, on, extras.grace, &mut data)
                                .await?
                        }
                    }
                }
            }
            _ => {}
        }
        store::insert_event(
            &mut tx,
            actor,
            &EventRow {
                case_id: id,
                township_code: &case.township_code,
                action: EventKind::from(action.kind()),
                from: t.from,
                to: t.to,
                on,
                note: extras.note.trim(),
                data: &data,
            },
        )
        .await?;
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: "case.transition",
                entity_type: "case",
                entity_id: &id.to_string(),
                scope_code: &case.village_code,
                before: Some(serde_json::json!({ "state": t.from.as_str() })),
                after: Some(serde_json::json!({
                    "state": t.to.as_str(), "action": data, "note": extras.note.trim(),
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks an amount typed by hand against the calculator's on `on` (docs/rules.md
    /// §3.4) and says what the case keeps: the reason and the calculator's amount when they
    /// differ; nothing to keep when the calculator cannot compute one (the hand amount is
    /// then the only one). At approval, the proposed amount keeps the opinion's reason.
    #[allow(clippy::too_many_arguments)]
    async fn hand_amount(
        &self,
        case: &Case,
        params: &ParamSet,
        on: NaiveDate,
        step: AmountStep,
        role: Role,
        entered: Fen,
        extras: &ActionExtras,
    ) -> Result<Option<(String, Option<Fen>)>> {
        let Ok(c) = self.calculate_case(case, params, on).await else {
            return Ok(None);
        };
        let reason = if extras.amount_reason.trim().is_empty()
            && step == AmountStep::Approval
            && case.proposed_fen == Some(entered)
        {
            case.amount_reason.as_str()
        } else {
            extras.amount_reason.as_str()
        };
        let field = match step {
            AmountStep::Opinion => "proposed_amount",
            AmountStep::Approval => "amount",
        };
        check_hand_amount(
            step,
            role,
            HandAmount {
                entered,
                calculated: c.amount,
                reason,
                confirmed: extras.amount_confirmed,
            },
        )
        .map_err(|m| Error::field(field, m))?;
        Ok(Some(if entered == c.amount {
            (String::new(), None)
        } else {
            (reason.trim().to_string(), Some(c.amount))
        }))
    }

    /// The whitelisted board entries of the cases (a minor in 特困 is left off: the
    /// transition refused it already; this is the second lock).
    pub(crate) async fn notice_entries(
        &self,
        cases: &[Case],
        params: &ParamSet,
        on: NaiveDate,
    ) -> Result<Vec<(i64, PublicNoticeEntry)>> {
        let mut out = Vec::new();
        for c in cases {
            let region = region(&c.village_code)?;
            let qy = params.at(&region, Some(c.urban_rural), on);
            let mask = qy
                .name_mask(c.program, ParamName::NameMask)
                .unwrap_or(NameMask::None);
            let f = store::household_facts(self.app.store(), c.household_id, on).await?;
            let id = IdNumber::parse(&c.subject_id_number, on)
                .map_err(|_| Error::Internal(format!("案件{}的身份证号无效", c.case_no)))?;
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
                amount: c.proposed_fen.unwrap_or(Fen(0)),
            };
            if let Ok(entry) = PublicNoticeEntry::build(&cand, mask, on) {
                out.push((c.id, entry));
            }
        }
        Ok(out)
    }

    /// Publishes one notice board for several cases of one village or township (each must
    /// be awaiting its notice); returns the board's id.
    pub(crate) async fn publish_notice(
        &self,
        actor: &Actor,
        division_code: &str,
        case_ids: &[i64],
        on: NaiveDate,
    ) -> Result<i64> {
        if case_ids.is_empty() {
            return Err(Error::field("case_ids", "请至少选择一个案件"));
        }
        let st = self.app.store();
        // The board must be a real village or township of the publisher's jurisdiction:
        // a notice on a board nobody can see would count as publicised.
        let board = rules::board_division(division_code, &actor.scope)
            .map_err(|m| Error::field("division_code", m))?;
        if !minzheng_store::divisions::exists(st, board.as_str()).await? {
            return Err(Error::field(
                "division_code",
                rules::unknown_board_division(division_code),
            ));
        }
        let division_code = board.as_str();
        let mut cases = Vec::new();
        for id in case_ids {
            let c = store::get(st, &actor.scope, *id).await?;
            if !c.village_code.starts_with(division_code) {
                return Err(Error::field(
                    "case_ids",
                    format!("案件{}不属于该公示范围", c.case_no),
                ));
            }
            cases.push(c);
        }
        let params = self.params().await?;
        // Check every case can be publicised before writing anything.
        let mut days = 7;
        for c in &cases {
            let region = region(&c.village_code)?;
            let qy = params.at(&region, Some(c.urban_rural), on);
            days = rules::notice_days(Some(&qy), c.program);
            let mut facts = rules::facts_of(c, None);
            facts.notice_posted_on = None;
            facts.notice_days = days;
            let role = actor.role.unwrap_or(Role::TownshipStaff);
            transition(&facts, Action::Publish, role, ApprovalLevel::County, on).map_err(|e| {
                match case_error(e) {
                    Error::Conflict(m) => Error::Conflict(format!("{}：{m}", c.case_no)),
                    other => other,
                }
            })?;
        }
        let entries = self.notice_entries(&cases, &params, on).await?;
        let title = rules::notice_title(cases.iter().map(|c| c.program));
        let mut tx = st.begin_write().await?;
        let township = cases
            .first()
            .map(|c| c.township_code.clone())
            .unwrap_or_default();
        let batch = publish_board(
            &mut tx,
            actor,
            &township,
            division_code,
            &title,
            &entries,
            on,
            days,
        )
        .await?;
        for c in &cases {
            store::set_state(
                &mut tx,
                c.id,
                CaseState::PrelimOpinion,
                CaseState::Publicised,
                &format!("案件{}状态已被他人更新，请刷新后重试", c.case_no),
            )
            .await?;
            store::insert_event(
                &mut tx,
                actor,
                &EventRow {
                    case_id: c.id,
                    township_code: &c.township_code,
                    action: EventKind::Publish,
                    from: CaseState::PrelimOpinion,
                    to: CaseState::Publicised,
                    on,
                    note: "",
                    data: &serde_json::json!({ "notice_batch_id": batch }),
                },
            )
            .await?;
        }
        append_audit(
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
}

/// Writes a notice board (it belongs to the township of its cases) and its entries; the
/// cases' state is updated by the caller.
#[allow(clippy::too_many_arguments)]
async fn publish_board(
    tx: &mut Tx,
    actor: &Actor,
    township: &str,
    division_code: &str,
    title: &str,
    entries: &[(i64, PublicNoticeEntry)],
    on: NaiveDate,
    days: u32,
) -> Result<i64> {
    let batch = store::insert_batch(
        tx,
        actor,
        township,
        division_code,
        title,
        on,
        notice_ends_on(on, days),
    )
    .await?;
    for (case_id, entry) in entries {
        store::insert_entry(tx, batch, *case_id, entry, on).await?;
    }
    Ok(batch)
}

/// Ends an enrolment on a termination (or a review the county does not confirm): 渐退
/// until the grace period's last month when asked, else 停发; records the grace end in
/// `data`.
async fn end_enrolment(
    tx: &mut Tx,
    qy: &ParamQuery<'_>,
    case: &Case,
    eid: i64,
    on: NaiveDate,
    grace: bool,
    data: &mut serde_json::Value,
) -> Result<()> {
    let end = rules::enrolment_end(qy, case.program, on, grace).map_err(Error::validation)?;
    if let Some(last) = end.grace_until {
        store::set_grace_until(tx, eid, last).await?;
        data["grace_until"] = serde_json::json!(last.to_string());
    }
    store::set_enrolment_status(tx, eid, end.status, Some(end.end_month)).await?;
    Ok(())
}
