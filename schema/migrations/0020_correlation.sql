-- The correlation id (X-Request-Id) of the request that wrote each event, carried on the change
-- feed so the projector's and the triggers' log lines of one request share it with the element's
-- and Fluorine's (see docs/operations.md). Null for events written before, and for system work
-- (the sweeper's expiries) that no client request started.
ALTER TABLE outbox ADD COLUMN correlation_id text;
