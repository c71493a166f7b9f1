-- Knowledge gaps: a golden example can be the answer an admin wrote for a
-- group of thumbed-down questions. It names the group (`gap_id`, unique per
-- account, so a group is answered once) and has its own origin. SQLite cannot
-- change a CHECK constraint in place, so the table is rebuilt; nothing
-- references it.
CREATE TABLE golden_examples_next (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    account_id       TEXT NOT NULL,
    bot_id           TEXT NOT NULL,
    feedback_id      TEXT UNIQUE REFERENCES message_feedback (id),
    conversation_id  TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    feedback_type    TEXT NOT NULL,
    origin           TEXT NOT NULL CHECK (origin IN ('auto_approved', 'reviewed', 'knowledge_gap')),
    prompt           TEXT NOT NULL,
    ideal_response   TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    gap_id           TEXT
);
INSERT INTO golden_examples_next (seq, id, account_id, bot_id, feedback_id, conversation_id, message_id,
                                  feedback_type, origin, prompt, ideal_response, created_at)
SELECT seq, id, account_id, bot_id, feedback_id, conversation_id, message_id,
       feedback_type, origin, prompt, ideal_response, created_at
FROM golden_examples;
DROP TABLE golden_examples;
ALTER TABLE golden_examples_next RENAME TO golden_examples;
CREATE INDEX golden_by_account ON golden_examples (account_id, created_at, seq);
CREATE UNIQUE INDEX golden_by_gap ON golden_examples (account_id, gap_id);
