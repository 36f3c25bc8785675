//! 核对数据 — lists the civil-affairs bureau receives from other departments (docs/rules.md
//! §12.3): deaths and household moves from the police (公安), pension payouts (人社), vehicles
//! (车辆), real estate (不动产), business registrations (市场监管). Each list is imported as a
//! dated batch and matched by ID number; a list never edits the registry by itself — its
//! matches become findings (疑点) that a clerk confirms.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::forms::FieldErrors;
use crate::IdNumber;

crate::coded_enum! {
    /// 核对数据的种类 (which department's list).
    pub enum ListKind {
        /// 公安死亡注销名单.
        PoliceDeath = ("police_death", "公安死亡注销"),
        /// 公安户籍迁出名单.
        PoliceMove = ("police_move", "公安户籍迁出"),
        /// 人社养老金领取名单.
        Pension = ("pension", "人社养老金领取"),
        /// 车辆登记名单.
        Vehicle = ("vehicle", "车辆登记"),
        /// 不动产登记名单.
        RealEstate = ("real_estate", "不动产登记"),
        /// 市场主体（工商）登记名单.
        Business = ("business", "市场主体登记"),
    }
}

impl ListKind {
    /// What the date column means for this list.
    pub fn date_title(self) -> &'static str {
        match self {
            ListKind::PoliceDeath => "死亡日期",
            ListKind::PoliceMove => "迁出日期",
            ListKind::Pension => "发放月份",
            ListKind::Vehicle | ListKind::RealEstate | ListKind::Business => "登记日期",
        }
    }

    /// What the detail column holds.
    pub fn detail_title(self) -> &'static str {
        match self {
            ListKind::PoliceDeath => "注销原因",
            ListKind::PoliceMove => "迁往地",
            ListKind::Pension => "月领取金额",
            ListKind::Vehicle => "号牌号码及车型",
            ListKind::RealEstate => "坐落及面积",
            ListKind::Business => "市场主体名称",
        }
    }
}

/// One row of a list as read from the file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NewListRow {
    pub id_number: String,
    pub name: String,
    pub date: String,
    pub detail: String,
}

/// A row that passed [`parse_row`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    pub id_number: IdNumber,
    pub name: String,
    pub date: NaiveDate,
    pub detail: String,
}

/// Checks a row: a valid ID number, a name, a date not in the future (a month `YYYY-MM`
/// counts as its first day), a detail of at most 200 characters.
pub fn parse_row(r: &NewListRow, today: NaiveDate) -> Result<ListRow, FieldErrors> {
    let mut f = FieldErrors::new();
    let id = IdNumber::parse(&r.id_number, today)
        .map_err(|e| f.add("id_number", e.to_string()))
        .ok();
    let name = r.name.trim();
    if name.is_empty() {
        f.add("name", "姓名为空");
    } else if name.chars().count() > 30 {
        f.add("name", "姓名不能超过30个字");
    } else if name.contains(['"', '\\', '<', '>']) {
        f.add("name", "姓名中有不能使用的符号");
    }
    let d = r.date.trim();
    let date = crate::registry::parse_flexible_date(d)
        .or_else(|| NaiveDate::parse_from_str(&format!("{d}-01"), "%Y-%m-%d").ok());
    match date {
        None => f.add("date", format!("日期“{d}”无法识别")),
        Some(x) if x > today => f.add("date", format!("日期{x}晚于今天")),
        _ => {}
    }
    // Quotes and backslashes become their full-width forms: the detail is quoted as
    // evidence of a finding.
    let detail = r.detail.trim().replace('"', "＂").replace('\\', "＼");
    if detail.chars().count() > 200 {
        f.add("detail", "说明不能超过200个字");
    }
    f.finish()?;
    Ok(ListRow {
        id_number: id.expect("checked"),
        name: name.to_string(),
        date: date.expect("checked"),
        detail,
    })
}

/// A list on file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListBatch {
    pub id: i64,
    pub kind: ListKind,
    pub received_on: String,
    pub scope_code: String,
    pub file_name: String,
    pub rows: i64,
    pub imported_by: String,
    pub imported_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    #[test]
    fn a_row_takes_dates_and_months_as_written() {
        let r = parse_row(
            &NewListRow {
                id_number: "11010519491231002X".into(),
                name: " 张三 ".into(),
                date: "2026-10".into(),
                detail: "川A12345 小型轿车".into(),
            },
            today(),
        )
        .unwrap();
        assert_eq!(r.date, NaiveDate::from_ymd_opt(2026, 10, 1).unwrap());
        assert_eq!(r.name, "张三");
    }

    #[test]
    fn every_bad_field_is_named() {
        let e = parse_row(
            &NewListRow {
                id_number: "11010519491231002".into(),
                name: "".into(),
                date: "2027-01-01".into(),
                detail: String::new(),
            },
            today(),
        )
        .unwrap_err();
        for f in ["id_number", "name", "date"] {
            assert!(e.get(f).is_some(), "{f}: {e:?}");
        }
    }

    fn row(name: &str, date: &str, detail: &str) -> NewListRow {
        NewListRow {
            id_number: "11010519491231002X".into(),
            name: name.into(),
            date: date.into(),
            detail: detail.into(),
        }
    }

    #[test]
    fn a_row_at_its_limits_is_kept_and_one_past_them_is_refused_in_words() {
        // A 30-character name, a date of today, a 200-character detail: kept.
        let r = parse_row(
            &row(&"张".repeat(30), "2026-12-01", &"车".repeat(200)),
            today(),
        )
        .unwrap();
        assert_eq!(r.date, today());
        assert_eq!(r.detail.chars().count(), 200);
        let e = parse_row(
            &row(&"张".repeat(31), "2026-12-02", &"车".repeat(201)),
            today(),
        )
        .unwrap_err();
        assert_eq!(e.get("name"), Some("姓名不能超过30个字"));
        assert_eq!(e.get("date"), Some("日期2026-12-02晚于今天"));
        assert_eq!(e.get("detail"), Some("说明不能超过200个字"));
        let e = parse_row(&row("张三", "去年", ""), today()).unwrap_err();
        assert_eq!(e.get("date"), Some("日期“去年”无法识别"));
        assert_eq!(e.len(), 1);
    }

    #[test]
    fn each_list_names_its_date_and_detail_columns() {
        for (kind, date, detail) in [
            (ListKind::PoliceDeath, "死亡日期", "注销原因"),
            (ListKind::PoliceMove, "迁出日期", "迁往地"),
            (ListKind::Pension, "发放月份", "月领取金额"),
            (ListKind::Vehicle, "登记日期", "号牌号码及车型"),
            (ListKind::RealEstate, "登记日期", "坐落及面积"),
            (ListKind::Business, "登记日期", "市场主体名称"),
        ] {
            assert_eq!(kind.date_title(), date);
            assert_eq!(kind.detail_title(), detail);
        }
    }
}
