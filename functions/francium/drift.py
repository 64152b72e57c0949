"""Drift between the read cache and the truth (the latest committed event of each aggregate).

Every event carries its aggregate's full state, so what the cache should hold for an aggregate is
exactly what its projection makes of its latest event. Each expected item is compared with the
cache item at its key:

- ``missing``: no item; ``stale``: an older version; ``newer``: a version the write side never
  committed (extra, newer than the truth); ``mismatch``: the same version but other data, a
  tombstone where there should be data (or the reverse), or other index keys.
- ``orphan`` (full verification only): a cache item no aggregate's latest event accounts for.
- ``derived_missing``: not the cache's drift but the truth's: a committed event whose derived
  write (a transfer's system message) is not in PostgreSQL (``francium.derived``).
- ``count_wrong``: PostgreSQL's too: an unread count it keeps that a recount of its messages and
  read marks disagrees with (expected: the recount; cached: the count kept).

On a live system an event committed during a run shows up as stale (or, rarely, newer): re-run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from francium import cache, projector
from francium.cache import CacheItem
from shared.aws import dynamodb
from shared.contracts.changes import ChangeRecord
from shared.readcache import batch_items

Key = tuple[str, str]


@dataclass(frozen=True)
class Drift:
    kind: str  # missing | stale | newer | mismatch | orphan | derived_missing | count_wrong
    pk: str
    sk: str
    expected_version: int | None
    cached_version: int | None
    source: str | None = None  # derived_missing: the event's aggregate the derived write is missing for

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "source" or v is not None}


def expected_items(record: ChangeRecord) -> list[CacheItem]:
    """What the projection writes for ``record`` (nothing for a type no projection knows)."""
    from francium.views import load_all

    load_all()
    project = projector.PROJECTIONS.get(record.aggregate_type)
    return project(record) if project else []


def raw_items(keys: list[Key]) -> dict[Key, dict[str, Any]]:
    """The cache items at ``keys`` as stored (versions, tombstones and index keys included)."""
    return {(item["pk"]["S"], item["sk"]["S"]): item for item in batch_items(keys, consistent=True)}


def _same(expected: CacheItem, stored: dict[str, Any]) -> bool:
    if expected.data is None:
        return "deleted" in stored
    if "deleted" in stored or "data" not in stored:
        return False
    normalized = json.loads(json.dumps(expected.data, separators=(",", ":")))
    indexes = {name: value.get("S") for name, value in stored.items() if name.startswith("gsi")}
    try:
        return json.loads(stored["data"]["S"]) == normalized and indexes == expected.indexes  # type: ignore[no-any-return]
    except (KeyError, TypeError, ValueError):  # unreadable: not the expected data
        return False


def version_of(stored: dict[str, Any]) -> int | None:
    """The item's version; None if it is not a number (a corrupted item)."""
    try:
        return int(stored["ver"]["N"])
    except (KeyError, TypeError, ValueError):
        return None


def compare(expected: CacheItem, stored: dict[str, Any] | None) -> Drift | None:
    cached = version_of(stored) if stored else None
    kind = None
    if stored is None:
        kind = "missing"
    elif cached is None:  # an unreadable version: the item is replaced
        kind = "mismatch"
    elif cached is not None and cached < expected.ver:
        kind = "stale"
    elif cached is not None and cached > expected.ver:
        kind = "newer"
    elif not _same(expected, stored):
        kind = "mismatch"
    return Drift(kind, expected.pk, expected.sk, expected.ver, cached) if kind else None


def drifts(records: Iterable[ChangeRecord]) -> Iterator[tuple[ChangeRecord, Drift]]:
    """Each drifted expected item of ``records`` (read in batches of the cache)."""
    expected = [(record, item) for record in records for item in expected_items(record)]
    stored = raw_items([(item.pk, item.sk) for _, item in expected])
    for record, item in expected:
        found = compare(item, stored.get((item.pk, item.sk)))
        if found is not None:
            yield record, found


def cache_keys() -> Iterator[tuple[Key, int | None]]:
    """Every key of the cache with its version (a full scan: maintenance only)."""
    request: dict[str, Any] = {"TableName": cache.table(), "ProjectionExpression": "pk, sk, ver"}
    while True:
        answer = dynamodb().scan(**request)
        for item in answer.get("Items", []):
            yield (item["pk"]["S"], item["sk"]["S"]), version_of(item)
        if "LastEvaluatedKey" not in answer:
            return
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
