//! Staff changes (人员异动): filed by the township with the appointing document, decided
//! once by the city; an approved change is applied to the roster in the same transaction.

use minzheng_domain::standards::{
    change_entry, decide_change, parse_change_note, parse_staff_change, roster_effect, ChangeKind,
    NewStaffChange, StaffChange, MEMBER_GONE, NOT_ON_ROSTER,
};
use minzheng_domain::{Actor, FieldErrors};
use minzheng_store::standards::staff;

use super::{audit, require_city, Standards};
use crate::{Error, Result};

impl Standards<'_> {
    /// Files a staff change; the roster changes only when the city approves it.
    pub async fn file_change(
        &self,
        actor: &Actor,
        township_code: &str,
        c: &NewStaffChange,
    ) -> Result<StaffChange> {
        self.recordable_office(actor, township_code).await?;
        let form = parse_staff_change(c)?;
        let store = self.app.store();
        let member = match form.staff_id {
            Some(id) if form.kind != ChangeKind::Appoint => Some(
                staff::member_in_post(store, township_code, id)
                    .await?
                    .ok_or_else(|| FieldErrors::one("staff_id", NOT_ON_ROSTER))?,
            ),
            _ => None,
        };
        let e = change_entry(&form, member.as_ref());
        let mut tx = store.begin_write().await?;
        let id = staff::insert_change(&mut tx, township_code, &e, &actor.username).await?;
        audit(
            &mut tx,
            actor,
            "staff_change.file",
            "staff_change",
            &id.to_string(),
            township_code,
            None,
            Some(serde_json::json!({"kind": e.kind, "staff_id": e.staff_id, "name": e.name,
                "position": e.position, "is_director": e.is_director, "full_time": e.full_time,
                "effective_on": e.effective_on, "doc_number": e.doc_number, "doc_date": e.doc_date})),
        )
        .await?;
        tx.commit().await?;
        self.change(actor, id).await
    }

    /// One staff change inside the actor's scope.
    pub async fn change(&self, actor: &Actor, id: i64) -> Result<StaffChange> {
        Ok(staff::get_change(self.app.store(), &actor.scope, id).await?)
    }

    /// Pending staff changes inside the actor's scope (the city's approval queue).
    pub async fn pending_changes(&self, actor: &Actor) -> Result<Vec<StaffChange>> {
        Ok(staff::pending_changes(self.app.store(), &actor.scope).await?)
    }

    /// Approves (and applies to the roster) or rejects a pending staff change; a rejection
    /// says why.
    pub async fn decide_change(
        &self,
        actor: &Actor,
        id: i64,
        approve: bool,
        note: &str,
    ) -> Result<StaffChange> {
        let store = self.app.store();
        let c = staff::get_change(store, &actor.scope, id).await?;
        require_city(actor, "审批人员异动")?;
        let note = parse_change_note(approve, note)?;
        let to = decide_change(c.status, approve)?;
        let mut tx = store.begin_write().await?;
        // Claim the change first: of two approvers racing, only one goes on to apply it to
        // the roster; the other is told what became of it.
        if !staff::claim_change(&mut tx, id, to, &actor.username, &note).await? {
            let now = staff::change_status(&mut tx, id).await?;
            return Err(match decide_change(now, approve) {
                Err(e) => e.into(),
                Ok(_) => Error::Conflict("该人员异动已被他人审批，请刷新后查看".into()),
            });
        }
        let township_code = c.township_code.as_str();
        if approve {
            let effect = roster_effect(&c);
            if let Some(sid) = effect.change.staff_id() {
                if !staff::still_in_post(&mut tx, sid).await? {
                    return Err(Error::Conflict(MEMBER_GONE.into()));
                }
            }
            staff::apply(&mut tx, township_code, &effect).await?;
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
            township_code,
            Some(serde_json::json!({"status": "pending"})),
            Some(serde_json::json!({"status": to, "note": note})),
        )
        .await?;
        tx.commit().await?;
        self.change(actor, id).await
    }
}
