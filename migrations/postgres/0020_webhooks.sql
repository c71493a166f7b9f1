-- Webhooks (SPEC §13): subscriptions, and the outbox of their deliveries.
CREATE TABLE webhooks (
    id                     TEXT COLLATE "C" PRIMARY KEY,
    account_id             TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    bot_id                 TEXT COLLATE "C",
    url                    TEXT NOT NULL,
    description            TEXT,
    -- The event types it wants, comma-separated.
    events                 TEXT NOT NULL,
    format                 TEXT NOT NULL CHECK (format IN ('standard', 'slack')),
    only_negative          BIGINT NOT NULL CHECK (only_negative IN (0, 1)),
    active                 BIGINT NOT NULL CHECK (active IN (0, 1)),
    secret                 TEXT NOT NULL,
    -- The secret before the last rotation, signing too until then.
    previous_secret        TEXT,
    previous_secret_until  BIGINT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    last_success_at        BIGINT,
    last_failure_at        BIGINT,
    -- Since when every attempt failed (none: the last one succeeded).
    failing_since          BIGINT,
    deactivated_at         BIGINT,
    -- Its receiver keeps failing: no delivery is sent before then.
    held_until             BIGINT,
    FOREIGN KEY (account_id, bot_id) REFERENCES bots (account_id, id)
);
CREATE INDEX webhooks_by_account ON webhooks (account_id, created_at);
CREATE INDEX webhooks_by_bot ON webhooks (account_id, bot_id);
-- One row per event and webhook, written in the transaction of the change
-- that caused the event. `seq` orders them (the commit order on SQLite; close to it here).
CREATE TABLE webhook_deliveries (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id       TEXT COLLATE "C" NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id         TEXT COLLATE "C" NOT NULL,
    account_id       TEXT COLLATE "C" NOT NULL,
    event_type       TEXT NOT NULL,
    -- What the event is about, for erasure: its conversation and person.
    conversation_id  TEXT COLLATE "C",
    person           TEXT,
    -- The Standard Webhooks body.
    body             TEXT NOT NULL,
    status           TEXT COLLATE "C" NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts         BIGINT NOT NULL,
    -- Pending: when it is due; otherwise when it was last tried.
    next_attempt_at  BIGINT NOT NULL,
    -- Retries run for `webhooks_retry_hours` from here (its creation, or a retry by hand).
    retry_from       BIGINT NOT NULL,
    last_status      BIGINT,
    last_error       TEXT,
    latency_ms       BIGINT,
    created_at       BIGINT NOT NULL,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX deliveries_by_webhook ON webhook_deliveries (webhook_id, seq);
CREATE INDEX deliveries_by_webhook_state ON webhook_deliveries (webhook_id, status, seq);
CREATE INDEX deliveries_by_state ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX deliveries_by_conversation ON webhook_deliveries (account_id, conversation_id);
