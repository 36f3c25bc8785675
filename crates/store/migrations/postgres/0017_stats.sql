-- 统计月报 (docs/stats.md). A locked month keeps each township's figures as they were when
-- the city locked it (facts_json: the township's `Facts`), so later edits of the ledgers do
-- not change a report already submitted; reopening deletes them (and is audited).
CREATE TABLE stats_locks (
    month     TEXT COLLATE "C" PRIMARY KEY,
    locked_by TEXT NOT NULL,
    locked_at TEXT NOT NULL
);
CREATE TABLE stats_snapshots (
    month         TEXT COLLATE "C" NOT NULL,
    township_code TEXT COLLATE "C" NOT NULL,
    facts_json    TEXT NOT NULL,
    PRIMARY KEY (month, township_code)
);

-- The month's enrolment figures are one pass over this index, in (program, township)
-- order, read without visiting the table (the beneficiary's ID number: the 高龄 bands by its birth date).
CREATE INDEX enrolments_stats ON enrolments (program, township_code)
    INCLUDE (start_month, end_month, status, payment, monthly_fen, year_end_extra_fen,
             grace_until, case_id, household_id, beneficiary_id_number);
-- The persons of the 低保 households: looked up by household, every column the caseload
-- counts in the index.
CREATE INDEX persons_stats ON persons (household_id)
    INCLUDE (counted, status, status_date, gender, birth_date, disability_type, work_capacity);
