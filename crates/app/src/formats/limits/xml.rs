//! A byte-level scan of XML in constant memory: nesting depth, the length of every text,
//! tag, comment and processing instruction, each cell's and shared string's text, and the
//! counts the spreadsheet library turns into memory (shared strings, styles, sheets, rows).
//! It lexes as the library's XML reader does (quotes inside tags, comments, CDATA), so what
//! it measures is what that reader would buffer.

use std::collections::HashSet;

use super::{over, size_text, InputLimits, Refused};

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
