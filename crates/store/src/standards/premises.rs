//! Premises and their upkeep: rooms (用房), equipment (设备), the rules and procedures posted
//! on the wall (公示上墙的制度) and the money invested (建设投入).

use minzheng_domain::standards::{
    Equipment, EquipmentEntry, Investment, InvestmentEntry, OfficeItem, PostedRule, Room, RoomEntry,
};
use minzheng_domain::Fen;

use super::{equipment, room};
use crate::db::{q, Store, Tx};
use crate::error::Result;

fn table(item: OfficeItem) -> &'static str {
    match item {
        OfficeItem::Room => "office_rooms",
        OfficeItem::Equipment => "office_equipment",
        OfficeItem::PostedRule => "office_rules",
    }
}

pub async fn rooms(store: &Store, township_code: &str) -> Result<Vec<Room>> {
    store
        .fetch_all(
            q("SELECT * FROM office_rooms WHERE township_code = $1 ORDER BY id")
                .bind(township_code),
        )
        .await?
        .iter()
        .map(room)
        .collect()
}

pub async fn equipment_of(store: &Store, township_code: &str) -> Result<Vec<Equipment>> {
    store
        .fetch_all(
            q("SELECT * FROM office_equipment WHERE township_code = $1 ORDER BY id")
                .bind(township_code),
        )
        .await?
        .iter()
        .map(equipment)
        .collect()
}

/// Posted rules in the order they went up.
pub async fn posted_rules(store: &Store, township_code: &str) -> Result<Vec<PostedRule>> {
    store
        .fetch_all(
            q("SELECT * FROM office_rules WHERE township_code = $1 ORDER BY posted_on, id")
                .bind(township_code),
        )
        .await?
        .iter()
        .map(|r| {
            Ok(PostedRule {
                id: r.i64("id")?,
                title: r.str("title")?,
                posted_on: r.str("posted_on")?,
            })
        })
        .collect()
}

/// Investments by date.
pub async fn investments(store: &Store, township_code: &str) -> Result<Vec<Investment>> {
    store
        .fetch_all(
            q("SELECT * FROM investments WHERE township_code = $1 ORDER BY spent_on, id")
                .bind(township_code),
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Investment {
                id: r.i64("id")?,
                spent_on: r.str("spent_on")?,
                item: r.str("item")?,
                amount: Fen(r.i64("amount_fen")?),
                doc_number: r.str("doc_number")?,
            })
        })
        .collect()
}

/// The office's investments added up, as the transaction sees them.
pub async fn investment_total(tx: &mut Tx, township_code: &str) -> Result<Fen> {
    Ok(Fen(tx
        .fetch_one(
            q("SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS total FROM investments WHERE township_code = $1")
                .bind(township_code),
        )
        .await?
        .i64("total")?))
}

pub async fn insert_room(tx: &mut Tx, township_code: &str, r: &RoomEntry) -> Result<i64> {
    tx.fetch_one(
        q(
            "INSERT INTO office_rooms (township_code, county_code, kind, area_dm2, shared_hall, note)
               VALUES ($1, substr($1, 1, 6), $2, $3, $4, $5) RETURNING id",
        )
        .bind(township_code)
        .bind(r.kind.as_str())
        .bind(r.area_dm2)
        .bind(r.shared_hall)
        .bind(&r.note),
    )
    .await?
    .i64("id")
}

pub async fn insert_equipment(tx: &mut Tx, township_code: &str, e: &EquipmentEntry) -> Result<i64> {
    tx.fetch_one(
        q(
            "INSERT INTO office_equipment (township_code, county_code, kind, count, dedicated, note)
               VALUES ($1, substr($1, 1, 6), $2, $3, $4, $5) RETURNING id",
        )
        .bind(township_code)
        .bind(e.kind.as_str())
        .bind(e.count)
        .bind(e.dedicated)
        .bind(&e.note),
    )
    .await?
    .i64("id")
}

pub async fn insert_posted_rule(
    tx: &mut Tx,
    township_code: &str,
    title: &str,
    posted_on: chrono::NaiveDate,
) -> Result<i64> {
    tx.fetch_one(
        q("INSERT INTO office_rules (township_code, county_code, title, posted_on) VALUES ($1, substr($1, 1, 6), $2, $3) RETURNING id")
            .bind(township_code)
            .bind(title)
            .bind(posted_on.to_string()),
    )
    .await?
    .i64("id")
}

pub async fn insert_investment(
    tx: &mut Tx,
    township_code: &str,
    i: &InvestmentEntry,
) -> Result<i64> {
    tx.fetch_one(
        q("INSERT INTO investments (township_code, county_code, spent_on, item, amount_fen, doc_number, recorded_at)
               VALUES ($1, substr($1, 1, 6), $2, $3, $4, $5, $6) RETURNING id")
        .bind(township_code)
        .bind(i.spent_on.to_string())
        .bind(&i.item)
        .bind(i.amount.0)
        .bind(&i.doc_number)
        .bind(crate::timestamp(chrono::Utc::now())),
    )
    .await?
    .i64("id")
}

/// Removes a room, equipment line or posted rule of the office; `false` when it has none
/// with that id.
pub async fn remove(tx: &mut Tx, township_code: &str, item: OfficeItem, id: i64) -> Result<bool> {
    let n = tx
        .execute(
            q(format!(
                "DELETE FROM {} WHERE id = $1 AND township_code = $2",
                table(item)
            ))
            .bind(id)
            .bind(township_code),
        )
        .await?;
    Ok(n > 0)
}

/// Whether the office has a room, equipment line or posted rule with that id.
pub async fn exists(store: &Store, township_code: &str, item: OfficeItem, id: i64) -> Result<bool> {
    Ok(store
        .fetch_optional(
            q(format!(
                "SELECT id FROM {} WHERE id = $1 AND township_code = $2",
                table(item)
            ))
            .bind(id)
            .bind(township_code),
        )
        .await?
        .is_some())
}
