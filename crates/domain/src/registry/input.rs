//! Cell text as clerks write it: ID numbers (full-width digits, spaces, Excel's scientific
//! notation), dates in every ledger spelling, pinyin search keys and masked accounts.

use chrono::{Datelike, Duration, NaiveDate};

/// Parses "是/否" cells.
pub fn parse_yes_no(s: &str) -> Option<bool> {
    match s.trim() {
        "是" | "Y" | "y" | "yes" | "1" | "√" | "true" => Some(true),
        "否" | "N" | "n" | "no" | "0" | "×" | "false" => Some(false),
        _ => None,
    }
}

/// Cleans an ID number as clerks type it into spreadsheets: full-width digits and `Ｘ`
/// become ASCII, spaces of any width and a leading apostrophe (Excel's "text" marker) are
/// dropped. Refuses a number that Excel turned into scientific notation, because its last
/// digits are already lost and only re-entering them as text can recover them.
pub fn normalize_id_input(s: &str) -> Result<String, String> {
    if already_clean(s.as_bytes()) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(18);
    for c in s.chars() {
        match c {
            '０'..='９' => out.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            'Ｘ' | 'ｘ' => out.push('X'),
            '\'' | '‘' | '’' if out.is_empty() => {}
            c if c.is_whitespace() || c == '\u{3000}' || c == '\u{feff}' => {}
            c => out.push(c),
        }
    }
    if looks_scientific(&out) {
        return Err(format!(
            "身份证号码被Excel存成了数字（{out}），后几位已经丢失：请把该列设置为“文本”格式后重新录入号码"
        ));
    }
    Ok(out)
}

/// Most numbers arrive clean: 17 digits and a digit or X, which the cleaning below would
/// leave as they are (a shortcut for the import's million rows).
fn already_clean(b: &[u8]) -> bool {
    b.len() == 18
        && b[..17].iter().all(u8::is_ascii_digit)
        && matches!(b[17], b'0'..=b'9' | b'X' | b'x')
}

fn looks_scientific(s: &str) -> bool {
    let up = s.to_ascii_uppercase();
    match up.split_once('E') {
        Some((m, e)) => {
            !m.is_empty()
                && m.chars().all(|c| c.is_ascii_digit() || c == '.')
                && m.contains('.')
                && e.trim_start_matches(['+', '-'])
                    .chars()
                    .all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Excel's day 0 (serials count from 1899-12-30 because of Lotus's 1900 leap-year bug).
fn excel_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1899, 12, 30).expect("valid date")
}

/// A date from an Excel serial day number (e.g. 45296 = 2024-01-05).
pub fn date_from_excel_serial(serial: f64) -> Option<NaiveDate> {
    if !(1.0..=2_958_465.0).contains(&serial) {
        return None;
    }
    excel_epoch().checked_add_signed(Duration::days(serial.trunc() as i64))
}

/// Parses the date spellings found in ledgers: `2024-01-05`, `2024/1/5`, `2024.1.5`,
/// `2024年1月5日`, `20240105`, and Excel serial numbers written as text (`45296`).
pub fn parse_flexible_date(s: &str) -> Option<NaiveDate> {
    let t: String = s
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            c => c,
        })
        .collect();
    // Excel sometimes hands us "2024-01-05 00:00:00".
    let t = t.split_once(' ').map(|(d, _)| d.to_string()).unwrap_or(t);
    if t.is_empty() {
        return None;
    }
    if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        let y = t[..4].parse().ok()?;
        let m = t[4..6].parse().ok()?;
        let d = t[6..].parse().ok()?;
        return NaiveDate::from_ymd_opt(y, m, d);
    }
    if (1..=7).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return date_from_excel_serial(t.parse().ok()?);
    }
    let parts: Vec<&str> = t
        .split(['-', '/', '.', '年', '月', '日'])
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() != 3 || parts[0].len() != 4 {
        return None;
    }
    NaiveDate::from_ymd_opt(
        parts[0].parse().ok()?,
        parts[1].parse().ok()?,
        parts[2].parse().ok()?,
    )
}

/// Full pinyin (lowercase, no tones or spaces) and initials of a name: 张三 → ("zhangsan",
/// "zs"). Characters without pinyin (Latin letters, digits, ·) are kept lowercased in both.
pub fn pinyin_keys(name: &str) -> (String, String) {
    use pinyin::ToPinyin;
    let mut full = String::new();
    let mut initials = String::new();
    for (c, p) in name.chars().zip(name.to_pinyin()) {
        match p {
            Some(p) => {
                // ü is typed as v on Chinese keyboards, so search keys use v.
                full.push_str(&p.plain().replace('ü', "v"));
                initials.push_str(p.first_letter());
            }
            None if c.is_ascii_alphanumeric() => {
                let l = c.to_ascii_lowercase();
                full.push(l);
                initials.push(l);
            }
            None => {}
        }
    }
    (full, initials)
}

/// Whether a search term is pinyin (ASCII letters only).
pub fn is_pinyin_query(q: &str) -> bool {
    !q.is_empty() && q.bytes().all(|b| b.is_ascii_alphabetic())
}

/// The last four characters of an ID number, for "后四位+姓名" search.
pub fn id_last4(id: &str) -> &str {
    &id[id.len().saturating_sub(4)..]
}

/// Masks a bank account: first 4 and last 4 digits.
pub fn mask_account(acc: &str) -> String {
    let chars: Vec<char> = acc.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let mut s: String = chars[..4].iter().collect();
    s.push_str(&"*".repeat(chars.len() - 8));
    s.extend(&chars[chars.len() - 4..]);
    s
}

/// A reasonable year for a date entered in a ledger.
pub fn plausible_date(d: NaiveDate, as_of: NaiveDate) -> bool {
    d.year() >= 1900 && d <= as_of
}

/// Whether two names are the same person's name as written (spaces aside, including the
/// full-width space clerks type between characters): a registered ID number that comes with
/// another name is an identity conflict, never a rename.
pub fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, dd).unwrap()
    }

    #[test]
    fn id_input_is_normalized() {
        assert_eq!(
            normalize_id_input("１１０１０５ １９４９１２３１００２ｘ").unwrap(),
            "11010519491231002X"
        );
        assert_eq!(
            normalize_id_input("'11010519491231002X").unwrap(),
            "11010519491231002X"
        );
        assert_eq!(
            normalize_id_input("\u{3000}110105194912310 02X ").unwrap(),
            "11010519491231002X"
        );
        let e = normalize_id_input("1.10105E+17").unwrap_err();
        assert!(e.contains("文本"), "{e}");
        assert!(normalize_id_input("1.1e17").is_err());
    }

    #[test]
    fn an_id_number_loses_spaces_a_byte_order_mark_and_a_leading_apostrophe_only() {
        let head = "11010519491231002X";
        assert_eq!(
            normalize_id_input("11010519491231002 ").unwrap(),
            "11010519491231002"
        );
        assert_eq!(
            normalize_id_input("\u{feff}11010519491231002X").unwrap(),
            head
        );
        assert_eq!(normalize_id_input("’11010519491231002X").unwrap(), head);
        // An apostrophe inside the number is not Excel's marker: it stays (and the number
        // is then refused as invalid).
        assert_eq!(
            normalize_id_input("110105'19491231002X").unwrap(),
            "110105'19491231002X"
        );
        assert_eq!(
            normalize_id_input("11010519491231002x").unwrap(),
            "11010519491231002x"
        );
    }

    #[test]
    fn only_a_decimal_mantissa_with_a_whole_exponent_reads_as_scientific_notation() {
        for scientific in ["1.10105E+17", "1.10105e17", "5.1E-3"] {
            assert!(normalize_id_input(scientific).is_err(), "{scientific}");
        }
        for not in ["E+17", "1a.5E+17", "110105E17", "1.1E+1a", "1.1", "abc"] {
            assert_eq!(normalize_id_input(not).as_deref(), Ok(not), "{not}");
        }
    }

    #[test]
    fn a_plausible_date_lies_between_1900_and_the_day_asked() {
        let as_of = d(2026, 12, 1);
        assert!(plausible_date(d(1900, 1, 1), as_of));
        assert!(plausible_date(as_of, as_of));
        assert!(!plausible_date(d(1899, 12, 31), as_of));
        assert!(!plausible_date(d(2026, 12, 2), as_of));
    }

    #[test]
    fn dates_in_all_ledger_spellings() {
        for s in [
            "2024-01-05",
            "2024/1/5",
            "2024年1月5日",
            "20240105",
            "2024.1.5",
            "45296",
            "2024-01-05 00:00:00",
            "２０２４年１月５日",
        ] {
            assert_eq!(parse_flexible_date(s), Some(d(2024, 1, 5)), "{s}");
        }
        // Only digits and a dot read as an Excel serial: "4.5e4" is no day 45000.
        for s in [
            "",
            "2024-13-01",
            "明天",
            "24/1/5",
            "2024-02-30",
            "4.5e4",
            "1e5",
        ] {
            assert_eq!(parse_flexible_date(s), None, "{s}");
        }
        assert_eq!(date_from_excel_serial(45296.0), Some(d(2024, 1, 5)));
        assert_eq!(date_from_excel_serial(-1.0), None);
    }

    #[test]
    fn pinyin_keys_for_search() {
        assert_eq!(pinyin_keys("张三"), ("zhangsan".into(), "zs".into()));
        assert_eq!(pinyin_keys("吕·A"), ("lva".into(), "la".into()));
        assert!(is_pinyin_query("zs"));
        assert!(!is_pinyin_query("张"));
    }

    #[test]
    fn masks_accounts() {
        assert_eq!(mask_account("6217001234567890"), "6217********7890");
        assert_eq!(mask_account("1234"), "****");
        assert_eq!(id_last4("11010519491231002X"), "002X");
    }
}
