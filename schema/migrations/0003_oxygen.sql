-- Oxygen's credentials state: login throttling, login sessions and refresh tokens.
-- None of it is published to the change feed: it never leaves PostgreSQL except as answers to
-- Oxygen's own commands (and only session revocations, without any token, reach the read side).

-- One row per failed login, keyed by a SHA-256 of the normalised login (not the login itself).
CREATE TABLE login_failures (
    login_key text        NOT NULL,
    failed_at timestamptz NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (login_key, failed_at DESC);

-- A login session: every refresh token descended from one login. Revoking it revokes them all.
CREATE TABLE auth_sessions (
    id         uuid        PRIMARY KEY,
    entity_id  uuid        NOT NULL REFERENCES entities (id),
    version    integer     NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX auth_sessions_by_entity ON auth_sessions (entity_id) WHERE revoked_at IS NULL;

-- Refresh tokens are stored only as SHA-256 hashes; a rotated token is kept (spent) so that a
-- second use of it is recognised as reuse.
CREATE TABLE refresh_tokens (
    token_hash text        PRIMARY KEY CHECK (char_length(token_hash) = 64),
    session_id uuid        NOT NULL REFERENCES auth_sessions (id),
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    spent_at   timestamptz
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
