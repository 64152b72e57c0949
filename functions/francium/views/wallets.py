"""Nickel's read shapes: assets, wallets (one item per balance) and each party's transfer history.

- ``asset#<code>`` / ``state``: the asset, on GSI1 in partition ``assets`` sorted by code.
- ``wallet#<entity>:<asset>`` / ``state``: one balance, on GSI1 in ``wallet#<entity>`` by asset code.
- ``transfer#<id>`` / ``state``: the transfer (also the version marker for ``X-Min-Version``);
  ``transfer#<id>`` / ``party#<entity>``: its copy in each party's history — GSI1 ``history#<entity>``
  and GSI2 ``history#<entity>#<asset>``, sorted by ``<created_at>#<id>`` (unique: stable cursors).
Every item belongs to one aggregate, so version-conditional writes never compete across aggregates.
"""

from __future__ import annotations

from uuid import UUID

from francium import cache
from francium.cache import CacheItem
from francium.projector import projection
from shared.contracts.changes import ChangeRecord
from shared.contracts.nickel import AssetState, BalanceState, TransferState, asset_aggregate
from shared.pagination import MAX_LIMIT
from shared.readcache import decode, timekey

ASSETS = "assets"


def wallet_partition(entity_id: UUID | str) -> str:
    return f"wallet#{entity_id}"


def history_partition(entity_id: UUID | str, asset: str | None = None) -> str:
    return f"history#{entity_id}" + (f"#{asset}" if asset else "")


@projection("asset")
def project_asset(record: ChangeRecord) -> list[CacheItem]:
    state = AssetState.model_validate(record.payload)
    indexes = {"gsi1pk": ASSETS, "gsi1sk": state.code}
    return [CacheItem(record.aggregate, cache.STATE, record.version, state.model_dump(mode="json"), indexes)]


@projection("wallet")
def project_balance(record: ChangeRecord) -> list[CacheItem]:
    state = BalanceState.model_validate(record.payload)
    indexes = {"gsi1pk": wallet_partition(state.entity_id), "gsi1sk": state.asset}
    return [CacheItem(record.aggregate, cache.STATE, record.version, state.model_dump(mode="json"), indexes)]


@projection("transfer")
def project_transfer(record: ChangeRecord) -> list[CacheItem]:
    state = TransferState.model_validate(record.payload)
    data = state.model_dump(mode="json")
    key = f"{timekey(state.created_at)}#{state.id}"
    items = [CacheItem(record.aggregate, cache.STATE, record.version, data)]
    for party in dict.fromkeys(p for p in (state.from_, state.to) if p is not None):
        indexes = {
            "gsi1pk": history_partition(party),
            "gsi1sk": key,
            "gsi2pk": history_partition(party, state.asset),
            "gsi2sk": key,
        }
        items.append(CacheItem(record.aggregate, f"party#{party}", record.version, data, indexes))
    return items


def asset(code: str) -> AssetState | None:
    data = cache.get(asset_aggregate(code))
    return decode(AssetState, data) if data else None


def assets_page(limit: int, cursor: str | None) -> tuple[list[AssetState], str | None]:
    items, after = cache.query_page(ASSETS, index="gsi1", limit=limit, cursor=cursor, newest_first=False)
    return [decode(AssetState, i) for i in items], after


def balances(entity_id: UUID) -> list[BalanceState]:
    """Every balance of the entity, by asset code."""
    found: list[BalanceState] = []
    cursor: str | None = None
    while True:
        items, cursor = cache.query_page(
            wallet_partition(entity_id), index="gsi1", limit=MAX_LIMIT, cursor=cursor, newest_first=False
        )
        found += [decode(BalanceState, i) for i in items]
        if cursor is None:
            return found


def history_page(
    entity_id: UUID, asset_code: str | None, limit: int, cursor: str | None
) -> tuple[list[TransferState], str | None]:
    """The entity's transfers (of one asset, if given), newest first."""
    index = "gsi2" if asset_code else "gsi1"
    partition = history_partition(entity_id, asset_code)
    items, after = cache.query_page(partition, index=index, limit=limit, cursor=cursor, newest_first=True)
    return [decode(TransferState, i) for i in items], after
