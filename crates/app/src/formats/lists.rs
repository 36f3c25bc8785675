//! Other departments' lists (核对数据) as CSV (UTF-8 or GBK), xlsx or xls: four columns —
//! 身份证号码, 姓名, a date (死亡日期, 迁出日期, 发放月份 or 登记日期, by the list's kind) and a
//! detail (车牌, 坐落, 企业名称 …) — found by their titles, in any order, with the variants
//! departments use. The template (核对数据模板.xlsx) has the layout this reader knows first.

use minzheng_domain::lists::{ListKind, NewListRow};

use super::limits::InputLimits;
use super::titled::read_titled;
use crate::Result;

const ID: &[&str] = &["身份证号码", "公民身份号码", "身份证号", "证件号码"];
const NAME: &[&str] = &["姓名", "人员姓名", "权利人", "所有人", "法定代表人"];
const DATE: &[&str] = &[
    "日期",
    "死亡日期",
    "迁出日期",
    "发放月份",
    "登记日期",
    "注册日期",
    "成立日期",
];
const DETAIL: &[&str] = &[
    "说明",
    "注销原因",
    "迁往地",
    "月领取金额",
    "号牌号码及车型",
    "号牌号码",
    "坐落及面积",
    "不动产坐落",
    "市场主体名称",
    "企业名称",
    "备注",
];

fn column(title: &str) -> Option<&'static str> {
    let t: String = title.chars().filter(|c| !c.is_whitespace()).collect();
    [
        ("id_number", ID),
        ("name", NAME),
        ("date", DATE),
        ("detail", DETAIL),
    ]
    .iter()
    .find(|(_, names)| names.contains(&t.as_str()))
    .map(|(k, _)| *k)
}

/// The rows of a list: (row number in the file, the row as written).
pub fn parse(name: &str, data: &[u8], limits: &InputLimits) -> Result<Vec<(usize, NewListRow)>> {
    let list = read_titled(
        "核对数据",
        name,
        data,
        limits,
        column,
        &[
            ("id_number", "身份证号码"),
            ("name", "姓名"),
            ("date", "日期"),
        ],
    )?;
    Ok(list
        .rows()
        .map(|(line, r)| {
            (
                line,
                NewListRow {
                    id_number: r.get("id_number"),
                    name: r.get("name"),
                    date: r.get("date"),
                    detail: r.get("detail"),
                },
            )
        })
        .collect())
}

/// The template of a kind of list: its titles and one example row.
pub fn template(kind: ListKind) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(kind.label())?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let example = match kind {
        ListKind::PoliceDeath => "死亡注销",
        ListKind::PoliceMove => "迁往成都市武侯区",
        ListKind::Pension => "1850.00",
        ListKind::Vehicle => "川T12345 小型轿车",
        ListKind::RealEstate => "雨城区某小区3栋2单元501室 98.5㎡",
        ListKind::Business => "雅安市某商贸有限公司",
    };
    let titles = ["身份证号码", "姓名", kind.date_title(), kind.detail_title()];
    let row = ["511802194501010019", "王大山", "2026-09-15", example];
    for (c, (t, v)) in titles.iter().zip(row).enumerate() {
        ws.write_string_with_format(0, c as u16, *t, &bold)?;
        ws.write_string_with_format(1, c as u16, v, &text)?;
        ws.set_column_width(c as u16, 22)?;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_template_reads_back() {
        for k in ListKind::ALL {
            let rows = parse("模板.xlsx", &template(*k).unwrap(), &InputLimits::default()).unwrap();
            assert_eq!(rows.len(), 1, "{k:?}");
            assert_eq!(rows[0].1.name, "王大山");
            assert_eq!(rows[0].1.date, "2026-09-15");
            assert!(!rows[0].1.detail.is_empty());
        }
    }

    #[test]
    fn a_gbk_list_with_its_own_titles_is_read() {
        let csv =
            "权利人,公民身份号码,登记日期,不动产坐落\n张三,11010519491231002X,2026/3/1,某小区\n";
        let gbk = encoding_rs::GBK.encode(csv).0.into_owned();
        let rows = parse("不动产.csv", &gbk, &InputLimits::default()).unwrap();
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[0].1.id_number, "11010519491231002X");
        assert_eq!(rows[0].1.detail, "某小区");
    }

    #[test]
    fn a_file_that_is_not_a_list_is_refused() {
        let e = parse("x.csv", b"a,b\n1,2\n", &InputLimits::default()).unwrap_err();
        assert!(e.to_string().contains("找不到表头"), "{e}");
    }
}
