//! Hostile files for the input-limit tests, made on the spot (nothing large is committed):
//! workbooks whose parts unpack to far more than they weigh (one endless cell, an endless
//! or endlessly long shared-string table, endless nesting, endless rows, a cell in the last
//! column), a CSV with an endless line, and Excel 97–2003 files whose cells span the whole
//! sheet or whose sectors chain in a circle. Each is otherwise a ledger (its header row
//! names the required columns), so only the limit can refuse it.

use std::io::{self, Write};

use flate2::write::DeflateEncoder;
use flate2::{Compression, Crc};
use minzheng_domain::registry::Column;

/// Writes `total` bytes made of `piece` repeated (the last copy may be cut short).
pub fn repeat(w: &mut dyn Write, piece: &[u8], total: u64) -> io::Result<()> {
    let copies = (1 << 20) / piece.len().max(1) + 1;
    let block: Vec<u8> = piece.repeat(copies);
    let mut left = total;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        w.write_all(&block[..n])?;
        left -= n as u64;
    }
    Ok(())
}

/// Deflates what is written to it, counting its length and CRC.
struct Deflating {
    enc: DeflateEncoder<Vec<u8>>,
    crc: Crc,
    len: u64,
}

impl Write for Deflating {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.enc.write(buf)?;
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.enc.flush()
    }
}

/// A zip archive of deflated entries, each under 4 GiB unpacked.
pub struct Zip {
    out: Vec<u8>,
    central: Vec<u8>,
    entries: u16,
    level: Compression,
}

impl Default for Zip {
    fn default() -> Zip {
        Zip::new()
    }
}

impl Zip {
    /// An archive deflated quickly (for entries of varied content).
    pub fn new() -> Zip {
        Zip {
            out: Vec::new(),
            central: Vec::new(),
            entries: 0,
            level: Compression::fast(),
        }
    }

    /// An archive deflated as tightly as deflate can (a run of one byte shrinks about a
    /// thousandfold, as in a real bomb).
    pub fn tight() -> Zip {
        Zip {
            level: Compression::best(),
            ..Zip::new()
        }
    }

    /// Adds an entry whose content `fill` writes.
    pub fn entry(
        &mut self,
        name: &str,
        fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> &mut Zip {
        let mut d = Deflating {
            enc: DeflateEncoder::new(Vec::new(), self.level),
            crc: Crc::new(),
            len: 0,
        };
        fill(&mut d).expect("entry written");
        assert!(d.len < u64::from(u32::MAX), "entries stay below 4 GiB");
        let crc = d.crc.sum();
        let data = d.enc.finish().expect("deflated");
        let offset = self.out.len() as u32;
        let put = |v: &mut Vec<u8>, fields: &[&[u8]]| fields.iter().for_each(|f| v.extend(*f));
        let (crc, csize, usize_) = (
            crc.to_le_bytes(),
            (data.len() as u32).to_le_bytes(),
            (d.len as u32).to_le_bytes(),
        );
        let name_len = (name.len() as u16).to_le_bytes();
        // Local header: version 2.0, no flags, deflate, no time.
        put(
            &mut self.out,
            &[
                b"PK\x03\x04",
                &20u16.to_le_bytes(),
                &0u16.to_le_bytes(),
                &8u16.to_le_bytes(),
                &[0; 4],
                &crc,
                &csize,
                &usize_,
                &name_len,
                &0u16.to_le_bytes(),
                name.as_bytes(),
            ],
        );
        self.out.extend(&data);
        put(
            &mut self.central,
            &[
                b"PK\x01\x02",
                &20u16.to_le_bytes(),
                &20u16.to_le_bytes(),
                &0u16.to_le_bytes(),
                &8u16.to_le_bytes(),
                &[0; 4],
                &crc,
                &csize,
                &usize_,
                &name_len,
                &[0; 8],
                &[0; 4],
                &offset.to_le_bytes(),
                name.as_bytes(),
            ],
        );
        self.entries += 1;
        self
    }

    /// The archive's bytes.
    pub fn finish(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.out);
        let at = out.len() as u32;
        out.extend(&self.central);
        out.extend(b"PK\x05\x06");
        out.extend([0; 4]);
        out.extend(self.entries.to_le_bytes());
        out.extend(self.entries.to_le_bytes());
        out.extend((self.central.len() as u32).to_le_bytes());
        out.extend(at.to_le_bytes());
        out.extend([0; 2]);
        out
    }
}

const NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PKG: &str = "http://schemas.openxmlformats.org/package/2006/relationships";

/// The ledger header as a sheet's first row (inline strings).
pub fn header_row() -> String {
    let cells: String = Column::ALL
        .iter()
        .enumerate()
        .map(|(i, c)| {
            format!(
                r#"<c r="{}1" t="inlineStr"><is><t>{}</t></is></c>"#,
                column_name(i),
                c.header()
            )
        })
        .collect();
    format!(r#"<row r="1">{cells}</row>"#)
}

fn column_name(mut j: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (j % 26) as u8);
        if j < 26 {
            break;
        }
        j = j / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap()
}

/// A workbook of one sheet in the archive `z`: the sheet's rows after the header row, and
/// the shared-string table's entries, as their writers write them.
pub fn workbook(
    z: Zip,
    rows: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    shared: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Zip {
    workbook_with_sheet_at(z, "worksheets/sheet1.xml", rows, shared)
}

/// [`workbook`] with its sheet at `target` (relative to `xl/`), whatever its name.
pub fn workbook_with_sheet_at(
    mut z: Zip,
    target: &str,
    rows: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    shared: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Zip {
    z.entry("[Content_Types].xml", |w| {
        write!(
            w,
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"#
        )
    })
    .entry("_rels/.rels", |w| {
        write!(
            w,
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
        )
    })
    .entry("xl/workbook.xml", |w| {
        write!(
            w,
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{NS}" xmlns:r="{REL}"><sheets><sheet name="台账" sheetId="1" r:id="rId1"/></sheets></workbook>"#
        )
    })
    .entry("xl/_rels/workbook.xml.rels", |w| {
        write!(
            w,
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" Target="{target}"/><Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
        )
    })
    .entry("xl/sharedStrings.xml", |w| {
        write!(
            w,
            r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}">"#
        )?;
        shared(w)?;
        write!(w, "</sst>")
    })
    .entry(&format!("xl/{target}"), |w| {
        write!(
            w,
            r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}"><sheetData>{}"#,
            header_row()
        )?;
        rows(w)?;
        write!(w, "</sheetData></worksheet>")
    });
    z
}

fn one_shared(w: &mut dyn Write) -> io::Result<()> {
    write!(w, "<si><t>x</t></si>")
}

/// Escapes text for XML.
fn xml_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes `valid` (ledger rows, in the order of `Column::ALL`) as rows 2, 3, …; returns
/// the next row's number.
fn valid_rows(w: &mut dyn Write, valid: &[Vec<String>]) -> io::Result<u64> {
    for (i, row) in valid.iter().enumerate() {
        let r = i + 2;
        write!(w, r#"<row r="{r}">"#)?;
        for (j, v) in row.iter().enumerate().filter(|(_, v)| !v.is_empty()) {
            write!(
                w,
                r#"<c r="{}{r}" t="inlineStr"><is><t>{}</t></is></c>"#,
                column_name(j),
                xml_text(v)
            )?;
        }
        write!(w, "</row>")?;
    }
    Ok(valid.len() as u64 + 2)
}

/// The rows `valid`, then one inline-string cell (column C) of `bytes` bytes.
pub fn huge_cell(valid: &[Vec<String>], bytes: u64) -> Vec<u8> {
    workbook(
        Zip::tight(),
        |w| {
            let r = valid_rows(w, valid)?;
            write!(w, r#"<row r="{r}"><c r="C{r}" t="inlineStr"><is><t>"#)?;
            repeat(w, b"A", bytes)?;
            write!(w, "</t></is></c></row>")
        },
        one_shared,
    )
    .finish()
}

/// [`huge_cell`] in a sheet whose part is not named as XML (`xl/worksheets/data.bin`): the
/// relationship that names it as a sheet is what makes it read.
pub fn huge_cell_in_a_disguised_sheet(valid: &[Vec<String>], bytes: u64) -> Vec<u8> {
    workbook_with_sheet_at(
        Zip::tight(),
        "worksheets/data.bin",
        |w| {
            let r = valid_rows(w, valid)?;
            write!(w, r#"<row r="{r}"><c r="C{r}" t="inlineStr"><is><t>"#)?;
            repeat(w, b"A", bytes)?;
            write!(w, "</t></is></c></row>")
        },
        one_shared,
    )
    .finish()
}

/// The rows `valid`, then a cell (column C) naming a shared string of `bytes` bytes.
pub fn huge_shared_string(valid: &[Vec<String>], bytes: u64) -> Vec<u8> {
    workbook(
        Zip::tight(),
        |w| {
            let r = valid_rows(w, valid)?;
            write!(w, r#"<row r="{r}"><c r="C{r}" t="s"><v>0</v></c></row>"#)
        },
        |w| {
            write!(w, "<si><t>")?;
            repeat(w, "长".as_bytes(), bytes)?;
            write!(w, "</t></si>")
        },
    )
    .finish()
}

/// The rows `valid`, and a shared-string table of `n` one-letter strings.
pub fn many_shared_strings(valid: &[Vec<String>], n: u64) -> Vec<u8> {
    const ONE: &[u8] = b"<si><t>a</t></si>";
    workbook(
        Zip::new(),
        |w| valid_rows(w, valid).map(|_| ()),
        |w| repeat(w, ONE, n * ONE.len() as u64),
    )
    .finish()
}

/// The rows `valid`, then elements nested `depth` deep.
pub fn deep_xml(valid: &[Vec<String>], depth: u64) -> Vec<u8> {
    workbook(
        Zip::new(),
        |w| {
            valid_rows(w, valid)?;
            repeat(w, b"<x>", 3 * depth)?;
            repeat(w, b"</x>", 4 * depth)
        },
        one_shared,
    )
    .finish()
}

/// The rows `valid`, then `n` rows of one number cell each.
pub fn many_rows(valid: &[Vec<String>], n: u64) -> Vec<u8> {
    workbook(
        Zip::new(),
        |w| {
            // Without references (they are optional): numbered, rows past the sheet's
            // last one would be refused as references before they are counted.
            valid_rows(w, valid)?;
            for _ in 0..n {
                write!(w, "<row><c><v>1</v></c></row>")?;
            }
            Ok(())
        },
        one_shared,
    )
    .finish()
}

/// The rows `valid`, then `n` rows each with one text cell in the sheet's last column
/// (XFD).
pub fn far_column(valid: &[Vec<String>], n: u64) -> Vec<u8> {
    workbook(
        Zip::new(),
        |w| {
            let first = valid_rows(w, valid)?;
            for r in first..first + n {
                write!(
                    w,
                    r#"<row r="{r}"><c r="XFD{r}" t="inlineStr"><is><t>x</t></is></c></row>"#
                )?;
            }
            Ok(())
        },
        one_shared,
    )
    .finish()
}

/// The rows `valid`, and an extra part of `bytes` zero bytes (a thumbnail, say).
pub fn padded(valid: &[Vec<String>], bytes: u64) -> Vec<u8> {
    let mut z = workbook(
        Zip::tight(),
        |w| valid_rows(w, valid).map(|_| ()),
        one_shared,
    );
    z.entry("docProps/thumbnail.bin", |w| repeat(w, &[0], bytes));
    z.finish()
}

/// A ledger CSV: the rows `valid`, then a line `bytes` digits long.
pub fn long_csv_line(valid: &[Vec<String>], bytes: u64) -> Vec<u8> {
    let header: Vec<&str> = Column::ALL.iter().map(|c| c.header()).collect();
    let mut out = format!("{}\n", header.join(",")).into_bytes();
    for row in valid {
        out.extend(row.join(",").as_bytes());
        out.push(b'\n');
    }
    repeat(&mut out, b"1", bytes).unwrap();
    out.extend(b",2,3\n");
    out
}

// ------------------------------------------------------------------ Excel 97–2003

/// A BIFF record.
fn record(typ: u16, data: &[u8]) -> Vec<u8> {
    let mut r = typ.to_le_bytes().to_vec();
    r.extend((data.len() as u16).to_le_bytes());
    r.extend(data);
    r
}

fn bof() -> Vec<u8> {
    // BIFF8, worksheet globals; the rest of the record as writers fill it.
    let mut d = vec![0x00, 0x06, 0x05, 0x00];
    d.extend([0; 12]);
    record(0x0809, &d)
}

/// A NUMBER record: `value` at (row, col).
fn number(row: u16, col: u16, value: f64) -> Vec<u8> {
    let mut d = row.to_le_bytes().to_vec();
    d.extend(col.to_le_bytes());
    d.extend(0u16.to_le_bytes());
    d.extend(value.to_le_bytes());
    record(0x0203, &d)
}

/// The workbook stream of one sheet holding `cells`.
fn workbook_stream(cells: &[Vec<u8>]) -> Vec<u8> {
    let globals_len = |pos: u32| {
        let mut g = bof();
        let mut sheet = pos.to_le_bytes().to_vec();
        sheet.extend([0, 0, 2, 0]);
        sheet.extend(b"S1");
        g.extend(record(0x0085, &sheet));
        g.extend(record(0x000A, &[]));
        g
    };
    let pos = globals_len(0).len() as u32;
    let mut s = globals_len(pos);
    s.extend(bof());
    for c in cells {
        s.extend(c);
    }
    s.extend(record(0x000A, &[]));
    // Streams under 4096 bytes would live in the mini stream: stay above it.
    while s.len() < 4096 {
        s.extend(record(0x0000, &[0; 60]));
    }
    s
}

/// An Excel 97–2003 compound file holding the workbook `stream`; with `looping`, the
/// directory's sector chain points back at itself.
fn compound(stream: &[u8], looping: bool) -> Vec<u8> {
    const END: u32 = 0xFFFF_FFFE;
    const FREE: u32 = 0xFFFF_FFFF;
    let sectors = stream.len().div_ceil(512);
    // Sector 0: the FAT; sector 1: the directory; then the stream.
    let mut fat = vec![FREE; 128];
    fat[0] = 0xFFFF_FFFD;
    fat[1] = if looping { 1 } else { END };
    for i in 0..sectors {
        fat[2 + i] = if i + 1 == sectors {
            END
        } else {
            (3 + i) as u32
        };
    }
    assert!(
        sectors + 2 <= 128,
        "one FAT sector is enough for these files"
    );
    let mut h = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    h.extend([0; 16]);
    h.extend(0x003Eu16.to_le_bytes()); // minor version
    h.extend(3u16.to_le_bytes()); // major version 3: 512-byte sectors
    h.extend(0xFFFEu16.to_le_bytes()); // little-endian
    h.extend(9u16.to_le_bytes()); // sector shift
    h.extend(6u16.to_le_bytes()); // mini sector shift
    h.extend([0; 10]);
    h.extend(1u32.to_le_bytes()); // FAT sectors
    h.extend(1u32.to_le_bytes()); // directory start
    h.extend(0u32.to_le_bytes());
    h.extend(4096u32.to_le_bytes()); // mini stream cutoff
    h.extend(END.to_le_bytes()); // mini FAT start
    h.extend(0u32.to_le_bytes()); // mini FAT sectors
    h.extend(END.to_le_bytes()); // DIFAT start
    h.extend(0u32.to_le_bytes());
    h.extend(0u32.to_le_bytes()); // DIFAT[0]: sector 0 holds the FAT
    while h.len() < 512 {
        h.extend(FREE.to_le_bytes());
    }
    for e in &fat {
        h.extend(e.to_le_bytes());
    }
    let entry = |name: &str, kind: u8, start: u32, len: u32| {
        let mut e = vec![0u8; 128];
        let units: Vec<u8> = name.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        e[..units.len()].copy_from_slice(&units);
        e[64..66].copy_from_slice(&((units.len() + 2) as u16).to_le_bytes());
        e[66] = kind;
        e[68..80].copy_from_slice(&[0xFF; 12]);
        e[116..120].copy_from_slice(&start.to_le_bytes());
        e[120..124].copy_from_slice(&len.to_le_bytes());
        e
    };
    let mut dir = entry("Root Entry", 5, END, 0);
    dir[76..80].copy_from_slice(&1u32.to_le_bytes()); // child: the workbook
    dir.extend(entry("Workbook", 2, 2, stream.len() as u32));
    dir.resize(512, 0);
    h.extend(dir);
    h.extend(stream);
    h.resize(512 + (2 + sectors) * 512, 0);
    h
}

/// An `.xls` ledger-sized file with a header cell at A1 and one number at the sheet's far
/// corner (row 65,536, column 256): as a grid, 16.7 million cells.
pub fn xls_far_corner() -> Vec<u8> {
    compound(
        &workbook_stream(&[number(0, 0, 1.0), number(65_535, 255, 2.0)]),
        false,
    )
}

/// An `.xls` with two numbers side by side (a file every limit lets through).
pub fn xls_small() -> Vec<u8> {
    compound(
        &workbook_stream(&[number(0, 0, 1.0), number(0, 1, 2.0)]),
        false,
    )
}

/// An `.xls` whose directory chain loops back on itself.
pub fn xls_looping_directory() -> Vec<u8> {
    compound(&workbook_stream(&[number(0, 0, 1.0)]), true)
}
