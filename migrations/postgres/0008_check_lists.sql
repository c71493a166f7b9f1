-- The SQLite migration of this version rewrites CHECK constraints of the
-- form `x IN (a, b, c)`, which SQLite checks through a temporary index built
-- for every insert, as comparisons joined by OR. PostgreSQL checks such a
-- list in place, so nothing changes here; the version keeps both engines'
-- migrations in step.
SELECT 1;
