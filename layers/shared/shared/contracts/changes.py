"""The change feed's record and the write-version token built from it.

Every event carries the full state of its aggregate after the change (a state-carrying event),
so a projection that sees version N of an aggregate never needs versions before it: duplicates
and reordering can be settled by comparing versions alone.
"""

from __future__ import annotations

import base64
import binascii
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

    @property
    def aggregate_type(self) -> str:
        return self.aggregate.split("#", 1)[0]


class AggregateVersion(BaseModel):
    aggregate: str
    version: int = Field(ge=1)


def encode_write_version(versions: list[AggregateVersion]) -> str:
    """The opaque ``X-Write-Version`` token for the aggregates one write produced."""
    raw = ";".join(f"{v.aggregate}={v.version}" for v in versions)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_write_version(token: str) -> list[AggregateVersion]:
    """The aggregates and versions a token names; ValueError if it is not one of ours."""
    if not token or len(token) > 8192:
        raise ValueError("empty or oversized token")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("not a write version token") from exc
    versions = []
    for part in filter(None, raw.split(";")):
        aggregate, _, number = part.rpartition("=")
        if not AGGREGATE_PATTERN.fullmatch(aggregate) or not number.isdigit():
            raise ValueError("not a write version token")
        versions.append(AggregateVersion(aggregate=aggregate, version=int(number)))
    return versions


class Idempotency(BaseModel):
    """What a command carries when its route took an ``Idempotency-Key``.

    ``fingerprint`` identifies the request (route and body); the same key with another
    fingerprint is a 409 ``conflict``.
    """

    caller_id: str
    key: str = Field(min_length=1, max_length=128)
    fingerprint: str = Field(min_length=1, max_length=128)
