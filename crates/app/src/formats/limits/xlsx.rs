//! Checking an `.xlsx` archive before the spreadsheet library opens it: the number of
//! entries (counted from the bytes, not from what the archive says), every entry
//! decompressed with a cap on the total, and the XML the library will parse scanned for
//! the limits (see [`super::xml`]).

use std::io::{Read, Seek, SeekFrom};

use super::xml::{base_name, Totals, XmlScan, RELS_TAG_BYTES, STYLE_TAG_BYTES};
use super::{over, size_text, InputLimits, Refused};

/// The most a relationship part may unpack to (the library keeps every relationship of the
/// workbook's part in a map).
const RELS_PART_BYTES: u64 = 16 << 20;

fn broken() -> Refused {
    Refused("文件不是有效的Excel工作簿（.xlsx压缩包已损坏或被加密）：请在Excel中打开并另存为 .xlsx 后重新导入".into())
}

/// How many central-directory headers (`PK\x01\x02`) the bytes hold: an upper bound on the
/// entries any reading of the archive can find, whatever its end record claims.
fn directory_headers<R: Read + Seek>(r: &mut R) -> Result<u64, Refused> {
    const SIG: &[u8; 4] = b"PK\x01\x02";
    r.seek(SeekFrom::Start(0)).map_err(|_| broken())?;
    let mut buf = vec![0u8; 1 << 16];
    let mut carry = 0usize;
    let mut n = 0u64;
    loop {
        let got = r.read(&mut buf[carry..]).map_err(|_| broken())?;
        if got == 0 {
            break;
        }
        let end = carry + got;
        n += memchr::memmem::find_iter(&buf[..end], SIG).count() as u64;
        // Keep the last three bytes: a signature may straddle two reads (and a complete
        // one is never among them, so nothing is counted twice).
        let keep = end.min(SIG.len() - 1);
        buf.copy_within(end - keep..end, 0);
        carry = keep;
    }
    r.seek(SeekFrom::Start(0)).map_err(|_| broken())?;
    Ok(n)
}

/// Checks an `.xlsx` (or `.xlsm`) archive against the limits; the reader is left at its
/// start. Refuses archives that are not zip files, are damaged or encrypted.
pub fn check_xlsx<R: Read + Seek>(mut reader: R, limits: &InputLimits) -> Result<(), Refused> {
    let headers = directory_headers(&mut reader)?;
    if headers > limits.max_zip_entries {
        return Err(Refused(format!(
            "工作簿包含{headers}个部件，{}：文件可能经过恶意构造，已拒绝",
            over("max_zip_entries", limits.max_zip_entries.to_string())
        )));
    }
    let mut zip = zip::ZipArchive::new(&mut reader).map_err(|_| broken())?;
    let mut totals = Totals::default();
    let mut unpacked = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    // Entries not named as XML: parsed by the library only if a relationship names them as
    // the workbook or a sheet, which is known once every relationship part is read.
    let mut others: Vec<(usize, String)> = Vec::new();
    for pass in 0..2 {
        let indexes: Vec<(usize, bool)> = if pass == 0 {
            (0..zip.len()).map(|i| (i, true)).collect()
        } else {
            others
                .iter()
                .map(|(i, name)| (*i, totals.referenced.contains(&base_name(name))))
                .filter(|(_, parsed)| *parsed)
                .collect()
        };
        for (i, _) in indexes {
            let mut entry = zip.by_index(i).map_err(|_| broken())?;
            let name = match entry.name() {
                Ok(n) => n.into_owned(),
                Err(_) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
            };
            let lower = name.to_ascii_lowercase();
            let rels = lower.ends_with(".rels");
            let as_xml = pass == 1 || rels || lower.ends_with(".xml");
            if pass == 0 && !as_xml {
                others.push((i, name.clone()));
            }
            let tag_limit = if rels {
                RELS_TAG_BYTES
            } else if base_name(&lower) == "styles.xml" {
                STYLE_TAG_BYTES
            } else {
                u64::MAX
            };
            let mut scan = as_xml.then(|| XmlScan::new(limits, &mut totals, &name, tag_limit));
            let mut part = 0u64;
            loop {
                let n = entry.read(&mut buf).map_err(|_| broken())?;
                if n == 0 {
                    break;
                }
                part += n as u64;
                // The second pass reads again what the first already counted.
                if pass == 0 {
                    unpacked += n as u64;
                    if unpacked > limits.max_unpacked_bytes {
                        return Err(Refused(format!(
                            "工作簿解压后{}：文件可能是“压缩炸弹”，已拒绝",
                            over("max_unpacked_bytes", size_text(limits.max_unpacked_bytes))
                        )));
                    }
                }
                if rels && part > RELS_PART_BYTES {
                    return Err(Refused(format!(
                        "工作簿部件“{name}”超过{}，Excel不会写入这样的关系表：已拒绝",
                        size_text(RELS_PART_BYTES)
                    )));
                }
                if let Some(s) = scan.as_mut() {
                    s.feed(&buf[..n])?;
                }
            }
        }
    }
    drop(zip);
    reader.seek(SeekFrom::Start(0)).map_err(|_| broken())?;
    Ok(())
}
