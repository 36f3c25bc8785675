-- Foundation: divisions, offices, users, sessions, audit log (PostgreSQL twin of the SQLite
-- migration). Codes use the "C" collation so prefix range scans (code >= scope AND
-- code < scope || ':') order bytewise, exactly as in SQLite.
CREATE TABLE divisions (
    code        TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL,
    level       BIGINT NOT NULL CHECK (level BETWEEN 1 AND 5),
    parent_code TEXT COLLATE "C",
    updated_at  TEXT NOT NULL
);
CREATE INDEX divisions_parent ON divisions (parent_code);

CREATE TABLE offices (
    township_code TEXT COLLATE "C" PRIMARY KEY REFERENCES divisions (code),
    name          TEXT NOT NULL,
    second_name   TEXT NOT NULL,
    phone         TEXT NOT NULL DEFAULT '',
    address       TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    role            TEXT NOT NULL,
    scope_code      TEXT COLLATE "C" NOT NULL REFERENCES divisions (code),
    password_hash   TEXT NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    failed_attempts BIGINT NOT NULL DEFAULT 0,
    locked_until    TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX users_scope ON users (scope_code);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    actor_id    BIGINT,
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    scope_code  TEXT COLLATE "C" NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_scope ON audit_log (scope_code, seq);
CREATE INDEX audit_entity ON audit_log (entity_type, entity_id, seq);
