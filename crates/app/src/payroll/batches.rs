//! The month's batches: generation and regeneration, reading them, the review before
//! sign-off, sign-off and close.

use std::time::Instant;

use minzheng_domain::payroll::LineStatus;
use minzheng_domain::payroll::{
    bounds_within, changed_enrolments, diff, parse_generate, sign_off_refusal, transition,
    BatchAction, BatchDiff, BatchFilter, BatchStatus, GenerateForm, GenerateOutcome,
    GenerateRequest, LineFilter, PayrollBatch, PayrollLine,
};
use minzheng_domain::{Actor, DivisionLevel, Fen, Program, YearMonth};
use minzheng_store::payroll::{self, BatchPlan, Filled};
use minzheng_store::Tx;
use serde_json::json;

use super::{audit, changed_meanwhile, failpoint, full_identity, now, refused, Payroll};
use crate::{Authorize, Error, Permission, Result};

/// A month's payroll as it touches one village (what its village assistant reads): each of
/// the township's batches with its state, and the village's own lines.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VillagePayroll {
    pub village_code: String,
    pub month: YearMonth,
    pub batches: Vec<VillageBatch>,
}

/// One township batch, as far as it concerns the village.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VillageBatch {
    pub batch_no: String,
    pub program: Program,
    pub township_name: String,
    pub status: BatchStatus,
    pub signed_off_at: Option<String>,
    pub exported_at: Option<String>,
    pub reconciled_at: Option<String>,
    /// The village's lines (ID numbers and accounts masked as for the reader).
    pub lines: Vec<PayrollLine>,
    pub planned: Fen,
    pub paid_count: i64,
    pub failed_count: i64,
    pub pending_count: i64,
}

impl Payroll<'_> {
    /// The month's payroll of the actor's village, read-only: the township's batches of
    /// `month` (their state, never their other villages' lines or totals) and, for each,
    /// the village's lines, their sum and how many the bank paid, refused or has yet to
    /// answer. Only a one-village scope may ask.
    pub async fn village(&self, actor: &Actor, month: YearMonth) -> Result<VillagePayroll> {
        actor.require(Permission::ReadVillagePayroll)?;
        let village = actor
            .scope
            .code()
            .filter(|c| c.level() == DivisionLevel::Village)
            .ok_or_else(|| Error::Forbidden(Permission::ReadVillagePayroll.refusal()))?;
        let township = village
            .township()
            .ok_or_else(|| Error::Forbidden(Permission::ReadVillagePayroll.refusal()))?;
        let store = self.app.store();
        let filter = BatchFilter {
            month: Some(month.to_string()),
            ..Default::default()
        };
        let batches = payroll::list_batches(
            store,
            (township.as_str(), &township.range_end()),
            &filter.query(),
        )
        .await?;
        let (lo, hi) = actor.scope.bounds();
        let lines = mask_lines(
            actor,
            payroll::village_lines(store, township.as_str(), month, (&lo, &hi)).await?,
        );
        let batches = batches
            .into_iter()
            .map(|b| {
                let own: Vec<PayrollLine> = lines
                    .iter()
                    .filter(|l| l.batch_id == b.id)
                    .cloned()
                    .collect();
                let count = |s: LineStatus| own.iter().filter(|l| l.status == s).count() as i64;
                VillageBatch {
                    batch_no: b.batch_no,
                    program: b.program,
                    township_name: b.township_name,
                    status: b.status,
                    signed_off_at: b.signed_off_at,
                    exported_at: b.exported_at,
                    reconciled_at: b.reconciled_at,
                    planned: Fen(own.iter().map(|l| l.amount.0).sum()),
                    paid_count: count(LineStatus::Paid),
                    failed_count: count(LineStatus::Failed),
                    pending_count: count(LineStatus::Planned),
                    lines: own,
                }
            })
            .collect();
        Ok(VillagePayroll {
            village_code: village.as_str().to_string(),
            month,
            batches,
        })
    }

    /// Generates the month's batches: one per program and township with payable
    /// enrolments, approved back pay or corrected exceptions, within the actor's scope (and
    /// `within`). Existing batches are returned unchanged; two concurrent calls make one
    /// set. A crash (even SIGKILL) leaves nothing partial: all of it is one transaction.
    pub async fn generate(&self, actor: &Actor, req: &GenerateRequest) -> Result<GenerateOutcome> {
        actor.require(Permission::GeneratePayroll)?;
        let (lo, hi) = bounds_within(&actor.scope, req.within.as_deref())
            .map_err(|_| Error::NotFound("该区划"))?;
        let store = self.app.store();
        if let Some(w) = req
            .within
            .as_deref()
            .map(str::trim)
            .filter(|w| !w.is_empty())
        {
            if !minzheng_store::divisions::exists(store, w).await? {
                return Err(Error::NotFound("该区划"));
            }
        }
        // PostgreSQL: the month's year has its partition of the payroll lines (and the
        // next year too, ready for back pay and the new year's first month).
        let year = req.month.year();
        minzheng_store::partitions::ensure_years(store, year..=year + 1).await?;
        let month = req.month.to_string();
        // A township (or village) range: walk each batch's enrolments by index; anything
        // wider: one pass over all enrolments.
        let city_wide = lo.len() < 9;
        let token = payroll::generation_token();
        let now = now();
        let started = Instant::now();
        let mut tx = store.begin_write().await?;
        let plan = BatchPlan {
            month: req.month,
            program: req.program,
            lo: &lo,
            hi: &hi,
            token: &token,
            by: &actor.username,
            now: &now,
        };
        let created = payroll::create_batches(&mut tx, &plan).await?;
        // Nothing new (the usual repeat): no pass over the enrolments at all.
        if created > 0 {
            let tuning = payroll::tune_fill(&mut tx, city_wide).await?;
            let scan = city_wide.then_some(month.as_str());
            let filled = payroll::fill_lines(&mut tx, &token, scan, &now).await?;
            audit_filled(&mut tx, actor, &token, &filled).await?;
            audit_generated(&mut tx, actor, &token, "payroll.generate").await?;
            payroll::untune_fill(&mut tx, tuning).await?;
        }
        let filled = started.elapsed();
        failpoint("payroll.generate.before_commit").await;
        tx.commit().await?;
        tracing::debug!(
            month = %month, batches = created,
            fill_ms = filled.as_millis() as u64,
            commit_ms = (started.elapsed() - filled).as_millis() as u64,
            "payroll generated"
        );
        let mut out = GenerateOutcome {
            month: req.month,
            created: Vec::new(),
            existing: Vec::new(),
            lines: 0,
            planned: Fen(0),
        };
        for (b, new) in
            payroll::batches_of_month(store, req.month, &lo, &hi, req.program, &token).await?
        {
            if new {
                out.lines += b.line_count;
                out.planned = Fen(out.planned.0 + b.planned.0);
                out.created.push(b);
            } else {
                out.existing.push(b);
            }
        }
        Ok(out)
    }

    /// Generates from a form's month and program, checked before anything else.
    pub async fn generate_form(&self, actor: &Actor, f: &GenerateForm) -> Result<GenerateOutcome> {
        let req = parse_generate(f).map_err(refused)?;
        self.generate(actor, &req).await
    }

    /// Regenerates a draft from the enrolments as they are now (only a draft can be): the
    /// back pay and re-issues it carried wait again and are taken up again if still due.
    /// Returns None when nothing is payable any more (the empty draft is removed).
    pub async fn regenerate(&self, actor: &Actor, id: i64) -> Result<Option<PayrollBatch>> {
        let store = self.app.store();
        let b = payroll::get_batch(store, &actor.scope, id).await?;
        transition(actor.role, &b, BatchAction::Regenerate)?;
        let mut tx = store.begin_write().await?;
        let still = self.refill_draft(&mut tx, actor, &b).await?;
        tx.commit().await?;
        if still {
            Ok(Some(payroll::get_batch(store, &actor.scope, id).await?))
        } else {
            Ok(None)
        }
    }

    /// Regenerates the draft `b` inside the caller's transaction (a death recorded takes
    /// the person out this way): false when nothing is payable any more and the draft was
    /// removed. Refused when the batch is no longer a draft.
    pub(crate) async fn refill_draft(
        &self,
        tx: &mut Tx,
        actor: &Actor,
        b: &PayrollBatch,
    ) -> Result<bool> {
        let id = b.id;
        let token = payroll::generation_token();
        let now = now();
        if !payroll::restart_draft(tx, id, &token, &actor.username, &now).await? {
            return Err(changed_meanwhile(tx, b, BatchAction::Regenerate).await);
        }
        let (back_pay, reissues) = payroll::release_draft(tx, id).await?;
        for (rows, action, entity, from, to) in [
            (
                &back_pay,
                "payroll.back_pay.release",
                "payroll_adjustment",
                "included",
                "approved",
            ),
            (
                &reissues,
                "payroll.exception.release",
                "payment_exception",
                "reissued",
                "ready",
            ),
        ] {
            for r in rows {
                audit(
                    tx,
                    actor,
                    action,
                    entity,
                    &r.id.to_string(),
                    &r.township_code,
                    Some(json!({"status": from, "batch_id": id})),
                    Some(json!({"status": to})),
                )
                .await?;
            }
        }
        let filled = payroll::fill_lines(tx, &token, None, &now).await?;
        audit_filled(tx, actor, &token, &filled).await?;
        let still = payroll::batch_exists(tx, id).await?;
        if still {
            audit_generated(tx, actor, &token, "payroll.regenerate").await?;
        } else {
            audit(
                tx,
                actor,
                "payroll.regenerate",
                "payroll_batch",
                &id.to_string(),
                &b.township_code,
                Some(json!({"batch_no": b.batch_no, "lines": b.line_count})),
                Some(json!({"removed": true, "reason": "本月已无应发对象"})),
            )
            .await?;
        }
        Ok(still)
    }

    /// One batch inside the actor's scope.
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<PayrollBatch> {
        Ok(payroll::get_batch(self.app.store(), &actor.scope, id).await?)
    }

    /// Batches inside the actor's scope (and `within`), newest month first.
    pub async fn list(&self, actor: &Actor, f: &BatchFilter) -> Result<Vec<PayrollBatch>> {
        let (lo, hi) = bounds_within(&actor.scope, f.within.as_deref())
            .map_err(|_| Error::NotFound("该区划"))?;
        Ok(payroll::list_batches(self.app.store(), (&lo, &hi), &f.query()).await?)
    }

    /// A batch's lines (paged) and their number; ID numbers and accounts masked for those
    /// who may not see them.
    pub async fn lines(
        &self,
        actor: &Actor,
        id: i64,
        f: &LineFilter,
    ) -> Result<(Vec<PayrollLine>, i64)> {
        let store = self.app.store();
        payroll::get_batch(store, &actor.scope, id).await?;
        let (lines, total) = payroll::batch_lines(store, id, &f.query()).await?;
        Ok((mask_lines(actor, lines), total))
    }

    /// The review before sign-off: who is new, who stopped and whose amount changed since
    /// the same program's batch of the month before, each with its reason (the case behind
    /// it when there is one).
    pub async fn diff(&self, actor: &Actor, id: i64) -> Result<BatchDiff> {
        let store = self.app.store();
        let b = payroll::get_batch(store, &actor.scope, id).await?;
        let (current, extras) = payroll::review_lines(store, id).await?;
        let previous = payroll::previous_batch(store, &b).await?;
        let previous_lines = previous
            .as_ref()
            .map(|p| p.lines.as_slice())
            .unwrap_or_default();
        let ids = changed_enrolments(&current, previous_lines);
        let facts = payroll::enrolment_facts(store, &ids).await?;
        let d = diff(b.month, &current, extras, previous.as_ref(), &facts);
        Ok(if full_identity(actor) { d } else { d.masked() })
    }

    /// The township director signs a draft off (审核签发) as reviewed: `reviewed` is the
    /// batch's `generated_at` the review showed; a batch regenerated since is refused, so
    /// nobody signs lines they have not seen. A batch with lines lacking a bank account is
    /// refused too (the bank would only return them). After this it cannot change.
    pub async fn sign_off(
        &self,
        actor: &Actor,
        id: i64,
        reviewed: Option<&str>,
    ) -> Result<PayrollBatch> {
        let store = self.app.store();
        let b = payroll::get_batch(store, &actor.scope, id).await?;
        let to = transition(actor.role, &b, BatchAction::SignOff)?;
        let now = now();
        let mut tx = store.begin_write().await?;
        if !payroll::sign_off(&mut tx, id, &actor.username, &now, reviewed).await? {
            let (status, generated_at, no_account) = payroll::sign_off_facts(&mut tx, id).await?;
            return Err(sign_off_refusal(status, &generated_at, no_account, reviewed).into());
        }
        audit_moved(
            &mut tx,
            actor,
            &b,
            "payroll.sign_off",
            BatchStatus::Draft,
            to,
        )
        .await?;
        tx.commit().await?;
        self.get(actor, id).await
    }

    /// The director signs off several drafts at once from the month's review page, each as
    /// reviewed (`(id, generated_at)` as the page showed it), all in one transaction: if
    /// any batch is outside the jurisdiction, no longer a draft, regenerated since the
    /// review or missing bank accounts, none is signed and the refusal names the batch.
    /// One audit record per batch, as for a single sign-off.
    pub async fn sign_off_all(
        &self,
        actor: &Actor,
        reviewed: &[(i64, String)],
    ) -> Result<Vec<PayrollBatch>> {
        if reviewed.is_empty() {
            return Err(Error::field("batches", "请至少选择一个待签发的批次"));
        }
        let store = self.app.store();
        let mut batches = Vec::with_capacity(reviewed.len());
        for (id, _) in reviewed {
            let b = payroll::get_batch(store, &actor.scope, *id).await?;
            let to = transition(actor.role, &b, BatchAction::SignOff)?;
            batches.push((b, to));
        }
        let now = now();
        let mut tx = store.begin_write().await?;
        for ((b, to), (id, generated_at)) in batches.iter().zip(reviewed) {
            let reviewed = Some(generated_at.as_str()).filter(|r| !r.is_empty());
            if !payroll::sign_off(&mut tx, *id, &actor.username, &now, reviewed).await? {
                let (status, at, no_account) = payroll::sign_off_facts(&mut tx, *id).await?;
                let why = Error::from(sign_off_refusal(status, &at, no_account, reviewed));
                return Err(Error::Conflict(format!(
                    "批次{}：{why}；本次未签发任何批次",
                    b.batch_no
                )));
            }
            audit_moved(
                &mut tx,
                actor,
                b,
                "payroll.sign_off",
                BatchStatus::Draft,
                *to,
            )
            .await?;
        }
        tx.commit().await?;
        let mut out = Vec::with_capacity(reviewed.len());
        for (id, _) in reviewed {
            out.push(self.get(actor, *id).await?);
        }
        Ok(out)
    }

    /// The director closes a reconciled batch (结束); its failures live on as exceptions.
    pub async fn close(&self, actor: &Actor, id: i64) -> Result<PayrollBatch> {
        let store = self.app.store();
        let b = payroll::get_batch(store, &actor.scope, id).await?;
        let to = transition(actor.role, &b, BatchAction::Close)?;
        let now = now();
        let mut tx = store.begin_write().await?;
        if !payroll::close(&mut tx, id, &actor.username, &now).await? {
            return Err(changed_meanwhile(&mut tx, &b, BatchAction::Close).await);
        }
        audit_moved(
            &mut tx,
            actor,
            &b,
            "payroll.close",
            BatchStatus::Reconciled,
            to,
        )
        .await?;
        tx.commit().await?;
        self.get(actor, id).await
    }
}

pub(crate) fn mask_lines(actor: &Actor, lines: Vec<PayrollLine>) -> Vec<PayrollLine> {
    if full_identity(actor) {
        lines
    } else {
        lines.into_iter().map(PayrollLine::masked).collect()
    }
}

/// The audit record of a batch moved `from` → `to`.
async fn audit_moved(
    tx: &mut Tx,
    actor: &Actor,
    b: &PayrollBatch,
    action: &str,
    from: BatchStatus,
    to: BatchStatus,
) -> Result<()> {
    audit(
        tx,
        actor,
        action,
        "payroll_batch",
        &b.id.to_string(),
        &b.township_code,
        Some(json!({"status": from})),
        Some(json!({"status": to, "batch_no": b.batch_no,
            "lines": b.line_count, "planned_fen": b.planned.0})),
    )
    .await
}

/// One audit record per back pay a generation included or found superseded, and per
/// exception it re-issued.
async fn audit_filled(tx: &mut Tx, actor: &Actor, token: &str, f: &Filled) -> Result<()> {
    for r in &f.back_pay {
        audit(
            tx,
            actor,
            "payroll.back_pay.include",
            "payroll_adjustment",
            &r.id.to_string(),
            &r.township_code,
            Some(json!({"status": "approved"})),
            Some(json!({"status": r.status, "line_id": r.line_id, "generation": token})),
        )
        .await?;
    }
    for r in &f.reissued {
        audit(
            tx,
            actor,
            "payroll.exception.reissue",
            "payment_exception",
            &r.id.to_string(),
            &r.township_code,
            Some(json!({"status": "ready"})),
            Some(json!({"status": "reissued",
                "reissue_line_id": r.reissue_line_id, "generation": token})),
        )
        .await?;
    }
    Ok(())
}

/// One audit record per batch the generation `token` (re)filled.
async fn audit_generated(tx: &mut Tx, actor: &Actor, token: &str, action: &str) -> Result<()> {
    for b in payroll::generated_batches(tx, token).await? {
        audit(
            tx,
            actor,
            action,
            "payroll_batch",
            &b.id.to_string(),
            &b.township_code,
            None,
            Some(json!({
                "batch_no": b.batch_no, "program": b.program,
                "month": b.month, "lines": b.line_count,
                "planned_fen": b.planned.0, "back_pay_fen": b.back_pay.0,
                "reissues": b.reissue_count,
            })),
        )
        .await?;
    }
    Ok(())
}
