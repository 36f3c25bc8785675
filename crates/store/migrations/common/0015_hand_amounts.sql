-- 金额合理性 (docs/rules.md §3.4): a case whose proposed or approved amount was typed by hand
-- and differs from the calculator's keeps the reason given and the calculator's amount it
-- was compared with (NULL while the amounts are the calculator's).
ALTER TABLE cases ADD COLUMN amount_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN amount_calc_fen BIGINT;
