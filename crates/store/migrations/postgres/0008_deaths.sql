-- Deaths and the money: the funeral ledger (殡葬管理, one death per person by ID number),
-- the recoveries (追回) of months paid after a death, and the cross-checks' findings. Each
-- carries the township code of its jurisdiction.
CREATE TABLE funeral_records (
    id               BIGSERIAL PRIMARY KEY,
    township_code    TEXT COLLATE "C" NOT NULL,
    person_id        BIGINT REFERENCES persons (id),
    household_id     BIGINT REFERENCES households (id),
    id_number        TEXT NOT NULL,
    name             TEXT NOT NULL,
    death_date       TEXT COLLATE "C" NOT NULL,
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
    id                    BIGSERIAL PRIMARY KEY,
    funeral_id            BIGINT NOT NULL REFERENCES funeral_records (id),
    township_code         TEXT COLLATE "C" NOT NULL,
    enrolment_id          BIGINT NOT NULL REFERENCES enrolments (id),
    line_id               BIGINT NOT NULL REFERENCES payroll_lines (id),
    program               TEXT NOT NULL,
    period                TEXT COLLATE "C" NOT NULL,
    beneficiary_name      TEXT NOT NULL,
    beneficiary_id_number TEXT NOT NULL,
    amount_fen            BIGINT NOT NULL,
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
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT NOT NULL,
    subject_key   TEXT NOT NULL,
    township_code TEXT COLLATE "C" NOT NULL,
    id_number     TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL DEFAULT '',
    household_id  BIGINT,
    enrolment_id  BIGINT,
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
