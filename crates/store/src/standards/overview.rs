//! The city console's reads: what every office in a range of township codes has recorded,
//! in a fixed number of queries whatever the number of offices.

use std::collections::HashMap;

use minzheng_domain::standards::{
    equipment_fact, room_fact, InspectionStatus, PlanStatus, StaffFact, StandingFacts,
    SubsidyStatus,
};
use minzheng_domain::Fen;

use super::{coded, equipment, profile, room};
use crate::db::{q, Store};
use crate::error::Result;

/// Every office whose township code is in `lo..hi`, in code order, with its recorded facts,
/// plan, latest inspection and subsidy.
pub async fn standing_facts(store: &Store, lo: &str, hi: &str) -> Result<Vec<StandingFacts>> {
    let range = |sql: &str| q(sql.to_string()).bind(lo).bind(hi);
    let offices = store
        .fetch_all(range(
            "SELECT o.township_code, o.name, c.code AS county_code, c.name AS county_name
                 FROM offices o JOIN divisions t ON t.code = o.township_code
                 LEFT JOIN divisions c ON c.code = t.parent_code
                 WHERE o.township_code >= $1 AND o.township_code < $2 ORDER BY o.township_code",
        ))
        .await?;
    let mut by: HashMap<String, StandingFacts> = HashMap::new();
    for r in &offices {
        let code = r.str("township_code")?;
        by.insert(
            code.clone(),
            StandingFacts {
                township_code: code,
                name: r.str("name")?,
                county_code: r.opt_str("county_code")?.unwrap_or_default(),
                county_name: r.opt_str("county_name")?.unwrap_or_default(),
                ..Default::default()
            },
        );
    }
    for r in &store
        .fetch_all(range(
            "SELECT * FROM office_profiles WHERE township_code >= $1 AND township_code < $2",
        ))
        .await?
    {
        if let Some(s) = by.get_mut(&r.str("township_code")?) {
            let p = profile(r)?;
            let f = &mut s.facts;
            f.population = p.population;
            f.kind = p.kind;
            f.city_street = p.city_street;
            f.policy_board = p.policy_board;
            f.notice_board = p.notice_board;
            f.archives_organized = p.archives_organized;
        }
    }
    for r in &store
        .fetch_all(
            range(
                "SELECT township_code, full_time, is_director, doc_number FROM office_staff
                 WHERE township_code >= $1 AND township_code < $2 AND active = $3",
            )
            .bind(true),
        )
        .await?
    {
        if let Some(s) = by.get_mut(&r.str("township_code")?) {
            s.facts.staff.push(StaffFact {
                full_time: r.bool("full_time")?,
                director: r.bool("is_director")?,
                has_document: !r.str("doc_number")?.is_empty(),
            });
        }
    }
    for r in &store
        .fetch_all(range(
            "SELECT d.parent_code AS township_code, COUNT(*) AS villages, COUNT(a.village_code) AS covered
                 FROM divisions d LEFT JOIN village_assistants a ON a.village_code = d.code
                 WHERE d.parent_code >= $1 AND d.parent_code < $2 AND d.level = 5
                 GROUP BY d.parent_code",
        ))
        .await?
    {
        if let Some(s) = by.get_mut(&r.str("township_code")?) {
            s.facts.village_count = r.i64("villages")?;
            s.facts.villages_with_assistant = r.i64("covered")?;
        }
    }
    for r in &store
        .fetch_all(range(
            "SELECT * FROM office_rooms WHERE township_code >= $1 AND township_code < $2",
        ))
        .await?
    {
        if let Some(s) = by.get_mut(&r.str("township_code")?) {
            s.facts.rooms.push(room_fact(&room(r)?));
        }
    }
    for r in &store
        .fetch_all(range(
            "SELECT * FROM office_equipment WHERE township_code >= $1 AND township_code < $2",
        ))
        .await?
    {
        if let Some(s) = by.get_mut(&r.str("township_code")?) {
            s.facts.equipment.push(equipment_fact(&equipment(r)?));
        }
    }
    for r in &store
        .fetch_all(range(
            "SELECT township_code, COUNT(*) AS n FROM office_rules
                 WHERE township_code >= $1 AND township_code < $2 GROUP BY township_code",
        ))
        .await?
    {
        if let Some(s) = by.get_mut(&r.str("township_code")?) {
            s.facts.rules_posted = r.i64("n")?;
        }
    }
    for r in &store
        .fetch_all(
            range(
                // Same rule as `profile::e_ledger_in_use`: registry households, or an active
                // account.
                "SELECT DISTINCT SUBSTR(scope_code, 1, 9) AS township_code FROM users
                 WHERE scope_code >= $1 AND scope_code < $2 AND active = $3 AND LENGTH(scope_code) >= 9
                 UNION
                 SELECT DISTINCT township_code FROM households
                 WHERE township_code >= $1 AND township_code < $2",
            )
            .bind(true),
        )
        .await?
    {
        if let Some(s) = by.get_mut(&r.str("township_code")?) {
            s.facts.e_ledger = true;
        }
    }
    for r in &store
        .fetch_all(range(
            "SELECT township_code, status FROM construction_plans WHERE township_code >= $1 AND township_code < $2",
        ))
        .await?
    {
        if let Some(s) = by.get_mut(&r.str("township_code")?) {
            s.plan = Some(coded::<PlanStatus>(r, "status")?);
        }
    }
    // In id order, so each office ends with its latest inspection.
    for r in &store
        .fetch_all(range(
            "SELECT township_code, status FROM inspections WHERE township_code >= $1 AND township_code < $2 ORDER BY id",
        ))
        .await?
    {
        if let Some(s) = by.get_mut(&r.str("township_code")?) {
            s.inspection = Some(coded::<InspectionStatus>(r, "status")?);
        }
    }
    for r in &store
        .fetch_all(range(
            "SELECT township_code, amount_fen, status FROM subsidies WHERE township_code >= $1 AND township_code < $2",
        ))
        .await?
    {
        if let Some(s) = by.get_mut(&r.str("township_code")?) {
            s.subsidy = Some((Fen(r.i64("amount_fen")?), coded::<SubsidyStatus>(r, "status")?));
        }
    }
    let mut out = Vec::with_capacity(offices.len());
    for r in &offices {
        if let Some(s) = by.remove(&r.str("township_code")?) {
            out.push(s);
        }
    }
    Ok(out)
}
