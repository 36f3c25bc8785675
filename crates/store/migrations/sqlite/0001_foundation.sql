-- Foundation: divisions, offices, users, sessions, audit log.
-- Codes are stored at their native length (2/4/6/9/12 digits); jurisdiction filters are
-- prefix range scans: code >= scope AND code < scope || ':'.
CREATE TABLE divisions (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    level       INTEGER NOT NULL CHECK (level BETWEEN 1 AND 5),
    parent_code TEXT,
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX divisions_parent ON divisions (parent_code);

-- 民政办公室: one per township-level division.
CREATE TABLE offices (
    township_code TEXT PRIMARY KEY REFERENCES divisions (code),
    name          TEXT NOT NULL,
    second_name   TEXT NOT NULL,
    phone         TEXT NOT NULL DEFAULT '',
    address       TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL,
    scope_code      TEXT NOT NULL REFERENCES divisions (code),
    password_hash   TEXT NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX users_scope ON users (scope_code);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

-- Hash-chained audit log: hash = sha256(prev_hash || canonical record).
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    actor_id    INTEGER,
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    scope_code  TEXT NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_scope ON audit_log (scope_code, seq);
CREATE INDEX audit_entity ON audit_log (entity_type, entity_id, seq);
