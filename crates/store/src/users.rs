//! User accounts and server-side sessions: the `users` and `sessions` tables. Password
//! hashes are written and read here but made and checked by the caller.

use minzheng_domain::users::User;
use minzheng_domain::Scope;

use crate::db::{q, Conn, DbRow, Store, Tx};
use crate::error::{Result, StoreError};

const SELECT_USER: &str =
    "SELECT u.*, d.name AS scope_name FROM users u LEFT JOIN divisions d ON d.code = u.scope_code";

fn user(r: &DbRow) -> Result<User> {
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

/// How many accounts there are.
pub async fn count(store: &Store) -> Result<i64> {
    store
        .fetch_one(q("SELECT COUNT(*) AS n FROM users"))
        .await?
        .i64("n")
}

/// One user inside the scope.
pub async fn get<'c>(db: impl Into<Conn<'c>>, scope: &Scope, id: i64) -> Result<User> {
    let row = db
        .into()
        .fetch_optional(q(format!("{SELECT_USER} WHERE u.id = $1")).bind(id))
        .await?
        .ok_or(StoreError::NotFound("该用户"))?;
    let u = user(&row)?;
    if !scope.contains_str(&u.scope_code) {
        return Err(StoreError::NotFound("该用户"));
    }
    Ok(u)
}

/// Users inside the scope, by scope and name.
pub async fn list(store: &Store, scope: &Scope) -> Result<Vec<User>> {
    let (lo, hi) = scope.bounds();
    store
        .fetch_all(
            q(format!(
                "{SELECT_USER} WHERE u.scope_code >= $1 AND u.scope_code < $2 ORDER BY u.scope_code, u.username"
            ))
            .bind(lo)
            .bind(hi),
        )
        .await?
        .iter()
        .map(user)
        .collect()
}

/// Every account's (user name, real name), for showing people by name.
pub async fn names(store: &Store) -> Result<Vec<(String, String)>> {
    store
        .fetch_all(q("SELECT username, display_name FROM users"))
        .await?
        .iter()
        .map(|r| Ok((r.str("username")?, r.str("display_name")?)))
        .collect()
}

/// Whether an account of this name exists.
pub async fn username_taken(tx: &mut Tx, username: &str) -> Result<bool> {
    Ok(tx
        .fetch_optional(q("SELECT 1 AS one FROM users WHERE username = $1").bind(username))
        .await?
        .is_some())
}

/// A new account, active, with its password hash; returns its id.
pub async fn insert(
    tx: &mut Tx,
    username: &str,
    display_name: &str,
    role: minzheng_domain::Role,
    scope_code: &str,
    password_hash: &str,
) -> Result<i64> {
    let now = crate::timestamp(chrono::Utc::now());
    tx.fetch_one(
        q(
            "INSERT INTO users (username, display_name, role, scope_code, password_hash,
             active, failed_attempts, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7) RETURNING id",
        )
        .bind(username)
        .bind(display_name)
        .bind(role.as_str())
        .bind(scope_code)
        .bind(password_hash)
        .bind(true)
        .bind(now),
    )
    .await?
    .i64("id")
}

/// The changes an administrator makes to an account, already checked.
#[derive(Debug, Default)]
pub struct AccountChanges<'a> {
    pub display_name: Option<&'a str>,
    pub active: Option<bool>,
    pub password_hash: Option<&'a str>,
    /// Clears the failure count and any lock.
    pub unlock: bool,
}

/// Writes an administrator's changes; a deactivated account or a reset password also ends
/// the account's sessions.
pub async fn update(tx: &mut Tx, id: i64, c: &AccountChanges<'_>) -> Result<()> {
    let mut sets: Vec<String> = Vec::new();
    let mut query = q("");
    if let Some(name) = c.display_name {
        query.push(name);
        sets.push(format!("display_name = ${}", query.args.len()));
    }
    if let Some(active) = c.active {
        query.push(active);
        sets.push(format!("active = ${}", query.args.len()));
    }
    if let Some(h) = c.password_hash {
        query.push(h);
        sets.push(format!("password_hash = ${}", query.args.len()));
    }
    if c.unlock {
        sets.push("failed_attempts = 0".into());
        sets.push("locked_until = NULL".into());
    }
    query.push(crate::timestamp(chrono::Utc::now()));
    sets.push(format!("updated_at = ${}", query.args.len()));
    query.push(id);
    query.sql = format!(
        "UPDATE users SET {} WHERE id = ${}",
        sets.join(", "),
        query.args.len()
    );
    tx.execute(query).await?;
    if c.active == Some(false) || c.password_hash.is_some() {
        tx.execute(q("DELETE FROM sessions WHERE user_id = $1").bind(id))
            .await?;
    }
    Ok(())
}

/// An account's password hash and scope code.
pub async fn password_hash(store: &Store, id: i64) -> Result<(String, String)> {
    let row = store
        .fetch_optional(q("SELECT password_hash, scope_code FROM users WHERE id = $1").bind(id))
        .await?
        .ok_or(StoreError::NotFound("该用户"))?;
    Ok((row.str("password_hash")?, row.str("scope_code")?))
}

/// Replaces an account's password hash.
pub async fn set_password_hash(tx: &mut Tx, id: i64, hash: &str) -> Result<()> {
    tx.execute(
        q("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(hash)
            .bind(crate::timestamp(chrono::Utc::now()))
            .bind(id),
    )
    .await?;
    Ok(())
}

/// What sign-in needs to know about an account.
#[derive(Debug, Clone)]
pub struct SigninRecord {
    pub id: i64,
    pub password_hash: String,
    pub active: bool,
    pub failed_attempts: i64,
    pub locked_until: Option<String>,
    pub scope_code: String,
}

/// The sign-in record of a user name.
pub async fn signin_record(store: &Store, username: &str) -> Result<Option<SigninRecord>> {
    store
        .fetch_optional(
            q(
                "SELECT id, password_hash, active, failed_attempts, locked_until, scope_code
               FROM users WHERE username = $1",
            )
            .bind(username),
        )
        .await?
        .map(|r| {
            Ok(SigninRecord {
                id: r.i64("id")?,
                password_hash: r.str("password_hash")?,
                active: r.bool("active")?,
                failed_attempts: r.i64("failed_attempts")?,
                locked_until: r.opt_str("locked_until")?,
                scope_code: r.str("scope_code")?,
            })
        })
        .transpose()
}

/// The failures in a row of a user name from one client address, and its lock.
pub async fn client_failures(
    store: &Store,
    username: &str,
    client: &str,
) -> Result<(i64, Option<String>)> {
    Ok(store
        .fetch_optional(
            q("SELECT failed_attempts, locked_until FROM signin_failures
               WHERE username = $1 AND client = $2")
            .bind(username)
            .bind(client),
        )
        .await?
        .map(|r| Ok::<_, StoreError>((r.i64("failed_attempts")?, r.opt_str("locked_until")?)))
        .transpose()?
        .unwrap_or((0, None)))
}

/// Records the failures in a row of a user name from one client address and any lock,
/// and forgets rows untouched since `stale_before`.
pub async fn set_client_failures(
    tx: &mut Tx,
    username: &str,
    client: &str,
    failed_attempts: i64,
    locked_until: Option<&str>,
    now: &str,
    stale_before: &str,
) -> Result<()> {
    tx.execute(
        q("INSERT INTO signin_failures (username, client, failed_attempts, locked_until, updated_at)
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (username, client) DO UPDATE
           SET failed_attempts = $3, locked_until = $4, updated_at = $5")
        .bind(username)
        .bind(client)
        .bind(failed_attempts)
        .bind(locked_until.map(str::to_string))
        .bind(now),
    )
    .await?;
    tx.execute(q("DELETE FROM signin_failures WHERE updated_at < $1").bind(stale_before))
        .await?;
    Ok(())
}

/// Forgets the failures of a user name from one client address (a successful sign-in).
pub async fn clear_client_failures(tx: &mut Tx, username: &str, client: &str) -> Result<()> {
    tx.execute(
        q("DELETE FROM signin_failures WHERE username = $1 AND client = $2")
            .bind(username)
            .bind(client),
    )
    .await?;
    Ok(())
}

/// Clears every lock and failure count of a user name, from every address, and the
/// account's own lock; returns how many addresses were locked at `now`.
pub async fn unlock(tx: &mut Tx, username: &str, now: &str) -> Result<i64> {
    let locked = tx
        .fetch_one(
            q("SELECT COUNT(*) AS n FROM signin_failures
               WHERE username = $1 AND locked_until > $2")
            .bind(username)
            .bind(now),
        )
        .await?
        .i64("n")?;
    tx.execute(q("DELETE FROM signin_failures WHERE username = $1").bind(username))
        .await?;
    tx.execute(
        q("UPDATE users SET failed_attempts = 0, locked_until = NULL WHERE username = $1")
            .bind(username),
    )
    .await?;
    Ok(locked)
}

/// Notes on the account when it was last locked (from some address), for its page.
pub async fn note_lock(tx: &mut Tx, id: i64, locked_until: &str) -> Result<()> {
    tx.execute(
        q("UPDATE users SET locked_until = $1 WHERE id = $2")
            .bind(locked_until)
            .bind(id),
    )
    .await?;
    Ok(())
}

/// The id of the account of a user name inside the scope.
pub async fn id_by_username(store: &Store, scope: &Scope, username: &str) -> Result<i64> {
    let row = store
        .fetch_optional(q("SELECT id, scope_code FROM users WHERE username = $1").bind(username))
        .await?
        .ok_or(StoreError::NotFound("该用户"))?;
    if !scope.contains_str(&row.str("scope_code")?) {
        return Err(StoreError::NotFound("该用户"));
    }
    row.i64("id")
}

/// Ends every session of the account except the one stored under `keep` (the token hash
/// of the session that made the change); returns how many ended.
pub async fn end_other_sessions(tx: &mut Tx, user_id: i64, keep: Option<&str>) -> Result<u64> {
    tx.execute(
        q("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(keep.unwrap_or("").to_string()),
    )
    .await
}

/// A live session as stored: whose, its CSRF token and when it was last used.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub user_id: i64,
    pub csrf_token: String,
    pub last_seen: String,
}

/// Stores a new session under the hash of its cookie token.
pub async fn insert_session(
    tx: &mut Tx,
    token_hash: &str,
    user_id: i64,
    csrf_token: &str,
    at: &str,
) -> Result<()> {
    tx.execute(
        q(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen)
           VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(at),
    )
    .await?;
    Ok(())
}

/// A session with its user, in one read (every signed-in request makes it).
pub async fn session_user(
    store: &Store,
    token_hash: &str,
) -> Result<Option<(SessionRecord, User)>> {
    store
        .fetch_optional(
            q("SELECT u.*, d.name AS scope_name, s.csrf_token, s.last_seen
               FROM sessions s JOIN users u ON u.id = s.user_id
               LEFT JOIN divisions d ON d.code = u.scope_code
               WHERE s.token_hash = $1")
            .bind(token_hash),
        )
        .await?
        .map(|r| {
            let u = user(&r)?;
            Ok((
                SessionRecord {
                    user_id: u.id,
                    csrf_token: r.str("csrf_token")?,
                    last_seen: r.str("last_seen")?,
                },
                u,
            ))
        })
        .transpose()
}

/// Moves a session's idle clock.
pub async fn touch_session(tx: &mut Tx, token_hash: &str, at: &str) -> Result<()> {
    tx.execute(
        q("UPDATE sessions SET last_seen = $1 WHERE token_hash = $2")
            .bind(at)
            .bind(token_hash),
    )
    .await?;
    Ok(())
}

/// Ends a session.
pub async fn delete_session(tx: &mut Tx, token_hash: &str) -> Result<()> {
    tx.execute(q("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash))
        .await?;
    Ok(())
}

/// Offices, offices with contact details, users and audit records inside the scope.
pub async fn dashboard_counts(store: &Store, scope: &Scope) -> Result<[i64; 4]> {
    let (lo, hi) = scope.bounds();
    let row = store
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
    Ok([
        row.i64("offices")?,
        row.i64("with_contact")?,
        row.i64("users")?,
        row.i64("audit")?,
    ])
}
