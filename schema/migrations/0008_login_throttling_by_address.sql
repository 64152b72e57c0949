-- Failed logins count per entity (whichever login named it) and per source address: five from one
-- address throttle that address only, so nobody can lock an account from elsewhere; a larger bound
-- over every address stops distributed guessing (see docs/architecture.md, "Credentials").
ALTER TABLE login_failures ADD COLUMN source text NOT NULL DEFAULT '';
CREATE INDEX login_failures_by_source ON login_failures (login_key, source, failed_at DESC);
-- The sweeper prunes failures past their window.
CREATE INDEX login_failures_by_time ON login_failures (failed_at);
