//! Lists read by their column titles (death lists, other departments' lists): the cells of
//! a CSV/xlsx/xls file, the header found among its first ten rows by the titles it carries,
//! each known column's position, and the data rows with blank ones skipped. Each list names
//! its own columns and title variants; the refusals name the list.

use std::collections::HashMap;

use super::limits::InputLimits;
use super::returns::read_cells;
use crate::{Error, Result};

/// A list's cells, where its header is, and where each known column stands.
pub(crate) struct Titled {
    cells: Vec<Vec<String>>,
    header_at: usize,
    cols: HashMap<&'static str, usize>,
}

/// One data row: its known columns' values, trimmed ("" where the list has no such column).
pub(crate) struct TitledRow<'a> {
    row: &'a [String],
    cols: &'a HashMap<&'static str, usize>,
}

impl TitledRow<'_> {
    pub fn get(&self, key: &str) -> String {
        self.cols
            .get(key)
            .and_then(|&c| self.row.get(c))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }
}

/// Reads `data` as the list `what`: `column` maps a title to its column key, and every
/// `(key, title)` of `required` must be present. An empty file, a file without a header (at
/// least three known titles in one of its first ten rows), a missing required column and a
/// header without data rows are refused with the list's name.
pub(crate) fn read_titled(
    what: &'static str,
    name: &str,
    data: &[u8],
    limits: &InputLimits,
    column: fn(&str) -> Option<&'static str>,
    required: &[(&str, &str)],
) -> Result<Titled> {
    let bad = |m: String| Error::field("file", m);
    if data.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(bad(format!("{what}是空的")));
    }
    let cells = read_cells(what, name, data, limits)?;
    let header_at = cells
        .iter()
        .take(10)
        .position(|r| r.iter().filter(|h| column(h).is_some()).count() >= 3)
        .ok_or_else(|| {
            let titles: Vec<&str> = required.iter().map(|(_, t)| *t).collect();
            bad(format!(
                "{what}中找不到表头（应有{}等列，可下载模板对照）",
                titles.join("、")
            ))
        })?;
    let mut cols = HashMap::new();
    for (i, h) in cells[header_at].iter().enumerate() {
        if let Some(k) = column(h) {
            cols.entry(k).or_insert(i);
        }
    }
    if let Some((_, title)) = required.iter().find(|(k, _)| !cols.contains_key(k)) {
        return Err(bad(format!("{what}缺少“{title}”列")));
    }
    let t = Titled {
        cells,
        header_at,
        cols,
    };
    if t.rows().next().is_none() {
        return Err(bad(format!("{what}中只有表头，没有数据行")));
    }
    Ok(t)
}

impl Titled {
    /// The data rows: (row number in the file, the row), blank rows skipped.
    pub fn rows(&self) -> impl Iterator<Item = (usize, TitledRow<'_>)> {
        self.cells
            .iter()
            .enumerate()
            .skip(self.header_at + 1)
            .filter(|(_, r)| !r.iter().all(|c| c.trim().is_empty()))
            .map(|(i, r)| {
                (
                    i + 1,
                    TitledRow {
                        row: r,
                        cols: &self.cols,
                    },
                )
            })
    }
}
