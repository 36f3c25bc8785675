-- Keys for distribution: every large table carries the county code (县级区划代码, the first
-- six digits) of its jurisdiction in its own column, county_code. A distributed PostgreSQL
-- shards and co-locates the tables by it, so a county's households, persons, cases,
-- enrolments, payroll and audit records live together and a county's work is answered by
-- one node (ARCHITECTURE.md, "Keys for distribution"). Every write names it explicitly —
-- a distributed engine routes a row by the value in the statement, before any trigger
-- could fill it — and a check keeps it equal to the first six digits of the row's
-- township (or, for jobs, the audit log, attachments and external lists, its scope; a
-- city-level scope gives the city's own four digits, one more group).
--
-- Each table is rewritten once: the column is added as computed from the township (filled,
-- checked and found not null in that one pass, with no dead row versions left behind, as an
-- UPDATE of every row would leave), then kept as a plain column.

ALTER TABLE households ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT households_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE households ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE persons ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT persons_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE persons ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE person_moves ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT person_moves_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE person_moves ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE incomes ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT incomes_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE incomes ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE assets ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT assets_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE assets ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE person_name_parts ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT person_name_parts_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE person_name_parts ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE cases ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT cases_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE cases ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE case_events ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT case_events_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE case_events ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE case_clocks ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT case_clocks_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE case_clocks ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE case_surveys ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT case_surveys_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE case_surveys ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE enrolments ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT enrolments_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE enrolments ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE notice_batches ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT notice_batches_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE notice_batches ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE objections ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT objections_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE objections ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE payroll_batches ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT payroll_batches_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE payroll_batches ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE payroll_lines ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT payroll_lines_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE payroll_lines ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE payroll_adjustments ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT payroll_adjustments_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE payroll_adjustments ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE payroll_returns ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT payroll_returns_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE payroll_returns ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE payment_exceptions ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT payment_exceptions_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE payment_exceptions ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE recoveries ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT recoveries_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE recoveries ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE findings ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT findings_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE findings ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE funeral_records ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT funeral_records_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE funeral_records ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE relative_declarations ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT relative_declarations_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE relative_declarations ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE repricing_batches ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT repricing_batches_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE repricing_batches ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE repricing_lines ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT repricing_lines_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE repricing_lines ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE stats_snapshots ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT stats_snapshots_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE stats_snapshots ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE office_profiles ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT office_profiles_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE office_profiles ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE office_staff ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT office_staff_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE office_staff ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE office_rooms ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT office_rooms_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE office_rooms ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE office_rules ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT office_rules_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE office_rules ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE office_equipment ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT office_equipment_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE office_equipment ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE staff_changes ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT staff_changes_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE staff_changes ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE village_assistants ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT village_assistants_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE village_assistants ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE inspections ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT inspections_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE inspections ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE rectifications ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT rectifications_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE rectifications ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE subsidies ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT subsidies_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE subsidies ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE investments ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT investments_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE investments ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE construction_plans ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(township_code, 1, 6)) STORED,
  ADD CONSTRAINT construction_plans_county CHECK (county_code = substr(township_code, 1, 6));
ALTER TABLE construction_plans ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE jobs ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(scope_code, 1, 6)) STORED,
  ADD CONSTRAINT jobs_county CHECK (county_code = substr(scope_code, 1, 6));
ALTER TABLE jobs ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE audit_log ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(scope_code, 1, 6)) STORED,
  ADD CONSTRAINT audit_log_county CHECK (county_code = substr(scope_code, 1, 6));
ALTER TABLE audit_log ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE attachments ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(scope_code, 1, 6)) STORED,
  ADD CONSTRAINT attachments_county CHECK (county_code = substr(scope_code, 1, 6));
ALTER TABLE attachments ALTER COLUMN county_code DROP EXPRESSION;

ALTER TABLE external_batches ADD COLUMN county_code TEXT COLLATE "C" NOT NULL
    GENERATED ALWAYS AS (substr(scope_code, 1, 6)) STORED,
  ADD CONSTRAINT external_batches_county CHECK (county_code = substr(scope_code, 1, 6));
ALTER TABLE external_batches ALTER COLUMN county_code DROP EXPRESSION;

-- The search's name parts carry their person's county too.
CREATE OR REPLACE FUNCTION person_name_parts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO person_name_parts (part, person_id, township_code, county_code)
    SELECT substr(n.name, g), n.id, n.township_code, n.county_code
    FROM new_persons n, generate_series(1, char_length(n.name)) g
  ; RETURN NULL
  ; END $$;
CREATE OR REPLACE FUNCTION person_name_parts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM person_name_parts k USING (
      SELECT substr(o.name, g) AS part, o.id
      FROM old_persons o JOIN new_persons n ON n.id = o.id,
        generate_series(1, char_length(o.name)) g
      WHERE o.name <> n.name OR o.township_code <> n.township_code) d
    WHERE k.part = d.part AND k.person_id = d.id
  ; INSERT INTO person_name_parts (part, person_id, township_code, county_code)
    SELECT substr(n.name, g), n.id, n.township_code, n.county_code
    FROM old_persons o JOIN new_persons n ON n.id = o.id,
      generate_series(1, char_length(n.name)) g
    WHERE o.name <> n.name OR o.township_code <> n.township_code
  ; RETURN NULL
  ; END $$;
