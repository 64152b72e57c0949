"""Nickel's holds as the parties read them: one hold by id, and each party's holds, newest first.

- ``hold#<id>`` / ``state``: the hold (also its version marker for ``X-Min-Version``).
- ``hold#<id>`` / ``party#<entity>``, for the payer and the payee: GSI1 ``holds#<entity>`` (all of
  the entity's holds) and GSI2 ``holds#<entity>#<status>``.
- ``hold#<id>`` / ``<role>#<entity>`` (``payer#`` or ``payee#``): GSI1 ``holds#<entity>#<role>`` and
  GSI2 ``holds#<entity>#<role>#<status>``.
Every sort key is ``<created_at>#<id>`` (unique: stable cursors). A hold's items are rewritten
whole, version-conditionally, at each change, so a resolved hold leaves its ``pending`` lists as
its status partition key moves; status and role names never collide, so the partitions are distinct.
"""

from __future__ import annotations

from uuid import UUID

from francium import cache
from francium.cache import CacheItem
from francium.projector import projection
from shared.contracts.changes import ChangeRecord
from shared.contracts.nickel_holds import HoldRole, HoldState, HoldStatus, hold_aggregate
from shared.readcache import decode, timekey


def holds_partition(entity_id: UUID | str, role: HoldRole | None = None, status: HoldStatus | None = None) -> str:
    return "#".join(["holds", str(entity_id), *([role] if role else []), *([status] if status else [])])


def sort_key(state: HoldState) -> str:
    return f"{timekey(state.created_at)}#{state.id}"


def item_key(entity_id: UUID, role: HoldRole | None) -> str:
    """The sort key (``sk``) of the item listing ``state`` for ``entity_id`` (by ``role``, or in all its holds)."""
    return f"{role}#{entity_id}" if role else f"party#{entity_id}"


@projection("hold")
def project_hold(record: ChangeRecord) -> list[CacheItem]:
    state = HoldState.model_validate(record.payload)
    data = state.model_dump(mode="json")
    items = [CacheItem(record.aggregate, cache.STATE, record.version, data)]
    parties: list[tuple[UUID, HoldRole]] = [(state.from_, "payer"), (state.to, "payee")]
    for party, role in parties:
        for listed in (None, role):
            indexes = {
                "gsi1pk": holds_partition(party, listed),
                "gsi1sk": sort_key(state),
                "gsi2pk": holds_partition(party, listed, state.status),
                "gsi2sk": sort_key(state),
            }
            items.append(CacheItem(record.aggregate, item_key(party, listed), record.version, data, indexes))
    return items


def hold(hold_id: UUID, entity_id: UUID) -> HoldState | None:
    """The hold, if ``entity_id`` is its payer or its payee (None otherwise: it may not know it exists)."""
    data = cache.get(hold_aggregate(hold_id))
    state = decode(HoldState, data) if data else None
    return state if state is not None and state.role_of(entity_id) is not None else None


def holds_page(
    entity_id: UUID, role: HoldRole | None, status: HoldStatus | None, limit: int, cursor: str | None
) -> tuple[list[HoldState], str | None]:
    """The entity's holds (as payer or payee, if given; of one status, if given), newest first."""
    index = "gsi2" if status else "gsi1"
    partition = holds_partition(entity_id, role, status)
    items, after = cache.query_page(partition, index=index, limit=limit, cursor=cursor, newest_first=True)
    return [decode(HoldState, i) for i in items], after
