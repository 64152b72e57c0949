"""Unread counts in the read cache: ``unread#<entity>`` / ``state``, the entity's ``InboxCount``.

Fluorine keeps the count (``inbox_counts``) and moves it in the transactions that change it; the
events of those transactions carry the new value and version: a message to the entity, its read
mark, a fan-out batch (its recipients'), a group's withdrawal (its holders'), and ``UnreadCounted``
(migration 0026's first count). The item is shared by all of them: each writes it only over an
older version, so whatever the order the events arrive in, the highest version stays.
"""

from __future__ import annotations

from uuid import UUID

from francium import cache
from francium.cache import CacheItem
from francium.projector import projection
from shared.contracts.changes import ChangeRecord
from shared.contracts.rhenium import InboxCount, unread_aggregate
from shared.readcache import decode


def counted(*counts: InboxCount | None) -> list[CacheItem]:
    """Each entity's unread count as a shared cache item."""
    return [
        CacheItem(unread_aggregate(c.entity_id), cache.STATE, c.version, c.model_dump(mode="json"), shared=True)
        for c in counts
        if c is not None
    ]


@projection("unread")
def project_unread(record: ChangeRecord) -> list[CacheItem]:
    """An entity's unread count as migration 0026 first counted it."""
    return counted(InboxCount.model_validate(record.payload))


def inbox_count(entity_id: UUID) -> InboxCount | None:
    """The entity's unread count; None if the read side has none (nothing ever moved it, or the
    cache lost it)."""
    data = cache.get(unread_aggregate(entity_id))
    return decode(InboxCount, data) if data else None
