//! An office's profile (基本情况) and whether it keeps its ledger in this system.

use minzheng_domain::standards::OfficeProfile;

use super::{profile, tri_arg};
use crate::db::{q, Conn, Store, Tx};
use crate::error::Result;

/// The office's profile; an empty one (nothing recorded) when it has none.
pub async fn get<'c>(db: impl Into<Conn<'c>>, township_code: &str) -> Result<OfficeProfile> {
    let row = db
        .into()
        .fetch_optional(
            q("SELECT * FROM office_profiles WHERE township_code = $1").bind(township_code),
        )
        .await?;
    Ok(match row {
        None => OfficeProfile {
            township_code: township_code.to_string(),
            ..Default::default()
        },
        Some(r) => profile(&r)?,
    })
}

/// Replaces the office's profile.
pub async fn put(tx: &mut Tx, p: &OfficeProfile) -> Result<()> {
    tx.execute(q("DELETE FROM office_profiles WHERE township_code = $1").bind(&p.township_code))
        .await?;
    tx.execute(
        q("INSERT INTO office_profiles (township_code, county_code, population, kind, city_street, contact_name,
                 contact_phone, signage, policy_board, notice_board, archives_organized, updated_at)
               VALUES ($1, substr($1, 1, 6), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
        .bind(&p.township_code)
        .bind(p.population)
        .bind(p.kind.map(|k| k.as_str().to_string()))
        .bind(p.city_street)
        .bind(&p.contact_name)
        .bind(&p.contact_phone)
        .bind(&p.signage)
        .bind(tri_arg(p.policy_board))
        .bind(tri_arg(p.notice_board))
        .bind(tri_arg(p.archives_organized))
        .bind(crate::timestamp(chrono::Utc::now())),
    )
    .await?;
    Ok(())
}

/// The electronic ledger is "in use" when the office keeps its work in this system: the
/// township has households in the registry, or (before its ledger is imported) an active
/// account that works here.
pub async fn e_ledger_in_use(store: &Store, township_code: &str) -> Result<bool> {
    Ok(store
        .fetch_one(
            q(
                "SELECT (SELECT COUNT(*) FROM households WHERE township_code = $1)
                        + (SELECT COUNT(*) FROM users
                           WHERE scope_code >= $1 AND scope_code < $2 AND active = $3) AS n",
            )
            .bind(township_code)
            .bind(format!("{township_code}:"))
            .bind(true),
        )
        .await?
        .i64("n")?
        > 0)
}
