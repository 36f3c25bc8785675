//! 核对数据: other departments' lists, in `external_batches` (one per file received) and
//! `external_records` (its rows, matched by ID number). Nothing here touches the registry.

use minzheng_domain::lists::{ListBatch, ListKind, ListRow};
use minzheng_domain::Scope;

use crate::db::{q, Conn, DbRow, Tx};
use crate::error::{Result, StoreError};

/// Rows per multi-row `INSERT` (5 parameters each, well under both engines' limits).
const CHUNK: usize = 400;

/// Stores a list and its rows; returns the batch's id.
#[allow(clippy::too_many_arguments)]
pub async fn insert_batch(
    tx: &mut Tx,
    kind: ListKind,
    received_on: &str,
    scope_code: &str,
    file_name: &str,
    rows: &[ListRow],
    by: &str,
    now: &str,
) -> Result<i64> {
    let id = tx
        .fetch_one(
            q(
                "INSERT INTO external_batches (kind, received_on, scope_code, county_code, file_name, rows,
                 imported_by, imported_at) VALUES ($1, $2, $3, substr($3, 1, 6), $4, $5, $6, $7) RETURNING id",
            )
            .bind(kind.as_str())
            .bind(received_on)
            .bind(scope_code)
            .bind(file_name)
            .bind(rows.len() as i64)
            .bind(by)
            .bind(now),
        )
        .await?
        .i64("id")?;
    let dates: Vec<String> = rows.iter().map(|r| r.date.to_string()).collect();
    for (chunk, dates) in rows.chunks(CHUNK).zip(dates.chunks(CHUNK)) {
        let values = (0..chunk.len())
            .map(|i| {
                let b = i * 4 + 3;
                format!("($1, $2, ${b}, ${}, ${}, ${})", b + 1, b + 2, b + 3)
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO external_records (batch_id, kind, id_number, name, event_date, detail)
             VALUES {values}"
        );
        let mut query = q(sql).bind(id).bind(kind.as_str());
        for (r, d) in chunk.iter().zip(dates) {
            query = query
                .bind(r.id_number.as_str())
                .bind(r.name.as_str())
                .bind(d.as_str())
                .bind(r.detail.as_str());
        }
        tx.execute(query).await?;
    }
    Ok(id)
}

fn batch(r: &DbRow) -> Result<ListBatch> {
    Ok(ListBatch {
        id: r.i64("id")?,
        kind: ListKind::parse(&r.str("kind")?)
            .ok_or_else(|| StoreError::Internal("核对数据的种类无法识别".into()))?,
        received_on: r.str("received_on")?,
        scope_code: r.str("scope_code")?,
        file_name: r.str("file_name")?,
        rows: r.i64("rows")?,
        imported_by: r.str("imported_by")?,
        imported_at: r.str("imported_at")?,
    })
}

/// The lists that concern the scope — received inside it, or by an office whose
/// jurisdiction covers it — newest first.
pub async fn batches<'c>(
    db: impl Into<Conn<'c>>,
    scope: &Scope,
    limit: i64,
) -> Result<Vec<ListBatch>> {
    let (lo, hi) = scope.bounds();
    let code = scope.code_str();
    // Received inside the scope, or by an office whose code is a prefix of the scope's (the
    // whole system's is '').
    let covering: Vec<String> = (0..=code.len()).map(|n| code[..n].to_string()).collect();
    let marks = (0..covering.len())
        .map(|i| format!("${}", i + 3))
        .collect::<Vec<_>>()
        .join(", ");
    let mut query = q(format!(
        "SELECT * FROM external_batches
         WHERE (scope_code >= $1 AND scope_code < $2) OR scope_code IN ({marks})
         ORDER BY id DESC LIMIT {limit}"
    ))
    .bind(lo)
    .bind(hi);
    for c in covering {
        query = query.bind(c);
    }
    db.into()
        .fetch_all(query)
        .await?
        .iter()
        .map(batch)
        .collect()
}

/// The registered names of those of `ids` that are in the registry: (ID number, name).
pub async fn registered_names<'c>(
    db: impl Into<Conn<'c>>,
    ids: &[&str],
) -> Result<std::collections::HashMap<String, String>> {
    let mut conn: Conn<'c> = db.into();
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let marks = (1..=chunk.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut query = q(format!(
            "SELECT id_number, name FROM persons WHERE id_number IN ({marks})"
        ));
        for id in chunk {
            query = query.bind(*id);
        }
        for r in conn.fetch_all(query).await? {
            out.insert(r.str("id_number")?, r.str("name")?);
        }
    }
    Ok(out)
}
