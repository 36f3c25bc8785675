//! Jurisdiction (管辖范围): the set of division codes a caller may see or change, and the
//! actor who works inside one.

use crate::{DivisionCode, Role};

/// A jurisdiction: everything under one division code, or the whole system (for the CLI
/// and system tasks only). Codes are native-length prefixes, so "inside" is a prefix test
/// and in SQL a range scan `code >= lo AND code < hi`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    code: Option<DivisionCode>,
}

impl Scope {
    /// Everything. Only the CLI and system jobs hold this.
    pub fn all() -> Self {
        Scope { code: None }
    }

    pub fn of(code: DivisionCode) -> Self {
        Scope { code: Some(code) }
    }

    pub fn code(&self) -> Option<&DivisionCode> {
        self.code.as_ref()
    }

    /// The code as stored in audit rows ("" for the whole system).
    pub fn code_str(&self) -> &str {
        self.code.as_ref().map(|c| c.as_str()).unwrap_or("")
    }

    /// Lower and upper bound for a prefix range scan over code columns.
    pub fn bounds(&self) -> (String, String) {
        match &self.code {
            Some(c) => (c.as_str().to_string(), c.range_end()),
            None => (String::new(), ":".to_string()),
        }
    }

    /// Whether a stored code lies inside this jurisdiction.
    pub fn contains_str(&self, code: &str) -> bool {
        match &self.code {
            Some(c) => code.starts_with(c.as_str()),
            None => true,
        }
    }

    /// Whether `code` is inside the jurisdiction or one of its ancestors (the chain a user
    /// may read to see where they are, e.g. breadcrumbs and their own township's office).
    pub fn sees_str(&self, code: &str) -> bool {
        match &self.code {
            Some(c) => code.starts_with(c.as_str()) || c.as_str().starts_with(code),
            None => true,
        }
    }
}

/// Who is acting: a signed-in user, or the system (CLI, demo seeding).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub username: String,
    pub role: Option<Role>,
    pub scope: Scope,
}

impl Actor {
    /// The command line or a system task: full rights, recorded under `name`.
    pub fn system(name: &str) -> Self {
        Actor {
            user_id: None,
            username: name.to_string(),
            role: None,
            scope: Scope::all(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_is_its_code_as_a_prefix() {
        let town = Scope::of(DivisionCode::parse("511802001").unwrap());
        assert_eq!(town.code_str(), "511802001");
        assert_eq!(Scope::all().code_str(), "");
        assert!(town.contains_str("511802001001"));
        assert!(!town.contains_str("511802002001"));
        assert!(!town.contains_str("511802"));
        // A township sees its county and city (breadcrumbs), not a neighbour.
        assert!(town.sees_str("511802") && town.sees_str("5118"));
        assert!(!town.sees_str("511802002"));
        assert!(Scope::all().contains_str("anything") && Scope::all().sees_str("5118"));
        let (lo, hi) = town.bounds();
        assert!(lo.as_str() <= "511802001001" && "511802001001" < hi.as_str());
        assert!("511802002" >= hi.as_str() && "511802000999" < lo.as_str());
    }
}
