//! The batch's state machine: 草稿 → 已审核签发 → 已生成银行文件 → 已对账 → 已结束.
//!
//! Who may take which action: the township office's clerks (民政专职工作人员 and the
//! director) regenerate a draft, produce the bank file and import the bank's return; only
//! the director (民政办主任) signs a batch off and closes it. The system (command line,
//! demo) acts without a role and may take every action. The wrong role is
//! [`BatchError::WrongRole`] (403), checked first; an action the batch's state does not
//! allow is [`BatchError::WrongState`] (409).

use super::{BatchStatus, PayrollBatch};
use crate::Role;

/// Something done to a batch after its generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchAction {
    /// 重新生成: the draft's lines again from the enrolments as they are now.
    Regenerate,
    /// 审核签发: the director approves the draft; it cannot change afterwards.
    SignOff,
    /// 生成银行代发文件 (again, while the bank has not answered).
    Export,
    /// 导入银行回盘文件.
    RecordReturn,
    /// 结束: a reconciled batch is done; failures live on as exceptions.
    Close,
}

const CLERKS: &[Role] = &[Role::TownshipStaff, Role::TownshipDirector];
const DIRECTOR: &[Role] = &[Role::TownshipDirector];

impl BatchAction {
    pub const ALL: [BatchAction; 5] = [
        BatchAction::Regenerate,
        BatchAction::SignOff,
        BatchAction::Export,
        BatchAction::RecordReturn,
        BatchAction::Close,
    ];

    /// What it does, as the refusal "只有…可以…" ends.
    pub fn label(self) -> &'static str {
        match self {
            BatchAction::Regenerate => "重新生成发放批次",
            BatchAction::SignOff => "审核签发发放批次",
            BatchAction::Export => "生成银行代发文件",
            BatchAction::RecordReturn => "导入银行回盘文件",
            BatchAction::Close => "结束发放批次",
        }
    }

    /// The roles that may take it.
    pub fn roles(self) -> &'static [Role] {
        match self {
            BatchAction::Regenerate | BatchAction::Export | BatchAction::RecordReturn => CLERKS,
            BatchAction::SignOff | BatchAction::Close => DIRECTOR,
        }
    }
}

/// Why an action on a batch is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// HTTP 403.
    #[error("{0}")]
    WrongRole(String),
    /// HTTP 409.
    #[error("{0}")]
    WrongState(String),
}

/// Whether `role` may take `action` at all (`None`: the system, which may).
pub fn authorize(role: Option<Role>, action: BatchAction) -> Result<(), BatchError> {
    match role {
        Some(r) if !action.roles().contains(&r) => {
            let who: Vec<&str> = action.roles().iter().map(|r| r.label()).collect();
            Err(BatchError::WrongRole(format!(
                "只有{}可以{}",
                who.join("或"),
                action.label()
            )))
        }
        _ => Ok(()),
    }
}

/// The state `action` moves the batch to, if its state allows the action. A bank file can
/// be produced again (the bank lost it) only while the bank has answered for no line: a new
/// file could pay those lines twice. A return file moves the batch on to 已对账 once every
/// line has its result (counted with the results, in the same statement).
pub fn next_status(b: &PayrollBatch, action: BatchAction) -> Result<BatchStatus, BatchError> {
    use BatchStatus as S;
    let refuse = |m: &str| Err(BatchError::WrongState(m.to_string()));
    match (action, b.status) {
        (BatchAction::Regenerate, S::Draft) => Ok(S::Draft),
        (BatchAction::Regenerate, _) => {
            refuse("只有草稿状态的批次可以重新生成；已审核签发的批次不能再改动")
        }
        (BatchAction::SignOff, S::Draft) => Ok(S::SignedOff),
        (BatchAction::SignOff, _) => refuse("只有草稿状态的批次可以审核签发"),
        (BatchAction::Export, S::SignedOff | S::Exported) if b.returned_count == 0 => {
            Ok(S::Exported)
        }
        (BatchAction::Export, S::Draft) => {
            refuse("该批次尚未经民政办主任审核签发，不能生成银行代发文件")
        }
        (BatchAction::Export, _) => refuse(
            "该批次已导入银行回盘，不能再生成代发文件（以免重复发放）；失败的款项请在退票管理中更正，随以后的批次重发",
        ),
        (BatchAction::RecordReturn, S::Exported) => Ok(S::Exported),
        (BatchAction::RecordReturn, S::Draft | S::SignedOff) => {
            refuse("该批次尚未生成银行代发文件，不能导入回盘")
        }
        (BatchAction::RecordReturn, _) => refuse("该批次已全部对账，不能再导入回盘"),
        (BatchAction::Close, S::Reconciled) => Ok(S::Closed),
        (BatchAction::Close, _) => refuse("只有已全部对账的批次可以结束"),
    }
}

/// [`authorize`], then [`next_status`].
pub fn transition(
    role: Option<Role>,
    b: &PayrollBatch,
    action: BatchAction,
) -> Result<BatchStatus, BatchError> {
    authorize(role, action)?;
    next_status(b, action)
}

/// Why a sign-off found the batch changed under it: no longer a draft, regenerated since
/// the director's review (`reviewed`, the generation time the review page showed), or
/// lines without a bank account (the bank would only return them).
pub fn sign_off_refusal(
    status: BatchStatus,
    generated_at: &str,
    no_account: i64,
    reviewed: Option<&str>,
) -> BatchError {
    let draft_only = "只有草稿状态的批次可以审核签发";
    BatchError::WrongState(if status != BatchStatus::Draft {
        draft_only.to_string()
    } else if reviewed.is_some_and(|r| r != generated_at) {
        "该批次在您查看之后已重新生成，请刷新页面、核对本月变化后再签发".into()
    } else if no_account > 0 {
        format!(
            "批次中有{no_account}笔明细缺少银行账号，银行无法代发：请先在户籍台账中补全账号，重新生成批次后再签发"
        )
    } else {
        draft_only.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Fen, Program, YearMonth};

    fn batch(status: BatchStatus, returned: i64) -> PayrollBatch {
        PayrollBatch {
            id: 1,
            batch_no: "202611-511802001-urban_dibao".into(),
            program: Program::UrbanDibao,
            township_code: "511802001".into(),
            township_name: "东城街道".into(),
            month: YearMonth::parse("2026-11").unwrap(),
            status,
            line_count: 3,
            planned: Fen(150_000),
            back_pay: Fen(0),
            reissue_count: 0,
            reissue: Fen(0),
            returned_count: returned,
            paid_count: 0,
            paid: Fen(0),
            failed_count: 0,
            failed: Fen(0),
            generated_by: "staff".into(),
            generated_at: "2026-11-02T01:00:00Z".into(),
            signed_off_by: None,
            signed_off_at: None,
            exported_at: None,
            export_count: 0,
            reconciled_at: None,
            closed_at: None,
        }
    }

    #[test]
    fn the_director_signs_off_a_draft_once() {
        let draft = batch(BatchStatus::Draft, 0);
        assert_eq!(
            transition(Some(Role::TownshipDirector), &draft, BatchAction::SignOff),
            Ok(BatchStatus::SignedOff)
        );
        assert_eq!(
            transition(Some(Role::TownshipStaff), &draft, BatchAction::SignOff),
            Err(BatchError::WrongRole(
                "只有民政办主任可以审核签发发放批次".into()
            ))
        );
        assert_eq!(
            transition(None, &draft, BatchAction::SignOff),
            Ok(BatchStatus::SignedOff),
            "the system may"
        );
        let signed = batch(BatchStatus::SignedOff, 0);
        assert_eq!(
            transition(Some(Role::TownshipDirector), &signed, BatchAction::SignOff),
            Err(BatchError::WrongState(
                "只有草稿状态的批次可以审核签发".into()
            ))
        );
    }

    #[test]
    fn a_sign_off_names_what_changed() {
        let why = |s, at, n, r| sign_off_refusal(s, at, n, r).to_string();
        assert!(why(BatchStatus::Draft, "t2", 0, Some("t1")).contains("已重新生成"));
        assert!(
            why(BatchStatus::Draft, "t1", 2, Some("t1")).starts_with("批次中有2笔明细缺少银行账号")
        );
        assert_eq!(
            why(BatchStatus::SignedOff, "t1", 2, Some("t1")),
            "只有草稿状态的批次可以审核签发"
        );
        // A draft with every account and unchanged since the review has nothing to say
        // about accounts.
        assert_eq!(
            why(BatchStatus::Draft, "t1", 0, Some("t1")),
            "只有草稿状态的批次可以审核签发"
        );
    }

    #[test]
    fn the_role_is_checked_before_the_state() {
        let closed = batch(BatchStatus::Closed, 3);
        let e = transition(Some(Role::Auditor), &closed, BatchAction::Regenerate).unwrap_err();
        assert_eq!(
            e.to_string(),
            "只有民政专职工作人员或民政办主任可以重新生成发放批次"
        );
        assert!(matches!(
            transition(Some(Role::TownshipStaff), &closed, BatchAction::Regenerate),
            Err(BatchError::WrongState(m)) if m.contains("只有草稿状态的批次可以重新生成")
        ));
    }

    #[test]
    fn bank_files_until_the_bank_answers() {
        let clerk = Some(Role::TownshipStaff);
        let e = transition(clerk, &batch(BatchStatus::Draft, 0), BatchAction::Export);
        assert!(
            matches!(e, Err(BatchError::WrongState(m)) if m.contains("尚未经民政办主任审核签发"))
        );
        for s in [BatchStatus::SignedOff, BatchStatus::Exported] {
            assert_eq!(
                transition(clerk, &batch(s, 0), BatchAction::Export),
                Ok(BatchStatus::Exported)
            );
        }
        let e = transition(clerk, &batch(BatchStatus::Exported, 1), BatchAction::Export);
        assert!(matches!(e, Err(BatchError::WrongState(m)) if m.contains("已导入银行回盘")));
    }

    #[test]
    fn returns_reconcile_an_exported_batch_then_it_closes() {
        let clerk = Some(Role::TownshipStaff);
        let director = Some(Role::TownshipDirector);
        let exported = batch(BatchStatus::Exported, 1);
        assert_eq!(
            transition(clerk, &exported, BatchAction::RecordReturn),
            Ok(BatchStatus::Exported)
        );
        for (s, why) in [
            (BatchStatus::SignedOff, "尚未生成银行代发文件"),
            (BatchStatus::Reconciled, "已全部对账"),
        ] {
            assert!(matches!(
                transition(clerk, &batch(s, 0), BatchAction::RecordReturn),
                Err(BatchError::WrongState(m)) if m.contains(why)
            ));
        }
        let reconciled = batch(BatchStatus::Reconciled, 3);
        assert!(matches!(
            transition(clerk, &reconciled, BatchAction::Close),
            Err(BatchError::WrongRole(_))
        ));
        assert_eq!(
            transition(director, &reconciled, BatchAction::Close),
            Ok(BatchStatus::Closed)
        );
        assert!(matches!(
            transition(director, &exported, BatchAction::Close),
            Err(BatchError::WrongState(m)) if m == "只有已全部对账的批次可以结束"
        ));
    }
}
