//! 金额合理性: an amount typed by hand against the calculator's (测算) before money is
//! promised (docs/rules.md §3.4). An amount equal to the calculator's needs nothing; one that
//! differs needs a written reason; one far above it (more than [`FAR_ABOVE_PERCENT`] of the
//! calculator's, or anything when the calculator says 0) is never proposed by the township
//! and is approved only by the county, with an explicit confirmation.

use crate::{Fen, Role};

/// A hand amount above this share of the calculator's (in percent) is far above it.
pub const FAR_ABOVE_PERCENT: i64 = 200;

/// How a hand amount compares with the calculator's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plausibility {
    /// Equal to the calculator's.
    Matches,
    /// Different, within reach: a reason is needed.
    Differs,
    /// More than [`FAR_ABOVE_PERCENT`] of the calculator's (or above a calculated 0).
    FarAbove,
}

/// Compares `entered` with `calculated`.
pub fn plausibility(entered: Fen, calculated: Fen) -> Plausibility {
    if entered == calculated {
        Plausibility::Matches
    } else if entered.0.saturating_mul(100) > calculated.0.saturating_mul(FAR_ABOVE_PERCENT) {
        Plausibility::FarAbove
    } else {
        Plausibility::Differs
    }
}

/// Where in the procedure the amount is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountStep {
    /// 初审意见的拟发放金额 (the township).
    Opinion,
    /// 审批确认金额.
    Approval,
}

/// What the clerk gave with a hand amount.
#[derive(Debug, Clone, Copy)]
pub struct HandAmount<'a> {
    pub entered: Fen,
    pub calculated: Fen,
    /// The reason written with it (or the one already on the case for the same amount).
    pub reason: &'a str,
    /// The approver ticked 已核实，确认按此金额发放.
    pub confirmed: bool,
}

/// Whether a hand amount may be recorded at `step` by `role`; the refusal in words.
pub fn check_hand_amount(step: AmountStep, role: Role, h: HandAmount<'_>) -> Result<(), String> {
    let (entered, calculated) = (h.entered, h.calculated);
    let reason = h.reason.trim();
    match plausibility(h.entered, h.calculated) {
        Plausibility::Matches => Ok(()),
        Plausibility::Differs if reason.is_empty() => Err(format!(
            "金额{entered}与测算金额{calculated}不一致，请填写理由"
        )),
        Plausibility::Differs => Ok(()),
        Plausibility::FarAbove => match step {
            AmountStep::Opinion => Err(format!(
                "拟发放金额{entered}远高于测算金额{calculated}（超过{}倍），不能提出；\
                 请核实家庭情况后按测算金额提出，确需更高金额的由县级审批时确认",
                FAR_ABOVE_PERCENT / 100
            )),
            AmountStep::Approval if role != Role::CountyApprover => Err(format!(
                "确认金额{entered}远高于测算金额{calculated}（超过{}倍），须由县级审批人员确认",
                FAR_ABOVE_PERCENT / 100
            )),
            AmountStep::Approval if reason.is_empty() => Err(format!(
                "确认金额{entered}远高于测算金额{calculated}，请填写理由"
            )),
            AmountStep::Approval if !h.confirmed => Err(format!(
                "确认金额{entered}远高于测算金额{calculated}，请勾选“已核实，确认按此金额发放”"
            )),
            AmountStep::Approval => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(entered: i64, calculated: i64, reason: &str, confirmed: bool) -> HandAmount<'_> {
        HandAmount {
            entered: Fen(entered),
            calculated: Fen(calculated),
            reason,
            confirmed,
        }
    }

    #[test]
    fn the_boundaries_of_far_above() {
        assert_eq!(
            plausibility(Fen(50_000), Fen(50_000)),
            Plausibility::Matches
        );
        assert_eq!(
            plausibility(Fen(49_999), Fen(50_000)),
            Plausibility::Differs
        );
        assert_eq!(plausibility(Fen(0), Fen(50_000)), Plausibility::Differs);
        // Exactly twice is within reach; one fen more is not.
        assert_eq!(
            plausibility(Fen(100_000), Fen(50_000)),
            Plausibility::Differs
        );
        assert_eq!(
            plausibility(Fen(100_001), Fen(50_000)),
            Plausibility::FarAbove
        );
        // Anything above a calculated 0 is far above it.
        assert_eq!(plausibility(Fen(1), Fen(0)), Plausibility::FarAbove);
        assert_eq!(plausibility(Fen(0), Fen(0)), Plausibility::Matches);
    }

    #[test]
    fn a_different_amount_needs_a_reason_at_either_step() {
        for step in [AmountStep::Opinion, AmountStep::Approval] {
            let e = check_hand_amount(step, Role::TownshipStaff, h(45_000, 50_000, " ", false))
                .unwrap_err();
            assert_eq!(e, "金额450.00元与测算金额500.00元不一致，请填写理由");
            assert!(check_hand_amount(
                step,
                Role::TownshipStaff,
                h(45_000, 50_000, "子女赡养费未到位", false)
            )
            .is_ok());
        }
        assert!(check_hand_amount(
            AmountStep::Opinion,
            Role::TownshipStaff,
            h(50_000, 50_000, "", false)
        )
        .is_ok());
    }

    #[test]
    fn far_above_is_the_countys_explicit_decision() {
        let far = |role, reason, confirmed| {
            check_hand_amount(
                AmountStep::Approval,
                role,
                h(500_000, 50_000, reason, confirmed),
            )
        };
        // The township proposes no such amount, whatever the reason.
        assert!(check_hand_amount(
            AmountStep::Opinion,
            Role::TownshipStaff,
            h(500_000, 50_000, "重病", true)
        )
        .unwrap_err()
        .contains("不能提出"));
        // A township director approving (delegated aid) is refused.
        assert!(far(Role::TownshipDirector, "重病", true)
            .unwrap_err()
            .contains("须由县级审批人员确认"));
        // The county needs both the reason and the tick.
        assert!(far(Role::CountyApprover, "", true)
            .unwrap_err()
            .contains("请填写理由"));
        assert!(far(Role::CountyApprover, "重病", false)
            .unwrap_err()
            .contains("请勾选"));
        assert!(far(Role::CountyApprover, "重病住院，另有大额医疗支出", true).is_ok());
    }
}
