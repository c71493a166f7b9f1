-- Reasons grouped by meaning (SPEC §10): each distinct reason of an account,
-- as given (trimmed), queued when a thumb carries it and represented
-- (embedded) by the background worker. `represented_at` NULL: pending.
-- Only reasons of at most 200 characters: longer ones are notes, listed as given.
CREATE TABLE reason_vectors (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      TEXT COLLATE "C" NOT NULL,
    reason          TEXT COLLATE "C" NOT NULL,
    queued_at       BIGINT NOT NULL,
    represented_at  BIGINT,
    model           TEXT,
    -- 8-bit components behind an f32 scale (domain::gaps::vector), in base64.
    vector          TEXT,
    UNIQUE (account_id, reason)
);
CREATE INDEX reason_vectors_pending ON reason_vectors (seq) WHERE represented_at IS NULL;
INSERT INTO reason_vectors (account_id, reason, queued_at)
SELECT account_id, TRIM(reason), MIN(submitted_at) FROM message_feedback
WHERE reason IS NOT NULL AND TRIM(reason) <> '' AND LENGTH(TRIM(reason)) <= 200
GROUP BY account_id, TRIM(reason)
ORDER BY MIN(submitted_at), account_id, TRIM(reason);
