-- Every key of the messages' indexes began with the account id, which all the
-- keys of an install with one account share: each step of each index search
-- compared those 36 bytes before the column that tells rows apart. Counted
-- in instructions while ingesting, comparing keys was over a third of the
-- writer's work. The same indexes with that column first hold the same rows
-- and serve the same lookups (each names the account and the message, the
-- conversation or the request id with `=`), at 14% fewer of the writer's
-- instructions an ingested message.
--
-- The unique (account_id, id) was a table constraint; as in migration 0013,
-- its automatic index becomes a named index through SQLite's writable schema,
-- checked at each step, and is replaced by one with the columns the other way
-- round. The foreign keys that point at the messages (from thumbs and votes)
-- need a unique index on the pair, in either order.
CREATE TEMP TABLE plaudit_0014_checks (passed INTEGER NOT NULL CHECK (passed = 1));

-- The constraint's automatic index is the first, on these two columns.
INSERT INTO plaudit_0014_checks
SELECT (SELECT count(*) FROM pragma_index_info('sqlite_autoindex_messages_1')) = 2
   AND (SELECT name FROM pragma_index_info('sqlite_autoindex_messages_1') WHERE seqno = 0) = 'account_id'
   AND (SELECT name FROM pragma_index_info('sqlite_autoindex_messages_1') WHERE seqno = 1) = 'id';

PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace(sql, '    UNIQUE (account_id, id),
', '')
WHERE type = 'table' AND name = 'messages';

-- The constraint left the table's definition, which now has none.
INSERT INTO plaudit_0014_checks
SELECT instr(sql, 'UNIQUE') = 0 FROM sqlite_schema WHERE type = 'table' AND name = 'messages';

UPDATE sqlite_schema
SET name = 'messages_by_account_and_id',
    sql = 'CREATE UNIQUE INDEX messages_by_account_and_id ON messages (account_id, id)'
WHERE type = 'index' AND name = 'sqlite_autoindex_messages_1';

-- Stops the edits and reloads this connection's copy of the definitions.
PRAGMA writable_schema = RESET;

DROP TABLE plaudit_0014_checks;

CREATE UNIQUE INDEX messages_by_id ON messages (id, account_id);
DROP INDEX messages_by_account_and_id;

DROP INDEX messages_in_order;
CREATE INDEX messages_in_order ON messages (conversation_id, account_id, created_at, seq);

DROP INDEX messages_by_request_id;
CREATE UNIQUE INDEX messages_by_request_id ON messages (request_id, account_id) WHERE request_id IS NOT NULL;
