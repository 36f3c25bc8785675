-- Failed sign-ins per user name and client address. Five in a row lock the name for that
-- address only (an attacker elsewhere cannot lock a known user out everywhere); names that
-- are not accounts are counted the same way, so the answers do not reveal which exist.
-- users.failed_attempts is no longer used; users.locked_until keeps the latest lock for
-- the administrator's page. Rows untouched for a day are pruned as new failures come in.
CREATE TABLE signin_failures (
    username        TEXT NOT NULL,
    client          TEXT NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (username, client)
);
CREATE INDEX signin_failures_updated ON signin_failures (updated_at);
