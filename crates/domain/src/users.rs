//! User accounts (用户), their rules (names, passwords, which scope fits which role) and
//! the sign-in lockout.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::{Actor, DivisionCode, DivisionError, DivisionLevel, FieldErrors, Role, Scope};

/// Failed sign-ins in a row (for one user name from one client address) that lock the
/// account for that address.
pub const MAX_FAILED_SIGNINS: i64 = 5;
/// How long a locked account stays locked (for that address).
pub const LOCKOUT_MINUTES: i64 = 15;
/// Failed sign-ins one client address may make, whatever the user names, within
/// [`ADDRESS_WINDOW_MINUTES`] before its further attempts are refused until the window
/// ends (so a flood neither guesses far nor fills the audit log).
pub const ADDRESS_FAILURES_PER_WINDOW: u32 = 20;
/// The window of [`ADDRESS_FAILURES_PER_WINDOW`].
pub const ADDRESS_WINDOW_MINUTES: i64 = 15;

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
    /// Too many failed sign-ins from this client address.
    #[error("登录失败次数过多，请{minutes}分钟后再试")]
    Throttled { minutes: i64 },
}

/// What one client address has tried within its current window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressAttempts {
    pub window_start: Option<DateTime<Utc>>,
    pub failures: u32,
    /// Attempts refused in this window (not audited one by one).
    pub refused: u32,
}

/// Whether an address may try to sign in now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressDecision {
    Allow,
    /// Refused until `until`; `first` for the first refusal of the window (the one that is
    /// audited, for all of them).
    Refuse {
        until: DateTime<Utc>,
        first: bool,
    },
}

impl AddressAttempts {
    fn window() -> Duration {
        Duration::minutes(ADDRESS_WINDOW_MINUTES)
    }

    /// Starts a new window when the last one is over.
    fn roll(&mut self, now: DateTime<Utc>) {
        if self
            .window_start
            .is_none_or(|s| now - s >= Self::window() || now < s)
        {
            *self = AddressAttempts {
                window_start: Some(now),
                failures: 0,
                refused: 0,
            };
        }
    }

    /// Decides an attempt at `now`, counting it when refused.
    pub fn check(&mut self, now: DateTime<Utc>) -> AddressDecision {
        self.roll(now);
        if self.failures < ADDRESS_FAILURES_PER_WINDOW {
            return AddressDecision::Allow;
        }
        self.refused += 1;
        AddressDecision::Refuse {
            until: self.window_start.unwrap_or(now) + Self::window(),
            first: self.refused == 1,
        }
    }

    /// Counts a failed sign-in at `now`.
    pub fn failed(&mut self, now: DateTime<Utc>) {
        self.roll(now);
        self.failures += 1;
    }

    /// Whether the entry says nothing any more at `now` (to forget it).
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.window_start.is_none_or(|s| now - s >= Self::window())
    }
}

/// The refusal for an address refused until `until`, in whole minutes (at least one).
pub fn throttled(until: DateTime<Utc>, now: DateTime<Utc>) -> AuthError {
    let secs = (until - now).num_seconds().max(1);
    AuthError::Throttled {
        minutes: (secs + 59) / 60,
    }
}

/// Common passwords and passwords published in manuals (the demo's among them), compared
/// without regard to case. Each passes the character-class rule, which is why it is listed.
const BLOCKED_PASSWORDS: &[&str] = &[
    "password1",
    "password12",
    "password123",
    "password1!",
    "password@1",
    "password@123",
    "p@ssw0rd",
    "p@ssw0rd1",
    "p@ssword1",
    "p@ssword123",
    "passw0rd",
    "passw0rd!",
    "passw0rd1",
    "admin123",
    "admin@123",
    "admin@1234",
    "admin123!",
    "admin1234",
    "administrator1",
    "root@123",
    "qwer1234",
    "qwer@1234",
    "qwer1234!",
    "qwerty123",
    "qwerty1!",
    "qwe123!@#",
    "1qaz2wsx",
    "1qaz@wsx",
    "1qaz!qaz",
    "1q2w3e4r",
    "1q2w3e4r!",
    "zaq12wsx",
    "aa123456",
    "aa123456!",
    "a1234567",
    "a12345678",
    "abc12345",
    "abc123456",
    "abcd1234",
    "abcd@1234",
    "abc@1234",
    "abc@123456",
    "welcome1",
    "welcome@1",
    "welcome123",
    "changeme1",
    "test@123",
    "test1234",
    "iloveyou1",
    "woaini1314",
    "woaini@1314",
    "qq123456",
    "qq@123456",
    "huawei@123",
    "huawei12#$",
    "sunshine1",
    "football1",
    "letmein1",
    "12345678a",
    "123456aa",
    "123456abc",
    "123qwe!@#",
    "123qweasd",
    "1234qwer",
    "12345qwert",
    "asdf1234",
    "asd123456",
    "zxcv1234",
    "zxc123456",
    "minzheng1",
    "minzheng@1",
    "minzheng123",
    "minzheng@123",
    "minzheng@2025",
    "minzheng@2026",
    "minzheng2026",
    "mz@123456",
];

/// Whether the password is one of the common or published passwords refused whatever its
/// character classes.
pub fn is_blocked_password(pw: &str) -> bool {
    let lower = pw.trim().to_lowercase();
    BLOCKED_PASSWORDS.contains(&lower.as_str())
}

/// Password policy: at least 8 characters with at least three of lower case, upper case,
/// digits and symbols, and not one of the common or published passwords
/// ([`is_blocked_password`]; the demo password included).
pub fn check_password_policy(pw: &str) -> Result<(), String> {
    check_password_strength(pw)?;
    if is_blocked_password(pw) {
        return Err("该密码过于常见或已公开（例如Password1、演示密码），请另设一个".into());
    }
    Ok(())
}

/// The length and character-class half of [`check_password_policy`].
fn check_password_strength(pw: &str) -> Result<(), String> {
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
    parse_new_user_with(new, creator, check_password_policy)
}

/// [`parse_new_user`] for the demo's own seeding (`serve --demo`): its published password
/// `demo_password` is allowed there, and only there; any other password meets the policy.
pub fn parse_demo_user(
    new: &NewUser,
    creator: &Scope,
    demo_password: &str,
) -> Result<ValidNewUser, FieldErrors> {
    parse_new_user_with(new, creator, |pw| {
        if pw == demo_password {
            check_password_strength(pw)
        } else {
            check_password_policy(pw)
        }
    })
}

fn parse_new_user_with(
    new: &NewUser,
    creator: &Scope,
    password_policy: impl Fn(&str) -> Result<(), String>,
) -> Result<ValidNewUser, FieldErrors> {
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
    let scope = DivisionCode::parse(&new.scope_code)
        .map_err(|e| FieldErrors::one("scope_code", format!("管辖区划代码无效：{e}")))?;
    if !creator.contains_str(scope.as_str()) {
        return Err(FieldErrors::one(
            "scope_code",
            "管辖区划必须在您自己的管辖范围之内",
        ));
    }
    check_role_scope(role, &scope).map_err(|m| FieldErrors::one("scope_code", m))?;
    password_policy(&new.password).map_err(|m| FieldErrors::one("password", m))?;
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
    fn common_and_published_passwords_are_refused() {
        for pw in ["Password1", "P@ssw0rd", "Minzheng@2026", "Admin@123"] {
            assert!(
                check_password_policy(pw).unwrap_err().contains("过于常见"),
                "{pw}"
            );
        }
        // 12345678 and PASSWORD1 fail the character classes already.
        assert!(check_password_policy("12345678").is_err());
        assert!(check_password_policy("PASSWORD1").is_err());
        assert!(check_password_policy("Lan-Shan-2031").is_ok());
        // The demo's seeding may use its own published password, nobody else may.
        let city = Scope::of(DivisionCode::parse_native("5118").unwrap());
        let new = NewUser {
            username: "demo1".into(),
            display_name: String::new(),
            role: "auditor".into(),
            scope_code: "5118".into(),
            password: "Minzheng@2026".into(),
        };
        assert!(parse_new_user(&new, &city).is_err());
        assert!(parse_demo_user(&new, &city, "Minzheng@2026").is_ok());
        let weak = NewUser {
            password: "Password1".into(),
            ..new
        };
        assert!(parse_demo_user(&weak, &city, "Minzheng@2026").is_err());
    }

    #[test]
    fn an_address_is_refused_after_its_failures_until_the_window_ends() {
        let t0 = t("2026-11-26T02:00:00Z");
        let mut a = AddressAttempts::default();
        for i in 0..ADDRESS_FAILURES_PER_WINDOW {
            assert_eq!(a.check(t0), AddressDecision::Allow, "{i}");
            a.failed(t0 + Duration::seconds(i as i64));
        }
        let until = t0 + Duration::minutes(ADDRESS_WINDOW_MINUTES);
        assert_eq!(
            a.check(t0 + Duration::minutes(1)),
            AddressDecision::Refuse { until, first: true }
        );
        assert_eq!(
            a.check(t0 + Duration::minutes(2)),
            AddressDecision::Refuse {
                until,
                first: false
            }
        );
        assert_eq!(
            throttled(until, t0 + Duration::minutes(2)).to_string(),
            "登录失败次数过多，请13分钟后再试"
        );
        assert_eq!(a.check(until), AddressDecision::Allow);
        assert!(!a.expired(until));
        assert!(a.expired(until + Duration::minutes(ADDRESS_WINDOW_MINUTES)));
    }

    #[test]
    fn new_accounts_are_checked_field_by_field() {
        let city = Scope::of(DivisionCode::parse_native("5118").unwrap());
        let base = NewUser {
            username: "wang.li".into(),
            display_name: String::new(),
            role: "township-staff".into(),
            scope_code: "511802001".into(),
            password: "Lan-Shan-2031".into(),
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

    #[test]
    fn a_user_acts_in_their_own_scope_and_role() {
        let u = User {
            id: 7,
            username: "wang.li".into(),
            display_name: "王丽".into(),
            role: Role::TownshipStaff,
            scope_code: "511802001".into(),
            scope_name: "甲镇".into(),
            active: true,
            locked_until: None,
            created_at: String::new(),
        };
        let a = u.actor().unwrap();
        assert_eq!(a.user_id, Some(7));
        assert_eq!(a.username, "wang.li");
        assert_eq!(a.role, Some(Role::TownshipStaff));
        assert_eq!(a.scope.code_str(), "511802001");
        let broken = User {
            scope_code: "abc".into(),
            ..u
        };
        assert!(broken.actor().is_err());
    }

    #[test]
    fn a_lock_ends_at_its_time_and_the_fifth_failure_locks() {
        let now = t("2026-11-26T02:00:00Z");
        let locked = SigninState {
            failed_attempts: 0,
            locked_until: Some(now),
            active: true,
        };
        // At the minute the lock ends, the right password signs in.
        assert_eq!(decide_signin(locked, true, now), SigninOutcome::Ok);
        let o = decide_signin(locked, true, now - Duration::seconds(1));
        assert_eq!(o, SigninOutcome::Locked { until: now });
        assert_eq!(o.audit_reason(), "locked");
        let fourth = SigninState {
            failed_attempts: MAX_FAILED_SIGNINS - 2,
            locked_until: None,
            active: true,
        };
        let o = decide_signin(fourth, false, now);
        assert_eq!(
            o,
            SigninOutcome::BadPassword {
                failed_attempts: MAX_FAILED_SIGNINS - 1,
                lock_until: None
            }
        );
        assert_eq!(o.audit_reason(), "bad_password");
        assert_eq!(o.refusal(), Some(AuthError::BadCredentials));
        // A wrong password on a deactivated account is a wrong password.
        let inactive = SigninState {
            active: false,
            ..fourth
        };
        assert!(matches!(
            decide_signin(inactive, false, now),
            SigninOutcome::BadPassword { .. }
        ));
        let o = decide_signin(inactive, true, now);
        assert_eq!(o.audit_reason(), "inactive");
        assert_eq!(
            o.refusal().unwrap().to_string(),
            "账户已停用，请联系市民政局管理员"
        );
        assert_eq!(SigninOutcome::Ok.audit_reason(), "ok");
        assert_eq!(SigninOutcome::Ok.refusal(), None);
    }

    #[test]
    fn an_address_window_starts_again_when_the_clock_goes_back() {
        let t0 = t("2026-11-26T02:00:00Z");
        let mut a = AddressAttempts::default();
        assert!(a.expired(t0));
        for _ in 0..ADDRESS_FAILURES_PER_WINDOW {
            a.failed(t0);
        }
        assert_eq!(a.failures, ADDRESS_FAILURES_PER_WINDOW);
        assert!(!a.expired(t0 + Duration::minutes(ADDRESS_WINDOW_MINUTES - 1)));
        assert!(a.expired(t0 + Duration::minutes(ADDRESS_WINDOW_MINUTES)));
        // A time before the window's start: a new window.
        assert_eq!(a.check(t0 - Duration::seconds(1)), AddressDecision::Allow);
        assert_eq!(a.window_start, Some(t0 - Duration::seconds(1)));
        assert_eq!(a.failures, 0);
        // The last minute of a window still refuses.
        for _ in 0..ADDRESS_FAILURES_PER_WINDOW {
            a.failed(t0);
        }
        assert!(matches!(
            a.check(t0 + Duration::minutes(ADDRESS_WINDOW_MINUTES) - Duration::seconds(2)),
            AddressDecision::Refuse { first: true, .. }
        ));
        // A refusal at its very end still asks for a minute.
        let until = t0 + Duration::minutes(ADDRESS_WINDOW_MINUTES);
        assert_eq!(throttled(until, until), AuthError::Throttled { minutes: 1 });
        assert_eq!(
            throttled(until, until - Duration::seconds(61)),
            AuthError::Throttled { minutes: 2 }
        );
        assert_eq!(
            throttled(until, until - Duration::seconds(60)),
            AuthError::Throttled { minutes: 1 }
        );
    }

    #[test]
    fn passwords_of_eight_to_128_characters_with_three_classes() {
        assert!(check_password_policy("Lan-Sh1").is_err());
        assert!(check_password_policy("Lan-Sh12").is_ok());
        let long = format!("Aa1{}", "x".repeat(125));
        assert_eq!(long.chars().count(), 128);
        assert!(check_password_policy(&long).is_ok());
        assert_eq!(
            check_password_policy(&format!("{long}x")),
            Err("密码最多128个字符".to_string())
        );
        assert_eq!(
            check_password_policy("abc"),
            Err("密码至少8个字符".to_string())
        );
        // Each three of the four classes is enough; two are not.
        for pw in ["lanshan2031", "LANSHAN2031", "lanshanlan"] {
            assert!(check_password_policy(pw).is_err(), "{pw}");
        }
        for pw in ["lanshan-2031", "LANSHAN-2031", "Lanshan-xyz", "Lanshan2031"] {
            assert!(check_password_policy(pw).is_ok(), "{pw}");
        }
        // A listed password is refused whatever its case and spaces.
        assert!(is_blocked_password(" QWER@1234 "));
        assert!(!is_blocked_password("Lanshan-2031"));
    }

    #[test]
    fn user_names_of_three_to_thirty_two_plain_characters() {
        assert!(!valid_username("ab"));
        assert!(valid_username("a_b"));
        assert!(valid_username(&"a".repeat(32)));
        assert!(!valid_username(&"a".repeat(33)));
        assert!(valid_username("wang.li-2"));
        assert!(!valid_username("wang li"));
        assert!(!valid_username("王丽丽"));
    }

    #[test]
    fn each_role_has_its_level_of_scope() {
        let c = |s: &str| DivisionCode::parse(s).unwrap();
        let (province, city, county, township, village) = (
            c("51"),
            c("5118"),
            c("511802"),
            c("511802001"),
            c("511802001001"),
        );
        let fits = |role: Role| -> Vec<bool> {
            [&province, &city, &county, &township, &village]
                .iter()
                .map(|s| check_role_scope(role, s).is_ok())
                .collect()
        };
        assert_eq!(fits(Role::CityAdmin), [true, true, false, false, false]);
        assert_eq!(
            fits(Role::CountyApprover),
            [false, true, true, false, false]
        );
        assert_eq!(
            fits(Role::TownshipDirector),
            [false, false, false, true, false]
        );
        assert_eq!(
            fits(Role::TownshipStaff),
            [false, false, false, true, false]
        );
        assert_eq!(
            fits(Role::VillageAssistant),
            [false, false, false, false, true]
        );
        assert_eq!(fits(Role::Auditor), [true, true, true, true, false]);
        assert_eq!(
            check_role_scope(Role::VillageAssistant, &township),
            Err("村(居)民政协理员的管辖区划级别不符（当前为乡镇(街道)级）".to_string())
        );
    }

    #[test]
    fn a_new_account_is_refused_outside_the_creators_scope_and_named_as_typed() {
        let county = Scope::of(DivisionCode::parse_native("511802").unwrap());
        let base = NewUser {
            username: " wang.li ".into(),
            display_name: " 王丽 ".into(),
            role: "township-staff".into(),
            scope_code: "511802001".into(),
            password: "Lan-Shan-2031".into(),
        };
        let ok = parse_new_user(&base, &county).unwrap();
        assert_eq!(ok.username, "wang.li");
        assert_eq!(ok.display_name, "王丽");
        assert_eq!(ok.role, Role::TownshipStaff);
        assert_eq!(ok.scope.as_str(), "511802001");
        assert_eq!(ok.password, "Lan-Shan-2031");
        let err = |n: NewUser| {
            let e = parse_new_user(&n, &county).unwrap_err();
            let (k, m) = e.iter().next().unwrap();
            (k.to_string(), m.to_string())
        };
        assert_eq!(
            err(NewUser {
                scope_code: "511803001".into(),
                ..base.clone()
            }),
            (
                "scope_code".to_string(),
                "管辖区划必须在您自己的管辖范围之内".to_string()
            )
        );
        assert_eq!(
            err(NewUser {
                role: "mayor".into(),
                ..base.clone()
            })
            .0,
            "role"
        );
        assert_eq!(
            err(NewUser {
                display_name: "丽".repeat(41),
                ..base.clone()
            }),
            ("display_name".to_string(), "姓名最长40个字".to_string())
        );
        let forty = NewUser {
            display_name: "丽".repeat(40),
            ..base.clone()
        };
        assert_eq!(
            parse_new_user(&forty, &county).unwrap().display_name,
            "丽".repeat(40)
        );
    }

    #[test]
    fn a_display_name_is_one_to_forty_characters() {
        assert_eq!(check_display_name(" 王丽 ").unwrap(), "王丽");
        assert!(check_display_name("  ").is_err());
        assert!(check_display_name(&"丽".repeat(40)).is_ok());
        assert!(check_display_name(&"丽".repeat(41)).is_err());
    }

    #[test]
    fn a_failed_user_name_is_logged_short_and_printable() {
        assert_eq!(sanitize_username("wang\u{0}li\n"), "wangli");
        assert_eq!(sanitize_username(&"a".repeat(40)), "a".repeat(32));
        assert_eq!(sanitize_username("\n\t"), "(空)");
    }
}
