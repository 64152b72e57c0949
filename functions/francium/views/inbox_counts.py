"""Unread counts in the read cache: ``unread#<entity>`` / ``v#<version>``, the entity's ``InboxCount``
at each version.

Fluorine keeps the count (``inbox_counts``) and moves it in the transactions that change it; the
events of those transactions carry the new value and version: a message to the entity, its read
mark, a fan-out batch (its recipients'), a group's withdrawal (its holders'), and ``UnreadCounted``
(migration 0026's first count). Each version is an item of its own, immutable like the event
that carries it, so a fan-out writes its recipients' counts with its copies, in batches and
without conditions, and whatever order the events arrive in, the count is the partition's newest
item: one query of one item. The versions stay, as the read marks do (~150 bytes a change).
"""

from __future__ import annotations

from uuid import UUID

from francium import cache
from francium.cache import CacheItem
from francium.projector import projection
from shared.contracts.changes import ChangeRecord
from shared.contracts.rhenium import InboxCount, unread_aggregate
from shared.readcache import CorruptItem, decode

VERSION = "v#"


def counted(*counts: InboxCount | None) -> list[CacheItem]:
    """Each entity's unread count at its version."""
    return [
        CacheItem(unread_aggregate(c.entity_id), f"{VERSION}{c.version:010d}", c.version, c.model_dump(mode="json"))
        for c in counts
        if c is not None
    ]


@projection("unread")
def project_unread(record: ChangeRecord) -> list[CacheItem]:
    """An entity's unread count as migration 0026 first counted it."""
    return counted(InboxCount.model_validate(record.payload))


def inbox_count(entity_id: UUID) -> InboxCount | None:
    """The entity's unread count, its newest version; None if the read side has none (nothing
    ever moved it, or the cache lost it) or cannot read it (then the caller counts the partition,
    exact, until ``verify``/``rebuild`` restores the item: no event of its own would repair it)."""
    try:
        found, _ = cache.query_page(unread_aggregate(entity_id), limit=1, sk_prefix=VERSION)
        return decode(InboxCount, found[0]) if found else None
    except CorruptItem:
        return None
