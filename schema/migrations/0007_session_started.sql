-- The authorizer now refuses a login session the read side does not know (it used to refuse only
-- the revoked ones, which were the only sessions published). Publish every live session once, as
-- the SessionStarted event new logins now emit, so tokens issued before this release keep working.
-- A live session has version 1 (revocation is what bumps it), and the sweeper publishes the rows.
INSERT INTO outbox (aggregate, version, event_type, payload)
SELECT 'session#' || s.id, s.version, 'SessionStarted',
       jsonb_build_object('id', s.id, 'entity_id', s.entity_id, 'revoked', false, 'version', s.version)
FROM auth_sessions s
WHERE s.revoked_at IS NULL
ON CONFLICT (aggregate, version) DO NOTHING;
