-- Deleted groups' copies withdrawn (issue #16; docs/architecture.md, "Unread count").
--
-- Deleting a group now emits ``CopiesWithdrawn`` events in the same transaction: one per 1,000
-- (``FANOUT_BATCH``) of the entities that may hold copies of its broadcasts (its fanned
-- memberships, current and past). Their projection marks the group deleted in each holder's own
-- index, so an unread count leaves those copies out without reading every membership of its reader.
--
-- Groups deleted before this migration get the same events here, as the command would have
-- written them (the payload is ``Withdrawal``'s JSON). They are left unpublished: the sweeper
-- publishes them like any row whose publishing after commit did not happen.
INSERT INTO outbox (aggregate, version, event_type, payload)
SELECT 'withdrawal#' || group_id || ':' || batch, 1, 'CopiesWithdrawn',
       jsonb_build_object('group_id', group_id, 'batch', batch,
                          'entities', jsonb_agg(entity_id ORDER BY entity_id), 'version', 1)
FROM (
    SELECT h.group_id, h.entity_id,
           ((row_number() OVER (PARTITION BY h.group_id ORDER BY h.entity_id)) - 1) / 1000 AS batch
    FROM (SELECT DISTINCT s.group_id, s.entity_id
          FROM fanout_spans s JOIN groups g ON g.id = s.group_id AND g.deleted_at IS NOT NULL) h
) holders
GROUP BY group_id, batch
ON CONFLICT (aggregate, version) DO NOTHING;
