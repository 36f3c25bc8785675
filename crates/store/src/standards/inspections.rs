//! Inspections (检查验收): the checklist with its scores, rectification items, and the
//! decision.

use chrono::NaiveDate;
use minzheng_domain::offices::office_visible;
use minzheng_domain::standards::{
    score_totals, ChecklistItem, Inspection, InspectionItem, InspectionStatus, ItemKind,
    Rectification, RectificationOf, RuleStatus, ScoreInput, INSPECTION_UNDER_WAY,
};
use minzheng_domain::Scope;

use super::coded;
use crate::db::{q, Conn, DbRow, Store, Tx};
use crate::error::{Result, StoreError};

fn item(r: &DbRow) -> Result<InspectionItem> {
    let rule_id = r.opt_str("rule_id")?;
    Ok(InspectionItem {
        id: r.i64("id")?,
        kind: if rule_id.is_some() {
            ItemKind::Auto
        } else {
            ItemKind::Manual
        },
        rule_id,
        label: r.str("label")?,
        max_score: r.i64("max_score")?,
        auto_status: r
            .opt_str("auto_status")?
            .map(|s| {
                RuleStatus::parse(&s)
                    .ok_or_else(|| StoreError::Internal(format!("RuleStatus代码“{s}”无法识别")))
            })
            .transpose()?,
        score: r.opt_i64("score")?,
        note: r.str("note")?,
    })
}

fn rectification(r: &DbRow) -> Result<Rectification> {
    Ok(Rectification {
        id: r.i64("id")?,
        item: r.str("item")?,
        due_on: r.str("due_on")?,
        done_on: r.opt_str("done_on")?,
    })
}

/// One inspection with its checklist and rectifications, wherever it is.
async fn load<'c>(db: impl Into<Conn<'c>>, id: i64) -> Result<Inspection> {
    let mut db = db.into();
    let r = db
        .fetch_optional(q("SELECT * FROM inspections WHERE id = $1").bind(id))
        .await?
        .ok_or(StoreError::NotFound("该检查验收记录"))?;
    let items = db
        .fetch_all(
            q("SELECT * FROM inspection_items WHERE inspection_id = $1 ORDER BY position").bind(id),
        )
        .await?
        .iter()
        .map(item)
        .collect::<Result<Vec<_>>>()?;
    let rectifications = db
        .fetch_all(q("SELECT * FROM rectifications WHERE inspection_id = $1 ORDER BY id").bind(id))
        .await?
        .iter()
        .map(rectification)
        .collect::<Result<Vec<_>>>()?;
    let (score, max_score) = score_totals(&items);
    Ok(Inspection {
        id,
        township_code: r.str("township_code")?,
        inspectors: r.str("inspectors")?,
        inspected_on: r.str("inspected_on")?,
        status: coded(&r, "status")?,
        findings: r.str("findings")?,
        previous_id: r.opt_i64("previous_id")?,
        opened_by: r.str("opened_by")?,
        decided_at: r.opt_str("decided_at")?,
        score,
        max_score,
        items,
        rectifications,
    })
}

/// One inspection, if its office is visible in the scope.
pub async fn get<'c>(db: impl Into<Conn<'c>>, scope: &Scope, id: i64) -> Result<Inspection> {
    let i = load(db, id).await?;
    if !office_visible(scope, &i.township_code) {
        return Err(StoreError::NotFound("该检查验收记录"));
    }
    Ok(i)
}

/// The office's inspections, newest first.
pub async fn of_office(store: &Store, township_code: &str) -> Result<Vec<Inspection>> {
    let ids: Vec<i64> = store
        .fetch_all(
            q("SELECT id FROM inspections WHERE township_code = $1 ORDER BY id DESC")
                .bind(township_code),
        )
        .await?
        .iter()
        .map(|r| r.i64("id"))
        .collect::<Result<_>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(load(store, id).await?);
    }
    Ok(out)
}

/// The office's latest inspection (id and status), as the transaction sees it.
pub async fn latest(tx: &mut Tx, township_code: &str) -> Result<Option<(i64, InspectionStatus)>> {
    tx.fetch_optional(
        q("SELECT id, status FROM inspections WHERE township_code = $1 ORDER BY id DESC LIMIT 1")
            .bind(township_code),
    )
    .await?
    .map(|r| Ok((r.i64("id")?, coded(&r, "status")?)))
    .transpose()
}

/// Opens an inspection with its checklist; returns its id. The database allows one open
/// inspection per office (a partial unique index): a second, concurrent one conflicts.
pub async fn open(
    tx: &mut Tx,
    township_code: &str,
    inspectors: &str,
    on: NaiveDate,
    previous_id: Option<i64>,
    opened_by: &str,
    checklist: &[ChecklistItem],
) -> Result<i64> {
    let id = tx
        .fetch_one(
            q("INSERT INTO inspections (township_code, county_code, inspectors, inspected_on, status, previous_id,
                     opened_by, opened_at)
                   VALUES ($1, substr($1, 1, 6), $2, $3, 'open', $4, $5, $6) RETURNING id")
            .bind(township_code)
            .bind(inspectors)
            .bind(on.to_string())
            .bind(previous_id)
            .bind(opened_by)
            .bind(crate::timestamp(chrono::Utc::now())),
        )
        .await
        .map_err(|e| {
            if e.is_unique_violation() {
                StoreError::Conflict(INSPECTION_UNDER_WAY.into())
            } else {
                e
            }
        })?
        .i64("id")?;
    for (pos, it) in (1i64..).zip(checklist) {
        let stmt = match (it.rule_id, it.auto_status) {
            (Some(rule_id), Some(status)) => q(
                "INSERT INTO inspection_items (inspection_id, position, rule_id, label, max_score,
                     auto_status, score, note, county_code)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, substr($9, 1, 6))",
            )
            .bind(id)
            .bind(pos)
            .bind(rule_id)
            .bind(&it.label)
            .bind(it.max_score)
            .bind(status.as_str())
            .bind(it.score)
            .bind(&it.note)
            .bind(township_code),
            _ => q(
                "INSERT INTO inspection_items (inspection_id, position, label, max_score, note,
                     county_code)
                   VALUES ($1, $2, $3, $4, '', substr($5, 1, 6))",
            )
            .bind(id)
            .bind(pos)
            .bind(&it.label)
            .bind(it.max_score)
            .bind(township_code),
        };
        tx.execute(stmt).await?;
    }
    Ok(id)
}

/// Records automatic items as the evaluation now pre-fills them (status, score, note).
pub async fn set_auto_items(tx: &mut Tx, id: i64, items: &[&InspectionItem]) -> Result<()> {
    for it in items {
        tx.execute(
            q(
                "UPDATE inspection_items SET auto_status = $1, score = $2, note = $3
               WHERE id = $4 AND inspection_id = $5",
            )
            .bind(it.auto_status.map(|s| s.as_str().to_string()))
            .bind(it.score)
            .bind(&it.note)
            .bind(it.id)
            .bind(id),
        )
        .await?;
    }
    Ok(())
}

/// Records checked scores and notes on the inspection's items.
pub async fn set_scores(tx: &mut Tx, id: i64, scores: &[ScoreInput]) -> Result<()> {
    for s in scores {
        tx.execute(
            q("UPDATE inspection_items SET score = $1, note = $2 WHERE id = $3 AND inspection_id = $4")
                .bind(s.score)
                .bind(&s.note)
                .bind(s.id)
                .bind(id),
        )
        .await?;
    }
    Ok(())
}

/// Adds a rectification item; returns its id.
pub async fn add_rectification(
    tx: &mut Tx,
    id: i64,
    township_code: &str,
    item: &str,
    due_on: NaiveDate,
) -> Result<i64> {
    tx.fetch_one(
        q(
            "INSERT INTO rectifications (inspection_id, township_code, county_code, item, due_on)
                   VALUES ($1, $2, substr($2, 1, 6), $3, $4) RETURNING id",
        )
        .bind(id)
        .bind(township_code)
        .bind(item)
        .bind(due_on.to_string()),
    )
    .await?
    .i64("id")
}

/// One rectification item, if its office is inside the scope.
pub async fn get_rectification(store: &Store, scope: &Scope, id: i64) -> Result<RectificationOf> {
    let (lo, hi) = scope.bounds();
    let r = store
        .fetch_optional(
            q(
                "SELECT id, item, due_on, township_code, inspection_id, done_on FROM rectifications
                   WHERE id = $1 AND township_code >= $2 AND township_code < $3",
            )
            .bind(id)
            .bind(lo)
            .bind(hi),
        )
        .await?
        .ok_or(StoreError::NotFound("该整改事项"))?;
    Ok(RectificationOf {
        township_code: r.str("township_code")?,
        inspection_id: r.i64("inspection_id")?,
        rectification: rectification(&r)?,
    })
}

/// Records a rectification item done on `on`.
pub async fn complete_rectification(tx: &mut Tx, id: i64, on: NaiveDate) -> Result<()> {
    tx.execute(
        q("UPDATE rectifications SET done_on = $1 WHERE id = $2")
            .bind(on.to_string())
            .bind(id),
    )
    .await?;
    Ok(())
}

/// The inspection's status as the transaction sees it.
pub async fn status(tx: &mut Tx, id: i64) -> Result<InspectionStatus> {
    let r = tx
        .fetch_one(q("SELECT status FROM inspections WHERE id = $1").bind(id))
        .await?;
    coded(&r, "status")
}

/// Closes an inspection that is still open. Conditional: of two inspectors closing it at
/// once, only one changes the row; `false` for the other.
pub async fn close(tx: &mut Tx, id: i64, to: InspectionStatus, findings: &str) -> Result<bool> {
    let n = tx
        .execute(
            q(
                "UPDATE inspections SET status = $1, findings = $2, decided_at = $3
                   WHERE id = $4 AND status = 'open'",
            )
            .bind(to.as_str())
            .bind(findings)
            .bind(crate::timestamp(chrono::Utc::now()))
            .bind(id),
        )
        .await?;
    Ok(n > 0)
}
