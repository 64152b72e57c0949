"""Read-your-writes: wait (boundedly) until the read cache reflects an ``X-Min-Version`` token."""

from __future__ import annotations

import time

from francium import cache
from shared.contracts.changes import decode_write_version
from shared.errors import InvalidRequest, NotReady
from shared.settings import get_settings

FIRST_PAUSE = 0.01
MAX_PAUSE = 0.2


def wait_for(token: str, *, timeout: float | None = None) -> None:
    """Return once every aggregate named by ``token`` is projected at its version; else 503."""
    try:
        wanted = {v.aggregate: v.version for v in decode_write_version(token)}
    except ValueError as exc:
        raise InvalidRequest(
            "X-Min-Version is not a token this API issued.",
            errors=[{"loc": ["header", "X-Min-Version"], "msg": "Invalid write version", "type": "value_error"}],
        ) from exc
    deadline = time.monotonic() + (get_settings().min_version_wait_seconds if timeout is None else timeout)
    pause = FIRST_PAUSE
    while wanted:
        have = cache.versions(list(wanted))
        wanted = {agg: ver for agg, ver in wanted.items() if have.get(agg, 0) < ver}
        if not wanted:
            return
        if time.monotonic() + pause > deadline:
            raise NotReady(
                "The read side has not caught up with X-Min-Version yet; retry shortly.", headers={"Retry-After": "1"}
            )
        time.sleep(pause)
        pause = min(MAX_PAUSE, pause * 2)
