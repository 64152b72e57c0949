"""Self-repair of the read cache: readers ask for aggregates they found lost or unreadable to be
re-projected from the truth.

The read cache is derived, so any item of it can be rebuilt from the latest committed event of its
aggregate (every item's ``pk`` is its aggregate's key). A reader may not write the cache; it asks
Francium's maintenance function (``MAINTENANCE_FUNCTION``) with ``RepairAggregates``:

- ``repair_now``: and waits (the authorizer, for a token whose holder the cache has lost: one
  round trip to decide on the truth instead of refusing a valid login);
- ``request_repair``: without waiting (an unreadable item met while answering a read: the client
  gets 503 ``not_ready`` with ``Retry-After``, and the retry finds the item repaired).

Each container asks at most once per aggregate every ``REPEAT_AFTER_SECONDS``, so a burst of
requests over one broken item makes one repair, not one per request. Without a maintenance
function configured (unit tests) a reader only logs what it found.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from shared import internal, snapstart
from shared.contracts.maintenance import MAX_REPAIR, RepairAggregates, Repaired
from shared.observability import logger
from shared.settings import get_settings

REPEAT_AFTER_SECONDS = 10.0

_asked: dict[str, float] = {}
_lock = threading.Lock()


@snapstart.after_restore
def _forget_asked() -> None:
    """Times of ``time.monotonic()`` from before a snapshot mean nothing after its restore."""
    with _lock:
        _asked.clear()


def _not_asked_lately(aggregates: Iterable[str], now: float) -> list[str]:
    with _lock:
        for key, at in list(_asked.items()):
            if now - at >= REPEAT_AFTER_SECONDS:
                del _asked[key]
        fresh = [a for a in dict.fromkeys(aggregates) if a not in _asked][:MAX_REPAIR]
        _asked.update((a, now) for a in fresh)
    return fresh


def _command(aggregates: Iterable[str]) -> RepairAggregates | None:
    if get_settings().maintenance_function is None:
        return None
    fresh = _not_asked_lately(aggregates, time.monotonic())
    return RepairAggregates(aggregates=fresh) if fresh else None


def repair_now(aggregates: Iterable[str]) -> Repaired | None:
    """Re-project ``aggregates`` and wait; None if not asked (asked lately, or no maintenance
    function) or if the repair failed (logged: the caller decides as if it had not been tried)."""
    command = _command(aggregates)
    if command is None:
        return None
    try:
        done = internal.call("maintenance", command, Repaired).result
    except Exception:
        logger.exception("read-cache repair failed", extra={"aggregates": command.aggregates})
        return None
    logger.warning("read cache repaired", extra={"aggregates": command.aggregates, "rewritten": done.rewritten})
    return done


def request_repair(aggregates: Iterable[str]) -> None:
    """Ask for ``aggregates`` to be re-projected, without waiting."""
    command = _command(aggregates)
    if command is None:
        return
    try:
        internal.cast("maintenance", command)
    except Exception:
        logger.exception("read-cache repair could not be requested", extra={"aggregates": command.aggregates})


def forget() -> None:
    """Forget what was asked (tests)."""
    with _lock:
        _asked.clear()
