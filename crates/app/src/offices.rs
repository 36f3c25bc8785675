//! Township civil-affairs offices (民政办公室): the list, one office, and the contact
//! details its township keeps up to date.

use minzheng_domain::offices::{
    parse_office_update, Office, OfficeFilter, OfficePatch, OfficeUpdate,
};
use minzheng_domain::Actor;
use minzheng_store::{append_audit, offices, AuditEvent};

use crate::{App, Authorize, Error, Permission, Result};

/// The offices duty of [`App`].
pub struct Offices<'a> {
    app: &'a App,
}

impl App {
    pub fn offices(&self) -> Offices<'_> {
        Offices { app: self }
    }
}

impl Offices<'_> {
    /// Offices inside the actor's scope (a village user: their township's), and the total.
    pub async fn list(&self, actor: &Actor, f: &OfficeFilter) -> Result<(Vec<Office>, i64)> {
        let within = f.within()?;
        Ok(offices::list(self.app.store(), &actor.scope, within, f).await?)
    }

    /// One office the actor sees.
    pub async fn get(&self, actor: &Actor, township_code: &str) -> Result<Office> {
        Ok(offices::get(self.app.store(), &actor.scope, township_code).await?)
    }

    /// Whether the actor may edit this office's contact details.
    pub fn may_edit(&self, actor: &Actor, office: &Office) -> bool {
        actor.may(Permission::EditOffice) && actor.scope.contains_str(&office.township_code)
    }

    /// Changes only the contact fields the patch names (the API's PATCH).
    pub async fn patch(
        &self,
        actor: &Actor,
        township_code: &str,
        patch: &OfficePatch,
    ) -> Result<Office> {
        let before = offices::get(self.app.store(), &actor.scope, township_code).await?;
        if !self.may_edit(actor, &before) {
            return Err(Error::Forbidden("您无权修改该民政办公室的信息".into()));
        }
        if patch.phone.is_none() && patch.address.is_none() {
            return Err(Error::validation("没有需要修改的内容"));
        }
        self.update(actor, township_code, &patch.apply(&before))
            .await
    }

    /// Updates the office's telephone and address (audited with both versions).
    pub async fn update(
        &self,
        actor: &Actor,
        township_code: &str,
        upd: &OfficeUpdate,
    ) -> Result<Office> {
        let store = self.app.store();
        let before = offices::get(store, &actor.scope, township_code).await?;
        if !self.may_edit(actor, &before) {
            return Err(Error::Forbidden("您无权修改该民政办公室的信息".into()));
        }
        let c = parse_office_update(upd)?;
        let mut tx = store.begin_write().await?;
        offices::set_contact(&mut tx, township_code, &c.phone, &c.address).await?;
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: "office.update",
                entity_type: "office",
                entity_id: township_code,
                scope_code: township_code,
                before: Some(serde_json::json!({"phone": before.phone, "address": before.address})),
                after: Some(serde_json::json!({"phone": c.phone, "address": c.address})),
            },
        )
        .await?;
        tx.commit().await?;
        self.get(actor, township_code).await
    }
}
