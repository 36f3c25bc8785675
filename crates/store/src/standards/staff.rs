//! The roster (在岗人员) and the staff changes (人员异动) filed against it. The roster
//! changes only when the city approves a change.

use minzheng_domain::standards::{
    ChangeEntry, ChangeStatus, RosterChange, RosterEffect, StaffChange, StaffMember,
};
use minzheng_domain::Scope;

use super::{change, coded, staff_member};
use crate::db::{q, Conn, Store, Tx};
use crate::error::{Result, StoreError};

/// Everyone ever on the office's roster, the director first.
pub async fn roster(store: &Store, township_code: &str) -> Result<Vec<StaffMember>> {
    store
        .fetch_all(
            q("SELECT * FROM office_staff WHERE township_code = $1 ORDER BY is_director DESC, id")
                .bind(township_code),
        )
        .await?
        .iter()
        .map(staff_member)
        .collect()
}

/// The member `id`, if in post at the office.
pub async fn member_in_post<'c>(
    db: impl Into<Conn<'c>>,
    township_code: &str,
    id: i64,
) -> Result<Option<StaffMember>> {
    db.into()
        .fetch_optional(
            q("SELECT * FROM office_staff WHERE id = $1 AND township_code = $2 AND active = $3")
                .bind(id)
                .bind(township_code)
                .bind(true),
        )
        .await?
        .map(|r| staff_member(&r))
        .transpose()
}

/// The office's staff changes, newest first.
pub async fn changes(store: &Store, township_code: &str) -> Result<Vec<StaffChange>> {
    store
        .fetch_all(
            q("SELECT * FROM staff_changes WHERE township_code = $1 ORDER BY id DESC")
                .bind(township_code),
        )
        .await?
        .iter()
        .map(change)
        .collect()
}

/// One staff change, if its office is inside the scope.
pub async fn get_change<'c>(
    db: impl Into<Conn<'c>>,
    scope: &Scope,
    id: i64,
) -> Result<StaffChange> {
    let (lo, hi) = scope.bounds();
    let row = db
        .into()
        .fetch_optional(
            q("SELECT * FROM staff_changes WHERE id = $1 AND township_code >= $2 AND township_code < $3")
                .bind(id)
                .bind(lo)
                .bind(hi),
        )
        .await?
        .ok_or(StoreError::NotFound("该人员异动"))?;
    change(&row)
}

/// Pending staff changes in scope, oldest first (the city's approval queue).
pub async fn pending_changes(store: &Store, scope: &Scope) -> Result<Vec<StaffChange>> {
    let (lo, hi) = scope.bounds();
    store
        .fetch_all(
            q(
                "SELECT * FROM staff_changes WHERE status = 'pending' AND township_code >= $1
               AND township_code < $2 ORDER BY id",
            )
            .bind(lo)
            .bind(hi),
        )
        .await?
        .iter()
        .map(change)
        .collect()
}

/// Files a change, pending the city's decision; returns its id.
pub async fn insert_change(
    tx: &mut Tx,
    township_code: &str,
    e: &ChangeEntry,
    filed_by: &str,
) -> Result<i64> {
    tx.fetch_one(
        q("INSERT INTO staff_changes (township_code, county_code, kind, staff_id, name, position, is_director,
                     full_time, effective_on, doc_number, doc_date, reason, status, filed_by, filed_at)
                   VALUES ($1, substr($1, 1, 6), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', $12, $13) RETURNING id")
        .bind(township_code)
        .bind(e.kind.as_str())
        .bind(e.staff_id)
        .bind(&e.name)
        .bind(&e.position)
        .bind(e.is_director)
        .bind(e.full_time)
        .bind(e.effective_on.to_string())
        .bind(&e.doc_number)
        .bind(e.doc_date.clone())
        .bind(&e.reason)
        .bind(filed_by)
        .bind(crate::timestamp(chrono::Utc::now())),
    )
    .await?
    .i64("id")
}

/// Records the decision on a change that is still pending. Conditional: of two deciders
/// racing (on PostgreSQL, where writers do not queue), only one sees the row change;
/// `false` for the other.
pub async fn claim_change(
    tx: &mut Tx,
    id: i64,
    to: ChangeStatus,
    decided_by: &str,
    note: &str,
) -> Result<bool> {
    let n = tx
        .execute(
            q("UPDATE staff_changes SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4
                   WHERE id = $5 AND status = 'pending'")
            .bind(to.as_str())
            .bind(decided_by)
            .bind(crate::timestamp(chrono::Utc::now()))
            .bind(note)
            .bind(id),
        )
        .await?;
    Ok(n > 0)
}

/// A change's status as the transaction sees it.
pub async fn change_status(tx: &mut Tx, id: i64) -> Result<ChangeStatus> {
    let r = tx
        .fetch_one(q("SELECT status FROM staff_changes WHERE id = $1").bind(id))
        .await?;
    coded(&r, "status")
}

/// Whether the member `staff_id` is still in post.
pub async fn still_in_post(tx: &mut Tx, staff_id: i64) -> Result<bool> {
    Ok(tx
        .fetch_optional(
            q("SELECT id FROM office_staff WHERE id = $1 AND active = $2")
                .bind(staff_id)
                .bind(true),
        )
        .await?
        .is_some())
}

/// Applies an approved change to the office's roster.
pub async fn apply(tx: &mut Tx, township_code: &str, effect: &RosterEffect) -> Result<()> {
    if effect.clear_director {
        tx.execute(
            q("UPDATE office_staff SET is_director = $1 WHERE township_code = $2 AND active = $3")
                .bind(false)
                .bind(township_code)
                .bind(true),
        )
        .await?;
    }
    let stmt = match &effect.change {
        RosterChange::Appoint {
            name,
            position,
            is_director,
            full_time,
            since,
            doc_number,
            doc_date,
        } => q(
            "INSERT INTO office_staff (township_code, county_code, name, position, is_director, full_time,
                             since, doc_number, doc_date, active)
                           VALUES ($1, substr($1, 1, 6), $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(township_code)
        .bind(name)
        .bind(position)
        .bind(*is_director)
        .bind(*full_time)
        .bind(since)
        .bind(doc_number)
        .bind(doc_date.clone())
        .bind(true),
        RosterChange::Depart { staff_id, on } => q(
            "UPDATE office_staff SET active = $1, ended_on = $2, is_director = $3 WHERE id = $4",
        )
        .bind(false)
        .bind(on)
        .bind(false)
        .bind(*staff_id),
        RosterChange::Update {
            staff_id,
            position,
            is_director,
            full_time,
            doc_number,
            doc_date,
        } => q(
            "UPDATE office_staff SET position = $1, is_director = $2, full_time = $3,
                                  doc_number = $4, doc_date = $5 WHERE id = $6",
        )
        .bind(position)
        .bind(*is_director)
        .bind(*full_time)
        .bind(doc_number)
        .bind(doc_date.clone())
        .bind(*staff_id),
    };
    tx.execute(stmt).await?;
    Ok(())
}
