"""Entities in the read cache: the state item, and the handle index (GSI1)."""

from __future__ import annotations

from uuid import UUID

from francium import cache
from francium.cache import CacheItem
from francium.projector import projection
from shared.contracts.changes import ChangeRecord
from shared.contracts.oxygen import EntityState, entity_aggregate
from shared.readcache import decode


@projection("entity")
def project_entity(record: ChangeRecord) -> list[CacheItem]:
    state = EntityState.model_validate(record.payload)
    return [
        CacheItem(
            pk=record.aggregate,
            sk=cache.STATE,
            ver=record.version,
            data=state.model_dump(mode="json"),
            indexes={"gsi1pk": f"handle#{state.handle}", "gsi1sk": "entity"},
        )
    ]


def entity(entity_id: UUID) -> EntityState | None:
    data = cache.get(entity_aggregate(entity_id))
    return decode(EntityState, data) if data else None


def active_entity(entity_id: UUID) -> EntityState | None:
    found = entity(entity_id)
    return found if found and found.status == "active" else None


def entity_by_handle(handle: str) -> EntityState | None:
    for data in cache.query_index("gsi1", f"handle#{handle}", limit=1):
        found = decode(EntityState, data)
        return found if found.status == "active" else None
    return None
