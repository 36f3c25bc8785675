//! Matching a bank's return file (回盘文件) to a batch: every row must name a line of the
//! batch still waiting for its result, once, with the line's amount and a result; stated
//! totals must add up. Any problem refuses the whole file, naming every row at fault.

use std::collections::{HashMap, HashSet};

use super::{LineStatus, PayrollBatch};
use crate::{Fen, FieldErrors, YearMonth};

/// One data row of a return file, as the bank wrote it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnRow {
    /// The row number in the file (Excel's row number in a workbook).
    pub row: usize,
    pub line_no: Option<String>,
    pub batch_no: Option<String>,
    pub id_number: Option<String>,
    pub name: Option<String>,
    pub amount: Option<String>,
    pub period: Option<String>,
    /// The result in the bank's words (成功, 交易不成功 …).
    pub result_text: String,
    /// What the words say: paid, failed, or not a result (yet).
    pub paid: Option<bool>,
    pub reason: String,
    pub txn: String,
}

/// A return file's rows and its totals line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReturnFile {
    pub rows: Vec<ReturnRow>,
    /// (count if stated, total amount text)
    pub totals: Option<(Option<usize>, String)>,
    /// The amount column is in fen (its title says 分).
    pub amount_in_fen: bool,
}

/// What matching needs to know of a line of the batch.
#[derive(Debug, Clone)]
pub struct LineKey {
    pub id_number: String,
    pub name: String,
    /// 户名: the account holder, who may be a guardian rather than the beneficiary.
    pub holder: String,
    pub period: YearMonth,
    pub amount: Fen,
    pub status: LineStatus,
}

/// One matched result, ready to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedResult {
    pub line_id: i64,
    pub paid: bool,
    /// The failure's reason (at most 200 characters); empty when paid.
    pub reason: String,
    /// The bank's transaction number (at most 64 characters), if given.
    pub txn: String,
    pub amount: Fen,
}

/// An amount in yuan (`300.00`) or, for a file in fen, whole fen.
pub fn parse_amount(s: &str, fen: bool) -> Option<Fen> {
    if fen {
        s.trim().parse::<i64>().ok().map(Fen)
    } else {
        Fen::parse_yuan(s).ok()
    }
}

/// Matches every row to a line of `b` (`lines` by id); any problem refuses the whole file,
/// as a message on the `file` field naming the first twenty problems.
pub fn reconcile(
    b: &PayrollBatch,
    file: &ReturnFile,
    lines: &HashMap<i64, LineKey>,
) -> Result<Vec<MatchedResult>, FieldErrors> {
    let mut issues: Vec<String> = Vec::new();
    let mut by_id: HashMap<&str, Vec<i64>> = HashMap::new();
    for (id, l) in lines {
        by_id.entry(l.id_number.as_str()).or_default().push(*id);
    }
    let mut seen: HashSet<i64> = HashSet::new();
    let mut out = Vec::new();
    let mut sum = 0i64;
    if file.rows.is_empty() {
        issues.push("文件中没有回盘明细".into());
    }
    for r in &file.rows {
        let at = format!("第{}行", r.row);
        if let Some(bn) = &r.batch_no {
            if bn != &b.batch_no {
                issues.push(format!("{at}：批次号“{bn}”不是本批次（{}）", b.batch_no));
                continue;
            }
        }
        let line_id = match (&r.line_no, &r.id_number) {
            (Some(n), _) => match n.parse::<i64>().ok().filter(|i| lines.contains_key(i)) {
                Some(i) => i,
                None => {
                    issues.push(format!("{at}：明细号“{n}”不属于本批次"));
                    continue;
                }
            },
            (None, Some(idn)) => {
                let candidates: Vec<i64> = by_id
                    .get(idn.as_str())
                    .map(|v| {
                        v.iter()
                            .copied()
                            .filter(|i| {
                                r.period
                                    .as_deref()
                                    .is_none_or(|p| lines[i].period.compact() == p.replace('-', ""))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                match candidates.as_slice() {
                    [one] => *one,
                    [] => {
                        issues.push(format!("{at}：证件号码{idn}不在本批次中"));
                        continue;
                    }
                    _ => {
                        issues.push(format!(
                            "{at}：证件号码{idn}在本批次中有多笔，请提供明细号或所属期"
                        ));
                        continue;
                    }
                }
            }
            (None, None) => {
                issues.push(format!("{at}：缺少明细号和证件号码"));
                continue;
            }
        };
        let l = &lines[&line_id];
        if let Some(idn) = &r.id_number {
            if idn != &l.id_number {
                issues.push(format!("{at}：证件号码与明细号{line_id}的发放对象不符"));
                continue;
            }
        }
        // 姓名 or 户名: banks name the beneficiary or the account's holder.
        if let Some(name) = &r.name {
            if name != &l.name && name != &l.holder {
                issues.push(format!("{at}：姓名“{name}”与明细号{line_id}的发放对象不符"));
                continue;
            }
        }
        if !seen.insert(line_id) {
            issues.push(format!("{at}：明细号{line_id}在文件中重复出现"));
            continue;
        }
        if l.status != LineStatus::Planned {
            issues.push(format!("{at}：明细号{line_id}已于此前回盘对账"));
            continue;
        }
        let amount = r
            .amount
            .as_deref()
            .and_then(|a| parse_amount(a, file.amount_in_fen));
        match amount {
            Some(a) if a == l.amount => sum += a.0,
            Some(a) => {
                issues.push(format!(
                    "{at}：金额{}与发放明细的{}不符",
                    a.yuan_string(),
                    l.amount.yuan_string()
                ));
                continue;
            }
            None => {
                issues.push(format!(
                    "{at}：金额“{}”无法识别",
                    r.amount.as_deref().unwrap_or("")
                ));
                continue;
            }
        }
        let Some(ok) = r.paid else {
            issues.push(format!(
                "{at}：处理结果“{}”无法识别（应为成功或失败）",
                r.result_text
            ));
            continue;
        };
        if !ok && r.reason.trim().is_empty() {
            issues.push(format!("{at}：发放失败但未注明失败原因"));
            continue;
        }
        out.push(MatchedResult {
            line_id,
            paid: ok,
            reason: if ok {
                String::new()
            } else {
                r.reason.trim().chars().take(200).collect()
            },
            txn: r.txn.chars().take(64).collect(),
            amount: l.amount,
        });
    }
    if let Some((count, total)) = &file.totals {
        if let Some(c) = count {
            if *c != file.rows.len() {
                issues.push(format!("合计行笔数{c}与明细行数{}不符", file.rows.len()));
            }
        }
        match parse_amount(total, file.amount_in_fen) {
            Some(t) if issues.is_empty() && t.0 != sum => issues.push(format!(
                "合计金额{}与明细金额之和{}不符",
                t.yuan_string(),
                Fen(sum).yuan_string()
            )),
            None => issues.push(format!("合计行金额“{total}”无法识别")),
            _ => {}
        }
    }
    if issues.is_empty() {
        return Ok(out);
    }
    let shown: Vec<&str> = issues.iter().take(20).map(String::as_str).collect();
    let more = if issues.len() > 20 {
        format!("；另有{}处问题", issues.len() - 20)
    } else {
        String::new()
    };
    Err(FieldErrors::one(
        "file",
        format!(
            "回盘文件不能对账，未导入任何结果（共{}处问题）：{}{more}",
            issues.len(),
            shown.join("；")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch() -> PayrollBatch {
        PayrollBatch::sample()
    }

    fn lines() -> HashMap<i64, LineKey> {
        let key = |id: &str, name: &str, fen: i64| LineKey {
            id_number: id.into(),
            name: name.into(),
            holder: format!("{name}的监护人"),
            period: YearMonth::parse("2026-11").unwrap(),
            amount: Fen(fen),
            status: LineStatus::Planned,
        };
        HashMap::from([
            (10, key("11010519491231002X", "张三", 50_000)),
            (11, key("110101202311012176", "李四", 42_050)),
        ])
    }

    fn row(n: usize, line: &str, name: &str, amount: &str, paid: Option<bool>) -> ReturnRow {
        ReturnRow {
            row: n,
            line_no: Some(line.into()),
            name: Some(name.into()),
            amount: Some(amount.into()),
            result_text: "x".into(),
            paid,
            reason: if paid == Some(false) {
                "账户冻结".into()
            } else {
                String::new()
            },
            ..Default::default()
        }
    }

    #[test]
    fn a_file_that_adds_up_is_matched_line_by_line() {
        let file = ReturnFile {
            rows: vec![
                row(2, "10", "张三", "500.00", Some(true)),
                row(3, "11", "李四的监护人", "420.50", Some(false)),
            ],
            totals: Some((Some(2), "920.50".into())),
            amount_in_fen: false,
        };
        let out = reconcile(&batch(), &file, &lines()).unwrap();
        assert_eq!(out.len(), 2);
        assert!(out[0].paid && !out[1].paid);
        assert_eq!(out[1].reason, "账户冻结");
    }

    #[test]
    fn every_problem_refuses_the_whole_file() {
        let file = ReturnFile {
            rows: vec![
                row(2, "10", "张三", "500.01", Some(true)),
                row(3, "99", "某某", "1.00", Some(true)),
                row(4, "11", "李四", "420.50", None),
            ],
            totals: None,
            amount_in_fen: false,
        };
        let e = reconcile(&batch(), &file, &lines()).unwrap_err();
        let m = e.get("file").unwrap();
        assert!(
            m.starts_with("回盘文件不能对账，未导入任何结果（共3处问题）"),
            "{m}"
        );
        assert!(m.contains("第2行：金额500.01与发放明细的500.00不符"), "{m}");
        assert!(m.contains("第3行：明细号“99”不属于本批次"), "{m}");
        assert!(m.contains("第4行：处理结果“x”无法识别"), "{m}");
    }

    fn by_id(n: usize, id: &str, period: Option<&str>, amount: &str) -> ReturnRow {
        ReturnRow {
            row: n,
            id_number: Some(id.into()),
            period: period.map(String::from),
            amount: Some(amount.into()),
            result_text: "成功".into(),
            paid: Some(true),
            ..Default::default()
        }
    }

    fn refusal(file: &ReturnFile, lines: &HashMap<i64, LineKey>) -> String {
        reconcile(&batch(), file, lines)
            .unwrap_err()
            .get("file")
            .unwrap()
            .to_string()
    }

    fn file(rows: Vec<ReturnRow>, totals: Option<(Option<usize>, String)>) -> ReturnFile {
        ReturnFile {
            rows,
            totals,
            amount_in_fen: false,
        }
    }

    #[test]
    fn rows_are_matched_by_id_number_and_period_when_there_is_no_line_number() {
        // 张三 also has October's back pay (line 12) in this batch.
        let mut lines = lines();
        lines.insert(
            12,
            LineKey {
                period: YearMonth::parse("2026-10").unwrap(),
                amount: Fen(30_000),
                ..lines[&10].clone()
            },
        );
        let ok = file(
            vec![
                by_id(2, "11010519491231002X", Some("2026-10"), "300.00"),
                by_id(3, "11010519491231002X", Some("202611"), "500.00"),
                by_id(4, "110101202311012176", None, "420.50"),
            ],
            None,
        );
        let out = reconcile(&batch(), &ok, &lines).unwrap();
        assert_eq!(
            out.iter().map(|m| m.line_id).collect::<Vec<_>>(),
            [12, 10, 11]
        );
        // Without the period the ID number names two lines; an unknown one names none.
        let m = refusal(
            &file(
                vec![
                    by_id(2, "11010519491231002X", None, "500.00"),
                    by_id(3, "110101199001011234", None, "1.00"),
                ],
                None,
            ),
            &lines,
        );
        assert!(
            m.contains("第2行：证件号码11010519491231002X在本批次中有多笔，请提供明细号或所属期"),
            "{m}"
        );
        assert!(
            m.contains("第3行：证件号码110101199001011234不在本批次中"),
            "{m}"
        );
    }

    #[test]
    fn the_batch_number_and_the_id_number_must_be_this_lines() {
        let mut mine = row(2, "10", "张三", "500.00", Some(true));
        mine.batch_no = Some(batch().batch_no);
        mine.id_number = Some("11010519491231002X".into());
        assert_eq!(
            reconcile(&batch(), &file(vec![mine.clone()], None), &lines())
                .unwrap()
                .len(),
            1
        );
        let mut other_batch = mine.clone();
        other_batch.batch_no = Some("202611-511802002-urban_dibao".into());
        let mut other_person = mine;
        other_person.row = 3;
        other_person.id_number = Some("110101202311012176".into());
        let m = refusal(&file(vec![other_batch, other_person], None), &lines());
        assert!(
            m.contains("第2行：批次号“202611-511802002-urban_dibao”不是本批次"),
            "{m}"
        );
        assert!(m.contains("第3行：证件号码与明细号10的发放对象不符"), "{m}");
    }

    #[test]
    fn the_totals_line_must_add_up_and_be_readable() {
        let rows = || {
            vec![
                row(2, "10", "张三", "500.00", Some(true)),
                row(3, "11", "李四", "420.50", Some(true)),
            ]
        };
        let m = refusal(&file(rows(), Some((Some(2), "920.51".into()))), &lines());
        assert!(m.contains("合计金额920.51与明细金额之和920.50不符"), "{m}");
        let m = refusal(&file(rows(), Some((None, "九百".into()))), &lines());
        assert!(m.contains("合计行金额“九百”无法识别"), "{m}");
        let m = refusal(&file(rows(), Some((Some(3), "920.50".into()))), &lines());
        assert!(m.contains("合计行笔数3与明细行数2不符"), "{m}");
    }

    #[test]
    fn a_refusal_names_twenty_problems_and_counts_the_rest() {
        let unknown = |n: usize| row(n, "99", "某某", "1.00", Some(true));
        let m = refusal(&file((1..=20).map(unknown).collect(), None), &lines());
        assert!(m.contains("（共20处问题）") && !m.contains("另有"), "{m}");
        let m = refusal(&file((1..=21).map(unknown).collect(), None), &lines());
        assert!(
            m.contains("（共21处问题）") && m.ends_with("；另有1处问题"),
            "{m}"
        );
        assert!(m.contains("第20行") && !m.contains("第21行"), "{m}");
    }
}
