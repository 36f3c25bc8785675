//! The demo city: 四川省雅安市 with one account per role, a few offices filled in, and
//! (for `serve --demo`) a registry, cases in every state and payroll history. Everything is
//! synthetic except the division codes and names.

use minzheng_domain::offices::{OfficeFilter, OfficeUpdate};
use minzheng_domain::{Actor, Role, Scope};
use serde::Serialize;

use crate::formats::divisions::DivisionSource;
use crate::{App, Result};

mod cases;
mod deaths;
mod params;
mod payroll;
mod registry;
mod standards;

pub use params::demo_yaan;

/// The demo city shipped with the binary: 四川省雅安市 (5118), real 2023 division codes.
pub const DEMO_CITY_CODE: &str = "5118";
/// The demo city's divisions as `code,name,level,parent` CSV.
pub const DEMO_CITY_CSV: &str = include_str!("../../data/demo-yaan-5118.csv");

/// The password of every demo account. It is published (README), so the password policy
/// refuses it for every account but the demo's own, created by its seeding.
pub const DEMO_PASSWORD: &str = "Minzheng@2026";

/// One demo login, for the start-up banner.
#[derive(Debug, Clone, Serialize)]
pub struct DemoLogin {
    pub username: String,
    pub role: Role,
    pub scope_code: String,
    pub scope_name: String,
}

/// (username, display name, role, scope)
const ACCOUNTS: &[(&str, &str, Role, &str)] = &[
    ("admin", "王建国", Role::CityAdmin, "5118"),
    ("approver", "李秀英", Role::CountyApprover, "511802"),
    ("director", "张伟", Role::TownshipDirector, "511802001"),
    ("staff", "刘芳", Role::TownshipStaff, "511802001"),
    ("staff2", "陈静", Role::TownshipStaff, "511802002"),
    ("assistant", "杨洋", Role::VillageAssistant, "511802001001"),
    ("auditor", "赵敏", Role::Auditor, "5118"),
];

/// The demo duty of [`App`].
pub struct Demo<'a> {
    app: &'a App,
}

impl App {
    pub fn demo(&self) -> Demo<'_> {
        Demo { app: self }
    }
}

impl Demo<'_> {
    /// Seeds the demo city when the database has no users yet; returns the demo logins
    /// either way (their passwords are only known if we seeded them).
    pub async fn ensure(&self) -> Result<Vec<DemoLogin>> {
        let store = self.app.store();
        let system = Actor::system("demo");
        if minzheng_store::users::count(store).await? == 0 {
            self.app
                .divisions()
                .import(&system, &DivisionSource::DemoCity, None, &mut |_| {})
                .await?;
            for (username, name, role, scope) in ACCOUNTS {
                self.app
                    .users()
                    .create_demo_account(
                        &system,
                        &minzheng_domain::users::NewUser {
                            username: (*username).into(),
                            display_name: (*name).into(),
                            role: role.as_str().into(),
                            scope_code: (*scope).into(),
                            password: DEMO_PASSWORD.into(),
                        },
                        DEMO_PASSWORD,
                    )
                    .await?;
            }
            // About a third of the offices have registered their contact details.
            let (offices, _) = self
                .app
                .offices()
                .list(
                    &system,
                    &OfficeFilter {
                        limit: Some(500),
                        ..Default::default()
                    },
                )
                .await?;
            for (i, o) in offices.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
                self.app
                    .offices()
                    .update(
                        &system,
                        &o.township_code,
                        &OfficeUpdate {
                            phone: format!("0835-{:07}", 2_200_000 + i * 137),
                            address: format!(
                                "雅安市{}{}人民政府一楼",
                                o.county_name, o.township_name
                            ),
                        },
                    )
                    .await?;
            }
            self.standards().await?;
            // 演示参数 (not official figures; see demo::params).
            self.params().await?;
        }
        let mut out = Vec::new();
        for (username, _, role, scope) in ACCOUNTS {
            let name = minzheng_store::divisions::get(store, &Scope::all(), scope)
                .await
                .map(|d| d.name)
                .unwrap_or_default();
            out.push(DemoLogin {
                username: (*username).into(),
                role: *role,
                scope_code: (*scope).into(),
                scope_name: name,
            });
        }
        Ok(out)
    }
}
