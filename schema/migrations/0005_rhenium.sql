-- Rhenium: messages. A message is written once, whatever its audience: a direct message names
-- its recipient, a group broadcast its group, a platform broadcast ``to_all``. Broadcasts are
-- fanned out on read (see docs/architecture.md, "Messaging fan-out"), so one row serves
-- 100,000 recipients. Read state is a row per (message, reader), written only when read.

CREATE TABLE messages (
    id         uuid        PRIMARY KEY,
    sender_id  uuid        REFERENCES entities (id),  -- NULL: a system message
    to_entity  uuid        REFERENCES entities (id),
    to_group   uuid,
    to_all     boolean     NOT NULL DEFAULT false,
    body       text        NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
    sent_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (num_nonnulls(to_entity, to_group) + to_all::int = 1)
);

CREATE TABLE message_reads (
    message_id uuid        NOT NULL REFERENCES messages (id),
    entity_id  uuid        NOT NULL REFERENCES entities (id),
    read_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, entity_id)
);
