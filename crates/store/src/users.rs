//! Users, sign-in with lockout, server-side sessions, and the dashboard counts.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use minzheng_domain::{DivisionCode, Role};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{append, AuditEvent};
use crate::db::{q, DbRow, Store};
use crate::error::{AuthError, StoreError, StoreResult};
use minzheng_domain::{Actor, Scope};

/// Failed sign-ins in a row that lock an account.
pub const MAX_FAILED_SIGNINS: i64 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT_MINUTES: i64 = 15;

/// A user account (never carries the password hash out of the store).
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
    fn from_row(r: &DbRow) -> StoreResult<Self> {
        let role: String = r.str("role")?;
        Ok(User {
            id: r.i64("id")?,
            username: r.str("username")?,
            display_name: r.str("display_name")?,
            role: role
                .parse()
                .map_err(|_| StoreError::Internal(format!("未知角色{role}")))?,
            scope_code: r.str("scope_code")?,
            scope_name: r.opt_str("scope_name")?.unwrap_or_default(),
            active: r.bool("active")?,
            locked_until: r.opt_str("locked_until")?,
            created_at: r.str("created_at")?,
        })
    }

    /// The actor this user acts as.
    pub fn actor(&self) -> StoreResult<Actor> {
        let code = DivisionCode::parse_native(&self.scope_code)
            .map_err(|e| StoreError::Internal(format!("用户管辖区划无效：{e}")))?;
        Ok(Actor {
            user_id: Some(self.id),
            username: self.username.clone(),
            role: Some(self.role),
            scope: Scope::of(code),
        })
    }
}

/// A new account.
#[derive(Debug, Clone, Deserialize)]
pub struct NewUser {
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    pub role: String,
    pub scope_code: String,
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

/// A live session: who, and the token forms must echo.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: User,
    pub csrf_token: String,
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

fn hash_password(pw: &str) -> StoreResult<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Internal(format!("密码加密失败：{e}")))
}

fn verify_password(pw: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A hash of a password nobody has, so that unknown usernames cost the same time.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password("不存在的账户-Dummy-0").unwrap_or_default())
}

fn random_hex(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

const SELECT_USER: &str =
    "SELECT u.*, d.name AS scope_name FROM users u LEFT JOIN divisions d ON d.code = u.scope_code";

fn valid_username(u: &str) -> bool {
    (3..=32).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// How many accounts there are.
pub async fn count(store: &Store) -> StoreResult<i64> {
    store
        .fetch_one(q("SELECT COUNT(*) AS n FROM users"))
        .await?
        .i64("n")
}

impl Store {
    /// Creates an account inside the actor's jurisdiction. Only the city administrator (or
    /// the CLI) may; the new user's scope must lie inside the actor's and fit the role.
    pub async fn create_user(&self, actor: &Actor, new: &NewUser) -> StoreResult<User> {
        if !actor.can_manage_users() {
            return Err(StoreError::Forbidden(
                "只有市民政局管理员可以管理用户".into(),
            ));
        }
        let username = new.username.trim();
        if !valid_username(username) {
            return Err(StoreError::field(
                "username",
                "用户名须为3至32位字母、数字、下划线、点或连字符",
            ));
        }
        let role: Role = new
            .role
            .parse()
            .map_err(|e: minzheng_domain::role::UnknownRole| {
                StoreError::field("role", e.to_string())
            })?;
        let scope = DivisionCode::parse_native(&new.scope_code)
            .map_err(|e| StoreError::field("scope_code", format!("管辖区划代码无效：{e}")))?;
        if !actor.scope.contains_str(scope.as_str()) {
            return Err(StoreError::field(
                "scope_code",
                "管辖区划必须在您自己的管辖范围之内",
            ));
        }
        check_role_scope(role, &scope)?;
        check_password_policy(&new.password).map_err(|m| StoreError::field("password", m))?;
        let display = new.display_name.trim();
        let display = if display.is_empty() {
            username
        } else {
            display
        };
        if display.chars().count() > 40 {
            return Err(StoreError::field("display_name", "姓名最长40个字"));
        }
        let hash = hash_password(&new.password)?;
        let now = crate::timestamp(Utc::now());
        let mut tx = self.begin_write().await?;
        if tx
            .fetch_optional(
                q("SELECT 1 AS one FROM divisions WHERE code = $1").bind(scope.as_str()),
            )
            .await?
            .is_none()
        {
            return Err(StoreError::field(
                "scope_code",
                format!("区划“{scope}”不存在，请先导入区划"),
            ));
        }
        if tx
            .fetch_optional(q("SELECT 1 AS one FROM users WHERE username = $1").bind(username))
            .await?
            .is_some()
        {
            return Err(StoreError::field(
                "username",
                format!("用户名“{username}”已被使用"),
            ));
        }
        let row = tx
            .fetch_one(
                q(
                    "INSERT INTO users (username, display_name, role, scope_code, password_hash,
                     active, failed_attempts, created_at, updated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7) RETURNING id",
                )
                .bind(username)
                .bind(display)
                .bind(role.as_str())
                .bind(scope.as_str())
                .bind(hash)
                .bind(true)
                .bind(now),
            )
            .await?;
        let id = row.i64("id")?;
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "user.create",
                entity_type: "user",
                entity_id: &id.to_string(),
                scope_code: scope.as_str(),
                before: None,
                after: Some(serde_json::json!({
                    "username": username, "display_name": display,
                    "role": role.as_str(), "scope_code": scope.as_str()
                })),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_user(&actor.scope, id).await
    }

    /// One user inside the scope.
    pub async fn get_user(&self, scope: &Scope, id: i64) -> StoreResult<User> {
        let row = self
            .fetch_optional(q(format!("{SELECT_USER} WHERE u.id = $1")).bind(id))
            .await?
            .ok_or(StoreError::NotFound("该用户"))?;
        let user = User::from_row(&row)?;
        if !scope.contains_str(&user.scope_code) {
            return Err(StoreError::NotFound("该用户"));
        }
        Ok(user)
    }

    /// Users inside the scope.
    pub async fn list_users(&self, scope: &Scope) -> StoreResult<Vec<User>> {
        let (lo, hi) = scope.bounds();
        self.fetch_all(
            q(format!(
                "{SELECT_USER} WHERE u.scope_code >= $1 AND u.scope_code < $2 ORDER BY u.scope_code, u.username"
            ))
            .bind(lo)
            .bind(hi),
        )
        .await?
        .iter()
        .map(User::from_row)
        .collect()
    }

    /// Administrator changes to an account: name, active, password reset, unlock.
    pub async fn update_user(&self, actor: &Actor, id: i64, upd: &UserUpdate) -> StoreResult<User> {
        let before = self.get_user(&actor.scope, id).await?;
        if !actor.can_manage_users() {
            return Err(StoreError::Forbidden(
                "只有市民政局管理员可以管理用户".into(),
            ));
        }
        if actor.user_id == Some(id) && upd.active == Some(false) {
            return Err(StoreError::Conflict("不能停用自己的账户".into()));
        }
        let mut sets: Vec<String> = Vec::new();
        let mut query = q("");
        let mut after = serde_json::Map::new();
        if let Some(name) = &upd.display_name {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 40 {
                return Err(StoreError::field(
                    "display_name",
                    "姓名不能为空，最长40个字",
                ));
            }
            query.push(name);
            sets.push(format!("display_name = ${}", query.args.len()));
            after.insert("display_name".into(), name.into());
        }
        if let Some(active) = upd.active {
            query.push(active);
            sets.push(format!("active = ${}", query.args.len()));
            after.insert("active".into(), active.into());
        }
        if let Some(pw) = &upd.password {
            check_password_policy(pw).map_err(|m| StoreError::field("password", m))?;
            query.push(hash_password(pw)?);
            sets.push(format!("password_hash = ${}", query.args.len()));
            after.insert("password".into(), "（已重置）".into());
        }
        if upd.unlock == Some(true) || upd.password.is_some() {
            sets.push("failed_attempts = 0".into());
            sets.push("locked_until = NULL".into());
            after.insert("unlocked".into(), true.into());
        }
        if sets.is_empty() {
            return Err(StoreError::validation("没有需要修改的内容"));
        }
        query.push(crate::timestamp(Utc::now()));
        sets.push(format!("updated_at = ${}", query.args.len()));
        query.push(id);
        query.sql = format!(
            "UPDATE users SET {} WHERE id = ${}",
            sets.join(", "),
            query.args.len()
        );
        let mut tx = self.begin_write().await?;
        tx.execute(query).await?;
        if upd.active == Some(false) || upd.password.is_some() {
            tx.execute(q("DELETE FROM sessions WHERE user_id = $1").bind(id))
                .await?;
        }
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "user.update",
                entity_type: "user",
                entity_id: &id.to_string(),
                scope_code: &before.scope_code,
                before: Some(serde_json::json!({
                    "display_name": before.display_name, "active": before.active,
                    "locked_until": before.locked_until
                })),
                after: Some(serde_json::Value::Object(after)),
            },
        )
        .await?;
        tx.commit().await?;
        self.get_user(&actor.scope, id).await
    }

    /// A user changes their own password, proving the old one.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        old: &str,
        new: &str,
    ) -> StoreResult<()> {
        let id = actor
            .user_id
            .ok_or_else(|| StoreError::validation("命令行账户没有密码"))?;
        let row = self
            .fetch_optional(q("SELECT password_hash, scope_code FROM users WHERE id = $1").bind(id))
            .await?
            .ok_or(StoreError::NotFound("该用户"))?;
        if !verify_password(old, &row.str("password_hash")?) {
            return Err(StoreError::field("old_password", "原密码不正确"));
        }
        check_password_policy(new).map_err(|m| StoreError::field("new_password", m))?;
        if old == new {
            return Err(StoreError::field("new_password", "新密码不能与原密码相同"));
        }
        let hash = hash_password(new)?;
        let mut tx = self.begin_write().await?;
        tx.execute(
            q("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
                .bind(hash)
                .bind(crate::timestamp(Utc::now()))
                .bind(id),
        )
        .await?;
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "user.change_password",
                entity_type: "user",
                entity_id: &id.to_string(),
                scope_code: &row.str("scope_code")?,
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// Checks a username and password at `now`. Failures are counted and audited; five in a
    /// row lock the account for fifteen minutes; success is audited and clears the count.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<User, AuthError>> {
        let username = username.trim();
        let row =
            if valid_username(username) {
                self.fetch_optional(
                q("SELECT id, password_hash, active, failed_attempts, locked_until, scope_code
                   FROM users WHERE username = $1")
                .bind(username),
            )
            .await?
            } else {
                None
            };
        let Some(row) = row else {
            verify_password(password, dummy_hash());
            let actor = Actor::system(&sanitize(username));
            let mut tx = self.begin_write().await?;
            append(
                &mut tx,
                &actor,
                AuditEvent {
                    action: "auth.signin_failed",
                    entity_type: "user",
                    entity_id: "-",
                    scope_code: "",
                    before: None,
                    after: Some(serde_json::json!({"reason": "unknown_user"})),
                },
            )
            .await?;
            tx.commit().await?;
            return Ok(Err(AuthError::BadCredentials));
        };
        let id = row.i64("id")?;
        let scope_code = row.str("scope_code")?;
        let actor = Actor {
            user_id: Some(id),
            username: username.to_string(),
            role: None,
            scope: Scope::all(),
        };
        let locked_until = row
            .opt_str("locked_until")?
            .and_then(|s| crate::parse_timestamp(&s))
            .filter(|t| *t > now);
        let password_ok = verify_password(password, &row.str("password_hash")?);
        let mut tx = self.begin_write().await?;
        let audit = |reason: &'static str| AuditEvent {
            action: if reason == "ok" {
                "auth.signin"
            } else {
                "auth.signin_failed"
            },
            entity_type: "user",
            entity_id: "",
            scope_code: "",
            before: None,
            after: Some(serde_json::json!({ "reason": reason })),
        };
        let id_str = id.to_string();
        let outcome = if let Some(until) = locked_until {
            let mut ev = audit("locked");
            ev.entity_id = &id_str;
            ev.scope_code = &scope_code;
            append(&mut tx, &actor, ev).await?;
            Err(AuthError::Locked {
                until: until
                    .with_timezone(
                        &chrono::FixedOffset::east_opt(8 * 3600)
                            .unwrap_or(chrono::FixedOffset::east_opt(0).expect("zero offset")),
                    )
                    .format("%H:%M")
                    .to_string(),
            })
        } else if !password_ok {
            let failed = row.i64("failed_attempts")? + 1;
            let (failed, lock) = if failed >= MAX_FAILED_SIGNINS {
                (
                    0,
                    Some(crate::timestamp(now + Duration::minutes(LOCKOUT_MINUTES))),
                )
            } else {
                (failed, None)
            };
            tx.execute(
                q("UPDATE users SET failed_attempts = $1, locked_until = $2 WHERE id = $3")
                    .bind(failed)
                    .bind(lock.clone())
                    .bind(id),
            )
            .await?;
            let mut ev = audit(if lock.is_some() {
                "bad_password_locked"
            } else {
                "bad_password"
            });
            ev.entity_id = &id_str;
            ev.scope_code = &scope_code;
            append(&mut tx, &actor, ev).await?;
            Err(AuthError::BadCredentials)
        } else if !row.bool("active")? {
            let mut ev = audit("inactive");
            ev.entity_id = &id_str;
            ev.scope_code = &scope_code;
            append(&mut tx, &actor, ev).await?;
            Err(AuthError::Inactive)
        } else {
            tx.execute(
                q("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE id = $1")
                    .bind(id),
            )
            .await?;
            let mut ev = audit("ok");
            ev.entity_id = &id_str;
            ev.scope_code = &scope_code;
            append(&mut tx, &actor, ev).await?;
            Ok(())
        };
        tx.commit().await?;
        match outcome {
            Ok(()) => Ok(Ok(self.get_user(&Scope::all(), id).await?)),
            Err(e) => Ok(Err(e)),
        }
    }

    /// Starts a session; returns the cookie token (only its hash is stored) and the CSRF
    /// token.
    pub async fn create_session(
        &self,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<(String, String)> {
        let token = random_hex(32);
        let csrf = random_hex(32);
        let ts = crate::timestamp(now);
        let mut tx = self.begin_write().await?;
        tx.execute(
            q(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen)
               VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(token_hash(&token))
            .bind(user_id)
            .bind(csrf.clone())
            .bind(ts),
        )
        .await?;
        tx.commit().await?;
        Ok((token, csrf))
    }

    /// The live session for a cookie token, or None if unknown, idle too long, or the user
    /// was deactivated. Refreshes the idle clock (at most once a minute, to spare writes).
    pub async fn session(
        &self,
        token: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> StoreResult<Option<SessionInfo>> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let th = token_hash(token);
        let Some(row) = self
            .fetch_optional(
                q("SELECT s.user_id, s.csrf_token, s.last_seen FROM sessions s WHERE s.token_hash = $1")
                    .bind(th.clone()),
            )
            .await?
        else {
            return Ok(None);
        };
        let last_seen = crate::parse_timestamp(&row.str("last_seen")?).unwrap_or(now - idle - idle);
        if now - last_seen > idle {
            self.end_session(token).await?;
            return Ok(None);
        }
        let user = match self.get_user(&Scope::all(), row.i64("user_id")?).await {
            Ok(u) if u.active => u,
            _ => return Ok(None),
        };
        if now - last_seen > Duration::seconds(60) {
            let mut tx = self.begin_write().await?;
            tx.execute(
                q("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2")
                    .bind(crate::timestamp(now))
                    .bind(th),
            )
            .await?;
            tx.commit().await?;
        }
        Ok(Some(SessionInfo {
            user,
            csrf_token: row.str("csrf_token")?,
        }))
    }

    /// Ends a session (sign-out), audited when it existed.
    pub async fn end_session(&self, token: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        tx.execute(q("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(token)))
            .await?;
        tx.commit().await
    }

    /// Records a sign-out in the audit log.
    pub async fn audit_signout(&self, actor: &Actor) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let id = actor.user_id.map(|i| i.to_string()).unwrap_or_default();
        append(
            &mut tx,
            actor,
            AuditEvent {
                action: "auth.signout",
                entity_type: "user",
                entity_id: &id,
                scope_code: actor.scope.code_str(),
                before: None,
                after: None,
            },
        )
        .await?;
        tx.commit().await
    }

    /// The dashboard's counts inside the scope.
    pub async fn dashboard_counts(&self, scope: &Scope) -> StoreResult<DashboardCounts> {
        let (lo, hi) = scope.bounds();
        let levels = self.division_stats(scope).await?;
        let n = |d: u8| {
            levels
                .iter()
                .find(|l| l.level.depth() == d)
                .map(|l| l.count)
                .unwrap_or(0)
        };
        let row = self
            .fetch_one(
                q("SELECT
                    (SELECT COUNT(*) FROM offices WHERE township_code >= $1 AND township_code < $2) AS offices,
                    (SELECT COUNT(*) FROM offices WHERE township_code >= $1 AND township_code < $2 AND phone <> '') AS with_contact,
                    (SELECT COUNT(*) FROM users WHERE scope_code >= $1 AND scope_code < $2) AS users,
                    (SELECT COUNT(*) FROM audit_log WHERE scope_code >= $1 AND scope_code < $2) AS audit")
                .bind(lo)
                .bind(hi),
            )
            .await?;
        Ok(DashboardCounts {
            counties: n(3),
            townships: n(4),
            villages: n(5),
            offices: row.i64("offices")?,
            offices_with_contact: row.i64("with_contact")?,
            users: row.i64("users")?,
            audit_records: row.i64("audit")?,
        })
    }
}

/// Which scope levels make sense for each role.
fn check_role_scope(role: Role, scope: &DivisionCode) -> StoreResult<()> {
    use minzheng_domain::DivisionLevel as L;
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
        Err(StoreError::field(
            "scope_code",
            format!(
                "{}的管辖区划级别不符（当前为{}级）",
                role.label(),
                scope.level().label()
            ),
        ))
    }
}

/// Usernames from failed sign-ins go into the audit log: keep them short and printable.
fn sanitize(s: &str) -> String {
    let cleaned: String = s.chars().filter(|c| !c.is_control()).take(32).collect();
    if cleaned.is_empty() {
        "(空)".into()
    } else {
        cleaned
    }
}
