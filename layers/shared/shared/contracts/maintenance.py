"""Maintenance contracts: what the read side may ask the write side to rebuild or verify itself.

The read side never reads Fluorine's store; it asks Fluorine for the truth through this command:
the latest committed event of every aggregate (each carries the aggregate's full state), page by
page in aggregate-key order.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from shared.contracts.changes import AGGREGATE_PATTERN, ChangeRecord

MAX_PAGE = 500


class LatestEvents(BaseModel):
    """One page of the latest event of each aggregate, after ``after`` (an aggregate key)."""

    command: Literal["latest_events"] = "latest_events"
    after: str | None = Field(default=None, max_length=256)
    limit: int = Field(default=200, ge=1, le=MAX_PAGE)
    aggregate: str | None = Field(default=None, pattern=AGGREGATE_PATTERN.pattern)  # only this one


class LatestEventsPage(BaseModel):
    records: list[ChangeRecord]
    next_after: str | None = None  # None: this was the last page
