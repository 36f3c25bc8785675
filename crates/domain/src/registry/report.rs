//! What a ledger import found and did: the issues located in the file, the report with its
//! Chinese summary, and the progress reported while it runs.

use serde::{Deserialize, Serialize};

use super::columns::Column;
use super::input::mask_account;
use crate::mask_id;

/// One problem, located in the file. `row` is the spreadsheet row (1-based, header
/// included); 0 means the file as a whole.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImportIssue {
    pub row: usize,
    pub column: String,
    pub value: String,
    pub reason: String,
}

impl ImportIssue {
    /// A problem with the file as a whole.
    pub fn file(reason: impl Into<String>) -> ImportIssue {
        ImportIssue {
            row: 0,
            column: String::new(),
            value: String::new(),
            reason: reason.into(),
        }
    }

    /// The issue with an ID number or account in its value hidden.
    pub fn masked(mut self) -> ImportIssue {
        if self.column == Column::IdNumber.header() || self.column == Column::HeadId.header() {
            self.value = mask_id(&self.value);
        } else if self.column == Column::Account.header() {
            self.value = mask_account(&self.value);
        }
        self
    }
}

/// What an import did (or would do).
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub file_name: String,
    pub sheet: Option<String>,
    pub encoding: Option<String>,
    pub rows_read: usize,
    pub rows_valid: usize,
    pub households: usize,
    pub households_created: usize,
    pub households_updated: usize,
    pub persons_created: usize,
    pub persons_updated: usize,
    pub persons_moved: usize,
    pub issues: Vec<ImportIssue>,
    /// Whether anything was written.
    pub written: bool,
    pub dry_run: bool,
}

impl ImportReport {
    /// A one-line Chinese summary.
    pub fn summary(&self) -> String {
        if self.written {
            format!(
                "导入完成：读取{}行，新增{}户、更新{}户，新增{}人、更新{}人（其中迁入{}人）{}",
                self.rows_read,
                self.households_created,
                self.households_updated,
                self.persons_created,
                self.persons_updated,
                self.persons_moved,
                if self.issues.is_empty() {
                    String::new()
                } else {
                    format!("；另有{}处错误的行未导入", self.issues.len())
                }
            )
        } else if self.issues.is_empty() {
            format!(
                "校验通过（试导入，未写入）：{}行，{}户",
                self.rows_read, self.households
            )
        } else {
            format!(
                "发现{}处错误，未写入任何数据。请按错误报告修改后重新导入。",
                self.issues.len()
            )
        }
    }

    /// Whether the import did what it was asked: wrote the ledger, or (a dry run) found it
    /// valid.
    pub fn succeeded(&self) -> bool {
        self.written || (self.dry_run && self.issues.is_empty())
    }

    /// The report with ID numbers and accounts in its issues hidden (for roles that may not
    /// see them).
    pub fn masked(mut self) -> ImportReport {
        self.issues = self.issues.into_iter().map(ImportIssue::masked).collect();
        self
    }
}

/// How far an import is: (phase, done, total).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct ImportProgress {
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_chinese() {
        let r = ImportReport {
            rows_read: 3,
            households: 1,
            dry_run: true,
            ..Default::default()
        };
        assert!(r.summary().contains("校验通过"));
        assert!(r.succeeded());
    }

    #[test]
    fn masking_hides_ids_and_accounts_only() {
        let issue = |column: Column, value: &str| ImportIssue {
            row: 2,
            column: column.header().into(),
            value: value.into(),
            reason: "x".into(),
        };
        let r = ImportReport {
            issues: vec![
                issue(Column::IdNumber, "11010519491231002X"),
                issue(Column::Account, "6217001234567890"),
                issue(Column::Name, "张三"),
            ],
            ..Default::default()
        }
        .masked();
        let values: Vec<&str> = r.issues.iter().map(|i| i.value.as_str()).collect();
        assert_eq!(values, ["110105********002X", "6217********7890", "张三"]);
        // Masking twice changes nothing more.
        assert_eq!(r.clone().masked(), r);
        let head = issue(Column::HeadId, "11010519491231002X").masked();
        assert_eq!(head.value, "110105********002X");
    }

    #[test]
    fn the_summary_says_what_was_written_or_why_nothing_was() {
        let problem = ImportIssue::file("文件中没有数据行");
        assert_eq!((problem.row, problem.column.as_str()), (0, ""));
        assert_eq!(problem.reason, "文件中没有数据行");
        let written = ImportReport {
            rows_read: 10,
            households_created: 2,
            households_updated: 1,
            persons_created: 5,
            persons_updated: 3,
            persons_moved: 1,
            written: true,
            ..Default::default()
        };
        let partly = ImportReport {
            issues: vec![problem.clone(), problem.clone()],
            ..written.clone()
        };
        let checked = ImportReport {
            rows_read: 10,
            households: 3,
            dry_run: true,
            ..Default::default()
        };
        let refused = ImportReport {
            issues: vec![problem],
            ..checked.clone()
        };
        let not_written = ImportReport {
            dry_run: false,
            ..refused.clone()
        };
        for (report, summary, succeeded) in [
            (
                &written,
                "导入完成：读取10行，新增2户、更新1户，新增5人、更新3人（其中迁入1人）",
                true,
            ),
            (
                &partly,
                "导入完成：读取10行，新增2户、更新1户，新增5人、更新3人（其中迁入1人）；另有2处错误的行未导入",
                true,
            ),
            (&checked, "校验通过（试导入，未写入）：10行，3户", true),
            (
                &refused,
                "发现1处错误，未写入任何数据。请按错误报告修改后重新导入。",
                false,
            ),
            (
                &not_written,
                "发现1处错误，未写入任何数据。请按错误报告修改后重新导入。",
                false,
            ),
            (&ImportReport::default(), "校验通过（试导入，未写入）：0行，0户", false),
        ] {
            assert_eq!(report.summary(), summary);
            assert_eq!(report.succeeded(), succeeded, "{summary}");
        }
    }
}
