//! Village assistants (村(居)民政协理员): one per village, recorded by its township.

use minzheng_domain::standards::VillageAssistant;

use crate::db::{q, Store, Tx};
use crate::error::Result;

/// Every village of the township with its assistant, if recorded.
pub async fn list(store: &Store, township_code: &str) -> Result<Vec<VillageAssistant>> {
    store
        .fetch_all(
            q(
                "SELECT d.code, d.name AS village_name, a.name, a.phone FROM divisions d
                   LEFT JOIN village_assistants a ON a.village_code = d.code
                   WHERE d.parent_code = $1 ORDER BY d.code",
            )
            .bind(township_code),
        )
        .await?
        .iter()
        .map(|r| {
            Ok(VillageAssistant {
                village_code: r.str("code")?,
                village_name: r.str("village_name")?,
                name: r.opt_str("name")?,
                phone: r.opt_str("phone")?.unwrap_or_default(),
            })
        })
        .collect()
}

/// Whether `village_code` is a village of the township.
pub async fn is_village_of(store: &Store, village_code: &str, township_code: &str) -> Result<bool> {
    Ok(store
        .fetch_optional(
            q("SELECT code FROM divisions WHERE code = $1 AND parent_code = $2")
                .bind(village_code)
                .bind(township_code),
        )
        .await?
        .is_some())
}

/// Records the village's assistant (an empty name removes it); returns the name it had.
pub async fn set(
    tx: &mut Tx,
    village_code: &str,
    township_code: &str,
    name: &str,
    phone: &str,
) -> Result<Option<String>> {
    let before = tx
        .fetch_optional(
            q("SELECT name FROM village_assistants WHERE village_code = $1").bind(village_code),
        )
        .await?
        .map(|r| r.str("name"))
        .transpose()?;
    tx.execute(q("DELETE FROM village_assistants WHERE village_code = $1").bind(village_code))
        .await?;
    if !name.is_empty() {
        tx.execute(
            q("INSERT INTO village_assistants (village_code, township_code, county_code, name, phone, updated_at)
                   VALUES ($1, $2, substr($2, 1, 6), $3, $4, $5)")
            .bind(village_code)
            .bind(township_code)
            .bind(name)
            .bind(phone)
            .bind(crate::timestamp(chrono::Utc::now())),
        )
        .await?;
    }
    Ok(before)
}
