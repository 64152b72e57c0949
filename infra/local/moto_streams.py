"""moto's DynamoDB Streams made safe for concurrent writers, as the real service is.

moto numbers a stream record ``len(shard.items) + start`` and then appends it, unlocked: two
writes to one table at the same moment (the publisher puts different aggregates' change records
at once; the local stack's server answers requests in threads) can get the same sequence number.
A reader's next iterator then points back at a record it has read, and it reads the shard's tail
forever. ``atomic_stream_appends`` serializes the numbering and the append, in this process; the
local stack's DynamoDB server and the tests' in-process moto both call it.
"""

from __future__ import annotations

import threading
from typing import Any

_APPEND = threading.Lock()


def atomic_stream_appends() -> None:
    """Make moto's ``StreamShard.add`` take one lock (once per process; calling again does nothing)."""
    from moto.dynamodb.models.table import StreamShard

    add = StreamShard.add
    if getattr(add, "atomic", False):
        return

    def locked(self: Any, old: Any, new: Any) -> None:
        with _APPEND:
            add(self, old, new)

    locked.atomic = True  # type: ignore[attr-defined]
    StreamShard.add = locked  # type: ignore[method-assign]
