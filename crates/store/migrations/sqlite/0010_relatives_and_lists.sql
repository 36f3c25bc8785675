-- 近亲属备案: staff and village cadres declare their close relatives; a case of a household
-- in which a declarant or a declared relative lives is filed as such (cases.filed_note, the
-- filing in words; '' = not filed). 核对数据: lists received from other departments, each a
-- dated batch of records matched by ID number; they never edit the registry, only raise
-- findings.
CREATE TABLE relative_declarations (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    township_code       TEXT NOT NULL,
    division_code       TEXT NOT NULL REFERENCES divisions (code),
    declarant_name      TEXT NOT NULL,
    declarant_id_number TEXT NOT NULL,
    post                TEXT NOT NULL,
    username            TEXT,
    relative_name       TEXT NOT NULL,
    relative_id_number  TEXT NOT NULL,
    relation            TEXT NOT NULL,
    note                TEXT NOT NULL DEFAULT '',
    declared_by         TEXT NOT NULL,
    declared_at         TEXT NOT NULL
);
CREATE UNIQUE INDEX relative_declarations_pair
    ON relative_declarations (declarant_id_number, relative_id_number);
CREATE INDEX relative_declarations_relative ON relative_declarations (relative_id_number);
CREATE INDEX relative_declarations_scope ON relative_declarations (township_code, id);

ALTER TABLE cases ADD COLUMN filed_note TEXT NOT NULL DEFAULT '';

-- 惠民殡葬 basic-service relief and 丧葬补助 due for a death (fen), from the parameters.
ALTER TABLE funeral_records ADD COLUMN relief_fen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE funeral_records ADD COLUMN grant_fen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE funeral_records ADD COLUMN grant_program TEXT;

CREATE TABLE external_batches (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    received_on TEXT NOT NULL,
    scope_code  TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE INDEX external_batches_scope ON external_batches (scope_code, id);

CREATE TABLE external_records (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id   INTEGER NOT NULL REFERENCES external_batches (id),
    kind       TEXT NOT NULL,
    id_number  TEXT NOT NULL,
    name       TEXT NOT NULL,
    event_date TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX external_records_person ON external_records (id_number, kind);
CREATE INDEX external_records_batch ON external_records (batch_id);

-- The shared-account check finds accounts held by several households from this index alone.
CREATE INDEX households_account ON households (account_number);
