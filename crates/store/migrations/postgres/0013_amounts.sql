-- 按年标准发放: an annual amount paid monthly (优抚) is kept as its monthly share
-- (monthly_fen = floor(年标准 ÷ 12)) and the year's remainder, which December adds, so the
-- twelve payments of a year add up to the annual figure exactly.
ALTER TABLE enrolments ADD COLUMN year_end_extra_fen BIGINT NOT NULL DEFAULT 0;
