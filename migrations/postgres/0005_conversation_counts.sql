-- The inbox shows each conversation's message and thumb counts: kept on
-- the conversation row by the writes, so that a page is one index walk.
ALTER TABLE conversations ADD COLUMN message_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN thumbs_up BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN thumbs_down BIGINT NOT NULL DEFAULT 0;

UPDATE conversations SET
    message_count = (SELECT COUNT(*) FROM messages m
                      WHERE m.account_id = conversations.account_id AND m.conversation_id = conversations.id
                        AND m.role <> 'activity'),
    thumbs_up = (SELECT COUNT(*) FROM message_feedback f
                  WHERE f.account_id = conversations.account_id AND f.conversation_id = conversations.id
                    AND f.retracted_at IS NULL AND f.feedback_type = 'positive'),
    thumbs_down = (SELECT COUNT(*) FROM message_feedback f
                    WHERE f.account_id = conversations.account_id AND f.conversation_id = conversations.id
                      AND f.retracted_at IS NULL AND f.feedback_type = 'negative');
