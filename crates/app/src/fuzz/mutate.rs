//! Making new inputs out of old ones: byte-level mutations for any input, and mutations
//! that know the shape of text fields, CSV files, urlencoded forms and xlsx archives.

use std::io::{Cursor, Read, Write};

/// A small, fast, seedable generator (SplitMix64): runs are reproducible from their seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// What clerks, spreadsheets and attackers put into fields: full-width digits and letters,
/// Chinese date words, separators, invisible characters, formula starters, huge and
/// negative numbers, markup, and the odd broken byte.
pub const TOKENS: &[&str] = &[
    "0",
    "1",
    "9",
    "X",
    "x",
    "-",
    "+",
    "=",
    "@",
    "%",
    ".",
    "..",
    ",",
    "/",
    "\\",
    ":",
    ";",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\"",
    "'",
    "０",
    "９",
    "Ｘ",
    "．",
    "－",
    "／",
    "年",
    "月",
    "日",
    "元",
    "万",
    "￥",
    "¥",
    "，",
    "。",
    "\u{3000}",
    "\u{feff}",
    "\u{200b}",
    "\u{202e}",
    "\u{0}",
    "\u{301}",
    "😀",
    "𠀀",
    "e",
    "E",
    "e308",
    "1e309",
    "NaN",
    "inf",
    "-0",
    "00",
    "000000",
    "2147483648",
    "-2147483649",
    "9223372036854775807",
    "18446744073709551616",
    "99999999999999999999999999",
    "0.000000001",
    "1/3",
    "2026",
    "1900",
    "9999",
    "0000",
    "02-30",
    "13",
    "32",
    "2026-02-29",
    "2024-02-29",
    "20260631",
    "2026年2月30日",
    "46000",
    "-46000",
    "&amp;",
    "&#0;",
    "&#xD800;",
    "<",
    ">",
    "]]>",
    "<t>",
    "</t>",
    "<![CDATA[",
    "%",
    "%FF",
    "%E4%B8",
    "%00",
    "&",
    "=&=",
    "+%2B",
    "是",
    "否",
    "true",
    "null",
    "{}",
    "[]",
    "{\"type\":\"amount\",\"value\":1}",
    "合计",
    "成功",
    "失败",
    "退票",
    "身份证号码",
    "姓名",
    "110101199003070012",
    "11010119900307001X",
    "110101900307001",
    "511802001001",
    "91350100M000100Y43",
    "=HYPERLINK(\"x\")",
    "@SUM(A1)",
];

const SPECIAL_CHARS: &[char] = &[
    '０', '１', '９', 'Ｘ', 'ｘ', '年', '月', '日', '-', '/', '.', ' ', '\u{3000}', '\t',
    '\u{200b}', '\u{feff}', '=', '+', '@', ',', '"', '\r', '\n', '\u{0}', '\u{301}', '😀', '𠀀',
    'é', 'Ⅸ', '½', '٣', '\u{202e}', '\u{ffff}',
];

const MAX_LEN: usize = 256 * 1024;

/// One byte-level change: flip, set, insert, delete, duplicate, splice with another input,
/// insert a token, truncate, or repeat a piece.
pub fn bytes(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    let len = data.len();
    match rng.below(11) {
        0 if len > 0 => {
            let i = rng.below(len);
            data[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            data[i] = *rng.pick(&[
                0, 0xFF, 0x7F, 0x80, b'0', b'9', b',', b'"', b'\n', b'<', 0xE4,
            ]);
        }
        2 => {
            let i = rng.below(len + 1);
            let n = 1 + rng.below(8);
            let ins: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            data.splice(i..i, ins);
        }
        3 if len > 0 => {
            let i = rng.below(len);
            let n = 1 + rng.below((len - i).min(64));
            data.drain(i..i + n);
        }
        4 if len > 0 => {
            let i = rng.below(len);
            let n = 1 + rng.below((len - i).min(256));
            let piece = data[i..i + n].to_vec();
            let at = rng.below(data.len() + 1);
            data.splice(at..at, piece);
        }
        5 if !other.is_empty() => {
            let i = rng.below(other.len());
            let n = 1 + rng.below((other.len() - i).min(512));
            let at = rng.below(len + 1);
            let end = (at + rng.below(64)).min(len);
            data.splice(at..end, other[i..i + n].iter().copied());
        }
        6 | 7 => {
            let t = rng.pick(TOKENS).as_bytes();
            let at = rng.below(len + 1);
            let end = if rng.chance(2) {
                (at + rng.below(8)).min(len)
            } else {
                at
            };
            data.splice(at..end, t.iter().copied());
        }
        8 if len > 1 => data.truncate(rng.below(len)),
        9 if len > 0 => {
            let i = rng.below(len);
            let n = 1 + rng.below((len - i).min(32));
            let piece = data[i..i + n].to_vec();
            let most = if rng.chance(8) { 2000 } else { 16 };
            let times = 1 + rng.below(most);
            let at = rng.below(data.len() + 1);
            data.splice(at..at, piece.repeat(times));
        }
        _ => {
            if len > 0 {
                let i = rng.below(len);
                data[i] = data[i].wrapping_add(1 + rng.below(3) as u8);
            }
        }
    }
    data.truncate(MAX_LEN);
}

/// Several byte-level changes (stacked, as most fuzzers do).
pub fn havoc(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    for _ in 0..1 + rng.below(6) {
        bytes(rng, data, other);
    }
}

/// A change to text that keeps it text: a character replaced by, or inserted as, one that
/// clerks type by accident (full-width digits, date words, invisible spaces), a token, a
/// case change, or a cut.
pub fn text(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    for _ in 0..1 + rng.below(3) {
        let n = chars.len();
        match rng.below(7) {
            0 if n > 0 => chars[rng.below(n)] = *rng.pick(SPECIAL_CHARS),
            1 => chars.insert(rng.below(n + 1), *rng.pick(SPECIAL_CHARS)),
            2 => {
                let at = rng.below(n + 1);
                let t: Vec<char> = rng.pick(TOKENS).chars().collect();
                chars.splice(at..at, t);
            }
            3 if n > 0 => {
                let i = rng.below(n);
                chars.drain(i..(i + 1 + rng.below(4)).min(n));
            }
            4 if n > 0 => {
                let i = rng.below(n);
                chars[i] = if chars[i].is_ascii_digit() {
                    char::from(b'0' + rng.below(10) as u8)
                } else {
                    chars[i].to_ascii_uppercase()
                };
            }
            5 if n > 0 => {
                // Full-width the whole field, as a Chinese input method does.
                chars = chars
                    .iter()
                    .map(|c| match c {
                        '0'..='9' | 'A'..='Z' | 'a'..='z' => {
                            char::from_u32(*c as u32 - 0x21 + 0xFF01).unwrap_or(*c)
                        }
                        _ => *c,
                    })
                    .collect();
            }
            _ => {
                if n > 0 && rng.chance(2) {
                    chars.truncate(rng.below(n));
                } else {
                    chars.push(*rng.pick(SPECIAL_CHARS));
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// A new value for a text field: a token, a value from `values`, or a change to either.
pub fn field(rng: &mut Rng, current: &str, values: &[&str]) -> String {
    match rng.below(5) {
        0 => rng.pick(TOKENS).to_string(),
        1 if !values.is_empty() => rng.pick(values).to_string(),
        2 if !values.is_empty() => {
            let v = rng.pick(values).to_string();
            text(rng, &v)
        }
        3 => String::new(),
        _ => text(rng, current),
    }
}

/// A change to a CSV file that keeps its rows: a cell replaced, a row repeated or dropped,
/// columns swapped or dropped, the header's titles varied, the separator or quoting
/// changed, the whole file re-encoded as GBK or given a BOM.
pub fn csv(rng: &mut Rng, data: &[u8], values: &[&str]) -> Vec<u8> {
    let Ok(text_in) = std::str::from_utf8(data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data))
    else {
        let mut d = data.to_vec();
        havoc(rng, &mut d, &[]);
        return d;
    };
    let mut rows: Vec<Vec<String>> = text_in
        .lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    if rows.is_empty() {
        rows.push(vec![String::new()]);
    }
    for _ in 0..1 + rng.below(3) {
        let r = rng.below(rows.len());
        match rng.below(8) {
            0..=2 => {
                let c = rng.below(rows[r].len().max(1));
                if let Some(cell) = rows[r].get_mut(c) {
                    *cell = field(rng, cell, values);
                }
            }
            3 => {
                let row = rows[r].clone();
                let most = if rng.chance(10) { 500 } else { 3 };
                for _ in 0..1 + rng.below(most) {
                    rows.push(row.clone());
                }
            }
            4 if rows.len() > 1 => {
                rows.remove(r);
            }
            5 => {
                let width = rows[0].len().max(1);
                let (a, b) = (rng.below(width), rng.below(width));
                for row in &mut rows {
                    if a < row.len() && b < row.len() {
                        row.swap(a, b);
                    }
                }
            }
            6 => {
                let c = rng.below(rows[0].len().max(1));
                for row in &mut rows {
                    if c < row.len() {
                        row.remove(c);
                    }
                }
            }
            _ => {
                let c = rng.below(rows[r].len().max(1));
                if let Some(cell) = rows[r].get_mut(c) {
                    *cell = format!("\"{}\"", cell.replace('"', "\"\""));
                }
            }
        }
    }
    let sep = if rng.chance(12) {
        *rng.pick(&["\t", ";", "，"])
    } else {
        ","
    };
    let eol = if rng.chance(4) { "\r\n" } else { "\n" };
    let body = rows
        .iter()
        .map(|r| r.join(sep))
        .collect::<Vec<_>>()
        .join(eol);
    match rng.below(6) {
        0 => encoding_rs::GBK.encode(&body).0.into_owned(),
        1 => [b"\xEF\xBB\xBF".as_slice(), body.as_bytes()].concat(),
        _ => body.into_bytes(),
    }
}

/// A change to an urlencoded form body (`a=1&b=2`): a value replaced or mutated, a field
/// dropped, repeated or made up, a value percent-encoded with broken UTF-8.
pub fn form(rng: &mut Rng, body: &str, keys: &[&str], values: &[&str]) -> String {
    let mut pairs: Vec<(String, String)> = body
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (p.to_string(), String::new()),
        })
        .collect();
    for _ in 0..1 + rng.below(3) {
        let n = pairs.len();
        match rng.below(7) {
            0..=2 if n > 0 => {
                let i = rng.below(n);
                let v = field(rng, &decode(&pairs[i].1), values);
                pairs[i].1 = encode(&v);
            }
            3 if n > 0 => {
                pairs.remove(rng.below(n));
            }
            4 if n > 0 => {
                let p = pairs[rng.below(n)].clone();
                pairs.push(p);
            }
            5 => {
                let k = if keys.is_empty() || rng.chance(4) {
                    rng.pick(TOKENS).to_string()
                } else {
                    rng.pick(keys).to_string()
                };
                let v = field(rng, "", values);
                pairs.push((encode(&k), encode(&v)));
            }
            _ if n > 0 => {
                let i = rng.below(n);
                let tails = ["%FF", "%E4%B8", "%", "%0", "+", "%2B", "%00"];
                let tail = *rng.pick(&tails);
                pairs[i].1.push_str(tail);
            }
            _ => {}
        }
    }
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes a form value (every byte outside unreserved ASCII).
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The parts of an xlsx (zip) archive, in order; `None` if it is not one we can read.
pub fn unzip(data: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let mut z = zip::ZipArchive::new(Cursor::new(data)).ok()?;
    let mut parts = Vec::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).ok()?;
        let mut buf = Vec::new();
        f.by_ref().take(4 << 20).read_to_end(&mut buf).ok()?;
        parts.push((f.name().ok()?.into_owned(), buf));
    }
    Some(parts)
}

/// Packs parts into a zip archive, stored (fast) or deflated.
pub fn zip_parts(parts: &[(String, Vec<u8>)], deflate: bool) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let method = if deflate {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    let opts = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, data) in parts {
        if w.start_file(name.as_str(), opts).is_err() || w.write_all(data).is_err() {
            break;
        }
    }
    w.finish().map(|c| c.into_inner()).unwrap_or_default()
}

/// A change to a workbook made inside its archive: one part (most often the sheet or the
/// shared strings) changed as XML (an element repeated, a cell reference or shared-string
/// index made far, a value replaced) or as bytes, parts dropped or repeated, then zipped
/// again so that the spreadsheet reader gets past the archive to the XML.
pub fn xlsx(rng: &mut Rng, parts: &[(String, Vec<u8>)], values: &[&str]) -> Vec<u8> {
    let mut parts = parts.to_vec();
    for _ in 0..1 + rng.below(2) {
        if parts.is_empty() {
            break;
        }
        let i = match parts
            .iter()
            .position(|(n, _)| n.contains("sheet1") || n.contains("sharedStrings"))
        {
            Some(p) if rng.chance(2) => {
                // The sheet or the shared strings, whichever comes.
                let others: Vec<usize> = (0..parts.len())
                    .filter(|&j| {
                        parts[j].0.contains("worksheets/") || parts[j].0.contains("sharedStrings")
                    })
                    .collect();
                if others.is_empty() {
                    p
                } else {
                    *rng.pick(&others)
                }
            }
            _ => rng.below(parts.len()),
        };
        match rng.below(6) {
            0 => xml_repeat(rng, &mut parts[i].1),
            1 => xml_attr(rng, &mut parts[i].1),
            2 => xml_text(rng, &mut parts[i].1, values),
            3 if parts.len() > 1 && rng.chance(4) => {
                parts.remove(i);
            }
            4 if rng.chance(4) => {
                let p = parts[i].clone();
                parts.push(p);
            }
            _ => havoc(rng, &mut parts[i].1, &[]),
        }
    }
    let mut out = zip_parts(&parts, rng.chance(8));
    if rng.chance(20) {
        bytes(rng, &mut out, &[]);
    }
    out
}

/// Repeats one element (from `<` to its matching-looking close) a few or many times.
fn xml_repeat(rng: &mut Rng, part: &mut Vec<u8>) {
    let opens: Vec<usize> = memchr::memchr_iter(b'<', part).collect();
    if opens.len() < 2 {
        return;
    }
    let a = *rng.pick(&opens);
    let Some(b) = opens.iter().copied().find(|&o| o > a + 1 + rng.below(200)) else {
        return;
    };
    let piece = part[a..b].to_vec();
    let most = if rng.chance(6) { 3000 } else { 4 };
    let times = 1 + rng.below(most);
    let at = if rng.chance(2) { b } else { a };
    part.splice(at..at, piece.repeat(times));
    part.truncate(MAX_LEN * 8);
}

/// Changes a quoted attribute value: a far cell reference, a huge or negative number, a
/// type letter, or text.
fn xml_attr(rng: &mut Rng, part: &mut Vec<u8>) {
    let quotes: Vec<usize> = memchr::memchr_iter(b'"', part).collect();
    if quotes.len() < 2 {
        return;
    }
    let k = rng.below(quotes.len() - 1);
    let (a, b) = (quotes[k] + 1, quotes[k + 1]);
    let v = *rng.pick(&[
        "XFD1048576",
        "A0",
        "ZZZZ1",
        "A4294967296",
        "A1",
        "B2",
        "-1",
        "4294967295",
        "99999999",
        "s",
        "str",
        "inlineStr",
        "b",
        "e",
        "n",
        "d",
        "1:16384",
        "A1:XFD1048576",
        "",
        "0",
    ]);
    part.splice(a..b, v.bytes());
}

/// Replaces the text between two tags with a value, a token, or a mutated copy.
fn xml_text(rng: &mut Rng, part: &mut Vec<u8>, values: &[&str]) {
    let closes: Vec<usize> = memchr::memchr_iter(b'>', part).collect();
    if closes.is_empty() {
        return;
    }
    let a = rng.pick(&closes) + 1;
    let Some(b) = memchr::memchr(b'<', &part[a..]).map(|o| a + o) else {
        return;
    };
    let current = String::from_utf8_lossy(&part[a..b]).into_owned();
    let v = field(rng, &current, values)
        .replace('&', "&amp;")
        .replace('<', "&lt;");
    part.splice(a..b, v.into_bytes());
}
