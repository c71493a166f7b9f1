-- Erasure, subject access and retention (SPEC §16).
-- A person's signals on any conversation, found by the person: erasing them
-- and exporting them read these instead of every signal of the account.
CREATE INDEX feedback_by_user ON message_feedback (account_id, user_id);
CREATE INDEX votes_by_user ON votes (account_id, user_id);
CREATE INDEX csat_by_user ON csat_answers (account_id, user_id);
-- A vote's activity message, found from the message: deleting a message
-- checks that no vote still refers to it, which without this index reads
-- every vote of the account for each message deleted.
CREATE INDEX votes_by_activity ON votes (account_id, activity_message_id);
-- Golden examples built from a conversation, and knowledge-gap answers by
-- themselves (few; compared by prompt): erasing a conversation finds what was made of it.
CREATE INDEX golden_by_conversation ON golden_examples (account_id, conversation_id);
CREATE INDEX golden_gap_answers ON golden_examples (account_id) WHERE origin = 'knowledge_gap';
-- How long a bot keeps its conversations, in days after their last activity
-- (none: forever).
ALTER TABLE bot_settings ADD COLUMN retention_days INTEGER CHECK (retention_days BETWEEN 1 AND 36500);
-- Background jobs: one instance at a time holds a job's lease until it
-- expires or is renewed.
CREATE TABLE job_leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  INTEGER NOT NULL
);
