-- Accounts, plans, bots, API keys, conversations and messages.
-- Times are UTC milliseconds; flags are 0/1 integers; JSON is text.

CREATE TABLE plans (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    api_access  INTEGER NOT NULL CHECK (api_access IN (0, 1))
);
INSERT INTO plans (id, name, api_access) VALUES ('standard', 'Standard', 1), ('no_api', 'Dashboard only', 0);

CREATE TABLE accounts (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    plan_id     TEXT NOT NULL REFERENCES plans (id),
    created_at  INTEGER NOT NULL
);
INSERT INTO accounts (id, name, plan_id, created_at) VALUES ('default', 'Default', 'standard', 0);

CREATE TABLE bots (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (account_id, id)
);
CREATE INDEX bots_by_account ON bots (account_id, created_at, seq);

CREATE TABLE api_keys (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    bot_id       TEXT,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'server', 'public')),
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    secret_hash  TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    FOREIGN KEY (account_id, bot_id) REFERENCES bots (account_id, id)
);
CREATE INDEX api_keys_by_account ON api_keys (account_id, created_at, seq);

CREATE TABLE conversations (
    seq         INTEGER PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    id          TEXT NOT NULL,
    bot_id      TEXT NOT NULL,
    contact_id  TEXT,
    locale      TEXT,
    metadata    TEXT NOT NULL DEFAULT '{}',
    variant     TEXT,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'ended')),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    UNIQUE (account_id, id),
    FOREIGN KEY (account_id, bot_id) REFERENCES bots (account_id, id)
);
CREATE INDEX conversations_newest ON conversations (account_id, created_at, seq);
CREATE INDEX conversations_by_bot ON conversations (account_id, bot_id, created_at, seq);

CREATE TABLE messages (
    seq              INTEGER PRIMARY KEY,
    account_id       TEXT NOT NULL,
    id               TEXT NOT NULL,
    conversation_id  TEXT NOT NULL,
    role             TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'activity')),
    content          TEXT NOT NULL,
    request_id       TEXT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
    metadata         TEXT NOT NULL DEFAULT '{}',
    topic            TEXT,
    confidence       DOUBLE PRECISION,
    fingerprint      TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (account_id, id),
    UNIQUE (account_id, request_id),
    FOREIGN KEY (account_id, conversation_id) REFERENCES conversations (account_id, id)
);
CREATE INDEX messages_in_order ON messages (account_id, conversation_id, created_at, seq);
