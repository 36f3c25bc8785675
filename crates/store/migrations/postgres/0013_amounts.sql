-- 按年标准发放: an annual amount paid monthly (优抚) is kept as its monthly share
-- (monthly_fen = floor(年标准 ÷ 12)) and the year's remainder, which December adds, so the
-- twelve payments of a year add up to the annual figure exactly.
ALTER TABLE enrolments ADD COLUMN year_end_extra_fen BIGINT NOT NULL DEFAULT 0;

-- 调标批次: re-pricing batches (docs/rules.md §9). One pending batch at most per reason,
-- program, township and month (more may follow once one is signed off or voided); its
-- lines carry the old and new monthly amounts and the calculator's explanation. A line's
-- once_month is its month while the batch is pending or applied and NULL once the batch is
-- voided, so an enrolment is re-priced once per month (NULLs are distinct in both engines).
CREATE TABLE repricing_batches (
    id            BIGSERIAL PRIMARY KEY,
    reason        TEXT NOT NULL,
    program       TEXT NOT NULL,
    township_code TEXT COLLATE "C" NOT NULL,
    month         TEXT NOT NULL,
    status        TEXT NOT NULL,
    line_count    BIGINT NOT NULL DEFAULT 0,
    zero_count    BIGINT NOT NULL DEFAULT 0,
    old_total_fen BIGINT NOT NULL DEFAULT 0,
    new_total_fen BIGINT NOT NULL DEFAULT 0,
    prepared_by   TEXT NOT NULL,
    prepared_at   TEXT NOT NULL,
    decided_by    TEXT,
    decided_at    TEXT
);
CREATE UNIQUE INDEX repricing_batches_pending
    ON repricing_batches (reason, program, township_code, month) WHERE status = 'pending';
CREATE INDEX repricing_batches_scope ON repricing_batches (township_code, month);

CREATE TABLE repricing_lines (
    id                    BIGSERIAL PRIMARY KEY,
    batch_id              BIGINT NOT NULL REFERENCES repricing_batches (id),
    enrolment_id          BIGINT NOT NULL REFERENCES enrolments (id),
    township_code         TEXT COLLATE "C" NOT NULL,
    village_code          TEXT COLLATE "C" NOT NULL,
    beneficiary_name      TEXT NOT NULL,
    beneficiary_id_number TEXT NOT NULL,
    old_fen               BIGINT NOT NULL,
    new_fen               BIGINT NOT NULL,
    explanation_json      TEXT NOT NULL,
    once_month            TEXT
);
CREATE INDEX repricing_lines_batch ON repricing_lines (batch_id, id);
CREATE UNIQUE INDEX repricing_lines_once ON repricing_lines (enrolment_id, once_month);

-- 调标补差 (top-up): when a re-pricing raises the amount of a month already paid, the
-- difference is paid as an approved back-pay request of kind 'top_up', whose line pays a
-- month that has its regular line already. The once index keeps one regular or back-pay
-- line per beneficiary, program and month; top-ups and re-issues stand beside it, and a
-- request is made once per enrolment, month and kind.
ALTER TABLE payroll_adjustments ADD COLUMN kind TEXT NOT NULL DEFAULT 'back_pay';
DROP INDEX payroll_adjustments_once;
CREATE UNIQUE INDEX payroll_adjustments_once ON payroll_adjustments (enrolment_id, period, kind)
    WHERE status <> 'rejected';
DROP INDEX payroll_lines_once;
CREATE UNIQUE INDEX payroll_lines_once ON payroll_lines (beneficiary_id_number, program, period)
    WHERE kind NOT IN ('reissue', 'top_up');
