"""Applies change records to the read cache through each aggregate type's projection."""

from __future__ import annotations

from collections.abc import Callable

from francium.cache import STATE, CacheItem, put_if_newer, put_unconditionally
from shared.contracts.changes import ChangeRecord
from shared.observability import logger

Projection = Callable[[ChangeRecord], list[CacheItem]]
PROJECTIONS: dict[str, Projection] = {}
# Aggregate types whose items never change once written (a fan-out batch's copies): written in
# batches of 25 without version conditions, since a replay can only write the same items again;
# the ``state`` item last, so that a reader who finds it (a write version's wait) finds the rest.
IMMUTABLE: set[str] = set()


def projection(aggregate_type: str, *, immutable: bool = False) -> Callable[[Projection], Projection]:
    def register(fn: Projection) -> Projection:
        PROJECTIONS[aggregate_type] = fn
        if immutable:
            IMMUTABLE.add(aggregate_type)
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
    items = project(record)
    if record.aggregate_type in IMMUTABLE:
        last = [i for i in items if i.sk == STATE]
        return put_unconditionally([i for i in items if i.sk != STATE]) + put_unconditionally(last)
    changed = sum(put_if_newer(item) for item in items)
    if not changed:
        logger.debug(
            "stale or duplicate record skipped", extra={"aggregate": record.aggregate, "version": record.version}
        )
    return changed
