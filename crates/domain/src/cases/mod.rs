//! 案件流程 — the case state machine for applications (《最低生活保障审核确认办法》,
//! 《特困人员认定办法》; docs/rules.md §3).
//!
//! [`transition`] is pure: given what is known about a case, an action, who acts,
//! the approval level in force and the date, it says where the case goes and what
//! follows (clocks to start, notices to send), or why not. Storage applies the result.
//!
//! Error classes map to HTTP: an action that makes no sense in the current state is
//! [`CaseError::IllegalTransition`] (409); the right action by the wrong role is
//! [`CaseError::WrongRole`] (403); a well-placed action with bad content (no reasons,
//! one investigator) is [`CaseError::Invalid`] (422). Checks run in that order after
//! one exception: roles that never work on cases (auditor, city administrator) get
//! 403 for everything, so they learn nothing about case state from the answer.

mod form;
mod plausibility;
mod progress;
mod records;
mod rules;

pub use form::{DetailsForm, DETAILS_PROBLEM};
pub use plausibility::{
    check_hand_amount, plausibility, AmountStep, HandAmount, Plausibility, FAR_ABOVE_PERCENT,
};
pub use progress::{next_steps, notice_standing, waits_for_someone, NextStep, NoticeStanding};
pub use records::*;
pub use rules::*;

use chrono::NaiveDate;

use crate::deadlines::{notice_ends_on, Step};
use crate::programs::{ApprovalLevel, Workflow};
use crate::{Fen, Role};

crate::coded_enum! {
    /// 案件状态.
    pub enum CaseState {
        /// For 高龄津贴: proposed by the system.
        Draft = ("draft", "草稿"),
        Submitted = ("submitted", "已申请"),
        /// 材料不全(已一次性告知).
        MissingPapers = ("missing_papers", "材料不全"),
        Accepted = ("accepted", "已受理"),
        NotAccepted = ("not_accepted", "不予受理"),
        Investigating = ("investigating", "调查核实中"),
        PrelimOpinion = ("prelim_opinion", "已提出初审意见"),
        Publicised = ("publicised", "公示中"),
        Reinvestigating = ("reinvestigating", "异议复查中"),
        UnderConfirmation = ("under_confirmation", "审核确认中"),
        Approved = ("approved", "确认同意"),
        Denied = ("denied", "不予确认"),
        /// 已纳入保障(发放中).
        Enrolled = ("enrolled", "保障中"),
        Suspended = ("suspended", "暂停发放"),
        Terminated = ("terminated", "已终止"),
        Withdrawn = ("withdrawn", "已撤回"),
    }
}

impl CaseState {
    /// No action leads out of these.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            CaseState::NotAccepted
                | CaseState::Denied
                | CaseState::Terminated
                | CaseState::Withdrawn
        )
    }

    /// Before a decision: the applicant may still withdraw.
    fn withdrawable(self) -> bool {
        matches!(
            self,
            CaseState::Draft
                | CaseState::Submitted
                | CaseState::MissingPapers
                | CaseState::Accepted
                | CaseState::Investigating
                | CaseState::PrelimOpinion
                | CaseState::Publicised
                | CaseState::Reinvestigating
                | CaseState::UnderConfirmation
        )
    }
}

/// 办理动作, with what each needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "action")]
pub enum Action {
    /// 提交申请
    Submit,
    /// 受理
    Accept,
    /// 不予受理 — reasons required.
    NotAccept { reasons: String },
    /// 一次性告知补正材料 — all missing items in one notice.
    RequestPapers { missing: Vec<String> },
    /// 补正材料后重新提交
    ResubmitPapers,
    /// 开始入户调查 — at least two investigators and the signed authorisation
    /// (授权核查书) on file.
    StartInvestigation {
        investigators: Vec<String>,
        authorization_attached: bool,
    },
    /// 提出初审意见, with the proposed amount if any.
    RecordOpinion { proposed_amount: Option<Fen> },
    /// 张榜公示
    Publish,
    /// 公示期间收到异议
    RecordObjection { summary: String },
    /// 公示期满无异议，报送审核确认
    CloseNotice,
    /// 不经公示直接报送 (workflows without a notice; minors in 特困)
    SendWithoutNotice,
    /// 确认同意
    Approve { amount: Fen },
    /// 不予确认 — reasons required.
    Deny { reasons: String },
    /// 纳入保障、开始发放
    Enrol,
    /// 暂停发放 — reasons required.
    Suspend { reasons: String },
    /// 恢复发放
    Resume,
    /// 终止保障 — reasons required.
    Terminate { reasons: String },
    /// 申请人撤回
    Withdraw,
}

crate::coded_enum! {
    /// The action without its data, for tables and messages (the code is the `action`
    /// tag of [`Action`]'s JSON).
    pub enum ActionKind {
        Submit = ("submit", "提交申请"),
        Accept = ("accept", "受理"),
        NotAccept = ("not_accept", "不予受理"),
        RequestPapers = ("request_papers", "一次性告知补正材料"),
        ResubmitPapers = ("resubmit_papers", "补正材料"),
        StartInvestigation = ("start_investigation", "开始入户调查"),
        RecordOpinion = ("record_opinion", "提出初审意见"),
        Publish = ("publish", "张榜公示"),
        RecordObjection = ("record_objection", "登记公示异议"),
        CloseNotice = ("close_notice", "公示期满报送审核"),
        SendWithoutNotice = ("send_without_notice", "不经公示报送审核"),
        Approve = ("approve", "确认同意"),
        Deny = ("deny", "不予确认"),
        Enrol = ("enrol", "纳入保障"),
        Suspend = ("suspend", "暂停发放"),
        Resume = ("resume", "恢复发放"),
        Terminate = ("terminate", "终止保障"),
        Withdraw = ("withdraw", "撤回申请"),
    }
}

impl Action {
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::Submit => ActionKind::Submit,
            Action::Accept => ActionKind::Accept,
            Action::NotAccept { .. } => ActionKind::NotAccept,
            Action::RequestPapers { .. } => ActionKind::RequestPapers,
            Action::ResubmitPapers => ActionKind::ResubmitPapers,
            Action::StartInvestigation { .. } => ActionKind::StartInvestigation,
            Action::RecordOpinion { .. } => ActionKind::RecordOpinion,
            Action::Publish => ActionKind::Publish,
            Action::RecordObjection { .. } => ActionKind::RecordObjection,
            Action::CloseNotice => ActionKind::CloseNotice,
            Action::SendWithoutNotice => ActionKind::SendWithoutNotice,
            Action::Approve { .. } => ActionKind::Approve,
            Action::Deny { .. } => ActionKind::Deny,
            Action::Enrol => ActionKind::Enrol,
            Action::Suspend { .. } => ActionKind::Suspend,
            Action::Resume => ActionKind::Resume,
            Action::Terminate { .. } => ActionKind::Terminate,
            Action::Withdraw => ActionKind::Withdraw,
        }
    }
}

/// What the machine needs to know about a case.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CaseFacts {
    pub workflow: Workflow,
    pub state: CaseState,
    /// The person the case is about is under 18 (relevant for 特困: never publicised).
    pub subject_is_minor: bool,
    /// Date the current notice was posted (set while `Publicised`).
    pub notice_posted_on: Option<NaiveDate>,
    /// 公示天数 (parameter, calendar days).
    pub notice_days: u32,
    /// Amount in the first-review opinion, if any.
    pub proposed_amount: Option<Fen>,
    /// 临时救助: amounts up to this may be approved by the township (parameter);
    /// `None` = no delegation.
    pub township_approval_threshold: Option<Fen>,
}

/// What follows from a transition, for storage and the task list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "effect")]
pub enum Effect {
    StartClock {
        step: Step,
    },
    StopClock {
        step: Step,
    },
    /// 一次性告知: send the applicant this list.
    MissingItemsNotice {
        items: Vec<String>,
    },
    /// Notice posted; it may be closed after `ends_on`.
    NoticePosted {
        ends_on: NaiveDate,
    },
    /// 特困未成年人不公示 — the notice step was skipped on purpose.
    NoticeSkippedForMinor,
    /// Written reasons to deliver to the applicant.
    WrittenReasons {
        reasons: String,
    },
    /// 确认金额.
    AmountFixed {
        amount: Fen,
    },
}

/// The result of a legal action.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Transition {
    pub from: CaseState,
    pub to: CaseState,
    pub effects: Vec<Effect>,
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    /// HTTP 409.
    #[error("案件当前为“{state}”，不能{action}{detail}")]
    IllegalTransition {
        state: &'static str,
        action: &'static str,
        detail: String,
    },
    /// HTTP 403.
    #[error("{role}无权{action}，应由{allowed}办理")]
    WrongRole {
        role: &'static str,
        action: &'static str,
        allowed: String,
    },
    /// HTTP 422.
    #[error("{0}")]
    Invalid(String),
}

impl CaseError {
    pub fn http_status(&self) -> u16 {
        match self {
            CaseError::IllegalTransition { .. } => 409,
            CaseError::WrongRole { .. } => 403,
            CaseError::Invalid(_) => 422,
        }
    }
}

/// Roles that work on cases at all.
fn works_on_cases(r: Role) -> bool {
    matches!(
        r,
        Role::CountyApprover
            | Role::TownshipDirector
            | Role::TownshipStaff
            | Role::VillageAssistant
    )
}

/// The approver role for a level.
pub fn approver(level: ApprovalLevel) -> Role {
    match level {
        ApprovalLevel::County => Role::CountyApprover,
        ApprovalLevel::Township => Role::TownshipDirector,
    }
}

/// The level that decides this case: temporary aid up to the township threshold is
/// delegated to the township (docs/rules.md §3); everything else uses `configured`.
pub fn effective_approval_level(
    case: &CaseFacts,
    amount: Option<Fen>,
    configured: ApprovalLevel,
) -> ApprovalLevel {
    match (
        case.workflow,
        case.township_approval_threshold,
        amount.or(case.proposed_amount),
    ) {
        (Workflow::Temporary, Some(t), Some(a)) if a <= t => ApprovalLevel::Township,
        _ => configured,
    }
}

/// Whether this case goes through a public notice.
pub fn notice_required(case: &CaseFacts) -> bool {
    case.workflow.has_public_notice()
        && !(case.workflow == Workflow::Tekun && case.subject_is_minor)
}

/// The roles allowed to take `kind` on this case (approver-bound actions depend on
/// the level).
pub fn allowed_roles(kind: ActionKind, level: ApprovalLevel) -> Vec<Role> {
    use ActionKind as A;
    const FRONT: [Role; 3] = [
        Role::VillageAssistant,
        Role::TownshipStaff,
        Role::TownshipDirector,
    ];
    const TOWNSHIP: [Role; 2] = [Role::TownshipStaff, Role::TownshipDirector];
    match kind {
        A::Submit | A::ResubmitPapers | A::Publish | A::RecordObjection | A::Withdraw => {
            FRONT.to_vec()
        }
        A::Accept
        | A::NotAccept
        | A::RequestPapers
        | A::StartInvestigation
        | A::CloseNotice
        | A::SendWithoutNotice
        | A::Enrol => TOWNSHIP.to_vec(),
        // 初审意见 is the township's signed opinion.
        A::RecordOpinion => vec![Role::TownshipDirector],
        A::Approve | A::Deny | A::Suspend | A::Resume | A::Terminate => vec![approver(level)],
    }
}

/// The target state if `kind` makes sense from this case's state and workflow,
/// ignoring role, content and timing. `Err` carries a detail for the message.
fn target(case: &CaseFacts, kind: ActionKind) -> Result<CaseState, &'static str> {
    use ActionKind as A;
    use CaseState as S;
    let wf = case.workflow;
    let t = match (case.state, kind) {
        (s, A::Withdraw) if s.withdrawable() => S::Withdrawn,
        (S::Draft, A::Submit) => S::Submitted,
        (S::Submitted, A::Accept) => S::Accepted,
        (S::Submitted, A::NotAccept) => S::NotAccepted,
        (S::Submitted, A::RequestPapers) => S::MissingPapers,
        (S::MissingPapers, A::ResubmitPapers) => S::Submitted,
        (S::Accepted, A::StartInvestigation) if wf.requires_investigation() => S::Investigating,
        (S::Accepted, A::StartInvestigation) => return Err("(该项目无需入户调查)"),
        (S::Accepted, A::RecordOpinion) if !wf.requires_investigation() => S::PrelimOpinion,
        (S::Accepted, A::RecordOpinion) => return Err("(须先完成入户调查)"),
        (S::Investigating | S::Reinvestigating, A::RecordOpinion) => S::PrelimOpinion,
        (S::PrelimOpinion, A::Publish) if notice_required(case) => S::Publicised,
        (S::PrelimOpinion, A::Publish) if wf.has_public_notice() => {
            return Err("(特困人员中的未成年人不予公示)")
        }
        (S::PrelimOpinion, A::Publish) => return Err("(该项目无需公示)"),
        (S::PrelimOpinion, A::SendWithoutNotice) if !notice_required(case) => S::UnderConfirmation,
        (S::PrelimOpinion, A::SendWithoutNotice) => return Err("(须先经公示)"),
        (S::Publicised, A::RecordObjection) => S::Reinvestigating,
        (S::Publicised, A::CloseNotice) => S::UnderConfirmation,
        (S::UnderConfirmation, A::Approve) => S::Approved,
        (S::UnderConfirmation, A::Deny) => S::Denied,
        (S::Approved, A::Enrol) => S::Enrolled,
        (S::Enrolled, A::Suspend) => S::Suspended,
        (S::Suspended, A::Resume) => S::Enrolled,
        (S::Enrolled | S::Suspended, A::Terminate) => S::Terminated,
        _ => return Err(""),
    };
    Ok(t)
}

fn need_reasons(reasons: &str, what: &str) -> Result<String, CaseError> {
    let r = reasons.trim();
    if r.is_empty() {
        Err(CaseError::Invalid(format!("{what}必须写明理由")))
    } else {
        Ok(r.to_string())
    }
}

/// Applies `action` by `actor_role` to `case` on `as_of`. `approval_level` is the
/// level configured for the program and region (parameter `approval_level`); small
/// temporary aid is delegated to the township automatically.
pub fn transition(
    case: &CaseFacts,
    action: Action,
    actor_role: Role,
    approval_level: ApprovalLevel,
    as_of: NaiveDate,
) -> Result<Transition, CaseError> {
    let kind = action.kind();
    let amount = match &action {
        Action::Approve { amount } => Some(*amount),
        _ => None,
    };
    let level = effective_approval_level(case, amount, approval_level);
    let allowed = allowed_roles(kind, level);
    let wrong_role = || CaseError::WrongRole {
        role: actor_role.label(),
        action: kind.label(),
        allowed: allowed
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join("或"),
    };
    if !works_on_cases(actor_role) {
        return Err(wrong_role());
    }
    let to = target(case, kind).map_err(|detail| CaseError::IllegalTransition {
        state: case.state.label(),
        action: kind.label(),
        detail: detail.to_string(),
    })?;
    if !allowed.contains(&actor_role) {
        return Err(wrong_role());
    }
    let from = case.state;
    let mut effects = Vec::new();
    match action {
        Action::Submit | Action::ResubmitPapers | Action::Withdraw | Action::Resume => {}
        Action::Accept => {
            if case.workflow.requires_investigation() {
                effects.push(Effect::StartClock {
                    step: Step::Investigation,
                });
            }
            effects.push(Effect::StartClock {
                step: Step::WholeProcedure,
            });
        }
        Action::NotAccept { reasons } => {
            let reasons = need_reasons(&reasons, "不予受理")?;
            effects.push(Effect::WrittenReasons { reasons });
        }
        Action::RequestPapers { missing } => {
            let items: Vec<String> = missing
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
            if items.is_empty() {
                return Err(CaseError::Invalid(
                    "一次性告知须列明全部缺少的材料".to_string(),
                ));
            }
            effects.push(Effect::MissingItemsNotice { items });
        }
        Action::StartInvestigation {
            investigators,
            authorization_attached,
        } => {
            let mut names: Vec<&str> = investigators
                .iter()
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .collect();
            names.sort_unstable();
            names.dedup();
            if names.len() < 2 {
                return Err(CaseError::Invalid(
                    "入户调查须由两名以上工作人员进行".to_string(),
                ));
            }
            if !authorization_attached {
                return Err(CaseError::Invalid(
                    "尚未上传申请人签字的授权核查书".to_string(),
                ));
            }
        }
        Action::RecordOpinion { proposed_amount } => {
            if proposed_amount.is_some_and(|a| a.is_negative()) {
                return Err(CaseError::Invalid("拟发放金额不能为负数".to_string()));
            }
            let step = if from == CaseState::Reinvestigating {
                Step::Reinvestigation
            } else {
                Step::Investigation
            };
            if case.workflow.requires_investigation() {
                effects.push(Effect::StopClock { step });
            }
        }
        Action::Publish => {
            effects.push(Effect::NoticePosted {
                ends_on: notice_ends_on(as_of, case.notice_days),
            });
        }
        Action::RecordObjection { summary } => {
            if summary.trim().is_empty() {
                return Err(CaseError::Invalid("请登记异议内容".to_string()));
            }
            if case.notice_posted_on.is_some_and(|p| as_of < p) {
                return Err(CaseError::Invalid("异议日期早于公示日期".to_string()));
            }
            effects.push(Effect::StartClock {
                step: Step::Reinvestigation,
            });
        }
        Action::CloseNotice => {
            let posted = case.notice_posted_on.ok_or_else(|| {
                CaseError::Invalid("缺少公示张贴日期，无法确认公示期".to_string())
            })?;
            let ends = notice_ends_on(posted, case.notice_days);
            if as_of <= ends {
                return Err(CaseError::IllegalTransition {
                    state: from.label(),
                    action: kind.label(),
                    detail: format!("(公示期至{ends}，不得提前结束)"),
                });
            }
            effects.push(Effect::StartClock {
                step: Step::Confirmation,
            });
        }
        Action::SendWithoutNotice => {
            if case.workflow.has_public_notice() {
                effects.push(Effect::NoticeSkippedForMinor);
                effects.push(Effect::StartClock {
                    step: Step::Confirmation,
                });
            }
        }
        Action::Approve { amount } => {
            if amount.is_negative() {
                return Err(CaseError::Invalid("确认金额不能为负数".to_string()));
            }
            effects.push(Effect::StopClock {
                step: Step::Confirmation,
            });
            effects.push(Effect::StopClock {
                step: Step::WholeProcedure,
            });
            effects.push(Effect::AmountFixed { amount });
        }
        Action::Deny { reasons } => {
            let reasons = need_reasons(&reasons, "不予确认")?;
            effects.push(Effect::StopClock {
                step: Step::Confirmation,
            });
            effects.push(Effect::StopClock {
                step: Step::WholeProcedure,
            });
            effects.push(Effect::StartClock {
                step: Step::RefusalNotice,
            });
            effects.push(Effect::WrittenReasons { reasons });
        }
        Action::Enrol => {}
        Action::Suspend { reasons } => {
            let reasons = need_reasons(&reasons, "暂停发放")?;
            effects.push(Effect::WrittenReasons { reasons });
        }
        Action::Terminate { reasons } => {
            let reasons = need_reasons(&reasons, "终止保障")?;
            effects.push(Effect::WrittenReasons { reasons });
        }
    }
    Ok(Transition { from, to, effects })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn facts(workflow: Workflow, state: CaseState) -> CaseFacts {
        CaseFacts {
            workflow,
            state,
            subject_is_minor: false,
            notice_posted_on: Some(d(2026, 3, 2)),
            notice_days: 7,
            proposed_amount: Some(Fen(100_000)),
            township_approval_threshold: None,
        }
    }

    /// A payload that passes content checks.
    fn valid(kind: ActionKind) -> Action {
        use ActionKind as A;
        match kind {
            A::Submit => Action::Submit,
            A::Accept => Action::Accept,
            A::NotAccept => Action::NotAccept {
                reasons: "非本乡镇户籍".into(),
            },
            A::RequestPapers => Action::RequestPapers {
                missing: vec!["户口簿复印件".into(), "收入证明".into()],
            },
            A::ResubmitPapers => Action::ResubmitPapers,
            A::StartInvestigation => Action::StartInvestigation {
                investigators: vec!["李四".into(), "王五".into()],
                authorization_attached: true,
            },
            A::RecordOpinion => Action::RecordOpinion {
                proposed_amount: Some(Fen(100_000)),
            },
            A::Publish => Action::Publish,
            A::RecordObjection => Action::RecordObjection {
                summary: "邻居反映有营运车辆".into(),
            },
            A::CloseNotice => Action::CloseNotice,
            A::SendWithoutNotice => Action::SendWithoutNotice,
            A::Approve => Action::Approve {
                amount: Fen(100_000),
            },
            A::Deny => Action::Deny {
                reasons: "家庭财产超过规定".into(),
            },
            A::Enrol => Action::Enrol,
            A::Suspend => Action::Suspend {
                reasons: "未按期参加核查".into(),
            },
            A::Resume => Action::Resume,
            A::Terminate => Action::Terminate {
                reasons: "收入超过标准".into(),
            },
            A::Withdraw => Action::Withdraw,
        }
    }

    /// The expected machine for the full 低保 workflow, written out independently of
    /// `target`: (from, action) → (to, roles allowed). County approval.
    fn full_table() -> HashMap<(CaseState, ActionKind), (CaseState, Vec<Role>)> {
        use ActionKind as A;
        use CaseState as S;
        let front = vec![
            Role::VillageAssistant,
            Role::TownshipStaff,
            Role::TownshipDirector,
        ];
        let town = vec![Role::TownshipStaff, Role::TownshipDirector];
        let dir = vec![Role::TownshipDirector];
        let county = vec![Role::CountyApprover];
        let mut t = HashMap::new();
        let rows: Vec<(S, A, S, &Vec<Role>)> = vec![
            (S::Draft, A::Submit, S::Submitted, &front),
            (S::Submitted, A::Accept, S::Accepted, &town),
            (S::Submitted, A::NotAccept, S::NotAccepted, &town),
            (S::Submitted, A::RequestPapers, S::MissingPapers, &town),
            (S::MissingPapers, A::ResubmitPapers, S::Submitted, &front),
            (S::Accepted, A::StartInvestigation, S::Investigating, &town),
            (S::Investigating, A::RecordOpinion, S::PrelimOpinion, &dir),
            (S::Reinvestigating, A::RecordOpinion, S::PrelimOpinion, &dir),
            (S::PrelimOpinion, A::Publish, S::Publicised, &front),
            (
                S::Publicised,
                A::RecordObjection,
                S::Reinvestigating,
                &front,
            ),
            (S::Publicised, A::CloseNotice, S::UnderConfirmation, &town),
            (S::UnderConfirmation, A::Approve, S::Approved, &county),
            (S::UnderConfirmation, A::Deny, S::Denied, &county),
            (S::Approved, A::Enrol, S::Enrolled, &town),
            (S::Enrolled, A::Suspend, S::Suspended, &county),
            (S::Suspended, A::Resume, S::Enrolled, &county),
            (S::Enrolled, A::Terminate, S::Terminated, &county),
            (S::Suspended, A::Terminate, S::Terminated, &county),
        ];
        for (s, a, to, roles) in rows {
            t.insert((s, a), (to, roles.clone()));
        }
        for s in [
            S::Draft,
            S::Submitted,
            S::MissingPapers,
            S::Accepted,
            S::Investigating,
            S::PrelimOpinion,
            S::Publicised,
            S::Reinvestigating,
            S::UnderConfirmation,
        ] {
            t.insert((s, A::Withdraw), (S::Withdrawn, front.clone()));
        }
        t
    }

    #[test]
    fn full_workflow_every_state_action_role() {
        let table = full_table();
        let as_of = d(2026, 3, 20); // well after the 7-day notice posted 03-02
        let mut checked = 0;
        for &state in CaseState::ALL {
            for &kind in ActionKind::ALL {
                for role in Role::ALL {
                    let case = facts(Workflow::Full, state);
                    let got = transition(&case, valid(kind), role, ApprovalLevel::County, as_of);
                    let ctx = format!("{state:?} × {kind:?} × {role:?}");
                    if matches!(role, Role::Auditor | Role::CityAdmin) {
                        assert!(matches!(got, Err(CaseError::WrongRole { .. })), "{ctx}");
                    } else {
                        match table.get(&(state, kind)) {
                            None => assert!(
                                matches!(got, Err(CaseError::IllegalTransition { .. })),
                                "{ctx}: {got:?}"
                            ),
                            Some((to, roles)) if roles.contains(&role) => {
                                let t = got.unwrap_or_else(|e| panic!("{ctx}: {e}"));
                                assert_eq!(t.to, *to, "{ctx}");
                                assert_eq!(t.from, state);
                            }
                            Some(_) => {
                                let e = got.unwrap_err();
                                assert!(matches!(e, CaseError::WrongRole { .. }), "{ctx}: {e}");
                                assert_eq!(e.http_status(), 403);
                            }
                        }
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 16 * 18 * 6);
        // Final states accept nothing.
        for s in CaseState::ALL.iter().copied().filter(|s| s.is_final()) {
            assert!(table.keys().all(|(from, _)| *from != s));
        }
    }

    #[test]
    fn township_level_moves_decisions_to_the_director() {
        let case = facts(Workflow::Full, CaseState::UnderConfirmation);
        let as_of = d(2026, 3, 20);
        let ok = transition(
            &case,
            valid(ActionKind::Approve),
            Role::TownshipDirector,
            ApprovalLevel::Township,
            as_of,
        );
        assert_eq!(ok.unwrap().to, CaseState::Approved);
        let e = transition(
            &case,
            valid(ActionKind::Approve),
            Role::CountyApprover,
            ApprovalLevel::Township,
            as_of,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "县级审批人无权确认同意，应由民政办主任办理");
    }

    #[test]
    fn temporary_aid_small_amounts_township() {
        let mut case = facts(Workflow::Temporary, CaseState::UnderConfirmation);
        case.township_approval_threshold = Some(Fen(200_000));
        let as_of = d(2026, 3, 20);
        let approve = |amount| Action::Approve {
            amount: Fen(amount),
        };
        // 2,000 exactly: township director.
        assert!(transition(
            &case,
            approve(200_000),
            Role::TownshipDirector,
            ApprovalLevel::County,
            as_of
        )
        .is_ok());
        // 2,000.01: county.
        assert!(matches!(
            transition(
                &case,
                approve(200_001),
                Role::TownshipDirector,
                ApprovalLevel::County,
                as_of
            ),
            Err(CaseError::WrongRole { .. })
        ));
        assert!(transition(
            &case,
            approve(200_001),
            Role::CountyApprover,
            ApprovalLevel::County,
            as_of
        )
        .is_ok());
        // Denial follows the proposed amount (1,000 → township).
        assert!(transition(
            &case,
            valid(ActionKind::Deny),
            Role::TownshipDirector,
            ApprovalLevel::County,
            as_of
        )
        .is_ok());
    }

    #[test]
    fn notice_cannot_close_early_and_objection_reopens() {
        let case = facts(Workflow::Full, CaseState::Publicised);
        let close = |as_of| {
            transition(
                &case,
                Action::CloseNotice,
                Role::TownshipStaff,
                ApprovalLevel::County,
                as_of,
            )
        };
        // Posted 03-02, 7 days → runs to 03-09.
        let e = close(d(2026, 3, 9)).unwrap_err();
        assert_eq!(e.http_status(), 409);
        assert_eq!(
            e.to_string(),
            "案件当前为“公示中”，不能公示期满报送审核(公示期至2026-03-09，不得提前结束)"
        );
        let t = close(d(2026, 3, 10)).unwrap();
        assert_eq!(t.to, CaseState::UnderConfirmation);
        assert!(t.effects.contains(&Effect::StartClock {
            step: Step::Confirmation
        }));
        // Objection → re-investigation → new opinion → publicised again with a new date.
        let t = transition(
            &case,
            valid(ActionKind::RecordObjection),
            Role::VillageAssistant,
            ApprovalLevel::County,
            d(2026, 3, 5),
        )
        .unwrap();
        assert_eq!(t.to, CaseState::Reinvestigating);
        let re = facts(Workflow::Full, CaseState::Reinvestigating);
        let t = transition(
            &re,
            valid(ActionKind::RecordOpinion),
            Role::TownshipDirector,
            ApprovalLevel::County,
            d(2026, 3, 12),
        )
        .unwrap();
        assert_eq!(t.to, CaseState::PrelimOpinion);
        let op = facts(Workflow::Full, CaseState::PrelimOpinion);
        let t = transition(
            &op,
            Action::Publish,
            Role::TownshipStaff,
            ApprovalLevel::County,
            d(2026, 3, 13),
        )
        .unwrap();
        assert_eq!(
            t.effects,
            vec![Effect::NoticePosted {
                ends_on: d(2026, 3, 20)
            }]
        );
        // No posting date recorded: cannot close.
        let mut no_date = case.clone();
        no_date.notice_posted_on = None;
        assert!(matches!(
            transition(
                &no_date,
                Action::CloseNotice,
                Role::TownshipStaff,
                ApprovalLevel::County,
                d(2026, 4, 1)
            ),
            Err(CaseError::Invalid(_))
        ));
    }

    /// A step out of place names why, in the clerk's words.
    #[test]
    fn steps_a_workflow_does_not_take_say_why() {
        let as_of = d(2026, 3, 20);
        let refused = |wf: Workflow, state: CaseState, kind: ActionKind, minor: bool| {
            let mut case = facts(wf, state);
            case.subject_is_minor = minor;
            transition(
                &case,
                valid(kind),
                Role::TownshipStaff,
                ApprovalLevel::County,
                as_of,
            )
            .unwrap_err()
            .to_string()
        };
        use ActionKind as A;
        use CaseState as S;
        for (wf, state, kind, minor, why) in [
            (
                Workflow::Simple,
                S::Accepted,
                A::StartInvestigation,
                false,
                "(该项目无需入户调查)",
            ),
            (
                Workflow::Full,
                S::Accepted,
                A::RecordOpinion,
                false,
                "(须先完成入户调查)",
            ),
            (
                Workflow::Tekun,
                S::PrelimOpinion,
                A::Publish,
                true,
                "(特困人员中的未成年人不予公示)",
            ),
            (
                Workflow::Simple,
                S::PrelimOpinion,
                A::Publish,
                false,
                "(该项目无需公示)",
            ),
            (
                Workflow::Full,
                S::PrelimOpinion,
                A::SendWithoutNotice,
                false,
                "(须先经公示)",
            ),
        ] {
            let message = refused(wf, state, kind, minor);
            assert!(message.ends_with(why), "{wf:?} {kind:?}: {message}");
        }
    }

    /// A new opinion after an objection stops the re-investigation's clock; the first
    /// stops the investigation's. An objection is taken from the day of posting on.
    #[test]
    fn an_opinion_stops_its_own_clock_and_objections_start_with_the_notice() {
        let as_of = d(2026, 3, 20);
        for (state, step) in [
            (CaseState::Investigating, Step::Investigation),
            (CaseState::Reinvestigating, Step::Reinvestigation),
        ] {
            let t = transition(
                &facts(Workflow::Full, state),
                valid(ActionKind::RecordOpinion),
                Role::TownshipDirector,
                ApprovalLevel::County,
                as_of,
            )
            .unwrap();
            assert!(t.effects.contains(&Effect::StopClock { step }), "{state:?}");
        }
        // Posted 03-02.
        let case = facts(Workflow::Full, CaseState::Publicised);
        let object = |on| {
            transition(
                &case,
                valid(ActionKind::RecordObjection),
                Role::TownshipStaff,
                ApprovalLevel::County,
                on,
            )
        };
        assert!(object(d(2026, 3, 2)).is_ok());
        assert!(object(d(2026, 3, 3)).is_ok());
        assert!(matches!(
            object(d(2026, 3, 1)),
            Err(CaseError::Invalid(m)) if m.contains("异议日期早于公示日期")
        ));
    }

    #[test]
    fn tekun_minor_is_never_publicised() {
        let mut case = facts(Workflow::Tekun, CaseState::PrelimOpinion);
        case.subject_is_minor = true;
        let as_of = d(2026, 3, 20);
        let e = transition(
            &case,
            Action::Publish,
            Role::TownshipStaff,
            ApprovalLevel::County,
            as_of,
        )
        .unwrap_err();
        assert_eq!(e.http_status(), 409);
        assert!(e.to_string().contains("未成年人不予公示"));
        let t = transition(
            &case,
            Action::SendWithoutNotice,
            Role::TownshipStaff,
            ApprovalLevel::County,
            as_of,
        )
        .unwrap();
        assert_eq!(t.to, CaseState::UnderConfirmation);
        assert!(t.effects.contains(&Effect::NoticeSkippedForMinor));
        // An adult 特困 case must be publicised.
        case.subject_is_minor = false;
        assert!(transition(
            &case,
            Action::SendWithoutNotice,
            Role::TownshipStaff,
            ApprovalLevel::County,
            as_of
        )
        .is_err());
        assert!(transition(
            &case,
            Action::Publish,
            Role::TownshipStaff,
            ApprovalLevel::County,
            as_of
        )
        .is_ok());
    }

    #[test]
    fn simple_and_auto_proposed_workflows() {
        let as_of = d(2026, 3, 20);
        for wf in [Workflow::Simple, Workflow::AutoProposed] {
            let acc = facts(wf, CaseState::Accepted);
            assert!(transition(
                &acc,
                valid(ActionKind::StartInvestigation),
                Role::TownshipStaff,
                ApprovalLevel::County,
                as_of
            )
            .is_err());
            let t = transition(
                &acc,
                valid(ActionKind::RecordOpinion),
                Role::TownshipDirector,
                ApprovalLevel::County,
                as_of,
            )
            .unwrap();
            assert_eq!(t.to, CaseState::PrelimOpinion);
            let op = facts(wf, CaseState::PrelimOpinion);
            assert!(transition(
                &op,
                Action::Publish,
                Role::TownshipStaff,
                ApprovalLevel::County,
                as_of
            )
            .is_err());
            let t = transition(
                &op,
                Action::SendWithoutNotice,
                Role::TownshipStaff,
                ApprovalLevel::County,
                as_of,
            )
            .unwrap();
            assert_eq!(t.to, CaseState::UnderConfirmation);
            assert!(t.effects.is_empty());
        }
        // Full workflow cannot skip the investigation.
        let acc = facts(Workflow::Full, CaseState::Accepted);
        assert!(transition(
            &acc,
            valid(ActionKind::RecordOpinion),
            Role::TownshipDirector,
            ApprovalLevel::County,
            as_of
        )
        .is_err());
    }

    #[test]
    fn content_checks_are_422() {
        let as_of = d(2026, 3, 20);
        let acc = facts(Workflow::Full, CaseState::Accepted);
        let inv = |names: Vec<&str>, auth| Action::StartInvestigation {
            investigators: names.into_iter().map(String::from).collect(),
            authorization_attached: auth,
        };
        let run = |case: &CaseFacts, a, r| transition(case, a, r, ApprovalLevel::County, as_of);
        let e = run(&acc, inv(vec!["李四"], true), Role::TownshipStaff).unwrap_err();
        assert_eq!(e.http_status(), 422);
        assert_eq!(e.to_string(), "入户调查须由两名以上工作人员进行");
        // The same person twice is one investigator.
        assert!(run(&acc, inv(vec!["李四", " 李四 "], true), Role::TownshipStaff).is_err());
        let e = run(&acc, inv(vec!["李四", "王五"], false), Role::TownshipStaff).unwrap_err();
        assert_eq!(e.to_string(), "尚未上传申请人签字的授权核查书");
        let uc = facts(Workflow::Full, CaseState::UnderConfirmation);
        let e = run(
            &uc,
            Action::Deny {
                reasons: "  ".into(),
            },
            Role::CountyApprover,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "不予确认必须写明理由");
        let t = run(&uc, valid(ActionKind::Deny), Role::CountyApprover).unwrap();
        assert!(t.effects.contains(&Effect::StartClock {
            step: Step::RefusalNotice
        }));
        let sub = facts(Workflow::Full, CaseState::Submitted);
        assert!(run(
            &sub,
            Action::RequestPapers {
                missing: vec![" ".into()]
            },
            Role::TownshipStaff
        )
        .is_err());
        let t = run(&sub, valid(ActionKind::RequestPapers), Role::TownshipStaff).unwrap();
        assert_eq!(
            t.effects,
            vec![Effect::MissingItemsNotice {
                items: vec!["户口簿复印件".into(), "收入证明".into()]
            }]
        );
        assert!(run(
            &sub,
            Action::NotAccept { reasons: "".into() },
            Role::TownshipStaff
        )
        .is_err());
        // Auditors get 403 even for nonsense actions.
        let e = run(&sub, Action::Enrol, Role::Auditor).unwrap_err();
        assert_eq!(e.http_status(), 403);
    }
}
