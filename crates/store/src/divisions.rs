//! Administrative divisions (行政区划): the `divisions` table, written in bulk by the
//! import, and the township offices derived from it.

use minzheng_domain::division::{Division, DivisionRow, LevelCount};
use minzheng_domain::{DivisionCode, DivisionLevel, Scope};

use crate::db::{q, Conn, DbRow, Store, Tx};
use crate::error::{Result, StoreError};

fn division(r: &DbRow) -> Result<Division> {
    let level = r.i64("level")?;
    let level = DivisionLevel::ALL
        .into_iter()
        .find(|l| i64::from(l.depth()) == level)
        .ok_or_else(|| StoreError::Internal(format!("区划级别{level}无效")))?;
    Ok(Division {
        code: r.str("code")?,
        name: r.str("name")?,
        level,
        parent_code: r.opt_str("parent_code")?,
        child_count: None,
    })
}

/// Only rows whose content differs are touched, so a repeated import changes nothing.
const UPSERT_TAIL: &str =
    " ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level,
      parent_code = excluded.parent_code, updated_at = excluded.updated_at
      WHERE divisions.name <> excluded.name OR divisions.level <> excluded.level
         OR COALESCE(divisions.parent_code, '') <> COALESCE(excluded.parent_code, '')";

/// Upserts one batch of checked rows; returns the rows inserted or changed. SQLite steps
/// one prepared statement on the raw handle; PostgreSQL copies the batch into a staging table
/// and merges it with one upsert (a round trip per row would dominate either way).
pub async fn write_batch(tx: &mut Tx, rows: &[DivisionRow], now: &str) -> Result<u64> {
    match tx {
        Tx::Sqlite(t) => {
            let mut handle = t.lock_handle().await?;
            let mut stmt = crate::bulk::Prepared::new(
                &mut handle,
                &format!(
                    "INSERT INTO divisions (code, name, level, parent_code, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5){UPSERT_TAIL}"
                ),
            )?;
            let mut changed = 0;
            for r in rows {
                changed += stmt.run(&[
                    r.code.as_str().into(),
                    r.name.as_str().into(),
                    i64::from(r.level.depth()).into(),
                    r.parent.as_deref().into(),
                    now.into(),
                ])?;
            }
            Ok(changed)
        }
        Tx::Pg(t) => {
            // The batch is copied into a temporary staging table and merged with one
            // upsert: COPY is the cheapest way in, and the merge keeps the rule that an
            // unchanged row is not touched.
            sqlx::query(
                "CREATE TEMPORARY TABLE IF NOT EXISTS division_import
                   (code TEXT COLLATE \"C\", name TEXT, level BIGINT, parent_code TEXT)
                   ON COMMIT DROP",
            )
            .execute(&mut **t)
            .await?;
            sqlx::query("TRUNCATE division_import")
                .execute(&mut **t)
                .await?;
            let mut copy = crate::copy::CopyRows::new();
            for r in rows {
                copy.text(r.code.as_str())
                    .text(&r.name)
                    .int(i64::from(r.level.depth()))
                    .opt(r.parent.as_deref());
                copy.end();
            }
            copy.send(
                t,
                "COPY division_import (code, name, level, parent_code) FROM STDIN",
            )
            .await?;
            // Counted from RETURNING, not from the command's tag: a Citus coordinator
            // reports every row it sent to the reference table's shards as affected,
            // unchanged ones included.
            let sql = format!(
                "WITH changed AS (
                   INSERT INTO divisions (code, name, level, parent_code, updated_at)
                   SELECT code, name, level, parent_code, $1 FROM division_import{UPSERT_TAIL}
                   RETURNING 1)
                 SELECT COUNT(*) FROM changed"
            );
            let n: i64 = sqlx::query_scalar(&sql)
                .bind(now)
                .fetch_one(&mut **t)
                .await?;
            Ok(n as u64)
        }
    }
}

/// Whether a division with this code exists.
pub async fn exists<'c>(db: impl Into<Conn<'c>>, code: &str) -> Result<bool> {
    Ok(db
        .into()
        .fetch_optional(q("SELECT 1 AS one FROM divisions WHERE code = $1").bind(code))
        .await?
        .is_some())
}

/// Count of divisions per level inside `scope`, all five levels in order.
pub async fn stats(store: &Store, scope: &Scope) -> Result<Vec<LevelCount>> {
    let (lo, hi) = scope.bounds();
    let rows = store
        .fetch_all(
            q("SELECT level, COUNT(*) AS n FROM divisions
                   WHERE code >= $1 AND code < $2 GROUP BY level")
            .bind(lo)
            .bind(hi),
        )
        .await?;
    let mut out: Vec<LevelCount> = DivisionLevel::ALL
        .into_iter()
        .map(|level| LevelCount { level, count: 0 })
        .collect();
    for r in rows {
        let level = r.i64("level")?;
        if let Some(lc) = out
            .iter_mut()
            .find(|lc| i64::from(lc.level.depth()) == level)
        {
            lc.count = r.i64("n")?;
        }
    }
    Ok(out)
}

/// One division, if the scope may see it (inside it, or one of its ancestors).
pub async fn get(store: &Store, scope: &Scope, code: &str) -> Result<Division> {
    if !scope.sees_str(code) {
        return Err(StoreError::NotFound("该区划"));
    }
    let row = store
        .fetch_optional(
            q(
                "SELECT d.*, (SELECT COUNT(*) FROM divisions c WHERE c.parent_code = d.code)
                     AS child_count FROM divisions d WHERE d.code = $1",
            )
            .bind(code),
        )
        .await?
        .ok_or(StoreError::NotFound("该区划"))?;
    let mut d = division(&row)?;
    d.child_count = row.opt_i64("child_count")?;
    Ok(d)
}

/// The divisions a browser starts from: the scope's own division, or every province.
pub async fn roots(store: &Store, scope: &Scope) -> Result<Vec<Division>> {
    match scope.code() {
        Some(c) => Ok(vec![get(store, scope, c.as_str()).await?]),
        None => children(store, scope, None).await,
    }
}

/// Direct children of `parent` (or the provinces) that lie inside the scope.
pub async fn children(store: &Store, scope: &Scope, parent: Option<&str>) -> Result<Vec<Division>> {
    if let Some(p) = parent {
        if !scope.sees_str(p) {
            return Err(StoreError::NotFound("该区划"));
        }
    }
    let (lo, hi) = scope.bounds();
    let mut query = q(
        "SELECT d.*, (SELECT COUNT(*) FROM divisions c WHERE c.parent_code = d.code)
                 AS child_count FROM divisions d WHERE d.code >= $1 AND d.code < $2",
    )
    .bind(lo)
    .bind(hi);
    match parent {
        Some(p) => {
            query.sql.push_str(" AND d.parent_code = $3");
            query.push(p);
        }
        None => query.sql.push_str(" AND d.parent_code IS NULL"),
    }
    query.sql.push_str(" ORDER BY d.code LIMIT 2000");
    store
        .fetch_all(query)
        .await?
        .iter()
        .map(|r| {
            let mut d = division(r)?;
            d.child_count = r.opt_i64("child_count")?;
            Ok(d)
        })
        .collect()
}

/// The chain from the province down to `code` (inclusive) that the scope may see.
pub async fn path(store: &Store, scope: &Scope, code: &DivisionCode) -> Result<Vec<Division>> {
    let parsed = code.clone();
    let mut codes: Vec<String> = Vec::new();
    let mut cur = Some(parsed);
    while let Some(c) = cur {
        cur = c.parent();
        codes.push(c.as_str().to_string());
    }
    codes.reverse();
    let mut out = Vec::new();
    for c in codes {
        if !scope.sees_str(&c) {
            continue;
        }
        if let Some(r) = store
            .fetch_optional(q("SELECT * FROM divisions WHERE code = $1").bind(c))
            .await?
        {
            out.push(division(&r)?);
        }
    }
    Ok(out)
}

/// Divisions inside the scope whose name contains `term` or whose code starts with it.
pub async fn search(store: &Store, scope: &Scope, term: &str, limit: i64) -> Result<Vec<Division>> {
    let term = term.trim();
    if term.is_empty() {
        return Ok(Vec::new());
    }
    let (lo, hi) = scope.bounds();
    let query =
        if term.bytes().all(|b| b.is_ascii_digit()) {
            let (tlo, thi) = (term.to_string(), format!("{term}:"));
            q("SELECT * FROM divisions WHERE code >= $1 AND code < $2 AND code >= $3 AND code < $4
               ORDER BY level, code LIMIT $5")
            .bind(lo)
            .bind(hi)
            .bind(tlo)
            .bind(thi)
            .bind(limit.clamp(1, 200))
        } else {
            let pattern = format!("%{}%", escape_like(term));
            q("SELECT * FROM divisions WHERE code >= $1 AND code < $2 AND name LIKE $3 ESCAPE '\\'
               ORDER BY level, code LIMIT $4")
            .bind(lo)
            .bind(hi)
            .bind(pattern)
            .bind(limit.clamp(1, 200))
        };
    store.fetch_all(query).await?.iter().map(division).collect()
}

/// A division with its parent's name, as a choice in a form.
#[derive(Debug, Clone)]
pub struct Place {
    pub division: Division,
    pub parent_name: Option<String>,
}

/// The divisions of the given levels inside the scope, by code, each with its parent's name
/// (at most `limit`).
pub async fn places(
    store: &Store,
    scope: &Scope,
    levels: &[DivisionLevel],
    limit: i64,
) -> Result<Vec<Place>> {
    let (lo, hi) = scope.bounds();
    let mut query = q("SELECT d.*, p.name AS parent_name FROM divisions d
           LEFT JOIN divisions p ON p.code = d.parent_code
          WHERE d.code >= $1 AND d.code < $2")
    .bind(lo)
    .bind(hi);
    let depths: Vec<String> = levels.iter().map(|l| l.depth().to_string()).collect();
    if !depths.is_empty() {
        // Depths are small integers of our own, never user text.
        query
            .sql
            .push_str(&format!(" AND d.level IN ({})", depths.join(", ")));
    }
    query.sql.push_str(" ORDER BY d.code LIMIT $3");
    query.push(limit.clamp(1, 20_000));
    store
        .fetch_all(query)
        .await?
        .iter()
        .map(|r| {
            Ok(Place {
                division: division(r)?,
                parent_name: r.opt_str("parent_name")?,
            })
        })
        .collect()
}

pub(crate) fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Number of divisions (the import counts before and after).
pub async fn count_all(tx: &mut Tx) -> Result<i64> {
    tx.fetch_one(q("SELECT COUNT(*) AS n FROM divisions"))
        .await?
        .i64("n")
}

/// One office per township-level division: "X民政办公室", second plaque "X社会救助工作站".
/// Set-based: one statement creates the missing ones, one renames those whose township was
/// renamed.
pub async fn derive_offices(tx: &mut Tx, lo: &str, hi: &str, now: &str) -> Result<(u64, u64)> {
    let created = tx
        .execute(
            q(
                "INSERT INTO offices (township_code, name, second_name, created_at, updated_at)
               SELECT d.code, d.name || '民政办公室', d.name || '社会救助工作站', $3, $3
               FROM divisions d
               WHERE d.level = 4 AND d.code >= $1 AND d.code < $2
                 AND NOT EXISTS (SELECT 1 FROM offices o WHERE o.township_code = d.code)",
            )
            .bind(lo)
            .bind(hi)
            .bind(now),
        )
        .await?;
    let renamed = tx
        .execute(
            q("UPDATE offices SET
                 name = (SELECT d.name || '民政办公室' FROM divisions d WHERE d.code = offices.township_code),
                 second_name = (SELECT d.name || '社会救助工作站' FROM divisions d WHERE d.code = offices.township_code),
                 updated_at = $3
               WHERE township_code >= $1 AND township_code < $2
                 AND name <> (SELECT d.name || '民政办公室' FROM divisions d WHERE d.code = offices.township_code)")
            .bind(lo)
            .bind(hi)
            .bind(now),
        )
        .await?;
    Ok((created, renamed))
}

/// A division in `[lo, hi)` whose parent does not exist: (code, parent code).
pub async fn first_orphan(tx: &mut Tx, lo: &str, hi: &str) -> Result<Option<(String, String)>> {
    tx.fetch_optional(
        q("SELECT d.code, d.parent_code FROM divisions d
           WHERE d.code >= $1 AND d.code < $2 AND d.parent_code IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM divisions p WHERE p.code = d.parent_code)
           LIMIT 1")
        .bind(lo)
        .bind(hi),
    )
    .await?
    .map(|r| {
        Ok((
            r.str("code")?,
            r.opt_str("parent_code")?.unwrap_or_default(),
        ))
    })
    .transpose()
}
