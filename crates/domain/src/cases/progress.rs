//! Where a case stands, in words the case page and the printed case file share: the public
//! notice's real state (from the case's posting date, the notice days in force, its
//! objections and its history) and the next steps the state machine allows, each with the
//! roles that take it at the approval level that decides this case.

use chrono::NaiveDate;
use serde::Serialize;

use super::{
    allowed_roles, effective_approval_level, next_actions, notice_required, parse_date, Case,
    CaseEvent, CaseFacts, EventKind, Objection,
};
use crate::deadlines::notice_ends_on;
use crate::programs::ApprovalLevel;
use crate::{ActionKind, Role};

/// The public notice (公示) of a case as of a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "standing")]
pub enum NoticeStanding {
    /// The case goes to confirmation without a notice (the program has none, or 特困
    /// minors are never publicised).
    NotRequired { reason: String },
    /// No notice yet (`closed`: the case ended before one was posted).
    NotPosted { closed: bool },
    /// Posted and still running until `ends_on` (inclusive).
    Running {
        posted_on: NaiveDate,
        ends_on: NaiveDate,
    },
    /// Objections were received on this notice.
    Objected {
        posted_on: NaiveDate,
        ends_on: NaiveDate,
        objections: Vec<(String, String)>,
    },
    /// The notice period has run out and nobody objected.
    EndedWithoutObjection {
        posted_on: NaiveDate,
        ends_on: NaiveDate,
    },
}

impl NoticeStanding {
    /// One sentence for the case page and the printed file.
    pub fn describe(&self) -> String {
        match self {
            NoticeStanding::NotRequired { reason } => format!("不经公示：{reason}。"),
            NoticeStanding::NotPosted { closed: false } => "尚未公示。".into(),
            NoticeStanding::NotPosted { closed: true } => "未经公示。".into(),
            NoticeStanding::Running { posted_on, ends_on } => {
                format!("{posted_on} 张贴公示，公示中，至{ends_on}止。")
            }
            NoticeStanding::Objected {
                posted_on,
                objections,
                ..
            } => format!(
                "{posted_on} 张贴公示，公示期间收到异议{}件。",
                objections.len()
            ),
            NoticeStanding::EndedWithoutObjection { posted_on, ends_on } => {
                format!("{posted_on} 张贴公示，公示期至{ends_on}届满，公示期间无异议。")
            }
        }
    }
}

/// The notice's standing on `as_of`: `facts` carries the posting date and the notice days
/// in force (as the step that closes the notice reads them), `events` the case's history
/// and `objections` those recorded on it.
pub fn notice_standing(
    c: &Case,
    facts: &CaseFacts,
    events: &[CaseEvent],
    objections: &[Objection],
    as_of: NaiveDate,
) -> NoticeStanding {
    let Some(posted_on) = facts.notice_posted_on else {
        if let Some(e) = events
            .iter()
            .rev()
            .find(|e| e.action == EventKind::SendWithoutNotice)
        {
            let reason = e
                .data
                .get("notice_skipped")
                .and_then(|v| v.as_str())
                .unwrap_or("该项目无需公示");
            return NoticeStanding::NotRequired {
                reason: reason.to_string(),
            };
        }
        if !notice_required(facts) {
            let reason = if facts.workflow.has_public_notice() {
                "特困人员中的未成年人不予公示"
            } else {
                "该项目无需公示"
            };
            return NoticeStanding::NotRequired {
                reason: reason.into(),
            };
        }
        return NoticeStanding::NotPosted {
            closed: c.state.is_final(),
        };
    };
    let ends_on = notice_ends_on(posted_on, facts.notice_days);
    let objections: Vec<(String, String)> = objections
        .iter()
        .filter(|o| parse_date(&o.received_on).is_none_or(|d| d >= posted_on))
        .map(|o| (o.received_on.clone(), o.summary.clone()))
        .collect();
    if !objections.is_empty() {
        return NoticeStanding::Objected {
            posted_on,
            ends_on,
            objections,
        };
    }
    let closed = events.iter().any(|e| {
        e.action == EventKind::CloseNotice && parse_date(&e.on_date).is_some_and(|d| d >= posted_on)
    });
    if closed || as_of > ends_on {
        NoticeStanding::EndedWithoutObjection { posted_on, ends_on }
    } else {
        NoticeStanding::Running { posted_on, ends_on }
    }
}

/// A step the case waits for, and who takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NextStep {
    pub kind: ActionKind,
    /// The roles that take it at the level that decides this case.
    pub roles: Vec<Role>,
    /// The first day it may be taken, when that is later than `as_of` (closing a notice).
    pub not_before: Option<NaiveDate>,
}

impl NextStep {
    /// The roles in Chinese (乡镇(街道)工作人员或民政办主任).
    pub fn roles_label(&self) -> String {
        self.roles
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join("或")
    }
}

/// Steps taken when something happens (an objection, a request to withdraw, a
/// beneficiary's change), not because the case waits for them.
pub fn waits_for_someone(k: ActionKind) -> bool {
    !matches!(
        k,
        ActionKind::Withdraw
            | ActionKind::RecordObjection
            | ActionKind::Suspend
            | ActionKind::Resume
            | ActionKind::Terminate
    )
}

/// The steps legal from the case's state (as [`next_actions`] finds them with the state
/// machine), each with the roles the machine allows at the approval level that decides
/// this case (`configured`, or the township for small 临时救助) and, for closing a notice,
/// the first day the machine allows it. `waiting` keeps only the steps the case waits for.
pub fn next_steps(
    c: &Case,
    facts: &CaseFacts,
    configured: ApprovalLevel,
    as_of: NaiveDate,
    waiting: bool,
) -> Vec<NextStep> {
    let level = effective_approval_level(facts, None, configured);
    next_actions(c)
        .into_iter()
        .filter(|k| !waiting || waits_for_someone(*k))
        .map(|kind| {
            let not_before = match (kind, facts.notice_posted_on) {
                (ActionKind::CloseNotice, Some(p)) => {
                    let first = notice_ends_on(p, facts.notice_days).succ_opt();
                    first.filter(|d| *d > as_of)
                }
                _ => None,
            };
            NextStep {
                kind,
                roles: allowed_roles(kind, level),
                not_before,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::{transition, Action, CaseError, CaseState};
    use crate::programs::Program;
    use crate::Fen;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn case(program: Program, state: CaseState) -> Case {
        Case::sample(program, state)
    }

    fn facts(c: &Case, posted: Option<NaiveDate>, threshold: Option<Fen>) -> CaseFacts {
        CaseFacts {
            workflow: c.program.info().workflow,
            state: c.state,
            subject_is_minor: c.subject_is_minor,
            notice_posted_on: posted,
            notice_days: 7,
            proposed_amount: c.proposed_fen,
            township_approval_threshold: threshold,
        }
    }

    fn objection(on: &str) -> Objection {
        Objection {
            id: 1,
            received_on: on.into(),
            summary: "有车".into(),
            recorded_by: "staff".into(),
        }
    }

    #[test]
    fn the_notice_is_running_until_its_last_day_and_only_then_ended() {
        let c = case(Program::RuralDibao, CaseState::Publicised);
        let posted = d(2026, 3, 2);
        let f = facts(&c, Some(posted), None);
        let ends = d(2026, 3, 9);
        for as_of in [posted, ends] {
            let s = notice_standing(&c, &f, &[], &[], as_of);
            assert_eq!(
                s,
                NoticeStanding::Running {
                    posted_on: posted,
                    ends_on: ends
                }
            );
            assert!(!s.describe().contains("无异议"), "{}", s.describe());
            assert!(s.describe().contains("至2026-03-09止"));
        }
        let s = notice_standing(&c, &f, &[], &[], d(2026, 3, 10));
        assert_eq!(
            s,
            NoticeStanding::EndedWithoutObjection {
                posted_on: posted,
                ends_on: ends
            }
        );
        assert!(s.describe().contains("无异议"));
        // The closing step is offered from the first day the machine allows it.
        let steps = next_steps(&c, &f, ApprovalLevel::County, ends, true);
        let close = steps
            .iter()
            .find(|s| s.kind == ActionKind::CloseNotice)
            .unwrap();
        assert_eq!(close.not_before, Some(d(2026, 3, 10)));
        let mut closing = f.clone();
        closing.state = CaseState::Publicised;
        assert!(transition(
            &closing,
            Action::CloseNotice,
            Role::TownshipStaff,
            ApprovalLevel::County,
            ends
        )
        .is_err());
        assert!(transition(
            &closing,
            Action::CloseNotice,
            Role::TownshipStaff,
            ApprovalLevel::County,
            d(2026, 3, 10)
        )
        .is_ok());
    }

    #[test]
    fn objections_on_this_notice_count_and_earlier_ones_do_not() {
        let c = case(Program::RuralDibao, CaseState::Publicised);
        let posted = d(2026, 4, 1);
        let f = facts(&c, Some(posted), None);
        let earlier = [objection("2026-03-05")];
        let s = notice_standing(&c, &f, &[], &earlier, d(2026, 4, 20));
        assert!(
            matches!(s, NoticeStanding::EndedWithoutObjection { .. }),
            "{s:?}"
        );
        let now = [objection("2026-03-05"), objection("2026-04-03")];
        let s = notice_standing(&c, &f, &[], &now, d(2026, 4, 20));
        assert!(s.describe().contains("收到异议1件"), "{}", s.describe());
        assert!(!s.describe().contains("无异议"));
    }

    #[test]
    fn before_a_notice_and_without_one_the_file_says_so() {
        let c = case(Program::RuralDibao, CaseState::PrelimOpinion);
        let s = notice_standing(&c, &facts(&c, None, None), &[], &[], d(2026, 4, 1));
        assert_eq!(s, NoticeStanding::NotPosted { closed: false });
        assert_eq!(s.describe(), "尚未公示。");
        let gone = case(Program::RuralDibao, CaseState::Withdrawn);
        let s = notice_standing(&gone, &facts(&gone, None, None), &[], &[], d(2026, 4, 1));
        assert_eq!(s.describe(), "未经公示。");
        let mut minor = case(Program::Tekun, CaseState::PrelimOpinion);
        minor.subject_is_minor = true;
        let s = notice_standing(&minor, &facts(&minor, None, None), &[], &[], d(2026, 4, 1));
        assert!(s.describe().contains("未成年人"), "{}", s.describe());
        let care = case(Program::PreferentialCare, CaseState::PrelimOpinion);
        let s = notice_standing(&care, &facts(&care, None, None), &[], &[], d(2026, 4, 1));
        assert!(s.describe().contains("无需公示"), "{}", s.describe());
    }

    fn event(action: EventKind, on: &str, data: serde_json::Value) -> CaseEvent {
        CaseEvent {
            id: 1,
            action,
            from_state: None,
            to_state: None,
            actor: "staff".into(),
            role: Some(Role::TownshipStaff),
            on_date: on.into(),
            at: String::new(),
            note: String::new(),
            data,
        }
    }

    #[test]
    fn a_case_sent_on_without_a_notice_gives_the_reason_recorded() {
        let c = case(Program::RuralDibao, CaseState::Publicised);
        let f = facts(&c, None, None);
        let skipped = event(
            EventKind::SendWithoutNotice,
            "2026-04-02",
            serde_json::json!({"notice_skipped": "申请人为重度残疾人，经批准不予公示"}),
        );
        let s = notice_standing(&c, &f, &[skipped], &[], d(2026, 4, 3));
        assert_eq!(
            s,
            NoticeStanding::NotRequired {
                reason: "申请人为重度残疾人，经批准不予公示".into()
            }
        );
        // Another step in the history says nothing about the notice.
        let other = event(
            EventKind::RecordOpinion,
            "2026-04-02",
            serde_json::json!({}),
        );
        let s = notice_standing(&c, &f, &[other], &[], d(2026, 4, 3));
        assert_eq!(s, NoticeStanding::NotPosted { closed: false });
    }

    #[test]
    fn a_notice_closed_on_its_case_has_ended_though_its_days_have_not() {
        let c = case(Program::RuralDibao, CaseState::Publicised);
        let posted = d(2026, 3, 2);
        let f = facts(&c, Some(posted), None);
        let running = NoticeStanding::Running {
            posted_on: posted,
            ends_on: d(2026, 3, 9),
        };
        let ended = NoticeStanding::EndedWithoutObjection {
            posted_on: posted,
            ends_on: d(2026, 3, 9),
        };
        let as_of = d(2026, 3, 5);
        let close = |on: &str| event(EventKind::CloseNotice, on, serde_json::json!({}));
        assert_eq!(
            notice_standing(&c, &f, &[close("2026-03-04")], &[], as_of),
            ended
        );
        assert_eq!(
            notice_standing(&c, &f, &[close("2026-03-02")], &[], as_of),
            ended
        );
        // A closing of an earlier notice, or another step after this one was posted,
        // does not end it.
        assert_eq!(
            notice_standing(&c, &f, &[close("2026-02-20")], &[], as_of),
            running
        );
        let other = event(
            EventKind::RecordObjection,
            "2026-03-04",
            serde_json::json!({}),
        );
        assert_eq!(notice_standing(&c, &f, &[other], &[], as_of), running);
        assert_eq!(notice_standing(&c, &f, &[], &[], as_of), running);
    }

    #[test]
    fn the_steps_a_case_waits_for_leave_out_those_taken_when_something_happens() {
        for k in [
            ActionKind::Withdraw,
            ActionKind::RecordObjection,
            ActionKind::Suspend,
            ActionKind::Resume,
            ActionKind::Terminate,
        ] {
            assert!(!waits_for_someone(k), "{k:?}");
        }
        for k in [
            ActionKind::Accept,
            ActionKind::Publish,
            ActionKind::CloseNotice,
            ActionKind::Approve,
        ] {
            assert!(waits_for_someone(k), "{k:?}");
        }
        let c = case(Program::RuralDibao, CaseState::Publicised);
        let posted = d(2026, 3, 2);
        let f = facts(&c, Some(posted), None);
        let kinds = |waiting| -> Vec<ActionKind> {
            next_steps(&c, &f, ApprovalLevel::County, d(2026, 3, 5), waiting)
                .into_iter()
                .map(|s| s.kind)
                .collect()
        };
        let all = kinds(false);
        let waited = kinds(true);
        assert!(all.contains(&ActionKind::RecordObjection), "{all:?}");
        assert!(!waited.contains(&ActionKind::RecordObjection), "{waited:?}");
        assert!(waited.contains(&ActionKind::CloseNotice), "{waited:?}");
        assert!(waited.iter().all(|k| all.contains(k)));
        // From the first day closing is allowed, it has no later first day.
        let first = next_steps(&c, &f, ApprovalLevel::County, d(2026, 3, 10), true);
        let close = first
            .iter()
            .find(|s| s.kind == ActionKind::CloseNotice)
            .unwrap();
        assert_eq!(close.not_before, None);
        let step = NextStep {
            kind: ActionKind::Accept,
            roles: vec![Role::TownshipStaff, Role::TownshipDirector],
            not_before: None,
        };
        assert_eq!(step.roles_label(), "民政专职工作人员或民政办主任");
    }

    /// Every step named, for every state and both levels, is one the machine takes from
    /// exactly the roles named (others are refused as the wrong role).
    #[test]
    fn the_next_steps_are_the_machines_with_its_roles() {
        let roles = [
            Role::VillageAssistant,
            Role::TownshipStaff,
            Role::TownshipDirector,
            Role::CountyApprover,
        ];
        for program in [
            Program::RuralDibao,
            Program::TemporaryAssistance,
            Program::PreferentialCare,
        ] {
            for state in CaseState::ALL {
                for (level, threshold) in [
                    (ApprovalLevel::County, None),
                    (ApprovalLevel::County, Some(Fen(100_000))),
                    (ApprovalLevel::Township, None),
                ] {
                    let c = case(program, *state);
                    let f = facts(&c, None, threshold);
                    let as_of = d(2026, 6, 1);
                    for step in next_steps(&c, &f, level, as_of, false) {
                        assert!(!step.roles.is_empty());
                        for r in roles {
                            let a = super::super::rules::sample_action(step.kind);
                            let amount = match &a {
                                Action::Approve { .. } => Action::Approve {
                                    amount: Fen(50_000),
                                },
                                other => other.clone(),
                            };
                            let out = transition(&f, amount, r, level, as_of);
                            if step.roles.contains(&r) {
                                assert!(
                                    !matches!(
                                        out,
                                        Err(CaseError::IllegalTransition { .. }
                                            | CaseError::WrongRole { .. })
                                    ),
                                    "{program:?} {state:?} {:?} by {r:?}: {out:?}",
                                    step.kind
                                );
                            } else {
                                assert!(
                                    matches!(out, Err(CaseError::WrongRole { .. })),
                                    "{program:?} {state:?} {:?} by {r:?}: {out:?}",
                                    step.kind
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
