"""The change feed's record, and the aggregate versions a write version token names.

Every event carries the full state of its aggregate after the change (a state-carrying event),
so a projection that sees version N of an aggregate never needs versions before it: duplicates
and reordering can be settled by comparing versions alone.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

AGGREGATE_PATTERN = re.compile(r"^[a-z_]+#[A-Za-z0-9_.:-]{1,200}$")


class ChangeRecord(BaseModel):
    """One event on the change feed (an item of the ChangeFeed table, and of its stream)."""

    aggregate: str = Field(pattern=AGGREGATE_PATTERN.pattern)
    version: int = Field(ge=1)
    event_type: str
    payload: dict[str, Any]
    seq: int = Field(ge=1)
    occurred_at: datetime
    correlation_id: str | None = None  # the X-Request-Id of the request that wrote it, if one did

    @property
    def aggregate_type(self) -> str:
        return self.aggregate.split("#", 1)[0]


def feed_image(record: ChangeRecord) -> dict[str, Any]:
    """The change feed item of ``record`` (DynamoDB attribute values), as Fluorine puts it and the
    stream's ``NewImage`` carries it to the consumers."""
    return {
        "aggregate": {"S": record.aggregate},
        "version": {"N": str(record.version)},
        "event_type": {"S": record.event_type},
        "payload": {"S": json.dumps(record.payload, separators=(",", ":"))},
        "seq": {"N": str(record.seq)},
        "occurred_at": {"S": record.occurred_at.isoformat()},
        **({"correlation_id": {"S": record.correlation_id}} if record.correlation_id else {}),
    }


class AggregateVersion(BaseModel):
    aggregate: str
    version: int = Field(ge=1)


class Idempotency(BaseModel):
    """What a command carries when its route took an ``Idempotency-Key``.

    ``fingerprint`` identifies the request (route and body); the same key with another
    fingerprint is a 409 ``conflict``.
    """

    caller_id: str
    key: str = Field(min_length=1, max_length=128)
    fingerprint: str = Field(min_length=1, max_length=128)
