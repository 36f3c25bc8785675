//! 数据比对 — the cross-checks that look for money going where it should not, and the
//! findings (疑点) they raise (docs/rules.md §12). Each check is a set-based query of the
//! store over the whole jurisdiction; here are the words, the worklist's states and the
//! rules of a finding's life: a run never duplicates a finding still under way, a finding
//! the data no longer shows closes itself, and a clerk's verdict is kept.

use serde::{Deserialize, Serialize};

crate::coded_enum! {
    /// 比对项目 — what a check looks for.
    pub enum CheckKind {
        /// A payment for a month after the recorded death, not yet being recovered.
        PaidAfterDeath = ("paid_after_death", "死亡后仍有发放"),
        /// An enrolment still paying someone recorded dead.
        EnrolledAfterDeath = ("enrolled_after_death", "死亡人员仍在保"),
        /// One person enrolled twice in the same program (two townships, or twice in one).
        DuplicateEnrolment = ("duplicate_enrolment", "同一人重复享受同一项目"),
        /// One person in programs that exclude each other (低保 and 特困, two kinds of 低保).
        ExclusivePrograms = ("exclusive_programs", "同时享受互斥项目"),
        /// One bank account paid for beneficiaries of different households.
        SharedAccount = ("shared_account", "一个账户收取多户待遇"),
        /// An enrolment whose review date has passed without a review case.
        ReviewOverdue = ("review_overdue", "逾期未复核"),
        /// A beneficiary's ID number fails its check digit or carries no valid birth date.
        InvalidIdNumber = ("invalid_id_number", "身份证号码校验不通过"),
        /// A birth date the program cannot have: born after the enrolment began, in the
        /// future, over 120 years ago, or too young for 高龄津贴.
        ImplausibleBirth = ("implausible_birth", "出生日期与项目不符"),
        /// A person at the 高龄津贴's first age band with neither the allowance nor an
        /// application under way (the daily tasks' proposals count as applications).
        OldAgeNotEnrolled = ("old_age_not_enrolled", "达到高龄年龄未享受津贴"),
        /// A beneficiary household with a staff member or cadre, or a declared relative of
        /// one, whose case was not filed as such (近亲属未备案).
        UnfiledRelative = ("unfiled_relative", "近亲属享受待遇未备案"),
        /// A member of a beneficiary household on another department's list (迁出, 养老金,
        /// 车辆, 不动产, 市场主体).
        ListMatch = ("list_match", "其他部门数据比中"),
        /// A 低保 household whose recorded income per member now exceeds the standard.
        IncomeAboveStandard = ("income_above_standard", "家庭收入超过低保标准"),
    }
}

crate::coded_enum! {
    /// 疑点状态 — a finding's way through the worklist.
    pub enum FindingState {
        Open = ("open", "待核实"),
        /// Confirmed: something is wrong and must be put right.
        Confirmed = ("confirmed", "属实"),
        /// Checked and found in order (the reason is kept); a later run does not raise it again.
        Dismissed = ("dismissed", "不属实"),
        /// Confirmed and put right.
        Handled = ("handled", "已处理"),
        /// The data no longer shows it (the death was handled, the enrolment ended …).
        Closed = ("closed", "已自动关闭"),
    }
}

impl FindingState {
    /// Still someone's work: a run keeps these and does not raise the same finding again.
    pub fn under_way(self) -> bool {
        matches!(self, FindingState::Open | FindingState::Confirmed)
    }
}

impl CheckKind {
    /// What the clerk should do about such a finding.
    pub fn advice(self) -> &'static str {
        match self {
            CheckKind::PaidAfterDeath => {
                "核实死亡日期；属实的在殡葬管理中登记死亡，系统停发并开立追回"
            }
            CheckKind::EnrolledAfterDeath => {
                "核实死亡日期；属实的在殡葬管理中登记死亡，系统自动停发"
            }
            CheckKind::DuplicateEnrolment => "核实户籍所在地，保留一处，另一处办理停发",
            CheckKind::ExclusivePrograms => "核实后保留一个项目，另一个办理停发",
            CheckKind::SharedAccount => "核实账户户名与各户关系，必要时更正收款账户",
            CheckKind::ReviewOverdue => "尽快组织复核（执行每日任务可生成复核案件）",
            CheckKind::InvalidIdNumber => "核对身份证原件，更正户籍台账中的身份证号码",
            CheckKind::ImplausibleBirth => "核对身份证原件和出生日期；不符合条件的办理停发",
            CheckKind::OldAgeNotEnrolled => "核实后为其提出高龄津贴申请（或执行每日任务自动拟定）",
            CheckKind::UnfiledRelative => "补办近亲属备案，由县级民政部门入户核查，备案人回避",
            CheckKind::ListMatch => "入户核实收入、财产和户籍变化，必要时办理变更或停发",
            CheckKind::IncomeAboveStandard => {
                "入户核实家庭收入；确已超过标准的提出变更申请（减发或停发）"
            }
        }
    }
}

/// The clerk's verdict on a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// 属实.
    Confirm,
    /// 不属实.
    Dismiss,
    /// 已处理.
    Handle,
}

impl Verdict {
    pub fn parse(s: &str) -> Option<Verdict> {
        Some(match s.trim() {
            "confirm" => Verdict::Confirm,
            "dismiss" => Verdict::Dismiss,
            "handle" => Verdict::Handle,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Verdict::Confirm => "核实属实",
            Verdict::Dismiss => "核实不属实",
            Verdict::Handle => "处理完毕",
        }
    }
}

/// Why a verdict is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerdictRefusal {
    #[error("该疑点{0}，不能{1}")]
    WrongState(&'static str, &'static str),
    #[error("请填写核实情况（不超过500字）")]
    Note,
}

/// 待核实 → 属实 / 不属实, 属实 → 已处理 (or 待核实 → 已处理 at once); a note of what was
/// found is required each time.
pub fn verdict_step(
    from: FindingState,
    v: Verdict,
    note: &str,
) -> Result<FindingState, VerdictRefusal> {
    use FindingState as S;
    let to = match (from, v) {
        (S::Open, Verdict::Confirm) => S::Confirmed,
        (S::Open, Verdict::Dismiss) => S::Dismissed,
        (S::Open | S::Confirmed, Verdict::Handle) => S::Handled,
        (from, v) => return Err(VerdictRefusal::WrongState(from.label(), v.label())),
    };
    let n = note.trim().chars().count();
    if n == 0 || n > 500 {
        return Err(VerdictRefusal::Note);
    }
    Ok(to)
}

/// One finding in the worklist.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: i64,
    pub kind: CheckKind,
    /// What makes the finding one: the same key on a later run is the same finding.
    pub subject_key: String,
    pub township_code: String,
    pub id_number: String,
    pub name: String,
    pub household_id: Option<i64>,
    pub enrolment_id: Option<i64>,
    /// What the check saw (codes, months, fen); [`Finding::describe`] says it in words.
    pub evidence: serde_json::Value,
    pub state: FindingState,
    pub note: String,
    pub resolved_by: Option<String>,
    pub opened_at: String,
    pub updated_at: String,
}

impl Finding {
    /// The evidence in words a clerk reads: "2026-10 特困人员救助供养 800.00元已发放，死亡日期
    /// 2026-09-15".
    pub fn describe(&self) -> String {
        let e = &self.evidence;
        let s = |k: &str| e.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let n = |k: &str| e.get(k).and_then(|v| v.as_i64()).unwrap_or(0);
        let program = |code: &str| {
            code.parse::<crate::Program>()
                .map(|p| p.label().to_string())
                .unwrap_or_else(|_| code.to_string())
        };
        let list = |k: &str| -> Vec<String> {
            e.get(k)
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        match self.kind {
            CheckKind::PaidAfterDeath => format!(
                "{}{}{}已发放，死亡日期{}",
                s("period"),
                program(&s("program")),
                crate::Fen(n("amount_fen")),
                s("death_date")
            ),
            CheckKind::EnrolledAfterDeath => format!(
                "{}仍为{}，死亡日期{}",
                program(&s("program")),
                s("status")
                    .parse::<crate::cases::EnrolmentStatus>()
                    .map(|x| x.label().to_string())
                    .unwrap_or_else(|_| s("status")),
                s("death_date")
            ),
            CheckKind::DuplicateEnrolment => {
                let t = list("townships");
                let where_ = if t.first() == t.last() {
                    format!("在{}", t.first().map(String::as_str).unwrap_or(""))
                } else {
                    format!("分别在{}", t.join("和"))
                };
                format!(
                    "{}有{}条在保记录，{}",
                    program(&s("program")),
                    n("count"),
                    where_
                )
            }
            CheckKind::ExclusivePrograms => format!(
                "同时享受{}",
                list("programs")
                    .iter()
                    .map(|p| program(p))
                    .collect::<Vec<_>>()
                    .join("和")
            ),
            CheckKind::SharedAccount => format!(
                "账户{}收取{}户的待遇（{}等）",
                crate::registry::mask_account(&s("account")),
                n("households"),
                list("names").join("、")
            ),
            CheckKind::ReviewOverdue => {
                format!("{}应于{}复核，尚未复核", program(&s("program")), s("due"))
            }
            CheckKind::InvalidIdNumber => "身份证号码的校验码或出生日期不正确".to_string(),
            CheckKind::ImplausibleBirth => {
                let why = match s("why").as_str() {
                    "future" => "出生日期晚于今天",
                    "born_after_start" => "出生日期晚于开始享受的月份",
                    "too_young" => "未到高龄津贴的起始年龄",
                    _ => "年龄超过120岁",
                };
                format!(
                    "{}：出生日期{}，{}",
                    program(&s("program")),
                    s("birth"),
                    why
                )
            }
            CheckKind::OldAgeNotEnrolled => format!(
                "出生日期{}，已到高龄津贴起始年龄，未享受津贴，也没有正在办理的申请",
                s("birth")
            ),
            CheckKind::UnfiledRelative => {
                let post = crate::relatives::DeclarantPost::parse(&s("post"))
                    .map(|p| p.label())
                    .unwrap_or("");
                let tie = if s("relation") == "self" {
                    format!("成员{}本人是{}", s("member"), post)
                } else {
                    format!(
                        "成员{}是{}{}的{}",
                        s("member"),
                        post,
                        s("declarant"),
                        crate::relatives::Kinship::parse(&s("relation"))
                            .map(|r| r.label())
                            .unwrap_or("")
                    )
                };
                format!("{}：{}，案件未按近亲属备案", program(&s("program")), tie)
            }
            CheckKind::IncomeAboveStandard => format!(
                "{}：登记的家庭月人均收入{}（{}人），高于低保标准{}",
                program(&s("program")),
                crate::Fen(n("per_capita_fen")),
                n("members"),
                crate::Fen(n("standard_fen"))
            ),
            CheckKind::ListMatch => {
                let kind = crate::lists::ListKind::parse(&s("list"));
                format!(
                    "{}：成员{}在{}名单中（{}{}{}，{}接收）",
                    program(&s("program")),
                    s("member"),
                    kind.map(|k| k.label()).unwrap_or(""),
                    kind.map(|k| k.date_title()).unwrap_or("日期"),
                    s("date"),
                    if s("detail").is_empty() {
                        String::new()
                    } else {
                        format!("，{}", s("detail"))
                    },
                    s("received_on")
                )
            }
        }
    }
}

/// The worklist's filters as given.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct FindingFilter {
    pub kind: Option<String>,
    pub state: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// A [`FindingFilter`] read into typed values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingQuery {
    pub kind: crate::payroll::Wanted<CheckKind>,
    pub state: crate::payroll::Wanted<FindingState>,
    pub limit: i64,
    pub offset: i64,
}

impl FindingFilter {
    pub fn query(&self) -> FindingQuery {
        use crate::payroll::forms::wanted;
        FindingQuery {
            kind: wanted(&self.kind, CheckKind::parse),
            state: wanted(&self.state, FindingState::parse),
            limit: self.limit.unwrap_or(100).clamp(1, 5000),
            offset: self.offset.unwrap_or(0).max(0),
        }
    }
}

/// Findings per check and state inside a scope.
#[derive(Debug, Clone, Serialize)]
pub struct CheckCount {
    pub kind: CheckKind,
    pub open: i64,
    pub confirmed: i64,
    pub total: i64,
}

/// What a run found: per check, the findings now under way, the new ones and the ones that
/// closed themselves.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    pub checks: Vec<CheckRun>,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckRun {
    pub kind: CheckKind,
    pub found: i64,
    pub new: i64,
    pub closed: i64,
    pub seconds: f64,
}

impl RunReport {
    pub fn new_findings(&self) -> i64 {
        self.checks.iter().map(|c| c.new).sum()
    }
    pub fn found(&self) -> i64 {
        self.checks.iter().map(|c| c.found).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_is_confirmed_or_dismissed_then_handled_with_a_note() {
        use FindingState as S;
        assert_eq!(
            verdict_step(S::Open, Verdict::Confirm, "已核实"),
            Ok(S::Confirmed)
        );
        assert_eq!(
            verdict_step(S::Open, Verdict::Dismiss, "户籍信息有误"),
            Ok(S::Dismissed)
        );
        assert_eq!(
            verdict_step(S::Confirmed, Verdict::Handle, "已停发"),
            Ok(S::Handled)
        );
        assert_eq!(
            verdict_step(S::Open, Verdict::Confirm, "  "),
            Err(VerdictRefusal::Note)
        );
        assert!(matches!(
            verdict_step(S::Dismissed, Verdict::Confirm, "x"),
            Err(VerdictRefusal::WrongState(..))
        ));
        assert!(matches!(
            verdict_step(S::Closed, Verdict::Handle, "x"),
            Err(VerdictRefusal::WrongState(..))
        ));
    }

    #[test]
    fn a_verdict_is_read_from_its_code_and_refused_out_of_place_in_words() {
        assert_eq!(Verdict::parse(" confirm "), Some(Verdict::Confirm));
        assert_eq!(Verdict::parse("dismiss"), Some(Verdict::Dismiss));
        assert_eq!(Verdict::parse("handle"), Some(Verdict::Handle));
        assert_eq!(Verdict::parse("close"), None);
        use FindingState as S;
        for (from, v, message) in [
            (S::Dismissed, Verdict::Confirm, "该疑点不属实，不能核实属实"),
            (S::Confirmed, Verdict::Dismiss, "该疑点属实，不能核实不属实"),
            (S::Handled, Verdict::Handle, "该疑点已处理，不能处理完毕"),
        ] {
            let refusal = verdict_step(from, v, "已核实").unwrap_err();
            assert_eq!(refusal.to_string(), message);
        }
    }

    #[test]
    fn a_verdicts_note_may_run_to_500_characters_and_no_further() {
        let note = |n: usize| "查".repeat(n);
        for (n, ok) in [(1, true), (499, true), (500, true), (501, false)] {
            let out = verdict_step(FindingState::Open, Verdict::Confirm, &note(n));
            assert_eq!(out.is_ok(), ok, "{n} characters: {out:?}");
        }
        assert_eq!(
            verdict_step(FindingState::Open, Verdict::Handle, &note(501)),
            Err(VerdictRefusal::Note)
        );
    }

    #[test]
    fn each_check_tells_the_clerk_what_to_do_in_its_own_words() {
        assert_eq!(
            CheckKind::PaidAfterDeath.advice(),
            "核实死亡日期；属实的在殡葬管理中登记死亡，系统停发并开立追回"
        );
        let advice: std::collections::BTreeSet<_> =
            CheckKind::ALL.iter().map(|k| k.advice()).collect();
        assert_eq!(advice.len(), CheckKind::ALL.len());
    }

    fn finding(kind: CheckKind, evidence: serde_json::Value) -> Finding {
        Finding {
            id: 1,
            kind,
            subject_key: String::new(),
            township_code: "511802001".into(),
            id_number: String::new(),
            name: "张三".into(),
            household_id: None,
            enrolment_id: None,
            evidence,
            state: FindingState::Open,
            note: String::new(),
            resolved_by: None,
            opened_at: String::new(),
            updated_at: String::new(),
        }
    }

    #[test]
    fn a_finding_says_what_the_check_saw_in_words() {
        use serde_json::json;
        use CheckKind as K;
        let cases = [
            (
                K::PaidAfterDeath,
                json!({"period": "2026-10", "program": "tekun", "amount_fen": 80000,
                       "death_date": "2026-09-15"}),
                "2026-10特困人员救助供养800.00元已发放，死亡日期2026-09-15",
            ),
            (
                K::EnrolledAfterDeath,
                json!({"program": "rural_dibao", "status": "active", "death_date": "2026-09-15"}),
                "农村最低生活保障仍为正常发放，死亡日期2026-09-15",
            ),
            (
                K::DuplicateEnrolment,
                json!({"program": "rural_dibao", "count": 2, "townships": ["511802001"]}),
                "农村最低生活保障有2条在保记录，在511802001",
            ),
            (
                K::DuplicateEnrolment,
                json!({"program": "rural_dibao", "count": 2,
                       "townships": ["511802001", "511802002"]}),
                "农村最低生活保障有2条在保记录，分别在511802001和511802002",
            ),
            (
                K::ExclusivePrograms,
                json!({"programs": ["rural_dibao", "tekun"]}),
                "同时享受农村最低生活保障和特困人员救助供养",
            ),
            (
                K::SharedAccount,
                json!({"account": "6217000012345678", "households": 3, "names": ["张三", "李四"]}),
                "账户6217********5678收取3户的待遇（张三、李四等）",
            ),
            (
                K::ReviewOverdue,
                json!({"program": "rural_dibao", "due": "2026-05-01"}),
                "农村最低生活保障应于2026-05-01复核，尚未复核",
            ),
            (
                K::InvalidIdNumber,
                json!({}),
                "身份证号码的校验码或出生日期不正确",
            ),
            (
                K::ImplausibleBirth,
                json!({"program": "tekun", "birth": "2030-01-01", "why": "future"}),
                "特困人员救助供养：出生日期2030-01-01，出生日期晚于今天",
            ),
            (
                K::ImplausibleBirth,
                json!({"program": "tekun", "birth": "2020-01-01", "why": "born_after_start"}),
                "特困人员救助供养：出生日期2020-01-01，出生日期晚于开始享受的月份",
            ),
            (
                K::ImplausibleBirth,
                json!({"program": "old_age_allowance", "birth": "1960-01-01", "why": "too_young"}),
                "高龄津贴：出生日期1960-01-01，未到高龄津贴的起始年龄",
            ),
            (
                K::ImplausibleBirth,
                json!({"program": "tekun", "birth": "1890-01-01", "why": "too_old"}),
                "特困人员救助供养：出生日期1890-01-01，年龄超过120岁",
            ),
            (
                K::OldAgeNotEnrolled,
                json!({"birth": "1946-03-01"}),
                "出生日期1946-03-01，已到高龄津贴起始年龄，未享受津贴，也没有正在办理的申请",
            ),
            (
                K::UnfiledRelative,
                json!({"program": "rural_dibao", "post": "staff", "relation": "self",
                       "member": "张三"}),
                "农村最低生活保障：成员张三本人是民政经办人员，案件未按近亲属备案",
            ),
            (
                K::UnfiledRelative,
                json!({"program": "rural_dibao", "post": "staff", "relation": "spouse",
                       "member": "张三", "declarant": "李四"}),
                "农村最低生活保障：成员张三是民政经办人员李四的配偶，案件未按近亲属备案",
            ),
            (
                K::IncomeAboveStandard,
                json!({"program": "urban_dibao", "per_capita_fen": 95000, "members": 3,
                       "standard_fen": 90000}),
                "城市最低生活保障：登记的家庭月人均收入950.00元（3人），高于低保标准900.00元",
            ),
            (
                K::ListMatch,
                json!({"program": "rural_dibao", "member": "张三", "list": "vehicle",
                       "date": "2026-03-01", "detail": "川T12345", "received_on": "2026-04-01"}),
                "农村最低生活保障：成员张三在车辆登记名单中（登记日期2026-03-01，川T12345，2026-04-01接收）",
            ),
            (
                K::ListMatch,
                json!({"program": "rural_dibao", "member": "张三", "list": "police_move",
                       "date": "2026-03-01", "received_on": "2026-04-01"}),
                "农村最低生活保障：成员张三在公安户籍迁出名单中（迁出日期2026-03-01，2026-04-01接收）",
            ),
        ];
        for (kind, evidence, words) in cases {
            assert_eq!(finding(kind, evidence).describe(), words);
        }
    }

    #[test]
    fn a_runs_totals_add_up_every_check() {
        let run = |kind, found, new| CheckRun {
            kind,
            found,
            new,
            closed: 0,
            seconds: 0.0,
        };
        let report = RunReport {
            checks: vec![
                run(CheckKind::PaidAfterDeath, 4, 2),
                run(CheckKind::SharedAccount, 3, 1),
            ],
            seconds: 0.0,
        };
        assert_eq!(report.found(), 7);
        assert_eq!(report.new_findings(), 3);
        assert_eq!(RunReport::default().found(), 0);
    }

    #[test]
    fn only_open_and_confirmed_findings_are_under_way() {
        let under: Vec<_> = FindingState::ALL.iter().filter(|s| s.under_way()).collect();
        assert_eq!(under, [&FindingState::Open, &FindingState::Confirmed]);
    }
}
