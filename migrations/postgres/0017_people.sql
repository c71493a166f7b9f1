-- People: users with roles, their invitations and dashboard sessions, the
-- sign-in throttle, and the append-only audit log. Reviews and golden
-- examples name who decided.

CREATE TABLE users (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id             TEXT COLLATE "C" NOT NULL UNIQUE,
    account_id     TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    -- Lower-cased; unique in the installation, so an email finds its account.
    email          TEXT COLLATE "C" NOT NULL UNIQUE,
    name           TEXT COLLATE "C" NOT NULL,
    role           TEXT COLLATE "C" NOT NULL CHECK (role IN ('viewer', 'reviewer', 'admin')),
    -- Argon2id, PHC string; NULL until the invitation is accepted (or for single sign-on only).
    password_hash  TEXT COLLATE "C",
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    disabled_at    BIGINT
);
CREATE INDEX users_by_account ON users (account_id, created_at, seq);

-- One-time sign-in links; only the hash of the token is kept.
CREATE TABLE invitations (
    token_hash  TEXT COLLATE "C" PRIMARY KEY,
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX invitations_by_user ON invitations (user_id);

-- Dashboard sessions, of a user or of an admin key; only the hash of the
-- cookie is kept. Signing out deletes the row.
CREATE TABLE sessions (
    token_hash  TEXT COLLATE "C" PRIMARY KEY,
    account_id  TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    user_id     TEXT COLLATE "C" REFERENCES users (id),
    key_id      TEXT COLLATE "C" REFERENCES api_keys (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    CHECK ((user_id IS NULL) <> (key_id IS NULL))
);
CREATE INDEX sessions_by_user ON sessions (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX sessions_by_key ON sessions (key_id) WHERE key_id IS NOT NULL;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Failed sign-ins, by `email:<address>` and by `address:<client ip>`.
CREATE TABLE sign_in_failures (
    subject  TEXT COLLATE "C" NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_by_subject ON sign_in_failures (subject, at);
CREATE INDEX sign_in_failures_by_time ON sign_in_failures (at);

-- Every change made by a person or a key. `before`/`after` are JSON of
-- configuration values only. No statement edits or deletes a row.
CREATE TABLE audit_log (
    seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           TEXT COLLATE "C" NOT NULL UNIQUE,
    account_id   TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
    at           BIGINT NOT NULL,
    actor_type   TEXT COLLATE "C" NOT NULL CHECK (actor_type IN ('user', 'key', 'cli')),
    actor_id     TEXT COLLATE "C" NOT NULL,
    actor_name   TEXT COLLATE "C" NOT NULL,
    action       TEXT COLLATE "C" NOT NULL,
    target_type  TEXT COLLATE "C" NOT NULL,
    target_id    TEXT COLLATE "C" NOT NULL,
    before       TEXT COLLATE "C",
    after        TEXT COLLATE "C"
);
CREATE INDEX audit_log_by_account ON audit_log (account_id, at, seq);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

ALTER TABLE message_feedback ADD COLUMN reviewed_by_id TEXT;
ALTER TABLE golden_examples ADD COLUMN created_by TEXT;
ALTER TABLE golden_examples ADD COLUMN created_by_id TEXT;
