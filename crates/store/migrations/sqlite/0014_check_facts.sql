-- The cross-checks' facts of an enrolment's ID number, kept by the database on every write
-- (docs/rules.md §12): `id_ok` is 1 when the number passes GB 11643 (18 characters, a
-- plausible birth date, the ISO 7064 MOD 11-2 check character), else 0; `id_birth` is the
-- birth date it carries (`YYYY-MM-DD`) when its shape and date are plausible, else NULL.
-- Partial indexes over the live enrolments let the checks read only the rows they find
-- (born after the month an enrolment began: the birth date sorts after that month's
-- '-99', which is past its every day).
ALTER TABLE enrolments ADD COLUMN id_ok INTEGER GENERATED ALWAYS AS (
      CASE WHEN beneficiary_id_number GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9X]' THEN
        CASE WHEN SUBSTR(beneficiary_id_number, 7, 4) BETWEEN '1900' AND '2100'
            AND SUBSTR(beneficiary_id_number, 11, 2) BETWEEN '01' AND '12'
            AND SUBSTR(beneficiary_id_number, 13, 2) BETWEEN '01' AND '31'
            AND SUBSTR('10X98765432', (
                7 * CAST(SUBSTR(beneficiary_id_number, 1, 1) AS INTEGER) +
                9 * CAST(SUBSTR(beneficiary_id_number, 2, 1) AS INTEGER) +
                10 * CAST(SUBSTR(beneficiary_id_number, 3, 1) AS INTEGER) +
                5 * CAST(SUBSTR(beneficiary_id_number, 4, 1) AS INTEGER) +
                8 * CAST(SUBSTR(beneficiary_id_number, 5, 1) AS INTEGER) +
                4 * CAST(SUBSTR(beneficiary_id_number, 6, 1) AS INTEGER) +
                2 * CAST(SUBSTR(beneficiary_id_number, 7, 1) AS INTEGER) +
                1 * CAST(SUBSTR(beneficiary_id_number, 8, 1) AS INTEGER) +
                6 * CAST(SUBSTR(beneficiary_id_number, 9, 1) AS INTEGER) +
                3 * CAST(SUBSTR(beneficiary_id_number, 10, 1) AS INTEGER) +
                7 * CAST(SUBSTR(beneficiary_id_number, 11, 1) AS INTEGER) +
                9 * CAST(SUBSTR(beneficiary_id_number, 12, 1) AS INTEGER) +
                10 * CAST(SUBSTR(beneficiary_id_number, 13, 1) AS INTEGER) +
                5 * CAST(SUBSTR(beneficiary_id_number, 14, 1) AS INTEGER) +
                8 * CAST(SUBSTR(beneficiary_id_number, 15, 1) AS INTEGER) +
                4 * CAST(SUBSTR(beneficiary_id_number, 16, 1) AS INTEGER) +
                2 * CAST(SUBSTR(beneficiary_id_number, 17, 1) AS INTEGER)) % 11 + 1, 1) = SUBSTR(beneficiary_id_number, 18, 1) THEN 1 ELSE 0 END
      ELSE 0 END) VIRTUAL;
ALTER TABLE enrolments ADD COLUMN id_birth TEXT GENERATED ALWAYS AS (
      CASE WHEN beneficiary_id_number GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9X]' THEN
        CASE WHEN SUBSTR(beneficiary_id_number, 7, 4) BETWEEN '1900' AND '2100'
            AND SUBSTR(beneficiary_id_number, 11, 2) BETWEEN '01' AND '12'
            AND SUBSTR(beneficiary_id_number, 13, 2) BETWEEN '01' AND '31'
          THEN SUBSTR(beneficiary_id_number, 7, 4) || '-' || SUBSTR(beneficiary_id_number, 11, 2) || '-' || SUBSTR(beneficiary_id_number, 13, 2) END
      END) VIRTUAL;

CREATE INDEX enrolments_bad_id ON enrolments (beneficiary_id_number)
    WHERE status IN ('active', 'grace', 'suspended') AND id_ok = 0;
CREATE INDEX enrolments_birth ON enrolments (id_birth)
    WHERE status IN ('active', 'grace', 'suspended');
CREATE INDEX enrolments_old_age_birth ON enrolments (id_birth)
    WHERE status IN ('active', 'grace', 'suspended') AND program = 'old_age_allowance';
CREATE INDEX enrolments_born_after_start ON enrolments (id)
    WHERE status IN ('active', 'grace', 'suspended') AND id_birth > start_month || '-99';

-- Deaths the registry knows without a funeral record.
CREATE INDEX persons_deceased ON persons (id_number, status_date) WHERE status = 'deceased';

-- Re-issues and top-ups by beneficiary (the once index leaves them out): the
-- paid-after-death check reads them from the deaths.
CREATE INDEX payroll_lines_beside_once ON payroll_lines (beneficiary_id_number, period)
    WHERE kind IN ('reissue', 'top_up');
