//! The dashboard (工作台): what lies inside the viewer's jurisdiction, at a glance. Its
//! statistics are read from the read replica when there is one (they may lag the primary
//! a little); the dashboard page also shows the latest audit records, read from the primary.

use minzheng_domain::Actor;
use minzheng_store::{divisions, users};
use serde::Serialize;

use crate::funerals::{recovery_totals, RecoveryTotals};
use crate::{App, AppResult};

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
    pub async fn counts(&self, actor: &Actor) -> AppResult<DashboardCounts> {
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
    pub async fn recoveries(&self, actor: &Actor) -> AppResult<RecoveryTotals> {
        recovery_totals(self.app.reader(), actor).await
    }
}
