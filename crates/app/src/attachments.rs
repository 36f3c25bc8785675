//! Photos (附件) attached to records: reading them back inside the actor's jurisdiction,
//! and storing a checked upload inside a use case's transaction. Who may attach to what is
//! the owning duty's decision (an office's records, an inspection, a case).

use minzheng_domain::attachments::{
    check_photo, clean_filename, AttachedTo, Attachment, NewAttachment,
};
use minzheng_domain::Actor;
use minzheng_store::{append_audit, attachments, AuditEvent, Tx};

use crate::{App, Error, Result};

/// The attachments duty of [`App`].
pub struct Attachments<'a> {
    app: &'a App,
}

impl App {
    pub fn attachments(&self) -> Attachments<'_> {
        Attachments { app: self }
    }
}

impl Attachments<'_> {
    /// One attachment with its bytes, if its record is inside the actor's jurisdiction (a
    /// village user also sees their township's).
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<(Attachment, Vec<u8>)> {
        Ok(attachments::get(self.app.store(), &actor.scope, id).await?)
    }

    /// The attachments of one record the actor sees.
    pub async fn of_record(
        &self,
        actor: &Actor,
        entity: AttachedTo,
        entity_id: &str,
    ) -> Result<Vec<Attachment>> {
        Ok(attachments::list(self.app.store(), &actor.scope, entity, entity_id).await?)
    }

    /// Every attachment of one township's records, newest first (404 outside the scope).
    pub async fn of_township(&self, actor: &Actor, township_code: &str) -> Result<Vec<Attachment>> {
        Ok(attachments::of_township(self.app.store(), &actor.scope, township_code).await?)
    }
}

/// Checks an upload is a photo within `max_bytes` and stores it inside `tx`, with its audit
/// record, for the record `entity`/`entity_id` in the division `scope_code`. The caller has
/// decided the actor may attach to that record.
pub(crate) async fn attach_photo(
    tx: &mut Tx,
    actor: &Actor,
    entity: AttachedTo,
    entity_id: &str,
    scope_code: &str,
    upload: &NewAttachment,
    max_bytes: usize,
) -> Result<i64> {
    // The file is the form's only field: its problem is the whole message.
    let photo = check_photo(upload, max_bytes).map_err(|f| Error::Validation {
        message: f.get("file").unwrap_or_default().to_string(),
        fields: f.into_map(),
    })?;
    let filename = clean_filename(&upload.filename);
    let stored = attachments::insert(
        tx,
        entity,
        entity_id,
        scope_code,
        &filename,
        &photo,
        &actor.username,
    )
    .await?;
    append_audit(
        tx,
        actor,
        AuditEvent {
            action: "attachment.add",
            entity_type: entity.as_str(),
            entity_id,
            scope_code,
            before: None,
            after: Some(serde_json::json!({
                "attachment_id": stored.id, "filename": filename,
                "content_type": photo.content_type, "size": upload.data.len(),
                "sha256": stored.sha256
            })),
        },
    )
    .await?;
    Ok(stored.id)
}
