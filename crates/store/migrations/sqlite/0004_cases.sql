-- Assistance programs and cases (救助案件): dated parameters, cases and their events,
-- working-day clocks, household surveys, public notices (公示) with objections, and
-- enrolments (保障对象) that the monthly payroll reads.
-- Money is integer fen; dates are TEXT YYYY-MM-DD; months TEXT YYYY-MM.
-- Every scoped table carries township_code (9 digits) for range-scan jurisdiction.

-- 参数表: one dated value per program × name × region (city, optional county) ×
-- urban/rural ('' = both). value_json is the domain's ParamValue.
CREATE TABLE program_params (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    program        TEXT NOT NULL,
    name           TEXT NOT NULL,
    city_code      TEXT NOT NULL,
    county_code    TEXT NOT NULL DEFAULT '',
    urban_rural    TEXT NOT NULL DEFAULT '',
    effective_from TEXT NOT NULL,
    value_json     TEXT NOT NULL,
    source         TEXT NOT NULL DEFAULT '',
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX program_params_key
    ON program_params (program, name, city_code, county_code, urban_rural, effective_from);

CREATE TABLE cases (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    case_no            TEXT NOT NULL,
    program            TEXT NOT NULL,
    kind               TEXT NOT NULL DEFAULT 'new',      -- new | review | change
    state              TEXT NOT NULL,
    township_code      TEXT NOT NULL,
    village_code       TEXT NOT NULL,
    household_id       INTEGER NOT NULL REFERENCES households (id),
    person_id          INTEGER REFERENCES persons (id),  -- the subject for per-person programs
    enrolment_id       INTEGER,                          -- review/change: the enrolment concerned
    urban_rural        TEXT NOT NULL,
    subject_is_minor   INTEGER NOT NULL DEFAULT 0,
    applied_on         TEXT NOT NULL,
    details_json       TEXT NOT NULL DEFAULT '{}',       -- program-specific inputs
    reason             TEXT NOT NULL DEFAULT '',         -- 申请理由
    proposed_fen       INTEGER,
    calc_json          TEXT,                             -- the calculator's explanation
    approved_fen       INTEGER,
    decided_on         TEXT,
    decision_reasons   TEXT NOT NULL DEFAULT '',
    notice_posted_on   TEXT,
    notice_batch_id    INTEGER,
    missing_items      TEXT NOT NULL DEFAULT '',
    created_by         TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE UNIQUE INDEX cases_no ON cases (case_no);
CREATE INDEX cases_scope ON cases (township_code, state, id);
CREATE INDEX cases_village ON cases (village_code, state);
CREATE INDEX cases_household ON cases (household_id);
CREATE INDEX cases_person ON cases (person_id, program);

-- Every transition: who, when, note, data (investigators, amounts, reasons).
CREATE TABLE case_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    township_code TEXT NOT NULL,
    action        TEXT NOT NULL,
    from_state    TEXT NOT NULL,
    to_state      TEXT NOT NULL,
    actor         TEXT NOT NULL,
    role          TEXT NOT NULL,
    on_date       TEXT NOT NULL,
    at            TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    data_json     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX case_events_case ON case_events (case_id, id);

-- Statutory working-day clocks per step.
CREATE TABLE case_clocks (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    township_code TEXT NOT NULL,
    step          TEXT NOT NULL,
    started_on    TEXT NOT NULL,
    due_on        TEXT NOT NULL,
    stopped_on    TEXT
);
CREATE INDEX case_clocks_case ON case_clocks (case_id);
CREATE INDEX case_clocks_open ON case_clocks (township_code, stopped_on, due_on);

-- 入户调查记录.
CREATE TABLE case_surveys (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id        INTEGER NOT NULL REFERENCES cases (id),
    township_code  TEXT NOT NULL,
    visited_on     TEXT NOT NULL,
    investigators  TEXT NOT NULL,
    findings       TEXT NOT NULL,
    authorization_signed INTEGER NOT NULL DEFAULT 0,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX case_surveys_case ON case_surveys (case_id);

-- 公示批次: a notice for a village or township. The entries are a snapshot of the
-- whitelisted public fields only, so the public page cannot leak anything else.
CREATE TABLE notice_batches (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    township_code TEXT NOT NULL,
    division_code TEXT NOT NULL,
    title         TEXT NOT NULL,
    starts_on     TEXT NOT NULL,
    ends_on       TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX notice_batches_division ON notice_batches (division_code, ends_on);
CREATE INDEX notice_batches_scope ON notice_batches (township_code, ends_on);

CREATE TABLE notice_entries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    batch_id       INTEGER NOT NULL REFERENCES notice_batches (id),
    case_id        INTEGER NOT NULL REFERENCES cases (id),
    display_name   TEXT NOT NULL,
    household_size INTEGER NOT NULL,
    program        TEXT NOT NULL,
    amount_fen     INTEGER
);
CREATE INDEX notice_entries_batch ON notice_entries (batch_id);
CREATE INDEX notice_entries_case ON notice_entries (case_id);

CREATE TABLE objections (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    batch_id      INTEGER,
    township_code TEXT NOT NULL,
    received_on   TEXT NOT NULL,
    summary       TEXT NOT NULL,
    recorded_by   TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX objections_case ON objections (case_id);

-- 保障对象: what the payroll pays. monthly_fen is fixed at approval (changed only by a
-- change case). payment 'monthly' pays every month from start_month to end_month
-- (NULL = open); 'once' pays start_month only. status active | suspended | grace | ended.
CREATE TABLE enrolments (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    program               TEXT NOT NULL,
    case_id               INTEGER REFERENCES cases (id),
    household_id          INTEGER NOT NULL REFERENCES households (id),
    person_id             INTEGER REFERENCES persons (id),
    township_code         TEXT NOT NULL,
    village_code          TEXT NOT NULL,
    beneficiary_name      TEXT NOT NULL,
    beneficiary_id_number TEXT NOT NULL,
    household_size        INTEGER NOT NULL,
    monthly_fen           INTEGER NOT NULL,
    payment               TEXT NOT NULL DEFAULT 'monthly',
    start_month           TEXT NOT NULL,
    end_month             TEXT,
    status                TEXT NOT NULL,
    grace_until           TEXT,
    next_review_on        TEXT,
    review_class          TEXT,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE INDEX enrolments_scope ON enrolments (township_code, status, program);
CREATE INDEX enrolments_village ON enrolments (village_code, status);
CREATE INDEX enrolments_person ON enrolments (person_id, program, status);
CREATE INDEX enrolments_household ON enrolments (household_id, program);
CREATE INDEX enrolments_review ON enrolments (status, next_review_on);
