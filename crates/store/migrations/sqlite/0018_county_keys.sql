-- Keys for distribution (SQLite: the same column, its rule kept by triggers, since a
-- column added to a table cannot carry a check of other columns): every large table carries the county code (县级区划代码, the first
-- six digits) of its jurisdiction in its own column, county_code. A distributed PostgreSQL
-- shards and co-locates the tables by it, so a county's households, persons, cases,
-- enrolments, payroll and audit records live together and a county's work is answered by
-- one node (ARCHITECTURE.md, "Keys for distribution"). Every write names it explicitly —
-- a distributed engine routes a row by the value in the statement, before any trigger
-- could fill it — and a check keeps it equal to the first six digits of the row's
-- township (or, for jobs, the audit log, attachments and external lists, its scope; a
-- city-level scope gives the city's own four digits, one more group).

ALTER TABLE households ADD COLUMN county_code TEXT;
UPDATE households SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER households_county_insert BEFORE INSERT ON households
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'households.county_code'); END;
CREATE TRIGGER households_county_update BEFORE UPDATE OF county_code, township_code ON households
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'households.county_code'); END;

ALTER TABLE persons ADD COLUMN county_code TEXT;
UPDATE persons SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER persons_county_insert BEFORE INSERT ON persons
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'persons.county_code'); END;
CREATE TRIGGER persons_county_update BEFORE UPDATE OF county_code, township_code ON persons
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'persons.county_code'); END;

ALTER TABLE person_moves ADD COLUMN county_code TEXT;
UPDATE person_moves SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER person_moves_county_insert BEFORE INSERT ON person_moves
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'person_moves.county_code'); END;
CREATE TRIGGER person_moves_county_update BEFORE UPDATE OF county_code, township_code ON person_moves
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'person_moves.county_code'); END;

ALTER TABLE incomes ADD COLUMN county_code TEXT;
UPDATE incomes SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER incomes_county_insert BEFORE INSERT ON incomes
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'incomes.county_code'); END;
CREATE TRIGGER incomes_county_update BEFORE UPDATE OF county_code, township_code ON incomes
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'incomes.county_code'); END;

ALTER TABLE assets ADD COLUMN county_code TEXT;
UPDATE assets SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER assets_county_insert BEFORE INSERT ON assets
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'assets.county_code'); END;
CREATE TRIGGER assets_county_update BEFORE UPDATE OF county_code, township_code ON assets
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'assets.county_code'); END;

ALTER TABLE person_name_parts ADD COLUMN county_code TEXT;
UPDATE person_name_parts SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER person_name_parts_county_insert BEFORE INSERT ON person_name_parts
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'person_name_parts.county_code'); END;
CREATE TRIGGER person_name_parts_county_update BEFORE UPDATE OF county_code, township_code ON person_name_parts
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'person_name_parts.county_code'); END;

ALTER TABLE cases ADD COLUMN county_code TEXT;
UPDATE cases SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER cases_county_insert BEFORE INSERT ON cases
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'cases.county_code'); END;
CREATE TRIGGER cases_county_update BEFORE UPDATE OF county_code, township_code ON cases
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'cases.county_code'); END;

ALTER TABLE case_events ADD COLUMN county_code TEXT;
UPDATE case_events SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER case_events_county_insert BEFORE INSERT ON case_events
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'case_events.county_code'); END;
CREATE TRIGGER case_events_county_update BEFORE UPDATE OF county_code, township_code ON case_events
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'case_events.county_code'); END;

ALTER TABLE case_clocks ADD COLUMN county_code TEXT;
UPDATE case_clocks SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER case_clocks_county_insert BEFORE INSERT ON case_clocks
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'case_clocks.county_code'); END;
CREATE TRIGGER case_clocks_county_update BEFORE UPDATE OF county_code, township_code ON case_clocks
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'case_clocks.county_code'); END;

ALTER TABLE case_surveys ADD COLUMN county_code TEXT;
UPDATE case_surveys SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER case_surveys_county_insert BEFORE INSERT ON case_surveys
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'case_surveys.county_code'); END;
CREATE TRIGGER case_surveys_county_update BEFORE UPDATE OF county_code, township_code ON case_surveys
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'case_surveys.county_code'); END;

ALTER TABLE enrolments ADD COLUMN county_code TEXT;
UPDATE enrolments SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER enrolments_county_insert BEFORE INSERT ON enrolments
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'enrolments.county_code'); END;
CREATE TRIGGER enrolments_county_update BEFORE UPDATE OF county_code, township_code ON enrolments
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'enrolments.county_code'); END;

ALTER TABLE notice_batches ADD COLUMN county_code TEXT;
UPDATE notice_batches SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER notice_batches_county_insert BEFORE INSERT ON notice_batches
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'notice_batches.county_code'); END;
CREATE TRIGGER notice_batches_county_update BEFORE UPDATE OF county_code, township_code ON notice_batches
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'notice_batches.county_code'); END;

ALTER TABLE objections ADD COLUMN county_code TEXT;
UPDATE objections SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER objections_county_insert BEFORE INSERT ON objections
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'objections.county_code'); END;
CREATE TRIGGER objections_county_update BEFORE UPDATE OF county_code, township_code ON objections
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'objections.county_code'); END;

ALTER TABLE payroll_batches ADD COLUMN county_code TEXT;
UPDATE payroll_batches SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER payroll_batches_county_insert BEFORE INSERT ON payroll_batches
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'payroll_batches.county_code'); END;
CREATE TRIGGER payroll_batches_county_update BEFORE UPDATE OF county_code, township_code ON payroll_batches
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'payroll_batches.county_code'); END;

ALTER TABLE payroll_lines ADD COLUMN county_code TEXT;
UPDATE payroll_lines SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER payroll_lines_county_insert BEFORE INSERT ON payroll_lines
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'payroll_lines.county_code'); END;
CREATE TRIGGER payroll_lines_county_update BEFORE UPDATE OF county_code, township_code ON payroll_lines
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'payroll_lines.county_code'); END;

ALTER TABLE payroll_adjustments ADD COLUMN county_code TEXT;
UPDATE payroll_adjustments SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER payroll_adjustments_county_insert BEFORE INSERT ON payroll_adjustments
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'payroll_adjustments.county_code'); END;
CREATE TRIGGER payroll_adjustments_county_update BEFORE UPDATE OF county_code, township_code ON payroll_adjustments
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'payroll_adjustments.county_code'); END;

ALTER TABLE payroll_returns ADD COLUMN county_code TEXT;
UPDATE payroll_returns SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER payroll_returns_county_insert BEFORE INSERT ON payroll_returns
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'payroll_returns.county_code'); END;
CREATE TRIGGER payroll_returns_county_update BEFORE UPDATE OF county_code, township_code ON payroll_returns
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'payroll_returns.county_code'); END;

ALTER TABLE payment_exceptions ADD COLUMN county_code TEXT;
UPDATE payment_exceptions SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER payment_exceptions_county_insert BEFORE INSERT ON payment_exceptions
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'payment_exceptions.county_code'); END;
CREATE TRIGGER payment_exceptions_county_update BEFORE UPDATE OF county_code, township_code ON payment_exceptions
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'payment_exceptions.county_code'); END;

ALTER TABLE recoveries ADD COLUMN county_code TEXT;
UPDATE recoveries SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER recoveries_county_insert BEFORE INSERT ON recoveries
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'recoveries.county_code'); END;
CREATE TRIGGER recoveries_county_update BEFORE UPDATE OF county_code, township_code ON recoveries
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'recoveries.county_code'); END;

ALTER TABLE findings ADD COLUMN county_code TEXT;
UPDATE findings SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER findings_county_insert BEFORE INSERT ON findings
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'findings.county_code'); END;
CREATE TRIGGER findings_county_update BEFORE UPDATE OF county_code, township_code ON findings
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'findings.county_code'); END;

ALTER TABLE funeral_records ADD COLUMN county_code TEXT;
UPDATE funeral_records SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER funeral_records_county_insert BEFORE INSERT ON funeral_records
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'funeral_records.county_code'); END;
CREATE TRIGGER funeral_records_county_update BEFORE UPDATE OF county_code, township_code ON funeral_records
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'funeral_records.county_code'); END;

ALTER TABLE relative_declarations ADD COLUMN county_code TEXT;
UPDATE relative_declarations SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER relative_declarations_county_insert BEFORE INSERT ON relative_declarations
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'relative_declarations.county_code'); END;
CREATE TRIGGER relative_declarations_county_update BEFORE UPDATE OF county_code, township_code ON relative_declarations
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'relative_declarations.county_code'); END;

ALTER TABLE repricing_batches ADD COLUMN county_code TEXT;
UPDATE repricing_batches SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER repricing_batches_county_insert BEFORE INSERT ON repricing_batches
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'repricing_batches.county_code'); END;
CREATE TRIGGER repricing_batches_county_update BEFORE UPDATE OF county_code, township_code ON repricing_batches
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'repricing_batches.county_code'); END;

ALTER TABLE repricing_lines ADD COLUMN county_code TEXT;
UPDATE repricing_lines SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER repricing_lines_county_insert BEFORE INSERT ON repricing_lines
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'repricing_lines.county_code'); END;
CREATE TRIGGER repricing_lines_county_update BEFORE UPDATE OF county_code, township_code ON repricing_lines
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'repricing_lines.county_code'); END;

ALTER TABLE stats_snapshots ADD COLUMN county_code TEXT;
UPDATE stats_snapshots SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER stats_snapshots_county_insert BEFORE INSERT ON stats_snapshots
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'stats_snapshots.county_code'); END;
CREATE TRIGGER stats_snapshots_county_update BEFORE UPDATE OF county_code, township_code ON stats_snapshots
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'stats_snapshots.county_code'); END;

ALTER TABLE office_profiles ADD COLUMN county_code TEXT;
UPDATE office_profiles SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER office_profiles_county_insert BEFORE INSERT ON office_profiles
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'office_profiles.county_code'); END;
CREATE TRIGGER office_profiles_county_update BEFORE UPDATE OF county_code, township_code ON office_profiles
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'office_profiles.county_code'); END;

ALTER TABLE office_staff ADD COLUMN county_code TEXT;
UPDATE office_staff SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER office_staff_county_insert BEFORE INSERT ON office_staff
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'office_staff.county_code'); END;
CREATE TRIGGER office_staff_county_update BEFORE UPDATE OF county_code, township_code ON office_staff
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'office_staff.county_code'); END;

ALTER TABLE office_rooms ADD COLUMN county_code TEXT;
UPDATE office_rooms SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER office_rooms_county_insert BEFORE INSERT ON office_rooms
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'office_rooms.county_code'); END;
CREATE TRIGGER office_rooms_county_update BEFORE UPDATE OF county_code, township_code ON office_rooms
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'office_rooms.county_code'); END;

ALTER TABLE office_rules ADD COLUMN county_code TEXT;
UPDATE office_rules SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER office_rules_county_insert BEFORE INSERT ON office_rules
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'office_rules.county_code'); END;
CREATE TRIGGER office_rules_county_update BEFORE UPDATE OF county_code, township_code ON office_rules
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'office_rules.county_code'); END;

ALTER TABLE office_equipment ADD COLUMN county_code TEXT;
UPDATE office_equipment SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER office_equipment_county_insert BEFORE INSERT ON office_equipment
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'office_equipment.county_code'); END;
CREATE TRIGGER office_equipment_county_update BEFORE UPDATE OF county_code, township_code ON office_equipment
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'office_equipment.county_code'); END;

ALTER TABLE staff_changes ADD COLUMN county_code TEXT;
UPDATE staff_changes SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER staff_changes_county_insert BEFORE INSERT ON staff_changes
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'staff_changes.county_code'); END;
CREATE TRIGGER staff_changes_county_update BEFORE UPDATE OF county_code, township_code ON staff_changes
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'staff_changes.county_code'); END;

ALTER TABLE village_assistants ADD COLUMN county_code TEXT;
UPDATE village_assistants SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER village_assistants_county_insert BEFORE INSERT ON village_assistants
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'village_assistants.county_code'); END;
CREATE TRIGGER village_assistants_county_update BEFORE UPDATE OF county_code, township_code ON village_assistants
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'village_assistants.county_code'); END;

ALTER TABLE inspections ADD COLUMN county_code TEXT;
UPDATE inspections SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER inspections_county_insert BEFORE INSERT ON inspections
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'inspections.county_code'); END;
CREATE TRIGGER inspections_county_update BEFORE UPDATE OF county_code, township_code ON inspections
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'inspections.county_code'); END;

ALTER TABLE rectifications ADD COLUMN county_code TEXT;
UPDATE rectifications SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER rectifications_county_insert BEFORE INSERT ON rectifications
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'rectifications.county_code'); END;
CREATE TRIGGER rectifications_county_update BEFORE UPDATE OF county_code, township_code ON rectifications
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'rectifications.county_code'); END;

ALTER TABLE subsidies ADD COLUMN county_code TEXT;
UPDATE subsidies SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER subsidies_county_insert BEFORE INSERT ON subsidies
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'subsidies.county_code'); END;
CREATE TRIGGER subsidies_county_update BEFORE UPDATE OF county_code, township_code ON subsidies
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'subsidies.county_code'); END;

ALTER TABLE investments ADD COLUMN county_code TEXT;
UPDATE investments SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER investments_county_insert BEFORE INSERT ON investments
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'investments.county_code'); END;
CREATE TRIGGER investments_county_update BEFORE UPDATE OF county_code, township_code ON investments
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'investments.county_code'); END;

ALTER TABLE construction_plans ADD COLUMN county_code TEXT;
UPDATE construction_plans SET county_code = substr(township_code, 1, 6);
CREATE TRIGGER construction_plans_county_insert BEFORE INSERT ON construction_plans
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'construction_plans.county_code'); END;
CREATE TRIGGER construction_plans_county_update BEFORE UPDATE OF county_code, township_code ON construction_plans
  WHEN NEW.county_code IS NOT substr(NEW.township_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'construction_plans.county_code'); END;

ALTER TABLE jobs ADD COLUMN county_code TEXT;
UPDATE jobs SET county_code = substr(scope_code, 1, 6);
CREATE TRIGGER jobs_county_insert BEFORE INSERT ON jobs
  WHEN NEW.county_code IS NOT substr(NEW.scope_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'jobs.county_code'); END;
CREATE TRIGGER jobs_county_update BEFORE UPDATE OF county_code, scope_code ON jobs
  WHEN NEW.county_code IS NOT substr(NEW.scope_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'jobs.county_code'); END;

ALTER TABLE audit_log ADD COLUMN county_code TEXT;
UPDATE audit_log SET county_code = substr(scope_code, 1, 6);
CREATE TRIGGER audit_log_county_insert BEFORE INSERT ON audit_log
  WHEN NEW.county_code IS NOT substr(NEW.scope_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'audit_log.county_code'); END;
CREATE TRIGGER audit_log_county_update BEFORE UPDATE OF county_code, scope_code ON audit_log
  WHEN NEW.county_code IS NOT substr(NEW.scope_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'audit_log.county_code'); END;

ALTER TABLE attachments ADD COLUMN county_code TEXT;
UPDATE attachments SET county_code = substr(scope_code, 1, 6);
CREATE TRIGGER attachments_county_insert BEFORE INSERT ON attachments
  WHEN NEW.county_code IS NOT substr(NEW.scope_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'attachments.county_code'); END;
CREATE TRIGGER attachments_county_update BEFORE UPDATE OF county_code, scope_code ON attachments
  WHEN NEW.county_code IS NOT substr(NEW.scope_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'attachments.county_code'); END;

ALTER TABLE external_batches ADD COLUMN county_code TEXT;
UPDATE external_batches SET county_code = substr(scope_code, 1, 6);
CREATE TRIGGER external_batches_county_insert BEFORE INSERT ON external_batches
  WHEN NEW.county_code IS NOT substr(NEW.scope_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'external_batches.county_code'); END;
CREATE TRIGGER external_batches_county_update BEFORE UPDATE OF county_code, scope_code ON external_batches
  WHEN NEW.county_code IS NOT substr(NEW.scope_code, 1, 6)
  BEGIN SELECT RAISE(ABORT, 'external_batches.county_code'); END;

-- The search's name parts carry their person's county too.
DROP TRIGGER person_name_parts_insert;
DROP TRIGGER person_name_parts_update;
CREATE TRIGGER person_name_parts_insert AFTER INSERT ON persons BEGIN
  INSERT INTO person_name_parts (part, person_id, township_code, county_code)
    SELECT substr(NEW.name, n), NEW.id, NEW.township_code, NEW.county_code
    FROM name_positions WHERE n <= length(NEW.name); END;
CREATE TRIGGER person_name_parts_update AFTER UPDATE OF name, township_code ON persons
  WHEN OLD.name IS NOT NEW.name OR OLD.township_code IS NOT NEW.township_code BEGIN
  DELETE FROM person_name_parts WHERE person_id = OLD.id
    AND part IN (SELECT substr(OLD.name, n) FROM name_positions WHERE n <= length(OLD.name))
  ; INSERT INTO person_name_parts (part, person_id, township_code, county_code)
    SELECT substr(NEW.name, n), NEW.id, NEW.township_code, NEW.county_code
    FROM name_positions WHERE n <= length(NEW.name); END;
