//! The dashboard (工作台): what lies inside the viewer's jurisdiction, at a glance. Its
//! statistics are read from the read replica when there is one (they may lag the primary
//! a little); the dashboard page also shows the latest audit records, read from the primary.

use chrono::NaiveDate;
use minzheng_domain::cases::{self as rules, ActionKind, CaseFilter, CaseState};
use minzheng_domain::{Actor, Program};
use minzheng_store::{divisions, users};
use serde::Serialize;

use crate::funerals::{recovery_totals, RecoveryTotals};
use crate::{App, Authorize, Permission, Result};

/// How many open cases the to-do list looks at (the oldest first are the likeliest to
/// wait; the case list has the rest).
const TODO_CASES: i64 = 500;

/// A case waiting for the viewer's action (待我办理).
#[derive(Debug, Clone, Serialize)]
pub struct TodoCase {
    pub case_id: i64,
    pub case_no: String,
    pub subject_name: String,
    pub village_name: String,
    pub program: Program,
    pub state: CaseState,
    /// What the viewer may do next, as the case page offers it.
    pub actions: Vec<ActionKind>,
    /// The running step's deadline (YYYY-MM-DD) and standing, if a clock runs.
    pub due_on: Option<String>,
    pub overdue: bool,
    pub due_soon: bool,
}

/// What waits for the viewer: cases whose next step is theirs, overdue and soonest due
/// first; `more` when the open cases looked at were not all.
#[derive(Debug, Clone, Serialize)]
pub struct Todo {
    pub cases: Vec<TodoCase>,
    pub more: bool,
}

/// Counts for the dashboard, inside the viewer's scope.
#[derive(Debug, Clone, Serialize)]
pub struct DashboardCounts {
    pub counties: i64,
    pub townships: i64,
    pub villages: i64,
    pub offices: i64,
    pub offices_with_contact: i64,
    pub users: i64,
    pub audit_records: i64,
}

/// The dashboard duty of [`App`].
pub struct Dashboard<'a> {
    app: &'a App,
}

impl App {
    pub fn dashboard(&self) -> Dashboard<'_> {
        Dashboard { app: self }
    }
}

impl Dashboard<'_> {
    /// The divisions, offices, accounts and audit records inside the actor's scope.
    pub async fn counts(&self, actor: &Actor) -> Result<DashboardCounts> {
        let store = self.app.reader();
        let levels = divisions::stats(store, &actor.scope).await?;
        let n = |d: u8| {
            levels
                .iter()
                .find(|l| l.level.depth() == d)
                .map(|l| l.count)
                .unwrap_or(0)
        };
        let [offices, offices_with_contact, users, audit_records] =
            users::dashboard_counts(store, &actor.scope).await?;
        Ok(DashboardCounts {
            counties: n(3),
            townships: n(4),
            villages: n(5),
            offices,
            offices_with_contact,
            users,
            audit_records,
        })
    }

    /// Open and recovered sums inside the actor's scope, as the dashboard shows them (the
    /// recoveries page, where a clerk lands after a step, reads them from the primary:
    /// [`crate::funerals::Funerals::recovery_totals`]).
    pub async fn recoveries(&self, actor: &Actor) -> Result<RecoveryTotals> {
        recovery_totals(self.app.reader(), actor).await
    }

    /// 待我办理: the open cases inside the actor's scope whose next step the actor may take
    /// (as the case page offers it: the role takes the step, the actor handles cases and is
    /// not recused), each with its deadline clock on `on`. Read from the primary: the list
    /// must drop a case as soon as its step is done.
    pub async fn todo(&self, actor: &Actor, on: NaiveDate) -> Result<Todo> {
        if !actor.may(Permission::HandleCases) {
            return Ok(Todo {
                cases: Vec::new(),
                more: false,
            });
        }
        let filter = CaseFilter {
            state: Some("open".into()),
            origin: Some("no_system_drafts".into()),
            limit: Some(TODO_CASES),
            ..Default::default()
        };
        let (open, total) = self.app.cases().list(actor, &filter).await?;
        let clocks = self.app.cases().clocks(self.app.store(), actor, on).await?;
        // A staff member whose declared relative's household it is may not act on a case.
        let recused =
            minzheng_store::relatives::households_tied_to(self.app.store(), &actor.username)
                .await?;
        let mut cases: Vec<TodoCase> = Vec::new();
        for c in open {
            let actions: Vec<ActionKind> = rules::next_actions(&c)
                .into_iter()
                .filter(|k| rules::waits_for_someone(*k) && rules::role_may_take(*k, actor.role))
                .collect();
            if actions.is_empty() {
                continue;
            }
            if recused.contains(&c.household_id) {
                continue;
            }
            let clock = clocks.iter().find(|d| d.case_id == c.id);
            cases.push(TodoCase {
                case_id: c.id,
                case_no: c.case_no,
                subject_name: c.subject_name,
                village_name: c.village_name,
                program: c.program,
                state: c.state,
                actions,
                due_on: clock.map(|d| d.due_on.clone()),
                overdue: clock.is_some_and(|d| d.overdue),
                due_soon: clock.is_some_and(|d| {
                    matches!(d.status, minzheng_domain::DeadlineStatus::DueSoon { .. })
                }),
            });
        }
        cases.sort_by(|a, b| {
            b.overdue
                .cmp(&a.overdue)
                .then(b.due_soon.cmp(&a.due_soon))
                .then(a.due_on.is_none().cmp(&b.due_on.is_none()))
                .then(a.due_on.cmp(&b.due_on))
                .then(a.case_id.cmp(&b.case_id))
        });
        Ok(Todo {
            cases,
            more: total > TODO_CASES,
        })
    }
}
