//! Attachments (附件): files — for now photos — attached to any record.
//!
//! Generic on purpose: a row names its record by `entity_type` + `entity_id` and carries the
//! `scope_code` (the township) of that record, so jurisdiction is a range check on the row
//! itself. The module that owns the record decides who may attach (it resolves the scope and
//! the permission, then calls [`insert_attachment`] inside its own transaction). The bytes
//! live in the database (BLOB/BYTEA) so a backup is one database dump.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::audit::{append, AuditEvent};
use crate::db::{q, DbRow, Store, Tx};
use crate::error::{StoreError, StoreResult};
use minzheng_domain::{Actor, Scope};

/// The default largest attachment, in bytes (the web server's setting overrides it).
pub const DEFAULT_ATTACHMENT_LIMIT: usize = 5 * 1024 * 1024;

/// An attachment's metadata (without the bytes).
#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    pub id: i64,
    pub entity_type: String,
    pub entity_id: String,
    pub scope_code: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_by: String,
    pub created_at: String,
}

impl Attachment {
    fn from_row(r: &DbRow) -> StoreResult<Self> {
        Ok(Attachment {
            id: r.i64("id")?,
            entity_type: r.str("entity_type")?,
            entity_id: r.str("entity_id")?,
            scope_code: r.str("scope_code")?,
            filename: r.str("filename")?,
            content_type: r.str("content_type")?,
            size: r.i64("size")?,
            sha256: r.str("sha256")?,
            created_by: r.str("created_by")?,
            created_at: r.str("created_at")?,
        })
    }
}

/// An upload on its way in.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// The image types we accept, by their leading bytes; the declared type must agree, so a
/// renamed executable or HTML page cannot be served back as a "photo".
fn sniff_image(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Checks an upload is a photo within the limit; returns the normalized content type.
pub fn check_photo(a: &NewAttachment, max_bytes: usize) -> StoreResult<&'static str> {
    if a.data.is_empty() {
        return Err(StoreError::field("file", "请选择要上传的照片"));
    }
    if a.data.len() > max_bytes {
        return Err(StoreError::field(
            "file",
            format!(
                "照片过大（{:.1} MB），单个文件不能超过 {:.1} MB，请压缩后重新上传",
                a.data.len() as f64 / 1_048_576.0,
                max_bytes as f64 / 1_048_576.0
            ),
        ));
    }
    let sniffed = sniff_image(&a.data).ok_or_else(|| {
        StoreError::field(
            "file",
            "只能上传照片（JPEG、PNG、GIF 或 WebP 格式），该文件不是图片",
        )
    })?;
    let declared = a.content_type.split(';').next().unwrap_or("").trim();
    let declared = if declared == "image/jpg" {
        "image/jpeg"
    } else {
        declared
    };
    if !declared.is_empty() && declared != "application/octet-stream" && declared != sniffed {
        return Err(StoreError::field(
            "file",
            "文件类型与内容不符，只能上传照片（JPEG、PNG、GIF 或 WebP 格式）",
        ));
    }
    Ok(sniffed)
}

fn clean_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>'))
        .take(120)
        .collect();
    if cleaned.trim().is_empty() {
        "照片".into()
    } else {
        cleaned
    }
}

/// Stores one checked photo inside the caller's transaction and audits it.
pub(crate) async fn insert_attachment(
    tx: &mut Tx,
    actor: &Actor,
    entity_type: &str,
    entity_id: &str,
    scope_code: &str,
    a: &NewAttachment,
    max_bytes: usize,
) -> StoreResult<i64> {
    let content_type = check_photo(a, max_bytes)?;
    let filename = clean_filename(&a.filename);
    let sha = hex::encode(Sha256::digest(&a.data));
    let id = tx
        .fetch_one(
            q("INSERT INTO attachments (entity_type, entity_id, scope_code, filename, content_type,
                 size, sha256, data, created_by, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id")
            .bind(entity_type)
            .bind(entity_id)
            .bind(scope_code)
            .bind(&filename)
            .bind(content_type)
            .bind(a.data.len() as i64)
            .bind(&sha)
            .bind(a.data.clone())
            .bind(&actor.username)
            .bind(crate::timestamp(chrono::Utc::now())),
        )
        .await?
        .i64("id")?;
    append(
        tx,
        actor,
        AuditEvent {
            action: "attachment.add",
            entity_type,
            entity_id,
            scope_code,
            before: None,
            after: Some(serde_json::json!({
                "attachment_id": id, "filename": filename, "content_type": content_type,
                "size": a.data.len(), "sha256": sha
            })),
        },
    )
    .await?;
    Ok(id)
}

/// Attachments are visible inside the scope, and a village user sees their own township's
/// (as they see its office page).
fn visible(scope: &Scope, scope_code: &str) -> bool {
    scope.contains_str(scope_code) || (scope_code.len() == 9 && scope.sees_str(scope_code))
}

impl Store {
    /// Attachments of one record, visible in `scope`.
    pub async fn list_attachments(
        &self,
        scope: &Scope,
        entity_type: &str,
        entity_id: &str,
    ) -> StoreResult<Vec<Attachment>> {
        let rows = self
            .fetch_all(
                q("SELECT id, entity_type, entity_id, scope_code, filename, content_type, size, sha256,
                          created_by, created_at
                   FROM attachments WHERE entity_type = $1 AND entity_id = $2 ORDER BY id")
                .bind(entity_type)
                .bind(entity_id),
            )
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let a = Attachment::from_row(r)?;
            if visible(scope, &a.scope_code) {
                out.push(a);
            }
        }
        Ok(out)
    }

    /// Every attachment of one township's records, visible in `scope`, newest first.
    pub async fn attachments_of_township(
        &self,
        scope: &Scope,
        township_code: &str,
    ) -> StoreResult<Vec<Attachment>> {
        if !visible(scope, township_code) {
            return Err(StoreError::NotFound("该民政办公室"));
        }
        self.fetch_all(
            q("SELECT id, entity_type, entity_id, scope_code, filename, content_type, size, sha256,
                      created_by, created_at
               FROM attachments WHERE scope_code = $1 ORDER BY id DESC")
            .bind(township_code),
        )
        .await?
        .iter()
        .map(Attachment::from_row)
        .collect()
    }

    /// One attachment with its bytes, if inside `scope`.
    pub async fn get_attachment(
        &self,
        scope: &Scope,
        id: i64,
    ) -> StoreResult<(Attachment, Vec<u8>)> {
        let row = self
            .fetch_optional(q("SELECT * FROM attachments WHERE id = $1").bind(id))
            .await?
            .filter(|r| r.str("scope_code").is_ok_and(|c| visible(scope, &c)))
            .ok_or(StoreError::NotFound("该附件"))?;
        let data = row.opt_bytes("data")?.unwrap_or_default();
        Ok((Attachment::from_row(&row)?, data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(ct: &str, data: &[u8]) -> NewAttachment {
        NewAttachment {
            filename: "x.png".into(),
            content_type: ct.into(),
            data: data.to_vec(),
        }
    }

    #[test]
    fn only_images_within_the_limit() {
        let png = b"\x89PNG\r\n\x1a\n0000";
        assert_eq!(check_photo(&a("image/png", png), 100).unwrap(), "image/png");
        assert_eq!(
            check_photo(&a("application/octet-stream", png), 100).unwrap(),
            "image/png"
        );
        assert!(check_photo(&a("image/png", png), 5).is_err());
        assert!(check_photo(&a("text/html", b"<html>"), 100).is_err());
        assert!(check_photo(&a("image/jpeg", png), 100).is_err());
        assert!(check_photo(&a("image/png", b""), 100).is_err());
        assert_eq!(clean_filename("C:\\a\\b\\照片1.jpg"), "照片1.jpg");
        assert_eq!(clean_filename(""), "照片");
    }
}
