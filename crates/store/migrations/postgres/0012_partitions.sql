-- The two tables that grow without end are partitioned by year (declarative partitioning):
-- payroll lines by their period (a province pays a hundred million lines a year) and the
-- audit log by its time. A year's partition is one table with its own indexes: old years
-- can be moved to cheaper storage, archived or detached whole, and a query that names a
-- period reads only its year.
--
-- * payroll_lines: RANGE (period), one partition per year ('2026-01' to '2027-01'), and a
--   DEFAULT partition for periods outside them. Every unique key carries the period (a
--   partitioned table's unique keys must): the primary key is (id, period); the re-issue
--   key (reissue_of, period) says the same as before, since a re-issue line has the period
--   of the line it re-issues. Exceptions and recoveries, which already record their line's
--   period, refer to the line by (line_id, period).
-- * audit_log: RANGE (at), one partition per year ('2026' to '2027'), and a DEFAULT
--   partition; the primary key is (seq, at). The hash chain is ordered by seq across the
--   partitions as before (`audit verify`).
--
-- This migration creates the partitions from the oldest year in the data (at most 30 years
-- back) to the year after this one; the store adds the next years as they come
-- (`minzheng_store::partitions`, on every start and before a payroll month is generated).
-- Text bounds compare bytewise ("C"), as the columns do.

ALTER TABLE payment_exceptions DROP CONSTRAINT payment_exceptions_line_id_fkey;
ALTER TABLE recoveries DROP CONSTRAINT recoveries_line_id_fkey;
ALTER SEQUENCE payroll_lines_id_seq OWNED BY NONE;
ALTER TABLE payroll_lines RENAME TO payroll_lines_before_partitions;
ALTER TABLE payroll_lines_before_partitions RENAME CONSTRAINT payroll_lines_pkey
  TO payroll_lines_before_partitions_pkey;
CREATE TABLE payroll_lines (
    LIKE payroll_lines_before_partitions INCLUDING DEFAULTS,
    PRIMARY KEY (id, period)
) PARTITION BY RANGE (period);
ALTER SEQUENCE payroll_lines_id_seq OWNED BY payroll_lines.id;

DROP INDEX audit_scope;
DROP INDEX audit_entity;
ALTER TABLE audit_log RENAME TO audit_log_before_partitions;
ALTER TABLE audit_log_before_partitions RENAME CONSTRAINT audit_log_pkey
  TO audit_log_before_partitions_pkey;
CREATE TABLE audit_log (
    seq         BIGINT NOT NULL,
    at          TEXT COLLATE "C" NOT NULL,
    actor       TEXT NOT NULL,
    actor_id    BIGINT,
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    scope_code  TEXT COLLATE "C" NOT NULL,
    before_json TEXT,
    after_json  TEXT,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    PRIMARY KEY (seq, at)
) PARTITION BY RANGE (at);

DO $$
DECLARE
  this_year INT := EXTRACT(YEAR FROM now())::INT
  ; first_year INT
  ; y INT
; BEGIN
  SELECT LEAST(this_year, GREATEST(this_year - 30,
      COALESCE(MIN(substr(period, 1, 4)) FILTER (WHERE period ~ '^[0-9]{4}-'), this_year::TEXT)::INT))
    INTO first_year FROM payroll_lines_before_partitions
  ; FOR y IN first_year .. this_year + 1 LOOP
    EXECUTE format('CREATE TABLE payroll_lines_%s PARTITION OF payroll_lines
        FOR VALUES FROM (%L) TO (%L)', y, y || '-01', (y + 1) || '-01')
  ; END LOOP
  ; SELECT LEAST(this_year, GREATEST(this_year - 30,
      COALESCE(MIN(substr(at, 1, 4)) FILTER (WHERE at ~ '^[0-9]{4}-'), this_year::TEXT)::INT))
    INTO first_year FROM audit_log_before_partitions
  ; FOR y IN first_year .. this_year + 1 LOOP
    EXECUTE format('CREATE TABLE audit_log_%s PARTITION OF audit_log
        FOR VALUES FROM (%L) TO (%L)', y, y::TEXT, (y + 1)::TEXT)
  ; END LOOP
; END $$;
CREATE TABLE payroll_lines_default PARTITION OF payroll_lines DEFAULT;
CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;

INSERT INTO payroll_lines SELECT * FROM payroll_lines_before_partitions;
DROP TABLE payroll_lines_before_partitions;
INSERT INTO audit_log SELECT * FROM audit_log_before_partitions;
DROP TABLE audit_log_before_partitions;

CREATE INDEX payroll_lines_batch ON payroll_lines (batch_id, status, id, amount_fen);
CREATE UNIQUE INDEX payroll_lines_once ON payroll_lines (beneficiary_id_number, program, period)
    WHERE kind <> 'reissue';
CREATE UNIQUE INDEX payroll_lines_reissue ON payroll_lines (reissue_of, period)
    WHERE reissue_of IS NOT NULL;
CREATE INDEX payroll_lines_adjustment ON payroll_lines (adjustment_id)
    WHERE adjustment_id IS NOT NULL;
CREATE INDEX payroll_lines_extra ON payroll_lines (batch_id, kind, amount_fen)
    WHERE kind <> 'regular';
ALTER TABLE payment_exceptions ADD CONSTRAINT payment_exceptions_line_id_fkey
    FOREIGN KEY (line_id, period) REFERENCES payroll_lines (id, period);
ALTER TABLE recoveries ADD CONSTRAINT recoveries_line_id_fkey
    FOREIGN KEY (line_id, period) REFERENCES payroll_lines (id, period);

CREATE INDEX audit_scope ON audit_log (scope_code, seq);
CREATE INDEX audit_entity ON audit_log (entity_type, entity_id, seq);
