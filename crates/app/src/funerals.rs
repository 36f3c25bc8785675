//! 殡葬管理 and 追回: recording a death stops the person's money (docs/rules.md §11) — in
//! one transaction it writes the funeral record, marks the registered person dead, ends
//! their enrolments with the month of death, regenerates every unsigned draft that still
//! paid them, and opens a recovery for each later month already paid. A recovery is then
//! followed to 已追回 or, with the director's approval, to 已核销.

use chrono::NaiveDate;
use minzheng_domain::checks::CheckKind;
use minzheng_domain::funerals::{
    check_identity, death_benefits, effect_of_death, parse_death, recoverable, recovery_step,
    DeathEffect, DeathSource, FuneralRecord, NewDeath, Recovery, RecoveryAction, RecoveryRefusal,
    RecoveryStatus,
};
use minzheng_domain::payroll::Wanted;
use minzheng_domain::{Actor, Fen, YearMonth};
use minzheng_store::{checks, funerals, payroll as payroll_store};
use serde::Serialize;
use serde_json::json;

use crate::payroll::{audit, now, refused};
use crate::{App, Authorize, Error, Permission, Result};

/// The funeral and recovery duty of [`App`].
pub struct Funerals<'a> {
    app: &'a App,
}

/// Open and recovered sums inside the actor's scope, read from `store`.
pub(crate) async fn recovery_totals(
    store: &minzheng_store::Store,
    actor: &Actor,
) -> Result<RecoveryTotals> {
    let (open_count, open, recovered) = funerals::recovery_totals(store, &actor.scope).await?;
    Ok(RecoveryTotals {
        open_count,
        open,
        recovered,
    })
}

impl App {
    pub fn funerals(&self) -> Funerals<'_> {
        Funerals { app: self }
    }
}

/// What recording a death did.
#[derive(Debug, Clone, Serialize)]
pub struct DeathOutcome {
    pub record: FuneralRecord,
    /// Enrolments ended with the month of death (停发).
    pub stopped: Vec<i64>,
    /// Household enrolments that others live on: a change case (变更) recalculates them.
    pub to_recalculate: Vec<i64>,
    /// Unsigned drafts regenerated without the person (an emptied draft is removed).
    pub regenerated: Vec<i64>,
    /// Months already paid after the death, to be recovered.
    pub recoveries: Vec<Recovery>,
    /// The programs the person held when they died (their own, or their household's).
    pub programs_held: Vec<minzheng_domain::Program>,
}

/// A funeral record with what it set in motion.
#[derive(Debug, Clone, Serialize)]
pub struct FuneralDetail {
    pub record: FuneralRecord,
    pub recoveries: Vec<Recovery>,
}

/// The recoveries inside a scope, summed.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RecoveryTotals {
    pub open_count: i64,
    pub open: Fen,
    pub recovered: Fen,
}

impl Funerals<'_> {
    /// Records a death entered by the office on `today`; see [`Self::record_from`].
    pub async fn record(
        &self,
        actor: &Actor,
        d: &NewDeath,
        today: NaiveDate,
    ) -> Result<DeathOutcome> {
        self.record_from(actor, d, DeathSource::Office, today).await
    }

    /// Records a death from `source`. The ID number decides who died: a registered person
    /// must carry the registered name (anything else is an identity conflict and nothing is
    /// written); an unregistered person is recorded in the township the form names, inside
    /// the actor's scope. A second record for the same person is refused.
    pub async fn record_from(
        &self,
        actor: &Actor,
        d: &NewDeath,
        source: DeathSource,
        today: NaiveDate,
    ) -> Result<DeathOutcome> {
        actor.require(Permission::RecordDeaths)?;
        let input = parse_death(d, today).map_err(refused)?;
        let mut tx = self.app.store().begin_write().await?;
        let out = self.record_in(&mut tx, actor, &input, source).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Imports a death list (死亡名单) from a funeral home or the police: all or nothing. Every
    /// row is checked first — the form's rules, the same person twice in the list, an
    /// identity conflict with the registry, a death already recorded, a place outside the
    /// actor's jurisdiction — and any problem refuses the whole list with each row's
    /// reason; otherwise every death is recorded, with what it stops, in one transaction.
    pub async fn import(
        &self,
        actor: &Actor,
        source: DeathSource,
        name: &str,
        data: &[u8],
        today: NaiveDate,
    ) -> Result<Vec<DeathOutcome>> {
        actor.require(Permission::RecordDeaths)?;
        let limits = self.app.limits();
        let rows = crate::registry::import::blocking(|| {
            let rows = crate::formats::deaths::parse(name, data, source, limits);
            crate::formats::limits::give_back_memory();
            rows
        })?;
        let store = self.app.store();
        let mut problems: Vec<String> = Vec::new();
        let mut inputs = Vec::new();
        let mut seen = std::collections::HashMap::new();
        for (line, d) in &rows {
            let input = match parse_death(d, today) {
                Ok(i) => i,
                Err(f) => {
                    problems.push(format!(
                        "第{line}行：{}",
                        f.iter().map(|(_, m)| m).collect::<Vec<_>>().join("；")
                    ));
                    continue;
                }
            };
            if let Some(first) = seen.insert(input.id_number.as_str().to_string(), *line) {
                problems.push(format!("第{line}行：与第{first}行是同一人"));
                continue;
            }
            if let Some(p) = funerals::registered_person(store, input.id_number.as_str()).await? {
                if !actor.scope.contains_str(&p.township_code) {
                    problems.push(format!("第{line}行：该人员不在您的管辖范围内"));
                    continue;
                }
                if let Err(mut c) = check_identity(&p, &input.name) {
                    c.id_number = input.id_number.as_str().to_string();
                    problems.push(format!("第{line}行：{}", c.message()));
                    continue;
                }
            } else if input.township_code.is_none() && actor.scope.code_str().len() != 9 {
                problems.push(format!(
                    "第{line}行：该人员不在户籍台账中，请在“乡镇(街道)代码”列填写死亡登记所在的乡镇"
                ));
                continue;
            }
            if funerals::funeral_of(store, input.id_number.as_str())
                .await?
                .is_some()
            {
                problems.push(format!("第{line}行：该人员的死亡信息已登记"));
                continue;
            }
            inputs.push((*line, input));
        }
        if !problems.is_empty() {
            let shown: Vec<&String> = problems.iter().take(20).collect();
            let more = if problems.len() > 20 {
                format!("（另有{}行有误）", problems.len() - 20)
            } else {
                String::new()
            };
            return Err(Error::field(
                "file",
                format!(
                    "死亡名单有{}行有误，未导入任何记录：{}{more}",
                    problems.len(),
                    shown
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join("；")
                ),
            ));
        }
        let mut tx = store.begin_write().await?;
        let mut out = Vec::new();
        for (line, input) in &inputs {
            let o = self
                .record_in(&mut tx, actor, input, source)
                .await
                .map_err(|e| Error::field("file", format!("第{line}行：{e}；未导入任何记录")))?;
            out.push(o);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Records one checked death inside the caller's transaction.
    async fn record_in(
        &self,
        tx: &mut minzheng_store::Tx,
        actor: &Actor,
        input: &minzheng_domain::funerals::DeathInput,
        source: DeathSource,
    ) -> Result<DeathOutcome> {
        let store = self.app.store();
        let now = now();
        let person = funerals::registered_person(&mut *tx, input.id_number.as_str()).await?;
        let township = match (&person, &input.township_code) {
            (Some(p), _) => p.township_code.clone(),
            (None, Some(t)) => t.clone(),
            (None, None) => match actor.scope.code_str() {
                c if c.len() == 9 => c.to_string(),
                _ => {
                    return Err(Error::field(
                        "township_code",
                        "该人员不在户籍台账中，请填写死亡登记所在的乡镇（街道）代码",
                    ))
                }
            },
        };
        if !actor.scope.contains_str(&township) {
            return Err(Error::NotFound("该人员"));
        }
        if person.is_none() && !minzheng_store::registry::division_exists(store, &township).await? {
            return Err(Error::field("township_code", "该乡镇（街道）代码不存在"));
        }
        if let Some(p) = &person {
            check_identity(p, &input.name).map_err(|mut c| {
                c.id_number = input.id_number.as_str().to_string();
                Error::field("name", c.message())
            })?;
        }
        let id = funerals::insert_funeral(
            &mut *tx,
            input,
            &township,
            person.as_ref(),
            source,
            &actor.username,
            &now,
        )
        .await?
        .ok_or_else(|| Error::Conflict("该人员的死亡信息已登记，不能重复登记".into()))?;
        audit(
            &mut *tx,
            actor,
            "funeral.record",
            "funeral_record",
            &id.to_string(),
            &township,
            None,
            Some(
                json!({"id_number": input.id_number.masked(), "name": input.name,
                "death_date": input.death_date.to_string(), "source": source.as_str(),
                "person_id": person.as_ref().map(|p| p.id)}),
            ),
        )
        .await?;
        let death_month = input.death_month();
        let mut out = DeathOutcome {
            record: funerals::get_funeral(&mut *tx, &actor.scope, id).await?,
            stopped: Vec::new(),
            to_recalculate: Vec::new(),
            regenerated: Vec::new(),
            recoveries: Vec::new(),
            programs_held: Vec::new(),
        };
        if let Some(p) = &person {
            if !p.deceased {
                let date = input.death_date.to_string();
                funerals::mark_deceased(&mut *tx, p.id, &date, &now).await?;
                audit(
                    &mut *tx,
                    actor,
                    "registry.person.deceased",
                    "person",
                    &p.id.to_string(),
                    &p.township_code,
                    Some(json!({"status": "active"})),
                    Some(json!({"status": "deceased", "status_date": date, "funeral_id": id})),
                )
                .await?;
            }
            self.stop_money(tx, actor, id, &input.name, p, death_month, &mut out)
                .await?;
        }
        if !out.programs_held.is_empty() {
            let params = minzheng_store::params::load(store).await?;
            let region = minzheng_domain::DivisionCode::parse_native(&township)
                .map_err(|_| Error::Internal(format!("乡镇代码{township}无效")))?;
            let qy = params.at(&region, None, input.death_date);
            let b = death_benefits(&out.programs_held, input.disposal, &qy);
            if b != Default::default() {
                funerals::set_benefits(&mut *tx, id, &b).await?;
                out.record.relief = b.relief;
                out.record.grant = b.grant;
                out.record.grant_program = b.grant_program;
            }
        }
        Ok(out)
    }

    /// Ends the person's enrolments after the month of death, takes them out of the
    /// drafts, and opens the recoveries of the months already paid.
    #[allow(clippy::too_many_arguments)]
    async fn stop_money(
        &self,
        tx: &mut minzheng_store::Tx,
        actor: &Actor,
        funeral_id: i64,
        name: &str,
        p: &minzheng_domain::funerals::RegisteredPerson,
        death_month: YearMonth,
        out: &mut DeathOutcome,
    ) -> Result<()> {
        let now = now();
        let enrolments = funerals::enrolments_at_death(tx, p.id, p.household_id).await?;
        let mut drafts = Vec::new();
        for e in &enrolments {
            let effect = effect_of_death(e, death_month);
            if effect != DeathEffect::Untouched && !out.programs_held.contains(&e.program) {
                out.programs_held.push(e.program);
            }
            match effect {
                DeathEffect::Untouched => {}
                DeathEffect::Recalculate => out.to_recalculate.push(e.id),
                DeathEffect::Stop { end_month } => {
                    minzheng_store::cases::stop_enrolment(tx, e.id, end_month).await?;
                    audit(
                        tx,
                        actor,
                        "enrolment.stop",
                        "enrolment",
                        &e.id.to_string(),
                        &e.township_code,
                        Some(json!({"status": e.status, "end_month": e.end_month})),
                        Some(json!({"status": "ended", "end_month": end_month,
                            "reason": "死亡", "funeral_id": funeral_id})),
                    )
                    .await?;
                    out.stopped.push(e.id);
                    for b in funerals::drafts_paying_after(tx, e, end_month).await? {
                        if !drafts.contains(&b) {
                            drafts.push(b);
                        }
                    }
                    let paid = funerals::paid_after(tx, e, death_month).await?;
                    for line in recoverable(&paid, &out.stopped, death_month) {
                        let Some(rid) = funerals::insert_recovery(
                            tx,
                            funeral_id,
                            line,
                            name,
                            &e.beneficiary_id_number,
                            &now,
                        )
                        .await?
                        else {
                            continue;
                        };
                        audit(
                            tx,
                            actor,
                            "recovery.open",
                            "recovery",
                            &rid.to_string(),
                            &line.township_code,
                            None,
                            Some(json!({"line_id": line.line_id, "period": line.period,
                                "program": line.program.as_str(), "amount_fen": line.amount.0,
                                "funeral_id": funeral_id})),
                        )
                        .await?;
                    }
                }
            }
        }
        for b in drafts {
            let batch =
                payroll_store::get_batch(&mut *tx, &minzheng_domain::Scope::all(), b).await?;
            self.app.payroll().refill_draft(tx, actor, &batch).await?;
            out.regenerated.push(b);
        }
        out.recoveries = funerals::recoveries_of(&mut *tx, funeral_id).await?;
        // The findings this settles close at once.
        let stopped: Vec<String> = out
            .stopped
            .iter()
            .map(|e| format!("enrolment:{e}"))
            .collect();
        let lines: Vec<String> = out
            .recoveries
            .iter()
            .map(|r| format!("line:{}", r.line_id))
            .collect();
        checks::close_findings(tx, CheckKind::EnrolledAfterDeath, &stopped, &now).await?;
        checks::close_findings(tx, CheckKind::PaidAfterDeath, &lines, &now).await?;
        Ok(())
    }

    /// The funeral ledger inside the actor's scope, latest death first; `month` narrows it
    /// to deaths in one month. ID numbers masked for those who may not see them.
    pub async fn list(
        &self,
        actor: &Actor,
        month: Option<YearMonth>,
    ) -> Result<Vec<FuneralRecord>> {
        let mut v = funerals::list_funerals(self.app.store(), &actor.scope, month).await?;
        if !actor.may(Permission::SeeFullIdentity) {
            for f in &mut v {
                f.id_number = minzheng_domain::mask_id(&f.id_number);
            }
        }
        Ok(v)
    }

    /// One funeral record and its recoveries.
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<FuneralDetail> {
        let store = self.app.store();
        let mut record = funerals::get_funeral(store, &actor.scope, id).await?;
        let mut recoveries = funerals::recoveries_of(store, id).await?;
        if !actor.may(Permission::SeeFullIdentity) {
            record.id_number = minzheng_domain::mask_id(&record.id_number);
            for r in &mut recoveries {
                r.beneficiary_id_number = minzheng_domain::mask_id(&r.beneficiary_id_number);
            }
        }
        Ok(FuneralDetail { record, recoveries })
    }

    /// Recoveries inside the actor's scope (optionally of one status).
    pub async fn recoveries(
        &self,
        actor: &Actor,
        status: &Wanted<RecoveryStatus>,
    ) -> Result<Vec<Recovery>> {
        let mut v = funerals::list_recoveries(self.app.store(), &actor.scope, status).await?;
        if !actor.may(Permission::SeeFullIdentity) {
            for r in &mut v {
                r.beneficiary_id_number = minzheng_domain::mask_id(&r.beneficiary_id_number);
            }
        }
        Ok(v)
    }

    /// Open and recovered sums inside the actor's scope (the dashboard's are
    /// [`crate::dashboard::Dashboard::recoveries`]).
    pub async fn recovery_totals(&self, actor: &Actor) -> Result<RecoveryTotals> {
        recovery_totals(self.app.store(), actor).await
    }

    /// One recovery inside the actor's scope.
    pub async fn recovery(&self, actor: &Actor, id: i64) -> Result<Recovery> {
        Ok(funerals::get_recovery(self.app.store(), &actor.scope, id).await?)
    }

    /// Takes a recovery's next step: 登记已追回 and 申请核销 (the office), 批准 or 驳回核销
    /// (the director, never on their own request).
    pub async fn step(
        &self,
        actor: &Actor,
        id: i64,
        action: RecoveryAction,
        note: &str,
    ) -> Result<Recovery> {
        actor.require(match action {
            RecoveryAction::Recovered | RecoveryAction::RequestWriteOff => {
                Permission::HandleRecoveries
            }
            RecoveryAction::ApproveWriteOff | RecoveryAction::RejectWriteOff => {
                Permission::ApproveWriteOff
            }
        })?;
        let store = self.app.store();
        let r = funerals::get_recovery(store, &actor.scope, id).await?;
        let to = recovery_step(&r, action, &actor.username, note).map_err(|e| match e {
            RecoveryRefusal::WrongStatus(..) => Error::Conflict(e.to_string()),
            RecoveryRefusal::OwnRequest => Error::Forbidden(e.to_string()),
            RecoveryRefusal::Note(m) => Error::field("note", m),
        })?;
        let now = now();
        let mut tx = store.begin_write().await?;
        if !funerals::step_recovery(&mut tx, id, r.status, to, note, &actor.username, &now).await? {
            return Err(Error::Conflict(
                "该追回记录已被他人处理，请刷新后重试".into(),
            ));
        }
        audit(
            &mut tx,
            actor,
            "recovery.step",
            "recovery",
            &id.to_string(),
            &r.township_code,
            Some(json!({"status": r.status})),
            Some(json!({"status": to, "note": note.trim()})),
        )
        .await?;
        tx.commit().await?;
        self.recovery(actor, id).await
    }
}
