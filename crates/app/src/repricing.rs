//! 调标批次: re-pricing enrolments whose amount a rule moves without a case — the 高龄津贴
//! age bands (a beneficiary turning 90 or 100) and a new standard (调整标准: a dated
//! parameter added by the city). The system (or a clerk) prepares a month's batch per
//! township and program; the director (or, for a new standard of a program the county
//! approves, the county approver) reviews the old and new amounts with the calculator's
//! explanation and signs it off, which applies the new amounts in one transaction with an
//! audit record per enrolment, or voids it (docs/rules.md §9).

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use chrono::NaiveDate;
use minzheng_domain::cases::region_of;
use minzheng_domain::params::{AgeBand, AgeStartRule, ParamName};
use minzheng_domain::payroll::bounds_within;
use minzheng_domain::repricing::{
    age_band_line, programs_following, signer, standard_line_for, transition, NewRepricingLine,
    RepricingAction, RepricingBatch, RepricingCandidate, RepricingLine, RepricingReason,
    RepricingReview, RepricingStatus,
};
use minzheng_domain::{Actor, Fen, ParamSet, Program, Role, UrbanRural, YearMonth};
use minzheng_store::repricing as store;
use minzheng_store::{AuditText, Tx};
use serde::Serialize;
use serde_json::json;

use crate::payroll::{audit, now};
use crate::{App, Authorize, Error, Permission, Result};

/// The re-pricing duty of [`App`].
pub struct Repricing<'a> {
    app: &'a App,
}

impl App {
    pub fn repricing(&self) -> Repricing<'_> {
        Repricing { app: self }
    }
}

/// What a preparation did.
#[derive(Debug, Clone, Serialize)]
pub struct Prepared {
    pub month: YearMonth,
    /// Live enrolments looked at (those not yet re-priced for the month).
    pub considered: usize,
    /// Lines added, over all batches.
    pub added: i64,
    /// The batches that gained lines.
    pub batches: Vec<RepricingBatch>,
}

/// What a sign-off did.
#[derive(Debug, Clone, Serialize)]
pub struct SignedOff {
    pub batch: RepricingBatch,
    /// Enrolments whose amount was changed.
    pub applied: usize,
    /// Beneficiaries left as they were because a case changed their amount meanwhile.
    pub changed_meanwhile: Vec<String>,
    /// Lines at 0, not applied: each needs a case's decision.
    pub for_decision: i64,
    /// Draft payroll batches generated at the old amounts: to be generated again.
    pub drafts_to_regenerate: Vec<i64>,
    /// Months already paid at the old amount whose difference is now approved back pay
    /// (调标补差), paid by the next generated batch: how many and the total.
    pub top_up_count: usize,
    pub top_up_total: Fen,
}

impl Repricing<'_> {
    /// Prepares the 高龄津贴 age-band batch of `month` for the actor's jurisdiction (or the
    /// division `within` inside it): every live enrolment whose band for `month`, by the
    /// calculator with the bands and start rule in force that month, differs from what it
    /// pays. Idempotent: an enrolment already in a pending batch or re-priced for the
    /// month is not added again, so a second run adds nothing.
    pub async fn prepare_age_bands(
        &self,
        actor: &Actor,
        month: YearMonth,
        within: Option<&str>,
        today: NaiveDate,
    ) -> Result<Prepared> {
        actor.require(Permission::PrepareRepricing)?;
        let (lo, hi) =
            bounds_within(&actor.scope, within).map_err(|_| Error::NotFound("该区划"))?;
        let program = Program::OldAgeAllowance;
        let st = self.app.store();
        let params = minzheng_store::params::load(st).await?;
        let on = month.first_day();
        let mut tx = st.begin_write().await?;
        store::lock_preparation(&mut tx).await?;
        let candidates = store::candidates(&mut tx, program, (&lo, &hi), month).await?;
        // Parameters are set for a city or a county: read once per county and registration.
        let mut in_force: HashMap<(String, UrbanRural), (Vec<AgeBand>, AgeStartRule)> =
            HashMap::new();
        let mut lines = Vec::new();
        for c in &candidates {
            let Some(region) = region_of(&c.village_code) else {
                continue;
            };
            let county = c.village_code.get(..6).unwrap_or_default().to_string();
            let (bands, rule) = match in_force.entry((county, c.urban_rural)) {
                Entry::Occupied(o) => o.into_mut(),
                Entry::Vacant(v) => {
                    let qy = params.at(&region, Some(c.urban_rural), on);
                    let (Ok(bands), Ok(rule)) = (
                        qy.age_bands(program, ParamName::AgeBands),
                        qy.age_start_rule(program, ParamName::AgeStartRule),
                    ) else {
                        return Err(Error::Conflict(format!(
                            "{}在{month}没有有效的高龄津贴年龄段参数，请先设置",
                            c.village_code
                        )));
                    };
                    v.insert((bands, rule))
                }
            };
            if let Some(l) = age_band_line(c, month, bands, *rule, today) {
                lines.push(l);
            }
        }
        let mut prepared = Prepared {
            month,
            considered: candidates.len(),
            added: 0,
            batches: Vec::new(),
        };
        write_lines(
            &mut tx,
            actor,
            RepricingReason::AgeBand,
            program,
            month,
            &lines,
            &mut prepared,
        )
        .await?;
        tx.commit().await?;
        Ok(prepared)
    }

    /// Prepares the 调整标准 batches of `month` after a parameter of `program` changed, for
    /// the actor's jurisdiction (or the division `within` inside it): for each monthly
    /// program whose calculator reads that parameter ([`programs_following`]), every live
    /// enrolment is computed by the program's calculator from the registry's facts and the
    /// case's details, as a case is, with the parameters in force in `month` and in the
    /// month before; an enrolment the new parameters move to an amount other than the one it
    /// pays gets a line. An enrolment the calculator cannot compute is listed with the
    /// reason, not changed. Idempotent as [`Self::prepare_age_bands`].
    pub async fn prepare_standard(
        &self,
        actor: &Actor,
        program: Program,
        month: YearMonth,
        within: Option<&str>,
    ) -> Result<Prepared> {
        actor.require(Permission::PrepareRepricing)?;
        let (lo, hi) =
            bounds_within(&actor.scope, within).map_err(|_| Error::NotFound("该区划"))?;
        let st = self.app.store();
        let params = minzheng_store::params::load(st).await?;
        let mut tx = st.begin_write().await?;
        store::lock_preparation(&mut tx).await?;
        let mut prepared = Prepared {
            month,
            considered: 0,
            added: 0,
            batches: Vec::new(),
        };
        for p in programs_following(program) {
            let candidates = store::candidates(&mut tx, p, (&lo, &hi), month).await?;
            prepared.considered += candidates.len();
            if candidates.is_empty() {
                continue;
            }
            let lines = standard_lines(&mut tx, &params, p, &candidates, month).await?;
            write_lines(
                &mut tx,
                actor,
                RepricingReason::Standard,
                p,
                month,
                &lines,
                &mut prepared,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(prepared)
    }

    /// The batches of the actor's jurisdiction, newest month first; only those of `status`
    /// if given.
    pub async fn list(
        &self,
        actor: &Actor,
        status: Option<RepricingStatus>,
    ) -> Result<Vec<RepricingBatch>> {
        Ok(store::batches(self.app.store(), &actor.scope, status).await?)
    }

    /// A batch with its lines (404 outside the jurisdiction); ID numbers masked for roles
    /// that may not see them.
    pub async fn review(&self, actor: &Actor, id: i64) -> Result<RepricingReview> {
        let st = self.app.store();
        let batch = store::batch_in_scope(st, &actor.scope, id).await?;
        let mut lines = store::lines(st, id).await?;
        if !actor.may(Permission::SeeFullIdentity) {
            lines = lines.into_iter().map(|l| l.masked()).collect();
        }
        Ok(RepricingReview { batch, lines })
    }

    /// The permission that signs off or voids `b`: a 调整标准 batch of a program the county
    /// approves in the batch's township (parameter `approval_level`, else the program's
    /// default) is the county approver's, any other the township director's.
    pub async fn signing_permission(&self, b: &RepricingBatch) -> Result<Permission> {
        let params = match b.reason {
            RepricingReason::Standard => {
                Some(minzheng_store::params::load(self.app.store()).await?)
            }
            _ => None,
        };
        Ok(signing_permission_with(params.as_ref(), b))
    }

    /// The pending batches among `batches` the actor may sign now, in order (for the
    /// 签发全部 button).
    pub async fn signable(&self, actor: &Actor, batches: &[RepricingBatch]) -> Result<Vec<i64>> {
        let params = minzheng_store::params::load(self.app.store()).await?;
        Ok(batches
            .iter()
            .filter(|b| {
                b.status == RepricingStatus::Pending
                    && actor.may(signing_permission_with(Some(&params), b))
            })
            .map(|b| b.id)
            .collect())
    }

    /// Whether the actor may sign off or void `b` now (for drawing the buttons).
    pub async fn may_sign(&self, actor: &Actor, b: &RepricingBatch) -> Result<bool> {
        Ok(b.status == RepricingStatus::Pending && actor.may(self.signing_permission(b).await?))
    }

    /// The batch's lines as a workbook (调标批次明细.xlsx): old and new amounts, the
    /// difference, the calculator's explanation and what the sign-off does with each line;
    /// ID numbers masked for those who may not see them, text cells inert; audited.
    pub async fn lines_workbook(&self, actor: &Actor, id: i64) -> Result<crate::payroll::Workbook> {
        let r = self.review(actor, id).await?;
        let bytes = lines_workbook(&r.batch, &r.lines)
            .map_err(|e| Error::Internal(format!("导出失败：{e}")))?;
        let mut tx = self.app.store().begin_write().await?;
        audit(
            &mut tx,
            actor,
            "repricing.export",
            "repricing_batch",
            &id.to_string(),
            &r.batch.township_code,
            None,
            Some(json!({"what": "repricing_lines.xlsx", "rows": r.lines.len()})),
        )
        .await?;
        tx.commit().await?;
        Ok(crate::payroll::Workbook {
            file_name: format!("调标批次{id}明细.xlsx"),
            bytes,
        })
    }

    /// 审核签发: applies the batch's new amounts from its month, in one transaction with an
    /// audit record per enrolment. A month from the batch's on already paid at the old,
    /// lower amount gets an approved back-pay request for the difference (调标补差), which
    /// the next generated batch pays; a month paid at a higher amount refuses the sign-off
    /// (a re-pricing recovers nothing). Refused before the month has begun. Lines at 0 are
    /// not applied; an enrolment whose amount a case changed meanwhile is left as the case
    /// set it.
    pub async fn sign_off(&self, actor: &Actor, id: i64, today: NaiveDate) -> Result<SignedOff> {
        let mut done = self.sign_off_many(actor, &[id], today).await?;
        Ok(done.remove(0))
    }

    /// Signs off several pending batches at once (签发全部), in one transaction: each is
    /// checked and applied as [`Self::sign_off`] does, and either all are signed or, on the
    /// first refusal (naming its batch), none. A director signing the month's batches of a
    /// new standard signs them here together, with one commit.
    pub async fn sign_off_many(
        &self,
        actor: &Actor,
        ids: &[i64],
        today: NaiveDate,
    ) -> Result<Vec<SignedOff>> {
        if ids.is_empty() {
            return Err(Error::field("ids", "请选择要签发的调标批次"));
        }
        let st = self.app.store();
        let params = minzheng_store::params::load(st).await?;
        let several = ids.len() > 1;
        let mut batches = Vec::with_capacity(ids.len());
        for &id in ids {
            let b = store::batch_in_scope(st, &actor.scope, id).await?;
            let named = |e: Error| if several { about_batch(&b, e) } else { e };
            actor
                .require(signing_permission_with(Some(&params), &b))
                .map_err(named)?;
            let to = transition(b.status, RepricingAction::SignOff)
                .map_err(|e| named(Error::Conflict(e.to_string())))?;
            if b.month > YearMonth::of(today) {
                return Err(named(Error::Conflict(format!(
                    "该批次自{}起执行，须在{}开始后签发",
                    b.month, b.month
                ))));
            }
            batches.push((b, to));
        }
        let at = now();
        let mut tx = st.begin_write().await?;
        let mut applied = Vec::with_capacity(batches.len());
        for (b, to) in &batches {
            let named = |e: Error| if several { about_batch(b, e) } else { e };
            applied.push(
                apply_batch(&mut tx, actor, b, *to, &at)
                    .await
                    .map_err(named)?,
            );
        }
        // A record per enrolment and per top-up, appended together (one chain, no round
        // trip per record), then one per batch.
        let mut events: Vec<AuditText<'_>> = Vec::new();
        for ((b, _), a) in batches.iter().zip(&applied) {
            let texts = BatchTexts::of(b);
            for l in &a.lines {
                events.push(AuditText {
                    action: "repricing.apply",
                    entity_type: "enrolment",
                    entity_id: l.enrolment_id.to_string(),
                    scope_code: &l.township_code,
                    before: Some(texts.before(l.old)),
                    after: Some(texts.after(l.new)),
                });
            }
            for t in &a.top_ups {
                events.push(AuditText {
                    action: "payroll.back_pay.top_up",
                    entity_type: "payroll_adjustment",
                    entity_id: t.id.to_string(),
                    scope_code: &t.township_code,
                    before: None,
                    after: Some(texts.top_up(t)),
                });
            }
        }
        minzheng_store::append_audit_many(&mut tx, actor, events).await?;
        let mut out = Vec::with_capacity(batches.len());
        for ((b, to), a) in batches.iter().zip(applied) {
            audit(
                &mut tx,
                actor,
                "repricing.sign_off",
                "repricing_batch",
                &b.id.to_string(),
                &b.township_code,
                Some(json!({"status": b.status})),
                Some(json!({"status": to, "applied": a.lines.len(), "top_ups": a.top_ups.len()})),
            )
            .await?;
            let drafts = store::drafts_to_regenerate(&mut tx, b).await?;
            let batch = store::batch_in_scope(&mut tx, &actor.scope, b.id).await?;
            out.push(SignedOff {
                for_decision: batch.zero_count,
                batch,
                applied: a.lines.len(),
                changed_meanwhile: a.changed_meanwhile,
                drafts_to_regenerate: drafts,
                top_up_count: a.top_ups.len(),
                top_up_total: Fen(a.top_ups.iter().map(|t| t.amount.0).sum()),
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// 作废: nothing is applied; the enrolments may be prepared again.
    pub async fn void(&self, actor: &Actor, id: i64) -> Result<RepricingBatch> {
        let st = self.app.store();
        let b = store::batch_in_scope(st, &actor.scope, id).await?;
        actor.require(self.signing_permission(&b).await?)?;
        let to = transition(b.status, RepricingAction::Void)
            .map_err(|e| Error::Conflict(e.to_string()))?;
        let at = now();
        let mut tx = st.begin_write().await?;
        if !store::decide(&mut tx, id, b.status, to, &actor.username, &at).await? {
            return Err(Error::Conflict("该调标批次已被他人处理".into()));
        }
        audit(
            &mut tx,
            actor,
            "repricing.void",
            "repricing_batch",
            &id.to_string(),
            &b.township_code,
            Some(json!({"status": b.status})),
            Some(json!({"status": to})),
        )
        .await?;
        let batch = store::batch_in_scope(&mut tx, &actor.scope, id).await?;
        tx.commit().await?;
        Ok(batch)
    }
}

/// Writes a preparation's lines of one reason and program, one audit record per batch that
/// gained lines, and adds them to `prepared`.
async fn write_lines(
    tx: &mut Tx,
    actor: &Actor,
    reason: RepricingReason,
    program: Program,
    month: YearMonth,
    lines: &[NewRepricingLine],
    prepared: &mut Prepared,
) -> Result<()> {
    let at = now();
    let written = store::add_lines(tx, reason, program, month, lines, &actor.username, &at).await?;
    for p in &written {
        audit(
            tx,
            actor,
            "repricing.prepare",
            "repricing_batch",
            &p.batch_id.to_string(),
            &p.township_code,
            None,
            Some(json!({"reason": reason, "program": program, "month": month,
                "added": p.added})),
        )
        .await?;
        prepared.added += p.added;
        prepared
            .batches
            .push(store::batch_in_scope(&mut *tx, &actor.scope, p.batch_id).await?);
    }
    Ok(())
}

/// The 调整标准 lines of `program`'s candidates ([`standard_line_for`]); the households'
/// facts are read together.
async fn standard_lines(
    tx: &mut Tx,
    params: &ParamSet,
    program: Program,
    candidates: &[RepricingCandidate],
    month: YearMonth,
) -> Result<Vec<NewRepricingLine>> {
    let mut ids: Vec<i64> = candidates.iter().map(|c| c.household_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let facts = minzheng_store::cases::households_facts(&mut *tx, &ids, month.first_day()).await?;
    Ok(candidates
        .iter()
        .filter_map(|c| standard_line_for(c, facts.get(&c.household_id), params, program, month))
        .collect())
}

/// A batch's lines as a worksheet 调标明细, every text cell inert, amounts in yuan.
fn lines_workbook(
    b: &RepricingBatch,
    lines: &[RepricingLine],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::formats::inert::write_text;
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("调标明细")?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("0.00");
    let headers = [
        "批次",
        "调标原因",
        "救助项目",
        "执行月份",
        "乡镇(街道)代码",
        "村(社区)代码",
        "姓名",
        "身份证号码",
        "原月金额(元)",
        "新月金额(元)",
        "差额(元)",
        "签发后",
        "计算依据",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    let yuan = |f: Fen| f.0 as f64 / 100.0;
    for (i, l) in lines.iter().enumerate() {
        let row = i as u32 + 1;
        ws.write_number(row, 0, b.id as f64)?;
        write_text(ws, row, 1, b.reason.label(), None)?;
        write_text(ws, row, 2, b.program.label(), None)?;
        write_text(ws, row, 3, &b.month.to_string(), None)?;
        write_text(ws, row, 4, &l.township_code, None)?;
        write_text(ws, row, 5, &l.village_code, None)?;
        write_text(ws, row, 6, &l.beneficiary_name, None)?;
        write_text(ws, row, 7, &l.beneficiary_id_number, None)?;
        ws.write_number_with_format(row, 8, yuan(l.old_amount), &money)?;
        ws.write_number_with_format(row, 9, yuan(l.new_amount), &money)?;
        ws.write_number_with_format(row, 10, yuan(l.difference()), &money)?;
        let outcome = if l.problem.is_some() {
            "无法计算，不调整"
        } else if l.needs_decision() {
            "新金额为0，不调整，待办理变更或终止"
        } else {
            "按新金额发放"
        };
        write_text(ws, row, 11, outcome, None)?;
        let mut why: Vec<String> = l
            .explanation
            .steps
            .iter()
            .map(|s| format!("{} {}", s.label, s.value))
            .collect();
        why.extend(l.explanation.notes.iter().cloned());
        if let Some(p) = &l.problem {
            why.push(p.clone());
        }
        write_text(ws, row, 12, &why.join("；"), None)?;
    }
    ws.set_column_width(7, 20)?;
    ws.set_column_width(12, 60)?;
    wb.save_to_buffer()
}

/// [`Repricing::signing_permission`] with the parameters loaded (`None` for a batch that
/// is not a 调整标准).
fn signing_permission_with(params: Option<&ParamSet>, b: &RepricingBatch) -> Permission {
    let level = match (
        region_of(b.township_code.get(..6).unwrap_or_default()),
        params,
    ) {
        (Some(region), Some(params)) if b.reason == RepricingReason::Standard => params
            .at(&region, None, b.month.first_day())
            .approval_level(b.program, ParamName::ApprovalLevel)
            .unwrap_or(b.program.info().default_approval),
        _ => b.program.info().default_approval,
    };
    match signer(b.reason, level) {
        Role::CountyApprover => Permission::ConfirmRepricing,
        _ => Permission::SignOffRepricing,
    }
}

/// What signing one batch did inside the transaction.
struct AppliedBatch {
    lines: Vec<store::AppliedLine>,
    top_ups: Vec<store::TopUp>,
    changed_meanwhile: Vec<String>,
}

/// The audit texts of a batch's sign-off, written as `serde_json` writes the same objects
/// (keys in order; numbers and codes need no escaping), without building a value per
/// enrolment.
struct BatchTexts {
    id: i64,
    /// The month and the reason as JSON strings.
    month: String,
    reason: String,
}

impl BatchTexts {
    fn of(b: &RepricingBatch) -> BatchTexts {
        BatchTexts {
            id: b.id,
            month: json!(b.month).to_string(),
            reason: json!(b.reason).to_string(),
        }
    }

    /// `{"monthly_fen": old}`
    fn before(&self, old: Fen) -> String {
        format!("{{\"monthly_fen\":{}}}", old.0)
    }

    /// `{"batch_id", "month", "monthly_fen": new, "reason"}`
    fn after(&self, new: Fen) -> String {
        format!(
            "{{\"batch_id\":{},\"month\":{},\"monthly_fen\":{},\"reason\":{}}}",
            self.id, self.month, new.0, self.reason
        )
    }

    /// `{"amount_fen", "batch_id", "enrolment_id", "period", "status": "approved"}`
    fn top_up(&self, t: &store::TopUp) -> String {
        format!(
            "{{\"amount_fen\":{},\"batch_id\":{},\"enrolment_id\":{},\"period\":{},\"status\":\"approved\"}}",
            t.amount.0,
            self.id,
            t.enrolment_id,
            json!(t.period)
        )
    }
}

/// Signs `b` inside `tx`: refused if a month from the batch's on was paid at a higher
/// amount (a re-pricing recovers nothing) or has a top-up already; months paid at the old,
/// lower amount get an approved back-pay request for the difference (调标补差), paid by
/// the next generated batch; then the new amounts are applied to the enrolments that
/// still pay the old one.
async fn apply_batch(
    tx: &mut Tx,
    actor: &Actor,
    b: &RepricingBatch,
    to: RepricingStatus,
    at: &str,
) -> Result<AppliedBatch> {
    // Until a month from the batch's on is paid, nothing is overpaid and no top-up is due.
    let top_ups = if store::paid_from(tx, b.program, b.month).await? {
        let overpaid = store::overpaid_from_month(tx, b).await?;
        if !overpaid.is_empty() {
            let names: Vec<String> = overpaid
                .iter()
                .take(10)
                .map(|(n, m)| format!("{n}（{m}）"))
                .collect();
            return Err(Error::Conflict(format!(
                "{}起已按高于新金额的原金额签发发放：{}{}。调标不追回已发金额，请作废本批次后办理变更和追回",
                b.month,
                names.join("、"),
                if overpaid.len() > 10 { " 等" } else { "" }
            )));
        }
        store::top_ups(tx, b, &actor.username, at)
            .await?
            .ok_or_else(|| {
                Error::Conflict(
                    "本批次对象的已发月份已有调标补差，不能重复补差；请作废本批次后核实".into(),
                )
            })?
    } else {
        Vec::new()
    };
    if !store::decide(tx, b.id, b.status, to, &actor.username, at).await? {
        return Err(Error::Conflict("该调标批次已被他人处理".into()));
    }
    let store::Applied {
        lines,
        changed_meanwhile,
    } = store::apply(tx, b.id, at).await?;
    Ok(AppliedBatch {
        lines,
        top_ups,
        changed_meanwhile,
    })
}

/// A refusal of one of several batches signed together, naming the batch.
fn about_batch(b: &RepricingBatch, e: Error) -> Error {
    let which = format!(
        "{}{}（{}起）调标批次",
        b.township_name,
        b.program.label(),
        b.month
    );
    match e {
        Error::Forbidden(m) => Error::Forbidden(format!("{which}：{m}")),
        Error::Conflict(m) => Error::Conflict(format!("{which}：{m}")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_off_audit_texts_are_what_serde_json_writes_for_the_same_objects() {
        let month = YearMonth::parse("2027-01").unwrap();
        for reason in [RepricingReason::Standard, RepricingReason::AgeBand] {
            let t = BatchTexts {
                id: 42,
                month: json!(month).to_string(),
                reason: json!(reason).to_string(),
            };
            assert_eq!(
                t.before(Fen(81_000)),
                json!({"monthly_fen": 81_000}).to_string()
            );
            assert_eq!(
                t.after(Fen(-5)),
                json!({"monthly_fen": -5, "batch_id": 42, "month": month, "reason": reason})
                    .to_string()
            );
            let top = store::TopUp {
                id: 7,
                enrolment_id: 9,
                township_code: "511802001".into(),
                period: YearMonth::parse("2026-12").unwrap(),
                amount: Fen(4_000),
            };
            assert_eq!(
                t.top_up(&top),
                json!({"enrolment_id": 9, "period": top.period, "amount_fen": 4_000,
                       "status": "approved", "batch_id": 42})
                .to_string()
            );
        }
    }
}
