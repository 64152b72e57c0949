"""Applies change records to the read cache through each aggregate type's projection."""

from __future__ import annotations

from collections.abc import Callable

from francium.cache import CacheItem, put_if_newer
from shared.contracts.changes import ChangeRecord
from shared.observability import logger

Projection = Callable[[ChangeRecord], list[CacheItem]]
PROJECTIONS: dict[str, Projection] = {}


def projection(aggregate_type: str) -> Callable[[Projection], Projection]:
    def register(fn: Projection) -> Projection:
        PROJECTIONS[aggregate_type] = fn
        return fn

    return register


class UnknownAggregate(ValueError):
    """A record of an aggregate type no projection knows: a poison record, never retried into success."""


def apply(record: ChangeRecord) -> int:
    """Project one record; how many cache items it changed (0 for a duplicate or a stale record)."""
    from francium.views import load_all

    load_all()  # once: Python caches the imports
    project = PROJECTIONS.get(record.aggregate_type)
    if project is None:
        raise UnknownAggregate(record.aggregate_type)
    changed = sum(put_if_newer(item) for item in project(record))
    if not changed:
        logger.debug(
            "stale or duplicate record skipped", extra={"aggregate": record.aggregate, "version": record.version}
        )
    return changed
