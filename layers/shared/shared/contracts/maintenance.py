"""Maintenance contracts: what the read side may ask the write side to rebuild or verify itself.

The read side never reads Fluorine's store; it asks Fluorine for the truth through these commands:
the latest committed event of every aggregate (each carries the aggregate's full state), page by
page in aggregate-key order; and the committed events whose derived write (what an event consumer
writes back through Fluorine for them, such as a transfer's system message) is not there.
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


class MissingDerivedWrites(BaseModel):
    """One page of the outbox's deriving events (by ``seq``, after ``after``), with those whose
    derived write is missing: an event consumer, re-driven with them, would write it now."""

    command: Literal["missing_derived_writes"] = "missing_derived_writes"
    after: int = Field(default=0, ge=0)  # an outbox seq
    limit: int = Field(default=200, ge=1, le=MAX_PAGE)
    aggregate: str | None = Field(default=None, pattern=AGGREGATE_PATTERN.pattern)  # only this one's events


class MissingDerivedWrite(BaseModel):
    event: ChangeRecord  # the committed event, as the change feed carries it
    derived: str  # the aggregate its consumer writes, e.g. message#<id>


class MissingDerivedWritesPage(BaseModel):
    checked: int  # deriving events examined in this page
    missing: list[MissingDerivedWrite]
    next_after: int | None = None  # None: this was the last page
