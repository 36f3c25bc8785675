//! The audit log (操作日志): reading it, and checking its hash chain.

use minzheng_domain::audit::{AuditEntry, AuditFilter, AuditVerification, ChainCheck};
use minzheng_domain::Actor;
use minzheng_store::audit as repo;

use crate::{App, Authorize, Error, Permission, Result};

/// Records read per round while walking the chain.
const VERIFY_PAGE: i64 = 5000;

/// The most records one export holds (narrow the filter for more).
pub const EXPORT_ROWS: i64 = 5000;

/// Every 18-character ID number in a recorded change, masked (first 6 and last 4 shown).
fn mask_ids_in(json: &str) -> String {
    let bytes = json.as_bytes();
    let mut out = String::with_capacity(json.len());
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..]
            .iter()
            .take(18)
            .take_while(|b| b.is_ascii_digit())
            .count();
        let starts = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let id_like = starts
            && bytes.len() >= i + 18
            && run >= 17
            && (run == 18 || matches!(bytes[i + 17], b'X' | b'x'))
            && bytes.get(i + 18).is_none_or(|b| !b.is_ascii_alphanumeric());
        if id_like {
            out.push_str(&minzheng_domain::mask_id(&json[i..i + 18]));
            i += 18;
        } else {
            let ch = json[i..].chars().next().expect("a char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// The records as a worksheet 操作日志; `label` gives each record's (actor, action, object)
/// in words. Every text cell inert.
fn audit_workbook(
    items: &[AuditEntry],
    label: impl Fn(&AuditEntry) -> [String; 3],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::formats::inert::write_text;
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("操作日志")?;
    let bold = Format::new().set_bold();
    let headers = [
        "序号",
        "时间(北京时间)",
        "操作人",
        "操作",
        "对象",
        "区划代码",
        "变更前",
        "变更后",
    ];
    for (c, h) in headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, e) in items.iter().enumerate() {
        let row = i as u32 + 1;
        let [who, what, object] = label(e);
        let at = minzheng_domain::time::beijing(&e.at);
        ws.write_number(row, 0, e.seq as f64)?;
        write_text(ws, row, 1, &at, None)?;
        write_text(ws, row, 2, &who, None)?;
        write_text(ws, row, 3, &what, None)?;
        write_text(ws, row, 4, &object, None)?;
        write_text(ws, row, 5, &e.scope_code, None)?;
        write_text(ws, row, 6, e.before_json.as_deref().unwrap_or(""), None)?;
        write_text(ws, row, 7, e.after_json.as_deref().unwrap_or(""), None)?;
    }
    ws.set_column_width(1, 20)?;
    ws.set_column_width(6, 60)?;
    ws.set_column_width(7, 60)?;
    wb.save_to_buffer()
}

/// The audit duty of [`App`].
pub struct Audit<'a> {
    app: &'a App,
}

impl App {
    pub fn audit(&self) -> Audit<'_> {
        Audit { app: self }
    }
}

impl Audit<'_> {
    /// Records inside the actor's scope (optionally of one entity), newest first.
    pub async fn list(
        &self,
        actor: &Actor,
        entity: Option<(&str, &str)>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AuditEntry>> {
        let f = AuditFilter {
            entity_type: entity.map(|e| e.0.to_string()),
            entity_id: entity.map(|e| e.1.to_string()),
            ..AuditFilter::default()
        };
        self.search(actor, &f, limit, offset).await
    }

    /// How many records lie inside the actor's scope.
    pub async fn count(&self, actor: &Actor) -> Result<i64> {
        self.count_matching(actor, &AuditFilter::default()).await
    }

    /// Records inside the actor's scope that pass `f`, newest first. ID numbers in the
    /// recorded changes are masked for those who may not see them in full.
    pub async fn search(
        &self,
        actor: &Actor,
        f: &AuditFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AuditEntry>> {
        actor.require_or(Permission::ReadAudit, "您的角色无权查看操作日志")?;
        let mut items = repo::list(self.app.store(), &actor.scope, f, limit, offset).await?;
        if !actor.may(Permission::SeeFullIdentity) {
            for e in &mut items {
                e.before_json = e.before_json.as_deref().map(mask_ids_in);
                e.after_json = e.after_json.as_deref().map(mask_ids_in);
            }
        }
        Ok(items)
    }

    /// How many records inside the actor's scope pass `f`.
    pub async fn count_matching(&self, actor: &Actor, f: &AuditFilter) -> Result<i64> {
        actor.require_or(Permission::ReadAudit, "您的角色无权查看操作日志")?;
        Ok(repo::count(self.app.store(), &actor.scope, f).await?)
    }

    /// The records that pass `f` as a workbook (操作日志.xlsx), newest first, up to
    /// [`EXPORT_ROWS`]; ID numbers masked as on the page; every export is audited.
    pub async fn workbook(
        &self,
        actor: &Actor,
        f: &AuditFilter,
        label: impl Fn(&AuditEntry) -> [String; 3],
    ) -> Result<crate::payroll::Workbook> {
        let items = self.search(actor, f, EXPORT_ROWS, 0).await?;
        let bytes =
            audit_workbook(&items, label).map_err(|e| Error::Internal(format!("导出失败：{e}")))?;
        let mut tx = self.app.store().begin_write().await?;
        crate::payroll::audit(
            &mut tx,
            actor,
            "audit.export",
            "export",
            "audit.xlsx",
            actor.scope.code_str(),
            None,
            Some(serde_json::json!({"what": "audit.xlsx", "rows": items.len()})),
        )
        .await?;
        tx.commit().await?;
        Ok(crate::payroll::Workbook {
            file_name: "操作日志.xlsx".into(),
            bytes,
        })
    }

    /// Walks the whole chain in order and reports the first record whose hash, link or
    /// sequence number is wrong (`minzheng audit verify`).
    pub async fn verify(&self) -> Result<AuditVerification> {
        let mut check = ChainCheck::default();
        loop {
            let rows = repo::from_seq(self.app.store(), check.next_seq(), VERIFY_PAGE).await?;
            if rows.is_empty() {
                return Ok(check.finish(None));
            }
            for e in &rows {
                if let Err(b) = check.push(e) {
                    return Ok(check.finish(Some(b)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mask_ids_in;

    #[test]
    fn id_numbers_in_changes_are_masked_and_other_numbers_kept() {
        let json = r#"{"id_number":"51180219620415135X","phone":"13811112222","account":"6217872157019015402"}"#;
        let masked = mask_ids_in(json);
        assert!(!masked.contains("51180219620415135X"), "{masked}");
        assert!(masked.contains(&minzheng_domain::mask_id("51180219620415135X")));
        // A phone number and a 19-digit account are not ID numbers.
        assert!(masked.contains("13811112222") && masked.contains("6217872157019015402"));
    }
}
