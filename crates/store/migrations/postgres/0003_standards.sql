-- Office standardization (规范化建设), PostgreSQL twin of the SQLite migration: profiles, roster and staff changes, village assistants,
-- rooms, equipment, posted rules, construction plans, inspections, investments, subsidies,
-- city parameters, and generic attachments. Areas are integer dm² (1 m² = 100 dm²); money is
-- integer fen; dates are TEXT YYYY-MM-DD.
CREATE TABLE std_params (
    effective_from TEXT PRIMARY KEY,
    params_json    TEXT NOT NULL,
    plan_deadline  TEXT,
    updated_at     TEXT NOT NULL
);

CREATE TABLE office_profiles (
    township_code      TEXT COLLATE "C" PRIMARY KEY REFERENCES offices (township_code),
    population         BIGINT,
    kind               TEXT,
    city_street        BOOLEAN NOT NULL DEFAULT FALSE,
    contact_name       TEXT NOT NULL DEFAULT '',
    contact_phone      TEXT NOT NULL DEFAULT '',
    signage            TEXT NOT NULL DEFAULT '',
    -- Tri-state facts as integers (NULL = not recorded, 0 = no, 1 = yes) on both backends.
    policy_board       BIGINT,
    notice_board       BIGINT,
    archives_organized BIGINT,
    updated_at         TEXT NOT NULL
);

CREATE TABLE office_staff (
    id            BIGSERIAL PRIMARY KEY,
    township_code TEXT COLLATE "C" NOT NULL REFERENCES offices (township_code),
    name          TEXT NOT NULL,
    position      TEXT NOT NULL,
    is_director   BOOLEAN NOT NULL,
    full_time     BOOLEAN NOT NULL,
    since         TEXT NOT NULL,
    doc_number    TEXT NOT NULL,
    doc_date      TEXT,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    ended_on      TEXT
);
CREATE INDEX office_staff_township ON office_staff (township_code);

CREATE TABLE staff_changes (
    id            BIGSERIAL PRIMARY KEY,
    township_code TEXT COLLATE "C" NOT NULL REFERENCES offices (township_code),
    kind          TEXT NOT NULL,
    staff_id      BIGINT REFERENCES office_staff (id),
    name          TEXT NOT NULL,
    position      TEXT NOT NULL,
    is_director   BOOLEAN NOT NULL,
    full_time     BOOLEAN NOT NULL,
    effective_on  TEXT NOT NULL,
    doc_number    TEXT NOT NULL,
    doc_date      TEXT,
    reason        TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL,
    filed_by      TEXT NOT NULL,
    filed_at      TEXT NOT NULL,
    decided_by    TEXT,
    decided_at    TEXT,
    decision_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staff_changes_township ON staff_changes (township_code, id);

CREATE TABLE village_assistants (
    village_code  TEXT COLLATE "C" PRIMARY KEY REFERENCES divisions (code),
    township_code TEXT COLLATE "C" NOT NULL REFERENCES offices (township_code),
    name          TEXT NOT NULL,
    phone         TEXT NOT NULL DEFAULT '',
    updated_at    TEXT NOT NULL
);
CREATE INDEX village_assistants_township ON village_assistants (township_code);

CREATE TABLE office_rooms (
    id            BIGSERIAL PRIMARY KEY,
    township_code TEXT COLLATE "C" NOT NULL REFERENCES offices (township_code),
    kind          TEXT NOT NULL,
    area_dm2      BIGINT NOT NULL CHECK (area_dm2 >= 0),
    shared_hall   BOOLEAN NOT NULL DEFAULT FALSE,
    note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX office_rooms_township ON office_rooms (township_code);

CREATE TABLE office_equipment (
    id            BIGSERIAL PRIMARY KEY,
    township_code TEXT COLLATE "C" NOT NULL REFERENCES offices (township_code),
    kind          TEXT NOT NULL,
    count         BIGINT NOT NULL CHECK (count >= 0),
    dedicated     BOOLEAN NOT NULL,
    note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX office_equipment_township ON office_equipment (township_code);

CREATE TABLE office_rules (
    id            BIGSERIAL PRIMARY KEY,
    township_code TEXT COLLATE "C" NOT NULL REFERENCES offices (township_code),
    title         TEXT NOT NULL,
    posted_on     TEXT NOT NULL
);
CREATE INDEX office_rules_township ON office_rules (township_code);

CREATE TABLE construction_plans (
    township_code TEXT COLLATE "C" PRIMARY KEY REFERENCES offices (township_code),
    items         TEXT NOT NULL,
    budget_fen    BIGINT NOT NULL CHECK (budget_fen >= 0),
    timeline      TEXT NOT NULL,
    status        TEXT NOT NULL,
    submitted_at  TEXT NOT NULL,
    reviewed_by   TEXT,
    reviewed_at   TEXT,
    review_note   TEXT NOT NULL DEFAULT ''
);

CREATE TABLE inspections (
    id            BIGSERIAL PRIMARY KEY,
    township_code TEXT COLLATE "C" NOT NULL REFERENCES offices (township_code),
    inspectors    TEXT NOT NULL,
    inspected_on  TEXT NOT NULL,
    status        TEXT NOT NULL,
    findings      TEXT NOT NULL DEFAULT '',
    previous_id   BIGINT REFERENCES inspections (id),
    opened_by     TEXT NOT NULL,
    opened_at     TEXT NOT NULL,
    decided_at    TEXT
);
CREATE INDEX inspections_township ON inspections (township_code, id);
-- At most one open inspection per office, even under concurrent requests.
CREATE UNIQUE INDEX inspections_one_open ON inspections (township_code) WHERE status = 'open';

CREATE TABLE inspection_items (
    id            BIGSERIAL PRIMARY KEY,
    inspection_id BIGINT NOT NULL REFERENCES inspections (id),
    position      BIGINT NOT NULL,
    rule_id       TEXT,
    label         TEXT NOT NULL,
    max_score     BIGINT NOT NULL,
    auto_status   TEXT,
    score         BIGINT,
    note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX inspection_items_inspection ON inspection_items (inspection_id, position);

CREATE TABLE rectifications (
    id            BIGSERIAL PRIMARY KEY,
    inspection_id BIGINT NOT NULL REFERENCES inspections (id),
    township_code TEXT COLLATE "C" NOT NULL,
    item          TEXT NOT NULL,
    due_on        TEXT NOT NULL,
    done_on       TEXT
);
CREATE INDEX rectifications_inspection ON rectifications (inspection_id);

CREATE TABLE investments (
    id            BIGSERIAL PRIMARY KEY,
    township_code TEXT COLLATE "C" NOT NULL REFERENCES offices (township_code),
    spent_on      TEXT NOT NULL,
    item          TEXT NOT NULL,
    amount_fen    BIGINT NOT NULL CHECK (amount_fen > 0),
    doc_number    TEXT NOT NULL DEFAULT '',
    recorded_at   TEXT NOT NULL
);
CREATE INDEX investments_township ON investments (township_code);

CREATE TABLE subsidies (
    id             BIGSERIAL PRIMARY KEY,
    township_code  TEXT COLLATE "C" NOT NULL REFERENCES offices (township_code),
    inspection_id  BIGINT NOT NULL UNIQUE REFERENCES inspections (id),
    investment_fen BIGINT NOT NULL,
    percent        BIGINT NOT NULL,
    amount_fen     BIGINT NOT NULL,
    status         TEXT NOT NULL,
    disbursed_on   TEXT,
    created_at     TEXT NOT NULL
);
CREATE INDEX subsidies_township ON subsidies (township_code);

-- Files (photos) attached to any record; scope_code is the township the record belongs to.
CREATE TABLE attachments (
    id           BIGSERIAL PRIMARY KEY,
    entity_type  TEXT NOT NULL,
    entity_id    TEXT NOT NULL,
    scope_code   TEXT COLLATE "C" NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    data         BYTEA NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX attachments_entity ON attachments (entity_type, entity_id);
CREATE INDEX attachments_scope ON attachments (scope_code);
