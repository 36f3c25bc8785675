//! User accounts (用户), their rules (names, passwords, which scope fits which role) and
//! the sign-in lockout.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::{Actor, DivisionCode, DivisionError, DivisionLevel, FieldErrors, Role, Scope};

/// Failed sign-ins in a row that lock an account.
pub const MAX_FAILED_SIGNINS: i64 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT_MINUTES: i64 = 15;

/// A user account (never carries the password hash).
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope_code: String,
    pub scope_name: String,
    pub active: bool,
    pub locked_until: Option<String>,
    pub created_at: String,
}

impl User {
    /// The actor this user acts as.
    pub fn actor(&self) -> Result<Actor, DivisionError> {
        Ok(Actor {
            user_id: Some(self.id),
            username: self.username.clone(),
            role: Some(self.role),
            scope: Scope::of(DivisionCode::parse_native(&self.scope_code)?),
        })
    }
}

/// A live session: who, and the token forms must echo.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: User,
    pub csrf_token: String,
}

/// A new account as typed.
#[derive(Debug, Clone, Deserialize)]
pub struct NewUser {
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    pub role: String,
    pub scope_code: String,
    pub password: String,
}

/// A new account that passed [`parse_new_user`].
#[derive(Debug, Clone)]
pub struct ValidNewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: DivisionCode,
    pub password: String,
}

/// Changes an administrator may make to an account.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub active: Option<bool>,
    pub password: Option<String>,
    /// Clears a lockout.
    pub unlock: Option<bool>,
}

/// Why a sign-in was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("用户名或密码错误")]
    BadCredentials,
    #[error("密码连续错误次数过多，账户已锁定，请于{until}后重试")]
    Locked { until: String },
    #[error("账户已停用，请联系市民政局管理员")]
    Inactive,
}

/// Password policy: at least 8 characters with at least three of lower case, upper case,
/// digits and symbols.
pub fn check_password_policy(pw: &str) -> Result<(), String> {
    if pw.chars().count() < 8 {
        return Err("密码至少8个字符".into());
    }
    if pw.chars().count() > 128 {
        return Err("密码最多128个字符".into());
    }
    let classes = [
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    if classes.iter().filter(|b| **b).count() < 3 {
        return Err("密码须包含小写字母、大写字母、数字、符号中的至少三类".into());
    }
    Ok(())
}

/// A user name: 3 to 32 letters, digits, `_`, `.` or `-`.
pub fn valid_username(u: &str) -> bool {
    (3..=32).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// Which scope levels make sense for each role.
pub fn check_role_scope(role: Role, scope: &DivisionCode) -> Result<(), String> {
    use DivisionLevel as L;
    let ok = match role {
        Role::CityAdmin => matches!(scope.level(), L::Province | L::City),
        Role::CountyApprover => matches!(scope.level(), L::City | L::County),
        Role::TownshipDirector | Role::TownshipStaff => scope.level() == L::Township,
        Role::VillageAssistant => scope.level() == L::Village,
        Role::Auditor => scope.level() <= L::Township,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{}的管辖区划级别不符（当前为{}级）",
            role.label(),
            scope.level().label()
        ))
    }
}

/// Checks a new account, field by field in the order a form shows them; the creator's own
/// scope must contain the new one. The first problem is reported (as the forms always did).
pub fn parse_new_user(new: &NewUser, creator: &Scope) -> Result<ValidNewUser, FieldErrors> {
    let username = new.username.trim();
    if !valid_username(username) {
        return Err(FieldErrors::one(
            "username",
            "用户名须为3至32位字母、数字、下划线、点或连字符",
        ));
    }
    let role: Role = new
        .role
        .parse()
        .map_err(|e: crate::role::UnknownRole| FieldErrors::one("role", e.to_string()))?;
    let scope = DivisionCode::parse_native(&new.scope_code)
        .map_err(|e| FieldErrors::one("scope_code", format!("管辖区划代码无效：{e}")))?;
    if !creator.contains_str(scope.as_str()) {
        return Err(FieldErrors::one(
            "scope_code",
            "管辖区划必须在您自己的管辖范围之内",
        ));
    }
    check_role_scope(role, &scope).map_err(|m| FieldErrors::one("scope_code", m))?;
    check_password_policy(&new.password).map_err(|m| FieldErrors::one("password", m))?;
    let display = new.display_name.trim();
    let display = if display.is_empty() {
        username
    } else {
        display
    };
    if display.chars().count() > 40 {
        return Err(FieldErrors::one("display_name", "姓名最长40个字"));
    }
    Ok(ValidNewUser {
        username: username.to_string(),
        display_name: display.to_string(),
        role,
        scope,
        password: new.password.clone(),
    })
}

/// A display name an administrator sets: not empty, at most 40 characters.
pub fn check_display_name(name: &str) -> Result<&str, FieldErrors> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        Err(FieldErrors::one("display_name", "姓名不能为空，最长40个字"))
    } else {
        Ok(name)
    }
}

/// What an account's sign-in state is when a password is tried.
#[derive(Debug, Clone, Copy)]
pub struct SigninState {
    pub failed_attempts: i64,
    pub locked_until: Option<DateTime<Utc>>,
    pub active: bool,
}

/// The outcome of one sign-in attempt at `now`, and what to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigninOutcome {
    /// Still locked: nothing changes.
    Locked { until: DateTime<Utc> },
    /// Wrong password: the new count of failures and, on the last allowed one, the lock.
    BadPassword {
        failed_attempts: i64,
        lock_until: Option<DateTime<Utc>>,
    },
    /// Right password, deactivated account.
    Inactive,
    /// Signed in: the failure count is cleared.
    Ok,
}

impl SigninOutcome {
    /// The reason written into the audit record.
    pub fn audit_reason(&self) -> &'static str {
        match self {
            SigninOutcome::Locked { .. } => "locked",
            SigninOutcome::BadPassword {
                lock_until: Some(_),
                ..
            } => "bad_password_locked",
            SigninOutcome::BadPassword { .. } => "bad_password",
            SigninOutcome::Inactive => "inactive",
            SigninOutcome::Ok => "ok",
        }
    }

    /// The refusal the user sees (`None` when signed in). Lock times are shown in Beijing
    /// time.
    pub fn refusal(&self) -> Option<AuthError> {
        match self {
            SigninOutcome::Locked { until } => Some(AuthError::Locked {
                until: (*until + Duration::hours(8)).format("%H:%M").to_string(),
            }),
            SigninOutcome::BadPassword { .. } => Some(AuthError::BadCredentials),
            SigninOutcome::Inactive => Some(AuthError::Inactive),
            SigninOutcome::Ok => None,
        }
    }
}

/// Decides a sign-in: a locked account stays locked until its time; five wrong passwords
/// in a row lock it for fifteen minutes; a deactivated account is refused even with the
/// right password.
pub fn decide_signin(state: SigninState, password_ok: bool, now: DateTime<Utc>) -> SigninOutcome {
    if let Some(until) = state.locked_until.filter(|t| *t > now) {
        return SigninOutcome::Locked { until };
    }
    if !password_ok {
        let failed = state.failed_attempts + 1;
        return if failed >= MAX_FAILED_SIGNINS {
            SigninOutcome::BadPassword {
                failed_attempts: 0,
                lock_until: Some(now + Duration::minutes(LOCKOUT_MINUTES)),
            }
        } else {
            SigninOutcome::BadPassword {
                failed_attempts: failed,
                lock_until: None,
            }
        };
    }
    if !state.active {
        return SigninOutcome::Inactive;
    }
    SigninOutcome::Ok
}

/// User names from failed sign-ins go into the audit log: short and printable.
pub fn sanitize_username(s: &str) -> String {
    let cleaned: String = s.chars().filter(|c| !c.is_control()).take(32).collect();
    if cleaned.is_empty() {
        "(空)".into()
    } else {
        cleaned
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn five_wrong_passwords_lock_for_fifteen_minutes() {
        let now = t("2026-11-26T02:00:00Z");
        let mut state = SigninState {
            failed_attempts: 0,
            locked_until: None,
            active: true,
        };
        for n in 1..MAX_FAILED_SIGNINS {
            let o = decide_signin(state, false, now);
            assert_eq!(
                o,
                SigninOutcome::BadPassword {
                    failed_attempts: n,
                    lock_until: None
                }
            );
            state.failed_attempts = n;
        }
        let o = decide_signin(state, false, now);
        let until = now + Duration::minutes(LOCKOUT_MINUTES);
        assert_eq!(
            o,
            SigninOutcome::BadPassword {
                failed_attempts: 0,
                lock_until: Some(until)
            }
        );
        assert_eq!(o.audit_reason(), "bad_password_locked");
        state.locked_until = Some(until);
        // Even the right password waits for the lock; Beijing time in the message.
        let o = decide_signin(state, true, now + Duration::minutes(14));
        assert_eq!(
            o.refusal().unwrap().to_string(),
            "密码连续错误次数过多，账户已锁定，请于10:15后重试"
        );
        assert_eq!(
            decide_signin(state, true, now + Duration::minutes(16)),
            SigninOutcome::Ok
        );
        state.active = false;
        assert_eq!(
            decide_signin(state, true, now + Duration::minutes(16)),
            SigninOutcome::Inactive
        );
    }

    #[test]
    fn new_accounts_are_checked_field_by_field() {
        let city = Scope::of(DivisionCode::parse_native("5118").unwrap());
        let base = NewUser {
            username: "wang.li".into(),
            display_name: String::new(),
            role: "township-staff".into(),
            scope_code: "511802001".into(),
            password: "Minzheng@2026".into(),
        };
        let ok = parse_new_user(&base, &city).unwrap();
        assert_eq!(ok.display_name, "wang.li");
        let field = |n: NewUser| {
            parse_new_user(&n, &city)
                .unwrap_err()
                .iter()
                .next()
                .unwrap()
                .0
                .to_string()
        };
        assert_eq!(
            field(NewUser {
                username: "x".into(),
                ..base.clone()
            }),
            "username"
        );
        assert_eq!(
            field(NewUser {
                scope_code: "511802".into(),
                ..base.clone()
            }),
            "scope_code"
        );
        assert_eq!(
            field(NewUser {
                scope_code: "110105001".into(),
                ..base.clone()
            }),
            "scope_code"
        );
        assert_eq!(
            field(NewUser {
                password: "password".into(),
                ..base.clone()
            }),
            "password"
        );
    }
}
