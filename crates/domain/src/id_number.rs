//! 公民身份号码 — citizen ID number (GB 11643-1999 《公民身份号码》).
//!
//! The address code is deliberately *not* checked against a division list: it is the
//! county where the number was issued, which may since have been abolished.

use std::fmt;
use std::io::Write as _;

use chrono::{Datelike, NaiveDate};

/// ISO 7064 MOD 11-2 weights `2^(18-i) mod 11` for positions 1–17.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character indexed by `S mod 11`.
const CHECK_MAP: &[u8; 11] = b"10X98765432";
/// Anything longer is garbage, not a mistyped number; also bounds the echo in `check_line`.
const MAX_INPUT_LEN: usize = 64;
/// A structurally valid date like 0001-01-01 is still certainly a typo.
const MIN_BIRTH_YEAR: i32 = 1850;

/// 性别 — gender as encoded in the ID number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    /// "男" / "女".
    pub fn label(self) -> &'static str {
        match self {
            Gender::Male => "男",
            Gender::Female => "女",
        }
    }
}

/// Why an input is not a valid citizen ID number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("号码为空")]
    Empty,
    #[error("号码过长(超过64个字符)")]
    TooLong,
    #[error("含有全角字符、汉字等非ASCII字符")]
    NonAscii,
    #[error("含有控制字符")]
    ControlChar,
    #[error("长度应为18位(或15位旧号码)，实际为{0}位")]
    BadLength(usize),
    /// `pos` is 1-based.
    #[error("第{pos}位含有非法字符“{ch}”")]
    BadChar { pos: usize, ch: char },
    #[error("出生日期不是有效日期")]
    BadDate,
    #[error("出生年份早于1850年")]
    BirthYearTooEarly,
    #[error("出生日期晚于当前日期")]
    FutureDate,
    #[error("校验码错误，应为{expected}")]
    BadCheckDigit { expected: char },
}

/// A validated, normalised 18-character citizen ID number (uppercase `X`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdNumber(String);

impl IdNumber {
    /// Parses an 18-character number or upgrades a 15-character legacy one.
    ///
    /// Surrounding ASCII whitespace is ignored and a lowercase `x` is accepted. The birth
    /// date must be a real date no later than `as_of`.
    pub fn parse(input: &str, as_of: NaiveDate) -> Result<IdNumber, IdError> {
        let buf = validate(input.as_bytes(), as_of)?;
        // validate() only emits ASCII digits and 'X'.
        Ok(IdNumber(buf.iter().map(|&b| b as char).collect()))
    }

    /// Computes the check character for the first 17 characters (ASCII digits).
    /// `None` if `first17` is not exactly 17 ASCII digits.
    pub fn check_char(first17: &[u8]) -> Option<u8> {
        if first17.len() != 17 {
            return None;
        }
        let mut sum = 0u32;
        for (&b, &w) in first17.iter().zip(WEIGHTS.iter()) {
            if !b.is_ascii_digit() {
                return None;
            }
            sum += u32::from(b - b'0') * w;
        }
        Some(CHECK_MAP[(sum % 11) as usize])
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> NaiveDate {
        // The date was validated in parse(); the fallback is unreachable but keeps this panic-free.
        birth_date_of(self.0.as_bytes()).unwrap_or(NaiveDate::MIN)
    }

    /// 17th digit odd = male, even = female.
    pub fn gender(&self) -> Gender {
        gender_of(self.0.as_bytes())
    }

    /// Age in complete years (周岁) on `as_of`; the birthday itself counts.
    ///
    /// Someone born on 29 February turns a year older on 1 March in non-leap years (the
    /// convention used here; some offices use 28 February — rules needing that should not
    /// rely on this). Returns 0 if `as_of` is before the birth date.
    pub fn age_at(&self, as_of: NaiveDate) -> u32 {
        age_between(self.birth_date(), as_of)
    }

    /// 地址码 — the first six digits (issuing county).
    pub fn address_code(&self) -> &str {
        &self.0[..6]
    }

    /// Masked for display and logs (first 6 + last 4, as public notices show them), e.g.
    /// `110105********002X`.
    pub fn masked(&self) -> String {
        let mut s = String::with_capacity(18);
        s.push_str(&self.0[..6]);
        s.push_str("********");
        s.push_str(&self.0[14..]);
        s
    }
}

/// A stored ID number masked for display, notices and exports (first 6 + last 4, as
/// [`IdNumber::masked`]); anything that is not 18 ASCII characters (a header cell, a name
/// typed into the ID column) is masked whole, one star per character.
pub fn mask_id(id: &str) -> String {
    if id.len() == 18 && id.is_ascii() {
        format!("{}********{}", &id[..6], &id[14..])
    } else {
        "*".repeat(id.chars().count())
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for IdNumber {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Complete years from `birth` to `as_of`, with the Feb-29 → Mar-1 convention.
/// Before the birth the count is negative, which converts to 0.
fn age_between(birth: NaiveDate, as_of: NaiveDate) -> u32 {
    let mut years = as_of.year() - birth.year();
    let (bm, bd) = if birth.month() == 2 && birth.day() == 29 && !is_leap(as_of.year()) {
        (3, 1)
    } else {
        (birth.month(), birth.day())
    };
    if (as_of.month(), as_of.day()) < (bm, bd) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn digits(b: &[u8]) -> u32 {
    b.iter().fold(0, |acc, &d| acc * 10 + u32::from(d - b'0'))
}

/// Birth date from positions 7–14 of a normalised 18-byte number.
fn birth_date_of(n: &[u8]) -> Option<NaiveDate> {
    let year = i32::try_from(digits(&n[6..10])).ok()?;
    NaiveDate::from_ymd_opt(year, digits(&n[10..12]), digits(&n[12..14]))
}

fn gender_of(n: &[u8]) -> Gender {
    // ASCII `0` is even, so a digit's byte has the digit's parity.
    if n[16] % 2 == 1 {
        Gender::Male
    } else {
        Gender::Female
    }
}

/// The allocation-free core shared by `IdNumber::parse` and `check_line`.
fn validate(input: &[u8], as_of: NaiveDate) -> Result<[u8; 18], IdError> {
    let s = input.trim_ascii();
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > MAX_INPUT_LEN {
        return Err(IdError::TooLong);
    }
    if !s.is_ascii() {
        return Err(IdError::NonAscii);
    }
    if s.iter().any(|b| b.is_ascii_control()) {
        return Err(IdError::ControlChar);
    }
    let bad_char = |i: usize| IdError::BadChar {
        pos: i + 1,
        ch: s[i] as char,
    };
    let mut buf = [0u8; 18];
    let legacy = match s.len() {
        18 => {
            if let Some(i) = s[..17].iter().position(|b| !b.is_ascii_digit()) {
                return Err(bad_char(i));
            }
            let last = s[17].to_ascii_uppercase();
            if !(last.is_ascii_digit() || last == b'X') {
                return Err(bad_char(17));
            }
            buf.copy_from_slice(s);
            buf[17] = last;
            false
        }
        15 => {
            if let Some(i) = s.iter().position(|b| !b.is_ascii_digit()) {
                return Err(bad_char(i));
            }
            // Legacy numbers all predate 2000, so the century is always 19.
            buf[..6].copy_from_slice(&s[..6]);
            buf[6..8].copy_from_slice(b"19");
            buf[8..17].copy_from_slice(&s[6..]);
            true
        }
        n => return Err(IdError::BadLength(n)),
    };
    let birth = birth_date_of(&buf).ok_or(IdError::BadDate)?;
    if birth.year() < MIN_BIRTH_YEAR {
        return Err(IdError::BirthYearTooEarly);
    }
    if birth > as_of {
        return Err(IdError::FutureDate);
    }
    let expected = IdNumber::check_char(&buf[..17]).ok_or(IdError::BadDate)?;
    if legacy {
        buf[17] = expected;
    } else if buf[17] != expected {
        return Err(IdError::BadCheckDigit {
            expected: expected as char,
        });
    }
    Ok(buf)
}

/// Longest echo of the input in `check_line`, in characters.
const ECHO_MAX_CHARS: usize = 64;

/// One line of `minzheng id check`: appends exactly one TSV line ending in `\n` to `out`:
///
/// `input  valid|invalid  normalised  YYYY-MM-DD  男|女  reason`
///
/// `raw` is the line without its `\n`; one trailing `\r` is dropped. The echoed input is
/// made TSV-safe (invalid UTF-8 → U+FFFD; tab, backslash and control characters escaped
/// as `\t`, `\\`, `\x00`, `\u{85}`) and cut to 64 characters plus "…", so the output always
/// has exactly six fields. Never panics; does not allocate except to grow `out`.
pub fn check_line(raw: &[u8], as_of: NaiveDate, out: &mut Vec<u8>) {
    let line = raw.strip_suffix(b"\r").unwrap_or(raw);
    write_echo(line, out);
    out.push(b'\t');
    match validate(line, as_of) {
        Ok(n) => {
            out.extend_from_slice(b"valid\t");
            out.extend_from_slice(&n);
            out.push(b'\t');
            out.extend_from_slice(&n[6..10]);
            out.push(b'-');
            out.extend_from_slice(&n[10..12]);
            out.push(b'-');
            out.extend_from_slice(&n[12..14]);
            out.push(b'\t');
            out.extend_from_slice(gender_of(&n).label().as_bytes());
            out.extend_from_slice(b"\t\n");
        }
        Err(e) => {
            out.extend_from_slice(b"invalid\t\t\t\t");
            // Writing to a Vec cannot fail; error messages contain no tabs or newlines.
            let _ = write!(out, "{e}");
            out.push(b'\n');
        }
    }
}

fn write_echo(line: &[u8], out: &mut Vec<u8>) {
    let plain = |b: &u8| (0x20..0x7f).contains(b) && *b != b'\\';
    if line.len() <= ECHO_MAX_CHARS && line.iter().all(plain) {
        out.extend_from_slice(line);
        return;
    }
    let mut count = 0usize;
    for chunk in line.utf8_chunks() {
        let invalid = (!chunk.invalid().is_empty()).then_some(char::REPLACEMENT_CHARACTER);
        for c in chunk.valid().chars().chain(invalid) {
            if count == ECHO_MAX_CHARS {
                out.extend_from_slice("…".as_bytes());
                return;
            }
            push_escaped(c, out);
            count += 1;
        }
    }
}

fn push_escaped(c: char, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match c {
        '\t' => out.extend_from_slice(b"\\t"),
        '\n' => out.extend_from_slice(b"\\n"),
        '\r' => out.extend_from_slice(b"\\r"),
        '\\' => out.extend_from_slice(b"\\\\"),
        c if c.is_ascii_control() => {
            let b = c as u8;
            out.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0xf)],
            ]);
        }
        // C1 controls and the Unicode line/paragraph separators would break lines in some tools.
        c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => {
            let mut tmp = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn today() -> NaiveDate {
        d(2026, 3, 15)
    }

    fn p(s: &str) -> Result<IdNumber, IdError> {
        IdNumber::parse(s, today())
    }

    #[test]
    fn masking_keeps_six_and_four_of_an_id_and_hides_any_other_text_whole() {
        assert_eq!(mask_id("11010519491231002X"), "110105********002X");
        // Eighteen bytes of Chinese (a header typed into the ID column) is not an ID number.
        assert_eq!(mask_id("户主身份证号"), "******");
        assert_eq!(mask_id("12345"), "*****");
    }

    fn line(raw: &[u8]) -> String {
        let mut out = Vec::new();
        check_line(raw, today(), &mut out);
        String::from_utf8(out).unwrap()
    }

    fn assert_one_line_six_fields(s: &str) {
        assert!(s.ends_with('\n'), "{s:?}");
        assert_eq!(s.matches('\n').count(), 1, "{s:?}");
        assert_eq!(s.trim_end_matches('\n').split('\t').count(), 6, "{s:?}");
    }

    #[test]
    fn standard_vectors() {
        let n = p("11010519491231002X").unwrap();
        assert_eq!(n.as_str(), "11010519491231002X");
        assert_eq!(n.birth_date(), d(1949, 12, 31));
        assert_eq!(n.gender(), Gender::Female);
        assert_eq!(n.address_code(), "110105");
        assert_eq!(n.masked(), "110105********002X");
        assert_eq!(n.to_string(), "11010519491231002X");
        assert_eq!(p("11010519491231002x").unwrap(), n);
        assert_eq!(p("  11010519491231002x\t").unwrap(), n);
        let m = p("110101202311012176").unwrap();
        assert_eq!(m.gender(), Gender::Male);
        assert_eq!(
            p("110101202311012171"),
            Err(IdError::BadCheckDigit { expected: '6' })
        );
        assert_eq!(
            p("110101202311012171").unwrap_err().to_string(),
            "校验码错误，应为6"
        );
    }

    #[test]
    fn legacy_upgrade() {
        let n = p("110105491231002").unwrap();
        assert_eq!(n.as_str(), "11010519491231002X");
        assert_eq!(n.gender(), Gender::Female);
        assert!(matches!(
            p("1101054912310A2"),
            Err(IdError::BadChar { pos: 14, .. })
        ));
    }

    #[test]
    fn dates() {
        // Build valid check chars so only the date can be at fault.
        let make = |first17: &str| {
            let c = IdNumber::check_char(first17.as_bytes()).unwrap() as char;
            format!("{first17}{c}")
        };
        assert_eq!(p(&make("11010520270101001")), Err(IdError::FutureDate));
        assert_eq!(p(&make("11010520260316001")), Err(IdError::FutureDate));
        assert!(p(&make("11010520260315001")).is_ok());
        assert_eq!(p(&make("11010519900230001")), Err(IdError::BadDate));
        assert_eq!(p(&make("11010519901301001")), Err(IdError::BadDate));
        assert_eq!(
            p(&make("11010500010101001")),
            Err(IdError::BirthYearTooEarly)
        );
        assert!(p(&make("11010520000229001")).is_ok());
        assert_eq!(p(&make("11010519000229001")), Err(IdError::BadDate));
        // The earliest birth year taken is 1850.
        assert!(p(&make("11010518500101001")).is_ok());
        assert_eq!(
            p(&make("11010518491231001")),
            Err(IdError::BirthYearTooEarly)
        );
    }

    #[test]
    fn garbage_errors() {
        assert_eq!(p(""), Err(IdError::Empty));
        assert_eq!(p(" \t "), Err(IdError::Empty));
        assert_eq!(p(&"1".repeat(65)), Err(IdError::TooLong));
        assert_eq!(p(&"1".repeat(64)), Err(IdError::BadLength(64)));
        assert_eq!(
            p("１１０１０５１９４９１２３１００２Ｘ"),
            Err(IdError::NonAscii)
        );
        assert_eq!(p("1101051949\t1231002X"), Err(IdError::ControlChar));
        assert_eq!(p("1101051949123100"), Err(IdError::BadLength(16)));
        assert!(matches!(
            p("1101051949123100YX"),
            Err(IdError::BadChar { pos: 17, ch: 'Y' })
        ));
        assert!(matches!(
            p("11010519491231002Y"),
            Err(IdError::BadChar { pos: 18, .. })
        ));
    }

    #[test]
    fn age_boundaries() {
        let n = p("11010519491231002X").unwrap();
        assert_eq!(n.age_at(d(2029, 12, 30)), 79);
        assert_eq!(n.age_at(d(2029, 12, 31)), 80);
        assert_eq!(n.age_at(d(1949, 12, 31)), 0);
        assert_eq!(n.age_at(d(1940, 1, 1)), 0);
        let leap = d(2000, 2, 29);
        assert_eq!(age_between(leap, d(2001, 2, 28)), 0);
        assert_eq!(age_between(leap, d(2001, 3, 1)), 1);
        assert_eq!(age_between(leap, d(2004, 2, 28)), 3);
        assert_eq!(age_between(leap, d(2004, 2, 29)), 4);
        // Only a 29 February birthday moves to 1 March in a common year.
        assert_eq!(age_between(d(1990, 3, 29), d(2023, 3, 15)), 32);
        assert_eq!(age_between(d(1990, 3, 29), d(2023, 3, 29)), 33);
        assert_eq!(age_between(d(1990, 2, 10), d(2023, 2, 20)), 33);
        assert_eq!(age_between(d(1990, 2, 28), d(2023, 2, 28)), 33);
        // Before the birth there is no age.
        assert_eq!(age_between(d(2000, 6, 1), d(2000, 5, 31)), 0);
        assert_eq!(age_between(d(2000, 6, 1), d(1999, 7, 1)), 0);
    }

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        for (year, leap) in [
            (2023, false),
            (2024, true),
            (1900, false),
            (2100, false),
            (2000, true),
            (1600, true),
            (1996, true),
            (2002, false),
        ] {
            assert_eq!(is_leap(year), leap, "{year}");
        }
        // A 29 February birthday is counted on the day itself in a leap year (2100 is not).
        let leap = d(2096, 2, 29);
        assert_eq!(age_between(leap, d(2100, 2, 28)), 3);
        assert_eq!(age_between(leap, d(2100, 3, 1)), 4);
        assert_eq!(age_between(d(1996, 2, 29), d(2000, 2, 29)), 4);
        assert_eq!(age_between(d(1996, 2, 29), d(2000, 2, 28)), 3);
    }

    #[test]
    fn check_line_valid_and_invalid() {
        assert_eq!(
            line(b"11010519491231002x\r"),
            "11010519491231002x\tvalid\t11010519491231002X\t1949-12-31\t女\t\n"
        );
        assert_eq!(
            line(b"110101202311012171"),
            "110101202311012171\tinvalid\t\t\t\t校验码错误，应为6\n"
        );
    }

    #[test]
    fn check_line_garbage() {
        let long = "9".repeat(10_000);
        let cases: Vec<&[u8]> = vec![
            b"",
            b"\t\t",
            b"\xff\xfe1101\x80",
            long.as_bytes(),
            b"1101\x0005194912",
            b"a\\b\nc\r\r",
            "１１０\u{85}\u{2028}".as_bytes(),
        ];
        for c in cases {
            let s = line(c);
            assert_one_line_six_fields(&s);
            assert!(s.contains("\tinvalid\t"), "{s:?}");
        }
        assert!(line(b"\t\t").starts_with("\\t\\t\tinvalid"));
        assert!(line(b"\xffx").starts_with("\u{FFFD}x\t"));
        assert!(line(b"1\x002").starts_with("1\\x002\t"));
        // A backslash is doubled, even alone, so the echo reads back unambiguously.
        assert!(
            line(b"\\").starts_with("\\\\\tinvalid"),
            "{:?}",
            line(b"\\")
        );
        assert!(line(b"a\\b").starts_with("a\\\\b\t"));
        // C1 controls and the line and paragraph separators are written as escapes.
        for (c, escaped) in [
            ("\u{85}", "\\u{85}"),
            ("\u{2028}", "\\u{2028}"),
            ("\u{2029}", "\\u{2029}"),
        ] {
            let s = line(format!("1{c}2").as_bytes());
            assert!(s.starts_with(&format!("1{escaped}2\t")), "{s:?}");
        }
        let s = line(long.as_bytes());
        assert!(s.starts_with(&format!("{}…\tinvalid", "9".repeat(64))));
        assert!(s.ends_with("号码过长(超过64个字符)\n"));
    }

    fn valid_number() -> impl Strategy<Value = (String, NaiveDate, u32)> {
        (
            100_000u32..=999_999,
            1900i32..=2026,
            1u32..=12,
            1u32..=31,
            0u32..=999,
        )
            .prop_filter_map("real past date", |(addr, y, m, day, seq)| {
                let birth = NaiveDate::from_ymd_opt(y, m, day)?;
                if birth > today() {
                    return None;
                }
                let first17 = format!("{addr:06}{y:04}{m:02}{day:02}{seq:03}");
                let c = IdNumber::check_char(first17.as_bytes())? as char;
                Some((format!("{first17}{c}"), birth, seq))
            })
    }

    proptest! {
        #[test]
        fn constructed_numbers_parse((s, birth, seq) in valid_number()) {
            let n = p(&s).unwrap();
            prop_assert_eq!(n.as_str(), s.as_str());
            prop_assert_eq!(n.birth_date(), birth);
            let g = if seq % 2 == 1 { Gender::Male } else { Gender::Female };
            prop_assert_eq!(n.gender(), g);
            prop_assert_eq!(p(&n.to_string()).unwrap(), n);
        }

        #[test]
        fn single_char_change_is_invalid(
            (s, _, _) in valid_number(), pos in 0usize..18, delta in 1u8..=10,
        ) {
            let mut b = s.into_bytes();
            // Cycle through the 11 check symbols 0-9,X so every replacement differs.
            let sym = |v: u8| if v == 10 { b'X' } else { b'0' + v };
            let cur = if b[pos] == b'X' { 10 } else { b[pos] - b'0' };
            let new = (cur + delta) % 11;
            if pos < 17 && new == 10 {
                return Ok(()); // an X inside is a BadChar, trivially invalid
            }
            b[pos] = sym(new);
            let changed = String::from_utf8(b).unwrap();
            prop_assert!(p(&changed).is_err(), "{}", changed);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = p(&s);
        }

        #[test]
        fn parse_never_panics_digits(s in "[0-9xX ]{0,20}") {
            let _ = p(&s);
        }

        #[test]
        fn check_line_always_six_fields(raw in proptest::collection::vec(any::<u8>(), 0..200)) {
            let raw: Vec<u8> = raw.into_iter().filter(|&b| b != b'\n').collect();
            let mut out = Vec::new();
            check_line(&raw, today(), &mut out);
            let s = String::from_utf8(out).unwrap();
            assert_one_line_six_fields(&s);
        }
    }
}
