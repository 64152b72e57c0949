-- The spine: the transactional outbox every write publishes through, and Oxygen's entities.

CREATE TABLE outbox (
    seq          bigserial PRIMARY KEY,
    aggregate    text        NOT NULL,
    version      integer     NOT NULL CHECK (version >= 1),
    event_type   text        NOT NULL,
    payload      jsonb       NOT NULL,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    UNIQUE (aggregate, version)
);
-- The sweeper looks only at what is still unpublished.
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

CREATE TABLE entities (
    id            uuid        PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind IN ('real', 'legal', 'fictional')),
    handle        text        NOT NULL CHECK (handle ~ '^[a-z0-9_]{3,32}$'),
    display_name  text        NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 100),
    email         text,
    password_hash text        NOT NULL,
    roles         text[]      NOT NULL DEFAULT '{}',
    status        text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deactivated')),
    version       integer     NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- Handles stay reserved after deactivation: uniqueness covers every row.
CREATE UNIQUE INDEX entities_handle ON entities (handle);
CREATE UNIQUE INDEX entities_email ON entities (lower(email)) WHERE email IS NOT NULL;
