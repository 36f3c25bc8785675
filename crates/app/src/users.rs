//! Accounts (用户), sign-in with lockout and server-side sessions.
//!
//! Passwords are argon2id hashes; a session cookie holds a random token whose SHA-256 is
//! the only thing stored. Every sign-in, failed or not, every account change and every
//! sign-out is audited.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use minzheng_domain::time::{parse_timestamp, timestamp};
pub use minzheng_domain::users::SessionInfo;
use minzheng_domain::users::{
    check_display_name, check_password_policy, decide_signin, parse_demo_user, parse_new_user,
    sanitize_username, throttled, valid_username, AddressAttempts, AddressDecision, AuthError,
    NewUser, SigninOutcome, SigninState, User, UserUpdate, ADDRESS_FAILURES_PER_WINDOW,
};
use minzheng_domain::{Actor, FieldErrors, Scope};
use minzheng_store::users::{self as repo, AccountChanges};
use minzheng_store::{append_audit, divisions as division_repo, AuditEvent};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::{App, Authorize, Error, Permission, Result};

/// The accounts duty of [`App`].
pub struct Users<'a> {
    app: &'a App,
}

impl App {
    pub fn users(&self) -> Users<'_> {
        Users { app: self }
    }
}

fn hash_password(pw: &str) -> Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(pw.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(format!("密码加密失败：{e}")))
}

fn verify_password(pw: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// A hash of a password nobody has, so that unknown user names cost the same time.
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

/// The client address of sign-ins typed on this machine (the command line, tests).
pub const LOCAL_CLIENT: &str = "本机";

/// Failed sign-ins per client address in this process (see
/// [`minzheng_domain::users::AddressAttempts`]): kept in memory, since a flood must not
/// cost a database write per attempt.
#[derive(Debug, Default)]
pub(crate) struct SigninThrottle {
    addresses: std::sync::Mutex<std::collections::HashMap<String, AddressAttempts>>,
}

/// Addresses remembered at most; beyond it, the ones whose window is over are forgotten.
const THROTTLE_ENTRIES: usize = 100_000;

impl SigninThrottle {
    fn with<T>(&self, client: &str, f: impl FnOnce(&mut AddressAttempts) -> T) -> T {
        let mut map = self
            .addresses
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= THROTTLE_ENTRIES && !map.contains_key(client) {
            let now = Utc::now();
            map.retain(|_, a| !a.expired(now));
        }
        f(map.entry(client.to_string()).or_default())
    }

    fn check(&self, client: &str, now: DateTime<Utc>) -> AddressDecision {
        self.with(client, |a| a.check(now))
    }

    fn failed(&self, client: &str, now: DateTime<Utc>) {
        self.with(client, |a| a.failed(now))
    }
}

impl Users<'_> {
    /// Creates an account inside the actor's jurisdiction. Only the city administrator (or
    /// the command line) may; the new user's scope must lie inside the actor's and fit the
    /// role.
    pub async fn create(&self, actor: &Actor, new: &NewUser) -> Result<User> {
        actor.require(Permission::ManageUsers)?;
        let v = parse_new_user(new, &actor.scope)?;
        self.insert_account(actor, v).await
    }

    /// Creates one of the demo's accounts, which alone may use the demo's published
    /// password (`serve --demo`).
    pub(crate) async fn create_demo_account(
        &self,
        actor: &Actor,
        new: &NewUser,
        demo_password: &str,
    ) -> Result<User> {
        actor.require(Permission::ManageUsers)?;
        let v = parse_demo_user(new, &actor.scope, demo_password)?;
        self.insert_account(actor, v).await
    }

    async fn insert_account(
        &self,
        actor: &Actor,
        v: minzheng_domain::users::ValidNewUser,
    ) -> Result<User> {
        let hash = hash_password(&v.password)?;
        let store = self.app.store();
        let mut tx = store.begin_write().await?;
        if !division_repo::exists(&mut tx, v.scope.as_str()).await? {
            return Err(Error::field(
                "scope_code",
                format!("区划“{}”不存在，请先导入区划", v.scope),
            ));
        }
        if repo::username_taken(&mut tx, &v.username).await? {
            return Err(Error::field(
                "username",
                format!("用户名“{}”已被使用", v.username),
            ));
        }
        let id = repo::insert(
            &mut tx,
            &v.username,
            &v.display_name,
            v.role,
            v.scope.as_str(),
            &hash,
        )
        .await?;
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: "user.create",
                entity_type: "user",
                entity_id: &id.to_string(),
                scope_code: v.scope.as_str(),
                before: None,
                after: Some(serde_json::json!({
                    "username": v.username, "display_name": v.display_name,
                    "role": v.role.as_str(), "scope_code": v.scope.as_str()
                })),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(repo::get(store, &actor.scope, id).await?)
    }

    /// One account: an administrator sees those in their scope, anyone sees their own.
    pub async fn get(&self, actor: &Actor, id: i64) -> Result<User> {
        let u = repo::get(self.app.store(), &actor.scope, id).await?;
        if !actor.may(Permission::ManageUsers) && actor.user_id != Some(u.id) {
            return Err(Error::Forbidden(
                "只有市民政局管理员可以查看其他用户".into(),
            ));
        }
        Ok(u)
    }

    /// The accounts inside the administrator's scope.
    /// The real name of every account by user name, so pages show people by name (the
    /// names of colleagues are no secret to anyone signed in).
    pub async fn names(&self) -> Result<std::collections::HashMap<String, String>> {
        Ok(repo::names(self.app.store()).await?.into_iter().collect())
    }

    pub async fn list(&self, actor: &Actor) -> Result<Vec<User>> {
        actor.require(Permission::ManageUsers)?;
        Ok(repo::list(self.app.store(), &actor.scope).await?)
    }

    /// Administrator changes to an account: name, active, password reset, unlock.
    pub async fn update(&self, actor: &Actor, id: i64, upd: &UserUpdate) -> Result<User> {
        let store = self.app.store();
        let before = repo::get(store, &actor.scope, id).await?;
        actor.require(Permission::ManageUsers)?;
        if actor.user_id == Some(id) && upd.active == Some(false) {
            return Err(Error::Conflict("不能停用自己的账户".into()));
        }
        let mut after = serde_json::Map::new();
        let name = upd
            .display_name
            .as_deref()
            .map(check_display_name)
            .transpose()?;
        if let Some(n) = name {
            after.insert("display_name".into(), n.into());
        }
        if let Some(active) = upd.active {
            after.insert("active".into(), active.into());
        }
        let hash = match &upd.password {
            Some(pw) => {
                check_password_policy(pw).map_err(|m| FieldErrors::one("password", m))?;
                after.insert("password".into(), "（已重置）".into());
                Some(hash_password(pw)?)
            }
            None => None,
        };
        let unlock = upd.unlock == Some(true) || upd.password.is_some();
        if unlock {
            after.insert("unlocked".into(), true.into());
        }
        if name.is_none() && upd.active.is_none() && hash.is_none() && !unlock {
            return Err(Error::validation("没有需要修改的内容"));
        }
        let mut tx = store.begin_write().await?;
        if unlock {
            repo::unlock(&mut tx, &before.username, &timestamp(Utc::now())).await?;
        }
        repo::update(
            &mut tx,
            id,
            &AccountChanges {
                display_name: name,
                active: upd.active,
                password_hash: hash.as_deref(),
                unlock,
            },
        )
        .await?;
        append_audit(
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
        Ok(repo::get(store, &actor.scope, id).await?)
    }

    /// A user changes their own password, proving the old one. Every other session of the
    /// account ends; the one holding the cookie token `current` (the session that made
    /// the change) stays signed in.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        old: &str,
        new: &str,
        current: Option<&str>,
    ) -> Result<()> {
        let id = actor
            .user_id
            .ok_or_else(|| Error::validation("命令行账户没有密码"))?;
        let store = self.app.store();
        let (hash, scope_code) = repo::password_hash(store, id).await?;
        if !verify_password(old, &hash) {
            return Err(Error::field("old_password", "原密码不正确"));
        }
        check_password_policy(new).map_err(|m| FieldErrors::one("new_password", m))?;
        if old == new {
            return Err(Error::field("new_password", "新密码不能与原密码相同"));
        }
        let hash = hash_password(new)?;
        let keep = current.map(token_hash);
        let mut tx = store.begin_write().await?;
        repo::set_password_hash(&mut tx, id, &hash).await?;
        let ended = repo::end_other_sessions(&mut tx, id, keep.as_deref()).await?;
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: "user.change_password",
                entity_type: "user",
                entity_id: &id.to_string(),
                scope_code: &scope_code,
                before: None,
                after: Some(serde_json::json!({ "other_sessions_ended": ended })),
            },
        )
        .await?;
        Ok(tx.commit().await?)
    }

    /// Checks a user name and password typed on this machine (the command line, tests):
    /// [`Users::authenticate_from`] with the local address.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<User, AuthError>> {
        self.authenticate_from(username, password, LOCAL_CLIENT, now)
            .await
    }

    /// Checks a user name and password sent from `client` (the caller's network address)
    /// at `now`.
    ///
    /// - An address with too many failures in its window is refused at once (no password
    ///   check, no database write); only the first refusal of the window is audited.
    /// - Failures are counted per user name *and* address: five in a row lock the name for
    ///   fifteen minutes from that address only, so nobody can lock a known user out
    ///   everywhere. Names that are no account are counted the same way and answered the
    ///   same words and status, so the answers do not tell which names exist.
    /// - Every other attempt is audited; success clears the address's count for the name.
    pub async fn authenticate_from(
        &self,
        username: &str,
        password: &str,
        client: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<User, AuthError>> {
        let store = self.app.store();
        let username = username.trim();
        let name = sanitize_username(username);
        let client: String = client
            .chars()
            .filter(|c| !c.is_control())
            .take(64)
            .collect();
        if let AddressDecision::Refuse { until, first } =
            self.app.signin_throttle.check(&client, now)
        {
            if first {
                let mut tx = store.begin_write().await?;
                append_audit(
                    &mut tx,
                    &Actor::system(&name),
                    AuditEvent {
                        action: "auth.signin_throttled",
                        entity_type: "client",
                        entity_id: &client,
                        scope_code: "",
                        before: None,
                        after: Some(serde_json::json!({
                            "failures": ADDRESS_FAILURES_PER_WINDOW,
                            "until": timestamp(until),
                            "note": "此后至解除前该地址的登录尝试不再逐条记录",
                        })),
                    },
                )
                .await?;
                tx.commit().await?;
            }
            return Ok(Err(throttled(until, now)));
        }
        let record = if valid_username(username) {
            repo::signin_record(store, username).await?
        } else {
            None
        };
        let (failed_attempts, locked_until) = repo::client_failures(store, &name, &client).await?;
        // Unknown names cost the same time and are never signed in.
        let password_ok = match &record {
            Some(r) => verify_password(password, &r.password_hash),
            None => {
                verify_password(password, dummy_hash());
                false
            }
        };
        let state = SigninState {
            failed_attempts,
            locked_until: locked_until.as_deref().and_then(parse_timestamp),
            active: record.as_ref().is_none_or(|r| r.active),
        };
        let outcome = decide_signin(state, password_ok, now);
        if !matches!(outcome, SigninOutcome::Ok | SigninOutcome::Inactive) {
            self.app.signin_throttle.failed(&client, now);
        }
        let actor = Actor {
            user_id: record.as_ref().map(|r| r.id),
            username: name.clone(),
            role: None,
            scope: Scope::all(),
        };
        let mut tx = store.begin_write().await?;
        match &outcome {
            SigninOutcome::BadPassword {
                failed_attempts,
                lock_until,
            } => {
                let lock = lock_until.map(timestamp);
                repo::set_client_failures(
                    &mut tx,
                    &name,
                    &client,
                    *failed_attempts,
                    lock.as_deref(),
                    &timestamp(now),
                    &timestamp(now - Duration::days(1)),
                )
                .await?;
                if let (Some(r), Some(l)) = (&record, &lock) {
                    repo::note_lock(&mut tx, r.id, l).await?;
                }
            }
            SigninOutcome::Ok => repo::clear_client_failures(&mut tx, &name, &client).await?,
            SigninOutcome::Locked { .. } | SigninOutcome::Inactive => {}
        }
        let reason = match (&record, &outcome) {
            (None, SigninOutcome::BadPassword { .. }) => "unknown_user",
            _ => outcome.audit_reason(),
        };
        append_audit(
            &mut tx,
            &actor,
            AuditEvent {
                action: if outcome == SigninOutcome::Ok {
                    "auth.signin"
                } else {
                    "auth.signin_failed"
                },
                entity_type: "user",
                entity_id: &record
                    .as_ref()
                    .map(|r| r.id.to_string())
                    .unwrap_or_else(|| "-".into()),
                scope_code: record.as_ref().map(|r| r.scope_code.as_str()).unwrap_or(""),
                before: None,
                after: Some(serde_json::json!({ "reason": reason, "client": client })),
            },
        )
        .await?;
        tx.commit().await?;
        match (outcome.refusal(), record) {
            (None, Some(r)) => Ok(Ok(repo::get(store, &Scope::all(), r.id).await?)),
            (Some(e), _) => Ok(Err(e)),
            (None, None) => Ok(Err(AuthError::BadCredentials)),
        }
    }

    /// Lifts every sign-in lock of an account, from every address (`minzheng user unlock`,
    /// or the administrator); audited with how many addresses were locked.
    pub async fn unlock(&self, actor: &Actor, username: &str) -> Result<User> {
        actor.require(Permission::ManageUsers)?;
        let store = self.app.store();
        let username = username.trim();
        let id = repo::id_by_username(store, &actor.scope, username).await?;
        let before = repo::get(store, &actor.scope, id).await?;
        let mut tx = store.begin_write().await?;
        let locked = repo::unlock(&mut tx, username, &timestamp(Utc::now())).await?;
        append_audit(
            &mut tx,
            actor,
            AuditEvent {
                action: "user.unlock",
                entity_type: "user",
                entity_id: &id.to_string(),
                scope_code: &before.scope_code,
                before: Some(serde_json::json!({
                    "locked_until": before.locked_until, "locked_addresses": locked
                })),
                after: Some(serde_json::json!({"unlocked": true})),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(repo::get(store, &actor.scope, id).await?)
    }

    /// Starts a session; returns the cookie token (only its hash is stored) and the CSRF
    /// token.
    pub async fn open_session(&self, user_id: i64, now: DateTime<Utc>) -> Result<(String, String)> {
        let token = random_hex(32);
        let csrf = random_hex(32);
        let mut tx = self.app.store().begin_write().await?;
        repo::insert_session(
            &mut tx,
            &token_hash(&token),
            user_id,
            &csrf,
            &timestamp(now),
        )
        .await?;
        tx.commit().await?;
        Ok((token, csrf))
    }

    /// The live session for a cookie token, or `None` if unknown, idle too long, or the
    /// user was deactivated. Refreshes the idle clock (at most once a minute, to spare
    /// writes).
    pub async fn session(
        &self,
        token: &str,
        now: DateTime<Utc>,
        idle: Duration,
    ) -> Result<Option<SessionInfo>> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let store = self.app.store();
        let th = token_hash(token);
        // The session and its user in one read: every signed-in request makes it.
        let Some((s, user)) = repo::session_user(store, &th).await? else {
            return Ok(None);
        };
        let last_seen = parse_timestamp(&s.last_seen).unwrap_or(now - idle - idle);
        if now - last_seen > idle {
            self.end_session(token).await?;
            return Ok(None);
        }
        if !user.active {
            return Ok(None);
        }
        if now - last_seen > Duration::seconds(60) {
            let mut tx = store.begin_write().await?;
            repo::touch_session(&mut tx, &th, &timestamp(now)).await?;
            tx.commit().await?;
        }
        Ok(Some(SessionInfo {
            user,
            csrf_token: s.csrf_token,
        }))
    }

    /// Ends the session of a cookie token.
    pub async fn end_session(&self, token: &str) -> Result<()> {
        let mut tx = self.app.store().begin_write().await?;
        repo::delete_session(&mut tx, &token_hash(token)).await?;
        Ok(tx.commit().await?)
    }

    /// Signs out: ends the session (if a token is given) and records the sign-out.
    pub async fn sign_out(&self, actor: &Actor, token: Option<&str>) -> Result<()> {
        if let Some(t) = token {
            self.end_session(t).await?;
        }
        let mut tx = self.app.store().begin_write().await?;
        let id = actor.user_id.map(|i| i.to_string()).unwrap_or_default();
        append_audit(
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
        Ok(tx.commit().await?)
    }
}
