-- 调整标准: a re-pricing line whose enrolment the calculator cannot compute (missing facts
-- or parameters) keeps the reason and its old amount on both sides; it is listed, never
-- applied. The batch counts such lines as it counts those at 0.
ALTER TABLE repricing_lines ADD COLUMN problem TEXT;
ALTER TABLE repricing_batches ADD COLUMN problem_count BIGINT NOT NULL DEFAULT 0;
