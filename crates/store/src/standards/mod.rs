//! Office standardization (规范化建设): what each office records — its profile, roster and
//! staff changes, village assistants, rooms, equipment, posted rules, investments and
//! construction plan — and the city's parameters, inspections and subsidies. Storage only:
//! the records come back as `minzheng_domain::standards` types, and the rules that judge
//! them, who may change them and the order of the steps are the domain's and the app's.

pub mod assistants;
pub mod inspections;
pub mod overview;
pub mod params;
pub mod plans;
pub mod premises;
pub mod profile;
pub mod staff;
pub mod subsidies;

use minzheng_domain::codes::Coded;
use minzheng_domain::standards::{
    ConstructionPlan, Equipment, EquipmentKind, OfficeKind, OfficeProfile, Room, RoomKind,
    StaffChange, StaffMember, Subsidy,
};
use minzheng_domain::Fen;

use crate::db::DbRow;
use crate::error::Result;

/// A coded column read back as its word.
fn coded<T: Coded>(r: &DbRow, col: &str) -> Result<T> {
    r.coded(col)
}

/// A yes / no / not recorded column (NULL is not recorded).
fn tri(v: Option<i64>) -> Option<bool> {
    v.map(|x| x != 0)
}

fn tri_arg(v: Option<bool>) -> Option<i64> {
    v.map(i64::from)
}

fn profile(r: &DbRow) -> Result<OfficeProfile> {
    Ok(OfficeProfile {
        township_code: r.str("township_code")?,
        population: r.opt_i64("population")?,
        kind: r.opt_str("kind")?.and_then(|k| OfficeKind::parse(&k)),
        city_street: r.bool("city_street")?,
        contact_name: r.str("contact_name")?,
        contact_phone: r.str("contact_phone")?,
        signage: r.str("signage")?,
        policy_board: tri(r.opt_i64("policy_board")?),
        notice_board: tri(r.opt_i64("notice_board")?),
        archives_organized: tri(r.opt_i64("archives_organized")?),
    })
}

fn staff_member(r: &DbRow) -> Result<StaffMember> {
    Ok(StaffMember {
        id: r.i64("id")?,
        township_code: r.str("township_code")?,
        name: r.str("name")?,
        position: r.str("position")?,
        is_director: r.bool("is_director")?,
        full_time: r.bool("full_time")?,
        since: r.str("since")?,
        doc_number: r.str("doc_number")?,
        doc_date: r.opt_str("doc_date")?,
        active: r.bool("active")?,
        ended_on: r.opt_str("ended_on")?,
    })
}

fn change(r: &DbRow) -> Result<StaffChange> {
    Ok(StaffChange {
        id: r.i64("id")?,
        township_code: r.str("township_code")?,
        kind: coded(r, "kind")?,
        staff_id: r.opt_i64("staff_id")?,
        name: r.str("name")?,
        position: r.str("position")?,
        is_director: r.bool("is_director")?,
        full_time: r.bool("full_time")?,
        effective_on: r.str("effective_on")?,
        doc_number: r.str("doc_number")?,
        doc_date: r.opt_str("doc_date")?,
        reason: r.str("reason")?,
        status: coded(r, "status")?,
        filed_by: r.str("filed_by")?,
        filed_at: r.str("filed_at")?,
        decided_by: r.opt_str("decided_by")?,
        decided_at: r.opt_str("decided_at")?,
        decision_note: r.str("decision_note")?,
    })
}

fn room(r: &DbRow) -> Result<Room> {
    Ok(Room {
        id: r.i64("id")?,
        kind: RoomKind::parse(&r.str("kind")?).unwrap_or(RoomKind::Office),
        area_dm2: r.i64("area_dm2")?,
        shared_hall: r.bool("shared_hall")?,
        note: r.str("note")?,
    })
}

fn equipment(r: &DbRow) -> Result<Equipment> {
    Ok(Equipment {
        id: r.i64("id")?,
        kind: EquipmentKind::parse(&r.str("kind")?).unwrap_or(EquipmentKind::Computer),
        count: r.i64("count")?,
        dedicated: r.bool("dedicated")?,
        note: r.str("note")?,
    })
}

fn plan(r: &DbRow) -> Result<ConstructionPlan> {
    Ok(ConstructionPlan {
        township_code: r.str("township_code")?,
        items: r.str("items")?,
        budget: Fen(r.i64("budget_fen")?),
        timeline: r.str("timeline")?,
        status: coded(r, "status")?,
        submitted_at: r.str("submitted_at")?,
        reviewed_by: r.opt_str("reviewed_by")?,
        review_note: r.str("review_note")?,
    })
}

fn subsidy(r: &DbRow) -> Result<Subsidy> {
    Ok(Subsidy {
        id: r.i64("id")?,
        township_code: r.str("township_code")?,
        office_name: r.opt_str("office_name")?.unwrap_or_default(),
        county_name: r.opt_str("county_name")?.unwrap_or_default(),
        inspection_id: r.i64("inspection_id")?,
        investment: Fen(r.i64("investment_fen")?),
        percent: r.i64("percent")?,
        amount: Fen(r.i64("amount_fen")?),
        status: coded(r, "status")?,
        disbursed_on: r.opt_str("disbursed_on")?,
        created_at: r.str("created_at")?,
    })
}
