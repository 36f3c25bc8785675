//! Checking an Excel 97–2003 workbook (`.xls`) before the spreadsheet library opens it.
//!
//! The library reads an `.xls` whole when it opens it: it follows the compound file's
//! sector chains (trusting the lengths they declare, with no guard against a chain that
//! loops), reads every sheet's records, copies a shared string into every cell that names
//! it, and lays each sheet out as a grid from its first to its last cell. A file of a few
//! kilobytes can ask for gigabytes that way. This module walks the same chains and records
//! the same way, in memory proportional to the file, and refuses the file unless what the
//! library would build stays within the limits: cells and grids (`max_cells`), text
//! (`max_text_bytes`), shared strings, sheets.

use super::{over, size_text, InputLimits, Refused};

const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const RESERVED: u32 = 0xFFFF_FFFA;
const DIFSECT: u32 = 0xFFFF_FFFC;
/// Directory entries of a compound file (a workbook has a handful).
const MAX_DIRECTORY_ENTRIES: usize = 65_536;
/// CONTINUE records after one record (a 64 MB shared-string table needs about 8,000); the
/// library keeps a list of them and takes them from its front one by one.
const MAX_CONTINUES: usize = 16_384;
/// Text of all defined names together.
const DEFINED_NAME_BYTES: u64 = 1 << 20;

fn broken() -> Refused {
    Refused("文件不是有效的Excel 97-2003工作簿(.xls)，或内容已损坏：请在Excel中打开并另存为 .xlsx 后重新导入".into())
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, Refused> {
    b.get(at..at + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or_else(broken)
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, Refused> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(broken)
}

fn u32s(b: &[u8]) -> impl Iterator<Item = u32> + '_ {
    b.chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
}

/// A compound file's sectors, FAT and directory, as the library reads them.
struct Compound<'a> {
    data: &'a [u8],
    /// Bytes before sector 0 (the header: 512 bytes, or 4096 with 4096-byte sectors).
    base: usize,
    size: usize,
    maxid: u32,
    fats: Vec<u32>,
}

impl<'a> Compound<'a> {
    /// Sector `id` (the last one may be short); a sector past the end is refused (the
    /// library would read whatever its reader yields next, or panic).
    fn sector(&self, id: u32) -> Result<&'a [u8], Refused> {
        if id > self.maxid {
            return Err(broken());
        }
        let start = self.base + id as usize * self.size;
        if start >= self.data.len() {
            return Err(broken());
        }
        Ok(&self.data[start..(start + self.size).min(self.data.len())])
    }

    /// Follows a chain as the library does (stopping at its end or once `len` bytes are
    /// read) and gives each sector's bytes to `take`. A chain that visits more sectors than
    /// the file has loops, and is refused (the library would follow it without end).
    fn walk<'s>(
        &self,
        start: u32,
        fats: &[u32],
        len: usize,
        sector: impl Fn(u32) -> Result<&'s [u8], Refused>,
        steps_max: u64,
        mut take: impl FnMut(&'s [u8]) -> Result<(), Refused>,
    ) -> Result<(), Refused> {
        let mut id = start;
        let mut got = 0usize;
        let mut steps = 0u64;
        while id != ENDOFCHAIN {
            steps += 1;
            if steps > steps_max {
                return Err(Refused(
                    "Excel 97-2003工作簿(.xls)的扇区链首尾相连（文件可能经过恶意构造）：已拒绝"
                        .into(),
                ));
            }
            let s = sector(id)?;
            let n = s.len().min(len - got);
            take(&s[..n])?;
            got += n;
            if got >= len {
                break;
            }
            id = *fats.get(id as usize).ok_or_else(broken)?;
        }
        Ok(())
    }

    fn open(data: &'a [u8]) -> Result<(Self, Vec<u8>), Refused> {
        if data.len() < 512 || !data.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
            return Err(broken());
        }
        let version = u16_at(data, 26)?;
        let (size, base) = match u16_at(data, 30)? {
            0x0009 => (512usize, 512usize),
            0x000C if data.len() >= 4096 => (4096, 4096),
            _ => return Err(broken()),
        };
        if u16_at(data, 32)? != 6 {
            return Err(broken());
        }
        let dir_start = u32_at(data, 48)?;
        let mini_fat_start = u32_at(data, 60)?;
        let mini_fat_len = u32_at(data, 64)? as usize;
        let difat_start = u32_at(data, 68)?;
        let maxid = (data.len() / size) as u32;
        let mut cf = Compound {
            data,
            base,
            size,
            maxid,
            fats: Vec::new(),
        };
        // The DIFAT: the header's 109 entries, then chained sectors whose last entry names
        // the next. Only the FAT sectors it lists are kept; a file cannot need more of them
        // than it has sectors to describe.
        let per = size / 4;
        let fat_sectors_max = 2 * (maxid as usize / per + 1) + 8;
        let mut difat: Vec<u32> = u32s(&data[76..512]).collect();
        let mut id = difat_start;
        let mut difat_sectors = 0u64;
        while id < RESERVED {
            difat_sectors += 1;
            if difat_sectors > u64::from(maxid) + 1 {
                return Err(broken());
            }
            difat.extend(u32s(cf.sector(id)?));
            id = difat.pop().ok_or_else(broken)?;
            if difat.iter().filter(|&&d| d < DIFSECT).count() > fat_sectors_max {
                return Err(broken());
            }
        }
        let fat_ids: Vec<u32> = difat.into_iter().filter(|&d| d < DIFSECT).collect();
        if fat_ids.len() > fat_sectors_max {
            return Err(broken());
        }
        let mut fats = Vec::new();
        for id in fat_ids {
            fats.extend(u32s(cf.sector(id)?));
        }
        cf.fats = fats;
        let steps = u64::from(maxid) + 1;
        let sector = |id| cf.sector(id);

        // The directory: the root entry first, then the streams.
        let mut root: Option<(u32, usize)> = None;
        let mut workbook: Option<(u32, usize)> = None;
        let mut book: Option<(u32, usize)> = None;
        let mut entries = 0usize;
        let mut pending: Vec<u8> = Vec::new();
        cf.walk(dir_start, &cf.fats, usize::MAX, sector, steps, |s| {
            pending.extend_from_slice(s);
            let whole = pending.len() / 128 * 128;
            for e in pending[..whole].chunks_exact(128) {
                entries += 1;
                if entries > MAX_DIRECTORY_ENTRIES {
                    return Err(broken());
                }
                let units: Vec<u16> = e[..64]
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .take_while(|&u| u != 0)
                    .collect();
                let name = String::from_utf16_lossy(&units);
                let start = u32::from_le_bytes([e[116], e[117], e[118], e[119]]);
                let len = if size == 512 {
                    u32::from_le_bytes([e[120], e[121], e[122], e[123]]) as usize
                } else {
                    u64::from_le_bytes([
                        e[120], e[121], e[122], e[123], e[124], e[125], e[126], e[127],
                    ]) as usize
                };
                if root.is_none() {
                    root = Some((start, len));
                }
                if workbook.is_none() && name.eq_ignore_ascii_case("Workbook") {
                    workbook = Some((start, len));
                }
                if book.is_none() && name.eq_ignore_ascii_case("Book") {
                    book = Some((start, len));
                }
            }
            pending.drain(..whole);
            Ok(())
        })?;
        let root = root.ok_or_else(broken)?;
        if version != 3 && root.0 == ENDOFCHAIN {
            return Err(broken());
        }
        // The mini stream (streams under 4096 bytes live there, in 64-byte sectors).
        let mut ministream = Vec::new();
        let mut minifat = Vec::new();
        if mini_fat_len > 0 {
            if root.1 > data.len() {
                return Err(broken());
            }
            cf.walk(root.0, &cf.fats, root.1, sector, steps, |s| {
                ministream.extend_from_slice(s);
                Ok(())
            })?;
            let mut bytes = Vec::new();
            // As long as the header says: a looping chain is refused by its steps.
            let len = mini_fat_len.saturating_mul(size);
            cf.walk(mini_fat_start, &cf.fats, len, sector, steps, |s| {
                bytes.extend_from_slice(s);
                Ok(())
            })?;
            minifat = u32s(&bytes).collect();
        }
        let (start, len) = workbook.or(book).ok_or_else(broken)?;
        if len > data.len() {
            return Err(broken());
        }
        let mut stream = Vec::with_capacity(len);
        if len < 4096 {
            let mini = |id: u32| -> Result<&[u8], Refused> {
                let at = id as usize * 64;
                // Past the mini stream the library would read whatever follows in the file.
                ministream.get(at..at + 64).ok_or_else(broken)
            };
            let mini_steps = (ministream.len() / 64) as u64 + 1;
            let mut out = Vec::new();
            cf.walk(start, &minifat, len, mini, mini_steps, |s| {
                out.extend_from_slice(s);
                Ok(())
            })?;
            stream = out;
        } else {
            cf.walk(start, &cf.fats, len, sector, steps, |s| {
                stream.extend_from_slice(s);
                Ok(())
            })?;
        }
        Ok((cf, stream))
    }
}

/// A BIFF record with the CONTINUE records after it.
struct Record<'a> {
    typ: u16,
    data: &'a [u8],
    cont: Vec<&'a [u8]>,
}

/// The records of a stream from `pos`, as the library splits them.
fn records(mut s: &[u8]) -> impl Iterator<Item = Result<Record<'_>, Refused>> {
    std::iter::from_fn(move || {
        if s.len() < 4 {
            return if s.is_empty() {
                None
            } else {
                s = &[];
                Some(Err(broken()))
            };
        }
        let typ = u16::from_le_bytes([s[0], s[1]]);
        let len = u16::from_le_bytes([s[2], s[3]]) as usize;
        if s.len() < len + 4 {
            s = &[];
            return Some(Err(broken()));
        }
        let data = &s[4..len + 4];
        s = &s[len + 4..];
        let mut cont = Vec::new();
        while s.len() > 4 && u16::from_le_bytes([s[0], s[1]]) == 0x003C {
            let l = u16::from_le_bytes([s[2], s[3]]) as usize;
            if s.len() < l + 4 {
                s = &[];
                return Some(Err(broken()));
            }
            cont.push(&s[4..l + 4]);
            s = &s[l + 4..];
            if cont.len() > MAX_CONTINUES {
                s = &[];
                return Some(Err(Refused(format!(
                    "Excel 97-2003工作簿(.xls)中一条记录后跟了超过{MAX_CONTINUES}条续记录（文件可能经过恶意构造）：已拒绝"
                ))));
            }
        }
        Some(Ok(Record { typ, data, cont }))
    })
}

/// Reads a record's bytes across its CONTINUE records, as the library's string reader.
struct Cursor<'a, 'r> {
    data: &'a [u8],
    cont: &'r [&'a [u8]],
}

impl<'a> Cursor<'a, '_> {
    fn next_continue(&mut self) -> bool {
        match self.cont.split_first() {
            Some((first, rest)) => {
                self.data = first;
                self.cont = rest;
                true
            }
            None => false,
        }
    }

    fn skip(&mut self, mut n: usize) -> Result<(), Refused> {
        while n > 0 {
            if self.data.is_empty() && !self.next_continue() {
                return Err(broken());
            }
            let k = n.min(self.data.len());
            self.data = &self.data[k..];
            n -= k;
        }
        Ok(())
    }
}

/// The UTF-8 bytes each shared string will take (characters stored with one byte take at
/// most two, with two bytes at most three).
fn shared_strings(r: &Record<'_>, limits: &InputLimits) -> Result<Vec<u64>, Refused> {
    let mut c = Cursor {
        data: r.data.get(8..).ok_or_else(broken)?,
        cont: &r.cont,
    };
    let mut out = Vec::new();
    let mut total = 0u64;
    while !c.data.is_empty() || c.next_continue() {
        if out.len() as u64 >= limits.max_shared_strings {
            return Err(Refused(format!(
                "工作簿的共享字符串{}",
                over("max_shared_strings", limits.max_shared_strings.to_string())
            )));
        }
        if c.data.is_empty() {
            out.push(0);
            continue;
        }
        if c.data.len() < 3 {
            return Err(broken());
        }
        let mut left = u16_at(c.data, 0)? as usize;
        let flags = c.data[2];
        c.data = &c.data[3..];
        let mut runs = 0usize;
        let mut ext = 0usize;
        if flags & 0x8 != 0 {
            runs = u16_at(c.data, 0)? as usize;
            c.data = &c.data[2..];
        }
        if flags & 0x4 != 0 {
            ext = u32_at(c.data, 0)? as i32 as usize;
            c.data = &c.data[4..];
        }
        let mut high = flags & 0x1 != 0;
        let mut bytes = 0u64;
        while left > 0 {
            let width = if high { 2 } else { 1 };
            let n = (c.data.len() / width).min(left);
            c.data = &c.data[n * width..];
            bytes += (n * (width + 1)) as u64;
            left -= n;
            if left > 0 {
                if !c.next_continue() || c.data.is_empty() {
                    return Err(broken());
                }
                high = c.data[0] & 0x1 != 0;
                c.data = &c.data[1..];
            }
        }
        c.skip(runs * 4)?;
        c.skip(ext)?;
        total += bytes;
        if total > limits.max_shared_string_bytes {
            return Err(Refused(format!(
                "工作簿的共享字符串文字{}",
                over(
                    "max_shared_string_bytes",
                    size_text(limits.max_shared_string_bytes)
                )
            )));
        }
        out.push(bytes);
    }
    Ok(out)
}

/// What a string of `bytes` UTF-8 bytes holds in memory, twice: the library's copy and the
/// reader's (the library hands out copies of its sheets), each an allocation of whole
/// 16-byte units with its header.
fn held(bytes: u64) -> u64 {
    2 * (bytes.div_ceil(16) * 16 + super::text::CELL_OVERHEAD)
}

/// A sheet's cells as the library lays them out: the bounding box of its values and of its
/// formulas.
#[derive(Default)]
struct Extent {
    rows: Option<(u32, u32)>,
    cols: Option<(u32, u32)>,
}

impl Extent {
    fn add(&mut self, row: u32, col: u32) {
        let widen = |r: &mut Option<(u32, u32)>, v: u32| {
            *r = Some(r.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))));
        };
        widen(&mut self.rows, row);
        widen(&mut self.cols, col);
    }

    fn cells(&self) -> u64 {
        match (self.rows, self.cols) {
            (Some((r0, r1)), Some((c0, c1))) => (u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1),
            _ => 0,
        }
    }
}

struct Tally<'l> {
    limits: &'l InputLimits,
    records: u64,
    grid: u64,
    text: u64,
}

impl Tally<'_> {
    fn check(&self) -> Result<(), Refused> {
        let l = self.limits;
        if self.records > l.max_cells || self.grid > l.max_cells {
            return Err(Refused(format!(
                "Excel 97-2003工作簿(.xls)要整表读入，其单元格（按各表从第一格到最后一格的范围计）{}：请在Excel中另存为 .xlsx 后导入",
                over("max_cells", l.max_cells.to_string())
            )));
        }
        if self.text > l.max_text_bytes {
            return Err(Refused(format!(
                "Excel 97-2003工作簿(.xls)要整表读入，其文字{}：请在Excel中另存为 .xlsx 后导入",
                over("max_text_bytes", size_text(l.max_text_bytes))
            )));
        }
        Ok(())
    }
}

/// Checks an `.xls` workbook against the limits.
pub fn check_xls(data: &[u8], limits: &InputLimits) -> Result<(), Refused> {
    let (_, stream) = Compound::open(data)?;
    // The workbook globals: sheets, names, shared strings.
    let mut sheets: Vec<usize> = Vec::new();
    let mut sst: Vec<u64> = Vec::new();
    let mut longest_name = 0u64;
    let mut names_bytes = 0u64;
    for r in records(&stream) {
        let r = r?;
        match r.typ {
            0x002F if u16_at(r.data, 0)? != 0 => {
                return Err(Refused(
                    "工作簿有密码保护，无法读取：请取消密码后重新导入".into(),
                ))
            }
            0x0085 => {
                let pos = u32_at(r.data, 0)? as usize;
                sheets.push(pos);
                if sheets.len() as u64 > limits.max_sheets {
                    return Err(Refused(format!(
                        "工作簿的工作表{}",
                        over("max_sheets", limits.max_sheets.to_string())
                    )));
                }
                let name = u64::from(*r.data.get(6).ok_or_else(broken)?);
                longest_name = longest_name.max(3 * name);
            }
            0x0018 => {
                names_bytes += r.data.len() as u64;
                if names_bytes > DEFINED_NAME_BYTES {
                    return Err(Refused(format!(
                        "工作簿中定义的名称过多过长（合计超过{}）：已拒绝",
                        size_text(DEFINED_NAME_BYTES)
                    )));
                }
                let name = u64::from(*r.data.get(3).ok_or_else(broken)?);
                longest_name = longest_name.max(3 * name);
            }
            0x00FC => sst = shared_strings(&r, limits)?,
            0x000A => break,
            _ => {}
        }
    }
    // A formula's text may repeat a sheet or defined name for every few bytes of it.
    let formula_factor = 8 + longest_name / 4;
    // The library keeps the sectors it read and the workbook stream.
    let mut t = Tally {
        limits,
        records: 0,
        grid: 0,
        text: data.len() as u64 + stream.len() as u64,
    };
    t.check()?;
    for pos in sheets {
        let sheet = stream.get(pos..).ok_or_else(broken)?;
        let (mut values, mut formulas) = (Extent::default(), Extent::default());
        let mut formula_at = (0u32, 0u32);
        let mut seen_bof = false;
        let mut depth = 0usize;
        for r in records(sheet) {
            let r = r?;
            if depth > 0 {
                match r.typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            let at = |d: &[u8]| -> Result<(u32, u32), Refused> {
                Ok((u32::from(u16_at(d, 0)?), u32::from(u16_at(d, 2)?)))
            };
            match r.typ {
                0x0809 if seen_bof => depth += 1,
                0x0809 => seen_bof = true,
                0x0200 => {
                    // The library reserves room for the declared rows × columns.
                    let d = r.data;
                    let (rf, rl, cf, cl) = match d.len() {
                        10 => (
                            u64::from(u16_at(d, 0)?),
                            u64::from(u16_at(d, 2)?),
                            u64::from(u16_at(d, 4)?),
                            u64::from(u16_at(d, 6)?),
                        ),
                        14 | 16 => (
                            u64::from(u32_at(d, 0)?),
                            u64::from(u32_at(d, 4)?),
                            u64::from(u16_at(d, 8)?),
                            u64::from(u16_at(d, 10)?),
                        ),
                        _ => return Err(broken()),
                    };
                    let cf = if cf > 0xFF || cl < cf { 0 } else { cf };
                    let declared = if rl >= 1 && cl >= 1 {
                        if rl - 1 < rf || cl - 1 < cf {
                            return Err(broken());
                        }
                        (rl - rf) * (cl - cf)
                    } else {
                        1
                    };
                    if declared > limits.max_cells {
                        t.grid = declared;
                        t.check()?;
                    }
                }
                0x0203 | 0x0205 | 0x027E => {
                    let (row, col) = at(r.data)?;
                    values.add(row, col);
                    t.records += 1;
                }
                0x0204 | 0x00D6 => {
                    let (row, col) = at(r.data)?;
                    values.add(row, col);
                    t.records += 1;
                    // Room for the declared characters is reserved whatever follows.
                    let cch = r
                        .data
                        .get(6..8)
                        .map_or(0, |c| u16::from_le_bytes([c[0], c[1]]));
                    t.text += held(u64::from(cch).max(3 * r.data.len() as u64));
                }
                0x0207 => {
                    values.add(formula_at.0, formula_at.1);
                    t.records += 1;
                    let cch = r
                        .data
                        .get(0..2)
                        .map_or(0, |c| u16::from_le_bytes([c[0], c[1]]));
                    t.text += held(u64::from(cch).max(3 * r.data.len() as u64));
                }
                0x00FD => {
                    if r.data.len() < 10 {
                        return Err(broken());
                    }
                    let (row, col) = at(r.data)?;
                    if let Some(bytes) = sst.get(u32_at(r.data, 6)? as usize) {
                        values.add(row, col);
                        t.records += 1;
                        t.text += held(*bytes);
                    }
                }
                0x00BD => {
                    let d = r.data;
                    if d.len() < 6 {
                        return Err(broken());
                    }
                    let row = u32::from(u16_at(d, 0)?);
                    let first = u32::from(u16_at(d, 2)?);
                    let last = u32::from(u16_at(d, d.len() - 2)?);
                    if last < first || d.len() != 6 + 6 * (last - first + 1) as usize {
                        return Err(broken());
                    }
                    values.add(row, first);
                    values.add(row, last);
                    t.records += u64::from(last - first + 1);
                }
                0x0006 => {
                    if r.data.len() < 20 {
                        return Err(broken());
                    }
                    formula_at = at(r.data)?;
                    values.add(formula_at.0, formula_at.1);
                    formulas.add(formula_at.0, formula_at.1);
                    t.records += 2;
                    t.text += held(formula_factor * (r.data.len() as u64 - 20));
                }
                0x000A => break,
                _ => {}
            }
            t.check()?;
        }
        t.grid += values.cells() + formulas.cells();
        t.check()?;
    }
    Ok(())
}
