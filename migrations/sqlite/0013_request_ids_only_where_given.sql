-- The uniqueness of a message's request id (per account) was a table
-- constraint, whose index holds an entry for every message, also for each
-- of those that have no request id (most of them, where a client logs
-- messages without one). Every insert paid for that entry: measured as 16%
-- of the writer's instructions while ingesting messages without request ids.
-- A partial index enforces the same rule (NULLs never clash) and holds only
-- the messages that have one. Lookups by request id compare it with `=`,
-- which implies it is not NULL, so they use the partial index.
--
-- A table constraint cannot be dropped in SQLite, and rebuilding the table
-- would copy every message. Instead, by SQLite's writable schema, the
-- constraint leaves the table's definition and its index becomes an
-- ordinary named index over the same entries (an automatic index of a
-- UNIQUE constraint and a unique index on the same columns are stored
-- alike), which is then dropped like any other.
--
-- Each edit is checked before the next: an edit that missed (a definition
-- worded otherwise) fails the migration, and its transaction undoes them
-- all, rather than leave a constraint without its index.
CREATE TEMP TABLE plaudit_0013_checks (passed INTEGER NOT NULL CHECK (passed = 1));

-- The constraint's automatic index is the second, on these two columns.
INSERT INTO plaudit_0013_checks
SELECT (SELECT count(*) FROM pragma_index_info('sqlite_autoindex_messages_2')) = 2
   AND (SELECT name FROM pragma_index_info('sqlite_autoindex_messages_2') WHERE seqno = 0) = 'account_id'
   AND (SELECT name FROM pragma_index_info('sqlite_autoindex_messages_2') WHERE seqno = 1) = 'request_id';

PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(sql, '    UNIQUE (account_id, request_id),
', '')
WHERE type = 'table' AND name = 'messages';

-- The constraint left the table's definition.
INSERT INTO plaudit_0013_checks
SELECT instr(sql, 'request_id)') = 0 FROM sqlite_schema WHERE type = 'table' AND name = 'messages';

UPDATE sqlite_schema
SET name = 'messages_by_request_id_with_nulls',
    sql = 'CREATE UNIQUE INDEX messages_by_request_id_with_nulls ON messages (account_id, request_id)'
WHERE type = 'index' AND name = 'sqlite_autoindex_messages_2';

-- Stops the edits and reloads this connection's copy of the definitions.
PRAGMA writable_schema = RESET;

DROP TABLE plaudit_0013_checks;
DROP INDEX messages_by_request_id_with_nulls;
CREATE UNIQUE INDEX messages_by_request_id ON messages (account_id, request_id) WHERE request_id IS NOT NULL;
