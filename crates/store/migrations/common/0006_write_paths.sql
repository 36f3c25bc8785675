-- Cheaper index maintenance on the two million-row write paths.
--
-- Payroll lines: the batch index keyed (batch_id, status, amount_fen) made every generated
-- line land at a random place inside its batch's range (amounts vary), so a city-wide month
-- cost a random B-tree insert per line. With the line id before the amount each new line is
-- appended at the end of its batch's range, and the index still covers the batch totals.
DROP INDEX payroll_lines_batch;
CREATE INDEX payroll_lines_batch ON payroll_lines (batch_id, status, id, amount_fen);

-- Registry: indexes no query used, paid for by every person and income written.
-- * persons (name): the name search is a substring match (LIKE '%…%'), which no index serves.
-- * persons (name_pinyin): a case-insensitive LIKE cannot use a BINARY index either; the
--   pinyin search narrows by the first letter through persons (name_initials) instead.
-- * incomes / assets (township_code): they are always reached through their household or
--   person.
DROP INDEX persons_name;
DROP INDEX persons_pinyin;
DROP INDEX incomes_scope;
DROP INDEX assets_scope;

-- Cases: who opened them. 'system' for the daily tasks' 高龄津贴 proposals (drafts a clerk
-- still has to verify), so the case list can keep a first run's thousands of them apart.
ALTER TABLE cases ADD COLUMN origin TEXT NOT NULL DEFAULT 'clerk';
