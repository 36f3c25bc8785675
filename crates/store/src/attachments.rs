//! Attachments (附件): files — for now photos — attached to any record.
//!
//! Generic on purpose: a row names its record by `entity_type` + `entity_id` and carries the
//! `scope_code` (the township, or a case's village) of that record, so jurisdiction is a
//! range check on the row itself. The bytes live in the database (BLOB/BYTEA) so a backup is
//! one database dump; each row keeps the SHA-256 of its bytes.

use minzheng_domain::attachments::{attachment_visible, AttachedTo, Attachment, Photo};
use minzheng_domain::Scope;
use sha2::{Digest, Sha256};

use crate::db::{q, DbRow, Store, Tx};
use crate::error::{Result, StoreError};

const COLUMNS: &str =
    "id, entity_type, entity_id, scope_code, filename, content_type, size, sha256,
                          created_by, created_at";

fn attachment(r: &DbRow) -> Result<Attachment> {
    let entity_type = r.str("entity_type")?;
    Ok(Attachment {
        id: r.i64("id")?,
        entity_type: AttachedTo::parse(&entity_type).ok_or_else(|| {
            StoreError::Internal(format!("AttachedTo代码“{entity_type}”无法识别"))
        })?,
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

/// A stored attachment: its id and the SHA-256 of its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub id: i64,
    pub sha256: String,
}

/// Stores a checked photo of the record `entity`/`entity_id` (in the division
/// `scope_code`) under `filename`.
pub async fn insert(
    tx: &mut Tx,
    entity: AttachedTo,
    entity_id: &str,
    scope_code: &str,
    filename: &str,
    photo: &Photo<'_>,
    created_by: &str,
) -> Result<Stored> {
    let sha = hex::encode(Sha256::digest(photo.data));
    let id = tx
        .fetch_one(
            q("INSERT INTO attachments (entity_type, entity_id, scope_code, county_code, filename, content_type,
                 size, sha256, data, created_by, created_at)
               VALUES ($1, $2, $3, substr($3, 1, 6), $4, $5, $6, $7, $8, $9, $10) RETURNING id")
            .bind(entity.as_str())
            .bind(entity_id)
            .bind(scope_code)
            .bind(filename)
            .bind(photo.content_type)
            .bind(photo.data.len() as i64)
            .bind(&sha)
            .bind(photo.data.to_vec())
            .bind(created_by)
            .bind(crate::timestamp(chrono::Utc::now())),
        )
        .await?
        .i64("id")?;
    Ok(Stored { id, sha256: sha })
}

/// Attachments of one record, visible in `scope`.
pub async fn list(
    store: &Store,
    scope: &Scope,
    entity: AttachedTo,
    entity_id: &str,
) -> Result<Vec<Attachment>> {
    let rows = store
        .fetch_all(
            q(format!(
                "SELECT {COLUMNS}
                   FROM attachments WHERE entity_type = $1 AND entity_id = $2 ORDER BY id"
            ))
            .bind(entity.as_str())
            .bind(entity_id),
        )
        .await?;
    let mut out = Vec::new();
    for r in &rows {
        let a = attachment(r)?;
        if attachment_visible(scope, &a.scope_code) {
            out.push(a);
        }
    }
    Ok(out)
}

/// Every attachment of one township's records, visible in `scope`, newest first.
pub async fn of_township(
    store: &Store,
    scope: &Scope,
    township_code: &str,
) -> Result<Vec<Attachment>> {
    if !attachment_visible(scope, township_code) {
        return Err(StoreError::NotFound("该民政办公室"));
    }
    store
        .fetch_all(
            q(format!(
                "SELECT {COLUMNS}
               FROM attachments WHERE scope_code = $1 ORDER BY id DESC"
            ))
            .bind(township_code),
        )
        .await?
        .iter()
        .map(attachment)
        .collect()
}

/// One attachment with its bytes, if inside `scope`.
pub async fn get(store: &Store, scope: &Scope, id: i64) -> Result<(Attachment, Vec<u8>)> {
    let row = store
        .fetch_optional(q("SELECT * FROM attachments WHERE id = $1").bind(id))
        .await?
        .filter(|r| {
            r.str("scope_code")
                .is_ok_and(|c| attachment_visible(scope, &c))
        })
        .ok_or(StoreError::NotFound("该附件"))?;
    let data = row.opt_bytes("data")?.unwrap_or_default();
    Ok((attachment(&row)?, data))
}
