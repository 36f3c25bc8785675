//! 演示案件: cases in every state and enrolments in every program for the demo city,
//! driven through the ordinary procedure ([`crate::cases::Cases::act`]), so the timelines,
//! clocks, notices and audit records are real. Runs after the demo registry is seeded.

use chrono::{Days, NaiveDate};
use minzheng_domain::calculators::SelfCareAssessment;
use minzheng_domain::case_calc::CaseDetails;
use minzheng_domain::cases::{per_person, ActionExtras, NewCase};
use minzheng_domain::programs::{
    CareCategory, DisabilityCause, LaidOffRegime, ReliefStage, SchoolStage, SupportMode,
    TemporaryKind, Workflow,
};
use minzheng_domain::{Action, Actor, CaseState, Fen, Program};
use minzheng_store::cases::demo as store;

use super::Demo;
use crate::{Error, Result};

/// Where each demo case should end.
const TARGETS: [CaseState; 16] = [
    CaseState::Draft,
    CaseState::Submitted,
    CaseState::MissingPapers,
    CaseState::Accepted,
    CaseState::NotAccepted,
    CaseState::Investigating,
    CaseState::PrelimOpinion,
    CaseState::Publicised,
    CaseState::Reinvestigating,
    CaseState::UnderConfirmation,
    CaseState::Approved,
    CaseState::Denied,
    CaseState::Enrolled,
    CaseState::Suspended,
    CaseState::Terminated,
    CaseState::Withdrawn,
];

fn details(program: Program, i: usize) -> CaseDetails {
    let mut d = CaseDetails::default();
    match program {
        Program::Tekun => {
            let mut a = SelfCareAssessment::all_met();
            if i % 2 == 1 {
                a.bathing = false;
                a.dressing = false;
            }
            d.assessment = Some(a);
            d.support_mode = Some(if i.is_multiple_of(3) {
                SupportMode::Centralized
            } else {
                SupportMode::Dispersed
            });
        }
        Program::TemporaryAssistance => {
            d.temporary_kind = Some(if i.is_multiple_of(2) {
                TemporaryKind::Emergency
            } else {
                TemporaryKind::Spending
            });
            d.assessed_fen = Some(150_000 + (i as i64 % 5) * 50_000);
            d.cause = Some(
                if i.is_multiple_of(2) {
                    "火灾"
                } else {
                    "重病医疗支出"
                }
                .into(),
            );
        }
        Program::MedicalAssistance => {
            d.eligible_cost_fen = Some(1_200_000 + (i as i64 % 4) * 300_000);
        }
        Program::EducationAssistance => {
            d.school_stage = Some(SchoolStage::ALL[i % SchoolStage::ALL.len()]);
        }
        Program::DisasterRelief => {
            d.relief_stage = Some(ReliefStage::ALL[i % ReliefStage::ALL.len()]);
            d.disaster_name = Some("2026年7月雨城区暴雨洪涝".into());
        }
        Program::LaidOffWorkerRelief => {
            d.laid_off_regime = Some(if i.is_multiple_of(2) {
                LaidOffRegime::FortyPercent
            } else {
                LaidOffRegime::RegularFixed
            });
            d.original_wage_fen = Some(6_500 + (i as i64 % 3) * 1_000);
        }
        Program::PreferentialCare => {
            d.care_category = Some(if i.is_multiple_of(2) {
                CareCategory::DisabledServiceman
            } else {
                CareCategory::MartyrFamily
            });
            if i.is_multiple_of(2) {
                d.care_grade = Some(10);
                d.disability_cause = Some(DisabilityCause::War);
            }
        }
        _ => {}
    }
    d
}

impl Demo<'_> {
    /// Seeds demo cases when there are none yet (`serve --demo`, after the demo
    /// registry). `today` anchors the dates: finished cases were decided weeks ago, the
    /// notices of publicised ones are still up. Returns the number of cases created.
    pub async fn cases(&self, today: NaiveDate) -> Result<usize> {
        let st = self.app.store();
        if store::case_count(st).await? > 0 {
            return Ok(0);
        }
        let cases = self.app.cases();
        let sys = Actor::system("demo");
        // Households of 雨城区 by registration type, each used once (no exclusivity clash).
        let mut urban = store::households(st, "urban").await?.into_iter();
        let mut rural = store::households(st, "rural").await?.into_iter();
        let mut elderly = store::elderly(st).await?.into_iter();
        let mut disabled = store::disabled(st).await?.into_iter();
        let params = minzheng_store::params::load(st).await?;
        let mut created = 0;
        let mut plan: Vec<(Program, CaseState)> = Vec::new();
        // 农村低保 goes through every state; every program has enrolments.
        for t in TARGETS {
            plan.push((Program::RuralDibao, t));
        }
        for p in Program::ALL {
            for _ in 0..3 {
                plan.push((p, CaseState::Enrolled));
            }
        }
        for (p, t) in [
            (Program::UrbanDibao, CaseState::Publicised),
            (Program::UrbanDibao, CaseState::UnderConfirmation),
            (Program::Tekun, CaseState::Investigating),
            (Program::TemporaryAssistance, CaseState::Publicised),
            (Program::MedicalAssistance, CaseState::Submitted),
            (Program::PreferentialCare, CaseState::Approved),
        ] {
            plan.push((p, t));
        }
        for (i, (program, target)) in plan.into_iter().enumerate() {
            // The first unused household for which the program computes (the poorest
            // come first), so the demo's cases can go all the way.
            let dets = details(program, i);
            let mut chosen = None;
            for _ in 0..40 {
                let next = match program {
                    Program::OldAgeAllowance => elderly.next(),
                    Program::UrbanDibao => urban.next(),
                    Program::SinglePersonDibao => disabled.next(),
                    _ => rural.next(),
                };
                let Some((hid, head)) = next else { break };
                let pid = per_person(program).then_some(head);
                let ok = target == CaseState::Draft
                    || cases
                        .calculate(hid, pid, program, &dets, &params, today)
                        .await
                        .is_ok();
                if ok {
                    chosen = Some((hid, pid));
                    break;
                }
            }
            let Some((hid, pid)) = chosen else { continue };
            // Finished cases started six weeks ago; open ones recently.
            let start = if matches!(
                target,
                CaseState::Enrolled
                    | CaseState::Suspended
                    | CaseState::Terminated
                    | CaseState::Approved
                    | CaseState::Denied
            ) {
                today - Days::new(45)
            } else {
                today - Days::new(3 + (i as u64 % 20))
            };
            let id = match cases
                .create(
                    &sys,
                    &NewCase {
                        household_id: hid,
                        person_id: pid,
                        program: program.as_str().into(),
                        reason: "家庭生活困难，申请救助".into(),
                        details: dets,
                        submit: target != CaseState::Draft,
                    },
                    start,
                )
                .await
            {
                Ok(id) => id,
                // An unlucky household (e.g. already enrolled elsewhere): skip it.
                Err(Error::Conflict(_) | Error::Validation { .. }) => continue,
                Err(e) => return Err(e),
            };
            created += 1;
            if let Err(e) = self
                .drive_case(&sys, id, program, target, start, today)
                .await
            {
                // Parameters missing for a program leave the case where it stopped;
                // the demo still starts.
                tracing::warn!("演示案件{id}未能推进到{}：{e}", target.label());
            }
        }
        let _ = cases.run_tasks(&sys, today).await?;
        Ok(created)
    }

    async fn drive_case(
        &self,
        sys: &Actor,
        id: i64,
        program: Program,
        target: CaseState,
        start: NaiveDate,
        today: NaiveDate,
    ) -> Result<()> {
        use CaseState as S;
        let cases = self.app.cases();
        let cases = &cases;
        let wf = program.info().workflow;
        let notice = wf.has_public_notice();
        let ex = |note: &str| ActionExtras {
            note: note.into(),
            ..Default::default()
        };
        let act = |a: Action, on: NaiveDate, note: &'static str| async move {
            cases.act(sys, id, a, &ex(note), on).await
        };
        match target {
            S::Draft | S::Submitted => return Ok(()),
            S::MissingPapers => {
                return act(
                    Action::RequestPapers {
                        missing: vec!["户口簿复印件".into(), "收入证明".into()],
                    },
                    start,
                    "一次性告知补正材料",
                )
                .await
            }
            S::NotAccepted => {
                return act(
                    Action::NotAccept {
                        reasons: "申请人户籍不在本辖区".into(),
                    },
                    start,
                    "",
                )
                .await
            }
            _ => {}
        }
        act(Action::Accept, start, "材料齐全，予以受理").await?;
        if target == S::Accepted {
            return Ok(());
        }
        if target == S::Withdrawn {
            return act(Action::Withdraw, start, "申请人书面撤回申请").await;
        }
        if wf.requires_investigation() {
            cases
                .act(
                    sys,
                    id,
                    Action::StartInvestigation {
                        investigators: vec!["陈晓燕".into(), "杨志强".into()],
                        authorization_attached: true,
                    },
                    &ActionExtras {
                        findings: "入户核实家庭成员、收入和财产状况，与申报基本一致".into(),
                        ..Default::default()
                    },
                    start,
                )
                .await?;
            if target == S::Investigating {
                return Ok(());
            }
        }
        act(
            Action::RecordOpinion {
                proposed_amount: None,
            },
            start + Days::new(1),
            "符合条件，拟同意",
        )
        .await?;
        if target == S::PrelimOpinion {
            return Ok(());
        }
        let open = matches!(target, S::Publicised | S::Reinvestigating);
        let posted = if open {
            today - Days::new(2)
        } else {
            start + Days::new(2)
        };
        if notice && !(wf == Workflow::Tekun && cases.case(sys, id).await?.subject_is_minor) {
            act(Action::Publish, posted, "在村务公开栏张榜公示").await?;
            if target == S::Publicised {
                return Ok(());
            }
            if target == S::Reinvestigating {
                return act(
                    Action::RecordObjection {
                        summary: "有村民反映该户有经营收入未申报".into(),
                    },
                    today - Days::new(1),
                    "",
                )
                .await;
            }
            act(Action::CloseNotice, posted + Days::new(8), "公示期满无异议").await?;
        } else {
            act(Action::SendWithoutNotice, start + Days::new(2), "").await?;
        }
        if target == S::UnderConfirmation {
            return Ok(());
        }
        let decided = start + Days::new(12);
        if target == S::Denied {
            return act(
                Action::Deny {
                    reasons: "经核查家庭人均收入高于当地低保标准".into(),
                },
                decided,
                "",
            )
            .await;
        }
        act(Action::Approve { amount: Fen(-1) }, decided, "审核确认").await?;
        if target == S::Approved {
            return Ok(());
        }
        act(Action::Enrol, decided, "纳入保障").await?;
        match target {
            S::Suspended => {
                act(
                    Action::Suspend {
                        reasons: "外出务工，暂停发放待核实".into(),
                    },
                    today - Days::new(5),
                    "",
                )
                .await
            }
            S::Terminated => {
                act(
                    Action::Terminate {
                        reasons: "家庭收入已超过保障标准".into(),
                    },
                    today - Days::new(5),
                    "",
                )
                .await
            }
            _ => Ok(()),
        }
    }
}
