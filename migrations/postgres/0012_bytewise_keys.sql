-- Keys and codes compare bytewise (the "C" collation), as every text does on
-- SQLite. Under the database's default collation (a libc locale such as
-- en_US.UTF-8 or C.UTF-8), each comparison of two keys in an index, a join
-- or a sort goes through the locale's strcoll on copies of both strings, and
-- sorts cannot use abbreviated keys. Ids, codes and enumerations gain nothing
-- from a locale's order; text written by people (content, reasons, names)
-- keeps the default, so that case-insensitive search still folds its
-- non-ASCII letters. Every index on these columns is rebuilt.

ALTER TABLE accounts
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN plan_id TYPE TEXT COLLATE "C";
ALTER TABLE plans
    ALTER COLUMN id TYPE TEXT COLLATE "C";
ALTER TABLE api_keys
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN bot_id TYPE TEXT COLLATE "C",
    ALTER COLUMN role TYPE TEXT COLLATE "C",
    ALTER COLUMN prefix TYPE TEXT COLLATE "C",
    ALTER COLUMN secret_hash TYPE TEXT COLLATE "C";
ALTER TABLE bots
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C";
ALTER TABLE bot_settings
    ALTER COLUMN bot_id TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C";
ALTER TABLE prompt_copy
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN bot_id TYPE TEXT COLLATE "C",
    ALTER COLUMN locale TYPE TEXT COLLATE "C";
ALTER TABLE conversations
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN bot_id TYPE TEXT COLLATE "C",
    ALTER COLUMN contact_id TYPE TEXT COLLATE "C",
    ALTER COLUMN locale TYPE TEXT COLLATE "C",
    ALTER COLUMN variant TYPE TEXT COLLATE "C",
    ALTER COLUMN status TYPE TEXT COLLATE "C",
    ALTER COLUMN satisfaction TYPE TEXT COLLATE "C";
ALTER TABLE messages
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN conversation_id TYPE TEXT COLLATE "C",
    ALTER COLUMN role TYPE TEXT COLLATE "C",
    ALTER COLUMN request_id TYPE TEXT COLLATE "C",
    ALTER COLUMN status TYPE TEXT COLLATE "C",
    ALTER COLUMN topic TYPE TEXT COLLATE "C",
    ALTER COLUMN fingerprint TYPE TEXT COLLATE "C";
ALTER TABLE message_feedback
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN message_id TYPE TEXT COLLATE "C",
    ALTER COLUMN conversation_id TYPE TEXT COLLATE "C",
    ALTER COLUMN bot_id TYPE TEXT COLLATE "C",
    ALTER COLUMN user_id TYPE TEXT COLLATE "C",
    ALTER COLUMN feedback_type TYPE TEXT COLLATE "C",
    ALTER COLUMN status TYPE TEXT COLLATE "C",
    ALTER COLUMN source TYPE TEXT COLLATE "C",
    ALTER COLUMN reviewed_by TYPE TEXT COLLATE "C";
ALTER TABLE feedback_history
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN feedback_id TYPE TEXT COLLATE "C",
    ALTER COLUMN event TYPE TEXT COLLATE "C",
    ALTER COLUMN feedback_type TYPE TEXT COLLATE "C",
    ALTER COLUMN status TYPE TEXT COLLATE "C",
    ALTER COLUMN source TYPE TEXT COLLATE "C",
    ALTER COLUMN actor TYPE TEXT COLLATE "C";
ALTER TABLE golden_examples
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN bot_id TYPE TEXT COLLATE "C",
    ALTER COLUMN feedback_id TYPE TEXT COLLATE "C",
    ALTER COLUMN conversation_id TYPE TEXT COLLATE "C",
    ALTER COLUMN message_id TYPE TEXT COLLATE "C",
    ALTER COLUMN feedback_type TYPE TEXT COLLATE "C",
    ALTER COLUMN origin TYPE TEXT COLLATE "C",
    ALTER COLUMN gap_id TYPE TEXT COLLATE "C";
ALTER TABLE votes
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN conversation_id TYPE TEXT COLLATE "C",
    ALTER COLUMN bot_id TYPE TEXT COLLATE "C",
    ALTER COLUMN contact_id TYPE TEXT COLLATE "C",
    ALTER COLUMN user_id TYPE TEXT COLLATE "C",
    ALTER COLUMN direction TYPE TEXT COLLATE "C",
    ALTER COLUMN source TYPE TEXT COLLATE "C",
    ALTER COLUMN activity_message_id TYPE TEXT COLLATE "C";
ALTER TABLE vote_windows
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN conversation_id TYPE TEXT COLLATE "C",
    ALTER COLUMN user_id TYPE TEXT COLLATE "C";
ALTER TABLE csat_answers
    ALTER COLUMN id TYPE TEXT COLLATE "C",
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN conversation_id TYPE TEXT COLLATE "C",
    ALTER COLUMN bot_id TYPE TEXT COLLATE "C",
    ALTER COLUMN question_code TYPE TEXT COLLATE "C",
    ALTER COLUMN user_id TYPE TEXT COLLATE "C",
    ALTER COLUMN source TYPE TEXT COLLATE "C";
ALTER TABLE thumb_rollup
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN bot_id TYPE TEXT COLLATE "C",
    ALTER COLUMN variant TYPE TEXT COLLATE "C",
    ALTER COLUMN topic TYPE TEXT COLLATE "C";
ALTER TABLE thumb_rollup_pending
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN bot_id TYPE TEXT COLLATE "C",
    ALTER COLUMN variant TYPE TEXT COLLATE "C",
    ALTER COLUMN topic TYPE TEXT COLLATE "C";
ALTER TABLE vote_rollup
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN bot_id TYPE TEXT COLLATE "C",
    ALTER COLUMN variant TYPE TEXT COLLATE "C";
ALTER TABLE vote_rollup_pending
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN bot_id TYPE TEXT COLLATE "C",
    ALTER COLUMN variant TYPE TEXT COLLATE "C";
ALTER TABLE csat_rollup
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN bot_id TYPE TEXT COLLATE "C",
    ALTER COLUMN variant TYPE TEXT COLLATE "C",
    ALTER COLUMN question_code TYPE TEXT COLLATE "C";
ALTER TABLE csat_rollup_pending
    ALTER COLUMN account_id TYPE TEXT COLLATE "C",
    ALTER COLUMN bot_id TYPE TEXT COLLATE "C",
    ALTER COLUMN variant TYPE TEXT COLLATE "C",
    ALTER COLUMN question_code TYPE TEXT COLLATE "C";
ALTER TABLE instance_secrets
    ALTER COLUMN name TYPE TEXT COLLATE "C";
