//! Roles (角色). The scope (管辖范围) a role works in is a division code held by the user;
//! what each role may do inside it is the permission table of `minzheng-app` (`authz`).

use std::fmt;
use std::str::FromStr;

/// A user's role. Each user has exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// 市民政局管理员 — city bureau administrator.
    CityAdmin,
    /// 审批人 (县级民政部门) — county approver.
    CountyApprover,
    /// 民政办主任 — township office director.
    TownshipDirector,
    /// 民政专职工作人员 — township office staff.
    TownshipStaff,
    /// 村(居)民政协理员 — village assistant.
    VillageAssistant,
    /// 审计/纪检 — read-only auditor.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::CityAdmin,
        Role::CountyApprover,
        Role::TownshipDirector,
        Role::TownshipStaff,
        Role::VillageAssistant,
        Role::Auditor,
    ];

    /// The name used on the command line and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::CityAdmin => "city-admin",
            Role::CountyApprover => "county-approver",
            Role::TownshipDirector => "township-director",
            Role::TownshipStaff => "township-staff",
            Role::VillageAssistant => "village-assistant",
            Role::Auditor => "auditor",
        }
    }

    /// The Chinese label shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Role::CityAdmin => "市民政局管理员",
            Role::CountyApprover => "县级审批人",
            Role::TownshipDirector => "民政办主任",
            Role::TownshipStaff => "民政专职工作人员",
            Role::VillageAssistant => "村(居)民政协理员",
            Role::Auditor => "审计人员(只读)",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for an unknown role name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的角色“{0}”，可选：city-admin、county-approver、township-director、township-staff、village-assistant、auditor")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("admin".parse::<Role>().is_err());
        // Displayed (logs, the command line) by the same name it is parsed from.
        assert_eq!(Role::TownshipDirector.to_string(), "township-director");
    }

    #[test]
    fn labels_are_distinct_chinese_names() {
        let labels: std::collections::HashSet<_> = Role::ALL.iter().map(|r| r.label()).collect();
        assert_eq!(labels.len(), Role::ALL.len());
        assert!(labels
            .iter()
            .all(|l| l.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))));
    }
}
