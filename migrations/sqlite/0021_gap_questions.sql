-- Knowledge gaps by meaning (SPEC §10): each thumbed-down answer's question,
-- queued when the thumbs-down is written and represented (embedded) by a
-- background worker. `represented_at` NULL: still pending.
CREATE TABLE gap_questions (
    seq             INTEGER PRIMARY KEY,
    account_id      TEXT NOT NULL,
    -- The rated answer; its question is the user message before it.
    message_id      TEXT NOT NULL,
    bot_id          TEXT NOT NULL,
    queued_at       INTEGER NOT NULL,
    represented_at  INTEGER,
    -- The model the vector comes from; NULL with a time: no question to represent.
    model           TEXT,
    -- 8-bit components behind an f32 scale (domain::gaps::vector), in base64.
    vector          TEXT,
    UNIQUE (account_id, message_id)
);
CREATE INDEX gap_questions_pending ON gap_questions (seq) WHERE represented_at IS NULL;
-- The thumbs-down already written are queued too.
INSERT INTO gap_questions (account_id, message_id, bot_id, queued_at)
SELECT account_id, message_id, MIN(bot_id), MIN(submitted_at) FROM message_feedback
WHERE feedback_type = 'negative' AND retracted_at IS NULL
GROUP BY account_id, message_id
ORDER BY MIN(submitted_at), account_id, message_id;
