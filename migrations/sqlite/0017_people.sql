-- People: users with roles, their invitations and dashboard sessions, the
-- sign-in throttle, and the append-only audit log. Reviews and golden
-- examples name who decided.

CREATE TABLE users (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    -- Lower-cased; unique in the installation, so an email finds its account.
    email          TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('viewer', 'reviewer', 'admin')),
    -- Argon2id, PHC string; NULL until the invitation is accepted (or for single sign-on only).
    password_hash  TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    disabled_at    INTEGER
);
CREATE INDEX users_by_account ON users (account_id, created_at, seq);

-- One-time sign-in links; only the hash of the token is kept.
CREATE TABLE invitations (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX invitations_by_user ON invitations (user_id);

-- Dashboard sessions, of a user or of an admin key; only the hash of the
-- cookie is kept. Signing out deletes the row.
CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    user_id     TEXT REFERENCES users (id),
    key_id      TEXT REFERENCES api_keys (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (key_id IS NULL))
);
CREATE INDEX sessions_by_user ON sessions (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX sessions_by_key ON sessions (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Failed sign-ins, by `email:<address>` and by `address:<client ip>`.
CREATE TABLE sign_in_failures (
    subject  TEXT NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX sign_in_failures_by_subject ON sign_in_failures (subject, at);
CREATE INDEX sign_in_failures_by_time ON sign_in_failures (at);

-- Every change made by a person or a key. `before`/`after` are JSON of
-- configuration values only. No statement edits or deletes a row.
CREATE TABLE audit_log (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    at           INTEGER NOT NULL,
    actor_type   TEXT NOT NULL CHECK (actor_type IN ('user', 'key', 'cli')),
    actor_id     TEXT NOT NULL,
    actor_name   TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_type  TEXT NOT NULL,
    target_id    TEXT NOT NULL,
    before       TEXT,
    after        TEXT
);
CREATE INDEX audit_log_by_account ON audit_log (account_id, at, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

ALTER TABLE message_feedback ADD COLUMN reviewed_by_id TEXT;
ALTER TABLE golden_examples ADD COLUMN created_by TEXT;
ALTER TABLE golden_examples ADD COLUMN created_by_id TEXT;
