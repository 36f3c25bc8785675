// transitional: `decode_text` is here for the bank return files (`payroll_files.rs`); the
// ledger import decodes while it streams (`minzheng-app`). Remove once the return files
// are read elsewhere.

/// Decodes CSV bytes held in memory: UTF-8 (BOM optional) when valid, otherwise GB18030 (a
/// superset of GBK). For small files read whole.
pub(crate) fn decode_text(data: &[u8]) -> (String, &'static str) {
    if let Some(rest) = data.strip_prefix(b"\xEF\xBB\xBF") {
        return (String::from_utf8_lossy(rest).into_owned(), "UTF-8(BOM)");
    }
    match std::str::from_utf8(data) {
        Ok(s) => (s.to_string(), "UTF-8"),
        Err(_) => {
            let (s, _, _) = encoding_rs::GB18030.decode(data);
            (s.into_owned(), "GBK/GB18030")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_bom_and_gbk() {
        assert_eq!(decode_text("姓名".as_bytes()).0, "姓名");
        assert_eq!(decode_text(b"\xEF\xBB\xBFab").0, "ab");
        let (gbk, _, _) = encoding_rs::GBK.encode("张三,户主");
        let (s, enc) = decode_text(&gbk);
        assert_eq!(s, "张三,户主");
        assert_eq!(enc, "GBK/GB18030");
    }
}
