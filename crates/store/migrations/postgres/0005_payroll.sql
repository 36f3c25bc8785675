-- Monthly payroll (资金发放): batches per program × township × month, their lines, back pay
-- (补发), bank file templates, imported return files (回盘) and payment exceptions (退票).
-- Money is integer fen; months TEXT YYYY-MM. Every scoped table carries township_code.

-- 银行代发文件模板. columns: comma-separated keys (see payroll_files.rs); format csv | xlsx;
-- encoding utf-8 | gbk (csv); amount_unit yuan | fen; file_name: a pattern with
-- {bank} {batch_no} {period} {township} {program} {ext}.
CREATE TABLE bank_templates (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    format      TEXT NOT NULL,
    encoding    TEXT NOT NULL DEFAULT 'utf-8',
    columns     TEXT NOT NULL,
    totals_line BOOLEAN NOT NULL DEFAULT FALSE,
    amount_unit TEXT NOT NULL DEFAULT 'yuan',
    file_name   TEXT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at  TEXT NOT NULL
);
CREATE UNIQUE INDEX bank_templates_code ON bank_templates (code);
INSERT INTO bank_templates (code, name, format, encoding, columns, totals_line, amount_unit, file_name, updated_at)
VALUES ('rcb-gbk', '农村商业银行（CSV，GBK，带合计行）', 'csv', 'gbk',
        'batch_no,line_no,item,period,division,name,id_number,account,amount,remark', TRUE, 'yuan',
        '{bank}_{batch_no}.{ext}', '2026-01-01T00:00:00.000000Z');
INSERT INTO bank_templates (code, name, format, encoding, columns, totals_line, amount_unit, file_name, updated_at)
VALUES ('psbc-xlsx', '邮政储蓄银行（Excel）', 'xlsx', 'utf-8',
        'line_no,batch_no,item_name,period,division,name,id_number,bank,account,amount,remark', TRUE, 'yuan',
        '{township}{program}{period}代发.{ext}', '2026-01-01T00:00:00.000000Z');
INSERT INTO bank_templates (code, name, format, encoding, columns, totals_line, amount_unit, file_name, updated_at)
VALUES ('utf8-csv', '通用（CSV，UTF-8，金额单位分，无合计行）', 'csv', 'utf-8',
        'batch_no,line_no,item,period,division,name,id_number,account,amount,remark', FALSE, 'fen',
        'payroll_{batch_no}.{ext}', '2026-01-01T00:00:00.000000Z');

-- 发放批次: one per program × township × month (the unique key makes generation
-- idempotent). status draft | signed_off | exported | reconciled | closed. generation is the
-- token of the run that last (re)generated its lines. The counters are kept by generation
-- and return imports, so the funds ledger is a GROUP BY over batches.
CREATE TABLE payroll_batches (
    id             BIGSERIAL PRIMARY KEY,
    batch_no       TEXT COLLATE "C" NOT NULL,
    program        TEXT NOT NULL,
    township_code  TEXT COLLATE "C" NOT NULL,
    month          TEXT COLLATE "C" NOT NULL,
    status         TEXT NOT NULL,
    generation     TEXT NOT NULL,
    line_count     BIGINT NOT NULL DEFAULT 0,
    planned_fen    BIGINT NOT NULL DEFAULT 0,
    back_pay_fen   BIGINT NOT NULL DEFAULT 0,
    reissue_count  BIGINT NOT NULL DEFAULT 0,
    reissue_fen    BIGINT NOT NULL DEFAULT 0,
    returned_count BIGINT NOT NULL DEFAULT 0,
    paid_count     BIGINT NOT NULL DEFAULT 0,
    paid_fen       BIGINT NOT NULL DEFAULT 0,
    failed_count   BIGINT NOT NULL DEFAULT 0,
    failed_fen     BIGINT NOT NULL DEFAULT 0,
    generated_by   TEXT NOT NULL,
    generated_at   TEXT NOT NULL,
    signed_off_by  TEXT,
    signed_off_at  TEXT,
    exported_at    TEXT,
    export_count   BIGINT NOT NULL DEFAULT 0,
    reconciled_at  TEXT,
    closed_at      TEXT,
    updated_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX payroll_batches_key ON payroll_batches (program, township_code, month);
CREATE UNIQUE INDEX payroll_batches_no ON payroll_batches (batch_no);
CREATE INDEX payroll_batches_scope ON payroll_batches (township_code, month);
CREATE INDEX payroll_batches_month ON payroll_batches (month, program);
CREATE INDEX payroll_batches_generation ON payroll_batches (generation);

-- 发放明细: a snapshot of whom to pay, where and how much. kind regular | back_pay | reissue;
-- period is the month paid for. status planned | paid | failed.
-- The hard guarantee against paying twice: one non-reissue line per (beneficiary, program,
-- period), and each failed line re-issued at most once.
-- enrolment_id carries no foreign key: lines are snapshots, and the per-row lookup would
-- cost the million-line generation a second index probe. On PostgreSQL batch_id has none
-- either: its per-row trigger cost 2.5 s of a million-line generation. Lines are only
-- inserted by joining their batch in the same transaction, and only empty batches are
-- ever deleted (SQLite keeps the cheap foreign key as a check of that).
CREATE TABLE payroll_lines (
    id                    BIGSERIAL PRIMARY KEY,
    batch_id              BIGINT NOT NULL,
    kind                  TEXT NOT NULL,
    program               TEXT NOT NULL,
    period                TEXT COLLATE "C" NOT NULL,
    enrolment_id          BIGINT NOT NULL,
    township_code         TEXT COLLATE "C" NOT NULL,
    village_code          TEXT COLLATE "C" NOT NULL,
    beneficiary_name      TEXT NOT NULL,
    beneficiary_id_number TEXT NOT NULL,
    bank_name             TEXT NOT NULL,
    account_number        TEXT NOT NULL,
    account_holder        TEXT NOT NULL,
    amount_fen            BIGINT NOT NULL,
    adjustment_id         BIGINT,
    reissue_of            BIGINT,
    status                TEXT NOT NULL DEFAULT 'planned',
    fail_reason           TEXT,
    bank_txn_id           TEXT,
    returned_at           TEXT
);
CREATE INDEX payroll_lines_batch ON payroll_lines (batch_id, status, amount_fen);
CREATE UNIQUE INDEX payroll_lines_once ON payroll_lines (beneficiary_id_number, program, period)
    WHERE kind <> 'reissue';
CREATE UNIQUE INDEX payroll_lines_reissue ON payroll_lines (reissue_of) WHERE reissue_of IS NOT NULL;
CREATE INDEX payroll_lines_adjustment ON payroll_lines (adjustment_id) WHERE adjustment_id IS NOT NULL;
-- Back-pay and re-issue lines per batch (few), so a batch's totals by kind need no table scan.
CREATE INDEX payroll_lines_extra ON payroll_lines (batch_id, kind, amount_fen) WHERE kind <> 'regular';

-- 补发: an amount owed for a past month, requested by staff and approved by the director;
-- the next batch generated for its program and township pays it (line_id).
-- status pending | approved | included | rejected.
CREATE TABLE payroll_adjustments (
    id            BIGSERIAL PRIMARY KEY,
    enrolment_id  BIGINT NOT NULL REFERENCES enrolments (id),
    program       TEXT NOT NULL,
    township_code TEXT COLLATE "C" NOT NULL,
    period        TEXT COLLATE "C" NOT NULL,
    amount_fen    BIGINT NOT NULL,
    reason        TEXT NOT NULL,
    case_id       BIGINT,
    status        TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    requested_at  TEXT NOT NULL,
    decided_by    TEXT,
    decided_at    TEXT,
    line_id       BIGINT
);
CREATE UNIQUE INDEX payroll_adjustments_once ON payroll_adjustments (enrolment_id, period)
    WHERE status <> 'rejected';
CREATE INDEX payroll_adjustments_due ON payroll_adjustments (status, township_code, program);

-- 回盘文件: each accepted return file.
CREATE TABLE payroll_returns (
    id            BIGSERIAL PRIMARY KEY,
    batch_id      BIGINT NOT NULL REFERENCES payroll_batches (id),
    township_code TEXT COLLATE "C" NOT NULL,
    file_name     TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    lines         BIGINT NOT NULL,
    paid_count    BIGINT NOT NULL,
    paid_fen      BIGINT NOT NULL,
    failed_count  BIGINT NOT NULL,
    failed_fen    BIGINT NOT NULL,
    imported_by   TEXT NOT NULL,
    imported_at   TEXT NOT NULL
);
CREATE INDEX payroll_returns_batch ON payroll_returns (batch_id);

-- 退票: a failed line. status open → ready (the clerk corrected the account) → reissued
-- (a later batch carries the re-issue line), or cancelled.
CREATE TABLE payment_exceptions (
    id              BIGSERIAL PRIMARY KEY,
    line_id         BIGINT NOT NULL REFERENCES payroll_lines (id),
    batch_id        BIGINT NOT NULL,
    batch_month     TEXT COLLATE "C" NOT NULL,
    program         TEXT NOT NULL,
    township_code   TEXT COLLATE "C" NOT NULL,
    period          TEXT COLLATE "C" NOT NULL,
    fail_reason     TEXT NOT NULL,
    status          TEXT NOT NULL,
    bank_name       TEXT,
    account_number  TEXT,
    account_holder  TEXT,
    note            TEXT NOT NULL DEFAULT '',
    reissue_line_id BIGINT,
    created_at      TEXT NOT NULL,
    corrected_by    TEXT,
    corrected_at    TEXT,
    updated_at      TEXT NOT NULL
);
CREATE UNIQUE INDEX payment_exceptions_line ON payment_exceptions (line_id);
CREATE INDEX payment_exceptions_scope ON payment_exceptions (township_code, status);
CREATE INDEX payment_exceptions_due ON payment_exceptions (status, program, township_code);
