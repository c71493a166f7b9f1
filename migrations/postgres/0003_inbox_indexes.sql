-- The inbox filters by satisfaction and lists newest first.
CREATE INDEX conversations_by_satisfaction ON conversations (account_id, satisfaction, created_at, seq);
CREATE INDEX conversations_by_bot_satisfaction ON conversations (account_id, bot_id, satisfaction, created_at, seq);
