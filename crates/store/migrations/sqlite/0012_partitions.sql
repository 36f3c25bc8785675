-- SQLite has no table partitioning: a city's payroll lines and audit log stay one table
-- each. The PostgreSQL migration of the same number partitions both by year.
SELECT 1;
