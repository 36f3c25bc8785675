//! A byte-level scan of XML in constant memory: nesting depth, the length of every text,
//! tag, comment and processing instruction, each cell's and shared string's text, and the
//! counts the spreadsheet library turns into memory (shared strings, styles, sheets, rows).
//! It lexes as the library's XML reader does (quotes inside tags, comments, CDATA), so what
//! it measures is what that reader would buffer.

use std::collections::HashSet;

use super::{clip, over, size_text, InputLimits, Refused};

/// Bytes of a tag kept to read its name and attributes (relationship parts must fit whole).
const TAG_CAPTURE: usize = 4096;
/// The longest tag of a relationship part (`.rels`): relationship targets are paths and links.
pub(super) const RELS_TAG_BYTES: u64 = 4096;
/// The longest tag of the style sheet: each cell format keeps a copy of its font and number
/// format, so their names must stay short.
pub(super) const STYLE_TAG_BYTES: u64 = 1024;
/// Text of all defined names together (the library keeps each).
const DEFINED_NAME_BYTES: u64 = 1 << 20;

/// Counts over all parts of one workbook.
#[derive(Debug, Default)]
pub(super) struct Totals {
    pub shared_strings: u64,
    pub shared_string_bytes: u64,
    pub styles: u64,
    pub sheets: u64,
    pub defined_name_bytes: u64,
    /// File names (lower case, without folders) that relationships name as the workbook or
    /// a sheet: the parts the library will parse as XML whatever their names.
    pub referenced: HashSet<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    /// Just after `<`.
    Open,
    StartTag,
    EndTag,
    /// After `<!`, deciding between a comment, CDATA and a declaration.
    Bang,
    Comment,
    CData,
    Pi,
    /// Another `<!…>` declaration.
    Decl,
}

/// The scan of one part.
pub(super) struct XmlScan<'a> {
    limits: &'a InputLimits,
    totals: &'a mut Totals,
    /// The part's name, for messages.
    part: &'a str,
    tag_limit: u64,
    state: State,
    /// Length of the current text, tag, comment or instruction.
    run: u64,
    depth: u64,
    rows: u64,
    tag: Vec<u8>,
    quote: u8,
    prev: u8,
    /// The last two bytes of a comment, CDATA or instruction (to find its end).
    tail: [u8; 2],
    in_cell: bool,
    cell_bytes: u64,
    cell_ref: String,
    in_si: bool,
    si_bytes: u64,
    in_defined_name: bool,
    references: ReferenceWatch,
}

/// The local name of an element (`x:c` → `c`).
fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// The element name at the start of a captured tag.
fn tag_name(tag: &[u8]) -> &[u8] {
    let end = tag
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b == b'/' || b == b'>')
        .unwrap_or(tag.len());
    &tag[..end]
}

/// An attribute's raw value in a captured start tag (matched by local name).
pub(super) fn attr<'t>(tag: &'t [u8], key: &str) -> Option<&'t [u8]> {
    let mut i = tag_name(tag).len();
    while i < tag.len() {
        while i < tag.len() && (tag[i].is_ascii_whitespace() || tag[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < tag.len() && tag[i] != b'=' && !tag[i].is_ascii_whitespace() {
            i += 1;
        }
        let name = &tag[start..i];
        while i < tag.len() && tag[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= tag.len() || tag[i] != b'=' {
            if i == start {
                i += 1;
            }
            continue;
        }
        i += 1;
        while i < tag.len() && tag[i].is_ascii_whitespace() {
            i += 1;
        }
        let Some(&q) = tag.get(i).filter(|&&q| q == b'"' || q == b'\'') else {
            continue;
        };
        let vstart = i + 1;
        let vend = tag[vstart..]
            .iter()
            .position(|&b| b == q)
            .map_or(tag.len(), |p| vstart + p);
        if local(name) == key.as_bytes() {
            return Some(&tag[vstart..vend]);
        }
        i = vend + 1;
    }
    None
}

/// Excel's sheet: columns A..XFD, rows 1..1,048,576.
const SHEET_COLUMNS: u64 = 16_384;
const SHEET_ROWS: u64 = 1_048_576;

/// A cell reference's (column, row) as the spreadsheet library reads it — letters, then
/// digits, up to the first other byte — or `None` when it has more letters or digits than
/// any sheet (which would overflow the library's arithmetic) or lies beyond the sheet.
fn position(part: &[u8]) -> Option<(u64, u64)> {
    let letters = part.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let digits = part[letters..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if letters > 3 || digits > 7 {
        return None;
    }
    let column = part[..letters].iter().fold(0u64, |c, b| {
        c * 26 + u64::from(b.to_ascii_uppercase() - b'A') + 1
    });
    let row = part[letters..letters + digits]
        .iter()
        .fold(0u64, |r, b| r * 10 + u64::from(b - b'0'));
    (column <= SHEET_COLUMNS && row <= SHEET_ROWS).then_some((column, row))
}

/// Whether a cell reference or range (`C7`, `A1:XFD1048576`, a row number) stays inside
/// Excel's sheet, a range from its first cell to its last (the library subtracts one from
/// the other). A reference of another shape is left to the library, which refuses it.
fn within_sheet(v: &[u8]) -> bool {
    let parts: Option<Vec<(u64, u64)>> = v.split(|&b| b == b':').map(position).collect();
    match parts.as_deref() {
        None => false,
        Some([(c0, r0), (c1, r1)]) => c1 >= c0 && r1 >= r0,
        Some(_) => true,
    }
}

/// What follows an `=` in a part's bytes.
enum AttrAt<'w> {
    /// The quoted value of an `r` or `ref` attribute (at most its first 64 bytes).
    Reference(&'w [u8]),
    /// The bytes end before the value does.
    Incomplete,
    /// Anything else.
    Other,
}

/// Whether the `=` at `p` in `w` belongs to an `r=` or `ref=` attribute, and its value.
fn attr_at(w: &[u8], p: usize) -> AttrAt<'_> {
    let mut e = p;
    while e > 0 && p - e < 8 && w[e - 1].is_ascii_whitespace() {
        e -= 1;
    }
    let named = |name: &[u8]| {
        e > name.len()
            && &w[e - name.len()..e] == name
            && w[e - name.len() - 1].is_ascii_whitespace()
    };
    if !named(b"r") && !named(b"ref") {
        return AttrAt::Other;
    }
    let mut v = p + 1;
    while v < w.len() && v - p <= 8 && w[v].is_ascii_whitespace() {
        v += 1;
    }
    let Some(&q) = w.get(v) else {
        return AttrAt::Incomplete;
    };
    if q != b'"' && q != b'\'' {
        return AttrAt::Other;
    }
    let start = v + 1;
    let window = &w[start.min(w.len())..w.len().min(start + 64)];
    match memchr::memchr(q, window) {
        Some(n) => AttrAt::Reference(&window[..n]),
        None if window.len() == 64 => AttrAt::Reference(window),
        None => AttrAt::Incomplete,
    }
}

/// Finds the values of `r` and `ref` attributes (cell references: `<c r>`, `<row r>`,
/// `<dimension ref>`, `<mergeCell ref>` …) in a part's raw bytes, across chunk boundaries
/// and whatever the markup around them looks like: a damaged tag can make this scanner
/// and the spreadsheet library's parser see different tags, and the library reads every
/// reference it finds with arithmetic that overflows beyond the sheet's size.
#[derive(Default)]
struct ReferenceWatch {
    /// The last bytes of what came before (for a name or value cut by the chunk's end).
    carry: Vec<u8>,
    /// How many bytes at the start of `carry` were already looked at.
    done: usize,
}

impl ReferenceWatch {
    /// The first reference beyond the sheet in the next bytes, if any.
    fn feed(&mut self, data: &[u8]) -> Option<String> {
        let mut w = std::mem::take(&mut self.carry);
        let done = self.done.min(w.len());
        w.extend_from_slice(data);
        let mut stop = None;
        for p in memchr::memchr_iter(b'=', &w[done..]).map(|p| p + done) {
            match attr_at(&w, p) {
                AttrAt::Reference(v) => {
                    let decoded = unescape(&String::from_utf8_lossy(v));
                    if !within_sheet(v) || !within_sheet(decoded.as_bytes()) {
                        return Some(String::from_utf8_lossy(v).into_owned());
                    }
                }
                AttrAt::Incomplete => {
                    stop = Some(p);
                    break;
                }
                AttrAt::Other => {}
            }
        }
        // Keep the bytes a later `=` may look back on, or the unfinished attribute.
        let keep_from = match stop {
            Some(p) => p.saturating_sub(16),
            None => w.len().saturating_sub(16),
        };
        self.done = stop.map_or(w.len(), |p| p) - keep_from;
        self.carry = w.split_off(keep_from);
        None
    }
}

/// An attribute value with its character and entity references decoded.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else { break };
        let name = &rest[1..end];
        let c = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| name.strip_prefix('#').map(|d| d.parse::<u32>()))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A part's file name without its folders, in lower case (how relationships are matched).
pub(super) fn base_name(path: &str) -> String {
    path.rsplit(['/', '\\'])
        .next()
        .unwrap_or(path)
        .to_ascii_lowercase()
}

impl<'a> XmlScan<'a> {
    pub(super) fn new(
        limits: &'a InputLimits,
        totals: &'a mut Totals,
        part: &'a str,
        tag_limit: u64,
    ) -> Self {
        XmlScan {
            limits,
            totals,
            part,
            tag_limit: tag_limit.min(limits.max_cell_bytes),
            state: State::Text,
            run: 0,
            depth: 0,
            rows: 0,
            tag: Vec::new(),
            quote: 0,
            prev: 0,
            tail: [0; 2],
            in_cell: false,
            cell_bytes: 0,
            cell_ref: String::new(),
            in_si: false,
            si_bytes: 0,
            in_defined_name: false,
            references: ReferenceWatch::default(),
        }
    }

    fn refuse(&self, what: String) -> Refused {
        Refused(format!("工作簿部件“{}”{what}", self.part))
    }

    /// Counts `n` bytes of character data (text or CDATA).
    fn text(&mut self, n: u64) -> Result<(), Refused> {
        let l = self.limits;
        self.run += n;
        if self.in_cell {
            self.cell_bytes += n;
            if self.cell_bytes > l.max_cell_bytes {
                return Err(self.refuse(format!(
                    "中单元格{}的内容{}",
                    self.cell_ref,
                    over("max_cell_bytes", size_text(l.max_cell_bytes))
                )));
            }
        }
        if self.in_si {
            self.si_bytes += n;
            self.totals.shared_string_bytes += n;
            if self.si_bytes > l.max_cell_bytes {
                return Err(self.refuse(format!(
                    "中第{}条共享字符串{}",
                    self.totals.shared_strings,
                    over("max_cell_bytes", size_text(l.max_cell_bytes))
                )));
            }
            if self.totals.shared_string_bytes > l.max_shared_string_bytes {
                return Err(self.refuse(format!(
                    "中共享字符串的文字{}",
                    over(
                        "max_shared_string_bytes",
                        size_text(l.max_shared_string_bytes)
                    )
                )));
            }
        }
        if self.in_defined_name {
            self.totals.defined_name_bytes += n;
            if self.totals.defined_name_bytes > DEFINED_NAME_BYTES {
                return Err(self.refuse(format!(
                    "中定义的名称过多过长（合计超过{}）",
                    size_text(DEFINED_NAME_BYTES)
                )));
            }
        }
        if self.run > l.max_cell_bytes {
            return Err(self.refuse(format!(
                "中有一段文字{}",
                over("max_cell_bytes", size_text(l.max_cell_bytes))
            )));
        }
        Ok(())
    }

    /// One more byte of a tag, comment or instruction.
    fn grow(&mut self, limit: u64) -> Result<(), Refused> {
        self.run += 1;
        if self.run > limit {
            let what = match self.state {
                State::Comment => "注释",
                State::Pi => "处理指令",
                _ => "标记",
            };
            return Err(self.refuse(format!(
                "中有一个{what}长度超过{}（限额 max_cell_bytes）",
                size_text(limit)
            )));
        }
        Ok(())
    }

    fn count(&self, n: u64, max: u64, key: &str, what: &str) -> Result<(), Refused> {
        if n > max {
            return Err(self.refuse(format!("的{what}{}", over(key, max.to_string()))));
        }
        Ok(())
    }

    fn start_tag(&mut self, self_closing: bool) -> Result<(), Refused> {
        let l = self.limits;
        let tag = std::mem::take(&mut self.tag);
        let name = local(tag_name(&tag));
        match name {
            b"c" if !self_closing => {
                self.in_cell = true;
                self.cell_bytes = 0;
                self.cell_ref.clear();
                if let Some(r) = attr(&tag, "r").filter(|r| r.len() <= 16) {
                    self.cell_ref.push_str(&String::from_utf8_lossy(r));
                }
            }
            b"si" => {
                self.totals.shared_strings += 1;
                self.count(
                    self.totals.shared_strings,
                    l.max_shared_strings,
                    "max_shared_strings",
                    "共享字符串",
                )?;
                if !self_closing {
                    self.in_si = true;
                    self.si_bytes = 0;
                }
            }
            b"sst" => {
                // The library reserves room for the declared number of entries.
                if let Some(n) = attr(&tag, "uniqueCount") {
                    let n = std::str::from_utf8(n)
                        .ok()
                        .and_then(|s| s.trim().parse::<u64>().ok())
                        .unwrap_or(u64::MAX);
                    self.count(
                        n,
                        l.max_shared_strings,
                        "max_shared_strings",
                        "共享字符串表声明的条目",
                    )?;
                }
            }
            b"row" => {
                self.rows += 1;
                self.count(self.rows, l.max_rows, "max_rows", "行")?;
            }
            b"xf" => {
                self.totals.styles += 1;
                self.count(self.totals.styles, l.max_styles, "max_styles", "单元格格式")?;
            }
            b"sheet" => {
                self.totals.sheets += 1;
                self.count(self.totals.sheets, l.max_sheets, "max_sheets", "工作表")?;
            }
            b"definedName" if !self_closing => self.in_defined_name = true,
            b"Relationship" => {
                // The library takes a sheet by its type's last segment, the workbook by a
                // type ending in `/officeDocument`.
                let ty = attr(&tag, "Type").unwrap_or_default();
                let last = ty.rsplit(|&b| b == b'/').next().unwrap_or_default();
                let parsed = [
                    &b"officeDocument"[..],
                    b"worksheet",
                    b"chartsheet",
                    b"dialogsheet",
                ]
                .contains(&last);
                if parsed {
                    let raw = String::from_utf8_lossy(attr(&tag, "Target").unwrap_or_default())
                        .into_owned();
                    // As written and with its entities decoded (the library uses either).
                    self.totals.referenced.insert(base_name(&unescape(&raw)));
                    self.totals.referenced.insert(base_name(&raw));
                }
            }
            _ => {}
        }
        if !self_closing {
            self.depth += 1;
            if self.depth > l.max_xml_depth {
                return Err(self.refuse(format!(
                    "的XML{}",
                    over("max_xml_depth", format!("{}层", l.max_xml_depth))
                )));
            }
        }
        self.tag = tag;
        self.tag.clear();
        Ok(())
    }

    fn end_tag(&mut self) {
        match local(tag_name(&self.tag)) {
            b"c" => self.in_cell = false,
            b"si" => self.in_si = false,
            b"definedName" => self.in_defined_name = false,
            _ => {}
        }
        self.depth = self.depth.saturating_sub(1);
        self.tag.clear();
    }

    fn capture(&mut self, b: u8) {
        if self.tag.len() < TAG_CAPTURE {
            self.tag.push(b);
        }
    }

    /// Scans the next bytes of the part.
    pub(super) fn feed(&mut self, data: &[u8]) -> Result<(), Refused> {
        if let Some(r) = self.references.feed(data) {
            return Err(self.refuse(format!(
                "中的单元格引用“{}”超出了Excel工作表的范围（最多{SHEET_COLUMNS}列、{SHEET_ROWS}行）",
                clip(r, 40)
            )));
        }
        let max_cell = self.limits.max_cell_bytes;
        let mut i = 0;
        while i < data.len() {
            match self.state {
                State::Text => {
                    let rest = &data[i..];
                    match memchr::memchr(b'<', rest) {
                        Some(p) => {
                            self.text(p as u64)?;
                            self.run = 0;
                            self.state = State::Open;
                            i += p + 1;
                        }
                        None => {
                            self.text(rest.len() as u64)?;
                            i = data.len();
                        }
                    }
                    continue;
                }
                State::Open => {
                    let b = data[i];
                    self.run = 1;
                    self.tag.clear();
                    self.quote = 0;
                    self.prev = 0;
                    self.tail = [0; 2];
                    self.state = match b {
                        b'/' => State::EndTag,
                        b'?' => State::Pi,
                        b'!' => State::Bang,
                        _ => {
                            self.capture(b);
                            State::StartTag
                        }
                    };
                }
                State::StartTag => {
                    let b = data[i];
                    self.grow(self.tag_limit)?;
                    if self.quote != 0 {
                        if b == self.quote {
                            self.quote = 0;
                        }
                    } else if b == b'"' || b == b'\'' {
                        self.quote = b;
                    } else if b == b'>' {
                        let self_closing = self.prev == b'/';
                        self.start_tag(self_closing)?;
                        self.run = 0;
                        self.state = State::Text;
                        i += 1;
                        continue;
                    }
                    self.capture(b);
                    self.prev = b;
                }
                State::EndTag => {
                    let b = data[i];
                    self.grow(self.tag_limit)?;
                    if b == b'>' {
                        self.end_tag();
                        self.run = 0;
                        self.state = State::Text;
                    } else {
                        self.capture(b);
                    }
                }
                State::Bang => {
                    let b = data[i];
                    self.grow(max_cell)?;
                    self.capture(b);
                    let t = self.tag.to_ascii_uppercase();
                    if t == b"--" {
                        self.state = State::Comment;
                    } else if t == b"[CDATA[" {
                        self.state = State::CData;
                        self.run = 0;
                    } else if t == b"DOCTYPE" {
                        return Err(self.refuse(
                            "含有文档类型声明（DOCTYPE），Excel不会写入这种内容：已拒绝".into(),
                        ));
                    } else if b == b'>' {
                        self.run = 0;
                        self.state = State::Text;
                    } else if ![&b"--"[..], b"[CDATA[", b"DOCTYPE"]
                        .iter()
                        .any(|w| w.starts_with(&t))
                    {
                        // Another declaration: read to its `>`.
                        self.state = State::Decl;
                    }
                }
                State::Decl => {
                    self.grow(max_cell)?;
                    if data[i] == b'>' {
                        self.run = 0;
                        self.state = State::Text;
                    }
                }
                State::Comment | State::Pi | State::CData => {
                    let b = data[i];
                    let ends = match self.state {
                        State::Comment => self.tail == *b"--" && b == b'>',
                        State::Pi => self.tail[1] == b'?' && b == b'>',
                        _ => self.tail == *b"]]" && b == b'>',
                    };
                    if self.state == State::CData {
                        self.text(1)?;
                    } else {
                        self.grow(max_cell)?;
                    }
                    self.tail = [self.tail[1], b];
                    if ends {
                        self.run = 0;
                        self.state = State::Text;
                    }
                }
            }
            i += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(limits: &InputLimits, xml: &str) -> (Totals, Result<(), Refused>) {
        let mut totals = Totals::default();
        let r = {
            let mut s = XmlScan::new(limits, &mut totals, "xl/worksheets/sheet1.xml", u64::MAX);
            // Fed in small pieces: every state must survive a chunk boundary.
            xml.as_bytes().chunks(3).try_for_each(|c| s.feed(c))
        };
        (totals, r)
    }

    #[test]
    fn counts_and_lengths_across_chunk_boundaries() {
        let l = InputLimits::default();
        let (t, r) = scan(
            &l,
            r#"<?xml version="1.0"?><!-- a > b --><sst uniqueCount="2"><si><t>ab</t></si><x:si><t><![CDATA[<c>]]></t></x:si></sst>
            <Relationships><Relationship Id="r1" Type="http://x/relationships/worksheet" Target="Sheets/Data.BIN"/>
            <Relationship Id="r2" Type="worksheet" Target="two&#46;bin"/><Relationship Id="r3" Type="x/image" Target="a.png"/></Relationships>"#,
        );
        r.unwrap();
        assert_eq!(t.shared_strings, 2);
        // "ab", then "<c>" and the "]]>" that ends the CDATA.
        assert_eq!(t.shared_string_bytes, 8);
        assert!(t.referenced.contains("data.bin"));
        assert!(t.referenced.contains("two.bin") && t.referenced.contains("two&#46;bin"));
        assert!(!t.referenced.contains("a.png"));
    }

    #[test]
    fn a_cell_longer_than_the_limit_is_refused_with_its_reference() {
        let l = InputLimits {
            max_cell_bytes: 30,
            ..Default::default()
        };
        // Two runs of a rich inline string: 30 bytes together.
        let ok = r#"<row><c r="C2" t="inlineStr"><is><r><t>123456789012345</t></r><r><t>67890</t></r><r><t>1234567890</t></r></is></c></row>"#;
        scan(&l, ok).1.unwrap();
        let long = ok.replace("67890", "678901");
        let e = scan(&l, &long).1.unwrap_err().0;
        assert!(
            e.contains("单元格C2") && e.contains("max_cell_bytes"),
            "{e}"
        );
        // A tag (attributes) longer than the limit.
        let e = scan(&l, r#"<c r="A1" s="12345678901234567890"/>"#)
            .1
            .unwrap_err()
            .0;
        assert!(e.contains("标记"), "{e}");
    }

    #[test]
    fn nesting_counts_and_declarations() {
        let l = InputLimits {
            max_xml_depth: 3,
            max_shared_strings: 1,
            max_rows: 2,
            ..Default::default()
        };
        scan(&l, "<a><b><c/><c></c></b></a><a/>").1.unwrap();
        let e = scan(&l, "<a><b><d><e>").1.unwrap_err().0;
        assert!(e.contains("max_xml_depth"), "{e}");
        let e = scan(&l, r#"<sst uniqueCount="5">"#).1.unwrap_err().0;
        assert!(e.contains("max_shared_strings"), "{e}");
        let e = scan(&l, "<si/><si/>").1.unwrap_err().0;
        assert!(e.contains("共享字符串条目数"), "{e}");
        let e = scan(&l, "<row/><row/><row/>").1.unwrap_err().0;
        assert!(e.contains("max_rows"), "{e}");
        let e = scan(&l, "<!DOCTYPE x [<!ENTITY a 'b'>]><x/>")
            .1
            .unwrap_err()
            .0;
        assert!(e.contains("DOCTYPE"), "{e}");
        // A quoted '>' does not end a tag.
        let (t, r) = scan(&l, r#"<sheet name="a>b"/><sheet name='c'/>"#);
        r.unwrap();
        assert_eq!(t.sheets, 2);
    }

    #[test]
    fn references_beyond_the_sheet_are_refused_before_the_library_reads_them() {
        for ok in [
            "A1",
            "C7",
            "A1:XFD1048576",
            "XFD1048576",
            "B2:B10",
            "5",
            "",
            "A",
            "$A$1",
        ] {
            assert!(within_sheet(ok.as_bytes()), "{ok}");
        }
        for far in [
            "XFE1",
            "A1048577",
            "AAAA1",
            "A4294967296",
            "ZZZZZZZZZ1",
            "A1:A99999999999",
            "H111010190030700\u{11}1",
            "A3:K2",
            "e1:D2",
            "xA1:F4",
        ] {
            assert!(!within_sheet(far.as_bytes()), "{far}");
        }
        let xml = r#"<worksheet><sheetData><row r="1"><c r="A4294967296"><v>1</v></c></row></sheetData></worksheet>"#;
        let (_, r) = scan(&InputLimits::default(), xml);
        let e = r.unwrap_err().0;
        assert!(
            e.contains("A4294967296") && e.contains("超出了Excel工作表的范围"),
            "{e}"
        );
        for xml in [
            r#"<worksheet><dimension ref="A1:ZZZZZZZ1"/><sheetData/></worksheet>"#,
            r#"<worksheet><dimension ref="B3:A1"/><sheetData/></worksheet>"#,
            r#"<worksheet><sheetData><row r="1"><c r="A&#52;294967296"/></row></sheetData></worksheet>"#,
        ] {
            assert!(scan(&InputLimits::default(), xml).1.is_err(), "{xml}");
        }
        // Inside a tag this scanner takes for an attribute value (a damaged start tag) the
        // library may still read it.
        let xml = r#"<worksheet xmlns="x" xmlns"s"><v>0</v=H("x")><:r="y"><dimension ref="xA1:F4"/></worksheet>"#;
        assert!(scan(&InputLimits::default(), xml).1.is_err());
        // Cut anywhere by the chunks it arrives in.
        let xml = r#"<worksheet><sheetData><row r="1"><c   r = "A4294967296"/></row></sheetData></worksheet>"#;
        let limits = InputLimits::default();
        for cut in 1..xml.len() {
            let mut totals = Totals::default();
            let mut scanner = XmlScan::new(&limits, &mut totals, "sheet1.xml", u64::MAX);
            let r = scanner
                .feed(&xml.as_bytes()[..cut])
                .and_then(|_| scanner.feed(&xml.as_bytes()[cut..]));
            assert!(r.is_err(), "cut at {cut}");
        }
        // The relationships namespace is an `r` attribute too, and no cell reference.
        let xml = r#"<worksheet xmlns:r="http://x/relationships"><dimension ref="A1:K2"/><sheetData><row r="1"><c r="A1"/></row></sheetData></worksheet>"#;
        assert!(scan(&InputLimits::default(), xml).1.is_ok());
    }

    #[test]
    fn attributes() {
        let tag = br#"c r="B7" x:t = 's' s="1""#;
        assert_eq!(attr(tag, "r"), Some(&b"B7"[..]));
        assert_eq!(attr(tag, "t"), Some(&b"s"[..]));
        assert_eq!(attr(tag, "s"), Some(&b"1"[..]));
        assert_eq!(attr(tag, "q"), None);
        assert_eq!(base_name("xl\\worksheets/Sheet1.XML"), "sheet1.xml");
        assert_eq!(unescape("a&amp;b&#46;&#x42;&lt;&bogus;"), "a&b.B<&bogus;");
    }
}
