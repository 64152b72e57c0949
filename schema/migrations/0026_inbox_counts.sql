-- Unread counts kept per entity (issue #16; docs/architecture.md, "Unread count").
--
-- How many messages of an entity's own inbox partition it has not read: messages to it (direct
-- and system) and its copies of live groups' broadcasts already fanned out. Moved in the
-- transactions that change it (a message to it +1; a fan-out +1 per recipient that has not read
-- the broadcast yet, unless the group is gone; a new read mark of one of those -1; a group's
-- deletion, minus each holder's unread copies of it), each change raising ``version`` by one.
-- The events of those transactions carry the new value and version (``InboxCount``), and the read
-- side keeps the highest version it sees: an unread count is one read whatever the inbox's size.
CREATE TABLE inbox_counts (
    entity_id uuid    PRIMARY KEY REFERENCES entities (id),
    unread    integer NOT NULL,
    version   integer NOT NULL CHECK (version >= 1)
);

-- Every entity's count from what is already there, and an ``UnreadCounted`` event of it
-- (``unread#<entity>``, version 1; the payload is ``InboxCount``'s JSON), left unpublished for
-- the sweeper to publish like any row whose publishing after commit did not happen.
WITH direct AS (
    SELECT m.to_entity AS entity_id, count(*) AS unread FROM messages m
    WHERE m.to_entity IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.message_id = m.id AND r.entity_id = m.to_entity)
    GROUP BY m.to_entity
), copies AS (
    SELECT s.entity_id, count(*) AS unread FROM messages m
    JOIN broadcast_fanouts f ON f.message_id = m.id
    JOIN groups g ON g.id = m.to_group AND g.deleted_at IS NULL
    JOIN fanout_spans s ON s.group_id = m.to_group AND s.joined_at <= m.sent_at
                       AND (s.left_at IS NULL OR s.left_at > m.sent_at)
    WHERE NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.message_id = m.id AND r.entity_id = s.entity_id)
    GROUP BY s.entity_id
), counted AS (
    INSERT INTO inbox_counts (entity_id, unread, version)
    SELECT e.id, coalesce(d.unread, 0) + coalesce(c.unread, 0), 1 FROM entities e
    LEFT JOIN direct d ON d.entity_id = e.id
    LEFT JOIN copies c ON c.entity_id = e.id
    RETURNING entity_id, unread, version
)
INSERT INTO outbox (aggregate, version, event_type, payload)
SELECT 'unread#' || entity_id, version, 'UnreadCounted',
       jsonb_build_object('entity_id', entity_id, 'unread', unread, 'version', version)
FROM counted
ON CONFLICT (aggregate, version) DO NOTHING;
