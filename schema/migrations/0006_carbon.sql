-- Carbon: groups and their memberships.
-- A group is never deleted physically (the ledger may refer to it): ``deleted_at`` hides it.
-- A membership row outlives the membership (``left_at``) so its version keeps growing across
-- leave and re-join, and the read side can never be regressed by a stale record.

CREATE TABLE groups (
    id           uuid        PRIMARY KEY,
    name         text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    description  text        CHECK (description IS NULL OR char_length(description) <= 1000),
    visibility   text        NOT NULL CHECK (visibility IN ('public', 'private')),
    owner_id     uuid        NOT NULL REFERENCES entities (id),
    member_count integer     NOT NULL DEFAULT 0 CHECK (member_count >= 0),
    version      integer     NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    deleted_at   timestamptz
);

CREATE TABLE group_members (
    group_id   uuid        NOT NULL REFERENCES groups (id),
    entity_id  uuid        NOT NULL REFERENCES entities (id),
    role       text        NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    left_at    timestamptz,
    version    integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (group_id, entity_id)
);
-- No other index: every lookup is by (group, entity) or by group (the primary key's prefix). A
-- partial index on current members tempted the planner away from the primary key (O(members)).
