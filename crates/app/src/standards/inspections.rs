//! Inspections (检查验收): opened by the city with the automatic rules pre-scored, scored by
//! the inspectors with rectification items and photos, and closed as passed — granting the
//! subsidy, the city's share of the office's recorded investment — or failed, which leads
//! to a re-inspection once the township reports its rectifications done.

use chrono::NaiveDate;
use minzheng_domain::attachments::{AttachedTo, NewAttachment};
use minzheng_domain::standards::{
    checklist, complete_rectification, decide_inspection, editable, open_inspection, parse_date,
    parse_findings, parse_inspection, parse_rectification, parse_scores, prefill_from,
    score_totals, subsidy, Inspection, InspectionItem, InspectionStatus, NewInspection,
    NewRectification, ScoreInput, INSPECTION_CLOSED,
};
use minzheng_domain::Actor;
use minzheng_store::standards::{inspections, premises, subsidies};

use super::{audit, require_city, Standards};
use crate::attachments::attach_photo;
use crate::{Error, Result};

impl Standards<'_> {
    /// One inspection whose office the actor sees.
    pub async fn inspection(&self, actor: &Actor, id: i64) -> Result<Inspection> {
        Ok(inspections::get(self.app.store(), &actor.scope, id).await?)
    }

    /// One inspection as its page shows it on `as_of`: while it is open, its automatic
    /// items are pre-filled from the evaluation the office page shows that day (the same
    /// [`evaluate`](minzheng_domain::standards::evaluate) and checklist), items the
    /// inspectors scored themselves keep their score; a decided inspection is as recorded.
    pub async fn inspection_on(
        &self,
        actor: &Actor,
        id: i64,
        as_of: NaiveDate,
    ) -> Result<Inspection> {
        let mut i = self.inspection(actor, id).await?;
        if i.status == InspectionStatus::Open {
            let st = self.office(actor, &i.township_code, as_of).await?;
            prefill_from(&mut i.items, &st.evaluation);
            (i.score, i.max_score) = score_totals(&i.items);
        }
        Ok(i)
    }

    /// Opens an inspection of the office: the automatic rules are pre-scored from the
    /// evaluation as of `as_of`, the manual items await the inspectors. After a failed
    /// inspection this is its re-inspection.
    pub async fn open_inspection(
        &self,
        actor: &Actor,
        township_code: &str,
        n: &NewInspection,
        as_of: NaiveDate,
    ) -> Result<i64> {
        let st = self.office(actor, township_code, as_of).await?;
        require_city(actor, "组织检查验收")?;
        let (inspectors, on) = parse_inspection(n)?;
        let items = checklist(&st.evaluation);
        let mut tx = self.app.store().begin_write().await?;
        let previous_id = open_inspection(inspections::latest(&mut tx, township_code).await?)?;
        let id = inspections::open(
            &mut tx,
            township_code,
            &inspectors,
            on,
            previous_id,
            &actor.username,
            &items,
        )
        .await?;
        audit(
            &mut tx,
            actor,
            "inspection.open",
            "inspection",
            &id.to_string(),
            township_code,
            None,
            Some(serde_json::json!({"inspectors": inspectors, "inspected_on": on,
                "previous_id": previous_id, "compliance_percent": st.evaluation.compliance_percent})),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The inspection, if the actor inspects and it is still open.
    async fn open_for_inspectors(&self, actor: &Actor, id: i64, what: &str) -> Result<Inspection> {
        let i = self.inspection(actor, id).await?;
        require_city(actor, what)?;
        editable(&i)?;
        Ok(i)
    }

    /// Scores checklist items (each with a note).
    pub async fn score(&self, actor: &Actor, id: i64, scores: &[ScoreInput]) -> Result<Inspection> {
        let i = self.open_for_inspectors(actor, id, "填写检查验收").await?;
        let scores = parse_scores(&i, scores)?;
        let mut tx = self.app.store().begin_write().await?;
        inspections::set_scores(&mut tx, id, &scores).await?;
        audit(
            &mut tx,
            actor,
            "inspection.score",
            "inspection",
            &id.to_string(),
            &i.township_code,
            None,
            Some(serde_json::json!({"scores": scores.iter().map(|s| (s.id, s.score)).collect::<Vec<_>>()})),
        )
        .await?;
        tx.commit().await?;
        self.inspection(actor, id).await
    }

    /// Adds a rectification item with its due date; returns its id.
    pub async fn add_rectification(
        &self,
        actor: &Actor,
        id: i64,
        r: &NewRectification,
    ) -> Result<i64> {
        let i = self.open_for_inspectors(actor, id, "填写检查验收").await?;
        let (item, due) = parse_rectification(r)?;
        let mut tx = self.app.store().begin_write().await?;
        let rid = inspections::add_rectification(&mut tx, id, &i.township_code, &item, due).await?;
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
    ) -> Result<()> {
        let store = self.app.store();
        let r = inspections::get_rectification(store, &actor.scope, rectification_id).await?;
        self.recordable_office(actor, &r.township_code).await?;
        complete_rectification(&r.rectification)?;
        let done = parse_date("done_on", "完成日期", done_on)?;
        let mut tx = store.begin_write().await?;
        inspections::complete_rectification(&mut tx, rectification_id, done).await?;
        audit(
            &mut tx,
            actor,
            "inspection.rectified",
            "inspection",
            &r.inspection_id.to_string(),
            &r.township_code,
            None,
            Some(serde_json::json!({"rectification_id": rectification_id, "done_on": done})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Attaches a photo to an inspection (the inspectors, while it is open).
    pub async fn attach_inspection_photo(
        &self,
        actor: &Actor,
        id: i64,
        upload: &NewAttachment,
        max_bytes: usize,
    ) -> Result<i64> {
        let i = self.open_for_inspectors(actor, id, "填写检查验收").await?;
        let mut tx = self.app.store().begin_write().await?;
        let aid = attach_photo(
            &mut tx,
            actor,
            AttachedTo::Inspection,
            &id.to_string(),
            &i.township_code,
            upload,
            max_bytes,
        )
        .await?;
        tx.commit().await?;
        Ok(aid)
    }

    /// Closes an inspection as passed or failed. Passing needs every item scored and every
    /// rectification done, and grants the subsidy in the same transaction: the share of the
    /// office's recorded investment in the parameters in force on `as_of`.
    pub async fn decide_inspection(
        &self,
        actor: &Actor,
        id: i64,
        pass: bool,
        findings: &str,
        as_of: NaiveDate,
    ) -> Result<Inspection> {
        self.open_for_inspectors(actor, id, "填写检查验收").await?;
        // Decided on the checklist the page showed: the automatic items as the office's
        // evaluation pre-fills them on `as_of`.
        let mut i = self.inspection(actor, id).await?;
        let st = self.office(actor, &i.township_code, as_of).await?;
        let refreshed = prefill_from(&mut i.items, &st.evaluation);
        (i.score, i.max_score) = score_totals(&i.items);
        let findings = parse_findings(findings)?;
        let to = decide_inspection(&i, pass, &findings)?;
        let percent = self.params(actor).await?.in_force(as_of).subsidy_percent;
        let code = i.township_code.clone();
        let mut tx = self.app.store().begin_write().await?;
        if inspections::status(&mut tx, id).await? != InspectionStatus::Open
            || !inspections::close(&mut tx, id, to, &findings).await?
        {
            return Err(Error::Conflict(INSPECTION_CLOSED.into()));
        }
        let changed: Vec<&InspectionItem> = i
            .items
            .iter()
            .filter(|it| refreshed.contains(&it.id))
            .collect();
        inspections::set_auto_items(&mut tx, id, &changed).await?;
        let mut granted = None;
        if to == InspectionStatus::Passed {
            let total = premises::investment_total(&mut tx, &code).await?;
            let amount = subsidy(total, percent)
                .ok_or_else(|| Error::Internal("补助金额计算溢出".into()))?;
            subsidies::grant(&mut tx, &code, id, total, percent, amount).await?;
            granted = Some(
                serde_json::json!({"investment_fen": total.0, "percent": percent,
                "amount_fen": amount.0}),
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
                serde_json::json!({"status": to, "findings": findings, "score": i.score,
                "max_score": i.max_score, "subsidy": granted}),
            ),
        )
        .await?;
        tx.commit().await?;
        self.inspection(actor, id).await
    }
}
