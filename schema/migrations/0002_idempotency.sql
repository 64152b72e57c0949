-- Idempotency keys: stored in the same transaction as the write they protect, with the first
-- answer, so a retry returns it and never writes twice. Kept at least 24 h (see the sweeper).

CREATE TABLE idempotency_keys (
    caller_id     uuid        NOT NULL,
    key           text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 128),
    fingerprint   text        NOT NULL,
    command       text        NOT NULL,
    result        jsonb,
    write_version text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
