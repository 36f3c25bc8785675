//! Death lists (死亡名单) from a funeral home or the police, as CSV (UTF-8 or GBK), xlsx or
//! xls, recognised by content; the header is found by its titles (each source names and
//! orders its columns differently), dates as clerks and spreadsheets write them. The
//! template (死亡名单模板.xlsx) has the titles this reader knows first.

use minzheng_domain::funerals::{DeathSource, NewDeath};
use minzheng_domain::registry::parse_flexible_date;

use super::limits::InputLimits;
use super::titled::read_titled;
use crate::Result;

/// The columns, each with the titles it is known by (the first is the template's).
const COLUMNS: &[(&str, &[&str])] = &[
    (
        "id_number",
        &["身份证号码", "公民身份号码", "身份证号", "证件号码"],
    ),
    ("name", &["姓名", "逝者姓名", "死者姓名"]),
    ("death_date", &["死亡日期", "死亡时间"]),
    ("death_place", &["死亡地点"]),
    ("certificate_kind", &["死亡证明种类", "证明种类"]),
    (
        "certificate_no",
        &["死亡证明编号", "医学死亡证明编号", "证明编号"],
    ),
    ("disposal", &["遗体处理方式", "处理方式"]),
    ("cremation_no", &["火化证明编号", "火化证编号"]),
    ("funeral_home", &["殡仪馆", "火化单位"]),
    (
        "township_code",
        &["乡镇(街道)代码", "乡镇代码", "所在乡镇代码"],
    ),
    ("note", &["备注"]),
];

fn column(title: &str) -> Option<&'static str> {
    let t: String = title
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c,
        })
        .collect();
    COLUMNS
        .iter()
        .find(|(_, names)| names.contains(&t.as_str()))
        .map(|(k, _)| *k)
}

/// The rows of a death list: (row number in the file, the death as written). A list
/// without a certificate kind column takes its source's (公安 lists carry police
/// certificates, funeral homes' the medical ones).
pub fn parse(
    name: &str,
    data: &[u8],
    source: DeathSource,
    limits: &InputLimits,
) -> Result<Vec<(usize, NewDeath)>> {
    let list = read_titled(
        "死亡名单",
        name,
        data,
        limits,
        column,
        &[
            ("id_number", "身份证号码"),
            ("name", "姓名"),
            ("death_date", "死亡日期"),
        ],
    )?;
    let default_kind = match source {
        DeathSource::Police => "police",
        DeathSource::FuneralHome => "medical",
        DeathSource::Office => "other",
    };
    Ok(list
        .rows()
        .map(|(line, r)| {
            let date = r.get("death_date");
            let death_date = parse_flexible_date(&date)
                .map(|d| d.to_string())
                .unwrap_or(date);
            let kind = r.get("certificate_kind");
            (
                line,
                NewDeath {
                    id_number: r.get("id_number"),
                    name: r.get("name"),
                    death_date,
                    death_place: r.get("death_place"),
                    certificate_kind: if kind.is_empty() {
                        default_kind.into()
                    } else {
                        kind
                    },
                    certificate_no: r.get("certificate_no"),
                    disposal: r.get("disposal"),
                    cremation_no: r.get("cremation_no"),
                    funeral_home: r.get("funeral_home"),
                    township_code: r.get("township_code"),
                    note: r.get("note"),
                },
            )
        })
        .collect())
}

/// The template: the titles this reader knows first, and one example row.
pub fn template() -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("死亡名单")?;
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let example = [
        "511802194501010019",
        "王大山",
        "2026-09-15",
        "家中",
        "医学死亡证明",
        "N5118020001",
        "火化",
        "H2026-0915",
        "雅安市殡仪馆",
        "",
        "",
    ];
    for (c, (_, names)) in COLUMNS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, names[0], &bold)?;
        ws.write_string_with_format(1, c as u16, example[c], &text)?;
        ws.set_column_width(c as u16, 16)?;
    }
    ws.set_column_width(0, 22)?;
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_police_list_with_its_own_titles_and_dates_is_read() {
        let csv = "公民身份号码,死者姓名,死亡时间,备注\n511802194501010019,王大山,2026/9/15,\n";
        let gbk = encoding_rs::GBK.encode(csv).0.into_owned();
        let rows = parse(
            "公安.csv",
            &gbk,
            DeathSource::Police,
            &InputLimits::default(),
        )
        .unwrap();
        assert_eq!(rows.len(), 1);
        let (line, d) = &rows[0];
        assert_eq!(*line, 2);
        assert_eq!(d.name, "王大山");
        assert_eq!(d.death_date, "2026-09-15");
        assert_eq!(d.certificate_kind, "police");
    }

    #[test]
    fn the_template_reads_back() {
        let bytes = template().unwrap();
        let rows = parse(
            "模板.xlsx",
            &bytes,
            DeathSource::FuneralHome,
            &InputLimits::default(),
        )
        .unwrap();
        assert_eq!(rows[0].1.funeral_home, "雅安市殡仪馆");
        assert_eq!(rows[0].1.certificate_kind, "医学死亡证明");
    }

    #[test]
    fn a_list_without_its_key_columns_is_refused() {
        let e = parse(
            "x.csv",
            "姓名,死亡日期,备注\n王,2026-01-01,\n".as_bytes(),
            DeathSource::Police,
            &InputLimits::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("身份证号码"), "{e}");
        let e = parse(
            "x.csv",
            b"a,b\n1,2\n",
            DeathSource::Police,
            &InputLimits::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("找不到表头"), "{e}");
    }
}
