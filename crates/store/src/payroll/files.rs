//! Bank templates (代发模板), the bank file's bookkeeping and the return file's results.
//! The files themselves are read and written by the caller; this only stores.

use std::collections::HashMap;

use minzheng_domain::payroll::{
    BankFileDownload, BankTemplate, LineKey, MatchedResult, ReturnFileRecord, ValidTemplate,
};
use minzheng_domain::{Fen, YearMonth};

use super::{coded, month, template};
use crate::db::{q, Conn, Store, Tx};
use crate::error::{Result, StoreError};

// ---------------------------------------------------------------- bank templates

/// The bank templates, active first.
pub async fn templates(store: &Store) -> Result<Vec<BankTemplate>> {
    store
        .fetch_all(q("SELECT * FROM bank_templates ORDER BY active DESC, id"))
        .await?
        .iter()
        .map(template)
        .collect()
}

/// The active template with this code.
pub async fn active_template<'c>(
    db: impl Into<Conn<'c>>,
    code: &str,
) -> Result<Option<BankTemplate>> {
    db.into()
        .fetch_optional(
            q("SELECT * FROM bank_templates WHERE code = $1 AND active = $2")
                .bind(code)
                .bind(true),
        )
        .await?
        .map(|r| template(&r))
        .transpose()
}

/// The template with this code, active or not.
pub async fn template_by_code<'c>(
    db: impl Into<Conn<'c>>,
    code: &str,
) -> Result<Option<BankTemplate>> {
    db.into()
        .fetch_optional(q("SELECT * FROM bank_templates WHERE code = $1").bind(code))
        .await?
        .map(|r| template(&r))
        .transpose()
}

/// Creates the template or, if its code exists, updates it; returns it as it was (if it
/// existed) and as stored now.
pub async fn save_template(
    tx: &mut Tx,
    t: &ValidTemplate,
    now: &str,
) -> Result<(Option<BankTemplate>, BankTemplate)> {
    let cols: String = t
        .columns
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let before = template_by_code(&mut *tx, &t.code).await?;
    if before.is_some() {
        tx.execute(
            q(
                "UPDATE bank_templates SET name = $2, format = $3, encoding = $4, columns = $5,
             totals_line = $6, amount_unit = $7, file_name = $8, active = $9, updated_at = $10
           WHERE code = $1",
            )
            .bind(t.code.as_str())
            .bind(t.name.as_str())
            .bind(t.format.as_str())
            .bind(t.encoding.as_str())
            .bind(cols.as_str())
            .bind(t.totals_line)
            .bind(t.amount_unit.as_str())
            .bind(t.file_name.as_str())
            .bind(t.active)
            .bind(now),
        )
        .await?;
    } else {
        tx.execute(
            q(
                "INSERT INTO bank_templates (code, name, format, encoding, columns, totals_line,
             amount_unit, file_name, active, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(t.code.as_str())
            .bind(t.name.as_str())
            .bind(t.format.as_str())
            .bind(t.encoding.as_str())
            .bind(cols.as_str())
            .bind(t.totals_line)
            .bind(t.amount_unit.as_str())
            .bind(t.file_name.as_str())
            .bind(t.active)
            .bind(now),
        )
        .await?;
    }
    let after = template_by_code(&mut *tx, &t.code)
        .await?
        .ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
    Ok((before, after))
}

// ---------------------------------------------------------------- bank files

/// Counts an export of a signed-off or exported batch (the first moves it to exported):
/// only while the bank has answered for no line. False otherwise.
pub async fn mark_exported(tx: &mut Tx, batch_id: i64, now: &str) -> Result<bool> {
    let n = tx
        .execute(
            q("UPDATE payroll_batches SET
                 status = CASE WHEN status = 'signed_off' THEN 'exported' ELSE status END,
                 exported_at = $2, export_count = export_count + 1, updated_at = $2
               WHERE id = $1 AND status IN ('signed_off', 'exported') AND returned_count = 0")
            .bind(batch_id)
            .bind(now),
        )
        .await?;
    Ok(n > 0)
}

/// The bank files produced for a batch, newest first: each export's audit record
/// (`payroll.bank_file`, appended in the export's transaction) is its bookkeeping, read by
/// the log's entity index.
pub async fn downloads(store: &Store, batch_id: i64) -> Result<Vec<BankFileDownload>> {
    let rows = store
        .fetch_all(
            q("SELECT at, actor, after_json FROM audit_log
               WHERE entity_type = 'payroll_batch' AND entity_id = $1
                 AND action = 'payroll.bank_file'
               ORDER BY seq DESC LIMIT 200")
            .bind(batch_id.to_string()),
        )
        .await?;
    rows.iter()
        .map(|r| {
            let after: serde_json::Value = r
                .opt_str("after_json")?
                .and_then(|j| serde_json::from_str(&j).ok())
                .unwrap_or_default();
            let s = |k: &str| {
                after
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let n = |k: &str| after.get(k).and_then(|v| v.as_i64()).unwrap_or(0);
            Ok(BankFileDownload {
                at: r.str("at")?,
                actor: r.str("actor")?,
                template: s("template"),
                file_name: s("file_name"),
                lines: n("lines"),
                total: Fen(n("total_fen")),
            })
        })
        .collect()
}

// ---------------------------------------------------------------- return files

/// What a return file answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReturnCounts {
    pub lines: i64,
    pub paid_count: i64,
    pub paid: Fen,
    pub failed_count: i64,
    pub failed: Fen,
}

/// What matching needs of every line of a batch.
pub async fn line_keys(store: &Store, batch_id: i64) -> Result<HashMap<i64, LineKey>> {
    store
        .fetch_all(
            q(
                "SELECT id, beneficiary_id_number, beneficiary_name, account_holder, period,
                  amount_fen, status
           FROM payroll_lines WHERE batch_id = $1",
            )
            .bind(batch_id),
        )
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.i64("id")?,
                LineKey {
                    id_number: r.str("beneficiary_id_number")?,
                    name: r.str("beneficiary_name")?,
                    holder: r.str("account_holder")?,
                    period: month(r, "period")?,
                    amount: Fen(r.i64("amount_fen")?),
                    status: coded(r, "status")?,
                },
            ))
        })
        .collect()
}

/// Opens a payment exception for every line of the batch that failed in the return
/// applied at `now`.
pub async fn open_exceptions(
    tx: &mut Tx,
    batch_id: i64,
    batch_month: YearMonth,
    now: &str,
) -> Result<()> {
    let batch_month = batch_month.to_string();
    tx.execute(
        q("INSERT INTO payment_exceptions (line_id, batch_id, batch_month, program, township_code, county_code,
             period, fail_reason, status, created_at, updated_at)
           SELECT l.id, l.batch_id, $2, l.program, l.township_code, substr(l.township_code, 1, 6), l.period,
                  COALESCE(l.fail_reason, ''), 'open', $3, $3
           FROM payroll_lines l
           WHERE l.batch_id = $1 AND l.status = 'failed' AND l.returned_at = $3")
        .bind(batch_id)
        .bind(batch_month.as_str())
        .bind(now),
    )
    .await?;
    Ok(())
}

/// Adds a return's counts to an exported batch, reconciling it once every line has its
/// result. False if the batch is no longer exported.
pub async fn count_return(tx: &mut Tx, batch_id: i64, c: &ReturnCounts, now: &str) -> Result<bool> {
    let updated = tx
        .execute(
            q("UPDATE payroll_batches SET
                 returned_count = returned_count + $2,
                 paid_count = paid_count + $3, paid_fen = paid_fen + $4,
                 failed_count = failed_count + $5, failed_fen = failed_fen + $6,
                 status = CASE WHEN returned_count + $2 >= line_count THEN 'reconciled' ELSE status END,
                 reconciled_at = CASE WHEN returned_count + $2 >= line_count THEN $7 ELSE reconciled_at END,
                 updated_at = $7
               WHERE id = $1 AND status = 'exported'")
            .bind(batch_id)
            .bind(c.lines)
            .bind(c.paid_count)
            .bind(c.paid.0)
            .bind(c.failed_count)
            .bind(c.failed.0)
            .bind(now),
        )
        .await?;
    Ok(updated > 0)
}

/// Records an imported return file (its name, SHA-256 and counts).
#[allow(clippy::too_many_arguments)]
pub async fn record_return_file(
    tx: &mut Tx,
    batch_id: i64,
    township_code: &str,
    file_name: &str,
    sha256: &str,
    c: &ReturnCounts,
    by: &str,
    now: &str,
) -> Result<()> {
    tx.execute(
        q(
            "INSERT INTO payroll_returns (batch_id, township_code, county_code, file_name, sha256, lines,
             paid_count, paid_fen, failed_count, failed_fen, imported_by, imported_at)
           VALUES ($1, $2, substr($2, 1, 6), $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(batch_id)
        .bind(township_code)
        .bind(file_name)
        .bind(sha256)
        .bind(c.lines)
        .bind(c.paid_count)
        .bind(c.paid.0)
        .bind(c.failed_count)
        .bind(c.failed.0)
        .bind(by)
        .bind(now),
    )
    .await?;
    Ok(())
}

/// The return files imported for a batch, newest first.
pub async fn return_files(store: &Store, batch_id: i64) -> Result<Vec<ReturnFileRecord>> {
    store
        .fetch_all(
            q(
                "SELECT file_name, sha256, lines, paid_count, paid_fen, failed_count, failed_fen,
                 imported_by, imported_at
               FROM payroll_returns WHERE batch_id = $1 ORDER BY id DESC",
            )
            .bind(batch_id),
        )
        .await?
        .iter()
        .map(|r| {
            Ok(ReturnFileRecord {
                file_name: r.str("file_name")?,
                sha256: r.str("sha256")?,
                lines: r.i64("lines")?,
                paid_count: r.i64("paid_count")?,
                paid: Fen(r.i64("paid_fen")?),
                failed_count: r.i64("failed_count")?,
                failed: Fen(r.i64("failed_fen")?),
                imported_by: r.str("imported_by")?,
                imported_at: r.str("imported_at")?,
            })
        })
        .collect()
}

/// Writes the results; returns how many lines changed (each must, or another import won).
pub async fn apply_results(
    tx: &mut Tx,
    batch_id: i64,
    results: &[MatchedResult],
    now: &str,
) -> Result<u64> {
    match tx {
        Tx::Sqlite(t) => {
            let mut handle = t.lock_handle().await?;
            let mut stmt = crate::bulk::Prepared::new(
                &mut handle,
                "UPDATE payroll_lines SET status = ?2, fail_reason = ?3, bank_txn_id = ?4,
                   returned_at = ?5 WHERE id = ?1 AND batch_id = ?6 AND status = 'planned'",
            )?;
            let mut changed = 0;
            for r in results {
                changed += stmt.run(&[
                    r.line_id.into(),
                    (if r.paid { "paid" } else { "failed" }).into(),
                    (!r.paid).then_some(r.reason.as_str()).into(),
                    (!r.txn.is_empty()).then_some(r.txn.as_str()).into(),
                    now.into(),
                    batch_id.into(),
                ])?;
            }
            Ok(changed)
        }
        Tx::Pg(t) => {
            let ids: Vec<i64> = results.iter().map(|r| r.line_id).collect();
            let statuses: Vec<&str> = results
                .iter()
                .map(|r| if r.paid { "paid" } else { "failed" })
                .collect();
            let reasons: Vec<&str> = results.iter().map(|r| r.reason.as_str()).collect();
            let txns: Vec<&str> = results.iter().map(|r| r.txn.as_str()).collect();
            let done = sqlx::query(
                "UPDATE payroll_lines l SET status = u.status, fail_reason = NULLIF(u.reason, ''),
                   bank_txn_id = NULLIF(u.txn, ''), returned_at = $5
                 FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(id, status, reason, txn)
                 WHERE l.id = u.id AND l.batch_id = $6 AND l.status = 'planned'",
            )
            .bind(ids)
            .bind(statuses)
            .bind(reasons)
            .bind(txns)
            .bind(now)
            .bind(batch_id)
            .execute(&mut **t)
            .await?;
            Ok(done.rows_affected())
        }
    }
}
