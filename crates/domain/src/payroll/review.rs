//! The review before sign-off (环比变动): who is new, who stopped and whose amount changed
//! since the same program's batch of the month before, each with its reason; and the funds
//! ledger's chart series.

use std::collections::{BTreeMap, HashMap};

use super::{
    BatchDiff, DiffChange, DiffEntry, EnrolmentStatus, LedgerRow, PaymentKind, PayrollLine,
};
use crate::{Fen, YearMonth};

/// What the review needs to know about an enrolment: its state and dates, the case that
/// created it and the latest case about it.
#[derive(Debug, Clone)]
pub struct EnrolmentFacts {
    pub status: EnrolmentStatus,
    pub start_month: YearMonth,
    pub end_month: Option<YearMonth>,
    pub grace_until: Option<YearMonth>,
    pub payment: PaymentKind,
    pub township_code: String,
    /// The enrolment's monthly amount and what December adds (an annual amount paid
    /// monthly), which explain December's higher line and January's return.
    pub monthly: Fen,
    pub year_end_extra: Fen,
    pub case_id: Option<i64>,
    pub case_no: Option<String>,
    /// The case's kind code (new | review | change).
    pub case_kind: Option<String>,
    pub last_case_id: Option<i64>,
    pub last_case_no: Option<String>,
    pub last_case_kind: Option<String>,
}

/// The same program's batch of the month before, with its regular lines.
#[derive(Debug, Clone)]
pub struct PreviousBatch {
    pub id: i64,
    pub line_count: i64,
    pub planned: Fen,
    pub lines: Vec<PayrollLine>,
}

/// One changed beneficiary: the change, the line, the previous and the current amount.
type Change<'a> = (DiffChange, &'a PayrollLine, Option<Fen>, Option<Fen>);

/// Every changed beneficiary, and how many are unchanged. Current lines first (new or
/// changed), then the stopped ones.
fn changes<'a>(
    current: &'a [PayrollLine],
    previous: &'a [PayrollLine],
) -> (Vec<Change<'a>>, usize) {
    let prev_by: HashMap<&str, &PayrollLine> = previous
        .iter()
        .map(|l| (l.beneficiary_id_number.as_str(), l))
        .collect();
    let cur_by: HashMap<&str, &PayrollLine> = current
        .iter()
        .map(|l| (l.beneficiary_id_number.as_str(), l))
        .collect();
    let mut out = Vec::new();
    let mut unchanged = 0;
    for l in current {
        match prev_by.get(l.beneficiary_id_number.as_str()) {
            None => out.push((DiffChange::New, l, None, Some(l.amount))),
            Some(p) if p.amount != l.amount => {
                out.push((DiffChange::Changed, l, Some(p.amount), Some(l.amount)))
            }
            Some(_) => unchanged += 1,
        }
    }
    for p in previous {
        if !cur_by.contains_key(p.beneficiary_id_number.as_str()) {
            out.push((DiffChange::Stopped, p, Some(p.amount), None));
        }
    }
    (out, unchanged)
}

/// The enrolments whose lines changed (their facts explain the changes).
pub fn changed_enrolments(current: &[PayrollLine], previous: &[PayrollLine]) -> Vec<i64> {
    changes(current, previous)
        .0
        .iter()
        .map(|c| c.1.enrolment_id)
        .collect()
}

/// The review of a batch of `month` whose regular lines are `current` and whose back pay
/// and re-issues are `extras`, against `previous`.
pub fn diff(
    month: YearMonth,
    current: &[PayrollLine],
    extras: Vec<PayrollLine>,
    previous: Option<&PreviousBatch>,
    facts: &HashMap<i64, EnrolmentFacts>,
) -> BatchDiff {
    let previous_lines = previous.map(|p| p.lines.as_slice()).unwrap_or_default();
    let (changes, unchanged) = changes(current, previous_lines);
    let entries: Vec<DiffEntry> = changes
        .into_iter()
        .map(|(change, l, previous, current)| {
            let (reason, case_id, case_no) = explain(change, facts.get(&l.enrolment_id), month, l);
            DiffEntry {
                change,
                beneficiary_name: l.beneficiary_name.clone(),
                beneficiary_id_number: l.beneficiary_id_number.clone(),
                village_code: l.village_code.clone(),
                previous,
                current,
                reason,
                case_id,
                case_no,
                enrolment_id: l.enrolment_id,
            }
        })
        .collect();
    let count = |c: DiffChange| entries.iter().filter(|e| e.change == c).count();
    BatchDiff {
        previous_month: month.prev(),
        previous_batch_id: previous.map(|p| p.id),
        previous_lines: previous.map_or(0, |p| p.line_count),
        previous_total: previous.map_or(Fen(0), |p| p.planned),
        new_count: count(DiffChange::New),
        stopped_count: count(DiffChange::Stopped),
        changed_count: count(DiffChange::Changed),
        unchanged_count: unchanged,
        entries,
        extras,
    }
}

/// How the review names a case's kind.
fn case_kind_label(k: Option<&str>) -> &'static str {
    match k {
        Some("new") => "新申请",
        Some("review") => "复核",
        Some("change") => "变更",
        _ => "案件",
    }
}

/// The reason for one change of a batch of `month`, and the case behind it.
pub fn explain(
    change: DiffChange,
    f: Option<&EnrolmentFacts>,
    month: YearMonth,
    line: &PayrollLine,
) -> (String, Option<i64>, Option<String>) {
    let Some(f) = f else {
        return ("保障对象记录已不存在".into(), None, None);
    };
    // The latest case about the enrolment (review, change, stop) explains a stop or a new
    // amount; the case that created it explains a new entry.
    let (case_id, case_no, kind) = match change {
        DiffChange::New => (f.case_id, f.case_no.clone(), f.case_kind.as_deref()),
        _ => match f.last_case_id {
            Some(id) => (
                Some(id),
                f.last_case_no.clone(),
                f.last_case_kind.as_deref(),
            ),
            None => (f.case_id, f.case_no.clone(), f.case_kind.as_deref()),
        },
    };
    let by_case = case_no
        .as_deref()
        .map(|n| format!("{}案件{n}", case_kind_label(kind)));
    let text = match change {
        DiffChange::New => {
            let start = if f.start_month < month {
                format!("自{}起享受（以前月份另行补发）", f.start_month)
            } else {
                format!("自{}起享受", f.start_month)
            };
            match &by_case {
                Some(c) => format!("{c}批准，{start}"),
                None => format!("新纳入，{start}"),
            }
        }
        DiffChange::Changed
            if f.year_end_extra.0 > 0
                && month.month() == 12
                && line.amount == Fen(f.monthly.0 + f.year_end_extra.0) =>
        {
            format!("按年标准发放，12月补足全年差额{}", f.year_end_extra)
        }
        DiffChange::Changed
            if f.year_end_extra.0 > 0 && month.month() == 1 && line.amount == f.monthly =>
        {
            "按年标准发放，上月（12月）含全年差额，本月恢复按月发放".into()
        }
        DiffChange::Changed => match &by_case {
            Some(c) => format!("{c}调整保障金额"),
            None => "保障金额调整".into(),
        },
        DiffChange::Stopped => {
            let why = if f.status == EnrolmentStatus::Ended {
                match &f.end_month {
                    Some(e) => format!("已终止保障（{e}止）"),
                    None => "已终止保障".into(),
                }
            } else if f.status == EnrolmentStatus::Suspended {
                "暂停发放".into()
            } else if let Some(g) = f
                .grace_until
                .filter(|g| f.status == EnrolmentStatus::Grace && *g < month)
            {
                format!("渐退期满（至{g}）")
            } else if let Some(e) = f.end_month.filter(|e| *e < month) {
                format!("保障期满（{e}止）")
            } else if f.payment == PaymentKind::Once {
                "一次性发放，已发".into()
            } else if f.township_code != line.township_code {
                "已迁出本乡镇（街道）".into()
            } else {
                "本月已在其他批次发放".into()
            };
            match &by_case {
                Some(c) => format!("{c}：{why}"),
                None => why,
            }
        }
    };
    (text, case_id, case_no)
}

/// The months of the ledger and, per program (by its name), the planned amount (fen) of
/// each month: the chart's data.
pub fn ledger_series(rows: &[LedgerRow]) -> (Vec<YearMonth>, BTreeMap<String, Vec<i64>>) {
    let mut months: Vec<YearMonth> = rows.iter().map(|r| r.month).collect();
    months.sort();
    months.dedup();
    let index: HashMap<YearMonth, usize> =
        months.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut series: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for r in rows {
        let v = series
            .entry(r.program.label().to_string())
            .or_insert_with(|| vec![0; months.len()]);
        v[index[&r.month]] += r.planned.0;
    }
    (months, series)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payroll::{LineKind, LineStatus};
    use crate::Program;

    fn m(s: &str) -> YearMonth {
        YearMonth::parse(s).unwrap()
    }

    fn line(n: u32, enrolment: i64, fen: i64) -> PayrollLine {
        PayrollLine {
            id: enrolment,
            batch_id: 1,
            kind: LineKind::Regular,
            program: Program::UrbanDibao,
            period: m("2026-11"),
            enrolment_id: enrolment,
            township_code: "511802001".into(),
            village_code: "511802001001".into(),
            beneficiary_name: format!("对象{n}"),
            beneficiary_id_number: format!("51180219800101{n:03}X"),
            bank_name: "四川农信".into(),
            account_number: "6214000000000001".into(),
            account_holder: format!("对象{n}"),
            amount: Fen(fen),
            reissue_of: None,
            adjustment_id: None,
            status: LineStatus::Planned,
            fail_reason: None,
            bank_txn_id: None,
        }
    }

    fn facts(status: EnrolmentStatus, case: Option<(&str, &str)>) -> EnrolmentFacts {
        EnrolmentFacts {
            status,
            start_month: m("2026-01"),
            end_month: (status == EnrolmentStatus::Ended).then(|| m("2026-10")),
            grace_until: None,
            payment: PaymentKind::Monthly,
            township_code: "511802001".into(),
            monthly: Fen(0),
            year_end_extra: Fen(0),
            case_id: None,
            case_no: None,
            case_kind: None,
            last_case_id: case.map(|_| 9),
            last_case_no: case.map(|c| c.0.to_string()),
            last_case_kind: case.map(|c| c.1.to_string()),
        }
    }

    #[test]
    fn new_stopped_and_changed_with_their_reasons() {
        let previous = PreviousBatch {
            id: 7,
            line_count: 3,
            planned: Fen(120_000),
            lines: vec![line(1, 1, 50_000), line(2, 2, 40_000), line(3, 3, 30_000)],
        };
        let current = [line(1, 1, 50_000), line(3, 3, 35_000), line(4, 4, 60_000)];
        assert_eq!(changed_enrolments(&current, &previous.lines), [3, 4, 2]);
        let mut f = HashMap::new();
        f.insert(
            2,
            facts(EnrolmentStatus::Ended, Some(("DB2026-0002", "review"))),
        );
        f.insert(
            3,
            facts(EnrolmentStatus::Active, Some(("DB2026-0003", "change"))),
        );
        let d = diff(m("2026-11"), &current, Vec::new(), Some(&previous), &f);
        assert_eq!(d.previous_month, m("2026-10"));
        assert_eq!(
            (
                d.new_count,
                d.stopped_count,
                d.changed_count,
                d.unchanged_count
            ),
            (1, 1, 1, 1)
        );
        let entry = |c: DiffChange| d.entries.iter().find(|e| e.change == c).unwrap();
        assert_eq!(entry(DiffChange::New).reason, "保障对象记录已不存在");
        assert_eq!(
            entry(DiffChange::Stopped).reason,
            "复核案件DB2026-0002：已终止保障（2026-10止）"
        );
        assert_eq!(
            entry(DiffChange::Changed).reason,
            "变更案件DB2026-0003调整保障金额"
        );
        assert_eq!(entry(DiffChange::Changed).previous, Some(Fen(30_000)));
    }

    #[test]
    fn an_annual_amount_changes_in_december_and_january_by_the_year_end_remainder() {
        let care = |fen: i64| PreviousBatch {
            id: 7,
            line_count: 1,
            planned: Fen(fen),
            lines: vec![line(1, 1, fen)],
        };
        let mut f = HashMap::new();
        f.insert(1, {
            let mut x = facts(EnrolmentStatus::Active, Some(("YF2026-0001", "new")));
            x.monthly = Fen(968_916);
            x.year_end_extra = Fen(8);
            x
        });
        let december = [line(1, 1, 968_924)];
        let d = diff(
            m("2026-12"),
            &december,
            Vec::new(),
            Some(&care(968_916)),
            &f,
        );
        assert_eq!(d.entries[0].reason, "按年标准发放，12月补足全年差额0.08元");
        let january = [line(1, 1, 968_916)];
        let d = diff(m("2027-01"), &january, Vec::new(), Some(&care(968_924)), &f);
        assert_eq!(
            d.entries[0].reason,
            "按年标准发放，上月（12月）含全年差额，本月恢复按月发放"
        );
        // Any other change in December is the case's.
        let d = diff(
            m("2026-12"),
            &[line(1, 1, 900_000)],
            Vec::new(),
            Some(&care(968_916)),
            &f,
        );
        assert_eq!(d.entries[0].reason, "新申请案件YF2026-0001调整保障金额");
    }

    #[test]
    fn a_new_entry_names_the_case_that_granted_it_and_says_when_back_months_follow() {
        let mut f = facts(EnrolmentStatus::Active, Some(("DB2026-0009", "change")));
        f.case_id = Some(4);
        f.case_no = Some("DB2026-0004".into());
        f.case_kind = Some("new".into());
        f.start_month = m("2026-09");
        let l = line(1, 1, 50_000);
        let (text, case_id, case_no) = explain(DiffChange::New, Some(&f), m("2026-11"), &l);
        assert_eq!(
            text,
            "新申请案件DB2026-0004批准，自2026-09起享受（以前月份另行补发）"
        );
        assert_eq!(
            (case_id, case_no.as_deref()),
            (Some(4), Some("DB2026-0004"))
        );
        f.start_month = m("2026-11");
        let (text, ..) = explain(DiffChange::New, Some(&f), m("2026-11"), &l);
        assert_eq!(text, "新申请案件DB2026-0004批准，自2026-11起享受");
        f.case_no = None;
        let (text, ..) = explain(DiffChange::New, Some(&f), m("2026-11"), &l);
        assert_eq!(text, "新纳入，自2026-11起享受");
    }

    #[test]
    fn without_a_year_end_remainder_a_december_or_january_change_is_the_cases() {
        let mut f = facts(EnrolmentStatus::Active, Some(("DB2026-0003", "change")));
        f.monthly = Fen(50_000);
        let l = line(1, 1, 50_000);
        for month in ["2026-12", "2027-01"] {
            let (text, ..) = explain(DiffChange::Changed, Some(&f), m(month), &l);
            assert_eq!(text, "变更案件DB2026-0003调整保障金额", "{month}");
        }
        // With a remainder, January's line at the monthly amount is the annual rule's,
        // but a line at any other amount is the case's.
        f.year_end_extra = Fen(8);
        let (text, ..) = explain(DiffChange::Changed, Some(&f), m("2027-01"), &l);
        assert_eq!(
            text,
            "按年标准发放，上月（12月）含全年差额，本月恢复按月发放"
        );
        let (text, ..) = explain(
            DiffChange::Changed,
            Some(&f),
            m("2027-01"),
            &line(1, 1, 49_000),
        );
        assert_eq!(text, "变更案件DB2026-0003调整保障金额");
    }

    #[test]
    fn a_stopped_line_says_why() {
        let l = line(1, 1, 50_000);
        let why = |f: &EnrolmentFacts| explain(DiffChange::Stopped, Some(f), m("2026-11"), &l).0;
        let active = facts(EnrolmentStatus::Active, None);
        assert_eq!(why(&active), "本月已在其他批次发放");
        assert_eq!(why(&facts(EnrolmentStatus::Suspended, None)), "暂停发放");
        // 渐退: the last month of grace is still paid; the month after it is not.
        let mut grace = facts(EnrolmentStatus::Grace, None);
        grace.grace_until = Some(m("2026-10"));
        assert_eq!(why(&grace), "渐退期满（至2026-10）");
        grace.grace_until = Some(m("2026-11"));
        assert_eq!(why(&grace), "本月已在其他批次发放");
        // A grace month on an enrolment no longer in grace is not the reason.
        let mut stale = active.clone();
        stale.grace_until = Some(m("2026-10"));
        assert_eq!(why(&stale), "本月已在其他批次发放");
        // An end month before this month: the term is over; this month is still in it.
        let mut ends = active.clone();
        ends.end_month = Some(m("2026-10"));
        assert_eq!(why(&ends), "保障期满（2026-10止）");
        ends.end_month = Some(m("2026-11"));
        assert_eq!(why(&ends), "本月已在其他批次发放");
        let mut once = active.clone();
        once.payment = PaymentKind::Once;
        assert_eq!(why(&once), "一次性发放，已发");
        let mut moved = active.clone();
        moved.township_code = "511802002".into();
        assert_eq!(why(&moved), "已迁出本乡镇（街道）");
        assert_eq!(
            why(&facts(EnrolmentStatus::Ended, None)),
            "已终止保障（2026-10止）"
        );
    }

    #[test]
    fn the_ledger_chart_sums_programs_by_month() {
        let row = |month: &str, program: Program, fen: i64| LedgerRow {
            month: m(month),
            program,
            township_code: "511802001".into(),
            township_name: "东城街道".into(),
            batches: 1,
            lines: 1,
            planned: Fen(fen),
            paid_count: 0,
            paid: Fen(0),
            failed_count: 0,
            failed: Fen(0),
            reissue_count: 0,
            reissued: Fen(0),
            to_recover: Fen(0),
            recovered: Fen(0),
            written_off: Fen(0),
        };
        let rows = [
            row("2026-11", Program::UrbanDibao, 100),
            row("2026-10", Program::UrbanDibao, 50),
            row("2026-11", Program::UrbanDibao, 1),
            row("2026-11", Program::Tekun, 7),
        ];
        let (months, series) = ledger_series(&rows);
        assert_eq!(months, [m("2026-10"), m("2026-11")]);
        assert_eq!(series[Program::UrbanDibao.label()], [50, 101]);
        assert_eq!(series[Program::Tekun.label()], [0, 7]);
    }
}
