-- Pending rollup changes. A write no longer adds to the rollup rows itself:
-- every write of a period adds to the same few rows (the current bucket of
-- each grain), which made them the hottest pages of the file and, on
-- PostgreSQL, a lock that every write waited on. A write appends its change
-- here instead; a fold, about once a second, adds the pending changes to the
-- rollups and deletes them, in one transaction. Reads go through the
-- `*_all` views, which count both, so a figure never misses a committed
-- write, folded or not.
CREATE TABLE thumb_rollup_pending (
    account_id  TEXT NOT NULL,
    bot_id      TEXT NOT NULL,
    variant     TEXT NOT NULL,
    topic       TEXT NOT NULL,
    has_reason  INTEGER NOT NULL,
    span        INTEGER NOT NULL,
    bucket      INTEGER NOT NULL,
    up          INTEGER NOT NULL,
    down        INTEGER NOT NULL
);

CREATE TABLE vote_rollup_pending (
    account_id  TEXT NOT NULL,
    bot_id      TEXT NOT NULL,
    variant     TEXT NOT NULL,
    span        INTEGER NOT NULL,
    bucket      INTEGER NOT NULL,
    up          INTEGER NOT NULL,
    down        INTEGER NOT NULL,
    value_sum   INTEGER NOT NULL
);

CREATE TABLE csat_rollup_pending (
    account_id     TEXT NOT NULL,
    bot_id         TEXT NOT NULL,
    variant        TEXT NOT NULL,
    question_code  TEXT NOT NULL,
    span           INTEGER NOT NULL,
    bucket         INTEGER NOT NULL,
    total          INTEGER NOT NULL,
    count          INTEGER NOT NULL
);

CREATE VIEW thumb_rollup_all AS
    SELECT account_id, bot_id, variant, topic, has_reason, span, bucket, up, down FROM thumb_rollup
    UNION ALL
    SELECT account_id, bot_id, variant, topic, has_reason, span, bucket, up, down FROM thumb_rollup_pending;

CREATE VIEW vote_rollup_all AS
    SELECT account_id, bot_id, variant, span, bucket, up, down, value_sum FROM vote_rollup
    UNION ALL
    SELECT account_id, bot_id, variant, span, bucket, up, down, value_sum FROM vote_rollup_pending;

CREATE VIEW csat_rollup_all AS
    SELECT account_id, bot_id, variant, question_code, span, bucket, total, count FROM csat_rollup
    UNION ALL
    SELECT account_id, bot_id, variant, question_code, span, bucket, total, count FROM csat_rollup_pending;

-- The unique key (account_id, message_id, user_id) already finds a message's
-- feedback; this index only cost every thumb one more page to write.
DROP INDEX feedback_by_message;
