//! The checks of an import that need more than one row: the same person twice in the file,
//! villages that do not exist or lie outside the importer's scope, what the database
//! already holds, and the checks that need a whole household. Each marks the rows it
//! refuses and adds their issues; nothing here reads or writes the database (the facts are
//! handed in).

use std::collections::HashSet;

use minzheng_domain::registry::ledger::{
    Existing, ExistingHousehold, Groups, Id18, IdMap, Ledger, Row,
};
use minzheng_domain::registry::{household_problems, Column, ImportIssue, MemberFacts, Relation};
use minzheng_domain::{mask_id, Scope};

/// How ID numbers appear in the issues.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shown {
    pub mask: bool,
}

impl Shown {
    fn id(self, id: &str) -> String {
        if self.mask {
            mask_id(id)
        } else {
            id.to_string()
        }
    }
}

/// Duplicates inside the file (rows in ID order, then file order): every repeat is
/// refused. Returns the file's distinct ID numbers, sorted.
pub(super) fn duplicates(
    rows: &[Row],
    shown: Shown,
    issues: &mut Vec<ImportIssue>,
    bad: &mut [bool],
) -> Vec<Id18> {
    let mut by_id: Vec<u32> = (0..rows.len() as u32).collect();
    by_id.sort_unstable_by(|&a, &b| {
        rows[a as usize]
            .id
            .cmp(&rows[b as usize].id)
            .then(a.cmp(&b))
    });
    for run in by_id.chunk_by(|&a, &b| rows[a as usize].id == rows[b as usize].id) {
        let first = rows[run[0] as usize].line;
        for &k in &run[1..] {
            let r = &rows[k as usize];
            issues.push(ImportIssue {
                row: r.line as usize,
                column: Column::IdNumber.header().into(),
                value: shown.id(r.id()),
                reason: format!("同一人在文件中出现了两次（与第{first}行重复）"),
            });
            bad[k as usize] = true;
        }
    }
    let mut v: Vec<Id18> = by_id.iter().map(|&k| rows[k as usize].id).collect();
    v.dedup();
    v
}

/// The villages the rows name, to look up.
pub(super) fn villages(rows: &[Row]) -> Vec<String> {
    let wanted: HashSet<[u8; 12]> = rows.iter().map(|r| r.village).collect();
    wanted
        .into_iter()
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .collect()
}

/// Villages must exist (`known`) and lie inside the importer's scope.
pub(super) fn village_issues(
    rows: &[Row],
    known: &HashSet<[u8; 12]>,
    scope: &Scope,
    issues: &mut Vec<ImportIssue>,
    bad: &mut [bool],
) {
    for (k, r) in rows.iter().enumerate() {
        let reason = if !known.contains(&r.village) {
            if scope.contains_str(r.village()) {
                format!("区划代码{}不存在", r.village())
            } else {
                "该村(社区)不在您的管辖范围内".to_string()
            }
        } else if !scope.contains_str(r.village()) {
            "该村(社区)不在您的管辖范围内".to_string()
        } else {
            continue;
        };
        issues.push(ImportIssue {
            row: r.line as usize,
            column: Column::Village.header().into(),
            value: r.village().into(),
            reason,
        });
        bad[k] = true;
    }
}

/// The heads of the file's households, sorted.
pub(super) fn heads(rows: &[Row], groups: &Groups) -> Vec<Id18> {
    let mut v: Vec<Id18> = (0..groups.len())
        .map(|g| rows[groups.get(g)[0] as usize].head)
        .collect();
    v.sort_unstable();
    v
}

/// Against the database: a person registered in another jurisdiction, a registered ID
/// number with another name (an identity conflict), a head of another household joining
/// this one, a household registered in another jurisdiction.
pub(super) fn database_issues(
    ledger: &Ledger,
    rows: &[Row],
    existing: &IdMap<Existing>,
    heads: &IdMap<ExistingHousehold>,
    shown: Shown,
    issues: &mut Vec<ImportIssue>,
    bad: &mut [bool],
) {
    for (k, r) in rows.iter().enumerate() {
        if let Some(e) = existing.get(&r.id) {
            if !e.in_scope {
                issues.push(ImportIssue {
                    row: r.line as usize,
                    column: Column::IdNumber.header().into(),
                    value: shown.id(r.id()),
                    reason:
                        "此人已在其他辖区登记（每人全市只能登记一次），请联系其户籍所在地民政办"
                            .into(),
                });
                bad[k] = true;
            } else if !minzheng_domain::registry::same_name(&e.name, ledger.name(r)) {
                issues.push(ImportIssue {
                    row: r.line as usize,
                    column: Column::Name.header().into(),
                    value: ledger.name(r).into(),
                    reason: format!(
                        "身份证号码{}在户籍台账中登记为“{}”，与本行姓名不一致：系统不会自动改名或合并，请核对",
                        shown.id(r.id()),
                        e.name
                    ),
                });
                bad[k] = true;
            } else if e.is_head && r.head != r.id {
                issues.push(ImportIssue {
                    row: r.line as usize,
                    column: Column::HeadId.header().into(),
                    value: shown.id(r.head()),
                    reason: "此人是系统中另一户的户主，不能直接迁入其他户：请先在原户更换户主"
                        .into(),
                });
                bad[k] = true;
            }
        }
        if heads.get(&r.head).is_some_and(|h| !h.in_scope) {
            issues.push(ImportIssue {
                row: r.line as usize,
                column: Column::HeadId.header().into(),
                value: shown.id(r.head()),
                reason: "该户已在其他辖区登记".into(),
            });
            bad[k] = true;
        }
    }
}

/// The checks that need a whole household; returns which households are bad.
pub(super) fn households(
    ledger: &Ledger,
    groups: &Groups,
    bad: &[bool],
    issues: &mut Vec<ImportIssue>,
) -> Vec<bool> {
    let rows = &ledger.rows;
    let mut bad_groups = vec![false; groups.len()];
    let mut facts: Vec<MemberFacts> = Vec::new();
    for (g, flag) in bad_groups.iter_mut().enumerate() {
        let idx = groups.get(g);
        facts.clear();
        facts.extend(idx.iter().map(|&i| MemberFacts {
            relation: rows[i as usize].relation,
            birth: rows[i as usize].birth,
        }));
        for (k, reason) in household_problems(&facts) {
            let r = &rows[idx[k] as usize];
            issues.push(ImportIssue {
                row: r.line as usize,
                column: Column::Relation.header().into(),
                value: r.relation.label().into(),
                reason,
            });
            *flag = true;
        }
        let head = idx
            .iter()
            .map(|&i| &rows[i as usize])
            .find(|r| r.relation == Relation::Head);
        if let Some(head) = head {
            if head.registration_type.is_none() {
                issues.push(ImportIssue {
                    row: head.line as usize,
                    column: Column::RegistrationType.header().into(),
                    value: String::new(),
                    reason: "户主行必须填写户籍类型（城镇/农村）".into(),
                });
                *flag = true;
            }
            for &i in idx {
                let r = &rows[i as usize];
                if r.village != head.village {
                    issues.push(ImportIssue {
                        row: r.line as usize,
                        column: Column::Village.header().into(),
                        value: r.village().into(),
                        reason: format!(
                            "同一户成员的村(社区)代码与户主行（{}）不一致",
                            head.village()
                        ),
                    });
                    *flag = true;
                }
            }
        }
        // A member row that failed its own checks leaves the household incomplete.
        if idx.iter().any(|&i| bad[i as usize])
            || ledger.bad_heads.contains(&rows[idx[0] as usize].head)
        {
            *flag = true;
        }
    }
    bad_groups
}

/// Under `valid_only`: the good rows of a bad household are left out with it.
pub(super) fn left_out(
    rows: &[Row],
    groups: &Groups,
    bad_groups: &[bool],
    bad: &[bool],
    issues: &mut Vec<ImportIssue>,
) {
    for (g, _) in bad_groups.iter().enumerate().filter(|(_, b)| **b) {
        for &i in groups.get(g) {
            if !bad[i as usize] {
                issues.push(ImportIssue {
                    row: rows[i as usize].line as usize,
                    column: String::new(),
                    value: String::new(),
                    reason: "所在户有错误，整户未导入".into(),
                });
            }
        }
    }
}

/// Issues in file order (then by column).
pub(super) fn sort(issues: &mut [ImportIssue]) {
    issues.sort_by(|a, b| (a.row, &a.column).cmp(&(b.row, &b.column)));
}
