//! Bank files (代发文件) and return files (回盘文件) of the payroll, and the bank templates
//! they follow.
//!
//! Every bank file produced is audited (with the file's SHA-256). A return file is matched
//! line by line to its batch and applied all-or-nothing: unknown lines, duplicates, wrong
//! amounts or totals that do not add up refuse the whole file. Failed lines become payment
//! exceptions (退票); the batch is reconciled once every line has its result.

use minzheng_domain::payroll::{
    authorize, next_status, parse_bank_template, reconcile, transition, BankTemplate,
    BankTemplateInput, BatchAction, ReturnOutcome,
};
use minzheng_domain::{Actor, Fen};
use minzheng_store::payroll::{self, ReturnCounts};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::formats::bank::{render, BankFile};
use crate::payroll::{audit, changed_meanwhile, failpoint, now, refused};
use crate::{App, Authorize, Error, Permission, Result};

/// The bank files duty of [`App`].
pub struct BankFiles<'a> {
    app: &'a App,
}

impl App {
    pub fn bank_files(&self) -> BankFiles<'_> {
        BankFiles { app: self }
    }
}

impl BankFiles<'_> {
    /// The bank templates, active first (every role reads them).
    pub async fn templates(&self, _actor: &Actor) -> Result<Vec<BankTemplate>> {
        Ok(payroll::templates(self.app.store()).await?)
    }

    /// The active templates, to export with.
    pub async fn active_templates(&self, actor: &Actor) -> Result<Vec<BankTemplate>> {
        let mut all = self.templates(actor).await?;
        all.retain(|t| t.active);
        Ok(all)
    }

    /// Creates a template or, if its code exists, updates it (the city administrator
    /// configures banks); audited with both versions.
    pub async fn save_template(
        &self,
        actor: &Actor,
        input: &BankTemplateInput,
    ) -> Result<BankTemplate> {
        actor.require(Permission::ManageBankTemplates)?;
        let t = parse_bank_template(input).map_err(refused)?;
        let mut tx = self.app.store().begin_write().await?;
        let (before, after) = payroll::save_template(&mut tx, &t, &now()).await?;
        audit(
            &mut tx,
            actor,
            "payroll.bank_template.save",
            "bank_template",
            &t.code,
            actor.scope.code_str(),
            before.map(|b| serde_json::to_value(b).unwrap_or_default()),
            Some(serde_json::to_value(&after).unwrap_or_default()),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Saves a template from the form that edits `editing` (empty: a new one): a new
    /// template may not silently replace an existing one of the same code.
    pub async fn save_template_form(
        &self,
        actor: &Actor,
        input: &BankTemplateInput,
        editing: &str,
    ) -> Result<BankTemplate> {
        actor.require(Permission::ManageBankTemplates)?;
        let code = input.code.trim();
        if code != editing
            && payroll::template_by_code(self.app.store(), code)
                .await?
                .is_some()
        {
            return Err(Error::field(
                "code",
                format!("模板代码“{code}”已被使用；如需修改该模板，请在列表中点“编辑”"),
            ));
        }
        self.save_template(actor, input).await
    }

    /// The bank files produced for a batch the actor sees, newest first (who, when, with
    /// which template, the file's name, lines and total).
    pub async fn downloads(
        &self,
        actor: &Actor,
        batch_id: i64,
    ) -> Result<Vec<minzheng_domain::payroll::BankFileDownload>> {
        let store = self.app.store();
        payroll::get_batch(store, &actor.scope, batch_id).await?;
        Ok(payroll::downloads(store, batch_id).await?)
    }

    /// The bank's return files imported for a batch the actor sees, newest first (the file's
    /// name and SHA-256, its lines, paid and failed counts and amounts, who and when).
    pub async fn return_files(
        &self,
        actor: &Actor,
        batch_id: i64,
    ) -> Result<Vec<minzheng_domain::payroll::ReturnFileRecord>> {
        let store = self.app.store();
        payroll::get_batch(store, &actor.scope, batch_id).await?;
        Ok(payroll::return_files(store, batch_id).await?)
    }

    /// Renders the bank file of a signed-off batch with a template; the first export moves
    /// the batch to exported. A batch is exported again (the bank lost the file, say) only
    /// until the bank has answered for a line. Every export is audited.
    pub async fn export(&self, actor: &Actor, batch_id: i64, template: &str) -> Result<BankFile> {
        let store = self.app.store();
        let b = payroll::get_batch(store, &actor.scope, batch_id).await?;
        authorize(actor.role, BatchAction::Export)?;
        let t = payroll::active_template(store, template)
            .await?
            .ok_or_else(|| Error::field("template", "请选择有效的银行代发模板"))?;
        next_status(&b, BatchAction::Export)?;
        let mut tx = store.begin_write().await?;
        if !payroll::mark_exported(&mut tx, batch_id, &now()).await? {
            return Err(changed_meanwhile(&mut tx, &b, BatchAction::Export).await);
        }
        let lines = payroll::all_lines(&mut tx, batch_id).await?;
        let file = render(&t, &b, &lines)?;
        audit(
            &mut tx,
            actor,
            "payroll.bank_file",
            "payroll_batch",
            &batch_id.to_string(),
            &b.township_code,
            Some(json!({"status": b.status})),
            Some(json!({"template": t.code, "file_name": file.file_name,
                "lines": file.lines, "total_fen": file.total.0,
                "sha256": hex::encode(Sha256::digest(&file.bytes))})),
        )
        .await?;
        tx.commit().await?;
        Ok(file)
    }

    /// Imports the bank's return file for an exported batch. Refused as a whole when it
    /// does not reconcile; otherwise every line's result is applied in one transaction,
    /// failures become payment exceptions, and the batch is reconciled once every line has
    /// a result (a partial return is allowed and leaves the rest pending).
    pub async fn import_return(
        &self,
        actor: &Actor,
        batch_id: i64,
        file_name: &str,
        data: &[u8],
    ) -> Result<ReturnOutcome> {
        let store = self.app.store();
        let b = payroll::get_batch(store, &actor.scope, batch_id).await?;
        transition(actor.role, &b, BatchAction::RecordReturn)?;
        let limits = self.app.limits();
        let file = crate::registry::import::blocking(|| {
            let file = crate::formats::returns::parse(file_name, data, limits);
            crate::formats::limits::give_back_memory();
            file
        })?;
        let lines = payroll::line_keys(store, batch_id).await?;
        let results = reconcile(&b, &file, &lines).map_err(refused)?;
        let (paid, failed): (Vec<_>, Vec<_>) = results.iter().partition(|r| r.paid);
        let counts = ReturnCounts {
            lines: results.len() as i64,
            paid_count: paid.len() as i64,
            paid: Fen(paid.iter().map(|r| r.amount.0).sum()),
            failed_count: failed.len() as i64,
            failed: Fen(failed.iter().map(|r| r.amount.0).sum()),
        };
        let now = now();
        let sha = hex::encode(Sha256::digest(data));

        let mut tx = store.begin_write().await?;
        let changed = payroll::apply_results(&mut tx, batch_id, &results, &now).await?;
        if changed != results.len() as u64 {
            return Err(Error::Conflict(
                "部分明细已由其他回盘文件对账，请刷新后重试".into(),
            ));
        }
        payroll::open_exceptions(&mut tx, batch_id, b.month, &now).await?;
        if !payroll::count_return(&mut tx, batch_id, &counts, &now).await? {
            return Err(Error::Conflict("该批次状态已变化，请刷新后重试".into()));
        }
        payroll::record_return_file(
            &mut tx,
            batch_id,
            &b.township_code,
            file_name,
            &sha,
            &counts,
            &actor.username,
            &now,
        )
        .await?;
        audit(
            &mut tx,
            actor,
            "payroll.return",
            "payroll_batch",
            &batch_id.to_string(),
            &b.township_code,
            Some(json!({"returned": b.returned_count})),
            Some(
                json!({"file_name": file_name, "sha256": sha, "lines": counts.lines,
                "paid": counts.paid_count, "paid_fen": counts.paid.0,
                "failed": counts.failed_count, "failed_fen": counts.failed.0}),
            ),
        )
        .await?;
        failpoint("payroll.return.before_commit").await;
        tx.commit().await?;
        let batch = payroll::get_batch(store, &actor.scope, batch_id).await?;
        Ok(ReturnOutcome {
            complete: batch.returned_count >= batch.line_count,
            batch,
            lines: results.len(),
            paid_count: paid.len(),
            paid: counts.paid,
            failed_count: failed.len(),
            failed: counts.failed,
        })
    }
}
