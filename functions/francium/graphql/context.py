"""What every resolver of one GraphQL request shares: the caller and a batching entity loader."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

from francium import cache
from shared.context import Caller
from shared.contracts.oxygen import EntityState, entity_aggregate
from shared.readcache import decode


@dataclass
class EntityLoader:
    """Entities by id, read in batches and remembered for the request.

    A list resolver primes the loader with every id of its page (one BatchGetItem for up to 100),
    so a field resolved per node reads from memory instead of issuing one GetItem per node.
    """

    known: dict[UUID, EntityState | None] = field(default_factory=dict)
    round_trips: int = 0

    def prime(self, ids: Iterable[UUID]) -> None:
        missing = [i for i in dict.fromkeys(ids) if i not in self.known]
        if not missing:
            return
        self.round_trips += 1
        found = cache.batch_get([(entity_aggregate(i), cache.STATE) for i in missing])
        for entity_id in missing:
            data = found.get((entity_aggregate(entity_id), cache.STATE))
            self.known[entity_id] = decode(EntityState, data) if data else None

    def active(self, entity_id: UUID) -> EntityState | None:
        self.prime([entity_id])
        state = self.known[entity_id]
        return state if state is not None and state.status == "active" else None


@dataclass
class RequestContext:
    caller: Caller
    entities: EntityLoader = field(default_factory=EntityLoader)
    operation_name: str | None = None  # as the client named it (None: the document must hold one operation)
