//! Test support (cargo feature `testing`): moving a case's dates back, so a suite reaches
//! the end of a notice period or a statutory limit without waiting; the calculator's
//! amount for an enrolment without a case, as a case would compute it.

use chrono::NaiveDate;
use minzheng_store::cases::testing as store;

use crate::testing::TestDb;
use crate::App;

/// Takes a case as the system through every step to 纳入保障, each with the calculator's
/// amount: the steps before the decision on `apply`, closing the notice and the decision on
/// `decide`. Panics on a refusal, naming the step.
pub async fn drive_to_enrolment(app: &App, case_id: i64, apply: NaiveDate, decide: NaiveDate) {
    use minzheng_domain::{Action, ActionKind, Actor, CaseState, Fen};
    let sys = Actor::system("test");
    loop {
        let detail = app
            .cases()
            .get(&sys, case_id, apply)
            .await
            .expect("the case");
        let next = &detail.next_actions;
        let (action, on) = match detail.case.state {
            CaseState::Submitted => (Action::Accept, apply),
            CaseState::Accepted if next.contains(&ActionKind::StartInvestigation) => (
                Action::StartInvestigation {
                    investigators: vec!["张伟".into(), "刘芳".into()],
                    authorization_attached: true,
                },
                apply,
            ),
            CaseState::Accepted | CaseState::Investigating => (
                Action::RecordOpinion {
                    proposed_amount: None,
                },
                apply,
            ),
            CaseState::PrelimOpinion if next.contains(&ActionKind::Publish) => {
                (Action::Publish, apply)
            }
            CaseState::PrelimOpinion => (Action::SendWithoutNotice, apply),
            CaseState::Publicised => (Action::CloseNotice, decide),
            CaseState::UnderConfirmation => (Action::Approve { amount: Fen(-1) }, decide),
            CaseState::Approved => (Action::Enrol, decide),
            CaseState::Enrolled => return,
            s => panic!("case {case_id}: unexpected state {s:?}"),
        };
        app.cases()
            .act(&sys, case_id, action.clone(), &Default::default(), on)
            .await
            .unwrap_or_else(|e| panic!("case {case_id}: {action:?} on {on}: {e:?}"));
    }
}

/// Pretends the case's notice was posted on `on`.
pub async fn set_notice_posted_on(app: &App, case_id: i64, on: NaiveDate) {
    store::set_notice_posted_on(app.store(), case_id, on)
        .await
        .expect("move the notice date");
}

/// Pretends every clock of the case started on `on`.
pub async fn set_clocks_started_on(app: &App, case_id: i64, on: NaiveDate) {
    store::set_clocks_started_on(app.store(), case_id, on)
        .await
        .expect("move the clocks");
}

/// The calculator's amount for the enrolment's household and subject with the parameters
/// in force on `on` and the enrolment's case details (none without a case), as a case
/// computes it; `None` where it cannot be computed.
pub async fn computed_for_enrolment(
    app: &App,
    e: &minzheng_domain::cases::Enrolment,
    on: NaiveDate,
) -> Option<minzheng_domain::Fen> {
    let params = minzheng_store::params::load(app.store()).await.ok()?;
    let details = match e.case_id {
        Some(id) => {
            app.cases()
                .case(&minzheng_domain::Actor::system("t"), id)
                .await
                .ok()?
                .details
        }
        None => Default::default(),
    };
    app.cases()
        .calculate(
            e.household_id,
            e.person_id,
            e.program,
            &details,
            &params,
            on,
        )
        .await
        .ok()
        .map(|c| c.amount)
}

impl TestDb {
    /// Pretends the case's notice was posted on `on`.
    pub async fn set_case_notice_posted_on(&self, case_id: i64, on: NaiveDate) {
        set_notice_posted_on(&self.app, case_id, on).await
    }

    /// Pretends every clock of the case started on `on`.
    pub async fn set_case_clocks_started_on(&self, case_id: i64, on: NaiveDate) {
        set_clocks_started_on(&self.app, case_id, on).await
    }
}
