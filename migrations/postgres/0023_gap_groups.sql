-- Knowledge gaps live per bot and language over all time (SPEC §10). A
-- represented question keeps its language (lower case; '' when none given),
-- its nearest neighbours on its shelf (the questions of its bot and
-- language) and its group. A shelf counts its changes, so the worker
-- regroups only a shelf that changed and a listing knows when nothing did.
ALTER TABLE gap_questions ADD COLUMN locale TEXT COLLATE "C";
-- The gap id of the answer itself: an id given out before its group grew
-- or merged still finds it.
ALTER TABLE gap_questions ADD COLUMN alias TEXT COLLATE "C";
-- Its neighbours' seqs, most similar first; NULL: not linked yet.
ALTER TABLE gap_questions ADD COLUMN neighbours TEXT;
-- Its group's id, once grouped, and whether it represents the group.
ALTER TABLE gap_questions ADD COLUMN group_id TEXT COLLATE "C";
ALTER TABLE gap_questions ADD COLUMN central BIGINT NOT NULL DEFAULT 0;
CREATE INDEX gap_questions_shelf ON gap_questions (account_id, bot_id, locale, seq) WHERE vector IS NOT NULL;
CREATE INDEX gap_questions_unlinked ON gap_questions (seq) WHERE vector IS NOT NULL AND neighbours IS NULL;
CREATE INDEX gap_questions_group ON gap_questions (account_id, group_id, seq) WHERE group_id IS NOT NULL;
CREATE INDEX gap_questions_alias ON gap_questions (account_id, alias) WHERE alias IS NOT NULL;
CREATE TABLE gap_shelves (
    account_id  TEXT COLLATE "C" NOT NULL,
    bot_id      TEXT COLLATE "C" NOT NULL,
    locale      TEXT COLLATE "C" NOT NULL,
    -- Bumped by every change to the shelf: a question represented, linked
    -- or taken away.
    changed     BIGINT NOT NULL DEFAULT 0,
    -- Bumped when questions are taken away (erased, or to be represented
    -- again), and when neighbour lists are stored: a worker holding the
    -- shelf reads only what was added since while neither moved.
    removed     BIGINT NOT NULL DEFAULT 0,
    linked      BIGINT NOT NULL DEFAULT 0,
    -- The count of changes the stored groups were made from.
    grouped     BIGINT NOT NULL DEFAULT -1,
    PRIMARY KEY (account_id, bot_id, locale)
);
-- The questions represented already take their language, and are linked
-- and grouped by the worker.
UPDATE gap_questions SET locale = COALESCE((
    SELECT LOWER(cv.locale) FROM messages m
    JOIN conversations cv ON cv.account_id = m.account_id AND cv.id = m.conversation_id
    WHERE m.account_id = gap_questions.account_id AND m.id = gap_questions.message_id), '')
WHERE vector IS NOT NULL;
INSERT INTO gap_shelves (account_id, bot_id, locale)
SELECT DISTINCT account_id, bot_id, locale FROM gap_questions WHERE vector IS NOT NULL;
