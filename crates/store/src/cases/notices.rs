//! 公示 storage: notice boards (`notice_batches`) and their whitelisted entries.

use chrono::NaiveDate;
use minzheng_domain::cases::{NoticeBatch, NoticeBatchEntry, PublicNotice};
use minzheng_domain::{Actor, DivisionCode, Fen, Program, PublicNoticeEntry, Scope};

use crate::db::{q, Store, Tx};
use crate::error::{Result, StoreError};

/// Writes a notice board; returns its id.
#[allow(clippy::too_many_arguments)]
pub async fn insert_batch(
    tx: &mut Tx,
    actor: &Actor,
    township_code: &str,
    division_code: &str,
    title: &str,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
) -> Result<i64> {
    let row = tx
        .fetch_one(
            q("INSERT INTO notice_batches (township_code, county_code, division_code, title, starts_on, ends_on,
                 created_by, created_at) VALUES ($1, substr($1, 1, 6),$2,$3,$4,$5,$6,$7) RETURNING id")
            .bind(township_code)
            .bind(division_code)
            .bind(title)
            .bind(starts_on.to_string())
            .bind(ends_on.to_string())
            .bind(actor.username.as_str())
            .bind(crate::timestamp(chrono::Utc::now())),
        )
        .await?;
    row.i64("id")
}

/// Puts a case on the board: its whitelisted entry, and the posting date and board on
/// the case.
pub async fn insert_entry(
    tx: &mut Tx,
    batch: i64,
    case_id: i64,
    entry: &PublicNoticeEntry,
    posted_on: NaiveDate,
) -> Result<()> {
    // The program column holds its Chinese name, as the board prints it.
    tx.execute(
        q("INSERT INTO notice_entries (batch_id, case_id, display_name, household_size, program, amount_fen,
                                       county_code)
           SELECT $1,$2,$3,$4,$5,$6, county_code FROM notice_batches WHERE id = $1")
        .bind(batch)
        .bind(case_id)
        .bind(entry.name.as_str())
        .bind(i64::from(entry.household_size))
        .bind(entry.program.label())
        .bind(entry.amount.0),
    )
    .await?;
    tx.execute(
        q("UPDATE cases SET notice_posted_on = $1, notice_batch_id = $2 WHERE id = $3")
            .bind(posted_on.to_string())
            .bind(batch)
            .bind(case_id),
    )
    .await?;
    Ok(())
}

async fn entries(store: &Store, batch: i64) -> Result<Vec<NoticeBatchEntry>> {
    store
        .fetch_all(
            q(
                "SELECT case_id, display_name, household_size, program, amount_fen
               FROM notice_entries WHERE batch_id = $1 ORDER BY id",
            )
            .bind(batch),
        )
        .await?
        .iter()
        .map(|r| {
            let program = r.str("program")?;
            Ok(NoticeBatchEntry {
                case_id: r.i64("case_id")?,
                entry: PublicNoticeEntry {
                    name: r.str("display_name")?,
                    household_size: r.i64("household_size")? as u32,
                    program: Program::ALL
                        .into_iter()
                        .find(|p| p.label() == program || p.as_str() == program)
                        .ok_or_else(|| StoreError::Internal("公示项目名称无效".into()))?,
                    amount: Fen(r.opt_i64("amount_fen")?.unwrap_or(0)),
                },
            })
        })
        .collect()
}

/// Notices still on the board on `on` for a division and everything inside it (the
/// latest 200). Public: no scope, and only whitelisted fields exist here.
pub async fn public_notices(
    store: &Store,
    division: &DivisionCode,
    on: NaiveDate,
) -> Result<Vec<PublicNotice>> {
    let lo = division.as_str().to_string();
    let hi = division.range_end();
    let batches = store
        .fetch_all(
            q("SELECT b.*, d.name AS division_name, o.name AS office_name,
                      o.phone AS office_phone
               FROM notice_batches b
               LEFT JOIN divisions d ON d.code = b.division_code
               LEFT JOIN offices o ON o.township_code = substr(b.division_code, 1, 9)
               WHERE b.division_code >= $1 AND b.division_code < $2
                 AND b.starts_on <= $3 AND b.ends_on >= $3
               ORDER BY b.starts_on DESC, b.id DESC LIMIT 200")
            .bind(lo)
            .bind(hi)
            .bind(on.to_string()),
        )
        .await?;
    let mut out = Vec::new();
    for b in &batches {
        let id = b.i64("id")?;
        let entries = entries(store, id).await?;
        out.push(PublicNotice {
            id,
            title: b.str("title")?,
            division_name: b.opt_str("division_name")?.unwrap_or_default(),
            starts_on: b.str("starts_on")?,
            ends_on: b.str("ends_on")?,
            entries: entries.into_iter().map(|e| e.entry).collect(),
            office_name: b.opt_str("office_name")?.unwrap_or_default(),
            office_phone: b.opt_str("office_phone")?.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Notice boards of the townships in `scope`, newest first (the latest 200), or just
/// board `id`.
pub async fn batches(store: &Store, scope: &Scope, id: Option<i64>) -> Result<Vec<NoticeBatch>> {
    let (lo, hi) = scope.bounds();
    let rows = store
        .fetch_all(
            q("SELECT b.*, d.name AS division_name, o.name AS office_name,
                      o.phone AS office_phone
               FROM notice_batches b
               LEFT JOIN divisions d ON d.code = b.division_code
               LEFT JOIN offices o ON o.township_code = substr(b.division_code, 1, 9)
               WHERE b.township_code >= $1 AND b.township_code < $2
                 AND ($3 IS NULL OR b.id = $3)
               ORDER BY b.id DESC LIMIT 200")
            .bind(lo)
            .bind(hi)
            .bind(id),
        )
        .await?;
    let mut out = Vec::new();
    for b in &rows {
        let id = b.i64("id")?;
        out.push(NoticeBatch {
            id,
            title: b.str("title")?,
            division_code: b.str("division_code")?,
            division_name: b.opt_str("division_name")?.unwrap_or_default(),
            starts_on: b.str("starts_on")?,
            ends_on: b.str("ends_on")?,
            created_by: b.str("created_by")?,
            entries: entries(store, id).await?,
        });
    }
    Ok(out)
}
