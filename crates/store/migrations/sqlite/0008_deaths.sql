-- Deaths and the money: the funeral ledger (殡葬管理, one death per person by ID number),
-- the recoveries (追回) of months paid after a death, and the cross-checks' findings. Each
-- carries the township code of its jurisdiction.
CREATE TABLE funeral_records (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    township_code    TEXT NOT NULL,
    person_id        INTEGER REFERENCES persons (id),
    household_id     INTEGER REFERENCES households (id),
    id_number        TEXT NOT NULL,
    name             TEXT NOT NULL,
    death_date       TEXT NOT NULL,
    death_place      TEXT NOT NULL DEFAULT '',
    certificate_kind TEXT NOT NULL,
    certificate_no   TEXT NOT NULL,
    disposal         TEXT NOT NULL,
    cremation_no     TEXT NOT NULL DEFAULT '',
    funeral_home     TEXT NOT NULL DEFAULT '',
    source           TEXT NOT NULL,
    note             TEXT NOT NULL DEFAULT '',
    recorded_by      TEXT NOT NULL,
    recorded_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX funeral_records_person ON funeral_records (id_number);
CREATE INDEX funeral_records_scope ON funeral_records (township_code, death_date);

CREATE TABLE recoveries (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    funeral_id            INTEGER NOT NULL REFERENCES funeral_records (id),
    township_code         TEXT NOT NULL,
    enrolment_id          INTEGER NOT NULL REFERENCES enrolments (id),
    line_id               INTEGER NOT NULL REFERENCES payroll_lines (id),
    program               TEXT NOT NULL,
    period                TEXT NOT NULL,
    beneficiary_name      TEXT NOT NULL,
    beneficiary_id_number TEXT NOT NULL,
    amount_fen            INTEGER NOT NULL,
    status                TEXT NOT NULL,
    note                  TEXT NOT NULL DEFAULT '',
    requested_by          TEXT,
    decided_by            TEXT,
    opened_at             TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE UNIQUE INDEX recoveries_line ON recoveries (line_id);
CREATE INDEX recoveries_scope ON recoveries (township_code, status);
CREATE INDEX recoveries_funeral ON recoveries (funeral_id);

-- 数据比对: the findings (疑点) of the cross-checks. A finding is keyed by its check and
-- subject; while one is under way (open, confirmed) or was dismissed, a run does not raise
-- it again (the partial unique index); a run marks what it saw (last_run), and open or
-- confirmed findings it no longer saw close themselves.
CREATE TABLE findings (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    subject_key   TEXT NOT NULL,
    township_code TEXT NOT NULL,
    id_number     TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL DEFAULT '',
    household_id  INTEGER,
    enrolment_id  INTEGER,
    evidence      TEXT NOT NULL,
    state         TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    last_run      TEXT NOT NULL,
    first_run     TEXT NOT NULL,
    resolved_by   TEXT,
    opened_at     TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX findings_live ON findings (kind, subject_key)
    WHERE state IN ('open', 'confirmed', 'dismissed');
CREATE INDEX findings_scope ON findings (township_code, state, kind);

-- The cross-checks group and join enrolments by the beneficiary's ID number.
CREATE INDEX enrolments_beneficiary ON enrolments (beneficiary_id_number, program, status);
