-- Votes, message feedback with its history and golden examples, CSAT,
-- rating configuration, prompt copy, per-bot settings, and the secret that
-- signs feedback tokens.

CREATE TABLE bot_settings (
    bot_id                      TEXT PRIMARY KEY,
    account_id                  TEXT NOT NULL,
    auto_approve_positive       INTEGER NOT NULL DEFAULT 0 CHECK (auto_approve_positive IN (0, 1)),
    auto_approve_negative       INTEGER NOT NULL DEFAULT 0 CHECK (auto_approve_negative IN (0, 1)),
    require_reason_positive     INTEGER NOT NULL DEFAULT 0 CHECK (require_reason_positive IN (0, 1)),
    require_reason_negative     INTEGER NOT NULL DEFAULT 0 CHECK (require_reason_negative IN (0, 1)),
    vote_window_seconds         INTEGER NOT NULL DEFAULT 86400 CHECK (vote_window_seconds > 0),
    conv_rating_active          INTEGER NOT NULL DEFAULT 1 CHECK (conv_rating_active IN (0, 1)),
    conv_rating_popup_active    INTEGER NOT NULL DEFAULT 1 CHECK (conv_rating_popup_active = conv_rating_active),
    conv_rating_question_codes  TEXT NOT NULL DEFAULT '["HELPFUL_THUMBS","EXPERIENCE_THUMBS"]',
    updated_at                  INTEGER NOT NULL,
    FOREIGN KEY (account_id, bot_id) REFERENCES bots (account_id, id)
);
INSERT INTO bot_settings (bot_id, account_id, updated_at) SELECT id, account_id, created_at FROM bots;

-- A conversation's satisfaction: its latest conversation-level signal.
ALTER TABLE conversations ADD COLUMN satisfaction TEXT;
ALTER TABLE conversations ADD COLUMN satisfaction_at INTEGER;
ALTER TABLE conversations ADD COLUMN negative_reason TEXT;

CREATE TABLE votes (
    seq                  INTEGER PRIMARY KEY,
    id                   TEXT NOT NULL UNIQUE,
    account_id           TEXT NOT NULL,
    conversation_id      TEXT NOT NULL,
    bot_id               TEXT NOT NULL,
    contact_id           TEXT,
    user_id              TEXT NOT NULL,
    direction            TEXT NOT NULL CHECK (direction IN ('up', 'down')),
    value                INTEGER NOT NULL CHECK (
                             (direction = 'up' AND value BETWEEN 1 AND 100)
                             OR (direction = 'down' AND value BETWEEN -100 AND -1)),
    reason               TEXT,
    source               TEXT NOT NULL CHECK (source IN ('end_user', 'api', 'reviewer')),
    activity_message_id  TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    FOREIGN KEY (account_id, conversation_id) REFERENCES conversations (account_id, id),
    FOREIGN KEY (account_id, activity_message_id) REFERENCES messages (account_id, id)
);
CREATE INDEX votes_by_conversation ON votes (account_id, conversation_id, created_at, seq);
CREATE INDEX votes_by_time ON votes (account_id, created_at);

-- The vote window: one row per voter and conversation, claimed atomically.
CREATE TABLE vote_windows (
    account_id       TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    last_vote_at     INTEGER NOT NULL,
    PRIMARY KEY (account_id, conversation_id, user_id)
);

CREATE TABLE message_feedback (
    seq                 INTEGER PRIMARY KEY,
    id                  TEXT NOT NULL UNIQUE,
    account_id          TEXT NOT NULL,
    message_id          TEXT NOT NULL,
    conversation_id     TEXT NOT NULL,
    bot_id              TEXT NOT NULL,
    user_id             TEXT NOT NULL,
    feedback_type       TEXT NOT NULL CHECK (feedback_type IN ('positive', 'negative')),
    reason              TEXT,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'auto_approved', 'reviewed', 'dismissed')),
    source              TEXT NOT NULL CHECK (source IN ('end_user', 'api', 'reviewer')),
    reviewed_by         TEXT,
    reviewed_at         INTEGER,
    corrected_response  TEXT,
    review_note         TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    submitted_at        INTEGER NOT NULL,
    retracted_at        INTEGER,
    UNIQUE (account_id, message_id, user_id),
    FOREIGN KEY (account_id, message_id) REFERENCES messages (account_id, id)
);
CREATE INDEX feedback_by_message ON message_feedback (account_id, message_id);
CREATE INDEX feedback_by_conversation ON message_feedback (account_id, conversation_id);
CREATE INDEX feedback_queue ON message_feedback (account_id, status, submitted_at, seq);
CREATE INDEX feedback_by_time ON message_feedback (account_id, submitted_at, seq);

CREATE TABLE feedback_history (
    seq            INTEGER PRIMARY KEY,
    account_id     TEXT NOT NULL,
    feedback_id    TEXT NOT NULL REFERENCES message_feedback (id),
    event          TEXT NOT NULL,
    feedback_type  TEXT NOT NULL,
    reason         TEXT,
    status         TEXT NOT NULL,
    source         TEXT NOT NULL,
    actor          TEXT NOT NULL,
    at             INTEGER NOT NULL
);
CREATE INDEX feedback_history_by_feedback ON feedback_history (feedback_id, seq);

CREATE TABLE golden_examples (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    account_id       TEXT NOT NULL,
    bot_id           TEXT NOT NULL,
    feedback_id      TEXT UNIQUE REFERENCES message_feedback (id),
    conversation_id  TEXT NOT NULL,
    message_id       TEXT NOT NULL,
    feedback_type    TEXT NOT NULL,
    origin           TEXT NOT NULL CHECK (origin IN ('auto_approved', 'reviewed')),
    prompt           TEXT NOT NULL,
    ideal_response   TEXT NOT NULL,
    created_at       INTEGER NOT NULL
);
CREATE INDEX golden_by_account ON golden_examples (account_id, created_at, seq);

CREATE TABLE csat_answers (
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    account_id       TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    bot_id           TEXT NOT NULL,
    question_code    TEXT NOT NULL,
    user_id          TEXT NOT NULL,
    value            TEXT NOT NULL,
    score            INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
    negative_reason  TEXT,
    source           TEXT NOT NULL CHECK (source IN ('end_user', 'api', 'reviewer')),
    created_at       INTEGER NOT NULL,
    answered_at      INTEGER NOT NULL,
    UNIQUE (account_id, conversation_id, question_code, user_id),
    FOREIGN KEY (account_id, conversation_id) REFERENCES conversations (account_id, id)
);
CREATE INDEX csat_by_time ON csat_answers (account_id, answered_at);

CREATE TABLE prompt_copy (
    account_id            TEXT NOT NULL,
    bot_id                TEXT NOT NULL,
    locale                TEXT NOT NULL,
    title                 TEXT NOT NULL,
    negative_reason       TEXT NOT NULL,
    negative_placeholder  TEXT NOT NULL,
    negative_button       TEXT NOT NULL,
    after_submission      TEXT NOT NULL,
    updated_at            INTEGER NOT NULL,
    PRIMARY KEY (bot_id, locale),
    FOREIGN KEY (account_id, bot_id) REFERENCES bots (account_id, id)
);

CREATE TABLE instance_secrets (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
