-- Registry (户籍台账): households, persons, incomes, assets, person moves, background jobs.
-- Every large table carries the township code (9 digits) of its jurisdiction, so scoped
-- lists are range scans on (township_code, status); village codes are 12 digits.
CREATE TABLE households (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    township_code     TEXT NOT NULL,
    village_code      TEXT NOT NULL REFERENCES divisions (code),
    head_id_number    TEXT NOT NULL,
    head_name         TEXT NOT NULL,
    address           TEXT NOT NULL DEFAULT '',
    registration_type TEXT NOT NULL,
    phone             TEXT NOT NULL DEFAULT '',
    bank_name         TEXT NOT NULL DEFAULT '',
    account_number    TEXT NOT NULL DEFAULT '',
    account_holder    TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL DEFAULT 'active',
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE UNIQUE INDEX households_head ON households (head_id_number);
CREATE INDEX households_scope ON households (township_code, status, id);
CREATE INDEX households_village ON households (village_code, status);

-- One record per person city-wide (unique ID number).
CREATE TABLE persons (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    id_number         TEXT NOT NULL,
    household_id      INTEGER NOT NULL REFERENCES households (id),
    township_code     TEXT NOT NULL,
    name              TEXT NOT NULL,
    name_pinyin       TEXT NOT NULL,
    name_initials     TEXT NOT NULL,
    id_last4          TEXT NOT NULL,
    gender            TEXT NOT NULL,
    birth_date        TEXT NOT NULL,
    relation          TEXT NOT NULL,
    counted           INTEGER NOT NULL DEFAULT 1,
    exclusion_reason  TEXT,
    disability_type   TEXT NOT NULL DEFAULT 'none',
    disability_grade  INTEGER,
    health            TEXT NOT NULL DEFAULT 'healthy',
    work_capacity     TEXT NOT NULL DEFAULT 'full',
    employment        TEXT NOT NULL DEFAULT 'other',
    status            TEXT NOT NULL DEFAULT 'active',
    status_date       TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE UNIQUE INDEX persons_id_number ON persons (id_number);
CREATE INDEX persons_household ON persons (household_id);
CREATE INDEX persons_scope ON persons (township_code, status);
CREATE INDEX persons_name ON persons (name);
CREATE INDEX persons_pinyin ON persons (name_pinyin);
CREATE INDEX persons_initials ON persons (name_initials);
CREATE INDEX persons_last4 ON persons (id_last4);

-- Moving a person between households keeps the trail.
CREATE TABLE person_moves (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id         INTEGER NOT NULL REFERENCES persons (id),
    from_household_id INTEGER,
    to_household_id   INTEGER NOT NULL,
    township_code     TEXT NOT NULL,
    at                TEXT NOT NULL,
    actor             TEXT NOT NULL
);
CREATE INDEX person_moves_person ON person_moves (person_id);
CREATE INDEX person_moves_to ON person_moves (to_household_id);

-- Amounts are fen; period is monthly or annual.
CREATE TABLE incomes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    household_id  INTEGER NOT NULL REFERENCES households (id),
    person_id     INTEGER REFERENCES persons (id),
    township_code TEXT NOT NULL,
    kind          TEXT NOT NULL,
    amount_fen    INTEGER NOT NULL,
    period        TEXT NOT NULL,
    start_month   TEXT,
    end_month     TEXT,
    note          TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL
);
CREATE INDEX incomes_household ON incomes (household_id);
CREATE INDEX incomes_person ON incomes (person_id);
CREATE INDEX incomes_scope ON incomes (township_code);

CREATE TABLE assets (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    household_id  INTEGER NOT NULL REFERENCES households (id),
    person_id     INTEGER REFERENCES persons (id),
    township_code TEXT NOT NULL,
    kind          TEXT NOT NULL,
    value_fen     INTEGER NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL
);
CREATE INDEX assets_household ON assets (household_id);
CREATE INDEX assets_person ON assets (person_id);
CREATE INDEX assets_scope ON assets (township_code);

-- Background jobs (large imports): status running|succeeded|failed.
CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL,
    status        TEXT NOT NULL,
    scope_code    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    total         INTEGER NOT NULL DEFAULT 0,
    done          INTEGER NOT NULL DEFAULT 0,
    message       TEXT NOT NULL DEFAULT '',
    result_json   TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX jobs_scope ON jobs (scope_code, status);
